/*
 * The routing policy as tables: sender and message in, the exact set of
 * recipients with their hops and forms (or the refusal) out; then an
 * authorisation matrix of shares, holder x recipient x TLP x range,
 * against an oracle written from DOMAIN.md's rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptoard.h"
#include "check.h"

struct route_case {
	const char	*name;
	const char	*sender;
	const char	*kind;		/* report, voluntary, advisory, early_warning */
	const char	*targets;	/* sector (report) or list, space separated */
	int		 scope;		/* report sharing scope, 0 = none */
	int		 tlp;		/* 0: GREEN */
	/*
	 * Recipients, sorted, each "org@hop" with "a" after the hop for the
	 * anonymised form and "!" when it waits for the previous hop's review.
	 */
	const char	*expect;
	int		 code;		/* expected refusal, 0 = routed */
	const char	*words;		/* in the refusal */
};

#define SC(x)	CEPTOAR__SHARING_SCOPE__SHARING_##x
#define TLP(x)	CEPTOAR__TLP__TLP_##x
#define ERR(x)	CEPTOAR__ERROR_CODE__ERROR_##x

static const struct route_case cases[] = {
	{ "mandatory report: liaison, then NISC", "bank-a", "report", NULL, 0,
	    0, "fsa-liaison@0 nisc@1", 0, NULL },
	{ "mandatory report naming its own sector", "tel-a", "report",
	    "telecom", 0, 0, "mic-liaison@0 nisc@1", 0, NULL },
	{ "mandatory report shared with NISC only", "bank-a", "report", NULL,
	    SC(NISC_ONLY), 0, "nisc@0", 0, NULL },
	{ "mandatory report for another sector", "bank-a", "report",
	    "telecom", 0, 0, NULL, ERR(NOT_PERMITTED), "not in sector telecom" },
	{ "report for an unknown sector", "bank-a", "report", "mining", 0, 0,
	    NULL, ERR(INVALID_FIELD), "\"mining\"" },
	{ "liaisons do not submit reports", "fsa-liaison", "report", NULL, 0,
	    0, NULL, ERR(NOT_PERMITTED), "not an operator" },
	{ "agencies do not submit reports", "jpcert", "voluntary", NULL, 0, 0,
	    NULL, ERR(NOT_PERMITTED), "only operators" },
	{ "voluntary report: secretariat, then anonymised up", "bank-a",
	    "voluntary", NULL, 0, 0, "banks-sec@0 fsa-liaison@1a! nisc@2a", 0,
	    NULL },
	{ "voluntary report shared with NISC only", "bank-b", "voluntary",
	    NULL, SC(NISC_ONLY), 0, "banks-sec@0 nisc@1a!", 0, NULL },
	{ "voluntary report through the securities CEPTOAR", "broker-a",
	    "voluntary", NULL, 0, 0, "fsa-liaison@1a! nisc@2a sec-sec@0", 0,
	    NULL },
	{ "voluntary report from a bank in no CEPTOAR", "bank-lone",
	    "voluntary", NULL, 0, 0, NULL, ERR(NOT_PERMITTED),
	    "in no CEPTOAR of sector finance" },
	{ "advisory to finance: liaison, CEPTOARs, members", "nisc",
	    "advisory", "finance", 0, 0, "bank-a@2 bank-b@2 banks-sec@1 "
	    "broker-a@2 fsa-liaison@0 sec-sec@1", 0, NULL },
	{ "advisory to two sectors", "nisc", "advisory", "finance telecom", 0,
	    TLP(AMBER), "bank-a@2 bank-b@2 banks-sec@1 broker-a@2 fsa-liaison@0 "
	    "mic-liaison@0 sec-sec@1 tel-a@2 tel-sec@1", 0, NULL },
	{ "advisory to an unknown sector", "nisc", "advisory", "finance mining",
	    0, 0, NULL, ERR(INVALID_FIELD), "advisory.sectors[1]" },
	{ "TLP:RED advisory refused", "nisc", "advisory", "finance", 0,
	    TLP(RED), NULL, ERR(TLP_REFUSED), "TLP:RED does not allow" },
	{ "TLP:AMBER+STRICT advisory refused", "nisc", "advisory", "finance", 0,
	    TLP(AMBER_STRICT), NULL, ERR(TLP_REFUSED), "TLP:AMBER+STRICT" },
	{ "operators do not send advisories", "bank-a", "advisory", "finance",
	    0, 0, NULL, ERR(NOT_PERMITTED), "only NISC" },
	{ "liaisons do not send advisories", "fsa-liaison", "advisory",
	    "finance", 0, 0, NULL, ERR(NOT_PERMITTED), "only NISC" },
	{ "early warning with a copy to the liaison", "nisc", "early_warning",
	    "bank-a", 0, 0, "bank-a@0 fsa-liaison@0", 0, NULL },
	{ "early warning to a CEPTOAR and an operator", "nisc",
	    "early_warning", "banks-sec tel-a", 0, 0,
	    "banks-sec@0 fsa-liaison@0 mic-liaison@0 tel-a@0", 0, NULL },
	{ "TLP:RED early warning: no copy", "nisc", "early_warning", "bank-a",
	    0, TLP(RED), "bank-a@0", 0, NULL },
	{ "early warning needs a handling agreement", "nisc", "early_warning",
	    "bank-a bank-b", 0, 0, NULL, ERR(NOT_PERMITTED),
	    "bank-b has no handling agreement" },
	{ "early warning to an unknown organisation", "nisc", "early_warning",
	    "nobody", 0, 0, NULL, ERR(INVALID_FIELD), "\"nobody\"" },
	{ "early warning to an agency is refused", "nisc", "early_warning",
	    "jpcert", 0, 0, NULL, ERR(NOT_PERMITTED), "neither a CEPTOAR" },
	{ "operators do not send early warnings", "bank-a", "early_warning",
	    "tel-a", 0, 0, NULL, ERR(NOT_PERMITTED), "only they send" },
	{ "an agency with an agreement warns, NISC gets a copy", "ipa",
	    "early_warning", "bank-a banks-sec", 0, 0,
	    "bank-a@0 banks-sec@0 fsa-liaison@0 nisc@0", 0, NULL },
	{ "an agency's warning still needs the recipient's agreement", "ipa",
	    "early_warning", "bank-b", 0, 0, NULL, ERR(NOT_PERMITTED),
	    "bank-b has no handling agreement" },
	{ "an agency without an agreement does not warn", "jpcert",
	    "early_warning", "bank-a", 0, 0, NULL, ERR(NOT_PERMITTED),
	    "no agreement with NISC on record" },
	{ "an agency's TLP:RED warning: NISC still gets a copy", "ipa",
	    "early_warning", "bank-a", 0, TLP(RED), "bank-a@0 nisc@0", 0,
	    NULL },
	{ "an agency's advisory feeds NISC", "jpcert", "advisory", "finance",
	    0, 0, "nisc@0", 0, NULL },
	{ "through the Council: to the other CEPTOARs that take part",
	    "banks-sec", "advisory", "finance telecom", 0, TLP(AMBER),
	    "council@0 tel-sec@1", 0, NULL },
	{ "the Council sends to the CEPTOARs that take part", "council",
	    "advisory", "finance telecom", 0, 0, "banks-sec@0 tel-sec@0", 0,
	    NULL },
	{ "a CEPTOAR outside the Council does not share through it",
	    "sec-sec", "advisory", "telecom", 0, 0, NULL, ERR(NOT_PERMITTED),
	    "does not take part in the CEPTOAR Council" },
	{ "through the Council, nobody else of the sectors named", "tel-sec",
	    "advisory", "telecom", 0, 0, NULL, ERR(NO_RECIPIENTS),
	    "no other CEPTOAR" },
	{ "TLP:AMBER+STRICT through the Council refused", "banks-sec",
	    "advisory", "telecom", 0, TLP(AMBER_STRICT), NULL,
	    ERR(TLP_REFUSED), "CEPTOAR Council" },
};

/* Split a space-separated list into v (at most max entries). */
static size_t
split(const char *s, char *buf, size_t len, char **v, size_t max)
{
	size_t	n = 0;
	char	*p, *save = NULL;

	if (s == NULL)
		return 0;
	snprintf(buf, len, "%s", s);
	for (p = strtok_r(buf, " ", &save); p != NULL && n < max;
	    p = strtok_r(NULL, " ", &save))
		v[n++] = p;
	return n;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The plan as sorted "org@hop[a][!]" tokens. */
static void
describe(const struct route_result *rr, char *out, size_t len)
{
	char	tok[64][96], *names[64];
	size_t	i;

	out[0] = '\0';
	for (i = 0; i < rr->n && i < 64; i++) {
		snprintf(tok[i], sizeof(tok[i]), "%s@%u%s%s", rr->v[i].org,
		    rr->v[i].hop, rr->v[i].form ==
		    CEPTOAR__FORM__FORM_ANONYMISED ? "a" : "",
		    rr->v[i].review ? "!" : "");
		names[i] = tok[i];
	}
	qsort(names, i, sizeof(*names), cmp_str);
	for (size_t k = 0; k < i; k++) {
		strncat(out, names[k], len - strlen(out) - 1);
		if (k + 1 < i)
			strncat(out, " ", len - strlen(out) - 1);
	}
}

/* Run one case and compare the plan. */
static void
run_case(const struct directory *dir, const struct route_case *c)
{
	Ceptoar__Message	m = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Report		r = CEPTOAR__REPORT__INIT;
	Ceptoar__Advisory	a = CEPTOAR__ADVISORY__INIT;
	Ceptoar__EarlyWarning	w = CEPTOAR__EARLY_WARNING__INIT;
	Ceptoar__SharingRange	sr = CEPTOAR__SHARING_RANGE__INIT;
	struct route_result	rr;
	Ceptoar__ErrorCode	code = 0;
	const struct dir_org	*sender = directory_org(dir, c->sender);
	char			*cause = NULL, tbuf[256], got[2048];
	char			*targets[16];
	size_t			 nt, i;
	int			 rc;

	memset(&rr, 0, sizeof(rr));
	fprintf(stderr, "case: %s\n", c->name);
	CHECK(sender != NULL);
	if (sender == NULL)
		return;
	nt = split(c->targets, tbuf, sizeof(tbuf), targets, 16);
	m.uuid = "0f8c1d52-3a5e-4b7a-9c1e-2d3f4a5b6c7d";
	m.has_tlp = 1;
	m.tlp = c->tlp ? c->tlp : TLP(GREEN);
	if (strcmp(c->kind, "report") == 0 ||
	    strcmp(c->kind, "voluntary") == 0) {
		m.content_case = CEPTOAR__MESSAGE__CONTENT_REPORT;
		m.report = &r;
		r.sector = nt ? targets[0] : NULL;
		r.has_legally_mandated = 1;
		r.legally_mandated = strcmp(c->kind, "report") == 0;
		if (c->scope) {
			sr.has_scope = 1;
			sr.scope = c->scope;
			r.sharing = &sr;
		}
	} else if (strcmp(c->kind, "advisory") == 0) {
		m.content_case = CEPTOAR__MESSAGE__CONTENT_ADVISORY;
		m.advisory = &a;
		a.sectors = targets;
		a.n_sectors = nt;
	} else {
		m.content_case = CEPTOAR__MESSAGE__CONTENT_EARLY_WARNING;
		m.early_warning = &w;
		w.recipients = targets;
		w.n_recipients = nt;
	}
	rc = route_message(&m, sender, dir, &rr, &code, &cause);
	if (c->expect == NULL) {
		CHECK(rc == -1);
		CHECK((int)code == c->code);
		CHECK(rr.n == 0);
		CHECK_CONTAINS(cause, c->words);
	} else {
		CHECK(rc == 0);
		CHECK(cause == NULL);
		for (i = 0; i < rr.n; i++) {
			CHECK(rr.v[i].reason[0] != '\0');
			CHECK(strcmp(rr.v[i].org, c->sender) != 0);
		}
		describe(&rr, got, sizeof(got));
		CHECK_STR(got, c->expect);
	}
	free(cause);
	route_result_free(&rr);
}

/* Route an empty report from bank-a, legally mandated or voluntary. */
static int
route_bank_report(const struct directory *dir, bool mandated,
    struct route_result *rr)
{
	Ceptoar__Message	m = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Report		r = CEPTOAR__REPORT__INIT;
	Ceptoar__ErrorCode	code;
	char			*cause = NULL;
	int			 rc;

	memset(rr, 0, sizeof(*rr));
	m.content_case = CEPTOAR__MESSAGE__CONTENT_REPORT;
	m.report = &r;
	r.has_legally_mandated = 1;
	r.legally_mandated = mandated;
	rc = route_message(&m, directory_org(dir, "bank-a"), dir, rr, &code,
	    &cause);
	free(cause);
	return rc;
}

/* Reasons say why: the liaison's names the sector and ministry. */
static void
test_reasons(const struct directory *dir)
{
	struct route_result	rr;
	size_t			i;

	CHECK(route_bank_report(dir, true, &rr) == 0);
	for (i = 0; i < rr.n; i++) {
		if (strcmp(rr.v[i].org, "fsa-liaison") == 0)
			CHECK_CONTAINS(rr.v[i].reason,
			    "liaison of sector finance (fsa)");
		else
			CHECK_CONTAINS(rr.v[i].reason, "NISC");
	}
	route_result_free(&rr);
	/* A voluntary report names its CEPTOAR, and only its members count. */
	CHECK(route_bank_report(dir, false, &rr) == 0);
	CHECK(rr.ceptoar != NULL && strcmp(rr.ceptoar->id, "banks") == 0);
	CHECK(rr.anonymity_set == 2);
	route_result_free(&rr);
}

/*
 * A plan cut down by route_restrict still names each organisation once
 * when it is extended: the entries moved, so the table of who is in the
 * plan must not point at their old places.
 */
static void
test_restrict(const struct directory *dir)
{
	struct route_result	rr;
	const char		*keep[1];
	size_t			 i, n;

	CHECK(route_bank_report(dir, true, &rr) == 0);
	CHECK(rr.n >= 2);
	if (rr.n < 2) {
		route_result_free(&rr);
		return;
	}
	/* Keep the last entry only: it moves to the front. */
	keep[0] = rr.v[rr.n - 1].org;
	route_restrict(&rr, keep, 1);
	CHECK(rr.n == 1);
	CHECK(route_extend(&rr, dir, keep[0], 0, CEPTOAR__FORM__FORM_ORIGINAL,
	    NULL) == 0);
	CHECK(rr.n == 1);
	CHECK(route_extend(&rr, dir, "bank-b", 0, CEPTOAR__FORM__FORM_ORIGINAL,
	    NULL) == 0);
	CHECK(route_extend(&rr, dir, "bank-b", 0, CEPTOAR__FORM__FORM_ORIGINAL,
	    NULL) == 0);
	for (i = 0, n = 0; i < rr.n; i++)
		n += strcmp(rr.v[i].org, "bank-b") == 0;
	CHECK(rr.n == 2 && n == 1);
	route_result_free(&rr);
}

/* Attribution consent decides the form above the secretariat. */
static void
test_consent(const struct directory *dir)
{
	Ceptoar__Report		r = CEPTOAR__REPORT__INIT;
	const struct dir_org	*a = directory_org(dir, "bank-a");
	const struct dir_org	*liaison = directory_org(dir, "fsa-liaison");
	const struct dir_org	*peer = directory_org(dir, "bank-b");
	const int		 orig = CEPTOAR__FORM__FORM_ORIGINAL;
	const int		 anon = CEPTOAR__FORM__FORM_ANONYMISED;

	r.has_legally_mandated = 1;
	r.legally_mandated = 0;
	CHECK(route_form_for(&r, a, liaison) == anon);	/* default: nobody */
	CHECK(route_form_for(&r, a, a) == orig);
	r.has_attribution = 1;
	r.attribution = CEPTOAR__ATTRIBUTION__ATTRIBUTION_GOVERNMENT;
	CHECK(route_form_for(&r, a, liaison) == orig);
	CHECK(route_form_for(&r, a, peer) == anon);
	r.attribution = CEPTOAR__ATTRIBUTION__ATTRIBUTION_EVERYONE;
	CHECK(route_form_for(&r, a, peer) == orig);
	r.has_attribution = 0;
	r.legally_mandated = 1;			/* default: government */
	CHECK(route_form_for(&r, a, liaison) == orig);
	CHECK(route_form_for(&r, a, peer) == anon);
}

/* Thresholds are inclusive, and every figure a threshold names counts. */
static void
test_thresholds(const struct directory *dir)
{
	Ceptoar__Report		r = CEPTOAR__REPORT__INIT;
	Ceptoar__Impact		im = CEPTOAR__IMPACT__INIT;
	const struct dir_sector	*tel = directory_sector(dir, "telecom");
	char			out[4][160];

	r.impact = &im;
	im.has_users_affected = im.has_duration_minutes = 1;
	im.users_affected = 30000;
	im.duration_minutes = 120;
	CHECK(route_threshold_flags(&r, tel, out, 4) == 1);
	CHECK_CONTAINS(out[0], "threshold reached");
	im.users_affected = 29999;
	CHECK(route_threshold_flags(&r, tel, out, 4) == 0);
	im.users_affected = 30000;
	im.duration_minutes = 119;
	CHECK(route_threshold_flags(&r, tel, out, 4) == 0);
	im.duration_minutes = 121;
	CHECK(route_threshold_flags(&r, tel, out, 4) == 1);
	im.has_duration_minutes = 0;	/* a figure not given is not reached */
	CHECK(route_threshold_flags(&r, tel, out, 4) == 0);
	CHECK(route_threshold_flags(&r, directory_sector(dir, "finance"), out,
	    4) == 0);
}

/* Each sample threshold, on both sides of each boundary. */
static void
test_sample_thresholds(void)
{
	struct directory	*d;
	Ceptoar__Report		 r = CEPTOAR__REPORT__INIT;
	Ceptoar__Impact		 im = CEPTOAR__IMPACT__INIT;
	const struct dir_sector	*elec, *gas, *tel;
	char			 out[4][160], *cause = NULL, path[512];
	const char		*src = getenv("CEPTOAR_SRCDIR");

	snprintf(path, sizeof(path), "%s/config/directory.yaml",
	    src ? src : "..");
	if ((d = directory_load(path, &cause)) == NULL) {
		CHECK(!"sample directory loads");
		free(cause);
		return;
	}
	elec = directory_sector(d, "electricity");
	gas = directory_sector(d, "gas");
	tel = directory_sector(d, "info-comm");
	r.impact = &im;
	/* Electricity: 100,000 kW for 10 minutes. */
	im.has_kw_lost = im.has_duration_minutes = 1;
	im.kw_lost = 100000;
	im.duration_minutes = 10;
	CHECK(route_threshold_flags(&r, elec, out, 4) == 1);
	CHECK_CONTAINS(out[0], "100,000 kW");
	im.kw_lost = 99999;
	CHECK(route_threshold_flags(&r, elec, out, 4) == 0);
	im.kw_lost = 100000;
	im.duration_minutes = 9;
	CHECK(route_threshold_flags(&r, elec, out, 4) == 0);
	/* Gas: 30 households. */
	im.has_kw_lost = im.has_duration_minutes = 0;
	im.has_households = 1;
	im.households = 30;
	CHECK(route_threshold_flags(&r, gas, out, 4) == 1);
	im.households = 29;
	CHECK(route_threshold_flags(&r, gas, out, 4) == 0);
	/* Telecom: 30,000 users for 2 hours. */
	im.has_households = 0;
	im.has_users_affected = im.has_duration_minutes = 1;
	im.users_affected = 30000;
	im.duration_minutes = 120;
	CHECK(route_threshold_flags(&r, tel, out, 4) == 1);
	im.duration_minutes = 119;
	CHECK(route_threshold_flags(&r, tel, out, 4) == 0);
	im.duration_minutes = 120;
	im.users_affected = 29999;
	CHECK(route_threshold_flags(&r, tel, out, 4) == 0);
	/* A sector without thresholds flags nothing. */
	im.users_affected = 10000000;
	CHECK(route_threshold_flags(&r, directory_sector(d, "finance"), out,
	    4) == 0);
	directory_free(d);
}

/*
 * The share matrix.  The chain: a voluntary report from bank-a (finance,
 * CEPTOAR banks) with no attribution consent.  Holders: its secretariat
 * (original form), the liaison and NISC (anonymised forms).
 */
static const char *const matrix_orgs[] = {
	"nisc", "fsa-liaison", "mic-liaison", "banks-sec", "sec-sec",
	"tel-sec", "bank-a", "bank-b", "broker-a", "bank-lone", "tel-a",
	"jpcert",
};
static const char *const matrix_holders[] = {
	"banks-sec", "fsa-liaison", "nisc"
};
static const int matrix_tlps[] = {
	TLP(CLEAR), TLP(GREEN), TLP(AMBER), TLP(AMBER_STRICT), TLP(RED)
};
static const int matrix_scopes[] = {
	SC(NISC_ONLY), SC(LIAISON_AND_NISC), SC(SECTOR_CEPTOAR),
	SC(NAMED_SECTORS), SC(NAMED_ORGANISATIONS)
};

/* Whether s is one of the space-separated words of list. */
static bool
in_list(const char *list, const char *s)
{
	char	buf[256], *v[32];
	size_t	n, i;

	n = split(list, buf, sizeof(buf), v, 32);
	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* TLP 2.0, restated: who the holder may pass a label to. */
static bool
oracle_tlp(int tlp, const char *holder, const char *to)
{
	if (strcmp(holder, to) == 0)
		return true;
	switch (tlp) {
	case TLP(CLEAR):
	case TLP(GREEN):
		return true;
	case TLP(AMBER):
		/* The organisation and its clients. */
		if (strcmp(holder, "nisc") == 0)
			return true;
		if (strcmp(holder, "fsa-liaison") == 0)
			return in_list("bank-a bank-b broker-a bank-lone "
			    "banks-sec sec-sec fsa-liaison", to);
		if (strcmp(holder, "banks-sec") == 0)
			return in_list("bank-a bank-b", to);
		return false;
	default:
		return false;
	}
}

/*
 * The sharing range, restated, for bank-a's report.  To a holder of the
 * anonymised form (blind) the reporter is a member of banks like bank-b:
 * no answer may tell it which member reported.
 */
static bool
oracle_range(int scope, const char *to, bool blind)
{
	if (blind && strcmp(to, "bank-a") == 0)
		to = "bank-b";
	if (in_list("bank-a nisc banks-sec", to))
		return true;
	if (scope == SC(NISC_ONLY))
		return false;
	if (strcmp(to, "fsa-liaison") == 0)
		return true;
	switch (scope) {
	case SC(SECTOR_CEPTOAR):
		return in_list("bank-b", to);
	case SC(NAMED_SECTORS):		/* named: telecom */
		return in_list("bank-b tel-a tel-sec mic-liaison", to);
	case SC(NAMED_ORGANISATIONS):	/* named: broker-a */
		return in_list("broker-a", to);
	default:
		return false;
	}
}

/*
 * Narrowing a range on forward: a named list must be a subset of the
 * reporter's; for a holder of the anonymised form the reporter is not in
 * it (the form does not list it), whether or not the reporter named
 * itself.
 */
static void
test_narrower(void)
{
	Ceptoar__SharingRange	have = CEPTOAR__SHARING_RANGE__INIT;
	Ceptoar__SharingRange	want = CEPTOAR__SHARING_RANGE__INIT;
	char			*named[] = { "bank-a", "broker-a" };
	char			*a[] = { "bank-a" }, *b[] = { "broker-a" };
	char			*c[] = { "bank-b" };

	have.has_scope = want.has_scope = 1;
	have.scope = want.scope = SC(NAMED_ORGANISATIONS);
	have.organisations = named;
	have.n_organisations = 2;
	want.n_organisations = 1;
	want.organisations = b;
	CHECK(route_range_narrower(&want, &have, "bank-a", false));
	CHECK(route_range_narrower(&want, &have, "bank-a", true));
	want.organisations = a;
	CHECK(route_range_narrower(&want, &have, "bank-a", false));
	/* Blind: the reporter is refused like bank-b, which is not named. */
	CHECK(!route_range_narrower(&want, &have, "bank-a", true));
	want.organisations = c;
	CHECK(!route_range_narrower(&want, &have, "bank-a", true));
	want.scope = SC(NISC_ONLY);
	CHECK(route_range_narrower(&want, &have, "bank-a", true));
	want.scope = SC(NAMED_SECTORS);
	CHECK(!route_range_narrower(&want, &have, "bank-a", true));
}

/*
 * Which asked scope (row) is no wider than a held one (column), in
 * matrix_scopes order, restated from DOMAIN.md: NISC only < the liaison
 * and NISC < the sector's CEPTOAR < named sectors (which include the
 * reporter's own); named organisations add to the liaison and NISC and
 * compare with nothing else.  The diagonal holds for the fixed scopes;
 * named lists compare by inclusion (oracle_named).
 */
static const bool oracle_narrower[5][5] = {
	/* held:	nisc   liaison sector named-s named-o */
	/* nisc */	{ true,  true,  true,  true,  true  },
	/* liaison */	{ false, true,  true,  true,  true  },
	/* sector */	{ false, false, true,  true,  false },
	/* named-s */	{ false, false, false, true,  false },
	/* named-o */	{ false, false, false, false, true  },
};

/*
 * Whether a named list of variant v is within the held one: sectors
 * {telecom} held, asked {telecom}, {telecom energy}, {telecom};
 * organisations {bank-a broker-a} held, asked {broker-a},
 * {broker-a bank-b}, {bank-a} (the reporter, unknown to a blind holder).
 */
static bool
oracle_named(int scope, size_t v, bool blind)
{
	if (scope == SC(NAMED_SECTORS))
		return v != 1;
	return v == 0 || (v == 2 && !blind);
}

/*
 * Tighten-only on forward, over every holder (and so form) x held label x
 * asked label x held range x asked range x kind: the label and range a
 * forward carries, or the refusal that names the field.
 */
static void
test_relabel(void)
{
	Ceptoar__SharingRange		 held = CEPTOAR__SHARING_RANGE__INIT;
	Ceptoar__SharingRange		 want = CEPTOAR__SHARING_RANGE__INIT;
	const Ceptoar__SharingRange	*range;
	static char			*hs[] = { "telecom" };
	static char			*ho[] = { "bank-a", "broker-a" };
	static char			*ws[3][2] = { { "telecom" },
					    { "telecom", "energy" },
					    { "telecom" } };
	static char			*wo[3][2] = { { "broker-a" },
					    { "broker-a", "bank-b" },
					    { "bank-a" } };
	static const size_t		 wn[3] = { 1, 2, 1 };
	struct route_relabel		 in;
	struct route_refusal		 why;
	size_t				 h, ht, at, hk, ak, v, r, ncases = 0;
	size_t				 nrefused = 0;
	bool				 want_tlp, want_range, blind;
	int				 rc, tlp, hscope, ascope;

	held.sectors = hs;
	held.n_sectors = 1;
	held.organisations = ho;
	held.n_organisations = 2;
	for (h = 0; h < 3; h++)
	for (ht = 0; ht < 5; ht++)
	for (at = 0; at < 6; at++)		/* 5: no label asked */
	for (hk = 0; hk < 6; hk++)		/* 5: no held range */
	for (ak = 0; ak < 7; ak++)		/* 5: no scope; 6: no range */
	for (v = 0; v < 3; v++)
	for (r = 0; r < 2; r++) {
		blind = h > 0;
		memset(&in, 0, sizeof(in));
		in.held_tlp = matrix_tlps[ht];
		in.has_tlp = at < 5;
		in.tlp = at < 5 ? matrix_tlps[at] : 0;
		in.is_report = r == 1;
		held.has_scope = hk < 5;
		held.scope = hk < 5 ? matrix_scopes[hk] : 0;
		in.held_range = hk < 5 ? &held : NULL;
		want.has_scope = ak < 5;
		want.scope = ak < 5 ? matrix_scopes[ak] : 0;
		want.sectors = ws[v];
		want.n_sectors = wn[v];
		want.organisations = wo[v];
		want.n_organisations = wn[v];
		in.sharing = ak < 6 ? &want : NULL;
		in.originator = "bank-a";
		in.blind = blind;
		(void)matrix_holders[h];
		rc = route_relabel(&in, &tlp, &range, &why);
		/* An absent label is RED, an absent scope the liaison's. */
		hscope = hk < 5 ? (int)hk : 1;
		ascope = ak < 5 ? (int)ak : 1;
		want_tlp = at == 5 || at >= ht;
		want_range = ak == 6 || (in.is_report &&
		    oracle_narrower[ascope][hscope] && (ascope != hscope ||
		    ascope < 3 || oracle_named(matrix_scopes[ascope], v,
		    blind)));
		ncases++;
		if (want_tlp && want_range) {
			CHECK(rc == 0);
			CHECK(tlp == (at < 5 ? matrix_tlps[at] :
			    matrix_tlps[ht]));
			CHECK(range == (ak < 6 ? &want : in.is_report ?
			    in.held_range : NULL));
		} else {
			nrefused++;
			CHECK(rc == -1);
			CHECK((int)why.code == (want_tlp ? ERR(RANGE_REFUSED) :
			    ERR(TLP_REFUSED)));
			CHECK(why.field != NULL && strcmp(why.field, want_tlp ?
			    "forward.sharing" : "forward.tlp") == 0);
			CHECK_CONTAINS(why.reason, want_tlp ? "no wider than "
			    "the reporter's range" : "never loosen it");
		}
		if (check_failures > 0 && rc != (want_tlp && want_range ?
		    0 : -1)) {
			fprintf(stderr, "  relabel: holder=%s tlp %zu->%zu "
			    "scope %zu->%zu v=%zu report=%zu: rc=%d (%s)\n",
			    matrix_holders[h], ht, at, hk, ak, v, r, rc,
			    rc == -1 ? why.reason : "");
			return;
		}
	}
	fprintf(stderr, "relabel matrix: %zu cases, %zu refused\n", ncases,
	    nrefused);
	CHECK(ncases == 3 * 5 * 6 * 6 * 7 * 3 * 2);
}

/*
 * The other questions handlers used to answer themselves: who may
 * answer a consent, whether a plan needs the anonymisation key, and when
 * a small CEPTOAR makes anonymity thin.
 */
static void
test_gates(const struct directory *dir)
{
	static const char *const orgs[] = { "bank-a", "bank-b", "banks-sec",
	    "fsa-liaison", "nisc" };
	struct route_refusal	 why;
	struct route_result	 plan;
	struct route_entry	 e[2];
	char			 buf[300];
	size_t			 i, j;

	for (i = 0; i < 5; i++)
		for (j = 0; j < 5; j++) {
			CHECK(route_consent(orgs[i], orgs[j], &why) ==
			    (i == j ? 0 : -1));
			if (i != j) {
				CHECK((int)why.code == ERR(NOT_PERMITTED));
				CHECK(why.field != NULL &&
				    strcmp(why.field, "consent_answer") == 0);
				CHECK_CONTAINS(why.reason, "only the reporter");
			}
		}
	memset(&plan, 0, sizeof(plan));
	memset(e, 0, sizeof(e));
	e[0].org = "nisc";
	e[0].form = CEPTOAR__FORM__FORM_ORIGINAL;
	e[1].org = "fsa-liaison";
	e[1].form = CEPTOAR__FORM__FORM_ANONYMISED;
	plan.v = e;
	plan.n = 1;
	plan.ceptoar = directory_ceptoar(dir, "banks");
	plan.anonymity_set = 2;
	/* Original forms only: no key needed, no warning. */
	CHECK(route_anon_permitted(&plan, false, &why) == 0);
	CHECK(route_anon_permitted(&plan, true, &why) == 0);
	CHECK(!route_anon_set_warning(&plan, 5, buf, sizeof(buf)));
	plan.n = 2;
	CHECK(route_anon_permitted(&plan, true, &why) == 0);
	CHECK(route_anon_permitted(&plan, false, &why) == -1);
	CHECK((int)why.code == ERR(NOT_PERMITTED) && why.field == NULL);
	CHECK_CONTAINS(why.reason, "no anon_key");
	CHECK(route_anon_set_warning(&plan, 3, buf, sizeof(buf)));
	CHECK_CONTAINS(buf, "has 2 members, fewer than 3");
	CHECK(!route_anon_set_warning(&plan, 2, buf, sizeof(buf)));
	plan.anonymity_set = 1;
	CHECK(route_anon_set_warning(&plan, 2, buf, sizeof(buf)));
	CHECK_CONTAINS(buf, "has 1 member, fewer");
	plan.ceptoar = NULL;
	CHECK(!route_anon_set_warning(&plan, 5, buf, sizeof(buf)));
}

static void
test_share_matrix(const struct directory *dir)
{
	Ceptoar__Message	m = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Report		r = CEPTOAR__REPORT__INIT;
	Ceptoar__SharingRange	sr = CEPTOAR__SHARING_RANGE__INIT;
	char			*secs[] = { "telecom" }, *orgs[] = { "broker-a" };
	struct route_fwd	f;
	struct route_result	rr;
	Ceptoar__ErrorCode	code;
	char			*cause, *to[1];
	size_t			 h, o, t, k, ncases = 0, received = 0;
	bool			 want_tlp, want_range;
	int			 rc, want_form;

	m.uuid = "0f8c1d52-3a5e-4b7a-9c1e-2d3f4a5b6c7d";
	m.has_tlp = 1;
	m.content_case = CEPTOAR__MESSAGE__CONTENT_REPORT;
	m.report = &r;
	r.has_legally_mandated = 1;
	r.legally_mandated = 0;
	r.sharing = &sr;
	sr.has_scope = 1;
	sr.sectors = secs;
	sr.n_sectors = 1;
	sr.organisations = orgs;
	sr.n_organisations = 1;
	for (h = 0; h < 3; h++)
	for (o = 0; o < sizeof(matrix_orgs) / sizeof(*matrix_orgs); o++)
	for (t = 0; t < 5; t++)
	for (k = 0; k < 5; k++) {
		memset(&f, 0, sizeof(f));
		memset(&rr, 0, sizeof(rr));
		cause = NULL;
		sr.scope = matrix_scopes[k];
		m.tlp = matrix_tlps[t];
		to[0] = (char *)matrix_orgs[o];
		f.original = &m;
		f.originator = directory_org(dir, "bank-a");
		f.holder = directory_org(dir, matrix_holders[h]);
		f.holder_hop = h;
		f.holder_form = h == 0 ? CEPTOAR__FORM__FORM_ORIGINAL :
		    CEPTOAR__FORM__FORM_ANONYMISED;
		f.tlp = matrix_tlps[t];
		f.range = &sr;
		f.recipients = to;
		f.nrecipients = 1;
		rc = route_forward(&f, dir, &rr, &code, &cause);
		want_tlp = oracle_tlp(matrix_tlps[t], matrix_holders[h],
		    matrix_orgs[o]);
		want_range = oracle_range(matrix_scopes[k], matrix_orgs[o],
		    h > 0);
		ncases++;
		if (want_tlp && want_range) {
			want_form = strcmp(matrix_orgs[o], "bank-a") == 0 &&
			    h == 0 ? CEPTOAR__FORM__FORM_ORIGINAL :
			    CEPTOAR__FORM__FORM_ANONYMISED;
			CHECK(rc == 0);
			/* Sharing with oneself adds nobody. */
			if (strcmp(matrix_orgs[o], matrix_holders[h]) == 0)
				CHECK(rr.n == 0);
			else {
				CHECK(rr.n == 1 && rr.v[0].form == want_form &&
				    rr.v[0].hop == h + 1);
				received++;
			}
		} else {
			CHECK(rc == -1 && rr.n == 0);
			CHECK((int)code == (want_tlp ? ERR(RANGE_REFUSED) :
			    ERR(TLP_REFUSED)));
			CHECK_CONTAINS(cause, matrix_orgs[o]);
		}
		if (check_failures > 0 && rc != (want_tlp && want_range ? 0 : -1))
			fprintf(stderr, "  matrix: %s -> %s tlp=%d scope=%d: "
			    "rc=%d want tlp=%d range=%d (%s)\n",
			    matrix_holders[h], matrix_orgs[o], matrix_tlps[t],
			    matrix_scopes[k], rc, want_tlp, want_range,
			    cause ? cause : "");
		free(cause);
		route_result_free(&rr);
	}
	fprintf(stderr, "share matrix: %zu cases, %zu received\n", ncases,
	    received);
	CHECK(ncases == 900);
}

/*
 * Whether org s may send an advisory about sector at label tlp, from
 * DOMAIN.md: NISC to sectors; a related agency to NISC (any label); a
 * CEPTOAR that takes part in the Council, or the Council, to the other
 * CEPTOARs of the sector that take part (a label that allows onward
 * sharing).
 */
static bool
oracle_advisory(const struct directory *dir, const struct dir_org *s,
    const char *sector, int tlp)
{
	const struct dir_ceptoar	*c;
	bool				 own_in = false, other = false;
	size_t				 i;

	if (s->roles & ROLE_NISC)
		return tlp <= TLP(AMBER);
	if (s->roles & (ROLE_CEPTOAR | ROLE_COUNCIL)) {
		for (i = 0; i < dir->nceptoars; i++) {
			c = &dir->ceptoars[i];
			if (strcmp(c->secretariat, s->id) == 0) {
				own_in = own_in || c->council;
				continue;
			}
			if (c->council && strcmp(c->sector, sector) == 0)
				other = true;
		}
		return tlp <= TLP(AMBER) && other &&
		    (own_in || (s->roles & ROLE_COUNCIL));
	}
	return (s->roles & ROLE_AGENCY) != 0;
}

/* Who may send what: every organisation x kind x label. */
static void
test_sender_matrix(const struct directory *dir)
{
	static const char *const kinds[] = { "report", "voluntary",
	    "advisory", "early_warning" };
	struct route_case	c;
	size_t			o, k, t, ncases = 0;
	Ceptoar__Message	m = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Report		r = CEPTOAR__REPORT__INIT;
	Ceptoar__Advisory	a = CEPTOAR__ADVISORY__INIT;
	Ceptoar__EarlyWarning	w = CEPTOAR__EARLY_WARNING__INIT;
	char			*fin[] = { "finance" }, *rcpt[] = { "bank-a" };
	struct route_result	rr;
	Ceptoar__ErrorCode	code;
	char			*cause;
	const struct dir_org	*s;
	bool			 want;
	int			 rc;

	(void)c;
	a.sectors = fin;
	a.n_sectors = 1;
	w.recipients = rcpt;
	w.n_recipients = 1;
	r.has_legally_mandated = 1;
	for (o = 0; o < sizeof(matrix_orgs) / sizeof(*matrix_orgs); o++)
	for (k = 0; k < 4; k++)
	for (t = 0; t < 5; t++) {
		s = directory_org(dir, matrix_orgs[o]);
		memset(&rr, 0, sizeof(rr));
		cause = NULL;
		m.has_tlp = 1;
		m.tlp = matrix_tlps[t];
		if (k < 2) {
			m.content_case = CEPTOAR__MESSAGE__CONTENT_REPORT;
			m.report = &r;
			r.legally_mandated = k == 0;
			/* Operators report; voluntary needs a CEPTOAR. */
			want = (s->roles & ROLE_OPERATOR) && (k == 0 ||
			    s->nceptoars > 0);
		} else if (k == 2) {
			m.content_case = CEPTOAR__MESSAGE__CONTENT_ADVISORY;
			m.advisory = &a;
			want = oracle_advisory(dir, s, "finance",
			    matrix_tlps[t]);
		} else {
			m.content_case =
			    CEPTOAR__MESSAGE__CONTENT_EARLY_WARNING;
			m.early_warning = &w;
			want = (s->roles & ROLE_NISC) != 0 ||
			    ((s->roles & ROLE_AGENCY) &&
			    s->handling_agreement);
		}
		rc = route_message(&m, s, dir, &rr, &code, &cause);
		CHECK((rc == 0) == want);
		if (rc == 0)
			CHECK(rr.n > 0);
		else
			CHECK(cause != NULL && rr.n == 0);
		if ((rc == 0) != want)
			fprintf(stderr, "  sender matrix: %s %s tlp=%d: rc=%d "
			    "(%s)\n", matrix_orgs[o], kinds[k], matrix_tlps[t],
			    rc, cause ? cause : "");
		ncases++;
		free(cause);
		route_result_free(&rr);
	}
	fprintf(stderr, "sender matrix: %zu cases\n", ncases);
	CHECK(ncases == 240);
}

/* The next hop of a path: only its holder may release it. */
static void
test_next_hop(const struct directory *dir)
{
	Ceptoar__Message	m = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Report		r = CEPTOAR__REPORT__INIT;
	struct route_fwd	f;
	struct route_result	rr;
	Ceptoar__ErrorCode	code;
	char			*cause = NULL, got[512];

	m.uuid = "0f8c1d52-3a5e-4b7a-9c1e-2d3f4a5b6c7d";
	m.has_tlp = 1;
	m.tlp = TLP(AMBER_STRICT);	/* the path is the reporter's own */
	m.content_case = CEPTOAR__MESSAGE__CONTENT_REPORT;
	m.report = &r;
	memset(&f, 0, sizeof(f));
	memset(&rr, 0, sizeof(rr));
	f.original = &m;
	f.originator = directory_org(dir, "bank-a");
	f.holder = directory_org(dir, "banks-sec");
	f.holder_hop = 0;
	f.holder_form = CEPTOAR__FORM__FORM_ORIGINAL;
	f.tlp = m.tlp;
	CHECK(route_forward(&f, dir, &rr, &code, &cause) == 0);
	describe(&rr, got, sizeof(got));
	/* The released hop is no longer waiting; the one after is automatic. */
	CHECK_STR(got, "fsa-liaison@1a nisc@2a");
	route_result_free(&rr);
	f.holder = directory_org(dir, "bank-b");
	CHECK(route_forward(&f, dir, &rr, &code, &cause) == -1);
	CHECK(code == ERR(NOT_HOLDER));
	CHECK_CONTAINS(cause, "does not hold hop 0");
	free(cause);
	route_result_free(&rr);
}

/* Route a follow-up of kind (report, voluntary) from sender along rows. */
static int
chain_case(const struct directory *dir, const char *sender, bool mandated,
    int scope, const Ceptoar__Message *first,
    const struct route_chain_row *rows, size_t nrows, char *got, size_t len,
    Ceptoar__ErrorCode *code, char **cause)
{
	Ceptoar__Message	m = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Report		r = CEPTOAR__REPORT__INIT;
	Ceptoar__SharingRange	sr = CEPTOAR__SHARING_RANGE__INIT;
	struct route_result	fresh, out;
	const struct dir_org	*o = directory_org(dir, sender);
	int			rc;

	memset(&fresh, 0, sizeof(fresh));
	memset(&out, 0, sizeof(out));
	m.uuid = "1f8c1d52-3a5e-4b7a-9c1e-2d3f4a5b6c7d";
	m.content_case = CEPTOAR__MESSAGE__CONTENT_REPORT;
	m.report = &r;
	r.chain_id = "0f8c1d52-3a5e-4b7a-9c1e-2d3f4a5b6c7d";
	r.has_legally_mandated = 1;
	r.legally_mandated = mandated;
	if (scope) {
		sr.has_scope = 1;
		sr.scope = scope;
		r.sharing = &sr;
	}
	got[0] = '\0';
	if ((rc = route_message(&m, o, dir, &fresh, code, cause)) == 0 &&
	    (rc = route_chain(&m, o, first, &fresh, rows, nrows, dir, &out,
	    code, cause)) == 0)
		describe(&out, got, len);
	route_result_free(&fresh);
	route_result_free(&out);
	return rc;
}

/*
 * Follow-ups travel their chain's path: the rows of the first report,
 * never the hops of their own route; refused naming report.chain_id
 * when the chain cannot continue that way.
 */
static void
test_chain(const struct directory *dir)
{
	Ceptoar__Message	first = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Report		fr = CEPTOAR__REPORT__INIT;
	Ceptoar__Consultation	q = CEPTOAR__CONSULTATION__INIT;
	Ceptoar__ErrorCode	code = 0;
	char			got[512], *cause = NULL;
	/* A mandatory report shared with NISC only: NISC at hop 0. */
	const struct route_chain_row nisc_only[] = {
		{ "nisc", 0, CEPTOAR__FORM__FORM_ORIGINAL, NULL, false, false,
		    0, NULL },
	};
	/* A mandatory report, and NISC's share with bank-b. */
	const struct route_chain_row shared[] = {
		{ "fsa-liaison", 0, CEPTOAR__FORM__FORM_ORIGINAL, NULL, false,
		    false, 0, NULL },
		{ "nisc", 1, CEPTOAR__FORM__FORM_ORIGINAL, "fsa-liaison", false,
		    false, 0, NULL },
		{ "bank-b", 2, CEPTOAR__FORM__FORM_ANONYMISED, "nisc", false,
		    false, 0, NULL },
	};
	/* A voluntary report still held by its secretariat. */
	const struct route_chain_row held[] = {
		{ "banks-sec", 0, CEPTOAR__FORM__FORM_ORIGINAL, NULL, false,
		    true, 0, NULL },
	};

	fprintf(stderr, "case: follow-ups\n");
	first.content_case = CEPTOAR__MESSAGE__CONTENT_REPORT;
	first.report = &fr;
	fr.has_legally_mandated = 1;
	fr.legally_mandated = 1;
	CHECK(chain_case(dir, "bank-a", true, 0, &first, nisc_only, 1, got,
	    sizeof(got), &code, &cause) == 0);
	CHECK_STR(got, "nisc@0");
	CHECK(chain_case(dir, "bank-a", true, 0, &first, shared, 3, got,
	    sizeof(got), &code, &cause) == 0);
	CHECK_STR(got, "bank-b@2a fsa-liaison@0 nisc@1");
	/* Mandatory chain, voluntary update: refused. */
	CHECK(chain_case(dir, "bank-a", false, 0, &first, shared, 3, got,
	    sizeof(got), &code, &cause) == -1);
	CHECK(code == ERR(INVALID_FIELD));
	CHECK_CONTAINS(cause, "report.chain_id");
	CHECK_CONTAINS(cause, "mandatory");
	free(cause);
	cause = NULL;
	/* A holder that still holds the first holds the update with it. */
	fr.legally_mandated = 0;
	CHECK(chain_case(dir, "bank-a", false, 0, &first, held, 1, got,
	    sizeof(got), &code, &cause) == 0);
	CHECK_STR(got, "banks-sec@0 fsa-liaison@1a! nisc@2a");
	/* Nobody left at hop 0 (gone from the directory): refused. */
	{
		const struct route_chain_row gone[] = {
			{ "no-such-org", 0, CEPTOAR__FORM__FORM_ORIGINAL,
			    NULL, false, false, 0, NULL },
			{ "nisc", 1, CEPTOAR__FORM__FORM_ORIGINAL,
			    "no-such-org", false, false, 0, NULL },
		};
		fr.legally_mandated = 1;
		CHECK(chain_case(dir, "bank-a", true, 0, &first, gone, 2, got,
		    sizeof(got), &code, &cause) == -1);
		CHECK(code == ERR(NO_RECIPIENTS));
		CHECK_CONTAINS(cause, "report.chain_id");
		free(cause);
		cause = NULL;
	}
	/* A consultation is not a report chain. */
	first.content_case = CEPTOAR__MESSAGE__CONTENT_CONSULTATION;
	first.consultation = &q;
	CHECK(chain_case(dir, "bank-a", true, 0, &first, nisc_only, 1, got,
	    sizeof(got), &code, &cause) == -1);
	CHECK(code == ERR(INVALID_FIELD));
	CHECK_CONTAINS(cause, "consultation");
	free(cause);
}

/* The entry of rr for org, or NULL. */
static const struct route_entry *
entry_of(const struct route_result *rr, const char *org)
{
	size_t	i;

	for (i = 0; i < rr->n; i++)
		if (strcmp(rr->v[i].org, org) == 0)
			return &rr->v[i];
	return NULL;
}

/*
 * A follow-up relayed along a share takes the tighter of the share's
 * label and range and its own; along the path, and where the share is
 * no tighter, it goes as it is (issue 14, item 3).
 */
static void
test_chain_share_labels(const struct directory *dir)
{
	Ceptoar__Message	first = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Report		fr = CEPTOAR__REPORT__INIT;
	Ceptoar__Message	m = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Report		r = CEPTOAR__REPORT__INIT;
	Ceptoar__SharingRange	own = CEPTOAR__SHARING_RANGE__INIT;
	Ceptoar__SharingRange	narrowed = CEPTOAR__SHARING_RANGE__INIT;
	Ceptoar__SharingRange	orgs = CEPTOAR__SHARING_RANGE__INIT;
	Ceptoar__SharingRange	other = CEPTOAR__SHARING_RANGE__INIT;
	char			*secs[] = { "telecom" };
	char			*named[] = { "bank-a", "bank-b" };
	char			*anon_named[] = { "bank-b" };
	char			*named2[] = { "tel-a" };
	struct route_result	 fresh, out;
	const struct route_entry *e;
	const struct dir_org	*o = directory_org(dir, "bank-a");
	Ceptoar__ErrorCode	 code = 0;
	char			*cause = NULL;
	/* A mandatory report, NISC's shares: bank-b at AMBER, tel-a at GREEN. */
	struct route_chain_row	 rows[] = {
		{ "fsa-liaison", 0, CEPTOAR__FORM__FORM_ORIGINAL, NULL, false,
		    false, TLP(GREEN), NULL },
		{ "nisc", 1, CEPTOAR__FORM__FORM_ORIGINAL, "fsa-liaison", false,
		    false, TLP(GREEN), NULL },
		{ "bank-b", 2, CEPTOAR__FORM__FORM_ANONYMISED, "nisc", false,
		    false, TLP(AMBER), NULL },
		{ "tel-a", 2, CEPTOAR__FORM__FORM_ANONYMISED, "nisc", false,
		    false, TLP(GREEN), NULL },
	};

	fprintf(stderr, "case: follow-ups along shares keep their labels\n");
	first.content_case = CEPTOAR__MESSAGE__CONTENT_REPORT;
	first.report = &fr;
	fr.has_legally_mandated = fr.legally_mandated = 1;
	m.uuid = "1f8c1d52-3a5e-4b7a-9c1e-2d3f4a5b6c7d";
	m.has_tlp = 1;
	m.tlp = TLP(GREEN);
	m.content_case = CEPTOAR__MESSAGE__CONTENT_REPORT;
	m.report = &r;
	r.chain_id = "0f8c1d52-3a5e-4b7a-9c1e-2d3f4a5b6c7d";
	r.has_legally_mandated = r.legally_mandated = 1;
	own.has_scope = 1;
	own.scope = SC(NAMED_SECTORS);
	own.sectors = secs;
	own.n_sectors = 1;
	r.sharing = &own;
	narrowed.has_scope = 1;
	narrowed.scope = SC(SECTOR_CEPTOAR);
	memset(&fresh, 0, sizeof(fresh));
	memset(&out, 0, sizeof(out));
	CHECK(route_message(&m, o, dir, &fresh, &code, &cause) == 0);

	/* GREEN update: bank-b's AMBER share keeps it AMBER, tel-a GREEN. */
	CHECK(route_chain(&m, o, &first, &fresh, rows, 4, dir, &out, &code,
	    &cause) == 0);
	CHECK((e = entry_of(&out, "bank-b")) != NULL && e->tlp == TLP(AMBER));
	CHECK((e = entry_of(&out, "tel-a")) != NULL && e->tlp == 0 &&
	    e->range == NULL);
	CHECK((e = entry_of(&out, "nisc")) != NULL && e->tlp == 0);
	CHECK((e = entry_of(&out, "fsa-liaison")) != NULL && e->tlp == 0);
	route_result_free(&out);

	/* A RED update stays RED everywhere: no entry loosens it. */
	m.tlp = TLP(RED);
	CHECK(route_chain(&m, o, &first, &fresh, rows, 4, dir, &out, &code,
	    &cause) == 0);
	CHECK((e = entry_of(&out, "bank-b")) != NULL && e->tlp == 0);
	CHECK((e = entry_of(&out, "tel-a")) != NULL && e->tlp == 0);
	route_result_free(&out);

	/* A share that narrowed the range: the update takes it, a copy. */
	m.tlp = TLP(GREEN);
	rows[2].range = &narrowed;
	rows[3].range = &own;
	CHECK(route_chain(&m, o, &first, &fresh, rows, 4, dir, &out, &code,
	    &cause) == 0);
	CHECK((e = entry_of(&out, "bank-b")) != NULL && e->range != NULL &&
	    e->range != &narrowed && e->range->scope == SC(SECTOR_CEPTOAR));
	/* The same range as the update's: the update's own stays. */
	CHECK((e = entry_of(&out, "tel-a")) != NULL && e->range == NULL);
	route_result_free(&out);
	/* An update narrower than the share keeps its own. */
	own.scope = SC(NISC_ONLY);
	CHECK(route_chain(&m, o, &first, &fresh, rows, 4, dir, &out, &code,
	    &cause) == 0);
	CHECK((e = entry_of(&out, "bank-b")) != NULL && e->range == NULL);
	route_result_free(&out);
	own.scope = SC(NAMED_SECTORS);
	route_result_free(&fresh);

	/* The tighter of two ranges; of two lists, the default. */
	orgs.has_scope = 1;
	orgs.scope = SC(NAMED_ORGANISATIONS);
	orgs.organisations = named;
	orgs.n_organisations = 2;
	CHECK(route_range_tighter(&narrowed, &own, "bank-a", false) ==
	    &narrowed);
	CHECK(route_range_tighter(&own, &narrowed, "bank-a", false) ==
	    &narrowed);
	CHECK(route_range_tighter(&own, &own, "bank-a", false) == &own);
	CHECK(route_range_tighter(NULL, &own, "bank-a", false) == NULL);
	{
		const Ceptoar__SharingRange *t = route_range_tighter(&orgs,
		    &own, "bank-a", false);
		CHECK(t != &orgs && t != &own && t->has_scope &&
		    t->scope == SC(LIAISON_AND_NISC));
	}

	/* Narrowed on the way, or only the anonymised copy of the same? */
	other = orgs;
	other.organisations = anon_named;
	other.n_organisations = 1;
	CHECK(!route_range_narrowed(&other, &orgs, "bank-a"));
	other.organisations = named2;
	CHECK(!route_range_narrowed(&other, &orgs, "bank-a"));
	CHECK(route_range_narrowed(&narrowed, &own, "bank-a"));
	CHECK(!route_range_narrowed(&own, &own, "bank-a"));
	CHECK(!route_range_narrowed(NULL, &own, "bank-a"));
	CHECK(!route_range_narrowed(&own, &narrowed, "bank-a"));
	free(cause);
}

int
main(void)
{
	struct directory	*dir;
	char			*cause = NULL;
	size_t			 i;

	dir = directory_load("fixtures/route/directory.yaml", &cause);
	if (dir == NULL) {
		fprintf(stderr, "directory: %s\n", cause ? cause : "?");
		return 1;
	}
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		run_case(dir, &cases[i]);
	test_reasons(dir);
	test_consent(dir);
	test_restrict(dir);
	test_thresholds(dir);
	test_sample_thresholds();
	test_share_matrix(dir);
	test_narrower();
	test_relabel();
	test_gates(dir);
	test_sender_matrix(dir);
	test_next_hop(dir);
	test_chain(dir);
	test_chain_share_labels(dir);
	directory_free(dir);
	return CHECK_DONE();
}
