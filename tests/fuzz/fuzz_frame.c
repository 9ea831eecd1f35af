/*
 * Fuzz target for the framing (proto/frame.c): arbitrary bytes as they
 * arrive on a connection, read with frame_peek and frame_unpack under
 * the limits the hub uses before and after the hello.
 *
 * Checked on every input: the statuses agree with the length header, a
 * decoded frame never claims more bytes than it was given, and what
 * decodes packs again into a frame that decodes to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "frame.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Small and default limits, and the hard ceiling. */
static const uint32_t fuzz_limits[] = {
	0,
	64,
	FRAME_DEFAULT_MAX_PREAUTH,
	FRAME_DEFAULT_MAX,
	FRAME_MAX_CEILING,
};

/*
 * Pack env as a frame, unpack that frame, pack again: both packings must
 * be the same bytes (the first one may differ from the peer's bytes,
 * which can repeat fields or use the packed form of a list).
 */
static void
fuzz_repack(const Ceptoar__Envelope *env)
{
	Ceptoar__Envelope	*env2;
	uint8_t			*buf, *buf2;
	size_t			 len, len2, consumed;
	uint32_t		 announced;

	/*
	 * A known libprotobuf-c quirk, reported and checked where it
	 * matters (fuzz_validate: the hub stores what it cannot deliver);
	 * skipped here so that this target looks for other things.
	 */
	if (fuzz_has_field0(&env->base))
		return;
	if ((buf = frame_pack(env, &len)) == NULL) {
		/* Only refused when above the ceiling. */
		FUZZ_ASSERT(ceptoar__envelope__get_packed_size(env) >
		    FRAME_MAX_CEILING);
		return;
	}
	FUZZ_ASSERT(len >= FRAME_HEADER_LEN);
	FUZZ_ASSERT(frame_peek(buf, len, FRAME_MAX_CEILING, &announced) ==
	    FRAME_OK);
	FUZZ_ASSERT((size_t)announced + FRAME_HEADER_LEN == len);
	FUZZ_ASSERT(frame_unpack(buf, len, FRAME_MAX_CEILING, &env2,
	    &consumed) == FRAME_OK);
	FUZZ_ASSERT(env2 != NULL && consumed == len);
	/* One byte short is never a frame. */
	{
		Ceptoar__Envelope	*none = (Ceptoar__Envelope *)1;
		size_t			 c = 0;

		FUZZ_ASSERT(frame_unpack(buf, len - 1, FRAME_MAX_CEILING,
		    &none, &c) == FRAME_INCOMPLETE);
		FUZZ_ASSERT(none == NULL);
	}
	buf2 = frame_pack(env2, &len2);
	FUZZ_ASSERT(buf2 != NULL);
	FUZZ_ASSERT(len2 == len);
	FUZZ_ASSERT(memcmp(buf, buf2, len) == 0);
	free(buf2);
	ceptoar__envelope__free_unpacked(env2, NULL);
	free(buf);
}

/* One read of the input as a single frame under limit max. */
static void
fuzz_one(const uint8_t *data, size_t size, uint32_t max)
{
	Ceptoar__Envelope	*env = (Ceptoar__Envelope *)1;
	enum frame_status	 peek, st;
	uint32_t		 announced = 0;
	size_t			 consumed = 0;

	peek = frame_peek(data, size, max, &announced);
	FUZZ_ASSERT(frame_strstatus(peek) != NULL);
	if (size < FRAME_HEADER_LEN)
		FUZZ_ASSERT(peek == FRAME_INCOMPLETE);
	else if (announced > max || announced > FRAME_MAX_CEILING)
		FUZZ_ASSERT(peek == FRAME_TOO_LARGE);
	else
		FUZZ_ASSERT(peek == FRAME_OK);

	st = frame_unpack(data, size, max, &env, &consumed);
	FUZZ_ASSERT(frame_strstatus(st) != NULL);
	if (st != FRAME_OK) {
		FUZZ_ASSERT(env == NULL);
		if (peek != FRAME_OK)
			FUZZ_ASSERT(st == peek);
		else if (size - FRAME_HEADER_LEN < announced)
			FUZZ_ASSERT(st == FRAME_INCOMPLETE);
		else
			FUZZ_ASSERT(st == FRAME_MALFORMED);
		return;
	}
	FUZZ_ASSERT(peek == FRAME_OK);
	FUZZ_ASSERT(env != NULL);
	FUZZ_ASSERT(consumed == FRAME_HEADER_LEN + (size_t)announced);
	FUZZ_ASSERT(consumed <= size);
	/* The same bytes decode the same under every limit: repack once. */
	if (max == FRAME_MAX_CEILING)
		fuzz_repack(env);
	ceptoar__envelope__free_unpacked(env, NULL);
}

/*
 * The input as a stream, the way a session reads it: the tight limit
 * until the first frame, then the default one, each frame after the
 * other until the bytes run out or one is refused.
 */
static void
fuzz_stream(const uint8_t *data, size_t size)
{
	Ceptoar__Envelope	*env;
	uint32_t		 max = FRAME_DEFAULT_MAX_PREAUTH;
	size_t			 off = 0, consumed;

	while (off < size) {
		if (frame_unpack(data + off, size - off, max, &env,
		    &consumed) != FRAME_OK)
			break;
		FUZZ_ASSERT(consumed >= FRAME_HEADER_LEN);
		FUZZ_ASSERT(consumed <= size - off);
		ceptoar__envelope__free_unpacked(env, NULL);
		off += consumed;
		max = FRAME_DEFAULT_MAX;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t	i;

	for (i = 0; i < sizeof(fuzz_limits) / sizeof(fuzz_limits[0]); i++)
		fuzz_one(data, size, fuzz_limits[i]);
	fuzz_stream(data, size);
	return 0;
}
