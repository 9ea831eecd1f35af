/*
 * Questions about routing that change nothing: what the hub would do with
 * a message (preview), where a sent message has got to (receipts), and
 * who has answered a communication check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ceptoard.h"
#include "names.h"
#include "validate.h"

/* Send env as the answer to request rid. */
static void
handle_answer(struct session *s, uint64_t rid, Ceptoar__Envelope *env)
{
	env->has_request_id = 1;
	env->request_id = rid;
	session_send(s, env);
}

void
handle_preview(struct session *s, Ceptoar__Envelope *env,
    struct service_error *err)
{
	Ceptoar__Envelope	 out = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__PreviewResult	 pr = CEPTOAR__PREVIEW_RESULT__INIT;
	Ceptoar__RoutePreview	**rp = NULL;
	struct service_caller	 who;
	struct service_preview	 p;
	char			*warnings[SERVICE_MAX_WARNINGS];
	size_t			 i;

	handle_caller(s, &who);
	if (service_preview(&who, env->preview->message, &p, err) == -1)
		return;
	if ((rp = calloc(p.n ? p.n : 1, sizeof(*rp))) == NULL) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_INTERNAL, NULL,
		    false, "the hub is out of memory");
		service_preview_free(&p);
		return;
	}
	for (i = 0; i < p.n; i++)
		rp[i] = &p.rv[i];
	for (i = 0; i < p.nwarnings; i++)
		warnings[i] = p.warnings[i];
	pr.routes = rp;
	pr.n_routes = p.n;
	pr.warnings = warnings;
	pr.n_warnings = p.nwarnings;
	out.body_case = CEPTOAR__ENVELOPE__BODY_PREVIEW_RESULT;
	out.preview_result = &pr;
	handle_answer(s, env->request_id, &out);
	free(rp);
	service_preview_free(&p);
}

void
handle_receipts(struct session *s, Ceptoar__Envelope *env,
    struct service_error *err)
{
	Ceptoar__Envelope		 out = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__ReceiptsResult		 rr = CEPTOAR__RECEIPTS_RESULT__INIT;
	Ceptoar__Receipt		**rp = NULL;
	struct service_caller		 who;
	struct service_receipts		 st;
	size_t				 i;

	handle_caller(s, &who);
	if (service_receipts(&who, env->receipts->hub_id, &st, err) == -1)
		return;
	if (st.n > 0 && (rp = calloc(st.n, sizeof(*rp))) != NULL)
		for (i = 0; i < st.n; i++)
			rp[i] = &st.v[i];
	rr.receipts = rp;
	rr.n_receipts = rp ? st.n : 0;
	out.body_case = CEPTOAR__ENVELOPE__BODY_RECEIPTS_RESULT;
	out.receipts_result = &rr;
	handle_answer(s, env->request_id, &out);
	free(rp);
	service_receipts_free(&st);
}

struct handle_check_state {
	Ceptoar__CheckParty	*v;
	size_t			 n, cap;
	const char		*form_hub_id;	/* set while collecting answers */
	bool			 failed;
};

/* One delivery of the check: a party that must answer. */
static int
handle_check_party(const struct store_delivery *d, void *arg)
{
	struct handle_check_state	*st = arg;
	Ceptoar__CheckParty		*nv, *p;

	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 32;
		if ((nv = reallocarray(st->v, cap, sizeof(*nv))) == NULL) {
			st->failed = true;
			return 1;
		}
		st->v = nv;
		st->cap = cap;
	}
	p = &st->v[st->n];
	ceptoar__check_party__init(p);
	p->organisation = strdup(d->recipient ? d->recipient : "");
	p->via = strdup(d->hub_id ? d->hub_id : "");	/* the form it got */
	if (p->organisation == NULL || p->via == NULL) {
		free(p->organisation);
		free(p->via);
		st->failed = true;
		return 1;
	}
	p->has_hop = 1;
	p->hop = d->hop;
	p->has_delivered_at = d->delivered_at != 0;
	p->delivered_at = d->delivered_at;
	st->n++;
	return 0;
}

/* One answer to a form of the check: mark its sender answered. */
static int
handle_check_answer(const struct store_delivery *d, void *arg)
{
	struct handle_check_state	*st = arg;
	size_t				 i;

	if (d->kind == NULL || strcmp(d->kind, "check_answer") != 0)
		return 0;
	for (i = 0; i < st->n; i++) {
		Ceptoar__CheckParty *p = &st->v[i];

		if (strcmp(p->organisation, d->sender) == 0 &&
		    strcmp(p->via, st->form_hub_id) == 0 &&
		    (!p->has_answered_at || d->received_at < p->answered_at)) {
			p->has_answered_at = 1;
			p->answered_at = d->received_at;
		}
	}
	return 0;
}

void
handle_check_status(struct session *s, Ceptoar__Envelope *env,
    struct service_error *err)
{
	Ceptoar__Envelope		 out = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__CheckResult		 cr = CEPTOAR__CHECK_RESULT__INIT;
	Ceptoar__CheckParty		**pp = NULL;
	struct handle_check_state	 st;
	struct lookup			 l;
	const char			*id = env->check_status->hub_id;
	uint64_t			 rid = env->request_id;
	int64_t				 deadline, now = (int64_t)time(NULL);
	char				*cause = NULL;
	size_t				 i, j;
	int				 rc = 1;

	memset(&st, 0, sizeof(st));
	if (id == NULL || (rc = lookup_held(s->org, id, &l, &cause)) == 1 ||
	    (rc == 0 && (!l.is_sender || strcmp(l.kind, "comm_check") != 0))) {
		if (id != NULL && rc == 0)
			lookup_free(&l);
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_NOT_FOUND,
		    "hub_id", false, "no communication check %s among those "
		    "you started", id ? id : "(none)");
		return;
	}
	if (rc == 0)
		submit_write_acks();
	if (rc == -1 || store_receipts(hub->store, id, handle_check_party, &st,
	    &cause) == -1)
		goto storefail;
	/* Answers name the form each party received. */
	for (i = 0; i < st.n && !st.failed; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(st.v[j].via, st.v[i].via) == 0)
				break;
		if (j < i)
			continue;
		st.form_hub_id = st.v[i].via;
		if (store_replies(hub->store, st.v[i].via, handle_check_answer,
		    &st, &cause) == -1)
			goto storefail;
	}
	deadline = l.received_at + (l.held->comm_check->has_deadline_seconds ?
	    l.held->comm_check->deadline_seconds : 3600);
	for (i = 0; i < st.n; i++) {
		Ceptoar__CheckParty *p = &st.v[i];

		p->has_late = 1;
		p->late = p->has_answered_at ? p->answered_at > deadline :
		    now > deadline;
	}
	if (st.n > 0 && (pp = calloc(st.n, sizeof(*pp))) != NULL)
		for (i = 0; i < st.n; i++)
			pp[i] = &st.v[i];
	cr.hub_id = (char *)id;
	cr.has_started_at = 1;
	cr.started_at = l.received_at;
	cr.has_deadline = 1;
	cr.deadline = deadline;
	cr.parties = pp;
	cr.n_parties = pp ? st.n : 0;
	out.body_case = CEPTOAR__ENVELOPE__BODY_CHECK_RESULT;
	out.check_result = &cr;
	handle_answer(s, rid, &out);
	free(pp);
	goto done;
storefail:
	log_event(LOG_LVL_ERROR, "store.error", "session=%s op=check cause=\"%s\"",
	    s->sid, cause ? cause : "out of memory");
	service_fail(err, CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED, NULL,
	    false, "the store could not read check %s", id);
done:
	for (i = 0; i < st.n; i++) {
		free(st.v[i].organisation);
		free(st.v[i].via);
	}
	free(st.v);
	free(cause);
	if (rc == 0)
		lookup_free(&l);
}
