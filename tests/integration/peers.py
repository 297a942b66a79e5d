"""Real peers for integration tests, each a private instance on loopback
with its own directory, always stopped by the caller (context managers):

- Postfix: Debian's Postfix with its own config and queue directory and an
  smtpd on a free loopback port; `main` and `master` add lines to the base
  main.cf / master.cf (a transport, a relayhost, a mailbox domain).
- Dnsmasq: a DNS server on a loopback port answering for *.test from the
  records it is given (MX and A), NXDOMAIN for any other name under .test.
- SmtpSink: Postfix's smtp-sink, a test SMTP server that accepts (or
  rejects chosen commands) and dumps each received message into a file.

All need root (Postfix and smtp-sink drop privileges themselves)."""
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from harness import free_port_base, port_free

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
SMTP_SINK = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
WAIT_S = 30

BASE_MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
daemon_directory = /usr/lib/postfix/sbin
command_directory = /usr/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = {hostname}
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
maillog_file_prefixes = {dir}
maillog_file = {dir}/maillog
smtpd_reject_unlisted_recipient = no
"""

BASE_MASTER_CF = """\
{ip}:{port} inet n - n - - smtpd
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
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
smtp      unix  -       -       n       -       -       smtp
lmtp      unix  -       -       n       -       -       lmtp
virtual   unix  -       n       n       -       -       virtual
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def free_port():
    for _ in range(200):
        port = free_port_base() + 25
        if port_free(port):
            return port
    raise RuntimeError("no free port")


def wait_smtp(ip, port):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        try:
            smtplib.SMTP(ip, port, timeout=2).quit()
            return
        except (OSError, smtplib.SMTPException):
            time.sleep(0.1)
    raise TimeoutError(f"no SMTP server answered on {ip}:{port}")


class Postfix:
    def __init__(self, main="", master="", ip="127.0.0.1", port=None,
                 hostname="mx.postfix.test", **fmt):
        self.dir = Path(tempfile.mkdtemp(prefix="postern-postfix-"))
        os.chmod(self.dir, 0o755)
        self.ip = ip
        self.port = port or free_port()
        for sub in ("conf", "queue", "data", "vmail"):
            (self.dir / sub).mkdir()
        shutil.chown(self.dir / "data", user="postfix")
        shutil.chown(self.dir / "vmail", user="nobody", group="nogroup")
        values = dict(dir=self.dir, ip=ip, port=self.port, hostname=hostname, **fmt)
        (self.dir / "conf" / "main.cf").write_text((BASE_MAIN_CF + main).format(**values))
        (self.dir / "conf" / "master.cf").write_text((BASE_MASTER_CF + master).format(**values))
        self.started = False

    def run(self, *args):
        return subprocess.run([POSTFIX, "-c", str(self.dir / "conf")] + list(args),
                              capture_output=True, text=True, timeout=60)

    def start(self):
        r = self.run("start")
        self.started = True
        assert r.returncode == 0, f"postfix start: {r.stdout}{r.stderr}{self.log()}"
        wait_smtp(self.ip, self.port)
        return self

    def stop(self):
        if self.started:
            self.run("stop")
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def log(self):
        p = self.dir / "maillog"
        return p.read_text(errors="replace") if p.exists() else ""

    def send(self, sender, rcpt, message):
        with smtplib.SMTP(self.ip, self.port, timeout=15) as s:
            s.sendmail(sender, [rcpt], message)

    def wait_log(self, pattern):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            m = re.search(pattern, self.log())
            if m:
                return m.group(0)
            time.sleep(0.2)
        raise AssertionError(f"no log line matching {pattern!r}:\n{self.log()}")

    def mailbox(self):
        """Messages Postfix's virtual(8) stored (see MAILBOX_DOMAIN)."""
        new = self.dir / "vmail" / "mailbox" / "new"
        return [p.read_bytes() for p in sorted(new.iterdir())] if new.exists() else []


# main.cf lines that make Postfix the final destination for {domain}:
# virtual(8) stores mail for any of its addresses in vmail/mailbox/ (one
# Maildir: regexp maps may not build paths from the address).
MAILBOX_DOMAIN = """\
virtual_mailbox_domains = {domain}
virtual_mailbox_base = {dir}/vmail
virtual_mailbox_maps = static:mailbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
"""


def postfix_mailbox_server(domain, ip="127.0.0.1", port=None):
    return Postfix(main=MAILBOX_DOMAIN, ip=ip, port=port, domain=domain)


class Dnsmasq:
    """records: {"mx": [(domain, host, pref)], "a": [(host, ip)]}."""

    def __init__(self, mx=(), a=()):
        self.port = free_port()
        args = [DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                "--no-hosts", "--bind-interfaces", "--listen-address=127.0.0.1",
                f"--port={self.port}", "--local=/test/", "--user=nobody",
                "--pid-file=", "--log-facility=-"]
        for domain, host, pref in mx:
            args.append(f"--mx-host={domain},{host},{pref}")
        for host, ip in a:
            args.append(f"--host-record={host},{ip}")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dnsmasq exited: {self.proc.stderr.read().decode()}")
            if not port_free(self.port) or self._answers():
                return
            time.sleep(0.05)
        raise TimeoutError("dnsmasq did not start")

    def _answers(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", self.port))
                return False
            except OSError:
                return True

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class SmtpSink:
    """smtp-sink on ip:port; soft/hard: commands answered 4xx/5xx
    ("RCPT", "MAIL", "DATA", "CONNECT"...)."""

    def __init__(self, ip, port, soft=(), hard=()):
        self.ip, self.port = ip, port
        self.dump = Path(tempfile.mkdtemp(prefix="postern-sink-"))
        os.chmod(self.dump, 0o777)
        args = [SMTP_SINK, "-u", "nobody", "-h", "sink.test", "-d", f"{self.dump}/%H%M%S."]
        if soft:
            args += ["-r", ",".join(soft)]
        if hard:
            args += ["-f", ",".join(hard)]
        args += [f"{ip}:{port}", "50"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)
        wait_smtp(ip, port)

    def messages(self):
        return [p.read_bytes() for p in sorted(self.dump.iterdir())]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def close(self):
        self.stop()
        shutil.rmtree(self.dump, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
