/*
 * TAXII 2.1, the read side, pure: query strings in, pages of a reader's
 * collection out.  No sockets, no store, no clock: the caller hands in
 * the reader's deliveries after a position, each with the STIX objects
 * stix.c made of it and the time it became visible to that reader.
 *
 * What the real clients need, and where it is met:
 *   - next is a position, never an offset: it carries the inbox sequence
 *     number of the last delivery served, the collection, and a keyed
 *     hash binding both to the reader, so it is stateless and lives as
 *     long as the key (taxii_next_token, taxii_query_parse);
 *   - a valid next of another collection is ignored, not refused
 *     (OpenCTI keeps one next across collections and would skip a
 *     collection that answers 4xx for good); one not issued to this
 *     reader, or not the hub's, is refused;
 *   - a page with more: true always has objects and a next (a page with
 *     more and nothing in it stalls OpenCTI): the caller filters what the
 *     reader may see before paging, and a page ends on a whole delivery;
 *   - date_added is whole milliseconds written with microseconds, and
 *     added_after compares at that precision (OpenCTI resends
 *     X-TAXII-Date-Added-Last at millisecond precision);
 *   - match[spec_version] other than 2.1 matches nothing (misp-modules
 *     always sends 2.1).
 */
#include <sys/queue.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#include "ceptoard.h"

#define TAXII_TOKEN_VERSION	1
#define TAXII_TOKEN_RAW		(1 + 8 + 8 + 16)

/* A keyed hash binding a token's bytes to reader. */
static void
taxii_token_mac(const unsigned char key[TAXII_KEY_LEN], const char *reader,
    const unsigned char *raw, size_t len, unsigned char mac[16])
{
	crypto_generichash_state	st;

	crypto_generichash_init(&st, key, TAXII_KEY_LEN, 16);
	crypto_generichash_update(&st, (const unsigned char *)"taxii-next|",
	    11);
	crypto_generichash_update(&st, (const unsigned char *)reader,
	    strlen(reader) + 1);
	crypto_generichash_update(&st, raw, len);
	crypto_generichash_final(&st, mac, 16);
}

/* The 8 bytes that name collection in a token. */
static void
taxii_collection_tag(const char *collection, unsigned char tag[8])
{
	crypto_generichash(tag, 8, (const unsigned char *)collection,
	    strlen(collection), NULL, 0);
}

void
taxii_next_token(const unsigned char key[TAXII_KEY_LEN], const char *reader,
    const char *collection, uint64_t seq, char *out, size_t len)
{
	unsigned char	raw[TAXII_TOKEN_RAW];
	int		i;

	raw[0] = TAXII_TOKEN_VERSION;
	for (i = 0; i < 8; i++)
		raw[1 + i] = (unsigned char)(seq >> (56 - 8 * i));
	taxii_collection_tag(collection, raw + 9);
	taxii_token_mac(key, reader, raw, 17, raw + 17);
	sodium_bin2base64(out, len, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/*
 * The position token names for reader in collection: 1 with *seq set,
 * 0 when it is a valid token of another collection (ignored), -1 when it
 * is not a token the hub issued to this reader.
 */
static int
taxii_token_read(const unsigned char key[TAXII_KEY_LEN], const char *reader,
    const char *collection, const char *token, uint64_t *seq)
{
	unsigned char	raw[TAXII_TOKEN_RAW + 4], mac[16], tag[8];
	size_t		len = 0;
	int		i;

	if (sodium_base642bin(raw, sizeof(raw), token, strlen(token), NULL,
	    &len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    len != TAXII_TOKEN_RAW || raw[0] != TAXII_TOKEN_VERSION)
		return -1;
	taxii_token_mac(key, reader, raw, 17, mac);
	if (sodium_memcmp(mac, raw + 17, 16) != 0)
		return -1;
	taxii_collection_tag(collection, tag);
	if (memcmp(tag, raw + 9, 8) != 0)
		return 0;
	*seq = 0;
	for (i = 0; i < 8; i++)
		*seq = (*seq << 8) | raw[1 + i];
	return 1;
}

int
taxii_timestamp_parse(const char *s, int64_t *ms)
{
	struct tm	 tm;
	const char	*p;
	int64_t		 frac = 0;
	int		 digits = 0;
	time_t		 t;

	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, digits++)
			if (digits < 3)
				frac = frac * 10 + (*p - '0');
		if (digits == 0)
			return -1;
		for (; digits < 3; digits++)
			frac *= 10;
	}
	if (strcmp(p, "Z") != 0)
		return -1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*ms = (int64_t)t * 1000 + frac;
	return 0;
}

void
taxii_timestamp(int64_t ms, char *out, size_t len)
{
	char	stix[32];

	/* STIX's milliseconds, written as microseconds. */
	stix_timestamp(ms, stix, sizeof(stix));
	stix[strlen(stix) - 1] = '\0';
	snprintf(out, len, "%s000Z", stix);
}

/* Split a comma-separated match value into a new list in *v. */
static int
taxii_split(const char *s, char ***v, size_t *n)
{
	char	*copy, *tok, *save = NULL, **nv;

	if ((copy = strdup(s)) == NULL)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((nv = reallocarray(*v, *n + 1, sizeof(*nv))) == NULL) {
			free(copy);
			return -1;
		}
		*v = nv;
		if ((nv[*n] = strdup(tok)) == NULL) {
			free(copy);
			return -1;
		}
		(*n)++;
	}
	free(copy);
	return 0;
}

void
taxii_query_free(struct taxii_query *q)
{
	size_t	i;

	for (i = 0; i < q->n_ids; i++)
		free(q->ids[i]);
	for (i = 0; i < q->n_types; i++)
		free(q->types[i]);
	free(q->ids);
	free(q->types);
	memset(q, 0, sizeof(*q));
}

int
taxii_query_parse(const char *query, const struct taxii_reader *r,
    struct taxii_query *q, char **field, char **cause)
{
	struct evkeyvalq	 params;
	struct evkeyval		*kv;
	char			*end, *key = NULL;
	unsigned long		 l;
	int			 rc = -1, t;

	memset(q, 0, sizeof(*q));
	q->limit = r->max_limit;
	q->version = TAXII_VERSION_LAST;
	q->spec_ok = true;
	TAILQ_INIT(&params);
	*field = NULL;
	if (query != NULL && evhttp_parse_query_str(query, &params) == -1) {
		*field = "query";
		cause_set(cause, "the query string does not decode");
		return -1;
	}
	TAILQ_FOREACH(kv, &params, next) {
		/* libevent decodes values only; clients encode [ and ]. */
		free(key);
		if ((key = evhttp_uridecode(kv->key, 0, NULL)) == NULL)
			goto nomem;
		if (strcmp(key, "added_after") == 0) {
			if (taxii_timestamp_parse(kv->value,
			    &q->added_after_ms) == -1) {
				*field = "added_after";
				cause_set(cause, "added_after: \"%.64s\" is not "
				    "a timestamp (YYYY-MM-DDTHH:MM:SS[.s]Z)",
				    kv->value);
				goto out;
			}
			q->has_added_after = true;
		} else if (strcmp(key, "limit") == 0) {
			errno = 0;
			l = strtoul(kv->value, &end, 10);
			if (errno != 0 || *end != '\0' || end == kv->value ||
			    l == 0 || kv->value[0] == '-') {
				*field = "limit";
				cause_set(cause, "limit: \"%.32s\" is not a "
				    "positive integer", kv->value);
				goto out;
			}
			/* A larger limit is lowered, as TAXII allows. */
			q->limit = l < r->max_limit ? (unsigned)l : r->max_limit;
		} else if (strcmp(key, "next") == 0) {
			t = taxii_token_read(r->key, r->org, r->collection,
			    kv->value, &q->after_seq);
			if (t == -1) {
				*field = "next";
				cause_set(cause, "next: not a position the hub "
				    "gave you in a collection");
				goto out;
			}
			q->has_next = t == 1;
		} else if (strcmp(key, "match[id]") == 0) {
			if (taxii_split(kv->value, &q->ids, &q->n_ids) == -1)
				goto nomem;
		} else if (strcmp(key, "match[type]") == 0) {
			if (taxii_split(kv->value, &q->types, &q->n_types) == -1)
				goto nomem;
		} else if (strcmp(key, "match[version]") == 0) {
			if (strcmp(kv->value, "last") == 0)
				q->version = TAXII_VERSION_LAST;
			else if (strcmp(kv->value, "first") == 0)
				q->version = TAXII_VERSION_FIRST;
			else if (strcmp(kv->value, "all") == 0)
				q->version = TAXII_VERSION_ALL;
			else {
				*field = "match[version]";
				cause_set(cause, "match[version]: only last, "
				    "first and all are served");
				goto out;
			}
		} else if (strcmp(key, "match[spec_version]") == 0) {
			q->spec_ok = strstr(kv->value, "2.1") != NULL;
		}
		/* Other parameters are ignored, as TAXII asks. */
	}
	rc = 0;
	goto out;
nomem:
	*field = "query";
	cause_set(cause, "out of memory reading the query");
out:
	free(key);
	evhttp_clear_headers(&params);
	if (rc == -1)
		taxii_query_free(q);
	return rc;
}

/* Whether s is one of the n strings of v (an empty list matches all). */
static bool
taxii_in(const char *s, char **v, size_t n)
{
	size_t	i;

	if (n == 0)
		return true;
	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(s, v[i]) == 0)
			return true;
	return false;
}

/*
 * Whether object o, added at ms, passes q's filters.  Versions are the
 * deliveries: every delivery of an object is a version of it, and
 * match[version] chooses among those of the page's run.
 */
static bool
taxii_match(const struct taxii_query *q, json_t *o)
{
	return q->spec_ok &&
	    taxii_in(json_string_value(json_object_get(o, "id")), q->ids,
	    q->n_ids) &&
	    taxii_in(json_string_value(json_object_get(o, "type")), q->types,
	    q->n_types);
}

/* Whether objs (of this page so far) already hold o's id and version. */
static bool
taxii_seen(json_t *objs, json_t *o)
{
	const char	*id = json_string_value(json_object_get(o, "id"));
	const char	*v = json_string_value(json_object_get(o, "modified"));
	json_t		*p;
	size_t		 i;

	json_array_foreach(objs, i, p) {
		if (strcmp(json_string_value(json_object_get(p, "id")), id) != 0)
			continue;
		if (v == NULL || json_object_get(p, "modified") == NULL ||
		    strcmp(json_string_value(json_object_get(p, "modified")),
		    v) == 0)
			return true;
	}
	return false;
}

/*
 * Keep, for each id in objs, only its last (or first) version by
 * modified; added runs alongside objs and loses the same entries.
 */
static void
taxii_versions(json_t *objs, json_t *added, bool first)
{
	const char	*id, *v, *pid, *pv;
	json_t		*o, *p;
	size_t		 i, k;
	bool		 drop;

	for (i = json_array_size(objs); i-- > 0;) {
		o = json_array_get(objs, i);
		id = json_string_value(json_object_get(o, "id"));
		v = json_string_value(json_object_get(o, "modified"));
		if (v == NULL)
			continue;
		drop = false;
		json_array_foreach(objs, k, p) {
			if (k == i)
				continue;
			pid = json_string_value(json_object_get(p, "id"));
			pv = json_string_value(json_object_get(p, "modified"));
			if (pv == NULL || strcmp(pid, id) != 0)
				continue;
			/* Timestamps of one format compare as strings. */
			if (first ? strcmp(pv, v) < 0 : strcmp(pv, v) > 0)
				drop = true;
		}
		if (drop) {
			json_array_remove(objs, i);
			json_array_remove(added, i);
		}
	}
}

int
taxii_page(const struct taxii_reader *r, const struct taxii_query *q,
    const struct taxii_item *items, size_t n, bool more_after,
    struct taxii_page *page, char **cause)
{
	json_t		*objs, *o, *added;
	size_t		 i, k, taken = 0;
	uint64_t	 last_seq = 0;
	int64_t		 first_ms = -1, last_ms = -1;
	char		 ts[40];

	memset(page, 0, sizeof(*page));
	if ((objs = json_array()) == NULL || (added = json_array()) == NULL) {
		json_decref(objs);
		cause_set(cause, "out of memory making a TAXII page");
		return -1;
	}
	for (i = 0; i < n; i++) {
		const struct taxii_item *it = &items[i];
		size_t before = json_array_size(objs);

		if (q->has_added_after && it->date_added_ms <= q->added_after_ms)
			continue;
		/* A page ends on a whole delivery, once it has any object. */
		if (taken > 0 && taken + json_array_size(it->objects) >
		    q->limit)
			break;
		json_array_foreach(it->objects, k, o) {
			if (!taxii_match(q, o) || taxii_seen(objs, o))
				continue;
			json_array_append(objs, o);
			json_array_append_new(added,
			    json_integer(it->date_added_ms));
		}
		last_seq = it->seq;
		if (json_array_size(objs) > before) {
			if (first_ms < 0)
				first_ms = it->date_added_ms;
			last_ms = it->date_added_ms;
		}
		taken = json_array_size(objs);
	}
	/* A version filter picks among the copies this page holds. */
	if (q->version != TAXII_VERSION_ALL)
		taxii_versions(objs, added, q->version == TAXII_VERSION_FIRST);
	page->more = i < n || more_after;
	if (last_seq == 0)
		last_seq = q->after_seq;
	page->last_seq = last_seq;
	if (page->more) {
		taxii_next_token(r->key, r->org, r->collection, last_seq,
		    page->next, sizeof(page->next));
	}
	/* Nothing here but more beyond: the caller reads further. */
	if (page->more && json_array_size(objs) == 0) {
		json_decref(objs);
		json_decref(added);
		return 1;
	}
	page->envelope = json_object();
	if (json_array_size(objs) > 0)
		json_object_set_new(page->envelope, "objects", objs);
	else
		json_decref(objs);
	json_decref(added);
	if (page->more) {
		json_object_set_new(page->envelope, "more", json_true());
		json_object_set_new(page->envelope, "next",
		    json_string(page->next));
	} else if (json_object_size(page->envelope) > 0)
		json_object_set_new(page->envelope, "more", json_false());
	if (first_ms >= 0) {
		taxii_timestamp(first_ms, ts, sizeof(ts));
		snprintf(page->date_added_first, sizeof(page->date_added_first),
		    "%s", ts);
		taxii_timestamp(last_ms, ts, sizeof(ts));
		snprintf(page->date_added_last, sizeof(page->date_added_last),
		    "%s", ts);
	}
	return 0;
}
