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

int
main(void)
{
	test_round_trip();
	test_two_frames_in_one_buffer();
	test_limits();
	test_malformed();
	test_empty_envelope();
	return CHECK_DONE();
}
