/*
 * Unit tests for anon_gate.c: every string of a message through the
 * scrubber, found by the descriptors (a reply, hop notes, unknown fields
 * dropped, identifier fields compared rather than rewritten), and the
 * span a refusal of a holder's words names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptoard.h"
#include "check.h"

/* The hub state anon_gate.c reads; only the directory is used here. */
struct hub	*hub;

static const struct directory	*dir;
static const struct dir_org	*bank_a;

/* A gate for bank-a with a report contact of its own. */
static void
gate(struct anon_gate *g)
{
	memset(g, 0, sizeof(*g));
	g->reporter = bank_a;
	g->dir = dir;
	g->extra[g->nextra++] = strdup("Kato Ichiro");
	g->extra[g->nextra++] = strdup("ichiro.kato@bank-a.example");
}

/* A holder's text: refused or not, with the span and kind expected. */
static void
check_holder(const char *text, int rc, size_t off, size_t len,
    const char *kind)
{
	struct anon_gate		g;
	struct anon_gate_verdict	v;

	gate(&g);
	CHECK(anon_gate_holder_text(&g, "forward.note", text, &v) == rc);
	if (rc == 1) {
		CHECK(v.refused);
		CHECK_STR(v.field, "forward.note");
		CHECK(v.offset == off);
		CHECK(v.length == len);
		CHECK_STR(v.kind, kind);
		if (v.offset != off || v.length != len)
			fprintf(stderr, "  %s: got %zu+%zu\n", text, v.offset,
			    v.length);
	}
	anon_gate_free(&g);
}

/* A reply going up: every string field through the gate. */
static void
check_message(void)
{
	Ceptoar__Message		m = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Reply			r = CEPTOAR__REPLY__INIT;
	Ceptoar__HopNote		n = CEPTOAR__HOP_NOTE__INIT, *np = &n;
	struct anon_gate		g;
	struct anon_gate_verdict	v;
	Ceptoar__Message		*c;
	uint8_t				*buf;
	size_t				 len;

	m.uuid = "0b7c2d54-1234-4678-9abc-def012345678";
	m.content_case = CEPTOAR__MESSAGE__CONTENT_REPLY;
	m.reply = &r;
	r.in_reply_to = "0b7c2d54-1234-4678-9abc-def012345679";
	r.text = "Ask Kato Ichiro at Bank A, csirt@bank-a.example.";
	m.n_hop_notes = 1;
	m.hop_notes = &np;
	n.by = "banks-sec";
	n.note = "Bank A Holdings says hello";
	m.relay = "banks-sec";
	len = ceptoar__message__get_packed_size(&m);
	buf = malloc(len);
	ceptoar__message__pack(&m, buf);
	c = ceptoar__message__unpack(NULL, len, buf);
	free(buf);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	gate(&g);
	CHECK(anon_gate_message(c, &g, &v) == 0);
	CHECK_STR(c->reply->text, "Ask [person] at [organisation], [email].");
	CHECK_STR(c->hop_notes[0]->note, "[organisation] says hello");
	/* Identifier fields are compared, not rewritten. */
	CHECK_STR(c->uuid, m.uuid);
	CHECK_STR(c->reply->in_reply_to, r.in_reply_to);
	CHECK_STR(c->relay, "banks-sec");
	CHECK(v.strings == 6);
	CHECK(v.replaced == 4);
	CHECK(v.vouched);
	ceptoar__message__free_unpacked(c, NULL);

	/* An identifier field carrying the reporter's holds the form. */
	m.relay = "bank-a";
	len = ceptoar__message__get_packed_size(&m);
	buf = malloc(len);
	ceptoar__message__pack(&m, buf);
	c = ceptoar__message__unpack(NULL, len, buf);
	free(buf);
	CHECK(anon_gate_message(c, &g, &v) == 0);
	CHECK(!v.vouched);
	CHECK_CONTAINS(v.why, "relay:");
	ceptoar__message__free_unpacked(c, NULL);
	anon_gate_free(&g);
}

int
main(void)
{
	const char		*src = getenv("CEPTOAR_SRCDIR");
	char			 path[1200], *cause = NULL;
	struct directory	*d;

	snprintf(path, sizeof(path), "%s/tests/fixtures/route/directory.yaml",
	    src != NULL && *src != '\0' ? src : "..");
	if ((d = directory_load(path, &cause)) == NULL) {
		fprintf(stderr, "directory: %s\n", cause ? cause : "?");
		return 1;
	}
	dir = d;
	bank_a = directory_org(dir, "bank-a");
	CHECK(bank_a != NULL);
	if (bank_a == NULL)
		return CHECK_DONE();

	check_holder("Checked with the member.", 0, 0, 0, NULL);
	check_holder("", 0, 0, 0, NULL);
	/* 0123456789012345678901234 */
	check_holder("Reviewed: Kato Ichiro caught it.", 1, 10, 11,
	    "[person]");
	check_holder("Our member Bank A checked it.", 1, 11, 6,
	    "[organisation]");
	check_holder("Ask desk csirt@bank-a.example.", 1, 9, 20, "[email]");
	check_holder("Call 03-5555-0101 now", 1, 5, 12, "[phone]");
	/* The first span is named, not the last. */
	check_holder("Bank A and bank-a.example", 1, 0, 6,
	    "[organisation]");
	/* At the end of the text. */
	check_holder("From Kato Ichiro", 1, 5, 11, "[person]");
	check_message();
	directory_free(d);
	return CHECK_DONE();
}
