/*
 * Unit tests for daemon/directory.c: the sample and the small test
 * directory load with the right derived data, every bad fixture is
 * refused with its file:line and cause, and no input crashes the loader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceptoard.h"
#include "check.h"

struct bad_case {
	const char	*file;
	unsigned long	 line;
	const char	*words[3];
};

/* One row per error class; the offending line is marked "# error". */
static const struct bad_case bad_cases[] = {
	{ "bad-syntax.yaml", 11, {
		"syntax error",
	} },
	{ "bad-unknown-key.yaml", 16, {
		"organisation 'bank-a': unknown key 'nmae'",
		"did you mean 'name'",
	} },
	{ "bad-unknown-top-key.yaml", 11, {
		"unknown key 'organizations'",
		"did you mean 'organisations'",
	} },
	{ "bad-duplicate-key.yaml", 18, {
		"duplicate key 'roles'",
	} },
	{ "bad-duplicate-id.yaml", 20, {
		"duplicate organisation id 'bank-a'",
		"first defined at line 15",
	} },
	{ "bad-duplicate-sector.yaml", 8, {
		"duplicate sector id 'finance'",
	} },
	{ "bad-duplicate-cn.yaml", 22, {
		"certificate CN 'bank-a' is already used by organisation "
		    "'bank-a'",
	} },
	{ "bad-unknown-sector.yaml", 20, {
		"unknown sector 'finanse'",
	} },
	{ "bad-unknown-ministry.yaml", 8, {
		"sector 'info-comm': unknown ministry 'soumu'",
	} },
	{ "bad-unknown-ceptoar.yaml", 19, {
		"unknown CEPTOAR 'bank'",
	} },
	{ "bad-unknown-secretariat.yaml", 10, {
		"unknown secretariat organisation 'zengin'",
	} },
	{ "bad-secretariat-role.yaml", 10, {
		"secretariat 'bank-a' does not have role ceptoar",
	} },
	{ "bad-role.yaml", 17, {
		"unknown role 'bank'",
	} },
	{ "bad-no-roles.yaml", 17, {
		"organisation 'bank-a': roles is empty",
	} },
	{ "bad-missing-id.yaml", 20, {
		"missing required key 'id'",
	} },
	{ "bad-missing-name.yaml", 20, {
		"organisation 'bank-b': missing required key 'name'",
	} },
	{ "bad-id.yaml", 20, {
		"'Bank_B' is not a valid id",
	} },
	{ "bad-cidr.yaml", 20, {
		"network '192.0.2.0/33'",
		"prefix length must be 0 to 32",
	} },
	{ "bad-cidr-host.yaml", 22, {
		"has host bits set",
		"did you mean 192.0.2.0/24",
	} },
	{ "bad-cidr-addr.yaml", 20, {
		"'2001:db8::g' is not an IPv6 address",
	} },
	{ "bad-cidr-noprefix.yaml", 20, {
		"'192.0.2.7' is not a CIDR range",
	} },
	{ "bad-domain.yaml", 20, {
		"'bank_a.example' is not a domain name",
	} },
	{ "bad-email.yaml", 22, {
		"organisation 'bank-a' contact: 'csirt@' is not an email "
		    "address",
	} },
	{ "bad-duration.yaml", 11, {
		"CEPTOAR 'banks': review_reminder must be a duration from 1s "
		    "to 30d", "not '2w'",
	} },
	{ "bad-bool.yaml", 20, {
		"organisation 'bank-a': handling_agreement must be true or "
		    "false, not 'maybe'",
	} },
	{ "bad-version.yaml", 2, {
		"unsupported directory version 2",
	} },
	{ "bad-version-junk.yaml", 2, {
		"'-1' is not a whole number",
	} },
	{ "bad-no-version.yaml", 2, {
		"missing required key 'version'",
	} },
	{ "bad-not-mapping.yaml", 2, {
		"directory: expected a mapping, found a list",
	} },
	{ "bad-section-type.yaml", 9, {
		"ceptoars: expected a list, found a scalar",
	} },
	{ "bad-multidoc.yaml", 20, {
		"only one YAML document",
	} },
	{ "bad-liaison-no-ministry.yaml", 20, {
		"organisation 'fsa-liaison': a liaison must name its ministry",
	} },
	{ "bad-liaison-no-sector.yaml", 20, {
		"a liaison must cover at least one sector",
	} },
	{ "bad-liaison-wrong-ministry.yaml", 26, {
		"liaison of ministry 'fsa' cannot cover sector 'info-comm'",
		"ministry 'mic' oversees",
	} },
	{ "bad-operator-no-sector.yaml", 20, {
		"an operator must be in at least one sector",
	} },
	{ "bad-member-sector.yaml", 24, {
		"member of CEPTOAR 'banks' but not in its sector 'finance'",
	} },
	{ "bad-missing-value.yaml", 16, {
		"organisation 'bank-a': 'name' has no value",
	} },
	{ "bad-empty.yaml", 1, {
		"the directory is empty",
	} },
	{ "bad-utf8.yaml", 4, {
		"invalid text",
	} },
};

static const char *srcdir(void);
static char	*fixture(const char *rel);
static bool	 list_has(char **v, size_t n, const char *s);
static void	 test_small(void);
static void	 test_sample(void);
static void	 test_bad(void);
static void	 test_misc(void);
static char	*write_temp(const char *text, size_t len);
static void	 test_large(void);
static void	 test_mangled(void);

/* The source tree: from meson's environment, or the tests/ workdir. */
static const char *
srcdir(void)
{
	const char	*s = getenv("CEPTOAR_SRCDIR");

	return s != NULL ? s : "..";
}

/* A malloc'd path under the source tree. */
static char *
fixture(const char *rel)
{
	char	*p;

	if (asprintf(&p, "%s/%s", srcdir(), rel) == -1)
		abort();
	return p;
}

/* Whether s is one of the n strings of v. */
static bool
list_has(char **v, size_t n, const char *s)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* The small directory the other tests build on, checked field by field. */
static void
test_small(void)
{
	struct directory		*d;
	const struct dir_org		*o;
	const struct dir_ceptoar	*c;
	const struct dir_sector		*s;
	char				*path, *cause = NULL, buf[128];

	path = fixture("tests/fixtures/directory/small.yaml");
	d = directory_load(path, &cause);
	CHECK(d != NULL);
	if (d == NULL) {
		fprintf(stderr, "small.yaml: %s\n", cause);
		free(cause);
		free(path);
		return;
	}
	CHECK(cause == NULL);
	CHECK_STR(d->path, path);
	CHECK(d->nministries == 2);
	CHECK(d->nsectors == 2);
	CHECK(d->nceptoars == 2);
	CHECK(d->norgs == 11);

	CHECK_STR(directory_ministry(d, "fsa")->name_ja, "金融庁");
	CHECK(directory_ministry(d, "meti") == NULL);
	s = directory_sector(d, "finance");
	CHECK(s != NULL && strcmp(s->ministry, "fsa") == 0);
	CHECK(s != NULL && s->nceptoars == 1 &&
	    strcmp(s->ceptoars[0], "banks") == 0 && s->ceptoars[1] == NULL);
	CHECK(s != NULL && s->nliaisons == 1 &&
	    strcmp(s->liaisons[0], "fsa-liaison") == 0);
	s = directory_sector(d, "info-comm");
	CHECK(s != NULL && s->nliaisons == 1 &&
	    strcmp(s->liaisons[0], "mic-liaison") == 0);
	CHECK(directory_sector(d, "gas") == NULL);

	/* Members are derived from memberships, in file order. */
	c = directory_ceptoar(d, "banks");
	CHECK(c != NULL);
	CHECK_STR(c->secretariat, "zenginkyo");
	CHECK_STR(c->sector, "finance");
	CHECK(c->council);
	CHECK(c->nmembers == 2);
	CHECK_STR(c->members[0], "bank-a");
	CHECK_STR(c->members[1], "bank-b");
	CHECK(c->members[2] == NULL);
	c = directory_ceptoar(d, "telecom");
	CHECK(c != NULL && c->nmembers == 2);
	CHECK(c != NULL && list_has(c->members, c->nmembers, "telco-b"));
	CHECK(directory_ceptoar(d, "securities") == NULL);

	o = directory_org(d, "bank-a");
	CHECK(o != NULL);
	CHECK_STR(o->cert_cn, "bank-a.example.jp");
	CHECK(directory_org_by_cn(d, "bank-a.example.jp") == o);
	CHECK(directory_org_by_cn(d, "bank-a") == NULL);
	CHECK(o->roles == ROLE_OPERATOR);
	CHECK(o->handling_agreement);
	CHECK(directory_org_in_sector(o, "finance"));
	CHECK(!directory_org_in_sector(o, "info-comm"));
	CHECK(directory_org_in_ceptoar(o, "banks"));
	CHECK(!directory_org_in_ceptoar(o, "telecom"));
	CHECK_STR(o->contact_name, "Aoki Hanako");
	CHECK_STR(o->contact_phone, "03-0000-1001");
	CHECK_STR(o->contact_email, "csirt@bank-a.example");
	/* The written names, then name and name_ja added for the scrubber. */
	CHECK(o->nnames == 4);
	CHECK(list_has(o->names, o->nnames, "A-Bank"));
	CHECK(list_has(o->names, o->nnames, "エー銀行"));
	CHECK(list_has(o->names, o->nnames, "Bank A"));
	CHECK(list_has(o->names, o->nnames, "A銀行"));
	CHECK(o->names[o->nnames] == NULL);
	CHECK(o->ndomains == 2 && o->nnetworks == 2);
	CHECK_STR(o->networks[1], "2001:db8:a::/48");

	o = directory_org(d, "bank-c");
	CHECK(o != NULL && o->nceptoars == 0 && !o->handling_agreement);
	CHECK(o != NULL && o->ceptoars != NULL && o->ceptoars[0] == NULL);
	CHECK(o != NULL && o->nnames == 1);
	CHECK(o != NULL && directory_org_by_cn(d, "bank-c") == o);

	o = directory_org(d, "telco-b");
	CHECK(o != NULL && o->nsectors == 2);
	o = directory_org(d, "fsa-liaison");
	CHECK(o != NULL && o->roles == ROLE_LIAISON);
	CHECK(o != NULL && strcmp(o->ministry, "fsa") == 0);
	o = directory_org(d, "zenginkyo");
	CHECK(o != NULL && (o->roles & ROLE_CEPTOAR));
	o = directory_org(d, "nisc");
	CHECK(o != NULL && o->roles == ROLE_NISC && o->handling_agreement);
	CHECK_STR(directory_roles_str(directory_org(d, "jpcert")->roles, buf,
	    sizeof(buf)), "agency");

	CHECK(directory_org(d, "nobody") == NULL);
	CHECK(directory_org(d, "") == NULL);
	CHECK(directory_org(d, NULL) == NULL);
	CHECK(directory_org_by_cn(d, NULL) == NULL);
	directory_free(d);
	free(path);
}

/* The shipped sample: all 15 sectors, their ministries and CEPTOARs. */
static void
test_sample(void)
{
	static const struct {
		const char	*sector, *ministry;
		size_t		 nceptoars;
	} sectors[] = {
		{ "info-comm", "mic", 3 }, { "finance", "fsa", 4 },
		{ "aviation", "mlit", 1 }, { "airports", "mlit", 1 },
		{ "railways", "mlit", 1 }, { "electricity", "meti", 1 },
		{ "gas", "meti", 1 }, { "government", "mic", 1 },
		{ "medical", "mhlw", 1 }, { "water", "mhlw", 1 },
		{ "logistics", "mlit", 1 }, { "chemicals", "meti", 1 },
		{ "credit", "meti", 1 }, { "petroleum", "meti", 1 },
		{ "ports", "mlit", 1 },
	};
	struct directory		*d;
	const struct dir_sector		*s;
	const struct dir_ceptoar	*c;
	const struct dir_org		*o, *sec;
	char				*path, *cause = NULL, buf[128], lid[64];
	size_t				 i, j, noperators = 0, nnisc = 0;

	path = fixture("config/directory.yaml");
	d = directory_load(path, &cause);
	CHECK(d != NULL);
	if (d == NULL) {
		fprintf(stderr, "directory.yaml: %s\n", cause);
		free(cause);
		free(path);
		return;
	}
	CHECK(d->nministries == 5);
	CHECK(d->nsectors == 15);
	CHECK(d->nceptoars >= 20);
	for (i = 0; i < sizeof(sectors) / sizeof(sectors[0]); i++) {
		s = directory_sector(d, sectors[i].sector);
		CHECK(s != NULL);
		if (s == NULL)
			continue;
		CHECK_STR(s->ministry, sectors[i].ministry);
		CHECK(s->name_ja != NULL);
		CHECK(s->nceptoars == sectors[i].nceptoars);
		/* One liaison per ministry, covering each of its sectors. */
		snprintf(lid, sizeof(lid), "%s-liaison", s->ministry);
		CHECK(s->nliaisons == 1 && strcmp(s->liaisons[0], lid) == 0);
	}
	CHECK_STR(directory_ministry(d, "mlit")->name_ja, "国土交通省");

	/* Every CEPTOAR has a secretariat with role ceptoar and members. */
	for (i = 0; i < d->nceptoars; i++) {
		c = &d->ceptoars[i];
		sec = directory_org(d, c->secretariat);
		CHECK(sec != NULL && (sec->roles & ROLE_CEPTOAR));
		CHECK(c->nmembers >= 1);
		for (j = 0; j < c->nmembers; j++) {
			o = directory_org(d, c->members[j]);
			CHECK(o != NULL && directory_org_in_sector(o,
			    c->sector));
		}
	}
	CHECK(directory_ceptoar(d, "banks")->nmembers >= 3);
	/* Review times: the sample's water CEPTOAR sets them, banks not. */
	CHECK(directory_ceptoar(d, "water")->review_reminder == 7200);
	CHECK(directory_ceptoar(d, "water")->review_notify_sender == 86400);
	CHECK(directory_ceptoar(d, "banks")->review_reminder == 0);
	CHECK(directory_ceptoar(d, "securities") != NULL);
	CHECK(directory_ceptoar(d, "life-insurance") != NULL);
	CHECK(directory_ceptoar(d, "non-life-insurance") != NULL);

	/* Both views find every organisation. */
	for (i = 0; i < d->norgs; i++) {
		o = &d->orgs[i];
		CHECK(directory_org(d, o->id) == o);
		CHECK(directory_org_by_cn(d, o->cert_cn) == o);
		CHECK(o->name != NULL && o->nnames >= 1);
		if (o->roles & ROLE_OPERATOR) {
			noperators++;
			CHECK(o->contact_email != NULL);
			CHECK(o->ndomains >= 1 && o->nnetworks >= 1);
			CHECK(o->name_ja != NULL);
		}
		if (o->roles & ROLE_NISC)
			nnisc++;
	}
	CHECK(noperators >= 30);
	CHECK(nnisc == 1);

	o = directory_org(d, "bank-sakura");
	CHECK(o != NULL && strcmp(o->cert_cn, "bank-sakura") != 0);
	CHECK(o != NULL && directory_org_by_cn(d, o->cert_cn) == o);
	o = directory_org(d, "city-yokohama");
	CHECK(o != NULL && directory_org_in_ceptoar(o, "water") &&
	    directory_org_in_ceptoar(o, "local-gov"));
	o = directory_org(d, "mic-liaison");
	CHECK(o != NULL && directory_org_in_sector(o, "government") &&
	    directory_org_in_sector(o, "info-comm"));
	CHECK(directory_org(d, "ceptoar-council") != NULL &&
	    directory_org(d, "ceptoar-council")->roles == ROLE_COUNCIL);
	CHECK_STR(directory_roles_str(directory_org(d, "ipa")->roles, buf,
	    sizeof(buf)), "agency");
	directory_free(d);
	free(path);
}

/* Every bad fixture fails, pointing at its line and saying why. */
static void
test_bad(void)
{
	struct directory	*d;
	char			*rel, *path, *cause, *want;
	size_t			 i, j;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		if (asprintf(&rel, "tests/fixtures/directory/%s",
		    bad_cases[i].file) == -1)
			abort();
		path = fixture(rel);
		cause = NULL;
		d = directory_load(path, &cause);
		CHECK(d == NULL);
		directory_free(d);
		if (asprintf(&want, "%s:%lu: ", path, bad_cases[i].line) == -1)
			abort();
		CHECK(cause != NULL && strncmp(cause, want,
		    strlen(want)) == 0);
		if (cause == NULL || strncmp(cause, want, strlen(want)) != 0)
			fprintf(stderr, "  %s: got \"%s\"\n", bad_cases[i].file,
			    cause ? cause : "(null)");
		for (j = 0; j < 3 && bad_cases[i].words[j] != NULL; j++)
			CHECK_CONTAINS(cause, bad_cases[i].words[j]);
		free(want);
		free(cause);
		free(path);
		free(rel);
	}
}

/* Odd calls and odd files: missing, a directory, NULL cause. */
static void
test_misc(void)
{
	struct directory	*d;
	char			*cause = NULL, buf[16], big[128], *path;
	unsigned		 bit = 0;

	directory_free(NULL);

	d = directory_load("fixtures/directory/does-not-exist.yaml", &cause);
	CHECK(d == NULL);
	CHECK_CONTAINS(cause, "does-not-exist.yaml: ");
	CHECK_CONTAINS(cause, "No such file");
	free(cause);
	cause = NULL;

	path = fixture("tests/fixtures/directory");
	d = directory_load(path, &cause);
	CHECK(d == NULL);
	CHECK(cause != NULL);
	free(cause);
	free(path);

	/* A caller that does not want the cause must not leak it. */
	path = fixture("tests/fixtures/directory/bad-role.yaml");
	CHECK(directory_load(path, NULL) == NULL);
	free(path);

	CHECK(directory_role_parse("liaison", &bit) == 0 &&
	    bit == ROLE_LIAISON);
	CHECK(directory_role_parse("council", &bit) == 0 &&
	    bit == ROLE_COUNCIL);
	CHECK(directory_role_parse("Liaison", &bit) == -1);
	CHECK(directory_role_parse("", &bit) == -1);
	CHECK(directory_role_parse(NULL, &bit) == -1);
	CHECK_STR(directory_roles_str(ROLE_OPERATOR | ROLE_LIAISON, big,
	    sizeof(big)), "operator,liaison");
	CHECK_STR(directory_roles_str(ROLE_COUNCIL | ROLE_NISC | ROLE_AGENCY,
	    big, sizeof(big)), "nisc,agency,council");
	CHECK_STR(directory_roles_str(0, buf, sizeof(buf)), "");
	/* Too small a buffer holds whole names only. */
	CHECK_STR(directory_roles_str(ROLE_OPERATOR | ROLE_CEPTOAR |
	    ROLE_LIAISON, buf, 14), "operator");
	CHECK_STR(directory_roles_str(ROLE_NISC | ROLE_AGENCY |
	    ROLE_COUNCIL | ROLE_OPERATOR | ROLE_CEPTOAR | ROLE_LIAISON, buf,
	    sizeof(buf)), "operator");

	CHECK(directory_valid_id("bank-a"));
	CHECK(directory_valid_id("0"));
	CHECK(!directory_valid_id(""));
	CHECK(!directory_valid_id("-a"));
	CHECK(!directory_valid_id("a_b"));
	CHECK(!directory_valid_id("A"));
	CHECK(directory_valid_id(
	    "a234567890123456789012345678901234567890123456789012345678901234"));
	CHECK(!directory_valid_id(
	    "a2345678901234567890123456789012345678901234567890123456789012345"));
}

/* text written to a fresh temporary file; the malloc'd path. */
static char *
write_temp(const char *text, size_t len)
{
	const char	*tmp = getenv("TMPDIR");
	char		*path;
	int		 fd;

	if (asprintf(&path, "%s/test_directory.XXXXXX",
	    tmp != NULL ? tmp : "/tmp") == -1)
		abort();
	if ((fd = mkstemp(path)) == -1)
		abort();
	if (write(fd, text, len) != (ssize_t)len)
		abort();
	close(fd);
	return path;
}

/* Hundreds of local governments: a few thousand orgs load and resolve. */
static void
test_large(void)
{
	struct directory	*d;
	char			*text, *path, *cause = NULL, id[32];
	size_t			 cap = 1 << 20, off = 0, i, n = 3000;
	int			 r;

	if ((text = malloc(cap)) == NULL)
		abort();
	off += (size_t)snprintf(text + off, cap - off,
	    "version: 1\nministries: [{ id: mic, name: MIC }]\n"
	    "sectors: [{ id: government, name: Government, ministry: mic }]\n"
	    "ceptoars: [{ id: local-gov, name: Local Government CEPTOAR, "
	    "sector: government, secretariat: lg }]\n"
	    "organisations:\n"
	    "  - { id: lg, name: LG, roles: [ceptoar] }\n");
	for (i = 0; i < n; i++) {
		r = snprintf(text + off, cap - off,
		    "  - { id: city-%zu, name: City %zu, roles: [operator], "
		    "sectors: [government], ceptoars: [local-gov], "
		    "networks: [10.%zu.%zu.0/24] }\n", i, i, i / 256, i % 256);
		if (r < 0 || (size_t)r >= cap - off)
			abort();
		off += (size_t)r;
	}
	path = write_temp(text, off);
	d = directory_load(path, &cause);
	CHECK(d != NULL);
	if (d != NULL) {
		CHECK(d->norgs == n + 1);
		CHECK(directory_ceptoar(d, "local-gov")->nmembers == n);
		for (i = 0; i < n; i += 7) {
			snprintf(id, sizeof(id), "city-%zu", i);
			CHECK(directory_org(d, id) == &d->orgs[i + 1]);
			CHECK(directory_org_by_cn(d, id) == &d->orgs[i + 1]);
		}
		CHECK(directory_org(d, "city-3000") == NULL);
	} else
		fprintf(stderr, "large: %s\n", cause);
	free(cause);
	directory_free(d);
	unlink(path);
	free(path);
	free(text);
}

/*
 * Truncated and corrupted copies of the small directory: each must load
 * or fail with a cause, never crash (valgrind watches for the rest).
 */
static void
test_mangled(void)
{
	struct directory	*d;
	char			*src, *path, *copy, *cause, *tmp;
	FILE			*f;
	long			 len;
	size_t			 cut, i, failed = 0, loaded = 0;
	unsigned		 seed = 12345;

	src = fixture("tests/fixtures/directory/small.yaml");
	if ((f = fopen(src, "r")) == NULL)
		abort();
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	if ((copy = malloc((size_t)len + 1)) == NULL ||
	    fread(copy, 1, (size_t)len, f) != (size_t)len)
		abort();
	fclose(f);
	path = write_temp("", 0);

	for (cut = 0; cut < (size_t)len; cut += 13) {
		if ((f = fopen(path, "w")) == NULL)
			abort();
		fwrite(copy, 1, cut, f);
		fclose(f);
		cause = NULL;
		d = directory_load(path, &cause);
		if (d == NULL) {
			failed++;
			CHECK(cause != NULL && strncmp(cause, path,
			    strlen(path)) == 0);
		} else
			loaded++;
		directory_free(d);
		free(cause);
	}
	if ((tmp = malloc((size_t)len)) == NULL)
		abort();
	for (i = 0; i < 200; i++) {
		memcpy(tmp, copy, (size_t)len);
		seed = seed * 1103515245 + 12345;
		tmp[(seed >> 8) % (size_t)len] = (char)(seed >> 20);
		seed = seed * 1103515245 + 12345;
		tmp[(seed >> 8) % (size_t)len] =
		    "\0:-[]{},#\n "[(seed >> 20) % 12];
		if ((f = fopen(path, "w")) == NULL)
			abort();
		fwrite(tmp, 1, (size_t)len, f);
		fclose(f);
		cause = NULL;
		d = directory_load(path, &cause);
		if (d == NULL) {
			failed++;
			CHECK(cause != NULL);
		} else
			loaded++;
		directory_free(d);
		free(cause);
	}
	CHECK(failed > 0 && loaded > 0);
	unlink(path);
	free(path);
	free(tmp);
	free(copy);
	free(src);
}

int
main(void)
{
	test_small();
	test_sample();
	test_bad();
	test_misc();
	test_large();
	test_mangled();
	return CHECK_DONE();
}
