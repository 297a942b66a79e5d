"""imapd against real clients: Python's imaplib (STARTTLS and implicit TLS),
raw sockets for the abuse cases, curl and openssl s_client.

Every test runs a fresh instance (the `instance` fixture: alice@example.test
with "correct horse battery") or a stopped one whose config a test shrinks
first. All sockets have timeouts; nothing leaves loopback.
"""
import imaplib
import re
import socket
import ssl
import subprocess
import threading
import time

import pytest

from harness import set_config_value

USER = "alice@example.test"
PASSWORD = "correct horse battery"
TIMEOUT_S = 15


def tls_context(inst):
    ctx = ssl.create_default_context(cafile=str(inst.cert))
    ctx.check_hostname = False
    return ctx


def starttls_client(inst):
    c = imaplib.IMAP4("127.0.0.1", inst.port("imap"), timeout=TIMEOUT_S)
    c.starttls(ssl_context=tls_context(inst))
    return c


def imaps_client(inst):
    return imaplib.IMAP4_SSL("127.0.0.1", inst.port("imaps"), ssl_context=tls_context(inst),
                             timeout=TIMEOUT_S)


def logged_in(inst):
    c = imaps_client(inst)
    c.login(USER, PASSWORD)
    return c


def message(subject="Hello", body="Hello, world.\r\n", extra=""):
    return ("From: Bob <bob@example.test>\r\nTo: Alice <alice@example.test>\r\n"
            "Subject: %s\r\nDate: Tue, 5 Mar 2024 10:00:00 +0000\r\n%s\r\n%s"
            % (subject, extra, body)).encode()


MULTIPART = (b"From: bob@example.test\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
             b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
             b"--XX\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n"
             b"--XX\r\nContent-Type: text/html\r\n\r\n<p>second</p>\r\n--XX--\r\n")


def append(c, mailbox="INBOX", msg=None, flags=None):
    typ, data = c.append(mailbox, flags, None, msg if msg is not None else message())
    assert typ == "OK", data
    m = re.search(rb"APPENDUID (\d+) (\d+)", data[0])
    assert m, data
    return int(m.group(2))


def is_bad(fn, *args):
    """imaplib raises on a tagged BAD; True if that is what happened."""
    try:
        fn(*args)
    except imaplib.IMAP4.error as e:
        return "BAD" in str(e)
    return False


class Raw:
    """A line-level client over implicit TLS (or plaintext), for abuse cases."""

    def __init__(self, inst, tls=True):
        sock = socket.create_connection(("127.0.0.1", inst.port("imaps" if tls else "imap")),
                                        timeout=TIMEOUT_S)
        self.s = tls_context(inst).wrap_socket(sock) if tls else sock
        self.buf = b""
        self.greeting = self.line()

    def send(self, data):
        self.s.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                out, self.buf = self.buf, b""
                return out if out else None
            self.buf += chunk
        out, self.buf = self.buf.split(b"\r\n", 1)
        return out

    def until_tagged(self, tag):
        lines = []
        while True:
            l = self.line()
            if l is None:
                return lines
            lines.append(l)
            if l.startswith(tag + b" "):
                return lines

    def cmd(self, tag, text):
        self.send(tag + b" " + text + b"\r\n")
        return self.until_tagged(tag)

    def login(self):
        r = self.cmd(b"L", b'LOGIN "%s" "%s"' % (USER.encode(), PASSWORD.encode()))
        assert r[-1].startswith(b"L OK"), r

    def closed(self):
        try:
            rest = self.s.recv(65536)
            while rest:
                self.buf += rest
                rest = self.s.recv(65536)
            return True
        except (ConnectionResetError, ssl.SSLError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


# --- pre-authentication ---------------------------------------------------

def test_capabilities_before_and_after_starttls(instance):
    c = imaplib.IMAP4("127.0.0.1", instance.port("imap"), timeout=TIMEOUT_S)
    caps = set(c.capabilities)
    assert {"IMAP4REV1", "STARTTLS", "LOGINDISABLED"} <= caps
    assert "AUTH=PLAIN" not in caps
    # LOGIN before TLS is refused, without checking the password.
    with pytest.raises(imaplib.IMAP4.error, match="PRIVACYREQUIRED"):
        c.login(USER, PASSWORD)
    c.starttls(ssl_context=tls_context(instance))
    caps = set(c.capabilities)
    assert {"AUTH=PLAIN", "SASL-IR", "IDLE", "UIDPLUS", "MOVE", "SPECIAL-USE", "NAMESPACE",
            "UNSELECT", "CHILDREN", "ID", "ENABLE"} <= caps
    assert "STARTTLS" not in caps and "LOGINDISABLED" not in caps
    typ, _ = c.login(USER, PASSWORD)
    assert typ == "OK"
    assert c.noop()[0] == "OK"
    assert c.logout()[0] == "BYE"


def test_imaps_login_and_authenticate_plain(instance):
    c = imaps_client(instance)
    typ, _ = c.authenticate("PLAIN", lambda _: ("\0%s\0%s" % (USER, PASSWORD)).encode())
    assert typ == "OK"
    c.logout()
    # SASL-IR: the initial response on the command line.
    r = Raw(instance)
    import base64
    ir = base64.b64encode(("\0%s\0%s" % (USER, PASSWORD)).encode())
    assert r.cmd(b"a", b"AUTHENTICATE PLAIN " + ir)[-1].startswith(b"a OK")
    r.close()
    # Cancelled exchange.
    r = Raw(instance)
    r.send(b"b AUTHENTICATE PLAIN\r\n")
    assert r.line() == b"+ "
    r.send(b"*\r\n")
    assert r.line().startswith(b"b BAD")
    r.close()


def test_starttls_discards_pipelined_plaintext(instance):
    sock = socket.create_connection(("127.0.0.1", instance.port("imap")), timeout=TIMEOUT_S)
    f = sock.makefile("rb")
    assert f.readline().startswith(b"* OK")
    sock.sendall(b"a STARTTLS\r\nb LOGIN x y\r\n")
    assert f.readline().startswith(b"a OK")
    tls = tls_context(instance).wrap_socket(sock)
    tls.sendall(b"c NOOP\r\n")
    data = b""
    while b"\r\n" not in data:
        data += tls.recv(4096)
    # "b LOGIN" was never executed: the first answer is c's.
    assert data.startswith(b"c OK"), data
    tls.close()


def test_wrong_password_is_throttled(stopped_instance):
    inst = stopped_instance
    set_config_value(inst, "auth.max_failures_per_ip", 3)
    set_config_value(inst, "auth.failure_delay_ms", 100)
    inst.add_user(USER)
    inst.start()
    c = imaps_client(inst)
    for _ in range(3):
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            c.login(USER, "wrong")
    # Past the limit: refused without checking, even the right password.
    with pytest.raises(imaplib.IMAP4.error, match="UNAVAILABLE"):
        c.login(USER, PASSWORD)
    c.shutdown()
    assert "auth-failed" in inst.log()


def test_unknown_user_fails_like_a_wrong_password(instance):
    c = imaps_client(instance)
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        c.login("nobody@example.test", PASSWORD)
    c.shutdown()


# --- mailboxes ------------------------------------------------------------

def test_list_special_use_and_hierarchy(instance):
    c = logged_in(instance)
    typ, data = c.list()
    assert typ == "OK"
    text = b"\n".join(data)
    for name, attr in (("Sent", b"\\Sent"), ("Drafts", b"\\Drafts"), ("Trash", b"\\Trash"),
                       ("Junk", b"\\Junk"), ("Archive", b"\\Archive")):
        assert re.search(rb"\(.*%s.*\) \"/\" \"?%s\"?" % (re.escape(attr), name.encode()), text), text
    assert c.create("Projects/2024")[0] == "OK"
    data = b"\n".join(c.list('""', "Projects*")[1])
    assert re.search(rb'\\NonExistent.* "Projects"', data) or b"\\HasChildren" in data, data
    assert b'\\HasNoChildren) "/" "Projects/2024"' in data
    # "%" does not cross the hierarchy separator.
    top = b"\n".join(c.list('""', "%")[1])
    assert b"Projects/2024" not in top and b"INBOX" in top
    # The delimiter query.
    assert c.list('""', '""')[1] == [b'(\\Noselect) "/" ""']
    typ, ns = c.namespace()
    assert ns == [b'(("" "/")) NIL NIL']
    c.logout()


def test_create_rename_delete_subscribe_status(instance):
    c = logged_in(instance)
    assert c.create("Work")[0] == "OK"
    typ, data = c.create("Work")
    assert typ == "NO" and b"ALREADYEXISTS" in data[0]
    assert c.create("Work/Old")[0] == "OK"
    typ, data = c.delete("Work")
    assert typ == "NO"
    assert c.rename("Work", "Job")[0] == "OK"
    names = b"\n".join(c.list()[1])
    assert b'"Job/Old"' in names and b'"Work' not in names
    assert c.unsubscribe("Job/Old")[0] == "OK"
    lsub = b"\n".join(x for x in c.lsub()[1] if x)
    assert b"Job/Old" not in lsub and b"INBOX" in lsub
    assert c.subscribe("Job/Old")[0] == "OK"
    assert b"Job/Old" in b"\n".join(x for x in c.lsub()[1] if x)
    assert c.delete("Job/Old")[0] == "OK"
    assert c.delete("Job")[0] == "OK"
    typ, data = c.select("Job")
    assert typ == "NO" and b"NONEXISTENT" in data[0]
    append(c, "INBOX", message(), r"(\Seen)")
    append(c, "INBOX", message())
    typ, data = c.status("INBOX", "(MESSAGES UNSEEN UIDNEXT UIDVALIDITY RECENT SIZE)")
    assert typ == "OK"
    m = re.search(rb"MESSAGES (\d+) UNSEEN (\d+) UIDNEXT (\d+) UIDVALIDITY (\d+) RECENT 0 SIZE (\d+)",
                  data[0])
    assert m, data
    assert m.group(1) == b"2" and m.group(2) == b"1" and m.group(3) == b"3"
    assert int(m.group(5)) >= 2 * len(message())
    c.logout()


def test_utf8_mailbox_names_travel_as_modified_utf7(instance):
    c = logged_in(instance)
    assert c.create("&AOQ-rger")[0] == "OK"  # "Ärger"
    data = b"\n".join(c.list()[1])
    assert b'"&AOQ-rger"' in data
    typ, data = c.create("&Jjo-!&")  # malformed: unterminated base64 run
    assert typ == "NO"
    c.logout()


# --- select, fetch -------------------------------------------------------

def test_select_examine_and_fetch_items(instance):
    c = logged_in(instance)
    uid1 = append(c, msg=message("One"))
    uid2 = append(c, msg=MULTIPART)
    typ, data = c.select("INBOX")
    assert typ == "OK" and data == [b"2"]
    assert "UIDVALIDITY" in c.untagged_responses and "PERMANENTFLAGS" in c.untagged_responses
    typ, data = c.fetch("1:*", "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)")
    assert typ == "OK"
    assert b"UID %d" % uid1 in data[0] and b'"One"' in data[0]
    assert b"RFC822.SIZE %d" % len(message("One")) in data[0]
    assert re.search(rb'INTERNALDATE "\d\d-\w\w\w-\d{4} \d\d:\d\d:\d\d \+0000"', data[0])
    typ, data = c.uid("FETCH", str(uid2), "(BODYSTRUCTURE BODY.PEEK[1] BODY.PEEK[2.MIME])")
    assert typ == "OK"
    assert b'("text" "plain"' in data[0][0] and b'"mixed"' in data[0][0]
    assert data[0][1] == b"first part"
    assert data[1][1] == b"Content-Type: text/html\r\n\r\n"
    typ, data = c.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[]<0.4>)")
    assert data[0][1] == b"Subject: parts\r\n\r\n"
    assert data[1][1] == b"From"
    # PEEK left \Seen alone; BODY[] sets it and reports the flags.
    typ, data = c.fetch("1", "FLAGS")
    assert b"\\Seen" not in data[0]
    typ, data = c.fetch("1", "(BODY[TEXT])")
    assert data[0][1] == b"Hello, world.\r\n"
    assert b"\\Seen" in b"".join(x if isinstance(x, bytes) else x[0] for x in data)
    typ, data = c.fetch("1", "(RFC822.HEADER RFC822.TEXT)")
    assert data[0][1].startswith(b"From: Bob") and data[1][1] == b"Hello, world.\r\n"
    # EXAMINE is read-only: BODY[] does not set \Seen there.
    assert c.store("1", "-FLAGS", r"\Seen")[0] == "OK"
    typ, data = c.select("INBOX", readonly=True)
    assert typ == "OK"
    c.fetch("1", "BODY[]")
    assert b"\\Seen" not in c.fetch("1", "FLAGS")[1][0]
    typ, data = c.store("1", "+FLAGS", r"\Seen")
    assert typ == "NO"
    assert c.unselect()[0] == "OK"
    c.logout()


def test_fetch_sequence_edge_cases(instance):
    c = logged_in(instance)
    for i in range(3):
        append(c, msg=message("m%d" % i))
    c.select("INBOX")
    assert is_bad(c.fetch, "4", "FLAGS")  # past EXISTS
    assert is_bad(c.fetch, "0", "FLAGS")
    assert is_bad(c.fetch, "1:x", "FLAGS")
    assert is_bad(c.fetch, "1", "(FLAGS BOGUS)")
    typ, data = c.fetch("2:*", "UID")
    assert len([d for d in data if d]) == 2
    typ, data = c.uid("FETCH", "1:4294967295", "UID")
    assert typ == "OK" and len([d for d in data if d]) == 3
    # A UID range beyond the last UID still names the last message.
    typ, data = c.uid("FETCH", "100:*", "UID")
    assert typ == "OK" and b"UID 3" in data[0]
    typ, data = c.uid("FETCH", "50:60", "UID")
    assert typ == "OK" and data == [None]
    c.logout()


def test_large_fetch_is_streamed(instance):
    c = logged_in(instance)
    big = message("big", "x" * 998 + "\r\n") * 1
    body = ("y" * 76 + "\r\n") * 40000  # ~3 MB
    for _ in range(3):
        append(c, msg=message("big", body))
    c.select("INBOX")
    typ, data = c.fetch("1:*", "BODY.PEEK[]")
    assert typ == "OK"
    parts = [d for d in data if isinstance(d, tuple)]
    assert len(parts) == 3 and all(len(p[1]) == len(message("big", body)) for p in parts)
    del big
    c.logout()


# --- store, expunge, copy, move, search ------------------------------------

def test_store_expunge_and_uid_expunge(instance):
    c = logged_in(instance)
    uids = [append(c, msg=message("m%d" % i)) for i in range(4)]
    c.select("INBOX")
    typ, data = c.store("1:2", "+FLAGS", r"(\Deleted \Flagged)")
    assert typ == "OK" and b"\\Deleted" in data[0] and b"\\Flagged" in data[0]
    typ, data = c.store("2", "-FLAGS.SILENT", r"\Flagged")
    assert typ == "OK" and data == [None]
    typ, data = c.store("3", "FLAGS", r"(\Answered $Forwarded)")
    assert b"\\Answered" in data[0] and b"$Forwarded" in data[0]
    # UID EXPUNGE only removes the named \Deleted messages.
    typ, data = c.uid("EXPUNGE", str(uids[1]))
    assert typ == "OK"
    assert c.fetch("1:*", "UID")[1][0].endswith(b"(UID %d)" % uids[0])
    typ, data = c.expunge()
    assert typ == "OK" and data[-1] == b"1", data
    typ, data = c.search(None, "ALL")
    assert data == [b"1 2"]
    c.logout()


def test_copy_and_move_report_copyuid(instance):
    c = logged_in(instance)
    for i in range(3):
        append(c, msg=message("m%d" % i), flags=r"(\Flagged)")
    c.select("INBOX")
    typ, data = c.copy("1:2", "Archive")
    assert typ == "OK"
    m = re.search(rb"COPYUID (\d+) 1:2 (\d+):(\d+)", data[0])
    assert m, data
    typ, data = c.copy("1", "NoSuchBox")
    assert typ == "NO" and b"TRYCREATE" in data[0]
    typ, data = c._simple_command("MOVE", "3", "Trash")
    assert typ == "OK"
    assert b"3" in b" ".join(c.untagged_responses.get("EXPUNGE", [b""]))
    assert c.select("INBOX")[1] == [b"2"]
    typ, data = c.select("Archive")
    assert data == [b"2"]
    assert b"\\Flagged" in c.fetch("1", "FLAGS")[1][0]
    assert c.select("Trash")[1] == [b"1"]
    c.logout()


def test_search_criteria(instance):
    c = logged_in(instance)
    append(c, msg=message("Quarterly report", "The numbers are in.\r\n"), flags=r"(\Seen)")
    append(c, msg=message("Lunch", "Pizza?\r\n", "X-Mood: hungry\r\n"))
    append(c, msg=MULTIPART, flags=r"(\Flagged)")
    c.select("INBOX")
    cases = [
        (["ALL"], b"1 2 3"),
        (["SEEN"], b"1"),
        (["UNSEEN"], b"2 3"),
        (["FLAGGED"], b"3"),
        (["SUBJECT", '"quarterly"'], b"1"),
        (["FROM", "bob"], b"1 2 3"),
        (["HEADER", "X-Mood", "hungry"], b"2"),
        (["BODY", "pizza"], b"2"),
        (["TEXT", "second"], b"3"),
        (["NOT", "SEEN", "NOT", "FLAGGED"], b"2"),
        (["OR", "SEEN", "FLAGGED"], b"1 3"),
        (["LARGER", str(len(MULTIPART) - 1)], b"3"),
        (["SMALLER", str(len(MULTIPART))], b"1 2"),
        (["SINCE", "1-Jan-2000"], b"1 2 3"),
        (["BEFORE", "1-Jan-2000"], b""),
        (["2:*"], b"2 3"),
        (["UID", "2"], b"2"),
    ]
    for criteria, want in cases:
        typ, data = c.search(None, *criteria)
        assert typ == "OK" and data == [want], (criteria, data)
    typ, data = c.uid("SEARCH", "FLAGGED")
    assert data == [b"3"]
    assert c.search("UTF-8", "ALL")[0] == "OK"
    typ, data = c.search("KOI8-R", "ALL")
    assert typ == "NO" and b"BADCHARSET" in data[0]
    assert is_bad(c.search, None, "BOGUS")
    c.logout()


# --- append ---------------------------------------------------------------

def test_append_with_flags_and_date(instance):
    c = logged_in(instance)
    date = imaplib.Time2Internaldate(time.mktime((2020, 2, 29, 12, 0, 0, 0, 0, -1)))
    typ, data = c.append("Drafts", r"(\Draft \Seen)", date, message("draft"))
    assert typ == "OK" and b"APPENDUID" in data[0]
    c.select("Drafts")
    typ, data = c.fetch("1", "(FLAGS INTERNALDATE)")
    assert b"\\Draft" in data[0] and b"\\Seen" in data[0] and b"29-Feb-2020" in data[0]
    typ, data = c.append("Nope", None, None, message())
    assert typ == "NO" and b"TRYCREATE" in data[0]
    c.logout()


def test_literal_over_limit_is_refused_before_it_is_read(stopped_instance):
    inst = stopped_instance
    set_config_value(inst, "imap.max_literal_bytes", 10000)
    inst.add_user(USER)
    inst.start()
    r = Raw(inst)
    r.login()
    r.send(b"a APPEND INBOX {20000}\r\n")
    # No "+": the client is told at once and sends nothing.
    assert r.line().startswith(b"a NO [TOOBIG]")
    assert r.cmd(b"b", b"NOOP")[-1].startswith(b"b OK")
    # A non-synchronizing literal over the LITERAL- limit cannot be skipped.
    r.send(b"c LOGIN {5000+}\r\n" + b"x" * 5000 + b"\r\n")
    assert r.line().startswith(b"* BYE")
    r.close()
    c = logged_in(inst)
    assert c.select("INBOX")[1] == [b"0"]
    c.logout()


def test_client_vanishing_mid_append_stores_nothing(instance):
    r = Raw(instance)
    r.login()
    r.send(b"a APPEND INBOX {1000}\r\n")
    assert r.line().startswith(b"+")
    r.send(b"Subject: half\r\n\r\n" + b"z" * 400)
    r.close()
    time.sleep(0.5)
    c = logged_in(instance)
    assert c.select("INBOX")[1] == [b"0"]
    c.logout()


# --- bad input ------------------------------------------------------------

def test_bad_commands_get_bad_and_the_connection_stays(instance):
    r = Raw(instance)
    assert r.cmd(b"a", b"FROBNICATE")[-1].startswith(b"a BAD")
    r.send(b"\r\n")
    assert r.line().startswith(b"* BAD")
    r.send(b" NOOP\r\n")
    assert r.line().startswith(b"* BAD")
    assert r.cmd(b"b", b'LOGIN "unterminated')[-1].startswith(b"b BAD")
    assert r.cmd(b"c", b"SELECT INBOX")[-1].startswith(b"c BAD")  # wrong state
    assert r.cmd(b"d", b"FETCH 1 FLAGS")[-1].startswith(b"d BAD")
    r.login()
    assert r.cmd(b"e", b"LOGIN a b")[-1].startswith(b"e BAD")      # already logged in
    assert r.cmd(b"f", b"FETCH 1 FLAGS")[-1].startswith(b"f BAD")  # not selected
    assert r.cmd(b"g", b"SELECT INBOX")[-1].startswith(b"g OK")
    assert r.cmd(b"h", b"FETCH * FLAGS")[-1].startswith(b"h OK")   # empty mailbox
    assert r.cmd(b"i", b"UID FETCH")[-1].startswith(b"i BAD")
    assert r.cmd(b"j", b"STORE 1 +FLAGS (\\Recent)")[-1].startswith(b"j BAD")
    assert r.cmd(b"k", b"NOOP")[-1].startswith(b"k OK")
    r.close()


def test_overlong_line_closes_with_bye(instance):
    r = Raw(instance)
    r.send(b"a NOOP " + b"x" * 70000 + b"\r\n")
    assert r.line().startswith(b"* BYE")
    assert r.closed()
    r.close()


def test_many_bad_commands_close_the_session(stopped_instance):
    inst = stopped_instance
    set_config_value(inst, "imap.max_bad_commands", 3)
    inst.add_user(USER)
    inst.start()
    r = Raw(inst)
    for i in range(3):
        assert r.cmd(b"t%d" % i, b"BOGUS")[-1].endswith(b"Unknown command")
    r.send(b"t9 BOGUS\r\n")
    assert r.line().startswith(b"* BYE")
    assert r.closed()
    r.close()


def test_huge_sequence_set_is_cheap(instance):
    c = logged_in(instance)
    append(c)
    c.select("INBOX")
    # As many ranges as fit in a line: answered quickly, no blow-up.
    ranges = ",".join("%d:%d" % (i * 3, i * 3 + 1) for i in range(1, 6000))
    start = time.monotonic()
    typ, data = c.uid("FETCH", ranges, "UID")
    assert typ == "OK"
    typ, data = c.uid("SEARCH", "UID", ranges)
    assert typ == "OK"
    typ, data = c.uid("FETCH", "1:4294967295", "UID")
    assert typ == "OK" and data[0].endswith(b"(UID 1)")
    assert time.monotonic() - start < 10
    c.logout()


def test_idle_timeout_sends_bye(stopped_instance):
    inst = stopped_instance
    set_config_value(inst, "imap.idle_timeout_seconds", 1)
    inst.add_user(USER)
    inst.start()
    r = Raw(inst)
    l = r.line()
    assert l is not None and l.startswith(b"* BYE"), l
    r.close()


# --- idle -----------------------------------------------------------------

def test_idle_sees_other_sessions_changes(instance):
    watcher = Raw(instance)
    watcher.login()
    assert watcher.cmd(b"s", b"SELECT INBOX")[-1].startswith(b"s OK")
    watcher.send(b"i IDLE\r\n")
    assert watcher.line().startswith(b"+")
    other = logged_in(instance)
    append(other, msg=message("while idle"))
    assert watcher.line() == b"* 1 EXISTS"
    other.select("INBOX")
    other.store("1", "+FLAGS", r"\Flagged")
    l = watcher.line()
    assert l.startswith(b"* 1 FETCH") and b"\\Flagged" in l, l
    other.store("1", "+FLAGS", r"\Deleted")
    other.expunge()
    lines = [watcher.line(), watcher.line()]
    assert b"* 1 EXPUNGE" in lines, lines
    watcher.send(b"DONE\r\n")
    assert watcher.until_tagged(b"i")[-1].startswith(b"i OK")
    other.logout()
    watcher.close()


def test_noop_reports_changes_at_command_boundaries(instance):
    a = logged_in(instance)
    b = logged_in(instance)
    a.select("INBOX")
    append(b)
    typ, data = a.noop()
    assert a.untagged_responses.get("EXISTS", [b""])[-1] == b"1"
    a.logout()
    b.logout()


# --- other clients ----------------------------------------------------------

def test_curl_lists_and_fetches(instance):
    c = logged_in(instance)
    append(c, msg=message("via curl", "curl body\r\n"))
    c.logout()
    base = "imaps://127.0.0.1:%d/" % instance.port("imaps")
    common = ["curl", "-sS", "--max-time", "20", "--cacert", str(instance.cert), "-k",
              "--user", "%s:%s" % (USER, PASSWORD)]
    out = subprocess.run(common + [base], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "INBOX" in out.stdout and "Sent" in out.stdout
    out = subprocess.run(common + [base + "INBOX;UID=1"], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    assert "Subject: via curl" in out.stdout and "curl body" in out.stdout
    # And over STARTTLS, which curl insists on with --ssl-reqd.
    out = subprocess.run(common + ["--ssl-reqd", "imap://127.0.0.1:%d/INBOX;UID=1"
                                   % instance.port("imap")],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "curl body" in out.stdout


def test_openssl_s_client_starttls(instance):
    script = b"a LOGIN %s \"%s\"\r\nb LIST \"\" INBOX\r\nc LOGOUT\r\n" % (
        USER.encode(), PASSWORD.encode())
    out = subprocess.run(["openssl", "s_client", "-quiet", "-starttls", "imap", "-connect",
                          "127.0.0.1:%d" % instance.port("imap"), "-CAfile", str(instance.cert)],
                         input=script, capture_output=True, timeout=30)
    assert b"a OK" in out.stdout, out.stdout + out.stderr
    assert b'* LIST (\\HasNoChildren) "/" INBOX' in out.stdout
    assert b"c OK" in out.stdout
