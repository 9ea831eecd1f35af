/*
 * The store interface.  Everything the hub keeps across restarts goes
 * through here: messages (each form of a report a message of its own),
 * their per-recipient deliveries with the relay hop each belongs to, and
 * the inbox cursors.  This file owns what is the same for every backend
 * (choosing one by the path's prefix, checking arguments and the
 * transaction state, the body digest) so that a backend only has to store
 * and find rows.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ceptoard.h"

struct store {
	const struct store_backend	*be;
	void				*be_data;
	bool				 in_txn;
	/* Set while a backend runs a caller's callback; see store_enter. */
	bool				 in_callback;
};

/* Every backend this ceptoard was built with; the first is the default. */
static const struct store_backend *const store_backends[] = {
	&store_backend_sqlite,
};
#define STORE_NBACKENDS	(sizeof(store_backends) / sizeof(store_backends[0]))

static void	 store_cause(char **, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* Set *cause to a malloc'd sentence; a failed allocation leaves NULL. */
static void
store_cause(char **cause, const char *fmt, ...)
{
	va_list	 ap;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	va_end(ap);
}

/*
 * Refuse a call made from inside a store callback: the backend is in the
 * middle of reading rows, and SQLite leaves the result of changing or
 * re-running statements under a live read undefined.
 */
static int
store_enter(struct store *s, const char *op, char **cause)
{
	if (s == NULL) {
		store_cause(cause, "%s: no store", op);
		return (-1);
	}
	if (s->in_callback) {
		store_cause(cause, "%s called from inside a store callback",
		    op);
		return (-1);
	}
	return (0);
}

/* Whether s is a non-empty string; the store never keeps empty keys. */
static int
store_nonempty(const char *s)
{
	return (s != NULL && *s != '\0');
}

/* Whether an optional key is absent or non-empty, never "". */
static int
store_optional(const char *s)
{
	return (s == NULL || *s != '\0');
}

/* Whether form is one the store keeps: 0 (taken as original), 1 or 2. */
static int
store_form_valid(int form)
{
	return (form == 0 || form == CEPTOAR__FORM__FORM_ORIGINAL ||
	    form == CEPTOAR__FORM__FORM_ANONYMISED);
}

/*
 * Split "name:rest" into the backend that claims name and the rest; a
 * path without such a prefix is the default backend's.  A prefix no
 * backend claims is refused rather than taken as a file name, so that a
 * "postgresql:..." store is not silently created as a SQLite file.
 */
static const struct store_backend *
store_pick(const char *path, const char **rest, char **cause)
{
	const char	*p;
	size_t		 i, len;

	for (i = 0; i < STORE_NBACKENDS; i++) {
		len = strlen(store_backends[i]->prefix);
		if (strncmp(path, store_backends[i]->prefix, len) == 0) {
			*rest = path + len;
			return (store_backends[i]);
		}
	}

	/* A URI-style scheme: a letter, then letters, digits, "+-.". */
	p = path;
	if (isalpha((unsigned char)*p)) {
		while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
		    *p == '.')
			p++;
		if (*p == ':') {
			store_cause(cause, "store %s: unknown backend "
			    "\"%.*s\"; this ceptoard knows \"%s\"", path,
			    (int)(p - path), path, store_backends[0]->prefix);
			return (NULL);
		}
	}
	*rest = path;
	return (store_backends[0]);
}

/* Pick the backend by the path's prefix and open the store with it. */
struct store *
store_open(const char *path, char **cause)
{
	const struct store_backend	*be;
	struct store			*s;
	const char			*rest;

	if (cause != NULL)
		*cause = NULL;
	if (!store_nonempty(path)) {
		store_cause(cause, "no store path given");
		return (NULL);
	}
	if ((be = store_pick(path, &rest, cause)) == NULL)
		return (NULL);
	if (*rest == '\0') {
		store_cause(cause, "store %s: empty %s path", path, be->name);
		return (NULL);
	}
	/* The digest uses libsodium; it is safe to call more than once. */
	if (sodium_init() == -1) {
		store_cause(cause, "store %s: libsodium failed to initialise",
		    path);
		return (NULL);
	}

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		store_cause(cause, "store %s: out of memory", path);
		return (NULL);
	}
	s->be = be;
	if ((s->be_data = be->open(rest, cause)) == NULL) {
		free(s);
		return (NULL);
	}
	return (s);
}

/* Close the store, abandoning a group that was never committed. */
void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->in_txn)
		s->be->rollback(s->be_data);
	s->be->close(s->be_data);
	free(s);
}

/* The backend's name, for the startup log line. */
const char *
store_backend_name(const struct store *s)
{
	return (s->be->name);
}

/* Open a group of submits; only one may be open at a time. */
int
store_begin(struct store *s, char **cause)
{
	if (store_enter(s, "store_begin", cause) == -1)
		return (-1);
	if (s->in_txn) {
		store_cause(cause, "store_begin: a transaction is already "
		    "open");
		return (-1);
	}
	if (s->be->begin(s->be_data, cause) == -1)
		return (-1);
	s->in_txn = true;
	return (0);
}

/* Find a sender's earlier submit of uuid, so a retry is not stored twice. */
int
store_lookup_uuid(struct store *s, const char *sender, const char *uuid,
    char hub_id[STORE_HUB_ID_LEN], uint64_t *seq, unsigned char digest[32],
    char **cause)
{
	if (store_enter(s, "store_lookup_uuid", cause) == -1)
		return (-1);
	if (!store_nonempty(sender) || !store_nonempty(uuid)) {
		store_cause(cause, "store_lookup_uuid: empty sender or uuid");
		return (-1);
	}
	return (s->be->lookup_uuid(s->be_data, sender, uuid, hub_id, seq,
	    digest, cause));
}

/* Check m and its recipients, digest the body, and add it to the group. */
int
store_insert(struct store *s, struct store_message *m,
    const struct store_recipient *r, size_t nr, char **cause)
{
	unsigned char	 digest[32];
	size_t		 i;

	if (store_enter(s, "store_insert", cause) == -1)
		return (-1);
	/* Inserts only make sense as part of a group that is committed. */
	if (!s->in_txn) {
		store_cause(cause, "store_insert outside a transaction");
		return (-1);
	}
	if (memchr(m->hub_id, '\0', sizeof(m->hub_id)) == NULL ||
	    m->hub_id[0] == '\0') {
		store_cause(cause, "store_insert: missing or unterminated "
		    "hub_id");
		return (-1);
	}
	if (!store_nonempty(m->sender) || !store_nonempty(m->uuid) ||
	    !store_nonempty(m->kind)) {
		store_cause(cause, "store_insert %s: empty sender, uuid or "
		    "kind", m->hub_id);
		return (-1);
	}
	if (m->body == NULL && m->body_len != 0) {
		store_cause(cause, "store_insert %s: body is NULL", m->hub_id);
		return (-1);
	}
	if (!store_optional(m->origin) || !store_optional(m->chain_id) ||
	    !store_optional(m->in_reply_to)) {
		store_cause(cause, "store_insert %s: empty origin, chain_id or "
		    "in_reply_to (NULL means none)", m->hub_id);
		return (-1);
	}
	if (!store_form_valid(m->form)) {
		store_cause(cause, "store_insert %s: unknown form %d",
		    m->hub_id, m->form);
		return (-1);
	}
	/* An anonymised form is always made from an original. */
	if (m->form == CEPTOAR__FORM__FORM_ANONYMISED && m->origin == NULL) {
		store_cause(cause, "store_insert %s: anonymised form without "
		    "an origin", m->hub_id);
		return (-1);
	}
	if ((m->origin != NULL && strcmp(m->origin, m->hub_id) == 0) ||
	    (m->in_reply_to != NULL && strcmp(m->in_reply_to, m->hub_id) ==
	    0)) {
		store_cause(cause, "store_insert %s: a message cannot derive "
		    "from or answer itself", m->hub_id);
		return (-1);
	}
	for (i = 0; i < nr; i++) {
		if (!store_nonempty(r[i].org) || r[i].reason == NULL) {
			store_cause(cause, "store_insert %s: recipient %zu has "
			    "no organisation or reason", m->hub_id, i);
			return (-1);
		}
		if (!store_form_valid(r[i].form)) {
			store_cause(cause, "store_insert %s: recipient %s has "
			    "unknown form %d", m->hub_id, r[i].org, r[i].form);
			return (-1);
		}
	}

	/*
	 * The digest is what a retried submit is compared against, so it
	 * is defined here once rather than by each backend.
	 */
	crypto_generichash(digest, sizeof(digest), m->body, m->body_len,
	    NULL, 0);
	return (s->be->insert(s->be_data, m, digest, r, nr, cause));
}

/* Make the group durable; the hub acknowledges only after this succeeds. */
int
store_commit(struct store *s, char **cause)
{
	if (store_enter(s, "store_commit", cause) == -1)
		return (-1);
	if (!s->in_txn) {
		store_cause(cause, "store_commit without a transaction");
		return (-1);
	}
	/* Either way the transaction is over: a failed commit rolled back. */
	s->in_txn = false;
	return (s->be->commit(s->be_data, cause));
}

/* Abandon the open group, if any; safe to call when none is open. */
void
store_rollback(struct store *s)
{
	if (s == NULL || s->in_callback || !s->in_txn)
		return;
	s->in_txn = false;
	s->be->rollback(s->be_data);
}

/* Walk recipient's unacknowledged deliveries after a cursor, in order. */
int
store_pending(struct store *s, const char *recipient, uint64_t after,
    size_t limit, store_delivery_cb cb, void *arg, char **cause)
{
	int	 rv;

	if (store_enter(s, "store_pending", cause) == -1)
		return (-1);
	if (!store_nonempty(recipient)) {
		store_cause(cause, "store_pending: empty recipient");
		return (-1);
	}
	s->in_callback = true;
	rv = s->be->pending(s->be_data, recipient, after, limit, cb, arg,
	    cause);
	s->in_callback = false;
	return (rv);
}

/* Record a recipient's acknowledgements, counting the new ones. */
int
store_ack(struct store *s, const char *recipient, const uint64_t *seqs,
    size_t n, int64_t now, size_t *nacked, char **cause)
{
	*nacked = 0;
	if (store_enter(s, "store_ack", cause) == -1)
		return (-1);
	if (!store_nonempty(recipient)) {
		store_cause(cause, "store_ack: empty recipient");
		return (-1);
	}
	/* 0 means "not acknowledged" to readers, so it cannot be a time. */
	if (now <= 0) {
		store_cause(cause, "store_ack: acknowledgement time %lld is "
		    "not positive", (long long)now);
		return (-1);
	}
	if (n == 0)
		return (0);
	return (s->be->ack(s->be_data, recipient, seqs, n, now, nacked,
	    cause));
}

/* Show one message as org may see it, or say it may not. */
int
store_fetch(struct store *s, const char *org, const char *hub_id,
    store_delivery_cb cb, void *arg, char **cause)
{
	int	 rv;

	if (store_enter(s, "store_fetch", cause) == -1)
		return (-1);
	if (!store_nonempty(org) || !store_nonempty(hub_id)) {
		store_cause(cause, "store_fetch: empty organisation or hub_id");
		return (-1);
	}
	s->in_callback = true;
	rv = s->be->fetch(s->be_data, org, hub_id, cb, arg, cause);
	s->in_callback = false;
	return (rv);
}

/* List who received a message and when each acknowledged it. */
int
store_recipients(struct store *s, const char *hub_id, store_recipient_cb cb,
    void *arg, char **cause)
{
	int	 rv;

	if (store_enter(s, "store_recipients", cause) == -1)
		return (-1);
	if (!store_nonempty(hub_id)) {
		store_cause(cause, "store_recipients: empty hub_id");
		return (-1);
	}
	s->in_callback = true;
	rv = s->be->recipients(s->be_data, hub_id, cb, arg, cause);
	s->in_callback = false;
	return (rv);
}

/* Report a recipient's last cursor and unacknowledged count. */
int
store_inbox_state(struct store *s, const char *recipient, uint64_t *last_seq,
    uint64_t *pending, char **cause)
{
	if (store_enter(s, "store_inbox_state", cause) == -1)
		return (-1);
	if (!store_nonempty(recipient)) {
		store_cause(cause, "store_inbox_state: empty recipient");
		return (-1);
	}
	return (s->be->inbox_state(s->be_data, recipient, last_seq, pending,
	    cause));
}

/* Count the stored messages. */
int
store_count(struct store *s, uint64_t *messages, char **cause)
{
	if (store_enter(s, "store_count", cause) == -1)
		return (-1);
	return (s->be->count(s->be_data, messages, cause));
}

/* Record the first time recipient's delivery seq went out. */
int
store_mark_delivered(struct store *s, const char *recipient, uint64_t seq,
    int64_t now, char **cause)
{
	if (store_enter(s, "store_mark_delivered", cause) == -1)
		return (-1);
	if (!store_nonempty(recipient)) {
		store_cause(cause, "store_mark_delivered: empty recipient");
		return (-1);
	}
	/* 0 means "never delivered" to readers, so it cannot be a time. */
	if (now <= 0) {
		store_cause(cause, "store_mark_delivered: time %lld is not "
		    "positive", (long long)now);
		return (-1);
	}
	/* No delivery has such a seq; like an unknown one, mark nothing. */
	if (seq == 0 || seq > INT64_MAX)
		return (0);
	return (s->be->mark_delivered(s->be_data, recipient, seq, now, cause));
}

/* Record that holder forwarded its delivery of hub_id. */
int
store_mark_forwarded(struct store *s, const char *holder, const char *hub_id,
    int64_t now, char **cause)
{
	if (store_enter(s, "store_mark_forwarded", cause) == -1)
		return (-1);
	if (!store_nonempty(holder) || !store_nonempty(hub_id)) {
		store_cause(cause, "store_mark_forwarded: empty holder or "
		    "hub_id");
		return (-1);
	}
	if (now <= 0) {
		store_cause(cause, "store_mark_forwarded: time %lld is not "
		    "positive", (long long)now);
		return (-1);
	}
	return (s->be->mark_forwarded(s->be_data, holder, hub_id, now, cause));
}

/* Show the message hub_id as the hub itself keeps it. */
int
store_message(struct store *s, const char *hub_id, store_delivery_cb cb,
    void *arg, char **cause)
{
	int	 rv;

	if (store_enter(s, "store_message", cause) == -1)
		return (-1);
	if (!store_nonempty(hub_id) || cb == NULL) {
		store_cause(cause, "store_message: empty hub_id or no "
		    "callback");
		return (-1);
	}
	s->in_callback = true;
	rv = s->be->message(s->be_data, hub_id, cb, arg, cause);
	s->in_callback = false;
	return (rv);
}

/* Show org's own delivery of hub_id, without the sender's view. */
int
store_delivery_of(struct store *s, const char *org, const char *hub_id,
    store_delivery_cb cb, void *arg, char **cause)
{
	int	 rv;

	if (store_enter(s, "store_delivery_of", cause) == -1)
		return (-1);
	if (!store_nonempty(org) || !store_nonempty(hub_id) || cb == NULL) {
		store_cause(cause, "store_delivery_of: empty organisation or "
		    "hub_id, or no callback");
		return (-1);
	}
	s->in_callback = true;
	rv = s->be->delivery_of(s->be_data, org, hub_id, cb, arg, cause);
	s->in_callback = false;
	return (rv);
}

/* Walk every delivery of an original and its derived forms, by hop. */
int
store_receipts(struct store *s, const char *hub_id, store_delivery_cb cb,
    void *arg, char **cause)
{
	int	 rv;

	if (store_enter(s, "store_receipts", cause) == -1)
		return (-1);
	if (!store_nonempty(hub_id) || cb == NULL) {
		store_cause(cause, "store_receipts: empty hub_id or no "
		    "callback");
		return (-1);
	}
	s->in_callback = true;
	rv = s->be->receipts(s->be_data, hub_id, cb, arg, cause);
	s->in_callback = false;
	return (rv);
}

/* List who received sender's chain so far, for a follow-up. */
int
store_chain_recipients(struct store *s, const char *sender,
    const char *chain_id, store_recipient_ex_cb cb, void *arg, char **cause)
{
	int	 rv;

	if (store_enter(s, "store_chain_recipients", cause) == -1)
		return (-1);
	if (!store_nonempty(sender) || !store_nonempty(chain_id) ||
	    cb == NULL) {
		store_cause(cause, "store_chain_recipients: empty sender or "
		    "chain_id, or no callback");
		return (-1);
	}
	s->in_callback = true;
	rv = s->be->chain_recipients(s->be_data, sender, chain_id, cb, arg,
	    cause);
	s->in_callback = false;
	return (rv);
}

/* Walk the messages that answer hub_id, in order. */
int
store_replies(struct store *s, const char *hub_id, store_delivery_cb cb,
    void *arg, char **cause)
{
	int	 rv;

	if (store_enter(s, "store_replies", cause) == -1)
		return (-1);
	if (!store_nonempty(hub_id) || cb == NULL) {
		store_cause(cause, "store_replies: empty hub_id or no "
		    "callback");
		return (-1);
	}
	s->in_callback = true;
	rv = s->be->replies(s->be_data, hub_id, cb, arg, cause);
	s->in_callback = false;
	return (rv);
}

/* Record the reporter's widened sharing range for its original. */
int
store_set_sharing(struct store *s, const char *hub_id, const uint8_t *packed,
    size_t len, char **cause)
{
	if (store_enter(s, "store_set_sharing", cause) == -1)
		return (-1);
	if (!store_nonempty(hub_id)) {
		store_cause(cause, "store_set_sharing: empty hub_id");
		return (-1);
	}
	/* NULL with 0 is an empty packed range, all fields default. */
	if (packed == NULL && len != 0) {
		store_cause(cause, "store_set_sharing %s: range is NULL",
		    hub_id);
		return (-1);
	}
	return (s->be->set_sharing(s->be_data, hub_id, packed, len, cause));
}
