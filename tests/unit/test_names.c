/*
 * Every enumeration a wire message can carry has a names table, and every
 * value of it a name: found by walking the descriptors from the Envelope,
 * so an enumeration or a value added to the protocol later fails here
 * until the tables name it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ceptoar.pb-c.h"
#include "names.h"

#include "check.h"

#define MAX_SEEN	256

static const void	*seen[MAX_SEEN];
static size_t		 nseen;
static size_t		 nenums;

/* Whether descriptor p was visited already; marks it when it was not. */
static bool
visited(const void *p)
{
	size_t	i;

	for (i = 0; i < nseen; i++)
		if (seen[i] == p)
			return true;
	if (nseen < MAX_SEEN)
		seen[nseen++] = p;
	return false;
}

/* Check that every value of enumeration e has a name that parses back. */
static void
check_enum(const ProtobufCEnumDescriptor *e, const char *where)
{
	const struct name_entry	*t = names_for_enum(e);
	unsigned		 i;
	int			 v;

	nenums++;
	if (t == NULL) {
		CHECK(!"an enumeration without a names table");
		fprintf(stderr, "  %s (field %s)\n", e->name, where);
		return;
	}
	for (i = 0; i < e->n_values; i++) {
		const char *name = names_lookup(t, e->values[i].value);

		if (strcmp(name, "unknown") == 0) {
			CHECK(!"an enumeration value without a name");
			fprintf(stderr, "  %s.%s\n", e->name,
			    e->values[i].name);
			continue;
		}
		CHECK(names_parse(t, name, &v) == 0 &&
		    v == e->values[i].value);
	}
	/* And no name for a value the protocol does not have. */
	for (; t->name != NULL; t++)
		CHECK(protobuf_c_enum_descriptor_get_value(e, t->value) != NULL);
}

/* Walk message d's fields, and the messages they hold, once each. */
static void
walk(const ProtobufCMessageDescriptor *d)
{
	unsigned	i;

	if (visited(d))
		return;
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (f->type == PROTOBUF_C_TYPE_ENUM && !visited(f->descriptor))
			check_enum(f->descriptor, f->name);
		else if (f->type == PROTOBUF_C_TYPE_MESSAGE)
			walk(f->descriptor);
	}
}

int
main(void)
{
	walk(&ceptoar__envelope__descriptor);
	/* The walk reached the protocol's enumerations (at least these). */
	CHECK(nenums >= 9);
	CHECK(nseen < MAX_SEEN);
	return CHECK_DONE();
}
