/*
 * Fuzz target for what is done with a decoded protobuf from a peer:
 * arbitrary bytes unpacked as a Ceptoar__Message and as an Envelope,
 * then
 *  - validate_message (proto/validate.c) and validate_overall_severity,
 *    on the hub's side before it accepts a submit;
 *  - for a message that validates, route_message (daemon/route.c) from
 *    every organisation of a small directory, as the hub routes it;
 *  - on the client's side, the rendering of what the hub sends
 *    (client/output.c, text and --json) and the JSON round trip that
 *    lets a delivered report be saved and submitted again
 *    (client/report_json.c).
 * Nothing may crash; the checks below are the contracts in the headers.
 *
 * The directory is tests/fixtures/route/directory.yaml, found through
 * $CEPTOAR_FUZZ_DIRECTORY or the source path compiled in; without it the
 * routing step is skipped with a warning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ceptoar.h"
#include "ceptoard.h"
#include "validate.h"

#ifndef FUZZ_ROUTE_DIRECTORY
#define FUZZ_ROUTE_DIRECTORY	"tests/fixtures/route/directory.yaml"
#endif

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct directory	*fuzz_dir_routes;

/* Load the routing directory once; send the client's output nowhere. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*path = getenv("CEPTOAR_FUZZ_DIRECTORY");
	char		*cause = NULL;

	if (path == NULL || *path == '\0')
		path = FUZZ_ROUTE_DIRECTORY;
	if ((fuzz_dir_routes = directory_load(path, &cause)) == NULL) {
		fprintf(stderr, "fuzz_validate: routing not fuzzed: %s\n",
		    cause != NULL ? cause : path);
		free(cause);
	}
	/* libFuzzer reports on stderr; the renderers write to stdout. */
	if (freopen("/dev/null", "w", stdout) == NULL) {
		perror("/dev/null");
		exit(1);
	}
	return 0;
}

/* A validate_error always holds two terminated strings. */
static void
fuzz_check_error(const struct validate_error *err)
{
	FUZZ_ASSERT(memchr(err->field, '\0', sizeof(err->field)) != NULL);
	FUZZ_ASSERT(memchr(err->reason, '\0', sizeof(err->reason)) != NULL);
}

/* The overall severity is -1 or one of the viewpoints given. */
static void
fuzz_check_severity(const Ceptoar__Severity *s)
{
	int	o = validate_overall_severity(s);

	if (s == NULL) {
		FUZZ_ASSERT(o == -1);
		return;
	}
	if (o == -1)
		return;
	FUZZ_ASSERT((s->has_continuity && (int)s->continuity == o) ||
	    (s->has_safety && (int)s->safety == o) ||
	    (s->has_trust && (int)s->trust == o));
}

/*
 * Route m from every organisation: on success every recipient is in the
 * directory, listed once, and is not the sender; on failure there is a
 * code (and, memory allowing, a cause).
 */
static void
fuzz_route(const Ceptoar__Message *m)
{
	struct route_result	 rr;
	const struct dir_org	*sender;
	Ceptoar__ErrorCode	 code;
	char			*cause;
	size_t			 i, j, k;
	int			 rc;

	if (fuzz_dir_routes == NULL)
		return;
	for (i = 0; i < fuzz_dir_routes->norgs; i++) {
		sender = &fuzz_dir_routes->orgs[i];
		memset(&rr, 0, sizeof(rr));
		code = CEPTOAR__ERROR_CODE__ERROR_NONE;
		cause = NULL;
		rc = route_message(m, sender, fuzz_dir_routes, &rr, &code,
		    &cause);
		if (rc == -1) {
			FUZZ_ASSERT(code != CEPTOAR__ERROR_CODE__ERROR_NONE);
			FUZZ_ASSERT(cause != NULL);
		} else {
			FUZZ_ASSERT(rc == 0);
			FUZZ_ASSERT(cause == NULL);
			FUZZ_ASSERT(rr.n <= fuzz_dir_routes->norgs);
			for (j = 0; j < rr.n; j++) {
				FUZZ_ASSERT(rr.v[j].org != NULL);
				FUZZ_ASSERT(directory_org(fuzz_dir_routes,
				    rr.v[j].org) != NULL);
				FUZZ_ASSERT(strcmp(rr.v[j].org,
				    sender->id) != 0);
				FUZZ_ASSERT(memchr(rr.v[j].reason, '\0',
				    sizeof(rr.v[j].reason)) != NULL);
				for (k = 0; k < j; k++)
					FUZZ_ASSERT(strcmp(rr.v[j].org,
					    rr.v[k].org) != 0);
			}
		}
		free(cause);
		route_result_free(&rr);
	}
}

/*
 * The hub fills in the overall severity and the JSON reader drops it
 * again (client/report_json.c rj_check_severity), so a comparison of
 * renderings leaves it out.
 */
static void
fuzz_drop_overall(json_t *j)
{
	static const char *const contents[] = {
		"report", "advisory", "early_warning",
	};
	json_t	*sev;
	size_t	 i;

	for (i = 0; i < sizeof(contents) / sizeof(contents[0]); i++)
		if ((sev = json_object_get(json_object_get(j, contents[i]),
		    "severity")) != NULL)
			json_object_del(sev, "overall");
}

/*
 * What the client prints can be read back: a message that validates,
 * rendered as JSON (ceptoar show --json), decodes again to a message
 * that renders the same, but for the overall severity.  This is the
 * contract tests/unit/test_report_json.c checks on the examples: "a
 * delivered report can be saved and submitted as it is".
 */
static void
fuzz_json_roundtrip(const Ceptoar__Message *m)
{
	Ceptoar__Message	*m2 = NULL;
	json_t			*j1, *j2;
	char			*cause = NULL, *s1, *s2;
	int			 rc;

	if ((j1 = report_json_encode(&m->base)) == NULL)
		return;		/* out of memory */
	rc = report_json_decode("re-encoded", j1, &m2, &cause);
	if (rc != 0) {
		s1 = json_dumps(j1, JSON_COMPACT | JSON_SORT_KEYS);
		fprintf(stderr, "a valid message rendered as JSON does not "
		    "read back: %s\n  json: %s\n", cause ? cause : "?",
		    s1 ? s1 : "?");
		free(s1);
	}
	FUZZ_ASSERT(rc == 0);
	FUZZ_ASSERT(cause == NULL);
	j2 = report_json_encode(&m2->base);
	FUZZ_ASSERT(j2 != NULL);
	fuzz_drop_overall(j1);
	if (!json_equal(j1, j2)) {
		s1 = json_dumps(j1, JSON_COMPACT | JSON_SORT_KEYS);
		s2 = json_dumps(j2, JSON_COMPACT | JSON_SORT_KEYS);
		fprintf(stderr, "a valid message reads back different from "
		    "its JSON:\n  first:  %s\n  second: %s\n", s1 ? s1 : "?",
		    s2 ? s2 : "?");
		free(s1);
		free(s2);
	}
	FUZZ_ASSERT(json_equal(j1, j2));
	json_decref(j2);
	report_json_free(m2);
	json_decref(j1);
}

/*
 * The hub stores a message it accepts packed (daemon/submit.c
 * submit_enqueue) and unpacks it for each delivery (daemon/deliver.c
 * deliver_fill): what validates must survive that trip.
 */
static void
fuzz_store_roundtrip(const Ceptoar__Message *m)
{
	Ceptoar__Message	*m2;
	uint8_t			*buf;
	size_t			 len;

	len = ceptoar__message__get_packed_size(m);
	if ((buf = malloc(len ? len : 1)) == NULL)
		return;
	FUZZ_ASSERT(ceptoar__message__pack(m, buf) == len);
	m2 = ceptoar__message__unpack(NULL, len, buf);
	if (m2 == NULL)
		fprintf(stderr, "the hub would accept this message and store "
		    "%zu bytes that do not unpack again: it is acknowledged "
		    "but never delivered (deliver.corrupt)\n", len);
	FUZZ_ASSERT(m2 != NULL);
	ceptoar__message__free_unpacked(m2, NULL);
	free(buf);
}

/* Everything the hub and the client do with one message. */
static void
fuzz_message(const Ceptoar__Message *m)
{
	struct validate_error	 err;

	if (m == NULL)
		return;
	switch (m->content_case) {
	case CEPTOAR__MESSAGE__CONTENT_REPORT:
		fuzz_check_severity(m->report->severity);
		break;
	case CEPTOAR__MESSAGE__CONTENT_ADVISORY:
		fuzz_check_severity(m->advisory->severity);
		break;
	case CEPTOAR__MESSAGE__CONTENT_EARLY_WARNING:
		fuzz_check_severity(m->early_warning->severity);
		break;
	default:
		break;
	}
	memset(&err, 0x5a, sizeof(err));
	if (validate_message(m, &err) == -1) {
		fuzz_check_error(&err);
		FUZZ_ASSERT(err.field[0] != '\0');
		return;
	}
	fuzz_check_error(&err);
	fuzz_store_roundtrip(m);
	fuzz_route(m);
	fuzz_json_roundtrip(m);
}

/* The client's renderings of a delivery, as text and as JSON. */
static void
fuzz_render_delivery(const Ceptoar__Delivery *d, Ceptoar__Recipient **r,
    size_t nr)
{
	struct client	c;

	if (d == NULL)
		return;
	memset(&c, 0, sizeof(c));
	output_delivery(&c, d);
	output_delivery_full(&c, d, r, nr);
	c.json = true;
	output_delivery(&c, d);
	output_delivery_full(&c, d, r, nr);
}

/* An envelope as the hub and the client see it. */
static void
fuzz_envelope(const Ceptoar__Envelope *env)
{
	struct client	 c;
	json_t		*j;

	switch (env->body_case) {
	case CEPTOAR__ENVELOPE__BODY_SUBMIT:
		fuzz_message(env->submit->message);
		break;
	case CEPTOAR__ENVELOPE__BODY_DELIVER:
		if (env->deliver->delivery != NULL)
			fuzz_message(env->deliver->delivery->message);
		fuzz_render_delivery(env->deliver->delivery, NULL, 0);
		break;
	case CEPTOAR__ENVELOPE__BODY_FETCH_RESULT:
		if (env->fetch_result->delivery != NULL)
			fuzz_message(env->fetch_result->delivery->message);
		fuzz_render_delivery(env->fetch_result->delivery,
		    env->fetch_result->recipients,
		    env->fetch_result->n_recipients);
		break;
	case CEPTOAR__ENVELOPE__BODY_SUBMIT_ACK:
		memset(&c, 0, sizeof(c));
		output_submit_ack(&c, "00000000-0000-4000-8000-000000000000",
		    env->submit_ack);
		c.quiet = true;
		output_submit_ack(&c, "00000000-0000-4000-8000-000000000000",
		    env->submit_ack);
		c.json = true;
		output_submit_ack(&c, "00000000-0000-4000-8000-000000000000",
		    env->submit_ack);
		break;
	default:
		break;
	}
	/* Any envelope renders as JSON (the client's -v traces). */
	if ((j = report_json_encode(&env->base)) != NULL) {
		output_json(j);
		json_decref(j);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Ceptoar__Message	*m;
	Ceptoar__Envelope	*env;

	if ((m = ceptoar__message__unpack(NULL, size, data)) != NULL) {
		fuzz_message(m);
		ceptoar__message__free_unpacked(m, NULL);
	}
	if ((env = ceptoar__envelope__unpack(NULL, size, data)) != NULL) {
		fuzz_envelope(env);
		ceptoar__envelope__free_unpacked(env, NULL);
	}
	fflush(stdout);
	return 0;
}
