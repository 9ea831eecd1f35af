/*
 * The SQLite backend's own unit tests, beside the contract suite that
 * every backend passes (test_store_contract.c): the file's creation and
 * mode, the schema and its migration from version 1, refusal of files it
 * must not touch, and sealing at rest as it shows in the file: key files,
 * bodies that are not in the file and do not open on another row, key
 * rotation and rekey, the sealing of a version 2 file's clear bodies.
 * Each run works in its own directory under /tmp and removes it.
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
#include "store_test.h"

static char	 dbpath[256];
static int	 test_make_db(const char *, const char *);

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

	CHECK(test_pragma(dbpath, "PRAGMA user_version") == 6);
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
	CHECK(test_store_open("mysql:host=db", &cause) == NULL);
	CHECK_CONTAINS(cause, "unknown backend \"mysql\"");
	free(cause);
	cause = NULL;
	CHECK(test_store_open("sqlite:", &cause) == NULL);
	CHECK_CONTAINS(cause, "empty sqlite path");
	free(cause);
}

/* What store_inbox_read gave: seqs and visible times. */
struct inbox_seen {
	size_t		n;
	uint64_t	seq[8];
	int64_t		visible[8];
	int64_t		acked[8];
};

static int
test_inbox_collect(const struct store_delivery *d, void *arg)
{
	struct inbox_seen	*sn = arg;

	if (sn->n < 8) {
		sn->seq[sn->n] = d->seq;
		sn->visible[sn->n] = d->visible_at;
		sn->acked[sn->n] = d->acked_at;
	}
	sn->n++;
	return (0);
}

/*
 * store_pending_count gives what store_pending would give, for every
 * cursor and limit, acknowledged deliveries left out.
 */
static void
test_pending_count(void)
{
	const char	*a[] = { "op-a" };
	struct store	*s;
	struct seen	 sn;
	uint64_t	 seqs[1] = { 2 }, n, after;
	size_t		 nacked, limit;
	char		*cause = NULL;

	unlink(dbpath);
	if ((s = test_open()) == NULL) {
		CHECK(0);
		return;
	}
	CHECK(test_put(s, "C-1", "nisc", "u-1", "one", a, 1) == 1);
	CHECK(test_put(s, "C-2", "nisc", "u-2", "two", a, 1) == 2);
	CHECK(test_put(s, "C-3", "nisc", "u-3", "three", a, 1) == 3);
	CHECK(store_ack(s, "op-a", seqs, 1, 1700000100, &nacked, &cause) ==
	    0 && nacked == 1);
	for (after = 0; after <= 4; after++)
		for (limit = 0; limit <= 3; limit++) {
			CHECK(test_pending(s, "op-a", after, limit, &sn) == 0);
			CHECK(store_pending_count(s, "op-a", after, limit, &n,
			    &cause) == 0);
			CHECK(n == sn.n);
		}
	CHECK(store_pending_count(s, "nobody", 0, 0, &n, &cause) == 0 &&
	    n == 0);
	CHECK(store_pending_count(s, "", 0, 0, &n, &cause) == -1);
	free(cause);
	store_close(s);
	unlink(dbpath);
}

/*
 * A TAXII reader's view: every delivery, acknowledged or not, up to a
 * bound, each visible later than the one before it in its inbox, even
 * when the clock is behind what was already handed out (visible_at).
 */
static void
test_inbox_read(void)
{
	const char		*a[] = { "op-a" };
	struct store		*s;
	struct inbox_seen	 sn;
	uint64_t		 seqs[1] = { 1 };
	size_t			 nacked;
	char			*cause = NULL;
	int64_t			 before = (int64_t)time(NULL) * 1000;

	unlink(dbpath);
	if ((s = test_open()) == NULL) {
		CHECK(0);
		return;
	}
	CHECK(test_put(s, "I-1", "nisc", "u-1", "one", a, 1) == 1);
	CHECK(test_put(s, "I-2", "nisc", "u-2", "two", a, 1) == 2);
	CHECK(store_ack(s, "op-a", seqs, 1, 1700000100, &nacked, &cause) ==
	    0 && nacked == 1);
	memset(&sn, 0, sizeof(sn));
	CHECK(store_inbox_read(s, "op-a", 0, UINT64_MAX, 0,
	    test_inbox_collect, &sn, &cause) == 0);
	CHECK(sn.n == 2 && sn.seq[0] == 1 && sn.seq[1] == 2);
	CHECK(sn.acked[0] == 1700000100 && sn.acked[1] == 0);
	CHECK(sn.visible[0] >= before && sn.visible[1] > sn.visible[0]);
	/* The bound and the position. */
	memset(&sn, 0, sizeof(sn));
	CHECK(store_inbox_read(s, "op-a", 0, 1, 0, test_inbox_collect, &sn,
	    &cause) == 0 && sn.n == 1);
	memset(&sn, 0, sizeof(sn));
	CHECK(store_inbox_read(s, "op-a", 1, UINT64_MAX, 0,
	    test_inbox_collect, &sn, &cause) == 0 && sn.n == 1 &&
	    sn.seq[0] == 2);
	store_close(s);
	/* A time already handed out ahead of the clock: the next is later. */
	CHECK(test_make_db(dbpath, "UPDATE deliveries SET visible_at ="
	    " 99999999999999 WHERE recipient = 'op-a' AND seq = 2"));
	if ((s = test_open()) == NULL) {
		CHECK(0);
		return;
	}
	CHECK(test_put(s, "I-3", "nisc", "u-3", "three", a, 1) == 3);
	memset(&sn, 0, sizeof(sn));
	CHECK(store_inbox_read(s, "op-a", 2, UINT64_MAX, 0,
	    test_inbox_collect, &sn, &cause) == 0);
	CHECK(sn.n == 1 && sn.visible[0] == 100000000000000);
	store_close(s);
	unlink(dbpath);
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
	    "understands up to 6");
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

	CHECK(test_pragma(v1, "PRAGMA user_version") == 6);
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
	CHECK(test_pragma(path, "PRAGMA user_version") == 6);
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

/* The store_undo tests fail a sync on purpose: only with test hooks. */
#ifdef CEPTOARD_TEST_HOOKS
/* Store form hub_id (origin U-1, hop 1) with holder's marks, as a forward. */
static uint64_t
test_undo_forward(struct store *s, const char *hub_id, const char *holder,
    const char *widen)
{
	struct store_recipient	 r = { .org = "next-n", .reason = "next hop",
				    .hop = 1 };
	struct store_message	 m;
	char			*cause = NULL;

	memset(&m, 0, sizeof(m));
	snprintf(m.hub_id, sizeof(m.hub_id), "%s", hub_id);
	m.sender = holder;
	m.uuid = hub_id;
	m.kind = "report";
	m.received_at = 1700000000;
	m.body = (const uint8_t *)hub_id;
	m.body_len = strlen(hub_id);
	m.origin = "U-1";
	m.form = 1;
	m.hop = 1;
	if (store_begin(s, &cause) == -1 ||
	    store_item_begin(s, true, &cause) == -1 ||
	    store_insert(s, &m, &r, 1, &cause) == -1 ||
	    store_mark_forwarded(s, holder, "U-1", 1700000700, &cause) ==
	    -1 || (widen != NULL && store_set_sharing(s, "U-1",
	    (const uint8_t *)widen, strlen(widen), &cause) == -1) ||
	    store_item_end(s, &cause) == -1 ||
	    store_commit(s, &cause) == -1) {
		fprintf(stderr, "forward %s: %s\n", hub_id, cause);
		free(cause);
		store_rollback(s);
		return (0);
	}
	return (m.seq);
}

/* holder's forwarded mark of U-1, and U-1's widened range ("" none). */
static int64_t
test_undo_state(struct store *s, const char *holder, char *range,
    size_t len)
{
	struct rows	rs;

	CHECK(test_message(s, "U-1", &rs) == 0 && rs.n == 1);
	snprintf(range, len, "%s", rs.v[0].has_sharing ? rs.v[0].sharing :
	    "");
	CHECK(test_delivery_of(s, holder, "U-1", &rs) == 0 && rs.n == 1);
	return (rs.v[0].forwarded_at);
}

/*
 * A group whose sync failed is undone whole: its messages, and the
 * forwarded mark and widened range it set, so that a held report does
 * not look forwarded or widened by what was never durable.  Two undone
 * groups that widened the same range, taken back in either order, leave
 * it as it was before both; a durable group's marks stay.
 */
static void
test_undo_marks(void)
{
	struct store_recipient	 r[] = {
		{ .org = "holder-h", .reason = "relays it", .review = true },
		{ .org = "holder-g", .reason = "relays it too",
		    .review = true },
	};
	struct store		*s;
	struct rows		 rs;
	char			*cause = NULL, range[64];
	uint64_t		 seq, a, b;
	int			 order;

	fprintf(stderr, "case: store_undo takes back a group's marks\n");
	setenv("CEPTOARD_FAULT", "sync:1:1", 1);
	s = test_open_path(test_path("undo.db"));
	unsetenv("CEPTOARD_FAULT");
	if (s == NULL) {
		CHECK(0);
		return;
	}
	CHECK(store_pipeline(s, &cause) == 0);
	seq = test_form(s, "U-1", "op-u", NULL, "c-u", 1, 0, NULL, r, 2);
	CHECK(seq != 0);
	/* A widening made durable before: what the undo must put back. */
	CHECK(store_set_sharing(s, "U-1", (const uint8_t *)"wide", 4,
	    &cause) == 0);
	CHECK(store_sync(s, false, &cause) == 0);
	store_durable(s, seq);

	/* The next sync fails: the forward's group is undone. */
	store_fault_arm();
	CHECK((a = test_undo_forward(s, "U-2", "holder-h", "wider")) != 0);
	CHECK(test_undo_state(s, "holder-h", range, sizeof(range)) != 0);
	CHECK_STR(range, "wider");
	CHECK(store_sync(s, false, &cause) == -1);
	CHECK_CONTAINS(cause, "injected");
	free(cause);
	cause = NULL;
	CHECK(store_undo(s, &a, 1, &cause) == 0);
	CHECK(test_message(s, "U-2", &rs) == 1);
	CHECK(test_undo_state(s, "holder-h", range, sizeof(range)) == 0);
	CHECK_STR(range, "wide");
	CHECK(store_sync(s, true, &cause) == 0);

	/* Two undone groups widening the same range, undone in any order. */
	for (order = 0; order < 2; order++) {
		char	ha[8], hb[8];

		snprintf(ha, sizeof(ha), "U-a%d", order);
		snprintf(hb, sizeof(hb), "U-b%d", order);
		CHECK((a = test_undo_forward(s, ha, "holder-h", "one")) != 0);
		CHECK((b = test_undo_forward(s, hb, "holder-g", "two")) != 0);
		CHECK(test_undo_state(s, "holder-g", range, sizeof(range)) !=
		    0);
		CHECK_STR(range, "two");
		CHECK(store_undo(s, order ? &a : &b, 1, &cause) == 0);
		CHECK(store_undo(s, order ? &b : &a, 1, &cause) == 0);
		CHECK(test_undo_state(s, "holder-h", range, sizeof(range)) ==
		    0);
		CHECK(test_undo_state(s, "holder-g", range, sizeof(range)) ==
		    0);
		CHECK_STR(range, "wide");
	}

	/* A durable group's marks stay when a later one is undone. */
	CHECK((a = test_undo_forward(s, "U-3", "holder-h", "three")) != 0);
	CHECK(store_sync(s, false, &cause) == 0);
	store_durable(s, a);
	CHECK((b = test_undo_forward(s, "U-4", "holder-g", "four")) != 0);
	CHECK(store_undo(s, &b, 1, &cause) == 0);
	CHECK(test_undo_state(s, "holder-h", range, sizeof(range)) != 0);
	CHECK_STR(range, "three");
	CHECK(test_undo_state(s, "holder-g", range, sizeof(range)) == 0);
	free(cause);
	store_close(s);
}
#endif /* CEPTOARD_TEST_HOOKS: it fails a sync on purpose */

int
main(void)
{
	if (test_setup() == -1)
		return (1);
	snprintf(dbpath, sizeof(dbpath), "%s/hub.db", tmpdir);

	test_create();
	test_migrate();
	test_refusals();
	test_key_files();
	test_sealed();
	test_rotation();
	test_migrate_seal();
	test_inbox_read();
	test_pending_count();
#ifdef CEPTOARD_TEST_HOOKS
	test_undo_marks();
#endif

	test_cleanup();
	return (CHECK_DONE());
}
