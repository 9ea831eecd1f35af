/*
 * ceptoar widen HUB-ID --scope SCOPE: ask the reporter of a report we
 * received to let it go further than its sharing range.  Only NISC and
 * the liaisons ask; only the reporter can agree (ceptoar consent), and
 * the request reaches it through its secretariat if the report came
 * anonymised.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "ceptoar.h"

static int	cmd_widen_exec(struct client *, int, char **);

const struct cmd_entry cmd_widen_entry = {
	"widen", "hub-id --scope scope [--sector id]... [--org id]... "
	    "[--reason text]\n        [--tlp label]",
	cmd_widen_exec,
	"ask the reporter of a report to widen its sharing range"
};

/* Build the WidenRequest from the arguments and send it. */
static int
cmd_widen_exec(struct client *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "scope", required_argument, NULL, 's' },
		{ "sector", required_argument, NULL, 'S' },
		{ "org", required_argument, NULL, 'o' },
		{ "reason", required_argument, NULL, 'r' },
		{ "tlp", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	Ceptoar__Message	 m;
	Ceptoar__WidenRequest	 w = CEPTOAR__WIDEN_REQUEST__INIT;
	Ceptoar__SharingRange	 range = CEPTOAR__SHARING_RANGE__INIT;
	Ceptoar__SharingScope	 scope;
	Ceptoar__Tlp		 tlp = CEPTOAR__TLP__TLP_AMBER;
	char			 uuid[40], **sectors, **orgs;
	int			 ch, status;

	/* Each list has at most one entry per argument. */
	if ((sectors = calloc(2 * (size_t)argc, sizeof(*sectors))) == NULL)
		return client_fail(EX_UNAVAILABLE, "out of memory");
	orgs = sectors + argc;
	range.sectors = sectors;
	range.organisations = orgs;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if ((status = compose_scope("--scope", optarg,
			    &scope)) != 0)
				goto out;
			range.has_scope = 1;
			range.scope = scope;
			break;
		case 'S':
			if ((status = compose_id("--sector", optarg)) != 0)
				goto out;
			sectors[range.n_sectors++] = optarg;
			break;
		case 'o':
			if ((status = compose_id("--org", optarg)) != 0)
				goto out;
			orgs[range.n_organisations++] = optarg;
			break;
		case 'r':
			if ((status = compose_check_text("--reason", optarg))
			    != 0)
				goto out;
			w.reason = optarg;
			break;
		case 't':
			if ((status = compose_tlp("--tlp", optarg, &tlp)) != 0)
				goto out;
			break;
		default:
			status = client_usage(&cmd_widen_entry);
			goto out;
		}
	}
	if (argc - optind != 1 || !range.has_scope) {
		if (argc - optind == 1)
			fprintf(stderr, "ceptoar: widen: say how far with "
			    "--scope\n");
		status = client_usage(&cmd_widen_entry);
		goto out;
	}
	if ((status = compose_hub_id(&cmd_widen_entry, argv[optind])) != 0)
		goto out;
	if (range.scope == CEPTOAR__SHARING_SCOPE__SHARING_NAMED_SECTORS &&
	    range.n_sectors == 0) {
		status = client_fail(EX_USAGE, "--scope named_sectors: name "
		    "the sectors with --sector");
		goto out;
	}
	if (range.scope ==
	    CEPTOAR__SHARING_SCOPE__SHARING_NAMED_ORGANISATIONS &&
	    range.n_organisations == 0) {
		status = client_fail(EX_USAGE, "--scope named_organisations: "
		    "name the organisations with --org");
		goto out;
	}
	compose_init(&m, uuid, tlp);
	w.hub_id = argv[optind];
	w.sharing = &range;
	m.content_case = CEPTOAR__MESSAGE__CONTENT_WIDEN_REQUEST;
	m.widen_request = &w;
	status = compose_send(c, &m);
out:
	free(sectors);
	return status;
}
