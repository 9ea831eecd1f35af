/*
 * Fault injection, for tests only, and only in a build configured with
 * -Dtest_hooks=true: the production binary's default build has neither
 * this file nor the call that reaches it (store_open, under
 * CEPTOARD_TEST_HOOKS).  It lets the tests show that a failing store
 * refuses new submits with a clear error, keeps serving what is stored,
 * and corrupts nothing.
 *
 * It sits in the backend-neutral layer: a copy of the backend's table
 * whose commit and sync fail on demand, in front of whichever backend
 * the store path names, so that every backend is tested the same way.
 *
 * CEPTOARD_FAULT=<op>:<n>[:<count>] fails <count> (default 1) calls of
 * <op>, commit (a group's commit: it is rolled back) or sync (the sync
 * thread's, see durable.c), starting with the <n>th after the hub is
 * ready.  Without the variable the backend is used as it is.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptoard.h"

enum store_fault_op {
	STORE_FAULT_NONE,
	STORE_FAULT_COMMIT,
	STORE_FAULT_SYNC,
};

static const char *const store_fault_names[] = {
	[STORE_FAULT_COMMIT] = "commit",
	[STORE_FAULT_SYNC] = "sync",
};

/*
 * Only calls of the one op chosen are counted, and each op comes from a
 * single thread (commit from the loop, sync from the sync thread), so
 * the counter needs no lock; armed is set by the loop and read by both.
 */
static const struct store_backend	*store_fault_inner;
static struct store_backend		 store_fault_be;
static enum store_fault_op		 store_fault_op;
static long				 store_fault_first, store_fault_count;
static long				 store_fault_seen;
static atomic_bool			 store_fault_armed;

/* Whether this call of op is one to fail; logs the ones that are. */
static bool
store_fault_hit(enum store_fault_op op)
{
	if (!atomic_load(&store_fault_armed) || op != store_fault_op)
		return (false);
	store_fault_seen++;
	if (store_fault_seen < store_fault_first ||
	    store_fault_seen >= store_fault_first + store_fault_count)
		return (false);
	log_event(LOG_LVL_WARN, "store.fault", "op=%s call=%ld",
	    store_fault_names[op], store_fault_seen);
	return (true);
}

/* The backend's commit, or a failed one that rolled the group back. */
static int
store_fault_commit(void *be, char **cause)
{
	if (!store_fault_hit(STORE_FAULT_COMMIT))
		return (store_fault_inner->commit(be, cause));
	store_fault_inner->rollback(be);
	cause_set(cause, "%s commit: input/output error (injected by "
	    "CEPTOARD_FAULT)", store_fault_inner->name);
	return (-1);
}

/* The backend's sync, or a failed one that made nothing durable. */
static int
store_fault_sync(void *be, bool full, char **cause)
{
	if (!store_fault_hit(STORE_FAULT_SYNC))
		return (store_fault_inner->sync(be, full, cause));
	cause_set(cause, "%s %ssync: input/output error (injected by "
	    "CEPTOARD_FAULT)", store_fault_inner->name, full ? "full " : "");
	return (-1);
}

/*
 * be itself, or, when CEPTOARD_FAULT asks for faults, a table that
 * passes every operation to be but commit and sync.  A spec that does not
 * parse is logged and ignored, so that a typing mistake shows.
 */
const struct store_backend *
store_fault_wrap(const struct store_backend *be)
{
	const char	*spec = getenv("CEPTOARD_FAULT");
	char		 op[16];
	long		 first = 0, count = 1;
	int		 n;

	if (spec == NULL || *spec == '\0' || be == &store_fault_be)
		return (be);
	n = sscanf(spec, "%15[a-z]:%ld:%ld", op, &first, &count);
	if (n < 2 || first < 1 || count < 1 ||
	    (strcmp(op, "commit") != 0 && strcmp(op, "sync") != 0)) {
		log_event(LOG_LVL_ERROR, "store.fault", "spec=\"%s\" "
		    "reason=\"not op:n[:count] with op commit or sync\"",
		    spec);
		return (be);
	}
	/* A sync fault needs syncs: a backend without them gets none. */
	if (strcmp(op, "sync") == 0 && be->sync == NULL) {
		log_event(LOG_LVL_ERROR, "store.fault", "spec=\"%s\" "
		    "reason=\"the %s backend has no sync\"", spec, be->name);
		return (be);
	}
	store_fault_op = strcmp(op, "commit") == 0 ? STORE_FAULT_COMMIT :
	    STORE_FAULT_SYNC;
	store_fault_first = first;
	store_fault_count = count;
	store_fault_inner = be;
	store_fault_be = *be;
	store_fault_be.commit = store_fault_commit;
	if (be->sync != NULL)
		store_fault_be.sync = store_fault_sync;
	log_event(LOG_LVL_WARN, "store.fault", "spec=\"%s\" backend=%s "
	    "reason=\"fault injection for tests is on\"", spec, be->name);
	return (&store_fault_be);
}

/* Start counting: the hub is ready, its start-up commits are not counted. */
void
store_fault_arm(void)
{
	store_fault_seen = 0;
	atomic_store(&store_fault_armed, store_fault_inner != NULL);
}
