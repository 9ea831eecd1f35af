/*
 * ceptoard: the CEPTOAR hub.  One internal header, grouped by file.
 */
#ifndef CEPTOARD_H
#define CEPTOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "ceptoar.pb-c.h"

#define CEPTOARD_VERSION	"0.1.0"

struct event_base;
struct session;

/* log.c */
enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };
void	 log_init(int foreground, enum log_level level);
void	 log_set_level(enum log_level level);
int	 log_parse_level(const char *s, enum log_level *out);
/*
 * One line per event: "<event> key=value ...".  fmt is the key=value
 * tail; use log_escape for any string a peer supplied.
 */
void	 log_event(enum log_level lvl, const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Escape a peer-supplied string into buf for a log line (quoted). */
const char *log_escape(const char *s, char *buf, size_t len);
__attribute__((noreturn)) void fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* config.c */
struct config {
	char		*path;
	char		*listen;		/* "host:port" */
	char		*tls_cert;
	char		*tls_key;
	char		*tls_ca;
	char		*directory;
	char		*store_path;
	char		*user;			/* drop to this user, if root */
	char		*pidfile;
	char		*log_level;
	uint64_t	 max_frame;
	uint64_t	 max_frame_preauth;
	uint64_t	 hello_timeout;		/* seconds */
	uint64_t	 idle_timeout;		/* seconds */
	uint64_t	 max_output;		/* bytes queued to one peer */
	uint64_t	 max_connections;
	uint64_t	 deliver_batch;		/* deliveries in flight per session */
};
/* Load and check path; -1 with a "file:line: what" cause. */
int	 config_load(const char *path, struct config *out, char **cause);
void	 config_free(struct config *);
/* Print the option table (name, default, meaning) for -h and docs. */
void	 config_print_options(FILE *);

/* directory.c */
enum dir_role {
	ROLE_OPERATOR	= 1 << 0,
	ROLE_CEPTOAR	= 1 << 1,	/* runs a CEPTOAR secretariat */
	ROLE_LIAISON	= 1 << 2,
	ROLE_NISC	= 1 << 3,
	ROLE_AGENCY	= 1 << 4,	/* related agency: JPCERT/CC, IPA ... */
	ROLE_COUNCIL	= 1 << 5,	/* CEPTOAR Council */
};

struct dir_ministry {
	char	*id;			/* first in every dir_ struct */
	char	*name;
	char	*name_ja;
	unsigned long line;		/* where it is defined, for messages */
};

struct dir_sector {
	char	*id;
	char	*name;
	char	*name_ja;
	char	*ministry;		/* ministry id */
	char	**ceptoars;		/* CEPTOAR ids of the sector, derived */
	size_t	 nceptoars;
	char	**liaisons;		/* liaison org ids for it, derived */
	size_t	 nliaisons;
	unsigned long line;
};

struct dir_ceptoar {
	char	*id;
	char	*name;
	char	*name_ja;
	char	*sector;		/* sector id */
	char	*secretariat;		/* organisation id running it */
	char	**members;		/* organisation ids, derived */
	size_t	 nmembers;
	bool	 council;		/* takes part in the CEPTOAR Council */
	unsigned long line;
};

struct dir_org {
	char		*id;
	char		*name;
	char		*name_ja;
	char		*cert_cn;		/* certificate subject CN */
	unsigned	 roles;			/* dir_role bits */
	char		**sectors;		/* sector ids */
	size_t		 nsectors;
	char		**ceptoars;		/* CEPTOAR ids it is a member of */
	size_t		 nceptoars;
	char		*ministry;		/* for liaisons */
	bool		 handling_agreement;	/* with NISC, for early warnings */
	char		*contact_name;
	char		*contact_phone;
	char		*contact_email;
	/*
	 * What the anonymiser must scrub from free text.  names always
	 * includes name and name_ja.
	 */
	char		**names;
	size_t		 nnames;
	char		**domains;
	size_t		 ndomains;
	char		**networks;		/* CIDR ranges as written */
	size_t		 nnetworks;
	unsigned long	 line;
};

/*
 * The arrays are in file order; the by_* arrays are sorted views of the
 * same elements for lookups.  Every char ** list is also NULL-terminated.
 */
struct directory {
	char			*path;
	struct dir_ministry	*ministries;
	size_t			 nministries;
	struct dir_sector	*sectors;
	size_t			 nsectors;
	struct dir_ceptoar	*ceptoars;
	size_t			 nceptoars;
	struct dir_org		*orgs;
	size_t			 norgs;
	struct dir_ministry	**ministries_by_id;
	struct dir_sector	**sectors_by_id;
	struct dir_ceptoar	**ceptoars_by_id;
	struct dir_org		**orgs_by_id;
	struct dir_org		**orgs_by_cn;
};

/* Load and cross-check a directory; -1 with a "file:line: what" cause. */
struct directory *directory_load(const char *path, char **cause);
void	 directory_free(struct directory *);
const struct dir_org	  *directory_org(const struct directory *, const char *id);
const struct dir_org	  *directory_org_by_cn(const struct directory *, const char *cn);
const struct dir_sector	  *directory_sector(const struct directory *, const char *id);
const struct dir_ceptoar  *directory_ceptoar(const struct directory *, const char *id);
const struct dir_ministry *directory_ministry(const struct directory *, const char *id);
bool	 directory_org_in_sector(const struct dir_org *, const char *sector);
bool	 directory_org_in_ceptoar(const struct dir_org *, const char *ceptoar);
/* "operator,liaison": the role names of a bit set, into buf. */
const char *directory_roles_str(unsigned roles, char *buf, size_t len);
int	 directory_role_parse(const char *s, unsigned *bit);
/* Whether s is a valid directory id: [a-z0-9-], 1..64, not "-" first. */
bool	 directory_valid_id(const char *s);

/* route.c: the pure routing policy. */
struct route_entry {
	const char	*org;		/* organisation id, owned by the directory */
	char		 reason[192];
};
struct route_result {
	struct route_entry	*v;
	size_t			 n;
	size_t			 cap;
};
/*
 * Decide who receives m from sender.  Returns 0 with out filled (it may
 * be empty only if the caller treats that as an error), or -1 with *code
 * a wire error code and *cause a malloc'd sentence naming the field.
 * Touches nothing but its arguments.
 */
int	 route_message(const Ceptoar__Message *m, const struct dir_org *sender,
	    const struct directory *dir, struct route_result *out,
	    Ceptoar__ErrorCode *code, char **cause);
void	 route_result_free(struct route_result *);

/* store.c: the store interface; backends in store_*.c. */
#define STORE_HUB_ID_LEN	40

struct store;

struct store_message {
	uint64_t	 seq;		/* set by store_insert: global order */
	char		 hub_id[STORE_HUB_ID_LEN];
	const char	*sender;	/* organisation id */
	const char	*uuid;		/* client idempotency key */
	const char	*kind;		/* "report", "advisory", "early_warning" */
	int64_t		 received_at;	/* unix seconds */
	const uint8_t	*body;		/* packed Ceptoar__Message */
	size_t		 body_len;
};

struct store_recipient {
	const char	*org;
	const char	*reason;
};

struct store_delivery {
	uint64_t	 seq;		/* the recipient's cursor; 0 for the sender's view */
	const char	*recipient;
	const char	*hub_id;
	const char	*sender;
	int64_t		 received_at;
	const char	*reason;
	const uint8_t	*body;
	size_t		 body_len;
	int64_t		 acked_at;	/* 0 if not acknowledged */
};

/* Return 0 to continue, non-zero to stop the iteration. */
typedef int (*store_delivery_cb)(const struct store_delivery *, void *arg);
typedef int (*store_recipient_cb)(const char *org, const char *reason,
	    int64_t acked_at, void *arg);

/*
 * Open the store at path ("sqlite:/var/db/ceptoard/hub.db" or a plain
 * path for the default backend).  NULL with a cause on failure.
 */
struct store *store_open(const char *path, char **cause);
void	 store_close(struct store *);
const char *store_backend_name(const struct store *);

/* Submits are grouped: begin, any number of lookup/insert, commit. */
int	 store_begin(struct store *, char **cause);
/*
 * Idempotency: 1 if sender already stored uuid (hub_id, seq and the
 * stored body's BLAKE2b-256 digest filled in), 0 if not, -1 on error.
 */
int	 store_lookup_uuid(struct store *, const char *sender, const char *uuid,
	    char hub_id[STORE_HUB_ID_LEN], uint64_t *seq,
	    unsigned char digest[32], char **cause);
/* Insert m and one delivery per recipient; sets m->seq. */
int	 store_insert(struct store *, struct store_message *m,
	    const struct store_recipient *r, size_t nr, char **cause);
/* Commit: on return 0 everything inserted is fsynced. */
int	 store_commit(struct store *, char **cause);
void	 store_rollback(struct store *);

/* Unacknowledged deliveries of recipient with seq > after, in order. */
int	 store_pending(struct store *, const char *recipient, uint64_t after,
	    size_t limit, store_delivery_cb cb, void *arg, char **cause);
/* Acknowledge seqs of recipient; *nacked counts the ones newly acked. */
int	 store_ack(struct store *, const char *recipient, const uint64_t *seqs,
	    size_t n, int64_t now, size_t *nacked, char **cause);
/*
 * The message hub_id as org may see it: as its sender (seq 0, reason
 * "sent") or as a recipient.  0 found, 1 not visible to org, -1 error.
 */
int	 store_fetch(struct store *, const char *org, const char *hub_id,
	    store_delivery_cb cb, void *arg, char **cause);
/* The recipients of hub_id with their reasons and acknowledgement times. */
int	 store_recipients(struct store *, const char *hub_id,
	    store_recipient_cb cb, void *arg, char **cause);
/* Highest delivery seq and number of unacknowledged deliveries. */
int	 store_inbox_state(struct store *, const char *recipient,
	    uint64_t *last_seq, uint64_t *pending, char **cause);
/* Number of messages stored, for logs and tests. */
int	 store_count(struct store *, uint64_t *messages, char **cause);

/*
 * A storage backend: store.c checks arguments and the transaction state,
 * computes the body digest, and calls one of these.  Each function gets
 * the handle its open returned; causes are malloc'd sentences.
 */
struct store_backend {
	const char	*name;		/* "sqlite", for logs */
	const char	*prefix;	/* "sqlite:", claimed in store paths */
	void	*(*open)(const char *path, char **cause);
	void	 (*close)(void *be);
	int	 (*begin)(void *be, char **cause);
	int	 (*lookup_uuid)(void *be, const char *sender, const char *uuid,
		    char hub_id[STORE_HUB_ID_LEN], uint64_t *seq,
		    unsigned char digest[32], char **cause);
	/*
	 * On -1 after a refusal (hub_id or uuid already stored, recipient
	 * named twice) nothing of m is stored and the group goes on; after
	 * an I/O or memory error the group is lost and commit fails.
	 */
	int	 (*insert)(void *be, struct store_message *m,
		    const unsigned char digest[32],
		    const struct store_recipient *r, size_t nr, char **cause);
	/* On -1 the transaction has been rolled back. */
	int	 (*commit)(void *be, char **cause);
	void	 (*rollback)(void *be);
	int	 (*pending)(void *be, const char *recipient, uint64_t after,
		    size_t limit, store_delivery_cb cb, void *arg, char **cause);
	int	 (*ack)(void *be, const char *recipient, const uint64_t *seqs,
		    size_t n, int64_t now, size_t *nacked, char **cause);
	int	 (*fetch)(void *be, const char *org, const char *hub_id,
		    store_delivery_cb cb, void *arg, char **cause);
	int	 (*recipients)(void *be, const char *hub_id,
		    store_recipient_cb cb, void *arg, char **cause);
	int	 (*inbox_state)(void *be, const char *recipient,
		    uint64_t *last_seq, uint64_t *pending, char **cause);
	int	 (*count)(void *be, uint64_t *messages, char **cause);
};

/* store_sqlite.c */
extern const struct store_backend store_backend_sqlite;

/* tls.c: nothing outside it sees an SSL pointer. */
struct bufferevent;
void	*tls_server_ctx(const struct config *, char **cause);
void	 tls_ctx_free(void *ctx);
/* A bufferevent doing the server side of a handshake on fd. */
struct bufferevent *tls_accept(struct event_base *, void *ctx, int fd);
/* CN and SHA-256 fingerprint of the verified peer certificate. */
int	 tls_peer_identity(struct bufferevent *, char *cn, size_t cnlen,
	    char *fingerprint, size_t fplen);
/* The last TLS error on bev as a sentence, or NULL. */
const char *tls_error_string(struct bufferevent *, char *buf, size_t len);
const char *tls_version(struct bufferevent *);

/* ceptoard.c: the hub's state, one per process. */
struct listener;
struct hub {
	struct event_base	*base;
	struct config		 conf;
	struct directory	*dir;
	struct store		*store;
	void			*tls_ctx;
	struct listener		*listener;
	uint64_t		 next_session;
	size_t			 nsessions;
	bool			 shutting_down;
};
extern struct hub	*hub;

/* listener.c */
struct listener *listener_new(struct event_base *, const char *addr,
	    char **cause);
void	 listener_free(struct listener *);
/* The address actually bound, "host:port". */
const char *listener_address(const struct listener *);

/* session.c */
enum session_state {
	SESSION_HANDSHAKE,	/* TLS handshake under way */
	SESSION_HELLO,		/* TLS done, waiting for the hello */
	SESSION_READY,		/* identified: requests are served */
	SESSION_CLOSING,	/* a fatal error is being flushed */
	SESSION_DEAD,		/* closed; freed once unreferenced */
};

struct session {
	struct session		*next, *prev;		/* all sessions */
	struct session		*org_next, *org_prev;	/* deliver.c */
	uint64_t		 id;
	char			 sid[20];
	enum session_state	 state;
	int			 refs;
	struct bufferevent	*bev;
	struct event		*timer;
	char			 peer[64];
	char			 org[72];
	char			 cert_cn[256];
	char			 fingerprint[72];
	unsigned		 roles;
	uint32_t		 max_frame;
	int64_t			 started;
	int64_t			 last_active;
	bool			 reading_paused;
	char			 fatal_reason[256];	/* for the close line */
	/* Counters, logged at close. */
	uint64_t		 frames_in;
	uint64_t		 frames_out;
	uint64_t		 submits;
	uint64_t		 delivered;
	/* Inbox subscription, deliver.c. */
	bool			 subscribed;
	bool			 follow;
	uint64_t		 cursor;	/* highest seq sent */
	uint64_t		 remaining;	/* left to send when not following */
	void			*inbox;		/* deliver.c's per-org list */
};

struct session *session_new(int fd, const char *peer);
/* The one close path: logs once, tears down, frees when unreferenced. */
void	 session_close(struct session *, const char *reason);
void	 session_ref(struct session *);
void	 session_unref(struct session *);
/* Queue env to the peer; stamps the protocol version. */
void	 session_send(struct session *, Ceptoar__Envelope *env);
/* Send an error; fatal ones close the session once flushed. */
void	 session_error(struct session *, uint64_t request_id,
	    Ceptoar__ErrorCode code, const char *field, bool fatal,
	    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void	 session_enter_state(struct session *, enum session_state);
const char *session_strstate(enum session_state);
/* Bytes queued to the peer and not yet written. */
size_t	 session_output_len(const struct session *);
/* Whether more may be queued without passing the output high mark. */
bool	 session_can_send(const struct session *);
/* Close every session, e.g. at shutdown. */
void	 session_close_all(const char *reason);
/* Tell every session the hub is stopping; each closes once flushed. */
void	 session_shutdown_all(void);
/* After a reload: close sessions whose organisation has gone. */
void	 session_recheck_all(void);

/* handle.c: one handler per wire message. */
void	 handle_envelope(struct session *, Ceptoar__Envelope *);

/* submit.c: accepted submits are committed together, then acknowledged. */
int	 submit_init(struct event_base *);
/* Queue m (validated and routed) from s; the ack follows the commit. */
void	 submit_enqueue(struct session *, uint64_t request_id,
	    const Ceptoar__Message *m, const struct route_result *routes);
/* Commit whatever is queued now (used at shutdown). */
void	 submit_flush(void);
void	 submit_shutdown(void);

/* deliver.c: inboxes, cursors and live delivery. */
void	 deliver_subscribe(struct session *, uint64_t request_id,
	    const Ceptoar__Subscribe *);
void	 deliver_unsubscribe(struct session *);
/* Send what s may receive now, within its output bound. */
void	 deliver_pump(struct session *);
/* New deliveries were committed for org: wake its following sessions. */
void	 deliver_notify(const char *org);
void	 deliver_ack(struct session *, uint64_t request_id,
	    const Ceptoar__DeliverAck *);
void	 deliver_shutdown(void);
/*
 * Fill d from a store row: strings are copied, the body is unpacked into
 * *mp.  Release both with deliver_clear.
 */
int	 deliver_fill(Ceptoar__Delivery *d, const struct store_delivery *sd,
	    Ceptoar__Message **mp);
void	 deliver_clear(Ceptoar__Delivery *d, Ceptoar__Message *m);
/* The stored recipients of a message, as wire Recipients. */
struct deliver_recipients {
	Ceptoar__Recipient	 *v;
	Ceptoar__Recipient	**ptrs;		/* for repeated fields */
	size_t			  n, cap;
};
int	 deliver_recipients_load(const char *hub_id,
	    struct deliver_recipients *, char **cause);
void	 deliver_recipients_free(struct deliver_recipients *);

#endif
