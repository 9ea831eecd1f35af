/*
 * anon-fields: every string field a message going up on an anonymised
 * form can carry, found through the protobuf-c descriptors of
 * ceptoar.Message, as JSON for the regress scenario anon_every_field:
 * {"report": ["uuid", "report.contact.name", "hop_notes[].note", ...],
 *  "reply": [...], ...}.  A field added to the protocol later is listed
 * without a line changed here or in the scenario.
 */
#include <stdio.h>
#include <string.h>

#include "ceptoar.pb-c.h"

#define ANON_FIELDS_DEPTH	8

static int	anon_fields_first;

/* Print the string fields of d under path; repeated ones end in "[]". */
static void
anon_fields_walk(const ProtobufCMessageDescriptor *d, const char *path,
    const char *content, int depth)
{
	const ProtobufCFieldDescriptor	*f;
	char				 p[512];
	unsigned			 i;

	if (depth > ANON_FIELDS_DEPTH)
		return;
	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		/* Of the content oneof, only the content asked for. */
		if (depth == 0 && (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    strcmp(f->name, content) != 0)
			continue;
		snprintf(p, sizeof(p), "%s%s%s%s", path, *path ? "." : "",
		    f->name, f->label == PROTOBUF_C_LABEL_REPEATED ? "[]" : "");
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			printf("%s\"%s\"", anon_fields_first ? "" : ", ", p);
			anon_fields_first = 0;
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE)
			anon_fields_walk(f->descriptor, p, content, depth + 1);
	}
}

int
main(int argc, char **argv)
{
	int	i;

	printf("{");
	for (i = 1; i < argc; i++) {
		if (protobuf_c_message_descriptor_get_field_by_name(
		    &ceptoar__message__descriptor, argv[i]) == NULL) {
			fprintf(stderr, "anon-fields: ceptoar.Message has no "
			    "content %s\n", argv[i]);
			return 64;
		}
		printf("%s\"%s\": [", i > 1 ? ", " : "", argv[i]);
		anon_fields_first = 1;
		anon_fields_walk(&ceptoar__message__descriptor, "", argv[i], 0);
		printf("]");
	}
	printf("}\n");
	return 0;
}
