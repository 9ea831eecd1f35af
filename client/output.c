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

/*
 * One JSON object per line, so output can be read line by line; without
 * JSON_INDENT nothing breaks the line, and the separators are ", " and
 * ": " as most tools write them.
 */
void
output_json(json_t *j)
{
	if (j == NULL)
		return;
	json_dumpf(j, stdout, 0);
	putchar('\n');
}

/* The severity block of whatever the message carries, or NULL. */
static const Ceptoar__Severity *
output_severity_of(const Ceptoar__Message *m)
{
	switch (m->content_case) {
	case CEPTOAR__MESSAGE__CONTENT_REPORT:
		return m->report->severity;
	case CEPTOAR__MESSAGE__CONTENT_ADVISORY:
		return m->advisory->severity;
	case CEPTOAR__MESSAGE__CONTENT_EARLY_WARNING:
		return m->early_warning->severity;
	default:
		return NULL;
	}
}

/* The severity as people say it: "3 high". */
const char *
output_severity(const Ceptoar__Message *m, char *buf, size_t len)
{
	const Ceptoar__Severity	*s;
	int			 level;

	if ((s = output_severity_of(m)) == NULL)
		return NULL;
	level = s->has_overall ? (int)s->overall : validate_overall_severity(s);
	if (level < 0)
		return NULL;
	snprintf(buf, len, "%d %s", level, names_lookup(names_severity, level));
	return buf;
}

/* The overall level and each viewpoint given, all as "3 high". */
const char *
output_severity_long(const Ceptoar__Message *m, char *buf, size_t len)
{
	const Ceptoar__Severity	*s;
	char			 overall[32];
	size_t			 off;
	int			 n;
	bool			 first = true;

	if (output_severity(m, overall, sizeof(overall)) == NULL)
		return NULL;
	s = output_severity_of(m);
	n = snprintf(buf, len, "%s (", overall);
	off = n > 0 ? (size_t)n : 0;
#define OUTPUT_VIEWPOINT(f) do {					\
	if (s->has_##f && off < len) {					\
		n = snprintf(buf + off, len - off, "%s" #f " %u %s",	\
		    first ? "" : ", ", s->f,				\
		    names_lookup(names_severity, (int)s->f));		\
		off += n > 0 ? (size_t)n : 0;				\
		first = false;						\
	}								\
} while (0)
	OUTPUT_VIEWPOINT(continuity);
	OUTPUT_VIEWPOINT(safety);
	OUTPUT_VIEWPOINT(trust);
#undef OUTPUT_VIEWPOINT
	if (off < len)
		snprintf(buf + off, len - off, ")");
	return buf;
}

/*
 * One line that says what the message is: the title of a report or a
 * notice, a description of the others.
 */
static const char *
output_title(const Ceptoar__Message *m, char *buf, size_t len)
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
	case CEPTOAR__MESSAGE__CONTENT_CONSULTATION:
		snprintf(buf, len, "consultation: a question for %s",
		    m->consultation->to != NULL &&
		    strcmp(m->consultation->to, "nisc") == 0 ? "NISC" :
		    "the sector's liaison");
		return buf;
	case CEPTOAR__MESSAGE__CONTENT_REPLY:
		return "reply";
	case CEPTOAR__MESSAGE__CONTENT_WIDEN_REQUEST:
		return "request to widen the sharing range of a report";
	case CEPTOAR__MESSAGE__CONTENT_CONSENT_ANSWER:
		return m->consent_answer->has_approve &&
		    m->consent_answer->approve ? "consent: approved, the "
		    "sharing range is widened" : "consent: declined, the "
		    "sharing range stays as it was";
	case CEPTOAR__MESSAGE__CONTENT_COMM_CHECK:
		return "communication check: answer it";
	case CEPTOAR__MESSAGE__CONTENT_CHECK_ANSWER:
		return "answer to a communication check";
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

/* A time field for people: RFC 3339 UTC, or dflt when not given. */
const char *
output_time(bool has, int64_t t, const char *dflt, char *buf, size_t len)
{
	if (!has)
		return dflt;
	return report_json_time(t, buf, len);
}

/* Start a labelled line of a delivery block. */
static void
output_label(const char *label)
{
	printf("  %-9s ", label);
}

/* A labelled string from a peer: inline, or indented lines below. */
static void
output_text(const char *label, const char *s)
{
	if (s == NULL)
		return;
	if (strchr(s, '\n') == NULL) {
		output_label(label);
		output_safe(stdout, s);
		putchar('\n');
		return;
	}
	printf("  %s:\n", label);
	output_lines(stdout, s, 4);
}

/* One hop note: "hop 1  banks-sec  2026-...Z  text". */
static void
output_note(const Ceptoar__HopNote *n)
{
	char	when[64];

	output_label("note");
	if (n->has_hop)
		printf("hop %u  ", n->hop);
	output_safe(stdout, n->by != NULL ? n->by : "?");
	printf("  %s  ", output_time(n->has_at, n->at, "-", when,
	    sizeof(when)));
	output_safe(stdout, n->note != NULL ? n->note : "");
	putchar('\n');
}

/* Whether two hop notes say the same thing. */
static bool
output_same_note(const Ceptoar__HopNote *a, const Ceptoar__HopNote *b)
{
	return a->has_at == b->has_at && a->at == b->at &&
	    a->has_hop == b->has_hop && a->hop == b->hop &&
	    (a->by == NULL) == (b->by == NULL) &&
	    (a->by == NULL || strcmp(a->by, b->by) == 0) &&
	    (a->note == NULL) == (b->note == NULL) &&
	    (a->note == NULL || strcmp(a->note, b->note) == 0);
}

/*
 * The notes of the hops passed: those the message carries, then those
 * the delivery adds, each once.
 */
static void
output_notes(const Ceptoar__Delivery *d)
{
	const Ceptoar__Message	*m = d->message;
	size_t			 i, j, nm = m != NULL ? m->n_hop_notes : 0;

	for (i = 0; i < nm; i++)
		output_note(m->hop_notes[i]);
	for (i = 0; i < d->n_notes; i++) {
		for (j = 0; j < nm; j++)
			if (output_same_note(d->notes[i], m->hop_notes[j]))
				break;
		if (j == nm)
			output_note(d->notes[i]);
	}
}

/*
 * The words a holder replaced on the way: they are that holder's, not
 * the author's, and the reader is told so before reading them.
 */
static void
output_edits(const Ceptoar__Message *m)
{
	const Ceptoar__Edit	*e;
	char			 when[64];
	size_t			 i, j;

	for (i = 0; m != NULL && i < m->n_edits; i++) {
		e = m->edits[i];
		output_label("edited");
		fputs("by ", stdout);
		output_safe(stdout, e->by != NULL ? e->by : "?");
		if (e->has_hop)
			printf(" at hop %u", e->hop);
		printf("  %s  ", output_time(e->has_at, e->at, "-", when,
		    sizeof(when)));
		for (j = 0; j < e->n_fields; j++) {
			fputs(j ? ", " : "", stdout);
			output_safe(stdout, e->fields[j]);
		}
		fputs(": the holder's words, not the author's\n", stdout);
	}
}

/*
 * What the reader has to do, where the hub waits for it: a hop held for
 * review, a communication check to answer.
 */
static void
output_action(const Ceptoar__Delivery *d)
{
	const Ceptoar__Message	*m = d->message;
	const char		*id = d->hub_id != NULL ? d->hub_id : "?";

	if (d->has_review && d->review) {
		printf("  ACTION: review: `ceptoar review show ");
		output_safe(stdout, id);
		printf("` shows what would go up;\n          release it with "
		    "`ceptoar review release ");
		output_safe(stdout, id);
		printf("` (as `ceptoar forward` does)\n          or reject it "
		    "with `ceptoar review reject ");
		output_safe(stdout, id);
		printf(" --reason TEXT`\n          (it goes no further until "
		    "you decide; --note adds a note for the next hops)\n");
	}
	if (m != NULL && m->content_case == CEPTOAR__MESSAGE__CONTENT_COMM_CHECK) {
		printf("  ACTION: answer with `ceptoar check answer ");
		output_safe(stdout, id);
		putchar('`');
		if (m->comm_check->has_deadline_seconds)
			printf(" within %u seconds",
			    m->comm_check->deadline_seconds);
		putchar('\n');
	}
}

/* The parts of the new contents that a reader needs to see. */
static void
output_body(const Ceptoar__Delivery *d)
{
	const Ceptoar__Message		*m = d->message;
	const Ceptoar__SharingRange	*r;
	const char			*id = d->hub_id != NULL ? d->hub_id :
					    "?";
	char				 when[64];
	size_t				 i;

	switch (m->content_case) {
	case CEPTOAR__MESSAGE__CONTENT_CONSULTATION:
		output_text("sector", m->consultation->sector);
		output_text("question", m->consultation->question);
		output_label("answer");
		printf("`ceptoar reply ");
		output_safe(stdout, id);
		printf(" TEXT`\n");
		break;
	case CEPTOAR__MESSAGE__CONTENT_REPLY:
		if (m->reply->has_notice) {
			/* The hub's notice of a review: what, by whom, since. */
			output_label("notice");
			fputs(m->reply->notice ==
			    CEPTOAR__REVIEW_NOTICE__NOTICE_REJECTED ?
			    "not passed on: rejected by " :
			    "still waits for the review of ", stdout);
			output_safe(stdout, m->reply->held_by ?
			    m->reply->held_by : "?");
			printf(", held since %s\n", output_time(
			    m->reply->has_held_since, m->reply->held_since, "?",
			    when, sizeof(when)));
			output_text("about", m->reply->in_reply_to);
		}
		output_text(m->reply->has_notice && m->reply->notice ==
		    CEPTOAR__REVIEW_NOTICE__NOTICE_REJECTED ? "reason" : "text",
		    m->reply->text);
		output_label("answer");
		printf("`ceptoar reply ");
		output_safe(stdout, id);
		printf(" TEXT`\n");
		break;
	case CEPTOAR__MESSAGE__CONTENT_WIDEN_REQUEST:
		if ((r = m->widen_request->sharing) != NULL) {
			output_label("asks for");
			fputs(r->has_scope ? names_lookup(names_sharing_scope,
			    r->scope) : "?", stdout);
			for (i = 0; i < r->n_sectors; i++) {
				fputs(i == 0 ? ": " : ", ", stdout);
				output_safe(stdout, r->sectors[i]);
			}
			for (i = 0; i < r->n_organisations; i++) {
				fputs(i == 0 && r->n_sectors == 0 ? ": " :
				    ", ", stdout);
				output_safe(stdout, r->organisations[i]);
			}
			putchar('\n');
		}
		output_text("reason", m->widen_request->reason);
		output_label("answer");
		printf("`ceptoar consent ");
		output_safe(stdout, id);
		printf(" --approve` or `--decline` (the reporter only)\n");
		break;
	case CEPTOAR__MESSAGE__CONTENT_CONSENT_ANSWER:
		output_text("note", m->consent_answer->note);
		break;
	case CEPTOAR__MESSAGE__CONTENT_COMM_CHECK:
		for (i = 0; i < m->comm_check->n_sectors; i++)
			output_text("sector", m->comm_check->sectors[i]);
		break;
	default:
		break;
	}
}

/* A delivery as JSON; see ceptoar.h. */
json_t *
output_delivery_json(const Ceptoar__Delivery *d)
{
	json_t	*j;

	if ((j = report_json_encode(&d->base)) == NULL)
		return NULL;
	/* Scripts test it; absent would read as "not known". */
	if (json_object_get(j, "review") == NULL)
		json_object_set_new(j, "review", json_false());
	return j;
}

/* One delivery in an inbox listing. */
void
output_delivery(const struct client *c, const Ceptoar__Delivery *d)
{
	const Ceptoar__Message	*m = d->message;
	const Ceptoar__Report	*r = NULL;
	json_t			*j;
	char			 sev[160], kind[64], when[64], title[96];
	size_t			 i;
	bool			 drill, anon;

	if (c->json) {
		j = output_delivery_json(d);
		output_json(j);
		json_decref(j);
		return;
	}
	drill = m != NULL && m->has_drill && m->drill;
	anon = d->has_form && d->form == CEPTOAR__FORM__FORM_ANONYMISED;
	if (m != NULL && m->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT)
		r = m->report;
	printf("%sseq %llu  %s  %s  %s  %s%s%s\n", drill ? "[DRILL] " : "",
	    (unsigned long long)d->seq,
	    output_time(d->has_received_at, d->received_at, "-", when,
	    sizeof(when)),
	    m != NULL && m->has_tlp ? names_lookup(names_tlp, m->tlp) :
	    "TLP:?",
	    m != NULL && output_severity(m, sev, sizeof(sev)) != NULL ? sev :
	    "severity ?",
	    m != NULL ? output_kind(m, kind, sizeof(kind)) : "(no message)",
	    anon ? "  [ANONYMISED]" : "",
	    d->has_review && d->review ? "  [REVIEW]" : "");
	if (drill)
		printf("  %s\n", OUTPUT_DRILL_BANNER);
	output_action(d);
	output_label("title");
	output_safe(stdout, m != NULL ? output_title(m, title, sizeof(title)) :
	    "(no message)");
	putchar('\n');
	output_label("from");
	output_safe(stdout, d->sender != NULL ? d->sender : "?");
	if (d->reason != NULL) {
		printf("  (");
		output_safe(stdout, d->reason);
		putchar(')');
	}
	putchar('\n');
	if (m != NULL && m->relay != NULL) {
		output_label("via");
		printf("CEPTOAR secretariat ");
		output_safe(stdout, m->relay);
		putchar('\n');
	}
	if (d->has_form || d->has_hop) {
		output_label("form");
		fputs(d->has_form ? names_lookup(names_form, d->form) :
		    "original", stdout);
		if (anon)
			fputs(" (de-identified by the hub)", stdout);
		if (d->has_hop)
			printf(", hop %u", d->hop);
		putchar('\n');
	}
	if (r != NULL && r->pseudonym != NULL)
		output_text("pseudonym", r->pseudonym);
	if (m != NULL && output_severity_long(m, sev, sizeof(sev)) != NULL) {
		output_label("severity");
		printf("%s\n", sev);
	}
	for (i = 0; r != NULL && i < r->n_flags; i++)
		output_text("flag", r->flags[i]);
	if (r != NULL && r->has_retracted && r->retracted)
		output_text("retracted", "yes: the reporter withdraws this "
		    "chain");
	output_notes(d);
	output_edits(m);
	if (m != NULL)
		output_body(d);
	output_text("reply to", d->in_reply_to);
	output_text("chain", d->chain_id);
	output_label("hub id");
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
		names = names_for_enum(f->descriptor);
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

/* Every field of m, one per line; see ceptoar.h. */
void
output_message(const ProtobufCMessage *m, int indent)
{
	output_fields(m, indent, false);
}

/*
 * One delivery with every field, for show: first the block inbox
 * prints, with what to do, then every field.
 */
void
output_delivery_full(const struct client *c, const Ceptoar__Delivery *d,
    Ceptoar__Recipient **recipients, size_t nrecipients)
{
	json_t	*j, *arr;
	size_t	 i;
	bool	 drill;

	if (c->json) {
		j = output_delivery_json(d);
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
	output_delivery(c, d);
	printf("every field:\n");
	output_fields(&d->base, 2, false);
	if (nrecipients > 0) {
		printf("recipients:\n");
		for (i = 0; i < nrecipients; i++)
			output_fields(&recipients[i]->base, 4, true);
	}
	if (drill)
		printf("%s\n", OUTPUT_DRILL_BANNER);
}

/* The hub's receipt for a submission, a forward or an answer. */
void
output_submit_ack(const struct client *c, const char *uuid,
    const Ceptoar__SubmitAck *ack)
{
	const char	*org;
	json_t		*j, *arr;
	size_t		 i, width = 0;
	bool		 dup = ack->has_duplicate && ack->duplicate;
	bool		 held = ack->has_held && ack->held;

	if (c->json) {
		j = report_json_encode(&ack->base);
		json_object_set_new(j, "uuid", json_string(uuid));
		/* Always there, so that scripts need not test for them. */
		if (json_object_get(j, "warnings") == NULL) {
			arr = json_array();
			json_object_set_new(j, "warnings", arr);
		}
		json_object_set_new(j, "held", json_boolean(held));
		output_json(j);
		json_decref(j);
		return;
	}
	/* Warnings matter even to scripts: stderr, also with -q. */
	for (i = 0; i < ack->n_warnings; i++) {
		char *w = strdup(ack->warnings[i] != NULL ?
		    ack->warnings[i] : "");

		if (w == NULL)
			continue;
		output_clean(w);
		client_warn("%s", w);
		free(w);
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
	if (held)
		printf("  held        yes: it waits for a hop holder's review "
		    "before it goes further\n");
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
