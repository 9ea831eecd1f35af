#!/usr/bin/env python3
"""Write the seed corpus of fuzz_sequence: sequences of requests that a
hub serves without error, each a flow of the protocol (a report and its
follow-up, a voluntary report anonymised through its CEPTOAR, a
consultation and its reply, a widen request and its consent, a
communication check, ...).

The bytes follow the format of tests/fuzz/fuzz_sequence.c (seq_step,
seq_report, seq_text): a step is an organisation (its index in
tests/fixtures/route/directory.yaml), an operation (enum seq_op), then
its arguments.  Run it after changing either:

    tests/fuzz/sequence-seeds.py            # writes corpus/fuzz_sequence/
"""
import os
import sys

# tests/fixtures/route/directory.yaml, in file order; STRANGER has a
# certificate CN that is in no directory.
ORGS = ["nisc", "fsa-liaison", "mic-liaison", "banks-sec", "sec-sec",
        "tel-sec", "bank-a", "bank-b", "broker-a", "bank-lone", "tel-a",
        "jpcert"]
STRANGER = len(ORGS)
O = {name: i for i, name in enumerate(ORGS)}

# enum seq_op
(REPORT, ADVISORY, EARLY_WARNING, CONSULTATION, REPLY, WIDEN, CONSENT,
 COMM_CHECK, CHECK_ANSWER, FORWARD, SUBSCRIBE, ACK, FETCH, PREVIEW,
 RECEIPTS, CHECK_STATUS, PING, REPEAT, RECONNECT) = range(19)

# bit 7 of the operation byte: the next step joins the same turn
BATCH = 0x80
# report flags (seq_report)
MANDATED, SHARING, ATTRIBUTION, FOLLOWUP, DRILL, CEPTOAR, SECTOR, \
    RETRACTED = (1 << i for i in range(8))
# sharing scopes: the byte is scope - 1
NISC_ONLY, LIAISON_AND_NISC, SECTOR_CEPTOAR, NAMED_SECTORS, NAMED_ORGS = \
    range(5)
# forward flags
F_RCPT, F_TLP, F_RANGE, F_NOTE, F_TEXT, F_UUID, F_SAME_UUID = \
    (1 << i for i in range(7))


def text(fragment=0):
    """One text fragment (seq_words index), no more: sel % 4 == 0."""
    return [fragment << 2]


def report(org, flags=MANDATED, scope=LIAISON_AND_NISC, lists=0,
           attribution=1, kind=0, stage=1, tlp=2, title=0, body=0,
           impact=0, contact=0):
    kinds = attribution | (kind << 2) | ((stage - 1) << 4)
    return [org, REPORT, flags, scope, lists, kinds, tlp] + text(title) + \
        [impact, contact] + text(body)


def step(org, op, *args):
    return [org, op] + list(args)


def subscribe(org, follow=False):
    return step(org, SUBSCRIBE, 1 if follow else 0)


SEEDS = {
    # A mandatory report to the liaison and NISC, read and acknowledged.
    "mandatory-read": (
        report(O["tel-a"]) +
        subscribe(O["mic-liaison"]) + step(O["mic-liaison"], ACK, 1) +
        subscribe(O["nisc"], follow=True) +
        step(O["tel-a"], RECEIPTS, 0)),
    # A mandatory report, then its follow-up in the same range.
    "mandatory-followup": (
        report(O["tel-a"], flags=MANDATED | SHARING) +
        report(O["tel-a"], flags=MANDATED | FOLLOWUP, stage=3)),
    # A voluntary report within its CEPTOAR: anonymised upwards.
    "voluntary-anonymised": (
        report(O["bank-a"], flags=SHARING | ATTRIBUTION, scope=SECTOR_CEPTOAR,
               attribution=0, body=1) +
        subscribe(O["banks-sec"]) + subscribe(O["fsa-liaison"]) +
        subscribe(O["nisc"])),
    # A voluntary report naming its reporter: held, then released by
    # the secretariat with reviewed words.
    "voluntary-held-released": (
        report(O["bank-a"], flags=SHARING, scope=SECTOR_CEPTOAR, body=3,
               contact=0) +
        subscribe(O["banks-sec"]) +
        step(O["banks-sec"], FORWARD, 0, F_NOTE | F_TEXT, 0, 0) +
        subscribe(O["fsa-liaison"]) + subscribe(O["nisc"])),
    # A voluntary report shared on by the secretariat with a member.
    "voluntary-share": (
        report(O["bank-b"], flags=SHARING, scope=SECTOR_CEPTOAR, body=1) +
        step(O["banks-sec"], FORWARD, 0, F_RCPT | F_UUID, 0, O["bank-a"],
             0)),
    # A consultation to the liaison, and its reply.
    "consultation-reply": (
        step(O["bank-b"], CONSULTATION, 0, 0) +
        step(O["fsa-liaison"], REPLY, 0, 4) +
        subscribe(O["bank-b"])),
    # NISC asks to widen a report's range; the reporter consents.
    "widen-consent": (
        report(O["bank-a"], flags=MANDATED | SHARING, scope=NISC_ONLY + 1) +
        step(O["nisc"], WIDEN, 0, SECTOR_CEPTOAR, 0) +
        step(O["bank-a"], CONSENT, 0) +
        step(O["bank-a"], RECEIPTS, 0x80)),
    # A communication check and its answers.
    "comm-check": (
        step(O["nisc"], COMM_CHECK, 3) +
        step(O["banks-sec"], CHECK_ANSWER, 0) +
        step(O["fsa-liaison"], CHECK_ANSWER, 0) +
        step(O["nisc"], CHECK_STATUS, 0)),
    # An advisory for the finance sector and an early warning.
    "advisory-early-warning": (
        step(O["nisc"], ADVISORY, 2, 0, 0) +
        step(O["nisc"], EARLY_WARNING, 3, 1, O["bank-a"], O["banks-sec"],
             0) +
        subscribe(O["bank-a"], follow=True) + step(O["bank-a"], ACK, 1)),
    # The same submit twice, then changed under the same uuid.
    "repeat-conflict": (
        report(O["bank-b"]) + step(O["bank-b"], REPEAT, 0) +
        step(O["bank-b"], REPEAT, 1)),
    # Questions that change nothing, and a reconnection.
    "preview-fetch-ping": (
        [O["bank-a"], PREVIEW, SHARING, SECTOR_CEPTOAR, 0, 0, 2] + text(0) +
        [0, 0] + text(0) +
        report(O["broker-a"]) + step(O["broker-a"], FETCH, 0x80) +
        step(O["broker-a"], PING, 7) + step(O["broker-a"], RECONNECT) +
        subscribe(O["fsa-liaison"])),
    # Three organisations' submits in one group commit (bit 7 of the
    # operation: the loop does not run before the next step).
    "one-group": (
        [O["tel-a"], REPORT | BATCH] + report(O["tel-a"])[2:] +
        [O["bank-b"], CONSULTATION | BATCH, 1, 0] +
        step(O["nisc"], ADVISORY, 2, 0, 0) +
        subscribe(O["nisc"])),
    # A certificate of no organisation.
    "stranger": step(STRANGER, PING, 0),
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "corpus", "fuzz_sequence")
    if len(sys.argv) > 1:
        out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        assert all(0 <= b < 256 for b in data), name
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(bytes(data))
    print("wrote %d seeds to %s" % (len(SEEDS), out))


if __name__ == "__main__":
    main()
