/*
 * The routing policy as a table: sender and message in, the exact set of
 * recipients (or the refusal) out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptoard.h"
#include "check.h"

struct route_case {
	const char	*name;
	const char	*sender;
	const char	*kind;		/* report, advisory, early_warning */
	const char	*targets;	/* sector (report) or list, space separated */
	int		 scope;		/* report sharing scope, 0 = none */
	const char	*expect;	/* recipients, space separated, sorted */
	int		 code;		/* expected refusal, 0 = routed */
	const char	*words;		/* in the refusal or in every reason */
};

static const struct route_case cases[] = {
	{ "report goes to the sector's liaison and NISC", "bank-a", "report",
	    NULL, 0, "fsa-liaison nisc", 0, NULL },
	{ "report naming its own sector", "tel-a", "report", "telecom", 0,
	    "mic-liaison nisc", 0, NULL },
	{ "report shared with NISC only", "bank-a", "report", NULL,
	    CEPTOAR__SHARING_SCOPE__SHARING_NISC_ONLY, "nisc", 0, "NISC only" },
	{ "report for another sector", "bank-a", "report", "telecom", 0, NULL,
	    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED, "not in sector telecom" },
	{ "report for an unknown sector", "bank-a", "report", "mining", 0, NULL,
	    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD, "\"mining\"" },
	{ "liaisons do not submit reports", "fsa-liaison", "report", NULL, 0,
	    NULL, CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED, "not an operator" },
	{ "agencies do not submit reports", "jpcert", "report", NULL, 0, NULL,
	    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED, "only operators" },
	{ "advisory to finance", "nisc", "advisory", "finance", 0,
	    "bank-a bank-b banks-sec broker-a fsa-liaison sec-sec", 0, NULL },
	{ "advisory to two sectors", "nisc", "advisory", "finance telecom", 0,
	    "bank-a bank-b banks-sec broker-a fsa-liaison mic-liaison sec-sec "
	    "tel-a tel-sec", 0, NULL },
	{ "advisory to an unknown sector", "nisc", "advisory", "finance mining",
	    0, NULL, CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
	    "advisory.sectors[1]" },
	{ "operators do not send advisories", "bank-a", "advisory", "finance",
	    0, NULL, CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED, "only NISC" },
	{ "liaisons do not send advisories", "fsa-liaison", "advisory",
	    "finance", 0, NULL, CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
	    "only NISC" },
	{ "early warning with a copy to the liaison", "nisc", "early_warning",
	    "bank-a", 0, "bank-a fsa-liaison", 0, NULL },
	{ "early warning to a CEPTOAR and an operator", "nisc",
	    "early_warning", "banks-sec tel-a", 0,
	    "banks-sec fsa-liaison mic-liaison tel-a", 0, NULL },
	{ "early warning needs a handling agreement", "nisc", "early_warning",
	    "bank-a bank-b", 0, NULL, CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
	    "bank-b has no handling agreement" },
	{ "early warning to an unknown organisation", "nisc", "early_warning",
	    "nobody", 0, NULL, CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
	    "\"nobody\"" },
	{ "early warning to a liaison is refused", "nisc", "early_warning",
	    "fsa-liaison", 0, NULL, CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
	    "neither a CEPTOAR nor an operator" },
	{ "operators do not send early warnings", "bank-a", "early_warning",
	    "tel-a", 0, NULL, CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
	    "only NISC" },
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

/* Run one case and compare the sorted recipient list. */
static void
run_case(const struct directory *dir, const struct route_case *c)
{
	Ceptoar__Message	m = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Report		r = CEPTOAR__REPORT__INIT;
	Ceptoar__Advisory	a = CEPTOAR__ADVISORY__INIT;
	Ceptoar__EarlyWarning	w = CEPTOAR__EARLY_WARNING__INIT;
	Ceptoar__SharingRange	sr = CEPTOAR__SHARING_RANGE__INIT;
	struct route_result	rr = { NULL, 0, 0 };
	Ceptoar__ErrorCode	code = 0;
	const struct dir_org	*sender = directory_org(dir, c->sender);
	char			*cause = NULL, tbuf[256], got[1024] = "";
	char			*targets[16], *names[64];
	size_t			 nt, i;
	int			 rc;

	fprintf(stderr, "case: %s\n", c->name);
	CHECK(sender != NULL);
	if (sender == NULL)
		return;
	nt = split(c->targets, tbuf, sizeof(tbuf), targets, 16);
	m.uuid = "0f8c1d52-3a5e-4b7a-9c1e-2d3f4a5b6c7d";
	m.has_tlp = 1;
	m.tlp = CEPTOAR__TLP__TLP_GREEN;
	if (strcmp(c->kind, "report") == 0) {
		m.content_case = CEPTOAR__MESSAGE__CONTENT_REPORT;
		m.report = &r;
		r.sector = nt ? targets[0] : NULL;
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
		for (i = 0; i < rr.n && i < 64; i++) {
			names[i] = (char *)rr.v[i].org;
			CHECK(rr.v[i].reason[0] != '\0');
			CHECK(strcmp(rr.v[i].org, c->sender) != 0);
			if (c->words != NULL)
				CHECK_CONTAINS(rr.v[i].reason, c->words);
		}
		qsort(names, rr.n, sizeof(*names), cmp_str);
		for (i = 0; i < rr.n && i < 64; i++) {
			strncat(got, names[i], sizeof(got) - strlen(got) - 1);
			if (i + 1 < rr.n)
				strncat(got, " ", sizeof(got) - strlen(got) - 1);
		}
		CHECK_STR(got, c->expect);
	}
	free(cause);
	route_result_free(&rr);
}

/* Reasons say why: the liaison's says which sector and ministry. */
static void
test_reasons(const struct directory *dir)
{
	Ceptoar__Message	m = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Report		r = CEPTOAR__REPORT__INIT;
	struct route_result	rr = { NULL, 0, 0 };
	Ceptoar__ErrorCode	code;
	char			*cause = NULL;
	size_t			 i;

	m.content_case = CEPTOAR__MESSAGE__CONTENT_REPORT;
	m.report = &r;
	CHECK(route_message(&m, directory_org(dir, "bank-a"), dir, &rr, &code,
	    &cause) == 0);
	for (i = 0; i < rr.n; i++) {
		if (strcmp(rr.v[i].org, "fsa-liaison") == 0)
			CHECK_CONTAINS(rr.v[i].reason,
			    "liaison of sector finance (fsa)");
		else
			CHECK_CONTAINS(rr.v[i].reason, "NISC");
	}
	route_result_free(&rr);
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
	directory_free(dir);
	return CHECK_DONE();
}
