/*
 * The directory: ministries, sectors, CEPTOARs and organisations with
 * their roles, loaded from YAML and cross-checked before the hub trusts
 * any of it.  Routing decisions are only as good as this data, so a
 * directory with a dangling reference or a typo is refused as a whole,
 * with "file:line: what" pointing at the offending node.
 *
 * The format is documented at the top of config/directory.yaml.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ceptoard.h"
#include "yconf.h"

#define DIRECTORY_VERSION	1
#define DIRECTORY_ID_MAX	64
#define DIRECTORY_CN_MAX	64	/* X.509 upper bound for a CN */
#define DIRECTORY_TEXT_MAX	512

/* One parse: the document stays loaded so cross-checks can name lines. */
struct dir_parse {
	struct yconf		 y;
	struct directory	*d;
	yaml_node_t		**org_nodes;	/* orgs[i] is org_nodes[i] */
	yaml_node_t		**ceptoar_nodes;
	yaml_node_t		**sector_nodes;
	char			**cause;
};

static const struct {
	const char	*name;
	unsigned	 bit;
} directory_roles[] = {
	{ "operator",	ROLE_OPERATOR },
	{ "ceptoar",	ROLE_CEPTOAR },
	{ "liaison",	ROLE_LIAISON },
	{ "nisc",	ROLE_NISC },
	{ "agency",	ROLE_AGENCY },
	{ "council",	ROLE_COUNCIL },
};
#define DIRECTORY_NROLES (sizeof(directory_roles) / sizeof(directory_roles[0]))

static const char *const directory_top_keys[] = {
	"version", "ministries", "sectors", "ceptoars", "organisations", NULL
};
static const char *const directory_ministry_keys[] = {
	"id", "name", "name_ja", NULL
};
static const char *const directory_sector_keys[] = {
	"id", "name", "name_ja", "ministry", "thresholds", "stix_sector",
	NULL
};
static const char *const directory_threshold_keys[] = {
	"label", "users_affected", "duration_minutes", "kw_lost", "households",
	NULL
};
static const char *const directory_ceptoar_keys[] = {
	"id", "name", "name_ja", "sector", "secretariat", "council",
	"review_reminder", "review_notify_sender", NULL
};
static const char *const directory_org_keys[] = {
	"id", "name", "name_ja", "certificate", "roles", "sectors",
	"ceptoars", "ministry", "handling_agreement", "contact", "names",
	"domains", "networks", "forward_up", "forward_down", "taxii_basic",
	NULL
};
static const char *const directory_contact_keys[] = {
	"name", "phone", "email", NULL
};

/* What a list item must look like, checked as it is read. */
enum dir_item { ITEM_ID, ITEM_TEXT, ITEM_DOMAIN, ITEM_NETWORK };

static int	 directory_fail(struct dir_parse *, const yaml_node_t *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static bool	 directory_valid_text(const char *);
static bool	 directory_valid_domain(const char *);
static int	 directory_check_cidr(struct dir_parse *, const yaml_node_t *,
		    const char *);
static int	 directory_check_item(struct dir_parse *, const yaml_node_t *,
		    const char *, const char *, enum dir_item);
static int	 directory_parse_thresholds(struct dir_parse *,
		    const yaml_node_t *, const char *, struct dir_sector *);
static int	 directory_get_id(struct dir_parse *, const yaml_node_t *,
		    const char *, const char *, bool, char **);
static int	 directory_get_text(struct dir_parse *, const yaml_node_t *,
		    const char *, const char *, bool, char **);
static int	 directory_get_bool(struct dir_parse *, const yaml_node_t *,
		    const char *, const char *, bool *);
static int	 directory_get_list(struct dir_parse *, const yaml_node_t *,
		    const char *, const char *, enum dir_item, char ***,
		    size_t *);
static yaml_node_t *directory_list_item(struct dir_parse *,
		    const yaml_node_t *, const char *, size_t);
static int	 directory_push(char ***, size_t *, const char *);
static int	 directory_entry(struct dir_parse *, const yaml_node_t *,
		    const char *, const char *const *, char **, char *, size_t);
static int	 directory_parse_ministry(struct dir_parse *,
		    const yaml_node_t *, struct dir_ministry *);
static int	 directory_parse_sector(struct dir_parse *,
		    const yaml_node_t *, struct dir_sector *);
static int	 directory_parse_ceptoar(struct dir_parse *,
		    const yaml_node_t *, struct dir_ceptoar *);
static int	 directory_parse_contact(struct dir_parse *,
		    const yaml_node_t *, const char *, struct dir_org *);
static int	 directory_parse_roles(struct dir_parse *, const yaml_node_t *,
		    struct dir_org *);
static int	 directory_parse_org(struct dir_parse *, const yaml_node_t *,
		    struct dir_org *);
static int	 directory_parse_section(struct dir_parse *,
		    const yaml_node_t *, const char *);
static int	 directory_cmp_id(const void *, const void *);
static int	 directory_cmp_key_id(const void *, const void *);
static int	 directory_cmp_cn(const void *, const void *);
static int	 directory_cmp_key_cn(const void *, const void *);
static void	*directory_index(struct dir_parse *, void *, size_t, size_t,
		    size_t, const char *);
static int	 directory_build_indexes(struct dir_parse *);
static int	 directory_cross_check(struct dir_parse *);
static int	 directory_derive(struct dir_parse *);
static void	 directory_free_list(char **, size_t);
static const void *directory_find(void *const *, size_t, const char *);

/* Set the parse's cause about node n; returns -1. */
static int
directory_fail(struct dir_parse *p, const yaml_node_t *n, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	yconf_error(&p->y, n, p->cause, "%s", msg ? msg : "out of memory");
	free(msg);
	return -1;
}

/* Ids go into logs, certificates and file names: keep them boring. */
bool
directory_valid_id(const char *s)
{
	size_t	 i;

	if (s == NULL || s[0] == '\0' || s[0] == '-')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= DIRECTORY_ID_MAX)
			return false;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	}
	return true;
}

/* Names end up in log lines and messages: no control characters. */
static bool
directory_valid_text(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	}
	return i > 0 && i <= DIRECTORY_TEXT_MAX;
}

/* A DNS name in ASCII (IDNs in their xn-- form): the scrubber's input. */
static bool
directory_valid_domain(const char *s)
{
	size_t	 i, label = 0;
	char	 c;

	if (strlen(s) > 253)
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		c = s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && s[i - 1] != '-';
}

/*
 * A network is address/prefix with no host bits set: "203.0.113.5/24"
 * is more likely a typo than a network, so it is refused with the
 * network it probably meant.
 */
static int
directory_check_cidr(struct dir_parse *p, const yaml_node_t *n, const char *s)
{
	unsigned char	 addr[16], fixed[16];
	char		 host[INET6_ADDRSTRLEN + 1], net[INET6_ADDRSTRLEN];
	const char	*slash, *q;
	unsigned	 prefix = 0, max, i;
	int		 af;

	if ((slash = strchr(s, '/')) == NULL || slash == s ||
	    (size_t)(slash - s) >= sizeof(host))
		return directory_fail(p, n, "network '%s' is not a CIDR range "
		    "(address/prefix, e.g. 192.0.2.0/24)", s);
	memcpy(host, s, (size_t)(slash - s));
	host[slash - s] = '\0';
	af = strchr(host, ':') != NULL ? AF_INET6 : AF_INET;
	max = af == AF_INET6 ? 128 : 32;
	if (inet_pton(af, host, addr) != 1)
		return directory_fail(p, n, "network '%s': '%s' is not an "
		    "IPv%d address", s, host, af == AF_INET6 ? 6 : 4);
	q = slash + 1;
	if (*q == '\0' || (q[0] == '0' && q[1] != '\0'))
		goto badprefix;
	for (; *q != '\0'; q++) {
		if (*q < '0' || *q > '9' || prefix > max)
			goto badprefix;
		prefix = prefix * 10 + (unsigned)(*q - '0');
	}
	if (prefix > max)
		goto badprefix;
	memcpy(fixed, addr, sizeof(fixed));
	for (i = 0; i < max / 8; i++) {
		if (i * 8 >= prefix)
			fixed[i] = 0;
		else if (i * 8 + 8 > prefix)
			fixed[i] &= (unsigned char)(0xff00 >> (prefix - i * 8));
	}
	if (memcmp(fixed, addr, max / 8) != 0) {
		if (inet_ntop(af, fixed, net, sizeof(net)) == NULL)
			net[0] = '\0';
		return directory_fail(p, n, "network '%s' has host bits set "
		    "(did you mean %s/%u?)", s, net, prefix);
	}
	return 0;
badprefix:
	return directory_fail(p, n, "network '%s': prefix length must be "
	    "0 to %u", s, max);
}

/* Check one value of a list (or a lone key) for its kind. */
static int
directory_check_item(struct dir_parse *p, const yaml_node_t *n,
    const char *what, const char *s, enum dir_item kind)
{
	/* Messages below quote s: never let it carry escape sequences. */
	if (kind != ITEM_ID && kind != ITEM_TEXT && !directory_valid_text(s))
		return directory_fail(p, n, "%s: text must be 1 to %d bytes "
		    "without control characters", what, DIRECTORY_TEXT_MAX);
	switch (kind) {
	case ITEM_ID:
		if (!directory_valid_id(s))
			return directory_fail(p, n, "%s: '%s' is not a valid "
			    "id (1 to %d of a-z, 0-9 and '-', not starting "
			    "with '-')", what, directory_valid_text(s) ? s :
			    "?", DIRECTORY_ID_MAX);
		break;
	case ITEM_TEXT:
		if (!directory_valid_text(s))
			return directory_fail(p, n, "%s: text must be 1 to %d "
			    "bytes without control characters", what,
			    DIRECTORY_TEXT_MAX);
		break;
	case ITEM_DOMAIN:
		if (!directory_valid_domain(s))
			return directory_fail(p, n, "%s: '%s' is not a domain "
			    "name (ASCII letters, digits, '-' and '.'; "
			    "write IDNs as xn--)", what, s);
		break;
	case ITEM_NETWORK:
		return directory_check_cidr(p, n, s);
	}
	return 0;
}

/* A required or optional scalar key of mapping m, checked as kind. */
static int
directory_get_item(struct dir_parse *p, const yaml_node_t *m, const char *key,
    const char *what, enum dir_item kind, bool required, char **out)
{
	yaml_node_t	*v;
	const char	*s;

	if ((v = yconf_get(&p->y, m, key)) == NULL) {
		if (required)
			return directory_fail(p, m, "%s: missing required key "
			    "'%s'", what, key);
		return 0;
	}
	if (yconf_is_null(v))
		return directory_fail(p, v, "%s: '%s' has no value", what, key);
	if (yconf_scalar(&p->y, v, &s, p->cause) == -1)
		return -1;
	if (directory_check_item(p, v, what, s, kind) == -1)
		return -1;
	if ((*out = strdup(s)) == NULL)
		return directory_fail(p, v, "out of memory");
	return 0;
}

/* A required or optional id-valued key of mapping m. */
static int
directory_get_id(struct dir_parse *p, const yaml_node_t *m, const char *key,
    const char *what, bool required, char **out)
{
	return directory_get_item(p, m, key, what, ITEM_ID, required, out);
}

/* A required or optional free-text key of mapping m. */
static int
directory_get_text(struct dir_parse *p, const yaml_node_t *m,
    const char *key, const char *what, bool required, char **out)
{
	return directory_get_item(p, m, key, what, ITEM_TEXT, required, out);
}

/* An optional boolean key of mapping m; *out keeps its default if absent. */
static int
directory_get_bool(struct dir_parse *p, const yaml_node_t *m,
    const char *key, const char *what, bool *out)
{
	yaml_node_t	*v;
	const char	*s;

	if ((v = yconf_get(&p->y, m, key)) == NULL)
		return 0;
	if (yconf_bool(&p->y, v, out, NULL) == 0)
		return 0;
	if (v->type != YAML_SCALAR_NODE || yconf_scalar(&p->y, v, &s,
	    NULL) == -1 || !directory_valid_text(s))
		s = "?";
	return directory_fail(p, v, "%s: %s must be true or false, not '%s'",
	    what, key, s);
}

/*
 * The node for value i of list key in m: the list's item, or the key's
 * value itself when a single value was written without brackets.
 */
static yaml_node_t *
directory_list_item(struct dir_parse *p, const yaml_node_t *m,
    const char *key, size_t i)
{
	yaml_node_t	*v;

	if ((v = yconf_get(&p->y, m, key)) == NULL)
		return (yaml_node_t *)m;
	if (v->type == YAML_SEQUENCE_NODE)
		return yconf_item(&p->y, v, i);
	return v;
}

/*
 * A list of checked values under key in m, NULL-terminated, with no
 * value twice.  A single value without brackets is a list of one.
 */
static int
directory_get_list(struct dir_parse *p, const yaml_node_t *m,
    const char *key, const char *what, enum dir_item kind, char ***out,
    size_t *np)
{
	yaml_node_t	*v, *item;
	const char	*s;
	size_t		 len, i, j;
	char		**list;

	*out = NULL;
	*np = 0;
	if ((v = yconf_get(&p->y, m, key)) == NULL)
		len = 0;
	else if (v->type == YAML_SCALAR_NODE && !yconf_is_null(v))
		len = 1;
	else if (yconf_sequence(&p->y, v, key, &len, p->cause) == -1)
		return -1;
	if ((list = calloc(len + 1, sizeof(*list))) == NULL)
		return directory_fail(p, m, "out of memory");
	*out = list;
	for (i = 0; i < len; i++) {
		item = directory_list_item(p, m, key, i);
		if (yconf_is_null(item))
			return directory_fail(p, item, "%s: empty item in %s",
			    what, key);
		if (yconf_scalar(&p->y, item, &s, p->cause) == -1)
			return -1;
		if (directory_check_item(p, item, what, s, kind) == -1)
			return -1;
		for (j = 0; j < i; j++) {
			if (strcmp(list[j], s) == 0)
				return directory_fail(p, item, "%s: '%s' is "
				    "listed twice in %s", what, s, key);
		}
		if ((list[i] = strdup(s)) == NULL)
			return directory_fail(p, item, "out of memory");
		*np = i + 1;
	}
	return 0;
}

/* Append a copy of s to a NULL-terminated list. */
static int
directory_push(char ***v, size_t *n, const char *s)
{
	char	**nv;

	if ((nv = realloc(*v, (*n + 2) * sizeof(*nv))) == NULL)
		return -1;
	*v = nv;
	if ((nv[*n] = strdup(s)) == NULL) {
		nv[*n] = NULL;
		return -1;
	}
	nv[++*n] = NULL;
	return 0;
}

/*
 * Start an entry of a list: check it is a mapping, read its id, then
 * check its keys, so that every later message can name the entry
 * ("sector 'gas': ...").  A misspelt id key is reported as such rather
 * than as a missing id.
 */
static int
directory_entry(struct dir_parse *p, const yaml_node_t *n, const char *kind,
    const char *const *keys, char **id, char *what, size_t len)
{
	snprintf(what, len, "%s", kind);
	if (n == NULL || n->type != YAML_MAPPING_NODE ||
	    yconf_get(&p->y, n, "id") == NULL) {
		if (yconf_mapping(&p->y, n, kind, keys, p->cause) == -1)
			return -1;
		return directory_fail(p, n, "%s: missing required key 'id'",
		    kind);
	}
	if (directory_get_id(p, n, "id", kind, true, id) == -1)
		return -1;
	snprintf(what, len, "%s '%s'", kind, *id);
	return yconf_mapping(&p->y, n, what, keys, p->cause);
}

/* One entry of ministries. */
static int
directory_parse_ministry(struct dir_parse *p, const yaml_node_t *n,
    struct dir_ministry *m)
{
	char	 what[DIRECTORY_ID_MAX + 32];

	m->line = yconf_line(n);
	if (directory_entry(p, n, "ministry", directory_ministry_keys, &m->id,
	    what, sizeof(what)) == -1)
		return -1;
	if (directory_get_text(p, n, "name", what, true, &m->name) == -1 ||
	    directory_get_text(p, n, "name_ja", what, false,
	    &m->name_ja) == -1)
		return -1;
	return 0;
}

/* One entry of sectors. */
static int
directory_parse_sector(struct dir_parse *p, const yaml_node_t *n,
    struct dir_sector *s)
{
	char	 what[DIRECTORY_ID_MAX + 32];

	s->line = yconf_line(n);
	if (directory_entry(p, n, "sector", directory_sector_keys, &s->id,
	    what, sizeof(what)) == -1)
		return -1;
	if (directory_get_text(p, n, "name", what, true, &s->name) == -1 ||
	    directory_get_text(p, n, "name_ja", what, false,
	    &s->name_ja) == -1 ||
	    directory_get_id(p, n, "ministry", what, true,
	    &s->ministry) == -1 ||
	    directory_get_text(p, n, "stix_sector", what, false,
	    &s->stix_sector) == -1 ||
	    directory_parse_thresholds(p, n, what, s) == -1)
		return -1;
	return 0;
}

/*
 * A sector's significance thresholds: each a set of impact figures that,
 * all reached (inclusive), flag a report as clearly significant.
 */
static int
directory_parse_thresholds(struct dir_parse *p, const yaml_node_t *n,
    const char *what, struct dir_sector *s)
{
	static const char *const fields[] = {
		"users_affected", "duration_minutes", "kw_lost", "households"
	};
	struct dir_threshold	*t;
	yaml_node_t		*v, *item, *f;
	size_t			 len, i, k;
	uint64_t		 x;

	if ((v = yconf_get(&p->y, n, "thresholds")) == NULL)
		return 0;
	if (yconf_sequence(&p->y, v, "thresholds", &len, p->cause) == -1)
		return -1;
	if ((s->thresholds = calloc(len + 1, sizeof(*s->thresholds))) == NULL)
		return directory_fail(p, v, "out of memory");
	for (i = 0; i < len; i++) {
		item = yconf_item(&p->y, v, i);
		t = &s->thresholds[i];
		s->nthresholds = i + 1;
		if (yconf_mapping(&p->y, item, "threshold",
		    directory_threshold_keys, p->cause) == -1)
			return -1;
		if (directory_get_text(p, item, "label", what, false,
		    &t->label) == -1)
			return -1;
		for (k = 0; k < sizeof(fields) / sizeof(*fields); k++) {
			if ((f = yconf_get(&p->y, item, fields[k])) == NULL)
				continue;
			if (yconf_uint(&p->y, f, 0, UINT32_MAX * 1000ULL, &x,
			    p->cause) == -1)
				return -1;
			t->set |= 1u << k;
			t->min[k] = x;
		}
		if (t->set == 0)
			return directory_fail(p, item, "%s: a threshold needs "
			    "at least one of users_affected, duration_minutes, "
			    "kw_lost, households", what);
	}
	return 0;
}

/* An optional hop mode, auto or review; *out keeps its default if absent. */
static int
directory_get_mode(struct dir_parse *p, const yaml_node_t *m,
    const char *key, const char *what, enum dir_forward *out)
{
	yaml_node_t	*v;
	const char	*s;

	if ((v = yconf_get(&p->y, m, key)) == NULL)
		return 0;
	if (yconf_scalar(&p->y, v, &s, p->cause) == -1)
		return -1;
	if (strcmp(s, "auto") == 0)
		*out = FORWARD_AUTO;
	else if (strcmp(s, "review") == 0)
		*out = FORWARD_REVIEW;
	else
		return directory_fail(p, v, "%s: %s must be auto or review, "
		    "not '%s'", what, key, directory_valid_text(s) ? s : "?");
	return 0;
}

/*
 * An optional duration key of mapping m: seconds, or a number with s, m,
 * h or d after it; 1 second to 30 days.  *out keeps 0 if absent.
 */
static int
directory_get_duration(struct dir_parse *p, const yaml_node_t *m,
    const char *key, const char *what, uint64_t *out)
{
	yaml_node_t	*v;
	const char	*s;
	char		*end;
	unsigned long long n;
	uint64_t	 unit = 1;

	if ((v = yconf_get(&p->y, m, key)) == NULL)
		return 0;
	if (yconf_scalar(&p->y, v, &s, p->cause) == -1)
		return -1;
	if (*s < '0' || *s > '9')
		goto bad;
	n = strtoull(s, &end, 10);
	if (*end != '\0') {
		if (end[1] != '\0')
			goto bad;
		switch (*end) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		default: goto bad;
		}
	}
	if (n == 0 || n > 30ULL * 86400 / unit)
		goto bad;
	*out = n * unit;
	return 0;
bad:
	return directory_fail(p, v, "%s: %s must be a duration from 1s to 30d "
	    "(seconds, or a number with s, m, h or d), not '%s'", what, key,
	    directory_valid_text(s) ? s : "?");
}

/* One entry of ceptoars; members are derived later. */
static int
directory_parse_ceptoar(struct dir_parse *p, const yaml_node_t *n,
    struct dir_ceptoar *c)
{
	char		 what[DIRECTORY_ID_MAX + 32];

	c->line = yconf_line(n);
	c->council = true;
	if (directory_entry(p, n, "CEPTOAR", directory_ceptoar_keys, &c->id,
	    what, sizeof(what)) == -1)
		return -1;
	if (directory_get_text(p, n, "name", what, true, &c->name) == -1 ||
	    directory_get_text(p, n, "name_ja", what, false,
	    &c->name_ja) == -1 ||
	    directory_get_id(p, n, "sector", what, true, &c->sector) == -1 ||
	    directory_get_id(p, n, "secretariat", what, true,
	    &c->secretariat) == -1)
		return -1;
	if (directory_get_bool(p, n, "council", what, &c->council) == -1 ||
	    directory_get_duration(p, n, "review_reminder", what,
	    &c->review_reminder) == -1 ||
	    directory_get_duration(p, n, "review_notify_sender", what,
	    &c->review_notify_sender) == -1)
		return -1;
	return 0;
}

/* An organisation's contact: who to call, which is what reports need. */
static int
directory_parse_contact(struct dir_parse *p, const yaml_node_t *n,
    const char *owner, struct dir_org *o)
{
	const char	*s, *at;
	yaml_node_t	*v;
	size_t		 i, digits = 0;
	char		 what[DIRECTORY_ID_MAX + 48];

	snprintf(what, sizeof(what), "%s contact", owner);
	if (yconf_mapping(&p->y, n, what, directory_contact_keys,
	    p->cause) == -1)
		return -1;
	if (directory_get_text(p, n, "name", what, false,
	    &o->contact_name) == -1 ||
	    directory_get_text(p, n, "phone", what, false,
	    &o->contact_phone) == -1 ||
	    directory_get_text(p, n, "email", what, false,
	    &o->contact_email) == -1)
		return -1;
	if ((s = o->contact_phone) != NULL) {
		for (i = 0; s[i] != '\0'; i++) {
			if (s[i] >= '0' && s[i] <= '9')
				digits++;
			else if (strchr("+-() ", s[i]) == NULL)
				break;
		}
		if (s[i] != '\0' || digits < 3)
			return directory_fail(p, yconf_get(&p->y, n, "phone"),
			    "%s: '%s' is not a phone number (digits, "
			    "spaces and + - ( ))", what, s);
	}
	if ((s = o->contact_email) != NULL) {
		v = yconf_get(&p->y, n, "email");
		at = strchr(s, '@');
		if (at == NULL || at == s || at[1] == '\0' ||
		    strchr(at + 1, '@') != NULL || strchr(s, ' ') != NULL ||
		    !directory_valid_domain(at + 1))
			return directory_fail(p, v, "%s: '%s' is not an "
			    "email address", what, s);
	}
	return 0;
}

/* roles: one or more of directory_roles, none twice. */
static int
directory_parse_roles(struct dir_parse *p, const yaml_node_t *n,
    struct dir_org *o)
{
	yaml_node_t	*v, *item;
	const char	*s;
	size_t		 len, i;
	unsigned	 bit;

	if ((v = yconf_get(&p->y, n, "roles")) == NULL)
		return directory_fail(p, n, "organisation '%s': missing "
		    "required key 'roles'", o->id);
	if (v->type == YAML_SCALAR_NODE && !yconf_is_null(v))
		len = 1;
	else if (yconf_sequence(&p->y, v, "roles", &len, p->cause) == -1)
		return -1;
	if (len == 0)
		return directory_fail(p, v, "organisation '%s': roles is "
		    "empty (operator, ceptoar, liaison, nisc, agency or "
		    "council)", o->id);
	for (i = 0; i < len; i++) {
		item = directory_list_item(p, n, "roles", i);
		if (yconf_scalar(&p->y, item, &s, p->cause) == -1)
			return -1;
		if (directory_role_parse(s, &bit) == -1) {
			if (!directory_valid_text(s))
				s = "?";
			return directory_fail(p, item, "organisation '%s': "
			    "unknown role '%s' (operator, ceptoar, liaison, "
			    "nisc, agency or council)", o->id, s);
		}
		if (o->roles & bit)
			return directory_fail(p, item, "organisation '%s': "
			    "role '%s' is listed twice", o->id, s);
		o->roles |= bit;
	}
	return 0;
}

/* One entry of organisations; references are checked later. */
static int
directory_parse_org(struct dir_parse *p, const yaml_node_t *n,
    struct dir_org *o)
{
	yaml_node_t	*v;
	const char	*s;
	char		 what[DIRECTORY_ID_MAX + 32];

	o->line = yconf_line(n);
	if (directory_entry(p, n, "organisation", directory_org_keys, &o->id,
	    what, sizeof(what)) == -1)
		return -1;
	if (directory_get_text(p, n, "name", what, true, &o->name) == -1 ||
	    directory_get_text(p, n, "name_ja", what, false,
	    &o->name_ja) == -1 ||
	    directory_parse_roles(p, n, o) == -1 ||
	    directory_get_list(p, n, "sectors", what, ITEM_ID, &o->sectors,
	    &o->nsectors) == -1 ||
	    directory_get_list(p, n, "ceptoars", what, ITEM_ID, &o->ceptoars,
	    &o->nceptoars) == -1 ||
	    directory_get_id(p, n, "ministry", what, false,
	    &o->ministry) == -1 ||
	    directory_get_list(p, n, "names", what, ITEM_TEXT, &o->names,
	    &o->nnames) == -1 ||
	    directory_get_list(p, n, "domains", what, ITEM_DOMAIN,
	    &o->domains, &o->ndomains) == -1 ||
	    directory_get_list(p, n, "networks", what, ITEM_NETWORK,
	    &o->networks, &o->nnetworks) == -1)
		return -1;

	if ((v = yconf_get(&p->y, n, "certificate")) != NULL) {
		if (yconf_scalar(&p->y, v, &s, p->cause) == -1)
			return -1;
		if (!directory_valid_text(s) || strlen(s) > DIRECTORY_CN_MAX)
			return directory_fail(p, v, "%s: certificate CN must "
			    "be 1 to %d bytes without control characters",
			    what, DIRECTORY_CN_MAX);
		o->cert_cn = strdup(s);
	} else
		o->cert_cn = strdup(o->id);
	if (o->cert_cn == NULL)
		return directory_fail(p, n, "out of memory");

	if (directory_get_bool(p, n, "handling_agreement", what,
	    &o->handling_agreement) == -1)
		return -1;
	/*
	 * By default a secretariat reviews what it relays upwards (it
	 * anonymises on its members' behalf); everything else flows on.
	 */
	o->forward_up = (o->roles & ROLE_CEPTOAR) ? FORWARD_REVIEW :
	    FORWARD_AUTO;
	o->forward_down = FORWARD_AUTO;
	if (directory_get_mode(p, n, "forward_up", what, &o->forward_up) == -1 ||
	    directory_get_mode(p, n, "forward_down", what,
	    &o->forward_down) == -1)
		return -1;
	if ((v = yconf_get(&p->y, n, "contact")) != NULL &&
	    directory_parse_contact(p, v, what, o) == -1)
		return -1;
	/*
	 * The TAXII Basic credential, only ever as its crypto_pwhash_str
	 * hash (ceptoard -P makes one): a password in the clear would
	 * otherwise sit in a file every operator reads.
	 */
	if (directory_get_text(p, n, "taxii_basic", what, false,
	    &o->taxii_basic) == -1)
		return -1;
	if (o->taxii_basic != NULL &&
	    strncmp(o->taxii_basic, "$argon2id$", 10) != 0 &&
	    strncmp(o->taxii_basic, "$argon2i$", 9) != 0)
		return directory_fail(p, yconf_get(&p->y, n, "taxii_basic"),
		    "%s: taxii_basic is not a password hash (\"$argon2id$...\", "
		    "from ceptoard -P); never write the password itself",
		    what);
	return 0;
}

/*
 * Parse one top-level list into its array.  The array is allocated at
 * full length and zeroed first, so directory_free can clean up after a
 * failure at any item.
 */
static int
directory_parse_section(struct dir_parse *p, const yaml_node_t *root,
    const char *key)
{
	struct directory	*d = p->d;
	yaml_node_t		*v, *item;
	size_t			 len = 0, i;
	int			 r;

	if ((v = yconf_get(&p->y, root, key)) != NULL &&
	    yconf_sequence(&p->y, v, key, &len, p->cause) == -1)
		return -1;
	if (strcmp(key, "ministries") == 0) {
		if ((d->ministries = calloc(len + 1, sizeof(*d->ministries))) ==
		    NULL)
			return directory_fail(p, v, "out of memory");
		d->nministries = len;
	} else if (strcmp(key, "sectors") == 0) {
		if ((d->sectors = calloc(len + 1, sizeof(*d->sectors))) ==
		    NULL || (p->sector_nodes = calloc(len + 1,
		    sizeof(*p->sector_nodes))) == NULL)
			return directory_fail(p, v, "out of memory");
		d->nsectors = len;
	} else if (strcmp(key, "ceptoars") == 0) {
		if ((d->ceptoars = calloc(len + 1, sizeof(*d->ceptoars))) ==
		    NULL || (p->ceptoar_nodes = calloc(len + 1,
		    sizeof(*p->ceptoar_nodes))) == NULL)
			return directory_fail(p, v, "out of memory");
		d->nceptoars = len;
	} else {
		if ((d->orgs = calloc(len + 1, sizeof(*d->orgs))) == NULL ||
		    (p->org_nodes = calloc(len + 1,
		    sizeof(*p->org_nodes))) == NULL)
			return directory_fail(p, v, "out of memory");
		d->norgs = len;
	}
	for (i = 0; i < len; i++) {
		item = yconf_item(&p->y, v, i);
		if (strcmp(key, "ministries") == 0)
			r = directory_parse_ministry(p, item,
			    &d->ministries[i]);
		else if (strcmp(key, "sectors") == 0) {
			p->sector_nodes[i] = item;
			r = directory_parse_sector(p, item, &d->sectors[i]);
		} else if (strcmp(key, "ceptoars") == 0) {
			p->ceptoar_nodes[i] = item;
			r = directory_parse_ceptoar(p, item, &d->ceptoars[i]);
		} else {
			p->org_nodes[i] = item;
			r = directory_parse_org(p, item, &d->orgs[i]);
		}
		if (r == -1)
			return -1;
	}
	return 0;
}

/*
 * Comparators for the sorted views.  Every directory struct starts with
 * its char *id, so one pair serves all four kinds.
 */
static int
directory_cmp_id(const void *a, const void *b)
{
	const char *ia = *(char *const *)*(void *const *)a;
	const char *ib = *(char *const *)*(void *const *)b;

	return strcmp(ia, ib);
}

/* bsearch: a key string against an element of a sorted id view. */
static int
directory_cmp_key_id(const void *key, const void *e)
{
	return strcmp(key, *(char *const *)*(void *const *)e);
}

/* Sort organisations by certificate CN. */
static int
directory_cmp_cn(const void *a, const void *b)
{
	return strcmp((*(struct dir_org *const *)a)->cert_cn,
	    (*(struct dir_org *const *)b)->cert_cn);
}

/* bsearch: a CN against an organisation. */
static int
directory_cmp_key_cn(const void *key, const void *e)
{
	return strcmp(key, (*(struct dir_org *const *)e)->cert_cn);
}

/*
 * Build a sorted view of n elements of size sz at base, refusing a
 * duplicate id at the later of its two definitions.  Every element
 * starts with its char *id and has its unsigned long line at lineoff.
 */
static void *
directory_index(struct dir_parse *p, void *base, size_t n, size_t sz,
    size_t lineoff, const char *what)
{
	void		**v;
	char		*first, *second;
	unsigned long	 l1, l2;
	size_t		 i;

	if ((v = calloc(n + 1, sizeof(*v))) == NULL) {
		directory_fail(p, NULL, "out of memory");
		return NULL;
	}
	for (i = 0; i < n; i++)
		v[i] = (char *)base + i * sz;
	qsort(v, n, sizeof(*v), directory_cmp_id);
	for (i = 1; i < n; i++) {
		if (directory_cmp_id(&v[i - 1], &v[i]) != 0)
			continue;
		/* qsort is not stable: order the pair by file position. */
		first = v[i - 1];
		second = v[i];
		if (first > second) {
			first = v[i];
			second = v[i - 1];
		}
		memcpy(&l1, first + lineoff, sizeof(l1));
		memcpy(&l2, second + lineoff, sizeof(l2));
		if (asprintf(p->cause, "%s:%lu: duplicate %s id '%s' (first "
		    "defined at line %lu)", p->y.path, l2, what,
		    *(char **)second, l1) == -1)
			*p->cause = NULL;
		free(v);
		return NULL;
	}
	return v;
}

/* The sorted views, which are also where duplicate ids are caught. */
static int
directory_build_indexes(struct dir_parse *p)
{
	struct directory	*d = p->d;
	struct dir_org		*a, *b;
	yaml_node_t		*n, *cert;
	size_t			 i;

	if ((d->ministries_by_id = directory_index(p, d->ministries,
	    d->nministries, sizeof(*d->ministries),
	    offsetof(struct dir_ministry, line), "ministry")) == NULL ||
	    (d->sectors_by_id = directory_index(p, d->sectors, d->nsectors,
	    sizeof(*d->sectors), offsetof(struct dir_sector, line),
	    "sector")) == NULL ||
	    (d->ceptoars_by_id = directory_index(p, d->ceptoars, d->nceptoars,
	    sizeof(*d->ceptoars), offsetof(struct dir_ceptoar, line),
	    "CEPTOAR")) == NULL ||
	    (d->orgs_by_id = directory_index(p, d->orgs, d->norgs,
	    sizeof(*d->orgs), offsetof(struct dir_org, line),
	    "organisation")) == NULL)
		return -1;

	/* The CN is how a TLS peer becomes an organisation: it must be 1:1. */
	if ((d->orgs_by_cn = calloc(d->norgs + 1, sizeof(*d->orgs_by_cn))) ==
	    NULL)
		return directory_fail(p, NULL, "out of memory");
	for (i = 0; i < d->norgs; i++)
		d->orgs_by_cn[i] = &d->orgs[i];
	qsort(d->orgs_by_cn, d->norgs, sizeof(*d->orgs_by_cn),
	    directory_cmp_cn);
	for (i = 1; i < d->norgs; i++) {
		a = d->orgs_by_cn[i - 1];
		b = d->orgs_by_cn[i];
		if (strcmp(a->cert_cn, b->cert_cn) != 0)
			continue;
		if (a > b) {
			a = b;
			b = d->orgs_by_cn[i - 1];
		}
		n = p->org_nodes[b - d->orgs];
		if ((cert = yconf_get(&p->y, n, "certificate")) != NULL)
			n = cert;
		return directory_fail(p, n,
		    "organisation '%s': certificate CN '%s' is already used "
		    "by organisation '%s' (line %lu)", b->id, b->cert_cn,
		    a->id, a->line);
	}
	return 0;
}

/*
 * Every reference must resolve, and the roles must make sense of the
 * routing graph: a liaison relays for sectors of its own ministry, a
 * CEPTOAR's secretariat runs CEPTOARs, a member belongs to the sector.
 */
static int
directory_cross_check(struct dir_parse *p)
{
	struct directory	*d = p->d;
	const struct dir_sector	*sec;
	const struct dir_ceptoar *cep;
	const struct dir_org	*sorg;
	struct dir_org		*o;
	yaml_node_t		*n;
	size_t			 i, j;

	for (i = 0; i < d->nsectors; i++) {
		n = p->sector_nodes[i];
		if (directory_ministry(d, d->sectors[i].ministry) == NULL)
			return directory_fail(p,
			    yconf_get(&p->y, n, "ministry"),
			    "sector '%s': unknown ministry '%s'",
			    d->sectors[i].id, d->sectors[i].ministry);
	}

	for (i = 0; i < d->nceptoars; i++) {
		cep = &d->ceptoars[i];
		n = p->ceptoar_nodes[i];
		if (directory_sector(d, cep->sector) == NULL)
			return directory_fail(p, yconf_get(&p->y, n, "sector"),
			    "CEPTOAR '%s': unknown sector '%s'", cep->id,
			    cep->sector);
		if ((sorg = directory_org(d, cep->secretariat)) == NULL)
			return directory_fail(p,
			    yconf_get(&p->y, n, "secretariat"),
			    "CEPTOAR '%s': unknown secretariat organisation "
			    "'%s'", cep->id, cep->secretariat);
		if (!(sorg->roles & ROLE_CEPTOAR))
			return directory_fail(p,
			    yconf_get(&p->y, n, "secretariat"),
			    "CEPTOAR '%s': secretariat '%s' does not have "
			    "role ceptoar (line %lu)", cep->id, sorg->id,
			    sorg->line);
	}

	for (i = 0; i < d->norgs; i++) {
		o = &d->orgs[i];
		n = p->org_nodes[i];
		for (j = 0; j < o->nsectors; j++) {
			if (directory_sector(d, o->sectors[j]) == NULL)
				return directory_fail(p,
				    directory_list_item(p, n, "sectors", j),
				    "organisation '%s': unknown sector '%s'",
				    o->id, o->sectors[j]);
		}
		if (o->ministry != NULL &&
		    directory_ministry(d, o->ministry) == NULL)
			return directory_fail(p,
			    yconf_get(&p->y, n, "ministry"),
			    "organisation '%s': unknown ministry '%s'", o->id,
			    o->ministry);
		for (j = 0; j < o->nceptoars; j++) {
			if ((cep = directory_ceptoar(d, o->ceptoars[j])) ==
			    NULL)
				return directory_fail(p,
				    directory_list_item(p, n, "ceptoars", j),
				    "organisation '%s': unknown CEPTOAR '%s'",
				    o->id, o->ceptoars[j]);
			if (!directory_org_in_sector(o, cep->sector))
				return directory_fail(p,
				    directory_list_item(p, n, "ceptoars", j),
				    "organisation '%s': member of CEPTOAR '%s' "
				    "but not in its sector '%s' (add it to "
				    "sectors)", o->id, cep->id, cep->sector);
		}
		if (o->roles & ROLE_LIAISON) {
			if (o->ministry == NULL)
				return directory_fail(p, n, "organisation "
				    "'%s': a liaison must name its ministry",
				    o->id);
			if (o->nsectors == 0)
				return directory_fail(p, n, "organisation "
				    "'%s': a liaison must cover at least one "
				    "sector", o->id);
			for (j = 0; j < o->nsectors; j++) {
				sec = directory_sector(d, o->sectors[j]);
				if (strcmp(sec->ministry, o->ministry) == 0)
					continue;
				return directory_fail(p,
				    directory_list_item(p, n, "sectors", j),
				    "organisation '%s': liaison of ministry "
				    "'%s' cannot cover sector '%s', which "
				    "ministry '%s' oversees", o->id,
				    o->ministry, sec->id, sec->ministry);
			}
		}
		if ((o->roles & ROLE_OPERATOR) && o->nsectors == 0)
			return directory_fail(p, n, "organisation '%s': an "
			    "operator must be in at least one sector", o->id);
	}
	return 0;
}

/*
 * Fill in what is derived rather than written: CEPTOAR members from the
 * organisations' memberships, each sector's CEPTOARs and liaisons, and
 * an organisation's own names in its scrub list.
 */
static int
directory_derive(struct dir_parse *p)
{
	struct directory	*d = p->d;
	struct dir_ceptoar	*cep;
	struct dir_sector	*sec;
	struct dir_org		*o;
	size_t			 i, j, k;
	const char		*own[2];

	for (i = 0; i < d->nceptoars; i++) {
		if ((d->ceptoars[i].members = calloc(1, sizeof(char *))) ==
		    NULL)
			goto nomem;
	}
	for (i = 0; i < d->nsectors; i++) {
		if ((d->sectors[i].ceptoars = calloc(1, sizeof(char *))) ==
		    NULL ||
		    (d->sectors[i].liaisons = calloc(1, sizeof(char *))) ==
		    NULL)
			goto nomem;
	}
	for (i = 0; i < d->nceptoars; i++) {
		sec = (struct dir_sector *)directory_sector(d,
		    d->ceptoars[i].sector);
		if (directory_push(&sec->ceptoars, &sec->nceptoars,
		    d->ceptoars[i].id) == -1)
			goto nomem;
	}
	for (i = 0; i < d->norgs; i++) {
		o = &d->orgs[i];
		for (j = 0; j < o->nceptoars; j++) {
			cep = (struct dir_ceptoar *)directory_ceptoar(d,
			    o->ceptoars[j]);
			if (directory_push(&cep->members, &cep->nmembers,
			    o->id) == -1)
				goto nomem;
		}
		for (j = 0; (o->roles & ROLE_LIAISON) && j < o->nsectors;
		    j++) {
			sec = (struct dir_sector *)directory_sector(d,
			    o->sectors[j]);
			if (directory_push(&sec->liaisons, &sec->nliaisons,
			    o->id) == -1)
				goto nomem;
		}
		/* Nobody should have to remember to list the name twice. */
		own[0] = o->name;
		own[1] = o->name_ja;
		for (k = 0; k < 2; k++) {
			if (own[k] == NULL)
				continue;
			for (j = 0; j < o->nnames; j++)
				if (strcmp(o->names[j], own[k]) == 0)
					break;
			if (j == o->nnames &&
			    directory_push(&o->names, &o->nnames, own[k]) == -1)
				goto nomem;
		}
	}
	return 0;
nomem:
	return directory_fail(p, NULL, "out of memory");
}

/* Load, check and index path; see ceptoard.h. */
struct directory *
directory_load(const char *path, char **cause)
{
	struct dir_parse	 p;
	struct directory	*d;
	yaml_node_t		*root, *v;
	uint64_t		 version;
	char			*ignored = NULL;
	static const char *const sections[] = {
		"ministries", "sectors", "ceptoars", "organisations"
	};
	size_t			 i;

	memset(&p, 0, sizeof(p));
	p.cause = cause != NULL ? cause : &ignored;
	*p.cause = NULL;
	if ((d = p.d = calloc(1, sizeof(*d))) == NULL ||
	    (d->path = strdup(path)) == NULL) {
		free(d);
		if (asprintf(p.cause, "%s: out of memory", path) == -1)
			*p.cause = NULL;
		return NULL;
	}
	if (yconf_load(&p.y, path, p.cause) == -1)
		goto fail;
	if ((root = yconf_root(&p.y)) == NULL) {
		directory_fail(&p, NULL, "the directory is empty (it needs at "
		    "least 'version: %d')", DIRECTORY_VERSION);
		goto fail;
	}
	if (yconf_mapping(&p.y, root, "directory", directory_top_keys,
	    p.cause) == -1)
		goto fail;
	if ((v = yconf_get(&p.y, root, "version")) == NULL) {
		directory_fail(&p, root, "missing required key 'version' "
		    "(this ceptoard reads version %d)", DIRECTORY_VERSION);
		goto fail;
	}
	if (yconf_uint(&p.y, v, 0, UINT32_MAX, &version, p.cause) == -1)
		goto fail;
	if (version != DIRECTORY_VERSION) {
		directory_fail(&p, v, "unsupported directory version %llu "
		    "(this ceptoard reads version %d)",
		    (unsigned long long)version, DIRECTORY_VERSION);
		goto fail;
	}
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		if (directory_parse_section(&p, root, sections[i]) == -1)
			goto fail;
	}
	if (directory_build_indexes(&p) == -1 ||
	    directory_cross_check(&p) == -1 ||
	    directory_derive(&p) == -1)
		goto fail;

	free(p.org_nodes);
	free(p.ceptoar_nodes);
	free(p.sector_nodes);
	yconf_free(&p.y);
	return d;
fail:
	free(p.org_nodes);
	free(p.ceptoar_nodes);
	free(p.sector_nodes);
	yconf_free(&p.y);
	directory_free(d);
	free(ignored);
	return NULL;
}

/* Free a list by count, so a half-built one is fine too. */
static void
directory_free_list(char **v, size_t n)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Free a directory, complete or half-loaded; NULL is a no-op. */
void
directory_free(struct directory *d)
{
	size_t	 i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nministries; i++) {
		free(d->ministries[i].id);
		free(d->ministries[i].name);
		free(d->ministries[i].name_ja);
	}
	for (i = 0; i < d->nsectors; i++) {
		free(d->sectors[i].id);
		free(d->sectors[i].name);
		free(d->sectors[i].name_ja);
		free(d->sectors[i].ministry);
		free(d->sectors[i].stix_sector);
		for (size_t t = 0; t < d->sectors[i].nthresholds; t++)
			free(d->sectors[i].thresholds[t].label);
		free(d->sectors[i].thresholds);
		directory_free_list(d->sectors[i].ceptoars,
		    d->sectors[i].nceptoars);
		directory_free_list(d->sectors[i].liaisons,
		    d->sectors[i].nliaisons);
	}
	for (i = 0; i < d->nceptoars; i++) {
		free(d->ceptoars[i].id);
		free(d->ceptoars[i].name);
		free(d->ceptoars[i].name_ja);
		free(d->ceptoars[i].sector);
		free(d->ceptoars[i].secretariat);
		directory_free_list(d->ceptoars[i].members,
		    d->ceptoars[i].nmembers);
	}
	for (i = 0; i < d->norgs; i++) {
		struct dir_org	*o = &d->orgs[i];

		free(o->id);
		free(o->name);
		free(o->name_ja);
		free(o->cert_cn);
		directory_free_list(o->sectors, o->nsectors);
		directory_free_list(o->ceptoars, o->nceptoars);
		free(o->ministry);
		free(o->contact_name);
		free(o->contact_phone);
		free(o->contact_email);
		free(o->taxii_basic);
		directory_free_list(o->names, o->nnames);
		directory_free_list(o->domains, o->ndomains);
		directory_free_list(o->networks, o->nnetworks);
	}
	free(d->ministries);
	free(d->sectors);
	free(d->ceptoars);
	free(d->orgs);
	free(d->ministries_by_id);
	free(d->sectors_by_id);
	free(d->ceptoars_by_id);
	free(d->orgs_by_id);
	free(d->orgs_by_cn);
	free(d->path);
	free(d);
}

/* Look id up in a sorted view of n elements; NULL if absent. */
static const void *
directory_find(void *const *v, size_t n, const char *id)
{
	void *const	*e;

	if (v == NULL || id == NULL)
		return NULL;
	e = bsearch(id, v, n, sizeof(*v), directory_cmp_key_id);
	return e != NULL ? *e : NULL;
}

/* The organisation with this id, or NULL. */
const struct dir_org *
directory_org(const struct directory *d, const char *id)
{
	return directory_find((void *const *)d->orgs_by_id, d->norgs, id);
}

/* The organisation a TLS peer with this certificate CN is, or NULL. */
const struct dir_org *
directory_org_by_cn(const struct directory *d, const char *cn)
{
	struct dir_org *const	*e;

	if (d->orgs_by_cn == NULL || cn == NULL)
		return NULL;
	e = bsearch(cn, d->orgs_by_cn, d->norgs, sizeof(*d->orgs_by_cn),
	    directory_cmp_key_cn);
	return e != NULL ? *e : NULL;
}

/* The sector with this id, or NULL. */
const struct dir_sector *
directory_sector(const struct directory *d, const char *id)
{
	return directory_find((void *const *)d->sectors_by_id, d->nsectors,
	    id);
}

/* The CEPTOAR with this id, or NULL. */
const struct dir_ceptoar *
directory_ceptoar(const struct directory *d, const char *id)
{
	return directory_find((void *const *)d->ceptoars_by_id, d->nceptoars,
	    id);
}

/* The ministry with this id, or NULL. */
const struct dir_ministry *
directory_ministry(const struct directory *d, const char *id)
{
	return directory_find((void *const *)d->ministries_by_id,
	    d->nministries, id);
}

/* Whether o listed sector among its sectors. */
bool
directory_org_in_sector(const struct dir_org *o, const char *sector)
{
	size_t	 i;

	if (o == NULL || sector == NULL)
		return false;
	for (i = 0; i < o->nsectors; i++)
		if (strcmp(o->sectors[i], sector) == 0)
			return true;
	return false;
}

/* Whether o is a member of the CEPTOAR ceptoar. */
bool
directory_org_in_ceptoar(const struct dir_org *o, const char *ceptoar)
{
	size_t	 i;

	if (o == NULL || ceptoar == NULL)
		return false;
	for (i = 0; i < o->nceptoars; i++)
		if (strcmp(o->ceptoars[i], ceptoar) == 0)
			return true;
	return false;
}

/* Role names joined by commas, in a fixed order; "" for none. */
const char *
directory_roles_str(unsigned roles, char *buf, size_t len)
{
	size_t	 i, off = 0;
	int	 r;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < DIRECTORY_NROLES; i++) {
		if (!(roles & directory_roles[i].bit))
			continue;
		r = snprintf(buf + off, len - off, "%s%s", off ? "," : "",
		    directory_roles[i].name);
		if (r < 0 || (size_t)r >= len - off) {
			buf[off] = '\0';
			break;
		}
		off += (size_t)r;
	}
	return buf;
}

/* One role name to its bit; -1 if it is not a role. */
int
directory_role_parse(const char *s, unsigned *bit)
{
	size_t	 i;

	for (i = 0; s != NULL && i < DIRECTORY_NROLES; i++) {
		if (strcmp(s, directory_roles[i].name) == 0) {
			*bit = directory_roles[i].bit;
			return 0;
		}
	}
	return -1;
}
