"""Integration harness: a real Postern instance on loopback, as a user runs it.

`Instance` runs `mailctl init` in a temporary directory with free loopback
ports, adds users with `mailctl user add`, starts everything with
`mailctl serve`, waits until the services answer, and always tears down
(SIGTERM to the supervisor, SIGKILL after a grace period), even when a test
fails. Tests use it through the `instance` fixture in conftest.py.
"""
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

BUILD_DIR = Path(os.environ.get("POSTERN_BUILD_DIR", Path(__file__).resolve().parents[2] / "build"))
MAILCTL = BUILD_DIR / "tools" / "mailctl" / "mailctl"

# Standard ports; `mailctl init --port-base N` puts each service at N + port.
SERVICE_PORTS = {"smtp": 25, "submission": 587, "submissions": 465, "imap": 143,
                 "imaps": 993, "pop3": 110, "pop3s": 995}
# The daemon that serves each service; a service is up only if it is built.
SERVICE_DAEMON = {"smtp": "smtpd", "submission": "submissiond", "submissions": "submissiond",
                  "imap": "imapd", "imaps": "imapd", "pop3": "pop3d", "pop3s": "pop3d"}

START_TIMEOUT_S = 20
STOP_GRACE_S = 15


def daemon_built(name):
    return (BUILD_DIR / ("smtpd" if name == "submissiond" else name) / name).exists()


def port_free(port):
    # SO_REUSEADDR as the daemons use it: a port with only TIME_WAIT
    # connections left from an earlier test is free for a listener.
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


# Bases keep every service port (base + 25 ... base + 995) below Linux's
# ephemeral range (32768 and up), where the tests' own client sockets live.
PORT_BASE_RANGE = (11000, 31000)


def free_port_base():
    """A base N such that N + every standard port is free on loopback."""
    for _ in range(200):
        base = random.randrange(*PORT_BASE_RANGE, 10)
        if all(port_free(base + p) for p in SERVICE_PORTS.values()):
            return base
    raise RuntimeError("no free port base found")


def mailctl(config, *args, stdin=None, check=True):
    cmd = [str(MAILCTL)] + (["-c", str(config)] if config else []) + list(args)
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr}")
    return proc


def wait_for_port(port, deadline):
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"port {port} did not answer within {START_TIMEOUT_S}s")


def wait_for_unix_socket(path, deadline):
    while time.monotonic() < deadline:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(1)
                s.connect(str(path))
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"unix socket {path} did not answer within {START_TIMEOUT_S}s")


class Instance:
    def __init__(self, domain="example.test", hostname="mail.example.test"):
        self.domain = domain
        self.hostname = hostname
        self.dir = Path(tempfile.mkdtemp(prefix="postern-it-"))
        self.base = free_port_base()
        self.config = self.dir / "postern.json"
        self.serve = None
        self.log_path = self.dir / "serve.log"
        mailctl(None, "init", str(self.dir), "--domain", domain, "--hostname", hostname,
                "--port-base", str(self.base))

    def port(self, service):
        return self.base + SERVICE_PORTS[service]

    @property
    def data_dir(self):
        return self.dir / "data"

    @property
    def lmtp_socket(self):
        return self.dir / "run" / "lmtp.sock"

    @property
    def cert(self):
        return self.dir / "tls" / "cert.pem"

    def ctl(self, *args, stdin=None, check=True):
        return mailctl(self.config, *args, stdin=stdin, check=check)

    def add_user(self, address, password="correct horse battery"):
        self.ctl("user", "add", address, "--password-stdin", stdin=password + "\n")
        return address, password

    def start(self):
        log = open(self.log_path, "wb")
        self.serve = subprocess.Popen([str(MAILCTL), "-c", str(self.config), "serve"],
                                      stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        if daemon_built("mda"):
            wait_for_unix_socket(self.lmtp_socket, deadline)
        for service, daemon in SERVICE_DAEMON.items():
            if daemon_built(daemon):
                wait_for_port(self.port(service), deadline)
        return self

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self):
        if self.serve is None:
            return
        if self.serve.poll() is None:
            self.serve.send_signal(signal.SIGTERM)
            try:
                self.serve.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.serve.pid, signal.SIGKILL)
                self.serve.wait(timeout=5)
        self.serve = None

    def close(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def set_config_value(instance, dotted_key, value):
    """Sets one key of an instance's postern.json (JSON with comments) before
    start(), e.g. set_config_value(inst, "pop3.idle_timeout_seconds", 2).
    The key must already be in the file (mailctl init writes every key)."""
    section, key = dotted_key.split(".", 1)
    text = instance.config.read_text()
    start = re.search(r'^\s*"%s"\s*:\s*\{' % re.escape(section), text, re.M)
    if start is None:
        raise KeyError(dotted_key)
    end = re.compile(r'^\s*\}', re.M).search(text, start.end())  # sections are flat
    pattern = re.compile(r'^(\s*"%s"\s*:\s*)([^,\n]*)' % re.escape(key), re.M)
    match = pattern.search(text, start.end(), end.start() if end else len(text))
    if match is None:
        raise KeyError(dotted_key)
    text = text[:match.start(2)] + json.dumps(value) + text[match.end(2):]
    instance.config.write_text(text)
