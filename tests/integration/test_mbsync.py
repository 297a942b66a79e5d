"""imapd against mbsync (isync 1.4, Debian): two-way Maildir <-> IMAPS sync.

One test walks a whole life cycle against a fresh instance:
1. A local Maildir of 1,000 small messages (some with flags) is pushed up
   over IMAPS (port 993 of the instance, its self-signed certificate
   trusted through CertificateFile). imaplib then checks that the server
   holds exactly those messages (count, content hashes, flags).
2. Both sides change: flags set and cleared, messages deleted and added,
   locally and on the server. The second sync must leave both sides equal
   (the same messages with the same flags) and equal to what the changes
   call for.
3. A third sync with nothing changed must change nothing: the Maildir's
   file names, the server's UIDs, flags, UIDVALIDITY and UIDNEXT are as
   before, and mbsync reports no message or flag propagated.

Every mbsync run is bounded (SYNC_TIMEOUT_S); all traffic is on loopback.
"""
import hashlib
import imaplib
import os
import re
import shutil
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

USER = "alice@example.test"
PASSWORD = "correct horse battery"
TIMEOUT_S = 30
MBSYNC = shutil.which("mbsync") or "/usr/bin/mbsync"
# The push of 1,000 messages is one APPEND each, ~20 ms apiece on an idle
# machine (Postern syncs every delivery); the bound allows a loaded 2-core
# machine, where an APPEND was seen to take 110 ms.
SYNC_TIMEOUT_S = 240
MESSAGES = 1000
# Maildir info flags (maildir.org, "2," suffix) and their IMAP names.
MAILDIR_FLAGS = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered", "S": "\\Seen",
                 "T": "\\Deleted"}

pytestmark = pytest.mark.skipif(not os.path.exists(MBSYNC), reason="isync is not installed")

MBSYNCRC = """\
IMAPAccount postern
Host 127.0.0.1
Port {port}
User {user}
Pass "{password}"
SSLType IMAPS
CertificateFile {cert}
AuthMechs PLAIN
Timeout 20

IMAPStore remote
Account postern

MaildirStore local
Path {maildir}/
Inbox {maildir}/INBOX

Channel sync
Far :remote:
Near :local:
Patterns INBOX
Create Both
Expunge Both
SyncState *
Sync All
"""


def message(n, origin="local"):
    """A small message, LF line endings as a Maildir holds it."""
    return ("From: Sender %d <sender%d@example.net>\nTo: %s\nSubject: message %s-%d\n"
            "Date: Mon, 1 Jan 2024 10:%02d:%02d +0000\nMessage-ID: <%s.%d@example.net>\n\n"
            "Body of %s message %d.\nA second line.\n"
            % (n % 50, n % 50, USER, origin, n, (n // 60) % 60, n % 60, origin, n, origin, n)
            ).encode()


def digest(data):
    """Content hash, independent of CRLF (IMAP) vs LF (Maildir) and of the
    X-TUID header isync 1.4 inserts into every message it copies (its own
    bookkeeping, added even when the server has UIDPLUS)."""
    data = re.sub(rb"(?m)^X-TUID: [^\r\n]*\r?\n", b"", data.replace(b"\r\n", b"\n"), count=1)
    return hashlib.sha256(data).hexdigest()


class Maildir:
    def __init__(self, root):
        self.root = root
        for sub in ("cur", "new", "tmp"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        self.counter = 0

    def add(self, data, flags=""):
        self.counter += 1
        name = "1704103200.M%dP%d.local:2,%s" % (self.counter, os.getpid(), flags)
        (self.root / "cur" / name).write_bytes(data)

    def files(self):
        return sorted(p.relative_to(self.root).as_posix()
                      for sub in ("cur", "new") for p in (self.root / sub).iterdir())

    def state(self):
        """{hash: flag set} of every message (a message in new/ has none)."""
        out = {}
        for sub in ("cur", "new"):
            for p in (self.root / sub).iterdir():
                info = p.name.split(":2,", 1)[1] if ":2," in p.name else ""
                flags = frozenset(MAILDIR_FLAGS[c] for c in info if c in MAILDIR_FLAGS)
                h = digest(p.read_bytes())
                assert h not in out, "duplicate message in the Maildir: %s" % p.name
                out[h] = flags
        return out

    def find(self, h):
        for sub in ("cur", "new"):
            for p in (self.root / sub).iterdir():
                if digest(p.read_bytes()) == h:
                    return p
        raise KeyError(h)

    def set_flags(self, h, flags):
        p = self.find(h)
        base = p.name.split(":2,", 1)[0]
        p.rename(self.root / "cur" / (base + ":2," + "".join(sorted(flags))))

    def delete(self, h):
        self.find(h).unlink()


def imap(inst):
    ctx = ssl.create_default_context(cafile=str(inst.cert))
    ctx.check_hostname = False
    c = imaplib.IMAP4_SSL("127.0.0.1", inst.port("imaps"), ssl_context=ctx, timeout=TIMEOUT_S)
    c.login(USER, PASSWORD)
    return c


def server_state(inst):
    """(UIDVALIDITY, UIDNEXT, {uid: (hash, flag set)}) of INBOX."""
    c = imap(inst)
    try:
        typ, data = c.status("INBOX", "(UIDVALIDITY UIDNEXT)")
        assert typ == "OK", data
        validity = int(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1))
        uidnext = int(re.search(rb"UIDNEXT (\d+)", data[0]).group(1))
        typ, data = c.select("INBOX", readonly=True)
        assert typ == "OK", data
        messages = {}
        if int(data[0]) > 0:
            typ, data = c.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
            assert typ == "OK", data
            for item in data:
                if not isinstance(item, tuple):
                    continue
                head, body = item
                uid = int(re.search(rb"UID (\d+)", head).group(1))
                flags = re.search(rb"FLAGS \(([^)]*)\)", head).group(1).decode().split()
                messages[uid] = (digest(body), frozenset(f for f in flags if f != "\\Recent"))
        return validity, uidnext, messages
    finally:
        c.logout()


def by_hash(messages):
    out = {}
    for uid, (h, flags) in messages.items():
        assert h not in out, "duplicate message on the server: uid %d" % uid
        out[h] = flags
    return out


class Sync:
    def __init__(self, inst, work):
        self.maildir_root = work / "mail"
        self.rc = work / "mbsyncrc"
        self.rc.write_text(MBSYNCRC.format(port=inst.port("imaps"), user=USER, password=PASSWORD,
                                           cert=inst.cert, maildir=self.maildir_root))
        self.inst = inst

    def run(self):
        # -Dd: driver calls, so that the output shows every propagation.
        start = time.monotonic()
        proc = subprocess.run([MBSYNC, "-c", str(self.rc), "-Dd", "sync"], capture_output=True,
                              text=True, timeout=SYNC_TIMEOUT_S)
        print("mbsync run took %.1f s" % (time.monotonic() - start))  # shown on failure
        assert proc.returncode == 0, (
            "mbsync exited %d\nstdout:\n%s\nstderr:\n%s\nserver log:\n%s"
            % (proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:], self.inst.log()[-4000:]))
        return proc.stdout + proc.stderr


def propagated(output):
    """The driver calls (mbsync -Dd) that copy a message or change flags or
    deletions on either side: a no-op sync makes none of them."""
    return [l for l in output.splitlines()
            if re.search(r"Enter (store_msg|fetch_msg|set_msg_flags|trash_msg)\b", l)]


def assert_agree(local, server):
    only_local = set(local) - set(server)
    only_server = set(server) - set(local)
    assert not only_local and not only_server, (
        "%d messages only in the Maildir, %d only on the server"
        % (len(only_local), len(only_server)))
    flag_diffs = {h: (local[h], server[h]) for h in local if local[h] != server[h]}
    assert not flag_diffs, "flags differ (Maildir, server): %r" % list(flag_diffs.values())[:5]


@pytest.fixture
def work():
    d = Path(tempfile.mkdtemp(prefix="postern-mbsync-"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_mbsync_two_way_sync(instance, work):
    sync = Sync(instance, work)
    local = Maildir(sync.maildir_root / "INBOX")
    originals = {}
    for n in range(MESSAGES):
        data = message(n)
        flags = "S" if n % 3 == 0 else ("FS" if n % 7 == 0 else "")
        local.add(data, flags)
        originals[digest(data)] = frozenset(MAILDIR_FLAGS[c] for c in flags)

    # 1. Push up everything.
    output = sync.run()
    # The no-op check below reads these calls: they must show up when used.
    stored = [l for l in propagated(output) if "store_msg" in l]
    assert len(stored) == MESSAGES, "mbsync -Dd showed %d store_msg calls, want %d" % (
        len(stored), MESSAGES)
    _, _, messages = server_state(instance)
    assert len(messages) == MESSAGES, "server holds %d messages, want %d" % (len(messages),
                                                                             MESSAGES)
    server = by_hash(messages)
    assert server == originals, "the server's messages or flags are not the Maildir's"
    assert local.state() == originals

    # 2. Change both sides, then sync.
    hashes = sorted(originals)
    want = dict(originals)
    for h in hashes[0:10]:  # flagged locally
        local.set_flags(h, {c for c, f in MAILDIR_FLAGS.items() if f in want[h]} | {"F"})
        want[h] = want[h] | {"\\Flagged"}
    for h in hashes[10:20]:  # all flags cleared locally
        local.set_flags(h, set())
        want[h] = frozenset()
    for h in hashes[20:30]:  # deleted locally
        local.delete(h)
        del want[h]
    for n in range(5):  # new locally
        data = message(MESSAGES + n)
        local.add(data, "R")
        want[digest(data)] = frozenset({"\\Answered"})

    uid_of = {h: uid for uid, (h, _) in messages.items()}
    c = imap(instance)
    try:
        assert c.select("INBOX")[0] == "OK"
        touch = lambda hs: ",".join(str(uid_of[h]) for h in hs)
        assert c.uid("STORE", touch(hashes[30:40]), "+FLAGS", "(\\Seen \\Answered)")[0] == "OK"
        for h in hashes[30:40]:
            want[h] = want[h] | {"\\Seen", "\\Answered"}
        assert c.uid("STORE", touch(hashes[40:50]), "FLAGS", "()")[0] == "OK"
        for h in hashes[40:50]:
            want[h] = frozenset()
        assert c.uid("STORE", touch(hashes[50:60]), "+FLAGS", "(\\Deleted)")[0] == "OK"
        assert c.expunge()[0] == "OK"
        for h in hashes[50:60]:
            del want[h]
        for n in range(5):  # new on the server
            data = message(n, origin="server").replace(b"\n", b"\r\n")
            assert c.append("INBOX", "(\\Flagged)", None, data)[0] == "OK"
            want[digest(data)] = frozenset({"\\Flagged"})
    finally:
        c.logout()

    sync.run()
    _, _, messages = server_state(instance)
    server = by_hash(messages)
    assert_agree(local.state(), server)
    assert server == want, "after the second sync: %d messages, want %d; first wrong: %r" % (
        len(server), len(want),
        next(((h, server.get(h), want.get(h)) for h in set(server) | set(want)
              if server.get(h) != want.get(h)), None))

    # 3. Nothing changed: nothing may change.
    files_before = local.files()
    state_before = server_state(instance)
    output = sync.run()
    assert local.files() == files_before, "the Maildir's files changed on a no-op sync"
    state_after = server_state(instance)
    assert state_after == state_before, "the server's state changed on a no-op sync"
    assert not propagated(output), "mbsync changed something on a no-op sync:\n%s" % output
