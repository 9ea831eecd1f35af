/*
 * Unit test of the audit trail (audit.c, through log.c): what is kept and
 * what is not, whatever the log level; the chain across restarts; and the
 * verifier naming the first broken entry when one is changed, removed,
 * moved or repeated, or the header is changed.  A torn last line from a
 * crash is kept and recorded; a failed write stops the trail.  Each run
 * works in its own folder under /tmp and removes it.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "ceptoard.h"
#include "check.h"

static char	tmpdir[] = "/tmp/test_audit.XXXXXX";
static int	failures_seen;

/* A path in the test folder, in one of a few static buffers. */
static const char *
test_path(const char *name)
{
	static char	buf[4][512];
	static int	i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

/* The whole of a file, NUL-terminated; *len its size. */
static char *
slurp(const char *path, size_t *len)
{
	FILE	*fp;
	char	*s;
	long	 n;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	s = malloc((size_t)n + 1);
	if (s != NULL && fread(s, 1, (size_t)n, fp) != (size_t)n) {
		free(s);
		s = NULL;
	}
	if (s != NULL)
		s[n] = '\0';
	if (len != NULL)
		*len = (size_t)n;
	fclose(fp);
	return s;
}

/* Write len bytes of s to path, replacing it (mode 0600). */
static void
spill(const char *path, const char *s, size_t len)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd != -1 && write(fd, s, len) == (ssize_t)len);
	if (fd != -1)
		close(fd);
}

/* Where line n (1-based) of s starts, or NULL. */
static char *
line_at(char *s, int n)
{
	for (; n > 1 && s != NULL; n--)
		if ((s = strchr(s, '\n')) != NULL)
			s++;
	return s;
}

/* The length of the line starting at p, its newline included. */
static size_t
line_len(const char *p)
{
	const char	*nl = strchr(p, '\n');

	return nl ? (size_t)(nl - p) + 1 : strlen(p);
}

/* Counted by the trail's failure hook. */
static void
on_failure(void)
{
	failures_seen++;
}

/* Open path as the trail or report why not. */
static int
open_trail(const char *path)
{
	char	*cause = NULL;
	int	 rc;

	rc = audit_open(path, NULL, on_failure, &cause);
	if (rc == -1)
		fprintf(stderr, "audit_open: %s\n", cause ? cause : "?");
	free(cause);
	return rc;
}

/* Verify path; returns the verdict line audit_describe makes. */
static const char *
verify(const char *path, struct audit_verify *v)
{
	static char	 buf[512];
	char		*cause = NULL;

	memset(v, 0, sizeof(*v));
	if (audit_verify(path, v, &cause) == -1) {
		snprintf(buf, sizeof(buf), "unreadable: %s", cause);
		free(cause);
		return buf;
	}
	return audit_describe(v, buf, sizeof(buf));
}

/* A trail of n entries of audited events, written through log_event. */
static void
make_trail(const char *path, int n)
{
	int	i;

	unlink(path);
	CHECK(open_trail(path) == 0);
	for (i = 1; i <= n; i++)
		log_event(LOG_LVL_INFO, "submit.accepted", "session=s%d org=bank-a "
		    "hub_id=H-%d seq=%d", i, i, i);
	CHECK(audit_sync() == 0);
	audit_close();
}

/* Kept and left out, whatever the level; the file's shape and mode. */
static void
test_append(void)
{
	const char		*path = test_path("a.log");
	struct audit_verify	 v;
	struct stat		 sb;
	char			*s, esc[64];

	CHECK(!audit_wanted("submit.accepted"));	/* nothing open */
	CHECK(open_trail(path) == 0);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	CHECK(audit_wanted("submit.accepted"));
	CHECK(audit_wanted("route.recipient"));
	CHECK(audit_wanted("deliver.ack"));
	CHECK(audit_wanted("session.close"));
	CHECK(!audit_wanted("session.open"));
	CHECK(!audit_wanted("deliver.subscribe"));
	CHECK(!audit_wanted("submit"));
	CHECK(!audit_wanted("audit.torn"));	/* only audit.c writes those */
	log_event(LOG_LVL_INFO, "submit.accepted", "session=s1 org=bank-a "
	    "hub_id=H-1 uuid=u-1");
	log_event(LOG_LVL_INFO, "route.recipient", "hub_id=H-1 org=fsa "
	    "hop=0 reason=%s", log_escape("sector\nliaison", esc, sizeof(esc)));
	/* Below the log level (error, in main), still kept. */
	log_event(LOG_LVL_DEBUG, "deliver.sent", "session=s2 org=fsa seq=1");
	log_event(LOG_LVL_INFO, "session.open", "session=s3 peer=x");
	/* A raw control byte, should a caller forget log_escape. */
	log_event(LOG_LVL_INFO, "session.close", "session=s3 reason=a\nb\r");
	log_event(LOG_LVL_INFO, "deliver.ack", "session=s2 org=fsa seqs=1");
	CHECK(audit_sync() == 0);
	audit_close();
	CHECK(!audit_wanted("submit.accepted"));	/* closed */

	s = slurp(path, NULL);
	CHECK(s != NULL && strncmp(s, "ceptoard-audit 1 blake2b-256 id=",
	    32) == 0);
	CHECK_CONTAINS(line_at(s, 2), "1 ");
	CHECK(strncmp(line_at(s, 2), "1 ", 2) == 0);
	CHECK(strncmp(line_at(s, 3), "2 ", 2) == 0);
	CHECK_CONTAINS(s, " submit.accepted session=s1 org=bank-a hub_id=H-1");
	CHECK_CONTAINS(s, "reason=\"sector\\x0aliaison\"");
	CHECK_CONTAINS(s, " deliver.sent session=s2");
	CHECK_CONTAINS(s, "reason=a\\x0ab\\x0d ");
	CHECK(s != NULL && strstr(s, "session.open") == NULL);
	CHECK(line_at(s, 7) != NULL && strncmp(line_at(s, 6), "5 ", 2) == 0 &&
	    *line_at(s, 7) == '\0');
	free(s);
	CHECK_CONTAINS(verify(path, &v), "5 entries, chain intact; head ");
	CHECK(!v.broken && v.entries == 5 && v.lines == 6);
}

/* A restart continues the chain; the verdict and -A's exit status. */
static void
test_continue(void)
{
	const char		*path = test_path("c.log");
	struct audit_verify	 v;
	unsigned char		 head[AUDIT_HASH_LEN];
	char			*s;
	FILE			*out;
	char			 buf[512];

	make_trail(path, 3);
	verify(path, &v);
	CHECK(!v.broken && v.entries == 3);
	memcpy(head, v.head, sizeof(head));
	CHECK(open_trail(path) == 0);
	log_event(LOG_LVL_INFO, "config.reload", "result=ok orgs=3");
	audit_close();
	verify(path, &v);
	CHECK(!v.broken && v.entries == 4 && v.lines == 5);
	CHECK(memcmp(head, v.head, sizeof(head)) != 0);
	s = slurp(path, NULL);
	CHECK(strncmp(line_at(s, 5), "4 ", 2) == 0);
	CHECK(strstr(s, "ceptoard-audit") == s &&
	    strstr(s + 1, "ceptoard-audit") == NULL);	/* one header */
	free(s);

	out = tmpfile();
	CHECK(audit_verify_command(path, out) == 0);
	rewind(out);
	CHECK(fgets(buf, sizeof(buf), out) != NULL);
	CHECK_CONTAINS(buf, "audit: 4 entries, chain intact");
	fclose(out);
	out = tmpfile();
	CHECK(audit_verify_command(test_path("absent.log"), out) == 66);
	fclose(out);
}

/* Apply one change to a copy of a good trail; expect entry/line/words. */
static void
expect_broken(const char *what, void (*change)(char *, size_t *),
    uint64_t entry, uint64_t line, const char *words)
{
	const char		*good = test_path("good.log");
	const char		*bad = test_path("bad.log");
	struct audit_verify	 v;
	char			*s, *cause = NULL, want[64], buf[512];
	size_t			 len;
	FILE			*out;

	make_trail(good, 6);
	s = slurp(good, &len);
	s = realloc(s, len + 512);	/* room for a line more */
	change(s, &len);
	spill(bad, s, len);
	free(s);
	verify(bad, &v);
	if (!v.broken || v.bad_entry != entry || v.bad_line != line ||
	    strstr(v.why, words) == NULL)
		fprintf(stderr, "%s: got entry %llu line %llu: %s\n", what,
		    (unsigned long long)v.bad_entry,
		    (unsigned long long)v.bad_line, v.why);
	CHECK(v.broken);
	CHECK(v.bad_entry == entry);
	CHECK(v.bad_line == line);
	CHECK_CONTAINS(v.why, words);
	CHECK(!v.torn_tail);

	/* ceptoard -A: the first broken entry, exit 1. */
	out = tmpfile();
	CHECK(audit_verify_command(bad, out) == 1);
	rewind(out);
	CHECK(fgets(buf, sizeof(buf), out) != NULL);
	if (entry > 0)
		snprintf(want, sizeof(want), "audit: entry %llu (line %llu) is "
		    "broken: ", (unsigned long long)entry,
		    (unsigned long long)line);
	else
		snprintf(want, sizeof(want), "audit: header (line 1) is broken: ");
	CHECK(strncmp(buf, want, strlen(want)) == 0);
	fclose(out);

	/* The hub refuses to go on from it, naming the place. */
	CHECK(audit_open(bad, NULL, NULL, &cause) == -1);
	CHECK_CONTAINS(cause, want + strlen("audit: "));
	free(cause);
	cause = NULL;
	CHECK(audit_check(bad, &cause) == -1);
	CHECK_CONTAINS(cause, "see ceptoard -A");
	free(cause);
}

/* Flip one byte in the middle of entry 3's event text. */
static void
change_flip(char *s, size_t *len)
{
	char	*p = line_at(s, 4);

	p += line_len(p) / 3;
	*p ^= 0x01;
}

/* Change one hex digit of entry 4's stored hash. */
static void
change_hash(char *s, size_t *len)
{
	char	*p = line_at(s, 5);

	p += line_len(p) - 10;
	*p = *p == '0' ? '1' : '0';
}

/* Change entry 2's time by a millisecond. */
static void
change_time(char *s, size_t *len)
{
	char	*p = strchr(line_at(s, 3), ' ') + 1;

	p += strcspn(p, " ") - 1;
	*p = *p == '0' ? '1' : '0';
}

/* Remove entry 2. */
static void
change_remove(char *s, size_t *len)
{
	char	*p = line_at(s, 3);
	size_t	 n = line_len(p);

	memmove(p, p + n, strlen(p + n) + 1);
	*len -= n;
}

/* Swap entries 3 and 4. */
static void
change_swap(char *s, size_t *len)
{
	char	*a = line_at(s, 4), *b = line_at(s, 5), tmp[1024];
	size_t	 na = line_len(a), nb = line_len(b);

	memcpy(tmp, a, na);
	memmove(a, b, nb);
	memcpy(a + nb, tmp, na);
}

/* Repeat entry 5 after itself, dropping entry 6. */
static void
change_repeat(char *s, size_t *len)
{
	char	*a = line_at(s, 6), *b = line_at(s, 7);
	size_t	 na = line_len(a), nb = line_len(b);

	memcpy(b, a, na);
	*len = *len - nb + na;
	s[*len] = '\0';
}

/* Change one digit of the header's id. */
static void
change_header_id(char *s, size_t *len)
{
	char	*p = strstr(s, "id=") + 3;

	*p = *p == 'a' ? 'b' : 'a';
}

/* Claim a version this reader does not know. */
static void
change_header_version(char *s, size_t *len)
{
	s[strlen("ceptoard-audit ")] = '2';
}

/* A well-formed line that is no entry, added at the end. */
static void
change_append_garbage(char *s, size_t *len)
{
	const char	*g = "7 1700000000000 submit.accepted org=forged "
	    "0000000000000000000000000000000000000000000000000000000000000000\n";

	memcpy(s + *len, g, strlen(g));
	*len += strlen(g);
}

/* Every kind of change is caught at its first broken entry. */
static void
test_tamper(void)
{
	expect_broken("flip", change_flip, 3, 4, "hash does not match");
	expect_broken("hash", change_hash, 4, 5, "hash does not match");
	expect_broken("time", change_time, 2, 3, "hash does not match");
	expect_broken("remove", change_remove, 2, 3,
	    "sequence number 3 where 2 was expected");
	expect_broken("swap", change_swap, 3, 4,
	    "sequence number 4 where 3 was expected");
	expect_broken("repeat", change_repeat, 6, 7,
	    "sequence number 5 where 6 was expected");
	expect_broken("garbage", change_append_garbage, 7, 8,
	    "hash does not match");
	expect_broken("header id", change_header_id, 1, 2, "and the header");
	expect_broken("header version", change_header_version, 0, 1,
	    "unknown format version");
}

/*
 * A crash tears the last line: -A says so, the hub keeps the bytes,
 * records them as audit.torn, and the chain is intact again.
 */
static void
test_torn(void)
{
	const char		*path = test_path("t.log");
	struct audit_verify	 v;
	char			*s, *cause = NULL, *frag, want[160];
	size_t			 len, cut;
	unsigned char		 h[32];
	char			 hex[65];

	make_trail(path, 4);
	s = slurp(path, &len);
	cut = len - 30;		/* into entry 4's hash */
	spill(path, s, cut);
	verify(path, &v);
	CHECK(v.broken && v.torn_tail && v.bad_entry == 4 && v.bad_line == 5);
	CHECK_CONTAINS(v.why, "cut short");
	CHECK(audit_check(path, &cause) == 0);	/* -n: the start records it */
	frag = line_at(s, 5);
	crypto_generichash(h, sizeof(h), (unsigned char *)frag,
	    cut - (size_t)(frag - s), NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(want, sizeof(want), " audit.torn line=5 bytes=%zu blake2b=%s ",
	    cut - (size_t)(frag - s), hex);
	free(s);

	CHECK(open_trail(path) == 0);
	log_event(LOG_LVL_INFO, "ceptoard.ready", "pid=1");
	audit_close();
	verify(path, &v);
	CHECK(!v.broken && v.entries == 5 && v.torn == 1 && v.lines == 7);
	s = slurp(path, &len);
	CHECK(strncmp(line_at(s, 6), "4 ", 2) == 0);	/* the claim is entry 4 */
	CHECK_CONTAINS(line_at(s, 6), want);
	CHECK(strncmp(line_at(s, 7), "5 ", 2) == 0);
	CHECK_CONTAINS(line_at(s, 7), "ceptoard.ready");
	/* The torn bytes are still there, ended by a newline. */
	CHECK(strncmp(line_at(s, 5), "4 ", 2) == 0);
	CHECK_CONTAINS(verify(path, &v), "1 torn line(s)");

	/* Changing the kept fragment breaks the claim: named at the fragment. */
	line_at(s, 5)[3] ^= 0x01;
	spill(path, s, len);
	free(s);
	verify(path, &v);
	CHECK(v.broken && !v.torn_tail && v.bad_entry == 4 && v.bad_line == 5);
	CHECK(open_trail(path) == -1);

	/* Only the newline lost: the line is ended, nothing is claimed. */
	make_trail(path, 2);
	s = slurp(path, &len);
	spill(path, s, len - 1);	/* only the newline lost */
	free(s);
	verify(path, &v);
	CHECK(!v.broken && v.unterminated && v.entries == 2);
	CHECK(open_trail(path) == 0);	/* ends the line, no audit.torn */
	log_event(LOG_LVL_INFO, "ceptoard.stopped", NULL);
	audit_close();
	verify(path, &v);
	CHECK(!v.broken && !v.unterminated && v.entries == 3 && v.torn == 0);
	s = slurp(path, NULL);
	CHECK(strstr(s, "audit.torn") == NULL);
	free(s);

	/* A claim with nothing torn before it is itself a broken entry. */
	CHECK(open_trail(path) == 0);
	audit_append("audit.torn line=2 bytes=1 blake2b=00");
	audit_close();
	verify(path, &v);
	CHECK(v.broken && v.bad_entry == 4 && v.bad_line == 5);
	CHECK_CONTAINS(v.why, "no torn line before it");
}

/* Files the hub must not start from, and the empty file it may. */
static void
test_refusals(void)
{
	const char		*path = test_path("r.log");
	struct audit_verify	 v;
	char			*cause = NULL;
	int			 fd;

	/* Empty: -A says so; the hub starts a new trail in it. */
	spill(path, "", 0);
	verify(path, &v);
	CHECK(v.broken && v.empty && v.bad_entry == 0);
	CHECK(open_trail(path) == 0);
	audit_close();
	verify(path, &v);
	CHECK(!v.broken && v.entries == 0);

	/* Not ours. */
	spill(path, "hello\n", 6);
	CHECK(audit_open(path, NULL, NULL, &cause) == -1);
	CHECK_CONTAINS(cause, "header (line 1) is broken: not a ceptoard");
	free(cause);
	cause = NULL;

	/* Anyone in the group could rewrite it. */
	make_trail(path, 1);
	chmod(path, 0620);
	CHECK(audit_open(path, NULL, NULL, &cause) == -1);
	CHECK_CONTAINS(cause, "writable by group or others");
	free(cause);
	cause = NULL;

	/* A folder that does not exist. */
	CHECK(audit_open(test_path("no/such.log"), NULL, NULL, &cause) == -1);
	CHECK_CONTAINS(cause, "No such file");
	free(cause);
	cause = NULL;
	CHECK(audit_check(test_path("absent.log"), &cause) == 0);

	/* A line too long to be an entry, and NUL bytes. */
	make_trail(path, 1);
	fd = open(path, O_WRONLY | O_APPEND);
	{
		static char	long_line[20000];

		memset(long_line, 'x', sizeof(long_line) - 1);
		long_line[sizeof(long_line) - 1] = '\n';
		CHECK(write(fd, long_line, sizeof(long_line)) ==
		    (ssize_t)sizeof(long_line));
		CHECK(write(fd, "\0\0\n", 3) == 3);
	}
	close(fd);
	verify(path, &v);
	CHECK(v.broken && v.bad_entry == 2 && v.bad_line == 3);
	CHECK_CONTAINS(v.why, "longer than");
}

/*
 * A write that fails (here: the file size limit) stops the trail, calls
 * the hook once and makes audit_sync fail; a short one leaves a torn
 * line that the next start records.
 */
static void
test_write_failure(void)
{
	const char		*path = test_path("f.log");
	struct audit_verify	 v;
	struct rlimit		 old, lim;
	struct stat		 sb;

	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);

	make_trail(path, 2);
	CHECK(open_trail(path) == 0);
	stat(path, &sb);
	lim = old;
	lim.rlim_cur = (rlim_t)sb.st_size + 20;	/* room for a part of one */
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	failures_seen = 0;
	log_event(LOG_LVL_INFO, "deliver.ack", "session=s1 org=fsa seqs=1");
	CHECK(failures_seen == 1);
	CHECK(audit_sync() == -1);
	CHECK(!audit_wanted("deliver.ack"));	/* nothing more is appended */
	log_event(LOG_LVL_INFO, "deliver.ack", "session=s1 org=fsa seqs=2");
	CHECK(failures_seen == 1);
	audit_close();
	CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);

	verify(path, &v);
	CHECK(v.broken && v.torn_tail && v.entries == 2 && v.tail_bytes == 20);
	CHECK(open_trail(path) == 0);
	audit_close();
	verify(path, &v);
	CHECK(!v.broken && v.entries == 3 && v.torn == 1);
	signal(SIGXFSZ, SIG_DFL);
}

int
main(void)
{
	char	cmd[300];

	if (sodium_init() < 0 || mkdtemp(tmpdir) == NULL)
		return 1;
	/* Only errors on stderr: the trail must not depend on the level. */
	log_init(1, LOG_LVL_ERROR);
	test_append();
	test_continue();
	test_tamper();
	test_torn();
	test_refusals();
	test_write_failure();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return CHECK_DONE();
}
