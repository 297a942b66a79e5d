#!/usr/bin/python3
"""POP3 download-and-delete benchmark: Postern's pop3d against a private
Debian Dovecot pop3 (maildir), on one machine in one run. Prints both rates
(messages/s) and the ratio Postern/Dovecot.

    sudo tools/bench/pop3/bench_pop3.py [--build build] [--messages 10000]
        [--users 10] [--dovecot-fsync optimized] [--rounds 1]

Needs root (Dovecot starts as root and accesses mail as nobody). Run by hand;
not part of the test suite. Both servers listen on 127.0.0.1 only and are
driven the same way: plaintext USER/PASS on loopback (Postern with
auth.allow_plaintext_on_loopback = true, Dovecot with
disable_plaintext_auth = no, ssl = no).

Filling is not measured. Postern is filled over LMTP (`mailctl serve`);
Dovecot's Maildirs then get byte-identical copies of Postern's stored files
(trace fields included, CRLF, named ",S=<size>,W=<size>" as Dovecot's own
deliveries are) and their indexes are built with `doveadm force-resync`, as
a delivery through Dovecot's LMTP would have done.

Measured: U client processes at once (one per user, so the driver is not
serialised by one Python interpreter lock), each logs in as its user, STAT, then RETR + DELE
for every message, QUIT; from the first connect to the last QUIT reply
("total"). Logins cost an Argon2id hash each on both servers (see
--dovecot-scheme), which on 2 cores is a large share of a short run, so the
rate "after logins" (from the moment the last session has logged in and sent
STAT, a barrier, to the last QUIT reply) is printed too.
Afterwards: every mailbox is empty (a fresh login's STAT says 0), the bytes
retrieved equal the bytes stored, and every corpus message came back exactly
once with its body intact.

Corpus: messages/users per user, sizes 2-50 KB (60% 2-8 KB, 30% 8-25 KB,
10% 25-50 KB), fixed seed.
"""
import argparse
import multiprocessing
import os
import queue
import re
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "bench password 1"
IO_TIMEOUT_S = 120     # any single POP3/LMTP read; a stuck server fails the run
START_TIMEOUT_S = 30   # servers must answer within this
MSGID = re.compile(rb"Message-ID: <(\d+)@bench\.test>")


def corpus(n, seed=2026):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        r = rng.random()
        size = (rng.randint(2048, 8192) if r < 0.6 else
                rng.randint(8192, 25_600) if r < 0.9 else rng.randint(25_600, 51_200))
        line = b"%s\r\n" % (b"%d " % i * 12)[:74]
        body = (line * (size // len(line) + 1))[:size]
        body = body[:-2] + b"\r\n" if not body.endswith(b"\r\n") else body
        # A dot-led line in every message so dot-stuffing is exercised.
        body = b".dot-led line %d\r\n" % i + body
        head = (b"From: Bench <bench@remote.example>\r\nTo: user@example.test\r\n"
                b"Subject: bench message %d\r\nMessage-ID: <%d@bench.test>\r\n"
                b"Date: Wed, 25 Nov 2026 07:00:00 +0000\r\nMIME-Version: 1.0\r\n"
                b"Content-Type: text/plain; charset=us-ascii\r\n\r\n" % (i, i))
        out.append(head + body)
    return out


def wait_port(port, timeout=START_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"127.0.0.1:{port} did not answer")


def wait_unix(path, timeout=START_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(str(path))
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{path} did not answer")


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base(offsets):
    """A base below 32000 such that base + every offset is free on loopback."""
    for _ in range(200):
        base = random.randrange(11000, 31000, 10)
        if all(port_free(base + o) for o in offsets):
            return base
    raise RuntimeError("no free port base")


class Buffered:
    """Line and dot-terminated reads over one socket, without per-line
    Python work (poplib's readline per line would make the driver, which
    shares 2 cores with the servers, the bottleneck)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def _fill(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return out
            self._fill()

    def multiline(self):
        """Status line and the un-dot-stuffed body of a multi-line reply."""
        start = 0
        while True:
            i = self.buf.find(b"\r\n.\r\n", start)
            if i >= 0:
                break
            start = max(0, len(self.buf) - 4)
            self._fill()
        data = bytes(self.buf[:i + 2])
        del self.buf[:i + 5]
        status, _, body = data.partition(b"\r\n")
        if not status.startswith(b"+OK"):
            raise ConnectionError(f"multi-line reply refused: {status[:80]!r}")
        # RFC 1939 section 3: a line starting with "." was sent with one more.
        return (b"\r\n" + body).replace(b"\r\n..", b"\r\n.")[2:]


class Pop3:
    def __init__(self, port, user, password):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT_S)
        self.io = Buffered(self.sock)
        self.expect_ok()
        self.command(b"USER " + user.encode())
        self.command(b"PASS " + password.encode())

    def expect_ok(self):
        line = self.io.line()
        if not line.startswith(b"+OK"):
            raise ConnectionError(f"got {line[:80]!r}, want +OK")
        return line

    def command(self, cmd):
        self.sock.sendall(cmd + b"\r\n")
        return self.expect_ok()

    def stat(self):
        parts = self.command(b"STAT").split()
        return int(parts[1]), int(parts[2])

    def retr(self, n):
        self.sock.sendall(b"RETR %d\r\n" % n)
        return self.io.multiline()

    def quit(self):
        self.command(b"QUIT")
        self.sock.close()


def _after_barrier():
    """Replaced by measure(): records when the download phase began."""


def download_all(port, user, originals, result, barrier):
    """One user's session: STAT, RETR + DELE each message, QUIT. Records
    (count, octets from STAT, bytes retrieved, set of ids, bad ids)."""
    t0 = time.monotonic()
    c = Pop3(port, user, PASSWORD)
    login = time.monotonic() - t0
    count, octets = c.stat()
    barrier.wait()  # every session logged in: the download phase starts
    _after_barrier()
    got, ids, bad = 0, [], []
    for n in range(1, count + 1):
        msg = c.retr(n)
        got += len(msg)
        m = MSGID.search(msg, 0, 4096)
        i = int(m.group(1)) if m else -1
        orig = originals.get(i)
        # Delivery prepends trace fields; the original must be the tail.
        if orig is None or zlib.crc32(memoryview(msg)[-len(orig):]) != zlib.crc32(orig):
            bad.append(i)
        ids.append(i)
        c.command(b"DELE %d" % n)
    c.quit()
    result[user] = (count, octets, got, ids, bad, login)


def measure(port, users, originals):
    """Runs one client process per user (threads would share one GIL, and
    the driver, not the server, would set the pace). Returns (seconds from
    the first connect, seconds after the last login, results, errors)."""
    ctx = multiprocessing.get_context("fork")  # the corpus is shared copy-on-write
    barrier = ctx.Barrier(len(users), timeout=IO_TIMEOUT_S)
    phase = ctx.Value("d", 0.0)
    out = ctx.Queue()

    def run(u):
        results = {}
        try:
            download_all(port, u, originals, results, barrier)
            out.put((u, results[u], None))
        except Exception as e:  # reported, and fails the run below
            barrier.abort()
            out.put((u, None, f"{u}: {e!r}"))

    def mark():
        # The first process through the barrier records the moment.
        with phase.get_lock():
            if phase.value == 0.0:
                phase.value = time.monotonic()

    global _after_barrier
    _after_barrier = mark
    procs = [ctx.Process(target=run, args=(u,)) for u in users]
    start = time.monotonic()
    for p in procs:
        p.start()
    results, errors = {}, []
    for _ in procs:
        try:
            u, res, err = out.get(timeout=3600)
        except queue.Empty:
            errors.append("a session did not finish within an hour")
            break
        if err:
            errors.append(err)
        else:
            results[u] = res
    end = time.monotonic()
    for p in procs:
        p.join(timeout=30)
        if p.is_alive():
            p.kill()
    return end - start, end - phase.value if phase.value else float("nan"), results, errors


def check(name, port, users, results, stored_bytes, n_messages, errors):
    """Sanity after the measured phase; returns a list of problems."""
    problems = list(errors)
    seen = []
    total_got = total_stat = 0
    for u in users:
        if u not in results:
            continue
        count, octets, got, ids, bad, _ = results[u]
        total_got += got
        total_stat += octets
        seen += ids
        if bad:
            problems.append(f"{u}: {len(bad)} messages differ from the corpus")
        c = Pop3(port, u, PASSWORD)
        left = c.stat()
        c.quit()
        if left != (0, 0):
            problems.append(f"{u}: mailbox not empty afterwards: STAT {left}")
    if sorted(seen) != list(range(n_messages)):
        problems.append(f"retrieved {len(seen)} messages ({len(set(seen))} distinct), "
                        f"want each of {n_messages} once")
    if not (total_got == total_stat == stored_bytes):
        problems.append(f"bytes: retrieved {total_got}, STAT {total_stat}, stored {stored_bytes}")
    return problems, total_got


# ---------------------------------------------------------------- Postern

class LmtpClient:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(IO_TIMEOUT_S)
        self.sock.connect(str(path))
        self.io = Buffered(self.sock)
        self.reply()
        self.sock.sendall(b"LHLO bench.test\r\n")
        self.reply()

    def reply(self):
        while True:
            line = self.io.line()
            if line[3:4] != b"-":
                return line[:3]

    def deliver(self, rcpt, message):
        self.sock.sendall(b"MAIL FROM:<bench@remote.example>\r\nRCPT TO:<%s>\r\nDATA\r\n"
                          % rcpt.encode())
        codes = [self.reply() for _ in range(3)]
        if codes != [b"250", b"250", b"354"]:
            raise ConnectionError(f"refused: {codes}")
        self.sock.sendall(message.replace(b"\r\n.", b"\r\n..") + b".\r\n")
        if self.reply() != b"250":
            raise ConnectionError("not delivered")

    def close(self):
        self.sock.sendall(b"QUIT\r\n")
        self.sock.close()


def fill_lmtp(sock_path, assignment, workers=4):
    """assignment: list of (user, message). Parallel, not measured."""
    chunks = [assignment[k::workers] for k in range(workers)]
    errors = []

    def run(chunk):
        try:
            c = LmtpClient(sock_path)
            for user, msg in chunk:
                c.deliver(user, msg)
            c.close()
        except Exception as e:
            errors.append(repr(e))

    threads = [threading.Thread(target=run, args=(ch,)) for ch in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=3600)
    if errors or any(t.is_alive() for t in threads):
        raise RuntimeError(f"LMTP fill failed: {errors[:3]}")


def stored_files(data_dir):
    """{user: [paths]} of every message file in Postern's data directory."""
    out = {}
    for p in (data_dir / "users").glob("*/*/Maildir/*/*"):
        if p.parent.name in ("new", "cur") and p.is_file():
            user = f"{p.parents[2].name}@{p.parents[3].name}"
            out.setdefault(user, []).append(p)
    return out


def stop(proc, grace=20):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


class Postern:
    def __init__(self, build, work, users):
        self.build, self.dir = build, work / "postern"
        self.mailctl = str(build / "tools" / "mailctl" / "mailctl")
        self.base = free_base([25, 110, 143, 465, 587, 993, 995])
        subprocess.run([self.mailctl, "init", str(self.dir), "--domain", "example.test",
                        "--hostname", "mail.example.test", "--port-base", str(self.base)],
                       check=True, capture_output=True, timeout=60)
        self.conf = self.dir / "postern.json"
        text = self.conf.read_text()
        if '"allow_plaintext_on_loopback": false' not in text:
            raise RuntimeError("allow_plaintext_on_loopback not found in postern.json")
        self.conf.write_text(text.replace('"allow_plaintext_on_loopback": false',
                                          '"allow_plaintext_on_loopback": true'))
        for u in users:
            subprocess.run([self.mailctl, "-c", str(self.conf), "user", "add", u,
                            "--password-stdin"], input=(PASSWORD + "\n").encode(),
                           check=True, capture_output=True, timeout=60)
        self.port = self.base + 110
        self.proc = None

    def start(self):
        self.log = open(self.dir / "serve.log", "wb")
        self.proc = subprocess.Popen([self.mailctl, "-c", str(self.conf), "serve"],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_unix(self.dir / "run" / "lmtp.sock")
        wait_port(self.port)

    def stop(self):
        if self.proc is not None:
            stop(self.proc)
            self.proc = None


# ---------------------------------------------------------------- Dovecot

DOVECOT_CONF = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{dir}/mail/%u
mail_fsync = {fsync}
first_valid_uid = 1
mail_uid = nobody
mail_gid = nogroup
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
pop3_uidl_format = %08Xu%08Xv
passdb {{
  driver = passwd-file
  args = {dir}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={dir}/home/%u
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


class Dovecot:
    def __init__(self, work, users, fsync, scheme):
        self.dir = work / "dovecot"
        for sub in ("run", "state", "mail", "home"):
            (self.dir / sub).mkdir(parents=True)
        os.chmod(self.dir, 0o755)
        self.port = free_base([0])
        self.conf = self.dir / "dovecot.conf"
        self.conf.write_text(DOVECOT_CONF.format(dir=self.dir, fsync=fsync, port=self.port))
        # ARGON2ID (Dovecot's default m=64 MiB, t=3) costs about what
        # Postern's Argon2id (libsodium INTERACTIVE: 64 MiB, t=2) does per login.
        hashed = subprocess.run(["/usr/bin/doveadm", "pw", "-s", scheme, "-p", PASSWORD],
                                check=True, capture_output=True, text=True,
                                timeout=60).stdout.strip()
        (self.dir / "passwd").write_text("".join(f"{u}:{hashed}::::::\n" for u in users))
        self.users = users
        self.running = False

    def fill(self, files):
        """Copies Postern's stored files, byte for byte, into each user's new/."""
        total = 0
        for u in self.users:
            md = self.dir / "mail" / u
            for sub in ("new", "cur", "tmp"):
                (md / sub).mkdir(parents=True)
            for k, src in enumerate(files.get(u, [])):
                size = src.stat().st_size
                # W= is the CRLF size; the files are CRLF already.
                shutil.copyfile(src, md / "new" / f"{1795590000 + k}.M{k}P1.bench,S={size},W={size}")
                total += size
        for sub in ("mail", "home"):
            subprocess.run(["chown", "-R", "nobody:nogroup", str(self.dir / sub)], check=True)
        return total

    def start(self):
        subprocess.run(["/usr/sbin/dovecot", "-c", str(self.conf)], check=True, timeout=60)
        self.running = True
        wait_port(self.port)

    def index(self):
        for u in self.users:
            subprocess.run(["/usr/bin/doveadm", "-c", str(self.conf), "force-resync", "-u", u,
                            "INBOX"], check=True, capture_output=True, timeout=600)

    def stop(self):
        if self.running:
            subprocess.run(["/usr/bin/doveadm", "-c", str(self.conf), "stop"],
                           capture_output=True, timeout=60)
            pid_file = self.dir / "run" / "master.pid"
            deadline = time.monotonic() + 15
            while pid_file.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            if pid_file.exists():  # doveadm stop did not work: kill the master
                try:
                    os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            self.running = False


# ---------------------------------------------------------------- main

def one_round(r, build, work, users, messages, fsync, scheme, order):
    rw = work / f"round{r}"
    rw.mkdir()
    os.chmod(rw, 0o755)
    originals = dict(enumerate(messages))
    per_user = len(messages) // len(users)
    assignment = [(users[i // per_user], m) for i, m in enumerate(messages)]
    post = Postern(build, rw, users)
    dove = Dovecot(rw, users, fsync, scheme)
    out = {}
    try:
        post.start()
        fill_lmtp(post.dir / "run" / "lmtp.sock", assignment)
        files = stored_files(post.dir / "data")
        postern_bytes = sum(p.stat().st_size for fs in files.values() for p in fs)
        dovecot_bytes = dove.fill(files)
        dove.start()
        dove.index()
        servers = {"postern": (post, postern_bytes), "dovecot": (dove, dovecot_bytes)}
        for name in order:
            srv, stored = servers[name]
            secs, dl_secs, results, errors = measure(srv.port, users, originals)
            problems, got = check(name, srv.port, users, results, stored, len(messages), errors)
            out[name] = (len(messages) / secs, len(messages) / dl_secs)
            logins = [v[5] for v in results.values()]
            print(f"round {r} {name:8s} total {secs:6.2f} s {out[name][0]:7.1f} msg/s "
                  f"{got / secs / 1e6:5.1f} MB/s | logins: slowest {max(logins, default=0):.2f} s "
                  f"| after logins {dl_secs:6.2f} s {out[name][1]:7.1f} msg/s  "
                  f"{'OK' if not problems else 'FAILED'}", flush=True)
            for p in problems[:10]:
                print("    ", p)
            if problems:
                raise SystemExit(f"{name}: sanity check failed")
    finally:
        post.stop()
        dove.stop()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--users", type=int, default=10)
    ap.add_argument("--dovecot-fsync", default="optimized", choices=["optimized", "always", "never"])
    ap.add_argument("--dovecot-scheme", default="ARGON2ID", choices=["ARGON2ID", "PLAIN"],
                    help="password scheme of Dovecot's passwd-file")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: Dovecot must start as root")
    if args.messages % args.users:
        sys.exit("--messages must be a multiple of --users")
    build = Path(args.build).resolve()
    messages = corpus(args.messages)
    users = [f"u{i + 1}@example.test" for i in range(args.users)]
    work = Path(tempfile.mkdtemp(prefix="postern-pop3bench-"))
    os.chmod(work, 0o755)  # Dovecot reads mail as nobody
    print(f"corpus: {len(messages)} messages, {sum(map(len, messages)) / 1e6:.1f} MB, "
          f"{len(users)} users x {len(messages) // len(users)}, build {build}, work {work}",
          flush=True)
    rates = {"postern": [], "dovecot": []}
    try:
        for r in range(args.rounds):
            # Alternate which server goes first so that load from other
            # processes on the machine does not favour one.
            order = ["postern", "dovecot"] if r % 2 == 0 else ["dovecot", "postern"]
            for name, rate in one_round(r, build, work, users, messages, args.dovecot_fsync,
                                        args.dovecot_scheme, order).items():
                rates[name].append(rate)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"dovecot mail_fsync={args.dovecot_fsync}, password scheme {args.dovecot_scheme}; "
          f"median of {args.rounds} round(s):")
    for k, label in ((0, "total (logins included)"), (1, "after logins (download only)")):
        p = statistics.median(v[k] for v in rates["postern"])
        d = statistics.median(v[k] for v in rates["dovecot"])
        print(f"  {label:29s} postern {p:7.1f} msg/s, dovecot {d:7.1f} msg/s, "
              f"ratio postern/dovecot = {p / d:.2f}x")


if __name__ == "__main__":
    main()
