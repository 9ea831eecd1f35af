/*
 * ceptoar.conf: where the hub is and which certificate we present.  A
 * flat YAML mapping; the keys are the rows of clientconf_options.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceptoar.h"
#include "yconf.h"

#define CLIENTCONF_SYSTEM	"/etc/ceptoar/ceptoar.conf"
#define CLIENTCONF_USER		".config/ceptoar/ceptoar.conf"
#define CLIENTCONF_TIMEOUT	30

enum clientconf_type {
	CLIENTCONF_STRING,
	CLIENTCONF_PATH,	/* a readable file, relative to the config */
	CLIENTCONF_SECONDS,
};

/* Every key the file may hold; the sample config documents the same. */
static const struct clientconf_option {
	const char		*name;
	enum clientconf_type	 type;
	size_t			 offset;
	bool			 required;
	const char		*help;
} clientconf_options[] = {
	{ "hub", CLIENTCONF_STRING, offsetof(struct clientconf, hub), true,
	    "the hub as host:port, e.g. hub.example.jp:7443 or [::1]:7443" },
	{ "ca", CLIENTCONF_PATH, offsetof(struct clientconf, ca), true,
	    "the CA certificate(s) the hub's certificate must chain to" },
	{ "cert", CLIENTCONF_PATH, offsetof(struct clientconf, cert), true,
	    "our certificate (chain), PEM" },
	{ "key", CLIENTCONF_PATH, offsetof(struct clientconf, key), true,
	    "our private key, PEM, readable by us only" },
	{ "server_name", CLIENTCONF_STRING,
	    offsetof(struct clientconf, server_name), false,
	    "the name or address the hub's certificate must carry "
	    "(default: the host part of hub)" },
	{ "timeout", CLIENTCONF_SECONDS, offsetof(struct clientconf, timeout),
	    false, "seconds to wait for the hub at each step (default 30)" },
};
#define CLIENTCONF_NOPTIONS \
	(sizeof(clientconf_options) / sizeof(clientconf_options[0]))

/* The configuration to read when -c is not given. */
char *
clientconf_default_path(void)
{
	const char	*env, *home;
	char		*p;

	if ((env = getenv("CEPTOAR_CONF")) != NULL && *env != '\0')
		return strdup(env);
	if ((home = getenv("HOME")) != NULL && *home != '\0') {
		if (asprintf(&p, "%s/%s", home, CLIENTCONF_USER) == -1)
			return NULL;
		if (access(p, F_OK) == 0)
			return p;
		free(p);
	}
	return strdup(CLIENTCONF_SYSTEM);
}

/* Split "host:port" or "[v6]:port"; see ceptoar.h. */
int
clientconf_split_hub(const char *hub, char **host, char **port,
    const char **reason)
{
	const char	*p, *colon, *h;
	size_t		 hlen;
	long		 n;
	char		*end;

	*host = *port = NULL;
	if (*hub == '[') {
		if ((p = strchr(hub, ']')) == NULL || p[1] != ':') {
			*reason = "an IPv6 address is written [address]:port, "
			    "e.g. [::1]:7443";
			return -1;
		}
		h = hub + 1;
		hlen = (size_t)(p - h);
		colon = p + 1;
	} else {
		if ((colon = strrchr(hub, ':')) == NULL) {
			*reason = "expected host:port, e.g. "
			    "hub.example.jp:7443";
			return -1;
		}
		if (memchr(hub, ':', (size_t)(colon - hub)) != NULL) {
			*reason = "put an IPv6 address in brackets, e.g. "
			    "[2001:db8::1]:7443";
			return -1;
		}
		h = hub;
		hlen = (size_t)(colon - hub);
	}
	if (hlen == 0) {
		*reason = "the host part is empty; expected host:port";
		return -1;
	}
	errno = 0;
	n = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 ||
	    n < 1 || n > 65535) {
		*reason = "the port must be a number from 1 to 65535";
		return -1;
	}
	if ((*host = strndup(h, hlen)) == NULL ||
	    (*port = strdup(colon + 1)) == NULL) {
		free(*host);
		*host = NULL;
		*reason = "out of memory";
		return -1;
	}
	return 0;
}

/*
 * A path as written in the file: "~/" is the home directory, and a
 * relative path is taken from the configuration file's directory, so a
 * config and its certificates can move together.
 */
static char *
clientconf_resolve(const char *conf, const char *path)
{
	const char	*home, *slash;
	char		*out;
	int		 rc;

	if (path[0] == '~' && path[1] == '/' &&
	    (home = getenv("HOME")) != NULL)
		rc = asprintf(&out, "%s%s", home, path + 1);
	else if (path[0] == '/' || (slash = strrchr(conf, '/')) == NULL)
		rc = asprintf(&out, "%s", path);
	else
		rc = asprintf(&out, "%.*s/%s", (int)(slash - conf), conf, path);
	return rc == -1 ? NULL : out;
}

/* Read one option's value from node n into c. */
static int
clientconf_set(struct yconf *y, const struct clientconf_option *o,
    yaml_node_t *n, struct clientconf *c, char **cause)
{
	char		**dst = (char **)((char *)c + o->offset);
	const char	 *s;
	uint64_t	  v;

	switch (o->type) {
	case CLIENTCONF_STRING:
		return yconf_string(y, n, dst, cause);
	case CLIENTCONF_PATH:
		if (yconf_scalar(y, n, &s, cause) == -1)
			return -1;
		if ((*dst = clientconf_resolve(c->path, s)) == NULL)
			return yconf_error(y, n, cause, "out of memory");
		if (access(*dst, R_OK) == -1)
			return yconf_error(y, n, cause, "%s: cannot read "
			    "%s: %s", o->name, *dst, strerror(errno));
		return 0;
	case CLIENTCONF_SECONDS:
		if (yconf_uint(y, n, 1, 3600, &v, cause) == -1)
			return -1;
		*(unsigned int *)((char *)c + o->offset) = (unsigned int)v;
		return 0;
	}
	return -1;
}

/*
 * yconf's value errors read "file:line: what"; say which key it was
 * about, "file:line: key: what", unless the message already does.
 */
static void
clientconf_name_key(struct yconf *y, const yaml_node_t *n, const char *key,
    char **cause)
{
	char	*prefix, *named;
	size_t	 plen;

	if (*cause == NULL || asprintf(&prefix, "%s:%lu: ", y->path,
	    yconf_line(n)) == -1)
		return;
	plen = strlen(prefix);
	if (strncmp(*cause, prefix, plen) == 0 &&
	    strncmp(*cause + plen, key, strlen(key)) != 0 &&
	    asprintf(&named, "%s%s: %s", prefix, key, *cause + plen) != -1) {
		free(*cause);
		*cause = named;
	}
	free(prefix);
}

/* Whether our private key can be read by anyone but us. */
bool
clientconf_key_exposed(const struct clientconf *c, unsigned int *mode)
{
	struct stat	st;

	if (stat(c->key, &st) == -1 || (st.st_mode & (S_IRWXG | S_IRWXO)) == 0)
		return false;
	*mode = (unsigned int)(st.st_mode & 0777);
	return true;
}

/* Load and check every key of the file; see ceptoar.h. */
struct clientconf *
clientconf_load(const char *path, char **cause)
{
	const char		*allowed[CLIENTCONF_NOPTIONS + 1];
	const char		*reason;
	struct clientconf	*c;
	struct yconf		 y;
	yaml_node_t		*root, *n;
	size_t			 i;

	*cause = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(path)) == NULL) {
		free(c);
		*cause = strdup("out of memory");
		return NULL;
	}
	c->timeout = CLIENTCONF_TIMEOUT;
	if (yconf_load(&y, path, cause) == -1) {
		clientconf_free(c);
		return NULL;
	}
	for (i = 0; i < CLIENTCONF_NOPTIONS; i++)
		allowed[i] = clientconf_options[i].name;
	allowed[i] = NULL;
	if ((root = yconf_root(&y)) == NULL) {
		if (asprintf(cause, "%s: the file is empty; it needs hub, ca, "
		    "cert and key", path) == -1)
			*cause = NULL;
		goto fail;
	}
	if (yconf_mapping(&y, root, "configuration", allowed, cause) == -1)
		goto fail;
	for (i = 0; i < CLIENTCONF_NOPTIONS; i++) {
		if ((n = yconf_get(&y, root, clientconf_options[i].name)) ==
		    NULL) {
			if (clientconf_options[i].required) {
				yconf_error(&y, root, cause, "missing key '%s' "
				    "(%s)", clientconf_options[i].name,
				    clientconf_options[i].help);
				goto fail;
			}
			continue;
		}
		if (clientconf_set(&y, &clientconf_options[i], n, c,
		    cause) == -1) {
			clientconf_name_key(&y, n, clientconf_options[i].name,
			    cause);
			goto fail;
		}
		if (strcmp(clientconf_options[i].name, "hub") == 0 &&
		    clientconf_split_hub(c->hub, &c->host, &c->port,
		    &reason) == -1) {
			yconf_error(&y, n, cause, "hub: %s", reason);
			goto fail;
		}
	}
	if (c->server_name == NULL &&
	    (c->server_name = strdup(c->host)) == NULL) {
		*cause = strdup("out of memory");
		goto fail;
	}
	yconf_free(&y);
	return c;
fail:
	yconf_free(&y);
	clientconf_free(c);
	return NULL;
}

/* Free a configuration; NULL is fine. */
void
clientconf_free(struct clientconf *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->hub);
	free(c->host);
	free(c->port);
	free(c->ca);
	free(c->cert);
	free(c->key);
	free(c->server_name);
	free(c);
}
