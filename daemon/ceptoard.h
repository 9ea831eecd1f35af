/*
 * ceptoard: the CEPTOAR hub.  One internal header, grouped by file.
 */
#ifndef CEPTOARD_H
#define CEPTOARD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "ceptoar.pb-c.h"

#define CEPTOARD_VERSION	"0.1.0"

struct anon_policy;
struct event_base;
struct session;

/* sandbox.c: chroot, unprivileged user, seccomp, once started. */
struct config;
int	 sandbox_enter(const struct config *, char **cause);

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
/*
 * log_event for the log alone, whatever audit.c keeps: for events that
 * are counted and summarised in the trail instead (session.preauth).
 */
void	 log_event_unaudited(enum log_level lvl, const char *event,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Whether an event at lvl goes anywhere: the log or the audit trail. */
bool	 log_wanted(enum log_level lvl, const char *event);
/* Escape a peer-supplied string into buf for a log line (quoted). */
const char *log_escape(const char *s, char *buf, size_t len);
__attribute__((noreturn)) void fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/*
 * privsep.c: the privileged parent (the TLS, anon and store keys, and
 * supervision) and the unprivileged worker that does everything else.
 */
/*
 * Parent: keep tls_key, start the worker on listen_fd, bound to address
 * (and again when it dies), pass SIGHUP and SIGTERM on; pidfile() is
 * called once detached.
 * Returns the exit status once the worker stopped.
 */
int	 privsep_parent(const struct config *, const char *conffile,
	    int listen_fd, const char *address, int foreground, int verbose,
	    enum log_level, void (*pidfile)(void));
/* Worker: fd is the channel to the parent; 0, or -1 with a cause. */
int	 privsep_worker_init(int fd, char **cause);
/*
 * Worker: a key (EVP_PKEY *) for cert whose private operations the
 * parent does; NULL with a cause if the parent holds no such key.
 */
void	*privsep_remote_key(void *cert, char **cause);
/* Worker: confined and serving; stop() is called if the parent goes. */
int	 privsep_worker_ready(struct event_base *, void (*stop)(void));
/*
 * Worker: anon_keyed_hash by the parent, which holds anon_key; 0, or -1
 * if it could not be had (the parent gone, inputs too long).
 */
int	 privsep_anon_hash(const char *tag, const char *reporter,
	    const char *value, unsigned char *out, size_t outlen);
/* Parent: keep anon_key (or none) to answer privsep_anon_hash. */
void	 privsep_parent_anon(const struct anon_policy *);
/* Worker: ask the parent to stop the hub with status, not restart us. */
void	 privsep_worker_fatal(int status);
void	 privsep_worker_done(void);
struct event;
/* Free the stop signals' events and ignore those signals from then on. */
void	 privsep_stop_signals_free(struct event *term, struct event *intr);

/* audit.c: the hash-chained audit trail; the format is described there. */
#define AUDIT_HASH_LEN		32	/* BLAKE2b-256 */

/* What walking a trail found: where it first breaks, or its head. */
struct audit_verify {
	uint64_t	 entries;	/* entries whose chain verified */
	uint64_t	 lines;		/* lines read, the header included */
	uint64_t	 torn;		/* torn lines claimed by audit.torn */
	unsigned char	 head[AUDIT_HASH_LEN];	/* last good entry's hash */
	bool		 broken;
	uint64_t	 bad_entry;	/* the entry expected there; 0: header */
	uint64_t	 bad_line;	/* 1-based; the header is line 1 */
	char		 why[256];
	bool		 empty;		/* no header at all */
	/* Broken only by a last line cut short: a crash while writing. */
	bool		 torn_tail;
	size_t		 tail_bytes;
	unsigned char	 tail_hash[AUDIT_HASH_LEN];
	bool		 unterminated;	/* last entry good but lacks its '\n' */
	char		 first[256];	/* the first entry's event, cut short */
};

/*
 * Open (creating, mode 0600) or continue the trail at path, verifying it
 * whole; a torn last line is kept and recorded as audit.torn.  -1 with a
 * cause if it cannot be written or its chain is broken.  base (may be
 * NULL) runs the fsync timer; on_failure (may be NULL) is called once if
 * a later write or fsync fails, after which nothing more is appended.
 */
int	 audit_open(const char *path, struct event_base *base,
	    void (*on_failure)(void), char **cause);
/*
 * Rotate the open trail once it reaches max_bytes (0: never): it becomes
 * <path>.<N> and a new file continues its chain (see audit.c).
 */
void	 audit_set_max_bytes(uint64_t max_bytes);
/* Whether event goes to the trail (false when no trail is open). */
bool	 audit_wanted(const char *event);
/* Append one log line ("event key=value ...") as the next entry. */
void	 audit_append(const char *line);
/* fsync what was appended; 0 also when no trail is open, -1 if it failed. */
int	 audit_sync(void);
/*
 * For the sync thread: the trail's descriptor if entries wait for an
 * fsync (they count as synced from now on), else -1; and the report of
 * that fsync failing, which stops the hub as audit_sync would.
 */
int	 audit_sync_fd(void);
void	 audit_sync_failed(int error);
/* Whether the trail stopped taking entries: nothing more is acknowledged. */
bool	 audit_has_failed(void);
/* Free the fsync timer before its event base goes; the trail stays open. */
void	 audit_detach(void);
/* Sync, close, and log the head (audit.close). */
void	 audit_close(void);
/* Walk the trail at path: 0 with v filled, -1 if it cannot be read. */
int	 audit_verify(const char *path, struct audit_verify *v, char **cause);
/* "entry N (line L) is broken: why", or "N entries, chain intact ...". */
const char *audit_describe(const struct audit_verify *v, char *buf,
	    size_t len);
/* ceptoard -A: print the verdict on out; exit status 0, 1 broken, 66. */
int	 audit_verify_command(const char *path, FILE *out);
/* For -n: 0 if the trail at path is absent or the hub may continue it. */
int	 audit_check(const char *path, char **cause);

/* config.c */
struct config {
	char		*path;
	char		*listen;		/* "host:port" */
	char		*tls_cert;
	char		*tls_key;
	char		*tls_ca;
	char		*tls_min_version;	/* "1.3" or "1.2" */
	char		*tls_crl;		/* CRLs of tls_ca (PEM), or NULL */
	char		*directory;
	char		*store_path;
	char		*store_key;		/* seals stored bodies */
	char		*store_old_keys;	/* "a,b": open old bodies */
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
	char		*anon_key;		/* pseudonym key file */
	uint64_t	 anon_time_granularity;	/* seconds */
	uint64_t	 anon_k;		/* smallest comfortable anonymity set */
	uint64_t	 review_reminder;	/* seconds; see review.c */
	uint64_t	 review_notify_sender;	/* seconds */
	char		*audit_log;		/* audit trail file; NULL: none */
	uint64_t	 rate_frames;		/* per connection, per second */
	uint64_t	 rate_org_submits;	/* per organisation, per second */
	uint64_t	 slow_consumer;		/* seconds a full output may last */
	uint64_t	 audit_log_max;		/* rotate the trail at; 0: never */
	uint64_t	 preauth_log_interval;	/* seconds between summaries */
	uint64_t	 preauth_log_lines;	/* detailed lines per interval */
	uint64_t	 max_conn_per_addr;	/* connections from one address */
	uint64_t	 max_handshakes_per_addr; /* of them before the hello */
	char		*chroot;		/* confine the hub here, if root */
	uint64_t	 seccomp;		/* 1: restrict system calls */
	char		*metrics_listen;	/* "host:port"; NULL: off */
	uint64_t	 metrics_remote;	/* 1: may be non-loopback */
	char		*taxii_listen;		/* "host:port"; NULL: off */
	uint64_t	 taxii_max_content_length; /* request body bytes */
	uint64_t	 taxii_page_size;	/* objects per page at most */
	uint64_t	 taxii_timeout;		/* seconds */
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

/* Impact figures that, all reached (>=), make a report clearly significant. */
enum dir_threshold_field {
	THRESHOLD_USERS, THRESHOLD_MINUTES, THRESHOLD_KW, THRESHOLD_HOUSEHOLDS
};
struct dir_threshold {
	char		*label;		/* e.g. the law it comes from */
	unsigned	 set;		/* bit per dir_threshold_field given */
	uint64_t	 min[4];
};

/* How a hop holder passes a message on: by itself, or after review. */
enum dir_forward { FORWARD_AUTO, FORWARD_REVIEW };

struct dir_sector {
	char	*id;
	char	*name;
	char	*name_ja;
	char	*ministry;		/* ministry id */
	char	*stix_sector;		/* STIX industry-sector-ov value, or NULL */
	char	**ceptoars;		/* CEPTOAR ids of the sector, derived */
	size_t	 nceptoars;
	char	**liaisons;		/* liaison org ids for it, derived */
	size_t	 nliaisons;
	struct dir_threshold *thresholds;
	size_t	 nthresholds;
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
	/* Seconds before a held item is re-announced, the sender told; 0: hub's. */
	uint64_t review_reminder;
	uint64_t review_notify_sender;
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
	enum dir_forward forward_up;		/* reports towards NISC */
	enum dir_forward forward_down;		/* provision towards operators */
	char		*contact_name;
	char		*contact_phone;
	char		*contact_email;
	/* TAXII HTTP Basic: crypto_pwhash_str of its password, or NULL. */
	char		*taxii_basic;
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
	unsigned	 hop;		/* 0: straight from the sender */
	int		 form;		/* CEPTOAR__FORM__* */
	bool		 review;	/* entered when the previous hop forwards */
	bool		 hidden;	/* never shown to the sender */
	const char	*via;		/* the holder relaying it; NULL at hop 0 */
	char		 group[80];	/* holders that release the next hop together */
	/*
	 * A follow-up relayed along a share: the label (0: the message's)
	 * and range (NULL: the message's) of this recipient's form, the
	 * tighter of the share's and the follow-up's.  range points into
	 * the result's owned ranges, or to a constant.
	 */
	int		 tlp;
	const Ceptoar__SharingRange *range;
};

struct route_result {
	struct route_entry	*v;
	size_t			 n;
	size_t			 cap;
	unsigned		 nhops;
	const struct dir_ceptoar *ceptoar;	/* relay of a voluntary report */
	size_t			 anonymity_set;	/* that CEPTOAR's members */
	char			 warning[256];	/* for the sender; "" if none */
	/* route.c: the organisations in v, hashed; 1 + index, 0 empty. */
	size_t			*seen;
	size_t			 seencap;
	size_t			 nseen;		/* entries of v in seen */
	/* Ranges the entries point to, owned (route_chain's); freed with it. */
	Ceptoar__SharingRange	**ranges;
	size_t			 nranges;
};

/*
 * What the hub knows of the message that a reply, a widen request, a
 * consent or a check answer refers to, looked up by the caller.
 */
struct route_ref {
	const char	*hub_id;
	const char	*kind;		/* "report", "consultation", ... */
	const char	*sender;	/* who sent the form the replier holds */
	const char	*originator;	/* who wrote the original */
	const char	*relay;		/* secretariat of an anonymised chain */
	int		 form;		/* form the replier holds */
	int		 tlp;
	bool		 received;	/* the replier holds a delivery of it */
};

/* A hop holder passing on what it holds: the next hop, or a share. */
struct route_fwd {
	const Ceptoar__Message	*original;	/* as its originator sent it */
	const struct dir_org	*originator;
	const struct dir_org	*holder;
	unsigned		 holder_hop;
	int			 holder_form;
	int			 tlp;		/* label in force */
	const Ceptoar__SharingRange *range;	/* range in force, or NULL */
	char			**recipients;	/* a share; none: the next hop */
	size_t			 nrecipients;
	/* The path of an answer (from route_reply); NULL: route_message. */
	const struct route_result *path;
};

/*
 * Decide who receives m from sender, hop by hop.  Returns 0 with out
 * filled, or -1 with *code a wire error code and *cause a malloc'd
 * sentence naming the field or the rule.  Touches nothing but its
 * arguments.  Replies and consents need route_reply instead.
 */
int	 route_message(const Ceptoar__Message *m, const struct dir_org *sender,
	    const struct directory *dir, struct route_result *out,
	    Ceptoar__ErrorCode *code, char **cause);
/* Route a reply, widen request, consent or check answer back along ref. */
int	 route_reply(const Ceptoar__Message *m, const struct dir_org *sender,
	    const struct route_ref *ref, const struct directory *dir,
	    struct route_result *out, Ceptoar__ErrorCode *code, char **cause);
/* The hops after a holder's, or a share checked against TLP and range. */
int	 route_forward(const struct route_fwd *f, const struct directory *dir,
	    struct route_result *out, Ceptoar__ErrorCode *code, char **cause);
/*
 * Whether holder may pass a message labelled tlp to recipient: NULL if
 * so, else the reason in buf.
 */
const char *route_tlp_check(int tlp, const struct dir_org *holder,
	    const struct dir_org *recipient, const struct directory *dir,
	    char *buf, size_t len);
/*
 * Whether recipient lies within a report's sharing range; as above.
 * blind: asked for a holder of the anonymised form, to whom the
 * originator is a member like any other (no oracle).
 */
const char *route_range_check(const Ceptoar__SharingRange *range,
	    const struct dir_org *originator, const char *sector,
	    const struct dir_ceptoar *c, const struct dir_org *recipient,
	    const struct directory *dir, bool blind, char *buf, size_t len);
/*
 * Whether range want is no wider than range have (a holder narrowing a
 * range on forward); blind as above, originator its organisation id.
 */
bool	 route_range_narrower(const Ceptoar__SharingRange *want,
	    const Ceptoar__SharingRange *have, const char *originator,
	    bool blind);
/* Why the routing policy refuses a request: what travels on the wire. */
struct route_refusal {
	Ceptoar__ErrorCode	 code;
	const char		*field;		/* NULL: the request as a whole */
	char			 reason[300];
};
/* What a holder asks of the label and range of what it forwards. */
struct route_relabel {
	int				 held_tlp;	/* as held (RED if none) */
	bool				 has_tlp;	/* a label is asked for */
	int				 tlp;
	bool				 is_report;	/* only reports have a range */
	const Ceptoar__SharingRange	*held_range;	/* NULL: the default */
	const Ceptoar__SharingRange	*sharing;	/* asked; NULL: keep */
	const char			*originator;	/* organisation id */
	bool				 blind;		/* holds the anonymised form */
};
/*
 * Tighten-only: a holder may raise a label or narrow a report's range,
 * never loosen either.  0 with the label and range the forward carries,
 * or -1 with why filled.
 */
int	 route_relabel(const struct route_relabel *in, int *tlp,
	    const Ceptoar__SharingRange **range, struct route_refusal *why);
/*
 * Whether answerer may approve or decline widening the range of a report
 * by reporter (only the reporter may): 0, or -1 with why filled.
 */
int	 route_consent(const char *reporter, const char *answerer,
	    struct route_refusal *why);
/*
 * Whether a plan may be accepted by a hub with (anon_ready) or without an
 * anonymisation key: one that anonymises needs one.  0, or -1 with why.
 */
int	 route_anon_permitted(const struct route_result *plan, bool anon_ready,
	    struct route_refusal *why);
/*
 * Whether an anonymised report of plan is easy to trace back, its
 * CEPTOAR having fewer than anon_k members: true with the warning in buf.
 */
bool	 route_anon_set_warning(const struct route_result *plan,
	    uint64_t anon_k, char *buf, size_t len);
/*
 * Whether held, the range a holder's form of a report carries, was
 * narrowed on the way (a share's forward.sharing) from original, the
 * range the report itself carries: narrower, and not merely the same
 * range without the originator (as an anonymised form lists it).
 */
bool	 route_range_narrowed(const Ceptoar__SharingRange *held,
	    const Ceptoar__SharingRange *original, const char *originator);
/*
 * The tighter of two ranges: a or b, whichever is no wider than the
 * other, or when neither is (two lists of names, say), the reporter's
 * default (liaison and NISC), narrower than both.  blind and originator
 * as in route_range_narrower.
 */
const Ceptoar__SharingRange *route_range_tighter(
	    const Ceptoar__SharingRange *a, const Ceptoar__SharingRange *b,
	    const char *originator, bool blind);
/* The form recipient may receive of report r under attribution consent. */
int	 route_form_for(const Ceptoar__Report *r, const struct dir_org *originator,
	    const struct dir_org *recipient);
/* The sector a report from sender belongs to, or NULL. */
const struct dir_sector *route_report_sector(const Ceptoar__Report *r,
	    const struct dir_org *sender, const struct directory *dir);
/*
 * The thresholds of sector s that report r reaches, as flag strings in
 * out (at most max); returns how many.
 */
size_t	 route_threshold_flags(const Ceptoar__Report *r,
	    const struct dir_sector *s, char out[][160], size_t max);
/*
 * Add org at hop in form, relayed by via (a follow-up reaching where the
 * chain was shared); -1 only when out of memory.
 */
int	 route_extend(struct route_result *, const struct directory *,
	    const char *org, unsigned hop, int form, const char *via);
/* Whether any recipient of the plan gets the anonymised form. */
bool	 route_anonymises(const struct route_result *);
/* Keep only entries whose organisation is in orgs (a follow-up's reach). */
void	 route_restrict(struct route_result *, const char *const *orgs,
	    size_t n);
/* One delivery of a chain's first report (or of a form made from it). */
struct route_chain_row {
	const char	*org;
	unsigned	 hop;
	int		 form;
	const char	*via;		/* who relayed it; NULL at hop 0 */
	bool		 hidden;
	bool		 holding;	/* org still holds it for review */
	int		 tlp;		/* label of the form it got; 0: unknown */
	/* The range that form carries; NULL: none. */
	const Ceptoar__SharingRange *range;
};
/*
 * The plan of follow-up m, sent by sender, of the chain whose first
 * message is first, delivered as rows: exactly those rows, at their hop,
 * from their relaying holder, in the stricter form of the row's and of
 * m's consent; review as m's own route (fresh, from route_message) has
 * it; and where a holder still holds the first, m's own route beyond it,
 * held with it.  A row that is a share (on none of m's own paths) gets
 * m in the tighter of its form's label and range and m's.  Refused (-1,
 * code, cause naming report.chain_id) when first is not a report, or m
 * would turn a mandatory chain voluntary or the reverse, or move it to
 * another CEPTOAR, or nobody remains at hop 0.
 */
int	 route_chain(const Ceptoar__Message *m, const struct dir_org *sender,
	    const Ceptoar__Message *first, const struct route_result *fresh,
	    const struct route_chain_row *rows, size_t nrows,
	    const struct directory *dir, struct route_result *out,
	    Ceptoar__ErrorCode *code, char **cause);
void	 route_result_free(struct route_result *);

/* cause.c: a malloc'd sentence in *cause (NULL cause: nothing). */
void	 cause_set(char **cause, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 cause_vset(char **cause, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
/* The hub's secret keys (store_key, anon_key) are files of 32 bytes. */
#define KEYFILE_LEN	32
int	 keyfile_read(const char *path, const char *what,
	    unsigned char key[KEYFILE_LEN], char **cause);

/* anon.c: de-identification of reports, pure given its policy. */
/*
 * Drop what the hub adds on the way (hop notes, the relay) from m: an
 * anonymised form starts without them, and no client may set them.
 */
void	 anon_clear_trail(Ceptoar__Message *m);
#define ANON_PSEUDONYM_LEN	32

struct anon_policy {
	unsigned char	 key[KEYFILE_LEN];	/* keys pseudonyms; never logged */
	uint32_t	 time_granularity;	/* seconds; times round down to it */
	uint32_t	 k_min;			/* warn below this anonymity set */
	/*
	 * The largest anonymised form, packed, the caller can carry (the
	 * frame limit); 0: no bound but anon.c's fixed ratio.
	 */
	size_t		 max_form;
	/* privsep: the parent has key, and this asks it (0, or -1) */
	int		(*remote)(const char *tag, const char *reporter,
			    const char *value, unsigned char *out,
			    size_t outlen);
};

struct anon_result {
	Ceptoar__Message *msg;		/* the anonymised form; anon_result_free */
	bool		 vouched;	/* false: hold for the secretariat's review */
	char		*why;		/* why not vouched; NULL when vouched */
	unsigned	 replaced;	/* how many identifying strings were removed */
};

/*
 * The anonymised form of report m from reporter, relayed by the CEPTOAR
 * c: identity, contact and internal identifiers removed, a pseudonym per
 * chain, times coarsened, impact figures bucketed, free text scrubbed.
 * Returns 0 with out filled, or -1 with a cause.
 */
int	 anon_report(const Ceptoar__Message *m, const struct dir_org *reporter,
	    const struct dir_ceptoar *c, const struct directory *dir,
	    const struct anon_policy *pol, struct anon_result *out,
	    char **cause);
void	 anon_result_free(struct anon_result *);
/*
 * Scrub text of what identifies reporter; a malloc'd copy.  *vouched is
 * false, with *why set, when what remains may still identify it.  Text
 * and identifiers are compared after NFKC and case folding (defanged
 * forms read as such); each match replaces the span of the original it
 * came from, the rest is kept as written.  The copy is never longer
 * than the text plus an eighth plus 64 bytes (see anon_scrub_within).
 */
char	*anon_scrub(const char *text, const struct dir_org *reporter,
	    const struct directory *dir, bool *vouched, char **why,
	    unsigned *replaced);
/*
 * anon_scrub, also removing the extra strings that identify the reporter
 * in one report (its contact's name, phone and email): one with '@' is
 * a mail address, one of digits and + - ( ) . a phone number, anything
 * else a person's name, removed whole and, when it reads as two or three
 * name words, word by word.  NULL when out of memory; why and replaced
 * may be NULL; *why is malloc'd.
 */
char	*anon_scrub_extra(const char *text, const struct dir_org *reporter,
	    const struct directory *dir, const char *const *extra,
	    size_t nextra, bool *vouched, char **why, unsigned *replaced);
/*
 * anon_scrub_extra with the result at most max bytes: the long markers
 * when they fit, else the short ones ([o] [p] [d] [e] [t] [a], never
 * longer than what they replace), else cut at max with *vouched false
 * and a reason.  anon_scrub and anon_scrub_extra use a fixed bound: the
 * text's length, plus an eighth, plus 64 bytes.
 */
char	*anon_scrub_within(const char *text, const struct dir_org *reporter,
	    const struct directory *dir, const char *const *extra,
	    size_t nextra, size_t max, bool *vouched, char **why,
	    unsigned *replaced);
/* One registered identifier of a reporter found in a text. */
struct anon_span {
	const char	*kind;		/* its placeholder: "[organisation]"... */
	size_t		 offset;	/* first byte, in the text as given */
	size_t		 len;		/* bytes, in the text as given */
};
/*
 * The reporter's registered identifiers in text: its names in any
 * script, id, certificate CN, domains (hosts and URLs under them, also
 * defanged), mail and phone as registered, addresses in its networks
 * (any notation, also defanged), its contact person whole and by name
 * word, and the extra strings as in anon_scrub_extra.  Matched after
 * NFKC and case folding, as the scrubber does; generic finds (any mail
 * address, phone number or private address) are not reported.  Returns
 * 0 with *spans (malloc'd; free it) in order, not overlapping, each
 * widened to whole characters, and *nspans; -1 when out of memory.
 * A field's text with no span carries no registered identifier; text
 * or reporter NULL has none.  Pure, like the rest of anon.c.
 */
int	 anon_find_identifiers(const char *text, const struct dir_org *reporter,
	    const char *const *extra, size_t nextra, struct anon_span **spans,
	    size_t *nspans);
/* The pseudonym of a chain: the same for every report of the chain. */
void	 anon_pseudonym(const struct anon_policy *, const char *reporter,
	    const char *chain_id, char out[ANON_PSEUDONYM_LEN]);
/* Round t down to the policy's granularity. */
int64_t	 anon_coarsen_time(const struct anon_policy *, int64_t t);
/* The bucket a figure falls in: its lower bound on a 1-2-5 series. */
uint64_t anon_bucket(uint64_t v);
/* Load the pseudonym key from a file of 32 random bytes (mode 0600). */
int	 anon_load_key(const char *path, struct anon_policy *, char **cause);
/*
 * BLAKE2b keyed with pol's key over tag, reporter and value: what every
 * pseudonym and anonymised uuid is made of.  With pol->remote (the
 * worker) the parent computes it (privsep_anon_hash).
 */
void	 anon_keyed_hash(const struct anon_policy *, const char *tag,
	    const char *reporter, const char *value, unsigned char *out,
	    size_t outlen);

/* stix.c: a delivered form as STIX 2.1 objects, pure. */
struct stix_form {
	const Ceptoar__Message	*msg;		/* the form as the reader got it */
	int			 form;		/* Ceptoar__Form it was delivered in */
	const char		*hub_id;	/* the reader's hub id of it */
	const char		*creator;	/* its author's org id (original form) */
	int64_t			 created_ms;	/* first version: the chain's start */
	int64_t			 modified_ms;	/* this version: when it was delivered */
};
/*
 * Append the STIX objects of form f to the JSON array objs: the creator's
 * identity, then for a report an incident, for an advisory or an early
 * warning a report object, with its indicators and their observables.
 * Returns 0, 1 when the content has no STIX form (replies, checks ...),
 * or -1 with a cause.  An anonymised form's creator is its CEPTOAR.
 */
int	 stix_objects(const struct stix_form *f, const struct directory *dir,
	    json_t *objs, char **cause);
/* The TLP 2.0 marking-definition object of label tlp, or NULL. */
json_t	*stix_tlp_marking(int tlp);
/* The marking-definition id of label tlp, or NULL. */
const char *stix_tlp_marking_id(int tlp);
/* The label a marking-definition id stands for (TLP 2.0, TLP 1.0, and
 * OpenCTI's AMBER+STRICT), or 0 when it is none of them. */
int	 stix_tlp_from_marking(const char *id);
/* The extension-definition of the hub's own property extension. */
json_t	*stix_hub_extension(void);
/* The identity of the hub, which created that definition. */
json_t	*stix_hub_identity(void);
/*
 * The report an operator's STIX incident stands for (TAXII's write side):
 * name, description, the TLP marking (the strictest of several) and the
 * hub's extension (kind, cause, event type, legal mandate, stage,
 * revision, range, attribution, drill, severity, impact, times,
 * contact); the incident's id is the uuid, so posting it again files
 * nothing new.  0 with *out (ceptoar__message__free_unpacked), or -1
 * with *property (malloc'd, may be NULL) the STIX property at fault and
 * a cause.  The result still goes through validate_message.
 */
int	 stix_to_report(json_t *incident, Ceptoar__Message **out,
	    char **property, char **cause);
/* The STIX property a validation error's report field stands for. */
const char *stix_property_of(const char *field, char *buf, size_t len);
/* ms since the epoch as a STIX timestamp, to the millisecond, with Z. */
void	 stix_timestamp(int64_t ms, char *out, size_t len);

/* taxii.c: TAXII 2.1's read side, pure: queries in, pages out. */
#define TAXII_KEY_LEN		32
#define TAXII_MEDIA_TYPE	"application/taxii+json;version=2.1"
#define TAXII_STIX_MEDIA_TYPE	"application/stix+json;version=2.1"

/* Who reads which collection, and what the hub pages with. */
struct taxii_reader {
	const char		*org;		/* authenticated organisation */
	const char		*collection;	/* collection id it reads */
	const unsigned char	*key;		/* TAXII_KEY_LEN bytes for next */
	unsigned		 max_limit;	/* objects a page holds at most */
};

enum taxii_version { TAXII_VERSION_LAST, TAXII_VERSION_FIRST,
    TAXII_VERSION_ALL };

struct taxii_query {
	bool		 has_added_after;
	int64_t		 added_after_ms;
	unsigned	 limit;		/* objects, at most the reader's max */
	bool		 has_next;	/* a next of this collection was given */
	uint64_t	 after_seq;	/* its position: read after it */
	char		**ids, **types;	/* match[id], match[type] */
	size_t		 n_ids, n_types;
	enum taxii_version version;	/* match[version] */
	bool		 spec_ok;	/* match[spec_version] allows 2.1 */
};

/* One delivery of the reader's inbox, as STIX objects. */
struct taxii_item {
	uint64_t	 seq;		/* inbox sequence number */
	int64_t		 date_added_ms;	/* when the reader could first see it */
	json_t		*objects;	/* its STIX objects, borrowed */
};

struct taxii_page {
	json_t		*envelope;	/* {more, next, objects}; caller decrefs */
	bool		 more;
	uint64_t	 last_seq;	/* the position next names */
	char		 next[64];
	char		 date_added_first[40];	/* "" when no objects */
	char		 date_added_last[40];
};

/*
 * Parse a request's query string for reader r into q.  A next of
 * another collection is ignored; one the hub did not give this reader
 * is refused.  Returns 0, or -1 with *field the parameter at fault and a
 * cause (HTTP 400).  taxii_query_free releases q.
 */
int	 taxii_query_parse(const char *query, const struct taxii_reader *r,
	    struct taxii_query *q, char **field, char **cause);
void	 taxii_query_free(struct taxii_query *);
/*
 * The page of the n deliveries items (in inbox order, all after
 * q->after_seq, all the reader may see; more_after when the inbox holds
 * more than items) under q's filters.  Returns 0 with page filled, 1
 * when every item was filtered out and more remain (read further from
 * page->last_seq and call again: a page with more never comes empty),
 * or -1 with a cause.
 */
int	 taxii_page(const struct taxii_reader *r, const struct taxii_query *q,
	    const struct taxii_item *items, size_t n, bool more_after,
	    struct taxii_page *page, char **cause);
/* The next token of reader at inbox position seq of collection. */
void	 taxii_next_token(const unsigned char key[TAXII_KEY_LEN],
	    const char *reader, const char *collection, uint64_t seq,
	    char *out, size_t len);
/* ms since the epoch as TAXII writes it: microseconds and Z. */
void	 taxii_timestamp(int64_t ms, char *out, size_t len);
/* A TAXII or STIX timestamp to ms (finer digits dropped); 0 or -1. */
int	 taxii_timestamp_parse(const char *s, int64_t *ms);
/*
 * taxii_http.c: TAXII 2.1 over HTTPS on taxii_listen (evhttp over the
 * hub's TLS bufferevents).  taxii_start does nothing when it is unset;
 * call it before confinement (it binds, and reads store_key for the
 * key of next tokens).  0, or -1 with a cause.
 */
int	 taxii_start(struct event_base *, char **cause);
/* The address served, "host:port", or NULL when off. */
const char *taxii_address(void);
/* Stop serving: open connections are closed. */
void	 taxii_stop(void);
/* ceptoard -P: a new TAXII password and its taxii_basic hash, on out. */
int	 taxii_password_command(FILE *out);

/*
 * anon_gate.c: the one gate every string of an anonymised form passes,
 * field by field through the protobuf-c descriptors.
 */
#define ANON_GATE_MAX_EXTRA	3

/* Whom the gate protects: the reporter, and its report's contact. */
struct anon_gate {
	const struct dir_org	*reporter;
	const struct directory	*dir;
	char			*extra[ANON_GATE_MAX_EXTRA];
	size_t			 nextra;
};

/* What the gate found; reasons name fields and spans, never text. */
struct anon_gate_verdict {
	bool		 vouched;	/* false: hold for the secretariat */
	char		 why[320];	/* why not vouched */
	bool		 refused;	/* a holder's words name the reporter */
	char		 field[64];	/* the refused field */
	size_t		 offset, length; /* its offending span, in bytes */
	char		 kind[24];	/* what the scrubber saw: "[person]" ... */
	unsigned	 replaced;	/* strings the scrubber replaced */
	size_t		 strings;	/* string fields passed */
	bool		 nomem;
};

/*
 * The gate for reporter's forms of m (a report or an answer on its way
 * up): its contact, found by walking an answer back to its report in the
 * store.  -1 when out of memory.  Free with anon_gate_free.
 */
int	 anon_gate_init(struct anon_gate *g, const struct dir_org *reporter,
	    const Ceptoar__Message *m);
void	 anon_gate_free(struct anon_gate *g);
/*
 * Scrub every string of m in place (hub-set identifier fields are
 * compared, not rewritten) and judge it: v->vouched false holds the form.
 * -1 when out of memory.
 */
int	 anon_gate_message(Ceptoar__Message *m, const struct anon_gate *g,
	    struct anon_gate_verdict *v);
/*
 * Words a holder that knows the reporter adds to a form that goes up
 * anonymised: 0 clean, 1 refused (v names the field and the first span
 * the scrubber would replace), -1 out of memory.
 */
int	 anon_gate_holder_text(const struct anon_gate *g, const char *field,
	    const char *text, struct anon_gate_verdict *v);
/* anon_gate_holder_text for a forward's note and reviewed text. */
int	 anon_gate_forward(const Ceptoar__Forward *fw,
	    const struct anon_gate *g, struct anon_gate_verdict *v);
/* The refusal as a sentence for the wire (no text of the message). */
const char *anon_gate_refusal(const struct anon_gate_verdict *v, char *buf,
	    size_t len);

/* store.c: the store interface; backends in store_*.c. */
#define STORE_HUB_ID_LEN	40
#define STORE_KEY_LEN		KEYFILE_LEN	/* bytes in a store key file */

struct store;
/* The keys that seal stored bodies: the current one and old ones. */
struct store_keys;

struct store_message {
	uint64_t	 seq;		/* set by store_insert: global order */
	char		 hub_id[STORE_HUB_ID_LEN];
	const char	*sender;	/* organisation id */
	const char	*uuid;		/* client idempotency key */
	const char	*kind;		/* "report", "advisory", "early_warning" */
	int64_t		 received_at;	/* unix seconds */
	const uint8_t	*body;		/* packed Ceptoar__Message */
	size_t		 body_len;
	/*
	 * The hub id of the original this form derives from (always the
	 * original itself, never an intermediate form); NULL for an original.
	 */
	const char	*origin;
	const char	*chain_id;	/* chain key; NULL: none */
	/* CEPTOAR__FORM__FORM_ORIGINAL (1) or _ANONYMISED (2); 0 means 1. */
	int		 form;
	unsigned	 hop;		/* the hop it was made for; 0: original */
	const char	*in_reply_to;	/* hub id it answers; NULL: none */
};

struct store_recipient {
	const char	*org;
	const char	*reason;
	unsigned	 hop;		/* 0: straight from the sender */
	int		 form;		/* as above */
	bool		 review;	/* holds the hop: reviews, forwards */
	bool		 hidden;	/* withheld from the sender's receipts */
	uint64_t	 seq;		/* set by store_insert: its inbox seq */
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
	unsigned	 hop;
	int		 form;
	bool		 review;
	int64_t		 delivered_at;	/* first time sent; 0 never */
	int64_t		 forwarded_at;	/* when this holder forwarded; 0 not */
	bool		 hidden;	/* withheld from the sender's receipts */
	int64_t		 visible_at;	/* ms: when the recipient could see it */
	const char	*origin;	/* the message's; NULL for originals */
	const char	*chain_id;
	const char	*in_reply_to;
	const char	*kind;
	uint64_t	 message_seq;	/* the message's global seq */
	/* The original's widened sharing range (packed), or NULL. */
	const uint8_t	*sharing;
	size_t		 sharing_len;
	/*
	 * Why the stored body could not be opened (altered, moved from
	 * another message, sealed under a key that is not loaded), or NULL.
	 * When set, body is NULL and body_len 0: skip the row, log this.
	 */
	const char	*body_error;
};

/*
 * Return 0 to continue, non-zero to stop the iteration.  What the
 * callback is given points into the store's row and is valid only until
 * it returns; the callback must not call back into the store.  The body
 * is the plaintext, opened by the store for the callback's duration and
 * wiped after it: copy what must outlive the call.
 */
typedef int (*store_delivery_cb)(const struct store_delivery *, void *arg);

/*
 * Load the keys that seal message bodies at rest: current, the key file
 * new bodies are sealed with, and old, a comma-separated list of key
 * files (NULL or "" for none) that only open bodies sealed before a
 * rotation.  Every file must be a regular file of exactly STORE_KEY_LEN
 * bytes, not all zeros, with no permission for group or others.  The
 * keys live in locked memory, wiped by store_keys_free.  NULL with a
 * cause naming the file and the remedy otherwise.
 */
struct store_keys *store_keys_load(const char *current, const char *old,
	    char **cause);
void	 store_keys_free(struct store_keys *);

/*
 * One body of a batch to seal or open (store_keys_seal, _open).  Seal:
 * in is the plaintext; out the sealed body, digest the keyed digest of
 * the plaintext, key_id the current key's.  Open: in is a stored body;
 * on error 0, out the plaintext (which the caller wipes), digest its
 * keyed digest under the key that opened it, key_id that key; on error
 * a STORE_OPEN_* code and out NULL.  out is malloc'd: the caller frees.
 */
struct store_seal_item {
	const char	*hub_id;	/* with sender, the row it is bound to */
	const char	*sender;
	const uint8_t	*in;
	size_t		 in_len;
	uint8_t		*out;
	size_t		 out_len;
	unsigned char	 digest[32];
	uint32_t	 key_id;
	int		 error;
};
enum store_open_error {
	STORE_OPEN_OK = 0,
	STORE_OPEN_SHORT,	/* too short to be sealed */
	STORE_OPEN_VERSION,	/* a seal version we do not know */
	STORE_OPEN_NOKEY,	/* sealed under a key that is not loaded */
	STORE_OPEN_ALTERED,	/* does not open: altered or moved */
	STORE_OPEN_NOMEM,
	STORE_OPEN_MAX = STORE_OPEN_NOMEM
};
enum store_seal_op {
	STORE_SEAL_OP_SEAL = 1,
	STORE_SEAL_OP_OPEN
};
/*
 * Seals or opens a batch elsewhere (the privsep parent, which holds the
 * keys): 0 with every item answered, or -1 with a cause and no out set.
 */
typedef int (*store_seal_fn)(enum store_seal_op, struct store_seal_item *,
	    size_t n, char **cause);
/*
 * Keys held elsewhere: the key files' paths (as for store_keys_load,
 * for messages) and the ids of those keys, current first, which the
 * holder reported; fn seals and opens.  NULL with a cause.
 */
struct store_keys *store_keys_remote(const char *current, const char *old,
	    const uint32_t *ids, size_t nids, store_seal_fn fn, char **cause);
/* The ids of the loaded keys, current first; their number. */
size_t	 store_keys_ids(const struct store_keys *, uint32_t *ids, size_t max);
/* Seal (with the current key) or open a batch; -1 with a cause. */
int	 store_keys_seal(const struct store_keys *, struct store_seal_item *,
	    size_t n, char **cause);
int	 store_keys_open(const struct store_keys *, struct store_seal_item *,
	    size_t n, char **cause);

/* privsep.c, continued: the store keys stay with the parent. */
/* Parent: keep the store keys (taken over) to seal and open for the worker. */
void	 privsep_parent_store(struct store_keys *);
/*
 * Parent: seal or open (op) the batch in the memory file pass with keys,
 * for the worker: the descriptor of a memory file holding the answer,
 * with the number of bodies and the request's size, or -1 with a cause.
 * Whatever the file holds is checked before it is used.
 */
int	 privsep_store_serve(struct store_keys *, enum store_seal_op, int pass,
	    size_t *nbodies, size_t *nbytes, char **cause);
/* Worker: the ids of the parent's store keys, current first. */
int	 privsep_store_keys(uint32_t *ids, size_t max, size_t *n, char **cause);
/* Worker: the store_seal_fn that has the parent seal and open bodies. */
int	 privsep_store_crypt(enum store_seal_op, struct store_seal_item *,
	    size_t n, char **cause);
/*
 * The codec of those batches, on the worker's side and the parent's: a
 * request and its answer are each at most PRIVSEP_BULK_MAX bytes and
 * PRIVSEP_BULK_ITEMS bodies.  Encoding: 0 with a malloc'd buffer, or -1
 * with a cause.  privsep_bulk_decode points the items into buf and into
 * *names (malloc'd, as is *v); decode_answer fills the n items it was
 * asked for, out malloc'd.  Both refuse whatever does not fit the format
 * or its bounds, with a cause.
 */
#define PRIVSEP_BULK_MAX	(64u << 20)
#define PRIVSEP_BULK_ITEMS	65536
#define PRIVSEP_SENDER_MAX	255
int	 privsep_bulk_encode(const struct store_seal_item *, size_t n,
	    uint8_t **buf, size_t *len, char **cause);
int	 privsep_bulk_decode(const uint8_t *buf, size_t len,
	    struct store_seal_item **v, size_t *n, char **names, char **cause);
int	 privsep_bulk_encode_answer(const struct store_seal_item *, size_t n,
	    uint8_t **buf, size_t *len, char **cause);
int	 privsep_bulk_decode_answer(enum store_seal_op, const uint8_t *buf,
	    size_t len, struct store_seal_item *v, size_t n, char **cause);

/*
 * Open the store at path ("sqlite:/var/db/ceptoard/hub.db" or a plain
 * path for the default backend), sealing and opening bodies with keys.
 * The store takes keys over whatever happens: store_close frees them,
 * and so does a failed open.  Refused: no keys, and a store holding
 * bodies sealed under a key that is not among them.  Bodies an older
 * version left unsealed are sealed with the current key here.  NULL
 * with a cause on failure.
 */
struct store *store_open(const char *path, struct store_keys *keys,
	    char **cause);
void	 store_close(struct store *);
const char *store_backend_name(const struct store *);
/* The current key's id, derived from the key, for logs ("%08x"). */
uint32_t store_key_id(const struct store *);
/* Messages sealed under an old key when the store was opened. */
uint64_t store_stale(const struct store *);
/*
 * Re-seal every body not sealed with the current key, a batch of
 * messages per transaction, then clear the write-ahead log of the old
 * ciphertexts.  *resealed counts the bodies re-sealed, also on error.
 * Afterwards no stored body needs an old key.  Safe beside a running
 * hub that has the same current key.
 */
int	 store_rekey(struct store *, uint64_t *resealed, char **cause);

/* Submits are grouped: begin, any number of lookup/insert, commit. */
int	 store_begin(struct store *, char **cause);
/*
 * Seal the bodies of messages about to be inserted in the open group in
 * one batch, so that keys held elsewhere cost one round trip per group:
 * store_insert takes a message's sealed body from here when its hub_id,
 * sender and body are unchanged, and seals it alone otherwise.  What is
 * not taken goes at commit or rollback.  With keys held here it does
 * nothing.  -1 with a cause (the inserts then seal one by one).
 */
int	 store_preseal(struct store *, struct store_message *const *m,
	    size_t n, char **cause);
/*
 * Idempotency: 1 if sender already stored uuid (hub_id, seq and the
 * unkeyed BLAKE2b-256 digest of the stored body's plaintext filled in),
 * 0 if not, -1 on error, also when the stored body does not open.
 */
int	 store_lookup_uuid(struct store *, const char *sender, const char *uuid,
	    char hub_id[STORE_HUB_ID_LEN], uint64_t *seq,
	    unsigned char digest[32], char **cause);
/*
 * Insert m and one delivery per recipient; sets m->seq.  Refused before
 * anything is written: a form other than 0, 1 or 2, an anonymised form
 * without an origin, an empty (rather than NULL) origin, chain_id or
 * in_reply_to, and an origin or in_reply_to naming m itself.
 */
int	 store_insert(struct store *, struct store_message *m,
	    struct store_recipient *r, size_t nr, char **cause);
/*
 * One request inside a group: store_item_begin before its writes (with
 * isolate, a savepoint: needed when it writes more than one message or
 * mark; a single insert is refused whole by the backend on its own),
 * store_item_end after them.  On a failed write, store_item_undo takes
 * back what the request wrote and returns 0 if the group goes on without
 * it, -1 if the group is lost (an I/O error) and must be rolled back.
 */
int	 store_item_begin(struct store *, bool isolate, char **cause);
int	 store_item_end(struct store *, char **cause);
int	 store_item_undo(struct store *);
/* Commit: on return 0 everything inserted is fsynced. */
int	 store_commit(struct store *, char **cause);
void	 store_rollback(struct store *);

/* Unacknowledged deliveries of recipient with seq > after, in order. */
int	 store_pending(struct store *, const char *recipient, uint64_t after,
	    size_t limit, store_delivery_cb cb, void *arg, char **cause);
/* The same, only up to seq upto: what is known to be durable. */
int	 store_pending_upto(struct store *, const char *recipient,
	    uint64_t after, uint64_t upto, size_t limit, store_delivery_cb cb,
	    void *arg, char **cause);
/* How many of those store_pending would give (limit 0: all), unopened. */
int	 store_pending_count(struct store *, const char *recipient,
	    uint64_t after, size_t limit, uint64_t *n, char **cause);
/*
 * Every delivery of recipient with after < seq <= upto, acknowledged or
 * not, in order, each with when it became visible (visible_at, never
 * earlier than the one before it in the inbox): what a TAXII reader of
 * the inbox reads.
 */
int	 store_inbox_read(struct store *, const char *recipient,
	    uint64_t after, uint64_t upto, size_t limit, store_delivery_cb cb,
	    void *arg, char **cause);
/*
 * Pipelined durability, see store_backend.  store_sync and
 * store_checkpoint are the only store calls the sync thread makes.
 */
int	 store_pipeline(struct store *, char **cause);
int	 store_sync(struct store *, bool full, char **cause);
void	 store_checkpoint(struct store *, uint64_t limit);
/*
 * Take back messages whose sync failed, with their deliveries, and the
 * marks made with them: a forwarded mark and a widened range set in the
 * same request of a group (store_mark_forwarded, store_set_sharing) are
 * as they were before it, so an undone group leaves no trace.
 */
int	 store_undo(struct store *, const uint64_t *seqs, size_t n,
	    char **cause);
/*
 * Messages up to seq are durable (their sync is done): the marks made
 * with them can no longer be taken back, and are forgotten.  Without
 * store_pipeline a commit is durable itself and needs no call.
 */
void	 store_durable(struct store *, uint64_t seq);
/* Acknowledge seqs of recipient; *nacked counts the ones newly acked. */
int	 store_ack(struct store *, const char *recipient, const uint64_t *seqs,
	    size_t n, int64_t now, size_t *nacked, char **cause);
/* The same, with when each was sent, for deliveries never marked sent. */
int	 store_ack_sent(struct store *, const char *recipient,
	    const uint64_t *seqs, const int64_t *sent, size_t n, int64_t now,
	    size_t *nacked, char **cause);
/*
 * The message hub_id as org may see it: as its sender (seq 0, reason
 * "sent", the message's hop and form, review false) or as a recipient
 * (its delivery).  0 found, 1 not visible to org, -1 error.
 */
int	 store_fetch(struct store *, const char *org, const char *hub_id,
	    store_delivery_cb cb, void *arg, char **cause);
/* Highest delivery seq and number of unacknowledged deliveries. */
int	 store_inbox_state(struct store *, const char *recipient,
	    uint64_t *last_seq, uint64_t *pending, char **cause);
/*
 * Deliveries held for their holder's review and not yet forwarded, and
 * when the oldest of them was received (0: none), for metrics.
 */
int	 store_held_count(struct store *, uint64_t *n, int64_t *oldest,
	    char **cause);

/*
 * Relay hops, receipts, follow-ups and replies.  The marks and
 * store_set_sharing join an open group (and go with its rollback);
 * outside one each is a transaction of its own.  All return -1 with a
 * cause on error.
 *
 * Record the first time a delivery went out; later calls change nothing.
 * An unknown seq marks nothing and is not an error.  Outside a group the
 * mark is not fsynced on its own: the next durable commit carries it.
 */
int	 store_mark_delivered(struct store *, const char *recipient,
	    uint64_t seq, int64_t now, char **cause);
/*
 * Record that holder forwarded hub_id (its delivery of it); 0, or 1 if
 * holder has no delivery of hub_id.  The first time is kept.
 */
int	 store_mark_forwarded(struct store *, const char *holder,
	    const char *hub_id, int64_t now, char **cause);
/*
 * The message hub_id regardless of who asks (the hub's own view): 0 found
 * (cb called once, seq 0, recipient NULL, reason "stored"), 1 not found.
 */
int	 store_message(struct store *, const char *hub_id,
	    store_delivery_cb cb, void *arg, char **cause);
/* org's own delivery of hub_id: 0 found (cb once), 1 none. */
int	 store_delivery_of(struct store *, const char *org, const char *hub_id,
	    store_delivery_cb cb, void *arg, char **cause);
/*
 * Every delivery of the original hub_id and of every form derived from it
 * (messages whose origin is hub_id), in (hop, recipient) order: for
 * receipts.  cb gets hub_id (of the form), recipient, hop, form, reason,
 * delivered_at, acked_at; body may be NULL here.
 */
int	 store_receipts(struct store *, const char *hub_id,
	    store_delivery_cb cb, void *arg, char **cause);
/*
 * What waits for org's review: its deliveries that hold the next hop
 * (review) and were neither forwarded nor declined, oldest first, with
 * their bodies.
 */
int	 store_held(struct store *, const char *org, store_delivery_cb cb,
	    void *arg, char **cause);
/*
 * How many reports of sender's chain chain_id are stored as sent (the
 * originals at hop 0, not their forms): the last revision so far.
 */
int	 store_chain_count(struct store *, const char *sender,
	    const char *chain_id, uint64_t *n, char **cause);
/*
 * Messages answering hub_id (in_reply_to = hub_id), in order: cb per
 * message (seq 0, recipient NULL, reason "stored").
 */
int	 store_replies(struct store *, const char *hub_id,
	    store_delivery_cb cb, void *arg, char **cause);
/*
 * Set or replace the widened sharing range (packed Ceptoar__SharingRange)
 * of the original hub_id; inside or outside a group.  0 set, 1 no such
 * original (unknown, or a derived form).  Deliveries of the original and
 * of its derived forms carry it as their sharing override.
 */
int	 store_set_sharing(struct store *, const char *hub_id,
	    const uint8_t *packed, size_t len, char **cause);

/*
 * A mark to take back with an undone group (store_undo): clear holder's
 * forwarded mark of hub_id, or put back the sharing range of the
 * original hub_id as it was (old NULL: none).
 */
struct store_undo_mark {
	bool		 sharing;
	const char	*holder;
	const char	*hub_id;
	const uint8_t	*old;
	size_t		 oldlen;
};

/*
 * A storage backend.  store.c checks arguments and the transaction
 * state, seals and opens bodies, computes their digests, and calls one
 * of these; a backend only ever sees sealed bodies and hands them back
 * as stored.  Each function gets the handle its open returned; causes
 * are malloc'd sentences naming the operation and the key.
 *
 * The contract, which tests/unit/test_store_contract.c checks against
 * every backend:
 *
 * - Calls come from one thread (the event loop), one at a time, never
 *   from inside one of the backend's own callbacks (store.c refuses
 *   those).  sync and checkpoint are the exception: see there.
 * - Writes happen inside a group (begin ... commit or rollback), except
 *   ack, mark_delivered, mark_forwarded and set_sharing, which outside a
 *   group are a transaction of their own.  Reads see what the open group
 *   wrote.
 * - A group is all or nothing: after a rollback, or a failed commit,
 *   nothing of it is stored and every number it assigned may be assigned
 *   again.
 * - Numbers: m->seq is global, unique and never reused, increasing in
 *   one writer's order (no reader follows it as a cursor).  A
 *   recipient's r->seq (its cursor) is per inbox, starts at 1 and
 *   increases by one per delivery (a rolled-back group may leave a gap),
 *   and a reader following its cursor never passes a row that commits
 *   later, even with several writers (nodes) on one store.
 * - Callbacks get rows valid until they return; non-zero stops the walk
 *   and is not an error.  A walk of nothing returns 0.
 * - Every operation returns -1 with a cause on an error of the backend
 *   (I/O, memory, lost connection); results 0 and 1 are as stated per
 *   operation.
 *
 * The durability operations at the end are optional (NULL): a backend
 * without pipeline commits durably (commit returns only once the group
 * would survive a crash), so store_sync, store_checkpoint and store_undo
 * have nothing to do and return 0; one without scrub keeps no readable
 * copy of a replaced body.  A backend with pipeline must have sync and
 * undo.
 */
struct store_backend {
	const char	*name;		/* "sqlite", for logs */
	const char	*prefix;	/* "sqlite:", claimed in store paths */
	/*
	 * Open (creating or migrating the schema to this version's) the
	 * store at path, the part after the prefix; refuse a newer schema
	 * or a file or database that is not a store.
	 */
	void	*(*open)(const char *path, char **cause);
	/* Release everything; an open group is rolled back. */
	void	 (*close)(void *be);
	/* Open a group; none is open. */
	int	 (*begin)(void *be, char **cause);
	/*
	 * 1 if sender stored uuid (in a committed group or the open one):
	 * hub_id, seq, the keyed digest and a malloc'd copy of the sealed
	 * body in *body filled in; 0 if not.
	 */
	int	 (*lookup_uuid)(void *be, const char *sender, const char *uuid,
		    char hub_id[STORE_HUB_ID_LEN], uint64_t *seq,
		    unsigned char digest[32], uint8_t **body, size_t *body_len,
		    char **cause);
	/*
	 * Inside a group, add m (its body sealed under key_id) and one
	 * delivery per recipient; set m->seq and each r[i].seq.  On -1
	 * after a refusal (hub_id or uuid already stored, recipient named
	 * twice) nothing of m is stored and the group goes on; after an
	 * I/O or memory error the group is lost and commit fails.
	 */
	int	 (*insert)(void *be, struct store_message *m,
		    const unsigned char digest[32], uint32_t key_id,
		    struct store_recipient *r, size_t nr, char **cause);
	/*
	 * A request inside the open group (see store_item_begin): op 0
	 * begins it (isolate: everything it writes can be taken back), 1
	 * ends it, 2 undoes it and returns 0 if the group goes on, -1 if
	 * it is lost.
	 */
	int	 (*item)(void *be, int op, bool isolate, char **cause);
	/*
	 * End the group: 0 when everything in it is committed (and, without
	 * pipeline, durable); on -1 it has been rolled back.
	 */
	int	 (*commit)(void *be, char **cause);
	/* Abandon the open group; nothing of it stays. */
	void	 (*rollback)(void *be);
	/*
	 * recipient's unacknowledged deliveries with after < seq <= upto,
	 * in seq order, at most limit (0: no limit), with bodies.
	 */
	int	 (*pending)(void *be, const char *recipient, uint64_t after,
		    uint64_t upto, size_t limit, store_delivery_cb cb,
		    void *arg, char **cause);
	/*
	 * Every delivery with after < seq <= upto, acknowledged or not, with
	 * when it became visible.  Optional (TAXII reads it; NULL: refused).
	 */
	int	 (*inbox_read)(void *be, const char *recipient, uint64_t after,
		    uint64_t upto, size_t limit, store_delivery_cb cb,
		    void *arg, char **cause);
	/*
	 * Acknowledge recipient's deliveries seqs at now; sent[i] is when
	 * seqs[i] was sent (0 or sent NULL: unknown, now), kept only if
	 * none is recorded.  *nacked counts those not acknowledged before;
	 * unknown seqs and repeats count nothing and are not errors.
	 */
	int	 (*ack)(void *be, const char *recipient, const uint64_t *seqs,
		    const int64_t *sent, size_t n, int64_t now, size_t *nacked,
		    char **cause);
	/* See store_fetch: 0 found (cb once), 1 not visible to org. */
	int	 (*fetch)(void *be, const char *org, const char *hub_id,
		    store_delivery_cb cb, void *arg, char **cause);
	/* The last cursor assigned (the open group's too) and pending. */
	int	 (*inbox_state)(void *be, const char *recipient,
		    uint64_t *last_seq, uint64_t *pending, char **cause);
	/* Deliveries with review set, not yet forwarded; oldest received. */
	int	 (*held_count)(void *be, uint64_t *n, int64_t *oldest,
		    char **cause);
	/* The operations of the same names in store.c, as stated there. */
	int	 (*mark_delivered)(void *be, const char *recipient,
		    uint64_t seq, int64_t now, char **cause);
	int	 (*mark_forwarded)(void *be, const char *holder,
		    const char *hub_id, int64_t now, char **cause);
	int	 (*message)(void *be, const char *hub_id,
		    store_delivery_cb cb, void *arg, char **cause);
	int	 (*delivery_of)(void *be, const char *org, const char *hub_id,
		    store_delivery_cb cb, void *arg, char **cause);
	int	 (*receipts)(void *be, const char *hub_id,
		    store_delivery_cb cb, void *arg, char **cause);
	int	 (*held)(void *be, const char *org, store_delivery_cb cb,
		    void *arg, char **cause);
	int	 (*chain_count)(void *be, const char *sender,
		    const char *chain_id, uint64_t *n, char **cause);
	int	 (*replies)(void *be, const char *hub_id,
		    store_delivery_cb cb, void *arg, char **cause);
	int	 (*set_sharing)(void *be, const char *hub_id,
		    const uint8_t *packed, size_t len, char **cause);
	/*
	 * Keys: the distinct key ids bodies are sealed under, ascending;
	 * up to max of them in ids, their number in *n (more than max if
	 * they did not fit), and in *unsealed the number of bodies an
	 * older schema stored in the clear.
	 */
	int	 (*key_ids)(void *be, uint32_t *ids, size_t max, size_t *n,
		    uint64_t *unsealed, char **cause);
	/* The number of bodies sealed under key_id. */
	int	 (*key_count)(void *be, uint32_t key_id, uint64_t *n,
		    char **cause);
	/*
	 * Inside an open group, call cb for up to limit messages after seq
	 * after, in order, whose body is unsealed or, if stale, sealed
	 * under a key other than key_id: with the message's seq, hub_id,
	 * sender, whether it is sealed, and the stored body.  Pointers are
	 * valid during the call; cb returns non-zero to stop.
	 */
	int	 (*stale)(void *be, bool stale, uint32_t key_id, uint64_t after,
		    size_t limit, int (*cb)(uint64_t seq, const char *hub_id,
		    const char *sender, bool sealed, const uint8_t *body,
		    size_t len, void *arg), void *arg, char **cause);
	/* Inside an open group, replace message seq's body and digest. */
	int	 (*reseal)(void *be, uint64_t seq, const uint8_t *body,
		    size_t len, const unsigned char digest[32],
		    uint32_t key_id, char **cause);

	/* ---- Optional: durability-specific (NULL: see above) ---- */
	/*
	 * Outside a group, wipe what replaced bodies left readable (for
	 * SQLite, the write-ahead log's old frames); best effort when
	 * others read.
	 */
	int	 (*scrub)(void *be, char **cause);
	/*
	 * Pipelined durability (durable.c).  pipeline: from now on commit
	 * without waiting for the disk.  sync and checkpoint run on the
	 * sync thread, concurrently with the loop's calls, and touch only
	 * what the backend keeps for that thread: sync makes every group
	 * committed before it started durable (full: the thorough way,
	 * after a sync failed; for SQLite a copy of the whole log into the
	 * database); checkpoint bounds what a sync has to cover (for
	 * SQLite, reuse the log once it passes limit bytes).  undo, on the
	 * loop, removes the messages whose sync failed, with their
	 * deliveries, so that nothing unacknowledged is delivered, and takes
	 * back their marks, in the order given, in the same transaction.
	 */
	int	 (*pipeline)(void *be, char **cause);
	int	 (*sync)(void *be, bool full, char **cause);
	void	 (*checkpoint)(void *be, uint64_t limit);
	int	 (*undo)(void *be, const uint64_t *seqs, size_t n,
		    const struct store_undo_mark *marks, size_t nmarks,
		    char **cause);
};

/* store_sqlite.c */
extern const struct store_backend store_backend_sqlite;
/* store_pg.c, in a build with libpq (HAVE_LIBPQ) */
extern const struct store_backend store_backend_pg;

/* lookup.c: what the hub knows of a stored message, for answers. */
struct lookup {
	char			 hub_id[STORE_HUB_ID_LEN]; /* as org holds it */
	bool			 is_sender;	/* org sent it (no delivery) */
	unsigned		 hop;
	int			 form;
	bool			 review;
	int64_t			 forwarded_at;
	int64_t			 received_at;
	char			 sender[72];	/* of the form org holds */
	char			 kind[24];
	Ceptoar__Message	*held;		/* the form org holds */
	char			 origin[STORE_HUB_ID_LEN]; /* the original */
	Ceptoar__Message	*original;
	char			 originator[72];
	char			 chain_id[96];
	char			 relay[72];	/* secretariat of the chain, or "" */
	Ceptoar__SharingRange	*range;		/* widened range, or NULL */
};
/*
 * What org holds of hub_id (as recipient or sender) and the original
 * behind it.  0 found, 1 not visible to org (the same answer as absent),
 * -1 on a store error with a cause.
 */
int	 lookup_held(const char *org, const char *hub_id, struct lookup *out,
	    char **cause);
void	 lookup_free(struct lookup *);
/* Fill a route_ref for an answer from org to what l describes. */
void	 lookup_ref(const struct lookup *l, const char *org,
	    struct route_ref *ref);

#ifdef CEPTOARD_TEST_HOOKS
/*
 * store_fault.c: failing commits and syncs on demand, for tests; only in
 * a build with -Dtest_hooks=true, never in the default one.  The table
 * store_open uses for be: be itself, or one whose commit and sync fail
 * as CEPTOARD_FAULT asks.
 */
const struct store_backend *store_fault_wrap(const struct store_backend *be);
/* Start counting commits and syncs: the hub is ready. */
void	 store_fault_arm(void);
#endif

/* relay.c: a routing plan made into the stored form of each hop. */
struct relay_write {
	struct store_message	 msg;		/* hub_id set; seq after insert */
	struct store_recipient	*rcpt;		/* hidden: withheld from the sender */
	size_t			 nrcpt;
	uint8_t			*body;
	size_t			 body_len;
	char			*sender, *uuid, *origin, *chain_id, *in_reply_to;
	bool			 primary;	/* its uuid decides duplicates */
};

struct relay_batch {
	struct relay_write	*w;
	size_t			 nw;
	bool			 held;		/* stopped at a hop awaiting review */
	bool			 from_submit;	/* w[0] is a new original */
	bool			 oversized;	/* refused: a form past the limit */
	char			 held_why[256];
	char			*request_uuid;	/* a forward's uuid, for errors */
	char			*mark_holder;	/* a forward marks its delivery */
	char			*mark_hub_id;
	char			*sharing_hub_id; /* a consent widens this range */
	uint8_t			*sharing;
	size_t			 sharing_len;
	/* A follow-up: the revision it must be, checked as it is stored. */
	uint32_t		 chain_revision;
	/*
	 * Decisions for the audit trail ("event key=value ..."), recorded
	 * once the batch is durable (submit.c), never when it is queued.
	 */
	char			*records[2];
	size_t			 nrecords;
};

/* What a holder forwards: its own form, and the original behind it. */
struct relay_source {
	const Ceptoar__Message		*original;
	const struct dir_org		*originator;
	const char			*origin_hub_id;	/* the original's hub id */
	const char			*chain_id;
	const char			*in_reply_to;
	const struct dir_ceptoar	*ceptoar;
	const Ceptoar__Message		*held_form;
	int				 held_form_kind;
	const char			*held_hub_id;	/* as the holder received it */
	unsigned			 holder_hop;
	const char			*answer_reply_to; /* for answers: see relay.c */
};

/*
 * The writes for m from sender routed by plan, hop 0 onwards, added to b
 * (zeroed by the caller).  For an answer, answer_reply_to is what the
 * forms above hop 0 answer: the original behind what the replier held;
 * answer_originator, who sent that original, gets it so named at hop 0
 * too, as every recipient names a message by its own copy.
 */
int	 relay_submit(const Ceptoar__Message *m, const struct dir_org *sender,
	    const struct route_result *plan, const char *chain_id,
	    const char *answer_reply_to, const char *answer_originator,
	    struct relay_batch *b, char **cause);
/* The writes for a holder's forward along plan (from route_forward). */
int	 relay_forward(const struct relay_source *src,
	    const struct dir_org *holder, const Ceptoar__Forward *fw,
	    const struct route_result *plan, struct relay_batch *b,
	    char **cause);
/*
 * The form the next hop would receive in form if src's holder released
 * it now (reviewed_text NULL: as it is), exactly as relay_forward makes
 * it, also when the scrubber cannot vouch for it (*vouched, why).
 */
Ceptoar__Message *relay_preview(const struct relay_source *src,
	    const struct dir_org *holder, const char *reviewed_text, int form,
	    bool *vouched, char *why, size_t whylen, char **cause);
void	 relay_batch_free(struct relay_batch *);
/*
 * A copy of m, a form of kind form of originator's message, in the label
 * and range of plan entry e (a follow-up along a share), as relay_walk
 * stamps it; for a preview.  NULL when out of memory.
 */
Ceptoar__Message *relay_labelled(const Ceptoar__Message *m, int form,
	    const struct dir_org *originator, const struct route_entry *e);
/*
 * The uuid under which holder's release of the hop after its own stores
 * the form (original or anonymised) of the original origin_hub_id.
 */
void	 relay_release_uuid(const char *origin_hub_id, unsigned hop,
	    int form, const char *holder, char out[40]);
/* "report", "advisory", ...: the kind of a message, as stored. */
const char *relay_kind(const Ceptoar__Message *m);
/*
 * A new hub id in UUID form; it says nothing about sender or volume.
 * time_ordered: its first 48 bits are the time in milliseconds (UUID
 * version 7), which keeps the store's index appending; never for an
 * anonymised form.
 */
void	 relay_hub_id(char *out, size_t len, bool time_ordered);

/* tls.c: nothing outside it sees an SSL pointer. */
struct bufferevent;
/*
 * A server context from the tls_* options: the hub's certificate and
 * key, client certificates from tls_ca, checked against tls_crl if set.
 * NULL with a "file:line: what" cause.
 */
void	*tls_server_ctx(const struct config *, char **cause);
/*
 * SIGHUP: read the tls_* files again into a new context for new
 * handshakes; on any error keep the old one.  Logs config.reload.
 */
void	 tls_reload(void);
/*
 * The TAXII listener's context: the same files and checks, but TLS 1.2
 * and 1.3 whatever tls_min_version says, and a client certificate
 * optional (HTTP Basic stands in for it).
 */
void	*tls_taxii_ctx(const struct config *, char **cause);
/*
 * Connection limits for tls_taxii_ctx's connections: admit(fd, &token)
 * runs at the ClientHello and returns 0 (token kept) or -1 (refused with
 * an alert); release(token) runs when the connection is freed.
 */
void	 tls_admission(int (*admit)(int fd, void **token),
	    void (*release)(void *token));
/* A bufferevent for evhttp (which sets the socket) accepting TLS. */
struct bufferevent *tls_accept_http(struct event_base *, void *ctx);
/* Whether the peer sent a certificate at all (verified or not). */
bool	 tls_has_peer_certificate(struct bufferevent *);
void	 tls_ctx_free(void *ctx);
/* A bufferevent doing the server side of a handshake on fd. */
struct bufferevent *tls_accept(struct event_base *, void *ctx, int fd);
/*
 * CN (decoded to UTF-8) and SHA-256 fingerprint of the verified peer
 * certificate; -1 with why set if it has none usable.
 */
int	 tls_peer_identity(struct bufferevent *, char *cn, size_t cnlen,
	    char *fingerprint, size_t fplen, const char **why);
/*
 * The one CN of an X509_NAME as UTF-8 text into buf: NULL, or why it
 * cannot name an organisation (no CN, several, not text, not UTF-8, a
 * NUL, empty, longer than len - 1).
 */
struct X509_name_st;
const char *tls_name_identity(const struct X509_name_st *, char *buf,
	    size_t len);
/* The last TLS error on bev as a sentence, or NULL. */
const char *tls_error_string(struct bufferevent *, char *buf, size_t len);
const char *tls_version(struct bufferevent *);

/* ceptoard.c: the hub's state, one per process. */
struct listener;
struct listener_addr;
struct hub {
	struct event_base	*base;
	struct config		 conf;
	struct directory	*dir;
	struct store		*store;
	void			*tls_ctx;
	void			*taxii_tls_ctx;	/* NULL: no TAXII listener */
	struct listener		*listener;
	struct anon_policy	 anon;
	bool			 anon_ready;	/* anon_key loaded */
	uint64_t		 next_session;
	size_t			 nsessions;
	bool			 shutting_down;
	int			 exit_status;	/* 1 if stopped by a failure */
	bool			 privsep_worker; /* the parent holds tls_key */
};
extern struct hub	*hub;

/*
 * listener.c: accept loops, each for one protocol.  A connection's count
 * against its address (max_conn_per_addr, max_handshakes_per_addr) is a
 * hold that its protocol keeps until it closes.
 */
struct listener_addr;
struct sockaddr;
struct listener_hold {
	struct listener_addr	*addr;		/* NULL: nothing held */
	bool			 handshake;	/* not yet authenticated */
};
/*
 * What a listener starts on each connection it accepts, once the limits
 * let it in: open takes fd over (closing it on failure) and copies hold
 * into the connection's state, releasing it when that closes.  0, or -1
 * when no connection could be made (the hold is then released here).
 */
struct listener_proto {
	const char	*name;		/* for logs: "protobuf", "http" */
	int		(*open)(int fd, const struct sockaddr *sa, int salen,
			    const char *peer, const struct listener_hold *hold);
};
/* The protobuf session's entry (session.c). */
extern const struct listener_proto session_proto;
/*
 * conn.c: a connection under its protocol: socket, TLS and the peer's
 * verified identity, input and output bounds, one timer, the hold on its
 * address (listener.c), and conn_close, the one function that ends it.
 * The protocol sees events through its ops, never SSL.
 */
struct conn;
enum conn_end {
	CONN_REFUSED,		/* the client certificate was refused */
	CONN_EOF,		/* the peer closed the connection */
	CONN_ERROR,		/* TLS or socket error */
	CONN_STALLED,		/* output unread for the write timeout */
};
struct conn_ops {
	/* The handshake is done and the peer's certificate verified. */
	void	(*established)(void *arg);
	/* Input is buffered (conn_input). */
	void	(*readable)(void *arg);
	/* Output drained below the low mark. */
	void	(*drained)(void *arg);
	/* The timer armed with conn_timer ran out. */
	void	(*timeout)(void *arg);
	/*
	 * The transport ended: why is the close line's reason (NULL for a
	 * stall after the handshake, which the protocol words).  The
	 * protocol closes (conn_close) from here.
	 */
	void	(*ended)(void *arg, enum conn_end, const char *why);
};
/*
 * A TLS connection on fd (taken over: closed on failure) holding hold, with at most
 * max_input bytes of input buffered and drained() called below
 * low_output bytes of output; NULL when out of memory.
 */
struct conn *conn_new(int fd, const struct listener_hold *hold,
	    size_t max_input, size_t low_output, const struct conn_ops *,
	    void *arg);
#ifdef CEPTOARD_FUZZING
/* Only for the sequence fuzzer: bev without TLS, as if cn had shown. */
struct conn *conn_new_plain(struct bufferevent *bev, const char *cn,
	    size_t max_input, size_t low_output, const struct conn_ops *,
	    void *arg);
#endif
/* End c: its timer, TLS, socket and address hold; safe in its callbacks. */
void	 conn_close(struct conn *c);
/* The peer's certificate CN and SHA-256, once established. */
const char *conn_cn(const struct conn *);
const char *conn_fingerprint(const struct conn *);
const char *conn_tls_version(const struct conn *);
/* The peer authenticated: no longer a handshake for its address. */
void	 conn_authenticated(struct conn *);
struct evbuffer *conn_input(struct conn *);
size_t	 conn_output_len(const struct conn *);
/* Queue len bytes of output: 0, or -1 when out of memory. */
int	 conn_write(struct conn *, const void *buf, size_t len);
/* Read from the peer or not; read what is buffered again, soon. */
void	 conn_reading(struct conn *, bool on);
void	 conn_read_again(struct conn *);
/* Call drained() below low bytes of output (0: once all is written). */
void	 conn_output_low(struct conn *, size_t low);
/* End the connection if output stays unread for secs (CONN_STALLED). */
void	 conn_write_timeout(struct conn *, unsigned secs);
/* Arm the connection's one timer for secs (negative: stop it). */
void	 conn_timer(struct conn *, long secs);
struct listener *listener_new(struct event_base *, const char *addr,
	    const struct listener_proto *, char **cause);
/*
 * Bind and listen on addr ("host:port", port 0 picks one), with the
 * address actually bound in address; the socket, or -1 with a cause.
 * The privileged parent binds; the worker serves the socket it inherits.
 */
int	 listener_bind(const char *addr, char *address, size_t len,
	    char **cause);
/*
 * Whether addr is an address listener_bind could bind (host:port or
 * [v6]:port, the host resolved), without binding: 0, or -1 with a cause.
 */
int	 listener_check(const char *addr, char **cause);
/* Accept on a listening socket bound elsewhere; takes fd over. */
struct listener *listener_new_fd(struct event_base *, int fd,
	    const struct listener_proto *, char **cause);
void	 listener_free(struct listener *);
/*
 * Per-address accounting: the connection of hold authenticated (said
 * hello), so no longer counts as a handshake in progress; it is closing,
 * so its address has one connection less.  Both are idempotent.
 */
void	 listener_hold_authenticated(struct listener_hold *);
void	 listener_hold_release(struct listener_hold *);
/* The address actually bound, "host:port". */
const char *listener_address(const struct listener *);
/*
 * The same per-address count for a connection of another listener (the
 * TAXII one): its entry, counted, or NULL over max_conn_per_addr (why
 * says so); listener_addr_put when it closes.
 */
struct sockaddr;
struct listener_addr *listener_addr_acquire(const struct sockaddr *sa,
	    char *why, size_t len);
void	 listener_addr_put(struct listener_addr *);
/* "host:port" or "[v6]:port" of sa, for logs. */
void	 listener_format_addr(const struct sockaddr *sa, char *buf,
	    size_t len);

/* rate.c: token buckets. */
struct rate_bucket {
	double		tokens;
	int64_t		last;		/* ms, monotonic; 0: full and unused */
};
int64_t	 rate_now_ms(void);
/* Take one token if there is one; refill at per_sec up to burst. */
bool	 rate_take(struct rate_bucket *, double per_sec, double burst,
	    int64_t now_ms);
/* Milliseconds until the bucket holds a whole token again. */
int64_t	 rate_wait_ms(const struct rate_bucket *, double per_sec);
/* Whether org may submit once more now (rate_org_submits). */
bool	 rate_org_submit(const char *org);
void	 rate_shutdown(void);

/* session.c */
enum session_state {
	SESSION_HANDSHAKE,	/* TLS handshake under way */
	SESSION_HELLO,		/* TLS done, waiting for the hello */
	SESSION_READY,		/* identified: requests are served */
	SESSION_CLOSING,	/* a fatal error is being flushed */
	SESSION_DEAD,		/* closed; freed once unreferenced */
};

struct deliver_sent {
	uint64_t	seq;
	int64_t		at;
};

struct session {
	struct session		*next, *prev;		/* all sessions */
	struct session		*org_next, *org_prev;	/* deliver.c */
	uint64_t		 id;
	char			 sid[20];
	enum session_state	 state;
	int			 refs;
	struct conn		*conn;		/* NULL once closed */
	char			 peer[64];
	char			 org[72];
	char			 cert_cn[256];
	char			 fingerprint[72];
	unsigned		 roles;
	uint32_t		 max_frame;
	int64_t			 started;
	int64_t			 last_active;
	bool			 reading_paused;
	bool			 throttled;	/* over rate_frames: reading later */
	struct event		*throttle;	/* resumes reading */
	struct rate_bucket	 frames;
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
	int64_t			 stalled_since;	/* output full with deliveries waiting */
	struct event		*stall;		/* deliver.c: checks a stalled follower */
	/*
	 * deliver.c: what was sent and not yet acknowledged, oldest first (a
	 * ring): the time goes into the store with the acknowledgement, or
	 * as a delivery mark on its own when none comes.
	 */
	struct deliver_sent	*sent;
	size_t			 sent_first, nsent, capsent;
	bool			 live;		/* caught up: fed from commits */
	/* submit.c: submits not yet answered; at the cap, reading stops. */
	unsigned		 submits_waiting;
	bool			 submits_held;
	bool			 waiting;	/* on the pump list */
};

/*
 * Noise before authentication (a connection closed before its TLS
 * handshake ended, or refused by a limit): counted by kind, logged one
 * by one up to preauth_log_lines per preauth_log_interval, and summed
 * up once per interval as session.preauth, the one line of it that goes
 * to the audit trail.  peer and reason are logged as given (escaped).
 */
enum session_noise {
	SESSION_NOISE_TIMEOUT,		/* no TLS handshake in hello_timeout */
	SESSION_NOISE_TLS,		/* handshake refused or failed */
	SESSION_NOISE_CLOSED,		/* peer closed during the handshake */
	SESSION_NOISE_LIMIT,		/* refused by a connection limit */
	SESSION_NOISE_KINDS
};
void	 session_noise(enum session_noise, const char *event,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#ifdef CEPTOARD_FUZZING
/* A session on a plain bufferevent, as if TLS had verified CN cn. */
struct session *session_new_plain(struct bufferevent *bev, const char *peer,
	    const char *cn);
#endif
/* The one close path: logs once, tears down, frees when unreferenced. */
void	 session_close(struct session *, const char *reason);
void	 session_ref(struct session *);
void	 session_unref(struct session *);
/* Queue env to the peer; stamps the protocol version. */
void	 session_send(struct session *, Ceptoar__Envelope *env);
/* Queue an envelope already framed (frame_pack_deliver), as above. */
void	 session_send_frame(struct session *, const uint8_t *buf, size_t len);
/* Send an error; fatal ones close the session once flushed. */
void	 session_error(struct session *, uint64_t request_id,
	    Ceptoar__ErrorCode code, const char *field, bool fatal,
	    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void	 session_enter_state(struct session *, enum session_state);
const char *session_strstate(enum session_state);
/*
 * Drop a peer that does not read: an overloaded error as its last frame,
 * then the close once flushed (or after the grace period).
 */
void	 session_overloaded(struct session *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Bytes queued to the peer and not yet written. */
size_t	 session_output_len(const struct session *);
/* Whether more may be queued without passing the output high mark. */
bool	 session_can_send(const struct session *);
/*
 * Stop reading from s while it has too many submits unanswered (hold),
 * and read again, starting with what is buffered, once it has fewer.
 */
void	 session_hold_submits(struct session *, bool hold);
/* Close every session, e.g. at shutdown. */
void	 session_close_all(const char *reason);
/* Tell every session the hub is stopping; each closes once flushed. */
void	 session_shutdown_all(void);
/* After a reload: close sessions whose organisation has gone. */
void	 session_recheck_all(void);

/*
 * durable.c: the sync thread.  durable_request asks for everything
 * committed so far (and the audit trail, when audit_fd is not -1) to be
 * made durable and returns its generation; done is called on the loop,
 * in order, once per sync with the highest generation it covered.
 */
typedef void (*durable_done_cb)(uint64_t gen, int rc, const char *cause,
	    int audit_errno);
int	 durable_start(struct event_base *, struct store *, durable_done_cb,
	    char **cause);
uint64_t durable_request(int audit_fd);
/* Block until every request so far is answered, and report them. */
void	 durable_wait(void);
/* Finish every request, report it, and end the thread. */
void	 durable_stop(void);

/* The stored recipients of a message, as wire Recipients. */
struct deliver_recipients {
	Ceptoar__Recipient	 *v;
	Ceptoar__Recipient	**ptrs;		/* for repeated fields */
	size_t			  n, cap;
};
/*
 * service.c: the hub's operations, whatever the transport.  Each takes
 * the authenticated caller and its request as plain C values (decoded
 * protobuf-c structs are plain C), and either gives a result or fills one
 * service_error: the wire error code, the field it names and a sentence,
 * which the adapter (the protobuf session, HTTP) turns into its own
 * reply, once.  The asynchronous ones (a submit waits for the group
 * commit's fsync) answer through a completion instead.
 */
struct service_error {
	bool			 set;
	Ceptoar__ErrorCode	 code;
	bool			 fatal;		/* the adapter closes after it */
	char			 field[96];	/* "" for the request as a whole */
	char			 message[512];
};
/* Who asks: the organisation its credentials map to. */
struct service_caller {
	const char		*org;		/* directory id, authenticated */
	const char		*sid;		/* for logs: session or request */
};
/*
 * Fill err (the first failure of a request wins; later ones are logged
 * and dropped) and return -1, so that "return service_fail(...)" reads.
 */
int	 service_fail(struct service_error *err, Ceptoar__ErrorCode code,
	    const char *field, bool fatal, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* Fill err from a routing refusal. */
int	 service_refuse(struct service_error *err,
	    const struct route_refusal *why);
/*
 * One message as caller may see it (as its sender, or as a recipient in
 * the form it received): d filled as store_fetch and deliver_fill do,
 * and for its sender only, who else received it.  Release with
 * service_show_free.
 */
struct service_show {
	Ceptoar__Delivery		 d;
	Ceptoar__Message		*m;
	struct deliver_recipients	 rl;
	bool				 has_recipients;
	bool				 found, failed;	/* while reading */
};
int	 service_show(const struct service_caller *, const char *hub_id,
	    struct service_show *out, struct service_error *err);
void	 service_show_free(struct service_show *);
/*
 * Fetch caller's inbox after cursor after: at most limit (0: the hub's
 * deliver_batch) durable deliveries not yet acknowledged, in sequence
 * order, each given to cb in the form caller received it, with its seq
 * (the next cursor).  Reads only: nothing is marked delivered.  cb
 * returns non-zero to stop.  *last is the highest seq given (after if
 * none).  0, or -1 with err.
 */
typedef int (*service_delivery_cb)(uint64_t seq, const Ceptoar__Delivery *,
	    void *arg);
int	 service_fetch_after(const struct service_caller *, uint64_t after,
	    size_t limit, service_delivery_cb cb, void *arg, uint64_t *last,
	    struct service_error *err);
/*
 * Every durable delivery of caller's inbox after position after,
 * acknowledged or not (a TAXII reader pages through all it was ever
 * delivered), at most limit, in order, each given to cb as the store
 * holds it.  0, or -1 with err.
 */
int	 service_inbox_read(const struct service_caller *, uint64_t after,
	    size_t limit, store_delivery_cb cb, void *arg,
	    struct service_error *err);
/*
 * Where a message caller sent has got to, recipient by recipient, with
 * what caller may not see withheld.  Release with service_receipts_free.
 */
struct service_receipts {
	Ceptoar__Receipt	*v;
	size_t			 n, cap;
	struct service_rejection *rej;
	size_t			 nrej;
	bool			 failed;
};
int	 service_receipts(const struct service_caller *, const char *hub_id,
	    struct service_receipts *out, struct service_error *err);
void	 service_receipts_free(struct service_receipts *);
/*
 * What the hub would do with m (decoded, modified: the hub's own fields
 * are cleared and set) from caller: its routes (each with the form its
 * recipient would get) and warnings.  Release with service_preview_free.
 */
#define SERVICE_MAX_WARNINGS	4
struct service_preview {
	Ceptoar__RoutePreview	*rv;
	size_t			 n;
	Ceptoar__Message	*anon;
	Ceptoar__Message	**labelled;	/* along a share; per entry */
	char			 warnings[SERVICE_MAX_WARNINGS][300];
	size_t			 nwarnings;
	struct route_result	 plan;
	struct anon_result	 ar;
};
int	 service_preview(const struct service_caller *, Ceptoar__Message *m,
	    struct service_preview *out, struct service_error *err);
void	 service_preview_free(struct service_preview *);
/*
 * Acknowledge deliveries seqs of caller's inbox: they are not fetched
 * again.  Stored with the next group commit; 0, or -1 with err.
 */
int	 service_acknowledge(const struct service_caller *,
	    const uint64_t *seqs, size_t n, struct service_error *err);
/*
 * The completion of a submit (and of a forward or a review decision,
 * which are submits of the holder's): exactly one of ack and err is set.
 * tag is the caller's own (the protobuf session: the request id).  What
 * it is given lives for the call only.
 */
typedef void (*service_done_cb)(void *arg, uint64_t tag,
	    const Ceptoar__SubmitAck *ack, const struct service_error *err);
/*
 * Submit m (decoded, modified as for preview) from caller.  -1 with err:
 * refused before anything was queued, done is never called.  0: queued
 * for the group commit; done is called once, when it is durable (the ack)
 * or refused.  conn (may be NULL) is the session it came on, held until
 * done and paused when too many of its submits wait.
 */
int	 service_submit(const struct service_caller *, struct session *conn,
	    Ceptoar__Message *m, service_done_cb done, void *arg, uint64_t tag,
	    struct service_error *err);

/*
 * handle.c: the protobuf session's adapter: one handler per wire
 * message, as a table; each request's reply or error is sent in one
 * place (handle_envelope), an asynchronous one's in handle_done.
 */
void	 handle_envelope(struct session *, Ceptoar__Envelope *);
/* Send err as the answer to request rid on s. */
void	 handle_error(struct session *s, uint64_t rid,
	    const struct service_error *err);
/* The completion of a submit made on session arg (a service_done_cb). */
void	 handle_done(void *arg, uint64_t rid, const Ceptoar__SubmitAck *ack,
	    const struct service_error *err);
/* The caller s stands for, for service calls. */
void	 handle_caller(const struct session *s, struct service_caller *who);
/* Queue b for s's request rid, answered through handle_done. */
void	 handle_enqueue(struct session *s, uint64_t rid, struct relay_batch *b,
	    bool same_digest, int tlp, bool drill, const char *warning);
/*
 * Whether s's organisation may submit once more now; if not, err says
 * it is over its limit and then undone (what it should know and do).
 */
bool	 handle_rate_submit(struct session *s, struct service_error *err,
	    const char *undone);
/* handle_submit.c: new messages, and answers to received ones. */
void	 handle_submit(struct session *, Ceptoar__Envelope *,
	    struct service_error *);
/* handle_forward.c: a hop holder passes on what it holds. */
void	 handle_forward(struct session *, Ceptoar__Envelope *,
	    struct service_error *);
/* handle_query.c: routing preview, receipts, communication checks. */
void	 handle_preview(struct session *, Ceptoar__Envelope *,
	    struct service_error *);
void	 handle_receipts(struct session *, Ceptoar__Envelope *,
	    struct service_error *);
void	 handle_check_status(struct session *, Ceptoar__Envelope *,
	    struct service_error *);
/*
 * handle_review.c: the review desk.  Review lists what waits for the
 * asker's review or shows one item beside what would go up; a
 * ReviewReject declines an item and tells its sender why.
 */
void	 handle_review(struct session *, Ceptoar__Envelope *,
	    struct service_error *);
void	 handle_review_reject(struct session *, Ceptoar__Envelope *,
	    struct service_error *);
/*
 * A batch of one notice of the review desk (a Reply the hub writes with
 * notice set) from "from" to "to", answering "about" (a hub id "to" can
 * open).  0, or -1 with a cause.
 */
struct relay_batch;
struct lookup;
int	 review_notice_batch(const char *from, const char *to,
	    const char *about, const char *held_by, int64_t held_since,
	    int notice, const char *text, const char *reason, int tlp,
	    bool drill, const char *uuid, struct relay_batch *b, char **cause);
/*
 * Who sends a notice to the sender of what holder holds as l: the holder,
 * or for an anonymised form the chain's relay (NULL: none), so that
 * nobody above the relay learns where it went.
 */
const char *review_notice_from(const struct lookup *l, const char *holder);
/*
 * Room for element n of v (*cap allocated, elements of size bytes), the
 * review desk's lists doubling from 16: v or its reallocation, *cap
 * updated; NULL when out of memory, v then untouched.
 */
void	*review_grow(void *v, size_t *cap, size_t n, size_t size);
/*
 * Fill in src what a holder holds as l (the original, its originator,
 * the held form, its hop and chain), as relay.c wants it for a preview
 * or a forward; the rest of src is the caller's.
 */
void	 review_source(struct relay_source *src, const struct lookup *l,
	    const struct dir_org *originator);
/* The hub id an answer refers to (and its field), or NULL if m is none. */
const char *handle_answer_ref(const Ceptoar__Message *m, const char **field);
/*
 * For a follow-up report: keep plan to who got the chain's first report,
 * and add where it was shared since.  0, or -1 with a code and a cause
 * (a hub id given as chain_id is named as such).
 */
int	 handle_chain_plan(const Ceptoar__Message *m, const char *sender,
	    struct route_result *plan, Ceptoar__ErrorCode *code, char **cause);
/*
 * Whether follow-up m (its chain found by handle_chain_plan) carries a
 * revision that is present and not taken (for a preview, also exactly the next; a
 * submit's gap is judged as it is stored, after those in flight).  A
 * repeat of a stored follow-up passes, to be answered as a duplicate.
 * 0 (also for anything that is no follow-up), or -1 with code, cause.
 */
int	 handle_chain_check(const Ceptoar__Message *m, const char *sender,
	    bool preview, Ceptoar__ErrorCode *code, char **cause);
/* Whether report r (of message uuid) continues an earlier chain. */
bool	 handle_is_followup(const Ceptoar__Report *r, const char *uuid);
/* Clear what only the hub may set in a message from a client. */
void	 handle_clear_hub_fields(Ceptoar__Message *m);
/* The hub's overall severity and threshold flags, set in m. */
int	 handle_hub_fields(Ceptoar__Message *m, const struct dir_org *sender);

/*
 * review.c: what waits for review too long is announced to its holder
 * again, and later its sender is told; a timer, from review_init.
 */
int	 review_init(struct event_base *);
void	 review_shutdown(void);

/* submit.c: accepted submits are committed together, then acknowledged. */
int	 submit_init(struct event_base *);
/*
 * Queue the writes of b (taken over) for who; done(arg, tag, ...) is
 * called once, with the ack when it is durable or with the refusal
 * (already when nothing can be queued).  conn (may be NULL) is held
 * until then and stops reading while too many of its submits wait.
 * same_digest: a repeat of the primary uuid must carry the same body
 * (submits), or is a duplicate whatever it carries (forwards).
 */
void	 submit_enqueue(const struct service_caller *who,
	    struct session *conn, service_done_cb done, void *arg,
	    uint64_t tag, struct relay_batch *b, bool same_digest, int tlp,
	    bool drill, const char *warning);
/* The same for writes the hub makes on its own: answered to nobody. */
void	 submit_enqueue_hub(struct relay_batch *b, int tlp, bool drill);
/*
 * A decision carried by b, logged (and so kept in the audit trail) only
 * when b's writes are durable, and not at all if they are refused.
 */
void	 submit_batch_record(struct relay_batch *b, const char *event,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * The same for a write of the open transaction that answers nobody (a
 * delivery acknowledgement): logged once a sync covers its commit, and
 * added to counter metric (by n; metric -1: none) then.
 */
void	 submit_record(int metric, size_t n, const char *event,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Start the sync thread: after detaching, before confinement. */
int	 submit_start(char **cause);
/* Commit at the end of this turn: deliver.c queued a write. */
void	 submit_kick(void);
/*
 * Commit the queued acknowledgements and marks now, on their own (they
 * need no sync): before a Pong, which tells a client its acknowledgements
 * are stored, and before a subscription reads an inbox.
 */
void	 submit_write_acks(void);
/* Commit what is queued and wait until it is all answered (shutdown). */
void	 submit_flush(void);
void	 submit_shutdown(void);

/* deliver.c: inboxes, cursors and live delivery. */
void	 deliver_subscribe(struct session *, uint64_t request_id,
	    struct service_error *, const Ceptoar__Subscribe *);
void	 deliver_unsubscribe(struct session *);
/* Send what s may receive now, within its output bound. */
void	 deliver_pump(struct session *);
/*
 * The group commit: deliver_committed notes a delivery just committed
 * (not yet durable); deliver_durable hands a durable write's deliveries
 * to the followers that are caught up, straight from memory, and
 * deliver_pump_waiting then pumps the followers that were not.
 */
void	 deliver_committed(const char *org, uint64_t seq);
/*
 * The highest seq of org's inbox known to be durable (UINT64_MAX: all
 * of it), beyond which no reader may be shown anything.
 */
uint64_t deliver_durable_upto(const char *org);
void	 deliver_durable(const struct relay_write *);
void	 deliver_pump_waiting(void);
/*
 * Acknowledgements and delivery marks wait for the next group commit:
 * whether any are queued, deliver_write writes them inside it, and
 * deliver_writes_done forgets them once it committed or failed.
 */
bool	 deliver_writes_queued(void);
int	 deliver_write(char **cause);
void	 deliver_writes_done(bool committed);
void	 deliver_ack(struct session *, uint64_t request_id,
	    struct service_error *, const Ceptoar__DeliverAck *);
/*
 * Queue org's acknowledgement of seqs for the next group commit (acks
 * need no sync of their own: one lost to a crash is a delivery sent
 * again).  s, the session they were sent on, or NULL: its sent times go
 * with them.  0, or -1 with err.
 */
int	 deliver_ack_queue(const char *org, const char *sid,
	    const uint64_t *seqs, size_t n, struct session *s,
	    struct service_error *err);
void	 deliver_shutdown(void);
/*
 * Fill d from a store row: strings are copied, the body is unpacked into
 * *mp.  Release both with deliver_clear.
 */
int	 deliver_fill(Ceptoar__Delivery *d, const struct store_delivery *sd,
	    Ceptoar__Message **mp);
void	 deliver_clear(Ceptoar__Delivery *d, Ceptoar__Message *m);
int	 deliver_recipients_load(const char *hub_id,
	    struct deliver_recipients *, char **cause);
void	 deliver_recipients_free(struct deliver_recipients *);

/*
 * metrics.c: the hub's counters, gauges and histograms, and the HTTP
 * listener that serves them (/metrics, Prometheus text format) with
 * /healthz and /readyz.  Counters are loop-only; histograms may be
 * observed from any thread (the sync thread times its fsyncs).
 */
enum metrics_counter {
	METRICS_SESSIONS_OPENED,	/* no labels */
	METRICS_SESSIONS_CLOSED,	/* reason */
	METRICS_TLS_FAILURES,		/* reason */
	METRICS_SUBMITS,		/* kind, result */
	METRICS_REFUSALS,		/* request, code */
	METRICS_DELIVERIES_SENT,	/* no labels */
	METRICS_DELIVERIES_ACKED,	/* no labels */
	METRICS_COMMITS_FAILED,		/* phase: commit or sync */
	METRICS_TAXII_REQUESTS,		/* endpoint, status */
	METRICS_NCOUNTERS
};
enum metrics_histogram {
	METRICS_GROUP_SIZE,		/* submits per group commit */
	METRICS_FSYNC_SECONDS,		/* one sync: store and trail */
	METRICS_NHISTOGRAMS
};
/* Add n to a counter's series for label values l1, l2 (NULL: none). */
void	 metrics_add(enum metrics_counter, uint64_t n, const char *l1,
	    const char *l2);
#define metrics_count(m, l1, l2)	metrics_add((m), 1, (l1), (l2))
/* Record one observation; safe from any thread. */
void	 metrics_observe(enum metrics_histogram, double v);
/* The wire request being handled, labelling refusals; NULL: none. */
void	 metrics_request(const char *name);
/* A wire error sent (session_error): counted by request and code. */
void	 metrics_refused(Ceptoar__ErrorCode code);
/* A session closed; during the TLS handshake it is a TLS failure too. */
void	 metrics_session_closed(const char *reason, bool in_handshake);
/* The store's last commit or sync: NULL when it worked, else why not. */
void	 metrics_store_state(const char *phase, const char *cause);
/*
 * Serve /metrics, /healthz and /readyz on fd (an already bound, listening
 * socket, taken over) or, when fd is -1, on addr ("host:port"; NULL:
 * off).  Refuses an address that is not loopback unless metrics_remote.
 * Call before confinement: it opens the store and trail files read-only
 * to report their sizes from inside the chroot.  0, or -1 with a cause.
 */
int	 metrics_start(struct event_base *, int fd, const char *addr,
	    char **cause);
/* The address served, "host:port", or NULL when off. */
const char *metrics_address(void);
void	 metrics_stop(void);

/*
 * notify.c: the systemd notification protocol, spoken by hand over a
 * datagram socket connected at start-up, so that it still works from
 * inside the chroot and the seccomp filter.
 */
/* Connect to $NOTIFY_SOCKET if set; note $WATCHDOG_USEC.  Never fails. */
void	 notify_init(void);
/* Send one state line ("READY=1", ...); nothing when not under systemd. */
void	 notify_send(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Ping the watchdog at half its interval from the loop, if asked to. */
void	 notify_watchdog(struct event_base *);
void	 notify_stop(void);

#endif
