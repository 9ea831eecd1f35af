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

/* Whether report r continues an earlier chain of its sender. */
bool
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
handle_submit(struct session *s, Ceptoar__Envelope *env,
    struct service_error *err)
{
	struct service_caller	who;

	handle_caller(s, &who);
	if (service_submit(&who, s, env->submit->message, handle_done, s,
	    env->request_id, err) == 0)
		s->submits++;
}
