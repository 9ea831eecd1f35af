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

#define HANDLE_MAX_WARNINGS	4

/* Send env as the answer to request rid. */
static void
handle_answer(struct session *s, uint64_t rid, Ceptoar__Envelope *env)
{
	env->has_request_id = 1;
	env->request_id = rid;
	session_send(s, env);
}

void
handle_preview(struct session *s, Ceptoar__Envelope *env)
{
	Ceptoar__Message	*m = env->preview->message;
	Ceptoar__Envelope	 out = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__PreviewResult	 pr = CEPTOAR__PREVIEW_RESULT__INIT;
	Ceptoar__RoutePreview	*rv = NULL, **rp = NULL;
	Ceptoar__Message	*anon = NULL, **labelled = NULL;
	const struct dir_org	*sender;
	struct validate_error	 verr;
	struct route_result	 plan;
	struct anon_result	 ar;
	Ceptoar__ErrorCode	 code = CEPTOAR__ERROR_CODE__ERROR_INTERNAL;
	uint64_t		 rid = env->request_id;
	const char		*field = NULL;
	char			*cause = NULL, *warnings[HANDLE_MAX_WARNINGS];
	char			 wbuf[HANDLE_MAX_WARNINGS][300];
	size_t			 i, n = 0, nw = 0;

	memset(&plan, 0, sizeof(plan));
	memset(&ar, 0, sizeof(ar));
	if (m == NULL || validate_message(m, &verr) == -1 ||
	    validate_times(m, (int64_t)time(NULL), &verr) == -1) {
		session_error(s, rid, CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    m ? verr.field : "message", false, "%s: %s",
		    m ? verr.field : "message", m ? verr.reason : "is missing");
		return;
	}
	if ((sender = directory_org(hub->dir, s->org)) == NULL) {
		session_error(s, rid,
		    CEPTOAR__ERROR_CODE__ERROR_UNKNOWN_ORGANISATION, NULL, true,
		    "organisation %s is no longer in the directory", s->org);
		return;
	}
	if (handle_answer_ref(m, &field) != NULL) {
		session_error(s, rid, CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    field, false, "%s: preview shows where a new message goes; "
		    "an answer goes back the way what it answers came", field);
		return;
	}
	handle_clear_hub_fields(m);
	if (handle_hub_fields(m, sender) == -1 ||
	    route_message(m, sender, hub->dir, &plan, &code, &cause) == -1 ||
	    handle_chain_plan(m, s->org, &plan, &code, &cause) == -1 ||
	    handle_chain_check(m, s->org, true, &code, &cause) == -1) {
		session_error(s, rid, code, NULL, false, "%s",
		    cause ? cause : "out of memory");
		goto done;
	}
	if (plan.warning[0] != '\0')
		snprintf(wbuf[nw++], sizeof(wbuf[0]), "%s", plan.warning);
	if (plan.ceptoar != NULL && route_anonymises(&plan) &&
	    plan.anonymity_set < hub->conf.anon_k)
		snprintf(wbuf[nw++], sizeof(wbuf[0]), "CEPTOAR %s has %zu "
		    "member%s, fewer than %llu: an anonymised report from it is "
		    "easy to trace back to its reporter", plan.ceptoar->id,
		    plan.anonymity_set, plan.anonymity_set == 1 ? "" : "s",
		    (unsigned long long)hub->conf.anon_k);
	for (i = 0; i < plan.n; i++)
		if (plan.v[i].form == CEPTOAR__FORM__FORM_ANONYMISED)
			break;
	if (i < plan.n && m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT) {
		if (!hub->anon_ready)
			snprintf(wbuf[nw++], sizeof(wbuf[0]), "the hub has no "
			    "anon_key: it would refuse to anonymise");
		else if (anon_report(m, sender, plan.ceptoar, hub->dir,
		    &hub->anon, &ar, &cause) == -1)
			snprintf(wbuf[nw++], sizeof(wbuf[0]), "cannot "
			    "anonymise: %s", cause ? cause : "?");
		else {
			anon = ar.msg;
			if (!ar.vouched)
				snprintf(wbuf[nw++], sizeof(wbuf[0]), "the "
				    "anonymised text would be held for the "
				    "secretariat's review: %s", ar.why ? ar.why :
				    "unvouched text");
		}
	}
	if ((rv = calloc(plan.n ? plan.n : 1, sizeof(*rv))) == NULL ||
	    (rp = calloc(plan.n ? plan.n : 1, sizeof(*rp))) == NULL ||
	    (labelled = calloc(plan.n ? plan.n : 1, sizeof(*labelled))) ==
	    NULL)
		goto nomem;
	for (i = 0; i < plan.n; i++) {
		const struct route_entry *e = &plan.v[i];

		ceptoar__route_preview__init(&rv[n]);
		rv[n].organisation = e->hidden ? "(withheld)" : (char *)e->org;
		rv[n].reason = (char *)e->reason;
		rv[n].has_form = 1;
		rv[n].form = e->form;
		rv[n].has_hop = 1;
		rv[n].hop = e->hop;
		rv[n].has_review = 1;
		rv[n].review = e->review;
		rv[n].as_received = e->form == CEPTOAR__FORM__FORM_ANONYMISED ?
		    anon : m;
		/* Along a share: in the share's label and range (route_chain). */
		if ((e->tlp != 0 || e->range != NULL) &&
		    rv[n].as_received != NULL) {
			if ((labelled[i] = relay_labelled(rv[n].as_received,
			    e->form, sender, e)) == NULL)
				goto nomem;
			rv[n].as_received = labelled[i];
		}
		rp[n] = &rv[n];
		n++;
	}
	for (i = 0; i < nw; i++)
		warnings[i] = wbuf[i];
	pr.routes = rp;
	pr.n_routes = n;
	pr.warnings = warnings;
	pr.n_warnings = nw;
	out.body_case = CEPTOAR__ENVELOPE__BODY_PREVIEW_RESULT;
	out.preview_result = &pr;
	handle_answer(s, rid, &out);
	log_event(LOG_LVL_INFO, "route.preview", "session=%s org=%s kind=%s "
	    "recipients=%zu", s->sid, s->org, relay_kind(m), plan.n);
	goto done;
nomem:
	session_error(s, rid, CEPTOAR__ERROR_CODE__ERROR_INTERNAL, NULL, false,
	    "the hub is out of memory");
done:
	for (i = 0; labelled != NULL && i < plan.n; i++)
		if (labelled[i] != NULL)
			ceptoar__message__free_unpacked(labelled[i], NULL);
	free(labelled);
	free(rv);
	free(rp);
	free(cause);
	anon_result_free(&ar);
	route_result_free(&plan);
}

/* A review desk's rejection notice about the message asked for. */
struct handle_rejection {
	char	*held_by;
	char	*reason;
	int64_t	 at;
};

struct handle_receipts_state {
	Ceptoar__Receipt	*v;
	size_t			 n, cap;
	const char		*asker;
	bool			 failed;
	struct handle_rejection	*rej;
	size_t			 nrej;
};

/* Collect a rejection notice among the answers to the message. */
static int
handle_rejection_row(const struct store_delivery *d, void *arg)
{
	struct handle_receipts_state	*st = arg;
	struct handle_rejection		*nv;
	Ceptoar__Message		*m;

	if (d->body == NULL || d->kind == NULL || strcmp(d->kind, "reply") != 0)
		return 0;
	if ((m = ceptoar__message__unpack(NULL, d->body_len, d->body)) == NULL)
		return 0;
	if (m->content_case == CEPTOAR__MESSAGE__CONTENT_REPLY &&
	    m->reply->has_notice && m->reply->notice ==
	    CEPTOAR__REVIEW_NOTICE__NOTICE_REJECTED && m->reply->held_by) {
		nv = reallocarray(st->rej, st->nrej + 1, sizeof(*nv));
		if (nv == NULL) {
			st->failed = true;
		} else {
			st->rej = nv;
			nv[st->nrej].held_by = strdup(m->reply->held_by);
			nv[st->nrej].reason = strdup(m->reply->text ?
			    m->reply->text : "");
			nv[st->nrej].at = d->received_at;
			if (nv[st->nrej].held_by == NULL ||
			    nv[st->nrej].reason == NULL) {
				free(nv[st->nrej].held_by);
				free(nv[st->nrej].reason);
				st->failed = true;
			} else
				st->nrej++;
		}
	}
	ceptoar__message__free_unpacked(m, NULL);
	return 0;
}

/* Collect one delivery as a receipt, withholding what the asker may not see. */
static int
handle_receipt_row(const struct store_delivery *d, void *arg)
{
	struct handle_receipts_state	*st = arg;
	Ceptoar__Receipt		*nv, *r;

	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;
		if ((nv = reallocarray(st->v, cap, sizeof(*nv))) == NULL) {
			st->failed = true;
			return 1;
		}
		st->v = nv;
		st->cap = cap;
	}
	r = &st->v[st->n];
	ceptoar__receipt__init(r);
	r->recipient = strdup(d->hidden ? "(withheld: relayed)" :
	    d->recipient ? d->recipient : "");
	r->reason = strdup(d->hidden ? "relayed by the chain's secretariat" :
	    d->reason ? d->reason : "");
	r->hub_id = strdup(d->hub_id ? d->hub_id : "");
	if (r->recipient == NULL || r->reason == NULL || r->hub_id == NULL) {
		free(r->recipient);
		free(r->reason);
		free(r->hub_id);
		st->failed = true;
		return 1;
	}
	r->has_hop = 1;
	r->hop = d->hop;
	r->has_form = 1;
	r->form = d->form ? d->form : CEPTOAR__FORM__FORM_ORIGINAL;
	r->has_delivered_at = d->delivered_at != 0;
	r->delivered_at = d->delivered_at;
	r->has_acked_at = d->acked_at != 0;
	r->acked_at = d->acked_at;
	/* A hop this recipient holds: waiting, released or rejected. */
	if (d->review && !d->hidden && d->forwarded_at == 0) {
		r->has_waiting_since = 1;
		r->waiting_since = d->received_at;
	} else if (d->review && !d->hidden) {
		size_t k;

		for (k = 0; k < st->nrej; k++)
			if (d->recipient != NULL &&
			    strcmp(st->rej[k].held_by, d->recipient) == 0)
				break;
		if (k < st->nrej) {
			r->has_rejected_at = 1;
			r->rejected_at = st->rej[k].at;
			r->rejected_reason = st->rej[k].reason;
			st->rej[k].reason = NULL;	/* now the receipt's */
		} else {
			r->has_released_at = 1;
			r->released_at = d->forwarded_at;
		}
	}
	st->n++;
	return 0;
}

/* Free the receipts collected. */
static void
handle_receipts_free(struct handle_receipts_state *st)
{
	size_t	i;

	for (i = 0; i < st->n; i++) {
		free(st->v[i].recipient);
		free(st->v[i].reason);
		free(st->v[i].hub_id);
		free(st->v[i].rejected_reason);
	}
	free(st->v);
	for (i = 0; i < st->nrej; i++) {
		free(st->rej[i].held_by);
		free(st->rej[i].reason);
	}
	free(st->rej);
}

void
handle_receipts(struct session *s, Ceptoar__Envelope *env)
{
	Ceptoar__Envelope		 out = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__ReceiptsResult		 rr = CEPTOAR__RECEIPTS_RESULT__INIT;
	Ceptoar__Receipt		**rp = NULL;
	struct handle_receipts_state	 st;
	struct lookup			 l;
	const char			*id = env->receipts->hub_id;
	uint64_t			 rid = env->request_id;
	char				*cause = NULL;
	size_t				 i;
	int				 rc = 1;

	memset(&st, 0, sizeof(st));
	st.asker = s->org;
	if (id == NULL || (rc = lookup_held(s->org, id, &l, &cause)) == 1 ||
	    (rc == 0 && !l.is_sender)) {
		if (id != NULL && rc == 0)
			lookup_free(&l);
		session_error(s, rid, CEPTOAR__ERROR_CODE__ERROR_NOT_FOUND,
		    "hub_id", false, "no message %s among those you sent",
		    id ? id : "(none)");
		return;
	}
	/* Acknowledgements that arrived before this read as acknowledged. */
	if (rc == 0)
		submit_write_acks();
	if (rc == -1 || store_replies(hub->store, id, handle_rejection_row,
	    &st, &cause) == -1 || store_receipts(hub->store, id,
	    handle_receipt_row, &st, &cause) == -1 || st.failed) {
		if (rc == 0)
			lookup_free(&l);
		log_event(LOG_LVL_ERROR, "store.error", "session=%s op=receipts "
		    "cause=\"%s\"", s->sid, cause ? cause : "out of memory");
		session_error(s, rid, CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED,
		    NULL, false, "the store could not read the receipts of %s",
		    id);
		free(cause);
		handle_receipts_free(&st);
		return;
	}
	lookup_free(&l);
	if (st.n > 0 && (rp = calloc(st.n, sizeof(*rp))) != NULL)
		for (i = 0; i < st.n; i++)
			rp[i] = &st.v[i];
	rr.receipts = rp;
	rr.n_receipts = rp ? st.n : 0;
	out.body_case = CEPTOAR__ENVELOPE__BODY_RECEIPTS_RESULT;
	out.receipts_result = &rr;
	handle_answer(s, rid, &out);
	free(rp);
	handle_receipts_free(&st);
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
handle_check_status(struct session *s, Ceptoar__Envelope *env)
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
		session_error(s, rid, CEPTOAR__ERROR_CODE__ERROR_NOT_FOUND,
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
	session_error(s, rid, CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED, NULL,
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
