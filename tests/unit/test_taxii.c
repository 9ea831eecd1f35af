/*
 * TAXII 2.1's read side (daemon/taxii.c): next tokens, query parameters
 * and pages, with what real clients do to them (OpenCTI keeps one next
 * across collections and resends X-TAXII-Date-Added-Last at millisecond
 * precision; misp-modules always sends match[spec_version]=2.1).
 */
#include <stdlib.h>
#include <string.h>

#include "ceptoard.h"
#include "check.h"

static unsigned char	key[TAXII_KEY_LEN] = { 1, 2, 3 };

/* A reader of collection coll. */
static struct taxii_reader
reader(const char *org, const char *coll)
{
	struct taxii_reader	r = { org, coll, key, 5 };

	return r;
}

/* One delivery of n objects of type type, the k-th with id prefix id. */
static json_t *
objects(const char *type, const char *id, int n, const char *modified)
{
	json_t	*a = json_array();
	char	 buf[96];
	int	 i;

	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s--%s-%d", type, id, i);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "type",
		    type, "id", buf, "modified", modified));
	}
	return a;
}

static void
test_tokens(void)
{
	struct taxii_reader	r = reader("bank-a", "coll-a");
	struct taxii_query	q;
	char			tok[64], query[128], *field, *cause = NULL;

	taxii_next_token(key, "bank-a", "coll-a", 42, tok, sizeof(tok));
	snprintf(query, sizeof(query), "next=%s&limit=3", tok);
	CHECK(taxii_query_parse(query, &r, &q, &field, &cause) == 0);
	CHECK(q.has_next && q.after_seq == 42 && q.limit == 3);
	taxii_query_free(&q);
	/* Another collection's valid token: ignored, not refused. */
	r = reader("bank-a", "coll-b");
	CHECK(taxii_query_parse(query, &r, &q, &field, &cause) == 0);
	CHECK(!q.has_next && q.after_seq == 0);
	taxii_query_free(&q);
	/* Another reader's token, or a forged one: refused. */
	r = reader("bank-b", "coll-a");
	CHECK(taxii_query_parse(query, &r, &q, &field, &cause) == -1);
	CHECK_STR(field, "next");
	free(cause);
	cause = NULL;
	r = reader("bank-a", "coll-a");
	CHECK(taxii_query_parse("next=AAAA", &r, &q, &field, &cause) == -1);
	free(cause);
	cause = NULL;
}

static void
test_params(void)
{
	struct taxii_reader	 r = reader("bank-a", "coll-a");
	struct taxii_query	 q;
	char			*field, *cause = NULL;
	static const char *const bad[] = { "limit=0", "limit=-1",
	    "limit=ten", "added_after=yesterday", "added_after=2026-11-18",
	    "match[version]=2026-11-18T00:00:00Z" };
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(taxii_query_parse(bad[i], &r, &q, &field, &cause) == -1);
		CHECK(field != NULL && strncmp(bad[i], field,
		    strlen(field)) == 0);
		free(cause);
		cause = NULL;
	}
	CHECK(taxii_query_parse("limit=1000&added_after="
	    "2026-11-18T11%3A06%3A40.123456Z&match%5Btype%5D=incident,"
	    "indicator&match[spec_version]=2.1&unknown=1", &r, &q, &field,
	    &cause) == 0);
	CHECK(q.limit == 5);	/* lowered to the reader's maximum */
	CHECK(q.has_added_after && q.added_after_ms == 1795000000123LL);
	CHECK(q.n_types == 2 && q.spec_ok);
	taxii_query_free(&q);
	CHECK(taxii_query_parse("match[spec_version]=2.0", &r, &q, &field,
	    &cause) == 0);
	CHECK(!q.spec_ok);
	taxii_query_free(&q);
}

static void
test_pages(void)
{
	struct taxii_reader	 r = reader("bank-a", "coll-a");
	struct taxii_query	 q;
	struct taxii_page	 p;
	struct taxii_item	 it[3];
	char			*field, *cause = NULL, ts[40], query[160];
	int64_t			 ms;

	it[0] = (struct taxii_item){ 1, 1795000000100LL,
	    objects("incident", "a", 3, "2026-11-18T11:06:40.100Z") };
	it[1] = (struct taxii_item){ 2, 1795000000200LL,
	    objects("indicator", "b", 3, "2026-11-18T11:06:40.200Z") };
	it[2] = (struct taxii_item){ 5, 1795000000300LL,
	    objects("incident", "c", 1, "2026-11-18T11:06:40.300Z") };
	/* Limit 5: the first delivery whole, the second does not fit. */
	CHECK(taxii_query_parse(NULL, &r, &q, &field, &cause) == 0);
	CHECK(taxii_page(&r, &q, it, 3, false, &p, &cause) == 0);
	CHECK(json_array_size(json_object_get(p.envelope, "objects")) == 3);
	CHECK(p.more && p.last_seq == 1);
	CHECK(json_is_true(json_object_get(p.envelope, "more")));
	CHECK_STR(json_string_value(json_object_get(p.envelope, "next")),
	    p.next);
	CHECK_STR(p.date_added_first, "2026-11-18T11:06:40.100000Z");
	taxii_query_free(&q);
	json_decref(p.envelope);
	/* Following next, the rest. */
	snprintf(query, sizeof(query), "next=%s", p.next);
	CHECK(taxii_query_parse(query, &r, &q, &field, &cause) == 0);
	CHECK(q.after_seq == 1);
	CHECK(taxii_page(&r, &q, it + 1, 2, false, &p, &cause) == 0);
	CHECK(json_array_size(json_object_get(p.envelope, "objects")) == 4);
	CHECK(!p.more && json_is_false(json_object_get(p.envelope, "more")));
	CHECK(json_object_get(p.envelope, "next") == NULL);
	CHECK_STR(p.date_added_last, "2026-11-18T11:06:40.300000Z");
	/* OpenCTI resends the last date at milliseconds: nothing again. */
	CHECK(taxii_timestamp_parse("2026-11-18T11:06:40.300Z", &ms) == 0);
	taxii_timestamp(ms, ts, sizeof(ts));
	CHECK_STR(ts, "2026-11-18T11:06:40.300000Z");
	taxii_query_free(&q);
	json_decref(p.envelope);
	snprintf(query, sizeof(query), "added_after=%s", ts);
	CHECK(taxii_query_parse(query, &r, &q, &field, &cause) == 0);
	CHECK(taxii_page(&r, &q, it, 3, false, &p, &cause) == 0);
	CHECK(json_object_get(p.envelope, "objects") == NULL);
	CHECK(!p.more);
	taxii_query_free(&q);
	json_decref(p.envelope);
	/* Filtered out, with more beyond: never an empty page with more. */
	CHECK(taxii_query_parse("match[type]=malware", &r, &q, &field,
	    &cause) == 0);
	CHECK(taxii_page(&r, &q, it, 3, true, &p, &cause) == 1);
	CHECK(p.last_seq == 5);
	taxii_query_free(&q);
	/* misp-modules' spec_version 2.1 matches; 2.0 matches nothing. */
	CHECK(taxii_query_parse("match[spec_version]=2.0", &r, &q, &field,
	    &cause) == 0);
	CHECK(taxii_page(&r, &q, it, 3, false, &p, &cause) == 0);
	CHECK(json_object_get(p.envelope, "objects") == NULL);
	taxii_query_free(&q);
	json_decref(p.envelope);
	json_decref(it[0].objects);
	json_decref(it[1].objects);
	json_decref(it[2].objects);
}

static void
test_versions(void)
{
	struct taxii_reader	 r = reader("bank-a", "coll-a");
	struct taxii_query	 q;
	struct taxii_page	 p;
	struct taxii_item	 it[2];
	char			*field, *cause = NULL;
	json_t			*o;

	/* The same incident twice: a revision and its update. */
	it[0] = (struct taxii_item){ 1, 1795000000100LL,
	    objects("incident", "x", 1, "2026-11-18T11:06:40.100Z") };
	it[1] = (struct taxii_item){ 2, 1795000000200LL,
	    objects("incident", "x", 1, "2026-11-18T11:06:40.200Z") };
	CHECK(taxii_query_parse(NULL, &r, &q, &field, &cause) == 0);
	CHECK(taxii_page(&r, &q, it, 2, false, &p, &cause) == 0);
	o = json_object_get(p.envelope, "objects");
	CHECK(json_array_size(o) == 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(o, 0),
	    "modified")), "2026-11-18T11:06:40.200Z");
	taxii_query_free(&q);
	json_decref(p.envelope);
	CHECK(taxii_query_parse("match[version]=all", &r, &q, &field,
	    &cause) == 0);
	CHECK(taxii_page(&r, &q, it, 2, false, &p, &cause) == 0);
	CHECK(json_array_size(json_object_get(p.envelope, "objects")) == 2);
	taxii_query_free(&q);
	json_decref(p.envelope);
	json_decref(it[0].objects);
	json_decref(it[1].objects);
}

int
main(void)
{
	test_tokens();
	test_params();
	test_pages();
	test_versions();
	return CHECK_DONE();
}
