/*
 * Group commit.  Submits handled during one turn of the event loop are
 * queued and written in one transaction, with the acknowledgements and
 * delivery marks queued meanwhile.  The transaction commits without
 * waiting for the disk; the sync thread (durable.c) then makes it
 * durable, and only then are its submits acknowledged and its deliveries
 * sent.  One fsync serves every group committed while the one before it
 * ran.
 *
 * The audit trail never runs ahead of the disk: a group's submit.*
 * entries (accepted, duplicate, conflict, refused), the decisions its
 * requests carry (route.forward, route.review.*) and the delivery
 * acknowledgements committed with it (deliver.ack) are logged only once
 * the sync covering its commit succeeded.  Then the trail itself is
 * synced (with whatever the next group commits meanwhile), and only then
 * are the submits answered, so an acknowledged submit is in the durable
 * trail, and an accepted one in the trail was acknowledged.  A group the
 * disk lost is recorded as submit.refused, one entry per request, which
 * is what its senders are told.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <sodium.h>

#include "ceptoard.h"
#include "names.h"

/*
 * Submits of one connection waiting for their answer, at most: past it
 * the hub stops reading from that connection until the disk catches up,
 * so a sender that does not wait for acknowledgements cannot make the
 * groups in flight, and the hub's memory, grow without bound.
 */
#define SUBMIT_WAITING_MAX	256
/* Messages removed per transaction after a failed sync. */
#define SUBMIT_UNDO_CHUNK	256
/*
 * How long acknowledgements and delivery marks with no submit to travel
 * with wait for one before they are committed alone.  A commit of their
 * own rewrites the inboxes' busy pages into the log once more; waiting a
 * few milliseconds lets them share the next group's, and losing them to
 * a crash only means those deliveries are sent again.
 */
#define SUBMIT_ACK_LINGER_USEC	10000

struct submit_item {
	struct submit_item	*next;
	struct session		*session;	/* referenced until answered */
	service_done_cb		 done;		/* NULL: the hub's own */
	void			*done_arg;
	uint64_t		 request_id;	/* the caller's tag */
	char			 sid[32];	/* the caller's, for logs */
	char			 org[72];
	struct relay_batch	 batch;		/* w[0] is the primary write */
	bool			 same_digest;	/* a repeat must match it */
	char			 warning[256];
	int			 tlp;
	bool			 drill;
	bool			 duplicate;
	bool			 conflict;
	char			 conflict_hub_id[STORE_HUB_ID_LEN];
	/* Refused alone: nothing of it was stored; why, for its sender. */
	bool			 refused;
	bool			 bad_revision;	/* refusal says which is next */
	char			 refusal[300];
};

/*
 * A trail entry waiting for the sync covering its commit: gen 0 while
 * its transaction is open.  In commit order.
 */
struct submit_rec {
	struct submit_rec	*next;
	uint64_t		 gen;
	int			 metric;	/* -1: none */
	size_t			 n;
	char			*line;		/* "event key=value ..." */
};

static struct submit_rec	*recs_head;
static struct submit_rec	**recs_tail = &recs_head;

static struct submit_item	*submit_head;
static struct submit_item	**submit_tail = &submit_head;
static struct event		*submit_ev;
static struct event		*ack_linger_ev;
static size_t			 submit_queued;

static void	submit_commit_cb(evutil_socket_t, short, void *);
static void	submit_ack_linger_cb(evutil_socket_t, short, void *);

int
submit_init(struct event_base *base)
{
	if ((submit_ev = event_new(base, -1, 0, submit_commit_cb, NULL)) ==
	    NULL || (ack_linger_ev = evtimer_new(base, submit_ack_linger_cb,
	    NULL)) == NULL)
		return -1;
	return 0;
}

/* Log one recorded line under its own event name. */
static void
submit_log_line(enum log_level lvl, const char *line)
{
	char		 event[64];
	const char	*sp = strchr(line, ' ');
	size_t		 n = sp ? (size_t)(sp - line) : strlen(line);

	if (n >= sizeof(event))
		n = sizeof(event) - 1;
	memcpy(event, line, n);
	event[n] = '\0';
	log_event(lvl, event, "%s", sp ? sp + 1 : "");
}

/* Format "event fmt..." into a new string; NULL when out of memory. */
static char *
submit_vline(const char *event, const char *fmt, va_list ap)
{
	char	*rest = NULL, *line = NULL;

	if (vasprintf(&rest, fmt, ap) == -1)
		return NULL;
	if (asprintf(&line, "%s %s", event, rest) == -1)
		line = NULL;
	free(rest);
	return line;
}

void
submit_batch_record(struct relay_batch *b, const char *event,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*line;

	va_start(ap, fmt);
	line = submit_vline(event, fmt, ap);
	va_end(ap);
	if (line == NULL || b->nrecords == sizeof(b->records) /
	    sizeof(*b->records)) {
		/* Not silently: the decision is still in the log. */
		log_event_unaudited(LOG_LVL_ERROR, "submit.record", "event=%s "
		    "error=\"%s\"", event, line ? "too many records" :
		    "out of memory");
		free(line);
		return;
	}
	b->records[b->nrecords++] = line;
}

void
submit_record(int metric, size_t n, const char *event, const char *fmt, ...)
{
	struct submit_rec	*r;
	va_list			 ap;
	char			*line;

	va_start(ap, fmt);
	line = submit_vline(event, fmt, ap);
	va_end(ap);
	if (line == NULL || (r = calloc(1, sizeof(*r))) == NULL) {
		log_event_unaudited(LOG_LVL_ERROR, "submit.record", "event=%s "
		    "error=\"out of memory\"", event);
		free(line);
		return;
	}
	r->metric = metric;
	r->n = n;
	r->line = line;
	*recs_tail = r;
	recs_tail = &r->next;
}

/* The open transaction committed: its records wait for sync gen. */
static void
submit_records_committed(uint64_t gen)
{
	struct submit_rec	*r;

	for (r = recs_head; r != NULL; r = r->next)
		if (r->gen == 0)
			r->gen = gen;
}

/* Whether the open transaction has records (so it needs a sync). */
static bool
submit_records_open(void)
{
	struct submit_rec	*r;

	for (r = recs_head; r != NULL; r = r->next)
		if (r->gen == 0)
			return true;
	return false;
}

/*
 * Log the records a sync up to gen made durable (gen 0: drop those of
 * the open transaction, which rolled back: they never happened).
 */
static void
submit_records_flush(uint64_t gen)
{
	struct submit_rec	*r, **rp = &recs_head;

	while ((r = *rp) != NULL) {
		if (gen == 0 ? r->gen != 0 : r->gen == 0 || r->gen > gen) {
			rp = &r->next;
			continue;
		}
		if (gen != 0) {
			submit_log_line(LOG_LVL_INFO, r->line);
			if (r->metric != -1)
				metrics_add((enum metrics_counter)r->metric,
				    r->n, NULL, NULL);
		}
		*rp = r->next;
		free(r->line);
		free(r);
	}
	recs_tail = &recs_head;
	while (*recs_tail != NULL)
		recs_tail = &(*recs_tail)->next;
}

/* Answer it with an error, through its completion, once. */
static void
submit_fail_item(struct submit_item *it, Ceptoar__ErrorCode code,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
submit_fail_item(struct submit_item *it, Ceptoar__ErrorCode code,
    const char *field, const char *fmt, ...)
{
	struct service_error	err;
	va_list			ap;

	if (it->done == NULL)
		return;
	memset(&err, 0, sizeof(err));
	err.set = true;
	err.code = code;
	snprintf(err.field, sizeof(err.field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err.message, sizeof(err.message), fmt, ap);
	va_end(ap);
	it->done(it->done_arg, it->request_id, NULL, &err);
}

/* Release one queued item and its session reference. */
static void
submit_item_free(struct submit_item *it)
{
	struct session	*s = it->session;

	if (s != NULL) {
		if (s->submits_waiting > 0 &&
		    --s->submits_waiting <= SUBMIT_WAITING_MAX / 2)
			session_hold_submits(s, false);
		session_unref(s);
	}
	relay_batch_free(&it->batch);
	free(it);
}

void
submit_enqueue(const struct service_caller *who, struct session *conn,
    service_done_cb done, void *arg, uint64_t tag, struct relay_batch *b,
    bool same_digest, int tlp, bool drill, const char *warning)
{
	struct submit_item	*it;
	struct submit_item	 tmp;

	memset(&tmp, 0, sizeof(tmp));
	tmp.done = done;
	tmp.done_arg = arg;
	tmp.request_id = tag;
	/* Every answer names the primary write: a batch without one is refused. */
	if (b->nw == 0) {
		relay_batch_free(b);
		log_event(LOG_LVL_ERROR, "submit.empty", "session=%s "
		    "request=%llu", who->sid, (unsigned long long)tag);
		submit_fail_item(&tmp, CEPTOAR__ERROR_CODE__ERROR_NO_RECIPIENTS,
		    NULL, "nothing of this request would reach anyone; it was "
		    "not accepted");
		return;
	}
	if ((it = calloc(1, sizeof(*it))) == NULL) {
		relay_batch_free(b);
		submit_fail_item(&tmp, CEPTOAR__ERROR_CODE__ERROR_INTERNAL,
		    NULL, "the hub is out of memory; the message was not "
		    "accepted");
		return;
	}
	it->batch = *b;
	memset(b, 0, sizeof(*b));
	it->same_digest = same_digest;
	it->tlp = tlp;
	it->drill = drill;
	snprintf(it->warning, sizeof(it->warning), "%s",
	    warning ? warning : "");
	it->request_id = tag;
	it->done = done;
	it->done_arg = arg;
	snprintf(it->sid, sizeof(it->sid), "%s", who->sid);
	snprintf(it->org, sizeof(it->org), "%s", who->org);
	if ((it->session = conn) != NULL) {
		session_ref(conn);
		if (++conn->submits_waiting >= SUBMIT_WAITING_MAX)
			session_hold_submits(conn, true);
	}
	*submit_tail = it;
	submit_tail = &it->next;
	if (submit_queued++ == 0)
		event_active(submit_ev, 0, 0);
}

/*
 * Queue the writes of b (taken over) that the hub makes on its own (the
 * review desk's reminders): committed with the next group, answered to
 * nobody.
 */
void
submit_enqueue_hub(struct relay_batch *b, int tlp, bool drill)
{
	struct submit_item	*it;

	if ((it = calloc(1, sizeof(*it))) == NULL) {
		log_event(LOG_LVL_ERROR, "submit.nomem", "op=hub kind=%s",
		    b->nw > 0 ? b->w[0].msg.kind : "-");
		relay_batch_free(b);
		return;
	}
	it->batch = *b;
	memset(b, 0, sizeof(*b));
	it->tlp = tlp;
	it->drill = drill;
	*submit_tail = it;
	submit_tail = &it->next;
	if (submit_queued++ == 0)
		event_active(submit_ev, 0, 0);
}

/* Acknowledge one committed item to its session, if it is still there. */
static void
submit_answer(struct submit_item *it)
{
	Ceptoar__SubmitAck	 ack = CEPTOAR__SUBMIT_ACK__INIT;
	Ceptoar__Recipient	*rv = NULL, **rp = NULL;
	struct deliver_recipients dl;
	struct relay_write	*p = &it->batch.w[0];
	char			*cause = NULL, *warnings[2];
	size_t			 i, j, n = 0, total = 0;

	metrics_count(METRICS_SUBMITS, p->msg.kind, it->refused ||
	    it->bad_revision ? "refused" :
	    it->conflict ? "conflict" : it->duplicate ? "duplicate" :
	    "accepted");
	if (it->done == NULL)	/* the hub's own: nobody waits for it */
		return;
	if (it->bad_revision) {
		submit_fail_item(it, CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    "report.revision", "%s", it->refusal);
		return;
	}
	if (it->refused) {
		/* The cause names the store's files: it stays in the log. */
		submit_fail_item(it, CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED,
		    NULL, "the store refused this request alone; nothing of it "
		    "was stored, and nothing else was affected (the hub's log "
		    "has the cause: submit.refused session=%s)", it->sid);
		return;
	}
	if (it->conflict && it->batch.request_uuid != NULL) {
		submit_fail_item(it,
		    CEPTOAR__ERROR_CODE__ERROR_IDEMPOTENCY_CONFLICT,
		    "forward.uuid", "forward.uuid: %s was already used "
		    "by %s for a different forward (hub id %s); use a new uuid "
		    "for a new forward", it->batch.request_uuid, p->sender,
		    it->conflict_hub_id);
		return;
	}
	if (it->conflict) {
		submit_fail_item(it,
		    CEPTOAR__ERROR_CODE__ERROR_IDEMPOTENCY_CONFLICT, "uuid",
		    "uuid %s was already used by %s for different "
		    "content (hub id %s); use a new uuid for a new message",
		    p->uuid, p->sender, it->conflict_hub_id);
		return;
	}
	memset(&dl, 0, sizeof(dl));
	if (it->duplicate) {
		/* The original recipients, as the first ack listed them. */
		if (deliver_recipients_load(p->msg.hub_id, &dl, &cause) == -1) {
			log_event(LOG_LVL_ERROR, "store.error",
			    "op=recipients cause=\"%s\"", cause ? cause : "");
			free(cause);
		}
		rp = dl.ptrs;
		n = dl.ptrs ? dl.n : 0;
	} else {
		for (i = 0; i < it->batch.nw; i++)
			total += it->batch.w[i].nrcpt;
		if ((rv = calloc(total ? total : 1, sizeof(*rv))) != NULL &&
		    (rp = calloc(total ? total : 1, sizeof(*rp))) != NULL) {
			/* Only what the sender may know of where it went. */
			for (i = 0; i < it->batch.nw; i++) {
				struct relay_write *w = &it->batch.w[i];

				for (j = 0; j < w->nrcpt; j++) {
					if (w->rcpt[j].hidden)
						continue;
					ceptoar__recipient__init(&rv[n]);
					rv[n].organisation = (char *)w->rcpt[j].org;
					rv[n].reason = (char *)w->rcpt[j].reason;
					rp[n] = &rv[n];
					n++;
				}
			}
		}
	}
	ack.hub_id = p->msg.hub_id;
	ack.has_sequence = 1;
	ack.sequence = p->msg.seq;
	ack.has_duplicate = 1;
	ack.duplicate = it->duplicate;
	ack.recipients = rp;
	ack.n_recipients = rp ? n : 0;
	ack.has_held = 1;
	ack.held = it->batch.held;
	n = 0;
	if (it->warning[0] != '\0')
		warnings[n++] = it->warning;
	if (it->batch.held && !it->duplicate)
		warnings[n++] = it->batch.held_why;
	ack.warnings = warnings;
	ack.n_warnings = n;
	it->done(it->done_arg, it->request_id, &ack, NULL);
	if (it->duplicate)
		deliver_recipients_free(&dl);
	else {
		free(rp);
		free(rv);
	}
}

/*
 * Refuse it alone: why goes to its sender, and to the log with the
 * group's other entries once the group is durable (submit_log).
 */
static void
submit_refuse_item(struct submit_item *it, const char *why)
{
	it->refused = true;
	snprintf(it->refusal, sizeof(it->refusal), "%s", why ? why :
	    "no reason given");
}

/*
 * Record a refusal of the item: phase says where (write: the request
 * alone; commit, sync, memory: its whole group).
 */
static void
submit_log_refused(const struct submit_item *it, const char *phase,
    const char *why)
{
	const struct relay_write	*p = &it->batch.w[0];
	char				 esc[300];

	log_event(LOG_LVL_WARN, "submit.refused", "session=%s org=%s uuid=%s "
	    "kind=%s phase=%s cause=%s", it->done ? it->sid : "hub",
	    it->done ? it->org : p->sender, p->uuid,
	    p->msg.kind ? p->msg.kind : "-", phase,
	    log_escape(why, esc, sizeof(esc)));
}

/*
 * Whether a forward reuses a uuid for other content: its forms are
 * keyed by the client's uuid, so a repeat finds all of them, and a forward
 * that finds only some (other recipients, other forms) is another forward
 * under the same uuid.  The store would refuse its first colliding
 * insert; this says so first, in words the sender can act on.  1 yes
 * (conflict_hub_id set), 0 no, -1 if the store could not be read.
 */
static int
submit_uuid_clash(struct submit_item *it, bool primary_found, char **cause)
{
	char		 hub_id[STORE_HUB_ID_LEN];
	unsigned char	 digest[32];
	uint64_t	 seq;
	size_t		 i;
	int		 rc;

	if (it->batch.from_submit)
		return 0;	/* derived from a new hub id: cannot exist */
	for (i = 1; i < it->batch.nw; i++) {
		struct relay_write *w = &it->batch.w[i];

		rc = store_lookup_uuid(hub->store, w->sender, w->uuid, hub_id,
		    &seq, digest, cause);
		if (rc == -1)
			return -1;
		if ((rc == 1) != primary_found) {
			snprintf(it->conflict_hub_id,
			    sizeof(it->conflict_hub_id), "%s", rc == 1 ?
			    hub_id : it->batch.w[0].msg.hub_id);
			return 1;
		}
	}
	return 0;
}

/*
 * Whether a follow-up is its chain's next revision, counted in the
 * store as it is now: with the follow-ups of this group before it, and
 * without any that were taken back.  1 yes, 0 no (refused), -1 if the
 * store could not be read.
 */
static int
submit_revision_next(struct submit_item *it, char **cause)
{
	struct relay_write	*p = &it->batch.w[0];
	uint64_t		 n;

	if (it->batch.chain_revision == 0)
		return 1;
	if (store_chain_count(hub->store, p->sender, p->chain_id, &n,
	    cause) == -1)
		return -1;
	if (it->batch.chain_revision == n + 1)
		return 1;
	it->bad_revision = true;
	snprintf(it->refusal, sizeof(it->refusal), "report.revision: chain "
	    "%s has %llu revision%s; the next is %llu, not %u", p->chain_id,
	    (unsigned long long)n, n == 1 ? "" : "s",
	    (unsigned long long)n + 1, it->batch.chain_revision);
	log_event(LOG_LVL_INFO, "submit.revision", "session=%s org=%s "
	    "uuid=%s chain=%s expected=%llu revision=%u", it->sid,
	    p->sender, p->uuid, p->chain_id, (unsigned long long)n + 1,
	    it->batch.chain_revision);
	return 0;
}

/*
 * Write one item's messages and marks.  A request that cannot be
 * stored (a refusal, an unreadable earlier message) is taken back and
 * refused alone, so one sender's error never fails the others of its
 * group; -1 with a cause only when the group itself is lost.
 */
static int
submit_write(struct submit_item *it, char **cause)
{
	struct relay_write	*p = &it->batch.w[0];
	unsigned char		 digest[32], sent[32];
	char			*why = NULL;
	size_t			 i;
	int			 rc;
	bool			 isolate, found;

	rc = store_lookup_uuid(hub->store, p->sender, p->uuid, p->msg.hub_id,
	    &p->msg.seq, digest, &why);
	found = rc == 1;
	if (rc != -1)
		rc = submit_uuid_clash(it, found, &why);
	if (rc == -1) {
		submit_refuse_item(it, why);
		free(why);
		return 0;
	}
	if (rc == 1) {
		it->conflict = true;
		return 0;
	}
	if (found) {
		/* Only a repeat needs the digest of what was sent. */
		crypto_generichash(sent, sizeof(sent), p->body, p->body_len,
		    NULL, 0);
		snprintf(it->conflict_hub_id, sizeof(it->conflict_hub_id), "%s",
		    p->msg.hub_id);
		if (!it->same_digest ||
		    sodium_memcmp(digest, sent, sizeof(digest)) == 0)
			it->duplicate = true;
		else
			it->conflict = true;
		return 0;
	}
	if ((rc = submit_revision_next(it, &why)) != 1) {
		if (rc == -1)
			submit_refuse_item(it, why);
		free(why);
		return 0;
	}
	/*
	 * A single insert is refused whole by the store; more writes (or
	 * marks) are one request through a savepoint.  Plain submits, most
	 * of the traffic, pay nothing for it.
	 */
	isolate = it->batch.nw > 1 || it->batch.mark_holder != NULL ||
	    it->batch.sharing_hub_id != NULL;
	if (store_item_begin(hub->store, isolate, cause) == -1)
		return -1;
	for (i = 0; i < it->batch.nw; i++) {
		struct relay_write *w = &it->batch.w[i];

		/* Later forms derive from the primary as it is now stored. */
		if (i > 0 && w->origin != NULL && it->batch.from_submit) {
			free(w->origin);
			if ((w->origin = strdup(p->msg.hub_id)) == NULL) {
				cause_set(&why, "out of memory");
				goto undo;
			}
			w->msg.origin = w->origin;
		}
		if (store_insert(hub->store, &w->msg, w->rcpt, w->nrcpt,
		    &why) == -1)
			goto undo;
	}
	if (it->batch.mark_holder != NULL &&
	    store_mark_forwarded(hub->store, it->batch.mark_holder,
	    it->batch.mark_hub_id, (int64_t)time(NULL), &why) == -1)
		goto undo;
	if (it->batch.sharing_hub_id != NULL &&
	    store_set_sharing(hub->store, it->batch.sharing_hub_id,
	    it->batch.sharing, it->batch.sharing_len, &why) == -1)
		goto undo;
	return store_item_end(hub->store, cause);
undo:
	if (store_item_undo(hub->store) == -1) {
		/* The group is lost with it: say why once, for everyone. */
		free(*cause);
		*cause = why;
		return -1;
	}
	submit_refuse_item(it, why);
	free(why);
	return 0;
}

/* Whether the item's messages are in the store (not a repeat, not refused). */
static bool
submit_wrote(const struct submit_item *it)
{
	return !it->duplicate && !it->conflict && !it->refused &&
	    !it->bad_revision;
}

/*
 * Log a durable item: the message, the decisions it carries, then each
 * recipient with its hop; or its refusal.
 */
static void
submit_log(const struct submit_item *it, size_t batch)
{
	const struct relay_write	*p = &it->batch.w[0];
	char				 esc[300];
	size_t				 i, j, n = 0;

	if (it->refused || it->bad_revision) {
		submit_log_refused(it, "write", it->refusal);
		return;
	}
	for (i = 0; i < it->batch.nw; i++)
		n += it->batch.w[i].nrcpt;
	log_event(LOG_LVL_INFO, it->duplicate ? "submit.duplicate" :
	    it->conflict ? "submit.conflict" : "submit.accepted",
	    "session=%s org=%s hub_id=%s seq=%llu uuid=%s kind=%s tlp=%s "
	    "drill=%s forms=%zu recipients=%zu held=%s batch=%zu",
	    it->done ? it->sid : "hub",
	    it->done ? it->org : p->sender, p->msg.hub_id,
	    (unsigned long long)p->msg.seq, p->uuid, p->msg.kind,
	    names_lookup(names_tlp, it->tlp), it->drill ? "yes" : "no",
	    it->batch.nw, n, it->batch.held ? "yes" : "no", batch);
	if (!it->conflict)
		for (i = 0; i < it->batch.nrecords; i++)
			submit_log_line(LOG_LVL_INFO, it->batch.records[i]);
	/* A line per recipient: escaping each reason is wasted if unseen. */
	if (it->duplicate || it->conflict ||
	    !log_wanted(LOG_LVL_DEBUG, "route.recipient"))
		return;
	for (i = 0; i < it->batch.nw; i++) {
		const struct relay_write *w = &it->batch.w[i];

		for (j = 0; j < w->nrcpt; j++)
			log_event(LOG_LVL_DEBUG, "route.recipient",
			    "hub_id=%s origin=%s org=%s hop=%u form=%s review=%s "
			    "reason=%s", w->msg.hub_id, w->origin ? w->origin :
			    "-", w->rcpt[j].org, w->rcpt[j].hop,
			    names_lookup(names_form, w->rcpt[j].form),
			    w->rcpt[j].review ? "yes" : "no",
			    log_escape(w->rcpt[j].reason, esc, sizeof(esc)));
	}
}

/*
 * A committed group waiting for the sync thread: its submits are
 * answered, and its deliveries sent, once the sync covering gen is done.
 */
struct submit_batch {
	struct submit_batch	*next;
	uint64_t		 gen;
	size_t			 n;		/* items */
	bool			 stored;	/* synced, in the trail */
	struct submit_item	*items;
};

static struct submit_batch	*inflight;
static struct submit_batch	**inflight_tail = &inflight;

static void
submit_items_free(struct submit_item *it)
{
	struct submit_item	*next;

	for (; it != NULL; it = next) {
		next = it->next;
		submit_item_free(it);
	}
}

/*
 * Refuse every item of a group that could not be stored, and record
 * each refusal (phase: where the group was lost; cause: why, for the
 * log).
 */
static void
submit_refuse(struct submit_item *batch, const char *phase,
    const char *cause, const char *why)
{
	struct submit_item	*it;

	metrics_request("submit");
	for (it = batch; it != NULL; it = it->next)
		submit_log_refused(it, phase, cause);
	for (it = batch; it != NULL; it = it->next)
		submit_fail_item(it, CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED,
		    NULL, "%s", why);
	metrics_request(NULL);
}

/* A durable group: answer its submits, then hand out its deliveries. */
static void
submit_finish(struct submit_batch *b, bool audit_failed)
{
	struct submit_item	*it;
	size_t			 i;

	metrics_request("submit");
	for (it = b->items; it != NULL; it = it->next) {
		if (audit_failed && it->done == NULL)
			continue;
		if (audit_failed)
			submit_fail_item(it,
			    CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED, NULL,
			    "the hub's audit trail cannot be written, so this "
			    "message is not acknowledged; submit it again with "
			    "the same uuid once the hub is back");
		else
			submit_answer(it);
	}
	metrics_request(NULL);
	for (it = b->items; it != NULL; it = it->next)
		if (submit_wrote(it))
			for (i = 0; i < it->batch.nw; i++)
				deliver_durable(&it->batch.w[i]);
	deliver_pump_waiting();
	submit_items_free(b->items);
	free(b);
}

/* Remove n messages a failed sync left unacknowledged; log a failure. */
static void
submit_undo(const uint64_t *seqs, size_t n)
{
	char	*cause = NULL, esc[200];

	if (n == 0 || store_undo(hub->store, seqs, n, &cause) == 0)
		return;
	log_event(LOG_LVL_ERROR, "store.error", "op=undo messages=%zu "
	    "cause=%s", n, log_escape(cause, esc, sizeof(esc)));
	free(cause);
}

/*
 * A sync failed.  Every group not yet acknowledged is refused and its
 * messages removed from the store, so that what the senders are told
 * was not accepted is never delivered; a later group could also have
 * been built on one of them (a repeat found as a duplicate).  The next
 * sync copies the whole log into the database before anything more is
 * acknowledged.
 */
static void
submit_fail_inflight(const char *cause)
{
	struct submit_batch	*b, **bp;
	struct submit_item	*it;
	/* In chunks from the stack: no allocation can leave one behind. */
	uint64_t		 seqs[SUBMIT_UNDO_CHUNK];
	size_t			 n = 0, total = 0, nbatches = 0, i;
	char			 esc[200];

	for (b = inflight; b != NULL; b = b->next) {
		if (b->stored)
			continue;	/* durable already: kept */
		nbatches++;
		for (it = b->items; it != NULL; it = it->next) {
			if (!submit_wrote(it))
				continue;
			for (i = 0; i < it->batch.nw; i++) {
				seqs[n++] = it->batch.w[i].msg.seq;
				total++;
				if (n == SUBMIT_UNDO_CHUNK) {
					submit_undo(seqs, n);
					n = 0;
				}
			}
		}
	}
	submit_undo(seqs, n);
	log_event(LOG_LVL_ERROR, "store.error", "op=commit phase=sync "
	    "groups=%zu messages=%zu cause=%s", nbatches, total,
	    log_escape(cause, esc, sizeof(esc)));
	for (bp = &inflight; (b = *bp) != NULL; ) {
		if (b->stored) {
			bp = &b->next;
			continue;
		}
		*bp = b->next;
		submit_refuse(b->items, "sync", cause, "the hub could not make "
		    "this message durable (its disk failed); it was NOT "
		    "accepted, submit it again with the same uuid");
		submit_items_free(b->items);
		free(b);
	}
	inflight_tail = bp;
}

/* Whether a group waits for the sync of its commit (not of its trail). */
static bool
submit_storing(void)
{
	struct submit_batch	*b;

	for (b = inflight; b != NULL; b = b->next)
		if (!b->stored)
			return true;
	return false;
}

/* Commit what queued up while a group waited for the disk. */
static void
submit_resume(void)
{
	if (!submit_storing() && submit_ev != NULL &&
	    (submit_head != NULL || deliver_writes_queued()))
		event_active(submit_ev, 0, 0);
}

/*
 * A group's commit is durable: record it in the trail, then have the
 * trail synced before it is answered (at once if there is no trail to
 * sync).
 */
static void
submit_stored(struct submit_batch *b)
{
	struct submit_item	*it;
	uint64_t		 last = 0;
	size_t			 i;
	int			 fd;

	b->stored = true;
	for (it = b->items; it != NULL; it = it->next) {
		submit_log(it, b->n);
		if (submit_wrote(it))
			for (i = 0; i < it->batch.nw; i++)
				if (it->batch.w[i].msg.seq > last)
					last = it->batch.w[i].msg.seq;
	}
	/* Its marks are durable with its messages: no undo takes them back. */
	if (last > 0)
		store_durable(hub->store, last);
	/*
	 * A trail that failed (a write, or an earlier fsync) has no
	 * descriptor to sync: submit_finish does not acknowledge.
	 */
	if ((fd = audit_sync_fd()) == -1) {
		submit_finish(b, audit_has_failed());
		return;
	}
	b->gen = durable_request(fd);
	b->next = NULL;
	*inflight_tail = b;
	inflight_tail = &b->next;
}

/* The sync thread's report, on the loop, in order. */
static void
submit_durable_cb(uint64_t gen, int rc, const char *cause, int audit_errno)
{
	struct submit_batch	*b, **bp, *covered = NULL, **ctail = &covered;

	if (audit_errno != 0)
		audit_sync_failed(audit_errno);
	metrics_store_state("sync", rc == 0 ? NULL : cause ? cause : "?");
	if (rc == 0)
		submit_records_flush(gen);
	/*
	 * Take out the groups this sync covered.  Those whose trail it
	 * synced are answered whatever the store's part did: their messages
	 * were durable before.  Those whose commit it synced are recorded,
	 * unless the sync failed (submit_fail_inflight).
	 */
	for (bp = &inflight; (b = *bp) != NULL && b->gen <= gen; ) {
		if (!b->stored && rc == -1) {
			bp = &b->next;
			continue;
		}
		*bp = b->next;
		b->next = NULL;
		*ctail = b;
		ctail = &b->next;
	}
	for (inflight_tail = &inflight; *inflight_tail != NULL; )
		inflight_tail = &(*inflight_tail)->next;
	while ((b = covered) != NULL) {
		covered = b->next;
		if (b->stored)
			submit_finish(b, audit_has_failed());
		else
			submit_stored(b);
	}
	if (rc == -1)
		submit_fail_inflight(cause);
	submit_resume();
}

int
submit_start(char **cause)
{
	return durable_start(hub->base, hub->store, submit_durable_cb, cause);
}

/*
 * Finish the open group: the queued acknowledgements and marks go in
 * (unless it already failed), then it commits, or rolls back on any
 * failure.  1 if it failed, with a cause.
 */
static int
submit_end_group(int failed, char **cause)
{
	if (!failed && deliver_write(cause) == -1)
		failed = 1;
	if (failed)
		store_rollback(hub->store);
	else if (store_commit(hub->store, cause) == -1) {
		failed = 1;
		store_rollback(hub->store);
	}
	if (failed)
		submit_records_flush(0);
	deliver_writes_done(!failed);
	return failed;
}

/*
 * Seal the bodies of the group in one batch before they are written:
 * with the store keys in the parent, one round trip per group.  Should
 * it fail, each insert seals its own body (and fails alone if that
 * fails too), so this only logs.
 */
static void
submit_preseal(struct submit_item *batch)
{
	struct store_message	**v;
	struct submit_item	 *it;
	char			 *cause = NULL;
	size_t			  n = 0, i;

	for (it = batch; it != NULL; it = it->next)
		n += it->batch.nw;
	if (n == 0 || (v = calloc(n, sizeof(*v))) == NULL)
		return;
	n = 0;
	for (it = batch; it != NULL; it = it->next)
		for (i = 0; i < it->batch.nw; i++)
			v[n++] = &it->batch.w[i].msg;
	if (store_preseal(hub->store, v, n, &cause) == -1) {
		log_event(LOG_LVL_WARN, "store.preseal", "bodies=%zu "
		    "cause=\"%s\" action=\"sealing each body alone\"", n,
		    cause ? cause : "");
		free(cause);
	}
	free(v);
}

/*
 * Write every queued submit, acknowledgement and delivery mark in one
 * transaction and hand it to the sync thread.  The transaction commits
 * without waiting for the disk; the submits are answered when the sync
 * covering it reports back.
 */
static void
submit_commit_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct submit_item	*batch = submit_head, *it;
	struct submit_batch	*b;
	char			*cause = NULL, esc[200];
	size_t			 n = submit_queued, i, j;
	uint64_t		 gen;
	int			 failed = 0;

	/*
	 * One group at a time waits for the disk.  What arrives meanwhile
	 * waits for that sync to end and is committed then, as one larger
	 * group: it could not be synced any earlier, and fewer, larger
	 * commits rewrite the store's busy pages fewer times.
	 */
	if (submit_storing())
		return;
	submit_head = NULL;
	submit_tail = &submit_head;
	submit_queued = 0;
	/*
	 * Acknowledgements and marks alone wait for the next group, or for
	 * the linger to end.
	 */
	if (batch == NULL) {
		if (deliver_writes_queued() &&
		    !evtimer_pending(ack_linger_ev, NULL)) {
			struct timeval tv = { 0, SUBMIT_ACK_LINGER_USEC };

			evtimer_add(ack_linger_ev, &tv);
		}
		return;
	}
	if (store_begin(hub->store, &cause) == -1)
		failed = 1;
	else
		submit_preseal(batch);
	for (it = batch; it != NULL && !failed; it = it->next)
		if (submit_write(it, &cause) == -1)
			failed = 1;
	failed = submit_end_group(failed, &cause);
	if (failed) {
		log_event(LOG_LVL_ERROR, "store.error", "op=commit batch=%zu "
		    "cause=%s", n, log_escape(cause, esc, sizeof(esc)));
		metrics_store_state("commit", cause ? cause : "unknown");
		submit_refuse(batch, "commit", cause, "the hub could not store "
		    "this message durably; it was NOT accepted, submit it "
		    "again with the same uuid");
		free(cause);
		submit_items_free(batch);
		return;
	}
	free(cause);
	metrics_observe(METRICS_GROUP_SIZE, (double)n);
	/* Logged once durable (submit_stored): the trail follows the disk. */
	for (it = batch; it != NULL; it = it->next) {
		if (!submit_wrote(it))
			continue;
		for (i = 0; i < it->batch.nw; i++)
			for (j = 0; j < it->batch.w[i].nrcpt; j++)
				deliver_committed(it->batch.w[i].rcpt[j].org,
				    it->batch.w[i].rcpt[j].seq);
	}
	/* The trail's own entries are synced with the next request. */
	gen = durable_request(-1);
	submit_records_committed(gen);
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		/* Committed, but nothing is acknowledged: a retry is a repeat. */
		submit_refuse(batch, "memory", "out of memory", "the hub is "
		    "out of memory; submit this message again with the same "
		    "uuid");
		submit_items_free(batch);
		return;
	}
	b->items = batch;
	b->n = n;
	/*
	 * An acknowledged submit is in the durable audit trail too: once
	 * this sync is done its entries are written and the trail synced
	 * (submit_stored).  If that fails the hub stops; the messages are
	 * stored, but are not acknowledged until a retry finds them as
	 * duplicates on a hub whose trail works.
	 */
	b->gen = gen;
	*inflight_tail = b;
	inflight_tail = &b->next;
}

/*
 * The linger is over: what is still queued goes in on its own, unless a
 * group is about to take it (one queued, or one syncing, after which
 * the loop looks again).
 */
static void
submit_ack_linger_cb(evutil_socket_t fd, short ev, void *arg)
{
	if (!submit_storing() && submit_head == NULL)
		submit_write_acks();
}

void
submit_write_acks(void)
{
	char	*cause = NULL, esc[200];
	int	 failed = 0;

	if (!deliver_writes_queued())
		return;
	if (store_begin(hub->store, &cause) == -1)
		failed = 1;
	if ((failed = submit_end_group(failed, &cause)))
		log_event(LOG_LVL_ERROR, "store.error", "op=commit acks=yes "
		    "cause=%s", log_escape(cause, esc, sizeof(esc)));
	else if (submit_records_open())
		/* Recorded in the trail once a sync covers them. */
		submit_records_committed(durable_request(-1));
	free(cause);
}

void
submit_kick(void)
{
	if (submit_ev != NULL && submit_queued == 0)
		event_active(submit_ev, 0, 0);
}

void
submit_flush(void)
{
	int	i;

	durable_wait();
	if (submit_head != NULL)
		submit_commit_cb(-1, 0, NULL);
	/* No later group will take what lingers: it goes in now. */
	submit_write_acks();
	/* A group's store sync, then its trail's: bounded, in case. */
	for (i = 0; i < 4; i++) {
		durable_wait();
		if (inflight == NULL)
			break;
	}
}

void
submit_shutdown(void)
{
	struct submit_rec	*r;

	submit_flush();
	durable_stop();
	/* What no sync made durable (the last one failed) is not recorded. */
	while ((r = recs_head) != NULL) {
		recs_head = r->next;
		free(r->line);
		free(r);
	}
	recs_tail = &recs_head;
	if (submit_ev != NULL)
		event_free(submit_ev);
	submit_ev = NULL;
	if (ack_linger_ev != NULL)
		event_free(ack_linger_ev);
	ack_linger_ev = NULL;
}
