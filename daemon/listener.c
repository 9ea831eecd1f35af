/*
 * The accept loop: one listening socket, caps on open connections (in
 * all, and per address for connections and for handshakes not yet ended
 * by a hello), and a pause instead of a spin when the process runs out
 * of descriptors.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <sodium.h>

#include "ceptoard.h"

/* Seconds accept stays paused after EMFILE or ENFILE. */
#define LISTENER_PAUSE_SECS	1

/* Buckets of the per-address table; entries live while connections do. */
#define LISTENER_ADDR_BUCKETS	4096

/*
 * What one address holds: an IPv4 address, or an IPv6 /64 (one host's
 * usual share, which it can fill with addresses at will).
 */
struct listener_addr {
	struct listener_addr	*next;
	unsigned char		 key[16];
	uint32_t		 conns;		/* open connections */
	uint32_t		 handshakes;	/* of them, before the hello */
};

static struct listener_addr	*listener_addrs[LISTENER_ADDR_BUCKETS];
/* A secret hash key, so that a peer cannot aim at one bucket. */
static unsigned char		 listener_addr_secret[crypto_shorthash_KEYBYTES];
static bool			 listener_addr_keyed;

struct listener {
	const struct listener_proto *proto;
	struct evconnlistener	*evl;
	struct event		*resume;
	char			 address[80];
};

/* "host:port" or "[v6]:port" of a socket address. */
static void
listener_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char	host[INET6_ADDRSTRLEN] = "?";
	int	port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(buf, len, "%s:%d", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(buf, len, "[%s]:%d", host, port);
	} else
		snprintf(buf, len, "unknown");
}

/* The per-address key of sa: an IPv4 address or an IPv6 /64. */
static void
listener_addr_key(const struct sockaddr *sa, unsigned char key[16])
{
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };

	memset(key, 0, 16);
	if (sa->sa_family == AF_INET) {
		memcpy(key, v4mapped, sizeof(v4mapped));
		memcpy(key + 12, &((const struct sockaddr_in *)(const void *)sa)
		    ->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const unsigned char *a = ((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr.s6_addr;

		if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0)
			memcpy(key, a, 16);
		else
			memcpy(key, a, 8);
	}
}

/* The entry of key, made if make and absent; NULL if none (or no memory). */
static struct listener_addr *
listener_addr_get(const unsigned char key[16], bool make)
{
	struct listener_addr	*a;
	unsigned char		 h[crypto_shorthash_BYTES];
	size_t			 b;

	if (!listener_addr_keyed) {
		crypto_shorthash_keygen(listener_addr_secret);
		listener_addr_keyed = true;
	}
	crypto_shorthash(h, key, 16, listener_addr_secret);
	b = (((size_t)h[0] << 8) | h[1]) % LISTENER_ADDR_BUCKETS;
	for (a = listener_addrs[b]; a != NULL; a = a->next)
		if (memcmp(a->key, key, 16) == 0)
			return a;
	if (!make || (a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	memcpy(a->key, key, 16);
	a->next = listener_addrs[b];
	listener_addrs[b] = a;
	return a;
}

/* Forget a's entry once it has no connection left. */
static void
listener_addr_drop(struct listener_addr *a)
{
	struct listener_addr	**pp;
	unsigned char		  h[crypto_shorthash_BYTES];
	size_t			  b;

	if (a->conns > 0)
		return;
	crypto_shorthash(h, a->key, 16, listener_addr_secret);
	b = (((size_t)h[0] << 8) | h[1]) % LISTENER_ADDR_BUCKETS;
	for (pp = &listener_addrs[b]; *pp != NULL; pp = &(*pp)->next)
		if (*pp == a) {
			*pp = a->next;
			free(a);
			return;
		}
}

void
listener_hold_authenticated(struct listener_hold *h)
{
	if (h->addr != NULL && h->handshake) {
		h->addr->handshakes--;
		h->handshake = false;
	}
}

void
listener_hold_release(struct listener_hold *h)
{
	if (h->addr == NULL)
		return;
	listener_hold_authenticated(h);
	h->addr->conns--;
	listener_addr_drop(h->addr);
	h->addr = NULL;
}

struct listener_addr *
listener_addr_acquire(const struct sockaddr *sa, char *why, size_t len)
{
	struct listener_addr	*a;
	unsigned char		 key[16];

	listener_addr_key(sa, key);
	if ((a = listener_addr_get(key, true)) == NULL) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	if (a->conns >= hub->conf.max_conn_per_addr) {
		snprintf(why, len, "max_conn_per_addr %llu reached for this "
		    "address", (unsigned long long)hub->conf.max_conn_per_addr);
		listener_addr_drop(a);
		return NULL;
	}
	a->conns++;
	return a;
}

void
listener_addr_put(struct listener_addr *a)
{
	if (a == NULL)
		return;
	a->conns--;
	listener_addr_drop(a);
}

void
listener_format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	listener_format(sa, buf, len);
}

/* Refuse a connection before it is a session: counted noise. */
static void __attribute__((format(printf, 3, 4)))
listener_refuse(evutil_socket_t fd, const char *peer, const char *fmt, ...)
{
	char	why[160];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	session_noise(SESSION_NOISE_LIMIT, "session.refused",
	    "peer=%s reason=\"%s\"", peer, why);
	evutil_closesocket(fd);
}

/*
 * A new TCP connection: refuse it over a cap (in all, or for its
 * address), else start a connection of the listener's protocol, counted
 * against its address.
 */
static void
listener_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener		*l = arg;
	struct listener_addr	*a;
	struct listener_hold	 hold;
	unsigned char		 key[16];
	char			 peer[80];

	listener_format(sa, peer, sizeof(peer));
	if (hub->shutting_down) {
		evutil_closesocket(fd);
		return;
	}
	if (hub->nsessions >= hub->conf.max_connections) {
		listener_refuse(fd, peer, "max_connections %llu reached",
		    (unsigned long long)hub->conf.max_connections);
		return;
	}
	listener_addr_key(sa, key);
	if ((a = listener_addr_get(key, true)) == NULL) {
		log_event(LOG_LVL_ERROR, "session.refused",
		    "peer=%s reason=\"out of memory\"", peer);
		evutil_closesocket(fd);
		return;
	}
	if (a->conns >= hub->conf.max_conn_per_addr) {
		listener_refuse(fd, peer, "max_conn_per_addr %llu reached for "
		    "this address",
		    (unsigned long long)hub->conf.max_conn_per_addr);
		return;
	}
	if (a->handshakes >= hub->conf.max_handshakes_per_addr) {
		listener_refuse(fd, peer, "max_handshakes_per_addr %llu "
		    "reached for this address (connections not past the "
		    "hello)",
		    (unsigned long long)hub->conf.max_handshakes_per_addr);
		return;
	}
	/* Frames are whole messages: send them now, not after Nagle's wait. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
	    sizeof(int)) == -1)
		log_event(LOG_LVL_DEBUG, "listener.nodelay", "peer=%s error=\"%s\"",
		    peer, strerror(errno));
	a->conns++;
	a->handshakes++;
	hold.addr = a;
	hold.handshake = true;
	if (l->proto->open(fd, sa, salen, peer, &hold) == -1) {
		log_event(LOG_LVL_ERROR, "session.refused",
		    "peer=%s reason=\"cannot allocate a session\"", peer);
		listener_hold_release(&hold);
	}
}

/* Re-enable accepting after a pause. */
static void
listener_resume_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct listener	*l = arg;

	evconnlistener_enable(l->evl);
}

/* accept() failed: pause on descriptor exhaustion rather than spin. */
static void
listener_error_cb(struct evconnlistener *evl, void *arg)
{
	struct listener	*l = arg;
	int		 e = EVUTIL_SOCKET_ERROR();
	struct timeval	 tv = { LISTENER_PAUSE_SECS, 0 };

	log_event(LOG_LVL_WARN, "listener.error", "error=\"%s\"%s",
	    evutil_socket_error_to_string(e),
	    (e == EMFILE || e == ENFILE) ? " action=pause" : "");
	if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
		evconnlistener_disable(evl);
		evtimer_add(l->resume, &tv);
	}
}

/*
 * Parse "host:port" or "[v6]:port" (port 0 picks a free one) into ss.
 * Returns 0, or -1 with a cause.
 */
static int
listener_parse(const char *addr, struct sockaddr_storage *ss, int *lenp,
    char **cause)
{
	struct addrinfo	 hints, *res = NULL;
	char		 host[256], *colon;
	const char	*port;
	int		 rc;

	if (addr[0] == '[') {
		snprintf(host, sizeof(host), "%s", addr + 1);
		if ((colon = strstr(host, "]:")) == NULL)
			goto bad;
		*colon = '\0';
		port = colon + 2;
	} else {
		snprintf(host, sizeof(host), "%s", addr);
		if ((colon = strrchr(host, ':')) == NULL)
			goto bad;
		*colon = '\0';
		port = colon + 1;
	}
	if (*port == '\0' || strspn(port, "0123456789") != strlen(port) ||
	    strtol(port, NULL, 10) > 65535)
		goto bad;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res)) != 0) {
		cause_set(cause, "listen \"%s\": %s", addr, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*lenp = (int)res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
bad:
	cause_set(cause, "listen \"%s\": not host:port or [v6]:port", addr);
	return -1;
}

int
listener_check(const char *addr, char **cause)
{
	struct sockaddr_storage	 ss;
	int			 len;

	return listener_parse(addr, &ss, &len, cause);
}

int
listener_bind(const char *addr, char *address, size_t len, char **cause)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	int			 fd, slen = (int)sizeof(ss);

	*cause = NULL;
	memset(&ss, 0, sizeof(ss));
	if (listener_parse(addr, &ss, &slen, cause) == -1)
		return -1;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1) {
		cause_set(cause, "listen %s: %s", addr, strerror(errno));
		return -1;
	}
	/* A restart must not wait for the last run's connections to time out. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 },
	    sizeof(int)) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, (socklen_t)slen) == -1 ||
	    listen(fd, 1024) == -1) {
		cause_set(cause, "listen %s: %s", addr, strerror(errno));
		close(fd);
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0)
		listener_format((struct sockaddr *)&ss, address, len);
	else
		snprintf(address, len, "%s", addr);
	return fd;
}

struct listener *
listener_new_fd(struct event_base *base, int fd,
    const struct listener_proto *proto, char **cause)
{
	struct listener		*l;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);

	*cause = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		cause_set(cause, "out of memory");
		return NULL;
	}
	l->proto = proto;
	evutil_make_socket_nonblocking(fd);
	l->evl = evconnlistener_new(base, listener_accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (l->evl == NULL) {
		cause_set(cause, "listening socket %d: %s", fd, strerror(errno));
		free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l->evl, listener_error_cb);
	l->resume = evtimer_new(base, listener_resume_cb, l);
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0)
		listener_format((struct sockaddr *)&ss, l->address,
		    sizeof(l->address));
	else
		snprintf(l->address, sizeof(l->address), "fd %d", fd);
	return l;
}

struct listener *
listener_new(struct event_base *base, const char *addr,
    const struct listener_proto *proto, char **cause)
{
	struct listener	*l;
	char		 address[80];
	int		 fd;

	if ((fd = listener_bind(addr, address, sizeof(address), cause)) == -1)
		return NULL;
	if ((l = listener_new_fd(base, fd, proto, cause)) == NULL)
		close(fd);
	return l;
}

void
listener_free(struct listener *l)
{
	if (l == NULL)
		return;
	evconnlistener_free(l->evl);
	if (l->resume != NULL)
		event_free(l->resume);
	free(l);
}

const char *
listener_address(const struct listener *l)
{
	return l->address;
}
