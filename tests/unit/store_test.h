/*
 * What the store's unit tests share; see store_test.c.
 */
#ifndef CEPTOAR_STORE_TEST_H
#define CEPTOAR_STORE_TEST_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

#include "ceptoard.h"

#define MAXSEEN	2048

/* What a store_pending or store_fetch callback saw, copied out. */
struct seen {
	size_t		 n;
	size_t		 stop_after;	/* 0: never stop early */
	uint64_t	 seq[MAXSEEN];
	char		 hub_id[MAXSEEN][STORE_HUB_ID_LEN];
	char		 sender[64];
	char		 reason[64];
	char		 body[64];
	int64_t		 received_at;
	int64_t		 acked_at;
	const char	*only;		/* test_recipient: this form only */
};

/* One store_delivery, copied out with which of its pointers were NULL. */
struct row {
	uint64_t	 seq;
	uint64_t	 message_seq;
	char		 hub_id[STORE_HUB_ID_LEN];
	char		 recipient[64];
	char		 sender[64];
	char		 reason[64];
	char		 kind[32];
	char		 origin[STORE_HUB_ID_LEN];
	char		 chain_id[64];
	char		 in_reply_to[STORE_HUB_ID_LEN];
	char		 body[64];
	char		 sharing[64];
	size_t		 sharing_len;
	bool		 has_recipient, has_origin, has_chain_id;
	bool		 has_in_reply_to, has_body, has_sharing;
	unsigned	 hop;
	int		 form;
	bool		 review;
	int64_t		 received_at;
	int64_t		 acked_at;
	int64_t		 delivered_at;
	int64_t		 forwarded_at;
};

struct rows {
	size_t		 n;
	size_t		 stop_after;	/* 0: never stop early */
	struct row	 v[16];
};

extern char	 tmpdir[];	/* this run's directory, under /tmp */
extern char	 keypath[256];	/* the key every test store uses */

/* Make tmpdir and the key; 0, or -1 having said why. */
int	 test_setup(void);
/* A path in tmpdir (one of four static buffers), and tmpdir's removal. */
const char *test_path(const char *name);
void	 test_cleanup(void);
/* A key file of len bytes of data (random if NULL) with mode. */
const char *test_keyfile(const char *name, const uint8_t *data, size_t len,
	    mode_t mode);
/* Open path with the key files cur and old, or with keypath. */
struct store *test_store_open_keys(const char *path, const char *cur,
	    const char *old, char **cause);
struct store *test_store_open(const char *path, char **cause);
/* The same, saying why on stderr when it does not open. */
struct store *test_open_path(const char *path);
/* Callbacks: into a struct seen, and every field into a struct rows. */
int	 test_collect(const struct store_delivery *d, void *arg);
int	 test_row(const struct store_delivery *d, void *arg);
/* Insert one message in the open group, or in a group of its own. */
uint64_t test_insert(struct store *s, const char *hub_id, const char *sender,
	    const char *uuid, const char *body, const char **to, size_t nto);
uint64_t test_put(struct store *s, const char *hub_id, const char *sender,
	    const char *uuid, const char *body, const char **to, size_t nto);
/* One form, in a group of its own; uuid and body made from hub_id. */
uint64_t test_form(struct store *s, const char *hub_id, const char *sender,
	    const char *origin, const char *chain_id, int form, unsigned hop,
	    const char *in_reply_to, struct store_recipient *r, size_t nr);
/* The readers, collected; each returns the store call's answer. */
int	 test_pending(struct store *s, const char *recipient, uint64_t after,
	    size_t limit, struct seen *sn);
int	 test_pending_rows(struct store *s, const char *recipient,
	    struct rows *rs);
int	 test_delivery_of(struct store *s, const char *org,
	    const char *hub_id, struct rows *rs);
int	 test_message(struct store *s, const char *hub_id, struct rows *rs);
/* An integer read straight from the SQLite file at path, or -1. */
long long test_pragma(const char *path, const char *pragma);

#endif
