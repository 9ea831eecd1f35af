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

typedef void (*handle_fn)(struct session *, Ceptoar__Envelope *,
	    struct service_error *);

struct handle_entry {
	Ceptoar__Envelope__BodyCase	 body;
	const char			*name;
	handle_fn			 fn;		/* NULL: sent by the hub only */
	bool				 needs_ready;	/* only after the hello */
};

static void	handle_hello(struct session *, Ceptoar__Envelope *,
	    struct service_error *);
static void	handle_subscribe(struct session *, Ceptoar__Envelope *,
	    struct service_error *);
static void	handle_deliver_ack(struct session *, Ceptoar__Envelope *,
	    struct service_error *);
static void	handle_fetch(struct session *, Ceptoar__Envelope *,
	    struct service_error *);
static void	handle_ping(struct session *, Ceptoar__Envelope *,
	    struct service_error *);

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
handle_error(struct session *s, uint64_t rid, const struct service_error *err)
{
	session_error(s, rid, err->code, err->field[0] ? err->field : NULL,
	    err->fatal, "%s", err->message);
}

void
handle_done(void *arg, uint64_t rid, const Ceptoar__SubmitAck *ack,
    const struct service_error *err)
{
	struct session		*s = arg;
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT;

	if (err != NULL) {
		handle_error(s, rid, err);
		return;
	}
	env.has_request_id = 1;
	env.request_id = rid;
	env.body_case = CEPTOAR__ENVELOPE__BODY_SUBMIT_ACK;
	env.submit_ack = (Ceptoar__SubmitAck *)ack;
	if (s->state == SESSION_READY)
		session_send(s, &env);
}

void
handle_caller(const struct session *s, struct service_caller *who)
{
	who->org = s->org;
	who->sid = s->sid;
}

void
handle_enqueue(struct session *s, uint64_t rid, struct relay_batch *b,
    bool same_digest, int tlp, bool drill, const char *warning)
{
	struct service_caller	who;

	handle_caller(s, &who);
	submit_enqueue(&who, s, handle_done, s, rid, b, same_digest, tlp,
	    drill, warning);
}

/* Which handler, if any, may take env on s now: NULL with err if none. */
static const struct handle_entry *
handle_find(struct session *s, Ceptoar__Envelope *env,
    struct service_error *err)
{
	const struct handle_entry	*h = NULL;
	size_t				 i;

	for (i = 0; i < sizeof(handle_table) / sizeof(*handle_table); i++)
		if (handle_table[i].body == env->body_case)
			h = &handle_table[i];
	if (s->state == SESSION_HELLO &&
	    env->body_case != CEPTOAR__ENVELOPE__BODY_HELLO) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_UNEXPECTED_MESSAGE,
		    NULL, true, "the first message must be hello, not %s",
		    h ? h->name : "an empty or unknown message");
		return NULL;
	}
	if (h == NULL) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_UNEXPECTED_MESSAGE,
		    NULL, false, "empty or unknown message body (field %d)",
		    (int)env->body_case);
		return NULL;
	}
	if (h->fn == NULL) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_UNEXPECTED_MESSAGE,
		    NULL, true, "%s is sent by the hub, never to it", h->name);
		return NULL;
	}
	if (s->state == SESSION_READY && !h->needs_ready) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_UNEXPECTED_MESSAGE,
		    NULL, false, "%s was already accepted on this connection",
		    h->name);
		return NULL;
	}
	return h;
}

/*
 * Decode, call, reply: each request's error goes out here, once (its
 * success reply is sent by its handler, or by handle_done once durable).
 */
void
handle_envelope(struct session *s, Ceptoar__Envelope *env)
{
	const struct handle_entry	*h;
	struct service_error		 err;

	memset(&err, 0, sizeof(err));
	if ((h = handle_find(s, env, &err)) == NULL) {
		handle_error(s, env->request_id, &err);
		return;
	}
	metrics_request(h->name);
	h->fn(s, env, &err);
	if (err.set)
		handle_error(s, env->request_id, &err);
	metrics_request(NULL);
}

bool
handle_rate_submit(struct session *s, struct service_error *err,
    const char *undone)
{
	if (rate_org_submit(s->org))
		return true;
	service_fail(err, CEPTOAR__ERROR_CODE__ERROR_RATE_LIMITED, NULL,
	    false, "%s is over its limit of %llu submits per second; %s",
	    s->org, (unsigned long long)hub->conf.rate_org_submits, undone);
	return false;
}

/* Identify the peer from its certificate; what the hello says is noted only. */
static void
handle_hello(struct session *s, Ceptoar__Envelope *env,
    struct service_error *err)
{
	Ceptoar__Envelope	 out = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Welcome	 w = CEPTOAR__WELCOME__INIT;
	const struct dir_org	*o;
	char			*roles[8], rolestr[128], esc[200], buf[8][16];
	unsigned		 bit;
	size_t			 n = 0;

	if ((o = directory_org_by_cn(hub->dir, s->cert_cn)) == NULL) {
		service_fail(err,
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
handle_subscribe(struct session *s, Ceptoar__Envelope *env,
    struct service_error *err)
{
	deliver_subscribe(s, env->request_id, err, env->subscribe);
}

static void
handle_deliver_ack(struct session *s, Ceptoar__Envelope *env,
    struct service_error *err)
{
	deliver_ack(s, env->request_id, err, env->deliver_ack);
}

static void
handle_fetch(struct session *s, Ceptoar__Envelope *env,
    struct service_error *err)
{
	Ceptoar__Envelope	 out = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__FetchResult	 fr = CEPTOAR__FETCH_RESULT__INIT;
	struct service_caller	 who;
	struct service_show	 sh;

	handle_caller(s, &who);
	if (service_show(&who, env->fetch->hub_id, &sh, err) == 0) {
		fr.delivery = &sh.d;
		fr.recipients = sh.has_recipients ? sh.rl.ptrs : NULL;
		fr.n_recipients = sh.has_recipients && sh.rl.ptrs ? sh.rl.n : 0;
		out.has_request_id = 1;
		out.request_id = env->request_id;
		out.body_case = CEPTOAR__ENVELOPE__BODY_FETCH_RESULT;
		out.fetch_result = &fr;
		session_send(s, &out);
	}
	service_show_free(&sh);
}

static void
handle_ping(struct session *s, Ceptoar__Envelope *env,
    struct service_error *err)
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
