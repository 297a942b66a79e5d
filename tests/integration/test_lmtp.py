"""mda --lmtp (RFC 2033) on its unix socket, started by `mailctl serve`,
driven by Python's smtplib.LMTP and by a raw socket where per-recipient
replies after DATA must be read one by one."""
import os
import socket
import sqlite3
import threading
import time

import pytest

from harness import Instance, set_config_value


def home(inst, address):
    local, domain = address.split("@")
    return inst.data_dir / "users" / domain / local.lower()


def index_rows(inst, address, mailbox="INBOX"):
    db = sqlite3.connect(str(home(inst, address) / "index.db"), timeout=10)
    try:
        return db.execute(
            "SELECT m.uid, m.file, m.size FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id"
            " WHERE b.name = ? ORDER BY m.uid", (mailbox,)).fetchall()
    finally:
        db.close()


def new_files(inst, address):
    return sorted((home(inst, address) / "Maildir" / "new").iterdir())


class Raw:
    """A line-level LMTP client on the unix socket."""

    def __init__(self, inst):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(15)
        self.sock.connect(str(inst.lmtp_socket))
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                return b"<eof>"
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        """One (possibly multi-line) reply: (code, last line)."""
        while True:
            line = self.line()
            if line == b"<eof>" or line[3:4] != b"-":
                return line[:3], line

    def close(self):
        self.sock.close()


@pytest.fixture
def two_users(instance):
    instance.add_user("bob@example.test")
    instance.add_user("carol@example.test")
    return instance


def test_smtplib_lmtp_delivers(instance):
    import smtplib
    msg = b"From: a@remote.example\r\nSubject: lmtp\r\n\r\n.leading dot\r\nbody\r\n"
    with smtplib.LMTP(str(instance.lmtp_socket), timeout=15) as client:
        code, caps = client.ehlo("smtpd.test")
        assert code == 250
        for ext in (b"PIPELINING", b"8BITMIME", b"ENHANCEDSTATUSCODES", b"SMTPUTF8"):
            assert ext in caps, f"{ext} not advertised: {caps}"
        refused = client.sendmail("a@remote.example", ["alice@example.test"], msg)
        assert refused == {}
    files = new_files(instance, "alice@example.test")
    assert len(files) == 1
    assert files[0].read_bytes() == (b"Return-Path: <a@remote.example>\r\n"
                                     b"Delivered-To: alice@example.test\r\n" + msg)
    assert len(index_rows(instance, "alice@example.test")) == 1


def test_one_reply_per_recipient_after_data(two_users):
    inst = two_users
    inst.ctl("quota", "set", "carol@example.test", "--messages", "1")
    c = Raw(inst)
    assert c.reply()[0] == b"220"
    c.send(b"LHLO smtpd.test\r\n")
    assert c.reply()[0] == b"250"
    # Carol's first message fills her quota.
    c.send(b"MAIL FROM:<>\r\nRCPT TO:<carol@example.test>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(3)] == [b"250", b"250", b"354"]
    c.send(b"Subject: fill\r\n\r\nx\r\n.\r\n")
    assert c.reply()[0] == b"250"
    # Pipelined: the whole transaction in one write.
    c.send(b"MAIL FROM:<s@remote.example>\r\nRCPT TO:<alice@example.test>\r\n"
           b"RCPT TO:<nobody@example.test>\r\nRCPT TO:<carol@example.test>\r\n"
           b"RCPT TO:<bob@example.test>\r\nDATA\r\n")
    got = [c.reply()[1][:9] for _ in range(6)]
    assert got == [b"250 2.1.0", b"250 2.1.5", b"550 5.1.1", b"250 2.1.5", b"250 2.1.5",
                   b"354 Start"], got
    c.send(b"Subject: many\r\n\r\nhello\r\n.\r\nQUIT\r\n")
    after = [c.reply()[1][:9] for _ in range(4)]
    assert after == [b"250 2.0.0", b"452 4.2.2", b"250 2.0.0", b"221 2.0.0"], after
    c.close()
    assert len(index_rows(inst, "alice@example.test")) == 1
    assert len(index_rows(inst, "bob@example.test")) == 1
    assert len(index_rows(inst, "carol@example.test")) == 1


def test_dropped_connection_mid_data_delivers_nothing(instance):
    c = Raw(instance)
    c.reply()
    c.send(b"LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
    for _ in range(4):
        c.reply()
    c.send(b"Subject: half\r\n\r\n" + b"a" * 100_000)
    c.sock.shutdown(socket.SHUT_RDWR)
    c.close()
    time.sleep(0.5)
    assert index_rows(instance, "alice@example.test") == []
    maildir = home(instance, "alice@example.test") / "Maildir"
    for sub in ("tmp", "new", "cur"):
        assert list((maildir / sub).iterdir()) == [], f"got files in {sub}/"
    # The daemon is still serving.
    c = Raw(instance)
    assert c.reply()[0] == b"220"
    c.close()


def test_too_big_and_odd_data(stopped_instance):
    inst = stopped_instance
    set_config_value(inst, "smtp.max_message_bytes", 64 * 1024)
    inst.add_user("alice@example.test")
    inst.start()
    c = Raw(inst)
    c.reply()
    c.send(b"LHLO x\r\n")
    c.reply()
    c.send(b"MAIL FROM:<> SIZE=100000\r\n")
    assert c.reply()[1][:9] == b"552 5.3.4"
    c.send(b"MAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
    [c.reply() for _ in range(3)]
    c.send(b"Subject: big\r\n\r\n" + b"b" * 70_000 + b"\r\n.\r\n")
    assert c.reply()[1][:9] == b"552 5.3.4"
    assert index_rows(inst, "alice@example.test") == []
    # Bare LF, NUL and a 5000-octet line: delivered as they came.
    odd = b"Subject: odd\nX: y\n\nbare lf\n.\nnul\x00here\r\n" + b"L" * 5000 + b"\r\n"
    c.send(b"MAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
    [c.reply() for _ in range(3)]
    c.send(odd + b".\r\n")
    assert c.reply()[1][:9] == b"250 2.0.0"
    c.close()
    files = new_files(inst, "alice@example.test")
    assert files[0].read_bytes() == b"Return-Path: <>\nDelivered-To: alice@example.test\n" + odd


def test_concurrent_deliveries_get_unique_uids(two_users):
    import smtplib
    inst = two_users
    per_thread, threads = 15, 8
    errors = []

    def worker(n):
        try:
            with smtplib.LMTP(str(inst.lmtp_socket), timeout=30) as client:
                client.ehlo("x")
                for i in range(per_thread):
                    rcpt = ["alice@example.test", "bob@example.test"][(n + i) % 2]
                    client.sendmail("s@remote.example", [rcpt],
                                    b"Subject: %d-%d\r\n\r\nbody\r\n" % (n, i))
        except Exception as e:  # reported below
            errors.append(repr(e))

    ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=60)
    assert errors == []
    total = 0
    for user in ("alice@example.test", "bob@example.test"):
        rows = index_rows(inst, user)
        uids = [r[0] for r in rows]
        assert len(set(uids)) == len(uids)
        assert len(new_files(inst, user)) == len(rows)
        total += len(rows)
    assert total == per_thread * threads


def test_new_mail_is_signalled_at_once(instance):
    """imapd watches <home>/index.changed (uv_fs_event) and reads the change
    counter: both must have moved by the time LMTP says 250."""
    import smtplib
    changed = home(instance, "alice@example.test") / "index.changed"
    before = changed.read_bytes() if changed.exists() else b""
    with smtplib.LMTP(str(instance.lmtp_socket), timeout=15) as client:
        client.ehlo("x")
        client.sendmail("s@remote.example", ["alice@example.test"], b"Subject: idle\r\n\r\nb\r\n")
        assert changed.read_bytes() != before
        db = sqlite3.connect(str(home(instance, "alice@example.test") / "index.db"))
        counter = db.execute("SELECT change_counter FROM user_state").fetchone()[0]
        db.close()
        assert int(changed.read_bytes().strip() or 0) == counter


def test_unwritable_maildir_is_451_and_leaves_nothing(instance):
    maildir = home(instance, "alice@example.test") / "Maildir"
    (maildir / "new").rmdir()
    (maildir / "new").write_text("not a directory\n")  # link(2) fails, even for root
    c = Raw(instance)
    c.reply()
    c.send(b"LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
    [c.reply() for _ in range(4)]
    c.send(b"Subject: x\r\n\r\nbody\r\n.\r\n")
    assert c.reply()[1][:9] == b"451 4.3.0"
    c.close()
    assert list((maildir / "tmp").iterdir()) == []
    assert list((maildir / "cur").iterdir()) == []
    assert index_rows(instance, "alice@example.test") == []
