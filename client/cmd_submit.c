/*
 * ceptoar submit: send one message from a JSON file (a report, an
 * advisory, an early warning, or any other content of the format).  It
 * is checked here first, so a mistake is named field by field before
 * anything leaves the building, and it carries a uuid, so that sending
 * it again after a lost connection cannot file it twice.
 *
 * A voluntary report is anonymised on its way up, and that protects its
 * reporter only among enough fellow members: before sending one, we ask
 * the hub for a preview, and stop if it says the CEPTOAR is too small,
 * unless the reporter has accepted that with --accept-warnings.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "ceptoar.h"
#include "validate.h"

static int	cmd_submit_exec(struct client *, int, char **);

const struct cmd_entry cmd_submit_entry = {
	"submit", "[--dry-run] [--accept-warnings] [--uuid uuid | --new] "
	    "file|-",
	cmd_submit_exec,
	"check a JSON message and send it (--dry-run: check only)"
};

/* --dry-run: say what would be sent. */
static int
cmd_submit_dry_run(const struct client *c, const char *file,
    Ceptoar__Message *m, bool generated)
{
	json_t	*j;
	char	 sev[32], line[64];

	if (c->json) {
		j = report_json_encode(&m->base);
		/* A uuid made up for this check would only mislead. */
		if (generated)
			json_object_del(j, "uuid");
		output_json(j);
		json_decref(j);
	} else if (!c->quiet) {
		/* Only reports and notices carry a severity. */
		switch (m->content_case) {
		case CEPTOAR__MESSAGE__CONTENT_REPORT:
		case CEPTOAR__MESSAGE__CONTENT_ADVISORY:
		case CEPTOAR__MESSAGE__CONTENT_EARLY_WARNING:
			snprintf(line, sizeof(line), ", severity %s",
			    output_severity(m, sev, sizeof(sev)) != NULL ?
			    sev : "not given");
			break;
		default:
			line[0] = '\0';
			break;
		}
		printf("%s: valid %s, %s%s%s; not sent (--dry-run)\n", file,
		    report_json_type(m), names_lookup(names_tlp, m->tlp), line,
		    m->has_drill && m->drill ? ", [DRILL]" : "");
	}
	return 0;
}

/*
 * The uuid of m, which has none, when org sends it: a hash of the sender
 * and of the message as it goes on the wire, so that the same file sent
 * again by the same organisation is the same submit.  0, or -1 when out
 * of memory.
 */
static int
cmd_submit_derived_uuid(const char *org, Ceptoar__Message *m, char *buf,
    size_t len)
{
	crypto_generichash_state	 st;
	unsigned char			 h[16], *packed;
	size_t				 n;

	n = ceptoar__message__get_packed_size(m);
	if ((packed = malloc(n ? n : 1)) == NULL)
		return -1;
	ceptoar__message__pack(m, packed);
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)
	    "ceptoar-submit|", 15);
	crypto_generichash_update(&st, (const unsigned char *)org,
	    strlen(org));
	crypto_generichash_update(&st, (const unsigned char *)"|", 1);
	crypto_generichash_update(&st, packed, n);
	crypto_generichash_final(&st, h, sizeof(h));
	free(packed);
	validate_uuid_format(h, buf, len);
	return 0;
}

/* Whether m is a report no law requires: it travels anonymised. */
static bool
cmd_submit_voluntary(const Ceptoar__Message *m)
{
	return m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT &&
	    !(m->report->has_legally_mandated && m->report->legally_mandated);
}

/*
 * Ask the hub whether the reporter would be easy to trace; 0 to go on,
 * EXIT_WARNING after printing the warning, or another exit status.
 */
static int
cmd_submit_check_anonymity(struct hubconn *hc, Ceptoar__Message *m)
{
	Ceptoar__Envelope	*in;
	Ceptoar__PreviewResult	*pr;
	char			*w;
	size_t			 i;
	int			 status;

	if ((status = compose_preview(hc, m, &in)) != 0)
		return status;
	pr = in->preview_result;
	if (!compose_anonymity_warning(pr->warnings, pr->n_warnings, &i)) {
		ceptoar__envelope__free_unpacked(in, NULL);
		return 0;
	}
	if ((w = strdup(pr->warnings[i])) != NULL) {
		output_clean(w);
		client_warn("%s", w);
		free(w);
	}
	ceptoar__envelope__free_unpacked(in, NULL);
	return client_fail(EXIT_WARNING, "not sent: re-run with "
	    "--accept-warnings to send it anyway");
}

/* Read, check and send FILE; see the file comment. */
static int
cmd_submit_exec(struct client *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "uuid", required_argument, NULL, 'u' },
		{ "accept-warnings", no_argument, NULL, 'A' },
		{ "new", no_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 }
	};
	Ceptoar__Envelope	*in = NULL;
	Ceptoar__Message	*m = NULL;
	struct hubconn		*hc = NULL;
	const char		*file, *name, *uuid = NULL;
	char			 fresh[40], *cause;
	bool			 dry_run = false, generated = false;
	bool			 accept = false, fresh_copy = false;
	bool			 derive = false;
	int			 ch, status;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			dry_run = true;
			break;
		case 'u':
			uuid = optarg;
			break;
		case 'A':
			accept = true;
			break;
		case 'N':
			fresh_copy = true;
			break;
		default:
			return client_usage(&cmd_submit_entry);
		}
	}
	if (argc - optind != 1)
		return client_usage(&cmd_submit_entry);
	file = argv[optind];
	name = strcmp(file, "-") == 0 ? "<stdin>" : file;
	if (uuid != NULL && fresh_copy)
		return client_fail(EX_USAGE, "--uuid and --new: give only one");
	if (uuid != NULL && (status = compose_uuid("--uuid", uuid)) != 0)
		return status;

	if ((status = report_json_load(file, &m, &cause)) != 0) {
		status = client_fail(status, "%s", cause != NULL ? cause :
		    "out of memory");
		free(cause);
		return status;
	}
	if (fresh_copy && m->uuid != NULL) {
		status = client_fail(EX_USAGE, "%s has uuid %s, and --new "
		    "would file it as a new copy: remove the uuid from the "
		    "file, or leave out --new", name, m->uuid);
		goto out;
	}
	if (uuid != NULL && m->uuid != NULL && strcasecmp(uuid, m->uuid) != 0) {
		status = client_fail(EX_USAGE, "%s has uuid %s but --uuid says "
		    "%s; give only one", name, m->uuid, uuid);
		goto out;
	}
	if (m->uuid == NULL) {
		if (uuid == NULL) {
			/* A stand-in for the checks; see derive below. */
			report_json_uuid(fresh, sizeof(fresh));
			uuid = fresh;
			generated = true;
			derive = !fresh_copy;
		}
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
	if (dry_run) {
		status = cmd_submit_dry_run(c, name, m, generated);
		goto out;
	}
	if ((status = client_connect(c, &hc)) != 0)
		goto out;
	if (!accept && cmd_submit_voluntary(m) &&
	    (status = cmd_submit_check_anonymity(hc, m)) != 0)
		goto out;
	if (derive) {
		free(m->uuid);
		m->uuid = NULL;
		if (cmd_submit_derived_uuid(hubconn_welcome(hc)->organisation,
		    m, fresh, sizeof(fresh)) == -1 ||
		    (m->uuid = strdup(fresh)) == NULL) {
			status = client_fail(EX_UNAVAILABLE, "out of memory");
			goto out;
		}
	}
	if (generated && !c->quiet)
		fprintf(stderr, "ceptoar: %s has no uuid; sending it as %s "
		    "(%s)\n", name, m->uuid, derive ? "derived from its "
		    "content: sent again, it files nothing new" : "--new: a "
		    "new copy");
	if ((status = compose_submit(hc, m, &in)) != 0) {
		/*
		 * Without an answer we cannot know whether the hub stored it.
		 * Sending the same uuid again is safe either way.
		 */
		if (status == EX_UNAVAILABLE)
			fprintf(stderr, "ceptoar: the hub may have stored it; "
			    "to retry without filing it twice, run:\n"
			    "  ceptoar submit%s --uuid %s %s\n",
			    cmd_submit_voluntary(m) ? " --accept-warnings" :
			    "", m->uuid, file);
		goto out;
	}
	output_submit_ack(c, m->uuid, in->submit_ack);
	status = 0;
out:
	if (in != NULL)
		ceptoar__envelope__free_unpacked(in, NULL);
	hubconn_free(hc);
	report_json_free(m);
	return status;
}
