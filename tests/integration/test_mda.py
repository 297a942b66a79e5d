"""mda in pipe mode, as an MTA runs it: `mda -c FILE [-f SENDER] -- RCPT...`
with the message on stdin. Checks exit codes (sysexits.h), the bytes stored
in the Maildir, and the index rows, for good and for odd input."""
import os
import resource
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from harness import BUILD_DIR, Instance, set_config_value

MDA = BUILD_DIR / "mda" / "mda"
EX_OK, EX_DATAERR, EX_NOUSER, EX_CANTCREAT, EX_TEMPFAIL = 0, 65, 67, 73, 75


@pytest.fixture
def inst():
    i = Instance()
    try:
        i.add_user("alice@example.test")
        i.add_user("bob@example.test")
        yield i
    finally:
        i.close()


def pipe(inst, rcpts, message, sender="sender@remote.example", preexec=None):
    cmd = [str(MDA), "-c", str(inst.config), "-f", sender, "--"] + list(rcpts)
    return subprocess.run(cmd, input=message, capture_output=True, timeout=30,
                          preexec_fn=preexec)


def home(inst, address):
    local, domain = address.split("@")
    return inst.data_dir / "users" / domain / local.lower()


def maildir_files(inst, address, folder=""):
    base = home(inst, address) / "Maildir"
    if folder:
        base = base / ("." + folder)
    return {sub: sorted(p for p in (base / sub).iterdir()) for sub in ("tmp", "new", "cur")}


def index_rows(inst, address, mailbox="INBOX"):
    db = sqlite3.connect(str(home(inst, address) / "index.db"), timeout=10)
    try:
        return db.execute(
            "SELECT m.uid, m.file, m.size FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id"
            " WHERE b.name = ? ORDER BY m.uid", (mailbox,)).fetchall()
    finally:
        db.close()


def trace(sender, rcpt, nl=b"\r\n"):
    return b"Return-Path: <" + sender.encode() + b">" + nl + b"Delivered-To: " + rcpt.encode() + nl


def assert_nothing(inst, address):
    files = maildir_files(inst, address)
    assert files == {"tmp": [], "new": [], "cur": []}, f"got files {files}, want none"
    assert index_rows(inst, address) == [], "got index rows, want none"


def test_delivers_with_trace_fields_and_index_row(inst):
    msg = b"From: Ann <ann@remote.example>\r\nSubject: hello\r\n\r\nHi Alice.\r\n"
    r = pipe(inst, ["alice@example.test"], msg)
    assert r.returncode == EX_OK, r.stderr
    new = maildir_files(inst, "alice@example.test")["new"]
    assert len(new) == 1
    want = trace("sender@remote.example", "alice@example.test") + msg
    assert new[0].read_bytes() == want
    rows = index_rows(inst, "alice@example.test")
    assert [(uid, size) for uid, _, size in rows] == [(1, len(want))]
    assert rows[0][1] == "new/" + new[0].name
    assert ",U=1" in new[0].name


def test_null_sender_and_mbox_from_line(inst):
    msg = b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\nSubject: bounce\n\nbody\n"
    r = pipe(inst, ["alice@example.test"], msg, sender="")
    assert r.returncode == EX_OK, r.stderr
    stored = maildir_files(inst, "alice@example.test")["new"][0].read_bytes()
    assert stored == b"Return-Path: <>\nDelivered-To: alice@example.test\nSubject: bounce\n\nbody\n"


def test_unknown_user_exits_67_and_writes_nothing(inst):
    r = pipe(inst, ["nobody@example.test"], b"Subject: x\r\n\r\nb\r\n")
    assert r.returncode == EX_NOUSER, f"got {r.returncode}, want 67: {r.stderr}"
    assert b"5.1.1" in r.stderr
    r = pipe(inst, ["alice@elsewhere.example"], b"Subject: x\r\n\r\nb\r\n")
    assert r.returncode == EX_NOUSER


def test_case_insensitive_plus_addressing_and_aliases(inst):
    inst.ctl("alias", "add", "team@example.test", "alice@example.test", "bob@example.test")
    inst.ctl("alias", "add", "all@example.test", "team@example.test")
    r = pipe(inst, ["ALICE+Sent@Example.TEST", "alice+nosuchfolder@example.test",
                    "all+x@example.test"], b"Subject: x\r\n\r\nb\r\n")
    assert r.returncode == EX_OK, r.stderr
    assert len(index_rows(inst, "alice@example.test", "Sent")) == 1
    assert len(index_rows(inst, "alice@example.test")) == 2
    assert len(index_rows(inst, "bob@example.test")) == 1
    # all+x fans out to alice and bob: one file, two hard links.
    bob_file = maildir_files(inst, "bob@example.test")["new"][0]
    assert os.stat(bob_file).st_nlink == 2
    assert b"Delivered-To: all+x@example.test\r\n" in bob_file.read_bytes()


def test_alias_loop_is_refused(inst):
    inst.ctl("alias", "add", "a@example.test", "b@example.test")
    inst.ctl("alias", "add", "b@example.test", "a@example.test")
    r = pipe(inst, ["a@example.test"], b"Subject: x\r\n\r\nb\r\n")
    assert r.returncode == EX_NOUSER, f"got {r.returncode}: {r.stderr}"


def test_catch_all(inst):
    inst.ctl("alias", "add", "@example.test", "bob@example.test")
    r = pipe(inst, ["whoever@example.test"], b"Subject: x\r\n\r\nb\r\n")
    assert r.returncode == EX_OK, r.stderr
    assert len(index_rows(inst, "bob@example.test")) == 1


@pytest.mark.parametrize("name,message", [
    ("bare_lf", b"Subject: lf\nFrom: a@b\n\nline one\n.\nline three\n"),
    ("nul_bytes", b"Subject: nul\r\n\r\nbefore\x00after\r\n"),
    ("line_over_998", b"Subject: long\r\n\r\n" + b"x" * 5000 + b"\r\n"),
    ("no_separator", b"Subject: only header\r\nX-Other: y\r\n"),
    ("eight_bit_header", b"Subject: gr\xc3\xbc\xc3\x9fe \xff\r\nFrom: J\xf6rg <j@x>\r\n\r\nb\r\n"),
    ("malformed_mime", b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"\r\n\r\n--\r\n"),
    ("deep_mime", b"MIME-Version: 1.0\r\n" + b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(80))
     + b"Content-Type: text/plain\r\n\r\ndeep\r\n"),
])
def test_odd_mail_is_delivered_as_it_came(inst, name, message):
    r = pipe(inst, ["alice@example.test"], message)
    assert r.returncode == EX_OK, f"{name}: got {r.returncode}: {r.stderr}"
    nl = b"\n" if message.split(b"\n", 1)[0][-1:] != b"\r" else b"\r\n"
    stored = maildir_files(inst, "alice@example.test")["new"][0].read_bytes()
    assert stored == trace("sender@remote.example", "alice@example.test", nl) + message
    assert len(index_rows(inst, "alice@example.test")) == 1


def test_mail_loops(inst):
    ours = b"Delivered-To: alice@example.test\r\nSubject: loop\r\n\r\nb\r\n"
    r = pipe(inst, ["alice@example.test"], ours)
    assert r.returncode == EX_DATAERR, f"got {r.returncode}, want 65"
    assert b"5.4.6" in r.stderr
    hops = b"".join(b"Received: from hop%d\r\n" % i for i in range(101))
    r = pipe(inst, ["alice@example.test"], hops + b"\r\nbody\r\n")
    assert r.returncode == EX_DATAERR
    assert_nothing(inst, "alice@example.test")
    r = pipe(inst, ["alice@example.test"], hops[: -len(b"Received: from hop100\r\n")] + b"\r\nb\r\n")
    assert r.returncode == EX_OK, "exactly 100 Received fields are fine"


def test_too_big_is_refused_and_nothing_written(inst):
    set_config_value(inst, "smtp.max_message_bytes", 4096)
    r = pipe(inst, ["alice@example.test"], b"Subject: big\r\n\r\n" + b"y" * 5000)
    assert r.returncode == EX_CANTCREAT, f"got {r.returncode}, want 73"
    assert b"5.3.4" in r.stderr
    assert_nothing(inst, "alice@example.test")


@pytest.mark.parametrize("policy,code,enhanced", [("temporary", EX_TEMPFAIL, b"4.2.2"),
                                                  ("permanent", EX_CANTCREAT, b"5.2.2")])
def test_over_quota(inst, policy, code, enhanced):
    set_config_value(inst, "delivery.over_quota", policy)
    inst.ctl("quota", "set", "alice@example.test", "--bytes", "1000")
    assert pipe(inst, ["alice@example.test"], b"Subject: 1\r\n\r\nsmall\r\n").returncode == EX_OK
    r = pipe(inst, ["alice@example.test"], b"Subject: 2\r\n\r\n" + b"z" * 2000 + b"\r\n")
    assert r.returncode == code, f"got {r.returncode}, want {code}"
    assert enhanced in r.stderr
    assert len(index_rows(inst, "alice@example.test")) == 1
    assert len(maildir_files(inst, "alice@example.test")["new"]) == 1


def test_disk_full_is_temporary_and_leaves_nothing(inst):
    # A file size limit makes write(2) fail with EFBIG, as a full disk makes
    # it fail with ENOSPC: same path, same promise.
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
    r = pipe(inst, ["alice@example.test"], b"Subject: big\r\n\r\n" + b"w" * 200_000, preexec=limit)
    assert r.returncode == EX_TEMPFAIL, f"got {r.returncode}, want 75: {r.stderr}"
    assert_nothing(inst, "alice@example.test")


def test_unwritable_maildir_is_temporary_and_leaves_nothing(inst):
    new = home(inst, "alice@example.test") / "Maildir" / "new"
    new.rmdir()
    new.write_text("not a directory\n")  # link(2) into it fails, even for root
    r = pipe(inst, ["alice@example.test"], b"Subject: x\r\n\r\nb\r\n")
    assert r.returncode == EX_TEMPFAIL, f"got {r.returncode}, want 75: {r.stderr}"
    assert list((home(inst, "alice@example.test") / "Maildir" / "tmp").iterdir()) == []
    assert index_rows(inst, "alice@example.test") == []


def test_mixed_recipients_exit_code(inst):
    r = pipe(inst, ["alice@example.test", "nobody@example.test"], b"Subject: x\r\n\r\nb\r\n")
    assert r.returncode == EX_NOUSER
    assert len(index_rows(inst, "alice@example.test")) == 1


def test_usage_and_config_errors(inst):
    r = subprocess.run([str(MDA), "-c", str(inst.config)], input=b"", capture_output=True,
                       timeout=10)
    assert r.returncode == 64
    r = subprocess.run([str(MDA), "-c", str(inst.dir / "missing.json"), "--", "a@example.test"],
                       input=b"", capture_output=True, timeout=10)
    assert r.returncode == 78


def test_change_feed_file_is_touched(inst):
    changed = home(inst, "alice@example.test") / "index.changed"
    before = changed.read_bytes() if changed.exists() else b""
    assert pipe(inst, ["alice@example.test"], b"Subject: x\r\n\r\nb\r\n").returncode == EX_OK
    assert changed.read_bytes() != before, "IMAP sessions watch this file for new mail"
