/*
 * Why something failed, as a malloc'd sentence for the caller to log or
 * send: the one way every module of the hub fills a char **cause.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "ceptoard.h"

void
cause_vset(char **cause, const char *fmt, va_list ap)
{
	if (cause == NULL)
		return;
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
}

void
cause_set(char **cause, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	cause_vset(cause, fmt, ap);
	va_end(ap);
}

/*
 * Read the KEYFILE_LEN-byte secret at path into key.  Refused with a
 * sentence that names the key (what) and says what to do: a symbolic
 * link, anything but a regular file, any permission for group or others
 * (the key could be read or replaced by them), another length, all
 * zeros.  key is left alone on a refusal.
 */
int
keyfile_read(const char *path, const char *what,
    unsigned char key[KEYFILE_LEN], char **cause)
{
	struct stat	 sb;
	unsigned char	 buf[KEYFILE_LEN + 1];
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd, rv = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		cause_set(cause, "%s %s: %s%s", what, path, strerror(errno),
		    errno == ELOOP ? " (a symbolic link is not accepted)" :
		    "");
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		cause_set(cause, "%s %s: %s", what, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		cause_set(cause, "%s %s is not a regular file", what, path);
		goto out;
	}
	if ((sb.st_mode & 077) != 0) {
		cause_set(cause, "%s %s has mode %04o: it must not be readable "
		    "or writable by group or others; chmod 600 it, and replace "
		    "it, since it may have been read", what, path,
		    (unsigned)(sb.st_mode & 07777));
		goto out;
	}
	/* One byte more than a key, to tell a longer file. */
	while (got < sizeof(buf)) {
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cause_set(cause, "%s %s: %s", what, path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != KEYFILE_LEN) {
		cause_set(cause, "%s %s has %s%zu bytes; a %s is exactly %d "
		    "random bytes (head -c %d /dev/urandom)", what, path,
		    got > KEYFILE_LEN ? "more than " : "",
		    got > KEYFILE_LEN ? (size_t)KEYFILE_LEN : got, what,
		    KEYFILE_LEN, KEYFILE_LEN);
		goto out;
	}
	if (sodium_is_zero(buf, KEYFILE_LEN)) {
		cause_set(cause, "%s %s is all zeros; make one with head -c %d "
		    "/dev/urandom", what, path, KEYFILE_LEN);
		goto out;
	}
	memcpy(key, buf, KEYFILE_LEN);
	rv = 0;
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return rv;
}
