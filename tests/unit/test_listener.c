/*
 * Listeners that each know their protocol: two loopback listeners with
 * protocols of their own, each connection handed to its listener's
 * protocol with its peer and a hold on its address, and the per-address
 * caps counted across protocols until a hold is released.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "ceptoard.h"
#include "check.h"

static struct hub	 test_hub;
struct hub		*hub = &test_hub;

#define MAX_OPENED	8

/* What a protocol was given, by protocol. */
struct opened {
	int			 n;
	int			 fds[MAX_OPENED];
	char			 peers[MAX_OPENED][80];
	struct listener_hold	 holds[MAX_OPENED];
};

static struct opened	 opened_a, opened_b;

/* Note a connection in o; the test closes it. */
static int
note(struct opened *o, int fd, const char *peer,
    const struct listener_hold *hold)
{
	if (o->n == MAX_OPENED) {
		close(fd);
		return -1;
	}
	o->fds[o->n] = fd;
	snprintf(o->peers[o->n], sizeof(o->peers[0]), "%s", peer);
	o->holds[o->n] = *hold;
	o->n++;
	return 0;
}

static int
open_a(int fd, const struct sockaddr *sa, int salen, const char *peer,
    const struct listener_hold *hold)
{
	CHECK(sa != NULL && salen > 0);
	return note(&opened_a, fd, peer, hold);
}

static int
open_b(int fd, const struct sockaddr *sa, int salen, const char *peer,
    const struct listener_hold *hold)
{
	return note(&opened_b, fd, peer, hold);
}

static const struct listener_proto proto_a = { "a", open_a };
static const struct listener_proto proto_b = { "b", open_b };

/* A client connection to "127.0.0.1:port", or -1. */
static int
dial(const char *address)
{
	struct sockaddr_in	 sin;
	const char		*colon = strrchr(address, ':');
	int			 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(colon + 1));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Run the loop until want connections were opened in all, or time out. */
static void
wait_opened(int want)
{
	int	i;

	for (i = 0; i < 5000 && opened_a.n + opened_b.n < want; i++) {
		event_base_loop(hub->base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	CHECK(opened_a.n + opened_b.n == want);
}

/* Whether the server closed fd (the refusal of a capped connection). */
static bool
closed_by_server(int fd)
{
	char	c;
	int	i;

	for (i = 0; i < 5000; i++) {
		event_base_loop(hub->base, EVLOOP_NONBLOCK);
		if (recv(fd, &c, 1, MSG_DONTWAIT) == 0)
			return true;
		usleep(1000);
	}
	return false;
}

int
main(void)
{
	struct listener	*la, *lb;
	char		*cause = NULL;
	char		 addr_a[80], addr_b[80];
	int		 c[6], i;

	log_init(1, LOG_LVL_ERROR);
	if (sodium_init() < 0 || (hub->base = event_base_new()) == NULL)
		return 1;
	hub->conf.max_connections = 100;
	hub->conf.max_conn_per_addr = 3;
	hub->conf.max_handshakes_per_addr = 2;
	hub->conf.preauth_log_interval = 60;
	hub->conf.preauth_log_lines = 10;
	la = listener_new(hub->base, "127.0.0.1:0", &proto_a, &cause);
	lb = listener_new(hub->base, "127.0.0.1:0", &proto_b, &cause);
	if (la == NULL || lb == NULL) {
		fprintf(stderr, "listener: %s\n", cause ? cause : "?");
		return 1;
	}
	snprintf(addr_a, sizeof(addr_a), "%s", listener_address(la));
	snprintf(addr_b, sizeof(addr_b), "%s", listener_address(lb));

	/* Each connection reaches its own listener's protocol. */
	CHECK((c[0] = dial(addr_a)) != -1);
	wait_opened(1);
	CHECK((c[1] = dial(addr_b)) != -1);
	wait_opened(2);
	CHECK(opened_a.n == 1 && opened_b.n == 1);
	CHECK(strncmp(opened_a.peers[0], "127.0.0.1:", 10) == 0);
	CHECK(opened_a.holds[0].addr != NULL && opened_a.holds[0].handshake);
	/* One address, one entry, whichever listener it came through. */
	CHECK(opened_a.holds[0].addr == opened_b.holds[0].addr);

	/* Two handshakes are in progress: a third is refused. */
	CHECK((c[2] = dial(addr_a)) != -1);
	CHECK(closed_by_server(c[2]));
	CHECK(opened_a.n == 1);
	/* One authenticates: room for one more handshake. */
	listener_hold_authenticated(&opened_b.holds[0]);
	listener_hold_authenticated(&opened_b.holds[0]);	/* idempotent */
	CHECK(!opened_b.holds[0].handshake);
	CHECK((c[3] = dial(addr_a)) != -1);
	wait_opened(3);
	CHECK(opened_a.n == 2);

	/* Three connections from the address: a fourth is refused... */
	listener_hold_authenticated(&opened_a.holds[1]);
	CHECK((c[4] = dial(addr_b)) != -1);
	CHECK(closed_by_server(c[4]));
	CHECK(opened_b.n == 1);
	/* ...until one closes and releases its hold. */
	listener_hold_release(&opened_a.holds[0]);
	listener_hold_release(&opened_a.holds[0]);		/* idempotent */
	CHECK(opened_a.holds[0].addr == NULL);
	CHECK((c[5] = dial(addr_b)) != -1);
	wait_opened(4);
	CHECK(opened_b.n == 2);

	for (i = 0; i < 6; i++)
		if (c[i] != -1)
			close(c[i]);
	for (i = 0; i < opened_a.n; i++) {
		listener_hold_release(&opened_a.holds[i]);
		close(opened_a.fds[i]);
	}
	for (i = 0; i < opened_b.n; i++) {
		listener_hold_release(&opened_b.holds[i]);
		close(opened_b.fds[i]);
	}
	listener_free(la);
	listener_free(lb);
	session_close_all("test over");
	event_base_free(hub->base);
	return CHECK_DONE();
}
