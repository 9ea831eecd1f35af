/*
 * Logging: one line per event, "event key=value ...", to stderr in the
 * foreground and to syslog otherwise.  Strings a peer supplied go through
 * log_escape so that no peer can forge a log line.  The events that
 * matter to the organisations whose data the hub carries also go to the
 * audit trail (audit.c), whatever the log level.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "ceptoard.h"

static int		log_foreground = 1;
static enum log_level	log_level_max = LOG_LVL_INFO;

static const char *const log_level_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

void
log_init(int foreground, enum log_level level)
{
	log_foreground = foreground;
	log_level_max = level;
	if (!foreground)
		openlog("ceptoard", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_level_max = level;
}

int
log_parse_level(const char *s, enum log_level *out)
{
	size_t	i;

	for (i = 0; i < sizeof(log_level_names) / sizeof(*log_level_names);
	    i++) {
		if (strcasecmp(s, log_level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *
log_escape(const char *s, char *buf, size_t len)
{
	size_t	o = 0;

	if (len < 3)
		return "";
	if (s == NULL)
		s = "";
	buf[o++] = '"';
	for (; *s != '\0' && o + 5 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		} else
			buf[o++] = (char)c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* Write one finished line to the log's destination. */
static void
log_write(enum log_level lvl, const char *line)
{
	static const int prio[] = {
		[LOG_LVL_ERROR] = LOG_ERR,
		[LOG_LVL_WARN] = LOG_WARNING,
		[LOG_LVL_INFO] = LOG_INFO,
		[LOG_LVL_DEBUG] = LOG_DEBUG,
	};
	struct timespec	ts;
	struct tm	tm;
	char		when[32];

	if (!log_foreground) {
		syslog(prio[lvl], "%s", line);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s %s\n", when, ts.tv_nsec / 1000000,
	    log_level_names[lvl], line);
	fflush(stderr);
}

bool
log_wanted(enum log_level lvl, const char *event)
{
	return lvl <= log_level_max || audit_wanted(event);
}

/*
 * The line is built once; it goes to the log if its level is shown, and
 * to the audit trail if audit.c keeps such events, whatever the level.
 */
static void
log_vevent(enum log_level lvl, const char *event, bool audited,
    const char *fmt, va_list ap)
{
	char	line[2048];
	int	n;

	if (lvl > log_level_max && !audited)
		return;
	n = snprintf(line, sizeof(line), "%s", event);
	if (fmt != NULL && *fmt != '\0' && n > 0 && (size_t)n + 1 < sizeof(line)) {
		line[n++] = ' ';
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	}
	if (lvl <= log_level_max)
		log_write(lvl, line);
	if (audited)
		audit_append(line);
}

void
log_event(enum log_level lvl, const char *event, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vevent(lvl, event, audit_wanted(event), fmt, ap);
	va_end(ap);
}

void
log_event_unaudited(enum log_level lvl, const char *event, const char *fmt,
    ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vevent(lvl, event, false, fmt, ap);
	va_end(ap);
}

void
fatalx(const char *fmt, ...)
{
	char	line[1024], esc[2048];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_event(LOG_LVL_ERROR, "fatal", "reason=%s",
	    log_escape(line, esc, sizeof(esc)));
	exit(1);
}
