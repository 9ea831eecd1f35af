/*
 * Fuzz target for the client's JSON report reader (client/report_json.c):
 * arbitrary bytes parsed as report_json_load parses a file (jansson with
 * duplicate keys refused, then report_json_decode), then the shared
 * validator, then the encoder back to JSON.
 *
 * Checked: a decode either gives a message or a cause, never both; the
 * JSON the encoder writes for a decoded message decodes again, to a
 * message that encodes to the same JSON (so what "ceptoar show --json"
 * prints can be submitted again).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "fuzz_common.h"
#include "ceptoar.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Print both renderings when they differ, then fail. */
static void
fuzz_differ(const char *what, json_t *a, json_t *b, const char *cause)
{
	char	*sa, *sb;

	sa = a != NULL ? json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	sb = b != NULL ? json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	fprintf(stderr, "%s%s%s\n  first:  %s\n  second: %s\n", what,
	    cause != NULL ? ": " : "", cause != NULL ? cause : "",
	    sa != NULL ? sa : "-", sb != NULL ? sb : "-");
	free(sa);
	free(sb);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Ceptoar__Message	*m = NULL, *m2 = NULL;
	json_error_t		 jerr;
	json_t			*root, *j1, *j2;
	char			*cause = NULL, *text;
	int			 rc;

	/* As report_json_load reads a file, without the file. */
	root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	    &jerr);
	if (root == NULL)
		return 0;
	rc = report_json_decode("fuzz.json", root, &m, &cause);
	json_decref(root);
	if (rc != 0) {
		FUZZ_ASSERT(rc == EX_DATAERR);
		FUZZ_ASSERT(m == NULL);
		FUZZ_ASSERT(cause != NULL);
		free(cause);
		return 0;
	}
	FUZZ_ASSERT(m != NULL);
	FUZZ_ASSERT(cause == NULL);

	if (report_json_validate(m, &cause) == -1)
		FUZZ_ASSERT(cause != NULL);
	else
		FUZZ_ASSERT(cause == NULL);
	free(cause);
	cause = NULL;

	/* Back to JSON, as text, and read that text again. */
	j1 = report_json_encode(&m->base);
	FUZZ_ASSERT(j1 != NULL);
	text = json_dumps(j1, JSON_COMPACT);
	FUZZ_ASSERT(text != NULL);
	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		fuzz_differ("the encoder's JSON does not parse", j1, NULL,
		    jerr.text);
	free(text);
	rc = report_json_decode("re-encoded", root, &m2, &cause);
	json_decref(root);
	if (rc != 0)
		fuzz_differ("the encoder's JSON does not decode", j1, NULL,
		    cause);
	j2 = report_json_encode(&m2->base);
	FUZZ_ASSERT(j2 != NULL);
	if (!json_equal(j1, j2))
		fuzz_differ("the encoder's JSON decodes to something else",
		    j1, j2, NULL);
	json_decref(j2);
	json_decref(j1);
	report_json_free(m2);
	report_json_free(m);
	return 0;
}
