/*
 * Names of the protocol's enumerations as people and JSON write them.
 * One table per enumeration, shared by the hub, the client and the docs.
 */
#ifndef CEPTOAR_NAMES_H
#define CEPTOAR_NAMES_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct name_entry {
	int		 value;
	const char	*name;		/* canonical spelling, used for output */
	const char	*alias;		/* also accepted on input, may be NULL */
};

extern const struct name_entry names_tlp[];
extern const struct name_entry names_cause[];
extern const struct name_entry names_event_type[];
extern const struct name_entry names_stage[];
extern const struct name_entry names_report_kind[];
extern const struct name_entry names_sharing_scope[];
extern const struct name_entry names_attribution[];
extern const struct name_entry names_error_code[];
extern const struct name_entry names_form[];
extern const struct name_entry names_review_notice[];
extern const struct name_entry names_severity[];	/* 0..4 */

/*
 * The names table of enumeration d, or NULL when it has none: lets a test
 * walk the messages' descriptors and find every enumeration without one.
 */
const struct name_entry	*names_for_enum(const ProtobufCEnumDescriptor *d);

/* The canonical name of value v in table t, or "unknown". */
const char	*names_lookup(const struct name_entry *t, int v);

/*
 * Parse s (case-insensitive, canonical name or alias) into *v.
 * Returns 0 on success, -1 if s names nothing in t.
 */
int		 names_parse(const struct name_entry *t, const char *s, int *v);

/* Write the accepted names of t, separated by ", ", into buf. */
void		 names_list(const struct name_entry *t, char *buf, size_t len);

#endif
