/*
 * The accept loop: one listening socket, a cap on open connections, and a
 * pause instead of a spin when the process runs out of descriptors.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "ceptoard.h"

/* Seconds accept stays paused after EMFILE or ENFILE. */
#define LISTENER_PAUSE_SECS	1

struct listener {
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

/* A new TCP connection: refuse it over the cap, else start a session. */
static void
listener_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	char	peer[80];

	listener_format(sa, peer, sizeof(peer));
	if (hub->shutting_down) {
		evutil_closesocket(fd);
		return;
	}
	if (hub->nsessions >= hub->conf.max_connections) {
		log_event(LOG_LVL_WARN, "session.refused",
		    "peer=%s reason=\"max_connections %llu reached\"", peer,
		    (unsigned long long)hub->conf.max_connections);
		evutil_closesocket(fd);
		return;
	}
	/* Frames are whole messages: send them now, not after Nagle's wait. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
	    sizeof(int)) == -1)
		log_event(LOG_LVL_DEBUG, "listener.nodelay", "peer=%s error=\"%s\"",
		    peer, strerror(errno));
	if (session_new(fd, peer) == NULL) {
		log_event(LOG_LVL_ERROR, "session.refused",
		    "peer=%s reason=\"cannot allocate a session\"", peer);
		evutil_closesocket(fd);
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
listener_new_fd(struct event_base *base, int fd, char **cause)
{
	struct listener		*l;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);

	*cause = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		cause_set(cause, "out of memory");
		return NULL;
	}
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
listener_new(struct event_base *base, const char *addr, char **cause)
{
	struct listener	*l;
	char		 address[80];
	int		 fd;

	if ((fd = listener_bind(addr, address, sizeof(address), cause)) == -1)
		return NULL;
	if ((l = listener_new_fd(base, fd, cause)) == NULL)
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
