/*
 * The free-text fields of a message by the path the anonymiser names them
 * with ("report.free_text", "report.indicators[2].comment"), so that the
 * hub's review desk and the client's side-by-side view find the same text
 * a span speaks of.
 */
#ifndef CEPTOAR_FIELDS_H
#define CEPTOAR_FIELDS_H

#include "ceptoar.pb-c.h"

/* The text of the field at path in m, or NULL (no such field, or no m). */
const char	*fields_text(const Ceptoar__Message *m, const char *path);

#endif
