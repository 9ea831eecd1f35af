/*
 * Names of the protocol's enumerations: one table each, terminated by a
 * NULL name.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ceptoar.pb-c.h"
#include "names.h"

const struct name_entry names_tlp[] = {
	{ CEPTOAR__TLP__TLP_CLEAR, "TLP:CLEAR", "CLEAR" },
	{ CEPTOAR__TLP__TLP_GREEN, "TLP:GREEN", "GREEN" },
	{ CEPTOAR__TLP__TLP_AMBER, "TLP:AMBER", "AMBER" },
	{ CEPTOAR__TLP__TLP_AMBER_STRICT, "TLP:AMBER+STRICT", "AMBER+STRICT" },
	{ CEPTOAR__TLP__TLP_RED, "TLP:RED", "RED" },
	{ 0, NULL, NULL }
};

const struct name_entry names_cause[] = {
	{ CEPTOAR__CAUSE__CAUSE_INTENTIONAL, "intentional", NULL },
	{ CEPTOAR__CAUSE__CAUSE_UNINTENTIONAL, "unintentional", NULL },
	{ CEPTOAR__CAUSE__CAUSE_DISASTER, "disaster", "illness" },
	{ CEPTOAR__CAUSE__CAUSE_SPILLOVER, "spillover", NULL },
	{ 0, NULL, NULL }
};

const struct name_entry names_event_type[] = {
	{ CEPTOAR__EVENT_TYPE__EVENT_FAILURE_OCCURRED, "failure_occurred", NULL },
	{ CEPTOAR__EVENT_TYPE__EVENT_ATTACK_DETECTED, "attack_detected",
	    "attack_announced" },
	{ CEPTOAR__EVENT_TYPE__EVENT_ATTACK_DAMAGE, "attack_damage", NULL },
	{ CEPTOAR__EVENT_TYPE__EVENT_THREAT_WORTH_SHARING, "threat_worth_sharing",
	    "malfunction_worth_sharing" },
	{ CEPTOAR__EVENT_TYPE__EVENT_FAILURE_EXPECTED, "failure_expected", NULL },
	{ 0, NULL, NULL }
};

const struct name_entry names_stage[] = {
	{ CEPTOAR__STAGE__STAGE_EARLY_WARNING, "early_warning", NULL },
	{ CEPTOAR__STAGE__STAGE_NOTIFICATION, "notification", NULL },
	{ CEPTOAR__STAGE__STAGE_INTERMEDIATE, "intermediate", NULL },
	{ CEPTOAR__STAGE__STAGE_FINAL, "final", NULL },
	{ 0, NULL, NULL }
};

const struct name_entry names_report_kind[] = {
	{ CEPTOAR__REPORT_KIND__REPORT_INCIDENT, "incident", NULL },
	{ CEPTOAR__REPORT_KIND__REPORT_NEAR_MISS, "near_miss", "hiyari_hatto" },
	{ CEPTOAR__REPORT_KIND__REPORT_EARLY_SIGN, "early_sign", "yochou" },
	{ 0, NULL, NULL }
};

const struct name_entry names_sharing_scope[] = {
	{ CEPTOAR__SHARING_SCOPE__SHARING_NISC_ONLY, "nisc_only", NULL },
	{ CEPTOAR__SHARING_SCOPE__SHARING_LIAISON_AND_NISC, "liaison_and_nisc",
	    NULL },
	{ CEPTOAR__SHARING_SCOPE__SHARING_SECTOR_CEPTOAR, "sector_ceptoar", NULL },
	{ CEPTOAR__SHARING_SCOPE__SHARING_NAMED_SECTORS, "named_sectors", NULL },
	{ CEPTOAR__SHARING_SCOPE__SHARING_NAMED_ORGANISATIONS,
	    "named_organisations", "named_organizations" },
	{ 0, NULL, NULL }
};

const struct name_entry names_attribution[] = {
	{ CEPTOAR__ATTRIBUTION__ATTRIBUTION_NOBODY, "nobody", NULL },
	{ CEPTOAR__ATTRIBUTION__ATTRIBUTION_GOVERNMENT, "government", NULL },
	{ CEPTOAR__ATTRIBUTION__ATTRIBUTION_EVERYONE, "everyone", NULL },
	{ 0, NULL, NULL }
};

const struct name_entry names_error_code[] = {
	{ CEPTOAR__ERROR_CODE__ERROR_NONE, "none", NULL },
	{ CEPTOAR__ERROR_CODE__ERROR_PROTOCOL_VERSION, "protocol-version", NULL },
	{ CEPTOAR__ERROR_CODE__ERROR_FRAME_TOO_LARGE, "frame-too-large", NULL },
	{ CEPTOAR__ERROR_CODE__ERROR_MALFORMED, "malformed", NULL },
	{ CEPTOAR__ERROR_CODE__ERROR_UNEXPECTED_MESSAGE, "unexpected-message",
	    NULL },
	{ CEPTOAR__ERROR_CODE__ERROR_UNKNOWN_ORGANISATION,
	    "unknown-organisation", NULL },
	{ CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED, "not-permitted", NULL },
	{ CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD, "invalid-field", NULL },
	{ CEPTOAR__ERROR_CODE__ERROR_NOT_FOUND, "not-found", NULL },
	{ CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED, "store-failed", NULL },
	{ CEPTOAR__ERROR_CODE__ERROR_RATE_LIMITED, "rate-limited", NULL },
	{ CEPTOAR__ERROR_CODE__ERROR_TIMEOUT, "timeout", NULL },
	{ CEPTOAR__ERROR_CODE__ERROR_SHUTTING_DOWN, "shutting-down", NULL },
	{ CEPTOAR__ERROR_CODE__ERROR_OVERLOADED, "overloaded", NULL },
	{ CEPTOAR__ERROR_CODE__ERROR_NO_RECIPIENTS, "no-recipients", NULL },
	{ CEPTOAR__ERROR_CODE__ERROR_IDEMPOTENCY_CONFLICT,
	    "idempotency-conflict", NULL },
	{ CEPTOAR__ERROR_CODE__ERROR_INTERNAL, "internal", NULL },
	{ CEPTOAR__ERROR_CODE__ERROR_TLP_REFUSED, "tlp-refused", NULL },
	{ CEPTOAR__ERROR_CODE__ERROR_RANGE_REFUSED, "range-refused", NULL },
	{ CEPTOAR__ERROR_CODE__ERROR_NOT_HOLDER, "not-holder", NULL },
	{ 0, NULL, NULL }
};

const struct name_entry names_form[] = {
	{ CEPTOAR__FORM__FORM_ORIGINAL, "original", NULL },
	{ CEPTOAR__FORM__FORM_ANONYMISED, "anonymised", "anonymized" },
	{ 0, NULL, NULL }
};

const struct name_entry names_review_notice[] = {
	{ CEPTOAR__REVIEW_NOTICE__NOTICE_REJECTED, "rejected", NULL },
	{ CEPTOAR__REVIEW_NOTICE__NOTICE_REMINDER, "reminder", NULL },
	{ CEPTOAR__REVIEW_NOTICE__NOTICE_STILL_WAITING, "still_waiting", NULL },
	{ 0, NULL, NULL }
};

const struct name_entry names_severity[] = {
	{ 0, "none", NULL },
	{ 1, "low", NULL },
	{ 2, "medium", NULL },
	{ 3, "high", NULL },
	{ 4, "crisis", NULL },
	{ 0, NULL, NULL }
};

const struct name_entry *
names_for_enum(const ProtobufCEnumDescriptor *d)
{
	static const struct {
		const ProtobufCEnumDescriptor	*desc;
		const struct name_entry		*names;
	} tables[] = {
		{ &ceptoar__tlp__descriptor, names_tlp },
		{ &ceptoar__cause__descriptor, names_cause },
		{ &ceptoar__event_type__descriptor, names_event_type },
		{ &ceptoar__stage__descriptor, names_stage },
		{ &ceptoar__report_kind__descriptor, names_report_kind },
		{ &ceptoar__sharing_scope__descriptor, names_sharing_scope },
		{ &ceptoar__attribution__descriptor, names_attribution },
		{ &ceptoar__error_code__descriptor, names_error_code },
		{ &ceptoar__form__descriptor, names_form },
		{ &ceptoar__review_notice__descriptor, names_review_notice },
	};
	size_t	i;

	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (tables[i].desc == d)
			return tables[i].names;
	return NULL;
}

const char *
names_lookup(const struct name_entry *t, int v)
{
	for (; t->name != NULL; t++)
		if (t->value == v)
			return t->name;
	return "unknown";
}

int
names_parse(const struct name_entry *t, const char *s, int *v)
{
	if (s == NULL)
		return -1;
	for (; t->name != NULL; t++) {
		if (strcasecmp(s, t->name) == 0 ||
		    (t->alias != NULL && strcasecmp(s, t->alias) == 0)) {
			*v = t->value;
			return 0;
		}
	}
	return -1;
}

void
names_list(const struct name_entry *t, char *buf, size_t len)
{
	size_t	off = 0;
	int	n;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (; t->name != NULL && off < len; t++) {
		n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
		    t->name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}
