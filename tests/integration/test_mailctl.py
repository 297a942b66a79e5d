"""mailctl as an admin uses it: init, domains, users, aliases, quotas, serve.

Every refused command must exit non-zero, say why on stderr, and change
nothing (checked by comparing `--json` listings before and after).
"""
import json
import os
import signal
import subprocess
import time

import pytest

from harness import MAILCTL, Instance, mailctl

PASSWORD = "correct horse battery\n"


def listing(inst):
    """Everything the directory holds, as the admin sees it."""
    return {kind: json.loads(inst.ctl(kind, "list", "--json").stdout)
            for kind in ("domain", "user", "alias")}


def test_init_creates_a_complete_instance(stopped_instance):
    d = stopped_instance.dir
    for path in ("postern.json", "data/directory.db", "tls/cert.pem", "tls/key.pem", "run", "queue"):
        assert (d / path).exists(), path
    assert oct((d / "tls/key.pem").stat().st_mode & 0o777) == "0o600"
    domains = json.loads(stopped_instance.ctl("domain", "list", "--json").stdout)
    assert domains == [{"domain": "example.test"}]
    text = (d / "postern.json").read_text()
    assert f"127.0.0.1:{stopped_instance.port('imaps')}" in text
    assert f"127.0.0.1:{stopped_instance.port('smtp')}" in text


def test_init_certificate_names_the_host(stopped_instance):
    out = subprocess.run(["openssl", "x509", "-in", str(stopped_instance.cert), "-noout", "-text"],
                         capture_output=True, text=True, check=True).stdout
    assert "DNS:mail.example.test" in out
    assert "IP Address:127.0.0.1" in out


def test_init_refuses_a_non_empty_directory(stopped_instance):
    before = (stopped_instance.dir / "postern.json").read_bytes()
    proc = mailctl(None, "init", str(stopped_instance.dir), check=False)
    assert proc.returncode != 0
    assert "already exists" in proc.stderr
    assert (stopped_instance.dir / "postern.json").read_bytes() == before


def test_init_rejects_bad_port_base(tmp_path):
    proc = mailctl(None, "init", str(tmp_path / "x"), "--port-base", "70000", check=False)
    assert proc.returncode == 64
    assert "--port-base" in proc.stderr
    assert not (tmp_path / "x").exists()


def test_domain_add_list_del(stopped_instance):
    inst = stopped_instance
    inst.ctl("domain", "add", "Other.Test")
    names = [d["domain"] for d in json.loads(inst.ctl("domain", "list", "--json").stdout)]
    assert sorted(names) == ["example.test", "other.test"]
    inst.ctl("domain", "del", "other.test")
    names = [d["domain"] for d in json.loads(inst.ctl("domain", "list", "--json").stdout)]
    assert names == ["example.test"]


@pytest.mark.parametrize("args, stdin, message", [
    (("domain", "add", "example.test"), None, "exists"),
    (("domain", "add", "not a domain"), None, ""),
    (("domain", "del", "nowhere.test"), None, ""),
    (("user", "add", "bob@nowhere.test", "--password-stdin"), PASSWORD, "unknown domain"),
    (("user", "add", "not-an-address", "--password-stdin"), PASSWORD, ""),
    (("user", "add", "bob@example.test", "--password-stdin"), "short\n", "too short"),
    (("user", "add", "bob@example.test", "--password-stdin"), "\n", "empty"),
    (("user", "add", "bob@example.test", "--password-stdin"), "", "no password"),
    (("user", "add", "bob@example.test", "--password-stdin"), "bob@example.test\n", "address"),
    (("user", "add", "bob@example.test", "--password", "secret123"), None, "not accepted"),
    (("user", "add", "alice@example.test", "--password-stdin"), PASSWORD, "exists"),
    (("user", "passwd", "nobody@example.test", "--password-stdin"), PASSWORD, ""),
    (("user", "del", "nobody@example.test"), None, ""),
    (("user", "show", "nobody@example.test"), None, ""),
    (("alias", "add", "team@example.test", "alice@example.test", "not an address"), None, ""),
    (("alias", "add", "team@nowhere.test", "alice@example.test"), None, ""),
    (("alias", "del", "ghost@example.test"), None, ""),
    (("quota", "set", "alice@example.test", "--bytes", "-5"), None, "number"),
    (("quota", "set", "nobody@example.test", "--bytes", "100"), None, ""),
    (("domain", "del", "example.test"), None, ""),  # still has users
    (("frobnicate",), None, "unknown command"),
])
def test_refused_commands_change_nothing(stopped_instance, args, stdin, message):
    inst = stopped_instance
    inst.add_user("alice@example.test")
    before = listing(inst)
    proc = inst.ctl(*args, stdin=stdin, check=False)
    assert proc.returncode != 0, proc.stdout
    assert proc.stderr.startswith("mailctl: ") or "usage" in proc.stderr
    assert message in proc.stderr
    assert listing(inst) == before


def test_user_lifecycle(stopped_instance):
    inst = stopped_instance
    inst.add_user("Bob@Example.Test")
    users = json.loads(inst.ctl("user", "list", "--json").stdout)
    assert [u["address"] for u in users] == ["Bob@example.test"]
    shown = json.loads(inst.ctl("user", "show", "bob@example.test", "--json").stdout)
    assert set(shown["mailboxes"]) == {"INBOX", "Drafts", "Sent", "Trash", "Junk", "Archive"}
    assert shown["used_messages"] == 0
    inst.ctl("user", "passwd", "bob@example.test", "--password-stdin", stdin="another good password\n")
    inst.ctl("quota", "set", "bob@example.test", "--bytes", "1000000", "--messages", "50")
    shown = json.loads(inst.ctl("user", "show", "bob@example.test", "--json").stdout)
    assert (shown["quota_bytes"], shown["quota_messages"]) == (1000000, 50)
    inst.ctl("user", "del", "bob@example.test")
    assert json.loads(inst.ctl("user", "list", "--json").stdout) == []


def test_password_is_stored_as_argon2id(stopped_instance):
    inst = stopped_instance
    inst.add_user("carol@example.test", "a long enough password")
    db = inst.data_dir / "directory.db"
    dump = subprocess.run(["sqlite3", str(db), ".dump"], capture_output=True, text=True, check=True).stdout
    assert "a long enough password" not in dump
    assert "$argon2id$" in dump


def test_aliases_and_catch_all(stopped_instance):
    inst = stopped_instance
    inst.add_user("alice@example.test")
    inst.ctl("alias", "add", "team@example.test", "alice@example.test", "friend@remote.test")
    inst.ctl("alias", "add", "@example.test", "alice@example.test")
    rows = json.loads(inst.ctl("alias", "list", "--json").stdout)
    assert {(r["alias"], r["target"]) for r in rows} == {
        ("team@example.test", "alice@example.test"),
        ("team@example.test", "friend@remote.test"),
        ("@example.test", "alice@example.test"),
    }
    inst.ctl("alias", "del", "team@example.test")
    rows = json.loads(inst.ctl("alias", "list", "--json").stdout)
    assert [(r["alias"], r["target"]) for r in rows] == [("@example.test", "alice@example.test")]


def test_config_error_names_the_key(stopped_instance):
    cfg = stopped_instance.config
    text = cfg.read_text().replace('"max_recipients": 100', '"max_recipients": 0', 1)
    assert text != cfg.read_text()
    cfg.write_text(text)
    proc = stopped_instance.ctl("serve", check=False)
    assert proc.returncode == 78
    assert "smtp.max_recipients" in proc.stderr


def test_info_prints_client_settings(stopped_instance):
    out = stopped_instance.ctl("info", "--client-settings", "--user", "alice@example.test").stdout
    assert "mail.example.test" in out
    assert "alice@example.test" in out
    assert str(stopped_instance.port("imaps")) in out


def test_serve_starts_daemons_and_stops_on_sigterm(stopped_instance):
    inst = stopped_instance
    inst.add_user("alice@example.test")
    inst.start()
    assert inst.serve.poll() is None
    inst.serve.send_signal(signal.SIGTERM)
    assert inst.serve.wait(timeout=20) == 0
    assert "stopping" in inst.log()
    # No daemon outlives the supervisor.
    time.sleep(0.2)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(inst.config) not in ps


def test_serve_restarts_a_daemon_that_dies(stopped_instance):
    inst = stopped_instance
    inst.add_user("alice@example.test")
    inst.start()
    ps = subprocess.run(["pgrep", "-f", f"mda -c {inst.config}"], capture_output=True, text=True)
    pids = ps.stdout.split()
    assert len(pids) == 1, ps.stdout
    os.kill(int(pids[0]), signal.SIGKILL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        again = subprocess.run(["pgrep", "-f", f"mda -c {inst.config}"], capture_output=True, text=True)
        if again.stdout.split() and again.stdout.split() != pids:
            break
        time.sleep(0.1)
    else:
        pytest.fail("mda was not restarted: " + inst.log())
    assert "child-died" in inst.log()
