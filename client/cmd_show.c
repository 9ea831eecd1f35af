/*
 * ceptoar show ID: one message in full, as we received or sent it.
 */
#include <stdio.h>

#include "ceptoar.h"

static int	cmd_show_exec(struct client *, int, char **);

const struct cmd_entry cmd_show_entry = {
	"show", "hub-id",
	cmd_show_exec,
	"fetch one message by its hub id and print every field"
};

/* Fetch and print; not-found is exit 2 so scripts can tell it apart. */
static int
cmd_show_exec(struct client *c, int argc, char **argv)
{
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT, *in = NULL;
	Ceptoar__Fetch		 fetch = CEPTOAR__FETCH__INIT;
	Ceptoar__FetchResult	*r;
	struct hubconn		*hc;
	int			 status;

	if (argc != 2 || argv[1][0] == '-')
		return client_usage(&cmd_show_entry);
	if ((status = client_connect(c, &hc)) != 0)
		return status;
	fetch.hub_id = argv[1];
	env.body_case = CEPTOAR__ENVELOPE__BODY_FETCH;
	env.fetch = &fetch;
	if (hubconn_send(hc, &env) != HUBCONN_OK ||
	    hubconn_expect(hc, CEPTOAR__ENVELOPE__BODY_FETCH_RESULT,
	    &in) != HUBCONN_OK) {
		status = client_fail(hubconn_exit(hc), "%s",
		    hubconn_strerror(hc));
		hubconn_free(hc);
		return status;
	}
	r = in->fetch_result;
	if (r->delivery == NULL)
		status = client_fail(EX_UNAVAILABLE, "the hub answered %s "
		    "without the message", argv[1]);
	else
		output_delivery_full(c, r->delivery, r->recipients,
		    r->n_recipients);
	ceptoar__envelope__free_unpacked(in, NULL);
	hubconn_free(hc);
	return status;
}
