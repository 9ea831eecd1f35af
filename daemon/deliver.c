/*
 * Inboxes: each organisation's deliveries are numbered by the store; a
 * session subscribes from a cursor and is sent what is unacknowledged,
 * paced by its output buffer.  Following sessions are woken when a commit
 * adds deliveries for their organisation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "ceptoard.h"

#define INBOX_BUCKETS	1024

/* The following sessions of one organisation. */
struct inbox {
	struct inbox	*next;
	struct session	*sessions;
	char		 org[72];
};

static struct inbox	*inbox_table[INBOX_BUCKETS];

/* FNV-1a over the organisation id. */
static size_t
inbox_hash(const char *org)
{
	uint32_t	h = 2166136261u;

	for (; *org != '\0'; org++) {
		h ^= (unsigned char)*org;
		h *= 16777619u;
	}
	return h % INBOX_BUCKETS;
}

/* The inbox of org, created when create is set. */
static struct inbox *
inbox_get(const char *org, bool create)
{
	struct inbox	*ib, **head = &inbox_table[inbox_hash(org)];

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

int
deliver_fill(Ceptoar__Delivery *d, const struct store_delivery *sd,
    Ceptoar__Message **mp)
{
	ceptoar__delivery__init(d);
	*mp = NULL;
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
	d->chain_id = sd->chain_id ? strdup(sd->chain_id) : NULL;
	d->in_reply_to = sd->in_reply_to ? strdup(sd->in_reply_to) : NULL;
	d->hub_id = strdup(sd->hub_id ? sd->hub_id : "");
	d->sender = strdup(sd->sender ? sd->sender : "");
	d->reason = strdup(sd->reason ? sd->reason : "");
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

/*
 * Record the first time a delivery went out, for receipts.  It happens
 * inside a store iteration, so it is queued and written after it.
 */
static void
deliver_mark(struct session *s, uint64_t seq)
{
	uint64_t	*nv;

	if (s->nmarks == s->capmarks) {
		size_t cap = s->capmarks ? s->capmarks * 2 : 64;
		if ((nv = reallocarray(s->marks, cap, sizeof(*nv))) == NULL)
			return;	/* a receipt without a time is no loss */
		s->marks = nv;
		s->capmarks = cap;
	}
	s->marks[s->nmarks++] = seq;
}

/* Write the delivery times queued by deliver_mark. */
static void
deliver_flush_marks(struct session *s)
{
	char	*cause = NULL;
	int64_t	 now = (int64_t)time(NULL);
	size_t	 i;

	for (i = 0; i < s->nmarks; i++)
		if (store_mark_delivered(hub->store, s->org, s->marks[i], now,
		    &cause) == -1) {
			log_event(LOG_LVL_WARN, "store.error", "session=%s "
			    "op=mark_delivered cause=\"%s\"", s->sid,
			    cause ? cause : "");
			free(cause);
			cause = NULL;
			break;
		}
	s->nmarks = 0;
}

/* Send one delivery row to the session pumping it. */
static int
deliver_row(const struct store_delivery *sd, void *arg)
{
	struct session		*s = arg;
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Deliver	 dv = CEPTOAR__DELIVER__INIT;
	Ceptoar__Delivery	 d;
	Ceptoar__Message	*m;

	if (deliver_fill(&d, sd, &m) == -1) {
		/* A stored body that no longer decodes: skip, say so loudly. */
		log_event(LOG_LVL_ERROR, "deliver.corrupt",
		    "session=%s org=%s seq=%llu hub_id=%s", s->sid, s->org,
		    (unsigned long long)sd->seq, sd->hub_id);
		deliver_clear(&d, m);
		s->cursor = sd->seq;
		return 0;
	}
	dv.delivery = &d;
	env.body_case = CEPTOAR__ENVELOPE__BODY_DELIVER;
	env.deliver = &dv;
	session_send(s, &env);
	deliver_clear(&d, m);
	if (sd->delivered_at == 0)
		deliver_mark(s, sd->seq);
	s->cursor = sd->seq;
	s->delivered++;
	if (!s->follow && s->remaining > 0)
		s->remaining--;
	log_event(LOG_LVL_DEBUG, "deliver.sent", "session=%s org=%s seq=%llu "
	    "hub_id=%s", s->sid, s->org, (unsigned long long)sd->seq,
	    sd->hub_id);
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

void
deliver_pump(struct session *s)
{
	char		*cause = NULL;
	uint64_t	 before, want;

	if (!s->subscribed)
		return;
	session_ref(s);
	while (s->state == SESSION_READY && session_can_send(s) &&
	    (s->follow || s->remaining > 0)) {
		before = s->delivered;
		want = hub->conf.deliver_batch;
		if (!s->follow && s->remaining < want)
			want = s->remaining;
		if (store_pending(hub->store, s->org, s->cursor, (size_t)want,
		    deliver_row, s, &cause) == -1) {
			log_event(LOG_LVL_ERROR, "store.error",
			    "session=%s op=pending cause=\"%s\"", s->sid,
			    cause ? cause : "");
			free(cause);
			session_error(s, 0,
			    CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED, NULL, false,
			    "the store could not read the inbox of %s", s->org);
			break;
		}
		deliver_flush_marks(s);
		if (s->delivered == before) {
			/* Nothing more to send (some were acked meanwhile). */
			s->remaining = 0;
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

struct deliver_count {
	uint64_t	n;
};

/* Count rows, for the pending figure of a resumed subscription. */
static int
deliver_count_row(const struct store_delivery *sd, void *arg)
{
	((struct deliver_count *)arg)->n++;
	return 0;
}

void
deliver_subscribe(struct session *s, uint64_t request_id,
    const Ceptoar__Subscribe *sub)
{
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Subscribed	 ok = CEPTOAR__SUBSCRIBED__INIT;
	struct deliver_count	 cnt = { 0 };
	struct inbox		*ib;
	uint64_t		 last = 0, pending = 0, after, limit;
	char			*cause = NULL;

	if (s->subscribed) {
		session_error(s, request_id,
		    CEPTOAR__ERROR_CODE__ERROR_UNEXPECTED_MESSAGE, NULL, false,
		    "this connection is already subscribed to its inbox");
		return;
	}
	after = sub->has_after_seq ? sub->after_seq : 0;
	limit = sub->has_limit ? sub->limit : 0;
	if (store_inbox_state(hub->store, s->org, &last, &pending, &cause)
	    == -1 || (after > 0 && store_pending(hub->store, s->org, after,
	    (size_t)limit, deliver_count_row, &cnt, &cause) == -1)) {
		log_event(LOG_LVL_ERROR, "store.error",
		    "session=%s op=inbox_state cause=\"%s\"", s->sid,
		    cause ? cause : "");
		free(cause);
		session_error(s, request_id,
		    CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED, NULL, false,
		    "the store could not read the inbox of %s", s->org);
		return;
	}
	if (after > 0)
		pending = cnt.n;
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
	struct inbox	*ib = s->inbox;

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
deliver_notify(const char *org)
{
	struct inbox	*ib;
	struct session	*s, *next;

	if ((ib = inbox_get(org, false)) == NULL)
		return;
	for (s = ib->sessions; s != NULL; s = next) {
		next = s->org_next;
		deliver_pump(s);
	}
}

void
deliver_ack(struct session *s, uint64_t request_id,
    const Ceptoar__DeliverAck *ack)
{
	char	*cause = NULL;
	size_t	 nacked = 0;

	if (ack->n_seqs == 0)
		return;
	if (store_ack(hub->store, s->org, ack->seqs, ack->n_seqs,
	    (int64_t)time(NULL), &nacked, &cause) == -1) {
		log_event(LOG_LVL_ERROR, "store.error",
		    "session=%s op=ack cause=\"%s\"", s->sid, cause ? cause : "");
		free(cause);
		session_error(s, request_id,
		    CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED, NULL, false,
		    "the store could not record %zu acknowledgements; they will "
		    "be delivered again", ack->n_seqs);
		return;
	}
	log_event(LOG_LVL_INFO, "deliver.ack", "session=%s org=%s seqs=%zu "
	    "newly_acked=%zu first=%llu", s->sid, s->org, ack->n_seqs, nacked,
	    (unsigned long long)ack->seqs[0]);
}

void
deliver_shutdown(void)
{
	struct inbox	*ib, *next;
	size_t		 i;

	for (i = 0; i < INBOX_BUCKETS; i++) {
		for (ib = inbox_table[i]; ib != NULL; ib = next) {
			next = ib->next;
			free(ib);
		}
		inbox_table[i] = NULL;
	}
}
