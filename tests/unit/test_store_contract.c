/*
 * The store contract suite: what struct store_backend promises (see
 * ceptoard.h), checked through the public store operations only, so that
 * it runs unchanged against every backend.  The first argument names the
 * backend ("sqlite", "postgresql"); a backend whose server is not there
 * skips (exit 77) saying so.  Per-recipient cursors, acknowledgements, idempotency,
 * rollback, visibility, a large group, relay hops (forms, review,
 * delivery and forward marks, receipts, chains, replies, sharing
 * overrides), refusals of misuse, acknowledgements with sent times.
 * A few checks also read the backend's own tables (its peek), where it
 * has one; SQLite's own tests are in test_store.c.
 */
#include <sys/stat.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#ifdef HAVE_LIBPQ
#include <libpq-fe.h>
#endif

#include "ceptoard.h"
#include "check.h"
#include "store_test.h"

/* One backend under test: how to name its stores and look inside. */
struct contract_backend {
	const char	*name;
	/* Ready a place for fresh stores: 0, 77 to skip (said why), -1. */
	int		 (*setup)(void);
	/* The store_open path of a fresh, empty store called name. */
	const char	*(*path)(const char *name);
	/*
	 * An integer the backend's own SQL gives for a store, or -1; NULL:
	 * the backend cannot be looked into and those checks are skipped.
	 */
	long long	 (*peek)(const char *path, const char *sql);
	void		 (*teardown)(void);
};

static const struct contract_backend	*be;
static char				 dbpath[512];
static char				 hopspath[512];

/* A check of the backend's own tables, where it lets itself be read. */
#define CHECK_PEEK(path, sql, want) do {				\
	if (be->peek != NULL)						\
		CHECK(be->peek((path), (sql)) == (long long)(want));	\
} while (0)

/* The peek's answer, or -1 without one. */
static long long
test_peek(const char *path, const char *sql)
{
	return (be->peek != NULL ? be->peek(path, sql) : -1);
}

/* Open the test store, failing the test loudly if it does not open. */
static struct store *
test_open(void)
{
	return (test_open_path(dbpath));
}

/* ---- SQLite ---------------------------------------------------------- */

/* Stores are files in the test directory, named with the prefix. */
static int
contract_sqlite_setup(void)
{
	return (0);
}

static const char *
contract_sqlite_path(const char *name)
{
	static char	 buf[4][512];
	static int	 i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "sqlite:%s/%s.db", tmpdir, name);
	return (buf[i]);
}

/* The file behind "sqlite:path", read past the store. */
static long long
contract_sqlite_peek(const char *path, const char *sql)
{
	if (strncmp(path, "sqlite:", 7) == 0)
		path += 7;
	return (test_pragma(path, sql));
}

static void
contract_sqlite_teardown(void)
{
}

#ifdef HAVE_LIBPQ
/* ---- PostgreSQL ------------------------------------------------------ */

/*
 * Stores are databases of their own, ceptoar_contract_<pid>_<name>, on
 * the servers CEPTOAR_PG_CONNINFO names (tests/pg/contract.sh starts
 * them); made on first use, dropped at the end.
 */
static const char	*contract_pg_conninfo;
static char		 contract_pg_made[8][64];
static size_t		 contract_pg_nmade;

/* Notices ("does not exist, skipping") are not the test's output. */
static void
contract_pg_quiet(void *arg, const char *message)
{
}

/* Run sql on the server, as the maintenance database; 0 or -1. */
static int
contract_pg_admin(const char *sql)
{
	PGconn		*c;
	PGresult	*res;
	int		 rv = -1;

	c = PQconnectdb(contract_pg_conninfo);
	if (PQstatus(c) == CONNECTION_OK) {
		PQsetNoticeProcessor(c, contract_pg_quiet, NULL);
		res = PQexec(c, sql);
		if (PQresultStatus(res) == PGRES_COMMAND_OK ||
		    PQresultStatus(res) == PGRES_TUPLES_OK)
			rv = 0;
		else
			fprintf(stderr, "contract pg: %s: %s", sql,
			    PQresultErrorMessage(res));
		PQclear(res);
	} else
		fprintf(stderr, "contract pg: %s", PQerrorMessage(c));
	PQfinish(c);
	return (rv);
}

static int
contract_pg_setup(void)
{
	contract_pg_conninfo = getenv("CEPTOAR_PG_CONNINFO");
	if (contract_pg_conninfo == NULL || *contract_pg_conninfo == '\0') {
		fprintf(stderr, "skip: no PostgreSQL for the contract suite: "
		    "set CEPTOAR_PG_CONNINFO, or run tests/pg/contract.sh\n");
		return (77);
	}
	return (contract_pg_admin("SELECT 1"));
}

static const char *
contract_pg_path(const char *name)
{
	static char	 buf[4][1024];
	static int	 i;
	char		 db[64], sql[640];

	snprintf(db, sizeof(db), "ceptoar_contract_%ld_%s", (long)getpid(),
	    name);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", db);
	contract_pg_admin(sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
	if (contract_pg_admin(sql) == 0 && contract_pg_nmade < 8)
		snprintf(contract_pg_made[contract_pg_nmade++],
		    sizeof(contract_pg_made[0]), "%s", db);
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "postgresql:%s dbname=%s",
	    contract_pg_conninfo, db);
	return (buf[i]);
}

/* One integer from the store's database, or -1. */
static long long
contract_pg_peek(const char *path, const char *sql)
{
	PGconn		*c;
	PGresult	*res;
	long long	 v = -1;

	c = PQconnectdb(path + strlen("postgresql:"));
	if (PQstatus(c) == CONNECTION_OK) {
		res = PQexec(c, sql);
		if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
			v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
	}
	PQfinish(c);
	return (v);
}

static void
contract_pg_teardown(void)
{
	char	 sql[640];
	size_t	 i;

	for (i = 0; i < contract_pg_nmade; i++) {
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s",
		    contract_pg_made[i]);
		contract_pg_admin(sql);
	}
}
#endif

static const struct contract_backend contract_backends[] = {
	{ "sqlite", contract_sqlite_setup, contract_sqlite_path,
	    contract_sqlite_peek, contract_sqlite_teardown },
#ifdef HAVE_LIBPQ
	{ "postgresql", contract_pg_setup, contract_pg_path,
	    contract_pg_peek, contract_pg_teardown },
#endif
};

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
	CHECK_PEEK(dbpath, "SELECT acked_through FROM inboxes"
	    " WHERE recipient = 'op-b'", 1);
	CHECK(store_inbox_state(s, "nobody", &last, &pend, &cause) == 0);
	CHECK(last == 0 && pend == 0);
	store_close(s);

	/* Everything is still there after a reopen, and cursors go on. */
	if ((s = test_open()) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_PEEK(dbpath, "SELECT count(*) FROM messages", 3);
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
	CHECK_PEEK(dbpath, "SELECT acked_through FROM inboxes"
	    " WHERE recipient = 'op-b'", 4);
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
	n0 = test_peek(dbpath, "SELECT count(*) FROM messages");

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
		/* The backend's own words differ; the keys are named. */
		CHECK_CONTAINS(cause, "H-idem-2");
		CHECK_CONTAINS(cause, "uuid dup");
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
	CHECK_PEEK(dbpath, "SELECT count(*) FROM messages", n0 + 2);
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
	n0 = test_peek(dbpath, "SELECT count(*) FROM messages");

	CHECK(store_begin(s, &cause) == 0);
	CHECK(test_insert(s, "H-d2", "nisc", "d-2", "d two", d, 1) != 0);
	CHECK(test_insert(s, "H-d3", "nisc", "d-3", "d three", d, 1) != 0);
	CHECK(store_inbox_state(s, "op-d", &last, &pend, &cause) == 0);
	CHECK(last == 3 && pend == 3);
	store_rollback(s);

	CHECK_PEEK(dbpath, "SELECT count(*) FROM messages", n0);
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
	n0 = test_peek(dbpath, "SELECT count(*) FROM messages");
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
	CHECK_PEEK(dbpath, "SELECT count(*) FROM messages", n0 + 1000);

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

/*
 * The path of a voluntary report: op-r reports chain c-1 to its CEPTOAR
 * secretariat (with a copy to watch-a, named to sort after the later
 * hops' holders), the secretariat forwards an
 * anonymised form to the liaison, the liaison forwards it to NISC, and
 * NISC answers the form it holds.  Builds the hops store and checks what every
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

	if ((s = test_open_path(hopspath)) == NULL) {
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

	if ((s = test_open_path(hopspath)) == NULL) {
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
	if ((s = test_open_path(hopspath)) == NULL) {
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

	if ((s = test_open_path(hopspath)) == NULL) {
		CHECK(0);
		return;
	}
	n0 = test_peek(hopspath, "SELECT count(*) FROM messages");
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
	CHECK_PEEK(hopspath, "SELECT count(*) FROM messages", n0 + 1);

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
	CHECK_PEEK(dbpath, "SELECT acked_through FROM inboxes"
	    " WHERE recipient = 'op-x'", 7);
	/* Seq 0 is no delivery, but the 1 right after it is acknowledged. */
	CHECK(test_put(s, "S-8", "nisc", "ack-y", "b", y, 1) != 0);
	CHECK(store_ack(s, "op-y", zero_one, 2, 3000, &nacked, &cause) == 0);
	CHECK(nacked == 1);
	store_close(s);
}

int
main(int argc, char **argv)
{
	const char	*name = argc > 1 ? argv[1] : "sqlite";
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(contract_backends) /
	    sizeof(contract_backends[0]); i++)
		if (strcmp(contract_backends[i].name, name) == 0)
			be = &contract_backends[i];
	if (be == NULL) {
		fprintf(stderr, "test_store_contract: no backend \"%s\" in "
		    "this build\n", name);
		return (1);
	}
	if (test_setup() == -1)
		return (1);
	if ((rc = be->setup()) != 0) {
		test_cleanup();
		return (rc);
	}
	snprintf(dbpath, sizeof(dbpath), "%s", be->path("hub"));
	snprintf(hopspath, sizeof(hopspath), "%s", be->path("hops"));
	fprintf(stderr, "store contract: backend %s\n", be->name);

	test_deliveries();
	test_ack_sent();
	test_idempotency();
	test_rollback();
	test_visibility();
	test_group();
	test_hops();
	test_hops_marks();
	test_hops_refusals();

	be->teardown();
	test_cleanup();
	return (CHECK_DONE());
}
