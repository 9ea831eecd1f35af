/*
 * What a connection is, whatever its protocol: the socket and its TLS,
 * the peer's verified identity, input and output bounds, one timer, the
 * hold on its address, and one function that ends it.  A protocol
 * (session.c today, HTTP next) sees events through its conn_ops, never
 * SSL nor the bufferevent's own callbacks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "ceptoard.h"

/*
 * Room set aside for output once a write at least CONN_OUTPUT_BIG long
 * starts an empty output buffer.  libevent's OpenSSL bufferevent makes
 * one TLS record, and one write(2), of each buffer chunk, and its chunks
 * grow only to 4 KiB by themselves; later chunks take the size of the one
 * before, so a large first one makes full 16 KiB records of a burst of
 * deliveries.  Nothing is set aside for an idle connection.
 */
#define CONN_OUTPUT_CHUNK	(16 * 1024)
#define CONN_OUTPUT_BIG		1024

struct conn {
	struct bufferevent	*bev;
	struct event		*timer;
	struct listener_hold	 hold;
	const struct conn_ops	*ops;
	void			*arg;
	bool			 established;	/* handshake done, peer known */
	char			 cn[256];
	char			 fingerprint[72];
};

/* Input buffered: the protocol reads it. */
static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	c->ops->readable(c->arg);
}

/* Output drained below the low mark. */
static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	c->ops->drained(c->arg);
}

/* Handshake completion, peer EOF, TLS or socket errors, a stalled write. */
static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;
	const char	*bad;
	char		 why[300], tlserr[200];

	if (what & BEV_EVENT_CONNECTED) {
		if (tls_peer_identity(bev, c->cn, sizeof(c->cn),
		    c->fingerprint, sizeof(c->fingerprint), &bad) == -1) {
			snprintf(why, sizeof(why), "tls: client certificate "
			    "refused: %s", bad);
			c->ops->ended(c->arg, CONN_REFUSED, why);
			return;
		}
		c->established = true;
		c->ops->established(c->arg);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_WRITING)) {
		c->ops->ended(c->arg, CONN_STALLED, c->established ? NULL :
		    "timeout: the TLS handshake stalled");
		return;
	}
	if (what & BEV_EVENT_EOF) {
		c->ops->ended(c->arg, CONN_EOF, "peer closed the connection");
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		if (tls_error_string(bev, tlserr, sizeof(tlserr)) != NULL)
			snprintf(why, sizeof(why), "tls: %s%s", tlserr,
			    c->established ? "" : " (refused)");
		else
			snprintf(why, sizeof(why), "connection error: %s",
			    evutil_socket_error_to_string(
			    EVUTIL_SOCKET_ERROR()));
		c->ops->ended(c->arg, CONN_ERROR, why);
	}
}

/* The protocol's timer ran out. */
static void
conn_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;

	c->ops->timeout(c->arg);
}

/*
 * A connection around bev (taken over: freed on failure) with at most
 * max_input bytes of input buffered; NULL when out of memory.
 */
static struct conn *
conn_attach(struct bufferevent *bev, size_t max_input, size_t low_output,
    const struct conn_ops *ops, void *arg)
{
	struct conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		bufferevent_free(bev);
		return NULL;
	}
	c->bev = bev;
	c->ops = ops;
	c->arg = arg;
	if ((c->timer = evtimer_new(hub->base, conn_timer_cb, c)) == NULL) {
		bufferevent_free(bev);
		free(c);
		return NULL;
	}
	bufferevent_setcb(bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_setwatermark(bev, EV_READ, 0, max_input);
	bufferevent_setwatermark(bev, EV_WRITE, low_output, 0);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return c;
}

struct conn *
conn_new(int fd, const struct listener_hold *hold, size_t max_input,
    size_t low_output, const struct conn_ops *ops, void *arg)
{
	struct bufferevent	*bev;
	struct conn		*c;

	if ((bev = tls_accept(hub->base, hub->tls_ctx, fd)) == NULL) {
		evutil_closesocket(fd);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	if ((c = conn_attach(bev, max_input, low_output, ops, arg)) == NULL)
		return NULL;
	c->hold = *hold;
	return c;
}

#ifdef CEPTOARD_FUZZING
struct conn *
conn_new_plain(struct bufferevent *bev, const char *cn, size_t max_input,
    size_t low_output, const struct conn_ops *ops, void *arg)
{
	struct conn	*c;

	if ((c = conn_attach(bev, max_input, low_output, ops, arg)) == NULL)
		return NULL;
	snprintf(c->cn, sizeof(c->cn), "%s", cn);
	snprintf(c->fingerprint, sizeof(c->fingerprint), "%064d", 0);
	c->established = true;
	return c;
}
#endif

void
conn_close(struct conn *c)
{
	if (c == NULL)
		return;
	listener_hold_release(&c->hold);
	evtimer_del(c->timer);
	event_free(c->timer);
	/* Deferred callbacks: safe from inside one of c's own. */
	bufferevent_free(c->bev);
	free(c);
}

const char *
conn_cn(const struct conn *c)
{
	return c->cn;
}

const char *
conn_fingerprint(const struct conn *c)
{
	return c->fingerprint;
}

const char *
conn_tls_version(const struct conn *c)
{
	return tls_version(c->bev);
}

void
conn_authenticated(struct conn *c)
{
	listener_hold_authenticated(&c->hold);
}

struct evbuffer *
conn_input(struct conn *c)
{
	return bufferevent_get_input(c->bev);
}

size_t
conn_output_len(const struct conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

int
conn_write(struct conn *c, const void *buf, size_t len)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	/* Only a hint: evbuffer_add allocates what it needs regardless. */
	if (len >= CONN_OUTPUT_BIG && evbuffer_get_length(out) == 0)
		(void)evbuffer_expand(out, CONN_OUTPUT_CHUNK);
	return evbuffer_add(out, buf, len);
}

void
conn_reading(struct conn *c, bool on)
{
	if (on)
		bufferevent_enable(c->bev, EV_READ);
	else
		bufferevent_disable(c->bev, EV_READ);
}

void
conn_read_again(struct conn *c)
{
	bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS |
	    BEV_TRIG_DEFER_CALLBACKS);
}

void
conn_output_low(struct conn *c, size_t low)
{
	bufferevent_setwatermark(c->bev, EV_WRITE, low, 0);
}

void
conn_write_timeout(struct conn *c, unsigned secs)
{
	bufferevent_set_timeouts(c->bev, NULL, &(struct timeval){
	    (time_t)secs, 0 });
}

void
conn_timer(struct conn *c, long secs)
{
	struct timeval	tv = { (time_t)secs, 0 };

	if (secs < 0)
		evtimer_del(c->timer);
	else
		evtimer_add(c->timer, &tv);
}
