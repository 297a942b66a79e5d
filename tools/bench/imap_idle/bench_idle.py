#!/usr/bin/python3
"""IMAP IDLE memory benchmark: N logged-in connections over implicit TLS,
each idling on INBOX, held open against Postern's imapd and against a private
Debian Dovecot (imap, maildir), one server after the other in one run.
Prints the server's memory per connection for both and the ratio.

    sudo tools/bench/imap_idle/bench_idle.py [--build build] [--connections 5000]
        [--users 50] [--workers 4] [--dovecot-login performance|security]

Needs root (Dovecot starts as root; the script raises RLIMIT_NOFILE and, for
the run only, fs.inotify.max_user_instances). Run by hand; not part of the
test suite. Both servers listen on 127.0.0.1 only, use the same ECDSA P-256
certificate (Postern's `mailctl init` makes it) and are driven the same way:
connect to the implicit-TLS port, TLS handshake, LOGIN, SELECT INBOX (one
message in it), IDLE, and hold.

Memory is read from /proc/PID/smaps_rollup before the first connection and
again once every connection idles (after a settle pause):
- Postern: the imapd process (a child of `mailctl serve`).
- Dovecot: every process of the instance (master and all its descendants:
  imap, imap-login, auth, anvil, log, config, stats). Processes share pages
  (the binary, libraries, the config), so the sum of PSS is the fair figure;
  the RSS sum is printed too (it counts shared pages once per process).
Per connection = (after - before) / N.

Liveness: afterwards one message is delivered over LMTP to a few users, and
each of that user's IDLE connections must show `* n EXISTS`; a run fails
unless at least one of them did within 1 s (the count within 1 s and 5 s is
printed), and unless all N connections were still open at the end.
"""
import argparse
import asyncio
import multiprocessing
import os
import re
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pop3"))
from bench_pop3 import free_base, wait_port, wait_unix  # noqa: E402  (shared helpers)

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "bench password 1"
IO_TIMEOUT_S = 60        # any one IMAP step (handshake, LOGIN, SELECT, IDLE)
OPEN_TIMEOUT_S = 1800    # all N connections must be idling within this
START_TIMEOUT_S = 60     # servers must answer within this
SETTLE_S = 5             # pause before a memory reading
NOTIFY_WITHIN_S = 1.0    # an EXISTS must arrive this soon after delivery
NOTIFY_WAIT_S = 5.0      # how long we look for late ones
HANDSHAKES_IN_FLIGHT = 16  # per client worker; keeps the accept queues short
EXISTS = re.compile(rb"^\* (\d+) EXISTS")


# ---------------------------------------------------------------- helpers

def proc_table():
    """{pid: (ppid, comm)} of every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        out[int(d)] = (ppid, comm)
    return out


def descendants(root, table=None):
    table = table or proc_table()
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def memory(pids):
    """Sums over pids of smaps_rollup's Rss, Pss and Private_Dirty, in bytes,
    and how many processes there were of each comm."""
    table = proc_table()
    total = {"rss": 0, "pss": 0, "private_dirty": 0}
    comms = {}
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue  # exited meanwhile
        for key, field in (("rss", "Rss:"), ("pss", "Pss:"), ("private_dirty", "Private_Dirty:")):
            m = re.search(rf"^{field}\s+(\d+) kB", text, re.M)
            total[key] += int(m.group(1)) * 1024 if m else 0
        comm = table.get(pid, (0, "?"))[1]
        comms[comm] = comms.get(comm, 0) + 1
    total["processes"] = comms
    return total


def stop(proc, grace=30):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def lmtp_deliver(path, rcpt, n):
    """One message to rcpt over LMTP on a unix socket; returns when the
    server has said 250 for it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(IO_TIMEOUT_S)
        s.connect(str(path))
        f = s.makefile("rb")

        def reply():
            while True:
                line = f.readline()
                if not line:
                    raise ConnectionError("LMTP server closed the connection")
                if line[3:4] != b"-":
                    return line[:3]

        reply()
        msg = (b"From: Bench <bench@remote.example>\r\nTo: %s\r\nSubject: wake up %d\r\n"
               b"Message-ID: <wake%d@bench.test>\r\nDate: Wed, 25 Nov 2026 07:00:00 +0000\r\n"
               b"\r\nNew mail while idling.\r\n" % (rcpt.encode(), n, n))
        steps = [b"LHLO bench.test\r\n", b"MAIL FROM:<bench@remote.example>\r\n",
                 b"RCPT TO:<%s>\r\n" % rcpt.encode(), b"DATA\r\n"]
        for cmd, want in zip(steps, (b"250", b"250", b"250", b"354")):
            s.sendall(cmd)
            if (got := reply()) != want:
                raise ConnectionError(f"LMTP {cmd.strip()!r}: got {got!r}, want {want!r}")
        s.sendall(msg + b".\r\n")
        if (got := reply()) != b"250":
            raise ConnectionError(f"LMTP delivery: got {got!r}, want b'250'")
        s.sendall(b"QUIT\r\n")


# ---------------------------------------------------------------- client workers

class IdleConn:
    def __init__(self, user):
        self.user = user
        self.reader = self.writer = None
        self.exists = []   # (monotonic time, n) of every "* n EXISTS" while idling
        self.open = False

    async def expect(self, tag):
        """Lines up to the tagged reply for `tag` (or a continuation when tag is
        b"+"); fails unless it is OK."""
        while True:
            line = await asyncio.wait_for(self.reader.readline(), IO_TIMEOUT_S)
            if not line:
                raise ConnectionError("server closed the connection")
            if tag == b"+" and line.startswith(b"+ "):
                return
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise ConnectionError(f"got {line[:100]!r}, want {tag.decode()} OK")
                return

    async def start(self, port, ctx):
        self.reader, self.writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname=None,
                                    limit=1 << 16), IO_TIMEOUT_S)
        greeting = await asyncio.wait_for(self.reader.readline(), IO_TIMEOUT_S)
        if not greeting.startswith(b"* OK"):
            raise ConnectionError(f"greeting {greeting[:100]!r}")
        self.writer.write(b'a LOGIN "%s" "%s"\r\n' % (self.user.encode(), PASSWORD.encode()))
        await self.expect(b"a")
        self.writer.write(b"b SELECT INBOX\r\n")
        await self.expect(b"b")
        self.writer.write(b"c IDLE\r\n")
        await self.expect(b"+")
        self.open = True

    async def listen(self):
        try:
            while True:
                line = await self.reader.readline()
                if not line:
                    break
                if m := EXISTS.match(line):
                    self.exists.append((time.monotonic(), int(m.group(1))))
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        self.open = False


async def worker_async(pipe, port, users):
    loop = asyncio.get_running_loop()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conns = [IdleConn(u) for u in users]
    tasks = []
    gate = asyncio.Semaphore(HANDSHAKES_IN_FLIGHT)

    async def open_one(c):
        async with gate:
            await c.start(port, ctx)
        tasks.append(asyncio.create_task(c.listen()))

    while True:
        cmd = await loop.run_in_executor(None, pipe.recv)
        if cmd[0] == "open":
            t0 = time.monotonic()
            results = await asyncio.gather(*(open_one(c) for c in conns), return_exceptions=True)
            errors = [repr(r) for r in results if isinstance(r, BaseException)]
            tls = {f"{o.version()} {o.cipher()[0]}" for c in conns if c.open
                   and (o := c.writer.get_extra_info("ssl_object")) is not None}
            pipe.send(("opened", len(conns) - len(errors), errors[:5], time.monotonic() - t0,
                       tls))
        elif cmd[0] == "exists":  # latencies of user's connections since t0
            _, user, t0 = cmd
            lat = [next((t - t0 for t, _ in c.exists if t >= t0 - 1), None)
                   for c in conns if c.user == user]
            pipe.send(("exists", lat))
        elif cmd[0] == "alive":
            pipe.send(("alive", sum(c.open for c in conns)))
        elif cmd[0] == "close":
            for c in conns:
                if c.writer is not None:
                    c.writer.transport.abort()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            pipe.send(("closed",))
            return


def worker_main(pipe, port, users):
    try:
        asyncio.run(worker_async(pipe, port, users))
    except (EOFError, KeyboardInterrupt):
        pass


class Clients:
    """W processes holding the connections (one Python process cannot do 5,000
    TLS handshakes quickly on 2 cores); assignment round-robin, so each
    user's connections are spread over the workers."""

    def __init__(self, port, assignment, workers):
        ctx = multiprocessing.get_context("fork")
        self.procs, self.pipes = [], []
        for w in range(workers):
            ours, theirs = ctx.Pipe()
            p = ctx.Process(target=worker_main, args=(theirs, port, assignment[w::workers]),
                            daemon=True)
            p.start()
            self.procs.append(p)
            self.pipes.append(ours)

    def ask(self, cmd, timeout=IO_TIMEOUT_S):
        for p in self.pipes:
            p.send(cmd)
        out = []
        for p in self.pipes:
            if not p.poll(timeout):
                raise TimeoutError(f"client worker did not answer {cmd[0]!r}")
            out.append(p.recv())
        return out

    def close(self):
        try:
            self.ask(("close",))
        except (OSError, TimeoutError, EOFError):
            pass
        for p in self.procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()


# ---------------------------------------------------------------- servers

class Postern:
    name = "postern"

    def __init__(self, build, work, users, n):
        self.dir = work / "postern"
        self.mailctl = str(build / "tools" / "mailctl" / "mailctl")
        base = free_base([993])
        subprocess.run([self.mailctl, "init", str(self.dir), "--domain", "example.test",
                        "--hostname", "mail.example.test", "--port-base", str(base)],
                       check=True, capture_output=True, timeout=60)
        self.conf = self.dir / "postern.json"
        text = self.conf.read_text()
        # imaps only (and mda, which always runs); caps above N from one IP.
        text, k = re.subn(r'("(smtp|submission|submissions|imap|pop3|pop3s)": )\[[^\]]*\]',
                          r"\1[]", text)
        cap = n + 100
        text, k2 = re.subn(r'"max_total": \d+', f'"max_total": {cap}', text)
        text, k3 = re.subn(r'"max_per_ip": \d+', f'"max_per_ip": {cap}', text)
        if (k, k2, k3) != (6, 1, 1):
            raise RuntimeError(f"postern.json not as expected ({k}, {k2}, {k3} replacements)")
        self.conf.write_text(text)
        for u in users:
            subprocess.run([self.mailctl, "-c", str(self.conf), "user", "add", u,
                            "--password-stdin"], input=(PASSWORD + "\n").encode(),
                           check=True, capture_output=True, timeout=60)
        self.port = base + 993
        self.lmtp = self.dir / "run" / "lmtp.sock"
        self.cert = (self.dir / "tls" / "cert.pem", self.dir / "tls" / "key.pem")
        self.proc = None

    def start(self):
        self.log = open(self.dir / "serve.log", "wb")
        self.proc = subprocess.Popen([self.mailctl, "-c", str(self.conf), "serve"],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_unix(self.lmtp, timeout=START_TIMEOUT_S)
        wait_port(self.port, timeout=START_TIMEOUT_S)

    def pids(self):
        """The imapd process: a child of mailctl serve."""
        table = proc_table()
        found = [p for p in descendants(self.proc.pid, table) if table[p][1] == "imapd"]
        if len(found) != 1:
            raise RuntimeError(f"want one imapd under mailctl serve, found {found}")
        return found

    def stop(self):
        if self.proc is not None:
            stop(self.proc)
            self.proc = None


DOVECOT_CONF = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = plain login
mail_location = maildir:{dir}/mail/%u
first_valid_uid = 1
mail_uid = nobody
mail_gid = nogroup
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
postmaster_address = postmaster@example.test
# Holding N connections. imap keeps Dovecot's default of one process per
# connection (service_count = 1, client_limit = 1); only its process_limit
# (default 1024) is raised.
default_vsz_limit = 256M
mail_max_userip_connections = {per_user}
auth_cache_size = 10M
passdb {{
  driver = passwd-file
  args = {dir}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={dir}/home/%u
}}
service imap {{
  process_limit = {n2}
  client_limit = 1
  service_count = 1
}}
service imap-login {{
{login}
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
service anvil {{
  client_limit = {n4}
}}
service log {{
  client_limit = {n4}
}}
service stats {{
  client_limit = {n4}
}}
service auth {{
  client_limit = {n4}
}}
"""

# Debian's default ("high-security mode"): one imap-login process per
# connection, which stays as the TLS proxy for the session's lifetime.
LOGIN_SECURITY = """\
  service_count = 1
  process_limit = {n2}"""
# "High-performance mode" (Dovecot's documented setting for many
# connections): a few login processes each proxying many TLS connections.
LOGIN_PERFORMANCE = """\
  service_count = 0
  process_min_avail = 2
  client_limit = {n2}
  vsz_limit = 2G"""


class Dovecot:
    name = "dovecot"

    def __init__(self, work, users, n, per_user, login_mode, cert):
        self.dir = work / "dovecot"
        for sub in ("run", "state", "mail", "home"):
            (self.dir / sub).mkdir(parents=True)
        os.chmod(self.dir, 0o755)
        self.port = free_base([0])
        login = (LOGIN_SECURITY if login_mode == "security" else LOGIN_PERFORMANCE)
        limits = dict(n2=n + 200, n4=2 * n + 1000)
        self.conf = self.dir / "dovecot.conf"
        self.conf.write_text(DOVECOT_CONF.format(
            dir=self.dir, port=self.port, cert=cert[0], key=cert[1], per_user=per_user + 10,
            login=login.format(**limits), **limits))
        # SHA512-CRYPT, Debian's doveadm default. Dovecot's auth cache keeps
        # the hash and verifies every login in its single auth process, so a
        # 64 MiB Argon2id would cost minutes over N logins.
        hashed = subprocess.run(["/usr/bin/doveadm", "pw", "-s", "SHA512-CRYPT", "-p", PASSWORD],
                                check=True, capture_output=True, text=True,
                                timeout=60).stdout.strip()
        (self.dir / "passwd").write_text("".join(f"{u}:{hashed}::::::\n" for u in users))
        for sub in ("mail", "home"):
            subprocess.run(["chown", "-R", "nobody:nogroup", str(self.dir / sub)], check=True)
        self.lmtp = self.dir / "run" / "lmtp"
        self.running = False

    def start(self):
        subprocess.run(["/usr/sbin/dovecot", "-c", str(self.conf)], check=True, timeout=60)
        self.running = True
        wait_port(self.port, timeout=START_TIMEOUT_S)
        wait_unix(self.lmtp, timeout=START_TIMEOUT_S)

    def pids(self):
        # Not lmtp: its processes come and go with the deliveries (and exit
        # after idle_kill), and play no part in holding IMAP connections.
        master = int((self.dir / "run" / "master.pid").read_text().strip())
        table = proc_table()
        return [p for p in descendants(master, table) if table[p][1] != "lmtp"]

    def warnings(self):
        try:
            log = (self.dir / "dovecot.log").read_text(errors="replace")
        except OSError:
            return []
        return [l for l in log.splitlines() if "Warning" in l or "Error" in l or "Fatal" in l]

    def stop(self):
        if self.running:
            subprocess.run(["/usr/bin/doveadm", "-c", str(self.conf), "stop"],
                           capture_output=True, timeout=120)
            pid_file = self.dir / "run" / "master.pid"
            deadline = time.monotonic() + 60
            while pid_file.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            if pid_file.exists():  # doveadm stop did not work: kill the master
                try:
                    os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            self.running = False


# ---------------------------------------------------------------- main

def fmt(b):
    return f"{b / 2**20:8.1f} MiB"


def run_one(server, assignment, users, workers, probes, hold):
    """Starts server, opens the connections, measures; returns the figures."""
    server.start()
    # One message in every INBOX first, so SELECT has something to load.
    for i, u in enumerate(users):
        lmtp_deliver(server.lmtp, u, i)
    time.sleep(SETTLE_S)
    before = memory(server.pids())
    clients = Clients(server.port, assignment, workers)
    try:
        replies = clients.ask(("open",), timeout=OPEN_TIMEOUT_S)
        opened = sum(r[1] for r in replies)
        errors = [e for r in replies for e in r[2]]
        elapsed = max(r[3] for r in replies)
        tls = sorted(set().union(*(r[4] for r in replies)))
        print(f"{server.name}: {opened}/{len(assignment)} connections idling after "
              f"{elapsed:.1f} s ({', '.join(tls)})", flush=True)
        if errors:
            print(f"    errors: {errors[:5]}")
        time.sleep(SETTLE_S)
        after = memory(server.pids())
        n = len(assignment)
        # Liveness: a delivery must wake that user's IDLE connections.
        problems = [] if opened == n else [f"only {opened} of {n} connections opened"]
        for k, u in enumerate(probes):
            t0 = time.monotonic()
            lmtp_deliver(server.lmtp, u, 1000 + k)
            done = time.monotonic()
            time.sleep(NOTIFY_WAIT_S)
            lat = [x for r in clients.ask(("exists", u, done)) for x in r[1]]
            got = [x for x in lat if x is not None]
            fast = sum(x <= NOTIFY_WITHIN_S for x in got)
            print(f"    {u}: EXISTS on {fast}/{len(lat)} connections within "
                  f"{NOTIFY_WITHIN_S:.0f} s of delivery, {len(got)}/{len(lat)} within "
                  f"{NOTIFY_WAIT_S:.0f} s (delivery took {done - t0:.2f} s)", flush=True)
            if fast == 0:
                problems.append(f"{u}: no IDLE connection saw EXISTS within {NOTIFY_WITHIN_S} s")
        alive = sum(r[1] for r in clients.ask(("alive",)))
        if alive != n:
            problems.append(f"only {alive} of {n} connections still open at the end")
        final = memory(server.pids())
        if hold:
            print(f"    holding for {hold} s; server pids {server.pids()}", flush=True)
            time.sleep(hold)
    finally:
        clients.close()
    return dict(before=before, after=after, final=final, n=n, alive=alive, problems=problems)


def report(name, r):
    b, a = r["before"], r["after"]
    per_pss = (a["pss"] - b["pss"]) / r["n"]
    per_rss = (a["rss"] - b["rss"]) / r["n"]
    procs = ", ".join(f"{k} {v}" for k, v in sorted(a["processes"].items(), key=lambda kv: -kv[1]))
    print(f"{name}: before PSS {fmt(b['pss'])} RSS {fmt(b['rss'])} | idle PSS {fmt(a['pss'])} "
          f"RSS {fmt(a['rss'])} private dirty {fmt(a['private_dirty'])} | processes: {procs}")
    print(f"{name}: per connection PSS {per_pss / 1024:7.1f} KiB, RSS {per_rss / 1024:7.1f} KiB "
          f"({r['alive']}/{r['n']} alive at the end; after the wake-ups PSS "
          f"{(r['final']['pss'] - b['pss']) / r['n'] / 1024:.1f} KiB)", flush=True)
    return per_pss, per_rss


def raise_limits(n):
    # imapd holds N sockets plus its own; Dovecot's imap-login in performance
    # mode holds two per proxied connection (client and imap process).
    need, want = n + 1000, 4 * n + 10_000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    except (ValueError, OSError):  # no CAP_SYS_RESOURCE (a container): up to the hard limit
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        if hard < need:
            sys.exit(f"RLIMIT_NOFILE hard limit {hard} is below the {need} needed")
    # Each Dovecot imap process (uid nobody) takes one inotify instance for
    # IDLE; past the limit (128 on Debian) it falls back to polling every
    # mailbox_idle_check_interval (30 s). Raised for the run, restored after.
    path = Path("/proc/sys/fs/inotify/max_user_instances")
    old = int(path.read_text())
    if old < n + 1000:
        path.write_text(str(n + 1000))
    return path, old


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--connections", type=int, default=5000)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--workers", type=int, default=4, help="client processes")
    ap.add_argument("--probes", type=int, default=3, help="users woken by a delivery")
    ap.add_argument("--dovecot-login", default="performance", choices=["performance", "security"],
                    help="imap-login mode: a few processes proxying many connections "
                         "(performance) or one process per connection (security, Debian's "
                         "default)")
    ap.add_argument("--only", choices=["postern", "dovecot"], help="measure one server")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--hold", type=int, default=0,
                    help="seconds to keep the connections open after measuring, for "
                         "inspecting the server by hand (gdb, /proc)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: Dovecot must start as root")
    if args.connections % args.users:
        sys.exit("--connections must be a multiple of --users")
    build = Path(args.build).resolve()
    users = [f"u{i + 1}@example.test" for i in range(args.users)]
    per_user = args.connections // args.users
    assignment = [users[i % args.users] for i in range(args.connections)]
    probes = [users[(k * args.users) // args.probes] for k in range(args.probes)]
    sysctl, old_instances = raise_limits(args.connections)
    work = Path(tempfile.mkdtemp(prefix="postern-idlebench-"))
    os.chmod(work, 0o755)  # Dovecot reads mail as nobody
    print(f"{args.connections} connections: {args.users} users x {per_user}, build {build}, "
          f"dovecot imap-login mode {args.dovecot_login}, work {work}", flush=True)
    post = dove = None
    results, failed = {}, False
    try:
        post = Postern(build, work, users, args.connections)
        if args.only != "dovecot":
            try:
                results["postern"] = run_one(post, assignment, users, args.workers, probes, args.hold)
            finally:
                post.stop()
        if args.only != "postern":
            dove = Dovecot(work, users, args.connections, per_user, args.dovecot_login, post.cert)
            try:
                results["dovecot"] = run_one(dove, assignment, users, args.workers, probes, args.hold)
            finally:
                for w in dove.warnings()[:10]:
                    print("    dovecot.log:", w)
                dove.stop()
    finally:
        if post is not None:
            post.stop()
        if dove is not None:
            dove.stop()
        sysctl.write_text(str(old_instances))
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    per = {}
    for name, r in results.items():
        per[name] = report(name, r)
        for p in r["problems"]:
            print(f"    {name} FAILED: {p}")
            failed = True
    if len(per) == 2:
        print(f"ratio postern/dovecot: PSS {per['postern'][0] / per['dovecot'][0]:.3f}, "
              f"RSS {per['postern'][1] / per['dovecot'][1]:.3f} "
              f"(dovecot/postern: PSS {per['dovecot'][0] / per['postern'][0]:.1f}x)")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
