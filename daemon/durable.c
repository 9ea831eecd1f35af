/*
 * The sync thread.  The event loop commits each group without waiting for
 * the disk and asks for it to be made durable; this thread runs the one
 * fdatasync that covers every group committed before it starts, and tells
 * the loop which groups it covered.  While it waits on the disk the loop
 * reads and routes what arrives, and commits it as the next group when
 * the sync ends (submit.c waits for one sync at a time), so one sync's
 * latency is shared by everything that arrived during it and never
 * stalls a connection.
 *
 * The thread touches nothing of the loop's: the store's log descriptor
 * and checkpoint connection (store_sync, store_checkpoint), the audit
 * trail's descriptor, and the small state below under its mutex.  Results
 * go back through a pipe the loop watches, in order.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "ceptoard.h"

/*
 * Reuse the write-ahead log once it passes this size.  A checkpoint
 * copies each page once however many frames the log holds of it, so the
 * larger the log the fewer copies of the busy index pages; the store's
 * journal_size_limit trims it back to this size after each reuse.
 */
#define DURABLE_CHECKPOINT_BYTES	(64u * 1024 * 1024)

struct durable_result {
	uint64_t	 gen;		/* every request up to this one */
	int		 rc;		/* 0: durable */
	char		*cause;		/* why not, on -1 */
	int		 audit_errno;	/* the audit trail's fsync, 0: fine */
};

static struct {
	struct store		*store;
	durable_done_cb		 done;
	struct event		*ev;
	int			 pipe[2];
	pthread_t		 thread;
	bool			 running;
	uint64_t		 next_gen;	/* the loop's */

	pthread_mutex_t		 mu;		/* guards what follows */
	pthread_cond_t		 cv;
	uint64_t		 requested;
	uint64_t		 synced;
	int			 audit_fd;	/* -1: nothing to sync */
	bool			 stop;
	bool			 started;	/* the thread is running */
	struct durable_result	*results;
	size_t			 nresults, capresults;
} dur = { .pipe = { -1, -1 }, .audit_fd = -1 };

/* Queue a result for the loop; false when out of memory. */
static bool
durable_post(uint64_t gen, int rc, char *cause, int audit_errno)
{
	struct durable_result	*v;
	size_t			 cap;

	if (dur.nresults == dur.capresults) {
		cap = dur.capresults ? dur.capresults * 2 : 16;
		if ((v = reallocarray(dur.results, cap, sizeof(*v))) == NULL)
			return false;
		dur.results = v;
		dur.capresults = cap;
	}
	dur.results[dur.nresults++] = (struct durable_result){ gen, rc, cause,
	    audit_errno };
	return true;
}

static void *
durable_main(void *arg)
{
	struct timespec	 t0, t1;
	uint64_t	 target;
	char		*cause;
	bool		 full = false, posted;
	int		 afd, rc, aerr;
	ssize_t		 w;

	pthread_mutex_lock(&dur.mu);
	dur.started = true;
	pthread_cond_broadcast(&dur.cv);
	pthread_mutex_unlock(&dur.mu);
	for (;;) {
		pthread_mutex_lock(&dur.mu);
		while (!dur.stop && dur.requested == dur.synced)
			pthread_cond_wait(&dur.cv, &dur.mu);
		if (dur.requested == dur.synced) {
			pthread_mutex_unlock(&dur.mu);
			break;
		}
		target = dur.requested;
		afd = dur.audit_fd;
		dur.audit_fd = -1;
		pthread_mutex_unlock(&dur.mu);

		cause = NULL;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = store_sync(dur.store, full, &cause);
		aerr = 0;
		if (afd != -1 && fdatasync(afd) == -1)
			aerr = errno;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		/* Atomics: this thread may observe while the loop scrapes. */
		metrics_observe(METRICS_FSYNC_SECONDS, (double)(t1.tv_sec -
		    t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
		/* After a failure only copying the whole log is trusted. */
		full = rc == -1;

		pthread_mutex_lock(&dur.mu);
		if (!(posted = durable_post(target, rc, cause, aerr))) {
			free(cause);
			full = true;
		} else
			dur.synced = target;
		/* durable_wait may be waiting for this. */
		pthread_cond_broadcast(&dur.cv);
		pthread_mutex_unlock(&dur.mu);
		if (!posted) {
			/* Out of memory: wait a little, then sync again. */
			usleep(10000);
			continue;
		}
		do
			w = write(dur.pipe[1], "", 1);
		while (w == -1 && errno == EINTR);
		if (rc == 0)
			store_checkpoint(dur.store, DURABLE_CHECKPOINT_BYTES);
	}
	return NULL;
}

/* Hand the thread's results to the loop's callback, oldest first. */
static void
durable_deliver(void)
{
	struct durable_result	*v;
	size_t			 n, i;

	pthread_mutex_lock(&dur.mu);
	v = dur.results;
	n = dur.nresults;
	dur.results = NULL;
	dur.nresults = dur.capresults = 0;
	pthread_mutex_unlock(&dur.mu);
	for (i = 0; i < n; i++) {
		dur.done(v[i].gen, v[i].rc, v[i].cause, v[i].audit_errno);
		free(v[i].cause);
	}
	free(v);
}

static void
durable_read_cb(evutil_socket_t fd, short ev, void *arg)
{
	char	buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	durable_deliver();
}

int
durable_start(struct event_base *base, struct store *store,
    durable_done_cb done, char **cause)
{
	int	flags;

	dur.store = store;
	dur.done = done;
	/* A start after durable_stop (the sequence fuzzer's) starts afresh. */
	dur.stop = false;
	dur.started = false;
	if (store_pipeline(store, cause) == -1)
		return -1;
	if (pipe2(dur.pipe, O_CLOEXEC) == -1 ||
	    (flags = fcntl(dur.pipe[0], F_GETFL)) == -1 ||
	    fcntl(dur.pipe[0], F_SETFL, flags | O_NONBLOCK) == -1) {
		cause_set(cause, "sync thread: pipe: %s",
		    strerror(errno));
		return -1;
	}
	if ((dur.ev = event_new(base, dur.pipe[0], EV_READ | EV_PERSIST,
	    durable_read_cb, NULL)) == NULL || event_add(dur.ev, NULL) == -1) {
		cause_set(cause, "sync thread: cannot watch its pipe");
		return -1;
	}
	pthread_mutex_init(&dur.mu, NULL);
	pthread_cond_init(&dur.cv, NULL);
	if ((errno = pthread_create(&dur.thread, NULL, durable_main, NULL))
	    != 0) {
		cause_set(cause, "sync thread: %s", strerror(errno));
		return -1;
	}
	/*
	 * Wait until the thread runs: its start-up (and a sanitizer's) may
	 * need calls the confinement that follows would refuse.
	 */
	pthread_mutex_lock(&dur.mu);
	while (!dur.started)
		pthread_cond_wait(&dur.cv, &dur.mu);
	pthread_mutex_unlock(&dur.mu);
	dur.running = true;
	return 0;
}

uint64_t
durable_request(int audit_fd)
{
	uint64_t	gen = ++dur.next_gen;

	pthread_mutex_lock(&dur.mu);
	dur.requested = gen;
	if (audit_fd != -1)
		dur.audit_fd = audit_fd;
	pthread_cond_broadcast(&dur.cv);
	pthread_mutex_unlock(&dur.mu);
	return gen;
}

void
durable_wait(void)
{
	if (!dur.running)
		return;
	pthread_mutex_lock(&dur.mu);
	while (dur.synced != dur.requested)
		pthread_cond_wait(&dur.cv, &dur.mu);
	pthread_mutex_unlock(&dur.mu);
	durable_deliver();
}

void
durable_stop(void)
{
	if (!dur.running)
		return;
	pthread_mutex_lock(&dur.mu);
	dur.stop = true;
	pthread_cond_broadcast(&dur.cv);
	pthread_mutex_unlock(&dur.mu);
	pthread_join(dur.thread, NULL);
	dur.running = false;
	/* What was synced before the stop is still answered. */
	durable_deliver();
	if (dur.ev != NULL)
		event_free(dur.ev);
	dur.ev = NULL;
	close(dur.pipe[0]);
	close(dur.pipe[1]);
	dur.pipe[0] = dur.pipe[1] = -1;
	pthread_mutex_destroy(&dur.mu);
	pthread_cond_destroy(&dur.cv);
}
