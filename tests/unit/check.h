/*
 * A minimal assertion harness for the unit tests: each failed CHECK prints
 * file:line and the expression, and the test exits non-zero at the end.
 */
#ifndef CEPTOAR_CHECK_H
#define CEPTOAR_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(expr) do {						\
	check_count++;							\
	if (!(expr)) {							\
		check_failures++;					\
		fprintf(stderr, "%s:%d: CHECK failed: %s\n",		\
		    __FILE__, __LINE__, #expr);				\
	}								\
} while (0)

#define CHECK_STR(a, b) do {						\
	const char *check_a_ = (a), *check_b_ = (b);			\
	check_count++;							\
	if (check_a_ == NULL || check_b_ == NULL ||			\
	    strcmp(check_a_, check_b_) != 0) {				\
		check_failures++;					\
		fprintf(stderr, "%s:%d: CHECK_STR failed: %s == %s "	\
		    "(\"%s\" vs \"%s\")\n", __FILE__, __LINE__, #a, #b,	\
		    check_a_ ? check_a_ : "(null)",			\
		    check_b_ ? check_b_ : "(null)");			\
	}								\
} while (0)

/* Whether needle occurs in haystack; NULL-safe. */
#define CHECK_CONTAINS(hay, needle) do {				\
	const char *check_h_ = (hay), *check_n_ = (needle);		\
	check_count++;							\
	if (check_h_ == NULL || strstr(check_h_, check_n_) == NULL) {	\
		check_failures++;					\
		fprintf(stderr, "%s:%d: CHECK_CONTAINS failed: \"%s\" "	\
		    "does not contain \"%s\"\n", __FILE__, __LINE__,	\
		    check_h_ ? check_h_ : "(null)", check_n_);		\
	}								\
} while (0)

/* End of main: print a summary and return the exit status. */
#define CHECK_DONE() (							\
	fprintf(stderr, "%d checks, %d failed\n", check_count,		\
	    check_failures), check_failures == 0 && check_count > 0 ? 0 : 1)

#endif
