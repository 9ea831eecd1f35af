/*
 * The hub's operations, whatever the transport: submit, show one
 * message, fetch an inbox after a cursor, receipts and preview.  Each
 * takes the authenticated caller and its request as plain C values, and
 * gives a result or one service_error {wire code, field, sentence};
 * submit answers through a completion once its group commit is durable.
 * The protobuf session (handle*.c) and the HTTP adapters translate their
 * wire format to these calls and back; policy is asked of route.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ceptoard.h"
#include "names.h"
#include "validate.h"

int
service_fail(struct service_error *err, Ceptoar__ErrorCode code,
    const char *field, bool fatal, const char *fmt, ...)
{
	char	msg[512], esc[1100];
	va_list	ap;

	if (err->set) {
		/* A second failure of one request: a bug, not the peer's. */
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		log_event(LOG_LVL_ERROR, "service.error", "code=%s dropped=%s",
		    names_lookup(names_error_code, code),
		    log_escape(msg, esc, sizeof(esc)));
		return -1;
	}
	err->set = true;
	err->code = code;
	err->fatal = fatal;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * A store read failed: its cause (it names the store's files) goes to the
 * log only, freed here; the caller learns what could not be read, as
 * "the store could not read WHAT ID".  Returns -1.
 */
static int
service_store_failed(const struct service_caller *who, const char *op,
    char *cause, const char *fallback, const char *what, const char *id,
    struct service_error *err)
{
	log_event(LOG_LVL_ERROR, "store.error", "session=%s op=%s "
	    "cause=\"%s\"", who->sid, op, cause ? cause : fallback);
	free(cause);
	return service_fail(err, CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED,
	    NULL, false, "the store could not read %s %s", what, id);
}

int
service_refuse(struct service_error *err, const struct route_refusal *why)
{
	return service_fail(err, why->code, why->field, false, "%s",
	    why->reason);
}

/*
 * A consent: only the originator of the report answers, and an approval
 * widens the report's range.  l is what the consenting org holds: the
 * widen request as it reached it.
 */
static int
service_consent(const struct service_caller *who, struct service_error *err,
    const Ceptoar__Message *m, const struct lookup *l, struct relay_batch *b)
{
	const Ceptoar__WidenRequest	*w;
	struct lookup			 report;
	struct route_refusal		 why;
	char				*cause = NULL;
	int				 rc;

	if (l->original->content_case !=
	    CEPTOAR__MESSAGE__CONTENT_WIDEN_REQUEST)
		return 0;	/* route_reply refuses it with the reason */
	w = l->original->widen_request;
	/* The report as the requester holds it leads to the original. */
	rc = lookup_held(l->originator, w->hub_id ? w->hub_id : "", &report,
	    &cause);
	if (rc != 0) {
		free(cause);
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_NOT_FOUND,
		    "consent_answer.request", false, "the report this request "
		    "is about is no longer in the store");
		return -1;
	}
	if (route_consent(report.originator, who->org, &why) == -1) {
		lookup_free(&report);
		service_refuse(err, &why);
		return -1;
	}
	if (m->consent_answer->has_approve && m->consent_answer->approve &&
	    w->sharing != NULL) {
		b->sharing_len = ceptoar__sharing_range__get_packed_size(
		    w->sharing);
		if ((b->sharing = malloc(b->sharing_len ? b->sharing_len : 1))
		    == NULL || (b->sharing_hub_id = strdup(report.origin)) ==
		    NULL) {
			lookup_free(&report);
			return service_fail(err,
			    CEPTOAR__ERROR_CODE__ERROR_INTERNAL, NULL, false,
			    "the hub is out of memory; the message was not "
			    "accepted");
		}
		ceptoar__sharing_range__pack(w->sharing, b->sharing);
		log_event(LOG_LVL_INFO, "route.widened", "session=%s report=%s "
		    "scope=%s", who->sid, report.origin, w->sharing->has_scope ?
		    names_lookup(names_sharing_scope, w->sharing->scope) :
		    "none");
	}
	lookup_free(&report);
	return 0;
}

int
service_submit(const struct service_caller *who, struct session *conn,
    Ceptoar__Message *m, service_done_cb done, void *arg, uint64_t tag,
    struct service_error *err)
{
	const struct dir_org	*sender;
	struct validate_error	 verr;
	struct route_result	 plan;
	struct route_ref	 ref;
	struct relay_batch	 b;
	struct lookup		 l;
	struct route_refusal	 why;
	Ceptoar__ErrorCode	 code = CEPTOAR__ERROR_CODE__ERROR_INTERNAL;
	const char		*refid, *field = NULL, *chain_id = NULL;
	char			*cause = NULL, warning[256] = "";
	bool			 have_l = false, queued = false;
	int			 rc;

	memset(&plan, 0, sizeof(plan));
	memset(&b, 0, sizeof(b));
	if (m == NULL) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    "message", false, "submit carries no message");
		return -1;
	}
	if (!rate_org_submit(who->org)) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_RATE_LIMITED,
		    NULL, false, "%s is over its limit of %llu submits per "
		    "second; nothing was stored: retry later with the same uuid",
		    who->org, (unsigned long long)hub->conf.rate_org_submits);
		return -1;
	}
	if (validate_message(m, &verr) == -1 ||
	    validate_times(m, (int64_t)time(NULL), &verr) == -1) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    verr.field, false, "%s: %s", verr.field, verr.reason);
		return -1;
	}
	if ((sender = directory_org(hub->dir, who->org)) == NULL) {
		service_fail(err,
		    CEPTOAR__ERROR_CODE__ERROR_UNKNOWN_ORGANISATION, NULL, true,
		    "organisation %s is no longer in the directory", who->org);
		return -1;
	}
	handle_clear_hub_fields(m);
	if (handle_hub_fields(m, sender) == -1)
		goto nomem;

	if ((refid = handle_answer_ref(m, &field)) != NULL) {
		rc = lookup_held(who->org, refid, &l, &cause);
		if (rc == -1) {
			service_store_failed(who, "lookup", cause, "",
			    "message", refid, err);
			cause = NULL;
			goto done;
		}
		if (rc == 1) {
			service_fail(err, CEPTOAR__ERROR_CODE__ERROR_NOT_FOUND,
			    field, false, "%s: no message %s among those you "
			    "received", field, refid);
			goto done;
		}
		have_l = true;
		lookup_ref(&l, who->org, &ref);
		/* An answer to a drill is a drill. */
		if (l.held->has_drill && l.held->drill) {
			m->has_drill = 1;
			m->drill = 1;
		}
		if (route_reply(m, sender, &ref, hub->dir, &plan, &code,
		    &cause) == -1)
			goto refused;
		if (m->content_case == CEPTOAR__MESSAGE__CONTENT_CONSENT_ANSWER &&
		    service_consent(who, err, m, &l, &b) == -1)
			goto done;
	} else {
		if (route_message(m, sender, hub->dir, &plan, &code, &cause)
		    == -1)
			goto refused;
		if (m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT)
			chain_id = m->report->chain_id ? m->report->chain_id :
			    m->uuid;
		if (handle_chain_plan(m, who->org, &plan, &code, &cause)
		    == -1 || handle_chain_check(m, who->org, false, &code,
		    &cause) == -1)
			goto refused;
	}
	if (plan.n == 0) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_NO_RECIPIENTS,
		    NULL, false, "nobody in the directory can receive this "
		    "message");
		goto done;
	}
	if (route_anon_permitted(&plan, hub->anon_ready, &why) == -1) {
		service_refuse(err, &why);
		goto done;
	}
	if (plan.warning[0] != '\0')
		snprintf(warning, sizeof(warning), "%s", plan.warning);
	else if (m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT)
		(void)route_anon_set_warning(&plan, hub->conf.anon_k, warning,
		    sizeof(warning));
	if (relay_submit(m, sender, &plan, chain_id, have_l ? l.origin : NULL,
	    have_l ? l.originator : NULL, &b, &cause) == -1) {
		code = b.oversized ? CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD :
		    CEPTOAR__ERROR_CODE__ERROR_INTERNAL;
		goto refused;
	}
	/* A plan can hold entries that no hop 0 leads to: nothing to write. */
	if (b.nw == 0) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_NO_RECIPIENTS,
		    NULL, false, "nobody can receive this message straight "
		    "from you; it was not accepted");
		goto done;
	}
	if (m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT &&
	    handle_is_followup(m->report, m->uuid))
		b.chain_revision = m->report->revision;
	submit_enqueue(who, conn, done, arg, tag, &b, true, m->tlp,
	    m->has_drill && m->drill, warning);
	queued = true;
	goto done;
refused:
	service_fail(err, code, NULL, false, "%s",
	    cause ? cause : "refused by the routing policy");
	goto done;
nomem:
	service_fail(err, CEPTOAR__ERROR_CODE__ERROR_INTERNAL, NULL, false,
	    "the hub is out of memory; the message was not accepted");
done:
	free(cause);
	relay_batch_free(&b);
	route_result_free(&plan);
	if (have_l)
		lookup_free(&l);
	return queued ? 0 : -1;
}

/* Copy the one visible row of a show into the result. */
static int
service_show_row(const struct store_delivery *sd, void *arg)
{
	struct service_show	*out = arg;

	if (deliver_fill(&out->d, sd, &out->m) == -1)
		out->failed = true;
	out->found = true;
	return 1;
}

int
service_show(const struct service_caller *who, const char *id,
    struct service_show *out, struct service_error *err)
{
	char	*cause = NULL;
	int	 rc;

	memset(out, 0, sizeof(*out));
	ceptoar__delivery__init(&out->d);
	if (id == NULL || *id == '\0' || strlen(id) >= STORE_HUB_ID_LEN)
		return service_fail(err,
		    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD, "hub_id", false,
		    "hub_id must be a message id as returned by submit");
	rc = store_fetch(hub->store, who->org, id, service_show_row, out,
	    &cause);
	if (rc == -1 || out->failed) {
		return service_store_failed(who, "fetch", cause,
		    "decode failed", "message", id, err);
	}
	if (rc == 1 || !out->found)
		return service_fail(err, CEPTOAR__ERROR_CODE__ERROR_NOT_FOUND,
		    "hub_id", false, "no message %s among those sent to or "
		    "by %s", id, who->org);
	/* Only the sender learns who else received the message. */
	if (out->d.sender != NULL && strcmp(out->d.sender, who->org) == 0) {
		/* Whatever could be read is shown; the rest is logged. */
		if (deliver_recipients_load(id, &out->rl, &cause) == -1)
			log_event(LOG_LVL_ERROR, "store.error", "session=%s "
			    "op=recipients cause=\"%s\"", who->sid,
			    cause ? cause : "");
		out->has_recipients = true;
		free(cause);
	}
	return 0;
}

void
service_show_free(struct service_show *out)
{
	deliver_recipients_free(&out->rl);
	deliver_clear(&out->d, out->m);
	memset(out, 0, sizeof(*out));
}

struct service_fetch {
	const struct service_caller *who;
	service_delivery_cb	 cb;
	void			*arg;
	uint64_t		 last;
	bool			 failed;
};

/* One pending delivery, in the form its recipient received it. */
static int
service_fetch_row(const struct store_delivery *sd, void *arg)
{
	struct service_fetch	*f = arg;
	Ceptoar__Delivery	 d;
	Ceptoar__Message	*m = NULL;
	int			 rc;

	/* A body that does not open is passed over, as deliver_row does. */
	if (sd->body == NULL) {
		log_event(LOG_LVL_ERROR, "deliver.corrupt", "session=%s "
		    "org=%s seq=%llu hub_id=%s", f->who->sid, f->who->org,
		    (unsigned long long)sd->seq, sd->hub_id);
		f->last = sd->seq;
		return 0;
	}
	ceptoar__delivery__init(&d);
	if (deliver_fill(&d, sd, &m) == -1) {
		deliver_clear(&d, m);
		f->failed = true;
		return 1;
	}
	f->last = sd->seq;
	rc = f->cb(sd->seq, &d, f->arg);
	deliver_clear(&d, m);
	return rc;
}

int
service_fetch_after(const struct service_caller *who, uint64_t after,
    size_t limit, service_delivery_cb cb, void *arg, uint64_t *last,
    struct service_error *err)
{
	struct service_fetch	 f;
	char			*cause = NULL;

	memset(&f, 0, sizeof(f));
	f.who = who;
	f.cb = cb;
	f.arg = arg;
	f.last = after;
	if (limit == 0)
		limit = (size_t)hub->conf.deliver_batch;
	/* Acknowledgements that arrived before this read as acknowledged. */
	submit_write_acks();
	if (store_pending_upto(hub->store, who->org, after,
	    deliver_durable_upto(who->org), limit, service_fetch_row, &f,
	    &cause) == -1 || f.failed) {
		return service_store_failed(who, "pending", cause,
		    "decode failed", "the inbox of", who->org, err);
	}
	*last = f.last;
	return 0;
}

int
service_inbox_read(const struct service_caller *who, uint64_t after,
    size_t limit, store_delivery_cb cb, void *arg, struct service_error *err)
{
	char	*cause = NULL;

	if (store_inbox_read(hub->store, who->org, after,
	    deliver_durable_upto(who->org), limit, cb, arg, &cause) == -1) {
		return service_store_failed(who, "inbox_read", cause,
		    "unknown", "the inbox of", who->org, err);
	}
	return 0;
}

int
service_acknowledge(const struct service_caller *who, const uint64_t *seqs,
    size_t n, struct service_error *err)
{
	return deliver_ack_queue(who->org, who->sid, seqs, n, NULL, err);
}

/* A review desk's rejection notice about the message asked for. */
struct service_rejection {
	char	*held_by;
	char	*reason;
	int64_t	 at;
};

/* Collect a rejection notice among the answers to the message. */
static int
service_rejection_row(const struct store_delivery *d, void *arg)
{
	struct service_receipts	*st = arg;
	struct service_rejection		*nv;
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
service_receipt_row(const struct store_delivery *d, void *arg)
{
	struct service_receipts	*st = arg;
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

void
service_receipts_free(struct service_receipts *st)
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

int
service_receipts(const struct service_caller *who, const char *id,
    struct service_receipts *st, struct service_error *err)
{
	struct lookup	 l;
	char		*cause = NULL;
	int		 rc = 1;

	memset(st, 0, sizeof(*st));
	if (id == NULL || (rc = lookup_held(who->org, id, &l, &cause)) == 1 ||
	    (rc == 0 && !l.is_sender)) {
		if (id != NULL && rc == 0)
			lookup_free(&l);
		free(cause);
		return service_fail(err, CEPTOAR__ERROR_CODE__ERROR_NOT_FOUND,
		    "hub_id", false, "no message %s among those you sent",
		    id ? id : "(none)");
	}
	/* Acknowledgements that arrived before this read as acknowledged. */
	if (rc == 0)
		submit_write_acks();
	if (rc == -1 || store_replies(hub->store, id, service_rejection_row,
	    st, &cause) == -1 || store_receipts(hub->store, id,
	    service_receipt_row, st, &cause) == -1 || st->failed) {
		if (rc == 0)
			lookup_free(&l);
		service_receipts_free(st);
		return service_store_failed(who, "receipts", cause,
		    "out of memory", "the receipts of", id, err);
	}
	lookup_free(&l);
	return 0;
}

int
service_preview(const struct service_caller *who, Ceptoar__Message *m,
    struct service_preview *out, struct service_error *err)
{
	const struct dir_org	*sender;
	struct validate_error	 verr;
	Ceptoar__ErrorCode	 code = CEPTOAR__ERROR_CODE__ERROR_INTERNAL;
	const char		*field = NULL;
	char			*cause = NULL;
	size_t			 i;

	memset(out, 0, sizeof(*out));
	if (m == NULL || validate_message(m, &verr) == -1 ||
	    validate_times(m, (int64_t)time(NULL), &verr) == -1)
		return service_fail(err,
		    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    m ? verr.field : "message", false, "%s: %s",
		    m ? verr.field : "message", m ? verr.reason : "is missing");
	if ((sender = directory_org(hub->dir, who->org)) == NULL)
		return service_fail(err,
		    CEPTOAR__ERROR_CODE__ERROR_UNKNOWN_ORGANISATION, NULL, true,
		    "organisation %s is no longer in the directory", who->org);
	if (handle_answer_ref(m, &field) != NULL)
		return service_fail(err,
		    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD, field, false,
		    "%s: preview shows where a new message goes; an answer "
		    "goes back the way what it answers came", field);
	handle_clear_hub_fields(m);
	if (handle_hub_fields(m, sender) == -1 ||
	    route_message(m, sender, hub->dir, &out->plan, &code, &cause) ==
	    -1 || handle_chain_plan(m, who->org, &out->plan, &code, &cause) ==
	    -1 || handle_chain_check(m, who->org, true, &code, &cause) == -1) {
		service_fail(err, code, NULL, false, "%s",
		    cause ? cause : "out of memory");
		free(cause);
		service_preview_free(out);
		return -1;
	}
	if (out->plan.warning[0] != '\0')
		snprintf(out->warnings[out->nwarnings++],
		    sizeof(out->warnings[0]), "%s", out->plan.warning);
	if (route_anon_set_warning(&out->plan, hub->conf.anon_k,
	    out->warnings[out->nwarnings], sizeof(out->warnings[0])))
		out->nwarnings++;
	for (i = 0; i < out->plan.n; i++)
		if (out->plan.v[i].form == CEPTOAR__FORM__FORM_ANONYMISED)
			break;
	if (i < out->plan.n &&
	    m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT) {
		if (!hub->anon_ready)
			snprintf(out->warnings[out->nwarnings++],
			    sizeof(out->warnings[0]), "the hub has no "
			    "anon_key: it would refuse to anonymise");
		else if (anon_report(m, sender, out->plan.ceptoar, hub->dir,
		    &hub->anon, &out->ar, &cause) == -1)
			snprintf(out->warnings[out->nwarnings++],
			    sizeof(out->warnings[0]), "cannot anonymise: %s",
			    cause ? cause : "?");
		else {
			out->anon = out->ar.msg;
			if (!out->ar.vouched)
				snprintf(out->warnings[out->nwarnings++],
				    sizeof(out->warnings[0]), "the anonymised "
				    "text would be held for the secretariat's "
				    "review: %s", out->ar.why ? out->ar.why :
				    "unvouched text");
		}
	}
	free(cause);
	if ((out->rv = calloc(out->plan.n ? out->plan.n : 1,
	    sizeof(*out->rv))) == NULL || (out->labelled =
	    calloc(out->plan.n ? out->plan.n : 1, sizeof(*out->labelled))) ==
	    NULL) {
		service_preview_free(out);
		return service_fail(err, CEPTOAR__ERROR_CODE__ERROR_INTERNAL,
		    NULL, false, "the hub is out of memory");
	}
	for (i = 0; i < out->plan.n; i++) {
		const struct route_entry *e = &out->plan.v[i];
		Ceptoar__RoutePreview *rv = &out->rv[out->n++];

		ceptoar__route_preview__init(rv);
		rv->organisation = e->hidden ? "(withheld)" : (char *)e->org;
		rv->reason = (char *)e->reason;
		rv->has_form = 1;
		rv->form = e->form;
		rv->has_hop = 1;
		rv->hop = e->hop;
		rv->has_review = 1;
		rv->review = e->review;
		rv->as_received = e->form == CEPTOAR__FORM__FORM_ANONYMISED ?
		    out->anon : m;
		/* Along a share: in the share's label and range (route_chain). */
		if ((e->tlp != 0 || e->range != NULL) &&
		    rv->as_received != NULL) {
			if ((out->labelled[i] = relay_labelled(rv->as_received,
			    e->form, sender, e)) == NULL) {
				service_preview_free(out);
				return service_fail(err,
				    CEPTOAR__ERROR_CODE__ERROR_INTERNAL, NULL,
				    false, "the hub is out of memory");
			}
			rv->as_received = out->labelled[i];
		}
	}
	log_event(LOG_LVL_INFO, "route.preview", "session=%s org=%s kind=%s "
	    "recipients=%zu", who->sid, who->org, relay_kind(m), out->plan.n);
	return 0;
}

void
service_preview_free(struct service_preview *out)
{
	size_t	i;

	for (i = 0; out->labelled != NULL && i < out->plan.n; i++)
		if (out->labelled[i] != NULL)
			ceptoar__message__free_unpacked(out->labelled[i], NULL);
	free(out->labelled);
	free(out->rv);
	anon_result_free(&out->ar);
	route_result_free(&out->plan);
	memset(out, 0, sizeof(*out));
}

