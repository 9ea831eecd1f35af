/*
 * ceptoar reply HUB-ID TEXT: answer a message we received (a
 * consultation, a question to the pseudonym of our report, a reply).
 * The hub sends it back the way the message came: to an anonymised
 * chain through the relaying secretariat, so that neither side learns
 * who the other is.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "ceptoar.h"

static int	cmd_reply_exec(struct client *, int, char **);

const struct cmd_entry cmd_reply_entry = {
	"reply", "hub-id text|--file file [--tlp label]",
	cmd_reply_exec,
	"answer a message we received, back the way it came"
};

/* Build the Reply from the arguments and send it. */
static int
cmd_reply_exec(struct client *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "tlp", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	Ceptoar__Message	 m;
	Ceptoar__Reply		 reply = CEPTOAR__REPLY__INIT;
	Ceptoar__Tlp		 tlp = CEPTOAR__TLP__TLP_AMBER;
	const char		*file = NULL;
	char			 uuid[40], *text = NULL;
	int			 ch, n, status;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 't':
			if ((status = compose_tlp("--tlp", optarg, &tlp)) != 0)
				return status;
			break;
		default:
			return client_usage(&cmd_reply_entry);
		}
	}
	n = argc - optind;
	if (n != (file != NULL ? 1 : 2))
		return client_usage(&cmd_reply_entry);
	if ((status = compose_hub_id(&cmd_reply_entry, argv[optind])) != 0)
		return status;
	if (file != NULL) {
		if ((status = compose_read_text("--file", file, &text)) != 0)
			return status;
		reply.text = text;
	} else {
		if ((status = compose_check_text("text", argv[optind + 1]))
		    != 0)
			return status;
		reply.text = argv[optind + 1];
	}
	compose_init(&m, uuid, tlp);
	reply.in_reply_to = argv[optind];
	m.content_case = CEPTOAR__MESSAGE__CONTENT_REPLY;
	m.reply = &reply;
	status = compose_send(c, &m);
	free(text);
	return status;
}
