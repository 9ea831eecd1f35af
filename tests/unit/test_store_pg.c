/*
 * The PostgreSQL backend's own test: per-inbox sequence numbers under
 * concurrent writers on several nodes.  Each writer thread is a node of
 * its own (its own store_open, its own connection) committing groups
 * that all deliver to one shared inbox, while a reader follows that
 * inbox's cursor as a hub does (store_pending after the last seq it
 * read).  The reader must see every message exactly once and each seq
 * exactly one past the one before: a row of a transaction still open is
 * never passed over, and numbers are not handed out twice.  Runs on the
 * servers CEPTOAR_PG_CONNINFO names (tests/pg/contract.sh starts them);
 * skips without.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "ceptoard.h"
#include "check.h"
#include "store_test.h"

#define PG_NODES	3
#define PG_GROUPS	25	/* per node */
#define PG_PER_GROUP	3	/* messages per group */
#define PG_TOTAL	(PG_NODES * PG_GROUPS * PG_PER_GROUP)

static char	 pg_path[1024];

struct pg_node {
	pthread_t	 thread;
	int		 id;
	int		 failures;
};

/* Notices are not the test's output. */
static void
pg_quiet(void *arg, const char *message)
{
}

/* Run sql on the maintenance database; 0 or -1. */
static int
pg_admin(const char *conninfo, const char *sql)
{
	PGconn		*c;
	PGresult	*res;
	int		 rv = -1;

	c = PQconnectdb(conninfo);
	if (PQstatus(c) == CONNECTION_OK) {
		PQsetNoticeProcessor(c, pg_quiet, NULL);
		res = PQexec(c, sql);
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
			rv = 0;
		else
			fprintf(stderr, "%s: %s", sql,
			    PQresultErrorMessage(res));
		PQclear(res);
	} else
		fprintf(stderr, "connect: %s", PQerrorMessage(c));
	PQfinish(c);
	return (rv);
}

/* One node: PG_GROUPS groups, each to the shared inbox and its own. */
static void *
pg_writer(void *arg)
{
	struct pg_node		*n = arg;
	struct store		*s;
	struct store_message	 m;
	struct store_recipient	 r[2];
	char			 own[32], uuid[64], *cause = NULL;
	int			 g, i;

	if ((s = test_store_open(pg_path, &cause)) == NULL) {
		fprintf(stderr, "node %d: %s\n", n->id, cause);
		free(cause);
		n->failures++;
		return (NULL);
	}
	snprintf(own, sizeof(own), "own-%d", n->id);
	for (g = 0; g < PG_GROUPS; g++) {
		if (store_begin(s, &cause) == -1)
			goto fail;
		for (i = 0; i < PG_PER_GROUP; i++) {
			memset(&m, 0, sizeof(m));
			memset(r, 0, sizeof(r));
			snprintf(m.hub_id, sizeof(m.hub_id), "N%d-%d-%d",
			    n->id, g, i);
			snprintf(uuid, sizeof(uuid), "u-%d-%d-%d", n->id, g,
			    i);
			m.sender = own;
			m.uuid = uuid;
			m.kind = "report";
			m.received_at = 1700000000;
			m.body = (const uint8_t *)m.hub_id;
			m.body_len = strlen(m.hub_id);
			/* Inboxes in different orders: no node deadlocks. */
			r[0].org = "shared";
			r[0].reason = "r";
			r[1].org = own;
			r[1].reason = "r";
			if (store_insert(s, &m, r, 2, &cause) == -1)
				goto fail;
		}
		/* Hold the group open a little: others must wait, not pass. */
		if (g % 5 == 0)
			usleep(20000);
		if (store_commit(s, &cause) == -1)
			goto fail;
	}
	store_close(s);
	return (NULL);
fail:
	fprintf(stderr, "node %d: %s\n", n->id, cause != NULL ? cause : "?");
	free(cause);
	store_rollback(s);
	store_close(s);
	n->failures++;
	return (NULL);
}

/* What the reader saw, in the order it saw it. */
struct pg_reader {
	uint64_t	 cursor;
	uint64_t	 seqs[PG_TOTAL + 16];
	char		 ids[PG_TOTAL + 16][STORE_HUB_ID_LEN];
	size_t		 n;
	int		 skips;		/* a seq not cursor + 1 */
};

static int
pg_read_row(const struct store_delivery *d, void *arg)
{
	struct pg_reader	*rd = arg;

	if (d->seq != rd->cursor + 1)
		rd->skips++;
	rd->cursor = d->seq;
	if (rd->n < PG_TOTAL + 16) {
		rd->seqs[rd->n] = d->seq;
		snprintf(rd->ids[rd->n], STORE_HUB_ID_LEN, "%s", d->hub_id);
	}
	rd->n++;
	return (0);
}

int
main(void)
{
	struct pg_node		 nodes[PG_NODES];
	struct pg_reader	*rd;
	struct store		*s;
	const char		*conninfo = getenv("CEPTOAR_PG_CONNINFO");
	char			 db[64], sql[128], *cause = NULL;
	time_t			 deadline;
	size_t			 i, j;
	int			 k, dup = 0;

	if (conninfo == NULL || *conninfo == '\0') {
		fprintf(stderr, "skip: no PostgreSQL: set CEPTOAR_PG_CONNINFO, "
		    "or run tests/pg/contract.sh\n");
		return (77);
	}
	if (test_setup() == -1 || (rd = calloc(1, sizeof(*rd))) == NULL)
		return (1);
	snprintf(db, sizeof(db), "ceptoar_pg_%ld", (long)getpid());
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
	if (pg_admin(conninfo, sql) == -1)
		return (1);
	snprintf(pg_path, sizeof(pg_path), "postgresql:%s dbname=%s",
	    conninfo, db);

	/* The reader's own node; it also creates the schema first. */
	if ((s = test_store_open(pg_path, &cause)) == NULL) {
		fprintf(stderr, "reader: %s\n", cause);
		return (1);
	}
	memset(nodes, 0, sizeof(nodes));
	for (k = 0; k < PG_NODES; k++) {
		nodes[k].id = k;
		CHECK(pthread_create(&nodes[k].thread, NULL, pg_writer,
		    &nodes[k]) == 0);
	}
	deadline = time(NULL) + 120;
	while (rd->n < PG_TOTAL && time(NULL) < deadline) {
		if (store_pending(s, "shared", rd->cursor, 0, pg_read_row, rd,
		    &cause) == -1) {
			fprintf(stderr, "reader: %s\n", cause);
			free(cause);
			cause = NULL;
			break;
		}
		usleep(2000);
	}
	for (k = 0; k < PG_NODES; k++) {
		pthread_join(nodes[k].thread, NULL);
		CHECK(nodes[k].failures == 0);
	}
	/* Whatever came after the reader stopped looking. */
	CHECK(store_pending(s, "shared", rd->cursor, 0, pg_read_row, rd,
	    &cause) == 0);
	store_close(s);

	fprintf(stderr, "reader: %zu deliveries, last seq %llu, %d skips\n",
	    rd->n, (unsigned long long)rd->cursor, rd->skips);
	CHECK(rd->n == PG_TOTAL);
	CHECK(rd->skips == 0);
	CHECK(rd->cursor == PG_TOTAL);
	for (i = 0; i < rd->n && i < PG_TOTAL; i++)
		for (j = i + 1; j < rd->n && j < PG_TOTAL; j++)
			if (strcmp(rd->ids[i], rd->ids[j]) == 0)
				dup++;
	CHECK(dup == 0);

	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", db);
	pg_admin(conninfo, sql);
	free(rd);
	test_cleanup();
	return (CHECK_DONE());
}
