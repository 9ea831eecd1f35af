/*
 * What the two load tools share, so that the hub and Mosquitto are
 * measured the same way: the workload options, the payload that carries
 * its own send time, the latency histogram, the record of who received
 * what, and the one result line.
 */
#ifndef CEPTOAR_BENCH_H
#define CEPTOAR_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Latency histogram: 128 linear steps per power of two, in microseconds. */
#define BENCH_HIST_SUB_BITS	7
#define BENCH_HIST_SUB		(1u << BENCH_HIST_SUB_BITS)
#define BENCH_HIST_MAX_EXP	40		/* 2^40 us: 12 days */
#define BENCH_HIST_N		((BENCH_HIST_MAX_EXP - BENCH_HIST_SUB_BITS + 2) \
				    * BENCH_HIST_SUB)

/* The shortest payload that still holds its header. */
#define BENCH_PAYLOAD_MIN	96

struct bench_hist {
	uint64_t	count;
	uint64_t	max;
	uint64_t	bucket[BENCH_HIST_N];
};

/* The workload and the environment, as given on the command line. */
struct bench_opts {
	const char	*host;		/* hub or broker address */
	const char	*port;
	const char	*pki;		/* ca.crt, orgs/<id>.crt, orgs/<id>.key */
	const char	*pub_prefix;	/* publishers are pub-1..pub-P */
	const char	*sub_prefix;	/* subscribers are sub-1..sub-S */
	unsigned	 P, S, M, B, W;
	unsigned	 timeout;	/* seconds for the whole run */
	unsigned	 ack_batch;	/* delivery acks sent together */
	unsigned	 concurrency;	/* connections set up at once */
	unsigned	 idle;		/* --idle N: hold N idle connections */
	unsigned	 hold;		/* seconds to hold them (0: until signal) */
	long		 hub_pid;	/* read this process's RSS (idle mode) */
	bool		 verbose;
};

/*
 * Who received what: one bit per (subscriber, publisher, message), so a
 * duplicate is told from a new delivery and the missing ones counted.
 */
struct bench_track {
	unsigned	 P, S, M;
	uint8_t		*seen;
	uint64_t	*got;		/* distinct messages per subscriber */
	uint64_t	 deliveries;	/* distinct, all subscribers */
	uint64_t	 dup;
	uint64_t	 foreign;	/* not a message of this run */
};

/* Nanoseconds on the monotonic clock, shared by sender and receiver. */
int64_t	 bench_now_ns(void);

/*
 * Parse the options common to both tools; the last argument names the
 * tool in the usage message, which is printed (exit 2) on anything not
 * understood.
 */
void	 bench_parse_opts(struct bench_opts *, int, char **, const char *);

/* Record one latency in microseconds. */
void	 bench_hist_add(struct bench_hist *, uint64_t);

/* The latency below which fraction q (0..1) of the samples fall, in us. */
uint64_t bench_hist_quantile(const struct bench_hist *, double);

/*
 * Write a payload of exactly len bytes (len >= BENCH_PAYLOAD_MIN) into
 * buf: run id, publisher, message index and send time, then padding.
 * No NUL is written; the payload is printable ASCII, valid as free text.
 */
void	 bench_payload(char *buf, size_t len, uint32_t run, unsigned pub,
	    unsigned idx, int64_t sent_ns);

/* Read back what bench_payload wrote; -1 if buf is not one of ours. */
int	 bench_payload_parse(const char *buf, size_t len, uint32_t run,
	    unsigned *pub, unsigned *idx, int64_t *sent_ns);

/* Size the record for P x M messages to S subscribers; -1 on ENOMEM. */
int	 bench_track_init(struct bench_track *, unsigned, unsigned, unsigned);

/* Note that sub received (pub, idx): 0 new, 1 duplicate, -1 not ours. */
int	 bench_track_mark(struct bench_track *, unsigned, unsigned, unsigned);

/* Deliveries that should have arrived and did not. */
uint64_t bench_track_missing(const struct bench_track *);

void	 bench_track_free(struct bench_track *);

/*
 * Print the one result line on stdout, and the fuller figures (maxima,
 * medians of acks, submits acknowledged per second over submit_secs,
 * errors, the tool's own CPU) as a "detail" line on stderr.
 */
void	 bench_report(const char *, const struct bench_opts *,
	    const struct bench_track *, double, double,
	    const struct bench_hist *, const struct bench_hist *, uint64_t,
	    const char *);

/* Resident set size and its peak of process pid in KiB; -1 if unknown. */
int	 bench_proc_rss(long, long *, long *);

/* A random 32-bit run id, so a rerun never matches an earlier payload. */
uint32_t bench_run_id(void);

#endif
