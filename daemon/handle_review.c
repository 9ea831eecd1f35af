/*
 * The review desk: what waits for a hop holder's review (a CEPTOAR
 * secretariat's members' voluntary reports, a liaison's held hop), one
 * item of it beside exactly what would go up, and the decision to
 * decline it.  Listing changes nothing: an item leaves the desk only when
 * it is released (a Forward, handle_forward.c) or rejected here.
 *
 * The replaced spans are not given by anon.c: they are found here by
 * aligning the text that would go up, split at its placeholders, with
 * the original; what the scrubber could not vouch for is read from the
 * reasons it gives ("FIELD: ... \"marker\" at byte N").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "ceptoard.h"
#include "names.h"
#include "fields.h"
#include "validate.h"

#define REVIEW_MAX_ITEMS	1000	/* listed at once, oldest first */
#define REVIEW_MAX_SPANS	512

struct review_list {
	Ceptoar__ReviewItem	*v;
	size_t			 n, cap;
	bool			 failed;
	size_t			 more;		/* beyond REVIEW_MAX_ITEMS */
};

struct review_spans {
	Ceptoar__ReviewSpan	 v[REVIEW_MAX_SPANS];
	Ceptoar__ReviewSpan	*p[REVIEW_MAX_SPANS];
	char			*notes[REVIEW_MAX_SPANS];	/* owned */
	char			*fields[REVIEW_MAX_SPANS];	/* owned */
	size_t			 n;
};

/* Send env as the answer to request rid. */
static void
review_answer(struct session *s, uint64_t rid, Ceptoar__Envelope *env)
{
	env->has_request_id = 1;
	env->request_id = rid;
	session_send(s, env);
}

/* The overall severity a message carries, or -1. */
static int
review_severity(const Ceptoar__Message *m)
{
	const Ceptoar__Severity	*sev = NULL;

	if (m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT)
		sev = m->report->severity;
	else if (m->content_case == CEPTOAR__MESSAGE__CONTENT_ADVISORY)
		sev = m->advisory->severity;
	else if (m->content_case == CEPTOAR__MESSAGE__CONTENT_EARLY_WARNING)
		sev = m->early_warning->severity;
	if (sev == NULL)
		return -1;
	if (sev->has_overall)
		return (int)sev->overall;
	return validate_overall_severity(sev);
}

/* "report/near_miss", or the bare kind of anything else, into buf. */
static const char *
review_kind(const Ceptoar__Message *m, char *buf, size_t len)
{
	if (m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT &&
	    m->report->has_kind)
		snprintf(buf, len, "report/%s", names_lookup(names_report_kind,
		    m->report->kind));
	else
		snprintf(buf, len, "%s", relay_kind(m));
	return buf;
}

/* A message's title, or its first words for what has none. */
static const char *
review_title(const Ceptoar__Message *m)
{
	switch (m->content_case) {
	case CEPTOAR__MESSAGE__CONTENT_REPORT:
		return m->report->title;
	case CEPTOAR__MESSAGE__CONTENT_ADVISORY:
		return m->advisory->title;
	case CEPTOAR__MESSAGE__CONTENT_EARLY_WARNING:
		return m->early_warning->title;
	case CEPTOAR__MESSAGE__CONTENT_REPLY:
		return m->reply->text;
	case CEPTOAR__MESSAGE__CONTENT_CONSULTATION:
		return m->consultation->question;
	default:
		return NULL;
	}
}

/* Drop a last character that a cut left incomplete. */
static void
review_utf8_cut(char *buf)
{
	size_t		 len = strlen(buf), i = len, need;
	unsigned char	 lead;

	while (i > 0 && ((unsigned char)buf[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return;
	lead = (unsigned char)buf[i - 1];
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	if (len - (i - 1) < need)
		buf[i - 1] = '\0';
}

/* One held delivery as an item of the list (strings malloc'd). */
static int
review_list_row(const struct store_delivery *d, void *arg)
{
	struct review_list	*st = arg;
	Ceptoar__ReviewItem	*it, *nv;
	Ceptoar__Message	*m;
	const char		*reporter = NULL, *title;
	char			 kind[64], buf[VALIDATE_MAX_SHORT + 1];
	int			 sev;

	if (d->body == NULL)	/* a body that does not open: logged there */
		return 0;
	if (st->n >= REVIEW_MAX_ITEMS) {
		st->more++;
		return 0;
	}
	if ((nv = review_grow(st->v, &st->cap, st->n, sizeof(*nv))) == NULL) {
		st->failed = true;
		return 1;
	}
	st->v = nv;
	if ((m = ceptoar__message__unpack(NULL, d->body_len, d->body)) ==
	    NULL)
		return 0;
	it = &st->v[st->n];
	ceptoar__review_item__init(it);
	/* Who wrote it, only where the holder holds it as written. */
	if (d->form != CEPTOAR__FORM__FORM_ANONYMISED)
		reporter = d->origin == NULL ? d->sender : m->author;
	title = review_title(m);
	if (title != NULL) {
		/* The first line, cut short on a character boundary. */
		snprintf(buf, sizeof(buf), "%.120s", title);
		buf[strcspn(buf, "\r\n")] = '\0';
		review_utf8_cut(buf);
	}
	it->hub_id = strdup(d->hub_id);
	it->sender = strdup(d->sender ? d->sender : "");
	it->reporter = reporter ? strdup(reporter) : NULL;
	it->kind = strdup(review_kind(m, kind, sizeof(kind)));
	it->title = title ? strdup(buf) : NULL;
	if (it->hub_id == NULL || it->sender == NULL || it->kind == NULL ||
	    (reporter && it->reporter == NULL) ||
	    (title && it->title == NULL)) {
		free(it->hub_id);
		free(it->sender);
		free(it->reporter);
		free(it->kind);
		free(it->title);
		ceptoar__message__free_unpacked(m, NULL);
		st->failed = true;
		return 1;
	}
	if ((sev = review_severity(m)) >= 0) {
		it->has_severity = 1;
		it->severity = (uint32_t)sev;
	}
	it->has_tlp = m->has_tlp;
	it->tlp = m->tlp;
	it->has_held_since = 1;
	it->held_since = d->received_at;
	it->has_form = 1;
	it->form = d->form ? d->form : CEPTOAR__FORM__FORM_ORIGINAL;
	it->has_hop = 1;
	it->hop = d->hop;
	it->has_drill = m->has_drill && m->drill;
	it->drill = it->has_drill;
	ceptoar__message__free_unpacked(m, NULL);
	st->n++;
	return 0;
}

static void
review_list_free(struct review_list *st)
{
	size_t	i;

	for (i = 0; i < st->n; i++) {
		free(st->v[i].hub_id);
		free(st->v[i].sender);
		free(st->v[i].reporter);
		free(st->v[i].kind);
		free(st->v[i].title);
	}
	free(st->v);
}

/* Answer with everything that waits for s's organisation. */
static void
review_list(struct session *s, uint64_t rid, struct service_error *err)
{
	Ceptoar__Envelope	 out = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__ReviewResult	 rr = CEPTOAR__REVIEW_RESULT__INIT;
	Ceptoar__ReviewItem	**ip = NULL;
	struct review_list	 st;
	char			*cause = NULL;
	size_t			 i;

	memset(&st, 0, sizeof(st));
	if (store_held(hub->store, s->org, review_list_row, &st, &cause) ==
	    -1 || st.failed) {
		log_event(LOG_LVL_ERROR, "store.error", "session=%s op=review "
		    "cause=\"%s\"", s->sid, cause ? cause : "out of memory");
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED,
		    NULL, false, "the store could not read what waits for "
		    "%s's review", s->org);
		goto done;
	}
	if (st.n > 0 && (ip = calloc(st.n, sizeof(*ip))) == NULL) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_INTERNAL, NULL,
		    false, "the hub is out of memory");
		goto done;
	}
	for (i = 0; i < st.n; i++)
		ip[i] = &st.v[i];
	rr.items = ip;
	rr.n_items = st.n;
	out.body_case = CEPTOAR__ENVELOPE__BODY_REVIEW_RESULT;
	out.review_result = &rr;
	review_answer(s, rid, &out);
	log_event(LOG_LVL_INFO, "review.list", "session=%s org=%s items=%zu "
	    "more=%zu", s->sid, s->org, st.n, st.more);
done:
	free(ip);
	free(cause);
	review_list_free(&st);
}

/* Add a span; false when the list is full or memory ran out. */
static bool
review_span(struct review_spans *sp, const char *field, const char *side,
    size_t start, size_t end, const char *what, const char *note,
    size_t notelen)
{
	Ceptoar__ReviewSpan	*v;

	if (sp->n >= REVIEW_MAX_SPANS || end <= start)
		return false;
	v = &sp->v[sp->n];
	ceptoar__review_span__init(v);
	if ((sp->notes[sp->n] = strndup(note ? note : "", notelen)) == NULL)
		return false;
	if ((sp->fields[sp->n] = strdup(field)) == NULL) {
		free(sp->notes[sp->n]);
		return false;
	}
	v->field = sp->fields[sp->n];
	v->side = (char *)side;
	v->has_start = 1;
	v->start = (uint32_t)start;
	v->has_end = 1;
	v->end = (uint32_t)end;
	v->what = (char *)what;
	v->note = sp->notes[sp->n];
	sp->p[sp->n] = v;
	sp->n++;
	return true;
}

/* The length of a placeholder ("[person]") at s, or 0. */
static size_t
review_placeholder(const char *s)
{
	size_t	i;

	if (s[0] != '[')
		return 0;
	for (i = 1; i < 26 && ((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' ||
	    s[i] == '-'); i++)
		;
	return i >= 3 && s[i] == ']' ? i + 1 : 0;
}

/*
 * Mark what the scrubber replaced in one text field: each placeholder in
 * the text that would go up, and, where the rest of that text is found
 * in the original in order, the original's bytes between.
 */
static void
review_align(struct review_spans *sp, const char *field, const char *orig,
    const char *anon)
{
	size_t	 ph[REVIEW_MAX_SPANS][2], nph = 0, i, k, lit, litlen, olen;
	size_t	 pos, start;
	const char *hit;
	bool	 aligned = true;

	if (orig == NULL || anon == NULL)
		return;
	olen = strlen(orig);
	for (i = 0; anon[i] != '\0' && nph < REVIEW_MAX_SPANS; i++) {
		/* One the original wrote itself is no replacement. */
		if ((k = review_placeholder(anon + i)) == 0 ||
		    memmem(orig, olen, anon + i, k) != NULL)
			continue;
		ph[nph][0] = i;
		ph[nph][1] = i + k;
		nph++;
		i += k - 1;
	}
	if (nph == 0)
		return;
	for (i = 0; i < nph; i++)
		review_span(sp, field, "anonymised", ph[i][0], ph[i][1],
		    "replaced", anon + ph[i][0], ph[i][1] - ph[i][0]);
	/* The literal before the first placeholder is the original's start. */
	if (ph[0][0] > olen || memcmp(orig, anon, ph[0][0]) != 0)
		return;
	pos = ph[0][0];
	for (i = 0; i < nph && aligned; i++) {
		start = pos;
		/* Adjacent placeholders share one stretch of the original. */
		k = i;
		while (k + 1 < nph && ph[k + 1][0] == ph[k][1])
			k++;
		lit = ph[k][1];
		litlen = (k + 1 < nph ? ph[k + 1][0] : strlen(anon)) - lit;
		if (k + 1 == nph) {
			/* The last literal is the original's end. */
			if (litlen > olen || olen - litlen <= start ||
			    memcmp(orig + olen - litlen, anon + lit, litlen) != 0)
				aligned = false;
			else
				pos = olen - litlen;
		} else if (litlen == 0 || start + 1 > olen ||
		    (hit = memmem(orig + start + 1, olen - start - 1,
		    anon + lit, litlen)) == NULL)
			aligned = false;
		else
			pos = (size_t)(hit - orig);
		if (aligned)
			review_span(sp, field, "original", start, pos,
			    "replaced", anon + ph[i][0], ph[k][1] - ph[i][0]);
		pos += litlen;
		i = k;
	}
}

/* The fields review_align compares, as static strings. */
static const char *const review_fields[] = {
	"report.title", "report.affected_service", "report.free_text",
	"report.legal_basis", "report.impact.description", "reply.text", NULL
};
static const char *const review_systems[] = {
	"report.affected_systems[0]", "report.affected_systems[1]",
	"report.affected_systems[2]", "report.affected_systems[3]",
	"report.affected_systems[4]", "report.affected_systems[5]",
	"report.affected_systems[6]", "report.affected_systems[7]", NULL
};

/*
 * Mark what the scrubber could not vouch for, from its reasons: one per
 * "FIELD: ... at byte N", the quoted marker's bytes or the word there.
 */
static void
review_unvouched(struct review_spans *sp, const Ceptoar__Message *next,
    const char *why)
{
	const char	*p = why, *end, *colon, *at, *q1, *q2, *text;
	size_t		 flen, off, len, n;
	char		 field[64];

	while (p != NULL && *p != '\0') {
		end = strstr(p, "; ");
		n = end ? (size_t)(end - p) : strlen(p);
		colon = memchr(p, ':', n);
		at = NULL;
		for (const char *t = p; t + 8 <= p + n; t++)
			if (memcmp(t, "at byte ", 8) == 0)
				at = t;
		if (colon != NULL && at != NULL &&
		    (flen = (size_t)(colon - p)) < sizeof(field)) {
			memcpy(field, p, flen);
			field[flen] = '\0';
			off = strtoul(at + 8, NULL, 10);
			text = fields_text(next, field);
			q1 = memchr(colon, '"', n - flen);
			q2 = q1 ? memchr(q1 + 1, '"', (size_t)(p + n - q1 - 1)) :
			    NULL;
			if (text != NULL && off < strlen(text)) {
				if (q2 != NULL)
					len = (size_t)(q2 - q1 - 1);
				else
					len = strcspn(text + off, " \t\r\n");
				if (len == 0 || off + len > strlen(text))
					len = 1;
				review_span(sp, field, "anonymised", off,
				    off + len, "unvouched", colon + 2,
				    (size_t)(p + n - colon - 2));
			}
		}
		p = end ? end + 2 : NULL;
	}
}

/*
 * Look up the next hop's form, who would receive it and the CEPTOAR
 * relaying it (NULL: none known), for l.
 */
static int
review_next(const struct lookup *l, const struct dir_org *holder,
    const struct dir_org *originator, int *form, char ***orgs,
    size_t *norgs, const struct dir_ceptoar **ceptoar)
{
	struct route_result	 plan;
	Ceptoar__ErrorCode	 code;
	char			*cause = NULL, **v;
	size_t			 i, n = 0;
	int			 rc = 0;

	*orgs = NULL;
	*norgs = 0;
	*ceptoar = NULL;
	/* By default the relay anonymises; above it, what is held goes on. */
	*form = l->form == CEPTOAR__FORM__FORM_ORIGINAL &&
	    strcmp(l->relay, holder->id) == 0 ? CEPTOAR__FORM__FORM_ANONYMISED :
	    l->form;
	if (l->original->content_case != CEPTOAR__MESSAGE__CONTENT_REPORT)
		return 0;
	memset(&plan, 0, sizeof(plan));
	if (route_message(l->original, originator, hub->dir, &plan, &code,
	    &cause) == -1 || (l->original->report->chain_id != NULL &&
	    handle_chain_plan(l->original, originator->id, &plan, &code,
	    &cause) == -1)) {
		free(cause);
		route_result_free(&plan);
		return 0;
	}
	/* The relay the forward's plan names, as handle_forward uses it. */
	*ceptoar = plan.ceptoar;
	if ((v = calloc(plan.n + 1, sizeof(*v))) == NULL)
		rc = -1;
	for (i = 0; rc == 0 && i < plan.n; i++) {
		if (plan.v[i].hop != l->hop + 1)
			continue;
		if (n == 0)
			*form = plan.v[i].form;
		if ((v[n++] = strdup(plan.v[i].org)) == NULL)
			rc = -1;
	}
	*orgs = v;
	*norgs = n;
	free(cause);
	route_result_free(&plan);
	return rc;
}

/* Whether what l describes waits for org's review; else a sentence. */
static const char *
review_waits(const struct lookup *l, char *buf, size_t len)
{
	char	t[32];

	if (l->is_sender || !l->review) {
		snprintf(buf, len, "nothing of %s waits for your review: the "
		    "hub passed it on already, or it ends with you", l->hub_id);
		return buf;
	}
	if (l->forwarded_at != 0) {
		struct tm tm;
		time_t tt = (time_t)l->forwarded_at;

		gmtime_r(&tt, &tm);
		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(buf, len, "%s was already decided at %s: released "
		    "or rejected; see the sender's receipts", l->hub_id, t);
		return buf;
	}
	return NULL;
}

/*
 * Look up hub_id for s and check it waits for s's review; 0 with l
 * filled, or -1 with err set.
 */
static int
review_lookup(struct session *s, struct service_error *err,
    const char *hub_id, const char *field, struct lookup *l)
{
	char	*cause = NULL, buf[300];
	int	 rc;

	rc = lookup_held(s->org, hub_id, l, &cause);
	if (rc == -1) {
		log_event(LOG_LVL_ERROR, "store.error", "session=%s op=lookup "
		    "cause=\"%s\"", s->sid, cause ? cause : "");
		free(cause);
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED,
		    NULL, false, "the store could not read message %s", hub_id);
		return -1;
	}
	if (rc == 1) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_NOT_FOUND,
		    field, false, "%s: no message %s among those you received",
		    field, hub_id);
		return -1;
	}
	if (review_waits(l, buf, sizeof(buf)) != NULL) {
		lookup_free(l);
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_NOT_HOLDER,
		    field, false, "%s: %s", field, buf);
		return -1;
	}
	return 0;
}

/* The CEPTOAR whose secretariat is relay, or NULL. */
static const struct dir_ceptoar *
review_ceptoar_of(const char *relay)
{
	size_t	i;

	for (i = 0; relay != NULL && *relay != '\0' &&
	    i < hub->dir->nceptoars; i++)
		if (strcmp(hub->dir->ceptoars[i].secretariat, relay) == 0)
			return &hub->dir->ceptoars[i];
	return NULL;
}

/* Answer with one item beside the form that would go up. */
static void
review_show(struct session *s, uint64_t rid, struct service_error *err,
    const char *hub_id, const char *text)
{
	Ceptoar__Envelope	 out = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__ReviewResult	 rr = CEPTOAR__REVIEW_RESULT__INIT;
	const struct dir_org	*holder, *originator;
	struct relay_source	 src;
	struct review_spans	*sp = NULL;
	struct lookup		 l;
	Ceptoar__Message	*next = NULL;
	char			*cause = NULL, why[512], **orgs = NULL;
	size_t			 i, norgs = 0;
	bool			 vouched = true;
	int			 form;

	if (review_lookup(s, err, hub_id, "review.hub_id", &l) == -1)
		return;
	memset(&src, 0, sizeof(src));
	if ((holder = directory_org(hub->dir, s->org)) == NULL ||
	    (originator = directory_org(hub->dir, l.originator)) == NULL) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_NO_RECIPIENTS,
		    NULL, false, "the holder or the originator of %s is no "
		    "longer in the directory", hub_id);
		goto done;
	}
	if (review_next(&l, holder, originator, &form, &orgs, &norgs,
	    &src.ceptoar) == -1 ||
	    (sp = calloc(1, sizeof(*sp))) == NULL)
		goto nomem;
	review_source(&src, &l, originator);
	if (src.ceptoar == NULL)
		src.ceptoar = review_ceptoar_of(l.relay);
	next = relay_preview(&src, holder, text, form, &vouched, why,
	    sizeof(why), &cause);
	if (next == NULL) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    "review.hub_id", false, "the form that would go up cannot "
		    "be made: %s", cause ? cause : "out of memory");
		goto done;
	}
	if (form == CEPTOAR__FORM__FORM_ANONYMISED &&
	    l.form != CEPTOAR__FORM__FORM_ANONYMISED) {
		for (i = 0; review_fields[i] != NULL; i++)
			review_align(sp, review_fields[i],
			    fields_text(l.held, review_fields[i]),
			    fields_text(next, review_fields[i]));
		if (l.held->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT &&
		    next->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT &&
		    l.held->report->n_affected_systems ==
		    next->report->n_affected_systems)
			for (i = 0; review_systems[i] != NULL; i++)
				review_align(sp, review_systems[i],
				    fields_text(l.held, review_systems[i]),
				    fields_text(next, review_systems[i]));
		if (!vouched)
			review_unvouched(sp, next, why);
	}
	rr.original = l.held;
	rr.next_form = next;
	rr.has_next_form_kind = 1;
	rr.next_form_kind = form;
	rr.has_vouched = 1;
	rr.vouched = vouched;
	rr.why = vouched ? NULL : why;
	rr.spans = sp->p;
	rr.n_spans = sp->n;
	rr.next_hop = orgs;
	rr.n_next_hop = norgs;
	out.body_case = CEPTOAR__ENVELOPE__BODY_REVIEW_RESULT;
	out.review_result = &rr;
	review_answer(s, rid, &out);
	log_event(LOG_LVL_INFO, "review.show", "session=%s org=%s hub_id=%s "
	    "form=%s vouched=%s spans=%zu", s->sid, s->org, l.hub_id,
	    names_lookup(names_form, form), vouched ? "yes" : "no", sp->n);
	goto done;
nomem:
	service_fail(err, CEPTOAR__ERROR_CODE__ERROR_INTERNAL, NULL, false,
	    "the hub is out of memory");
done:
	if (sp != NULL)
		for (i = 0; i < sp->n; i++) {
			free(sp->notes[i]);
			free(sp->fields[i]);
		}
	free(sp);
	for (i = 0; i < norgs; i++)
		free(orgs[i]);
	free(orgs);
	if (next != NULL)
		ceptoar__message__free_unpacked(next, NULL);
	free(cause);
	lookup_free(&l);
}

void
handle_review(struct session *s, Ceptoar__Envelope *env,
    struct service_error *err)
{
	const char		*id = env->review->hub_id;
	struct validate_error	 verr;

	if (id == NULL || *id == '\0') {
		review_list(s, env->request_id, err);
		return;
	}
	if (!validate_hub_id(id)) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    "review.hub_id",
		    false, "review.hub_id: name the message that waits for "
		    "your review, as you received it");
		return;
	}
	if (env->review->free_text != NULL &&
	    validate_review_text(env->review->free_text, &verr) == -1) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    verr.field, false,
		    "%s: %s", verr.field, verr.reason);
		return;
	}
	review_show(s, env->request_id, err, id, env->review->free_text);
}

/*
 * The idempotency key of a decision about hub_id by holder: a retried
 * reject is the same write.
 */
static void
review_decision_uuid(const char *what, const char *hub_id, const char *holder,
    const char *client_uuid, char out[40])
{
	crypto_generichash_state	st;
	unsigned char			h[16];

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)what,
	    strlen(what));
	crypto_generichash_update(&st, (const unsigned char *)"|", 1);
	crypto_generichash_update(&st, (const unsigned char *)hub_id,
	    strlen(hub_id));
	crypto_generichash_update(&st, (const unsigned char *)"|", 1);
	crypto_generichash_update(&st, (const unsigned char *)holder,
	    strlen(holder));
	crypto_generichash_update(&st, (const unsigned char *)"|", 1);
	crypto_generichash_update(&st, (const unsigned char *)client_uuid,
	    strlen(client_uuid));
	crypto_generichash_final(&st, h, sizeof(h));
	validate_uuid_format(h, out, 40);
}

int
review_notice_batch(const char *from, const char *to, const char *about,
    const char *held_by, int64_t held_since, int notice, const char *text,
    const char *reason, int tlp, bool drill, const char *uuid,
    struct relay_batch *b, char **cause)
{
	Ceptoar__Message	 m = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Reply		 r = CEPTOAR__REPLY__INIT;
	struct relay_write	*w;

	memset(b, 0, sizeof(*b));
	r.in_reply_to = (char *)about;
	r.text = (char *)text;
	r.has_notice = 1;
	r.notice = notice;
	r.held_by = (char *)held_by;
	r.has_held_since = 1;
	r.held_since = held_since;
	m.uuid = (char *)uuid;
	m.has_tlp = 1;
	m.tlp = tlp;
	m.has_drill = drill;
	m.drill = drill;
	m.content_case = CEPTOAR__MESSAGE__CONTENT_REPLY;
	m.reply = &r;
	if ((b->w = calloc(1, sizeof(*b->w))) == NULL)
		goto nomem;
	b->nw = 1;
	w = &b->w[0];
	w->primary = true;
	w->body_len = ceptoar__message__get_packed_size(&m);
	if ((w->body = malloc(w->body_len ? w->body_len : 1)) == NULL ||
	    (w->sender = strdup(from)) == NULL ||
	    (w->uuid = strdup(uuid)) == NULL ||
	    (w->in_reply_to = strdup(about)) == NULL ||
	    (w->rcpt = calloc(1, sizeof(*w->rcpt))) == NULL ||
	    (w->rcpt[0].org = strdup(to)) == NULL ||
	    (w->rcpt[0].reason = strdup(reason)) == NULL)
		goto nomem;
	ceptoar__message__pack(&m, w->body);
	w->nrcpt = 1;
	w->rcpt[0].hop = 0;
	w->rcpt[0].form = CEPTOAR__FORM__FORM_ORIGINAL;
	w->msg.sender = w->sender;
	w->msg.uuid = w->uuid;
	w->msg.kind = "reply";
	w->msg.in_reply_to = w->in_reply_to;
	w->msg.form = CEPTOAR__FORM__FORM_ORIGINAL;
	w->msg.received_at = (int64_t)time(NULL);
	w->msg.body = w->body;
	w->msg.body_len = w->body_len;
	relay_hub_id(w->msg.hub_id, sizeof(w->msg.hub_id), true);
	return 0;
nomem:
	relay_batch_free(b);
	cause_set(cause, "out of memory making a notice of the review desk");
	return -1;
}

const char *
review_notice_from(const struct lookup *l, const char *holder)
{
	/*
	 * Whoever "sends" a notice sees, as its sender, who received it:
	 * above the relay that would name the reporter, so the relay sends.
	 */
	if (l->form != CEPTOAR__FORM__FORM_ANONYMISED)
		return holder;
	return l->relay[0] != '\0' ? l->relay : NULL;
}

void
review_source(struct relay_source *src, const struct lookup *l,
    const struct dir_org *originator)
{
	src->original = l->original;
	src->originator = originator;
	src->origin_hub_id = l->origin;
	src->chain_id = l->chain_id[0] ? l->chain_id : NULL;
	src->held_form = l->held;
	src->held_form_kind = l->form;
	src->held_hub_id = l->hub_id;
	src->holder_hop = l->hop;
}

void *
review_grow(void *v, size_t *cap, size_t n, size_t size)
{
	size_t	 c;

	if (n < *cap)
		return v;
	c = *cap ? *cap * 2 : 16;
	if ((v = reallocarray(v, c, size)) != NULL)
		*cap = c;
	return v;
}

void
handle_review_reject(struct session *s, Ceptoar__Envelope *env,
    struct service_error *err)
{
	const Ceptoar__ReviewReject	*rj = env->review_reject;
	struct validate_error		 verr;
	struct relay_batch		 b;
	struct lookup			 l;
	const char			*from;
	uint64_t			 rid = env->request_id;
	char				*cause = NULL, uuid[40], reason[160];
	char				 esc[600];
	int				 tlp;
	bool				 drill;

	memset(&b, 0, sizeof(b));
	if (!handle_rate_submit(s, err,
	    "nothing was decided: retry later"))
		return;
	if (validate_review_reject(rj, &verr) == -1) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    verr.field, false, "%s: %s", verr.field, verr.reason);
		return;
	}
	if (review_lookup(s, err, rj->hub_id, "review_reject.hub_id",
	    &l) ==
	    -1)
		return;
	if ((from = review_notice_from(&l, s->org)) == NULL) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
		    "review_reject.hub_id", false, "review_reject.hub_id: the "
		    "sender of %s can be told only through a relay, and it has "
		    "none", rj->hub_id);
		goto done;
	}
	tlp = l.original->has_tlp ? (int)l.original->tlp :
	    CEPTOAR__TLP__TLP_RED;
	drill = l.held->has_drill && l.held->drill;
	review_decision_uuid("reject", l.hub_id, s->org, rj->uuid ? rj->uuid :
	    "", uuid);
	snprintf(reason, sizeof(reason), "not passed on by %s: its review "
	    "declined it", s->org);
	if (review_notice_batch(from, l.originator, l.origin, s->org,
	    l.received_at, CEPTOAR__REVIEW_NOTICE__NOTICE_REJECTED, rj->reason,
	    reason, tlp, drill, uuid, &b, &cause) == -1 ||
	    (b.mark_holder = strdup(s->org)) == NULL ||
	    (b.mark_hub_id = strdup(l.hub_id)) == NULL) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_INTERNAL, NULL,
		    false, "the hub is out of memory; nothing was decided");
		goto done;
	}
	/* Above the relay, the acknowledgement must not name the sender. */
	if (strcmp(from, s->org) != 0)
		b.w[0].rcpt[0].hidden = true;
	/* In the log and the trail once it is durable (submit.c). */
	submit_batch_record(&b, "route.review.reject", "session=%s org=%s "
	    "hub_id=%s origin=%s hop=%u notice_to=%s reason=%s", s->sid,
	    s->org, l.hub_id, l.origin, l.hop, l.originator,
	    log_escape(rj->reason, esc, sizeof(esc)));
	handle_enqueue(s, rid, &b, false, tlp, drill, NULL);
done:
	free(cause);
	relay_batch_free(&b);
	lookup_free(&l);
}
