/*
 * Framing: a 4-byte big-endian length, then one packed Envelope.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

/* A buffer for a frame of n payload bytes, its length header written. */
static uint8_t *
frame_alloc(size_t n)
{
	uint8_t	*buf;

	if ((buf = malloc(FRAME_HEADER_LEN + n)) == NULL)
		return NULL;
	buf[0] = (uint8_t)(n >> 24);
	buf[1] = (uint8_t)(n >> 16);
	buf[2] = (uint8_t)(n >> 8);
	buf[3] = (uint8_t)n;
	return buf;
}

uint8_t *
frame_pack(const Ceptoar__Envelope *env, size_t *lenp)
{
	size_t	 need;
	uint8_t	*buf;

	need = ceptoar__envelope__get_packed_size(env);
	if (need > FRAME_MAX_CEILING)
		return NULL;
	if ((buf = frame_alloc(need)) == NULL)
		return NULL;
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

/* Protobuf wire type 2 (length-delimited) for field number f. */
#define FRAME_LEN_TAG(f)	(((uint32_t)(f) << 3) | 2)

/* Bytes of the varint encoding of v. */
static size_t
frame_varint_size(uint64_t v)
{
	size_t	n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *
frame_varint_put(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/*
 * The sizes of a Deliver envelope around d and a message of message_len:
 * head and tail are d's fields before and after the message.
 */
static size_t
frame_deliver_sizes(const Ceptoar__Delivery *d, size_t message_len,
    Ceptoar__Delivery *head, Ceptoar__Delivery *tail, size_t *ndelivery,
    size_t *ndeliver)
{
	Ceptoar__Envelope	env = CEPTOAR__ENVELOPE__INIT;

	/* Fields 1-5 precede message (6); 7 and up follow it. */
	ceptoar__delivery__init(head);
	head->has_seq = d->has_seq;
	head->seq = d->seq;
	head->hub_id = d->hub_id;
	head->sender = d->sender;
	head->has_received_at = d->has_received_at;
	head->received_at = d->received_at;
	head->reason = d->reason;
	*tail = *d;
	tail->has_seq = 0;
	tail->hub_id = tail->sender = tail->reason = NULL;
	tail->has_received_at = 0;
	tail->message = NULL;
	*ndelivery = ceptoar__delivery__get_packed_size(head) + 1 +
	    frame_varint_size(message_len) + message_len +
	    ceptoar__delivery__get_packed_size(tail);
	*ndeliver = 1 + frame_varint_size(*ndelivery) + *ndelivery;
	env.has_protocol_version = 1;
	env.protocol_version = CEPTOAR_PROTOCOL_VERSION;
	return ceptoar__envelope__get_packed_size(&env) +
	    frame_varint_size(FRAME_LEN_TAG(16)) +
	    frame_varint_size(*ndeliver) + *ndeliver;
}

size_t
frame_deliver_len(const Ceptoar__Delivery *d, size_t message_len)
{
	Ceptoar__Delivery	head, tail;
	size_t			ndelivery, ndeliver;

	return frame_deliver_sizes(d, message_len, &head, &tail, &ndelivery,
	    &ndeliver);
}

/*
 * The Deliver frame for d with message as its packed Message, byte for
 * byte what frame_pack gives for the same envelope with the message
 * unpacked into d: the fields of Delivery before the message, the
 * message, the fields after it, each nesting level behind its length.
 * Packing the message once per report instead of once per recipient is
 * what keeps a fan-out cheap.
 */
uint8_t *
frame_pack_deliver(const Ceptoar__Delivery *d, const uint8_t *message,
    size_t message_len, size_t *lenp)
{
	Ceptoar__Delivery	 head, tail;
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT;
	size_t			 ndelivery, ndeliver, nenv;
	uint8_t			*buf, *p;

	nenv = frame_deliver_sizes(d, message_len, &head, &tail, &ndelivery,
	    &ndeliver);
	env.has_protocol_version = 1;
	env.protocol_version = CEPTOAR_PROTOCOL_VERSION;
	if (nenv > FRAME_MAX_CEILING)
		return NULL;
	if ((buf = frame_alloc(nenv)) == NULL)
		return NULL;
	p = buf + FRAME_HEADER_LEN;
	p += ceptoar__envelope__pack(&env, p);
	p = frame_varint_put(p, FRAME_LEN_TAG(16));	/* Envelope.deliver */
	p = frame_varint_put(p, ndeliver);
	*p++ = FRAME_LEN_TAG(1);			/* Deliver.delivery */
	p = frame_varint_put(p, ndelivery);
	p += ceptoar__delivery__pack(&head, p);
	*p++ = FRAME_LEN_TAG(6);			/* Delivery.message */
	p = frame_varint_put(p, message_len);
	memcpy(p, message, message_len);
	p += message_len;
	p += ceptoar__delivery__pack(&tail, p);
	*lenp = (size_t)(p - buf);
	return buf;
}

/* Nesting followed by frame_string_nul; protobuf-c nests no deeper. */
#define FRAME_SCAN_DEPTH	64

/* Read a varint at *i in buf; false if it runs past len or 10 bytes. */
static bool
frame_varint_get(const uint8_t *buf, size_t len, size_t *i, uint64_t *v)
{
	unsigned	shift = 0;

	*v = 0;
	while (*i < len && shift < 70) {
		*v |= (uint64_t)(buf[*i] & 0x7f) << shift;
		if ((buf[(*i)++] & 0x80) == 0)
			return true;
		shift += 7;
	}
	return false;
}

/*
 * Step over the field at *i of buf whose tag was key: its value, for a
 * length-delimited one into *val and *vlen.  false if it does not fit.
 */
static bool
frame_field_skip(const uint8_t *buf, size_t len, size_t *i, uint64_t key,
    const uint8_t **val, size_t *vlen)
{
	uint64_t	v;

	*val = NULL;
	*vlen = 0;
	switch (key & 7) {
	case 0:
		return frame_varint_get(buf, len, i, &v);
	case 1:
		if (len - *i < 8)
			return false;
		*i += 8;
		return true;
	case 5:
		if (len - *i < 4)
			return false;
		*i += 4;
		return true;
	case 2:
		if (!frame_varint_get(buf, len, i, &v) || v > len - *i)
			return false;
		*val = buf + *i;
		*vlen = (size_t)v;
		*i += (size_t)v;
		return true;
	}
	return false;
}

/* How many times field number num occurs in buf before offset end. */
static size_t
frame_field_index(const uint8_t *buf, size_t end, uint64_t num)
{
	const uint8_t	*val;
	size_t		 i = 0, n = 0, vlen;
	uint64_t	 key;

	while (i < end && frame_varint_get(buf, end, &i, &key)) {
		if (!frame_field_skip(buf, end, &i, key, &val, &vlen))
			break;
		if ((key >> 3) == num)
			n++;
	}
	return n;
}

/* frame_string_nul at nesting depth. */
static bool
frame_scan(const ProtobufCMessageDescriptor *d, const uint8_t *buf,
    size_t len, int depth, char *path, size_t pathlen)
{
	const ProtobufCFieldDescriptor	*f;
	const uint8_t			*val;
	char				 sub[256], name[96];
	size_t				 i = 0, start, vlen;
	uint64_t			 key;

	while (i < len) {
		start = i;
		if (!frame_varint_get(buf, len, &i, &key) ||
		    !frame_field_skip(buf, len, &i, key, &val, &vlen))
			return false;	/* not ours to judge: unpack did */
		if ((key & 7) != 2 || (f =
		    protobuf_c_message_descriptor_get_field(d,
		    (unsigned)(key >> 3))) == NULL)
			continue;
		sub[0] = '\0';
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			if (memchr(val, '\0', vlen) == NULL)
				continue;
		} else if (f->type != PROTOBUF_C_TYPE_MESSAGE ||
		    depth >= FRAME_SCAN_DEPTH ||
		    !frame_scan(f->descriptor, val, vlen, depth + 1, sub,
		    sizeof(sub)))
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			snprintf(name, sizeof(name), "%s[%zu]", f->name,
			    frame_field_index(buf, start, key >> 3));
		else
			snprintf(name, sizeof(name), "%s", f->name);
		snprintf(path, pathlen, "%s%s%s", name, sub[0] ? "." : "",
		    sub);
		return true;
	}
	return false;
}

bool
frame_string_nul(const ProtobufCMessageDescriptor *d, const uint8_t *buf,
    size_t len, char *path, size_t pathlen)
{
	if (pathlen > 0)
		path[0] = '\0';
	return frame_scan(d, buf, len, 0, path, pathlen);
}
