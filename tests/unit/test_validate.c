/*
 * Message validation: each rule accepts its boundary and refuses just
 * past it, naming the field.
 */
#include <string.h>

#include "check.h"
#include "names.h"
#include "validate.h"

static Ceptoar__Message		msg;
static Ceptoar__Report		rep;
static Ceptoar__Contact		contact;
static Ceptoar__Severity	sev;

/* A minimal valid report in the static message. */
static Ceptoar__Message *
fresh(void)
{
	ceptoar__message__init(&msg);
	ceptoar__report__init(&rep);
	ceptoar__contact__init(&contact);
	ceptoar__severity__init(&sev);
	contact.name = "Sato Hanako";
	contact.phone = "+81-3-0000-0000";
	rep.contact = &contact;
	msg.uuid = "0f8c1d52-3a5e-4b7a-9c1e-2d3f4a5b6c7d";
	msg.has_tlp = 1;
	msg.tlp = CEPTOAR__TLP__TLP_AMBER;
	msg.content_case = CEPTOAR__MESSAGE__CONTENT_REPORT;
	msg.report = &rep;
	return &msg;
}

/* Expect a refusal naming field. */
static void
expect_field(const char *field, const char *words)
{
	struct validate_error	err;

	CHECK(validate_message(&msg, &err) == -1);
	CHECK_STR(err.field, field);
	CHECK_CONTAINS(err.reason, words);
}

static void
expect_ok(void)
{
	struct validate_error	err;
	int			rc = validate_message(&msg, &err);

	CHECK(rc == 0);
	if (rc != 0)
		fprintf(stderr, "  unexpected: %s: %s\n", err.field, err.reason);
}

static void
test_envelope_fields(void)
{
	fresh();
	expect_ok();
	fresh();
	msg.uuid = NULL;
	expect_field("uuid", "required");
	fresh();
	msg.uuid = "not-a-uuid";
	expect_field("uuid", "not a UUID");
	fresh();
	msg.has_tlp = 0;
	expect_field("tlp", "required");
	fresh();
	msg.tlp = 9;
	expect_field("tlp", "not one of");
	fresh();
	msg.content_case = CEPTOAR__MESSAGE__CONTENT__NOT_SET;
	expect_field("content", "missing");
}

/* An indicator's type is one of the documented set, nothing else. */
static void
test_indicator_type(void)
{
	static const char *const good[] = {
		"ipv4", "ipv6", "domain", "url", "sha256", "email", "other"
	};
	Ceptoar__Indicator	 ind, *inds[1] = { &ind };
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		fresh();
		ceptoar__indicator__init(&ind);
		ind.type = (char *)good[i];
		ind.value = "192.0.2.1";
		rep.indicators = inds;
		rep.n_indicators = 1;
		expect_ok();
	}
	/* Free text in the type went past the anonymiser. */
	ind.type = "Minami Water fw";
	expect_field("report.indicators[0].type", "not an indicator type");
	ind.type = "IPv4";
	expect_field("report.indicators[0].type", "ipv4, ipv6, domain");
	ind.type = "ipv4 ";
	expect_field("report.indicators[0].type", "not an indicator type");
}

static void
test_contact(void)
{
	fresh();
	rep.contact = NULL;
	expect_field("report.contact", "required");
	fresh();
	contact.name = "";
	expect_field("report.contact.name", "required");
	fresh();
	contact.phone = NULL;
	expect_field("report.contact", "phone or an email");
	fresh();
	contact.phone = NULL;
	contact.email = "csirt@example.jp";
	expect_ok();
	fresh();
	contact.email = "no-at-sign";
	expect_field("report.contact.email", "not an email");
}

static void
test_cause_event(void)
{
	static const struct { int cause, ev; bool ok; } table[] = {
		{ 1, 1, true }, { 1, 2, true }, { 1, 3, true }, { 1, 4, true },
		{ 1, 5, false },
		{ 2, 1, true }, { 2, 4, true }, { 2, 2, false }, { 2, 3, false },
		{ 2, 5, false },
		{ 3, 1, true }, { 3, 5, true }, { 3, 4, true }, { 3, 2, false },
		{ 3, 3, false },
		{ 4, 1, true }, { 4, 4, true }, { 4, 2, false }, { 4, 3, false },
		{ 4, 5, false },
	};
	size_t	i;

	for (i = 0; i < sizeof(table) / sizeof(*table); i++) {
		CHECK(validate_cause_event(table[i].cause, table[i].ev) ==
		    table[i].ok);
		fresh();
		rep.has_cause = rep.has_event_type = 1;
		rep.cause = table[i].cause;
		rep.event_type = table[i].ev;
		if (table[i].ok)
			expect_ok();
		else {
			/* The refusal names both the event type and the cause. */
			expect_field("report.event_type",
			    names_lookup(names_cause, table[i].cause));
			expect_field("report.event_type",
			    names_lookup(names_event_type, table[i].ev));
		}
	}
	fresh();
	rep.has_event_type = 1;
	rep.event_type = 1;
	expect_field("report.event_type", "needs report.cause");
	fresh();
	rep.has_cause = 1;
	rep.cause = 5;
	expect_field("report.cause", "not one of");
}

static void
test_severity(void)
{
	fresh();
	rep.severity = &sev;
	sev.has_continuity = sev.has_safety = sev.has_trust = 1;
	sev.continuity = 4;
	sev.safety = 0;
	sev.trust = 2;
	expect_ok();
	CHECK(validate_overall_severity(&sev) == 4);
	sev.safety = 5;
	expect_field("report.severity.safety", "0 (none) to 4 (crisis)");
	sev.safety = 0;
	sev.has_overall = 1;
	sev.overall = 3;
	expect_field("report.severity.overall", "highest");
	sev.overall = 4;
	expect_ok();
	ceptoar__severity__init(&sev);
	CHECK(validate_overall_severity(&sev) == -1);
	CHECK(validate_overall_severity(NULL) == -1);
	sev.has_trust = 1;
	sev.trust = 0;
	CHECK(validate_overall_severity(&sev) == 0);
}

static void
test_mandate_chain_sharing(void)
{
	Ceptoar__SharingRange	sr = CEPTOAR__SHARING_RANGE__INIT;
	char			*secs[] = { "Finance" };

	fresh();
	rep.has_legally_mandated = 1;
	rep.legally_mandated = 1;
	expect_field("report.legal_basis", "name the law");
	rep.legal_basis = "電気通信事業法 第28条";
	expect_ok();

	fresh();
	rep.has_revision = 1;
	rep.revision = 2;
	expect_field("report.chain_id", "revision 2");
	rep.chain_id = "0f8c1d52-3a5e-4b7a-9c1e-2d3f4a5b6c7d";
	expect_ok();
	rep.revision = 0;
	expect_field("report.revision", "starts at 1");

	fresh();
	rep.sharing = &sr;
	expect_field("report.sharing.scope", "required");
	sr.has_scope = 1;
	sr.scope = CEPTOAR__SHARING_SCOPE__SHARING_NAMED_SECTORS;
	expect_field("report.sharing.sectors", "at least one");
	sr.sectors = secs;
	sr.n_sectors = 1;
	expect_field("report.sharing.sectors[0]", "not an identifier");
	secs[0] = "finance";
	expect_ok();
}

static void
test_text(void)
{
	static char	big[VALIDATE_MAX_TEXT + 2];

	fresh();
	rep.free_text = "first line\nsecond line\twith a tab";
	expect_ok();
	rep.free_text = "bell\a";
	expect_field("report.free_text", "control byte 0x07");
	rep.title = "title\nwith newline";
	rep.free_text = NULL;
	expect_field("report.title", "control byte 0x0a");
	rep.title = "\xe3\x81\x82\xe3";	/* あ then a cut sequence */
	expect_field("report.title", "not valid UTF-8");
	rep.title = "\xed\xa0\x80";	/* a UTF-16 surrogate */
	expect_field("report.title", "not valid UTF-8");
	rep.title = "停電 (power cut)";
	expect_ok();
	memset(big, 'a', VALIDATE_MAX_TEXT);
	big[VALIDATE_MAX_TEXT] = '\0';
	rep.free_text = big;
	expect_ok();
	big[VALIDATE_MAX_TEXT] = 'a';
	big[VALIDATE_MAX_TEXT + 1] = '\0';
	expect_field("report.free_text", "the limit is");
}

/*
 * Sixteen bytes become a lowercase UUID of the asked version and the RFC
 * 4122 variant, dashes in place; a short buffer gets a truncated,
 * terminated string.
 */
static void
test_uuid_format(void)
{
	unsigned char	 b[16];
	char		 out[37], small[9];
	size_t		 i;

	for (i = 0; i < 16; i++)
		b[i] = (unsigned char)(0xf0 + i);
	validate_uuid_format_version(b, 7, out, sizeof(out));
	CHECK_STR(out, "f0f1f2f3-f4f5-76f7-b8f9-fafbfcfdfeff");
	CHECK(validate_uuid(out));
	memset(b, 0, sizeof(b));
	validate_uuid_format_version(b, 4, out, sizeof(out));
	CHECK_STR(out, "00000000-0000-4000-8000-000000000000");
	validate_uuid_format_version(b, 4, small, sizeof(small));
	CHECK_STR(small, "00000000");
}

/*
 * Text is checked eight ASCII bytes at a time: a bad byte is found at
 * every offset of a block, and the bytes next to the bad ones pass.
 */
static void
test_text_blocks(void)
{
	static const unsigned char bad[] = { 0x01, 0x08, 0x1f, 0x7f, 0x80,
	    0xff };
	static const unsigned char good[] = { 0x20, 0x21, 0x7e, '\t' };
	char		text[41], want[64];
	size_t		i, off;

	fresh();
	for (off = 0; off < 40; off++) {
		for (i = 0; i < sizeof(bad); i++) {
			memset(text, 'x', 40);
			text[40] = '\0';
			text[off] = (char)bad[i];
			rep.free_text = text;
			if (bad[i] < 0x80)
				snprintf(want, sizeof(want), "control byte "
				    "0x%02x at offset %zu", bad[i], off);
			else
				snprintf(want, sizeof(want), "not valid UTF-8 "
				    "at offset %zu", off);
			expect_field("report.free_text", want);
		}
		for (i = 0; i < sizeof(good); i++) {
			memset(text, 'x', 40);
			text[40] = '\0';
			text[off] = (char)good[i];
			rep.free_text = text;
			expect_ok();
		}
	}
	rep.free_text = NULL;
}

static void
test_notices(void)
{
	Ceptoar__Advisory	adv = CEPTOAR__ADVISORY__INIT;
	Ceptoar__EarlyWarning	ew = CEPTOAR__EARLY_WARNING__INIT;
	char			*secs[] = { "finance", "telecom" };
	char			*rcpt[] = { "bank-sakura" };

	fresh();
	msg.content_case = CEPTOAR__MESSAGE__CONTENT_ADVISORY;
	msg.advisory = &adv;
	expect_field("advisory.sectors", "at least one sector");
	adv.sectors = secs;
	adv.n_sectors = 2;
	expect_field("advisory.title", "required");
	adv.title = "Phishing campaign against internet banking";
	expect_field("advisory.text", "required");
	adv.text = "Details follow.";
	expect_ok();

	fresh();
	msg.content_case = CEPTOAR__MESSAGE__CONTENT_EARLY_WARNING;
	msg.early_warning = &ew;
	expect_field("early_warning.recipients", "at least one");
	ew.recipients = rcpt;
	ew.n_recipients = 1;
	ew.title = "Imminent DDoS";
	ew.text = "Announced for tonight.";
	expect_ok();
}

static void
test_answers(void)
{
	Ceptoar__Consultation	q = CEPTOAR__CONSULTATION__INIT;
	Ceptoar__Reply		r = CEPTOAR__REPLY__INIT;
	Ceptoar__WidenRequest	w = CEPTOAR__WIDEN_REQUEST__INIT;
	Ceptoar__SharingRange	sr = CEPTOAR__SHARING_RANGE__INIT;
	Ceptoar__ConsentAnswer	c = CEPTOAR__CONSENT_ANSWER__INIT;
	Ceptoar__CommCheck	k = CEPTOAR__COMM_CHECK__INIT;
	Ceptoar__CheckAnswer	a = CEPTOAR__CHECK_ANSWER__INIT;
	char			*id = "5d0b7c2e-1f3a-4c8e-9b6d-2a4f6e8c0b1d";

	fresh();
	msg.content_case = CEPTOAR__MESSAGE__CONTENT_CONSULTATION;
	msg.consultation = &q;
	expect_field("consultation.to", "\"liaison\" or \"nisc\"");
	q.to = "nisc";
	expect_field("consultation.question", "required");
	q.question = "Must a 90-minute outage of 20,000 users be reported?";
	expect_ok();

	fresh();
	msg.content_case = CEPTOAR__MESSAGE__CONTENT_REPLY;
	msg.reply = &r;
	expect_field("reply.in_reply_to", "hub id");
	r.in_reply_to = id;
	expect_field("reply.text", "required");
	r.text = "Yes: it is over the threshold.";
	expect_ok();

	fresh();
	msg.content_case = CEPTOAR__MESSAGE__CONTENT_WIDEN_REQUEST;
	msg.widen_request = &w;
	w.hub_id = id;
	expect_field("widen_request.sharing.scope", "required");
	w.sharing = &sr;
	sr.has_scope = 1;
	sr.scope = 9;
	expect_field("widen_request.sharing.scope", "not one of");
	sr.scope = CEPTOAR__SHARING_SCOPE__SHARING_SECTOR_CEPTOAR;
	expect_ok();

	fresh();
	msg.content_case = CEPTOAR__MESSAGE__CONTENT_CONSENT_ANSWER;
	msg.consent_answer = &c;
	c.request = id;
	expect_field("consent_answer.approve", "required");
	c.has_approve = 1;
	expect_ok();

	fresh();
	msg.content_case = CEPTOAR__MESSAGE__CONTENT_COMM_CHECK;
	msg.comm_check = &k;
	expect_ok();
	k.has_deadline_seconds = 1;
	k.deadline_seconds = 9;
	expect_field("comm_check.deadline_seconds", "10 seconds to 7 days");
	k.deadline_seconds = 10;
	expect_ok();

	fresh();
	msg.content_case = CEPTOAR__MESSAGE__CONTENT_CHECK_ANSWER;
	msg.check_answer = &a;
	expect_field("check_answer.check", "hub id");
	a.check = id;
	expect_ok();
}

static void
test_names(void)
{
	int	v = 0;
	char	buf[256];

	CHECK(names_parse(names_tlp, "TLP:AMBER+STRICT", &v) == 0 &&
	    v == CEPTOAR__TLP__TLP_AMBER_STRICT);
	CHECK(names_parse(names_tlp, "amber", &v) == 0 &&
	    v == CEPTOAR__TLP__TLP_AMBER);
	CHECK(names_parse(names_tlp, "TLP:WHITE", &v) == -1);
	CHECK_STR(names_lookup(names_tlp, CEPTOAR__TLP__TLP_RED), "TLP:RED");
	CHECK_STR(names_lookup(names_severity, 3), "high");
	CHECK_STR(names_lookup(names_cause, 42), "unknown");
	names_list(names_stage, buf, sizeof(buf));
	CHECK_STR(buf, "early_warning, notification, intermediate, final");
	CHECK(validate_uuid("0F8C1D52-3A5E-4B7A-9C1E-2D3F4A5B6C7D"));
	CHECK(!validate_uuid("0f8c1d52-3a5e-4b7a-9c1e-2d3f4a5b6c7"));
	CHECK(!validate_uuid("0f8c1d52x3a5e-4b7a-9c1e-2d3f4a5b6c7d"));
}

/* detected_at is never before occurred_at; neither far in the future. */
static void
test_times(void)
{
	struct validate_error	err;
	int64_t			now = 1796000000;	/* 2026-11 */

	fresh();
	rep.has_occurred_at = rep.has_detected_at = 1;
	rep.occurred_at = rep.detected_at = now - 600;
	expect_ok();
	rep.detected_at = rep.occurred_at - 1;
	expect_field("report.detected_at", "1 seconds before");
	rep.detected_at = rep.occurred_at;
	CHECK(validate_times(&msg, now, &err) == 0);
	rep.occurred_at = rep.detected_at = now + VALIDATE_MAX_SKEW;
	CHECK(validate_times(&msg, now, &err) == 0);
	rep.occurred_at = now + VALIDATE_MAX_SKEW + 1;
	rep.detected_at = rep.occurred_at;
	CHECK(validate_times(&msg, now, &err) == -1);
	CHECK_STR(err.field, "report.occurred_at");
	CHECK_CONTAINS(err.reason, "in the future");
	rep.has_occurred_at = 0;
	CHECK(validate_times(&msg, now, &err) == -1);
	CHECK_STR(err.field, "report.detected_at");
}

/* A report's mistakes are listed all at once, the first one first. */
static void
test_all_mistakes(void)
{
	struct validate_error	err;

	fresh();
	contact.name = NULL;
	rep.has_legally_mandated = 1;
	rep.legally_mandated = 1;
	rep.has_revision = 1;
	rep.revision = 0;
	CHECK(validate_message(&msg, &err) == -1);
	CHECK(err.count == 3);
	CHECK_STR(err.field, "report.contact.name");
	CHECK_CONTAINS(err.all, "report.contact.name: is required");
	CHECK_CONTAINS(err.all, "\nreport.legal_basis: is required");
	CHECK_CONTAINS(err.all, "\nreport.revision: starts at 1");
	/* A failure expected, or an attack announced, may lie ahead. */
	fresh();
	rep.has_cause = rep.has_event_type = 1;
	rep.cause = CEPTOAR__CAUSE__CAUSE_DISASTER;
	rep.event_type = CEPTOAR__EVENT_TYPE__EVENT_FAILURE_EXPECTED;
	rep.has_occurred_at = rep.has_detected_at = 1;
	rep.detected_at = 1796000000;
	rep.occurred_at = rep.detected_at + 7 * 86400;
	expect_ok();
	CHECK(validate_times(&msg, rep.detected_at, &err) == 0);
	rep.cause = CEPTOAR__CAUSE__CAUSE_UNINTENTIONAL;
	rep.event_type = CEPTOAR__EVENT_TYPE__EVENT_FAILURE_OCCURRED;
	expect_field("report.detected_at", "before report.occurred_at");
	CHECK(validate_times(&msg, rep.detected_at, &err) == -1);
}

int
main(void)
{
	test_times();
	test_all_mistakes();
	test_envelope_fields();
	test_contact();
	test_indicator_type();
	test_cause_event();
	test_severity();
	test_mandate_chain_sharing();
	test_text();
	test_text_blocks();
	test_notices();
	test_answers();
	test_names();
	test_uuid_format();
	return CHECK_DONE();
}
