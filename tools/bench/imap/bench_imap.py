#!/usr/bin/python3
"""IMAP load benchmark: Postern's imapd against a private Debian Dovecot
imap (maildir), on one machine in one run, with the same mailboxes. Prints
both rates (commands/s, sessions/s) and the ratio Postern/Dovecot.

    sudo tools/bench/imap/bench_imap.py [--build build] [--users 20]
        [--messages-per-user 500] [--clients 20] [--sessions 10]
        [--iterations 40] [--rounds 3] [--dovecot-scheme ARGON2ID]

Needs root (Dovecot starts as root and accesses mail as nobody). Run by hand;
not part of the test suite. Both servers listen on 127.0.0.1 only and are
driven the same way: plaintext LOGIN on loopback (Postern with
auth.allow_plaintext_on_loopback = true, Dovecot with
disable_plaintext_auth = no, ssl = no).

Filling is not measured and is done once: Postern over LMTP (`mailctl
serve`), then Dovecot's Maildirs get byte-identical copies of Postern's
stored files (as tools/bench/pop3 does) and `doveadm force-resync`. Before
the first round every user's session on each server creates the folder
"Bench" and fetches the header items of the whole INBOX once (Dovecot fills
its cache file then, as it would for a client that has synced once; Postern
has its summaries from delivery).

The mix (one client session; every command is one "op"):
  LOGIN, SELECT INBOX,
  UID FETCH <50 consecutive UIDs> (UID FLAGS INTERNALDATE RFC822.SIZE
      ENVELOPE BODY.PEEK[HEADER.FIELDS (From To Subject Date Message-ID)]),
  UID FETCH <one of them> BODY.PEEK[],
  UID STORE <an unseen one> +FLAGS (\\Seen),
  SEARCH UNSEEN | FROM <sender> | SUBJECT <word> (in turn),
  APPEND Bench (\\Seen) {5 KB literal},
  LOGOUT.
Two phases, each with --clients sessions at once (client i is user i mod U):
  "sessions":   each client runs --sessions times the whole mix, a new
                connection each time (8 ops); timed from the first connect.
                Login costs Argon2id on Dovecot each time; Postern's auth
                cache (auth.cache_seconds, default 300) skips it after a
                user's first login, as configured by default.
  "logged-in":  each client logs in once, then runs SELECT .. APPEND
                (6 ops) --iterations times; timed from the moment every
                client has logged in (a barrier) to the last APPEND reply.
Responses are checked as they arrive (tagged OK, 50 FETCH replies with
sizes and headers, body bytes equal to RFC822.SIZE and to the corpus,
\\Seen after STORE, SEARCH FROM/SUBJECT counts equal to the corpus's,
APPENDUID); afterwards every STOREd message is \\Seen and Bench holds one
message per APPEND. A server that answers wrongly fails the run.

Also printed per server and phase: server CPU seconds per 1000 ops (imapd's
own for Postern; for Dovecot every process of its tree, exited ones
included) and, for Postern, imapd's context switches per op: these depend
much less on other load on the machine than the rates do.
The driver runs in --procs processes (threads inside), so that Python is
not the bottleneck on 2 cores; its own CPU time is printed as well.
"""
import argparse
import multiprocessing
import os
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pop3"))
import bench_pop3 as pop3  # noqa: E402  (LMTP fill, Postern instance, helpers)

PASSWORD = pop3.PASSWORD
IO_TIMEOUT_S = 120     # any single IMAP read; a stuck server fails the run
FETCH_WINDOW = 50      # messages per header FETCH, a Thunderbird-like page
APPEND_BYTES = 5120
MIX_OPS = ("LOGIN", "SELECT", "FETCH_HDR", "FETCH_BODY", "STORE", "SEARCH", "APPEND", "LOGOUT")
HEADER_FETCH = (b"(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE "
                b"BODY.PEEK[HEADER.FIELDS (From To Subject Date Message-ID)])")
MSGID = re.compile(rb"Message-ID: <(\d+)@bench\.test>", re.I)
UID_RE = re.compile(rb"\bUID (\d+)")
SIZE_RE = re.compile(rb"\bRFC822\.SIZE (\d+)")
FLAGS_RE = re.compile(rb"\bFLAGS \(([^)]*)\)")

SENDERS = [(f"{first} {last}", f"{first.lower()}.{last.lower()}@{dom}")
           for first, last, dom in (
               ("Alice", "Archer", "partner.example"), ("Bruno", "Baker", "vendor.example"),
               ("Chloe", "Carver", "lists.example"), ("Dmitri", "Dyer", "partner.example"),
               ("Emma", "Fletcher", "school.example"), ("Farid", "Glover", "bank.example"),
               ("Greta", "Hunter", "vendor.example"), ("Hiro", "Ingram", "lists.example"),
               ("Ines", "Joiner", "family.example"), ("Jonas", "Keller", "partner.example"),
               ("Kira", "Lister", "news.example"), ("Lars", "Mason", "bank.example"))]
WORDS = ("quarterly", "invoice", "meeting", "holiday", "report", "release", "budget",
         "workshop", "ticket", "shipment", "newsletter", "contract", "roadmap", "survey",
         "payroll", "migration")


# ---------------------------------------------------------------- corpus

def corpus(users, per_user, seed=2026):
    """[(user index, message bytes)]; sizes as tools/bench/pop3 (60% 2-8 KB,
    30% 8-25 KB, 10% 25-50 KB); 30% multipart/alternative; varied senders,
    subjects, dates; ids are global indexes (Message-ID <i@bench.test>)."""
    rng = random.Random(seed)
    out = []
    for i in range(users * per_user):
        r = rng.random()
        size = (rng.randint(2048, 8192) if r < 0.6 else
                rng.randint(8192, 25_600) if r < 0.9 else rng.randint(25_600, 51_200))
        name, addr = SENDERS[rng.randrange(len(SENDERS))]
        subject = " ".join(rng.sample(WORDS, 3)).capitalize() + " #%d" % i
        line = b"%s\r\n" % (b"%d lorem ipsum " % i * 6)[:74]
        text = (line * (size // len(line) + 1))[:size]
        text = text[:text.rfind(b"\r\n") + 2]
        day = 1 + i % 28
        head = (b"From: %s <%s>\r\nTo: user%d@example.test\r\nSubject: %s\r\n"
                b"Date: %s, %02d Oct 2026 %02d:%02d:00 +0000\r\nMessage-ID: <%d@bench.test>\r\n"
                b"MIME-Version: 1.0\r\n" % (
                    name.encode(), addr.encode(), i // per_user + 1, subject.encode(),
                    (b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed")[day % 7], day,
                    i % 24, i % 60, i))
        if rng.random() < 0.3:
            half = text.find(b"\r\n", len(text) // 2) + 2
            body = (b"Content-Type: multipart/alternative; boundary=\"b%d\"\r\n\r\n"
                    b"--b%d\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n%s"
                    b"--b%d\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n"
                    b"<html><body><pre>\r\n%s</pre></body></html>\r\n--b%d--\r\n"
                    % (i, i, text[:half], i, text[half:], i))
        else:
            body = b"Content-Type: text/plain; charset=us-ascii\r\n\r\n" + text
        out.append((i // per_user, head + body))
    return out


def header_value(msg, name):
    m = re.search(rb"^" + name + rb": (.*)\r\n", msg, re.M | re.I)
    return m.group(1).lower() if m else b""


def search_plan(messages, users):
    """Per user: the SEARCH FROM / SUBJECT terms and the expected number of
    INBOX matches (substring, case-insensitive, RFC 9051 section 6.4.4)."""
    plan = []
    for u in range(users):
        mine = [m for owner, m in messages if owner == u]
        froms = [header_value(m, b"From") for m in mine]
        subjects = [header_value(m, b"Subject") for m in mine]
        terms = []
        for k in range(4):
            local = SENDERS[(u + k) % len(SENDERS)][1].split("@")[0].encode()
            terms.append((b"FROM " + local, sum(local in f for f in froms)))
            word = WORDS[(u * 3 + k) % len(WORDS)].encode()
            terms.append((b"SUBJECT " + word, sum(word in s for s in subjects)))
        plan.append(terms)
    return plan


def append_message(n):
    head = (b"From: Bench Client <client@example.test>\r\nTo: archive@example.test\r\n"
            b"Subject: appended %d\r\nDate: Wed, 25 Nov 2026 07:00:00 +0000\r\n"
            b"Message-ID: <append-%d@bench.test>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=us-ascii\r\n\r\n" % (n, n))
    line = b"appended text line for the archive folder, seventy-four bytes wide ....\r\n"
    return head + (line * (APPEND_BYTES // len(line) + 1))[:APPEND_BYTES - len(head)]


# ---------------------------------------------------------------- client

class Imap:
    """One IMAP session over a raw socket with pop3.Buffered's reader:
    lines and literals are sliced out of one buffer, no per-line I/O."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT_S)
        self.io = pop3.Buffered(self.sock)
        self.n = 0
        greeting = self.io.line()
        if not greeting.startswith(b"* OK"):
            raise ConnectionError(f"greeting {greeting[:80]!r}")

    def _read(self, size):
        while len(self.io.buf) < size:
            self.io._fill()
        out = bytes(self.io.buf[:size])
        del self.io.buf[:size]
        return out

    def response(self, tag):
        """(tagged line, [(text, [literals])]) for one command."""
        untagged = []
        while True:
            line = self.io.line()
            if line.startswith(tag):
                if line[len(tag):len(tag) + 4] != b" OK ":
                    raise ConnectionError(f"got {line[:120]!r}, want {tag.decode()} OK")
                return line, untagged
            lits = []
            while line.endswith(b"}"):
                i = line.rfind(b"{")
                lits.append(self._read(int(line[i + 1:-1])))
                line = line[:i] + b"\0" + self.io.line()
            untagged.append((line, lits))

    def command(self, text):
        self.n += 1
        tag = b"a%d" % self.n
        self.sock.sendall(tag + b" " + text + b"\r\n")
        return self.response(tag)

    def append(self, mailbox, data):
        self.n += 1
        tag = b"a%d" % self.n
        self.sock.sendall(b"%s APPEND %s (\\Seen) {%d}\r\n" % (tag, mailbox, len(data)))
        line = self.io.line()
        if not line.startswith(b"+"):
            raise ConnectionError(f"APPEND: got {line[:80]!r}, want +")
        self.sock.sendall(data + b"\r\n")
        return self.response(tag)

    def close(self):
        self.sock.close()


class Client:
    """One simulated user agent: runs the mix and checks every answer."""

    def __init__(self, k, port, user, count, terms, originals, appends):
        self.k, self.port, self.user, self.terms = k, port, user, terms
        self.originals, self.appends = originals, appends
        self.rng = random.Random(1000 + k)
        self.count = count  # INBOX size, from the corpus
        self.ops = {op: [0, 0.0] for op in MIX_OPS}  # count, seconds
        self.stored = set()
        self.appended = 0
        self.iteration = 0

    def timed(self, op, fn, *args):
        t = time.monotonic()
        out = fn(*args)
        rec = self.ops[op]
        rec[0] += 1
        rec[1] += time.monotonic() - t
        return out

    def login(self):
        c = self.timed("LOGIN", Imap, self.port)
        self.timed("LOGIN", c.command, b"LOGIN %s \"%s\"" % (self.user.encode(), PASSWORD.encode()))
        self.ops["LOGIN"][0] -= 1  # connect + LOGIN count as one op
        return c

    def logout(self, c):
        _, untagged = self.timed("LOGOUT", c.command, b"LOGOUT")
        if not any(t.startswith(b"* BYE") for t, _ in untagged):
            raise ConnectionError("LOGOUT without BYE")
        c.close()

    def mix(self, c):
        """SELECT .. APPEND: 6 ops."""
        self.iteration += 1
        _, untagged = self.timed("SELECT", c.command, b"SELECT INBOX")
        if not any(t == b"* %d EXISTS" % self.count for t, _ in untagged):
            raise ConnectionError(f"SELECT: no '* {self.count} EXISTS'")
        first = self.rng.randint(1, self.count - FETCH_WINDOW + 1)
        last = first + FETCH_WINDOW - 1
        _, untagged = self.timed("FETCH_HDR", c.command,
                                 b"UID FETCH %d:%d %s" % (first, last, HEADER_FETCH))
        seen = {}
        for text, lits in untagged:
            # Unsolicited FLAGS updates (another session of the same user)
            # carry no RFC822.SIZE.
            if b" FETCH " not in text[:20] or b"RFC822.SIZE" not in text:
                continue
            uid, size = UID_RE.search(text), SIZE_RE.search(text)
            flags = FLAGS_RE.search(text)
            m = MSGID.search(lits[-1]) if lits else None
            if not (uid and size and flags and m):
                raise ConnectionError(f"header FETCH reply incomplete: {text[:120]!r}")
            seen[int(uid.group(1))] = (int(size.group(1)), int(m.group(1)),
                                       b"\\Seen" in flags.group(1))
        if sorted(seen) != list(range(first, last + 1)):
            raise ConnectionError(f"header FETCH: {len(seen)} replies, want UIDs {first}:{last}")
        uid = self.rng.randint(first, last)
        size, msg_id, _ = seen[uid]
        _, untagged = self.timed("FETCH_BODY", c.command, b"UID FETCH %d BODY.PEEK[]" % uid)
        bodies = [lits[-1] for t, lits in untagged if b" FETCH " in t[:20] and lits]
        orig = self.originals.get(msg_id)
        if (len(bodies) != 1 or len(bodies[0]) != size or orig is None
                or zlib.crc32(bodies[0][-len(orig):]) != zlib.crc32(orig)):
            raise ConnectionError(f"BODY[] of UID {uid}: wrong size or content")
        unseen = [u for u, v in seen.items() if not v[2]] or [uid]
        target = self.rng.choice(unseen)
        _, untagged = self.timed("STORE", c.command, b"UID STORE %d +FLAGS (\\Seen)" % target)
        for text, _ in untagged:
            m = UID_RE.search(text)
            if (b" FETCH " in text[:20] and m and int(m.group(1)) == target
                    and b"\\Seen" not in text):
                raise ConnectionError(f"STORE: reply without \\Seen: {text[:120]!r}")
        self.stored.add(target)
        k = self.iteration % (len(self.terms) + 1)
        criteria, want = (b"UNSEEN", None) if k == len(self.terms) else self.terms[k]
        _, untagged = self.timed("SEARCH", c.command, b"SEARCH " + criteria)
        hits = [t for t, _ in untagged if t.startswith(b"* SEARCH")]
        if len(hits) != 1:
            raise ConnectionError(f"SEARCH {criteria!r}: no SEARCH reply")
        numbers = hits[0].split()[2:]
        if want is not None and len(numbers) != want:
            raise ConnectionError(f"SEARCH {criteria!r}: {len(numbers)} hits, want {want}")
        if any(not 1 <= int(n) <= self.count for n in numbers):
            raise ConnectionError(f"SEARCH {criteria!r}: number out of range")
        tagged, _ = self.timed("APPEND", c.append, b"Bench", self.appends[self.iteration % 8])
        if b"[APPENDUID " not in tagged:
            raise ConnectionError(f"APPEND: {tagged[:120]!r}, want APPENDUID")
        self.appended += 1

    def run_sessions(self, n):
        for _ in range(n):
            c = self.login()
            self.mix(c)
            self.logout(c)

    def result(self):
        return {"ops": self.ops, "stored": sorted(self.stored), "appended": self.appended}


def worker(port, clients, phase, count, barrier, queue):
    """One driver process: its clients as threads. Puts one dict per client:
    start/end (after the barrier, after the last op), ops, errors."""
    def run(cl):
        out = {"k": cl.k, "user": cl.user, "error": None, "start": None, "end": None}
        c = None
        try:
            if phase == "logged-in":
                c = cl.login()
            barrier.wait()
            out["start"] = time.monotonic()
            if phase == "sessions":
                cl.run_sessions(count)
            else:
                for _ in range(count):
                    cl.mix(c)
            out["end"] = time.monotonic()
            if c is not None:
                cl.logout(c)
        except Exception as e:  # reported, and fails the run
            try:
                barrier.abort()
            except Exception:
                pass
            out["error"] = repr(e)
        out.update(cl.result())
        queue.put(out)

    threads = [threading.Thread(target=run, args=(cl,)) for cl in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=3600)


def run_phase(port, phase, count, args, users, plan, originals, appends, at_start):
    """Runs one phase against one server; at_start() runs when every
    client has passed the barrier. Returns the client results."""
    ctx = multiprocessing.get_context("fork")
    # The parent is a party too: it takes the server's counters there.
    barrier = ctx.Barrier(args.clients + 1, timeout=IO_TIMEOUT_S)
    queue = ctx.Queue()
    clients = [Client(k, port, users[k % len(users)], args.messages_per_user,
                      plan[k % len(users)], originals, appends) for k in range(args.clients)]
    procs = [ctx.Process(target=worker, args=(port, clients[p::args.procs], phase, count,
                                              barrier, queue))
             for p in range(args.procs)]
    for p in procs:
        p.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass  # a client failed before the start; its result says why
    at_start()
    results = [queue.get(timeout=3600) for _ in range(args.clients)]
    for p in procs:
        p.join(timeout=60)
    return results


# ---------------------------------------------------------------- CPU accounting

def proc_cpu(pid, children=False):
    """utime+stime (+cutime+cstime) of a process in seconds; 0 if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def descendants(root):
    kids = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def ctx_switches(pid):
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            for line in (task / "status").read_text().splitlines():
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


# ---------------------------------------------------------------- servers

class Postern(pop3.Postern):
    def __init__(self, build, work, users):
        super().__init__(build, work, users)
        self.port = self.base + 143
        # All clients come from 127.0.0.1, and a client that reconnects at
        # once can arrive before the server has seen its previous close.
        text = self.conf.read_text()
        if '"max_per_ip": 20' not in text:
            raise RuntimeError("connections.max_per_ip not found in postern.json")
        self.conf.write_text(text.replace('"max_per_ip": 20', '"max_per_ip": 1000'))

    def imapd_pid(self):
        for pid in descendants(self.proc.pid):
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "imapd":
                    return pid
            except OSError:
                pass
        raise RuntimeError("no imapd process under mailctl serve")

    def counters(self):
        pid = self.imapd_pid()
        return proc_cpu(pid), ctx_switches(pid)


DOVECOT_CONF = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{dir}/mail/%u
mail_fsync = {fsync}
first_valid_uid = 1
mail_uid = nobody
mail_gid = nogroup
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
passdb {{
  driver = passwd-file
  args = {dir}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={dir}/home/%u
}}
# "High-performance mode" of the Dovecot documentation: login processes
# serve many connections instead of one process per connection.
service imap-login {{
  service_count = 0
  process_min_avail = 2
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
"""


class Dovecot(pop3.Dovecot):
    def __init__(self, work, users, fsync, scheme):
        super().__init__(work, users, fsync, scheme)
        self.conf.write_text(DOVECOT_CONF.format(dir=self.dir, fsync=fsync, port=self.port))

    def master_pid(self):
        return int((self.dir / "run" / "master.pid").read_text().strip())

    def counters(self):
        master = self.master_pid()
        # Exited imap processes are in the master's cutime/cstime.
        cpu = proc_cpu(master, children=True)
        cpu += sum(proc_cpu(p) for p in descendants(master) if p != master)
        return cpu, None


# ---------------------------------------------------------------- main

def setup_session(port, user, per_user):
    """Unmeasured: creates Bench and reads the INBOX's header items once."""
    c = Imap(port)
    c.command(b"LOGIN %s \"%s\"" % (user.encode(), PASSWORD.encode()))
    c.command(b"CREATE Bench")
    _, untagged = c.command(b"SELECT INBOX")
    if not any(t == b"* %d EXISTS" % per_user for t, _ in untagged):
        raise RuntimeError(f"{user}: INBOX does not hold {per_user} messages")
    c.command(b"UID FETCH 1:* " + HEADER_FETCH)
    c.command(b"LOGOUT")
    c.close()


def check_after(port, user, stored, appended, per_user):
    c = Imap(port)
    c.command(b"LOGIN %s \"%s\"" % (user.encode(), PASSWORD.encode()))
    _, untagged = c.command(b"STATUS Bench (MESSAGES)")
    m = [re.search(rb"MESSAGES (\d+)", t) for t, _ in untagged]
    got = [int(x.group(1)) for x in m if x]
    c.command(b"SELECT INBOX")
    _, untagged = c.command(b"UID SEARCH SEEN")
    seen = {int(n) for t, _ in untagged if t.startswith(b"* SEARCH") for n in t.split()[2:]}
    c.command(b"LOGOUT")
    c.close()
    problems = []
    if got != [appended]:
        problems.append(f"{user}: Bench holds {got}, want {appended}")
    if not set(stored) <= seen:
        problems.append(f"{user}: {len(set(stored) - seen)} STOREd messages not \\Seen")
    return problems


def summarize(name, phase, results, ops_per_unit, cpu, ctxsw, driver_cpu):
    errors = [f"{r['user']}: {r['error']}" for r in results if r["error"]]
    if errors:
        for e in errors[:10]:
            print("    ", e)
        raise SystemExit(f"{name} {phase}: {len(errors)} client(s) failed")
    secs = max(r["end"] for r in results) - min(r["start"] for r in results)
    ops = {op: [0, 0.0] for op in MIX_OPS}
    for r in results:
        for op, (n, t) in r["ops"].items():
            ops[op][0] += n
            ops[op][1] += t
    total = sum(n for n, _ in ops.values())
    units = total / ops_per_unit
    lat = " ".join(f"{op.lower()} {t / n * 1000:.1f}" for op, (n, t) in ops.items() if n)
    extra = f", {ctxsw / total:.1f} cs/op" if ctxsw is not None else ""
    print(f"  {name:8s} {phase:9s} {secs:6.2f} s {total:6d} ops {total / secs:7.1f} ops/s "
          f"{units / secs:6.1f} {'sessions' if phase == 'sessions' else 'mixes'}/s | server "
          f"{cpu / total * 1000:5.2f} CPU-s/kop{extra} | driver {driver_cpu:5.1f} CPU-s\n"
          f"           mean latency ms: {lat}", flush=True)
    return total / secs, units / secs, cpu / total * 1000


def measure(name, srv, phase, count, args, users, plan, originals, appends):
    started = {}

    def at_start():
        started["counters"] = srv.counters()
        if args.perf and name == "postern":
            out = Path(args.perf) / f"perf-{phase}-{time.strftime('%H%M%S')}.data"
            started["perf"] = subprocess.Popen(
                ["perf", "record", *args.perf_args.split(), "-o", str(out), "-p",
                 str(srv.imapd_pid())],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    results = run_phase(srv.port, phase, count, args, users, plan, originals, appends, at_start)
    after = srv.counters()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if "perf" in started:
        started["perf"].send_signal(2)
        started["perf"].wait(timeout=120)
    before = started["counters"]
    driver = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    ctxsw = after[1] - before[1] if before[1] is not None else None
    per = len(MIX_OPS) if phase == "sessions" else len(MIX_OPS) - 2
    return summarize(name, phase, results, per, after[0] - before[0], ctxsw, driver), results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=str(pop3.ROOT / "build"))
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--messages-per-user", type=int, default=500)
    ap.add_argument("--clients", type=int, default=20, help="concurrent sessions")
    ap.add_argument("--sessions", type=int, default=10,
                    help="whole mixes (login to logout) per client in the 'sessions' phase")
    ap.add_argument("--iterations", type=int, default=40,
                    help="mixes per client in the 'logged-in' phase")
    ap.add_argument("--phases", default="sessions,logged-in")
    ap.add_argument("--procs", type=int, default=2, help="driver processes")
    ap.add_argument("--dovecot-fsync", default="optimized", choices=["optimized", "always", "never"])
    ap.add_argument("--dovecot-scheme", default="ARGON2ID", choices=["ARGON2ID", "PLAIN"],
                    help="password scheme of Dovecot's passwd-file")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--perf", help="directory: perf record -g imapd during Postern's phases")
    ap.add_argument("--perf-args", default="-g",
                    help="perf record options, e.g. '--call-graph dwarf -F 300'")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: Dovecot must start as root")
    if args.messages_per_user < FETCH_WINDOW:
        sys.exit(f"--messages-per-user must be at least {FETCH_WINDOW}")
    phases = [p for p in args.phases.split(",") if p]
    build = Path(args.build).resolve()
    users = [f"u{i + 1}@example.test" for i in range(args.users)]
    messages = corpus(args.users, args.messages_per_user)
    plan = search_plan(messages, args.users)
    originals = {i: m for i, (_, m) in enumerate(messages)}
    appends = [append_message(n) for n in range(8)]
    work = Path(tempfile.mkdtemp(prefix="postern-imapbench-"))
    os.chmod(work, 0o755)  # Dovecot reads mail as nobody
    print(f"corpus: {len(messages)} messages, "
          f"{sum(len(m) for _, m in messages) / 1e6:.1f} MB, {args.users} users x "
          f"{args.messages_per_user}; {args.clients} clients, {args.procs} driver processes; "
          f"build {build}, work {work}", flush=True)
    post = Postern(build, work, users)
    dove = Dovecot(work, users, args.dovecot_fsync, args.dovecot_scheme)
    rates = {}
    try:
        post.start()
        pop3.fill_lmtp(post.dir / "run" / "lmtp.sock",
                       [(users[owner], m) for owner, m in messages])
        files = pop3.stored_files(post.dir / "data")
        dove.fill(files)
        dove.start()
        dove.index()
        servers = {"postern": post, "dovecot": dove}
        for srv in servers.values():
            for u in users:
                pop3.wait_port(srv.port)
                setup_session(srv.port, u, args.messages_per_user)
        totals = {name: {u: [set(), 0] for u in users} for name in servers}
        for r in range(args.rounds):
            # Alternate which server goes first so that load from other
            # processes on the machine does not favour one.
            order = ["postern", "dovecot"] if r % 2 == 0 else ["dovecot", "postern"]
            print(f"round {r} ({time.strftime('%H:%M:%S')}, load average "
                  f"{os.getloadavg()[0]:.1f})", flush=True)
            for phase in phases:
                count = args.sessions if phase == "sessions" else args.iterations
                for name in order:
                    figures, results = measure(name, servers[name], phase, count, args, users,
                                               plan, originals, appends)
                    rates.setdefault((phase, name), []).append(figures)
                    for res in results:
                        t = totals[name][res["user"]]
                        t[0].update(res["stored"])
                        t[1] += res["appended"]
        for name, srv in servers.items():
            problems = []
            for u in users:
                problems += check_after(srv.port, u, *totals[name][u], args.messages_per_user)
            print(f"{name}: final check {'OK' if not problems else 'FAILED'}")
            for p in problems[:10]:
                print("    ", p)
            if problems:
                raise SystemExit(f"{name}: sanity check failed")
    finally:
        post.stop()
        dove.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"dovecot mail_fsync={args.dovecot_fsync}, password scheme {args.dovecot_scheme}; "
          f"median of {args.rounds} round(s), load average now "
          f"{' '.join('%.1f' % x for x in os.getloadavg())}:")
    for phase in phases:
        p = [statistics.median(v[k] for v in rates[(phase, "postern")]) for k in range(3)]
        d = [statistics.median(v[k] for v in rates[(phase, "dovecot")]) for k in range(3)]
        unit = "sessions/s" if phase == "sessions" else "mixes/s"
        print(f"  {phase:9s} postern {p[0]:7.1f} ops/s {p[1]:6.1f} {unit} {p[2]:5.2f} CPU-s/kop | "
              f"dovecot {d[0]:7.1f} ops/s {d[1]:6.1f} {unit} {d[2]:5.2f} CPU-s/kop | "
              f"ratio postern/dovecot = {p[0] / d[0]:.2f}x (CPU per op: "
              f"{d[2] / p[2] if p[2] else float('nan'):.2f}x)")


if __name__ == "__main__":
    main()
