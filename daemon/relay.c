/*
 * Relay: turn a routing plan into what is stored for each hop.  Hop 0
 * receives the message as it was sent.  Each later hop receives a form
 * made for it, in the holder's name: the original, or the anonymised form
 * the hub makes on the secretariat's behalf, carrying the notes of the
 * hops it passed.  An automatic hop is made at once; a hop that waits for
 * review, or an anonymised form the scrubber cannot vouch for, stops the
 * walk, and the previous hop's holders then hold the message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "ceptoard.h"
#include "validate.h"
#include "frame.h"
#include "names.h"

static void	relay_batch_free_writes(struct relay_batch *);

/* What keys a release's forms in place of the client's uuid. */
#define RELAY_RELEASE_KEY	"release"

/* Everything the walk needs to make the form of a hop. */
struct relay_ctx {
	const Ceptoar__Message		*original;	/* as sent, hub fields set */
	const struct dir_org		*originator;
	const char			*origin_hub_id;	/* NULL: making the original */
	const char			*chain_id;
	const char			*in_reply_to;
	const char			*kind;
	const struct dir_ceptoar	*ceptoar;	/* relay of the chain */
	const Ceptoar__Message		*held_form;	/* the forwarder's form */
	int				 held_form_kind;
	const char			*note;		/* the forwarder's note */
	const char			*forwarder;	/* the forwarder's org id */
	unsigned			 forwarder_hop;
	int				 tlp;		/* 0: keep */
	/* A share's forward.sharing, kept in the forms it makes; or NULL. */
	const Ceptoar__SharingRange	*sharing;
	/*
	 * The label and range of the entry whose form is being made (a
	 * follow-up along a share, route_chain): 0 and NULL for none.
	 */
	int				 entry_tlp;
	const Ceptoar__SharingRange	*entry_range;
	const char			*reviewed_text;	/* secretariat's text */
	const char			*forward_uuid;	/* the client's, or "" */
	bool				 forced;	/* the first hop is released by a forward */
	const char			*answer_reply_to; /* in_reply_to above hop 0 */
	const char			*answer_originator; /* who sent that */
	Ceptoar__Message		*prev[3];	/* last form made, by form */
	int64_t				 now;
};

const char *
relay_kind(const Ceptoar__Message *m)
{
	switch (m->content_case) {
	case CEPTOAR__MESSAGE__CONTENT_REPORT:
		return "report";
	case CEPTOAR__MESSAGE__CONTENT_ADVISORY:
		return "advisory";
	case CEPTOAR__MESSAGE__CONTENT_EARLY_WARNING:
		return "early_warning";
	case CEPTOAR__MESSAGE__CONTENT_CONSULTATION:
		return "consultation";
	case CEPTOAR__MESSAGE__CONTENT_REPLY:
		return "reply";
	case CEPTOAR__MESSAGE__CONTENT_WIDEN_REQUEST:
		return "widen_request";
	case CEPTOAR__MESSAGE__CONTENT_CONSENT_ANSWER:
		return "consent_answer";
	case CEPTOAR__MESSAGE__CONTENT_COMM_CHECK:
		return "comm_check";
	case CEPTOAR__MESSAGE__CONTENT_CHECK_ANSWER:
		return "check_answer";
	default:
		return "unknown";
	}
}

/*
 * A new hub id.  A time-ordered one (a version 7 UUID: milliseconds since
 * the epoch, then random bits) lands at the end of the store's hub_id
 * index, so a group of inserts rewrites a page or two of it rather than
 * one page per message; a random one is for anonymised forms, whose id
 * must not tell when they were made.
 */
void
relay_hub_id(char *out, size_t len, bool time_ordered)
{
	struct timespec	ts;
	unsigned char	r[16];
	uint64_t	ms;
	int		i;

	randombytes_buf(r, sizeof(r));
	if (!time_ordered) {
		validate_uuid_format(r, out, len);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	for (i = 5; i >= 0; i--, ms >>= 8)
		r[i] = (unsigned char)ms;
	validate_uuid_format_version(r, 7, out, len);
}

/*
 * The idempotency key of a derived form: the same forward of the same
 * original at the same hop, in the same form, by the same holder, is the
 * same write, so a retried forward is recognised as a duplicate.
 */
static void
relay_derived_uuid(const struct relay_ctx *ctx, unsigned hop, int form,
    const char *sender, char out[40])
{
	crypto_generichash_state	st;
	unsigned char			h[16];
	char				hops[32];

	snprintf(hops, sizeof(hops), "|%u|%d|", hop, form);
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)"derived|", 8);
	crypto_generichash_update(&st,
	    (const unsigned char *)ctx->origin_hub_id,
	    strlen(ctx->origin_hub_id));
	crypto_generichash_update(&st, (const unsigned char *)hops,
	    strlen(hops));
	crypto_generichash_update(&st, (const unsigned char *)sender,
	    strlen(sender));
	crypto_generichash_update(&st, (const unsigned char *)"|", 1);
	crypto_generichash_update(&st, (const unsigned char *)
	    ctx->forward_uuid, strlen(ctx->forward_uuid));
	/*
	 * A follow-up may go out from one holder in several labels (along
	 * its path, and along a share it tightened): one form each.
	 */
	if (ctx->entry_tlp != 0 || ctx->entry_range != NULL) {
		uint8_t	*buf = NULL;
		size_t	 len = 0;

		snprintf(hops, sizeof(hops), "|label|%d|", ctx->entry_tlp);
		crypto_generichash_update(&st, (const unsigned char *)hops,
		    strlen(hops));
		if (ctx->entry_range != NULL) {
			len = ceptoar__sharing_range__get_packed_size(
			    ctx->entry_range);
			if ((buf = malloc(len ? len : 1)) != NULL) {
				ceptoar__sharing_range__pack(ctx->entry_range,
				    buf);
				crypto_generichash_update(&st, buf, len);
			}
			free(buf);
		}
	}
	crypto_generichash_final(&st, h, sizeof(h));
	validate_uuid_format(h, out, 40);
}

/* Whether two ranges (NULL: none) say the same. */
static bool
relay_same_range(const Ceptoar__SharingRange *a,
    const Ceptoar__SharingRange *b)
{
	uint8_t	*pa, *pb;
	size_t	 la, lb;
	bool	 same;

	if (a == b)
		return true;
	if (a == NULL || b == NULL)
		return false;
	la = ceptoar__sharing_range__get_packed_size(a);
	lb = ceptoar__sharing_range__get_packed_size(b);
	if (la != lb)
		return false;
	pa = malloc(la ? la : 1);
	pb = malloc(lb ? lb : 1);
	if (pa == NULL || pb == NULL) {
		free(pa);
		free(pb);
		return false;	/* made apart: never wrong, only twice */
	}
	ceptoar__sharing_range__pack(a, pa);
	ceptoar__sharing_range__pack(b, pb);
	same = memcmp(pa, pb, la) == 0;
	free(pa);
	free(pb);
	return same;
}

/* Whether plan entries a and b get a form of the same label and range. */
static bool
relay_same_label(const struct route_entry *a, const struct route_entry *b)
{
	return a->tlp == b->tlp && relay_same_range(a->range, b->range);
}

/*
 * Put range in m's report, a copy; an anonymised form never lists its
 * originator (as anon_sharing does).  -1 when out of memory.
 */
static int
relay_set_range(const struct dir_org *originator, Ceptoar__Message *m,
    int form, const Ceptoar__SharingRange *range)
{
	Ceptoar__SharingRange	*copy;
	uint8_t			*buf;
	size_t			 len, i, k;

	if (m->content_case != CEPTOAR__MESSAGE__CONTENT_REPORT)
		return 0;
	len = ceptoar__sharing_range__get_packed_size(range);
	if ((buf = malloc(len ? len : 1)) == NULL)
		return -1;
	ceptoar__sharing_range__pack(range, buf);
	copy = ceptoar__sharing_range__unpack(NULL, len, buf);
	free(buf);
	if (copy == NULL)
		return -1;
	if (form == CEPTOAR__FORM__FORM_ANONYMISED) {
		for (i = 0, k = 0; i < copy->n_organisations; i++) {
			if (strcmp(copy->organisations[i],
			    originator->id) == 0) {
				free(copy->organisations[i]);
				continue;
			}
			copy->organisations[k++] = copy->organisations[i];
		}
		copy->n_organisations = k;
	}
	if (m->report->sharing != NULL)
		ceptoar__sharing_range__free_unpacked(m->report->sharing, NULL);
	m->report->sharing = copy;
	return 0;
}


void
relay_release_uuid(const char *origin_hub_id, unsigned hop, int form,
    const char *holder, char out[40])
{
	struct relay_ctx	ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.origin_hub_id = origin_hub_id;
	ctx.forward_uuid = RELAY_RELEASE_KEY;
	relay_derived_uuid(&ctx, hop, form, holder, out);
}

/* Replace a string field of an unpacked message (freed by free_unpacked). */
static int
relay_set_string(char **field, const char *value)
{
	char	*v = NULL;

	if (value != NULL && (v = strdup(value)) == NULL)
		return -1;
	free(*field);
	*field = v;
	return 0;
}

/*
 * Append the forwarder's note to the form's notes, stamp the relay,
 * tighten the label and narrow the range, in place.
 */
static int
relay_stamp(const struct relay_ctx *ctx, Ceptoar__Message *m, unsigned hop,
    int form, const char *sender)
{
	const Ceptoar__SharingRange	 *range;
	Ceptoar__HopNote		**nv, *n;

	if (ctx->tlp != 0) {
		m->has_tlp = 1;
		m->tlp = ctx->tlp;
	}
	/* Along a share: its label where it is the tighter (route_chain). */
	if (ctx->entry_tlp != 0 && (!m->has_tlp || (int)m->tlp <
	    ctx->entry_tlp)) {
		m->has_tlp = 1;
		m->tlp = ctx->entry_tlp;
	}
	range = ctx->entry_range != NULL ? ctx->entry_range : ctx->sharing;
	if (range != NULL && relay_set_range(ctx->originator, m, form,
	    range) == -1)
		return -1;
	if (ctx->ceptoar != NULL &&
	    relay_set_string(&m->relay, ctx->ceptoar->secretariat) == -1)
		return -1;
	/* Answers to an anonymised form go through whoever made it. */
	if (ctx->ceptoar == NULL && m->relay == NULL && sender != NULL &&
	    form == CEPTOAR__FORM__FORM_ANONYMISED &&
	    relay_set_string(&m->relay, sender) == -1)
		return -1;
	if (ctx->note == NULL || *ctx->note == '\0' || ctx->forwarder == NULL)
		return 0;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return -1;
	ceptoar__hop_note__init(n);
	nv = realloc(m->hop_notes, (m->n_hop_notes + 1) * sizeof(*nv));
	if (nv == NULL || (n->by = strdup(ctx->forwarder)) == NULL ||
	    (n->note = strdup(ctx->note)) == NULL) {
		if (nv != NULL)
			m->hop_notes = nv;
		free(n->by);
		free(n);
		return -1;
	}
	n->has_at = 1;
	n->at = ctx->now;
	n->has_hop = 1;
	n->hop = hop;
	m->hop_notes = nv;
	m->hop_notes[m->n_hop_notes++] = n;
	return 0;
}

/*
 * Who relays questions for an anonymised form: the chain's CEPTOAR, or,
 * for a report that came up without one (a mandatory report NISC shares
 * on), the forwarder standing in as a CEPTOAR of one.
 */
static const struct dir_ceptoar *
relay_anon_relay(const struct relay_ctx *ctx, const char *sender,
    struct dir_ceptoar *stand_in)
{
	const struct dir_org	*f;

	if (ctx->ceptoar != NULL)
		return ctx->ceptoar;
	if (sender == NULL || (f = directory_org(hub->dir, sender)) == NULL)
		return NULL;
	memset(stand_in, 0, sizeof(*stand_in));
	stand_in->id = f->id;
	stand_in->name = f->name;
	stand_in->secretariat = f->id;
	stand_in->sector = ctx->original->report->sector ?
	    ctx->original->report->sector : ctx->originator->nsectors ?
	    ctx->originator->sectors[0] : NULL;
	return stand_in;
}

/*
 * An answer relayed past hop 0 refers to what its recipient knows (the
 * original behind the form the replier held), and an anonymised one loses
 * the replier's own idempotency key.
 */
static int
relay_answer_fields(const struct relay_ctx *ctx, Ceptoar__Message *m,
    int form, unsigned hop)
{
	char	**field = NULL, uuid[40];

	switch (m->content_case) {
	case CEPTOAR__MESSAGE__CONTENT_REPLY:
		field = &m->reply->in_reply_to;
		break;
	case CEPTOAR__MESSAGE__CONTENT_CONSENT_ANSWER:
		field = &m->consent_answer->request;
		break;
	case CEPTOAR__MESSAGE__CONTENT_WIDEN_REQUEST:
		field = &m->widen_request->hub_id;
		break;
	case CEPTOAR__MESSAGE__CONTENT_CHECK_ANSWER:
		field = &m->check_answer->check;
		break;
	default:
		return 0;
	}
	if (ctx->answer_reply_to != NULL &&
	    relay_set_string(field, ctx->answer_reply_to) == -1)
		return -1;
	if (form == CEPTOAR__FORM__FORM_ANONYMISED && ctx->origin_hub_id) {
		relay_derived_uuid(ctx, hop, form, "answer", uuid);
		if (relay_set_string(&m->uuid, uuid) == -1)
			return -1;
	}
	return 0;
}

/*
 * Pass a form just made anonymised through the one gate: every string,
 * the notes it carries from the hops before included.  -1 when out of
 * memory; text the gate cannot vouch for clears *vouched.
 */
static int
relay_gate(const struct relay_ctx *ctx, Ceptoar__Message *m, bool *vouched,
    char *why, size_t whylen)
{
	struct anon_gate		g;
	struct anon_gate_verdict	v;
	int				rc;

	if (anon_gate_init(&g, ctx->originator, ctx->original) == -1)
		return -1;
	rc = anon_gate_message(m, &g, &v);
	anon_gate_free(&g);
	if (rc == -1)
		return -1;
	if (!v.vouched) {
		if (*vouched)
			snprintf(why, whylen, "%.250s", v.why);
		*vouched = false;
	}
	return 0;
}

/* The words of m a holder's reviewed text replaces, and their path. */
static char **
relay_main_text(Ceptoar__Message *m, const char **path)
{
	switch (m->content_case) {
	case CEPTOAR__MESSAGE__CONTENT_REPORT:
		*path = "report.free_text";
		return &m->report->free_text;
	case CEPTOAR__MESSAGE__CONTENT_REPLY:
		*path = "reply.text";
		return &m->reply->text;
	case CEPTOAR__MESSAGE__CONTENT_CONSENT_ANSWER:
		*path = "consent_answer.note";
		return &m->consent_answer->note;
	default:
		return NULL;
	}
}

/*
 * A holder's reviewed text replaces the message's words, and the form
 * says so: the text is the holder's from this hop on, never the
 * author's.  The words are the holder's as written: a holder that knows
 * the reporter had them checked (handle_forward.c); one that does not
 * cannot name it but by guessing, and checking its guess would tell it
 * whether it guessed right.
 */
static int
relay_edit(const struct relay_ctx *ctx, Ceptoar__Message *m, unsigned hop)
{
	Ceptoar__Edit	**nv, *e;
	const char	 *path = NULL;
	char		**text;

	if ((text = relay_main_text(m, &path)) == NULL)
		return 0;
	if (relay_set_string(text, ctx->reviewed_text) == -1)
		return -1;
	if (ctx->forwarder == NULL)
		return 0;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	ceptoar__edit__init(e);
	if ((e->fields = calloc(1, sizeof(char *))) != NULL &&
	    (e->fields[0] = strdup(path)) != NULL)
		e->n_fields = 1;
	if (e->n_fields == 0 || (e->by = strdup(ctx->forwarder)) == NULL ||
	    (nv = reallocarray(m->edits, m->n_edits + 1, sizeof(*nv))) ==
	    NULL) {
		ceptoar__edit__free_unpacked(e, NULL);
		return -1;
	}
	/* Coarse, like every time on an anonymised form. */
	e->has_at = 1;
	e->at = anon_coarsen_time(&hub->anon, ctx->now);
	e->has_hop = 1;
	e->hop = hop;
	m->edits = nv;
	m->edits[m->n_edits++] = e;
	return 0;
}

/*
 * The message a recipient of form receives at hop.  *vouched is false
 * when an anonymised form carries text the scrubber could not vouch for.
 * The caller frees the result with ceptoar__message__free_unpacked.
 */
static Ceptoar__Message *
relay_form(const struct relay_ctx *ctx, int form, unsigned hop,
    const char *sender, bool *vouched, char *why, size_t whylen, char **cause)
{
	struct anon_result	 ar;
	struct dir_ceptoar	 stand_in;
	Ceptoar__Message	*m = NULL;
	const Ceptoar__Message	*base;
	bool			 gate = false;

	*vouched = true;
	base = ctx->held_form != NULL ? ctx->held_form : ctx->original;
	if (ctx->prev[form] != NULL) {
		/* The form the previous hop got, with its notes, passed on. */
		if ((m = frame_message_copy(ctx->prev[form])) == NULL)
			goto nomem;
	} else if (form != CEPTOAR__FORM__FORM_ANONYMISED ||
	    ctx->held_form_kind == CEPTOAR__FORM__FORM_ANONYMISED) {
		/* The original, or an already anonymised form passed on. */
		if ((m = frame_message_copy(base)) == NULL)
			goto nomem;
	} else if (ctx->original->content_case ==
	    CEPTOAR__MESSAGE__CONTENT_REPORT) {
		if (!hub->anon_ready) {
			cause_set(cause, "the hub has no anon_key configured, "
			    "so it cannot anonymise");
			return NULL;
		}
		if (anon_report(ctx->original, ctx->originator,
		    relay_anon_relay(ctx, sender, &stand_in), hub->dir,
		    &hub->anon, &ar, cause) == -1)
			return NULL;
		m = ar.msg;
		ar.msg = NULL;
		*vouched = ar.vouched;
		gate = true;
		if (!ar.vouched)
			snprintf(why, whylen, "%s", ar.why ? ar.why :
			    "text the scrubber cannot vouch for");
		anon_result_free(&ar);
		/* Keep the notes of the hops already passed. */
		if (ctx->prev[CEPTOAR__FORM__FORM_ORIGINAL] != NULL)
			base = ctx->prev[CEPTOAR__FORM__FORM_ORIGINAL];
		if (base->n_hop_notes > 0) {
			Ceptoar__Message *withnotes = frame_message_copy(base);
			if (withnotes == NULL)
				goto nomem;
			m->hop_notes = withnotes->hop_notes;
			m->n_hop_notes = withnotes->n_hop_notes;
			withnotes->hop_notes = NULL;
			withnotes->n_hop_notes = 0;
			ceptoar__message__free_unpacked(withnotes, NULL);
		}
	} else {
		/* An answer going up: the reporter's words, through the gate. */
		if ((m = frame_message_copy(base)) == NULL)
			goto nomem;
		gate = true;
	}
	if (gate && relay_gate(ctx, m, vouched, why, whylen) == -1)
		goto nomem;
	if (form == CEPTOAR__FORM__FORM_ANONYMISED && ctx->reviewed_text &&
	    relay_edit(ctx, m, hop) == -1)
		goto nomem;
	if (hop > 0 && relay_answer_fields(ctx, m, form, hop) == -1)
		goto nomem;
	/* An original passed on names its author; an anonymised one never. */
	if (relay_set_string(&m->author, form == CEPTOAR__FORM__FORM_ORIGINAL &&
	    hop > 0 ? ctx->originator->id : NULL) == -1)
		goto nomem;
	if (relay_stamp(ctx, m, hop, form, sender) == -1)
		goto nomem;
	return m;
nomem:
	if (m != NULL)
		ceptoar__message__free_unpacked(m, NULL);
	cause_set(cause, "out of memory making the form of hop %u", hop);
	return NULL;
}

/* Add an empty write to the batch; NULL when out of memory. */
static struct relay_write *
relay_new_write(struct relay_batch *b)
{
	struct relay_write	*nv;

	nv = reallocarray(b->w, b->nw + 1, sizeof(*nv));
	if (nv == NULL)
		return NULL;
	b->w = nv;
	memset(&b->w[b->nw], 0, sizeof(b->w[b->nw]));
	return &b->w[b->nw++];
}

/*
 * The chain key stored with a form.  An anonymised form carries the
 * pseudonymous chain id the anonymiser made, so that nothing above the
 * secretariat holds the reporter's own identifiers.
 */
static const char *
relay_chain_of(const struct relay_ctx *ctx, const Ceptoar__Message *m,
    int form)
{
	if (form == CEPTOAR__FORM__FORM_ANONYMISED &&
	    m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT)
		return m->report->chain_id;
	return ctx->chain_id;
}

/* Whether two organisation ids, either possibly NULL, are the same. */
static bool
relay_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* What a form at hop answers, as its recipients know it. */
static const char *
relay_reply_to(const struct relay_ctx *ctx, unsigned hop)
{
	if (hop > 0 && ctx->answer_reply_to != NULL)
		return ctx->answer_reply_to;
	return ctx->in_reply_to;
}

/*
 * The largest Deliver frame payload write w can travel in: its body
 * inside the delivery fields deliver.c sends with it, each at its widest
 * (the longest reason of its recipients, the largest seq and times).
 */
static size_t
relay_deliver_len(const struct relay_write *w)
{
	Ceptoar__Delivery	d;
	const char		*reason = "";
	size_t			i;

	for (i = 0; i < w->nrcpt; i++)
		if (strlen(w->rcpt[i].reason) > strlen(reason))
			reason = w->rcpt[i].reason;
	ceptoar__delivery__init(&d);
	d.has_seq = d.has_received_at = d.has_acked_at = 1;
	d.seq = UINT64_MAX;
	d.received_at = d.acked_at = INT64_MAX;
	d.has_form = d.has_hop = d.has_review = 1;
	d.form = w->msg.form ? w->msg.form : CEPTOAR__FORM__FORM_ORIGINAL;
	d.hop = w->msg.hop;
	d.review = 1;
	d.hub_id = (char *)w->msg.hub_id;
	d.sender = w->sender;
	d.reason = (char *)reason;
	d.chain_id = w->chain_id;
	d.in_reply_to = w->in_reply_to;
	return frame_deliver_len(&d, w->body_len);
}

/*
 * Whether the form just filled in b's last write fits what clients
 * accept; if not, it is taken out of b and why says so, naming field.
 */
static bool
relay_fits(struct relay_batch *b, const char *field, char *why,
    size_t whylen)
{
	struct relay_write	*w = &b->w[b->nw - 1];
	struct relay_batch	 last;
	size_t			 len = relay_deliver_len(w);
	uint64_t		 limit = frame_deliver_limit(hub->conf.max_frame);

	if (len <= limit)
		return true;
	snprintf(why, whylen, "%s: the %s form for hop %u would travel in a "
	    "Deliver frame of %zu bytes, more than the %llu bytes clients "
	    "accept (max_frame %llu and %u for the delivery's fields); it is "
	    "%llu bytes too long", field, names_lookup(names_form,
	    w->msg.form), w->msg.hop, len, (unsigned long long)limit,
	    (unsigned long long)hub->conf.max_frame, FRAME_DELIVER_SLACK,
	    (unsigned long long)(len - limit));
	log_event(LOG_LVL_WARN, "relay.oversized", "hop=%u form=%s bytes=%zu "
	    "limit=%llu", w->msg.hop, names_lookup(names_form, w->msg.form),
	    len, (unsigned long long)limit);
	/* Free the write alone, as relay_batch_free would. */
	memset(&last, 0, sizeof(last));
	last.w = w;
	last.nw = 1;
	relay_batch_free_writes(&last);
	b->nw--;
	return false;
}

/*
 * Fill write w with body m and the entries of plan at hop in form (and,
 * unless like is NULL, of like's label and range).
 */
static int
relay_fill(struct relay_write *w, const struct relay_ctx *ctx,
    const Ceptoar__Message *m, const struct route_result *plan, unsigned hop,
    int form, bool any_form, const char *via, bool any_via,
    const struct route_entry *like, const char *sender, const char *uuid)
{
	size_t	i, n = 0;

	w->body_len = ceptoar__message__get_packed_size(m);
	if ((w->body = malloc(w->body_len ? w->body_len : 1)) == NULL)
		return -1;
	ceptoar__message__pack(m, w->body);
	if ((w->sender = strdup(sender)) == NULL ||
	    (w->uuid = strdup(uuid)) == NULL ||
	    (ctx->origin_hub_id && (w->origin = strdup(ctx->origin_hub_id)) ==
	    NULL) ||
	    (relay_chain_of(ctx, m, form) &&
	    (w->chain_id = strdup(relay_chain_of(ctx, m, form))) == NULL) ||
	    (relay_reply_to(ctx, hop) &&
	    (w->in_reply_to = strdup(relay_reply_to(ctx, hop))) == NULL))
		return -1;
	if ((w->rcpt = calloc(plan->n ? plan->n : 1, sizeof(*w->rcpt))) ==
	    NULL)
		return -1;
	for (i = 0; i < plan->n; i++) {
		const struct route_entry *e = &plan->v[i];

		if (e->hop != hop || (!any_form && e->form != form) ||
		    (!any_via && !relay_same(e->via, via)) ||
		    (like != NULL && !relay_same_label(e, like)))
			continue;
		if ((w->rcpt[n].org = strdup(e->org)) == NULL ||
		    (w->rcpt[n].reason = strdup(e->reason)) == NULL)
			return -1;
		w->rcpt[n].hop = hop;
		w->rcpt[n].form = any_form ? CEPTOAR__FORM__FORM_ORIGINAL : form;
		w->rcpt[n].hidden = e->hidden;
		n++;
	}
	w->nrcpt = n;
	w->msg.sender = w->sender;
	w->msg.uuid = w->uuid;
	w->msg.kind = ctx->kind;
	w->msg.origin = w->origin;
	w->msg.chain_id = w->chain_id;
	w->msg.in_reply_to = w->in_reply_to;
	w->msg.form = any_form ? CEPTOAR__FORM__FORM_ORIGINAL : form;
	w->msg.hop = hop;
	w->msg.received_at = form == CEPTOAR__FORM__FORM_ANONYMISED ?
	    anon_coarsen_time(&hub->anon, ctx->now) : ctx->now;
	w->msg.body = w->body;
	w->msg.body_len = w->body_len;
	relay_hub_id(w->msg.hub_id, sizeof(w->msg.hub_id),
	    w->msg.form != CEPTOAR__FORM__FORM_ANONYMISED);
	return 0;
}


/*
 * An answer names what its sender holds, but the originator of that
 * message opens it by the original's hub id: at hop 0 the originator
 * gets its own write, the reference rewritten (in the body and in the
 * delivery), while the sender's stored copy keeps the id it named.  Its
 * uuid derives from the answer's, so a retry is found by the primary's.
 * 0 also when nothing is to be rewritten, -1 when out of memory.
 */
static int
relay_answer_for_originator(struct relay_batch *b,
    const struct relay_ctx *ctx, const struct route_result *plan,
    const char *first_sender)
{
	crypto_generichash_state	 st;
	struct relay_write		*p, *w;
	Ceptoar__Message		*m;
	unsigned char			 h[16];
	char				 uuid[40];
	size_t				 i, k, n, at = SIZE_MAX;

	if (ctx->answer_reply_to == NULL || ctx->answer_originator == NULL ||
	    ctx->in_reply_to == NULL ||
	    strcmp(ctx->answer_reply_to, ctx->in_reply_to) == 0)
		return 0;
	p = &b->w[b->nw - 1];
	for (i = 0; i < p->nrcpt; i++)
		if (strcmp(p->rcpt[i].org, ctx->answer_originator) == 0)
			at = i;
	if (at == SIZE_MAX)
		return 0;
	if ((m = frame_message_copy(ctx->original)) == NULL)
		return -1;
	if (relay_answer_fields(ctx, m, CEPTOAR__FORM__FORM_ORIGINAL, 0) ==
	    -1) {
		ceptoar__message__free_unpacked(m, NULL);
		return -1;
	}
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)"answer-ref|",
	    11);
	crypto_generichash_update(&st, (const unsigned char *)
	    ctx->original->uuid, strlen(ctx->original->uuid));
	crypto_generichash_final(&st, h, sizeof(h));
	validate_uuid_format(h, uuid, sizeof(uuid));
	if ((w = relay_new_write(b)) == NULL || relay_fill(w, ctx, m, plan,
	    0, 0, true, NULL, true, NULL, first_sender, uuid) == -1) {
		ceptoar__message__free_unpacked(m, NULL);
		return -1;
	}
	ceptoar__message__free_unpacked(m, NULL);
	p = &b->w[b->nw - 2];
	/* Derived from the primary: submit_write sets the origin it gets. */
	free(w->in_reply_to);
	if ((w->in_reply_to = strdup(ctx->answer_reply_to)) == NULL ||
	    (w->origin == NULL && (w->origin = strdup("")) == NULL))
		return -1;
	w->msg.in_reply_to = w->in_reply_to;
	w->msg.origin = w->origin;
	/* The originator's delivery moves from the primary to w. */
	for (i = 0, n = 0; i < w->nrcpt; i++) {
		if (strcmp(w->rcpt[i].org, ctx->answer_originator) != 0) {
			free((char *)w->rcpt[i].org);
			free((char *)w->rcpt[i].reason);
			continue;
		}
		w->rcpt[n++] = w->rcpt[i];
	}
	w->nrcpt = n;
	free((char *)p->rcpt[at].org);
	free((char *)p->rcpt[at].reason);
	for (k = at; k + 1 < p->nrcpt; k++)
		p->rcpt[k] = p->rcpt[k + 1];
	p->nrcpt--;
	return 0;
}

/*
 * The holder org of hop now holds the message for review.  Without a
 * delivery of its own in this batch (a forwarder releasing a hop that is
 * held again further on), it holds nothing here and nothing is marked.
 */
static void
relay_hold(struct relay_batch *b, unsigned hop, const char *org,
    const char *why)
{
	size_t	i, j;

	for (i = 0; i < b->nw; i++)
		for (j = 0; j < b->w[i].nrcpt; j++)
			if (b->w[i].rcpt[j].hop == hop &&
			    relay_same(b->w[i].rcpt[j].org, org)) {
				b->w[i].rcpt[j].review = true;
				b->held = true;
			}
	snprintf(b->held_why, sizeof(b->held_why), "%s", why);
}

/* Whether org was written at hop in this batch. */
static bool
relay_written(const struct relay_batch *b, unsigned hop, const char *org)
{
	size_t	i, j;

	if (org == NULL)
		return false;
	for (i = 0; i < b->nw; i++)
		for (j = 0; j < b->w[i].nrcpt; j++)
			if (b->w[i].rcpt[j].hop == hop &&
			    strcmp(b->w[i].rcpt[j].org, org) == 0)
				return true;
	return false;
}

/* Remember the form just made, for the hops after it. */
static void
relay_keep(struct relay_ctx *ctx, int form, Ceptoar__Message *m)
{
	if (ctx->prev[form] != NULL)
		ceptoar__message__free_unpacked(ctx->prev[form], NULL);
	ctx->prev[form] = m;
}

/*
 * Walk the plan from hop from: make each hop's forms until a hop waits
 * for review.  first_sender sends hop from (the originator for hop 0,
 * the forwarding holder otherwise).
 */
static int
relay_walk(struct relay_batch *b, struct relay_ctx *ctx,
    const struct route_result *plan, unsigned from, unsigned to,
    const char *first_sender, char **cause)
{
	static const int	 forms[] = { CEPTOAR__FORM__FORM_ORIGINAL,
				    CEPTOAR__FORM__FORM_ANONYMISED };
	Ceptoar__Message	*m;
	struct relay_write	*w;
	const struct route_entry *e;
	const char		*via, *sender;
	char			 uuid[40], why[256];
	unsigned		 hop;
	size_t			 i, k, f;
	bool			 any, review, vouched, first, done, opened;

	for (hop = from; hop < to && hop < plan->nhops; hop++) {
		first = ctx->forced && hop == from;
		any = false;
		for (i = 0; i < plan->n; i++)
			if (plan->v[i].hop == hop)
				any = true;
		if (!any)
			break;
		if (hop == 0) {
			/* The message as sent, to every hop-0 recipient. */
			if ((w = relay_new_write(b)) == NULL ||
			    relay_fill(w, ctx, ctx->original, plan, 0, 0, true,
			    NULL, true, NULL, first_sender,
			    ctx->original->uuid) == -1)
				goto nomem;
			if (!relay_fits(b, "message", why, sizeof(why))) {
				b->oversized = true;
				cause_set(cause, "%s", why);
				return -1;
			}
			w->primary = true;
			if (relay_answer_for_originator(b, ctx, plan,
			    first_sender) == -1)
				goto nomem;
			continue;
		}
		opened = false;
		/* One form per (form, relaying holder) of this hop. */
		for (i = 0; i < plan->n; i++) {
			e = &plan->v[i];
			if (e->hop != hop)
				continue;
			/* Only what a holder written at the hop before relays. */
			if (!first && !relay_written(b, hop - 1, e->via))
				continue;
			/* Already made with an earlier entry of its group. */
			done = false;
			for (k = 0; k < i && !done; k++)
				if (plan->v[k].hop == hop &&
				    plan->v[k].form == e->form &&
				    relay_same_label(&plan->v[k], e) &&
				    (first || relay_same(plan->v[k].via,
				    e->via)) && (first ||
				    relay_written(b, hop - 1, plan->v[k].via)))
					done = true;
			if (done)
				continue;
			via = first ? NULL : e->via;
			sender = first ? first_sender : e->via;
			review = false;
			for (k = 0; k < plan->n; k++)
				if (plan->v[k].hop == hop &&
				    plan->v[k].form == e->form &&
				    relay_same_label(&plan->v[k], e) &&
				    (first || relay_same(plan->v[k].via, via)))
					review |= plan->v[k].review;
			if (review && !first) {
				relay_hold(b, hop - 1, e->via, "waits for the "
				    "review of the hop before");
				continue;
			}
			for (f = 0; f < 2 && forms[f] != e->form; f++)
				;
			why[0] = '\0';
			ctx->entry_tlp = e->tlp;
			ctx->entry_range = e->range;
			if ((m = relay_form(ctx, e->form, hop, sender, &vouched,
			    why, sizeof(why), cause)) == NULL)
				return -1;
			if (!vouched && !(first && ctx->reviewed_text)) {
				/*
				 * Held for the secretariat: nothing of this
				 * branch goes out until a person has read it.
				 */
				ceptoar__message__free_unpacked(m, NULL);
				if (first) {
					cause_set(cause, "the anonymised "
					    "text still needs review (%s); "
					    "forward it with reviewed text", why);
					return -1;
				}
				relay_hold(b, hop - 1, e->via, why);
				continue;
			}
			relay_derived_uuid(ctx, hop, e->form, sender, uuid);
			w = relay_new_write(b);
			if (w == NULL || relay_fill(w, ctx, m, plan, hop,
			    e->form, false, via, first, e, sender, uuid) == -1) {
				ceptoar__message__free_unpacked(m, NULL);
				goto nomem;
			}
			if (!relay_fits(b, first ? "forward" : "message", why,
			    sizeof(why))) {
				ceptoar__message__free_unpacked(m, NULL);
				/*
				 * The holder releasing it hears why at once;
				 * a hop made by itself waits with its holder,
				 * who can forward it with shorter text.
				 */
				if (first) {
					b->oversized = true;
					cause_set(cause, "%s", why);
					return -1;
				}
				relay_hold(b, hop - 1, e->via, why);
				continue;
			}
			if (b->nw == 1)
				w->primary = true;
			/*
			 * A form in a share's label is that share's alone:
			 * the hops after copy the path's.
			 */
			if (e->tlp != 0 || e->range != NULL)
				ceptoar__message__free_unpacked(m, NULL);
			else
				relay_keep(ctx, e->form, m);
			opened = true;
		}
		/* Later hops carry the notes in the forms they copy. */
		ctx->note = NULL;
		ctx->reviewed_text = NULL;
		if (!opened)
			break;
	}
	return 0;
nomem:
	cause_set(cause, "out of memory relaying a message");
	return -1;
}

Ceptoar__Message *
relay_labelled(const Ceptoar__Message *m, int form,
    const struct dir_org *originator, const struct route_entry *e)
{
	Ceptoar__Message	*c;

	if ((c = frame_message_copy(m)) == NULL)
		return NULL;
	if (e->tlp != 0 && (!c->has_tlp || (int)c->tlp < e->tlp)) {
		c->has_tlp = 1;
		c->tlp = e->tlp;
	}
	if (e->range != NULL && relay_set_range(originator, c, form,
	    e->range) == -1) {
		ceptoar__message__free_unpacked(c, NULL);
		return NULL;
	}
	return c;
}

/* Free the forms the walk kept. */
static void
relay_ctx_free(struct relay_ctx *ctx)
{
	size_t	i;

	for (i = 0; i < sizeof(ctx->prev) / sizeof(*ctx->prev); i++)
		if (ctx->prev[i] != NULL)
			ceptoar__message__free_unpacked(ctx->prev[i], NULL);
}

int
relay_submit(const Ceptoar__Message *m, const struct dir_org *sender,
    const struct route_result *plan, const char *chain_id,
    const char *answer_reply_to, const char *answer_originator,
    struct relay_batch *b, char **cause)
{
	struct relay_ctx	ctx;
	char			origin[STORE_HUB_ID_LEN];
	int			rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.answer_reply_to = answer_reply_to;
	ctx.answer_originator = answer_originator;
	b->from_submit = true;
	ctx.original = m;
	ctx.originator = sender;
	ctx.chain_id = chain_id;
	ctx.kind = relay_kind(m);
	ctx.ceptoar = plan->ceptoar;
	ctx.now = (int64_t)time(NULL);
	ctx.forward_uuid = "";
	ctx.forwarder = sender->id;
	if (m->content_case == CEPTOAR__MESSAGE__CONTENT_REPLY)
		ctx.in_reply_to = m->reply->in_reply_to;
	else if (m->content_case == CEPTOAR__MESSAGE__CONTENT_CONSENT_ANSWER)
		ctx.in_reply_to = m->consent_answer->request;
	else if (m->content_case == CEPTOAR__MESSAGE__CONTENT_CHECK_ANSWER)
		ctx.in_reply_to = m->check_answer->check;
	else if (m->content_case == CEPTOAR__MESSAGE__CONTENT_WIDEN_REQUEST)
		ctx.in_reply_to = m->widen_request->hub_id;
	/* Hop 0 first: its hub id is the origin of every later form. */
	if (relay_walk(b, &ctx, plan, 0, 1, sender->id, cause) == -1) {
		relay_ctx_free(&ctx);
		return -1;
	}
	if (b->nw == 0) {
		relay_ctx_free(&ctx);
		return 0;
	}
	snprintf(origin, sizeof(origin), "%s", b->w[0].msg.hub_id);
	ctx.origin_hub_id = origin;
	ctx.forwarder = NULL;
	rc = 0;
	if (plan->nhops > 1)
		rc = relay_walk(b, &ctx, plan, 1, plan->nhops, NULL, cause);
	relay_ctx_free(&ctx);
	return rc;
}

int
relay_forward(const struct relay_source *src, const struct dir_org *holder,
    const Ceptoar__Forward *fw, const struct route_result *plan,
    struct relay_batch *b, char **cause)
{
	struct relay_ctx	ctx;
	int			rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.original = src->original;
	ctx.originator = src->originator;
	ctx.origin_hub_id = src->origin_hub_id;
	ctx.chain_id = src->chain_id;
	ctx.in_reply_to = src->in_reply_to;
	ctx.kind = relay_kind(src->original);
	ctx.ceptoar = plan->ceptoar != NULL ? plan->ceptoar : src->ceptoar;
	ctx.held_form = src->held_form;
	ctx.held_form_kind = src->held_form_kind;
	ctx.note = fw->note;
	ctx.forwarder = holder->id;
	ctx.forwarder_hop = src->holder_hop;
	ctx.tlp = fw->has_tlp ? fw->tlp : 0;
	/*
	 * A share keeps the range it narrowed to in its form, for the
	 * recipient's own forwards and for the chain's follow-ups.
	 */
	ctx.sharing = fw->n_recipients > 0 ? fw->sharing : NULL;
	ctx.reviewed_text = fw->free_text;
	/*
	 * A hop is released once: every release of it makes the same forms
	 * under the same keys, whatever uuid, label or note it carries, so
	 * a second one (pipelined or later) is found as a repeat of the
	 * first and answered with its hub ids.  A share keeps its uuid.
	 */
	ctx.forward_uuid = fw->n_recipients == 0 ? RELAY_RELEASE_KEY :
	    fw->uuid ? fw->uuid : "";
	ctx.now = (int64_t)time(NULL);
	ctx.forced = true;
	ctx.answer_reply_to = src->answer_reply_to;
	rc = relay_walk(b, &ctx, plan, src->holder_hop + 1, plan->nhops,
	    holder->id, cause);
	relay_ctx_free(&ctx);
	if (rc == -1)
		return -1;
	if (fw->uuid != NULL && *fw->uuid != '\0' &&
	    (b->request_uuid = strdup(fw->uuid)) == NULL)
		return -1;
	if (fw->n_recipients == 0 && (b->mark_holder = strdup(holder->id)) ==
	    NULL)
		return -1;
	if (fw->n_recipients == 0 &&
	    (b->mark_hub_id = strdup(src->held_hub_id)) == NULL)
		return -1;
	return 0;
}

/* Free the writes of b, not the array that holds them. */
static void
relay_batch_free_writes(struct relay_batch *b)
{
	size_t	i, j;

	for (i = 0; i < b->nw; i++) {
		struct relay_write *w = &b->w[i];

		for (j = 0; j < w->nrcpt; j++) {
			free((char *)w->rcpt[j].org);
			free((char *)w->rcpt[j].reason);
		}
		free(w->rcpt);
		free(w->body);
		free(w->sender);
		free(w->uuid);
		free(w->origin);
		free(w->chain_id);
		free(w->in_reply_to);
	}
}

void
relay_batch_free(struct relay_batch *b)
{
	relay_batch_free_writes(b);
	free(b->w);
	free(b->request_uuid);
	free(b->mark_holder);
	free(b->mark_hub_id);
	free(b->sharing);
	free(b->sharing_hub_id);
	for (size_t i = 0; i < b->nrecords; i++)
		free(b->records[i]);
	memset(b, 0, sizeof(*b));
}

/*
 * The review desk's view of a release: the form the hop after src's
 * holder would receive in form if the holder released it now, with
 * reviewed_text (NULL: as it is), made by relay_form itself so that it
 * is exactly what relay_forward would store, the note and hub id aside.
 * Unlike a forward, it is made also when the scrubber cannot vouch for
 * it: *vouched and why say so.  NULL with a cause on failure.
 */
Ceptoar__Message *
relay_preview(const struct relay_source *src, const struct dir_org *holder,
    const char *reviewed_text, int form, bool *vouched, char *why,
    size_t whylen, char **cause)
{
	struct relay_ctx	 ctx;
	Ceptoar__Message	*m;

	memset(&ctx, 0, sizeof(ctx));
	ctx.original = src->original;
	ctx.originator = src->originator;
	ctx.origin_hub_id = src->origin_hub_id;
	ctx.chain_id = src->chain_id;
	ctx.in_reply_to = src->in_reply_to;
	ctx.kind = relay_kind(src->original);
	ctx.ceptoar = src->ceptoar;
	ctx.held_form = src->held_form;
	ctx.held_form_kind = src->held_form_kind;
	ctx.forwarder = holder->id;
	ctx.forwarder_hop = src->holder_hop;
	ctx.reviewed_text = reviewed_text;
	ctx.forward_uuid = "";
	ctx.now = (int64_t)time(NULL);
	ctx.forced = true;
	ctx.answer_reply_to = src->answer_reply_to;
	why[0] = '\0';
	m = relay_form(&ctx, form, src->holder_hop + 1, holder->id, vouched,
	    why, whylen, cause);
	relay_ctx_free(&ctx);
	return m;
}
