"""Debian's Postfix hands mail to mda, as a real MTA would: a private Postfix
instance (its own config_directory and queue_directory in a temp dir, SMTP
on a free loopback port) whose virtual domain example.test is delivered by
a pipe(8) transport running `mda -c CONF -f ${sender} -- ${recipient}`.
Checks that mail lands in the Maildir and index, and that mda's exit codes
steer Postfix: 67 bounces (5.1.1), 75 defers. A second test points Postfix's
LMTP client at `mda --lmtp`. Postfix is always stopped. Needs root (Postfix
starts as root and drops to its mail_owner); skipped otherwise."""
import os
import re
import shutil
import smtplib
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from harness import BUILD_DIR, Instance, free_port_base

MDA = BUILD_DIR / "mda" / "mda"
POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
WAIT_S = 30

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not os.path.exists(POSTFIX),
    reason="needs root and Debian's postfix package")

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
daemon_directory = /usr/lib/postfix/sbin
command_directory = /usr/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.postfix.test
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
maillog_file_prefixes = {dir}
maillog_file = {dir}/maillog
smtpd_reject_unlisted_recipient = no
virtual_mailbox_domains = example.test
virtual_transport = {transport}
postern_destination_recipient_limit = 1
"""

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
lmtp      unix  -       -       n       -       -       lmtp
postlog   unix-dgram n  -       n       -       1       postlogd
postern   unix  -       n       n       -       -       pipe
  user=nobody argv={mda} -c {conf} -f ${{sender}} -- ${{recipient}}
"""


class Postfix:
    def __init__(self, transport, conf):
        self.dir = Path(tempfile.mkdtemp(prefix="postern-postfix-"))
        os.chmod(self.dir, 0o755)
        self.port = free_port_base() + 25
        for sub in ("conf", "queue", "data"):
            (self.dir / sub).mkdir()
        shutil.chown(self.dir / "data", user="postfix")
        (self.dir / "conf" / "main.cf").write_text(
            MAIN_CF.format(dir=self.dir, transport=transport))
        (self.dir / "conf" / "master.cf").write_text(
            MASTER_CF.format(port=self.port, mda=MDA, conf=conf))
        self.started = False

    def run(self, *args):
        return subprocess.run([POSTFIX, "-c", str(self.dir / "conf")] + list(args),
                              capture_output=True, text=True, timeout=60)

    def start(self):
        r = self.run("start")
        self.started = True
        assert r.returncode == 0, f"postfix start: {r.stdout}{r.stderr}{self.log()}"
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            try:
                smtplib.SMTP("127.0.0.1", self.port, timeout=2).quit()
                return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("postfix smtpd did not answer")

    def stop(self):
        if self.started:
            self.run("stop")
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        p = self.dir / "maillog"
        return p.read_text(errors="replace") if p.exists() else ""

    def send(self, sender, rcpt, message):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=15) as s:
            s.sendmail(sender, [rcpt], message)

    def wait_log(self, pattern):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            m = re.search(pattern, self.log())
            if m:
                return m.group(0)
            time.sleep(0.2)
        raise AssertionError(f"no log line matching {pattern!r}:\n{self.log()}")


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
