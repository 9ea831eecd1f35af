/*
 * ceptoar preview FILE: what the hub would do with a message, sending
 * nothing: who receives it at which hop, in which form, who must review
 * it first, and, for the forms the hub would anonymise, the message
 * exactly as those recipients would read it.  The way to check what a
 * voluntary report gives away before sending it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptoar.h"

#define CMD_PREVIEW_REVIEW	"[waits for review]"

static int	cmd_preview_exec(struct client *, int, char **);

const struct cmd_entry cmd_preview_entry = {
	"preview", "file|-",
	cmd_preview_exec,
	"show who would get a JSON message, in which form; send nothing"
};

/* Whether two messages are the same, byte for byte on the wire. */
static bool
cmd_preview_same(const Ceptoar__Message *a, const Ceptoar__Message *b)
{
	uint8_t	*pa, *pb;
	size_t	 la, lb;
	bool	 same;

	if ((la = ceptoar__message__get_packed_size(a)) !=
	    (lb = ceptoar__message__get_packed_size(b)))
		return false;
	if ((pa = malloc(la + 1)) == NULL || (pb = malloc(lb + 1)) == NULL) {
		free(pa);
		return false;
	}
	ceptoar__message__pack(a, pa);
	ceptoar__message__pack(b, pb);
	same = memcmp(pa, pb, la) == 0;
	free(pa);
	free(pb);
	return same;
}

/* The text form: routes, warnings, then each anonymised form once. */
static void
cmd_preview_text(const Ceptoar__PreviewResult *pr)
{
	const Ceptoar__RoutePreview	*r, *q;
	const char			*org;
	size_t				 i, j, width = 0;
	bool				 review;

	for (i = 0; i < pr->n_routes; i++) {
		org = pr->routes[i]->organisation;
		if (org != NULL && strlen(org) > width)
			width = strlen(org);
	}
	for (i = 0; i < pr->n_routes; i++) {
		r = pr->routes[i];
		org = r->organisation != NULL ? r->organisation : "?";
		review = r->has_review && r->review;
		printf("hop %u  ", r->hop);
		output_safe(stdout, org);
		printf("%*s  %-10s  %-*s  ", (int)(width - strlen(org)), "",
		    r->has_form ? names_lookup(names_form, r->form) :
		    "original", (int)strlen(CMD_PREVIEW_REVIEW),
		    review ? CMD_PREVIEW_REVIEW : "");
		output_safe(stdout, r->reason != NULL ? r->reason : "");
		putchar('\n');
	}
	if (pr->n_routes == 0)
		printf("nobody would receive it\n");
	for (i = 0; i < pr->n_warnings; i++) {
		printf("warning: ");
		output_safe(stdout, pr->warnings[i] != NULL ?
		    pr->warnings[i] : "");
		putchar('\n');
	}
	for (i = 0; i < pr->n_routes; i++) {
		r = pr->routes[i];
		if (!r->has_form || r->form != CEPTOAR__FORM__FORM_ANONYMISED ||
		    r->as_received == NULL)
			continue;
		/* Shown already with an earlier recipient? */
		for (j = 0; j < i; j++) {
			q = pr->routes[j];
			if (q->has_form &&
			    q->form == CEPTOAR__FORM__FORM_ANONYMISED &&
			    q->as_received != NULL &&
			    cmd_preview_same(q->as_received, r->as_received))
				break;
		}
		if (j < i)
			continue;
		printf("\nAs ");
		output_safe(stdout, r->organisation != NULL ?
		    r->organisation : "?");
		printf(" would receive it:\n");
		output_message(&r->as_received->base, 2);
		for (j = i + 1; j < pr->n_routes; j++) {
			q = pr->routes[j];
			if (!q->has_form ||
			    q->form != CEPTOAR__FORM__FORM_ANONYMISED ||
			    q->as_received == NULL ||
			    !cmd_preview_same(q->as_received, r->as_received))
				continue;
			printf("  (");
			output_safe(stdout, q->organisation != NULL ?
			    q->organisation : "?");
			printf(" would receive the same)\n");
		}
	}
}

/* Load, check and preview FILE. */
static int
cmd_preview_exec(struct client *c, int argc, char **argv)
{
	Ceptoar__Envelope	*in = NULL;
	Ceptoar__Message	*m = NULL;
	struct hubconn		*hc = NULL;
	json_t			*j;
	const char		*file, *name;
	char			 uuid[40], *cause;
	int			 status;

	if (argc != 2 || (argv[1][0] == '-' && argv[1][1] != '\0'))
		return client_usage(&cmd_preview_entry);
	file = argv[1];
	name = strcmp(file, "-") == 0 ? "<stdin>" : file;
	if ((status = report_json_load(file, &m, &cause)) != 0) {
		status = client_fail(status, "%s", cause != NULL ? cause :
		    "out of memory");
		free(cause);
		return status;
	}
	/* Nothing is filed, but the hub checks the message as a whole. */
	if (m->uuid == NULL) {
		report_json_uuid(uuid, sizeof(uuid));
		if ((m->uuid = strdup(uuid)) == NULL) {
			status = client_fail(EX_UNAVAILABLE, "out of memory");
			goto out;
		}
	}
	if (report_json_validate(m, &cause) == -1) {
		status = client_fail(EX_DATAERR, "%s: %s", name,
		    cause != NULL ? cause : "out of memory");
		free(cause);
		goto out;
	}
	if ((status = client_connect(c, &hc)) != 0)
		goto out;
	if ((status = compose_preview(hc, m, &in)) != 0)
		goto out;
	if (c->json) {
		j = report_json_encode(&in->preview_result->base);
		if (json_object_get(j, "routes") == NULL)
			json_object_set_new(j, "routes", json_array());
		if (json_object_get(j, "warnings") == NULL)
			json_object_set_new(j, "warnings", json_array());
		output_json(j);
		json_decref(j);
	} else
		cmd_preview_text(in->preview_result);
out:
	if (in != NULL)
		ceptoar__envelope__free_unpacked(in, NULL);
	hubconn_free(hc);
	report_json_free(m);
	return status;
}
