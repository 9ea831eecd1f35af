/*
 * Helpers the store's unit tests share (test_store_contract.c, run
 * against every backend, and test_store.c, SQLite's own): a test
 * directory and key, opening stores, inserting messages, and copying
 * out what the store's callbacks are given.  Compiled into the unit
 * tests only.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "ceptoard.h"
#include "store_test.h"

char	 tmpdir[] = "/tmp/test_store.XXXXXX";
char	 keypath[256];		/* the key every test store uses */

/* Build a path in the test directory into a static buffer. */
const char *
test_path(const char *name)
{
	static char	 buf[4][512];
	static int	 i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return (buf[i]);
}

/* Remove the test directory and everything in it. */
void
test_cleanup(void)
{
	DIR		*d;
	struct dirent	*de;

	if ((d = opendir(tmpdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		unlink(test_path(de->d_name));
	}
	closedir(d);
	rmdir(tmpdir);
}

/* Write a key file of len bytes of data (random if NULL) with mode. */
const char *
test_keyfile(const char *name, const uint8_t *data, size_t len, mode_t mode)
{
	const char	*path = test_path(name);
	uint8_t		 buf[64];
	FILE		*f;

	if (data == NULL) {
		randombytes_buf(buf, sizeof(buf));
		data = buf;
	}
	unlink(path);
	if ((f = fopen(path, "w")) != NULL) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
	chmod(path, mode);
	return (path);
}

/* Open path with the key files cur and old (a comma-separated list). */
struct store *
test_store_open_keys(const char *path, const char *cur, const char *old,
    char **cause)
{
	struct store_keys	*keys;

	if ((keys = store_keys_load(cur, old, cause)) == NULL)
		return (NULL);
	return (store_open(path, keys, cause));
}

/* Open path with the test's own key, as every test but the keys' does. */
struct store *
test_store_open(const char *path, char **cause)
{
	return (test_store_open_keys(path, keypath, NULL, cause));
}

/* Record one delivery, stopping when asked to. */
int
test_collect(const struct store_delivery *d, void *arg)
{
	struct seen	*sn = arg;

	if (sn->n < MAXSEEN) {
		sn->seq[sn->n] = d->seq;
		snprintf(sn->hub_id[sn->n], STORE_HUB_ID_LEN, "%s", d->hub_id);
	}
	snprintf(sn->sender, sizeof(sn->sender), "%s", d->sender);
	snprintf(sn->reason, sizeof(sn->reason), "%s", d->reason);
	snprintf(sn->body, sizeof(sn->body), "%.*s", (int)d->body_len,
	    (const char *)d->body);
	sn->received_at = d->received_at;
	sn->acked_at = d->acked_at;
	sn->n++;
	return (sn->stop_after != 0 && sn->n >= sn->stop_after);
}

/* Insert one message inside an open transaction; returns its global seq. */
uint64_t
test_insert(struct store *s, const char *hub_id, const char *sender,
    const char *uuid, const char *body, const char **to, size_t nto)
{
	struct store_message	 m;
	struct store_recipient	 r[8];
	char			*cause = NULL;
	size_t			 i;

	memset(&m, 0, sizeof(m));
	snprintf(m.hub_id, sizeof(m.hub_id), "%s", hub_id);
	m.sender = sender;
	m.uuid = uuid;
	m.kind = "report";
	m.received_at = 1700000000;
	m.body = (const uint8_t *)body;
	m.body_len = strlen(body);
	memset(r, 0, sizeof(r));
	for (i = 0; i < nto; i++) {
		r[i].org = to[i];
		r[i].reason = "sector member";
	}
	if (store_insert(s, &m, r, nto, &cause) == -1) {
		fprintf(stderr, "store_insert %s: %s\n", hub_id, cause);
		free(cause);
		return (0);
	}
	return (m.seq);
}

/* Insert one message in a transaction of its own. */
uint64_t
test_put(struct store *s, const char *hub_id, const char *sender,
    const char *uuid, const char *body, const char **to, size_t nto)
{
	char		*cause = NULL;
	uint64_t	 seq;

	if (store_begin(s, &cause) == -1) {
		fprintf(stderr, "store_begin: %s\n", cause);
		free(cause);
		return (0);
	}
	seq = test_insert(s, hub_id, sender, uuid, body, to, nto);
	if (seq == 0) {
		store_rollback(s);
		return (0);
	}
	if (store_commit(s, &cause) == -1) {
		fprintf(stderr, "store_commit: %s\n", cause);
		free(cause);
		return (0);
	}
	return (seq);
}

/* Collect recipient's pending deliveries after a cursor. */
int
test_pending(struct store *s, const char *recipient, uint64_t after,
    size_t limit, struct seen *sn)
{
	char	*cause = NULL;
	int	 rv;

	memset(sn, 0, sizeof(*sn));
	rv = store_pending(s, recipient, after, limit, test_collect, sn,
	    &cause);
	if (rv == -1) {
		fprintf(stderr, "store_pending: %s\n", cause);
		free(cause);
	}
	return (rv);
}

/* Read an integer pragma straight from the file, bypassing the store. */
long long
test_pragma(const char *path, const char *pragma)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	long long	 v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return (-1);
	}
	if (sqlite3_prepare_v2(db, pragma, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return (v);
}

/* Open the store at path, failing the test loudly if it does not open. */
struct store *
test_open_path(const char *path)
{
	struct store	*s;
	char		*cause = NULL;

	if ((s = test_store_open(path, &cause)) == NULL) {
		fprintf(stderr, "store_open %s: %s\n", path, cause);
		free(cause);
	}
	return (s);
}

/*
 * Store one form in a transaction of its own: uuid and body are made from
 * hub_id.  Returns the global seq, 0 on failure.
 */
uint64_t
test_form(struct store *s, const char *hub_id, const char *sender,
    const char *origin, const char *chain_id, int form, unsigned hop,
    const char *in_reply_to, struct store_recipient *r, size_t nr)
{
	struct store_message	 m;
	char			 body[64];
	char			*cause = NULL;

	memset(&m, 0, sizeof(m));
	snprintf(m.hub_id, sizeof(m.hub_id), "%s", hub_id);
	snprintf(body, sizeof(body), "body of %s", hub_id);
	m.sender = sender;
	m.uuid = hub_id;
	m.kind = "report";
	m.received_at = 1700000000;
	m.body = (const uint8_t *)body;
	m.body_len = strlen(body);
	m.origin = origin;
	m.chain_id = chain_id;
	m.form = form;
	m.hop = hop;
	m.in_reply_to = in_reply_to;
	if (store_begin(s, &cause) == -1 ||
	    store_insert(s, &m, r, nr, &cause) == -1 ||
	    store_commit(s, &cause) == -1) {
		fprintf(stderr, "store %s: %s\n", hub_id, cause);
		free(cause);
		store_rollback(s);
		return (0);
	}
	return (m.seq);
}

/* Collect recipient's pending deliveries into rs. */
int
test_pending_rows(struct store *s, const char *recipient, struct rows *rs)
{
	char	*cause = NULL;
	int	 rv;

	memset(rs, 0, sizeof(*rs));
	if ((rv = store_pending(s, recipient, 0, 0, test_row, rs,
	    &cause)) == -1) {
		fprintf(stderr, "store_pending: %s\n", cause);
		free(cause);
	}
	return (rv);
}

/* Collect org's delivery of hub_id into rs; store_delivery_of's answer. */
int
test_delivery_of(struct store *s, const char *org, const char *hub_id,
    struct rows *rs)
{
	char	*cause = NULL;
	int	 rv;

	memset(rs, 0, sizeof(*rs));
	if ((rv = store_delivery_of(s, org, hub_id, test_row, rs,
	    &cause)) == -1) {
		fprintf(stderr, "store_delivery_of: %s\n", cause);
		free(cause);
	}
	return (rv);
}

/* Collect the hub's own view of hub_id into rs; store_message's answer. */
int
test_message(struct store *s, const char *hub_id, struct rows *rs)
{
	char	*cause = NULL;
	int	 rv;

	memset(rs, 0, sizeof(*rs));
	if ((rv = store_message(s, hub_id, test_row, rs, &cause)) == -1) {
		fprintf(stderr, "store_message: %s\n", cause);
		free(cause);
	}
	return (rv);
}

/* Copy an optional string, remembering whether it was there. */
static void
test_copy(char *dst, size_t len, const char *src, bool *has)
{
	if (has != NULL)
		*has = src != NULL;
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

/* Record every field of a delivery, stopping when asked to. */
int
test_row(const struct store_delivery *d, void *arg)
{
	struct rows	*rs = arg;
	struct row	*r;

	if (rs->n < sizeof(rs->v) / sizeof(rs->v[0])) {
		r = &rs->v[rs->n];
		memset(r, 0, sizeof(*r));
		r->seq = d->seq;
		r->message_seq = d->message_seq;
		test_copy(r->hub_id, sizeof(r->hub_id), d->hub_id, NULL);
		test_copy(r->recipient, sizeof(r->recipient), d->recipient,
		    &r->has_recipient);
		test_copy(r->sender, sizeof(r->sender), d->sender, NULL);
		test_copy(r->reason, sizeof(r->reason), d->reason, NULL);
		test_copy(r->kind, sizeof(r->kind), d->kind, NULL);
		test_copy(r->origin, sizeof(r->origin), d->origin,
		    &r->has_origin);
		test_copy(r->chain_id, sizeof(r->chain_id), d->chain_id,
		    &r->has_chain_id);
		test_copy(r->in_reply_to, sizeof(r->in_reply_to),
		    d->in_reply_to, &r->has_in_reply_to);
		r->has_body = d->body != NULL;
		if (d->body != NULL)
			snprintf(r->body, sizeof(r->body), "%.*s",
			    (int)d->body_len, (const char *)d->body);
		r->has_sharing = d->sharing != NULL;
		r->sharing_len = d->sharing_len;
		if (d->sharing != NULL)
			snprintf(r->sharing, sizeof(r->sharing), "%.*s",
			    (int)d->sharing_len, (const char *)d->sharing);
		r->hop = d->hop;
		r->form = d->form;
		r->review = d->review;
		r->received_at = d->received_at;
		r->acked_at = d->acked_at;
		r->delivered_at = d->delivered_at;
		r->forwarded_at = d->forwarded_at;
	}
	rs->n++;
	return (rs->stop_after != 0 && rs->n >= rs->stop_after);
}

/*
 * Make the test directory and the key every test store uses; 0, or -1
 * having said why.
 */
int
test_setup(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return (-1);
	}
	if (sodium_init() == -1) {
		fprintf(stderr, "sodium_init failed\n");
		return (-1);
	}
	snprintf(keypath, sizeof(keypath), "%s",
	    test_keyfile("store.key", NULL, 32, 0600));
	return (0);
}
