/*
 * Shared by the fuzz targets: a loud invariant check that libFuzzer sees
 * as a crash, and (with FUZZ_SCRATCH defined before the include) one
 * scratch file for the loaders that take a path.
 */
#ifndef CEPTOAR_FUZZ_COMMON_H
#define CEPTOAR_FUZZ_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <protobuf-c/protobuf-c.h>

/*
 * An invariant of the code under test, not of its input: print where and
 * abort, so that libFuzzer saves the input as a crash.
 */
#define FUZZ_ASSERT(expr) do {						\
	if (!(expr)) {							\
		fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n",	\
		    __FILE__, __LINE__, #expr);				\
		abort();						\
	}								\
} while (0)

/*
 * Whether m or any message inside it kept an unknown field numbered 0.
 * libprotobuf-c 1.4.1 refuses field 0 in a one-byte key but accepts it
 * in an over-long one (82 00 is field 0, wire type 2); packing writes
 * the short key, so such a message packs into bytes that no longer
 * unpack.  See tests/fuzz/README, "Findings".
 */
static inline int
fuzz_has_field0(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor	*d = m->descriptor;
	const ProtobufCFieldDescriptor		*f;
	const char				*base = (const char *)m;
	ProtobufCMessage *const			*v;
	size_t					 i, j, n;

	for (i = 0; i < m->n_unknown_fields; i++)
		if (m->unknown_fields[i].tag == 0)
			return 1;
	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)(base + f->quantifier_offset);
			v = *(ProtobufCMessage *const *const *)(base +
			    f->offset);
		} else {
			if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
			    *(const uint32_t *)(base + f->quantifier_offset) !=
			    f->id)
				continue;
			n = 1;
			v = (ProtobufCMessage *const *)(base + f->offset);
		}
		for (j = 0; j < n; j++)
			if (v[j] != NULL && fuzz_has_field0(v[j]))
				return 1;
	}
	return 0;
}

#ifdef FUZZ_SCRATCH
/* The scratch folder and the file in it that each input is written to. */
static char	fuzz_dir[4096];
static char	fuzz_file[4096 + 64];
/* Other files made in the folder by fuzz_scratch_touch, to remove too. */
static char	fuzz_extra[8][4096 + 64];
static size_t	fuzz_nextra;

/* Remove the scratch files and folder at exit. */
static inline void
fuzz_scratch_cleanup(void)
{
	size_t	i;

	if (fuzz_dir[0] == '\0')
		return;
	for (i = 0; i < fuzz_nextra; i++)
		unlink(fuzz_extra[i]);
	unlink(fuzz_file);
	rmdir(fuzz_dir);
}

/* Remove folder dir and the files in it. */
static inline void
fuzz_scratch_rmdir(const char *dir)
{
	char		 path[4096 + 300];
	struct dirent	*e;
	DIR		*d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/*
 * Remove the scratch folders of processes that are gone: libFuzzer's
 * -fork jobs end without running atexit handlers.  The folders are
 * named ceptoar-fuzz-PID.XXXXXX.
 */
static inline void
fuzz_scratch_sweep(const char *tmp)
{
	char		 path[4096 + 300], *end;
	struct dirent	*e;
	DIR		*d;
	long		 pid;

	if ((d = opendir(tmp)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "ceptoar-fuzz-", 13) != 0)
			continue;
		pid = strtol(e->d_name + 13, &end, 10);
		if (*end != '.' || pid <= 0 || kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp, e->d_name);
		fuzz_scratch_rmdir(path);
	}
	closedir(d);
}

/*
 * Make a private folder in dir (len bytes) under $CEPTOAR_FUZZ_TMPDIR,
 * else /dev/shm, else $TMPDIR, else /tmp, after sweeping what dead runs
 * left there; exits when it cannot.
 */
static inline void
fuzz_scratch_mkdir(char *dir, size_t len)
{
	const char	*tmp = getenv("CEPTOAR_FUZZ_TMPDIR");

	/* Memory-backed if there is one: four times the executions. */
	if (tmp == NULL || *tmp == '\0')
		tmp = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" :
		    getenv("TMPDIR");
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	fuzz_scratch_sweep(tmp);
	snprintf(dir, len, "%s/ceptoar-fuzz-%ld.XXXXXX", tmp, (long)getpid());
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "mkdtemp %s: %s\n", dir, strerror(errno));
		exit(1);
	}
}

/*
 * Make a private folder (mkdtemp, once per process) under
 * $CEPTOAR_FUZZ_TMPDIR, else /dev/shm, else $TMPDIR, else /tmp, and name
 * the file name inside it; each input is then written there by
 * fuzz_scratch_write.  The folder outlives a crash, so that the file can
 * be looked at; a normal exit removes it.
 */
static inline void
fuzz_scratch_init(const char *name)
{
	fuzz_scratch_mkdir(fuzz_dir, sizeof(fuzz_dir));
	snprintf(fuzz_file, sizeof(fuzz_file), "%s/%s", fuzz_dir, name);
	atexit(fuzz_scratch_cleanup);
}

/* Replace the scratch file's contents with the input. */
static inline void
fuzz_scratch_write(const uint8_t *data, size_t size)
{
	ssize_t	n;
	int	fd;

	if ((fd = open(fuzz_file, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1) {
		fprintf(stderr, "open %s: %s\n", fuzz_file, strerror(errno));
		abort();
	}
	while (size > 0) {
		if ((n = write(fd, data, size)) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "write %s: %s\n", fuzz_file,
			    strerror(errno));
			abort();
		}
		data += n;
		size -= (size_t)n;
	}
	close(fd);
}

/* Create an empty file name beside the scratch file. */
static inline void
fuzz_scratch_touch(const char *name)
{
	char	*path;
	int	 fd;

	if (fuzz_nextra == sizeof(fuzz_extra) / sizeof(fuzz_extra[0]))
		abort();
	path = fuzz_extra[fuzz_nextra++];
	snprintf(path, sizeof(fuzz_extra[0]), "%s/%s", fuzz_dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
}
#endif /* FUZZ_SCRATCH */

#endif
