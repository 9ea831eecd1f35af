/*
 * One handler per wire message, each a row in handle_table.  Handlers see
 * a session and a decoded envelope, never the network or TLS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptoard.h"
#include "names.h"
#include "validate.h"

typedef void (*handle_fn)(struct session *, Ceptoar__Envelope *);

struct handle_entry {
	Ceptoar__Envelope__BodyCase	 body;
	const char			*name;
	handle_fn			 fn;		/* NULL: sent by the hub only */
	bool				 needs_ready;	/* only after the hello */
};

static void	handle_hello(struct session *, Ceptoar__Envelope *);
static void	handle_subscribe(struct session *, Ceptoar__Envelope *);
static void	handle_deliver_ack(struct session *, Ceptoar__Envelope *);
static void	handle_fetch(struct session *, Ceptoar__Envelope *);
static void	handle_ping(struct session *, Ceptoar__Envelope *);

static const struct handle_entry handle_table[] = {
	{ CEPTOAR__ENVELOPE__BODY_HELLO, "hello", handle_hello, false },
	{ CEPTOAR__ENVELOPE__BODY_SUBMIT, "submit", handle_submit, true },
	{ CEPTOAR__ENVELOPE__BODY_SUBSCRIBE, "subscribe", handle_subscribe,
	    true },
	{ CEPTOAR__ENVELOPE__BODY_DELIVER_ACK, "deliver_ack",
	    handle_deliver_ack, true },
	{ CEPTOAR__ENVELOPE__BODY_FETCH, "fetch", handle_fetch, true },
	{ CEPTOAR__ENVELOPE__BODY_PING, "ping", handle_ping, true },
	{ CEPTOAR__ENVELOPE__BODY_FORWARD, "forward", handle_forward, true },
	{ CEPTOAR__ENVELOPE__BODY_PREVIEW, "preview", handle_preview, true },
	{ CEPTOAR__ENVELOPE__BODY_RECEIPTS, "receipts", handle_receipts, true },
	{ CEPTOAR__ENVELOPE__BODY_CHECK_STATUS, "check_status",
	    handle_check_status, true },
	{ CEPTOAR__ENVELOPE__BODY_REVIEW, "review", handle_review, true },
	{ CEPTOAR__ENVELOPE__BODY_REVIEW_REJECT, "review_reject",
	    handle_review_reject, true },
	{ CEPTOAR__ENVELOPE__BODY_REVIEW_RESULT, "review_result", NULL, false },
	{ CEPTOAR__ENVELOPE__BODY_PREVIEW_RESULT, "preview_result", NULL,
	    false },
	{ CEPTOAR__ENVELOPE__BODY_RECEIPTS_RESULT, "receipts_result", NULL,
	    false },
	{ CEPTOAR__ENVELOPE__BODY_CHECK_RESULT, "check_result", NULL, false },
	{ CEPTOAR__ENVELOPE__BODY_WELCOME, "welcome", NULL, false },
	{ CEPTOAR__ENVELOPE__BODY_SUBMIT_ACK, "submit_ack", NULL, false },
	{ CEPTOAR__ENVELOPE__BODY_SUBSCRIBED, "subscribed", NULL, false },
	{ CEPTOAR__ENVELOPE__BODY_DELIVER, "deliver", NULL, false },
	{ CEPTOAR__ENVELOPE__BODY_FETCH_RESULT, "fetch_result", NULL, false },
	{ CEPTOAR__ENVELOPE__BODY_ERROR, "error", NULL, false },
	{ CEPTOAR__ENVELOPE__BODY_PONG, "pong", NULL, false },
};

void
handle_envelope(struct session *s, Ceptoar__Envelope *env)
{
	const struct handle_entry	*h = NULL;
	size_t				 i;

	for (i = 0; i < sizeof(handle_table) / sizeof(*handle_table); i++)
		if (handle_table[i].body == env->body_case)
			h = &handle_table[i];
	if (s->state == SESSION_HELLO &&
	    env->body_case != CEPTOAR__ENVELOPE__BODY_HELLO) {
		session_error(s, env->request_id,
		    CEPTOAR__ERROR_CODE__ERROR_UNEXPECTED_MESSAGE, NULL, true,
		    "the first message must be hello, not %s",
		    h ? h->name : "an empty or unknown message");
		return;
	}
	if (h == NULL) {
		session_error(s, env->request_id,
		    CEPTOAR__ERROR_CODE__ERROR_UNEXPECTED_MESSAGE, NULL, false,
		    "empty or unknown message body (field %d)",
		    (int)env->body_case);
		return;
	}
	if (h->fn == NULL) {
		session_error(s, env->request_id,
		    CEPTOAR__ERROR_CODE__ERROR_UNEXPECTED_MESSAGE, NULL, true,
		    "%s is sent by the hub, never to it", h->name);
		return;
	}
	if (s->state == SESSION_READY && !h->needs_ready) {
		session_error(s, env->request_id,
		    CEPTOAR__ERROR_CODE__ERROR_UNEXPECTED_MESSAGE, NULL, false,
		    "%s was already accepted on this connection", h->name);
		return;
	}
	metrics_request(h->name);
	h->fn(s, env);
	metrics_request(NULL);
}

/* Identify the peer from its certificate; what the hello says is noted only. */
static void
handle_hello(struct session *s, Ceptoar__Envelope *env)
{
	Ceptoar__Envelope	 out = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Welcome	 w = CEPTOAR__WELCOME__INIT;
	const struct dir_org	*o;
	char			*roles[8], rolestr[128], esc[200], buf[8][16];
	unsigned		 bit;
	size_t			 n = 0;

	if ((o = directory_org_by_cn(hub->dir, s->cert_cn)) == NULL) {
		session_error(s, env->request_id,
		    CEPTOAR__ERROR_CODE__ERROR_UNKNOWN_ORGANISATION, NULL, true,
		    "certificate CN=%s (sha256 %.16s...) belongs to no "
		    "organisation in the hub's directory", s->cert_cn,
		    s->fingerprint);
		return;
	}
	snprintf(s->org, sizeof(s->org), "%s", o->id);
	s->roles = o->roles;
	for (bit = 1; bit <= ROLE_COUNCIL && n < 8; bit <<= 1) {
		if (o->roles & bit) {
			directory_roles_str(bit, buf[n], sizeof(buf[n]));
			roles[n] = buf[n];
			n++;
		}
	}
	session_enter_state(s, SESSION_READY);
	log_event(LOG_LVL_INFO, "session.hello",
	    "session=%s org=%s roles=%s software=%s", s->sid, s->org,
	    directory_roles_str(o->roles, rolestr, sizeof(rolestr)),
	    log_escape(env->hello ? env->hello->software : "", esc,
	    sizeof(esc)));
	w.organisation = o->id;
	w.organisation_name = o->name;
	w.roles = roles;
	w.n_roles = n;
	w.hub_version = CEPTOARD_VERSION;
	w.has_max_frame = 1;
	w.max_frame = s->max_frame;
	w.session = s->sid;
	out.has_request_id = 1;
	out.request_id = env->request_id;
	out.body_case = CEPTOAR__ENVELOPE__BODY_WELCOME;
	out.welcome = &w;
	session_send(s, &out);
}

static void
handle_subscribe(struct session *s, Ceptoar__Envelope *env)
{
	deliver_subscribe(s, env->request_id, env->subscribe);
}

static void
handle_deliver_ack(struct session *s, Ceptoar__Envelope *env)
{
	deliver_ack(s, env->request_id, env->deliver_ack);
}

struct handle_fetch_state {
	Ceptoar__Delivery	 d;
	Ceptoar__Message	*m;
	int			 found;
	int			 failed;
};

/* Copy the one visible row of a fetch into the reply. */
static int
handle_fetch_row(const struct store_delivery *sd, void *arg)
{
	struct handle_fetch_state *st = arg;

	if (deliver_fill(&st->d, sd, &st->m) == -1)
		st->failed = 1;
	st->found = 1;
	return 1;
}

static void
handle_fetch(struct session *s, Ceptoar__Envelope *env)
{
	Ceptoar__Envelope		 out = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__FetchResult		 fr = CEPTOAR__FETCH_RESULT__INIT;
	struct handle_fetch_state	 st;
	struct deliver_recipients	 rl;
	const char			*id = env->fetch->hub_id;
	char				*cause = NULL;
	int				 rc;

	memset(&st, 0, sizeof(st));
	memset(&rl, 0, sizeof(rl));
	ceptoar__delivery__init(&st.d);
	if (id == NULL || *id == '\0' || strlen(id) >= STORE_HUB_ID_LEN) {
		session_error(s, env->request_id,
		    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD, "hub_id", false,
		    "hub_id must be a message id as returned by submit");
		return;
	}
	rc = store_fetch(hub->store, s->org, id, handle_fetch_row, &st, &cause);
	if (rc == -1 || st.failed) {
		log_event(LOG_LVL_ERROR, "store.error", "session=%s op=fetch "
		    "cause=\"%s\"", s->sid, cause ? cause : "decode failed");
		session_error(s, env->request_id,
		    CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED, NULL, false,
		    "the store could not read message %s", id);
		goto done;
	}
	if (rc == 1 || !st.found) {
		session_error(s, env->request_id,
		    CEPTOAR__ERROR_CODE__ERROR_NOT_FOUND, "hub_id", false,
		    "no message %s among those sent to or by %s", id, s->org);
		goto done;
	}
	/* Only the sender learns who else received the message. */
	if (st.d.sender != NULL && strcmp(st.d.sender, s->org) == 0 &&
	    deliver_recipients_load(id, &rl, &cause) == -1)
		log_event(LOG_LVL_ERROR, "store.error", "session=%s "
		    "op=recipients cause=\"%s\"", s->sid, cause ? cause : "");
	fr.delivery = &st.d;
	fr.recipients = rl.ptrs;
	fr.n_recipients = rl.ptrs ? rl.n : 0;
	out.has_request_id = 1;
	out.request_id = env->request_id;
	out.body_case = CEPTOAR__ENVELOPE__BODY_FETCH_RESULT;
	out.fetch_result = &fr;
	session_send(s, &out);
done:
	free(cause);
	deliver_recipients_free(&rl);
	deliver_clear(&st.d, st.m);
}

static void
handle_ping(struct session *s, Ceptoar__Envelope *env)
{
	Ceptoar__Envelope	out = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Pong		pong = CEPTOAR__PONG__INIT;

	/* A Pong says the acknowledgements sent before the Ping are stored. */
	submit_write_acks();
	pong.has_nonce = env->ping->has_nonce;
	pong.nonce = env->ping->nonce;
	out.has_request_id = 1;
	out.request_id = env->request_id;
	out.body_case = CEPTOAR__ENVELOPE__BODY_PONG;
	out.pong = &pong;
	session_send(s, &out);
}
