"""Debian's Postfix hands mail to mda, as a real MTA would: a private Postfix
instance (its own config_directory and queue_directory in a temp dir, SMTP
on a free loopback port) whose virtual domain example.test is delivered by
a pipe(8) transport running `mda -c CONF -f ${sender} -- ${recipient}`.
Checks that mail lands in the Maildir and index, and that mda's exit codes
steer Postfix: 67 bounces (5.1.1), 75 defers. A second test points Postfix's
LMTP client at `mda --lmtp`. Postfix is always stopped. Needs root (Postfix
starts as root and drops to its mail_owner); skipped otherwise."""
import os
import shutil
import sqlite3
import subprocess

import pytest

import peers
from harness import BUILD_DIR, Instance

MDA = BUILD_DIR / "mda" / "mda"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not os.path.exists(peers.POSTFIX),
    reason="needs root and Debian's postfix package")

# The virtual domain example.test goes to {transport}; "postern" is a
# pipe(8) transport that runs mda.
MAIN_CF = """\
virtual_mailbox_domains = example.test
virtual_transport = {transport}
postern_destination_recipient_limit = 1
"""

MASTER_CF = """\
postern   unix  -       n       n       -       -       pipe
  user=nobody argv={mda} -c {conf} -f ${{sender}} -- ${{recipient}}
"""


def Postfix(transport, conf):
    return peers.Postfix(main=MAIN_CF, master=MASTER_CF, transport=transport, mda=MDA, conf=conf)


def home(inst, address):
    local, domain = address.split("@")
    return inst.data_dir / "users" / domain / local


def index_count(inst, address):
    db = sqlite3.connect(str(home(inst, address) / "index.db"), timeout=10)
    try:
        return db.execute("SELECT count(*) FROM messages").fetchone()[0]
    finally:
        db.close()


def chown_tree(path, user):
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            shutil.chown(os.path.join(root, name), user=user, group="nogroup")
    shutil.chown(path, user=user, group="nogroup")


MESSAGE = b"From: Ann <ann@remote.example>\r\nSubject: via postfix\r\n\r\nHello from Postfix.\r\n"


def test_postfix_pipe_transport_delivers_and_reads_exit_codes():
    inst = Instance()
    postfix = None
    try:
        inst.add_user("alice@example.test")
        inst.add_user("bob@example.test")
        inst.ctl("quota", "set", "bob@example.test", "--messages", "1")
        first = subprocess.run([str(MDA), "-c", str(inst.config), "--", "bob@example.test"],
                               input=b"Subject: fill\r\n\r\nx\r\n", capture_output=True, timeout=30)
        assert first.returncode == 0, first.stderr
        chown_tree(inst.dir, "nobody")  # the pipe transport runs mda as nobody
        postfix = Postfix("postern", inst.config)
        postfix.start()

        postfix.send("ann@remote.example", "alice@example.test", MESSAGE)
        postfix.wait_log(r"to=<alice@example\.test>.*relay=postern.*status=sent")
        new = list((home(inst, "alice@example.test") / "Maildir" / "new").iterdir())
        assert len(new) == 1
        stored = new[0].read_bytes()
        # Postfix pipes LF line endings; mda stores them as they came.
        assert stored.startswith(b"Return-Path: <ann@remote.example>\nDelivered-To: "
                                 b"alice@example.test\nReceived: from ")
        assert b"\nSubject: via postfix\n" in stored  # Postfix adds Message-ID and Date
        assert stored.endswith(b"\n\nHello from Postfix.\n")
        assert index_count(inst, "alice@example.test") == 1

        postfix.send("", "nobody@example.test", MESSAGE)
        line = postfix.wait_log(r"to=<nobody@example\.test>.*status=bounced.*")
        assert "5.1.1" in line, line

        postfix.send("", "bob@example.test", MESSAGE)
        line = postfix.wait_log(r"to=<bob@example\.test>.*status=deferred.*")
        assert "4.2.2" in line or "temporary" in line, line
        assert index_count(inst, "bob@example.test") == 1
    finally:
        if postfix is not None:
            postfix.stop()
        inst.close()


def test_postfix_lmtp_client_delivers_to_mda_lmtp():
    inst = Instance()
    postfix = None
    try:
        inst.add_user("alice@example.test")
        inst.start()
        os.chmod(inst.lmtp_socket, 0o666)  # Postfix's lmtp client runs as postfix
        os.chmod(inst.lmtp_socket.parent, 0o755)
        os.chmod(inst.dir, 0o755)
        postfix = Postfix("lmtp:unix:" + str(inst.lmtp_socket), inst.config)
        postfix.start()
        postfix.send("ann@remote.example", "alice@example.test", MESSAGE)
        postfix.wait_log(r"to=<alice@example\.test>.*relay=.*status=sent")
        postfix.send("ann@remote.example", "nobody@example.test", MESSAGE)
        line = postfix.wait_log(r"to=<nobody@example\.test>.*status=bounced.*")
        assert "5.1.1" in line, line
        new = list((home(inst, "alice@example.test") / "Maildir" / "new").iterdir())
        assert len(new) == 1
        stored = new[0].read_bytes()
        assert stored.startswith(b"Return-Path: <ann@remote.example>\r\n"
                                 b"Delivered-To: alice@example.test\r\nReceived: from ")
        assert b"\r\nSubject: via postfix\r\n" in stored
        assert stored.endswith(b"\r\n\r\nHello from Postfix.\r\n")
        assert index_count(inst, "alice@example.test") == 1
    finally:
        if postfix is not None:
            postfix.stop()
        inst.close()
