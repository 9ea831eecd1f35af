/*
 * The routing policy, pure: a message, its sender and the directory go
 * in; the recipients, hop by hop, each with the reason it receives the
 * message and the form it receives it in, come out.  No sockets, no
 * store, no clock, so every rule is a table test.
 *
 * The rules, in DOMAIN.md's words:
 *   - a mandatory report goes to its sector's liaisons, then to NISC;
 *   - a voluntary report goes to the reporter's CEPTOAR secretariat, then
 *     anonymised to the liaisons, then to NISC;
 *   - an advisory goes from NISC to the chosen sectors' liaisons, then to
 *     those sectors' CEPTOAR secretariats, then to their members;
 *   - an early warning goes from NISC, or from a related agency by prior
 *     agreement, to named CEPTOARs or operators with a handling
 *     agreement, with a copy to the liaisons of their sectors (and to
 *     NISC, from an agency);
 *   - an agency's advisory goes to NISC; a CEPTOAR's goes through the
 *     CEPTOAR Council to the other CEPTOARs that take part;
 *   - what goes beyond the path is a share, checked against TLP 2.0, the
 *     reporter's sharing range and its attribution consent.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptoard.h"
#include "strhash.h"
#include "names.h"

#define ROUTE_GOVERNMENT	(ROLE_LIAISON | ROLE_NISC | ROLE_AGENCY)

/* Set a refusal: *code and a malloc'd sentence; return -1. */
static int __attribute__((format(printf, 4, 5)))
route_refuse(Ceptoar__ErrorCode *code, char **cause, Ceptoar__ErrorCode c,
    const char *fmt, ...)
{
	va_list	ap;

	*code = c;
	va_start(ap, fmt);
	cause_vset(cause, fmt, ap);
	va_end(ap);
	return -1;
}

/* The out-of-memory refusal, shared by every rule. */
static int
route_nomem(Ceptoar__ErrorCode *code, char **cause)
{
	return route_refuse(code, cause, CEPTOAR__ERROR_CODE__ERROR_INTERNAL,
	    "out of memory while routing");
}

/*
 * Whether org already has an entry in out: 1 yes, 0 no, -1 out of
 * memory.  The table is brought up to date with v first, and made anew
 * when it was dropped (route_restrict) or would fill past half.  With a
 * thousand recipients a scan of v per addition was half a million string
 * comparisons per message.
 */
static int
route_seen(struct route_result *out, const char *org)
{
	size_t	*nv, cap, mask, i, j;

	if (out->seen == NULL || (out->n + 1) * 2 > out->seencap) {
		cap = out->seencap ? out->seencap : 32;
		while ((out->n + 1) * 2 > cap)
			cap *= 2;
		if ((nv = calloc(cap, sizeof(*nv))) == NULL)
			return -1;
		free(out->seen);
		out->seen = nv;
		out->seencap = cap;
		out->nseen = 0;
	}
	mask = out->seencap - 1;
	for (i = out->nseen; i < out->n; i++) {
		j = strhash(out->v[i].org) & mask;
		while (out->seen[j] != 0)
			j = (j + 1) & mask;
		out->seen[j] = i + 1;
	}
	out->nseen = out->n;
	for (j = strhash(org) & mask; out->seen[j] != 0; j = (j + 1) & mask)
		if (strcmp(out->v[out->seen[j] - 1].org, org) == 0)
			return 1;
	return 0;
}

/*
 * Add org at hop in form, once: an organisation reached by two rules
 * keeps the first (earliest) one.  The sender never receives its own
 * message.  Returns -1 only when out of memory.
 */
static int __attribute__((format(printf, 7, 8)))
route_add(struct route_result *out, const struct dir_org *sender,
    const struct dir_org *o, unsigned hop, int form, bool review,
    const char *fmt, ...)
{
	struct route_entry	*nv, *e;
	va_list			 ap;

	if (o == NULL || o == sender)
		return 0;
	switch (route_seen(out, o->id)) {
	case -1:
		return -1;
	case 1:
		return 0;
	}
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 16;
		if ((nv = reallocarray(out->v, cap, sizeof(*nv))) == NULL)
			return -1;
		out->v = nv;
		out->cap = cap;
	}
	e = &out->v[out->n++];
	memset(e, 0, sizeof(*e));
	e->org = o->id;
	e->hop = hop;
	e->form = form;
	e->review = review;
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
	if (hop + 1 > out->nhops)
		out->nhops = hop + 1;
	return 0;
}

/*
 * Tag the entries added since from: via is the hop holder that relays
 * them (NULL at hop 0), group the holders that may release the next hop
 * together (a sector's liaisons, a CEPTOAR's secretariat).
 */
static void
route_tag(struct route_result *out, size_t from, const char *via,
    const char *prefix, const char *arg)
{
	size_t	i;

	for (i = from; i < out->n; i++) {
		out->v[i].via = via;
		snprintf(out->v[i].group, sizeof(out->v[i].group), "%s%s",
		    prefix, arg ? arg : "");
	}
}

/* The first organisation added since from, or NULL if none was. */
static const char *
route_first(const struct route_result *out, size_t from)
{
	return out->n > from ? out->v[from].org : NULL;
}

/* Every NISC organisation at hop. */
static int
route_add_nisc(struct route_result *out, const struct dir_org *sender,
    const struct directory *dir, unsigned hop, int form, bool review,
    const char *why)
{
	size_t	i;

	for (i = 0; i < dir->norgs; i++)
		if ((dir->orgs[i].roles & ROLE_NISC) &&
		    route_add(out, sender, &dir->orgs[i], hop, form, review,
		    "%s", why) == -1)
			return -1;
	return 0;
}

/* The liaisons appointed for sector, at hop. */
static int
route_add_liaisons(struct route_result *out, const struct dir_org *sender,
    const struct directory *dir, const struct dir_sector *sec, unsigned hop,
    int form, bool review, const char *why)
{
	const struct dir_org	*o;
	size_t			 i;

	for (i = 0; i < dir->norgs; i++) {
		o = &dir->orgs[i];
		if ((o->roles & ROLE_LIAISON) &&
		    directory_org_in_sector(o, sec->id) &&
		    route_add(out, sender, o, hop, form, review,
		    "%s: liaison of sector %s (%s)", why, sec->id,
		    o->ministry ? o->ministry : "-") == -1)
			return -1;
	}
	return 0;
}

/* Whether any liaison of sector reviews before passing reports up. */
static bool
route_liaisons_review(const struct directory *dir, const struct dir_sector *s)
{
	size_t	i;

	for (i = 0; i < dir->norgs; i++)
		if ((dir->orgs[i].roles & ROLE_LIAISON) &&
		    directory_org_in_sector(&dir->orgs[i], s->id) &&
		    dir->orgs[i].forward_up == FORWARD_REVIEW)
			return true;
	return false;
}

/* Whether any liaison of sector reviews before passing provision down. */
static bool
route_liaisons_review_down(const struct directory *dir,
    const struct dir_sector *s)
{
	size_t	i;

	for (i = 0; i < dir->norgs; i++)
		if ((dir->orgs[i].roles & ROLE_LIAISON) &&
		    directory_org_in_sector(&dir->orgs[i], s->id) &&
		    dir->orgs[i].forward_down == FORWARD_REVIEW)
			return true;
	return false;
}

const struct dir_sector *
route_report_sector(const Ceptoar__Report *r, const struct dir_org *sender,
    const struct directory *dir)
{
	if (r->sector != NULL)
		return directory_sector(dir, r->sector);
	if (sender->nsectors > 0)
		return directory_sector(dir, sender->sectors[0]);
	return NULL;
}

/* Whether o is a government party: the ones "government only" names. */
static bool
route_is_government(const struct dir_org *o)
{
	return (o->roles & ROUTE_GOVERNMENT) != 0;
}

/* A report is voluntary unless a law requires it. */
static bool
route_voluntary(const Ceptoar__Report *r)
{
	return !(r->has_legally_mandated && r->legally_mandated);
}

int
route_form_for(const Ceptoar__Report *r, const struct dir_org *originator,
    const struct dir_org *recipient)
{
	int	consent;

	if (recipient == originator)
		return CEPTOAR__FORM__FORM_ORIGINAL;
	if (r->has_attribution)
		consent = r->attribution;
	else
		consent = route_voluntary(r) ?
		    CEPTOAR__ATTRIBUTION__ATTRIBUTION_NOBODY :
		    CEPTOAR__ATTRIBUTION__ATTRIBUTION_GOVERNMENT;
	switch (consent) {
	case CEPTOAR__ATTRIBUTION__ATTRIBUTION_EVERYONE:
		return CEPTOAR__FORM__FORM_ORIGINAL;
	case CEPTOAR__ATTRIBUTION__ATTRIBUTION_GOVERNMENT:
		return route_is_government(recipient) ?
		    CEPTOAR__FORM__FORM_ORIGINAL : CEPTOAR__FORM__FORM_ANONYMISED;
	default:
		return CEPTOAR__FORM__FORM_ANONYMISED;
	}
}

/* The CEPTOAR of sector sec that relays a voluntary report from sender. */
static const struct dir_ceptoar *
route_relay(const Ceptoar__Report *r, const struct dir_org *sender,
    const struct dir_sector *sec, const struct directory *dir)
{
	const struct dir_ceptoar	*c;
	size_t				 i;

	if (r->ceptoar != NULL) {
		c = directory_ceptoar(dir, r->ceptoar);
		if (c != NULL && strcmp(c->sector, sec->id) == 0 &&
		    directory_org_in_ceptoar(sender, c->id))
			return c;
		return NULL;
	}
	for (i = 0; i < sender->nceptoars; i++) {
		c = directory_ceptoar(dir, sender->ceptoars[i]);
		if (c != NULL && strcmp(c->sector, sec->id) == 0)
			return c;
	}
	return NULL;
}

/*
 * A report goes up.  Mandatory: liaisons, then NISC.  Voluntary: the
 * secretariat, then the liaisons and NISC in the form the reporter's
 * consent allows (anonymised unless it says otherwise).  A sharing range
 * of "NISC only" skips the liaisons.
 */
static int
route_report(const Ceptoar__Message *m, const struct dir_org *sender,
    const struct directory *dir, struct route_result *out,
    Ceptoar__ErrorCode *code, char **cause)
{
	const Ceptoar__Report		*r = m->report;
	const struct dir_sector		*sec;
	const struct dir_ceptoar	*c;
	const struct dir_org		*secretariat, *liaison = NULL;
	bool				 nisc_only, review;
	unsigned			 hop;
	size_t				 i, n;
	int				 form;

	if ((sender->roles & ROLE_OPERATOR) == 0)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
		    "%s is not an operator; only operators submit reports",
		    sender->id);
	if (r->sector == NULL && sender->nsectors == 0)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    "report.sector: %s belongs to no sector; name one",
		    sender->id);
	if ((sec = route_report_sector(r, sender, dir)) == NULL)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    "report.sector: no sector \"%s\" in the directory",
		    r->sector);
	if (!directory_org_in_sector(sender, sec->id))
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
		    "report.sector: %s is not in sector %s", sender->id,
		    sec->id);
	if (!route_voluntary(r) && r->has_kind &&
	    r->kind != CEPTOAR__REPORT_KIND__REPORT_INCIDENT)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    "report.kind: a %s report is voluntary; it cannot be "
		    "legally mandated", names_lookup(names_report_kind,
		    r->kind));
	nisc_only = r->sharing != NULL && r->sharing->has_scope &&
	    r->sharing->scope == CEPTOAR__SHARING_SCOPE__SHARING_NISC_ONLY;

	if (!route_voluntary(r)) {
		/* Attributable by law: the original, all the way. */
		if (nisc_only) {
			if (route_add_nisc(out, sender, dir, 0,
			    CEPTOAR__FORM__FORM_ORIGINAL, false,
			    "mandatory report shared with NISC only") == -1)
				return route_nomem(code, cause);
			route_tag(out, 0, NULL, "nisc", NULL);
			return 0;
		}
		if (route_add_liaisons(out, sender, dir, sec, 0,
		    CEPTOAR__FORM__FORM_ORIGINAL, false,
		    "mandatory report from the sector") == -1)
			return route_nomem(code, cause);
		route_tag(out, 0, NULL, "sector:", sec->id);
		n = out->n;
		hop = n > 0 ? 1 : 0;
		review = hop == 1 && route_liaisons_review(dir, sec);
		if (route_add_nisc(out, sender, dir, hop,
		    CEPTOAR__FORM__FORM_ORIGINAL, review, hop ?
		    "mandatory report relayed to NISC by the sector's liaison" :
		    "mandatory report to NISC (the sector has no liaison)") == -1)
			return route_nomem(code, cause);
		route_tag(out, n, route_first(out, 0), "nisc", NULL);
		return 0;
	}

	if ((c = route_relay(r, sender, sec, dir)) == NULL)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
		    r->ceptoar != NULL ? "report.ceptoar: %s is not a member "
		    "of CEPTOAR %s of sector %s" : "report.legally_mandated: "
		    "%s is in no CEPTOAR of sector %s, and a voluntary report "
		    "travels through one; submit it as a mandatory report or "
		    "join a CEPTOAR", sender->id, r->ceptoar != NULL ?
		    r->ceptoar : sec->id, sec->id);
	if ((secretariat = directory_org(dir, c->secretariat)) == NULL)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_INTERNAL,
		    "CEPTOAR %s has no secretariat in the directory", c->id);
	out->ceptoar = c;
	out->anonymity_set = c->nmembers;
	if (route_add(out, sender, secretariat, 0,
	    CEPTOAR__FORM__FORM_ORIGINAL, false,
	    "voluntary report: secretariat of CEPTOAR %s relays it", c->id)
	    == -1)
		return route_nomem(code, cause);
	route_tag(out, 0, NULL, "ceptoar:", c->id);
	review = secretariat->forward_up == FORWARD_REVIEW;
	hop = 1;
	n = out->n;
	if (!nisc_only) {
		for (i = 0; i < dir->norgs; i++) {
			const struct dir_org *o = &dir->orgs[i];

			if (!(o->roles & ROLE_LIAISON) ||
			    !directory_org_in_sector(o, sec->id))
				continue;
			form = route_form_for(r, sender, o);
			if (route_add(out, sender, o, hop, form, review,
			    "voluntary report via CEPTOAR %s (%s): liaison of "
			    "sector %s", c->id, names_lookup(names_form, form),
			    sec->id) == -1)
				return route_nomem(code, cause);
			liaison = o;
		}
		route_tag(out, n, secretariat->id, "sector:", sec->id);
		if (liaison != NULL) {
			hop = 2;
			review = route_liaisons_review(dir, sec);
		}
	}
	i = out->n;
	for (size_t k = 0; k < dir->norgs; k++) {
		const struct dir_org *o = &dir->orgs[k];

		if (!(o->roles & ROLE_NISC))
			continue;
		form = route_form_for(r, sender, o);
		if (route_add(out, sender, o, hop, form, review,
		    "voluntary report via CEPTOAR %s (%s)", c->id,
		    names_lookup(names_form, form)) == -1)
			return route_nomem(code, cause);
	}
	route_tag(out, i, liaison != NULL ? route_first(out, n) :
	    secretariat->id, "nisc", NULL);
	return 0;
}

/*
 * The provision chain of sector sec: its liaisons at hop 0, the
 * secretariats of its CEPTOARs next, their members after.  what names the
 * message in reasons; with review, each hop waits for its holders when
 * the directory says they review what goes down.
 */
static int
route_add_chain(struct route_result *out, const struct dir_org *sender,
    const struct directory *dir, const struct dir_sector *sec,
    const char *what, bool review)
{
	const struct dir_ceptoar	*c;
	const struct dir_org		*o, *s;
	const int			 orig = CEPTOAR__FORM__FORM_ORIGINAL;
	const char			*liaison;
	size_t				 j, k, n0 = out->n, n1;
	unsigned			 hop;
	bool				 liaison_review;

	liaison_review = review && route_liaisons_review_down(dir, sec);
	if (route_add_liaisons(out, sender, dir, sec, 0, orig, false, what)
	    == -1)
		return -1;
	route_tag(out, n0, NULL, "sector:", sec->id);
	liaison = route_first(out, n0);
	hop = liaison != NULL ? 1 : 0;
	for (j = 0; j < dir->nceptoars; j++) {
		c = &dir->ceptoars[j];
		if (strcmp(c->sector, sec->id) != 0)
			continue;
		s = directory_org(dir, c->secretariat);
		n1 = out->n;
		if (route_add(out, sender, s, hop, orig, hop > 0 &&
		    liaison_review, "%s of sector %s: secretariat of CEPTOAR %s",
		    what, sec->id, c->id) == -1)
			return -1;
		route_tag(out, n1, liaison, "ceptoar:", c->id);
		n1 = out->n;
		for (k = 0; k < c->nmembers; k++) {
			o = directory_org(dir, c->members[k]);
			if (route_add(out, sender, o, hop + 1, orig, review &&
			    s != NULL && s->forward_down == FORWARD_REVIEW,
			    "%s of sector %s: member of CEPTOAR %s", what,
			    sec->id, c->id) == -1)
				return -1;
		}
		route_tag(out, n1, s ? s->id : NULL, "member:", c->id);
	}
	return 0;
}

/* Refuse the first of the n sectors named in field not in the directory. */
static int
route_sectors_exist(const struct directory *dir, const char *field,
    char **ids, size_t n, Ceptoar__ErrorCode *code, char **cause)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (directory_sector(dir, ids[i]) == NULL)
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
			    "%s[%zu]: no sector \"%s\" in the directory",
			    field, i, ids[i]);
	return 0;
}

/*
 * The sectors a message names in field (n of them), each checked against
 * the directory before any is routed, then the chain of each: its
 * liaisons, its CEPTOARs' secretariats and their members.
 */
static int
route_sector_chains(struct route_result *out, const struct dir_org *sender,
    const struct directory *dir, const char *field, char **ids, size_t n,
    const char *what, bool review, Ceptoar__ErrorCode *code, char **cause)
{
	size_t	i;

	if (route_sectors_exist(dir, field, ids, n, code, cause) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (route_add_chain(out, sender, dir,
		    directory_sector(dir, ids[i]), what, review) == -1)
			return route_nomem(code, cause);
	return 0;
}

/* The CEPTOAR whose secretariat org is, taking part in the Council. */
static const struct dir_ceptoar *
route_council_ceptoar(const struct directory *dir, const struct dir_org *org,
    const struct dir_ceptoar **any)
{
	size_t	i;

	*any = NULL;
	for (i = 0; i < dir->nceptoars; i++) {
		if (strcmp(dir->ceptoars[i].secretariat, org->id) != 0)
			continue;
		*any = &dir->ceptoars[i];
		if (dir->ceptoars[i].council)
			return &dir->ceptoars[i];
	}
	return NULL;
}

/*
 * Sharing between CEPTOARs through the CEPTOAR Council (DOMAIN.md flow
 * 6): a CEPTOAR that takes part sends to the Council (hop 0), which
 * passes it to the secretariats of the other CEPTOARs that take part in
 * the sectors named (hop 1); the Council itself sends to them at hop 0.
 * The CEPTOARs pass it to their members with forward, as for any
 * provision.  The label must allow the onward sharing at hop 1.
 */
static int
route_council(const Ceptoar__Message *m, const struct dir_org *sender,
    const struct directory *dir, struct route_result *out,
    Ceptoar__ErrorCode *code, char **cause)
{
	const Ceptoar__Advisory		*a = m->advisory;
	const struct dir_ceptoar	*own = NULL, *any, *c;
	const struct dir_org		*council = NULL, *s;
	const int			 orig = CEPTOAR__FORM__FORM_ORIGINAL;
	size_t				 i, j, n0;
	unsigned			 hop = 0;

	/* Every refusal before anything is added: a refused plan is empty. */
	if (m->tlp == CEPTOAR__TLP__TLP_RED ||
	    m->tlp == CEPTOAR__TLP__TLP_AMBER_STRICT)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_TLP_REFUSED,
		    "tlp: %s does not allow the onward sharing the CEPTOAR "
		    "Council passes it through; label it TLP:AMBER or wider",
		    names_lookup(names_tlp, m->tlp));
	if (route_sectors_exist(dir, "advisory.sectors", a->sectors,
	    a->n_sectors, code, cause) == -1)
		return -1;
	if ((sender->roles & ROLE_COUNCIL) == 0) {
		if ((own = route_council_ceptoar(dir, sender, &any)) == NULL)
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
			    "CEPTOAR %s does not take part in the CEPTOAR "
			    "Council (council: false in the directory); only "
			    "NISC sends advisories to sectors", any ? any->id :
			    sender->id);
		for (i = 0; i < dir->norgs; i++)
			if (dir->orgs[i].roles & ROLE_COUNCIL) {
				council = &dir->orgs[i];
				break;
			}
		if (council == NULL)
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_NO_RECIPIENTS,
			    "the directory names no CEPTOAR Council "
			    "(an organisation with role council)");
		if (route_add(out, sender, council, 0, orig, false,
		    "shared through the CEPTOAR Council by CEPTOAR %s",
		    own->id) == -1)
			return route_nomem(code, cause);
		route_tag(out, 0, NULL, "council", NULL);
		hop = 1;
	}
	n0 = out->n;
	for (i = 0; i < a->n_sectors; i++) {
		for (j = 0; j < dir->nceptoars; j++) {
			c = &dir->ceptoars[j];
			if (!c->council || c == own ||
			    strcmp(c->sector, a->sectors[i]) != 0)
				continue;
			s = directory_org(dir, c->secretariat);
			if (route_add(out, sender, s, hop, orig, hop > 0 &&
			    council->forward_down == FORWARD_REVIEW,
			    "shared through the CEPTOAR Council: secretariat of "
			    "CEPTOAR %s (sector %s)", c->id, c->sector) == -1)
				return route_nomem(code, cause);
		}
	}
	route_tag(out, n0, council ? council->id : NULL, "ceptoar:", NULL);
	if (out->n == n0) {
		out->n = 0;
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_NO_RECIPIENTS,
		    "advisory.sectors: no other CEPTOAR of the sectors named "
		    "takes part in the CEPTOAR Council");
	}
	return 0;
}

/*
 * A related agency feeds what it learns to NISC, which decides what goes
 * further: its advisory reaches NISC alone.
 */
static int
route_agency_feed(const Ceptoar__Message *m, const struct dir_org *sender,
    const struct directory *dir, struct route_result *out,
    Ceptoar__ErrorCode *code, char **cause)
{
	const Ceptoar__Advisory	*a = m->advisory;

	if (route_sectors_exist(dir, "advisory.sectors", a->sectors,
	    a->n_sectors, code, cause) == -1)
		return -1;
	if (route_add_nisc(out, sender, dir, 0, CEPTOAR__FORM__FORM_ORIGINAL,
	    false, "information from a related agency, for NISC") == -1)
		return route_nomem(code, cause);
	route_tag(out, 0, NULL, "nisc", NULL);
	return 0;
}

/*
 * Normal provision: NISC to the chosen sectors' liaisons, then the
 * CEPTOARs of those sectors (their secretariats), then the CEPTOARs'
 * member operators.  Each hop past the first is onward sharing, so only
 * labels that allow it travel this path.  From a CEPTOAR or the Council
 * an advisory goes through the Council instead, and from a related
 * agency to NISC.
 */
static int
route_advisory(const Ceptoar__Message *m, const struct dir_org *sender,
    const struct directory *dir, struct route_result *out,
    Ceptoar__ErrorCode *code, char **cause)
{
	const Ceptoar__Advisory		*a = m->advisory;

	if ((sender->roles & ROLE_NISC) == 0 &&
	    (sender->roles & (ROLE_CEPTOAR | ROLE_COUNCIL)) != 0)
		return route_council(m, sender, dir, out, code, cause);
	if ((sender->roles & ROLE_NISC) == 0 &&
	    (sender->roles & ROLE_AGENCY) != 0)
		return route_agency_feed(m, sender, dir, out, code, cause);
	if ((sender->roles & ROLE_NISC) == 0)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
		    "%s is not NISC; only NISC sends advisories", sender->id);
	if (m->tlp == CEPTOAR__TLP__TLP_RED ||
	    m->tlp == CEPTOAR__TLP__TLP_AMBER_STRICT)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_TLP_REFUSED,
		    "tlp: %s does not allow the onward sharing an advisory "
		    "travels through (liaisons to CEPTOARs to members); label "
		    "it TLP:AMBER or wider, or send an early warning to named "
		    "recipients", names_lookup(names_tlp, m->tlp));
	return route_sector_chains(out, sender, dir, "advisory.sectors",
	    a->sectors, a->n_sectors, "advisory", true, code, cause);
}

/*
 * Urgent early warning: NISC to named recipients with a handling
 * agreement (liaisons need none), with a copy to the liaisons of their
 * sectors unless the label is TLP:RED.  Nothing is routed unless every
 * named recipient is valid.
 */
static int
route_early_warning(const Ceptoar__Message *m, const struct dir_org *sender,
    const struct directory *dir, struct route_result *out,
    Ceptoar__ErrorCode *code, char **cause)
{
	const Ceptoar__EarlyWarning	*w = m->early_warning;
	const struct dir_org		*o;
	const struct dir_sector		*sec;
	const int			 orig = CEPTOAR__FORM__FORM_ORIGINAL;
	size_t				 i, j;

	bool				 agency;

	/* Related agencies warn by prior agreement recorded in the directory. */
	agency = (sender->roles & ROLE_NISC) == 0 &&
	    (sender->roles & ROLE_AGENCY) != 0;
	if (agency && !sender->handling_agreement)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
		    "%s is a related agency with no agreement with NISC on "
		    "record (handling_agreement in the directory) to send "
		    "early warnings", sender->id);
	if ((sender->roles & ROLE_NISC) == 0 && !agency)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
		    "%s is neither NISC nor a related agency; only they send "
		    "early warnings", sender->id);
	for (i = 0; i < w->n_recipients; i++) {
		if ((o = directory_org(dir, w->recipients[i])) == NULL)
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
			    "early_warning.recipients[%zu]: no organisation "
			    "\"%s\" in the directory; nothing was sent", i,
			    w->recipients[i]);
		if ((o->roles & (ROLE_OPERATOR | ROLE_CEPTOAR |
		    ROLE_LIAISON)) == 0)
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
			    "early_warning.recipients[%zu]: %s is neither a "
			    "CEPTOAR, an operator nor a liaison; nothing was "
			    "sent", i, o->id);
		if (!(o->roles & ROLE_LIAISON) && !o->handling_agreement)
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
			    "early_warning.recipients[%zu]: %s has no handling "
			    "agreement with NISC on record; nothing was sent",
			    i, o->id);
	}
	for (i = 0; i < w->n_recipients; i++) {
		o = directory_org(dir, w->recipients[i]);
		if (route_add(out, sender, o, 0, orig, false, "early warning: "
		    "named recipient%s", (o->roles & ROLE_LIAISON) ? "" :
		    " with a handling agreement") == -1)
			return route_nomem(code, cause);
	}
	route_tag(out, 0, NULL, "recipient", NULL);
	/* NISC hears of every warning an agency sends, whatever its label. */
	if (agency && route_add_nisc(out, sender, dir, 0, orig, false,
	    "copy of an early warning from a related agency") == -1)
		return route_nomem(code, cause);
	route_tag(out, 0, NULL, "recipient", NULL);
	if (m->tlp == CEPTOAR__TLP__TLP_RED) {
		snprintf(out->warning, sizeof(out->warning), "TLP:RED: the "
		    "liaisons of the recipients' sectors get no copy; name "
		    "them as recipients to include them");
		return 0;
	}
	for (i = 0; i < w->n_recipients; i++) {
		o = directory_org(dir, w->recipients[i]);
		for (j = 0; j < o->nsectors; j++)
			if ((sec = directory_sector(dir, o->sectors[j])) !=
			    NULL && route_add_liaisons(out, sender, dir, sec, 0,
			    orig, false, "copy of an early warning") == -1)
				return route_nomem(code, cause);
	}
	route_tag(out, 0, NULL, "recipient", NULL);
	return 0;
}

/* Consultation: an operator asks its sector's liaisons, or NISC. */
static int
route_consultation(const Ceptoar__Message *m, const struct dir_org *sender,
    const struct directory *dir, struct route_result *out,
    Ceptoar__ErrorCode *code, char **cause)
{
	const Ceptoar__Consultation	*q = m->consultation;
	const struct dir_sector		*sec;
	const char			*sid;

	if ((sender->roles & (ROLE_OPERATOR | ROLE_CEPTOAR)) == 0)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
		    "%s is neither an operator nor a CEPTOAR; consultations "
		    "come from them", sender->id);
	if (q->to != NULL && strcmp(q->to, "nisc") == 0) {
		if (route_add_nisc(out, sender, dir, 0,
		    CEPTOAR__FORM__FORM_ORIGINAL, false,
		    "consultation addressed to NISC") == -1)
			return route_nomem(code, cause);
		route_tag(out, 0, NULL, "nisc", NULL);
		return 0;
	}
	sid = q->sector ? q->sector : sender->nsectors ? sender->sectors[0] :
	    NULL;
	if (sid == NULL || (sec = directory_sector(dir, sid)) == NULL ||
	    !directory_org_in_sector(sender, sec->id))
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    "consultation.sector: %s is not in sector \"%s\"",
		    sender->id, sid ? sid : "(none)");
	if (route_add_liaisons(out, sender, dir, sec, 0,
	    CEPTOAR__FORM__FORM_ORIGINAL, false,
	    "consultation from the sector") == -1)
		return route_nomem(code, cause);
	route_tag(out, 0, NULL, "sector:", sec->id);
	return 0;
}

/*
 * Communication check: NISC checks the whole chain (liaisons, CEPTOAR
 * secretariats, members) of the chosen sectors, or of every sector; a
 * CEPTOAR secretariat checks its own members.
 */
static int
route_comm_check(const Ceptoar__Message *m, const struct dir_org *sender,
    const struct directory *dir, struct route_result *out,
    Ceptoar__ErrorCode *code, char **cause)
{
	const Ceptoar__CommCheck	*k = m->comm_check;
	const struct dir_ceptoar	*c;
	const struct dir_org		*o;
	const int			 orig = CEPTOAR__FORM__FORM_ORIGINAL;
	size_t				 i, j;

	if (sender->roles & ROLE_NISC) {
		if (k->n_sectors > 0)
			return route_sector_chains(out, sender, dir,
			    "comm_check.sectors", k->sectors, k->n_sectors,
			    "communication check", false, code, cause);
		for (i = 0; i < dir->nsectors; i++)
			if (route_add_chain(out, sender, dir, &dir->sectors[i],
			    "communication check", false) == -1)
				return route_nomem(code, cause);
		return 0;
	}
	if ((sender->roles & ROLE_CEPTOAR) == 0)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
		    "%s may not start a communication check; NISC checks the "
		    "chain, a CEPTOAR secretariat its members", sender->id);
	if (k->n_sectors > 0)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    "comm_check.sectors: a CEPTOAR checks its own members; "
		    "only NISC names sectors");
	for (i = 0; i < dir->nceptoars; i++) {
		c = &dir->ceptoars[i];
		if (strcmp(c->secretariat, sender->id) != 0)
			continue;
		for (j = 0; j < c->nmembers; j++) {
			o = directory_org(dir, c->members[j]);
			if (route_add(out, sender, o, 0, orig, false,
			    "communication check: member of CEPTOAR %s", c->id)
			    == -1)
				return route_nomem(code, cause);
		}
	}
	route_tag(out, 0, NULL, "member", NULL);
	return 0;
}

int
route_message(const Ceptoar__Message *m, const struct dir_org *sender,
    const struct directory *dir, struct route_result *out,
    Ceptoar__ErrorCode *code, char **cause)
{
	*cause = NULL;
	switch (m->content_case) {
	case CEPTOAR__MESSAGE__CONTENT_REPORT:
		return route_report(m, sender, dir, out, code, cause);
	case CEPTOAR__MESSAGE__CONTENT_ADVISORY:
		return route_advisory(m, sender, dir, out, code, cause);
	case CEPTOAR__MESSAGE__CONTENT_EARLY_WARNING:
		return route_early_warning(m, sender, dir, out, code, cause);
	case CEPTOAR__MESSAGE__CONTENT_CONSULTATION:
		return route_consultation(m, sender, dir, out, code, cause);
	case CEPTOAR__MESSAGE__CONTENT_COMM_CHECK:
		return route_comm_check(m, sender, dir, out, code, cause);
	case CEPTOAR__MESSAGE__CONTENT_REPLY:
	case CEPTOAR__MESSAGE__CONTENT_WIDEN_REQUEST:
	case CEPTOAR__MESSAGE__CONTENT_CONSENT_ANSWER:
	case CEPTOAR__MESSAGE__CONTENT_CHECK_ANSWER:
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_INTERNAL,
		    "an answer is routed along what it answers");
	default:
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    "content: the message carries nothing to route");
	}
}

/*
 * An answer goes back the way what it answers came: straight to the
 * sender, or, for an anonymised chain, through the relaying secretariat so
 * that neither side learns more than the chain already showed it.
 */
int
route_reply(const Ceptoar__Message *m, const struct dir_org *sender,
    const struct route_ref *ref, const struct directory *dir,
    struct route_result *out, Ceptoar__ErrorCode *code, char **cause)
{
	const struct dir_org	*to, *relay, *originator;
	const int		 orig = CEPTOAR__FORM__FORM_ORIGINAL;
	const int		 anon = CEPTOAR__FORM__FORM_ANONYMISED;
	const char		*what;

	*cause = NULL;
	switch (m->content_case) {
	case CEPTOAR__MESSAGE__CONTENT_REPLY:
		what = "reply";
		break;
	case CEPTOAR__MESSAGE__CONTENT_WIDEN_REQUEST:
		what = "request to widen the sharing range";
		if ((sender->roles & (ROLE_NISC | ROLE_LIAISON)) == 0)
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
			    "%s is neither NISC nor a liaison; only they ask "
			    "to widen a report's range", sender->id);
		if (ref->kind == NULL || strcmp(ref->kind, "report") != 0)
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
			    "widen_request.hub_id: %s is not a report",
			    ref->hub_id);
		break;
	case CEPTOAR__MESSAGE__CONTENT_CONSENT_ANSWER:
		what = "consent answer";
		if (ref->kind == NULL || strcmp(ref->kind, "widen_request"))
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
			    "consent_answer.request: %s is not a request to "
			    "widen a range", ref->hub_id);
		break;
	case CEPTOAR__MESSAGE__CONTENT_CHECK_ANSWER:
		what = "check answer";
		if (ref->kind == NULL || strcmp(ref->kind, "comm_check"))
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
			    "check_answer.check: %s is not a communication "
			    "check", ref->hub_id);
		break;
	default:
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_INTERNAL,
		    "route_reply takes answers only");
	}
	/* Identical wording whether absent or not visible: no oracle. */
	if (!ref->received)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_NOT_FOUND,
		    "no message %s among those you received", ref->hub_id);
	if (ref->relay == NULL) {
		/* A check answer goes to whoever started the check. */
		to = directory_org(dir, m->content_case ==
		    CEPTOAR__MESSAGE__CONTENT_CHECK_ANSWER && ref->originator ?
		    ref->originator : ref->sender);
		if (to == NULL)
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_NO_RECIPIENTS,
			    "the sender of %s is no longer in the directory",
			    ref->hub_id);
		if (route_add(out, sender, to, 0, orig, false, "%s to %s",
		    what, ref->hub_id) == -1)
			return route_nomem(code, cause);
		route_tag(out, 0, NULL, "answer", NULL);
		return 0;
	}
	if ((relay = directory_org(dir, ref->relay)) == NULL ||
	    (originator = directory_org(dir, ref->originator)) == NULL)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_NO_RECIPIENTS,
		    "the relay of %s is no longer in the directory",
		    ref->hub_id);
	for (size_t i = 0; i < dir->nceptoars; i++)
		if (strcmp(dir->ceptoars[i].secretariat, relay->id) == 0) {
			out->ceptoar = &dir->ceptoars[i];
			break;
		}
	if (ref->form == anon && sender != originator) {
		/* Down to the pseudonym: the relay passes it on, unseen. */
		if (route_add(out, sender, relay, 0, orig, false,
		    "%s to a pseudonym: secretariat relays it", what) == -1 ||
		    route_add(out, sender, originator, 1, orig,
		    relay->forward_down == FORWARD_REVIEW,
		    "%s to your report, relayed by your CEPTOAR", what) == -1)
			return route_nomem(code, cause);
		route_tag(out, 0, NULL, "relay", NULL);
		route_tag(out, 1, relay->id, "answer", NULL);
		out->v[out->n - 1].hidden = true;
		return 0;
	}
	/* Up from the reporter: the relay passes it on, anonymised. */
	if ((to = directory_org(dir, ref->sender)) == NULL)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_NO_RECIPIENTS,
		    "the sender of %s is no longer in the directory",
		    ref->hub_id);
	if (route_add(out, sender, relay, 0, orig, false,
	    "%s from a member: secretariat relays it", what) == -1 ||
	    route_add(out, sender, to, 1, anon,
	    relay->forward_up == FORWARD_REVIEW, "%s from a pseudonym, "
	    "relayed by CEPTOAR secretariat %s", what, relay->id) == -1)
		return route_nomem(code, cause);
	route_tag(out, 0, NULL, "relay", NULL);
	route_tag(out, 1, relay->id, "answer", NULL);
	return 0;
}

const char *
route_tlp_check(int tlp, const struct dir_org *holder,
    const struct dir_org *recipient, const struct directory *dir, char *buf,
    size_t len)
{
	const struct dir_ceptoar	*c;
	size_t				 i;

	if (recipient == holder)
		return NULL;
	switch (tlp) {
	case CEPTOAR__TLP__TLP_CLEAR:
	case CEPTOAR__TLP__TLP_GREEN:
		/* GREEN: the community, which is the hub's participants. */
		return NULL;
	case CEPTOAR__TLP__TLP_AMBER:
		if (holder->roles & ROLE_NISC)
			return NULL;	/* NISC's clients: the whole community */
		if (holder->roles & ROLE_LIAISON)
			for (i = 0; i < holder->nsectors; i++)
				if (directory_org_in_sector(recipient,
				    holder->sectors[i]))
					return NULL;
		if (holder->roles & ROLE_CEPTOAR)
			for (i = 0; i < dir->nceptoars; i++) {
				c = &dir->ceptoars[i];
				if (strcmp(c->secretariat, holder->id) == 0 &&
				    directory_org_in_ceptoar(recipient, c->id))
					return NULL;
			}
		snprintf(buf, len, "TLP:AMBER: %s may share only within its "
		    "organisation and its clients (%s), and %s is not one",
		    holder->id, (holder->roles & ROLE_LIAISON) ?
		    "its sectors" : (holder->roles & ROLE_CEPTOAR) ?
		    "its CEPTOAR's members" : "none", recipient->id);
		return buf;
	case CEPTOAR__TLP__TLP_AMBER_STRICT:
		snprintf(buf, len, "TLP:AMBER+STRICT: the message stays within "
		    "%s; it may not go to %s", holder->id, recipient->id);
		return buf;
	case CEPTOAR__TLP__TLP_RED:
		snprintf(buf, len, "TLP:RED: for its named recipients only; "
		    "%s may not pass it on to %s", holder->id, recipient->id);
		return buf;
	}
	snprintf(buf, len, "unknown TLP label %d", tlp);
	return buf;
}

/* Whether o is the secretariat or a member of CEPTOAR c. */
static bool
route_in_ceptoar(const struct dir_org *o, const struct dir_ceptoar *c)
{
	return strcmp(c->secretariat, o->id) == 0 ||
	    directory_org_in_ceptoar(o, c->id);
}

const char *
route_range_check(const Ceptoar__SharingRange *range,
    const struct dir_org *originator, const char *sector,
    const struct dir_ceptoar *c, const struct dir_org *recipient,
    const struct directory *dir, bool blind, char *buf, size_t len)
{
	int	scope;
	size_t	i;

	/*
	 * The originator may always have its own report back, but only a
	 * holder that knows it may be told so: for the holder of the
	 * anonymised form it is a member like any other, or "forward --to
	 * CANDIDATE" would tell it who reported.
	 */
	if ((!blind && recipient == originator) ||
	    (recipient->roles & ROLE_NISC))
		return NULL;
	/* The relaying secretariat acts for the reporter. */
	if (c != NULL && strcmp(c->secretariat, recipient->id) == 0)
		return NULL;
	scope = range != NULL && range->has_scope ? range->scope :
	    CEPTOAR__SHARING_SCOPE__SHARING_LIAISON_AND_NISC;
	if (scope == CEPTOAR__SHARING_SCOPE__SHARING_NISC_ONLY)
		goto refuse;
	if ((recipient->roles & ROLE_LIAISON) &&
	    directory_org_in_sector(recipient, sector))
		return NULL;
	switch (scope) {
	case CEPTOAR__SHARING_SCOPE__SHARING_SECTOR_CEPTOAR:
		for (i = 0; i < originator->nceptoars; i++) {
			const struct dir_ceptoar *oc = directory_ceptoar(dir,
			    originator->ceptoars[i]);
			if (oc != NULL && strcmp(oc->sector, sector) == 0 &&
			    route_in_ceptoar(recipient, oc))
				return NULL;
		}
		break;
	case CEPTOAR__SHARING_SCOPE__SHARING_NAMED_SECTORS:
		for (i = 0; i < originator->nceptoars; i++) {
			const struct dir_ceptoar *oc = directory_ceptoar(dir,
			    originator->ceptoars[i]);
			if (oc != NULL && strcmp(oc->sector, sector) == 0 &&
			    route_in_ceptoar(recipient, oc))
				return NULL;
		}
		for (i = 0; i < range->n_sectors; i++)
			if (directory_org_in_sector(recipient,
			    range->sectors[i]))
				return NULL;
		break;
	case CEPTOAR__SHARING_SCOPE__SHARING_NAMED_ORGANISATIONS:
		/* The anonymised form lists no originator (anon_sharing). */
		for (i = 0; i < range->n_organisations; i++)
			if (strcmp(range->organisations[i], recipient->id) == 0 &&
			    !(blind && recipient == originator))
				return NULL;
		break;
	default:
		break;
	}
refuse:
	snprintf(buf, len, "sharing range %s: %s is outside what the reporter "
	    "allowed; only the reporter can widen it",
	    names_lookup(names_sharing_scope, scope), recipient->id);
	return buf;
}

/* Scopes from the narrowest; named lists are compared by inclusion. */
static int
route_scope_rank(int scope)
{
	switch (scope) {
	case CEPTOAR__SHARING_SCOPE__SHARING_NISC_ONLY:
		return 0;
	case CEPTOAR__SHARING_SCOPE__SHARING_LIAISON_AND_NISC:
		return 1;
	case CEPTOAR__SHARING_SCOPE__SHARING_SECTOR_CEPTOAR:
	case CEPTOAR__SHARING_SCOPE__SHARING_NAMED_ORGANISATIONS:
		return 2;
	case CEPTOAR__SHARING_SCOPE__SHARING_NAMED_SECTORS:
		return 3;
	}
	return 4;
}

/*
 * Whether every entry of a is in b; skip (may be NULL) is in neither, as
 * the originator is not, for a holder of the anonymised form.
 */
static bool
route_subset(char **a, size_t na, char **b, size_t nb, const char *skip)
{
	size_t	i, j;

	for (i = 0; i < na; i++) {
		if (skip != NULL && strcmp(a[i], skip) == 0)
			return false;
		for (j = 0; j < nb; j++)
			if (strcmp(a[i], b[j]) == 0)
				break;
		if (j == nb)
			return false;
	}
	return true;
}

bool
route_range_narrower(const Ceptoar__SharingRange *want,
    const Ceptoar__SharingRange *have, const char *originator, bool blind)
{
	int	w = want->has_scope ? want->scope :
		    CEPTOAR__SHARING_SCOPE__SHARING_LIAISON_AND_NISC;
	int	h = have != NULL && have->has_scope ? have->scope :
		    CEPTOAR__SHARING_SCOPE__SHARING_LIAISON_AND_NISC;

	if (w == h) {
		if (w == CEPTOAR__SHARING_SCOPE__SHARING_NAMED_SECTORS)
			return route_subset(want->sectors, want->n_sectors,
			    have->sectors, have->n_sectors, NULL);
		if (w == CEPTOAR__SHARING_SCOPE__SHARING_NAMED_ORGANISATIONS)
			return route_subset(want->organisations,
			    want->n_organisations, have->organisations,
			    have->n_organisations, blind ? originator : NULL);
		return true;
	}
	if (w == CEPTOAR__SHARING_SCOPE__SHARING_NAMED_ORGANISATIONS ||
	    h == CEPTOAR__SHARING_SCOPE__SHARING_NAMED_ORGANISATIONS)
		return route_scope_rank(w) < route_scope_rank(h) &&
		    route_scope_rank(w) <= 1;
	return route_scope_rank(w) < route_scope_rank(h);
}

/*
 * Whether every entry of a other than ignore is in b: a list compared
 * with an anonymised copy of itself, which lists no originator.
 */
static bool
route_subset_but(char **a, size_t na, char **b, size_t nb,
    const char *ignore)
{
	size_t	i, j;

	for (i = 0; i < na; i++) {
		if (ignore != NULL && strcmp(a[i], ignore) == 0)
			continue;
		for (j = 0; j < nb; j++)
			if (strcmp(a[i], b[j]) == 0)
				break;
		if (j == nb)
			return false;
	}
	return true;
}

bool
route_range_narrowed(const Ceptoar__SharingRange *held,
    const Ceptoar__SharingRange *original, const char *originator)
{
	int	h, o;

	if (held == NULL || !route_range_narrower(held, original, originator,
	    false))
		return false;
	h = held->has_scope ? held->scope :
	    CEPTOAR__SHARING_SCOPE__SHARING_LIAISON_AND_NISC;
	o = original != NULL && original->has_scope ? original->scope :
	    CEPTOAR__SHARING_SCOPE__SHARING_LIAISON_AND_NISC;
	if (h != o)
		return true;
	if (h == CEPTOAR__SHARING_SCOPE__SHARING_NAMED_SECTORS)
		return !route_subset(original->sectors, original->n_sectors,
		    held->sectors, held->n_sectors, NULL);
	if (h == CEPTOAR__SHARING_SCOPE__SHARING_NAMED_ORGANISATIONS)
		return !route_subset_but(original->organisations,
		    original->n_organisations, held->organisations,
		    held->n_organisations, originator);
	return false;
}

/* The reporter's default range: narrower than any two lists of names. */
static const Ceptoar__SharingRange route_range_default = {
	.base = PROTOBUF_C_MESSAGE_INIT(&ceptoar__sharing_range__descriptor),
	.has_scope = 1,
	.scope = CEPTOAR__SHARING_SCOPE__SHARING_LIAISON_AND_NISC,
};

const Ceptoar__SharingRange *
route_range_tighter(const Ceptoar__SharingRange *a,
    const Ceptoar__SharingRange *b, const char *originator, bool blind)
{
	const Ceptoar__SharingRange *aa = a ? a : &route_range_default;
	const Ceptoar__SharingRange *bb = b ? b : &route_range_default;

	/* b first: of two equal ranges, b (the message's own) stays. */
	if (route_range_narrower(bb, aa, originator, blind))
		return b;
	if (route_range_narrower(aa, bb, originator, blind))
		return a;
	return &route_range_default;
}

/* A copy of a plan, entries and all. */
static int
route_copy(struct route_result *dst, const struct route_result *src)
{
	*dst = *src;
	dst->v = NULL;
	dst->cap = dst->n;
	dst->seen = NULL;	/* route_seen builds the copy's own */
	dst->seencap = dst->nseen = 0;
	/* The entries still point into src's ranges: src outlives the copy. */
	dst->ranges = NULL;
	dst->nranges = 0;
	if (src->n == 0)
		return 0;
	if ((dst->v = calloc(src->n, sizeof(*dst->v))) == NULL)
		return -1;
	memcpy(dst->v, src->v, src->n * sizeof(*dst->v));
	return 0;
}

/* Whether via is an organisation of group at hop in plan. */
static bool
route_via_in_group(const struct route_result *plan, const char *via,
    unsigned hop, const char *group)
{
	size_t	i;

	if (via == NULL)
		return false;
	for (i = 0; i < plan->n; i++)
		if (plan->v[i].hop == hop && strcmp(plan->v[i].org, via) == 0)
			return strcmp(plan->v[i].group, group) == 0;
	return false;
}

int
route_forward(const struct route_fwd *f, const struct directory *dir,
    struct route_result *out, Ceptoar__ErrorCode *code, char **cause)
{
	struct route_result		 plan;
	const Ceptoar__Report		*r = NULL;
	const struct dir_sector		*sec = NULL;
	const struct dir_ceptoar	*c = NULL;
	const struct dir_org		*o;
	const char			*why;
	char				 buf[256];
	const char			*group = "";
	size_t				 i, n0;
	bool				 held = false;
	int				 form;

	*cause = NULL;
	memset(&plan, 0, sizeof(plan));
	if (f->nrecipients == 0) {
		/* The next hop of the path the originator's message travels. */
		if (f->path != NULL) {
			if (route_copy(&plan, f->path) == -1)
				return route_nomem(code, cause);
		} else if (route_message(f->original, f->originator, dir,
		    &plan, code, cause) == -1)
			return -1;
		for (i = 0; i < plan.n; i++)
			if (strcmp(plan.v[i].org, f->holder->id) == 0 &&
			    plan.v[i].hop == f->holder_hop) {
				held = true;
				group = plan.v[i].group;
			}
		if (!held) {
			route_result_free(&plan);
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_NOT_HOLDER,
			    "%s does not hold hop %u of this message; only a "
			    "hop holder forwards it along its path",
			    f->holder->id, f->holder_hop);
		}
		for (i = 0; i < plan.n; i++) {
			const struct route_entry *e = &plan.v[i];
			size_t n = out->n;

			if (e->hop <= f->holder_hop)
				continue;
			/* The next hop: only what this holder's group relays. */
			if (e->hop == f->holder_hop + 1 &&
			    !route_via_in_group(&plan, e->via, f->holder_hop,
			    group))
				continue;
			if (route_add(out, f->originator,
			    directory_org(dir, e->org), e->hop, e->form,
			    e->hop > f->holder_hop + 1 && e->review, "%s",
			    e->reason) == -1) {
				route_result_free(&plan);
				return route_nomem(code, cause);
			}
			if (out->n > n) {
				out->v[n].hidden = e->hidden;
				out->v[n].via = e->via;
				out->v[n].tlp = e->tlp;
				out->v[n].range = e->range;
				snprintf(out->v[n].group, sizeof(out->v[n].group),
				    "%s", e->group);
			}
		}
		out->ceptoar = plan.ceptoar;
		out->anonymity_set = plan.anonymity_set;
		route_result_free(&plan);
		return 0;
	}

	/* A share: every recipient must pass TLP, range and consent. */
	if (f->original->content_case == CEPTOAR__MESSAGE__CONTENT_REPORT) {
		r = f->original->report;
		sec = route_report_sector(r, f->originator, dir);
		if (sec != NULL && route_voluntary(r))
			c = route_relay(r, f->originator, sec, dir);
	}
	for (i = 0; i < f->nrecipients; i++) {
		if ((o = directory_org(dir, f->recipients[i])) == NULL)
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
			    "forward.recipients[%zu]: no organisation \"%s\" in "
			    "the directory; nothing was sent", i,
			    f->recipients[i]);
		if ((why = route_tlp_check(f->tlp, f->holder, o, dir, buf,
		    sizeof(buf))) != NULL)
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_TLP_REFUSED,
			    "forward.recipients[%zu]: %s; nothing was sent", i,
			    why);
		if (r != NULL && sec != NULL && (why = route_range_check(
		    f->range, f->originator, sec->id, c, o, dir,
		    f->holder_form == CEPTOAR__FORM__FORM_ANONYMISED, buf,
		    sizeof(buf))) != NULL)
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_RANGE_REFUSED,
			    "forward.recipients[%zu]: %s; nothing was sent", i,
			    why);
	}
	n0 = out->n;
	for (i = 0; i < f->nrecipients; i++) {
		o = directory_org(dir, f->recipients[i]);
		form = f->holder_form;
		if (r != NULL && form == CEPTOAR__FORM__FORM_ORIGINAL)
			form = route_form_for(r, f->originator, o);
		if (route_add(out, f->holder, o, f->holder_hop + 1, form, false,
		    "shared by %s (%s)", f->holder->id,
		    names_lookup(names_form, form)) == -1)
			return route_nomem(code, cause);
	}
	route_tag(out, n0, f->holder->id, "share", NULL);
	return 0;
}

size_t
route_threshold_flags(const Ceptoar__Report *r, const struct dir_sector *s,
    char out[][160], size_t max)
{
	const Ceptoar__Impact	*im = r->impact;
	uint64_t		 have[4];
	unsigned		 got = 0;
	size_t			 i, n = 0, k;
	bool			 reached;

	if (im == NULL || s == NULL)
		return 0;
	if (im->has_users_affected) {
		have[THRESHOLD_USERS] = im->users_affected;
		got |= 1u << THRESHOLD_USERS;
	}
	if (im->has_duration_minutes) {
		have[THRESHOLD_MINUTES] = im->duration_minutes;
		got |= 1u << THRESHOLD_MINUTES;
	}
	if (im->has_kw_lost) {
		have[THRESHOLD_KW] = im->kw_lost;
		got |= 1u << THRESHOLD_KW;
	}
	if (im->has_households) {
		have[THRESHOLD_HOUSEHOLDS] = im->households;
		got |= 1u << THRESHOLD_HOUSEHOLDS;
	}
	for (i = 0; i < s->nthresholds && n < max; i++) {
		const struct dir_threshold *t = &s->thresholds[i];

		/* Every figure the threshold names must be given and reached. */
		reached = (t->set & got) == t->set;
		for (k = 0; k < 4 && reached; k++)
			if ((t->set & (1u << k)) && have[k] < t->min[k])
				reached = false;
		if (reached)
			snprintf(out[n++], 160, "threshold reached: %s",
			    t->label ? t->label : s->id);
	}
	return n;
}

int
route_extend(struct route_result *out, const struct directory *dir,
    const char *org, unsigned hop, int form, const char *via)
{
	const struct dir_org	*o = directory_org(dir, org);
	const struct dir_org	*v = via ? directory_org(dir, via) : NULL;
	size_t			 n = out->n;

	if (o == NULL)
		return 0;	/* gone from the directory: nothing to send */
	if (route_add(out, NULL, o, hop, form, false, "follow-up of a report "
	    "%s shared with you", v ? v->id : "the hub") == -1)
		return -1;
	route_tag(out, n, v ? v->id : NULL, "share", NULL);
	return 0;
}

bool
route_anonymises(const struct route_result *r)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		if (r->v[i].form == CEPTOAR__FORM__FORM_ANONYMISED)
			return true;
	return false;
}

void
route_restrict(struct route_result *r, const char *const *orgs, size_t n)
{
	size_t	i, j, k = 0;

	for (i = 0; i < r->n; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(r->v[i].org, orgs[j]) == 0)
				break;
		if (j < n)
			r->v[k++] = r->v[i];
	}
	r->n = k;
	/* Entries moved: route_seen builds its table anew. */
	free(r->seen);
	r->seen = NULL;
	r->seencap = r->nseen = 0;
}

/* The entry of plan for org at hop relayed by via, or NULL. */
static const struct route_entry *
route_find(const struct route_result *plan, const char *org, unsigned hop,
    const char *via)
{
	size_t	i;

	for (i = 0; i < plan->n; i++)
		if (plan->v[i].hop == hop && strcmp(plan->v[i].org, org) == 0 &&
		    (via == NULL ? plan->v[i].via == NULL :
		    plan->v[i].via != NULL && strcmp(plan->v[i].via, via) == 0))
			return &plan->v[i];
	return NULL;
}

/* Whether out has org at hop, from entry from on. */
static bool
route_has_from(const struct route_result *out, size_t from, const char *org,
    unsigned hop)
{
	size_t	i;

	if (org == NULL)
		return false;
	for (i = from; i < out->n; i++)
		if (out->v[i].hop == hop && strcmp(out->v[i].org, org) == 0)
			return true;
	return false;
}

/*
 * A copy of range that out owns (the rows it came from are the
 * caller's, and go before the plan does); NULL when out of memory.
 */
static const Ceptoar__SharingRange *
route_own_range(struct route_result *out, const Ceptoar__SharingRange *range)
{
	Ceptoar__SharingRange	**nv, *copy;
	uint8_t			 *buf;
	size_t			  len;

	len = ceptoar__sharing_range__get_packed_size(range);
	if ((buf = malloc(len ? len : 1)) == NULL)
		return NULL;
	ceptoar__sharing_range__pack(range, buf);
	copy = ceptoar__sharing_range__unpack(NULL, len, buf);
	free(buf);
	if (copy == NULL)
		return NULL;
	if ((nv = reallocarray(out->ranges, out->nranges + 1, sizeof(*nv))) ==
	    NULL) {
		ceptoar__sharing_range__free_unpacked(copy, NULL);
		return NULL;
	}
	out->ranges = nv;
	out->ranges[out->nranges++] = copy;
	return copy;
}

/*
 * A follow-up relayed along a share goes in the share's label and range
 * where they are tighter than its own: a holder that tightened what it
 * shared decided so for the whole chain, and the reporter's update must
 * not loosen it (nor let its recipient pass it on wider).  -1 only when
 * out of memory.
 */
static int
route_chain_share(struct route_result *out, struct route_entry *v,
    const Ceptoar__Message *m, const struct dir_org *sender,
    const struct route_chain_row *r)
{
	const Ceptoar__SharingRange	*t;
	int				 tlp = m->has_tlp ? (int)m->tlp :
					    CEPTOAR__TLP__TLP_RED;

	if (r->tlp > tlp)
		v->tlp = r->tlp;
	if (r->range == NULL)
		return 0;
	t = route_range_tighter(r->range, m->report->sharing, sender->id,
	    v->form == CEPTOAR__FORM__FORM_ANONYMISED);
	if (t == m->report->sharing)
		return 0;
	if (t == r->range && (t = route_own_range(out, r->range)) == NULL)
		return -1;
	v->range = t;
	return 0;
}

/* Whether a row holder still holds the first report at hop. */
static bool
route_row_holding(const struct route_chain_row *rows, size_t nrows,
    const char *org, unsigned hop)
{
	size_t	i;

	for (i = 0; i < nrows; i++)
		if (rows[i].holding && rows[i].hop == hop &&
		    strcmp(rows[i].org, org) == 0)
			return true;
	return false;
}

/*
 * A follow-up travels its chain's path.  Re-routing it and keeping who
 * got the first report is not enough: its own route may put them at
 * other hops (a first report shared with NISC only reached NISC at hop
 * 0; its update's route has NISC at hop 1 behind a liaison who never got
 * the chain), and the hub then had nobody at hop 0 to start from.
 */
int
route_chain(const Ceptoar__Message *m, const struct dir_org *sender,
    const Ceptoar__Message *first, const struct route_result *fresh,
    const struct route_chain_row *rows, size_t nrows,
    const struct directory *dir, struct route_result *out,
    Ceptoar__ErrorCode *code, char **cause)
{
	const struct route_entry	*e;
	const struct dir_org		*o;
	const char			*chain = m->report->chain_id;
	size_t				 i, n, before, rowsend;
	bool				 added, hop0 = false;
	int				 form;

	if (first->content_case != CEPTOAR__MESSAGE__CONTENT_REPORT)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    "report.chain_id: %s is your %s, not a report; a report "
		    "chain starts with a report (leave chain_id out to start "
		    "one)", chain, first->content_case ==
		    CEPTOAR__MESSAGE__CONTENT_CONSULTATION ? "consultation" :
		    "message");
	if (route_voluntary(first->report) != route_voluntary(m->report))
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    "report.chain_id: chain %s began as a %s report, and this "
		    "update is %s; a chain keeps the path of its first report "
		    "(set report.legally_mandated as in the first, or start a "
		    "new chain)", chain, route_voluntary(first->report) ?
		    "voluntary" : "mandatory", route_voluntary(m->report) ?
		    "voluntary" : "mandatory");
	/* A voluntary chain's secretariat relays every report of it. */
	for (i = 0; i < nrows && fresh->ceptoar != NULL; i++)
		if (rows[i].hop == 0 && (o = directory_org(dir, rows[i].org))
		    != NULL && (o->roles & ROLE_CEPTOAR) &&
		    strcmp(o->id, fresh->ceptoar->secretariat) != 0)
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
			    "report.chain_id: chain %s travels through %s; "
			    "this update would go through CEPTOAR %s (check "
			    "report.ceptoar, or start a new chain)", chain,
			    o->id, fresh->ceptoar->id);
	out->ceptoar = fresh->ceptoar;
	out->anonymity_set = fresh->anonymity_set;
	snprintf(out->warning, sizeof(out->warning), "%s", fresh->warning);
	/* Rows come by hop: each row's relaying holder is placed first. */
	for (i = 0; i < nrows; i++) {
		const struct route_chain_row *r = &rows[i];

		if ((o = directory_org(dir, r->org)) == NULL)
			continue;	/* gone from the directory */
		if (r->hop > 0 && !route_has_from(out, 0, r->via, r->hop - 1))
			continue;	/* its relaying holder is not on the path */
		form = r->form;
		/*
		 * Never more than either the chain's path or m's consent
		 * allows; hop 0 gets the message as sent, as always.
		 */
		if (r->hop > 0 && route_form_for(m->report, sender, o) ==
		    CEPTOAR__FORM__FORM_ANONYMISED)
			form = CEPTOAR__FORM__FORM_ANONYMISED;
		e = route_find(fresh, r->org, r->hop, r->hop ? r->via : NULL);
		n = out->n;
		if (e != NULL) {
			if (route_add(out, sender, o, r->hop, form, e->review,
			    "%s", e->reason) == -1)
				return route_nomem(code, cause);
		} else if (route_add(out, sender, o, r->hop, form, false,
		    "follow-up in chain %s, as its first report reached you%s%s",
		    chain, r->hop ? " from " : "", r->hop ? r->via : "") == -1)
			return route_nomem(code, cause);
		if (out->n == n)
			continue;
		out->v[n].via = r->hop ? directory_org(dir, r->via)->id : NULL;
		out->v[n].hidden = r->hidden || (e != NULL && e->hidden);
		snprintf(out->v[n].group, sizeof(out->v[n].group), "%s",
		    e != NULL ? e->group : "share");
		if (e == NULL && r->hop > 0 &&
		    route_chain_share(out, &out->v[n], m, sender, r) == -1)
			return route_nomem(code, cause);
		if (r->hop == 0)
			hop0 = true;
	}
	if (!hop0)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_NO_RECIPIENTS,
		    "report.chain_id: nobody who got the first report of "
		    "chain %s straight from you can receive this update (gone "
		    "from the directory); start a new chain", chain);
	/*
	 * Where a holder still holds the first report, the update waits
	 * with it, and goes on along its own route once released.
	 */
	rowsend = out->n;
	do {
		added = false;
		for (i = 0; i < fresh->n; i++) {
			e = &fresh->v[i];
			if (e->hop == 0 || e->via == NULL ||
			    !route_has_from(out, 0, e->via, e->hop - 1))
				continue;
			if (!route_row_holding(rows, nrows, e->via, e->hop - 1) &&
			    !route_has_from(out, rowsend, e->via, e->hop - 1))
				continue;
			before = out->n;
			if (route_add(out, sender, directory_org(dir, e->org),
			    e->hop, e->form, e->review ||
			    route_row_holding(rows, nrows, e->via, e->hop - 1),
			    "%s", e->reason) == -1)
				return route_nomem(code, cause);
			if (out->n > before) {
				out->v[before].via = e->via;
				out->v[before].hidden = e->hidden;
				snprintf(out->v[before].group,
				    sizeof(out->v[before].group), "%s",
				    e->group);
				added = true;
			}
		}
	} while (added);
	return 0;
}

void
route_result_free(struct route_result *r)
{
	size_t	i;

	for (i = 0; i < r->nranges; i++)
		ceptoar__sharing_range__free_unpacked(r->ranges[i], NULL);
	free(r->ranges);
	free(r->v);
	free(r->seen);
	memset(r, 0, sizeof(*r));
}

int
route_relabel(const struct route_relabel *in, int *tlp,
    const Ceptoar__SharingRange **range, struct route_refusal *why)
{
	memset(why, 0, sizeof(*why));
	*tlp = in->held_tlp;
	*range = in->is_report ? in->held_range : NULL;
	if (in->has_tlp) {
		/* Labels are ordered from CLEAR to RED in the protocol. */
		if (in->tlp < in->held_tlp) {
			why->code = CEPTOAR__ERROR_CODE__ERROR_TLP_REFUSED;
			why->field = "forward.tlp";
			snprintf(why->reason, sizeof(why->reason), "forward.tlp: "
			    "%s is wider than the message's %s; a relay may "
			    "tighten a label, never loosen it",
			    names_lookup(names_tlp, in->tlp),
			    names_lookup(names_tlp, in->held_tlp));
			return -1;
		}
		*tlp = in->tlp;
	}
	if (in->sharing != NULL) {
		if (!in->is_report || !route_range_narrower(in->sharing,
		    in->held_range, in->originator, in->blind)) {
			why->code = CEPTOAR__ERROR_CODE__ERROR_RANGE_REFUSED;
			why->field = "forward.sharing";
			snprintf(why->reason, sizeof(why->reason),
			    "forward.sharing: it must be no wider than the "
			    "reporter's range; only the reporter can widen it");
			return -1;
		}
		*range = in->sharing;
	}
	return 0;
}

int
route_consent(const char *reporter, const char *answerer,
    struct route_refusal *why)
{
	memset(why, 0, sizeof(*why));
	if (strcmp(reporter, answerer) == 0)
		return 0;
	why->code = CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED;
	why->field = "consent_answer";
	snprintf(why->reason, sizeof(why->reason), "only the reporter can "
	    "widen the sharing range of its report");
	return -1;
}

int
route_anon_permitted(const struct route_result *plan, bool anon_ready,
    struct route_refusal *why)
{
	memset(why, 0, sizeof(*why));
	if (!route_anonymises(plan) || anon_ready)
		return 0;
	why->code = CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED;
	snprintf(why->reason, sizeof(why->reason), "this message would be "
	    "anonymised on its way, and the hub has no anon_key configured; "
	    "it was not accepted (ask the hub's operator, or submit it as a "
	    "mandatory, attributable report)");
	return -1;
}

bool
route_anon_set_warning(const struct route_result *plan, uint64_t anon_k,
    char *buf, size_t len)
{
	if (plan->ceptoar == NULL || !route_anonymises(plan) ||
	    plan->anonymity_set >= anon_k)
		return false;
	snprintf(buf, len, "CEPTOAR %s has %zu member%s, fewer than %llu: an "
	    "anonymised report from it is easy to trace back to its reporter",
	    plan->ceptoar->id, plan->anonymity_set,
	    plan->anonymity_set == 1 ? "" : "s", (unsigned long long)anon_k);
	return true;
}
