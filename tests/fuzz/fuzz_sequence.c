/*
 * Fuzz target for sequences of requests from several organisations, as
 * the hub's handlers see them: real sessions (daemon/session.c) on one
 * end of a bufferevent pair each, with the identity TLS would have
 * given them, a real store in a temporary folder, the group commit and
 * its sync thread.  No network, no TLS.
 *
 * An input is a list of steps, each "organisation, operation,
 * arguments" in bytes (the format is below, at fuzz_step); each
 * operation is a whole, mostly valid Envelope built from its arguments,
 * and the hub ids and uuids it names are picked from what earlier steps
 * got back (a follow-up of an earlier report, a forward or a reply of
 * something delivered), so that a few dozen bytes reach deep states.
 * After each step the loop runs until it is quiet: every commit synced,
 * every answer sent.
 *
 * Besides "does not crash" (ASan, UBSan, leaks), after every input:
 *  - each request is answered once: a SubmitAck, a result or an error
 *    with its request id, on every session the hub did not close
 *    (a DeliverAck is answered only by an error);
 *  - an acknowledged message is stored: the hub id of every SubmitAck
 *    is in the store, and every recipient the ack names has a delivery
 *    of it (or of a form made of it) whose body opens and unpacks;
 *  - an anonymised form carries no identifier of the reporter: in no
 *    string of a delivery in the anonymised form, whether sent on the
 *    wire or waiting in an inbox, is the reporter's id, certificate
 *    CN, names, domains, or the contact name, phone or mail of the
 *    directory or of its report.
 *
 * The store is new for each input (a fresh file in a private folder,
 * /dev/shm when there is one), so that runs are repeatable.  The
 * directory is tests/fixtures/route/directory.yaml ($CEPTOAR_FUZZ_
 * DIRECTORY, else the source path compiled in); the store and pseudonym
 * keys are made at start.  $CEPTOAR_FUZZ_LOG=debug|info|warn shows the
 * hub's log (default: errors only); $CEPTOAR_FUZZ_TRACE=1 prints each
 * step and answer.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <sodium.h>

/* For fuzz_scratch_sweep and fuzz_scratch_rmdir. */
#define FUZZ_SCRATCH
#include "fuzz_common.h"
#include "ceptoard.h"
#include "frame.h"

#ifndef FUZZ_ROUTE_DIRECTORY
#define FUZZ_ROUTE_DIRECTORY	"tests/fixtures/route/directory.yaml"
#endif

/* Bounds that keep one input short. */
#define SEQ_MAX_STEPS		48
#define SEQ_MAX_ORGS		32
#define SEQ_MAX_IDS		256	/* hub ids remembered */
#define SEQ_MAX_REQS		512	/* requests remembered */
#define SEQ_MAX_ACKS		256

int	LLVMFuzzerInitialize(int *, char ***);
const char *__asan_default_options(void);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* One client connection: the far end of a session's pair. */
struct seq_conn {
	struct bufferevent	*bev;		/* NULL: none open */
	bool			 closed;	/* the hub closed it */
	bool			 welcomed;
	int			 gen;		/* counts reconnections */
};

/* A request and how many answers it got. */
struct seq_req {
	int		 org;
	int		 gen;
	uint64_t	 id;
	int		 op;
	bool		 optional;	/* a DeliverAck: only errors answer */
	int		 answers;
	/* A forward releasing the next hop: what it named, what it made. */
	bool		 release;
	char		 ref[STORE_HUB_ID_LEN];
	char		 made[STORE_HUB_ID_LEN];
};

/* A SubmitAck received, to check against the store. */
struct seq_ack {
	char		 hub_id[STORE_HUB_ID_LEN];
	char		**rcpt;
	size_t		 nrcpt;
	bool		 duplicate;
};

/* A hub id an organisation saw: delivered to it, or acknowledged to it. */
struct seq_id {
	int		 org;
	char		 hub_id[STORE_HUB_ID_LEN];
	uint64_t	 seq;		/* its delivery seq; 0: its own */
	bool		 acked;
};

/* What one input did so far. */
static struct {
	struct seq_conn	 conn[SEQ_MAX_ORGS + 1];
	struct seq_req	 req[SEQ_MAX_REQS];
	size_t		 nreq;
	struct seq_ack	 ack[SEQ_MAX_ACKS];
	size_t		 nack;
	struct seq_id	 ids[SEQ_MAX_IDS];
	size_t		 nids;
	/* uuids of new messages, by submitting organisation. */
	char		 uuid[SEQ_MAX_STEPS][40];
	int		 uuid_org[SEQ_MAX_STEPS];
	size_t		 nuuid;
	/* The last submit of each organisation, packed, for a repeat. */
	uint8_t		*last_submit[SEQ_MAX_ORGS];
	size_t		 last_submit_len[SEQ_MAX_ORGS];
	uint64_t	 next_req;
	unsigned	 counter;	/* makes uuids */
	/* The bytes of the input, read by seq_byte. */
	const uint8_t	*p;
	size_t		 left;
} seq;

/* The hub's state, which daemon/ceptoard.c holds in the daemon. */
static struct hub	 seq_hub;
struct hub		*hub = &seq_hub;

/* Set up once. */
static char		 seq_dir[4096];		/* private folder */
static char		 seq_store[4200];	/* the store of this input */
static int		 seq_norgs;
static bool		 seq_trace;
static unsigned long	 seq_inputs;

/* The next byte of the input, 0 once it is used up. */
static uint8_t
seq_byte(void)
{
	if (seq.left == 0)
		return 0;
	seq.left--;
	return *seq.p++;
}

static void __attribute__((format(printf, 1, 2)))
seq_log(const char *fmt, ...)
{
	va_list	ap;

	if (!seq_trace)
		return;
	va_start(ap, fmt);
	fputs("seq: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/*
 * ASan's defaults, which ASAN_OPTIONS overrides.  SQLite opens a store
 * for every input and allocates much: filling each allocation and a
 * 256 MB quarantine of freed memory cost about 40% of the executions,
 * while what one input frees is reused long after 16 MB.
 */
const char *
__asan_default_options(void)
{
	return "quarantine_size_mb=16:max_malloc_fill_size=0";
}

/* Write 32 random bytes to dir/name, mode 0600; the path in out. */
static void
seq_keyfile(const char *name, char *out, size_t len)
{
	unsigned char	key[KEYFILE_LEN];
	int		fd;

	snprintf(out, len, "%s/%s", seq_dir, name);
	randombytes_buf(key, sizeof(key));
	if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write(fd, key, sizeof(key)) != (ssize_t)sizeof(key)) {
		fprintf(stderr, "fuzz_sequence: %s: %s\n", out,
		    strerror(errno));
		exit(1);
	}
	close(fd);
}

/* Remove the private folder and what is in it. */
static void
seq_cleanup(void)
{
	if (seq_dir[0] != '\0')
		fuzz_scratch_rmdir(seq_dir);
}

/* Open a new, empty store and start the group commit on it. */
static void
seq_store_open(void)
{
	struct store_keys	*keys;
	char			*cause = NULL, path[4300];

	snprintf(seq_store, sizeof(seq_store), "%s/hub.db", seq_dir);
	unlink(seq_store);
	snprintf(path, sizeof(path), "%s-wal", seq_store);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", seq_store);
	unlink(path);
	if ((keys = store_keys_load(hub->conf.store_key, NULL, &cause)) ==
	    NULL || (hub->store = store_open(seq_store, keys, &cause)) ==
	    NULL || submit_init(hub->base) == -1 ||
	    submit_start(&cause) == -1) {
		fprintf(stderr, "fuzz_sequence: store: %s\n",
		    cause ? cause : "cannot start");
		exit(1);
	}
}

/*
 * A hub as ceptoard.c main() sets it up, but for TLS, the listener and
 * the audit trail: configuration, directory, pseudonym key, event base.
 */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*dirpath = getenv("CEPTOAR_FUZZ_DIRECTORY");
	const char	*lvl = getenv("CEPTOAR_FUZZ_LOG");
	const char	*tmp = getenv("CEPTOAR_FUZZ_TMPDIR");
	char		 conf[4200], skey[4200], akey[4200];
	char		*cause = NULL;
	enum log_level	 level = LOG_LVL_ERROR;
	FILE		*fp;

	seq_trace = getenv("CEPTOAR_FUZZ_TRACE") != NULL;
	if (lvl != NULL && log_parse_level(lvl, &level) == -1)
		level = LOG_LVL_ERROR;
	log_init(1, level);
	if (sodium_init() < 0)
		exit(1);
	if (dirpath == NULL || *dirpath == '\0')
		dirpath = FUZZ_ROUTE_DIRECTORY;
	if (tmp == NULL || *tmp == '\0')
		tmp = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" :
		    getenv("TMPDIR");
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	fuzz_scratch_sweep(tmp);
	snprintf(seq_dir, sizeof(seq_dir), "%s/ceptoar-fuzz-%ld.XXXXXX", tmp,
	    (long)getpid());
	if (mkdtemp(seq_dir) == NULL) {
		fprintf(stderr, "mkdtemp %s: %s\n", seq_dir, strerror(errno));
		exit(1);
	}
	atexit(seq_cleanup);
	seq_keyfile("store.key", skey, sizeof(skey));
	seq_keyfile("anon.key", akey, sizeof(akey));
	/* Limits high enough that a fast fuzzer is never rate-limited. */
	snprintf(conf, sizeof(conf), "%s/ceptoard.conf", seq_dir);
	if ((fp = fopen(conf, "w")) == NULL)
		exit(1);
	fprintf(fp, "tls_cert: /nonexistent\ntls_key: /nonexistent\n"
	    "tls_ca: /nonexistent\ndirectory: %s\nstore: %s/hub.db\n"
	    "store_key: %s\nanon_key: %s\nrate_frames: 10000000\n"
	    "rate_org_submits: 10000000\nlog_level: error\n", dirpath,
	    seq_dir, skey, akey);
	fclose(fp);
	if (config_load(conf, &hub->conf, &cause) == -1 ||
	    (hub->dir = directory_load(hub->conf.directory, &cause)) == NULL ||
	    anon_load_key(hub->conf.anon_key, &hub->anon, &cause) == -1) {
		fprintf(stderr, "fuzz_sequence: %s\n", cause ? cause : "setup");
		exit(1);
	}
	hub->anon_ready = true;
	hub->anon.time_granularity = (uint32_t)hub->conf.anon_time_granularity;
	hub->anon.k_min = (uint32_t)hub->conf.anon_k;
	seq_norgs = (int)hub->dir->norgs;
	if (seq_norgs > SEQ_MAX_ORGS)
		seq_norgs = SEQ_MAX_ORGS;
	if ((hub->base = event_base_new()) == NULL)
		exit(1);
	seq_store_open();
	return 0;
}

/* The organisation of index i, or NULL for the stranger (i == norgs). */
static const struct dir_org *
seq_org(int i)
{
	return i < seq_norgs ? &hub->dir->orgs[i] : NULL;
}

/* ------------------------------------------------------------------ */
/* Answers. */

/* Note a hub id org saw; ids stay in the order they came. */
static void
seq_note_id(int org, const char *hub_id, uint64_t seqno, bool acked)
{
	size_t	i;

	if (hub_id == NULL || *hub_id == '\0' ||
	    strlen(hub_id) >= STORE_HUB_ID_LEN)
		return;
	for (i = 0; i < seq.nids; i++)
		if (seq.ids[i].org == org &&
		    strcmp(seq.ids[i].hub_id, hub_id) == 0) {
			if (seqno != 0)
				seq.ids[i].seq = seqno;
			return;
		}
	if (seq.nids == SEQ_MAX_IDS)
		return;
	seq.ids[seq.nids].org = org;
	snprintf(seq.ids[seq.nids].hub_id, STORE_HUB_ID_LEN, "%s", hub_id);
	seq.ids[seq.nids].seq = seqno;
	seq.ids[seq.nids].acked = acked;
	seq.nids++;
}

/* The request of org's current connection with id rid, or NULL. */
static struct seq_req *
seq_find_req(int org, uint64_t rid)
{
	size_t	i;

	for (i = 0; i < seq.nreq; i++)
		if (seq.req[i].org == org && seq.req[i].id == rid &&
		    seq.req[i].gen == seq.conn[org].gen)
			return &seq.req[i];
	return NULL;
}

static void	seq_check_anonymised(const Ceptoar__Delivery *, const char *);

/* Keep what a SubmitAck says, to check against the store at the end. */
static void
seq_note_ack(int org, const Ceptoar__SubmitAck *a)
{
	struct seq_ack	*k;
	size_t		 i;

	FUZZ_ASSERT(a->hub_id != NULL && *a->hub_id != '\0');
	FUZZ_ASSERT(strlen(a->hub_id) < STORE_HUB_ID_LEN);
	seq_note_id(org, a->hub_id, 0, true);
	if (seq.nack == SEQ_MAX_ACKS)
		return;
	k = &seq.ack[seq.nack++];
	snprintf(k->hub_id, sizeof(k->hub_id), "%s", a->hub_id);
	k->duplicate = a->has_duplicate && a->duplicate;
	k->nrcpt = 0;
	k->rcpt = calloc(a->n_recipients ? a->n_recipients : 1,
	    sizeof(*k->rcpt));
	FUZZ_ASSERT(k->rcpt != NULL);
	for (i = 0; i < a->n_recipients; i++) {
		FUZZ_ASSERT(a->recipients[i]->organisation != NULL);
		k->rcpt[k->nrcpt] = strdup(a->recipients[i]->organisation);
		FUZZ_ASSERT(k->rcpt[k->nrcpt] != NULL);
		k->nrcpt++;
	}
}

/*
 * A held hop is released once: every forward of org that releases the
 * same hub id is answered with what the first one made.
 */
static void
seq_check_release(struct seq_req *r, const char *made)
{
	size_t	i;

	snprintf(r->made, sizeof(r->made), "%s", made);
	for (i = 0; i < seq.nreq; i++) {
		const struct seq_req *e = &seq.req[i];

		if (e == r || !e->release || e->made[0] == '\0' ||
		    e->org != r->org || strcmp(e->ref, r->ref) != 0)
			continue;
		if (strcmp(e->made, r->made) != 0) {
			fprintf(stderr, "fuzz_sequence: %s released %s twice: "
			    "as %s, then as %s\n", seq_org(r->org)->id, r->ref,
			    e->made, r->made);
			FUZZ_ASSERT(!"a held hop is released only once");
		}
	}
}

/* One envelope the hub sent to org's connection. */
static void
seq_answer(int org, const Ceptoar__Envelope *env)
{
	struct seq_req	*r = NULL;
	const Ceptoar__Delivery *d = NULL;

	FUZZ_ASSERT(env->has_protocol_version &&
	    env->protocol_version == CEPTOAR_PROTOCOL_VERSION);
	if (env->request_id != 0) {
		r = seq_find_req(org, env->request_id);
		/* An answer to a request never made. */
		FUZZ_ASSERT(r != NULL);
		r->answers++;
	}
	switch (env->body_case) {
	case CEPTOAR__ENVELOPE__BODY_WELCOME:
		seq.conn[org].welcomed = true;
		FUZZ_ASSERT(seq_org(org) != NULL);
		FUZZ_ASSERT(strcmp(env->welcome->organisation,
		    seq_org(org)->id) == 0);
		break;
	case CEPTOAR__ENVELOPE__BODY_SUBMIT_ACK:
		FUZZ_ASSERT(r != NULL);
		seq_note_ack(org, env->submit_ack);
		if (r->release)
			seq_check_release(r, env->submit_ack->hub_id);
		break;
	case CEPTOAR__ENVELOPE__BODY_DELIVER:
		d = env->deliver->delivery;
		FUZZ_ASSERT(d != NULL && d->message != NULL);
		break;
	case CEPTOAR__ENVELOPE__BODY_FETCH_RESULT:
		d = env->fetch_result->delivery;
		FUZZ_ASSERT(d != NULL);
		break;
	case CEPTOAR__ENVELOPE__BODY_ERROR:
		/*
		 * The store here never fails, and a request is never refused
		 * for another's fault: store-failed or internal would mean
		 * one request broke another's group commit.
		 */
		if (env->error->code == CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED ||
		    env->error->code == CEPTOAR__ERROR_CODE__ERROR_INTERNAL)
			fprintf(stderr, "fuzz_sequence: %s got error %d: %s\n",
			    seq_org(org) ? seq_org(org)->id : "stranger",
			    (int)env->error->code, env->error->message ?
			    env->error->message : "");
		FUZZ_ASSERT(env->error->code !=
		    CEPTOAR__ERROR_CODE__ERROR_STORE_FAILED);
		FUZZ_ASSERT(env->error->code !=
		    CEPTOAR__ERROR_CODE__ERROR_INTERNAL);
		seq_log("  org %d error %d %s: %s", org,
		    (int)env->error->code, env->error->field ?
		    env->error->field : "", env->error->message ?
		    env->error->message : "");
		if (env->error->has_fatal && env->error->fatal)
			seq.conn[org].closed = true;
		break;
	default:
		break;
	}
	if (d != NULL) {
		seq_note_id(org, d->hub_id, d->seq, false);
		if (d->has_form && d->form == CEPTOAR__FORM__FORM_ANONYMISED &&
		    d->message != NULL)
			seq_check_anonymised(d, "on the wire");
	}
	seq_log("  org %d <- %s request=%llu", org,
	    protobuf_c_message_descriptor_get_field(
	    &ceptoar__envelope__descriptor, (unsigned)env->body_case) ?
	    protobuf_c_message_descriptor_get_field(
	    &ceptoar__envelope__descriptor, (unsigned)env->body_case)->name :
	    "?", (unsigned long long)env->request_id);
}

/* Read every whole frame the hub sent to org's connection. */
static void
seq_drain(int org)
{
	struct seq_conn		*c = &seq.conn[org];
	struct evbuffer		*in;
	Ceptoar__Envelope	*env;
	unsigned char		 hdr[FRAME_HEADER_LEN];
	uint32_t		 n;
	size_t			 used;
	uint8_t			*p;

	if (c->bev == NULL)
		return;
	/* A pair says nothing when the hub frees its end: look. */
	if (bufferevent_pair_get_partner(c->bev) == NULL)
		c->closed = true;
	in = bufferevent_get_input(c->bev);
	while (evbuffer_copyout(in, hdr, sizeof(hdr)) ==
	    (ev_ssize_t)sizeof(hdr)) {
		/* The hub never sends a frame its clients would refuse. */
		FUZZ_ASSERT(frame_peek(hdr, sizeof(hdr), FRAME_DEFAULT_MAX * 2,
		    &n) != FRAME_TOO_LARGE);
		if (evbuffer_get_length(in) < FRAME_HEADER_LEN + (size_t)n)
			break;
		p = evbuffer_pullup(in, FRAME_HEADER_LEN + (ev_ssize_t)n);
		FUZZ_ASSERT(p != NULL);
		FUZZ_ASSERT(frame_unpack(p, FRAME_HEADER_LEN + (size_t)n,
		    FRAME_DEFAULT_MAX * 2, &env, &used) == FRAME_OK);
		evbuffer_drain(in, FRAME_HEADER_LEN + (size_t)n);
		seq_answer(org, env);
		ceptoar__envelope__free_unpacked(env, NULL);
	}
}

/* The hub closed org's connection (its end of the pair was freed). */
static void
seq_client_event(struct bufferevent *bev, short what, void *arg)
{
	int	org = (int)(intptr_t)arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		seq.conn[org].closed = true;
}

/*
 * Run the loop until nothing is left to do: every queued group
 * committed and synced, its answers and deliveries sent, and read.
 */
static void
seq_settle(void)
{
	int	i, org;

	for (i = 0; i < 200; i++) {
		event_base_loop(hub->base, EVLOOP_NONBLOCK);
		/* The sync thread's answer, without waiting on its pipe. */
		durable_wait();
		if (event_base_get_num_events(hub->base,
		    EVENT_BASE_COUNT_ACTIVE) == 0) {
			/* Acknowledgements would linger 10 ms for a group. */
			if (!deliver_writes_queued())
				break;
			submit_write_acks();
		}
	}
	FUZZ_ASSERT(i < 200);
	for (org = 0; org <= seq_norgs; org++)
		seq_drain(org);
}

/* ------------------------------------------------------------------ */
/* Requests. */

/* Send env on org's connection, opening it (and saying hello) first. */
static void	seq_send(int org, Ceptoar__Envelope *env, int op, bool optional);

/* Open a connection for org as TLS would hand it over, and say hello. */
static void
seq_connect(int org)
{
	struct bufferevent	*pair[2];
	const struct dir_org	*o = seq_org(org);
	struct seq_conn		*c = &seq.conn[org];
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Hello		 hello = CEPTOAR__HELLO__INIT;
	char			 peer[32];

	FUZZ_ASSERT(bufferevent_pair_new(hub->base, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS, pair) == 0);
	snprintf(peer, sizeof(peer), "pair:%d", org);
	/* The hub's end is the session's; it frees it when it closes. */
	FUZZ_ASSERT(session_new_plain(pair[0], peer, o != NULL ? o->cert_cn :
	    "stranger.example") != NULL);
	c->bev = pair[1];
	c->closed = false;
	c->welcomed = false;
	c->gen++;
	bufferevent_setcb(c->bev, NULL, NULL, seq_client_event,
	    (void *)(intptr_t)org);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	hello.software = "fuzz_sequence";
	env.body_case = CEPTOAR__ENVELOPE__BODY_HELLO;
	env.hello = &hello;
	seq_send(org, &env, -1, false);
}

/* Close org's end; the hub sees the peer go. */
static void
seq_disconnect(int org)
{
	struct seq_conn	*c = &seq.conn[org];

	if (c->bev == NULL)
		return;
	seq_drain(org);
	bufferevent_free(c->bev);
	c->bev = NULL;
	c->closed = true;
}

static void
seq_send(int org, Ceptoar__Envelope *env, int op, bool optional)
{
	struct seq_conn	*c = &seq.conn[org];
	struct seq_req	*r;
	uint8_t		*buf;
	size_t		 len;

	if (c->bev != NULL && bufferevent_pair_get_partner(c->bev) == NULL)
		c->closed = true;
	if (c->bev != NULL && c->closed)
		seq_disconnect(org);
	if (c->bev == NULL)
		seq_connect(org);
	env->has_protocol_version = 1;
	env->protocol_version = CEPTOAR_PROTOCOL_VERSION;
	env->has_request_id = 1;
	env->request_id = ++seq.next_req;
	if (seq.nreq < SEQ_MAX_REQS) {
		r = &seq.req[seq.nreq++];
		r->org = org;
		r->gen = c->gen;
		r->id = env->request_id;
		r->op = op;
		r->optional = optional;
		r->answers = 0;
	}
	buf = frame_pack(env, &len);
	FUZZ_ASSERT(buf != NULL);
	FUZZ_ASSERT(bufferevent_write(c->bev, buf, len) == 0);
	free(buf);
}

/* Fragments of free text: neutral words and the reporter's own names. */
static const char *const seq_words[] = {
	"Resolvers were saturated by a random-subdomain attack.",
	"Service restored at 05:35.",
	"Contact {name} for details.",
	"Seen from {domain} and www.{domain}.",
	"Mail {mail} or call {phone}.",
	"{id} staff noticed it at 03:12.",
	"Traffic from 198.51.100.7 and 10.1.2.3.",
	"{contact} on duty.",
	"Indicators: evil.example, 203.0.113.45.",
	"株式会社 {name_ja} の担当",
	"45,000 users for 150 minutes, CVE-2024-3094.",
	"{cn} ({first}).",
};

/* Contacts a report may give. */
static const struct {
	const char	*name, *phone, *email;
} seq_contacts[] = {
	{ "Sato Hanako", "+81-3-5555-0101", "csirt@bank-a.example" },
	{ "山田 太郎 (Yamada Taro)", "+81-3-5555-0100",
	    "csirt@telecom.example.jp" },
	{ "Duty Officer", NULL, "duty@example.org" },
	{ "Kenji Ito", "03-5555-0199", NULL },
};

/* Expand the placeholders of seq_words for org o into out. */
static void
seq_text(const struct dir_org *o, int contact, uint8_t sel, char *out,
    size_t len)
{
	const char	*w, *v;
	size_t		 n = sel % 4, i, k = 0;
	char		 key[16];

	out[0] = '\0';
	for (i = 0; i < n + 1; i++) {
		w = seq_words[(i == 0 ? sel >> 2 : seq_byte()) %
		    (sizeof(seq_words) / sizeof(seq_words[0]))];
		while (*w != '\0' && k + 1 < len) {
			if (*w == '{' && strchr(w, '}') != NULL &&
			    (size_t)(strchr(w, '}') - w) < sizeof(key)) {
				snprintf(key, sizeof(key), "%.*s",
				    (int)(strchr(w, '}') - w - 1), w + 1);
				w = strchr(w, '}') + 1;
				v = "";
				if (strcmp(key, "name") == 0)
					v = o->name;
				else if (strcmp(key, "name_ja") == 0)
					v = o->name_ja ? o->name_ja : o->name;
				else if (strcmp(key, "id") == 0)
					v = o->id;
				else if (strcmp(key, "cn") == 0)
					v = o->cert_cn;
				else if (strcmp(key, "domain") == 0)
					v = o->ndomains ? o->domains[0] :
					    "example.com";
				else if (strcmp(key, "first") == 0)
					v = o->nnames ? o->names[o->nnames - 1]
					    : o->name;
				else if (strcmp(key, "mail") == 0)
					v = o->contact_email ?
					    o->contact_email :
					    seq_contacts[contact].email;
				else if (strcmp(key, "phone") == 0)
					v = o->contact_phone ?
					    o->contact_phone :
					    seq_contacts[contact].phone;
				else if (strcmp(key, "contact") == 0)
					v = seq_contacts[contact].name;
				if (v == NULL)
					v = "";
				k += (size_t)snprintf(out + k, len - k, "%s",
				    v);
				if (k >= len)
					k = len - 1;
				continue;
			}
			out[k++] = *w++;
		}
		if (k + 1 < len)
			out[k++] = ' ';
		out[k] = '\0';
	}
}

/* A new uuid, by this input's counter; noted as org's. */
static const char *
seq_new_uuid(int org)
{
	static char	u[40];

	snprintf(u, sizeof(u), "%08x-0000-4000-8000-%012x", seq.counter,
	    seq.counter * 7919u);
	seq.counter++;
	if (seq.nuuid < SEQ_MAX_STEPS) {
		snprintf(seq.uuid[seq.nuuid], sizeof(seq.uuid[0]), "%s", u);
		seq.uuid_org[seq.nuuid++] = org;
	}
	return u;
}

/* An earlier uuid, org's own if it has any. */
static const char *
seq_pick_uuid(int org, uint8_t b)
{
	size_t	i, n = 0;

	for (i = 0; i < seq.nuuid; i++)
		if (seq.uuid_org[i] == org)
			n++;
	if (n > 0) {
		n = b % n;
		for (i = 0; i < seq.nuuid; i++)
			if (seq.uuid_org[i] == org && n-- == 0)
				return seq.uuid[i];
	}
	if (seq.nuuid > 0)
		return seq.uuid[b % seq.nuuid];
	return "7b0c4e1a-7d52-4f0e-9a6b-2c8d1e5f9a07";
}

struct seq_pending {
	char	ids[64][STORE_HUB_ID_LEN];
	size_t	n;
};

/* Collect the hub ids of an inbox. */
static int
seq_pending_row(const struct store_delivery *sd, void *arg)
{
	struct seq_pending	*p = arg;

	if (p->n == 64)
		return 1;
	snprintf(p->ids[p->n++], STORE_HUB_ID_LEN, "%s", sd->hub_id);
	return 0;
}

/*
 * A hub id for org to name: bit 7 of b set, one it saw of any kind
 * (its own acks included), else one delivered to it: from what came on
 * the wire, or from its inbox in the store (no subscription needed).
 */
static const char *
seq_pick_id(int org, uint8_t b)
{
	static char		 out[STORE_HUB_ID_LEN];
	struct seq_pending	 p;
	char			*cause = NULL;
	size_t			 i, n = 0;
	bool			 all = (b & 0x80) != 0;

	p.n = 0;
	if (store_pending(hub->store, seq_org(org) ? seq_org(org)->id :
	    "stranger", 0, 64, seq_pending_row, &p, &cause) == -1) {
		free(cause);
		p.n = 0;
	}
	for (i = 0; i < seq.nids; i++)
		if (seq.ids[i].org == org && (all || !seq.ids[i].acked))
			n++;
	if (n + p.n == 0) {
		if (seq.nids > 0)
			return seq.ids[b % seq.nids].hub_id;
		return "00000000-0000-7000-8000-000000000000";
	}
	b &= 0x7f;
	n = b % (n + p.n);
	if (n < p.n) {
		snprintf(out, sizeof(out), "%s", p.ids[n]);
		return out;
	}
	n -= p.n;
	for (i = 0; i < seq.nids; i++)
		if (seq.ids[i].org == org && (all || !seq.ids[i].acked) &&
		    n-- == 0)
			return seq.ids[i].hub_id;
	return seq.ids[0].hub_id;
}

/* An organisation id of the directory, or one that is not in it. */
static char *
seq_pick_org(uint8_t b)
{
	if (b % (seq_norgs + 1) == seq_norgs)
		return "no-such-org";
	return hub->dir->orgs[b % (seq_norgs + 1)].id;
}

/* A sector id, or one that is not in the directory. */
static char *
seq_pick_sector(uint8_t b)
{
	size_t	n = hub->dir->nsectors;

	if (b % (n + 1) == n)
		return "no-such-sector";
	return hub->dir->sectors[b % (n + 1)].id;
}

/* A sharing range from two bytes, its lists in the arrays given. */
static void
seq_range(Ceptoar__SharingRange *r, uint8_t b, uint8_t lists, char **sv,
    char **ov)
{
	ceptoar__sharing_range__init(r);
	r->has_scope = 1;
	r->scope = (Ceptoar__SharingScope)(1 + b % 5);
	if (r->scope == CEPTOAR__SHARING_SCOPE__SHARING_NAMED_SECTORS ||
	    (b & 0x40)) {
		sv[0] = seq_pick_sector(lists);
		sv[1] = seq_pick_sector(lists >> 4);
		r->sectors = sv;
		r->n_sectors = 1 + ((b >> 3) & 1);
	}
	if (r->scope == CEPTOAR__SHARING_SCOPE__SHARING_NAMED_ORGANISATIONS ||
	    (b & 0x80)) {
		ov[0] = seq_pick_org(lists);
		ov[1] = seq_pick_org(lists >> 3);
		r->organisations = ov;
		r->n_organisations = 1 + ((b >> 4) & 1);
	}
}

/* Everything a step builds a message from; freed with the step. */
struct seq_msg {
	Ceptoar__Message	 m;
	Ceptoar__Report		 r;
	Ceptoar__Contact	 c;
	Ceptoar__Severity	 sev;
	Ceptoar__SharingRange	 range;
	Ceptoar__Impact		 impact;
	Ceptoar__Indicator	 ind, *indp[1];
	Ceptoar__Advisory	 adv;
	Ceptoar__EarlyWarning	 ew;
	Ceptoar__Consultation	 q;
	Ceptoar__Reply		 reply;
	Ceptoar__WidenRequest	 widen;
	Ceptoar__ConsentAnswer	 consent;
	Ceptoar__CommCheck	 check;
	Ceptoar__CheckAnswer	 answer;
	char			*sv[2], *ov[2], *rv[3];
	char			 uuid[40], chain[40];
	char			 ref[STORE_HUB_ID_LEN];
	char			 text[1024], title[256];
};

/*
 * A report from org o, mostly valid:
 *   flags    bit 0 legally mandated, 1 a sharing range, 2 attribution,
 *            3 a follow-up (chain_id: an earlier uuid), 4 drill,
 *            5 report.ceptoar, 6 report.sector, 7 retracted
 *   scope    the range's scope and lists (seq_range), then a byte for
 *            its lists or the chain's uuid
 *   kinds    attribution (bits 0-1), kind (2-3), stage (4-5)
 *   tlp, text (seq_text), impact figures, contact
 */
static void
seq_report(struct seq_msg *sm, int org)
{
	const struct dir_org	*o = seq_org(org);
	static const uint64_t	 users[] = { 0, 120, 30000, 2000000 };
	static const uint32_t	 mins[] = { 5, 30, 120, 600 };
	uint8_t			 flags = seq_byte(), scope = seq_byte();
	uint8_t			 lists = seq_byte(), kinds = seq_byte();
	uint8_t			 tlp = seq_byte(), text = seq_byte();
	uint8_t			 imp = seq_byte(), who = seq_byte();
	int			 contact = who % 4;

	if (o == NULL)
		o = &hub->dir->orgs[0];
	ceptoar__message__init(&sm->m);
	ceptoar__report__init(&sm->r);
	ceptoar__contact__init(&sm->c);
	ceptoar__severity__init(&sm->sev);
	ceptoar__impact__init(&sm->impact);
	ceptoar__indicator__init(&sm->ind);
	snprintf(sm->uuid, sizeof(sm->uuid), "%s", seq_new_uuid(org));
	sm->m.uuid = sm->uuid;
	sm->m.has_tlp = 1;
	sm->m.tlp = (Ceptoar__Tlp)(1 + tlp % 5);
	if (flags & 0x10) {
		sm->m.has_drill = 1;
		sm->m.drill = 1;
	}
	sm->m.content_case = CEPTOAR__MESSAGE__CONTENT_REPORT;
	sm->m.report = &sm->r;
	sm->r.has_kind = 1;
	sm->r.kind = (Ceptoar__ReportKind)(1 + ((kinds >> 2) & 3) % 3);
	sm->c.name = (char *)seq_contacts[contact].name;
	sm->c.phone = (char *)seq_contacts[contact].phone;
	sm->c.email = (char *)seq_contacts[contact].email;
	sm->c.unit = "CSIRT";
	sm->r.contact = &sm->c;
	if (flags & 0x01) {
		sm->r.has_legally_mandated = 1;
		sm->r.legally_mandated = 1;
		sm->r.legal_basis = "Telecommunications Business Act, art. 28";
	}
	sm->r.has_cause = 1;
	sm->r.cause = CEPTOAR__CAUSE__CAUSE_INTENTIONAL;
	sm->r.has_event_type = 1;
	sm->r.event_type = CEPTOAR__EVENT_TYPE__EVENT_ATTACK_DAMAGE;
	sm->sev.has_continuity = 1;
	sm->sev.continuity = imp >> 6;
	sm->sev.has_trust = 1;
	sm->sev.trust = 2;
	sm->r.severity = &sm->sev;
	if (flags & 0x02) {
		seq_range(&sm->range, scope, lists, sm->sv, sm->ov);
		sm->r.sharing = &sm->range;
	}
	if (flags & 0x04) {
		sm->r.has_attribution = 1;
		sm->r.attribution = (Ceptoar__Attribution)(1 + kinds % 3);
	}
	sm->r.has_stage = 1;
	sm->r.stage = (Ceptoar__Stage)(1 + ((kinds >> 4) & 3));
	if (flags & 0x08) {
		snprintf(sm->chain, sizeof(sm->chain), "%s",
		    seq_pick_uuid(org, lists));
		sm->r.chain_id = sm->chain;
		sm->r.has_revision = 1;
		sm->r.revision = 2;
	}
	if (flags & 0x20)
		sm->r.ceptoar = o->nceptoars ? o->ceptoars[0] :
		    hub->dir->ceptoars[scope % hub->dir->nceptoars].id;
	if (flags & 0x40)
		sm->r.sector = seq_pick_sector(scope >> 2);
	if (flags & 0x80) {
		sm->r.has_retracted = 1;
		sm->r.retracted = 1;
	}
	seq_text(o, contact, text, sm->title, sizeof(sm->title) / 2);
	sm->r.title = sm->title;
	seq_text(o, contact, seq_byte(), sm->text, sizeof(sm->text));
	sm->r.free_text = sm->text;
	sm->impact.has_users_affected = 1;
	sm->impact.users_affected = users[imp % 4];
	sm->impact.has_duration_minutes = 1;
	sm->impact.duration_minutes = mins[(imp >> 2) % 4];
	sm->impact.description = (imp & 0x10) ? sm->title : NULL;
	sm->r.impact = &sm->impact;
	sm->ind.type = (imp & 0x20) ? "domain" : "ipv4";
	sm->ind.value = (imp & 0x20) ? (o->ndomains ? o->domains[0] :
	    "evil.example") : "198.51.100.7";
	sm->ind.comment = "seen in the logs";
	sm->indp[0] = &sm->ind;
	sm->r.indicators = sm->indp;
	sm->r.n_indicators = 1;
	sm->r.has_occurred_at = 1;
	sm->r.occurred_at = 1795000000 + (int64_t)who * 61;
}

/* The operations of a step; the list is the input format. */
enum seq_op {
	SEQ_REPORT,		/* a report (seq_report) */
	SEQ_ADVISORY,		/* tlp, sectors, text */
	SEQ_EARLY_WARNING,	/* tlp, count, recipients..., text */
	SEQ_CONSULTATION,	/* to and sector, text */
	SEQ_REPLY,		/* the id answered, text */
	SEQ_WIDEN,		/* the report's id, range (2 bytes) */
	SEQ_CONSENT,		/* the request's id, approve */
	SEQ_COMM_CHECK,		/* deadline and sectors */
	SEQ_CHECK_ANSWER,	/* the check's id */
	SEQ_FORWARD,		/* id, flags, recipients, tlp+range, text */
	SEQ_SUBSCRIBE,		/* follow, after, limit */
	SEQ_ACK,		/* which of what was delivered */
	SEQ_FETCH,		/* id */
	SEQ_PREVIEW,		/* a report (seq_report) */
	SEQ_RECEIPTS,		/* id */
	SEQ_CHECK_STATUS,	/* id */
	SEQ_PING,
	SEQ_REPEAT,		/* the last submit again: same, or changed */
	SEQ_RECONNECT,
	SEQ_NOPS
};

static const char *const seq_op_names[] = {
	"report", "advisory", "early_warning", "consultation", "reply",
	"widen", "consent", "comm_check", "check_answer", "forward",
	"subscribe", "ack", "fetch", "preview", "receipts", "check_status",
	"ping", "repeat", "reconnect",
};

/* Submit sm->m from org, and keep it for a repeat. */
static void
seq_submit(int org, struct seq_msg *sm, int op)
{
	Ceptoar__Envelope	env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Submit		sub = CEPTOAR__SUBMIT__INIT;
	size_t			len;

	sub.message = &sm->m;
	env.body_case = CEPTOAR__ENVELOPE__BODY_SUBMIT;
	env.submit = &sub;
	if (org < seq_norgs) {
		free(seq.last_submit[org]);
		len = ceptoar__message__get_packed_size(&sm->m);
		seq.last_submit[org] = malloc(len ? len : 1);
		FUZZ_ASSERT(seq.last_submit[org] != NULL);
		ceptoar__message__pack(&sm->m, seq.last_submit[org]);
		seq.last_submit_len[org] = len;
	}
	seq_send(org, &env, op, false);
}

/* The common part of an answer: a new uuid and a label. */
static void
seq_message(struct seq_msg *sm, int org, uint8_t tlp)
{
	ceptoar__message__init(&sm->m);
	snprintf(sm->uuid, sizeof(sm->uuid), "%s", seq_new_uuid(org));
	sm->m.uuid = sm->uuid;
	sm->m.has_tlp = 1;
	sm->m.tlp = (Ceptoar__Tlp)(1 + tlp % 5);
}

/*
 * One step: a byte for the organisation (index in the directory; the
 * one past the last is a stranger whose CN is in no directory), a byte
 * for the operation (enum seq_op; with bit 7 set the loop does not run
 * after it, so that the next request is handled in the same turn and
 * joins the same group commit), then its arguments.
 */
static void
seq_step(void)
{
	struct seq_msg		*sm;
	Ceptoar__Envelope	 env = CEPTOAR__ENVELOPE__INIT;
	Ceptoar__Forward	 fw = CEPTOAR__FORWARD__INIT;
	Ceptoar__Subscribe	 sub = CEPTOAR__SUBSCRIBE__INIT;
	Ceptoar__DeliverAck	 ack = CEPTOAR__DELIVER_ACK__INIT;
	Ceptoar__Fetch		 fetch = CEPTOAR__FETCH__INIT;
	Ceptoar__Preview	 pv = CEPTOAR__PREVIEW__INIT;
	Ceptoar__Receipts	 rc = CEPTOAR__RECEIPTS__INIT;
	Ceptoar__CheckStatus	 cs = CEPTOAR__CHECK_STATUS__INIT;
	Ceptoar__Ping		 ping = CEPTOAR__PING__INIT;
	Ceptoar__Submit		 resub = CEPTOAR__SUBMIT__INIT;
	Ceptoar__Message	*again;
	const struct dir_org	*o;
	uint64_t		 seqs[8];
	int			 org = seq_byte() % (seq_norgs + 1);
	uint8_t			 opb = seq_byte();
	int			 op = (opb & 0x7f) % SEQ_NOPS;
	uint8_t			 a, b, c;
	size_t			 i, n;

	o = seq_org(org) ? seq_org(org) : &hub->dir->orgs[0];
	seq_log("step: %s %s", seq_org(org) ? seq_org(org)->id : "stranger",
	    seq_op_names[op]);
	if ((sm = calloc(1, sizeof(*sm))) == NULL)
		abort();
	switch (op) {
	case SEQ_REPORT:
		seq_report(sm, org);
		seq_submit(org, sm, op);
		break;
	case SEQ_ADVISORY:
		seq_message(sm, org, seq_byte());
		ceptoar__advisory__init(&sm->adv);
		a = seq_byte();
		sm->sv[0] = seq_pick_sector(a);
		sm->sv[1] = seq_pick_sector(a >> 4);
		sm->adv.sectors = sm->sv;
		sm->adv.n_sectors = 1 + ((a >> 3) & 1);
		sm->adv.title = "Patch the resolvers";
		seq_text(o, 0, seq_byte(), sm->text, sizeof(sm->text));
		sm->adv.text = sm->text;
		sm->m.content_case = CEPTOAR__MESSAGE__CONTENT_ADVISORY;
		sm->m.advisory = &sm->adv;
		seq_submit(org, sm, op);
		break;
	case SEQ_EARLY_WARNING:
		seq_message(sm, org, seq_byte());
		ceptoar__early_warning__init(&sm->ew);
		n = 1 + seq_byte() % 3;
		for (i = 0; i < n; i++)
			sm->rv[i] = seq_pick_org(seq_byte());
		sm->ew.recipients = sm->rv;
		sm->ew.n_recipients = n;
		sm->ew.title = "Attack expected";
		seq_text(o, 0, seq_byte(), sm->text, sizeof(sm->text));
		sm->ew.text = sm->text;
		sm->m.content_case = CEPTOAR__MESSAGE__CONTENT_EARLY_WARNING;
		sm->m.early_warning = &sm->ew;
		seq_submit(org, sm, op);
		break;
	case SEQ_CONSULTATION:
		a = seq_byte();
		seq_message(sm, org, a >> 4);
		ceptoar__consultation__init(&sm->q);
		sm->q.to = (a & 1) ? "nisc" : "liaison";
		if (a & 2)
			sm->q.sector = seq_pick_sector(a >> 2);
		seq_text(o, a % 4, seq_byte(), sm->text, sizeof(sm->text));
		sm->q.question = sm->text;
		sm->m.content_case = CEPTOAR__MESSAGE__CONTENT_CONSULTATION;
		sm->m.consultation = &sm->q;
		seq_submit(org, sm, op);
		break;
	case SEQ_REPLY:
		a = seq_byte();
		seq_message(sm, org, 3);
		ceptoar__reply__init(&sm->reply);
		snprintf(sm->ref, sizeof(sm->ref), "%s", seq_pick_id(org, a));
		sm->reply.in_reply_to = sm->ref;
		seq_text(o, a % 4, seq_byte(), sm->text, sizeof(sm->text));
		sm->reply.text = sm->text;
		sm->m.content_case = CEPTOAR__MESSAGE__CONTENT_REPLY;
		sm->m.reply = &sm->reply;
		seq_submit(org, sm, op);
		break;
	case SEQ_WIDEN:
		a = seq_byte();
		b = seq_byte();
		c = seq_byte();
		seq_message(sm, org, 3);
		ceptoar__widen_request__init(&sm->widen);
		snprintf(sm->ref, sizeof(sm->ref), "%s", seq_pick_id(org, a));
		sm->widen.hub_id = sm->ref;
		seq_range(&sm->range, b, c, sm->sv, sm->ov);
		sm->widen.sharing = &sm->range;
		sm->widen.reason = "NISC would like to share it with the sector";
		sm->m.content_case = CEPTOAR__MESSAGE__CONTENT_WIDEN_REQUEST;
		sm->m.widen_request = &sm->widen;
		seq_submit(org, sm, op);
		break;
	case SEQ_CONSENT:
		a = seq_byte();
		seq_message(sm, org, 3);
		ceptoar__consent_answer__init(&sm->consent);
		snprintf(sm->ref, sizeof(sm->ref), "%s", seq_pick_id(org, a));
		sm->consent.request = sm->ref;
		sm->consent.has_approve = 1;
		sm->consent.approve = !(a & 0x40);
		sm->consent.note = "agreed";
		sm->m.content_case = CEPTOAR__MESSAGE__CONTENT_CONSENT_ANSWER;
		sm->m.consent_answer = &sm->consent;
		seq_submit(org, sm, op);
		break;
	case SEQ_COMM_CHECK:
		a = seq_byte();
		seq_message(sm, org, 2);
		ceptoar__comm_check__init(&sm->check);
		if (a & 1) {
			sm->check.has_deadline_seconds = 1;
			sm->check.deadline_seconds = 10 + (a >> 1) * 60;
		}
		if (a & 2) {
			sm->sv[0] = seq_pick_sector(a >> 2);
			sm->check.sectors = sm->sv;
			sm->check.n_sectors = 1;
		}
		sm->m.content_case = CEPTOAR__MESSAGE__CONTENT_COMM_CHECK;
		sm->m.comm_check = &sm->check;
		seq_submit(org, sm, op);
		break;
	case SEQ_CHECK_ANSWER:
		a = seq_byte();
		seq_message(sm, org, 2);
		ceptoar__check_answer__init(&sm->answer);
		snprintf(sm->ref, sizeof(sm->ref), "%s", seq_pick_id(org, a));
		sm->answer.check = sm->ref;
		sm->m.content_case = CEPTOAR__MESSAGE__CONTENT_CHECK_ANSWER;
		sm->m.check_answer = &sm->answer;
		seq_submit(org, sm, op);
		break;
	case SEQ_FORWARD:
		/* flags: 1 recipients, 2 tlp, 4 range, 8 note, 16 text,
		 * 32 a uuid (64: the previous one again). */
		a = seq_byte();
		b = seq_byte();
		snprintf(sm->ref, sizeof(sm->ref), "%s", seq_pick_id(org, a));
		fw.hub_id = sm->ref;
		if (b & 1) {
			c = seq_byte();
			n = 1 + c % 2;
			for (i = 0; i < n; i++)
				sm->rv[i] = seq_pick_org(i ? c >> 2 :
				    seq_byte());
			fw.recipients = sm->rv;
			fw.n_recipients = n;
		}
		c = seq_byte();
		if (b & 2) {
			fw.has_tlp = 1;
			fw.tlp = (Ceptoar__Tlp)(1 + c % 5);
		}
		if (b & 4) {
			seq_range(&sm->range, c >> 3, seq_byte(), sm->sv,
			    sm->ov);
			fw.sharing = &sm->range;
		}
		if (b & 8)
			fw.note = "reviewed by the secretariat";
		if (b & 16) {
			seq_text(o, 0, seq_byte(), sm->text, sizeof(sm->text));
			fw.free_text = sm->text;
		}
		if (b & 32) {
			snprintf(sm->uuid, sizeof(sm->uuid), "%s", (b & 64) &&
			    seq.nuuid > 0 ? seq.uuid[seq.nuuid - 1] :
			    seq_new_uuid(org));
			fw.uuid = sm->uuid;
		}
		env.body_case = CEPTOAR__ENVELOPE__BODY_FORWARD;
		env.forward = &fw;
		seq_send(org, &env, op, false);
		if (fw.n_recipients == 0 && seq.nreq > 0 &&
		    seq.req[seq.nreq - 1].op == op) {
			seq.req[seq.nreq - 1].release = true;
			snprintf(seq.req[seq.nreq - 1].ref, STORE_HUB_ID_LEN,
			    "%s", fw.hub_id);
		}
		break;
	case SEQ_SUBSCRIBE:
		a = seq_byte();
		sub.has_follow = 1;
		sub.follow = a & 1;
		if (a & 2) {
			sub.has_after_seq = 1;
			sub.after_seq = a >> 4;
		}
		if (a & 4) {
			sub.has_limit = 1;
			sub.limit = (a >> 3) & 3;
		}
		env.body_case = CEPTOAR__ENVELOPE__BODY_SUBSCRIBE;
		env.subscribe = &sub;
		seq_send(org, &env, op, false);
		break;
	case SEQ_ACK:
		/* bit 0: all that came on the wire; else the one picked. */
		a = seq_byte();
		n = 0;
		for (i = 0; i < seq.nids && n < 8; i++)
			if (seq.ids[i].org == org && seq.ids[i].seq != 0 &&
			    ((a & 1) || n == 0))
				seqs[n++] = seq.ids[i].seq;
		if (n == 0 || (a & 2))
			seqs[n++] = a >> 2;
		ack.seqs = seqs;
		ack.n_seqs = n;
		env.body_case = CEPTOAR__ENVELOPE__BODY_DELIVER_ACK;
		env.deliver_ack = &ack;
		seq_send(org, &env, op, true);
		break;
	case SEQ_FETCH:
		snprintf(sm->ref, sizeof(sm->ref), "%s",
		    seq_pick_id(org, seq_byte()));
		fetch.hub_id = sm->ref;
		env.body_case = CEPTOAR__ENVELOPE__BODY_FETCH;
		env.fetch = &fetch;
		seq_send(org, &env, op, false);
		break;
	case SEQ_PREVIEW:
		seq_report(sm, org);
		pv.message = &sm->m;
		env.body_case = CEPTOAR__ENVELOPE__BODY_PREVIEW;
		env.preview = &pv;
		seq_send(org, &env, op, false);
		break;
	case SEQ_RECEIPTS:
		snprintf(sm->ref, sizeof(sm->ref), "%s",
		    seq_pick_id(org, seq_byte() | 0x80));
		rc.hub_id = sm->ref;
		env.body_case = CEPTOAR__ENVELOPE__BODY_RECEIPTS;
		env.receipts = &rc;
		seq_send(org, &env, op, false);
		break;
	case SEQ_CHECK_STATUS:
		snprintf(sm->ref, sizeof(sm->ref), "%s",
		    seq_pick_id(org, seq_byte() | 0x80));
		cs.hub_id = sm->ref;
		env.body_case = CEPTOAR__ENVELOPE__BODY_CHECK_STATUS;
		env.check_status = &cs;
		seq_send(org, &env, op, false);
		break;
	case SEQ_PING:
		ping.has_nonce = 1;
		ping.nonce = seq_byte();
		env.body_case = CEPTOAR__ENVELOPE__BODY_PING;
		env.ping = &ping;
		seq_send(org, &env, op, false);
		break;
	case SEQ_REPEAT:
		a = seq_byte();
		if (org >= seq_norgs || seq.last_submit[org] == NULL)
			break;
		again = ceptoar__message__unpack(NULL,
		    seq.last_submit_len[org], seq.last_submit[org]);
		FUZZ_ASSERT(again != NULL);
		/* Changed content under the same uuid: a conflict. */
		if ((a & 1) && again->has_tlp)
			again->tlp = again->tlp % 5 + 1;
		resub.message = again;
		env.body_case = CEPTOAR__ENVELOPE__BODY_SUBMIT;
		env.submit = &resub;
		seq_send(org, &env, op, false);
		ceptoar__message__free_unpacked(again, NULL);
		break;
	case SEQ_RECONNECT:
		seq_disconnect(org);
		break;
	}
	free(sm);
	/* Bit 7: the next step's request joins this one's group commit. */
	if (!(opb & 0x80) || seq.left == 0)
		seq_settle();
}

/* ------------------------------------------------------------------ */
/* Invariants. */

/* Strings that identify a reporter, for seq_check_anonymised. */
struct seq_idents {
	const char	*v[64];
	bool		 word[64];	/* match as a whole word only */
	size_t		 n;
};

static void
seq_ident_add(struct seq_idents *id, const char *s, bool word)
{
	if (s == NULL || strlen(s) < 4 || id->n == 64)
		return;
	id->v[id->n] = s;
	id->word[id->n] = word;
	id->n++;
}

/* Whether needle occurs in hay, ASCII case folded, as a word if asked. */
static bool
seq_contains(const char *hay, const char *needle, bool word)
{
	size_t		 n = strlen(needle);
	const char	*p;

	for (p = hay; *p != '\0'; p++) {
		if (strncasecmp(p, needle, n) != 0)
			continue;
		if (!word)
			return true;
		if ((p == hay || !(isalnum((unsigned char)p[-1]) ||
		    p[-1] == '-' || p[-1] == '.')) &&
		    !(isalnum((unsigned char)p[n]) || p[n] == '-'))
			return true;
	}
	return false;
}

struct seq_walk {
	const struct seq_idents	*id;
	const char		*where;
	const char		*hub_id;
};

/* Fail if string s of a message holds an identifier of the reporter. */
static void
seq_check_string(const struct seq_walk *w, const char *field, const char *s)
{
	size_t	i;

	if (s == NULL)
		return;
	for (i = 0; i < w->id->n; i++) {
		if (!seq_contains(s, w->id->v[i], w->id->word[i]))
			continue;
		fprintf(stderr, "fuzz_sequence: the anonymised form %s (%s) "
		    "names its reporter: field %s is \"%s\", which holds "
		    "\"%s\"\n", w->hub_id, w->where, field, s, w->id->v[i]);
		FUZZ_ASSERT(!"an anonymised form carries an identifier of "
		    "the reporter");
	}
}

/* Every string field of m, nested messages included. */
static void
seq_walk_strings(const struct seq_walk *w, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor	*d = m->descriptor;
	const ProtobufCFieldDescriptor		*f;
	const char				*base = (const char *)m;
	size_t					 i, j, n;

	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
			continue;
		if (f->type != PROTOBUF_C_TYPE_STRING &&
		    f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)(base + f->quantifier_offset);
			for (j = 0; j < n; j++) {
				void *v = (*(void *const *)(base +
				    f->offset) == NULL) ? NULL :
				    (*(void **const *)(base + f->offset))[j];
				if (v == NULL)
					continue;
				if (f->type == PROTOBUF_C_TYPE_STRING)
					seq_check_string(w, f->name, v);
				else
					seq_walk_strings(w, v);
			}
			continue;
		}
		if (*(void *const *)(base + f->offset) == NULL)
			continue;
		if (f->type == PROTOBUF_C_TYPE_STRING)
			seq_check_string(w, f->name,
			    *(const char *const *)(base + f->offset));
		else
			seq_walk_strings(w,
			    *(const ProtobufCMessage *const *)(base +
			    f->offset));
	}
}

struct seq_row {
	char		 sender[72];
	char		 origin[STORE_HUB_ID_LEN];
	Ceptoar__Message *m;
	bool		 found;
};

/* Keep the sender, origin and message of a store row. */
static int
seq_row_cb(const struct store_delivery *sd, void *arg)
{
	struct seq_row	*r = arg;

	r->found = true;
	snprintf(r->sender, sizeof(r->sender), "%s", sd->sender ?
	    sd->sender : "");
	snprintf(r->origin, sizeof(r->origin), "%s", sd->origin ?
	    sd->origin : "");
	if (sd->body != NULL)
		r->m = ceptoar__message__unpack(NULL, sd->body_len, sd->body);
	return 1;
}

/* The message hub_id as the hub stored it; 0 found. */
static int
seq_stored(const char *hub_id, struct seq_row *r)
{
	char	*cause = NULL;
	int	 rc;

	memset(r, 0, sizeof(*r));
	rc = store_message(hub->store, hub_id, seq_row_cb, r, &cause);
	if (rc == -1)
		fprintf(stderr, "fuzz_sequence: store_message %s: %s\n",
		    hub_id, cause ? cause : "?");
	free(cause);
	FUZZ_ASSERT(rc != -1);
	return rc == 0 && r->found ? 0 : 1;
}

/*
 * The delivery d is an anonymised form: find its original in the store,
 * whose sender is the reporter, and look for the reporter's
 * identifiers in every string of the delivery.
 */
static void
seq_check_anonymised(const Ceptoar__Delivery *d, const char *where)
{
	struct seq_idents	 id;
	struct seq_walk		 w;
	struct seq_row		 form, orig;
	const struct dir_org	*r;
	const Ceptoar__Report	*rep;
	size_t			 i;

	if (d->hub_id == NULL || seq_stored(d->hub_id, &form) != 0)
		return;
	if (form.origin[0] == '\0' || seq_stored(form.origin, &orig) != 0) {
		if (form.m != NULL)
			ceptoar__message__free_unpacked(form.m, NULL);
		return;
	}
	memset(&id, 0, sizeof(id));
	if ((r = directory_org(hub->dir, orig.sender)) != NULL) {
		seq_ident_add(&id, r->id, true);
		seq_ident_add(&id, r->cert_cn, true);
		for (i = 0; i < r->nnames; i++)
			seq_ident_add(&id, r->names[i], true);
		seq_ident_add(&id, r->name, true);
		seq_ident_add(&id, r->name_ja, false);
		for (i = 0; i < r->ndomains; i++)
			seq_ident_add(&id, r->domains[i], false);
		seq_ident_add(&id, r->contact_name, true);
		seq_ident_add(&id, r->contact_phone, false);
		seq_ident_add(&id, r->contact_email, false);
	}
	if (orig.m != NULL && orig.m->content_case ==
	    CEPTOAR__MESSAGE__CONTENT_REPORT &&
	    (rep = orig.m->report)->contact != NULL) {
		seq_ident_add(&id, rep->contact->name, true);
		seq_ident_add(&id, rep->contact->phone, false);
		seq_ident_add(&id, rep->contact->email, false);
	}
	w.id = &id;
	w.where = where;
	w.hub_id = d->hub_id;
	seq_walk_strings(&w, &d->base);
	if (form.m != NULL)
		ceptoar__message__free_unpacked(form.m, NULL);
	if (orig.m != NULL)
		ceptoar__message__free_unpacked(orig.m, NULL);
}

/* The anonymised deliveries of an inbox, copied out of the store. */
struct seq_inbox {
	Ceptoar__Delivery	 d[64];
	Ceptoar__Message	*m[64];
	size_t			 n;
};

/*
 * Every stored body opens and unpacks (else it is never delivered);
 * keep the anonymised ones, to check once the store is free again.
 */
static int
seq_inbox_row(const struct store_delivery *sd, void *arg)
{
	struct seq_inbox	*ib = arg;
	Ceptoar__Delivery	 d;
	Ceptoar__Message	*m = NULL;

	FUZZ_ASSERT(sd->body_error == NULL);
	memset(&d, 0, sizeof(d));
	FUZZ_ASSERT(deliver_fill(&d, sd, &m) == 0);
	if (d.has_form && d.form == CEPTOAR__FORM__FORM_ANONYMISED &&
	    ib->n < 64) {
		ib->d[ib->n] = d;
		ib->m[ib->n++] = m;
		return 0;
	}
	deliver_clear(&d, m);
	return 0;
}

/* What waits in org's inbox, as it would be sent. */
static void
seq_check_inbox(const char *org)
{
	struct seq_inbox	*ib;
	char			*cause = NULL;
	size_t			 i;

	ib = calloc(1, sizeof(*ib));
	FUZZ_ASSERT(ib != NULL);
	FUZZ_ASSERT(store_pending(hub->store, org, 0, 10000, seq_inbox_row,
	    ib, &cause) == 0);
	for (i = 0; i < ib->n; i++) {
		seq_check_anonymised(&ib->d[i], "in an inbox");
		deliver_clear(&ib->d[i], ib->m[i]);
	}
	free(ib);
}

struct seq_rcpt {
	const char	*org;
	bool		 found;
};

/* Whether a receipt row is the delivery of the recipient looked for. */
static int
seq_receipt_row(const struct store_delivery *sd, void *arg)
{
	struct seq_rcpt	*r = arg;

	if (sd->recipient != NULL && strcmp(sd->recipient, r->org) == 0)
		r->found = true;
	return r->found;
}

/* Every SubmitAck's message is stored and reached its recipients. */
static void
seq_check_acks(void)
{
	struct seq_row	 row;
	struct seq_rcpt	 rr;
	const char	*root;
	char		*cause = NULL;
	size_t		 i, j;

	for (i = 0; i < seq.nack; i++) {
		if (seq_stored(seq.ack[i].hub_id, &row) != 0) {
			fprintf(stderr, "fuzz_sequence: %s was acknowledged "
			    "and is not in the store\n", seq.ack[i].hub_id);
			FUZZ_ASSERT(!"an acknowledged message is stored");
		}
		root = row.origin[0] != '\0' ? row.origin : seq.ack[i].hub_id;
		for (j = 0; j < seq.ack[i].nrcpt; j++) {
			rr.org = seq.ack[i].rcpt[j];
			rr.found = false;
			FUZZ_ASSERT(store_receipts(hub->store, root,
			    seq_receipt_row, &rr, &cause) == 0);
			if (!rr.found) {
				fprintf(stderr, "fuzz_sequence: %s was "
				    "acknowledged as sent to %s, which has no "
				    "delivery of it\n", seq.ack[i].hub_id,
				    rr.org);
				FUZZ_ASSERT(!"an acknowledged recipient has "
				    "the message");
			}
		}
		if (row.m != NULL)
			ceptoar__message__free_unpacked(row.m, NULL);
	}
}

/* Each request on a connection still open got exactly one answer. */
static void
seq_check_answers(void)
{
	const struct seq_req	*r;
	size_t			 i;

	for (i = 0; i < seq.nreq; i++) {
		r = &seq.req[i];
		if (r->answers > 1 || (r->answers == 0 && !r->optional &&
		    r->gen == seq.conn[r->org].gen &&
		    seq.conn[r->org].bev != NULL && !seq.conn[r->org].closed)) {
			fprintf(stderr, "fuzz_sequence: request %llu (%s of "
			    "%s) got %d answers\n", (unsigned long long)r->id,
			    r->op >= 0 ? seq_op_names[r->op] : "hello",
			    seq_org(r->org) ? seq_org(r->org)->id : "stranger",
			    r->answers);
			FUZZ_ASSERT(!"each request gets exactly one answer");
		}
	}
}

/* Check what the store holds, then close everything and start afresh. */
static void
seq_finish(void)
{
	size_t	 i, j;
	int	 org;

	seq_check_answers();
	seq_check_acks();
	for (org = 0; org < seq_norgs; org++)
		seq_check_inbox(hub->dir->orgs[org].id);
	for (org = 0; org <= seq_norgs; org++)
		if (seq.conn[org].bev != NULL)
			bufferevent_free(seq.conn[org].bev);
	for (org = 0; org < SEQ_MAX_ORGS; org++)
		free(seq.last_submit[org]);
	for (i = 0; i < seq.nack; i++) {
		for (j = 0; j < seq.ack[i].nrcpt; j++)
			free(seq.ack[i].rcpt[j]);
		free(seq.ack[i].rcpt);
	}
	/* As ceptoard.c stops: sessions, then the group commit, then the rest. */
	session_close_all("fuzz input done");
	submit_shutdown();
	deliver_shutdown();
	rate_shutdown();
	store_close(hub->store);
	hub->store = NULL;
	/* The reaper frees the closed sessions. */
	event_base_loop(hub->base, EVLOOP_NONBLOCK);
	event_base_loop(hub->base, EVLOOP_NONBLOCK);
	memset(&seq, 0, sizeof(seq));
	seq_store_open();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int	steps;

	seq_inputs++;
	seq.p = data;
	seq.left = size;
	for (steps = 0; seq.left > 0 && steps < SEQ_MAX_STEPS; steps++)
		seq_step();
	seq_finish();
	return 0;
}
