/*
 * Field-level validation of messages.  The same checks run in the client
 * before sending and in the hub before accepting, so an operator learns
 * of a mistake before the report leaves the building.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "names.h"
#include "validate.h"

/*
 * Note an error of field with a printf-style reason; return -1.  The
 * first one fills err's field and reason; every one is also added to
 * err's list, so that a report's mistakes can be named all at once.
 */
static int __attribute__((format(printf, 3, 4)))
validate_fail(struct validate_error *err, const char *field, const char *fmt,
    ...)
{
	va_list	ap;
	char	reason[sizeof(err->reason)];
	size_t	len;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (err->count++ == 0) {
		snprintf(err->field, sizeof(err->field), "%s", field);
		snprintf(err->reason, sizeof(err->reason), "%s", reason);
	}
	len = strlen(err->all);
	if (len + 1 < sizeof(err->all))
		snprintf(err->all + len, sizeof(err->all) - len, "%s%s: %s",
		    len ? "\n" : "", field, reason);
	return -1;
}

/* A string within max bytes, valid UTF-8, and free of control bytes. */
static int
validate_text(struct validate_error *err, const char *field, const char *s,
    size_t max, int multiline)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len, i, need;

	if (s == NULL)
		return 0;
	if ((len = strlen(s)) > max)
		return validate_fail(err, field,
		    "is %zu bytes; the limit is %zu", len, max);
	for (i = 0; i < len; i++) {
		/*
		 * Eight printable ASCII bytes at a time, the common case:
		 * none with the top bit, none below 0x20, none equal to
		 * 0x7f.  Any other block is checked byte by byte below.
		 */
		while (i + 8 <= len) {
			uint64_t w, x;

			memcpy(&w, p + i, sizeof(w));
			x = w ^ 0x7f7f7f7f7f7f7f7fULL;
			if ((w & 0x8080808080808080ULL) != 0 ||
			    ((w - 0x2020202020202020ULL) & ~w &
			    0x8080808080808080ULL) != 0 ||
			    ((x - 0x0101010101010101ULL) & ~x &
			    0x8080808080808080ULL) != 0)
				break;
			i += 8;
		}
		if (i >= len)
			break;
		if (p[i] < 0x80) {
			if (p[i] < 0x20 && !(multiline &&
			    (p[i] == '\n' || p[i] == '\t' || p[i] == '\r')))
				return validate_fail(err, field,
				    "contains control byte 0x%02x at offset %zu",
				    p[i], i);
			if (p[i] == 0x7f)
				return validate_fail(err, field,
				    "contains control byte 0x7f at offset %zu",
				    i);
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0 && p[i] >= 0xc2)
			need = 1;
		else if ((p[i] & 0xf0) == 0xe0)
			need = 2;
		else if ((p[i] & 0xf8) == 0xf0 && p[i] <= 0xf4)
			need = 3;
		else
			return validate_fail(err, field,
			    "is not valid UTF-8 at offset %zu", i);
		if (i + need >= len)
			return validate_fail(err, field,
			    "is not valid UTF-8 at offset %zu", i);
		for (size_t k = 1; k <= need; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return validate_fail(err, field,
				    "is not valid UTF-8 at offset %zu", i);
		/* Overlong forms, surrogates and code points past U+10FFFF. */
		if ((p[i] == 0xe0 && p[i + 1] < 0xa0) ||
		    (p[i] == 0xed && p[i + 1] >= 0xa0) ||
		    (p[i] == 0xf0 && p[i + 1] < 0x90) ||
		    (p[i] == 0xf4 && p[i + 1] >= 0x90))
			return validate_fail(err, field,
			    "is not valid UTF-8 at offset %zu", i);
		i += need;
	}
	return 0;
}

/* An identifier: [a-z0-9-], 1..64. */
static int
validate_id(struct validate_error *err, const char *field, const char *s)
{
	size_t	i, len = strlen(s);

	if (len == 0 || len > 64)
		return validate_fail(err, field,
		    "must be 1 to 64 characters (got %zu)", len);
	for (i = 0; i < len; i++)
		if (!(islower((unsigned char)s[i]) ||
		    isdigit((unsigned char)s[i]) || s[i] == '-'))
			return validate_fail(err, field,
			    "\"%.64s\" is not an identifier "
			    "(lower-case letters, digits and '-')", s);
	return 0;
}

/* A list of identifiers, bounded in count. */
static int
validate_ids(struct validate_error *err, const char *field, char **v,
    size_t n)
{
	char	path[96];
	size_t	i;

	if (n > VALIDATE_MAX_LIST)
		return validate_fail(err, field,
		    "has %zu entries; the limit is %d", n, VALIDATE_MAX_LIST);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s[%zu]", field, i);
		if (validate_id(err, path, v[i]) == -1)
			return -1;
	}
	return 0;
}

bool
validate_uuid(const char *s)
{
	size_t	i;

	if (s == NULL || strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

void
validate_uuid_format(unsigned char b[16], char *out, size_t len)
{
	validate_uuid_format_version(b, 4, out, len);
}

void
validate_uuid_format_version(unsigned char b[16], unsigned version,
    char *out, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 text[37];
	size_t			 i, o = 0;

	b[6] = (unsigned char)((b[6] & 0x0f) | (version << 4));
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	/* By hand: snprintf of 16 %02x was 2 % of the hub's CPU per submit. */
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			text[o++] = '-';
		text[o++] = hex[b[i] >> 4];
		text[o++] = hex[b[i] & 0x0f];
	}
	if (len == 0)
		return;
	if (o > len - 1)
		o = len - 1;
	memcpy(out, text, o);
	out[o] = '\0';
}

bool
validate_hub_id(const char *s)
{
	return validate_uuid(s);
}

bool
validate_cause_event(int c, int ev)
{
	switch (c) {
	case CEPTOAR__CAUSE__CAUSE_INTENTIONAL:
		return ev == CEPTOAR__EVENT_TYPE__EVENT_FAILURE_OCCURRED ||
		    ev == CEPTOAR__EVENT_TYPE__EVENT_ATTACK_DETECTED ||
		    ev == CEPTOAR__EVENT_TYPE__EVENT_ATTACK_DAMAGE ||
		    ev == CEPTOAR__EVENT_TYPE__EVENT_THREAT_WORTH_SHARING;
	case CEPTOAR__CAUSE__CAUSE_UNINTENTIONAL:
	case CEPTOAR__CAUSE__CAUSE_SPILLOVER:
		return ev == CEPTOAR__EVENT_TYPE__EVENT_FAILURE_OCCURRED ||
		    ev == CEPTOAR__EVENT_TYPE__EVENT_THREAT_WORTH_SHARING;
	case CEPTOAR__CAUSE__CAUSE_DISASTER:
		return ev == CEPTOAR__EVENT_TYPE__EVENT_FAILURE_OCCURRED ||
		    ev == CEPTOAR__EVENT_TYPE__EVENT_FAILURE_EXPECTED ||
		    ev == CEPTOAR__EVENT_TYPE__EVENT_THREAT_WORTH_SHARING;
	}
	return false;
}

int
validate_overall_severity(const Ceptoar__Severity *s)
{
	int	max = -1;

	if (s == NULL)
		return -1;
	if (s->has_continuity && (int)s->continuity > max)
		max = (int)s->continuity;
	if (s->has_safety && (int)s->safety > max)
		max = (int)s->safety;
	if (s->has_trust && (int)s->trust > max)
		max = (int)s->trust;
	return max;
}

/* Enum value v must be one of table t's. */
static int
validate_enum(struct validate_error *err, const char *field,
    const struct name_entry *t, int v)
{
	char	list[256];

	if (strcmp(names_lookup(t, v), "unknown") != 0)
		return 0;
	names_list(t, list, sizeof(list));
	return validate_fail(err, field, "value %d is not one of: %s", v, list);
}

/* Severity viewpoints 0..4; overall, if given, must be their maximum. */
static int
validate_severity(struct validate_error *err, const char *base,
    const Ceptoar__Severity *s)
{
	char	path[96];
	int	overall;

	if (s == NULL)
		return 0;
#define SEV(f) do {							\
	snprintf(path, sizeof(path), "%s.%s", base, #f);		\
	if (s->has_##f && s->f > VALIDATE_MAX_SEVERITY)			\
		return validate_fail(err, path,				\
		    "must be 0 (none) to 4 (crisis), got %u", s->f);	\
} while (0)
	SEV(continuity);
	SEV(safety);
	SEV(trust);
	SEV(overall);
#undef SEV
	overall = validate_overall_severity(s);
	if (s->has_overall && overall == -1) {
		snprintf(path, sizeof(path), "%s.overall", base);
		return validate_fail(err, path,
		    "is given without continuity, safety or trust; give the "
		    "viewpoints and the hub states the overall level");
	}
	if (s->has_overall && overall != -1 && (int)s->overall != overall) {
		snprintf(path, sizeof(path), "%s.overall", base);
		return validate_fail(err, path,
		    "is %u but the highest viewpoint is %d; overall is the "
		    "highest of continuity, safety and trust", s->overall,
		    overall);
	}
	return 0;
}

/*
 * The indicator types, as documented in proto/ceptoar.proto and
 * config/examples/README.md: a type outside them is a mistake (or free
 * text in the wrong place, which the anonymiser does not scrub).
 */
static const char *const validate_indicator_types[] = {
	"ipv4", "ipv6", "domain", "url", "sha256", "email", "other", NULL
};

/* Indicators: a type of the fixed set and a value each, bounded. */
static int
validate_indicators(struct validate_error *err, const char *base,
    Ceptoar__Indicator **v, size_t n)
{
	char	path[96];
	size_t	i, k;

	if (n > VALIDATE_MAX_LIST)
		return validate_fail(err, base,
		    "has %zu entries; the limit is %d", n, VALIDATE_MAX_LIST);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s[%zu].type", base, i);
		if (v[i]->type == NULL || *v[i]->type == '\0')
			return validate_fail(err, path, "is required");
		if (validate_text(err, path, v[i]->type, 32, 0) == -1)
			return -1;
		for (k = 0; validate_indicator_types[k] != NULL; k++)
			if (strcmp(v[i]->type, validate_indicator_types[k]) ==
			    0)
				break;
		if (validate_indicator_types[k] == NULL)
			return validate_fail(err, path, "\"%.32s\" is not an "
			    "indicator type: ipv4, ipv6, domain, url, sha256, "
			    "email or other (put words in the comment)",
			    v[i]->type);
		snprintf(path, sizeof(path), "%s[%zu].value", base, i);
		if (v[i]->value == NULL || *v[i]->value == '\0')
			return validate_fail(err, path, "is required");
		if (validate_text(err, path, v[i]->value, 4096, 0) == -1)
			return -1;
		snprintf(path, sizeof(path), "%s[%zu].comment", base, i);
		if (validate_text(err, path, v[i]->comment, VALIDATE_MAX_SHORT,
		    1) == -1)
			return -1;
	}
	return 0;
}

/* Bounded list of short free strings. */
static int
validate_strings(struct validate_error *err, const char *base, char **v,
    size_t n)
{
	char	path[96];
	size_t	i;

	if (n > VALIDATE_MAX_LIST)
		return validate_fail(err, base,
		    "has %zu entries; the limit is %d", n, VALIDATE_MAX_LIST);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s[%zu]", base, i);
		if (validate_text(err, path, v[i], 2048, 0) == -1)
			return -1;
	}
	return 0;
}

/* A report's contact: a person, and a phone or an email to reach them. */
static void
validate_contact(struct validate_error *err, const Ceptoar__Contact *c)
{
	if (c->name == NULL || *c->name == '\0')
		validate_fail(err, "report.contact.name",
		    "is required: the person to contact about this report");
	if ((c->phone == NULL || *c->phone == '\0') &&
	    (c->email == NULL || *c->email == '\0'))
		validate_fail(err, "report.contact",
		    "needs a phone or an email so the reporter can be reached");
	validate_text(err, "report.contact.name", c->name, VALIDATE_MAX_SHORT,
	    0);
	validate_text(err, "report.contact.phone", c->phone, 64, 0);
	validate_text(err, "report.contact.email", c->email,
	    VALIDATE_MAX_SHORT, 0);
	validate_text(err, "report.contact.unit", c->unit, VALIDATE_MAX_SHORT,
	    0);
	if (c->email != NULL && *c->email != '\0' &&
	    strchr(c->email, '@') == NULL)
		validate_fail(err, "report.contact.email",
		    "\"%.64s\" is not an email address", c->email);
}

/*
 * Whether r's occurrence may lie after its detection, or ahead of now: a
 * failure expected from secondary damage, or an attack announced.
 */
static bool
validate_may_lie_ahead(const Ceptoar__Report *r)
{
	return r->has_event_type &&
	    (r->event_type == CEPTOAR__EVENT_TYPE__EVENT_FAILURE_EXPECTED ||
	    r->event_type == CEPTOAR__EVENT_TYPE__EVENT_ATTACK_DETECTED);
}

/*
 * An incident, near-miss or early-sign report.  Every check runs, so
 * that err lists all of a report's mistakes at once (validate_fail);
 * a check is skipped only where what it reads is missing.
 */
static int
validate_report(struct validate_error *err, const Ceptoar__Report *r)
{
	const Ceptoar__SharingRange	*s = r->sharing;
	const Ceptoar__Impact		*im = r->impact;
	unsigned			 before = err->count;

	if (r->has_kind)
		validate_enum(err, "report.kind", names_report_kind, r->kind);
	if (r->contact == NULL)
		validate_fail(err, "report.contact",
		    "is required: a contact person and a way to reach them");
	else
		validate_contact(err, r->contact);
	if (r->has_legally_mandated && r->legally_mandated &&
	    (r->legal_basis == NULL || *r->legal_basis == '\0'))
		validate_fail(err, "report.legal_basis",
		    "is required when legally_mandated is true: name the law");
	validate_text(err, "report.legal_basis", r->legal_basis,
	    VALIDATE_MAX_SHORT, 0);
	if (r->has_cause)
		validate_enum(err, "report.cause", names_cause, r->cause);
	if (r->has_event_type)
		validate_enum(err, "report.event_type", names_event_type,
		    r->event_type);
	if (r->has_event_type && !r->has_cause)
		validate_fail(err, "report.event_type",
		    "needs report.cause: an event type belongs to a cause");
	if (r->has_cause && r->has_event_type &&
	    !validate_cause_event(r->cause, r->event_type))
		validate_fail(err, "report.event_type",
		    "\"%s\" is not an event type of cause \"%s\"",
		    names_lookup(names_event_type, r->event_type),
		    names_lookup(names_cause, r->cause));
	validate_severity(err, "report.severity", r->severity);
	if (s != NULL) {
		if (!s->has_scope)
			validate_fail(err, "report.sharing.scope",
			    "is required when sharing is given");
		else
			validate_enum(err, "report.sharing.scope",
			    names_sharing_scope, s->scope);
		if (s->scope == CEPTOAR__SHARING_SCOPE__SHARING_NAMED_SECTORS &&
		    s->n_sectors == 0)
			validate_fail(err, "report.sharing.sectors",
			    "must name at least one sector for scope "
			    "named_sectors");
		if (s->scope ==
		    CEPTOAR__SHARING_SCOPE__SHARING_NAMED_ORGANISATIONS &&
		    s->n_organisations == 0)
			validate_fail(err, "report.sharing.organisations",
			    "must name at least one organisation for scope "
			    "named_organisations");
		validate_ids(err, "report.sharing.sectors", s->sectors,
		    s->n_sectors);
		validate_ids(err, "report.sharing.organisations",
		    s->organisations, s->n_organisations);
	}
	if (r->has_attribution)
		validate_enum(err, "report.attribution", names_attribution,
		    r->attribution);
	if (r->has_stage)
		validate_enum(err, "report.stage", names_stage, r->stage);
	if (r->chain_id != NULL && !validate_uuid(r->chain_id))
		validate_fail(err, "report.chain_id",
		    "\"%.64s\" is not a UUID", r->chain_id);
	if (r->has_revision && r->revision == 0)
		validate_fail(err, "report.revision", "starts at 1 (got 0)");
	if (r->has_revision && r->revision > 1 && r->chain_id == NULL)
		validate_fail(err, "report.chain_id",
		    "is required for revision %u: it links the update to the "
		    "first report", r->revision);
	if (r->sector != NULL)
		validate_id(err, "report.sector", r->sector);
	validate_text(err, "report.title", r->title, VALIDATE_MAX_SHORT, 0);
	validate_text(err, "report.affected_service", r->affected_service,
	    VALIDATE_MAX_SHORT, 0);
	validate_strings(err, "report.affected_systems", r->affected_systems,
	    r->n_affected_systems);
	validate_indicators(err, "report.indicators", r->indicators,
	    r->n_indicators);
	validate_text(err, "report.free_text", r->free_text, VALIDATE_MAX_TEXT,
	    1);
	if (im != NULL) {
		/* Figures must fit a signed 64-bit JSON integer. */
		if ((im->has_users_affected &&
		    im->users_affected > VALIDATE_MAX_FIGURE) ||
		    (im->has_kw_lost && im->kw_lost > VALIDATE_MAX_FIGURE) ||
		    (im->has_households && im->households > VALIDATE_MAX_FIGURE))
			validate_fail(err, "report.impact",
			    "a figure above %llu is not plausible",
			    (unsigned long long)VALIDATE_MAX_FIGURE);
		if (im->has_duration_minutes &&
		    im->duration_minutes > 10u * 366 * 24 * 60)
			validate_fail(err, "report.impact.duration_minutes",
			    "%u minutes is more than ten years",
			    im->duration_minutes);
		validate_text(err, "report.impact.description",
		    im->description, VALIDATE_MAX_TEXT, 1);
	}
	if (r->has_occurred_at && (r->occurred_at < 0 ||
	    r->occurred_at > VALIDATE_MAX_TIME))
		validate_fail(err, "report.occurred_at",
		    "must be between 1970 and 9999");
	if (r->has_detected_at && (r->detected_at < 0 ||
	    r->detected_at > VALIDATE_MAX_TIME))
		validate_fail(err, "report.detected_at",
		    "must be between 1970 and 9999");
	/* Something is detected when or after it happens, never before. */
	if (r->has_occurred_at && r->has_detected_at &&
	    r->detected_at < r->occurred_at && !validate_may_lie_ahead(r))
		validate_fail(err, "report.detected_at",
		    "is %lld seconds before report.occurred_at: an event is "
		    "detected when or after it occurs",
		    (long long)(r->occurred_at - r->detected_at));
	return err->count > before ? -1 : 0;
}

int
validate_times(const Ceptoar__Message *m, int64_t now,
    struct validate_error *err)
{
	const Ceptoar__Report	*r;

	memset(err, 0, sizeof(*err));
	if (m->content_case != CEPTOAR__MESSAGE__CONTENT_REPORT ||
	    (r = m->report) == NULL)
		return 0;
	if (r->has_occurred_at && r->occurred_at > now + VALIDATE_MAX_SKEW &&
	    !validate_may_lie_ahead(r))
		return validate_fail(err, "report.occurred_at",
		    "is %lld hours in the future: a report states what has "
		    "happened (use event type failure_expected or "
		    "attack_detected for what is expected or announced)",
		    (long long)((r->occurred_at - now) / 3600));
	if (r->has_detected_at && r->detected_at > now + VALIDATE_MAX_SKEW)
		return validate_fail(err, "report.detected_at",
		    "is %lld hours in the future",
		    (long long)((r->detected_at - now) / 3600));
	return 0;
}

/* Title and text are what a recipient reads first; both are required. */
static int
validate_notice(struct validate_error *err, const char *base,
    const char *title, const char *text, const Ceptoar__Severity *sev,
    Ceptoar__Indicator **ind, size_t nind, char **refs, size_t nrefs)
{
	char	path[96];

	snprintf(path, sizeof(path), "%s.title", base);
	if (title == NULL || *title == '\0')
		return validate_fail(err, path, "is required");
	if (validate_text(err, path, title, VALIDATE_MAX_SHORT, 0) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s.text", base);
	if (text == NULL || *text == '\0')
		return validate_fail(err, path, "is required");
	if (validate_text(err, path, text, VALIDATE_MAX_TEXT, 1) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s.severity", base);
	if (validate_severity(err, path, sev) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s.indicators", base);
	if (validate_indicators(err, path, ind, nind) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s.references", base);
	return validate_strings(err, path, refs, nrefs);
}

/* The fields of m by content; validate_message adds what holds for all. */
static int
validate_content(const Ceptoar__Message *m, struct validate_error *err);

int
validate_message(const Ceptoar__Message *m, struct validate_error *err)
{
	if (validate_content(m, err) == -1)
		return -1;
	if (!validate_round_trip(m))
		return validate_fail(err, "message", "carries unknown fields "
		    "in a form that cannot be stored faithfully");
	return 0;
}

static int
validate_content(const Ceptoar__Message *m, struct validate_error *err)
{
	memset(err, 0, sizeof(*err));
	if (m == NULL)
		return validate_fail(err, "message", "is missing");
	if (m->uuid == NULL || *m->uuid == '\0')
		return validate_fail(err, "uuid",
		    "is required: it makes a repeated submit safe");
	if (!validate_uuid(m->uuid))
		return validate_fail(err, "uuid",
		    "\"%.64s\" is not a UUID (8-4-4-4-12 hex digits)", m->uuid);
	if (!m->has_tlp)
		return validate_fail(err, "tlp",
		    "is required: one of TLP:CLEAR, TLP:GREEN, TLP:AMBER, "
		    "TLP:AMBER+STRICT, TLP:RED");
	if (validate_enum(err, "tlp", names_tlp, m->tlp) == -1)
		return -1;
	switch (m->content_case) {
	case CEPTOAR__MESSAGE__CONTENT_REPORT:
		return validate_report(err, m->report);
	case CEPTOAR__MESSAGE__CONTENT_ADVISORY:
		if (m->advisory->n_sectors == 0)
			return validate_fail(err, "advisory.sectors",
			    "must name at least one sector");
		if (validate_ids(err, "advisory.sectors", m->advisory->sectors,
		    m->advisory->n_sectors) == -1)
			return -1;
		return validate_notice(err, "advisory", m->advisory->title,
		    m->advisory->text, m->advisory->severity,
		    m->advisory->indicators, m->advisory->n_indicators,
		    m->advisory->references, m->advisory->n_references);
	case CEPTOAR__MESSAGE__CONTENT_EARLY_WARNING:
		if (m->early_warning->n_recipients == 0)
			return validate_fail(err, "early_warning.recipients",
			    "must name at least one organisation");
		if (validate_ids(err, "early_warning.recipients",
		    m->early_warning->recipients,
		    m->early_warning->n_recipients) == -1)
			return -1;
		return validate_notice(err, "early_warning",
		    m->early_warning->title, m->early_warning->text,
		    m->early_warning->severity, m->early_warning->indicators,
		    m->early_warning->n_indicators,
		    m->early_warning->references,
		    m->early_warning->n_references);
	case CEPTOAR__MESSAGE__CONTENT_CONSULTATION: {
		const Ceptoar__Consultation *q = m->consultation;

		if (q->to == NULL || (strcmp(q->to, "liaison") != 0 &&
		    strcmp(q->to, "nisc") != 0))
			return validate_fail(err, "consultation.to",
			    "must be \"liaison\" or \"nisc\"");
		if (q->question == NULL || *q->question == '\0')
			return validate_fail(err, "consultation.question",
			    "is required");
		if (q->sector != NULL && validate_id(err,
		    "consultation.sector", q->sector) == -1)
			return -1;
		return validate_text(err, "consultation.question", q->question,
		    VALIDATE_MAX_TEXT, 1);
	}
	case CEPTOAR__MESSAGE__CONTENT_REPLY:
		if (!validate_hub_id(m->reply->in_reply_to))
			return validate_fail(err, "reply.in_reply_to",
			    "must be the hub id of a message you received");
		if (m->reply->text == NULL || *m->reply->text == '\0')
			return validate_fail(err, "reply.text", "is required");
		return validate_text(err, "reply.text", m->reply->text,
		    VALIDATE_MAX_TEXT, 1);
	case CEPTOAR__MESSAGE__CONTENT_WIDEN_REQUEST: {
		const Ceptoar__WidenRequest *w = m->widen_request;

		if (!validate_hub_id(w->hub_id))
			return validate_fail(err, "widen_request.hub_id",
			    "must be the hub id of a report you received");
		if (w->sharing == NULL || !w->sharing->has_scope)
			return validate_fail(err, "widen_request.sharing.scope",
			    "is required: the range asked for");
		if (validate_enum(err, "widen_request.sharing.scope",
		    names_sharing_scope, w->sharing->scope) == -1 ||
		    validate_ids(err, "widen_request.sharing.sectors",
		    w->sharing->sectors, w->sharing->n_sectors) == -1 ||
		    validate_ids(err, "widen_request.sharing.organisations",
		    w->sharing->organisations,
		    w->sharing->n_organisations) == -1)
			return -1;
		return validate_text(err, "widen_request.reason", w->reason,
		    VALIDATE_MAX_TEXT, 1);
	}
	case CEPTOAR__MESSAGE__CONTENT_CONSENT_ANSWER:
		if (!validate_hub_id(m->consent_answer->request))
			return validate_fail(err, "consent_answer.request",
			    "must be the hub id of the request you received");
		if (!m->consent_answer->has_approve)
			return validate_fail(err, "consent_answer.approve",
			    "is required: true to widen, false to decline");
		return validate_text(err, "consent_answer.note",
		    m->consent_answer->note, VALIDATE_MAX_TEXT, 1);
	case CEPTOAR__MESSAGE__CONTENT_COMM_CHECK:
		if (m->comm_check->has_deadline_seconds &&
		    (m->comm_check->deadline_seconds < 10 ||
		    m->comm_check->deadline_seconds > 7 * 24 * 3600))
			return validate_fail(err, "comm_check.deadline_seconds",
			    "must be 10 seconds to 7 days (got %u)",
			    m->comm_check->deadline_seconds);
		return validate_ids(err, "comm_check.sectors",
		    m->comm_check->sectors, m->comm_check->n_sectors);
	case CEPTOAR__MESSAGE__CONTENT_CHECK_ANSWER:
		if (!validate_hub_id(m->check_answer->check))
			return validate_fail(err, "check_answer.check",
			    "must be the hub id of the check you received");
		return 0;
	default:
		return validate_fail(err, "content",
		    "is missing: a message carries a report, an advisory, an "
		    "early_warning, a consultation, a reply, a widen_request, "
		    "a consent_answer, a comm_check or a check_answer");
	}
}

int
validate_forward(const Ceptoar__Forward *f, struct validate_error *err)
{
	size_t	i;
	char	path[64];

	memset(err, 0, sizeof(*err));
	if (f->uuid != NULL && !validate_uuid(f->uuid))
		return validate_fail(err, "forward.uuid",
		    "\"%.64s\" is not a UUID", f->uuid);
	if (f->has_tlp && validate_enum(err, "forward.tlp", names_tlp,
	    f->tlp) == -1)
		return -1;
	if (validate_text(err, "forward.note", f->note, VALIDATE_MAX_TEXT,
	    1) == -1 ||
	    validate_text(err, "forward.free_text", f->free_text,
	    VALIDATE_MAX_TEXT, 1) == -1)
		return -1;
	if (f->sharing != NULL) {
		if (!f->sharing->has_scope)
			return validate_fail(err, "forward.sharing.scope",
			    "is required when sharing is given");
		if (validate_enum(err, "forward.sharing.scope",
		    names_sharing_scope, f->sharing->scope) == -1 ||
		    validate_ids(err, "forward.sharing.sectors",
		    f->sharing->sectors, f->sharing->n_sectors) == -1 ||
		    validate_ids(err, "forward.sharing.organisations",
		    f->sharing->organisations,
		    f->sharing->n_organisations) == -1)
			return -1;
	}
	if (f->n_recipients > VALIDATE_MAX_LIST)
		return validate_fail(err, "forward.recipients",
		    "has %zu entries; the limit is %d", f->n_recipients,
		    VALIDATE_MAX_LIST);
	for (i = 0; i < f->n_recipients; i++) {
		snprintf(path, sizeof(path), "forward.recipients[%zu]", i);
		if (validate_id(err, path, f->recipients[i]) == -1)
			return -1;
	}
	return 0;
}

bool
validate_round_trip(const Ceptoar__Message *m)
{
	Ceptoar__Message	*back;

	if ((back = frame_message_copy(m)) == NULL)
		return false;
	ceptoar__message__free_unpacked(back, NULL);
	return true;
}

int
validate_review_reject(const Ceptoar__ReviewReject *r,
    struct validate_error *err)
{
	memset(err, 0, sizeof(*err));
	if (r->hub_id == NULL || !validate_hub_id(r->hub_id))
		return validate_fail(err, "review_reject.hub_id", "name the "
		    "message that waits for your review, as you received it");
	if (r->uuid != NULL && !validate_uuid(r->uuid))
		return validate_fail(err, "review_reject.uuid",
		    "\"%.64s\" is not a UUID", r->uuid);
	if (r->reason == NULL || r->reason[0] == '\0')
		return validate_fail(err, "review_reject.reason", "is "
		    "required: the sender is told why its message was not "
		    "passed on");
	return validate_text(err, "review_reject.reason", r->reason,
	    VALIDATE_MAX_TEXT, 1);
}

int
validate_review_text(const char *text, struct validate_error *err)
{
	memset(err, 0, sizeof(*err));
	return validate_text(err, "review.free_text", text, VALIDATE_MAX_TEXT,
	    1);
}
