/*
 * FNV-1a over a NUL-terminated string: what the hub's tables of
 * organisations (inboxes, rate buckets, routing, the store's cursor
 * cache) spread their keys with.  Not for anything a peer could exploit
 * to collide: those keys come from the directory.
 */
#ifndef CEPTOAR_STRHASH_H
#define CEPTOAR_STRHASH_H

#include <stdint.h>

static inline uint64_t
strhash(const char *s)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

#endif
