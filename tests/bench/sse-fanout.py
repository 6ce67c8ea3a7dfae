#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""SSE fan-out benchmark of certgen-http (issue certgen-http, point 7), one
command, not part of the test suite's pass/fail:

    /usr/bin/python3 tests/bench/sse-fanout.py [BUILD_DIR] [--sizes 1000,5000,10000]
                                               [--paths certgen-http,nchan]

N concurrent server-sent-event streams (1,000, 5,000 and 10,000) on loopback, all
following one running generation (a big batch, updateInterval 100 ms, so
~10 updates/s), through
  - certgen-http: GET /api/certificates/progress/{id} with a Bearer token;
  - nginx + nchan (Debian's libnginx-mod-nchan), the reference: the same
    updates, turned into the same JSON by the bridge's own code, POSTed by
    sse-publish to nchan's publisher location, and read by the same client
    from an `nchan_subscriber eventsource` location.
Reported per run: events received in the 10 s window, delivery latency
p50/p99/max, server RSS per stream ((VmRSS with the streams - VmRSS before) /
streams up, VmRSS from /proc/PID/status, the largest of three samples in the
window), the same for N idle streams (open on a generation that waits for a
worker, so nothing is sent: the cost of a stream without unsent events), the
server's fd count (/proc/PID/fd) with the streams, its CPU, and how the client
and the publisher fared. The server process is certgen-http, or nginx's one
worker process (nginx's master is not counted).
Besides, per path, on a fresh server: CYCLES connect/disconnect cycles
(CYCLE_ROUNDS rounds of streams opened on the quiet generation, up, then
closed), after which the fd count and RSS are compared with the server's
before the first round.

Goals (issue 11 item 1), each printed with met / NOT met, for certgen-http
with nchan's figures beside them: the 10,000 streams all connected within
2 s; p99 no worse than nchan's at every size; RSS <= 10 KB per idle and
<= 14 KB per live stream (at the largest size); fd count and RSS back to
the baseline (+- 1 MB) after 10,000 connect/disconnect cycles. The load
average is printed before and after the runs: the figures are only as good
as the machine was quiet.

Latency = kernel arrival time of the event's bytes at the client socket
(SO_TIMESTAMPNS) - certgend's timestamp_us of the update (from the D-Bus
signal, as recorded by sse-publish; the JSON's millisecond "timestamp" must
agree), both CLOCK_REALTIME on this machine. It covers certgend's D-Bus send,
dbus-daemon, the server (bridge, or publisher + nginx) and the loopback.

Each run has fresh generations (started through a bridge of their own that
is stopped before anything is measured), a freshly started server for the
idle streams and another for the live ones, and the same client (C, epoll,
one thread: tests/bench/sse-client.c, at most 200 streams being set up at a
time). The bridge runs with raised limits (--max-streams,
--max-streams-per-user, --streams-per-minute); RLIMIT_NOFILE is raised as far
as allowed, nginx gets the same as worker_rlimit_nofile. certgend's rendering threads are capped (RenderThrottle: a
cgroup-v1 cpu quota, else SCHED_IDLE) so that the page rendering, which would
take a whole core, leaves the CPU to the servers and the client while still
finishing pages faster than the update interval; certgend's main thread and
its D-Bus thread are untouched.
Dependencies (nginx, libnginx-mod-nchan) come from tests/bench/deps-sse.sh;
without them the nchan rows say why they are missing.
"""

import hashlib
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))  # an entry point: the certgen_test package
from certgen_test.privatebus import PrivateBus  # noqa: E402

SIZES = (1000, 5000, 10000)
WINDOW_S = 10           # measurement window per run
SETTLE_MS = 1000        # after every stream is up, before the window
RECIPIENTS = 100000     # pages of the batch each run follows (cancelled after the run)
UPDATE_INTERVAL_MS = 100
CONNECT_TIMEOUT_S = 60
RENDER_CPU_PCT = 15     # certgend's rendering threads, see RenderThrottle
P99_TARGET = "p99 no worse than nchan's"
IDLE_RSS_GOAL_KB = 10.0
LIVE_RSS_GOAL_KB = 14.0
CONNECT_GOAL_N = 10000
CONNECT_GOAL_S = 2.0
CYCLES = 10000
CYCLE_ROUNDS = 10
CYCLE_RSS_GOAL_KB = 1024
MAX_PENDING = 2000      # streams the client sets up at a time
NCHAN_MODULE = "/usr/lib/nginx/modules/ngx_nchan_module.so"
TOKEN = "sse-fanout-bench-token-0123456789abcdef"

CONFIG = {
    "limits": {"start_per_minute": 1000, "max_active_per_owner": 64, "max_active": 64,
               "max_recipients": 1000000, "max_subscriptions_per_connection": 100000},
    "workers": {"threads": 1},
    "cleanup": {"finished_ttl_s": 30, "max_age_s": 3600},
}

NGINX_CONF = """load_module {module};
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile {nofile};
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{
  worker_connections {connections};
  multi_accept on;
}}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  tcp_nodelay on;
  keepalive_timeout 120s;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location ~ ^/pub/([0-9a-f]+)$ {{
      nchan_publisher http;
      nchan_channel_id $1;
      nchan_message_buffer_length 16;
    }}
    location ~ ^/sub/([0-9a-f]+)$ {{
      nchan_subscriber eventsource;
      nchan_channel_id $1;
      nchan_subscriber_first_message newest;
    }}
  }}
}}
"""


def log(msg):
    print(f"sse-fanout: {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def proc_rss_kb(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        m = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
    return int(m.group(1))


def proc_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def proc_cpu_s(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def system_busy_s():
    """CPU seconds spent by anything on the machine (all cores) since boot."""
    with open("/proc/stat", encoding="ascii") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def tree_cpu_s(pids):
    total = 0.0
    for pid in pids:
        try:
            total += proc_cpu_s(pid)
        except (OSError, IndexError):
            pass
    return total


def result(line):
    return dict(kv.split("=", 1) for kv in line.split()[2:])


class RenderThrottle:
    """Keeps certgend's rendering from taking the CPU the fan-out needs.

    The worker threads (GThreadPool: comm "pool-*", the spawner included, so
    that new workers inherit it) go into a cgroup-v1 cpu group limited to
    RENDER_CPU_PCT of one core, which still renders well over one page per
    update interval; certgend's main thread and its D-Bus thread stay out of
    it. Where no writable cgroup-v1 cpu hierarchy exists (cgroup v2, not
    root), the threads get SCHED_IDLE instead, which leaves them whatever the
    servers and the client do not use."""

    ROOT = "/sys/fs/cgroup/cpu"

    def __init__(self):
        self.group = os.path.join(self.ROOT, f"certgen-sse-fanout-{os.getpid()}")
        self.mode = None

    def apply(self, pid):
        tids = []
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/comm", encoding="utf-8") as f:
                    if f.read().startswith("pool-"):
                        tids.append(int(tid))
            except OSError:
                pass
        if self.mode in (None, "cgroup"):
            try:
                if self.mode is None:
                    os.mkdir(self.group)
                    period = 20000
                    with open(os.path.join(self.group, "cpu.cfs_period_us"), "w") as f:
                        f.write(str(period))
                    with open(os.path.join(self.group, "cpu.cfs_quota_us"), "w") as f:
                        f.write(str(period * RENDER_CPU_PCT // 100))
                    self.mode = "cgroup"
                for tid in tids:
                    with open(os.path.join(self.group, "tasks"), "w") as f:
                        f.write(str(tid))
                return f"{len(tids)} threads capped at {RENDER_CPU_PCT} % of a core (cgroup)"
            except OSError:
                self.close()
                self.mode = "idle"
        for tid in tids:
            try:
                os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
            except OSError:
                pass
        return f"{len(tids)} threads SCHED_IDLE"

    def close(self):
        if self.mode == "cgroup" or os.path.isdir(self.group):
            try:
                with open(os.path.join(self.group, "tasks"), encoding="ascii") as f:
                    left = f.read().split()
                for tid in left:
                    with open(os.path.join(self.ROOT, "tasks"), "w") as f:
                        f.write(tid)
                os.rmdir(self.group)
            except OSError:
                pass


def ensure_deps():
    """-> None when nginx + nchan are there, else why not."""
    def have():
        return shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")
    if have() and os.path.exists(NCHAN_MODULE):
        return None
    log("nginx and/or libnginx-mod-nchan missing: running tests/bench/deps-sse.sh")
    proc = subprocess.run(["sh", os.path.join(HERE, "deps-sse.sh")], check=False)
    if proc.returncode != 0 or not (have() and os.path.exists(NCHAN_MODULE)):
        return "nginx/libnginx-mod-nchan not installed (sh tests/bench/deps-sse.sh as root)"
    return None


class Bridge:
    def __init__(self, build, bus, tmp):
        self.exe = os.path.join(build, "client", "http", "certgen-http")
        tokens = os.path.join(tmp, "tokens")
        with open(tokens, "w", encoding="utf-8") as f:
            f.write(f"bench {hashlib.sha256(TOKEN.encode()).hexdigest()}\n")
        self.log_path = os.path.join(tmp, "certgen-http.log")
        logf = open(self.log_path, "ab")  # pylint: disable=consider-using-with
        start = logf.tell()
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [self.exe, "--listen", "127.0.0.1:0", "--tokens", tokens,
             "--web-root", os.path.join(SOURCE_ROOT, "client", "web"),
             "--max-body-bytes", str(16 << 20), "--generations-per-minute", "1000",
             "--streams-per-minute", "1000000", "--max-streams", "20000",
             "--max-streams-per-user", "20000"],
            stdout=logf, stderr=subprocess.STDOUT,
            # as data/systemd/certgen-http.service runs it: GSlice's
            # per-thread caches would keep what 10,000 cycles allocated
            env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address, G_SLICE="always-malloc"))
        logf.close()
        deadline = time.monotonic() + 20
        self.port = None
        while time.monotonic() < deadline and self.proc.poll() is None:
            with open(self.log_path, "rb") as f:
                f.seek(start)
                text = f.read().decode("utf-8", "replace")
            m = re.search(r"Listening on http://127\.0\.0\.1:(\d+)/", text)
            if m and "certgend is :" in text:
                self.port = int(m.group(1))
                break
            time.sleep(0.05)
        if self.port is None:
            self.stop()
            raise RuntimeError(f"certgen-http did not start: {open(self.log_path).read()}")
        self.pid = self.proc.pid

    def request(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            headers = {"Authorization": f"Bearer {TOKEN}"}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return "killed"
        return self.proc.returncode


class Nginx:
    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "nginx")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w", encoding="utf-8") as f:
            nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            f.write(NGINX_CONF.format(module=NCHAN_MODULE, tmp=self.dir, port=self.port,
                                      nofile=nofile, connections=min(20000, nofile - 100)))
        self.log_path = os.path.join(self.dir, "nginx-stderr.log")
        logf = open(self.log_path, "ab")  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            ["nginx", "-p", self.dir, "-c", conf, "-e", os.path.join(self.dir, "nginx-error.log")],
            stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        deadline = time.monotonic() + 20
        self.pid = None
        while time.monotonic() < deadline and self.proc.poll() is None:
            kids = self.children()
            if kids:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                        self.pid = kids[0]  # the (one) worker serves every connection
                        break
                except OSError:
                    pass
            time.sleep(0.05)
        if self.pid is None:
            self.stop()
            raise RuntimeError("nginx did not start: " + open(self.log_path).read() +
                               open(os.path.join(self.dir, "nginx-error.log")).read())

    def children(self):
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children",
                      encoding="ascii") as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful; SIGTERM is "fast"
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()


def batch(n):
    return {"recipients": [{"recipientName": f"Fan-out Reader {i}"} for i in range(n)],
            "courseName": "Server-Sent Events at Scale", "issueDate": "2024-05-17"}


def wait_map_lines(path, want, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(path, encoding="ascii") as f:
                lines = f.read().splitlines()
            if len(lines) >= want:
                return lines
        except OSError:
            pass
        time.sleep(0.1)
    return None


def read_line(proc, prefix, seconds):
    """The first stdout line of proc starting with prefix, within seconds."""
    deadline = time.monotonic() + seconds
    os.set_blocking(proc.stdout.fileno(), False)
    buf = b""
    while time.monotonic() < deadline:
        try:
            chunk = os.read(proc.stdout.fileno(), 65536)
        except BlockingIOError:
            chunk = None
        if chunk:
            buf += chunk
            for line in buf.decode("utf-8", "replace").splitlines():
                if line.startswith(prefix):
                    return line
        elif chunk == b"" or proc.poll() is not None:
            try:
                buf += os.read(proc.stdout.fileno(), 65536)
            except (BlockingIOError, OSError):
                pass
            for line in buf.decode("utf-8", "replace").splitlines():
                if line.startswith(prefix):
                    return line
            return None
        time.sleep(0.02)
    return None


def client_cmd(bench_bin, n, pid, port, nchan, window_s, settle_ms, map_path=None):
    cmd = [os.path.join(bench_bin, "sse-client"), "-n", str(n), "--ids", pid, "--port", str(port),
           "--window-s", str(window_s), "--settle-ms", str(settle_ms),
           "--connect-timeout-s", str(CONNECT_TIMEOUT_S), "--max-pending", str(MAX_PENDING)]
    if map_path is not None:
        cmd += ["--map", map_path]
    if nchan:
        return cmd + ["--prefix", "/sub/"]
    return cmd + ["--prefix", "/api/certificates/progress/",
                  "--header", f"Authorization: Bearer {TOKEN}"]


def idle_phase(bench_bin, server_pid, port, nchan, n, idle_pid):
    """n streams on a generation that waits for a worker (no updates flow):
    the server's memory per open stream without any unsent events."""
    rss0, fds0 = proc_rss_kb(server_pid), proc_fds(server_pid)
    client = subprocess.Popen(  # pylint: disable=consider-using-with
        client_cmd(bench_bin, n, idle_pid, port, nchan, 1, 500), stdout=subprocess.PIPE)
    try:
        ready = read_line(client, "READY", CONNECT_TIMEOUT_S + 10)
        if ready is None:
            return {"idle_error": "sse-client never got ready"}
        up = int(re.search(r"streams=(\d+)", ready).group(1))
        time.sleep(0.4)
        rss1, fds1 = proc_rss_kb(server_pid), proc_fds(server_pid)
        connect_s = re.search(r"connect_s=(\S+)", ready).group(1)
        read_line(client, "RESULT", 30)
        client.wait(30)
        return {"idle_up": up, "idle_connect_s": connect_s, "idle_rss0_kb": rss0,
                "idle_rss_kb": rss1, "idle_fds0": fds0, "idle_fds": fds1,
                "idle_rss_per_stream_kb": (rss1 - rss0) / max(1, up)}
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()


def cycles_phase(bench_bin, server_pid, port, nchan, idle_pid):
    """CYCLES connect/disconnect cycles on a fresh server, CYCLE_ROUNDS rounds of
    streams on the quiet generation: each round up, then closed and gone from
    the server's fds -> its RSS and fds before and after."""
    per_round = CYCLES // CYCLE_ROUNDS
    rss0, fds0 = proc_rss_kb(server_pid), proc_fds(server_pid)
    done = 0
    for _ in range(CYCLE_ROUNDS):
        client = subprocess.Popen(  # pylint: disable=consider-using-with
            client_cmd(bench_bin, per_round, idle_pid, port, nchan, 0.2, 0),
            stdout=subprocess.PIPE)
        try:
            ready = read_line(client, "READY", CONNECT_TIMEOUT_S + 10)
            if ready is None:
                return {"cycles_error": "sse-client never got ready"}
            done += int(re.search(r"streams=(\d+)", ready).group(1))
            read_line(client, "RESULT", 30)
            client.wait(30)
        finally:
            if client.poll() is None:
                client.kill()
                client.wait()
        deadline = time.monotonic() + 10
        while proc_fds(server_pid) > fds0 and time.monotonic() < deadline:
            time.sleep(0.05)
    time.sleep(1.0)
    return {"cycles": done, "cycles_rss0_kb": rss0, "cycles_rss_kb": proc_rss_kb(server_pid),
            "cycles_fds0": fds0, "cycles_fds": proc_fds(server_pid)}


def start_generations(build, bus, tmp, label):
    """-> (live id, idle id), started through a bridge of their own that is
    stopped again: the bridges measured below never parsed the big batch
    (json-glib's heap for a few MB of JSON would otherwise stay in their
    RSS "before" and hide what the streams cost)."""
    ctl = Bridge(build, bus, tmp)
    try:
        ids = []
        for tx, recipients in ((f"sse-fanout-{label}", RECIPIENTS),
                               (f"sse-fanout-idle-{label}", 10)):
            status, body = ctl.request("POST", "/api/certificates", {
                "transactionId": tx, "data": batch(recipients),
                "options": {"updateInterval": UPDATE_INTERVAL_MS, "timeout": 600000}})
            if status != 201:
                raise RuntimeError(f"POST /api/certificates: {status} {body[:300]!r}")
            ids.append(json.loads(body)["progressId"])
        # With one worker thread the second waits behind the first: a
        # generation whose streams stay open and quiet.
        return ids
    finally:
        ctl.stop()


def run_one(build, bus, tmp, path, n, bench_bin, throttle, cycles=False):
    """One run: fresh generations and servers, n streams (and, with cycles,
    the connect/disconnect cycles first) -> dict."""
    row = {"path": path, "n": n, "load": os.getloadavg()}
    bridge = nginx = None
    publisher = client = None
    pid = idle_pid = None
    try:
        pid, idle_pid = start_generations(build, bus, tmp, f"{path}-{n}")
        throttle.apply(bus.daemon.pid)

        # Idle streams, on a fresh server, stopped afterwards: the live run
        # gets a fresh one again, so that its "before" is a clean start too.
        if cycles:
            if path == "nchan":
                nginx = Nginx(tmp)
                row.update(cycles_phase(bench_bin, nginx.pid, nginx.port, True, idle_pid))
                nginx.stop()
            else:
                bridge = Bridge(build, bus, tmp)
                row.update(cycles_phase(bench_bin, bridge.pid, bridge.port, False, idle_pid))
                bridge.stop()
            nginx = bridge = None
        if path == "nchan":
            nginx = Nginx(tmp)
            row.update(idle_phase(bench_bin, nginx.pid, nginx.port, True, n, idle_pid))
            nginx.stop()
            nginx = Nginx(tmp)
        else:
            bridge = Bridge(build, bus, tmp)
            row.update(idle_phase(bench_bin, bridge.pid, bridge.port, False, n, idle_pid))
            rc = bridge.stop()
            if rc not in (0, None):
                row["shutdown"] = f"certgen-http exited with {rc} after SIGTERM"
            bridge = Bridge(build, bus, tmp)

        map_path = os.path.join(tmp, f"map-{path}-{n}")
        cmd = [os.path.join(bench_bin, "sse-publish"), "--map", map_path,
               "--seconds", "300", pid]
        if nginx is not None:
            cmd[1:1] = ["--nchan-port", str(nginx.port)]
        publisher = subprocess.Popen(  # pylint: disable=consider-using-with
            cmd, stdout=subprocess.PIPE, env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address))
        if read_line(publisher, "SUBSCRIBED", 20) is None:
            raise RuntimeError("sse-publish did not subscribe")
        # The batch is validated, then rendered: wait for page updates.
        if wait_map_lines(map_path, 5, 60) is None:
            raise RuntimeError("no progress updates within 60 s")
        row["render"] = throttle.apply(bus.daemon.pid)
        server = nginx.pid if nginx is not None else bridge.pid
        time.sleep(0.5)
        rss0, fds0 = proc_rss_kb(server), proc_fds(server)
        port = nginx.port if nginx is not None else bridge.port
        ccmd = client_cmd(bench_bin, n, pid, port, nginx is not None, WINDOW_S, SETTLE_MS,
                          map_path)
        client = subprocess.Popen(ccmd, stdout=subprocess.PIPE)  # pylint: disable=consider-using-with
        ready = read_line(client, "READY", CONNECT_TIMEOUT_S + 10)
        if ready is None:
            raise RuntimeError("sse-client never got ready")
        row.update({f"ready_{k}": v for k, v in (kv.split("=") for kv in ready.split()[1:])})
        # Sample the server during the window: CPU over it, RSS and fds at
        # a quarter, half and three quarters (the largest is reported).
        time.sleep(SETTLE_MS / 1000 + 0.05)
        ours = [os.getpid(), bus.bus.pid, bus.daemon.pid, publisher.pid, client.pid]
        ours += [nginx.proc.pid, nginx.pid] if nginx is not None else [bridge.pid]
        cpu0, t0 = proc_cpu_s(server), time.monotonic()
        pub_cpu0 = proc_cpu_s(publisher.pid)
        daemon_cpu0 = proc_cpu_s(bus.daemon.pid)
        busy0, ours0 = system_busy_s(), tree_cpu_s(ours)
        rss, fds = [], []
        for frac in (0.25, 0.5, 0.75):
            time.sleep(max(0.0, t0 + WINDOW_S * frac - time.monotonic()))
            rss.append(proc_rss_kb(server))
            fds.append(proc_fds(server))
        time.sleep(max(0.0, t0 + WINDOW_S - 0.1 - time.monotonic()))
        cpu1, t1 = proc_cpu_s(server), time.monotonic()
        pub_cpu1 = proc_cpu_s(publisher.pid)
        daemon_cpu1 = proc_cpu_s(bus.daemon.pid)
        busy1, ours1 = system_busy_s(), tree_cpu_s(ours)
        line = read_line(client, "RESULT", 30)
        client.wait(30)
        if line is None:
            raise RuntimeError("sse-client printed no RESULT")
        row.update(result(line))
        row["rss0_kb"], row["rss_kb"], row["rss_samples"] = rss0, max(rss), rss
        row["fds0"], row["fds"] = fds0, max(fds)
        row["rss_per_stream_kb"] = (max(rss) - rss0) / max(1, int(row["ready"]))
        row["server_cpu_pct"] = 100 * (cpu1 - cpu0) / (t1 - t0)
        row["publisher_cpu_pct"] = 100 * (pub_cpu1 - pub_cpu0) / (t1 - t0)
        row["certgend_cpu_pct"] = 100 * (daemon_cpu1 - daemon_cpu0) / (t1 - t0)
        row["foreign_cpu_pct"] = max(0.0, 100 * ((busy1 - busy0) - (ours1 - ours0)) / (t1 - t0))
        publisher.send_signal(signal.SIGTERM)
        pline = read_line(publisher, "RESULT", 20)
        if pline:
            row.update({f"pub_{k}": v for k, v in result(pline).items()})
        publisher.wait(20)
    except Exception as exc:  # pylint: disable=broad-except
        row["error"] = str(exc)
    finally:
        for proc in (client, publisher):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        # Stop the rendering (and remove its file) through D-Bus: the bridge
        # may be too busy to answer quickly. The waiting one first, so that
        # it never starts.
        for gen in (idle_pid, pid):
            if gen is None:
                continue
            try:
                subprocess.run(["gdbus", "call", "--system", "-d", "org.certgen.Certificates1",
                                "-o", "/org/certgen/Certificates1", "-m",
                                "org.certgen.Certificates1.Manager.Cancel", gen],
                               capture_output=True, check=False, timeout=30,
                               env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address))
            except subprocess.TimeoutExpired:
                row.setdefault("shutdown", "Cancel timed out")
        if nginx is not None:
            nginx.stop()
        if bridge is not None:
            rc = bridge.stop()
            if rc not in (0, None):
                row["shutdown"] = f"certgen-http exited with {rc} after SIGTERM"
    return row


def fnum(v, fmt="{:.2f}"):
    try:
        return fmt.format(float(v))
    except (TypeError, ValueError):
        return "-"


def verdict(met):
    return "met" if met else "NOT met"


def print_goals(rows, sizes):
    """The goals of issue 11 item 1, certgen-http against them, nchan beside."""
    def row(path, n):
        r = next((r for r in rows if r["n"] == n and r["path"] == path), None)
        return r if r is not None and "error" not in r else None

    def both(key, n, fmt):
        return "; ".join(f"{path} " + (fmt(r[key]) if r is not None and key in r else "-")
                         for path, r in (("certgen-http", row("certgen-http", n)),
                                         ("nchan", row("nchan", n))))

    print("\ngoals (certgen-http; nchan beside it):")
    big = max(sizes)
    mine = row("certgen-http", big)
    if CONNECT_GOAL_N in sizes:
        r = row("certgen-http", CONNECT_GOAL_N)
        met = r is not None and r.get("ready") == str(CONNECT_GOAL_N) and \
            float(r.get("ready_connect_s", "inf")) <= CONNECT_GOAL_S
        up = both("ready_connect_s", CONNECT_GOAL_N, lambda v: f"{float(v):.2f} s")
        print(f"  {CONNECT_GOAL_N} streams on one generation connected within "
              f"{CONNECT_GOAL_S:.0f} s ({up}; certgen-http up "
              f"{r.get('ready') if r else '-'}): {verdict(met)}")
    else:
        print(f"  {CONNECT_GOAL_N} streams connected within {CONNECT_GOAL_S:.0f} s: not run "
              f"(--sizes without {CONNECT_GOAL_N})")
    for n in sizes:
        m, ref = row("certgen-http", n), row("nchan", n)
        if m is None or ref is None:
            print(f"  {n:>5} streams: p99 {P99_TARGET}: not measured "
                  f"(certgen-http {'ok' if m else 'failed/not run'}, "
                  f"nchan {'ok' if ref else 'failed/not run'})")
            continue
        # only a comparison when every stream of both was up
        full = m.get("ready") == str(n) and ref.get("ready") == str(n)
        met = full and float(m["p99_ms"]) <= float(ref["p99_ms"])
        print(f"  {n:>5} streams: p99 {float(m['p99_ms']):.2f} ms vs nchan "
              f"{float(ref['p99_ms']):.2f} ms (p50 {float(m['p50_ms']):.2f} vs "
              f"{float(ref['p50_ms']):.2f}; {P99_TARGET}"
              f"{'' if full else '; NOT all streams up: ' + m.get('ready', '-') + ' / ' + ref.get('ready', '-')}"
              f"): {verdict(met)}")
    for key, goal, what in (("idle_rss_per_stream_kb", IDLE_RSS_GOAL_KB, "idle"),
                            ("rss_per_stream_kb", LIVE_RSS_GOAL_KB, "live")):
        value = mine.get(key) if mine else None
        met = value is not None and value <= goal
        print(f"  RSS per {what} stream at {big} streams <= {goal:.0f} KB "
              f"({both(key, big, lambda v: f'{v:.2f} KB')}): {verdict(met)}")
    for path in ("certgen-http", "nchan"):
        r = row(path, big)
        if r is None or "cycles" not in r:
            err = r.get("cycles_error", "not run") if r else "not run"
            print(f"  {path}: fds and RSS after {CYCLES} connect/disconnect cycles: {err}")
            continue
        drss = r["cycles_rss_kb"] - r["cycles_rss0_kb"]
        met = r["cycles_fds"] <= r["cycles_fds0"] and abs(drss) <= CYCLE_RSS_GOAL_KB and \
            r["cycles"] >= CYCLES
        print(f"  {path}: after {r['cycles']} connect/disconnect cycles fds {r['cycles_fds0']} "
              f"-> {r['cycles_fds']}, RSS {r['cycles_rss0_kb']} -> {r['cycles_rss_kb']} kB "
              f"({drss:+d} kB; goal: fds back, RSS +- {CYCLE_RSS_GOAL_KB // 1024} MB)"
              + (f": {verdict(met)}" if path == "certgen-http" else ""))


def main():
    args = sys.argv[1:]
    sizes, paths = SIZES, ("certgen-http", "nchan")
    while len(args) >= 2 and args[-2] in ("--sizes", "--paths"):
        if args[-2] == "--sizes":
            sizes = tuple(int(x) for x in args[-1].split(","))
        else:
            paths = tuple(args[-1].split(","))
        args = args[:-2]
    build = os.path.abspath(args[0] if args else "build")
    bench_bin = os.path.join(build, "tests", "bench")
    need = [os.path.join(build, "client", "http", "certgen-http"),
            os.path.join(build, "service", "certgend"),
            os.path.join(bench_bin, "sse-client"), os.path.join(bench_bin, "sse-publish")]
    missing = [p for p in need if not os.access(p, os.X_OK)]
    if missing:
        print(f"not built: {', '.join(missing)}\n"
              f"build first: meson setup {os.path.relpath(build)} && "
              f"meson compile -C {os.path.relpath(build)}")
        return 2
    nofile = raise_nofile()
    log(f"RLIMIT_NOFILE {nofile} (inherited by certgen-http, nginx and the client)")
    nchan_missing = ensure_deps()
    if nchan_missing:
        log(nchan_missing)

    # The machine may be shared: say how busy it is, and give a burst of
    # other work a little time (bounded) to pass.
    for attempt in range(10):
        b0, t0 = system_busy_s(), time.monotonic()
        time.sleep(3)
        other = max(0.0, 100 * (system_busy_s() - b0) / (time.monotonic() - t0))
        if other < 30:
            break
        if attempt == 0:
            log(f"other processes use {other:.0f} % CPU (of {100 * os.cpu_count()} %); "
                "waiting up to 30 s for them")
    log(f"CPU used by other processes before the runs: {other:.0f} % "
        f"(of {100 * os.cpu_count()} %)")

    load_before = os.getloadavg()
    log("load average before the runs: " + " ".join(f"{x:.2f}" for x in load_before))
    started = time.monotonic()
    rows = []
    tmp = tempfile.mkdtemp(prefix="sse-fanout-")
    throttle = RenderThrottle()
    try:
        private_bus = PrivateBus(build, config=CONFIG)
        with private_bus as bus:
            for n in sizes:
                for path in paths:
                    if path == "nchan" and nchan_missing:
                        rows.append({"path": path, "n": n, "error": nchan_missing})
                        continue
                    log(f"{path}, {n} streams ...")
                    row = run_one(build, bus, tmp, path, n, bench_bin, throttle,
                                  cycles=n == max(sizes))
                    if "error" in row:
                        log(f"  failed: {row['error']}")
                    else:
                        log(f"  ready={row.get('ready_streams')} in {row.get('ready_connect_s')} s, "
                            f"events={row.get('events')}, p99={row.get('p99_ms')} ms")
                    rows.append(row)
    except subprocess.TimeoutExpired as exc:
        # certgend slow to stop after the runs (still cancelling a big
        # batch on a busy machine): the rows are complete, print them
        log(f"certgend did not stop in time ({exc.timeout} s): killed; the runs are complete")
        for proc in (private_bus.daemon, private_bus.bus):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        throttle.close()
        if os.environ.get("SSE_FANOUT_KEEP"):
            log(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print()
    head = (f"{'streams':>7}  {'path':<12} {'events':>8} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'max ms':>8} {'KB/stream':>9} {'idle KB/str':>11} {'fds':>6} {'srv CPU%':>8}  note")
    print(head)
    print("-" * len(head))
    print("  (KB/stream: server RSS growth per stream during the window, unsent events "
          "included;\n   idle KB/str: the same with the streams open on a generation that "
          "sends nothing)")
    for r in rows:
        note = r.get("error", "")
        if not note:
            bits = []
            if r.get("ready") != str(r["n"]):
                bits.append(f"only {r.get('ready')} of {r['n']} streams up")
            if r.get("ended_early", "0") != "0":
                bits.append(f"{r['ended_early']} streams ended early")
            if r.get("shutdown"):
                bits.append(r["shutdown"])
            if r.get("foreign_cpu_pct", 0) > 20:
                bits.append(f"other processes used {r['foreign_cpu_pct']:.0f} % CPU")
            note = "; ".join(bits)
        print(f"{r['n']:>7}  {r['path']:<12} {r.get('events', '-'):>8} "
              f"{fnum(r.get('p50_ms')):>7} {fnum(r.get('p99_ms')):>7} {fnum(r.get('max_ms')):>8} "
              f"{fnum(r.get('rss_per_stream_kb')):>9} {fnum(r.get('idle_rss_per_stream_kb')):>11} "
              f"{r.get('fds', '-'):>6} "
              f"{fnum(r.get('server_cpu_pct'), '{:.0f}'):>8}  {note}")

    print("\ndetails (client: streams up / connect s / events per stream min-max / client CPU % / "
          "read-time p99 / ms-timestamp p99; server RSS and fds before -> with the streams; "
          "publisher: D-Bus p50/p99, POST p50/p99, CPU %; certgend CPU % (capped renderer "
          "included); CPU % of processes not started by this benchmark):")
    for r in rows:
        if "error" in r:
            continue
        pub = (f"D-Bus {r.get('pub_dbus_p50_ms')}/{r.get('pub_dbus_p99_ms')} ms, "
               f"{r.get('pub_events')} updates")
        if r["path"] == "nchan":
            pub += f", POST {r.get('pub_post_p50_ms')}/{r.get('pub_post_p99_ms')} ms"
        pub += (f", CPU {fnum(r.get('publisher_cpu_pct'), '{:.1f}')} %; certgend CPU "
                f"{fnum(r.get('certgend_cpu_pct'), '{:.0f}')} %; others "
                f"{fnum(r.get('foreign_cpu_pct'), '{:.0f}')} %")
        print(f"  {r['n']:>5} {r['path']:<12} up {r.get('ready')}/{r['n']} in "
              f"{r.get('ready_connect_s')} s; {r.get('events_per_stream_min')}-"
              f"{r.get('events_per_stream_max')} events/stream; client CPU "
              f"{r.get('client_cpu_pct')} %; read p99 {r.get('read_p99_ms')} ms; "
              f"ms-ts p99 {r.get('msts_p99_ms')} ms; {r.get('from_map')} of {r.get('events')} "
              f"timed by timestamp_us; RSS {r.get('rss0_kb')} -> "
              f"{'/'.join(str(x) for x in r.get('rss_samples', []))} kB, "
              f"fds {r.get('fds0')} -> {r.get('fds')}; idle: {r.get('idle_up')} up in "
              f"{r.get('idle_connect_s')} s, RSS {r.get('idle_rss0_kb')} -> "
              f"{r.get('idle_rss_kb')} kB, fds {r.get('idle_fds0')} -> {r.get('idle_fds')}"
              f"{' (' + r['idle_error'] + ')' if r.get('idle_error') else ''}; "
              f"publisher: {pub}; renderer: {r.get('render')}")

    print_goals(rows, sizes)
    load_after = os.getloadavg()
    print(f"  total run time {time.monotonic() - started:.0f} s; load average before "
          f"{' '.join(f'{x:.2f}' for x in load_before)}, after "
          f"{' '.join(f'{x:.2f}' for x in load_after)} (1/5/15 min, {os.cpu_count()} CPUs); "
          "per run (1 min): " + ", ".join(f"{r['path']}@{r['n']} {r['load'][0]:.2f}"
                                           for r in rows if "load" in r))
    rel = os.path.relpath(build, SOURCE_ROOT) if build.startswith(SOURCE_ROOT) else build
    print(f"\nreproduce: cd {SOURCE_ROOT} && meson compile -C {rel} && "
          f"/usr/bin/python3 tests/bench/sse-fanout.py {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
