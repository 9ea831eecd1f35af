/*
 * ceptoar consent HUB-ID --approve|--decline: the reporter's answer to a
 * request to widen the sharing range of its report.  Only the reporter
 * can give it; an approval widens the range at once.
 */
#include <getopt.h>
#include <stdio.h>

#include "ceptoar.h"

static int	cmd_consent_exec(struct client *, int, char **);

const struct cmd_entry cmd_consent_entry = {
	"consent", "hub-id --approve|--decline [--note text]",
	cmd_consent_exec,
	"answer a request to widen the sharing range of our report"
};

/* Build the ConsentAnswer from the arguments and send it. */
static int
cmd_consent_exec(struct client *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "approve", no_argument, NULL, 'a' },
		{ "decline", no_argument, NULL, 'd' },
		{ "note", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	Ceptoar__Message	 m;
	Ceptoar__ConsentAnswer	 a = CEPTOAR__CONSENT_ANSWER__INIT;
	char			 uuid[40];
	int			 ch, status;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
		case 'd':
			if (a.has_approve &&
			    (a.approve != 0) != (ch == 'a'))
				return client_fail(EX_USAGE, "give --approve "
				    "or --decline, not both");
			a.has_approve = 1;
			a.approve = ch == 'a';
			break;
		case 'n':
			if ((status = compose_check_text("--note", optarg))
			    != 0)
				return status;
			a.note = optarg;
			break;
		default:
			return client_usage(&cmd_consent_entry);
		}
	}
	if (argc - optind != 1)
		return client_usage(&cmd_consent_entry);
	if (!a.has_approve) {
		fprintf(stderr, "ceptoar: consent: say --approve or "
		    "--decline\n");
		return client_usage(&cmd_consent_entry);
	}
	if ((status = compose_hub_id(&cmd_consent_entry, argv[optind])) != 0)
		return status;
	compose_init(&m, uuid, CEPTOAR__TLP__TLP_AMBER);
	a.request = argv[optind];
	m.content_case = CEPTOAR__MESSAGE__CONTENT_CONSENT_ANSWER;
	m.consent_answer = &a;
	return compose_send(c, &m);
}
