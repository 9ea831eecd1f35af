/*
 * The service layer without any transport: a hub set up as ceptoard.c's
 * main() does, but for TLS, listeners and the audit trail; then submit
 * with a completion, preview, show, receipts, fetch after a cursor and
 * acknowledge, called as an HTTP adapter will call them, with the
 * organisation already authenticated.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "ceptoard.h"
#include "check.h"

static struct hub	 test_hub;
struct hub		*hub = &test_hub;

static char		 tmpdir[] = "/tmp/test_service.XXXXXX";

#define ERR(x)	CEPTOAR__ERROR_CODE__ERROR_##x

/* What a completion was given, copied before the call returns. */
struct done {
	int			 calls;
	uint64_t		 tag;
	bool			 ok;
	bool			 duplicate;
	uint64_t		 seq;
	char			 hub_id[STORE_HUB_ID_LEN];
	size_t			 nrecipients;
	char			 recipients[8][72];
	struct service_error	 err;
};

/* A service_done_cb: note what it was given. */
static void
done_cb(void *arg, uint64_t tag, const Ceptoar__SubmitAck *ack,
    const struct service_error *err)
{
	struct done	*d = arg;
	size_t		 i;

	d->calls++;
	d->tag = tag;
	d->ok = ack != NULL;
	CHECK((ack == NULL) != (err == NULL));
	if (err != NULL) {
		d->err = *err;
		return;
	}
	d->duplicate = ack->duplicate;
	d->seq = ack->sequence;
	snprintf(d->hub_id, sizeof(d->hub_id), "%s", ack->hub_id);
	d->nrecipients = ack->n_recipients;
	for (i = 0; i < ack->n_recipients && i < 8; i++)
		snprintf(d->recipients[i], sizeof(d->recipients[i]), "%s",
		    ack->recipients[i]->organisation);
}

/* Run the loop until every queued group is committed, synced, answered. */
static void
settle(void)
{
	int	i;

	for (i = 0; i < 200; i++) {
		event_base_loop(hub->base, EVLOOP_NONBLOCK);
		durable_wait();
		if (event_base_get_num_events(hub->base,
		    EVENT_BASE_COUNT_ACTIVE) == 0) {
			if (!deliver_writes_queued())
				break;
			submit_write_acks();
		}
	}
	CHECK(i < 200);
}

/* Write 32 random bytes to tmpdir/name, mode 0600; the path in out. */
static void
keyfile(const char *name, char *out, size_t len)
{
	unsigned char	key[KEYFILE_LEN];
	int		fd;

	snprintf(out, len, "%s/%s", tmpdir, name);
	randombytes_buf(key, sizeof(key));
	if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write(fd, key, sizeof(key)) != (ssize_t)sizeof(key)) {
		perror(out);
		exit(1);
	}
	close(fd);
}

/* The hub: configuration, directory, keys, store, group commit. */
static void
setup(void)
{
	struct store_keys	*keys;
	char			 conf[256], skey[256], akey[256], db[256];
	char			 cwd[4096];
	char			*cause = NULL;
	FILE			*fp;

	log_init(1, LOG_LVL_ERROR);
	if (sodium_init() < 0 || mkdtemp(tmpdir) == NULL)
		exit(1);
	keyfile("store.key", skey, sizeof(skey));
	keyfile("anon.key", akey, sizeof(akey));
	snprintf(conf, sizeof(conf), "%s/ceptoard.conf", tmpdir);
	snprintf(db, sizeof(db), "%s/hub.db", tmpdir);
	/* The configuration's paths are its own folder's: name it fully. */
	if (getcwd(cwd, sizeof(cwd)) == NULL || (fp = fopen(conf, "w")) == NULL)
		exit(1);
	fprintf(fp, "tls_cert: /nonexistent\ntls_key: /nonexistent\n"
	    "tls_ca: /nonexistent\n"
	    "directory: %s/fixtures/route/directory.yaml\n"
	    "store: %s\nstore_key: %s\nanon_key: %s\nlog_level: error\n", cwd,
	    db, skey, akey);
	fclose(fp);
	if (config_load(conf, &hub->conf, &cause) == -1 ||
	    (hub->dir = directory_load(hub->conf.directory, &cause)) == NULL ||
	    anon_load_key(hub->conf.anon_key, &hub->anon, &cause) == -1 ||
	    (hub->base = event_base_new()) == NULL ||
	    (keys = store_keys_load(hub->conf.store_key, NULL, &cause)) ==
	    NULL || (hub->store = store_open(db, keys, &cause)) == NULL ||
	    submit_init(hub->base) == -1 || submit_start(&cause) == -1) {
		fprintf(stderr, "setup: %s\n", cause ? cause : "failed");
		exit(1);
	}
	hub->anon_ready = true;
	hub->anon.time_granularity = (uint32_t)hub->conf.anon_time_granularity;
	hub->anon.k_min = (uint32_t)hub->conf.anon_k;
}

/* A legally mandated report from bank-a, attributable to government. */
struct report {
	Ceptoar__Message	m;
	Ceptoar__Report		r;
	Ceptoar__Contact	c;
	Ceptoar__Severity	sev;
};

static void
report_init(struct report *rp, const char *uuid)
{
	ceptoar__message__init(&rp->m);
	ceptoar__report__init(&rp->r);
	ceptoar__contact__init(&rp->c);
	ceptoar__severity__init(&rp->sev);
	rp->m.uuid = (char *)uuid;
	rp->m.has_tlp = 1;
	rp->m.tlp = CEPTOAR__TLP__TLP_AMBER;
	rp->m.content_case = CEPTOAR__MESSAGE__CONTENT_REPORT;
	rp->m.report = &rp->r;
	rp->r.has_kind = 1;
	rp->r.kind = (Ceptoar__ReportKind)1;
	rp->c.name = "Sato Hanako";
	rp->c.phone = "+81-3-5555-0101";
	rp->c.email = "csirt@bank-a.example";
	rp->r.contact = &rp->c;
	rp->r.has_legally_mandated = 1;
	rp->r.legally_mandated = 1;
	rp->r.legal_basis = "Banking Act, art. 53";
	rp->r.has_cause = 1;
	rp->r.cause = CEPTOAR__CAUSE__CAUSE_INTENTIONAL;
	rp->r.has_event_type = 1;
	rp->r.event_type = CEPTOAR__EVENT_TYPE__EVENT_ATTACK_DAMAGE;
	rp->sev.has_continuity = 1;
	rp->sev.continuity = 2;
	rp->sev.has_trust = 1;
	rp->sev.trust = 2;
	rp->r.severity = &rp->sev;
	rp->r.has_stage = 1;
	rp->r.stage = (Ceptoar__Stage)1;
	rp->r.title = "Online banking unavailable";
	rp->r.free_text = "The login service stopped answering at 09:10.";
	rp->r.has_occurred_at = 1;
	rp->r.occurred_at = (int64_t)time(NULL) - 3600;
}

struct fetched {
	size_t		 n;
	uint64_t	 seqs[16];
	char		 hub_ids[16][STORE_HUB_ID_LEN];
	char		 senders[16][72];
	char		 uuids[16][40];
	int		 stop_after;	/* 0: never */
};

/* A service_delivery_cb: note each delivery given. */
static int
fetch_cb(uint64_t seq, const Ceptoar__Delivery *d, void *arg)
{
	struct fetched	*f = arg;

	if (f->n < 16) {
		f->seqs[f->n] = seq;
		snprintf(f->hub_ids[f->n], sizeof(f->hub_ids[0]), "%s",
		    d->hub_id);
		snprintf(f->senders[f->n], sizeof(f->senders[0]), "%s",
		    d->sender);
		snprintf(f->uuids[f->n], sizeof(f->uuids[0]), "%s",
		    d->message && d->message->uuid ? d->message->uuid : "");
	}
	f->n++;
	return f->stop_after > 0 && f->n >= (size_t)f->stop_after;
}

/* Whether org is among the ack's recipients. */
static bool
acked_to(const struct done *d, const char *org)
{
	size_t	i;

	for (i = 0; i < d->nrecipients && i < 8; i++)
		if (strcmp(d->recipients[i], org) == 0)
			return true;
	return false;
}

int
main(void)
{
	struct service_caller	 bank_a = { "bank-a", "t-bank-a" };
	struct service_caller	 bank_b = { "bank-b", "t-bank-b" };
	struct service_caller	 nisc = { "nisc", "t-nisc" };
	struct service_error	 err;
	struct service_preview	 pv;
	struct service_show	 sh;
	struct service_receipts	 rc;
	struct report		 rp, rp2;
	struct fetched		 f;
	struct done		 d, d2;
	uint64_t		 last;
	size_t			 i;

	setup();

	/* Refused before anything is queued: the completion never runs. */
	memset(&err, 0, sizeof(err));
	memset(&d, 0, sizeof(d));
	CHECK(service_submit(&bank_a, NULL, NULL, done_cb, &d, 7, &err) == -1);
	CHECK(err.set && err.code == ERR(INVALID_FIELD));
	CHECK_STR(err.field, "message");
	CHECK_STR(err.message, "submit carries no message");
	settle();
	CHECK(d.calls == 0);

	/* Preview: where it would go, changing nothing. */
	report_init(&rp, "6f1c8e52-3a5e-4b7a-9c1e-2d3f4a5b6c01");
	memset(&err, 0, sizeof(err));
	CHECK(service_preview(&bank_a, &rp.m, &pv, &err) == 0 && !err.set);
	CHECK(pv.n > 0);
	for (i = 0; i < pv.n; i++)
		CHECK(pv.rv[i].organisation != NULL &&
		    pv.rv[i].as_received != NULL);
	service_preview_free(&pv);

	/* Submit: answered once, through the completion, once durable. */
	report_init(&rp, "6f1c8e52-3a5e-4b7a-9c1e-2d3f4a5b6c01");
	memset(&err, 0, sizeof(err));
	memset(&d, 0, sizeof(d));
	CHECK(service_submit(&bank_a, NULL, &rp.m, done_cb, &d, 42, &err) ==
	    0 && !err.set);
	CHECK(d.calls == 0);		/* not before the fsync */
	settle();
	CHECK(d.calls == 1 && d.ok && d.tag == 42 && !d.duplicate);
	CHECK(d.hub_id[0] != '\0' && d.seq > 0);
	CHECK(acked_to(&d, "nisc"));
	CHECK(!acked_to(&d, "bank-b"));

	/* The same uuid again: a duplicate, with the first hub id. */
	report_init(&rp2, "6f1c8e52-3a5e-4b7a-9c1e-2d3f4a5b6c01");
	memset(&d2, 0, sizeof(d2));
	CHECK(service_submit(&bank_a, NULL, &rp2.m, done_cb, &d2, 43, &err) ==
	    0);
	settle();
	CHECK(d2.calls == 1 && d2.ok && d2.duplicate);
	CHECK_STR(d2.hub_id, d.hub_id);

	/* Fetch after a cursor: NISC has it, in the form it received. */
	memset(&f, 0, sizeof(f));
	memset(&err, 0, sizeof(err));
	CHECK(service_fetch_after(&nisc, 0, 10, fetch_cb, &f, &last, &err) ==
	    0 && !err.set);
	CHECK(f.n == 1);
	CHECK(f.seqs[0] > 0 && last == f.seqs[0]);
	/* From the reporter, or relayed by its sector's liaison. */
	CHECK(strcmp(f.senders[0], "bank-a") == 0 ||
	    strcmp(f.senders[0], "fsa-liaison") == 0);
	CHECK_STR(f.uuids[0], "6f1c8e52-3a5e-4b7a-9c1e-2d3f4a5b6c01");
	/* After its own seq, nothing more; bank-b was never sent it. */
	memset(&f, 0, sizeof(f));
	CHECK(service_fetch_after(&nisc, last, 10, fetch_cb, &f, &last,
	    &err) == 0 && f.n == 0);
	CHECK(service_fetch_after(&bank_b, 0, 10, fetch_cb, &f, &last,
	    &err) == 0 && f.n == 0 && last == 0);

	/* Show: the sender sees its recipients, a stranger sees nothing. */
	memset(&err, 0, sizeof(err));
	CHECK(service_show(&bank_a, d.hub_id, &sh, &err) == 0);
	CHECK(sh.has_recipients && sh.rl.n == d.nrecipients);
	CHECK(sh.d.message != NULL);
	service_show_free(&sh);
	memset(&err, 0, sizeof(err));
	CHECK(service_show(&bank_b, d.hub_id, &sh, &err) == -1);
	CHECK(err.code == ERR(NOT_FOUND));
	CHECK_STR(err.field, "hub_id");
	CHECK_CONTAINS(err.message, "among those sent to or by bank-b");
	service_show_free(&sh);
	memset(&err, 0, sizeof(err));
	CHECK(service_show(&bank_b, "", &sh, &err) == -1 &&
	    err.code == ERR(INVALID_FIELD));
	service_show_free(&sh);

	/* Receipts: only for what the caller sent. */
	memset(&err, 0, sizeof(err));
	CHECK(service_receipts(&bank_a, d.hub_id, &rc, &err) == 0);
	CHECK(rc.n >= 1);
	service_receipts_free(&rc);
	memset(&err, 0, sizeof(err));
	CHECK(service_receipts(&nisc, d.hub_id, &rc, &err) == -1);
	CHECK(err.code == ERR(NOT_FOUND));
	CHECK_CONTAINS(err.message, "among those you sent");

	/* Acknowledged: not fetched again. */
	memset(&f, 0, sizeof(f));
	CHECK(service_fetch_after(&nisc, 0, 10, fetch_cb, &f, &last, &err) ==
	    0 && f.n == 1);
	memset(&err, 0, sizeof(err));
	CHECK(service_acknowledge(&nisc, f.seqs, 1, &err) == 0);
	settle();
	memset(&f, 0, sizeof(f));
	CHECK(service_fetch_after(&nisc, 0, 10, fetch_cb, &f, &last, &err) ==
	    0 && f.n == 0);

	/* One error per request: a second failure does not replace it. */
	memset(&err, 0, sizeof(err));
	CHECK(service_fail(&err, ERR(NOT_FOUND), "a", false, "first") == -1);
	CHECK(service_fail(&err, ERR(INTERNAL), "b", true, "second") == -1);
	CHECK(err.code == ERR(NOT_FOUND) && !err.fatal);
	CHECK_STR(err.field, "a");
	CHECK_STR(err.message, "first");

	submit_shutdown();
	store_close(hub->store);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		(void)system(cmd);
	}
	return CHECK_DONE();
}
