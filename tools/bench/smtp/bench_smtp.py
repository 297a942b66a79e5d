#!/usr/bin/python3
"""Inbound SMTP benchmark: Postfix's smtp-source sends the same load to
Postern (smtpd -> mda -> Maildir + index) and to a private Debian Postfix
that hands every message to a private Debian Dovecot LMTP (maildir), on one
machine in one run, alternating the order over rounds. Prints the median
rates (messages durably in the mailbox per second) and the ratio.

    sudo tools/bench/smtp/bench_smtp.py [--build build] [--messages 10000]
        [--sessions 20] [--size 5120] [--users 10] [--rounds 3]
        [--dovecot-fsync optimized,always] [--reuse]

Needs root (Postfix and Dovecot start as root and drop privileges). Run by
hand; not part of the test suite. Everything listens on 127.0.0.1 only.

Load: one smtp-source per user (users x smtp-source -s sessions/users
-m messages/users -t userK@example.test), so the recipients spread evenly
over the users and the sessions run in parallel. Each message is
--size bytes of smtp-source payload plus its few header lines. By default
smtp-source opens a new connection for every message (as most inbound
senders do); --reuse (-d) keeps each session's connection.

Durability is the same on both sides: Postern's smtpd replies 250 only
after mda has fsynced the message and its index; Postfix fsyncs its queue
file before 250 and Dovecot (mail_fsync optimized or always) fsyncs the
message file before its LMTP 250.

Measured, from the start of smtp-source until every message is durably in
its mailbox:
- Postern: until every smtp-source has exited (its 250 means delivered);
  the Maildir files are then counted.
- Postfix + Dovecot: until the Maildirs hold every message and Postfix's
  queue is empty. The time at which smtp-source exited (acceptance) is
  printed too.
CPU per message: the servers run as our (grand)children (mailctl serve,
postfix start-fg, dovecot -F), so RUSAGE_CHILDREN after they exit holds
all their processes' CPU, start-up and shutdown included; smtp-source's
own CPU is subtracted and printed apart.
"""
import argparse
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from peers import POSTFIX, Postfix, wait_smtp  # noqa: E402  (path set just above)
sys.path.insert(0, str(ROOT / "tools" / "bench" / "pop3"))
from bench_pop3 import free_base, wait_port, wait_unix  # noqa: E402  (shared helpers)

SMTP_SOURCE = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
DOVECOT = "/usr/sbin/dovecot"
DOMAIN = "example.test"
SENDER = "bench@remote.example"
START_TIMEOUT_S = 30
POLL_S = 0.1
PASSWORD = "bench password 1"


def count_new(root, glob):
    """Files in every new/ directory matched by glob under root."""
    n = 0
    for d in root.glob(glob):
        try:
            n += sum(1 for e in os.scandir(d) if e.is_file())
        except FileNotFoundError:
            pass
    return n


class Load:
    """The smtp-source processes of one run: one per user."""

    def __init__(self, args, users, port):
        self.cmds = []
        per_user = args.messages // len(users)
        sessions = max(1, args.sessions // len(users))
        for u in users:
            cmd = [SMTP_SOURCE, "-4", "-s", str(sessions), "-m", str(per_user),
                   "-l", str(args.size), "-f", SENDER, "-t", u, "-M", "client.remote.example",
                   "-S", "bench"]
            if args.reuse:
                cmd.append("-d")
            self.cmds.append(cmd + [f"127.0.0.1:{port}"])

    def run(self, timeout):
        """Starts all, waits for all; returns (seconds, [error texts])."""
        start = time.monotonic()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                 for c in self.cmds]
        errors = []
        for p in procs:
            left = max(1.0, timeout - (time.monotonic() - start))
            try:
                out, _ = p.communicate(timeout=left)
            except subprocess.TimeoutExpired:
                p.kill()
                out, _ = p.communicate()
                errors.append("smtp-source timed out")
                continue
            if p.returncode != 0:
                errors.append(f"smtp-source exit {p.returncode}: {out.decode()[-300:]}")
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu = ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime
        return time.monotonic() - start, errors


# ---------------------------------------------------------------- Postern

TICK = os.sysconf("SC_CLK_TCK")


def daemon_cpu(serve_pid):
    """{name: CPU seconds (user + system)} of serve's children so far."""
    out = {}
    for task in Path(f"/proc/{serve_pid}/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except FileNotFoundError:
                continue
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
            out[name] = out.get(name, 0) + (int(fields[11]) + int(fields[12])) / TICK
    return out

def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def set_key(text, section, key, value):
    """Replaces one key's value in postern.json's section (sections are flat)."""
    start = re.search(r'^\s*"%s"\s*:\s*\{' % section, text, re.M)
    end = re.compile(r'^\s*\}', re.M).search(text, start.end())
    pat = re.compile(r'^(\s*"%s"\s*:\s*)([^,\n]*)' % key, re.M)
    m = pat.search(text, start.end(), end.start())
    if m is None:
        raise KeyError(f"{section}.{key}")
    return text[:m.start(2)] + value + text[m.end(2):]


def run_postern(args, work, users):
    build = Path(args.build).resolve()
    mailctl = str(build / "tools" / "mailctl" / "mailctl")
    d = work / "postern"
    base = free_base([25, 110, 143, 465, 587, 993, 995])
    subprocess.run([mailctl, "init", str(d), "--domain", DOMAIN, "--hostname",
                    "mail.example.test", "--port-base", str(base)],
                   check=True, capture_output=True, timeout=60)
    conf = d / "postern.json"
    text = conf.read_text()
    # All sessions come from 127.0.0.1; smtp-source may open the next
    # connection before the server has seen the previous one close.
    text = set_key(text, "connections", "max_per_ip", "10000")
    conf.write_text(text)
    for u in users:
        subprocess.run([mailctl, "-c", str(conf), "user", "add", u, "--password-stdin"],
                       input=(PASSWORD + "\n").encode(), check=True, capture_output=True,
                       timeout=60)
    log = open(work / "postern-serve.log", "wb")
    cpu_start = children_cpu()
    env = dict(os.environ)
    if args.postern_pool:
        # Experiment only: libuv's pool size for every daemon serve starts
        # (smtpd runs each LMTP hand-off on it; mda's default is its own).
        env["UV_THREADPOOL_SIZE"] = str(args.postern_pool)
    proc = subprocess.Popen([mailctl, "-c", str(conf), "serve"], stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True, env=env)
    try:
        wait_unix(d / "run" / "lmtp.sock")
        port = base + 25
        wait_port(port)
        cpu0 = daemon_cpu(proc.pid)
        load = Load(args, users, port)
        secs, errors = load.run(args.max_seconds)
        cpu1 = daemon_cpu(proc.pid)
        cpu = {k: v - cpu0.get(k, 0) for k, v in cpu1.items()}
        cpu["smtp-source"] = load.cpu
        stored = count_new(d / "data" / "users", "*/*/Maildir/new")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        log.close()
    cpu["servers"] = children_cpu() - cpu_start - load.cpu
    return {"secs": secs, "accept": secs, "stored": stored, "errors": errors, "cpu": cpu}


# ---------------------------------------------------------------- Postfix + Dovecot

DOVECOT_CONF = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = lmtp
ssl = no
listen = 127.0.0.1
mail_location = maildir:{dir}/mail/%d/%n/Maildir
mail_fsync = {fsync}
first_valid_uid = 1
mail_uid = nobody
mail_gid = nogroup
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
lmtp_save_to_detail_mailbox = no
passdb {{
  driver = static
  args = nopassword=y
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={dir}/home/%d/%n
}}
service lmtp {{
  unix_listener {dir}/lmtp.sock {{
    mode = 0666
  }}
  process_min_avail = {procs}
}}
"""

# Postfix is the final destination for the domain and hands every message
# to Dovecot's LMTP (the usual Postfix + Dovecot setup); everything else is
# Debian's default. virtual_mailbox_maps only satisfies the virtual-domain
# class (smtpd_reject_unlisted_recipient = no in peers.BASE_MAIN_CF).
POSTFIX_MAIN = """\
virtual_mailbox_domains = {domain}
virtual_mailbox_maps = static:ok
virtual_transport = lmtp:unix:{lmtp}
"""

POSTFIX_QUEUES = ("maildrop", "incoming", "active", "deferred", "hold")


def queue_files(queue):
    n = 0
    for q in POSTFIX_QUEUES:
        for _, _, files in os.walk(queue / q):
            n += len(files)
    return n


class ForegroundPostfix(Postfix):
    """peers.Postfix with the master as our (grand)child (postfix start-fg),
    so that its CPU and every child's it reaped count in our
    RUSAGE_CHILDREN once it has exited."""

    def start(self):
        self.proc = subprocess.Popen([POSTFIX, "-c", str(self.dir / "conf"), "start-fg"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.started = True
        wait_smtp(self.ip, self.port)
        return self

    def stop(self):
        super().stop()
        if getattr(self, "proc", None) is not None:
            self.proc.wait(timeout=60)
            self.proc = None


def start_dovecot(d, fsync, procs):
    for sub in ("run", "state", "mail", "home"):
        (d / sub).mkdir(parents=True)
    for sub in ("mail", "home"):
        shutil.chown(d / sub, user="nobody", group="nogroup")
    os.chmod(d, 0o755)
    conf = d / "dovecot.conf"
    conf.write_text(DOVECOT_CONF.format(dir=d, fsync=fsync, procs=procs))
    # -F: in the foreground, our child, for the CPU accounting.
    proc = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_unix(d / "lmtp.sock")
    return conf, proc


def stop_dovecot(d, conf, proc):
    subprocess.run(["/usr/bin/doveadm", "-c", str(conf), "stop"], capture_output=True,
                   timeout=60)
    pid_file = d / "run" / "master.pid"
    deadline = time.monotonic() + 15
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
    proc.wait(timeout=30)


def run_postfix(args, work, users, fsync):
    d = work / f"dovecot-{fsync}"
    cpu_start = children_cpu()
    conf, dovecot = start_dovecot(d, fsync, args.sessions)
    postfix = ForegroundPostfix(main=POSTFIX_MAIN, domain=DOMAIN, lmtp=d / "lmtp.sock")
    load = None
    try:
        postfix.start()
        mail = d / "mail"
        glob = f"{DOMAIN}/*/Maildir/new"
        t0 = time.monotonic()
        load = Load(args, users, postfix.port)
        accept, errors = load.run(args.max_seconds)
        stored = 0
        while time.monotonic() - t0 < args.max_seconds:
            stored = count_new(mail, glob)
            if stored >= args.messages and queue_files(postfix.dir / "queue") == 0:
                break
            time.sleep(POLL_S)
        else:
            errors.append(f"not delivered within {args.max_seconds} s: {stored} stored, "
                          f"{queue_files(postfix.dir / 'queue')} queue files")
        secs = time.monotonic() - t0
        if errors:
            shutil.copy(postfix.dir / "maillog", work / f"postfix-{fsync}.maillog")
    finally:
        postfix.stop()
        stop_dovecot(d, conf, dovecot)
    cpu = {"smtp-source": load.cpu,
           "servers": children_cpu() - cpu_start - load.cpu}
    return {"secs": secs, "accept": accept, "stored": stored, "errors": errors, "cpu": cpu}


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--sessions", type=int, default=20, help="parallel SMTP sessions in all")
    ap.add_argument("--size", type=int, default=5120, help="payload bytes per message")
    ap.add_argument("--users", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dovecot-fsync", default="optimized,always",
                    help="comma-separated mail_fsync values, one Postfix run each per round")
    ap.add_argument("--reuse", action="store_true",
                    help="smtp-source -d: keep each session's connection")
    ap.add_argument("--postern-pool", type=int, default=0,
                    help="experiment: UV_THREADPOOL_SIZE for Postern's daemons (0: theirs)")
    ap.add_argument("--only", default="", help="comma-separated run names to do (default: all)")
    ap.add_argument("--max-seconds", type=float, default=300, help="cap per run")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: Postfix and Dovecot must start as root")
    if args.messages % args.users or args.sessions % args.users:
        sys.exit("--messages and --sessions must be multiples of --users")
    fsyncs = args.dovecot_fsync.split(",")
    users = [f"user{i}@{DOMAIN}" for i in range(args.users)]
    work = Path(tempfile.mkdtemp(prefix="postern-smtpbench-"))
    os.chmod(work, 0o755)  # Dovecot delivers as nobody
    names = ["postern"] + [f"postfix+dovecot({f})" for f in fsyncs]
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    print(f"load: {args.messages} messages x {args.size} B payload, {args.sessions} sessions, "
          f"{args.users} users, {'reused' if args.reuse else 'one'} connection"
          f"{'s' if args.reuse else ' per message'}; build {args.build}; work {work}", flush=True)
    rates = {n: [] for n in names}
    try:
        for r in range(args.rounds):
            # Rotate the order so that load from other processes on the
            # machine does not favour whichever runs first.
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                run_one(args, work, r, name, users, rates)
        summary(args, names, rates)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def run_one(args, work, r, name, users, rates):
    rw = work / f"round{r}-{name.split('(')[-1].rstrip(')')}"
    rw.mkdir()
    os.chmod(rw, 0o755)
    load1 = os.getloadavg()[0]
    if name == "postern":
        res = run_postern(args, rw, users)
    else:
        res = run_postfix(args, rw, users, name.split("(")[1].rstrip(")"))
    ok = not res["errors"] and res["stored"] == args.messages
    rate = args.messages / res["secs"]
    if ok:
        rates[name].append(rate)
    print(f"round {r} {name:26s} {res['secs']:7.2f} s {rate:7.1f} msg/s "
          f"(accepted in {res['accept']:6.2f} s) stored={res['stored']} "
          f"load1={load1:.1f} {'OK' if ok else 'FAILED'}", flush=True)
    if res.get("cpu"):
        print("     CPU ms/message: " + ", ".join(
            f"{k} {v * 1000 / args.messages:.2f}" for k, v in sorted(res["cpu"].items())),
            flush=True)
    for e in res["errors"][:5]:
        print("    ", e, flush=True)
    if not args.keep:
        # Outside the measured time; keeps the disk use to one run's mail.
        shutil.rmtree(rw, ignore_errors=True)


def summary(args, names, rates):
    print(f"median over {args.rounds} round(s) (successful runs only), "
          f"load average now {os.getloadavg()[0]:.1f}:")
    med = {n: statistics.median(v) for n, v in rates.items() if v}
    for n in names:
        if n in med:
            print(f"  {n:26s} {med[n]:7.1f} msg/s  ({len(rates[n])} runs: "
                  f"{', '.join(f'{x:.1f}' for x in rates[n])})")
    for n in names[1:]:
        if "postern" in med and n in med:
            print(f"  ratio postern / {n} = {med['postern'] / med[n]:.2f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
