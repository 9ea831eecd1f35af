/*
 * Rate limits as token buckets: frames per connection, which throttle by
 * reading more slowly, and submits per organisation over all its
 * connections, which are refused with rate-limited.  A flood from one
 * client then costs the others nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ceptoard.h"
#include "strhash.h"

#define RATE_BUCKETS	1024

/* The submit bucket of one organisation. */
struct rate_org {
	struct rate_org		*next;
	struct rate_bucket	 bucket;
	char			 org[72];
};

static struct rate_org	*rate_orgs[RATE_BUCKETS];

int64_t
rate_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
rate_take(struct rate_bucket *b, double per_sec, double burst, int64_t now)
{
	if (b->last == 0) {
		b->tokens = burst;
		b->last = now;
	}
	b->tokens += (double)(now - b->last) * per_sec / 1000.0;
	if (b->tokens > burst)
		b->tokens = burst;
	b->last = now;
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

int64_t
rate_wait_ms(const struct rate_bucket *b, double per_sec)
{
	double	need = 1.0 - b->tokens;

	if (need <= 0)
		return 0;
	return (int64_t)(need * 1000.0 / per_sec) + 1;
}

bool
rate_org_submit(const char *org)
{
	struct rate_org	*r, **head = &rate_orgs[strhash(org) % RATE_BUCKETS];
	double		 per_sec = (double)hub->conf.rate_org_submits;

	for (r = *head; r != NULL; r = r->next)
		if (strcmp(r->org, org) == 0)
			break;
	if (r == NULL) {
		/* Out of memory: let it through rather than refuse a report. */
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return true;
		snprintf(r->org, sizeof(r->org), "%s", org);
		r->next = *head;
		*head = r;
	}
	return rate_take(&r->bucket, per_sec, 2 * per_sec, rate_now_ms());
}

void
rate_shutdown(void)
{
	struct rate_org	*r, *next;
	size_t		 i;

	for (i = 0; i < RATE_BUCKETS; i++) {
		for (r = rate_orgs[i]; r != NULL; r = next) {
			next = r->next;
			free(r);
		}
		rate_orgs[i] = NULL;
	}
}
