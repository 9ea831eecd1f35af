/*
 * ceptoar consult --to liaison|nisc TEXT: ask the sector's liaison, or
 * NISC, whether something must be reported.  The answer comes back as a
 * reply in the inbox, with in_reply_to naming the question.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ceptoar.h"

static int	cmd_consult_exec(struct client *, int, char **);

const struct cmd_entry cmd_consult_entry = {
	"consult", "--to liaison|nisc [--sector id] [--tlp label] text",
	cmd_consult_exec,
	"ask the liaison or NISC whether something must be reported"
};

/* Build the Consultation from the arguments and send it. */
static int
cmd_consult_exec(struct client *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "to", required_argument, NULL, 'T' },
		{ "sector", required_argument, NULL, 'S' },
		{ "tlp", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	Ceptoar__Message	 m;
	Ceptoar__Consultation	 q = CEPTOAR__CONSULTATION__INIT;
	Ceptoar__Tlp		 tlp = CEPTOAR__TLP__TLP_AMBER;
	char			 uuid[40];
	int			 ch, status;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'T':
			if (strcmp(optarg, "liaison") != 0 &&
			    strcmp(optarg, "nisc") != 0)
				return client_fail(EX_USAGE, "--to: \"%s\" is "
				    "neither liaison nor nisc", optarg);
			q.to = optarg;
			break;
		case 'S':
			if ((status = compose_id("--sector", optarg)) != 0)
				return status;
			q.sector = optarg;
			break;
		case 't':
			if ((status = compose_tlp("--tlp", optarg, &tlp)) != 0)
				return status;
			break;
		default:
			return client_usage(&cmd_consult_entry);
		}
	}
	if (q.to == NULL) {
		fprintf(stderr, "ceptoar: consult: say whom to ask with --to "
		    "liaison or --to nisc\n");
		return client_usage(&cmd_consult_entry);
	}
	if (argc - optind != 1)
		return client_usage(&cmd_consult_entry);
	if ((status = compose_check_text("text", argv[optind])) != 0)
		return status;
	q.question = argv[optind];
	compose_init(&m, uuid, tlp);
	m.content_case = CEPTOAR__MESSAGE__CONTENT_CONSULTATION;
	m.consultation = &q;
	return compose_send(c, &m);
}
