/*
 * The systemd notification protocol (sd_notify(3)), spoken by hand: one
 * datagram per state change ("READY=1", "RELOADING=1", "STOPPING=1",
 * "WATCHDOG=1") to the socket named by $NOTIFY_SOCKET.
 *
 * libsystemd's sd_notify opens and connects a new socket for every call,
 * by path.  That cannot work here: once the hub has chrooted the path no
 * longer resolves, and its seccomp filter is set up for a running hub,
 * not for one that keeps creating sockets.  So the socket is created and
 * connected once, at start-up, while the path still resolves; sending on
 * a connected datagram socket needs neither the path nor new descriptors.
 * A name starting with '@' is an abstract socket (Linux), whose address
 * is the name with a leading NUL instead of the '@'.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "ceptoard.h"

static struct {
	int		 fd;		/* -1: not under systemd */
	uint64_t	 watchdog_usec;	/* 0: no watchdog */
	struct event	*watchdog;
} ntf = { .fd = -1 };

void
notify_init(void)
{
	struct sockaddr_un	 sun;
	const char		*path = getenv("NOTIFY_SOCKET");
	const char		*wd = getenv("WATCHDOG_USEC");
	const char		*wdpid = getenv("WATCHDOG_PID");
	char			*end, esc[200];
	socklen_t		 len;
	size_t			 n;

	if (wd != NULL && (wdpid == NULL ||
	    strtol(wdpid, NULL, 10) == (long)getpid())) {
		errno = 0;
		ntf.watchdog_usec = strtoull(wd, &end, 10);
		if (errno != 0 || *end != '\0' || end == wd)
			ntf.watchdog_usec = 0;
	}
	if (path == NULL || path[0] == '\0')
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sun.sun_path)) {
		log_event(LOG_LVL_WARN, "notify.socket", "path=%s reason=\"not "
		    "an absolute path or an abstract name; not notifying\"",
		    log_escape(path, esc, sizeof(esc)));
		return;
	}
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	/* An abstract name is exactly as long as given, with no NUL after. */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (path[0] == '@' ? 0 : 1));
	if ((ntf.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(ntf.fd, (struct sockaddr *)&sun, len) == -1) {
		log_event(LOG_LVL_WARN, "notify.socket", "path=%s error=\"%s\"",
		    log_escape(path, esc, sizeof(esc)), strerror(errno));
		if (ntf.fd != -1)
			close(ntf.fd);
		ntf.fd = -1;
		return;
	}
	/* Children the hub might start must not speak for it. */
	unsetenv("NOTIFY_SOCKET");
}

void
notify_send(const char *fmt, ...)
{
	char		msg[256];
	va_list		ap;
	int		n;
	ssize_t		r;

	if (ntf.fd == -1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;
	do
		r = send(ntf.fd, msg, (size_t)n, MSG_NOSIGNAL);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		log_event(LOG_LVL_WARN, "notify.error", "message=\"%.40s\" "
		    "error=\"%s\"", msg, strerror(errno));
}

/* The loop still turns: tell the watchdog. */
static void
notify_watchdog_cb(evutil_socket_t fd, short ev, void *arg)
{
	notify_send("WATCHDOG=1");
}

void
notify_watchdog(struct event_base *base)
{
	struct timeval	tv;
	uint64_t	half = ntf.watchdog_usec / 2;

	if (ntf.fd == -1 || half == 0)
		return;
	tv.tv_sec = (time_t)(half / 1000000);
	tv.tv_usec = (suseconds_t)(half % 1000000);
	if ((ntf.watchdog = event_new(base, -1, EV_PERSIST, notify_watchdog_cb,
	    NULL)) == NULL || event_add(ntf.watchdog, &tv) == -1) {
		log_event(LOG_LVL_WARN, "notify.watchdog", "reason=\"cannot "
		    "arm the timer\"");
		return;
	}
	log_event(LOG_LVL_INFO, "notify.watchdog", "interval_usec=%llu",
	    (unsigned long long)half);
	notify_send("WATCHDOG=1");
}

void
notify_stop(void)
{
	if (ntf.watchdog != NULL)
		event_free(ntf.watchdog);
	ntf.watchdog = NULL;
	if (ntf.fd != -1)
		close(ntf.fd);
	ntf.fd = -1;
}
