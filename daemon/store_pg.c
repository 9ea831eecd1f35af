/*
 * The PostgreSQL store ("postgresql:<libpq connection string>"), for
 * hubs that outgrow one machine: several ceptoard nodes on one database,
 * which streaming replication keeps on a standby.  Built when libpq is
 * found (pkg-config libpq); the rows are the SQLite backend's, and
 * store.c seals every body before it gets here, so the database never
 * sees a report in the clear.
 *
 * This first version talks to the server with libpq's blocking calls,
 * one statement at a time, on the calling thread, which is the event
 * loop: a slow server stalls the hub.  Where it is heading: the
 * connection non-blocking (PQsetnonblocking) in pipeline mode
 * (PQenterPipelineMode), its PQsocket watched by an event on the hub's
 * loop; each store request queues its statements and a completion
 * callback, PQconsumeInput and PQgetResult on readability hand results
 * to the completions in order, and a group's COMMIT is the one round
 * trip a submit waits for (the role durable.c's sync plays for SQLite).
 * That needs the asynchronous store boundary first.  It has no pipeline,
 * sync, checkpoint, undo or scrub: COMMIT returning is the durability
 * promise (with synchronous_commit on, and on the standby too when
 * synchronous_standby_names names it), and replaced bodies are the
 * server's to vacuum.
 *
 * Per-inbox sequence numbers: an insert takes the inbox's next number
 * with INSERT ... ON CONFLICT DO UPDATE on its inboxes row, whose row
 * lock it holds until its transaction ends.  A second writer to the same
 * inbox, on this node or another, waits for that lock and so takes the
 * next number only after the first has committed (or rolled back, which
 * gives the number back): numbers become visible in order, and a reader
 * following its cursor can never pass a row that commits later.  The
 * price is that writers to one inbox are serialised, for the length of a
 * group.
 *
 * Schema: versioned migrations in store_pg_steps, run under an advisory
 * lock so that nodes starting together migrate once; the version is in
 * ceptoard_meta.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "ceptoard.h"

#define STORE_PG_VERSION	1
#define STORE_PG_DIGEST_LEN	32
#define STORE_PG_MAXPARAMS	16
/* Any constant: the advisory lock that serialises migrations. */
#define STORE_PG_MIGRATE_LOCK	"4342505453544f52"

/* Step i takes the schema from version i to version i + 1. */
static const char *const store_pg_steps[STORE_PG_VERSION] = {
	/* Version 1: the SQLite backend's version 5, in PostgreSQL's types. */
	"CREATE TABLE messages (\n"
	"	seq		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
	"	hub_id		text NOT NULL UNIQUE,\n"
	"	sender		text NOT NULL,\n"
	"	uuid		text NOT NULL,\n"
	"	kind		text NOT NULL,\n"
	"	received_at	bigint NOT NULL,\n"
	"	body		bytea NOT NULL,\n"
	"	digest		bytea NOT NULL CHECK (length(digest) = 32),\n"
	"	origin		text,\n"
	"	chain_id	text,\n"
	"	form		bigint NOT NULL DEFAULT 1 CHECK (form IN (1, 2)),\n"
	"	hop		bigint NOT NULL DEFAULT 0 CHECK (hop >= 0),\n"
	"	in_reply_to	text,\n"
	"	sharing		bytea,\n"
	"	key_id		bigint CHECK (key_id BETWEEN 0 AND 4294967295),\n"
	"	UNIQUE (sender, uuid)\n"
	");\n"
	"CREATE TABLE inboxes (\n"
	"	recipient	text PRIMARY KEY,\n"
	"	last_seq	bigint NOT NULL CHECK (last_seq > 0),\n"
	"	acked_through	bigint NOT NULL DEFAULT 0\n"
	"			CHECK (acked_through >= 0)\n"
	");\n"
	"CREATE TABLE deliveries (\n"
	"	recipient	text NOT NULL,\n"
	"	seq		bigint NOT NULL CHECK (seq > 0),\n"
	"	message_seq	bigint NOT NULL REFERENCES messages (seq),\n"
	"	reason		text NOT NULL,\n"
	"	acked_at	bigint CHECK (acked_at > 0),\n"
	"	hop		bigint NOT NULL DEFAULT 0 CHECK (hop >= 0),\n"
	"	form		bigint NOT NULL DEFAULT 1 CHECK (form IN (1, 2)),\n"
	"	review		boolean NOT NULL DEFAULT false,\n"
	"	delivered_at	bigint CHECK (delivered_at > 0),\n"
	"	forwarded_at	bigint CHECK (forwarded_at > 0),\n"
	"	hidden		boolean NOT NULL DEFAULT false,\n"
	"	PRIMARY KEY (recipient, seq),\n"
	"	UNIQUE (message_seq, recipient)\n"
	");\n"
	"CREATE INDEX messages_origin ON messages (origin)\n"
	"	WHERE origin IS NOT NULL;\n"
	"CREATE INDEX messages_chain ON messages (sender, chain_id)\n"
	"	WHERE chain_id IS NOT NULL;\n"
	"CREATE INDEX messages_reply ON messages (in_reply_to)\n"
	"	WHERE in_reply_to IS NOT NULL;\n"
	"CREATE INDEX messages_key ON messages (key_id);\n"
	"CREATE INDEX deliveries_held ON deliveries (recipient, seq)\n"
	"	WHERE review AND forwarded_at IS NULL;\n",
};

/* The columns of a row that becomes a struct store_delivery. */
#define STORE_PG_MCOLS							\
	"m.hub_id, m.sender, m.kind, m.received_at, m.seq, m.origin,"	\
	" m.chain_id, m.in_reply_to, m.hop, m.form,"			\
	" CASE WHEN m.origin IS NULL THEN m.sharing ELSE o.sharing END"
#define STORE_PG_DCOLS							\
	"d.recipient, d.seq, d.reason, d.hop, d.form,"			\
	" CASE WHEN d.review THEN 1::int8 ELSE 0::int8 END,"		\
	" d.acked_at, d.delivered_at, d.forwarded_at,"			\
	" CASE WHEN d.hidden THEN 1::int8 ELSE 0::int8 END"
#define STORE_PG_NODCOLS						\
	"NULL::text, NULL::int8, NULL::text, NULL::int8, NULL::int8,"	\
	" NULL::int8, NULL::int8, NULL::int8, NULL::int8, NULL::int8"
#define STORE_PG_ACKED							\
	"coalesce((SELECT acked_through FROM inboxes"			\
	" WHERE recipient = $1), 0)"
#define STORE_PG_ORIGIN							\
	" LEFT JOIN messages AS o ON o.hub_id = m.origin"

enum store_pg_col {
	COL_HUB_ID, COL_SENDER, COL_KIND, COL_RECEIVED_AT, COL_MESSAGE_SEQ,
	COL_ORIGIN, COL_CHAIN_ID, COL_IN_REPLY_TO, COL_MESSAGE_HOP,
	COL_MESSAGE_FORM, COL_SHARING, COL_BODY, COL_RECIPIENT, COL_SEQ,
	COL_REASON, COL_HOP, COL_FORM, COL_REVIEW, COL_ACKED_AT,
	COL_DELIVERED_AT, COL_FORWARDED_AT, COL_HIDDEN,
};

struct store_pg {
	char		*path;		/* the connection string, for causes */
	PGconn		*conn;
	bool		 in_txn;	/* a group is open */
	bool		 lost;		/* the group can no longer commit */
	bool		 item;		/* a request's savepoint is open */
};

/* Parameters of one statement: text, or bytea sent as binary. */
struct store_pg_params {
	int		 n;
	const char	*v[STORE_PG_MAXPARAMS];
	int		 len[STORE_PG_MAXPARAMS];
	int		 fmt[STORE_PG_MAXPARAMS];
	char		 num[STORE_PG_MAXPARAMS][24];
};

static void
store_pg_text(struct store_pg_params *p, const char *s)
{
	p->v[p->n] = s;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

static void
store_pg_int(struct store_pg_params *p, int64_t v)
{
	snprintf(p->num[p->n], sizeof(p->num[p->n]), "%" PRId64, v);
	store_pg_text(p, p->num[p->n]);
}

static void
store_pg_bytes(struct store_pg_params *p, const void *b, size_t len)
{
	static const char	 empty[1];

	p->v[p->n] = b != NULL ? b : empty;
	p->len[p->n] = (int)len;
	p->fmt[p->n] = 1;
	p->n++;
}

/* Set cause to "store <what>: <server's message>"; returns -1. */
static int
store_pg_fail(struct store_pg *pg, const PGresult *res, char **cause,
    const char *fmt, ...)
{
	va_list		 ap;
	char		*op = NULL, *msg, *nl;

	if (cause == NULL)
		return (-1);
	va_start(ap, fmt);
	if (vasprintf(&op, fmt, ap) == -1)
		op = NULL;
	va_end(ap);
	msg = strdup(res != NULL && *PQresultErrorMessage(res) != '\0' ?
	    PQresultErrorMessage(res) : PQerrorMessage(pg->conn));
	if (msg != NULL && (nl = strchr(msg, '\n')) != NULL)
		*nl = '\0';
	cause_set(cause, "store postgresql: %s: %s", op != NULL ? op : "?",
	    msg != NULL ? msg : "out of memory");
	free(op);
	free(msg);
	return (-1);
}

/*
 * Run sql with p; results in binary (every number comes as int8).  NULL
 * with cause set on an error, whose SQLSTATE goes to *state if given.
 */
static PGresult *
store_pg_exec(struct store_pg *pg, const char *sql,
    const struct store_pg_params *p, char state[6], char **cause,
    const char *op)
{
	PGresult	*res;
	const char	*sqlstate;

	if (state != NULL)
		state[0] = '\0';
	res = PQexecParams(pg->conn, sql, p != NULL ? p->n : 0, NULL,
	    p != NULL ? p->v : NULL, p != NULL ? p->len : NULL,
	    p != NULL ? p->fmt : NULL, 1);
	if (res != NULL && (PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK))
		return (res);
	if (state != NULL && res != NULL &&
	    (sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE)) != NULL)
		snprintf(state, 6, "%s", sqlstate);
	/* The server aborted the group: only a savepoint's undo saves it. */
	if (pg->in_txn && PQtransactionStatus(pg->conn) != PQTRANS_INTRANS)
		pg->lost = true;
	store_pg_fail(pg, res, cause, "%s", op);
	PQclear(res);
	return (NULL);
}

/*
 * Roll back to savepoint name and end it: the group is as it was before
 * it, lost only if that fails.
 */
static void
store_pg_undo(struct store_pg *pg, const char *name)
{
	PGresult	*res;
	char		 sql[64];
	int		 step;

	pg->lost = false;
	for (step = 0; step < 2 && !pg->lost; step++) {
		snprintf(sql, sizeof(sql), "%s %s", step == 0 ?
		    "ROLLBACK TO" : "RELEASE", name);
		res = PQexec(pg->conn, sql);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			pg->lost = true;
		PQclear(res);
	}
}

/* Run a statement whose result is not needed: 0 or -1. */
static int
store_pg_run(struct store_pg *pg, const char *sql, char **cause,
    const char *op)
{
	PGresult	*res;

	if ((res = store_pg_exec(pg, sql, NULL, NULL, cause, op)) == NULL)
		return (-1);
	PQclear(res);
	return (0);
}

/* An int8 column in binary; 0 when NULL. */
static int64_t
store_pg_get_int(const PGresult *res, int row, int col)
{
	const unsigned char	*b;
	uint64_t		 v = 0;
	int			 i, len;

	if (PQgetisnull(res, row, col))
		return (0);
	b = (const unsigned char *)PQgetvalue(res, row, col);
	len = PQgetlength(res, row, col);
	for (i = 0; i < len; i++)
		v = v << 8 | b[i];
	if (len == 4)
		return ((int32_t)(uint32_t)v);
	return ((int64_t)v);
}

/* A text column (NUL-terminated by libpq), or NULL. */
static const char *
store_pg_get_text(const PGresult *res, int row, int col)
{
	return (PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col));
}

/* A bytea column, or NULL. */
static const uint8_t *
store_pg_get_bytes(const PGresult *res, int row, int col, size_t *len)
{
	*len = 0;
	if (PQgetisnull(res, row, col))
		return (NULL);
	*len = (size_t)PQgetlength(res, row, col);
	return ((const uint8_t *)PQgetvalue(res, row, col));
}

/* The number of rows a command changed. */
static uint64_t
store_pg_changed(PGresult *res)
{
	return (strtoull(PQcmdTuples(res), NULL, 10));
}

/* Fill d from row of res, laid out as enum store_pg_col. */
static void
store_pg_row(const PGresult *res, int row, struct store_delivery *d)
{
	memset(d, 0, sizeof(*d));
	d->hub_id = store_pg_get_text(res, row, COL_HUB_ID);
	d->sender = store_pg_get_text(res, row, COL_SENDER);
	d->kind = store_pg_get_text(res, row, COL_KIND);
	d->received_at = store_pg_get_int(res, row, COL_RECEIVED_AT);
	d->message_seq = (uint64_t)store_pg_get_int(res, row, COL_MESSAGE_SEQ);
	d->origin = store_pg_get_text(res, row, COL_ORIGIN);
	d->chain_id = store_pg_get_text(res, row, COL_CHAIN_ID);
	d->in_reply_to = store_pg_get_text(res, row, COL_IN_REPLY_TO);
	d->hop = (unsigned)store_pg_get_int(res, row, COL_MESSAGE_HOP);
	d->form = (int)store_pg_get_int(res, row, COL_MESSAGE_FORM);
	d->sharing = store_pg_get_bytes(res, row, COL_SHARING,
	    &d->sharing_len);
	d->body = store_pg_get_bytes(res, row, COL_BODY, &d->body_len);
	if (!PQgetisnull(res, row, COL_SEQ)) {
		d->recipient = store_pg_get_text(res, row, COL_RECIPIENT);
		d->seq = (uint64_t)store_pg_get_int(res, row, COL_SEQ);
		d->reason = store_pg_get_text(res, row, COL_REASON);
		d->hop = (unsigned)store_pg_get_int(res, row, COL_HOP);
		d->form = (int)store_pg_get_int(res, row, COL_FORM);
		d->review = store_pg_get_int(res, row, COL_REVIEW) != 0;
		d->acked_at = store_pg_get_int(res, row, COL_ACKED_AT);
		d->delivered_at = store_pg_get_int(res, row,
		    COL_DELIVERED_AT);
		d->forwarded_at = store_pg_get_int(res, row,
		    COL_FORWARDED_AT);
		d->hidden = store_pg_get_int(res, row, COL_HIDDEN) != 0;
	}
}

/*
 * Run a row query and call cb per row ("stored" as the reason of a row
 * without a delivery) until it asks to stop; *n counts the rows.
 */
static int
store_pg_each(struct store_pg *pg, const char *sql,
    const struct store_pg_params *p, store_delivery_cb cb, void *arg,
    int *n, char **cause, const char *op)
{
	struct store_delivery	 d;
	PGresult		*res;
	int			 i;

	*n = 0;
	if ((res = store_pg_exec(pg, sql, p, NULL, cause, op)) == NULL)
		return (-1);
	*n = PQntuples(res);
	for (i = 0; i < *n; i++) {
		store_pg_row(res, i, &d);
		if (d.seq == 0)
			d.reason = "stored";
		if (cb(&d, arg) != 0)
			break;
	}
	PQclear(res);
	return (0);
}

/* A query of one integer (NULL and no row: 0). */
static int
store_pg_one(struct store_pg *pg, const char *sql,
    const struct store_pg_params *p, int64_t *out, char **cause,
    const char *op)
{
	PGresult	*res;

	*out = 0;
	if ((res = store_pg_exec(pg, sql, p, NULL, cause, op)) == NULL)
		return (-1);
	if (PQntuples(res) > 0)
		*out = store_pg_get_int(res, 0, 0);
	PQclear(res);
	return (0);
}

/*
 * Whether the open group can no longer commit; says so in cause.  Outside
 * a group a lost connection is tried again once before giving up.
 */
static bool
store_pg_lost(struct store_pg *pg, const char *op, char **cause)
{
	if (!pg->in_txn && PQstatus(pg->conn) == CONNECTION_BAD)
		PQreset(pg->conn);
	if (PQstatus(pg->conn) == CONNECTION_BAD) {
		pg->lost = pg->in_txn;
		cause_set(cause, "store postgresql: %s: no connection to the "
		    "database: %s", op, PQerrorMessage(pg->conn));
		return (true);
	}
	if (!pg->lost)
		return (false);
	cause_set(cause, "store postgresql: %s: the transaction was lost to "
	    "an earlier error and must be rolled back", op);
	return (true);
}

/* Bring the schema to this version's, once, whichever node gets there. */
static int
store_pg_migrate(struct store_pg *pg, char **cause)
{
	struct store_pg_params	 p;
	PGresult		*res;
	int64_t			 version;
	int			 i;

	if (store_pg_run(pg, "BEGIN", cause, "migrate: begin") == -1)
		return (-1);
	if (store_pg_run(pg, "SELECT pg_advisory_xact_lock(x'"
	    STORE_PG_MIGRATE_LOCK "'::int8)", cause, "migrate: lock") == -1 ||
	    store_pg_run(pg, "CREATE TABLE IF NOT EXISTS ceptoard_meta ("
	    " key text PRIMARY KEY, value bigint NOT NULL)", cause,
	    "migrate: meta table") == -1 ||
	    store_pg_one(pg, "SELECT value FROM ceptoard_meta"
	    " WHERE key = 'schema_version'", NULL, &version, cause,
	    "migrate: read the schema version") == -1)
		goto fail;
	if (version > STORE_PG_VERSION) {
		cause_set(cause, "store postgresql: the database has schema "
		    "version %" PRId64 "; this ceptoard understands up to %d",
		    version, STORE_PG_VERSION);
		goto fail;
	}
	for (i = (int)version; i < STORE_PG_VERSION; i++) {
		/* Several statements: the simple query protocol. */
		res = PQexec(pg->conn, store_pg_steps[i]);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			store_pg_fail(pg, res, cause, "migrate to schema "
			    "version %d", i + 1);
			PQclear(res);
			goto fail;
		}
		PQclear(res);
	}
	memset(&p, 0, sizeof(p));
	store_pg_int(&p, STORE_PG_VERSION);
	PQclear(store_pg_exec(pg, "INSERT INTO ceptoard_meta VALUES"
	    " ('schema_version', $1) ON CONFLICT (key) DO UPDATE"
	    " SET value = excluded.value", &p, NULL, NULL, "migrate"));
	if (store_pg_run(pg, "COMMIT", cause, "migrate: commit") == -1)
		return (-1);
	return (0);
fail:
	store_pg_run(pg, "ROLLBACK", NULL, "rollback");
	return (-1);
}

/* The server's notices ("already exists, skipping") are not errors. */
static void
store_pg_notice(void *arg, const char *message)
{
}

static void
store_pg_close(void *be)
{
	struct store_pg	*pg = be;

	if (pg == NULL)
		return;
	PQfinish(pg->conn);
	free(pg->path);
	free(pg);
}

/* Connect (to the primary, when the string asks) and migrate. */
static void *
store_pg_open(const char *path, char **cause)
{
	struct store_pg	*pg;

	if ((pg = calloc(1, sizeof(*pg))) == NULL ||
	    (pg->path = strdup(path)) == NULL) {
		free(pg);
		cause_set(cause, "store postgresql: out of memory");
		return (NULL);
	}
	pg->conn = PQconnectdb(path);
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		store_pg_fail(pg, NULL, cause, "connect");
		store_pg_close(pg);
		return (NULL);
	}
	PQsetNoticeProcessor(pg->conn, store_pg_notice, NULL);
	if (store_pg_run(pg, "SET synchronous_commit = on", cause,
	    "ask for durable commits") == -1 ||
	    store_pg_migrate(pg, cause) == -1) {
		store_pg_close(pg);
		return (NULL);
	}
	return (pg);
}

static int
store_pg_begin(void *be, char **cause)
{
	struct store_pg	*pg = be;

	pg->lost = false;
	pg->item = false;
	if (store_pg_lost(pg, "begin", cause) ||
	    store_pg_run(pg, "BEGIN", cause, "begin") == -1)
		return (-1);
	pg->in_txn = true;
	return (0);
}

static int
store_pg_lookup_uuid(void *be, const char *sender, const char *uuid,
    char hub_id[STORE_HUB_ID_LEN], uint64_t *seq, unsigned char digest[32],
    uint8_t **body, size_t *body_len, char **cause)
{
	struct store_pg		*pg = be;
	struct store_pg_params	 p;
	PGresult		*res;
	const char		*id;
	const uint8_t		*b, *dg;
	size_t			 blen, dlen;
	int			 rv = -1;

	if (store_pg_lost(pg, "look up a uuid", cause))
		return (-1);
	memset(&p, 0, sizeof(p));
	store_pg_text(&p, sender);
	store_pg_text(&p, uuid);
	if ((res = store_pg_exec(pg, "SELECT hub_id, seq, digest, body"
	    " FROM messages WHERE sender = $1 AND uuid = $2", &p, NULL,
	    cause, "look up a uuid")) == NULL)
		return (-1);
	if (PQntuples(res) == 0) {
		rv = 0;
		goto out;
	}
	id = store_pg_get_text(res, 0, 0);
	dg = store_pg_get_bytes(res, 0, 2, &dlen);
	b = store_pg_get_bytes(res, 0, 3, &blen);
	if (id == NULL || strlen(id) >= STORE_HUB_ID_LEN ||
	    dlen != STORE_PG_DIGEST_LEN) {
		cause_set(cause, "store postgresql: message %s of %s has a "
		    "malformed hub_id or digest", uuid, sender);
		goto out;
	}
	if ((*body = malloc(blen != 0 ? blen : 1)) == NULL) {
		cause_set(cause, "store postgresql: out of memory");
		goto out;
	}
	memcpy(*body, b, blen);
	*body_len = blen;
	snprintf(hub_id, STORE_HUB_ID_LEN, "%s", id);
	memcpy(digest, dg, STORE_PG_DIGEST_LEN);
	*seq = (uint64_t)store_pg_get_int(res, 0, 1);
	rv = 1;
out:
	PQclear(res);
	return (rv);
}

/*
 * Insert m and its deliveries through a savepoint of their own: in
 * PostgreSQL any error aborts the transaction, and a refusal (hub_id or
 * uuid already stored) must leave the group going.
 */
static int
store_pg_insert(void *be, struct store_message *m,
    const unsigned char digest[32], uint32_t key_id,
    struct store_recipient *r, size_t nr, char **cause)
{
	struct store_pg		*pg = be;
	struct store_pg_params	 p;
	PGresult		*res;
	uint64_t		 mseq;
	size_t			 i, j;
	char			 state[6], op[256];

	if (store_pg_lost(pg, "insert", cause))
		return (-1);
	for (i = 0; i < nr; i++)
		for (j = 0; j < i; j++)
			if (strcmp(r[i].org, r[j].org) == 0) {
				cause_set(cause, "store postgresql: insert "
				    "message %s: recipient %s named twice",
				    m->hub_id, r[i].org);
				return (-1);
			}
	snprintf(op, sizeof(op), "insert message %s (uuid %s of %s)",
	    m->hub_id, m->uuid, m->sender);
	if (store_pg_run(pg, "SAVEPOINT store_insert", cause,
	    "insert: savepoint") == -1) {
		pg->lost = true;
		return (-1);
	}
	memset(&p, 0, sizeof(p));
	store_pg_text(&p, m->hub_id);
	store_pg_text(&p, m->sender);
	store_pg_text(&p, m->uuid);
	store_pg_text(&p, m->kind);
	store_pg_int(&p, m->received_at);
	store_pg_bytes(&p, m->body, m->body_len);
	store_pg_bytes(&p, digest, STORE_PG_DIGEST_LEN);
	store_pg_text(&p, m->origin);
	store_pg_text(&p, m->chain_id);
	store_pg_int(&p, m->form == 0 ? 1 : m->form);
	store_pg_int(&p, m->hop);
	store_pg_text(&p, m->in_reply_to);
	store_pg_int(&p, key_id);
	if ((res = store_pg_exec(pg, "INSERT INTO messages (hub_id, sender,"
	    " uuid, kind, received_at, body, digest, origin, chain_id, form,"
	    " hop, in_reply_to, key_id) VALUES ($1, $2, $3, $4, $5, $6, $7,"
	    " $8, $9, $10, $11, $12, $13) RETURNING seq", &p, state, cause,
	    op)) == NULL)
		goto undo;
	mseq = (uint64_t)store_pg_get_int(res, 0, 0);
	PQclear(res);

	for (i = 0; i < nr; i++) {
		/* The inbox row stays locked until the group ends. */
		memset(&p, 0, sizeof(p));
		store_pg_text(&p, r[i].org);
		if ((res = store_pg_exec(pg, "INSERT INTO inboxes AS i"
		    " (recipient, last_seq) VALUES ($1, 1)"
		    " ON CONFLICT (recipient) DO UPDATE"
		    " SET last_seq = i.last_seq + 1 RETURNING last_seq", &p,
		    state, cause, "take an inbox number")) == NULL)
			goto undo;
		r[i].seq = (uint64_t)store_pg_get_int(res, 0, 0);
		PQclear(res);
		memset(&p, 0, sizeof(p));
		store_pg_text(&p, r[i].org);
		store_pg_int(&p, (int64_t)r[i].seq);
		store_pg_int(&p, (int64_t)mseq);
		store_pg_text(&p, r[i].reason);
		store_pg_int(&p, r[i].hop);
		store_pg_int(&p, r[i].form == 0 ? 1 : r[i].form);
		store_pg_text(&p, r[i].review ? "true" : "false");
		store_pg_text(&p, r[i].hidden ? "true" : "false");
		if ((res = store_pg_exec(pg, "INSERT INTO deliveries"
		    " (recipient, seq, message_seq, reason, hop, form, review,"
		    " hidden) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", &p,
		    state, cause, "insert a delivery")) == NULL)
			goto undo;
		PQclear(res);
	}
	if (store_pg_run(pg, "RELEASE store_insert", cause,
	    "insert: release") == -1) {
		pg->lost = true;
		return (-1);
	}
	m->seq = mseq;
	return (0);

undo:
	/* Refused or failed: the message goes, the group goes on. */
	store_pg_undo(pg, "store_insert");
	for (i = 0; i < nr; i++)
		r[i].seq = 0;
	return (-1);
}

static int
store_pg_item(void *be, int op, bool isolate, char **cause)
{
	struct store_pg	*pg = be;

	switch (op) {
	case 0:
		if (store_pg_lost(pg, "begin a request", cause))
			return (-1);
		pg->item = isolate;
		if (isolate && store_pg_run(pg, "SAVEPOINT store_item", cause,
		    "savepoint") == -1) {
			pg->item = false;
			pg->lost = true;
			return (-1);
		}
		return (0);
	case 1:
		if (!pg->item)
			return (0);
		pg->item = false;
		if (store_pg_run(pg, "RELEASE store_item", cause,
		    "release savepoint") == -1) {
			pg->lost = true;
			return (-1);
		}
		return (0);
	default:
		if (pg->item) {
			pg->item = false;
			store_pg_undo(pg, "store_item");
		}
		return (pg->lost ? -1 : 0);
	}
}

/*
 * COMMIT: when it returns, the group is durable on the server (and on a
 * synchronous standby).  A COMMIT of an aborted transaction "succeeds"
 * as ROLLBACK, which is a failure here.
 */
static int
store_pg_commit(void *be, char **cause)
{
	struct store_pg	*pg = be;
	PGresult	*res;
	int		 rv = -1;

	if (store_pg_lost(pg, "commit", cause)) {
		store_pg_run(pg, "ROLLBACK", NULL, "rollback");
		goto out;
	}
	if ((res = store_pg_exec(pg, "COMMIT", NULL, NULL, cause,
	    "commit")) == NULL)
		goto out;
	if (strcmp(PQcmdStatus(res), "COMMIT") == 0)
		rv = 0;
	else
		cause_set(cause, "store postgresql: commit: the server "
		    "rolled the transaction back");
	PQclear(res);
out:
	pg->in_txn = pg->lost = pg->item = false;
	return (rv);
}

static void
store_pg_rollback(void *be)
{
	struct store_pg	*pg = be;

	if (PQtransactionStatus(pg->conn) != PQTRANS_IDLE)
		store_pg_run(pg, "ROLLBACK", NULL, "rollback");
	pg->in_txn = pg->lost = pg->item = false;
}

static int
store_pg_pending(void *be, const char *recipient, uint64_t after,
    uint64_t upto, size_t limit, store_delivery_cb cb, void *arg,
    char **cause)
{
	struct store_pg		*pg = be;
	struct store_pg_params	 p;
	int			 n;

	if (after >= INT64_MAX)
		return (0);
	if (store_pg_lost(pg, "read pending deliveries", cause))
		return (-1);
	memset(&p, 0, sizeof(p));
	store_pg_text(&p, recipient);
	store_pg_int(&p, (int64_t)after);
	if (limit == 0 || limit > INT64_MAX)
		store_pg_text(&p, NULL);
	else
		store_pg_int(&p, (int64_t)limit);
	store_pg_int(&p, upto > INT64_MAX ? INT64_MAX : (int64_t)upto);
	return (store_pg_each(pg, "SELECT " STORE_PG_MCOLS ", m.body, "
	    STORE_PG_DCOLS " FROM deliveries AS d"
	    " JOIN messages AS m ON m.seq = d.message_seq" STORE_PG_ORIGIN
	    " WHERE d.recipient = $1 AND d.seq > greatest($2::int8, "
	    STORE_PG_ACKED ") AND d.seq <= $4 AND d.acked_at IS NULL"
	    " ORDER BY d.seq LIMIT $3::int8", &p, cb, arg, &n, cause,
	    "read pending deliveries"));
}

/* Acknowledge seqs of recipient; all or none. */
static int
store_pg_ack(void *be, const char *recipient, const uint64_t *seqs,
    const int64_t *sent, size_t n, int64_t now, size_t *nacked, char **cause)
{
	struct store_pg		*pg = be;
	struct store_pg_params	 p;
	PGresult		*res;
	size_t			 i, count = 0;
	int64_t			 at;
	bool			 own = !pg->in_txn;

	if (store_pg_lost(pg, "ack", cause))
		return (-1);
	if (store_pg_run(pg, own ? "BEGIN" : "SAVEPOINT store_ack", cause,
	    "ack: begin") == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		if (seqs[i] == 0 || seqs[i] > INT64_MAX)
			continue;
		at = sent != NULL && sent[i] > 0 && sent[i] <= now ? sent[i] :
		    now;
		memset(&p, 0, sizeof(p));
		store_pg_text(&p, recipient);
		store_pg_int(&p, (int64_t)seqs[i]);
		store_pg_int(&p, now);
		store_pg_int(&p, at);
		if ((res = store_pg_exec(pg, "UPDATE deliveries"
		    " SET acked_at = $3, delivered_at = coalesce(delivered_at,"
		    " $4) WHERE recipient = $1 AND seq = $2 AND acked_at IS"
		    " NULL", &p, NULL, cause, "ack")) == NULL)
			goto fail;
		count += store_pg_changed(res);
		PQclear(res);
	}
	if (count > 0) {
		memset(&p, 0, sizeof(p));
		store_pg_text(&p, recipient);
		if ((res = store_pg_exec(pg, "UPDATE inboxes SET acked_through"
		    " = greatest(acked_through, coalesce((SELECT d.seq - 1"
		    " FROM deliveries AS d WHERE d.recipient = $1"
		    " AND d.seq > inboxes.acked_through AND d.acked_at IS NULL"
		    " ORDER BY d.seq LIMIT 1), last_seq)) WHERE recipient = $1",
		    &p, NULL, cause, "ack: move the acknowledged mark")) ==
		    NULL)
			goto fail;
		PQclear(res);
	}
	if (store_pg_run(pg, own ? "COMMIT" : "RELEASE store_ack", cause,
	    "ack: commit") == -1)
		goto fail;
	*nacked = count;
	return (0);
fail:
	if (own)
		store_pg_run(pg, "ROLLBACK", NULL, "rollback");
	else
		store_pg_undo(pg, "store_ack");
	return (-1);
}

/* hub_id as org may see it; an unknown id and a stranger both get 1. */
static int
store_pg_fetch(void *be, const char *org, const char *hub_id,
    store_delivery_cb cb, void *arg, char **cause)
{
	struct store_pg		*pg = be;
	struct store_pg_params	 p;
	struct store_delivery	 d;
	PGresult		*res;
	int			 rv = 1;

	if (store_pg_lost(pg, "fetch", cause))
		return (-1);
	memset(&p, 0, sizeof(p));
	store_pg_text(&p, hub_id);
	store_pg_text(&p, org);
	if ((res = store_pg_exec(pg, "SELECT " STORE_PG_MCOLS ", m.body, "
	    STORE_PG_DCOLS " FROM messages AS m LEFT JOIN deliveries AS d"
	    " ON d.message_seq = m.seq AND d.recipient = $2" STORE_PG_ORIGIN
	    " WHERE m.hub_id = $1", &p, NULL, cause, "fetch")) == NULL)
		return (-1);
	if (PQntuples(res) > 0) {
		store_pg_row(res, 0, &d);
		if (d.seq == 0 && strcmp(d.sender, org) == 0) {
			d.recipient = org;
			d.reason = "sent";
		}
		if (d.seq != 0 || strcmp(d.sender, org) == 0) {
			cb(&d, arg);
			rv = 0;
		}
	}
	PQclear(res);
	return (rv);
}

static int
store_pg_inbox_state(void *be, const char *recipient, uint64_t *last_seq,
    uint64_t *pending, char **cause)
{
	struct store_pg		*pg = be;
	struct store_pg_params	 p;
	int64_t			 v;

	if (store_pg_lost(pg, "inbox state", cause))
		return (-1);
	memset(&p, 0, sizeof(p));
	store_pg_text(&p, recipient);
	if (store_pg_one(pg, "SELECT last_seq FROM inboxes"
	    " WHERE recipient = $1", &p, &v, cause, "read an inbox") == -1)
		return (-1);
	*last_seq = (uint64_t)v;
	if (store_pg_one(pg, "SELECT count(*) FROM deliveries"
	    " WHERE recipient = $1 AND seq > " STORE_PG_ACKED
	    " AND acked_at IS NULL", &p, &v, cause, "count pending") == -1)
		return (-1);
	*pending = (uint64_t)v;
	return (0);
}

static int
store_pg_held_count(void *be, uint64_t *n, int64_t *oldest, char **cause)
{
	struct store_pg	*pg = be;
	PGresult	*res;

	if (store_pg_lost(pg, "count held messages", cause) ||
	    (res = store_pg_exec(pg, "SELECT count(*),"
	    " coalesce(min(m.received_at), 0) FROM deliveries AS d"
	    " JOIN messages AS m ON m.seq = d.message_seq"
	    " WHERE d.review AND d.forwarded_at IS NULL", NULL, NULL, cause,
	    "count held messages")) == NULL)
		return (-1);
	*n = (uint64_t)store_pg_get_int(res, 0, 0);
	*oldest = store_pg_get_int(res, 0, 1);
	PQclear(res);
	return (0);
}

/*
 * A one-statement change: inside a group part of it, outside one a
 * transaction of its own.  *changed counts the rows.
 */
static int
store_pg_change(struct store_pg *pg, const char *sql,
    const struct store_pg_params *p, uint64_t *changed, char **cause,
    const char *op)
{
	PGresult	*res;

	if (store_pg_lost(pg, op, cause))
		return (-1);
	if (!pg->in_txn) {
		if ((res = store_pg_exec(pg, sql, p, NULL, cause, op)) == NULL)
			return (-1);
	} else {
		/* An error must not abort the group. */
		if (store_pg_run(pg, "SAVEPOINT store_change", cause, op) ==
		    -1) {
			pg->lost = true;
			return (-1);
		}
		if ((res = store_pg_exec(pg, sql, p, NULL, cause, op)) ==
		    NULL) {
			store_pg_undo(pg, "store_change");
			return (-1);
		}
		if (store_pg_run(pg, "RELEASE store_change", cause, op) ==
		    -1) {
			pg->lost = true;
			PQclear(res);
			return (-1);
		}
	}
	*changed = store_pg_changed(res);
	PQclear(res);
	return (0);
}

static int
store_pg_mark_delivered(void *be, const char *recipient, uint64_t seq,
    int64_t now, char **cause)
{
	struct store_pg_params	 p;
	uint64_t		 changed;

	memset(&p, 0, sizeof(p));
	store_pg_text(&p, recipient);
	store_pg_int(&p, (int64_t)seq);
	store_pg_int(&p, now);
	return (store_pg_change(be, "UPDATE deliveries SET delivered_at = $3"
	    " WHERE recipient = $1 AND seq = $2 AND delivered_at IS NULL", &p,
	    &changed, cause, "mark delivered"));
}

static int
store_pg_mark_forwarded(void *be, const char *holder, const char *hub_id,
    int64_t now, char **cause)
{
	struct store_pg_params	 p;
	uint64_t		 changed;

	memset(&p, 0, sizeof(p));
	store_pg_text(&p, holder);
	store_pg_text(&p, hub_id);
	store_pg_int(&p, now);
	if (store_pg_change(be, "UPDATE deliveries"
	    " SET forwarded_at = coalesce(forwarded_at, $3)"
	    " WHERE recipient = $1 AND message_seq ="
	    " (SELECT seq FROM messages WHERE hub_id = $2)", &p, &changed,
	    cause, "mark forwarded") == -1)
		return (-1);
	return (changed == 0 ? 1 : 0);
}

/* A row query keyed by up to two strings; 1 when it found nothing. */
static int
store_pg_rows(void *be, const char *sql, const char *a, const char *b,
    store_delivery_cb cb, void *arg, char **cause, const char *op)
{
	struct store_pg		*pg = be;
	struct store_pg_params	 p;
	int			 n;

	if (store_pg_lost(pg, op, cause))
		return (-1);
	memset(&p, 0, sizeof(p));
	store_pg_text(&p, a);
	if (b != NULL)
		store_pg_text(&p, b);
	if (store_pg_each(pg, sql, &p, cb, arg, &n, cause, op) == -1)
		return (-1);
	return (n == 0 ? 1 : 0);
}

static int
store_pg_message(void *be, const char *hub_id, store_delivery_cb cb,
    void *arg, char **cause)
{
	return (store_pg_rows(be, "SELECT " STORE_PG_MCOLS ", m.body, "
	    STORE_PG_NODCOLS " FROM messages AS m" STORE_PG_ORIGIN
	    " WHERE m.hub_id = $1", hub_id, NULL, cb, arg, cause,
	    "read a message"));
}

static int
store_pg_delivery_of(void *be, const char *org, const char *hub_id,
    store_delivery_cb cb, void *arg, char **cause)
{
	return (store_pg_rows(be, "SELECT " STORE_PG_MCOLS ", m.body, "
	    STORE_PG_DCOLS " FROM messages AS m JOIN deliveries AS d"
	    " ON d.message_seq = m.seq AND d.recipient = $2" STORE_PG_ORIGIN
	    " WHERE m.hub_id = $1", hub_id, org, cb, arg, cause,
	    "read a delivery"));
}

static int
store_pg_receipts(void *be, const char *hub_id, store_delivery_cb cb,
    void *arg, char **cause)
{
	int	 rv;

	rv = store_pg_rows(be, "SELECT " STORE_PG_MCOLS ", NULL::bytea, "
	    STORE_PG_DCOLS " FROM messages AS m JOIN deliveries AS d"
	    " ON d.message_seq = m.seq" STORE_PG_ORIGIN
	    " WHERE m.hub_id = $1 OR m.origin = $1"
	    " ORDER BY d.hop, d.recipient COLLATE \"C\", m.seq", hub_id, NULL,
	    cb, arg, cause, "read receipts");
	return (rv == -1 ? -1 : 0);
}

static int
store_pg_held(void *be, const char *org, store_delivery_cb cb, void *arg,
    char **cause)
{
	int	 rv;

	rv = store_pg_rows(be, "SELECT " STORE_PG_MCOLS ", m.body, "
	    STORE_PG_DCOLS " FROM deliveries AS d"
	    " JOIN messages AS m ON m.seq = d.message_seq" STORE_PG_ORIGIN
	    " WHERE d.recipient = $1 AND d.review"
	    " AND d.forwarded_at IS NULL ORDER BY d.seq", org, NULL, cb, arg,
	    cause, "read what waits for review");
	return (rv == -1 ? -1 : 0);
}

static int
store_pg_chain_count(void *be, const char *sender, const char *chain_id,
    uint64_t *n, char **cause)
{
	struct store_pg		*pg = be;
	struct store_pg_params	 p;
	int64_t			 v;

	if (store_pg_lost(pg, "count a chain", cause))
		return (-1);
	memset(&p, 0, sizeof(p));
	store_pg_text(&p, sender);
	store_pg_text(&p, chain_id);
	if (store_pg_one(pg, "SELECT count(*) FROM messages"
	    " WHERE sender = $1 AND chain_id = $2 AND origin IS NULL"
	    " AND hop = 0", &p, &v, cause, "count a chain") == -1)
		return (-1);
	*n = (uint64_t)v;
	return (0);
}

static int
store_pg_replies(void *be, const char *hub_id, store_delivery_cb cb,
    void *arg, char **cause)
{
	int	 rv;

	rv = store_pg_rows(be, "SELECT " STORE_PG_MCOLS ", m.body, "
	    STORE_PG_NODCOLS " FROM messages AS m" STORE_PG_ORIGIN
	    " WHERE m.in_reply_to = $1 ORDER BY m.seq", hub_id, NULL, cb, arg,
	    cause, "read replies");
	return (rv == -1 ? -1 : 0);
}

static int
store_pg_set_sharing(void *be, const char *hub_id, const uint8_t *packed,
    size_t len, char **cause)
{
	struct store_pg_params	 p;
	uint64_t		 changed;

	memset(&p, 0, sizeof(p));
	store_pg_text(&p, hub_id);
	store_pg_bytes(&p, packed, len);
	if (store_pg_change(be, "UPDATE messages SET sharing = $2"
	    " WHERE hub_id = $1 AND origin IS NULL", &p, &changed, cause,
	    "set a sharing range") == -1)
		return (-1);
	return (changed == 0 ? 1 : 0);
}

static int
store_pg_key_ids(void *be, uint32_t *ids, size_t max, size_t *n,
    uint64_t *unsealed, char **cause)
{
	struct store_pg		*pg = be;
	struct store_pg_params	 p;
	PGresult		*res;
	int64_t			 v;
	int			 i;

	*n = 0;
	if (store_pg_lost(pg, "list keys", cause) ||
	    store_pg_one(pg, "SELECT count(*) FROM messages"
	    " WHERE key_id IS NULL", NULL, &v, cause, "count unsealed") == -1)
		return (-1);
	*unsealed = (uint64_t)v;
	memset(&p, 0, sizeof(p));
	store_pg_int(&p, (int64_t)max + 1);
	if ((res = store_pg_exec(pg, "SELECT DISTINCT key_id FROM messages"
	    " WHERE key_id IS NOT NULL ORDER BY key_id LIMIT $1", &p, NULL,
	    cause, "list keys")) == NULL)
		return (-1);
	for (i = 0; i < PQntuples(res); i++) {
		if ((size_t)i < max)
			ids[i] = (uint32_t)store_pg_get_int(res, i, 0);
		(*n)++;
	}
	PQclear(res);
	return (0);
}

static int
store_pg_key_count(void *be, uint32_t key_id, uint64_t *n, char **cause)
{
	struct store_pg		*pg = be;
	struct store_pg_params	 p;
	int64_t			 v;

	memset(&p, 0, sizeof(p));
	store_pg_int(&p, key_id);
	if (store_pg_one(pg, "SELECT count(*) FROM messages"
	    " WHERE key_id = $1", &p, &v, cause, "count a key's bodies") == -1)
		return (-1);
	*n = (uint64_t)v;
	return (0);
}

static int
store_pg_stale(void *be, bool stale, uint32_t key_id, uint64_t after,
    size_t limit, int (*cb)(uint64_t, const char *, const char *, bool,
    const uint8_t *, size_t, void *), void *arg, char **cause)
{
	struct store_pg		*pg = be;
	struct store_pg_params	 p;
	PGresult		*res;
	const uint8_t		*body;
	size_t			 len;
	int			 i;

	if (store_pg_lost(pg, "read bodies to seal", cause))
		return (-1);
	memset(&p, 0, sizeof(p));
	store_pg_int(&p, key_id);
	store_pg_int(&p, after > INT64_MAX ? INT64_MAX : (int64_t)after);
	store_pg_int(&p, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	if ((res = store_pg_exec(pg, stale ?
	    "SELECT seq, hub_id, sender,"
	    " CASE WHEN key_id IS NULL THEN 0::int8 ELSE 1::int8 END, body"
	    " FROM messages WHERE key_id IS DISTINCT FROM $1 AND seq > $2"
	    " ORDER BY seq LIMIT $3" :
	    "SELECT seq, hub_id, sender, 0::int8, body FROM messages"
	    " WHERE key_id IS NULL AND $1::int8 IS NOT NULL AND seq > $2"
	    " ORDER BY seq LIMIT $3", &p, NULL, cause,
	    "read bodies to seal")) == NULL)
		return (-1);
	for (i = 0; i < PQntuples(res); i++) {
		body = store_pg_get_bytes(res, i, 4, &len);
		if (cb((uint64_t)store_pg_get_int(res, i, 0),
		    store_pg_get_text(res, i, 1), store_pg_get_text(res, i, 2),
		    store_pg_get_int(res, i, 3) != 0, body, len, arg) != 0)
			break;
	}
	PQclear(res);
	return (0);
}

static int
store_pg_reseal(void *be, uint64_t seq, const uint8_t *body, size_t len,
    const unsigned char digest[32], uint32_t key_id, char **cause)
{
	struct store_pg		*pg = be;
	struct store_pg_params	 p;
	uint64_t		 changed;

	if (!pg->in_txn) {
		cause_set(cause, "store postgresql: seal the body of message "
		    "%llu outside a transaction", (unsigned long long)seq);
		return (-1);
	}
	memset(&p, 0, sizeof(p));
	store_pg_int(&p, (int64_t)seq);
	store_pg_bytes(&p, body, len);
	store_pg_bytes(&p, digest, STORE_PG_DIGEST_LEN);
	store_pg_int(&p, key_id);
	if (store_pg_change(pg, "UPDATE messages SET body = $2, digest = $3,"
	    " key_id = $4 WHERE seq = $1", &p, &changed, cause,
	    "seal a body again") == -1)
		return (-1);
	if (changed != 1) {
		cause_set(cause, "store postgresql: seal the body of message "
		    "%llu again: no such message", (unsigned long long)seq);
		return (-1);
	}
	return (0);
}

const struct store_backend store_backend_pg = {
	.name = "postgresql",
	.prefix = "postgresql:",
	.open = store_pg_open,
	.close = store_pg_close,
	.begin = store_pg_begin,
	.lookup_uuid = store_pg_lookup_uuid,
	.insert = store_pg_insert,
	.item = store_pg_item,
	.commit = store_pg_commit,
	.rollback = store_pg_rollback,
	.pending = store_pg_pending,
	.ack = store_pg_ack,
	.fetch = store_pg_fetch,
	.inbox_state = store_pg_inbox_state,
	.held_count = store_pg_held_count,
	.mark_delivered = store_pg_mark_delivered,
	.mark_forwarded = store_pg_mark_forwarded,
	.message = store_pg_message,
	.delivery_of = store_pg_delivery_of,
	.receipts = store_pg_receipts,
	.held = store_pg_held,
	.chain_count = store_pg_chain_count,
	.replies = store_pg_replies,
	.set_sharing = store_pg_set_sharing,
	.key_ids = store_pg_key_ids,
	.key_count = store_pg_key_count,
	.stale = store_pg_stale,
	.reseal = store_pg_reseal,
	/* Optional ones absent: COMMIT is durable; see the top. */
};
