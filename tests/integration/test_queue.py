"""The outbound queue end to end: submissiond accepts mail for other
domains into the spool, queued looks up the MX in a real DNS server
(dnsmasq on loopback) and delivers to real SMTP servers on loopback
addresses: Debian's Postfix (final destination, checks the message arrives
intact) and Postfix's smtp-sink (answers 4xx or 5xx on demand). Checked:
delivery and connection reuse, retries after temporary failures, bounces
(RFC 3464) for permanent failures, unknown domains and expiry, survival of
kill -9, and `mailctl queue`. Postfix also relays into our smtpd.

Each remote host gets its own loopback address (127.0.0.2, .3, ...) since
queue.remote_port is one port for every MX. Needs root (Postfix,
smtp-sink and dnsmasq drop privileges themselves)."""
import email
import re
import json
import os
import signal
import smtplib
import ssl
import subprocess
import time

import pytest

import peers
from harness import Instance, set_config_value

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for Postfix and dnsmasq")

ALICE = "alice@example.test"
PASSWORD = "correct horse battery"
WAIT_S = 30

POSTFIX_IP = "127.0.0.2"  # mx.remote.test
SINK_IP = "127.0.0.3"     # mx.sink.test
DOWN_IP = "127.0.0.4"     # mx1.backup.test: nothing listens


def dns_for_tests():
    return peers.Dnsmasq(
        mx=[("remote.test", "mx.remote.test", 10), ("sink.test", "mx.sink.test", 10),
            ("backup.test", "mx1.backup.test", 10), ("backup.test", "mx2.backup.test", 20)],
        a=[("mx.remote.test", POSTFIX_IP), ("mx.sink.test", SINK_IP),
           ("mx1.backup.test", DOWN_IP), ("mx2.backup.test", POSTFIX_IP),
           ("implicit.test", SINK_IP)])


class Setup:
    """dnsmasq + a Postern instance whose queue uses it and `port` for every MX."""

    def __init__(self, port, settings=None):
        self.dns = dns_for_tests()
        self.inst = Instance()
        try:
            set_config_value(self.inst, "queue.nameserver", self.dns.address)
            set_config_value(self.inst, "queue.remote_port", port)
            set_config_value(self.inst, "queue.retry_min_seconds", 1)
            set_config_value(self.inst, "queue.retry_max_seconds", 2)
            for key, value in (settings or {}).items():
                set_config_value(self.inst, key, value)
            self.inst.add_user(ALICE, PASSWORD)
            self.inst.add_user("bob@example.test", PASSWORD)
            self.inst.start()
        except BaseException:
            self.close()
            raise

    def close(self):
        try:
            self.inst.close()
        finally:
            self.dns.stop()

    def submit(self, rcpts, message, sender=ALICE):
        ctx = ssl.create_default_context(cafile=str(self.inst.cert))
        ctx.check_hostname = False
        with smtplib.SMTP("127.0.0.1", self.inst.port("submission"), timeout=15) as s:
            s.starttls(context=ctx)
            s.login(ALICE, PASSWORD)
            refused = s.sendmail(sender, rcpts, message)
            assert refused == {}
            return s.noop()

    def queue(self):
        return json.loads(self.inst.ctl("queue", "list", "--json").stdout)

    def wait_queue(self, predicate, what):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            q = self.queue()
            if predicate(q):
                return q
            time.sleep(0.2)
        raise AssertionError(f"queue never {what}: {json.dumps(self.queue(), indent=1)}\n"
                             f"{self.inst.log()[-4000:]}")

    def inbox(self, address):
        local, domain = address.split("@")
        new = self.inst.data_dir / "users" / domain / local / "Maildir" / "new"
        return [p.read_bytes() for p in sorted(new.iterdir())] if new.exists() else []

    def wait_inbox(self, address, count):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            got = self.inbox(address)
            if len(got) >= count:
                return got
            time.sleep(0.2)
        raise AssertionError(f"{address} has {len(self.inbox(address))} messages, want {count}"
                             f"\n{self.inst.log()[-4000:]}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def wait_for(fn, what):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def message(subject, body="Hello over there.\r\n"):
    return (f"From: Alice <{ALICE}>\r\nTo: Bob <bob@remote.test>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@example.test>\r\n\r\n{body}").encode()


def the_bounce(raw):
    msg = email.message_from_bytes(raw)
    assert msg.get_content_type() == "multipart/report", raw[:2000]
    assert msg.get_param("report-type") == "delivery-status"
    parts = msg.get_payload()
    assert parts[1].get_content_type() == "message/delivery-status"
    return msg, parts


def test_delivers_to_postfix_intact_and_local_copy_to_mda():
    port = peers.free_port()
    with peers.postfix_mailbox_server("remote.test", ip=POSTFIX_IP, port=port) as pf, \
            Setup(port) as s:
        pf.start()
        body = "".join(f"line {i}\r\n" for i in range(2000)) + ".starts with a dot\r\n"
        reply = s.submit(["bob@remote.test", "bob@example.test"], message("intact", body))
        assert reply[0] == 250
        got = wait_for(lambda: pf.mailbox(), "Postfix to store the message")
        assert len(got) == 1
        stored = got[0].replace(b"\n", b"\r\n")  # virtual(8) stores LF lines
        assert b"\r\nSubject: intact\r\n" in stored
        assert stored.endswith(body.encode()), "the body must arrive byte for byte"
        assert b"by mail.example.test" in stored, "submissiond's Received field"
        local = s.wait_inbox("bob@example.test", 1)
        assert local[0].endswith(body.encode())
        s.wait_queue(lambda q: q == [], "emptied")


def test_several_messages_for_one_domain_share_one_connection():
    port = peers.free_port()
    with peers.postfix_mailbox_server("remote.test", ip=POSTFIX_IP, port=port) as pf, \
            Setup(port) as s:
        # Postfix is not running yet: every attempt fails with "connection refused".
        for i in range(3):
            s.submit(["bob@remote.test"], message(f"batch {i}"))
        q = s.wait_queue(lambda q: len(q) == 3 and all(e["attempts"] >= 1 for e in q),
                         "tried all three")
        assert all(e["recipients"][0]["state"] == "pending" for e in q)
        assert all(e["recipients"][0]["last_reply"].startswith("4") for e in q), q
        pf.start()
        pf.wait_log(r"disconnect from")  # start() made one connection of its own
        probe_log = len(pf.log())
        s.inst.ctl("queue", "retry", "--all")
        wait_for(lambda: len(pf.mailbox()) == 3, "three messages at Postfix")
        s.wait_queue(lambda q: q == [], "emptied")
        # One SMTP connection carried all three (RSET between them).
        connects = re.findall(r"postfix/smtpd\[\d+\]: connect from", pf.log()[probe_log:])
        assert len(connects) == 1, pf.log()


def test_temporary_failure_is_retried_then_delivered():
    port = peers.free_port()
    with Setup(port) as s:
        with peers.SmtpSink(SINK_IP, port, soft=["RCPT"]) as sink:
            s.submit(["carol@sink.test"], message("retry me"))
            q = s.wait_queue(lambda q: q and q[0]["recipients"][0]["attempts"] >= 2,
                             "retried twice")
            r = q[0]["recipients"][0]
            assert r["state"] == "pending" and r["last_reply"].startswith("4"), r
            assert r["remote_host"].startswith("mx.sink.test"), r
            assert sink.messages() == []
        with peers.SmtpSink(SINK_IP, port) as sink:
            wait_for(sink.messages, "the retry to deliver")
            s.wait_queue(lambda q: q == [], "emptied")
            assert b"Subject: retry me" in sink.messages()[0]
        assert s.inbox(ALICE) == [], "no bounce for a delivered message"


def test_permanent_failure_bounces_to_sender_with_delivery_status():
    port = peers.free_port()
    with Setup(port) as s, peers.SmtpSink(SINK_IP, port, hard=["RCPT"]):
        s.submit(["carol@sink.test"], message("will bounce"))
        bounce = s.wait_inbox(ALICE, 1)[0]
        s.wait_queue(lambda q: q == [], "emptied")
        msg, parts = the_bounce(bounce)
        assert msg["From"].startswith("Mail Delivery System <MAILER-DAEMON@")
        assert msg["Auto-Submitted"] == "auto-replied"
        assert b"Return-Path: <>" in bounce, "a bounce has the null sender"
        status = parts[1].as_string()
        assert "Final-Recipient: rfc822; carol@sink.test" in status
        assert "Action: failed" in status
        assert "Status: 5." in status
        assert "Remote-MTA: dns; mx.sink.test" in status
        assert "Diagnostic-Code: smtp; 5" in status
        assert "Subject: will bounce" in parts[2].as_string(), "the original's header"
        assert "Hello over there" not in parts[2].as_string(), "headers only by default"


def test_unknown_domain_bounces_and_backup_mx_is_used():
    port = peers.free_port()
    with peers.postfix_mailbox_server("backup.test", ip=POSTFIX_IP, port=port) as pf, \
            Setup(port) as s:
        pf.start()
        s.submit(["nobody@no-such-domain.test", "dave@backup.test"], message("two ways"))
        # backup.test: mx1 refuses connections, mx2 (Postfix) takes it.
        wait_for(lambda: pf.mailbox(), "the backup MX to get it")
        bounce = s.wait_inbox(ALICE, 1)[0]
        _, parts = the_bounce(bounce)
        status = parts[1].as_string()
        assert "Final-Recipient: rfc822; nobody@no-such-domain.test" in status
        assert "Status: 5.1.2" in status, status
        assert "dave@backup.test" not in status
        s.wait_queue(lambda q: q == [], "emptied")


def test_expired_message_bounces_with_last_error():
    port = peers.free_port()
    with Setup(port, {"queue.lifetime_seconds": 3}) as s, \
            peers.SmtpSink(SINK_IP, port, soft=["RCPT"]):
        s.submit(["erin@sink.test"], message("too slow"))
        bounce = s.wait_inbox(ALICE, 1)[0]
        _, parts = the_bounce(bounce)
        status = parts[1].as_string()
        assert "Status: 4.4.7" in status, status
        assert "Final-Recipient: rfc822; erin@sink.test" in status
        s.wait_queue(lambda q: q == [], "emptied")


def test_queue_survives_kill_9_and_never_sends_twice():
    port = peers.free_port()
    with peers.postfix_mailbox_server("remote.test", ip=POSTFIX_IP, port=port) as pf, \
            Setup(port) as s:
        for i in range(5):
            s.submit(["bob@remote.test"], message(f"survivor {i}"))
        s.wait_queue(lambda q: len(q) == 5 and all(e["attempts"] >= 1 for e in q), "tried")
        queued = subprocess.run(["pgrep", "-f", f"queued -c {s.inst.config}"],
                                capture_output=True, text=True).stdout.split()
        assert queued, "queued is running"
        for pid in queued:
            os.kill(int(pid), signal.SIGKILL)
        assert len(s.queue()) == 5, "nothing lost: the spool is on disk"
        pf.start()
        # mailctl serve restarts queued; the restart rescans the spool.
        wait_for(lambda: len(pf.mailbox()) == 5, "all five delivered")
        s.wait_queue(lambda q: q == [], "emptied")
        for pid in subprocess.run(["pgrep", "-f", f"queued -c {s.inst.config}"],
                                  capture_output=True, text=True).stdout.split():
            os.kill(int(pid), signal.SIGKILL)
        time.sleep(3)  # a restarted runner finds nothing to send again
        subjects = sorted(email.message_from_bytes(m)["Subject"]
                          for m in pf.mailbox())
        assert subjects == [f"survivor {i}" for i in range(5)]


def test_mailctl_queue_show_retry_delete():
    port = peers.free_port()
    with Setup(port) as s:
        s.submit(["frank@sink.test"], message("inspect me"))
        q = s.wait_queue(lambda q: q and q[0]["attempts"] >= 1, "tried")
        qid = q[0]["id"]
        shown = json.loads(s.inst.ctl("queue", "show", qid, "--json").stdout)
        assert shown["sender"] == ALICE
        assert shown["recipients"][0]["address"] == "frank@sink.test"
        assert "Subject: inspect me" in shown["headers"]
        assert qid in s.inst.ctl("queue", "list").stdout
        refused = s.inst.ctl("queue", "delete", "0" * 24, check=False)
        assert refused.returncode != 0 and len(s.queue()) == 1
        s.inst.ctl("queue", "delete", qid)
        assert s.queue() == []
        time.sleep(2)
        assert s.inbox(ALICE) == [], "delete does not bounce"


def test_submission_refuses_relay_without_auth_and_mx_never_relays():
    port = peers.free_port()
    with Setup(port) as s:
        with smtplib.SMTP("127.0.0.1", s.inst.port("smtp"), timeout=15) as mx:
            code, _ = mx.docmd("EHLO", "client.test")
            assert code == 250
            assert mx.docmd("MAIL", "FROM:<x@elsewhere.test>")[0] == 250
            code, text = mx.docmd("RCPT", "TO:<bob@remote.test>")
            assert code == 554 and b"5.7.1" in text
        assert s.queue() == []


def test_postfix_relays_into_our_smtpd():
    port = peers.free_port()
    with Setup(port) as s:
        main = "relayhost = [127.0.0.1]:{smtp_port}\nsmtp_tls_security_level = may\n"
        with peers.Postfix(main=main, smtp_port=s.inst.port("smtp")) as pf:
            pf.start()
            pf.send("ann@remote.example", ALICE,
                    b"From: Ann <ann@remote.example>\r\nSubject: via relay\r\n\r\nhi\r\n")
            pf.wait_log(r"to=<alice@example\.test>.*relay=127\.0\.0\.1.*status=sent")
            got = s.wait_inbox(ALICE, 1)
            assert b"\r\nSubject: via relay\r\n" in got[0]
            assert b"with ESMTPS" in got[0], "Postfix used STARTTLS with our smtpd"


def mx_send(inst, sender, rcpts, message):
    with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=15) as mx:
        refused = mx.sendmail(sender, rcpts, message)
        assert refused == {}


def fill_mailbox(s, address):
    s.inst.ctl("quota", "set", address, "--messages", "1")
    mx_send(s.inst, "x@elsewhere.test", [address], b"Subject: fill\r\n\r\nfull now\r\n")
    s.wait_inbox(address, 1)


def test_mx_accepts_partial_delivery_and_retries_the_rest_from_the_queue():
    with Setup(peers.free_port()) as s:
        fill_mailbox(s, "bob@example.test")
        # bob is over quota (temporary by default): alice gets it at once,
        # bob's copy waits in the queue instead of a 452 for both.
        mx_send(s.inst, "carol@elsewhere.test", [ALICE, "bob@example.test"],
                b"Subject: half and half\r\n\r\nfor both\r\n")
        assert len(s.wait_inbox(ALICE, 1)) == 1
        q = s.wait_queue(lambda q: len(q) == 1, "holding bob's copy")
        r = q[0]["recipients"]
        assert [x["address"] for x in r] == ["bob@example.test"], r
        assert r[0]["state"] == "pending" and r[0]["last_reply"].startswith("452 4.2.2"), r
        s.inst.ctl("quota", "set", "bob@example.test", "--messages", "10")
        s.inst.ctl("queue", "retry", "--all")
        got = s.wait_inbox("bob@example.test", 2)
        assert any(b"Subject: half and half" in m for m in got)
        s.wait_queue(lambda q: q == [], "emptied")
        assert len(s.inbox(ALICE)) == 1, "alice got it exactly once"


def test_mx_partial_permanent_failure_bounces_to_sender():
    with Setup(peers.free_port(), {"delivery.over_quota": "permanent"}) as s:
        fill_mailbox(s, "bob@example.test")
        mx_send(s.inst, ALICE, [ALICE, "bob@example.test"],
                b"Subject: one gets it\r\n\r\nbody\r\n")
        got = s.wait_inbox(ALICE, 2)
        bounces = [m for m in got if b"multipart/report" in m]
        assert len(bounces) == 1, got
        _, parts = the_bounce(bounces[0])
        status = parts[1].as_string()
        assert "Final-Recipient: rfc822; bob@example.test" in status
        assert "Status: 5.2.2" in status, status
        s.wait_queue(lambda q: q == [], "emptied")
