/*
 * ceptoard: the CEPTOAR hub.  Loads its configuration, directory, TLS
 * identity and store, then serves clients from one libevent loop.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "ceptoard.h"

#ifndef CEPTOARD_CONF
#define CEPTOARD_CONF		"/etc/ceptoard/ceptoard.conf"
#endif
/* Seconds sessions get to flush their last frames at shutdown. */
#define CEPTOARD_DRAIN_SECS	3

static struct hub	 hub_state;
struct hub		*hub = &hub_state;

static struct event	*sig_hup, *sig_term, *sig_int, *drain_timer;

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr,
	    "usage: ceptoard [-dnv] [-f file]\n"
	    "       ceptoard -R [-f file]\n"
	    "       ceptoard -L directory-file\n"
	    "       ceptoard -A audit-file\n"
	    "       ceptoard -P\n"
	    "  -d        stay in the foreground and log to stderr\n"
	    "  -f file   configuration (default " CEPTOARD_CONF ")\n"
	    "  -n        check the configuration, directory, keys and store, "
	    "then exit\n"
	    "  -v        log debug events\n"
	    "  -R        seal every stored body again under store_key, so "
	    "that store_old_keys\n"
	    "            can be emptied; then exit\n"
	    "  -P        print a new TAXII password and the taxii_basic hash "
	    "for the directory\n"
	    "  -A file   verify an audit trail's hash chain; name the first "
	    "broken entry\n"
	    "  -L file   list the organisations of a directory file: id, "
	    "certificate CN, roles\n"
	    "  -V        print the version\n"
	    "options of the configuration file:\n");
	config_print_options(stderr);
	exit(64);
}

/* Print "id cn roles" per organisation, for scripts such as dev-pki.sh. */
static int
list_directory(const char *path)
{
	struct directory	*dir;
	char			*cause = NULL, roles[128];
	size_t			 i;

	if ((dir = directory_load(path, &cause)) == NULL) {
		fprintf(stderr, "ceptoard: %s\n", cause ? cause : path);
		free(cause);
		return 1;
	}
	for (i = 0; i < dir->norgs; i++)
		printf("%s %s %s\n", dir->orgs[i].id, dir->orgs[i].cert_cn,
		    directory_roles_str(dir->orgs[i].roles, roles,
		    sizeof(roles)));
	directory_free(dir);
	return 0;
}

/* SIGHUP: reload the directory; keep the old one if the new one fails. */
static void
reload_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct directory	*dir;
	char			*cause = NULL, esc[1024];

	notify_send("RELOADING=1");
	/* Certificates and CRLs first: a bad directory must not skip them. */
	tls_reload();
	if ((dir = directory_load(hub->conf.directory, &cause)) == NULL) {
		log_event(LOG_LVL_ERROR, "config.reload",
		    "result=failed directory=%s cause=%s action=\"keeping the "
		    "previous directory\"", hub->conf.directory,
		    log_escape(cause, esc, sizeof(esc)));
		free(cause);
		notify_send("READY=1");
		return;
	}
	directory_free(hub->dir);
	hub->dir = dir;
	log_event(LOG_LVL_INFO, "config.reload",
	    "result=ok directory=%s sectors=%zu ceptoars=%zu orgs=%zu",
	    dir->path ? dir->path : hub->conf.directory, dir->nsectors,
	    dir->nceptoars, dir->norgs);
	session_recheck_all();
	notify_send("READY=1");
}

/* Give up waiting for sessions to drain. */
static void
drain_timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	session_close_all("hub shutting down");
	event_base_loopexit(hub->base, NULL);
}

/* SIGTERM, SIGINT: stop accepting, commit what is queued, drain, exit. */
static void
shutdown_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct timeval	tv = { CEPTOARD_DRAIN_SECS, 0 };

	if (hub->shutting_down)
		return;
	hub->shutting_down = true;
	notify_send("STOPPING=1");
	log_event(LOG_LVL_INFO, "ceptoard.stopping", "signal=%d sessions=%zu",
	    (int)sig, hub->nsessions);
	listener_free(hub->listener);
	hub->listener = NULL;
	taxii_stop();
	/* Queued submits are committed and acknowledged before anyone goes. */
	submit_flush();
	session_shutdown_all();
	if (hub->nsessions == 0) {
		event_base_loopexit(hub->base, NULL);
		return;
	}
	drain_timer = evtimer_new(hub->base, drain_timeout_cb, NULL);
	evtimer_add(drain_timer, &tv);
}

/* The audit trail cannot be written: stop rather than carry data unaudited. */
static void
audit_failed(void)
{
	/* Stopping for this is a failure: a supervisor should know. */
	hub->exit_status = 1;
	/* And the parent must stop the hub, not start another worker. */
	privsep_worker_fatal(1);
	if (hub->shutting_down)
		return;
	if (sig_term == NULL)
		fatalx("the audit trail cannot be written");
	event_active(sig_term, EV_SIGNAL, 1);
}

/*
 * ceptoard -R: seal every stored body again under store_key, so that the
 * keys of store_old_keys are no longer needed.  Takes keys over.
 */
static int
rekey_store(struct store_keys *keys)
{
	struct store	*s;
	char		*cause = NULL;
	uint64_t	 n = 0;
	uint32_t	 id;

	if ((s = store_open(hub->conf.store_path, keys, &cause)) == NULL) {
		fprintf(stderr, "ceptoard: %s\n", cause ? cause : "store");
		free(cause);
		return 78;
	}
	id = store_key_id(s);
	if (store_rekey(s, &n, &cause) == -1) {
		fprintf(stderr, "ceptoard: %s (%llu bodies were sealed again "
		    "before this; run ceptoard -R again once it is fixed)\n",
		    cause ? cause : "rekey", (unsigned long long)n);
		free(cause);
		store_close(s);
		return 1;
	}
	store_close(s);
	printf("ceptoard: sealed %llu stored bodies again under store key "
	    "%08x; every body now opens with store_key alone, so "
	    "store_old_keys may be emptied and the hub restarted\n",
	    (unsigned long long)n, id);
	return 0;
}

/* Write the process id, replacing any stale file. */
static void
write_pidfile(void)
{
	const char	*path = hub->conf.pidfile;
	FILE		*fp;

	if (path == NULL)
		return;
	if ((fp = fopen(path, "w")) == NULL) {
		log_event(LOG_LVL_WARN, "ceptoard.pidfile", "path=%s error=\"%s\"",
		    path, strerror(errno));
		return;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	fclose(fp);
}

/* Release what start-up loaded; keys may be NULL or handed over. */
static void
main_release(struct store_keys *keys)
{
	if (keys != NULL)
		store_keys_free(keys);
	tls_ctx_free(hub->tls_ctx);
	hub->tls_ctx = NULL;
	directory_free(hub->dir);
	hub->dir = NULL;
	sodium_memzero(&hub->anon, sizeof(hub->anon));
	config_free(&hub->conf);
}

/* Refuse to start: say why, release what was loaded, return 78. */
static int
main_refuse(char *cause, const char *what, struct store_keys *keys)
{
	fprintf(stderr, "ceptoard: %s\n", cause ? cause : what);
	free(cause);
	main_release(keys);
	return 78;
}

/*
 * Whether option name's address addr (NULL: not set) could be bound, for
 * -n: 0, or -1 with a cause naming the option.
 */
static int
main_check_listen(const char *name, const char *addr, char **cause)
{
	char	*why = NULL;

	if (addr == NULL || listener_check(addr, &why) == 0)
		return 0;
	cause_set(cause, "%s: %s", name, why ? why : "bad address");
	free(why);
	return -1;
}

/* The worker's parent went away: stop as SIGTERM would. */
static void
worker_parent_gone(void)
{
	if (sig_term != NULL)
		event_active(sig_term, EV_SIGNAL, 1);
}

/*
 * The worker (ceptoard -W, started by the parent only): load everything
 * but the TLS private key, confine, serve the inherited socket.  spec is
 * "channel,socket,log,restarts", log being f (stderr), d (stderr until
 * confined, then syslog: the first worker of a detaching hub) or s.
 */
static int
worker_main(const char *spec, int verbose, enum log_level lvl)
{
	char		*cause = NULL, esc[1024], mode;
	struct store_keys *keys;
	uint32_t	 ids[64];
	size_t		 nids;
	unsigned int	 restarts;
	int		 ctl, lfd, devnull = -1;
	pid_t		 ppid = getppid();

	if (sscanf(spec, "%d,%d,%c,%u", &ctl, &lfd, &mode, &restarts) != 4 ||
	    strchr("fds", mode) == NULL)
		usage();
	/* A parent that dies takes us along, as a crash of the hub would. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != ppid)
		return 1;
	if (privsep_worker_init(ctl, &cause) == -1)
		return main_refuse(cause, "-W", NULL);
	if (mode == 's')
		log_init(0, verbose ? LOG_LVL_DEBUG : lvl);
	/* The parent holds the store keys: it seals and opens bodies. */
	if (privsep_store_keys(ids, sizeof(ids) / sizeof(ids[0]), &nids,
	    &cause) == -1 || (keys = store_keys_remote(hub->conf.store_key,
	    hub->conf.store_old_keys, ids, nids, privsep_store_crypt,
	    &cause)) == NULL)
		return main_refuse(cause, "store_key", NULL);
	if ((hub->dir = directory_load(hub->conf.directory, &cause)) == NULL)
		return main_refuse(cause, "directory", keys);
	if ((hub->tls_ctx = tls_server_ctx(&hub->conf, &cause)) == NULL)
		return main_refuse(cause, "tls", keys);
	hub->anon.time_granularity = (uint32_t)hub->conf.anon_time_granularity;
	hub->anon.k_min = (uint32_t)hub->conf.anon_k;
	/* No anonymised form larger than what the hub itself accepts. */
	hub->anon.max_form = (size_t)hub->conf.max_frame;
	/* The parent loaded anon_key: it computes the keyed hashes. */
	hub->anon.remote = privsep_anon_hash;
	hub->anon_ready = hub->conf.anon_key != NULL;
	/* Connected while its path resolves: the chroot would hide it. */
	notify_init();
	if ((hub->store = store_open(hub->conf.store_path, keys, &cause)) ==
	    NULL)
		fatalx("%s", cause ? cause : "store");
	if ((hub->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if (hub->conf.audit_log != NULL && audit_open(hub->conf.audit_log,
	    hub->base, audit_failed, &cause) == -1)
		fatalx("%s", cause ? cause : "audit_log");
	audit_set_max_bytes(hub->conf.audit_log_max);
	if ((hub->listener = listener_new_fd(hub->base, lfd, &session_proto,
	    &cause)) == NULL)
		fatalx("%s", cause ? cause : "listen");
	if (metrics_start(hub->base, -1, hub->conf.metrics_listen,
	    &cause) == -1)
		fatalx("%s", cause ? cause : "metrics_listen");
	if (taxii_start(hub->base, &cause) == -1)
		fatalx("%s", cause ? cause : "taxii_listen");
	if (submit_init(hub->base) == -1)
		fatalx("cannot set up group commit");
	if (review_init(hub->base) == -1)
		fatalx("cannot set up the review desk's reminders");
	if (mode == 'd') {
		/* Opened while the path resolves; stderr goes once ready. */
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		log_init(0, verbose ? LOG_LVL_DEBUG : lvl);
	}
	/*
	 * The sync thread starts before confinement, whose filter then
	 * covers it too; the store opens its log and second connection
	 * while paths still resolve.
	 */
	if (submit_start(&cause) == -1)
		fatalx("%s", cause ? cause : "cannot start the sync thread");
	if (sandbox_enter(&hub->conf, &cause) == -1)
		fatalx("%s", cause);

	sig_hup = evsignal_new(hub->base, SIGHUP, reload_cb, NULL);
	sig_term = evsignal_new(hub->base, SIGTERM, shutdown_cb, NULL);
	sig_int = evsignal_new(hub->base, SIGINT, shutdown_cb, NULL);
	evsignal_add(sig_hup, NULL);
	evsignal_add(sig_term, NULL);
	evsignal_add(sig_int, NULL);

	if (!hub->anon_ready)
		log_event(LOG_LVL_WARN, "ceptoard.anon", "reason=\"no anon_key: "
		    "voluntary reports will be refused\"");
	log_event(store_stale(hub->store) > 0 ? LOG_LVL_WARN : LOG_LVL_INFO,
	    "store.keys", "key=%08x old_key_messages=%llu%s",
	    store_key_id(hub->store),
	    (unsigned long long)store_stale(hub->store),
	    store_stale(hub->store) > 0 ? " action=\"run ceptoard -R, then "
	    "empty store_old_keys\"" : "");
	/* pid is the hub's, the parent's: the one to signal. */
	log_event(LOG_LVL_INFO, "ceptoard.ready",
	    "version=%s listen=%s store=%s backend=%s directory=%s sectors=%zu "
	    "ceptoars=%zu orgs=%zu pid=%ld worker=%ld restarts=%u",
	    CEPTOARD_VERSION, listener_address(hub->listener),
	    log_escape(hub->conf.store_path, esc, sizeof(esc)),
	    store_backend_name(hub->store), hub->conf.directory,
	    hub->dir->nsectors, hub->dir->nceptoars, hub->dir->norgs,
	    (long)ppid, (long)getpid(), restarts);
	if (privsep_worker_ready(hub->base, worker_parent_gone) == -1)
		fatalx("cannot tell the parent we are ready");
	if (devnull != -1) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		close(devnull);
	}

	/* systemd watches the parent: it is the main process. */
	notify_send("READY=1\nMAINPID=%ld", (long)ppid);
	notify_watchdog(hub->base);
#ifdef CEPTOARD_TEST_HOOKS
	store_fault_arm();
#endif
	event_base_dispatch(hub->base);

	/*
	 * Sessions first: closing one queues a sent mark for each of its
	 * unacknowledged deliveries, which the last commit then writes.
	 */
	session_close_all("hub stopped");
	review_shutdown();
	submit_shutdown();
	deliver_shutdown();
	rate_shutdown();
	store_close(hub->store);
	listener_free(hub->listener);
	if (drain_timer != NULL)
		event_free(drain_timer);
	event_free(sig_hup);
	privsep_stop_signals_free(sig_term, sig_int);
	tls_ctx_free(hub->tls_ctx);
	privsep_worker_done();
	sodium_memzero(&hub->anon, sizeof(hub->anon));
	directory_free(hub->dir);
	audit_detach();
	taxii_stop();
	metrics_stop();
	notify_stop();
	event_base_free(hub->base);
	log_event(LOG_LVL_INFO, "ceptoard.stopped", NULL);
	audit_close();
	config_free(&hub->conf);
	return hub->exit_status;
}

int
main(int argc, char *argv[])
{
	const char	*conffile = CEPTOARD_CONF, *worker = NULL;
	char		*cause = NULL, address[80];
	enum log_level	 lvl = LOG_LVL_INFO;
	int		 ch, foreground = 0, checkonly = 0, verbose = 0;
	int		 rekey = 0, lfd;
	struct store	*probe;
	struct store_keys *keys;

	while ((ch = getopt(argc, argv, "A:df:hnPRvL:VW:")) != -1) {
		switch (ch) {
		case 'd':
			foreground = 1;
			break;
		case 'f':
			conffile = optarg;
			break;
		case 'n':
			checkonly = 1;
			break;
		case 'R':
			rekey = 1;
			break;
		case 'P':
			if (sodium_init() < 0)
				fatalx("libsodium failed to initialise");
			return taxii_password_command(stdout);
		case 'v':
			verbose = 1;
			break;
		case 'A':
			return audit_verify_command(optarg, stdout);
		case 'L':
			return list_directory(optarg);
		case 'V':
			printf("ceptoard %s\n", CEPTOARD_VERSION);
			return 0;
		case 'W':
			worker = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init(1, LOG_LVL_INFO);
	if (sodium_init() < 0)
		fatalx("libsodium failed to initialise");
	signal(SIGPIPE, SIG_IGN);
#ifdef __GLIBC__
	/*
	 * TLS buffers are released whenever a connection falls quiet, so
	 * that idle connections cost little; the next burst takes them back.
	 * glibc's default would hand the top of the heap back to the kernel
	 * between bursts and fault it in again for each one, a sixth of the
	 * hub's time at light load.  Keep up to 8 MiB of freed heap, and
	 * serve frames of up to 1 MiB from it rather than from a mapping of
	 * their own.
	 */
	mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
#endif

	if (config_load(conffile, &hub->conf, &cause) == -1)
		return main_refuse(cause, conffile, NULL);
	if (log_parse_level(hub->conf.log_level, &lvl) == 0)
		log_set_level(verbose ? LOG_LVL_DEBUG : lvl);
	if (worker != NULL)
		return worker_main(worker, verbose, lvl);
	/* Store keys first: a rekey needs nothing else. */
	if ((keys = store_keys_load(hub->conf.store_key,
	    hub->conf.store_old_keys, &cause)) == NULL)
		return main_refuse(cause, "store_key", NULL);
	if (rekey) {
		ch = rekey_store(keys);
		config_free(&hub->conf);
		return ch;
	}
	/*
	 * The parent checks what it can before detaching, so that the
	 * starting command sees the error; the worker loads it all again.
	 */
	if ((hub->dir = directory_load(hub->conf.directory, &cause)) == NULL)
		return main_refuse(cause, "directory", keys);
	if ((hub->tls_ctx = tls_server_ctx(&hub->conf, &cause)) == NULL)
		return main_refuse(cause, "tls", keys);
	if (hub->conf.anon_key != NULL) {
		if (anon_load_key(hub->conf.anon_key, &hub->anon, &cause) == -1)
			return main_refuse(cause, "anon_key", keys);
		hub->anon_ready = true;
	}
	if (checkonly) {
		/* The store takes the keys, whether it opens or not. */
		if ((probe = store_open(hub->conf.store_path, keys,
		    &cause)) == NULL)
			return main_refuse(cause, "store", NULL);
		store_close(probe);
		/* The listeners' addresses, so a typo is found before start. */
		if (main_check_listen("listen", hub->conf.listen,
		    &cause) == -1 ||
		    main_check_listen("metrics_listen",
		    hub->conf.metrics_listen, &cause) == -1 ||
		    main_check_listen("taxii_listen",
		    hub->conf.taxii_listen, &cause) == -1)
			return main_refuse(cause, "listen", NULL);
		if (hub->conf.taxii_listen != NULL &&
		    hub->conf.store_key == NULL) {
			cause_set(&cause, "taxii_listen needs store_key");
			return main_refuse(cause, "taxii_listen", NULL);
		}
		if (hub->conf.audit_log != NULL &&
		    audit_check(hub->conf.audit_log, &cause) == -1)
			return main_refuse(cause, "audit_log", NULL);
		printf("configuration OK: %s (directory %s: %zu sectors, %zu "
		    "CEPTOARs, %zu organisations)\n", conffile,
		    hub->conf.directory, hub->dir->nsectors, hub->dir->nceptoars,
		    hub->dir->norgs);
		main_release(NULL);
		return 0;
	}
	if (hub->conf.user != NULL && geteuid() == 0 &&
	    getpwnam(hub->conf.user) == NULL) {
		cause_set(&cause, "user %s: no such user", hub->conf.user);
		return main_refuse(cause, "user", keys);
	}
	/* The parent keeps every key; the rest is the worker's. */
	privsep_parent_store(keys);
	tls_ctx_free(hub->tls_ctx);
	hub->tls_ctx = NULL;
	directory_free(hub->dir);
	hub->dir = NULL;
	if (hub->anon_ready)
		privsep_parent_anon(&hub->anon);
	sodium_memzero(&hub->anon, sizeof(hub->anon));
	if ((lfd = listener_bind(hub->conf.listen, address, sizeof(address),
	    &cause)) == -1)
		return main_refuse(cause, "listen", NULL);
	ch = privsep_parent(&hub->conf, conffile, lfd, address, foreground,
	    verbose, lvl, write_pidfile);
	if (hub->conf.pidfile != NULL)
		unlink(hub->conf.pidfile);
	config_free(&hub->conf);
	return ch;
}
