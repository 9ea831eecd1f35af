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
/*
 * With keys held elsewhere, an inbox is read in pages opened in one
 * request each: the first of this many bytes of bodies, each next one
 * twice as large, up to the last.  A reader that stops early (its
 * connection's buffer is full) then costs the opening of one small page,
 * not of a whole deliver_batch of large bodies.
 */
#define STORE_PAGE_FIRST	(256 * 1024)
#define STORE_PAGE_MAX		(8 * 1024 * 1024)
/* Bodies re-sealed per transaction: one fsync each, short write locks. */
#define STORE_RESEAL_BATCH	256

/* One key, in locked memory: only what is derived from the key file. */
struct store_key {
	uint32_t	 id;
	unsigned char	 seal[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	unsigned char	 digest[crypto_generichash_KEYBYTES];
};

struct store_keys {
	struct store_key	*v;	/* locked; v[0] is current; or NULL */
	/* Keys held elsewhere (the privsep parent): their ids and sealer. */
	uint32_t		*ids;
	store_seal_fn		 remote;
	char			**paths;	/* where each came from */
	size_t			 n;
};

/*
 * A body this process sealed or had opened lately, with keys held
 * elsewhere: a message fanned out to ten inboxes is then opened once,
 * not ten times, and one just stored not at all.  An entry serves only a
 * row of its hub_id whose stored body is, byte for byte, the sealed body
 * it came from (check), so an altered or moved body still goes to the
 * keys' holder, which refuses it.
 */
struct store_plain {
	char		 hub_id[STORE_HUB_ID_LEN];
	unsigned char	 check[32];	/* hash of the sealed body */
	uint8_t		*plain;		/* NULL: a free slot */
	size_t		 len;
	unsigned char	 digest[32];
	uint32_t	 key_id;
};
#define STORE_PLAIN_SLOTS	512
#define STORE_PLAIN_BODY_MAX	(256 * 1024)
#define STORE_PLAIN_BYTES	(8 * 1024 * 1024)

/* A body store_preseal sealed ahead of its insert. */
struct store_presealed {
	unsigned char	 check[32];	/* hash of hub_id, sender and body */
	uint8_t		*out;		/* the sealed body; NULL once taken */
	size_t		 out_len;
	unsigned char	 digest[32];
	uint32_t	 key_id;
};

struct store {
	const struct store_backend	*be;
	void				*be_data;
	bool				 in_txn;
	/* Set while a backend runs a caller's callback; see store_enter. */
	bool				 in_callback;
	struct store_keys		*keys;
	uint64_t			 stale;	/* old keys' at open */
	/* Bodies of the open group sealed ahead (keys held elsewhere). */
	struct store_presealed		*pre;
	size_t				 npre;
	/* Bodies sealed or opened lately (keys held elsewhere). */
	struct store_plain		*plain;
	size_t				 plain_bytes;
	size_t				 plain_hand;	/* next to evict */
	uint64_t			 plain_hits;
	/* Why a row's body did not open, for its callback. */
	char				 body_error[256];
	/*
	 * Marks made in groups not yet durable, oldest first, with what
	 * they replaced: store_undo takes them back with their messages.
	 */
	struct store_mark		*marks;
	size_t				 nmarks, capmarks;
	size_t				 group_marks;	/* before the open group */
	size_t				 item_marks;	/* before the open request */
	uint64_t			 item_seq;	/* its first message; 0 none */
	bool				 pipelined;	/* commits wait for store_sync */
};

/*
 * One mark of a group: a forwarded mark it set, or a range it replaced
 * (old, oldlen: the one before; had false: none).  seq is the first
 * message the same request inserted, by which store_undo finds it.
 */
struct store_mark {
	uint64_t	 seq;
	bool		 sharing;
	char		*holder;
	char		*hub_id;
	bool		 had;
	uint8_t		*old;
	size_t		 oldlen;
};

/*
 * A caller's callback, called by store_view with opened bodies.  With
 * keys held elsewhere the rows are copied as the backend walks them and
 * opened in one batch afterwards (store_view_end): one round trip per
 * walk, not one per row.
 */
struct store_viewer {
	struct store		*s;
	store_delivery_cb	 cb;
	void			*arg;
	struct store_delivery	**rows;
	size_t			 nrows, caprows;
	bool			 nomem;
	/*
	 * A page of store_pending: stop keeping rows once their bodies
	 * pass budget bytes (0: no limit), and say so in full; stopped
	 * says the callback asked to stop.
	 */
	size_t			 budget, bytes;
	bool			 full, stopped;
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

/* The id of the i-th key, held here or elsewhere. */
static uint32_t
store_keys_id(const struct store_keys *keys, size_t i)
{
	return (keys->remote != NULL ? keys->ids[i] : keys->v[i].id);
}

/* Whether the key with id is loaded (here or where the keys are). */
static bool
store_keys_have(const struct store_keys *keys, uint32_t id)
{
	size_t	 i;

	for (i = 0; i < keys->n; i++)
		if (store_keys_id(keys, i) == id)
			return (true);
	return (false);
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

/* Keys held elsewhere: their paths and ids, and who seals with them. */
struct store_keys *
store_keys_remote(const char *current, const char *old, const uint32_t *ids,
    size_t nids, store_seal_fn fn, char **cause)
{
	struct store_keys	*keys;

	if (current == NULL || *current == '\0') {
		cause_set(cause, "no store_key is configured");
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
	if (keys->n != nids || nids == 0) {
		cause_set(cause, "store keys: %zu key files are configured, "
		    "but %zu keys are held", keys->n, nids);
		goto fail;
	}
	if ((keys->ids = calloc(nids, sizeof(*keys->ids))) == NULL) {
		cause_set(cause, "store keys: out of memory");
		goto fail;
	}
	memcpy(keys->ids, ids, nids * sizeof(*ids));
	keys->remote = fn;
	return (keys);
fail:
	store_keys_free(keys);
	return (NULL);
}

/* The ids of the keys, current first. */
size_t
store_keys_ids(const struct store_keys *keys, uint32_t *ids, size_t max)
{
	size_t	 i;

	for (i = 0; i < keys->n && i < max; i++)
		ids[i] = store_keys_id(keys, i);
	return (keys->n);
}

/* Wipe and free the keys. */
void
store_keys_free(struct store_keys *keys)
{
	size_t	 i;

	if (keys == NULL)
		return;
	sodium_free(keys->v);	/* wipes the pages, even read-only ones */
	free(keys->ids);
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

/* The key id a stored body names in its header (at least 5 bytes). */
static uint32_t
store_body_key_id(const uint8_t *body)
{
	return ((uint32_t)body[1] << 24 | (uint32_t)body[2] << 16 |
	    (uint32_t)body[3] << 8 | (uint32_t)body[4]);
}

/* Open one stored body with keys held here; see store_seal_item. */
static void
store_open_one(const struct store_keys *keys, struct store_seal_item *it)
{
	const struct store_key	*k;
	unsigned char		 ad[STORE_SEAL_AD];
	size_t			 len;

	it->out = NULL;
	it->out_len = 0;
	it->key_id = 0;
	if (it->in == NULL || it->in_len < STORE_SEAL_OVERHEAD) {
		it->error = STORE_OPEN_SHORT;
		return;
	}
	if (it->in[0] != STORE_SEAL_VERSION) {
		it->error = STORE_OPEN_VERSION;
		return;
	}
	it->key_id = store_body_key_id(it->in);
	if ((k = store_key_find(keys, it->key_id)) == NULL) {
		it->error = STORE_OPEN_NOKEY;
		return;
	}
	len = it->in_len - STORE_SEAL_OVERHEAD;
	if ((it->out = malloc(len + 1)) == NULL) {
		it->error = STORE_OPEN_NOMEM;
		return;
	}
	store_seal_ad(ad, it->in, it->hub_id, it->sender);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(it->out, NULL, NULL,
	    it->in + STORE_SEAL_HEADER, it->in_len - STORE_SEAL_HEADER, ad,
	    sizeof(ad), it->in + 5, k->seal) != 0) {
		free(it->out);
		it->out = NULL;
		it->error = STORE_OPEN_ALTERED;
		return;
	}
	it->out_len = len;
	crypto_generichash(it->digest, sizeof(it->digest), it->out, len,
	    k->digest, sizeof(k->digest));
	it->error = STORE_OPEN_OK;
}

/* Wipe and free what a batch's items hold in out. */
static void
store_items_clear(struct store_seal_item *v, size_t n)
{
	size_t	 i;

	for (i = 0; v != NULL && i < n; i++) {
		if (v[i].out != NULL)
			sodium_memzero(v[i].out, v[i].out_len);
		free(v[i].out);
		v[i].out = NULL;
		v[i].out_len = 0;
	}
}

/* Seal a batch under the current key, here or where the keys are. */
int
store_keys_seal(const struct store_keys *keys, struct store_seal_item *v,
    size_t n, char **cause)
{
	const struct store_key	*k;
	size_t			 i;

	if (keys->remote != NULL)
		return (keys->remote(STORE_SEAL_OP_SEAL, v, n, cause));
	k = &keys->v[0];
	for (i = 0; i < n; i++) {
		v[i].error = STORE_OPEN_OK;
		v[i].key_id = k->id;
		v[i].out = NULL;
		v[i].out_len = 0;
		if (v[i].in == NULL && v[i].in_len != 0)
			goto fail;
		if (v[i].in_len > SIZE_MAX - STORE_SEAL_OVERHEAD ||
		    (v[i].out = malloc(v[i].in_len + STORE_SEAL_OVERHEAD)) ==
		    NULL)
			goto fail;
		v[i].out_len = v[i].in_len + STORE_SEAL_OVERHEAD;
		crypto_generichash(v[i].digest, sizeof(v[i].digest), v[i].in,
		    v[i].in_len, k->digest, sizeof(k->digest));
		store_seal(k, v[i].hub_id, v[i].sender, v[i].in, v[i].in_len,
		    v[i].out);
	}
	return (0);
fail:
	cause_set(cause, "store: out of memory sealing %zu bytes of %s",
	    v[i].in_len, v[i].hub_id);
	store_items_clear(v, i);
	return (-1);
}

/* Open a batch, here or where the keys are; per-item errors in error. */
int
store_keys_open(const struct store_keys *keys, struct store_seal_item *v,
    size_t n, char **cause)
{
	size_t	 i;

	if (keys->remote != NULL)
		return (keys->remote(STORE_SEAL_OP_OPEN, v, n, cause));
	for (i = 0; i < n; i++)
		store_open_one(keys, &v[i]);
	return (0);
}

/* Why a body did not open, as a sentence for logs and callbacks. */
static void
store_open_why(const struct store_seal_item *it, char *buf, size_t len)
{
	switch (it->error) {
	case STORE_OPEN_SHORT:
		snprintf(buf, len, "the stored body of %s is %zu bytes, too "
		    "short to be sealed", it->hub_id, it->in_len);
		break;
	case STORE_OPEN_VERSION:
		snprintf(buf, len, "the stored body of %s has seal version "
		    "%u; this ceptoard knows %d", it->hub_id, it->in[0],
		    STORE_SEAL_VERSION);
		break;
	case STORE_OPEN_NOKEY:
		snprintf(buf, len, "the stored body of %s is sealed under key "
		    "%08x, which is neither store_key nor in store_old_keys",
		    it->hub_id, store_body_key_id(it->in));
		break;
	case STORE_OPEN_ALTERED:
		snprintf(buf, len, "the stored body of %s does not open under "
		    "key %08x: it was altered, or copied from another message",
		    it->hub_id, store_body_key_id(it->in));
		break;
	default:
		snprintf(buf, len, "out of memory opening the body of %s "
		    "(%zu bytes)", it->hub_id, it->in_len);
		break;
	}
}

/* Give cb the row d with its body opened as it says (or not). */
static int
store_view_call(struct store_viewer *v, const struct store_delivery *d,
    const struct store_seal_item *it)
{
	struct store_delivery	 open = *d;

	if (it->error != STORE_OPEN_OK) {
		store_open_why(it, v->s->body_error, sizeof(v->s->body_error));
		open.body = NULL;
		open.body_len = 0;
		open.body_error = v->s->body_error;
	} else {
		open.body = it->out;
		open.body_len = it->out_len;
	}
	return (v->cb(&open, v->arg));
}

/* Copy *p (if not NULL) into *dst, advancing it; the copy or NULL. */
static const char *
store_row_str(char **dst, const char *p)
{
	char	*r = *dst;
	size_t	 len;

	if (p == NULL)
		return (NULL);
	len = strlen(p) + 1;
	memcpy(r, p, len);
	*dst += len;
	return (r);
}

/* A copy of a row in one allocation, to outlive the backend's walk. */
static struct store_delivery *
store_row_copy(const struct store_delivery *d)
{
	const char		*strs[] = { d->recipient, d->hub_id,
				    d->sender, d->reason, d->origin,
				    d->chain_id, d->in_reply_to, d->kind,
				    d->body_error };
	struct store_delivery	*c;
	size_t			 size = sizeof(*c) + d->body_len +
				    d->sharing_len, i;
	char			*p;

	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strs[i] != NULL)
			size += strlen(strs[i]) + 1;
	if ((c = malloc(size)) == NULL)
		return (NULL);
	*c = *d;
	p = (char *)(c + 1);
	if (d->body != NULL) {
		memcpy(p, d->body, d->body_len);
		c->body = (const uint8_t *)p;
		p += d->body_len;
	}
	if (d->sharing != NULL) {
		memcpy(p, d->sharing, d->sharing_len);
		c->sharing = (const uint8_t *)p;
		p += d->sharing_len;
	}
	c->recipient = store_row_str(&p, d->recipient);
	c->hub_id = store_row_str(&p, d->hub_id);
	c->sender = store_row_str(&p, d->sender);
	c->reason = store_row_str(&p, d->reason);
	c->origin = store_row_str(&p, d->origin);
	c->chain_id = store_row_str(&p, d->chain_id);
	c->in_reply_to = store_row_str(&p, d->in_reply_to);
	c->kind = store_row_str(&p, d->kind);
	c->body_error = store_row_str(&p, d->body_error);
	return (c);
}

/*
 * Give the caller's callback a row with its body opened, and wipe the
 * plaintext when it returns.  A body that does not open reaches the
 * callback as NULL with body_error set, so that one damaged row neither
 * stops an inbox nor is shown as an empty message.  With keys held
 * elsewhere the row is kept for store_view_end instead.
 */
static int
store_view(const struct store_delivery *d, void *arg)
{
	struct store_viewer	*v = arg;
	struct store		*s = v->s;
	struct store_delivery	**nv;
	struct store_seal_item	 it;
	size_t			 ncap;
	int			 rv;

	if (s->keys->remote != NULL) {
		if (v->nrows == v->caprows) {
			ncap = v->caprows == 0 ? 16 : v->caprows * 2;
			if ((nv = reallocarray(v->rows, ncap,
			    sizeof(*nv))) == NULL) {
				v->nomem = true;
				return (1);
			}
			v->rows = nv;
			v->caprows = ncap;
		}
		if ((v->rows[v->nrows] = store_row_copy(d)) == NULL) {
			v->nomem = true;
			return (1);
		}
		v->nrows++;
		v->bytes += d->body_len;
		if (v->budget > 0 && v->bytes >= v->budget) {
			v->full = true;
			return (1);
		}
		return (0);
	}
	if (d->body == NULL)
		return (v->cb(d, v->arg));
	memset(&it, 0, sizeof(it));
	it.hub_id = d->hub_id;
	it.sender = d->sender;
	it.in = d->body;
	it.in_len = d->body_len;
	store_open_one(s->keys, &it);
	rv = store_view_call(v, d, &it);
	store_items_clear(&it, 1);
	return (rv);
}

/* Wipe and free a slot of the cache of plaintexts. */
static void
store_plain_drop(struct store *s, struct store_plain *e)
{
	if (e->plain == NULL)
		return;
	sodium_memzero(e->plain, e->len);
	free(e->plain);
	s->plain_bytes -= e->len;
	memset(e, 0, sizeof(*e));
}

/* The slot of hub_id in the cache of plaintexts. */
static struct store_plain *
store_plain_slot(struct store *s, const char *hub_id)
{
	unsigned char	 h[8];
	uint64_t	 x = 0;
	size_t		 i;

	crypto_generichash(h, sizeof(h), (const unsigned char *)hub_id,
	    strlen(hub_id), NULL, 0);
	for (i = 0; i < sizeof(h); i++)
		x = x << 8 | h[i];
	return (&s->plain[x % STORE_PLAIN_SLOTS]);
}

/* Keep the plaintext of the sealed body of hub_id (best effort). */
static void
store_plain_put(struct store *s, const char *hub_id, const uint8_t *sealed,
    size_t sealed_len, const struct store_seal_item *it, const uint8_t *p,
    size_t len)
{
	struct store_plain	*e;
	size_t			 k;

	if (s->keys->remote == NULL || len > STORE_PLAIN_BODY_MAX ||
	    strlen(hub_id) >= STORE_HUB_ID_LEN)
		return;
	if (s->plain == NULL &&
	    (s->plain = calloc(STORE_PLAIN_SLOTS, sizeof(*s->plain))) == NULL)
		return;
	e = store_plain_slot(s, hub_id);
	store_plain_drop(s, e);
	/* Over the bound: evict round the table until it fits. */
	for (k = 0; k < STORE_PLAIN_SLOTS &&
	    s->plain_bytes + len > STORE_PLAIN_BYTES; k++) {
		store_plain_drop(s, &s->plain[s->plain_hand]);
		s->plain_hand = (s->plain_hand + 1) % STORE_PLAIN_SLOTS;
	}
	if ((e->plain = malloc(len + 1)) == NULL)
		return;
	if (len > 0)
		memcpy(e->plain, p, len);
	e->len = len;
	snprintf(e->hub_id, sizeof(e->hub_id), "%s", hub_id);
	crypto_generichash(e->check, sizeof(e->check), sealed, sealed_len,
	    NULL, 0);
	memcpy(e->digest, it->digest, sizeof(e->digest));
	e->key_id = it->key_id;
	s->plain_bytes += len;
}

/* Answer it from the cache of plaintexts: 0, or -1 if it is not there. */
static int
store_plain_get(struct store *s, struct store_seal_item *it)
{
	struct store_plain	*e;
	unsigned char		 check[32];

	if (s->plain == NULL)
		return (-1);
	e = store_plain_slot(s, it->hub_id);
	if (e->plain == NULL || strcmp(e->hub_id, it->hub_id) != 0)
		return (-1);
	crypto_generichash(check, sizeof(check), it->in, it->in_len, NULL, 0);
	if (sodium_memcmp(check, e->check, sizeof(check)) != 0 ||
	    (it->out = malloc(e->len + 1)) == NULL)
		return (-1);
	if (e->len > 0)
		memcpy(it->out, e->plain, e->len);
	it->out_len = e->len;
	memcpy(it->digest, e->digest, sizeof(it->digest));
	it->key_id = e->key_id;
	it->error = STORE_OPEN_OK;
	s->plain_hits++;
	return (0);
}

/* Empty the cache of plaintexts. */
static void
store_plain_clear(struct store *s)
{
	size_t	 i;

	for (i = 0; s->plain != NULL && i < STORE_PLAIN_SLOTS; i++)
		store_plain_drop(s, &s->plain[i]);
	free(s->plain);
	s->plain = NULL;
}

/*
 * Open the n items of a walk: from the cache of plaintexts where it has
 * them, the rest in one request, which are then kept in the cache.
 */
static int
store_view_open(struct store *s, struct store_seal_item *items, size_t n,
    char **cause)
{
	struct store_seal_item	*miss;
	size_t			*at, i, m = 0;
	int			 rv = 0;

	if (s->keys->remote == NULL)
		return (store_keys_open(s->keys, items, n, cause));
	if ((miss = calloc(n, sizeof(*miss))) == NULL ||
	    (at = calloc(n, sizeof(*at))) == NULL) {
		free(miss);
		cause_set(cause, "store: out of memory opening %zu rows", n);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (store_plain_get(s, &items[i]) == 0)
			continue;
		miss[m] = items[i];
		at[m++] = i;
	}
	if (m > 0 && (rv = store_keys_open(s->keys, miss, m, cause)) == 0)
		for (i = 0; i < m; i++) {
			items[at[i]] = miss[i];
			if (miss[i].error == STORE_OPEN_OK)
				store_plain_put(s, miss[i].hub_id, miss[i].in,
				    miss[i].in_len, &miss[i], miss[i].out,
				    miss[i].out_len);
		}
	free(miss);
	free(at);
	return (rv);
}

/*
 * After the backend's walk (which returned rv): open the rows store_view
 * kept in one batch and give them to the callback in order, until it
 * says stop.  A batch that cannot be opened at all (the keys' holder
 * does not answer) fails the walk rather than show rows without bodies.
 */
static int
store_view_end(struct store_viewer *v, int rv, char **cause)
{
	struct store_seal_item	*items = NULL;
	size_t			 i, n = 0;

	if (v->nrows == 0 && !v->nomem)
		return (rv);
	if (rv != -1 && v->nomem) {
		cause_set(cause, "store: out of memory keeping %zu rows",
		    v->nrows);
		rv = -1;
	}
	if (rv != -1 && (items = calloc(v->nrows, sizeof(*items))) == NULL) {
		cause_set(cause, "store: out of memory opening %zu rows",
		    v->nrows);
		rv = -1;
	}
	for (i = 0; rv != -1 && i < v->nrows; i++) {
		if (v->rows[i]->body == NULL)
			continue;
		items[n].hub_id = v->rows[i]->hub_id;
		items[n].sender = v->rows[i]->sender;
		items[n].in = v->rows[i]->body;
		items[n].in_len = v->rows[i]->body_len;
		n++;
	}
	if (rv != -1 && n > 0 && store_view_open(v->s, items, n, cause) == -1)
		rv = -1;
	for (i = 0, n = 0; rv != -1 && i < v->nrows; i++) {
		if (v->rows[i]->body == NULL) {
			if (v->cb(v->rows[i], v->arg) != 0) {
				v->stopped = true;
				break;
			}
			continue;
		}
		if (store_view_call(v, v->rows[i], &items[n++]) != 0) {
			v->stopped = true;
			break;
		}
	}
	if (items != NULL) {
		for (i = 0; i < v->nrows; i++)
			store_items_clear(&items[i], 1);
		free(items);
	}
	for (i = 0; i < v->nrows; i++)
		free(v->rows[i]);
	free(v->rows);
	v->rows = NULL;
	v->nrows = v->caprows = 0;
	return (rv);
}

/*
 * The rows of one batch of store_reseal_all, walked under the write
 * lock: copied, then opened (or taken as they are, if an older schema
 * left them unsealed) and sealed again under the current key.
 */
struct store_reseal {
	struct store	*s;
	struct {
		uint64_t	 seq;
		char		*hub_id;
		char		*sender;
		bool		 sealed;
		uint8_t		*body;
		size_t		 len;
	}		*v;
	size_t		 n;
	uint64_t	 last;		/* the highest seq walked */
	bool		 failed;	/* out of memory */
};

/* Keep one stale row of the batch. */
static int
store_reseal_row(uint64_t seq, const char *hub_id, const char *sender,
    bool sealed, const uint8_t *body, size_t body_len, void *arg)
{
	struct store_reseal	*rs = arg;
	size_t			 i = rs->n;

	rs->last = seq;
	rs->v[i].seq = seq;
	rs->v[i].sealed = sealed;
	rs->v[i].len = body_len;
	rs->v[i].hub_id = strdup(hub_id);
	rs->v[i].sender = strdup(sender);
	rs->v[i].body = malloc(body_len + 1);
	rs->n++;
	if (rs->v[i].hub_id == NULL || rs->v[i].sender == NULL ||
	    rs->v[i].body == NULL) {
		rs->failed = true;
		return (1);
	}
	if (body_len > 0)
		memcpy(rs->v[i].body, body, body_len);
	return (0);
}

/* Free the kept rows of a batch, wiping the bodies left in the clear. */
static void
store_reseal_clear(struct store_reseal *rs)
{
	size_t	 i;

	for (i = 0; i < rs->n; i++) {
		if (rs->v[i].body != NULL)
			sodium_memzero(rs->v[i].body, rs->v[i].len);
		free(rs->v[i].body);
		free(rs->v[i].hub_id);
		free(rs->v[i].sender);
	}
	rs->n = 0;
}

/*
 * Seal the kept rows again under the current key: open the sealed ones
 * in one batch, then seal every plaintext in another; into seal.  -1
 * with a cause, nothing left to free in seal.
 */
static int
store_reseal_batch(struct store *s, struct store_reseal *rs,
    struct store_seal_item *open, struct store_seal_item *seal, char **cause)
{
	size_t	 i, n = 0, nopen;
	int	 rv = -1;

	for (i = 0; i < rs->n; i++) {
		if (!rs->v[i].sealed)
			continue;
		memset(&open[n], 0, sizeof(open[n]));
		open[n].hub_id = rs->v[i].hub_id;
		open[n].sender = rs->v[i].sender;
		open[n].in = rs->v[i].body;
		open[n].in_len = rs->v[i].len;
		n++;
	}
	if ((nopen = n) > 0 && store_keys_open(s->keys, open, n, cause) == -1)
		return (-1);
	for (i = 0, n = 0; i < rs->n; i++) {
		memset(&seal[i], 0, sizeof(seal[i]));
		seal[i].hub_id = rs->v[i].hub_id;
		seal[i].sender = rs->v[i].sender;
		seal[i].in = rs->v[i].body;
		seal[i].in_len = rs->v[i].len;
		if (!rs->v[i].sealed)
			continue;
		if (open[n].error != STORE_OPEN_OK) {
			store_open_why(&open[n], s->body_error,
			    sizeof(s->body_error));
			cause_set(cause, "store: cannot seal again: %s",
			    s->body_error);
			goto out;
		}
		seal[i].in = open[n].out;
		seal[i].in_len = open[n].out_len;
		n++;
	}
	rv = store_keys_seal(s->keys, seal, rs->n, cause);
out:
	store_items_clear(open, nopen);
	return (rv);
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
	struct store_seal_item	*open = NULL, *seal = NULL;
	uint64_t		 after = 0;
	uint32_t		 cur = store_key_id(s);
	size_t			 i;
	int			 rv = -1;

	*n = 0;
	memset(&rs, 0, sizeof(rs));
	rs.s = s;
	if ((rs.v = calloc(STORE_RESEAL_BATCH, sizeof(*rs.v))) == NULL ||
	    (open = calloc(STORE_RESEAL_BATCH, sizeof(*open))) == NULL ||
	    (seal = calloc(STORE_RESEAL_BATCH, sizeof(*seal))) == NULL) {
		cause_set(cause, "store: out of memory re-sealing bodies");
		goto out;
	}
	for (;;) {
		store_reseal_clear(&rs);
		rs.failed = false;
		if (s->be->begin(s->be_data, cause) == -1)
			goto out;
		if (s->be->stale(s->be_data, stale, cur, after,
		    STORE_RESEAL_BATCH, store_reseal_row, &rs, cause) == -1)
			goto undo;
		if (rs.failed) {
			cause_set(cause, "store: out of memory re-sealing "
			    "bodies");
			goto undo;
		}
		if (rs.n == 0) {
			s->be->rollback(s->be_data);
			break;
		}
		if (store_reseal_batch(s, &rs, open, seal, cause) == -1)
			goto undo;
		for (i = 0; i < rs.n; i++)
			if (s->be->reseal(s->be_data, rs.v[i].seq,
			    seal[i].out, seal[i].out_len, seal[i].digest,
			    seal[i].key_id, cause) == -1)
				break;
		store_items_clear(seal, rs.n);
		if (i < rs.n)
			goto undo;
		if (s->be->commit(s->be_data, cause) == -1)
			goto out;
		*n += rs.n;
		after = rs.last;
	}
	rv = 0;
	goto out;
undo:
	s->be->rollback(s->be_data);
out:
	store_reseal_clear(&rs);
	free(rs.v);
	free(open);
	free(seal);
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
		if (ids[i] == store_key_id(s))
			continue;
		if (s->be->key_count(s->be_data, ids[i], &count, cause) == -1)
			goto out;
		if (!store_keys_have(s->keys, ids[i])) {
			cause_set(cause, "store %s: %llu message%s sealed "
			    "under key %08x, which is neither store_key (%s, "
			    "key %08x) nor in store_old_keys; list the key "
			    "file that sealed %s in store_old_keys", path,
			    (unsigned long long)count, count == 1 ? " is" :
			    "s are", ids[i], s->keys->paths[0],
			    store_key_id(s), count == 1 ? "it" : "them");
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

/* Drop what store_preseal sealed and no insert took. */
static void
store_preseal_clear(struct store *s)
{
	size_t	 i;

	for (i = 0; i < s->npre; i++)
		free(s->pre[i].out);
	free(s->pre);
	s->pre = NULL;
	s->npre = 0;
}

/* What identifies a body sealed ahead: its row and its plaintext. */
static void
store_preseal_check(const struct store_message *m, unsigned char out[32])
{
	crypto_generichash_state	 st;

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const unsigned char *)m->hub_id,
	    strlen(m->hub_id) + 1);
	crypto_generichash_update(&st, (const unsigned char *)m->sender,
	    strlen(m->sender) + 1);
	if (m->body_len > 0)
		crypto_generichash_update(&st, m->body, m->body_len);
	crypto_generichash_final(&st, out, 32);
}

/* Seal the group's bodies ahead of their inserts, in one batch. */
int
store_preseal(struct store *s, struct store_message *const *m, size_t n,
    char **cause)
{
	struct store_seal_item	*v;
	size_t			 i, k = 0;

	if (store_enter(s, "store_preseal", cause) == -1)
		return (-1);
	store_preseal_clear(s);
	/* Here the keys are at hand: sealing at insert costs the same. */
	if (s->keys->remote == NULL || n == 0)
		return (0);
	if ((v = calloc(n, sizeof(*v))) == NULL ||
	    (s->pre = calloc(n, sizeof(*s->pre))) == NULL) {
		free(v);
		cause_set(cause, "store_preseal: out of memory");
		return (-1);
	}
	for (i = 0; i < n; i++) {
		/* store_insert refuses these; nothing to seal for them. */
		if (m[i]->hub_id[0] == '\0' || memchr(m[i]->hub_id, '\0',
		    STORE_HUB_ID_LEN) == NULL || !store_nonempty(m[i]->sender) ||
		    (m[i]->body == NULL && m[i]->body_len != 0))
			continue;
		v[k].hub_id = m[i]->hub_id;
		v[k].sender = m[i]->sender;
		v[k].in = m[i]->body;
		v[k].in_len = m[i]->body_len;
		store_preseal_check(m[i], s->pre[k].check);
		k++;
	}
	if (k > 0 && store_keys_seal(s->keys, v, k, cause) == -1) {
		free(v);
		store_preseal_clear(s);
		return (-1);
	}
	for (i = 0; i < k; i++) {
		s->pre[i].out = v[i].out;
		s->pre[i].out_len = v[i].out_len;
		memcpy(s->pre[i].digest, v[i].digest, 32);
		s->pre[i].key_id = v[i].key_id;
	}
	s->npre = k;
	free(v);
	return (0);
}

/*
 * The body store_preseal sealed for m, unchanged since, into *it (out
 * handed over): 0, or -1 if there is none.
 */
static int
store_preseal_take(struct store *s, const struct store_message *m,
    struct store_seal_item *it)
{
	unsigned char	 check[32];
	size_t		 i;

	if (s->npre == 0)
		return (-1);
	store_preseal_check(m, check);
	for (i = 0; i < s->npre; i++) {
		if (s->pre[i].out == NULL ||
		    memcmp(s->pre[i].check, check, sizeof(check)) != 0)
			continue;
		memset(it, 0, sizeof(*it));
		it->out = s->pre[i].out;
		it->out_len = s->pre[i].out_len;
		memcpy(it->digest, s->pre[i].digest, 32);
		it->key_id = s->pre[i].key_id;
		s->pre[i].out = NULL;
		return (0);
	}
	return (-1);
}

/* Forget the marks from index from on (durable, or rolled back). */
static void
store_marks_drop(struct store *s, size_t from)
{
	size_t	i;

	for (i = from; i < s->nmarks; i++) {
		free(s->marks[i].holder);
		free(s->marks[i].hub_id);
		free(s->marks[i].old);
	}
	if (from < s->nmarks)
		s->nmarks = from;
	if (s->group_marks > s->nmarks)
		s->group_marks = s->nmarks;
	if (s->item_marks > s->nmarks)
		s->item_marks = s->nmarks;
}

/*
 * Note a mark the open group made, to take it back if its sync fails;
 * old (NULL: none) is the range it replaced.  -1 when out of memory.
 */
static int
store_marks_add(struct store *s, bool sharing, const char *holder,
    const char *hub_id, bool had, const uint8_t *old, size_t oldlen)
{
	struct store_mark	*nv, *m;
	size_t			 cap;

	if (s->nmarks == s->capmarks) {
		cap = s->capmarks ? s->capmarks * 2 : 8;
		if ((nv = reallocarray(s->marks, cap, sizeof(*nv))) == NULL)
			return (-1);
		s->marks = nv;
		s->capmarks = cap;
	}
	m = &s->marks[s->nmarks];
	memset(m, 0, sizeof(*m));
	m->seq = s->item_seq;
	m->sharing = sharing;
	m->had = had;
	if ((holder != NULL && (m->holder = strdup(holder)) == NULL) ||
	    (m->hub_id = strdup(hub_id)) == NULL ||
	    (had && (m->old = malloc(oldlen ? oldlen : 1)) == NULL)) {
		free(m->holder);
		free(m->hub_id);
		return (-1);
	}
	if (had && oldlen > 0)
		memcpy(m->old, old, oldlen);
	m->oldlen = oldlen;
	s->nmarks++;
	return (0);
}

/* Close the store, abandoning a group that was never committed. */
void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->in_txn)
		s->be->rollback(s->be_data);
	store_marks_drop(s, 0);
	free(s->marks);
	s->be->close(s->be_data);
	store_preseal_clear(s);
	store_plain_clear(s);
	store_keys_free(s->keys);
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
	return (store_keys_id(s->keys, 0));
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
	s->group_marks = s->item_marks = s->nmarks;
	s->item_seq = 0;
	return (0);
}

/* Find a sender's earlier submit of uuid, so a retry is not stored twice. */
int
store_lookup_uuid(struct store *s, const char *sender, const char *uuid,
    char hub_id[STORE_HUB_ID_LEN], uint64_t *seq, unsigned char digest[32],
    char **cause)
{
	struct store_seal_item	 it;
	unsigned char		 keyed[32];
	uint8_t			*body = NULL;
	size_t			 body_len = 0;
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
	memset(&it, 0, sizeof(it));
	it.hub_id = hub_id;
	it.sender = sender;
	it.in = body;
	it.in_len = body_len;
	if (store_keys_open(s->keys, &it, 1, cause) == -1)
		goto out;
	if (it.error != STORE_OPEN_OK) {
		store_open_why(&it, s->body_error, sizeof(s->body_error));
		cause_set(cause, "store_lookup_uuid %s of %s: %s", uuid,
		    sender, s->body_error);
		goto out;
	}
	if (sodium_memcmp(it.digest, keyed, sizeof(keyed)) != 0)
		cause_set(cause, "store_lookup_uuid %s of %s: the stored "
		    "digest of %s does not match its body", uuid, sender,
		    hub_id);
	else {
		crypto_generichash(digest, 32, it.out, it.out_len, NULL, 0);
		rv = 1;
	}
	store_items_clear(&it, 1);
out:
	free(body);
	return (rv);
}

/* Check m and its recipients, digest the body, and add it to the group. */
int
store_insert(struct store *s, struct store_message *m,
    struct store_recipient *r, size_t nr, char **cause)
{
	struct store_message	 sealed;
	struct store_seal_item	 it;
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
	if (store_preseal_take(s, m, &it) == -1) {
		memset(&it, 0, sizeof(it));
		it.hub_id = m->hub_id;
		it.sender = m->sender;
		it.in = m->body;
		it.in_len = m->body_len;
		if (store_keys_seal(s->keys, &it, 1, cause) == -1)
			return (-1);
	}
	sealed = *m;
	sealed.body = it.out;
	sealed.body_len = it.out_len;
	rv = s->be->insert(s->be_data, &sealed, it.digest, it.key_id, r, nr,
	    cause);
	m->seq = sealed.seq;
	if (rv == 0 && s->item_seq == 0)
		s->item_seq = m->seq;
	/* Its first readers, one per inbox, need not have it opened. */
	if (rv == 0)
		store_plain_put(s, m->hub_id, it.out, it.out_len, &it, m->body,
		    m->body_len);
	free(it.out);
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
	s->item_marks = s->nmarks;
	s->item_seq = 0;
	return (s->be->item(s->be_data, 0, isolate, cause));
}

/* The request's writes are all in: they stay with the group. */
int
store_item_end(struct store *s, char **cause)
{
	size_t	i;

	if (store_enter(s, "store_item_end", cause) == -1 || !s->in_txn)
		return (-1);
	/* Marks made before the request's first insert go with it too. */
	for (i = s->item_marks; i < s->nmarks; i++)
		if (s->marks[i].seq == 0)
			s->marks[i].seq = s->item_seq;
	return (s->be->item(s->be_data, 1, false, cause));
}

/* Take back what the request wrote: 0 if the group goes on without it. */
int
store_item_undo(struct store *s)
{
	if (s == NULL || s->in_callback || !s->in_txn)
		return (-1);
	/* Its marks went back with its writes. */
	store_marks_drop(s, s->item_marks);
	return (s->be->item(s->be_data, 2, false, NULL));
}

/* Make the group durable; the hub acknowledges only after this succeeds. */
int
store_commit(struct store *s, char **cause)
{
	int	rv;

	if (store_enter(s, "store_commit", cause) == -1)
		return (-1);
	if (!s->in_txn) {
		cause_set(cause, "store_commit without a transaction");
		return (-1);
	}
	/* Either way the transaction is over: a failed commit rolled back. */
	s->in_txn = false;
	store_preseal_clear(s);
	rv = s->be->commit(s->be_data, cause);
	/* Rolled back, or durable already: nothing to take back later. */
	if (rv == -1)
		store_marks_drop(s, s->group_marks);
	else if (!s->pipelined)
		store_marks_drop(s, 0);
	return (rv);
}

/* Abandon the open group, if any; safe to call when none is open. */
void
store_rollback(struct store *s)
{
	if (s == NULL || s->in_callback || !s->in_txn)
		return;
	s->in_txn = false;
	store_preseal_clear(s);
	s->be->rollback(s->be_data);
	store_marks_drop(s, s->group_marks);
}

/* Walk recipient's unacknowledged deliveries after a cursor, in order. */
int
store_pending(struct store *s, const char *recipient, uint64_t after,
    size_t limit, store_delivery_cb cb, void *arg, char **cause)
{
	return (store_pending_upto(s, recipient, after, UINT64_MAX, limit, cb,
	    arg, cause));
}

/* A backend's walk of an inbox: pending, or inbox_read. */
typedef int (*store_inbox_walk)(void *be, const char *recipient,
    uint64_t after, uint64_t upto, size_t limit, store_delivery_cb cb,
    void *arg, char **cause);

/*
 * A walk of an inbox with keys held elsewhere: page by page (see
 * STORE_PAGE_FIRST), each page opened in one request, each next one
 * starting after the last row of the one before, until the callback
 * stops, the rows run out or limit rows were given.
 */
static int
store_pending_pages(struct store *s, store_inbox_walk walk,
    const char *recipient, uint64_t after, uint64_t upto, size_t limit,
    store_delivery_cb cb, void *arg, char **cause)
{
	struct store_viewer	 v;
	size_t			 left = limit == 0 ? SIZE_MAX : limit, n;
	size_t			 budget = STORE_PAGE_FIRST;
	uint64_t		 last;
	int			 rv;

	for (;;) {
		memset(&v, 0, sizeof(v));
		v.s = s;
		v.cb = cb;
		v.arg = arg;
		v.budget = budget;
		s->in_callback = true;
		rv = walk(s->be_data, recipient, after, upto,
		    left == SIZE_MAX ? 0 : left, store_view, &v, cause);
		n = v.nrows;
		last = n > 0 ? v.rows[n - 1]->seq : after;
		rv = store_view_end(&v, rv, cause);
		s->in_callback = false;
		if (rv == -1 || v.stopped || !v.full || n == 0)
			return (rv);
		after = last;
		if (left != SIZE_MAX && (left -= n) == 0)
			return (rv);
		if (budget < STORE_PAGE_MAX)
			budget *= 2;
	}
}

/*
 * Walk recipient's inbox (history: acknowledged deliveries too, with the
 * backend's inbox_read; else its pending), op naming the call in causes: in pages when the keys are elsewhere, so
 * that each page is opened in one request.
 */
static int
store_inbox_walk_view(struct store *s, const char *op, bool history,
    const char *recipient, uint64_t after, uint64_t upto, size_t limit,
    store_delivery_cb cb, void *arg, char **cause)
{
	struct store_viewer	 v = { .s = s, .cb = cb, .arg = arg };
	store_inbox_walk	 walk;
	int			 rv;

	if (store_enter(s, op, cause) == -1)
		return (-1);
	walk = history ? s->be->inbox_read : s->be->pending;
	if (!store_nonempty(recipient)) {
		cause_set(cause, "%s: empty recipient", op);
		return (-1);
	}
	/* Optional: only the TAXII listener reads an inbox's history. */
	if (walk == NULL) {
		cause_set(cause, "%s: the %s backend cannot read an inbox's "
		    "history (taxii_listen needs it)", op, s->be->name);
		return (-1);
	}
	if (s->keys->remote != NULL)
		return (store_pending_pages(s, walk, recipient, after, upto,
		    limit, cb, arg, cause));
	s->in_callback = true;
	rv = walk(s->be_data, recipient, after, upto, limit, store_view, &v,
	    cause);
	rv = store_view_end(&v, rv, cause);
	s->in_callback = false;
	return (rv);
}

int
store_pending_upto(struct store *s, const char *recipient, uint64_t after,
    uint64_t upto, size_t limit, store_delivery_cb cb, void *arg,
    char **cause)
{
	return (store_inbox_walk_view(s, "store_pending", false,
	    recipient, after, upto, limit, cb, arg, cause));
}

/* Count a row without opening its body. */
static int
store_count_row(const struct store_delivery *d, void *arg)
{
	(*(uint64_t *)arg)++;
	return (0);
}

/*
 * A count needs no body: the backend's rows are counted as they come,
 * so that keys held elsewhere are not asked to open any.
 */
int
store_pending_count(struct store *s, const char *recipient, uint64_t after,
    size_t limit, uint64_t *n, char **cause)
{
	int	rv;

	*n = 0;
	if (store_enter(s, "store_pending_count", cause) == -1)
		return (-1);
	if (!store_nonempty(recipient)) {
		cause_set(cause, "store_pending_count: empty recipient");
		return (-1);
	}
	s->in_callback = true;
	rv = s->be->pending(s->be_data, recipient, after, UINT64_MAX, limit,
	    store_count_row, n, cause);
	s->in_callback = false;
	return (rv);
}

/* Read recipient's inbox, acknowledged deliveries included, in order. */
int
store_inbox_read(struct store *s, const char *recipient, uint64_t after,
    uint64_t upto, size_t limit, store_delivery_cb cb, void *arg,
    char **cause)
{
	return (store_inbox_walk_view(s, "store_inbox_read", true,
	    recipient, after, upto, limit, cb, arg, cause));
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
	rv = store_view_end(&v, rv, cause);
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

/* What a mark replaces: a delivery's forwarded time, a range. */
struct store_was {
	bool		 found;
	int64_t		 forwarded_at;
	uint8_t		*sharing;	/* malloc'd copy, or NULL */
	size_t		 sharing_len;
	bool		 nomem;
};

/* Keep what a row had before a mark changes it. */
static int
store_was_row(const struct store_delivery *d, void *arg)
{
	struct store_was	*w = arg;

	w->found = true;
	w->forwarded_at = d->forwarded_at;
	if (d->sharing != NULL) {
		if ((w->sharing = malloc(d->sharing_len ? d->sharing_len : 1))
		    == NULL)
			w->nomem = true;
		else if (d->sharing_len > 0)
			memcpy(w->sharing, d->sharing, d->sharing_len);
		w->sharing_len = d->sharing_len;
	}
	return (1);
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
	struct store_was	 was;
	int			 rv;

	if (now <= 0) {
		cause_set(cause, "store_mark_forwarded: time %lld is not "
		    "positive", (long long)now);
		return (-1);
	}
	if (!s->in_txn)
		return (s->be->mark_forwarded(s->be_data, holder, hub_id, now,
		    cause));
	/* In a group: note it, if it is new, to take it back with it. */
	memset(&was, 0, sizeof(was));
	s->in_callback = true;
	rv = s->be->delivery_of(s->be_data, holder, hub_id, store_was_row,
	    &was, cause);
	s->in_callback = false;
	free(was.sharing);	/* the delivery's range: not this mark's */
	if (rv == -1)
		return (-1);
	if ((rv = s->be->mark_forwarded(s->be_data, holder, hub_id, now,
	    cause)) != 0 || !was.found || was.forwarded_at != 0)
		return (rv);
	if (store_marks_add(s, false, holder, hub_id, false, NULL, 0) == -1) {
		cause_set(cause, "store_mark_forwarded %s: out of memory",
		    hub_id);
		return (-1);
	}
	return (0);
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
	rv = store_view_end(&v, rv, cause);
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
	rv = store_view_end(&v, rv, cause);
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
	rv = store_view_end(&v, rv, cause);
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
	rv = store_view_end(&v, rv, cause);
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
	rv = store_view_end(&v, rv, cause);
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
	struct store_was	 was;
	int			 rv;

	/* NULL with 0 is an empty packed range, all fields default. */
	if (packed == NULL && len != 0) {
		cause_set(cause, "store_set_sharing %s: range is NULL",
		    hub_id);
		return (-1);
	}
	if (!s->in_txn)
		return (s->be->set_sharing(s->be_data, hub_id, packed, len,
		    cause));
	/* In a group: keep the range it replaces, to put it back. */
	memset(&was, 0, sizeof(was));
	s->in_callback = true;
	rv = s->be->message(s->be_data, hub_id, store_was_row, &was, cause);
	s->in_callback = false;
	if (rv != -1 && was.nomem) {
		cause_set(cause, "store_set_sharing %s: out of memory", hub_id);
		rv = -1;
	}
	if (rv != -1)
		rv = s->be->set_sharing(s->be_data, hub_id, packed, len, cause);
	if (rv == 0 && store_marks_add(s, true, NULL, hub_id,
	    was.sharing != NULL, was.sharing, was.sharing_len) == -1) {
		cause_set(cause, "store_set_sharing %s: out of memory", hub_id);
		rv = -1;
	}
	free(was.sharing);
	return (rv);
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
	if (s->be->pipeline(s->be_data, cause) == -1)
		return (-1);
	s->pipelined = true;
	return (0);
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

/* Whether seq is one of seqs[0..n). */
static bool
store_seq_in(uint64_t seq, const uint64_t *seqs, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (seqs[i] == seq)
			return true;
	return false;
}

/*
 * The nearest mark after i of the same range that stays (is not taken
 * back with seqs), or SIZE_MAX: its "before" is what mark i set.
 */
static size_t
store_mark_next(const struct store *s, size_t i, const uint64_t *seqs,
    size_t n)
{
	size_t	j;

	for (j = i + 1; j < s->nmarks; j++)
		if (s->marks[j].sharing && strcmp(s->marks[j].hub_id,
		    s->marks[i].hub_id) == 0 &&
		    !store_seq_in(s->marks[j].seq, seqs, n))
			return j;
	return SIZE_MAX;
}

/*
 * Remove messages whose sync failed, with their deliveries, and take
 * back the marks made with them, newest first.  A range that a later
 * mark (not taken back) replaced again is not put back in the store:
 * that mark now replaces what this one did, so that undoing the groups
 * in any order leaves the range as it was before the first of them.
 */
int
store_undo(struct store *s, const uint64_t *seqs, size_t n, char **cause)
{
	struct store_undo_mark	*um = NULL;
	struct store_mark	*m, *f;
	size_t			 i, j, k, nm = 0;
	int			 rv;

	if (store_enter(s, "store_undo", cause) == -1)
		return (-1);
	if (s->in_txn) {
		cause_set(cause, "store_undo inside a transaction");
		return (-1);
	}
	/* Without pipelining no sync can fail after a commit returned. */
	if (n == 0 || s->be->pipeline == NULL)
		return (0);
	if (s->nmarks > 0 && (um = calloc(s->nmarks, sizeof(*um))) == NULL) {
		cause_set(cause, "store_undo: out of memory");
		return (-1);
	}
	for (i = s->nmarks; i-- > 0; ) {
		m = &s->marks[i];
		if (!store_seq_in(m->seq, seqs, n) || (m->sharing &&
		    store_mark_next(s, i, seqs, n) != SIZE_MAX))
			continue;
		um[nm].sharing = m->sharing;
		um[nm].holder = m->holder;
		um[nm].hub_id = m->hub_id;
		um[nm].old = m->had ? m->old : NULL;
		um[nm].oldlen = m->had ? m->oldlen : 0;
		nm++;
	}
	rv = s->be->undo(s->be_data, seqs, n, um, nm, cause);
	free(um);
	if (rv == -1)
		return (-1);
	/* The store is as before them: hand on what they replaced, drop them. */
	for (i = s->nmarks; i-- > 0; ) {
		m = &s->marks[i];
		if (!store_seq_in(m->seq, seqs, n) || !m->sharing ||
		    (j = store_mark_next(s, i, seqs, n)) == SIZE_MAX)
			continue;
		f = &s->marks[j];
		free(f->old);
		f->old = m->old;
		f->oldlen = m->oldlen;
		f->had = m->had;
		m->old = NULL;
	}
	for (i = 0, k = 0; i < s->nmarks; i++) {
		m = &s->marks[i];
		if (store_seq_in(m->seq, seqs, n)) {
			free(m->holder);
			free(m->hub_id);
			free(m->old);
			continue;
		}
		s->marks[k++] = *m;
	}
	s->nmarks = s->group_marks = s->item_marks = k;
	return (0);
}

void
store_durable(struct store *s, uint64_t seq)
{
	size_t	i, k;

	if (s == NULL || s->in_txn)
		return;
	for (i = 0, k = 0; i < s->nmarks; i++) {
		if (s->marks[i].seq <= seq) {
			free(s->marks[i].holder);
			free(s->marks[i].hub_id);
			free(s->marks[i].old);
			continue;
		}
		s->marks[k++] = s->marks[i];
	}
	s->nmarks = s->group_marks = s->item_marks = k;
}
