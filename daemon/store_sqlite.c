/*
 * The embedded default store: one SQLite file in WAL mode with
 * synchronous=FULL, so that a COMMIT has reached the disk before
 * store_commit returns and the hub acknowledges.  Statements are prepared
 * once at open; every SQLite error becomes a cause naming the store, the
 * operation and sqlite3_errmsg.
 *
 * Per-recipient cursors come from the inboxes table rather than MAX()
 * scans.  Within a transaction the cursors a group touches are cached in
 * memory and written back once at commit, so a group of N messages to the
 * same recipient costs one inboxes write, not N; the cache lives only as
 * long as the transaction (whose write lock makes it coherent) and is
 * thrown away by a rollback.
 *
 * The schema is built by steps, one per version, each run inside the one
 * IMMEDIATE transaction that opens the file: a new file takes every step,
 * an older one the steps it lacks, so both end with the same schema.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ceptoard.h"
#include "strhash.h"

#define STORE_SQLITE_VERSION	6		/* PRAGMA user_version */
#define STORE_SQLITE_APPID	0x43455054	/* "CEPT", application_id */
#define STORE_SQLITE_BUSY_MS	10000
#define STORE_SQLITE_DIGEST_LEN	32
#define STORE_SQLITE_PAGE_BYTES	4096	/* SQLite's default page size */

/*
 * Version 1.  messages.seq is AUTOINCREMENT so that a global order number
 * is never handed out twice, even if old messages are one day expired.
 * deliveries is keyed by the recipient's own cursor; the partial index
 * keeps inbox reads and pending counts proportional to what is still
 * unacknowledged, and UNIQUE (message_seq, recipient) both forbids
 * delivering one message twice to one organisation and serves
 * receipts and the foreign key.
 */
static const char store_sqlite_schema_v1[] =
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
	"	WHERE acked_at IS NULL;\n";

/*
 * Version 2: relay hops.  A message row is one form of a report: the
 * original (origin NULL, hop 0) or a form derived from it for a later hop
 * (origin names the original, never an intermediate form).  A delivery
 * records the hop it belongs to, the form it carries, whether its holder
 * reviews and forwards it, and when it was first sent and forwarded.
 * sharing is the reporter's widened range, kept on the original only.
 * Every added column has a default that is right for version 1 rows:
 * they are originals delivered straight from their sender.  The indexes
 * are partial: most messages have no origin or reply, some no chain, and
 * an entry that is never looked up would still cost every insert.
 */
static const char store_sqlite_schema_v2[] =
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
	"	WHERE in_reply_to IS NOT NULL;\n";

/*
 * Version 3: sealed bodies.  store.c seals every body before it reaches
 * the backend; key_id is the id of the key that sealed it (also in the
 * body's header), so that the store can tell at open which keys its
 * bodies need and a rekey can find the ones sealed under old keys without
 * reading every body.  NULL marks a body an older version stored in the
 * clear, which store.c seals right after this step; digest becomes a
 * keyed digest then.  Every message is in the index, which is what lets
 * the distinct keys be listed in a few lookups.
 */
static const char store_sqlite_schema_v3[] =
	"ALTER TABLE messages ADD COLUMN key_id INTEGER\n"
	"	CHECK (key_id BETWEEN 0 AND 4294967295);\n"
	"CREATE INDEX messages_key ON messages (key_id);\n";

/*
 * Version 4: an acknowledged-through mark per inbox in place of the
 * partial index of unacknowledged deliveries.  Every delivery of the
 * inbox up to acked_through is acknowledged; the inbox reads and the
 * pending count walk the primary key from there.  The index cost an
 * entry for every delivery and its removal at every acknowledgement,
 * about a tenth of the hub's CPU per delivery.  The mark is computed for
 * the rows already stored before their index goes.
 */
static const char store_sqlite_schema_v4[] =
	"ALTER TABLE inboxes ADD COLUMN acked_through INTEGER NOT NULL\n"
	"	DEFAULT 0 CHECK (acked_through >= 0);\n"
	"UPDATE inboxes SET acked_through = coalesce((SELECT d.seq - 1\n"
	"	FROM deliveries AS d INDEXED BY deliveries_pending\n"
	"	WHERE d.recipient = inboxes.recipient AND d.acked_at IS NULL\n"
	"	ORDER BY d.seq LIMIT 1), last_seq);\n"
	"DROP INDEX deliveries_pending;\n";

/*
 * Version 5: what waits for a holder's review, indexed alone.  The review
 * desk and its reminders read it for every organisation; the index holds
 * an entry only while a delivery is held, so deliveries that are never
 * held cost it nothing.
 */
static const char store_sqlite_schema_v5[] =
	"CREATE INDEX deliveries_held ON deliveries (recipient, seq)\n"
	"	WHERE review = 1 AND forwarded_at IS NULL;\n";

/*
 * Version 6: when each delivery became visible to its recipient, in
 * milliseconds, for TAXII's date_added.  Set as the delivery is
 * inserted (a held hop is inserted at its release), never earlier than
 * the one before it in the same inbox: a reader resuming from the last
 * date_added it saw then misses nothing.  Rows of older versions have
 * none; their message's received_at stands in.
 */
static const char store_sqlite_schema_v6[] =
	"ALTER TABLE deliveries ADD COLUMN visible_at INTEGER\n"
	"	CHECK (visible_at > 0);\n";

/* Step i takes the schema from version i to version i + 1. */
static const char *const store_sqlite_steps[STORE_SQLITE_VERSION] = {
	store_sqlite_schema_v1,
	store_sqlite_schema_v2,
	store_sqlite_schema_v3,
	store_sqlite_schema_v4,
	store_sqlite_schema_v5,
	store_sqlite_schema_v6,
};

enum store_sqlite_st {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_ITEM,
	ST_ITEM_RELEASE,
	ST_ITEM_UNDO,
	ST_LOOKUP_UUID,
	ST_INSERT_MESSAGE,
	ST_INSERT_DELIVERY,
	ST_INBOX_GET,
	ST_INBOX_INSERT,
	ST_INBOX_UPDATE,
	ST_PENDING,
	ST_ACK,
	ST_FETCH,
	ST_INBOX_PENDING,
	ST_ACKED_THROUGH,
	ST_HELD_COUNT,
	ST_MARK_DELIVERED,
	ST_MARK_FORWARDED,
	ST_MESSAGE,
	ST_DELIVERY_OF,
	ST_RECEIPTS,
	ST_CHAIN_COUNT,
	ST_REPLIES,
	ST_SET_SHARING,
	ST_KEY_NEXT,
	ST_KEY_UNSEALED,
	ST_KEY_COUNT,
	ST_STALE_UNSEALED,
	ST_STALE_OTHER,
	ST_RESEAL,
	ST_HELD,
	ST_INBOX_READ,
	ST_MAX
};

/*
 * The columns of a row that becomes a struct store_delivery, in the order
 * of enum store_sqlite_col: the message m, the sharing override (the
 * original's, found through o for a derived form), the body, and the
 * delivery d or NULLs where there is none.
 */
#define STORE_SQLITE_MCOLS						\
	"m.hub_id, m.sender, m.kind, m.received_at, m.seq, m.origin,"	\
	" m.chain_id, m.in_reply_to, m.hop, m.form,"			\
	" CASE WHEN m.origin IS NULL THEN m.sharing ELSE o.sharing END"
#define STORE_SQLITE_DCOLS						\
	"d.recipient, d.seq, d.reason, d.hop, d.form, d.review,"	\
	" d.acked_at, d.delivered_at, d.forwarded_at, d.hidden,"	\
	" coalesce(d.visible_at, m.received_at * 1000)"
#define STORE_SQLITE_NODCOLS						\
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
/* Inbox ?1's acknowledged-through mark, 0 for an inbox not yet written. */
#define STORE_SQLITE_ACKED						\
	"coalesce((SELECT acked_through FROM inboxes"			\
	" WHERE recipient = ?1), 0)"
#define STORE_SQLITE_ORIGIN						\
	" LEFT JOIN messages AS o ON o.hub_id = m.origin"

enum store_sqlite_col {
	COL_HUB_ID,
	COL_SENDER,
	COL_KIND,
	COL_RECEIVED_AT,
	COL_MESSAGE_SEQ,
	COL_ORIGIN,
	COL_CHAIN_ID,
	COL_IN_REPLY_TO,
	COL_MESSAGE_HOP,
	COL_MESSAGE_FORM,
	COL_SHARING,
	COL_BODY,
	COL_RECIPIENT,
	COL_SEQ,
	COL_REASON,
	COL_HOP,
	COL_FORM,
	COL_REVIEW,
	COL_ACKED_AT,
	COL_DELIVERED_AT,
	COL_FORWARDED_AT,
	COL_HIDDEN,
	COL_VISIBLE_AT,
};

/*
 * Every statement the store runs after open, prepared once.  The inbox
 * reads start past the inbox's acked_through mark, so that they walk
 * only what came after the oldest unacknowledged delivery, however long
 * the inbox has grown.
 */
static const char *const store_sqlite_sql[ST_MAX] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SAVEPOINT] = "SAVEPOINT store_op",
	[ST_RELEASE] = "RELEASE store_op",
	[ST_ROLLBACK_TO] = "ROLLBACK TO store_op",
	[ST_ITEM] = "SAVEPOINT store_item",
	[ST_ITEM_RELEASE] = "RELEASE store_item",
	[ST_ITEM_UNDO] = "ROLLBACK TO store_item",
	[ST_LOOKUP_UUID] =
	    "SELECT hub_id, seq, digest, body FROM messages"
	    " WHERE sender = ?1 AND uuid = ?2",
	[ST_INSERT_MESSAGE] =
	    "INSERT INTO messages"
	    " (hub_id, sender, uuid, kind, received_at, body, digest,"
	    " origin, chain_id, form, hop, in_reply_to, key_id)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[ST_INSERT_DELIVERY] =
	    "INSERT INTO deliveries"
	    " (recipient, seq, message_seq, reason, hop, form, review, hidden,"
	    " visible_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, max(?9, 1 + coalesce("
	    "(SELECT p.visible_at FROM deliveries AS p"
	    " WHERE p.recipient = ?1 AND p.seq < ?2"
	    " ORDER BY p.seq DESC LIMIT 1), 0)))",
	[ST_INBOX_GET] = "SELECT last_seq FROM inboxes WHERE recipient = ?1",
	[ST_INBOX_INSERT] =
	    "INSERT INTO inboxes (recipient, last_seq) VALUES (?1, ?2)",
	[ST_INBOX_UPDATE] =
	    "UPDATE inboxes SET last_seq = ?2"
	    " WHERE recipient = ?1 AND last_seq < ?2",
	[ST_PENDING] =
	    "SELECT " STORE_SQLITE_MCOLS ", m.body, " STORE_SQLITE_DCOLS
	    " FROM deliveries AS d"
	    " JOIN messages AS m ON m.seq = d.message_seq"
	    STORE_SQLITE_ORIGIN
	    " WHERE d.recipient = ?1 AND d.seq > max(?2, " STORE_SQLITE_ACKED
	    ") AND d.seq <= ?4 AND d.acked_at IS NULL"
	    " ORDER BY d.seq LIMIT ?3",
	/*
	 * Seqs ?2 to ?5, sent at ?4 if they were never marked: what is
	 * acknowledged was sent.  A client acknowledges runs of seqs sent
	 * together, so a run is one statement instead of one per seq.
	 */
	[ST_ACK] =
	    "UPDATE deliveries SET acked_at = ?3,"
	    " delivered_at = coalesce(delivered_at, ?4)"
	    " WHERE recipient = ?1 AND seq BETWEEN ?2 AND ?5"
	    " AND acked_at IS NULL",
	[ST_FETCH] =
	    "SELECT " STORE_SQLITE_MCOLS ", m.body, " STORE_SQLITE_DCOLS
	    " FROM messages AS m LEFT JOIN deliveries AS d"
	    " ON d.message_seq = m.seq AND d.recipient = ?2"
	    STORE_SQLITE_ORIGIN
	    " WHERE m.hub_id = ?1",
	[ST_INBOX_PENDING] =
	    "SELECT count(*) FROM deliveries"
	    " WHERE recipient = ?1 AND seq > " STORE_SQLITE_ACKED
	    " AND acked_at IS NULL",
	/*
	 * Move the mark up to just before the first delivery still
	 * unacknowledged, or to the last one if there is none.  It walks
	 * only what was acknowledged since the mark last moved.
	 */
	[ST_ACKED_THROUGH] =
	    "UPDATE inboxes SET acked_through = max(acked_through,"
	    " coalesce((SELECT d.seq - 1 FROM deliveries AS d"
	    " WHERE d.recipient = ?1 AND d.seq > inboxes.acked_through"
	    " AND d.acked_at IS NULL ORDER BY d.seq LIMIT 1), last_seq))"
	    " WHERE recipient = ?1",
	/* The review desk's partial index holds exactly these rows. */
	[ST_HELD_COUNT] =
	    "SELECT count(*), coalesce(min(m.received_at), 0)"
	    " FROM deliveries AS d INDEXED BY deliveries_held"
	    " JOIN messages AS m ON m.seq = d.message_seq"
	    " WHERE d.review = 1 AND d.forwarded_at IS NULL",
	[ST_MARK_DELIVERED] =
	    "UPDATE deliveries SET delivered_at = ?3"
	    " WHERE recipient = ?1 AND seq = ?2 AND delivered_at IS NULL",
	/* A row that was forwarded before still counts as found. */
	[ST_MARK_FORWARDED] =
	    "UPDATE deliveries SET forwarded_at = coalesce(forwarded_at, ?3)"
	    " WHERE recipient = ?1 AND message_seq ="
	    " (SELECT seq FROM messages WHERE hub_id = ?2)",
	[ST_MESSAGE] =
	    "SELECT " STORE_SQLITE_MCOLS ", m.body, " STORE_SQLITE_NODCOLS
	    " FROM messages AS m" STORE_SQLITE_ORIGIN
	    " WHERE m.hub_id = ?1",
	[ST_DELIVERY_OF] =
	    "SELECT " STORE_SQLITE_MCOLS ", m.body, " STORE_SQLITE_DCOLS
	    " FROM messages AS m JOIN deliveries AS d"
	    " ON d.message_seq = m.seq AND d.recipient = ?2"
	    STORE_SQLITE_ORIGIN
	    " WHERE m.hub_id = ?1",
	/* Receipts leave the bodies on disk. */
	[ST_RECEIPTS] =
	    "SELECT " STORE_SQLITE_MCOLS ", NULL, " STORE_SQLITE_DCOLS
	    " FROM messages AS m JOIN deliveries AS d ON d.message_seq = m.seq"
	    STORE_SQLITE_ORIGIN
	    " WHERE m.hub_id = ?1 OR m.origin = ?1"
	    " ORDER BY d.hop, d.recipient, m.seq",
	/* What waits for a holder's review: not forwarded, not declined. */
	[ST_HELD] =
	    "SELECT " STORE_SQLITE_MCOLS ", m.body, " STORE_SQLITE_DCOLS
	    " FROM deliveries AS d INDEXED BY deliveries_held"
	    " JOIN messages AS m ON m.seq = d.message_seq"
	    STORE_SQLITE_ORIGIN
	    " WHERE d.recipient = ?1 AND d.review = 1"
	    " AND d.forwarded_at IS NULL ORDER BY d.seq",
	[ST_CHAIN_COUNT] =
	    "SELECT count(*) FROM messages"
	    " WHERE sender = ?1 AND chain_id = ?2 AND origin IS NULL"
	    " AND hop = 0",
	[ST_REPLIES] =
	    "SELECT " STORE_SQLITE_MCOLS ", m.body, " STORE_SQLITE_NODCOLS
	    " FROM messages AS m" STORE_SQLITE_ORIGIN
	    " WHERE m.in_reply_to = ?1 ORDER BY m.seq",
	[ST_SET_SHARING] =
	    "UPDATE messages SET sharing = ?2"
	    " WHERE hub_id = ?1 AND origin IS NULL",
	/* The next key id up from ?1: one index lookup per distinct key. */
	[ST_KEY_NEXT] =
	    "SELECT key_id FROM messages INDEXED BY messages_key"
	    " WHERE key_id > ?1 ORDER BY key_id LIMIT 1",
	[ST_KEY_UNSEALED] =
	    "SELECT count(*) FROM messages WHERE key_id IS NULL",
	[ST_KEY_COUNT] =
	    "SELECT count(*) FROM messages WHERE key_id = ?1",
	[ST_STALE_UNSEALED] =
	    "SELECT seq, hub_id, sender, 0, body FROM messages"
	    " WHERE key_id IS NULL AND seq > ?2 ORDER BY seq LIMIT ?3",
	/* In seq order from the last batch: the walk reads each row once. */
	[ST_STALE_OTHER] =
	    "SELECT seq, hub_id, sender, key_id IS NOT NULL, body"
	    " FROM messages WHERE key_id IS NOT ?1 AND seq > ?2"
	    " ORDER BY seq LIMIT ?3",
	/* Every delivery, acknowledged or not: what a TAXII reader reads. */
	[ST_INBOX_READ] =
	    "SELECT " STORE_SQLITE_MCOLS ", m.body, " STORE_SQLITE_DCOLS
	    " FROM deliveries AS d"
	    " JOIN messages AS m ON m.seq = d.message_seq"
	    STORE_SQLITE_ORIGIN
	    " WHERE d.recipient = ?1 AND d.seq > ?2 AND d.seq <= ?4"
	    " ORDER BY d.seq LIMIT ?3",
	[ST_RESEAL] =
	    "UPDATE messages SET body = ?2, digest = ?3, key_id = ?4"
	    " WHERE seq = ?1",
};

/* One recipient's cursor as the open transaction sees it. */
struct store_sqlite_inbox {
	char		*recipient;	/* NULL: an empty slot */
	uint64_t	 last_seq;
	uint64_t	 gen;		/* the insert that last used it */
	bool		 exists;	/* a row is in inboxes */
	bool		 dirty;		/* last_seq must be written at commit */
};

struct store_sqlite {
	char				*path;
	sqlite3				*db;
	sqlite3_stmt			*st[ST_MAX];

	/* The transaction's cursor cache: open addressing, cap a power of 2. */
	struct store_sqlite_inbox	*inboxes;
	size_t				 ninboxes;
	size_t				 capinboxes;
	uint64_t			 gen;		/* counts inserts */
	bool				 lost;	/* see store_sqlite_lost */
	bool				 item;	/* a request's savepoint is open */
	bool				 relaxed; /* see store_sqlite_durable */

	/* Pipelined durability, see store_sqlite_pipeline. */
	sqlite3				*ckpt;	/* the sync thread's connection */
	int				 wal_fd; /* -1: not pipelined */
	int				 wal_frames; /* after the last commit */

	/* Scratch for store_sqlite_insert: the seq of each recipient. */
	uint64_t			*seqs;
	size_t				 capseqs;
};

static int	 store_sqlite_fail(struct store_sqlite *, char **,
		    const char *, ...) __attribute__((format(printf, 3, 4)));

/*
 * Turn the connection's last error into "store PATH: OP: errmsg" and
 * return -1.  Call it before resetting the failed statement, which may
 * replace the message.
 */
static int
store_sqlite_fail(struct store_sqlite *sq, char **cause, const char *fmt, ...)
{
	va_list	 ap;
	char	*op;

	if (cause == NULL)
		return (-1);
	va_start(ap, fmt);
	if (vasprintf(&op, fmt, ap) == -1)
		op = NULL;
	va_end(ap);
	cause_set(cause, "store %s: %s: %s", sq->path,
	    op != NULL ? op : "?", sqlite3_errmsg(sq->db));
	free(op);
	return (-1);
}

/*
 * Return a statement to its unused state: an unreset SELECT would keep a
 * WAL read snapshot open, hiding later commits and blocking checkpoints.
 */
static void
store_sqlite_reset(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Run a statement that returns no rows; -1 with a cause naming op. */
static int
store_sqlite_run(struct store_sqlite *sq, enum store_sqlite_st which,
    const char *op, char **cause)
{
	sqlite3_stmt	*st = sq->st[which];
	int		 rv = 0;

	if (sqlite3_step(st) != SQLITE_DONE)
		rv = store_sqlite_fail(sq, cause, "%s", op);
	store_sqlite_reset(st);
	return (rv);
}

/* Bind a string that outlives the statement's use. */
static int
store_sqlite_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return (sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC));
}

/*
 * Bind a blob; SQLite would store a NULL pointer as SQL NULL, so an empty
 * one is bound from a static empty buffer.
 */
static int
store_sqlite_bind_blob(sqlite3_stmt *st, int i, const void *p, size_t len)
{
	static const uint8_t	 empty[1];

	if (len == 0)
		p = empty;
	return (sqlite3_bind_blob64(st, i, p, len, SQLITE_STATIC));
}

/* A stored text column; NULL with the connection's error set if none. */
static const char *
store_sqlite_text(sqlite3_stmt *st, int col)
{
	return ((const char *)sqlite3_column_text(st, col));
}

/* A stored blob column, never a NULL pointer, with its length. */
static const uint8_t *
store_sqlite_blob(sqlite3_stmt *st, int col, size_t *len)
{
	static const uint8_t	 empty[1];
	const uint8_t		*p;

	p = sqlite3_column_blob(st, col);
	*len = (size_t)sqlite3_column_bytes(st, col);
	return (p != NULL ? p : empty);
}

/* The form as stored: the API's 0 is an original. */
static int
store_sqlite_form(int form)
{
	return (form == 0 ? CEPTOAR__FORM__FORM_ORIGINAL : form);
}

/*
 * A text column that may be NULL.  SQLite also answers NULL when it runs
 * out of memory converting the value, which clears *ok.
 */
static const char *
store_sqlite_text_or_null(sqlite3_stmt *st, int col, bool *ok)
{
	const char	*p;

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return (NULL);
	if ((p = store_sqlite_text(st, col)) == NULL)
		*ok = false;
	return (p);
}

/* A blob column that may be NULL, as NULL; otherwise never NULL. */
static const uint8_t *
store_sqlite_blob_or_null(sqlite3_stmt *st, int col, size_t *len)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		*len = 0;
		return (NULL);
	}
	return (store_sqlite_blob(st, col, len));
}

/*
 * Fill d from a row laid out as enum store_sqlite_col.  Without a
 * delivery (d.seq NULL) the row is the message itself: seq 0, no
 * recipient or reason, hop and form the message's, review false.  The
 * pointers are the statement's, valid until it is stepped or reset.
 * -1 if SQLite ran out of memory on a column that cannot be NULL.
 */
static int
store_sqlite_row(sqlite3_stmt *st, struct store_delivery *d)
{
	bool	 ok = true;

	memset(d, 0, sizeof(*d));
	d->hub_id = store_sqlite_text(st, COL_HUB_ID);
	d->sender = store_sqlite_text(st, COL_SENDER);
	d->kind = store_sqlite_text(st, COL_KIND);
	if (d->hub_id == NULL || d->sender == NULL || d->kind == NULL)
		ok = false;
	d->received_at = sqlite3_column_int64(st, COL_RECEIVED_AT);
	d->message_seq = (uint64_t)sqlite3_column_int64(st, COL_MESSAGE_SEQ);
	d->origin = store_sqlite_text_or_null(st, COL_ORIGIN, &ok);
	d->chain_id = store_sqlite_text_or_null(st, COL_CHAIN_ID, &ok);
	d->in_reply_to = store_sqlite_text_or_null(st, COL_IN_REPLY_TO, &ok);
	d->hop = (unsigned)sqlite3_column_int64(st, COL_MESSAGE_HOP);
	d->form = sqlite3_column_int(st, COL_MESSAGE_FORM);
	d->sharing = store_sqlite_blob_or_null(st, COL_SHARING,
	    &d->sharing_len);
	d->body = store_sqlite_blob_or_null(st, COL_BODY, &d->body_len);

	if (sqlite3_column_type(st, COL_SEQ) != SQLITE_NULL) {
		d->recipient = store_sqlite_text(st, COL_RECIPIENT);
		d->seq = (uint64_t)sqlite3_column_int64(st, COL_SEQ);
		d->reason = store_sqlite_text(st, COL_REASON);
		if (d->recipient == NULL || d->reason == NULL)
			ok = false;
		d->hop = (unsigned)sqlite3_column_int64(st, COL_HOP);
		d->form = sqlite3_column_int(st, COL_FORM);
		d->review = sqlite3_column_int(st, COL_REVIEW) != 0;
		d->acked_at = sqlite3_column_int64(st, COL_ACKED_AT);
		d->delivered_at = sqlite3_column_int64(st, COL_DELIVERED_AT);
		d->forwarded_at = sqlite3_column_int64(st, COL_FORWARDED_AT);
		d->hidden = sqlite3_column_int(st, COL_HIDDEN) != 0;
		d->visible_at = sqlite3_column_int64(st, COL_VISIBLE_AT);
	}
	return (ok ? 0 : -1);
}

/* The cache slot holding recipient, or the empty slot where it belongs. */
static struct store_sqlite_inbox *
store_sqlite_inbox_slot(struct store_sqlite_inbox *v, size_t cap,
    const char *recipient)
{
	size_t	 i;

	i = strhash(recipient) & (cap - 1);
	while (v[i].recipient != NULL && strcmp(v[i].recipient, recipient) != 0)
		i = (i + 1) & (cap - 1);
	return (&v[i]);
}

/* Double the cache, keeping it at most half full so probes stay short. */
static int
store_sqlite_inbox_grow(struct store_sqlite *sq)
{
	struct store_sqlite_inbox	*v, *slot;
	size_t				 cap, i;

	cap = sq->capinboxes == 0 ? 64 : sq->capinboxes * 2;
	if ((v = calloc(cap, sizeof(*v))) == NULL)
		return (-1);
	for (i = 0; i < sq->capinboxes; i++) {
		if (sq->inboxes[i].recipient == NULL)
			continue;
		slot = store_sqlite_inbox_slot(v, cap,
		    sq->inboxes[i].recipient);
		*slot = sq->inboxes[i];
	}
	free(sq->inboxes);
	sq->inboxes = v;
	sq->capinboxes = cap;
	return (0);
}

/* Forget every cached cursor: the transaction is over. */
static void
store_sqlite_inbox_clear(struct store_sqlite *sq)
{
	size_t	 i;

	if (sq->ninboxes == 0)
		return;
	for (i = 0; i < sq->capinboxes; i++)
		free(sq->inboxes[i].recipient);
	memset(sq->inboxes, 0, sq->capinboxes * sizeof(*sq->inboxes));
	sq->ninboxes = 0;
}

/*
 * The cache entry for recipient, read from inboxes on first use in this
 * transaction.  The pointer is good until the next call (the cache may
 * grow); NULL with a cause on error.
 */
static struct store_sqlite_inbox *
store_sqlite_inbox_get(struct store_sqlite *sq, const char *recipient,
    char **cause)
{
	struct store_sqlite_inbox	*slot;
	sqlite3_stmt			*st = sq->st[ST_INBOX_GET];
	sqlite3_int64			 last = 0;
	bool				 exists = false;
	int				 rc;

	if (sq->capinboxes != 0) {
		slot = store_sqlite_inbox_slot(sq->inboxes, sq->capinboxes,
		    recipient);
		if (slot->recipient != NULL)
			return (slot);
	}

	store_sqlite_bind_text(st, 1, recipient);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		last = sqlite3_column_int64(st, 0);
		exists = true;
	} else if (rc != SQLITE_DONE) {
		store_sqlite_fail(sq, cause, "read inbox of %s", recipient);
		store_sqlite_reset(st);
		return (NULL);
	}
	store_sqlite_reset(st);
	if (last < 0) {
		cause_set(cause, "store %s: inbox of %s has negative "
		    "last_seq %lld", sq->path, recipient, (long long)last);
		return (NULL);
	}

	if ((sq->ninboxes + 1) * 2 > sq->capinboxes &&
	    store_sqlite_inbox_grow(sq) == -1)
		goto nomem;
	slot = store_sqlite_inbox_slot(sq->inboxes, sq->capinboxes, recipient);
	if ((slot->recipient = strdup(recipient)) == NULL)
		goto nomem;
	slot->last_seq = (uint64_t)last;
	slot->gen = 0;
	slot->exists = exists;
	slot->dirty = false;
	sq->ninboxes++;
	return (slot);

nomem:
	cause_set(cause, "store %s: out of memory caching the inbox "
	    "of %s", sq->path, recipient);
	return (NULL);
}

/* Write every cursor the transaction advanced back to inboxes. */
static int
store_sqlite_inbox_flush(struct store_sqlite *sq, char **cause)
{
	struct store_sqlite_inbox	*ib;
	sqlite3_stmt			*st;
	size_t				 i;

	for (i = 0; i < sq->capinboxes; i++) {
		ib = &sq->inboxes[i];
		if (ib->recipient == NULL || !ib->dirty)
			continue;
		st = sq->st[ib->exists ? ST_INBOX_UPDATE : ST_INBOX_INSERT];
		store_sqlite_bind_text(st, 1, ib->recipient);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)ib->last_seq);
		if (sqlite3_step(st) != SQLITE_DONE) {
			store_sqlite_fail(sq, cause, "write inbox of %s",
			    ib->recipient);
			store_sqlite_reset(st);
			return (-1);
		}
		store_sqlite_reset(st);
		/* The write lock rules this out; refuse rather than reuse. */
		if (sqlite3_changes(sq->db) != 1) {
			cause_set(cause, "store %s: inbox of %s moved "
			    "during the transaction", sq->path, ib->recipient);
			return (-1);
		}
		ib->exists = true;
		ib->dirty = false;
	}
	return (0);
}

/* Read a one-integer pragma or query, such as PRAGMA user_version. */
static int
store_sqlite_int(struct store_sqlite *sq, const char *sql, sqlite3_int64 *out,
    char **cause)
{
	sqlite3_stmt	*st = NULL;
	int		 rc;

	if (sqlite3_prepare_v2(sq->db, sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		cause_set(cause, "store %s: %s: no answer", sq->path,
		    sql);
		sqlite3_finalize(st);
		return (-1);
	}
	if (rc != SQLITE_ROW)
		goto fail;
	*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (0);

fail:
	/* SQLite says NOTADB for a file that is not one of its databases. */
	if ((sqlite3_errcode(sq->db) & 0xff) == SQLITE_NOTADB)
		cause_set(cause, "store %s is not a SQLite database "
		    "(%s)", sq->path, sqlite3_errmsg(sq->db));
	else
		store_sqlite_fail(sq, cause, "%s", sql);
	sqlite3_finalize(st);
	return (-1);
}

/*
 * Switch to write-ahead logging, which lets readers proceed during a
 * commit and makes each commit one append and one fsync of the log.
 */
static int
store_sqlite_wal(struct store_sqlite *sq, char **cause)
{
	sqlite3_stmt	*st;
	const char	*mode = NULL;
	int		 rc, wal;

	if (sqlite3_prepare_v2(sq->db, "PRAGMA journal_mode = WAL", -1, &st,
	    NULL) != SQLITE_OK)
		return (store_sqlite_fail(sq, cause, "set journal mode"));
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		mode = store_sqlite_text(st, 0);
	else if (rc != SQLITE_DONE) {
		store_sqlite_fail(sq, cause, "set journal mode");
		sqlite3_finalize(st);
		return (-1);
	}
	/* The pragma answers with the mode in force, which may not be WAL. */
	wal = mode != NULL && strcmp(mode, "wal") == 0;
	if (!wal)
		cause_set(cause, "store %s: cannot use write-ahead "
		    "logging (journal mode is %s)", sq->path,
		    mode != NULL ? mode : "unknown");
	sqlite3_finalize(st);
	return (wal ? 0 : -1);
}

/* Run a statement once, for pragmas and the schema. */
static int
store_sqlite_exec(struct store_sqlite *sq, const char *sql, const char *op,
    char **cause)
{
	char	*err = NULL;

	if (sqlite3_exec(sq->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		cause_set(cause, "store %s: %s: %s", sq->path, op,
		    err != NULL ? err : sqlite3_errmsg(sq->db));
		sqlite3_free(err);
		return (-1);
	}
	return (0);
}

/*
 * Make sure the database's directory exists, then create the file with
 * mode 0600 ourselves (SQLite would use 0644): reports under TLP:RED live
 * in it, and SQLite gives the -wal and -shm files the database's mode.
 * A new file and its directory entry are fsynced so the store itself
 * survives a crash right after creation.
 */
static int
store_sqlite_create(struct store_sqlite *sq, char **cause)
{
	struct stat	 sb;
	char		*copy, *dir;
	int		 fd, dfd, rv = -1;

	if ((copy = strdup(sq->path)) == NULL) {
		cause_set(cause, "store %s: out of memory", sq->path);
		return (-1);
	}
	dir = dirname(copy);
	if (stat(dir, &sb) == -1) {
		if (errno == ENOENT)
			cause_set(cause, "store %s: directory %s does "
			    "not exist", sq->path, dir);
		else
			cause_set(cause, "store %s: directory %s: %s",
			    sq->path, dir, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(sb.st_mode)) {
		cause_set(cause, "store %s: %s is not a directory",
		    sq->path, dir);
		goto out;
	}

	fd = open(sq->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		if (errno == EEXIST) {
			if (stat(sq->path, &sb) == 0 && !S_ISREG(sb.st_mode))
				cause_set(cause, "store %s is not a "
				    "regular file", sq->path);
			else
				rv = 0;
			goto out;
		}
		cause_set(cause, "store %s: %s", sq->path,
		    strerror(errno));
		goto out;
	}
	if (fsync(fd) == -1) {
		cause_set(cause, "store %s: fsync: %s", sq->path,
		    strerror(errno));
		close(fd);
		goto out;
	}
	close(fd);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1) {
		cause_set(cause, "store %s: fsync directory %s: %s",
		    sq->path, dir, strerror(errno));
		if (dfd != -1)
			close(dfd);
		goto out;
	}
	close(dfd);
	rv = 0;
out:
	free(copy);
	return (rv);
}

/*
 * Refuse a schema version this code does not know, before anything is
 * written to the file, and a versioned file that is not ours.
 */
static int
store_sqlite_schema_check(struct store_sqlite *sq, char **cause)
{
	sqlite3_int64	 version, appid;

	if (store_sqlite_int(sq, "PRAGMA user_version", &version, cause) == -1)
		return (-1);
	if (version < 0 || version > STORE_SQLITE_VERSION) {
		cause_set(cause, "store %s has schema version %lld; "
		    "this ceptoard understands up to %d", sq->path,
		    (long long)version, STORE_SQLITE_VERSION);
		return (-1);
	}
	if (version != 0) {
		if (store_sqlite_int(sq, "PRAGMA application_id", &appid,
		    cause) == -1)
			return (-1);
		if (appid != STORE_SQLITE_APPID) {
			cause_set(cause, "store %s is a SQLite "
			    "database of another application (id %#llx)",
			    sq->path, (unsigned long long)appid);
			return (-1);
		}
	}
	return (0);
}

/*
 * Bring the schema to the current version: create it in an empty
 * database, or take an older one through the steps it lacks (ALTER TABLE
 * ADD COLUMN with defaults, new indexes; the rows stay).  Everything,
 * the new user_version included, is one IMMEDIATE transaction, so a
 * failed step leaves the file at its old version.  The version is read
 * again under the write lock so that two processes opening the file at
 * once do not both run the steps.
 */
static int
store_sqlite_schema_create(struct store_sqlite *sq, char **cause)
{
	sqlite3_int64	 version, nobjects;
	char		 sql[128], op[64];
	int		 v;

	if (store_sqlite_exec(sq, "BEGIN IMMEDIATE", "begin schema creation",
	    cause) == -1)
		return (-1);
	if (store_sqlite_int(sq, "PRAGMA user_version", &version, cause) == -1)
		goto fail;
	if (version == STORE_SQLITE_VERSION)
		return (store_sqlite_exec(sq, "COMMIT", "commit", cause));
	if (version < 0 || version > STORE_SQLITE_VERSION) {
		cause_set(cause, "store %s has schema version %lld; "
		    "this ceptoard understands up to %d", sq->path,
		    (long long)version, STORE_SQLITE_VERSION);
		goto fail;
	}
	if (version == 0) {
		if (store_sqlite_int(sq, "SELECT count(*) FROM sqlite_master",
		    &nobjects, cause) == -1)
			goto fail;
		/* Never adopt someone else's database by writing in it. */
		if (nobjects != 0) {
			cause_set(cause, "store %s is a SQLite "
			    "database without a ceptoard schema version",
			    sq->path);
			goto fail;
		}
	}
	for (v = (int)version; v < STORE_SQLITE_VERSION; v++) {
		if (v == 0)
			snprintf(op, sizeof(op), "create schema version 1");
		else
			snprintf(op, sizeof(op), "upgrade schema from "
			    "version %d to %d", v, v + 1);
		if (store_sqlite_exec(sq, store_sqlite_steps[v], op,
		    cause) == -1)
			goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; "
	    "PRAGMA user_version = %d", STORE_SQLITE_APPID,
	    STORE_SQLITE_VERSION);
	if (store_sqlite_exec(sq, sql, "set schema version", cause) == -1)
		goto fail;
	if (store_sqlite_exec(sq, "COMMIT", "commit schema", cause) == -1)
		goto fail;
	return (0);

fail:
	if (!sqlite3_get_autocommit(sq->db))
		sqlite3_exec(sq->db, "ROLLBACK", NULL, NULL, NULL);
	return (-1);
}

/* Close the connection and free everything open allocated. */
static void
store_sqlite_close(void *be)
{
	struct store_sqlite	*sq = be;
	size_t			 i;

	if (sq == NULL)
		return;
	if (sq->db != NULL) {
		if (!sqlite3_get_autocommit(sq->db))
			sqlite3_exec(sq->db, "ROLLBACK", NULL, NULL, NULL);
		for (i = 0; i < ST_MAX; i++)
			sqlite3_finalize(sq->st[i]);
		sqlite3_close_v2(sq->db);
	}
	if (sq->ckpt != NULL)
		sqlite3_close_v2(sq->ckpt);
	if (sq->wal_fd != -1)
		close(sq->wal_fd);
	store_sqlite_inbox_clear(sq);
	free(sq->inboxes);
	free(sq->seqs);
	free(sq->path);
	free(sq);
}

/*
 * Open or create the store at path.  The connection is opened without
 * SQLite's own mutexes: a store is used by one thread, the event loop's.
 * Settings are made in an order that leaves a refused file untouched:
 * the version is read before WAL mode is switched on.
 */
static void *
store_sqlite_open(const char *path, char **cause)
{
	struct store_sqlite	*sq;
	sqlite3_int64		 v;
	size_t			 i;

	if ((sq = calloc(1, sizeof(*sq))) == NULL ||
	    (sq->path = strdup(path)) == NULL) {
		free(sq);
		cause_set(cause, "store %s: out of memory", path);
		return (NULL);
	}
	sq->wal_fd = -1;
	if (store_sqlite_create(sq, cause) == -1)
		goto fail;

	if (sqlite3_open_v2(sq->path, &sq->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		if (sq->db == NULL)
			cause_set(cause, "store %s: out of memory",
			    path);
		else
			store_sqlite_fail(sq, cause, "open");
		goto fail;
	}
	if (sqlite3_db_readonly(sq->db, "main") == 1) {
		cause_set(cause, "store %s is read-only", path);
		goto fail;
	}
	sqlite3_extended_result_codes(sq->db, 1);
	sqlite3_busy_timeout(sq->db, STORE_SQLITE_BUSY_MS);

	if (store_sqlite_schema_check(sq, cause) == -1)
		goto fail;

	if (store_sqlite_wal(sq, cause) == -1)
		goto fail;
	if (store_sqlite_exec(sq,
	    "PRAGMA synchronous = FULL;"
	    "PRAGMA foreign_keys = ON;"
	    "PRAGMA fullfsync = ON;"
	    "PRAGMA checkpoint_fullfsync = ON;"
	    "PRAGMA journal_size_limit = 67108864;"
	    "PRAGMA trusted_schema = OFF;"
	    "PRAGMA temp_store = MEMORY;"
	    /* A body re-sealed or migrated leaves no old copy in free space. */
	    "PRAGMA secure_delete = ON;",
	    "set pragmas", cause) == -1)
		goto fail;
	/* Durability and integrity rest on these two; do not assume. */
	if (store_sqlite_int(sq, "PRAGMA synchronous", &v, cause) == -1)
		goto fail;
	if (v < 2) {
		cause_set(cause, "store %s: synchronous=FULL was not "
		    "accepted", path);
		goto fail;
	}
	if (store_sqlite_int(sq, "PRAGMA foreign_keys", &v, cause) == -1)
		goto fail;
	if (v != 1) {
		cause_set(cause, "store %s: this SQLite does not "
		    "enforce foreign keys", path);
		goto fail;
	}

	if (store_sqlite_schema_create(sq, cause) == -1)
		goto fail;

	for (i = 0; i < ST_MAX; i++) {
		if (sqlite3_prepare_v3(sq->db, store_sqlite_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &sq->st[i], NULL) != SQLITE_OK) {
			store_sqlite_fail(sq, cause, "prepare \"%s\"",
			    store_sqlite_sql[i]);
			goto fail;
		}
	}
	return (sq);

fail:
	store_sqlite_close(sq);
	return (NULL);
}

/*
 * Put synchronous back to FULL if store_sqlite_mark_delivered lowered it
 * and could not restore it.  Called before every transaction that must be
 * durable, outside any transaction: SQLite refuses the change inside one,
 * and applies it when the pragma is prepared, so it cannot be a prepared
 * statement.
 */
static int
store_sqlite_durable(struct store_sqlite *sq, char **cause)
{
	if (!sq->relaxed)
		return (0);
	if (store_sqlite_exec(sq, "PRAGMA synchronous = FULL",
	    "restore synchronous=FULL", cause) == -1)
		return (-1);
	sq->relaxed = false;
	return (0);
}

/* Start a group: take the write lock now so commit cannot meet BUSY. */
static int
store_sqlite_begin(void *be, char **cause)
{
	struct store_sqlite	*sq = be;

	store_sqlite_inbox_clear(sq);
	sq->lost = false;
	sq->item = false;
	if (store_sqlite_durable(sq, cause) == -1)
		return (-1);
	return (store_sqlite_run(sq, ST_BEGIN, "begin", cause));
}

/* Find a sender's earlier message with uuid, committed or in this group. */
static int
store_sqlite_lookup_uuid(void *be, const char *sender, const char *uuid,
    char hub_id[STORE_HUB_ID_LEN], uint64_t *seq, unsigned char digest[32],
    uint8_t **body, size_t *body_len, char **cause)
{
	struct store_sqlite	*sq = be;
	sqlite3_stmt		*st = sq->st[ST_LOOKUP_UUID];
	const char		*id;
	const void		*dg;
	const uint8_t		*b;
	size_t			 len, blen;
	int			 rc, rv = -1;

	store_sqlite_bind_text(st, 1, sender);
	store_sqlite_bind_text(st, 2, uuid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		rv = 0;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		store_sqlite_fail(sq, cause, "look up uuid %s of %s", uuid,
		    sender);
		goto out;
	}
	if ((id = store_sqlite_text(st, 0)) == NULL ||
	    (dg = sqlite3_column_blob(st, 2)) == NULL) {
		store_sqlite_fail(sq, cause, "read uuid %s of %s", uuid,
		    sender);
		goto out;
	}
	if ((len = strlen(id)) >= STORE_HUB_ID_LEN ||
	    sqlite3_column_bytes(st, 2) != STORE_SQLITE_DIGEST_LEN) {
		cause_set(cause, "store %s: message %s of %s has a "
		    "malformed hub_id or digest", sq->path, uuid, sender);
		goto out;
	}
	b = store_sqlite_blob(st, 3, &blen);
	if ((*body = malloc(blen != 0 ? blen : 1)) == NULL) {
		cause_set(cause, "store %s: out of memory reading "
		    "message %s of %s", sq->path, uuid, sender);
		goto out;
	}
	memcpy(*body, b, blen);
	*body_len = blen;
	memcpy(hub_id, id, len + 1);
	memcpy(digest, dg, STORE_SQLITE_DIGEST_LEN);
	*seq = (uint64_t)sqlite3_column_int64(st, 1);
	rv = 1;
out:
	store_sqlite_reset(st);
	return (rv);
}

/*
 * Whether the open group can no longer be committed: an insert failed
 * half-way, or SQLite rolled the transaction back after an error.  Going
 * on in autocommit mode would commit each later statement on its own and
 * leave the inbox cursors behind the deliveries.
 */
static bool
store_sqlite_lost(struct store_sqlite *sq, const char *op, char **cause)
{
	if (!sq->lost && !sqlite3_get_autocommit(sq->db))
		return (false);
	sq->lost = true;
	cause_set(cause, "store %s: %s: the transaction was lost to "
	    "an earlier error and must be rolled back", sq->path, op);
	return (true);
}

/* Undo everything since the savepoint "store_op" and end it. */
static void
store_sqlite_savepoint_undo(struct store_sqlite *sq)
{
	store_sqlite_run(sq, ST_ROLLBACK_TO, "rollback to savepoint", NULL);
	store_sqlite_run(sq, ST_RELEASE, "release savepoint", NULL);
}

/*
 * Store m and its deliveries inside the open group.  Each recipient's seq
 * is its cached cursor plus one, and the cache is advanced only once every
 * row is in.  Everything that can be refused (a recipient named twice, a
 * hub_id or uuid already stored) is refused before or by the first write,
 * which SQLite undoes by itself, so the group goes on.  Only a failure
 * after that (I/O, memory) leaves a half-written message; the group is
 * then marked lost and store_sqlite_commit refuses it.  This costs no
 * savepoint: one per message made every insert copy the pages it touched
 * into a statement journal, at close to half the throughput.
 */
static int
store_sqlite_insert(void *be, struct store_message *m,
    const unsigned char digest[32], uint32_t key_id,
    struct store_recipient *r, size_t nr, char **cause)
{
	struct store_sqlite		*sq = be;
	struct store_sqlite_inbox	*ib;
	sqlite3_stmt			*st;
	uint64_t			*v;
	sqlite3_int64			 mseq, now_ms;
	struct timespec			 ts;
	size_t				 i;
	int				 rc;

	if (store_sqlite_lost(sq, "insert", cause))
		return (-1);
	if (nr > sq->capseqs) {
		if ((v = reallocarray(sq->seqs, nr, sizeof(*v))) == NULL) {
			cause_set(cause, "store %s: out of memory "
			    "for %zu recipients", sq->path, nr);
			return (-1);
		}
		sq->seqs = v;
		sq->capseqs = nr;
	}

	/* Assign every seq before writing anything. */
	sq->gen++;
	for (i = 0; i < nr; i++) {
		if ((ib = store_sqlite_inbox_get(sq, r[i].org, cause)) == NULL)
			return (-1);
		if (ib->gen == sq->gen) {
			cause_set(cause, "store %s: insert message "
			    "%s: recipient %s named twice", sq->path,
			    m->hub_id, r[i].org);
			return (-1);
		}
		if (ib->last_seq >= INT64_MAX) {
			cause_set(cause, "store %s: inbox of %s is "
			    "out of sequence numbers", sq->path, r[i].org);
			return (-1);
		}
		ib->gen = sq->gen;
		sq->seqs[i] = ib->last_seq + 1;
	}

	st = sq->st[ST_INSERT_MESSAGE];
	rc = store_sqlite_bind_text(st, 1, m->hub_id);
	rc |= store_sqlite_bind_text(st, 2, m->sender);
	rc |= store_sqlite_bind_text(st, 3, m->uuid);
	rc |= store_sqlite_bind_text(st, 4, m->kind);
	rc |= sqlite3_bind_int64(st, 5, m->received_at);
	rc |= store_sqlite_bind_blob(st, 6, m->body, m->body_len);
	rc |= store_sqlite_bind_blob(st, 7, digest, STORE_SQLITE_DIGEST_LEN);
	rc |= store_sqlite_bind_text(st, 8, m->origin);
	rc |= store_sqlite_bind_text(st, 9, m->chain_id);
	rc |= sqlite3_bind_int(st, 10, store_sqlite_form(m->form));
	rc |= sqlite3_bind_int64(st, 11, (sqlite3_int64)m->hop);
	rc |= store_sqlite_bind_text(st, 12, m->in_reply_to);
	rc |= sqlite3_bind_int64(st, 13, (sqlite3_int64)key_id);
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		store_sqlite_fail(sq, cause, "insert message %s (uuid %s of "
		    "%s)", m->hub_id, m->uuid, m->sender);
		store_sqlite_reset(st);
		/* SQLite rolls back the whole transaction on some errors. */
		if (sqlite3_get_autocommit(sq->db))
			sq->lost = true;
		return (-1);
	}
	store_sqlite_reset(st);
	mseq = sqlite3_last_insert_rowid(sq->db);

	st = sq->st[ST_INSERT_DELIVERY];
	clock_gettime(CLOCK_REALTIME, &ts);
	now_ms = (sqlite3_int64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	for (i = 0; i < nr; i++) {
		store_sqlite_bind_text(st, 1, r[i].org);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)sq->seqs[i]);
		sqlite3_bind_int64(st, 3, mseq);
		store_sqlite_bind_text(st, 4, r[i].reason);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)r[i].hop);
		sqlite3_bind_int(st, 6, store_sqlite_form(r[i].form));
		sqlite3_bind_int(st, 7, r[i].review ? 1 : 0);
		sqlite3_bind_int(st, 8, r[i].hidden ? 1 : 0);
		sqlite3_bind_int64(st, 9, now_ms);
		if (sqlite3_step(st) != SQLITE_DONE) {
			store_sqlite_fail(sq, cause, "insert delivery of %s "
			    "to %s (the group will be rolled back)", m->hub_id,
			    r[i].org);
			store_sqlite_reset(st);
			sq->lost = true;
			return (-1);
		}
		store_sqlite_reset(st);
	}

	for (i = 0; i < nr; i++) {
		/* Present: store_sqlite_inbox_get cached it above. */
		if ((ib = store_sqlite_inbox_get(sq, r[i].org, NULL)) == NULL)
			continue;
		ib->last_seq = sq->seqs[i];
		ib->dirty = true;
		r[i].seq = sq->seqs[i];
	}
	m->seq = (uint64_t)mseq;
	return (0);
}

/*
 * One request inside the group.  Isolated, it runs in the savepoint
 * "store_item", which a failure rolls back; the inbox cursors it advanced
 * in the cache stay advanced, which leaves a gap in those inboxes'
 * sequences and nothing worse.  Not isolated (a single insert, which the
 * insert itself refuses whole), only the lost state tells.
 */
static int
store_sqlite_item(void *be, int op, bool isolate, char **cause)
{
	struct store_sqlite	*sq = be;

	switch (op) {
	case 0:
		if (store_sqlite_lost(sq, "begin a request", cause))
			return (-1);
		sq->item = isolate;
		if (isolate && store_sqlite_run(sq, ST_ITEM, "savepoint",
		    cause) == -1) {
			sq->item = false;
			return (-1);
		}
		return (0);
	case 1:
		if (!sq->item)
			return (0);
		sq->item = false;
		if (store_sqlite_run(sq, ST_ITEM_RELEASE, "release savepoint",
		    cause) == -1) {
			sq->lost = true;
			return (-1);
		}
		return (0);
	default:
		if (sq->item) {
			sq->item = false;
			if (sqlite3_get_autocommit(sq->db) ||
			    store_sqlite_run(sq, ST_ITEM_UNDO, "rollback to "
			    "savepoint", NULL) == -1 ||
			    store_sqlite_run(sq, ST_ITEM_RELEASE, "release "
			    "savepoint", NULL) == -1) {
				sq->lost = true;
				return (-1);
			}
			/* What was half-written is gone with the savepoint. */
			sq->lost = false;
		}
		return (sq->lost || sqlite3_get_autocommit(sq->db) ? -1 : 0);
	}
}

/* Write the advanced cursors, then COMMIT; that is the fsync. */
static int
store_sqlite_commit(void *be, char **cause)
{
	struct store_sqlite	*sq = be;

	if (store_sqlite_lost(sq, "commit", cause) ||
	    store_sqlite_inbox_flush(sq, cause) == -1 ||
	    store_sqlite_run(sq, ST_COMMIT, "commit", cause) == -1) {
		/* A failed COMMIT may leave the transaction open. */
		if (!sqlite3_get_autocommit(sq->db))
			store_sqlite_run(sq, ST_ROLLBACK, "rollback", NULL);
		store_sqlite_inbox_clear(sq);
		sq->lost = false;
		sq->item = false;
		return (-1);
	}
	store_sqlite_inbox_clear(sq);
	return (0);
}

/* Abandon the group, rows and cached cursors alike. */
static void
store_sqlite_rollback(void *be)
{
	struct store_sqlite	*sq = be;

	if (!sqlite3_get_autocommit(sq->db))
		store_sqlite_run(sq, ST_ROLLBACK, "rollback", NULL);
	store_sqlite_inbox_clear(sq);
	sq->lost = false;
	sq->item = false;
}

/*
 * Call cb for each delivery statement st finds for recipient with
 * after < seq <= upto, in order, at most limit (0: all); what names
 * the walk in a cause.  The row's pointers are valid only during the
 * callback.
 */
static int
store_sqlite_inbox_walk(struct store_sqlite *sq, sqlite3_stmt *st,
    const char *what, const char *recipient, uint64_t after, uint64_t upto,
    size_t limit, store_delivery_cb cb, void *arg, char **cause)
{
	struct store_delivery	 d;
	int			 rc, rv = 0;

	/* No cursor can be that high. */
	if (after >= INT64_MAX)
		return (0);
	store_sqlite_bind_text(st, 1, recipient);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)after);
	sqlite3_bind_int64(st, 3, limit == 0 || limit > INT64_MAX ? -1 :
	    (sqlite3_int64)limit);
	sqlite3_bind_int64(st, 4, upto > INT64_MAX ? INT64_MAX :
	    (sqlite3_int64)upto);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (store_sqlite_row(st, &d) == -1) {
			rc = SQLITE_NOMEM;
			break;
		}
		if (cb(&d, arg) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		rv = store_sqlite_fail(sq, cause, "read %s of %s", what,
		    recipient);
	store_sqlite_reset(st);
	return (rv);
}

/* Each unacknowledged delivery of recipient after the cursor, in order. */
static int
store_sqlite_pending(void *be, const char *recipient, uint64_t after,
    uint64_t upto, size_t limit, store_delivery_cb cb, void *arg,
    char **cause)
{
	struct store_sqlite	*sq = be;

	return (store_sqlite_inbox_walk(sq, sq->st[ST_PENDING],
	    "pending deliveries", recipient, after, upto, limit, cb, arg,
	    cause));
}

/*
 * Each delivery of recipient, acknowledged or not, in order: the inbox
 * as a TAXII reader reads it.
 */
static int
store_sqlite_inbox_read(void *be, const char *recipient, uint64_t after,
    uint64_t upto, size_t limit, store_delivery_cb cb, void *arg,
    char **cause)
{
	struct store_sqlite	*sq = be;

	return (store_sqlite_inbox_walk(sq, sq->st[ST_INBOX_READ], "the inbox",
	    recipient, after, upto, limit, cb, arg, cause));
}

/* When delivery i was sent: its sent time if known and sane, else now. */
static int64_t
store_sqlite_sent_at(const int64_t *sent, size_t i, int64_t now)
{
	return (sent != NULL && sent[i] > 0 && sent[i] <= now ? sent[i] :
	    now);
}

/*
 * Mark seqs of recipient acknowledged at now.  All or none: inside a
 * group through a savepoint, otherwise in a transaction of its own.
 */
static int
store_sqlite_ack(void *be, const char *recipient, const uint64_t *seqs,
    const int64_t *sent, size_t n, int64_t now, size_t *nacked, char **cause)
{
	struct store_sqlite	*sq = be;
	sqlite3_stmt		*st = sq->st[ST_ACK];
	size_t			 i, j, count = 0;
	uint64_t		 from;
	int64_t			 at;
	bool			 own;

	/* Acks in a lost group would be rolled back with it. */
	if (sq->lost) {
		store_sqlite_lost(sq, "ack", cause);
		return (-1);
	}
	own = sqlite3_get_autocommit(sq->db) != 0;
	if (own && store_sqlite_durable(sq, cause) == -1)
		return (-1);
	if (store_sqlite_run(sq, own ? ST_BEGIN : ST_SAVEPOINT,
	    "ack: begin", cause) == -1)
		return (-1);
	for (i = 0; i < n; i = j) {
		at = store_sqlite_sent_at(sent, i, now);
		/* The run: following seqs, one apart, sent at the same time. */
		for (j = i + 1; j < n && seqs[j] == seqs[j - 1] + 1 &&
		    store_sqlite_sent_at(sent, j, now) == at; j++)
			;
		/*
		 * An unknown seq is not an error: it just acks nothing.  No
		 * delivery has seq 0, but the run after it still counts.
		 */
		from = seqs[i] == 0 ? 1 : seqs[i];
		if (from > INT64_MAX)
			continue;
		store_sqlite_bind_text(st, 1, recipient);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)from);
		sqlite3_bind_int64(st, 3, now);
		sqlite3_bind_int64(st, 4, at);
		sqlite3_bind_int64(st, 5, seqs[j - 1] > INT64_MAX ? INT64_MAX :
		    (sqlite3_int64)seqs[j - 1]);
		if (sqlite3_step(st) != SQLITE_DONE) {
			store_sqlite_fail(sq, cause, "ack %llu to %llu of %s",
			    (unsigned long long)seqs[i],
			    (unsigned long long)seqs[j - 1], recipient);
			store_sqlite_reset(st);
			goto fail;
		}
		store_sqlite_reset(st);
		count += (size_t)sqlite3_changes(sq->db);
	}
	if (count > 0) {
		st = sq->st[ST_ACKED_THROUGH];
		store_sqlite_bind_text(st, 1, recipient);
		if (sqlite3_step(st) != SQLITE_DONE) {
			store_sqlite_fail(sq, cause, "ack: move the "
			    "acknowledged mark of %s", recipient);
			store_sqlite_reset(st);
			goto fail;
		}
		store_sqlite_reset(st);
	}
	if (store_sqlite_run(sq, own ? ST_COMMIT : ST_RELEASE, "ack: commit",
	    cause) == -1)
		goto fail;
	*nacked = count;
	return (0);

fail:
	if (own) {
		if (!sqlite3_get_autocommit(sq->db))
			store_sqlite_run(sq, ST_ROLLBACK, "rollback", NULL);
	} else
		store_sqlite_savepoint_undo(sq);
	return (-1);
}

/*
 * Show hub_id to org.  A recipient sees its delivery (cursor, reason,
 * acknowledgement); a sender that is not also a recipient sees it as
 * "sent".  An unknown hub_id and a message org may not see both return 1,
 * so that the answer does not tell which.
 */
static int
store_sqlite_fetch(void *be, const char *org, const char *hub_id,
    store_delivery_cb cb, void *arg, char **cause)
{
	struct store_sqlite	*sq = be;
	sqlite3_stmt		*st = sq->st[ST_FETCH];
	struct store_delivery	 d;
	int			 rc, rv = -1;

	store_sqlite_bind_text(st, 1, hub_id);
	store_sqlite_bind_text(st, 2, org);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		rv = 1;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto fail;

	if (store_sqlite_row(st, &d) == -1)
		goto fail;
	/* Not a recipient: only the sender sees it, with the message's hop. */
	if (d.seq == 0) {
		if (strcmp(d.sender, org) != 0) {
			rv = 1;
			goto out;
		}
		d.recipient = org;
		d.reason = "sent";
	}
	cb(&d, arg);
	rv = 0;
	goto out;

fail:
	store_sqlite_fail(sq, cause, "fetch %s for %s", hub_id, org);
out:
	store_sqlite_reset(st);
	return (rv);
}

/*
 * The recipient's last assigned cursor (as the open group sees it, if
 * any) and how many of its deliveries are unacknowledged.
 */
static int
store_sqlite_inbox_state(void *be, const char *recipient, uint64_t *last_seq,
    uint64_t *pending, char **cause)
{
	struct store_sqlite		*sq = be;
	struct store_sqlite_inbox	*ib;
	sqlite3_stmt			*st;
	int				 rc;

	if (!sqlite3_get_autocommit(sq->db)) {
		if ((ib = store_sqlite_inbox_get(sq, recipient, cause)) == NULL)
			return (-1);
		*last_seq = ib->last_seq;
	} else {
		st = sq->st[ST_INBOX_GET];
		store_sqlite_bind_text(st, 1, recipient);
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			store_sqlite_fail(sq, cause, "read inbox of %s",
			    recipient);
			store_sqlite_reset(st);
			return (-1);
		}
		*last_seq = rc == SQLITE_ROW ?
		    (uint64_t)sqlite3_column_int64(st, 0) : 0;
		store_sqlite_reset(st);
	}

	st = sq->st[ST_INBOX_PENDING];
	store_sqlite_bind_text(st, 1, recipient);
	if (sqlite3_step(st) != SQLITE_ROW) {
		store_sqlite_fail(sq, cause, "count pending of %s", recipient);
		store_sqlite_reset(st);
		return (-1);
	}
	*pending = (uint64_t)sqlite3_column_int64(st, 0);
	store_sqlite_reset(st);
	return (0);
}

/* Deliveries held for their holder's review, and the oldest's time. */
static int
store_sqlite_held_count(void *be, uint64_t *n, int64_t *oldest,
    char **cause)
{
	struct store_sqlite	*sq = be;
	sqlite3_stmt		*st = sq->st[ST_HELD_COUNT];

	if (sqlite3_step(st) != SQLITE_ROW) {
		store_sqlite_fail(sq, cause, "count held messages");
		store_sqlite_reset(st);
		return (-1);
	}
	*n = (uint64_t)sqlite3_column_int64(st, 0);
	*oldest = sqlite3_column_int64(st, 1);
	store_sqlite_reset(st);
	return (0);
}

/*
 * Record when recipient's delivery seq first went out.  Inside a group
 * the mark is part of it.  Outside one it is a commit of its own but not
 * worth an fsync: nothing is acknowledged on it, WAL mode keeps the file
 * consistent without one, and the next durable commit's fsync of the log
 * carries it to the disk.  A crash before then loses only the time, and
 * the delivery, unacknowledged, goes out again and is marked again.  It
 * saves an fsync for every delivery the hub sends.
 */
static int
store_sqlite_mark_delivered(void *be, const char *recipient, uint64_t seq,
    int64_t now, char **cause)
{
	struct store_sqlite	*sq = be;
	sqlite3_stmt		*st = sq->st[ST_MARK_DELIVERED];
	int			 rv = 0;
	bool			 own;

	if (sq->lost) {
		store_sqlite_lost(sq, "mark delivered", cause);
		return (-1);
	}
	own = sqlite3_get_autocommit(sq->db) != 0;
	if (own) {
		/* Set before the pragma: on failure it is retried anyway. */
		sq->relaxed = true;
		if (store_sqlite_exec(sq, "PRAGMA synchronous = NORMAL",
		    "mark delivered: lower synchronous", cause) == -1)
			return (-1);
	}
	store_sqlite_bind_text(st, 1, recipient);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
	sqlite3_bind_int64(st, 3, now);
	if (sqlite3_step(st) != SQLITE_DONE)
		rv = store_sqlite_fail(sq, cause, "mark %llu of %s delivered",
		    (unsigned long long)seq, recipient);
	store_sqlite_reset(st);
	/* If this fails, the next durable transaction tries again first. */
	if (own)
		store_sqlite_durable(sq, NULL);
	return (rv);
}

/*
 * Run a bound one-statement change: outside a group as a durable
 * transaction of its own, inside one as part of it (refused if the group
 * is lost, where it would be rolled back with it).  *changed is how many
 * rows it touched.  The statement is reset either way.
 */
static int
store_sqlite_change(struct store_sqlite *sq, enum store_sqlite_st which,
    const char *op, int *changed, char **cause)
{
	if (sq->lost) {
		store_sqlite_lost(sq, op, cause);
		store_sqlite_reset(sq->st[which]);
		return (-1);
	}
	if (sqlite3_get_autocommit(sq->db) &&
	    store_sqlite_durable(sq, cause) == -1) {
		store_sqlite_reset(sq->st[which]);
		return (-1);
	}
	if (store_sqlite_run(sq, which, op, cause) == -1)
		return (-1);
	*changed = sqlite3_changes(sq->db);
	return (0);
}

/* Record that holder forwarded its delivery of hub_id; the first time stays. */
static int
store_sqlite_mark_forwarded(void *be, const char *holder, const char *hub_id,
    int64_t now, char **cause)
{
	struct store_sqlite	*sq = be;
	sqlite3_stmt		*st = sq->st[ST_MARK_FORWARDED];
	char			 op[128];
	int			 changed;

	snprintf(op, sizeof(op), "mark %s forwarded by %s", hub_id, holder);
	store_sqlite_bind_text(st, 1, holder);
	store_sqlite_bind_text(st, 2, hub_id);
	sqlite3_bind_int64(st, 3, now);
	if (store_sqlite_change(sq, ST_MARK_FORWARDED, op, &changed,
	    cause) == -1)
		return (-1);
	return (changed == 0 ? 1 : 0);
}

/*
 * Step st and call cb with each row until cb asks to stop.  A row without
 * a delivery is shown as the message itself, with reason "stored".
 * Counts the rows into *n; -1 with a cause naming what and key on error.
 * Resets st.
 */
static int
store_sqlite_each(struct store_sqlite *sq, sqlite3_stmt *st,
    store_delivery_cb cb, void *arg, size_t *n, const char *what,
    const char *key, char **cause)
{
	struct store_delivery	 d;
	int			 rc, rv = 0;

	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (store_sqlite_row(st, &d) == -1) {
			rc = SQLITE_NOMEM;
			break;
		}
		if (d.seq == 0)
			d.reason = "stored";
		(*n)++;
		if (cb(&d, arg) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		rv = store_sqlite_fail(sq, cause, "%s %s", what, key);
	store_sqlite_reset(st);
	return (rv);
}

/* The message hub_id whoever asks; 1 if there is none. */
static int
store_sqlite_message(void *be, const char *hub_id, store_delivery_cb cb,
    void *arg, char **cause)
{
	struct store_sqlite	*sq = be;
	sqlite3_stmt		*st = sq->st[ST_MESSAGE];
	size_t			 n;

	store_sqlite_bind_text(st, 1, hub_id);
	if (store_sqlite_each(sq, st, cb, arg, &n, "read message", hub_id,
	    cause) == -1)
		return (-1);
	return (n == 0 ? 1 : 0);
}

/* org's delivery of hub_id; 1 if it has none, sender or not. */
static int
store_sqlite_delivery_of(void *be, const char *org, const char *hub_id,
    store_delivery_cb cb, void *arg, char **cause)
{
	struct store_sqlite	*sq = be;
	sqlite3_stmt		*st = sq->st[ST_DELIVERY_OF];
	size_t			 n;

	store_sqlite_bind_text(st, 1, hub_id);
	store_sqlite_bind_text(st, 2, org);
	if (store_sqlite_each(sq, st, cb, arg, &n, "read delivery of", hub_id,
	    cause) == -1)
		return (-1);
	return (n == 0 ? 1 : 0);
}

/* Every delivery of hub_id and of the forms derived from it, by hop. */
static int
store_sqlite_receipts(void *be, const char *hub_id, store_delivery_cb cb,
    void *arg, char **cause)
{
	struct store_sqlite	*sq = be;
	sqlite3_stmt		*st = sq->st[ST_RECEIPTS];
	size_t			 n;

	store_sqlite_bind_text(st, 1, hub_id);
	return (store_sqlite_each(sq, st, cb, arg, &n, "read receipts of",
	    hub_id, cause));
}

/* What waits for org's review, oldest first. */
static int
store_sqlite_held(void *be, const char *org, store_delivery_cb cb, void *arg,
    char **cause)
{
	struct store_sqlite	*sq = be;
	sqlite3_stmt		*st = sq->st[ST_HELD];
	size_t			 n;

	store_sqlite_bind_text(st, 1, org);
	return (store_sqlite_each(sq, st, cb, arg, &n, "read what waits for "
	    "the review of", org, cause));
}

/* How many originals sender has stored in chain chain_id. */
static int
store_sqlite_chain_count(void *be, const char *sender, const char *chain_id,
    uint64_t *n, char **cause)
{
	struct store_sqlite	*sq = be;
	sqlite3_stmt		*st = sq->st[ST_CHAIN_COUNT];
	int			 rc, rv = 0;

	store_sqlite_bind_text(st, 1, sender);
	store_sqlite_bind_text(st, 2, chain_id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(st, 0);
	else
		rv = store_sqlite_fail(sq, cause, "count the reports of chain "
		    "%s of %s", chain_id, sender);
	store_sqlite_reset(st);
	return (rv);
}

/* The messages answering hub_id, in the order they were stored. */
static int
store_sqlite_replies(void *be, const char *hub_id, store_delivery_cb cb,
    void *arg, char **cause)
{
	struct store_sqlite	*sq = be;
	sqlite3_stmt		*st = sq->st[ST_REPLIES];
	size_t			 n;

	store_sqlite_bind_text(st, 1, hub_id);
	return (store_sqlite_each(sq, st, cb, arg, &n, "read replies to",
	    hub_id, cause));
}

/*
 * Keep packed as the widened sharing range of the original hub_id; 1 if
 * hub_id is unknown or a derived form, which carry their original's.
 */
static int
store_sqlite_set_sharing(void *be, const char *hub_id, const uint8_t *packed,
    size_t len, char **cause)
{
	struct store_sqlite	*sq = be;
	sqlite3_stmt		*st = sq->st[ST_SET_SHARING];
	char			 op[96];
	int			 changed;

	snprintf(op, sizeof(op), "set the sharing range of %s", hub_id);
	store_sqlite_bind_text(st, 1, hub_id);
	store_sqlite_bind_blob(st, 2, packed, len);
	if (store_sqlite_change(sq, ST_SET_SHARING, op, &changed,
	    cause) == -1)
		return (-1);
	return (changed == 0 ? 1 : 0);
}

/*
 * Run a one-integer query, bound with ?1 = v if bind.  Where isnull is
 * given, no row (or NULL) sets it instead of being an error.
 */
static int
store_sqlite_count_of(struct store_sqlite *sq, enum store_sqlite_st which,
    bool bind, sqlite3_int64 v, sqlite3_int64 *out, bool *isnull,
    const char *op, char **cause)
{
	sqlite3_stmt	*st = sq->st[which];
	int		 rv = 0;

	int		 rc;

	if (bind)
		sqlite3_bind_int64(st, 1, v);
	*out = 0;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE || isnull == NULL)
		rv = store_sqlite_fail(sq, cause, "%s", op);
	/* No row at all is the answer "none" where one is allowed. */
	if (isnull != NULL)
		*isnull = rc != SQLITE_ROW ||
		    sqlite3_column_type(st, 0) == SQLITE_NULL;
	store_sqlite_reset(st);
	return (rv);
}

/*
 * The distinct key ids of the stored bodies, ascending, walking the index
 * from one to the next, and how many bodies are unsealed.
 */
static int
store_sqlite_key_ids(void *be, uint32_t *ids, size_t max, size_t *n,
    uint64_t *unsealed, char **cause)
{
	struct store_sqlite	*sq = be;
	sqlite3_int64		 v, next = -1;
	bool			 isnull;

	*n = 0;
	if (store_sqlite_count_of(sq, ST_KEY_UNSEALED, false, 0, &v, NULL,
	    "count unsealed bodies", cause) == -1)
		return (-1);
	*unsealed = (uint64_t)v;
	for (;;) {
		if (store_sqlite_count_of(sq, ST_KEY_NEXT, true, next, &v,
		    &isnull, "list the keys of the bodies", cause) == -1)
			return (-1);
		if (isnull)
			return (0);
		if (*n < max)
			ids[*n] = (uint32_t)v;
		(*n)++;
		/* More than fit: the caller knows enough already. */
		if (*n > max)
			return (0);
		next = v;
	}
}

/* The number of bodies sealed under key_id. */
static int
store_sqlite_key_count(void *be, uint32_t key_id, uint64_t *n, char **cause)
{
	struct store_sqlite	*sq = be;
	sqlite3_int64		 v;

	if (store_sqlite_count_of(sq, ST_KEY_COUNT, true, key_id, &v, NULL,
	    "count the bodies of a key", cause) == -1)
		return (-1);
	*n = (uint64_t)v;
	return (0);
}

/* Walk up to limit bodies after seq after that need sealing again. */
static int
store_sqlite_stale(void *be, bool stale, uint32_t key_id, uint64_t after,
    size_t limit, int (*cb)(uint64_t, const char *, const char *, bool,
    const uint8_t *, size_t, void *), void *arg, char **cause)
{
	struct store_sqlite	*sq = be;
	sqlite3_stmt		*st;
	const char		*hub_id, *sender;
	const uint8_t		*body;
	size_t			 len;
	int			 rc, rv = 0;

	if (store_sqlite_lost(sq, "read bodies to seal", cause))
		return (-1);
	st = sq->st[stale ? ST_STALE_OTHER : ST_STALE_UNSEALED];
	if (stale)
		sqlite3_bind_int64(st, 1, (sqlite3_int64)key_id);
	sqlite3_bind_int64(st, 2, after > INT64_MAX ? INT64_MAX :
	    (sqlite3_int64)after);
	sqlite3_bind_int64(st, 3, limit > INT64_MAX ? -1 :
	    (sqlite3_int64)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hub_id = store_sqlite_text(st, 1);
		sender = store_sqlite_text(st, 2);
		if (hub_id == NULL || sender == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		body = store_sqlite_blob(st, 4, &len);
		if (cb((uint64_t)sqlite3_column_int64(st, 0), hub_id, sender,
		    sqlite3_column_int(st, 3) != 0, body, len, arg) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		rv = store_sqlite_fail(sq, cause, "read bodies to seal");
	store_sqlite_reset(st);
	return (rv);
}

/* Replace message seq's body, digest and key inside the open group. */
static int
store_sqlite_reseal(void *be, uint64_t seq, const uint8_t *body, size_t len,
    const unsigned char digest[32], uint32_t key_id, char **cause)
{
	struct store_sqlite	*sq = be;
	sqlite3_stmt		*st = sq->st[ST_RESEAL];
	char			 op[64];
	int			 changed;

	snprintf(op, sizeof(op), "seal the body of message %llu",
	    (unsigned long long)seq);
	if (sqlite3_get_autocommit(sq->db)) {
		cause_set(cause, "store %s: %s outside a transaction",
		    sq->path, op);
		return (-1);
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	store_sqlite_bind_blob(st, 2, body, len);
	store_sqlite_bind_blob(st, 3, digest, STORE_SQLITE_DIGEST_LEN);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)key_id);
	if (store_sqlite_change(sq, ST_RESEAL, op, &changed, cause) == -1)
		return (-1);
	if (changed != 1) {
		cause_set(cause, "store %s: %s: no such message",
		    sq->path, op);
		return (-1);
	}
	return (0);
}

/*
 * Copy the log into the database and truncate it to nothing, so that the
 * old bodies a rekey or migration replaced are in neither file (secure
 * delete has zeroed them in the database).  A reader elsewhere, such as a
 * running hub, can keep the log from being emptied; it is then reused
 * from its start and its old frames are overwritten as the hub goes on.
 */
static int
store_sqlite_scrub(void *be, char **cause)
{
	struct store_sqlite	*sq = be;

	if (!sqlite3_get_autocommit(sq->db)) {
		cause_set(cause, "store %s: cannot truncate the log "
		    "inside a transaction", sq->path);
		return (-1);
	}
	if (store_sqlite_durable(sq, cause) == -1)
		return (-1);
	return (store_sqlite_exec(sq, "PRAGMA wal_checkpoint(TRUNCATE)",
	    "truncate the write-ahead log", cause));
}

/*
 * After each commit on the loop's connection: how many frames the log
 * holds, for the sync thread to decide when to checkpoint.  (The log
 * file keeps its size when SQLite starts it over, so its size says
 * nothing.)
 */
static int
store_sqlite_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store_sqlite	*sq = arg;

	__atomic_store_n(&sq->wal_frames, frames, __ATOMIC_RELAXED);
	return (SQLITE_OK);
}

/*
 * Pipelined durability.  From here on the hub's connection commits
 * without syncing (synchronous=OFF) and never checkpoints on its own;
 * instead store_sqlite_sync, run by the sync thread, makes everything
 * committed so far durable with one fdatasync of the write-ahead log,
 * while the event loop goes on reading, routing and committing the next
 * group.  Nothing is acknowledged before that fdatasync returns.  The log
 * is copied into the database only by the sync thread's own connection
 * at synchronous=FULL, which syncs the database before SQLite may reuse
 * the log, so no frame is overwritten before it is on disk twice.  Both
 * connections and the log's descriptor are opened here, before the hub
 * confines itself.
 */
static int
store_sqlite_pipeline(void *be, char **cause)
{
	struct store_sqlite	*sq = be;
	char			*wal = NULL;

	if (sq->wal_fd != -1)
		return (0);
	if (sqlite3_open_v2(sq->path, &sq->ckpt, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		cause_set(cause, "store %s: open the checkpoint "
		    "connection: %s", sq->path, sq->ckpt ?
		    sqlite3_errmsg(sq->ckpt) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(sq->ckpt, 1);
	sqlite3_busy_timeout(sq->ckpt, STORE_SQLITE_BUSY_MS);
	if (sqlite3_exec(sq->ckpt, "PRAGMA synchronous = FULL;"
	    "PRAGMA fullfsync = ON; PRAGMA checkpoint_fullfsync = ON;"
	    "PRAGMA journal_size_limit = 67108864", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		cause_set(cause, "store %s: set up the checkpoint "
		    "connection: %s", sq->path, sqlite3_errmsg(sq->ckpt));
		goto fail;
	}
	/* Opening the database in WAL mode made the log; it stays open. */
	if (asprintf(&wal, "%s-wal", sq->path) == -1) {
		wal = NULL;
		cause_set(cause, "store %s: out of memory", sq->path);
		goto fail;
	}
	if ((sq->wal_fd = open(wal, O_RDWR | O_CLOEXEC)) == -1) {
		cause_set(cause, "store %s: open %s: %s", sq->path,
		    wal, strerror(errno));
		goto fail;
	}
	if (store_sqlite_exec(sq, "PRAGMA synchronous = OFF;"
	    "PRAGMA wal_autocheckpoint = 0", "pipeline the commits",
	    cause) == -1)
		goto fail;
	sqlite3_wal_hook(sq->db, store_sqlite_wal_hook, sq);
	sq->relaxed = false;
	free(wal);
	return (0);

fail:
	free(wal);
	if (sq->wal_fd != -1)
		close(sq->wal_fd);
	sq->wal_fd = -1;
	if (sq->ckpt != NULL)
		sqlite3_close_v2(sq->ckpt);
	sq->ckpt = NULL;
	return (-1);
}

/*
 * On the sync thread: make every committed group durable.  Normally one
 * fdatasync of the log.  After a failed one (full), the kernel may have
 * dropped the log's pages unwritten and would not say so twice, so the
 * whole log is copied into the database and the database synced instead;
 * only a checkpoint that copied every frame counts.
 */
static int
store_sqlite_sync(void *be, bool full, char **cause)
{
	struct store_sqlite	*sq = be;
	int			 nlog = 0, nckpt = 0, rc;

	if (sq->wal_fd == -1) {
		cause_set(cause, "store %s: not pipelined", sq->path);
		return (-1);
	}
	if (!full) {
		if (fdatasync(sq->wal_fd) == 0)
			return (0);
		cause_set(cause, "store %s: fdatasync of the "
		    "write-ahead log: %s", sq->path, strerror(errno));
		return (-1);
	}
	rc = sqlite3_wal_checkpoint_v2(sq->ckpt, NULL, SQLITE_CHECKPOINT_FULL,
	    &nlog, &nckpt);
	if (rc != SQLITE_OK) {
		cause_set(cause, "store %s: copy the write-ahead log "
		    "into the database: %s", sq->path, sqlite3_errmsg(sq->ckpt));
		return (-1);
	}
	if (nlog != nckpt) {
		cause_set(cause, "store %s: copy the write-ahead log "
		    "into the database: only %d of %d frames (a reader held "
		    "the rest)", sq->path, nckpt, nlog);
		return (-1);
	}
	return (0);
}

/*
 * On the sync thread, after a sync: once the log holds limit bytes of
 * frames, copy what no reader needs into the database (a passive
 * checkpoint, which never waits for the event loop), so that the log is
 * started over.
 */
static void
store_sqlite_checkpoint(void *be, uint64_t limit)
{
	struct store_sqlite	*sq = be;
	uint64_t		 frames;
	int			 nlog, nckpt;

	frames = (uint64_t)__atomic_load_n(&sq->wal_frames, __ATOMIC_RELAXED);
	if (sq->wal_fd == -1 || frames * STORE_SQLITE_PAGE_BYTES < limit)
		return;
	sqlite3_wal_checkpoint_v2(sq->ckpt, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    &nlog, &nckpt);
}

/*
 * Remove messages committed but never made durable, and their
 * deliveries, so that what the hub refused is not delivered later; and
 * put back, in the order given, the marks made with them.  The
 * recipients' cursors stay where they are: a gap in an inbox is allowed.
 */
static int
store_sqlite_undo(void *be, const uint64_t *seqs, size_t n,
    const struct store_undo_mark *marks, size_t nmarks, char **cause)
{
	struct store_sqlite	*sq = be;
	sqlite3_stmt		*del_d = NULL, *del_m = NULL;
	sqlite3_stmt		*unfwd = NULL, *unshare = NULL, *st;
	size_t			 i;
	int			 rv = -1;

	if (store_sqlite_run(sq, ST_BEGIN, "undo: begin", cause) == -1)
		return (-1);
	if (sqlite3_prepare_v2(sq->db, "DELETE FROM deliveries"
	    " WHERE message_seq = ?1", -1, &del_d, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(sq->db, "DELETE FROM messages WHERE seq = ?1",
	    -1, &del_m, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(sq->db, "UPDATE deliveries SET forwarded_at ="
	    " NULL WHERE recipient = ?1 AND message_seq ="
	    " (SELECT seq FROM messages WHERE hub_id = ?2)", -1, &unfwd,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(sq->db, "UPDATE messages SET sharing = ?2"
	    " WHERE hub_id = ?1 AND origin IS NULL", -1, &unshare, NULL) !=
	    SQLITE_OK) {
		store_sqlite_fail(sq, cause, "undo: prepare");
		goto out;
	}
	for (i = 0; i < nmarks; i++) {
		if (marks[i].sharing) {
			st = unshare;
			sqlite3_bind_text(st, 1, marks[i].hub_id, -1,
			    SQLITE_STATIC);
			if (marks[i].old != NULL)
				sqlite3_bind_blob(st, 2, marks[i].old,
				    (int)marks[i].oldlen, SQLITE_STATIC);
			else
				sqlite3_bind_null(st, 2);
		} else {
			st = unfwd;
			sqlite3_bind_text(st, 1, marks[i].holder, -1,
			    SQLITE_STATIC);
			sqlite3_bind_text(st, 2, marks[i].hub_id, -1,
			    SQLITE_STATIC);
		}
		if (sqlite3_step(st) != SQLITE_DONE) {
			store_sqlite_fail(sq, cause, "undo the mark of %s",
			    marks[i].hub_id);
			goto out;
		}
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(del_d, 1, (sqlite3_int64)seqs[i]);
		sqlite3_bind_int64(del_m, 1, (sqlite3_int64)seqs[i]);
		if (sqlite3_step(del_d) != SQLITE_DONE ||
		    sqlite3_step(del_m) != SQLITE_DONE) {
			store_sqlite_fail(sq, cause, "undo message %llu",
			    (unsigned long long)seqs[i]);
			goto out;
		}
		sqlite3_reset(del_d);
		sqlite3_reset(del_m);
	}
	rv = store_sqlite_run(sq, ST_COMMIT, "undo: commit", cause);
out:
	sqlite3_finalize(del_d);
	sqlite3_finalize(del_m);
	sqlite3_finalize(unfwd);
	sqlite3_finalize(unshare);
	if (rv == -1 && !sqlite3_get_autocommit(sq->db))
		store_sqlite_run(sq, ST_ROLLBACK, "rollback", NULL);
	return (rv);
}

const struct store_backend store_backend_sqlite = {
	.name = "sqlite",
	.prefix = "sqlite:",
	.open = store_sqlite_open,
	.close = store_sqlite_close,
	.begin = store_sqlite_begin,
	.lookup_uuid = store_sqlite_lookup_uuid,
	.insert = store_sqlite_insert,
	.commit = store_sqlite_commit,
	.rollback = store_sqlite_rollback,
	.pending = store_sqlite_pending,
	.inbox_read = store_sqlite_inbox_read,
	.ack = store_sqlite_ack,
	.fetch = store_sqlite_fetch,
	.inbox_state = store_sqlite_inbox_state,
	.held_count = store_sqlite_held_count,
	.mark_delivered = store_sqlite_mark_delivered,
	.mark_forwarded = store_sqlite_mark_forwarded,
	.message = store_sqlite_message,
	.delivery_of = store_sqlite_delivery_of,
	.receipts = store_sqlite_receipts,
	.held = store_sqlite_held,
	.item = store_sqlite_item,
	.chain_count = store_sqlite_chain_count,
	.replies = store_sqlite_replies,
	.set_sharing = store_sqlite_set_sharing,
	.key_ids = store_sqlite_key_ids,
	.key_count = store_sqlite_key_count,
	.stale = store_sqlite_stale,
	.reseal = store_sqlite_reseal,
	.scrub = store_sqlite_scrub,
	.pipeline = store_sqlite_pipeline,
	.sync = store_sqlite_sync,
	.checkpoint = store_sqlite_checkpoint,
	.undo = store_sqlite_undo,
};
