"""pop3d as mail clients use it: Python's poplib for every command, fetchmail,
getmail6 and curl downloading and deleting, over STLS (110) and implicit TLS
(995); and the abuse a server must survive: commands in the wrong state,
unknown commands, overlong lines, bad message numbers, password guessing,
idle clients and clients vanishing mid-RETR.

Messages go in through the mda (LMTP for bulk, pipe mode for one), so the
maildrop is exactly the INBOX a user's IMAP client would see.
"""
import base64
import os
import poplib
import smtplib
import socket
import ssl
import subprocess
import threading
import time

import pytest

from harness import BUILD_DIR, Instance, daemon_built, set_config_value

USER = "alice@example.test"
PASSWORD = "correct horse battery"
MDA = BUILD_DIR / "mda" / "mda"
TIMEOUT_S = 30

pytestmark = pytest.mark.skipif(not (daemon_built("pop3d") and daemon_built("mda")),
                                reason="pop3d and mda must be built")


def message(n, body="Hello.\r\n"):
    return (f"From: sender@example.org\r\nTo: {USER}\r\nSubject: message {n}\r\n"
            f"Message-ID: <m{n}@example.org>\r\n\r\n{body}").encode()


def deliver(inst, messages, rcpt=USER):
    with smtplib.LMTP(str(inst.lmtp_socket), timeout=TIMEOUT_S) as lmtp:
        for m in messages:
            refused = lmtp.sendmail("sender@example.org", [rcpt], m)
            assert refused == {}, refused


def deliver_pipe(inst, msg, rcpt=USER):
    proc = subprocess.run([str(MDA), "-c", str(inst.config), "--", rcpt], input=msg,
                          capture_output=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr


def tls_context(inst):
    return ssl.create_default_context(cafile=str(inst.cert))


def stls_client(inst):
    c = poplib.POP3("127.0.0.1", inst.port("pop3"), timeout=TIMEOUT_S)
    c.stls(tls_context(inst))
    return c


def login(c):
    c.user(USER)
    c.pass_(PASSWORD)
    return c


def expect_err(fn, *args, code=None):
    with pytest.raises(poplib.error_proto) as e:
        fn(*args)
    text = e.value.args[0]
    assert text.startswith(b"-ERR"), text
    if code:
        assert text.startswith(b"-ERR [" + code + b"]"), text
    return text


def message_count(inst):
    c = login(stls_client(inst))
    n = c.stat()[0]
    c.quit()
    return n


def vanish(c):
    """Drops a poplib connection without QUIT (poplib's file holds the socket too)."""
    c.file.close()
    c.sock.close()


def count_when_free(inst, within_s=10):
    """STAT once the previous session's close has released the maildrop."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            return message_count(inst)
        except poplib.error_proto as e:
            assert b"IN-USE" in e.args[0] and time.monotonic() < deadline, e
            time.sleep(0.05)


# ---- poplib: every command ----

def test_every_command_over_stls(instance):
    bodies = [b"Hello.\r\n", b".leading dot\r\n..two dots\r\n", b"bare\nLF\nlines\n"]
    msgs = [message(i, body.decode()) for i, body in enumerate(bodies, 1)]
    deliver(instance, msgs[:2])
    deliver_pipe(instance, msgs[2])
    c = stls_client(instance)
    caps = c.capa()
    for cap in ("TOP", "UIDL", "USER", "SASL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING",
                "IMPLEMENTATION"):
        assert cap in caps, caps
    assert "STLS" not in caps, "STLS must not be offered inside TLS"
    assert caps["SASL"] == ["PLAIN"]
    login(c)
    count, octets = c.stat()
    assert count == 3
    resp, listing, _ = c.list()
    sizes = {int(n): int(s) for n, s in (l.split() for l in listing)}
    assert sum(sizes.values()) == octets
    assert c.list(2).split()[2] == str(sizes[2]).encode()
    for n, m in enumerate(msgs, 1):
        resp, lines, octets_read = c.retr(n)
        want = m.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        got = b"\r\n".join(lines) + b"\r\n"
        # The Received/Return-Path trace added by the mda comes first.
        assert got.endswith(want), (got, want)
        assert len(got) == sizes[n], f"LIST said {sizes[n]}, RETR gave {len(got)}"
    resp, top, _ = c.top(1, 0)
    assert top[-1] == b"" and any(l == b"Subject: message 1" for l in top)
    resp, uidls, _ = c.uidl()
    assert len(uidls) == 3 and len({u.split()[1] for u in uidls}) == 3
    assert c.uidl(3).split()[2] == uidls[2].split()[1]
    assert c.dele(2).startswith(b"+OK")
    expect_err(c.retr, 2)
    assert c.stat()[0] == 2
    assert c.rset().startswith(b"+OK")
    assert c.stat()[0] == 3
    assert c.noop().startswith(b"+OK")
    c.dele(1)
    c.dele(3)
    assert c.quit().startswith(b"+OK")
    c = login(stls_client(instance))
    resp, left, _ = c.uidl()
    assert [u.split()[1] for u in left] == [uidls[1].split()[1]], "only message 2 must remain"
    c.quit()


def test_pop3s_with_auth_plain(instance):
    deliver(instance, [message(1)])
    c = poplib.POP3_SSL("127.0.0.1", instance.port("pop3s"), context=tls_context(instance),
                        timeout=TIMEOUT_S)
    assert c.getwelcome().startswith(b"+OK")
    token = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    assert c._shortcmd("AUTH PLAIN " + token).startswith(b"+OK")
    assert c.stat()[0] == 1
    c.quit()


def test_plaintext_login_refused_before_stls(instance):
    c = poplib.POP3("127.0.0.1", instance.port("pop3"), timeout=TIMEOUT_S)
    assert "USER" not in c.capa() and "STLS" in c.capa()
    expect_err(c.user, USER, code=b"AUTH")
    expect_err(c._shortcmd, "AUTH PLAIN " + base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode(),
               code=b"AUTH")
    c.stls(tls_context(instance))
    login(c)
    c.quit()


def test_plaintext_login_on_loopback_only_when_configured():
    with Instance() as inst:
        inst.add_user(USER, PASSWORD)
        set_config_value(inst, "auth.allow_plaintext_on_loopback", True)
        inst.start()
        c = poplib.POP3("127.0.0.1", inst.port("pop3"), timeout=TIMEOUT_S)
        assert "USER" in c.capa()
        login(c)
        assert c.stat() == (0, 0)
        c.quit()


def test_second_session_gets_in_use(instance):
    a = login(stls_client(instance))
    b = stls_client(instance)
    b.user(USER)
    expect_err(b.pass_, PASSWORD, code=b"IN-USE")
    a.quit()
    b.quit()
    login(stls_client(instance)).quit()  # free again once the first has quit


def test_uidl_stable_across_sessions_and_reindex(instance):
    deliver(instance, [message(i) for i in range(5)])

    def uidls():
        c = login(stls_client(instance))
        out = c.uidl()[1]
        c.quit()
        return out

    first = uidls()
    assert uidls() == first
    instance.stop()
    instance.ctl("reindex", USER)
    instance.start()
    assert uidls() == first, "UIDLs changed after mailctl reindex"


def test_dropped_connection_deletes_nothing(instance):
    deliver(instance, [message(i) for i in range(3)])
    c = login(stls_client(instance))
    c.dele(1)
    c.dele(2)
    vanish(c)
    assert count_when_free(instance) == 3


# ---- bad input ----

def raw_cmd(c, line):
    c._putline(line if isinstance(line, bytes) else line.encode())
    return c._getline()[0]


def test_bad_input_each_gets_err(instance):
    deliver(instance, [message(1), message(2)])
    c = stls_client(instance)
    for cmd in ("STAT", "LIST", "RETR 1", "DELE 1", "NOOP", "RSET", "TOP 1 0", "UIDL", "PASS x"):
        assert raw_cmd(c, cmd).startswith(b"-ERR"), cmd
    assert raw_cmd(c, "XYZZY") == b"-ERR Unknown command"
    assert raw_cmd(c, b"USER " + b"a" * 5000) == b"-ERR Line too long"
    login(c)
    for cmd in ("USER x", "PASS x", "STLS", "AUTH PLAIN", "RETR 0", "RETR 3", "RETR x", "RETR -1",
                "LIST 99999999999", "TOP 1", "TOP 1 x", "UIDL 3"):
        assert raw_cmd(c, cmd).startswith(b"-ERR"), cmd
    c.dele(1)
    for cmd in ("RETR 1", "DELE 1", "LIST 1", "TOP 1 0", "UIDL 1"):
        assert raw_cmd(c, cmd).startswith(b"-ERR"), cmd
    c.rset()
    assert c.stat()[0] == 2
    c.quit()


def test_many_bad_commands_close_the_session(instance):
    c = poplib.POP3("127.0.0.1", instance.port("pop3"), timeout=TIMEOUT_S)
    replies = [raw_cmd(c, "XYZZY") for _ in range(21)]
    assert all(r == b"-ERR Unknown command" for r in replies[:20])
    assert replies[20] == b"-ERR Unknown command"
    assert c._getline()[0].startswith(b"-ERR Too many bad commands")


@pytest.fixture
def tuned_instance():
    """An instance with short timeouts and fast throttling, for abuse tests."""
    inst = Instance()
    try:
        inst.add_user(USER, PASSWORD)
        set_config_value(inst, "pop3.idle_timeout_seconds", 2)
        set_config_value(inst, "auth.failure_delay_ms", 10)
        inst.start()
        yield inst
    finally:
        inst.close()


def test_failed_logins_are_throttled(tuned_instance):
    inst = tuned_instance
    replies = []
    c = stls_client(inst)
    for _ in range(12):
        c.user(USER)
        try:
            c.pass_("guess-8317-xyz")
        except poplib.error_proto as e:
            replies.append(e.args[0])
        if replies[-1].startswith(b"-ERR [SYS/TEMP]"):
            break
    assert replies[0] == b"-ERR [AUTH] Authentication failed"
    assert replies[-1].startswith(b"-ERR [SYS/TEMP]"), replies
    c.user(USER)
    expect_err(c.pass_, PASSWORD, code=b"SYS/TEMP")  # even the right password now
    c.quit()
    log = inst.log()
    assert f"auth-failed rip=127.0.0.1 user={USER}" in log, "fail2ban needs this line"
    assert PASSWORD not in log
    assert "guess-8317-xyz" not in log


def test_idle_client_is_logged_out(tuned_instance):
    deliver(tuned_instance, [message(1)])
    c = login(stls_client(tuned_instance))
    c.dele(1)
    started = time.monotonic()
    assert c._getline()[0] == b"-ERR Disconnected for inactivity"
    assert 1 <= time.monotonic() - started < 10
    assert message_count(tuned_instance) == 1, "an idle logout must not delete"


def pop3d_pid(inst):
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if comm == "pop3d" and ppid == inst.serve.pid:
            return int(pid)
    raise AssertionError("pop3d is not running")


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_big_message_is_streamed_and_a_vanishing_client_is_survived(instance):
    line = b"x" * 78 + b"\r\n"
    big = message(1, (line * (40 * 1024 * 1024 // len(line))).decode())
    deliver(instance, [big])
    pid = pop3d_pid(instance)
    s = socket.create_connection(("127.0.0.1", instance.port("pop3s")), timeout=TIMEOUT_S)
    s = tls_context(instance).wrap_socket(s, server_hostname="127.0.0.1")
    f = s.makefile("rb")
    f.readline()
    # Log in first: Argon2id briefly takes its 64 MiB, which is not RETR's doing.
    s.sendall(f"USER {USER}\r\nPASS {PASSWORD}\r\n".encode())
    assert f.readline().startswith(b"+OK")
    assert f.readline().startswith(b"+OK")
    time.sleep(0.5)
    baseline = rss_kib(pid)
    peak = [baseline]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib(pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        s.sendall(b"RETR 1\r\n")
        size = int(f.readline().split()[1])
        got = 0
        while True:
            chunk = f.readline()
            if chunk == b".\r\n":
                break
            got += len(chunk) - (1 if chunk.startswith(b"..") else 0)
        assert got == size
        f.close()
        s.close()
    finally:
        done.set()
        sampler.join()
    grown = peak[0] - baseline
    print(f"pop3d RSS baseline {baseline} KiB, peak during a 40 MiB RETR {peak[0]} KiB")
    # Under ASan its quarantine keeps up to 256 MiB of freed memory: RSS says nothing there.
    if os.environ.get("POSTERN_SANITIZED") != "1":
        assert grown < 16 * 1024, f"RSS grew by {grown} KiB during a 40 MiB RETR"

    # Now a client that vanishes after the first megabyte.
    s = socket.create_connection(("127.0.0.1", instance.port("pop3s")), timeout=TIMEOUT_S)
    s = tls_context(instance).wrap_socket(s, server_hostname="127.0.0.1")
    f = s.makefile("rb")
    f.readline()
    s.sendall(f"USER {USER}\r\nPASS {PASSWORD}\r\nRETR 1\r\n".encode())
    f.read(1 << 20)
    f.close()
    s.close()
    assert count_when_free(instance) == 1
    assert pop3d_pid(instance) == pid, "pop3d restarted"


# ---- real download clients ----

MANY = 300


def fetchmail(inst, tmp_path, port, ssl_mode):
    out = tmp_path / f"fetched-{port}"
    rc = tmp_path / f"fetchmailrc-{port}"
    rc.write_text(
        "set no syslog\n"
        f'poll 127.0.0.1 service {port} protocol pop3 auth password timeout 20:\n'
        f'  user "{USER}" there with password "{PASSWORD}" is "nobody" here\n'
        f'  {ssl_mode} sslcertck sslcertfile "{inst.cert}" sslcommonname "{inst.hostname}"\n'
        f'  mda "cat >> {out}"\n')
    rc.chmod(0o600)
    env = dict(os.environ, FETCHMAILHOME=str(tmp_path), HOME=str(tmp_path))
    proc = subprocess.run(["fetchmail", "-f", str(rc), "--nodetach", "--pidfile",
                           str(tmp_path / f"fetchmail-{port}.pid")],
                          capture_output=True, text=True, timeout=180, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out.read_bytes()


@pytest.mark.parametrize("service,ssl_mode", [("pop3", "sslproto TLS1.2+"), ("pop3s", "ssl")])
def test_fetchmail_downloads_and_deletes(instance, tmp_path, service, ssl_mode):
    deliver(instance, [message(i) for i in range(MANY)])
    got = fetchmail(instance, tmp_path, instance.port(service), ssl_mode)
    for i in range(MANY):
        assert f"Subject: message {i}\n".encode() in got.replace(b"\r\n", b"\n"), i
    assert message_count(instance) == 0


def test_getmail_downloads_and_deletes_over_pop3s(instance, tmp_path):
    deliver(instance, [message(i) for i in range(MANY)])
    mbox = tmp_path / "mbox"
    mbox.write_bytes(b"")
    (tmp_path / "getmailrc").write_text(
        "[retriever]\ntype = SimplePOP3SSLRetriever\nserver = 127.0.0.1\n"
        f"port = {instance.port('pop3s')}\nusername = {USER}\npassword = {PASSWORD}\n"
        f"ca_certs = {instance.cert}\ntimeout = 20\n"
        # MDA_external, because getmail's mbox writers refuse to run as root (CI).
        f"[destination]\ntype = MDA_external\npath = /bin/sh\n"
        f"arguments = (\"-c\", \"cat >> {mbox}\")\nallow_root_commands = true\n"
        "[options]\ndelete = true\nread_all = true\nverbose = 0\n")
    proc = subprocess.run(["getmail", "--getmaildir", str(tmp_path), "--rcfile", "getmailrc"],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = mbox.read_bytes()
    for i in range(MANY):
        assert f"Subject: message {i}\n".encode() in got, i
    assert message_count(instance) == 0


@pytest.mark.parametrize("scheme,service", [("pop3", "pop3"), ("pop3s", "pop3s")])
def test_curl_list_and_retr(instance, scheme, service):
    msgs = [message(1, ".dot line\r\nend\r\n"), message(2)]
    deliver(instance, msgs)
    url = f"{scheme}://127.0.0.1:{instance.port(service)}/"
    base = ["curl", "-sS", "--max-time", "20", "--ssl-reqd", "--cacert", str(instance.cert),
            "-u", f"{USER}:{PASSWORD}"]
    listing = subprocess.run(base + [url], capture_output=True, timeout=30)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.decode().split("\r\n")
    assert [l.split()[0] for l in lines if l] == ["1", "2"], listing.stdout
    retr = subprocess.run(base + [url + "1"], capture_output=True, timeout=30)
    assert retr.returncode == 0, retr.stderr
    assert retr.stdout.endswith(b"Subject: message 1\r\nMessage-ID: <m1@example.org>\r\n\r\n"
                                b".dot line\r\nend\r\n"), retr.stdout[-200:]
    assert len(retr.stdout) == int(lines[0].split()[1])


# ---- what an IMAP session on the same INBOX sees ----

@pytest.mark.skipif(not daemon_built("imapd"), reason="imapd not built")
def test_imap_session_sees_pop3_deletes_as_expunges(instance):
    import imaplib
    deliver(instance, [message(i) for i in range(3)])
    imap = imaplib.IMAP4("127.0.0.1", instance.port("imap"), timeout=TIMEOUT_S)
    imap.starttls(tls_context(instance))
    imap.login(USER, PASSWORD)
    typ, data = imap.select("INBOX")
    assert typ == "OK" and int(data[0]) == 3
    c = login(stls_client(instance))
    c.dele(1)
    c.dele(3)
    assert c.quit().startswith(b"+OK")
    deadline = time.monotonic() + 10
    expunged = []
    while len(expunged) < 2 and time.monotonic() < deadline:
        imap.noop()
        expunged += imap.untagged_responses.pop("EXPUNGE", [])
        time.sleep(0.1)
    assert len(expunged) == 2, "IMAP must see two EXPUNGEs"
    typ, data = imap.search(None, "ALL")
    assert data[0].split() == [b"1"]
    typ, data = imap.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"message 1" in data[0][1]
    imap.logout()
