/*
 * STIX 2.1 (daemon/stix.c): the example messages of config/examples as a
 * reader gets them, made into STIX objects and compared with golden
 * files in tests/fixtures/stix/ (regenerate with STIX_WRITE=1 after a
 * deliberate change, and read the diff); tests/stix_validate.py checks
 * those files against OASIS's JSON schemas.  An anonymised report's
 * objects carry no byte of its reporter's identifiers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptoard.h"
#include "ceptoar.h"
#include "check.h"
#include "validate.h"

#define T0	1795000000000LL		/* 2026-11-18T... in ms */

static struct directory	*dir;

/* Compare (or, with STIX_WRITE set, write) golden file name. */
static void
golden(const char *name, json_t *objs)
{
	char	 path[512], *got, *want = NULL;
	FILE	*f;
	long	 n;

	snprintf(path, sizeof(path), "../tests/fixtures/stix/%s.json", name);
	if (getenv("CEPTOAR_SRCDIR") != NULL)
		snprintf(path, sizeof(path), "%s/tests/fixtures/stix/%s.json",
		    getenv("CEPTOAR_SRCDIR"), name);
	got = json_dumps(objs, JSON_INDENT(1) | JSON_SORT_KEYS);
	CHECK(got != NULL);
	if (got == NULL)
		return;
	if (getenv("STIX_WRITE") != NULL) {
		if ((f = fopen(path, "w")) != NULL) {
			fprintf(f, "%s\n", got);
			fclose(f);
		}
		free(got);
		return;
	}
	if ((f = fopen(path, "r")) != NULL) {
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		if (n > 0 && (want = calloc(1, (size_t)n + 1)) != NULL &&
		    fread(want, 1, (size_t)n, f) != (size_t)n) {
			free(want);
			want = NULL;
		}
		fclose(f);
	}
	CHECK(want != NULL);
	if (want != NULL) {
		want[strcspn(want, "\0")] = '\0';
		if (strlen(want) > 0 && want[strlen(want) - 1] == '\n')
			want[strlen(want) - 1] = '\0';
		CHECK(strcmp(got, want) == 0);
		if (strcmp(got, want) != 0)
			fprintf(stderr, "  %s differs from %s:\n%s\n", name, path,
			    got);
	}
	free(want);
	free(got);
}

/* The objects of example file as org's form at ms. */
static json_t *
objects_of(const char *file, Ceptoar__Message *m, int form,
    const char *creator, int64_t created, int64_t modified, int want_rc)
{
	struct stix_form	 f;
	json_t			*objs = json_array();
	char			*cause = NULL;
	int			 rc;

	(void)file;
	memset(&f, 0, sizeof(f));
	f.msg = m;
	f.form = form;
	f.hub_id = "01a25299-0fd3-7ec9-a8e1-691cece83c82";
	f.creator = creator;
	f.created_ms = created;
	f.modified_ms = modified;
	rc = stix_objects(&f, dir, objs, &cause);
	CHECK(rc == want_rc);
	if (rc != want_rc)
		fprintf(stderr, "  %s: rc %d (%s)\n", file, rc,
		    cause ? cause : "");
	free(cause);
	return objs;
}

/* Load example file, with a fixed uuid so that the golden ids hold. */
static Ceptoar__Message *
load(const char *file)
{
	Ceptoar__Message	*m = NULL;
	char			 path[512], *cause = NULL;

	snprintf(path, sizeof(path), "%s/config/examples/%s",
	    getenv("CEPTOAR_SRCDIR") ? getenv("CEPTOAR_SRCDIR") : "..", file);
	if (report_json_load(path, &m, &cause) != 0) {
		fprintf(stderr, "%s: %s\n", path, cause ? cause : "");
		CHECK(!"example loads");
		free(cause);
		return NULL;
	}
	if (m->uuid == NULL)
		m->uuid = strdup("5d479355-9cfb-4ea8-9146-29f1a6b8d3b9");
	return m;
}

/* Whether any string of objs contains needle. */
static bool
contains(json_t *objs, const char *needle)
{
	char	*s = json_dumps(objs, 0);
	bool	 found = s != NULL && strstr(s, needle) != NULL;

	free(s);
	return found;
}

static void
test_mandatory(void)
{
	Ceptoar__Message	*m = load("report-mandatory.json");
	json_t			*v1, *v2, *inc1 = NULL, *inc2 = NULL;
	size_t			 i;

	if (m == NULL)
		return;
	v1 = objects_of("report-mandatory", m, CEPTOAR__FORM__FORM_ORIGINAL,
	    "telco-hikari", T0, T0, 0);
	golden("report-mandatory", v1);
	/* A later revision is a new version of the same incident. */
	m->report->has_revision = 1;
	m->report->revision = 2;
	m->report->chain_id = strdup(m->uuid);
	free(m->uuid);
	m->uuid = strdup("7691bc54-dadb-4e8b-953c-23c30da83035");
	v2 = objects_of("report-mandatory rev 2", m,
	    CEPTOAR__FORM__FORM_ORIGINAL, "telco-hikari", T0, T0 + 3600000, 0);
	for (i = 0; i < json_array_size(v1); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(v1,
		    i), "type")), "incident") == 0)
			inc1 = json_array_get(v1, i);
	for (i = 0; i < json_array_size(v2); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(v2,
		    i), "type")), "incident") == 0)
			inc2 = json_array_get(v2, i);
	CHECK(inc1 != NULL && inc2 != NULL);
	if (inc1 != NULL && inc2 != NULL) {
		CHECK_STR(json_string_value(json_object_get(inc1, "id")),
		    json_string_value(json_object_get(inc2, "id")));
		CHECK_STR(json_string_value(json_object_get(inc1, "created")),
		    json_string_value(json_object_get(inc2, "created")));
		CHECK(strcmp(json_string_value(json_object_get(inc1,
		    "modified")), json_string_value(json_object_get(inc2,
		    "modified"))) < 0);
		/* A top-level severity is not STIX's. */
		CHECK(json_object_get(inc1, "severity") == NULL);
	}
	json_decref(v1);
	json_decref(v2);
	report_json_free(m);
}

static void
test_anonymised(void)
{
	Ceptoar__Message		*m = load("report-near-miss.json");
	const struct dir_org		*rep = directory_org(dir, "water-minami");
	const struct dir_ceptoar	*c = directory_ceptoar(dir, "water");
	struct anon_policy		 pol;
	struct anon_result		 ar;
	json_t				*objs;
	char				*cause = NULL;
	size_t				 i;

	CHECK(m != NULL && rep != NULL && c != NULL);
	if (m == NULL || rep == NULL || c == NULL)
		return;
	memset(&pol, 0, sizeof(pol));
	memset(pol.key, 7, sizeof(pol.key));
	pol.time_granularity = 3600;
	memset(&ar, 0, sizeof(ar));
	CHECK(anon_report(m, rep, c, dir, &pol, &ar, &cause) == 0);
	free(cause);
	if (ar.msg == NULL)
		return;
	objs = objects_of("report-near-miss anonymised", ar.msg,
	    CEPTOAR__FORM__FORM_ANONYMISED, "water-minami", T0, T0, 0);
	golden("report-near-miss-anonymised", objs);
	/* Nothing of the reporter: its id, names, domains, contact. */
	CHECK(!contains(objs, rep->id));
	for (i = 0; i < rep->nnames; i++)
		CHECK(!contains(objs, rep->names[i]));
	for (i = 0; i < rep->ndomains; i++)
		CHECK(!contains(objs, rep->domains[i]));
	if (m->report->contact != NULL && m->report->contact->name != NULL)
		CHECK(!contains(objs, m->report->contact->name));
	/* Its creator is the CEPTOAR. */
	CHECK(contains(objs, c->name));
	json_decref(objs);
	anon_result_free(&ar);
	report_json_free(m);
}

static void
test_notices(void)
{
	Ceptoar__Message	*m;
	json_t			*objs;

	if ((m = load("advisory.json")) != NULL) {
		objs = objects_of("advisory", m, CEPTOAR__FORM__FORM_ORIGINAL,
		    "nisc", T0, T0, 0);
		golden("advisory", objs);
		json_decref(objs);
		report_json_free(m);
	}
	if ((m = load("early-warning.json")) != NULL) {
		objs = objects_of("early-warning", m,
		    CEPTOAR__FORM__FORM_ORIGINAL, "nisc", T0, T0, 0);
		golden("early-warning", objs);
		json_decref(objs);
		report_json_free(m);
	}
	/* A reply has no STIX form. */
	if ((m = load("reply.json")) != NULL) {
		objs = objects_of("reply", m, CEPTOAR__FORM__FORM_ORIGINAL,
		    "mic-liaison", T0, T0, 1);
		json_decref(objs);
		report_json_free(m);
	}
}

static void
test_markings(void)
{
	static const int	 tlps[] = {
		CEPTOAR__TLP__TLP_CLEAR, CEPTOAR__TLP__TLP_GREEN,
		CEPTOAR__TLP__TLP_AMBER, CEPTOAR__TLP__TLP_AMBER_STRICT,
		CEPTOAR__TLP__TLP_RED
	};
	json_t			*all = json_array(), *mk;
	size_t			 i;

	for (i = 0; i < 5; i++) {
		mk = stix_tlp_marking(tlps[i]);
		CHECK(mk != NULL);
		CHECK(stix_tlp_from_marking(stix_tlp_marking_id(tlps[i])) ==
		    tlps[i]);
		json_array_append_new(all, mk);
	}
	json_array_append_new(all, stix_hub_identity());
	json_array_append_new(all, stix_hub_extension());
	golden("markings", all);
	json_decref(all);
	/* TLP 1.0 and OpenCTI's AMBER+STRICT are read as their labels. */
	CHECK(stix_tlp_from_marking("marking-definition--613f2e26-407d-48c7-"
	    "9eca-b8e91df99dc9") == CEPTOAR__TLP__TLP_CLEAR);
	CHECK(stix_tlp_from_marking("marking-definition--826578e1-40ad-459f-"
	    "bc73-ede076f81f37") == CEPTOAR__TLP__TLP_AMBER_STRICT);
	CHECK(stix_tlp_from_marking("marking-definition--00000000-0000-4000-"
	    "8000-000000000000") == 0);
}

/* The incident among objs. */
static json_t *
incident_of(json_t *objs)
{
	json_t	*o;
	size_t	 i;

	json_array_foreach(objs, i, o)
		if (strcmp(json_string_value(json_object_get(o, "type")),
		    "incident") == 0)
			return o;
	return NULL;
}

/* What the hub emits for a report reads back as the same report. */
static void
test_round_trip(void)
{
	Ceptoar__Message	*m = load("report-mandatory.json"), *back;
	struct validate_error	 verr;
	json_t			*objs, *inc, *bad;
	char			*prop = NULL, *cause = NULL, buf[160];

	if (m == NULL)
		return;
	objs = objects_of("round trip", m, CEPTOAR__FORM__FORM_ORIGINAL,
	    "telco-hikari", T0, T0, 0);
	inc = incident_of(objs);
	CHECK(inc != NULL);
	CHECK(stix_to_report(inc, &back, &prop, &cause) == 0);
	if (back != NULL) {
		CHECK(validate_message(back, &verr) == 0);
		CHECK(back->tlp == m->tlp);
		CHECK_STR(back->report->title, m->report->title);
		CHECK_STR(back->report->free_text, m->report->free_text);
		CHECK_STR(back->report->contact->name, m->report->contact->name);
		CHECK(back->report->severity->continuity ==
		    m->report->severity->continuity);
		CHECK(back->report->impact->users_affected ==
		    m->report->impact->users_affected);
		CHECK(back->report->occurred_at == m->report->occurred_at);
		CHECK(back->report->legally_mandated);
		CHECK_STR(back->report->legal_basis, m->report->legal_basis);
		/* The id is the uuid: posting again is the same submit. */
		CHECK_STR(back->uuid, json_string_value(json_object_get(inc,
		    "id")) + 10);
		ceptoar__message__free_unpacked(back, NULL);
	}
	/* Each mistake names its property. */
	bad = json_deep_copy(inc);
	json_object_del(bad, "object_marking_refs");
	CHECK(stix_to_report(bad, &back, &prop, &cause) == -1);
	CHECK_STR(prop, "object_marking_refs");
	free(prop);
	free(cause);
	json_decref(bad);
	bad = json_deep_copy(inc);
	json_object_set_new(json_object_get(json_object_get(json_object_get(
	    bad, "extensions"), "extension-definition--6d3c1f0e-8a57-4b0f-"
	    "9c2e-5f1d7a9b3e41"), "severity"), "trust", json_integer(9));
	CHECK(stix_to_report(bad, &back, &prop, &cause) == -1);
	CHECK_CONTAINS(prop, ".severity.trust");
	CHECK_CONTAINS(cause, "0 to 4");
	free(prop);
	free(cause);
	json_decref(bad);
	bad = json_pack("{s:s, s:s, s:s}", "type", "indicator",
	    "spec_version", "2.1", "id", "indicator--x");
	CHECK(stix_to_report(bad, &back, &prop, &cause) == -1);
	CHECK_STR(prop, "type");
	free(prop);
	free(cause);
	json_decref(bad);
	/* A validation error's field as the STIX property it came from. */
	CHECK_STR(stix_property_of("report.title", buf, sizeof(buf)), "name");
	CHECK_CONTAINS(stix_property_of("report.contact.name", buf,
	    sizeof(buf)), ".contact.name");
	json_decref(objs);
	report_json_free(m);
}

int
main(void)
{
	char	*cause = NULL, path[512];

	snprintf(path, sizeof(path), "%s/config/directory.yaml",
	    getenv("CEPTOAR_SRCDIR") ? getenv("CEPTOAR_SRCDIR") : "..");
	if ((dir = directory_load(path, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause ? cause : "directory_load");
		return 1;
	}
	test_mandatory();
	test_anonymised();
	test_notices();
	test_markings();
	test_round_trip();
	directory_free(dir);
	return CHECK_DONE();
}
