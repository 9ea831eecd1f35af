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
 * Still held by the worker: the store key, which seals each body inside
 * the group commit; moving it to the parent is the next step.
 */
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

/* Parent <-> worker: one fixed-size message per datagram. */
enum privsep_type {
	PRIVSEP_READY = 1,	/* worker: confined and serving */
	PRIVSEP_FATAL,		/* worker: stop the hub, status in arg */
	PRIVSEP_HASKEY,		/* worker: do you hold the key of hash? */
	PRIVSEP_SIGN,		/* worker: sign data with that key */
	PRIVSEP_ANSWER,		/* parent: arg 0 and data, or arg -1 */
	PRIVSEP_ANON_HASH,	/* worker: keyed hash of tag\0reporter\0value */
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
privsep_parent_anon(const struct anon_policy *pol)
{
	if (pol == NULL)
		return;
	ps.anon = *pol;
	ps.anon.remote = NULL;
	ps.anon_ready = true;
}

/* Send one message whole; -1 if the channel is gone. */
static int
privsep_send(int fd, const struct privsep_msg *m)
{
	ssize_t	n;

	do
		n = send(fd, m, sizeof(*m), MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	return n == (ssize_t)sizeof(*m) ? 0 : -1;
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

/* A message from the worker: readiness, a fatal stop, a key request. */
static void
privsep_ctl_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct privsep_msg	 m, a;
	struct timeval		 stop_tv = { PRIVSEP_STOP_SECS, 0 };
	EVP_PKEY		*pkey;
	ssize_t			 n;
	int			 len;

	n = recv(fd, &m, sizeof(m), MSG_DONTWAIT | MSG_TRUNC);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* Gone: SIGCHLD says how. */
		event_del(ps.ctl_ev);
		return;
	}
	if (n != (ssize_t)sizeof(m) || m.len > sizeof(m.data)) {
		privsep_worker_refused("a message of the wrong size");
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
	default:
		privsep_worker_refused("a message of unknown type");
		return;
	}
	if (privsep_send(fd, &a) == -1)
		event_del(ps.ctl_ev);
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

/* SIGTERM, SIGINT: the worker drains and stops, then the parent. */
static void
privsep_term_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct timeval	tv = { PRIVSEP_STOP_SECS, 0 };

	if (ps.stopping && ps.worker <= 0) {
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
	event_free(ps.sig_term);
	event_free(ps.sig_int);
	event_free(ps.sig_chld);
	event_free(ps.restart_timer);
	event_free(ps.kill_timer);
	event_base_free(ps.base);
	for (i = 0; i < 2; i++)
		EVP_PKEY_free(ps.keys[i]);
	sodium_memzero(&ps.anon, sizeof(ps.anon));
	log_event(LOG_LVL_INFO, "privsep.parent", "event=stopped status=%d "
	    "signs=%llu hashes=%llu restarts=%u", ps.exit_status,
	    (unsigned long long)ps.signs, (unsigned long long)ps.hashes,
	    ps.restarts);
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
	static uint32_t	 seq;
	struct pollfd	 pfd = { .fd = privsep_fd, .events = POLLIN };
	struct timespec	 now, end;
	ssize_t		 n;
	int		 rc, ms;

	if (privsep_fd == -1)
		return -1;
	m->seq = ++seq;
	if (privsep_send(privsep_fd, m) == -1)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += PRIVSEP_SIGN_SECS;
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
		n = recv(privsep_fd, m, sizeof(*m), MSG_TRUNC);
		if (n != (ssize_t)sizeof(*m) || m->type != PRIVSEP_ANSWER ||
		    m->len > sizeof(m->data))
			return -1;
		if (m->seq == seq)
			return m->arg == 0 ? 0 : -1;
	}
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
