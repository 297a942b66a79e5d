#!/usr/bin/python3
"""Delivery benchmark: the same corpus over LMTP to Postern's `mda --lmtp`
and to a private Debian Dovecot LMTP (maildir, fsync on), on one machine in
one run. Prints both rates and the ratio.

    sudo tools/bench/mda/bench_lmtp.py [--build build] [--messages 2000]
        [--users 20] [--concurrency 8] [--dovecot-fsync optimized]

Needs root (Dovecot starts as root and delivers as nobody). Run by hand; not
part of the test suite. The corpus mixes realistic sizes from 1 KB to 1 MB
(most mail is small, a few carry attachments): 60% 1-8 KB, 30% 8-100 KB,
10% 100 KB-1 MB, fixed seed. Each message has one recipient, round-robin
over the users; every client keeps one LMTP connection open (as smtpd
does) and sends one transaction after another."""
import argparse
import os
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tools" / "bench" / "pop3"))
from bench_pop3 import wait_unix  # noqa: E402  (shared helper)

START_TIMEOUT_S = 20  # mda and Dovecot must answer on their LMTP socket within this


def corpus(n, seed=2026):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        r = rng.random()
        size = (rng.randint(1024, 8192) if r < 0.6 else
                rng.randint(8192, 100_000) if r < 0.9 else rng.randint(100_000, 1_000_000))
        line = b"%s\r\n" % (b"%d " % i * 12)[:74]
        body = (line * (size // len(line) + 1))[:size]
        head = (b"From: Bench <bench@remote.example>\r\nTo: user@example.test\r\n"
                b"Subject: bench message %d\r\nMessage-ID: <%d@bench.test>\r\n"
                b"Date: Wed, 25 Nov 2026 07:00:00 +0000\r\nMIME-Version: 1.0\r\n"
                b"Content-Type: text/plain; charset=us-ascii\r\n\r\n" % (i, i))
        out.append(head + body)
    return out


def wire_form(message):
    """DATA payload: dot-stuffed, with the terminator. Built before timing so
    the driver does almost no work per message (it shares 2 cores with the
    servers; smtplib's per-message regex would make the driver the bottleneck)."""
    if not message.endswith(b"\r\n"):
        message += b"\r\n"  # as smtplib does: the terminator needs a line start
    return message.replace(b"\r\n.", b"\r\n..") + b".\r\n"


class LmtpClient:
    """A minimal LMTP client: one connection, one transaction at a time."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(str(path))
        self.buf = b""
        self.reply()
        self.sock.sendall(b"LHLO bench.test\r\n")
        self.reply()

    def reply(self):
        """Reads one complete (possibly multi-line) reply; returns its code."""
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            if line[3:4] != b"-":
                return line[:3]

    def deliver(self, rcpt, wire):
        # MAIL, RCPT and DATA in one write (PIPELINING, RFC 2920); the body
        # only after 354, then one reply for the one recipient.
        self.sock.sendall(b"MAIL FROM:<bench@remote.example>\r\nRCPT TO:<%s>\r\nDATA\r\n"
                          % rcpt.encode())
        codes = [self.reply() for _ in range(3)]
        if codes != [b"250", b"250", b"354"]:
            raise ConnectionError(f"refused: {codes}")
        self.sock.sendall(wire)
        code = self.reply()
        if code != b"250":
            raise ConnectionError(f"not delivered: {code}")

    def close(self):
        self.sock.sendall(b"QUIT\r\n")
        self.sock.close()


def drive(sock_path, wires, users, concurrency):
    """Delivers every message; returns (seconds, failures)."""
    next_i = [0]
    lock = threading.Lock()
    failures = []

    def worker():
        client = LmtpClient(sock_path)
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= len(wires):
                break
            try:
                client.deliver(users[i % len(users)], wires[i])
            except ConnectionError as e:
                failures.append(f"{i}: {e}")
                client = LmtpClient(sock_path)
        client.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - start, failures


def count_files(root):
    return sum(1 for p in Path(root).rglob("*") if p.is_file() and p.parent.name == "new")


def run_postern(build, work, messages, users, concurrency):
    mailctl = build / "tools" / "mailctl" / "mailctl"
    inst = work / "postern"
    # The port base only fills in the config; nothing but mda is started.
    subprocess.run([str(mailctl), "init", str(inst), "--domain", "example.test",
                    "--hostname", "mail.example.test", "--port-base", "41000"], check=True,
                   capture_output=True)
    conf = inst / "postern.json"
    for u in users:
        subprocess.run([str(mailctl), "-c", str(conf), "user", "add", u, "--password-stdin"],
                       input=b"bench password 1\n", check=True, capture_output=True)
    log = open(work / "mda.log", "wb")
    proc = subprocess.Popen([str(build / "mda" / "mda"), "-c", str(conf), "--lmtp"],
                            stdout=log, stderr=log)
    try:
        sock = inst / "run" / "lmtp.sock"
        wait_unix(sock, timeout=START_TIMEOUT_S)
        secs, failures = drive(sock, messages, users, concurrency)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    return secs, failures, count_files(inst / "data")


DOVECOT_CONF = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = lmtp
ssl = no
listen = 127.0.0.1
mail_location = maildir:{dir}/mail/%d/%n/Maildir
mail_fsync = {fsync}
first_valid_uid = 1
mail_uid = nobody
mail_gid = nogroup
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
lmtp_save_to_detail_mailbox = no
passdb {{
  driver = static
  args = nopassword=y
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={dir}/home/%d/%n
}}
service lmtp {{
  unix_listener {dir}/lmtp.sock {{
    mode = 0666
  }}
  process_min_avail = {procs}
}}
"""


def run_dovecot(work, messages, users, concurrency, fsync):
    d = work / "dovecot"
    for sub in ("run", "state", "mail", "home"):
        (d / sub).mkdir(parents=True)
    for sub in ("mail", "home"):
        shutil.chown(d / sub, user="nobody", group="nogroup")
    os.chmod(work, 0o755)
    os.chmod(d, 0o755)
    conf = d / "dovecot.conf"
    conf.write_text(DOVECOT_CONF.format(dir=d, fsync=fsync, procs=concurrency))
    subprocess.run(["/usr/sbin/dovecot", "-c", str(conf)], check=True)
    try:
        sock = d / "lmtp.sock"
        wait_unix(sock, timeout=START_TIMEOUT_S)
        secs, failures = drive(sock, messages, users, concurrency)
    finally:
        subprocess.run(["/usr/sbin/dovecot", "-c", str(conf), "stop"], capture_output=True)
        time.sleep(1)
    return secs, failures, count_files(d / "mail")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--dovecot-fsync", default="optimized", choices=["optimized", "always"])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: Dovecot must start as root")
    messages = [wire_form(m) for m in corpus(args.messages)]
    total_mb = sum(map(len, messages)) / 1e6
    users = [f"user{i}@example.test" for i in range(args.users)]
    work = Path(tempfile.mkdtemp(prefix="postern-bench-"))
    os.chmod(work, 0o755)  # Dovecot delivers as nobody
    print(f"corpus: {len(messages)} messages, {total_mb:.1f} MB, {len(users)} users, "
          f"concurrency {args.concurrency}, work dir {work}")
    try:
        # Alternating order (P D D P ...) so that load from other processes
        # on the machine does not favour whichever runs first.
        rates = {"postern": [], "dovecot": []}
        for r in range(args.rounds):
            order = ["postern", "dovecot"] if r % 2 == 0 else ["dovecot", "postern"]
            for name in order:
                rw = work / f"round{r}"
                rw.mkdir(exist_ok=True)
                if name == "postern":
                    secs, failures, stored = run_postern(Path(args.build), rw, messages, users,
                                                         args.concurrency)
                else:
                    secs, failures, stored = run_dovecot(rw, messages, users, args.concurrency,
                                                         args.dovecot_fsync)
                rate = len(messages) / secs
                rates[name].append(rate)
                print(f"round {r} {name:8s} {secs:7.2f} s  {rate:8.1f} msg/s  "
                      f"{total_mb / secs:7.1f} MB/s  stored={stored} failures={len(failures)}")
                for f in failures[:5]:
                    print("   ", f)
        med = {k: statistics.median(v) for k, v in rates.items()}
        print(f"median: postern {med['postern']:.1f} msg/s, dovecot {med['dovecot']:.1f} msg/s; "
              f"ratio postern/dovecot = {med['postern'] / med['dovecot']:.2f}x "
              f"(dovecot mail_fsync={args.dovecot_fsync})")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
