/*
 * The routing policy, pure: a message, its sender and the directory go
 * in; the recipients, each with the reason it receives the message, come
 * out.  No sockets, no store, no clock, so every rule is a table test.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceptoard.h"

/* Set a refusal: *code and a malloc'd sentence; return -1. */
static int __attribute__((format(printf, 4, 5)))
route_refuse(Ceptoar__ErrorCode *code, char **cause, Ceptoar__ErrorCode c,
    const char *fmt, ...)
{
	va_list	ap;

	*code = c;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	va_end(ap);
	return -1;
}

/*
 * Add org with a reason, once: an organisation reached by two rules keeps
 * the first reason.  The sender never receives its own message.
 */
static int __attribute__((format(printf, 4, 5)))
route_add(struct route_result *out, const struct dir_org *sender,
    const struct dir_org *o, const char *fmt, ...)
{
	struct route_entry	*nv;
	va_list			 ap;
	size_t			 i;

	if (o == sender)
		return 0;
	for (i = 0; i < out->n; i++)
		if (strcmp(out->v[i].org, o->id) == 0)
			return 0;
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 16;
		if ((nv = reallocarray(out->v, cap, sizeof(*nv))) == NULL)
			return -1;
		out->v = nv;
		out->cap = cap;
	}
	out->v[out->n].org = o->id;
	va_start(ap, fmt);
	vsnprintf(out->v[out->n].reason, sizeof(out->v[out->n].reason), fmt,
	    ap);
	va_end(ap);
	out->n++;
	return 0;
}

/* Every NISC organisation. */
static int
route_add_nisc(struct route_result *out, const struct dir_org *sender,
    const struct directory *dir, const char *why)
{
	size_t	i;

	for (i = 0; i < dir->norgs; i++)
		if ((dir->orgs[i].roles & ROLE_NISC) &&
		    route_add(out, sender, &dir->orgs[i], "%s", why) == -1)
			return -1;
	return 0;
}

/* The liaisons appointed for sector. */
static int
route_add_liaisons(struct route_result *out, const struct dir_org *sender,
    const struct directory *dir, const struct dir_sector *sec,
    const char *why)
{
	const struct dir_org	*o;
	size_t			 i;

	for (i = 0; i < dir->norgs; i++) {
		o = &dir->orgs[i];
		if ((o->roles & ROLE_LIAISON) &&
		    directory_org_in_sector(o, sec->id) &&
		    route_add(out, sender, o, "%s: liaison of sector %s (%s)",
		    why, sec->id, o->ministry ? o->ministry : "-") == -1)
			return -1;
	}
	return 0;
}

/* A report goes up: the liaisons of its sector and NISC. */
static int
route_report(const Ceptoar__Message *m, const struct dir_org *sender,
    const struct directory *dir, struct route_result *out,
    Ceptoar__ErrorCode *code, char **cause)
{
	const Ceptoar__Report	*r = m->report;
	const struct dir_sector	*sec;
	const char		*sector;
	bool			 nisc_only;

	if ((sender->roles & ROLE_OPERATOR) == 0)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
		    "%s is not an operator; only operators submit reports",
		    sender->id);
	if (r->sector != NULL)
		sector = r->sector;
	else if (sender->nsectors > 0)
		sector = sender->sectors[0];
	else
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    "report.sector: %s belongs to no sector; name one",
		    sender->id);
	if ((sec = directory_sector(dir, sector)) == NULL)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    "report.sector: no sector \"%s\" in the directory", sector);
	if (!directory_org_in_sector(sender, sec->id))
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
		    "report.sector: %s is not in sector %s", sender->id,
		    sec->id);
	nisc_only = r->sharing != NULL && r->sharing->has_scope &&
	    r->sharing->scope == CEPTOAR__SHARING_SCOPE__SHARING_NISC_ONLY;
	if (!nisc_only && route_add_liaisons(out, sender, dir, sec,
	    "report from the sector") == -1)
		goto nomem;
	if (route_add_nisc(out, sender, dir, nisc_only ?
	    "report shared with NISC only" : "NISC receives every report")
	    == -1)
		goto nomem;
	return 0;
nomem:
	return route_refuse(code, cause, CEPTOAR__ERROR_CODE__ERROR_INTERNAL,
	    "out of memory while routing");
}

/*
 * Normal provision: NISC to the chosen sectors' liaisons, the CEPTOARs of
 * those sectors (their secretariats) and the CEPTOARs' member operators.
 */
static int
route_advisory(const Ceptoar__Message *m, const struct dir_org *sender,
    const struct directory *dir, struct route_result *out,
    Ceptoar__ErrorCode *code, char **cause)
{
	const Ceptoar__Advisory	*a = m->advisory;
	const struct dir_sector	*sec;
	const struct dir_ceptoar *c;
	const struct dir_org	*o;
	size_t			 i, j, k;

	if ((sender->roles & ROLE_NISC) == 0)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
		    "%s is not NISC; only NISC sends advisories", sender->id);
	for (i = 0; i < a->n_sectors; i++)
		if (directory_sector(dir, a->sectors[i]) == NULL)
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
			    "advisory.sectors[%zu]: no sector \"%s\" in the "
			    "directory", i, a->sectors[i]);
	for (i = 0; i < a->n_sectors; i++) {
		sec = directory_sector(dir, a->sectors[i]);
		if (route_add_liaisons(out, sender, dir, sec,
		    "advisory for the sector") == -1)
			goto nomem;
		for (j = 0; j < dir->nceptoars; j++) {
			c = &dir->ceptoars[j];
			if (strcmp(c->sector, sec->id) != 0)
				continue;
			if ((o = directory_org(dir, c->secretariat)) != NULL &&
			    route_add(out, sender, o, "advisory for sector %s: "
			    "secretariat of CEPTOAR %s", sec->id, c->id) == -1)
				goto nomem;
			for (k = 0; k < c->nmembers; k++)
				if ((o = directory_org(dir, c->members[k])) !=
				    NULL && route_add(out, sender, o,
				    "advisory for sector %s: member of CEPTOAR "
				    "%s", sec->id, c->id) == -1)
					goto nomem;
		}
	}
	return 0;
nomem:
	return route_refuse(code, cause, CEPTOAR__ERROR_CODE__ERROR_INTERNAL,
	    "out of memory while routing");
}

/*
 * Urgent early warning: NISC to named recipients that have a handling
 * agreement, with a copy to the liaisons of their sectors.  Nothing is
 * routed unless every named recipient is valid.
 */
static int
route_early_warning(const Ceptoar__Message *m, const struct dir_org *sender,
    const struct directory *dir, struct route_result *out,
    Ceptoar__ErrorCode *code, char **cause)
{
	const Ceptoar__EarlyWarning	*w = m->early_warning;
	const struct dir_org		*o;
	const struct dir_sector		*sec;
	size_t				 i, j;

	if ((sender->roles & ROLE_NISC) == 0)
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
		    "%s is not NISC; only NISC sends early warnings",
		    sender->id);
	for (i = 0; i < w->n_recipients; i++) {
		if ((o = directory_org(dir, w->recipients[i])) == NULL)
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
			    "early_warning.recipients[%zu]: no organisation "
			    "\"%s\" in the directory; nothing was sent", i,
			    w->recipients[i]);
		if ((o->roles & (ROLE_OPERATOR | ROLE_CEPTOAR)) == 0)
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
			    "early_warning.recipients[%zu]: %s is neither a "
			    "CEPTOAR nor an operator; nothing was sent", i,
			    o->id);
		if (!o->handling_agreement)
			return route_refuse(code, cause,
			    CEPTOAR__ERROR_CODE__ERROR_NOT_PERMITTED,
			    "early_warning.recipients[%zu]: %s has no handling "
			    "agreement with NISC on record; nothing was sent",
			    i, o->id);
	}
	for (i = 0; i < w->n_recipients; i++) {
		o = directory_org(dir, w->recipients[i]);
		if (route_add(out, sender, o, "early warning: named recipient "
		    "with a handling agreement") == -1)
			goto nomem;
	}
	for (i = 0; i < w->n_recipients; i++) {
		o = directory_org(dir, w->recipients[i]);
		for (j = 0; j < o->nsectors; j++)
			if ((sec = directory_sector(dir, o->sectors[j])) !=
			    NULL && route_add_liaisons(out, sender, dir, sec,
			    "copy of an early warning") == -1)
				goto nomem;
	}
	return 0;
nomem:
	return route_refuse(code, cause, CEPTOAR__ERROR_CODE__ERROR_INTERNAL,
	    "out of memory while routing");
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
	default:
		return route_refuse(code, cause,
		    CEPTOAR__ERROR_CODE__ERROR_INVALID_FIELD,
		    "content: the message carries nothing to route");
	}
}

void
route_result_free(struct route_result *r)
{
	free(r->v);
	r->v = NULL;
	r->n = r->cap = 0;
}
