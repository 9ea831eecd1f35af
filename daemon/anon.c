/*
 * De-identification of voluntary reports (DOMAIN.md, "Anonymisation"):
 * what a CEPTOAR secretariat passes up to the liaison and NISC must not
 * tell who reported, from any field.  Everything here is pure: no
 * sockets, no store, no clock; the key comes in the policy.
 *
 * What anon_report does to a report, field by field:
 *
 *   uuid        replaced by a keyed-hash UUID of (reporter, uuid):
 *               a retried forward gets the same one, nobody without the
 *               key can link it to the original.
 *   chain_id    replaced by the same keyed hash of (reporter, chain_id,
 *               or uuid for the first report), so an update's chain_id
 *               is still the uuid of the chain's first anonymised form,
 *               and it is always set.
 *   pseudonym   "anon-" and 10 lower-case base32 characters (50 bits),
 *               a keyed hash of (reporter, original chain): one per
 *               chain, never one per reporter, so chains of the same
 *               reporter do not link.
 *   contact     the CEPTOAR secretariat: "<CEPTOAR name> secretariat
 *               (relays questions to the reporter)", the secretariat's
 *               phone and email from the directory, unit "via CEPTOAR
 *               <id>".  A secretariat with neither is an error: a
 *               placeholder address would pass validation and reach
 *               nobody.
 *   times       occurred_at and detected_at rounded down to the policy's
 *               granularity (0 means an hour).
 *   impact      users_affected, kw_lost and households to the lower
 *               bound of their 1-2-5 bucket; duration_minutes to 15
 *               minute steps, and below 15 minutes to the 1-2-5 series
 *               (0, 1, 2, 5, 10), so that the 10-minute electricity and
 *               2-hour telecom lines still read right.  The threshold
 *               flags were computed on the exact figures and are kept.
 *   free text   title, affected_service, affected_systems, free_text,
 *               impact.description, legal_basis and indicator comments
 *               go through the scrubber (below).
 *   indicators  values are scrubbed of the reporter's own identifiers
 *               only (an attacker's address, domain or mail address is
 *               the useful part); an indicator that was nothing but the
 *               reporter's own (its address, host, mail, name, or a
 *               private address) is dropped.
 *   sharing     the reporter's own id is taken out of the organisations.
 *   sector, ceptoar  kept; filled in from the CEPTOAR when absent.
 *   kept as they are: kind, legally_mandated, cause, event_type,
 *               severity, attribution, stage, revision, retracted, flags,
 *               tlp, drill.
 *   hop_notes, relay  dropped: the hub sets them on the way.
 *   anything else     a field this file does not know (the protocol
 *               grows): strings are scrubbed, other values dropped, and
 *               unknown wire fields are always dropped.
 *
 * The scrubber reads every text, and every identifier it matches, after
 * Unicode NFKC normalisation and case folding (libunistring), without
 * default-ignorable code points (zero-width spaces, variation
 * selectors): full-width Latin (ＡＥＢ), half-width katakana (ｱﾙﾌｧ),
 * compatibility characters (㈱, ①) and case variants all match.  It
 * also reads defanged forms as what they stand for after a letter or
 * digit: [.] (.) {.} [dot] (dot) as ".", [:] as ":", [@] (@) [at] (at)
 * as "@", and any scheme such as hxxp:// is a URL.  A match in the
 * normalised text is mapped back to the span of the original it came
 * from (whole characters, see "Normalisation" below), and only that
 * span is replaced: everything else is copied as written.  Longest
 * first, it replaces:
 *   [organisation]  the reporter's names (name, name_ja, names), and its
 *                   id and certificate CN when longer than 3 characters;
 *   [domain]        a host under one of its domains, a URL on such a host,
 *                   and the domain itself anywhere (a look-alike
 *                   "www.alpha-bank.example.evil.example" included);
 *   [email]         every mail address: a person's address identifies
 *                   them, whoever's domain it is in;
 *   [phone]         phone numbers: 9 to 15 digits starting with 0, + or
 *                   "(", with - space ( ) separators, 10 or 11 digits when
 *                   there is no separator; or, from another digit, three
 *                   or more groups of at most four digits, the first of at
 *                   most three, joined by '-' only (202-555-0143).  Dates,
 *                   times, IP addresses, versions, CVE ids and counts like
 *                   45,000 are left alone;
 *   [address]       IPv4 and IPv6 addresses and CIDRs inside its networks
 *                   (a wider CIDR too, down to /16 and /32), in any
 *                   notation inet_pton reads (compressed or expanded IPv6,
 *                   IPv4-mapped, leading zeros), private-use addresses
 *                   (10/8, 172.16/12, 192.168/16, fc00::/7, fe80::/10) and
 *                   MAC addresses;
 *   [person]        the report's contact person and the directory's one,
 *                   as a whole and, for a name of two to four name-like
 *                   words ("Sato Hanako", "KATO Hiroshi", "佐藤 花子",
 *                   titles such as "Dr." aside), each word of three
 *                   letters or two characters and up: a lone surname
 *                   ("Kato at the CSIRT") identifies as well; the report's
 *                   contact phone and mail are replaced as written.
 * A space in a name matches any run of white space, line breaks
 * included, and between two characters of a Japanese name a run of white
 * space is skipped, so a name split by a line break still matches.
 *
 * Size: a replacement must never make a text, or a form, larger than a
 * bound, or a short name repeated through a 1 MB near miss would grow
 * the anonymised form past the frame limit of every client (issue 13).
 * The scrubber uses the short markers [o] [p] [d] [e] [t] [a] (or as
 * many '*' as the span, for a span of one or two bytes) when the long
 * ones would not fit: those are never longer than what they replace, so
 * nothing is lost and the text is still vouched for on its merits.  The
 * bound of one text is its length plus an eighth plus 64 bytes, and for
 * a report's field also the field's limit; anon_scrub_within takes the
 * caller's bound, and cuts the text there, not vouched, if even the
 * short markers do not fit.  anon_report redoes the whole form with the
 * short markers when the long ones make it larger than the report plus
 * an eighth plus ANON_FORM_SLACK, or than the policy's max_form, and
 * refuses with the sizes when even that exceeds max_form.
 *
 * Then it vouches for the result, or not, with heuristics that err on
 * the side of holding the text for the secretariat (a person reads held
 * text, which is safe); they read the scrubbed text after NFKC, not
 * folded (case tells a name), and report offsets in the text as it is:
 *   - 株式会社, 有限会社, 合同会社, (株), ㈱ and (有) anywhere;
 *   - 銀行, 信用金庫, 信金, 証券, 電力, ガス, 鉄道, 病院, 市役所 ... and
 *     the honorifics 様, さん, 氏, 殿 right after a word (kanji, kana,
 *     Latin), except generic compounds (都市ガス, 地方銀行, お客様, 仕様,
 *     皆様, 氏名, 様子 ...);
 *   - a Latin company word (Inc, Ltd, Co., Corp, Corporation, Bank, LLC,
 *     Holdings, Hospital, Limited, Company) after a capitalised word
 *     that is not an article ("Mizuho Bank"), or capitalised before one
 *     ("Bank B"), and "K.K.";
 *   - a host name ending in .local, .internal, .lan, .corp, .intra,
 *     .intranet, .localdomain, .home, .private or .home.arpa;
 *   - an employee or asset id: a dot-free token of two or more letters
 *     ending in two or more digits (EMP12345, srv-web01, DC01), unless it
 *     starts with a well-known technical prefix (CVE, KB, SHA, ISO ...);
 *   - a postal address: 〒 or a 123-4567 postal code;
 *   - a look-alike: the first label of one of the reporter's domains
 *     (4 characters or more) anywhere, as in the phishing domain
 *     alpha-bank-login.evil.example: the attacker's domain is worth
 *     sharing, but it names the target, so a person decides.
 * Anything that came from a replacement does not count: "[organisation]
 * Bank" and "[person]様" are fine.
 *
 * anon_find_identifiers uses the same matching to report, rather than
 * replace, the reporter's registered identifiers in a text, for a gate
 * that refuses a human's text naming the reporter.  Reasons name the rule, the marker
 * and a byte offset, never the text around it, so a reason can be
 * logged.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <unicase.h>
#include <unictype.h>
#include <unigbrk.h>
#include <uninorm.h>
#include <unistr.h>

#include "ceptoard.h"
#include "frame.h"
#include "validate.h"

#define ANON_ORG	"[organisation]"
#define ANON_PERSON	"[person]"
#define ANON_DOMAIN	"[domain]"
#define ANON_EMAIL	"[email]"
#define ANON_PHONE	"[phone]"
#define ANON_ADDRESS	"[address]"

#define ANON_DEFAULT_GRANULARITY	3600
/* What an anonymised form may add besides 1/8 of the report (contact). */
#define ANON_FORM_SLACK			4096
#define ANON_PSEUDONYM_CHARS		10

/* Caps on what one token may span: they keep a scan linear. */
#define ANON_MAX_HOST		255
#define ANON_MAX_LOCAL		256
#define ANON_MAX_PHONE		64
#define ANON_MAX_V6		64

static const char *const anon_placeholders[] = {
	ANON_ORG, ANON_PERSON, ANON_DOMAIN, ANON_EMAIL, ANON_PHONE,
	ANON_ADDRESS, NULL
};

/* What the scrubber looks for: text mode, or an indicator's value. */
enum anon_mode {
	ANON_TEXT,		/* everything identifying */
	ANON_INDICATOR,		/* only the reporter's own identifiers */
};

/* One literal to replace: a name, a domain, a person, a number. */
struct anon_pattern {
	const char	*s;
	size_t		 len;
	const char	*ph;		/* the placeholder */
};

/* One of the reporter's networks. */
struct anon_net {
	int		 af;
	unsigned char	 addr[16];
	unsigned	 prefix;
};

/* Everything the scrubber needs to know about one reporter. */
struct anon_ctx {
	const struct dir_org	*reporter;	/* may be NULL: generic rules */
	struct anon_pattern	*pats;		/* longest first */
	size_t			 npats;
	char			**owned;	/* pattern strings made here */
	size_t			 nowned;
	struct anon_net		*nets;
	size_t			 nnets;
	bool			 registered_only; /* no generic rules */
	char			 phones[4][24];	/* registered, national digits */
	size_t			 nphones;
};

/* A growing string; an allocation failure sticks. */
struct anon_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	bool	 failed;
};

/* Append n bytes of s to b. */
static void
anon_buf_add(struct anon_buf *b, const char *s, size_t n)
{
	char	*np;
	size_t	 ncap;

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 64;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Append a string to b. */
static void
anon_buf_str(struct anon_buf *b, const char *s)
{
	anon_buf_add(b, s, strlen(s));
}

/* Append a formatted sentence to b. */
static void __attribute__((format(printf, 2, 3)))
anon_buf_printf(struct anon_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n == -1) {
		b->failed = true;
		return;
	}
	anon_buf_add(b, s, (size_t)n);
	free(s);
}

/* The string built so far (never NULL unless it failed); b is emptied. */
static char *
anon_buf_take(struct anon_buf *b)
{
	char	*s;

	if (b->failed) {
		free(b->p);
		memset(b, 0, sizeof(*b));
		return NULL;
	}
	s = b->p != NULL ? b->p : strdup("");
	memset(b, 0, sizeof(*b));
	return s;
}

/* ASCII classes, independent of the locale. */
static bool
anon_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
anon_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
anon_alnum(unsigned char c)
{
	return anon_digit(c) || anon_alpha(c);
}

static bool
anon_xdigit(unsigned char c)
{
	return anon_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static unsigned char
anon_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

/* Bytes that continue a host, mail or address token. */
static bool
anon_tokchar(unsigned char c)
{
	return anon_alnum(c) || c == '.' || c == '_' || c == '%' ||
	    c == '+' || c == '-' || c == '@';
}

/*
 * Whether a structured token (mail, URL, address, phone) may start at i:
 * not inside a word, nor inside a run of full-width digits (０-９, －).
 */
static bool
anon_token_start(const char *s, size_t i)
{
	const unsigned char	*u = (const unsigned char *)s;

	if (i == 0)
		return true;
	if (i >= 3 && u[i - 3] == 0xef && u[i - 2] == 0xbc &&
	    ((u[i - 1] >= 0x90 && u[i - 1] <= 0x99) || u[i - 1] == 0x8d))
		return false;
	return !anon_tokchar(u[i - 1]);
}

/* ASCII case-insensitive comparison of n bytes. */
static bool
anon_ascii_eq(const char *a, const char *b, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (anon_lower((unsigned char)a[i]) !=
		    anon_lower((unsigned char)b[i]))
			return false;
	return true;
}

/*
 * Decode the UTF-8 character at s (n bytes left) into *cp; its length,
 * or 1 with *cp 0xfffd for a byte that starts no valid character.
 */
static size_t
anon_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t		need, i;
	uint32_t	c;

	if (n == 0) {
		*cp = 0;
		return 0;
	}
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		need = 1;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		need = 2;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		need = 3;
		c = s[0] & 0x07;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	if (need >= n) {
		*cp = 0xfffd;
		return 1;
	}
	for (i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		c = (c << 6) | (s[i] & 0x3f);
	}
	*cp = c;
	return need + 1;
}

/* The character that ends just before s + i, or 0 at the start. */
static uint32_t
anon_prev_cp(const char *s, size_t i)
{
	size_t		j = i;
	uint32_t	cp;

	if (i == 0)
		return 0;
	while (j > 0 && i - j < 4 && ((unsigned char)s[j - 1] & 0xc0) == 0x80)
		j--;
	if (j > 0)
		j--;
	if (anon_utf8((const unsigned char *)s + j, i - j, &cp) != i - j)
		return (unsigned char)s[i - 1];
	return cp;
}

/* Whitespace in a name, ASCII or the ideographic space: its length. */
static size_t
anon_space_len(const char *s, size_t n)
{
	if (n >= 1 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' ||
	    s[0] == '\r'))
		return 1;
	if (n >= 3 && memcmp(s, "\xe3\x80\x80", 3) == 0)
		return 3;
	return 0;
}

/* Cut s to at most max bytes, at a character boundary. */
static void
anon_truncate(char *s, size_t max)
{
	size_t	len = strlen(s);

	if (len <= max)
		return;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	s[max] = '\0';
}

/* ---- Normalisation: what is compared, and where it came from -------- */

/*
 * Text is compared after NFKC and case folding (libunistring), so that
 * full-width Latin, half-width katakana, compatibility characters and
 * case variants of a name all read the same; default-ignorable code
 * points (zero-width spaces, variation selectors) are dropped, and in
 * matching mode defanged dots, colons and at signs ("198.51.100[.]161",
 * "csirt[at]alpha-bank.example") are read as what they stand for.
 *
 * The normalised text keeps a map back to the original, as segments:
 * a bytewise segment maps byte k of its normalised bytes to byte k of
 * its original bytes (ASCII, folded or not, and clusters that normalise
 * to themselves); any other segment is one grapheme cluster (or one
 * defanged sequence) mapped as a whole.  A match is widened to whole
 * segments, so a replacement never leaves half a character behind and
 * everything around it is copied from the original untouched.
 */

/* Bytes normalised together at most: a cluster is cut after that. */
#define ANON_MAX_CLUSTER	64

/* One stretch of the normalised text and where it came from. */
struct anon_seg {
	size_t	n;		/* first byte in the normalised text */
	size_t	o;		/* first byte in the original */
	bool	bytewise;	/* n + k came from o + k */
};

/* A normalised text and its map. */
struct anon_norm {
	char		*t;		/* NUL-terminated */
	size_t		 len;
	size_t		 cap;
	size_t		 olen;		/* the original's length */
	struct anon_seg	*segs;		/* by n and by o, ascending */
	size_t		 nsegs;
	size_t		 capsegs;
	bool		 failed;
};

/* Free what a normalised text holds. */
static void
anon_norm_free(struct anon_norm *nm)
{
	free(nm->t);
	free(nm->segs);
	memset(nm, 0, sizeof(*nm));
}

/*
 * Append the normalised bytes p (plen) that came from the original
 * bytes starting at o; bytewise as in struct anon_seg.
 */
static void
anon_norm_piece(struct anon_norm *nm, size_t o, const char *p, size_t plen,
    bool bytewise)
{
	struct anon_seg	*ns;
	char		*nt;
	size_t		 ncap;

	if (nm->failed)
		return;
	if (!bytewise || nm->nsegs == 0 || !nm->segs[nm->nsegs - 1].bytewise) {
		if (nm->nsegs == nm->capsegs) {
			ncap = nm->capsegs ? nm->capsegs * 2 : 16;
			if ((ns = reallocarray(nm->segs, ncap,
			    sizeof(*ns))) == NULL) {
				nm->failed = true;
				return;
			}
			nm->segs = ns;
			nm->capsegs = ncap;
		}
		nm->segs[nm->nsegs].n = nm->len;
		nm->segs[nm->nsegs].o = o;
		nm->segs[nm->nsegs].bytewise = bytewise;
		nm->nsegs++;
	}
	if (nm->len + plen + 1 > nm->cap) {
		ncap = nm->cap ? nm->cap : 64;
		while (ncap < nm->len + plen + 1)
			ncap *= 2;
		if ((nt = realloc(nm->t, ncap)) == NULL) {
			nm->failed = true;
			return;
		}
		nm->t = nt;
		nm->cap = ncap;
	}
	memcpy(nm->t + nm->len, p, plen);
	nm->len += plen;
	nm->t[nm->len] = '\0';
}

/* Defanged forms, folded, and what they stand for. */
static const struct {
	const char	*s;
	const char	*r;
} anon_defanged[] = {
	{ "[.]", "." }, { "(.)", "." }, { "{.}", "." }, { "[dot]", "." },
	{ "(dot)", "." }, { "{dot}", "." }, { "[:]", ":" }, { "[://]", "://" },
	{ "[@]", "@" }, { "(@)", "@" }, { "[at]", "@" }, { "(at)", "@" },
	{ NULL, NULL }
};

/*
 * Read a defanged form that the normalised text now ends with, right
 * after a letter or digit, as what it stands for: the segments it came
 * from become one.
 */
static void
anon_norm_refang(struct anon_norm *nm)
{
	const struct anon_seg	*seg;
	size_t			 k, l, start, idx, o;

	if (nm->failed || nm->len == 0 ||
	    strchr(")]}", nm->t[nm->len - 1]) == NULL)
		return;
	for (k = 0; anon_defanged[k].s != NULL; k++) {
		l = strlen(anon_defanged[k].s);
		if (l >= nm->len || memcmp(nm->t + nm->len - l,
		    anon_defanged[k].s, l) != 0)
			continue;
		start = nm->len - l;
		if (!anon_alnum((unsigned char)nm->t[start - 1]))
			return;
		for (idx = nm->nsegs; idx > 0 && nm->segs[idx - 1].n > start;
		    idx--)
			;
		if (idx == 0)
			return;
		seg = &nm->segs[idx - 1];
		if (!seg->bytewise && seg->n != start)
			return;		/* starts inside a cluster */
		o = seg->bytewise ? seg->o + (start - seg->n) : seg->o;
		nm->nsegs = seg->n == start ? idx - 1 : idx;
		nm->len = start;
		nm->t[start] = '\0';
		anon_norm_piece(nm, o, anon_defanged[k].r,
		    strlen(anon_defanged[k].r), false);
		return;
	}
}

/* Whether cp normalises to itself alone: kana and unified ideographs. */
static bool
anon_norm_stable(ucs4_t cp)
{
	return (cp >= 0x3041 && cp <= 0x3096) ||
	    (cp >= 0x30a1 && cp <= 0x30fa) ||
	    (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x4e00 && cp <= 0x9fff);
}

/* Normalise the cluster of len bytes at s + o and append it. */
static void
anon_norm_cluster(struct anon_norm *nm, const char *s, size_t o, size_t len,
    bool fold)
{
	uint8_t		 b1[4 * ANON_MAX_CLUSTER], b2[4 * ANON_MAX_CLUSTER];
	uint8_t		*r1, *r2;
	size_t		 l1 = sizeof(b1), l2 = sizeof(b2), i, k, w = 0;
	ucs4_t		 cp;
	int		 cl;

	r1 = u8_normalize(UNINORM_NFKC, (const uint8_t *)s + o, len, b1, &l1);
	if (r1 == NULL) {
		anon_norm_piece(nm, o, s + o, len, true);
		return;
	}
	r2 = r1;
	l2 = l1;
	if (fold) {
		l2 = sizeof(b2);
		r2 = u8_casefold(r1, l1, NULL, UNINORM_NFKC, b2, &l2);
		if (r2 == NULL) {
			r2 = r1;
			l2 = l1;
		}
	}
	/* Drop what is invisible: a zero-width space hides nothing. */
	for (i = 0; i < l2; i += (size_t)cl) {
		if ((cl = u8_mbtouc(&cp, r2 + i, l2 - i)) <= 0)
			cl = 1;
		if (uc_is_property_default_ignorable_code_point(cp))
			continue;
		for (k = 0; k < (size_t)cl; k++)
			r2[w++] = r2[i + k];
	}
	l2 = w;
	anon_norm_piece(nm, o, (const char *)r2, l2,
	    l2 == len && memcmp(r2, s + o, len) == 0);
	if (r2 != r1 && r2 != b2)
		free(r2);
	if (r1 != b1)
		free(r1);
}

/*
 * Normalise text (n bytes): NFKC, then case folding when fold, then
 * defanged forms read when refang.  Invalid UTF-8 is kept byte for
 * byte.  On failure nm->failed is set.
 */
static void
anon_norm_init(struct anon_norm *nm, const char *s, size_t n, bool fold,
    bool refang)
{
	const uint8_t	*u = (const uint8_t *)s;
	size_t		 i = 0, j;
	ucs4_t		 cp, next;
	int		 l, l2;
	char		 c;

	memset(nm, 0, sizeof(*nm));
	nm->olen = n;
	anon_norm_piece(nm, 0, "", 0, true);	/* t is never NULL */
	while (i < n && !nm->failed) {
		if (u[i] < 0x80 && (i + 1 == n || u[i + 1] < 0x80)) {
			c = (char)(fold ? anon_lower(u[i]) : u[i]);
			anon_norm_piece(nm, i, &c, 1, true);
			i++;
			if (refang)
				anon_norm_refang(nm);
			continue;
		}
		if ((l = u8_mblen(u + i, n - i)) <= 0) {
			anon_norm_piece(nm, i, s + i, 1, true);
			i++;
			continue;
		}
		u8_mbtouc(&cp, u + i, n - i);
		j = i + (size_t)l;
		while (j < n && j - i < ANON_MAX_CLUSTER) {
			if ((l2 = u8_mblen(u + j, n - j)) <= 0 ||
			    j + (size_t)l2 - i > ANON_MAX_CLUSTER)
				break;
			u8_mbtouc(&next, u + j, n - j);
			if (uc_is_grapheme_break(cp, next))
				break;
			cp = next;
			j += (size_t)l2;
		}
		if (j - i == (size_t)l && anon_norm_stable(cp))
			anon_norm_piece(nm, i, s + i, (size_t)l, true);
		else
			anon_norm_cluster(nm, s, i, j - i, fold);
		i = j;
		if (refang)
			anon_norm_refang(nm);
	}
}

/* The last segment that starts at or before normalised byte i. */
static size_t
anon_norm_seg(const struct anon_norm *nm, size_t i)
{
	size_t	lo = 0, hi = nm->nsegs, mid;

	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (nm->segs[mid].n <= i)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Where in the original normalised byte i came from (widened down). */
static size_t
anon_norm_ostart(const struct anon_norm *nm, size_t i)
{
	const struct anon_seg	*s;

	if (nm->nsegs == 0)
		return 0;
	s = &nm->segs[anon_norm_seg(nm, i)];
	return s->bytewise ? s->o + (i - s->n) : s->o;
}

/* Where in the original normalised bytes up to e end (widened up). */
static size_t
anon_norm_oend(const struct anon_norm *nm, size_t e)
{
	const struct anon_seg	*s;
	size_t			 k;

	if (nm->nsegs == 0 || e == 0)
		return 0;
	k = anon_norm_seg(nm, e - 1);
	s = &nm->segs[k];
	if (s->bytewise)
		return s->o + (e - s->n);
	return k + 1 < nm->nsegs ? nm->segs[k + 1].o : nm->olen;
}

/* The normalised byte where the original's byte o is read (widened up). */
static size_t
anon_norm_nof(const struct anon_norm *nm, size_t o)
{
	size_t	lo = 0, hi = nm->nsegs, mid;

	if (nm->nsegs == 0)
		return 0;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (nm->segs[mid].o <= o)
			lo = mid;
		else
			hi = mid;
	}
	if (nm->segs[lo].bytewise)
		return nm->segs[lo].n + (o - nm->segs[lo].o);
	if (nm->segs[lo].o == o)
		return nm->segs[lo].n;
	return lo + 1 < nm->nsegs ? nm->segs[lo + 1].n : nm->len;
}

/* ---- Keyed hashes: UUIDs and pseudonyms ---------------------------- */

/*
 * BLAKE2b keyed with the policy key over tag, reporter and value, each
 * NUL-separated so that no two inputs run together.
 */
static void
anon_hash(const struct anon_policy *pol, const char *tag,
    const char *reporter, const char *value, unsigned char *out,
    size_t outlen)
{
	crypto_generichash_state	st;

	if (sodium_init() == -1)
		abort();	/* libsodium cannot work at all */
	/*
	 * The worker holds no key.  Should the parent not answer, an
	 * unlinkable random value is still no identifier of the reporter.
	 */
	if (pol->remote != NULL) {
		if (pol->remote(tag, reporter, value, out, outlen) == -1)
			randombytes_buf(out, outlen);
		return;
	}
	crypto_generichash_init(&st, pol->key, sizeof(pol->key), outlen);
	crypto_generichash_update(&st, (const unsigned char *)tag,
	    strlen(tag) + 1);
	crypto_generichash_update(&st, (const unsigned char *)reporter,
	    strlen(reporter) + 1);
	crypto_generichash_update(&st, (const unsigned char *)value,
	    strlen(value));
	crypto_generichash_final(&st, out, outlen);
	sodium_memzero(&st, sizeof(st));
}

void
anon_keyed_hash(const struct anon_policy *pol, const char *tag,
    const char *reporter, const char *value, unsigned char *out,
    size_t outlen)
{
	anon_hash(pol, tag, reporter, value, out, outlen);
}

/* A version 4 UUID (random-looking, RFC 9562 layout) keyed from value. */
static void
anon_uuid(const struct anon_policy *pol, const char *reporter,
    const char *value, char out[37])
{
	unsigned char	h[16];

	anon_hash(pol, "ceptoar-anon-uuid", reporter, value, h, sizeof(h));
	validate_uuid_format(h, out, 37);
	sodium_memzero(h, sizeof(h));
}

void
anon_pseudonym(const struct anon_policy *pol, const char *reporter,
    const char *chain_id, char out[ANON_PSEUDONYM_LEN])
{
	static const char	b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char		h[16];
	uint64_t		bits = 0;
	size_t			i;

	anon_hash(pol, "ceptoar-anon-pseudonym", reporter ? reporter : "",
	    chain_id ? chain_id : "", h, sizeof(h));
	for (i = 0; i < 8; i++)
		bits = (bits << 8) | h[i];
	memcpy(out, "anon-", 5);
	for (i = 0; i < ANON_PSEUDONYM_CHARS; i++)
		out[5 + i] = b32[(bits >> (64 - 5 * (i + 1))) & 31];
	out[5 + ANON_PSEUDONYM_CHARS] = '\0';
	sodium_memzero(h, sizeof(h));
	sodium_memzero(&bits, sizeof(bits));
}

int64_t
anon_coarsen_time(const struct anon_policy *pol, int64_t t)
{
	int64_t	g, r;

	g = pol != NULL && pol->time_granularity != 0 ?
	    pol->time_granularity : ANON_DEFAULT_GRANULARITY;
	r = t % g;
	if (r < 0)
		r += g;
	/* Only near INT64_MIN, which validation never lets through. */
	if (r != 0 && t < INT64_MIN + r)
		return t + (g - r);
	return t - r;
}

uint64_t
anon_bucket(uint64_t v)
{
	uint64_t	p, best = 0;

	if (v == 0)
		return 0;
	for (p = 1;; p *= 10) {
		/* p <= v / k is k * p <= v without the overflow. */
		if (p <= v)
			best = p;
		if (p <= v / 2)
			best = 2 * p;
		if (p <= v / 5)
			best = 5 * p;
		if (p > v / 10)
			break;
	}
	return best;
}

/* Minutes: the 1-2-5 series below a quarter hour, quarter hours above. */
static uint32_t
anon_duration(uint32_t m)
{
	return m < 15 ? (uint32_t)anon_bucket(m) : m - m % 15;
}

int
anon_load_key(const char *path, struct anon_policy *pol, char **cause)
{
	*cause = NULL;
	return keyfile_read(path, "pseudonym key", pol->key, cause);
}

/* ---- The scrubber's context: patterns and networks ------------------ */

/* Longest first, so that "Alpha Example Bank" wins over "Alpha". */
static int
anon_pattern_cmp(const void *a, const void *b)
{
	const struct anon_pattern	*pa = a, *pb = b;
	int				 c;

	if (pa->len != pb->len)
		return pa->len > pb->len ? -1 : 1;
	if ((c = strcmp(pa->s, pb->s)) != 0)
		return c;
	return strcmp(pa->ph, pb->ph);
}

/*
 * Add n bytes of s as a pattern replaced by ph, normalised and folded
 * as the text will be (the context owns the copy); white space becomes
 * one space, which matches any run of it.  Tiny ones are skipped.
 */
static int
anon_ctx_add_n(struct anon_ctx *ctx, const char *s, size_t n, const char *ph,
    size_t minlen)
{
	struct anon_pattern	*np;
	struct anon_norm	 nm;
	char			**nv, *c;
	size_t			 len, i;

	if (s == NULL)
		return 0;
	anon_norm_init(&nm, s, n, true, false);
	if (nm.failed) {
		anon_norm_free(&nm);
		return -1;
	}
	c = nm.t;
	for (i = 0; i < nm.len; i++)
		if (c[i] == '\t' || c[i] == '\n' || c[i] == '\r')
			c[i] = ' ';
	while (*c == ' ')
		c++;
	len = strlen(c);
	while (len > 0 && c[len - 1] == ' ')
		len--;
	if (len < minlen) {
		anon_norm_free(&nm);
		return 0;
	}
	c = strndup(c, len);
	anon_norm_free(&nm);
	if (c == NULL)
		return -1;
	if ((nv = reallocarray(ctx->owned, ctx->nowned + 1,
	    sizeof(*nv))) == NULL) {
		free(c);
		return -1;
	}
	ctx->owned = nv;
	ctx->owned[ctx->nowned++] = c;
	np = reallocarray(ctx->pats, ctx->npats + 1, sizeof(*np));
	if (np == NULL)
		return -1;
	ctx->pats = np;
	np[ctx->npats].s = c;
	np[ctx->npats].len = len;
	np[ctx->npats].ph = ph;
	ctx->npats++;
	return 0;
}

/* Add the string s as a pattern, as above. */
static int
anon_ctx_add(struct anon_ctx *ctx, const char *s, const char *ph,
    size_t minlen)
{
	return s == NULL ? 0 : anon_ctx_add_n(ctx, s, strlen(s), ph, minlen);
}

/* Words that make a contact a desk rather than a person (any case). */
static const char *const anon_role_words[] = {
	"Center", "Centre", "Desk", "Team", "Office", "Security",
	"Operations", "Department", "Division", "Section", "Unit", "Group",
	"Duty", "Officer", "Manager", "Support", "Service", "Response",
	"Incident", "Information", "System", "Systems", "Network", "Contact",
	"Secretariat", "Help", "Admin", "Administrator", "CSIRT", "PSIRT",
	"CERT", "SOC", "NOC", "Bank", "Head", "Chief", "Staff", "Dept",
	"Hotline", "Emergency", "Mail", "Phone", "Line", "Risk",
	"Management", "Control", "Room", "Hub", "POC", "Liaison", NULL
};

/* Endings that make a Japanese word a desk or a unit, not a name. */
static const char *const anon_role_endings_ja[] = {
	"部", "課", "室", "係", "局", "班", "窓口", "担当", "担当者",
	"センター", "チーム", "グループ", "デスク", "事務局", NULL
};

/* Titles before a name, which are not part of it (any case). */
static const char *const anon_titles[] = {
	"Mr", "Mr.", "Ms", "Ms.", "Mrs", "Mrs.", "Dr", "Dr.", "Prof",
	"Prof.", NULL
};

/* Whether w (n bytes) is one of the words of list, ASCII case folded. */
static bool
anon_word_in(const char *const *list, const char *w, size_t n)
{
	size_t	i;

	for (i = 0; list[i] != NULL; i++)
		if (strlen(list[i]) == n && anon_ascii_eq(list[i], w, n))
			return true;
	return false;
}

/*
 * Whether w (n bytes, NFKC) looks like one word of a person's name:
 * "Sato", "SATO" or "O'Neil" (a capital, then letters, ' or -, 2 to 20)
 * that is no desk word; or characters none of which is ASCII, not
 * ending like a unit (担当, 窓口 ...).
 */
static bool
anon_name_word(const char *w, size_t n)
{
	size_t		i, l, el;
	uint32_t	cp;

	if (n > 0 && (unsigned char)w[0] < 0x80) {
		if (n < 2 || n > 20 || !(w[0] >= 'A' && w[0] <= 'Z'))
			return false;
		for (i = 1; i < n; i++)
			if (!anon_alpha((unsigned char)w[i]) && w[i] != '\'' &&
			    w[i] != '-')
				return false;
		return !anon_word_in(anon_role_words, w, n);
	}
	for (i = 0; i < n; i += l) {
		l = anon_utf8((const unsigned char *)w + i, n - i, &cp);
		if (cp < 0x80)
			return false;
	}
	for (i = 0; anon_role_endings_ja[i] != NULL; i++) {
		el = strlen(anon_role_endings_ja[i]);
		if (el <= n && memcmp(w + n - el, anon_role_endings_ja[i],
		    el) == 0)
			return false;
	}
	return n > 0;
}

/*
 * Whether a name word may be looked for on its own: three letters or
 * more in Latin script ("Ito", not "Li"), two characters or more in
 * any other.
 */
static bool
anon_name_word_alone(const char *w, size_t n)
{
	size_t		i, l, chars = 0;
	uint32_t	cp;

	if ((unsigned char)w[0] < 0x80)
		return n >= 3;
	for (i = 0; i < n; i += l) {
		l = anon_utf8((const unsigned char *)w + i, n - i, &cp);
		chars++;
	}
	return chars >= 2;
}

/* Separators between the words of a name: space, ・ and the like. */
static size_t
anon_name_sep(const char *s, size_t n)
{
	size_t	l;

	if ((l = anon_space_len(s, n)) > 0)
		return l;
	if (n >= 1 && (s[0] == ',' || s[0] == '/'))
		return 1;
	if (n >= 3 && memcmp(s, "\xe3\x83\xbb", 3) == 0)	/* ・ */
		return 3;
	return 0;
}

/*
 * A person's name: the part before and the part inside parentheses
 * ("佐藤 花子 (Sato Hanako)") each whole and, when each part is two to
 * four name-like words (titles aside), each of its words that can stand
 * alone: a lone surname ("Kato at the CSIRT") identifies as well.
 */
static int
anon_ctx_add_person_part(struct anon_ctx *ctx, const char *s, size_t n)
{
	size_t	start[6], len[6], nw = 0, i = 0, l, ws;
	bool	names = true;

	while (n > 0 && (l = anon_name_sep(s, n)) > 0) {
		s += l;
		n -= l;
	}
	while (n > 0 && anon_name_sep(s + n - 1, 1) > 0)
		n--;
	if (n == 0)
		return 0;
	if (anon_ctx_add_n(ctx, s, n, ANON_PERSON, 2) == -1)
		return -1;
	while (i < n) {
		if ((l = anon_name_sep(s + i, n - i)) > 0) {
			i += l;
			continue;
		}
		ws = i;
		while (i < n && anon_name_sep(s + i, n - i) == 0)
			i++;
		if (anon_word_in(anon_titles, s + ws, i - ws))
			continue;
		if (nw == 6)
			return 0;	/* too many words for a name */
		start[nw] = ws;
		len[nw] = i - ws;
		if (!anon_name_word(s + ws, i - ws))
			names = false;
		nw++;
	}
	if (nw < 2 || nw > 4 || !names)
		return 0;
	for (i = 0; i < nw; i++)
		if (anon_name_word_alone(s + start[i], len[i]) &&
		    anon_ctx_add_n(ctx, s + start[i], len[i], ANON_PERSON,
		    2) == -1)
			return -1;
	return 0;
}

/* Split a contact name (NFKC first) at its parentheses; add each part. */
static int
anon_ctx_add_person(struct anon_ctx *ctx, const char *name)
{
	struct anon_norm	 nm;
	const char		*t;
	size_t			 i = 0, start = 0, n;
	int			 rv = 0;

	if (name == NULL)
		return 0;
	anon_norm_init(&nm, name, strlen(name), false, false);
	if (nm.failed) {
		anon_norm_free(&nm);
		return -1;
	}
	t = nm.t;
	n = nm.len;
	while (i < n && rv == 0) {
		if (t[i] != '(' && t[i] != ')') {
			i++;
			continue;
		}
		rv = anon_ctx_add_person_part(ctx, t + start, i - start);
		start = ++i;
	}
	if (rv == 0)
		rv = anon_ctx_add_person_part(ctx, t + start, n - start);
	anon_norm_free(&nm);
	return rv;
}

/*
 * The digits of the phone number in s (n bytes, normalised) in national
 * form (+81 3 ... as 03 ...) into out; false unless 9 to 20 of them.
 */
static bool
anon_phone_digits(const char *s, size_t n, char out[24])
{
	size_t	i, k = 0;
	bool	plus = false;

	for (i = 0; i < n; i++) {
		if (s[i] == '+' && k == 0)
			plus = true;
		if (!anon_digit((unsigned char)s[i]))
			continue;
		if (k == 20)
			return false;
		out[k++] = s[i];
	}
	out[k] = '\0';
	if (plus && k > 2 && out[0] == '8' && out[1] == '1') {
		out[0] = '0';
		memmove(out + 1, out + 2, k - 1);
		k--;
	}
	return k >= 9;
}

/* Remember a registered phone number, whatever way it is written. */
static int
anon_ctx_add_phone(struct anon_ctx *ctx, const char *s)
{
	struct anon_norm	nm;

	if (s == NULL || ctx->nphones == 4)
		return 0;
	anon_norm_init(&nm, s, strlen(s), true, false);
	if (nm.failed) {
		anon_norm_free(&nm);
		return -1;
	}
	if (anon_phone_digits(nm.t, nm.len, ctx->phones[ctx->nphones]))
		ctx->nphones++;
	anon_norm_free(&nm);
	return 0;
}

/* Whether the phone number at s (n bytes) is a registered one. */
static bool
anon_own_phone(const struct anon_ctx *ctx, const char *s, size_t n)
{
	char	d[24];
	size_t	i;

	if (!anon_phone_digits(s, n, d))
		return false;
	for (i = 0; i < ctx->nphones; i++)
		if (strcmp(d, ctx->phones[i]) == 0)
			return true;
	return false;
}

/* An extra string: a mail address, a phone number or a person's name. */
static int
anon_ctx_add_extra(struct anon_ctx *ctx, const char *s)
{
	size_t	i, digits = 0;

	if (s == NULL || *s == '\0')
		return 0;
	if (strchr(s, '@') != NULL)
		return anon_ctx_add(ctx, s, ANON_EMAIL, 3);
	for (i = 0; s[i] != '\0'; i++) {
		if (anon_digit((unsigned char)s[i]))
			digits++;
		else if (strchr("+-() .", s[i]) == NULL)
			break;
	}
	if (s[i] == '\0' && digits >= 3)
		return anon_ctx_add_phone(ctx, s) == -1 ? -1 :
		    anon_ctx_add(ctx, s, ANON_PHONE, 3);
	return anon_ctx_add_person(ctx, s);
}

/* Parse one CIDR of the directory; false for anything else. */
static bool
anon_parse_net(const char *s, struct anon_net *net)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long	 p;

	if (strlen(s) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%s", s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, buf, net->addr) == 1) {
		net->af = AF_INET;
		net->prefix = 32;
	} else if (inet_pton(AF_INET6, buf, net->addr) == 1) {
		net->af = AF_INET6;
		net->prefix = 128;
	} else
		return false;
	if (slash != NULL) {
		errno = 0;
		p = strtoul(slash, &end, 10);
		if (*slash == '\0' || *end != '\0' || errno != 0 ||
		    p > net->prefix)
			return false;
		net->prefix = (unsigned)p;
	}
	return true;
}

/* Free what a context holds. */
static void
anon_ctx_free(struct anon_ctx *ctx)
{
	size_t	i;

	for (i = 0; i < ctx->nowned; i++)
		free(ctx->owned[i]);
	free(ctx->owned);
	free(ctx->pats);
	free(ctx->nets);
	memset(ctx, 0, sizeof(*ctx));
}

/*
 * Build the context for reporter (NULL: only the generic rules) and the
 * extra strings of one report; -1 when out of memory.
 */
static int
anon_ctx_init(struct anon_ctx *ctx, const struct dir_org *o,
    const char *const *extra, size_t nextra)
{
	size_t	i;

	memset(ctx, 0, sizeof(*ctx));
	ctx->reporter = o;
	if (o != NULL) {
		for (i = 0; i < o->nnames; i++)
			if (anon_ctx_add(ctx, o->names[i], ANON_ORG, 2) == -1)
				goto fail;
		/* Also when a caller built o without the derived names. */
		if (anon_ctx_add(ctx, o->name, ANON_ORG, 2) == -1 ||
		    anon_ctx_add(ctx, o->name_ja, ANON_ORG, 2) == -1 ||
		    anon_ctx_add(ctx, o->id, ANON_ORG, 4) == -1 ||
		    anon_ctx_add(ctx, o->cert_cn, ANON_ORG, 4) == -1)
			goto fail;
		for (i = 0; i < o->ndomains; i++)
			if (anon_ctx_add(ctx, o->domains[i], ANON_DOMAIN,
			    3) == -1)
				goto fail;
		if (anon_ctx_add(ctx, o->contact_email, ANON_EMAIL, 3) == -1 ||
		    anon_ctx_add(ctx, o->contact_phone, ANON_PHONE, 3) == -1 ||
		    anon_ctx_add_phone(ctx, o->contact_phone) == -1 ||
		    anon_ctx_add_person(ctx, o->contact_name) == -1)
			goto fail;
		if (o->nnetworks > 0 && (ctx->nets = calloc(o->nnetworks,
		    sizeof(*ctx->nets))) == NULL)
			goto fail;
		for (i = 0; i < o->nnetworks; i++)
			if (anon_parse_net(o->networks[i],
			    &ctx->nets[ctx->nnets]))
				ctx->nnets++;
	}
	for (i = 0; i < nextra; i++)
		if (anon_ctx_add_extra(ctx, extra[i]) == -1)
			goto fail;
	if (ctx->npats > 1)
		qsort(ctx->pats, ctx->npats, sizeof(*ctx->pats),
		    anon_pattern_cmp);
	return 0;
fail:
	anon_ctx_free(ctx);
	return -1;
}

/* ---- Recognising hosts, mails, addresses and phones ------------------ */

/*
 * The length of the host name at s: two or more labels of letters,
 * digits and '-', the last starting with a letter and at least two
 * long; a trailing dot (end of a sentence) is not part of it.  0 if none.
 */
static size_t
anon_host_len(const char *s, size_t n)
{
	size_t	i = 0, end, labels = 0, lstart = 0;

	while (i < n && (anon_alnum((unsigned char)s[i]) || s[i] == '-' ||
	    s[i] == '.'))
		if (++i > ANON_MAX_HOST)
			return 0;
	end = i;
	while (end > 0 && (s[end - 1] == '.' || s[end - 1] == '-'))
		end--;
	for (i = 0; i <= end; i++) {
		if (i < end && s[i] != '.')
			continue;
		if (i == lstart || i - lstart > 63)
			return 0;
		labels++;
		if (i < end)
			lstart = i + 1;
	}
	if (labels < 2 || end - lstart < 2 ||
	    !anon_alpha((unsigned char)s[lstart]))
		return 0;
	return end;
}

/* Whether host (n bytes) is one of the reporter's domains or under one. */
static bool
anon_own_host(const struct anon_ctx *ctx, const char *host, size_t n)
{
	const struct dir_org	*o = ctx->reporter;
	size_t			 i, dlen;

	if (o == NULL)
		return false;
	for (i = 0; i < o->ndomains; i++) {
		dlen = strlen(o->domains[i]);
		if (dlen == 0 || dlen > n ||
		    !anon_ascii_eq(host + n - dlen, o->domains[i], dlen))
			continue;
		if (dlen == n || host[n - dlen - 1] == '.')
			return true;
	}
	return false;
}

/* Whether the first bits of a and b agree. */
static bool
anon_bits_eq(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned	full = bits / 8, rest = bits % 8;
	unsigned char	mask;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/*
 * Whether an address or CIDR is the reporter's or private-use: inside
 * one of its networks, or wider than one but still narrow enough to
 * point at it (/16 or longer for IPv4, /32 for IPv6).
 */
static bool
anon_own_addr(const struct anon_ctx *ctx, int af, const unsigned char *a,
    unsigned prefix)
{
	static const unsigned char	 v4mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	const struct anon_net		*net;
	size_t				 i;
	unsigned			 common;

	if (af == AF_INET6 && memcmp(a, v4mapped, 12) == 0)
		return anon_own_addr(ctx, AF_INET, a + 12,
		    prefix >= 96 ? prefix - 96 : 0);
	if (ctx->registered_only)
		;	/* only its own networks */
	else if (af == AF_INET && (a[0] == 10 ||
	    (a[0] == 172 && (a[1] & 0xf0) == 16) ||
	    (a[0] == 192 && a[1] == 168)))
		return true;
	else if (af == AF_INET6 && ((a[0] & 0xfe) == 0xfc ||
	    (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)))
		return true;
	for (i = 0; i < ctx->nnets; i++) {
		net = &ctx->nets[i];
		if (net->af != af)
			continue;
		common = prefix < net->prefix ? prefix : net->prefix;
		if (!anon_bits_eq(a, net->addr, common))
			continue;
		if (prefix >= net->prefix ||
		    prefix >= (af == AF_INET ? 16u : 32u))
			return true;
	}
	return false;
}

/* "/nn" up to max after an address: its length, 0 if none. */
static size_t
anon_prefix_len(const char *s, size_t n, unsigned max, unsigned *prefix)
{
	size_t		i = 1;
	unsigned	p = 0;

	if (n < 2 || s[0] != '/' || !anon_digit((unsigned char)s[1]))
		return 0;
	while (i < n && i <= 3 && anon_digit((unsigned char)s[i]))
		p = p * 10 + (unsigned)(s[i++] - '0');
	if ((i < n && anon_digit((unsigned char)s[i])) || p > max)
		return 0;
	*prefix = p;
	return i;
}

/* A dotted-quad IPv4 address, maybe with a prefix, at s: its length. */
static size_t
anon_ipv4_len(const char *s, size_t n, unsigned char a[4], unsigned *prefix)
{
	size_t		i = 0, d;
	unsigned	v;
	int		part;

	for (part = 0; part < 4; part++) {
		for (v = 0, d = 0; i < n && d < 3 &&
		    anon_digit((unsigned char)s[i]); d++)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (d == 0 || v > 255 ||
		    (i < n && anon_digit((unsigned char)s[i])))
			return 0;
		a[part] = (unsigned char)v;
		if (part < 3) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
	}
	*prefix = 32;
	i += anon_prefix_len(s + i, n - i, 32, prefix);
	/* 1.2.3.4.5 and 1.2.3.4a are something else. */
	if (i < n && (anon_alnum((unsigned char)s[i]) || (s[i] == '.' &&
	    i + 1 < n && anon_digit((unsigned char)s[i + 1]))))
		return 0;
	return i;
}

/* An IPv6 address, maybe with a prefix, at s: its length. */
static size_t
anon_ipv6_len(const char *s, size_t n, unsigned char a[16], unsigned *prefix)
{
	char	buf[ANON_MAX_V6 + 1];
	size_t	i = 0, k, colons = 0;
	bool	digit = false;

	while (i < n && (anon_xdigit((unsigned char)s[i]) || s[i] == ':' ||
	    s[i] == '.'))
		if (++i > ANON_MAX_V6)
			return 0;
	if (i < n && anon_alnum((unsigned char)s[i]))
		return 0;
	while (i > 0 && s[i - 1] == '.')
		i--;
	/* "at 2001:db8::1: blocked" ends with the address's last group. */
	if (i >= 2 && s[i - 1] == ':' && s[i - 2] != ':')
		i--;
	for (k = 0; k < i; k++) {
		if (s[k] == ':')
			colons++;
		else if (anon_digit((unsigned char)s[k]))
			digit = true;
	}
	/* 10:30:00 and a word like "add::" are not addresses. */
	if (colons < 2 || !digit)
		return 0;
	memcpy(buf, s, i);
	buf[i] = '\0';
	if (inet_pton(AF_INET6, buf, a) != 1)
		return 0;
	*prefix = 128;
	i += anon_prefix_len(s + i, n - i, 128, prefix);
	return i;
}

/* A MAC address, 00:1a:2b:3c:4d:5e or with '-': its length. */
static size_t
anon_mac_len(const char *s, size_t n)
{
	size_t	k;
	char	sep;

	if (n < 17 || (s[2] != ':' && s[2] != '-'))
		return 0;
	sep = s[2];
	for (k = 0; k < 17; k++) {
		if (k % 3 == 2) {
			if (s[k] != sep)
				return 0;
		} else if (!anon_xdigit((unsigned char)s[k]))
			return 0;
	}
	if (n > 17 && (anon_alnum((unsigned char)s[17]) || s[17] == sep))
		return 0;
	return 17;
}

/* One unit of a phone number: a digit, a separator, + ( ) or none. */
enum anon_punit { PU_NONE, PU_DIGIT, PU_HYPHEN, PU_SPACE, PU_PLUS, PU_OPEN,
	PU_CLOSE };

/* The phone unit at s (ASCII or full-width); *len its bytes. */
static enum anon_punit
anon_phone_unit(const char *s, size_t n, size_t *len, bool *zero)
{
	const unsigned char	*u = (const unsigned char *)s;

	*len = 1;
	*zero = false;
	if (n == 0)
		return PU_NONE;
	if (anon_digit(u[0])) {
		*zero = u[0] == '0';
		return PU_DIGIT;
	}
	switch (u[0]) {
	case '-':
		return PU_HYPHEN;
	case ' ':
		return PU_SPACE;
	case '+':
		return PU_PLUS;
	case '(':
		return PU_OPEN;
	case ')':
		return PU_CLOSE;
	}
	if (n < 3)
		return PU_NONE;
	*len = 3;
	if (u[0] == 0xef && u[1] == 0xbc) {
		if (u[2] >= 0x90 && u[2] <= 0x99) {	/* ０..９ */
			*zero = u[2] == 0x90;
			return PU_DIGIT;
		}
		switch (u[2]) {
		case 0x8d:				/* － */
			return PU_HYPHEN;
		case 0x8b:				/* ＋ */
			return PU_PLUS;
		case 0x88:				/* （ */
			return PU_OPEN;
		case 0x89:				/* ） */
			return PU_CLOSE;
		}
	}
	if ((u[0] == 0xe2 && u[1] == 0x80 && u[2] >= 0x90 && u[2] <= 0x95) ||
	    (u[0] == 0xe2 && u[1] == 0x88 && u[2] == 0x92) ||	/* − */
	    (u[0] == 0xe3 && u[1] == 0x83 && u[2] == 0xbc))	/* ー */
		return PU_HYPHEN;
	if (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80)
		return PU_SPACE;
	return PU_NONE;
}

/*
 * A phone number at s: its length, or 0.  See the top of the file for
 * the shapes; the last group is given up when it runs into a time or a
 * decimal ("2026-11-21 10:00").
 */
static size_t
anon_phone_len(const char *s, size_t n)
{
	size_t		 i = 0, l, groups = 0, digits = 0, gd = 0;
	size_t		 ends[16], dig_at[16], gsize[16];
	enum anon_punit	 u, start;
	bool		 zero, zero_start, only_hyphen = true, in_group = false;
	bool		 gap_other = false;
	size_t		 seps = 0, k, close_at = 0;

	start = anon_phone_unit(s, n, &l, &zero_start);
	if (start != PU_DIGIT && start != PU_PLUS && start != PU_OPEN)
		return 0;
	if (start == PU_PLUS || start == PU_OPEN)
		i = l;
	while (i < n && i <= ANON_MAX_PHONE) {
		u = anon_phone_unit(s + i, n - i, &l, &zero);
		if (u == PU_DIGIT) {
			if (!in_group) {
				/* Only a gap between groups says what joins them. */
				if (groups > 0 && gap_other)
					only_hyphen = false;
				in_group = true;
				gap_other = false;
				gd = 0;
			}
			digits++;
			gd++;
			i += l;
			seps = 0;
			continue;
		}
		if (in_group) {
			if (groups == 16)
				return 0;
			ends[groups] = i;
			dig_at[groups] = digits;
			gsize[groups] = gd;
			groups++;
			in_group = false;
		}
		if (u == PU_NONE || u == PU_PLUS || ++seps > 3)
			break;
		if (u != PU_HYPHEN)
			gap_other = true;
		if (u == PU_CLOSE && close_at == 0)
			close_at = i;
		i += l;
	}
	if (in_group) {
		if (groups == 16)
			return 0;
		ends[groups] = i;
		dig_at[groups] = digits;
		gsize[groups] = gd;
		groups++;
	}
	/* Give up trailing groups that belong to a time or a number. */
	while (groups > 0) {
		l = ends[groups - 1];
		if (l < n && (s[l] == ':' || s[l] == '.' || s[l] == ',') &&
		    l + 1 < n && anon_digit((unsigned char)s[l + 1])) {
			groups--;
			continue;
		}
		if (l < n && anon_alpha((unsigned char)s[l])) {
			groups--;
			continue;
		}
		break;
	}
	if (groups == 0)
		return 0;
	digits = dig_at[groups - 1];
	if (digits < 9 || digits > 15)
		return 0;
	/* "(03-0000-0034)": the number starts after the parenthesis. */
	if (start == PU_OPEN && (close_at == 0 || close_at >= ends[groups - 1]))
		return 0;
	if (start == PU_PLUS || start == PU_OPEN || zero_start) {
		/* Without separators only the lengths of real numbers. */
		if (groups == 1 && (start == PU_PLUS ? digits < 10 :
		    digits < 10 || digits > 11))
			return 0;
		return ends[groups - 1];
	}
	/* 202-555-0143: hyphens only, short groups, no date in front. */
	if (!only_hyphen || groups < 3 || gsize[0] > 3)
		return 0;
	for (k = 0; k < groups; k++)
		if (gsize[k] > 4)
			return 0;
	return ends[groups - 1];
}

/* Whether c can be part of a URL: printable ASCII but quotes and the like. */
static bool
anon_urlchar(char c)
{
	return (unsigned char)c > 0x20 && (unsigned char)c < 0x7f &&
	    strchr("<>\"'`{}|\\^", c) == NULL;
}

/*
 * A URL at s on one of the reporter's hosts or addresses: its length
 * with *ph set; 0 for any other URL, whose parts are then scanned one
 * by one like any text.  The host is judged before the rest is read,
 * so that "a://a://a://..." stays linear.
 */
static size_t
anon_url_len(const struct anon_ctx *ctx, const char *s, size_t n,
    const char **ph)
{
	unsigned char	 a[16];
	unsigned	 prefix;
	size_t		 i = 0, hs, he, end, h, l;
	bool		 own = false;

	if (n == 0 || !anon_alpha((unsigned char)s[0]))
		return 0;
	while (i < n && i < 16 && (anon_alnum((unsigned char)s[i]) ||
	    s[i] == '+' || s[i] == '.' || s[i] == '-'))
		i++;
	if (i + 3 > n || memcmp(s + i, "://", 3) != 0)
		return 0;
	hs = i + 3;
	for (he = hs; he < n && anon_urlchar(s[he]) && s[he] != '/' &&
	    s[he] != '?' && s[he] != '#'; he++)
		if (he - hs > ANON_MAX_LOCAL + ANON_MAX_HOST + 8)
			return 0;
	/* A host name or address ends before punctuation, a port, a path. */
	while (he > hs && strchr(".,;:!?)]", s[he - 1]) != NULL)
		he--;
	/* The host follows the user information, if any. */
	for (h = he; h > hs && s[h - 1] != '@'; h--)
		;
	if (h < he && s[h] == '[') {
		l = anon_ipv6_len(s + h + 1, he - h - 1, a, &prefix);
		if (l > 0 && anon_own_addr(ctx, AF_INET6, a, prefix)) {
			*ph = ANON_ADDRESS;
			own = true;
		}
	} else if ((l = anon_ipv4_len(s + h, he - h, a, &prefix)) > 0) {
		if (anon_own_addr(ctx, AF_INET, a, prefix)) {
			*ph = ANON_ADDRESS;
			own = true;
		}
	} else if ((l = anon_host_len(s + h, he - h)) > 0 &&
	    anon_own_host(ctx, s + h, l)) {
		*ph = ANON_DOMAIN;
		own = true;
	}
	if (!own)
		return 0;
	for (end = he; end < n && anon_urlchar(s[end]); end++)
		;
	while (end > he && strchr(".,;:!?)]", s[end - 1]) != NULL)
		end--;
	return end;
}

/* A mail address at s: its length; 0 if none (or kept, see mode). */
static size_t
anon_email_len(const struct anon_ctx *ctx, const char *s, size_t n,
    enum anon_mode mode)
{
	size_t	i = 0, hl;

	while (i < n && i < ANON_MAX_LOCAL && (anon_alnum((unsigned char)s[i])
	    || s[i] == '.' || s[i] == '_' || s[i] == '%' || s[i] == '+' ||
	    s[i] == '-'))
		i++;
	if (i == 0 || i >= n || s[i] != '@')
		return 0;
	if ((hl = anon_host_len(s + i + 1, n - i - 1)) == 0)
		return 0;
	/* In an indicator a stranger's address is the observable. */
	if (mode == ANON_INDICATOR && !anon_own_host(ctx, s + i + 1, hl))
		return 0;
	return i + 1 + hl;
}

/*
 * A structured token at s[i]: 0 when there is none to act on, else
 * its length with *ph the placeholder, or NULL to copy it unchanged
 * (an outside address, kept whole so that its digits are not taken for
 * a phone number).
 */
static size_t
anon_token(const struct anon_ctx *ctx, const char *s, size_t n,
    enum anon_mode mode, const char **ph)
{
	unsigned char	a[16];
	unsigned	prefix;
	size_t		l;

	*ph = NULL;
	if ((l = anon_url_len(ctx, s, n, ph)) > 0)
		return l;
	if ((l = anon_email_len(ctx, s, n, mode)) > 0) {
		*ph = ANON_EMAIL;
		return l;
	}
	if (!ctx->registered_only && (l = anon_mac_len(s, n)) > 0) {
		*ph = ANON_ADDRESS;
		return l;
	}
	if ((l = anon_ipv4_len(s, n, a, &prefix)) > 0) {
		if (anon_own_addr(ctx, AF_INET, a, prefix))
			*ph = ANON_ADDRESS;
		return l;
	}
	if ((l = anon_ipv6_len(s, n, a, &prefix)) > 0) {
		if (anon_own_addr(ctx, AF_INET6, a, prefix))
			*ph = ANON_ADDRESS;
		return l;
	}
	if ((l = anon_host_len(s, n)) > 0) {
		if (anon_own_host(ctx, s, l)) {
			*ph = ANON_DOMAIN;
			return l;
		}
		return 0;	/* scanned on: a name may hide inside */
	}
	/* In an indicator, only its own numbers, however written. */
	if ((l = anon_phone_len(s, n)) > 0 &&
	    (mode == ANON_TEXT || anon_own_phone(ctx, s, l))) {
		*ph = ANON_PHONE;
		return l;
	}
	return 0;
}

/*
 * Pattern p (normalised) at s (normalised): the length it covers, or 0.
 * A space in p matches any run of white space; between two characters
 * of which one is not ASCII (Japanese, which has no spaces between
 * words) a run of white space in the text is skipped, so that a name
 * split by a line break still matches.
 */
static size_t
anon_pattern_at(const char *s, size_t n, const struct anon_pattern *p)
{
	const unsigned char	*ps = (const unsigned char *)p->s;
	size_t			 i = 0, j = 0, l;

	while (j < p->len) {
		if (ps[j] == ' ') {
			while (j < p->len && ps[j] == ' ')
				j++;
			if (anon_space_len(s + i, n - i) == 0)
				return 0;
			while ((l = anon_space_len(s + i, n - i)) > 0)
				i += l;
			continue;
		}
		if (j > 0 && (ps[j] & 0xc0) != 0x80 &&
		    (ps[j - 1] >= 0x80 || ps[j] >= 0x80))
			while ((l = anon_space_len(s + i, n - i)) > 0)
				i += l;
		if (i >= n || s[i] != p->s[j])
			return 0;
		i++;
		j++;
	}
	return i;
}

/*
 * Whether the normalised bytes a and b run together into one word: two
 * ASCII letters or two digits, written in the same width.  A name
 * touching a number ("Bank1234", "AEB01") or a full-width letter
 * ("Ａalpha-bank.exampleＬ") still names; "AEBX" and "ＡＥＢＸ" do not.
 */
static bool
anon_joined(const struct anon_norm *nm, size_t a, size_t b)
{
	unsigned char	ca = (unsigned char)nm->t[a];
	unsigned char	cb = (unsigned char)nm->t[b];

	if (!((anon_alpha(ca) && anon_alpha(cb)) ||
	    (anon_digit(ca) && anon_digit(cb))))
		return false;
	return nm->segs[anon_norm_seg(nm, a)].bytewise ==
	    nm->segs[anon_norm_seg(nm, b)].bytewise;
}

/*
 * The longest pattern at normalised byte i that stands as a word: an
 * ASCII letter (digit) at either end of it must not run together with
 * another letter (digit), as above.
 */
static size_t
anon_patterns(const struct anon_ctx *ctx, const struct anon_norm *nm,
    size_t i, const char **ph)
{
	const struct anon_pattern	*p;
	const char			*s = nm->t;
	size_t				 k, l, n = nm->len;

	for (k = 0; k < ctx->npats; k++) {
		p = &ctx->pats[k];
		if (s[i] != p->s[0])
			continue;
		if ((l = anon_pattern_at(s + i, n - i, p)) == 0)
			continue;
		if (i > 0 && anon_joined(nm, i - 1, i))
			continue;
		if (i + l < n && anon_joined(nm, i + l - 1, i + l))
			continue;
		*ph = p->ph;
		return l;
	}
	return 0;
}

/* What to do with one identifier found: its span in the original. */
typedef void anon_hit_cb(void *, size_t, size_t, const char *);

/*
 * Find what the context identifies in text (n bytes), reading its
 * NFKC-folded, refanged form, and call hit with each span of the
 * original, in order and not overlapping; -1 when out of memory.
 */
static int
anon_scan(const struct anon_ctx *ctx, const char *text, size_t n,
    enum anon_mode mode, anon_hit_cb *hit, void *arg)
{
	struct anon_norm	 nm;
	const char		*ph, *t;
	size_t			 i = 0, l, os, oe, next, floor = 0, k, lk = 0;

	anon_norm_init(&nm, text, n, true, true);
	if (nm.failed) {
		anon_norm_free(&nm);
		return -1;
	}
	t = nm.t;
	while (i < nm.len) {
		l = 0;
		ph = NULL;
		if (anon_token_start(t, i) &&
		    (l = anon_token(ctx, t + i, nm.len - i, mode, &ph)) > 0 &&
		    ph == NULL) {
			/*
			 * Kept whole, as written; but a name of the reporter
			 * or a phone number that starts inside it and runs
			 * on past its end ("::03-0000-0034") is one.
			 */
			for (k = i + 1; k < i + l; k++) {
				if ((lk = anon_patterns(ctx, &nm, k, &ph)) >
				    0 && k + lk > i + l)
					break;
				if (mode == ANON_TEXT &&
				    anon_digit((unsigned char)t[k]) &&
				    !anon_digit((unsigned char)t[k - 1]) &&
				    (lk = anon_phone_len(t + k, nm.len - k)) >
				    0 && k + lk > i + l) {
					ph = ANON_PHONE;
					break;
				}
			}
			if (k == i + l) {
				i += l;
				continue;
			}
			i = k;
			l = lk;
		}
		if (l == 0)
			l = anon_patterns(ctx, &nm, i, &ph);
		if (l == 0) {
			i++;
			continue;
		}
		os = anon_norm_ostart(&nm, i);
		oe = anon_norm_oend(&nm, i + l);
		if (os < floor)
			os = floor;
		if (oe > os)
			hit(arg, os, oe, ph);
		if (oe > floor)
			floor = oe;
		next = anon_norm_nof(&nm, oe);
		i = next > i + l ? next : i + l;
	}
	anon_norm_free(&nm);
	return 0;
}

/* Short markers, for when the long ones would not fit (see the top). */
static const struct {
	const char	*ph;
	const char	*shortph;
} anon_short[] = {
	{ ANON_ORG, "[o]" }, { ANON_PERSON, "[p]" }, { ANON_DOMAIN, "[d]" },
	{ ANON_EMAIL, "[e]" }, { ANON_PHONE, "[t]" }, { ANON_ADDRESS, "[a]" },
	{ NULL, NULL }
};

/* One scrub under way: the text, the copy, how many replaced. */
struct anon_emit {
	const char	*text;
	struct anon_buf	 b;
	size_t		 done;		/* original bytes copied or replaced */
	bool		 compact;	/* never longer than the original */
	unsigned	 count;
};

/* Copy the original up to os, then the marker for os..oe. */
static void
anon_emit_hit(void *arg, size_t os, size_t oe, const char *ph)
{
	struct anon_emit	*e = arg;
	size_t			 k;

	anon_buf_add(&e->b, e->text + e->done, os - e->done);
	e->done = oe;
	e->count++;
	if (!e->compact) {
		anon_buf_str(&e->b, ph);
		return;
	}
	for (k = 0; anon_short[k].ph != NULL; k++)
		if (anon_short[k].ph == ph)
			break;
	if (anon_short[k].ph != NULL && oe - os >= strlen(anon_short[k].shortph))
		anon_buf_str(&e->b, anon_short[k].shortph);
	else
		for (k = os; k < oe; k++)
			anon_buf_add(&e->b, "*", 1);
}

/* Passes of the scrubber over its own output, at most (see below). */
#define ANON_MAX_PASSES		4

/*
 * Scrub text; NULL when out of memory.  *replaced is added to.  In
 * compact mode every marker fits the span it replaces.
 *
 * Taking a name out can uncover another identifier that it hid: in
 * "192.0.2.64csirt.alpha-bank.example" the address is no address until
 * the name after it has gone.  So the output is scrubbed again until a
 * pass finds nothing (a few passes: each one only removes).
 */
static char *
anon_ctx_scrub_mode(const struct anon_ctx *ctx, const char *text,
    enum anon_mode mode, bool compact, unsigned *replaced)
{
	struct anon_emit	e;
	char			*prev = NULL;
	size_t			n;
	int			pass;

	for (pass = 0; pass < ANON_MAX_PASSES; pass++) {
		memset(&e, 0, sizeof(e));
		e.text = prev != NULL ? prev : text;
		e.compact = compact;
		n = strlen(e.text);
		if (anon_scan(ctx, e.text, n, mode, anon_emit_hit, &e) == -1) {
			free(e.b.p);
			free(prev);
			return NULL;
		}
		anon_buf_add(&e.b, e.text + e.done, n - e.done);
		*replaced += e.count;
		free(prev);
		if ((prev = anon_buf_take(&e.b)) == NULL || e.count == 0)
			break;
	}
	return prev;
}

/* The room a scrubbed text may take when the caller gives no bound. */
static size_t
anon_default_bound(size_t len)
{
	return len + len / 8 + 64;
}

/*
 * Scrub text to at most max bytes: with the long markers when they fit,
 * else with the short ones (never longer than the original), else cut
 * at a character boundary with *cut set.  NULL when out of memory.
 */
static char *
anon_ctx_scrub_within(const struct anon_ctx *ctx, const char *text,
    enum anon_mode mode, bool compact, size_t max, unsigned *replaced,
    bool *cut)
{
	unsigned	 count = 0;
	char		*s;

	*cut = false;
	if (!compact) {
		if ((s = anon_ctx_scrub_mode(ctx, text, mode, false,
		    &count)) == NULL)
			return NULL;
		if (strlen(s) <= max) {
			*replaced += count;
			return s;
		}
		free(s);
		count = 0;
	}
	if ((s = anon_ctx_scrub_mode(ctx, text, mode, true, &count)) == NULL)
		return NULL;
	*replaced += count;
	if (strlen(s) > max) {
		anon_truncate(s, max);
		*cut = true;
	}
	return s;
}

/* ---- Vouching: what may still identify after scrubbing -------------- */

/*
 * The heuristics read the scrubbed text after NFKC (not folded: case
 * tells a name), so that full-width "Ｂａｎｋ" is "Bank"; the offsets
 * in reasons are those of the scrubbed text as it is.
 */
#define AT(x)	anon_norm_ostart(nm, (x))

enum anon_marker_kind { MK_ALWAYS, MK_SUFFIX, MK_HONORIFIC };

static const struct anon_marker {
	const char		*s;
	enum anon_marker_kind	 kind;
} anon_markers[] = {
	{ "株式会社", MK_ALWAYS }, { "有限会社", MK_ALWAYS },
	{ "合同会社", MK_ALWAYS }, { "(株)", MK_ALWAYS },
	{ "（株）", MK_ALWAYS }, { "㈱", MK_ALWAYS }, { "(有)", MK_ALWAYS },
	{ "（有）", MK_ALWAYS },
	{ "信用金庫", MK_SUFFIX }, { "信用組合", MK_SUFFIX },
	{ "銀行", MK_SUFFIX }, { "信金", MK_SUFFIX }, { "証券", MK_SUFFIX },
	{ "電力", MK_SUFFIX }, { "ガス", MK_SUFFIX }, { "鉄道", MK_SUFFIX },
	{ "電鉄", MK_SUFFIX }, { "病院", MK_SUFFIX }, { "市役所", MK_SUFFIX },
	{ "区役所", MK_SUFFIX }, { "町役場", MK_SUFFIX },
	{ "村役場", MK_SUFFIX }, { "県庁", MK_SUFFIX }, { "都庁", MK_SUFFIX },
	{ "水道局", MK_SUFFIX },
	{ "様", MK_HONORIFIC }, { "さん", MK_HONORIFIC },
	{ "氏", MK_HONORIFIC }, { "殿", MK_HONORIFIC },
	{ NULL, MK_ALWAYS }
};

/* Generic words that end in a marker without naming anybody. */
static const char *const anon_generic[] = {
	"都市ガス", "天然ガス", "プロパンガス", "地方銀行", "都市銀行",
	"信託銀行", "中央銀行", "ネット銀行", "大学病院",
	"同様", "仕様", "模様", "多様", "異様", "一様", "皆様", "お客様",
	"各様", "態様", "有様", "皆さん", "みなさん", "同氏", NULL
};

/* What may follow 様 or 氏 when they are not honorifics (様子, 氏名). */
static const char *const anon_not_honorific[] = {
	"様々", "様子", "様式", "様相", "様態", "氏名", NULL
};

/* Hiragana that are particles, not the end of a name. */
static bool
anon_particle(uint32_t cp)
{
	static const uint32_t	p[] = {
		0x306e, 0x306f, 0x304c, 0x3092, 0x306b, 0x3067, 0x3068,
		0x3082, 0x3078, 0x3084, 0x304b, 0x306d, 0x3088, 0
	};	/* の は が を に で と も へ や か ね よ */
	size_t			i;

	for (i = 0; p[i] != 0; i++)
		if (p[i] == cp)
			return true;
	return false;
}

/* Whether cp can end a name: kanji, kana, Latin letters and digits. */
static bool
anon_wordish(uint32_t cp)
{
	if (cp < 0x80)
		return anon_alnum((unsigned char)cp);
	return (cp >= 0x4e00 && cp <= 0x9fff) ||	/* kanji */
	    (cp >= 0x3400 && cp <= 0x4dbf) ||
	    (cp >= 0xf900 && cp <= 0xfaff) || cp == 0x3005 ||
	    (cp >= 0x30a1 && cp <= 0x30fa) || cp == 0x30fc ||	/* katakana */
	    (cp >= 0xff66 && cp <= 0xff9f) ||
	    (cp >= 0xff10 && cp <= 0xff19) ||	/* full-width Latin */
	    (cp >= 0xff21 && cp <= 0xff3a) ||
	    (cp >= 0xff41 && cp <= 0xff5a) ||
	    (cp >= 0x3041 && cp <= 0x3096 && !anon_particle(cp));
}

/* Write the first reason into *why; false, for "not vouched". */
static bool __attribute__((format(printf, 2, 3)))
anon_refuse(char **why, const char *fmt, ...)
{
	va_list	ap;

	if (why == NULL)
		return false;
	va_start(ap, fmt);
	if (vasprintf(why, fmt, ap) == -1)
		*why = NULL;
	va_end(ap);
	return false;
}

/*
 * Japanese organisation markers and honorifics in t, where the bytes
 * of placeholders have been blanked to 0x01.
 */
static bool
anon_vouch_ja(const struct anon_norm *nm, const char *t, size_t n, char **why)
{
	const struct anon_marker	*mk;
	size_t				 i, k, ml, gl, start;
	uint32_t			 cp;

	for (i = 0; i < n; i++) {
		if (((unsigned char)t[i] & 0xc0) == 0x80)
			continue;
		for (mk = anon_markers; mk->s != NULL; mk++) {
			ml = strlen(mk->s);
			if (ml > n - i || memcmp(t + i, mk->s, ml) != 0)
				continue;
			if (mk->kind == MK_ALWAYS) {
				if ((i > 0 && t[i - 1] == 1) ||
				    (i + ml < n && t[i + ml] == 1))
					continue;
				return anon_refuse(why, "the company marker "
				    "\"%s\" at byte %zu", mk->s, AT(i));
			}
			for (k = 0; anon_not_honorific[k] != NULL; k++) {
				gl = strlen(anon_not_honorific[k]);
				if (gl <= n - i &&
				    memcmp(t + i, anon_not_honorific[k], gl) ==
				    0)
					break;
			}
			if (anon_not_honorific[k] != NULL)
				continue;
			start = i;
			for (k = 0; anon_generic[k] != NULL; k++) {
				gl = strlen(anon_generic[k]);
				if (gl < ml || gl - ml > i ||
				    memcmp(t + i + ml - gl, anon_generic[k],
				    gl) != 0)
					continue;
				start = i + ml - gl;
				break;
			}
			if (start == 0 || t[start - 1] == 1)
				continue;
			cp = anon_prev_cp(t, start);
			if (!anon_wordish(cp))
				continue;
			return anon_refuse(why, mk->kind == MK_HONORIFIC ?
			    "the honorific \"%s\" after a name at byte %zu" :
			    "\"%s\" after a word, which may name an "
			    "organisation, at byte %zu", mk->s, AT(i));
		}
	}
	return true;
}

/* Latin-script company words (lower case), and whether '.' is needed. */
static const struct {
	const char	*w;
	bool		 dot;
} anon_company_words[] = {
	{ "inc", false }, { "ltd", false }, { "co", true }, { "corp", false },
	{ "corporation", false }, { "bank", false }, { "llc", false },
	{ "holdings", false }, { "hospital", false }, { "limited", false },
	{ "company", false }, { "incorporated", false }, { NULL, false }
};

/* Capitalised words that start a sentence rather than a name. */
static const char *const anon_articles[] = {
	"The", "A", "An", "Our", "This", "That", "Its", "Their", "Your", "My",
	"Each", "Every", "Any", "No", "One", "Some", "Which", "Whose", NULL
};

/* Latin company words after a capitalised word; "K.K." anywhere. */
static bool
anon_vouch_latin(const struct anon_norm *nm, const char *t, size_t n,
    char **why)
{
	size_t		i, ws, we, k, p, pe, ps;
	uint32_t	cp;

	for (i = 0; i + 4 <= n; i++) {
		if (memcmp(t + i, "K.K.", 4) != 0 ||
		    (i > 0 && anon_alnum((unsigned char)t[i - 1])))
			continue;
		for (p = i; p > 0 && t[p - 1] == ' '; p--)
			;
		if (p > 0 && t[p - 1] == 1)
			continue;
		return anon_refuse(why, "the company marker \"K.K.\" at byte "
		    "%zu", AT(i));
	}
	for (i = 0; i < n;) {
		if (!anon_alpha((unsigned char)t[i])) {
			i++;
			continue;
		}
		ws = i;
		while (i < n && anon_alpha((unsigned char)t[i]))
			i++;
		we = i;
		if (ws > 0 && anon_alnum((unsigned char)t[ws - 1]))
			continue;
		if (we < n && anon_digit((unsigned char)t[we]))
			continue;
		for (k = 0; anon_company_words[k].w != NULL; k++)
			if (strlen(anon_company_words[k].w) == we - ws &&
			    anon_ascii_eq(t + ws, anon_company_words[k].w,
			    we - ws))
				break;
		if (anon_company_words[k].w == NULL ||
		    (anon_company_words[k].dot && (we >= n || t[we] != '.')))
			continue;
		/* The word before, over spaces and a comma. */
		p = ws;
		while (p > 0 && (t[p - 1] == ' ' || t[p - 1] == ','))
			p--;
		if (p > 0 && t[p - 1] == 1)
			continue;	/* "[organisation] Bank" */
		/* "Bank B": a capitalised company word before a name. */
		if (t[ws] >= 'A' && t[ws] <= 'Z' && we + 1 < n &&
		    t[we] == ' ' && ((t[we + 1] >= 'A' && t[we + 1] <= 'Z') ||
		    anon_digit((unsigned char)t[we + 1])) &&
		    !anon_company_words[k].dot)
			return anon_refuse(why, "the company word \"%.*s\" "
			    "before a capitalised word at byte %zu",
			    (int)(we - ws), t + ws, AT(ws));
		if (p == 0 || p == ws)
			continue;
		pe = p;
		if (!anon_alnum((unsigned char)t[pe - 1])) {
			cp = anon_prev_cp(t, pe);
			if (cp >= 0x80 && anon_wordish(cp))
				return anon_refuse(why, "the company word "
				    "\"%.*s\" after a name at byte %zu",
				    (int)(we - ws), t + ws, AT(ws));
			continue;
		}
		ps = pe;
		while (ps > 0 && anon_alnum((unsigned char)t[ps - 1]))
			ps--;
		if (!((t[ps] >= 'A' && t[ps] <= 'Z') ||
		    anon_digit((unsigned char)t[ps])))
			continue;
		for (k = 0; anon_articles[k] != NULL; k++)
			if (strlen(anon_articles[k]) == pe - ps &&
			    memcmp(anon_articles[k], t + ps, pe - ps) == 0)
				break;
		if (anon_articles[k] != NULL)
			continue;
		return anon_refuse(why, "the company word \"%.*s\" after a "
		    "capitalised word at byte %zu", (int)(we - ws), t + ws,
		    AT(ws));
	}
	return true;
}

/* Last labels of names that only resolve inside an organisation. */
static const char *const anon_internal_tlds[] = {
	"local", "internal", "lan", "corp", "intra", "intranet",
	"localdomain", "home", "private", NULL
};

/* Leading letters of technical ids that are not asset ids (upper case). */
static const char *const anon_tech_prefixes[] = {
	"CVE", "CWE", "CAPEC", "JVN", "JVNDB", "JVNVU", "MS", "KB", "RFC",
	"ISO", "IEC", "JIS", "NIST", "SP", "SHA", "MD", "AES", "RSA", "DES",
	"ECDSA", "ED", "TLS", "SSL", "HTTP", "HTTPS", "IPV", "UTF", "WIN",
	"WINDOWS", "OFFICE", "SERVER", "COVID", "FY", "CVSS", "CVSSV", "GPT",
	"UBUNTU", "RHEL", "DEBIAN", "CENTOS", "IOS", "ANDROID", "TCP", "UDP",
	"PORT", "STIX", "TAXII", "ATT", "TA", "CIS", "PCI", "DSS", "SOC",
	"APT", "UNC", "FIN", "DEV", "TTP", "IEEE", "SMB", "SMBV", "SNMPV",
	"EXCHANGE", "LOG", "JAVA", "PHP", "PYTHON", "NODE", "OPENSSL",
	"OPENSSH", "NGINX", "APACHE", "FORTIOS", "PANOS", "ESXI", "VSPHERE",
	NULL
};

/*
 * Internal host names (dc01.corp) and asset or employee ids (EMP12345,
 * srv-web01) among the ASCII tokens of t.
 */
static bool
anon_vouch_tokens(const struct anon_norm *nm, const char *t, size_t n,
    char **why)
{
	char	lead[16];
	size_t	i = 0, ts, te, k, ll, letters, digits, hex;
	const char *last;

	while (i < n) {
		if (!(anon_alnum((unsigned char)t[i]) || t[i] == '.' ||
		    t[i] == '-' || t[i] == '_')) {
			i++;
			continue;
		}
		ts = i;
		while (i < n && (anon_alnum((unsigned char)t[i]) ||
		    t[i] == '.' || t[i] == '-' || t[i] == '_'))
			i++;
		te = i;
		while (te > ts && (t[te - 1] == '.' || t[te - 1] == '-' ||
		    t[te - 1] == '_'))
			te--;
		while (ts < te && (t[ts] == '.' || t[ts] == '-' ||
		    t[ts] == '_'))
			ts++;
		if (ts == te)
			continue;
		if (memchr(t + ts, '.', te - ts) != NULL) {
			for (last = t + te; last > t + ts && last[-1] != '.';
			    last--)
				;
			for (k = 0; anon_internal_tlds[k] != NULL; k++)
				if (strlen(anon_internal_tlds[k]) ==
				    (size_t)(t + te - last) &&
				    anon_ascii_eq(last, anon_internal_tlds[k],
				    (size_t)(t + te - last)))
					return anon_refuse(why, "an internal "
					    "host name (.%s) at byte %zu",
					    anon_internal_tlds[k], AT(ts));
			if (te - ts >= 10 &&
			    anon_ascii_eq(t + te - 10, ".home.arpa", 10))
				return anon_refuse(why, "an internal host "
				    "name (.home.arpa) at byte %zu", AT(ts));
			continue;	/* a public name: an observable */
		}
		if (!anon_alpha((unsigned char)t[ts]))
			continue;
		for (k = ts, letters = 0, hex = 0; k < te; k++) {
			if (anon_alpha((unsigned char)t[k]))
				letters++;
			if (anon_xdigit((unsigned char)t[k]))
				hex++;
		}
		for (k = te, digits = 0; k > ts &&
		    anon_digit((unsigned char)t[k - 1]); k--)
			digits++;
		if (letters < 2 || digits < 2 || te - ts < 4)
			continue;
		if (hex == te - ts && te - ts >= 16)
			continue;	/* a hash */
		for (ll = 0; ts + ll < te && ll < sizeof(lead) - 1 &&
		    anon_alpha((unsigned char)t[ts + ll]); ll++)
			lead[ll] = (char)(t[ts + ll] & ~0x20);
		lead[ll] = '\0';
		for (k = 0; anon_tech_prefixes[k] != NULL; k++)
			if (strcmp(lead, anon_tech_prefixes[k]) == 0)
				break;
		if (anon_tech_prefixes[k] != NULL)
			continue;
		return anon_refuse(why, "an employee or asset id pattern at "
		    "byte %zu", AT(ts));
	}
	return true;
}

/* Postal addresses: 〒 or a 123-4567 code. */
static bool
anon_vouch_postal(const struct anon_norm *nm, const char *t, size_t n,
    char **why)
{
	const char	*p;
	size_t		 i, k;

	if ((p = strstr(t, "〒")) != NULL)
		return anon_refuse(why, "a postal address (\xe3\x80\x92) at "
		    "byte %zu", AT((size_t)(p - t)));
	for (i = 0; i + 8 <= n; i++) {
		if (i > 0 && (anon_alnum((unsigned char)t[i - 1]) ||
		    t[i - 1] == '-'))
			continue;
		for (k = 0; k < 8; k++)
			if (k == 3 ? t[i + k] != '-' :
			    !anon_digit((unsigned char)t[i + k]))
				break;
		if (k < 8 || (i + 8 < n && (anon_alnum((unsigned char)t[i + 8])
		    || t[i + 8] == '-')))
			continue;
		return anon_refuse(why, "a postal code at byte %zu", AT(i));
	}
	return true;
}

/*
 * The first label of one of the reporter's domains ("alpha-bank" of
 * alpha-bank.example) left in t: a look-alike domain names its target
 * even when it is an attacker's, so a person decides.
 */
static bool
anon_vouch_lookalike(const struct anon_ctx *ctx, const struct anon_norm *nm,
    const char *t, size_t n, char **why)
{
	const struct dir_org	*o = ctx->reporter;
	const char		*dot;
	size_t			 i, k, l;

	if (o == NULL)
		return true;
	for (k = 0; k < o->ndomains; k++) {
		dot = strchr(o->domains[k], '.');
		l = dot != NULL ? (size_t)(dot - o->domains[k]) :
		    strlen(o->domains[k]);
		if (l < 4)
			continue;
		for (i = 0; i + l <= n; i++)
			if (anon_ascii_eq(t + i, o->domains[k], l))
				return anon_refuse(why, "a look-alike of the "
				    "reporter's domain at byte %zu", AT(i));
	}
	return true;
}

/* Whether s[i] starts a placeholder, long or short: its length. */
static size_t
anon_placeholder_at(const char *s, size_t i)
{
	size_t	k, l;

	if (s[i] != '[')
		return 0;
	for (k = 0; anon_placeholders[k] != NULL; k++) {
		l = strlen(anon_placeholders[k]);
		if (strncmp(s + i, anon_placeholders[k], l) == 0)
			return l;
	}
	for (k = 0; anon_short[k].ph != NULL; k++) {
		l = strlen(anon_short[k].shortph);
		if (strncmp(s + i, anon_short[k].shortph, l) == 0)
			return l;
	}
	return 0;
}

/*
 * Whether the scrubbed text s may go up unreviewed; on false *why says
 * why.  Placeholders are blanked first so that nothing that came from a
 * replacement counts.
 */
static bool
anon_vouch(const struct anon_ctx *ctx, const char *s, char **why)
{
	struct anon_norm	 nm0, *nm = &nm0;
	char			*t;
	size_t			 n, i, l;
	bool			 ok;

	if (why != NULL)
		*why = NULL;
	anon_norm_init(nm, s, strlen(s), false, false);
	if (nm->failed) {
		anon_norm_free(nm);
		return anon_refuse(why, "out of memory while checking");
	}
	t = nm->t;
	n = nm->len;
	for (i = 0; i < n; i++) {
		if ((l = anon_placeholder_at(t, i)) > 0) {
			memset(t + i, 1, l);
			i += l - 1;
		}
	}
	ok = anon_vouch_lookalike(ctx, nm, t, n, why) &&
	    anon_vouch_ja(nm, t, n, why) && anon_vouch_latin(nm, t, n, why) &&
	    anon_vouch_tokens(nm, t, n, why) &&
	    anon_vouch_postal(nm, t, n, why);
	anon_norm_free(nm);
	return ok;
}
#undef AT

char *
anon_scrub_within(const char *text, const struct dir_org *reporter,
    const struct directory *dir, const char *const *extra, size_t nextra,
    size_t max, bool *vouched, char **why, unsigned *replaced)
{
	struct anon_ctx	 ctx;
	unsigned	 count = 0;
	char		*out;
	bool		 cut;

	(void)dir;
	*vouched = false;
	if (why != NULL)
		*why = NULL;
	if (replaced != NULL)
		*replaced = 0;
	if (text == NULL)
		text = "";
	if (anon_ctx_init(&ctx, reporter, extra, nextra) == -1)
		return NULL;
	out = anon_ctx_scrub_within(&ctx, text, ANON_TEXT, false, max, &count,
	    &cut);
	if (out != NULL && cut)
		*vouched = anon_refuse(why, "scrubbed, the text does not fit "
		    "in %zu bytes and was cut there: a person must decide",
		    max);
	else if (out != NULL)
		*vouched = anon_vouch(&ctx, out, why);
	anon_ctx_free(&ctx);
	if (out == NULL) {
		if (why != NULL) {
			free(*why);
			*why = NULL;
		}
		return NULL;
	}
	if (replaced != NULL)
		*replaced = count;
	return out;
}

char *
anon_scrub_extra(const char *text, const struct dir_org *reporter,
    const struct directory *dir, const char *const *extra, size_t nextra,
    bool *vouched, char **why, unsigned *replaced)
{
	return anon_scrub_within(text, reporter, dir, extra, nextra,
	    anon_default_bound(text != NULL ? strlen(text) : 0), vouched, why,
	    replaced);
}

char *
anon_scrub(const char *text, const struct dir_org *reporter,
    const struct directory *dir, bool *vouched, char **why,
    unsigned *replaced)
{
	return anon_scrub_extra(text, reporter, dir, NULL, 0, vouched, why,
	    replaced);
}

/* Collects the spans anon_find_identifiers returns. */
struct anon_found {
	struct anon_span	*v;
	size_t			 n;
	bool			 nomem;
};

/* Add one span. */
static void
anon_found_hit(void *arg, size_t os, size_t oe, const char *ph)
{
	struct anon_found	*f = arg;
	struct anon_span	*nv;

	if (f->nomem)
		return;
	if ((nv = reallocarray(f->v, f->n + 1, sizeof(*nv))) == NULL) {
		f->nomem = true;
		return;
	}
	f->v = nv;
	f->v[f->n].kind = ph;
	f->v[f->n].offset = os;
	f->v[f->n].len = oe - os;
	f->n++;
}

int
anon_find_identifiers(const char *text, const struct dir_org *reporter,
    const char *const *extra, size_t nextra, struct anon_span **spans,
    size_t *nspans)
{
	struct anon_ctx		ctx;
	struct anon_found	f;
	int			rv;

	*spans = NULL;
	*nspans = 0;
	if (text == NULL || reporter == NULL)
		return 0;
	memset(&f, 0, sizeof(f));
	if (anon_ctx_init(&ctx, reporter, extra, nextra) == -1)
		return -1;
	ctx.registered_only = true;
	rv = anon_scan(&ctx, text, strlen(text), ANON_INDICATOR,
	    anon_found_hit, &f);
	anon_ctx_free(&ctx);
	if (rv == -1 || f.nomem) {
		free(f.v);
		return -1;
	}
	*spans = f.v;
	*nspans = f.n;
	return 0;
}

/* ---- The report ------------------------------------------------------ */

/* One anonymisation under way: the copy, the context, what was found. */
struct anon_job {
	struct anon_ctx		 ctx;
	struct anon_buf		 why;
	bool			 vouched;
	bool			 compact;	/* short markers everywhere */
	unsigned		 replaced;
	bool			 nomem;
};

/* Note that the string at path cannot be vouched for, and why. */
static void
anon_job_refuse(struct anon_job *job, const char *path, const char *w)
{
	job->vouched = false;
	if (job->why.len > 0)
		anon_buf_str(&job->why, "; ");
	anon_buf_printf(&job->why, "%s: %s", path,
	    w != NULL ? w : "cannot be vouched for");
}

/* Note why the string s at path cannot be vouched for, if it cannot. */
static void
anon_job_vouch(struct anon_job *job, const char *path, const char *s)
{
	char	*w = NULL;

	if (anon_vouch(&job->ctx, s, &w))
		return;
	anon_job_refuse(job, path, w);
	free(w);
}

/*
 * Scrub the string *f (owned by the copy) in place: no longer than the
 * field's max nor than the default bound of its length (see the top).
 */
static bool
anon_job_scrub(struct anon_job *job, const char *path, char **f, size_t max,
    enum anon_mode mode)
{
	char	*s, w[128];
	size_t	 bound;
	bool	 cut;

	if (*f == NULL)
		return false;
	bound = anon_default_bound(strlen(*f));
	if (bound > max)
		bound = max;
	if ((s = anon_ctx_scrub_within(&job->ctx, *f, mode, job->compact,
	    bound, &job->replaced, &cut)) == NULL) {
		job->nomem = true;
		return false;
	}
	if (cut) {
		snprintf(w, sizeof(w), "scrubbed, it does not fit in %zu "
		    "bytes and was cut there: a person must decide", bound);
		anon_job_refuse(job, path, w);
	}
	free(*f);
	*f = s;
	return true;
}

/* Scrub and judge the free text *f; path names it in reasons. */
static void
anon_job_text(struct anon_job *job, const char *path, char **f, size_t max,
    enum anon_mode mode)
{
	if (anon_job_scrub(job, path, f, max, mode))
		anon_job_vouch(job, path, *f);
}

/* Whether a scrubbed indicator value is nothing but placeholders. */
static bool
anon_only_placeholders(const char *s)
{
	size_t	i, l;

	for (i = 0; s[i] != '\0';) {
		if ((l = anon_placeholder_at(s, i)) > 0) {
			i += l;
			continue;
		}
		if (anon_alnum((unsigned char)s[i]) ||
		    (unsigned char)s[i] >= 0x80)
			return false;
		i++;
	}
	return true;
}

/*
 * Indicators: values lose the reporter's own identifiers, and go when
 * nothing else is left; comments are free text.  Reasons use the index
 * in the anonymised form, like the offsets in them.
 */
static void
anon_job_indicators(struct anon_job *job, Ceptoar__Report *r)
{
	Ceptoar__Indicator	*ind;
	unsigned		 before;
	char			 path[64];
	size_t			 i, kept = 0;

	for (i = 0; i < r->n_indicators; i++) {
		ind = r->indicators[i];
		before = job->replaced;
		snprintf(path, sizeof(path), "report.indicators[%zu].value",
		    kept);
		if (anon_job_scrub(job, path, &ind->value, 4096,
		    ANON_INDICATOR) &&
		    job->replaced != before &&
		    anon_only_placeholders(ind->value)) {
			/* Counted once: one identifier went. */
			job->replaced = before + 1;
			ceptoar__indicator__free_unpacked(ind, NULL);
			continue;
		}
		if (ind->value != NULL) {
			snprintf(path, sizeof(path), "report.indicators[%zu]."
			    "value", kept);
			anon_job_vouch(job, path, ind->value);
		}
		snprintf(path, sizeof(path), "report.indicators[%zu].comment",
		    kept);
		anon_job_text(job, path, &ind->comment, VALIDATE_MAX_SHORT,
		    ANON_TEXT);
		r->indicators[kept++] = ind;
	}
	r->n_indicators = kept;
}

/* Set *f to a copy of s; false when out of memory. */
static bool
anon_set(char **f, const char *s)
{
	char	*c = NULL;

	if (s != NULL && (c = strdup(s)) == NULL)
		return false;
	free(*f);
	*f = c;
	return true;
}

/*
 * The contact becomes the secretariat's, which relays questions to the
 * reporter: -1 with a cause when the directory gives no way to reach it.
 */
static int
anon_contact(Ceptoar__Report *r, const struct dir_ceptoar *c,
    const struct dir_org *sec, char **cause)
{
	Ceptoar__Contact	*ct;
	char			*name = NULL, *unit = NULL;

	if ((sec->contact_phone == NULL || *sec->contact_phone == '\0') &&
	    (sec->contact_email == NULL || *sec->contact_email == '\0')) {
		cause_set(cause, "CEPTOAR %s's secretariat %s has no phone "
		    "or email in the directory, so nobody could relay a "
		    "question to the reporter; add a contact to organisation "
		    "%s", c->id, sec->id, sec->id);
		return -1;
	}
	if ((ct = malloc(sizeof(*ct))) == NULL)
		goto nomem;
	ceptoar__contact__init(ct);
	if (asprintf(&name, "%s secretariat (relays questions to the "
	    "reporter)", c->name != NULL ? c->name : c->id) == -1)
		name = NULL;
	if (asprintf(&unit, "via CEPTOAR %s", c->id) == -1)
		unit = NULL;
	ct->name = name;
	ct->unit = unit;
	if (name == NULL || unit == NULL ||
	    !anon_set(&ct->phone, sec->contact_phone) ||
	    !anon_set(&ct->email, sec->contact_email)) {
		ceptoar__contact__free_unpacked(ct, NULL);
		goto nomem;
	}
	anon_truncate(ct->name, VALIDATE_MAX_SHORT);
	if (r->contact != NULL)
		ceptoar__contact__free_unpacked(r->contact, NULL);
	r->contact = ct;
	return 0;
nomem:
	*cause = strdup("out of memory replacing the contact");
	return -1;
}

/* The reporter's own id leaves the sharing range's organisations. */
static void
anon_sharing(Ceptoar__SharingRange *s, const struct dir_org *reporter)
{
	size_t	i, kept = 0;

	if (s == NULL)
		return;
	for (i = 0; i < s->n_organisations; i++) {
		if (strcmp(s->organisations[i], reporter->id) == 0) {
			free(s->organisations[i]);
			continue;
		}
		s->organisations[kept++] = s->organisations[i];
	}
	s->n_organisations = kept;
}

/* Fields each message type is known to have and is handled above. */
static const char *const anon_known_message[] = {
	"uuid", "tlp", "drill", "report", NULL
};
static const char *const anon_known_report[] = {
	"kind", "contact", "legally_mandated", "legal_basis", "cause",
	"event_type", "severity", "sharing", "attribution", "stage",
	"chain_id", "revision", "sector", "title", "affected_service",
	"affected_systems", "impact", "indicators", "free_text",
	"occurred_at", "detected_at", "ceptoar", "retracted", "pseudonym",
	"flags", NULL
};
static const char *const anon_known_contact[] = {
	"name", "phone", "email", "unit", NULL
};
static const char *const anon_known_severity[] = {
	"continuity", "safety", "trust", "overall", NULL
};
static const char *const anon_known_sharing[] = {
	"scope", "sectors", "organisations", NULL
};
static const char *const anon_known_impact[] = {
	"users_affected", "duration_minutes", "kw_lost", "households",
	"description", NULL
};
static const char *const anon_known_indicator[] = {
	"type", "value", "comment", NULL
};
static const char *const anon_known_none[] = { NULL };

/* The known fields of descriptor d; none for any other message. */
static const char *const *
anon_known(const ProtobufCMessageDescriptor *d)
{
	if (d == &ceptoar__message__descriptor)
		return anon_known_message;
	if (d == &ceptoar__report__descriptor)
		return anon_known_report;
	if (d == &ceptoar__contact__descriptor)
		return anon_known_contact;
	if (d == &ceptoar__severity__descriptor)
		return anon_known_severity;
	if (d == &ceptoar__sharing_range__descriptor)
		return anon_known_sharing;
	if (d == &ceptoar__impact__descriptor)
		return anon_known_impact;
	if (d == &ceptoar__indicator__descriptor)
		return anon_known_indicator;
	return anon_known_none;
}

/*
 * What this file was not written for: unknown wire fields go, a field
 * it does not know is scrubbed (strings), walked (messages) or dropped
 * (anything else), so that a field added to the protocol later cannot
 * carry the reporter's name past the anonymiser unnoticed.
 */
static void
anon_job_guard(struct anon_job *job, ProtobufCMessage *m, const char *path)
{
	const ProtobufCMessageDescriptor	*d = m->descriptor;
	const ProtobufCFieldDescriptor		*f;
	const char *const			*known = anon_known(d);
	char					*base = (char *)m;
	char					 fpath[160];
	size_t					 i, j, k, n;
	bool					 isknown;

	for (i = 0; i < m->n_unknown_fields; i++)
		free(m->unknown_fields[i].data);
	free(m->unknown_fields);
	m->unknown_fields = NULL;
	m->n_unknown_fields = 0;
	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		for (k = 0, isknown = false; known[k] != NULL; k++)
			if (strcmp(known[k], f->name) == 0)
				isknown = true;
		snprintf(fpath, sizeof(fpath), "%s%s%s", path,
		    *path ? "." : "", f->name);
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(uint32_t *)(base + f->quantifier_offset) != f->id)
			continue;
		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			if (f->label == PROTOBUF_C_LABEL_REPEATED) {
				n = *(size_t *)(base + f->quantifier_offset);
				for (j = 0; j < n; j++)
					anon_job_guard(job, (*(ProtobufCMessage
					    ***)(base + f->offset))[j], fpath);
			} else if (*(ProtobufCMessage **)(base + f->offset) !=
			    NULL)
				anon_job_guard(job, *(ProtobufCMessage **)
				    (base + f->offset), fpath);
			continue;
		}
		if (isknown)
			continue;
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			if (f->label == PROTOBUF_C_LABEL_REPEATED) {
				n = *(size_t *)(base + f->quantifier_offset);
				for (j = 0; j < n; j++)
					anon_job_text(job, fpath, &(*(char ***)
					    (base + f->offset))[j],
					    VALIDATE_MAX_TEXT, ANON_TEXT);
			} else
				anon_job_text(job, fpath,
				    (char **)(base + f->offset),
				    VALIDATE_MAX_TEXT, ANON_TEXT);
			continue;
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(size_t *)(base + f->quantifier_offset);
			if (f->type == PROTOBUF_C_TYPE_BYTES)
				for (j = 0; j < n; j++)
					free((*(ProtobufCBinaryData **)(base +
					    f->offset))[j].data);
			free(*(void **)(base + f->offset));
			*(void **)(base + f->offset) = NULL;
			*(size_t *)(base + f->quantifier_offset) = 0;
		} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
		    f->quantifier_offset != 0 &&
		    !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			*(protobuf_c_boolean *)(base + f->quantifier_offset) =
			    0;
	}
}


void
anon_clear_trail(Ceptoar__Message *m)
{
	size_t	i;

	for (i = 0; i < m->n_hop_notes; i++)
		ceptoar__hop_note__free_unpacked(m->hop_notes[i], NULL);
	free(m->hop_notes);
	m->hop_notes = NULL;
	m->n_hop_notes = 0;
	free(m->relay);
	m->relay = NULL;
}

/* Fail anon_report with a sentence; always -1. */
static int __attribute__((format(printf, 2, 3)))
anon_fail(char **cause, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	cause_vset(cause, fmt, ap);
	va_end(ap);
	return -1;
}

/* One pass of anon_report, with the long markers or the short ones. */
static int
anon_report_pass(const Ceptoar__Message *m, const struct dir_org *reporter,
    const struct dir_ceptoar *c, const struct directory *dir,
    const struct anon_policy *pol, bool compact, struct anon_result *out,
    char **cause)
{
	struct anon_job		 job;
	struct validate_error	 err;
	const struct dir_org	*sec;
	Ceptoar__Message	*cm = NULL;
	Ceptoar__Report		*r;
	Ceptoar__Impact		*im;
	const Ceptoar__Contact	*oc;
	const char		*extra[3], *chain;
	char			 uuid[37], pseud[ANON_PSEUDONYM_LEN], path[64];
	size_t			 i;

	memset(out, 0, sizeof(*out));
	memset(&job, 0, sizeof(job));
	*cause = NULL;
	if (m == NULL || m->content_case != CEPTOAR__MESSAGE__CONTENT_REPORT ||
	    m->report == NULL)
		return anon_fail(cause, "only reports are anonymised");
	if (reporter == NULL || c == NULL || dir == NULL || pol == NULL)
		return anon_fail(cause, "anonymising needs the reporter, its "
		    "CEPTOAR, the directory and a policy");
	if (m->uuid == NULL || *m->uuid == '\0')
		return anon_fail(cause, "uuid: is required to anonymise");
	if ((sec = directory_org(dir, c->secretariat)) == NULL)
		return anon_fail(cause, "CEPTOAR %s's secretariat %s is not "
		    "in the directory", c->id, c->secretariat);
	if ((cm = frame_message_copy(m)) == NULL)
		return anon_fail(cause, "out of memory copying the report");
	r = cm->report;
	if (anon_contact(r, c, sec, cause) == -1)
		goto fail;

	oc = m->report->contact;
	extra[0] = oc != NULL ? oc->name : NULL;
	extra[1] = oc != NULL ? oc->phone : NULL;
	extra[2] = oc != NULL ? oc->email : NULL;
	if (anon_ctx_init(&job.ctx, reporter, extra, 3) == -1)
		goto nomem;
	job.vouched = true;
	job.compact = compact;

	/* Identity: uuid, chain and pseudonym, all keyed. */
	chain = m->report->chain_id != NULL && *m->report->chain_id != '\0' ?
	    m->report->chain_id : m->uuid;
	anon_uuid(pol, reporter->id, m->uuid, uuid);
	if (!anon_set(&cm->uuid, uuid))
		goto nomem;
	anon_uuid(pol, reporter->id, chain, uuid);
	if (!anon_set(&r->chain_id, uuid))
		goto nomem;
	anon_pseudonym(pol, reporter->id, chain, pseud);
	if (!anon_set(&r->pseudonym, pseud))
		goto nomem;
	sodium_memzero(uuid, sizeof(uuid));
	sodium_memzero(pseud, sizeof(pseud));
	anon_clear_trail(cm);

	if (r->sector == NULL && !anon_set(&r->sector, c->sector))
		goto nomem;
	if (r->ceptoar == NULL && !anon_set(&r->ceptoar, c->id))
		goto nomem;
	anon_sharing(r->sharing, reporter);

	if (r->has_occurred_at)
		r->occurred_at = anon_coarsen_time(pol, r->occurred_at);
	if (r->has_detected_at)
		r->detected_at = anon_coarsen_time(pol, r->detected_at);
	if ((im = r->impact) != NULL) {
		if (im->has_users_affected)
			im->users_affected = anon_bucket(im->users_affected);
		if (im->has_kw_lost)
			im->kw_lost = anon_bucket(im->kw_lost);
		if (im->has_households)
			im->households = anon_bucket(im->households);
		if (im->has_duration_minutes)
			im->duration_minutes =
			    anon_duration(im->duration_minutes);
		anon_job_text(&job, "report.impact.description",
		    &im->description, VALIDATE_MAX_TEXT, ANON_TEXT);
	}

	anon_job_text(&job, "report.title", &r->title, VALIDATE_MAX_SHORT,
	    ANON_TEXT);
	anon_job_text(&job, "report.affected_service", &r->affected_service,
	    VALIDATE_MAX_SHORT, ANON_TEXT);
	for (i = 0; i < r->n_affected_systems; i++) {
		snprintf(path, sizeof(path), "report.affected_systems[%zu]", i);
		anon_job_text(&job, path, &r->affected_systems[i], 2048,
		    ANON_TEXT);
	}
	anon_job_text(&job, "report.legal_basis", &r->legal_basis,
	    VALIDATE_MAX_SHORT, ANON_TEXT);
	anon_job_text(&job, "report.free_text", &r->free_text,
	    VALIDATE_MAX_TEXT, ANON_TEXT);
	anon_job_indicators(&job, r);
	anon_job_guard(&job, &cm->base, "");
	if (job.nomem || job.why.failed)
		goto nomem;

	if (validate_message(cm, &err) == -1) {
		anon_fail(cause, "the anonymised report does not validate: "
		    "%s: %s", err.field, err.reason);
		goto fail;
	}
	out->msg = cm;
	out->vouched = job.vouched;
	out->why = job.vouched ? NULL : anon_buf_take(&job.why);
	out->replaced = job.replaced;
	if (!job.vouched && out->why == NULL) {
		out->msg = NULL;
		goto nomem;
	}
	free(job.why.p);
	anon_ctx_free(&job.ctx);
	return 0;
nomem:
	free(*cause);
	*cause = strdup("out of memory while anonymising");
fail:
	free(job.why.p);
	anon_ctx_free(&job.ctx);
	if (cm != NULL)
		ceptoar__message__free_unpacked(cm, NULL);
	return -1;
}

int
anon_report(const Ceptoar__Message *m, const struct dir_org *reporter,
    const struct dir_ceptoar *c, const struct directory *dir,
    const struct anon_policy *pol, struct anon_result *out, char **cause)
{
	size_t	insize, outsize, bound;

	if (anon_report_pass(m, reporter, c, dir, pol, false, out, cause) ==
	    -1)
		return -1;
	insize = ceptoar__message__get_packed_size(m);
	bound = insize + insize / 8 + ANON_FORM_SLACK;
	if (pol->max_form != 0 && pol->max_form < bound)
		bound = pol->max_form;
	if ((outsize = ceptoar__message__get_packed_size(out->msg)) <= bound)
		return 0;
	/* Too large with the long markers: the short ones never grow. */
	anon_result_free(out);
	if (anon_report_pass(m, reporter, c, dir, pol, true, out, cause) ==
	    -1)
		return -1;
	outsize = ceptoar__message__get_packed_size(out->msg);
	if (pol->max_form != 0 && outsize > pol->max_form) {
		anon_result_free(out);
		return anon_fail(cause, "the anonymised form would be %zu "
		    "bytes, more than the %zu the hub can carry: the report "
		    "(%zu bytes) must be shorter", outsize, pol->max_form,
		    insize);
	}
	return 0;
}

void
anon_result_free(struct anon_result *ar)
{
	if (ar == NULL)
		return;
	if (ar->msg != NULL)
		ceptoar__message__free_unpacked(ar->msg, NULL);
	free(ar->why);
	memset(ar, 0, sizeof(*ar));
}
