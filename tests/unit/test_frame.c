/*
 * Framing: round trips, incomplete input, length caps before any
 * allocation, and bytes that do not decode.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frame.h"

/* A ping envelope with the given nonce, packed into a frame. */
static uint8_t *
ping_frame(uint64_t nonce, size_t *len)
{
	Ceptoar__Envelope	env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Ping		ping = CEPTOAR__PING__INIT;

	ping.has_nonce = 1;
	ping.nonce = nonce;
	env.has_protocol_version = 1;
	env.protocol_version = CEPTOAR_PROTOCOL_VERSION;
	env.has_request_id = 1;
	env.request_id = 7;
	env.body_case = CEPTOAR__ENVELOPE__BODY_PING;
	env.ping = &ping;
	return frame_pack(&env, len);
}

static void
test_round_trip(void)
{
	Ceptoar__Envelope	*env = NULL;
	uint8_t			*buf;
	size_t			 len, used = 0, i;

	buf = ping_frame(0xdeadbeefcafeULL, &len);
	CHECK(buf != NULL);
	CHECK(len > FRAME_HEADER_LEN);
	CHECK(buf[0] == 0 && buf[1] == 0 && buf[2] == 0);
	CHECK(buf[3] == len - FRAME_HEADER_LEN);
	CHECK(frame_unpack(buf, len, FRAME_DEFAULT_MAX, &env, &used) ==
	    FRAME_OK);
	CHECK(used == len);
	CHECK(env != NULL && env->body_case == CEPTOAR__ENVELOPE__BODY_PING);
	CHECK(env != NULL && env->ping->nonce == 0xdeadbeefcafeULL);
	CHECK(env != NULL && env->request_id == 7);
	ceptoar__envelope__free_unpacked(env, NULL);

	/* Every strict prefix is incomplete and allocates nothing. */
	for (i = 0; i < len; i++) {
		env = (Ceptoar__Envelope *)1;
		CHECK(frame_unpack(buf, i, FRAME_DEFAULT_MAX, &env, &used) ==
		    FRAME_INCOMPLETE);
		CHECK(env == NULL);
	}
	free(buf);
}

static void
test_two_frames_in_one_buffer(void)
{
	Ceptoar__Envelope	*env = NULL;
	uint8_t			*a, *b, *both;
	size_t			 la, lb, used;

	a = ping_frame(1, &la);
	b = ping_frame(2, &lb);
	both = malloc(la + lb);
	memcpy(both, a, la);
	memcpy(both + la, b, lb);
	CHECK(frame_unpack(both, la + lb, FRAME_DEFAULT_MAX, &env, &used) ==
	    FRAME_OK);
	CHECK(used == la && env->ping->nonce == 1);
	ceptoar__envelope__free_unpacked(env, NULL);
	CHECK(frame_unpack(both + used, la + lb - used, FRAME_DEFAULT_MAX, &env,
	    &used) == FRAME_OK);
	CHECK(used == lb && env->ping->nonce == 2);
	ceptoar__envelope__free_unpacked(env, NULL);
	free(a);
	free(b);
	free(both);
}

static void
test_limits(void)
{
	uint8_t			 hdr[8] = { 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
	uint8_t			 at[4] = { 0, 0, 0x10, 0x00 };	/* 4096 */
	Ceptoar__Envelope	*env = (Ceptoar__Envelope *)1;
	uint32_t		 n = 0;
	size_t			 used;

	/* Four gigabytes announced: refused from the header alone. */
	CHECK(frame_peek(hdr, 4, FRAME_DEFAULT_MAX, &n) == FRAME_TOO_LARGE);
	CHECK(n == 0xffffffffu);
	CHECK(frame_unpack(hdr, sizeof(hdr), FRAME_DEFAULT_MAX, &env, &used) ==
	    FRAME_TOO_LARGE);
	CHECK(env == NULL);
	/* The limit is inclusive: exactly max is allowed, max + 1 is not. */
	CHECK(frame_peek(at, 4, 4096, &n) == FRAME_OK && n == 4096);
	CHECK(frame_peek(at, 4, 4095, &n) == FRAME_TOO_LARGE);
	/* The ceiling holds whatever limit a caller passes. */
	CHECK(frame_peek(hdr, 4, UINT32_MAX, &n) == FRAME_TOO_LARGE);
	CHECK(frame_peek(hdr, 3, FRAME_DEFAULT_MAX, &n) == FRAME_INCOMPLETE);
}

static void
test_malformed(void)
{
	/* Length 3, then a field tag with wire type 7 (invalid). */
	uint8_t			 bad[] = { 0, 0, 0, 3, 0x0f, 0xff, 0xff };
	/* Length 2, then a truncated varint. */
	uint8_t			 trunc[] = { 0, 0, 0, 2, 0x08, 0x80 };
	Ceptoar__Envelope	*env = (Ceptoar__Envelope *)1;
	size_t			 used;

	CHECK(frame_unpack(bad, sizeof(bad), FRAME_DEFAULT_MAX, &env, &used) ==
	    FRAME_MALFORMED);
	CHECK(env == NULL);
	CHECK(frame_unpack(trunc, sizeof(trunc), FRAME_DEFAULT_MAX, &env,
	    &used) == FRAME_MALFORMED);
	CHECK(env == NULL);
	CHECK(strstr(frame_strstatus(FRAME_MALFORMED), "envelope") != NULL);
}

static void
test_empty_envelope(void)
{
	/* A zero-length payload is a valid, empty envelope. */
	uint8_t			 empty[] = { 0, 0, 0, 0 };
	Ceptoar__Envelope	*env = NULL;
	size_t			 used;

	CHECK(frame_unpack(empty, sizeof(empty), FRAME_DEFAULT_MAX, &env,
	    &used) == FRAME_OK);
	CHECK(env != NULL && !env->has_protocol_version);
	CHECK(env != NULL && env->body_case ==
	    CEPTOAR__ENVELOPE__BODY__NOT_SET);
	CHECK(used == 4);
	if (env != NULL)
		ceptoar__envelope__free_unpacked(env, NULL);
}

/*
 * frame_pack_deliver gives the bytes frame_pack gives for the same
 * delivery, whichever optional fields are set and however long the
 * message (length prefixes of one to three bytes).
 */
static void
test_pack_deliver(void)
{
	static const size_t	 sizes[] = { 0, 100, 200, 5000, 70000 };
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Deliver	 dv = CEPTOAR__DELIVER__INIT;
	Ceptoar__Delivery	 d;
	Ceptoar__Message	 m = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Advisory	 adv = CEPTOAR__ADVISORY__INIT;
	uint8_t			*packed, *want, *got;
	size_t			 i, variant, plen, wlen, glen;
	char			*text;

	for (i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		CHECK((text = malloc(sizes[i] + 1)) != NULL);
		memset(text, 'x', sizes[i]);
		text[sizes[i]] = '\0';
		adv.text = text;
		m.uuid = "0b6f8c1e-5d7a-4e39-9a61-2f4c7d8e9b10";
		m.content_case = CEPTOAR__MESSAGE__CONTENT_ADVISORY;
		m.advisory = &adv;
		plen = ceptoar__message__get_packed_size(&m);
		CHECK((packed = malloc(plen)) != NULL);
		ceptoar__message__pack(&m, packed);
		for (variant = 0; variant < 4; variant++) {
			ceptoar__delivery__init(&d);
			d.has_seq = 1;
			d.seq = 300 + variant * 1000000;
			d.hub_id = "h-1";
			d.sender = "bank-a";
			d.has_received_at = 1;
			d.received_at = 1790000000;
			d.reason = "member of the CEPTOAR";
			d.has_form = 1;
			d.form = CEPTOAR__FORM__FORM_ANONYMISED;
			d.has_hop = 1;
			d.hop = (uint32_t)variant;
			if (variant & 1) {
				d.has_review = 1;
				d.review = 1;
				d.chain_id = "c-9";
			}
			if (variant & 2)
				d.in_reply_to = "h-0";
			d.message = &m;
			dv.delivery = &d;
			env.has_protocol_version = 1;
			env.protocol_version = CEPTOAR_PROTOCOL_VERSION;
			env.body_case = CEPTOAR__ENVELOPE__BODY_DELIVER;
			env.deliver = &dv;
			want = frame_pack(&env, &wlen);
			d.message = NULL;
			got = frame_pack_deliver(&d, packed, plen, &glen);
			CHECK(want != NULL && got != NULL);
			CHECK(wlen == glen);
			CHECK(want != NULL && got != NULL && wlen == glen &&
			    memcmp(want, got, wlen) == 0);
			free(want);
			free(got);
		}
		free(packed);
		free(text);
	}
}

/* Depth of nesting the enumeration below follows. */
#define NUL_DEPTH	6

/* Encode a length-delimited field num holding inner (n bytes) at out. */
static size_t
put_field(uint8_t *out, unsigned num, const uint8_t *inner, size_t n)
{
	size_t		o = 0;
	uint64_t	v = ((uint64_t)num << 3) | 2;

	while (v >= 0x80) {
		out[o++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[o++] = (uint8_t)v;
	v = n;
	while (v >= 0x80) {
		out[o++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[o++] = (uint8_t)v;
	memmove(out + o, inner, n);
	return o + n;
}

static size_t	nul_fields;	/* string fields reached from Envelope */

/*
 * For each string field reachable from descriptor d through the fields in
 * chain (depth of them, their names in path), wrap "nisc\0evil" in every
 * level and check that frame_string_nul names the field and that the
 * same string without the NUL passes.  Each message type is entered once
 * per chain, so recursive types end.
 */
static void
nul_walk(const ProtobufCMessageDescriptor *d,
    const ProtobufCFieldDescriptor **chain, int depth, const char *path,
    const ProtobufCMessageDescriptor **seen)
{
	const ProtobufCFieldDescriptor	*f;
	uint8_t				 a[4096], b[4096], *cur, *other;
	char				 got[256], want[256], sub[256];
	size_t				 n, len;
	unsigned			 i;
	int				 k, v;

	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		snprintf(sub, sizeof(sub), "%s%s%s%s", path, path[0] ? "." : "",
		    f->name, f->label != PROTOBUF_C_LABEL_REPEATED ? "" :
		    f->type == PROTOBUF_C_TYPE_STRING ? "[1]" : "[0]");
		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			const ProtobufCMessageDescriptor *m = f->descriptor;

			for (k = 0; k < depth; k++)
				if (seen[k] == m)
					break;
			if (k < depth || depth + 1 >= NUL_DEPTH)
				continue;
			chain[depth] = f;
			seen[depth] = m;
			nul_walk(m, chain, depth + 1, sub, seen);
			continue;
		}
		if (f->type != PROTOBUF_C_TYPE_STRING)
			continue;
		nul_fields++;
		for (v = 0; v < 2; v++) {
			/* v 0: with the NUL; v 1: the same length, no NUL. */
			cur = a;
			other = b;
			len = 0;
			/* A repeated string: a clean first entry, then this. */
			if (f->label == PROTOBUF_C_LABEL_REPEATED)
				len = put_field(cur, f->id,
				    (const uint8_t *)"ok", 2);
			len += put_field(cur + len, f->id, (const uint8_t *)
			    (v == 0 ? "nisc\0evil" : "nisc-evil"), 9);
			for (k = depth - 1; k >= 0; k--) {
				n = put_field(other, chain[k]->id, cur, len);
				len = n;
				uint8_t *t = cur;
				cur = other;
				other = t;
			}
			got[0] = 'x';
			CHECK(frame_string_nul(&ceptoar__envelope__descriptor,
			    cur, len, got, sizeof(got)) == (v == 0));
			if (v == 0) {
				/* The path, with [0] for repeated levels. */
				snprintf(want, sizeof(want), "%s", sub);
				if (strcmp(got, want) != 0)
					fprintf(stderr, "path %s, wanted %s\n",
					    got, want);
				CHECK_STR(got, want);
			}
		}
	}
}

/*
 * A NUL in any string field of any message reachable from the envelope,
 * at whatever depth, is found and named; the fields are enumerated from
 * the descriptors so that a new field is covered without a new test.
 */
static void
test_string_nul(void)
{
	const ProtobufCFieldDescriptor		*chain[NUL_DEPTH];
	const ProtobufCMessageDescriptor	*seen[NUL_DEPTH];
	char					 path[256];

	nul_walk(&ceptoar__envelope__descriptor, chain, 0, "", seen);
	CHECK(nul_fields > 20);

	/* Garbage is left to unpacking; an empty buffer has no string. */
	CHECK(!frame_string_nul(&ceptoar__envelope__descriptor,
	    (const uint8_t *)"\x0f\xff", 2, path, sizeof(path)));
	CHECK(!frame_string_nul(&ceptoar__envelope__descriptor, NULL, 0, path,
	    sizeof(path)));
	/* A truncated length is passed over, not read past. */
	CHECK(!frame_string_nul(&ceptoar__envelope__descriptor,
	    (const uint8_t *)"\x82\x01\x7f", 3, path, sizeof(path)));
}

int
main(void)
{
	test_round_trip();
	test_two_frames_in_one_buffer();
	test_limits();
	test_malformed();
	test_empty_envelope();
	test_pack_deliver();
	test_string_nul();
	fprintf(stderr, "%zu string fields checked for NUL\n", nul_fields);
	return CHECK_DONE();
}
