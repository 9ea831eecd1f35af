#!/usr/bin/env python3
"""Write the seed corpora and dictionaries of the fuzz targets.

    tests/fuzz/make-seeds.py [SRCDIR]

Everything under tests/fuzz/corpus/ and tests/fuzz/dict/ is made here,
so run it again after changing a fixture, an example or the protocol,
and commit what changes.  Protobuf is encoded by hand (no protobuf
module needed); the field numbers are those of proto/ceptoar.proto.

  corpus/fuzz_frame/        frames as on the wire, good and bad
  corpus/fuzz_validate/     Message and Envelope payloads, no header
  corpus/fuzz_report_json/  config/examples/*.json, tests/fixtures/json/*
  corpus/fuzz_directory/    tests/fixtures/directory/*, the sample and
                            route directories, a few YAML oddities
  corpus/fuzz_config/       config/ceptoard.conf and small variants
  corpus/fuzz_clientconf/   config/examples/ceptoar.conf and variants
  dict/json.dict            the JSON keys and enumeration names
  dict/yaml.dict            the keys of the three YAML files, YAML tokens

Not made here: corpus/fuzz_scrub/ and dict/scrub.dict (kept with the
anonymiser), and corpus/fuzz_sequence/ (sequence-seeds.py, which speaks
that target's own step format).
"""
import os
import re
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else \
    os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")
DICT = os.path.join(HERE, "dict")

# --- protobuf wire format ----------------------------------------------


def varint(n):
    n &= (1 << 64) - 1          # negative int64: ten bytes, two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wt):
    return varint(field << 3 | wt)


def u(field, n):
    """A varint field: integers, enums, bools."""
    return key(field, 0) + varint(int(n))


def s(field, data):
    """A length-delimited field: strings, bytes, submessages."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return key(field, 2) + varint(len(data)) + data


def m(field, *parts):
    return s(field, b"".join(parts))


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


# --- messages (field numbers from proto/ceptoar.proto) --------------------

UUID = "6f1c2a4e-0b7d-4c8e-9f3a-5d2b1e0c7a98"
CHAIN = "0b6a7c1e-2f3d-4a5b-8c9d-0e1f2a3b4c5d"


def severity(c=None, sf=None, t=None, overall=None):
    out = b""
    for f, v in ((1, c), (2, sf), (3, t), (4, overall)):
        if v is not None:
            out += u(f, v)
    return out


def contact(name="Duty officer", phone="+81-3-0000-0000",
            email="soc@bank-a.example", unit="SOC"):
    out = b""
    for f, v in ((1, name), (2, phone), (3, email), (4, unit)):
        if v is not None:
            out += s(f, v)
    return out


def indicator(t, v, comment=None):
    return s(1, t) + s(2, v) + (s(3, comment) if comment else b"")


def report_full():
    return b"".join([
        u(1, 1),                                    # kind incident
        m(2, contact()),
        u(3, 1), s(4, "Act on the Protection of Critical Infrastructure"),
        u(5, 1), u(6, 2),                           # intentional, detected
        m(7, severity(2, 1, 3)),
        m(8, u(1, 4), s(2, "finance"), s(2, "telecom")),
        u(9, 2),                                    # attribution government
        u(10, 2),                                   # stage notification
        s(11, CHAIN), u(12, 2),
        s(13, "finance"),
        s(14, "Internet banking unavailable after DDoS"),
        s(15, "internet banking"),
        s(16, "web front end"), s(16, "load balancer"),
        m(17, u(1, 120000), u(2, 150), u(3, 0), u(4, 0),
          s(5, "Logins failed for\n2.5 hours.")),
        m(18, indicator("ipv4", "198.51.100.7", "C2")),
        m(18, indicator("domain", "bad.example")),
        s(19, "Traffic from a botnet;\r\n\tmitigated at 05:30 JST."),
        u(20, 1763661900), u(21, 1763662500),
    ])


def report_minimal():
    return m(2, contact(phone=None, email="soc@bank-a.example", unit=None))


def advisory():
    return b"".join([
        s(1, "Phishing wave against banks"),
        s(2, "Mails pretending to come from the FSA.\nDo not open."),
        s(3, "finance"),
        m(4, severity(1, 0, 2)),
        m(5, indicator("url", "https://fsa-login.example/")),
        s(6, "https://www.nisc.go.jp/"),
    ])


def early_warning():
    return b"".join([
        s(1, "Imminent attack on payment systems"),
        s(2, "Credible threat for tonight."),
        s(3, "bank-a"), s(3, "tel-a"),
        m(4, severity(3, 3, 3, 3)),
        m(5, indicator("sha256", "e3b0c44298fc1c149afbf4c8996fb924"
                       "27ae41e4649b934ca495991b7852b855")),
    ])


def message(content_field, content, tlp=3, drill=None, uuid=UUID):
    out = b""
    if uuid is not None:
        out += s(1, uuid)
    if tlp is not None:
        out += u(2, tlp)
    if drill is not None:
        out += u(3, drill)
    return out + s(content_field, content)


MSG_REPORT = message(10, report_full())
MSG_MINIMAL = message(10, report_minimal(), tlp=2)
MSG_ADVISORY = message(11, advisory(), tlp=1, drill=1)
MSG_EW = message(12, early_warning(), tlp=5)


def delivery(msg, seq=42):
    return b"".join([
        u(1, seq), s(2, "h-20261120-000042"), s(3, "bank-a"),
        u(4, 1763662600), s(5, "report from the sector"), s(6, msg),
        u(7, 1763662700),
    ])


def env(body_field, body, version=1, request_id=7):
    out = b""
    if version is not None:
        out += u(1, version)
    if request_id is not None:
        out += u(2, request_id)
    return out + s(body_field, body)


ENV = {
    "hello": env(10, s(1, "ceptoar 0.1.0")),
    "welcome": env(11, s(1, "bank-a") + s(2, "Bank A") + s(3, "operator")
                   + s(4, "0.1.0") + u(5, 1048576) + s(6, "s-0001")),
    "submit-report": env(12, s(1, MSG_REPORT)),
    "submit-minimal": env(12, s(1, MSG_MINIMAL)),
    "submit-advisory": env(12, s(1, MSG_ADVISORY)),
    "submit-early-warning": env(12, s(1, MSG_EW)),
    "submit-empty": env(12, b""),
    "submit-ack": env(13, s(1, "h-20261120-000042") + u(2, 42) + u(3, 0)
                      + m(4, s(1, "fsa-liaison"),
                          s(2, "report from the sector: liaison"))
                      + m(4, s(1, "nisc"), s(2, "NISC receives every "
                                             "report"))),
    "subscribe-follow": env(14, u(1, 0) + u(2, 1) + u(3, 0)),
    "subscribe-after": env(14, u(1, 41) + u(3, 10)),
    "subscribed": env(15, u(1, 3) + u(2, 44)),
    "deliver": env(16, m(1, delivery(MSG_REPORT))),
    "deliver-advisory": env(16, m(1, delivery(MSG_ADVISORY, 43))),
    "deliver-ack": env(17, u(1, 42) + u(1, 43) + u(1, 44)),
    # The packed form of the same list, which decoders must accept too.
    "deliver-ack-packed": env(17, s(1, varint(42) + varint(43)
                                    + varint(1 << 40))),
    "fetch": env(18, s(1, "h-20261120-000042")),
    "fetch-result": env(19, m(1, delivery(MSG_EW, 7))
                        + m(2, s(1, "bank-a"), s(2, "named recipient"))),
    "error": env(20, u(1, 7) + s(2, "report.severity.safety: must be 0 "
                                 "to 4") + s(3, "report.severity.safety")
                 + u(4, 0)),
    "error-fatal": env(20, u(1, 2) + s(2, "frame too large") + u(4, 1)),
    "ping": env(21, u(1, 0x1122334455667788)),
    "pong": env(22, u(1, 0x1122334455667788)),
}


def frame_seeds():
    out = {}
    for name, payload in ENV.items():
        out[name + ".bin"] = frame(payload)
    hello = ENV["hello"]
    out.update({
        # What the regress suite's raw client sends: version 1, empty hello.
        "hello-empty.bin": bytes.fromhex("00000004" "0801" "5200"),
        "empty-envelope.bin": frame(b""),
        "wrong-version.bin": frame(env(10, b"", version=99)),
        "no-version.bin": frame(env(21, u(1, 1), version=None,
                                    request_id=None)),
        "two-bodies.bin": frame(ENV["hello"] + s(21, u(1, 5))),
        "repeated-field.bin": frame(u(1, 1) + u(1, 1) + u(2, 3) + u(2, 9)
                                    + s(21, u(1, 1)) + s(21, u(1, 2))),
        "unknown-fields.bin": frame(hello + u(99, 1) + key(100, 1)
                                    + b"\x01" * 8 + key(101, 5) + b"\x02" * 4
                                    + s(102, b"opaque")),
        "negative-times.bin": frame(env(16, m(1, u(1, 1) + u(4, -1)
                                              + u(7, -(1 << 62))))),
        "stream-hello-submit-ping.bin": frame(hello)
        + frame(ENV["submit-minimal"]) + frame(ENV["ping"]),
        "stream-then-partial.bin": frame(hello) + frame(ENV["ping"])[:5],
        "truncated-header.bin": frame(hello)[:3],
        "truncated-payload.bin":
            frame(ENV["submit-report"])[:len(ENV["submit-report"]) // 2],
        "truncated-varint.bin": frame(b"\x08\xff\xff"),
        "truncated-submessage.bin": frame(b"\x62\x40\x0a\x10abc"),
        "garbage.bin": frame(bytes(range(256))[::7]),
        "bad-wire-type.bin": frame(b"\x0f\x01"),
        # A hello above the tight limit before authentication (4096),
        # within the default one.
        "oversized-preauth.bin": frame(env(10, s(1, "x" * 5000))),
        "oversized-claim.bin": struct.pack(">I", 1024 * 1024 + 1) + hello,
        "oversized-ceiling.bin": struct.pack(">I", 64 * 1024 * 1024 + 1),
        "oversized-max.bin": b"\xff\xff\xff\xff" + hello,
    })
    return out


def validate_seeds():
    bad_utf8 = message(10, report_minimal() + s(14, b"caf\xc3(\xa9"))
    out = {
        "message-report.bin": MSG_REPORT,
        "message-minimal.bin": MSG_MINIMAL,
        "message-advisory.bin": MSG_ADVISORY,
        "message-early-warning.bin": MSG_EW,
        "message-no-content.bin": s(1, UUID) + u(2, 1),
        "message-bad-uuid.bin": message(10, report_minimal(),
                                        uuid="not-a-uuid"),
        "message-no-tlp.bin": message(10, report_minimal(), tlp=None),
        "message-bad-utf8.bin": bad_utf8,
        "message-control-byte.bin": message(11, advisory()
                                            + s(1, "bell\x07")),
        "message-severity-range.bin": message(10, report_minimal()
                                              + m(7, severity(1, 7, 0))),
        "message-overall-wrong.bin": message(10, report_minimal()
                                             + m(7, severity(1, 2, 0, 4))),
        "message-unknown-enum.bin": message(10, report_minimal()
                                            + u(5, 99) + u(6, 1)),
        "message-cause-event.bin": message(10, report_minimal()
                                           + u(5, 3) + u(6, 2)),
        "message-sharing-named.bin": message(10, report_minimal()
                                             + m(8, u(1, 5))),
        "message-revision.bin": message(10, report_minimal() + u(12, 3)),
        "message-ew-unknown-recipient.bin":
            message(12, early_warning() + s(3, "nobody")),
        "message-advisory-unknown-sector.bin":
            message(11, advisory() + s(3, "space")),
    }
    for name in ("submit-report", "submit-advisory", "submit-early-warning",
                 "deliver", "fetch-result", "submit-ack", "welcome",
                 "error"):
        out["envelope-" + name + ".bin"] = ENV[name]
    return out


# --- text seeds ----------------------------------------------------------


def files(*globs):
    """(name, path) of the source files matching each directory/suffix."""
    out = []
    for d, suffix in globs:
        full = os.path.join(SRC, d)
        for f in sorted(os.listdir(full)):
            if f.endswith(suffix):
                out.append((f, os.path.join(full, f)))
    return out


def read(path):
    with open(path, "rb") as fp:
        return fp.read()


def json_seeds():
    out = {}
    for name, path in files(("config/examples", ".json"),
                            ("tests/fixtures/json", ".json")):
        prefix = "example-" if "examples" in path else ""
        out[prefix + name] = read(path)
    return out


YAML_ODDITIES = {
    "yaml-anchors.yaml": b"version: 1\nministries:\n  - &m { id: fsa, "
                         b"name: FSA }\n  - *m\nsectors: &s []\n"
                         b"ceptoars: *s\norganisations: *s\n",
    "yaml-self-alias.yaml": b"version: 1\nministries: &a [*a]\n",
    "yaml-deep.yaml": b"version: 1\nministries: " + b"[" * 70
                      + b"]" * 70 + b"\n",
    "yaml-multidoc.yaml": b"version: 1\n---\nversion: 2\n",
    "yaml-tags.yaml": b"version: !!int 1\nministries: !!seq []\n"
                      b"sectors: !custom []\n",
    "yaml-complex-key.yaml": b"? [a, b]\n: c\nversion: 1\n",
    "yaml-nul.yaml": b"version: \"1\\0\"\n",
    "yaml-bom.yaml": b"\xef\xbb\xbfversion: 1\n",
    "yaml-empty.yaml": b"",
    "yaml-comment-only.yaml": b"# nothing\n",
    "yaml-block-scalars.yaml": b"version: 1\nministries:\n  - id: fsa\n"
                               b"    name: |\n      Financial\n"
                               b"      Services\n    name_ja: >-\n"
                               b"      \xe9\x87\x91\xe8\x9e\x8d\n",
}


def directory_seeds():
    out = {}
    for name, path in files(("tests/fixtures/directory", ".yaml")):
        out[name] = read(path)
    out["sample-directory.yaml"] = read(os.path.join(SRC,
                                                     "config/directory.yaml"))
    out["route-directory.yaml"] = read(os.path.join(
        SRC, "tests/fixtures/route/directory.yaml"))
    out.update(YAML_ODDITIES)
    return out


def config_seeds():
    sample = read(os.path.join(SRC, "config/ceptoard.conf"))
    minimal = (b"tls_cert: hub.crt\ntls_key: hub.key\ntls_ca: ca.crt\n"
               b"directory: directory.yaml\n")
    out = {
        "ceptoard.conf": sample,
        "minimal.conf": minimal,
        "absolute.conf": minimal.replace(b": ", b": /etc/ceptoard/")
        + b"store: sqlite:/var/lib/ceptoard/hub.db\npidfile: /run/c.pid\n",
        "sqlite-relative.conf": minimal + b"store: sqlite:hub.db\n",
        "flow-mapping.conf": b"{tls_cert: a, tls_key: b, tls_ca: c, "
                             b"directory: d, listen: '[::1]:0'}\n",
        "numbers.conf": minimal + b"max_frame: 67108864\n"
        b"max_frame_preauth: 65536\nhello_timeout: 3600\n"
        b"idle_timeout: 86400\nmax_output: 1073741824\n"
        b"max_connections: 1000000\ndeliver_batch: 65536\n",
        "bad-number.conf": minimal + b"max_frame: 1e6\n",
        "bad-overflow.conf": minimal
        + b"max_output: 99999999999999999999999\n",
        "bad-preauth.conf": minimal + b"max_frame: 2048\n"
        b"max_frame_preauth: 4096\n",
        "bad-unknown.conf": minimal + b"max_frames: 1\n",
        "bad-twice.conf": minimal + b"directory: other.yaml\n",
        "bad-list.conf": minimal + b"listen: [a, b]\n",
        "bad-null.conf": minimal + b"user:\n",
        "bad-level.conf": minimal + b"log_level: verbose\n",
        "bad-missing.conf": b"tls_cert: hub.crt\n",
        "bad-not-mapping.conf": b"- tls_cert\n- hub.crt\n",
        "bad-alias.conf": b"tls_cert: &x hub.crt\ntls_key: *x\n"
                          b"tls_ca: *x\ndirectory: *x\n",
        "empty.conf": b"",
    }
    return out


def clientconf_seeds():
    sample = read(os.path.join(SRC, "config/examples/ceptoar.conf"))
    # The fuzz target makes ca.crt, cert.pem and key.pem beside the input.
    sample = re.sub(rb"(?m)^cert: .*$", b"cert: cert.pem", sample)
    sample = re.sub(rb"(?m)^key: .*$", b"key: key.pem", sample)
    minimal = b"hub: hub.example.jp:7443\nca: ca.crt\ncert: cert.pem\n" \
              b"key: key.pem\n"
    return {
        "ceptoar.conf": sample,
        "minimal.conf": minimal,
        "ipv6.conf": minimal.replace(b"hub.example.jp:7443",
                                     b"\"[2001:db8::10]:7443\""),
        "server-name.conf": minimal + b"server_name: localhost\n"
                                      b"timeout: 3600\n",
        "home-path.conf": minimal.replace(b"ca: ca.crt", b"ca: ~/ca.crt"),
        "bad-port.conf": minimal.replace(b"7443", b"65536"),
        "bad-ipv6.conf": minimal.replace(b"hub.example.jp", b"2001:db8::1"),
        "bad-no-port.conf": minimal.replace(b":7443", b""),
        "bad-timeout.conf": minimal + b"timeout: 0\n",
        "bad-missing-key.conf": minimal.replace(b"key: key.pem\n", b""),
        "bad-unreadable.conf": minimal.replace(b"ca.crt", b"missing.crt"),
        "bad-typo.conf": minimal + b"server_nme: x\n",
        "bad-duplicate.conf": minimal + b"hub: other:1\n",
        "empty.conf": b"",
    }


# --- dictionaries --------------------------------------------------------


def proto_names():
    """Field names of every message in proto/ceptoar.proto."""
    text = read(os.path.join(SRC, "proto/ceptoar.proto")).decode()
    return sorted(set(re.findall(
        r"^\s*(?:optional|repeated|required)?\s*[\w.]+\s+(\w+)\s*=\s*\d+;",
        text, re.M)) - {"syntax"})


def enum_names():
    """The JSON spellings of the enumerations, from proto/names.c."""
    text = read(os.path.join(SRC, "proto/names.c")).decode()
    return sorted(set(re.findall(r'\{\s*[\w]+,\s*"([^"]+)"', text)
                      + re.findall(r',\s*"([^"]+)"\s*\}', text)))


def json_dict():
    tokens = ['"%s":' % n for n in proto_names() + ["type"]]
    tokens += ['"%s"' % n for n in enum_names()]
    tokens += ["true", "false", "null", "{", "}", "[", "]", ",", ":",
               "\\u0000", "\\ud800", "9223372036854775807",
               "18446744073709551615", "-1", "1e400",
               '"2026-11-21T03:05:00+09:00"', '"9999-12-31T23:59:60Z"',
               '"' + UUID + '"']
    return tokens


def yaml_dict():
    keys = set()
    text = read(os.path.join(SRC, "daemon/directory.c")).decode()
    for block in re.findall(r"_keys\[\] = \{([^}]*)\}", text):
        keys.update(re.findall(r'"(\w+)"', block))
    text = read(os.path.join(SRC, "daemon/config.c")).decode()
    keys.update(re.findall(r'\{ "(\w+)", CONFIG_', text))
    text = read(os.path.join(SRC, "client/clientconf.c")).decode()
    keys.update(re.findall(r'\{ "(\w+)", CLIENTCONF_', text))
    tokens = ["%s: " % k for k in sorted(keys)]
    tokens += ["operator", "ceptoar", "liaison", "nisc", "agency",
               "council", "true", "false", "yes", "null", "~",
               "- ", "[", "]", "{", "}", ": ", "---", "...", "&a ", "*a",
               "!!str ", "? ", "|", ">-", "\"", "'", "#", "\n  ",
               "sqlite:", "127.0.0.1:7443", "[::1]:7443", "10.0.0.0/8",
               "2001:db8::/32", "example.jp", "18446744073709551616"]
    return tokens


def write_dict(path, tokens, what):
    with open(path, "w") as fp:
        fp.write("# %s, made by tests/fuzz/make-seeds.py\n" % what)
        for t in tokens:
            b = t.encode("utf-8")
            fp.write('"%s"\n' % "".join(
                "\\" + chr(c) if chr(c) in '"\\' else
                chr(c) if 0x20 <= c < 0x7f else "\\x%02x" % c for c in b))


def write_corpus(target, seeds):
    d = os.path.join(CORPUS, target)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(d, name), "wb") as fp:
            fp.write(data)
    return len(seeds), sum(len(v) for v in seeds.values())


def main():
    targets = {
        "fuzz_frame": frame_seeds(),
        "fuzz_validate": validate_seeds(),
        "fuzz_report_json": json_seeds(),
        "fuzz_directory": directory_seeds(),
        "fuzz_config": config_seeds(),
        "fuzz_clientconf": clientconf_seeds(),
    }
    total = 0
    for target, seeds in targets.items():
        n, size = write_corpus(target, seeds)
        total += size
        print("%-18s %3d seeds %7d bytes" % (target, n, size))
    os.makedirs(DICT, exist_ok=True)
    write_dict(os.path.join(DICT, "json.dict"), json_dict(),
               "the JSON report format: keys, enumeration names")
    write_dict(os.path.join(DICT, "yaml.dict"), yaml_dict(),
               "ceptoard.conf, ceptoar.conf and the directory: keys")
    print("%-18s     total %7d bytes" % ("", total))


if __name__ == "__main__":
    main()
