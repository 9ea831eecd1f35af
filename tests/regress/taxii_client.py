#!/usr/bin/env python3
"""A TAXII 2.1 reader that behaves as the hub's users' tools do.

Usage: taxii_client.py --url https://localhost:PORT/taxii2/ --ca CA
           [--cert CRT --key KEY | --basic ORG:PASSWORD]
           [--tls 1.2|1.3] [--mode taxii2client|opencti|misp]
           [--limit N] [--added-after TS] [--state FILE]
           [--schemas DIR] [--raw FILE] --out FILE
       taxii_client.py get --url URL --ca CA [auth] [--tls V] [URL...]

The modes follow what the real clients do:
  taxii2client  keeps every filter, added_after included, when it
                follows next (taxii2-client's as_pages);
  opencti       drops added_after once it follows next, and keeps one
                next across collections; stores X-TAXII-Date-Added-Last
                at millisecond precision and resends it next run;
  misp          HTTP Basic, match[spec_version]=2.1 on every request.
Every run checks each field those clients read (discovery, API root,
collections, envelopes, headers, media types), that a page with more
has objects and a next, that date_added is whole milliseconds, and
(with --schemas) every object against OASIS's STIX 2.1 schemas.  The
objects read go to --out as a JSON array; --raw gets every response
body as read; --state keeps X-TAXII-Date-Added-Last between runs (as
OpenCTI does) and resumes from it.

"get" fetches each URL in turn on one connection and prints
"STATUS BODY" for each, one a line: for refusals.
Exit status: 0, 1 when a check failed, 2 when a request was refused.
"""
import argparse
import json
import os
import re
import ssl
import subprocess
import sys
import tempfile
import warnings

warnings.simplefilter("ignore")
import requests  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}000Z$")


class Refused(Exception):
    pass


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)


class TLSAdapter(HTTPAdapter):
    """Pin the TLS version, as a client that speaks only it would."""

    def __init__(self, version, ca, cert, **kw):
        self.version, self.ca, self.cert = version, ca, cert
        super().__init__(**kw)

    def init_poolmanager(self, *a, **kw):
        ctx = ssl.create_default_context(cafile=self.ca)
        if self.version:
            v = {"1.2": ssl.TLSVersion.TLSv1_2,
                 "1.3": ssl.TLSVersion.TLSv1_3}[self.version]
            ctx.minimum_version = ctx.maximum_version = v
        if self.cert:
            ctx.load_cert_chain(*self.cert)
        kw["ssl_context"] = ctx
        return super().init_poolmanager(*a, **kw)


class Reader:
    def __init__(self, args):
        self.args = args
        self.s = requests.Session()
        cert = (args.cert, args.key) if args.cert else None
        self.s.mount("https://", TLSAdapter(args.tls, args.ca, cert))
        self.s.verify = args.ca
        if args.basic:
            user, _, pw = args.basic.partition(":")
            self.s.auth = (user, pw)
        self.s.headers["Accept"] = TAXII
        self.raw = []

    def get(self, url, params=None):
        if self.args.mode == "misp":
            params = dict(params or {})
            params["match[spec_version]"] = "2.1"
        r = self.s.get(url, params=params, timeout=30)
        self.raw.append(r.content)
        if r.status_code != 200:
            raise Refused("%d %s" % (r.status_code, r.text))
        ctype = r.headers.get("Content-Type", "")
        check(ctype.replace(" ", "") == TAXII,
              "%s: Content-Type %r" % (url, ctype))
        return r, r.json()

    def discover(self):
        url = self.args.url
        _, d = self.get(url)
        check(isinstance(d.get("title"), str), "discovery: title")
        roots = d.get("api_roots")
        check(isinstance(roots, list) and roots, "discovery: api_roots")
        root = requests.compat.urljoin(url, d.get("default", roots[0]))
        check(root.endswith("/"), "api root ends in /")
        _, a = self.get(root)
        check(isinstance(a.get("title"), str) and "." not in a["title"],
              "api root: title without dots (OpenCTI splits on them)")
        check(TAXII in a.get("versions", []), "api root: versions")
        check(isinstance(a.get("max_content_length"), int) and
              a["max_content_length"] > 0, "api root: max_content_length")
        _, c = self.get(root + "collections/")
        cols = c.get("collections")
        check(isinstance(cols, list) and cols, "collections")
        for col in cols:
            for k, t in (("id", str), ("title", str), ("can_read", bool),
                         ("can_write", bool)):
                check(isinstance(col.get(k), t), "collection: %s" % k)
            check(STIX in col.get("media_types", [STIX]),
                  "collection: media_types")
            _, one = self.get(root + "collections/%s/" % col["id"])
            check(one == col, "collection resource equals the listing")
        return root, cols

    def poll(self, root, col, added_after, nxt=None):
        """Every page of col's objects, as the mode's client follows them."""
        url = root + "collections/%s/objects/" % col["id"]
        objs, last, first_page = [], None, True
        while True:
            params = {}
            if self.args.limit:
                params["limit"] = str(self.args.limit)
            if added_after and (first_page or self.args.mode != "opencti"):
                params["added_after"] = added_after
            if nxt:
                params["next"] = nxt
            r, env = self.get(url, params)
            first_page = False
            page = env.get("objects", [])
            more = env.get("more", False)
            check(isinstance(more, bool), "envelope: more is a boolean")
            if more:
                check(page, "a page with more: true has objects")
                check(isinstance(env.get("next"), str) and env["next"],
                      "more: true comes with a next")
            else:
                check("next" not in env, "next without more")
            h1 = r.headers.get("X-TAXII-Date-Added-First")
            h2 = r.headers.get("X-TAXII-Date-Added-Last")
            if page:
                check(h1 and h2, "X-TAXII-Date-Added-First/Last present")
                for h in (h1, h2):
                    check(MS.match(h), "date_added %r is whole ms, "
                          "written with microseconds" % h)
                check(h1 <= h2, "first <= last")
                if added_after:
                    check(h1 > added_after, "nothing at or before "
                          "added_after %s (got %s)" % (added_after, h1))
                last = h2
            for o in page:
                for k in ("type", "id", "spec_version"):
                    check(k in o, "object %s: %s" % (o.get("id"), k))
                check(o["spec_version"] == "2.1", "spec_version 2.1")
            objs.extend(page)
            if not more:
                return objs, last
            nxt = env["next"]

    def manifest(self, root, col, want):
        _, m = self.get(root + "collections/%s/manifest/" % col["id"])
        for e in m.get("objects", []):
            check(TS.match(e.get("date_added", "")),
                  "manifest date_added %r" % e.get("date_added"))
            check(e.get("media_type") == STIX, "manifest media_type")
            check(isinstance(e.get("version"), str), "manifest version")
        ids = {e["id"] for e in m.get("objects", [])}
        if not m.get("more"):
            check(ids == {o["id"] for o in want},
                  "the manifest lists what objects lists")

    def one(self, root, col, o):
        base = root + "collections/%s/objects/%s/" % (col["id"], o["id"])
        _, env = self.get(base)
        check(any(p["id"] == o["id"] for p in env.get("objects", [])),
              "the object %s by id" % o["id"])
        _, v = self.get(base + "versions/")
        check(isinstance(v.get("versions"), list) and v["versions"],
              "versions of %s" % o["id"])


def validate(schemas, objs):
    if not schemas or not os.path.isdir(schemas):
        return
    here = os.path.dirname(os.path.abspath(__file__))
    tool = os.path.join(here, "..", "stix_validate.py")
    with tempfile.NamedTemporaryFile("w", suffix=".json",
                                     delete=False) as f:
        json.dump(objs, f)
    try:
        p = subprocess.run([sys.executable, tool, schemas, f.name],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise Failed("STIX schemas: " + (p.stdout + p.stderr).strip())
    finally:
        os.unlink(f.name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("verb", nargs="?", default="read")
    ap.add_argument("more", nargs="*")
    ap.add_argument("--url", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--basic")
    ap.add_argument("--tls")
    ap.add_argument("--mode", default="taxii2client")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--added-after")
    ap.add_argument("--state")
    ap.add_argument("--schemas")
    ap.add_argument("--raw")
    ap.add_argument("--out")
    args = ap.parse_intermixed_args()
    rd = Reader(args)
    try:
        if args.verb == "get":
            for url in [args.url] + args.more:
                r = rd.s.get(url, timeout=30)
                print(r.status_code, r.text.replace("\n", " "))
            return 0
        root, cols = rd.discover()
        added_after = args.added_after
        if args.state and os.path.exists(args.state):
            with open(args.state) as f:
                st = json.load(f)
            # OpenCTI keeps the header at millisecond precision.
            added_after = st.get("last", added_after)
            if added_after and args.mode == "opencti":
                added_after = added_after[:23] + "Z"
        out, last = [], None
        for col in cols:
            objs, l2 = rd.poll(root, col, added_after)
            last = l2 or last
            if not added_after:
                rd.manifest(root, col, objs)
            for o in objs[:3]:
                rd.one(root, col, o)
            out.extend(objs)
        if args.out:
            with open(args.out, "w") as f:
                json.dump(out, f)
        validate(args.schemas, out)
        if args.state:
            prev = added_after
            with open(args.state, "w") as f:
                json.dump({"last": last or prev}, f)
        if args.raw:
            with open(args.raw, "wb") as f:
                f.write(b"\n".join(rd.raw))
    except Refused as e:
        print("refused: %s" % e, file=sys.stderr)
        return 2
    except Failed as e:
        print("check failed: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
