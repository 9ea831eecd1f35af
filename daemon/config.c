/*
 * ceptoard.conf: a YAML mapping of scalar options.  Every option lives in
 * one declarative table, from which the defaults, the range checks, the
 * -h listing and the manual's option list all come.
 */
#include <errno.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptoard.h"
#include "frame.h"
#include "yconf.h"

enum config_type {
	CONFIG_STRING,
	CONFIG_PATH,		/* relative paths are taken from the file's folder */
	CONFIG_PATHS,		/* comma-separated CONFIG_PATHs */
	CONFIG_UINT,
};

struct config_option {
	const char		*name;
	enum config_type	 type;
	size_t			 offset;
	const char		*def;		/* NULL: no default (required or unset) */
	uint64_t		 min, max;
	int			 required;
	const char		*help;
};

#define OPT(f) offsetof(struct config, f)

static const struct config_option config_options[] = {
	{ "listen", CONFIG_STRING, OPT(listen), "127.0.0.1:7443", 0, 0, 0,
	    "address and port to accept clients on: host:port, [v6]:port" },
	{ "tls_cert", CONFIG_PATH, OPT(tls_cert), NULL, 0, 0, 1,
	    "the hub's certificate chain (PEM)" },
	{ "tls_key", CONFIG_PATH, OPT(tls_key), NULL, 0, 0, 1,
	    "the hub's private key (PEM); refused if group or world readable" },
	{ "tls_ca", CONFIG_PATH, OPT(tls_ca), NULL, 0, 0, 1,
	    "CA certificates that issue client certificates (PEM)" },
	{ "tls_min_version", CONFIG_STRING, OPT(tls_min_version), "1.3", 0, 0,
	    0, "oldest TLS version accepted: 1.3, or 1.2 (then only ECDHE "
	    "with AES-GCM or ChaCha20-Poly1305)" },
	{ "tls_crl", CONFIG_PATH, OPT(tls_crl), NULL, 0, 0, 0,
	    "CRLs of every tls_ca CA (PEM); revoked client certificates are "
	    "refused; SIGHUP rereads it" },
	{ "directory", CONFIG_PATH, OPT(directory), NULL, 0, 0, 1,
	    "the directory of sectors, CEPTOARs and organisations (YAML)" },
	{ "store", CONFIG_PATH, OPT(store_path), "/var/lib/ceptoard/hub.db",
	    0, 0, 0, "the message store: a SQLite file (sqlite:PATH or PATH), or "
	    "postgresql:CONNINFO" },
	{ "store_key", CONFIG_PATH, OPT(store_key), NULL, 0, 0, 0,
	    "32 random bytes (mode 0600) sealing stored message bodies; the "
	    "hub does not start without it" },
	{ "store_old_keys", CONFIG_PATHS, OPT(store_old_keys), NULL, 0, 0, 0,
	    "earlier store keys, comma-separated: they open old bodies until "
	    "ceptoard -R seals them again" },
	{ "user", CONFIG_STRING, OPT(user), NULL, 0, 0, 0,
	    "when started as root, run as this user once keys are loaded" },
	{ "chroot", CONFIG_PATH, OPT(chroot), NULL, 0, 0, 0,
	    "when started as root, confine the hub to this folder once it is "
	    "started; the store must be inside it, the key files outside" },
	{ "seccomp", CONFIG_UINT, OPT(seccomp), "1", 0, 1, 0,
	    "1: restrict the running hub to the system calls it needs (Linux)" },
	{ "pidfile", CONFIG_PATH, OPT(pidfile), NULL, 0, 0, 0,
	    "write the daemon's process id here" },
	{ "log_level", CONFIG_STRING, OPT(log_level), "info", 0, 0, 0,
	    "error, warn, info or debug" },
	{ "max_frame", CONFIG_UINT, OPT(max_frame), "1048576", 1024,
	    FRAME_MAX_CEILING, 0,
	    "largest frame accepted after the hello, in bytes" },
	{ "max_frame_preauth", CONFIG_UINT, OPT(max_frame_preauth), "4096",
	    64, 65536, 0, "largest frame accepted before the hello, in bytes" },
	{ "hello_timeout", CONFIG_UINT, OPT(hello_timeout), "10", 1, 3600, 0,
	    "seconds a new connection has to finish TLS and say hello" },
	{ "idle_timeout", CONFIG_UINT, OPT(idle_timeout), "600", 5, 86400, 0,
	    "seconds of silence after which a connection is closed" },
	{ "max_output", CONFIG_UINT, OPT(max_output), "8388608", 65536,
	    1073741824, 0,
	    "bytes queued to one client before it is dropped as too slow" },
	{ "max_connections", CONFIG_UINT, OPT(max_connections), "20000", 1,
	    1000000, 0, "connections open at once; more are refused" },
	{ "deliver_batch", CONFIG_UINT, OPT(deliver_batch), "256", 1, 65536, 0,
	    "deliveries read from the store at a time for one client" },
	{ "slow_consumer", CONFIG_UINT, OPT(slow_consumer), "60", 1, 86400, 0,
	    "seconds a client may leave what is queued to it unread (or its "
	    "output full while deliveries wait); then it is dropped as a "
	    "slow consumer" },
	{ "max_conn_per_addr", CONFIG_UINT, OPT(max_conn_per_addr), "256", 1,
	    1000000, 0, "connections open at once from one IP address; more "
	    "are refused (IPv6: per /64)" },
	{ "max_handshakes_per_addr", CONFIG_UINT, OPT(max_handshakes_per_addr),
	    "16", 1, 1000000, 0, "connections from one IP address that have "
	    "not yet said hello; more are refused (IPv6: per /64)" },
	{ "preauth_log_interval", CONFIG_UINT, OPT(preauth_log_interval), "60",
	    1, 86400, 0, "seconds between the summaries of connections closed "
	    "before the TLS handshake ended (session.preauth)" },
	{ "preauth_log_lines", CONFIG_UINT, OPT(preauth_log_lines), "20", 0,
	    1000000, 0, "connections closed before the TLS handshake ended "
	    "that are logged one by one in an interval; the rest are counted" },
	{ "rate_frames", CONFIG_UINT, OPT(rate_frames), "2000", 1, 10000000, 0,
	    "frames per second one connection may send; faster ones are "
	    "read more slowly" },
	{ "rate_org_submits", CONFIG_UINT, OPT(rate_org_submits), "200", 1,
	    10000000, 0, "submits per second one organisation may make over "
	    "all its connections; more are refused with rate-limited" },
	{ "anon_key", CONFIG_PATH, OPT(anon_key), NULL, 0, 0, 0,
	    "32 random bytes keying report pseudonyms (mode 0600); without it "
	    "voluntary reports are refused" },
	{ "anon_time_granularity", CONFIG_UINT, OPT(anon_time_granularity),
	    "3600", 60, 604800, 0,
	    "seconds to which anonymised times are rounded down" },
	{ "anon_k", CONFIG_UINT, OPT(anon_k), "5", 1, 1000, 0,
	    "warn a reporter whose CEPTOAR has fewer members than this" },
	{ "review_reminder", CONFIG_UINT, OPT(review_reminder), "14400", 1,
	    2592000, 0, "seconds an item may wait for a holder's review before "
	    "it is announced to the holder again (a CEPTOAR's review_reminder "
	    "in the directory wins)" },
	{ "review_notify_sender", CONFIG_UINT, OPT(review_notify_sender),
	    "86400", 1, 2592000, 0, "seconds an item may wait for review "
	    "before its sender is told it still waits (a CEPTOAR's "
	    "review_notify_sender wins)" },
	{ "audit_log", CONFIG_PATH, OPT(audit_log), NULL, 0, 0, 0,
	    "hash-chained audit trail of acceptances, routing, deliveries, "
	    "acknowledgements and refusals (mode 0600); unset: none" },
	{ "audit_log_max", CONFIG_UINT, OPT(audit_log_max), "1073741824", 0,
	    UINT64_C(1) << 48, 0, "bytes at which the audit trail is rotated "
	    "to audit_log.NNNNNN and continued in a new file; 0: never" },
	{ "metrics_listen", CONFIG_STRING, OPT(metrics_listen), NULL, 0, 0, 0,
	    "serve /metrics, /healthz and /readyz over plain HTTP on this "
	    "host:port (loopback); unset: off" },
	{ "metrics_remote", CONFIG_UINT, OPT(metrics_remote), "0", 0, 1, 0,
	    "1: let metrics_listen be a non-loopback address (plain HTTP, "
	    "no authentication: firewall it)" },
	{ "taxii_listen", CONFIG_STRING, OPT(taxii_listen), NULL, 0, 0, 0,
	    "serve TAXII 2.1 over HTTPS (TLS 1.2 or 1.3, the hub's "
	    "certificate) on this host:port; unset: off" },
	{ "taxii_max_content_length", CONFIG_UINT,
	    OPT(taxii_max_content_length), "1048576", 1024, 104857600, 0,
	    "largest TAXII request body accepted, in bytes (the API root's "
	    "max_content_length)" },
	{ "taxii_page_size", CONFIG_UINT, OPT(taxii_page_size), "100", 1,
	    10000, 0, "most objects one TAXII page holds; a larger limit is "
	    "lowered to it" },
	{ "taxii_timeout", CONFIG_UINT, OPT(taxii_timeout), "30", 1, 3600, 0,
	    "seconds a TAXII connection may stay silent, handshake included" },
};

#define CONFIG_NOPTIONS (sizeof(config_options) / sizeof(*config_options))

/* Where a member of struct config lives, by option. */
static void *
config_field(struct config *c, const struct config_option *o)
{
	return (char *)c + o->offset;
}

/* Make a relative path absolute against the configuration's folder. */
static char *
config_resolve(const char *conf_path, const char *value)
{
	const char	*prefix = "";
	char		*copy, *dir, *base, *out;

	/* A backend prefix stays in front of the resolved path. */
	if (strncmp(value, "sqlite:", 7) == 0) {
		prefix = "sqlite:";
		value += 7;
	} else if (strspn(value, "abcdefghijklmnopqrstuvwxyz") > 0 &&
	    value[strspn(value, "abcdefghijklmnopqrstuvwxyz")] == ':')
		return strdup(value);	/* another backend: the store decides */
	if (value[0] == '/' || value[0] == '\0') {
		if (asprintf(&out, "%s%s", prefix, value) == -1)
			return NULL;
		return out;
	}
	if ((copy = strdup(conf_path)) == NULL)
		return NULL;
	/* Absolute, so that the daemon may change folder later. */
	base = dirname(copy);
	if ((dir = realpath(base, NULL)) == NULL)
		dir = strdup(base);
	if (dir == NULL || asprintf(&out, "%s%s/%s", prefix, dir, value) == -1)
		out = NULL;
	free(dir);
	free(copy);
	return out;
}

/*
 * Resolve each path of a comma-separated list, trimming blanks around
 * each; "" is the empty list.  NULL with a cause for an empty entry,
 * NULL without one when out of memory.
 */
static char *
config_resolve_list(const char *conf_path, const char *name, const char *text,
    char **cause)
{
	const char	*p, *end, *e;
	char		*item, *path, *out, *grown;
	size_t		 len = 0, n;

	*cause = NULL;
	if ((out = strdup("")) == NULL)
		return NULL;
	for (p = text; *text != '\0'; p = end + 1) {
		end = p + strcspn(p, ",");
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		for (e = end; e > p && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		if (e == p) {
			cause_set(cause, "%s: \"%s\" has an empty entry; "
			    "separate paths with single commas", name, text);
			free(out);
			return NULL;
		}
		if ((item = strndup(p, (size_t)(e - p))) == NULL ||
		    (path = config_resolve(conf_path, item)) == NULL) {
			free(item);
			free(out);
			return NULL;
		}
		free(item);
		n = strlen(path);
		if ((grown = realloc(out, len + n + 2)) == NULL) {
			free(path);
			free(out);
			return NULL;
		}
		out = grown;
		if (len > 0)
			out[len++] = ',';
		memcpy(out + len, path, n + 1);
		len += n;
		free(path);
		if (*end == '\0')
			break;
	}
	return out;
}

/* Set one option from its text, checking type and range. */
static int
config_set(struct config *c, const struct config_option *o, const char *text,
    char **cause)
{
	char		*end, **sp;
	uint64_t	 v;

	switch (o->type) {
	case CONFIG_STRING:
	case CONFIG_PATH:
		sp = config_field(c, o);
		free(*sp);
		*sp = o->type == CONFIG_PATH ? config_resolve(c->path, text) :
		    strdup(text);
		if (*sp == NULL) {
			cause_set(cause, "%s: out of memory", o->name);
			return -1;
		}
		return 0;
	case CONFIG_PATHS:
		sp = config_field(c, o);
		free(*sp);
		if ((*sp = config_resolve_list(c->path, o->name, text,
		    cause)) == NULL) {
			if (*cause == NULL)
				cause_set(cause, "%s: out of memory",
				    o->name);
			return -1;
		}
		return 0;
	case CONFIG_UINT:
		errno = 0;
		if (text[0] < '0' || text[0] > '9' ||
		    (v = strtoull(text, &end, 10), errno != 0) || *end != '\0' ||
		    v < o->min || v > o->max) {
			cause_set(cause, "%s: \"%s\" is not a whole number "
			    "from %llu to %llu", o->name, text,
			    (unsigned long long)o->min,
			    (unsigned long long)o->max);
			return -1;
		}
		*(uint64_t *)config_field(c, o) = v;
		return 0;
	}
	return -1;
}

/* Look an option up by name. */
static const struct config_option *
config_find(const char *name)
{
	size_t	i;

	for (i = 0; i < CONFIG_NOPTIONS; i++)
		if (strcmp(config_options[i].name, name) == 0)
			return &config_options[i];
	return NULL;
}

int
config_load(const char *path, struct config *c, char **cause)
{
	struct yconf		 y;
	yaml_node_t		*root, *k, *v;
	yaml_node_pair_t	*p;
	const struct config_option *o;
	const char		*name, *text;
	char			*why = NULL;
	unsigned char		 seen[CONFIG_NOPTIONS] = { 0 };
	enum log_level		 lvl;
	size_t			 i;

	memset(c, 0, sizeof(*c));
	*cause = NULL;
	if ((c->path = strdup(path)) == NULL)
		return -1;
	for (i = 0; i < CONFIG_NOPTIONS; i++)
		if (config_options[i].def != NULL &&
		    config_set(c, &config_options[i], config_options[i].def,
		    cause) == -1)
			goto fail;
	if (yconf_load(&y, path, cause) == -1)
		goto fail;
	root = yconf_root(&y);
	if (root != NULL && root->type != YAML_MAPPING_NODE) {
		yconf_error(&y, root, cause,
		    "the configuration must be a mapping of option: value");
		goto fail_y;
	}
	for (p = root ? root->data.mapping.pairs.start : NULL;
	    root && p < root->data.mapping.pairs.top; p++) {
		k = yconf_node(&y, p->key);
		v = yconf_node(&y, p->value);
		if (yconf_scalar(&y, k, &name, cause) == -1)
			goto fail_y;
		if ((o = config_find(name)) == NULL) {
			yconf_error(&y, k, cause, "unknown option \"%s\"", name);
			goto fail_y;
		}
		if (seen[o - config_options]++) {
			yconf_error(&y, k, cause, "option \"%s\" given twice",
			    name);
			goto fail_y;
		}
		if (yconf_scalar(&y, v, &text, cause) == -1)
			goto fail_y;
		if (config_set(c, o, text, &why) == -1) {
			yconf_error(&y, v, cause, "%s", why ? why : o->name);
			free(why);
			goto fail_y;
		}
	}
	for (i = 0; i < CONFIG_NOPTIONS; i++) {
		if (config_options[i].required && !seen[i]) {
			cause_set(cause, "%s: required option \"%s\" is "
			    "missing (%s)", path, config_options[i].name,
			    config_options[i].help);
			goto fail_y;
		}
	}
	if (log_parse_level(c->log_level, &lvl) == -1) {
		cause_set(cause, "%s: log_level \"%s\" is not one of error, "
		    "warn, info, debug", path, c->log_level);
		goto fail_y;
	}
	if (c->max_frame_preauth > c->max_frame) {
		cause_set(cause, "%s: max_frame_preauth (%llu) is larger "
		    "than max_frame (%llu)", path,
		    (unsigned long long)c->max_frame_preauth,
		    (unsigned long long)c->max_frame);
		goto fail_y;
	}
	yconf_free(&y);
	return 0;
fail_y:
	yconf_free(&y);
fail:
	config_free(c);
	return -1;
}

void
config_free(struct config *c)
{
	size_t	i;

	for (i = 0; i < CONFIG_NOPTIONS; i++) {
		if (config_options[i].type != CONFIG_UINT) {
			char **sp = config_field(c, &config_options[i]);
			free(*sp);
			*sp = NULL;
		}
	}
	free(c->path);
	c->path = NULL;
}

void
config_print_options(FILE *fp)
{
	size_t	i;

	for (i = 0; i < CONFIG_NOPTIONS; i++) {
		const struct config_option *o = &config_options[i];

		fprintf(fp, "  %-18s %-26s %s\n", o->name,
		    o->required ? "(required)" : o->def ? o->def : "(unset)",
		    o->help);
	}
}
