/*
 * Unit test of the privsep channel's batches of bodies (privsep.c's
 * codec) and of a store whose keys are held elsewhere (store.c's remote
 * keys): requests and answers survive a round trip; whatever a hostile
 * worker could write instead (every truncation, bad magic, counts,
 * names that are empty, too long or hold a NUL, lengths past the end,
 * trailing bytes, random corruption) is refused with a cause and never
 * read out of bounds; a store with remote keys seals a group's bodies
 * in one request and opens a fetch batch in one, with the same results
 * (and the same refusals of altered bodies) as one holding the keys.
 * Works in a directory of its own under /tmp and removes it.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "ceptoard.h"
#include "check.h"

/* privsep.c and tls.c refer to the hub; this test needs none. */
struct hub			*hub;
static char			 tmpdir[] = "/tmp/test_privsep.XXXXXX";
static char			 keypath[300], dbpath[300];
/* The keys the fake parent holds, and what it was asked. */
static struct store_keys	*parent_keys;
static int			 seal_calls, open_calls;
static size_t			 seal_bodies, open_bodies;

/* Three bodies of a batch, one of them empty. */
static void
test_items(struct store_seal_item v[3])
{
	memset(v, 0, 3 * sizeof(*v));
	v[0].hub_id = "H-0001";
	v[0].sender = "bank-a";
	v[0].in = (const uint8_t *)"first body";
	v[0].in_len = 10;
	v[1].hub_id = "H-0002";
	v[1].sender = "bank-b";
	v[1].in = (const uint8_t *)"";
	v[1].in_len = 0;
	v[2].hub_id = "H-0003";
	v[2].sender = "power-a";
	v[2].in = (const uint8_t *)"third\0body";
	v[2].in_len = 10;
}

/* A request is read back as it was written. */
static void
test_request_roundtrip(void)
{
	struct store_seal_item	 v[3], *d = NULL;
	uint8_t			*buf = NULL;
	size_t			 len = 0, n = 0, i;
	char			*names = NULL, *cause = NULL;

	test_items(v);
	CHECK(privsep_bulk_encode(v, 3, &buf, &len, &cause) == 0);
	CHECK(privsep_bulk_decode(buf, len, &d, &n, &names, &cause) == 0);
	CHECK(n == 3);
	for (i = 0; d != NULL && i < n && i < 3; i++) {
		CHECK_STR(d[i].hub_id, v[i].hub_id);
		CHECK_STR(d[i].sender, v[i].sender);
		CHECK(d[i].in_len == v[i].in_len);
		CHECK(memcmp(d[i].in, v[i].in, v[i].in_len) == 0);
	}
	free(d);
	free(names);

	/* Every truncation, and one byte more, is refused. */
	for (i = 0; i < len; i++) {
		CHECK(privsep_bulk_decode(buf, i, &d, &n, &names, &cause) ==
		    -1);
		CHECK(d == NULL && names == NULL);
		free(cause);
		cause = NULL;
	}
	buf = realloc(buf, len + 1);
	buf[len] = 0;
	CHECK(privsep_bulk_decode(buf, len + 1, &d, &n, &names, &cause) ==
	    -1);
	CHECK_CONTAINS(cause, "after the last body");
	free(cause);
	cause = NULL;

	/* Random corruption: refused or decoded, never read past the end. */
	for (i = 0; i < 20000; i++) {
		uint8_t	*copy = malloc(len);
		size_t	 k, flips = 1 + randombytes_uniform(4);

		memcpy(copy, buf, len);
		for (k = 0; k < flips; k++)
			copy[randombytes_uniform((uint32_t)len)] =
			    (uint8_t)randombytes_uniform(256);
		if (privsep_bulk_decode(copy, len, &d, &n, &names,
		    &cause) == 0) {
			CHECK(n >= 1 && n <= 3);
			for (k = 0; k < n; k++)
				CHECK(strlen(d[k].hub_id) > 0 &&
				    strlen(d[k].hub_id) < STORE_HUB_ID_LEN &&
				    d[k].in + d[k].in_len <= copy + len);
			free(d);
			free(names);
		} else {
			CHECK(cause != NULL);
			free(cause);
			cause = NULL;
		}
		free(copy);
	}
	free(buf);
}

/* Write a request by hand: count, then one body with these names. */
static size_t
test_raw(uint8_t *b, uint32_t count, const char *hub_id, size_t hl,
    const char *sender, size_t sl, uint32_t blen)
{
	uint8_t	*o = b;

	memcpy(o, "CSB1", 4);
	o[4] = (uint8_t)(count >> 24);
	o[5] = (uint8_t)(count >> 16);
	o[6] = (uint8_t)(count >> 8);
	o[7] = (uint8_t)count;
	o += 8;
	*o++ = (uint8_t)(hl >> 8);
	*o++ = (uint8_t)hl;
	memcpy(o, hub_id, hl);
	o += hl;
	*o++ = (uint8_t)(sl >> 8);
	*o++ = (uint8_t)sl;
	memcpy(o, sender, sl);
	o += sl;
	*o++ = (uint8_t)(blen >> 24);
	*o++ = (uint8_t)(blen >> 16);
	*o++ = (uint8_t)(blen >> 8);
	*o++ = (uint8_t)blen;
	return ((size_t)(o - b));
}

/* What a hostile worker could send instead is refused, with a cause. */
static void
test_request_refusals(void)
{
	struct store_seal_item	 v[3], *d = NULL;
	uint8_t			 b[512], *buf = NULL;
	char			 longname[300], *names = NULL, *cause = NULL;
	size_t			 len, n;

	memset(longname, 'x', sizeof(longname));
#define REFUSED(l, what) do {						\
	CHECK(privsep_bulk_decode(b, (l), &d, &n, &names, &cause) == -1); \
	CHECK(d == NULL);						\
	CHECK_CONTAINS(cause, what);					\
	free(cause);							\
	cause = NULL;							\
} while (0)
	len = test_raw(b, 1, "H-1", 3, "bank-a", 6, 0);
	CHECK(privsep_bulk_decode(b, len, &d, &n, &names, &cause) == 0);
	CHECK(n == 1 && d != NULL && d[0].in_len == 0);
	free(d);
	free(names);
	memcpy(b, "CSA1", 4);
	REFUSED(len, "not a batch");
	len = test_raw(b, 0, "H-1", 3, "bank-a", 6, 0);
	REFUSED(len, "a batch of 0 bodies");
	len = test_raw(b, PRIVSEP_BULK_ITEMS + 1, "H-1", 3, "bank-a", 6, 0);
	REFUSED(len, "bodies (1 to");
	len = test_raw(b, 2, "H-1", 3, "bank-a", 6, 0);
	REFUSED(len, "body 1");
	len = test_raw(b, 1, "", 0, "bank-a", 6, 0);
	REFUSED(len, "body 0: a hub_id or sender");
	len = test_raw(b, 1, "H\0-1", 4, "bank-a", 6, 0);
	REFUSED(len, "holds a NUL");
	len = test_raw(b, 1, longname, STORE_HUB_ID_LEN, "bank-a", 6, 0);
	REFUSED(len, "too long");
	len = test_raw(b, 1, "H-1", 3, "", 0, 0);
	REFUSED(len, "hub_id or sender");
	len = test_raw(b, 1, "H-1", 3, longname, PRIVSEP_SENDER_MAX + 1, 0);
	REFUSED(len, "hub_id or sender");
	len = test_raw(b, 1, "H-1", 3, "bank-a", 6, 5);
	REFUSED(len, "past the end");
	len = test_raw(b, 1, "H-1", 3, "bank-a", 6, 0xffffffffu);
	REFUSED(len, "past the end");
#undef REFUSED

	/* The worker's side refuses to write what the parent would refuse. */
	test_items(v);
	v[0].in_len = (size_t)PRIVSEP_BULK_MAX + 1;
	CHECK(privsep_bulk_encode(v, 3, &buf, &len, &cause) == -1);
	CHECK(buf == NULL);
	CHECK_CONTAINS(cause, "past the channel's limits");
	free(cause);
	cause = NULL;
	test_items(v);
	v[1].hub_id = longname;
	longname[STORE_HUB_ID_LEN] = '\0';
	CHECK(privsep_bulk_encode(v, 3, &buf, &len, &cause) == -1);
	free(cause);
	cause = NULL;
	CHECK(privsep_bulk_encode(v, 0, &buf, &len, &cause) == -1);
	free(cause);
}

/* An answer is read back as written; a wrong one is refused. */
static void
test_answer(void)
{
	struct store_seal_item	 v[3], w[3];
	uint8_t			*buf = NULL;
	size_t			 len = 0, i;
	char			*cause = NULL;

	test_items(v);
	for (i = 0; i < 3; i++) {
		v[i].out = malloc(v[i].in_len + 45);
		v[i].out_len = v[i].in_len + 45;
		memset(v[i].out, (int)i, v[i].out_len);
		memset(v[i].digest, 0x40 + (int)i, 32);
		v[i].key_id = 0xabcdef01;
	}
	CHECK(privsep_bulk_encode_answer(v, 3, &buf, &len, &cause) == 0);
	test_items(w);
	CHECK(privsep_bulk_decode_answer(STORE_SEAL_OP_SEAL, buf, len, w, 3,
	    &cause) == 0);
	for (i = 0; i < 3; i++) {
		CHECK(w[i].out_len == v[i].out_len);
		CHECK(w[i].out != NULL &&
		    memcmp(w[i].out, v[i].out, v[i].out_len) == 0);
		CHECK(memcmp(w[i].digest, v[i].digest, 32) == 0);
		CHECK(w[i].key_id == 0xabcdef01);
		free(w[i].out);
	}
	/* Not the number asked for; cut short; more than a body opens to. */
	CHECK(privsep_bulk_decode_answer(STORE_SEAL_OP_SEAL, buf, len, w, 2,
	    &cause) == -1);
	free(cause);
	cause = NULL;
	for (i = 0; i < len; i++) {
		CHECK(privsep_bulk_decode_answer(STORE_SEAL_OP_SEAL, buf, i,
		    w, 3, &cause) == -1);
		CHECK(w[0].out == NULL && w[1].out == NULL && w[2].out == NULL);
		free(cause);
		cause = NULL;
	}
	CHECK(privsep_bulk_decode_answer(STORE_SEAL_OP_OPEN, buf, len, w, 3,
	    &cause) == -1);
	CHECK_CONTAINS(cause, "malformed");
	free(cause);
	cause = NULL;
	free(buf);
	for (i = 0; i < 3; i++)
		free(v[i].out);
}

/*
 * The fake parent: every batch goes through the codec both ways, as
 * over the channel, and is sealed or opened with parent_keys.
 */
static int
test_remote(enum store_seal_op op, struct store_seal_item *v, size_t n,
    char **cause)
{
	struct store_seal_item	*d = NULL;
	uint8_t			*req = NULL, *ans = NULL;
	size_t			 len, alen, dn, i;
	char			*names = NULL;
	int			 rc = -1;

	if (op == STORE_SEAL_OP_SEAL) {
		seal_calls++;
		seal_bodies += n;
	} else {
		open_calls++;
		open_bodies += n;
	}
	if (privsep_bulk_encode(v, n, &req, &len, cause) == -1 ||
	    privsep_bulk_decode(req, len, &d, &dn, &names, cause) == -1)
		goto out;
	if ((op == STORE_SEAL_OP_SEAL ? store_keys_seal(parent_keys, d, dn,
	    cause) : store_keys_open(parent_keys, d, dn, cause)) == -1)
		goto out;
	if (privsep_bulk_encode_answer(d, dn, &ans, &alen, cause) == 0 &&
	    privsep_bulk_decode_answer(op, ans, alen, v, n, cause) == 0)
		rc = 0;
	for (i = 0; i < dn; i++)
		free(d[i].out);
out:
	free(d);
	free(names);
	free(req);
	free(ans);
	return (rc);
}

/* Collect what store_pending gives: bodies and body errors, in order. */
struct rows {
	size_t	 n;
	char	 body[8][64];
	bool	 error[8];
};

static int
test_row(const struct store_delivery *d, void *arg)
{
	struct rows	*r = arg;

	if (r->n < 8) {
		r->error[r->n] = d->body_error != NULL;
		snprintf(r->body[r->n], sizeof(r->body[r->n]), "%.*s",
		    (int)d->body_len, d->body != NULL ? (const char *)d->body :
		    "");
	}
	r->n++;
	return (0);
}

/* Count the rows of a page walk, stopping after stop of them. */
static int
test_page_row(const struct store_delivery *d, void *arg)
{
	struct seen { size_t n, stop; uint64_t seq[16]; } *sn = arg;

	CHECK(d->body != NULL && d->body_len == 100 * 1024);
	if (sn->n < 16)
		sn->seq[sn->n] = d->seq;
	sn->n++;
	return (sn->stop != 0 && sn->n >= sn->stop);
}

/* Insert one message of the open group for recipient to. */
static int
test_put(struct store *s, struct store_message *m, const char *to)
{
	struct store_recipient	 r;
	char			*cause = NULL;
	int			 rc;

	memset(&r, 0, sizeof(r));
	r.org = to;
	r.reason = "test";
	rc = store_insert(s, m, &r, 1, &cause);
	if (rc == -1)
		fprintf(stderr, "store_insert: %s\n", cause);
	free(cause);
	return (rc);
}

/* A memory file holding len bytes of data (sized to size if larger). */
static int
test_memfd(const void *data, size_t len, off_t size)
{
	int	 fd = memfd_create("test", MFD_CLOEXEC);

	if (fd == -1)
		return (-1);
	if (len > 0 && write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return (-1);
	}
	if (size > (off_t)len && ftruncate(fd, size) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Read a whole memory file into a malloc'd buffer. */
static uint8_t *
test_slurp(int fd, size_t *len)
{
	struct stat	 st;
	uint8_t		*b;

	if (fstat(fd, &st) == -1 || (b = malloc((size_t)st.st_size + 1)) ==
	    NULL)
		return (NULL);
	*len = (size_t)pread(fd, b, (size_t)st.st_size, 0);
	return (b);
}

/*
 * The parent's side: what a worker could pass instead of a sound batch
 * is refused with a cause (no file, a pipe, an empty or oversized file,
 * garbage); a sound one is answered in a memory file that opens to what
 * was sealed.
 */
static void
test_serve(void)
{
	struct store_seal_item	 v[3], w[3];
	uint8_t			*buf = NULL, *ans;
	size_t			 len, alen, n, bytes, i;
	char			*cause = NULL;
	int			 fd, afd, p[2];

#define SERVE_REFUSED(f, what) do {					\
	CHECK(privsep_store_serve(parent_keys, STORE_SEAL_OP_SEAL, (f),	\
	    &n, &bytes, &cause) == -1);					\
	CHECK_CONTAINS(cause, what);					\
	free(cause);							\
	cause = NULL;							\
} while (0)
	SERVE_REFUSED(-1, "no memory file");
	CHECK(privsep_store_serve(NULL, STORE_SEAL_OP_SEAL, -1, &n, &bytes,
	    &cause) == -1);
	CHECK_CONTAINS(cause, "no store keys");
	free(cause);
	cause = NULL;
	if (pipe(p) == 0) {
		SERVE_REFUSED(p[0], "not a memory file");
		close(p[0]);
		close(p[1]);
	}
	fd = test_memfd(NULL, 0, 0);
	SERVE_REFUSED(fd, "a memory file of 0 bytes");
	close(fd);
	fd = test_memfd("CSB1", 4, (off_t)PRIVSEP_BULK_MAX + 1);
	SERVE_REFUSED(fd, "(1 to");
	close(fd);
	fd = test_memfd("garbage", 7, 0);
	SERVE_REFUSED(fd, "not a batch");
	close(fd);
#undef SERVE_REFUSED

	test_items(v);
	CHECK(privsep_bulk_encode(v, 3, &buf, &len, &cause) == 0);
	fd = test_memfd(buf, len, 0);
	free(buf);
	afd = privsep_store_serve(parent_keys, STORE_SEAL_OP_SEAL, fd, &n,
	    &bytes, &cause);
	close(fd);
	CHECK(afd != -1 && n == 3 && bytes == len);
	if (afd == -1)
		return;
	ans = test_slurp(afd, &alen);
	close(afd);
	test_items(w);
	CHECK(ans != NULL && privsep_bulk_decode_answer(STORE_SEAL_OP_SEAL,
	    ans, alen, w, 3, &cause) == 0);
	free(ans);
	/* And back: the sealed bodies open to what they were. */
	for (i = 0; i < 3; i++) {
		v[i].in = w[i].out;
		v[i].in_len = w[i].out_len;
	}
	CHECK(privsep_bulk_encode(v, 3, &buf, &len, &cause) == 0);
	fd = test_memfd(buf, len, 0);
	free(buf);
	afd = privsep_store_serve(parent_keys, STORE_SEAL_OP_OPEN, fd, &n,
	    &bytes, &cause);
	close(fd);
	CHECK(afd != -1);
	ans = afd != -1 ? test_slurp(afd, &alen) : NULL;
	if (afd != -1)
		close(afd);
	CHECK(ans != NULL && privsep_bulk_decode_answer(STORE_SEAL_OP_OPEN,
	    ans, alen, v, 3, &cause) == 0);
	free(ans);
	test_items(w + 0);
	for (i = 0; i < 3; i++) {
		CHECK(v[i].error == STORE_OPEN_OK);
		CHECK(v[i].out_len == w[i].in_len &&
		    memcmp(v[i].out, w[i].in, w[i].in_len) == 0);
		free(v[i].out);
		free((void *)v[i].in);
	}
}

/* A store whose keys are elsewhere: one request per group, per batch. */
static void
test_remote_store(void)
{
	struct store_message	 m[3], *pm[3];
	struct store_keys	*keys;
	struct store		*s;
	struct rows		 rows;
	unsigned char		 digest[32];
	uint32_t		 ids[4];
	uint64_t		 seq;
	char			*cause = NULL, hub_id[STORE_HUB_ID_LEN];
	const char		*bodies[3] = { "alpha", "bravo", "charlie" };
	size_t			 i, nids;
	int			 fd;
	sqlite3			*db;

	snprintf(keypath, sizeof(keypath), "%s/store.key", tmpdir);
	snprintf(dbpath, sizeof(dbpath), "%s/hub.db", tmpdir);
	if ((fd = open(keypath, O_CREAT | O_WRONLY, 0600)) != -1) {
		uint8_t	k[STORE_KEY_LEN];

		randombytes_buf(k, sizeof(k));
		CHECK(write(fd, k, sizeof(k)) == (ssize_t)sizeof(k));
		close(fd);
	}
	parent_keys = store_keys_load(keypath, NULL, &cause);
	CHECK(parent_keys != NULL);
	if (parent_keys == NULL)
		return;
	nids = store_keys_ids(parent_keys, ids, 4);
	CHECK(nids == 1);
	/* The worker names as many key files as the parent holds keys. */
	CHECK(store_keys_remote(keypath, keypath, ids, nids, test_remote,
	    &cause) == NULL);
	CHECK_CONTAINS(cause, "2 key files are configured, but 1");
	free(cause);
	cause = NULL;
	keys = store_keys_remote(keypath, NULL, ids, nids, test_remote,
	    &cause);
	CHECK(keys != NULL);
	s = store_open(dbpath, keys, &cause);
	CHECK(s != NULL);
	if (s == NULL) {
		fprintf(stderr, "store_open: %s\n", cause);
		return;
	}
	CHECK(store_key_id(s) == ids[0]);

	/* A group of three: sealed in one request, none at insert. */
	memset(m, 0, sizeof(m));
	for (i = 0; i < 3; i++) {
		snprintf(m[i].hub_id, sizeof(m[i].hub_id), "H-%zu", i);
		m[i].sender = "bank-a";
		m[i].uuid = i == 0 ? "u-0" : i == 1 ? "u-1" : "u-2";
		m[i].kind = "report";
		m[i].received_at = 1700000000;
		m[i].body = (const uint8_t *)bodies[i];
		m[i].body_len = strlen(bodies[i]);
		pm[i] = &m[i];
	}
	CHECK(store_begin(s, &cause) == 0);
	CHECK(store_preseal(s, pm, 3, &cause) == 0);
	CHECK(seal_calls == 1 && seal_bodies == 3);
	/* A body changed since is sealed again, alone. */
	m[2].body = (const uint8_t *)"charlie2";
	m[2].body_len = 8;
	for (i = 0; i < 3; i++)
		CHECK(test_put(s, &m[i], "fsa-liaison") == 0);
	CHECK(seal_calls == 2 && seal_bodies == 4);
	CHECK(store_commit(s, &cause) == 0);

	/* The inbox: what this process just sealed needs no request. */
	memset(&rows, 0, sizeof(rows));
	CHECK(store_pending(s, "fsa-liaison", 0, 10, test_row, &rows,
	    &cause) == 0);
	CHECK(open_calls == 0);
	CHECK(rows.n == 3);
	CHECK_STR(rows.body[0], "alpha");
	CHECK_STR(rows.body[1], "bravo");
	CHECK_STR(rows.body[2], "charlie2");
	store_close(s);
	/* Opened afresh: in one request, in order, as stored. */
	keys = store_keys_remote(keypath, NULL, ids, nids, test_remote,
	    &cause);
	s = store_open(dbpath, keys, &cause);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	memset(&rows, 0, sizeof(rows));
	CHECK(store_pending(s, "fsa-liaison", 0, 10, test_row, &rows,
	    &cause) == 0);
	CHECK(open_calls == 1 && open_bodies == 3);
	CHECK(rows.n == 3);
	CHECK_STR(rows.body[0], "alpha");
	CHECK_STR(rows.body[2], "charlie2");
	/* And a second reader of them (fan-out) needs none either. */
	memset(&rows, 0, sizeof(rows));
	CHECK(store_pending(s, "fsa-liaison", 0, 10, test_row, &rows,
	    &cause) == 0);
	CHECK(open_calls == 1 && rows.n == 3);
	CHECK_STR(rows.body[1], "bravo");

	/* A retry is recognised by the digest the parent computed. */
	CHECK(store_lookup_uuid(s, "bank-a", "u-1", hub_id, &seq, digest,
	    &cause) == 1);
	CHECK_STR(hub_id, "H-1");
	store_close(s);

	/* A body moved onto another row does not open there. */
	CHECK(sqlite3_open(dbpath, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "UPDATE messages SET body = (SELECT body FROM "
	    "messages WHERE hub_id = 'H-0') WHERE hub_id = 'H-1'", NULL, NULL,
	    NULL) == SQLITE_OK);
	sqlite3_close(db);
	keys = store_keys_remote(keypath, NULL, ids, nids, test_remote,
	    &cause);
	s = store_open(dbpath, keys, &cause);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	memset(&rows, 0, sizeof(rows));
	open_calls = 0;
	CHECK(store_pending(s, "fsa-liaison", 0, 10, test_row, &rows,
	    &cause) == 0);
	CHECK(open_calls == 1);
	CHECK(rows.n == 3 && !rows.error[0] && rows.error[1] &&
	    !rows.error[2]);
	CHECK_STR(rows.body[2], "charlie2");

	/*
	 * Large bodies are opened a page at a time: a reader that stops
	 * after one costs the first page only; one that reads on gets
	 * every row, in order, from pages growing each time.
	 */
	{
		static uint8_t	 big[100 * 1024];
		struct store_message	 bm[10];
		struct seen { size_t n, stop; uint64_t seq[16]; } sn;

		memset(big, 'b', sizeof(big));
		memset(bm, 0, sizeof(bm));
		CHECK(store_begin(s, &cause) == 0);
		for (i = 0; i < 10; i++) {
			snprintf(bm[i].hub_id, sizeof(bm[i].hub_id), "B-%zu",
			    i);
			bm[i].sender = "bank-a";
			bm[i].uuid = bm[i].hub_id;
			bm[i].kind = "report";
			bm[i].received_at = 1700000000;
			bm[i].body = big;
			bm[i].body_len = sizeof(big);
			CHECK(test_put(s, &bm[i], "power-a") == 0);
		}
		CHECK(store_commit(s, &cause) == 0);
		/* Afresh, with nothing kept from the inserts. */
		store_close(s);
		keys = store_keys_remote(keypath, NULL, ids, nids,
		    test_remote, &cause);
		if ((s = store_open(dbpath, keys, &cause)) == NULL) {
			CHECK(s != NULL);
			return;
		}
		open_calls = 0;
		open_bodies = 0;
		memset(&sn, 0, sizeof(sn));
		sn.stop = 1;
		CHECK(store_pending(s, "power-a", 0, 256, test_page_row, &sn,
		    &cause) == 0);
		CHECK(sn.n == 1 && open_calls == 1 && open_bodies <= 3);
		open_calls = 0;
		memset(&sn, 0, sizeof(sn));
		CHECK(store_pending(s, "power-a", 0, 256, test_page_row, &sn,
		    &cause) == 0);
		/* Only the rows not yet opened go in a request. */
		CHECK(sn.n == 10 && open_calls >= 2 && open_calls <= 4);
		CHECK(open_bodies == 10);
		for (i = 1; i < 10 && i < sn.n; i++)
			CHECK(sn.seq[i] > sn.seq[i - 1]);
		memset(&sn, 0, sizeof(sn));
		CHECK(store_pending(s, "power-a", 0, 4, test_page_row, &sn,
		    &cause) == 0);
		CHECK(sn.n == 4);
	}
	store_close(s);
	test_serve();
	store_keys_free(parent_keys);
}

int
main(void)
{
	if (sodium_init() == -1 || mkdtemp(tmpdir) == NULL)
		return (1);
	log_init(1, LOG_LVL_ERROR);
	test_request_roundtrip();
	test_request_refusals();
	test_answer();
	test_remote_store();
	unlink(keypath);
	unlink(dbpath);
	{
		char	 p[400];

		snprintf(p, sizeof(p), "%s-wal", dbpath);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", dbpath);
		unlink(p);
	}
	rmdir(tmpdir);
	return (CHECK_DONE());
}
