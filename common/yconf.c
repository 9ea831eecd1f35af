/*
 * Reading YAML configuration files with libyaml's document API.  The
 * whole document is loaded first, so every node still knows the line it
 * started on when a later check finds something wrong with it.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "yconf.h"

/* Configuration files are written by hand; anything bigger is a mistake. */
#define YCONF_MAX_FILE	(64UL * 1024 * 1024)

/*
 * Deepest nesting of lists and mappings.  Configuration needs four or
 * five levels; libyaml's scanner slows down quadratically with depth, so
 * a file of nothing but "[[[[..." must be stopped early.
 */
#define YCONF_MAX_DEPTH	64

/* Longest value quoted back in an error message. */
#define YCONF_QUOTE_MAX	64

static int	 yconf_read_file(const char *path, unsigned char **out,
		    size_t *lenp, char **cause);
static int	 yconf_check_depth(struct yconf *y, const unsigned char *buf,
		    size_t len, char **cause);
static int	 yconf_syntax_error(struct yconf *y, yaml_parser_t *p,
		    const unsigned char *buf, size_t len, char **cause);
static int	 yconf_verror(const char *path, unsigned long line,
		    char **cause, const char *fmt, va_list ap)
		    __attribute__((format(printf, 4, 0)));
static int	 yconf_errorf(const char *path, unsigned long line,
		    char **cause, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
static const char *yconf_kind(const yaml_node_t *n);
static const char *yconf_quote(const char *s, char *buf, size_t len);
static size_t	 yconf_distance(const char *a, const char *b);

/* Read all of path into a malloc'd, NUL-terminated buffer. */
static int
yconf_read_file(const char *path, unsigned char **out, size_t *lenp,
    char **cause)
{
	FILE		*f;
	unsigned char	*buf = NULL, *nbuf;
	size_t		 len = 0, cap = 0, n;

	if ((f = fopen(path, "r")) == NULL)
		return yconf_errorf(path, 0, cause, "%s", strerror(errno));
	for (;;) {
		if (cap - len < 8192 + 1) {
			if (cap >= YCONF_MAX_FILE) {
				free(buf);
				fclose(f);
				return yconf_errorf(path, 0, cause,
				    "file is larger than %lu bytes",
				    YCONF_MAX_FILE);
			}
			cap = cap == 0 ? 65536 : cap * 2;
			if ((nbuf = realloc(buf, cap)) == NULL) {
				free(buf);
				fclose(f);
				return yconf_errorf(path, 0, cause,
				    "out of memory");
			}
			buf = nbuf;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		/* A directory fails here, with EISDIR. */
		int	 saved = errno;

		free(buf);
		fclose(f);
		return yconf_errorf(path, 0, cause, "read: %s",
		    strerror(saved));
	}
	fclose(f);
	buf[len] = '\0';
	*out = buf;
	*lenp = len;
	return 0;
}

/*
 * Turn the parser's error into "file:line: syntax error: ...".  Reader
 * errors (bad UTF-8, control characters) carry a byte offset, not a
 * mark, so the line is counted from the buffer.
 */
static int
yconf_syntax_error(struct yconf *y, yaml_parser_t *p,
    const unsigned char *buf, size_t len, char **cause)
{
	unsigned long	 line = 1;
	size_t		 i;
	const char	*problem = p->problem ? p->problem : "unknown error";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return yconf_errorf(y->path, 0, cause, "out of memory");
	case YAML_READER_ERROR:
		for (i = 0; i < p->problem_offset && i < len; i++)
			if (buf[i] == '\n')
				line++;
		if (p->problem_value != -1)
			return yconf_errorf(y->path, line, cause,
			    "invalid text: %s (byte 0x%02x)", problem,
			    (unsigned)p->problem_value & 0xff);
		return yconf_errorf(y->path, line, cause, "invalid text: %s",
		    problem);
	default:
		break;
	}
	line = p->problem_mark.line + 1;
	if (p->context != NULL && p->context_mark.line != p->problem_mark.line)
		return yconf_errorf(y->path, line, cause,
		    "syntax error: %s (%s at line %lu)", problem, p->context,
		    (unsigned long)p->context_mark.line + 1);
	if (p->context != NULL)
		return yconf_errorf(y->path, line, cause,
		    "syntax error: %s (%s)", problem, p->context);
	return yconf_errorf(y->path, line, cause, "syntax error: %s", problem);
}

/*
 * Refuse absurd nesting before the document loader sees it: a pass over
 * the events, stopping at the first one too deep.  Syntax errors are
 * left for the loader, which reports them the same way.
 */
static int
yconf_check_depth(struct yconf *y, const unsigned char *buf, size_t len,
    char **cause)
{
	yaml_parser_t	 parser;
	yaml_event_t	 ev;
	size_t		 depth = 0;
	int		 done = 0, r = 0;

	if (!yaml_parser_initialize(&parser))
		return yconf_errorf(y->path, 0, cause, "out of memory");
	yaml_parser_set_input_string(&parser, buf, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev))
			break;
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > YCONF_MAX_DEPTH) {
				r = yconf_errorf(y->path,
				    ev.start_mark.line + 1, cause,
				    "lists and mappings nested deeper than %d "
				    "levels", YCONF_MAX_DEPTH);
				done = 1;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return r;
}

/* Parse path as exactly one YAML document; see yconf.h. */
int
yconf_load(struct yconf *y, const char *path, char **cause)
{
	yaml_parser_t	 parser;
	yaml_document_t	 extra;
	unsigned char	*buf = NULL;
	size_t		 len = 0;
	int		 more;

	memset(y, 0, sizeof(*y));
	if ((y->path = strdup(path)) == NULL)
		return yconf_errorf(path, 0, cause, "out of memory");
	if (yconf_read_file(path, &buf, &len, cause) == -1)
		goto fail;
	if (yconf_check_depth(y, buf, len, cause) == -1) {
		free(buf);
		goto fail;
	}

	if (!yaml_parser_initialize(&parser)) {
		free(buf);
		yconf_errorf(path, 0, cause, "out of memory");
		goto fail;
	}
	yaml_parser_set_input_string(&parser, buf, len);
	if (!yaml_parser_load(&parser, &y->doc)) {
		yconf_syntax_error(y, &parser, buf, len, cause);
		yaml_parser_delete(&parser);
		free(buf);
		goto fail;
	}
	y->loaded = true;

	/*
	 * libyaml stops after the first document; a second one after "---"
	 * would otherwise be ignored without a word.
	 */
	if (yconf_root(y) != NULL) {
		if (!yaml_parser_load(&parser, &extra)) {
			yconf_syntax_error(y, &parser, buf, len, cause);
			yaml_parser_delete(&parser);
			free(buf);
			goto fail;
		}
		more = yaml_document_get_root_node(&extra) != NULL;
		if (more)
			yconf_errorf(path,
			    extra.start_mark.line + 1, cause,
			    "only one YAML document is allowed per file");
		yaml_document_delete(&extra);
		if (more) {
			yaml_parser_delete(&parser);
			free(buf);
			goto fail;
		}
	}
	yaml_parser_delete(&parser);
	free(buf);
	return 0;

fail:
	yconf_free(y);
	return -1;
}

/* Release the document and path; safe on a zeroed or failed yconf. */
void
yconf_free(struct yconf *y)
{
	if (y == NULL)
		return;
	if (y->loaded)
		yaml_document_delete(&y->doc);
	free(y->path);
	memset(y, 0, sizeof(*y));
}

/* The document's root node, NULL when the file held no document. */
yaml_node_t *
yconf_root(struct yconf *y)
{
	if (!y->loaded)
		return NULL;
	return yaml_document_get_root_node(&y->doc);
}

/* Lines are 0-based in libyaml and 1-based in every message. */
unsigned long
yconf_line(const yaml_node_t *n)
{
	if (n == NULL)
		return 0;
	return (unsigned long)n->start_mark.line + 1;
}

/* Resolve a node index from a mapping pair or sequence item. */
yaml_node_t *
yconf_node(struct yconf *y, int index)
{
	if (!y->loaded)
		return NULL;
	return yaml_document_get_node(&y->doc, index);
}

/* Format "path:line: what" (or "path: what" without a line) into *cause. */
static int
yconf_verror(const char *path, unsigned long line, char **cause,
    const char *fmt, va_list ap)
{
	char	*msg = NULL, *out = NULL;
	int	 r;

	if (cause == NULL)
		return -1;
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	if (line > 0)
		r = asprintf(&out, "%s:%lu: %s", path ? path : "(config)", line,
		    msg ? msg : "out of memory");
	else
		r = asprintf(&out, "%s: %s", path ? path : "(config)",
		    msg ? msg : "out of memory");
	free(msg);
	*cause = r == -1 ? NULL : out;
	return -1;
}

/* yconf_verror with arguments. */
static int
yconf_errorf(const char *path, unsigned long line, char **cause,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	yconf_verror(path, line, cause, fmt, ap);
	va_end(ap);
	return -1;
}

/* Report a problem with node n at its line; always returns -1. */
int
yconf_error(struct yconf *y, const yaml_node_t *n, char **cause,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	yconf_verror(y->path, n ? yconf_line(n) : 1, cause, fmt, ap);
	va_end(ap);
	return -1;
}

/* A node's kind as a word for "expected a mapping, found a sequence". */
static const char *
yconf_kind(const yaml_node_t *n)
{
	if (n == NULL)
		return "nothing";
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return yconf_is_null(n) ? "no value" : "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/*
 * Copy s into buf for an error message: control characters become '?'
 * and long values are cut, so a binary file cannot garble a terminal.
 */
static const char *
yconf_quote(const char *s, char *buf, size_t len)
{
	size_t	 i;

	for (i = 0; s[i] != '\0' && i + 1 < len && i < YCONF_QUOTE_MAX; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ?
		    '?' : s[i];
	buf[i] = '\0';
	if (s[i] != '\0' && i >= 3)
		memcpy(buf + i - 3, "...", 3);
	return buf;
}

/* Plain "", "~" and "null" are YAML's ways of writing no value. */
bool
yconf_is_null(const yaml_node_t *n)
{
	const char	*v;

	if (n == NULL || n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return n->data.scalar.length == 0 || strcmp(v, "~") == 0 ||
	    strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	    strcmp(v, "NULL") == 0;
}

/* Edit distance between two short keys, to suggest the intended one. */
static size_t
yconf_distance(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b), i, j, prev, cur, tmp;
	size_t	 row[64];

	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			cur = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < cur)
				cur = row[j] + 1;
			if (row[j - 1] + 1 < cur)
				cur = row[j - 1] + 1;
			tmp = row[j];
			row[j] = cur;
			prev = tmp;
		}
	}
	return row[lb];
}

/* Check a mapping's keys: scalars, no duplicates, only allowed ones. */
int
yconf_mapping(struct yconf *y, const yaml_node_t *n, const char *what,
    const char *const *allowed, char **cause)
{
	yaml_node_pair_t	*p, *q;
	yaml_node_t		*k, *k2;
	const char		*key, *best;
	char			 qb[YCONF_QUOTE_MAX + 1], list[512];
	size_t			 d, bestd, i, off;

	if (n == NULL || n->type != YAML_MAPPING_NODE)
		return yconf_error(y, n, cause, "%s: expected a mapping, "
		    "found %s", what, yconf_kind(n));
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		k = yconf_node(y, p->key);
		if (k == NULL || k->type != YAML_SCALAR_NODE)
			return yconf_error(y, k, cause, "%s: keys must be "
			    "plain words, found %s", what, yconf_kind(k));
		key = (const char *)k->data.scalar.value;
		for (q = n->data.mapping.pairs.start; q < p; q++) {
			k2 = yconf_node(y, q->key);
			if (k2->data.scalar.length == k->data.scalar.length &&
			    memcmp(k2->data.scalar.value, key,
			    k->data.scalar.length) == 0)
				return yconf_error(y, k, cause, "%s: "
				    "duplicate key '%s' (first at line %lu)",
				    what, yconf_quote(key, qb, sizeof(qb)),
				    yconf_line(k2));
		}
		if (allowed == NULL)
			continue;
		best = NULL;
		bestd = SIZE_MAX;
		for (i = 0; allowed[i] != NULL; i++) {
			if (strcmp(allowed[i], key) == 0)
				break;
			d = yconf_distance(key, allowed[i]);
			if (d < bestd) {
				bestd = d;
				best = allowed[i];
			}
		}
		if (allowed[i] != NULL)
			continue;
		if (best != NULL && bestd <= 2 && bestd < strlen(key))
			return yconf_error(y, k, cause, "%s: unknown key '%s' "
			    "(did you mean '%s'?)", what,
			    yconf_quote(key, qb, sizeof(qb)), best);
		list[0] = '\0';
		off = 0;
		for (i = 0; allowed[i] != NULL && off < sizeof(list); i++)
			off += snprintf(list + off, sizeof(list) - off,
			    "%s%s", i ? ", " : "", allowed[i]);
		return yconf_error(y, k, cause, "%s: unknown key '%s' "
		    "(expected one of: %s)", what,
		    yconf_quote(key, qb, sizeof(qb)), list);
	}
	return 0;
}

/* Find key in mapping m; the last pair wins, though yconf_mapping
 * refuses duplicates anyway. */
yaml_node_t *
yconf_get(struct yconf *y, const yaml_node_t *m, const char *key)
{
	yaml_node_pair_t	*p;
	yaml_node_t		*k, *found = NULL;
	size_t			 len = strlen(key);

	if (m == NULL || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	    p++) {
		k = yconf_node(y, p->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    k->data.scalar.length == len &&
		    memcmp(k->data.scalar.value, key, len) == 0)
			found = yconf_node(y, p->value);
	}
	return found;
}

/* Check that n is a list (or nothing) and count its items. */
int
yconf_sequence(struct yconf *y, const yaml_node_t *n, const char *what,
    size_t *np, char **cause)
{
	if (yconf_is_null(n)) {
		*np = 0;
		return 0;
	}
	if (n == NULL || n->type != YAML_SEQUENCE_NODE)
		return yconf_error(y, n, cause, "%s: expected a list, found %s",
		    what, yconf_kind(n));
	*np = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	return 0;
}

/* Item i of a sequence already counted by yconf_sequence. */
yaml_node_t *
yconf_item(struct yconf *y, const yaml_node_t *n, size_t i)
{
	return yconf_node(y, n->data.sequence.items.start[i]);
}

/* The text of a scalar that has a value and no embedded NUL. */
int
yconf_scalar(struct yconf *y, const yaml_node_t *n, const char **out,
    char **cause)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return yconf_error(y, n, cause, "expected a single value, "
		    "found %s", yconf_kind(n));
	if (yconf_is_null(n))
		return yconf_error(y, n, cause, "missing value");
	if (strlen((const char *)n->data.scalar.value) !=
	    n->data.scalar.length)
		return yconf_error(y, n, cause, "value contains a NUL byte");
	*out = (const char *)n->data.scalar.value;
	return 0;
}

/* yconf_scalar, copied. */
int
yconf_string(struct yconf *y, const yaml_node_t *n, char **out, char **cause)
{
	const char	*s;

	if (yconf_scalar(y, n, &s, cause) == -1)
		return -1;
	if ((*out = strdup(s)) == NULL)
		return yconf_error(y, n, cause, "out of memory");
	return 0;
}

/*
 * Strict decimal: strtoull alone would take "-1", " 7", "0x10" and
 * silently wrap, none of which a person meant in a config file.
 */
int
yconf_uint(struct yconf *y, const yaml_node_t *n, uint64_t min, uint64_t max,
    uint64_t *out, char **cause)
{
	const char	*s, *p;
	uint64_t	 v = 0;
	char		 qb[YCONF_QUOTE_MAX + 1];

	if (yconf_scalar(y, n, &s, cause) == -1)
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			goto bad;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == s || (s[0] == '0' && s[1] != '\0'))
		goto bad;
	if (v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	return yconf_error(y, n, cause, "'%s' is not a whole number from "
	    "%llu to %llu", yconf_quote(s, qb, sizeof(qb)),
	    (unsigned long long)min, (unsigned long long)max);
}

/* YAML 1.1's boolean words; anything else is refused, not guessed. */
int
yconf_bool(struct yconf *y, const yaml_node_t *n, bool *out, char **cause)
{
	static const struct {
		const char	*word;
		bool		 value;
	} words[] = {
		{ "true", true }, { "false", false },
		{ "yes", true }, { "no", false },
		{ "on", true }, { "off", false },
	};
	const char	*s;
	char		 qb[YCONF_QUOTE_MAX + 1];
	size_t		 i;

	if (yconf_scalar(y, n, &s, cause) == -1)
		return -1;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcasecmp(s, words[i].word) == 0) {
			*out = words[i].value;
			return 0;
		}
	}
	return yconf_error(y, n, cause, "'%s' is not a boolean (use true or "
	    "false; yes/no and on/off are also accepted)",
	    yconf_quote(s, qb, sizeof(qb)));
}

/* One scalar or a list of them, as a NULL-terminated array. */
int
yconf_strings(struct yconf *y, const yaml_node_t *n, char ***out, size_t *np,
    char **cause)
{
	char		**v;
	size_t		 len, i;

	if (n != NULL && n->type == YAML_SCALAR_NODE && !yconf_is_null(n)) {
		if ((v = calloc(2, sizeof(*v))) == NULL)
			return yconf_error(y, n, cause, "out of memory");
		if (yconf_string(y, n, &v[0], cause) == -1) {
			free(v);
			return -1;
		}
		*out = v;
		*np = 1;
		return 0;
	}
	if (yconf_sequence(y, n, "value", &len, cause) == -1)
		return -1;
	if ((v = calloc(len + 1, sizeof(*v))) == NULL)
		return yconf_error(y, n, cause, "out of memory");
	for (i = 0; i < len; i++) {
		if (yconf_string(y, yconf_item(y, n, i), &v[i], cause) == -1) {
			yconf_strings_free(v);
			return -1;
		}
	}
	*out = v;
	*np = len;
	return 0;
}

/* Free every string and the array; NULL is fine. */
void
yconf_strings_free(char **v)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}
