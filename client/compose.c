/*
 * Messages that commands build from their arguments (a reply, a
 * consultation, a request to widen a range, a consent, a communication
 * check and its answer), the checks on those arguments, and the
 * exchanges that carry messages to the hub: Submit and Preview.
 *
 * A built message lives on the caller's stack and points into argv and
 * the caller's buffers; it is packed and sent, never freed field by
 * field.  The shared validator checks it before anything is sent, so a
 * mistake is named by its field as for a JSON file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ceptoar.h"
#include "validate.h"

/* A text file is at most what the protocol takes as free text. */
#define COMPOSE_MAX_FILE	VALIDATE_MAX_TEXT

/* A new message with a fresh uuid and the label; see ceptoar.h. */
void
compose_init(Ceptoar__Message *m, char *uuid, Ceptoar__Tlp tlp)
{
	ceptoar__message__init(m);
	report_json_uuid(uuid, 40);
	m->uuid = uuid;
	m->has_tlp = 1;
	m->tlp = tlp;
}

/* A name from table t (what it is, for the error), as an enum value. */
static int
compose_name(const struct name_entry *t, const char *what, const char *opt,
    const char *arg, int *v)
{
	char	list[160];

	if (names_parse(t, arg, v) == 0)
		return 0;
	names_list(t, list, sizeof(list));
	return client_fail(EX_USAGE, "%s: unknown %s \"%s\" (expected one "
	    "of: %s)", opt, what, arg, list);
}

/* A TLP label as written in the JSON format, with or without "TLP:". */
int
compose_tlp(const char *opt, const char *arg, Ceptoar__Tlp *tlp)
{
	int	v, status;

	if ((status = compose_name(names_tlp, "label", opt, arg, &v)) == 0)
		*tlp = (Ceptoar__Tlp)v;
	return status;
}

/* A sharing scope by its JSON name. */
int
compose_scope(const char *opt, const char *arg, Ceptoar__SharingScope *scope)
{
	int	v, status;

	if ((status = compose_name(names_sharing_scope, "scope", opt, arg,
	    &v)) == 0)
		*scope = (Ceptoar__SharingScope)v;
	return status;
}

/* A hub id is a UUID; anything else cannot name a message. */
int
compose_hub_id(const struct cmd_entry *cmd, const char *arg)
{
	if (validate_hub_id(arg))
		return 0;
	fprintf(stderr, "ceptoar: %s: \"%s\" is not a hub id (a UUID, as "
	    "inbox and show print it)\n", cmd->name, arg);
	return client_usage(cmd);
}

/* A directory id: what the directory and the validator accept. */
int
compose_id(const char *opt, const char *arg)
{
	size_t	i, len = strlen(arg);

	for (i = 0; i < len; i++)
		if (!((arg[i] >= 'a' && arg[i] <= 'z') ||
		    (arg[i] >= '0' && arg[i] <= '9') || arg[i] == '-'))
			break;
	if (len == 0 || len > 64 || i < len)
		return client_fail(EX_USAGE, "%s: \"%s\" is not a directory "
		    "id (1 to 64 lower-case letters, digits and '-')", opt,
		    arg);
	return 0;
}

/* A message uuid: what the validator accepts, so the hub never refuses it. */
int
compose_uuid(const char *opt, const char *arg)
{
	if (!validate_uuid(arg))
		return client_fail(EX_USAGE, "%s: \"%s\" is not a UUID "
		    "(8-4-4-4-12 hex digits)", opt, arg);
	return 0;
}

/*
 * Check text as the protocol checks free text (UTF-8, no control bytes
 * but line breaks and tabs, at most 256 KiB), by asking the shared
 * validator about a reply that carries it: one set of rules, not two.
 */
int
compose_check_text(const char *opt, const char *text)
{
	Ceptoar__Message	m = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Reply		r = CEPTOAR__REPLY__INIT;
	struct validate_error	err;
	char			uuid[40];

	compose_init(&m, uuid, CEPTOAR__TLP__TLP_AMBER);
	m.content_case = CEPTOAR__MESSAGE__CONTENT_REPLY;
	m.reply = &r;
	r.in_reply_to = uuid;
	r.text = (char *)text;
	if (*text == '\0')
		return client_fail(EX_USAGE, "%s: the text is empty", opt);
	if (validate_message(&m, &err) == -1)
		return client_fail(EX_DATAERR, "%s: %s", opt, err.reason);
	return 0;
}

/* Read a whole text file; see ceptoar.h. */
int
compose_read_text(const char *opt, const char *path, char **out)
{
	FILE	*fp;
	char	*buf;
	size_t	 len = 0, n;
	int	 status, saved;

	*out = NULL;
	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "r")) == NULL)
		return client_fail(EX_NOINPUT, "%s: cannot open %s: %s", opt,
		    path, strerror(errno));
	/* One byte more than allowed tells "too long" from "just fits". */
	if ((buf = malloc(COMPOSE_MAX_FILE + 2)) == NULL) {
		if (fp != stdin)
			fclose(fp);
		return client_fail(EX_UNAVAILABLE, "out of memory");
	}
	while (len < COMPOSE_MAX_FILE + 1 &&
	    (n = fread(buf + len, 1, COMPOSE_MAX_FILE + 1 - len, fp)) > 0)
		len += n;
	saved = errno;
	if (ferror(fp)) {
		if (fp != stdin)
			fclose(fp);
		free(buf);
		return client_fail(EX_NOINPUT, "%s: cannot read %s: %s", opt,
		    path, strerror(saved));
	}
	if (fp != stdin)
		fclose(fp);
	buf[len] = '\0';
	if (len > COMPOSE_MAX_FILE) {
		free(buf);
		return client_fail(EX_DATAERR, "%s: %s is larger than the %u "
		    "bytes a text may have", opt, path,
		    (unsigned)COMPOSE_MAX_FILE);
	}
	if (memchr(buf, '\0', len) != NULL) {
		free(buf);
		return client_fail(EX_DATAERR, "%s: %s contains a NUL byte; "
		    "is it a text file?", opt, path);
	}
	if ((status = compose_check_text(opt, buf)) != 0) {
		free(buf);
		return status;
	}
	*out = buf;
	return 0;
}

/*
 * Keyed by the organisation and the check, so that the answer typed by
 * hand and the one inbox --answer-checks sends are the same write.
 */
void
compose_answer_uuid(const char *org, const char *hub_id, char *buf,
    size_t len)
{
	crypto_generichash_state	st;
	unsigned char			h[16];

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)
	    "ceptoar-check-answer|", 21);
	crypto_generichash_update(&st, (const unsigned char *)org,
	    strlen(org));
	crypto_generichash_update(&st, (const unsigned char *)"|", 1);
	crypto_generichash_update(&st, (const unsigned char *)hub_id,
	    strlen(hub_id));
	crypto_generichash_final(&st, h, sizeof(h));
	validate_uuid_format(h, buf, len);
}

/* org's answer to check hub_id; see ceptoar.h. */
void
compose_check_answer(Ceptoar__Message *m, Ceptoar__CheckAnswer *a,
    char *uuid, const char *org, const char *hub_id)
{
	ceptoar__message__init(m);
	ceptoar__check_answer__init(a);
	compose_answer_uuid(org, hub_id, uuid, 40);
	m->uuid = uuid;
	/* The label of the check itself: the whole chain may see both. */
	m->has_tlp = 1;
	m->tlp = CEPTOAR__TLP__TLP_GREEN;
	a->check = (char *)hub_id;
	m->content_case = CEPTOAR__MESSAGE__CONTENT_CHECK_ANSWER;
	m->check_answer = a;
}

/* One request and its answer; the hub's error becomes our status. */
static int
compose_exchange(struct hubconn *hc, Ceptoar__Envelope *env,
    Ceptoar__Envelope__BodyCase want, Ceptoar__Envelope **inp)
{
	*inp = NULL;
	if (hubconn_send(hc, env) != HUBCONN_OK ||
	    hubconn_expect(hc, want, inp) != HUBCONN_OK)
		return client_fail(hubconn_exit(hc), "%s",
		    hubconn_strerror(hc));
	return 0;
}

/* Submit m and wait for the ack. */
int
compose_submit(struct hubconn *hc, Ceptoar__Message *m,
    Ceptoar__Envelope **inp)
{
	Ceptoar__Envelope	env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Submit		submit = CEPTOAR__SUBMIT__INIT;

	submit.message = m;
	env.body_case = CEPTOAR__ENVELOPE__BODY_SUBMIT;
	env.submit = &submit;
	return compose_exchange(hc, &env, CEPTOAR__ENVELOPE__BODY_SUBMIT_ACK,
	    inp);
}

/* Ask what the hub would do with m. */
int
compose_preview(struct hubconn *hc, Ceptoar__Message *m,
    Ceptoar__Envelope **inp)
{
	Ceptoar__Envelope	env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Preview	preview = CEPTOAR__PREVIEW__INIT;

	preview.message = m;
	env.body_case = CEPTOAR__ENVELOPE__BODY_PREVIEW;
	env.preview = &preview;
	return compose_exchange(hc, &env,
	    CEPTOAR__ENVELOPE__BODY_PREVIEW_RESULT, inp);
}

/* Run the shared validator; EX_DATAERR after naming the field. */
int
compose_validate(const Ceptoar__Message *m)
{
	char	*cause;
	int	 status;

	if (report_json_validate(m, &cause) == 0)
		return 0;
	status = client_fail(EX_DATAERR, "%s", cause != NULL ? cause :
	    "out of memory");
	free(cause);
	return status;
}

/* Validate and submit on an open connection; see ceptoar.h. */
int
compose_send_on(struct hubconn *hc, Ceptoar__Message *m,
    Ceptoar__Envelope **inp)
{
	int	status;

	*inp = NULL;
	if ((status = compose_validate(m)) != 0)
		return status;
	if ((status = compose_submit(hc, m, inp)) == EX_UNAVAILABLE)
		fprintf(stderr, "ceptoar: the hub may have stored it (uuid "
		    "%s) before the connection failed\n", m->uuid);
	return status;
}

/* Validate, connect, submit, print the ack. */
int
compose_send(struct client *c, Ceptoar__Message *m)
{
	Ceptoar__Envelope	*in = NULL;
	struct hubconn		*hc;
	int			 status;

	/* Before connecting: a mistake costs no round trip. */
	if ((status = compose_validate(m)) != 0)
		return status;
	if ((status = client_connect(c, &hc)) != 0)
		return status;
	if ((status = compose_send_on(hc, m, &in)) == 0) {
		output_submit_ack(c, m->uuid, in->submit_ack);
		ceptoar__envelope__free_unpacked(in, NULL);
	}
	hubconn_free(hc);
	return status;
}

/*
 * The hub warns of a small anonymity set in words that mention
 * "anonymity" or that the report is "easy to trace back"; either will
 * do, so a rewording of one half still stops the submit.
 */
bool
compose_anonymity_warning(char **warnings, size_t n, size_t *which)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (warnings[i] == NULL)
			continue;
		if (strstr(warnings[i], "anonymity") != NULL ||
		    strstr(warnings[i], "easy to trace back") != NULL) {
			*which = i;
			return true;
		}
	}
	return false;
}
