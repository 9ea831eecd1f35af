/*
 * Inboxes: each organisation's deliveries are numbered by the store; a
 * session subscribes from a cursor and is sent what is unacknowledged,
 * paced by its output buffer.  A following session that has caught up is
 * live: each durable group's deliveries are framed from the message in
 * memory and queued to it directly, the message packed once for all its
 * recipients.  One that falls behind (output full, a gap) catches up from
 * the store, but never past what the sync thread has made durable.
 * Acknowledgements and delivery marks are written by the next group
 * commit, not each in a transaction of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "ceptoard.h"
#include "frame.h"
#include "strhash.h"

#define INBOX_BUCKETS		1024
/* Unacknowledged sends remembered per session; older ones become marks. */
#define DELIVER_SENT_MAX	4096

/*
 * One organisation: its following sessions, and how far its inbox is
 * durable.  Every seq up to durable is on disk; above it the store may
 * hold a committed group the sync thread has not covered yet, which no
 * one may be sent.  An inbox is tracked from its first commit or follower
 * on; an untracked inbox holds only what was durable at start.
 */
struct inbox {
	struct inbox	*next;
	struct session	*sessions;
	uint64_t	 durable;
	bool		 tracked;
	char		 org[72];
};

static struct inbox	*inbox_table[INBOX_BUCKETS];

/* Acknowledgements of one DeliverAck, for the next group commit. */
struct deliver_ackq {
	struct deliver_ackq	*next;
	char			 org[72];
	char			 sid[20];
	int64_t			 at;
	size_t			 n;
	uint64_t		*seqs;
	int64_t			*sent;	/* when each was sent; 0: unknown */
};

/* A delivery sent and never acknowledged on its session. */
struct deliver_mark {
	char		 org[72];
	uint64_t	 seq;
	int64_t		 at;
};

static struct deliver_ackq	*ackq;
static struct deliver_ackq	**ackq_tail = &ackq;
static struct deliver_mark	*marks;
static size_t			 nmarks, capmarks;

/* Followers to pump once the current durable group is handed out. */
static struct session		**waiting;
static size_t			 nwaiting, capwaiting;

/* The inbox of org, created when create is set. */
static struct inbox *
inbox_get(const char *org, bool create)
{
	struct inbox	*ib, **head = &inbox_table[strhash(org) % INBOX_BUCKETS];

	for (ib = *head; ib != NULL; ib = ib->next)
		if (strcmp(ib->org, org) == 0)
			return ib;
	if (!create || (ib = calloc(1, sizeof(*ib))) == NULL)
		return NULL;
	snprintf(ib->org, sizeof(ib->org), "%s", org);
	ib->next = *head;
	*head = ib;
	return ib;
}

/*
 * d as the wire shows the delivery sd, its strings pointing into sd and
 * without the message: what both a Deliver and a FetchResult carry.
 */
static void
deliver_view(Ceptoar__Delivery *d, const struct store_delivery *sd)
{
	ceptoar__delivery__init(d);
	d->has_seq = 1;
	d->seq = sd->seq;
	d->has_received_at = 1;
	d->received_at = sd->received_at;
	if (sd->acked_at != 0) {
		d->has_acked_at = 1;
		d->acked_at = sd->acked_at;
	}
	d->has_form = 1;
	d->form = sd->form ? sd->form : CEPTOAR__FORM__FORM_ORIGINAL;
	d->has_hop = 1;
	d->hop = sd->hop;
	if (sd->review && sd->forwarded_at == 0) {
		d->has_review = 1;
		d->review = 1;
	}
	/* The chain key of an anonymised form is already pseudonymous. */
	d->chain_id = (char *)sd->chain_id;
	d->in_reply_to = (char *)sd->in_reply_to;
	d->hub_id = (char *)(sd->hub_id ? sd->hub_id : "");
	d->sender = (char *)(sd->sender ? sd->sender : "");
	d->reason = (char *)(sd->reason ? sd->reason : "");
}

int
deliver_fill(Ceptoar__Delivery *d, const struct store_delivery *sd,
    Ceptoar__Message **mp)
{
	deliver_view(d, sd);
	d->chain_id = d->chain_id ? strdup(d->chain_id) : NULL;
	d->in_reply_to = d->in_reply_to ? strdup(d->in_reply_to) : NULL;
	d->hub_id = strdup(d->hub_id);
	d->sender = strdup(d->sender);
	d->reason = strdup(d->reason);
	/* A body the store could not open arrives as NULL: never deliver it. */
	*mp = sd->body == NULL ? NULL :
	    ceptoar__message__unpack(NULL, sd->body_len, sd->body);
	d->message = *mp;
	if (d->hub_id == NULL || d->sender == NULL || d->reason == NULL ||
	    *mp == NULL)
		return -1;
	return 0;
}

/* Append one stored recipient to a deliver_recipients list. */
static int
deliver_recipient_cb(const char *org, const char *reason, int64_t acked_at,
    void *arg)
{
	struct deliver_recipients	*l = arg;
	Ceptoar__Recipient		*nv;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		if ((nv = reallocarray(l->v, cap, sizeof(*nv))) == NULL)
			return 1;
		l->v = nv;
		l->cap = cap;
	}
	ceptoar__recipient__init(&l->v[l->n]);
	l->v[l->n].organisation = strdup(org);
	l->v[l->n].reason = strdup(reason ? reason : "");
	l->n++;
	return 0;
}

/* Append one receipt row, unless it is withheld from the sender. */
static int
deliver_receipt_cb(const struct store_delivery *d, void *arg)
{
	if (d->hidden || d->recipient == NULL)
		return 0;
	return deliver_recipient_cb(d->recipient, d->reason, d->acked_at, arg);
}

int
deliver_recipients_load(const char *hub_id, struct deliver_recipients *l,
    char **cause)
{
	size_t	i;

	memset(l, 0, sizeof(*l));
	/* Every hop's recipients, as the first ack listed them. */
	if (store_receipts(hub->store, hub_id, deliver_receipt_cb, l, cause)
	    == -1)
		return -1;
	if (l->n > 0 && (l->ptrs = calloc(l->n, sizeof(*l->ptrs))) == NULL)
		return -1;
	for (i = 0; i < l->n; i++)
		l->ptrs[i] = &l->v[i];
	return 0;
}

void
deliver_recipients_free(struct deliver_recipients *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].organisation);
		free(l->v[i].reason);
	}
	free(l->v);
	free(l->ptrs);
	memset(l, 0, sizeof(*l));
}

void
deliver_clear(Ceptoar__Delivery *d, Ceptoar__Message *m)
{
	free(d->hub_id);
	free(d->sender);
	free(d->reason);
	free(d->chain_id);
	free(d->in_reply_to);
	d->hub_id = d->sender = d->reason = NULL;
	d->chain_id = d->in_reply_to = NULL;
	d->message = NULL;
	if (m != NULL)
		ceptoar__message__free_unpacked(m, NULL);
}

/* Queue a delivery mark: s sent seq at at, and it was never acked. */
static void
deliver_mark(const struct session *s, uint64_t seq, int64_t at)
{
	struct deliver_mark	*nv;

	if (nmarks == capmarks) {
		size_t cap = capmarks ? capmarks * 2 : 64;
		if ((nv = reallocarray(marks, cap, sizeof(*nv))) == NULL)
			return;	/* a receipt without a time is no loss */
		marks = nv;
		capmarks = cap;
	}
	snprintf(marks[nmarks].org, sizeof(marks[nmarks].org), "%s", s->org);
	marks[nmarks].seq = seq;
	marks[nmarks].at = at;
	if (nmarks++ == 0)
		submit_kick();
}

/* The oldest unacknowledged send of s, removed. */
static struct deliver_sent
deliver_sent_pop(struct session *s)
{
	struct deliver_sent	 e = s->sent[s->sent_first];

	s->sent_first = (s->sent_first + 1) % s->capsent;
	s->nsent--;
	return e;
}

/* Remember that s sent seq now, for the acknowledgement to record. */
static void
deliver_sent_push(struct session *s, uint64_t seq, int64_t now)
{
	struct deliver_sent	*nv, e;
	size_t			 cap, i;

	if (s->nsent == s->capsent) {
		if (s->capsent >= DELIVER_SENT_MAX) {
			e = deliver_sent_pop(s);
			deliver_mark(s, e.seq, e.at);
		} else {
			cap = s->capsent ? s->capsent * 2 : 64;
			if ((nv = calloc(cap, sizeof(*nv))) == NULL) {
				deliver_mark(s, seq, now);
				return;
			}
			for (i = 0; i < s->nsent; i++)
				nv[i] = s->sent[(s->sent_first + i) %
				    s->capsent];
			free(s->sent);
			s->sent = nv;
			s->capsent = cap;
			s->sent_first = 0;
		}
	}
	s->sent[(s->sent_first + s->nsent) % s->capsent] =
	    (struct deliver_sent){ seq, now };
	s->nsent++;
}

/*
 * The framed Deliver of one stored or just-committed delivery: the body
 * (the plaintext packed Message) is spliced in as it is.  Both ways of
 * delivering go through here, so a live follower and one catching up
 * from the store receive the same bytes.
 */
static uint8_t *
deliver_frame(const struct store_delivery *sd, size_t *len)
{
	Ceptoar__Delivery	d;

	deliver_view(&d, sd);
	/*
	 * What no client would take is never sent: it would end every
	 * session of the inbox, and the next one would meet it again.
	 */
	if (frame_deliver_len(&d, sd->body_len) >
	    frame_deliver_limit(hub->conf.max_frame))
		return NULL;
	return frame_pack_deliver(&d, sd->body, sd->body_len, len);
}

/* Whether sd is past what clients accept (deliver_frame refuses it). */
static bool
deliver_oversized(const struct store_delivery *sd, size_t *n)
{
	Ceptoar__Delivery	d;

	deliver_view(&d, sd);
	*n = frame_deliver_len(&d, sd->body_len);
	return *n > frame_deliver_limit(hub->conf.max_frame);
}

/* Queue the framed delivery sd to s and account for it. */
static void
deliver_queue(struct session *s, const struct store_delivery *sd,
    const uint8_t *buf, size_t len, bool live, int64_t now)
{
	session_send_frame(s, buf, len);
	deliver_sent_push(s, sd->seq, now);
	s->cursor = sd->seq;
	s->delivered++;
	metrics_count(METRICS_DELIVERIES_SENT, NULL, NULL);
	log_event(LOG_LVL_DEBUG, "deliver.sent", "session=%s org=%s seq=%llu "
	    "hub_id=%s live=%s", s->sid, s->org, (unsigned long long)sd->seq,
	    sd->hub_id, live ? "yes" : "no");
}

/* Frame one delivery from the store and queue it to s. */
static int
deliver_send(struct session *s, const struct store_delivery *sd, int64_t now)
{
	uint8_t	*buf;
	size_t	 len;

	if ((buf = deliver_frame(sd, &len)) == NULL)
		return -1;
	deliver_queue(s, sd, buf, len, false, now);
	free(buf);
	return 0;
}

/* Send one delivery row to the session pumping it. */
static int
deliver_row(const struct store_delivery *sd, void *arg)
{
	struct session	*s = arg;
	size_t		 n;

	/*
	 * Past the frame limit (stored before the hub checked forms at
	 * creation, or max_frame lowered since): skipped like a body that
	 * does not open, so it never stalls the inbox behind it.
	 */
	if (sd->body != NULL && deliver_oversized(sd, &n)) {
		log_event(LOG_LVL_ERROR, "deliver.oversized",
		    "session=%s org=%s seq=%llu hub_id=%s bytes=%zu limit=%llu",
		    s->sid, s->org, (unsigned long long)sd->seq, sd->hub_id, n,
		    (unsigned long long)frame_deliver_limit(
		    hub->conf.max_frame));
		s->cursor = sd->seq;
		return 0;
	}
	/* A body the store could not open arrives as NULL: never deliver it. */
	if (sd->body == NULL || deliver_send(s, sd, (int64_t)time(NULL)) ==
	    -1) {
		log_event(LOG_LVL_ERROR, "deliver.corrupt",
		    "session=%s org=%s seq=%llu hub_id=%s", s->sid, s->org,
		    (unsigned long long)sd->seq, sd->hub_id);
		s->cursor = sd->seq;
		return 0;
	}
	if (!s->follow && s->remaining > 0)
		s->remaining--;
	if (s->state != SESSION_READY || !session_can_send(s))
		return 1;
	if (!s->follow && s->remaining == 0)
		return 1;
	return 0;
}

/* Tell a non-following session that its batch is complete. */
static void
deliver_end(struct session *s)
{
	Ceptoar__Envelope	env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Subscribed	sub = CEPTOAR__SUBSCRIBED__INIT;

	sub.has_pending = 1;
	sub.pending = 0;
	sub.has_last_seq = 1;
	sub.last_seq = s->cursor;
	env.body_case = CEPTOAR__ENVELOPE__BODY_SUBSCRIBED;
	env.subscribed = &sub;
	session_send(s, &env);
	s->subscribed = false;
}

/* Look at a stalled follower again once slow_consumer has passed. */
static void
deliver_stall_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct session	*s = arg;

	if (s->state == SESSION_READY && s->subscribed)
		deliver_pump(s);
}

/* Arm the check of a follower whose output just filled up. */
static void
deliver_stall_timer(struct session *s)
{
	struct timeval	tv = { (time_t)hub->conf.slow_consumer, 0 };

	if (s->stall == NULL &&
	    (s->stall = evtimer_new(hub->base, deliver_stall_cb, s)) == NULL)
		return;
	evtimer_add(s->stall, &tv);
}

uint64_t
deliver_durable_upto(const char *org)
{
	struct inbox	*ib = inbox_get(org, false);

	return ib != NULL && ib->tracked ? ib->durable : UINT64_MAX;
}

void
deliver_pump(struct session *s)
{
	struct inbox	*ib;
	char		*cause = NULL;
	uint64_t	 before, want, upto;

	if (!s->subscribed)
		return;
	session_ref(s);
	s->live = false;
	ib = inbox_get(s->org, false);
	upto = ib != NULL && ib->tracked ? ib->durable : UINT64_MAX;
	while (s->state == SESSION_READY && session_can_send(s) &&
	    (s->follow || s->remaining > 0)) {
		before = s->delivered;
		want = hub->conf.deliver_batch;
		if (!s->follow && s->remaining < want)
			want = s->remaining;
		if (store_pending_upto(hub->store, s->org, s->cursor, upto,
		    (size_t)want, deliver_row, s, &cause) == -1) {
			log_event(LOG_LVL_ERROR, "store.error",
			    "session=%s op=pending cause=\"%s\"", s->sid,
			    cause ? cause : "");
			free(cause);
			session_error(s, 0,
			    CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED, NULL, false,
			    "the store could not read the inbox of %s", s->org);
			break;
		}
		if (s->delivered == before) {
			/*
			 * Nothing more up to upto (some were acked meanwhile):
			 * a follower is caught up, and what is committed next
			 * reaches it from memory.
			 */
			s->remaining = 0;
			if (s->follow && s->state == SESSION_READY) {
				s->live = true;
				if (ib != NULL && ib->tracked &&
				    s->cursor < ib->durable)
					s->cursor = ib->durable;
			}
			break;
		}
	}
	if (s->state == SESSION_READY && s->subscribed && !s->follow &&
	    s->remaining == 0)
		deliver_end(s);
	/*
	 * A follower whose output stays full while deliveries wait is not
	 * reading; after slow_consumer seconds it is dropped, so that what
	 * it holds up is delivered on its next connection instead.
	 */
	if (s->state == SESSION_READY && s->follow && !session_can_send(s)) {
		int64_t now = (int64_t)time(NULL);

		if (s->stalled_since == 0) {
			s->stalled_since = now;
			deliver_stall_timer(s);
		} else if (now - s->stalled_since >=
		    (int64_t)hub->conf.slow_consumer)
			session_overloaded(s, "output full for %lld seconds",
			    (long long)(now - s->stalled_since));
	} else if (s->state == SESSION_READY)
		s->stalled_since = 0;
	session_unref(s);
}

void
deliver_subscribe(struct session *s, uint64_t request_id,
    struct service_error *err,
    const Ceptoar__Subscribe *sub)
{
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Subscribed	 ok = CEPTOAR__SUBSCRIBED__INIT;
	struct inbox		*ib;
	uint64_t		 last = 0, pending = 0, after, limit, counted;
	char			*cause = NULL;

	if (s->subscribed) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_UNEXPECTED_MESSAGE,
		    NULL, false,
		    "this connection is already subscribed to its inbox");
		return;
	}
	after = sub->has_after_seq ? sub->after_seq : 0;
	limit = sub->has_limit ? sub->limit : 0;
	/* What was acknowledged before this reads as acknowledged. */
	submit_write_acks();
	if (store_inbox_state(hub->store, s->org, &last, &pending, &cause)
	    == -1 || (after > 0 && store_pending_count(hub->store, s->org,
	    after, (size_t)limit, &counted, &cause) == -1)) {
		log_event(LOG_LVL_ERROR, "store.error",
		    "session=%s op=inbox_state cause=\"%s\"", s->sid,
		    cause ? cause : "");
		free(cause);
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED, NULL,
		    false,
		    "the store could not read the inbox of %s", s->org);
		return;
	}
	if (after > 0)
		pending = counted;
	if (limit > 0 && pending > limit)
		pending = limit;
	s->subscribed = true;
	s->follow = sub->has_follow && sub->follow;
	s->cursor = after;
	s->remaining = s->follow ? 0 : pending;
	log_event(LOG_LVL_INFO, "deliver.subscribe",
	    "session=%s org=%s after=%llu follow=%s pending=%llu last=%llu",
	    s->sid, s->org, (unsigned long long)after,
	    s->follow ? "yes" : "no", (unsigned long long)pending,
	    (unsigned long long)last);
	ok.has_pending = 1;
	ok.pending = pending;
	ok.has_last_seq = 1;
	ok.last_seq = last;
	env.has_request_id = 1;
	env.request_id = request_id;
	env.body_case = CEPTOAR__ENVELOPE__BODY_SUBSCRIBED;
	env.subscribed = &ok;
	session_send(s, &env);
	if (s->follow && (ib = inbox_get(s->org, true)) != NULL) {
		/* Nothing of org is in flight: the store's last is durable. */
		if (!ib->tracked) {
			ib->tracked = true;
			ib->durable = last;
		}
		s->inbox = ib;
		s->org_prev = NULL;
		s->org_next = ib->sessions;
		if (ib->sessions != NULL)
			ib->sessions->org_prev = s;
		ib->sessions = s;
	}
	deliver_pump(s);
}

void
deliver_unsubscribe(struct session *s)
{
	struct inbox		*ib = s->inbox;
	struct deliver_sent	 e;

	/* What went out unacknowledged still counts as sent, for receipts. */
	while (s->nsent > 0) {
		e = deliver_sent_pop(s);
		deliver_mark(s, e.seq, e.at);
	}
	s->live = false;

	if (ib != NULL) {
		if (s->org_prev != NULL)
			s->org_prev->org_next = s->org_next;
		else
			ib->sessions = s->org_next;
		if (s->org_next != NULL)
			s->org_next->org_prev = s->org_prev;
		s->org_next = s->org_prev = NULL;
		s->inbox = NULL;
	}
	s->subscribed = false;
}

void
deliver_committed(const char *org, uint64_t seq)
{
	struct inbox	*ib;

	/* Untracked: nothing of org was in flight, all before seq is durable. */
	if ((ib = inbox_get(org, true)) != NULL && !ib->tracked) {
		ib->tracked = true;
		ib->durable = seq - 1;
	}
}

/* Pump s once the current group is handed out. */
static void
deliver_wait(struct session *s)
{
	struct session	**nv;

	s->live = false;
	if (s->waiting)
		return;
	if (nwaiting == capwaiting) {
		size_t cap = capwaiting ? capwaiting * 2 : 16;
		if ((nv = reallocarray(waiting, cap, sizeof(*nv))) == NULL) {
			/* Its output draining pumps it instead. */
			return;
		}
		waiting = nv;
		capwaiting = cap;
	}
	s->waiting = true;
	session_ref(s);
	waiting[nwaiting++] = s;
}

void
deliver_durable(const struct relay_write *w)
{
	struct store_delivery	 sd;
	struct inbox		*ib;
	struct session		*s, *next;
	const struct store_recipient *r;
	int64_t			 now = (int64_t)time(NULL);
	uint8_t			*buf;
	size_t			 j, len;

	memset(&sd, 0, sizeof(sd));
	sd.hub_id = w->msg.hub_id;
	sd.sender = w->msg.sender;
	sd.received_at = w->msg.received_at;
	sd.body = w->msg.body;
	sd.body_len = w->msg.body_len;
	sd.chain_id = w->msg.chain_id;
	sd.in_reply_to = w->msg.in_reply_to;
	for (j = 0; j < w->nrcpt; j++) {
		r = &w->rcpt[j];
		if ((ib = inbox_get(r->org, false)) == NULL)
			continue;
		if (ib->tracked && r->seq > ib->durable)
			ib->durable = r->seq;
		sd.seq = r->seq;
		sd.reason = r->reason;
		sd.hop = r->hop;
		sd.form = r->form;
		sd.review = r->review;
		buf = NULL;
		for (s = ib->sessions; s != NULL; s = next) {
			next = s->org_next;
			if (!s->live || s->state != SESSION_READY ||
			    r->seq <= s->cursor)
				continue;
			/* Behind, or full: it catches up from the store. */
			if (r->seq != s->cursor + 1 || !session_can_send(s)) {
				deliver_wait(s);
				continue;
			}
			if (buf == NULL &&
			    (buf = deliver_frame(&sd, &len)) == NULL) {
				deliver_wait(s);
				continue;
			}
			deliver_queue(s, &sd, buf, len, true, now);
		}
		free(buf);
	}
}

void
deliver_pump_waiting(void)
{
	struct session	*s;
	size_t		 i;

	for (i = 0; i < nwaiting; i++) {
		s = waiting[i];
		s->waiting = false;
		if (s->state == SESSION_READY && s->subscribed)
			deliver_pump(s);
		session_unref(s);
	}
	nwaiting = 0;
}

int
deliver_ack_queue(const char *org, const char *sid, const uint64_t *seqs,
    size_t n, struct session *s, struct service_error *err)
{
	struct deliver_ackq	*q;
	struct deliver_sent	 e;
	size_t			 i;

	if (n == 0)
		return 0;
	/* One allocation: the seqs and their sent times follow the entry. */
	if (n > (SIZE_MAX - sizeof(*q)) / (sizeof(*q->seqs) +
	    sizeof(*q->sent)) || (q = calloc(1, sizeof(*q) + n *
	    (sizeof(*q->seqs) + sizeof(*q->sent)))) == NULL)
		return service_fail(err, CEPTOAR__ERROR_CODE__ERROR_INTERNAL,
		    NULL, false, "the hub is out of memory; %zu "
		    "acknowledgements were not recorded and will be delivered "
		    "again", n);
	q->seqs = (uint64_t *)(q + 1);
	q->sent = (int64_t *)(q->seqs + n);
	snprintf(q->org, sizeof(q->org), "%s", org);
	snprintf(q->sid, sizeof(q->sid), "%s", sid);
	q->at = (int64_t)time(NULL);
	q->n = n;
	for (i = 0; i < n; i++) {
		q->seqs[i] = seqs[i];
		/* Sent earlier and passed over: a mark of its own. */
		while (s != NULL && s->nsent > 0 &&
		    s->sent[s->sent_first].seq < seqs[i]) {
			e = deliver_sent_pop(s);
			deliver_mark(s, e.seq, e.at);
		}
		if (s != NULL && s->nsent > 0 &&
		    s->sent[s->sent_first].seq == seqs[i])
			q->sent[i] = deliver_sent_pop(s).at;
	}
	*ackq_tail = q;
	ackq_tail = &q->next;
	submit_kick();
	return 0;
}

void
deliver_ack(struct session *s, uint64_t request_id, struct service_error *err,
    const Ceptoar__DeliverAck *ack)
{
	(void)deliver_ack_queue(s->org, s->sid, ack->seqs, ack->n_seqs, s,
	    err);
}

bool
deliver_writes_queued(void)
{
	return ackq != NULL || nmarks > 0;
}

int
deliver_write(char **cause)
{
	struct deliver_ackq	*q;
	char			*why = NULL;
	size_t			 i, nacked;

	/* Marks first: an acknowledgement keeps the earlier sent time. */
	for (i = 0; i < nmarks; i++)
		if (store_mark_delivered(hub->store, marks[i].org,
		    marks[i].seq, marks[i].at, &why) == -1) {
			log_event(LOG_LVL_WARN, "store.error", "op=mark_delivered "
			    "org=%s seq=%llu cause=\"%s\"", marks[i].org,
			    (unsigned long long)marks[i].seq, why ? why : "");
			free(why);
			why = NULL;
		}
	for (q = ackq; q != NULL; q = q->next) {
		if (store_ack_sent(hub->store, q->org, q->seqs, q->sent, q->n,
		    q->at, &nacked, &why) == -1) {
			log_event(LOG_LVL_ERROR, "store.error", "session=%s "
			    "op=ack seqs=%zu cause=\"%s\"", q->sid, q->n,
			    why ? why : "");
			free(why);
			why = NULL;
			continue;
		}
		/* Logged, and counted, once the commit is durable. */
		submit_record(METRICS_DELIVERIES_ACKED, nacked, "deliver.ack",
		    "session=%s org=%s seqs=%zu newly_acked=%zu first=%llu",
		    q->sid, q->org, q->n, nacked,
		    (unsigned long long)q->seqs[0]);
	}
	return 0;
}

void
deliver_writes_done(bool committed)
{
	struct deliver_ackq	*q, *next;
	size_t			 n = 0;

	for (q = ackq; q != NULL; q = next) {
		next = q->next;
		n += q->n;
		free(q);
	}
	if (!committed && (n > 0 || nmarks > 0))
		log_event(LOG_LVL_WARN, "deliver.ack", "dropped=%zu marks=%zu "
		    "reason=\"the group commit failed; they are delivered "
		    "again\"", n, nmarks);
	ackq = NULL;
	ackq_tail = &ackq;
	nmarks = 0;
}

void
deliver_shutdown(void)
{
	struct inbox	*ib, *next;
	size_t		 i;

	deliver_writes_done(true);
	free(marks);
	marks = NULL;
	capmarks = 0;
	free(waiting);
	waiting = NULL;
	nwaiting = capwaiting = 0;

	for (i = 0; i < INBOX_BUCKETS; i++) {
		for (ib = inbox_table[i]; ib != NULL; ib = next) {
			next = ib->next;
			free(ib);
		}
		inbox_table[i] = NULL;
	}
}
