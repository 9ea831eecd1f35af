/*
 * ceptoar receipts HUB-ID: where a message we sent has got to, hop by
 * hop: who received which form, when it was delivered and when it was
 * acknowledged.  Where the path runs through a pseudonym, the hub
 * withholds the recipient and says so.
 */
#include <stdio.h>
#include <string.h>

#include "ceptoar.h"

static int	cmd_receipts_exec(struct client *, int, char **);

const struct cmd_entry cmd_receipts_entry = {
	"receipts", "hub-id",
	cmd_receipts_exec,
	"show who received a message we sent, hop by hop, and when"
};

/* A time as JSON: RFC 3339 UTC, or null when not given. */
static json_t *
cmd_receipts_time(bool has, int64_t t)
{
	char	buf[64];

	return has ? json_string(report_json_time(t, buf, sizeof(buf))) :
	    json_null();
}

/* One receipt as a JSON line, every key present. */
static void
cmd_receipts_json(const Ceptoar__Receipt *r)
{
	json_t	*j = json_object();

	json_object_set_new(j, "recipient", json_string(r->recipient != NULL ?
	    r->recipient : ""));
	json_object_set_new(j, "hop", json_integer(r->hop));
	json_object_set_new(j, "form", json_string(names_lookup(names_form,
	    r->has_form ? (int)r->form : CEPTOAR__FORM__FORM_ORIGINAL)));
	json_object_set_new(j, "delivered_at",
	    cmd_receipts_time(r->has_delivered_at, r->delivered_at));
	json_object_set_new(j, "acked_at",
	    cmd_receipts_time(r->has_acked_at, r->acked_at));
	json_object_set_new(j, "reason", json_string(r->reason != NULL ?
	    r->reason : ""));
	json_object_set_new(j, "hub_id", r->hub_id != NULL ?
	    json_string(r->hub_id) : json_null());
	/* Only a hop its recipient holds for review has these. */
	if (r->has_waiting_since)
		json_object_set_new(j, "waiting_since",
		    cmd_receipts_time(true, r->waiting_since));
	if (r->has_released_at)
		json_object_set_new(j, "released_at",
		    cmd_receipts_time(true, r->released_at));
	if (r->has_rejected_at) {
		json_object_set_new(j, "rejected_at",
		    cmd_receipts_time(true, r->rejected_at));
		json_object_set_new(j, "rejected_reason", json_string(
		    r->rejected_reason ? r->rejected_reason : ""));
	}
	output_json(j);
	json_decref(j);
}

/* The receipts as a table, one line each, columns lined up. */
static void
cmd_receipts_text(const Ceptoar__ReceiptsResult *rr)
{
	const Ceptoar__Receipt	*r;
	const char		*who;
	char			 d[64], a[64];
	size_t			 i, width = strlen("recipient");

	for (i = 0; i < rr->n_receipts; i++)
		if (rr->receipts[i]->recipient != NULL &&
		    strlen(rr->receipts[i]->recipient) > width)
			width = strlen(rr->receipts[i]->recipient);
	printf("hop  %-*s  %-10s  %-20s  %-20s  %s\n", (int)width,
	    "recipient", "form", "delivered", "acknowledged", "reason");
	for (i = 0; i < rr->n_receipts; i++) {
		r = rr->receipts[i];
		who = r->recipient != NULL ? r->recipient : "?";
		printf("%3u  ", r->hop);
		output_safe(stdout, who);
		printf("%*s  %-10s  %-20s  %-20s  ",
		    (int)(width - strlen(who)), "",
		    names_lookup(names_form, r->has_form ? (int)r->form :
		    CEPTOAR__FORM__FORM_ORIGINAL),
		    output_time(r->has_delivered_at, r->delivered_at,
		    "not yet", d, sizeof(d)),
		    output_time(r->has_acked_at, r->acked_at, "not yet", a,
		    sizeof(a)));
		output_safe(stdout, r->reason != NULL ? r->reason : "");
		putchar('\n');
		/* What the holder of the next hop did with it. */
		if (r->has_waiting_since)
			printf("     %*s  waiting for review since %s\n",
			    (int)width, "", report_json_time(r->waiting_since,
			    d, sizeof(d)));
		else if (r->has_released_at)
			printf("     %*s  released by its review at %s\n",
			    (int)width, "", report_json_time(r->released_at, d,
			    sizeof(d)));
		else if (r->has_rejected_at) {
			printf("     %*s  not passed on: rejected at %s: ",
			    (int)width, "", report_json_time(r->rejected_at, d,
			    sizeof(d)));
			output_safe(stdout, r->rejected_reason ?
			    r->rejected_reason : "");
			putchar('\n');
		}
	}
}

/* Ask for the receipts of one message we sent. */
static int
cmd_receipts_exec(struct client *c, int argc, char **argv)
{
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT, *in = NULL;
	Ceptoar__Receipts	 req = CEPTOAR__RECEIPTS__INIT;
	const Ceptoar__ReceiptsResult *rr;
	struct hubconn		*hc;
	size_t			 i;
	int			 status;

	if (argc != 2 || argv[1][0] == '-')
		return client_usage(&cmd_receipts_entry);
	if ((status = compose_hub_id(&cmd_receipts_entry, argv[1])) != 0)
		return status;
	if ((status = client_connect(c, &hc)) != 0)
		return status;
	req.hub_id = argv[1];
	env.body_case = CEPTOAR__ENVELOPE__BODY_RECEIPTS;
	env.receipts = &req;
	if (hubconn_send(hc, &env) != HUBCONN_OK ||
	    hubconn_expect(hc, CEPTOAR__ENVELOPE__BODY_RECEIPTS_RESULT,
	    &in) != HUBCONN_OK) {
		status = client_fail(hubconn_exit(hc), "%s",
		    hubconn_strerror(hc));
		hubconn_free(hc);
		return status;
	}
	rr = in->receipts_result;
	if (c->json) {
		for (i = 0; i < rr->n_receipts; i++)
			cmd_receipts_json(rr->receipts[i]);
	} else if (rr->n_receipts == 0)
		fprintf(stderr, "ceptoar: no deliveries of %s yet\n", argv[1]);
	else
		cmd_receipts_text(rr);
	ceptoar__envelope__free_unpacked(in, NULL);
	hubconn_free(hc);
	return 0;
}
