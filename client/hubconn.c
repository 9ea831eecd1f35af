/*
 * The connection to the hub: TCP, TLS 1.3 with certificates both ways,
 * framed envelopes, and the Hello/Welcome exchange.
 *
 * The socket is non-blocking and every wait is a poll() against one
 * deadline, so a hub that stops answering costs the configured timeout
 * and never a hang.  Every failure ends as one sentence a person on call
 * can act on, and an exit status a script can act on.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "ceptoar.h"
#include "frame.h"

#define HUBCONN_READ_CHUNK	16384

struct hubconn {
	const struct clientconf	*conf;
	int			 fd;
	SSL_CTX			*ctx;
	SSL			*ssl;
	bool			 handshaken;
	bool			 dead;		/* no close_notify on free */
	bool			 got_frame;	/* the hub has spoken */
	bool			 lost;		/* the link, not the hub, failed */
	bool			 key_encrypted;	/* asked for a passphrase */
	uint64_t		 last_request;
	Ceptoar__Envelope	*welcome;	/* owns the Welcome */
	uint32_t		 max_send;	/* payload the hub takes */
	uint32_t		 max_recv;	/* payload bytes we take */
	uint8_t			*rbuf;
	size_t			 rlen;
	size_t			 rcap;
	int			 alert;		/* from the hub, or -1 */
	volatile sig_atomic_t	*intr;
	sigset_t		 waitmask;
	bool			 has_waitmask;
	int			 exit;
	char			 error[1024];
};

/* Milliseconds on the monotonic clock. */
static int64_t
hubconn_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Record the failure as status and sentence; returns HUBCONN_FAILED. */
static enum hubconn_status __attribute__((format(printf, 3, 4)))
hubconn_fail(struct hubconn *hc, int status, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(hc->error, sizeof(hc->error), fmt, ap);
	va_end(ap);
	hc->exit = status;
	return HUBCONN_FAILED;
}

/* A connection not yet open, with the limits that apply before Welcome. */
struct hubconn *
hubconn_new(const struct clientconf *conf)
{
	struct hubconn	*hc;

	if ((hc = calloc(1, sizeof(*hc))) == NULL)
		return NULL;
	hc->conf = conf;
	hc->fd = -1;
	hc->alert = -1;
	hc->max_send = FRAME_DEFAULT_MAX_PREAUTH;
	hc->max_recv = FRAME_DEFAULT_MAX;
	hc->exit = EX_UNAVAILABLE;
	snprintf(hc->error, sizeof(hc->error), "not connected to the hub");
	return hc;
}

/* Close politely if we can, and free everything; NULL is fine. */
void
hubconn_free(struct hubconn *hc)
{
	if (hc == NULL)
		return;
	if (hc->ssl != NULL) {
		/* One close_notify, without waiting for the hub's. */
		if (hc->handshaken && !hc->dead) {
			ERR_clear_error();
			SSL_shutdown(hc->ssl);
		}
		SSL_free(hc->ssl);
	}
	SSL_CTX_free(hc->ctx);
	if (hc->fd != -1)
		close(hc->fd);
	if (hc->welcome != NULL)
		ceptoar__envelope__free_unpacked(hc->welcome, NULL);
	free(hc->rbuf);
	free(hc);
}

/* What the hub told us about ourselves. */
const Ceptoar__Welcome *
hubconn_welcome(const struct hubconn *hc)
{
	return hc->welcome != NULL ? hc->welcome->welcome : NULL;
}

/* The exit status of the last failure. */
int
hubconn_exit(const struct hubconn *hc)
{
	return hc->exit;
}

/* Whether the last failure was the connection's loss, worth a retry. */
bool
hubconn_lost(const struct hubconn *hc)
{
	return hc->lost;
}

/* The sentence of the last failure. */
const char *
hubconn_strerror(const struct hubconn *hc)
{
	return hc->error;
}

/* The configured timeout, in milliseconds. */
int
hubconn_timeout_ms(const struct hubconn *hc)
{
	return (int)hc->conf->timeout * 1000;
}

/* Let a signal end the waits; see ceptoar.h. */
void
hubconn_set_interrupt(struct hubconn *hc, volatile sig_atomic_t *flag,
    const sigset_t *waitmask)
{
	hc->intr = flag;
	hc->waitmask = *waitmask;
	hc->has_waitmask = true;
}

/*
 * Sleep until the socket is ready for events, the deadline passes
 * (HUBCONN_TIMEOUT) or the interrupt flag is raised.  With a wait mask
 * the signals are only let in while asleep, so none is missed.
 */
static enum hubconn_status
hubconn_wait(struct hubconn *hc, short events, int64_t deadline)
{
	struct pollfd	 pfd;
	struct timespec	 ts;
	int64_t		 left;
	int		 n;

	for (;;) {
		if (hc->intr != NULL && *hc->intr)
			return HUBCONN_INTERRUPTED;
		if ((left = deadline - hubconn_now()) <= 0)
			return HUBCONN_TIMEOUT;
		pfd.fd = hc->fd;
		pfd.events = events;
		pfd.revents = 0;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		n = ppoll(&pfd, 1, &ts, hc->has_waitmask ? &hc->waitmask :
		    NULL);
		if (n > 0)
			return HUBCONN_OK;
		if (n == -1 && errno != EINTR)
			return hubconn_fail(hc, EX_UNAVAILABLE, "poll: %s",
			    strerror(errno));
	}
}

/* Connect one address before the deadline; -1 with errno set. */
static int
hubconn_connect_one(struct hubconn *hc, const struct addrinfo *ai,
    int64_t deadline)
{
	socklen_t	 len;
	int		 fd, err;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return -1;
	hc->fd = fd;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		goto fail;
	switch (hubconn_wait(hc, POLLOUT, deadline)) {
	case HUBCONN_OK:
		break;
	case HUBCONN_TIMEOUT:
		errno = ETIMEDOUT;
		goto fail;
	case HUBCONN_INTERRUPTED:
		errno = EINTR;
		goto fail;
	default:
		goto fail;	/* poll failed, errno says why */
	}
	len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		goto fail;
	if (err == 0)
		return 0;
	errno = err;
fail:
	err = errno;
	close(fd);
	hc->fd = -1;
	errno = err;
	return -1;
}

/* TCP to the first address of the hub that answers. */
static enum hubconn_status
hubconn_connect(struct hubconn *hc, int64_t deadline)
{
	const struct clientconf	*c = hc->conf;
	struct addrinfo		 hints, *res, *ai;
	int			 rc, err = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(c->host, c->port, &hints, &res)) != 0)
		return hubconn_fail(hc, EX_UNAVAILABLE, "cannot find the hub "
		    "%s: %s", c->host, rc == EAI_SYSTEM ? strerror(errno) :
		    gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (hubconn_connect_one(hc, ai, deadline) == 0)
			break;
		/* Keep the most telling error: refused beats unreachable. */
		if (err != ECONNREFUSED)
			err = errno;
		if (errno == ETIMEDOUT || errno == EINTR)
			break;
	}
	freeaddrinfo(res);
	if (hc->fd != -1)
		return HUBCONN_OK;
	if (err == EINTR)
		return HUBCONN_INTERRUPTED;
	hc->lost = true;
	if (err == ECONNREFUSED)
		return hubconn_fail(hc, EX_UNAVAILABLE, "cannot connect to the "
		    "hub at %s: connection refused (is ceptoard running and "
		    "listening there?)", c->hub);
	if (err == ETIMEDOUT)
		return hubconn_fail(hc, EX_UNAVAILABLE, "cannot connect to the "
		    "hub at %s: no answer within %u seconds", c->hub,
		    c->timeout);
	return hubconn_fail(hc, EX_UNAVAILABLE, "cannot connect to the hub "
	    "at %s: %s", c->hub, strerror(err));
}

/* The reason of the oldest OpenSSL error, for configuration messages. */
static const char *
hubconn_ssl_reason(void)
{
	const char	*r;
	unsigned long	 e;

	if ((e = ERR_peek_error()) == 0)
		return "unknown error";
	r = ERR_reason_error_string(e);
	return r != NULL ? r : "unknown error";
}

/* Remember the alerts the hub sends; they say why it hung up. */
static void
hubconn_info_cb(const SSL *ssl, int where, int ret)
{
	struct hubconn	*hc = SSL_get_app_data(ssl);

	if ((where & SSL_CB_READ_ALERT) == SSL_CB_READ_ALERT &&
	    (ret & 0xff) != SSL_AD_CLOSE_NOTIFY)
		hc->alert = ret;
}

/*
 * Refuse to prompt for a passphrase, since ceptoar runs from scripts
 * too; being asked at all means the key is encrypted.
 */
static int
hubconn_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	struct hubconn	*hc = u;

	hc->key_encrypted = true;
	return 0;
}

/* The TLS context: TLS 1.3 only, our certificate, the hub's CA. */
static enum hubconn_status
hubconn_tls_setup(struct hubconn *hc)
{
	const struct clientconf	*c = hc->conf;
	X509_VERIFY_PARAM	*param;
	unsigned char		 addr[16];
	unsigned long		 e;

	ERR_clear_error();
	if ((hc->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(hc->ctx, TLS1_3_VERSION))
		return hubconn_fail(hc, EX_UNAVAILABLE, "cannot set up TLS: %s",
		    hubconn_ssl_reason());
	SSL_CTX_set_default_passwd_cb(hc->ctx, hubconn_no_passphrase);
	SSL_CTX_set_default_passwd_cb_userdata(hc->ctx, hc);
	if (!SSL_CTX_load_verify_locations(hc->ctx, c->ca, NULL))
		return hubconn_fail(hc, EX_CONFIG, "%s: ca: cannot load CA "
		    "certificates from %s: %s", c->path, c->ca,
		    hubconn_ssl_reason());
	if (!SSL_CTX_use_certificate_chain_file(hc->ctx, c->cert))
		return hubconn_fail(hc, EX_CONFIG, "%s: cert: cannot load a "
		    "PEM certificate from %s: %s", c->path, c->cert,
		    hubconn_ssl_reason());
	if (!SSL_CTX_use_PrivateKey_file(hc->ctx, c->key, SSL_FILETYPE_PEM) ||
	    !SSL_CTX_check_private_key(hc->ctx)) {
		e = ERR_peek_last_error();
		if (ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH ||
		    ERR_peek_error() == 0)
			return hubconn_fail(hc, EX_CONFIG, "%s: key: %s does "
			    "not belong to the certificate %s", c->path, c->key,
			    c->cert);
		if (hc->key_encrypted)
			return hubconn_fail(hc, EX_CONFIG, "%s: key: %s is "
			    "encrypted; ceptoar needs an unencrypted key, "
			    "protected by its file permissions", c->path,
			    c->key);
		return hubconn_fail(hc, EX_CONFIG, "%s: key: cannot load a "
		    "PEM private key from %s: %s", c->path, c->key,
		    hubconn_ssl_reason());
	}
	/*
	 * Send the chain without its root: the hub has the root, and would
	 * otherwise parse a certificate it does not need at every connection.
	 */
	if (SSL_CTX_build_cert_chain(hc->ctx, SSL_BUILD_CHAIN_FLAG_UNTRUSTED |
	    SSL_BUILD_CHAIN_FLAG_NO_ROOT | SSL_BUILD_CHAIN_FLAG_IGNORE_ERROR |
	    SSL_BUILD_CHAIN_FLAG_CLEAR_ERROR) == 0)
		return hubconn_fail(hc, EX_CONFIG, "%s: cert: cannot build the "
		    "chain of %s: %s", c->path, c->cert, hubconn_ssl_reason());
	SSL_CTX_set_verify(hc->ctx, SSL_VERIFY_PEER, NULL);

	if ((hc->ssl = SSL_new(hc->ctx)) == NULL ||
	    !SSL_set_fd(hc->ssl, hc->fd))
		return hubconn_fail(hc, EX_UNAVAILABLE, "cannot set up TLS: %s",
		    hubconn_ssl_reason());
	SSL_set_app_data(hc->ssl, hc);
	SSL_set_info_callback(hc->ssl, hubconn_info_cb);
	param = SSL_get0_param(hc->ssl);
	X509_VERIFY_PARAM_set_hostflags(param,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	/* An address is checked against IP SANs, and never sent as SNI. */
	if (inet_pton(AF_INET, c->server_name, addr) == 1 ||
	    inet_pton(AF_INET6, c->server_name, addr) == 1) {
		if (!X509_VERIFY_PARAM_set1_ip_asc(param, c->server_name))
			return hubconn_fail(hc, EX_CONFIG, "%s: server_name: "
			    "cannot use %s", c->path, c->server_name);
	} else if (!X509_VERIFY_PARAM_set1_host(param, c->server_name, 0) ||
	    !SSL_set_tlsext_host_name(hc->ssl, c->server_name))
		return hubconn_fail(hc, EX_CONFIG, "%s: server_name: cannot "
		    "use %s", c->path, c->server_name);
	return HUBCONN_OK;
}

/* Whether a TLS alert from the hub means it refused our certificate. */
static bool
hubconn_alert_is_ours(int desc)
{
	switch (desc) {
	case SSL_AD_BAD_CERTIFICATE:
	case SSL_AD_UNSUPPORTED_CERTIFICATE:
	case SSL_AD_CERTIFICATE_REVOKED:
	case SSL_AD_CERTIFICATE_EXPIRED:
	case SSL_AD_CERTIFICATE_UNKNOWN:
	case SSL_AD_UNKNOWN_CA:
	case SSL_AD_ACCESS_DENIED:
	case SSL_AD_CERTIFICATE_REQUIRED:
		return true;
	}
	return false;
}

/*
 * Read what the hub sent before it hung up, briefly, for the alert
 * callback to see.  Whatever else arrives is of no use any more.
 */
static void
hubconn_find_alert(struct hubconn *hc)
{
	volatile sig_atomic_t	*intr = hc->intr;
	char			 scratch[512];
	size_t			 n;
	int			 ret, tries;

	hc->intr = NULL;
	for (tries = 0; tries < 4 && hc->alert == -1; tries++) {
		ERR_clear_error();
		if ((ret = SSL_read_ex(hc->ssl, scratch, sizeof(scratch),
		    &n)) == 1)
			continue;
		if (SSL_get_error(hc->ssl, ret) != SSL_ERROR_WANT_READ ||
		    hubconn_wait(hc, POLLIN, hubconn_now() + 500) != HUBCONN_OK)
			break;
	}
	hc->intr = intr;
	ERR_clear_error();
}

/*
 * Turn a failed SSL call into a sentence.  doing says when it happened
 * ("during the TLS handshake", "while reading"); the alert the hub
 * sent, the result of checking its certificate and the socket error are
 * looked at in that order, since that is the order in which they
 * explain the others.
 */
static enum hubconn_status
hubconn_ssl_fail(struct hubconn *hc, int ret, int saved_errno,
    const char *doing)
{
	const struct clientconf	*c = hc->conf;
	const char		*hint = "";
	unsigned long		 e;
	long			 vr;
	int			 err;

	err = SSL_get_error(hc->ssl, ret);
	e = ERR_peek_error();
	hc->dead = true;
	/*
	 * A write can fail on the reset that follows the hub's alert
	 * before we ever read the alert: look for it once.
	 */
	if (hc->alert == -1 && hc->handshaken && !hc->got_frame &&
	    (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_SSL))
		hubconn_find_alert(hc);
	if (hc->alert != -1) {
		/*
		 * decrypt_error right after our handshake, before the hub has
		 * said anything, is the hub failing our certificate's
		 * signature (a look-alike CA), so it is ours too.
		 */
		if (hubconn_alert_is_ours(hc->alert & 0xff) ||
		    ((hc->alert & 0xff) == SSL_AD_DECRYPT_ERROR &&
		    hc->handshaken && !hc->got_frame))
			return hubconn_fail(hc, EX_NOPERM, "the hub rejected "
			    "our certificate: %s (we presented %s; is it "
			    "signed by the CA the hub trusts, and still "
			    "valid?)",
			    SSL_alert_desc_string_long(hc->alert), c->cert);
		return hubconn_fail(hc, EX_UNAVAILABLE, "TLS alert from the "
		    "hub %s: %s", doing,
		    SSL_alert_desc_string_long(hc->alert));
	}
	if (!hc->handshaken &&
	    (vr = SSL_get_verify_result(hc->ssl)) != X509_V_OK) {
		if (vr == X509_V_ERR_HOSTNAME_MISMATCH ||
		    vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
			return hubconn_fail(hc, EX_UNAVAILABLE, "the hub's "
			    "certificate is not valid for %s (set server_name "
			    "in %s if the hub's certificate names it "
			    "otherwise)", c->server_name, c->path);
		return hubconn_fail(hc, EX_UNAVAILABLE, "cannot verify the "
		    "hub's certificate: %s (checked against %s)",
		    X509_verify_cert_error_string(vr), c->ca);
	}
	/*
	 * With TLS 1.3 the hub judges our certificate after our side of the
	 * handshake is done; if it hangs up before saying anything, that is
	 * the likely reason.
	 */
	if (hc->handshaken && !hc->got_frame)
		hint = " (right after the TLS handshake: the hub may be "
		    "refusing our certificate)";
	/* Once the hub has spoken, a hang-up is the link's (or a restart). */
	hc->lost = hc->got_frame;
	switch (err) {
	case SSL_ERROR_ZERO_RETURN:
		return hubconn_fail(hc, EX_UNAVAILABLE, "the hub closed the "
		    "connection");
	case SSL_ERROR_SYSCALL:
		if (saved_errno == 0)
			return hubconn_fail(hc, EX_UNAVAILABLE, "the hub "
			    "closed the connection %s%s", doing, hint);
		return hubconn_fail(hc, EX_UNAVAILABLE, "connection to the hub "
		    "lost %s: %s%s", doing, strerror(saved_errno), hint);
	default:
		if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
		    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
			return hubconn_fail(hc, EX_UNAVAILABLE, "the hub "
			    "closed the connection %s%s", doing, hint);
		return hubconn_fail(hc, EX_UNAVAILABLE, "TLS failure %s: "
		    "%s%s", doing, e != 0 && ERR_reason_error_string(e) ?
		    ERR_reason_error_string(e) : "unknown error", hint);
	}
}

/* After an SSL call said WANT_READ or WANT_WRITE: wait accordingly. */
static enum hubconn_status
hubconn_ssl_wait(struct hubconn *hc, int ret, int64_t deadline,
    const char *doing)
{
	enum hubconn_status	st;
	int			err, saved = errno;

	switch ((err = SSL_get_error(hc->ssl, ret))) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		st = hubconn_wait(hc, err == SSL_ERROR_WANT_READ ? POLLIN :
		    POLLOUT, deadline);
		if (st == HUBCONN_TIMEOUT)
			return HUBCONN_TIMEOUT;
		return st;
	default:
		return hubconn_ssl_fail(hc, ret, saved, doing);
	}
}

/* The TLS handshake, with the hub's certificate checked. */
static enum hubconn_status
hubconn_handshake(struct hubconn *hc, int64_t deadline)
{
	enum hubconn_status	st;
	int			ret;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((ret = SSL_connect(hc->ssl)) == 1)
			break;
		st = hubconn_ssl_wait(hc, ret, deadline,
		    "during the TLS handshake");
		if (st == HUBCONN_TIMEOUT)
			return hubconn_fail(hc, EX_UNAVAILABLE, "the TLS "
			    "handshake with %s did not finish within %u "
			    "seconds", hc->conf->hub, hc->conf->timeout);
		if (st != HUBCONN_OK)
			return st;
	}
	hc->handshaken = true;
	return HUBCONN_OK;
}

/* Stamp, frame and write one envelope; see ceptoar.h. */
enum hubconn_status
hubconn_send(struct hubconn *hc, Ceptoar__Envelope *env)
{
	volatile sig_atomic_t	*intr;
	enum hubconn_status	 st = HUBCONN_OK;
	uint8_t			*buf;
	size_t			 len, off = 0, n;
	int64_t			 deadline;
	int			 ret;

	if (hc->dead || hc->ssl == NULL)
		return HUBCONN_FAILED;
	env->has_protocol_version = 1;
	env->protocol_version = CEPTOAR_PROTOCOL_VERSION;
	env->has_request_id = 1;
	env->request_id = ++hc->last_request;
	if ((buf = frame_pack(env, &len)) == NULL)
		return hubconn_fail(hc, EX_DATAERR, "the message is too large "
		    "to send");
	if (len - FRAME_HEADER_LEN > hc->max_send) {
		free(buf);
		return hubconn_fail(hc, EX_DATAERR, "the message is %zu bytes; "
		    "the hub accepts at most %u", len - FRAME_HEADER_LEN,
		    hc->max_send);
	}
	/*
	 * A frame is written whole or the connection is lost: a signal
	 * must not leave half of one on the wire.
	 */
	intr = hc->intr;
	hc->intr = NULL;
	deadline = hubconn_now() + hubconn_timeout_ms(hc);
	while (off < len) {
		ERR_clear_error();
		errno = 0;
		ret = SSL_write_ex(hc->ssl, buf + off, len - off, &n);
		if (ret == 1) {
			off += n;
			continue;
		}
		st = hubconn_ssl_wait(hc, ret, deadline, "while sending");
		if (st == HUBCONN_TIMEOUT)
			st = hubconn_fail(hc, EX_UNAVAILABLE, "the hub took no "
			    "data for %u seconds", hc->conf->timeout);
		if (st != HUBCONN_OK)
			break;
	}
	hc->intr = intr;
	free(buf);
	if (off < len) {
		hc->dead = true;	/* half a frame went out */
		return HUBCONN_FAILED;
	}
	return HUBCONN_OK;
}

/* Make room in the receive buffer for at least need bytes in all. */
static int
hubconn_reserve(struct hubconn *hc, size_t need)
{
	uint8_t	*nbuf;
	size_t	 cap;

	if (need <= hc->rcap)
		return 0;
	cap = need < HUBCONN_READ_CHUNK ? HUBCONN_READ_CHUNK : need;
	if ((nbuf = realloc(hc->rbuf, cap)) == NULL)
		return -1;
	hc->rbuf = nbuf;
	hc->rcap = cap;
	return 0;
}

/* Read one envelope, keeping partial frames across timeouts. */
enum hubconn_status
hubconn_recv(struct hubconn *hc, int timeout_ms, Ceptoar__Envelope **envp)
{
	enum frame_status	 fs;
	enum hubconn_status	 st;
	uint32_t		 announced = 0;
	size_t			 consumed, n, need;
	int64_t			 deadline;
	int			 ret;

	*envp = NULL;
	if (hc->dead || hc->ssl == NULL)
		return HUBCONN_FAILED;
	if (timeout_ms < 0)
		timeout_ms = hubconn_timeout_ms(hc);
	deadline = hubconn_now() + timeout_ms;
	for (;;) {
		fs = frame_unpack(hc->rbuf, hc->rlen, hc->max_recv, envp,
		    &consumed);
		if (fs == FRAME_OK) {
			hc->rlen -= consumed;
			memmove(hc->rbuf, hc->rbuf + consumed, hc->rlen);
			hc->got_frame = true;
			return HUBCONN_OK;
		}
		if (fs != FRAME_INCOMPLETE) {
			hc->dead = true;
			frame_peek(hc->rbuf, hc->rlen, hc->max_recv,
			    &announced);
			if (fs == FRAME_TOO_LARGE)
				return hubconn_fail(hc, EX_UNAVAILABLE, "the "
				    "hub sent a frame of %u bytes, more than "
				    "the %u we accept", announced,
				    hc->max_recv);
			return hubconn_fail(hc, EX_UNAVAILABLE, "the hub sent "
			    "%s", frame_strstatus(fs));
		}
		need = hc->rlen + HUBCONN_READ_CHUNK;
		if (frame_peek(hc->rbuf, hc->rlen, hc->max_recv, &announced) ==
		    FRAME_OK && FRAME_HEADER_LEN + (size_t)announced > need)
			need = FRAME_HEADER_LEN + (size_t)announced;
		if (hubconn_reserve(hc, need) == -1)
			return hubconn_fail(hc, EX_UNAVAILABLE, "out of memory "
			    "for a frame of %u bytes", announced);
		ERR_clear_error();
		errno = 0;
		ret = SSL_read_ex(hc->ssl, hc->rbuf + hc->rlen,
		    hc->rcap - hc->rlen, &n);
		if (ret == 1) {
			hc->rlen += n;
			continue;
		}
		st = hubconn_ssl_wait(hc, ret, deadline, "while reading");
		if (st != HUBCONN_OK)
			return st;
	}
}

/* Put a hub Error into words and an exit status. */
int
hubconn_hub_error(struct hubconn *hc, const Ceptoar__Error *e)
{
	const char	*name;
	char		 msg[512], field[160], code[32];
	int		 status;

	snprintf(msg, sizeof(msg), "%s", e->message != NULL ? e->message :
	    "no reason given");
	output_clean(msg);
	field[0] = '\0';
	if (e->field != NULL && *e->field != '\0') {
		snprintf(field, sizeof(field), " (field %s)", e->field);
		output_clean(field);
	}
	switch (e->has_code ? e->code : CEPTOAR__ERROR_CODE__ERROR_NONE) {
	case CEPTOAR__ERROR_CODE__ERROR_NOT_FOUND:
		status = EXIT_NOT_FOUND;
		break;
	case CEPTOAR__ERROR_CODE__ERROR_UNKNOWN_ORGANISATION:
		status = EX_NOPERM;
		break;
	case CEPTOAR__ERROR_CODE__ERROR_SHUTTING_DOWN:
		/* Nothing wrong with the request: try again later. */
		status = EX_UNAVAILABLE;
		break;
	default:
		status = EXIT_HUB_REFUSED;
		break;
	}
	if (e->has_fatal && e->fatal)
		hc->dead = true;
	/* The hub restarting or too busy for us now: worth another try. */
	if (e->has_code && (e->code == CEPTOAR__ERROR_CODE__ERROR_SHUTTING_DOWN ||
	    e->code == CEPTOAR__ERROR_CODE__ERROR_TIMEOUT ||
	    e->code == CEPTOAR__ERROR_CODE__ERROR_OVERLOADED))
		hc->lost = true;
	/* A code newer than our table is shown as its number. */
	name = names_lookup(names_error_code, e->has_code ? (int)e->code : 0);
	if (strcmp(name, "unknown") == 0)
		snprintf(code, sizeof(code), "%d", (int)e->code);
	else
		snprintf(code, sizeof(code), "%s", name);
	hubconn_fail(hc, status, "hub error %s: %s%s", code, msg, field);
	return status;
}

/* The name of an envelope body, for "unexpected X" messages. */
static const char *
hubconn_body_name(Ceptoar__Envelope__BodyCase c)
{
	const ProtobufCFieldDescriptor	*f;

	f = protobuf_c_message_descriptor_get_field(
	    &ceptoar__envelope__descriptor, c);
	return f != NULL ? f->name : "empty envelope";
}

/* The answer to the request just sent, or a failure. */
enum hubconn_status
hubconn_expect(struct hubconn *hc, Ceptoar__Envelope__BodyCase want,
    Ceptoar__Envelope **envp)
{
	enum hubconn_status	 st;
	Ceptoar__Envelope	*env;

	*envp = NULL;
	st = hubconn_recv(hc, -1, &env);
	if (st == HUBCONN_TIMEOUT)
		return hubconn_fail(hc, EX_UNAVAILABLE, "no %s from the hub "
		    "within %u seconds", hubconn_body_name(want),
		    hc->conf->timeout);
	if (st != HUBCONN_OK)
		return st;
	if (env->body_case == want) {
		*envp = env;
		return HUBCONN_OK;
	}
	if (env->body_case == CEPTOAR__ENVELOPE__BODY_ERROR)
		hubconn_hub_error(hc, env->error);
	else
		hubconn_fail(hc, EX_UNAVAILABLE, "the hub sent %s while we "
		    "waited for %s", hubconn_body_name(env->body_case),
		    hubconn_body_name(want));
	ceptoar__envelope__free_unpacked(env, NULL);
	return HUBCONN_FAILED;
}

/* Ping and wait for our Pong; see ceptoar.h. */
enum hubconn_status
hubconn_ping(struct hubconn *hc, uint64_t *rtt_us)
{
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT, *in;
	Ceptoar__Ping		 ping = CEPTOAR__PING__INIT;
	enum hubconn_status	 st;
	struct timespec		 t0, t1;
	int64_t			 deadline;
	int			 left;

	ping.has_nonce = 1;
	randombytes_buf(&ping.nonce, sizeof(ping.nonce));
	env.body_case = CEPTOAR__ENVELOPE__BODY_PING;
	env.ping = &ping;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((st = hubconn_send(hc, &env)) != HUBCONN_OK)
		return st;
	deadline = hubconn_now() + hubconn_timeout_ms(hc);
	for (;;) {
		if ((left = (int)(deadline - hubconn_now())) < 0)
			left = 0;
		st = hubconn_recv(hc, left, &in);
		if (st == HUBCONN_TIMEOUT)
			return hubconn_fail(hc, EX_UNAVAILABLE, "no pong from "
			    "the hub within %u seconds", hc->conf->timeout);
		if (st != HUBCONN_OK)
			return st;
		switch (in->body_case) {
		case CEPTOAR__ENVELOPE__BODY_PONG:
			if (in->pong->has_nonce &&
			    in->pong->nonce == ping.nonce) {
				clock_gettime(CLOCK_MONOTONIC, &t1);
				if (rtt_us != NULL)
					*rtt_us = (uint64_t)((t1.tv_sec -
					    t0.tv_sec) * 1000000 +
					    (t1.tv_nsec - t0.tv_nsec) / 1000);
				ceptoar__envelope__free_unpacked(in, NULL);
				return HUBCONN_OK;
			}
			break;	/* an older ping's answer */
		case CEPTOAR__ENVELOPE__BODY_DELIVER:
			break;	/* not acknowledged, so it comes again */
		case CEPTOAR__ENVELOPE__BODY_SUBSCRIBED:
			break;	/* the end of a batch */
		case CEPTOAR__ENVELOPE__BODY_SUBMIT_ACK:
			break;	/* an earlier submit is stored; fine */
		case CEPTOAR__ENVELOPE__BODY_ERROR:
			hubconn_hub_error(hc, in->error);
			ceptoar__envelope__free_unpacked(in, NULL);
			return HUBCONN_FAILED;
		default:
			hubconn_fail(hc, EX_UNAVAILABLE, "the hub sent %s "
			    "while we waited for pong",
			    hubconn_body_name(in->body_case));
			ceptoar__envelope__free_unpacked(in, NULL);
			return HUBCONN_FAILED;
		}
		ceptoar__envelope__free_unpacked(in, NULL);
	}
}

/* Connect, handshake and say Hello; see ceptoar.h. */
enum hubconn_status
hubconn_open(struct hubconn *hc)
{
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT, *in;
	Ceptoar__Hello		 hello = CEPTOAR__HELLO__INIT;
	enum hubconn_status	 st;
	const Ceptoar__Welcome	*w;
	int64_t			 deadline;

	deadline = hubconn_now() + hubconn_timeout_ms(hc);
	if ((st = hubconn_connect(hc, deadline)) != HUBCONN_OK ||
	    (st = hubconn_tls_setup(hc)) != HUBCONN_OK ||
	    (st = hubconn_handshake(hc, deadline)) != HUBCONN_OK)
		return st;

	hello.software = (char *)"ceptoar/" CEPTOAR_VERSION;
	env.body_case = CEPTOAR__ENVELOPE__BODY_HELLO;
	env.hello = &hello;
	if ((st = hubconn_send(hc, &env)) != HUBCONN_OK ||
	    (st = hubconn_expect(hc, CEPTOAR__ENVELOPE__BODY_WELCOME,
	    &in)) != HUBCONN_OK)
		return st;
	hc->welcome = in;
	w = in->welcome;
	if (w->has_max_frame && w->max_frame > 0)
		hc->max_send = w->max_frame < FRAME_MAX_CEILING ? w->max_frame :
		    FRAME_MAX_CEILING;
	else
		hc->max_send = FRAME_DEFAULT_MAX;
	/* Room for a delivery's own fields around a message of max_frame. */
	hc->max_recv = (uint32_t)frame_deliver_limit(hc->max_send);
	return HUBCONN_OK;
}
