/*
 * Submit: a new message, a follow-up in a report chain, or an answer to
 * something received (a reply, a request to widen a range, a consent, a
 * check answer).  The handler validates, asks the routing policy, makes
 * each hop's form, and queues it all for the group commit; the ack goes
 * out once it is durable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#include "ceptoard.h"
#include "names.h"
#include "validate.h"

#define HANDLE_MAX_FLAGS	8

void
handle_clear_hub_fields(Ceptoar__Message *m)
{
	size_t	i;

	anon_clear_trail(m);
	free(m->author);
	m->author = NULL;
	for (i = 0; i < m->n_edits; i++)
		ceptoar__edit__free_unpacked(m->edits[i], NULL);
	free(m->edits);
	m->edits = NULL;
	m->n_edits = 0;
	if (m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT) {
		free(m->report->pseudonym);
		m->report->pseudonym = NULL;
		for (i = 0; i < m->report->n_flags; i++)
			free(m->report->flags[i]);
		free(m->report->flags);
		m->report->flags = NULL;
		m->report->n_flags = 0;
	}
	/* Only the hub writes the review desk's notices. */
	if (m->content_case == CEPTOAR__MESSAGE__CONTENT_REPLY) {
		m->reply->has_notice = 0;
		free(m->reply->held_by);
		m->reply->held_by = NULL;
		m->reply->has_held_since = 0;
	}
}

int
handle_hub_fields(Ceptoar__Message *m, const struct dir_org *sender)
{
	Ceptoar__Severity	*sev = NULL;
	char			 flags[HANDLE_MAX_FLAGS][160];
	size_t			 n, i;
	int			 overall;

	if (m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT)
		sev = m->report->severity;
	else if (m->content_case == CEPTOAR__MESSAGE__CONTENT_ADVISORY)
		sev = m->advisory->severity;
	else if (m->content_case == CEPTOAR__MESSAGE__CONTENT_EARLY_WARNING)
		sev = m->early_warning->severity;
	/* The hub, not the sender, states the overall severity. */
	if (sev != NULL && (overall = validate_overall_severity(sev)) >= 0) {
		sev->has_overall = 1;
		sev->overall = (uint32_t)overall;
	}
	if (m->content_case != CEPTOAR__MESSAGE__CONTENT_REPORT)
		return 0;
	n = route_threshold_flags(m->report, route_report_sector(m->report,
	    sender, hub->dir), flags, HANDLE_MAX_FLAGS);
	if (n == 0)
		return 0;
	if ((m->report->flags = calloc(n, sizeof(char *))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((m->report->flags[i] = strdup(flags[i])) == NULL)
			return -1;
		m->report->n_flags++;
	}
	return 0;
}

const char *
handle_answer_ref(const Ceptoar__Message *m, const char **field)
{
	switch (m->content_case) {
	case CEPTOAR__MESSAGE__CONTENT_REPLY:
		*field = "reply.in_reply_to";
		return m->reply->in_reply_to ? m->reply->in_reply_to : "";
	case CEPTOAR__MESSAGE__CONTENT_WIDEN_REQUEST:
		*field = "widen_request.hub_id";
		return m->widen_request->hub_id ? m->widen_request->hub_id : "";
	case CEPTOAR__MESSAGE__CONTENT_CONSENT_ANSWER:
		*field = "consent_answer.request";
		return m->consent_answer->request ? m->consent_answer->request :
		    "";
	case CEPTOAR__MESSAGE__CONTENT_CHECK_ANSWER:
		*field = "check_answer.check";
		return m->check_answer->check ? m->check_answer->check : "";
	default:
		return NULL;
	}
}

/*
 * A consent: only the originator of the report answers, and an approval
 * widens the report's range.  l is what the consenting org holds: the
 * widen request as it reached it.
 */
static int
handle_consent(struct session *s, uint64_t rid, const Ceptoar__Message *m,
    const struct lookup *l, struct relay_batch *b)
{
	const Ceptoar__WidenRequest	*w;
	struct lookup			 report;
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
		session_error(s, rid, CEPTOAR__ERROR_CODE__ERROR_NOT_FOUND,
		    "consent_answer.request", false, "the report this request "
		    "is about is no longer in the store");
		return -1;
	}
	if (strcmp(report.originator, s->org) != 0) {
		lookup_free(&report);
		session_error(s, rid, CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
		    "consent_answer", false, "only the reporter can widen the "
		    "sharing range of its report");
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
			return -1;
		}
		ceptoar__sharing_range__pack(w->sharing, b->sharing);
		log_event(LOG_LVL_INFO, "route.widened", "session=%s report=%s "
		    "scope=%s", s->sid, report.origin, w->sharing->has_scope ?
		    names_lookup(names_sharing_scope, w->sharing->scope) :
		    "none");
	}
	lookup_free(&report);
	return 0;
}

/* Whether report r continues an earlier chain of its sender. */
static bool
handle_is_followup(const Ceptoar__Report *r, const char *uuid)
{
	return r->chain_id != NULL && strcasecmp(r->chain_id, uuid) != 0;
}

/* The deliveries of a chain's first report: its path and its shares. */
struct handle_chain {
	struct route_chain_row	*rows;
	char			**hub_ids;	/* of each row's form */
	Ceptoar__Message	**forms;	/* each row's form, once read */
	size_t			 n;
	Ceptoar__Message	*first;
	bool			 failed;
};

/* Note one delivery of the first report or of a form made from it. */
static int
handle_chain_row(const struct store_delivery *d, void *arg)
{
	struct handle_chain	*c = arg;
	struct route_chain_row	*nv, *r;
	Ceptoar__Message	**fv;
	char			**hv;

	if (d->recipient == NULL)
		return 0;
	if ((nv = reallocarray(c->rows, c->n + 1, sizeof(*nv))) != NULL)
		c->rows = nv;
	if ((hv = reallocarray(c->hub_ids, c->n + 1, sizeof(*hv))) != NULL)
		c->hub_ids = hv;
	if ((fv = reallocarray(c->forms, c->n + 1, sizeof(*fv))) != NULL)
		c->forms = fv;
	if (nv == NULL || hv == NULL || fv == NULL) {
		c->failed = true;
		return 1;
	}
	r = &c->rows[c->n];
	memset(r, 0, sizeof(*r));
	c->forms[c->n] = NULL;
	if ((r->org = strdup(d->recipient)) == NULL || (d->hop > 0 &&
	    d->sender != NULL && (r->via = strdup(d->sender)) == NULL) ||
	    (c->hub_ids[c->n] = strdup(d->hub_id)) == NULL) {
		free((char *)r->org);
		free((char *)r->via);
		c->failed = true;
		return 1;
	}
	r->hop = d->hop;
	r->form = d->form;
	r->hidden = d->hidden;
	r->holding = d->review && d->forwarded_at == 0;
	c->n++;
	return 0;
}

/* Keep the form a row's organisation got (its label and range). */
static int
handle_chain_form(const struct store_delivery *d, void *arg)
{
	Ceptoar__Message	**mp = arg;

	if (d->body != NULL)
		*mp = ceptoar__message__unpack(NULL, d->body_len, d->body);
	return 1;
}

/*
 * The label and range of the form each row past hop 0 got: what a share
 * tightened, which the chain's follow-ups keep (route_chain).  A form
 * read once serves every row of it.  -1 with a cause if one cannot be
 * read.
 */
static int
handle_chain_labels(struct handle_chain *c, char **cause)
{
	Ceptoar__Message	*f;
	size_t			 i, j;

	for (i = 0; i < c->n; i++) {
		if (c->rows[i].hop == 0)
			continue;
		for (j = 0; j < i; j++)
			if (c->forms[j] != NULL &&
			    strcmp(c->hub_ids[j], c->hub_ids[i]) == 0)
				break;
		if (j < i)
			f = c->forms[j];
		else {
			if (store_message(hub->store, c->hub_ids[i],
			    handle_chain_form, &c->forms[i], cause) == -1)
				return -1;
			if ((f = c->forms[i]) == NULL) {
				cause_set(cause, "the form %s of the chain's "
				    "first report does not open", c->hub_ids[i]);
				return -1;
			}
		}
		c->rows[i].tlp = f->has_tlp ? (int)f->tlp : 0;
		c->rows[i].range = f->content_case ==
		    CEPTOAR__MESSAGE__CONTENT_REPORT ? f->report->sharing : NULL;
	}
	return 0;
}

/* Keep the first report itself, to see what kind of chain it began. */
static int
handle_chain_first(const struct store_delivery *d, void *arg)
{
	struct handle_chain	*c = arg;

	if (d->body == NULL)
		return 0;
	if ((c->first = ceptoar__message__unpack(NULL, d->body_len,
	    d->body)) == NULL)
		c->failed = true;
	return 1;
}

/*
 * Why chain_id names no chain of sender's.  A hub id is what a sender
 * sees of its messages most, and the easiest mistake: say so, and
 * name the uuid the chain goes by where sender sent it.
 */
static void
handle_chain_unknown(const char *chain_id, const char *sender, char **cause)
{
	struct lookup	 l;
	char		*why = NULL;
	int		 rc;

	rc = lookup_held(sender, chain_id, &l, &why);
	free(why);
	if (rc == 0 && l.is_sender && l.chain_id[0] != '\0')
		cause_set(cause, "report.chain_id: %s is a hub id; a chain is "
		    "named by the uuid of its first report (%s)", chain_id,
		    l.chain_id);
	else if (rc == 0 && l.is_sender)
		cause_set(cause, "report.chain_id: %s is a hub id, of a "
		    "message that is no report; a chain is named by the uuid "
		    "of its first report", chain_id);
	else if (rc == 0)
		cause_set(cause, "report.chain_id: %s is a hub id, of a "
		    "message you received; a chain is named by the uuid of "
		    "its first report, and only its sender continues it",
		    chain_id);
	else
		cause_set(cause, "report.chain_id: no earlier report of "
		    "yours in chain %s", chain_id);
	if (rc == 0)
		lookup_free(&l);
}

/*
 * Whether m carries the next revision of its chain, as far as the store
 * knows.  A repeat of a follow-up already stored passes: it is answered
 * as a duplicate (or a conflict) when it reaches the store.  A gap is
 * left to the store too (submit_write), where follow-ups still in
 * flight have been counted; a preview has none.
 */
static int
handle_chain_revision(const Ceptoar__Message *m, const char *sender,
    bool preview, Ceptoar__ErrorCode *code, char **cause)
{
	const char	*chain = m->report->chain_id;
	char		 hub_id[STORE_HUB_ID_LEN];
	unsigned char	 digest[32];
	uint64_t	 n, seq;
	int		 rc;

	if (store_chain_count(hub->store, sender, chain, &n, cause) == -1 ||
	    (rc = store_lookup_uuid(hub->store, sender, m->uuid, hub_id,
	    &seq, digest, cause)) == -1) {
		*code = CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED;
		return -1;
	}
	if (rc == 1)
		return 0;
	*code = CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD;
	if (!m->report->has_revision || m->report->revision == 0) {
		cause_set(cause, "report.revision: a follow-up in chain %s "
		    "needs a revision; the next is %llu", chain,
		    (unsigned long long)n + 1);
		return -1;
	}
	if (m->report->revision <= n) {
		cause_set(cause, "report.revision: chain %s already has "
		    "revision %u; the next is %llu", chain,
		    m->report->revision, (unsigned long long)n + 1);
		return -1;
	}
	if (preview && m->report->revision != n + 1) {
		cause_set(cause, "report.revision: chain %s has %llu "
		    "revision%s; the next is %llu, not %u", chain,
		    (unsigned long long)n, n == 1 ? "" : "s",
		    (unsigned long long)n + 1, m->report->revision);
		return -1;
	}
	return 0;
}

int
handle_chain_check(const Ceptoar__Message *m, const char *sender,
    bool preview, Ceptoar__ErrorCode *code, char **cause)
{
	if (m->content_case != CEPTOAR__MESSAGE__CONTENT_REPORT ||
	    !handle_is_followup(m->report, m->uuid))
		return 0;
	return handle_chain_revision(m, sender, preview, code, cause);
}

int
handle_chain_plan(const Ceptoar__Message *m, const char *sender,
    struct route_result *plan, Ceptoar__ErrorCode *code, char **cause)
{
	struct handle_chain	 c;
	struct route_result	 out;
	const struct dir_org	*o;
	char			 first[STORE_HUB_ID_LEN];
	unsigned char		 digest[32];
	uint64_t		 seq;
	size_t			 i;
	int			 rc;

	if (m->content_case != CEPTOAR__MESSAGE__CONTENT_REPORT ||
	    !handle_is_followup(m->report, m->uuid))
		return 0;
	memset(&c, 0, sizeof(c));
	memset(&out, 0, sizeof(out));
	if ((o = directory_org(hub->dir, sender)) == NULL) {
		*code = CEPTOAR__ERROR_CODE__ERROR_UNKNOWN_ORGANISATION;
		cause_set(cause, "organisation %s is no longer in the "
		    "directory", sender);
		return -1;
	}
	/* Everyone who got the chain's first report, and nobody else. */
	rc = store_lookup_uuid(hub->store, sender, m->report->chain_id, first,
	    &seq, digest, cause);
	if (rc == 0) {
		*code = CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD;
		free(*cause);
		*cause = NULL;
		handle_chain_unknown(m->report->chain_id, sender, cause);
		return -1;
	}
	if (rc == -1 || store_message(hub->store, first, handle_chain_first,
	    &c, cause) == -1 || store_receipts(hub->store, first,
	    handle_chain_row, &c, cause) == -1 || c.failed || c.first == NULL ||
	    handle_chain_labels(&c, cause) == -1) {
		*code = CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED;
		if (*cause == NULL)
			cause_set(cause, "the store could not read the first "
			    "report of chain %s", m->report->chain_id);
		rc = -1;
	} else if ((rc = route_chain(m, o, c.first, plan, c.rows, c.n,
	    hub->dir, &out, code, cause)) == 0) {
		route_result_free(plan);
		*plan = out;
		memset(&out, 0, sizeof(out));
	}
	route_result_free(&out);
	for (i = 0; i < c.n; i++) {
		free((char *)c.rows[i].org);
		free((char *)c.rows[i].via);
		free(c.hub_ids[i]);
		if (c.forms[i] != NULL)
			ceptoar__message__free_unpacked(c.forms[i], NULL);
	}
	free(c.rows);
	free(c.hub_ids);
	free(c.forms);
	if (c.first != NULL)
		ceptoar__message__free_unpacked(c.first, NULL);
	return rc;
}

void
handle_submit(struct session *s, Ceptoar__Envelope *env)
{
	Ceptoar__Message	*m = env->submit->message;
	uint64_t		 rid = env->request_id;
	const struct dir_org	*sender;
	struct validate_error	 verr;
	struct route_result	 plan;
	struct route_ref	 ref;
	struct relay_batch	 b;
	struct lookup		 l;
	Ceptoar__ErrorCode	 code = CEPTOAR__ERROR_CODE__ERROR_INTERNAL;
	const char		*refid, *field = NULL, *chain_id = NULL;
	char			*cause = NULL, warning[256] = "";
	bool			 have_l = false;
	int			 rc;

	memset(&plan, 0, sizeof(plan));
	memset(&b, 0, sizeof(b));
	if (m == NULL) {
		session_error(s, rid, CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    "message", false, "submit carries no message");
		return;
	}
	if (!rate_org_submit(s->org)) {
		session_error(s, rid, CEPTOAR__ERROR_CODE__ERROR_RATE_LIMITED,
		    NULL, false, "%s is over its limit of %llu submits per "
		    "second; nothing was stored: retry later with the same uuid",
		    s->org, (unsigned long long)hub->conf.rate_org_submits);
		return;
	}
	if (validate_message(m, &verr) == -1 ||
	    validate_times(m, (int64_t)time(NULL), &verr) == -1) {
		session_error(s, rid, CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    verr.field, false, "%s: %s", verr.field, verr.reason);
		return;
	}
	if ((sender = directory_org(hub->dir, s->org)) == NULL) {
		session_error(s, rid,
		    CEPTOAR__ERROR_CODE__ERROR_UNKNOWN_ORGANISATION, NULL, true,
		    "organisation %s is no longer in the directory", s->org);
		return;
	}
	handle_clear_hub_fields(m);
	if (handle_hub_fields(m, sender) == -1)
		goto nomem;

	if ((refid = handle_answer_ref(m, &field)) != NULL) {
		rc = lookup_held(s->org, refid, &l, &cause);
		if (rc == -1) {
			log_event(LOG_LVL_ERROR, "store.error", "session=%s "
			    "op=lookup cause=\"%s\"", s->sid, cause ? cause : "");
			session_error(s, rid,
			    CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED, NULL, false,
			    "the store could not read message %s", refid);
			goto done;
		}
		if (rc == 1) {
			session_error(s, rid, CEPTOAR__ERROR_CODE__ERROR_NOT_FOUND,
			    field, false, "%s: no message %s among those you "
			    "received", field, refid);
			goto done;
		}
		have_l = true;
		lookup_ref(&l, s->org, &ref);
		/* An answer to a drill is a drill. */
		if (l.held->has_drill && l.held->drill) {
			m->has_drill = 1;
			m->drill = 1;
		}
		if (route_reply(m, sender, &ref, hub->dir, &plan, &code,
		    &cause) == -1)
			goto refused;
		if (m->content_case == CEPTOAR__MESSAGE__CONTENT_CONSENT_ANSWER &&
		    handle_consent(s, rid, m, &l, &b) == -1)
			goto done;
	} else {
		if (route_message(m, sender, hub->dir, &plan, &code, &cause)
		    == -1)
			goto refused;
		if (m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT)
			chain_id = m->report->chain_id ? m->report->chain_id :
			    m->uuid;
		if (handle_chain_plan(m, s->org, &plan, &code, &cause)
		    == -1 || handle_chain_check(m, s->org, false, &code,
		    &cause) == -1)
			goto refused;
	}
	if (plan.n == 0) {
		session_error(s, rid, CEPTOAR__ERROR_CODE__ERROR_NO_RECIPIENTS,
		    NULL, false, "nobody in the directory can receive this "
		    "message");
		goto done;
	}
	if (route_anonymises(&plan) && !hub->anon_ready) {
		session_error(s, rid, CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
		    NULL, false, "this message would be anonymised on its way, "
		    "and the hub has no anon_key configured; it was not "
		    "accepted (ask the hub's operator, or submit it as a "
		    "mandatory, attributable report)");
		goto done;
	}
	if (plan.warning[0] != '\0')
		snprintf(warning, sizeof(warning), "%s", plan.warning);
	else if (plan.ceptoar != NULL && route_anonymises(&plan) &&
	    plan.anonymity_set < hub->conf.anon_k &&
	    m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT)
		snprintf(warning, sizeof(warning), "CEPTOAR %s has %zu "
		    "member%s, fewer than %llu: an anonymised report from it "
		    "is easy to trace back to its reporter", plan.ceptoar->id,
		    plan.anonymity_set, plan.anonymity_set == 1 ? "" : "s",
		    (unsigned long long)hub->conf.anon_k);
	if (relay_submit(m, sender, &plan, chain_id, have_l ? l.origin : NULL,
	    have_l ? l.originator : NULL, &b, &cause) == -1) {
		code = b.oversized ? CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD :
		    CEPTOAR__ERROR_CODE__ERROR_INTERNAL;
		goto refused;
	}
	/* A plan can hold entries that no hop 0 leads to: nothing to write. */
	if (b.nw == 0) {
		session_error(s, rid, CEPTOAR__ERROR_CODE__ERROR_NO_RECIPIENTS,
		    NULL, false, "nobody can receive this message straight "
		    "from you; it was not accepted");
		goto done;
	}
	if (m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT &&
	    handle_is_followup(m->report, m->uuid))
		b.chain_revision = m->report->revision;
	s->submits++;
	submit_enqueue(s, rid, &b, true, m->tlp, m->has_drill && m->drill,
	    warning);
	goto done;
refused:
	session_error(s, rid, code, NULL, false, "%s",
	    cause ? cause : "refused by the routing policy");
	goto done;
nomem:
	session_error(s, rid, CEPTOAR__ERROR_CODE__ERROR_INTERNAL, NULL, false,
	    "the hub is out of memory; the message was not accepted");
done:
	free(cause);
	relay_batch_free(&b);
	route_result_free(&plan);
	if (have_l)
		lookup_free(&l);
}
