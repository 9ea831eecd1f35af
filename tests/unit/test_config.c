/*
 * ceptoard.conf: the sample loads with its documented values; every kind
 * of mistake is refused with the file, the line and the option.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceptoard.h"
#include "check.h"

static char	tmpdir[] = "/tmp/ceptoar-config-XXXXXX";

/* Write text to a file in the temporary folder; return its path. */
static const char *
write_conf(const char *name, const char *text)
{
	static char	path[256];
	FILE		*fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fp = fopen(path, "w");
	fputs(text, fp);
	fclose(fp);
	return path;
}

#define REQUIRED "tls_cert: hub.crt\ntls_key: hub.key\ntls_ca: ca.crt\n" \
	"directory: dir.yaml\n"

/* Loading text must fail with a cause containing each of the words. */
static void
expect_refused(const char *name, const char *text, const char *w1,
    const char *w2)
{
	struct config	c;
	char		*cause = NULL;

	CHECK(config_load(write_conf(name, text), &c, &cause) == -1);
	CHECK_CONTAINS(cause, w1);
	if (w2 != NULL)
		CHECK_CONTAINS(cause, w2);
	free(cause);
}

static void
test_sample(void)
{
	struct config	c;
	char		*cause = NULL, path[512];
	const char	*src = getenv("CEPTOAR_SRCDIR");

	snprintf(path, sizeof(path), "%s/config/ceptoard.conf",
	    src ? src : "..");
	CHECK(config_load(path, &c, &cause) == 0);
	if (cause != NULL)
		fprintf(stderr, "%s\n", cause);
	CHECK_STR(c.listen, "127.0.0.1:7443");
	CHECK(c.max_frame == 1048576);
	CHECK(c.max_frame_preauth == 4096);
	CHECK(c.hello_timeout == 10);
	CHECK(c.deliver_batch == 256);
	/* Relative paths are resolved against the file's folder. */
	CHECK(c.directory != NULL && c.directory[0] == '/');
	CHECK_CONTAINS(c.directory, "config/directory.yaml");
	CHECK_CONTAINS(c.tls_key, "dev-pki/hub.key");
	config_free(&c);
}

static void
test_defaults_and_paths(void)
{
	struct config	c;
	char		*cause = NULL;

	CHECK(config_load(write_conf("min.conf", REQUIRED
	    "store: sqlite:/var/tmp/x.db\n"), &c, &cause) == 0);
	CHECK_STR(c.listen, "127.0.0.1:7443");
	CHECK(c.max_output == 8388608);
	CHECK_STR(c.store_path, "sqlite:/var/tmp/x.db");
	CHECK(c.user == NULL);
	CHECK(strncmp(c.tls_ca, tmpdir, strlen(tmpdir)) == 0);
	config_free(&c);
}

static void
test_mistakes(void)
{
	expect_refused("unknown.conf", REQUIRED "lisen: 127.0.0.1:1\n",
	    "unknown.conf:5:", "unknown option \"lisen\"");
	expect_refused("range.conf", REQUIRED "max_frame: 100\n",
	    "range.conf:5:", "from 1024 to");
	expect_refused("neg.conf", REQUIRED "hello_timeout: -1\n",
	    "neg.conf:5:", "not a whole number");
	expect_refused("junk.conf", REQUIRED "idle_timeout: 10s\n",
	    "junk.conf:5:", "idle_timeout");
	expect_refused("twice.conf", REQUIRED "listen: a:1\nlisten: b:2\n",
	    "twice.conf:6:", "given twice");
	expect_refused("missing.conf", "tls_cert: a\ntls_key: b\ntls_ca: c\n",
	    "missing.conf", "\"directory\" is missing");
	expect_refused("nested.conf", REQUIRED "listen: [a, b]\n",
	    "nested.conf:5:", NULL);
	expect_refused("level.conf", REQUIRED "log_level: loud\n",
	    "level.conf", "log_level");
	expect_refused("pre.conf", REQUIRED "max_frame: 2048\n"
	    "max_frame_preauth: 4096\n", "pre.conf", "max_frame_preauth");
	expect_refused("list.conf", "- listen\n", "list.conf:1:", "mapping");
	expect_refused("syntax.conf", REQUIRED "listen: \"open\n",
	    "syntax.conf:", NULL);
	expect_refused("empty.conf", "", "empty.conf", "is missing");
}

int
main(void)
{
	char	cmd[300];

	if (mkdtemp(tmpdir) == NULL)
		return 1;
	test_sample();
	test_defaults_and_paths();
	test_mistakes();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return CHECK_DONE();
}
