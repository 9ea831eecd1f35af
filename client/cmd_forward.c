/*
 * ceptoar forward HUB-ID: pass on what we hold.  Without --to, along the
 * path of the message: the hop that waits for our review (a CEPTOAR
 * secretariat releasing a member's voluntary report, in the form the
 * hub makes for the next hops).  With --to, a share with named
 * organisations, within the message's TLP and the reporter's range.
 * Either way a note may go with it, the label may be tightened and the
 * range narrowed, never loosened or widened; the hub enforces that.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptoar.h"
#include "validate.h"

static int	cmd_forward_exec(struct client *, int, char **);

const struct cmd_entry cmd_forward_entry = {
	"forward", "hub-id [--note text] [--tlp label] [--text-file file] "
	    "[--to org]...\n        [--scope scope [--sector id]... "
	    "[--org id]...] [--uuid uuid]",
	cmd_forward_exec,
	"pass on what we hold: the next hop after review, or --to others"
};

/* Parse the options into fw; argv strings are used in place. */
static int
cmd_forward_options(int argc, char **argv, Ceptoar__Forward *fw,
    Ceptoar__SharingRange *range, char **lists, const char **text_file)
{
	static const struct option longopts[] = {
		{ "note", required_argument, NULL, 'n' },
		{ "tlp", required_argument, NULL, 't' },
		{ "text-file", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 'T' },
		{ "scope", required_argument, NULL, 's' },
		{ "sector", required_argument, NULL, 'S' },
		{ "org", required_argument, NULL, 'o' },
		{ "uuid", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	Ceptoar__SharingScope	 scope;
	Ceptoar__Tlp		 tlp;
	char			**to = lists, **sectors = lists + argc;
	char			**orgs = lists + 2 * argc;
	int			 ch, status;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if ((status = compose_check_text("--note", optarg))
			    != 0)
				return status;
			fw->note = optarg;
			break;
		case 't':
			if ((status = compose_tlp("--tlp", optarg, &tlp)) != 0)
				return status;
			fw->has_tlp = 1;
			fw->tlp = tlp;
			break;
		case 'f':
			*text_file = optarg;
			break;
		case 'T':
			if ((status = compose_id("--to", optarg)) != 0)
				return status;
			to[fw->n_recipients++] = optarg;
			break;
		case 's':
			if ((status = compose_scope("--scope", optarg,
			    &scope)) != 0)
				return status;
			range->has_scope = 1;
			range->scope = scope;
			break;
		case 'S':
			if ((status = compose_id("--sector", optarg)) != 0)
				return status;
			sectors[range->n_sectors++] = optarg;
			break;
		case 'o':
			if ((status = compose_id("--org", optarg)) != 0)
				return status;
			orgs[range->n_organisations++] = optarg;
			break;
		case 'u':
			if ((status = compose_uuid("--uuid", optarg)) != 0)
				return status;
			fw->uuid = optarg;
			break;
		default:
			return client_usage(&cmd_forward_entry);
		}
	}
	if (optind != argc - 1)
		return client_usage(&cmd_forward_entry);
	if ((status = compose_hub_id(&cmd_forward_entry, argv[optind])) != 0)
		return status;
	fw->hub_id = argv[optind];
	fw->recipients = to;
	range->sectors = sectors;
	range->organisations = orgs;
	if (!range->has_scope) {
		if (range->n_sectors > 0 || range->n_organisations > 0)
			return client_fail(EX_USAGE, "--sector and --org narrow "
			    "a range: give --scope with them");
		return 0;
	}
	if (range->scope == CEPTOAR__SHARING_SCOPE__SHARING_NAMED_SECTORS &&
	    range->n_sectors == 0)
		return client_fail(EX_USAGE, "--scope named_sectors: name the "
		    "sectors with --sector");
	if (range->scope ==
	    CEPTOAR__SHARING_SCOPE__SHARING_NAMED_ORGANISATIONS &&
	    range->n_organisations == 0)
		return client_fail(EX_USAGE, "--scope named_organisations: "
		    "name the organisations with --org");
	fw->sharing = range;
	return 0;
}

/* Build the Forward, send it, print the ack. */
static int
cmd_forward_exec(struct client *c, int argc, char **argv)
{
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT, *in = NULL;
	Ceptoar__Forward	 fw = CEPTOAR__FORWARD__INIT;
	Ceptoar__SharingRange	 range = CEPTOAR__SHARING_RANGE__INIT;
	struct hubconn		*hc = NULL;
	const char		*text_file = NULL;
	char			**lists, uuid[40], *text = NULL;
	int			 status;

	/* Each list has at most one entry per argument. */
	if ((lists = calloc(3 * (size_t)argc, sizeof(*lists))) == NULL)
		return client_fail(EX_UNAVAILABLE, "out of memory");
	if ((status = cmd_forward_options(argc, argv, &fw, &range, lists,
	    &text_file)) != 0)
		goto out;
	if (text_file != NULL) {
		if ((status = compose_read_text("--text-file", text_file,
		    &text)) != 0)
			goto out;
		fw.free_text = text;
	}
	if (fw.uuid == NULL) {
		report_json_uuid(uuid, sizeof(uuid));
		fw.uuid = uuid;
	}
	if ((status = client_connect(c, &hc)) != 0)
		goto out;
	env.body_case = CEPTOAR__ENVELOPE__BODY_FORWARD;
	env.forward = &fw;
	if (hubconn_send(hc, &env) != HUBCONN_OK ||
	    hubconn_expect(hc, CEPTOAR__ENVELOPE__BODY_SUBMIT_ACK,
	    &in) != HUBCONN_OK) {
		status = client_fail(hubconn_exit(hc), "%s",
		    hubconn_strerror(hc));
		/* The same uuid makes a retry the same forward. */
		if (status == EX_UNAVAILABLE)
			fprintf(stderr, "ceptoar: the hub may have forwarded "
			    "it; to retry without forwarding it twice, repeat "
			    "the command with --uuid %s\n", fw.uuid);
		goto out;
	}
	output_submit_ack(c, fw.uuid, in->submit_ack);
out:
	if (in != NULL)
		ceptoar__envelope__free_unpacked(in, NULL);
	hubconn_free(hc);
	free(text);
	free(lists);
	return status;
}
