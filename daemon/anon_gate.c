/*
 * The one gate for every string on an anonymised form.  Whatever travels
 * above a CEPTOAR secretariat in a form marked anonymised passes here,
 * field by field, found through the protobuf-c descriptors, so that a
 * field added to the protocol later is covered without a line changed
 * here.  Three kinds of words meet the gate:
 *
 *   - the reporter's own (a report, a reply, a consent answer and its
 *     note) and the notes the hops before the anonymisation carried:
 *     scrubbed by anon_scrub_extra with the report's contact as extras,
 *     and held for the secretariat's review when the scrubber cannot
 *     vouch for what is left (anon_gate_message);
 *   - words a holder that knows the reporter adds (the secretariat's
 *     reviewed text, its note, anything a holder of the original writes
 *     on a form that goes up anonymised): never rewritten behind its
 *     back and never carried with anything the scrubber would replace;
 *     the forward is refused naming the field and the byte span, so the
 *     person can edit (anon_gate_forward);
 *   - words a holder of the anonymised form only adds: it cannot know the
 *     reporter, and checking its words against the reporter's identifiers
 *     would answer "is it X?" for it (issue 12's oracle), so they travel
 *     as written, marked as that holder's (relay.c's edits and notes).
 *
 * Fields the hub itself sets to identifiers (ids, the pseudonym, the
 * relaying secretariat, the secretariat's contact that replaced the
 * reporter's, an indicator's value, which anon.c scrubs of the reporter's
 * own identifiers only so that an attacker's address survives) are not
 * rewritten; they are compared whole with the reporter's identifiers,
 * and a match holds the form.  Nothing here logs text: reasons name a
 * field, a rule and a byte span.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ceptoard.h"

#define ANON_GATE_MAX_DEPTH	8	/* answers walked back to their report */

/* Fields set by the hub to identifiers, by path (indices left out). */
static const char *const anon_gate_ids[] = {
	"uuid", "relay", "author",
	"report.chain_id", "report.pseudonym", "report.sector",
	"report.ceptoar", "report.flags", "report.sharing.sectors",
	"report.sharing.organisations", "report.contact.name",
	"report.contact.phone", "report.contact.email", "report.contact.unit",
	"report.indicators.value",
	"reply.in_reply_to", "consent_answer.request", "widen_request.hub_id",
	"check_answer.check", "hop_notes.by", "edits.by", "edits.fields",
	NULL
};

/* Whether path names a field the hub sets to an identifier. */
static bool
anon_gate_is_id(const char *path)
{
	size_t	i;

	for (i = 0; anon_gate_ids[i] != NULL; i++)
		if (strcmp(anon_gate_ids[i], path) == 0)
			return true;
	return false;
}

/* Copy s into the gate's extras; false when out of memory. */
static bool
anon_gate_add_extra(struct anon_gate *g, const char *s)
{
	if (s == NULL || *s == '\0' || g->nextra >= ANON_GATE_MAX_EXTRA)
		return true;
	if ((g->extra[g->nextra] = strdup(s)) == NULL)
		return false;
	g->nextra++;
	return true;
}

int
anon_gate_init(struct anon_gate *g, const struct dir_org *reporter,
    const Ceptoar__Message *m)
{
	struct lookup		 l;
	const Ceptoar__Message	*cur = m;
	const Ceptoar__Contact	*ct = NULL;
	const char		*ref, *field;
	char			 who[72], id[STORE_HUB_ID_LEN], *cause = NULL;
	bool			 have = false, ok;
	int			 depth;

	memset(g, 0, sizeof(*g));
	g->reporter = reporter;
	g->dir = hub->dir;
	if (reporter == NULL || m == NULL)
		return 0;
	/*
	 * An answer names the report's contact no less than the report:
	 * walk back along what it answers to the report of the chain.
	 */
	snprintf(who, sizeof(who), "%s", reporter->id);
	for (depth = 0; depth < ANON_GATE_MAX_DEPTH && cur != NULL; depth++) {
		if (cur->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT) {
			if (strcmp(who, reporter->id) == 0)
				ct = cur->report->contact;
			break;
		}
		if ((ref = handle_answer_ref(cur, &field)) == NULL ||
		    *ref == '\0' || strlen(ref) >= sizeof(id))
			break;
		/* ref lives in the lookup that is freed next. */
		memcpy(id, ref, strlen(ref) + 1);
		if (have)
			lookup_free(&l);
		if ((have = lookup_held(who, id, &l, &cause) == 0)) {
			snprintf(who, sizeof(who), "%s", l.originator);
			cur = l.original;
		} else
			cur = NULL;
		free(cause);
		cause = NULL;
	}
	ok = ct == NULL || (anon_gate_add_extra(g, ct->name) &&
	    anon_gate_add_extra(g, ct->phone) &&
	    anon_gate_add_extra(g, ct->email));
	if (have)
		lookup_free(&l);
	if (!ok) {
		anon_gate_free(g);
		return -1;
	}
	return 0;
}

void
anon_gate_free(struct anon_gate *g)
{
	size_t	i;

	for (i = 0; i < g->nextra; i++)
		free(g->extra[i]);
	memset(g, 0, sizeof(*g));
}

/* Whether s is, whole and ignoring ASCII case, one of the reporter's. */
static bool
anon_gate_is_reporter(const struct anon_gate *g, const char *s)
{
	const struct dir_org	*o = g->reporter;
	size_t			 i;

	if (o == NULL || s == NULL || *s == '\0')
		return false;
	if (strcasecmp(s, o->id) == 0 || (o->cert_cn != NULL &&
	    strcasecmp(s, o->cert_cn) == 0) || (o->name != NULL &&
	    strcasecmp(s, o->name) == 0) || (o->name_ja != NULL &&
	    strcmp(s, o->name_ja) == 0))
		return true;
	for (i = 0; i < o->nnames; i++)
		if (strcasecmp(s, o->names[i]) == 0)
			return true;
	for (i = 0; i < o->ndomains; i++)
		if (strcasecmp(s, o->domains[i]) == 0)
			return true;
	for (i = 0; i < g->nextra; i++)
		if (strcasecmp(s, g->extra[i]) == 0)
			return true;
	return (o->contact_name && strcasecmp(s, o->contact_name) == 0) ||
	    (o->contact_email && strcasecmp(s, o->contact_email) == 0) ||
	    (o->contact_phone && strcmp(s, o->contact_phone) == 0);
}

/* Note that the form is held, and why, once. */
static void
anon_gate_hold(struct anon_gate_verdict *v, const char *path, const char *why)
{
	if (!v->vouched)
		return;
	v->vouched = false;
	snprintf(v->why, sizeof(v->why), "%s: %s", path, why);
}

/* Pass the string *f at path through the gate, in place. */
static void
anon_gate_string(const struct anon_gate *g, char **f, const char *path,
    const char *bare, struct anon_gate_verdict *v)
{
	char		*s, *why = NULL;
	bool		 ok = false;
	unsigned	 replaced = 0;

	if (*f == NULL)
		return;
	v->strings++;
	if (anon_gate_is_id(bare)) {
		if (anon_gate_is_reporter(g, *f))
			anon_gate_hold(v, path, "an identifier field carries "
			    "one of the reporter's");
		return;
	}
	s = anon_scrub_extra(*f, g->reporter, g->dir,
	    (const char *const *)g->extra, g->nextra, &ok, &why, &replaced);
	if (s == NULL) {
		free(why);
		v->nomem = true;
		return;
	}
	free(*f);
	*f = s;
	v->replaced += replaced;
	if (!ok)
		anon_gate_hold(v, path, why != NULL ? why :
		    "text the scrubber cannot vouch for");
	free(why);
}

/*
 * Walk every field of m: strings through the gate, sub-messages and
 * repeated fields recursed into.  path is where m sits ("" for the top),
 * bare the same without indices, for the table of identifier fields.
 */
static void
anon_gate_walk(const struct anon_gate *g, ProtobufCMessage *m,
    const char *path, const char *bare, struct anon_gate_verdict *v)
{
	const ProtobufCMessageDescriptor	*d = m->descriptor;
	const ProtobufCFieldDescriptor		*f;
	char					*base = (char *)m;
	char					 fpath[192], fbare[160], ipath[208];
	size_t					 i, j, n;

	/* Bytes nobody can read have no place on an anonymised form. */
	for (i = 0; i < m->n_unknown_fields; i++)
		free(m->unknown_fields[i].data);
	free(m->unknown_fields);
	m->unknown_fields = NULL;
	m->n_unknown_fields = 0;
	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(uint32_t *)(base + f->quantifier_offset) != f->id)
			continue;
		if (f->type != PROTOBUF_C_TYPE_STRING &&
		    f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		snprintf(fpath, sizeof(fpath), "%s%s%s", path, *path ? "." :
		    "", f->name);
		snprintf(fbare, sizeof(fbare), "%s%s%s", bare, *bare ? "." :
		    "", f->name);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(size_t *)(base + f->quantifier_offset);
			for (j = 0; j < n; j++) {
				if (snprintf(ipath, sizeof(ipath), "%s[%zu]",
				    fpath, j) >= (int)sizeof(ipath))
					ipath[sizeof(ipath) - 1] = '\0';
				if (f->type == PROTOBUF_C_TYPE_STRING)
					anon_gate_string(g, &(*(char ***)(base +
					    f->offset))[j], ipath, fbare, v);
				else
					anon_gate_walk(g, (*(ProtobufCMessage
					    ***)(base + f->offset))[j], ipath,
					    fbare, v);
			}
		} else if (f->type == PROTOBUF_C_TYPE_STRING)
			anon_gate_string(g, (char **)(base + f->offset), fpath,
			    fbare, v);
		else if (*(ProtobufCMessage **)(base + f->offset) != NULL)
			anon_gate_walk(g, *(ProtobufCMessage **)(base +
			    f->offset), fpath, fbare, v);
	}
}

int
anon_gate_message(Ceptoar__Message *m, const struct anon_gate *g,
    struct anon_gate_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->vouched = true;
	anon_gate_walk(g, &m->base, "", "", v);
	return v->nomem ? -1 : 0;
}

/*
 * The first span of in that the scrubber replaced in out: in and out
 * agree up to a placeholder "[kind]" in out, and again from the text that
 * follows it.  When they cannot be lined up, the span runs to the end.
 */
static void
anon_gate_span(const char *in, const char *out, size_t *off, size_t *len,
    char *kind, size_t kindlen)
{
	const char	*p, *close, *next;
	size_t		 i = 0, j = 0, n = strlen(in), plen, l;

	while (in[i] != '\0' && in[i] == out[j]) {
		i++;
		j++;
	}
	*off = i;
	*len = n - i;
	snprintf(kind, kindlen, "changed");
	p = out + j;
	if (*p != '[' || (close = strchr(p, ']')) == NULL)
		return;
	snprintf(kind, kindlen, "%.*s", (int)(close - p + 1), p);
	/* Adjacent placeholders are one span. */
	while (close[1] == '[' && (next = strchr(close + 1, ']')) != NULL)
		close = next;
	p = close + 1;
	next = strchr(p, '[');
	plen = next != NULL ? (size_t)(next - p) : strlen(p);
	for (l = 1; i + l <= n; l++) {
		if (strncmp(in + i + l, p, plen) != 0)
			continue;
		if (next == NULL && n - i - l != plen)
			continue;
		*len = l;
		return;
	}
}

int
anon_gate_holder_text(const struct anon_gate *g, const char *field,
    const char *text, struct anon_gate_verdict *v)
{
	char		*s, *why = NULL;
	bool		 ok = false;
	unsigned	 replaced = 0;

	memset(v, 0, sizeof(*v));
	v->vouched = true;
	if (text == NULL || *text == '\0')
		return 0;
	s = anon_scrub_extra(text, g->reporter, g->dir,
	    (const char *const *)g->extra, g->nextra, &ok, &why, &replaced);
	free(why);
	if (s == NULL) {
		v->nomem = true;
		return -1;
	}
	if (replaced > 0 || strcmp(s, text) != 0) {
		v->refused = true;
		snprintf(v->field, sizeof(v->field), "%s", field);
		anon_gate_span(text, s, &v->offset, &v->length, v->kind,
		    sizeof(v->kind));
	}
	free(s);
	return v->refused ? 1 : 0;
}

int
anon_gate_forward(const Ceptoar__Forward *fw, const struct anon_gate *g,
    struct anon_gate_verdict *v)
{
	int	rc;

	if ((rc = anon_gate_holder_text(g, "forward.note", fw->note, v)) != 0)
		return rc;
	return anon_gate_holder_text(g, "forward.free_text", fw->free_text, v);
}

const char *
anon_gate_refusal(const struct anon_gate_verdict *v, char *buf, size_t len)
{
	snprintf(buf, len, "%s: bytes %zu to %zu (%zu bytes) would be "
	    "replaced by the scrubber as %s; this text goes up on an "
	    "anonymised form, where nothing that identifies the reporter may "
	    "travel: edit it and forward again", v->field, v->offset,
	    v->offset + v->length, v->length, v->kind);
	return buf;
}
