/*
 * TLS for the hub: one server context requiring a client certificate
 * from the configured CA (and, with tls_crl, not revoked by it), and the
 * peer's identity read from the verified certificate.  SIGHUP builds a
 * new context from the same files; sessions keep the one they started
 * with.  Nothing outside this file sees an SSL pointer.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include "ceptoard.h"
#include "yconf.h"

/*
 * TLS 1.2, when tls_min_version allows it, is held to forward secrecy and
 * AEAD ciphers.  TLS 1.3's suites are all of that kind and are left at
 * OpenSSL's defaults.
 */
#define TLS12_CIPHERS	"ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!PSK"

/* What a context was built with, for the reload's log line. */
struct tls_info {
	size_t	crls;		/* CRLs loaded from tls_crl */
	size_t	crl_entries;	/* revoked certificates they list */
};

/* SSL ex_data slot for why the client's certificate was refused. */
static int	tls_refusal_idx = -1;
/* SSL ex_data slot for an admitted connection's token (tls_admission). */
static int	tls_admit_idx = -1;
static int	(*tls_admit)(int fd, void **token);
static void	(*tls_release)(void *token);

/*
 * Set *cause to a malloc'd "file:line: what", line being where option is
 * set in the configuration file: mistakes found only once the files an
 * option names are read still point at the line to fix.  The file is
 * read again for that; if it cannot be, the message names the file
 * alone.  Returns NULL for the callers' convenience.
 */
static void * __attribute__((format(printf, 4, 5)))
tls_conf_error(const struct config *conf, const char *option, char **cause,
    const char *fmt, ...)
{
	struct yconf	 y;
	yaml_node_t	*v;
	char		*msg = NULL, *why = NULL;
	unsigned long	 line = 0;
	va_list		 ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	*cause = NULL;
	if (msg == NULL)
		return NULL;
	if (conf->path != NULL && yconf_load(&y, conf->path, &why) == 0) {
		if ((v = yconf_get(&y, yconf_root(&y), option)) != NULL)
			line = yconf_line(v);
		yconf_free(&y);
	}
	free(why);
	if (conf->path == NULL)
		*cause = msg;
	else {
		if (line > 0)
			cause_set(cause, "%s:%lu: %s", conf->path, line, msg);
		else
			cause_set(cause, "%s: %s", conf->path, msg);
		free(msg);
	}
	return NULL;
}

/* The reason of the newest OpenSSL error, for configuration messages. */
static const char *
tls_ssl_reason(void)
{
	const char	*r = NULL;
	unsigned long	 e;

	if ((e = ERR_peek_last_error()) != 0)
		r = ERR_reason_error_string(e);
	ERR_clear_error();
	return r != NULL ? r : "unknown error";
}

/* A distinguished name on one line, "O=..., CN=...", into buf. */
static const char *
tls_name(const X509_NAME *name, char *buf, size_t len)
{
	BIO	*bio;
	int	 n;

	buf[0] = '\0';
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return buf;
	X509_NAME_print_ex(bio, name, 0, XN_FLAG_SEP_CPLUS_SPC |
	    (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB));
	if ((n = BIO_read(bio, buf, (int)len - 1)) > 0)
		buf[n] = '\0';
	BIO_free(bio);
	return buf;
}

/* The CN of name into buf, or its whole text if it has no CN. */
static const char *
tls_name_cn(const X509_NAME *name, char *buf, size_t len)
{
	int	n;

	n = X509_NAME_get_text_by_NID(name, NID_commonName, buf, (int)len);
	if (n <= 0)
		return tls_name(name, buf, len);
	return buf;
}

/* Whether the n bytes at p are well-formed UTF-8 (RFC 3629). */
static bool
tls_utf8_valid(const unsigned char *p, size_t n)
{
	size_t		i = 0, k, more;
	uint32_t	cp;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf) {
			more = 1;
			cp = p[i] & 0x1f;
		} else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			more = 2;
			cp = p[i] & 0x0f;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			more = 3;
			cp = p[i] & 0x07;
		} else
			return false;
		if (n - i <= more)
			return false;
		for (k = 1; k <= more; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and past U+10FFFF. */
		if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += more + 1;
	}
	return true;
}

const char *
tls_name_identity(const X509_NAME *name, char *buf, size_t len)
{
	const X509_NAME_ENTRY	*e;
	unsigned char		*utf8 = NULL;
	int			 i, n;

	buf[0] = '\0';
	if ((i = X509_NAME_get_index_by_NID(name, NID_commonName, -1)) < 0)
		return "its subject has no common name (CN)";
	if (X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0)
		return "its subject has more than one common name (CN); "
		    "exactly one names the organisation";
	e = X509_NAME_get_entry(name, i);
	/*
	 * Decode whatever string type the CA chose (UTF8String, BMPString,
	 * PrintableString, ...) to text: comparing the raw bytes would
	 * take a BMPString whose UTF-16 happens to spell "nisc" for nisc.
	 */
	if ((n = ASN1_STRING_to_UTF8(&utf8,
	    X509_NAME_ENTRY_get_data(e))) < 0) {
		ERR_clear_error();
		return "its common name (CN) cannot be decoded as text";
	}
	if (memchr(utf8, '\0', (size_t)n) != NULL) {
		OPENSSL_free(utf8);
		return "its common name (CN) contains a NUL character";
	}
	if (!tls_utf8_valid(utf8, (size_t)n)) {
		OPENSSL_free(utf8);
		return "its common name (CN) is not valid UTF-8";
	}
	if (n == 0 || (size_t)n >= len) {
		OPENSSL_free(utf8);
		return n == 0 ? "its common name (CN) is empty" :
		    "its common name (CN) is too long";
	}
	memcpy(buf, utf8, (size_t)n);
	buf[n] = '\0';
	OPENSSL_free(utf8);
	return NULL;
}

/* An ASN.1 time as "2026-11-21T09:00:00Z" into buf. */
static const char *
tls_time(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm	tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "(unreadable time)");
	return buf;
}

/* Refuse a private key file that others than the owner can read. */
static int
tls_check_key_mode(const struct config *conf, char **cause)
{
	struct stat	st;

	if (stat(conf->tls_key, &st) == -1) {
		tls_conf_error(conf, "tls_key", cause, "tls_key %s: %s",
		    conf->tls_key, strerror(errno));
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		tls_conf_error(conf, "tls_key", cause, "tls_key %s is readable "
		    "by group or others (mode %04o); chmod 600 it",
		    conf->tls_key, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* tls_min_version as an OpenSSL protocol version; -1 with a cause. */
static int
tls_min_version(const struct config *conf, int *version, char **cause)
{
	const char	*v = conf->tls_min_version;

	if (v == NULL || strcmp(v, "1.3") == 0)
		*version = TLS1_3_VERSION;
	else if (strcmp(v, "1.2") == 0)
		*version = TLS1_2_VERSION;
	else {
		tls_conf_error(conf, "tls_min_version", cause, "tls_min_version "
		    "\"%s\" is not 1.3 or 1.2 (older versions are not offered)",
		    v);
		return -1;
	}
	return 0;
}

/* Read every certificate of a PEM file; NULL with a cause. */
static STACK_OF(X509) *
tls_read_certs(const struct config *conf, const char *option,
    const char *path, char **cause)
{
	STACK_OF(X509)	*certs;
	BIO		*bio;
	X509		*x;

	if ((bio = BIO_new_file(path, "r")) == NULL)
		return tls_conf_error(conf, option, cause, "%s %s: %s", option,
		    path, tls_ssl_reason());
	if ((certs = sk_X509_new_null()) == NULL) {
		BIO_free(bio);
		return tls_conf_error(conf, option, cause, "out of memory");
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_push(certs, x) == 0) {
			X509_free(x);
			break;
		}
	}
	ERR_clear_error();
	BIO_free(bio);
	if (sk_X509_num(certs) == 0) {
		sk_X509_free(certs);
		return tls_conf_error(conf, option, cause, "%s %s holds no PEM "
		    "certificate", option, path);
	}
	return certs;
}

/*
 * Read every CRL of a PEM file.  Text around the PEM blocks is ignored,
 * as openssl does; a block that does not parse is an error, and so is a
 * file without any.  NULL with a cause.
 */
static STACK_OF(X509_CRL) *
tls_read_crls(const struct config *conf, char **cause)
{
	STACK_OF(X509_CRL)	*crls;
	BIO			*bio;
	X509_CRL		*crl;
	unsigned long		 e;

	if ((bio = BIO_new_file(conf->tls_crl, "r")) == NULL)
		return tls_conf_error(conf, "tls_crl", cause, "tls_crl %s: %s",
		    conf->tls_crl, tls_ssl_reason());
	if ((crls = sk_X509_CRL_new_null()) == NULL) {
		BIO_free(bio);
		return tls_conf_error(conf, "tls_crl", cause, "out of memory");
	}
	ERR_clear_error();
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_CRL_push(crls, crl) == 0) {
			X509_CRL_free(crl);
			break;
		}
	}
	e = ERR_peek_last_error();
	BIO_free(bio);
	/* Running out of PEM blocks ends the file; anything else is damage. */
	if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
		tls_conf_error(conf, "tls_crl", cause, "tls_crl %s: CRL number "
		    "%d cannot be read: %s", conf->tls_crl,
		    sk_X509_CRL_num(crls) + 1, tls_ssl_reason());
		sk_X509_CRL_pop_free(crls, X509_CRL_free);
		return NULL;
	}
	ERR_clear_error();
	if (sk_X509_CRL_num(crls) == 0) {
		sk_X509_CRL_free(crls);
		return tls_conf_error(conf, "tls_crl", cause, "tls_crl %s holds "
		    "no PEM CRL (\"-----BEGIN X509 CRL-----\"; make one with "
		    "openssl ca -gencrl)", conf->tls_crl);
	}
	return crls;
}

/* Whether crl was issued and signed by ca. */
static int
tls_crl_from(X509_CRL *crl, X509 *ca)
{
	EVP_PKEY	*key;
	int		 ok;

	if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(ca)) != 0)
		return 0;
	if ((key = X509_get0_pubkey(ca)) == NULL)
		return 0;
	ok = X509_CRL_verify(crl, key) == 1;
	ERR_clear_error();
	return ok;
}

/*
 * Load tls_crl into store and turn revocation checking on.  Every CRL
 * must come from a CA of tls_ca and be current, and every CA of tls_ca
 * must have one: otherwise each handshake would fail ("unable to get
 * certificate CRL", "CRL has expired") and the operator would learn of
 * it from clients.  Counts go to info.
 */
static int
tls_load_crls(const struct config *conf, X509_STORE *store,
    struct tls_info *info, char **cause)
{
	STACK_OF(X509)		*cas = NULL;
	STACK_OF(X509_CRL)	*crls = NULL;
	STACK_OF(X509_REVOKED)	*revoked;
	X509_CRL		*crl;
	const ASN1_TIME		*next;
	char			 name[256], when[32];
	int			 i, j, found, rc = -1;

	if ((cas = tls_read_certs(conf, "tls_ca", conf->tls_ca, cause)) == NULL)
		return -1;
	if ((crls = tls_read_crls(conf, cause)) == NULL)
		goto out;
	for (i = 0; i < sk_X509_CRL_num(crls); i++) {
		crl = sk_X509_CRL_value(crls, i);
		tls_name(X509_CRL_get_issuer(crl), name, sizeof(name));
		for (j = found = 0; j < sk_X509_num(cas) && !found; j++)
			found = tls_crl_from(crl, sk_X509_value(cas, j));
		if (!found) {
			tls_conf_error(conf, "tls_crl", cause, "tls_crl %s: CRL "
			    "number %d, issued in the name of \"%s\", is not "
			    "signed by any CA of tls_ca %s", conf->tls_crl,
			    i + 1, name, conf->tls_ca);
			goto out;
		}
		if (X509_cmp_current_time(X509_CRL_get0_lastUpdate(crl)) > 0) {
			tls_conf_error(conf, "tls_crl", cause, "tls_crl %s: the "
			    "CRL of \"%s\" is not valid until %s", conf->tls_crl,
			    name, tls_time(X509_CRL_get0_lastUpdate(crl), when,
			    sizeof(when)));
			goto out;
		}
		next = X509_CRL_get0_nextUpdate(crl);
		if (next != NULL && X509_cmp_current_time(next) < 0) {
			tls_conf_error(conf, "tls_crl", cause, "tls_crl %s: the "
			    "CRL of \"%s\" expired at %s; publish a new one "
			    "(openssl ca -gencrl)", conf->tls_crl, name,
			    tls_time(next, when, sizeof(when)));
			goto out;
		}
	}
	for (j = 0; j < sk_X509_num(cas); j++) {
		for (i = found = 0; i < sk_X509_CRL_num(crls) && !found; i++)
			found = tls_crl_from(sk_X509_CRL_value(crls, i),
			    sk_X509_value(cas, j));
		if (!found) {
			tls_conf_error(conf, "tls_crl", cause, "tls_crl %s has no "
			    "CRL from \"%s\", a CA of tls_ca %s: every client "
			    "certificate it issued would be refused; add its "
			    "CRL (openssl ca -gencrl) or remove it from tls_ca",
			    conf->tls_crl, tls_name(X509_get_subject_name(
			    sk_X509_value(cas, j)), name, sizeof(name)),
			    conf->tls_ca);
			goto out;
		}
	}
	for (i = 0; i < sk_X509_CRL_num(crls); i++) {
		crl = sk_X509_CRL_value(crls, i);
		if (X509_STORE_add_crl(store, crl) != 1) {
			tls_conf_error(conf, "tls_crl", cause, "tls_crl %s: %s",
			    conf->tls_crl, tls_ssl_reason());
			goto out;
		}
		revoked = X509_CRL_get_REVOKED(crl);
		info->crl_entries += revoked ? sk_X509_REVOKED_num(revoked) : 0;
		info->crls++;
	}
	/* The client's own certificate; the CAs are the hub's choice. */
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	rc = 0;
out:
	sk_X509_pop_free(cas, X509_free);
	if (crls != NULL)
		sk_X509_CRL_pop_free(crls, X509_CRL_free);
	return rc;
}

/* Give an admitted connection's token back with its SSL. */
static void
tls_admit_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	if (ptr != NULL && tls_release != NULL)
		tls_release(ptr);
}

/*
 * The ClientHello of a TAXII connection: the first moment its socket
 * is known (evhttp hands it to the bufferevent after ours is made), so
 * the connection limits are applied here; a refusal ends the handshake
 * with an alert.
 */
static int
tls_client_hello_cb(SSL *ssl, int *alert, void *arg)
{
	void	*token = NULL;

	if (tls_admit == NULL || SSL_get_ex_data(ssl, tls_admit_idx) != NULL)
		return SSL_CLIENT_HELLO_SUCCESS;
	if (tls_admit(SSL_get_fd(ssl), &token) == -1) {
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	if (SSL_set_ex_data(ssl, tls_admit_idx, token) != 1)
		tls_release(token);
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* Free a refusal note with its SSL. */
static void
tls_refusal_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	free(ptr);
}

/*
 * The leaf verified: refuse it in the handshake, with an alert and the
 * reason noted for the log, if its subject does not name exactly one
 * organisation as text (tls_name_identity).  1 to go on, 0 to refuse.
 */
static int
tls_verify_identity(X509_STORE_CTX *xs)
{
	SSL		*ssl;
	X509		*leaf;
	const char	*why;
	char		 cn[256], subject[256], *note;

	if ((leaf = X509_STORE_CTX_get_current_cert(xs)) == NULL)
		return 1;
	if ((why = tls_name_identity(X509_get_subject_name(leaf), cn,
	    sizeof(cn))) == NULL)
		return 1;
	ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	tls_name(X509_get_subject_name(leaf), subject, sizeof(subject));
	if (ssl != NULL && SSL_get_ex_data(ssl, tls_refusal_idx) == NULL &&
	    asprintf(&note, "%s (certificate subject %s)", why, subject) != -1 &&
	    SSL_set_ex_data(ssl, tls_refusal_idx, note) != 1)
		free(note);
	X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
	return 0;
}

/*
 * Verification callback: the verdict stays OpenSSL's, but the first
 * refusal notes which certificate it was, since OpenSSL keeps none of it
 * once the handshake has failed.
 */
static int
tls_verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL		*ssl;
	X509		*leaf;
	char		 cn[128], issuer[128], serial[80] = "", *note;
	ASN1_INTEGER	*sn;
	BIGNUM		*bn;
	char		*hex;

	if (ok && tls_refusal_idx != -1 &&
	    X509_STORE_CTX_get_error_depth(xs) == 0)
		return tls_verify_identity(xs);
	if (ok || tls_refusal_idx == -1)
		return ok;
	ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL || SSL_get_ex_data(ssl, tls_refusal_idx) != NULL ||
	    (leaf = X509_STORE_CTX_get0_cert(xs)) == NULL)
		return ok;
	tls_name_cn(X509_get_subject_name(leaf), cn, sizeof(cn));
	tls_name_cn(X509_get_issuer_name(leaf), issuer, sizeof(issuer));
	/* The serial is what a revocation is looked up by. */
	if (X509_STORE_CTX_get_error(xs) == X509_V_ERR_CERT_REVOKED &&
	    (sn = X509_get_serialNumber(leaf)) != NULL &&
	    (bn = ASN1_INTEGER_to_BN(sn, NULL)) != NULL) {
		if ((hex = BN_bn2hex(bn)) != NULL) {
			snprintf(serial, sizeof(serial), ", serial %s", hex);
			OPENSSL_free(hex);
		}
		BN_free(bn);
	}
	if (asprintf(&note, "%s (certificate CN=%s%s, issuer CN=%s)",
	    X509_verify_cert_error_string(X509_STORE_CTX_get_error(xs)), cn,
	    serial, issuer) != -1 &&
	    SSL_set_ex_data(ssl, tls_refusal_idx, note) != 1)
		free(note);
	return ok;
}

/* Worker: a key for tls_cert whose private half stays with the parent. */
static int
tls_use_remote_key(SSL_CTX *ctx, char **cause)
{
	EVP_PKEY	*pkey;
	int		 rc;

	if ((pkey = privsep_remote_key(SSL_CTX_get0_certificate(ctx),
	    cause)) == NULL)
		return -1;
	rc = SSL_CTX_use_PrivateKey(ctx, pkey);
	EVP_PKEY_free(pkey);
	if (rc != 1) {
		cause_set(cause, "tls_key: the parent's key: %s",
		    tls_ssl_reason());
		return -1;
	}
	return 0;
}

/*
 * A server context from conf's tls_* options, with what it loaded in
 * info; NULL with a "file:line: what" cause.  For the TAXII listener
 * (taxii), TLS 1.2 is accepted whatever tls_min_version says, as TAXII
 * 2.1 requires of servers, and a client certificate is optional (MISP
 * authenticates with HTTP Basic instead); one that is sent is verified
 * exactly as on the clients' listener.
 */
static SSL_CTX *
tls_ctx_build(const struct config *conf, struct tls_info *info, bool taxii,
    char **cause)
{
	SSL_CTX			*ctx;
	STACK_OF(X509_NAME)	*names;
	int			 minv;

	*cause = NULL;
	memset(info, 0, sizeof(*info));
	if (tls_refusal_idx == -1)
		tls_refusal_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    tls_refusal_free);
	if (tls_min_version(conf, &minv, cause) == -1)
		return NULL;
	if (taxii)
		minv = TLS1_2_VERSION;
	if (tls_admit_idx == -1)
		tls_admit_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    tls_admit_free);
	/* The worker never sees tls_key; the parent checked it. */
	if (!hub->privsep_worker && tls_check_key_mode(conf, cause) == -1)
		return NULL;
	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		*cause = NULL;
		cause_set(cause, "SSL_CTX_new: %s", tls_ssl_reason());
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, minv);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
		tls_conf_error(conf, "tls_min_version", cause, "TLS 1.2 cipher "
		    "list %s: %s", TLS12_CIPHERS, tls_ssl_reason());
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* Idle connections keep no read or write buffers: 10,000 of them. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, conf->tls_cert) != 1) {
		tls_conf_error(conf, "tls_cert", cause, "tls_cert %s: %s",
		    conf->tls_cert, tls_ssl_reason());
		goto fail;
	}
	if (hub->privsep_worker) {
		if (tls_use_remote_key(ctx, cause) == -1)
			goto fail;
	} else if (SSL_CTX_use_PrivateKey_file(ctx, conf->tls_key,
	    SSL_FILETYPE_PEM) != 1) {
		tls_conf_error(conf, "tls_key", cause, "tls_key %s: %s",
		    conf->tls_key, tls_ssl_reason());
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_conf_error(conf, "tls_key", cause, "tls_key %s does not "
		    "match tls_cert %s: %s", conf->tls_key, conf->tls_cert,
		    tls_ssl_reason());
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, conf->tls_ca, NULL) != 1) {
		tls_conf_error(conf, "tls_ca", cause, "tls_ca %s: %s",
		    conf->tls_ca, tls_ssl_reason());
		goto fail;
	}
	/*
	 * Fix the chain we send once, here: left to itself OpenSSL rebuilds
	 * and verifies it at every handshake, a signature check per
	 * connection.  The root is left out; every peer has it already.
	 */
	if (SSL_CTX_build_cert_chain(ctx, SSL_BUILD_CHAIN_FLAG_UNTRUSTED |
	    SSL_BUILD_CHAIN_FLAG_NO_ROOT | SSL_BUILD_CHAIN_FLAG_IGNORE_ERROR |
	    SSL_BUILD_CHAIN_FLAG_CLEAR_ERROR) == 0) {
		tls_conf_error(conf, "tls_cert", cause, "tls_cert %s: cannot "
		    "build its chain from tls_ca %s: %s", conf->tls_cert,
		    conf->tls_ca, tls_ssl_reason());
		goto fail;
	}
	if ((names = SSL_load_client_CA_file(conf->tls_ca)) == NULL) {
		tls_conf_error(conf, "tls_ca", cause, "tls_ca %s: %s",
		    conf->tls_ca, tls_ssl_reason());
		goto fail;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	if (conf->tls_crl != NULL && tls_load_crls(conf,
	    SSL_CTX_get_cert_store(ctx), info, cause) == -1)
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (taxii ? 0 :
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT), tls_verify_cb);
	if (taxii)
		SSL_CTX_set_client_hello_cb(ctx, tls_client_hello_cb, NULL);
	SSL_CTX_set_verify_depth(ctx, 4);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

void *
tls_server_ctx(const struct config *conf, char **cause)
{
	struct tls_info	info;

	return tls_ctx_build(conf, &info, false, cause);
}

void *
tls_taxii_ctx(const struct config *conf, char **cause)
{
	struct tls_info	info;

	return tls_ctx_build(conf, &info, true, cause);
}

void
tls_reload(void)
{
	struct tls_info	 info;
	SSL_CTX		*ctx;
	char		*cause = NULL, esc[1024];

	if ((ctx = tls_ctx_build(&hub->conf, &info, false, &cause)) == NULL) {
		log_event(LOG_LVL_ERROR, "config.reload",
		    "result=failed what=tls cause=%s action=\"keeping the "
		    "previous certificates and CRLs\"",
		    log_escape(cause ? cause : "out of memory", esc,
		    sizeof(esc)));
		free(cause);
		return;
	}
	/* Sessions hold their own reference to the context they began on. */
	SSL_CTX_free(hub->tls_ctx);
	hub->tls_ctx = ctx;
	/* The TAXII listener's, from the same files: they were just read. */
	if (hub->taxii_tls_ctx != NULL &&
	    (ctx = tls_ctx_build(&hub->conf, &info, true, &cause)) != NULL) {
		SSL_CTX_free(hub->taxii_tls_ctx);
		hub->taxii_tls_ctx = ctx;
	}
	free(cause);
	log_event(LOG_LVL_INFO, "config.reload",
	    "result=ok what=tls crl_entries=%zu crls=%zu", info.crl_entries,
	    info.crls);
}

void
tls_admission(int (*admit)(int fd, void **token),
    void (*release)(void *token))
{
	tls_admit = admit;
	tls_release = release;
}

struct bufferevent *
tls_accept_http(struct event_base *base, void *ctx)
{
	SSL	*ssl;

	if ((ssl = SSL_new(ctx)) == NULL)
		return NULL;
	/* evhttp sets the socket, then reads: the handshake comes first. */
	return bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

bool
tls_has_peer_certificate(struct bufferevent *bev)
{
	SSL	*ssl;
	X509	*cert;

	if ((ssl = bufferevent_openssl_get_ssl(bev)) == NULL ||
	    (cert = SSL_get0_peer_certificate(ssl)) == NULL)
		return false;
	return true;
}

void
tls_ctx_free(void *ctx)
{
	SSL_CTX_free(ctx);
}

struct bufferevent *
tls_accept(struct event_base *base, void *ctx, int fd)
{
	SSL	*ssl;

	if ((ssl = SSL_new(ctx)) == NULL)
		return NULL;
	/*
	 * BEV_OPT_DEFER_CALLBACKS keeps our callbacks from running inside
	 * libevent's own, so a session may be torn down from any of them.
	 */
	return bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
}

int
tls_peer_identity(struct bufferevent *bev, char *cn, size_t cnlen,
    char *fingerprint, size_t fplen, const char **why)
{
	SSL		*ssl;
	X509		*cert;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0, i;

	cn[0] = '\0';
	fingerprint[0] = '\0';
	*why = "no verified client certificate";
	if ((ssl = bufferevent_openssl_get_ssl(bev)) == NULL)
		return -1;
	if (SSL_get_verify_result(ssl) != X509_V_OK)
		return -1;
	if ((cert = SSL_get1_peer_certificate(ssl)) == NULL)
		return -1;
	/* tls_verify_identity refused these already; never trust one. */
	if ((*why = tls_name_identity(X509_get_subject_name(cert), cn,
	    cnlen)) != NULL) {
		cn[0] = '\0';
		X509_free(cert);
		return -1;
	}
	if (X509_digest(cert, EVP_sha256(), md, &mdlen) == 1) {
		for (i = 0; i < mdlen && (size_t)(i * 2 + 3) <= fplen; i++)
			snprintf(fingerprint + i * 2, 3, "%02x", md[i]);
	}
	X509_free(cert);
	return 0;
}

/* "1.2" for TLS1_2_VERSION and so on, for messages. */
static const char *
tls_version_name(int v)
{
	switch (v) {
	case TLS1_3_VERSION:	return "1.3";
	case TLS1_2_VERSION:	return "1.2";
	case TLS1_1_VERSION:	return "1.1";
	case TLS1_VERSION:	return "1.0";
	case SSL3_VERSION:	return "SSL 3";
	}
	return "an unknown version";
}

const char *
tls_error_string(struct bufferevent *bev, char *buf, size_t len)
{
	SSL		*ssl = bufferevent_openssl_get_ssl(bev);
	const char	*note, *r;
	long		 vr;
	unsigned long	 e, last = 0, code = 0;
	int		 nocert = 0, oldproto = 0, nocipher = 0, eof = 0;

	buf[0] = '\0';
	/*
	 * libevent queues OpenSSL's errors and, after them, the SSL_ERROR_*
	 * code of the failed call (no library): the errors say more.
	 */
	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		if (ERR_GET_LIB(e) == 0) {
			code = e;
			continue;
		}
		last = e;
		if (ERR_GET_LIB(e) != ERR_LIB_SSL)
			continue;
		switch (ERR_GET_REASON(e)) {
		case SSL_R_UNEXPECTED_EOF_WHILE_READING:
			eof = 1;
			break;
		case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
			nocert = 1;
			break;
		case SSL_R_UNSUPPORTED_PROTOCOL:
			oldproto = 1;
			break;
		case SSL_R_NO_SHARED_CIPHER:
			nocipher = 1;
			break;
		}
	}
	/* Say first what the certificate check found: it is the usual cause. */
	if (ssl != NULL && !SSL_is_init_finished(ssl)) {
		if ((vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
			note = tls_refusal_idx == -1 ? NULL :
			    SSL_get_ex_data(ssl, tls_refusal_idx);
			snprintf(buf, len, "client certificate refused: %s",
			    note ? note : X509_verify_cert_error_string(vr));
			return buf;
		}
		if (nocert) {
			snprintf(buf, len, "the client presented no "
			    "certificate");
			return buf;
		}
		if (oldproto) {
			snprintf(buf, len, "unsupported protocol: the client "
			    "offers TLS %s at most, the hub requires %s or later "
			    "(tls_min_version)",
			    tls_version_name(SSL_client_version(ssl)),
			    tls_version_name(SSL_CTX_get_min_proto_version(
			    SSL_get_SSL_CTX(ssl))));
			return buf;
		}
		if (nocipher) {
			snprintf(buf, len, "no shared cipher: with TLS 1.2 the "
			    "hub takes only ECDHE with AES-GCM or "
			    "ChaCha20-Poly1305");
			return buf;
		}
	}
	if (eof)
		snprintf(buf, len, "the client closed the connection without "
		    "a TLS close_notify");
	else if (last != 0 && (r = ERR_reason_error_string(last)) != NULL)
		snprintf(buf, len, "%s", r);
	else if (last != 0 || code != 0)
		snprintf(buf, len, "%s (error %lu)", ssl != NULL &&
		    !SSL_is_init_finished(ssl) ? "handshake failed" :
		    "connection failed", last != 0 ? last : code);
	return buf[0] ? buf : NULL;
}

const char *
tls_version(struct bufferevent *bev)
{
	SSL	*ssl;

	if ((ssl = bufferevent_openssl_get_ssl(bev)) == NULL)
		return "none";
	return SSL_get_version(ssl);
}
