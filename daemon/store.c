/*
 * The store interface.  Everything the hub keeps across restarts goes
 * through here: messages (each form of a report a message of its own),
 * their per-recipient deliveries with the relay hop each belongs to, and
 * the inbox cursors.  This file owns what is the same for every backend
 * (choosing one by the path's prefix, checking arguments and the
 * transaction state, sealing bodies and their digests) so that a backend
 * only has to store and find rows, and never sees a report in the clear.
 *
 * Sealed bodies.  Every body is stored as
 *
 *	version (1) || key id (4, big-endian) || nonce (24) || ciphertext
 *
 * where the ciphertext is XChaCha20-Poly1305 (IETF) of the packed message
 * under the seal subkey of the key with that id.  The associated data is
 * the 29-byte header and a hash of the message's hub_id and sender, which
 * never change once stored: a body copied onto another row, or a header
 * edited, does not open.  Nonces are random; at 192 bits a repeat is
 * negligible however many bodies one key seals.  A key file holds a
 * master key from which crypto_kdf derives the seal subkey, the digest
 * subkey and the key id, so key files need no naming convention and the
 * id says nothing of the key.
 *
 * What each backend operation promises, and which are optional, is
 * written beside struct store_backend in ceptoard.h; store_open refuses
 * a backend that lacks a required one.
 *
 * The digest column is a keyed BLAKE2b of the plaintext under the digest
 * subkey: an unkeyed one would let whoever holds the file confirm a
 * guessed report.  The idempotency digest callers compare (unkeyed, of
 * the plaintext) is computed from the opened body when a retry is found.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "ceptoard.h"

#define STORE_SEAL_VERSION	1
#define STORE_SEAL_NONCE	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define STORE_SEAL_HEADER	(1 + 4 + STORE_SEAL_NONCE)
#define STORE_SEAL_OVERHEAD						\
	(STORE_SEAL_HEADER + crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define STORE_SEAL_AD		(STORE_SEAL_HEADER + 32)
#define STORE_KDF_CONTEXT	"ceptstor"	/* crypto_kdf: 8 bytes */
#define STORE_KDF_SEAL		1
#define STORE_KDF_DIGEST	2
#define STORE_KDF_ID		3
/* Bodies re-sealed per transaction: one fsync each, short write locks. */
#define STORE_RESEAL_BATCH	256

/* One key, in locked memory: only what is derived from the key file. */
struct store_key {
	uint32_t	 id;
	unsigned char	 seal[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	unsigned char	 digest[crypto_generichash_KEYBYTES];
};

struct store_keys {
	struct store_key	*v;	/* locked; v[0] is current */
	char			**paths;	/* where each came from */
	size_t			 n;
};

struct store {
	const struct store_backend	*be;
	void				*be_data;
	bool				 in_txn;
	/* Set while a backend runs a caller's callback; see store_enter. */
	bool				 in_callback;
	struct store_keys		*keys;
	uint64_t			 stale;	/* old keys' at open */
	/* Scratch: the sealed body of an insert, the opened one of a row. */
	uint8_t				*sealed;
	size_t				 capsealed;
	uint8_t				*plain;
	size_t				 capplain;
	/* Why a row's body did not open, for its callback. */
	char				 body_error[256];
};

/* A caller's callback, called by store_view with opened bodies. */
struct store_viewer {
	struct store		*s;
	store_delivery_cb	 cb;
	void			*arg;
};

/* Every backend this ceptoard was built with; the first is the default. */
static const struct store_backend *const store_backends[] = {
	&store_backend_sqlite,
#ifdef HAVE_LIBPQ
	&store_backend_pg,	/* "postgresql:", with libpq */
#endif
};
#define STORE_NBACKENDS	(sizeof(store_backends) / sizeof(store_backends[0]))

/*
 * Refuse a call made from inside a store callback: the backend is in the
 * middle of reading rows, and SQLite leaves the result of changing or
 * re-running statements under a live read undefined.
 */
static int
store_enter(struct store *s, const char *op, char **cause)
{
	if (s == NULL) {
		cause_set(cause, "%s: no store", op);
		return (-1);
	}
	if (s->in_callback) {
		cause_set(cause, "%s called from inside a store callback",
		    op);
		return (-1);
	}
	return (0);
}

/* Whether s is a non-empty string; the store never keeps empty keys. */
static int
store_nonempty(const char *s)
{
	return (s != NULL && *s != '\0');
}

/* Whether an optional key is absent or non-empty, never "". */
static int
store_optional(const char *s)
{
	return (s == NULL || *s != '\0');
}

/* Whether form is one the store keeps: 0 (taken as original), 1 or 2. */
static int
store_form_valid(int form)
{
	return (form == 0 || form == CEPTOAR__FORM__FORM_ORIGINAL ||
	    form == CEPTOAR__FORM__FORM_ANONYMISED);
}

/* ---- Keys ------------------------------------------------------------ */

/* Derive k's subkeys and id from the master key. */
static void
store_key_derive(struct store_key *k, const unsigned char master[STORE_KEY_LEN])
{
	unsigned char	 id[crypto_kdf_BYTES_MIN];

	crypto_kdf_derive_from_key(k->seal, sizeof(k->seal), STORE_KDF_SEAL,
	    STORE_KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(k->digest, sizeof(k->digest),
	    STORE_KDF_DIGEST, STORE_KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(id, sizeof(id), STORE_KDF_ID,
	    STORE_KDF_CONTEXT, master);
	k->id = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 |
	    (uint32_t)id[2] << 8 | (uint32_t)id[3];
	sodium_memzero(id, sizeof(id));
}

/* The loaded key with id, or NULL. */
static const struct store_key *
store_key_find(const struct store_keys *keys, uint32_t id)
{
	size_t	 i;

	for (i = 0; i < keys->n; i++)
		if (keys->v[i].id == id)
			return (&keys->v[i]);
	return (NULL);
}

/*
 * Split old ("a.key, b.key") into a malloc'd vector of paths, current
 * first: the caller frees each and the vector.  Empty entries are
 * refused rather than skipped: "a.key,,b.key" is a typing mistake.
 */
static char **
store_keys_paths(const char *current, const char *old, size_t *np,
    char **cause)
{
	const char	*p, *e, *end;
	char		**v;
	size_t		 n = 1, i = 0;

	if (old != NULL && *old != '\0')
		for (p = old, n = 2; *p != '\0'; p++)
			if (*p == ',')
				n++;
	if ((v = calloc(n, sizeof(*v))) == NULL ||
	    (v[i++] = strdup(current)) == NULL)
		goto nomem;
	for (p = old; n > 1 && p != NULL; p = *end == ',' ? end + 1 : NULL) {
		end = p + strcspn(p, ",");
		while (p < end && isspace((unsigned char)*p))
			p++;
		for (e = end; e > p && isspace((unsigned char)e[-1]); e--)
			;
		if (e == p) {
			cause_set(cause, "store_old_keys \"%s\" has an empty "
			    "entry; separate key files with single commas",
			    old);
			goto fail;
		}
		if ((v[i++] = strndup(p, (size_t)(e - p))) == NULL)
			goto nomem;
	}
	*np = n;
	return (v);

nomem:
	cause_set(cause, "store keys: out of memory");
fail:
	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
	return (NULL);
}

/* Load the current key and the old ones into locked memory. */
struct store_keys *
store_keys_load(const char *current, const char *old, char **cause)
{
	struct store_keys	*keys;
	unsigned char		*master;
	size_t			 i, j;

	if (cause != NULL)
		*cause = NULL;
	if (current == NULL || *current == '\0') {
		cause_set(cause, "no store_key is configured: stored message "
		    "bodies are sealed under a key file of %d random bytes; "
		    "make one (umask 077; head -c %d /dev/urandom > "
		    "store.key) and name it as store_key in ceptoard.conf",
		    STORE_KEY_LEN, STORE_KEY_LEN);
		return (NULL);
	}
	if (sodium_init() == -1) {
		cause_set(cause, "store keys: libsodium failed to "
		    "initialise");
		return (NULL);
	}
	if ((keys = calloc(1, sizeof(*keys))) == NULL) {
		cause_set(cause, "store keys: out of memory");
		return (NULL);
	}
	if ((keys->paths = store_keys_paths(current, old, &keys->n,
	    cause)) == NULL) {
		free(keys);
		return (NULL);
	}
	/* Guarded, locked pages; the master key never leaves its own. */
	keys->v = sodium_allocarray(keys->n, sizeof(*keys->v));
	master = sodium_malloc(STORE_KEY_LEN);
	if (keys->v == NULL || master == NULL) {
		cause_set(cause, "store keys: cannot allocate locked memory "
		    "for %zu keys", keys->n);
		goto fail;
	}
	for (i = 0; i < keys->n; i++) {
		if (keyfile_read(keys->paths[i], "store key", master, cause) == -1)
			goto fail;
		store_key_derive(&keys->v[i], master);
		sodium_memzero(master, STORE_KEY_LEN);
		for (j = 0; j < i; j++) {
			if (keys->v[j].id != keys->v[i].id)
				continue;
			cause_set(cause, "store keys %s and %s are the same "
			    "key (id %08x); %s", keys->paths[j],
			    keys->paths[i], keys->v[i].id, j == 0 ?
			    "store_old_keys must not list store_key" :
			    "list each old key once");
			goto fail;
		}
	}
	sodium_free(master);
	sodium_mprotect_readonly(keys->v);
	return (keys);

fail:
	sodium_free(master);
	store_keys_free(keys);
	return (NULL);
}

/* Wipe and free the keys. */
void
store_keys_free(struct store_keys *keys)
{
	size_t	 i;

	if (keys == NULL)
		return;
	sodium_free(keys->v);	/* wipes the pages, even read-only ones */
	for (i = 0; keys->paths != NULL && i < keys->n; i++)
		free(keys->paths[i]);
	free(keys->paths);
	free(keys);
}

/* ---- Sealing --------------------------------------------------------- */

/*
 * The associated data of a body: its header, then a hash of the hub_id
 * and sender (each NUL-terminated, so the pair is unambiguous) that pins
 * it to its row.
 */
static void
store_seal_ad(unsigned char ad[STORE_SEAL_AD], const uint8_t *header,
    const char *hub_id, const char *sender)
{
	crypto_generichash_state	 st;

	memcpy(ad, header, STORE_SEAL_HEADER);
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const unsigned char *)hub_id,
	    strlen(hub_id) + 1);
	crypto_generichash_update(&st, (const unsigned char *)sender,
	    strlen(sender) + 1);
	crypto_generichash_final(&st, ad + STORE_SEAL_HEADER, 32);
}

/* Grow a scratch buffer to hold len bytes; its old contents go. */
static int
store_grow(uint8_t **buf, size_t *cap, size_t len)
{
	uint8_t	*nb;
	size_t	 ncap;

	if (len <= *cap && *buf != NULL)
		return (0);
	ncap = *cap == 0 ? 4096 : *cap;
	while (ncap < len)
		ncap *= 2;
	if ((nb = malloc(ncap)) == NULL)
		return (-1);
	if (*buf != NULL) {
		sodium_memzero(*buf, *cap);
		free(*buf);
	}
	*buf = nb;
	*cap = ncap;
	return (0);
}

/*
 * Seal len bytes of p for the row (hub_id, sender) under k into out,
 * which holds len + STORE_SEAL_OVERHEAD bytes.
 */
static void
store_seal(const struct store_key *k, const char *hub_id, const char *sender,
    const uint8_t *p, size_t len, uint8_t *out)
{
	static const uint8_t	 empty[1];
	unsigned char		 ad[STORE_SEAL_AD];

	out[0] = STORE_SEAL_VERSION;
	out[1] = (uint8_t)(k->id >> 24);
	out[2] = (uint8_t)(k->id >> 16);
	out[3] = (uint8_t)(k->id >> 8);
	out[4] = (uint8_t)k->id;
	randombytes_buf(out + 5, STORE_SEAL_NONCE);
	store_seal_ad(ad, out, hub_id, sender);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + STORE_SEAL_HEADER,
	    NULL, p != NULL ? p : empty, len, ad, sizeof(ad), NULL, out + 5,
	    k->seal);
}

/*
 * Open the stored body of (hub_id, sender) into s->plain: 0 with its
 * length in *len and the key that sealed it in *kp, or -1 with the
 * reason in s->body_error.  The caller wipes s->plain after use.
 */
static int
store_unseal(struct store *s, const char *hub_id, const char *sender,
    const uint8_t *body, size_t body_len, size_t *len,
    const struct store_key **kp)
{
	const struct store_key	*k;
	unsigned char		 ad[STORE_SEAL_AD];
	uint32_t		 id;

	if (body_len < STORE_SEAL_OVERHEAD) {
		snprintf(s->body_error, sizeof(s->body_error), "the stored "
		    "body of %s is %zu bytes, too short to be sealed", hub_id,
		    body_len);
		return (-1);
	}
	if (body[0] != STORE_SEAL_VERSION) {
		snprintf(s->body_error, sizeof(s->body_error), "the stored "
		    "body of %s has seal version %u; this ceptoard knows %d",
		    hub_id, body[0], STORE_SEAL_VERSION);
		return (-1);
	}
	id = (uint32_t)body[1] << 24 | (uint32_t)body[2] << 16 |
	    (uint32_t)body[3] << 8 | (uint32_t)body[4];
	if ((k = store_key_find(s->keys, id)) == NULL) {
		snprintf(s->body_error, sizeof(s->body_error), "the stored "
		    "body of %s is sealed under key %08x, which is neither "
		    "store_key nor in store_old_keys", hub_id, id);
		return (-1);
	}
	*len = body_len - STORE_SEAL_OVERHEAD;
	if (store_grow(&s->plain, &s->capplain, *len + 1) == -1) {
		snprintf(s->body_error, sizeof(s->body_error), "out of "
		    "memory opening the body of %s (%zu bytes)", hub_id, *len);
		return (-1);
	}
	store_seal_ad(ad, body, hub_id, sender);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(s->plain, NULL, NULL,
	    body + STORE_SEAL_HEADER, body_len - STORE_SEAL_HEADER, ad,
	    sizeof(ad), body + 5, k->seal) != 0) {
		snprintf(s->body_error, sizeof(s->body_error), "the stored "
		    "body of %s does not open under key %08x: it was altered, "
		    "or copied from another message", hub_id, id);
		return (-1);
	}
	*kp = k;
	return (0);
}

/*
 * Give the caller's callback a row with its body opened, and wipe the
 * plaintext when it returns.  A body that does not open reaches the
 * callback as NULL with body_error set, so that one damaged row neither
 * stops an inbox nor is shown as an empty message.
 */
static int
store_view(const struct store_delivery *d, void *arg)
{
	struct store_viewer	*v = arg;
	struct store		*s = v->s;
	struct store_delivery	 open;
	const struct store_key	*k;
	size_t			 len = 0;
	int			 rv;

	if (d->body == NULL)
		return (v->cb(d, v->arg));
	open = *d;
	if (store_unseal(s, d->hub_id, d->sender, d->body, d->body_len, &len,
	    &k) == -1) {
		open.body = NULL;
		open.body_len = 0;
		open.body_error = s->body_error;
		return (v->cb(&open, v->arg));
	}
	open.body = s->plain;
	open.body_len = len;
	rv = v->cb(&open, v->arg);
	sodium_memzero(s->plain, len);
	return (rv);
}

/*
 * The callback of store_reseal_batch's walk: the bodies of one batch,
 * opened (or taken as they are, if an older schema left them unsealed)
 * and sealed again under the current key.
 */
struct store_reseal {
	struct store	*s;
	struct {
		uint64_t	 seq;
		uint8_t		*body;
		size_t		 len;
		unsigned char	 digest[32];
	}		*v;
	size_t		 n;
	uint64_t	 last;		/* the highest seq walked */
	bool		 failed;	/* s->body_error says why */
};

/* Seal one stale body again under the current key into the batch. */
static int
store_reseal_row(uint64_t seq, const char *hub_id, const char *sender,
    bool sealed, const uint8_t *body, size_t body_len, void *arg)
{
	struct store_reseal	*rs = arg;
	struct store		*s = rs->s;
	const struct store_key	*cur = &s->keys->v[0], *k;
	const uint8_t		*p = body;
	size_t			 len = body_len, i = rs->n;

	rs->last = seq;
	if (sealed) {
		if (store_unseal(s, hub_id, sender, body, body_len, &len,
		    &k) == -1) {
			rs->failed = true;
			return (1);
		}
		p = s->plain;
	}
	if ((rs->v[i].body = malloc(len + STORE_SEAL_OVERHEAD)) == NULL) {
		snprintf(s->body_error, sizeof(s->body_error), "out of memory "
		    "sealing the body of %s again", hub_id);
		rs->failed = true;
		if (sealed)
			sodium_memzero(s->plain, len);
		return (1);
	}
	rs->v[i].seq = seq;
	rs->v[i].len = len + STORE_SEAL_OVERHEAD;
	crypto_generichash(rs->v[i].digest, sizeof(rs->v[i].digest), p, len,
	    cur->digest, sizeof(cur->digest));
	store_seal(cur, hub_id, sender, p, len, rs->v[i].body);
	if (sealed)
		sodium_memzero(s->plain, len);
	rs->n++;
	return (0);
}

/*
 * Seal again, under the current key, every body that is unsealed or (if
 * stale) sealed under another key: a batch per transaction, so that a
 * large store neither holds the write lock for long nor needs one huge
 * log.  *n counts what was committed.
 */
static int
store_reseal_all(struct store *s, bool stale, uint64_t *n, char **cause)
{
	struct store_reseal	 rs;
	uint64_t		 after = 0;
	size_t			 i;
	int			 rv = -1;

	*n = 0;
	memset(&rs, 0, sizeof(rs));
	rs.s = s;
	if ((rs.v = calloc(STORE_RESEAL_BATCH, sizeof(*rs.v))) == NULL) {
		cause_set(cause, "store: out of memory re-sealing bodies");
		return (-1);
	}
	for (;;) {
		rs.n = 0;
		rs.failed = false;
		if (s->be->begin(s->be_data, cause) == -1)
			goto out;
		if (s->be->stale(s->be_data, stale, s->keys->v[0].id, after,
		    STORE_RESEAL_BATCH, store_reseal_row, &rs, cause) == -1)
			goto undo;
		if (rs.failed) {
			cause_set(cause, "store: cannot seal again: %s",
			    s->body_error);
			goto undo;
		}
		if (rs.n == 0) {
			s->be->rollback(s->be_data);
			break;
		}
		for (i = 0; i < rs.n; i++)
			if (s->be->reseal(s->be_data, rs.v[i].seq,
			    rs.v[i].body, rs.v[i].len, rs.v[i].digest,
			    s->keys->v[0].id, cause) == -1)
				goto undo;
		if (s->be->commit(s->be_data, cause) == -1)
			goto out;
		*n += rs.n;
		after = rs.last;
		for (i = 0; i < rs.n; i++) {
			free(rs.v[i].body);
			rs.v[i].body = NULL;
		}
	}
	rv = 0;
	goto out;
undo:
	s->be->rollback(s->be_data);
out:
	for (i = 0; i < rs.n; i++)
		free(rs.v[i].body);
	free(rs.v);
	return (rv);
}

/*
 * Check that every stored body can be opened with the loaded keys, and
 * count those under old keys.  Refusing here, at start, with the key's
 * id and how many messages it sealed, beats discovering it one delivery
 * at a time.
 */
static int
store_check_keys(struct store *s, const char *path, uint64_t *unsealed,
    char **cause)
{
	uint32_t	*ids;
	uint64_t	 count;
	size_t		 i, n, max = s->keys->n + 1;
	int		 rv = -1;

	if ((ids = calloc(max, sizeof(*ids))) == NULL) {
		cause_set(cause, "store %s: out of memory", path);
		return (-1);
	}
	if (s->be->key_ids(s->be_data, ids, max, &n, unsealed, cause) == -1)
		goto out;
	s->stale = 0;
	for (i = 0; i < n && i < max; i++) {
		/* Counting the current key's would cost a scan of them all. */
		if (ids[i] == s->keys->v[0].id)
			continue;
		if (s->be->key_count(s->be_data, ids[i], &count, cause) == -1)
			goto out;
		if (store_key_find(s->keys, ids[i]) == NULL) {
			cause_set(cause, "store %s: %llu message%s sealed "
			    "under key %08x, which is neither store_key (%s, "
			    "key %08x) nor in store_old_keys; list the key "
			    "file that sealed %s in store_old_keys", path,
			    (unsigned long long)count, count == 1 ? " is" :
			    "s are", ids[i], s->keys->paths[0],
			    s->keys->v[0].id, count == 1 ? "it" : "them");
			goto out;
		}
		s->stale += count;
	}
	rv = 0;
out:
	free(ids);
	return (rv);
}

/*
 * Split "name:rest" into the backend that claims name and the rest; a
 * path without such a prefix is the default backend's.  A prefix no
 * backend claims is refused rather than taken as a file name, so that a
 * "postgresql:..." store is not silently created as a SQLite file.
 */
static const struct store_backend *
store_pick(const char *path, const char **rest, char **cause)
{
	const char	*p;
	size_t		 i, len;

	for (i = 0; i < STORE_NBACKENDS; i++) {
		len = strlen(store_backends[i]->prefix);
		if (strncmp(path, store_backends[i]->prefix, len) == 0) {
			*rest = path + len;
			return (store_backends[i]);
		}
	}

	/* A URI-style scheme: a letter, then letters, digits, "+-.". */
	p = path;
	if (isalpha((unsigned char)*p)) {
		while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
		    *p == '.')
			p++;
		if (*p == ':') {
			cause_set(cause, "store %s: unknown backend "
			    "\"%.*s\"; this ceptoard knows \"%s\"", path,
			    (int)(p - path), path, store_backends[0]->prefix);
			return (NULL);
		}
	}
	*rest = path;
	return (store_backends[0]);
}

/*
 * The first operation be lacks that the contract requires (every one but
 * the durability-specific ones, and sync and undo with pipeline), or
 * NULL: a backend half-written is refused at open, not at its first use.
 */
static const char *
store_backend_missing(const struct store_backend *be)
{
#define STORE_REQUIRE(op)	if (be->op == NULL) return (#op)
	STORE_REQUIRE(open);
	STORE_REQUIRE(close);
	STORE_REQUIRE(begin);
	STORE_REQUIRE(lookup_uuid);
	STORE_REQUIRE(insert);
	STORE_REQUIRE(item);
	STORE_REQUIRE(commit);
	STORE_REQUIRE(rollback);
	STORE_REQUIRE(pending);
	STORE_REQUIRE(ack);
	STORE_REQUIRE(fetch);
	STORE_REQUIRE(inbox_state);
	STORE_REQUIRE(held_count);
	STORE_REQUIRE(mark_delivered);
	STORE_REQUIRE(mark_forwarded);
	STORE_REQUIRE(message);
	STORE_REQUIRE(delivery_of);
	STORE_REQUIRE(receipts);
	STORE_REQUIRE(held);
	STORE_REQUIRE(chain_count);
	STORE_REQUIRE(replies);
	STORE_REQUIRE(set_sharing);
	STORE_REQUIRE(key_ids);
	STORE_REQUIRE(key_count);
	STORE_REQUIRE(stale);
	STORE_REQUIRE(reseal);
#undef STORE_REQUIRE
	if (be->pipeline != NULL && be->sync == NULL)
		return ("sync (it has pipeline)");
	if (be->pipeline != NULL && be->undo == NULL)
		return ("undo (it has pipeline)");
	return (NULL);
}

/*
 * Wipe what replaced bodies left readable, if the backend keeps any such
 * copy (scrub is optional: without it there is nothing to wipe).
 */
static int
store_scrub(struct store *s, char **cause)
{
	if (s->be->scrub == NULL)
		return (0);
	return (s->be->scrub(s->be_data, cause));
}

/*
 * Pick the backend by the path's prefix and open the store with it, then
 * make sure every stored body opens with keys, sealing what an older
 * schema stored in the clear.
 */
struct store *
store_open(const char *path, struct store_keys *keys, char **cause)
{
	const struct store_backend	*be;
	struct store			*s;
	const char			*rest, *missing;
	uint64_t			 unsealed, n;

	if (cause != NULL)
		*cause = NULL;
	if (!store_nonempty(path)) {
		cause_set(cause, "no store path given");
		goto fail;
	}
	if ((be = store_pick(path, &rest, cause)) == NULL)
		goto fail;
	if ((missing = store_backend_missing(be)) != NULL) {
		cause_set(cause, "store %s: the %s backend lacks the %s "
		    "operation", path, be->name, missing);
		goto fail;
	}
#ifdef CEPTOARD_TEST_HOOKS
	be = store_fault_wrap(be);	/* tests only: see store_fault.c */
#endif
	if (*rest == '\0') {
		cause_set(cause, "store %s: empty %s path", path, be->name);
		goto fail;
	}
	if (keys == NULL || keys->n == 0) {
		cause_set(cause, "store %s: no store key to seal bodies "
		    "with", path);
		goto fail;
	}
	/* Sealing uses libsodium; it is safe to call more than once. */
	if (sodium_init() == -1) {
		cause_set(cause, "store %s: libsodium failed to initialise",
		    path);
		goto fail;
	}

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		cause_set(cause, "store %s: out of memory", path);
		goto fail;
	}
	s->be = be;
	s->keys = keys;
	if ((s->be_data = be->open(rest, cause)) == NULL) {
		free(s);
		goto fail;
	}
	if (store_check_keys(s, path, &unsealed, cause) == -1)
		goto close;
	if (unsealed > 0) {
		/* A crash part-way leaves the rest for the next open. */
		if (store_reseal_all(s, false, &n, cause) == -1 ||
		    store_scrub(s, cause) == -1)
			goto close;
	}
	return (s);

close:
	store_close(s);
	return (NULL);
fail:
	store_keys_free(keys);
	return (NULL);
}

/* Close the store, abandoning a group that was never committed. */
void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->in_txn)
		s->be->rollback(s->be_data);
	s->be->close(s->be_data);
	store_keys_free(s->keys);
	free(s->sealed);
	if (s->plain != NULL)
		sodium_memzero(s->plain, s->capplain);
	free(s->plain);
	free(s);
}

/* The backend's name, for the startup log line. */
const char *
store_backend_name(const struct store *s)
{
	return (s->be->name);
}

/* The id of the key new bodies are sealed with. */
uint32_t
store_key_id(const struct store *s)
{
	return (s->keys->v[0].id);
}

/* How many messages were sealed under old keys when the store opened. */
uint64_t
store_stale(const struct store *s)
{
	return (s->stale);
}

/* Seal every body under the current key, then wipe the old ciphertexts. */
int
store_rekey(struct store *s, uint64_t *resealed, char **cause)
{
	*resealed = 0;
	if (store_enter(s, "store_rekey", cause) == -1)
		return (-1);
	if (s->in_txn) {
		cause_set(cause, "store_rekey inside a transaction");
		return (-1);
	}
	if (store_reseal_all(s, true, resealed, cause) == -1)
		return (-1);
	s->stale = 0;
	return (store_scrub(s, cause));
}

/* Open a group of submits; only one may be open at a time. */
int
store_begin(struct store *s, char **cause)
{
	if (store_enter(s, "store_begin", cause) == -1)
		return (-1);
	if (s->in_txn) {
		cause_set(cause, "store_begin: a transaction is already "
		    "open");
		return (-1);
	}
	if (s->be->begin(s->be_data, cause) == -1)
		return (-1);
	s->in_txn = true;
	return (0);
}

/* Find a sender's earlier submit of uuid, so a retry is not stored twice. */
int
store_lookup_uuid(struct store *s, const char *sender, const char *uuid,
    char hub_id[STORE_HUB_ID_LEN], uint64_t *seq, unsigned char digest[32],
    char **cause)
{
	const struct store_key	*k;
	unsigned char		 keyed[32];
	uint8_t			*body = NULL;
	size_t			 body_len = 0, len;
	int			 rv;

	if (store_enter(s, "store_lookup_uuid", cause) == -1)
		return (-1);
	if (!store_nonempty(sender) || !store_nonempty(uuid)) {
		cause_set(cause, "store_lookup_uuid: empty sender or uuid");
		return (-1);
	}
	rv = s->be->lookup_uuid(s->be_data, sender, uuid, hub_id, seq, keyed,
	    &body, &body_len, cause);
	if (rv != 1)
		return (rv);
	/*
	 * A retry: compare what the caller sent with the plaintext, which
	 * the stored keyed digest must also match.
	 */
	rv = -1;
	if (store_unseal(s, hub_id, sender, body, body_len, &len, &k) == -1) {
		cause_set(cause, "store_lookup_uuid %s of %s: %s", uuid,
		    sender, s->body_error);
		goto out;
	}
	crypto_generichash(digest, 32, s->plain, len, k->digest,
	    sizeof(k->digest));
	if (sodium_memcmp(digest, keyed, sizeof(keyed)) != 0)
		cause_set(cause, "store_lookup_uuid %s of %s: the stored "
		    "digest of %s does not match its body", uuid, sender,
		    hub_id);
	else {
		crypto_generichash(digest, 32, s->plain, len, NULL, 0);
		rv = 1;
	}
	sodium_memzero(s->plain, len);
out:
	free(body);
	return (rv);
}

/* Check m and its recipients, digest the body, and add it to the group. */
int
store_insert(struct store *s, struct store_message *m,
    struct store_recipient *r, size_t nr, char **cause)
{
	const struct store_key	*k;
	struct store_message	 sealed;
	unsigned char		 digest[32];
	size_t			 i;
	int			 rv;

	if (store_enter(s, "store_insert", cause) == -1)
		return (-1);
	/* Inserts only make sense as part of a group that is committed. */
	if (!s->in_txn) {
		cause_set(cause, "store_insert outside a transaction");
		return (-1);
	}
	if (memchr(m->hub_id, '\0', sizeof(m->hub_id)) == NULL ||
	    m->hub_id[0] == '\0') {
		cause_set(cause, "store_insert: missing or unterminated "
		    "hub_id");
		return (-1);
	}
	if (!store_nonempty(m->sender) || !store_nonempty(m->uuid) ||
	    !store_nonempty(m->kind)) {
		cause_set(cause, "store_insert %s: empty sender, uuid or "
		    "kind", m->hub_id);
		return (-1);
	}
	if (m->body == NULL && m->body_len != 0) {
		cause_set(cause, "store_insert %s: body is NULL", m->hub_id);
		return (-1);
	}
	if (!store_optional(m->origin) || !store_optional(m->chain_id) ||
	    !store_optional(m->in_reply_to)) {
		cause_set(cause, "store_insert %s: empty origin, chain_id or "
		    "in_reply_to (NULL means none)", m->hub_id);
		return (-1);
	}
	if (!store_form_valid(m->form)) {
		cause_set(cause, "store_insert %s: unknown form %d",
		    m->hub_id, m->form);
		return (-1);
	}
	/* An anonymised form is always made from an original. */
	if (m->form == CEPTOAR__FORM__FORM_ANONYMISED && m->origin == NULL) {
		cause_set(cause, "store_insert %s: anonymised form without "
		    "an origin", m->hub_id);
		return (-1);
	}
	if ((m->origin != NULL && strcmp(m->origin, m->hub_id) == 0) ||
	    (m->in_reply_to != NULL && strcmp(m->in_reply_to, m->hub_id) ==
	    0)) {
		cause_set(cause, "store_insert %s: a message cannot derive "
		    "from or answer itself", m->hub_id);
		return (-1);
	}
	for (i = 0; i < nr; i++) {
		if (!store_nonempty(r[i].org) || r[i].reason == NULL) {
			cause_set(cause, "store_insert %s: recipient %zu has "
			    "no organisation or reason", m->hub_id, i);
			return (-1);
		}
		if (!store_form_valid(r[i].form)) {
			cause_set(cause, "store_insert %s: recipient %s has "
			    "unknown form %d", m->hub_id, r[i].org, r[i].form);
			return (-1);
		}
	}

	/*
	 * The digest and the seal are defined here once rather than by
	 * each backend, which stores the sealed copy only.
	 */
	k = &s->keys->v[0];
	if (m->body_len > SIZE_MAX - STORE_SEAL_OVERHEAD ||
	    store_grow(&s->sealed, &s->capsealed,
	    m->body_len + STORE_SEAL_OVERHEAD) == -1) {
		cause_set(cause, "store_insert %s: out of memory sealing "
		    "%zu bytes", m->hub_id, m->body_len);
		return (-1);
	}
	crypto_generichash(digest, sizeof(digest), m->body, m->body_len,
	    k->digest, sizeof(k->digest));
	store_seal(k, m->hub_id, m->sender, m->body, m->body_len, s->sealed);
	sealed = *m;
	sealed.body = s->sealed;
	sealed.body_len = m->body_len + STORE_SEAL_OVERHEAD;
	rv = s->be->insert(s->be_data, &sealed, digest, k->id, r, nr, cause);
	m->seq = sealed.seq;
	return (rv);
}

/* One request of the open group begins; see store_item_undo. */
int
store_item_begin(struct store *s, bool isolate, char **cause)
{
	if (store_enter(s, "store_item_begin", cause) == -1)
		return (-1);
	if (!s->in_txn) {
		cause_set(cause, "store_item_begin without a transaction");
		return (-1);
	}
	return (s->be->item(s->be_data, 0, isolate, cause));
}

/* The request's writes are all in: they stay with the group. */
int
store_item_end(struct store *s, char **cause)
{
	if (store_enter(s, "store_item_end", cause) == -1 || !s->in_txn)
		return (-1);
	return (s->be->item(s->be_data, 1, false, cause));
}

/* Take back what the request wrote: 0 if the group goes on without it. */
int
store_item_undo(struct store *s)
{
	if (s == NULL || s->in_callback || !s->in_txn)
		return (-1);
	return (s->be->item(s->be_data, 2, false, NULL));
}

/* Make the group durable; the hub acknowledges only after this succeeds. */
int
store_commit(struct store *s, char **cause)
{
	if (store_enter(s, "store_commit", cause) == -1)
		return (-1);
	if (!s->in_txn) {
		cause_set(cause, "store_commit without a transaction");
		return (-1);
	}
	/* Either way the transaction is over: a failed commit rolled back. */
	s->in_txn = false;
	return (s->be->commit(s->be_data, cause));
}

/* Abandon the open group, if any; safe to call when none is open. */
void
store_rollback(struct store *s)
{
	if (s == NULL || s->in_callback || !s->in_txn)
		return;
	s->in_txn = false;
	s->be->rollback(s->be_data);
}

/* Walk recipient's unacknowledged deliveries after a cursor, in order. */
int
store_pending(struct store *s, const char *recipient, uint64_t after,
    size_t limit, store_delivery_cb cb, void *arg, char **cause)
{
	return (store_pending_upto(s, recipient, after, UINT64_MAX, limit, cb,
	    arg, cause));
}

int
store_pending_upto(struct store *s, const char *recipient, uint64_t after,
    uint64_t upto, size_t limit, store_delivery_cb cb, void *arg,
    char **cause)
{
	struct store_viewer	 v = { .s = s, .cb = cb, .arg = arg };
	int			 rv;

	if (store_enter(s, "store_pending", cause) == -1)
		return (-1);
	if (!store_nonempty(recipient)) {
		cause_set(cause, "store_pending: empty recipient");
		return (-1);
	}
	s->in_callback = true;
	rv = s->be->pending(s->be_data, recipient, after, upto, limit,
	    store_view, &v, cause);
	s->in_callback = false;
	return (rv);
}

/* Record a recipient's acknowledgements, counting the new ones. */
int
store_ack(struct store *s, const char *recipient, const uint64_t *seqs,
    size_t n, int64_t now, size_t *nacked, char **cause)
{
	return (store_ack_sent(s, recipient, seqs, NULL, n, now, nacked,
	    cause));
}

int
store_ack_sent(struct store *s, const char *recipient, const uint64_t *seqs,
    const int64_t *sent, size_t n, int64_t now, size_t *nacked, char **cause)
{
	*nacked = 0;
	if (store_enter(s, "store_ack", cause) == -1)
		return (-1);
	if (!store_nonempty(recipient)) {
		cause_set(cause, "store_ack: empty recipient");
		return (-1);
	}
	/* 0 means "not acknowledged" to readers, so it cannot be a time. */
	if (now <= 0) {
		cause_set(cause, "store_ack: acknowledgement time %lld is "
		    "not positive", (long long)now);
		return (-1);
	}
	if (n == 0)
		return (0);
	return (s->be->ack(s->be_data, recipient, seqs, sent, n, now, nacked,
	    cause));
}

/* Show one message as org may see it, or say it may not. */
int
store_fetch(struct store *s, const char *org, const char *hub_id,
    store_delivery_cb cb, void *arg, char **cause)
{
	struct store_viewer	 v = { .s = s, .cb = cb, .arg = arg };
	int			 rv;

	if (store_enter(s, "store_fetch", cause) == -1)
		return (-1);
	if (!store_nonempty(org) || !store_nonempty(hub_id)) {
		cause_set(cause, "store_fetch: empty organisation or hub_id");
		return (-1);
	}
	s->in_callback = true;
	rv = s->be->fetch(s->be_data, org, hub_id, store_view, &v, cause);
	s->in_callback = false;
	return (rv);
}

/* Report a recipient's last cursor and unacknowledged count. */
int
store_inbox_state(struct store *s, const char *recipient, uint64_t *last_seq,
    uint64_t *pending, char **cause)
{
	if (store_enter(s, "store_inbox_state", cause) == -1)
		return (-1);
	if (!store_nonempty(recipient)) {
		cause_set(cause, "store_inbox_state: empty recipient");
		return (-1);
	}
	return (s->be->inbox_state(s->be_data, recipient, last_seq, pending,
	    cause));
}

/* Count the deliveries held for review; the oldest's receipt time. */
int
store_held_count(struct store *s, uint64_t *n, int64_t *oldest, char **cause)
{
	if (store_enter(s, "store_held_count", cause) == -1)
		return (-1);
	return (s->be->held_count(s->be_data, n, oldest, cause));
}

/* Record the first time recipient's delivery seq went out. */
int
store_mark_delivered(struct store *s, const char *recipient, uint64_t seq,
    int64_t now, char **cause)
{
	if (store_enter(s, "store_mark_delivered", cause) == -1)
		return (-1);
	if (!store_nonempty(recipient)) {
		cause_set(cause, "store_mark_delivered: empty recipient");
		return (-1);
	}
	/* 0 means "never delivered" to readers, so it cannot be a time. */
	if (now <= 0) {
		cause_set(cause, "store_mark_delivered: time %lld is not "
		    "positive", (long long)now);
		return (-1);
	}
	/* No delivery has such a seq; like an unknown one, mark nothing. */
	if (seq == 0 || seq > INT64_MAX)
		return (0);
	return (s->be->mark_delivered(s->be_data, recipient, seq, now, cause));
}

/* Record that holder forwarded its delivery of hub_id. */
int
store_mark_forwarded(struct store *s, const char *holder, const char *hub_id,
    int64_t now, char **cause)
{
	if (store_enter(s, "store_mark_forwarded", cause) == -1)
		return (-1);
	if (!store_nonempty(holder) || !store_nonempty(hub_id)) {
		cause_set(cause, "store_mark_forwarded: empty holder or "
		    "hub_id");
		return (-1);
	}
	if (now <= 0) {
		cause_set(cause, "store_mark_forwarded: time %lld is not "
		    "positive", (long long)now);
		return (-1);
	}
	return (s->be->mark_forwarded(s->be_data, holder, hub_id, now, cause));
}

/* Show the message hub_id as the hub itself keeps it. */
int
store_message(struct store *s, const char *hub_id, store_delivery_cb cb,
    void *arg, char **cause)
{
	struct store_viewer	 v = { .s = s, .cb = cb, .arg = arg };
	int			 rv;

	if (store_enter(s, "store_message", cause) == -1)
		return (-1);
	if (!store_nonempty(hub_id) || cb == NULL) {
		cause_set(cause, "store_message: empty hub_id or no "
		    "callback");
		return (-1);
	}
	s->in_callback = true;
	rv = s->be->message(s->be_data, hub_id, store_view, &v, cause);
	s->in_callback = false;
	return (rv);
}

/* Show org's own delivery of hub_id, without the sender's view. */
int
store_delivery_of(struct store *s, const char *org, const char *hub_id,
    store_delivery_cb cb, void *arg, char **cause)
{
	struct store_viewer	 v = { .s = s, .cb = cb, .arg = arg };
	int			 rv;

	if (store_enter(s, "store_delivery_of", cause) == -1)
		return (-1);
	if (!store_nonempty(org) || !store_nonempty(hub_id) || cb == NULL) {
		cause_set(cause, "store_delivery_of: empty organisation or "
		    "hub_id, or no callback");
		return (-1);
	}
	s->in_callback = true;
	rv = s->be->delivery_of(s->be_data, org, hub_id, store_view, &v,
	    cause);
	s->in_callback = false;
	return (rv);
}

/* Walk what waits for org's review, oldest first. */
int
store_held(struct store *s, const char *org, store_delivery_cb cb, void *arg,
    char **cause)
{
	struct store_viewer	 v = { .s = s, .cb = cb, .arg = arg };
	int			 rv;

	if (store_enter(s, "store_held", cause) == -1)
		return (-1);
	if (!store_nonempty(org) || cb == NULL) {
		cause_set(cause, "store_held: empty organisation or no "
		    "callback");
		return (-1);
	}
	s->in_callback = true;
	rv = s->be->held(s->be_data, org, store_view, &v, cause);
	s->in_callback = false;
	return (rv);
}

/* Walk every delivery of an original and its derived forms, by hop. */
int
store_receipts(struct store *s, const char *hub_id, store_delivery_cb cb,
    void *arg, char **cause)
{
	struct store_viewer	 v = { .s = s, .cb = cb, .arg = arg };
	int			 rv;

	if (store_enter(s, "store_receipts", cause) == -1)
		return (-1);
	if (!store_nonempty(hub_id) || cb == NULL) {
		cause_set(cause, "store_receipts: empty hub_id or no "
		    "callback");
		return (-1);
	}
	s->in_callback = true;
	rv = s->be->receipts(s->be_data, hub_id, store_view, &v, cause);
	s->in_callback = false;
	return (rv);
}

/* Count sender's reports of a chain, for the revision a follow-up needs. */
int
store_chain_count(struct store *s, const char *sender, const char *chain_id,
    uint64_t *n, char **cause)
{
	if (store_enter(s, "store_chain_count", cause) == -1)
		return (-1);
	if (!store_nonempty(sender) || !store_nonempty(chain_id) ||
	    n == NULL) {
		cause_set(cause, "store_chain_count: empty sender or chain_id");
		return (-1);
	}
	*n = 0;
	return (s->be->chain_count(s->be_data, sender, chain_id, n, cause));
}

/* Walk the messages that answer hub_id, in order. */
int
store_replies(struct store *s, const char *hub_id, store_delivery_cb cb,
    void *arg, char **cause)
{
	struct store_viewer	 v = { .s = s, .cb = cb, .arg = arg };
	int			 rv;

	if (store_enter(s, "store_replies", cause) == -1)
		return (-1);
	if (!store_nonempty(hub_id) || cb == NULL) {
		cause_set(cause, "store_replies: empty hub_id or no "
		    "callback");
		return (-1);
	}
	s->in_callback = true;
	rv = s->be->replies(s->be_data, hub_id, store_view, &v, cause);
	s->in_callback = false;
	return (rv);
}

/* Record the reporter's widened sharing range for its original. */
int
store_set_sharing(struct store *s, const char *hub_id, const uint8_t *packed,
    size_t len, char **cause)
{
	if (store_enter(s, "store_set_sharing", cause) == -1)
		return (-1);
	if (!store_nonempty(hub_id)) {
		cause_set(cause, "store_set_sharing: empty hub_id");
		return (-1);
	}
	/* NULL with 0 is an empty packed range, all fields default. */
	if (packed == NULL && len != 0) {
		cause_set(cause, "store_set_sharing %s: range is NULL",
		    hub_id);
		return (-1);
	}
	return (s->be->set_sharing(s->be_data, hub_id, packed, len, cause));
}

/*
 * Commit without syncing from now on; store_sync makes it durable.  A
 * backend without pipelining goes on committing durably, which is what
 * the caller needs too: every store_sync then finds nothing to do.
 */
int
store_pipeline(struct store *s, char **cause)
{
	if (store_enter(s, "store_pipeline", cause) == -1)
		return (-1);
	if (s->be->pipeline == NULL)
		return (0);
	return (s->be->pipeline(s->be_data, cause));
}

/*
 * Called from the sync thread, concurrently with the event loop's use of
 * the store: it touches only what the backend keeps for the thread.
 */
int
store_sync(struct store *s, bool full, char **cause)
{
	if (s->be->pipeline == NULL || s->be->sync == NULL)
		return (0);
	return (s->be->sync(s->be_data, full, cause));
}

/* Bound what the next sync covers, where the backend has such a bound. */
void
store_checkpoint(struct store *s, uint64_t limit)
{
	if (s->be->checkpoint != NULL)
		s->be->checkpoint(s->be_data, limit);
}

/* Remove messages whose sync failed, with their deliveries. */
int
store_undo(struct store *s, const uint64_t *seqs, size_t n, char **cause)
{
	if (store_enter(s, "store_undo", cause) == -1)
		return (-1);
	if (s->in_txn) {
		cause_set(cause, "store_undo inside a transaction");
		return (-1);
	}
	/* Without pipelining no sync can fail after a commit returned. */
	if (n == 0 || s->be->pipeline == NULL)
		return (0);
	return (s->be->undo(s->be_data, seqs, n, cause));
}
