"""`mailctl queue list|show|retry|delete` on a spool written by the test.

Nothing enqueues yet, so `spool_message` writes env/<id> and msg/<id> in the
format of storage/queue_spool.h and queue_envelope.h. A refused command must
exit non-zero, say why on stderr and change nothing (compared by listing
the spool's files and `queue list --json` before and after). A message
locked by another process (the queue runner delivering it) is never deleted.
"""
import fcntl
import json
import os
import secrets
import shutil
import threading
import time

import pytest

EX_DATAERR = 65
EX_NOINPUT = 66
EX_TEMPFAIL = 75

HEADERS = "Received: from client.example.test\r\nFrom: alice@example.test\r\nSubject: hello\r\n"
BODY = "the body must not be shown\r\n"


def queue_dir(inst):
    return inst.dir / "queue"


def new_id(micros):
    return f"{micros:016x}{secrets.randbits(32):08x}"


def recipient(address, state="pending", last_reply="", remote_host="", next_attempt=0,
              attempts=0):
    return {"address": address, "orcpt": "", "notify": [], "state": state,
            "last_reply": last_reply, "remote_host": remote_host, "bounced": False,
            "next_attempt": next_attempt, "attempts": attempts}


def spool_message(inst, recipients, sender="alice@example.test", arrival=1764061884,
                  next_attempt=0, message=HEADERS + "\r\n" + BODY):
    """Writes one committed message as the spool format demands; returns its
    envelope as `queue show --json` prints it (without "headers")."""
    root = queue_dir(inst)
    for sub in ("tmp", "msg", "env"):
        (root / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
    data = message.encode()
    envelope = {"id": new_id(arrival * 1000000 + len(list((root / "env").iterdir()))),
                "sender": sender, "envid": "", "ret_full": False, "smtputf8": False,
                "eight_bit": False, "submitted_by": sender, "arrival": arrival,
                "next_attempt": next_attempt, "attempts": 0, "size": len(data),
                "recipients": recipients}
    (root / "msg" / envelope["id"]).write_bytes(data)
    (root / "env" / envelope["id"]).write_text(json.dumps(envelope, indent=2))
    return envelope


def queue_json(inst):
    return json.loads(inst.ctl("queue", "list", "--json").stdout)


def snapshot(inst):
    """Everything in the spool: file names and contents, and the listing."""
    files = {str(p.relative_to(queue_dir(inst))): p.read_bytes()
             for p in sorted(queue_dir(inst).rglob("*")) if p.is_file()}
    return files, queue_json(inst)


class HeldLock:
    """flock on msg/<id>, as the queue runner holds it during delivery."""

    def __init__(self, inst, message_id):
        self.fd = os.open(queue_dir(inst) / "msg" / message_id, os.O_RDONLY)
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


@pytest.fixture
def queue(stopped_instance):
    """An instance whose queue holds two messages: a bounce (null sender,
    one recipient) and a message with one pending and one delivered recipient."""
    inst = stopped_instance
    bounce = spool_message(inst, [recipient("alice@remote.test")], sender="",
                           arrival=1764061000)
    mail = spool_message(inst, [
        recipient("bob@remote.test", "pending", "451 4.7.1 greylisted, try later",
                  "mx.remote.test", next_attempt=1764069999, attempts=2),
        recipient("carol@remote.test", "delivered", "250 2.0.0 ok", "mx2.remote.test",
                  attempts=1),
    ], arrival=1764061884, next_attempt=1764069999)
    return inst, bounce, mail


def test_empty_queue(stopped_instance):
    inst = stopped_instance
    assert queue_json(inst) == []
    text = inst.ctl("queue", "list").stdout
    assert text.split() == ["id", "arrival", "size", "sender", "pending", "next_attempt",
                            "last_reply"]


def test_missing_queue_dir_lists_empty_and_stays_missing(stopped_instance):
    inst = stopped_instance
    shutil.rmtree(queue_dir(inst))
    assert queue_json(inst) == []
    assert not queue_dir(inst).exists()
    proc = inst.ctl("queue", "show", "0006447a9b1c2d3e01234567", check=False)
    assert proc.returncode == EX_NOINPUT, proc.stderr
    assert not queue_dir(inst).exists()


def test_list(queue):
    inst, bounce, mail = queue
    assert queue_json(inst) == [bounce, mail]
    lines = inst.ctl("queue", "list").stdout.splitlines()
    assert len(lines) == 3, lines
    assert lines[1].split()[:6] == [bounce["id"], "2025-11-25T08:56:40Z", str(bounce["size"]),
                                    "<>", "1/1", "now"]
    assert lines[2].split()[:6] == [mail["id"], "2025-11-25T09:11:24Z", str(mail["size"]),
                                    "alice@example.test", "1/2", "2025-11-25T11:26:39Z"]
    assert lines[2].endswith("451 4.7.1 greylisted, try later")
    assert lines[1].rstrip().endswith("-")


def test_show(queue):
    inst, _, mail = queue
    shown = json.loads(inst.ctl("queue", "show", mail["id"], "--json").stdout)
    assert shown.pop("headers") == HEADERS
    assert shown == mail
    text = inst.ctl("queue", "show", mail["id"]).stdout
    for want in (f"id: {mail['id']}", "sender: alice@example.test", "recipient: bob@remote.test",
                 "state: pending", "last_reply: 451 4.7.1 greylisted, try later",
                 "remote_host: mx.remote.test", "recipient: carol@remote.test",
                 "state: delivered", "remote_host: mx2.remote.test", "Subject: hello"):
        assert want in text, f"want {want!r} in:\n{text}"
    assert "the body" not in text
    assert "\r" not in text


def test_show_headers_only_up_to_64k(stopped_instance):
    inst = stopped_instance
    big = "X-Filler: " + "a" * 100 + "\r\n"
    message = big * 1000 + "\r\nbody\r\n"
    env = spool_message(inst, [recipient("bob@remote.test")], message=message)
    shown = json.loads(inst.ctl("queue", "show", env["id"], "--json").stdout)
    assert len(shown["headers"]) == 64 * 1024
    assert "body" not in shown["headers"]


@pytest.mark.parametrize("message_id, code", [
    ("0006447a9b1c2d3e01234567", EX_NOINPUT),
    ("../env/x", EX_DATAERR),
    ("0006447A9B1C2D3E01234567", EX_DATAERR),
])
def test_show_refuses_unknown_ids(queue, message_id, code):
    inst = queue[0]
    proc = inst.ctl("queue", "show", message_id, check=False)
    assert proc.returncode == code, proc.stderr
    assert message_id in proc.stderr


def test_retry_one_and_all(queue):
    inst, bounce, mail = queue
    later = spool_message(inst, [recipient("dan@remote.test", next_attempt=1764079999)],
                          arrival=1764062000, next_attempt=1764079999)
    out = inst.ctl("queue", "retry", mail["id"]).stdout
    assert mail["id"] in out
    listed = {e["id"]: e for e in queue_json(inst)}
    assert listed[mail["id"]]["next_attempt"] == 0
    assert listed[mail["id"]]["recipients"][0]["next_attempt"] == 0
    assert listed[mail["id"]]["recipients"][0]["attempts"] == 2
    assert listed[mail["id"]]["recipients"][1] == mail["recipients"][1]
    assert listed[later["id"]] == later
    inst.ctl("queue", "retry", "--all")
    assert all(e["next_attempt"] == 0 for e in queue_json(inst))
    assert not list((queue_dir(inst) / "tmp").iterdir())


def test_retry_waits_for_a_delivery_in_progress(queue):
    inst, _, mail = queue
    lock = HeldLock(inst, mail["id"])
    timer = threading.Timer(1.0, lock.release)
    timer.start()
    try:
        started = time.monotonic()
        inst.ctl("queue", "retry", mail["id"])
        assert time.monotonic() - started >= 0.9
    finally:
        timer.cancel()
        lock.release()
    assert {e["id"]: e for e in queue_json(inst)}[mail["id"]]["next_attempt"] == 0


def test_retry_refuses_unknown_id(queue):
    inst = queue[0]
    before = snapshot(inst)
    proc = inst.ctl("queue", "retry", "0006447a9b1c2d3e01234567", check=False)
    assert proc.returncode == EX_NOINPUT
    assert "0006447a9b1c2d3e01234567" in proc.stderr
    assert snapshot(inst) == before


def test_delete(queue):
    inst, bounce, mail = queue
    out = inst.ctl("queue", "delete", bounce["id"]).stdout
    assert bounce["id"] in out
    assert queue_json(inst) == [mail]
    assert not (queue_dir(inst) / "msg" / bounce["id"]).exists()
    assert not (queue_dir(inst) / "env" / bounce["id"]).exists()
    inst.ctl("queue", "delete", "--all")
    assert queue_json(inst) == []
    assert not list((queue_dir(inst) / "msg").iterdir())


@pytest.mark.parametrize("ids, named, code", [
    (["0006447a9b1c2d3e01234567"], "0006447a9b1c2d3e01234567", EX_NOINPUT),
    (["../msg"], "../msg", EX_DATAERR),
    (["", ], "\"\"", EX_DATAERR),
    (["BOUNCE", "0006447a9b1c2d3e01234567"], "0006447a9b1c2d3e01234567", EX_NOINPUT),
    (["BOUNCE", "MAIL", "nonsense"], "nonsense", EX_DATAERR),
])
def test_refused_delete_changes_nothing(queue, ids, named, code):
    inst, bounce, mail = queue
    ids = [{"BOUNCE": bounce["id"], "MAIL": mail["id"]}.get(i, i) for i in ids]
    before = snapshot(inst)
    proc = inst.ctl("queue", "delete", *ids, check=False)
    assert proc.returncode == code, proc.stderr
    assert named in proc.stderr
    assert snapshot(inst) == before


@pytest.mark.parametrize("args", [["MAIL"], ["BOUNCE", "MAIL"], ["--all"]])
def test_delete_of_a_message_being_delivered_is_refused(queue, args):
    inst, bounce, mail = queue
    args = [{"BOUNCE": bounce["id"], "MAIL": mail["id"]}.get(a, a) for a in args]
    before = snapshot(inst)
    with HeldLock(inst, mail["id"]):
        proc = inst.ctl("queue", "delete", *args, check=False)
        assert proc.returncode == EX_TEMPFAIL, proc.stderr
        assert mail["id"] in proc.stderr
        assert snapshot(inst) == before
    inst.ctl("queue", "delete", mail["id"])
    assert queue_json(inst) == [bounce]


def test_usage_errors(queue):
    inst = queue[0]
    before = snapshot(inst)
    for args in (["queue"], ["queue", "frobnicate"], ["queue", "delete"],
                 ["queue", "delete", "--all", queue[1]["id"]], ["queue", "retry"],
                 ["queue", "show"], ["queue", "list", "extra"]):
        proc = inst.ctl(*args, check=False)
        assert proc.returncode == 64, (args, proc.stderr)
        assert "usage" in proc.stderr
    assert snapshot(inst) == before
