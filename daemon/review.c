/*
 * Reminders of the review desk.  An item that has waited for a holder's
 * review longer than review_reminder is announced to that holder again
 * (a notice in its inbox), and once it has waited review_notify_sender
 * its sender is told it still waits; nobody else ever is.  The times
 * are the CEPTOAR's (directory) for a chain it relays, else the hub's.
 *
 * Each notice has a uuid derived from the item, the holder and the kind
 * of notice, so it is stored once however often the timer finds the item
 * and across restarts (a repeat is a duplicate and writes nothing); the
 * set below only spares the store those repeats.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <sodium.h>

#include "ceptoard.h"
#include "names.h"
#include "validate.h"

#define REVIEW_TICK_MAX		300	/* seconds between looks at most */
#define REVIEW_SCAN_MAX		1000	/* items looked at per holder per tick */

struct review_held {
	char	hub_id[STORE_HUB_ID_LEN];
};

struct review_scan {
	struct review_held	*v;
	size_t			 n, cap;
	bool			 failed;
};

static struct event	*review_ev;
/* Notices already queued this run: "kind|hub_id|holder". */
static char		**review_done;
static size_t		  review_ndone, review_capdone;

/* The shortest time any limit may be, in seconds: how often to look. */
static uint64_t
review_tick(void)
{
	uint64_t	t = hub->conf.review_reminder;
	size_t		i;

	if (hub->conf.review_notify_sender < t)
		t = hub->conf.review_notify_sender;
	for (i = 0; hub->dir != NULL && i < hub->dir->nceptoars; i++) {
		const struct dir_ceptoar *c = &hub->dir->ceptoars[i];

		if (c->review_reminder != 0 && c->review_reminder < t)
			t = c->review_reminder;
		if (c->review_notify_sender != 0 &&
		    c->review_notify_sender < t)
			t = c->review_notify_sender;
	}
	t /= 4;
	return t < 1 ? 1 : t > REVIEW_TICK_MAX ? REVIEW_TICK_MAX : t;
}

/* Arm the timer for the next look. */
static void
review_arm(void)
{
	struct timeval	tv = { .tv_sec = (time_t)review_tick() };

	if (review_ev != NULL)
		evtimer_add(review_ev, &tv);
}

/* Whether key was queued already; remember it if not. */
static bool
review_seen(const char *key)
{
	char	**nv;
	size_t	  i;

	for (i = 0; i < review_ndone; i++)
		if (strcmp(review_done[i], key) == 0)
			return true;
	if (review_ndone == review_capdone) {
		size_t cap = review_capdone ? review_capdone * 2 : 64;
		if ((nv = reallocarray(review_done, cap, sizeof(*nv))) == NULL)
			return false;
		review_done = nv;
		review_capdone = cap;
	}
	if ((review_done[review_ndone] = strdup(key)) != NULL)
		review_ndone++;
	return false;
}

/* Collect the hub ids of what waits for one holder. */
static int
review_scan_row(const struct store_delivery *d, void *arg)
{
	struct review_scan	*st = arg;
	struct review_held	*nv;

	if (st->n >= REVIEW_SCAN_MAX)
		return 1;
	if ((nv = review_grow(st->v, &st->cap, st->n, sizeof(*nv))) == NULL) {
		st->failed = true;
		return 1;
	}
	st->v = nv;
	snprintf(st->v[st->n++].hub_id, STORE_HUB_ID_LEN, "%s", d->hub_id);
	return 0;
}

/* The uuid of notice kind about hub_id held by holder. */
static void
review_uuid(const char *kind, const char *hub_id, const char *holder,
    char out[40])
{
	crypto_generichash_state	st;
	unsigned char			h[16];

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)"review|", 7);
	crypto_generichash_update(&st, (const unsigned char *)kind,
	    strlen(kind));
	crypto_generichash_update(&st, (const unsigned char *)"|", 1);
	crypto_generichash_update(&st, (const unsigned char *)hub_id,
	    strlen(hub_id));
	crypto_generichash_update(&st, (const unsigned char *)"|", 1);
	crypto_generichash_update(&st, (const unsigned char *)holder,
	    strlen(holder));
	crypto_generichash_final(&st, h, sizeof(h));
	validate_uuid_format(h, out, 40);
}

/* Queue one notice; logs it for the audit trail. */
static void
review_notify(const struct lookup *l, const char *holder, int notice,
    const char *from, const char *to, const char *about, uint64_t limit)
{
	struct relay_batch	 b;
	char			 key[160], uuid[40], text[512], since[32];
	char			 reason[160];
	char			*cause = NULL;
	struct tm		 tm;
	time_t			 t = (time_t)l->received_at;
	const char		*kind = names_lookup(names_review_notice, notice);
	int			 tlp;

	snprintf(key, sizeof(key), "%s|%s|%s", kind, l->hub_id, holder);
	if (review_seen(key))
		return;
	gmtime_r(&t, &tm);
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (notice == CEPTOAR__REVIEW_NOTICE__NOTICE_REMINDER) {
		snprintf(text, sizeof(text), "%s still waits for your review, "
		    "since %s (more than %llu seconds): release it with "
		    "`ceptoar review release %s`, or reject it with a reason",
		    l->hub_id, since, (unsigned long long)limit, l->hub_id);
		snprintf(reason, sizeof(reason), "reminder: it waits for your "
		    "review");
	} else {
		snprintf(text, sizeof(text), "%s still waits for the review of "
		    "%s, since %s; it has not gone further", about, holder,
		    since);
		snprintf(reason, sizeof(reason), "your message still waits "
		    "for %s's review", holder);
	}
	review_uuid(kind, l->hub_id, holder, uuid);
	tlp = l->original->has_tlp ? (int)l->original->tlp :
	    CEPTOAR__TLP__TLP_RED;
	if (review_notice_batch(from, to, about, holder, l->received_at, notice,
	    text, reason, tlp, l->held->has_drill && l->held->drill, uuid, &b,
	    &cause) == -1) {
		log_event(LOG_LVL_ERROR, "review.error", "hub_id=%s cause=\"%s\"",
		    l->hub_id, cause ? cause : "");
		free(cause);
		return;
	}
	/* In the log and the trail once it is durable (submit.c). */
	submit_batch_record(&b, notice == CEPTOAR__REVIEW_NOTICE__NOTICE_REMINDER ?
	    "route.review.remind" : "route.review.notify_sender",
	    "holder=%s hub_id=%s origin=%s to=%s since=%s limit=%llu", holder,
	    l->hub_id, l->origin, to, since, (unsigned long long)limit);
	submit_enqueue_hub(&b, tlp, l->held->has_drill && l->held->drill);
}

/* Look at one held item of holder against its limits. */
static void
review_check(const char *holder, const char *hub_id, int64_t now)
{
	const struct dir_ceptoar	*c = NULL;
	struct lookup			 l;
	const char			*from;
	uint64_t			 remind, notify;
	char				*cause = NULL;
	size_t				 i;

	if (lookup_held(holder, hub_id, &l, &cause) != 0) {
		free(cause);
		return;
	}
	if (l.is_sender || !l.review || l.forwarded_at != 0)
		goto done;
	/*
	 * The chain's CEPTOAR: named by the report, else the one the relay
	 * stamped on the form (above it), else the holder's own (at it).
	 */
	if (l.original->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT &&
	    l.original->report->ceptoar != NULL)
		c = directory_ceptoar(hub->dir, l.original->report->ceptoar);
	for (i = 0; c == NULL && i < hub->dir->nceptoars; i++)
		if (strcmp(hub->dir->ceptoars[i].secretariat,
		    l.relay[0] != '\0' ? l.relay : holder) == 0)
			c = &hub->dir->ceptoars[i];
	remind = c && c->review_reminder ? c->review_reminder :
	    hub->conf.review_reminder;
	notify = c && c->review_notify_sender ? c->review_notify_sender :
	    hub->conf.review_notify_sender;
	if (now - l.received_at >= (int64_t)remind)
		review_notify(&l, holder, CEPTOAR__REVIEW_NOTICE__NOTICE_REMINDER,
		    holder, holder, l.hub_id, remind);
	if (now - l.received_at >= (int64_t)notify &&
	    (from = review_notice_from(&l, holder)) != NULL &&
	    directory_org(hub->dir, l.originator) != NULL)
		review_notify(&l, holder,
		    CEPTOAR__REVIEW_NOTICE__NOTICE_STILL_WAITING, from,
		    l.originator, l.origin, notify);
done:
	lookup_free(&l);
}

/* The timer: look at everything held by every organisation. */
static void
review_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct review_scan	 st;
	int64_t			 now = (int64_t)time(NULL);
	char			*cause = NULL;
	size_t			 i, j;

	(void)fd;
	(void)ev;
	(void)arg;
	if (hub->shutting_down)
		return;
	for (i = 0; i < hub->dir->norgs; i++) {
		const char *org = hub->dir->orgs[i].id;

		memset(&st, 0, sizeof(st));
		if (store_held(hub->store, org, review_scan_row, &st,
		    &cause) == -1) {
			log_event(LOG_LVL_ERROR, "store.error", "op=review "
			    "org=%s cause=\"%s\"", org, cause ? cause : "");
			free(cause);
			cause = NULL;
		}
		for (j = 0; j < st.n; j++)
			review_check(org, st.v[j].hub_id, now);
		free(st.v);
	}
	review_arm();
}

int
review_init(struct event_base *base)
{
	if ((review_ev = evtimer_new(base, review_cb, NULL)) == NULL)
		return -1;
	review_arm();
	return 0;
}

void
review_shutdown(void)
{
	size_t	i;

	if (review_ev != NULL)
		event_free(review_ev);
	review_ev = NULL;
	for (i = 0; i < review_ndone; i++)
		free(review_done[i]);
	free(review_done);
	review_done = NULL;
	review_ndone = review_capdone = 0;
}
