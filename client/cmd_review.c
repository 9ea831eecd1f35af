/*
 * ceptoar review: the review desk of a hop holder, a CEPTOAR secretariat
 * above all.  Without arguments, everything that waits for our review,
 * oldest first; it stays listed until it is released or rejected, however
 * often it is read.  "show ID" puts the message beside exactly what
 * would go up if it were released now (with --text-file: released with
 * that text), marking what the scrubber replaced and what it could not
 * vouch for.  "release ID" passes it on
 * (as it is, or with --text-file, which the hub scrubs again), "reject
 * ID --reason" declines it and tells its sender why.
 *
 * Markers in the text view: [-...-] is what the scrubber took out of the
 * original, {+...+} what it put in its place, {?...?} what it could not
 * vouch for (a person must read it).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ceptoar.h"
#include "fields.h"
#include "validate.h"

static int	cmd_review_exec(struct client *, int, char **);

const struct cmd_entry cmd_review_entry = {
	"review", "[show hub-id [--text-file file] |\n        release hub-id "
	    "[--note text] [--text-file file] [--uuid uuid] |\n        reject "
	    "hub-id --reason text [--uuid uuid]]",
	cmd_review_exec,
	"the review desk: what waits for our review, shown, released, rejected"
};

/* "3h05m", "2d04h", "45s": how long something has waited. */
static const char *
cmd_review_age(int64_t since, char *buf, size_t len)
{
	int64_t	a = (int64_t)time(NULL) - since;

	if (a < 0)
		a = 0;
	if (a < 60)
		snprintf(buf, len, "%llds", (long long)a);
	else if (a < 3600)
		snprintf(buf, len, "%lldm%02llds", (long long)(a / 60),
		    (long long)(a % 60));
	else if (a < 86400)
		snprintf(buf, len, "%lldh%02lldm", (long long)(a / 3600),
		    (long long)(a % 3600 / 60));
	else
		snprintf(buf, len, "%lldd%02lldh", (long long)(a / 86400),
		    (long long)(a % 86400 / 3600));
	return buf;
}

/* Send env and wait for an answer of body kind want. */
static int
cmd_review_ask(struct client *c, Ceptoar__Envelope *env,
    Ceptoar__Envelope__BodyCase want, Ceptoar__Envelope **in,
    struct hubconn **hcp)
{
	int	status;

	if ((status = client_connect(c, hcp)) != 0)
		return status;
	if (hubconn_send(*hcp, env) != HUBCONN_OK ||
	    hubconn_expect(*hcp, want, in) != HUBCONN_OK)
		return client_fail(hubconn_exit(*hcp), "%s",
		    hubconn_strerror(*hcp));
	return 0;
}

/* The list, as blocks (text) or one JSON object per line. */
static void
cmd_review_list_print(const struct client *c, const Ceptoar__ReviewResult *rr)
{
	const Ceptoar__ReviewItem	*it;
	json_t				*j;
	char				 t[64], age[32];
	size_t				 i;

	for (i = 0; i < rr->n_items; i++) {
		it = rr->items[i];
		if (c->json) {
			j = report_json_encode(&it->base);
			json_object_set_new(j, "age_seconds", json_integer(
			    (json_int_t)((int64_t)time(NULL) - it->held_since)));
			output_json(j);
			json_decref(j);
			continue;
		}
		printf("%s  waiting %s (since %s)  %s", it->hub_id,
		    cmd_review_age(it->held_since, age, sizeof(age)),
		    output_time(it->has_held_since, it->held_since, "?", t,
		    sizeof(t)), names_lookup(names_tlp, it->has_tlp ?
		    (int)it->tlp : CEPTOAR__TLP__TLP_RED));
		if (it->has_severity)
			printf("  %u %s", it->severity,
			    names_lookup(names_severity, (int)it->severity));
		printf("  ");
		output_safe(stdout, it->kind ? it->kind : "?");
		if (it->drill)
			printf("  [DRILL]");
		putchar('\n');
		if (it->title != NULL) {
			printf("  title     ");
			output_safe(stdout, it->title);
			putchar('\n');
		}
		printf("  reporter  ");
		output_safe(stdout, it->reporter ? it->reporter :
		    "(withheld: anonymised)");
		putchar('\n');
		printf("  from      ");
		output_safe(stdout, it->sender ? it->sender : "?");
		printf("  (%s form, hop %u)\n", names_lookup(names_form,
		    it->has_form ? (int)it->form : 1), it->hop);
	}
	if (!c->json && !c->quiet)
		fprintf(stderr, "ceptoar: %zu waiting for your review%s\n",
		    rr->n_items, rr->n_items ? "; `ceptoar review show "
		    "HUB-ID` shows what would go up" : "");
}

/* Print s of field on side with the markers of its spans, indented. */
static void
cmd_review_marked(const Ceptoar__ReviewResult *rr, const char *field,
    const char *side, const char *s)
{
	const Ceptoar__ReviewSpan	*sp;
	size_t				 i, k, len = strlen(s), cur_end = 0;
	char				*chunk;
	const char			*close = NULL;

	for (i = 0; i <= len; i++) {
		if (close != NULL && i == cur_end) {
			fputs(close, stdout);
			close = NULL;
		}
		for (k = 0; k < rr->n_spans && close == NULL && i < len; k++) {
			sp = rr->spans[k];
			if (sp->field == NULL || sp->side == NULL ||
			    sp->what == NULL || strcmp(sp->field, field) != 0 ||
			    strcmp(sp->side, side) != 0 || sp->start != i ||
			    sp->end > len || sp->end <= sp->start)
				continue;
			if (strcmp(sp->what, "unvouched") == 0) {
				fputs("{?", stdout);
				close = "?}";
			} else if (strcmp(side, "original") == 0) {
				fputs("[-", stdout);
				close = "-]";
			} else {
				fputs("{+", stdout);
				close = "+}";
			}
			cur_end = sp->end;
		}
		if (i == len)
			break;
		/* A whole character at a time; output_safe cleans it. */
		for (k = i + 1; k < len && ((unsigned char)s[k] & 0xc0) == 0x80;
		    k++)
			;
		if (s[i] == '\n')
			fputs("\n              ", stdout);
		else if ((chunk = strndup(s + i, k - i)) != NULL) {
			output_safe(stdout, chunk);
			free(chunk);
		}
		i = k - 1;
	}
	if (close != NULL)
		fputs(close, stdout);
	putchar('\n');
}

/* One item beside what would go up, as text. */
static void
cmd_review_show_text(const char *id, const Ceptoar__ReviewResult *rr)
{
	static const char *const fields[] = {
		"report.title", "report.affected_service", "report.free_text",
		"report.legal_basis", "report.impact.description", "reply.text",
		NULL
	};
	const char	*o, *a, *f;
	size_t		 i, k;
	bool		 seen;

	printf("hub id    %s\n", id);
	printf("goes to   ");
	for (i = 0; i < rr->n_next_hop; i++) {
		printf("%s", i ? ", " : "");
		output_safe(stdout, rr->next_hop[i]);
	}
	printf("%s(%s form)\n", rr->n_next_hop ? "  " : "",
	    names_lookup(names_form, rr->has_next_form_kind ?
	    (int)rr->next_form_kind : 1));
	if (rr->vouched)
		printf("scrubber  vouches for the text that would go up\n");
	else {
		printf("scrubber  cannot vouch for it: ");
		output_safe(stdout, rr->why ? rr->why : "?");
		printf("\n          release it only with reviewed text: "
		    "`ceptoar review release %s --text-file FILE`\n", id);
	}
	printf("markers   [-taken out-] {+put in+} {?not vouched for?}\n");
	for (i = 0; i < 6 + 64; i++) {
		char path[64];

		if (i < 6)
			f = fields[i];
		else {
			snprintf(path, sizeof(path),
			    "report.affected_systems[%zu]", i - 6);
			f = path;
		}
		o = fields_text(rr->original, f);
		a = fields_text(rr->next_form, f);
		if (o == NULL && a == NULL) {
			if (i >= 6)
				break;
			continue;
		}
		seen = false;
		for (k = 0; k < rr->n_spans; k++)
			if (rr->spans[k]->field != NULL &&
			    strcmp(rr->spans[k]->field, f) == 0)
				seen = true;
		printf("\n%s%s\n", f, seen ? "" : "  (unchanged)");
		if (!seen && o != NULL && a != NULL && strcmp(o, a) == 0) {
			printf("  as sent:    ");
			cmd_review_marked(rr, f, "original", o);
			continue;
		}
		printf("  original:   ");
		cmd_review_marked(rr, f, "original", o ? o : "(none)");
		printf("  goes up:    ");
		cmd_review_marked(rr, f, "anonymised", a ? a : "(dropped)");
	}
	if (rr->next_form != NULL) {
		printf("\nexactly what would go up:\n");
		output_message(&rr->next_form->base, 2);
	}
}

/* review show ID [--text-file FILE] */
static int
cmd_review_show(struct client *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "text-file", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT, *in = NULL;
	Ceptoar__Review		 req = CEPTOAR__REVIEW__INIT;
	struct hubconn		*hc = NULL;
	const char		*id, *text_file = NULL;
	char			*text = NULL;
	json_t			*j;
	int			 ch, status;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			text_file = optarg;
			break;
		default:
			return client_usage(&cmd_review_entry);
		}
	}
	if (optind != argc - 1)
		return client_usage(&cmd_review_entry);
	id = argv[optind];
	if ((status = compose_hub_id(&cmd_review_entry, id)) != 0)
		return status;
	if (text_file != NULL && (status = compose_read_text("--text-file",
	    text_file, &text)) != 0)
		return status;
	req.hub_id = (char *)id;
	req.free_text = text;
	env.body_case = CEPTOAR__ENVELOPE__BODY_REVIEW;
	env.review = &req;
	if ((status = cmd_review_ask(c, &env,
	    CEPTOAR__ENVELOPE__BODY_REVIEW_RESULT, &in, &hc)) == 0) {
		if (c->json) {
			j = report_json_encode(&in->review_result->base);
			json_object_set_new(j, "hub_id", json_string(id));
			if (json_object_get(j, "spans") == NULL)
				json_object_set_new(j, "spans", json_array());
			output_json(j);
			json_decref(j);
		} else
			cmd_review_show_text(id, in->review_result);
	}
	if (in != NULL)
		ceptoar__envelope__free_unpacked(in, NULL);
	hubconn_free(hc);
	free(text);
	return status;
}

/* review release ID: a Forward along the path, as forward does. */
static int
cmd_review_release(struct client *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "note", required_argument, NULL, 'n' },
		{ "text-file", required_argument, NULL, 'f' },
		{ "uuid", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT, *in = NULL;
	Ceptoar__Forward	 fw = CEPTOAR__FORWARD__INIT;
	struct hubconn		*hc = NULL;
	const char		*text_file = NULL;
	char			 uuid[40], *text = NULL;
	int			 ch, status;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if ((status = compose_check_text("--note", optarg))
			    != 0)
				return status;
			fw.note = optarg;
			break;
		case 'f':
			text_file = optarg;
			break;
		case 'u':
			if ((status = compose_uuid("--uuid", optarg)) != 0)
				return status;
			fw.uuid = optarg;
			break;
		default:
			return client_usage(&cmd_review_entry);
		}
	}
	if (optind != argc - 1)
		return client_usage(&cmd_review_entry);
	if ((status = compose_hub_id(&cmd_review_entry, argv[optind])) != 0)
		return status;
	fw.hub_id = argv[optind];
	if (text_file != NULL) {
		if ((status = compose_read_text("--text-file", text_file,
		    &text)) != 0)
			return status;
		fw.free_text = text;
	}
	if (fw.uuid == NULL) {
		report_json_uuid(uuid, sizeof(uuid));
		fw.uuid = uuid;
	}
	env.body_case = CEPTOAR__ENVELOPE__BODY_FORWARD;
	env.forward = &fw;
	if ((status = cmd_review_ask(c, &env,
	    CEPTOAR__ENVELOPE__BODY_SUBMIT_ACK, &in, &hc)) == 0)
		output_submit_ack(c, fw.uuid, in->submit_ack);
	else if (status == EX_UNAVAILABLE)
		fprintf(stderr, "ceptoar: the hub may have released it; to "
		    "retry without releasing it twice, repeat the command "
		    "with --uuid %s\n", fw.uuid);
	if (in != NULL)
		ceptoar__envelope__free_unpacked(in, NULL);
	hubconn_free(hc);
	free(text);
	return status;
}

/* review reject ID --reason TEXT */
static int
cmd_review_reject(struct client *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "uuid", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT, *in = NULL;
	Ceptoar__ReviewReject	 rj = CEPTOAR__REVIEW_REJECT__INIT;
	struct hubconn		*hc = NULL;
	char			 uuid[40];
	int			 ch, status;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			if ((status = compose_check_text("--reason", optarg))
			    != 0)
				return status;
			rj.reason = optarg;
			break;
		case 'u':
			if ((status = compose_uuid("--uuid", optarg)) != 0)
				return status;
			rj.uuid = optarg;
			break;
		default:
			return client_usage(&cmd_review_entry);
		}
	}
	if (optind != argc - 1)
		return client_usage(&cmd_review_entry);
	if ((status = compose_hub_id(&cmd_review_entry, argv[optind])) != 0)
		return status;
	if (rj.reason == NULL || rj.reason[0] == '\0')
		return client_fail(EX_USAGE, "reject: give the --reason; the "
		    "sender is told it");
	rj.hub_id = argv[optind];
	if (rj.uuid == NULL) {
		report_json_uuid(uuid, sizeof(uuid));
		rj.uuid = uuid;
	}
	env.body_case = CEPTOAR__ENVELOPE__BODY_REVIEW_REJECT;
	env.review_reject = &rj;
	if ((status = cmd_review_ask(c, &env,
	    CEPTOAR__ENVELOPE__BODY_SUBMIT_ACK, &in, &hc)) == 0) {
		if (c->json)
			output_submit_ack(c, rj.uuid, in->submit_ack);
		else if (!c->quiet) {
			printf("rejected  %s\n  the sender is told why (notice "
			    "%s)\n", rj.hub_id, in->submit_ack->hub_id ?
			    in->submit_ack->hub_id : "?");
		}
	}
	if (in != NULL)
		ceptoar__envelope__free_unpacked(in, NULL);
	hubconn_free(hc);
	return status;
}

/* Dispatch the review subcommands; see the file comment. */
static int
cmd_review_exec(struct client *c, int argc, char **argv)
{
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT, *in = NULL;
	Ceptoar__Review		 req = CEPTOAR__REVIEW__INIT;
	struct hubconn		*hc = NULL;
	int			 status;

	if (argc == 1) {
		env.body_case = CEPTOAR__ENVELOPE__BODY_REVIEW;
		env.review = &req;
		if ((status = cmd_review_ask(c, &env,
		    CEPTOAR__ENVELOPE__BODY_REVIEW_RESULT, &in, &hc)) == 0)
			cmd_review_list_print(c, in->review_result);
		if (in != NULL)
			ceptoar__envelope__free_unpacked(in, NULL);
		hubconn_free(hc);
		return status;
	}
	if (strcmp(argv[1], "show") == 0)
		return cmd_review_show(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "release") == 0)
		return cmd_review_release(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "reject") == 0)
		return cmd_review_reject(c, argc - 1, argv + 1);
	return client_usage(&cmd_review_entry);
}
