/*
 * TAXII 2.1 over HTTPS: the read side of an organisation's inbox, and
 * an operator's incidents posted to it as reports, served
 * by libevent's evhttp over the hub's OpenSSL bufferevents on a listener
 * of its own (taxii_listen).  taxii.c decides what a page holds; this
 * file authenticates the reader, reads its inbox and speaks HTTP.
 *
 *   /taxii2/                                   discovery
 *   /ceptoar/                                  the API root
 *   /ceptoar/collections/                      the reader's collections
 *   /ceptoar/collections/ID/                   one of them
 *   /ceptoar/collections/ID/objects/           its objects, paged;
 *                                              POST: an operator's incidents
 *   /ceptoar/collections/ID/manifest/          what they are, paged
 *   /ceptoar/collections/ID/objects/OID/       one object (its versions)
 *   /ceptoar/collections/ID/objects/OID/versions/
 *   /ceptoar/status/SID/                       what became of a POST
 *
 * A reader is an organisation of the directory, known by its TLS client
 * certificate (the same CN rule as the clients' listener) or, for MISP,
 * which only speaks HTTP Basic, by its organisation id and the password
 * whose hash the directory holds (taxii_basic).  Its one collection is
 * its inbox: exactly what the hub delivered to it, in the form it
 * received it, as stix.c makes STIX of it; date_added is when the
 * delivery became visible to it (the store's visible_at).
 *
 * Every call into the hub's store and routing goes through the taxii_src_*
 * functions at the top, which ask the service layer (service.c), as the
 * protobuf session does; nothing here touches the store.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <sodium.h>

#include "ceptoard.h"

/* The API root's path and title (no dots: OpenCTI splits titles on .). */
#define TAXII_ROOT		"/ceptoar/"
#define TAXII_ROOT_TITLE	"CEPTOAR hub"
/* Largest request header block, in bytes. */
#define TAXII_MAX_HEADERS	16384
/* Successful Basic verifications remembered, and for how long. */
#define TAXII_AUTH_CACHE	256
#define TAXII_AUTH_TTL		300
/* Password hash verifications a second at most (each takes ~0.1 s). */
#define TAXII_AUTH_RATE		4.0
/* Longest organisation id or password read from a Basic header. */
#define TAXII_BASIC_MAX		256
/* Objects one POST may carry, and status resources kept (and how long). */
#define TAXII_POST_OBJECTS	100
#define TAXII_STATUS_MAX	256
#define TAXII_STATUS_TTL	86400
/* The STIX incident core extension an operator's incident carries. */
#define TAXII_INCIDENT_EXT \
	"extension-definition--ef765651-680c-498d-9894-99799f2fa126"

/* The deliveries read at a time while a page is made. */
struct taxii_batch {
	struct taxii_item	*items;
	json_t			**objs;
	size_t			 n, cap;
	size_t			 read;		/* rows the store gave */
	uint64_t		 last_seq;	/* highest seq read */
	char			*cause;
};

/* One remembered Basic verification: a keyed hash, and until when. */
struct taxii_auth_entry {
	unsigned char	mac[32];
	int64_t		expires;
};

/* One object of a POST, as its status resource tells of it. */
struct taxii_status_item {
	char		*id;
	char		*version;
	char		*message;
	enum { TAXII_PENDING, TAXII_SUCCESS, TAXII_FAILURE } state;
};

/*
 * A status resource: what became of one POST's objects, readable by the
 * organisation that posted it.  serial tells a reused slot apart, so a
 * submit completing after its status was dropped changes nothing.
 */
struct taxii_status {
	char				 id[40];	/* "" : free */
	char				 org[128];
	uint64_t			 serial;
	int64_t				 created;	/* ms */
	struct taxii_status_item	*items;
	size_t				 n;
};

static struct {
	struct evhttp			*http;
	int				 fd;
	char				 address[80];
	unsigned char			 next_key[TAXII_KEY_LEN];
	unsigned char			 auth_key[crypto_generichash_KEYBYTES];
	struct taxii_auth_entry		 auth[TAXII_AUTH_CACHE];
	size_t				 auth_next;
	struct rate_bucket		 auth_rate;
	size_t				 conns;
	const char			*endpoint;	/* of the request */
	struct taxii_status		 status[TAXII_STATUS_MAX];
	uint64_t			 status_serial;
} tx = { .fd = -1 };

/*
 * The sources: what TAXII asks of the hub, through the service layer
 * (deliveries) and the directory (who a credential names).
 */

/*
 * Deliveries of org after inbox position after, at most limit, in
 * order, up to what is durable (a delivery not yet durable might still
 * be undone): cb per delivery, as the store holds them (service_inbox_read).
 */
static int
taxii_src_deliveries(const char *org, uint64_t after, size_t limit,
    store_delivery_cb cb, void *arg, char **cause)
{
	struct service_caller	 who = { .org = org, .sid = "taxii" };
	struct service_error	 err;

	memset(&err, 0, sizeof(err));
	if (service_inbox_read(&who, after, limit, cb, arg, &err) == -1) {
		cause_set(cause, "%s", err.message);
		return -1;
	}
	return 0;
}

/* The organisation whose certificate CN is cn, or NULL. */
static const struct dir_org *
taxii_src_org_by_cn(const char *cn)
{
	return directory_org_by_cn(hub->dir, cn);
}

/* The organisation with id id, or NULL. */
static const struct dir_org *
taxii_src_org(const char *id)
{
	return directory_org(hub->dir, id);
}

/* The end of the sources. */

/* The collection id of org's inbox: a UUID derived from its id alone. */
static void
taxii_collection_id(const char *org, char *out, size_t len)
{
	unsigned char	h[16];

	crypto_generichash(h, sizeof(h), (const unsigned char *)org,
	    strlen(org), (const unsigned char *)"ceptoar-taxii-collection", 24);
	/* Shaped as a name-based UUID (version 5, RFC 4122 variant). */
	h[6] = (h[6] & 0x0f) | 0x50;
	h[8] = (h[8] & 0x3f) | 0x80;
	snprintf(out, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2], h[3], h[4], h[5],
	    h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
}

/* Send body (taken over, may be NULL) with status and TAXII's media type. */
static void
taxii_send(struct evhttp_request *req, int status, const char *reason,
    json_t *body)
{
	struct evbuffer	*b;
	char		*text = NULL, code[8];

	if (body != NULL)
		text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if ((b = evbuffer_new()) == NULL) {
		free(text);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	if (text != NULL)
		evbuffer_add(b, text, strlen(text));
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", TAXII_MEDIA_TYPE);
	snprintf(code, sizeof(code), "%d", status);
	metrics_count(METRICS_TAXII_REQUESTS,
	    tx.endpoint ? tx.endpoint : "other", code);
	evhttp_send_reply(req, status, reason, b);
	evbuffer_free(b);
}

/* The reason phrase of an HTTP status the server answers with. */
static const char *
taxii_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	}
	return "Internal Server Error";
}

/*
 * Answer req with a TAXII error object (title, description, http_status
 * as a string, details naming the parameter at fault) and log it.
 */
static void __attribute__((format(printf, 5, 6)))
taxii_error(struct evhttp_request *req, const char *org, int status,
    const char *field, const char *fmt, ...)
{
	char		 desc[512], esc[600], code[8];
	json_t		*e;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	snprintf(code, sizeof(code), "%d", status);
	e = json_pack("{s:s, s:s, s:s}", "title", taxii_reason(status),
	    "description", desc, "http_status", code);
	if (e != NULL && field != NULL)
		json_object_set_new(e, "details", json_pack("{s:s}",
		    "parameter", field));
	log_event(status >= 500 ? LOG_LVL_ERROR : LOG_LVL_INFO,
	    "taxii.refused", "org=%s status=%d path=%s cause=%s",
	    org ? org : "-", status,
	    log_escape(evhttp_request_get_uri(req), esc, 200),
	    log_escape(desc, esc + 200, 400));
	if (status == 401)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Basic realm=\"" TAXII_ROOT_TITLE "\"");
	taxii_send(req, status, taxii_reason(status), e);
}

/*
 * Basic credentials: the password is checked against the directory's
 * crypto_pwhash_str hash, which is deliberately slow (~0.1 s of CPU and
 * 64 MiB).  Done for every request, it would stall the event loop, and
 * every other client with it, for each page a MISP instance reads.  So a
 * successful verification is remembered for TAXII_AUTH_TTL seconds as a
 * hash of (organisation, password, stored hash) keyed with a secret
 * drawn at start: the table holds nothing a reader of memory could turn
 * back into a password, a changed directory hash misses it, and it is
 * bounded (oldest entries are overwritten).  Verifications that are not
 * remembered are rate limited, so wrong passwords cannot stall the loop
 * either: over the rate the request is answered 429.
 */
static void
taxii_auth_mac(const char *org, const char *pw, size_t pwlen,
    const char *hash, unsigned char mac[32])
{
	crypto_generichash_state	st;

	crypto_generichash_init(&st, tx.auth_key, sizeof(tx.auth_key), 32);
	crypto_generichash_update(&st, (const unsigned char *)org,
	    strlen(org) + 1);
	crypto_generichash_update(&st, (const unsigned char *)pw, pwlen);
	crypto_generichash_update(&st, (const unsigned char *)"", 1);
	crypto_generichash_update(&st, (const unsigned char *)hash,
	    strlen(hash));
	crypto_generichash_final(&st, mac, 32);
}

/*
 * Check a Basic authorization header: the organisation in *org, 0; -1
 * refused (401, why set); -2 over the verification rate (429).
 */
static int
taxii_basic(const char *header, const struct dir_org **org,
    const char **why)
{
	char			 raw[2 * TAXII_BASIC_MAX + 2], *colon;
	unsigned char		 mac[32];
	const struct dir_org	*o;
	size_t			 len = 0, i;
	int64_t			 now = (int64_t)time(NULL);
	int			 rc = -1;

	*why = "bad credentials";
	if (strncasecmp(header, "Basic ", 6) != 0) {
		*why = "only Basic authorization is served";
		return -1;
	}
	header += 6;
	while (*header == ' ')
		header++;
	if (sodium_base642bin((unsigned char *)raw, sizeof(raw) - 1, header,
	    strlen(header), NULL, &len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0) {
		*why = "the Basic credentials do not decode";
		return -1;
	}
	raw[len] = '\0';
	/* Generated passwords hold no ':' (MISP splits on every one). */
	if (memchr(raw, '\0', len) != NULL ||
	    (colon = strchr(raw, ':')) == NULL) {
		*why = "the Basic credentials are not organisation:password";
		goto out;
	}
	*colon = '\0';
	if ((o = taxii_src_org(raw)) == NULL || o->taxii_basic == NULL)
		goto out;
	taxii_auth_mac(o->id, colon + 1, strlen(colon + 1), o->taxii_basic,
	    mac);
	for (i = 0; i < TAXII_AUTH_CACHE; i++) {
		if (tx.auth[i].expires > now &&
		    sodium_memcmp(tx.auth[i].mac, mac, sizeof(mac)) == 0) {
			*org = o;
			rc = 0;
			goto out;
		}
	}
	if (!rate_take(&tx.auth_rate, TAXII_AUTH_RATE, TAXII_AUTH_RATE,
	    rate_now_ms())) {
		*why = "too many password checks at once; retry shortly";
		rc = -2;
		goto out;
	}
	if (crypto_pwhash_str_verify(o->taxii_basic, colon + 1,
	    strlen(colon + 1)) != 0)
		goto out;
	memcpy(tx.auth[tx.auth_next].mac, mac, sizeof(mac));
	tx.auth[tx.auth_next].expires = now + TAXII_AUTH_TTL;
	tx.auth_next = (tx.auth_next + 1) % TAXII_AUTH_CACHE;
	*org = o;
	rc = 0;
out:
	sodium_memzero(raw, sizeof(raw));
	return rc;
}

/*
 * Who sends req: the organisation of its client certificate (verified
 * in the handshake, CN decoded as on the clients' listener), else of
 * its Basic credentials.  NULL after answering 401 (or 429).
 */
static const struct dir_org *
taxii_reader(struct evhttp_request *req)
{
	struct evhttp_connection	*conn;
	struct bufferevent		*bev;
	const struct dir_org		*o = NULL;
	const char			*auth, *why;
	char				 cn[256], fp[72], esc[300];
	int				 rc;

	conn = evhttp_request_get_connection(req);
	bev = conn != NULL ? evhttp_connection_get_bufferevent(conn) : NULL;
	if (bev != NULL && tls_has_peer_certificate(bev)) {
		if (tls_peer_identity(bev, cn, sizeof(cn), fp, sizeof(fp),
		    &why) == -1) {
			taxii_error(req, NULL, 401, NULL, "client certificate "
			    "refused: %s", why);
			return NULL;
		}
		if ((o = taxii_src_org_by_cn(cn)) == NULL) {
			taxii_error(req, NULL, 401, NULL, "certificate CN=%s "
			    "belongs to no organisation in the hub's directory",
			    log_escape(cn, esc, sizeof(esc)));
			return NULL;
		}
		return o;
	}
	auth = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (auth == NULL) {
		taxii_error(req, NULL, 401, NULL, "authenticate with a client "
		    "certificate or HTTP Basic (organisation id and its TAXII "
		    "password)");
		return NULL;
	}
	if ((rc = taxii_basic(auth, &o, &why)) == 0)
		return o;
	taxii_error(req, NULL, rc == -2 ? 429 : 401, NULL, "%s", why);
	return NULL;
}

/* Whether req's Accept header allows TAXII's media type (or is absent). */
static bool
taxii_acceptable(struct evhttp_request *req, bool stix)
{
	const char	*a;

	a = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Accept");
	if (a == NULL || strstr(a, "*/*") != NULL ||
	    strstr(a, "application/*") != NULL ||
	    strstr(a, "application/json") != NULL)
		return true;
	if (strstr(a, "application/taxii+json") != NULL &&
	    (strstr(a, "version=") == NULL || strstr(a, "version=2.1")))
		return true;
	return stix && strstr(a, "application/stix+json") != NULL;
}

/* Free what a batch holds. */
static void
taxii_batch_free(struct taxii_batch *b)
{
	size_t	i;

	for (i = 0; i < b->n; i++)
		json_decref(b->objs[i]);
	free(b->items);
	free(b->objs);
	free(b->cause);
	memset(b, 0, sizeof(*b));
}

/*
 * One delivery read from the store: its STIX objects (with the marking
 * definition and the hub's extension definition each refers to), and
 * when it became visible, as an item of the batch.  A delivery with no
 * STIX form (a reply, a check) is skipped: a TAXII reader never sees it.
 */
static int
taxii_batch_add(const struct store_delivery *d, void *arg)
{
	struct taxii_batch	*b = arg;
	struct stix_form	 f;
	Ceptoar__Message	*m;
	json_t			*objs, *mk;
	void			*nv;
	char			*cause = NULL, esc[300];
	int			 rc;

	b->read++;
	b->last_seq = d->seq;
	if (d->body == NULL) {
		log_event(LOG_LVL_ERROR, "taxii.skipped", "org=%s seq=%llu "
		    "hub_id=%s cause=%s", d->recipient,
		    (unsigned long long)d->seq, d->hub_id,
		    log_escape(d->body_error ? d->body_error : "no body", esc,
		    sizeof(esc)));
		return 0;
	}
	if ((m = ceptoar__message__unpack(NULL, d->body_len, d->body)) ==
	    NULL) {
		log_event(LOG_LVL_ERROR, "taxii.skipped", "org=%s seq=%llu "
		    "hub_id=%s cause=\"stored body does not unpack\"",
		    d->recipient, (unsigned long long)d->seq, d->hub_id);
		return 0;
	}
	memset(&f, 0, sizeof(f));
	f.msg = m;
	f.form = d->form;
	f.hub_id = d->hub_id;
	f.creator = d->sender;
	/* Whole milliseconds: OpenCTI resends them at that precision. */
	f.created_ms = f.modified_ms = d->visible_at;
	if ((objs = json_array()) == NULL) {
		ceptoar__message__free_unpacked(m, NULL);
		cause_set(&b->cause, "out of memory");
		return 1;
	}
	rc = stix_objects(&f, hub->dir, objs, &cause);
	if (rc == 0) {
		if ((mk = stix_tlp_marking(m->tlp)) != NULL)
			json_array_insert_new(objs, 0, mk);
		json_array_append_new(objs, stix_hub_identity());
		json_array_append_new(objs, stix_hub_extension());
	}
	ceptoar__message__free_unpacked(m, NULL);
	if (rc != 0) {
		if (rc == -1)
			log_event(LOG_LVL_ERROR, "taxii.skipped", "org=%s "
			    "seq=%llu hub_id=%s cause=%s", d->recipient,
			    (unsigned long long)d->seq, d->hub_id,
			    log_escape(cause ? cause : "stix", esc,
			    sizeof(esc)));
		free(cause);
		json_decref(objs);
		return 0;
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 32;

		if ((nv = reallocarray(b->items, cap, sizeof(*b->items))) ==
		    NULL) {
			json_decref(objs);
			cause_set(&b->cause, "out of memory");
			return 1;
		}
		b->items = nv;
		if ((nv = reallocarray(b->objs, cap, sizeof(*b->objs))) ==
		    NULL) {
			json_decref(objs);
			cause_set(&b->cause, "out of memory");
			return 1;
		}
		b->objs = nv;
		b->cap = cap;
	}
	b->objs[b->n] = objs;
	b->items[b->n].seq = d->seq;
	b->items[b->n].date_added_ms = d->visible_at;
	b->items[b->n].objects = objs;
	b->n++;
	return 0;
}

/*
 * The page of r's collection that q asks for, read from the store batch
 * by batch until a page is made: 0 with page and, in *batch, the items
 * it was made from (for the manifest's dates); -1 with a cause.
 */
static int
taxii_read_page(const struct taxii_reader *r, const struct taxii_query *q,
    struct taxii_page *page, struct taxii_batch *batch, char **cause)
{
	struct taxii_query	 qq = *q;
	size_t			 want = (size_t)hub->conf.taxii_page_size;
	uint64_t		 after = q->has_next ? q->after_seq : 0;
	int			 rc;

	for (;;) {
		taxii_batch_free(batch);
		if (taxii_src_deliveries(r->org, after, want, taxii_batch_add,
		    batch, cause) == -1)
			return -1;
		if (batch->cause != NULL) {
			*cause = batch->cause;
			batch->cause = NULL;
			return -1;
		}
		qq.after_seq = after;
		rc = taxii_page(r, &qq, batch->items, batch->n,
		    batch->read == want, page, cause);
		if (rc != 1)
			return rc;
		/* All filtered out, more beyond: read on from there. */
		after = batch->last_seq > page->last_seq ? batch->last_seq :
		    page->last_seq;
	}
}

/* The date_added of object o (by id and modified) among batch's items. */
static int64_t
taxii_added_of(const struct taxii_batch *b, json_t *o)
{
	const char	*id = json_string_value(json_object_get(o, "id"));
	json_t		*mod = json_object_get(o, "modified"), *p;
	size_t		 i, k;

	for (i = 0; i < b->n; i++) {
		json_array_foreach(b->items[i].objects, k, p) {
			if (strcmp(json_string_value(json_object_get(p, "id")),
			    id) != 0)
				continue;
			if (mod == NULL || json_equal(mod,
			    json_object_get(p, "modified")))
				return b->items[i].date_added_ms;
		}
	}
	return 0;
}

/* The version of o: modified, else created, else its date_added. */
static const char *
taxii_version_of(json_t *o, int64_t added, char *buf, size_t len)
{
	const char	*v;

	if ((v = json_string_value(json_object_get(o, "modified"))) != NULL ||
	    (v = json_string_value(json_object_get(o, "created"))) != NULL)
		return v;
	taxii_timestamp(added, buf, len);
	return buf;
}

/* Set the X-TAXII-Date-Added-First/Last headers of a page. */
static void
taxii_date_headers(struct evhttp_request *req, const struct taxii_page *p)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);

	if (p->date_added_first[0] == '\0')
		return;
	evhttp_add_header(h, "X-TAXII-Date-Added-First", p->date_added_first);
	evhttp_add_header(h, "X-TAXII-Date-Added-Last", p->date_added_last);
}

enum taxii_view { TAXII_OBJECTS, TAXII_MANIFEST, TAXII_OBJECT,
    TAXII_VERSIONS };

/*
 * Objects, manifest, one object or its versions of org's collection,
 * for the query string query; oid is the object's id for the last two.
 */
static void
taxii_serve_objects(struct evhttp_request *req, const struct dir_org *o,
    const char *collection, enum taxii_view view, const char *oid,
    const char *query)
{
	struct taxii_reader	 r;
	struct taxii_query	 q;
	struct taxii_page	 page;
	struct taxii_batch	 batch;
	json_t			*objs, *out, *list, *p;
	char			*field = NULL, *cause = NULL, **ids, ts[40],
				 vb[40];
	size_t			 i, nobjs;

	memset(&r, 0, sizeof(r));
	memset(&batch, 0, sizeof(batch));
	r.org = o->id;
	r.collection = collection;
	r.key = tx.next_key;
	r.max_limit = (unsigned)hub->conf.taxii_page_size;
	if (taxii_query_parse(query, &r, &q, &field, &cause) == -1) {
		taxii_error(req, o->id, 400, field, "%s",
		    cause ? cause : "bad query");
		free(cause);
		return;
	}
	if (oid != NULL) {
		/* One object: its id is the only match[id]. */
		for (i = 0; i < q.n_ids; i++)
			free(q.ids[i]);
		if ((ids = reallocarray(q.ids, 1, sizeof(*ids))) == NULL ||
		    (ids[0] = strdup(oid)) == NULL) {
			q.ids = ids;
			q.n_ids = 0;
			taxii_query_free(&q);
			taxii_error(req, o->id, 500, NULL, "out of memory");
			return;
		}
		q.ids = ids;
		q.n_ids = 1;
		if (view == TAXII_VERSIONS)
			q.version = TAXII_VERSION_ALL;
	}
	if (taxii_read_page(&r, &q, &page, &batch, &cause) == -1) {
		taxii_query_free(&q);
		taxii_batch_free(&batch);
		taxii_error(req, o->id, 500, NULL, "%s",
		    cause ? cause : "cannot read the collection");
		free(cause);
		return;
	}
	objs = json_object_get(page.envelope, "objects");
	if (oid != NULL && objs == NULL && !page.more) {
		json_decref(page.envelope);
		taxii_query_free(&q);
		taxii_batch_free(&batch);
		taxii_error(req, o->id, 404, NULL, "no object %s in this "
		    "collection", oid);
		return;
	}
	nobjs = json_array_size(objs);
	out = page.envelope;
	if (view == TAXII_MANIFEST || view == TAXII_VERSIONS) {
		out = json_object();
		list = json_array();
		json_array_foreach(objs, i, p) {
			int64_t added = taxii_added_of(&batch, p);
			const char *v = taxii_version_of(p, added, vb,
			    sizeof(vb));

			if (view == TAXII_VERSIONS) {
				json_array_append_new(list, json_string(v));
				continue;
			}
			taxii_timestamp(added, ts, sizeof(ts));
			json_array_append_new(list, json_pack("{s:O, s:s, s:s, "
			    "s:s}", "id", json_object_get(p, "id"),
			    "date_added", ts, "version", v, "media_type",
			    TAXII_STIX_MEDIA_TYPE));
		}
		json_object_set_new(out, "more", json_boolean(page.more));
		if (page.more)
			json_object_set_new(out, "next", json_string(page.next));
		if (json_array_size(list) > 0)
			json_object_set_new(out, view == TAXII_VERSIONS ?
			    "versions" : "objects", list);
		else
			json_decref(list);
		json_decref(page.envelope);
	}
	taxii_date_headers(req, &page);
	log_event(LOG_LVL_INFO, "taxii.read", "org=%s collection=%s view=%s "
	    "objects=%zu more=%s after_seq=%llu last_seq=%llu", o->id,
	    collection, view == TAXII_OBJECTS ? "objects" : view ==
	    TAXII_MANIFEST ? "manifest" : view == TAXII_OBJECT ? "object" :
	    "versions", nobjs, page.more ? "yes" : "no",
	    (unsigned long long)q.after_seq,
	    (unsigned long long)page.last_seq);
	taxii_query_free(&q);
	taxii_batch_free(&batch);
	taxii_send(req, 200, "OK", out);
}

/*
 * Whether o may POST to its collection: the organisations whose reports
 * the routing policy accepts (operators), as for `ceptoar submit`.
 */
static int
taxii_can_write(const struct dir_org *o)
{
	return (o->roles & ROLE_OPERATOR) != 0;
}

/* The collection resource of org's inbox. */
static json_t *
taxii_collection(const struct dir_org *o)
{
	char	id[40], title[256];

	taxii_collection_id(o->id, id, sizeof(id));
	snprintf(title, sizeof(title), "Inbox of %s", o->name);
	return json_pack("{s:s, s:s, s:s, s:b, s:b, s:[s]}", "id", id,
	    "title", title, "description", "What the hub delivered to this "
	    "organisation, in the form it received it", "can_read", 1,
	    "can_write", taxii_can_write(o), "media_types",
	    TAXII_STIX_MEDIA_TYPE);
}

/* The discovery resource: one API root, absolute when Host is known. */
static json_t *
taxii_discovery(struct evhttp_request *req)
{
	const char	*host;
	char		 root[600];

	host = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Host");
	if (host != NULL && strlen(host) < 512 &&
	    strpbrk(host, "/?#@ \t\"\\") == NULL)
		snprintf(root, sizeof(root), "https://%s" TAXII_ROOT, host);
	else
		snprintf(root, sizeof(root), TAXII_ROOT);
	return json_pack("{s:s, s:s, s:s, s:[s]}", "title", TAXII_ROOT_TITLE,
	    "description", "TAXII 2.1 face of the CEPTOAR hub: each "
	    "organisation reads what the hub delivered to it", "default",
	    root, "api_roots", root);
}

/* Release what status slot st holds and mark it free. */
static void
taxii_status_clear(struct taxii_status *st)
{
	size_t	i;

	for (i = 0; i < st->n; i++) {
		free(st->items[i].id);
		free(st->items[i].version);
		free(st->items[i].message);
	}
	free(st->items);
	memset(st, 0, sizeof(*st));
}

/* Wall-clock ms, for status timestamps and their age. */
static int64_t
taxii_wall_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A free status slot for org's POST of n objects: an expired one, or
 * else the oldest (the number kept is bounded).  NULL when out of memory.
 */
static struct taxii_status *
taxii_status_new(const char *org, size_t n)
{
	struct taxii_status	*st = NULL;
	unsigned char		 h[16];
	int64_t			 now = taxii_wall_ms();
	size_t			 i;

	for (i = 0; i < TAXII_STATUS_MAX; i++) {
		struct taxii_status *c = &tx.status[i];

		if (c->id[0] != '\0' &&
		    now - c->created > (int64_t)TAXII_STATUS_TTL * 1000)
			taxii_status_clear(c);
		if (c->id[0] == '\0') {
			if (st == NULL || st->id[0] != '\0')
				st = c;
		} else if (st == NULL ||
		    (st->id[0] != '\0' && c->created < st->created))
			st = c;
	}
	taxii_status_clear(st);
	if ((st->items = calloc(n ? n : 1, sizeof(*st->items))) == NULL)
		return NULL;
	randombytes_buf(h, sizeof(h));
	h[6] = (h[6] & 0x0f) | 0x40;
	h[8] = (h[8] & 0x3f) | 0x80;
	snprintf(st->id, sizeof(st->id), "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2], h[3], h[4],
	    h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14],
	    h[15]);
	snprintf(st->org, sizeof(st->org), "%s", org);
	st->serial = ++tx.status_serial;
	st->created = now;
	st->n = n;
	return st;
}

/* Record what became of object i of status st. */
static void
taxii_status_set(struct taxii_status *st, size_t i, int state,
    const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[600];

	st->items[i].state = state;
	free(st->items[i].message);
	st->items[i].message = NULL;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		st->items[i].message = strdup(buf);
	}
}

/* The TAXII status resource of st. */
static json_t *
taxii_status_json(const struct taxii_status *st)
{
	json_t	*out, *lists[3], *d;
	size_t	 i, count[3] = { 0, 0, 0 };
	char	 ts[40];

	stix_timestamp(st->created, ts, sizeof(ts));
	for (i = 0; i < 3; i++)
		lists[i] = json_array();
	for (i = 0; i < st->n; i++) {
		const struct taxii_status_item *it = &st->items[i];

		d = json_pack("{s:s, s:s}", "id", it->id ? it->id : "",
		    "version", it->version ? it->version : "");
		if (d != NULL && it->message != NULL)
			json_object_set_new(d, "message",
			    json_string(it->message));
		json_array_append_new(lists[it->state], d);
		count[it->state]++;
	}
	out = json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:I, s:o, s:I, s:o}",
	    "id", st->id, "status", count[TAXII_PENDING] ? "pending" :
	    "complete", "request_timestamp", ts,
	    "total_count", (json_int_t)st->n,
	    "success_count", (json_int_t)count[TAXII_SUCCESS],
	    "successes", lists[TAXII_SUCCESS],
	    "failure_count", (json_int_t)count[TAXII_FAILURE],
	    "failures", lists[TAXII_FAILURE],
	    "pending_count", (json_int_t)count[TAXII_PENDING],
	    "pendings", lists[TAXII_PENDING]);
	return out;
}

/*
 * A submit made for a POST is durable or refused (a service_done_cb):
 * tag is the status's serial and the object's index, 16 bits of it.
 */
static void
taxii_post_done(void *arg, uint64_t tag, const Ceptoar__SubmitAck *ack,
    const struct service_error *err)
{
	struct taxii_status	*st = NULL;
	uint64_t		 serial = tag >> 16;
	size_t			 i, idx = (size_t)(tag & 0xffff);
	char			 prop[160];

	(void)arg;
	for (i = 0; i < TAXII_STATUS_MAX; i++)
		if (tx.status[i].id[0] != '\0' &&
		    tx.status[i].serial == serial)
			st = &tx.status[i];
	if (st == NULL || idx >= st->n) {
		log_event(LOG_LVL_INFO, "taxii.status_gone", "serial=%llu "
		    "index=%zu result=%s", (unsigned long long)serial, idx,
		    ack != NULL ? "filed" : "refused");
		return;
	}
	if (ack != NULL)
		taxii_status_set(st, idx, TAXII_SUCCESS, "filed as %s",
		    ack->hub_id ? ack->hub_id : "");
	else
		taxii_status_set(st, idx, TAXII_FAILURE, "%s%s%s",
		    err->field[0] ? stix_property_of(err->field, prop,
		    sizeof(prop)) : "", err->field[0] ? ": " : "",
		    err->message);
	log_event(LOG_LVL_INFO, "taxii.filed", "org=%s status=%s id=%s "
	    "result=%s", st->org, st->id, st->items[idx].id,
	    ack != NULL ? "filed" : "refused");
}

/*
 * Object i of a POST: an incident becomes a report and is submitted as
 * `ceptoar submit` does; the definitions an incident refers to are
 * taken as known; anything else fails naming its type.
 */
static void
taxii_post_object(const struct dir_org *o, struct taxii_status *st,
    size_t i, json_t *obj)
{
	struct service_caller	 who = { .org = o->id, .sid = "taxii" };
	struct service_error	 err;
	Ceptoar__Message	*m = NULL;
	const char		*type, *id, *ver;
	char			*property = NULL, *cause = NULL, prop[160];

	type = json_string_value(json_object_get(obj, "type"));
	id = json_string_value(json_object_get(obj, "id"));
	if ((ver = json_string_value(json_object_get(obj, "modified"))) ==
	    NULL)
		ver = json_string_value(json_object_get(obj, "created"));
	st->items[i].id = strdup(id ? id : "");
	st->items[i].version = strdup(ver ? ver : "");
	if (!json_is_object(obj) || type == NULL) {
		taxii_status_set(st, i, TAXII_FAILURE,
		    "type: each object needs a type");
		return;
	}
	if (strcmp(type, "marking-definition") == 0 ||
	    strcmp(type, "extension-definition") == 0 ||
	    strcmp(type, "identity") == 0) {
		taxii_status_set(st, i, TAXII_SUCCESS, "a definition an "
		    "incident may refer to: read, not filed");
		return;
	}
	if (strcmp(type, "incident") != 0) {
		taxii_status_set(st, i, TAXII_FAILURE, "type: the hub files "
		    "incidents only (with the incident core extension), not "
		    "%.64s", type);
		return;
	}
	if (!json_is_object(json_object_get(json_object_get(obj,
	    "extensions"), TAXII_INCIDENT_EXT))) {
		taxii_status_set(st, i, TAXII_FAILURE, "extensions: an "
		    "incident needs the incident core extension %s",
		    TAXII_INCIDENT_EXT);
		return;
	}
	if (stix_to_report(obj, &m, &property, &cause) == -1) {
		taxii_status_set(st, i, TAXII_FAILURE, "%s",
		    cause ? cause : "the incident is not a report");
		free(property);
		free(cause);
		return;
	}
	memset(&err, 0, sizeof(err));
	taxii_status_set(st, i, TAXII_PENDING, NULL);
	if (service_submit(&who, NULL, m, taxii_post_done, NULL,
	    (st->serial << 16) | i, &err) == -1) {
		/* A report field's name is given as the STIX property. */
		if (err.field[0] != '\0' && strncmp(err.message, err.field,
		    strlen(err.field)) == 0)
			taxii_status_set(st, i, TAXII_FAILURE, "%s%s",
			    stix_property_of(err.field, prop, sizeof(prop)),
			    err.message + strlen(err.field));
		else
			taxii_status_set(st, i, TAXII_FAILURE, "%s%s%s",
			    err.field[0] ? stix_property_of(err.field, prop,
			    sizeof(prop)) : "", err.field[0] ? ": " : "",
			    err.message);
	}
	ceptoar__message__free_unpacked(m, NULL);
}

/*
 * POST to o's collection's objects: an envelope of STIX objects, each
 * filed as taxii_post_object says; answered 202 with the status, which
 * GET status/{id}/ tells again as the submits become durable.
 */
static void
taxii_post_objects(struct evhttp_request *req, const struct dir_org *o)
{
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	struct taxii_status	*st;
	json_error_t		 jerr;
	json_t			*env, *objs;
	const char		*ct;
	size_t			 len = evbuffer_get_length(in), i;
	unsigned char		*body;

	if (!taxii_can_write(o)) {
		taxii_error(req, o->id, 403, NULL, "%s may not write: only "
		    "operators submit reports", o->id);
		return;
	}
	ct = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type");
	if (ct == NULL || (strncmp(ct, "application/taxii+json", 22) != 0 &&
	    strncmp(ct, "application/json", 16) != 0)) {
		taxii_error(req, o->id, 415, NULL, "Content-Type: send %s",
		    TAXII_MEDIA_TYPE);
		return;
	}
	if (len > (size_t)hub->conf.taxii_max_content_length) {
		taxii_error(req, o->id, 413, NULL, "the body is over "
		    "taxii_max_content_length (%llu bytes)",
		    (unsigned long long)hub->conf.taxii_max_content_length);
		return;
	}
	if ((body = evbuffer_pullup(in, -1)) == NULL && len > 0) {
		taxii_error(req, o->id, 500, NULL, "out of memory");
		return;
	}
	env = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES,
	    &jerr);
	if (env == NULL || !json_is_object(env)) {
		json_decref(env);
		taxii_error(req, o->id, 400, NULL, "the body is not a JSON "
		    "envelope (%s at line %d)", jerr.text, jerr.line);
		return;
	}
	objs = json_object_get(env, "objects");
	if (!json_is_array(objs) || json_array_size(objs) == 0) {
		json_decref(env);
		taxii_error(req, o->id, 422, NULL, "objects: an envelope "
		    "needs a non-empty array of objects");
		return;
	}
	if (json_array_size(objs) > TAXII_POST_OBJECTS) {
		json_decref(env);
		taxii_error(req, o->id, 413, NULL, "objects: at most %d "
		    "objects a request", TAXII_POST_OBJECTS);
		return;
	}
	if ((st = taxii_status_new(o->id, json_array_size(objs))) == NULL) {
		json_decref(env);
		taxii_error(req, o->id, 500, NULL, "out of memory");
		return;
	}
	for (i = 0; i < st->n; i++)
		taxii_post_object(o, st, i, json_array_get(objs, i));
	json_decref(env);
	log_event(LOG_LVL_INFO, "taxii.post", "org=%s status=%s objects=%zu",
	    o->id, st->id, st->n);
	taxii_send(req, 202, "Accepted", taxii_status_json(st));
}

/* GET status/{id}/: a POST's status, to the organisation that made it. */
static void
taxii_serve_status(struct evhttp_request *req, const struct dir_org *o,
    const char *id)
{
	size_t	i;

	for (i = 0; i < TAXII_STATUS_MAX; i++)
		if (tx.status[i].id[0] != '\0' &&
		    strcmp(tx.status[i].id, id) == 0 &&
		    strcmp(tx.status[i].org, o->id) == 0 &&
		    taxii_wall_ms() - tx.status[i].created <=
		    (int64_t)TAXII_STATUS_TTL * 1000) {
			taxii_send(req, 200, "OK",
			    taxii_status_json(&tx.status[i]));
			return;
		}
	/* Another organisation's status is absent, not forbidden. */
	taxii_error(req, o->id, 404, NULL, "no such status");
}

/* The endpoint a collection path of n segments names, for /metrics. */
static const char *
taxii_endpoint(char **seg, size_t n, enum evhttp_cmd_type cmd)
{
	if (n == 2)
		return "collection";
	if (n == 3 && strcmp(seg[2], "objects") == 0)
		return cmd == EVHTTP_REQ_POST ? "objects_post" : "objects";
	if (n == 3 && strcmp(seg[2], "manifest") == 0)
		return "manifest";
	if (n == 4 && strcmp(seg[2], "objects") == 0)
		return "object";
	if (n == 5 && strcmp(seg[2], "objects") == 0 &&
	    strcmp(seg[4], "versions") == 0)
		return "versions";
	return "other";
}

/*
 * Route a request: path segments after the API root.  Every resource
 * path ends in '/'; one without it is not found, as TAXII's paths are.
 */
static void
taxii_http_cb(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri;
	const struct dir_org	*o;
	const char		*path, *query;
	char			*dec = NULL, *seg[8], *save = NULL, *t, cid[40];
	size_t			 n = 0, len;
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);

	/* Known once routed; counted in /metrics with the status. */
	tx.endpoint = "other";
	uri = evhttp_request_get_evhttp_uri(req);
	if (uri == NULL || (path = evhttp_uri_get_path(uri)) == NULL) {
		taxii_error(req, NULL, 400, NULL, "no path");
		return;
	}
	query = evhttp_uri_get_query(uri);
	if ((o = taxii_reader(req)) == NULL)
		return;
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD &&
	    cmd != EVHTTP_REQ_POST) {
		taxii_error(req, o->id, 405, NULL, "only GET and POST (to a "
		    "collection's objects) are served");
		return;
	}
	if (!taxii_acceptable(req, false)) {
		taxii_error(req, o->id, 406, NULL, "the hub answers in %s",
		    TAXII_MEDIA_TYPE);
		return;
	}
	if (strcmp(path, "/taxii2/") == 0) {
		tx.endpoint = "discovery";
		taxii_send(req, 200, "OK", taxii_discovery(req));
		return;
	}
	len = strlen(path);
	if (strncmp(path, TAXII_ROOT, strlen(TAXII_ROOT)) != 0 ||
	    path[len - 1] != '/' ||
	    (dec = evhttp_uridecode(path + strlen(TAXII_ROOT), 0, NULL)) ==
	    NULL) {
		taxii_error(req, o->id, 404, NULL, "no such resource");
		return;
	}
	for (t = strtok_r(dec, "/", &save); t != NULL && n < 8;
	    t = strtok_r(NULL, "/", &save))
		seg[n++] = t;
	if (t != NULL)
		goto notfound;
	if (n == 0) {
		tx.endpoint = "api_root";
		taxii_send(req, 200, "OK", json_pack("{s:s, s:s, s:[s], s:I}",
		    "title", TAXII_ROOT_TITLE, "description", "The "
		    "organisation's inboxes on the CEPTOAR hub", "versions",
		    TAXII_MEDIA_TYPE, "max_content_length",
		    (json_int_t)hub->conf.taxii_max_content_length));
		goto out;
	}
	if (n == 2 && strcmp(seg[0], "status") == 0 &&
	    cmd != EVHTTP_REQ_POST) {
		tx.endpoint = "status";
		taxii_serve_status(req, o, seg[1]);
		goto out;
	}
	if (strcmp(seg[0], "collections") != 0)
		goto notfound;
	if (cmd == EVHTTP_REQ_POST && (n != 3 ||
	    strcmp(seg[2], "objects") != 0)) {
		taxii_error(req, o->id, 405, NULL, "POST is served on a "
		    "collection's objects only");
		goto out;
	}
	if (n == 1) {
		tx.endpoint = "collections";
		taxii_send(req, 200, "OK", json_pack("{s:[o]}",
		    "collections", taxii_collection(o)));
		goto out;
	}
	tx.endpoint = taxii_endpoint(seg, n, cmd);
	/* Another organisation's collection is absent, not forbidden. */
	taxii_collection_id(o->id, cid, sizeof(cid));
	if (strcmp(seg[1], cid) != 0)
		goto notfound;
	if (n == 2)
		taxii_send(req, 200, "OK", taxii_collection(o));
	else if (n == 3 && strcmp(seg[2], "objects") == 0 &&
	    cmd == EVHTTP_REQ_POST)
		taxii_post_objects(req, o);
	else if (n == 3 && strcmp(seg[2], "objects") == 0)
		taxii_serve_objects(req, o, cid, TAXII_OBJECTS, NULL, query);
	else if (n == 3 && strcmp(seg[2], "manifest") == 0)
		taxii_serve_objects(req, o, cid, TAXII_MANIFEST, NULL, query);
	else if (n == 4 && strcmp(seg[2], "objects") == 0)
		taxii_serve_objects(req, o, cid, TAXII_OBJECT, seg[3], query);
	else if (n == 5 && strcmp(seg[2], "objects") == 0 &&
	    strcmp(seg[4], "versions") == 0)
		taxii_serve_objects(req, o, cid, TAXII_VERSIONS, seg[3], query);
	else
		goto notfound;
	goto out;
notfound:
	taxii_error(req, o->id, 404, NULL, "no such resource");
out:
	free(dec);
}

/* A new connection: a TLS bufferevent, the socket set by evhttp. */
static struct bufferevent *
taxii_bevcb(struct event_base *base, void *arg)
{
	return tls_accept_http(base, hub->taxii_tls_ctx);
}

/* The per-address entry of an admitted connection, for its release. */
struct taxii_conn {
	struct listener_addr	*addr;
};

/*
 * Admit a connection at its ClientHello: under max_connections (with
 * the clients' sessions) and max_conn_per_addr, shared with the clients'
 * listener; 0 with *token, or -1 refused (logged as noise).
 */
static int
taxii_admit(int fd, void **token)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct taxii_conn	*c;
	char			 peer[80] = "unknown", why[160];

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	listener_format_addr((struct sockaddr *)&ss, peer, sizeof(peer));
	if (hub->nsessions + tx.conns >= hub->conf.max_connections) {
		session_noise(SESSION_NOISE_LIMIT, "taxii.refused",
		    "peer=%s reason=\"max_connections %llu reached\"", peer,
		    (unsigned long long)hub->conf.max_connections);
		return -1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	if ((c->addr = listener_addr_acquire((struct sockaddr *)&ss, why,
	    sizeof(why))) == NULL) {
		session_noise(SESSION_NOISE_LIMIT, "taxii.refused",
		    "peer=%s reason=\"%s\"", peer, why);
		free(c);
		return -1;
	}
	tx.conns++;
	*token = c;
	return 0;
}

/* A connection admitted by taxii_admit is gone. */
static void
taxii_release(void *token)
{
	struct taxii_conn	*c = token;

	listener_addr_put(c->addr);
	tx.conns--;
	free(c);
}

int
taxii_start(struct event_base *base, char **cause)
{
	struct evhttp_bound_socket	*bs;
	unsigned char			 sk[KEYFILE_LEN];
	char				 address[80];
	int				 fd;

	*cause = NULL;
	if (hub->conf.taxii_listen == NULL)
		return 0;
	/*
	 * next tokens must outlive restarts: their key comes from the
	 * store key, through a hash, so neither reveals the other.
	 */
	if (hub->conf.store_key == NULL ||
	    keyfile_read(hub->conf.store_key, "store key", sk, cause) == -1) {
		if (*cause == NULL)
			cause_set(cause, "taxii_listen needs store_key");
		return -1;
	}
	crypto_generichash(tx.next_key, sizeof(tx.next_key),
	    (const unsigned char *)"ceptoard taxii next v1", 22, sk,
	    sizeof(sk));
	sodium_memzero(sk, sizeof(sk));
	randombytes_buf(tx.auth_key, sizeof(tx.auth_key));
	if ((hub->taxii_tls_ctx = tls_taxii_ctx(&hub->conf, cause)) == NULL)
		return -1;
	tls_admission(taxii_admit, taxii_release);
	if ((fd = listener_bind(hub->conf.taxii_listen, address,
	    sizeof(address), cause)) == -1)
		goto fail;
	if ((tx.http = evhttp_new(base)) == NULL) {
		close(fd);
		cause_set(cause, "taxii_listen: cannot set up HTTP");
		goto fail;
	}
	evhttp_set_bevcb(tx.http, taxii_bevcb, NULL);
	evhttp_set_allowed_methods(tx.http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST);
	evhttp_set_timeout(tx.http, (int)hub->conf.taxii_timeout);
	evhttp_set_max_headers_size(tx.http, TAXII_MAX_HEADERS);
	evhttp_set_max_body_size(tx.http,
	    (ev_ssize_t)hub->conf.taxii_max_content_length);
	evhttp_set_gencb(tx.http, taxii_http_cb, NULL);
	if ((bs = evhttp_accept_socket_with_handle(tx.http, fd)) == NULL) {
		close(fd);
		cause_set(cause, "taxii_listen %s: cannot accept",
		    hub->conf.taxii_listen);
		goto fail;
	}
	tx.fd = evhttp_bound_socket_get_fd(bs);
	snprintf(tx.address, sizeof(tx.address), "%s", address);
	log_event(LOG_LVL_INFO, "taxii.listen", "address=%s root=%s "
	    "tls=1.2,1.3 page_size=%llu max_content_length=%llu", tx.address,
	    TAXII_ROOT, (unsigned long long)hub->conf.taxii_page_size,
	    (unsigned long long)hub->conf.taxii_max_content_length);
	return 0;
fail:
	if (tx.http != NULL)
		evhttp_free(tx.http);
	tx.http = NULL;
	tls_ctx_free(hub->taxii_tls_ctx);
	hub->taxii_tls_ctx = NULL;
	return -1;
}

const char *
taxii_address(void)
{
	return tx.http != NULL ? tx.address : NULL;
}

void
taxii_stop(void)
{
	if (tx.http != NULL)
		evhttp_free(tx.http);
	tx.http = NULL;
	tls_ctx_free(hub->taxii_tls_ctx);
	hub->taxii_tls_ctx = NULL;
	sodium_memzero(tx.next_key, sizeof(tx.next_key));
	sodium_memzero(tx.auth_key, sizeof(tx.auth_key));
	sodium_memzero(tx.auth, sizeof(tx.auth));
}

int
taxii_password_command(FILE *out)
{
	unsigned char	raw[18];
	char		pw[32], hash[crypto_pwhash_STRBYTES];

	randombytes_buf(raw, sizeof(raw));
	/* URL-safe base64: letters, digits, - and _; never a ':'. */
	sodium_bin2base64(pw, sizeof(pw), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	if (crypto_pwhash_str(hash, pw, strlen(pw),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		sodium_memzero(pw, sizeof(pw));
		fprintf(stderr, "ceptoard: out of memory hashing the "
		    "password\n");
		return 1;
	}
	fprintf(out, "password: %s\ntaxii_basic: \"%s\"\n", pw, hash);
	sodium_memzero(pw, sizeof(pw));
	return 0;
}
