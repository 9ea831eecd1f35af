/*
 * Field-level validation of messages, shared by the client (before it
 * sends) and the hub (before it accepts).  Every error names the field by
 * its path, as in the JSON report format ("report.severity.safety").
 */
#ifndef CEPTOAR_VALIDATE_H
#define CEPTOAR_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ceptoar.pb-c.h"

#define VALIDATE_MAX_SHORT	256		/* names, titles, ids */
#define VALIDATE_MAX_TEXT	(256 * 1024)	/* free text */
#define VALIDATE_MAX_LIST	1024		/* indicators, systems, ids */
#define VALIDATE_MAX_SEVERITY	4
#define VALIDATE_MAX_FIGURE	9223372036854775807ULL	/* INT64_MAX: JSON integers */
#define VALIDATE_MAX_TIME	253402300799LL		/* 9999-12-31 */
#define VALIDATE_MAX_SKEW	86400	/* seconds a time may lie ahead of now */

struct validate_error {
	char		field[128];	/* the first offending field */
	char		reason[256];	/* and why */
	unsigned	count;		/* mistakes found */
	char		all[2048];	/* every "field: reason", one a line */
};

/*
 * Check m for completeness and values in range.  Returns 0 when valid;
 * otherwise -1 with err naming the first offending field and why, and,
 * for a report, every other mistake found in err->all.
 */
int	validate_message(const Ceptoar__Message *m, struct validate_error *err);

/*
 * Check what needs a clock: a report's times may not lie more than
 * VALIDATE_MAX_SKEW seconds after now (seconds since the epoch), which
 * covers time zones written wrong and clocks a little off; occurred_at
 * may, for a failure expected or an attack announced.  0 or -1.
 */
int	validate_times(const Ceptoar__Message *m, int64_t now,
	    struct validate_error *err);

/* Check a Forward's fields: its uuid, label, note, text and recipients. */
int	validate_forward(const Ceptoar__Forward *f, struct validate_error *err);

/* Check a ReviewReject: its hub id, uuid and the reason, required. */
int	validate_review_reject(const Ceptoar__ReviewReject *r,
	    struct validate_error *err);

/* Check the reviewed text a review show is asked to try. */
int	validate_review_text(const char *text, struct validate_error *err);

/* Whether event type ev is one of cause c's event types. */
bool	validate_cause_event(int c, int ev);

/* The overall severity: the highest viewpoint given, or -1 if none. */
int	validate_overall_severity(const Ceptoar__Severity *s);

/* Whether s looks like an RFC 4122 UUID in its textual form. */
bool	validate_uuid(const char *s);

/*
 * Whether m packs into bytes that unpack again.  protobuf-c accepts some
 * unknown-field encodings it cannot reproduce; such a message must be
 * refused before it is stored, or it could never be delivered.
 */
bool	validate_round_trip(const Ceptoar__Message *m);

/*
 * Write 16 bytes (random or a keyed hash) as a version 4 UUID: the
 * version and variant bits of b are set first.  len should be >= 37.
 */
void	validate_uuid_format(unsigned char b[16], char *out, size_t len);
/* The same with another version in the version bits (7: time-ordered). */
void	validate_uuid_format_version(unsigned char b[16], unsigned version,
	    char *out, size_t len);

/* Whether s has the form of a hub id (the hub's ids are UUIDs). */
bool	validate_hub_id(const char *s);

#endif
