/*
 * ceptoar: submit reports to the CEPTOAR hub and preview their routes,
 * read an inbox, fetch one message, forward what we hold, follow a
 * message's receipts, answer and consult, widen a range by consent, run
 * communication checks, check the connection.  Global options, then a
 * command from the table below; each command lives in its own cmd_*.c.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ceptoar.h"

static const struct cmd_entry *ceptoar_commands[] = {
	&cmd_submit_entry,
	&cmd_preview_entry,
	&cmd_inbox_entry,
	&cmd_show_entry,
	&cmd_forward_entry,
	&cmd_review_entry,
	&cmd_receipts_entry,
	&cmd_reply_entry,
	&cmd_consult_entry,
	&cmd_widen_entry,
	&cmd_consent_entry,
	&cmd_check_entry,
	&cmd_ping_entry,
	NULL
};

static const char ceptoar_exit_codes[] =
    "exit status:\n"
    "   0  done\n"
    "   1  the hub refused (it answered with an error: not-permitted,\n"
    "      tlp-refused, range-refused, not-holder, ...)\n"
    "   2  no such message (not-found)\n"
    "   3  stopped on a warning; nothing was sent (see --accept-warnings)\n"
    "  64  bad command line\n"
    "  65  the report is invalid (nothing was sent)\n"
    "  66  cannot open the report file\n"
    "  69  hub unreachable, TLS failure, or connection lost\n"
    "  74  cannot write the output (nothing was acknowledged)\n"
    "  77  the hub refused our certificate or does not know our "
    "organisation\n"
    "  78  configuration error\n";

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
