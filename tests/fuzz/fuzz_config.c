/*
 * Fuzz target for the hub's configuration loader (daemon/config.c, over
 * common/yconf.c and libyaml): each input is written to one scratch file
 * made once with mkdtemp, loaded with config_load and freed.
 *
 * Checked: 0 with no cause or -1 with a cause naming the file; a loaded
 * configuration has every required option, every number within its
 * range, and relative paths made absolute.
 */
#include <stdlib.h>
#include <string.h>

#define FUZZ_SCRATCH
#include "fuzz_common.h"
#include "ceptoard.h"
#include "frame.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_scratch_init("ceptoard.conf");
	return 0;
}

/*
 * A resolved path: absolute, with the SQLite prefix allowed in front,
 * or handed as it is to another store backend ("name:...").
 */
static int
fuzz_absolute(const char *p)
{
	size_t	n;

	if (strncmp(p, "sqlite:", 7) == 0)
		p += 7;
	else if ((n = strspn(p, "abcdefghijklmnopqrstuvwxyz")) > 0 &&
	    p[n] == ':')
		return 1;
	return p[0] == '/' || p[0] == '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	 c;
	char		*cause = NULL;

	fuzz_scratch_write(data, size);
	if (config_load(fuzz_file, &c, &cause) == -1) {
		FUZZ_ASSERT(cause != NULL);
		FUZZ_ASSERT(strncmp(cause, fuzz_file, strlen(fuzz_file)) == 0);
		free(cause);
		return 0;
	}
	FUZZ_ASSERT(cause == NULL);
	FUZZ_ASSERT(c.listen != NULL && c.log_level != NULL);
	FUZZ_ASSERT(c.tls_cert != NULL && fuzz_absolute(c.tls_cert));
	FUZZ_ASSERT(c.tls_key != NULL && fuzz_absolute(c.tls_key));
	FUZZ_ASSERT(c.tls_ca != NULL && fuzz_absolute(c.tls_ca));
	FUZZ_ASSERT(c.directory != NULL && fuzz_absolute(c.directory));
	FUZZ_ASSERT(c.store_path != NULL && fuzz_absolute(c.store_path));
	FUZZ_ASSERT(c.pidfile == NULL || fuzz_absolute(c.pidfile));
	FUZZ_ASSERT(c.max_frame >= 1024 && c.max_frame <= FRAME_MAX_CEILING);
	FUZZ_ASSERT(c.max_frame_preauth >= 64 &&
	    c.max_frame_preauth <= c.max_frame);
	FUZZ_ASSERT(c.hello_timeout >= 1 && c.idle_timeout >= 5);
	FUZZ_ASSERT(c.max_connections >= 1 && c.deliver_batch >= 1);
	config_free(&c);
	return 0;
}
