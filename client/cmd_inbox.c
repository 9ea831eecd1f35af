/*
 * ceptoar inbox: print what the hub holds for us and acknowledge it.
 *
 * A delivery is acknowledged only after it was written out, so a full
 * disk or a closed pipe leaves it in the inbox to come again: at least
 * once, never lost.  DeliverAck has no answer; a Ping after it does, and
 * since the hub handles frames in order, its Pong proves the acks were
 * processed.  With --follow the connection stays open and every
 * delivery is printed and acknowledged as it arrives.
 *
 * With --answer-checks a communication check is answered as soon as it
 * is printed.  The answer is a Submit whose SubmitAck comes back among
 * the deliveries, matched by its request id; its uuid is derived from
 * the check, so a check that comes again is not answered twice.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "ceptoar.h"

/* --follow's connection was lost (not refused): connect again. */
#define CMD_INBOX_LOST		(-1)
/* The longest wait between two attempts to connect again, in seconds. */
#define CMD_INBOX_BACKOFF_MAX	30

/* Seconds of silence after which --follow checks the hub is there. */
#define CMD_INBOX_KEEPALIVE	30

static int	cmd_inbox_exec(struct client *, int, char **);

const struct cmd_entry cmd_inbox_entry = {
	"inbox", "[--follow] [--no-ack] [--answer-checks] [--after seq] "
	    "[--limit n]",
	cmd_inbox_exec,
	"print and acknowledge new deliveries (--follow: keep waiting)"
};

/* The answers to communication checks sent and not yet acknowledged. */
struct cmd_inbox_answers {
	bool		 enabled;	/* --answer-checks */
	const char	*org;		/* who we are, for the answer's uuid */
	struct cmd_inbox_answer {
		uint64_t	 rid;
		char		 check[40];
	}		*v;
	size_t		 n, cap;
};

static volatile sig_atomic_t cmd_inbox_stop;

/* SIGINT and SIGTERM end --follow cleanly, between deliveries. */
static void
cmd_inbox_signal(int sig)
{
	cmd_inbox_stop = 1;
}

/* Parse a decimal number for an option; -1 if it is not one. */
static int
cmd_inbox_number(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long	 v;
	char			*end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Fail with the connection's sentence, and close it. */
static int
cmd_inbox_fail(struct hubconn *hc)
{
	int	status;

	status = client_fail(hubconn_exit(hc), "%s", hubconn_strerror(hc));
	hubconn_free(hc);
	return status;
}

/* Acknowledge n deliveries; the caller confirms with a ping. */
static enum hubconn_status
cmd_inbox_ack(struct hubconn *hc, uint64_t *seqs, size_t n)
{
	Ceptoar__Envelope	env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__DeliverAck	ack = CEPTOAR__DELIVER_ACK__INIT;

	ack.n_seqs = n;
	ack.seqs = seqs;
	env.body_case = CEPTOAR__ENVELOPE__BODY_DELIVER_ACK;
	env.deliver_ack = &ack;
	return hubconn_send(hc, &env);
}

/*
 * Answer d if it is a communication check: send the answer and note its
 * request id; the ack is handled by cmd_inbox_answered.  0, or an exit
 * status after saying why.
 */
static int
cmd_inbox_answer(struct hubconn *hc, struct cmd_inbox_answers *ans,
    const Ceptoar__Delivery *d)
{
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Submit		 submit = CEPTOAR__SUBMIT__INIT;
	Ceptoar__Message	 m;
	Ceptoar__CheckAnswer	 a;
	struct cmd_inbox_answer	*nv;
	char			 uuid[40];

	if (!ans->enabled || d->message == NULL || d->hub_id == NULL ||
	    d->message->content_case != CEPTOAR__MESSAGE__CONTENT_COMM_CHECK)
		return 0;
	if (ans->n == ans->cap) {
		ans->cap = ans->cap ? ans->cap * 2 : 8;
		if ((nv = reallocarray(ans->v, ans->cap, sizeof(*nv))) == NULL)
			return client_fail(EX_UNAVAILABLE, "out of memory");
		ans->v = nv;
	}
	compose_check_answer(&m, &a, uuid, ans->org, d->hub_id);
	submit.message = &m;
	env.body_case = CEPTOAR__ENVELOPE__BODY_SUBMIT;
	env.submit = &submit;
	if (hubconn_send(hc, &env) != HUBCONN_OK)
		return client_fail(hubconn_exit(hc), "%s (answering check %s)",
		    hubconn_strerror(hc), d->hub_id);
	ans->v[ans->n].rid = env.request_id;
	snprintf(ans->v[ans->n].check, sizeof(ans->v[ans->n].check), "%s",
	    d->hub_id);
	ans->n++;
	return 0;
}

/*
 * If in answers one of our check answers (a SubmitAck or an Error with
 * its request id), say so and forget it; returns whether it did.  The
 * confirmation goes to stdout in text mode and to stderr with --json,
 * where stdout holds only deliveries.
 */
static bool
cmd_inbox_answered(const struct client *c, struct hubconn *hc,
    struct cmd_inbox_answers *ans, const Ceptoar__Envelope *in)
{
	size_t	i;
	char	id[64];

	if (in->body_case != CEPTOAR__ENVELOPE__BODY_SUBMIT_ACK &&
	    in->body_case != CEPTOAR__ENVELOPE__BODY_ERROR)
		return false;
	for (i = 0; i < ans->n; i++)
		if (in->has_request_id && ans->v[i].rid == in->request_id)
			break;
	if (i == ans->n) {
		/* An ack nobody waits for is harmless; an error is not ours. */
		return in->body_case == CEPTOAR__ENVELOPE__BODY_SUBMIT_ACK;
	}
	if (in->body_case == CEPTOAR__ENVELOPE__BODY_ERROR) {
		hubconn_hub_error(hc, in->error);
		client_warn("communication check %s not answered: %s",
		    ans->v[i].check, hubconn_strerror(hc));
	} else if (!c->quiet) {
		snprintf(id, sizeof(id), "%s", in->submit_ack->hub_id != NULL ?
		    in->submit_ack->hub_id : "?");
		output_clean(id);
		fprintf(c->json ? stderr : stdout, "%sanswered communication "
		    "check %s (answer %s%s)\n", c->json ? "ceptoar: " : "",
		    ans->v[i].check, id, in->submit_ack->has_duplicate &&
		    in->submit_ack->duplicate ? ", given before" : "");
	}
	ans->v[i] = ans->v[--ans->n];
	return true;
}

/* Wait for the acks of the answers still out, after a batch. */
static int
cmd_inbox_answers_wait(const struct client *c, struct hubconn *hc,
    struct cmd_inbox_answers *ans)
{
	Ceptoar__Envelope	*in;
	enum hubconn_status	 st;

	while (ans->n > 0) {
		st = hubconn_recv(hc, -1, &in);
		if (st == HUBCONN_TIMEOUT)
			return client_fail(EX_UNAVAILABLE, "no answer from the "
			    "hub within %d seconds to our answer to check %s",
			    hubconn_timeout_ms(hc) / 1000, ans->v[0].check);
		if (st != HUBCONN_OK)
			return client_fail(hubconn_exit(hc), "%s",
			    hubconn_strerror(hc));
		/* A delivery now is not printed, so not acked: it comes again. */
		(void)cmd_inbox_answered(c, hc, ans, in);
		ceptoar__envelope__free_unpacked(in, NULL);
	}
	return 0;
}

/* Print one delivery and make sure it is out before it may be acked. */
static int
cmd_inbox_print(const struct client *c, const Ceptoar__Deliver *d)
{
	if (d->delivery == NULL)
		return client_fail(EX_UNAVAILABLE, "the hub sent an empty "
		    "delivery");
	output_delivery(c, d->delivery);
	return client_flush();
}

/* Without --follow: the pending deliveries, then acks and a ping. */
static int
cmd_inbox_batch(const struct client *c, struct hubconn *hc, uint64_t pending,
    bool no_ack, struct cmd_inbox_answers *ans)
{
	Ceptoar__Envelope	*in;
	uint64_t		*seqs = NULL, *nseqs, i;
	size_t			 n = 0, cap = 0;
	int			 status = 0;

	/*
	 * The hub sends the pending deliveries and then a Subscribed with
	 * pending 0 that marks the end of the batch; reading up to that
	 * marker (not just counting) copes with deliveries acknowledged by
	 * another connection in the meantime.
	 */
	for (i = 0;; i++) {
		enum hubconn_status st = hubconn_recv(hc, -1, &in);

		if (st == HUBCONN_TIMEOUT) {
			status = client_fail(EX_UNAVAILABLE, "the hub sent %llu "
			    "of %llu deliveries, then nothing within %u "
			    "seconds", (unsigned long long)i,
			    (unsigned long long)pending,
			    (unsigned)(hubconn_timeout_ms(hc) / 1000));
			break;
		}
		if (st != HUBCONN_OK) {
			status = client_fail(hubconn_exit(hc), "%s",
			    hubconn_strerror(hc));
			break;
		}
		if (in->body_case == CEPTOAR__ENVELOPE__BODY_SUBSCRIBED) {
			ceptoar__envelope__free_unpacked(in, NULL);
			break;
		}
		if (cmd_inbox_answered(c, hc, ans, in)) {
			ceptoar__envelope__free_unpacked(in, NULL);
			i--;	/* not a delivery */
			continue;
		}
		if (in->body_case == CEPTOAR__ENVELOPE__BODY_ERROR) {
			hubconn_hub_error(hc, in->error);
			ceptoar__envelope__free_unpacked(in, NULL);
			status = client_fail(hubconn_exit(hc), "%s",
			    hubconn_strerror(hc));
			break;
		}
		if (in->body_case != CEPTOAR__ENVELOPE__BODY_DELIVER) {
			ceptoar__envelope__free_unpacked(in, NULL);
			status = client_fail(EX_UNAVAILABLE, "the hub sent an "
			    "unexpected message while delivering");
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nseqs = reallocarray(seqs, cap,
			    sizeof(*seqs))) == NULL) {
				ceptoar__envelope__free_unpacked(in, NULL);
				status = client_fail(EX_UNAVAILABLE,
				    "out of memory");
				break;
			}
			seqs = nseqs;
		}
		status = cmd_inbox_print(c, in->deliver);
		if (status == 0)
			status = cmd_inbox_answer(hc, ans,
			    in->deliver->delivery);
		if (status == 0 && in->deliver->delivery->has_seq)
			seqs[n++] = in->deliver->delivery->seq;
		ceptoar__envelope__free_unpacked(in, NULL);
		if (status != 0)
			break;
	}
	/* The ping below must not meet their acks. */
	if (status == 0)
		status = cmd_inbox_answers_wait(c, hc, ans);
	/* What was printed is acknowledged even if a later one failed. */
	if (!no_ack && n > 0) {
		if (cmd_inbox_ack(hc, seqs, n) != HUBCONN_OK ||
		    hubconn_ping(hc, NULL) != HUBCONN_OK) {
			if (status == 0)
				status = client_fail(hubconn_exit(hc), "%s "
				    "(the deliveries were printed but may not "
				    "be acknowledged; they may come again)",
				    hubconn_strerror(hc));
		} else if (!c->quiet && !c->json)
			fprintf(stderr, "ceptoar: %zu acknowledged\n", n);
	}
	free(seqs);
	return status;
}

/*
 * On SIGINT or SIGTERM: wait for a Pong so the acks sent so far are
 * known to be stored.  Deliveries arriving meanwhile are not printed and
 * not acknowledged; they come again next time.  A second signal stops
 * at once.
 */
static int
cmd_inbox_drain(struct hubconn *hc, bool unconfirmed)
{
	enum hubconn_status	st;

	if (!unconfirmed)
		return 0;
	cmd_inbox_stop = 0;
	st = hubconn_ping(hc, NULL);
	if (st == HUBCONN_FAILED)
		return client_fail(hubconn_exit(hc), "%s (the last "
		    "acknowledgements may not be stored; those deliveries may "
		    "come again)", hubconn_strerror(hc));
	return 0;
}

/*
 * --follow lost its connection: CMD_INBOX_LOST after a warning, so that
 * the caller reconnects; any other failure ends the command.
 */
static int
cmd_inbox_follow_fail(struct hubconn *hc)
{
	if (!hubconn_lost(hc))
		return client_fail(hubconn_exit(hc), "%s", hubconn_strerror(hc));
	client_warn("%s", hubconn_strerror(hc));
	return CMD_INBOX_LOST;
}

/*
 * --follow: print and ack as deliveries come, ping when it is quiet.
 * CMD_INBOX_LOST if the connection was lost.
 */
static int
cmd_inbox_follow(const struct client *c, struct hubconn *hc, bool no_ack,
    struct cmd_inbox_answers *ans)
{
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT, *in;
	Ceptoar__Ping		 ping = CEPTOAR__PING__INIT;
	enum hubconn_status	 st;
	struct sigaction	 sa;
	sigset_t		 block, waitmask;
	uint64_t		 seq, nonce = 0;
	bool			 ping_out = false, unconfirmed = false;
	int			 status = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cmd_inbox_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	hubconn_set_interrupt(hc, &cmd_inbox_stop, &waitmask);

	for (;;) {
		st = hubconn_recv(hc, ping_out ? hubconn_timeout_ms(hc) :
		    CMD_INBOX_KEEPALIVE * 1000, &in);
		if (st == HUBCONN_INTERRUPTED)
			return cmd_inbox_drain(hc, unconfirmed);
		if (st == HUBCONN_TIMEOUT) {
			if (ping_out) {
				client_warn("the hub stopped answering (no "
				    "pong within %d seconds)",
				    hubconn_timeout_ms(hc) / 1000);
				return CMD_INBOX_LOST;
			}
			ping.has_nonce = 1;
			randombytes_buf(&ping.nonce, sizeof(ping.nonce));
			nonce = ping.nonce;
			env.body_case = CEPTOAR__ENVELOPE__BODY_PING;
			env.ping = &ping;
			if (hubconn_send(hc, &env) != HUBCONN_OK)
				return cmd_inbox_follow_fail(hc);
			ping_out = true;
			continue;
		}
		if (st != HUBCONN_OK)
			return cmd_inbox_follow_fail(hc);
		if (cmd_inbox_answered(c, hc, ans, in)) {
			ceptoar__envelope__free_unpacked(in, NULL);
			continue;
		}
		switch (in->body_case) {
		case CEPTOAR__ENVELOPE__BODY_DELIVER:
			status = cmd_inbox_print(c, in->deliver);
			if (status == 0)
				status = cmd_inbox_answer(hc, ans,
				    in->deliver->delivery);
			if (status == 0 && !no_ack &&
			    in->deliver->delivery->has_seq) {
				seq = in->deliver->delivery->seq;
				if (cmd_inbox_ack(hc, &seq, 1) != HUBCONN_OK)
					status = cmd_inbox_follow_fail(hc);
				unconfirmed = true;
			}
			break;
		case CEPTOAR__ENVELOPE__BODY_PONG:
			if (in->pong->has_nonce && in->pong->nonce == nonce) {
				ping_out = false;
				unconfirmed = false;
			}
			break;
		case CEPTOAR__ENVELOPE__BODY_ERROR:
			/* A fatal error closes the connection; others warn. */
			status = hubconn_hub_error(hc, in->error);
			if (in->error->has_fatal && in->error->fatal &&
			    hubconn_lost(hc)) {
				client_warn("%s", hubconn_strerror(hc));
				status = CMD_INBOX_LOST;
			} else if (in->error->has_fatal && in->error->fatal)
				client_fail(status, "%s", hubconn_strerror(hc));
			else {
				client_warn("%s", hubconn_strerror(hc));
				status = 0;
			}
			break;
		default:
			break;	/* a newer hub may say more; nothing to do */
		}
		ceptoar__envelope__free_unpacked(in, NULL);
		if (status != 0)
			return status;
	}
}

/*
 * Connect, subscribe, then the batch or the follow loop.  With --follow
 * a lost connection (CMD_INBOX_LOST) is for the caller to retry; when
 * reconnecting, failing to connect counts as lost too.
 */
static int
cmd_inbox_session(struct client *c, Ceptoar__Subscribe *sub, bool follow,
    bool no_ack, struct cmd_inbox_answers *ans, bool reconnecting)
{
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT, *in;
	const Ceptoar__Welcome	*w;
	struct hubconn		*hc;
	uint64_t		 pending;
	int			 status;

	if ((status = client_connect(c, &hc)) != 0)
		return reconnecting && c->lost ? CMD_INBOX_LOST : status;
	w = hubconn_welcome(hc);
	ans->org = w != NULL && w->organisation != NULL ? w->organisation : "";

	sub->has_follow = 1;
	sub->follow = follow;
	env.body_case = CEPTOAR__ENVELOPE__BODY_SUBSCRIBE;
	env.subscribe = sub;
	if (hubconn_send(hc, &env) != HUBCONN_OK ||
	    hubconn_expect(hc, CEPTOAR__ENVELOPE__BODY_SUBSCRIBED,
	    &in) != HUBCONN_OK) {
		if (follow && hubconn_lost(hc)) {
			client_warn("%s", hubconn_strerror(hc));
			hubconn_free(hc);
			return CMD_INBOX_LOST;
		}
		return cmd_inbox_fail(hc);
	}
	pending = in->subscribed->pending;
	if (!follow && pending == 0 && !c->quiet && !c->json)
		fprintf(stderr, "ceptoar: nothing new (last seq %llu)\n",
		    (unsigned long long)in->subscribed->last_seq);
	ceptoar__envelope__free_unpacked(in, NULL);
	/* Whether or not the hub counted the limit in, no more will come. */
	if (sub->has_limit && sub->limit > 0 && pending > sub->limit)
		pending = sub->limit;
	if (reconnecting && !c->quiet)
		client_warn("connected again; %llu pending",
		    (unsigned long long)pending);

	if (follow)
		status = cmd_inbox_follow(c, hc, no_ack, ans);
	else
		status = cmd_inbox_batch(c, hc, pending, no_ack, ans);
	hubconn_free(hc);
	return status;
}

/* Wait secs before connecting again; -1 if SIGINT or SIGTERM came. */
static int
cmd_inbox_sleep(int secs)
{
	struct timespec	ts = { secs, 0 };
	sigset_t	mask;

	/* --follow blocked them so that none is missed; let them in here. */
	sigprocmask(SIG_SETMASK, NULL, &mask);
	sigdelset(&mask, SIGINT);
	sigdelset(&mask, SIGTERM);
	if (!cmd_inbox_stop)
		ppoll(NULL, 0, &ts, &mask);
	return cmd_inbox_stop ? -1 : 0;
}

/* Subscribe, then hand over to the batch or the follow loop. */
static int
cmd_inbox_exec(struct client *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "no-ack", no_argument, NULL, 'N' },
		{ "after", required_argument, NULL, 'a' },
		{ "limit", required_argument, NULL, 'l' },
		{ "answer-checks", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 }
	};
	Ceptoar__Subscribe	 sub = CEPTOAR__SUBSCRIBE__INIT;
	struct cmd_inbox_answers ans;
	uint64_t		 v;
	bool			 follow = false, no_ack = false;
	bool			 reconnecting = false;
	int			 ch, status, delay = 1;

	memset(&ans, 0, sizeof(ans));
	while ((ch = getopt_long(argc, argv, "f", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			follow = true;
			break;
		case 'N':
			no_ack = true;
			break;
		case 'a':
			if (cmd_inbox_number(optarg, UINT64_MAX, &v) == -1)
				return client_fail(EX_USAGE, "--after: \"%s\" "
				    "is not a sequence number", optarg);
			sub.has_after_seq = 1;
			sub.after_seq = v;
			break;
		case 'l':
			if (cmd_inbox_number(optarg, UINT32_MAX, &v) == -1)
				return client_fail(EX_USAGE, "--limit: \"%s\" "
				    "is not a number (0 means all)", optarg);
			sub.has_limit = 1;
			sub.limit = (uint32_t)v;
			break;
		case 'C':
			ans.enabled = true;
			break;
		default:
			return client_usage(&cmd_inbox_entry);
		}
	}
	if (optind != argc)
		return client_usage(&cmd_inbox_entry);
	for (;;) {
		status = cmd_inbox_session(c, &sub, follow, no_ack, &ans,
		    reconnecting);
		if (status != CMD_INBOX_LOST || cmd_inbox_stop)
			break;
		/*
		 * The hub restarted or the network failed: what we did not
		 * acknowledge comes again, from the hub's cursor.
		 */
		if (!c->quiet)
			client_warn("connecting again in %d s", delay);
		if (cmd_inbox_sleep(delay) == -1)
			break;
		if ((delay *= 2) > CMD_INBOX_BACKOFF_MAX)
			delay = CMD_INBOX_BACKOFF_MAX;
		reconnecting = true;
	}
	free(ans.v);
	return status == CMD_INBOX_LOST ? 0 : status;
}
