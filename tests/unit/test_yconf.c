/*
 * Unit tests for common/yconf.c: strict scalars, key checks, and every
 * error reading "file:line: what", syntax errors included.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "yconf.h"
#include "check.h"

static char	*tmpl;		/* the temporary file every test writes */

static char	*write_file(const char *text, size_t len);
static int	 load(struct yconf *y, const char *text, char **cause);
static void	 expect_error(const char *text, unsigned long line,
		    const char *words);
static void	 test_load(void);
static void	 test_syntax(void);
static void	 test_mapping(void);
static int	 uint_of(const char *value, uint64_t min, uint64_t max,
		    uint64_t *out, char **cause);
static void	 test_uint(void);
static void	 test_bool(void);
static void	 test_strings(void);

/* Write text to the test's temporary file and return its path. */
static char *
write_file(const char *text, size_t len)
{
	FILE	*f;

	if ((f = fopen(tmpl, "w")) == NULL)
		abort();
	if (fwrite(text, 1, len, f) != len)
		abort();
	fclose(f);
	return tmpl;
}

/* yconf_load on a file holding text. */
static int
load(struct yconf *y, const char *text, char **cause)
{
	return yconf_load(y, write_file(text, strlen(text)), cause);
}

/* Loading text must fail with "tmp:line: ...words...". */
static void
expect_error(const char *text, unsigned long line, const char *words)
{
	struct yconf	 y;
	char		*cause = NULL, prefix[256];

	CHECK(load(&y, text, &cause) == -1);
	snprintf(prefix, sizeof(prefix), "%s:%lu: ", tmpl, line);
	CHECK(cause != NULL && strncmp(cause, prefix, strlen(prefix)) == 0);
	CHECK_CONTAINS(cause, words);
	if (cause == NULL || strncmp(cause, prefix, strlen(prefix)) != 0)
		fprintf(stderr, "  want %s..., got %s\n", prefix, cause);
	free(cause);
	yconf_free(&y);
}

/* Loading, lines, lookups, and freeing in any state. */
static void
test_load(void)
{
	struct yconf	 y;
	yaml_node_t	*root, *v, *list;
	const char	*s;
	char		*cause = NULL, *str = NULL;
	size_t		 n;

	CHECK(load(&y, "# comment\nlisten: 127.0.0.1:7443\n\nlist:\n"
	    "  - a\n  - b\nempty:\nnull: ~\n", &cause) == 0);
	CHECK(cause == NULL);
	CHECK_STR(y.path, tmpl);
	root = yconf_root(&y);
	CHECK(root != NULL && root->type == YAML_MAPPING_NODE);
	CHECK(yconf_line(root) == 2);
	v = yconf_get(&y, root, "listen");
	CHECK(v != NULL && yconf_line(v) == 2);
	CHECK(yconf_scalar(&y, v, &s, &cause) == 0);
	CHECK_STR(s, "127.0.0.1:7443");
	CHECK(yconf_string(&y, v, &str, &cause) == 0);
	CHECK_STR(str, "127.0.0.1:7443");
	free(str);
	CHECK(yconf_get(&y, root, "missing") == NULL);
	CHECK(yconf_get(&y, v, "listen") == NULL);	/* not a mapping */

	list = yconf_get(&y, root, "list");
	CHECK(yconf_sequence(&y, list, "list", &n, &cause) == 0 && n == 2);
	CHECK(yconf_line(yconf_item(&y, list, 1)) == 6);
	CHECK(yconf_scalar(&y, yconf_item(&y, list, 0), &s, &cause) == 0);
	CHECK_STR(s, "a");
	CHECK(yconf_node(&y, list->data.sequence.items.start[1]) ==
	    yconf_item(&y, list, 1));

	/* "key:" with no value is null: an empty list, a missing scalar. */
	v = yconf_get(&y, root, "empty");
	CHECK(yconf_is_null(v));
	CHECK(yconf_is_null(yconf_get(&y, root, "null")));
	CHECK(!yconf_is_null(list));
	CHECK(!yconf_is_null(NULL));
	CHECK(yconf_sequence(&y, v, "empty", &n, &cause) == 0 && n == 0);
	CHECK(yconf_scalar(&y, v, &s, &cause) == -1);
	CHECK_CONTAINS(cause, ":7: missing value");
	free(cause);
	cause = NULL;
	CHECK(yconf_sequence(&y, yconf_get(&y, root, "listen"), "listen", &n,
	    &cause) == -1);
	CHECK_CONTAINS(cause, ":2: listen: expected a list, found a scalar");
	free(cause);
	cause = NULL;

	/* yconf_error: "path:line: " and the formatted message. */
	CHECK(yconf_error(&y, list, &cause, "bad %s %d", "thing", 7) == -1);
	CHECK(cause != NULL && strcmp(cause + strlen(tmpl), ":5: bad thing 7")
	    == 0);
	free(cause);
	cause = NULL;
	CHECK(yconf_error(&y, list, NULL, "no cause wanted") == -1);
	yconf_free(&y);
	yconf_free(&y);		/* twice is harmless */
	CHECK(yconf_root(&y) == NULL);

	/* An empty file loads, without a root. */
	CHECK(load(&y, "", &cause) == 0);
	CHECK(yconf_root(&y) == NULL);
	yconf_free(&y);
	CHECK(load(&y, "# only a comment\n\n", &cause) == 0);
	CHECK(yconf_root(&y) == NULL);
	yconf_free(&y);

	/* Explicit document markers are fine; a second document is not. */
	CHECK(load(&y, "---\na: 1\n...\n", &cause) == 0);
	yconf_free(&y);
	expect_error("a: 1\n---\nb: 2\n", 2, "only one YAML document");

	CHECK(yconf_load(&y, "/nonexistent/yconf.yaml", &cause) == -1);
	CHECK_STR(cause, "/nonexistent/yconf.yaml: No such file or directory");
	free(cause);
	cause = NULL;
	yconf_free(&y);
	CHECK(yconf_load(&y, "/", &cause) == -1);
	CHECK_CONTAINS(cause, "/: ");
	free(cause);
	yconf_free(&y);
}

/* Parser errors carry the line libyaml points at. */
static void
test_syntax(void)
{
	char	 deep[300];
	size_t	 i;

	expect_error("a: 1\nb: [1, 2\nc: 3\n", 3, "syntax error");
	expect_error("a: 1\nb: c: d\n", 2, "syntax error: mapping values "
	    "are not allowed");
	expect_error("a:\n  - 1\n - 2\n", 3, "syntax error");
	expect_error("a: 1\n\tb: 2\n", 2, "tab");
	expect_error("a: \"unterminated\n", 2, "syntax error");
	expect_error("a: *nowhere\n", 1, "syntax error");
	expect_error("a: 1\nb: \"\xff\"\n", 2, "invalid text");
	expect_error("a: 1\nb: \"x\x01y\"\n", 2, "invalid text");

	/* Nesting is capped well before libyaml gets slow. */
	strcpy(deep, "a: ");
	for (i = 0; i < 100; i++)
		strcat(deep, "[");
	expect_error(deep, 1, "nested deeper than 64 levels");
}

/* Keys: unknown ones (with a suggestion), duplicates, non-scalars. */
static void
test_mapping(void)
{
	static const char *const keys[] = { "listen", "directory",
	    "log_level", NULL };
	struct yconf	 y;
	yaml_node_t	*root;
	char		*cause = NULL;

	CHECK(load(&y, "listen: a\ndirectory: b\n", &cause) == 0);
	root = yconf_root(&y);
	CHECK(yconf_mapping(&y, root, "config", keys, &cause) == 0);
	CHECK(yconf_mapping(&y, root, "config", NULL, &cause) == 0);
	CHECK(yconf_mapping(&y, yconf_get(&y, root, "listen"), "listen",
	    keys, &cause) == -1);
	CHECK_CONTAINS(cause, ":1: listen: expected a mapping, found a "
	    "scalar");
	free(cause);
	cause = NULL;
	CHECK(yconf_mapping(&y, NULL, "thing", keys, &cause) == -1);
	CHECK_CONTAINS(cause, "thing: expected a mapping, found nothing");
	free(cause);
	cause = NULL;
	yconf_free(&y);

	CHECK(load(&y, "listen: a\ndirectroy: b\n", &cause) == 0);
	CHECK(yconf_mapping(&y, yconf_root(&y), "config", keys, &cause) == -1);
	CHECK_CONTAINS(cause, ":2: config: unknown key 'directroy' (did you "
	    "mean 'directory'?)");
	free(cause);
	cause = NULL;
	yconf_free(&y);

	CHECK(load(&y, "listen: a\nfrobnicate: b\n", &cause) == 0);
	CHECK(yconf_mapping(&y, yconf_root(&y), "config", keys, &cause) == -1);
	CHECK_CONTAINS(cause, ":2: config: unknown key 'frobnicate' "
	    "(expected one of: listen, directory, log_level)");
	free(cause);
	cause = NULL;
	yconf_free(&y);

	CHECK(load(&y, "listen: a\ndirectory: b\nlisten: c\n", &cause) == 0);
	CHECK(yconf_mapping(&y, yconf_root(&y), "config", keys, &cause) == -1);
	CHECK_CONTAINS(cause, ":3: config: duplicate key 'listen' (first at "
	    "line 1)");
	free(cause);
	cause = NULL;
	yconf_free(&y);

	CHECK(load(&y, "listen: a\n[x]: b\n", &cause) == 0);
	CHECK(yconf_mapping(&y, yconf_root(&y), "config", keys, &cause) == -1);
	CHECK_CONTAINS(cause, ":2: config: keys must be plain words");
	free(cause);
	cause = NULL;
	yconf_free(&y);

	/* Control characters are not echoed back into a terminal. */
	CHECK(load(&y, "\"a\\x1bb\": 1\n", &cause) == 0);
	CHECK(yconf_mapping(&y, yconf_root(&y), "config", keys, &cause) == -1);
	CHECK_CONTAINS(cause, "unknown key 'a?b'");
	free(cause);
	cause = NULL;
	yconf_free(&y);

	CHECK(load(&y, "a: \"x\\0y\"\n", &cause) == 0);
	CHECK(yconf_scalar(&y, yconf_get(&y, yconf_root(&y), "a"),
	    &(const char *){ NULL }, &cause) == -1);
	CHECK_CONTAINS(cause, ":1: value contains a NUL byte");
	free(cause);
	yconf_free(&y);
}

/* yconf_uint on the scalar written after "v: ". */
static int
uint_of(const char *value, uint64_t min, uint64_t max, uint64_t *out,
    char **cause)
{
	struct yconf	 y;
	char		 text[128];
	int		 r;

	snprintf(text, sizeof(text), "# a number\nv: %s\n", value);
	if (load(&y, text, cause) == -1)
		return -2;
	r = yconf_uint(&y, yconf_get(&y, yconf_root(&y), "v"), min, max, out,
	    cause);
	yconf_free(&y);
	return r;
}

/* Strict unsigned integers: anything a person did not mean is refused. */
static void
test_uint(void)
{
	static const char *const bad[] = {
		"-1", "+1", "1x", "0x10", "1e3", "1.0", "\"\"", "\" 1\"",
		"\"1 \"", "007", "00", "1_000", "[1]", "{a: 1}", "~", "",
		"18446744073709551616", "99999999999999999999999",
	};
	uint64_t	 v = 0;
	char		*cause = NULL;
	size_t		 i;

	CHECK(uint_of("0", 0, 10, &v, &cause) == 0 && v == 0);
	CHECK(uint_of("10", 0, 10, &v, &cause) == 0 && v == 10);
	CHECK(uint_of("\"7\"", 0, 10, &v, &cause) == 0 && v == 7);
	CHECK(uint_of("18446744073709551615", 0, UINT64_MAX, &v,
	    &cause) == 0 && v == UINT64_MAX);
	CHECK(uint_of("4294967296", 0, UINT64_MAX, &v, &cause) == 0 &&
	    v == 4294967296ULL);
	CHECK(cause == NULL);

	CHECK(uint_of("11", 0, 10, &v, &cause) == -1);
	CHECK_CONTAINS(cause, ":2: '11' is not a whole number from 0 to 10");
	free(cause);
	cause = NULL;
	CHECK(uint_of("0", 1, 65535, &v, &cause) == -1);
	CHECK_CONTAINS(cause, "from 1 to 65535");
	free(cause);
	cause = NULL;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		CHECK(uint_of(bad[i], 0, UINT64_MAX, &v, &cause) == -1);
		CHECK_CONTAINS(cause, ":2: ");
		CHECK(v == 12345);
		if (cause == NULL)
			fprintf(stderr, "  uint accepted %s\n", bad[i]);
		free(cause);
		cause = NULL;
	}
}

/* Booleans: the six YAML 1.1 words in any case, nothing else. */
static void
test_bool(void)
{
	static const struct {
		const char	*text;
		int		 want;	/* 1 true, 0 false, -1 refused */
	} cases[] = {
		{ "true", 1 }, { "false", 0 }, { "yes", 1 }, { "no", 0 },
		{ "on", 1 }, { "off", 0 }, { "TRUE", 1 }, { "Off", 0 },
		{ "\"yes\"", 1 }, { "1", -1 }, { "0", -1 }, { "y", -1 },
		{ "maybe", -1 }, { "truee", -1 }, { "", -1 }, { "[true]", -1 },
	};
	struct yconf	 y;
	char		 text[64], *cause = NULL;
	bool		 b;
	size_t		 i;
	int		 r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "b: %s\n", cases[i].text);
		CHECK(load(&y, text, &cause) == 0);
		b = !cases[i].want;
		r = yconf_bool(&y, yconf_get(&y, yconf_root(&y), "b"), &b,
		    &cause);
		if (cases[i].want == -1) {
			CHECK(r == -1);
			CHECK_CONTAINS(cause, ":1: ");
		} else
			CHECK(r == 0 && b == (cases[i].want == 1));
		free(cause);
		cause = NULL;
		yconf_free(&y);
	}
	CHECK(load(&y, "b: maybe\n", &cause) == 0);
	CHECK(yconf_bool(&y, yconf_get(&y, yconf_root(&y), "b"), &b,
	    &cause) == -1);
	CHECK_CONTAINS(cause, "'maybe' is not a boolean");
	free(cause);
	yconf_free(&y);
}

/* One value or a list of them; null is an empty list. */
static void
test_strings(void)
{
	struct yconf	 y;
	yaml_node_t	*root;
	char		**v = NULL, *cause = NULL;
	size_t		 n = 99;

	CHECK(load(&y, "one: a\nmany: [a, b, c]\nnone:\nempty: []\n"
	    "bad: [a, {b: c}]\nhole:\n  - a\n  -\n", &cause) == 0);
	root = yconf_root(&y);
	CHECK(yconf_strings(&y, yconf_get(&y, root, "one"), &v, &n,
	    &cause) == 0);
	CHECK(n == 1 && strcmp(v[0], "a") == 0 && v[1] == NULL);
	yconf_strings_free(v);
	CHECK(yconf_strings(&y, yconf_get(&y, root, "many"), &v, &n,
	    &cause) == 0);
	CHECK(n == 3 && strcmp(v[2], "c") == 0 && v[3] == NULL);
	yconf_strings_free(v);
	CHECK(yconf_strings(&y, yconf_get(&y, root, "none"), &v, &n,
	    &cause) == 0);
	CHECK(n == 0 && v != NULL && v[0] == NULL);
	yconf_strings_free(v);
	CHECK(yconf_strings(&y, yconf_get(&y, root, "empty"), &v, &n,
	    &cause) == 0);
	CHECK(n == 0 && v[0] == NULL);
	yconf_strings_free(v);
	CHECK(cause == NULL);

	v = NULL;
	CHECK(yconf_strings(&y, yconf_get(&y, root, "bad"), &v, &n,
	    &cause) == -1);
	CHECK(v == NULL);
	CHECK_CONTAINS(cause, ":5: expected a single value, found a mapping");
	free(cause);
	cause = NULL;
	CHECK(yconf_strings(&y, yconf_get(&y, root, "hole"), &v, &n,
	    &cause) == -1);
	CHECK_CONTAINS(cause, ":8: missing value");
	free(cause);
	cause = NULL;
	CHECK(yconf_strings(&y, root, &v, &n, &cause) == -1);
	CHECK_CONTAINS(cause, ":1: value: expected a list, found a mapping");
	free(cause);
	yconf_strings_free(NULL);
	yconf_free(&y);
}

int
main(void)
{
	const char	*tmp = getenv("TMPDIR");
	int		 fd;

	if (asprintf(&tmpl, "%s/test_yconf.XXXXXX", tmp ? tmp : "/tmp") == -1)
		abort();
	if ((fd = mkstemp(tmpl)) == -1)
		abort();
	close(fd);
	test_load();
	test_syntax();
	test_mapping();
	test_uint();
	test_bool();
	test_strings();
	unlink(tmpl);
	free(tmpl);
	return CHECK_DONE();
}
