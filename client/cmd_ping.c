/*
 * ceptoar ping: is the hub there, does it accept our certificate, and
 * whom does it take us for.  The first thing to run after setting up a
 * new certificate, and the last before calling the hub's operator.
 */
#include <stdio.h>

#include "ceptoar.h"

static int	cmd_ping_exec(struct client *, int, char **);

const struct cmd_entry cmd_ping_entry = {
	"ping", "",
	cmd_ping_exec,
	"connect, show who the hub says we are, and time a round trip"
};

/* Print a string from the hub after a label. */
static void
cmd_ping_line(const char *label, const char *value)
{
	printf("%-14s", label);
	output_safe(stdout, value != NULL ? value : "-");
	putchar('\n');
}

/* Connect, ping once, print the Welcome and the round trip. */
static int
cmd_ping_exec(struct client *c, int argc, char **argv)
{
	const Ceptoar__Welcome	*w;
	struct hubconn		*hc;
	json_t			*j;
	uint64_t		 rtt;
	size_t			 i;
	int			 status;

	if (argc != 1)
		return client_usage(&cmd_ping_entry);
	if ((status = client_connect(c, &hc)) != 0)
		return status;
	if (hubconn_ping(hc, &rtt) != HUBCONN_OK) {
		status = client_fail(hubconn_exit(hc), "%s",
		    hubconn_strerror(hc));
		hubconn_free(hc);
		return status;
	}
	w = hubconn_welcome(hc);
	if (c->json) {
		j = report_json_encode(&w->base);
		json_object_set_new(j, "hub", json_string(c->conf->hub));
		json_object_set_new(j, "round_trip_ms",
		    json_real((double)rtt / 1000.0));
		output_json(j);
		json_decref(j);
	} else if (!c->quiet) {
		cmd_ping_line("hub", c->conf->hub);
		cmd_ping_line("hub version", w->hub_version);
		printf("%-14s", "organisation");
		output_safe(stdout, w->organisation != NULL ?
		    w->organisation : "-");
		if (w->organisation_name != NULL) {
			printf(" (");
			output_safe(stdout, w->organisation_name);
			putchar(')');
		}
		printf("\n%-14s", "roles");
		for (i = 0; i < w->n_roles; i++) {
			if (i > 0)
				printf(", ");
			output_safe(stdout, w->roles[i]);
		}
		printf("%s\n", w->n_roles == 0 ? "-" : "");
		cmd_ping_line("session", w->session);
		if (w->has_max_frame)
			printf("%-14s%u bytes\n", "max frame", w->max_frame);
		printf("%-14s%.1f ms\n", "round trip", (double)rtt / 1000.0);
	}
	hubconn_free(hc);
	return 0;
}
