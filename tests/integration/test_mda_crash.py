"""Crash safety: SIGKILL mda at random moments during a few thousand
deliveries (LMTP, plus pipe-mode processes), then check the promise:
- every delivery that was acknowledged (250 after DATA / exit 0) is in the
  Maildir and in the index;
- nothing partial is visible in new/ or cur/ (every file there is a whole
  message, byte for byte what was sent plus the trace fields);
- `mailctl reindex` rebuilds a consistent index with the same UIDs.
Bounded: at most TOTAL deliveries or DEADLINE_S seconds."""
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time

import pytest

from harness import BUILD_DIR, Instance

MDA = BUILD_DIR / "mda" / "mda"
USERS = ["alice@example.test", "bob@example.test"]
TOTAL = 2000
PIPE_EVERY = 10          # one delivery in ten goes through pipe mode
CLIENTS = 4
DEADLINE_S = 150
SUBJECT = re.compile(rb"^Subject: token-(\d+)\r?$", re.M)


def home(inst, address):
    local, domain = address.split("@")
    return inst.data_dir / "users" / domain / local


SIZES = [200, 1000, 4000, 20000, 120000]


def message(token):
    size = SIZES[(token * 7) % len(SIZES)]
    body = b"".join(b"line %d of token %d\r\n" % (i, token) for i in range(size // 24 + 1))
    return (b"From: crash@remote.example\r\nSubject: token-%d\r\n"
            b"Message-ID: <%d@crash.test>\r\n\r\n" % (token, token)) + body


def rcpts_for(token):
    return [USERS[token % 2]] if token % 3 else list(USERS)


class Daemon:
    """mda --lmtp under our control, so it can be killed and restarted."""

    def __init__(self, inst):
        self.inst = inst
        self.proc = None
        self.kills = 0
        self.log = open(inst.dir / "mda-crash.log", "ab")

    def start(self):
        self.proc = subprocess.Popen([str(MDA), "-c", str(self.inst.config), "--lmtp"],
                                     stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.settimeout(1)
                    s.connect(str(self.inst.lmtp_socket))
                    return
            except OSError:
                time.sleep(0.02)
        raise TimeoutError("mda --lmtp did not come up")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.kills += 1

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


class Acks:
    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}      # token -> recipients acknowledged
        self.attempted = 0

    def next_token(self):
        with self.lock:
            if self.attempted >= TOTAL:
                return None
            self.attempted += 1
            return self.attempted

    def ack(self, token, rcpts):
        with self.lock:
            self.acked[token] = list(rcpts)


def lmtp_deliver(sock_file, sock, token):
    """One transaction on an open connection; True when every RCPT got 250."""
    rcpts = rcpts_for(token)

    def reply():
        while True:
            line = sock_file.readline()
            if not line:
                raise ConnectionError("eof")
            if line[3:4] != b"-":
                return line[:3]

    sock.sendall(b"MAIL FROM:<crash@remote.example>\r\n" +
                 b"".join(b"RCPT TO:<%s>\r\n" % r.encode() for r in rcpts) + b"DATA\r\n")
    codes = [reply() for _ in range(len(rcpts) + 2)]
    if codes[-1] != b"354":
        raise ConnectionError(f"unexpected {codes}")
    sock.sendall(message(token).replace(b"\r\n.", b"\r\n..") + b".\r\n")
    finals = [reply() for _ in rcpts]
    return all(c == b"250" for c in finals)


def lmtp_client(inst, acks, seed, stop):
    rng = random.Random(seed)
    sock = sock_file = None
    token = None
    while not stop.is_set():
        if token is None:
            token = acks.next_token()
            if token is None:
                return
            if token % PIPE_EVERY == 0:
                pipe_deliver(inst, acks, token, rng)
                token = None
                continue
        try:
            if sock is None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(20)
                sock.connect(str(inst.lmtp_socket))
                sock_file = sock.makefile("rb")
                sock_file.readline()
                sock.sendall(b"LHLO crash.test\r\n")
                while sock_file.readline()[3:4] == b"-":
                    pass
            if lmtp_deliver(sock_file, sock, token):
                acks.ack(token, rcpts_for(token))
            token = None  # acknowledged or refused: move on; a dropped one is retried
        except (OSError, ConnectionError):
            if sock is not None:
                sock.close()
            sock = sock_file = None
            time.sleep(0.01)


def pipe_deliver(inst, acks, token, rng):
    """Pipe mode, killed at a random moment half of the time."""
    rcpts = rcpts_for(token)
    proc = subprocess.Popen([str(MDA), "-c", str(inst.config), "-f", "crash@remote.example", "--"]
                            + rcpts, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        proc.stdin.write(message(token))
        proc.stdin.close()
    except BrokenPipeError:
        pass
    if rng.random() < 0.5:
        time.sleep(rng.uniform(0, 0.02))
        proc.send_signal(signal.SIGKILL)
    if proc.wait(timeout=30) == 0:
        acks.ack(token, rcpts)


def scan_maildir(inst, address):
    """{file name: token} for new/ and cur/ of INBOX; asserts every file is whole."""
    out = {}
    for sub in ("new", "cur"):
        for path in (home(inst, address) / "Maildir" / sub).iterdir():
            data = path.read_bytes()
            m = SUBJECT.search(data)
            assert m, f"{path.name}: no token, partial or foreign file"
            token = int(m.group(1))
            want = (b"Return-Path: <crash@remote.example>\r\nDelivered-To: %s\r\n" %
                    address.encode()) + message(token)
            assert data == want, f"{path.name}: not the whole message"
            assert len(data) == int(re.search(r",S=(\d+)", path.name).group(1))
            out[path.name] = token
    return out


def index_uids(inst, address):
    db = sqlite3.connect(str(home(inst, address) / "index.db"), timeout=10)
    try:
        rows = db.execute("SELECT m.uid, m.file FROM messages m JOIN mailboxes b"
                          " ON b.id = m.mailbox_id WHERE b.name = 'INBOX'").fetchall()
    finally:
        db.close()
    return {os.path.basename(f): uid for uid, f in rows}


def test_sigkill_during_deliveries():
    inst = Instance()
    daemon = Daemon(inst)
    try:
        for u in USERS:
            inst.add_user(u)
        daemon.start()
        acks, stop = Acks(), threading.Event()
        clients = [threading.Thread(target=lmtp_client, args=(inst, acks, n, stop))
                   for n in range(CLIENTS)]
        for t in clients:
            t.start()
        rng = random.Random(1)
        deadline = time.monotonic() + DEADLINE_S
        while any(t.is_alive() for t in clients) and time.monotonic() < deadline:
            time.sleep(rng.uniform(0.05, 0.4))
            daemon.kill()
            daemon.start()
        stop.set()
        for t in clients:
            t.join(timeout=60)
        daemon.stop()
        assert daemon.kills >= 10, f"only {daemon.kills} kills; the test proved little"
        assert len(acks.acked) >= TOTAL // 4, f"only {len(acks.acked)} deliveries acknowledged"

        before = {}
        for user in USERS:
            files = scan_maildir(inst, user)
            indexed = index_uids(inst, user)
            tokens_in_maildir = set(files.values())
            tokens_indexed = {files[n] for n in indexed if n in files}
            assert set(indexed) <= set(files), "index rows without a file"
            for token, rcpts in acks.acked.items():
                if user in rcpts:
                    assert token in tokens_in_maildir, f"acked token {token} missing for {user}"
                    assert token in tokens_indexed, f"acked token {token} not indexed for {user}"
            before[user] = indexed

        for user in USERS:
            inst.ctl("reindex", user)
            files = scan_maildir(inst, user)
            after = index_uids(inst, user)
            assert set(after) == set(files), "after reindex every file has exactly one row"
            uids = list(after.values())
            assert len(set(uids)) == len(uids), "UIDs are unique"
            for name, uid in before[user].items():
                assert after.get(name) == uid, f"{name}: UID {uid} became {after.get(name)}"
            # Files adopted by reindex keep the UID their name carries.
            for name, uid in after.items():
                assert f",U={uid}" in name
        print(f"kills={daemon.kills} acked={len(acks.acked)} attempted={acks.attempted}")
    finally:
        daemon.stop()
        inst.close()
