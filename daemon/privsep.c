/*
 * Privilege separation, as OpenSMTPD and relayd do it.
 *
 * The parent starts as whoever runs ceptoard (root in production).  It
 * reads the configuration, checks every file, binds the listening socket
 * and keeps the TLS private key; then it executes a fresh copy of itself
 * as the worker, which inherits the socket and a SOCK_SEQPACKET channel.
 * Being a new program image, the worker holds nothing of the parent's
 * memory.  It loads everything but the TLS private key, confines itself
 * (sandbox.c: chroot, user, seccomp) and does all the work: TLS, frames,
 * the store.  When a handshake needs the server's signature, OpenSSL
 * calls the worker's key method, which asks the parent over the channel
 * and blocks for the answer (relayd's ca.c does the same for RSA).
 *
 * The parent parses nothing from the network.  What it reads from the
 * channel is one fixed-size message per datagram, checked whole; a
 * worker that sends anything else is killed.  A worker that dies, by any
 * signal or exit, is started again after a back-off; SIGHUP and SIGTERM
 * reach the worker through the parent.  Clients reconnect and resume
 * from their cursors; what was acknowledged was fsynced before.
 *
 * The anon key stays with the parent too: every pseudonym and anonymised
 * uuid is one keyed hash (anon_keyed_hash), which the worker asks for.
 *
 * So do the store keys.  The worker seals the bodies of a group commit
 * and opens those of a fetch batch in one request each: the bodies go
 * in a memory file (memfd) passed over the channel (SCM_RIGHTS), which
 * the parent copies whole into its own memory before it reads a byte
 * (the worker could still write to the file), checks against fixed
 * bounds, seals or opens with store.c's own functions, and answers in a
 * memory file of its own.  A malformed or oversized request is refused
 * with a log line; the worker's store call then fails like any store
 * error, and nothing it asked for is acknowledged.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <event2/event.h>
#include <sodium.h>

#include "ceptoard.h"

/*
 * EC_KEY_METHOD and RSA_METHOD are deprecated in OpenSSL 3 but remain
 * the way to give libssl a key whose private half lives elsewhere; a
 * provider would do the same in far more code.
 */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* Seconds a worker waits for the parent's signature. */
#define PRIVSEP_SIGN_SECS	10
/* Back-off before a restart: doubles from 1 s up to this. */
#define PRIVSEP_BACKOFF_MAX	30
/* A worker that ran this long resets the back-off. */
#define PRIVSEP_STABLE_SECS	60
/* Seconds a stopping worker gets before SIGKILL. */
#define PRIVSEP_STOP_SECS	30
/* Seconds a worker waits for a batch of bodies sealed or opened. */
#define PRIVSEP_BULK_SECS	60

/* Parent <-> worker: one fixed-size message per datagram. */
enum privsep_type {
	PRIVSEP_READY = 1,	/* worker: confined and serving */
	PRIVSEP_FATAL,		/* worker: stop the hub, status in arg */
	PRIVSEP_HASKEY,		/* worker: do you hold the key of hash? */
	PRIVSEP_SIGN,		/* worker: sign data with that key */
	PRIVSEP_ANSWER,		/* parent: arg 0 and data, or arg -1 */
	PRIVSEP_ANON_HASH,	/* worker: keyed hash of tag\0reporter\0value */
	PRIVSEP_STORE_KEYS,	/* worker: the store keys' ids, current first */
	PRIVSEP_STORE_SEAL,	/* worker: seal the bodies in the passed file */
	PRIVSEP_STORE_OPEN,	/* worker: open the bodies in the passed file */
};

/* The keyed hashes the parent computes: anon.c's, and nothing else. */
static const char *const privsep_anon_tags[] = {
	"ceptoar-anon-uuid",
	"ceptoar-anon-pseudonym",
};

enum privsep_kind {
	PRIVSEP_KEY_EC = 1,	/* data is a digest; answer a DER ECDSA sig */
	PRIVSEP_KEY_RSA,	/* data padded as padding says; raw RSA */
};

struct privsep_msg {
	uint32_t	type;
	uint32_t	kind;
	int32_t		arg;		/* FATAL: status; ANSWER: 0 or -1 */
	int32_t		padding;	/* RSA padding of a SIGN */
	uint32_t	len;		/* bytes of data in use */
	uint32_t	seq;		/* an answer repeats its request's */
	unsigned char	key[32];	/* SHA-256 of the public key (SPKI) */
	unsigned char	data[1024];
};

/* The parent's state. */
static struct {
	struct event_base	*base;
	const struct config	*conf;
	char			 self[PATH_MAX];	/* our executable */
	const char		*conffile;
	int			 verbose;
	enum log_level		 level;
	int			 foreground;
	int			 listen_fd;
	int			 cwd_fd;	/* where relative paths start */
	int			 ready_fd;	/* to the starting command */
	pid_t			 worker;
	int			 ctl;
	struct event		*ctl_ev;
	struct event		*sig_hup, *sig_term, *sig_int, *sig_chld;
	struct event		*restart_timer, *kill_timer;
	EVP_PKEY		*keys[2];	/* current, previous */
	struct anon_policy	 anon;		/* with anon_key, if any */
	bool			 anon_ready;
	struct store_keys	*store;		/* store_key, store_old_keys */
	uint64_t		 seals, opens;	/* bodies */
	uint64_t		 hashes;
	unsigned char		 keyhash[2][32];
	uint64_t		 signs;
	unsigned int		 restarts;
	int			 backoff;
	time_t			 started;
	bool			 ready_once;
	bool			 worker_ready;
	bool			 stopping;
	int			 exit_status;
} ps = { .listen_fd = -1, .cwd_fd = -1, .ready_fd = -1, .worker = -1,
	.ctl = -1 };

/* The worker's end of the channel, -1 in the parent. */
static int		 privsep_fd = -1;
static int		 privsep_ec_idx = -1, privsep_rsa_idx = -1;
static EC_KEY_METHOD	*privsep_ec_meth;
static RSA_METHOD	*privsep_rsa_meth;
static struct event	*privsep_watch_ev;

static void	privsep_spawn(void);
static int	privsep_call_fd(struct privsep_msg *, int, int *, int);

/* SHA-256 of a key's public part, which names it on the channel. */
static int
privsep_key_hash(EVP_PKEY *pkey, unsigned char out[32])
{
	unsigned char	*der = NULL;
	int		 len;

	if ((len = i2d_PUBKEY(pkey, &der)) <= 0)
		return -1;
	crypto_hash_sha256(out, der, (unsigned long long)len);
	OPENSSL_free(der);
	return 0;
}

/* Read tls_key; NULL with a cause.  The mode was checked by tls.c. */
static EVP_PKEY *
privsep_load_key(const struct config *conf, char **cause)
{
	EVP_PKEY	*pkey;
	FILE		*fp;

	if ((fp = fopen(conf->tls_key, "r")) == NULL) {
		cause_set(cause, "tls_key %s: %s", conf->tls_key,
		    strerror(errno));
		return NULL;
	}
	pkey = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (pkey == NULL) {
		ERR_clear_error();
		cause_set(cause, "tls_key %s: not a PEM private key",
		    conf->tls_key);
	}
	return pkey;
}

/* Take pkey as the current key, keeping the last one for old contexts. */
static void
privsep_keys_add(EVP_PKEY *pkey, const unsigned char hash[32])
{
	if (ps.keys[0] != NULL && memcmp(ps.keyhash[0], hash, 32) == 0) {
		EVP_PKEY_free(pkey);
		return;
	}
	EVP_PKEY_free(ps.keys[1]);
	ps.keys[1] = ps.keys[0];
	memcpy(ps.keyhash[1], ps.keyhash[0], 32);
	ps.keys[0] = pkey;
	memcpy(ps.keyhash[0], hash, 32);
}

/* The key the worker names by hash, or NULL. */
static EVP_PKEY *
privsep_keys_find(const unsigned char hash[32])
{
	int	i;

	for (i = 0; i < 2; i++)
		if (ps.keys[i] != NULL && memcmp(ps.keyhash[i], hash, 32) == 0)
			return ps.keys[i];
	return NULL;
}

/*
 * Sign for the worker: an ECDSA signature of a digest, or a raw RSA
 * private operation on data it padded.  Returns the length or -1.
 */
static int
privsep_sign(EVP_PKEY *pkey, const struct privsep_msg *req,
    unsigned char *out, size_t outlen)
{
	EVP_PKEY_CTX	*ctx;
	size_t		 len = outlen;
	int		 base = EVP_PKEY_get_base_id(pkey), rc = -1;

	if ((req->kind == PRIVSEP_KEY_EC && base != EVP_PKEY_EC) ||
	    (req->kind == PRIVSEP_KEY_RSA && base != EVP_PKEY_RSA))
		return -1;
	if ((ctx = EVP_PKEY_CTX_new(pkey, NULL)) == NULL)
		return -1;
	if (EVP_PKEY_sign_init(ctx) == 1 &&
	    (req->kind != PRIVSEP_KEY_RSA ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, req->padding) == 1) &&
	    EVP_PKEY_sign(ctx, out, &len, req->data, req->len) == 1)
		rc = (int)len;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

/*
 * Parent: the keyed hash a worker asks for.  data is tag, NUL, reporter,
 * NUL, value (without its NUL); the tag must be one of anon.c's.  The
 * hash length or -1.
 */
static int
privsep_anon_answer(const struct privsep_msg *req, unsigned char *out,
    size_t outlen)
{
	char	 buf[sizeof(req->data) + 1];
	char	*reporter, *value;
	size_t	 i, n = req->len;
	bool	 known = false;

	if (!ps.anon_ready || req->arg < 16 || req->arg > 64 ||
	    (size_t)req->arg > outlen)
		return -1;
	memcpy(buf, req->data, n);
	buf[n] = '\0';
	if ((reporter = memchr(buf, '\0', n)) == NULL)
		return -1;
	reporter++;
	if ((value = memchr(reporter, '\0', n - (size_t)(reporter - buf))) ==
	    NULL)
		return -1;
	value++;
	/* The value is a string: no NUL of its own. */
	if (strlen(value) != n - (size_t)(value - buf))
		return -1;
	for (i = 0; i < sizeof(privsep_anon_tags) / sizeof(*privsep_anon_tags);
	    i++)
		known = known || strcmp(buf, privsep_anon_tags[i]) == 0;
	if (!known)
		return -1;
	anon_keyed_hash(&ps.anon, buf, reporter, value, out, (size_t)req->arg);
	sodium_memzero(buf, sizeof(buf));
	return req->arg;
}

void
privsep_parent_store(struct store_keys *keys)
{
	store_keys_free(ps.store);
	ps.store = keys;
}

void
privsep_parent_anon(const struct anon_policy *pol)
{
	if (pol == NULL)
		return;
	ps.anon = *pol;
	ps.anon.remote = NULL;
	ps.anon_ready = true;
}

/* ---- The codec of a batch of bodies --------------------------------- */

/*
 * A request: "CSB1", the number of bodies (u32), then per body the
 * hub_id (u16 length, bytes), the sender (u16 length, bytes) and the
 * body (u32 length, bytes).  An answer: "CSA1", the number (u32), then
 * per body its error (u32, a STORE_OPEN_*), key id (u32), keyed digest
 * (32 bytes) and result (u32 length, bytes).  Integers are big-endian.
 * Names carry no NUL; every length is checked against what is left.
 */
#define PRIVSEP_BULK_REQ	"CSB1"
#define PRIVSEP_BULK_ANS	"CSA1"
#define PRIVSEP_BULK_ITEM_ANS	(4 + 4 + 32 + 4)

/* Append n bytes of p at *o; the caller sized the buffer. */
static void
privsep_put(uint8_t **o, const void *p, size_t n)
{
	if (n > 0)
		memcpy(*o, p, n);
	*o += n;
}

/* Append v as a big-endian integer of size bytes (2 or 4). */
static void
privsep_put_int(uint8_t **o, uint32_t v, size_t size)
{
	size_t	 i;

	for (i = 0; i < size; i++)
		(*o)[i] = (uint8_t)(v >> (8 * (size - 1 - i)));
	*o += size;
}

/* A cursor over a buffer the other side wrote. */
struct privsep_rd {
	const uint8_t	*p;
	size_t		 left;
};

/* Take n bytes; NULL if fewer are left. */
static const uint8_t *
privsep_take(struct privsep_rd *r, size_t n)
{
	const uint8_t	*p = r->p;

	if (n > r->left)
		return NULL;
	r->p += n;
	r->left -= n;
	return p;
}

/* Take a big-endian integer of size bytes; -1 if short. */
static int
privsep_take_int(struct privsep_rd *r, size_t size, uint32_t *v)
{
	const uint8_t	*p;
	size_t		 i;

	if ((p = privsep_take(r, size)) == NULL)
		return -1;
	for (*v = 0, i = 0; i < size; i++)
		*v = *v << 8 | p[i];
	return 0;
}

/* The bytes one body takes in a request and in its answer, at most. */
static size_t
privsep_bulk_cost(const struct store_seal_item *it)
{
	return strlen(it->hub_id) + strlen(it->sender) + it->in_len + 128;
}

int
privsep_bulk_encode(const struct store_seal_item *v, size_t n, uint8_t **buf,
    size_t *len, char **cause)
{
	size_t	 i, size = 8, hl, sl;
	uint8_t	*o;

	*buf = NULL;
	if (n == 0 || n > PRIVSEP_BULK_ITEMS) {
		cause_set(cause, "a batch of %zu bodies (1 to %d)", n,
		    PRIVSEP_BULK_ITEMS);
		return -1;
	}
	for (i = 0; i < n; i++) {
		hl = strlen(v[i].hub_id);
		sl = strlen(v[i].sender);
		if (hl == 0 || hl >= STORE_HUB_ID_LEN || sl == 0 ||
		    sl > PRIVSEP_SENDER_MAX || (v[i].in == NULL &&
		    v[i].in_len != 0) || v[i].in_len > PRIVSEP_BULK_MAX ||
		    privsep_bulk_cost(&v[i]) > PRIVSEP_BULK_MAX - size) {
			cause_set(cause, "body %zu of the batch (%s, %zu "
			    "bytes) is past the channel's limits (hub_id "
			    "under %d bytes, sender up to %d, %u bytes in "
			    "all)", i, v[i].hub_id, v[i].in_len,
			    STORE_HUB_ID_LEN, PRIVSEP_SENDER_MAX,
			    (unsigned)PRIVSEP_BULK_MAX);
			return -1;
		}
		size += 2 + hl + 2 + sl + 4 + v[i].in_len;
	}
	if ((*buf = o = malloc(size)) == NULL) {
		cause_set(cause, "out of memory for a batch of %zu bytes",
		    size);
		return -1;
	}
	privsep_put(&o, PRIVSEP_BULK_REQ, 4);
	privsep_put_int(&o, (uint32_t)n, 4);
	for (i = 0; i < n; i++) {
		hl = strlen(v[i].hub_id);
		sl = strlen(v[i].sender);
		privsep_put_int(&o, (uint32_t)hl, 2);
		privsep_put(&o, v[i].hub_id, hl);
		privsep_put_int(&o, (uint32_t)sl, 2);
		privsep_put(&o, v[i].sender, sl);
		privsep_put_int(&o, (uint32_t)v[i].in_len, 4);
		privsep_put(&o, v[i].in, v[i].in_len);
	}
	*len = size;
	return 0;
}

/*
 * Take a name of 1 to max bytes without NUL: copied to *names if not
 * NULL, else counted in *namelen.  NULL if there is no such name.
 */
static const char *
privsep_take_name(struct privsep_rd *r, size_t max, char **names,
    size_t *namelen)
{
	const uint8_t	*p;
	uint32_t	 len;
	char		*copy = *names;

	if (privsep_take_int(r, 2, &len) == -1 || len == 0 || len > max ||
	    (p = privsep_take(r, len)) == NULL || memchr(p, '\0', len) != NULL)
		return NULL;
	if (copy == NULL) {
		*namelen += len + 1;
		return "";
	}
	memcpy(copy, p, len);
	copy[len] = '\0';
	*names += len + 1;
	return copy;
}

/*
 * Walk a request: count its bodies and the bytes their names need, and
 * with names (sized by a first walk) fill v.  -1 with a cause.
 */
static int
privsep_bulk_walk(const uint8_t *buf, size_t len, struct store_seal_item *v,
    char *names, size_t *n, size_t *namelen, char **cause)
{
	struct privsep_rd	 r = { buf, len };
	const uint8_t		*magic;
	const char		*hub_id, *sender;
	uint32_t		 count, blen, i;

	*namelen = 0;
	if ((magic = privsep_take(&r, 4)) == NULL ||
	    memcmp(magic, PRIVSEP_BULK_REQ, 4) != 0 ||
	    privsep_take_int(&r, 4, &count) == -1) {
		cause_set(cause, "not a batch of bodies (%zu bytes)", len);
		return -1;
	}
	if (count == 0 || count > PRIVSEP_BULK_ITEMS) {
		cause_set(cause, "a batch of %u bodies (1 to %d)", count,
		    PRIVSEP_BULK_ITEMS);
		return -1;
	}
	for (i = 0; i < count; i++) {
		if ((hub_id = privsep_take_name(&r, STORE_HUB_ID_LEN - 1,
		    &names, namelen)) == NULL ||
		    (sender = privsep_take_name(&r, PRIVSEP_SENDER_MAX,
		    &names, namelen)) == NULL) {
			cause_set(cause, "body %u: a hub_id or sender that is "
			    "empty, too long, truncated or holds a NUL", i);
			return -1;
		}
		if (privsep_take_int(&r, 4, &blen) == -1 ||
		    blen > r.left) {
			cause_set(cause, "body %u: a length past the end of "
			    "the batch", i);
			return -1;
		}
		if (v != NULL) {
			memset(&v[i], 0, sizeof(v[i]));
			v[i].hub_id = hub_id;
			v[i].sender = sender;
			v[i].in = r.p;
			v[i].in_len = blen;
		}
		(void)privsep_take(&r, blen);
	}
	if (r.left != 0) {
		cause_set(cause, "%zu bytes after the last body", r.left);
		return -1;
	}
	*n = count;
	return 0;
}

int
privsep_bulk_decode(const uint8_t *buf, size_t len,
    struct store_seal_item **v, size_t *n, char **names, char **cause)
{
	size_t	 namelen, unused;

	*v = NULL;
	*names = NULL;
	/* First the shape and the sizes, then the copy. */
	if (privsep_bulk_walk(buf, len, NULL, NULL, n, &namelen,
	    cause) == -1)
		return -1;
	if ((*v = calloc(*n, sizeof(**v))) == NULL ||
	    (*names = malloc(namelen)) == NULL) {
		free(*v);
		*v = NULL;
		cause_set(cause, "out of memory for %zu bodies", *n);
		return -1;
	}
	return privsep_bulk_walk(buf, len, *v, *names, n, &unused, cause);
}

int
privsep_bulk_encode_answer(const struct store_seal_item *v, size_t n,
    uint8_t **buf, size_t *len, char **cause)
{
	size_t	 i, size = 8;
	uint8_t	*o;

	*buf = NULL;
	for (i = 0; i < n; i++) {
		if (v[i].out_len > PRIVSEP_BULK_MAX - size -
		    PRIVSEP_BULK_ITEM_ANS) {
			cause_set(cause, "an answer of more than %u bytes",
			    (unsigned)PRIVSEP_BULK_MAX);
			return -1;
		}
		size += PRIVSEP_BULK_ITEM_ANS + v[i].out_len;
	}
	if ((*buf = o = malloc(size)) == NULL) {
		cause_set(cause, "out of memory for an answer of %zu bytes",
		    size);
		return -1;
	}
	privsep_put(&o, PRIVSEP_BULK_ANS, 4);
	privsep_put_int(&o, (uint32_t)n, 4);
	for (i = 0; i < n; i++) {
		privsep_put_int(&o, (uint32_t)v[i].error, 4);
		privsep_put_int(&o, v[i].key_id, 4);
		privsep_put(&o, v[i].digest, 32);
		privsep_put_int(&o, (uint32_t)v[i].out_len, 4);
		privsep_put(&o, v[i].out, v[i].out_len);
	}
	*len = size;
	return 0;
}

int
privsep_bulk_decode_answer(enum store_seal_op op, const uint8_t *buf,
    size_t len, struct store_seal_item *v, size_t n, char **cause)
{
	struct privsep_rd	 r = { buf, len };
	const uint8_t		*magic, *p;
	uint32_t		 count, err, id, olen;
	size_t			 i;

	for (i = 0; i < n; i++) {
		v[i].out = NULL;
		v[i].out_len = 0;
	}
	if ((magic = privsep_take(&r, 4)) == NULL ||
	    memcmp(magic, PRIVSEP_BULK_ANS, 4) != 0 ||
	    privsep_take_int(&r, 4, &count) == -1 || count != n) {
		cause_set(cause, "the answer is not one for %zu bodies", n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (privsep_take_int(&r, 4, &err) == -1 ||
		    privsep_take_int(&r, 4, &id) == -1 ||
		    (p = privsep_take(&r, 32)) == NULL ||
		    privsep_take_int(&r, 4, &olen) == -1 || olen > r.left ||
		    err > STORE_OPEN_MAX ||
		    (op == STORE_SEAL_OP_SEAL && (err != STORE_OPEN_OK ||
		    olen < v[i].in_len)) ||
		    (op == STORE_SEAL_OP_OPEN && (olen > v[i].in_len ||
		    (err != STORE_OPEN_OK && olen != 0)))) {
			cause_set(cause, "body %zu of the answer is malformed",
			    i);
			goto fail;
		}
		v[i].error = (int)err;
		v[i].key_id = id;
		memcpy(v[i].digest, p, 32);
		if (err != STORE_OPEN_OK)
			continue;
		/* One byte more: a body is never handed over as NULL. */
		if ((v[i].out = malloc((size_t)olen + 1)) == NULL) {
			cause_set(cause, "out of memory for a body of %u "
			    "bytes", olen);
			goto fail;
		}
		memcpy(v[i].out, privsep_take(&r, olen), olen);
		v[i].out_len = olen;
	}
	if (r.left != 0) {
		cause_set(cause, "%zu bytes after the answer's last body",
		    r.left);
		goto fail;
	}
	return 0;
fail:
	for (i = 0; i < n; i++) {
		if (v[i].out != NULL)
			sodium_memzero(v[i].out, v[i].out_len);
		free(v[i].out);
		v[i].out = NULL;
		v[i].out_len = 0;
	}
	return -1;
}

/*
 * Copy a memory file the other side passed into a buffer of our own, so
 * that what is checked is what is used: 0 with the malloc'd copy, or -1
 * with a cause (not a regular file, empty, larger than the limit, or it
 * shrank while read).
 */
static int
privsep_file_read(int fd, uint8_t **buf, size_t *len, char **cause)
{
	struct stat	 st;
	size_t		 got = 0;
	ssize_t		 r;

	*buf = NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		cause_set(cause, "the passed descriptor is not a memory file");
		return -1;
	}
	if (st.st_size <= 0 || (uint64_t)st.st_size > PRIVSEP_BULK_MAX) {
		cause_set(cause, "a memory file of %lld bytes (1 to %u)",
		    (long long)st.st_size, (unsigned)PRIVSEP_BULK_MAX);
		return -1;
	}
	if ((*buf = malloc((size_t)st.st_size)) == NULL) {
		cause_set(cause, "out of memory for %lld bytes",
		    (long long)st.st_size);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		r = pread(fd, *buf + got, (size_t)st.st_size - got,
		    (off_t)got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			cause_set(cause, "the memory file shrank while read "
			    "(%zu of %lld bytes)", got, (long long)st.st_size);
			free(*buf);
			*buf = NULL;
			return -1;
		}
		got += (size_t)r;
	}
	*len = got;
	return 0;
}

/* A memory file holding len bytes of buf: its descriptor, or -1. */
static int
privsep_file_write(const uint8_t *buf, size_t len, char **cause)
{
	size_t	 done = 0;
	ssize_t	 w;
	int	 fd;

	if ((fd = memfd_create("ceptoard-bodies", MFD_CLOEXEC)) == -1) {
		cause_set(cause, "memfd_create: %s", strerror(errno));
		return -1;
	}
	while (done < len) {
		w = write(fd, buf + done, len - done);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			cause_set(cause, "writing a memory file: %s",
			    w == 0 ? "no space" : strerror(errno));
			close(fd);
			return -1;
		}
		done += (size_t)w;
	}
	return fd;
}

/* Send one message whole, with descriptor pass if not -1; -1 if gone. */
static int
privsep_send_fd(int fd, const struct privsep_msg *m, int pass)
{
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(sizeof(int))];
	}		 cbuf;
	struct iovec	 iov = { (void *)m, sizeof(*m) };
	struct msghdr	 msg;
	struct cmsghdr	*c;
	ssize_t		 n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (pass != -1) {
		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = sizeof(cbuf.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass, sizeof(int));
	}
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	return n == (ssize_t)sizeof(*m) ? 0 : -1;
}

/* Send one message whole; -1 if the channel is gone. */
static int
privsep_send(int fd, const struct privsep_msg *m)
{
	return privsep_send_fd(fd, m, -1);
}

/*
 * Receive one message, as recv would (MSG_TRUNC: the datagram's whole
 * length), and in *pass the descriptor that came with it, or -1.  Any
 * other descriptor is closed; *extra says whether there was one, or
 * whether some were cut off.
 */
static ssize_t
privsep_recv_fd(int fd, struct privsep_msg *m, int flags, int *pass,
    bool *extra)
{
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(sizeof(int) * 4)];
	}		 cbuf;
	struct iovec	 iov = { m, sizeof(*m) };
	struct msghdr	 msg;
	struct cmsghdr	*c;
	ssize_t		 n;
	size_t		 i, nfd;
	int		 got;

	*pass = -1;
	*extra = false;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);
	if ((n = recvmsg(fd, &msg, flags | MSG_TRUNC | MSG_CMSG_CLOEXEC)) < 0)
		return n;
	if (msg.msg_flags & MSG_CTRUNC)
		*extra = true;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			*extra = true;
			continue;
		}
		nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&got, CMSG_DATA(c) + i * sizeof(int),
			    sizeof(int));
			if (*pass == -1)
				*pass = got;
			else {
				close(got);
				*extra = true;
			}
		}
	}
	return n;
}

/* The worker misbehaved: end it; it is started again. */
static void
privsep_worker_refused(const char *why)
{
	log_event(LOG_LVL_ERROR, "privsep.refused", "worker=%ld reason=\"%s\" "
	    "action=\"killing the worker\"", (long)ps.worker, why);
	if (ps.worker > 0)
		kill(ps.worker, SIGKILL);
	if (ps.ctl_ev != NULL)
		event_del(ps.ctl_ev);
}

/* The first worker is serving: tell the starting command, detach. */
static void
privsep_detach_done(void)
{
	int	fd;

	if (ps.ready_fd == -1)
		return;
	(void)!write(ps.ready_fd, "", 1);
	close(ps.ready_fd);
	ps.ready_fd = -1;
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

int
privsep_store_serve(struct store_keys *keys, enum store_seal_op op, int pass,
    size_t *nbodies, size_t *nbytes, char **cause)
{
	struct store_seal_item	*v = NULL;
	uint8_t			*req = NULL, *ans = NULL;
	size_t			 reqlen = 0, anslen = 0, n = 0, i;
	char			*names = NULL;
	int			 afd = -1, rc = -1;

	*nbodies = *nbytes = 0;
	if (keys == NULL)
		cause_set(cause, "the parent holds no store keys");
	else if (pass == -1)
		cause_set(cause, "no memory file came with the request");
	else if (privsep_file_read(pass, &req, &reqlen, cause) == 0 &&
	    privsep_bulk_decode(req, reqlen, &v, &n, &names, cause) == 0) {
		rc = op == STORE_SEAL_OP_SEAL ?
		    store_keys_seal(keys, v, n, cause) :
		    store_keys_open(keys, v, n, cause);
		if (rc == 0 && privsep_bulk_encode_answer(v, n, &ans, &anslen,
		    cause) == 0)
			afd = privsep_file_write(ans, anslen, cause);
	}
	*nbytes = reqlen;
	if (afd != -1)
		*nbodies = n;
	/* Plaintexts: the request's (seal) or the answer's (open). */
	for (i = 0; v != NULL && i < n; i++) {
		if (v[i].out != NULL)
			sodium_memzero(v[i].out, v[i].out_len);
		free(v[i].out);
	}
	free(v);
	free(names);
	if (req != NULL)
		sodium_memzero(req, reqlen);
	free(req);
	if (ans != NULL)
		sodium_memzero(ans, anslen);
	free(ans);
	return afd;
}

/*
 * Parent: answer a STORE_SEAL or STORE_OPEN request whose memory file
 * is pass (which the caller closes), and log it: the descriptor of the
 * answer's memory file, or -1 after logging why it was refused.
 */
static int
privsep_store_answer(const struct privsep_msg *m, int pass)
{
	enum store_seal_op	 op = m->type == PRIVSEP_STORE_SEAL ?
				    STORE_SEAL_OP_SEAL : STORE_SEAL_OP_OPEN;
	const char		*name = op == STORE_SEAL_OP_SEAL ? "seal" :
				    "open";
	size_t			 n, bytes;
	char			*cause = NULL, esc[256];
	int			 afd;

	afd = privsep_store_serve(ps.store, op, pass, &n, &bytes, &cause);
	if (afd != -1) {
		if (op == STORE_SEAL_OP_SEAL)
			ps.seals += n;
		else
			ps.opens += n;
		log_event(LOG_LVL_DEBUG, "privsep.store", "result=ok op=%s "
		    "bodies=%zu bytes=%zu worker=%ld", name, n, bytes,
		    (long)ps.worker);
	} else
		log_event(LOG_LVL_ERROR, "privsep.store", "result=refused "
		    "op=%s worker=%ld bytes=%zu reason=\"%s\"", name,
		    (long)ps.worker, bytes, log_escape(cause ? cause :
		    "unknown", esc, sizeof(esc)));
	free(cause);
	return afd;
}

/* A message from the worker: readiness, a fatal stop, a key request. */
static void
privsep_ctl_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct privsep_msg	 m, a;
	struct timeval		 stop_tv = { PRIVSEP_STOP_SECS, 0 };
	EVP_PKEY		*pkey;
	ssize_t			 n;
	size_t			 i;
	uint32_t		 ids[sizeof(a.data) / sizeof(uint32_t)];
	bool			 extra;
	int			 len, pass, afd = -1;

	n = privsep_recv_fd(fd, &m, MSG_DONTWAIT, &pass, &extra);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* Gone: SIGCHLD says how. */
		event_del(ps.ctl_ev);
		return;
	}
	if (n != (ssize_t)sizeof(m) || m.len > sizeof(m.data)) {
		if (pass != -1)
			close(pass);
		privsep_worker_refused("a message of the wrong size");
		return;
	}
	/* Descriptors come one at a time, and only with a batch. */
	if (extra || (pass != -1 && m.type != PRIVSEP_STORE_SEAL &&
	    m.type != PRIVSEP_STORE_OPEN)) {
		if (pass != -1)
			close(pass);
		privsep_worker_refused("a descriptor it was not asked for");
		return;
	}
	memset(&a, 0, sizeof(a));
	a.type = PRIVSEP_ANSWER;
	a.arg = -1;
	a.seq = m.seq;
	switch (m.type) {
	case PRIVSEP_READY:
		ps.worker_ready = true;
		if (!ps.ready_once) {
			ps.ready_once = true;
			privsep_detach_done();
		}
		log_event(LOG_LVL_INFO, "privsep.worker", "event=ready pid=%ld "
		    "restarts=%u", (long)ps.worker, ps.restarts);
		return;
	case PRIVSEP_FATAL:
		log_event(LOG_LVL_ERROR, "privsep.worker", "event=fatal pid=%ld "
		    "status=%d action=\"stopping the hub\"", (long)ps.worker,
		    (int)m.arg);
		ps.stopping = true;
		ps.exit_status = m.arg != 0 ? (int)m.arg & 0xff : 1;
		evtimer_del(ps.restart_timer);
		evtimer_add(ps.kill_timer, &stop_tv);
		return;
	case PRIVSEP_HASKEY:
		if (privsep_keys_find(m.key) != NULL)
			a.arg = 0;
		break;
	case PRIVSEP_SIGN:
		if ((pkey = privsep_keys_find(m.key)) == NULL) {
			log_event(LOG_LVL_WARN, "privsep.sign", "result=refused "
			    "reason=\"no such key\"");
			break;
		}
		len = privsep_sign(pkey, &m, a.data, sizeof(a.data));
		ps.signs++;
		if (len < 0) {
			log_event(LOG_LVL_WARN, "privsep.sign", "result=failed "
			    "kind=%u count=%llu", (unsigned)m.kind,
			    (unsigned long long)ps.signs);
			break;
		}
		a.arg = 0;
		a.len = (uint32_t)len;
		log_event(LOG_LVL_DEBUG, "privsep.sign", "result=ok kind=%s "
		    "worker=%ld count=%llu", m.kind == PRIVSEP_KEY_EC ? "ec" :
		    "rsa", (long)ps.worker, (unsigned long long)ps.signs);
		break;
	case PRIVSEP_ANON_HASH:
		len = privsep_anon_answer(&m, a.data, sizeof(a.data));
		ps.hashes++;
		if (len < 0) {
			log_event(LOG_LVL_WARN, "privsep.anon", "result=refused "
			    "count=%llu", (unsigned long long)ps.hashes);
			break;
		}
		a.arg = 0;
		a.len = (uint32_t)len;
		log_event(LOG_LVL_DEBUG, "privsep.anon", "result=ok worker=%ld "
		    "count=%llu", (long)ps.worker,
		    (unsigned long long)ps.hashes);
		break;
	case PRIVSEP_STORE_KEYS:
		if (ps.store == NULL)
			break;
		n = (ssize_t)store_keys_ids(ps.store, ids,
		    sizeof(ids) / sizeof(ids[0]));
		if (n <= 0 || (size_t)n > sizeof(ids) / sizeof(ids[0]))
			break;
		for (i = 0; i < (size_t)n; i++)
			memcpy(a.data + i * 4, &ids[i], 4);
		a.len = (uint32_t)n * 4;
		a.arg = 0;
		break;
	case PRIVSEP_STORE_SEAL:
	case PRIVSEP_STORE_OPEN:
		afd = privsep_store_answer(&m, pass);
		if (pass != -1)
			close(pass);
		if (afd != -1)
			a.arg = 0;
		break;
	default:
		privsep_worker_refused("a message of unknown type");
		return;
	}
	if (privsep_send_fd(fd, &a, afd) == -1)
		event_del(ps.ctl_ev);
	if (afd != -1)
		close(afd);
	sodium_memzero(&a, sizeof(a));
}

/* The back-off is over: start a worker again. */
static void
privsep_restart_cb(evutil_socket_t fd, short ev, void *arg)
{
	if (!ps.stopping)
		privsep_spawn();
}

/* A stopping worker took too long: end it. */
static void
privsep_kill_cb(evutil_socket_t fd, short ev, void *arg)
{
	if (ps.worker > 0) {
		log_event(LOG_LVL_WARN, "privsep.worker", "event=kill pid=%ld "
		    "reason=\"not stopped within %d seconds\"", (long)ps.worker,
		    PRIVSEP_STOP_SECS);
		kill(ps.worker, SIGKILL);
	}
}

/* SIGCHLD: reap the worker; restart it after a back-off unless stopping. */
static void
privsep_chld_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct timeval	 tv = { 0, 0 };
	char		 how[64];
	pid_t		 pid;
	int		 status, code;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid != ps.worker)
			continue;
		if (WIFSIGNALED(status)) {
			snprintf(how, sizeof(how), "signal=%d",
			    WTERMSIG(status));
			code = 1;
		} else {
			code = WEXITSTATUS(status);
			snprintf(how, sizeof(how), "status=%d", code);
		}
		ps.worker = -1;
		if (ps.ctl_ev != NULL) {
			event_free(ps.ctl_ev);
			ps.ctl_ev = NULL;
		}
		if (ps.ctl != -1) {
			close(ps.ctl);
			ps.ctl = -1;
		}
		if (!ps.ready_once && !ps.stopping) {
			/* The first start failed: the starting command learns. */
			log_event(LOG_LVL_ERROR, "privsep.worker", "event=failed "
			    "pid=%ld %s action=\"not starting\"", (long)pid, how);
			ps.exit_status = code != 0 ? code : 1;
			if (ps.ready_fd != -1) {
				unsigned char c = (unsigned char)ps.exit_status;
				(void)!write(ps.ready_fd, &c, 1);
			}
			event_base_loopexit(ps.base, NULL);
			return;
		}
		if (ps.stopping) {
			if (ps.exit_status == 0 && ps.ready_once)
				ps.exit_status = code;
			if (ps.ready_fd != -1) {
				unsigned char c = (unsigned char)ps.exit_status;
				(void)!write(ps.ready_fd, &c, 1);
			}
			log_event(LOG_LVL_INFO, "privsep.worker", "event=stopped "
			    "pid=%ld %s", (long)pid, how);
			event_base_loopexit(ps.base, NULL);
			return;
		}
		if (time(NULL) - ps.started >= PRIVSEP_STABLE_SECS ||
		    ps.backoff == 0)
			ps.backoff = 1;
		else if ((ps.backoff *= 2) > PRIVSEP_BACKOFF_MAX)
			ps.backoff = PRIVSEP_BACKOFF_MAX;
		log_event(LOG_LVL_ERROR, "privsep.worker", "event=died pid=%ld "
		    "%s restart_in=%ds", (long)pid, how, ps.backoff);
		tv.tv_sec = ps.backoff;
		evtimer_add(ps.restart_timer, &tv);
	}
}

/* SIGHUP: take a new TLS key if tls_key now holds one, then tell the worker. */
static void
privsep_hup_cb(evutil_socket_t sig, short ev, void *arg)
{
	EVP_PKEY	*pkey;
	void		*ctx;
	unsigned char	 hash[32];
	char		*cause = NULL, esc[1024];

	/* The pair must match and the file be private, as at start. */
	if ((ctx = tls_server_ctx(ps.conf, &cause)) == NULL ||
	    (pkey = privsep_load_key(ps.conf, &cause)) == NULL ||
	    privsep_key_hash(pkey, hash) == -1) {
		log_event(LOG_LVL_ERROR, "config.reload", "result=failed "
		    "what=tls_key cause=%s action=\"keeping the previous key\"",
		    log_escape(cause ? cause : "unreadable key", esc,
		    sizeof(esc)));
		free(cause);
	} else
		privsep_keys_add(pkey, hash);
	tls_ctx_free(ctx);
	if (ps.worker > 0)
		kill(ps.worker, SIGHUP);
}

/*
 * Free the events of SIGTERM and SIGINT, and ignore both from then on:
 * freeing them puts back the default action, and a stop signal sent
 * again during teardown would end it half-way.
 */
void
privsep_stop_signals_free(struct event *term, struct event *intr)
{
	event_free(term);
	event_free(intr);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
}

/* SIGTERM, SIGINT: the worker drains and stops, then the parent. */
static void
privsep_term_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct timeval	tv = { PRIVSEP_STOP_SECS, 0 };

	/*
	 * Once is enough: the worker is draining, and the kill timer ends
	 * it if it does not.  A second SIGTERM would reach it while it tears
	 * down, when its handler is gone and the default action ends it.
	 */
	if (ps.stopping) {
		if (ps.worker <= 0)
			event_base_loopexit(ps.base, NULL);
		return;
	}
	ps.stopping = true;
	evtimer_del(ps.restart_timer);
	if (ps.worker <= 0) {
		event_base_loopexit(ps.base, NULL);
		return;
	}
	kill(ps.worker, SIGTERM);
	evtimer_add(ps.kill_timer, &tv);
}

/* Start a worker: a new image of ourselves with the socket and channel. */
static void
privsep_spawn(void)
{
	struct timeval	 tv = { 1, 0 };
	sigset_t	 all, old;
	char		 spec[64], *argv[8];
	int		 sv[2], i = 0;
	pid_t		 pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_event(LOG_LVL_ERROR, "privsep.worker", "event=spawn-failed "
		    "error=\"socketpair: %s\"", strerror(errno));
		evtimer_add(ps.restart_timer, &tv);
		return;
	}
	if (ps.ready_once)
		ps.restarts++;
	snprintf(spec, sizeof(spec), "%d,%d,%c,%u", sv[1], ps.listen_fd,
	    ps.foreground ? 'f' : ps.ready_once ? 's' : 'd', ps.restarts);
	argv[i++] = ps.self;
	argv[i++] = "-W";
	argv[i++] = spec;
	argv[i++] = "-f";
	argv[i++] = (char *)ps.conffile;
	if (ps.verbose)
		argv[i++] = "-v";
	argv[i] = NULL;

	/* No signal may run libevent's handler in the child before exec. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == 0) {
		if (fcntl(sv[1], F_SETFD, 0) == -1 ||
		    fcntl(ps.listen_fd, F_SETFD, 0) == -1 ||
		    (ps.cwd_fd != -1 && fchdir(ps.cwd_fd) == -1))
			_exit(71);
		sigprocmask(SIG_SETMASK, &old, NULL);
		execv(ps.self, argv);
		_exit(127);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(sv[1]);
	if (pid == -1) {
		log_event(LOG_LVL_ERROR, "privsep.worker", "event=spawn-failed "
		    "error=\"fork: %s\"", strerror(errno));
		close(sv[0]);
		evtimer_add(ps.restart_timer, &tv);
		return;
	}
	ps.worker = pid;
	ps.worker_ready = false;
	ps.ctl = sv[0];
	ps.started = time(NULL);
	ps.ctl_ev = event_new(ps.base, ps.ctl, EV_READ | EV_PERSIST,
	    privsep_ctl_cb, NULL);
	event_add(ps.ctl_ev, NULL);
	log_event(LOG_LVL_INFO, "privsep.worker", "event=started pid=%ld "
	    "parent=%ld restarts=%u", (long)pid, (long)getpid(), ps.restarts);
}

/* Fork into the background; the starting command waits for readiness. */
static void
privsep_detach(void)
{
	unsigned char	c = 1;
	int		p[2];
	pid_t		pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatalx("pipe: %s", strerror(errno));
	if ((pid = fork()) == -1)
		fatalx("fork: %s", strerror(errno));
	if (pid > 0) {
		close(p[1]);
		/* EOF without a byte: the daemon died before saying. */
		if (read(p[0], &c, 1) != 1)
			c = 1;
		_exit(c);
	}
	close(p[0]);
	ps.ready_fd = p[1];
	if (setsid() == -1)
		fatalx("setsid: %s", strerror(errno));
}

int
privsep_parent(const struct config *conf, const char *conffile,
    int listen_fd, const char *address, int foreground, int verbose,
    enum log_level level, void (*pidfile)(void))
{
	ssize_t		 n;
	unsigned char	 hash[32];
	EVP_PKEY	*pkey;
	char		*cause = NULL;
	int		 i;

	ps.conf = conf;
	ps.conffile = conffile;
	ps.listen_fd = listen_fd;
	ps.foreground = foreground;
	ps.verbose = verbose;
	ps.level = verbose ? LOG_LVL_DEBUG : level;
	if ((n = readlink("/proc/self/exe", ps.self, sizeof(ps.self) - 1)) <= 0)
		fatalx("cannot find our own executable: %s", strerror(errno));
	ps.self[n] = '\0';
	if ((pkey = privsep_load_key(conf, &cause)) == NULL ||
	    privsep_key_hash(pkey, hash) == -1)
		fatalx("%s", cause ? cause : "tls_key");
	privsep_keys_add(pkey, hash);
	ps.cwd_fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (!foreground) {
		privsep_detach();
		if (chdir("/") == -1)
			fatalx("chdir /: %s", strerror(errno));
		/* The worker tells its own start-up errors on stderr. */
		log_init(0, ps.level);
	}
	log_event(LOG_LVL_INFO, "privsep.parent", "event=started listen=%s "
	    "pid=%ld", address, (long)getpid());
	/* Core dumps and ptrace of the parent would expose the key. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if ((ps.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	pidfile();
	ps.sig_hup = evsignal_new(ps.base, SIGHUP, privsep_hup_cb, NULL);
	ps.sig_term = evsignal_new(ps.base, SIGTERM, privsep_term_cb, NULL);
	ps.sig_int = evsignal_new(ps.base, SIGINT, privsep_term_cb, NULL);
	ps.sig_chld = evsignal_new(ps.base, SIGCHLD, privsep_chld_cb, NULL);
	ps.restart_timer = evtimer_new(ps.base, privsep_restart_cb, NULL);
	ps.kill_timer = evtimer_new(ps.base, privsep_kill_cb, NULL);
	evsignal_add(ps.sig_hup, NULL);
	evsignal_add(ps.sig_term, NULL);
	evsignal_add(ps.sig_int, NULL);
	evsignal_add(ps.sig_chld, NULL);

	privsep_spawn();
	if (ps.worker > 0)
		event_base_dispatch(ps.base);
	else
		ps.exit_status = 71;

	if (ps.worker > 0) {
		kill(ps.worker, SIGKILL);
		waitpid(ps.worker, NULL, 0);
	}
	if (ps.ctl_ev != NULL)
		event_free(ps.ctl_ev);
	if (ps.ctl != -1)
		close(ps.ctl);
	event_free(ps.sig_hup);
	privsep_stop_signals_free(ps.sig_term, ps.sig_int);
	event_free(ps.sig_chld);
	event_free(ps.restart_timer);
	event_free(ps.kill_timer);
	event_base_free(ps.base);
	for (i = 0; i < 2; i++)
		EVP_PKEY_free(ps.keys[i]);
	sodium_memzero(&ps.anon, sizeof(ps.anon));
	store_keys_free(ps.store);
	ps.store = NULL;
	log_event(LOG_LVL_INFO, "privsep.parent", "event=stopped status=%d "
	    "signs=%llu hashes=%llu sealed=%llu opened=%llu restarts=%u",
	    ps.exit_status, (unsigned long long)ps.signs,
	    (unsigned long long)ps.hashes, (unsigned long long)ps.seals,
	    (unsigned long long)ps.opens, ps.restarts);
	if (ps.cwd_fd != -1)
		close(ps.cwd_fd);
	close(ps.listen_fd);
	return ps.exit_status;
}

/*
 * Worker: one request and its answer, blocking (the handshake waits for
 * its signature, as in relayd).  0 with *m the answer, or -1.
 */
static int
privsep_call(struct privsep_msg *m)
{
	return privsep_call_fd(m, -1, NULL, PRIVSEP_SIGN_SECS);
}

/*
 * privsep_call with a descriptor to pass (or -1), and in *answer (if not
 * NULL) the one that came with the answer, or -1; waiting secs at most.
 */
static int
privsep_call_fd(struct privsep_msg *m, int pass, int *answer, int secs)
{
	static uint32_t	 seq;
	struct pollfd	 pfd = { .fd = privsep_fd, .events = POLLIN };
	struct timespec	 now, end;
	ssize_t		 n;
	bool		 extra;
	int		 rc, ms, got;

	if (answer != NULL)
		*answer = -1;
	if (privsep_fd == -1)
		return -1;
	m->seq = ++seq;
	if (privsep_send_fd(privsep_fd, m, pass) == -1)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += secs;
	/* An answer to an earlier request that timed out is skipped. */
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (int)((end.tv_sec - now.tv_sec) * 1000 +
		    (end.tv_nsec - now.tv_nsec) / 1000000);
		if (ms <= 0)
			return -1;
		if ((rc = poll(&pfd, 1, ms)) == -1 && errno == EINTR)
			continue;
		if (rc != 1)
			return -1;
		n = privsep_recv_fd(privsep_fd, m, 0, &got, &extra);
		if (n != (ssize_t)sizeof(*m) || m->type != PRIVSEP_ANSWER ||
		    m->len > sizeof(m->data) || m->seq != seq ||
		    answer == NULL) {
			if (got != -1)
				close(got);
			if (n != (ssize_t)sizeof(*m) ||
			    m->type != PRIVSEP_ANSWER ||
			    m->len > sizeof(m->data))
				return -1;
			if (m->seq != seq)
				continue;
		} else
			*answer = got;
		return m->arg == 0 ? 0 : -1;
	}
}

int
privsep_store_keys(uint32_t *ids, size_t max, size_t *n, char **cause)
{
	struct privsep_msg	m;
	size_t			i;

	memset(&m, 0, sizeof(m));
	m.type = PRIVSEP_STORE_KEYS;
	if (privsep_call(&m) == -1 || m.len == 0 || m.len % 4 != 0 ||
	    m.len / 4 > max) {
		cause_set(cause, "store_key: the parent holds no store keys");
		return -1;
	}
	*n = m.len / 4;
	for (i = 0; i < *n; i++)
		memcpy(&ids[i], m.data + i * 4, 4);
	return 0;
}

/* Worker: one batch that fits the channel's limits, sealed or opened. */
static int
privsep_store_chunk(enum store_seal_op op, struct store_seal_item *v,
    size_t n, char **cause)
{
	struct privsep_msg	 m;
	struct timespec		 t0, t1;
	const char		*name = op == STORE_SEAL_OP_SEAL ? "seal" :
				    "open";
	uint8_t			*buf = NULL;
	size_t			 len = 0, alen = 0;
	int			 mfd = -1, afd = -1, rc = -1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (privsep_bulk_encode(v, n, &buf, &len, cause) == -1)
		return -1;
	mfd = privsep_file_write(buf, len, cause);
	sodium_memzero(buf, len);
	free(buf);
	buf = NULL;
	if (mfd == -1)
		return -1;
	memset(&m, 0, sizeof(m));
	m.type = op == STORE_SEAL_OP_SEAL ? PRIVSEP_STORE_SEAL :
	    PRIVSEP_STORE_OPEN;
	if (privsep_call_fd(&m, mfd, &afd, PRIVSEP_BULK_SECS) == -1 ||
	    afd == -1) {
		cause_set(cause, "the parent did not %s %zu bodies (%zu "
		    "bytes); its log says why", name, n, len);
		goto out;
	}
	if (privsep_file_read(afd, &buf, &alen, cause) == -1 ||
	    privsep_bulk_decode_answer(op, buf, alen, v, n, cause) == -1)
		goto out;
	rc = 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_event(LOG_LVL_DEBUG, "privsep.store", "op=%s bodies=%zu bytes=%zu "
	    "answer=%zu usec=%lld", name, n, len, alen,
	    (long long)((t1.tv_sec - t0.tv_sec) * 1000000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000));
out:
	if (buf != NULL)
		sodium_memzero(buf, alen);
	free(buf);
	close(mfd);
	if (afd != -1)
		close(afd);
	return rc;
}

int
privsep_store_crypt(enum store_seal_op op, struct store_seal_item *v,
    size_t n, char **cause)
{
	size_t	 i = 0, j, k, budget;

	while (i < n) {
		/* As many bodies as fit one request (and its answer). */
		budget = 8;
		for (j = i; j < n && j - i < PRIVSEP_BULK_ITEMS; j++) {
			if (j > i && privsep_bulk_cost(&v[j]) >
			    PRIVSEP_BULK_MAX - budget)
				break;
			budget += privsep_bulk_cost(&v[j]);
		}
		if (privsep_store_chunk(op, v + i, j - i, cause) == -1) {
			for (k = 0; k < i; k++) {
				if (v[k].out != NULL)
					sodium_memzero(v[k].out, v[k].out_len);
				free(v[k].out);
				v[k].out = NULL;
			}
			log_event(LOG_LVL_ERROR, "privsep.store", "result=failed "
			    "op=%s bodies=%zu cause=\"%s\"",
			    op == STORE_SEAL_OP_SEAL ? "seal" : "open", n,
			    cause != NULL && *cause != NULL ? *cause : "");
			return -1;
		}
		i = j;
	}
	return 0;
}

int
privsep_anon_hash(const char *tag, const char *reporter, const char *value,
    unsigned char *out, size_t outlen)
{
	struct privsep_msg	m;
	size_t			lt = strlen(tag), lr = strlen(reporter);
	size_t			lv = strlen(value);
	int			rc = -1;

	memset(&m, 0, sizeof(m));
	if (lt + 1 + lr + 1 + lv > sizeof(m.data) || outlen > sizeof(m.data)) {
		log_event(LOG_LVL_ERROR, "privsep.anon", "result=failed "
		    "reason=\"inputs of %zu bytes, more than %zu\"",
		    lt + lr + lv + 2, sizeof(m.data));
		return -1;
	}
	m.type = PRIVSEP_ANON_HASH;
	m.arg = (int32_t)outlen;
	memcpy(m.data, tag, lt + 1);
	memcpy(m.data + lt + 1, reporter, lr + 1);
	memcpy(m.data + lt + 1 + lr + 1, value, lv);
	m.len = (uint32_t)(lt + 1 + lr + 1 + lv);
	if (privsep_call(&m) == 0 && m.len == outlen) {
		memcpy(out, m.data, outlen);
		rc = 0;
	} else
		log_event(LOG_LVL_ERROR, "privsep.anon", "result=failed "
		    "reason=\"the parent did not answer\"");
	sodium_memzero(&m, sizeof(m));
	return rc;
}

/* Worker: have the parent sign in with the key of hash; length or -1. */
static int
privsep_remote_sign(enum privsep_kind kind, int padding,
    const unsigned char *hash, const unsigned char *in, int inlen,
    unsigned char *out, int outlen)
{
	struct privsep_msg	m;
	int			len = -1;

	if (hash == NULL || inlen < 0 || (size_t)inlen > sizeof(m.data))
		return -1;
	memset(&m, 0, sizeof(m));
	m.type = PRIVSEP_SIGN;
	m.kind = kind;
	m.padding = padding;
	m.len = (uint32_t)inlen;
	memcpy(m.key, hash, 32);
	memcpy(m.data, in, (size_t)inlen);
	if (privsep_call(&m) == 0 && m.len <= (uint32_t)outlen) {
		memcpy(out, m.data, m.len);
		len = (int)m.len;
	} else
		log_event(LOG_LVL_ERROR, "privsep.sign", "result=failed "
		    "reason=\"the parent did not sign\"");
	sodium_memzero(&m, sizeof(m));
	return len;
}

/* EC_KEY_METHOD sign: the parent signs the digest (DER ECDSA). */
static int
privsep_ec_sign(int type, const unsigned char *dgst, int dlen,
    unsigned char *sig, unsigned int *siglen, const BIGNUM *kinv,
    const BIGNUM *r, EC_KEY *ec)
{
	int	n;

	n = privsep_remote_sign(PRIVSEP_KEY_EC, 0,
	    EC_KEY_get_ex_data(ec, privsep_ec_idx), dgst, dlen, sig,
	    ECDSA_size(ec));
	if (n < 0)
		return 0;
	*siglen = (unsigned int)n;
	return 1;
}

/* EC_KEY_METHOD sign_sig: the same, as an ECDSA_SIG. */
static ECDSA_SIG *
privsep_ec_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv,
    const BIGNUM *r, EC_KEY *ec)
{
	unsigned char		 buf[256];
	const unsigned char	*p = buf;
	unsigned int		 len;

	if (ECDSA_size(ec) > (int)sizeof(buf) ||
	    privsep_ec_sign(0, dgst, dlen, buf, &len, kinv, r, ec) != 1)
		return NULL;
	return d2i_ECDSA_SIG(NULL, &p, (long)len);
}

/* RSA_METHOD priv_enc: the parent does the private operation. */
static int
privsep_rsa_priv_enc(int flen, const unsigned char *from, unsigned char *to,
    RSA *rsa, int padding)
{
	return privsep_remote_sign(PRIVSEP_KEY_RSA, padding,
	    RSA_get_ex_data(rsa, privsep_rsa_idx), from, flen, to,
	    RSA_size(rsa));
}

/* Free a key's hash along with the key. */
static void
privsep_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	free(ptr);
}

/* A copied key gets its own copy of the hash: each frees its own. */
static int
privsep_ex_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d,
    int idx, long argl, void *argp)
{
	void	*copy;

	if (*from_d == NULL)
		return 1;
	if ((copy = malloc(32)) == NULL)
		return 0;
	memcpy(copy, *from_d, 32);
	*from_d = copy;
	return 1;
}

int
privsep_worker_init(int fd, char **cause)
{
	int	(*sign)(int, const unsigned char *, int, unsigned char *,
		    unsigned int *, const BIGNUM *, const BIGNUM *, EC_KEY *);
	int	(*setup)(EC_KEY *, BN_CTX *, BIGNUM **, BIGNUM **);
	ECDSA_SIG *(*sign_sig)(const unsigned char *, int, const BIGNUM *,
		    const BIGNUM *, EC_KEY *);
	int	 type = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_SEQPACKET) {
		cause_set(cause, "-W: descriptor %d is not the parent's "
		    "channel (ceptoard -W is for the hub's own use)", fd);
		return -1;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	privsep_fd = fd;
	hub->privsep_worker = true;
	privsep_ec_idx = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_EC_KEY, 0,
	    NULL, NULL, privsep_ex_dup, privsep_ex_free);
	privsep_rsa_idx = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_RSA, 0,
	    NULL, NULL, privsep_ex_dup, privsep_ex_free);
	if (privsep_ec_idx < 0 || privsep_rsa_idx < 0) {
		cause_set(cause, "cannot set up the remote key methods");
		return -1;
	}
	if ((privsep_ec_meth = EC_KEY_METHOD_new(EC_KEY_OpenSSL())) == NULL ||
	    (privsep_rsa_meth = RSA_meth_dup(RSA_get_default_method())) ==
	    NULL) {
		cause_set(cause, "cannot set up the remote key methods");
		return -1;
	}
	EC_KEY_METHOD_get_sign(privsep_ec_meth, &sign, &setup, &sign_sig);
	EC_KEY_METHOD_set_sign(privsep_ec_meth, privsep_ec_sign, setup,
	    privsep_ec_sign_sig);
	RSA_meth_set1_name(privsep_rsa_meth, "ceptoard parent");
	RSA_meth_set_priv_enc(privsep_rsa_meth, privsep_rsa_priv_enc);
	return 0;
}

void *
privsep_remote_key(void *cert, char **cause)
{
	EVP_PKEY		*pub, *pkey = NULL;
	struct privsep_msg	 m;
	unsigned char		*hash = NULL;
	EC_KEY			*ec = NULL;
	RSA			*rsa = NULL;

	if ((pub = X509_get0_pubkey(cert)) == NULL ||
	    (hash = malloc(32)) == NULL || privsep_key_hash(pub, hash) == -1) {
		cause_set(cause, "tls_cert: cannot read its public key");
		goto fail;
	}
	memset(&m, 0, sizeof(m));
	m.type = PRIVSEP_HASKEY;
	memcpy(m.key, hash, 32);
	if (privsep_call(&m) == -1) {
		cause_set(cause, "tls_key: the parent holds no key for "
		    "tls_cert (its reload of tls_key failed)");
		goto fail;
	}
	if ((pkey = EVP_PKEY_new()) == NULL)
		goto nomem;
	switch (EVP_PKEY_get_base_id(pub)) {
	case EVP_PKEY_EC:
		if ((ec = EC_KEY_dup(EVP_PKEY_get0_EC_KEY(pub))) == NULL ||
		    EC_KEY_set_method(ec, privsep_ec_meth) != 1 ||
		    EC_KEY_set_ex_data(ec, privsep_ec_idx, hash) != 1)
			goto nomem;
		hash = NULL;
		if (EVP_PKEY_assign(pkey, EVP_PKEY_EC, ec) != 1)
			goto nomem;
		ec = NULL;
		break;
	case EVP_PKEY_RSA:
		if ((rsa = RSAPublicKey_dup(EVP_PKEY_get0_RSA(pub))) == NULL ||
		    RSA_set_method(rsa, privsep_rsa_meth) != 1 ||
		    RSA_set_ex_data(rsa, privsep_rsa_idx, hash) != 1)
			goto nomem;
		hash = NULL;
		if (EVP_PKEY_assign(pkey, EVP_PKEY_RSA, rsa) != 1)
			goto nomem;
		rsa = NULL;
		break;
	default:
		cause_set(cause, "tls_cert: only EC and RSA keys can be used "
		    "by the unprivileged worker");
		goto fail;
	}
	return pkey;
nomem:
	cause_set(cause, "cannot build the remote key: %s",
	    ERR_reason_error_string(ERR_peek_last_error()) ?
	    ERR_reason_error_string(ERR_peek_last_error()) : "out of memory");
	ERR_clear_error();
fail:
	EC_KEY_free(ec);
	RSA_free(rsa);
	EVP_PKEY_free(pkey);
	free(hash);
	return NULL;
}

/* The parent went away (it would have killed us): stop serving. */
static void
privsep_watch_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct privsep_msg	m;
	void			(*stop)(void) = arg;
	ssize_t			n;

	n = recv(fd, &m, sizeof(m), MSG_DONTWAIT | MSG_TRUNC);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		log_event(LOG_LVL_WARN, "privsep.unexpected", "bytes=%zd", n);
		return;
	}
	log_event(LOG_LVL_ERROR, "privsep.parent", "event=gone "
	    "action=\"stopping\"");
	event_del(privsep_watch_ev);
	stop();
}

int
privsep_worker_ready(struct event_base *base, void (*stop)(void))
{
	struct privsep_msg	m;

	privsep_watch_ev = event_new(base, privsep_fd, EV_READ | EV_PERSIST,
	    privsep_watch_cb, stop);
	if (privsep_watch_ev == NULL || event_add(privsep_watch_ev, NULL) == -1)
		return -1;
	memset(&m, 0, sizeof(m));
	m.type = PRIVSEP_READY;
	return privsep_send(privsep_fd, &m);
}

void
privsep_worker_fatal(int status)
{
	struct privsep_msg	m;

	if (privsep_fd == -1)
		return;
	memset(&m, 0, sizeof(m));
	m.type = PRIVSEP_FATAL;
	m.arg = status;
	(void)privsep_send(privsep_fd, &m);
}

void
privsep_worker_done(void)
{
	if (privsep_watch_ev != NULL)
		event_free(privsep_watch_ev);
	privsep_watch_ev = NULL;
	EC_KEY_METHOD_free(privsep_ec_meth);
	RSA_meth_free(privsep_rsa_meth);
	privsep_ec_meth = NULL;
	privsep_rsa_meth = NULL;
	if (privsep_fd != -1)
		close(privsep_fd);
	privsep_fd = -1;
}
