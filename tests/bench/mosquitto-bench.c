/*
 * mosquitto-bench: the comparator.  The workload of ceptoar-bench on an
 * MQTT broker: P publishers publish M messages of B bytes at QoS 1 with
 * at most W unacknowledged (PUBACK), S subscribers hold QoS 1
 * subscriptions to the one topic, every client authenticated by its
 * certificate over TLS 1.3.  Same payload, same histograms, same line,
 * with "mosquitto" first.
 *
 * One process and one poll loop over every client's socket, as
 * ceptoar-bench runs one libevent loop, so neither tool gets more CPU.
 */
#include <sys/types.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "bench.h"

#define MBENCH_NAME		"mosquitto"
#define MBENCH_TOPIC		"ceptoar/bench/advisory"
#define MBENCH_KEEPALIVE	60
#define MBENCH_POLL_MS		10
#define MBENCH_STALL_SECS	10
#define MBENCH_MIDS		65536		/* MQTT packet ids are 16-bit */

enum mclient_role {
	MCLIENT_PUB,
	MCLIENT_SUB,
};

/* One MQTT client: a publisher or a subscriber. */
struct mclient {
	struct mbench		*b;
	struct mosquitto	*mosq;
	enum mclient_role	 role;
	unsigned		 index;
	char			 id[80];
	bool			 ready;
	bool			 dead;
	unsigned		 next;		/* next message index */
	unsigned		 inflight;
	int64_t			*sent;		/* send time per message */
	uint32_t		*mid_idx;	/* packet id to message index */
};

struct mbench {
	struct bench_opts	 o;
	struct mclient		*clients;
	size_t			 nclients;
	size_t			 ready;
	uint32_t		 run;
	char			*payload;
	bool			 started;
	bool			 done;
	bool			 failed;
	int64_t			 t_first_publish;
	int64_t			 t_last_delivery;
	int64_t			 t_last_ack;
	int64_t			 t_progress;
	uint64_t		 answered;
	uint64_t		 errors;
	struct bench_track	 track;
	struct bench_hist	 e2e;
	struct bench_hist	 ack;
	char			 note[256];
};

/* End the run with a reason for the detail line; the first one wins. */
static void
mbench_stop(struct mbench *b, bool failed, const char *why)
{
	if (why != NULL && b->note[0] == '\0')
		snprintf(b->note, sizeof(b->note), "%s", why);
	if (failed)
		b->failed = true;
	b->done = true;
}

/* Publish while the client has room in its window of W. */
static void
mbench_publish_more(struct mclient *c)
{
	struct mbench	*b = c->b;
	unsigned	 idx;
	int64_t		 now;
	int		 mid = 0, rc;

	while (!c->dead && c->inflight < b->o.W && c->next < b->o.M) {
		idx = c->next++;
		now = bench_now_ns();
		bench_payload(b->payload, b->o.B, b->run, c->index, idx, now);
		c->sent[idx] = now;
		if (b->t_first_publish == 0)
			b->t_first_publish = now;
		rc = mosquitto_publish(c->mosq, &mid, MBENCH_TOPIC,
		    (int)b->o.B, b->payload, 1, false);
		if (rc != MOSQ_ERR_SUCCESS) {
			fprintf(stderr, "mosquitto-bench: %s: publish: %s\n",
			    c->id, mosquitto_strerror(rc));
			b->errors++;
			mbench_stop(b, true, "publish-failed");
			return;
		}
		c->mid_idx[mid % MBENCH_MIDS] = idx;
		c->inflight++;
	}
}

/* Every client is connected and subscribed: start the publishers. */
static void
mbench_all_ready(struct mbench *b)
{
	size_t	i;

	b->started = true;
	b->t_progress = bench_now_ns();
	for (i = 0; i < b->nclients; i++)
		if (b->clients[i].role == MCLIENT_PUB)
			mbench_publish_more(&b->clients[i]);
}

/* A client finished connecting (and subscribing). */
static void
mbench_ready(struct mclient *c)
{
	if (c->ready)
		return;
	c->ready = true;
	if (++c->b->ready == c->b->nclients)
		mbench_all_ready(c->b);
}

/* Done once every PUBACK and every delivery is in. */
static void
mbench_check_done(struct mbench *b)
{
	if (b->answered == (uint64_t)b->o.P * b->o.M &&
	    bench_track_missing(&b->track) == 0)
		mbench_stop(b, false, NULL);
}

/* CONNACK: subscribers subscribe, publishers are ready. */
static void
mbench_on_connect(struct mosquitto *mosq, void *arg, int rc)
{
	struct mclient	*c = arg;
	int		 src;

	if (rc != 0) {
		fprintf(stderr, "mosquitto-bench: %s: connection refused: %s\n",
		    c->id, mosquitto_connack_string(rc));
		c->dead = true;
		mbench_stop(c->b, true, "connack-refused");
		return;
	}
	if (c->role == MCLIENT_PUB) {
		mbench_ready(c);
		return;
	}
	if ((src = mosquitto_subscribe(mosq, NULL, MBENCH_TOPIC, 1)) !=
	    MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mosquitto-bench: %s: subscribe: %s\n", c->id,
		    mosquitto_strerror(src));
		mbench_stop(c->b, true, "subscribe-failed");
	}
}

/* SUBACK: the subscriber is in place. */
static void
mbench_on_subscribe(struct mosquitto *mosq, void *arg, int mid, int n,
    const int *granted)
{
	struct mclient	*c = arg;

	if (n < 1 || granted[0] != 1) {
		fprintf(stderr, "mosquitto-bench: %s: QoS 1 not granted\n",
		    c->id);
		mbench_stop(c->b, true, "subscribe-refused");
		return;
	}
	mbench_ready(c);
}

/* PUBACK: time it and open the window. */
static void
mbench_on_publish(struct mosquitto *mosq, void *arg, int mid)
{
	struct mclient	*c = arg;
	struct mbench	*b = c->b;
	uint32_t	 idx = c->mid_idx[mid % MBENCH_MIDS];
	int64_t		 now = bench_now_ns();

	if (c->role != MCLIENT_PUB || idx >= b->o.M)
		return;
	bench_hist_add(&b->ack, (uint64_t)(now - c->sent[idx]) / 1000);
	b->t_last_ack = now;
	c->inflight--;
	b->answered++;
	b->t_progress = now;
	mbench_publish_more(c);
	mbench_check_done(b);
}

/* A delivery: new or duplicate, and how long it took. */
static void
mbench_on_message(struct mosquitto *mosq, void *arg,
    const struct mosquitto_message *msg)
{
	struct mclient	*c = arg;
	struct mbench	*b = c->b;
	unsigned	 pub, idx;
	int64_t		 sent, now = bench_now_ns();

	if (msg->payloadlen <= 0 || bench_payload_parse(msg->payload,
	    (size_t)msg->payloadlen, b->run, &pub, &idx, &sent) == -1) {
		b->track.foreign++;
		return;
	}
	if (bench_track_mark(&b->track, c->index, pub, idx) == 0) {
		bench_hist_add(&b->e2e, (uint64_t)(now - sent) / 1000);
		b->t_last_delivery = now;
		b->t_progress = now;
	}
	mbench_check_done(b);
}

/* The broker or the network ended a client before the run did. */
static void
mbench_on_disconnect(struct mosquitto *mosq, void *arg, int rc)
{
	struct mclient	*c = arg;
	char		 why[200];

	c->dead = true;
	if (c->b->done)
		return;
	fprintf(stderr, "mosquitto-bench: %s: disconnected: %s\n", c->id,
	    mosquitto_strerror(rc));
	snprintf(why, sizeof(why), "disconnected(%s)", c->id);
	mbench_stop(c->b, true, why);
}

/*
 * A client's TLS context, made here rather than by libmosquitto so that
 * the certificate goes alone, as ceptoar-bench sends it: by default
 * OpenSSL adds the CA, which the broker would parse at every connection.
 * TLS 1.3 only, the broker verified against the CA and the address.
 */
static SSL_CTX *
mbench_tls_ctx(const struct mbench *b, const char *ca, const char *cert,
    const char *key)
{
	SSL_CTX			*ctx;
	X509_VERIFY_PARAM	*param;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return NULL;
	param = SSL_CTX_get0_param(ctx);
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_load_verify_locations(ctx, ca, NULL) ||
	    !SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) ||
	    !SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) ||
	    !SSL_CTX_check_private_key(ctx) ||
	    (!X509_VERIFY_PARAM_set1_ip_asc(param, b->o.host) &&
	    !X509_VERIFY_PARAM_set1_host(param, b->o.host, 0))) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* Idle buffers released, as in the context libmosquitto makes. */
	SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN | SSL_MODE_RELEASE_BUFFERS);
	return ctx;
}

/* Create one client with its own certificate and connect it. */
static int
mbench_client_open(struct mbench *b, struct mclient *c, const char *prefix)
{
	SSL_CTX	*ctx;
	char	 ca[4096], cert[4096], key[4096];
	int	 rc, port = atoi(b->o.port);

	snprintf(c->id, sizeof(c->id), "%s%u", prefix, c->index + 1);
	snprintf(ca, sizeof(ca), "%s/ca.crt", b->o.pki);
	snprintf(cert, sizeof(cert), "%s/orgs/%s.crt", b->o.pki, c->id);
	snprintf(key, sizeof(key), "%s/orgs/%s.key", b->o.pki, c->id);
	/* A subscriber's session, and its queue, outlive a disconnect. */
	if ((c->mosq = mosquitto_new(c->id, c->role == MCLIENT_PUB, c)) ==
	    NULL)
		return -1;
	mosquitto_connect_callback_set(c->mosq, mbench_on_connect);
	mosquitto_subscribe_callback_set(c->mosq, mbench_on_subscribe);
	mosquitto_publish_callback_set(c->mosq, mbench_on_publish);
	mosquitto_message_callback_set(c->mosq, mbench_on_message);
	mosquitto_disconnect_callback_set(c->mosq, mbench_on_disconnect);
	mosquitto_int_option(c->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	/* The window is ours to keep: the library must not queue behind it. */
	mosquitto_max_inflight_messages_set(c->mosq, 0);
	if ((ctx = mbench_tls_ctx(b, ca, cert, key)) == NULL) {
		fprintf(stderr, "mosquitto-bench: %s: TLS setup failed\n", c->id);
		ERR_print_errors_fp(stderr);
		return -1;
	}
	/* The library takes a reference of its own, and adds nothing to it. */
	rc = mosquitto_void_option(c->mosq, MOSQ_OPT_SSL_CTX, ctx);
	SSL_CTX_free(ctx);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_int_option(c->mosq,
		    MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mosquitto-bench: %s: TLS: %s\n", c->id,
		    mosquitto_strerror(rc));
		return -1;
	}
	if ((rc = mosquitto_connect(c->mosq, b->o.host, port,
	    MBENCH_KEEPALIVE)) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mosquitto-bench: %s: connect to %s:%d: %s\n",
		    c->id, b->o.host, port, rc == MOSQ_ERR_ERRNO ?
		    strerror(errno) : mosquitto_strerror(rc));
		return -1;
	}
	return 0;
}

/* Lay out and connect every client of the workload. */
static int
mbench_setup(struct mbench *b)
{
	struct mclient	*c;
	size_t		 k = 0;
	unsigned	 i;

	b->nclients = (size_t)b->o.P + b->o.S;
	if ((b->clients = calloc(b->nclients, sizeof(*b->clients))) == NULL ||
	    (b->payload = malloc(b->o.B)) == NULL ||
	    bench_track_init(&b->track, b->o.P, b->o.S, b->o.M) == -1)
		return -1;
	/* Subscribers first, so they are subscribed before anything is sent. */
	for (i = 0; i < b->o.S; i++, k++) {
		c = &b->clients[k];
		c->b = b;
		c->role = MCLIENT_SUB;
		c->index = i;
		if (mbench_client_open(b, c, b->o.sub_prefix) == -1)
			return -1;
	}
	for (i = 0; i < b->o.P; i++, k++) {
		c = &b->clients[k];
		c->b = b;
		c->role = MCLIENT_PUB;
		c->index = i;
		if ((c->sent = calloc(b->o.M, sizeof(*c->sent))) == NULL ||
		    (c->mid_idx = calloc(MBENCH_MIDS, sizeof(*c->mid_idx))) ==
		    NULL || mbench_client_open(b, c, b->o.pub_prefix) == -1)
			return -1;
	}
	return 0;
}

/*
 * Read what a client's socket has.  libmosquitto may stop after one
 * packet while TLS still holds decrypted bytes that poll cannot see, so
 * read until OpenSSL has nothing pending.
 */
static int
mbench_client_read(struct mclient *c)
{
	SSL	*ssl = mosquitto_ssl_get(c->mosq);
	int	 rc;

	do {
		rc = mosquitto_loop_read(c->mosq, 1);
	} while (rc == MOSQ_ERR_SUCCESS && ssl != NULL && SSL_pending(ssl) > 0);
	return rc;
}

/* The poll loop: until done, the deadline, or a stall. */
static void
mbench_loop(struct mbench *b)
{
	struct pollfd	*pfd;
	struct mclient	*c;
	int64_t		 deadline, last_misc = 0, now;
	size_t		 i;
	int		 rc;

	if ((pfd = calloc(b->nclients, sizeof(*pfd))) == NULL) {
		mbench_stop(b, true, "out-of-memory");
		return;
	}
	deadline = bench_now_ns() + (int64_t)b->o.timeout * 1000000000;
	while (!b->done) {
		for (i = 0; i < b->nclients; i++) {
			c = &b->clients[i];
			pfd[i].fd = c->dead ? -1 : mosquitto_socket(c->mosq);
			pfd[i].events = POLLIN;
			if (!c->dead && mosquitto_want_write(c->mosq))
				pfd[i].events |= POLLOUT;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)b->nclients, MBENCH_POLL_MS) == -1 &&
		    errno != EINTR) {
			mbench_stop(b, true, "poll-failed");
			break;
		}
		for (i = 0; i < b->nclients && !b->done; i++) {
			c = &b->clients[i];
			if (c->dead || pfd[i].revents == 0)
				continue;
			rc = MOSQ_ERR_SUCCESS;
			if (pfd[i].revents & (POLLIN | POLLERR | POLLHUP))
				rc = mbench_client_read(c);
			if (rc == MOSQ_ERR_SUCCESS &&
			    (pfd[i].revents & POLLOUT))
				rc = mosquitto_loop_write(c->mosq, 1);
			if (rc != MOSQ_ERR_SUCCESS && !c->dead)
				mbench_on_disconnect(c->mosq, c, rc);
		}
		now = bench_now_ns();
		if (now - last_misc > 1000000000) {
			last_misc = now;
			for (i = 0; i < b->nclients; i++)
				if (!b->clients[i].dead)
					mosquitto_loop_misc(b->clients[i].mosq);
			if (b->o.verbose)
				fprintf(stderr, "mosquitto-bench: ready=%zu "
				    "answered=%llu deliveries=%llu\n", b->ready,
				    (unsigned long long)b->answered,
				    (unsigned long long)b->track.deliveries);
		}
		if (now > deadline) {
			fprintf(stderr, "mosquitto-bench: timeout after %u "
			    "seconds\n", b->o.timeout);
			mbench_stop(b, true, "timeout");
		} else if (b->started &&
		    b->answered == (uint64_t)b->o.P * b->o.M &&
		    now - b->t_progress > (int64_t)MBENCH_STALL_SECS *
		    1000000000)
			mbench_stop(b, true, "stalled: every publish is "
			    "acknowledged but deliveries stopped");
	}
	free(pfd);
}

/* Disconnect and free every client. */
static void
mbench_free(struct mbench *b)
{
	size_t	i;

	for (i = 0; i < b->nclients; i++) {
		if (b->clients[i].mosq != NULL) {
			if (!b->clients[i].dead)
				mosquitto_disconnect(b->clients[i].mosq);
			mosquitto_destroy(b->clients[i].mosq);
		}
		free(b->clients[i].sent);
		free(b->clients[i].mid_idx);
	}
	free(b->clients);
	free(b->payload);
	bench_track_free(&b->track);
}

int
main(int argc, char **argv)
{
	static struct mbench	 bench;	/* the histograms are large */
	struct mbench		*b = &bench;
	double			 secs = 0, submit_secs = 0;
	int			 rc;

	bench_parse_opts(&b->o, argc, argv, "mosquitto-bench");
	if (b->o.idle > 0) {
		fprintf(stderr, "mosquitto-bench: --idle is ceptoar-bench's\n");
		return 2;
	}
	b->run = bench_run_id();
	mosquitto_lib_init();
	if (mbench_setup(b) == -1) {
		fprintf(stderr, "mosquitto-bench: setup failed\n");
		mbench_free(b);
		mosquitto_lib_cleanup();
		return 2;
	}
	mbench_loop(b);
	if (b->t_first_publish != 0 && b->t_last_delivery > b->t_first_publish)
		secs = (double)(b->t_last_delivery - b->t_first_publish) / 1e9;
	if (b->t_first_publish != 0 && b->t_last_ack > b->t_first_publish)
		submit_secs = (double)(b->t_last_ack - b->t_first_publish) / 1e9;
	bench_report(MBENCH_NAME, &b->o, &b->track, secs, submit_secs, &b->e2e,
	    &b->ack, b->errors, b->note[0] ? b->note : NULL);
	rc = (b->failed || bench_track_missing(&b->track) > 0) ? 1 : 0;
	mbench_free(b);
	mosquitto_lib_cleanup();
	return rc;
}
