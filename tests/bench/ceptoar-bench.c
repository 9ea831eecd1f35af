/*
 * ceptoar-bench: load for the hub from one process.  P publishers (NISC
 * role) submit M advisories of B bytes each, at most W unacknowledged,
 * for the bench sector; S subscribers (the sector's CEPTOAR members)
 * follow their inboxes, acknowledge in batches and note when each
 * advisory arrived.  The advisory text carries its send time, so the
 * end-to-end latency needs no clock but this process's own.
 *
 * With --idle N it instead opens N subscriber connections, holds them
 * and reports what they cost the hub in resident memory.
 *
 * Everything runs in one libevent loop with OpenSSL bufferevents, the
 * same machinery as the hub, so the tool's own cost per delivery is of
 * the same order as the hub's; on a small machine it shares the CPUs.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "bench.h"
#include "frame.h"

#define BENCH_NAME		"ceptoar"
#define BENCH_SECTOR		"bench"
#define BENCH_SERVER_NAME	"localhost"	/* CN of the dev PKI's hub */
#define BENCH_RID_HELLO		1
#define BENCH_RID_SUBSCRIBE	2
#define BENCH_RID_PING		3
#define BENCH_RID_SUBMIT	1000		/* plus the message index */
#define BENCH_ACK_DELAY_US	5000		/* a partial ack batch waits */
#define BENCH_STALL_SECS	10		/* no progress: give up */
#define BENCH_MAX_ERRORS_SHOWN	5

enum conn_role {
	CONN_PUB,		/* submits advisories */
	CONN_SUB,		/* follows its inbox */
	CONN_IDLE,		/* subscribed, then only held */
};

enum conn_state {
	CONN_CONNECTING,	/* TCP and TLS */
	CONN_HELLO,		/* hello sent, no welcome yet */
	CONN_SUBSCRIBING,	/* subscribe sent, not yet subscribed */
	CONN_READY,
	CONN_DEAD,
};

/* One organisation's certificate and key, shared by its connections. */
struct identity {
	char		 id[80];
	X509		*cert;
	EVP_PKEY	*key;
};

struct bench;

/* One connection to the hub, as a publisher, subscriber or idle one. */
struct conn {
	struct bench		*b;
	struct bufferevent	*bev;
	enum conn_role		 role;
	enum conn_state		 state;
	unsigned		 index;		/* publisher or subscriber no. */
	struct identity		*ident;
	/* Publishers. */
	unsigned		 next;		/* next message index */
	unsigned		 answered;	/* acks and errors received */
	unsigned		 inflight;
	int64_t			*sent;		/* send time per message */
	/* Subscribers. */
	uint64_t		*acks;
	size_t			 nacks;
	struct event		*ack_timer;
	bool			 ack_armed;
};

struct bench {
	struct bench_opts	 o;
	struct event_base	*base;
	SSL_CTX			*ctx;
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	struct identity		*pubs, *subs;
	struct conn		*conns;
	size_t			 nconns;
	size_t			 next_connect;	/* connections begun */
	size_t			 connecting;	/* begun, not yet ready */
	size_t			 ready;
	size_t			 dead;
	uint32_t		 run;
	char			*text;		/* B bytes and a NUL */
	bool			 started;
	bool			 finished;
	bool			 failed;
	int64_t			 t_connect;
	int64_t			 t_first_submit;
	int64_t			 t_last_delivery;
	int64_t			 t_last_ack;
	int64_t			 t_progress;
	uint64_t		 answered;	/* submits answered, all pubs */
	uint64_t		 errors;
	struct bench_track	 track;
	struct bench_hist	 e2e;
	struct bench_hist	 ack;
	struct event		*tick;
	struct event		*deadline;
	struct event		*sigs[2];
	long			 hub_rss_before;
	char			 note[320];
};

static void	bench_read_cb(struct bufferevent *, void *);
static void	bench_event_cb(struct bufferevent *, short, void *);
static void	bench_connect_more(struct bench *);
static void	bench_idle_check(struct bench *);

/* Stop the run with a reason for the detail line; the first one wins. */
static void
bench_stop(struct bench *b, bool failed, const char *why)
{
	if (why != NULL && b->note[0] == '\0')
		snprintf(b->note, sizeof(b->note), "%s", why);
	if (failed)
		b->failed = true;
	event_base_loopexit(b->base, NULL);
}

/* Load one organisation's certificate and key from the PKI folder. */
static int
bench_identity_load(struct bench *b, struct identity *id, const char *prefix,
    unsigned n)
{
	char	 path[4096];
	FILE	*f;

	snprintf(id->id, sizeof(id->id), "%s%u", prefix, n);
	snprintf(path, sizeof(path), "%s/orgs/%s.crt", b->o.pki, id->id);
	if ((f = fopen(path, "r")) == NULL ||
	    (id->cert = PEM_read_X509(f, NULL, NULL, NULL)) == NULL) {
		fprintf(stderr, "ceptoar-bench: cannot read %s\n", path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/orgs/%s.key", b->o.pki, id->id);
	if ((f = fopen(path, "r")) == NULL || (id->key =
	    PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL) {
		fprintf(stderr, "ceptoar-bench: cannot read %s\n", path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

/* The client TLS context: TLS 1.3 only, the hub verified against the CA. */
static int
bench_tls_init(struct bench *b)
{
	char	path[4096];

	snprintf(path, sizeof(path), "%s/ca.crt", b->o.pki);
	if ((b->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(b->ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_load_verify_locations(b->ctx, path, NULL)) {
		fprintf(stderr, "ceptoar-bench: TLS setup with %s failed\n",
		    path);
		ERR_print_errors_fp(stderr);
		return -1;
	}
	SSL_CTX_set_verify(b->ctx, SSL_VERIFY_PEER, NULL);
	/*
	 * Send the certificate alone, as ceptoar sends its chain without the
	 * root (the bench PKI has no intermediate CA).
	 */
	SSL_CTX_set_mode(b->ctx, SSL_MODE_NO_AUTO_CHAIN);
	return 0;
}

/* Resolve the hub's address once, for every connection. */
static int
bench_resolve(struct bench *b)
{
	struct addrinfo	 hints, *res;
	int		 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(b->o.host, b->o.port, &hints, &res)) != 0) {
		fprintf(stderr, "ceptoar-bench: %s:%s: %s\n", b->o.host,
		    b->o.port, gai_strerror(rc));
		return -1;
	}
	memcpy(&b->addr, res->ai_addr, res->ai_addrlen);
	b->addrlen = (socklen_t)res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Frame and queue one envelope on a connection. */
static void
bench_send(struct conn *c, Ceptoar__Envelope *env)
{
	uint8_t	*buf;
	size_t	 len;

	if (c->state == CONN_DEAD)
		return;
	env->has_protocol_version = 1;
	env->protocol_version = CEPTOAR_PROTOCOL_VERSION;
	if ((buf = frame_pack(env, &len)) == NULL) {
		fprintf(stderr, "ceptoar-bench: out of memory packing\n");
		bench_stop(c->b, true, "out-of-memory");
		return;
	}
	bufferevent_write(c->bev, buf, len);
	free(buf);
}

/* Take a connection out of the run; the run itself fails unless over. */
static void
bench_conn_fail(struct conn *c, const char *why)
{
	struct bench	*b = c->b;
	char		 msg[300];

	if (c->state == CONN_DEAD)
		return;
	if (c->state == CONN_READY)
		b->ready--;
	else
		b->connecting--;
	c->state = CONN_DEAD;
	/* Freed at exit: this may run inside the bufferevent's callback. */
	if (c->bev != NULL)
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	b->dead++;
	if (b->finished)
		return;
	if (b->dead <= BENCH_MAX_ERRORS_SHOWN)
		fprintf(stderr, "ceptoar-bench: %s: connection lost: %s\n",
		    c->ident->id, why);
	if (b->o.idle == 0) {
		snprintf(msg, sizeof(msg), "connection-lost(%s)", c->ident->id);
		bench_stop(b, true, msg);
	} else {
		bench_connect_more(b);
		bench_idle_check(b);
	}
}

/* Acknowledge the deliveries a subscriber has collected. */
static void
bench_flush_acks(struct conn *c)
{
	Ceptoar__Envelope	env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__DeliverAck	da = CEPTOAR__DELIVER_ACK__INIT;

	if (c->nacks == 0)
		return;
	da.seqs = c->acks;
	da.n_seqs = c->nacks;
	env.body_case = CEPTOAR__ENVELOPE__BODY_DELIVER_ACK;
	env.deliver_ack = &da;
	bench_send(c, &env);
	c->nacks = 0;
}

/* A partial batch of acks has waited long enough. */
static void
bench_ack_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;

	c->ack_armed = false;
	bench_flush_acks(c);
}

/* Submit advisories while the publisher has room in its window. */
static void
bench_submit_more(struct conn *c)
{
	struct bench		*b = c->b;
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Submit		 sub = CEPTOAR__SUBMIT__INIT;
	Ceptoar__Message	 m = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Advisory	 adv = CEPTOAR__ADVISORY__INIT;
	char			 uuid[40], *sectors[1] = { BENCH_SECTOR };
	unsigned		 idx;
	int64_t			 now;

	while (c->state == CONN_READY && c->inflight < b->o.W &&
	    c->next < b->o.M) {
		idx = c->next++;
		now = bench_now_ns();
		bench_payload(b->text, b->o.B, b->run, c->index, idx, now);
		b->text[b->o.B] = '\0';
		/* Unique per run, publisher and message; UUID-shaped. */
		snprintf(uuid, sizeof(uuid), "%08x-%04x-4%03x-8000-%012x",
		    b->run, c->index & 0xffff, (c->index >> 16) & 0xfff, idx);
		adv.title = "ceptoar-bench advisory";
		adv.text = b->text;
		adv.sectors = sectors;
		adv.n_sectors = 1;
		m.uuid = uuid;
		m.has_tlp = 1;
		m.tlp = CEPTOAR__TLP__TLP_GREEN;
		m.content_case = CEPTOAR__MESSAGE__CONTENT_ADVISORY;
		m.advisory = &adv;
		sub.message = &m;
		env.has_request_id = 1;
		env.request_id = BENCH_RID_SUBMIT + idx;
		env.body_case = CEPTOAR__ENVELOPE__BODY_SUBMIT;
		env.submit = &sub;
		c->sent[idx] = now;
		if (b->t_first_submit == 0)
			b->t_first_submit = now;
		c->inflight++;
		bench_send(c, &env);
	}
}

/* Every connection is ready: note the time and start the publishers. */
static void
bench_all_ready(struct bench *b)
{
	size_t	i;

	b->started = true;
	b->t_progress = bench_now_ns();
	if (b->o.verbose)
		fprintf(stderr, "ceptoar-bench: %zu connections ready in "
		    "%.3fs\n", b->nconns, (double)(b->t_progress -
		    b->t_connect) / 1e9);
	for (i = 0; i < b->nconns; i++)
		if (b->conns[i].role == CONN_PUB)
			bench_submit_more(&b->conns[i]);
}

/* Idle mode: report what the held connections cost the hub. */
static void
bench_idle_report(struct bench *b)
{
	long	rss = -1, hwm = -1, own = -1, ownhwm = -1;
	double	per = -1;

	if (b->o.hub_pid > 0 && bench_proc_rss(b->o.hub_pid, &rss, &hwm) == 0 &&
	    b->hub_rss_before >= 0 && b->ready > 0)
		per = (double)(rss - b->hub_rss_before) / (double)b->ready;
	bench_proc_rss((long)getpid(), &own, &ownhwm);
	printf("%s idle=%u connected=%zu failed=%zu setup_secs=%.3f "
	    "hub_rss_before_kib=%ld hub_rss_after_kib=%ld hub_hwm_kib=%ld "
	    "per_conn_kib=%.1f bench_rss_kib=%ld\n", BENCH_NAME, b->o.idle,
	    b->ready, b->dead, (double)(b->t_progress - b->t_connect) / 1e9,
	    b->hub_rss_before, rss, hwm, per, own);
	fflush(stdout);
}

/* Idle mode, a second after the last connection came up: report, hold. */
static void
bench_idle_settled_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct bench	*b = arg;
	struct timeval	 tv = { 0, 0 };

	bench_idle_report(b);
	b->finished = true;
	if (b->o.hold > 0) {
		tv.tv_sec = (time_t)b->o.hold;
		event_base_loopexit(b->base, &tv);
	}
}

/* Idle mode: once every connection is up or lost, stop the deadline. */
static void
bench_idle_check(struct bench *b)
{
	struct timeval	tv = { 1, 0 };

	if (b->started || b->ready + b->dead < b->nconns)
		return;
	b->started = true;
	b->t_progress = bench_now_ns();
	evtimer_del(b->deadline);
	/* Let the hub settle before its memory is read. */
	event_base_once(b->base, -1, EV_TIMEOUT, bench_idle_settled_cb, b,
	    &tv);
}

/* A connection finished its hello (and subscribe): count it in. */
static void
bench_conn_ready(struct conn *c)
{
	struct bench	*b = c->b;

	c->state = CONN_READY;
	b->connecting--;
	b->ready++;
	bench_connect_more(b);
	if (b->o.idle > 0) {
		bench_idle_check(b);
		return;
	}
	if (b->ready + b->dead == b->nconns)
		bench_all_ready(b);
}

/* The run is complete when every delivery and every ack is in. */
static void
bench_check_done(struct bench *b)
{
	size_t	i;

	if (b->finished || b->answered < (uint64_t)b->o.P * b->o.M ||
	    bench_track_missing(&b->track) > 0)
		return;
	b->finished = true;
	for (i = 0; i < b->nconns; i++)
		if (b->conns[i].role == CONN_SUB)
			bench_flush_acks(&b->conns[i]);
	bench_stop(b, false, NULL);
}

/* A delivery: check it is new, time it, queue its acknowledgement. */
static void
bench_deliver(struct conn *c, const Ceptoar__Delivery *d)
{
	struct bench		*b = c->b;
	const Ceptoar__Message	*m = d ? d->message : NULL;
	struct timeval		 tv = { 0, BENCH_ACK_DELAY_US };
	unsigned		 pub, idx;
	int64_t			 sent, now = bench_now_ns();

	if (d == NULL)
		return;
	if (m != NULL && m->content_case == CEPTOAR__MESSAGE__CONTENT_ADVISORY &&
	    m->advisory->text != NULL && bench_payload_parse(m->advisory->text,
	    strlen(m->advisory->text), b->run, &pub, &idx, &sent) == 0) {
		if (bench_track_mark(&b->track, c->index, pub, idx) == 0) {
			bench_hist_add(&b->e2e, (uint64_t)(now - sent) / 1000);
			b->t_last_delivery = now;
			b->t_progress = now;
		}
	} else
		b->track.foreign++;
	if (d->has_seq) {
		c->acks[c->nacks++] = d->seq;
		if (c->nacks >= b->o.ack_batch)
			bench_flush_acks(c);
		else if (!c->ack_armed) {
			c->ack_armed = true;
			evtimer_add(c->ack_timer, &tv);
		}
	}
	bench_check_done(b);
}

/* A submit was acknowledged (or refused): time it, open the window. */
static void
bench_answered(struct conn *c, uint64_t rid, bool ok)
{
	struct bench	*b = c->b;
	uint64_t	 idx = rid - BENCH_RID_SUBMIT;
	int64_t		 now = bench_now_ns();

	if (rid < BENCH_RID_SUBMIT || idx >= b->o.M || c->sent == NULL)
		return;
	if (ok) {
		bench_hist_add(&b->ack, (uint64_t)(now - c->sent[idx]) / 1000);
		b->t_last_ack = now;
	}
	c->inflight--;
	c->answered++;
	b->answered++;
	b->t_progress = now;
	bench_submit_more(c);
	bench_check_done(b);
}

/* Say what the hub refused, the first few times. */
static void
bench_error(struct conn *c, const Ceptoar__Envelope *env)
{
	struct bench		*b = c->b;
	const Ceptoar__Error	*e = env->error;

	b->errors++;
	if (b->errors <= BENCH_MAX_ERRORS_SHOWN)
		fprintf(stderr, "ceptoar-bench: %s: hub error %d%s: %s\n",
		    c->ident->id, e->has_code ? (int)e->code : -1,
		    e->fatal ? " (fatal)" : "", e->message ? e->message : "");
	if (c->role == CONN_PUB && env->request_id >= BENCH_RID_SUBMIT)
		bench_answered(c, env->request_id, false);
	if (e->fatal || c->state != CONN_READY)
		bench_conn_fail(c, "the hub refused the connection");
}

/* Act on one envelope from the hub. */
static void
bench_dispatch(struct conn *c, const Ceptoar__Envelope *env)
{
	Ceptoar__Envelope	out = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Subscribe	sub = CEPTOAR__SUBSCRIBE__INIT;

	switch (env->body_case) {
	case CEPTOAR__ENVELOPE__BODY_WELCOME:
		if (c->state != CONN_HELLO)
			break;
		if (c->role == CONN_PUB) {
			bench_conn_ready(c);
			break;
		}
		sub.has_follow = 1;
		sub.follow = 1;
		out.has_request_id = 1;
		out.request_id = BENCH_RID_SUBSCRIBE;
		out.body_case = CEPTOAR__ENVELOPE__BODY_SUBSCRIBE;
		out.subscribe = &sub;
		c->state = CONN_SUBSCRIBING;
		bench_send(c, &out);
		break;
	case CEPTOAR__ENVELOPE__BODY_SUBSCRIBED:
		if (c->state == CONN_SUBSCRIBING)
			bench_conn_ready(c);
		break;
	case CEPTOAR__ENVELOPE__BODY_SUBMIT_ACK:
		bench_answered(c, env->request_id, true);
		break;
	case CEPTOAR__ENVELOPE__BODY_DELIVER:
		bench_deliver(c, env->deliver->delivery);
		break;
	case CEPTOAR__ENVELOPE__BODY_ERROR:
		bench_error(c, env);
		break;
	default:
		break;
	}
}

/* Decode every complete frame the hub has sent. */
static void
bench_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	Ceptoar__Envelope	*env;
	unsigned char		 hdr[FRAME_HEADER_LEN];
	uint32_t		 n;
	size_t			 used;
	uint8_t			*p;

	while (c->state != CONN_DEAD) {
		if (evbuffer_copyout(in, hdr, sizeof(hdr)) <
		    (ev_ssize_t)sizeof(hdr))
			break;
		if (frame_peek(hdr, sizeof(hdr), FRAME_MAX_CEILING, &n) !=
		    FRAME_OK) {
			bench_conn_fail(c, "frame too large");
			break;
		}
		if (evbuffer_get_length(in) < FRAME_HEADER_LEN + (size_t)n)
			break;
		p = evbuffer_pullup(in, (ev_ssize_t)(FRAME_HEADER_LEN + n));
		if (p == NULL || frame_unpack(p, FRAME_HEADER_LEN + n,
		    FRAME_MAX_CEILING, &env, &used) != FRAME_OK) {
			bench_conn_fail(c, "malformed frame");
			break;
		}
		evbuffer_drain(in, used);
		bench_dispatch(c, env);
		ceptoar__envelope__free_unpacked(env, NULL);
	}
}

/* TLS established, or the connection ended. */
static void
bench_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn		*c = arg;
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Hello		 hello = CEPTOAR__HELLO__INIT;
	char			 why[256];
	unsigned long		 e;
	int			 one = 1;

	if (what & BEV_EVENT_CONNECTED) {
		/* Small frames must not wait for Nagle. */
		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY,
		    &one, sizeof(one));
		c->state = CONN_HELLO;
		hello.software = "ceptoar-bench";
		env.has_request_id = 1;
		env.request_id = BENCH_RID_HELLO;
		env.body_case = CEPTOAR__ENVELOPE__BODY_HELLO;
		env.hello = &hello;
		bench_send(c, &env);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if ((e = bufferevent_get_openssl_error(bev)) != 0)
			ERR_error_string_n(e, why, sizeof(why));
		else if (what & BEV_EVENT_EOF)
			snprintf(why, sizeof(why), "closed by the hub");
		else
			snprintf(why, sizeof(why), "%s",
			    evutil_socket_error_to_string(
			    EVUTIL_SOCKET_ERROR()));
		bench_conn_fail(c, why);
	}
}

/* Begin TCP and TLS for one connection. */
static int
bench_connect(struct conn *c)
{
	struct bench	*b = c->b;
	SSL		*ssl;

	if ((ssl = SSL_new(b->ctx)) == NULL ||
	    SSL_use_certificate(ssl, c->ident->cert) != 1 ||
	    SSL_use_PrivateKey(ssl, c->ident->key) != 1 ||
	    SSL_set_tlsext_host_name(ssl, BENCH_SERVER_NAME) != 1 ||
	    SSL_set1_host(ssl, BENCH_SERVER_NAME) != 1) {
		ERR_print_errors_fp(stderr);
		return -1;
	}
	c->bev = bufferevent_openssl_socket_new(b->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		return -1;
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, bench_read_cb, NULL, bench_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->state = CONN_CONNECTING;
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&b->addr,
	    (int)b->addrlen) == -1)
		return -1;
	return 0;
}

/* Keep up to --concurrency connections in setup at once. */
static void
bench_connect_more(struct bench *b)
{
	struct conn	*c;

	while (b->connecting < b->o.concurrency &&
	    b->next_connect < b->nconns) {
		c = &b->conns[b->next_connect++];
		b->connecting++;
		if (bench_connect(c) == -1) {
			fprintf(stderr, "ceptoar-bench: cannot open connection "
			    "%zu: %s\n", b->next_connect,
			    evutil_socket_error_to_string(
			    EVUTIL_SOCKET_ERROR()));
			c->state = CONN_CONNECTING;
			bench_conn_fail(c, "connect failed");
			if (b->o.idle == 0)
				return;
		}
	}
}

/* Once a second: progress, stall detection, keep idle ones alive. */
static void
bench_tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct bench		*b = arg;
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Ping		 ping = CEPTOAR__PING__INIT;
	static unsigned		 ticks;
	int64_t			 now = bench_now_ns();
	size_t			 i;

	ticks++;
	if (b->o.verbose && b->o.idle == 0)
		fprintf(stderr, "ceptoar-bench: ready=%zu answered=%llu "
		    "deliveries=%llu errors=%llu\n", b->ready,
		    (unsigned long long)b->answered,
		    (unsigned long long)b->track.deliveries,
		    (unsigned long long)b->errors);
	else if (b->o.verbose && !b->started)
		fprintf(stderr, "ceptoar-bench: ready=%zu failed=%zu\n",
		    b->ready, b->dead);
	if (b->o.idle > 0 && b->started && ticks % 60 == 0) {
		/* The hub closes connections silent for idle_timeout. */
		ping.has_nonce = 1;
		ping.nonce = ticks;
		env.has_request_id = 1;
		env.request_id = BENCH_RID_PING;
		env.body_case = CEPTOAR__ENVELOPE__BODY_PING;
		env.ping = &ping;
		for (i = 0; i < b->nconns; i++)
			if (b->conns[i].state == CONN_READY)
				bench_send(&b->conns[i], &env);
	}
	if (b->o.idle == 0 && b->started &&
	    b->answered == (uint64_t)b->o.P * b->o.M &&
	    now - b->t_progress > (int64_t)BENCH_STALL_SECS * 1000000000)
		bench_stop(b, true, "stalled: every submit is answered but "
		    "deliveries stopped");
}

/* The whole run took too long. */
static void
bench_deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct bench	*b = arg;

	fprintf(stderr, "ceptoar-bench: timeout after %u seconds\n",
	    b->o.timeout);
	bench_stop(b, true, "timeout");
}

/* SIGINT, SIGTERM: end the run (or the hold) now. */
static void
bench_signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct bench	*b = arg;

	bench_stop(b, b->o.idle == 0, "interrupted");
}

/* Load identities and lay out the connections of the workload. */
static int
bench_setup(struct bench *b)
{
	struct conn	*c;
	unsigned	 i, nsub;
	size_t		 k = 0;

	nsub = b->o.S;
	if ((b->subs = calloc(nsub, sizeof(*b->subs))) == NULL)
		return -1;
	for (i = 0; i < nsub; i++)
		if (bench_identity_load(b, &b->subs[i], b->o.sub_prefix, i + 1)
		    == -1)
			return -1;
	if (b->o.idle > 0) {
		b->nconns = b->o.idle;
		if ((b->conns = calloc(b->nconns, sizeof(*b->conns))) == NULL)
			return -1;
		for (k = 0; k < b->nconns; k++) {
			c = &b->conns[k];
			c->b = b;
			c->role = CONN_IDLE;
			c->index = (unsigned)(k % nsub);
			c->ident = &b->subs[c->index];
		}
		return 0;
	}
	if ((b->pubs = calloc(b->o.P, sizeof(*b->pubs))) == NULL)
		return -1;
	for (i = 0; i < b->o.P; i++)
		if (bench_identity_load(b, &b->pubs[i], b->o.pub_prefix, i + 1)
		    == -1)
			return -1;
	b->nconns = (size_t)b->o.P + b->o.S;
	if ((b->conns = calloc(b->nconns, sizeof(*b->conns))) == NULL ||
	    (b->text = malloc((size_t)b->o.B + 1)) == NULL)
		return -1;
	/* Subscribers first, so they follow before anything is sent. */
	for (i = 0; i < b->o.S; i++, k++) {
		c = &b->conns[k];
		c->b = b;
		c->role = CONN_SUB;
		c->index = i;
		c->ident = &b->subs[i];
		if ((c->acks = calloc(b->o.ack_batch, sizeof(*c->acks))) ==
		    NULL || (c->ack_timer = evtimer_new(b->base,
		    bench_ack_timer_cb, c)) == NULL)
			return -1;
	}
	for (i = 0; i < b->o.P; i++, k++) {
		c = &b->conns[k];
		c->b = b;
		c->role = CONN_PUB;
		c->index = i;
		c->ident = &b->pubs[i];
		if ((c->sent = calloc(b->o.M, sizeof(*c->sent))) == NULL)
			return -1;
	}
	return bench_track_init(&b->track, b->o.P, b->o.S, b->o.M);
}

/* Release connections and identities at exit, for leak checkers. */
static void
bench_free(struct bench *b)
{
	size_t		i;
	unsigned	j;

	for (i = 0; i < b->nconns; i++) {
		if (b->conns[i].bev != NULL)
			bufferevent_free(b->conns[i].bev);
		if (b->conns[i].ack_timer != NULL)
			event_free(b->conns[i].ack_timer);
		free(b->conns[i].acks);
		free(b->conns[i].sent);
	}
	free(b->conns);
	for (j = 0; b->pubs != NULL && j < b->o.P; j++) {
		X509_free(b->pubs[j].cert);
		EVP_PKEY_free(b->pubs[j].key);
	}
	for (j = 0; b->subs != NULL && j < b->o.S; j++) {
		X509_free(b->subs[j].cert);
		EVP_PKEY_free(b->subs[j].key);
	}
	free(b->pubs);
	free(b->subs);
	free(b->text);
	bench_track_free(&b->track);
	for (j = 0; j < 2; j++)
		if (b->sigs[j] != NULL)
			event_free(b->sigs[j]);
	if (b->tick != NULL)
		event_free(b->tick);
	if (b->deadline != NULL)
		event_free(b->deadline);
	SSL_CTX_free(b->ctx);
	event_base_free(b->base);
}

int
main(int argc, char **argv)
{
	static struct bench	 bench;	/* the histograms are large */
	struct bench		*b = &bench;
	struct timeval		 tv = { 1, 0 }, dl = { 0, 0 };
	long			 hwm;
	double			 secs = 0, submit_secs = 0;
	int			 rc;

	bench_parse_opts(&b->o, argc, argv, "ceptoar-bench");
	signal(SIGPIPE, SIG_IGN);
	b->run = bench_run_id();
	b->hub_rss_before = -1;
	if ((b->base = event_base_new()) == NULL || bench_tls_init(b) == -1 ||
	    bench_resolve(b) == -1)
		return 2;
	if (bench_setup(b) == -1) {
		fprintf(stderr, "ceptoar-bench: setup failed\n");
		return 2;
	}
	if (b->o.hub_pid > 0)
		bench_proc_rss(b->o.hub_pid, &b->hub_rss_before, &hwm);
	b->tick = event_new(b->base, -1, EV_PERSIST, bench_tick_cb, b);
	evtimer_add(b->tick, &tv);
	dl.tv_sec = (time_t)b->o.timeout;
	b->deadline = evtimer_new(b->base, bench_deadline_cb, b);
	evtimer_add(b->deadline, &dl);
	b->sigs[0] = evsignal_new(b->base, SIGINT, bench_signal_cb, b);
	b->sigs[1] = evsignal_new(b->base, SIGTERM, bench_signal_cb, b);
	evsignal_add(b->sigs[0], NULL);
	evsignal_add(b->sigs[1], NULL);
	b->t_connect = bench_now_ns();
	bench_connect_more(b);
	if (b->o.idle > 0) {
		/* The deadline covers setup; the hold, or a signal, ends it. */
		event_base_dispatch(b->base);
		if (!b->finished) {
			b->t_progress = bench_now_ns();
			bench_idle_report(b);
		}
		if (b->ready < b->o.idle)
			fprintf(stderr, "ceptoar-bench: only %zu of %u idle "
			    "connections came up (%s)\n", b->ready, b->o.idle,
			    b->note[0] ? b->note : "?");
		rc = b->ready == b->o.idle ? 0 : 1;
		bench_free(b);
		return rc;
	}
	event_base_dispatch(b->base);
	if (b->t_last_delivery > b->t_first_submit && b->t_first_submit != 0)
		secs = (double)(b->t_last_delivery - b->t_first_submit) / 1e9;
	if (b->t_last_ack > b->t_first_submit && b->t_first_submit != 0)
		submit_secs = (double)(b->t_last_ack - b->t_first_submit) / 1e9;
	bench_report(BENCH_NAME, &b->o, &b->track, secs, submit_secs, &b->e2e,
	    &b->ack, b->errors, b->note[0] ? b->note : NULL);
	rc = (b->failed || bench_track_missing(&b->track) > 0) ? 1 : 0;
	bench_free(b);
	return rc;
}
