/*
 * What ceptoar prints: a short block per delivery for people watching an
 * inbox, every field for show, and with --json one JSON object per line
 * in the report format, for scripts.
 */
#include <stdlib.h>
#include <string.h>

#include "ceptoar.h"
#include "validate.h"

#define OUTPUT_DRILL_BANNER \
	"********** [DRILL] exercise, not a real event **********"

/* Whether p starts a control character: C0, DEL, or C1 in UTF-8. */
static size_t
output_control(const unsigned char *p)
{
	if (*p < 0x20 || *p == 0x7f)
		return 1;
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	return 0;
}

/*
 * Neutralise control characters in place, for messages built from hub
 * strings.
 */
void
output_clean(char *s)
{
	unsigned char	*p = (unsigned char *)s;
	size_t		 n;

	while (*p != '\0') {
		if ((n = output_control(p)) == 0) {
			p++;
			continue;
		}
		while (n-- > 0)
			*p++ = '?';
	}
}

/* Print a string from a peer without letting it control the terminal. */
void
output_safe(FILE *fp, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	for (; *p != '\0'; p++) {
		if ((n = output_control(p)) == 0)
			putc(*p, fp);
		else {
			for (; n > 0; n--, p++)
				fprintf(fp, "\\x%02x", *p);
			p--;
		}
	}
}

/*
 * Text that may run over several lines (free_text, descriptions): each
 * line on its own and indented, tabs kept, other controls escaped.
 */
static void
output_lines(FILE *fp, const char *s, int indent)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	fprintf(fp, "%*s", indent, "");
	for (; *p != '\0'; p++) {
		if (*p == '\n')
			fprintf(fp, "\n%*s", p[1] != '\0' ? indent : 0, "");
		else if (*p == '\t')
			putc('\t', fp);
		else if (*p == '\r' && p[1] == '\n')
			continue;	/* would move the cursor back */
		else if ((n = output_control(p)) == 0)
			putc(*p, fp);
		else {
			for (; n > 0; n--, p++)
				fprintf(fp, "\\x%02x", *p);
			p--;
		}
	}
	if (p == (const unsigned char *)s || p[-1] != '\n')
		putc('\n', fp);
}

/* One JSON object per line, so output can be read line by line. */
void
output_json(json_t *j)
{
	if (j == NULL)
		return;
	json_dumpf(j, stdout, JSON_COMPACT);
	putchar('\n');
}

/* The severity as people say it: "3 high". */
const char *
output_severity(const Ceptoar__Message *m, char *buf, size_t len)
{
	const Ceptoar__Severity	*s = NULL;
	int			 level;

	switch (m->content_case) {
	case CEPTOAR__MESSAGE__CONTENT_REPORT:
		s = m->report->severity;
		break;
	case CEPTOAR__MESSAGE__CONTENT_ADVISORY:
		s = m->advisory->severity;
		break;
	case CEPTOAR__MESSAGE__CONTENT_EARLY_WARNING:
		s = m->early_warning->severity;
		break;
	default:
		break;
	}
	if (s == NULL)
		return NULL;
	level = s->has_overall ? (int)s->overall : validate_overall_severity(s);
	if (level < 0)
		return NULL;
	snprintf(buf, len, "%d %s", level, names_lookup(names_severity, level));
	return buf;
}

/* The title of whatever the message carries. */
static const char *
output_title(const Ceptoar__Message *m)
{
	const char	*t = NULL;

	switch (m->content_case) {
	case CEPTOAR__MESSAGE__CONTENT_REPORT:
		t = m->report->title;
		break;
	case CEPTOAR__MESSAGE__CONTENT_ADVISORY:
		t = m->advisory->title;
		break;
	case CEPTOAR__MESSAGE__CONTENT_EARLY_WARNING:
		t = m->early_warning->title;
		break;
	default:
		break;
	}
	return t != NULL ? t : "(no title)";
}

/* "report/incident notification rev 1", "advisory": what it is. */
static const char *
output_kind(const Ceptoar__Message *m, char *buf, size_t len)
{
	const char		*type = report_json_type(m);

	if (type == NULL)
		return "(empty)";
	const Ceptoar__Report	*r;
	int			 n;

	if (m->content_case != CEPTOAR__MESSAGE__CONTENT_REPORT) {
		snprintf(buf, len, "%s", type);
		return buf;
	}
	/* Updates in a chain are told apart by stage and revision. */
	r = m->report;
	n = snprintf(buf, len, "%s/%s", type, r->has_kind ?
	    names_lookup(names_report_kind, r->kind) : "?");
	if (r->has_stage && n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, " %s",
		    names_lookup(names_stage, r->stage));
	if (r->has_revision && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - n, " rev %u", r->revision);
	return buf;
}

/* A time field for people: RFC 3339 UTC, or "-" when not given. */
static const char *
output_time(bool has, int64_t t, char *buf, size_t len)
{
	if (!has)
		return "-";
	return report_json_time(t, buf, len);
}

/* One delivery in an inbox listing. */
void
output_delivery(const struct client *c, const Ceptoar__Delivery *d)
{
	const Ceptoar__Message	*m = d->message;
	json_t			*j;
	char			 sev[32], kind[64], when[64];
	bool			 drill;

	if (c->json) {
		j = report_json_encode(&d->base);
		output_json(j);
		json_decref(j);
		return;
	}
	drill = m != NULL && m->has_drill && m->drill;
	printf("%sseq %llu  %s  %s  %s  %s\n", drill ? "[DRILL] " : "",
	    (unsigned long long)d->seq,
	    output_time(d->has_received_at, d->received_at, when, sizeof(when)),
	    m != NULL && m->has_tlp ? names_lookup(names_tlp, m->tlp) :
	    "TLP:?",
	    m != NULL && output_severity(m, sev, sizeof(sev)) != NULL ? sev :
	    "severity ?",
	    m != NULL ? output_kind(m, kind, sizeof(kind)) : "(no message)");
	if (drill)
		printf("  %s\n", OUTPUT_DRILL_BANNER);
	printf("  title   ");
	output_safe(stdout, m != NULL ? output_title(m) : "(no message)");
	printf("\n  from    ");
	output_safe(stdout, d->sender != NULL ? d->sender : "?");
	if (d->reason != NULL) {
		printf("  (");
		output_safe(stdout, d->reason);
		putchar(')');
	}
	printf("\n  hub id  ");
	output_safe(stdout, d->hub_id != NULL ? d->hub_id : "?");
	printf("\n\n");
}

/* The width of the longest field name present in m, to line values up. */
static int
output_label_width(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor	*d = m->descriptor;
	const void				*values;
	size_t					 i, step, w = 4; /* "type" */

	for (i = 0; i < d->n_fields; i++)
		if (report_json_field(m, &d->fields[i], &values, &step) > 0 &&
		    strlen(d->fields[i].name) > w)
			w = strlen(d->fields[i].name);
	return (int)w;
}

/* One scalar value of field f at src, on the current line. */
static void
output_scalar(const ProtobufCMessageDescriptor *d,
    const ProtobufCFieldDescriptor *f, const void *src)
{
	const struct name_entry	*names;
	char			 buf[64];
	uint32_t		 u;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		output_safe(stdout, *(char *const *)src);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		fputs(*(const protobuf_c_boolean *)src ? "yes" : "no", stdout);
		break;
	case PROTOBUF_C_TYPE_ENUM:
		names = report_json_enum_names(f->descriptor);
		if (names != NULL)
			fputs(names_lookup(names, *(const int *)src), stdout);
		else
			printf("%d", *(const int *)src);
		break;
	case PROTOBUF_C_TYPE_UINT32:
		u = *(const uint32_t *)src;
		if (report_json_is_severity(d, f))
			printf("%u %s", u, names_lookup(names_severity,
			    (int)u));
		else
			printf("%u", u);
		break;
	case PROTOBUF_C_TYPE_INT32:
		printf("%d", *(const int32_t *)src);
		break;
	case PROTOBUF_C_TYPE_UINT64:
		printf("%llu", (unsigned long long)*(const uint64_t *)src);
		break;
	case PROTOBUF_C_TYPE_INT64:
		if (report_json_is_time(f))
			fputs(report_json_time(*(const int64_t *)src, buf,
			    sizeof(buf)), stdout);
		else
			printf("%lld", (long long)*(const int64_t *)src);
		break;
	default:
		fputs("?", stdout);
		break;
	}
}

static void	output_fields(const ProtobufCMessage *, int, bool);

/*
 * Start a line: indent spaces, or for the first field of a list item,
 * the item's "- " in the last two of them.
 */
static void
output_lead(int indent, bool *dash)
{
	if (*dash) {
		printf("%*s- ", indent - 2, "");
		*dash = false;
	} else
		printf("%*s", indent, "");
}

/* One value of field f: inline for scalars, a block for the rest. */
static void
output_value(const ProtobufCMessageDescriptor *d,
    const ProtobufCFieldDescriptor *f, const void *src, int indent,
    int width, bool *dash)
{
	const char	*s;

	output_lead(indent, dash);
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		printf("%s:\n", f->name);
		output_fields(*(ProtobufCMessage *const *)src, indent + 2,
		    false);
		return;
	}
	if (f->type == PROTOBUF_C_TYPE_STRING &&
	    (s = *(char *const *)src) != NULL && strchr(s, '\n') != NULL) {
		printf("%s:\n", f->name);
		output_lines(stdout, s, indent + 2);
		return;
	}
	printf("%-*s  ", width, f->name);
	output_scalar(d, f, src);
	putchar('\n');
}

/*
 * Every field of m that is present, one per line, with submessages and
 * lists indented under their names.  dash starts m as a list item.
 */
static void
output_fields(const ProtobufCMessage *m, int indent, bool dash)
{
	const ProtobufCMessageDescriptor	*d = m->descriptor;
	const ProtobufCFieldDescriptor		*f;
	const char				*type, *v;
	const void				*values;
	size_t					 i, j, n, step;
	int					 width;

	width = output_label_width(m);
	if (d == &ceptoar__message__descriptor &&
	    (type = report_json_type((const Ceptoar__Message *)m)) != NULL) {
		output_lead(indent, &dash);
		printf("%-*s  %s\n", width, "type", type);
	}
	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		if ((n = report_json_field(m, f, &values, &step)) == 0)
			continue;
		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			output_value(d, f, values, indent, width, &dash);
			continue;
		}
		output_lead(indent, &dash);
		printf("%s:\n", f->name);
		for (j = 0; j < n; j++) {
			v = (const char *)values + j * step;
			if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
				output_fields(*(ProtobufCMessage *const *)v,
				    indent + 4, true);
				continue;
			}
			printf("%*s- ", indent + 2, "");
			output_scalar(d, f, v);
			putchar('\n');
		}
	}
}

/* One delivery with every field, for show. */
void
output_delivery_full(const struct client *c, const Ceptoar__Delivery *d,
    Ceptoar__Recipient **recipients, size_t nrecipients)
{
	json_t	*j, *arr;
	size_t	 i;
	bool	 drill;

	if (c->json) {
		j = report_json_encode(&d->base);
		if (nrecipients > 0) {
			arr = json_array();
			for (i = 0; i < nrecipients; i++)
				json_array_append_new(arr,
				    report_json_encode(&recipients[i]->base));
			json_object_set_new(j, "recipients", arr);
		}
		output_json(j);
		json_decref(j);
		return;
	}
	drill = d->message != NULL && d->message->has_drill &&
	    d->message->drill;
	if (drill)
		printf("%s\n", OUTPUT_DRILL_BANNER);
	output_fields(&d->base, 0, false);
	if (nrecipients > 0) {
		printf("recipients:\n");
		for (i = 0; i < nrecipients; i++)
			output_fields(&recipients[i]->base, 4, true);
	}
	if (drill)
		printf("%s\n", OUTPUT_DRILL_BANNER);
}

/* The hub's receipt for a submission. */
void
output_submit_ack(const struct client *c, const char *uuid,
    const Ceptoar__SubmitAck *ack)
{
	const char	*org;
	json_t		*j;
	size_t		 i, width = 0;
	bool		 dup = ack->has_duplicate && ack->duplicate;

	if (c->json) {
		j = report_json_encode(&ack->base);
		json_object_set_new(j, "uuid", json_string(uuid));
		output_json(j);
		json_decref(j);
		return;
	}
	if (c->quiet) {
		output_safe(stdout, ack->hub_id != NULL ? ack->hub_id : "?");
		putchar('\n');
		return;
	}
	printf("%s  hub id ", dup ? "already accepted" : "accepted");
	output_safe(stdout, ack->hub_id != NULL ? ack->hub_id : "?");
	printf(", sequence %llu\n", (unsigned long long)ack->sequence);
	if (dup)
		printf("  (the hub had this uuid already: this is the first "
		    "submission's id, nothing was sent twice)\n");
	printf("  uuid        %s\n", uuid);
	printf("  recipients  %zu\n", ack->n_recipients);
	for (i = 0; i < ack->n_recipients; i++) {
		org = ack->recipients[i]->organisation;
		if (org != NULL && strlen(org) > width)
			width = strlen(org);
	}
	for (i = 0; i < ack->n_recipients; i++) {
		org = ack->recipients[i]->organisation;
		printf("    ");
		output_safe(stdout, org != NULL ? org : "?");
		if (ack->recipients[i]->reason != NULL) {
			printf("%*s  ", (int)(width - strlen(org != NULL ?
			    org : "?")), "");
			output_safe(stdout, ack->recipients[i]->reason);
		}
		putchar('\n');
	}
}
