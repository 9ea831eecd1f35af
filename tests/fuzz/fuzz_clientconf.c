/*
 * Fuzz target for the client's configuration loader (client/clientconf.c,
 * over common/yconf.c and libyaml): each input is written to one scratch
 * file made once with mkdtemp, loaded with clientconf_load and freed.
 *
 * The scratch folder also holds empty ca.crt, cert.pem and key.pem, so
 * that inputs naming them get past the readability checks to the rest
 * of the loader (the seeds use these names).
 *
 * Checked: a configuration or a cause, never both; a loaded one has a
 * hub split into a host and a port of 1..65535, a server name, and a
 * timeout of 1..3600 seconds.
 */
#include <stdlib.h>
#include <string.h>

#define FUZZ_SCRATCH
#include "fuzz_common.h"
#include "ceptoar.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_scratch_init("ceptoar.conf");
	fuzz_scratch_touch("ca.crt");
	fuzz_scratch_touch("cert.pem");
	fuzz_scratch_touch("key.pem");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct clientconf	*c;
	char			*cause = NULL, *end;
	unsigned int		 mode;
	long			 port;

	fuzz_scratch_write(data, size);
	if ((c = clientconf_load(fuzz_file, &cause)) == NULL) {
		FUZZ_ASSERT(cause != NULL);
		free(cause);
		return 0;
	}
	FUZZ_ASSERT(cause == NULL);
	FUZZ_ASSERT(c->hub != NULL && c->host != NULL && c->port != NULL);
	FUZZ_ASSERT(c->host[0] != '\0');
	port = strtol(c->port, &end, 10);
	FUZZ_ASSERT(*end == '\0' && port >= 1 && port <= 65535);
	FUZZ_ASSERT(c->ca != NULL && c->cert != NULL && c->key != NULL);
	FUZZ_ASSERT(c->server_name != NULL);
	FUZZ_ASSERT(c->timeout >= 1 && c->timeout <= 3600);
	(void)clientconf_key_exposed(c, &mode);
	clientconf_free(c);
	return 0;
}
