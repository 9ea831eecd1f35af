/*
 * Unit test of the store (store.c and the SQLite backend): durability
 * across reopen, per-recipient cursors, acknowledgements, idempotency,
 * rollback, visibility, relay hops (forms, review, delivery and forward
 * marks, receipts, chains, replies, sharing overrides), the migration of
 * a version 1 file, refusal of files it must not touch, and sealing at
 * rest: key files, bodies that are not in the file and do not open on
 * another row, key rotation and rekey, the sealing of a version 2 file's
 * clear bodies.  Each run works in its own directory under /tmp and
 * removes it.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "ceptoard.h"
#include "check.h"

#define MAXSEEN	2048

/* What a store_pending or store_fetch callback saw, copied out. */
struct seen {
	size_t		 n;
	size_t		 stop_after;	/* 0: never stop early */
	uint64_t	 seq[MAXSEEN];
	char		 hub_id[MAXSEEN][STORE_HUB_ID_LEN];
	char		 sender[64];
	char		 reason[64];
	char		 body[64];
	int64_t		 received_at;
	int64_t		 acked_at;
	const char	*only;		/* test_recipient: this form only */
};

static char	 tmpdir[] = "/tmp/test_store.XXXXXX";
static char	 dbpath[256];
static char	 keypath[256];		/* the key every test store uses */

/* Build a path in the test directory into a static buffer. */
static const char *
test_path(const char *name)
{
	static char	 buf[4][512];
	static int	 i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return (buf[i]);
}

/* Remove the test directory and everything in it. */
static void
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
static const char *
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
static struct store *
test_store_open_keys(const char *path, const char *cur, const char *old,
    char **cause)
{
	struct store_keys	*keys;

	if ((keys = store_keys_load(cur, old, cause)) == NULL)
		return (NULL);
	return (store_open(path, keys, cause));
}

/* Open path with the test's own key, as every test but the keys' does. */
static struct store *
test_store_open(const char *path, char **cause)
{
	return (test_store_open_keys(path, keypath, NULL, cause));
}

/* Open the test store, failing the test loudly if it does not open. */
static struct store *
test_open(void)
{
	struct store	*s;
	char		*cause = NULL;

	s = test_store_open(dbpath, &cause);
	if (s == NULL) {
		fprintf(stderr, "store_open: %s\n", cause);
		free(cause);
	}
	return (s);
}

/* Record one delivery, stopping when asked to. */
static int
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
static uint64_t
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
static uint64_t
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
static int
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
static long long
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

/*
 * The number of messages in the SQLite file at path, read past the store:
 * the store has no counting operation, since the hub never needs one.
 */
static uint64_t
test_messages(const char *path)
{
	return ((uint64_t)test_pragma(path, "SELECT count(*) FROM messages"));
}

/* A new store is created 0600 whatever the umask, at schema version 3. */
static void
test_create(void)
{
	struct store	*s;
	struct stat	 sb;
	char		*cause = NULL;
	mode_t		 old;

	old = umask(0);
	s = test_open();
	umask(old);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_STR(store_backend_name(s), "sqlite");
	CHECK(stat(dbpath, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	CHECK(test_messages(dbpath) == 0);
	/* The log file exists while open and inherits the mode. */
	CHECK(stat(test_path("hub.db-wal"), &sb) == 0 &&
	    (sb.st_mode & 0777) == 0600);
	store_close(s);

	CHECK(test_pragma(dbpath, "PRAGMA user_version") == 5);
	CHECK(test_pragma(dbpath, "PRAGMA application_id") == 0x43455054);
	CHECK(test_pragma(dbpath, "SELECT count(*) FROM sqlite_master "
	    "WHERE name IN ('messages', 'deliveries', 'inboxes')") == 3);
	CHECK(test_pragma(dbpath, "SELECT count(*) FROM sqlite_master "
	    "WHERE type = 'index' AND name IN ('messages_origin', "
	    "'messages_chain', 'messages_reply', 'messages_key', "
	    "'deliveries_held')") == 5);

	/* The explicit prefix names the same backend. */
	{
		char	 p[300];

		snprintf(p, sizeof(p), "sqlite:%s", dbpath);
		s = test_store_open(p, &cause);
		CHECK(s != NULL);
		store_close(s);
	}
	CHECK(test_store_open("postgresql:host=db", &cause) == NULL);
	CHECK_CONTAINS(cause, "unknown backend \"postgresql\"");
	free(cause);
	cause = NULL;
	CHECK(test_store_open("sqlite:", &cause) == NULL);
	CHECK_CONTAINS(cause, "empty sqlite path");
	free(cause);
}

/*
 * Deliveries come out per recipient in cursor order, with the message
 * joined in; acks remove them; cursors, limits and early stops work; all
 * of it survives a reopen, and cursors keep counting after it.
 */
static void
test_deliveries(void)
{
	const char	*ab[] = { "op-a", "op-b" };
	const char	*b[] = { "op-b" };
	const char	*abc[] = { "op-a", "op-b", "op-c" };
	struct store	*s;
	struct seen	 sn;
	uint64_t	 last, pend, seqs[3];
	size_t		 nacked;
	char		*cause = NULL;

	if ((s = test_open()) == NULL) {
		CHECK(0);
		return;
	}
	CHECK(test_put(s, "H-1", "nisc", "u-1", "one", ab, 2) == 1);
	CHECK(test_put(s, "H-2", "nisc", "u-2", "two", b, 1) == 2);
	CHECK(test_put(s, "H-3", "liaison", "u-3", "three", abc, 3) == 3);

	CHECK(test_pending(s, "op-a", 0, 0, &sn) == 0);
	CHECK(sn.n == 2);
	CHECK(sn.seq[0] == 1 && sn.seq[1] == 2);
	CHECK_STR(sn.hub_id[0], "H-1");
	CHECK_STR(sn.hub_id[1], "H-3");
	CHECK_STR(sn.sender, "liaison");
	CHECK_STR(sn.body, "three");
	CHECK_STR(sn.reason, "sector member");
	CHECK(sn.received_at == 1700000000);

	CHECK(test_pending(s, "op-b", 0, 0, &sn) == 0);
	CHECK(sn.n == 3);
	CHECK(sn.seq[0] == 1 && sn.seq[1] == 2 && sn.seq[2] == 3);
	CHECK_STR(sn.hub_id[1], "H-2");
	CHECK(test_pending(s, "op-c", 0, 0, &sn) == 0);
	CHECK(sn.n == 1 && sn.seq[0] == 1);
	CHECK_STR(sn.hub_id[0], "H-3");
	CHECK(test_pending(s, "nobody", 0, 0, &sn) == 0 && sn.n == 0);

	/* The cursor resumes; the limit caps; the callback may stop. */
	CHECK(test_pending(s, "op-b", 1, 0, &sn) == 0);
	CHECK(sn.n == 2 && sn.seq[0] == 2 && sn.seq[1] == 3);
	CHECK(test_pending(s, "op-b", 0, 2, &sn) == 0);
	CHECK(sn.n == 2 && sn.seq[1] == 2);
	memset(&sn, 0, sizeof(sn));
	sn.stop_after = 1;
	CHECK(store_pending(s, "op-b", 0, 0, test_collect, &sn, &cause) == 0);
	CHECK(sn.n == 1);
	CHECK(test_pending(s, "op-b", 3, 0, &sn) == 0 && sn.n == 0);
	CHECK(test_pending(s, "op-b", UINT64_MAX, 0, &sn) == 0 && sn.n == 0);

	/* Acks count once; unknown seqs are not errors. */
	seqs[0] = 1;
	seqs[1] = 3;
	seqs[2] = 99;
	CHECK(store_ack(s, "op-b", seqs, 3, 1700000100, &nacked, &cause) ==
	    0);
	CHECK(nacked == 2);
	CHECK(store_ack(s, "op-b", seqs, 1, 1700000200, &nacked, &cause) ==
	    0);
	CHECK(nacked == 0);
	CHECK(store_ack(s, "op-c", seqs, 1, 0, &nacked, &cause) == -1);
	CHECK_CONTAINS(cause, "not positive");
	free(cause);
	cause = NULL;
	CHECK(test_pending(s, "op-b", 0, 0, &sn) == 0);
	CHECK(sn.n == 1 && sn.seq[0] == 2);
	CHECK(store_inbox_state(s, "op-b", &last, &pend, &cause) == 0);
	CHECK(last == 3 && pend == 1);
	/* The acknowledged-through mark stops before the unacknowledged 2. */
	CHECK(test_pragma(dbpath, "SELECT acked_through FROM inboxes"
	    " WHERE recipient = 'op-b'") == 1);
	CHECK(store_inbox_state(s, "nobody", &last, &pend, &cause) == 0);
	CHECK(last == 0 && pend == 0);
	store_close(s);

	/* Everything is still there after a reopen, and cursors go on. */
	if ((s = test_open()) == NULL) {
		CHECK(0);
		return;
	}
	CHECK(test_messages(dbpath) == 3);
	CHECK(test_pending(s, "op-b", 0, 0, &sn) == 0);
	CHECK(sn.n == 1 && sn.seq[0] == 2);
	CHECK(test_put(s, "H-4", "nisc", "u-4", "four", b, 1) == 4);
	CHECK(test_pending(s, "op-b", 0, 0, &sn) == 0);
	CHECK(sn.n == 2 && sn.seq[0] == 2 && sn.seq[1] == 4);
	CHECK(store_inbox_state(s, "op-b", &last, &pend, &cause) == 0);
	CHECK(last == 4 && pend == 2);
	/* Acking everything does not let a seq be handed out again. */
	seqs[0] = 2;
	seqs[1] = 4;
	CHECK(store_ack(s, "op-b", seqs, 2, 1700000300, &nacked, &cause) ==
	    0 && nacked == 2);
	CHECK(store_inbox_state(s, "op-b", &last, &pend, &cause) == 0);
	CHECK(last == 4 && pend == 0);
	CHECK(test_pragma(dbpath, "SELECT acked_through FROM inboxes"
	    " WHERE recipient = 'op-b'") == 4);
	store_close(s);
	if ((s = test_open()) == NULL) {
		CHECK(0);
		return;
	}
	CHECK(test_put(s, "H-5", "nisc", "u-5", "five", b, 1) == 5);
	CHECK(test_pending(s, "op-b", 0, 0, &sn) == 0);
	CHECK(sn.n == 1 && sn.seq[0] == 5);
	store_close(s);
}

/*
 * A sender's uuid is found again, inside the same transaction and after
 * commit, with the body's digest; another sender may use the same uuid.
 */
static void
test_idempotency(void)
{
	const char	*a[] = { "op-a" };
	struct store	*s;
	unsigned char	 digest[32], want[32];
	char		 hub_id[STORE_HUB_ID_LEN];
	uint64_t	 seq = 0, mseq, n0;
	char		*cause = NULL;

	if ((s = test_open()) == NULL) {
		CHECK(0);
		return;
	}
	crypto_generichash(want, sizeof(want), (const uint8_t *)"idem", 4,
	    NULL, 0);
	n0 = test_messages(dbpath);

	CHECK(store_begin(s, &cause) == 0);
	CHECK(store_lookup_uuid(s, "op-x", "dup", hub_id, &seq, digest,
	    &cause) == 0);
	mseq = test_insert(s, "H-idem", "op-x", "dup", "idem", a, 1);
	CHECK(mseq != 0);
	memset(digest, 0, sizeof(digest));
	CHECK(store_lookup_uuid(s, "op-x", "dup", hub_id, &seq, digest,
	    &cause) == 1);
	CHECK_STR(hub_id, "H-idem");
	CHECK(seq == mseq);
	CHECK(memcmp(digest, want, sizeof(want)) == 0);

	/* The same key twice fails alone; the group goes on. */
	{
		struct store_message	 m;
		struct store_recipient	 r = { .org = "op-a", .reason = "x" };

		memset(&m, 0, sizeof(m));
		snprintf(m.hub_id, sizeof(m.hub_id), "H-idem-2");
		m.sender = "op-x";
		m.uuid = "dup";
		m.kind = "report";
		m.body = (const uint8_t *)"again";
		m.body_len = 5;
		CHECK(store_insert(s, &m, &r, 1, &cause) == -1);
		CHECK_CONTAINS(cause, "UNIQUE");
		CHECK_CONTAINS(cause, "H-idem-2");
		free(cause);
		cause = NULL;
	}
	/* So is a recipient named twice, before anything is written. */
	{
		struct store_message	 m;
		struct store_recipient	 twice[] = {
			{ .org = "op-a", .reason = "x" },
			{ .org = "op-a", .reason = "y" }
		};

		memset(&m, 0, sizeof(m));
		snprintf(m.hub_id, sizeof(m.hub_id), "H-twice");
		m.sender = "op-x";
		m.uuid = "twice";
		m.kind = "report";
		CHECK(store_insert(s, &m, twice, 2, &cause) == -1);
		CHECK_CONTAINS(cause, "recipient op-a named twice");
		free(cause);
		cause = NULL;
		CHECK(store_lookup_uuid(s, "op-x", "twice", hub_id, &seq,
		    digest, &cause) == 0);
	}
	/* Another sender's identical uuid is a different message. */
	CHECK(test_insert(s, "H-idem-y", "op-y", "dup", "other", a, 1) != 0);
	CHECK(store_commit(s, &cause) == 0);

	CHECK(store_lookup_uuid(s, "op-x", "dup", hub_id, &seq, digest,
	    &cause) == 1);
	CHECK_STR(hub_id, "H-idem");
	CHECK(memcmp(digest, want, sizeof(want)) == 0);
	CHECK(store_lookup_uuid(s, "op-y", "dup", hub_id, &seq, digest,
	    &cause) == 1);
	CHECK_STR(hub_id, "H-idem-y");
	CHECK(store_lookup_uuid(s, "op-z", "dup", hub_id, &seq, digest,
	    &cause) == 0);
	CHECK(test_messages(dbpath) == n0 + 2);
	store_close(s);

	/* Still found after a reopen. */
	if ((s = test_open()) == NULL) {
		CHECK(0);
		return;
	}
	CHECK(store_lookup_uuid(s, "op-x", "dup", hub_id, &seq, digest,
	    &cause) == 1);
	CHECK(seq == mseq);
	store_close(s);
}

/* A rollback leaves nothing behind and cursors continue from the commit. */
static void
test_rollback(void)
{
	const char	*d[] = { "op-d" };
	struct store	*s;
	struct seen	 sn;
	unsigned char	 digest[32];
	char		 hub_id[STORE_HUB_ID_LEN];
	uint64_t	 n0, last, pend, seq;
	char		*cause = NULL;

	if ((s = test_open()) == NULL) {
		CHECK(0);
		return;
	}
	CHECK(test_put(s, "H-d1", "nisc", "d-1", "d one", d, 1) != 0);
	n0 = test_messages(dbpath);

	CHECK(store_begin(s, &cause) == 0);
	CHECK(test_insert(s, "H-d2", "nisc", "d-2", "d two", d, 1) != 0);
	CHECK(test_insert(s, "H-d3", "nisc", "d-3", "d three", d, 1) != 0);
	CHECK(store_inbox_state(s, "op-d", &last, &pend, &cause) == 0);
	CHECK(last == 3 && pend == 3);
	store_rollback(s);

	CHECK(test_messages(dbpath) == n0);
	CHECK(store_lookup_uuid(s, "nisc", "d-2", hub_id, &seq, digest,
	    &cause) == 0);
	CHECK(store_inbox_state(s, "op-d", &last, &pend, &cause) == 0);
	CHECK(last == 1 && pend == 1);
	CHECK(test_pending(s, "op-d", 0, 0, &sn) == 0);
	CHECK(sn.n == 1 && sn.seq[0] == 1);

	/* The rolled-back seqs were never seen, so the next one is 2. */
	CHECK(test_put(s, "H-d4", "nisc", "d-4", "d four", d, 1) != 0);
	CHECK(test_pending(s, "op-d", 0, 0, &sn) == 0);
	CHECK(sn.n == 2 && sn.seq[1] == 2);
	CHECK_STR(sn.hub_id[1], "H-d4");

	/* Misuse is refused, not obeyed. */
	CHECK(store_commit(s, &cause) == -1);
	CHECK_CONTAINS(cause, "without a transaction");
	free(cause);
	cause = NULL;
	{
		struct store_message	 m;

		memset(&m, 0, sizeof(m));
		snprintf(m.hub_id, sizeof(m.hub_id), "H-out");
		m.sender = m.uuid = m.kind = "x";
		CHECK(store_insert(s, &m, NULL, 0, &cause) == -1);
		CHECK_CONTAINS(cause, "outside a transaction");
		free(cause);
		cause = NULL;
	}
	CHECK(store_begin(s, &cause) == 0);
	CHECK(store_begin(s, &cause) == -1);
	CHECK_CONTAINS(cause, "already open");
	free(cause);
	store_rollback(s);
	store_close(s);
}

/*
 * Count the receipts of the form sn->only and remember op-b's
 * acknowledgement time; the receipts of derived forms are skipped.
 */
static int
test_recipient(const struct store_delivery *d, void *arg)
{
	struct seen	*sn = arg;
	const char	*org = d->recipient, *reason = d->reason;
	int64_t		 acked_at = d->acked_at;

	if (sn->only != NULL && strcmp(d->hub_id, sn->only) != 0)
		return (0);
	if (sn->n < MAXSEEN)
		snprintf(sn->hub_id[sn->n], STORE_HUB_ID_LEN, "%s", org);
	if (strcmp(org, "op-b") == 0)
		sn->acked_at = acked_at;
	else if (acked_at != 0)
		sn->acked_at = -1;
	snprintf(sn->reason, sizeof(sn->reason), "%s", reason);
	sn->n++;
	return (0);
}

/* Callbacks run inside a read; calling back into the store is refused. */
static int
test_reenter(const struct store_delivery *d, void *arg)
{
	struct store	*s = arg;
	uint64_t	 n;
	char		*cause = NULL;

	CHECK(store_inbox_state(s, "op-a", &n, &n, &cause) == -1);
	CHECK_CONTAINS(cause, "inside a store callback");
	free(cause);
	return (0);
}

/* Who may see a message, and who received it. */
static void
test_visibility(void)
{
	struct store	*s;
	struct seen	 sn;
	char		*cause = NULL;

	if ((s = test_open()) == NULL) {
		CHECK(0);
		return;
	}
	/* The sender sees its own message as sent. */
	memset(&sn, 0, sizeof(sn));
	CHECK(store_fetch(s, "liaison", "H-3", test_collect, &sn, &cause) ==
	    0);
	CHECK(sn.n == 1 && sn.seq[0] == 0 && sn.acked_at == 0);
	CHECK_STR(sn.reason, "sent");
	CHECK_STR(sn.body, "three");
	/* A recipient sees its own delivery, acknowledged or not. */
	memset(&sn, 0, sizeof(sn));
	CHECK(store_fetch(s, "op-b", "H-3", test_collect, &sn, &cause) == 0);
	CHECK(sn.n == 1 && sn.seq[0] == 3 && sn.acked_at == 1700000100);
	CHECK_STR(sn.reason, "sector member");
	CHECK_STR(sn.sender, "liaison");
	memset(&sn, 0, sizeof(sn));
	CHECK(store_fetch(s, "op-c", "H-3", test_collect, &sn, &cause) == 0);
	CHECK(sn.n == 1 && sn.seq[0] == 1 && sn.acked_at == 0);
	/* A stranger and an unknown id look the same. */
	memset(&sn, 0, sizeof(sn));
	CHECK(store_fetch(s, "op-z", "H-3", test_collect, &sn, &cause) == 1);
	CHECK(store_fetch(s, "op-b", "H-none", test_collect, &sn, &cause) ==
	    1);
	CHECK(sn.n == 0);

	memset(&sn, 0, sizeof(sn));
	sn.only = "H-3";
	CHECK(store_receipts(s, "H-3", test_recipient, &sn, &cause) == 0);
	CHECK(sn.n == 3);
	CHECK_STR(sn.hub_id[0], "op-a");
	CHECK_STR(sn.hub_id[1], "op-b");
	CHECK_STR(sn.hub_id[2], "op-c");
	CHECK(sn.acked_at == 1700000100);
	memset(&sn, 0, sizeof(sn));
	CHECK(store_receipts(s, "H-none", test_recipient, &sn, &cause) ==
	    0 && sn.n == 0);

	CHECK(store_pending(s, "op-a", 0, 0, test_reenter, s, &cause) == 0);
	store_close(s);
}

/*
 * One transaction of 1000 messages to three recipients.  It is timed: the
 * bound is loose enough for valgrind, and catches a per-message fsync or
 * a statement prepared per insert, each of which costs orders more.
 */
static void
test_group(void)
{
	const char	*to[] = { "g-1", "g-2", "g-3" };
	struct store	*s;
	struct seen	*sn;
	struct timespec	 t0, t1;
	char		 id[STORE_HUB_ID_LEN], uuid[32], body[32];
	uint64_t	 n0, last, pend;
	char		*cause = NULL;
	double		 secs;
	int		 i, ok, r;

	if ((s = test_open()) == NULL || (sn = malloc(sizeof(*sn))) == NULL) {
		CHECK(0);
		store_close(s);
		return;
	}
	n0 = test_messages(dbpath);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(store_begin(s, &cause) == 0);
	ok = 1;
	for (i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "G-%04d", i);
		snprintf(uuid, sizeof(uuid), "g-%d", i);
		snprintf(body, sizeof(body), "body %d", i);
		if (test_insert(s, id, "nisc", uuid, body, to, 3) == 0)
			ok = 0;
	}
	CHECK(ok);
	CHECK(store_commit(s, &cause) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "test_group: 1000 messages x 3 recipients in one "
	    "group: %.3f s\n", secs);
	CHECK(secs < 20.0);
	CHECK(test_messages(dbpath) == n0 + 1000);

	for (r = 0; r < 3; r++) {
		CHECK(test_pending(s, to[r], 0, 0, sn) == 0);
		CHECK(sn->n == 1000);
		ok = 1;
		for (i = 0; i < 1000 && i < (int)sn->n; i++) {
			snprintf(id, sizeof(id), "G-%04d", i);
			if (sn->seq[i] != (uint64_t)i + 1 ||
			    strcmp(sn->hub_id[i], id) != 0)
				ok = 0;
		}
		CHECK(ok);
		CHECK(store_inbox_state(s, to[r], &last, &pend, &cause) == 0);
		CHECK(last == 1000 && pend == 1000);
	}
	free(sn);
	store_close(s);
}

/* Write bytes to a file in the test directory. */
static void
test_write(const char *path, const char *data, size_t len)
{
	FILE	*f;

	if ((f = fopen(path, "w")) == NULL)
		return;
	fwrite(data, 1, len, f);
	fclose(f);
}

/* Files the store must refuse, leaving them as they were. */
static void
test_refusals(void)
{
	static const char	 garbage[] =
	    "This is not a database, it is a shopping list: rice, miso, "
	    "nori, natto, umeboshi, and some more text to pass 100 bytes.\n";
	struct stat		 sb;
	sqlite3			*db;
	char			*cause = NULL;
	char			 buf[sizeof(garbage)];
	FILE			*f;
	size_t			 len = 0;

	/* A newer schema. */
	if (sqlite3_open(test_path("v99.db"), &db) == SQLITE_OK) {
		sqlite3_exec(db, "CREATE TABLE future (x); "
		    "PRAGMA user_version = 99", NULL, NULL, NULL);
	}
	sqlite3_close(db);
	CHECK(test_store_open(test_path("v99.db"), &cause) == NULL);
	CHECK_CONTAINS(cause, "has schema version 99; this ceptoard "
	    "understands up to 5");
	CHECK_CONTAINS(cause, "v99.db");
	free(cause);
	cause = NULL;
	CHECK(test_pragma(test_path("v99.db"), "PRAGMA user_version") == 99);

	/* Someone else's database, not yet versioned. */
	if (sqlite3_open(test_path("other.db"), &db) == SQLITE_OK)
		sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK(test_store_open(test_path("other.db"), &cause) == NULL);
	CHECK_CONTAINS(cause, "without a ceptoard schema");
	free(cause);
	cause = NULL;

	/* Not a database at all, long and short. */
	test_write(test_path("garbage.db"), garbage, strlen(garbage));
	CHECK(test_store_open(test_path("garbage.db"), &cause) == NULL);
	CHECK_CONTAINS(cause, "is not a SQLite database");
	free(cause);
	cause = NULL;
	if ((f = fopen(test_path("garbage.db"), "r")) != NULL) {
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
	}
	CHECK(len == strlen(garbage) && memcmp(buf, garbage, len) == 0);
	test_write(test_path("short.db"), "junk", 4);
	CHECK(test_store_open(test_path("short.db"), &cause) == NULL);
	CHECK(cause != NULL);
	free(cause);
	cause = NULL;

	/* A directory that is not there is not created. */
	CHECK(test_store_open(test_path("missing/hub.db"), &cause) == NULL);
	CHECK_CONTAINS(cause, "missing does not exist");
	free(cause);
	cause = NULL;
	CHECK(stat(test_path("missing"), &sb) == -1);
	CHECK(test_store_open(tmpdir, &cause) == NULL);
	CHECK(cause != NULL);
	free(cause);
}

/* One store_delivery, copied out with which of its pointers were NULL. */
struct row {
	uint64_t	 seq;
	uint64_t	 message_seq;
	char		 hub_id[STORE_HUB_ID_LEN];
	char		 recipient[64];
	char		 sender[64];
	char		 reason[64];
	char		 kind[32];
	char		 origin[STORE_HUB_ID_LEN];
	char		 chain_id[64];
	char		 in_reply_to[STORE_HUB_ID_LEN];
	char		 body[64];
	char		 sharing[64];
	size_t		 sharing_len;
	bool		 has_recipient, has_origin, has_chain_id;
	bool		 has_in_reply_to, has_body, has_sharing;
	unsigned	 hop;
	int		 form;
	bool		 review;
	int64_t		 received_at;
	int64_t		 acked_at;
	int64_t		 delivered_at;
	int64_t		 forwarded_at;
};

struct rows {
	size_t		 n;
	size_t		 stop_after;	/* 0: never stop early */
	struct row	 v[16];
};

/* Copy an optional string, remembering whether it was there. */
static void
test_copy(char *dst, size_t len, const char *src, bool *has)
{
	if (has != NULL)
		*has = src != NULL;
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

/* Record every field of a delivery, stopping when asked to. */
static int
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

/* Open the store at path, failing the test loudly if it does not open. */
static struct store *
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
static uint64_t
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
static int
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
static int
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
static int
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

/*
 * The path of a voluntary report: op-r reports chain c-1 to its CEPTOAR
 * secretariat (with a copy to watch-a, named to sort after the later
 * hops' holders), the secretariat forwards an
 * anonymised form to the liaison, the liaison forwards it to NISC, and
 * NISC answers the form it holds.  Builds hops.db and checks what every
 * reader shows of it; test_hops_marks goes on from there.
 */
static void
test_hops(void)
{
	struct store_recipient	 to_s[] = {
		{ .org = "ceptoar-s", .reason = "secretariat of s", .hop = 0,
		    .form = CEPTOAR__FORM__FORM_ORIGINAL, .review = true },
		{ .org = "watch-a", .reason = "copy", .hop = 0, .form = 0,
		    .review = false },
	};
	struct store_recipient	 to_l = { .org = "liaison-l",
		.reason = "sector liaison", .hop = 1,
		.form = CEPTOAR__FORM__FORM_ANONYMISED, .review = true };
	struct store_recipient	 to_n = { .org = "nisc",
		.reason = "national centre", .hop = 2,
		.form = CEPTOAR__FORM__FORM_ANONYMISED, .review = false };
	struct store_recipient	 to_q = { .org = "liaison-l",
		.reason = "holder of the form" };
	struct store_recipient	 to_f = { .org = "ceptoar-s",
		.reason = "follow-up", .review = true };
	struct store_recipient	 to_o = { .org = "other-org",
		.reason = "another reporter's" };
	struct store_recipient	 mix[] = {
		{ .org = "a-org", .reason = "later hop", .hop = 1 },
		{ .org = "z-org", .reason = "first hop", .hop = 0 },
	};
	struct store	*s;
	struct rows	 rs;
	struct seen	 sn;
	uint64_t	 v1, v1a, v1b;
	char		*cause = NULL;

	if ((s = test_open_path(test_path("hops.db"))) == NULL) {
		CHECK(0);
		return;
	}
	v1 = test_form(s, "H-v1", "op-r", NULL, "c-1", 0, 0, NULL, to_s, 2);
	v1a = test_form(s, "H-v1a", "ceptoar-s", "H-v1", "p-xyz",
	    CEPTOAR__FORM__FORM_ANONYMISED, 1, NULL, &to_l, 1);
	v1b = test_form(s, "H-v1b", "liaison-l", "H-v1", "p-xyz",
	    CEPTOAR__FORM__FORM_ANONYMISED, 2, NULL, &to_n, 1);
	CHECK(v1 != 0 && v1a == v1 + 1 && v1b == v1 + 2);
	CHECK(test_form(s, "H-q1", "nisc", NULL, NULL, 0, 0, "H-v1b", &to_q,
	    1) != 0);
	CHECK(test_form(s, "H-v2", "op-r", NULL, "c-1",
	    CEPTOAR__FORM__FORM_ORIGINAL, 0, NULL, &to_f, 1) != 0);
	CHECK(test_form(s, "H-q2", "nisc", NULL, NULL, 0, 0, "H-v1b", &to_q,
	    1) != 0);
	CHECK(test_form(s, "H-x1", "op-x", NULL, "c-1", 0, 0, NULL, &to_o,
	    1) != 0);
	CHECK(test_form(s, "H-mix", "nisc", NULL, NULL, 0, 0, NULL, mix,
	    2) != 0);

	/* Pending deliveries carry the hop, form, review and the message. */
	CHECK(test_pending_rows(s, "ceptoar-s", &rs) == 0);
	CHECK(rs.n == 2);
	CHECK_STR(rs.v[0].hub_id, "H-v1");
	CHECK(rs.v[0].seq == 1 && rs.v[0].message_seq == v1);
	CHECK(rs.v[0].hop == 0 && rs.v[0].form == 1 && rs.v[0].review);
	CHECK(!rs.v[0].has_origin && !rs.v[0].has_in_reply_to);
	CHECK(rs.v[0].has_chain_id);
	CHECK_STR(rs.v[0].chain_id, "c-1");
	CHECK_STR(rs.v[0].kind, "report");
	CHECK_STR(rs.v[0].recipient, "ceptoar-s");
	CHECK_STR(rs.v[0].reason, "secretariat of s");
	CHECK_STR(rs.v[0].body, "body of H-v1");
	CHECK(!rs.v[0].has_sharing && rs.v[0].sharing_len == 0);
	CHECK(rs.v[0].delivered_at == 0 && rs.v[0].forwarded_at == 0);
	CHECK_STR(rs.v[1].hub_id, "H-v2");
	CHECK(rs.v[1].review && rs.v[1].form == 1);
	/* Form 0 is stored as an original. */
	CHECK(test_pending_rows(s, "watch-a", &rs) == 0);
	CHECK(rs.n == 1 && rs.v[0].form == 1 && !rs.v[0].review);

	CHECK(test_pending_rows(s, "liaison-l", &rs) == 0);
	CHECK(rs.n == 3);
	CHECK_STR(rs.v[0].hub_id, "H-v1a");
	CHECK(rs.v[0].hop == 1 && rs.v[0].form == 2 && rs.v[0].review);
	CHECK(rs.v[0].has_origin);
	CHECK_STR(rs.v[0].origin, "H-v1");
	CHECK_STR(rs.v[0].chain_id, "p-xyz");
	CHECK_STR(rs.v[0].sender, "ceptoar-s");
	CHECK(rs.v[0].message_seq == v1a);
	CHECK_STR(rs.v[1].hub_id, "H-q1");
	CHECK(rs.v[1].has_in_reply_to);
	CHECK_STR(rs.v[1].in_reply_to, "H-v1b");
	CHECK(rs.v[1].hop == 0 && rs.v[1].form == 1 && !rs.v[1].review);

	CHECK(test_pending_rows(s, "nisc", &rs) == 0);
	CHECK(rs.n == 1);
	CHECK(rs.v[0].hop == 2 && rs.v[0].form == 2 && !rs.v[0].review);
	CHECK_STR(rs.v[0].origin, "H-v1");

	/* store_fetch: a recipient's delivery, a sender's message. */
	memset(&rs, 0, sizeof(rs));
	CHECK(store_fetch(s, "liaison-l", "H-v1a", test_row, &rs, &cause) ==
	    0);
	CHECK(rs.n == 1 && rs.v[0].seq == 1 && rs.v[0].review);
	CHECK(rs.v[0].hop == 1 && rs.v[0].form == 2);
	CHECK_STR(rs.v[0].origin, "H-v1");
	memset(&rs, 0, sizeof(rs));
	CHECK(store_fetch(s, "ceptoar-s", "H-v1a", test_row, &rs, &cause) ==
	    0);
	CHECK(rs.n == 1 && rs.v[0].seq == 0 && !rs.v[0].review);
	CHECK(rs.v[0].hop == 1 && rs.v[0].form == 2);
	CHECK_STR(rs.v[0].reason, "sent");
	CHECK_STR(rs.v[0].recipient, "ceptoar-s");
	CHECK_STR(rs.v[0].kind, "report");
	CHECK(rs.v[0].message_seq == v1a);

	/* The hub's own view, whoever asks. */
	CHECK(test_message(s, "H-v1a", &rs) == 0);
	CHECK(rs.n == 1 && rs.v[0].seq == 0 && !rs.v[0].has_recipient);
	CHECK_STR(rs.v[0].reason, "stored");
	CHECK(rs.v[0].hop == 1 && rs.v[0].form == 2 && !rs.v[0].review);
	CHECK_STR(rs.v[0].sender, "ceptoar-s");
	CHECK_STR(rs.v[0].origin, "H-v1");
	CHECK_STR(rs.v[0].chain_id, "p-xyz");
	CHECK_STR(rs.v[0].body, "body of H-v1a");
	CHECK(rs.v[0].message_seq == v1a && rs.v[0].received_at ==
	    1700000000);
	CHECK(rs.v[0].acked_at == 0 && rs.v[0].delivered_at == 0);
	CHECK(test_message(s, "H-none", &rs) == 1 && rs.n == 0);

	/* One's own delivery only: not the sender's view, not others'. */
	CHECK(test_delivery_of(s, "ceptoar-s", "H-v1", &rs) == 0);
	CHECK(rs.n == 1 && rs.v[0].seq == 1 && rs.v[0].review);
	CHECK_STR(rs.v[0].recipient, "ceptoar-s");
	CHECK_STR(rs.v[0].reason, "secretariat of s");
	CHECK(test_delivery_of(s, "op-r", "H-v1", &rs) == 1 && rs.n == 0);
	CHECK(test_delivery_of(s, "nisc", "H-v1", &rs) == 1);
	CHECK(test_delivery_of(s, "nisc", "H-none", &rs) == 1);

	/* Recipients come by hop, then organisation. */
	memset(&sn, 0, sizeof(sn));
	sn.only = "H-mix";
	CHECK(store_receipts(s, "H-mix", test_recipient, &sn, &cause) == 0);
	CHECK(sn.n == 2);
	CHECK_STR(sn.hub_id[0], "z-org");
	CHECK_STR(sn.hub_id[1], "a-org");
	memset(&sn, 0, sizeof(sn));
	sn.only = "H-v1";
	CHECK(store_receipts(s, "H-v1", test_recipient, &sn, &cause) == 0);
	CHECK(sn.n == 2);
	CHECK_STR(sn.hub_id[0], "ceptoar-s");
	CHECK_STR(sn.hub_id[1], "watch-a");

	/* A chain's revisions so far: its sender's originals only. */
	{
		uint64_t	 nrev = 99;

		CHECK(store_chain_count(s, "op-r", "c-1", &nrev, &cause) ==
		    0 && nrev == 2);
		CHECK(store_chain_count(s, "op-x", "c-1", &nrev, &cause) ==
		    0 && nrev == 1);
		CHECK(store_chain_count(s, "op-r", "c-none", &nrev, &cause) ==
		    0 && nrev == 0);
		/* A derived form is no revision of anyone's chain. */
		CHECK(store_chain_count(s, "ceptoar-s", "p-xyz", &nrev,
		    &cause) == 0 && nrev == 0);
	}

	/* Replies, in order, as the messages themselves. */
	memset(&rs, 0, sizeof(rs));
	CHECK(store_replies(s, "H-v1b", test_row, &rs, &cause) == 0);
	CHECK(rs.n == 2);
	CHECK_STR(rs.v[0].hub_id, "H-q1");
	CHECK_STR(rs.v[1].hub_id, "H-q2");
	CHECK(!rs.v[0].has_recipient && rs.v[0].seq == 0);
	CHECK_STR(rs.v[0].reason, "stored");
	CHECK_STR(rs.v[0].in_reply_to, "H-v1b");
	CHECK_STR(rs.v[0].sender, "nisc");
	CHECK_STR(rs.v[1].body, "body of H-q2");
	memset(&rs, 0, sizeof(rs));
	CHECK(store_replies(s, "H-v1", test_row, &rs, &cause) == 0);
	CHECK(rs.n == 0);
	memset(&rs, 0, sizeof(rs));
	rs.stop_after = 1;
	CHECK(store_replies(s, "H-v1b", test_row, &rs, &cause) == 0);
	CHECK(rs.n == 1);
	store_close(s);
}

/*
 * Delivery and forward marks, receipts over every form, and the widened
 * sharing range, inside and outside groups and across a reopen.
 */
static void
test_hops_marks(void)
{
	const uint64_t	 one = 1;
	struct store	*s;
	struct rows	 rs;
	size_t		 nacked;
	char		*cause = NULL;

	if ((s = test_open_path(test_path("hops.db"))) == NULL) {
		CHECK(0);
		return;
	}
	/* The first time a delivery went out is kept. */
	CHECK(store_mark_delivered(s, "ceptoar-s", 1, 1700000500, &cause) ==
	    0);
	CHECK(store_mark_delivered(s, "ceptoar-s", 1, 1700000900, &cause) ==
	    0);
	CHECK(store_mark_delivered(s, "ceptoar-s", 99, 1700000900, &cause) ==
	    0);
	CHECK(store_mark_delivered(s, "ceptoar-s", 0, 1700000900, &cause) ==
	    0);
	CHECK(store_mark_delivered(s, "nobody", 1, 1700000900, &cause) == 0);
	CHECK(store_mark_delivered(s, "ceptoar-s", 1, 0, &cause) == -1);
	CHECK_CONTAINS(cause, "not positive");
	free(cause);
	cause = NULL;
	CHECK(test_pending_rows(s, "ceptoar-s", &rs) == 0);
	CHECK(rs.n == 2 && rs.v[0].delivered_at == 1700000500);
	CHECK(rs.v[1].delivered_at == 0);

	/* A mark inside a group goes with it. */
	CHECK(store_begin(s, &cause) == 0);
	CHECK(store_mark_delivered(s, "ceptoar-s", 2, 1700000550, &cause) ==
	    0);
	CHECK(test_delivery_of(s, "ceptoar-s", "H-v2", &rs) == 0);
	CHECK(rs.n == 1 && rs.v[0].delivered_at == 1700000550);
	store_rollback(s);
	CHECK(test_delivery_of(s, "ceptoar-s", "H-v2", &rs) == 0);
	CHECK(rs.n == 1 && rs.v[0].delivered_at == 0);
	CHECK(store_begin(s, &cause) == 0);
	CHECK(store_mark_delivered(s, "nisc", 1, 1700000560, &cause) == 0);
	CHECK(store_commit(s, &cause) == 0);

	/* A holder's forward, once; nobody else's. */
	CHECK(store_mark_forwarded(s, "ceptoar-s", "H-v1", 1700000600,
	    &cause) == 0);
	CHECK(store_mark_forwarded(s, "ceptoar-s", "H-v1", 1700000700,
	    &cause) == 0);
	CHECK(store_mark_forwarded(s, "liaison-l", "H-v1a", 1700000650,
	    &cause) == 0);
	CHECK(store_mark_forwarded(s, "op-r", "H-v1", 1700000600, &cause) ==
	    1);
	CHECK(store_mark_forwarded(s, "ceptoar-s", "H-none", 1700000600,
	    &cause) == 1);
	CHECK(store_mark_forwarded(s, "ceptoar-s", "H-v1", -1, &cause) ==
	    -1);
	CHECK_CONTAINS(cause, "not positive");
	free(cause);
	cause = NULL;
	CHECK(store_begin(s, &cause) == 0);
	CHECK(store_mark_forwarded(s, "watch-a", "H-v1", 1700000610,
	    &cause) == 0);
	store_rollback(s);
	CHECK(test_delivery_of(s, "ceptoar-s", "H-v1", &rs) == 0);
	CHECK(rs.n == 1 && rs.v[0].forwarded_at == 1700000600);
	CHECK(rs.v[0].delivered_at == 1700000500);
	CHECK(test_delivery_of(s, "watch-a", "H-v1", &rs) == 0);
	CHECK(rs.n == 1 && rs.v[0].forwarded_at == 0);

	CHECK(store_ack(s, "nisc", &one, 1, 1700000800, &nacked, &cause) ==
	    0 && nacked == 1);

	/* Receipts: the original's and every derived form's, by hop. */
	memset(&rs, 0, sizeof(rs));
	CHECK(store_receipts(s, "H-v1", test_row, &rs, &cause) == 0);
	CHECK(rs.n == 4);
	CHECK_STR(rs.v[0].recipient, "ceptoar-s");
	CHECK_STR(rs.v[0].hub_id, "H-v1");
	CHECK(rs.v[0].hop == 0 && rs.v[0].form == 1 && rs.v[0].review);
	CHECK(rs.v[0].delivered_at == 1700000500 && rs.v[0].acked_at == 0);
	CHECK(rs.v[0].forwarded_at == 1700000600);
	CHECK_STR(rs.v[0].reason, "secretariat of s");
	CHECK_STR(rs.v[1].recipient, "watch-a");
	CHECK_STR(rs.v[1].hub_id, "H-v1");
	CHECK(!rs.v[1].review && rs.v[1].forwarded_at == 0);
	CHECK_STR(rs.v[2].recipient, "liaison-l");
	CHECK_STR(rs.v[2].hub_id, "H-v1a");
	CHECK(rs.v[2].hop == 1 && rs.v[2].form == 2);
	CHECK(rs.v[2].forwarded_at == 1700000650);
	CHECK_STR(rs.v[3].recipient, "nisc");
	CHECK_STR(rs.v[3].hub_id, "H-v1b");
	CHECK(rs.v[3].hop == 2 && rs.v[3].form == 2);
	CHECK(rs.v[3].delivered_at == 1700000560);
	CHECK(rs.v[3].acked_at == 1700000800);
	CHECK(!rs.v[3].has_body);
	memset(&rs, 0, sizeof(rs));
	CHECK(store_receipts(s, "H-v1a", test_row, &rs, &cause) == 0);
	CHECK(rs.n == 1);
	CHECK_STR(rs.v[0].recipient, "liaison-l");
	memset(&rs, 0, sizeof(rs));
	CHECK(store_receipts(s, "H-none", test_row, &rs, &cause) == 0);
	CHECK(rs.n == 0);
	memset(&rs, 0, sizeof(rs));
	rs.stop_after = 2;
	CHECK(store_receipts(s, "H-v1", test_row, &rs, &cause) == 0);
	CHECK(rs.n == 2);

	/* The widened range is the original's, and every form shows it. */
	CHECK(store_set_sharing(s, "H-v1", (const uint8_t *)"wide", 4,
	    &cause) == 0);
	CHECK(test_delivery_of(s, "nisc", "H-v1b", &rs) == 0);
	CHECK(rs.n == 1 && rs.v[0].has_sharing && rs.v[0].sharing_len == 4);
	CHECK_STR(rs.v[0].sharing, "wide");
	CHECK(store_set_sharing(s, "H-v1", (const uint8_t *)"wider", 5,
	    &cause) == 0);
	CHECK(test_pending_rows(s, "liaison-l", &rs) == 0);
	CHECK(rs.n == 3);
	CHECK_STR(rs.v[0].sharing, "wider");
	CHECK(!rs.v[1].has_sharing);
	CHECK(test_message(s, "H-v1", &rs) == 0);
	CHECK_STR(rs.v[0].sharing, "wider");
	memset(&rs, 0, sizeof(rs));
	CHECK(store_receipts(s, "H-v1", test_row, &rs, &cause) == 0);
	CHECK(rs.n == 4 && rs.v[3].sharing_len == 5);
	CHECK(store_set_sharing(s, "H-v1a", (const uint8_t *)"x", 1,
	    &cause) == 1);
	CHECK(store_set_sharing(s, "H-none", (const uint8_t *)"x", 1,
	    &cause) == 1);
	CHECK(store_set_sharing(s, "H-v1", NULL, 3, &cause) == -1);
	CHECK_CONTAINS(cause, "range is NULL");
	free(cause);
	cause = NULL;
	/* Inside a group it goes with the group. */
	CHECK(store_begin(s, &cause) == 0);
	CHECK(store_set_sharing(s, "H-v1", (const uint8_t *)"x", 1,
	    &cause) == 0);
	CHECK(test_message(s, "H-v1", &rs) == 0);
	CHECK_STR(rs.v[0].sharing, "x");
	store_rollback(s);
	CHECK(test_message(s, "H-v1", &rs) == 0);
	CHECK_STR(rs.v[0].sharing, "wider");
	/* An empty packed range is a range, not the absence of one. */
	CHECK(store_set_sharing(s, "H-v2", NULL, 0, &cause) == 0);
	CHECK(test_message(s, "H-v2", &rs) == 0);
	CHECK(rs.v[0].has_sharing && rs.v[0].sharing_len == 0);
	store_close(s);

	/* All of it is durable. */
	if ((s = test_open_path(test_path("hops.db"))) == NULL) {
		CHECK(0);
		return;
	}
	CHECK(test_delivery_of(s, "ceptoar-s", "H-v1", &rs) == 0);
	CHECK(rs.n == 1 && rs.v[0].review && rs.v[0].hop == 0);
	CHECK(rs.v[0].delivered_at == 1700000500);
	CHECK(rs.v[0].forwarded_at == 1700000600);
	CHECK_STR(rs.v[0].sharing, "wider");
	CHECK(test_delivery_of(s, "nisc", "H-v1b", &rs) == 0);
	CHECK(rs.v[0].delivered_at == 1700000560 && rs.v[0].form == 2);
	store_close(s);
}

/* Calls from inside the new readers' callbacks are refused. */
static int
test_reenter_row(const struct store_delivery *d, void *arg)
{
	struct store	*s = arg;
	char		*cause = NULL;

	CHECK(store_mark_delivered(s, "nisc", 1, 1700000999, &cause) == -1);
	CHECK_CONTAINS(cause, "inside a store callback");
	free(cause);
	cause = NULL;
	CHECK(store_set_sharing(s, "H-v1", (const uint8_t *)"y", 1,
	    &cause) == -1);
	CHECK_CONTAINS(cause, "inside a store callback");
	free(cause);
	return (0);
}

/* Misuse of the new fields and functions is refused with a reason. */
static void
test_hops_refusals(void)
{
	struct store_recipient	 ok = { .org = "nisc", .reason = "r" };
	struct store_recipient		 bad = ok;
	struct store_message		 m;
	struct store			*s;
	struct rows			 rs;
	char				*cause = NULL;
	uint64_t			 n0;

	if ((s = test_open_path(test_path("hops.db"))) == NULL) {
		CHECK(0);
		return;
	}
	n0 = test_messages(test_path("hops.db"));
	CHECK(store_begin(s, &cause) == 0);
	memset(&m, 0, sizeof(m));
	snprintf(m.hub_id, sizeof(m.hub_id), "H-bad");
	m.sender = "op-r";
	m.uuid = "bad";
	m.kind = "report";

	m.form = 3;
	CHECK(store_insert(s, &m, &ok, 1, &cause) == -1);
	CHECK_CONTAINS(cause, "unknown form 3");
	free(cause);
	m.form = CEPTOAR__FORM__FORM_ANONYMISED;
	CHECK(store_insert(s, &m, &ok, 1, &cause) == -1);
	CHECK_CONTAINS(cause, "anonymised form without an origin");
	free(cause);
	m.form = 0;
	m.origin = "H-bad";
	CHECK(store_insert(s, &m, &ok, 1, &cause) == -1);
	CHECK_CONTAINS(cause, "cannot derive from or answer itself");
	free(cause);
	m.origin = NULL;
	m.in_reply_to = "H-bad";
	CHECK(store_insert(s, &m, &ok, 1, &cause) == -1);
	CHECK_CONTAINS(cause, "cannot derive from or answer itself");
	free(cause);
	m.in_reply_to = NULL;
	m.chain_id = "";
	CHECK(store_insert(s, &m, &ok, 1, &cause) == -1);
	CHECK_CONTAINS(cause, "empty origin, chain_id or in_reply_to");
	free(cause);
	m.chain_id = NULL;
	bad.form = -1;
	CHECK(store_insert(s, &m, &bad, 1, &cause) == -1);
	CHECK_CONTAINS(cause, "recipient nisc has unknown form -1");
	free(cause);
	cause = NULL;
	/* None of that cost the group. */
	CHECK(store_insert(s, &m, &ok, 1, &cause) == 0);
	CHECK(store_commit(s, &cause) == 0);
	CHECK(test_messages(test_path("hops.db")) == n0 + 1);

	CHECK(store_message(s, "", test_row, &rs, &cause) == -1);
	free(cause);
	CHECK(store_delivery_of(s, "nisc", NULL, test_row, &rs, &cause) ==
	    -1);
	free(cause);
	CHECK(store_receipts(s, "H-v1", NULL, NULL, &cause) == -1);
	free(cause);
	CHECK(store_replies(s, NULL, test_row, &rs, &cause) == -1);
	free(cause);
	CHECK(store_mark_forwarded(s, "", "H-v1", 1, &cause) == -1);
	free(cause);
	CHECK(store_set_sharing(s, "", NULL, 0, &cause) == -1);
	free(cause);
	cause = NULL;

	CHECK(store_message(s, "H-v1", test_reenter_row, s, &cause) == 0);
	CHECK(store_delivery_of(s, "nisc", "H-v1b", test_reenter_row, s,
	    &cause) == 0);
	CHECK(store_receipts(s, "H-v1", test_reenter_row, s, &cause) == 0);
	CHECK(store_replies(s, "H-v1b", test_reenter_row, s, &cause) == 0);
	/* And the refused calls changed nothing. */
	CHECK(test_delivery_of(s, "nisc", "H-v1b", &rs) == 0);
	CHECK(rs.v[0].forwarded_at == 0 && rs.v[0].delivered_at ==
	    1700000560);
	CHECK_STR(rs.v[0].sharing, "wider");
	store_close(s);
}

/*
 * Acknowledgements with the times their deliveries were sent: each seq
 * gets its own sent time, whether it is in a run of seqs sent together or
 * not, an unknown time reads as now, an earlier sent mark stays, and a
 * repeat acknowledges nothing.
 */
static void
test_ack_sent(void)
{
	static const char *const hub_ids[] = { "S-1", "S-2", "S-3", "S-4",
	    "S-5", "S-6", "S-7" };
	const char	*x[] = { "op-x" }, *y[] = { "op-y" };
	const uint64_t	 seqs[] = { 1, 2, 3, 5, 6, 4, 7 }, zero_one[] = { 0, 1 };
	const int64_t	 sent[] = { 100, 100, 200, 300, 300, 0, 300 };
	const int64_t	 want[] = { 100, 100, 200, 1000, 300, 300, 50 };
	struct store	*s;
	struct rows	 rs;
	char		 uuid[16];
	size_t		 i, nacked;
	char		*cause = NULL;

	if ((s = test_open()) == NULL) {
		CHECK(0);
		return;
	}
	for (i = 0; i < 7; i++) {
		snprintf(uuid, sizeof(uuid), "ack-%zu", i);
		/* op-x is a new inbox: its seqs are 1 to 7. */
		CHECK(test_put(s, hub_ids[i], "nisc", uuid, "b", x, 1) != 0);
	}
	CHECK(store_mark_delivered(s, "op-x", 7, 50, &cause) == 0);
	CHECK(store_ack_sent(s, "op-x", seqs, sent, 7, 1000, &nacked,
	    &cause) == 0);
	CHECK(nacked == 7);
	for (i = 0; i < 7; i++) {
		CHECK(test_delivery_of(s, "op-x", hub_ids[i], &rs) == 0);
		CHECK(rs.n == 1 && rs.v[0].acked_at == 1000);
		CHECK(rs.v[0].delivered_at == want[i]);
	}
	CHECK(store_ack_sent(s, "op-x", seqs + 1, sent + 1, 2, 2000, &nacked,
	    &cause) == 0);
	CHECK(nacked == 0);
	CHECK(test_delivery_of(s, "op-x", "S-2", &rs) == 0);
	CHECK(rs.v[0].acked_at == 1000 && rs.v[0].delivered_at == 100);
	CHECK(test_pragma(dbpath, "SELECT acked_through FROM inboxes"
	    " WHERE recipient = 'op-x'") == 7);
	/* Seq 0 is no delivery, but the 1 right after it is acknowledged. */
	CHECK(test_put(s, "S-8", "nisc", "ack-y", "b", y, 1) != 0);
	CHECK(store_ack(s, "op-y", zero_one, 2, 3000, &nacked, &cause) == 0);
	CHECK(nacked == 1);
	store_close(s);
}

/* The version 1 schema exactly as ceptoard 0.1.0 created it. */
static const char test_schema_v1[] =
	"CREATE TABLE messages (\n"
	"	seq		INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"	hub_id		TEXT NOT NULL UNIQUE,\n"
	"	sender		TEXT NOT NULL,\n"
	"	uuid		TEXT NOT NULL,\n"
	"	kind		TEXT NOT NULL,\n"
	"	received_at	INTEGER NOT NULL,\n"
	"	body		BLOB NOT NULL,\n"
	"	digest		BLOB NOT NULL CHECK (length(digest) = 32),\n"
	"	UNIQUE (sender, uuid)\n"
	");\n"
	"CREATE TABLE inboxes (\n"
	"	recipient	TEXT NOT NULL PRIMARY KEY,\n"
	"	last_seq	INTEGER NOT NULL CHECK (last_seq > 0)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE deliveries (\n"
	"	recipient	TEXT NOT NULL,\n"
	"	seq		INTEGER NOT NULL CHECK (seq > 0),\n"
	"	message_seq	INTEGER NOT NULL REFERENCES messages (seq),\n"
	"	reason		TEXT NOT NULL,\n"
	"	acked_at	INTEGER CHECK (acked_at > 0),\n"
	"	PRIMARY KEY (recipient, seq),\n"
	"	UNIQUE (message_seq, recipient)\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX deliveries_pending ON deliveries (recipient, seq)\n"
	"	WHERE acked_at IS NULL;\n"
	"PRAGMA application_id = 1128616020;\n"
	"PRAGMA user_version = 1;\n";

/* Two messages as a version 1 hub stored them; op-a acked the first. */
static const char test_rows_v1[] =
	"INSERT INTO messages (hub_id, sender, uuid, kind, received_at,"
	" body, digest) VALUES"
	" ('M-1', 'nisc', 'u-1', 'advisory', 1600000000, x'6f6e65',"
	"  zeroblob(32)),"
	" ('M-2', 'liaison', 'u-2', 'report', 1600000100, x'74776f',"
	"  zeroblob(32));\n"
	"INSERT INTO deliveries (recipient, seq, message_seq, reason,"
	" acked_at) VALUES"
	" ('op-a', 1, 1, 'sector member', 1600000050),"
	" ('op-b', 1, 1, 'sector member', NULL),"
	" ('op-b', 2, 2, 'sector member', NULL);\n"
	"INSERT INTO inboxes (recipient, last_seq) VALUES"
	" ('op-a', 1), ('op-b', 2);\n";

/* Create a database at path by running sql; whether it worked. */
static int
test_make_db(const char *path, const char *sql)
{
	sqlite3		*db;
	char		*err = NULL;
	int		 ok;

	if (sqlite3_open(path, &db) != SQLITE_OK) {
		sqlite3_close(db);
		return (0);
	}
	ok = sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK;
	if (!ok)
		fprintf(stderr, "%s: %s\n", path, err);
	sqlite3_free(err);
	sqlite3_close(db);
	return (ok);
}

/*
 * A description of a file's schema: every column of every table (name,
 * type, NOT NULL, default, key) and every index name, in order.
 */
static void
test_schema_of(const char *path, char *buf, size_t len)
{
	static const char	 sql[] =
	    "SELECT t.name || '.' || c.name || ' ' || c.type || ' ' ||"
	    " c.\"notnull\" || ' ' || ifnull(c.dflt_value, '-') || ' ' ||"
	    " c.pk FROM sqlite_master AS t, pragma_table_xinfo(t.name) AS c"
	    " WHERE t.type = 'table' UNION ALL"
	    " SELECT 'index ' || name FROM sqlite_master WHERE type = 'index'"
	    " ORDER BY 1";
	sqlite3		*db;
	sqlite3_stmt	*st;
	size_t		 off = 0;

	buf[0] = '\0';
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return;
	}
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW && off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s\n",
			    (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
}

/*
 * A version 1 file is migrated in place at open: its rows stay, read with
 * the version 2 defaults, cursors go on, the new columns work, and the
 * schema is the one a new file gets.  A migration that fails leaves the
 * file at version 1, and a version 1 file of someone else is refused.
 */
static void
test_migrate(void)
{
	struct store_recipient	 to_b = { .org = "op-b",
		.reason = "follow-up", .hop = 1,
		.form = CEPTOAR__FORM__FORM_ANONYMISED, .review = true };
	const char	*v1 = test_path("v1.db");
	struct store	*s;
	struct rows	 rs;
	uint64_t	 last, pend;
	char		*cause = NULL;
	static char	 want[4096], got[4096];

	CHECK(test_make_db(v1, test_schema_v1));
	CHECK(test_make_db(v1, test_rows_v1));
	CHECK(test_pragma(v1, "PRAGMA user_version") == 1);
	CHECK(test_pragma(v1, "SELECT count(*) FROM pragma_table_info("
	    "'messages') WHERE name = 'origin'") == 0);

	if ((s = test_open_path(v1)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK(test_messages(v1) == 2);
	CHECK(test_pending_rows(s, "op-b", &rs) == 0);
	CHECK(rs.n == 2);
	CHECK_STR(rs.v[0].hub_id, "M-1");
	CHECK_STR(rs.v[0].kind, "advisory");
	CHECK_STR(rs.v[0].body, "one");
	CHECK(rs.v[0].received_at == 1600000000);
	CHECK(rs.v[0].hop == 0 && rs.v[0].form == 1 && !rs.v[0].review);
	CHECK(!rs.v[0].has_origin && !rs.v[0].has_chain_id);
	CHECK(!rs.v[0].has_in_reply_to && !rs.v[0].has_sharing);
	CHECK(rs.v[0].delivered_at == 0 && rs.v[0].forwarded_at == 0);
	CHECK(rs.v[1].seq == 2 && rs.v[1].message_seq == 2);
	CHECK(test_delivery_of(s, "op-a", "M-1", &rs) == 0);
	CHECK(rs.n == 1 && rs.v[0].acked_at == 1600000050);
	CHECK(store_inbox_state(s, "op-b", &last, &pend, &cause) == 0);
	CHECK(last == 2 && pend == 2);
	/* The upgrade to version 4 set each inbox's mark from its rows. */
	CHECK(test_pragma(v1, "SELECT acked_through FROM inboxes"
	    " WHERE recipient = 'op-a'") == 1);
	CHECK(test_pragma(v1, "SELECT acked_through FROM inboxes"
	    " WHERE recipient = 'op-b'") == 0);

	/* New rows go on from the old cursors and use the new columns. */
	CHECK(test_form(s, "M-3", "op-a", "M-2", "c-9",
	    CEPTOAR__FORM__FORM_ANONYMISED, 1, "M-1", &to_b, 1) == 3);
	CHECK(test_pending_rows(s, "op-b", &rs) == 0);
	CHECK(rs.n == 3 && rs.v[2].seq == 3 && rs.v[2].review);
	CHECK(rs.v[2].hop == 1 && rs.v[2].form == 2);
	CHECK(store_mark_delivered(s, "op-b", 1, 1700000000, &cause) == 0);
	CHECK(store_mark_forwarded(s, "op-b", "M-2", 1700000001, &cause) ==
	    0);
	CHECK(store_set_sharing(s, "M-2", (const uint8_t *)"r", 1, &cause) ==
	    0);
	memset(&rs, 0, sizeof(rs));
	CHECK(store_receipts(s, "M-2", test_row, &rs, &cause) == 0);
	CHECK(rs.n == 2);
	CHECK_STR(rs.v[0].hub_id, "M-2");
	CHECK(rs.v[0].forwarded_at == 1700000001);
	CHECK_STR(rs.v[1].hub_id, "M-3");
	CHECK_STR(rs.v[1].sharing, "r");
	memset(&rs, 0, sizeof(rs));
	CHECK(store_replies(s, "M-1", test_row, &rs, &cause) == 0);
	CHECK(rs.n == 1);
	CHECK_STR(rs.v[0].hub_id, "M-3");
	store_close(s);

	CHECK(test_pragma(v1, "PRAGMA user_version") == 5);
	CHECK(test_pragma(v1, "PRAGMA application_id") == 0x43455054);
	/* The same schema as a file that started at version 2. */
	if ((s = test_open_path(test_path("fresh.db"))) != NULL)
		store_close(s);
	test_schema_of(v1, got, sizeof(got));
	test_schema_of(test_path("fresh.db"), want, sizeof(want));
	CHECK(want[0] != '\0');
	CHECK_STR(got, want);
	CHECK_CONTAINS(got, "deliveries.review INTEGER 1 0 0");
	CHECK_CONTAINS(got, "index messages_chain");

	/* A second open of a migrated file changes nothing. */
	if ((s = test_open_path(v1)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK(test_messages(v1) == 3);
	store_close(s);

	/* A migration that fails half-way leaves version 1 as it was. */
	CHECK(test_make_db(test_path("v1bad.db"), test_schema_v1));
	CHECK(test_make_db(test_path("v1bad.db"), test_rows_v1));
	CHECK(test_make_db(test_path("v1bad.db"),
	    "CREATE TABLE messages_chain (x)"));
	CHECK(test_store_open(test_path("v1bad.db"), &cause) == NULL);
	CHECK_CONTAINS(cause, "upgrade schema from version 1 to 2");
	CHECK_CONTAINS(cause, "messages_chain");
	free(cause);
	cause = NULL;
	CHECK(test_pragma(test_path("v1bad.db"), "PRAGMA user_version") ==
	    1);
	CHECK(test_pragma(test_path("v1bad.db"), "SELECT count(*) FROM "
	    "pragma_table_info('messages') WHERE name = 'origin'") == 0);
	CHECK(test_pragma(test_path("v1bad.db"), "SELECT count(*) FROM "
	    "messages") == 2);

	/* Version 1 of another application is not ours to migrate. */
	CHECK(test_make_db(test_path("v1other.db"), test_schema_v1));
	CHECK(test_make_db(test_path("v1other.db"),
	    "PRAGMA application_id = 7"));
	CHECK(test_store_open(test_path("v1other.db"), &cause) == NULL);
	CHECK_CONTAINS(cause, "another application");
	free(cause);
	CHECK(test_pragma(test_path("v1other.db"), "PRAGMA user_version") ==
	    1);
}

/* Whether the file at path holds the len bytes of needle anywhere. */
static int
test_file_has(const char *path, const void *needle, size_t len)
{
	FILE	*f;
	char	*buf = NULL;
	long	 size;
	int	 found = 0;

	if ((f = fopen(path, "r")) == NULL)
		return (0);
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)size)) != NULL &&
	    fread(buf, 1, (size_t)size, f) == (size_t)size)
		found = memmem(buf, (size_t)size, needle, len) != NULL;
	free(buf);
	fclose(f);
	return (found);
}

/* Whether path or its write-ahead log holds needle. */
static int
test_store_has(const char *path, const char *needle)
{
	char	 wal[600];

	snprintf(wal, sizeof(wal), "%s-wal", path);
	return (test_file_has(path, needle, strlen(needle)) ||
	    test_file_has(wal, needle, strlen(needle)));
}

/* Run sql on the file directly, bypassing the store; whether it worked. */
static int
test_sql(const char *path, const char *sql)
{
	sqlite3		*db;
	char		*err = NULL;
	int		 ok;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return (0);
	}
	ok = sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK;
	if (!ok)
		fprintf(stderr, "%s: %s\n", path, err);
	sqlite3_free(err);
	sqlite3_close(db);
	return (ok);
}

/* Read up to len bytes of a message's stored body straight from the file. */
static size_t
test_raw_body(const char *path, const char *hub_id, uint8_t *out, size_t len)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	size_t		 n = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return (0);
	}
	if (sqlite3_prepare_v2(db, "SELECT body FROM messages WHERE "
	    "hub_id = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, hub_id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			n = (size_t)sqlite3_column_bytes(st, 0);
			if (n > len)
				n = len;
			memcpy(out, sqlite3_column_blob(st, 0), n);
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return (n);
}

/* Replace a message's stored body straight in the file; whether it did. */
static int
test_raw_set(const char *path, const char *hub_id, const uint8_t *body,
    size_t len)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	int		 ok = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return (0);
	}
	if (sqlite3_prepare_v2(db, "UPDATE messages SET body = ?2 WHERE "
	    "hub_id = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, hub_id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, body, (int)len, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE &&
		    sqlite3_changes(db) == 1;
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return (ok);
}

/* What a reader saw of one row's body. */
struct opened {
	size_t	 n;
	size_t	 errors;
	char	 body[8][128];
	char	 error[256];
	bool	 null_body;
};

/* Record the body of each row, or why it did not open. */
static int
test_opened(const struct store_delivery *d, void *arg)
{
	struct opened	*o = arg;

	if (d->body_error != NULL) {
		o->errors++;
		snprintf(o->error, sizeof(o->error), "%s", d->body_error);
		o->null_body = d->body == NULL && d->body_len == 0;
	} else if (o->n < 8)
		snprintf(o->body[o->n], sizeof(o->body[o->n]), "%.*s",
		    (int)d->body_len, (const char *)d->body);
	o->n++;
	return (0);
}

/*
 * Key files: the daemon refuses (and says how to fix) a file that group
 * or others may read or write, the wrong length, all zeros, something
 * that is not a regular file, a missing one, no key at all, a key listed
 * twice and an empty list entry.
 */
static void
test_key_files(void)
{
	static const uint8_t	 zeros[32];
	struct store_keys	*k;
	char			*cause = NULL, list[600], good[512];
	mode_t			 modes[] = { 0640, 0604, 0620, 0644, 0400 };
	size_t			 i;

	snprintf(good, sizeof(good), "%s", test_keyfile("good.key", NULL, 32,
	    0600));
	k = store_keys_load(good, NULL, &cause);
	CHECK(k != NULL && cause == NULL);
	store_keys_free(k);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		test_keyfile("mode.key", NULL, 32, modes[i]);
		k = store_keys_load(test_path("mode.key"), NULL, &cause);
		if (modes[i] == 0400) {
			CHECK(k != NULL);
			store_keys_free(k);
			continue;
		}
		CHECK(k == NULL);
		CHECK_CONTAINS(cause, "must not be readable or writable by "
		    "group or others; chmod 600");
		CHECK_CONTAINS(cause, "mode.key");
		free(cause);
		cause = NULL;
	}
	/* A loose old key is refused as well as a loose current one. */
	test_keyfile("mode.key", NULL, 32, 0644);
	CHECK(store_keys_load(good, test_path("mode.key"), &cause) == NULL);
	CHECK_CONTAINS(cause, "mode 0644");
	free(cause);

	test_keyfile("short.key", NULL, 31, 0600);
	CHECK(store_keys_load(test_path("short.key"), NULL, &cause) == NULL);
	CHECK_CONTAINS(cause, "has 31 bytes; a store key is exactly 32 "
	    "random bytes");
	free(cause);
	test_keyfile("long.key", NULL, 33, 0600);
	CHECK(store_keys_load(test_path("long.key"), NULL, &cause) == NULL);
	CHECK_CONTAINS(cause, "more than 32 bytes");
	free(cause);
	test_keyfile("empty.key", NULL, 0, 0600);
	CHECK(store_keys_load(test_path("empty.key"), NULL, &cause) == NULL);
	CHECK_CONTAINS(cause, "has 0 bytes");
	free(cause);
	test_keyfile("zero.key", zeros, 32, 0600);
	CHECK(store_keys_load(test_path("zero.key"), NULL, &cause) == NULL);
	CHECK_CONTAINS(cause, "is all zeros");
	free(cause);
	CHECK(store_keys_load(tmpdir, NULL, &cause) == NULL);
	CHECK_CONTAINS(cause, "is not a regular file");
	free(cause);
	CHECK(store_keys_load(test_path("absent.key"), NULL, &cause) == NULL);
	CHECK_CONTAINS(cause, "absent.key: No such file");
	free(cause);
	unlink(test_path("link.key"));
	CHECK(symlink(good, test_path("link.key")) == 0);
	CHECK(store_keys_load(test_path("link.key"), NULL, &cause) == NULL);
	CHECK_CONTAINS(cause, "symbolic link");
	free(cause);

	CHECK(store_keys_load(NULL, NULL, &cause) == NULL);
	CHECK_CONTAINS(cause, "no store_key is configured");
	free(cause);
	CHECK(store_keys_load("", NULL, &cause) == NULL);
	CHECK(cause != NULL);
	free(cause);
	CHECK(store_keys_load(good, good, &cause) == NULL);
	CHECK_CONTAINS(cause, "store_old_keys must not list store_key");
	free(cause);
	test_keyfile("copy.key", NULL, 32, 0600);
	snprintf(list, sizeof(list), "%s, %s", test_path("copy.key"),
	    test_path("copy.key"));
	CHECK(store_keys_load(good, list, &cause) == NULL);
	CHECK_CONTAINS(cause, "list each old key once");
	free(cause);
	snprintf(list, sizeof(list), "%s,,%s", test_path("copy.key"),
	    test_path("mode.key"));
	CHECK(store_keys_load(good, list, &cause) == NULL);
	CHECK_CONTAINS(cause, "empty entry");
	free(cause);
	/* Blanks around the commas are not part of the paths. */
	test_keyfile("old2.key", NULL, 32, 0600);
	snprintf(list, sizeof(list), " %s ,\t%s", test_path("copy.key"),
	    test_path("old2.key"));
	k = store_keys_load(good, list, &cause);
	CHECK(k != NULL);
	store_keys_free(k);
	store_keys_free(NULL);

	/* No keys, no store: bodies are never stored in the clear. */
	cause = NULL;
	CHECK(store_open(test_path("nokey.db"), NULL, &cause) == NULL);
	CHECK_CONTAINS(cause, "no store key");
	free(cause);
	CHECK(access(test_path("nokey.db"), F_OK) == -1);
}

/*
 * What reaches the file is sealed: a report's text is in neither the
 * database nor its log, while every reader gets it back; bodies are
 * bound to their row, so a swapped or altered body does not open, and
 * says so to the reader without stopping the inbox; the empty body
 * round-trips.
 */
static void
test_sealed(void)
{
	static const char	 secret[] = "Sato Hanako +81-3-5555-0101: "
	    "DDoS against the internet banking front end of bank-a";
	const char	*to[] = { "op-s" };
	struct store	*s;
	struct opened	 o;
	struct store_message m;
	struct store_recipient r = { .org = "op-s", .reason = "x" };
	unsigned char	 digest[32], want[32];
	uint8_t		 raw[256], raw2[256];
	char		 hub_id[STORE_HUB_ID_LEN], *cause = NULL, path[512];
	uint64_t	 seq;
	size_t		 n, n2;

	snprintf(path, sizeof(path), "%s", test_path("sealed.db"));
	if ((s = test_store_open(path, &cause)) == NULL) {
		CHECK(0);
		return;
	}
	CHECK(test_put(s, "S-1", "bank-a", "s-1", secret, to, 1) == 1);
	CHECK(test_put(s, "S-2", "bank-a", "s-2", "second report", to, 1) ==
	    2);
	CHECK(test_put(s, "S-3", "bank-b", "s-3", "third report", to, 1) ==
	    3);
	/* Nothing of it in the file or its log, while the hub runs. */
	CHECK(!test_store_has(path, "Sato Hanako"));
	CHECK(!test_store_has(path, "internet banking"));
	CHECK(!test_store_has(path, "second report"));
	/* Each body: version 1, the key's id, nonce, ciphertext and tag. */
	n = test_raw_body(path, "S-1", raw, sizeof(raw));
	CHECK(n == strlen(secret) + 45 && raw[0] == 1);
	CHECK(((uint32_t)raw[1] << 24 | (uint32_t)raw[2] << 16 |
	    (uint32_t)raw[3] << 8 | raw[4]) == store_key_id(s));
	CHECK(test_pragma(path, "SELECT count(*) FROM messages WHERE "
	    "key_id IS NULL") == 0);

	memset(&o, 0, sizeof(o));
	CHECK(store_pending(s, "op-s", 0, 0, test_opened, &o, &cause) == 0);
	CHECK(o.n == 3 && o.errors == 0);
	CHECK_STR(o.body[0], secret);
	CHECK_STR(o.body[1], "second report");
	/* The digest a retry is compared with is still the plaintext's. */
	crypto_generichash(want, sizeof(want), (const uint8_t *)secret,
	    strlen(secret), NULL, 0);
	CHECK(store_lookup_uuid(s, "bank-a", "s-1", hub_id, &seq, digest,
	    &cause) == 1);
	CHECK(memcmp(digest, want, sizeof(want)) == 0);
	/* ...and not what the file keeps, which is keyed. */
	CHECK(!test_file_has(path, want, sizeof(want)));

	/* An empty body is sealed too, and opens as empty, not as NULL. */
	CHECK(store_begin(s, &cause) == 0);
	memset(&m, 0, sizeof(m));
	snprintf(m.hub_id, sizeof(m.hub_id), "S-0");
	m.sender = "bank-a";
	m.uuid = "s-0";
	m.kind = "report";
	CHECK(store_insert(s, &m, &r, 1, &cause) == 0);
	CHECK(store_commit(s, &cause) == 0);
	memset(&o, 0, sizeof(o));
	CHECK(store_fetch(s, "op-s", "S-0", test_opened, &o, &cause) == 0);
	CHECK(o.n == 1 && o.errors == 0 && o.body[0][0] == '\0');
	CHECK(test_raw_body(path, "S-0", raw, sizeof(raw)) == 45);
	store_close(s);
	CHECK(!test_store_has(path, "Sato Hanako"));

	/* S-1 and S-2 swap bodies (same sender); S-3's last byte changes. */
	n = test_raw_body(path, "S-1", raw, sizeof(raw));
	n2 = test_raw_body(path, "S-2", raw2, sizeof(raw2));
	CHECK(test_raw_set(path, "S-1", raw2, n2));
	CHECK(test_raw_set(path, "S-2", raw, n));
	n = test_raw_body(path, "S-3", raw, sizeof(raw));
	raw[n - 1] ^= 0x01;
	CHECK(test_raw_set(path, "S-3", raw, n));
	if ((s = test_store_open(path, &cause)) == NULL) {
		CHECK(0);
		return;
	}
	memset(&o, 0, sizeof(o));
	CHECK(store_pending(s, "op-s", 0, 0, test_opened, &o, &cause) == 0);
	/* Every row still reaches the reader; only S-0 opens. */
	CHECK(o.n == 4 && o.errors == 3 && o.null_body);
	memset(&o, 0, sizeof(o));
	CHECK(store_message(s, "S-1", test_opened, &o, &cause) == 0);
	CHECK(o.errors == 1);
	CHECK_CONTAINS(o.error, "the stored body of S-1 does not open under "
	    "key");
	CHECK_CONTAINS(o.error, "altered, or copied from another message");
	memset(&o, 0, sizeof(o));
	CHECK(store_delivery_of(s, "op-s", "S-3", test_opened, &o, &cause) ==
	    0);
	CHECK(o.errors == 1);
	CHECK_CONTAINS(o.error, "S-3 does not open");
	CHECK(store_lookup_uuid(s, "bank-a", "s-2", hub_id, &seq, digest,
	    &cause) == -1);
	CHECK_CONTAINS(cause, "S-2 does not open");
	free(cause);
	cause = NULL;
	/* Receipts carry no body and so no error. */
	memset(&o, 0, sizeof(o));
	CHECK(store_receipts(s, "S-1", test_opened, &o, &cause) == 0);
	CHECK(o.n == 1 && o.errors == 0);
	store_close(s);

	/* A body of another version, or cut short, is named as such. */
	n = test_raw_body(path, "S-0", raw, sizeof(raw));
	raw[0] = 2;
	CHECK(test_raw_set(path, "S-0", raw, n));
	CHECK(test_raw_set(path, "S-2", raw, 2));
	if ((s = test_store_open(path, &cause)) == NULL) {
		CHECK(0);
		return;
	}
	memset(&o, 0, sizeof(o));
	CHECK(store_message(s, "S-0", test_opened, &o, &cause) == 0);
	CHECK_CONTAINS(o.error, "has seal version 2; this ceptoard knows 1");
	memset(&o, 0, sizeof(o));
	CHECK(store_message(s, "S-2", test_opened, &o, &cause) == 0);
	CHECK_CONTAINS(o.error, "is 2 bytes, too short to be sealed");
	store_close(s);
}

/*
 * Key rotation: a store sealed under one key refuses to open without it,
 * naming the key and how many messages need it; with the key listed as
 * old it opens, old bodies open and new ones are sealed under the new
 * key; store_rekey seals the old ones again (across several batches),
 * after which the old key is not needed and the old ciphertexts are gone
 * from the files.
 */
static void
test_rotation(void)
{
	const char	*to[] = { "op-r1", "op-r2", "op-r3" };
	char		 path[512], k1[512], k2[512];
	struct store	*s;
	struct opened	 o;
	struct seen	*sn;
	unsigned char	 digest[32], want[32];
	uint8_t		 before[256];
	char		 hub_id[STORE_HUB_ID_LEN], id[32], uuid[32], body[64];
	char		 *cause = NULL, key1id[16], key2id[16];
	uint64_t	 seq, n;
	size_t		 nbefore;
	int		 i, ok;

	snprintf(path, sizeof(path), "%s", test_path("rotate.db"));
	snprintf(k1, sizeof(k1), "%s", test_keyfile("rot1.key", NULL, 32,
	    0600));
	snprintf(k2, sizeof(k2), "%s", test_keyfile("rot2.key", NULL, 32,
	    0600));
	if ((sn = malloc(sizeof(*sn))) == NULL ||
	    (s = test_store_open_keys(path, k1, NULL, &cause)) == NULL) {
		CHECK(0);
		free(sn);
		return;
	}
	snprintf(key1id, sizeof(key1id), "key %08x", store_key_id(s));
	CHECK(store_begin(s, &cause) == 0);
	for (i = 0; i < 600; i++) {
		snprintf(id, sizeof(id), "R-%04d", i);
		snprintf(uuid, sizeof(uuid), "r-%d", i);
		snprintf(body, sizeof(body), "rotated body %d", i);
		if (test_insert(s, id, "nisc", uuid, body, to, 3) == 0)
			break;
	}
	CHECK(i == 600);
	CHECK(store_commit(s, &cause) == 0);
	CHECK(store_stale(s) == 0);
	store_close(s);
	nbefore = test_raw_body(path, "R-0007", before, sizeof(before));
	CHECK(nbefore > 45);

	/* The new key alone: refused, with the old key's id and count. */
	CHECK(test_store_open_keys(path, k2, NULL, &cause) == NULL);
	CHECK_CONTAINS(cause, "600 messages are sealed under key");
	CHECK_CONTAINS(cause, key1id);
	CHECK_CONTAINS(cause, "neither store_key");
	CHECK_CONTAINS(cause, "list the key file that sealed them in "
	    "store_old_keys");
	free(cause);
	cause = NULL;

	/* The new key with the old one listed: everything opens. */
	if ((s = test_store_open_keys(path, k2, k1, &cause)) == NULL) {
		CHECK(0);
		free(sn);
		return;
	}
	snprintf(key2id, sizeof(key2id), "%08x", store_key_id(s));
	CHECK(strcmp(key1id + 4, key2id) != 0);
	CHECK(store_stale(s) == 600);
	CHECK(test_put(s, "R-new", "nisc", "r-new", "sealed with the new key",
	    to, 1) != 0);
	memset(&o, 0, sizeof(o));
	CHECK(store_pending(s, "op-r1", 595, 0, test_opened, &o, &cause) ==
	    0);
	CHECK(o.n == 6 && o.errors == 0);
	CHECK_STR(o.body[0], "rotated body 595");
	CHECK_STR(o.body[5], "sealed with the new key");
	CHECK(test_pragma(path, "SELECT count(DISTINCT key_id) FROM "
	    "messages") == 2);

	/* Rekey: every old body sealed again, in several transactions. */
	CHECK(store_rekey(s, &n, &cause) == 0);
	CHECK(n == 600);
	CHECK(store_stale(s) == 0);
	CHECK(store_rekey(s, &n, &cause) == 0 && n == 0);
	/* Not inside a group, and not twice at once. */
	CHECK(store_begin(s, &cause) == 0);
	CHECK(store_rekey(s, &n, &cause) == -1);
	CHECK_CONTAINS(cause, "inside a transaction");
	free(cause);
	cause = NULL;
	store_rollback(s);
	/* The idempotency digest survives the new seal. */
	crypto_generichash(want, sizeof(want), (const uint8_t *)
	    "rotated body 42", 15, NULL, 0);
	CHECK(store_lookup_uuid(s, "nisc", "r-42", hub_id, &seq, digest,
	    &cause) == 1);
	CHECK(memcmp(digest, want, sizeof(want)) == 0);
	CHECK_STR(hub_id, "R-0042");
	/* The old ciphertext is gone from both files. */
	CHECK(!test_file_has(path, before + 29, nbefore - 29));
	store_close(s);
	CHECK(!test_file_has(path, before + 29, nbefore - 29));
	CHECK(test_pragma(path, "SELECT count(DISTINCT key_id) FROM "
	    "messages") == 1);

	/* The new key alone now opens everything. */
	if ((s = test_store_open_keys(path, k2, NULL, &cause)) == NULL) {
		CHECK(0);
		free(sn);
		return;
	}
	CHECK(store_stale(s) == 0);
	CHECK(test_pending(s, "op-r3", 0, 0, sn) == 0);
	CHECK(sn->n == 600);
	ok = 1;
	for (i = 0; i < 600 && i < (int)sn->n; i++) {
		snprintf(id, sizeof(id), "R-%04d", i);
		if (sn->seq[i] != (uint64_t)i + 1 ||
		    strcmp(sn->hub_id[i], id) != 0)
			ok = 0;
	}
	CHECK(ok);
	CHECK_STR(sn->body, "rotated body 599");
	store_close(s);

	/* And the old key alone no longer does. */
	CHECK(test_store_open_keys(path, k1, NULL, &cause) == NULL);
	CHECK_CONTAINS(cause, "601 messages are sealed under key");
	CHECK_CONTAINS(cause, key2id);
	free(cause);
	free(sn);
}

/* What version 2 added to version 1, exactly as ceptoard 0.1.0 did it. */
static const char test_schema_v2_step[] =
	"ALTER TABLE messages ADD COLUMN origin TEXT;\n"
	"ALTER TABLE messages ADD COLUMN chain_id TEXT;\n"
	"ALTER TABLE messages ADD COLUMN form INTEGER NOT NULL DEFAULT 1\n"
	"	CHECK (form IN (1, 2));\n"
	"ALTER TABLE messages ADD COLUMN hop INTEGER NOT NULL DEFAULT 0\n"
	"	CHECK (hop >= 0);\n"
	"ALTER TABLE messages ADD COLUMN in_reply_to TEXT;\n"
	"ALTER TABLE messages ADD COLUMN sharing BLOB;\n"
	"ALTER TABLE deliveries ADD COLUMN hop INTEGER NOT NULL DEFAULT 0\n"
	"	CHECK (hop >= 0);\n"
	"ALTER TABLE deliveries ADD COLUMN form INTEGER NOT NULL DEFAULT 1\n"
	"	CHECK (form IN (1, 2));\n"
	"ALTER TABLE deliveries ADD COLUMN review INTEGER NOT NULL DEFAULT 0\n"
	"	CHECK (review IN (0, 1));\n"
	"ALTER TABLE deliveries ADD COLUMN delivered_at INTEGER\n"
	"	CHECK (delivered_at > 0);\n"
	"ALTER TABLE deliveries ADD COLUMN forwarded_at INTEGER\n"
	"	CHECK (forwarded_at > 0);\n"
	"ALTER TABLE deliveries ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0\n"
	"	CHECK (hidden IN (0, 1));\n"
	"CREATE INDEX messages_origin ON messages (origin)\n"
	"	WHERE origin IS NOT NULL;\n"
	"CREATE INDEX messages_chain ON messages (sender, chain_id)\n"
	"	WHERE chain_id IS NOT NULL;\n"
	"CREATE INDEX messages_reply ON messages (in_reply_to)\n"
	"	WHERE in_reply_to IS NOT NULL;\n"
	"PRAGMA user_version = 2;\n";

/*
 * A version 2 file, whose bodies are in the clear, is sealed at open:
 * afterwards the text is in neither file, reads and retries work, and
 * the file is the same as one that started at version 3.
 */
static void
test_migrate_seal(void)
{
	struct store	*s;
	struct opened	 o;
	unsigned char	 digest[32], want[32];
	char		 hub_id[STORE_HUB_ID_LEN], *cause = NULL;
	uint64_t	 seq;
	static char	 want_schema[4096], got[4096];
	char		 path[512];

	snprintf(path, sizeof(path), "%s", test_path("v2plain.db"));
	/* Made by version 1, taken to 2 by the store, then written to. */
	CHECK(test_make_db(path, test_schema_v1));
	CHECK(test_sql(path,
	    "INSERT INTO messages (hub_id, sender, uuid, kind, received_at,"
	    " body, digest) VALUES ('P-1', 'bank-a', 'p-1', 'report', 1,"
	    " CAST('PLAINTEXT-MARKER the hospital network is down' AS BLOB),"
	    " zeroblob(32));"
	    "INSERT INTO deliveries (recipient, seq, message_seq, reason)"
	    " VALUES ('op-p', 1, 1, 'r');"
	    "INSERT INTO inboxes VALUES ('op-p', 1);"));
	CHECK(test_sql(path, test_schema_v2_step));
	CHECK(test_store_has(path, "PLAINTEXT-MARKER"));

	if ((s = test_store_open(path, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		CHECK(0);
		return;
	}
	CHECK(test_pragma(path, "PRAGMA user_version") == 5);
	CHECK(!test_store_has(path, "PLAINTEXT-MARKER"));
	CHECK(!test_store_has(path, "hospital network"));
	memset(&o, 0, sizeof(o));
	CHECK(store_pending(s, "op-p", 0, 0, test_opened, &o, &cause) == 0);
	CHECK(o.n == 1 && o.errors == 0);
	CHECK_STR(o.body[0], "PLAINTEXT-MARKER the hospital network is down");
	crypto_generichash(want, sizeof(want), (const uint8_t *)
	    "PLAINTEXT-MARKER the hospital network is down", 45, NULL, 0);
	CHECK(store_lookup_uuid(s, "bank-a", "p-1", hub_id, &seq, digest,
	    &cause) == 1);
	CHECK(memcmp(digest, want, sizeof(want)) == 0);
	store_close(s);
	CHECK(!test_store_has(path, "PLAINTEXT-MARKER"));
	CHECK(test_pragma(path, "SELECT count(*) FROM messages WHERE "
	    "key_id IS NULL") == 0);
	test_schema_of(path, got, sizeof(got));
	test_schema_of(test_path("fresh.db"), want_schema,
	    sizeof(want_schema));
	CHECK(want_schema[0] != '\0');
	CHECK_STR(got, want_schema);
	CHECK_CONTAINS(got, "messages.key_id INTEGER 0 - 0");
	CHECK_CONTAINS(got, "index messages_key");
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	snprintf(dbpath, sizeof(dbpath), "%s/hub.db", tmpdir);
	if (sodium_init() == -1)
		return (1);
	snprintf(keypath, sizeof(keypath), "%s",
	    test_keyfile("store.key", NULL, 32, 0600));

	test_create();
	test_deliveries();
	test_ack_sent();
	test_idempotency();
	test_rollback();
	test_visibility();
	test_group();
	test_hops();
	test_hops_marks();
	test_hops_refusals();
	test_migrate();
	test_refusals();
	test_key_files();
	test_sealed();
	test_rotation();
	test_migrate_seal();

	test_cleanup();
	return (CHECK_DONE());
}
