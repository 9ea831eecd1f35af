/*
 * Framing: a 4-byte big-endian length, then one packed Envelope.
 */
#include <stdlib.h>
#include <string.h>

#include "frame.h"

uint8_t *
frame_pack(const Ceptoar__Envelope *env, size_t *lenp)
{
	size_t	 need;
	uint8_t	*buf;

	need = ceptoar__envelope__get_packed_size(env);
	if (need > FRAME_MAX_CEILING)
		return NULL;
	if ((buf = malloc(FRAME_HEADER_LEN + need)) == NULL)
		return NULL;
	buf[0] = (uint8_t)(need >> 24);
	buf[1] = (uint8_t)(need >> 16);
	buf[2] = (uint8_t)(need >> 8);
	buf[3] = (uint8_t)need;
	ceptoar__envelope__pack(env, buf + FRAME_HEADER_LEN);
	*lenp = FRAME_HEADER_LEN + need;
	return buf;
}

enum frame_status
frame_peek(const uint8_t *buf, size_t len, uint32_t max, uint32_t *announced)
{
	uint32_t n;

	if (len < FRAME_HEADER_LEN)
		return FRAME_INCOMPLETE;
	n = ((uint32_t)buf[0] << 24) | ((uint32_t)buf[1] << 16) |
	    ((uint32_t)buf[2] << 8) | (uint32_t)buf[3];
	*announced = n;
	if (n > max || n > FRAME_MAX_CEILING)
		return FRAME_TOO_LARGE;
	return FRAME_OK;
}

enum frame_status
frame_unpack(const uint8_t *buf, size_t len, uint32_t max,
    Ceptoar__Envelope **envp, size_t *consumed)
{
	enum frame_status	 st;
	uint32_t		 n;
	Ceptoar__Envelope	*env;

	*envp = NULL;
	if ((st = frame_peek(buf, len, max, &n)) != FRAME_OK)
		return st;
	if (len - FRAME_HEADER_LEN < n)
		return FRAME_INCOMPLETE;
	env = ceptoar__envelope__unpack(NULL, n, buf + FRAME_HEADER_LEN);
	if (env == NULL)
		return FRAME_MALFORMED;
	*envp = env;
	*consumed = FRAME_HEADER_LEN + (size_t)n;
	return FRAME_OK;
}

const char *
frame_strstatus(enum frame_status st)
{
	switch (st) {
	case FRAME_OK:
		return "frame complete";
	case FRAME_INCOMPLETE:
		return "frame incomplete";
	case FRAME_TOO_LARGE:
		return "frame length above the limit";
	case FRAME_MALFORMED:
		return "frame does not decode as a protocol envelope";
	}
	return "unknown frame status";
}

Ceptoar__Message *
frame_message_copy(const Ceptoar__Message *m)
{
	Ceptoar__Message	*c;
	uint8_t			*buf;
	size_t			 len;

	len = ceptoar__message__get_packed_size(m);
	if ((buf = malloc(len ? len : 1)) == NULL)
		return NULL;
	ceptoar__message__pack(m, buf);
	c = ceptoar__message__unpack(NULL, len, buf);
	free(buf);
	return c;
}
