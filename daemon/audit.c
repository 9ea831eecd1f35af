/*
 * The audit trail: every acceptance, routing decision, hop, delivery,
 * acknowledgement, refusal and reload, appended to a hash-chained file
 * that shows any later change.  The hub carries other organisations'
 * incident data; this is what it can show them it did with it.
 *
 * Format, version 1: lines of text, each ended by '\n'.
 *
 *   ceptoard-audit 1 blake2b-256 id=<32 hex> created=<unix-ms>
 *   <seq> <unix-ms> <event line> <hash>
 *   ...
 *
 * The header names the format.  Its id is random, so that no two files
 * share a chain.  seq counts from 1 without gaps.  The event line is the
 * log line ("event key=value ...", peer strings already escaped by
 * log_escape), with any control byte written as \xNN so that an entry is
 * always one line.  hash is the lowercase hex of
 *
 *   BLAKE2b-256(prev || "<seq> <unix-ms> <event line>")
 *
 * where prev is the previous entry's hash as 32 raw bytes, or for entry 1
 * the BLAKE2b-256 of the header line without its newline.  Changing,
 * removing, inserting or moving an entry, or changing the header, breaks
 * the chain at that place; audit_verify names the first such entry.
 *
 * What a chain alone cannot show: entries cut from the end, or a file
 * rewritten whole by someone who recomputes every hash.  For that the hub
 * logs the head (entries and last hash) at open and at close, as
 * audit.open and audit.close, normally to a syslog kept elsewhere:
 * compare them with what ceptoard -A prints.
 *
 * A crash can tear the last line.  The next start keeps those bytes (the
 * trail is evidence, never truncated), ends them with a newline and
 * appends an audit.torn entry chained to the last good entry, giving the
 * torn line's number, length and BLAKE2b-256.  The verifier passes a bad
 * line only when the entry straight after it is that claim.  Any other
 * broken place stops the hub from starting: an operator must look.
 *
 * Rotation (audit_log_max): once the file reaches that size it is
 * renamed <audit_log>.<N>, N counting up from 000001 and never reused,
 * and a new file starts whose first entry is
 *
 *   audit.continues file=<name of the previous file> entries=<its entries>
 *     head=<hex of its last hash>
 *
 * so that every file commits to the one before it.  ceptoard -A walks
 * the numbered files in order, then audit_log, and names the first file
 * (and entry) where either a chain or a continuation does not hold.  The
 * oldest files may be archived away; a gap between two numbers may not.
 *
 * Entries are written with one write(2) each on an O_APPEND descriptor,
 * and fsynced by audit_sync: after each store commit, before its acks
 * (submit.c), at close, and within a second of any other entry.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "ceptoard.h"

#define AUDIT_MAGIC		"ceptoard-audit"
#define AUDIT_VERSION		"1"
#define AUDIT_ALGORITHM		"blake2b-256"
#define AUDIT_ID_LEN		16		/* random bytes in the header */
/* Longest line kept for parsing; a longer one is never an entry. */
#define AUDIT_LINE_MAX		16384
/* An entry as written: seq, time, escaped log line, hash. */
#define AUDIT_ENTRY_MAX		(64 + 4 * 2048 + 2 * AUDIT_HASH_LEN + 4)
#define AUDIT_SYNC_SECS		1

/*
 * The events that go to the trail, whatever the log level: a name ending
 * in '.' is a prefix.  Every session.close of a connection that finished
 * its TLS handshake is kept: its reason says why it was refused or
 * dropped, and reading that from free text to keep only "refusals" would
 * be guesswork.  What comes before (connections closed or refused before
 * a certificate verified) costs an attacker nothing to repeat, so it is
 * counted and summed up once per preauth_log_interval as session.preauth
 * (session.c): the trail grows with time, not with connection attempts.
 * audit.* entries are written by this file alone.
 */
static const char *const audit_events[] = {
	"submit.",		/* accepted, duplicate, conflict */
	"route.",		/* recipients and reasons, forwards, widening */
	"deliver.sent",
	"deliver.ack",
	"session.tls",		/* the certificate a peer authenticated with */
	"session.hello",
	"session.error",
	"session.preauth",	/* counts of pre-handshake noise */
	"session.close",
	"config.reload",
	"ceptoard.ready",
	"ceptoard.stopping",
	"ceptoard.stopped",
	"fatal",
};

static struct {
	int			 fd;		/* -1: no trail */
	char			*path;
	uint64_t		 seq;		/* of the last entry written */
	unsigned char		 head[AUDIT_HASH_LEN];
	bool			 dirty;		/* written since the last fsync */
	bool			 failed;	/* no more entries: see audit_fail */
	bool			 busy;		/* appending: no re-entry */
	struct event		*timer;
	void			(*on_failure)(void);
	int			 dirfd;		/* audit_log's folder, for rotation */
	char			*base;		/* audit_log's file name */
	uint64_t		 size;		/* bytes in the current file */
	uint64_t		 max_bytes;	/* rotate at this size; 0: never */
	unsigned		 serial;	/* highest <base>.<N> there is */
	bool			 rotating;
} audit = { .fd = -1, .dirfd = -1 };

/* Digits of a rotated file's number: <base>.000001 */
#define AUDIT_SERIAL_DIGITS	6
#define AUDIT_CONTINUES		"audit.continues"

static int	audit_rotate(void);
static int	audit_list_rotated(const char *, unsigned **, size_t *,
		    char **);
static void	audit_continues_text(char *, size_t, const char *, uint64_t,
		    const unsigned char [AUDIT_HASH_LEN]);

/* A line as the verifier reads it: kept up to AUDIT_LINE_MAX bytes. */
struct audit_line {
	char			 buf[AUDIT_LINE_MAX + 1];
	size_t			 kept;		/* bytes in buf */
	size_t			 len;		/* whole length, newline excluded */
	bool			 complete;	/* ended by a newline */
	bool			 streamed;	/* too long: hashed as read */
	crypto_generichash_state st;
};

/* A buffered reader over a descriptor, for files of any size. */
struct audit_reader {
	int			 fd;
	unsigned char		 buf[65536];
	size_t			 pos, len;
	bool			 eof;
	int			 error;		/* errno of a failed read */
};

/* Milliseconds since the epoch, for entries and the header. */
static int64_t
audit_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* hash = BLAKE2b-256(prev || content). */
static void
audit_chain(unsigned char hash[AUDIT_HASH_LEN],
    const unsigned char prev[AUDIT_HASH_LEN], const char *content, size_t len)
{
	crypto_generichash_state	st;

	crypto_generichash_init(&st, NULL, 0, AUDIT_HASH_LEN);
	crypto_generichash_update(&st, prev, AUDIT_HASH_LEN);
	crypto_generichash_update(&st, (const unsigned char *)content, len);
	crypto_generichash_final(&st, hash, AUDIT_HASH_LEN);
}

bool
audit_wanted(const char *event)
{
	size_t	i, n;

	if (audit.fd == -1 || audit.failed || audit.busy || event == NULL)
		return false;
	for (i = 0; i < sizeof(audit_events) / sizeof(*audit_events); i++) {
		n = strlen(audit_events[i]);
		if (audit_events[i][n - 1] == '.' ?
		    strncmp(event, audit_events[i], n) == 0 :
		    strcmp(event, audit_events[i]) == 0)
			return true;
	}
	return false;
}

/*
 * The trail can no longer be written: stop writing it (a later entry
 * after a torn one would only confuse the evidence), say so in the log,
 * and let the hub decide (ceptoard.c stops it).
 */
static void
audit_fail(const char *op, const char *error)
{
	audit.failed = true;
	log_event(LOG_LVL_ERROR, "audit.failed", "path=%s op=%s error=\"%s\" "
	    "entries=%" PRIu64 " action=\"the hub stops: it must not carry "
	    "data without its audit trail\"", audit.path, op, error,
	    audit.seq);
	if (audit.on_failure != NULL)
		audit.on_failure();
}

/* The fsync timer: entries reach the disk within AUDIT_SYNC_SECS. */
static void
audit_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	audit_sync();
}

/*
 * Write one entry: "<seq> <ms> <text> <hash>\n" in a single write.  text
 * is taken as it is (audit.c's own entries) or with its control bytes
 * escaped (log lines).  end_torn first ends a torn line, in the same
 * write, so that no crash can leave it ended but unclaimed.
 */
static int
audit_write_entry(const char *text, bool escape, bool end_torn)
{
	static const char	 hexd[] = "0123456789abcdef";
	char			 buf[AUDIT_ENTRY_MAX];
	unsigned char		 hash[AUDIT_HASH_LEN];
	size_t			 o, start = end_torn ? 1 : 0;
	ssize_t			 r;
	int			 n;

	buf[0] = '\n';
	n = snprintf(buf + start, sizeof(buf) - start, "%" PRIu64 " %" PRId64
	    " ", audit.seq + 1, audit_now_ms());
	o = start + (size_t)n;
	for (; *text != '\0' && o + 4 + 2 * AUDIT_HASH_LEN + 2 < sizeof(buf);
	    text++) {
		unsigned char c = (unsigned char)*text;

		if (escape && (c < 0x20 || c == 0x7f)) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hexd[c >> 4];
			buf[o++] = hexd[c & 0xf];
		} else
			buf[o++] = (char)c;
	}
	audit_chain(hash, audit.head, buf + start, o - start);
	buf[o++] = ' ';
	sodium_bin2hex(buf + o, sizeof(buf) - o, hash, sizeof(hash));
	o += 2 * AUDIT_HASH_LEN;
	buf[o++] = '\n';
	do
		r = write(audit.fd, buf, o);
	while (r == -1 && errno == EINTR);
	if (r != (ssize_t)o) {
		audit_fail("write", r == -1 ? strerror(errno) : "short write: "
		    "disk full or file size limit");
		return -1;
	}
	audit.seq++;
	audit.size += o;
	memcpy(audit.head, hash, sizeof(hash));
	if (!audit.dirty && audit.timer != NULL) {
		struct timeval	tv = { AUDIT_SYNC_SECS, 0 };

		evtimer_add(audit.timer, &tv);
	}
	audit.dirty = true;
	if (audit.max_bytes > 0 && audit.size >= audit.max_bytes &&
	    !audit.rotating)
		return audit_rotate();
	return 0;
}

void
audit_append(const char *line)
{
	if (audit.fd == -1 || audit.failed || audit.busy)
		return;
	audit.busy = true;
	audit_write_entry(line, true, false);
	audit.busy = false;
}

int
audit_sync(void)
{
	int	fd;

	if (audit.fd != -1 && audit.failed)
		return -1;
	if ((fd = audit_sync_fd()) == -1)
		return 0;
	if (fsync(fd) == -1) {
		audit_sync_failed(errno);
		return -1;
	}
	return 0;
}

int
audit_sync_fd(void)
{
	if (audit.fd == -1 || audit.failed || !audit.dirty)
		return -1;
	audit.dirty = false;
	if (audit.timer != NULL)
		evtimer_del(audit.timer);
	return audit.fd;
}

bool
audit_has_failed(void)
{
	return audit.failed;
}

void
audit_sync_failed(int error)
{
	if (!audit.failed)
		audit_fail("fsync", strerror(error));
}

/* Read the next line into l; 0 at the end of the file, -1 on error. */
static int
audit_read_line(struct audit_reader *rd, struct audit_line *l)
{
	unsigned char	*nl;
	size_t		 n, take;
	ssize_t		 r;
	bool		 any = false;

	l->kept = l->len = 0;
	l->complete = l->streamed = false;
	for (;;) {
		if (rd->pos == rd->len) {
			if (rd->eof)
				break;
			do
				r = read(rd->fd, rd->buf, sizeof(rd->buf));
			while (r == -1 && errno == EINTR);
			if (r == -1) {
				rd->error = errno;
				return -1;
			}
			rd->pos = 0;
			rd->len = (size_t)r;
			if (r == 0) {
				rd->eof = true;
				break;
			}
		}
		any = true;
		nl = memchr(rd->buf + rd->pos, '\n', rd->len - rd->pos);
		n = (nl != NULL ? (size_t)(nl - rd->buf) : rd->len) - rd->pos;
		take = n;
		if (l->kept + take > AUDIT_LINE_MAX)
			take = AUDIT_LINE_MAX - l->kept;
		memcpy(l->buf + l->kept, rd->buf + rd->pos, take);
		l->kept += take;
		if (take < n) {
			if (!l->streamed) {
				crypto_generichash_init(&l->st, NULL, 0,
				    AUDIT_HASH_LEN);
				crypto_generichash_update(&l->st,
				    (unsigned char *)l->buf, l->kept);
				l->streamed = true;
			}
			crypto_generichash_update(&l->st, rd->buf + rd->pos +
			    take, n - take);
		}
		l->len += n;
		rd->pos += n;
		if (nl != NULL) {
			rd->pos++;
			l->complete = true;
			break;
		}
	}
	l->buf[l->kept] = '\0';
	return any ? 1 : 0;
}

/* BLAKE2b-256 of a line's bytes (its newline excluded). */
static void
audit_line_hash(struct audit_line *l, unsigned char out[AUDIT_HASH_LEN])
{
	if (l->streamed)
		crypto_generichash_final(&l->st, out, AUDIT_HASH_LEN);
	else
		crypto_generichash(out, AUDIT_HASH_LEN,
		    (unsigned char *)l->buf, l->kept, NULL, 0);
}

/* Parse an unsigned decimal without leading zeros, ended by a space. */
static const char *
audit_parse_u64(const char *s, uint64_t *out)
{
	uint64_t	v = 0;

	if (*s < '0' || *s > '9' || (*s == '0' && s[1] != ' '))
		return NULL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return NULL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s != ' ')
		return NULL;
	*out = v;
	return s + 1;
}

/* Whether s is n lowercase hex digits. */
static bool
audit_is_hex(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/*
 * Check the header line; fill genesis.  NULL if it is good, else why
 * not, into why.
 */
static const char *
audit_check_header(const struct audit_line *l,
    unsigned char genesis[AUDIT_HASH_LEN], char *why, size_t len)
{
	const char	*s = l->buf, *p;
	uint64_t	 created;
	size_t		 n;

	if (!l->complete) {
		snprintf(why, len, "the header is cut short (no newline)");
		return why;
	}
	if (l->streamed || memchr(l->buf, '\0', l->kept) != NULL ||
	    strncmp(s, AUDIT_MAGIC " ", strlen(AUDIT_MAGIC) + 1) != 0) {
		snprintf(why, len, "not a ceptoard audit trail (the first line "
		    "must start \"" AUDIT_MAGIC " " AUDIT_VERSION "\")");
		return why;
	}
	s += strlen(AUDIT_MAGIC) + 1;
	n = strcspn(s, " ");
	if (n != strlen(AUDIT_VERSION) || strncmp(s, AUDIT_VERSION, n) != 0) {
		snprintf(why, len, "unknown format version \"%.*s\" (this "
		    "ceptoard reads version " AUDIT_VERSION ")",
		    (int)(n > 16 ? 16 : n), s);
		return why;
	}
	s += n;
	if (strncmp(s, " " AUDIT_ALGORITHM " id=", strlen(AUDIT_ALGORITHM) + 5)
	    != 0) {
		snprintf(why, len, "the header does not name " AUDIT_ALGORITHM
		    " and an id");
		return why;
	}
	s += strlen(AUDIT_ALGORITHM) + 5;
	if (!audit_is_hex(s, 2 * AUDIT_ID_LEN) ||
	    strncmp(s + 2 * AUDIT_ID_LEN, " created=", 9) != 0) {
		snprintf(why, len, "the header's id is not %d hex digits",
		    2 * AUDIT_ID_LEN);
		return why;
	}
	s += 2 * AUDIT_ID_LEN + 9;
	/* audit_parse_u64 wants a space after the number: copy it. */
	{
		char	num[24];

		if ((n = strlen(s)) == 0 || n > 20) {
			snprintf(why, len, "the header's creation time is "
			    "not a number");
			return why;
		}
		snprintf(num, sizeof(num), "%s ", s);
		p = audit_parse_u64(num, &created);
		if (p == NULL || *p != '\0') {
			snprintf(why, len, "the header's creation time is "
			    "not a number");
			return why;
		}
	}
	crypto_generichash(genesis, AUDIT_HASH_LEN, (unsigned char *)l->buf,
	    l->kept, NULL, 0);
	return NULL;
}

/*
 * Check one line as entry seq chained to prev: NULL and its hash in
 * hash, or why not.  *event points at the event line in l->buf, which
 * is cut before the hash.
 */
static const char *
audit_check_entry(struct audit_line *l, uint64_t seq,
    const unsigned char prev[AUDIT_HASH_LEN],
    unsigned char hash[AUDIT_HASH_LEN], const char **event, char *why,
    size_t len)
{
	unsigned char	 stored[AUDIT_HASH_LEN], want[AUDIT_HASH_LEN];
	const char	*p, *sp;
	uint64_t	 got, ms;
	size_t		 clen;

	if (l->streamed) {
		snprintf(why, len, "the line is longer than %d bytes",
		    AUDIT_LINE_MAX);
		return why;
	}
	if (memchr(l->buf, '\0', l->kept) != NULL) {
		snprintf(why, len, "the line holds a NUL byte");
		return why;
	}
	if ((sp = strrchr(l->buf, ' ')) == NULL ||
	    strlen(sp + 1) != 2 * AUDIT_HASH_LEN ||
	    !audit_is_hex(sp + 1, 2 * AUDIT_HASH_LEN)) {
		snprintf(why, len, "the line does not end with a hash");
		return why;
	}
	clen = (size_t)(sp - l->buf);
	if ((p = audit_parse_u64(l->buf, &got)) == NULL) {
		snprintf(why, len, "the line does not start with a sequence "
		    "number");
		return why;
	}
	if (got != seq) {
		snprintf(why, len, "sequence number %" PRIu64 " where %" PRIu64
		    " was expected (an entry was removed, repeated or moved)",
		    got, seq);
		return why;
	}
	if ((p = audit_parse_u64(p, &ms)) == NULL || p >= sp || *p == ' ') {
		snprintf(why, len, "no time or no event after the sequence "
		    "number");
		return why;
	}
	sodium_hex2bin(stored, sizeof(stored), sp + 1, 2 * AUDIT_HASH_LEN,
	    NULL, NULL, NULL);
	audit_chain(want, prev, l->buf, clen);
	if (sodium_memcmp(stored, want, sizeof(want)) != 0) {
		snprintf(why, len, "its hash does not match its content and "
		    "the %s before it (changed)", seq == 1 ? "header" :
		    "entry");
		return why;
	}
	memcpy(hash, want, sizeof(want));
	l->buf[clen] = '\0';
	*event = p;
	return NULL;
}

/* Mark v broken at line/entry with a reason. */
static void
audit_broken(struct audit_verify *v, uint64_t entry, uint64_t line,
    const char *why)
{
	v->broken = true;
	v->bad_entry = entry;
	v->bad_line = line;
	snprintf(v->why, sizeof(v->why), "%s", why);
}

/*
 * Walk the trail on fd from its start and recompute the chain.  Returns
 * -1 only when fd cannot be read (cause set); a broken chain is 0 with
 * v->broken.
 */
static int
audit_verify_fd(int fd, struct audit_verify *v, char **cause)
{
	struct audit_reader	*rd;
	struct audit_line	*l;
	unsigned char		 hash[AUDIT_HASH_LEN];
	char			 why[256], claim[160], hex[2 * AUDIT_HASH_LEN + 1];
	const char		*bad, *event;
	bool			 pending = false;
	uint64_t		 pend_line = 0;
	size_t			 pend_bytes = 0;
	unsigned char		 pend_hash[AUDIT_HASH_LEN];
	char			 pend_why[256];
	int			 r, rc = -1;

	memset(v, 0, sizeof(*v));
	rd = calloc(1, sizeof(*rd));
	l = malloc(sizeof(*l));
	if (rd == NULL || l == NULL) {
		*cause = strdup("out of memory");
		goto out;
	}
	rd->fd = fd;
	if (lseek(fd, 0, SEEK_SET) == -1)
		goto ioerr;
	if ((r = audit_read_line(rd, l)) == -1)
		goto ioerr;
	if (r == 0) {
		v->empty = true;
		audit_broken(v, 0, 1, "the file is empty: it has no header");
		rc = 0;
		goto out;
	}
	v->lines = 1;
	if ((bad = audit_check_header(l, v->head, why, sizeof(why))) != NULL) {
		audit_broken(v, 0, 1, bad);
		rc = 0;
		goto out;
	}
	while ((r = audit_read_line(rd, l)) == 1) {
		v->lines++;
		bad = audit_check_entry(l, v->entries + 1, v->head, hash, &event,
		    why, sizeof(why));
		if (bad == NULL) {
			bool is_claim = strncmp(event, "audit.torn",
			    10) == 0 && (event[10] == ' ' || event[10] == '\0');

			if (pending) {
				sodium_bin2hex(hex, sizeof(hex), pend_hash,
				    sizeof(pend_hash));
				snprintf(claim, sizeof(claim), "audit.torn "
				    "line=%" PRIu64 " bytes=%zu blake2b=%s",
				    pend_line, pend_bytes, hex);
				if (!is_claim || strcmp(event, claim) != 0)
					break;
				pending = false;
				v->torn++;
			} else if (is_claim) {
				audit_broken(v, v->entries + 1, v->lines,
				    "an audit.torn entry with no torn line "
				    "before it");
				break;
			}
			if (v->entries == 0)
				snprintf(v->first, sizeof(v->first), "%s",
				    event);
			v->entries++;
			memcpy(v->head, hash, sizeof(hash));
			v->unterminated = !l->complete;
			continue;
		}
		if (pending)
			break;
		if (!l->complete) {
			/* The last line, cut short: a crash while writing. */
			v->torn_tail = true;
			v->tail_bytes = l->len;
			audit_line_hash(l, v->tail_hash);
			snprintf(pend_why, sizeof(pend_why), "the last line is "
			    "cut short (%zu bytes, no newline): the hub stopped "
			    "while writing it; its next start records it as "
			    "audit.torn", l->len);
			audit_broken(v, v->entries + 1, v->lines, pend_why);
			break;
		}
		/* Bad, unless the next entry claims it as torn. */
		pending = true;
		pend_line = v->lines;
		pend_bytes = l->len;
		audit_line_hash(l, pend_hash);
		snprintf(pend_why, sizeof(pend_why), "%s", bad);
	}
	if (r == -1)
		goto ioerr;
	if (pending)
		audit_broken(v, v->entries + 1, pend_line, pend_why);
	rc = 0;
	goto out;
ioerr:
	cause_set(cause, "read: %s", strerror(rd->error ? rd->error :
	    errno));
out:
	free(rd);
	free(l);
	return rc;
}

int
audit_verify(const char *path, struct audit_verify *v, char **cause)
{
	int	fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		cause_set(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = audit_verify_fd(fd, v, cause);
	close(fd);
	return rc;
}

const char *
audit_describe(const struct audit_verify *v, char *buf, size_t len)
{
	char	hex[2 * AUDIT_HASH_LEN + 1];

	if (v->broken && v->bad_entry == 0)
		snprintf(buf, len, "header (line %" PRIu64 ") is broken: %s",
		    v->bad_line, v->why);
	else if (v->broken)
		snprintf(buf, len, "entry %" PRIu64 " (line %" PRIu64 ") is "
		    "broken: %s", v->bad_entry, v->bad_line, v->why);
	else if (v->torn > 0) {
		sodium_bin2hex(hex, sizeof(hex), v->head, sizeof(v->head));
		snprintf(buf, len, "%" PRIu64 " entries, chain intact; head %s; "
		    "%" PRIu64 " torn line(s) left by crashes, each recorded "
		    "by the audit.torn entry after it", v->entries, hex,
		    v->torn);
	} else {
		sodium_bin2hex(hex, sizeof(hex), v->head, sizeof(v->head));
		snprintf(buf, len, "%" PRIu64 " entries, chain intact; head %s",
		    v->entries, hex);
	}
	return buf;
}

/*
 * -A over rotated files: each of path.<N> in order, then path, each
 * chain intact and each file after the first opening with the
 * audit.continues entry of the one before.  Prints one line per file
 * and a verdict naming the first file that does not hold.
 */
static int
audit_verify_files(const char *path, const unsigned *serials, size_t n,
    FILE *out)
{
	struct audit_verify	 v;
	char			 file[PATH_MAX], prev[PATH_MAX], *cause = NULL;
	char			 buf[512], want[256], *copy, *name;
	const char		*claimed;
	unsigned char		 head[AUDIT_HASH_LEN];
	uint64_t		 entries = 0, total = 0;
	size_t			 i;
	int			 rc = 0;

	prev[0] = '\0';
	for (i = 0; i <= n; i++) {
		if (i < n)
			snprintf(file, sizeof(file), "%s.%0*u", path,
			    AUDIT_SERIAL_DIGITS, serials[i]);
		else
			snprintf(file, sizeof(file), "%s", path);
		if (i > 0 && i < n && serials[i] != serials[i - 1] + 1) {
			fprintf(out, "audit: %s.%0*u is missing: the files "
			    "before it and after it do not join\n", path,
			    AUDIT_SERIAL_DIGITS, serials[i - 1] + 1);
			return 1;
		}
		if (audit_verify(file, &v, &cause) == -1) {
			fprintf(out, "audit: %s\n", cause ? cause : file);
			free(cause);
			return 66;
		}
		if (v.broken) {
			fprintf(out, "audit: %s: %s\n", file,
			    audit_describe(&v, buf, sizeof(buf)));
			return 1;
		}
		if (i > 0) {
			if ((copy = strdup(prev)) == NULL)
				return 70;
			name = basename(copy);
			audit_continues_text(want, sizeof(want), name, entries,
			    head);
			claimed = strncmp(v.first, AUDIT_CONTINUES " file=",
			    strlen(AUDIT_CONTINUES) + 6) == 0 ?
			    v.first + strlen(AUDIT_CONTINUES) + 6 : NULL;
			if (claimed != NULL && (strncmp(claimed, name,
			    strlen(name)) != 0 || claimed[strlen(name)] != ' ')) {
				fprintf(out, "audit: %s continues %.*s, which "
				    "is missing: the files before it and after "
				    "it do not join\n", file,
				    (int)strcspn(claimed, " "), claimed);
				free(copy);
				return 1;
			}
			if (strcmp(v.first, want) != 0) {
				free(copy);
				fprintf(out, "audit: %s: entry 1 (line 2) is "
				    "broken: it does not continue %s (expected "
				    "\"%s\")\n", file, prev, want);
				return 1;
			}
			free(copy);
		} else if (strncmp(v.first, AUDIT_CONTINUES " ",
		    strlen(AUDIT_CONTINUES) + 1) == 0)
			fprintf(out, "audit: %s continues a file that is not "
			    "here (archived?): %s\n", file, v.first);
		fprintf(out, "audit: %s: %s\n", file,
		    audit_describe(&v, buf, sizeof(buf)));
		entries = v.entries;
		total += v.entries;
		memcpy(head, v.head, sizeof(head));
		snprintf(prev, sizeof(prev), "%s", file);
		if (i == n && v.unterminated)
			fprintf(out, "audit: the last entry has no newline "
			    "yet; the hub adds it at its next start\n");
	}
	sodium_bin2hex(buf, sizeof(buf), head, sizeof(head));
	fprintf(out, "audit: %zu files, %" PRIu64 " entries, chain intact "
	    "across them; head %s\n", n + 1, total, buf);
	return rc;
}

int
audit_verify_command(const char *path, FILE *out)
{
	struct audit_verify	 v;
	char			*cause = NULL, buf[512];
	unsigned		*serials = NULL;
	size_t			 n = 0;
	int			 rc;

	if (sodium_init() < 0) {
		fprintf(out, "audit: libsodium failed to initialise\n");
		return 70;
	}
	if (audit_list_rotated(path, &serials, &n, &cause) == 0 && n > 0) {
		rc = audit_verify_files(path, serials, n, out);
		free(serials);
		return rc;
	}
	free(cause);
	cause = NULL;
	if (audit_verify(path, &v, &cause) == -1) {
		fprintf(out, "audit: %s\n", cause ? cause : path);
		free(cause);
		return 66;
	}
	fprintf(out, "audit: %s\n", audit_describe(&v, buf, sizeof(buf)));
	if (!v.broken && v.unterminated)
		fprintf(out, "audit: the last entry has no newline yet; the "
		    "hub adds it at its next start\n");
	return v.broken ? 1 : 0;
}

int
audit_check(const char *path, char **cause)
{
	struct audit_verify	v;
	char			buf[512];
	struct stat		sb;

	if (stat(path, &sb) == -1 && errno == ENOENT)
		return 0;
	if (audit_verify(path, &v, cause) == -1)
		return -1;
	if (!v.broken || v.torn_tail || v.empty)
		return 0;
	cause_set(cause, "audit_log %s: %s (see ceptoard -A)", path,
	    audit_describe(&v, buf, sizeof(buf)));
	return -1;
}

/* fsync the folder holding path, so that a new file's name is durable. */
static int
audit_sync_dir(const char *path)
{
	char	*copy, *dir;
	int	 fd, rc = -1;

	if ((copy = strdup(path)) == NULL)
		return -1;
	dir = dirname(copy);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		rc = fsync(fd);
		close(fd);
	}
	free(copy);
	return rc;
}

/* Start a new trail in the empty file: the header, fsynced. */
static int
audit_write_header(char **cause)
{
	unsigned char	id[AUDIT_ID_LEN];
	char		line[128], hex[2 * AUDIT_ID_LEN + 1];
	int		n;
	ssize_t		r;

	randombytes_buf(id, sizeof(id));
	sodium_bin2hex(hex, sizeof(hex), id, sizeof(id));
	n = snprintf(line, sizeof(line), AUDIT_MAGIC " " AUDIT_VERSION " "
	    AUDIT_ALGORITHM " id=%s created=%" PRId64, hex, audit_now_ms());
	crypto_generichash(audit.head, sizeof(audit.head),
	    (unsigned char *)line, (size_t)n, NULL, 0);
	line[n++] = '\n';
	do
		r = write(audit.fd, line, (size_t)n);
	while (r == -1 && errno == EINTR);
	if (r != n || fsync(audit.fd) == -1 || (audit.dirfd != -1 ?
	    fsync(audit.dirfd) : audit_sync_dir(audit.path)) == -1) {
		cause_set(cause, "audit_log %s: cannot write its header: %s",
		    audit.path, strerror(r == -1 || r == n ? errno : EIO));
		return -1;
	}
	audit.seq = 0;
	audit.size = (uint64_t)n;
	return 0;
}

/*
 * Go on from an existing trail: verify it whole, record a torn last line,
 * or refuse.
 */
static int
audit_resume(char **cause)
{
	struct audit_verify	 v;
	char			 buf[512], hex[2 * AUDIT_HASH_LEN + 1];
	char			 text[160];
	ssize_t			 r;

	if (audit_verify_fd(audit.fd, &v, cause) == -1)
		return -1;
	if (v.broken && !v.torn_tail) {
		cause_set(cause, "audit_log %s: %s (the hub will not add "
		    "to a broken trail: look at it with ceptoard -A, keep it "
		    "as evidence, and start a new file)", audit.path,
		    audit_describe(&v, buf, sizeof(buf)));
		return -1;
	}
	audit.seq = v.entries;
	memcpy(audit.head, v.head, sizeof(audit.head));
	if (v.unterminated) {
		/* A good last entry that lost only its newline. */
		do
			r = write(audit.fd, "\n", 1);
		while (r == -1 && errno == EINTR);
		if (r != 1)
			goto fail;
	}
	if (v.torn_tail) {
		sodium_bin2hex(hex, sizeof(hex), v.tail_hash,
		    sizeof(v.tail_hash));
		snprintf(text, sizeof(text), "audit.torn line=%" PRIu64
		    " bytes=%zu blake2b=%s", v.bad_line, v.tail_bytes, hex);
		if (audit_write_entry(text, false, true) == -1)
			goto fail;
		log_event(LOG_LVL_WARN, "audit.torn", "path=%s line=%" PRIu64
		    " bytes=%zu entry=%" PRIu64 " reason=\"the last line was "
		    "cut short by a crash; kept, and recorded\"", audit.path,
		    v.bad_line, v.tail_bytes, audit.seq);
	}
	if ((v.torn_tail || v.unterminated) && fsync(audit.fd) == -1)
		goto fail;
	audit.dirty = false;
	return 0;
fail:
	cause_set(cause, "audit_log %s: cannot write: %s", audit.path,
	    strerror(errno));
	return -1;
}

/*
 * Open audit_log's folder (kept for rotation inside a chroot) and find
 * the highest rotated file number.  -1 with a cause.
 */
static int
audit_open_folder(const char *path, char **cause)
{
	char		*copy, *copy2;
	unsigned	*v;
	size_t		 n;

	copy = strdup(path);
	copy2 = strdup(path);
	if (copy == NULL || copy2 == NULL) {
		free(copy);
		free(copy2);
		cause_set(cause, "out of memory");
		return -1;
	}
	audit.dirfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	audit.base = strdup(basename(copy2));
	free(copy);
	free(copy2);
	if (audit.dirfd == -1 || audit.base == NULL) {
		cause_set(cause, "audit_log %s: its folder: %s", path,
		    strerror(errno));
		return -1;
	}
	if (audit_list_rotated(path, &v, &n, cause) == -1)
		return -1;
	audit.serial = n > 0 ? v[n - 1] : 0;
	free(v);
	return 0;
}

/* Let go of the folder opened by audit_open_folder. */
static void
audit_close_folder(void)
{
	if (audit.dirfd != -1)
		close(audit.dirfd);
	audit.dirfd = -1;
	free(audit.base);
	audit.base = NULL;
}

/*
 * The number N of a rotated file name "<base>.<N>" (AUDIT_SERIAL_DIGITS
 * digits or more), or 0 if name is not one.
 */
static unsigned
audit_serial_of(const char *base, const char *name)
{
	size_t		n = strlen(base), d;
	unsigned long	v;

	if (strncmp(name, base, n) != 0 || name[n] != '.')
		return 0;
	name += n + 1;
	d = strspn(name, "0123456789");
	if (d < AUDIT_SERIAL_DIGITS || d > 9 || name[d] != '\0')
		return 0;
	v = strtoul(name, NULL, 10);
	return v > 0 ? (unsigned)v : 0;
}

/*
 * The rotated files of the trail at path, by number: a malloc'd array of
 * *n numbers in ascending order (NULL when *n is 0).  -1 with a cause if
 * the folder cannot be read.
 */
static int
audit_list_rotated(const char *path, unsigned **out, size_t *n, char **cause)
{
	char		*copy, *copy2, *dir, *base;
	DIR		*d;
	struct dirent	*e;
	unsigned	*v = NULL, *nv, k, t;
	size_t		 cap = 0, i, j;
	int		 rc = -1;

	*out = NULL;
	*n = 0;
	copy = strdup(path);
	copy2 = strdup(path);
	if (copy == NULL || copy2 == NULL) {
		cause_set(cause, "out of memory");
		goto out;
	}
	dir = dirname(copy);
	base = basename(copy2);
	if ((d = opendir(dir)) == NULL) {
		cause_set(cause, "%s: %s", dir, strerror(errno));
		goto out;
	}
	while ((e = readdir(d)) != NULL) {
		if ((k = audit_serial_of(base, e->d_name)) == 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				closedir(d);
				cause_set(cause, "out of memory");
				goto out;
			}
			v = nv;
		}
		v[(*n)++] = k;
	}
	closedir(d);
	/* Insertion sort: rotations are few. */
	for (i = 1; i < *n; i++) {
		t = v[i];
		for (j = i; j > 0 && v[j - 1] > t; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
	*out = v;
	v = NULL;
	rc = 0;
out:
	free(v);
	free(copy);
	free(copy2);
	return rc;
}

/*
 * The first entry of a file that continues prev_name (entries, head):
 * what audit_rotate writes and what -A expects to find.
 */
static void
audit_continues_text(char *buf, size_t len, const char *prev_name,
    uint64_t entries, const unsigned char head[AUDIT_HASH_LEN])
{
	char	hex[2 * AUDIT_HASH_LEN + 1];

	sodium_bin2hex(hex, sizeof(hex), head, AUDIT_HASH_LEN);
	snprintf(buf, len, AUDIT_CONTINUES " file=%s entries=%" PRIu64
	    " head=%s", prev_name, entries, hex);
}

/*
 * In the empty file on audit.fd: the header, then the entry committing
 * to prev_name's last hash, fsynced with the folder.  -1 with a cause.
 */
static int
audit_start_continuation(const char *prev_name, uint64_t entries,
    const unsigned char head[AUDIT_HASH_LEN], char **cause)
{
	char	text[256];

	if (audit_write_header(cause) == -1)
		return -1;
	audit_continues_text(text, sizeof(text), prev_name, entries, head);
	audit.rotating = true;
	if (audit_write_entry(text, false, false) == -1) {
		audit.rotating = false;
		cause_set(cause, "audit_log %s: cannot write its first entry",
		    audit.path);
		return -1;
	}
	audit.rotating = false;
	if (fsync(audit.fd) == -1) {
		cause_set(cause, "audit_log %s: fsync: %s", audit.path,
		    strerror(errno));
		return -1;
	}
	audit.dirty = false;
	return 0;
}

/*
 * The current file reached audit_log_max: fsync it, rename it to the
 * next <base>.<N>, and go on in a new audit_log that commits to its last
 * hash.  The descriptor number stays the same (dup3), since the sync
 * thread may hold it.  Works inside a chroot: the folder was opened
 * before.  A failure stops the trail, as a failed write does.
 */
static int
audit_rotate(void)
{
	char		 name[PATH_MAX], *cause = NULL;
	unsigned char	 head[AUDIT_HASH_LEN];
	uint64_t	 entries = audit.seq;
	int		 fd;

	if (audit.dirfd == -1 || audit.base == NULL)
		return 0;
	if (fsync(audit.fd) == -1) {
		audit_fail("fsync", strerror(errno));
		return -1;
	}
	snprintf(name, sizeof(name), "%s.%0*u", audit.base,
	    AUDIT_SERIAL_DIGITS, audit.serial + 1);
	if (renameat(audit.dirfd, audit.base, audit.dirfd, name) == -1) {
		audit_fail("rename", strerror(errno));
		return -1;
	}
	audit.serial++;
	fd = openat(audit.dirfd, audit.base, O_RDWR | O_APPEND | O_CREAT |
	    O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 || dup3(fd, audit.fd, O_CLOEXEC) == -1) {
		audit_fail("open", strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	memcpy(head, audit.head, sizeof(head));
	if (audit_start_continuation(name, entries, head, &cause) == -1) {
		audit_fail("rotate", cause ? cause : "cannot start a new file");
		free(cause);
		return -1;
	}
	log_event(LOG_LVL_INFO, "audit.rotated", "path=%s previous=%s "
	    "entries=%" PRIu64 " max_bytes=%" PRIu64, audit.path, name,
	    entries, audit.max_bytes);
	return 0;
}

void
audit_set_max_bytes(uint64_t max_bytes)
{
	audit.max_bytes = max_bytes;
}

/*
 * A new, empty audit_log while rotated files exist (a crash between the
 * rename and the new file's first entry, or an operator's fresh start):
 * commit to the newest of them, as rotation would have.
 */
static int
audit_continue_from_rotated(char **cause)
{
	struct audit_verify	 v;
	char			 prev[PATH_MAX], buf[512], name[PATH_MAX];

	snprintf(name, sizeof(name), "%s.%0*u", audit.base,
	    AUDIT_SERIAL_DIGITS, audit.serial);
	snprintf(prev, sizeof(prev), "%s.%0*u", audit.path,
	    AUDIT_SERIAL_DIGITS, audit.serial);
	if (audit_verify(prev, &v, cause) == -1)
		return -1;
	if (v.broken) {
		cause_set(cause, "audit_log %s: %s (the hub will not continue "
		    "a broken trail; see ceptoard -A)", prev,
		    audit_describe(&v, buf, sizeof(buf)));
		return -1;
	}
	return audit_start_continuation(name, v.entries, v.head, cause);
}

int
audit_open(const char *path, struct event_base *base,
    void (*on_failure)(void), char **cause)
{
	struct stat	sb;
	char		hex[2 * AUDIT_HASH_LEN + 1];
	int		rc;

	if (audit.fd != -1)
		audit_close();
	memset(&audit, 0, sizeof(audit));
	audit.fd = -1;
	audit.dirfd = -1;
	if ((audit.path = strdup(path)) == NULL) {
		*cause = strdup("out of memory");
		return -1;
	}
	audit.fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (audit.fd == -1) {
		cause_set(cause, "audit_log %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (fstat(audit.fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		cause_set(cause, "audit_log %s: not a regular file",
		    path);
		goto fail;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		cause_set(cause, "audit_log %s: writable by group or others "
		    "(mode %03o); chmod 600 it", path,
		    (unsigned)(sb.st_mode & 0777));
		goto fail;
	}
	if (audit_open_folder(path, cause) == -1)
		goto fail;
	audit.size = (uint64_t)sb.st_size;
	if (sb.st_size > 0)
		rc = audit_resume(cause);
	else if (audit.serial > 0)
		rc = audit_continue_from_rotated(cause);
	else
		rc = audit_write_header(cause);
	if (rc == -1)
		goto fail;
	if (base != NULL &&
	    (audit.timer = evtimer_new(base, audit_timer_cb, NULL)) == NULL) {
		*cause = strdup("cannot set up the audit fsync timer");
		goto fail;
	}
	audit.on_failure = on_failure;
	sodium_bin2hex(hex, sizeof(hex), audit.head, sizeof(audit.head));
	log_event(LOG_LVL_INFO, "audit.open", "path=%s entries=%" PRIu64
	    " head=%s", path, audit.seq, hex);
	return 0;
fail:
	if (audit.fd != -1)
		close(audit.fd);
	audit.fd = -1;
	audit_close_folder();
	free(audit.path);
	audit.path = NULL;
	return -1;
}

void
audit_detach(void)
{
	if (audit.timer != NULL)
		event_free(audit.timer);
	audit.timer = NULL;
}

void
audit_close(void)
{
	char	hex[2 * AUDIT_HASH_LEN + 1];

	if (audit.fd == -1)
		return;
	audit_sync();
	sodium_bin2hex(hex, sizeof(hex), audit.head, sizeof(audit.head));
	close(audit.fd);
	audit.fd = -1;
	audit_close_folder();
	log_event(audit.failed ? LOG_LVL_ERROR : LOG_LVL_INFO, "audit.close",
	    "path=%s entries=%" PRIu64 " head=%s%s", audit.path, audit.seq,
	    hex, audit.failed ? " state=failed" : "");
	audit_detach();
	free(audit.path);
	audit.path = NULL;
	audit.on_failure = NULL;
}
