/*
 * The protobuf session over one connection (conn.c): its identity and
 * counters, an explicit state, framed reading with hard caps, bounded
 * output, and exactly one close path, which ends the connection too.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "ceptoard.h"
#include "frame.h"
#include "names.h"

/* Output above this fraction of max_output stops reading from the peer. */
#define SESSION_OUTPUT_PAUSE_DIV	4
/* Seconds a closing session has to flush its last error. */
#define SESSION_CLOSE_GRACE		5
/* Reading resumes, and deliveries are pumped, below this much output. */
#define SESSION_OUTPUT_LOW		(64 * 1024)

/* Pre-authentication noise in the current interval (session_noise). */
static struct {
	struct event	*timer;
	int64_t		 since;			/* interval start, unix seconds */
	uint64_t	 count[SESSION_NOISE_KINDS];
	uint64_t	 logged;		/* lines logged one by one */
	uint64_t	 suppressed;		/* the others, counted only */
} session_preauth;

static struct session	*session_list;
static struct session	*session_dead;		/* closed, awaiting free */
static struct event	*session_reaper;

static void	session_read_cb(void *);
static void	session_write_cb(void *);
static bool	session_reading(struct session *);
static void	session_established(void *);
static void	session_ended(void *, enum conn_end, const char *);
static void	session_timer_cb(void *);
static void	session_throttle(struct session *);

static const struct conn_ops session_conn_ops = {
	.established = session_established,
	.readable = session_read_cb,
	.drained = session_write_cb,
	.timeout = session_timer_cb,
	.ended = session_ended,
};

const char *
session_strstate(enum session_state st)
{
	switch (st) {
	case SESSION_HANDSHAKE:
		return "handshake";
	case SESSION_HELLO:
		return "hello";
	case SESSION_READY:
		return "ready";
	case SESSION_CLOSING:
		return "closing";
	case SESSION_DEAD:
		return "dead";
	}
	return "unknown";
}

/* Arm the session's one timer for the deadline of its state. */
static void
session_arm_timer(struct session *s)
{
	long	secs = -1;

	switch (s->state) {
	case SESSION_HANDSHAKE:
	case SESSION_HELLO:
		secs = (long)hub->conf.hello_timeout;
		break;
	case SESSION_READY:
		secs = (long)hub->conf.idle_timeout;
		break;
	case SESSION_CLOSING:
		secs = SESSION_CLOSE_GRACE;
		break;
	case SESSION_DEAD:
		break;
	}
	if (s->conn != NULL)
		conn_timer(s->conn, secs);
}

void
session_enter_state(struct session *s, enum session_state st)
{
	if (s->state == st)
		return;
	log_event(LOG_LVL_DEBUG, "session.state", "session=%s from=%s to=%s",
	    s->sid, session_strstate(s->state), session_strstate(st));
	s->state = st;
	switch (st) {
	case SESSION_HELLO:
		s->max_frame = (uint32_t)hub->conf.max_frame_preauth;
		break;
	case SESSION_READY:
		s->max_frame = (uint32_t)hub->conf.max_frame;
		conn_authenticated(s->conn);
		/*
		 * From now on a peer that reads nothing of what is queued for
		 * slow_consumer seconds is dropped (session_ended), whatever
		 * it waits for: a follower, a one-off inbox, a fetch.  libevent
		 * restarts the clock at every byte written and stops it while
		 * nothing is queued.  Not before: the handshake and the hello
		 * have hello_timeout, and the handshake's own events would
		 * start this clock early.
		 */
		conn_write_timeout(s->conn, (unsigned)hub->conf.slow_consumer);
		break;
	case SESSION_CLOSING:
		/* Read nothing more; flush what is queued, then close. */
		session_reading(s);
		conn_output_low(s->conn, 0);
		break;
	default:
		break;
	}
	session_arm_timer(s);
}

/* A session in the state HANDSHAKE, without its connection yet. */
static struct session *
session_alloc(const char *peer)
{
	struct session	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->id = ++hub->next_session;
	snprintf(s->sid, sizeof(s->sid), "%08llx",
	    (unsigned long long)s->id);
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	s->state = SESSION_HANDSHAKE;
	s->refs = 1;
	s->max_frame = (uint32_t)hub->conf.max_frame_preauth;
	s->started = s->last_active = (int64_t)time(NULL);
	return s;
}

/* Put s, now on its connection, on the list of sessions. */
static struct session *
session_attach(struct session *s)
{
	s->next = session_list;
	if (session_list != NULL)
		session_list->prev = s;
	session_list = s;
	hub->nsessions++;
	metrics_count(METRICS_SESSIONS_OPENED, NULL, NULL);
	session_arm_timer(s);
	log_event(LOG_LVL_INFO, "session.open", "session=%s peer=%s", s->sid,
	    s->peer);
	return s;
}

/*
 * Sum up the interval's pre-authentication noise as one session.preauth
 * line, the only one of it that reaches the audit trail, and start a new
 * interval.  Nothing is written for a quiet interval.
 */
static void
session_preauth_flush(void)
{
	uint64_t	total = 0;
	int		i;

	for (i = 0; i < SESSION_NOISE_KINDS; i++)
		total += session_preauth.count[i];
	if (total > 0)
		log_event(session_preauth.suppressed > 0 ? LOG_LVL_WARN :
		    LOG_LVL_INFO, "session.preauth", "secs=%lld total=%llu "
		    "timeout=%llu tls=%llu closed=%llu limit=%llu logged=%llu "
		    "suppressed=%llu",
		    (long long)((int64_t)time(NULL) - session_preauth.since),
		    (unsigned long long)total,
		    (unsigned long long)session_preauth.count[SESSION_NOISE_TIMEOUT],
		    (unsigned long long)session_preauth.count[SESSION_NOISE_TLS],
		    (unsigned long long)session_preauth.count[SESSION_NOISE_CLOSED],
		    (unsigned long long)session_preauth.count[SESSION_NOISE_LIMIT],
		    (unsigned long long)session_preauth.logged,
		    (unsigned long long)session_preauth.suppressed);
	memset(session_preauth.count, 0, sizeof(session_preauth.count));
	session_preauth.logged = session_preauth.suppressed = 0;
}

/* The interval is over: sum it up. */
static void
session_preauth_cb(evutil_socket_t fd, short ev, void *arg)
{
	session_preauth_flush();
}

void
session_noise(enum session_noise kind, const char *event, const char *fmt,
    ...)
{
	struct timeval	tv = { (time_t)hub->conf.preauth_log_interval, 0 };
	char		line[1024];
	va_list		ap;

	if (session_preauth.timer == NULL && hub->base != NULL)
		session_preauth.timer = evtimer_new(hub->base,
		    session_preauth_cb, NULL);
	/* The first noise of an interval starts it. */
	if (session_preauth.timer != NULL &&
	    !evtimer_pending(session_preauth.timer, NULL)) {
		session_preauth.since = (int64_t)time(NULL);
		evtimer_add(session_preauth.timer, &tv);
	}
	session_preauth.count[kind]++;
	if (session_preauth.logged >= hub->conf.preauth_log_lines) {
		session_preauth.suppressed++;
		return;
	}
	session_preauth.logged++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_event_unaudited(kind == SESSION_NOISE_LIMIT ? LOG_LVL_WARN :
	    LOG_LVL_INFO, event, "%s%s", line,
	    session_preauth.logged == hub->conf.preauth_log_lines ?
	    " more=counted" : "");
}

/* A protobuf session on an accepted connection (session_proto). */
static int
session_open(int fd, const struct sockaddr *sa, int salen, const char *peer,
    const struct listener_hold *hold)
{
	struct session	*s;

	if ((s = session_alloc(peer)) == NULL) {
		evutil_closesocket(fd);
		return -1;
	}
	/* Never hold more than one frame plus a header of input. */
	if ((s->conn = conn_new(fd, hold, (size_t)hub->conf.max_frame +
	    FRAME_HEADER_LEN, SESSION_OUTPUT_LOW, &session_conn_ops, s)) ==
	    NULL) {
		free(s);
		return -1;
	}
	session_attach(s);
	return 0;
}

const struct listener_proto session_proto = {
	.name = "protobuf",
	.open = session_open,
};

#ifdef CEPTOARD_FUZZING
/*
 * Only in a -Dfuzz=true build, for tests/fuzz/fuzz_sequence.c: a session
 * on bev (one end of a bufferevent pair, no TLS) whose peer presented a
 * verified certificate with CN cn, as session_established leaves it once
 * the handshake is done: waiting for the hello.
 */
struct session *
session_new_plain(struct bufferevent *bev, const char *peer, const char *cn)
{
	struct session	*s;

	if ((s = session_alloc(peer)) == NULL) {
		bufferevent_free(bev);
		return NULL;
	}
	if ((s->conn = conn_new_plain(bev, cn, (size_t)hub->conf.max_frame +
	    FRAME_HEADER_LEN, SESSION_OUTPUT_LOW, &session_conn_ops, s)) ==
	    NULL) {
		free(s);
		return NULL;
	}
	session_attach(s);
	snprintf(s->cert_cn, sizeof(s->cert_cn), "%s", cn);
	snprintf(s->fingerprint, sizeof(s->fingerprint), "%064d", 0);
	session_enter_state(s, SESSION_HELLO);
	return s;
}
#endif

/* Free sessions that are closed and no longer referenced. */
static void
session_reap(evutil_socket_t fd, short ev, void *arg)
{
	struct session	*s, *next, **pp = &session_dead;

	for (s = session_dead; s != NULL; s = next) {
		next = s->next;
		if (s->refs > 0) {
			pp = &s->next;
			continue;
		}
		*pp = next;
		free(s->sent);
		free(s);
	}
}

void
session_ref(struct session *s)
{
	s->refs++;
}

void
session_unref(struct session *s)
{
	if (--s->refs == 0 && s->state == SESSION_DEAD) {
		if (session_reaper == NULL)
			session_reaper = event_new(hub->base, -1, 0,
			    session_reap, NULL);
		if (session_reaper != NULL)
			event_active(session_reaper, 0, 0);
	}
}

void
session_close(struct session *s, const char *reason)
{
	char	esc[256];

	if (s->state == SESSION_DEAD)
		return;
	if (s->state == SESSION_HANDSHAKE)
		/* No certificate verified yet: noise, counted (see audit.c). */
		session_noise(strncmp(reason, "timeout", 7) == 0 ?
		    SESSION_NOISE_TIMEOUT :
		    strstr(reason, "closed the connection") != NULL ?
		    SESSION_NOISE_CLOSED : SESSION_NOISE_TLS, "session.close",
		    "session=%s peer=%s org=- state=%s reason=%s secs=%lld",
		    s->sid, s->peer, session_strstate(s->state),
		    log_escape(reason, esc, sizeof(esc)),
		    (long long)(time(NULL) - s->started));
	else
		log_event(LOG_LVL_INFO, "session.close",
		    "session=%s peer=%s org=%s state=%s reason=%s "
		    "frames_in=%llu frames_out=%llu submits=%llu "
		    "delivered=%llu secs=%lld", s->sid, s->peer,
		    s->org[0] ? s->org : "-", session_strstate(s->state),
		    log_escape(reason, esc, sizeof(esc)),
		    (unsigned long long)s->frames_in,
		    (unsigned long long)s->frames_out,
		    (unsigned long long)s->submits,
		    (unsigned long long)s->delivered,
		    (long long)(time(NULL) - s->started));
	metrics_session_closed(reason, s->state == SESSION_HANDSHAKE);
	deliver_unsubscribe(s);
	s->state = SESSION_DEAD;
	if (s->throttle != NULL) {
		event_free(s->throttle);
		s->throttle = NULL;
	}
	if (s->stall != NULL) {
		event_free(s->stall);
		s->stall = NULL;
	}
	/* The connection ends here, with its timer, TLS and address hold. */
	conn_close(s->conn);
	s->conn = NULL;
	/* Move from the live list to the dead one. */
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		session_list = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->prev = NULL;
	s->next = session_dead;
	session_dead = s;
	hub->nsessions--;
	session_unref(s);
	if (hub->shutting_down && hub->nsessions == 0)
		event_base_loopexit(hub->base, NULL);
}

size_t
session_output_len(const struct session *s)
{
	if (s->conn == NULL)
		return 0;
	return conn_output_len(s->conn);
}

bool
session_can_send(const struct session *s)
{
	return s->state == SESSION_READY &&
	    session_output_len(s) < hub->conf.max_output /
	    SESSION_OUTPUT_PAUSE_DIV;
}

/* Queue a framed envelope, with no output check: -1 if the session died. */
static int
session_push_frame(struct session *s, const uint8_t *buf, size_t len)
{
	if (conn_write(s->conn, buf, len) == -1) {
		session_close(s, "cannot queue output");
		return -1;
	}
	s->frames_out++;
	return 0;
}

/* Frame env and queue it, with no output check: -1 if the session died. */
static int
session_push(struct session *s, Ceptoar__Envelope *env)
{
	uint8_t	*buf;
	size_t	 len;
	int	 rv;

	env->has_protocol_version = 1;
	env->protocol_version = CEPTOAR_PROTOCOL_VERSION;
	if ((buf = frame_pack(env, &len)) == NULL) {
		session_close(s, "out of memory packing a frame");
		return -1;
	}
	rv = session_push_frame(s, buf, len);
	free(buf);
	return rv;
}

/*
 * The peer is not reading: drop it rather than grow.  Its last frame is
 * an error saying so, for a peer that wakes up; nothing more is queued.
 */
void
session_overloaded(struct session *s, const char *fmt, ...)
{
	Ceptoar__Envelope	env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Error		err = CEPTOAR__ERROR__INIT;
	char			why[160], msg[256];
	va_list			ap;

	if (s->state != SESSION_READY && s->state != SESSION_HELLO)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "slow consumer: %s; unacknowledged "
	    "deliveries wait for the next connection", why);
	log_event(LOG_LVL_WARN, "session.error", "session=%s org=%s request=0 "
	    "code=overloaded field=\"\" fatal=yes queued=%zu", s->sid,
	    s->org[0] ? s->org : "-", session_output_len(s));
	metrics_refused(CEPTOAR__ERROR_CODE__ERROR_OVERLOADED);
	snprintf(s->fatal_reason, sizeof(s->fatal_reason), "overloaded: %.200s",
	    msg);
	session_enter_state(s, SESSION_CLOSING);
	err.has_code = 1;
	err.code = CEPTOAR__ERROR_CODE__ERROR_OVERLOADED;
	err.message = msg;
	err.has_fatal = 1;
	err.fatal = 1;
	env.body_case = CEPTOAR__ENVELOPE__BODY_ERROR;
	env.error = &err;
	session_push(s, &env);
}

/*
 * Read from s or not, by what holds it back: its output past the pause
 * mark (reading_paused), rate_frames (throttled), too many submits
 * unanswered (submits_held), or closing.  Each sets or clears its own
 * flag, then asks here; reading resumes only once nothing holds it.
 * Whether s now reads.
 */
static bool
session_reading(struct session *s)
{
	bool	on;

	on = s->state != SESSION_CLOSING && s->state != SESSION_DEAD &&
	    !s->reading_paused && !s->throttled && !s->submits_held;
	if (s->conn != NULL)
		conn_reading(s->conn, on);
	return on;
}

/*
 * After queueing: drop a peer that was already over the output limit,
 * and stop reading from one whose output passed the pause mark.
 */
static void
session_sent(struct session *s, size_t before)
{
	if (before > hub->conf.max_output && s->state != SESSION_CLOSING) {
		session_overloaded(s, "more than %llu bytes queued",
		    (unsigned long long)hub->conf.max_output);
		return;
	}
	if (!s->reading_paused && s->state != SESSION_CLOSING &&
	    session_output_len(s) > hub->conf.max_output /
	    SESSION_OUTPUT_PAUSE_DIV) {
		s->reading_paused = true;
		session_reading(s);
	}
}

void
session_send(struct session *s, Ceptoar__Envelope *env)
{
	size_t	before;

	if (s->state == SESSION_DEAD)
		return;
	/* One frame always fits; a queue already over the limit does not. */
	before = session_output_len(s);
	if (session_push(s, env) == -1)
		return;
	session_sent(s, before);
}

void
session_send_frame(struct session *s, const uint8_t *buf, size_t len)
{
	size_t	before;

	if (s->state == SESSION_DEAD)
		return;
	before = session_output_len(s);
	if (session_push_frame(s, buf, len) == -1)
		return;
	session_sent(s, before);
}

void
session_error(struct session *s, uint64_t request_id, Ceptoar__ErrorCode code,
    const char *field, bool fatal, const char *fmt, ...)
{
	Ceptoar__Envelope	env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Error		err = CEPTOAR__ERROR__INIT;
	char			msg[512], esc[1100], fesc[200];
	va_list			ap;

	if (s->state == SESSION_DEAD || s->state == SESSION_CLOSING)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_event(fatal ? LOG_LVL_WARN : LOG_LVL_INFO, "session.error",
	    "session=%s org=%s request=%llu code=%s field=%s fatal=%s "
	    "message=%s", s->sid, s->org[0] ? s->org : "-",
	    (unsigned long long)request_id,
	    names_lookup(names_error_code, code),
	    log_escape(field ? field : "", fesc, sizeof(fesc)),
	    fatal ? "yes" : "no", log_escape(msg, esc, sizeof(esc)));
	metrics_refused(code);
	err.has_code = 1;
	err.code = code;
	err.message = msg;
	err.field = (char *)field;
	err.has_fatal = 1;
	err.fatal = fatal;
	env.has_request_id = request_id != 0;
	env.request_id = request_id;
	env.body_case = CEPTOAR__ENVELOPE__BODY_ERROR;
	env.error = &err;
	session_send(s, &env);
	if (fatal && s->state != SESSION_DEAD) {
		/* Remember why, for the close line. */
		snprintf(s->fatal_reason, sizeof(s->fatal_reason), "%s: %.200s",
		    names_lookup(names_error_code, code), msg);
		session_enter_state(s, SESSION_CLOSING);
		if (session_output_len(s) == 0)
			session_close(s, s->fatal_reason);
	}
}

/* Rate window over: read again, starting with what is buffered. */
static void
session_unthrottle_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct session	*s = arg;

	if (s->state == SESSION_DEAD || !s->throttled)
		return;
	s->throttled = false;
	session_reading(s);
	session_read_cb(s);
}

void
session_hold_submits(struct session *s, bool hold)
{
	if (s->state == SESSION_DEAD || s->submits_held == hold)
		return;
	s->submits_held = hold;
	/* Frames may already be buffered; read them on the next turn. */
	if (session_reading(s))
		conn_read_again(s->conn);
}

/*
 * Over rate_frames: stop reading until a token is back.  The sender is
 * slowed, not refused: TCP pushes back on it and nobody else waits.
 */
static void
session_throttle(struct session *s)
{
	struct timeval	tv;
	int64_t		ms;

	if (s->throttle == NULL &&
	    (s->throttle = evtimer_new(hub->base, session_unthrottle_cb, s))
	    == NULL)
		return;
	if (!s->throttled)
		log_event(LOG_LVL_INFO, "session.throttled", "session=%s org=%s "
		    "rate_frames=%llu", s->sid, s->org[0] ? s->org : "-",
		    (unsigned long long)hub->conf.rate_frames);
	s->throttled = true;
	session_reading(s);
	ms = rate_wait_ms(&s->frames, (double)hub->conf.rate_frames);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(s->throttle, &tv);
}

/* Decode and dispatch every complete frame in the input buffer. */
static void
session_read_cb(void *arg)
{
	struct session		*s = arg;
	struct evbuffer		*in = conn_input(s->conn);
	Ceptoar__Envelope	*env;
	enum frame_status	 st;
	unsigned char		 hdr[FRAME_HEADER_LEN];
	uint32_t		 n;
	size_t			 used;
	uint8_t			*p;
	char			 nulpath[256];
	bool			 nul;

	session_ref(s);
	while ((s->state == SESSION_HELLO || s->state == SESSION_READY) &&
	    !s->throttled && !s->submits_held) {
		if (evbuffer_copyout(in, hdr, sizeof(hdr)) < (ev_ssize_t)sizeof(hdr))
			break;
		st = frame_peek(hdr, sizeof(hdr), s->max_frame, &n);
		if (st == FRAME_TOO_LARGE) {
			session_error(s, 0,
			    CEPTOAR__ERROR_CODE__ERROR_FRAME_TOO_LARGE, NULL, true,
			    "frame of %u bytes exceeds the limit of %u bytes%s",
			    n, s->max_frame, s->state == SESSION_HELLO ?
			    " before the hello" : "");
			break;
		}
		if (evbuffer_get_length(in) < FRAME_HEADER_LEN + (size_t)n)
			break;
		if (!rate_take(&s->frames, (double)hub->conf.rate_frames,
		    (double)hub->conf.rate_frames, rate_now_ms())) {
			session_throttle(s);
			break;
		}
		if ((p = evbuffer_pullup(in, FRAME_HEADER_LEN + (ev_ssize_t)n))
		    == NULL) {
			session_close(s, "out of memory reading a frame");
			break;
		}
		st = frame_unpack(p, FRAME_HEADER_LEN + (size_t)n, s->max_frame,
		    &env, &used);
		nul = st == FRAME_OK && frame_string_nul(
		    &ceptoar__envelope__descriptor, p + FRAME_HEADER_LEN, n,
		    nulpath, sizeof(nulpath));
		evbuffer_drain(in, FRAME_HEADER_LEN + (size_t)n);
		s->frames_in++;
		s->last_active = (int64_t)time(NULL);
		if (st != FRAME_OK) {
			session_error(s, 0, CEPTOAR__ERROR_CODE__ERROR_MALFORMED,
			    NULL, true, "a frame of %u bytes does not decode as "
			    "a protocol envelope", n);
			break;
		}
		if (!env->has_protocol_version ||
		    env->protocol_version != CEPTOAR_PROTOCOL_VERSION) {
			session_error(s, env->request_id,
			    CEPTOAR__ERROR_CODE__ERROR_PROTOCOL_VERSION,
			    "protocol_version", true,
			    "protocol version %u is not spoken here; this hub "
			    "speaks version %u", env->protocol_version,
			    CEPTOAR_PROTOCOL_VERSION);
			ceptoar__envelope__free_unpacked(env, NULL);
			break;
		}
		if (nul) {
			/* Unpacked, it would read as its text up to the NUL. */
			session_error(s, env->request_id,
			    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD, nulpath,
			    false, "%s: a string holding a NUL character is "
			    "refused; strings are text", nulpath);
			ceptoar__envelope__free_unpacked(env, NULL);
			continue;
		}
		handle_envelope(s, env);
		ceptoar__envelope__free_unpacked(env, NULL);
	}
	session_unref(s);
}

/* Output drained below the low mark: resume reading, pump, or finish. */
static void
session_write_cb(void *arg)
{
	struct session	*s = arg;

	if (s->state == SESSION_CLOSING) {
		if (session_output_len(s) == 0)
			session_close(s, s->fatal_reason);
		return;
	}
	if (s->reading_paused) {
		s->reading_paused = false;
		session_reading(s);
		/* Frames may already be buffered: handle them now. */
		session_read_cb(s);
		if (s->state == SESSION_DEAD)
			return;
	}
	/* A live follower is fed by the commits; the others catch up. */
	if (s->subscribed && !s->live)
		deliver_pump(s);
}

/* The handshake is done and the certificate verified: wait for the hello. */
static void
session_established(void *arg)
{
	struct session	*s = arg;
	char		 esc[300];

	snprintf(s->cert_cn, sizeof(s->cert_cn), "%s", conn_cn(s->conn));
	snprintf(s->fingerprint, sizeof(s->fingerprint), "%s",
	    conn_fingerprint(s->conn));
	log_event(LOG_LVL_INFO, "session.tls",
	    "session=%s version=%s cn=%s sha256=%s", s->sid,
	    conn_tls_version(s->conn), log_escape(s->cert_cn, esc, sizeof(esc)),
	    s->fingerprint);
	session_enter_state(s, SESSION_HELLO);
}

/* The connection ended under the session: close it, saying why. */
static void
session_ended(void *arg, enum conn_end how, const char *why)
{
	struct session	*s = arg;

	if (how == CONN_STALLED) {
		if (s->state == SESSION_READY || s->state == SESSION_HELLO) {
			session_overloaded(s, "nothing queued to it was read for "
			    "%llu seconds (slow_consumer)",
			    (unsigned long long)hub->conf.slow_consumer);
			/* Its error frame would wait behind the rest: go. */
			session_close(s, s->fatal_reason);
		} else
			session_close(s, s->state == SESSION_HANDSHAKE &&
			    why != NULL ? why : s->fatal_reason);
		return;
	}
	session_close(s, why);
}

/* Hello and idle deadlines, and the grace period of a closing session. */
static void
session_timer_cb(void *arg)
{
	struct session	*s = arg;
	int64_t		 now = (int64_t)time(NULL), idle;

	switch (s->state) {
	case SESSION_HANDSHAKE:
		session_close(s, "timeout: no TLS handshake");
		break;
	case SESSION_HELLO:
		session_error(s, 0, CEPTOAR__ERROR_CODE__ERROR_TIMEOUT, NULL,
		    true, "no hello within %llu seconds",
		    (unsigned long long)hub->conf.hello_timeout);
		break;
	case SESSION_READY:
		idle = now - s->last_active;
		if (idle >= (int64_t)hub->conf.idle_timeout) {
			session_error(s, 0, CEPTOAR__ERROR_CODE__ERROR_TIMEOUT,
			    NULL, true, "idle for %lld seconds; the limit is "
			    "%llu", (long long)idle,
			    (unsigned long long)hub->conf.idle_timeout);
			break;
		}
		conn_timer(s->conn, (long)((int64_t)hub->conf.idle_timeout -
		    idle));
		break;
	case SESSION_CLOSING:
		session_close(s, s->fatal_reason);
		break;
	case SESSION_DEAD:
		break;
	}
}

void
session_close_all(const char *reason)
{
	while (session_list != NULL)
		session_close(session_list, reason);
	/* The last interval's noise, before the trail closes. */
	session_preauth_flush();
	if (session_preauth.timer != NULL) {
		event_free(session_preauth.timer);
		session_preauth.timer = NULL;
	}
}

void
session_shutdown_all(void)
{
	struct session	*s, *next;

	for (s = session_list; s != NULL; s = next) {
		next = s->next;
		if (s->state == SESSION_HELLO || s->state == SESSION_READY)
			session_error(s, 0,
			    CEPTOAR__ERROR_CODE__ERROR_SHUTTING_DOWN, NULL, true,
			    "the hub is shutting down; reconnect and resume "
			    "from your cursor");
		else if (s->state != SESSION_CLOSING)
			session_close(s, "hub shutting down");
	}
}

void
session_recheck_all(void)
{
	struct session		*s, *next;
	const struct dir_org	*o;

	for (s = session_list; s != NULL; s = next) {
		next = s->next;
		if (s->state != SESSION_READY)
			continue;
		o = directory_org_by_cn(hub->dir, s->cert_cn);
		if (o == NULL || strcmp(o->id, s->org) != 0) {
			session_error(s, 0,
			    CEPTOAR__ERROR_CODE__ERROR_UNKNOWN_ORGANISATION,
			    NULL, true, "organisation %s is no longer in the "
			    "directory for certificate CN=%s", s->org,
			    s->cert_cn);
			continue;
		}
		s->roles = o->roles;
	}
}
