/*
 * Lookups for answers and forwards: what an organisation holds of a
 * message (its delivery, or its own submission), and the original behind
 * a derived form.  An organisation that holds nothing of a message gets
 * the same answer as for a message that does not exist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptoard.h"

/* Copy one store row into the lookup; unpack its body as the held form. */
static int
lookup_row(const struct store_delivery *d, void *arg)
{
	struct lookup	*l = arg;

	snprintf(l->hub_id, sizeof(l->hub_id), "%s", d->hub_id);
	snprintf(l->sender, sizeof(l->sender), "%s", d->sender ? d->sender :
	    "");
	snprintf(l->kind, sizeof(l->kind), "%s", d->kind ? d->kind : "");
	snprintf(l->origin, sizeof(l->origin), "%s", d->origin ? d->origin :
	    d->hub_id);
	snprintf(l->chain_id, sizeof(l->chain_id), "%s", d->chain_id ?
	    d->chain_id : "");
	l->hop = d->hop;
	l->form = d->form ? d->form : CEPTOAR__FORM__FORM_ORIGINAL;
	l->review = d->review;
	l->forwarded_at = d->forwarded_at;
	l->received_at = d->received_at;
	if (d->body != NULL)
		l->held = ceptoar__message__unpack(NULL, d->body_len, d->body);
	if (d->sharing != NULL && d->sharing_len > 0)
		l->range = ceptoar__sharing_range__unpack(NULL, d->sharing_len,
		    d->sharing);
	return 1;
}

/* The original's own row: who wrote it, and its body. */
static int
lookup_original_row(const struct store_delivery *d, void *arg)
{
	struct lookup	*l = arg;

	snprintf(l->originator, sizeof(l->originator), "%s", d->sender);
	if (d->body != NULL)
		l->original = ceptoar__message__unpack(NULL, d->body_len,
		    d->body);
	if (l->range == NULL && d->sharing != NULL && d->sharing_len > 0)
		l->range = ceptoar__sharing_range__unpack(NULL, d->sharing_len,
		    d->sharing);
	if (l->chain_id[0] == '\0' && d->chain_id != NULL)
		snprintf(l->chain_id, sizeof(l->chain_id), "%s", d->chain_id);
	return 1;
}

int
lookup_held(const char *org, const char *hub_id, struct lookup *l,
    char **cause)
{
	int	rc;

	memset(l, 0, sizeof(*l));
	*cause = NULL;
	rc = store_delivery_of(hub->store, org, hub_id, lookup_row, l, cause);
	if (rc == -1)
		return -1;
	if (rc == 1) {
		/* Not delivered to org: perhaps org sent it. */
		rc = store_fetch(hub->store, org, hub_id, lookup_row, l, cause);
		if (rc != 0)
			return rc;
		if (strcmp(l->sender, org) != 0) {
			lookup_free(l);
			return 1;
		}
		l->is_sender = true;
	}
	if (l->held == NULL) {
		lookup_free(l);
		cause_set(cause, "stored message %s does not decode", hub_id);
		return -1;
	}
	rc = store_message(hub->store, l->origin, lookup_original_row, l,
	    cause);
	if (rc != 0 || l->original == NULL) {
		lookup_free(l);
		if (rc == 0)
			cause_set(cause, "the original of %s does not decode",
			    hub_id);
		return rc == 1 ? 1 : -1;
	}
	if (l->held->relay != NULL)
		snprintf(l->relay, sizeof(l->relay), "%s", l->held->relay);
	else if (l->original->relay != NULL)
		snprintf(l->relay, sizeof(l->relay), "%s", l->original->relay);
	return 0;
}

void
lookup_ref(const struct lookup *l, const char *org, struct route_ref *ref)
{
	memset(ref, 0, sizeof(*ref));
	ref->hub_id = l->hub_id;
	ref->kind = l->kind;
	ref->originator = l->originator;
	ref->form = l->form;
	ref->tlp = l->held && l->held->has_tlp ? l->held->tlp : 0;
	ref->received = !l->is_sender;
	/*
	 * In a relayed chain the other end is the original's author: the
	 * reporter for those above the relay, the questioner for the reporter.
	 */
	ref->relay = l->relay[0] != '\0' && strcmp(l->relay, org) != 0 ?
	    l->relay : NULL;
	/*
	 * An answer goes to the author of what it answers, not to the hop
	 * holder that relayed a copy of it (the liaison that passed a
	 * mandatory report on to NISC, say).
	 */
	ref->sender = l->originator;
}

void
lookup_free(struct lookup *l)
{
	if (l->held != NULL)
		ceptoar__message__free_unpacked(l->held, NULL);
	if (l->original != NULL)
		ceptoar__message__free_unpacked(l->original, NULL);
	if (l->range != NULL)
		ceptoar__sharing_range__free_unpacked(l->range, NULL);
	memset(l, 0, sizeof(*l));
}
