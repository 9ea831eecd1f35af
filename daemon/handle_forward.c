/*
 * Forward: a hop holder passes on what it holds, either along the path
 * the originator's message travels (the hop it holds for review), or as
 * a share with named organisations.  A holder may add a note and may
 * tighten the label or narrow the range; it may never loosen either.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ceptoard.h"
#include "names.h"
#include "validate.h"

/*
 * Refuse a forward whose note or reviewed text, written by a holder that
 * knows the reporter, would carry something the scrubber replaces up on
 * an anonymised form: the field and the span are named so that the
 * person can edit; the text itself is never logged.  0 to go on.
 */
static int
handle_forward_gate(struct session *s, struct service_error *err,
    const Ceptoar__Forward *fw, const struct dir_org *originator,
    const Ceptoar__Message *original)
{
	struct anon_gate		g;
	struct anon_gate_verdict	v;
	char				buf[512];
	int				rc;

	if (anon_gate_init(&g, originator, original) == -1)
		rc = -1;
	else {
		rc = anon_gate_forward(fw, &g, &v);
		anon_gate_free(&g);
	}
	if (rc == -1) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_INTERNAL, NULL,
		    false, "the hub is out of memory; nothing was forwarded");
		return -1;
	}
	if (rc == 0)
		return 0;
	log_event(LOG_LVL_INFO, "anon.refused", "session=%s org=%s field=%s "
	    "offset=%zu length=%zu kind=%s", s->sid, s->org, v.field,
	    v.offset, v.length, v.kind);
	service_fail(err, CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
	    v.field, false, "%s", anon_gate_refusal(&v, buf, sizeof(buf)));
	return 1;
}

/*
 * A release of a hop already released: answered with what the first one
 * did, as a repeat of the form it made (submit.c finds it by its uuid and
 * answers with its hub id and recipients).  -1 if no such form is found
 * (a release made before releases were keyed so).
 */
static int
handle_forward_repeat(struct session *s, uint64_t rid, const struct lookup *l)
{
	static const int	 forms[] = { CEPTOAR__FORM__FORM_ORIGINAL,
				    CEPTOAR__FORM__FORM_ANONYMISED };
	struct relay_batch	 b;
	struct relay_write	*w;
	char			 uuid[40], hub_id[STORE_HUB_ID_LEN];
	unsigned char		 digest[32];
	uint64_t		 seq;
	size_t			 i;

	for (i = 0; i < 2; i++) {
		relay_release_uuid(l->origin, l->hop + 1, forms[i], s->org,
		    uuid);
		if (store_lookup_uuid(hub->store, s->org, uuid, hub_id, &seq,
		    digest, NULL) == 1)
			break;
	}
	if (i == 2)
		return -1;
	memset(&b, 0, sizeof(b));
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	b.w = w;
	b.nw = 1;
	if ((w->sender = strdup(s->org)) == NULL ||
	    (w->uuid = strdup(uuid)) == NULL) {
		relay_batch_free(&b);
		return -1;
	}
	w->msg.sender = w->sender;
	w->msg.uuid = w->uuid;
	w->msg.kind = relay_kind(l->original);
	w->primary = true;
	/* In the log and the trail once it is durable (submit.c). */
	submit_batch_record(&b, "route.forward", "session=%s org=%s "
	    "hub_id=%s hop=%u share=no repeat=yes", s->sid, s->org, l->hub_id,
	    l->hop);
	/* Whatever it carries, a repeated release is the first one. */
	handle_enqueue(s, rid, &b, false, l->held->has_tlp ? l->held->tlp :
	    CEPTOAR__TLP__TLP_RED, l->held->has_drill && l->held->drill, NULL);
	return 0;
}

void
handle_forward(struct session *s, Ceptoar__Envelope *env,
    struct service_error *err)
{
	const Ceptoar__Forward		*fw = env->forward;
	const Ceptoar__SharingRange	*range = NULL;
	const struct dir_org		*holder, *originator;
	uint64_t			 rid = env->request_id;
	struct route_fwd		 f;
	struct route_relabel		 rl;
	struct route_refusal		 why;
	struct route_result		 plan;
	struct relay_source		 src;
	struct relay_batch		 b;
	struct lookup			 l, ref_l;
	struct route_ref		 ref;
	struct route_result		 path;
	struct validate_error		 verr;
	const char			*refid, *field;
	bool				 have_ref = false, have_path = false;
	Ceptoar__ErrorCode		 code = CEPTOAR__ERROR_CODE__ERROR_INTERNAL;
	char				*cause = NULL;
	int				 rc, tlp;

	memset(&plan, 0, sizeof(plan));
	memset(&path, 0, sizeof(path));
	memset(&b, 0, sizeof(b));
	if (!handle_rate_submit(s, err,
	    "nothing was forwarded: retry later"))
		return;
	if (validate_forward(fw, &verr) == -1) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    verr.field, false, "%s: %s", verr.field, verr.reason);
		return;
	}
	if (fw->hub_id == NULL || *fw->hub_id == '\0' ||
	    strlen(fw->hub_id) >= STORE_HUB_ID_LEN) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    "forward.hub_id", false, "forward.hub_id: name the message "
		    "to forward, as you received it");
		return;
	}
	if ((holder = directory_org(hub->dir, s->org)) == NULL) {
		service_fail(err,
		    CEPTOAR__ERROR_CODE__ERROR_UNKNOWN_ORGANISATION, NULL, true,
		    "organisation %s is no longer in the directory", s->org);
		return;
	}
	rc = lookup_held(s->org, fw->hub_id, &l, &cause);
	if (rc == -1) {
		log_event(LOG_LVL_ERROR, "store.error", "session=%s op=lookup "
		    "cause=\"%s\"", s->sid, cause ? cause : "");
		free(cause);
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED,
		    NULL, false, "the store could not read message %s",
		    fw->hub_id);
		return;
	}
	if (rc == 1 || l.is_sender) {
		if (rc == 0)
			lookup_free(&l);
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_NOT_HOLDER,
		    "forward.hub_id", false, "forward.hub_id: you hold no "
		    "message %s; only what was delivered to you can be "
		    "forwarded", fw->hub_id);
		return;
	}
	/* Tighten-only, by the routing policy. */
	memset(&rl, 0, sizeof(rl));
	rl.held_tlp = l.held->has_tlp ? (int)l.held->tlp :
	    CEPTOAR__TLP__TLP_RED;
	rl.has_tlp = fw->has_tlp;
	rl.tlp = (int)fw->tlp;
	rl.is_report = l.original->content_case ==
	    CEPTOAR__MESSAGE__CONTENT_REPORT;
	if (rl.is_report) {
		rl.held_range = l.range != NULL ? l.range :
		    l.original->report->sharing;
		/*
		 * A holder that shared it narrowed the range of the form this
		 * holder got (a share, or a follow-up along one): that stands,
		 * whatever the reporter widened since.
		 */
		if (l.held->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT &&
		    route_range_narrowed(l.held->report->sharing,
		    l.original->report->sharing, l.originator))
			rl.held_range = l.held->report->sharing;
	}
	rl.sharing = fw->sharing;
	rl.originator = l.originator;
	rl.blind = l.form == CEPTOAR__FORM__FORM_ANONYMISED;
	if (route_relabel(&rl, &tlp, &range, &why) == -1) {
		service_fail(err, why.code, why.field, false, "%s",
		    why.reason);
		goto done;
	}
	if (fw->n_recipients == 0) {
		if (l.forwarded_at != 0) {
			if (handle_forward_repeat(s, rid, &l) == 0)
				goto done;
			service_fail(err, CEPTOAR__ERROR_CODE__ERROR_NOT_HOLDER,
			    "forward.hub_id", false, "%s was already forwarded "
			    "by %s", fw->hub_id, s->org);
			goto done;
		}
		if (!l.review) {
			service_fail(err, CEPTOAR__ERROR_CODE__ERROR_NOT_HOLDER,
			    "forward.hub_id", false, "nothing of %s waits for "
			    "you: the hub passed it on already, or it ends with "
			    "you; name recipients to share it", fw->hub_id);
			goto done;
		}
	}
	if ((originator = directory_org(hub->dir, l.originator)) == NULL) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_NO_RECIPIENTS,
		    NULL, false, "the originator of %s is no longer in the "
		    "directory", fw->hub_id);
		goto done;
	}
	/* An answer's path is the way back along what it answers. */
	if ((refid = handle_answer_ref(l.original, &field)) != NULL) {
		if (lookup_held(l.originator, refid, &ref_l, &cause) != 0) {
			service_fail(err, CEPTOAR__ERROR_CODE__ERROR_NOT_FOUND,
			    "forward.hub_id", false, "what %s answers is no "
			    "longer in the store", fw->hub_id);
			goto done;
		}
		have_ref = true;
		lookup_ref(&ref_l, l.originator, &ref);
		if (route_reply(l.original, originator, &ref, hub->dir, &path,
		    &code, &cause) == -1) {
			service_fail(err, code, NULL, false, "%s",
			    cause ? cause : "refused by the routing policy");
			goto done;
		}
	}
	/* A follow-up travels the path of its chain, shares included. */
	if (!have_ref && fw->n_recipients == 0 &&
	    l.original->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT &&
	    l.original->report->chain_id != NULL) {
		if (route_message(l.original, originator, hub->dir, &path,
		    &code, &cause) == -1 ||
		    handle_chain_plan(l.original, originator->id, &path, &code,
		    &cause) == -1) {
			service_fail(err, code, NULL, false, "%s",
			    cause ? cause : "refused by the routing policy");
			goto done;
		}
		have_path = true;
	}
	memset(&f, 0, sizeof(f));
	f.path = have_ref || have_path ? &path : NULL;
	f.original = l.original;
	f.originator = originator;
	f.holder = holder;
	f.holder_hop = l.hop;
	f.holder_form = l.form;
	f.tlp = tlp;
	f.range = range;
	f.recipients = fw->recipients;
	f.nrecipients = fw->n_recipients;
	if (route_forward(&f, hub->dir, &plan, &code, &cause) == -1) {
		service_fail(err, code, NULL, false, "%s",
		    cause ? cause : "refused by the routing policy");
		goto done;
	}
	/* What a holder that knows the reporter writes goes up checked. */
	if (route_anonymises(&plan) && l.form == CEPTOAR__FORM__FORM_ORIGINAL &&
	    handle_forward_gate(s, err, fw, originator, l.original) != 0)
		goto done;
	memset(&src, 0, sizeof(src));
	review_source(&src, &l, originator);
	src.in_reply_to = have_ref ? ref_l.hub_id : NULL;
	src.answer_reply_to = have_ref ? ref_l.origin : NULL;
	if (l.relay[0] != '\0') {
		for (size_t i = 0; i < hub->dir->nceptoars; i++)
			if (strcmp(hub->dir->ceptoars[i].secretariat,
			    l.relay) == 0)
				src.ceptoar = &hub->dir->ceptoars[i];
	}
	if (relay_forward(&src, holder, fw, &plan, &b, &cause) == -1) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    "forward", false, "%s", cause ? cause : "cannot forward");
		goto done;
	}
	if (b.nw == 0) {
		service_fail(err, CEPTOAR__ERROR_CODE__ERROR_NO_RECIPIENTS,
		    NULL, false, "nobody is next on the path of %s",
		    fw->hub_id);
		goto done;
	}
	/*
	 * The forward, and the review desk's decision: in the log and the
	 * trail once they are durable (submit.c), not when queued.
	 */
	submit_batch_record(&b, "route.forward", "session=%s org=%s hub_id=%s "
	    "hop=%u share=%s tlp=%s", s->sid, s->org, fw->hub_id, l.hop,
	    fw->n_recipients ? "yes" : "no", names_lookup(names_tlp, tlp));
	if (fw->n_recipients == 0)
		submit_batch_record(&b, "route.review.release", "session=%s "
		    "org=%s hub_id=%s origin=%s hop=%u text=%s note=%s",
		    s->sid, s->org, fw->hub_id, l.origin, l.hop,
		    fw->free_text ? "edited" : "as-sent",
		    fw->note ? "yes" : "no");
	handle_enqueue(s, rid, &b, false, tlp, l.held->has_drill &&
	    l.held->drill, NULL);
done:
	free(cause);
	relay_batch_free(&b);
	route_result_free(&plan);
	route_result_free(&path);
	if (have_ref)
		lookup_free(&ref_l);
	lookup_free(&l);
}
