/*
 * The JSON report format (client/report_json.c): every good fixture and
 * documented example loads, validates and round-trips; every bad fixture
 * fails at the expected stage with an error naming the offending field.
 * Every content of a Message has a good and a bad fixture, and what the
 * hub sets (forms, hops, notes, pseudonyms) renders with the same names.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ceptoar.h"
#include "check.h"
#include "validate.h"

/* Where a bad fixture must be caught. */
enum stage {
	STAGE_LOAD,		/* report_json_load: syntax, shape, types */
	STAGE_VALIDATE,		/* report_json_validate: validate_message() */
};

static const struct bad_case {
	const char	*file;
	enum stage	 stage;
	const char	*expect;	/* must occur in the error */
} bad_cases[] = {
	{ "bad-severity-range.json", STAGE_LOAD,
	    "report.severity.safety: must be an integer 0..4 (got 7)" },
	{ "bad-severity-string.json", STAGE_LOAD,
	    "report.severity.trust: must be an integer 0..4 (got \"high\")" },
	{ "bad-cause-unknown.json", STAGE_LOAD,
	    "report.cause: unknown value \"accidental\" (expected one of: "
	    "intentional, unintentional, disaster, spillover)" },
	{ "bad-unknown-key.json", STAGE_LOAD,
	    "report.severty: unknown key (expected one of: kind, contact," },
	{ "bad-unknown-top-key.json", STAGE_LOAD,
	    "tlp_label: unknown key (expected one of: type, uuid, tlp," },
	{ "bad-type-mismatch.json", STAGE_LOAD,
	    "report: does not match \"type\": \"advisory\"" },
	{ "bad-type-missing-content.json", STAGE_LOAD,
	    "report: missing (\"type\" is \"report\"" },
	{ "bad-no-type.json", STAGE_LOAD,
	    "type: missing (expected one of: report, advisory, "
	    "early_warning," },
	{ "bad-two-contents.json", STAGE_LOAD,
	    "advisory: only one of report, advisory, early_warning" },
	{ "bad-type-unknown.json", STAGE_LOAD,
	    "type: unknown value \"incident\"" },
	{ "bad-type-number.json", STAGE_LOAD, "type: unknown value 1" },
	{ "bad-tlp.json", STAGE_LOAD,
	    "tlp: unknown value \"TLP:WHITE\" (expected one of: TLP:CLEAR," },
	{ "bad-drill-string.json", STAGE_LOAD,
	    "drill: must be true or false (got \"yes\")" },
	{ "bad-users-negative.json", STAGE_LOAD,
	    "report.impact.users_affected: must be an integer 0..",  },
	{ "bad-users-float.json", STAGE_LOAD,
	    "report.impact.users_affected: must be an integer" },
	{ "bad-duration-string.json", STAGE_LOAD,
	    "report.impact.duration_minutes: must be an integer "
	    "0..4294967295 (got \"150\")" },
	{ "bad-duration-overflow.json", STAGE_LOAD,
	    "report.impact.duration_minutes: must be an integer" },
	{ "bad-time-no-offset.json", STAGE_LOAD,
	    "report.occurred_at: needs a UTC offset" },
	{ "bad-time-invalid.json", STAGE_LOAD,
	    "report.detected_at: is not a valid date and time" },
	{ "bad-time-bool.json", STAGE_LOAD,
	    "report.detected_at: must be RFC 3339" },
	{ "bad-indicator-key.json", STAGE_LOAD,
	    "report.indicators[1].valeu: unknown key (expected one of: type, "
	    "value, comment)" },
	{ "bad-systems-not-array.json", STAGE_LOAD,
	    "report.affected_systems: must be a list" },
	{ "bad-systems-item.json", STAGE_LOAD,
	    "report.affected_systems[0]: must be a string (got 1)" },
	{ "bad-contact-not-object.json", STAGE_LOAD,
	    "report.contact: must be an object" },
	{ "bad-overall-inconsistent.json", STAGE_LOAD,
	    "report.severity.overall: is 1 but the highest viewpoint is 3" },
	{ "bad-overall-alone.json", STAGE_LOAD,
	    "report.severity.overall: give continuity, safety and trust" },
	{ "bad-top-array.json", STAGE_LOAD,
	    "the top level must be a JSON object" },
	{ "bad-null-in-list.json", STAGE_LOAD,
	    "advisory.sectors[0]: must not be null" },
	{ "bad-kind-number.json", STAGE_LOAD,
	    "report.kind: must be one of: incident, near_miss, early_sign" },
	{ "bad-syntax.json", STAGE_LOAD, "bad-syntax.json:4:1: " },
	{ "bad-duplicate-key.json", STAGE_LOAD,
	    "bad-duplicate-key.json:4:" },
	{ "bad-empty.json", STAGE_LOAD, "bad-empty.json:" },
	{ "bad-utf8.json", STAGE_LOAD, "bad-utf8.json:1:" },

	{ "bad-missing-contact.json", STAGE_VALIDATE,
	    "report.contact: is required" },
	{ "bad-contact-unreachable.json", STAGE_VALIDATE,
	    "report.contact: needs a phone or an email" },
	{ "bad-mandated-no-basis.json", STAGE_VALIDATE,
	    "report.legal_basis: is required" },
	{ "bad-event-for-cause.json", STAGE_VALIDATE, "report.event_type: " },
	{ "bad-uuid.json", STAGE_VALIDATE,
	    "uuid: \"not-a-uuid\" is not a UUID" },
	{ "bad-missing-tlp.json", STAGE_VALIDATE, "tlp: is required" },
	{ "bad-chain-id.json", STAGE_VALIDATE, "report.chain_id: " },
	{ "bad-revision-zero.json", STAGE_VALIDATE, "report.revision: " },
	{ "bad-title-control.json", STAGE_VALIDATE,
	    "report.title: contains control byte 0x07" },
	{ "bad-sharing-no-sectors.json", STAGE_VALIDATE,
	    "report.sharing.sectors: " },
	{ "bad-sector-id.json", STAGE_VALIDATE, "report.sector: " },
	{ "bad-advisory-no-sectors.json", STAGE_VALIDATE,
	    "advisory.sectors: " },
	{ "bad-early-warning-no-recipients.json", STAGE_VALIDATE,
	    "early_warning.recipients: " },

	/* The contents that answer, ask and check. */
	{ "bad-consultation-to.json", STAGE_VALIDATE,
	    "consultation.to: must be \"liaison\" or \"nisc\"" },
	{ "bad-reply-in-reply-to.json", STAGE_VALIDATE,
	    "reply.in_reply_to: must be the hub id of a message you "
	    "received" },
	{ "bad-widen-request-scope.json", STAGE_LOAD,
	    "widen_request.sharing.scope: unknown value \"everyone\" "
	    "(expected one of: nisc_only, liaison_and_nisc," },
	{ "bad-widen-request-no-range.json", STAGE_VALIDATE,
	    "widen_request.sharing.scope: is required" },
	{ "bad-consent-answer-approve.json", STAGE_LOAD,
	    "consent_answer.approve: must be true or false (got \"yes\")" },
	{ "bad-consent-answer-no-approve.json", STAGE_VALIDATE,
	    "consent_answer.approve: is required" },
	{ "bad-comm-check-deadline.json", STAGE_VALIDATE,
	    "comm_check.deadline_seconds: must be 10 seconds to 7 days "
	    "(got 5)" },
	{ "bad-comm-check-sectors.json", STAGE_LOAD,
	    "comm_check.sectors: must be a list [...] (got \"finance\")" },
	{ "bad-check-answer-check.json", STAGE_VALIDATE,
	    "check_answer.check: must be the hub id of the check you "
	    "received" },
	/* What the hub sets has the same shape rules. */
	{ "bad-hop-note-key.json", STAGE_LOAD,
	    "hop_notes[0].text: unknown key (expected one of: by, at, hop, "
	    "note)" },
	{ "bad-flags-not-list.json", STAGE_LOAD,
	    "report.flags: must be a list [...] (got \"threshold reached\")" },
};

static const char *const good_files[] = {
	"good-minimal.json",
	"good-no-type.json",
	"good-full.json",
	"good-nulls.json",
	"good-advisory.json",
	"good-early-warning.json",
	"good-consultation.json",
	"good-reply.json",
	"good-widen-request.json",
	"good-consent-answer.json",
	"good-comm-check.json",
	"good-check-answer.json",
	"good-anonymised-form.json",
};

static const char *const example_files[] = {
	"report-mandatory.json",
	"report-near-miss.json",
	"report-followup.json",
	"advisory.json",
	"early-warning.json",
	"consultation.json",
	"reply.json",
	"widen-request.json",
	"consent-answer.json",
	"comm-check.json",
	"check-answer.json",
};

static char fixtures[1024], examples[1024];

/* dir/name into buf. */
static const char *
path(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

/*
 * Load, validate, then encode, decode and encode again: the second
 * encoding must equal the first, so a delivered report can be saved and
 * submitted as it is.  Returns the loaded message for further checks.
 */
static Ceptoar__Message *
check_good(const char *file, bool needs_uuid)
{
	Ceptoar__Message	*m = NULL, *m2 = NULL;
	json_t			*j1, *j2;
	char			*cause = NULL;
	int			 rc;

	rc = report_json_load(file, &m, &cause);
	CHECK(rc == 0);
	if (rc != 0) {
		fprintf(stderr, "  %s: %s\n", file, cause);
		free(cause);
		return NULL;
	}
	CHECK(cause == NULL);
	if (needs_uuid && m->uuid == NULL)
		m->uuid = strdup("6f1c2a4e-0b7d-4c8e-9f3a-5d2b1e0c7a98");
	rc = report_json_validate(m, &cause);
	CHECK(rc == 0);
	if (rc != 0)
		fprintf(stderr, "  %s: %s\n", file, cause);
	free(cause);
	cause = NULL;

	j1 = report_json_encode(&m->base);
	CHECK(j1 != NULL);
	rc = report_json_decode("re-encoded", j1, &m2, &cause);
	CHECK(rc == 0);
	if (rc != 0)
		fprintf(stderr, "  %s round trip: %s\n", file, cause);
	free(cause);
	if (m2 != NULL) {
		j2 = report_json_encode(&m2->base);
		CHECK(json_equal(j1, j2));
		json_decref(j2);
		report_json_free(m2);
	}
	json_decref(j1);
	return m;
}

/* One bad fixture: caught at the right stage, naming the field. */
static void
check_bad(const struct bad_case *bc)
{
	Ceptoar__Message	*m = NULL;
	char			 file[1200], *cause = NULL;
	int			 rc;

	path(file, sizeof(file), fixtures, bc->file);
	rc = report_json_load(file, &m, &cause);
	if (bc->stage == STAGE_LOAD) {
		CHECK(rc == EX_DATAERR);
		CHECK(m == NULL);
		/* Shape errors start with the file name. */
		CHECK(cause != NULL && strncmp(cause, file, strlen(file)) == 0);
	} else {
		CHECK(rc == 0);
		if (rc != 0)
			fprintf(stderr, "  %s: %s\n", bc->file, cause);
		free(cause);
		cause = NULL;
		if (m != NULL) {
			CHECK(report_json_validate(m, &cause) == -1);
			/* The field path leads the sentence. */
			CHECK(cause != NULL &&
			    strncmp(cause, bc->expect,
			    strlen(bc->expect)) == 0);
		}
	}
	CHECK_CONTAINS(cause, bc->expect);
	free(cause);
	report_json_free(m);
}

/* Every bad-*.json in the fixture directory has a row above. */
static void
check_bad_table_complete(void)
{
	struct dirent	*de;
	DIR		*d;
	size_t		 i, seen = 0;
	bool		 found;

	CHECK((d = opendir(fixtures)) != NULL);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "bad-", 4) != 0)
			continue;
		found = false;
		for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
			if (strcmp(bad_cases[i].file, de->d_name) == 0)
				found = true;
		if (!found)
			fprintf(stderr, "  %s has no expectation\n",
			    de->d_name);
		CHECK(found);
		seen++;
	}
	closedir(d);
	CHECK(seen == sizeof(bad_cases) / sizeof(bad_cases[0]));
}

/* The details that the round trip alone would not catch. */
static void
check_full(void)
{
	Ceptoar__Message	*m;
	Ceptoar__Report		*r;
	json_t			*j, *rep;
	char			 file[1200];

	m = check_good(path(file, sizeof(file), fixtures, "good-full.json"),
	    false);
	if (m == NULL)
		return;
	CHECK(m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT);
	r = m->report;
	CHECK(m->has_tlp && m->tlp == CEPTOAR__TLP__TLP_AMBER);
	CHECK(m->has_drill && m->drill);
	CHECK(r->has_kind && r->kind == CEPTOAR__REPORT_KIND__REPORT_NEAR_MISS);
	CHECK(r->has_cause && r->cause == CEPTOAR__CAUSE__CAUSE_DISASTER);
	/* A consistent overall is accepted and left for the hub to set. */
	CHECK(r->severity != NULL && !r->severity->has_overall);
	CHECK(r->severity->has_continuity && r->severity->continuity == 4);
	CHECK(r->impact->users_affected == 9007199254740993ULL);
	CHECK(r->impact->has_kw_lost && r->impact->kw_lost == 0);
	CHECK(r->n_affected_systems == 2);
	CHECK(r->n_indicators == 2 && r->indicators[1]->comment == NULL);
	CHECK(r->sharing->n_organisations == 0);
	/* 03:05:00.250 JST, fraction dropped. */
	CHECK(r->has_occurred_at && r->occurred_at == 1795197900);
	CHECK(r->has_detected_at && r->detected_at == 1794873600);

	j = report_json_encode(&m->base);
	rep = json_object_get(j, "report");
	CHECK_STR(json_string_value(json_object_get(j, "type")), "report");
	CHECK_STR(json_string_value(json_object_get(j, "tlp")), "TLP:AMBER");
	CHECK_STR(json_string_value(json_object_get(rep, "kind")), "near_miss");
	CHECK_STR(json_string_value(json_object_get(rep, "cause")), "disaster");
	CHECK_STR(json_string_value(json_object_get(rep, "occurred_at")),
	    "2026-11-20T18:05:00Z");
	CHECK_STR(json_string_value(json_object_get(rep, "detected_at")),
	    "2026-11-17T00:00:00Z");
	CHECK_STR(json_string_value(json_object_get(rep, "title")), "全項目");
	CHECK(json_object_get(rep, "sharing") != NULL &&
	    json_object_get(json_object_get(rep, "sharing"),
	    "organisations") == NULL);
	json_decref(j);
	report_json_free(m);
}

/* The content key alone is enough, and nulls count as absent. */
static void
check_lenient(void)
{
	Ceptoar__Message	*m;
	char			 file[1200];

	m = check_good(path(file, sizeof(file), fixtures, "good-no-type.json"),
	    false);
	CHECK(m != NULL && m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT);
	CHECK(m != NULL && m->tlp == CEPTOAR__TLP__TLP_GREEN);
	report_json_free(m);
	m = check_good(path(file, sizeof(file), fixtures, "good-nulls.json"),
	    false);
	CHECK(m != NULL && !m->has_drill && m->report->impact == NULL &&
	    m->report->title == NULL && m->report->contact->unit == NULL);
	report_json_free(m);
}

/* RFC 3339 in, UTC out. */
static void
check_times(void)
{
	static const struct {
		const char	*in;
		int64_t		 out;	/* -1: must fail */
	} cases[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "1970-01-01T09:00:00+09:00", 0 },
		{ "2026-11-21T03:05:00+09:00", 1795197900 },
		{ "2026-11-20t18:05:00z", 1795197900 },
		{ "2026-11-20 18:05:00.999999Z", 1795197900 },
		{ "2024-02-29T00:00:00-05:30", 1709184600 },
		{ "2000-03-01T00:00:00Z", 951868800 },
		{ "1969-12-31T23:59:59Z", -1 - 0 },
		{ "2026-11-21T03:05:00", -2 },
		{ "2026-11-21", -2 },
		{ "2025-02-29T00:00:00Z", -2 },
		{ "2026-13-01T00:00:00Z", -2 },
		{ "2026-11-21T24:00:00Z", -2 },
		{ "2026-11-21T03:05:00+0900", -2 },
		{ "2026-11-21T03:05:00.Z", -2 },
		{ "2026-11-21T03:05:00Zjunk", -2 },
		{ "", -2 },
	};
	const char	*reason;
	char		 buf[64];
	int64_t		 t;
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = report_json_parse_time(cases[i].in, &t, &reason);
		if (cases[i].out == -2) {
			CHECK(rc == -1 && reason != NULL);
			continue;
		}
		CHECK(rc == 0);
		if (rc == 0 && t != cases[i].out)
			fprintf(stderr, "  %s -> %lld\n", cases[i].in,
			    (long long)t);
		CHECK(rc == 0 && t == cases[i].out);
	}
	CHECK_STR(report_json_time(1795197900, buf, sizeof(buf)),
	    "2026-11-20T18:05:00Z");
	CHECK_STR(report_json_time(0, buf, sizeof(buf)),
	    "1970-01-01T00:00:00Z");
}

/* Generated idempotency keys are version 4 UUIDs, and differ. */
static void
check_uuid(void)
{
	char	a[40], b[40];

	report_json_uuid(a, sizeof(a));
	report_json_uuid(b, sizeof(b));
	CHECK(validate_uuid(a));
	CHECK(strlen(a) == 36 && a[14] == '4');
	CHECK(strchr("89ab", a[19]) != NULL);
	CHECK(strcmp(a, b) != 0);
}

/*
 * What the hub sends back renders with the same keys: a Delivery with
 * its message, a value newer than our tables kept as a number, and
 * invalid UTF-8 from a peer shown rather than dropping the field.
 */
static void
check_encode_delivery(void)
{
	Ceptoar__Delivery	d = CEPTOAR__DELIVERY__INIT;
	Ceptoar__Message	m = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Advisory	a = CEPTOAR__ADVISORY__INIT;
	char			*sectors[] = { (char *)"finance" };
	json_t			*j, *msg;

	d.has_seq = 1;
	d.seq = 42;
	d.hub_id = (char *)"h-1";
	d.sender = (char *)"nisc";
	d.has_received_at = 1;
	d.received_at = 1795197900;
	d.reason = (char *)"sector finance";
	d.message = &m;
	m.uuid = (char *)"0f8fad5b-d9cb-469f-a165-70867728950e";
	m.has_tlp = 1;
	m.tlp = (Ceptoar__Tlp)9;		/* from a newer hub */
	m.content_case = CEPTOAR__MESSAGE__CONTENT_ADVISORY;
	m.advisory = &a;
	a.title = (char *)"bad \xff byte";
	a.n_sectors = 1;
	a.sectors = sectors;

	j = report_json_encode(&d.base);
	CHECK(json_integer_value(json_object_get(j, "seq")) == 42);
	CHECK_STR(json_string_value(json_object_get(j, "hub_id")), "h-1");
	CHECK_STR(json_string_value(json_object_get(j, "received_at")),
	    "2026-11-20T18:05:00Z");
	CHECK(json_object_get(j, "acked_at") == NULL);
	msg = json_object_get(j, "message");
	CHECK_STR(json_string_value(json_object_get(msg, "type")), "advisory");
	CHECK(json_integer_value(json_object_get(msg, "tlp")) == 9);
	CHECK_STR(json_string_value(json_object_get(json_object_get(msg,
	    "advisory"), "title")), "bad ? byte");
	json_decref(j);
}

/* Each new content decodes into its own message, fields and all. */
static void
check_new_contents(void)
{
	Ceptoar__Message	*m;
	json_t			*j;
	char			 file[1200];

	m = check_good(path(file, sizeof(file), fixtures,
	    "good-consultation.json"), false);
	CHECK(m != NULL &&
	    m->content_case == CEPTOAR__MESSAGE__CONTENT_CONSULTATION);
	if (m != NULL) {
		CHECK_STR(m->consultation->to, "liaison");
		CHECK_STR(m->consultation->sector, "finance");
		CHECK(strchr(m->consultation->question, '\n') != NULL);
	}
	report_json_free(m);

	m = check_good(path(file, sizeof(file), fixtures,
	    "good-widen-request.json"), false);
	CHECK(m != NULL &&
	    m->content_case == CEPTOAR__MESSAGE__CONTENT_WIDEN_REQUEST);
	if (m != NULL) {
		CHECK(m->widen_request->sharing->scope ==
		    CEPTOAR__SHARING_SCOPE__SHARING_NAMED_ORGANISATIONS);
		CHECK(m->widen_request->sharing->n_organisations == 1);
	}
	report_json_free(m);

	/* false is a value: a declined consent is not a missing one. */
	m = check_good(path(file, sizeof(file), fixtures,
	    "good-consent-answer.json"), false);
	CHECK(m != NULL && m->consent_answer->has_approve &&
	    !m->consent_answer->approve);
	if (m != NULL) {
		j = report_json_encode(&m->base);
		CHECK(json_is_false(json_object_get(json_object_get(j,
		    "consent_answer"), "approve")));
		json_decref(j);
	}
	report_json_free(m);

	m = check_good(path(file, sizeof(file), fixtures,
	    "good-comm-check.json"), false);
	CHECK(m != NULL && m->comm_check->has_deadline_seconds &&
	    m->comm_check->deadline_seconds == 1800 &&
	    m->comm_check->n_sectors == 2 && m->has_drill && m->drill);
	report_json_free(m);

	m = check_good(path(file, sizeof(file), fixtures,
	    "good-check-answer.json"), false);
	CHECK(m != NULL && m->check_answer->check != NULL);
	report_json_free(m);
}

/*
 * An anonymised form as a recipient saves it: the hub's fields (hop
 * notes, relay, pseudonym, flags) read and write under their proto names.
 */
static void
check_hub_fields(void)
{
	Ceptoar__Message	*m;
	json_t			*j, *notes, *rep;
	char			 file[1200];

	m = check_good(path(file, sizeof(file), fixtures,
	    "good-anonymised-form.json"), false);
	if (m == NULL)
		return;
	CHECK_STR(m->relay, "banks-sec");
	CHECK(m->n_hop_notes == 1 && m->hop_notes[0]->has_hop &&
	    m->hop_notes[0]->hop == 1 && m->hop_notes[0]->has_at &&
	    m->hop_notes[0]->at == 1795298108);
	CHECK_STR(m->report->pseudonym, "anon-grktngpxp4");
	CHECK(m->report->n_flags == 1);
	CHECK(m->report->has_retracted && !m->report->retracted);
	j = report_json_encode(&m->base);
	rep = json_object_get(j, "report");
	notes = json_object_get(j, "hop_notes");
	CHECK(json_array_size(notes) == 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(notes, 0),
	    "at")), "2026-11-21T21:55:08Z");
	CHECK_STR(json_string_value(json_object_get(j, "relay")), "banks-sec");
	CHECK_STR(json_string_value(json_object_get(rep, "pseudonym")),
	    "anon-grktngpxp4");
	CHECK_STR(json_string_value(json_array_get(json_object_get(rep,
	    "flags"), 0)), "threshold reached: telecom: 30,000 users for 2 "
	    "hours");
	json_decref(j);
	report_json_free(m);
}

/*
 * A delivery's hop fields: the form by name, review always present as
 * a boolean, chain and reply ids only when set; the preview's routes
 * name their form too.
 */
static void
check_encode_hops(void)
{
	Ceptoar__Delivery	 d = CEPTOAR__DELIVERY__INIT;
	Ceptoar__Message	 m = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Reply		 r = CEPTOAR__REPLY__INIT;
	Ceptoar__PreviewResult	 pr = CEPTOAR__PREVIEW_RESULT__INIT;
	Ceptoar__RoutePreview	 rv = CEPTOAR__ROUTE_PREVIEW__INIT, *rvp = &rv;
	json_t			*j;

	d.hub_id = (char *)"5116cbd0-66f7-4ec8-9a21-b52b4a043f9c";
	d.has_form = 1;
	d.form = CEPTOAR__FORM__FORM_ANONYMISED;
	d.has_hop = 1;
	d.hop = 2;
	d.message = &m;
	m.uuid = (char *)"0f8fad5b-d9cb-469f-a165-70867728950e";
	m.content_case = CEPTOAR__MESSAGE__CONTENT_REPLY;
	m.reply = &r;
	r.in_reply_to = (char *)"4fe9b479-48ed-4d45-a5d7-81d44f4bc2ad";
	r.text = (char *)"Vendor X.";

	j = output_delivery_json(&d);
	CHECK_STR(json_string_value(json_object_get(j, "form")), "anonymised");
	CHECK(json_integer_value(json_object_get(j, "hop")) == 2);
	CHECK(json_is_false(json_object_get(j, "review")));
	CHECK(json_object_get(j, "chain_id") == NULL);
	CHECK(json_object_get(j, "in_reply_to") == NULL);
	CHECK_STR(json_string_value(json_object_get(json_object_get(j,
	    "message"), "type")), "reply");
	json_decref(j);

	d.has_review = 1;
	d.review = 1;
	d.chain_id = (char *)"416460cb-063c-489a-ab07-3c49855f709b";
	d.in_reply_to = r.in_reply_to;
	j = output_delivery_json(&d);
	CHECK(json_is_true(json_object_get(j, "review")));
	CHECK_STR(json_string_value(json_object_get(j, "chain_id")),
	    "416460cb-063c-489a-ab07-3c49855f709b");
	CHECK_STR(json_string_value(json_object_get(j, "in_reply_to")),
	    "4fe9b479-48ed-4d45-a5d7-81d44f4bc2ad");
	json_decref(j);

	rv.organisation = (char *)"fsa-liaison";
	rv.has_form = 1;
	rv.form = CEPTOAR__FORM__FORM_ANONYMISED;
	rv.has_review = 1;
	rv.review = 1;
	rv.as_received = &m;
	pr.n_routes = 1;
	pr.routes = &rvp;
	j = report_json_encode(&pr.base);
	CHECK_STR(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "routes"), 0), "form")), "anonymised");
	CHECK_STR(json_string_value(json_object_get(json_object_get(
	    json_array_get(json_object_get(j, "routes"), 0), "as_received"),
	    "type")), "reply");
	json_decref(j);
}

/* An answer to a check has one uuid per organisation and check. */
static void
check_answer_uuid(void)
{
	char	a[40], b[40], c[40];

	compose_answer_uuid("bank-a", "0f8fad5b-d9cb-469f-a165-70867728950e",
	    a, sizeof(a));
	compose_answer_uuid("bank-a", "0f8fad5b-d9cb-469f-a165-70867728950e",
	    b, sizeof(b));
	compose_answer_uuid("bank-b", "0f8fad5b-d9cb-469f-a165-70867728950e",
	    c, sizeof(c));
	CHECK(validate_uuid(a));
	CHECK(strcmp(a, b) == 0);
	CHECK(strcmp(a, c) != 0);
}

/* A missing file is EX_NOINPUT, not a data error. */
static void
check_missing_file(void)
{
	Ceptoar__Message	*m = NULL;
	char			 file[1200], *cause = NULL;

	path(file, sizeof(file), fixtures, "no-such-file.json");
	CHECK(report_json_load(file, &m, &cause) == EX_NOINPUT);
	CHECK(m == NULL);
	CHECK_CONTAINS(cause, "cannot open");
	CHECK_CONTAINS(cause, "no-such-file.json");
	free(cause);
}

int
main(void)
{
	const char	*src = getenv("CEPTOAR_SRCDIR");
	Ceptoar__Message *m;
	char		 file[1200];
	size_t		 i;

	if (src == NULL)
		src = "..";
	snprintf(fixtures, sizeof(fixtures), "%s/tests/fixtures/json", src);
	snprintf(examples, sizeof(examples), "%s/config/examples", src);

	for (i = 0; i < sizeof(good_files) / sizeof(good_files[0]); i++) {
		m = check_good(path(file, sizeof(file), fixtures,
		    good_files[i]), false);
		report_json_free(m);
	}
	/* The documented examples carry no uuid: submit adds one. */
	for (i = 0; i < sizeof(example_files) / sizeof(example_files[0]); i++) {
		m = check_good(path(file, sizeof(file), examples,
		    example_files[i]), true);
		CHECK(m != NULL && m->uuid != NULL);
		report_json_free(m);
	}
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		check_bad(&bad_cases[i]);
	check_bad_table_complete();
	check_full();
	check_lenient();
	check_times();
	check_uuid();
	check_encode_delivery();
	check_new_contents();
	check_hub_fields();
	check_encode_hops();
	check_answer_uuid();
	check_missing_file();
	return CHECK_DONE();
}
