/*
 * The free-text fields of a message by their anonymiser path.
 */
#include <stdio.h>
#include <string.h>

#include "fields.h"

/* The text of the field at path in m, or NULL (no such field, or no m). */
const char *
fields_text(const Ceptoar__Message *m, const char *path)
{
	const Ceptoar__Report	*r;
	size_t			 i;

	if (m == NULL)
		return NULL;
	if (m->content_case == CEPTOAR__MESSAGE__CONTENT_REPLY)
		return strcmp(path, "reply.text") == 0 ? m->reply->text : NULL;
	if (m->content_case != CEPTOAR__MESSAGE__CONTENT_REPORT)
		return NULL;
	r = m->report;
	if (strcmp(path, "report.title") == 0)
		return r->title;
	if (strcmp(path, "report.affected_service") == 0)
		return r->affected_service;
	if (strcmp(path, "report.free_text") == 0)
		return r->free_text;
	if (strcmp(path, "report.legal_basis") == 0)
		return r->legal_basis;
	if (strcmp(path, "report.impact.description") == 0)
		return r->impact ? r->impact->description : NULL;
	if (sscanf(path, "report.affected_systems[%zu]", &i) == 1)
		return i < r->n_affected_systems ? r->affected_systems[i] :
		    NULL;
	if (sscanf(path, "report.indicators[%zu].comment", &i) == 1)
		return i < r->n_indicators ? r->indicators[i]->comment : NULL;
	return NULL;
}
