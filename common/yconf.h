/*
 * Reading YAML configuration files with libyaml's document API, so that
 * every value keeps the line it came from and every error reads
 * "file:line: what is wrong".  Shared by the hub's configuration, its
 * directory and the client's configuration.
 */
#ifndef CEPTOAR_YCONF_H
#define CEPTOAR_YCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

struct yconf {
	char		*path;
	yaml_document_t	 doc;
	bool		 loaded;
};

/*
 * Load path into y.  Returns 0, or -1 with *cause set to a malloc'd
 * "file:line: what" sentence (the caller frees it).  An empty file loads
 * as a document without a root node.
 */
int		 yconf_load(struct yconf *y, const char *path, char **cause);

/* Release everything yconf_load allocated. */
void		 yconf_free(struct yconf *y);

/* The root node, or NULL for an empty document. */
yaml_node_t	*yconf_root(struct yconf *y);

/* The 1-based line a node starts on. */
unsigned long	 yconf_line(const yaml_node_t *n);

/* A node by index, as found in mapping pairs and sequence items. */
yaml_node_t	*yconf_node(struct yconf *y, int index);

/*
 * Set *cause to a malloc'd "file:line: " message about node n, printf
 * style, and return -1 so callers can `return yconf_error(...)`.
 */
int		 yconf_error(struct yconf *y, const yaml_node_t *n, char **cause,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Whether n is a plain scalar meaning "nothing": empty, "~" or "null",
 * as written by "key:" with no value.
 */
bool		 yconf_is_null(const yaml_node_t *n);

/*
 * Check that n is a mapping whose keys are distinct scalars, each one of
 * the NULL-terminated list allowed (NULL allows any key).  An unknown key
 * is reported with the closest allowed one, so typos read as such.  what
 * names the mapping in messages ("organisation").
 */
int		 yconf_mapping(struct yconf *y, const yaml_node_t *n,
		    const char *what, const char *const *allowed, char **cause);

/* The value of key in mapping m, or NULL if m has no such key. */
yaml_node_t	*yconf_get(struct yconf *y, const yaml_node_t *m,
		    const char *key);

/*
 * Check that n is a sequence and set *np to its length; a null scalar
 * (see yconf_is_null) counts as an empty sequence.
 */
int		 yconf_sequence(struct yconf *y, const yaml_node_t *n,
		    const char *what, size_t *np, char **cause);

/* Item i of sequence n (checked with yconf_sequence), never NULL. */
yaml_node_t	*yconf_item(struct yconf *y, const yaml_node_t *n, size_t i);

/*
 * The text of a scalar node; -1 with a cause if n is not a scalar, is
 * null (a key written without a value) or holds a NUL byte.
 */
int		 yconf_scalar(struct yconf *y, const yaml_node_t *n,
		    const char **out, char **cause);

/* A scalar as a malloc'd string. */
int		 yconf_string(struct yconf *y, const yaml_node_t *n, char **out,
		    char **cause);

/*
 * A scalar as a decimal unsigned integer within [min, max]: no sign, no
 * leading zero (YAML 1.1 would read it as octal), no junk, no overflow.
 */
int		 yconf_uint(struct yconf *y, const yaml_node_t *n, uint64_t min,
		    uint64_t max, uint64_t *out, char **cause);

/* A scalar as a boolean: true/false, yes/no, on/off, in any case. */
int		 yconf_bool(struct yconf *y, const yaml_node_t *n, bool *out,
		    char **cause);

/*
 * A scalar, or a sequence of scalars, as a malloc'd NULL-terminated
 * array of malloc'd strings with its count in *np.  A null scalar is
 * an empty array.
 */
int		 yconf_strings(struct yconf *y, const yaml_node_t *n, char ***out,
		    size_t *np, char **cause);

/* Free an array from yconf_strings. */
void		 yconf_strings_free(char **v);

#endif
