/*
 * ceptoar check: the communication check (情報疎通確認).  NISC, or a
 * CEPTOAR secretariat for its members, starts one; every party on the
 * chain answers; the starter sees who answered, when, and who did not
 * answer in time.  Three subcommands, one exchange each.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptoar.h"

static int	cmd_check_exec(struct client *, int, char **);

const struct cmd_entry cmd_check_entry = {
	"check", "start [--deadline seconds] [--sector id]... | "
	    "status hub-id | answer hub-id",
	cmd_check_exec,
	"start a communication check, see who answered, answer one"
};

/* check start: a CommCheck, TLP:GREEN, to the chain of the sectors. */
static int
cmd_check_start(struct client *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "deadline", required_argument, NULL, 'd' },
		{ "sector", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	Ceptoar__Envelope	*in = NULL;
	Ceptoar__Message	 m;
	Ceptoar__CommCheck	 k = CEPTOAR__COMM_CHECK__INIT;
	const Ceptoar__SubmitAck *ack;
	struct hubconn		*hc;
	unsigned long		 v;
	char			 uuid[40], *end, **sectors;
	int			 ch, status;

	if ((sectors = calloc((size_t)argc, sizeof(*sectors))) == NULL)
		return client_fail(EX_UNAVAILABLE, "out of memory");
	k.sectors = sectors;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end != '\0' ||
			    errno != 0 || v > UINT32_MAX) {
				status = client_fail(EX_USAGE, "--deadline: "
				    "\"%s\" is not a number of seconds",
				    optarg);
				goto out;
			}
			k.has_deadline_seconds = 1;
			k.deadline_seconds = (uint32_t)v;
			break;
		case 'S':
			if ((status = compose_id("--sector", optarg)) != 0)
				goto out;
			sectors[k.n_sectors++] = optarg;
			break;
		default:
			status = client_usage(&cmd_check_entry);
			goto out;
		}
	}
	if (optind != argc) {
		status = client_usage(&cmd_check_entry);
		goto out;
	}
	compose_init(&m, uuid, CEPTOAR__TLP__TLP_GREEN);
	m.content_case = CEPTOAR__MESSAGE__CONTENT_COMM_CHECK;
	m.comm_check = &k;
	if (c->json) {
		status = compose_send(c, &m);
		goto out;
	}
	if ((status = compose_validate(&m)) != 0 ||
	    (status = client_connect(c, &hc)) != 0)
		goto out;
	if ((status = compose_send_on(hc, &m, &in)) == 0) {
		/* The hub id alone on stdout, for id=$(ceptoar check start). */
		bool quiet = c->quiet;

		ack = in->submit_ack;
		c->quiet = true;
		output_submit_ack(c, m.uuid, ack);
		c->quiet = quiet;
		if (!quiet)
			fprintf(stderr, "ceptoar: communication check sent to %zu "
			    "part%s; `ceptoar check status %s` shows who "
			    "answered\n", ack->n_recipients,
			    ack->n_recipients == 1 ? "y" : "ies",
			    ack->hub_id != NULL ? ack->hub_id : "?");
		ceptoar__envelope__free_unpacked(in, NULL);
	}
	hubconn_free(hc);
out:
	free(sectors);
	return status;
}

/* A time as JSON: RFC 3339 UTC, or null when not given. */
static json_t *
cmd_check_time(bool has, int64_t t)
{
	char	buf[64];

	return has ? json_string(report_json_time(t, buf, sizeof(buf))) :
	    json_null();
}

/* The parties of a check: JSON lines, or a table and a summary. */
static void
cmd_check_print(const struct client *c, const Ceptoar__CheckResult *cr)
{
	const Ceptoar__CheckParty	*p;
	const char			*org, *answered_at;
	json_t				*j;
	char				 d[64], a[64];
	size_t				 i, width = 0, answered = 0, late = 0;

	for (i = 0; i < cr->n_parties; i++) {
		p = cr->parties[i];
		if (c->json) {
			j = json_object();
			json_object_set_new(j, "organisation",
			    json_string(p->organisation != NULL ?
			    p->organisation : ""));
			json_object_set_new(j, "hop", json_integer(p->hop));
			json_object_set_new(j, "delivered_at",
			    cmd_check_time(p->has_delivered_at,
			    p->delivered_at));
			json_object_set_new(j, "answered_at",
			    cmd_check_time(p->has_answered_at,
			    p->answered_at));
			json_object_set_new(j, "late",
			    json_boolean(p->has_late && p->late));
			output_json(j);
			json_decref(j);
		}
		if (p->organisation != NULL && strlen(p->organisation) > width)
			width = strlen(p->organisation);
	}
	if (c->json)
		return;
	for (i = 0; i < cr->n_parties; i++) {
		p = cr->parties[i];
		org = p->organisation != NULL ? p->organisation : "?";
		printf("hop %u  ", p->hop);
		output_safe(stdout, org);
		answered_at = output_time(p->has_answered_at, p->answered_at,
		    "--", a, sizeof(a));
		/* [LATE] lines up; nothing trails a line without it. */
		printf("%*s  delivered %-20s  answered %s%*s\n",
		    (int)(width - strlen(org)), "",
		    output_time(p->has_delivered_at, p->delivered_at, "--", d,
		    sizeof(d)), answered_at, p->has_late && p->late ?
		    (int)(20 - strlen(answered_at) + strlen("  [LATE]")) : 0,
		    p->has_late && p->late ? "  [LATE]" : "");
		answered += p->has_answered_at;
		late += p->has_late && p->late;
	}
	printf("%zu part%s, %zu answered, %zu late or missing", cr->n_parties,
	    cr->n_parties == 1 ? "y" : "ies", answered, late);
	if (cr->has_deadline)
		printf(" (deadline %s)", report_json_time(cr->deadline, d,
		    sizeof(d)));
	putchar('\n');
}

/* check status HUB-ID: only the one who started the check may ask. */
static int
cmd_check_status(struct client *c, int argc, char **argv)
{
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT, *in = NULL;
	Ceptoar__CheckStatus	 req = CEPTOAR__CHECK_STATUS__INIT;
	struct hubconn		*hc;
	int			 status;

	if (argc != 2 || argv[1][0] == '-')
		return client_usage(&cmd_check_entry);
	if ((status = compose_hub_id(&cmd_check_entry, argv[1])) != 0)
		return status;
	if ((status = client_connect(c, &hc)) != 0)
		return status;
	req.hub_id = argv[1];
	env.body_case = CEPTOAR__ENVELOPE__BODY_CHECK_STATUS;
	env.check_status = &req;
	if (hubconn_send(hc, &env) != HUBCONN_OK ||
	    hubconn_expect(hc, CEPTOAR__ENVELOPE__BODY_CHECK_RESULT,
	    &in) != HUBCONN_OK) {
		status = client_fail(hubconn_exit(hc), "%s",
		    hubconn_strerror(hc));
		hubconn_free(hc);
		return status;
	}
	cmd_check_print(c, in->check_result);
	ceptoar__envelope__free_unpacked(in, NULL);
	hubconn_free(hc);
	return 0;
}

/* check answer HUB-ID: the same answer however often it is given. */
static int
cmd_check_answer(struct client *c, int argc, char **argv)
{
	Ceptoar__Envelope	*in = NULL;
	Ceptoar__Message	 m;
	Ceptoar__CheckAnswer	 a;
	const Ceptoar__Welcome	*w;
	struct hubconn		*hc;
	char			 uuid[40];
	int			 status;

	if (argc != 2 || argv[1][0] == '-')
		return client_usage(&cmd_check_entry);
	if ((status = compose_hub_id(&cmd_check_entry, argv[1])) != 0)
		return status;
	if ((status = client_connect(c, &hc)) != 0)
		return status;
	w = hubconn_welcome(hc);
	compose_check_answer(&m, &a, uuid, w != NULL && w->organisation !=
	    NULL ? w->organisation : "", argv[1]);
	if ((status = compose_send_on(hc, &m, &in)) == 0) {
		output_submit_ack(c, m.uuid, in->submit_ack);
		ceptoar__envelope__free_unpacked(in, NULL);
	}
	hubconn_free(hc);
	return status;
}

/* Hand over to the subcommand, with argv[0] its name. */
static int
cmd_check_exec(struct client *c, int argc, char **argv)
{
	if (argc < 2)
		return client_usage(&cmd_check_entry);
	if (strcmp(argv[1], "start") == 0)
		return cmd_check_start(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0)
		return cmd_check_status(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "answer") == 0)
		return cmd_check_answer(c, argc - 1, argv + 1);
	fprintf(stderr, "ceptoar: check: no subcommand \"%s\" (start, status "
	    "or answer)\n", argv[1]);
	return client_usage(&cmd_check_entry);
}
