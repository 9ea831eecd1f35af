/*
 * ceptoar: the command-line client of the CEPTOAR hub.  One internal
 * header, grouped by file.
 */
#ifndef CEPTOAR_CLIENT_H
#define CEPTOAR_CLIENT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sysexits.h>

#include <jansson.h>

#include "ceptoar.pb-c.h"
#include "names.h"

#ifndef CEPTOAR_VERSION
#define CEPTOAR_VERSION		"0.1.0"
#endif

/*
 * Exit statuses, so that scripts and cron jobs can tell "try again later"
 * from "fix the report" from "fix the set-up".  The numbers above 63 are
 * those of sysexits(3).
 */
#define EXIT_HUB_REFUSED	1	/* the hub answered with an Error */
#define EXIT_NOT_FOUND		2	/* no such message for us */
#define EXIT_WARNING		3	/* stopped on a warning; nothing sent */
/*	EX_USAGE		64	   bad command line */
/*	EX_DATAERR		65	   the report is invalid */
/*	EX_NOINPUT		66	   cannot open the report file */
/*	EX_UNAVAILABLE		69	   hub unreachable, TLS failure, lost */
/*	EX_IOERR		74	   cannot write our own output */
/*	EX_NOPERM		77	   our certificate refused */
/*	EX_CONFIG		78	   ceptoar.conf is wrong */

struct clientconf;
struct hubconn;

/* client.c */
struct client {
	const char		*conf_path;	/* -c, or the default */
	bool			 json;		/* --json */
	bool			 quiet;		/* -q */
	struct clientconf	*conf;		/* loaded on first use */
	bool			 lost;		/* last connect: hubconn_lost */
};

/*
 * One row of the command table: a command is a file cmd_NAME.c that
 * defines cmd_NAME_entry.  exec gets argv with argv[0] the command name
 * and returns the process exit status.
 */
struct cmd_entry {
	const char	*name;
	const char	*usage;		/* arguments after the name */
	int		(*exec)(struct client *, int argc, char **argv);
	const char	*help;		/* one line */
};

/* Print "ceptoar: " and a sentence on stderr; return status. */
int	 client_fail(int status, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Print "ceptoar: warning: " and a sentence on stderr. */
void	 client_warn(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* A usage error for cmd: print its synopsis and return EX_USAGE. */
int	 client_usage(const struct cmd_entry *cmd);
/*
 * Load the configuration (once) and connect to the hub, including the
 * Hello/Welcome exchange.  Returns 0 with *hcp set, or an exit status
 * after printing why.
 */
int	 client_connect(struct client *, struct hubconn **hcp);
/* Flush stdout; EX_IOERR with a message if our output went nowhere. */
int	 client_flush(void);

/* clientconf.c */
struct clientconf {
	char		*path;
	char		*hub;		/* as written, for messages */
	char		*host;		/* without brackets */
	char		*port;
	char		*ca;		/* paths, relative ones resolved */
	char		*cert;		/*   against the file's directory */
	char		*key;
	char		*server_name;	/* verified name; default host */
	unsigned int	 timeout;	/* seconds */
};

/*
 * The configuration path to use when -c is not given: $CEPTOAR_CONF,
 * else ~/.config/ceptoar/ceptoar.conf if it exists, else the system one.
 * Returns a malloc'd string.
 */
char	*clientconf_default_path(void);
/*
 * Load path into a new configuration.  NULL with *cause a malloc'd
 * "file:line: what" sentence on any error.
 */
struct clientconf *clientconf_load(const char *path, char **cause);
void	 clientconf_free(struct clientconf *);
/*
 * Whether group or others may read our private key, which is then no
 * longer private; *mode gets its permission bits.
 */
bool	 clientconf_key_exposed(const struct clientconf *, unsigned int *mode);
/*
 * Split "host:port" or "[v6]:port" into malloc'd parts; -1 with a
 * static reason on error.
 */
int	 clientconf_split_hub(const char *hub, char **host, char **port,
	    const char **reason);

/* hubconn.c */
enum hubconn_status {
	HUBCONN_OK,
	HUBCONN_FAILED,		/* see hubconn_exit() and hubconn_strerror() */
	HUBCONN_TIMEOUT,	/* nothing arrived in time; still usable */
	HUBCONN_INTERRUPTED,	/* the interrupt flag was raised */
};

/* A connection that is not yet open; conf must outlive it. */
struct hubconn *hubconn_new(const struct clientconf *conf);
/*
 * Connect, handshake TLS 1.3 and exchange Hello/Welcome.  HUBCONN_OK or
 * HUBCONN_FAILED.
 */
enum hubconn_status hubconn_open(struct hubconn *);
/* Say goodbye (TLS close_notify), close and free. NULL is fine. */
void	 hubconn_free(struct hubconn *);
/* The Welcome the hub sent; valid until hubconn_free. */
const Ceptoar__Welcome *hubconn_welcome(const struct hubconn *);
/* The exit status and the sentence of the last failure. */
int	 hubconn_exit(const struct hubconn *);
const char *hubconn_strerror(const struct hubconn *);
/*
 * Whether the last failure was the connection's loss (refused, reset,
 * closed after the hub had spoken) rather than a refusal or bad data:
 * a follower reconnects after those.
 */
bool	 hubconn_lost(const struct hubconn *);
/*
 * Make waits interruptible: they return HUBCONN_INTERRUPTED once *flag
 * is non-zero.  The caller keeps the signals that raise flag blocked
 * and passes in waitmask the mask to wait with, so that no signal is
 * lost between checking flag and going to sleep.
 */
void	 hubconn_set_interrupt(struct hubconn *, volatile sig_atomic_t *flag,
	    const sigset_t *waitmask);
/*
 * Stamp env with the protocol version and the next request id, frame it
 * and write it out.  HUBCONN_OK or HUBCONN_FAILED.
 */
enum hubconn_status hubconn_send(struct hubconn *, Ceptoar__Envelope *env);
/*
 * Wait up to timeout_ms (-1: the configured timeout) for one envelope.
 * On HUBCONN_OK the caller owns *envp, which may be an Error envelope;
 * free it with ceptoar__envelope__free_unpacked(*envp, NULL).
 */
enum hubconn_status hubconn_recv(struct hubconn *, int timeout_ms,
	    Ceptoar__Envelope **envp);
/*
 * Wait for the answer to the request just sent: an envelope whose body
 * is want.  Error envelopes, a closed connection or any other body
 * become HUBCONN_FAILED with the hub's words in hubconn_strerror().
 */
enum hubconn_status hubconn_expect(struct hubconn *,
	    Ceptoar__Envelope__BodyCase want, Ceptoar__Envelope **envp);
/*
 * Record a hub Error as the connection's failure: the sentence reads
 * "hub error <code>: <message> (field X)".  Returns the exit status.
 */
int	 hubconn_hub_error(struct hubconn *, const Ceptoar__Error *);
/*
 * Send Ping and wait for its Pong, dropping any Deliver that arrives
 * meanwhile (it stays unacknowledged and comes again) and any SubmitAck
 * to an earlier request.  Since the hub handles frames in order, the
 * Pong proves everything sent before it was processed.  *rtt_us, if not
 * NULL, gets the round trip.
 */
enum hubconn_status hubconn_ping(struct hubconn *, uint64_t *rtt_us);
/* The configured timeout in milliseconds. */
int	 hubconn_timeout_ms(const struct hubconn *);

/* report_json.c */
/*
 * Read a JSON report from path ("-" for stdin) into a new Message.
 * Returns 0, or EX_NOINPUT / EX_DATAERR with *cause a malloc'd sentence
 * ("FILE:line:col: ..." or "FILE: field.path: reason").  Nothing is
 * validated beyond the JSON shape; see report_json_validate.
 */
int	 report_json_load(const char *path, Ceptoar__Message **out,
	    char **cause);
/* The same from a parsed JSON value; name is used in messages. */
int	 report_json_decode(const char *name, json_t *root,
	    Ceptoar__Message **out, char **cause);
/*
 * Run the shared validator on m; -1 with *cause "field: reason" for the
 * first offending field.
 */
int	 report_json_validate(const Ceptoar__Message *m, char **cause);
/*
 * Render any protocol message as a JSON object with the proto field
 * names as keys; Message gets its "type" key.  New reference.
 */
json_t	*report_json_encode(const ProtobufCMessage *m);
/* Free a Message built by report_json_load or _decode.  NULL is fine. */
void	 report_json_free(Ceptoar__Message *m);
/*
 * Shared by the readers and writers of the format: whether a field holds
 * a time or a severity level (names_for_enum gives an enumeration's
 * names).
 */
bool	 report_json_is_time(const ProtobufCFieldDescriptor *);
bool	 report_json_is_severity(const ProtobufCMessageDescriptor *,
	    const ProtobufCFieldDescriptor *);
/*
 * How many values field f of m has (0 if absent, 1 for a present
 * optional field); *values points at the first and *step is the size
 * of one.
 */
size_t	 report_json_field(const ProtobufCMessage *m,
	    const ProtobufCFieldDescriptor *f, const void **values,
	    size_t *step);
/* Format a unix time as RFC 3339 UTC ("2026-11-20T18:05:00Z"). */
const char *report_json_time(int64_t t, char *buf, size_t len);
/* Parse RFC 3339 with a UTC offset; -1 with a static reason. */
int	 report_json_parse_time(const char *s, int64_t *t, const char **reason);
/* The name of a Message's content ("report", ...), or NULL. */
const char *report_json_type(const Ceptoar__Message *m);
/* A fresh random (version 4) UUID into buf of at least 37 bytes. */
void	 report_json_uuid(char *buf, size_t len);

/* output.c */
/*
 * Strings from the hub come from other organisations: before they reach
 * a terminal, control characters (C0, DEL, C1) are neutralised, so that
 * nobody can rewrite an operator's screen with escape sequences.
 */
/* Write s, with control characters shown as \xNN. */
void	 output_safe(FILE *, const char *s);
/* Replace control characters in s with '?', in place. */
void	 output_clean(char *s);
/* Print j as one line of JSON and a newline. */
void	 output_json(json_t *j);
/* A delivery as a text block (inbox) or one JSON line (--json). */
void	 output_delivery(const struct client *, const Ceptoar__Delivery *);
/*
 * Everything in a delivery, field by field (show).  recipients are the
 * sender's view of who got it, and may be empty.
 */
void	 output_delivery_full(const struct client *, const Ceptoar__Delivery *,
	    Ceptoar__Recipient **recipients, size_t nrecipients);
/*
 * A SubmitAck as text or JSON; uuid is what we sent.  Warnings go to
 * stderr in text mode (also with -q); the JSON object always carries
 * "warnings" and "held".
 */
void	 output_submit_ack(const struct client *, const char *uuid,
	    const Ceptoar__SubmitAck *);
/* The severity of a message as "3 high", or NULL if none is given. */
const char *output_severity(const Ceptoar__Message *, char *buf, size_t len);
/*
 * The severity of a message with every viewpoint: "3 high (continuity 3
 * high, safety 0 none, trust 2 medium)", or NULL if none is given.
 */
const char *output_severity_long(const Ceptoar__Message *, char *buf,
	    size_t len);
/* A delivery as JSON, with "review" always present.  New reference. */
json_t	*output_delivery_json(const Ceptoar__Delivery *);
/* Every field of any protocol message, one per line, indented. */
void	 output_message(const ProtobufCMessage *, int indent);
/* A time for a table: RFC 3339 UTC, or dflt when not given. */
const char *output_time(bool has, int64_t t, const char *dflt, char *buf,
	    size_t len);

/* compose.c */
/*
 * Messages that commands build from their arguments rather than from a
 * file, and the exchanges that carry them.  A built message points into
 * argv and local buffers: nothing in it is freed with free_unpacked.
 */
/* A fresh uuid, a label and nothing else; uuid must hold 40 bytes. */
void	 compose_init(Ceptoar__Message *m, char *uuid, Ceptoar__Tlp tlp);
/* Parse a TLP label given to option opt; EX_USAGE after saying why. */
int	 compose_tlp(const char *opt, const char *arg, Ceptoar__Tlp *tlp);
/* Parse a sharing scope given to option opt; EX_USAGE after saying why. */
int	 compose_scope(const char *opt, const char *arg,
	    Ceptoar__SharingScope *scope);
/* Check a hub id argument of cmd; EX_USAGE after saying why. */
int	 compose_hub_id(const struct cmd_entry *cmd, const char *arg);
/* Check a directory id given to option opt; EX_USAGE after saying why. */
int	 compose_id(const char *opt, const char *arg);
/*
 * Read a text file (or "-" for stdin) into a malloc'd string, checked
 * as the protocol checks free text; 0, or an exit status after saying
 * why.
 */
int	 compose_read_text(const char *opt, const char *path, char **out);
/* Check text given to option opt as free text; EX_DATAERR if not. */
int	 compose_check_text(const char *opt, const char *text);
/*
 * A deterministic uuid for org's answer to check hub_id, so that
 * answering the same check twice files one answer.
 */
void	 compose_answer_uuid(const char *org, const char *hub_id, char *buf,
	    size_t len);
/*
 * Build org's answer to the communication check hub_id into m and a,
 * TLP:GREEN, with the uuid of compose_answer_uuid in uuid (40 bytes).
 */
void	 compose_check_answer(Ceptoar__Message *m, Ceptoar__CheckAnswer *a,
	    char *uuid, const char *org, const char *hub_id);
/*
 * Send m as a Submit and wait for its SubmitAck; 0 with *inp the
 * answer envelope (the caller frees it), or an exit status after saying
 * why.
 */
int	 compose_submit(struct hubconn *, Ceptoar__Message *m,
	    Ceptoar__Envelope **inp);
/*
 * Ask the hub what it would do with m; 0 with *inp the PreviewResult
 * envelope (the caller frees it), or an exit status after saying why.
 */
int	 compose_preview(struct hubconn *, Ceptoar__Message *m,
	    Ceptoar__Envelope **inp);
/* Run the shared validator on m; EX_DATAERR after naming the field. */
int	 compose_validate(const Ceptoar__Message *m);
/*
 * Validate m and submit it on an open connection; 0 with *inp the
 * SubmitAck envelope (the caller frees it), or an exit status after
 * saying why.
 */
int	 compose_send_on(struct hubconn *, Ceptoar__Message *m,
	    Ceptoar__Envelope **inp);
/*
 * Validate m, connect, submit it and print the SubmitAck as submit
 * does.  Returns the exit status.
 */
int	 compose_send(struct client *, Ceptoar__Message *m);
/* Whether any of the warnings is the hub's small-anonymity-set one. */
bool	 compose_anonymity_warning(char **warnings, size_t n, size_t *which);

/* cmd_*.c: one file per command. */
extern const struct cmd_entry cmd_submit_entry;
extern const struct cmd_entry cmd_preview_entry;
extern const struct cmd_entry cmd_inbox_entry;
extern const struct cmd_entry cmd_show_entry;
extern const struct cmd_entry cmd_forward_entry;
extern const struct cmd_entry cmd_review_entry;
extern const struct cmd_entry cmd_receipts_entry;
extern const struct cmd_entry cmd_reply_entry;
extern const struct cmd_entry cmd_consult_entry;
extern const struct cmd_entry cmd_widen_entry;
extern const struct cmd_entry cmd_consent_entry;
extern const struct cmd_entry cmd_check_entry;
extern const struct cmd_entry cmd_ping_entry;

#endif
