"""smtpd, the inbound MX, against real clients (smtplib, swaks, openssl
s_client, raw sockets) with the real mda behind it: mail for local users
lands in their Maildir; everything else - relay attempts in every spelling,
smuggling, bad and abusive input - is refused with the RFC's reply."""
import smtplib
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from harness import Instance, set_config_value

TIMEOUT = 10
ALICE = "alice@example.test"


def new_instance(settings=None, users=(ALICE, "bob@example.test")):
    """An instance with `settings` ({"smtp.max_recipients": 2, ...}) applied
    before start; always torn down by the caller's `with`."""
    inst = Instance()
    try:
        for key, value in (settings or {}).items():
            set_config_value(inst, key, value)
        for user in users:
            inst.add_user(user)
        inst.start()
    except BaseException:
        inst.close()
        raise
    return inst


@pytest.fixture
def mx():
    inst = new_instance()
    try:
        yield inst
    finally:
        inst.close()


def maildir_new(inst, address):
    local, domain = address.split("@")
    new = inst.data_dir / "users" / domain / local.lower() / "Maildir" / "new"
    return sorted(new.iterdir()) if new.exists() else []


def messages(inst, address):
    return [p.read_bytes() for p in maildir_new(inst, address)]


class Raw:
    """A line-level SMTP client on a plain socket, for what smtplib will not
    send (bad input, pipelining, smuggling)."""

    def __init__(self, port, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                line, self.buf = self.buf, b""
                return line.decode(errors="replace") or "<eof>"
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode(errors="replace")

    def reply(self):
        """The last line of one (possibly multi-line) reply."""
        while True:
            line = self.line()
            if len(line) < 4 or line[3] != "-":
                return line

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def greeted(port, host="127.0.0.1"):
    raw = Raw(port, host)
    assert raw.reply().startswith("220 ")
    assert raw.cmd("EHLO client.test").startswith("250 ")
    return raw


def sessions_settled(inst, daemon):
    """True once the daemon has seen a connection (the harness's readiness
    probe) and every session its log shows has gone again."""
    lines = [l for l in inst.log().splitlines() if f" {daemon}[" in l]
    opened = sum(l.endswith(" connect") for l in lines)
    return opened > 0 and opened == sum(" disconnect " in l for l in lines)


def wait_for(predicate, seconds=TIMEOUT):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# ---- delivery end to end ----

def test_mx_delivers_to_local_user_with_received_field(mx):
    msg = "From: sender@remote.example\r\nTo: alice@example.test\r\nSubject: hello\r\n\r\nhi alice\r\n"
    with smtplib.SMTP("127.0.0.1", mx.port("smtp"), timeout=TIMEOUT) as s:
        refused = s.sendmail("sender@remote.example", [ALICE], msg)
    assert refused == {}
    got = messages(mx, ALICE)
    assert len(got) == 1, f"got {len(got)} messages, want 1"
    assert b"Received: from " in got[0] and b"([127.0.0.1])" in got[0]
    assert b"(Postern smtpd) with ESMTP id" in got[0]
    assert b"Subject: hello" in got[0] and b"hi alice" in got[0]


def test_mx_starttls_and_received_shows_tls(mx):
    proc = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{mx.port('smtp')}", "--tls", "--tls-verify",
         "--tls-ca-path", str(mx.cert), "--to", ALICE, "--from", "x@remote.example",
         "--timeout", str(TIMEOUT)],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = messages(mx, ALICE)
    assert len(got) == 1
    assert b"with ESMTPS id" in got[0]
    assert b"(using TLSv1." in got[0]


def test_mx_smtplib_starttls_with_verified_certificate(mx):
    ctx = ssl.create_default_context(cafile=str(mx.cert))
    ctx.check_hostname = False  # the self-signed name is the instance's hostname
    with smtplib.SMTP("127.0.0.1", mx.port("smtp"), timeout=TIMEOUT) as s:
        s.starttls(context=ctx)
        s.ehlo("client.test")
        assert s.has_extn("size") and not s.has_extn("starttls")
        s.sendmail("x@remote.example", [ALICE], "Subject: tls\r\n\r\nbody\r\n")
    assert len(messages(mx, ALICE)) == 1


def test_openssl_s_client_starttls(mx):
    proc = subprocess.run(
        ["openssl", "s_client", "-starttls", "smtp", "-connect", f"127.0.0.1:{mx.port('smtp')}",
         "-CAfile", str(mx.cert), "-quiet", "-verify_return_error"],
        input="EHLO client.test\r\nQUIT\r\n", capture_output=True, text=True, timeout=30)
    assert "250-PIPELINING" in proc.stdout, proc.stdout + proc.stderr
    assert "221 2.0.0" in proc.stdout


def test_mx_aliases_plus_addressing_and_mixed_recipients(mx):
    mx.ctl("alias", "add", "sales@example.test", ALICE)
    with smtplib.SMTP("127.0.0.1", mx.port("smtp"), timeout=TIMEOUT) as s:
        refused = s.sendmail("x@remote.example",
                             ["sales@example.test", "alice+news@example.test",
                              "nobody@example.test", "bob@example.test"],
                             "Subject: multi\r\n\r\nbody\r\n")
    assert list(refused) == ["nobody@example.test"]
    assert refused["nobody@example.test"][0] == 550
    assert wait_for(lambda: len(maildir_new(mx, "bob@example.test")) == 1)
    assert len(maildir_new(mx, ALICE)) >= 1


def test_mx_over_ipv6():
    with socket.socket(socket.AF_INET6) as probe:
        try:
            probe.bind(("::1", 0))
        except OSError:
            pytest.skip("no IPv6 loopback here")
    inst = Instance()
    try:
        port = inst.port("smtp")
        set_config_value(inst, "listen.smtp", [f"127.0.0.1:{port}", f"[::1]:{port}"])
        inst.add_user(ALICE)
        inst.start()
        with smtplib.SMTP("::1", port, timeout=TIMEOUT) as s:
            s.sendmail("x@remote.example", [ALICE], "Subject: v6\r\n\r\nbody\r\n")
        got = messages(inst, ALICE)
        assert len(got) == 1 and b"([IPv6:::1])" in got[0]
    finally:
        inst.close()


# ---- relay: never ----

RELAY_SPELLINGS = [
    "victim@remote.example",
    "victim%remote.example@example.test",
    "remote.example!victim@example.test",
    '"victim@remote.example"@example.test',
    "victim@[127.0.0.1]",
    "victim@[192.0.2.1]",
    "victim@[IPv6:::1]",
    "@example.test:victim@remote.example",
    "victim@remote.example.",
    "victim@EXAMPLE.TEST.remote.example",
]


@pytest.mark.parametrize("rcpt", RELAY_SPELLINGS)
def test_relay_attempts_are_refused(mx, rcpt):
    with greeted(mx.port("smtp")) as raw:
        assert raw.cmd("MAIL FROM:<spammer@remote.example>").startswith("250")
        reply = raw.cmd(f"RCPT TO:<{rcpt}>")
        assert reply[:3] in ("554", "550", "501"), f"RCPT TO:<{rcpt}> got {reply!r}"
        assert raw.cmd("DATA").startswith("554 5.5.1")


def test_unknown_local_user_is_550_at_rcpt(mx):
    with greeted(mx.port("smtp")) as raw:
        raw.cmd("MAIL FROM:<x@remote.example>")
        assert raw.cmd("RCPT TO:<nobody@example.test>").startswith("550 5.1.1")
        assert raw.cmd("VRFY alice").startswith("252")
        assert raw.cmd("VRFY nobody").startswith("252")


# ---- smuggling and STARTTLS injection ----

SMUGGLING_ENDS = [b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r", b"\r\n.\r", b"\r.\r\n", b"\n.\r"]


@pytest.mark.parametrize("end", SMUGGLING_ENDS, ids=lambda e: repr(e))
def test_smtp_smuggling_is_impossible(mx, end):
    with greeted(mx.port("smtp")) as raw:
        raw.cmd("MAIL FROM:<x@remote.example>")
        assert raw.cmd(f"RCPT TO:<{ALICE}>").startswith("250")
        assert raw.cmd("DATA").startswith("354")
        raw.send(b"Subject: carrier\r\n\r\nhello" + end +
                 b"MAIL FROM:<admin@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
                 b"Subject: smuggled\r\n\r\nevil\r\n.\r\n")
        reply = raw.reply()
        assert reply.startswith("550 5.6.0"), f"got {reply!r}"
        assert raw.cmd("NOOP").startswith("250")
    assert messages(mx, ALICE) == []
    assert messages(mx, "bob@example.test") == []


def test_pipelined_plaintext_after_starttls_is_not_executed(mx):
    raw = greeted(mx.port("smtp"))
    try:
        # Everything after STARTTLS in the same packet must be thrown away.
        raw.send("STARTTLS\r\nEHLO evil\r\nMAIL FROM:<x@remote.example>\r\n")
        assert raw.reply().startswith("220 2.0.0")
        assert raw.buf == b"", f"plaintext after 220: {raw.buf!r}"
        ctx = ssl.create_default_context(cafile=str(mx.cert))
        ctx.check_hostname = False
        raw.sock = ctx.wrap_socket(raw.sock, server_hostname="mail.example.test")
        # Had the pipelined MAIL run, this RCPT would be 250.
        assert raw.cmd(f"RCPT TO:<{ALICE}>").startswith("503 5.5.1")
        assert raw.cmd("EHLO client.test").startswith("250 ")
    finally:
        raw.close()
    assert wait_for(lambda: "starttls-pipelined-plaintext-discarded" in mx.log())


# ---- bad input and abuse ----

def test_out_of_order_unknown_and_overlong_commands(mx):
    with Raw(mx.port("smtp")) as raw:
        raw.reply()
        assert raw.cmd("MAIL FROM:<x@remote.example>").startswith("503 5.5.1")
        assert raw.cmd("EHLO client.test").startswith("250 ")
        assert raw.cmd(f"RCPT TO:<{ALICE}>").startswith("503 5.5.1")
        assert raw.cmd("DATA").startswith("503 5.5.1")
        assert raw.cmd("XYZZY").startswith("500 5.5.1")
        assert raw.cmd("NOOP " + "a" * 10000).startswith("500 5.5.2")
        assert raw.cmd("NOOP").startswith("250")  # the connection is kept


def test_http_request_is_cut_off(mx):
    with Raw(mx.port("smtp")) as raw:
        raw.reply()
        raw.send("POST / HTTP/1.1\r\nHost: x\r\n\r\nMAIL FROM:<a@remote.example>\r\n")
        assert raw.line().startswith("221 2.7.0")
        assert raw.line() == "<eof>"


def test_too_many_recipients_and_too_large():
    inst = new_instance({"smtp.max_recipients": 2, "smtp.max_message_bytes": 2048})
    try:
        with greeted(inst.port("smtp")) as raw:
            assert raw.cmd("MAIL FROM:<x@remote.example> SIZE=4096").startswith("552 5.3.4")
            assert raw.cmd("MAIL FROM:<x@remote.example> SIZE=100").startswith("250")
            assert raw.cmd(f"RCPT TO:<{ALICE}>").startswith("250")
            assert raw.cmd("RCPT TO:<bob@example.test>").startswith("250")
            assert raw.cmd("RCPT TO:<carol@example.test>").startswith("452 4.5.3")
            assert raw.cmd("DATA").startswith("354")
            assert raw.cmd("Subject: big\r\n\r\n" + ("x" * 70 + "\r\n") * 100 + ".").startswith(
                "552 5.3.4")
            assert raw.cmd("NOOP").startswith("250")
        assert messages(inst, ALICE) == []
    finally:
        inst.close()


def test_too_many_errors_then_421():
    inst = new_instance({"smtp.max_bad_commands": 3})
    try:
        with Raw(inst.port("smtp")) as raw:
            raw.reply()
            for _ in range(3):
                assert raw.cmd("BOGUS").startswith("500")
            raw.send("BOGUS\r\n")
            assert raw.line().startswith("500")
            assert raw.line().startswith("421 4.7.0")
            assert raw.line() == "<eof>"
    finally:
        inst.close()


def test_idle_client_gets_421_timeout():
    inst = new_instance({"smtp.idle_timeout_seconds": 1})
    try:
        with Raw(inst.port("smtp")) as raw:
            raw.reply()
            started = time.monotonic()
            assert raw.line().startswith("421 4.4.2")
            assert time.monotonic() - started < 5
            assert raw.line() == "<eof>"
    finally:
        inst.close()


def test_connections_over_the_per_ip_limit_get_421():
    inst = new_instance({"connections.max_per_ip": 2})
    try:
        # The harness's readiness probe must have left first.
        assert wait_for(lambda: sessions_settled(inst, "smtpd"))
        a, b = Raw(inst.port("smtp")), Raw(inst.port("smtp"))
        try:
            assert a.reply().startswith("220") and b.reply().startswith("220")
            with Raw(inst.port("smtp")) as c:
                assert c.line().startswith("421 4.7.0")
        finally:
            a.close()
            b.close()
    finally:
        inst.close()


# ---- extensions ----

def test_bdat_chunking_and_dsn_parameters(mx):
    with greeted(mx.port("smtp")) as raw:
        assert raw.cmd("MAIL FROM:<x@remote.example> BODY=8BITMIME RET=HDRS ENVID=e1").startswith("250")
        assert raw.cmd(f"RCPT TO:<{ALICE}> NOTIFY=FAILURE ORCPT=rfc822;{ALICE}").startswith("250")
        body = b"Subject: chunked\r\n\r\npart one\r\n"
        raw.send(b"BDAT %d\r\n" % len(body) + body + b"BDAT 10 LAST\r\npart two\r\n")
        assert raw.reply().startswith("250 2.0.0")
        assert raw.reply().startswith("250 2.0.0")
    got = messages(mx, ALICE)
    assert len(got) == 1 and b"part one\r\npart two\r\n" in got[0]


def test_smtputf8_and_8bit_message(mx):
    with greeted(mx.port("smtp")) as raw:
        assert raw.cmd("MAIL FROM:<jos\u00e9@remote.example> SMTPUTF8 BODY=8BITMIME").startswith("250")
        assert raw.cmd(f"RCPT TO:<{ALICE}>").startswith("250")
        assert raw.cmd("DATA").startswith("354")
        assert raw.cmd("Subject: caf\u00e9\r\n\r\nna\u00efve\r\n.").startswith("250")
    got = messages(mx, ALICE)
    assert len(got) == 1 and "na\u00efve".encode() in got[0]
    assert b"with UTF8SMTP id" in got[0]


def test_swaks_pipelining_and_chunking(mx):
    proc = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{mx.port('smtp')}", "--pipeline", "--to", ALICE,
         "--from", "x@remote.example", "--timeout", str(TIMEOUT)],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(messages(mx, ALICE)) == 1
