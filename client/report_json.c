/*
 * The JSON report format: a file an operator writes at 3 a.m. turned into
 * a Ceptoar__Message, and any protocol message turned back into JSON.
 *
 * Both directions are driven by the protobuf-c descriptors, so the JSON
 * keys are the proto field names by construction and a field added to
 * ceptoar.proto is readable and printable without touching this file.
 * Only three things are special: enumerations are written as the names
 * in proto/names.c, int64 fields are times (RFC 3339 or unix seconds),
 * and a Message says which content it carries with "type".
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "ceptoar.h"

/* 1000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in unix seconds. */
#define REPORT_JSON_YEAR_1000	(-30610224000LL)
#define REPORT_JSON_YEAR_9999	253402300799LL
#include "validate.h"

/* A report is a few kilobytes; this only stops a runaway pipe. */
#define REPORT_JSON_MAX_FILE	(8u * 1024 * 1024)
#define REPORT_JSON_PATH_MAX	192

/* State of one decode: where the error goes. */
struct rj {
	const char	*name;		/* file name, for messages */
	char		*cause;
};

static int	rj_message(struct rj *, const char *, json_t *,
		    const ProtobufCMessageDescriptor *, ProtobufCMessage **);

/* Record the first error as "NAME: path: reason" and return -1. */
static int __attribute__((format(printf, 3, 4)))
rj_error(struct rj *rj, const char *path, const char *fmt, ...)
{
	va_list	 ap;
	char	 reason[512];

	if (rj->cause != NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (asprintf(&rj->cause, "%s: %s%s%s", rj->name, path,
	    *path != '\0' ? ": " : "", reason) == -1)
		rj->cause = NULL;
	return -1;
}

/* Show a JSON value briefly in an error, e.g. (got "high"). */
static const char *
rj_got(json_t *v, char *buf, size_t len)
{
	char	*s;

	if ((s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT)) == NULL) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (strlen(s) > 40)
		snprintf(buf, len, "%.37s...", s);
	else
		snprintf(buf, len, "%s", s);
	free(s);
	return buf;
}

/* Join a path and a key: "report" + "severity" -> "report.severity". */
static void
rj_path_key(char *buf, size_t len, const char *path, const char *key)
{
	snprintf(buf, len, "%s%s%s", path, *path != '\0' ? "." : "", key);
}

/* Whether a field holds a time. */
bool
report_json_is_time(const ProtobufCFieldDescriptor *f)
{
	/* Every int64 in the protocol is a time in unix seconds. */
	return f->type == PROTOBUF_C_TYPE_INT64;
}

/* Whether a field is a severity level, 0..4. */
bool
report_json_is_severity(const ProtobufCMessageDescriptor *d,
    const ProtobufCFieldDescriptor *f)
{
	return d == &ceptoar__severity__descriptor &&
	    f->type == PROTOBUF_C_TYPE_UINT32;
}

/* The "type" of a message: its content's field name. */
const char *
report_json_type(const Ceptoar__Message *m)
{
	const ProtobufCFieldDescriptor	*f;

	if (m->content_case == CEPTOAR__MESSAGE__CONTENT__NOT_SET)
		return NULL;
	f = protobuf_c_message_descriptor_get_field(
	    &ceptoar__message__descriptor, m->content_case);
	return f != NULL ? f->name : NULL;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
rj_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t		era;
	unsigned	yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* Read exactly n digits at *sp into *out and advance. */
static int
rj_digits(const char **sp, int n, int *out)
{
	int	v = 0;

	for (; n > 0; n--, (*sp)++) {
		if (**sp < '0' || **sp > '9')
			return -1;
		v = v * 10 + (**sp - '0');
	}
	*out = v;
	return 0;
}

/* RFC 3339 with an offset, to unix seconds. */
int
report_json_parse_time(const char *s, int64_t *t, const char **reason)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int	y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0, leap;

	*reason = "must be RFC 3339 with a UTC offset, such as "
	    "2026-11-21T03:05:00+09:00, or unix seconds";
	if (rj_digits(&s, 4, &y) == -1 || *s++ != '-' ||
	    rj_digits(&s, 2, &mo) == -1 || *s++ != '-' ||
	    rj_digits(&s, 2, &d) == -1)
		return -1;
	if (*s != 'T' && *s != 't' && *s != ' ')
		return -1;
	s++;
	if (rj_digits(&s, 2, &h) == -1 || *s++ != ':' ||
	    rj_digits(&s, 2, &mi) == -1 || *s++ != ':' ||
	    rj_digits(&s, 2, &sec) == -1)
		return -1;
	if (*s == '.') {
		/* Fractions are allowed but the protocol keeps seconds. */
		s++;
		if (*s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'Z' || *s == 'z')
		s++;
	else if (*s == '+' || *s == '-') {
		sign = *s++ == '-' ? -1 : 1;
		if (rj_digits(&s, 2, &oh) == -1 || *s++ != ':' ||
		    rj_digits(&s, 2, &om) == -1)
			return -1;
	} else {
		*reason = "needs a UTC offset, such as "
		    "2026-11-21T03:05:00+09:00 or ...Z";
		return -1;
	}
	if (*s != '\0')
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 60 ||
	    oh > 23 || om > 59) {
		*reason = "is not a valid date and time";
		return -1;
	}
	*t = rj_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
	*reason = NULL;
	return 0;
}

/* Unix seconds to RFC 3339 in UTC. */
const char *
report_json_time(int64_t t, char *buf, size_t len)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

/* A fresh version 4 UUID for a message that has none. */
void
report_json_uuid(char *buf, size_t len)
{
	unsigned char	 b[16];

	if (sodium_init() < 0)
		abort();
	randombytes_buf(b, sizeof(b));
	validate_uuid_format(b, buf, len);
}

/* An integer within [min, max], with the range named in the error. */
static int
rj_integer(struct rj *rj, const char *path, json_t *v, long long min,
    long long max, long long *out)
{
	char	got[64];

	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return rj_error(rj, path, "must be an integer %lld..%lld "
		    "(got %s)", min, max, rj_got(v, got, sizeof(got)));
	*out = json_integer_value(v);
	return 0;
}

/*
 * Decode one value of field f into dst, which points at the field's
 * storage (or an array element for repeated fields).
 */
static int
rj_value(struct rj *rj, const char *path, json_t *v,
    const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f,
    void *dst)
{
	const struct name_entry	*names;
	const char		*reason;
	char			 got[64], list[256];
	long long		 n;
	int64_t			 t;
	int			 e;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		if (!json_is_string(v))
			return rj_error(rj, path, "must be a string (got %s)",
			    rj_got(v, got, sizeof(got)));
		if (json_string_length(v) > VALIDATE_MAX_TEXT)
			return rj_error(rj, path, "is %zu bytes long, more "
			    "than the %u allowed", json_string_length(v),
			    (unsigned)VALIDATE_MAX_TEXT);
		if ((*(char **)dst = strdup(json_string_value(v))) == NULL)
			return rj_error(rj, path, "out of memory");
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_is_boolean(v))
			return rj_error(rj, path, "must be true or false "
			    "(got %s)", rj_got(v, got, sizeof(got)));
		*(protobuf_c_boolean *)dst = json_is_true(v);
		return 0;
	case PROTOBUF_C_TYPE_ENUM:
		if ((names = names_for_enum(f->descriptor)) == NULL)
			return rj_error(rj, path, "enumeration without names");
		names_list(names, list, sizeof(list));
		if (!json_is_string(v))
			return rj_error(rj, path, "must be one of: %s (got %s)",
			    list, rj_got(v, got, sizeof(got)));
		if (names_parse(names, json_string_value(v), &e) == -1)
			return rj_error(rj, path, "unknown value %s (expected "
			    "one of: %s)", rj_got(v, got, sizeof(got)), list);
		*(int *)dst = e;
		return 0;
	case PROTOBUF_C_TYPE_UINT32:
		if (rj_integer(rj, path, v, 0, report_json_is_severity(d, f) ?
		    VALIDATE_MAX_SEVERITY : UINT32_MAX, &n) == -1)
			return -1;
		*(uint32_t *)dst = (uint32_t)n;
		return 0;
	case PROTOBUF_C_TYPE_INT32:
		if (rj_integer(rj, path, v, INT32_MIN, INT32_MAX, &n) == -1)
			return -1;
		*(int32_t *)dst = (int32_t)n;
		return 0;
	case PROTOBUF_C_TYPE_UINT64:
		/* jansson stops at INT64_MAX, more than any count we carry. */
		if (rj_integer(rj, path, v, 0, LLONG_MAX, &n) == -1)
			return -1;
		*(uint64_t *)dst = (uint64_t)n;
		return 0;
	case PROTOBUF_C_TYPE_INT64:
		if (json_is_integer(v)) {
			*(int64_t *)dst = json_integer_value(v);
			return 0;
		}
		if (!report_json_is_time(f))
			return rj_error(rj, path, "must be an integer (got %s)",
			    rj_got(v, got, sizeof(got)));
		if (!json_is_string(v) ||
		    report_json_parse_time(json_string_value(v), &t,
		    &reason) == -1)
			return rj_error(rj, path, "%s (got %s)",
			    json_is_string(v) ? reason : "must be RFC 3339 "
			    "with a UTC offset, such as "
			    "2026-11-21T03:05:00+09:00, or unix seconds",
			    rj_got(v, got, sizeof(got)));
		*(int64_t *)dst = t;
		return 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return rj_message(rj, path, v, f->descriptor,
		    (ProtobufCMessage **)dst);
	default:
		return rj_error(rj, path, "field type not supported in JSON");
	}
}

/* The size of one element of a repeated field of f's type. */
static size_t
rj_elem_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_INT64:
		return sizeof(uint64_t);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	default:
		return sizeof(uint32_t);	/* enums and 32-bit integers */
	}
}

/*
 * Presence by the rules of protobuf-c: a repeated field counts its
 * elements, a oneof member must be the chosen one, strings and messages
 * are there when not NULL, other optional fields have a has_ flag.
 */
size_t
report_json_field(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    const void **values, size_t *step)
{
	const char	*base = (const char *)m;

	*step = rj_elem_size(f);
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		*values = *(const void *const *)(base + f->offset);
		return *(const size_t *)(base + f->quantifier_offset);
	}
	*values = base + f->offset;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) ==
		    f->id;
	if (f->type == PROTOBUF_C_TYPE_STRING ||
	    f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(const void *const *)*values != NULL;
	return f->quantifier_offset == 0 ||
	    *(const protobuf_c_boolean *)(base + f->quantifier_offset);
}

/* Decode a JSON array into repeated field f of msg. */
static int
rj_repeated(struct rj *rj, const char *path, json_t *v,
    const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f,
    ProtobufCMessage *msg)
{
	size_t	*np = (size_t *)((char *)msg + f->quantifier_offset);
	void	**arrp = (void **)((char *)msg + f->offset);
	char	 ipath[REPORT_JSON_PATH_MAX + 24], got[64];
	size_t	 i, n, esz = rj_elem_size(f);

	if (!json_is_array(v))
		return rj_error(rj, path, "must be a list [...] (got %s)",
		    rj_got(v, got, sizeof(got)));
	if ((n = json_array_size(v)) == 0)
		return 0;
	if (n > VALIDATE_MAX_LIST)
		return rj_error(rj, path, "has %zu entries, more than the %d "
		    "allowed", n, VALIDATE_MAX_LIST);
	if ((*arrp = calloc(n, esz)) == NULL)
		return rj_error(rj, path, "out of memory");
	/*
	 * Count each element before filling it: the array is zeroed, so on
	 * failure free_unpacked finds NULL or a half-built element it can
	 * free, and nothing leaks.
	 */
	for (i = 0; i < n; i++) {
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		*np = i + 1;
		if (json_is_null(json_array_get(v, i)))
			return rj_error(rj, ipath, "must not be null");
		if (rj_value(rj, ipath, json_array_get(v, i), d, f,
		    (char *)*arrp + i * esz) == -1)
			return -1;
	}
	return 0;
}

/* List the keys an object of d accepts, for "unknown key" errors. */
static void
rj_keys(const ProtobufCMessageDescriptor *d, char *buf, size_t len)
{
	size_t	i, off = 0;
	int	n;

	buf[0] = '\0';
	if (d == &ceptoar__message__descriptor) {
		n = snprintf(buf, len, "type");
		off = n > 0 ? (size_t)n : 0;
	}
	for (i = 0; i < d->n_fields && off < len; i++) {
		n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
		    d->fields[i].name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/*
 * A Message carries one content, named by "type" and by its key.  The
 * key alone is enough; when both are there they must agree, since a
 * mismatch means the author copied the wrong template.
 */
static int
rj_check_type(struct rj *rj, json_t *obj, const ProtobufCMessageDescriptor *d)
{
	const ProtobufCFieldDescriptor	*f, *given = NULL;
	json_t				*type;
	char				 list[128], got[64];
	size_t				 i;
	int				 off = 0, n;

	list[0] = '\0';
	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) == 0)
			continue;
		n = snprintf(list + off, sizeof(list) - off, "%s%s",
		    off ? ", " : "", f->name);
		if (n > 0 && (size_t)(off + n) < sizeof(list))
			off += n;
	}
	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) == 0)
			continue;
		if (json_object_get(obj, f->name) == NULL ||
		    json_is_null(json_object_get(obj, f->name)))
			continue;
		if (given != NULL)
			return rj_error(rj, f->name, "only one of %s may be "
			    "given, and \"%s\" is there too", list,
			    given->name);
		given = f;
	}
	if ((type = json_object_get(obj, "type")) == NULL ||
	    json_is_null(type)) {
		if (given == NULL)
			return rj_error(rj, "type", "missing (expected one of: "
			    "%s)", list);
		return 0;
	}
	if (!json_is_string(type) ||
	    (f = protobuf_c_message_descriptor_get_field_by_name(d,
	    json_string_value(type))) == NULL ||
	    (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) == 0)
		return rj_error(rj, "type", "unknown value %s (expected one "
		    "of: %s)", rj_got(type, got, sizeof(got)), list);
	if (given == NULL)
		return rj_error(rj, f->name, "missing (\"type\" is \"%s\", so "
		    "the content goes under a \"%s\" key)", f->name, f->name);
	if (given != f)
		return rj_error(rj, given->name, "does not match \"type\": "
		    "\"%s\"", f->name);
	return 0;
}

/*
 * The hub computes the overall severity.  A value in the file is only
 * accepted when it agrees with the viewpoints, and then left for the hub
 * to fill in again, so that a delivered report can be resubmitted as is.
 */
static int
rj_check_severity(struct rj *rj, const char *path, Ceptoar__Severity *s)
{
	char	fpath[REPORT_JSON_PATH_MAX];
	int	high;

	if (!s->has_overall)
		return 0;
	rj_path_key(fpath, sizeof(fpath), path, "overall");
	high = validate_overall_severity(s);
	if (high == -1)
		return rj_error(rj, fpath, "give continuity, safety and trust "
		    "instead; the hub computes overall as the highest of them");
	if ((uint32_t)high != s->overall)
		return rj_error(rj, fpath, "is %u but the highest viewpoint is "
		    "%d; leave it out, the hub computes it", s->overall, high);
	s->has_overall = 0;
	s->overall = 0;
	return 0;
}

/*
 * Decode a JSON object into a new message of type d.  *out is set as
 * soon as the message exists, so the caller frees it on error too.
 */
static int
rj_message(struct rj *rj, const char *path, json_t *obj,
    const ProtobufCMessageDescriptor *d, ProtobufCMessage **out)
{
	const ProtobufCFieldDescriptor	*f;
	ProtobufCMessage		*msg;
	const char			*key;
	json_t				*v;
	char				 fpath[REPORT_JSON_PATH_MAX];
	char				 keys[512], got[64];
	void				*member, *quant;

	if (!json_is_object(obj))
		return rj_error(rj, path, "must be an object {...} (got %s)",
		    rj_got(obj, got, sizeof(got)));
	if ((msg = calloc(1, d->sizeof_message)) == NULL)
		return rj_error(rj, path, "out of memory");
	d->message_init(msg);
	*out = msg;
	if (d == &ceptoar__message__descriptor &&
	    rj_check_type(rj, obj, d) == -1)
		return -1;

	json_object_foreach(obj, key, v) {
		rj_path_key(fpath, sizeof(fpath), path, key);
		if (d == &ceptoar__message__descriptor &&
		    strcmp(key, "type") == 0)
			continue;	/* checked by rj_check_type */
		f = protobuf_c_message_descriptor_get_field_by_name(d, key);
		if (f == NULL) {
			rj_keys(d, keys, sizeof(keys));
			return rj_error(rj, fpath, "unknown key (expected one "
			    "of: %s)", keys);
		}
		/* null is "not known yet", as if the key were left out. */
		if (json_is_null(v))
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			if (rj_repeated(rj, fpath, v, d, f, msg) == -1)
				return -1;
			continue;
		}
		member = (char *)msg + f->offset;
		quant = (char *)msg + f->quantifier_offset;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF &&
		    *(uint32_t *)quant != 0)
			return rj_error(rj, fpath, "only one of the "
			    "alternatives may be given");
		if (rj_value(rj, fpath, v, d, f, member) == -1) {
			/* Let free_unpacked see a half-built submessage. */
			if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF &&
			    *(void **)member != NULL)
				*(uint32_t *)quant = f->id;
			return -1;
		}
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			*(uint32_t *)quant = f->id;
		else if (f->quantifier_offset != 0 &&
		    f->type != PROTOBUF_C_TYPE_STRING &&
		    f->type != PROTOBUF_C_TYPE_MESSAGE)
			*(protobuf_c_boolean *)quant = 1;
	}
	if (d == &ceptoar__severity__descriptor)
		return rj_check_severity(rj, path, (Ceptoar__Severity *)msg);
	return 0;
}

/* A parsed JSON object into a new Message; see ceptoar.h. */
int
report_json_decode(const char *name, json_t *root, Ceptoar__Message **out,
    char **cause)
{
	struct rj		 rj = { name, NULL };
	ProtobufCMessage	*msg = NULL;

	*out = NULL;
	*cause = NULL;
	if (!json_is_object(root)) {
		rj_error(&rj, "", "the top level must be a JSON object {...}");
		*cause = rj.cause;
		return EX_DATAERR;
	}
	if (rj_message(&rj, "", root, &ceptoar__message__descriptor,
	    &msg) == -1) {
		if (msg != NULL)
			protobuf_c_message_free_unpacked(msg, NULL);
		*cause = rj.cause != NULL ? rj.cause : strdup("out of memory");
		return EX_DATAERR;
	}
	*out = (Ceptoar__Message *)msg;
	return 0;
}

/* Read all of fp, refusing more than a report could ever need. */
static char *
rj_slurp(FILE *fp, size_t *lenp)
{
	char	*buf = NULL, *nbuf;
	size_t	 len = 0, cap = 0, n;
	int	 saved;

	errno = 0;

	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16384;
			if (cap > REPORT_JSON_MAX_FILE + 1)
				cap = REPORT_JSON_MAX_FILE + 1;
			if (len == cap || (nbuf = realloc(buf, cap)) == NULL) {
				free(buf);
				errno = len == cap ? EFBIG : ENOMEM;
				return NULL;
			}
			buf = nbuf;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		saved = errno != 0 ? errno : EIO;
		free(buf);
		errno = saved;
		return NULL;
	}
	*lenp = len;
	return buf;
}

/* Read a file or stdin and decode it; see ceptoar.h. */
int
report_json_load(const char *path, Ceptoar__Message **out, char **cause)
{
	json_error_t	 jerr;
	json_t		*root;
	FILE		*fp;
	const char	*name;
	char		*buf;
	size_t		 len;
	int		 rc, saved;

	*out = NULL;
	*cause = NULL;
	if (strcmp(path, "-") == 0) {
		fp = stdin;
		name = "<stdin>";
	} else if ((fp = fopen(path, "r")) == NULL) {
		if (asprintf(cause, "cannot open %s: %s", path,
		    strerror(errno)) == -1)
			*cause = NULL;
		return EX_NOINPUT;
	} else
		name = path;
	buf = rj_slurp(fp, &len);
	saved = errno;
	if (fp != stdin)
		fclose(fp);
	if (buf == NULL) {
		if (saved == EFBIG)
			rc = asprintf(cause, "%s: larger than %u bytes; a "
			    "report is never that big", name,
			    (unsigned)REPORT_JSON_MAX_FILE);
		else
			rc = asprintf(cause, "cannot read %s: %s", name,
			    strerror(saved));
		if (rc == -1)
			*cause = NULL;
		return saved == EFBIG ? EX_DATAERR : EX_NOINPUT;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (root == NULL) {
		if (asprintf(cause, "%s:%d:%d: %s", name, jerr.line,
		    jerr.column, jerr.text) == -1)
			*cause = NULL;
		return EX_DATAERR;
	}
	rc = report_json_decode(name, root, out, cause);
	json_decref(root);
	return rc;
}

/* "N mistakes:" and each of err's, indented on a line of its own. */
static int
report_json_mistakes(const struct validate_error *err, char **cause)
{
	const char	*p;
	char		*out, *w;
	size_t		 lines = 1;

	for (p = err->all; *p != '\0'; p++)
		lines += *p == '\n';
	if ((out = malloc(strlen(err->all) + lines * 2 + 64)) == NULL) {
		*cause = NULL;
		return -1;
	}
	w = out + sprintf(out, "%u mistakes:\n  ", err->count);
	for (p = err->all; *p != '\0'; p++) {
		*w++ = *p;
		if (*p == '\n') {
			*w++ = ' ';
			*w++ = ' ';
		}
	}
	*w = '\0';
	*cause = out;
	return -1;
}

/* The shared validator's verdict as one sentence. */
int
report_json_validate(const Ceptoar__Message *m, char **cause)
{
	struct validate_error	 err;

	*cause = NULL;
	memset(&err, 0, sizeof(err));
	if (validate_message(m, &err) == 0 &&
	    validate_times(m, (int64_t)time(NULL), &err) == 0)
		return 0;
	/* Every mistake at once, so that one run of the editor fixes all. */
	if (err.count > 1)
		return report_json_mistakes(&err, cause);
	if (asprintf(cause, "%s%s%s", err.field, err.field[0] ? ": " : "",
	    err.reason[0] ? err.reason : "is not valid") == -1)
		*cause = NULL;
	return -1;
}

/* Free a decoded Message. */
void
report_json_free(Ceptoar__Message *m)
{
	if (m != NULL)
		ceptoar__message__free_unpacked(m, NULL);
}

/*
 * A JSON string for s.  jansson refuses invalid UTF-8, which a peer may
 * still send, so such bytes are shown as '?' rather than dropping the
 * whole field.
 */
static json_t *
rj_string(const char *s)
{
	json_t	*j;
	char	*copy, *p;

	if ((j = json_string(s)) != NULL)
		return j;
	if ((copy = strdup(s)) == NULL)
		return NULL;
	for (p = copy; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

/* One value of field f at src as JSON. */
static json_t *
rj_encode_value(const ProtobufCFieldDescriptor *f, const void *src)
{
	const struct name_entry	*names;
	const char		*name;
	char			 buf[64];
	uint64_t		 u;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return *(char *const *)src != NULL ?
		    rj_string(*(char *const *)src) : NULL;
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(*(const protobuf_c_boolean *)src);
	case PROTOBUF_C_TYPE_ENUM:
		names = names_for_enum(f->descriptor);
		name = names != NULL ?
		    names_lookup(names, *(const int *)src) : "unknown";
		/* A value newer than our tables is kept as its number. */
		if (strcmp(name, "unknown") == 0)
			return json_integer(*(const int *)src);
		return json_string(name);
	case PROTOBUF_C_TYPE_UINT32:
		return json_integer(*(const uint32_t *)src);
	case PROTOBUF_C_TYPE_INT32:
		return json_integer(*(const int32_t *)src);
	case PROTOBUF_C_TYPE_UINT64:
		u = *(const uint64_t *)src;
		if (u <= (uint64_t)LLONG_MAX)
			return json_integer((json_int_t)u);
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)u);
		return json_string(buf);
	case PROTOBUF_C_TYPE_INT64:
		/*
		 * RFC 3339 needs a four-digit year; any other time goes out
		 * as unix seconds, which reads back the same.
		 */
		if (!report_json_is_time(f) ||
		    *(const int64_t *)src < REPORT_JSON_YEAR_1000 ||
		    *(const int64_t *)src > REPORT_JSON_YEAR_9999)
			return json_integer(*(const int64_t *)src);
		return json_string(report_json_time(*(const int64_t *)src, buf,
		    sizeof(buf)));
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(ProtobufCMessage *const *)src != NULL ?
		    report_json_encode(*(ProtobufCMessage *const *)src) : NULL;
	default:
		return NULL;
	}
}

/* Any protocol message as a JSON object. */
json_t *
report_json_encode(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor	*d = m->descriptor;
	const ProtobufCFieldDescriptor		*f;
	const char				*type;
	const void				*values;
	json_t					*obj, *arr, *v;
	size_t					 i, j, n, step;

	if ((obj = json_object()) == NULL)
		return NULL;
	if (d == &ceptoar__message__descriptor &&
	    (type = report_json_type((const Ceptoar__Message *)m)) != NULL)
		json_object_set_new(obj, "type", json_string(type));
	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		if ((n = report_json_field(m, f, &values, &step)) == 0)
			continue;
		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			if ((v = rj_encode_value(f, values)) != NULL)
				json_object_set_new(obj, f->name, v);
			continue;
		}
		arr = json_array();
		for (j = 0; j < n; j++) {
			v = rj_encode_value(f, (const char *)values + j * step);
			if (v != NULL)
				json_array_append_new(arr, v);
		}
		json_object_set_new(obj, f->name, arr);
	}
	return obj;
}
