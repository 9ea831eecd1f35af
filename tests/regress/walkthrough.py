#!/usr/bin/env python3
"""Run the README's walkthrough as a new user would, and compare.

Every "$ command" of the README's Walkthrough section runs, in order,
with bash, in a folder laid out like the top of the tree (build/client/
ceptoar, dev-pki/clients/, config/), against the hub the calling scenario
started.  Each output the README shows must be what the command printed,
line by line, except for what differs on every run: times, the hub's
address and session number, round-trip times, and ids.  An id (a UUID, a
pseudonym) the README shows is bound to the one the run printed in its
place the first time it appears; from then on it must always be that
one, and a command naming the README's id is run with the run's id.  A
line "..." in the README stands for any number of lines.

A command with --follow runs in the background; a block with no "$"
line after it is more of that command's output, and is waited for.

Usage: walkthrough.py README RUNDIR
Exits 1 with the first difference, naming the README's line.
"""
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PSEUDONYM = re.compile(r"anon-[a-z2-7]{10}")
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
# Lines whose values differ on every run: the rest of the line is kept.
VOLATILE = [
    (re.compile(r"waiting [0-9][0-9a-z ]* \(since "), "waiting AGE (since "),
    (re.compile(r"^(hub\s+)\S+$"), r"\1ADDR"),
    (re.compile(r"^(session\s+)\S+$"), r"\1N"),
    (re.compile(r"^(round trip\s+)[0-9.]+ ms$"), r"\1T ms"),
]
TIMEOUT = 60


def walkthrough(readme):
    """The (line number, kind, text) items of the Walkthrough section:
    kind "cmd" for a "$ " line, "out" for an output line, "block" when a
    fenced block starts."""
    items = []
    inside = fenced = False
    for no, line in enumerate(open(readme, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if line.startswith("## "):
            inside = line == "## Walkthrough"
            continue
        if not inside:
            continue
        if line.startswith("```"):
            fenced = not fenced
            if fenced:
                items.append((no, "block", ""))
            continue
        if not fenced:
            continue
        if line.startswith("$ "):
            items.append((no, "cmd", line[2:]))
        else:
            items.append((no, "out", line))
    return items


class Ids:
    """README ids bound to the run's, one to one."""

    def __init__(self):
        self.fwd = {}
        self.back = {}

    def bind(self, readme_id, run_id):
        if readme_id in self.fwd:
            return self.fwd[readme_id] == run_id
        if run_id in self.back:
            return False
        self.fwd[readme_id] = run_id
        self.back[run_id] = readme_id
        return True

    def command(self, cmd):
        """cmd with every bound README id replaced by the run's."""
        for pat in (UUID, PSEUDONYM):
            cmd = pat.sub(lambda m: self.fwd.get(m.group(0), m.group(0)), cmd)
        return cmd


def shape(line):
    """A line with its volatile values masked, and its ids in order."""
    line = line.rstrip()
    for pat, rep in VOLATILE:
        line = pat.sub(rep, line)
    line = TIME.sub("TIME", line)
    ids = [m.group(0) for m in re.finditer(
        "%s|%s" % (UUID.pattern, PSEUDONYM.pattern), line)]
    line = UUID.sub("UUID", line)
    line = PSEUDONYM.sub("PSEUDONYM", line)
    return line, ids


def same(want, got, ids):
    """Whether README line want matches run line got, binding ids."""
    ws, wids = shape(want)
    gs, gids = shape(got)
    if ws != gs or len(wids) != len(gids):
        return False
    return all(ids.bind(w, g) for w, g in zip(wids, gids))


def compare(want, got, ids):
    """Match README lines want (with "..." gaps) against run lines got.
    Returns None, or the index in want of the first line that differs
    and what was printed there."""
    got = [g.rstrip() for g in got]
    while got and got[-1] == "":
        got.pop()
    while want and want[-1] == "":
        want = want[:-1]
    i = j = 0
    while i < len(want):
        if want[i].strip() == "...":
            i += 1
            if i == len(want):
                return None
            while j < len(got) and shape(got[j])[0] != shape(want[i])[0]:
                j += 1
            if j == len(got):
                return i, "(no such line after the gap)"
            continue
        if j >= len(got):
            return i, "(nothing more was printed)"
        if not same(want[i], got[j], ids):
            return i, got[j]
        i += 1
        j += 1
    if j < len(got):
        return len(want), got[j]
    return None


def fail(no, what):
    print("FAIL [walkthrough]: README.md:%d: %s" % (no, what), file=sys.stderr)
    sys.exit(1)


def main():
    readme, rundir = sys.argv[1], sys.argv[2]
    items = walkthrough(readme)
    ids = Ids()
    status = 0
    follower = None          # (process, output file) of a --follow command
    ncmd = 0
    i = 0
    try:
        while i < len(items):
            no, kind, text = items[i]
            if kind == "block":
                i += 1
                # A block of output alone: more of the follower's output.
                if i < len(items) and items[i][1] == "out":
                    start = items[i][0]
                    want = []
                    while i < len(items) and items[i][1] == "out":
                        want.append(items[i][2])
                        i += 1
                    if follower is None:
                        fail(start, "output with no command before it")
                    follower["want"] += want
                    follower["line"] = start
                    wait_follower(follower, ids)
                continue
            if kind != "cmd":
                fail(no, "output outside a command")
            cmd = ids.command(text)
            i += 1
            want = []
            while i < len(items) and items[i][1] == "out":
                want.append(items[i][2])
                i += 1
            ncmd += 1
            if cmd.strip() == "echo $?":
                got = ["%d" % status]
            elif "--follow" in cmd.split():
                out = open(os.path.join(rundir, "follow.out"), "w+b")
                proc = subprocess.Popen(["bash", "-c", "exec " + cmd],
                    cwd=rundir, stdout=out, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL)
                follower = {"proc": proc, "out": out, "want": want,
                            "line": no + 1}
                wait_follower(follower, ids)
                continue
            else:
                status, text_out = run_in_terminal(cmd, rundir, no)
                got = text_out.split("\n")
            diff = compare(want, got, ids)
            if diff is not None:
                k, printed = diff
                where = no + 1 + k
                fail(where, "`%s`\n  README: %s\n  run:    %s\n  whole output:\n%s"
                     % (text, want[k] if k < len(want) else "(end)", printed,
                        "\n".join("    " + g for g in got)))
    finally:
        if follower is not None:
            follower["proc"].terminate()
            try:
                follower["proc"].wait(timeout=30)
            except subprocess.TimeoutExpired:
                follower["proc"].kill()
    print("ok [walkthrough]: %d commands of the README ran as it shows" % ncmd)


def run_in_terminal(cmd, cwd, no):
    """Run cmd with bash in a terminal, as the README's reader does, so
    that standard output and error interleave as they show there (to a
    pipe, standard output would be buffered until the end).  Returns the
    exit status and what the terminal showed."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        os.execvp("bash", ["bash", "-c", cmd])
    out = b""
    deadline = time.monotonic() + TIMEOUT
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            fail(no, "`%s` did not end within %d s" % (cmd, TIMEOUT))
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
    os.close(fd)
    _, st = os.waitpid(pid, 0)
    status = os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128
    return status, out.decode("utf-8", "replace").replace("\r\n", "\n")


def wait_follower(f, ids):
    """Wait until the follower printed what the README shows so far."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        f["out"].seek(0)
        got = f["out"].read().decode("utf-8", "replace").split("\n")
        # Only whole lines count; the last may still be written.  The
        # README shows the follower's messages in separate blocks, so
        # blank lines between them do not count.
        got = [g for g in got[:-1] if g.strip()]
        want = [w for w in f["want"] if w.strip()]
        if len(got) >= len(want):
            trial = Ids()
            trial.fwd, trial.back = dict(ids.fwd), dict(ids.back)
            if compare(want, got[:len(want)], trial) is None:
                ids.fwd, ids.back = trial.fwd, trial.back
                return
        if time.monotonic() > deadline or f["proc"].poll() is not None:
            diff = compare(f["want"], got, Ids())
            fail(f["line"], "the follower printed:\n%s\n  README shows:\n%s"
                 % ("\n".join("    " + g for g in got),
                    "\n".join("    " + w for w in f["want"])))
        time.sleep(0.1)


if __name__ == "__main__":
    main()
