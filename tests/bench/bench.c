/*
 * The measuring half of the load tools: options, payloads that carry
 * their send time, latency histograms, the delivery record and the
 * result line.  Both tools link it, so neither can measure differently.
 */
#include <sys/random.h>
#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

#define BENCH_PAYLOAD_TAG	"ceptoar-bench"

int64_t
bench_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A positive number option, or exit naming the option. */
static unsigned
bench_number(const char *name, const char *s, unsigned min)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > UINT_MAX /
	    2) {
		fprintf(stderr, "%s must be a number of at least %u, not '%s'\n",
		    name, min, s);
		exit(2);
	}
	return (unsigned)v;
}

/* Split "host:port" or "[v6]:port" into the options; exit if malformed. */
static void
bench_address(struct bench_opts *o, char *s)
{
	char	*colon;

	if (s[0] == '[' && (colon = strstr(s, "]:")) != NULL) {
		*colon = '\0';
		o->host = s + 1;
		o->port = colon + 2;
	} else if ((colon = strrchr(s, ':')) != NULL && colon != s) {
		*colon = '\0';
		o->host = s;
		o->port = colon + 1;
	} else {
		fprintf(stderr, "address must be host:port, not '%s'\n", s);
		exit(2);
	}
}

/* Print the options both tools take, then exit 2. */
static void __attribute__((noreturn))
bench_usage(const char *prog)
{
	fprintf(stderr,
	    "usage: %s -a host:port -k pki [-P n] [-S n] [-M n] [-B bytes] "
	    "[-W n] [-t secs]\n"
	    "       [--ack-batch n] [--concurrency n] [--idle n [--hold secs] "
	    "[--hub-pid pid]] [-v]\n"
	    "  -a, --addr         hub or broker address (default "
	    "127.0.0.1:7443)\n"
	    "  -k, --pki          folder with ca.crt and orgs/<id>.crt, "
	    "orgs/<id>.key\n"
	    "  -P, -S             publishers (pub-1..) and subscribers "
	    "(sub-1..)\n"
	    "  -M                 messages per publisher\n"
	    "  -B                 payload bytes per message (at least %d)\n"
	    "  -W                 unacknowledged submits per publisher\n"
	    "  -t, --timeout      seconds for the whole run (default 300)\n"
	    "  --ack-batch        deliveries acknowledged together (default "
	    "64)\n"
	    "  --concurrency      connections set up at once (default 64)\n"
	    "  --idle N           open N subscriber connections, hold them, "
	    "report memory\n"
	    "  --hold             seconds to hold idle connections (default "
	    "5; 0 until signal)\n"
	    "  --hub-pid          process whose RSS is read before and after "
	    "(idle mode)\n"
	    "  --pub-prefix, --sub-prefix  organisation id prefixes (pub-, "
	    "sub-)\n", prog, BENCH_PAYLOAD_MIN);
	exit(2);
}

void
bench_parse_opts(struct bench_opts *o, int argc, char **argv,
    const char *prog)
{
	enum { OPT_ACK = 256, OPT_CONC, OPT_IDLE, OPT_HOLD, OPT_PID,
	    OPT_PUBP, OPT_SUBP };
	static const struct option longopts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "pki", required_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 't' },
		{ "ack-batch", required_argument, NULL, OPT_ACK },
		{ "concurrency", required_argument, NULL, OPT_CONC },
		{ "idle", required_argument, NULL, OPT_IDLE },
		{ "hold", required_argument, NULL, OPT_HOLD },
		{ "hub-pid", required_argument, NULL, OPT_PID },
		{ "pub-prefix", required_argument, NULL, OPT_PUBP },
		{ "sub-prefix", required_argument, NULL, OPT_SUBP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char	 defaddr[] = "127.0.0.1:7443";
	int		 c;

	memset(o, 0, sizeof(*o));
	bench_address(o, defaddr);
	o->pki = NULL;
	o->pub_prefix = "pub-";
	o->sub_prefix = "sub-";
	o->P = 1;
	o->S = 1;
	o->M = 100;
	o->B = 2048;
	o->W = 1;
	o->timeout = 300;
	o->ack_batch = 64;
	o->concurrency = 64;
	o->hold = 5;
	while ((c = getopt_long(argc, argv, "a:k:P:S:M:B:W:t:vh", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'a':
			bench_address(o, optarg);
			break;
		case 'k':
			o->pki = optarg;
			break;
		case 'P':
			o->P = bench_number("-P", optarg, 1);
			break;
		case 'S':
			o->S = bench_number("-S", optarg, 1);
			break;
		case 'M':
			o->M = bench_number("-M", optarg, 1);
			break;
		case 'B':
			o->B = bench_number("-B", optarg, BENCH_PAYLOAD_MIN);
			break;
		case 'W':
			o->W = bench_number("-W", optarg, 1);
			break;
		case 't':
			o->timeout = bench_number("--timeout", optarg, 1);
			break;
		case OPT_ACK:
			o->ack_batch = bench_number("--ack-batch", optarg, 1);
			break;
		case OPT_CONC:
			o->concurrency = bench_number("--concurrency", optarg,
			    1);
			break;
		case OPT_IDLE:
			o->idle = bench_number("--idle", optarg, 1);
			break;
		case OPT_HOLD:
			o->hold = bench_number("--hold", optarg, 0);
			break;
		case OPT_PID:
			o->hub_pid = (long)bench_number("--hub-pid", optarg, 1);
			break;
		case OPT_PUBP:
			o->pub_prefix = optarg;
			break;
		case OPT_SUBP:
			o->sub_prefix = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		default:
			bench_usage(prog);
		}
	}
	if (optind != argc || o->pki == NULL)
		bench_usage(prog);
	/* One bit per delivery must fit comfortably in memory. */
	if ((uint64_t)o->P * o->M * o->S > (uint64_t)1 << 34) {
		fprintf(stderr, "P x M x S is too large to track\n");
		exit(2);
	}
}

/* The bucket of a value: exact below 128 us, then 128 steps per octave. */
static size_t
bench_hist_index(uint64_t v)
{
	unsigned	e;

	if (v < BENCH_HIST_SUB)
		return (size_t)v;
	e = 63 - (unsigned)__builtin_clzll(v);
	if (e > BENCH_HIST_MAX_EXP)
		return BENCH_HIST_N - 1;
	return (size_t)(e - BENCH_HIST_SUB_BITS + 1) * BENCH_HIST_SUB +
	    (size_t)((v >> (e - BENCH_HIST_SUB_BITS)) & (BENCH_HIST_SUB - 1));
}

/* The middle of a bucket, the value a quantile in it is reported as. */
static uint64_t
bench_hist_value(size_t i)
{
	unsigned	e;
	uint64_t	low, width;

	if (i < BENCH_HIST_SUB)
		return i;
	e = (unsigned)(i / BENCH_HIST_SUB) + BENCH_HIST_SUB_BITS - 1;
	width = (uint64_t)1 << (e - BENCH_HIST_SUB_BITS);
	low = ((uint64_t)1 << e) + (uint64_t)(i % BENCH_HIST_SUB) * width;
	return low + width / 2;
}

void
bench_hist_add(struct bench_hist *h, uint64_t us)
{
	h->bucket[bench_hist_index(us)]++;
	h->count++;
	if (us > h->max)
		h->max = us;
}

uint64_t
bench_hist_quantile(const struct bench_hist *h, double q)
{
	uint64_t	want, seen = 0, v;
	size_t		i;

	if (h->count == 0)
		return 0;
	want = (uint64_t)((double)h->count * q + 0.5);
	if (want < 1)
		want = 1;
	for (i = 0; i < BENCH_HIST_N; i++) {
		seen += h->bucket[i];
		if (seen >= want) {
			v = bench_hist_value(i);
			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}

void
bench_payload(char *buf, size_t len, uint32_t run, unsigned pub, unsigned idx,
    int64_t sent_ns)
{
	char	head[BENCH_PAYLOAD_MIN + 1];
	int	n;

	n = snprintf(head, sizeof(head), BENCH_PAYLOAD_TAG " run=%08" PRIx32
	    " pub=%u idx=%u t=%" PRId64 " ", run, pub, idx, sent_ns);
	if (n < 0 || (size_t)n > len)
		n = (int)len;
	memcpy(buf, head, (size_t)n);
	memset(buf + n, '.', len - (size_t)n);
}

int
bench_payload_parse(const char *buf, size_t len, uint32_t run, unsigned *pub,
    unsigned *idx, int64_t *sent_ns)
{
	char		head[BENCH_PAYLOAD_MIN + 1];
	uint32_t	r;
	long long	t;

	if (len > BENCH_PAYLOAD_MIN)
		len = BENCH_PAYLOAD_MIN;
	memcpy(head, buf, len);
	head[len] = '\0';
	if (sscanf(head, BENCH_PAYLOAD_TAG " run=%" SCNx32 " pub=%u idx=%u "
	    "t=%lld", &r, pub, idx, &t) != 4 || r != run)
		return -1;
	*sent_ns = (int64_t)t;
	return 0;
}

int
bench_track_init(struct bench_track *t, unsigned P, unsigned S, unsigned M)
{
	uint64_t	bits = (uint64_t)P * M * S;

	memset(t, 0, sizeof(*t));
	t->P = P;
	t->S = S;
	t->M = M;
	if ((t->seen = calloc((size_t)(bits / 8 + 1), 1)) == NULL ||
	    (t->got = calloc(S, sizeof(*t->got))) == NULL) {
		free(t->seen);
		return -1;
	}
	return 0;
}

int
bench_track_mark(struct bench_track *t, unsigned sub, unsigned pub,
    unsigned idx)
{
	uint64_t	bit;

	if (sub >= t->S || pub >= t->P || idx >= t->M) {
		t->foreign++;
		return -1;
	}
	bit = ((uint64_t)sub * t->P + pub) * t->M + idx;
	if (t->seen[bit / 8] & (1u << (bit % 8))) {
		t->dup++;
		return 1;
	}
	t->seen[bit / 8] |= (uint8_t)(1u << (bit % 8));
	t->got[sub]++;
	t->deliveries++;
	return 0;
}

uint64_t
bench_track_missing(const struct bench_track *t)
{
	return (uint64_t)t->P * t->M * t->S - t->deliveries;
}

void
bench_track_free(struct bench_track *t)
{
	free(t->seen);
	free(t->got);
	memset(t, 0, sizeof(*t));
}

void
bench_report(const char *name, const struct bench_opts *o,
    const struct bench_track *t, double secs, double submit_secs,
    const struct bench_hist *e2e, const struct bench_hist *ack,
    uint64_t errors, const char *note)
{
	struct rusage	ru;
	double		rate = secs > 0 ? (double)t->deliveries / secs : 0;
	double		cpu = 0;

	/* The tool's own CPU: on a small machine it competes with the hub. */
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;

	printf("%s P=%u S=%u M=%u B=%u W=%u deliveries=%" PRIu64 " secs=%.3f "
	    "deliv_per_s=%.0f e2e_p50_ms=%.3f e2e_p99_ms=%.3f "
	    "ack_p99_ms=%.3f missing=%" PRIu64 " dup=%" PRIu64 "\n", name,
	    o->P, o->S, o->M, o->B, o->W, t->deliveries, secs, rate,
	    (double)bench_hist_quantile(e2e, 0.50) / 1000.0,
	    (double)bench_hist_quantile(e2e, 0.99) / 1000.0,
	    (double)bench_hist_quantile(ack, 0.99) / 1000.0,
	    bench_track_missing(t), t->dup);
	fflush(stdout);
	fprintf(stderr, "detail %s e2e_max_ms=%.3f ack_p50_ms=%.3f "
	    "ack_max_ms=%.3f acks=%" PRIu64 " submit_per_s=%.0f errors=%"
	    PRIu64 " foreign=%" PRIu64 " tool_cpu_s=%.2f%s%s\n", name,
	    (double)e2e->max / 1000.0,
	    (double)bench_hist_quantile(ack, 0.50) / 1000.0,
	    (double)ack->max / 1000.0, ack->count, submit_secs > 0 ?
	    (double)ack->count / submit_secs : 0, errors, t->foreign, cpu,
	    note ? " note=" : "", note ? note : "");
}

int
bench_proc_rss(long pid, long *rss, long *hwm)
{
	char	 path[64], line[256];
	FILE	*f;

	*rss = *hwm = -1;
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			*rss = strtol(line + 6, NULL, 10);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			*hwm = strtol(line + 6, NULL, 10);
	}
	fclose(f);
	return *rss >= 0 ? 0 : -1;
}

uint32_t
bench_run_id(void)
{
	uint32_t	r;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (uint32_t)bench_now_ns() ^ (uint32_t)time(NULL);
	return r;
}
