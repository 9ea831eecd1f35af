/*
 * ceptoar: submit reports to the CEPTOAR hub, read an inbox, fetch one
 * message, check the connection.  Global options, then a command from
 * the table below; each command lives in its own cmd_*.c.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ceptoar.h"

static const struct cmd_entry *ceptoar_commands[] = {
	&cmd_submit_entry,
	&cmd_inbox_entry,
	&cmd_show_entry,
	&cmd_ping_entry,
	NULL
};

static const char ceptoar_exit_codes[] =
    "exit status:\n"
    "   0  done\n"
    "   1  the hub refused (it answered with an error)\n"
    "   2  no such message\n"
    "  64  bad command line\n"
    "  65  the report is invalid (nothing was sent)\n"
    "  66  cannot open the report file\n"
    "  69  hub unreachable, TLS failure, or connection lost\n"
    "  74  cannot write the output (nothing was acknowledged)\n"
    "  77  the hub refused our certificate or does not know our "
    "organisation\n"
    "  78  configuration error\n";

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
		status = client_fail(hubconn_exit(hc), "%s",
		    hubconn_strerror(hc));
		hubconn_free(hc);
		return status;
	}
	*hcp = hc;
	return 0;
}

/* The whole help text: options, commands, exit codes. */
static void
ceptoar_help(FILE *fp)
{
	const struct cmd_entry	**cmd;

	fprintf(fp,
	    "usage: ceptoar [-hqV] [--json] [-c file] command [arguments]\n"
	    "\n"
	    "options:\n"
	    "  -c file   configuration (default: $CEPTOAR_CONF, else\n"
	    "            ~/.config/ceptoar/ceptoar.conf, else\n"
	    "            /etc/ceptoar/ceptoar.conf)\n"
	    "  --json    print JSON, one object per line\n"
	    "  -q        print only what a script needs\n"
	    "            (--json and -q may also follow the command)\n"
	    "  -h        this help\n"
	    "  -V        print the version\n"
	    "\n"
	    "commands:\n");
	for (cmd = ceptoar_commands; *cmd != NULL; cmd++)
		fprintf(fp, "  %s%s%s\n      %s\n", (*cmd)->name,
		    *(*cmd)->usage != '\0' ? " " : "", (*cmd)->usage,
		    (*cmd)->help);
	fprintf(fp, "  help [command]\n      show this help, or one "
	    "command's usage\n\n%s", ceptoar_exit_codes);
}

/* The command called name, or NULL. */
static const struct cmd_entry *
ceptoar_find(const char *name)
{
	const struct cmd_entry	**cmd;

	for (cmd = ceptoar_commands; *cmd != NULL; cmd++)
		if (strcmp((*cmd)->name, name) == 0)
			return *cmd;
	return NULL;
}

/* ceptoar help [command] */
static int
ceptoar_cmd_help(int argc, char **argv)
{
	const struct cmd_entry	*cmd;

	if (argc < 2) {
		ceptoar_help(stdout);
		return client_flush();
	}
	if ((cmd = ceptoar_find(argv[1])) == NULL)
		return client_fail(EX_USAGE, "no such command: %s (try "
		    "\"ceptoar help\")", argv[1]);
	printf("usage: ceptoar [-q] [--json] [-c file] %s%s%s\n  %s\n",
	    cmd->name, *cmd->usage != '\0' ? " " : "", cmd->usage, cmd->help);
	return client_flush();
}

/*
 * Take --json and -q out of a command's arguments (up to "--"), since
 * typing them at the end of the line is what people do.
 */
static int
ceptoar_late_options(struct client *c, int argc, char **argv)
{
	int	i, j;

	for (i = j = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[j++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--json") == 0)
			c->json = true;
		else if (strcmp(argv[i], "-q") == 0)
			c->quiet = true;
		else
			argv[j++] = argv[i];
	}
	argv[j] = NULL;
	return j;
}

/* Global options, then the command from the table. */
int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry	*cmd;
	struct client		 c;
	char			*defpath = NULL;
	int			 ch, status;

	memset(&c, 0, sizeof(c));
	/* Writes to a closed socket or pipe must fail, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0)
		return client_fail(EX_SOFTWARE, "cannot initialise libsodium");

	while ((ch = getopt_long(argc, argv, "+c:hqV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c.conf_path = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		case 'q':
			c.quiet = true;
			break;
		case 'h':
			ceptoar_help(stdout);
			return client_flush();
		case 'V':
			printf("ceptoar %s\n", CEPTOAR_VERSION);
			return client_flush();
		default:
			ceptoar_help(stderr);
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		ceptoar_help(stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[0], "help") == 0)
		return ceptoar_cmd_help(argc, argv);
	if ((cmd = ceptoar_find(argv[0])) == NULL) {
		return client_fail(EX_USAGE, "no such command: %s (try "
		    "\"ceptoar help\")", argv[0]);
	}
	if (c.conf_path == NULL) {
		if ((defpath = clientconf_default_path()) == NULL)
			return client_fail(EX_CONFIG, "out of memory");
		c.conf_path = defpath;
	}
	argc = ceptoar_late_options(&c, argc, argv);

	optind = 0;	/* glibc: reinitialise for the command's options */
	status = cmd->exec(&c, argc, argv);
	if (status == 0)
		status = client_flush();
	clientconf_free(c.conf);
	free(defpath);
	return status;
}
