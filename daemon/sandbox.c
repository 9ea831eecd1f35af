/*
 * Confinement of the process that parses network input: once keys are
 * loaded, the port bound and the store open, it leaves root behind.  It
 * chroots into the store's folder (where neither the TLS key nor the key
 * files are), becomes the configured user, and on Linux restricts itself
 * to the system calls a running hub makes (seccomp); any other call fails
 * with EPERM.
 */
#include <sys/prctl.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_SECCOMP
#include <seccomp.h>
#endif

#include "ceptoard.h"

#ifdef HAVE_SECCOMP
/* What libevent, OpenSSL, SQLite, libsodium and the hub itself call. */
static const char *const sandbox_syscalls[] = {
	"read", "write", "readv", "writev", "pread64", "pwrite64", "close",
	"lseek", "fstat", "newfstatat", "fstatfs", "statx", "stat", "lstat",
	"openat", "open", "unlink", "unlinkat", "access", "faccessat",
	"faccessat2", "fcntl", "fsync", "fdatasync", "ftruncate", "fallocate",
	"fchown", "fchmod", "getcwd", "readlink", "readlinkat", "ioctl",
	"flock", "rename", "renameat", "mkdir", "dup3",	/* audit rotation */
	"mmap", "munmap", "mremap", "mprotect", "madvise", "brk", "mlock",
	"munlock", "mlock2",
	"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"epoll_pwait2", "poll", "ppoll", "select", "pselect6", "eventfd2",
	"pipe2", "accept", "accept4", "socket", "connect", "bind", "listen",
	"shutdown", "getsockname", "getpeername", "setsockopt", "getsockopt",
	"sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
	"clock_gettime", "clock_getres", "gettimeofday", "time",
	"nanosleep", "clock_nanosleep", "getrandom", "futex", "sched_yield",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
	"getpid", "gettid", "getppid", "getuid", "geteuid", "getgid",
	"getegid", "uname", "prlimit64", "getrlimit", "sysinfo", "tgkill",
	"exit", "exit_group", "restart_syscall", "rseq",
	"set_robust_list", "membarrier",
	"memfd_create",	/* bodies to seal or open, passed to the parent */
};

/* Allow sandbox_syscalls, refuse everything else with EPERM. */
static int
sandbox_seccomp(bool *all_threads, char **cause)
{
	scmp_filter_ctx	ctx;
	size_t		i;
	int		nr, rc;

	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL) {
		cause_set(cause, "seccomp_init failed");
		return -1;
	}
	/*
	 * Every thread, the sync thread too, gets the filter at once.  Only
	 * an emulator (valgrind) lacks this; there the filter covers the
	 * event loop's thread alone, and the log line says so.
	 */
	*all_threads = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) == 0;
	for (i = 0; i < sizeof(sandbox_syscalls) / sizeof(*sandbox_syscalls);
	    i++) {
		nr = seccomp_syscall_resolve_name(sandbox_syscalls[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;	/* not on this architecture */
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) < 0) {
			seccomp_release(ctx);
			cause_set(cause, "seccomp: cannot allow %s: %s",
			    sandbox_syscalls[i], strerror(-rc));
			return -1;
		}
	}
	if ((rc = seccomp_load(ctx)) < 0) {
		seccomp_release(ctx);
		cause_set(cause, "seccomp_load: %s", strerror(-rc));
		return -1;
	}
	seccomp_release(ctx);
	return 0;
}
#endif

int
sandbox_enter(const struct config *conf, char **cause)
{
	struct passwd	*pw = NULL;
	const char	*seccomp = "unavailable";
	char		 esc[600];

	*cause = NULL;
	if (conf->user != NULL && geteuid() == 0 &&
	    (pw = getpwnam(conf->user)) == NULL) {
		cause_set(cause, "user %s: no such user", conf->user);
		return -1;
	}
	if (conf->chroot != NULL) {
		if (geteuid() != 0) {
			cause_set(cause, "chroot %s: the hub must start as "
			    "root to confine itself", conf->chroot);
			return -1;
		}
		if (chdir(conf->chroot) == -1 || chroot(".") == -1 ||
		    chdir("/") == -1) {
			cause_set(cause, "chroot %s: %s", conf->chroot,
			    strerror(errno));
			return -1;
		}
	}
	if (pw != NULL) {
		if (setgroups(1, &pw->pw_gid) == -1 ||
		    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
			cause_set(cause, "cannot become user %s: %s",
			    conf->user, strerror(errno));
			return -1;
		}
		/* Root must be gone for good. */
		if (pw->pw_uid != 0 && setuid(0) != -1) {
			cause_set(cause, "user %s could become root again",
			    conf->user);
			return -1;
		}
	}
	/* A change of user clears it: the worker dies with its parent. */
	if (hub->privsep_worker && prctl(PR_SET_PDEATHSIG, SIGKILL) == -1) {
		cause_set(cause, "parent-death signal: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		cause_set(cause, "no_new_privs: %s", strerror(errno));
		return -1;
	}
#ifdef HAVE_SECCOMP
	if (conf->seccomp) {
		bool all_threads;

		if (sandbox_seccomp(&all_threads, cause) == -1)
			return -1;
		seccomp = all_threads ? "on" : "on-main-thread-only";
	} else
		seccomp = "off";
#endif
	log_event(LOG_LVL_INFO, "ceptoard.sandbox", "uid=%ld gid=%ld "
	    "chroot=%s seccomp=%s", (long)getuid(), (long)getgid(),
	    log_escape(conf->chroot ? conf->chroot : "none", esc, sizeof(esc)),
	    seccomp);
	return 0;
}
