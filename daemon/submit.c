/*
 * Group commit.  Submits handled during one turn of the event loop are
 * queued, written in one transaction, and acknowledged only once that
 * transaction is fsynced: one fsync serves every submit of the turn.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <sodium.h>

#include "ceptoard.h"
#include "names.h"

struct submit_item {
	struct submit_item	*next;
	struct session		*session;	/* referenced until answered */
	uint64_t		 request_id;
	struct store_message	 msg;
	char			*sender;
	char			*uuid;
	uint8_t			*body;
	struct store_recipient	*rcpt;
	size_t			 nrcpt;
	unsigned char		 digest[32];
	int			 tlp;
	bool			 drill;
	bool			 duplicate;
	bool			 conflict;
};

static struct submit_item	*submit_head;
static struct submit_item	**submit_tail = &submit_head;
static struct event		*submit_ev;
static size_t			 submit_queued;

static void	submit_commit_cb(evutil_socket_t, short, void *);

int
submit_init(struct event_base *base)
{
	if ((submit_ev = event_new(base, -1, 0, submit_commit_cb, NULL)) ==
	    NULL)
		return -1;
	return 0;
}

/* Release one queued item and its session reference. */
static void
submit_item_free(struct submit_item *it)
{
	size_t	i;

	if (it->session != NULL)
		session_unref(it->session);
	for (i = 0; i < it->nrcpt; i++) {
		free((char *)it->rcpt[i].org);
		free((char *)it->rcpt[i].reason);
	}
	free(it->rcpt);
	free(it->sender);
	free(it->uuid);
	free(it->body);
	free(it);
}

/* A random hub id in UUID form: it says nothing about sender or volume. */
static void
submit_hub_id(char *out, size_t len)
{
	unsigned char	r[16];

	randombytes_buf(r, sizeof(r));
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	snprintf(out, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
	    r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

/* The kind of a message, as the store records it. */
static const char *
submit_kind(const Ceptoar__Message *m)
{
	switch (m->content_case) {
	case CEPTOAR__MESSAGE__CONTENT_REPORT:
		return "report";
	case CEPTOAR__MESSAGE__CONTENT_ADVISORY:
		return "advisory";
	case CEPTOAR__MESSAGE__CONTENT_EARLY_WARNING:
		return "early_warning";
	default:
		return "unknown";
	}
}

void
submit_enqueue(struct session *s, uint64_t request_id,
    const Ceptoar__Message *m, const struct route_result *routes)
{
	struct submit_item	*it;
	size_t			 i, len;

	if ((it = calloc(1, sizeof(*it))) == NULL)
		goto nomem;
	len = ceptoar__message__get_packed_size(m);
	if ((it->body = malloc(len ? len : 1)) == NULL ||
	    (it->sender = strdup(s->org)) == NULL ||
	    (it->uuid = strdup(m->uuid)) == NULL ||
	    (it->rcpt = calloc(routes->n, sizeof(*it->rcpt))) == NULL)
		goto nomem;
	ceptoar__message__pack(m, it->body);
	for (i = 0; i < routes->n; i++) {
		it->rcpt[i].org = strdup(routes->v[i].org);
		it->rcpt[i].reason = strdup(routes->v[i].reason);
		it->nrcpt++;
		if (it->rcpt[i].org == NULL || it->rcpt[i].reason == NULL)
			goto nomem;
	}
	crypto_generichash(it->digest, sizeof(it->digest), it->body, len,
	    NULL, 0);
	submit_hub_id(it->msg.hub_id, sizeof(it->msg.hub_id));
	it->msg.sender = it->sender;
	it->msg.uuid = it->uuid;
	it->msg.kind = submit_kind(m);
	it->msg.received_at = (int64_t)time(NULL);
	it->msg.body = it->body;
	it->msg.body_len = len;
	it->tlp = m->tlp;
	it->drill = m->has_drill && m->drill;
	it->request_id = request_id;
	it->session = s;
	session_ref(s);
	*submit_tail = it;
	submit_tail = &it->next;
	if (submit_queued++ == 0)
		event_active(submit_ev, 0, 0);
	return;
nomem:
	if (it != NULL)
		submit_item_free(it);
	session_error(s, request_id, CEPTOAR__ERROR_CODE__ERROR_INTERNAL, NULL,
	    false, "the hub is out of memory; the message was not accepted");
}

/* Acknowledge one committed item to its session, if it is still there. */
static void
submit_answer(struct submit_item *it)
{
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__SubmitAck	 ack = CEPTOAR__SUBMIT_ACK__INIT;
	Ceptoar__Recipient	*rv = NULL, **rp = NULL;
	struct deliver_recipients dl;
	struct session		*s = it->session;
	char			*cause = NULL;
	size_t			 i, n = 0;

	if (it->conflict) {
		session_error(s, it->request_id,
		    CEPTOAR__ERROR_CODE__ERROR_IDEMPOTENCY_CONFLICT, "uuid",
		    false, "uuid %s was already used by %s for different "
		    "content (hub id %s); use a new uuid for a new message",
		    it->uuid, it->sender, it->msg.hub_id);
		return;
	}
	memset(&dl, 0, sizeof(dl));
	if (it->duplicate) {
		/* The original recipients, as the first ack listed them. */
		if (deliver_recipients_load(it->msg.hub_id, &dl, &cause) == -1) {
			log_event(LOG_LVL_ERROR, "store.error",
			    "op=recipients cause=\"%s\"", cause ? cause : "");
			free(cause);
		}
		rp = dl.ptrs;
		n = dl.ptrs ? dl.n : 0;
	} else if ((rv = calloc(it->nrcpt ? it->nrcpt : 1, sizeof(*rv)))
	    != NULL) {
		for (i = 0; i < it->nrcpt; i++) {
			ceptoar__recipient__init(&rv[i]);
			rv[i].organisation = (char *)it->rcpt[i].org;
			rv[i].reason = (char *)it->rcpt[i].reason;
		}
		n = it->nrcpt;
	}
	if (!it->duplicate && n > 0 && (rp = calloc(n, sizeof(*rp))) != NULL)
		for (i = 0; i < n; i++)
			rp[i] = &rv[i];
	ack.hub_id = it->msg.hub_id;
	ack.has_sequence = 1;
	ack.sequence = it->msg.seq;
	ack.has_duplicate = 1;
	ack.duplicate = it->duplicate;
	ack.recipients = rp;
	ack.n_recipients = rp ? n : 0;
	env.has_request_id = 1;
	env.request_id = it->request_id;
	env.body_case = CEPTOAR__ENVELOPE__BODY_SUBMIT_ACK;
	env.submit_ack = &ack;
	if (s->state == SESSION_READY)
		session_send(s, &env);
	if (it->duplicate)
		deliver_recipients_free(&dl);
	else {
		free(rp);
		free(rv);
	}
}

/* Write every queued submit in one transaction, then answer them all. */
static void
submit_commit_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct submit_item	*batch = submit_head, *it, *next;
	char			*cause = NULL, esc[200];
	unsigned char		 digest[32];
	size_t			 n = submit_queued, i;
	int			 rc, failed = 0;

	submit_head = NULL;
	submit_tail = &submit_head;
	submit_queued = 0;
	if (batch == NULL)
		return;
	if (store_begin(hub->store, &cause) == -1) {
		failed = 1;
		goto answer;
	}
	for (it = batch; it != NULL; it = it->next) {
		rc = store_lookup_uuid(hub->store, it->sender, it->uuid,
		    it->msg.hub_id, &it->msg.seq, digest, &cause);
		if (rc == -1) {
			failed = 1;
			break;
		}
		if (rc == 1) {
			if (sodium_memcmp(digest, it->digest, sizeof(digest))
			    == 0)
				it->duplicate = true;
			else
				it->conflict = true;
			continue;
		}
		if (store_insert(hub->store, &it->msg, it->rcpt, it->nrcpt,
		    &cause) == -1) {
			failed = 1;
			break;
		}
	}
	if (failed)
		store_rollback(hub->store);
	else if (store_commit(hub->store, &cause) == -1) {
		failed = 1;
		store_rollback(hub->store);
	}
answer:
	if (failed)
		log_event(LOG_LVL_ERROR, "store.error", "op=commit batch=%zu "
		    "cause=%s", n, log_escape(cause, esc, sizeof(esc)));
	free(cause);
	for (it = batch; it != NULL; it = next) {
		next = it->next;
		if (failed) {
			session_error(it->session, it->request_id,
			    CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED, NULL, false,
			    "the hub could not store this message durably; it "
			    "was NOT accepted, submit it again with the same "
			    "uuid");
		} else {
			log_event(LOG_LVL_INFO, it->duplicate ?
			    "submit.duplicate" : it->conflict ?
			    "submit.conflict" : "submit.accepted",
			    "session=%s org=%s hub_id=%s seq=%llu uuid=%s "
			    "kind=%s tlp=%s drill=%s recipients=%zu batch=%zu",
			    it->session->sid, it->sender, it->msg.hub_id,
			    (unsigned long long)it->msg.seq, it->uuid,
			    it->msg.kind, names_lookup(names_tlp, it->tlp),
			    it->drill ? "yes" : "no", it->nrcpt, n);
			if (!it->duplicate && !it->conflict)
				for (i = 0; i < it->nrcpt; i++)
					log_event(LOG_LVL_INFO, "route.recipient",
					    "hub_id=%s org=%s reason=%s",
					    it->msg.hub_id, it->rcpt[i].org,
					    log_escape(it->rcpt[i].reason, esc,
					    sizeof(esc)));
			submit_answer(it);
		}
	}
	/* Wake the recipients only now that their deliveries exist. */
	for (it = batch; it != NULL && !failed; it = it->next)
		if (!it->duplicate && !it->conflict)
			for (i = 0; i < it->nrcpt; i++)
				deliver_notify(it->rcpt[i].org);
	for (it = batch; it != NULL; it = next) {
		next = it->next;
		submit_item_free(it);
	}
}

void
submit_flush(void)
{
	if (submit_head != NULL)
		submit_commit_cb(-1, 0, NULL);
}

void
submit_shutdown(void)
{
	submit_flush();
	if (submit_ev != NULL)
		event_free(submit_ev);
	submit_ev = NULL;
}
