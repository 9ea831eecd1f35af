/*
 * Fuzz target for the directory loader (daemon/directory.c, over
 * common/yconf.c and libyaml): each input is written to one scratch file
 * made once with mkdtemp, loaded with directory_load and freed.
 *
 * The directory is written by the hub's operators, not by peers, but a
 * reload (SIGHUP) must survive any file: refuse it with a cause, never
 * crash.  Checked: exactly one of a directory and a cause comes back,
 * and the cause names the file; a loaded directory answers lookups of
 * every id it holds.
 */
#include <stdlib.h>
#include <string.h>

#define FUZZ_SCRATCH
#include "fuzz_common.h"
#include "ceptoard.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_scratch_init("directory.yaml");
	return 0;
}

/* Every element is found by its id, and organisations by their CN. */
static void
fuzz_check_directory(const struct directory *d)
{
	char	buf[256];
	size_t	i;

	for (i = 0; i < d->nministries; i++)
		FUZZ_ASSERT(directory_ministry(d, d->ministries[i].id) ==
		    &d->ministries[i]);
	for (i = 0; i < d->nsectors; i++)
		FUZZ_ASSERT(directory_sector(d, d->sectors[i].id) ==
		    &d->sectors[i]);
	for (i = 0; i < d->nceptoars; i++)
		FUZZ_ASSERT(directory_ceptoar(d, d->ceptoars[i].id) ==
		    &d->ceptoars[i]);
	for (i = 0; i < d->norgs; i++) {
		FUZZ_ASSERT(directory_valid_id(d->orgs[i].id));
		FUZZ_ASSERT(directory_org(d, d->orgs[i].id) == &d->orgs[i]);
		if (d->orgs[i].cert_cn != NULL)
			FUZZ_ASSERT(directory_org_by_cn(d,
			    d->orgs[i].cert_cn) == &d->orgs[i]);
		directory_roles_str(d->orgs[i].roles, buf, sizeof(buf));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct directory	*d;
	char			*cause = NULL;

	fuzz_scratch_write(data, size);
	d = directory_load(fuzz_file, &cause);
	if (d == NULL) {
		FUZZ_ASSERT(cause != NULL);
		FUZZ_ASSERT(strncmp(cause, fuzz_file, strlen(fuzz_file)) == 0);
		free(cause);
		return 0;
	}
	FUZZ_ASSERT(cause == NULL);
	fuzz_check_directory(d);
	directory_free(d);
	return 0;
}
