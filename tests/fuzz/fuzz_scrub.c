/*
 * Fuzz target for the anonymiser's scrubber (daemon/anon.c): the input
 * is free text from an operator, as in a voluntary report, scrubbed
 *  - with anon_scrub for bank-a of tests/fixtures/anon/directory.yaml,
 *  - with anon_scrub_extra and a contact person's name, phone and mail,
 *  - with no reporter at all (the generic rules only),
 * and, when it is a valid free text, put into a report that goes through
 * anon_report.  The invariants checked are the contracts in ceptoard.h
 * and the top of anon.c:
 *  - valid UTF-8 in, valid UTF-8 out; nothing replaced, nothing changed;
 *  - a reason exactly when not vouched, and a reason never quotes more
 *    than the short marker that tripped it;
 *  - none of the reporter's ASCII names, domains or mail standing as a
 *    word in the output, nor any of its non-ASCII names anywhere, except
 *    inside a placeholder;
 *  - after NFKC and case folding (and without default-ignorable code
 *    points), the output of valid UTF-8 contains no registered identifier
 *    of the reporter: organisation id, names in any script, domains, its
 *    contact's whole name and name words, phone and mail, and the extras
 *    (ASCII ones where they stand as a word);
 *  - the output is never longer than the input plus an eighth plus 64
 *    bytes (a repeated short name must not grow a form past the frame
 *    limit);
 *  - anon_find_identifiers returns spans inside the text, in order and
 *    not overlapping, each starting and ending on a character boundary
 *    of valid UTF-8, and finds nothing in the scrubbed output;
 *  - a valid report stays valid, within every length limit.
 *
 * The directory is found through $CEPTOAR_FUZZ_ANON_DIRECTORY or the
 * source path compiled in; without it the target cannot run.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "fuzz_common.h"
#include "ceptoard.h"
#include "validate.h"

#ifndef FUZZ_ANON_DIRECTORY
#define FUZZ_ANON_DIRECTORY	"tests/fixtures/anon/directory.yaml"
#endif

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct directory		*fuzz_dir;
static const struct dir_org	*fuzz_reporter;
static const struct dir_ceptoar	*fuzz_ceptoar;
static struct anon_policy	 fuzz_pol;

static const char *const fuzz_extra[] = {
	"Sato Hanako", "hanako@webmail.example", "070-9999-0001"
};

/* Load the directory and pick the reporter once. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*path = getenv("CEPTOAR_FUZZ_ANON_DIRECTORY");
	char		*cause = NULL;
	size_t		 i;

	if (path == NULL || *path == '\0')
		path = FUZZ_ANON_DIRECTORY;
	if ((fuzz_dir = directory_load(path, &cause)) == NULL) {
		fprintf(stderr, "fuzz_scrub: %s\n", cause ? cause : path);
		exit(1);
	}
	fuzz_reporter = directory_org(fuzz_dir, "bank-a");
	fuzz_ceptoar = directory_ceptoar(fuzz_dir, "banks");
	if (fuzz_reporter == NULL || fuzz_ceptoar == NULL) {
		fprintf(stderr, "fuzz_scrub: %s has no bank-a or banks\n",
		    path);
		exit(1);
	}
	for (i = 0; i < sizeof(fuzz_pol.key); i++)
		fuzz_pol.key[i] = (unsigned char)(0x40 + i);
	fuzz_pol.time_granularity = 3600;
	return 0;
}

/* Whether s (n bytes) is valid UTF-8, as validate.c reads it. */
static bool
fuzz_utf8(const unsigned char *s, size_t n)
{
	size_t	i, k, need;

	for (i = 0; i < n; i++) {
		if (s[i] < 0x80)
			continue;
		if ((s[i] & 0xe0) == 0xc0 && s[i] >= 0xc2)
			need = 1;
		else if ((s[i] & 0xf0) == 0xe0)
			need = 2;
		else if ((s[i] & 0xf8) == 0xf0 && s[i] <= 0xf4)
			need = 3;
		else
			return false;
		if (i + need >= n)
			return false;
		for (k = 1; k <= need; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		if ((s[i] == 0xe0 && s[i + 1] < 0xa0) ||
		    (s[i] == 0xed && s[i + 1] >= 0xa0) ||
		    (s[i] == 0xf0 && s[i + 1] < 0x90) ||
		    (s[i] == 0xf4 && s[i + 1] >= 0x90))
			return false;
		i += need;
	}
	return true;
}

static bool
fuzz_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/* Whether the n bytes at a and b agree, ASCII case folded. */
static bool
fuzz_eq_fold(const char *a, const char *b, size_t n)
{
	size_t	i;
	int	x, y;

	for (i = 0; i < n; i++) {
		x = (unsigned char)a[i];
		y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return false;
	}
	return true;
}

/*
 * No identifier of the reporter left in out: ASCII ones (4 characters
 * or more, not all hex digits, which an IPv6 address may spell) where
 * they stand as a word, non-ASCII ones anywhere.
 */
static void
fuzz_check_leak(const char *out)
{
	const struct dir_org	*o = fuzz_reporter;
	const char		*ids[64], *id;
	size_t			 nids = 0, i, k, len, n = strlen(out);
	bool			 ascii, hex;

	for (i = 0; i < o->nnames && nids < 48; i++)
		ids[nids++] = o->names[i];
	for (i = 0; i < o->ndomains && nids < 60; i++)
		ids[nids++] = o->domains[i];
	ids[nids++] = o->id;
	ids[nids++] = o->contact_email;
	for (k = 0; k < nids; k++) {
		if ((id = ids[k]) == NULL || (len = strlen(id)) < 4)
			continue;
		for (i = 0, ascii = true, hex = true; i < len; i++) {
			if ((unsigned char)id[i] >= 0x80)
				ascii = false;
			if (strchr("0123456789abcdefABCDEF", id[i]) == NULL)
				hex = false;
		}
		if (hex)
			continue;	/* see above */
		for (i = 0; i + len <= n; i++) {
			if (ascii ? !fuzz_eq_fold(out + i, id, len) :
			    memcmp(out + i, id, len) != 0)
				continue;
			if (ascii && ((fuzz_alnum((unsigned char)id[0]) &&
			    i > 0 && fuzz_alnum((unsigned char)out[i - 1])) ||
			    (fuzz_alnum((unsigned char)id[len - 1]) &&
			    i + len < n &&
			    fuzz_alnum((unsigned char)out[i + len]))))
				continue;
			fprintf(stderr, "\"%s\" left in: %s\n", id, out);
			FUZZ_ASSERT(!"reporter identifier left in the text");
		}
	}
}

/*
 * s after NFKC and case folding, without default-ignorable code points:
 * malloc'd, or NULL when s is not valid UTF-8.
 */
static char *
fuzz_fold(const char *s)
{
	uint8_t	*r;
	size_t	 len = 0, i, w = 0;
	ucs4_t	 cp;
	int	 l;

	if ((r = u8_casefold((const uint8_t *)s, strlen(s), NULL,
	    UNINORM_NFKC, NULL, &len)) == NULL)
		return NULL;
	for (i = 0; i < len; i += (size_t)l) {
		if ((l = u8_mbtouc(&cp, r + i, len - i)) <= 0)
			l = 1;
		if (uc_is_property_default_ignorable_code_point(cp))
			continue;
		memmove(r + w, r + i, (size_t)l);
		w += (size_t)l;
	}
	r = realloc(r, w + 1);
	if (r != NULL)
		r[w] = '\0';
	return (char *)r;
}

/* The words of a name, 3 ASCII letters or 2 other characters and up. */
static size_t
fuzz_name_words(const char *name, char words[][64], size_t max)
{
	size_t	n = 0, i = 0, ws, chars, k;

	if (name == NULL)
		return 0;
	while (name[i] != '\0' && n < max) {
		while (name[i] != '\0' && strchr(" ()", name[i]) != NULL)
			i++;
		ws = i;
		while (name[i] != '\0' && strchr(" ()", name[i]) == NULL)
			i++;
		for (k = ws, chars = 0; k < i; k++)
			if (((unsigned char)name[k] & 0xc0) != 0x80)
				chars++;
		if (i - ws < 64 && ((unsigned char)name[ws] < 0x80 ?
		    chars >= 3 : chars >= 2)) {
			memcpy(words[n], name + ws, i - ws);
			words[n++][i - ws] = '\0';
		}
	}
	return n;
}

/*
 * No registered identifier of the reporter (nor an extra) in the
 * NFKC-folded output: ASCII ones where they stand as a word, others
 * anywhere.
 */
static void
fuzz_check_folded(const char *out, const char *const *extra, size_t nextra)
{
	const struct dir_org	*o = fuzz_reporter;
	const char		*ids[96];
	char			 words[16][64], *f, *id, *p;
	size_t			 nids = 0, i, k, len, nw;

	if ((f = fuzz_fold(out)) == NULL)
		return;
	for (i = 0; i < o->nnames && nids < 40; i++)
		ids[nids++] = o->names[i];
	for (i = 0; i < o->ndomains && nids < 60; i++)
		ids[nids++] = o->domains[i];
	ids[nids++] = o->id;
	ids[nids++] = o->cert_cn;
	ids[nids++] = o->contact_email;
	ids[nids++] = o->contact_phone;
	ids[nids++] = o->contact_name;
	nw = fuzz_name_words(o->contact_name, words, 16);
	for (i = 0; i < nextra; i++) {
		ids[nids++] = extra[i];
		if (strchr(extra[i], '@') == NULL &&
		    strpbrk(extra[i], "0123456789") == NULL)
			nw += fuzz_name_words(extra[i], words + nw, 16 - nw);
	}
	for (i = 0; i < nw; i++)
		ids[nids++] = words[i];
	for (k = 0; k < nids; k++) {
		if (ids[k] == NULL || (id = fuzz_fold(ids[k])) == NULL)
			continue;
		len = strlen(id);
		for (p = f; len >= 3 && (p = strstr(p, id)) != NULL; p++) {
			if ((unsigned char)id[0] < 0x80 &&
			    ((fuzz_alnum((unsigned char)id[0]) && p > f &&
			    fuzz_alnum((unsigned char)p[-1])) ||
			    (fuzz_alnum((unsigned char)id[len - 1]) &&
			    fuzz_alnum((unsigned char)p[len]))))
				continue;
			fprintf(stderr, "\"%s\" left in the folded output: "
			    "%s\n", ids[k], out);
			FUZZ_ASSERT(!"registered identifier left after NFKC "
			    "and case folding");
		}
		free(id);
	}
	free(f);
}

/* The contracts of anon_find_identifiers on in, and on its scrubbed out. */
static void
fuzz_check_find(const char *in, const char *out, bool utf8)
{
	struct anon_span	*sp = NULL;
	size_t			 n = 0, i, end = 0, len = strlen(in);

	FUZZ_ASSERT(anon_find_identifiers(in, fuzz_reporter, fuzz_extra, 3,
	    &sp, &n) == 0);
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(sp[i].kind != NULL && sp[i].len > 0);
		FUZZ_ASSERT(sp[i].offset >= end);
		FUZZ_ASSERT(sp[i].offset + sp[i].len <= len);
		end = sp[i].offset + sp[i].len;
		if (utf8) {
			FUZZ_ASSERT(((unsigned char)in[sp[i].offset] & 0xc0) !=
			    0x80);
			FUZZ_ASSERT(end == len ||
			    ((unsigned char)in[end] & 0xc0) != 0x80);
		}
	}
	free(sp);
	sp = NULL;
	FUZZ_ASSERT(anon_find_identifiers(out, fuzz_reporter, fuzz_extra, 3,
	    &sp, &n) == 0);
	if (n > 0)
		fprintf(stderr, "%s found in the scrubbed \"%s\" at %zu\n",
		    sp[0].kind, out, sp[0].offset);
	FUZZ_ASSERT(n == 0);
	free(sp);
}

/* The contracts of one anon_scrub result. */
static void
fuzz_check_scrub(const char *in, size_t inlen, char *out, bool vouched,
    char *why, unsigned replaced)
{
	FUZZ_ASSERT(out != NULL);
	FUZZ_ASSERT(vouched == (why == NULL));
	if (why != NULL) {
		/* A reason quotes a marker at most: it may be logged. */
		FUZZ_ASSERT(strlen(why) < 160);
		FUZZ_ASSERT(fuzz_utf8((const unsigned char *)why,
		    strlen(why)));
	}
	if (replaced == 0)
		FUZZ_ASSERT(strcmp(in, out) == 0);
	FUZZ_ASSERT(strlen(out) <= inlen + inlen / 8 + 64);
	if (fuzz_utf8((const unsigned char *)in, inlen))
		FUZZ_ASSERT(fuzz_utf8((const unsigned char *)out,
		    strlen(out)));
	free(out);
	free(why);
}

/* A report carrying text everywhere text goes, through anon_report. */
static void
fuzz_report(const char *text)
{
	Ceptoar__Message	 m = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Report		 r = CEPTOAR__REPORT__INIT;
	Ceptoar__Contact	 c = CEPTOAR__CONTACT__INIT;
	Ceptoar__Indicator	 ind = CEPTOAR__INDICATOR__INIT, *inds[1];
	Ceptoar__Impact		 im = CEPTOAR__IMPACT__INIT;
	struct anon_result	 ar;
	struct validate_error	 err;
	char			*cause = NULL, *systems[1];
	size_t			 len = strlen(text);

	m.uuid = "6f1c2a10-0000-4a00-8000-00000000f022";
	m.has_tlp = 1;
	m.tlp = CEPTOAR__TLP__TLP_AMBER;
	m.content_case = CEPTOAR__MESSAGE__CONTENT_REPORT;
	m.report = &r;
	c.name = "Sato Hanako";
	c.email = "hanako@webmail.example";
	r.contact = &c;
	r.free_text = (char *)text;
	im.description = (char *)text;
	r.impact = &im;
	if (len <= VALIDATE_MAX_SHORT) {
		r.title = (char *)text;
		r.affected_service = (char *)text;
		ind.comment = (char *)text;
	}
	if (len <= 2048) {
		systems[0] = (char *)text;
		r.affected_systems = systems;
		r.n_affected_systems = 1;
	}
	if (len > 0 && len <= 4096) {
		ind.type = "other";
		ind.value = (char *)text;
		inds[0] = &ind;
		r.indicators = inds;
		r.n_indicators = 1;
	}
	if (validate_message(&m, &err) == -1)
		return;		/* not a text a client could send */
	if (anon_report(&m, fuzz_reporter, fuzz_ceptoar, fuzz_dir, &fuzz_pol,
	    &ar, &cause) == -1) {
		fprintf(stderr, "anon_report refused a valid report: %s\n",
		    cause ? cause : "?");
		FUZZ_ASSERT(!"a valid report anonymises");
	}
	FUZZ_ASSERT(ar.vouched == (ar.why == NULL));
	FUZZ_ASSERT(validate_message(ar.msg, &err) == 0);
	if (ar.msg->report->free_text != NULL) {
		fuzz_check_leak(ar.msg->report->free_text);
		fuzz_check_folded(ar.msg->report->free_text, fuzz_extra, 2);
	}
	if (ar.msg->report->title != NULL)
		fuzz_check_folded(ar.msg->report->title, fuzz_extra, 2);
	anon_result_free(&ar);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*in, *out, *why;
	unsigned	 replaced;
	bool		 vouched;

	if (size > 64 * 1024)
		return 0;	/* linear, but keep each run short */
	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	size = strlen(in);

	why = NULL;
	out = anon_scrub(in, fuzz_reporter, fuzz_dir, &vouched, &why,
	    &replaced);
	if (out != NULL) {
		fuzz_check_leak(out);
		fuzz_check_folded(out, NULL, 0);
	}
	fuzz_check_scrub(in, size, out, vouched, why, replaced);

	why = NULL;
	out = anon_scrub_extra(in, fuzz_reporter, fuzz_dir, fuzz_extra, 3,
	    &vouched, &why, &replaced);
	if (out != NULL) {
		fuzz_check_leak(out);
		fuzz_check_folded(out, fuzz_extra, 3);
		fuzz_check_find(in, out, fuzz_utf8((const unsigned char *)in,
		    size));
	}
	fuzz_check_scrub(in, size, out, vouched, why, replaced);

	why = NULL;
	out = anon_scrub(in, NULL, fuzz_dir, &vouched, &why, &replaced);
	fuzz_check_scrub(in, size, out, vouched, why, replaced);

	fuzz_report(in);
	free(in);
	return 0;
}
