"""submissiond: message submission on 587 (STARTTLS) and 465 (implicit
TLS) with real clients. AUTH is required before MAIL, offered only over
TLS, throttled after failures; the sender must belong to the user; local
recipients reach mda; trace fields are added as RFC 6409 asks."""
import base64
import smtplib
import ssl
import subprocess

import pytest

from harness import Instance, set_config_value
from test_smtpd import ALICE, TIMEOUT, Raw, messages, new_instance, wait_for

PASSWORD = "correct horse battery"


@pytest.fixture
def sub():
    inst = new_instance()
    try:
        yield inst
    finally:
        inst.close()


def tls_context(inst):
    ctx = ssl.create_default_context(cafile=str(inst.cert))
    ctx.check_hostname = False  # the self-signed name is the instance's hostname
    return ctx


def plain(user, password):
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def starttls_raw(inst):
    """A Raw client after STARTTLS and EHLO on the submission port."""
    raw = Raw(inst.port("submission"))
    assert raw.reply().startswith("220")
    assert raw.cmd("EHLO client.test").startswith("250")
    assert raw.cmd("STARTTLS").startswith("220")
    raw.sock = tls_context(inst).wrap_socket(raw.sock, server_hostname="mail.example.test")
    assert raw.cmd("EHLO client.test").startswith("250")
    return raw


def test_submit_over_starttls_with_login_adds_message_id_and_date(sub):
    with smtplib.SMTP("127.0.0.1", sub.port("submission"), timeout=TIMEOUT) as s:
        s.ehlo("client.test")
        assert not s.has_extn("auth"), "AUTH must not be offered before TLS"
        s.starttls(context=tls_context(sub))
        s.ehlo("client.test")
        assert "PLAIN" in s.esmtp_features["auth"] and "LOGIN" in s.esmtp_features["auth"]
        s.login(ALICE, PASSWORD)
        refused = s.sendmail(ALICE, ["bob@example.test"], "Subject: no ids\r\n\r\nhello bob\r\n")
    assert refused == {}
    got = messages(sub, "bob@example.test")
    assert len(got) == 1
    assert b"\r\nMessage-ID: <" in got[0] and b"\r\nDate: " in got[0]
    assert b"with ESMTPSA id" in got[0] and b"(using TLSv1." in got[0]
    assert b"([127.0.0.1])" in got[0]


def test_submit_over_implicit_tls_465(sub):
    with smtplib.SMTP_SSL("127.0.0.1", sub.port("submissions"), timeout=TIMEOUT,
                          context=tls_context(sub)) as s:
        s.ehlo("client.test")
        s.login(ALICE, PASSWORD)
        s.sendmail(ALICE, [ALICE], "Message-ID: <keep@client.test>\r\nSubject: 465\r\n\r\nbody\r\n")
    got = messages(sub, ALICE)
    assert len(got) == 1
    assert got[0].count(b"Message-ID:") == 1 and b"<keep@client.test>" in got[0]


def test_swaks_auth_plain_and_login_over_tls(sub):
    for mech in ("PLAIN", "LOGIN"):
        proc = subprocess.run(
            ["swaks", "--server", f"127.0.0.1:{sub.port('submission')}", "--tls",
             "--auth", mech, "--auth-user", ALICE, "--auth-password", PASSWORD,
             "--to", "bob@example.test", "--from", ALICE, "--timeout", str(TIMEOUT)],
            capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert wait_for(lambda: len(messages(sub, "bob@example.test")) == 2)


def test_mail_before_auth_is_530(sub):
    with starttls_raw(sub) as raw:
        assert raw.cmd(f"MAIL FROM:<{ALICE}>").startswith("530 5.7.0")


def test_auth_over_plaintext_is_538(sub):
    with Raw(sub.port("submission")) as raw:
        raw.reply()
        raw.cmd("EHLO client.test")
        assert raw.cmd("AUTH PLAIN " + plain(ALICE, PASSWORD)).startswith("538 5.7.11")
        assert raw.cmd(f"MAIL FROM:<{ALICE}>").startswith("530 5.7.0")


def test_plaintext_auth_on_loopback_when_configured():
    inst = new_instance({"auth.allow_plaintext_on_loopback": True})
    try:
        with smtplib.SMTP("127.0.0.1", inst.port("submission"), timeout=TIMEOUT) as s:
            s.login(ALICE, PASSWORD)
            s.sendmail(ALICE, [ALICE], "Subject: local\r\n\r\nx\r\n")
        assert len(messages(inst, ALICE)) == 1
    finally:
        inst.close()


def test_sender_must_belong_to_the_user(sub):
    sub.ctl("alias", "add", "sales@example.test", ALICE)
    with starttls_raw(sub) as raw:
        assert raw.cmd("AUTH PLAIN " + plain(ALICE, PASSWORD)).startswith("235")
        assert raw.cmd("MAIL FROM:<bob@example.test>").startswith("553 5.7.1")
        assert raw.cmd("MAIL FROM:<ceo@remote.example>").startswith("553 5.7.1")
        assert raw.cmd("MAIL FROM:<sales@example.test>").startswith("250")
        assert raw.cmd("RSET").startswith("250")
        assert raw.cmd("MAIL FROM:<alice+tag@example.test>").startswith("250")


def test_remote_recipients_are_accepted_for_the_outbound_queue(sub):
    with starttls_raw(sub) as raw:
        raw.cmd("AUTH PLAIN " + plain(ALICE, PASSWORD))
        raw.cmd(f"MAIL FROM:<{ALICE}>")
        assert raw.cmd("RCPT TO:<friend@remote.example>").startswith("250 2.1.5")
        assert raw.cmd("RCPT TO:<nobody@example.test>").startswith("550 5.1.1")


def test_failed_logins_are_throttled_and_logged():
    inst = new_instance({"auth.max_failures_per_ip": 3, "auth.failure_delay_ms": 100})
    try:
        with starttls_raw(inst) as raw:
            replies = [raw.cmd("AUTH PLAIN " + plain(ALICE, "wrong password")) for _ in range(4)]
            replies.append(raw.cmd("AUTH PLAIN " + plain(ALICE, PASSWORD)))
        assert [r[:9] for r in replies] == ["535 5.7.8", "535 5.7.8", "454 4.7.0", "454 4.7.0",
                                            "454 4.7.0"], replies
        log = inst.log()
        assert "auth-failed rip=127.0.0.1 user=alice@example.test" in log
        assert "wrong password" not in log
    finally:
        inst.close()


def test_hide_client_ip():
    inst = new_instance({"smtp.submission_hide_client_ip": True})
    try:
        with smtplib.SMTP_SSL("127.0.0.1", inst.port("submissions"), timeout=TIMEOUT,
                              context=tls_context(inst)) as s:
            s.login(ALICE, PASSWORD)
            s.sendmail(ALICE, [ALICE], "Subject: hidden\r\n\r\nx\r\n")
        got = messages(inst, ALICE)
        assert len(got) == 1
        assert b"127.0.0.1" not in got[0]
        assert b"Received: by mail.example.test" in got[0]
    finally:
        inst.close()
