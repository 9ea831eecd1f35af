/*
 * The anonymiser (daemon/anon.c): golden files for anon_report, and
 * checks of its parts.
 *
 * Golden files live in tests/fixtures/anon/.  NAME.in.json is a report
 * (JSON report format) from bank-a of directory.yaml there, relayed by
 * the CEPTOAR banks; NAME.out.json is its anonymised form, and
 * NAME.vouched what the scrubber concluded: "vouched" or "held: WHY",
 * then "replaced: N".  Outputs are compared as canonical JSON (sorted
 * keys, compact), so the files may be laid out freely.
 *
 * To accept what the code does now, run the test with
 *
 *	ANON_UPDATE_GOLDEN=1 meson test -C build anon
 *
 * which rewrites every .out.json and .vouched; read the diff before
 * committing it.  Every golden output must also pass validate_message()
 * and contain none of the reporter's identifiers anywhere in its packed
 * bytes, whatever the golden file says.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <unicase.h>
#include <uninorm.h>

#include "ceptoar.h"
#include "ceptoard.h"
#include "check.h"
#include "validate.h"

static char			 fixtures[1024];
static struct directory		*dir;
static const struct dir_org	*bank_a;
static const struct dir_ceptoar	*banks;
static struct anon_policy	 pol;
static bool			 update;

/* fixtures/anon/NAME into buf. */
static const char *
fixture(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", fixtures, name);
	return buf;
}

/* A whole file as a string, or NULL. */
static char *
slurp(const char *path)
{
	FILE	*fp;
	char	*s = NULL;
	size_t	 len = 0;
	long	 size;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (size = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 &&
	    (s = malloc((size_t)size + 1)) != NULL) {
		len = fread(s, 1, (size_t)size, fp);
		s[len] = '\0';
	}
	fclose(fp);
	return s;
}

/* Write s to path, replacing it. */
static void
spit(const char *path, const char *s)
{
	FILE	*fp;

	CHECK((fp = fopen(path, "w")) != NULL);
	if (fp == NULL)
		return;
	fputs(s, fp);
	CHECK(fclose(fp) == 0);
}

/* A fixed policy: the key is 1..32, times to the hour. */
static void
policy_init(struct anon_policy *p)
{
	size_t	i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < sizeof(p->key); i++)
		p->key[i] = (unsigned char)(i + 1);
	p->time_granularity = 3600;
	p->k_min = 5;
}

/* Whether needle occurs in the n bytes at hay, ASCII case folded or not. */
static bool
contains(const uint8_t *hay, size_t n, const char *needle, bool fold)
{
	size_t	i, j, nl = strlen(needle);
	int	a, b;

	if (nl == 0 || nl > n)
		return false;
	for (i = 0; i + nl <= n; i++) {
		for (j = 0; j < nl; j++) {
			a = hay[i + j];
			b = (unsigned char)needle[j];
			if (fold && a >= 'A' && a <= 'Z')
				a += 'a' - 'A';
			if (fold && b >= 'A' && b <= 'Z')
				b += 'a' - 'A';
			if (a != b)
				break;
		}
		if (j == nl)
			return true;
	}
	return false;
}

/* s after NFKC and case folding, malloc'd; NULL when it is not UTF-8. */
static char *
nfkc_fold(const char *s)
{
	uint8_t	*r;
	size_t	 len = 0;

	r = u8_casefold((const uint8_t *)s, strlen(s), NULL, UNINORM_NFKC,
	    NULL, &len);
	if (r == NULL)
		return NULL;
	r = realloc(r, len + 1);
	if (r != NULL)
		r[len] = '\0';
	return (char *)r;
}

/* Whether needle is in hay, standing as a word where it is ASCII. */
static bool
word_in(const char *hay, const char *needle)
{
	const char	*p = hay;
	size_t		 nl = strlen(needle);

	while ((p = strstr(p, needle)) != NULL) {
		if (!((p > hay && isalnum((unsigned char)p[-1]) &&
		    isalnum((unsigned char)needle[0])) ||
		    (isalnum((unsigned char)p[nl]) &&
		    isalnum((unsigned char)needle[nl - 1]))))
			return true;
		p++;
	}
	return false;
}

/* Add the words of a name (3 bytes or more, 2 kanji) to needles. */
static size_t
name_words(const char *name, char words[][64], size_t max)
{
	size_t	n = 0, i = 0, ws;

	if (name == NULL)
		return 0;
	while (name[i] != '\0' && n < max) {
		while (name[i] != '\0' && strchr(" ()\t", name[i]) != NULL)
			i++;
		ws = i;
		while (name[i] != '\0' && strchr(" ()\t", name[i]) == NULL)
			i++;
		if (i - ws >= ((unsigned char)name[ws] < 0x80 ? 3 : 6) &&
		    i - ws < 64 && !(i - ws == 3 && name[ws + 2] == '.')) {
			memcpy(words[n], name + ws, i - ws);
			words[n++][i - ws] = '\0';
		}
	}
	return n;
}

/*
 * The same in the scrubbed text fields after NFKC and case folding, so
 * that no full-width or case variant survives: the reporter's names,
 * domains, its contact's and the report contact's names, word by word.
 */
static void
check_no_leak_folded(const char *name, const Ceptoar__Message *orig,
    const Ceptoar__Message *anon)
{
	const Ceptoar__Report	*r = anon->report;
	const Ceptoar__Contact	*ct = orig->report->contact;
	const char		*fields[6];
	char			 words[32][64], *f, *nd;
	const char		*needles[64];
	size_t			 n = 0, nw = 0, i, k;

	for (i = 0; i < bank_a->nnames && n < 40; i++)
		needles[n++] = bank_a->names[i];
	for (i = 0; i < bank_a->ndomains; i++)
		needles[n++] = bank_a->domains[i];
	needles[n++] = bank_a->contact_email;
	nw = name_words(bank_a->contact_name, words, 32);
	if (ct != NULL)
		nw += name_words(ct->name, words + nw, 32 - nw);
	for (i = 0; i < nw && n < 64; i++)
		needles[n++] = words[i];
	fields[0] = r->title;
	fields[1] = r->free_text;
	fields[2] = r->affected_service;
	fields[3] = r->impact != NULL ? r->impact->description : NULL;
	fields[4] = r->legal_basis;
	fields[5] = NULL;
	for (k = 0; k < 5; k++) {
		if (fields[k] == NULL || (f = nfkc_fold(fields[k])) == NULL)
			continue;
		for (i = 0; i < n; i++) {
			if ((nd = nfkc_fold(needles[i])) == NULL)
				continue;
			if (*nd != '\0' && word_in(f, nd)) {
				fprintf(stderr, "%s: \"%s\" is in the folded "
				    "anonymised text: %s\n", name, needles[i],
				    fields[k]);
				CHECK(!"folded identifier in the anonymised form");
			}
			free(nd);
		}
		free(f);
	}
}

/*
 * No byte sequence of the reporter's identifiers, or of the original
 * report's contact, anywhere in the packed form.  Short ASCII names are
 * compared exactly, since three letters in either case also occur in
 * hex digits.
 */
static void
check_no_leak(const char *name, const Ceptoar__Message *orig,
    const Ceptoar__Message *anon)
{
	const char		*needles[64];
	const Ceptoar__Contact	*ct = orig->report->contact;
	uint8_t			*buf;
	size_t			 len, n = 0, i;
	bool			 fold;

	for (i = 0; i < bank_a->nnames && n < 40; i++)
		needles[n++] = bank_a->names[i];
	needles[n++] = bank_a->id;
	needles[n++] = bank_a->cert_cn;
	for (i = 0; i < bank_a->ndomains; i++)
		needles[n++] = bank_a->domains[i];
	needles[n++] = bank_a->contact_name;
	needles[n++] = "Suzuki";
	needles[n++] = "Taro";
	needles[n++] = bank_a->contact_phone;
	needles[n++] = bank_a->contact_email;
	needles[n++] = "192.0.2.6";	/* 192.0.2.64/28 */
	needles[n++] = "198.51.100.3";	/* inside 198.51.100.0/26 */
	needles[n++] = "2001:db8:104:";
	needles[n++] = orig->uuid;
	if (ct != NULL) {
		needles[n++] = ct->name;
		needles[n++] = ct->phone;
		needles[n++] = ct->email;
		needles[n++] = ct->unit;
	}
	if (orig->report->chain_id != NULL)
		needles[n++] = orig->report->chain_id;
	len = ceptoar__message__get_packed_size(anon);
	CHECK((buf = malloc(len + 1)) != NULL);
	if (buf == NULL)
		return;
	ceptoar__message__pack(anon, buf);
	for (i = 0; i < n; i++) {
		if (needles[i] == NULL || *needles[i] == '\0')
			continue;
		fold = strlen(needles[i]) >= 5;
		if (contains(buf, len, needles[i], fold)) {
			fprintf(stderr, "%s: \"%s\" is in the anonymised "
			    "form\n", name, needles[i]);
			CHECK(!"reporter identifier in the anonymised form");
		}
	}
	free(buf);
	check_no_leak_folded(name, orig, anon);
}

/* JSON text with sorted keys, for comparing. */
static char *
canonical(json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* Run one golden case NAME.in.json. */
static void
golden_case(const char *name)
{
	Ceptoar__Message	*m = NULL;
	struct anon_result	 ar, ar2;
	struct validate_error	 err;
	char			 path[1200], *cause = NULL, *got = NULL;
	char			*want = NULL, *gotv = NULL, *wantv = NULL;
	char			*pretty;
	json_t			*j, *jw;
	json_error_t		 jerr;
	uint8_t			*b1, *b2;
	size_t			 l1, l2;

	fprintf(stderr, "golden: %s\n", name);
	snprintf(path, sizeof(path), "%s/%s.in.json", fixtures, name);
	if (report_json_load(path, &m, &cause) != 0) {
		fprintf(stderr, "%s: %s\n", path, cause ? cause : "?");
		CHECK(!"golden input loads");
		free(cause);
		return;
	}
	CHECK(report_json_validate(m, &cause) == 0);
	free(cause);
	cause = NULL;
	if (anon_report(m, bank_a, banks, dir, &pol, &ar, &cause) != 0) {
		fprintf(stderr, "%s: anon_report: %s\n", name,
		    cause ? cause : "?");
		CHECK(!"anon_report succeeds");
		free(cause);
		report_json_free(m);
		return;
	}
	CHECK(cause == NULL);
	CHECK(validate_message(ar.msg, &err) == 0);
	CHECK(ar.vouched == (ar.why == NULL));
	check_no_leak(name, m, ar.msg);

	/* Deterministic: a retried forward is the same message. */
	CHECK(anon_report(m, bank_a, banks, dir, &pol, &ar2, &cause) == 0);
	l1 = ceptoar__message__get_packed_size(ar.msg);
	l2 = ceptoar__message__get_packed_size(ar2.msg);
	CHECK(l1 == l2);
	if (l1 == l2 && (b1 = malloc(l1 + 1)) != NULL &&
	    (b2 = malloc(l2 + 1)) != NULL) {
		ceptoar__message__pack(ar.msg, b1);
		ceptoar__message__pack(ar2.msg, b2);
		CHECK(memcmp(b1, b2, l1) == 0);
		free(b1);
		free(b2);
	}
	anon_result_free(&ar2);

	j = report_json_encode(&ar.msg->base);
	CHECK(j != NULL);
	got = canonical(j);
	if (asprintf(&gotv, "%s%s\nreplaced: %u\n", ar.vouched ? "vouched" :
	    "held: ", ar.vouched ? "" : ar.why, ar.replaced) == -1)
		gotv = NULL;
	snprintf(path, sizeof(path), "%s/%s.out.json", fixtures, name);
	if (update) {
		if ((pretty = json_dumps(j, JSON_INDENT(2))) != NULL) {
			char *line = NULL;

			if (asprintf(&line, "%s\n", pretty) != -1)
				spit(path, line);
			free(line);
			free(pretty);
		}
	} else {
		jw = json_load_file(path, 0, &jerr);
		if (jw == NULL)
			fprintf(stderr, "%s:%d: %s\n", path, jerr.line,
			    jerr.text);
		CHECK(jw != NULL);
		want = jw != NULL ? canonical(jw) : NULL;
		json_decref(jw);
		if (want == NULL || strcmp(got, want) != 0) {
			fprintf(stderr, "%s: differs from %s\n  got:  %s\n"
			    "  want: %s\n(ANON_UPDATE_GOLDEN=1 rewrites it)\n",
			    name, path, got, want ? want : "(none)");
			CHECK(!"golden output matches");
		}
	}
	snprintf(path, sizeof(path), "%s/%s.vouched", fixtures, name);
	if (update)
		spit(path, gotv);
	else {
		wantv = slurp(path);
		if (wantv == NULL || gotv == NULL || strcmp(gotv, wantv) != 0) {
			fprintf(stderr, "%s: differs from %s\n  got:  %s"
			    "  want: %s", name, path, gotv ? gotv : "(none)\n",
			    wantv ? wantv : "(none)\n");
			CHECK(!"golden verdict matches");
		}
	}
	json_decref(j);
	free(got);
	free(want);
	free(gotv);
	free(wantv);
	anon_result_free(&ar);
	report_json_free(m);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every NAME.in.json in the fixtures, in order. */
static void
test_golden(void)
{
	DIR		*d;
	struct dirent	*de;
	char		*names[128];
	size_t		 n = 0, i, len;

	CHECK((d = opendir(fixtures)) != NULL);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && n < 128) {
		len = strlen(de->d_name);
		if (len > 8 && strcmp(de->d_name + len - 8, ".in.json") == 0)
			names[n++] = strndup(de->d_name, len - 8);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	CHECK(n >= 12);
	for (i = 0; i < n; i++) {
		golden_case(names[i]);
		free(names[i]);
	}
}

/* The 1-2-5 series, at and around every boundary. */
static void
test_bucket(void)
{
	static const struct { uint64_t in, out; } t[] = {
		{ 0, 0 }, { 1, 1 }, { 2, 2 }, { 3, 2 }, { 4, 2 }, { 5, 5 },
		{ 9, 5 }, { 10, 10 }, { 19, 10 }, { 20, 20 }, { 49, 20 },
		{ 50, 50 }, { 99, 50 }, { 100, 100 }, { 199, 100 },
		{ 200, 200 }, { 499, 200 }, { 500, 500 }, { 999, 500 },
		{ 1000, 1000 }, { 29999, 20000 }, { 30000, 20000 },
		{ 45000, 20000 }, { 50000, 50000 }, { 123456, 100000 },
		{ 10000000000000000000u, 10000000000000000000u },
		{ 5000000000000000000u, 5000000000000000000u },
		{ 4999999999999999999u, 2000000000000000000u },
		{ UINT64_MAX, 10000000000000000000u },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (anon_bucket(t[i].in) != t[i].out)
			fprintf(stderr, "anon_bucket(%" PRIu64 ") = %" PRIu64
			    ", want %" PRIu64 "\n", t[i].in,
			    anon_bucket(t[i].in), t[i].out);
		CHECK(anon_bucket(t[i].in) == t[i].out);
	}
}

/* Rounding down, the default granularity, and no overflow. */
static void
test_coarsen(void)
{
	struct anon_policy	p;

	policy_init(&p);
	CHECK(anon_coarsen_time(&p, 0) == 0);
	CHECK(anon_coarsen_time(&p, 3599) == 0);
	CHECK(anon_coarsen_time(&p, 3600) == 3600);
	CHECK(anon_coarsen_time(&p, 7199) == 3600);
	CHECK(anon_coarsen_time(&p, 1795224462) == 1795222800);
	CHECK(anon_coarsen_time(&p, -1) == -3600);
	p.time_granularity = 0;		/* an hour */
	CHECK(anon_coarsen_time(&p, 7199) == 3600);
	p.time_granularity = 900;
	CHECK(anon_coarsen_time(&p, 1000) == 900);
	p.time_granularity = 86400;
	CHECK(anon_coarsen_time(&p, 86400 * 3 + 5) == 86400 * 3);
	CHECK(anon_coarsen_time(&p, INT64_MIN) <= INT64_MIN + 86400);
	CHECK(anon_coarsen_time(&p, INT64_MAX) <= INT64_MAX);
	CHECK(anon_coarsen_time(NULL, 3601) == 3600);
}

/* "anon-" and ten lower-case base32 characters. */
static bool
pseudonym_ok(const char *s)
{
	size_t	i;

	if (strlen(s) != 15 || strncmp(s, "anon-", 5) != 0)
		return false;
	for (i = 5; i < 15; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '2' && s[i] <= '7')))
			return false;
	return true;
}

/* One per chain: equal within it, different across chains, reporters, keys. */
static void
test_pseudonym(void)
{
	struct anon_policy	p2;
	char			a[ANON_PSEUDONYM_LEN], b[ANON_PSEUDONYM_LEN];
	const char		*c1 = "6f1c2a10-0007-4a00-8000-000000000007";
	const char		*c2 = "6f1c2a10-0008-4a00-8000-000000000008";

	anon_pseudonym(&pol, "bank-a", c1, a);
	CHECK(pseudonym_ok(a));
	anon_pseudonym(&pol, "bank-a", c1, b);
	CHECK_STR(a, b);
	anon_pseudonym(&pol, "bank-a", c2, b);
	CHECK(pseudonym_ok(b));
	CHECK(strcmp(a, b) != 0);
	anon_pseudonym(&pol, "bank-b", c1, b);
	CHECK(strcmp(a, b) != 0);
	/* The separator keeps ("bank-a", "x") and ("bank-ax", "") apart. */
	anon_pseudonym(&pol, "bank-a", "x", a);
	anon_pseudonym(&pol, "bank-ax", "", b);
	CHECK(strcmp(a, b) != 0);
	p2 = pol;
	p2.key[0] ^= 1;
	anon_pseudonym(&pol, "bank-a", c1, a);
	anon_pseudonym(&p2, "bank-a", c1, b);
	CHECK(strcmp(a, b) != 0);
}

/* Load a golden input; NULL (after a failed check) if it does not load. */
static Ceptoar__Message *
load(const char *name)
{
	Ceptoar__Message	*m = NULL;
	char			 path[1200], *cause = NULL;

	snprintf(path, sizeof(path), "%s/%s.in.json", fixtures, name);
	if (report_json_load(path, &m, &cause) != 0) {
		fprintf(stderr, "%s: %s\n", path, cause ? cause : "?");
		CHECK(!"fixture loads");
		free(cause);
		return NULL;
	}
	return m;
}

/* Whether s is a version 4, RFC variant UUID in lower case. */
static bool
uuid_v4(const char *s)
{
	size_t	i;

	if (!validate_uuid(s) || s[14] != '4' || strchr("89ab", s[19]) == NULL)
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return false;
	return true;
}

/*
 * uuid and chain_id: replaced, deterministic, and linked: an update's
 * chain_id is the first report's anonymised uuid; other reporters and
 * other keys give other ids.
 */
static void
test_identity(void)
{
	Ceptoar__Message	*first, *update_m;
	struct anon_result	 a1, a2, a3, a4;
	struct anon_policy	 p2;
	char			*cause = NULL;

	if ((first = load("indicators")) == NULL ||
	    (update_m = load("followup")) == NULL)
		return;
	CHECK(anon_report(first, bank_a, banks, dir, &pol, &a1, &cause) == 0);
	CHECK(anon_report(update_m, bank_a, banks, dir, &pol, &a2, &cause) ==
	    0);
	if (a1.msg == NULL || a2.msg == NULL)
		return;
	CHECK(uuid_v4(a1.msg->uuid));
	CHECK(uuid_v4(a2.msg->uuid));
	CHECK(strcmp(a1.msg->uuid, first->uuid) != 0);
	CHECK(strcmp(a1.msg->uuid, a2.msg->uuid) != 0);
	CHECK_STR(a1.msg->report->chain_id, a1.msg->uuid);
	CHECK_STR(a2.msg->report->chain_id, a1.msg->uuid);
	CHECK(uuid_v4(a2.msg->report->chain_id));
	CHECK_STR(a1.msg->report->pseudonym, a2.msg->report->pseudonym);
	CHECK(pseudonym_ok(a1.msg->report->pseudonym));
	/* Another chain, another pseudonym. */
	free(update_m->report->chain_id);
	update_m->report->chain_id = strdup(
	    "6f1c2a10-0008-4a00-8000-000000000008");
	CHECK(anon_report(update_m, bank_a, banks, dir, &pol, &a3, &cause) ==
	    0);
	CHECK(strcmp(a3.msg->report->pseudonym,
	    a2.msg->report->pseudonym) != 0);
	CHECK(strcmp(a3.msg->report->chain_id, a2.msg->report->chain_id) != 0);
	CHECK_STR(a3.msg->uuid, a2.msg->uuid);
	anon_result_free(&a3);
	/* Another reporter of the same ids. */
	CHECK(anon_report(first, directory_org(dir, "bank-b"), banks, dir,
	    &pol, &a3, &cause) == 0);
	CHECK(strcmp(a3.msg->uuid, a1.msg->uuid) != 0);
	CHECK(strcmp(a3.msg->report->pseudonym,
	    a1.msg->report->pseudonym) != 0);
	anon_result_free(&a3);
	/* Another key. */
	p2 = pol;
	p2.key[31] ^= 0x80;
	CHECK(anon_report(first, bank_a, banks, dir, &p2, &a4, &cause) == 0);
	CHECK(strcmp(a4.msg->uuid, a1.msg->uuid) != 0);
	CHECK(strcmp(a4.msg->report->pseudonym,
	    a1.msg->report->pseudonym) != 0);
	anon_result_free(&a4);
	CHECK(cause == NULL);

	/* The contact is the secretariat's. */
	CHECK_STR(a1.msg->report->contact->name,
	    "Banks CEPTOAR secretariat (relays questions to the reporter)");
	CHECK_STR(a1.msg->report->contact->phone, "03-0000-0010");
	CHECK_STR(a1.msg->report->contact->email, "poc@banks-sec.example");
	CHECK_STR(a1.msg->report->contact->unit, "via CEPTOAR banks");
	anon_result_free(&a1);
	anon_result_free(&a2);
	report_json_free(first);
	report_json_free(update_m);
}

/* Durations: 1-2-5 below a quarter hour, quarter hours above. */
static void
test_duration(void)
{
	static const struct { uint32_t in, out; } t[] = {
		{ 0, 0 }, { 1, 1 }, { 4, 2 }, { 7, 5 }, { 10, 10 }, { 12, 10 },
		{ 14, 10 }, { 15, 15 }, { 29, 15 }, { 30, 30 }, { 119, 105 },
		{ 120, 120 }, { 137, 135 }, { 150, 150 },
	};
	Ceptoar__Message	*m;
	struct anon_result	 ar;
	char			*cause = NULL;
	size_t			 i;

	if ((m = load("impact")) == NULL)
		return;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		m->report->impact->duration_minutes = t[i].in;
		CHECK(anon_report(m, bank_a, banks, dir, &pol, &ar,
		    &cause) == 0);
		if (ar.msg == NULL)
			continue;
		CHECK(ar.msg->report->impact->has_duration_minutes);
		if (ar.msg->report->impact->duration_minutes != t[i].out)
			fprintf(stderr, "duration %u -> %u, want %u\n",
			    t[i].in, ar.msg->report->impact->duration_minutes,
			    t[i].out);
		CHECK(ar.msg->report->impact->duration_minutes == t[i].out);
		anon_result_free(&ar);
	}
	report_json_free(m);
}

/* Append field number f as a length-delimited string s at p; the end. */
static uint8_t *
put_string_field(uint8_t *p, unsigned f, const char *s)
{
	unsigned	tag = f << 3 | 2;
	size_t		len = strlen(s);

	while (tag >= 0x80) {
		*p++ = (uint8_t)(tag | 0x80);
		tag >>= 7;
	}
	*p++ = (uint8_t)tag;
	*p++ = (uint8_t)len;		/* short strings only */
	memcpy(p, s, len);
	return p + len;
}

/*
 * Unknown wire fields, in the message and inside the report, never pass:
 * a newer client could put the reporter's name there.
 */
static void
test_unknown_fields(void)
{
	static const char	 secret[] = "Alpha Example Bank";
	Ceptoar__Message	*m, *m2;
	Ceptoar__Report		*r;
	struct anon_result	 ar;
	uint8_t			*buf, *p;
	size_t			 len;
	char			*cause = NULL;

	if ((m = load("unchanged")) == NULL)
		return;
	/* The report with field 99 (a string) appended, as a newer peer. */
	len = ceptoar__report__get_packed_size(m->report);
	CHECK((buf = malloc(len + 8 + sizeof(secret))) != NULL);
	ceptoar__report__pack(m->report, buf);
	p = put_string_field(buf + len, 99, secret);
	r = ceptoar__report__unpack(NULL, (size_t)(p - buf), buf);
	free(buf);
	CHECK(r != NULL && r->base.n_unknown_fields == 1);
	if (r == NULL)
		return;
	ceptoar__report__free_unpacked(m->report, NULL);
	m->report = r;
	/* And field 98 at the message level. */
	len = ceptoar__message__get_packed_size(m);
	CHECK((buf = malloc(len + 8 + sizeof(secret))) != NULL);
	ceptoar__message__pack(m, buf);
	p = put_string_field(buf + len, 98, secret);
	m2 = ceptoar__message__unpack(NULL, (size_t)(p - buf), buf);
	free(buf);
	CHECK(m2 != NULL && m2->base.n_unknown_fields == 1);
	report_json_free(m);
	if (m2 == NULL)
		return;
	CHECK(anon_report(m2, bank_a, banks, dir, &pol, &ar, &cause) == 0);
	if (ar.msg != NULL) {
		CHECK(ar.msg->base.n_unknown_fields == 0);
		CHECK(ar.msg->report->base.n_unknown_fields == 0);
		check_no_leak("unknown fields", m2, ar.msg);
	}
	anon_result_free(&ar);
	ceptoar__message__free_unpacked(m2, NULL);
}

/* Refusals, with causes that name the CEPTOAR but never the reporter. */
static void
test_refusals(void)
{
	Ceptoar__Message	*m;
	Ceptoar__Message	 adv = CEPTOAR__MESSAGE__INIT;
	Ceptoar__Advisory	 a = CEPTOAR__ADVISORY__INIT;
	struct anon_result	 ar;
	char			*cause = NULL;

	if ((m = load("unchanged")) == NULL)
		return;
	CHECK(anon_report(m, bank_a, directory_ceptoar(dir, "securities"), dir,
	    &pol, &ar, &cause) == -1);
	CHECK(ar.msg == NULL);
	CHECK_CONTAINS(cause, "CEPTOAR securities's secretariat sec-sec has "
	    "no phone or email");
	CHECK(cause != NULL && strstr(cause, "bank-a") == NULL &&
	    strstr(cause, "Bank A") == NULL);
	free(cause);
	cause = NULL;

	adv.uuid = "6f1c2a10-0100-4a00-8000-000000000100";
	adv.content_case = CEPTOAR__MESSAGE__CONTENT_ADVISORY;
	adv.advisory = &a;
	CHECK(anon_report(&adv, bank_a, banks, dir, &pol, &ar, &cause) == -1);
	CHECK_CONTAINS(cause, "only reports");
	free(cause);
	cause = NULL;

	/* "Only myself" leaves nobody to share with. */
	free(m->report->sharing->organisations);
	m->report->sharing->scope =
	    CEPTOAR__SHARING_SCOPE__SHARING_NAMED_ORGANISATIONS;
	m->report->sharing->n_organisations = 1;
	m->report->sharing->organisations = calloc(1, sizeof(char *));
	m->report->sharing->organisations[0] = strdup("bank-a");
	CHECK(anon_report(m, bank_a, banks, dir, &pol, &ar, &cause) == -1);
	CHECK_CONTAINS(cause, "report.sharing.organisations");
	free(cause);
	report_json_free(m);
}

/* One scrub: expected output and verdict. */
struct scrub_case {
	const char	*in;
	const char	*out;		/* NULL: same as in */
	bool		 vouched;
	const char	*why;		/* in the reason when not vouched */
};

static const struct scrub_case scrub_cases[] = {
	/* Names stand as words; these only look like them. */
	{ "AEBX, whether, bank-ab and Alpha Example Banking stay", NULL,
	    true, NULL },
	{ "AEB-internal and (AEB) go", "[organisation]-internal and "
	    "([organisation]) go", true, NULL },
	{ "エー銀行様より", "[organisation]様より", true, NULL },
	{ "アルファ例示銀行（アルファ銀）", "[organisation]（[organisation]）",
	    true, NULL },
	/* Hosts and mails. */
	{ "see www.Alpha-Bank.Example.", "see [domain].", true, NULL },
	{ "@alpha-bank.example and x.alpha-group.example:443",
	    "@[domain] and [domain]:443", true, NULL },
	{ "alpha-bank.example.evil.example", "[domain].evil.example", true,
	    NULL },
	{ "login-alpha-bank.evil.example", NULL, false, "look-alike" },
	{ "call 202-555-0143 now", "call [phone] now", true, NULL },
	{ "mail a.b+c@sub.webmail.example now", "mail [email] now", true,
	    NULL },
	{ "user@localhost is no address", NULL, true, NULL },
	/* Numbers. */
	{ "tel:+81-3-1234-5678;", "tel:[phone];", true, NULL },
	{ "03(1234)5678", "[phone]", true, NULL },
	{ "0312345678 and 031234567", "[phone] and 031234567", true, NULL },
	{ "1-800-555-0199", "[phone]", true, NULL },
	{ "2026-11-21 09:30 JST", NULL, true, NULL },
	{ "JVNDB-2024-000123", NULL, true, NULL },
	/* Addresses. */
	{ "::ffff:192.0.2.65 and ::ffff:203.0.113.1",
	    "[address] and ::ffff:203.0.113.1", true, NULL },
	{ "[2001:db8:104::1]:443", "[[address]]:443", true, NULL },
	{ "http://[fd12::1]/x and http://10.0.0.1:8080/admin",
	    "[address] and [address]", true, NULL },
	{ "10:30:45 and add:: and 1.2.3.4.5", NULL, true, NULL },
	{ "00-1A-2B-3C-4D-5E", "[address]", true, NULL },
	/* Heuristics. */
	{ "Mizuho Bank", NULL, false, "\"Bank\" after a capitalised word" },
	{ "the bank and online banking", NULL, true, NULL },
	{ "The Bank said", NULL, true, NULL },
	{ "Foo K.K. said", NULL, false, "K.K." },
	{ "[organisation] K.K.", NULL, true, NULL },
	{ "Acme Co., Ltd. said", NULL, false, "\"Co\"" },
	{ "株式会社ベータ", NULL, false, "株式会社" },
	{ "ベータ(株)", NULL, false, "(株)" },
	{ "東京電力の設備", NULL, false, "電力" },
	{ "電力セプターへ共有", NULL, true, NULL },
	{ "田中さんが確認", NULL, false, "さん" },
	{ "みなさんへ、お客様へ、仕様書、同様に、様子見、氏名欄", NULL, true,
	    NULL },
	{ "都市ガスの供給", NULL, true, NULL },
	{ "東京都市ガス", NULL, false, "ガス" },	/* ambiguous: held */
	{ "DNS at ns1.example.local", NULL, false, ".local" },
	{ "printer.lan", NULL, false, ".lan" },
	{ "gw.home.arpa", NULL, false, ".home.arpa" },
	{ "host DC01 failed", NULL, false, "asset id" },
	{ "SHA256, AES256, RFC1918, ISO27001, MS17-010, COVID-19, Windows11",
	    NULL, true, NULL },
	{ "x86_64, IPv6, TLS1.3 and e3b0c44298fc1c149afbf4c8996fb924", NULL,
	    true, NULL },
	{ "〒100-0001 東京都", NULL, false, "postal" },
	{ "ref 123-4567", NULL, false, "postal code" },
	{ "Nothing to see here.", NULL, true, NULL },
	{ "", NULL, true, NULL },
	/* Compared after NFKC and case folding; the rest kept as written. */
	{ "ＡＥＢ本社のＶＰＮ装置で発見", "[organisation]本社のＶＰＮ装置で発見",
	    true, NULL },
	{ "Ａｌｐｈａ Ｅｘａｍｐｌｅ Ｂａｎｋ ＣＳＩＲＴ", "[organisation] ＣＳＩＲＴ",
	    true, NULL },
	{ "ALPHA EXAMPLE BANK, aeb, Aeb", "[organisation], [organisation], "
	    "[organisation]", true, NULL },
	{ "ｱﾙﾌｧ銀とｴｰ銀行", "[organisation]と[organisation]", true, NULL },
	{ "A\xe2\x80\x8b" "EB", "[organisation]", true, NULL },	/* ZWSP */
	{ "アルファ例\n示銀行", "[organisation]", true, NULL },
	{ "Ｍｉｚｕｈｏ Ｂａｎｋ", NULL, false, "after a capitalised word" },
	{ "ＳＵＺＵＫＩ and suzuki", "[person] and [person]", true, NULL },
	/* Defanged own addresses and domains; a stranger's stay defanged. */
	{ "198.51.100[.]7 and 198[.]51[.]100[.]8", "[address] and [address]",
	    true, NULL },
	{ "198(.)51(.)100(.)9, 203.0.113[.]5", "[address], 203.0.113[.]5",
	    true, NULL },
	{ "hxxps://www[.]alpha-bank[.]example/x and alpha-group[dot]example",
	    "[domain] and [domain]", true, NULL },
	{ "csirt[at]alpha-bank.example", "[email]", true, NULL },
	{ "１９２．０．２．７０ and 2001:0DB8:0104:0000:0000:0000:0000:0001",
	    "[address] and [address]", true, NULL },
	{ "(03-0000-0034)", "([phone])", true, NULL },
	/* A name touching a number still names; what it hid comes out. */
	{ "Alpha Example Bank１２３４ and AEB01", "[organisation]１２３４ and "
	    "[organisation]01", true, NULL },
	{ "Co.,::03-0000-0034:: and ::03-1234-5678 but 2001:db8::aeb",
	    "Co.,::[phone]:: and ::[phone] but 2001:db8::aeb", true, NULL },
	{ "192.0.2.64csirt.alpha-bank.example8 x", "[address][organisation]8 x",
	    true, NULL },
};

/* anon_scrub on its own, including what it refuses to vouch for. */
static void
test_scrub(void)
{
	const struct scrub_case	*c;
	const char		*extra[] = { "佐藤 花子 (Sato Hanako)",
				    "hanako@webmail.example", "070-9999-0001" };
	char			*s, *why = NULL;
	unsigned		 replaced = 99;
	bool			 ok;
	size_t			 i;

	for (i = 0; i < sizeof(scrub_cases) / sizeof(scrub_cases[0]); i++) {
		c = &scrub_cases[i];
		s = anon_scrub(c->in, bank_a, dir, &ok, &why, &replaced);
		CHECK(s != NULL);
		if (s == NULL)
			continue;
		if (strcmp(s, c->out ? c->out : c->in) != 0 ||
		    ok != c->vouched) {
			fprintf(stderr, "scrub \"%s\":\n  got  \"%s\" %s %s\n"
			    "  want \"%s\" %s\n", c->in, s,
			    ok ? "vouched" : "held", why ? why : "",
			    c->out ? c->out : c->in,
			    c->vouched ? "vouched" : "held");
		}
		CHECK_STR(s, c->out ? c->out : c->in);
		CHECK(ok == c->vouched);
		CHECK(ok == (why == NULL));
		CHECK((replaced == 0) == (c->out == NULL));
		if (c->why != NULL)
			CHECK_CONTAINS(why, c->why);
		free(s);
		free(why);
		why = NULL;
	}

	/* A reason names the rule, never the words that tripped it. */
	s = anon_scrub("Sakura Trust Bank", bank_a, dir, &ok, &why, NULL);
	CHECK(!ok && why != NULL && strstr(why, "Sakura") == NULL &&
	    strstr(why, "Trust") == NULL);
	free(s);
	free(why);

	/* Without a reporter only the generic rules apply. */
	s = anon_scrub("Alpha Example Bank at 10.0.0.1, bob@x.example",
	    NULL, dir, &ok, NULL, &replaced);
	CHECK_STR(s, "Alpha Example Bank at [address], [email]");
	CHECK(replaced == 2);
	CHECK(!ok);
	free(s);

	/* The extras: a person's name whole and by word, mail, phone. */
	s = anon_scrub_extra("佐藤が報告、Hanako に電話 070-9999-0001、"
	    "Sato Hanako と hanako@webmail.example。Satoshi は別人。",
	    bank_a, dir, extra, 3, &ok, &why, &replaced);
	CHECK_STR(s, "[person]が報告、[person] に電話 [phone]、[person] と "
	    "[email]。Satoshi は別人。");
	CHECK(ok);
	free(s);
	free(why);
	/* A desk is not split into words. */
	extra[0] = "Incident Response Desk";
	s = anon_scrub_extra("Incident Response Desk: incident response",
	    bank_a, dir, extra, 1, &ok, &why, &replaced);
	CHECK_STR(s, "[person]: incident response");
	free(s);
	free(why);
	/* The directory's contact person, also by word. */
	s = anon_scrub("Suzuki and Taro and Suzuki Taro", bank_a, dir, &ok,
	    &why, &replaced);
	CHECK_STR(s, "[person] and [person] and [person]");
	CHECK(replaced == 3);
	free(s);
	free(why);
}

/*
 * A short name repeated: the scrubbed text stays within its bound, with
 * the short markers, and the anonymised form within 1/8 of the report
 * (issue 13, item 3: 1 MB grew to 2.1 MB and blocked inboxes).
 */
static void
test_growth(void)
{
	const char		*extra[] = { "Ito Ken" };
	struct anon_result	 ar;
	struct anon_policy	 p = pol;
	Ceptoar__Message	*m;
	char			*text, *s, *why = NULL, *cause = NULL;
	size_t			 len, k, in, out;
	unsigned		 replaced;
	bool			 ok;

	CHECK((text = malloc(VALIDATE_MAX_TEXT + 1)) != NULL);
	if (text == NULL)
		return;
	for (k = 0; k + 4 <= VALIDATE_MAX_TEXT; k += 4)
		memcpy(text + k, "Ito ", 4);
	text[k] = '\0';
	len = strlen(text);
	s = anon_scrub_extra(text, bank_a, dir, extra, 1, &ok, &why,
	    &replaced);
	CHECK(s != NULL);
	CHECK(s != NULL && strlen(s) <= len + len / 8 + 64);
	CHECK(s != NULL && strncmp(s, "[p] [p] ", 8) == 0);
	CHECK(replaced == len / 4);
	CHECK(ok);
	free(s);
	free(why);
	why = NULL;

	/* A few: the long markers fit. */
	s = anon_scrub_extra("Ito, Ito and Ito", bank_a, dir, extra, 1, &ok,
	    &why, &replaced);
	CHECK_STR(s, "[person], [person] and [person]");
	free(s);
	free(why);
	why = NULL;

	/* A bound below the text itself: cut, and held for a person. */
	s = anon_scrub_within("Ito called about AEB twice", bank_a, dir, extra,
	    1, 12, &ok, &why, &replaced);
	CHECK(s != NULL && strlen(s) <= 12);
	CHECK(!ok);
	CHECK_CONTAINS(why, "does not fit in 12 bytes");
	free(s);
	free(why);
	why = NULL;

	/* The whole report. */
	if ((m = load("unchanged")) == NULL) {
		free(text);
		return;
	}
	free(m->report->contact->name);
	m->report->contact->name = strdup("Ito Ken");
	free(m->report->free_text);
	m->report->free_text = strdup(text);
	m->report->impact = malloc(sizeof(*m->report->impact));
	ceptoar__impact__init(m->report->impact);
	m->report->impact->description = strdup(text);
	in = ceptoar__message__get_packed_size(m);
	CHECK(anon_report(m, bank_a, banks, dir, &pol, &ar, &cause) == 0);
	if (ar.msg != NULL) {
		out = ceptoar__message__get_packed_size(ar.msg);
		CHECK(out <= in + in / 8 + 4096);
		CHECK(strncmp(ar.msg->report->free_text, "[p] [p]", 7) == 0);
		check_no_leak("growth", m, ar.msg);
	}
	anon_result_free(&ar);
	free(cause);
	cause = NULL;

	/* A caller's bound the form cannot meet: refused, with sizes. */
	p.max_form = in / 2;
	CHECK(anon_report(m, bank_a, banks, dir, &p, &ar, &cause) == -1);
	CHECK(ar.msg == NULL);
	CHECK_CONTAINS(cause, "more than the");
	free(cause);
	report_json_free(m);
	free(text);
}

/* anon_find_identifiers: spans in the text as given, registered only. */
static void
test_find(void)
{
	const char		*t = "ＡＥＢ, bob@x.example, 10.0.0.1, "
				    "198.51.100[.]7 and Suzuki";
	const char		*extra[] = { "Kato Hiroshi" };
	struct anon_span	*sp = NULL;
	size_t			 n = 0;

	CHECK(anon_find_identifiers(t, bank_a, NULL, 0, &sp, &n) == 0);
	CHECK(n == 3);
	if (n == 3) {
		CHECK_STR(sp[0].kind, "[organisation]");
		CHECK(sp[0].offset == 0 && sp[0].len == 9);
		CHECK_STR(sp[1].kind, "[address]");
		CHECK(strncmp(t + sp[1].offset, "198.51.100[.]7",
		    sp[1].len) == 0 && sp[1].len == 14);
		CHECK_STR(sp[2].kind, "[person]");
		CHECK(strncmp(t + sp[2].offset, "Suzuki", sp[2].len) == 0);
	}
	free(sp);
	CHECK(anon_find_identifiers("KATO at the CSIRT", bank_a, extra, 1, &sp,
	    &n) == 0);
	CHECK(n == 1 && sp[0].offset == 0 && sp[0].len == 4);
	free(sp);
	/* Its phone however written; a stranger's number is not its own. */
	CHECK(anon_find_identifiers("call ０３ ００００ ００３４ or "
	    "+81-3-0000-0034, not 03-0000-0035", bank_a, NULL, 0, &sp,
	    &n) == 0);
	CHECK(n == 2);
	if (n == 2) {
		CHECK_STR(sp[0].kind, "[phone]");
		CHECK(sp[0].offset == 5);
	}
	free(sp);
	CHECK(anon_find_identifiers("nothing here", bank_a, extra, 1, &sp,
	    &n) == 0);
	CHECK(n == 0);
	free(sp);
}

/*
 * Text at the free-text limit made of what every matcher starts on:
 * the scrubber must stay linear (the test's timeout is the check), or a
 * report could stall the hub.
 */
static void
test_linear(void)
{
	static const char *const units[] = {
		"a://", "1:", "0 ", "a@", "a.", "Bank ", "[", "-1", "ab::",
		"0-", "\xef\xbc\x90", "a://alpha-bank.example/", "AEB ",
		"\xe6\xa7\x98", "K.K.", "x:x@", "\t", "a[.]", "1[.]",
		"\xef\xbc\xa1", "\xef\xbd\xb1\xef\xbe\x9e", "e\xcc\x81",
		"\xe2\x80\x8b", "\xef\xb7\xba",
	};
	char		*text, *s;
	size_t		 i, k, ul;
	bool		 ok;
	unsigned	 replaced;

	CHECK((text = malloc(VALIDATE_MAX_TEXT + 1)) != NULL);
	if (text == NULL)
		return;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		ul = strlen(units[i]);
		for (k = 0; k + ul <= VALIDATE_MAX_TEXT; k += ul)
			memcpy(text + k, units[i], ul);
		text[k] = '\0';
		s = anon_scrub(text, bank_a, dir, &ok, NULL, &replaced);
		CHECK(s != NULL);
		free(s);
	}
	free(text);
}

/* A key file: exactly 32 bytes, private, not all zeros. */
static void
test_load_key(void)
{
	struct anon_policy	 p;
	const char		*tmp = getenv("TMPDIR");
	char			 d[1024], path[1100], *cause = NULL;
	unsigned char		 key[40];
	int			 fd;
	size_t			 i;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(d, sizeof(d), "%s/test_anon.XXXXXX", tmp);
	CHECK(mkdtemp(d) != NULL);
	snprintf(path, sizeof(path), "%s/anon.key", d);
	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(0xa0 + i);

#define WRITE_KEY(mode, n) do {						\
	unlink(path);							\
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);		\
	CHECK(fd != -1);						\
	CHECK(write(fd, key, (n)) == (ssize_t)(n));			\
	close(fd);							\
	CHECK(chmod(path, (mode)) == 0);				\
} while (0)

	memset(&p, 0, sizeof(p));
	WRITE_KEY(0600, 32);
	CHECK(anon_load_key(path, &p, &cause) == 0);
	CHECK(cause == NULL);
	CHECK(memcmp(p.key, key, 32) == 0);

	WRITE_KEY(0640, 32);
	CHECK(anon_load_key(path, &p, &cause) == -1);
	CHECK_CONTAINS(cause, path);
	CHECK_CONTAINS(cause, "mode 0640");
	CHECK_CONTAINS(cause, "chmod 600");
	free(cause);
	WRITE_KEY(0604, 32);
	CHECK(anon_load_key(path, &p, &cause) == -1);
	CHECK_CONTAINS(cause, "mode 0604");
	free(cause);
	WRITE_KEY(0610, 32);
	CHECK(anon_load_key(path, &p, &cause) == -1);
	free(cause);

	WRITE_KEY(0600, 31);
	CHECK(anon_load_key(path, &p, &cause) == -1);
	CHECK_CONTAINS(cause, path);
	CHECK_CONTAINS(cause, "31 bytes");
	free(cause);
	WRITE_KEY(0600, 33);
	CHECK(anon_load_key(path, &p, &cause) == -1);
	CHECK_CONTAINS(cause, "more than 32 bytes");
	free(cause);
	WRITE_KEY(0600, 0);
	CHECK(anon_load_key(path, &p, &cause) == -1);
	CHECK_CONTAINS(cause, "0 bytes");
	free(cause);
	memset(key, 0, sizeof(key));
	WRITE_KEY(0600, 32);
	CHECK(anon_load_key(path, &p, &cause) == -1);
	CHECK_CONTAINS(cause, "all zeros");
	free(cause);
	CHECK(memcmp(p.key, "\xa0\xa1\xa2", 3) == 0);	/* left alone */
	unlink(path);

	CHECK(anon_load_key(path, &p, &cause) == -1);
	CHECK_CONTAINS(cause, path);
	CHECK_CONTAINS(cause, "No such file");
	free(cause);
	CHECK(anon_load_key(d, &p, &cause) == -1);
	CHECK_CONTAINS(cause, "not a regular file");
	free(cause);
	rmdir(d);
#undef WRITE_KEY
}

int
main(void)
{
	const char	*src = getenv("CEPTOAR_SRCDIR");
	const char	*u = getenv("ANON_UPDATE_GOLDEN");
	char		 path[1200], *cause = NULL;

	snprintf(fixtures, sizeof(fixtures), "%s/tests/fixtures/anon",
	    src != NULL && *src != '\0' ? src : "..");
	update = u != NULL && strcmp(u, "1") == 0;
	if ((dir = directory_load(fixture(path, sizeof(path),
	    "directory.yaml"), &cause)) == NULL) {
		fprintf(stderr, "directory: %s\n", cause ? cause : "?");
		return 1;
	}
	bank_a = directory_org(dir, "bank-a");
	banks = directory_ceptoar(dir, "banks");
	CHECK(bank_a != NULL && banks != NULL);
	if (bank_a == NULL || banks == NULL)
		return CHECK_DONE();
	policy_init(&pol);

	test_bucket();
	test_coarsen();
	test_pseudonym();
	test_scrub();
	test_identity();
	test_duration();
	test_unknown_fields();
	test_refusals();
	test_load_key();
	test_linear();
	test_growth();
	test_find();
	test_golden();

	directory_free(dir);
	if (update)
		fprintf(stderr, "golden files rewritten: review the diff\n");
	return CHECK_DONE();
}
