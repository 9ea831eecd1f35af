/*
 * Unit test of the store (store.c and the SQLite backend): durability
 * across reopen, per-recipient cursors, acknowledgements, idempotency,
 * rollback, visibility, and refusal of files it must not touch.  Each run
 * works in its own directory under /tmp and removes it.
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
};

static char	 tmpdir[] = "/tmp/test_store.XXXXXX";
static char	 dbpath[256];

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

/* Open the test store, failing the test loudly if it does not open. */
static struct store *
test_open(void)
{
	struct store	*s;
	char		*cause = NULL;

	s = store_open(dbpath, &cause);
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

/* A new store is created 0600 whatever the umask, at schema version 1. */
static void
test_create(void)
{
	struct store	*s;
	struct stat	 sb;
	uint64_t	 n = 99;
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
	CHECK(store_count(s, &n, &cause) == 0 && n == 0);
	/* The log file exists while open and inherits the mode. */
	CHECK(stat(test_path("hub.db-wal"), &sb) == 0 &&
	    (sb.st_mode & 0777) == 0600);
	store_close(s);

	CHECK(test_pragma(dbpath, "PRAGMA user_version") == 1);
	CHECK(test_pragma(dbpath, "PRAGMA application_id") == 0x43455054);
	CHECK(test_pragma(dbpath, "SELECT count(*) FROM sqlite_master "
	    "WHERE name IN ('messages', 'deliveries', 'inboxes')") == 3);

	/* The explicit prefix names the same backend. */
	{
		char	 p[300];

		snprintf(p, sizeof(p), "sqlite:%s", dbpath);
		s = store_open(p, &cause);
		CHECK(s != NULL);
		store_close(s);
	}
	CHECK(store_open("postgresql:host=db", &cause) == NULL);
	CHECK_CONTAINS(cause, "unknown backend \"postgresql\"");
	free(cause);
	cause = NULL;
	CHECK(store_open("sqlite:", &cause) == NULL);
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
	uint64_t	 last, pend, seqs[3], n;
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
	CHECK(store_inbox_state(s, "nobody", &last, &pend, &cause) == 0);
	CHECK(last == 0 && pend == 0);
	store_close(s);

	/* Everything is still there after a reopen, and cursors go on. */
	if ((s = test_open()) == NULL) {
		CHECK(0);
		return;
	}
	CHECK(store_count(s, &n, &cause) == 0 && n == 3);
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
	uint64_t	 seq = 0, mseq, n0, n1;
	char		*cause = NULL;

	if ((s = test_open()) == NULL) {
		CHECK(0);
		return;
	}
	crypto_generichash(want, sizeof(want), (const uint8_t *)"idem", 4,
	    NULL, 0);
	CHECK(store_count(s, &n0, &cause) == 0);

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
		struct store_recipient	 r = { "op-a", "x" };

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
			{ "op-a", "x" }, { "op-a", "y" }
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
	CHECK(store_count(s, &n1, &cause) == 0 && n1 == n0 + 2);
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
	uint64_t	 n0, n1, last, pend, seq;
	char		*cause = NULL;

	if ((s = test_open()) == NULL) {
		CHECK(0);
		return;
	}
	CHECK(test_put(s, "H-d1", "nisc", "d-1", "d one", d, 1) != 0);
	CHECK(store_count(s, &n0, &cause) == 0);

	CHECK(store_begin(s, &cause) == 0);
	CHECK(test_insert(s, "H-d2", "nisc", "d-2", "d two", d, 1) != 0);
	CHECK(test_insert(s, "H-d3", "nisc", "d-3", "d three", d, 1) != 0);
	CHECK(store_inbox_state(s, "op-d", &last, &pend, &cause) == 0);
	CHECK(last == 3 && pend == 3);
	store_rollback(s);

	CHECK(store_count(s, &n1, &cause) == 0 && n1 == n0);
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

/* Count recipients and remember op-b's acknowledgement time. */
static int
test_recipient(const char *org, const char *reason, int64_t acked_at,
    void *arg)
{
	struct seen	*sn = arg;

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

	CHECK(store_count(s, &n, &cause) == -1);
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
	CHECK(store_recipients(s, "H-3", test_recipient, &sn, &cause) == 0);
	CHECK(sn.n == 3);
	CHECK_STR(sn.hub_id[0], "op-a");
	CHECK_STR(sn.hub_id[1], "op-b");
	CHECK_STR(sn.hub_id[2], "op-c");
	CHECK(sn.acked_at == 1700000100);
	memset(&sn, 0, sizeof(sn));
	CHECK(store_recipients(s, "H-none", test_recipient, &sn, &cause) ==
	    0 && sn.n == 0);

	CHECK(store_pending(s, "op-a", 0, 0, test_reenter, s, &cause) == 0);
	store_close(s);
}

/* One transaction of 1000 messages to three recipients. */
static void
test_group(void)
{
	const char	*to[] = { "g-1", "g-2", "g-3" };
	struct store	*s;
	struct seen	*sn;
	char		 id[STORE_HUB_ID_LEN], uuid[32], body[32];
	uint64_t	 n0, n1, last, pend;
	char		*cause = NULL;
	int		 i, ok, r;

	if ((s = test_open()) == NULL || (sn = malloc(sizeof(*sn))) == NULL) {
		CHECK(0);
		store_close(s);
		return;
	}
	CHECK(store_count(s, &n0, &cause) == 0);
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
	CHECK(store_count(s, &n1, &cause) == 0 && n1 == n0 + 1000);

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
	CHECK(store_open(test_path("v99.db"), &cause) == NULL);
	CHECK_CONTAINS(cause, "has schema version 99; this ceptoard "
	    "understands 1");
	CHECK_CONTAINS(cause, "v99.db");
	free(cause);
	cause = NULL;
	CHECK(test_pragma(test_path("v99.db"), "PRAGMA user_version") == 99);

	/* Someone else's database, not yet versioned. */
	if (sqlite3_open(test_path("other.db"), &db) == SQLITE_OK)
		sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK(store_open(test_path("other.db"), &cause) == NULL);
	CHECK_CONTAINS(cause, "without a ceptoard schema");
	free(cause);
	cause = NULL;

	/* Not a database at all, long and short. */
	test_write(test_path("garbage.db"), garbage, strlen(garbage));
	CHECK(store_open(test_path("garbage.db"), &cause) == NULL);
	CHECK_CONTAINS(cause, "is not a SQLite database");
	free(cause);
	cause = NULL;
	if ((f = fopen(test_path("garbage.db"), "r")) != NULL) {
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
	}
	CHECK(len == strlen(garbage) && memcmp(buf, garbage, len) == 0);
	test_write(test_path("short.db"), "junk", 4);
	CHECK(store_open(test_path("short.db"), &cause) == NULL);
	CHECK(cause != NULL);
	free(cause);
	cause = NULL;

	/* A directory that is not there is not created. */
	CHECK(store_open(test_path("missing/hub.db"), &cause) == NULL);
	CHECK_CONTAINS(cause, "missing does not exist");
	free(cause);
	cause = NULL;
	CHECK(stat(test_path("missing"), &sb) == -1);
	CHECK(store_open(tmpdir, &cause) == NULL);
	CHECK(cause != NULL);
	free(cause);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	snprintf(dbpath, sizeof(dbpath), "%s/hub.db", tmpdir);

	test_create();
	test_deliveries();
	test_idempotency();
	test_rollback();
	test_visibility();
	test_group();
	test_refusals();

	test_cleanup();
	return (CHECK_DONE());
}
