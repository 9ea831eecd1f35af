/*
 * What every command shares: one way to fail, to warn, to complain about
 * a command line, to make sure output went out, and to reach the hub.
 * Kept apart from main so that the unit tests link the same code.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptoar.h"

/* Every error ends here: one line on stderr, after what was printed. */
int
client_fail(int status, const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	fputs("ceptoar: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

/* Something the user should fix, though we carry on. */
void
client_warn(const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	fputs("ceptoar: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A command's synopsis, for a command line it could not parse. */
int
client_usage(const struct cmd_entry *cmd)
{
	fprintf(stderr, "usage: ceptoar [-q] [--json] [-c file] %s%s%s\n",
	    cmd->name, *cmd->usage != '\0' ? " " : "", cmd->usage);
	return EX_USAGE;
}

/* Make sure our output really went out before anything is acknowledged. */
int
client_flush(void)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		return client_fail(EX_IOERR, "cannot write output: %s",
		    strerror(errno));
	return 0;
}

/* The one way commands reach the hub; see ceptoar.h. */
int
client_connect(struct client *c, struct hubconn **hcp)
{
	struct hubconn	*hc;
	char		*cause;
	unsigned int	 mode;
	int		 status;

	*hcp = NULL;
	if (c->conf == NULL) {
		if ((c->conf = clientconf_load(c->conf_path, &cause)) == NULL) {
			status = client_fail(EX_CONFIG, "%s", cause != NULL ?
			    cause : "out of memory");
			free(cause);
			return status;
		}
		if (clientconf_key_exposed(c->conf, &mode))
			client_warn("%s: the private key %s is readable by "
			    "group or others (mode %03o); chmod 600 it",
			    c->conf->path, c->conf->key, mode);
	}
	if ((hc = hubconn_new(c->conf)) == NULL)
		return client_fail(EX_UNAVAILABLE, "out of memory");
	if (hubconn_open(hc) != HUBCONN_OK) {
		c->lost = hubconn_lost(hc);
		status = client_fail(hubconn_exit(hc), "%s",
		    hubconn_strerror(hc));
		hubconn_free(hc);
		return status;
	}
	*hcp = hc;
	return 0;
}
