/*
 * Metrics, health and readiness.  The registry is plain structs: labelled
 * counters the loop updates with one call, histograms with fixed buckets
 * of atomics that any thread may observe (durable.c's sync thread times
 * its fsyncs), and gauges read from the hub's state when scraped.
 *
 * They are served by libevent's evhttp on a listener of their own,
 * separate from the clients' TLS port: plain HTTP, which is fine on
 * loopback, where only local processes (the Prometheus server or its
 * agent, a load balancer's health check through a local proxy) reach it.
 * A non-loopback address is refused unless metrics_remote says the
 * operator has fenced it off otherwise: nothing here is secret, but the
 * counts and error codes say who is busy, and nothing authenticates.
 *
 *   /metrics   Prometheus text exposition format 0.0.4
 *   /healthz   200 "ok" while the loop runs
 *   /readyz    200 "ok" when the store's last commit and sync worked,
 *              the audit trail is writable and the client listener is
 *              up; 503 with the reason otherwise
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "ceptoard.h"
#include "names.h"

/* Distinct label sets per counter; more are counted under "other". */
#define METRICS_MAX_SERIES	64
/* Longest label value kept; longer ones are cut. */
#define METRICS_LABEL_LEN	48
/* Seconds a scrape reuses the store's held-for-review figures. */
#define METRICS_HELD_CACHE_SECS	5
/* Seconds an HTTP client of the metrics listener may stay silent. */
#define METRICS_HTTP_TIMEOUT	10

struct metrics_series {
	char		 l[2][METRICS_LABEL_LEN];
	uint64_t	 value;
};

struct metrics_family {
	const char		*name;
	const char		*help;
	const char		*label[2];	/* NULL: unused */
	struct metrics_series	*series;
	size_t			 nseries;
};

static struct metrics_family metrics_counters[METRICS_NCOUNTERS] = {
	[METRICS_SESSIONS_OPENED] = { "ceptoard_sessions_opened_total",
	    "Client connections accepted.", { NULL, NULL } },
	[METRICS_SESSIONS_CLOSED] = { "ceptoard_sessions_closed_total",
	    "Client connections closed, by the first words of the reason.",
	    { "reason", NULL } },
	[METRICS_TLS_FAILURES] = { "ceptoard_tls_handshake_failures_total",
	    "Connections closed before their TLS handshake completed, by "
	    "reason.", { "reason", NULL } },
	[METRICS_SUBMITS] = { "ceptoard_submits_total",
	    "Submits answered, by message kind and result (accepted, "
	    "duplicate, conflict); refusals are in "
	    "ceptoard_requests_refused_total.", { "kind", "result" } },
	[METRICS_REFUSALS] = { "ceptoard_requests_refused_total",
	    "Wire errors sent, by request and error code.",
	    { "request", "code" } },
	[METRICS_DELIVERIES_SENT] = { "ceptoard_deliveries_sent_total",
	    "Deliveries sent to recipients (live or from the store).",
	    { NULL, NULL } },
	[METRICS_DELIVERIES_ACKED] = { "ceptoard_deliveries_acked_total",
	    "Deliveries acknowledged by their recipients for the first time.",
	    { NULL, NULL } },
	[METRICS_COMMITS_FAILED] = { "ceptoard_store_failures_total",
	    "Group commits that failed, by phase (commit, sync).",
	    { "phase", NULL } },
	[METRICS_TAXII_REQUESTS] = { "ceptoard_taxii_requests_total",
	    "TAXII requests answered, by endpoint (discovery, api_root, "
	    "collections, collection, objects, objects_post, manifest, "
	    "object, versions, status, other) and HTTP status.",
	    { "endpoint", "status" } },
};

/* Up to this many finite bucket bounds per histogram. */
#define METRICS_MAX_BOUNDS	16

struct metrics_hist {
	const char		*name;
	const char		*help;
	double			 bounds[METRICS_MAX_BOUNDS];
	size_t			 nbounds;
	/* counts[i]: observations in bucket i alone; the last is +Inf. */
	_Atomic uint64_t	 counts[METRICS_MAX_BOUNDS + 1];
	_Atomic uint64_t	 sum_micro;	/* the sum, in millionths */
};

static struct metrics_hist metrics_hists[METRICS_NHISTOGRAMS] = {
	[METRICS_GROUP_SIZE] = { "ceptoard_group_commit_submits",
	    "Submits written per group commit.",
	    { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024 }, 11 },
	[METRICS_FSYNC_SECONDS] = { "ceptoard_fsync_seconds",
	    "Duration of one sync of the store (and audit trail) by the sync "
	    "thread.", { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	    0.1, 0.25, 0.5, 1, 2.5, 5 }, 13 },
};

static struct {
	struct evhttp		*http;
	char			 address[80];
	int			 store_fd, wal_fd, audit_fd;
	const char		*request;	/* in hand, for refusals */
	char			 store_error[256];	/* "": it worked */
	int64_t			 started;
	/* Held for review, from the store, cached for a few seconds. */
	int64_t			 held_at;
	uint64_t		 held;
	int64_t			 held_oldest;
	bool			 held_ok;
} met = { .store_fd = -1, .wal_fd = -1, .audit_fd = -1 };

/* Copy a label value, keeping only characters safe in any label. */
static void
metrics_label(char *dst, const char *src)
{
	size_t	i;

	for (i = 0; src[i] != '\0' && i < METRICS_LABEL_LEN - 1; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.'))
			c = '_';
		dst[i] = (char)c;
	}
	dst[i] = '\0';
}

void
metrics_add(enum metrics_counter m, uint64_t n, const char *l1,
    const char *l2)
{
	struct metrics_family	*f = &metrics_counters[m];
	struct metrics_series	*s, *v;
	char			 a[METRICS_LABEL_LEN], b[METRICS_LABEL_LEN];
	size_t			 i;

	metrics_label(a, f->label[0] && l1 ? l1 : "");
	metrics_label(b, f->label[1] && l2 ? l2 : "");
	for (i = 0; i < f->nseries; i++) {
		s = &f->series[i];
		if (strcmp(s->l[0], a) == 0 && strcmp(s->l[1], b) == 0) {
			s->value += n;
			return;
		}
	}
	/* Peer-influenced values must not grow the registry without bound. */
	if (f->nseries >= METRICS_MAX_SERIES - 1) {
		snprintf(a, sizeof(a), "%s", f->label[0] ? "other" : "");
		snprintf(b, sizeof(b), "%s", f->label[1] ? "other" : "");
		for (i = 0; i < f->nseries; i++) {
			s = &f->series[i];
			if (strcmp(s->l[0], a) == 0 &&
			    strcmp(s->l[1], b) == 0) {
				s->value += n;
				return;
			}
		}
		if (f->nseries >= METRICS_MAX_SERIES)
			return;
	}
	if (f->series == NULL &&
	    (f->series = calloc(METRICS_MAX_SERIES, sizeof(*v))) == NULL)
		return;		/* out of memory: a count lost, no crash */
	s = &f->series[f->nseries++];
	memcpy(s->l[0], a, sizeof(a));
	memcpy(s->l[1], b, sizeof(b));
	s->value = n;
}

void
metrics_observe(enum metrics_histogram m, double v)
{
	struct metrics_hist	*h = &metrics_hists[m];
	size_t			 i;

	for (i = 0; i < h->nbounds && v > h->bounds[i]; i++)
		;
	atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
	if (v > 0)
		atomic_fetch_add_explicit(&h->sum_micro,
		    (uint64_t)(v * 1e6 + 0.5), memory_order_relaxed);
}

void
metrics_request(const char *name)
{
	met.request = name;
}

void
metrics_refused(Ceptoar__ErrorCode code)
{
	metrics_count(METRICS_REFUSALS, met.request ? met.request : "none",
	    names_lookup(names_error_code, code));
}

/*
 * The class of a free-text reason: its words up to the first colon or
 * parenthesis, which for the hub's reasons is the kind of failure
 * ("tls", "timeout", "client certificate refused", an error code) and
 * never the detail that follows it.
 */
static void
metrics_reason(const char *reason, bool under_tls, char *out, size_t len)
{
	size_t	n;

	if (reason == NULL || *reason == '\0')
		reason = "unknown";
	if (under_tls && strncmp(reason, "tls: ", 5) == 0 && reason[5] != '\0')
		reason += 5;
	n = strcspn(reason, ":(");
	while (n > 0 && reason[n - 1] == ' ')
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(out, reason, n);
	out[n] = '\0';
}

void
metrics_session_closed(const char *reason, bool in_handshake)
{
	char	cls[METRICS_LABEL_LEN], tls[METRICS_LABEL_LEN];

	metrics_reason(reason, false, cls, sizeof(cls));
	metrics_count(METRICS_SESSIONS_CLOSED, cls, NULL);
	if (!in_handshake)
		return;
	/* "tls: client certificate refused: why" is counted by its class. */
	metrics_reason(reason, true, tls, sizeof(tls));
	metrics_count(METRICS_TLS_FAILURES, tls, NULL);
}

void
metrics_store_state(const char *phase, const char *cause)
{
	if (cause == NULL) {
		met.store_error[0] = '\0';
		return;
	}
	metrics_count(METRICS_COMMITS_FAILED, phase, NULL);
	snprintf(met.store_error, sizeof(met.store_error), "the store's last "
	    "%s failed: %s", phase, cause);
}

/* The size of an open file, or -1. */
static int64_t
metrics_fsize(int fd)
{
	struct stat	sb;

	if (fd == -1 || fstat(fd, &sb) == -1)
		return -1;
	return (int64_t)sb.st_size;
}

/* Refresh the held-for-review figures when the cache is stale. */
static void
metrics_held_refresh(int64_t now)
{
	char	*cause = NULL, esc[300];

	if (met.held_at != 0 && now - met.held_at < METRICS_HELD_CACHE_SECS)
		return;
	met.held_at = now;
	met.held_ok = store_held_count(hub->store, &met.held, &met.held_oldest,
	    &cause) == 0;
	if (!met.held_ok) {
		log_event(LOG_LVL_WARN, "store.error", "op=held cause=%s",
		    log_escape(cause, esc, sizeof(esc)));
		free(cause);
	}
}

static void
metrics_header(struct evbuffer *b, const char *name, const char *help,
    const char *type)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* Write one counter family: every series, or a zero when none yet. */
static void
metrics_write_counter(struct evbuffer *b, const struct metrics_family *f)
{
	const struct metrics_series	*s;
	size_t				 i;

	metrics_header(b, f->name, f->help, "counter");
	if (f->label[0] == NULL) {
		evbuffer_add_printf(b, "%s %llu\n", f->name,
		    (unsigned long long)(f->nseries ? f->series[0].value : 0));
		return;
	}
	for (i = 0; i < f->nseries; i++) {
		s = &f->series[i];
		if (f->label[1] != NULL)
			evbuffer_add_printf(b, "%s{%s=\"%s\",%s=\"%s\"} %llu\n",
			    f->name, f->label[0], s->l[0], f->label[1], s->l[1],
			    (unsigned long long)s->value);
		else
			evbuffer_add_printf(b, "%s{%s=\"%s\"} %llu\n", f->name,
			    f->label[0], s->l[0], (unsigned long long)s->value);
	}
}

/* Write one histogram: cumulative buckets, +Inf, sum and count. */
static void
metrics_write_hist(struct evbuffer *b, struct metrics_hist *h)
{
	uint64_t	cum = 0;
	size_t		i;

	metrics_header(b, h->name, h->help, "histogram");
	for (i = 0; i <= h->nbounds; i++) {
		cum += atomic_load_explicit(&h->counts[i],
		    memory_order_relaxed);
		if (i < h->nbounds)
			evbuffer_add_printf(b, "%s_bucket{le=\"%g\"} %llu\n",
			    h->name, h->bounds[i], (unsigned long long)cum);
		else
			evbuffer_add_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n",
			    h->name, (unsigned long long)cum);
	}
	evbuffer_add_printf(b, "%s_sum %.6f\n%s_count %llu\n", h->name,
	    (double)atomic_load_explicit(&h->sum_micro, memory_order_relaxed)
	    / 1e6, h->name, (unsigned long long)cum);
}

/* One gauge with its header. */
static void
metrics_gauge(struct evbuffer *b, const char *name, const char *help,
    double v)
{
	metrics_header(b, name, help, "gauge");
	evbuffer_add_printf(b, "%s %.17g\n", name, v);
}

/* The whole exposition. */
static void
metrics_write(struct evbuffer *b)
{
	int64_t	now = (int64_t)time(NULL), v;
	size_t	i;

	metrics_header(b, "ceptoard_build_info", "The hub's version.",
	    "gauge");
	evbuffer_add_printf(b, "ceptoard_build_info{version=\"%s\"} 1\n",
	    CEPTOARD_VERSION);
	metrics_gauge(b, "ceptoard_start_time_seconds",
	    "When the hub started, in seconds since the epoch.",
	    (double)met.started);
	metrics_gauge(b, "ceptoard_sessions_open",
	    "Client connections open now.", (double)hub->nsessions);
	for (i = 0; i < METRICS_NCOUNTERS; i++)
		metrics_write_counter(b, &metrics_counters[i]);
	for (i = 0; i < METRICS_NHISTOGRAMS; i++)
		metrics_write_hist(b, &metrics_hists[i]);
	metrics_held_refresh(now);
	if (met.held_ok) {
		metrics_gauge(b, "ceptoard_held_for_review",
		    "Messages a hop holder still has to review and forward.",
		    (double)met.held);
		metrics_gauge(b, "ceptoard_held_for_review_oldest_seconds",
		    "Age of the oldest message held for review (0: none).",
		    met.held > 0 && met.held_oldest > 0 &&
		    now > met.held_oldest ? (double)(now - met.held_oldest) :
		    0.0);
	}
	metrics_header(b, "ceptoard_store_bytes", "Size of the store's "
	    "files: the database and its write-ahead log.", "gauge");
	if ((v = metrics_fsize(met.store_fd)) >= 0)
		evbuffer_add_printf(b, "ceptoard_store_bytes{file=\"db\"} "
		    "%lld\n", (long long)v);
	if ((v = metrics_fsize(met.wal_fd)) >= 0)
		evbuffer_add_printf(b, "ceptoard_store_bytes{file=\"wal\"} "
		    "%lld\n", (long long)v);
	if ((v = metrics_fsize(met.audit_fd)) >= 0)
		metrics_gauge(b, "ceptoard_audit_trail_bytes",
		    "Size of the audit trail.", (double)v);
	metrics_gauge(b, "ceptoard_ready", "1 when /readyz answers 200.",
	    0.0 + (hub->listener != NULL && !hub->shutting_down &&
	    met.store_error[0] == '\0' && !audit_has_failed()));
}

/* Why the hub is not ready, or NULL when it is. */
static const char *
metrics_unready(void)
{
	if (hub->shutting_down)
		return "the hub is shutting down";
	if (hub->listener == NULL)
		return "the client listener is not up";
	if (hub->store == NULL)
		return "the store is not open";
	if (met.store_error[0] != '\0')
		return met.store_error;
	if (audit_has_failed())
		return "the audit trail cannot be written";
	return NULL;
}

/* Answer with a status and a short plain-text body. */
static void
metrics_reply(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evbuffer	*b;

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add_printf(b, "%s\n", text);
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

/* Every request: route by path. */
static void
metrics_http_cb(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri;
	const char		*path;
	const char		*why;
	struct evbuffer		*b;
	char			 text[300];

	uri = evhttp_request_get_evhttp_uri(req);
	if (uri == NULL || (path = evhttp_uri_get_path(uri)) == NULL)
		path = "";
	if (strcmp(path, "/metrics") == 0) {
		if ((b = evbuffer_new()) == NULL) {
			evhttp_send_error(req, HTTP_INTERNAL, NULL);
			return;
		}
		metrics_write(b);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
		evhttp_send_reply(req, HTTP_OK, "OK", b);
		evbuffer_free(b);
	} else if (strcmp(path, "/healthz") == 0)
		metrics_reply(req, HTTP_OK, "OK", "ok");
	else if (strcmp(path, "/readyz") == 0) {
		if ((why = metrics_unready()) == NULL)
			metrics_reply(req, HTTP_OK, "OK", "ok");
		else {
			snprintf(text, sizeof(text), "not ready: %s", why);
			metrics_reply(req, 503, "Service Unavailable", text);
		}
	} else
		metrics_reply(req, HTTP_NOTFOUND, "Not Found",
		    "not found: try /metrics, /healthz or /readyz");
}

/* Whether a socket address is a loopback one. */
static bool
metrics_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*in = (const void *)ss;
	const struct sockaddr_in6	*in6 = (const void *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
		    in6->sin6_addr.s6_addr[12] == 127);
	return false;
}

/* Split "host:port" or "[v6]:port" and bind it with evhttp. */
static struct evhttp_bound_socket *
metrics_bind(const char *addr, char **cause)
{
	struct evhttp_bound_socket	*bs;
	char				 host[256], *colon, *end;
	unsigned long			 port;

	if (addr[0] == '[') {
		snprintf(host, sizeof(host), "%s", addr + 1);
		if ((colon = strstr(host, "]:")) == NULL)
			goto bad;
		*colon = '\0';
		colon++;
	} else {
		snprintf(host, sizeof(host), "%s", addr);
		if ((colon = strrchr(host, ':')) == NULL)
			goto bad;
		*colon = '\0';
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 ||
	    port > 65535 || host[0] == '\0')
		goto bad;
	if ((bs = evhttp_bind_socket_with_handle(met.http, host,
	    (uint16_t)port)) == NULL) {
		cause_set(cause, "metrics_listen %s: cannot listen there: %s",
		    addr, strerror(errno));
		return NULL;
	}
	return bs;
bad:
	cause_set(cause, "metrics_listen \"%s\": not host:port or [v6]:port",
	    addr);
	return NULL;
}

int
metrics_start(struct event_base *base, int fd, const char *addr,
    char **cause)
{
	struct evhttp_bound_socket	*bs;
	struct sockaddr_storage		 ss;
	socklen_t			 sslen = sizeof(ss);
	char				 host[INET6_ADDRSTRLEN], serv[8];
	const char			*store = hub->conf.store_path;
	char				*wal;

	*cause = NULL;
	met.started = (int64_t)time(NULL);
	if (fd == -1 && addr == NULL)
		return 0;
	if ((met.http = evhttp_new(base)) == NULL) {
		cause_set(cause, "metrics: cannot set up the HTTP server");
		return -1;
	}
	evhttp_set_allowed_methods(met.http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(met.http, METRICS_HTTP_TIMEOUT);
	evhttp_set_max_headers_size(met.http, 8192);
	evhttp_set_max_body_size(met.http, 0);
	evhttp_set_gencb(met.http, metrics_http_cb, NULL);
	bs = fd != -1 ? evhttp_accept_socket_with_handle(met.http, fd) :
	    metrics_bind(addr, cause);
	if (bs == NULL) {
		if (*cause == NULL)
			cause_set(cause, "metrics: cannot accept on the "
			    "listener handed over");
		goto fail;
	}
	fd = evhttp_bound_socket_get_fd(bs);
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1 ||
	    getnameinfo((struct sockaddr *)&ss, sslen, host, sizeof(host),
	    serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		cause_set(cause, "metrics_listen %s: cannot read the address "
		    "bound", addr ? addr : "");
		goto fail;
	}
	snprintf(met.address, sizeof(met.address), ss.ss_family == AF_INET6 ?
	    "[%s]:%s" : "%s:%s", host, serv);
	if (!metrics_loopback(&ss) && !hub->conf.metrics_remote) {
		cause_set(cause, "metrics_listen %s is not a loopback address: "
		    "the metrics listener speaks plain HTTP without "
		    "authentication; use 127.0.0.1 or [::1], or set "
		    "metrics_remote: 1 and firewall it", met.address);
		goto fail;
	}
	/* Read-only, for their sizes, which the chroot hides by path. */
	if (strncmp(store, "sqlite:", 7) == 0)
		store += 7;
	met.store_fd = open(store, O_RDONLY | O_CLOEXEC);
	if (asprintf(&wal, "%s-wal", store) != -1) {
		met.wal_fd = open(wal, O_RDONLY | O_CLOEXEC);
		free(wal);
	}
	if (hub->conf.audit_log != NULL)
		met.audit_fd = open(hub->conf.audit_log, O_RDONLY | O_CLOEXEC);
	log_event(LOG_LVL_INFO, "metrics.listen", "address=%s paths=\"/metrics "
	    "/healthz /readyz\"%s", met.address, metrics_loopback(&ss) ? "" :
	    " warning=\"not loopback: plain HTTP, no authentication\"");
	return 0;
fail:
	evhttp_free(met.http);
	met.http = NULL;
	return -1;
}

const char *
metrics_address(void)
{
	return met.http != NULL ? met.address : NULL;
}

void
metrics_stop(void)
{
	size_t	i;

	if (met.http != NULL)
		evhttp_free(met.http);
	met.http = NULL;
	if (met.store_fd != -1)
		close(met.store_fd);
	if (met.wal_fd != -1)
		close(met.wal_fd);
	if (met.audit_fd != -1)
		close(met.audit_fd);
	met.store_fd = met.wal_fd = met.audit_fd = -1;
	for (i = 0; i < METRICS_NCOUNTERS; i++) {
		free(metrics_counters[i].series);
		metrics_counters[i].series = NULL;
		metrics_counters[i].nseries = 0;
	}
}
