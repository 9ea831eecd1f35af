/*
 * STIX 2.1: what the hub delivered to a reader, as the objects its
 * users' tools (OpenCTI, MISP, taxii2-client) read.  Pure: a form, the
 * directory and times in, JSON objects out; no store, no clock.
 *
 * The mapping:
 *   report          an incident with OASIS's incident core extension
 *                   (determination from the event type, investigation
 *                   status from the stage, NISC's 0-4 severity as a
 *                   score named for its scale, the impact figures as
 *                   impacted entity counts) and the hub's own property
 *                   extension for what STIX has no property for (cause,
 *                   legal mandate and basis, stage, range, attribution,
 *                   drill, pseudonym ...).  Every revision of a chain is
 *                   a version of one incident: same id, later modified.
 *   advisory, early warning
 *                   a report object (report_types threat-report) whose
 *                   object_refs are its indicators, or its creator.
 *   indicators      an indicator with a STIX pattern and the observable
 *                   it is based on, for the types a pattern exists for;
 *                   the others stay in the hub's extension.
 *   label           the TLP 2.0 marking definition, by OASIS's ids.
 *   creator         created_by_ref: the identity of the author, or of
 *                   the CEPTOAR for an anonymised form, which names no
 *                   reporter anywhere.
 *
 * Ids are name-based (UUID version 5), so the same delivered object has
 * the same id at every read, and observables follow STIX's rule for
 * deterministic ids (SHA-1 of their id-contributing properties under
 * STIX's namespace).  Anything in Japanese carries lang "ja".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ceptoard.h"
#include "names.h"

/* OASIS's extension definition of the incident core extension. */
#define STIX_INCIDENT_EXT \
	"extension-definition--ef765651-680c-498d-9894-99799f2fa126"
/* The hub's own identity, creator of its extension definition. */
#define STIX_HUB_IDENTITY \
	"identity--0c8f5b2a-6e1d-4f3a-9b7c-2d4e6f8a1b3c"
/* The hub's own property extension; stix_hub_extension defines it. */
#define STIX_HUB_EXT \
	"extension-definition--6d3c1f0e-8a57-4b0f-9c2e-5f1d7a9b3e41"
/* The TLP 2.0 marking definitions' own extension (FIRST, OASIS). */
#define STIX_TLP2_EXT \
	"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

/* STIX's namespace for deterministic observable ids. */
static const unsigned char stix_sco_ns[16] = {
	0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c,
	0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7
};
/* The hub's namespace for the ids of the objects it makes. */
static const unsigned char stix_hub_ns[16] = {
	0x3f, 0x5e, 0x0c, 0x7a, 0x91, 0x2d, 0x4b, 0x88,
	0xa6, 0x1e, 0x54, 0xc3, 0x0b, 0x9d, 0x27, 0xe6
};

static const struct {
	int		 tlp;
	const char	*id;
	const char	*value;
} stix_tlp2[] = {
	{ CEPTOAR__TLP__TLP_CLEAR,
	    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "clear" },
	{ CEPTOAR__TLP__TLP_GREEN,
	    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "green" },
	{ CEPTOAR__TLP__TLP_AMBER,
	    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "amber" },
	{ CEPTOAR__TLP__TLP_AMBER_STRICT,
	    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
	    "amber+strict" },
	{ CEPTOAR__TLP__TLP_RED,
	    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "red" },
};

/* What other producers mark with, accepted on input. */
static const struct {
	int		 tlp;
	const char	*id;
} stix_tlp_other[] = {
	/* TLP 1.0, as STIX 2.1 itself defines it. */
	{ CEPTOAR__TLP__TLP_CLEAR,
	    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9" },
	{ CEPTOAR__TLP__TLP_GREEN,
	    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da" },
	{ CEPTOAR__TLP__TLP_AMBER,
	    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82" },
	{ CEPTOAR__TLP__TLP_RED,
	    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed" },
	/* OpenCTI's own AMBER+STRICT, from before TLP 2.0's ids. */
	{ CEPTOAR__TLP__TLP_AMBER_STRICT,
	    "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37" },
};

/*
 * A name-based (version 5) UUID of the name prefix "|" name (or name
 * alone when prefix is NULL) under namespace ns, as text.
 */
static void
stix_uuid5(const unsigned char ns[16], const char *prefix, const char *name,
    char out[37])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	EVP_MD_CTX	*ctx;

	memset(md, 0, sizeof(md));
	if ((ctx = EVP_MD_CTX_new()) != NULL) {
		if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 ||
		    EVP_DigestUpdate(ctx, ns, 16) != 1 ||
		    (prefix != NULL && (EVP_DigestUpdate(ctx, prefix,
		    strlen(prefix)) != 1 || EVP_DigestUpdate(ctx, "|", 1) !=
		    1)) ||
		    EVP_DigestUpdate(ctx, name, strlen(name)) != 1 ||
		    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
			memset(md, 0, sizeof(md));
		EVP_MD_CTX_free(ctx);
	}
	md[6] = (md[6] & 0x0f) | 0x50;
	md[8] = (md[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", md[0], md[1], md[2], md[3], md[4],
	    md[5], md[6], md[7], md[8], md[9], md[10], md[11], md[12], md[13],
	    md[14], md[15]);
}

/* "type--uuid5(hub namespace, type|key)" into out. */
static void
stix_id(const char *type, const char *key, char *out, size_t len)
{
	char	 u[37];

	stix_uuid5(stix_hub_ns, type, key, u);
	snprintf(out, len, "%.60s--%s", type, u);
}

void
stix_timestamp(int64_t ms, char *out, size_t len)
{
	struct tm	tm;
	time_t		t = (time_t)(ms / 1000);

	gmtime_r(&t, &tm);
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* Whether s has kana or kanji: such text is Japanese. */
static bool
stix_is_japanese(const char *s)
{
	const unsigned char	*p;
	unsigned		 c;

	for (p = (const unsigned char *)s; s != NULL && *p != '\0'; p++) {
		if (p[0] != 0xe3 && (p[0] < 0xe4 || p[0] > 0xe9))
			continue;
		if (p[1] == '\0' || p[2] == '\0')
			break;
		c = ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) |
		    (p[2] & 0x3fu);
		/* Hiragana, katakana, CJK ideographs. */
		if ((c >= 0x3040 && c <= 0x30ff) ||
		    (c >= 0x4e00 && c <= 0x9fff))
			return true;
	}
	return false;
}

/* Set key to a copy of string s when s is set; -1 when out of memory. */
static int
stix_set_str(json_t *o, const char *key, const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	return json_object_set_new(o, key, json_string(s));
}

/* Set key to a timestamp of ms. */
static int
stix_set_time(json_t *o, const char *key, int64_t ms)
{
	char	ts[32];

	stix_timestamp(ms, ts, sizeof(ts));
	return json_object_set_new(o, key, json_string(ts));
}

const char *
stix_tlp_marking_id(int tlp)
{
	size_t	i;

	for (i = 0; i < sizeof(stix_tlp2) / sizeof(stix_tlp2[0]); i++)
		if (stix_tlp2[i].tlp == tlp)
			return stix_tlp2[i].id;
	return NULL;
}

int
stix_tlp_from_marking(const char *id)
{
	size_t	i;

	for (i = 0; i < sizeof(stix_tlp2) / sizeof(stix_tlp2[0]); i++)
		if (strcmp(stix_tlp2[i].id, id) == 0)
			return stix_tlp2[i].tlp;
	for (i = 0; i < sizeof(stix_tlp_other) / sizeof(stix_tlp_other[0]);
	    i++)
		if (strcmp(stix_tlp_other[i].id, id) == 0)
			return stix_tlp_other[i].tlp;
	return 0;
}

json_t *
stix_tlp_marking(int tlp)
{
	json_t	*m, *ext;
	size_t	 i;
	char	 name[32];

	for (i = 0; i < sizeof(stix_tlp2) / sizeof(stix_tlp2[0]); i++)
		if (stix_tlp2[i].tlp == tlp)
			break;
	if (i == sizeof(stix_tlp2) / sizeof(stix_tlp2[0]))
		return NULL;
	snprintf(name, sizeof(name), "%s", names_lookup(names_tlp, tlp));
	m = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type",
	    "marking-definition", "spec_version", "2.1", "id", stix_tlp2[i].id,
	    "created", "2022-10-01T00:00:00.000Z", "name", name);
	ext = json_pack("{s:{s:s, s:s}}", STIX_TLP2_EXT, "extension_type",
	    "property-extension", "tlp_2_0", stix_tlp2[i].value);
	if (m == NULL || ext == NULL ||
	    json_object_set_new(m, "extensions", ext) == -1) {
		json_decref(m);
		return NULL;
	}
	return m;
}

json_t *
stix_hub_identity(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
	    "type", "identity", "spec_version", "2.1", "id", STIX_HUB_IDENTITY,
	    "created", "2026-01-01T00:00:00.000Z", "modified",
	    "2026-01-01T00:00:00.000Z", "name", "CEPTOAR hub", "identity_class",
	    "system", "description", "The relay of Japan's critical-"
	    "infrastructure information sharing (CEPTOARs, liaisons, NISC).");
}

json_t *
stix_hub_extension(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
	    "s:s, s:[s]}",
	    "type", "extension-definition", "spec_version", "2.1",
	    "id", STIX_HUB_EXT, "created_by_ref", STIX_HUB_IDENTITY,
	    "created", "2026-01-01T00:00:00.000Z",
	    "modified", "2026-01-01T00:00:00.000Z",
	    "name", "CEPTOAR hub report properties",
	    "description", "What the CEPTOAR hub knows of a report or notice "
	    "that STIX 2.1 has no property for: kind, cause, event_type, "
	    "legally_mandated, legal_basis, stage, revision, retracted, "
	    "sharing_scope, attribution, drill, form, pseudonym, sector, "
	    "ceptoar, flags, severity (continuity, safety, trust, overall on "
	    "NISC's 2018 scale 0-4), impact (users_affected, "
	    "duration_minutes, kw_lost, households), occurred_at, detected_at, "
	    "contact, indicators without a STIX pattern.",
	    "schema", "The ceptoard(8) manual, section STIX.",
	    "version", "1.0",
	    "extension_types", "property-extension");
}

/* The identity object of organisation org, or of CEPTOAR c. */
static json_t *
stix_identity(const struct directory *dir, const struct dir_org *org,
    const struct dir_ceptoar *c, char *id, size_t idlen)
{
	const struct dir_sector	*sec;
	json_t			*o, *sectors;
	size_t			 i;

	char			 key[96];

	/* A CEPTOAR's identity is apart from its secretariat's. */
	snprintf(key, sizeof(key), "%s%s", c ? "ceptoar:" : "",
	    org ? org->id : c->id);
	stix_id("identity", key, id, idlen);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type",
	    "identity", "spec_version", "2.1", "id", id, "created",
	    "2026-01-01T00:00:00.000Z", "modified", "2026-01-01T00:00:00.000Z",
	    "name", org ? org->name : c->name, "identity_class", "organization");
	if (o == NULL || (sectors = json_array()) == NULL) {
		json_decref(o);
		return NULL;
	}
	if (org != NULL) {
		for (i = 0; i < org->nsectors; i++)
			if ((sec = directory_sector(dir, org->sectors[i])) !=
			    NULL && sec->stix_sector != NULL)
				json_array_append_new(sectors,
				    json_string(sec->stix_sector));
	} else if ((sec = directory_sector(dir, c->sector)) != NULL &&
	    sec->stix_sector != NULL)
		json_array_append_new(sectors, json_string(sec->stix_sector));
	if (json_array_size(sectors) > 0)
		json_object_set_new(o, "sectors", sectors);
	else
		json_decref(sectors);
	if (c != NULL)
		stix_set_str(o, "description", "A CEPTOAR: the hub relays its "
		    "members' anonymised reports under its name.");
	return o;
}

/* The STIX pattern and observable type of an indicator, if it has one. */
static bool
stix_pattern_of(const char *type, const char **obj, const char **path)
{
	static const struct {
		const char	*type, *obj, *path;
	} map[] = {
		{ "ipv4", "ipv4-addr", "value" },
		{ "ipv6", "ipv6-addr", "value" },
		{ "domain", "domain-name", "value" },
		{ "url", "url", "value" },
		{ "email", "email-addr", "value" },
		{ "sha256", "file", "hashes.'SHA-256'" },
		{ "sha1", "file", "hashes.'SHA-1'" },
		{ "md5", "file", "hashes.MD5" },
	};
	size_t	i;

	for (i = 0; type != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].type, type) == 0) {
			*obj = map[i].obj;
			*path = map[i].path;
			return true;
		}
	return false;
}

/* v with ' and \ escaped for a STIX pattern's string literal. */
static char *
stix_quote(const char *v)
{
	char	*q, *w;

	if ((q = malloc(strlen(v) * 2 + 1)) == NULL)
		return NULL;
	for (w = q; *v != '\0'; v++) {
		if (*v == '\'' || *v == '\\')
			*w++ = '\\';
		*w++ = *v;
	}
	*w = '\0';
	return q;
}

/*
 * The observable an indicator of type obj is based on, with its
 * deterministic id (STIX 2.1, 2.9: UUIDv5 of the canonical JSON of its
 * id-contributing property).
 */
static json_t *
stix_observable(const char *obj, const char *type, const char *value,
    char *id, size_t idlen)
{
	json_t	*o, *key;
	char	*canon, u[37];
	const char *hash = strcmp(type, "sha256") == 0 ? "SHA-256" :
	    strcmp(type, "sha1") == 0 ? "SHA-1" : "MD5";

	if (strcmp(obj, "file") == 0)
		key = json_pack("{s:{s:s}}", "hashes", hash, value);
	else
		key = json_pack("{s:s}", "value", value);
	if (key == NULL)
		return NULL;
	canon = json_dumps(key, JSON_COMPACT | JSON_SORT_KEYS);
	if (canon == NULL) {
		json_decref(key);
		return NULL;
	}
	stix_uuid5(stix_sco_ns, NULL, canon, u);
	free(canon);
	snprintf(id, idlen, "%s--%s", obj, u);
	o = json_pack("{s:s, s:s, s:s}", "type", obj, "spec_version", "2.1",
	    "id", id);
	if (o == NULL || json_object_update(o, key) == -1) {
		json_decref(o);
		o = NULL;
	}
	json_decref(key);
	return o;
}

/*
 * Append to objs the indicators of the form that have a STIX pattern,
 * with their observables and a based-on relationship each; their ids to
 * refs; the others to rest (the hub's extension keeps them).
 */
static int
stix_indicators(Ceptoar__Indicator **ind, size_t n, const char *owner,
    const char *creator, const char *marking, int64_t ms, json_t *objs,
    json_t *refs, json_t *rest)
{
	const char	*obj, *path;
	json_t		*i, *sco, *rel;
	char		 iid[128], sid[128], rid[128], key[1024], *q, *pat;
	size_t		 k;

	for (k = 0; k < n; k++) {
		if (ind[k]->value == NULL)
			continue;
		if (!stix_pattern_of(ind[k]->type, &obj, &path)) {
			json_array_append_new(rest, json_pack("{s:s?, s:s, s:s?}",
			    "type", ind[k]->type, "value", ind[k]->value,
			    "comment", ind[k]->comment));
			continue;
		}
		snprintf(key, sizeof(key), "%s|%s|%s", owner, ind[k]->type,
		    ind[k]->value);
		stix_id("indicator", key, iid, sizeof(iid));
		if ((q = stix_quote(ind[k]->value)) == NULL)
			return -1;
		if (asprintf(&pat, "[%s:%s = '%s']", obj, path, q) == -1) {
			free(q);
			return -1;
		}
		free(q);
		i = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], "
		    "s:s, s:[s]}", "type", "indicator", "spec_version", "2.1",
		    "id", iid, "created_by_ref", creator, "name", ind[k]->value,
		    "pattern", pat, "pattern_type", "stix",
		    "object_marking_refs", marking, "pattern_version", "2.1",
		    "indicator_types", "malicious-activity");
		free(pat);
		if (i == NULL)
			return -1;
		stix_set_time(i, "created", ms);
		stix_set_time(i, "modified", ms);
		stix_set_time(i, "valid_from", ms);
		stix_set_str(i, "description", ind[k]->comment);
		if ((sco = stix_observable(obj, ind[k]->type, ind[k]->value,
		    sid, sizeof(sid))) == NULL) {
			json_decref(i);
			return -1;
		}
		snprintf(key, sizeof(key), "%s|%s", iid, sid);
		stix_id("relationship", key, rid, sizeof(rid));
		rel = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}",
		    "type", "relationship", "spec_version", "2.1", "id", rid,
		    "relationship_type", "based-on", "source_ref", iid,
		    "target_ref", sid, "created_by_ref", creator,
		    "object_marking_refs", marking);
		if (rel == NULL) {
			json_decref(i);
			json_decref(sco);
			return -1;
		}
		stix_set_time(rel, "created", ms);
		stix_set_time(rel, "modified", ms);
		json_array_append_new(refs, json_string(iid));
		json_array_append_new(refs, json_string(sid));
		json_array_append_new(objs, i);
		json_array_append_new(objs, sco);
		json_array_append_new(objs, rel);
	}
	return 0;
}

/* The NISC severity as the hub's extension holds it. */
static json_t *
stix_severity(const Ceptoar__Severity *s)
{
	json_t	*o;

	if (s == NULL || (o = json_object()) == NULL)
		return NULL;
	if (s->has_continuity)
		json_object_set_new(o, "continuity", json_integer(s->continuity));
	if (s->has_safety)
		json_object_set_new(o, "safety", json_integer(s->safety));
	if (s->has_trust)
		json_object_set_new(o, "trust", json_integer(s->trust));
	if (s->has_overall)
		json_object_set_new(o, "overall", json_integer(s->overall));
	return o;
}

/* The incident core extension's determination for report r. */
static const char *
stix_determination(const Ceptoar__Report *r)
{
	if (r->has_retracted && r->retracted)
		return "false-positive";
	if (r->has_kind && r->kind != CEPTOAR__REPORT_KIND__REPORT_INCIDENT)
		return "failed-attempt";	/* a near miss or an early sign */
	if (!r->has_event_type)
		return "suspected";
	switch (r->event_type) {
	case CEPTOAR__EVENT_TYPE__EVENT_FAILURE_OCCURRED:
	case CEPTOAR__EVENT_TYPE__EVENT_ATTACK_DAMAGE:
		return "confirmed";
	default:
		return "suspected";
	}
}

/* The incident core extension's investigation status for report r. */
static const char *
stix_investigation(const Ceptoar__Report *r)
{
	if ((r->has_retracted && r->retracted) ||
	    (r->has_stage && r->stage == CEPTOAR__STAGE__STAGE_FINAL))
		return "closed";
	if (r->has_stage && r->stage == CEPTOAR__STAGE__STAGE_INTERMEDIATE)
		return "open";
	return "new";
}

/* The hub's extension of report r in form form. */
static json_t *
stix_report_ext(const Ceptoar__Message *m, const Ceptoar__Report *r,
    int form, json_t *rest)
{
	json_t	*x, *imp, *flags;
	size_t	 i;
	char	 ts[32];

	x = json_pack("{s:s}", "extension_type", "property-extension");
	if (x == NULL)
		return NULL;
	if (r->has_kind)
		stix_set_str(x, "kind", names_lookup(names_report_kind, r->kind));
	if (r->has_cause)
		stix_set_str(x, "cause", names_lookup(names_cause, r->cause));
	if (r->has_event_type)
		stix_set_str(x, "event_type", names_lookup(names_event_type,
		    r->event_type));
	if (r->has_legally_mandated)
		json_object_set_new(x, "legally_mandated",
		    json_boolean(r->legally_mandated));
	stix_set_str(x, "legal_basis", r->legal_basis);
	if (r->has_stage)
		stix_set_str(x, "stage", names_lookup(names_stage, r->stage));
	if (r->has_revision)
		json_object_set_new(x, "revision", json_integer(r->revision));
	if (r->has_retracted && r->retracted)
		json_object_set_new(x, "retracted", json_true());
	if (r->sharing != NULL && r->sharing->has_scope)
		stix_set_str(x, "sharing_scope", names_lookup(
		    names_sharing_scope, r->sharing->scope));
	if (r->has_attribution)
		stix_set_str(x, "attribution", names_lookup(names_attribution,
		    r->attribution));
	json_object_set_new(x, "drill", json_boolean(m->has_drill &&
	    m->drill));
	stix_set_str(x, "form", names_lookup(names_form, form));
	stix_set_str(x, "pseudonym", r->pseudonym);
	stix_set_str(x, "sector", r->sector);
	stix_set_str(x, "ceptoar", r->ceptoar);
	if (r->severity != NULL)
		json_object_set_new(x, "severity", stix_severity(r->severity));
	if (r->impact != NULL && (imp = json_object()) != NULL) {
		if (r->impact->has_users_affected)
			json_object_set_new(imp, "users_affected",
			    json_integer((json_int_t)r->impact->users_affected));
		if (r->impact->has_duration_minutes)
			json_object_set_new(imp, "duration_minutes",
			    json_integer(r->impact->duration_minutes));
		if (r->impact->has_kw_lost)
			json_object_set_new(imp, "kw_lost",
			    json_integer((json_int_t)r->impact->kw_lost));
		if (r->impact->has_households)
			json_object_set_new(imp, "households",
			    json_integer((json_int_t)r->impact->households));
		stix_set_str(imp, "description", r->impact->description);
		json_object_set_new(x, "impact", imp);
	}
	if (r->has_occurred_at) {
		stix_timestamp(r->occurred_at * 1000, ts, sizeof(ts));
		stix_set_str(x, "occurred_at", ts);
	}
	if (r->has_detected_at) {
		stix_timestamp(r->detected_at * 1000, ts, sizeof(ts));
		stix_set_str(x, "detected_at", ts);
	}
	if (r->contact != NULL)
		json_object_set_new(x, "contact", json_pack("{s:s?, s:s?, "
		    "s:s?, s:s?}", "name", r->contact->name, "phone",
		    r->contact->phone, "email", r->contact->email, "unit",
		    r->contact->unit));
	if (r->n_flags > 0 && (flags = json_array()) != NULL) {
		for (i = 0; i < r->n_flags; i++)
			json_array_append_new(flags, json_string(r->flags[i]));
		json_object_set_new(x, "flags", flags);
	}
	if (json_array_size(rest) > 0)
		json_object_set(x, "indicators", rest);
	return x;
}

/* The incident core extension of report r. */
static json_t *
stix_incident_ext(const Ceptoar__Report *r)
{
	json_t	*x, *counts;

	x = json_pack("{s:s, s:s, s:s}", "extension_type",
	    "property-extension", "determination", stix_determination(r),
	    "investigation_status", stix_investigation(r));
	if (x == NULL)
		return NULL;
	if (r->severity != NULL && r->severity->has_overall)
		json_object_set_new(x, "scores", json_pack("[{s:s, s:i, s:s}]",
		    "name", "nisc-severity-2018", "value",
		    (int)r->severity->overall, "description", "NISC's 2018 "
		    "scale, 0 none to 4 crisis: the highest of service "
		    "continuity, safety and loss of trust"));
	if (r->has_event_type)
		json_object_set_new(x, "incident_types", json_pack("[s]",
		    names_lookup(names_event_type, r->event_type)));
	if (r->impact != NULL && (counts = json_object()) != NULL) {
		if (r->impact->has_users_affected)
			json_object_set_new(counts, "users", json_integer(
			    (json_int_t)r->impact->users_affected));
		if (r->impact->has_households)
			json_object_set_new(counts, "households", json_integer(
			    (json_int_t)r->impact->households));
		if (json_object_size(counts) > 0)
			json_object_set_new(x, "impacted_entity_counts", counts);
		else
			json_decref(counts);
	}
	return x;
}

/* The text of a message's main content, for the lang check. */
static bool
stix_japanese(const char *a, const char *b)
{
	return stix_is_japanese(a) || stix_is_japanese(b);
}

int
stix_objects(const struct stix_form *f, const struct directory *dir,
    json_t *objs, char **cause)
{
	const Ceptoar__Message		*m = f->msg;
	const struct dir_org		*org = NULL;
	const struct dir_ceptoar	*c = NULL;
	const char			*marking, *name, *text, *chain;
	json_t				*o = NULL, *ident, *refs, *rest, *ext;
	Ceptoar__Indicator		**ind = NULL;
	char				 cid[128], oid[128], ts[32];
	size_t				 nind = 0;
	bool				 anonymised;

	if ((marking = stix_tlp_marking_id(m->tlp)) == NULL) {
		cause_set(cause, "message %s has no TLP label", f->hub_id);
		return -1;
	}
	anonymised = f->form == CEPTOAR__FORM__FORM_ANONYMISED;
	/* An anonymised form is the CEPTOAR's: it never names the reporter. */
	if (anonymised) {
		if (m->content_case != CEPTOAR__MESSAGE__CONTENT_REPORT ||
		    m->report->ceptoar == NULL || (c = directory_ceptoar(dir,
		    m->report->ceptoar)) == NULL) {
			cause_set(cause, "anonymised message %s names no CEPTOAR "
			    "of the directory", f->hub_id);
			return -1;
		}
	} else if ((org = directory_org(dir, f->creator)) == NULL) {
		cause_set(cause, "message %s: its author %s is not in the "
		    "directory", f->hub_id, f->creator ? f->creator : "(none)");
		return -1;
	}
	switch (m->content_case) {
	case CEPTOAR__MESSAGE__CONTENT_REPORT:
	case CEPTOAR__MESSAGE__CONTENT_ADVISORY:
	case CEPTOAR__MESSAGE__CONTENT_EARLY_WARNING:
		break;
	default:
		return 1;	/* no STIX form: replies, checks, ... */
	}
	if ((ident = stix_identity(dir, org, c, cid, sizeof(cid))) == NULL)
		goto nomem;
	json_array_append_new(objs, ident);
	if ((refs = json_array()) == NULL || (rest = json_array()) == NULL) {
		json_decref(refs);
		goto nomem;
	}
	if (m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT) {
		/* Every revision of a chain is a version of one incident. */
		chain = m->report->chain_id ? m->report->chain_id : m->uuid;
		snprintf(oid, sizeof(oid), "%s|%s|%s", anonymised ? "anon" :
		    "orig", c ? c->id : org->id, chain ? chain : f->hub_id);
		stix_id("incident", oid, oid, sizeof(oid));
		name = m->report->title;
		text = m->report->free_text;
		ind = m->report->indicators;
		nind = m->report->n_indicators;
	} else {
		stix_id("report", f->hub_id, oid, sizeof(oid));
		if (m->content_case == CEPTOAR__MESSAGE__CONTENT_ADVISORY) {
			name = m->advisory->title;
			text = m->advisory->text;
			ind = m->advisory->indicators;
			nind = m->advisory->n_indicators;
		} else {
			name = m->early_warning->title;
			text = m->early_warning->text;
			ind = m->early_warning->indicators;
			nind = m->early_warning->n_indicators;
		}
	}
	if (stix_indicators(ind, nind, oid, cid, marking, f->modified_ms,
	    objs, refs, rest) == -1)
		goto nomem_lists;
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s]}", "type",
	    m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT ? "incident" :
	    "report", "spec_version", "2.1", "id", oid, "created_by_ref", cid,
	    "name", name ? name : names_lookup(names_report_kind,
	    m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT &&
	    m->report->has_kind ? m->report->kind : 1),
	    "object_marking_refs", marking);
	if (o == NULL)
		goto nomem_lists;
	stix_set_time(o, "created", f->created_ms);
	stix_set_time(o, "modified", f->modified_ms);
	stix_set_str(o, "description", text);
	if (stix_japanese(name, text))
		stix_set_str(o, "lang", "ja");
	if (m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT) {
		ext = json_object();
		json_object_set_new(ext, STIX_INCIDENT_EXT,
		    stix_incident_ext(m->report));
		json_object_set_new(ext, STIX_HUB_EXT, stix_report_ext(m,
		    m->report, f->form, rest));
		json_object_set_new(o, "extensions", ext);
	} else {
		stix_timestamp(f->modified_ms, ts, sizeof(ts));
		json_object_set_new(o, "published", json_string(ts));
		json_object_set_new(o, "report_types", json_pack("[s]",
		    "threat-report"));
		if (json_array_size(refs) == 0)
			json_array_append_new(refs, json_string(cid));
		json_object_set(o, "object_refs", refs);
		ext = json_pack("{s:s, s:s, s:b}", "extension_type",
		    "property-extension", "kind",
		    m->content_case == CEPTOAR__MESSAGE__CONTENT_ADVISORY ?
		    "advisory" : "early_warning", "drill", m->has_drill &&
		    m->drill);
		if (ext != NULL && json_array_size(rest) > 0)
			json_object_set(ext, "indicators", rest);
		json_object_set_new(o, "extensions", json_pack("{s:o}",
		    STIX_HUB_EXT, ext));
	}
	json_array_append_new(objs, o);
	json_decref(refs);
	json_decref(rest);
	return 0;
nomem_lists:
	json_decref(refs);
	json_decref(rest);
nomem:
	cause_set(cause, "out of memory making the STIX form of %s",
	    f->hub_id);
	return -1;
}

/* The time of STIX timestamp v, in seconds; 0, or -1 when not one. */
static int
stix_time_in(json_t *v, int64_t *out)
{
	int64_t	ms;

	if (!json_is_string(v) ||
	    taxii_timestamp_parse(json_string_value(v), &ms) == -1)
		return -1;
	*out = ms / 1000;
	return 0;
}

/* A copy of string member key of o into *dst; absent is fine. */
static int
stix_str_in(json_t *o, const char *key, char **dst, const char *path,
    char **property)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_string(v)) {
		*property = strdup(path);
		return -1;
	}
	return (*dst = strdup(json_string_value(v))) == NULL ? -1 : 0;
}

/* Enum member key of o, named in table t, into *v and *has. */
static int
stix_enum_in(json_t *o, const char *key, const struct name_entry *t,
    protobuf_c_boolean *has, int *v, const char *path, char **property)
{
	json_t	*j = json_object_get(o, key);

	if (j == NULL)
		return 0;
	if (!json_is_string(j) || names_parse(t, json_string_value(j), v) ==
	    -1) {
		*property = strdup(path);
		return -1;
	}
	*has = 1;
	return 0;
}

/* An unsigned member key of o into *v and *has, at most max. */
static int
stix_uint_in(json_t *o, const char *key, uint64_t max, protobuf_c_boolean *has,
    uint64_t *v, const char *path, char **property)
{
	json_t	*j = json_object_get(o, key);

	if (j == NULL)
		return 0;
	if (!json_is_integer(j) || json_integer_value(j) < 0 ||
	    (uint64_t)json_integer_value(j) > max) {
		*property = strdup(path);
		return -1;
	}
	*has = 1;
	*v = (uint64_t)json_integer_value(j);
	return 0;
}

int
stix_to_report(json_t *inc, Ceptoar__Message **out, char **property,
    char **cause)
{
	Ceptoar__Message	*m;
	Ceptoar__Report		*r;
	json_t			*ext, *x, *marks, *v;
	uint64_t		 u = 0;
	size_t			 i;
	int			 tlp = 0, t, e = 0;
	const char		*id;
	char			 path[160];

	*out = NULL;
	*property = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (r = calloc(1, sizeof(*r))) == NULL) {
		free(m);
		goto nomem;
	}
	ceptoar__message__init(m);
	ceptoar__report__init(r);
	m->content_case = CEPTOAR__MESSAGE__CONTENT_REPORT;
	m->report = r;
#define BAD(p, ...) do {						\
	if (*property == NULL)						\
		*property = strdup(p);					\
	cause_set(cause, __VA_ARGS__);					\
	goto fail;							\
} while (0)
	if (!json_is_object(inc) || !json_is_string(json_object_get(inc,
	    "type")) || strcmp(json_string_value(json_object_get(inc, "type")),
	    "incident") != 0)
		BAD("type", "type: only an incident can be submitted as a "
		    "report");
	if (!json_is_string(json_object_get(inc, "spec_version")) ||
	    strcmp(json_string_value(json_object_get(inc, "spec_version")),
	    "2.1") != 0)
		BAD("spec_version", "spec_version: must be \"2.1\"");
	id = json_string_value(json_object_get(inc, "id"));
	if (id == NULL || strncmp(id, "incident--", 10) != 0 ||
	    strlen(id) != 10 + 36)
		BAD("id", "id: must be incident-- and a UUID");
	/* The incident's id is the idempotency key: a repeat files once. */
	if ((m->uuid = strdup(id + 10)) == NULL)
		goto nomem;
	marks = json_object_get(inc, "object_marking_refs");
	json_array_foreach(marks, i, v) {
		if (!json_is_string(v) ||
		    (t = stix_tlp_from_marking(json_string_value(v))) == 0)
			continue;
		/* Several labels: the strictest holds. */
		if (t > tlp)
			tlp = t;
	}
	if (tlp == 0)
		BAD("object_marking_refs", "object_marking_refs: a TLP marking "
		    "definition is required (TLP 2.0 or 1.0 ids)");
	m->has_tlp = 1;
	m->tlp = tlp;
	if (stix_str_in(inc, "name", &r->title, "name", property) == -1 ||
	    stix_str_in(inc, "description", &r->free_text, "description",
	    property) == -1)
		BAD(*property ? *property : "name", "%s: must be a string",
		    *property ? *property : "name");
	ext = json_object_get(json_object_get(inc, "extensions"),
	    STIX_HUB_EXT);
	if (!json_is_object(ext))
		BAD("extensions", "extensions: the report needs the hub's "
		    "extension %s, with at least its contact", STIX_HUB_EXT);
#define HUB(k)	(snprintf(path, sizeof(path), "extensions.%s.%s",	\
	STIX_HUB_EXT, (k)), path)
	if (stix_enum_in(ext, "kind", names_report_kind, &r->has_kind, &e,
	    HUB("kind"), property) == -1)
		BAD(path, "%s: not a report kind", path);
	if (r->has_kind)
		r->kind = e;
	if (stix_enum_in(ext, "cause", names_cause, &r->has_cause, &e,
	    HUB("cause"), property) == -1)
		BAD(path, "%s: not a cause", path);
	if (r->has_cause)
		r->cause = e;
	if (stix_enum_in(ext, "event_type", names_event_type,
	    &r->has_event_type, &e, HUB("event_type"), property) == -1)
		BAD(path, "%s: not an event type", path);
	if (r->has_event_type)
		r->event_type = e;
	if (stix_enum_in(ext, "stage", names_stage, &r->has_stage, &e,
	    HUB("stage"), property) == -1)
		BAD(path, "%s: not a stage", path);
	if (r->has_stage)
		r->stage = e;
	if (stix_enum_in(ext, "attribution", names_attribution,
	    &r->has_attribution, &e, HUB("attribution"), property) == -1)
		BAD(path, "%s: not an attribution", path);
	if (r->has_attribution)
		r->attribution = e;
	if ((v = json_object_get(ext, "legally_mandated")) != NULL) {
		if (!json_is_boolean(v))
			BAD(HUB("legally_mandated"), "%s: must be true or false",
			    path);
		r->has_legally_mandated = 1;
		r->legally_mandated = json_is_true(v);
	}
	if ((v = json_object_get(ext, "drill")) != NULL) {
		if (!json_is_boolean(v))
			BAD(HUB("drill"), "%s: must be true or false", path);
		m->has_drill = json_is_true(v);
		m->drill = json_is_true(v);
	}
	if (stix_str_in(ext, "legal_basis", &r->legal_basis,
	    HUB("legal_basis"), property) == -1 ||
	    stix_str_in(ext, "sector", &r->sector, HUB("sector"), property) ==
	    -1)
		BAD(path, "%s: must be a string", path);
	if (stix_uint_in(ext, "revision", UINT32_MAX, &r->has_revision, &u,
	    HUB("revision"), property) == -1)
		BAD(path, "%s: must be a whole number", path);
	r->revision = (uint32_t)u;
	if ((v = json_object_get(ext, "sharing_scope")) != NULL) {
		if ((r->sharing = calloc(1, sizeof(*r->sharing))) == NULL)
			goto nomem;
		ceptoar__sharing_range__init(r->sharing);
		if (stix_enum_in(ext, "sharing_scope", names_sharing_scope,
		    &r->sharing->has_scope, &e, HUB("sharing_scope"),
		    property) == -1)
			BAD(path, "%s: not a sharing scope", path);
		if (r->sharing->has_scope)
			r->sharing->scope = e;
	}
	if ((x = json_object_get(ext, "severity")) != NULL) {
		if ((r->severity = calloc(1, sizeof(*r->severity))) == NULL)
			goto nomem;
		ceptoar__severity__init(r->severity);
		if (stix_uint_in(x, "continuity", 4, &r->severity->has_continuity,
		    &u, HUB("severity.continuity"), property) == -1)
			BAD(path, "%s: must be 0 to 4", path);
		r->severity->continuity = (uint32_t)u;
		if (stix_uint_in(x, "safety", 4, &r->severity->has_safety, &u,
		    HUB("severity.safety"), property) == -1)
			BAD(path, "%s: must be 0 to 4", path);
		r->severity->safety = (uint32_t)u;
		if (stix_uint_in(x, "trust", 4, &r->severity->has_trust, &u,
		    HUB("severity.trust"), property) == -1)
			BAD(path, "%s: must be 0 to 4", path);
		r->severity->trust = (uint32_t)u;
	}
	if ((x = json_object_get(ext, "impact")) != NULL) {
		if ((r->impact = calloc(1, sizeof(*r->impact))) == NULL)
			goto nomem;
		ceptoar__impact__init(r->impact);
		if (stix_uint_in(x, "users_affected", INT64_MAX,
		    &r->impact->has_users_affected, &r->impact->users_affected,
		    HUB("impact.users_affected"), property) == -1 ||
		    stix_uint_in(x, "kw_lost", INT64_MAX,
		    &r->impact->has_kw_lost, &r->impact->kw_lost,
		    HUB("impact.kw_lost"), property) == -1 ||
		    stix_uint_in(x, "households", INT64_MAX,
		    &r->impact->has_households, &r->impact->households,
		    HUB("impact.households"), property) == -1)
			BAD(path, "%s: must be a whole number", path);
		if (stix_uint_in(x, "duration_minutes", UINT32_MAX,
		    &r->impact->has_duration_minutes, &u,
		    HUB("impact.duration_minutes"), property) == -1)
			BAD(path, "%s: must be a whole number", path);
		r->impact->duration_minutes = (uint32_t)u;
	}
	if ((v = json_object_get(ext, "occurred_at")) != NULL) {
		if (stix_time_in(v, &r->occurred_at) == -1)
			BAD(HUB("occurred_at"), "%s: not a timestamp", path);
		r->has_occurred_at = 1;
	}
	if ((v = json_object_get(ext, "detected_at")) != NULL) {
		if (stix_time_in(v, &r->detected_at) == -1)
			BAD(HUB("detected_at"), "%s: not a timestamp", path);
		r->has_detected_at = 1;
	}
	if ((x = json_object_get(ext, "contact")) != NULL) {
		if ((r->contact = calloc(1, sizeof(*r->contact))) == NULL)
			goto nomem;
		ceptoar__contact__init(r->contact);
		if (stix_str_in(x, "name", &r->contact->name,
		    HUB("contact.name"), property) == -1 ||
		    stix_str_in(x, "phone", &r->contact->phone,
		    HUB("contact.phone"), property) == -1 ||
		    stix_str_in(x, "email", &r->contact->email,
		    HUB("contact.email"), property) == -1 ||
		    stix_str_in(x, "unit", &r->contact->unit,
		    HUB("contact.unit"), property) == -1)
			BAD(path, "%s: must be a string", path);
	}
#undef HUB
#undef BAD
	*out = m;
	return 0;
nomem:
	cause_set(cause, "out of memory reading the incident");
fail:
	if (m != NULL)
		ceptoar__message__free_unpacked(m, NULL);
	return -1;
}

const char *
stix_property_of(const char *field, char *buf, size_t len)
{
	static const struct {
		const char	*field, *property;
	} top[] = {
		{ "uuid", "id" },
		{ "tlp", "object_marking_refs" },
		{ "report.title", "name" },
		{ "report.free_text", "description" },
	};
	size_t	i;

	for (i = 0; i < sizeof(top) / sizeof(top[0]); i++)
		if (strcmp(field, top[i].field) == 0)
			return top[i].property;
	if (strncmp(field, "report.", 7) == 0) {
		snprintf(buf, len, "extensions.%s.%s", STIX_HUB_EXT, field + 7);
		return buf;
	}
	return field;
}
