/*
 * TLS for the hub: one server context requiring a client certificate
 * from the configured CA, and the peer's identity read from the verified
 * certificate.  Nothing outside this file sees an SSL pointer.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include "ceptoard.h"

/* The newest OpenSSL error as a malloc'd sentence prefixed by what. */
static char *
tls_cause(const char *what, const char *path)
{
	char		 buf[256] = "";
	char		*out;
	unsigned long	 e;

	if ((e = ERR_peek_last_error()) != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	if (asprintf(&out, "%s %s: %s", what, path ? path : "",
	    buf[0] ? buf : "unknown error") == -1)
		return NULL;
	return out;
}

/* Refuse a private key file that others than the owner can read. */
static int
tls_check_key_mode(const char *path, char **cause)
{
	struct stat	st;

	if (stat(path, &st) == -1) {
		if (asprintf(cause, "tls_key %s: %s", path, strerror(errno))
		    == -1)
			*cause = NULL;
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		if (asprintf(cause, "tls_key %s is readable by group or "
		    "others (mode %04o); chmod 600 it", path,
		    (unsigned)(st.st_mode & 07777)) == -1)
			*cause = NULL;
		return -1;
	}
	return 0;
}

void *
tls_server_ctx(const struct config *conf, char **cause)
{
	SSL_CTX			*ctx;
	STACK_OF(X509_NAME)	*names;

	*cause = NULL;
	if (tls_check_key_mode(conf->tls_key, cause) == -1)
		return NULL;
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		*cause = tls_cause("SSL_CTX_new", NULL);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (SSL_CTX_use_certificate_chain_file(ctx, conf->tls_cert) != 1) {
		*cause = tls_cause("tls_cert", conf->tls_cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, conf->tls_key, SSL_FILETYPE_PEM)
	    != 1) {
		*cause = tls_cause("tls_key", conf->tls_key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		*cause = tls_cause("tls_key does not match tls_cert",
		    conf->tls_key);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, conf->tls_ca, NULL) != 1) {
		*cause = tls_cause("tls_ca", conf->tls_ca);
		goto fail;
	}
	if ((names = SSL_load_client_CA_file(conf->tls_ca)) == NULL) {
		*cause = tls_cause("tls_ca", conf->tls_ca);
		goto fail;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, 4);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
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
    char *fingerprint, size_t fplen)
{
	SSL		*ssl;
	X509		*cert;
	X509_NAME	*subject;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0, i;
	int		 n;

	cn[0] = '\0';
	fingerprint[0] = '\0';
	if ((ssl = bufferevent_openssl_get_ssl(bev)) == NULL)
		return -1;
	if (SSL_get_verify_result(ssl) != X509_V_OK)
		return -1;
	if ((cert = SSL_get1_peer_certificate(ssl)) == NULL)
		return -1;
	subject = X509_get_subject_name(cert);
	n = X509_NAME_get_text_by_NID(subject, NID_commonName, cn, (int)cnlen);
	if (n <= 0 || (size_t)n >= cnlen || strlen(cn) != (size_t)n) {
		/* No CN, a truncated one, or one with an embedded NUL. */
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

const char *
tls_error_string(struct bufferevent *bev, char *buf, size_t len)
{
	SSL		*ssl = bufferevent_openssl_get_ssl(bev);
	X509		*peer;
	long		 vr;
	unsigned long	 e, last = 0;
	const char	*r;

	buf[0] = '\0';
	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		last = e;
	/* Say first what the certificate check found: it is the usual cause. */
	if (ssl != NULL && !SSL_is_init_finished(ssl)) {
		if ((vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
			snprintf(buf, len, "client certificate refused: %s",
			    X509_verify_cert_error_string(vr));
			return buf;
		}
		if ((peer = SSL_get1_peer_certificate(ssl)) == NULL &&
		    SSL_get_state(ssl) != TLS_ST_BEFORE) {
			snprintf(buf, len, "the client presented no "
			    "certificate");
			return buf;
		}
		X509_free(peer);
	}
	if (last != 0 && ERR_GET_LIB(last) != 0 &&
	    (r = ERR_reason_error_string(last)) != NULL)
		snprintf(buf, len, "%s", r);
	else if (last != 0)
		snprintf(buf, len, "handshake failed (error %lu)", last);
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
