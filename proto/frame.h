/*
 * Length-prefixed framing of protobuf envelopes, shared by the hub and
 * the client.  A frame is a 4-byte big-endian length and that many bytes
 * of a serialised Ceptoar__Envelope.
 */
#ifndef CEPTOAR_FRAME_H
#define CEPTOAR_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ceptoar.pb-c.h"

#define CEPTOAR_PROTOCOL_VERSION	1
#define FRAME_HEADER_LEN		4
/* Hard ceiling for any configured limit; nothing larger is ever read. */
#define FRAME_MAX_CEILING		(64u * 1024 * 1024)
#define FRAME_DEFAULT_MAX		(1024u * 1024)
#define FRAME_DEFAULT_MAX_PREAUTH	(4u * 1024)
/*
 * Room a client leaves for a Deliver's own fields around a message of the
 * hub's max_frame: it accepts frames of max_frame plus this (up to the
 * ceiling), so every form the hub makes must fit in that much.
 */
#define FRAME_DELIVER_SLACK		(1024u * 1024)

/* The largest Deliver payload a client of a hub with max_frame accepts. */
static inline uint64_t
frame_deliver_limit(uint64_t max_frame)
{
	uint64_t	l = max_frame + FRAME_DELIVER_SLACK;

	return l > FRAME_MAX_CEILING ? FRAME_MAX_CEILING : l;
}

enum frame_status {
	FRAME_OK,		/* one envelope decoded */
	FRAME_INCOMPLETE,	/* need more bytes */
	FRAME_TOO_LARGE,	/* announced length above the limit */
	FRAME_MALFORMED,	/* payload is not a valid Envelope */
};

/*
 * Serialise env behind its length header into a new buffer of *lenp bytes.
 * Returns NULL if the allocation fails or the result would exceed the
 * ceiling.  The caller frees the buffer.
 */
uint8_t	*frame_pack(const Ceptoar__Envelope *env, size_t *lenp);

/*
 * Read the length header at buf (len bytes available).  Sets *announced
 * to the payload length the peer claims; FRAME_INCOMPLETE if fewer than
 * four bytes are present, FRAME_TOO_LARGE if the claim exceeds max.
 */
enum frame_status frame_peek(const uint8_t *buf, size_t len, uint32_t max,
	    uint32_t *announced);

/*
 * Decode one complete frame from buf.  On FRAME_OK *envp owns a new
 * envelope (free with ceptoar__envelope__free_unpacked(*envp, NULL)) and
 * *consumed is the frame's total size.  Nothing is allocated on any other
 * status.  The length is checked against max before anything is decoded.
 */
enum frame_status frame_unpack(const uint8_t *buf, size_t len, uint32_t max,
	    Ceptoar__Envelope **envp, size_t *consumed);

/*
 * The payload length (without the header) of the Deliver frame that
 * frame_pack_deliver makes of d around a packed message of message_len.
 */
size_t	 frame_deliver_len(const Ceptoar__Delivery *d, size_t message_len);

/*
 * A deep copy of m through its wire form: what a copy unpacks to is what
 * storing it would give.  NULL when out of memory, or when m packs into
 * bytes that do not unpack again.
 */
Ceptoar__Message *frame_message_copy(const Ceptoar__Message *m);

/*
 * The framed Envelope{protocol_version, Deliver{d}} with message (a packed
 * Ceptoar__Message, d->message unset) spliced in as d's message: the
 * same bytes as frame_pack, without unpacking and repacking the message.
 * NULL when out of memory or over the ceiling.
 */
uint8_t	*frame_pack_deliver(const Ceptoar__Delivery *d, const uint8_t *message,
	    size_t message_len, size_t *lenp);

/*
 * Whether a string field anywhere in buf, the len wire bytes of a message
 * of type d, holds a NUL byte.  protobuf-c hands strings over as C
 * strings, so "nisc\0evil" would unpack as "nisc": such a message must
 * be refused, not read.  true with the field's path from d into path
 * ("submit.message.report.contact.name", "...indicators[2].value").
 * Fields that are not strings or messages, unknown fields and bytes that
 * do not parse are passed over (unpacking judges those).
 */
bool	 frame_string_nul(const ProtobufCMessageDescriptor *d,
	    const uint8_t *buf, size_t len, char *path, size_t pathlen);

/* A sentence for a status, for logs and error messages. */
const char	*frame_strstatus(enum frame_status);

#endif
