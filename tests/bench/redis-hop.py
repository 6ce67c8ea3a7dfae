#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the Redis hop of issue 13 costs, one command, not part of the test
suite's pass/fail:

    /usr/bin/python3 tests/bench/redis-hop.py [BUILD_DIR] [--streams 10] [--window-s 8]
        [--rounds 2] [--requests 600] [--batch-pages 200] [--batch-requests 48]
        [--concurrency 8] [--file-pages 1000] [--step latency|rate|file]...

One redis-server (unix socket, no persistence), two hosts (each a private
bus, certgend with one worker thread — the machine's two cores are the two
hosts — and certgen-relay), bridges A and B with --redis (on host 1's and
host 2's bus) and S without it (on host 1's bus, the single-host path), all
from certgen_test/hosts.py. Three figures:

1. Event delivery latency, the Redis path against the single-host path in
   the same run, the same generation (a batch of --batch pages,
   updateInterval 100 ms, cancelled after the window), the same client:
   tests/bench/sse-client (C, epoll, --streams streams on the one
   generation). Redis path: POST on A, host 2's relay stopped so that host
   1's certgend renders it as on the single path, the streams on B.
   Single-host path: POST on S, the streams on S. Latency = the kernel's
   arrival time of the event at the client socket (SO_TIMESTAMPNS) -
   certgend's timestamp_us of the update (kept by the relay; for the Redis
   path read from the generation's event stream in Redis, for the single
   path from certgend's signals by tests/bench/sse-publish). So it covers
   certgend -> D-Bus -> (relay -> Redis -> bridge B) or (bridge S) ->
   loopback. The paths alternate, --rounds each; the figure is the median
   of the rounds' p50 and the largest p99. Beside it, the CPU time (all
   threads, /proc/PID/task/*/schedstat) of what carries the events apart
   from certgend during the windows, per update: relay, redis-server and
   bridge B on the Redis path, bridge S on the single one.
2. Requests per second, POST -> terminal event, --concurrency clients each
   POSTing and following its stream: --requests single certificates (the
   per-request cost: bridge, relay, Redis round trips) and --batch-requests
   batches of --batch-pages pages (rendering-bound: where a second host
   helps); each on S (no Redis, one host), through Redis with one host
   (host 2's relay stopped; POSTs alternate A/B) and with both hosts. Also
   p50/p99 of POST -> terminal, and how the requests were spread.
3. The file in Redis: a --file-pages batch's PDF; SET + GET of it through
   python3-redis on the unix socket (bytes/s), and downloads of the same
   size through S (certgend's file by OpenCertificate) and through B (from
   Redis).

Every figure is printed with the load average before and after and the
command that reproduces it; on a shared machine they are "beside other
work".
"""

import argparse
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))  # an entry point: the certgen_test package

TOKEN_USER = "alice"
LAT_BATCH = 50000
UPDATE_INTERVAL_MS = 100
SETTLE_MS = 1000

CONFIG = {
    "limits": {"start_per_minute": 100000, "max_active_per_owner": 1000, "max_active": 1000,
               "max_recipients": 100000, "max_data_bytes": 67108864,
               "max_subscriptions_per_connection": 100000},
    "workers": {"threads": 1},
    "cleanup": {"finished_ttl_s": 120, "max_age_s": 3600},
}
BRIDGE_ARGS = ["--generations-per-minute", "100000", "--streams-per-minute", "100000",
               "--resumes-per-minute", "100000", "--max-streams-per-user", "10000",
               "--max-streams", "20000", "--max-body-bytes", "67108864"]


def log(msg):
    print(f"redis-hop: {msg}", flush=True)


def load():
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def read_line(proc, prefix, seconds):
    """The first stdout line of proc starting with prefix, or None."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            return None
        line = line.decode("utf-8", "replace").strip()
        if line.startswith(prefix):
            return line
    return None


def cpu_s(pid):
    """CPU seconds of process pid so far, every thread (schedstat: ns)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat", encoding="ascii") as f:
                total += int(f.read().split()[0])
        except (OSError, IndexError, ValueError):
            pass  # a thread that just ended
    return total / 1e9


def result_fields(line):
    return dict(kv.split("=", 1) for kv in line.split()[2:] if "=" in kv)


class Stack:
    """Redis, host1 + host2, bridges A, B (--redis) and S (single host)."""

    def __init__(self, hosts_mod, redis_mod, bridge_mod):
        self.tmp = tempfile.mkdtemp(prefix="certgen-hop-")
        os.chmod(self.tmp, 0o755)
        self.redis = redis_mod.RedisServer().start()
        self.tokens = os.path.join(self.tmp, "tokens")
        with open(self.tokens, "w", encoding="utf-8") as f:
            for name, token in bridge_mod.TOKENS.items():
                f.write(f"{name} {bridge_mod.token_hash(token)}\n")
        self.token = bridge_mod.TOKENS[TOKEN_USER]
        self.hosts = [hosts_mod.Host(self.tmp, name, self.redis.address, CONFIG).start()
                      for name in ("host1", "host2")]
        self.host1, self.host2 = self.hosts
        self.a = hosts_mod.Bridge(self.tmp, "A", self.host1.bus_address, self.redis.address,
                                  self.tokens, BRIDGE_ARGS).start()
        self.b = hosts_mod.Bridge(self.tmp, "B", self.host2.bus_address, self.redis.address,
                                  self.tokens, BRIDGE_ARGS).start()
        self.s = hosts_mod.Bridge(self.tmp, "S", self.host1.bus_address, None,
                                  self.tokens, BRIDGE_ARGS).start()
        self.bridges = [self.a, self.b, self.s]
        self.host2_relay_on = True

    def set_host2_relay(self, on):
        if on and not self.host2_relay_on:
            self.host2.start_relay()
        elif not on and self.host2_relay_on:
            problem = self.host2.stop_relay()
            if problem:
                log(f"warning: {problem}")
        self.host2_relay_on = on

    def close(self):
        problems = []
        for bridge in self.bridges:
            problems += bridge.stop()
        for host in self.hosts:
            problems += host.stop()
        self.redis.close()
        for p in problems:
            log(f"warning: {p}")
        if not os.environ.get("CERTGEN_TEST_KEEP"):
            subprocess.run(["rm", "-rf", self.tmp], check=False)


def post(bridge, token, data, **options):
    body = {"transactionId": "tx-hop", "data": data}
    if options:
        body["options"] = options
    resp = bridge.request("POST", "/api/certificates", body, token=token)
    if resp.status != 201:
        raise RuntimeError(f"POST on {bridge.name}: {resp!r}")
    return resp.json["progressId"]


def follow_to_end(bridge, token, pid, seconds=120):
    stream = bridge.sse(pid, token=token, read_timeout=seconds)
    try:
        if stream.status != 200:
            raise RuntimeError(f"stream on {bridge.name}: {stream.status} {stream.body()!r}")
        events = stream.events_until_terminal()
        return events[-1].json if events else None
    finally:
        stream.close()


# ---- 1. latency --------------------------------------------------------------------


class RedisMap(threading.Thread):
    """Writes "ID sequence timestamp_us" for every event of pid in Redis,
    as it is published (sse-client reads the file after its window)."""

    def __init__(self, redis_client, pid, path, decode):
        super().__init__(daemon=True)
        self.r = redis_client
        self.pid = pid
        self.path = path
        self.decode = decode
        self.stop = threading.Event()
        self.count = 0

    def run(self):
        key = f"certgen:gen:{self.pid}:events"
        last = "0-0"
        with open(self.path, "w", encoding="ascii") as f:
            while not self.stop.is_set():
                reply = self.r.xread({key: last}, count=1000, block=100)
                for _, entries in reply or []:
                    for entry_id, fields in entries:
                        last = entry_id.decode()
                        u = self.decode(fields[b"u"])
                        f.write(f"{self.pid} {u['sequence']} {u['timestamp_us']}\n")
                        self.count += 1
                    f.flush()


def wait_lines(path, n, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(path, encoding="ascii") as f:
                if sum(1 for _ in f) >= n:
                    return True
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    return False


def latency_round(stack, bench_bin, path, args, decode):
    """One window of --streams streams on one generation -> sse-client's RESULT fields."""
    token = stack.token
    start_bridge = stack.a if path == "redis" else stack.s
    read_bridge = stack.b if path == "redis" else stack.s
    batch = {"recipients": [{"recipientName": f"Hop Person {i}"} for i in range(args.batch)],
             "courseName": "Hop Course", "issueDate": "2024-05-17"}
    pid = post(start_bridge, token, batch, updateInterval=UPDATE_INTERVAL_MS)
    map_path = os.path.join(stack.tmp, f"map-{path}-{pid}")
    mapper = publisher = None
    if path == "redis":
        mapper = RedisMap(stack.redis.client(), pid, map_path, decode)
        mapper.start()
    else:
        publisher = subprocess.Popen(  # pylint: disable=consider-using-with
            [os.path.join(bench_bin, "sse-publish"), "--map", map_path, "--seconds", "300", pid],
            stdout=subprocess.PIPE,
            env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=stack.host1.bus_address))
        if read_line(publisher, "SUBSCRIBED", 20) is None:
            raise RuntimeError("sse-publish did not subscribe")
    try:
        if not wait_lines(map_path, 5, 60):
            raise RuntimeError(f"{path}: no progress updates within 60 s")
        cmd = [os.path.join(bench_bin, "sse-client"), "-n", str(args.streams), "--ids", pid,
               "--port", str(read_bridge.port), "--window-s", str(args.window_s),
               "--settle-ms", str(SETTLE_MS), "--connect-timeout-s", "60", "--map", map_path,
               "--prefix", "/api/certificates/progress/",
               "--header", f"Authorization: Bearer {token}"]
        # the CPU of what carries the events besides certgend (the same on
        # both paths): relay, redis-server and bridge B, or bridge S
        carriers = ({"relay": stack.host1.relay.pid, "redis-server": stack.redis.proc.pid,
                     "bridge B": stack.b.child.pid} if path == "redis"
                    else {"bridge S": stack.s.child.pid})
        cpu0 = {name: cpu_s(p) for name, p in carriers.items()}
        client = subprocess.Popen(cmd, stdout=subprocess.PIPE)  # pylint: disable=consider-using-with
        line = read_line(client, "RESULT", args.window_s + 90)
        cpu1 = {name: cpu_s(p) for name, p in carriers.items()}
        client.wait(30)
        if line is None:
            raise RuntimeError(f"{path}: sse-client gave no RESULT")
        fields = result_fields(line)
        fields["pid"] = pid
        fields["cpu"] = {name: cpu1[name] - cpu0[name] for name in carriers}
        return fields
    finally:
        resp = start_bridge.request("DELETE", f"/api/certificates/progress/{pid}", token=token)
        if resp.status not in (200, 409):
            log(f"warning: cancel of {pid}: {resp!r}")
        follow_to_end(read_bridge, token, pid)
        if mapper is not None:
            mapper.stop.set()
            mapper.join(5)
        if publisher is not None:
            publisher.terminate()
            publisher.wait(10)


def latency_step(stack, bench_bin, args, decode):
    stack.set_host2_relay(False)  # the Redis path renders on host 1, as the single path
    rows = {"redis": [], "single": []}
    for _ in range(args.rounds):
        for path in ("redis", "single"):
            before = load()
            row = latency_round(stack, bench_bin, path, args, decode)
            row["load"] = before
            rows[path].append(row)
            log(f"  {path:6s} round: events={row['events']} from_map={row['from_map']} "
                f"p50={row['p50_ms']} ms p99={row['p99_ms']} ms max={row['max_ms']} ms "
                f"read_p99={row['read_p99_ms']} ms, CPU "
                + ", ".join(f"{k} {v:.3f} s" for k, v in row["cpu"].items()) + f" ({before})")
    stack.set_host2_relay(True)
    return rows


# ---- 2. requests per second ------------------------------------------------------------


def throughput(stack, bridges, args, pages, requests):
    """requests generations of pages pages over --concurrency clients -> figures."""
    token = stack.token
    lock = threading.Lock()
    next_index = [0]
    times = []
    pids = []
    errors = []

    def worker():
        while True:
            with lock:
                i = next_index[0]
                if i >= requests:
                    return
                next_index[0] += 1
            bridge = bridges[i % len(bridges)]
            t0 = time.monotonic()
            try:
                if pages == 1:
                    data = {"recipientName": f"Rate Person {i}", "courseName": "Rate Course",
                            "issueDate": "2024-05-17"}
                else:
                    data = {"recipients": [{"recipientName": f"Rate Person {i}.{k}"}
                                           for k in range(pages)],
                            "courseName": "Rate Course", "issueDate": "2024-05-17"}
                pid = post(bridge, token, data)
                last = follow_to_end(bridge, token, pid)
                if last is None or last.get("status") != "completed":
                    raise RuntimeError(f"{pid}: {last}")
            except Exception as e:  # pylint: disable=broad-except
                with lock:
                    errors.append(str(e))
                continue
            with lock:
                times.append(time.monotonic() - t0)
                pids.append(pid)

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    return {"rps": len(times) / elapsed, "n": len(times), "elapsed_s": elapsed,
            "p50_ms": 1000 * pct(times, 50), "p99_ms": 1000 * pct(times, 99),
            "errors": errors, "pids": pids}


def spread(stack, pids):
    r = stack.redis.client()
    count = {}
    for pid in pids:
        host = r.hget(f"certgen:gen:{pid}", "host")
        name = host.decode() if host else "?"
        count[name] = count.get(name, 0) + 1
    return count


def throughput_step(stack, args):
    out = {}
    for pages, requests in ((1, args.requests), (args.batch_pages, args.batch_requests)):
        for name, bridges, host2 in (("single host, no Redis (S)", [stack.s], None),
                                     ("Redis, one host (A/B)", [stack.a, stack.b], False),
                                     ("Redis, two hosts (A/B)", [stack.a, stack.b], True)):
            if host2 is not None:
                stack.set_host2_relay(host2)
            before = load()
            row = throughput(stack, bridges, args, pages, requests)
            row["load"] = before
            row["pages"] = pages
            if host2 is not None:
                row["spread"] = spread(stack, row["pids"])
            label = f"{pages} page{'s' if pages > 1 else ''}, {name}"
            out[label] = row
            log(f"  {label}: {row['rps']:.1f} requests/s ({row['n']} in "
                f"{row['elapsed_s']:.1f} s), POST->terminal p50 {row['p50_ms']:.0f} ms "
                f"p99 {row['p99_ms']:.0f} ms"
                + (f", hosts {row['spread']}" if "spread" in row else "")
                + (f", {len(row['errors'])} errors: {row['errors'][:2]}" if row["errors"] else "")
                + f" ({before})")
    stack.set_host2_relay(True)
    return out


# ---- 3. the file in Redis ---------------------------------------------------------------


def timed_downloads(bridge, token, pid, rounds):
    sizes, secs = [], []
    for _ in range(rounds):
        t0 = time.monotonic()
        resp = bridge.request("GET", f"/api/certificates/{pid}/download", token=token)
        secs.append(time.monotonic() - t0)
        if resp.status != 200:
            raise RuntimeError(f"download on {bridge.name}: {resp!r}")
        sizes.append(len(resp.body))
    return sizes[0], statistics.median(secs), resp.body


def file_step(stack, args):
    token = stack.token
    batch = {"recipients": [{"recipientName": f"File Person {i}"} for i in range(args.file_pages)],
             "courseName": "File Course", "issueDate": "2024-05-17"}
    pid_s = post(stack.s, token, batch)
    last_s = follow_to_end(stack.s, token, pid_s, 600)
    pid_r = post(stack.a, token, batch)
    last_r = follow_to_end(stack.b, token, pid_r, 600)
    if last_s.get("status") != "completed" or last_r.get("status") != "completed":
        raise RuntimeError(f"file batches: {last_s} / {last_r}")
    size_s, sec_s, _ = timed_downloads(stack.s, token, pid_s, args.file_rounds)
    size_r, sec_r, body = timed_downloads(stack.b, token, pid_r, args.file_rounds)
    if hashlib.sha256(body).hexdigest() != last_r["result"]["checksum"]:
        raise RuntimeError("the download from Redis is not the result's file")
    r = stack.redis.client()
    key = "certgen:bench:file"
    set_s, get_s = [], []
    for _ in range(args.file_rounds):
        t0 = time.monotonic()
        r.set(key, body)
        t1 = time.monotonic()
        got = r.get(key)
        t2 = time.monotonic()
        if got != body:
            raise RuntimeError("GET returned other bytes")
        set_s.append(t1 - t0)
        get_s.append(t2 - t1)
    r.delete(key)
    used = r.info("memory")["used_memory"]
    return {"pages": args.file_pages, "size": len(body), "size_single": size_s,
            "set_ms": 1000 * statistics.median(set_s), "get_ms": 1000 * statistics.median(get_s),
            "setget_mbps": len(body) / (statistics.median(set_s) + statistics.median(get_s)) / 1e6,
            "dl_single_ms": 1000 * sec_s, "dl_redis_ms": 1000 * sec_r,
            "dl_single_mbps": size_s / sec_s / 1e6, "dl_redis_mbps": size_r / sec_r / 1e6,
            "redis_used_memory": used}


# ---- main ---------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build", nargs="?", default=os.path.join(SOURCE_ROOT, "build"))
    parser.add_argument("--streams", type=int, default=10)
    parser.add_argument("--window-s", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch", type=int, default=LAT_BATCH)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--batch-pages", type=int, default=200)
    parser.add_argument("--batch-requests", type=int, default=48)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--file-pages", type=int, default=1000)
    parser.add_argument("--file-rounds", type=int, default=10)
    parser.add_argument("--step", action="append", choices=("latency", "rate", "file"))
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    os.environ["CERTGEN_BUILD_ROOT"] = build
    os.environ.setdefault("CERTGEN_SOURCE_ROOT", SOURCE_ROOT)
    # pylint: disable=import-outside-toplevel
    from certgen_test import bridge as bridge_mod
    from certgen_test import hosts as hosts_mod
    from certgen_test import redis as redis_mod
    from gi.repository import GLib

    def decode(data):
        v = GLib.Variant.new_from_bytes(GLib.VariantType.new("a{sv}"), GLib.Bytes.new(data),
                                        False)
        return v.unpack()

    steps = args.step or ["latency", "rate", "file"]
    bench_bin = os.path.join(build, "tests", "bench")
    log(f"start ({load()}; a shared 2-core machine: every figure is beside other work)")
    stack = Stack(hosts_mod, redis_mod, bridge_mod)
    results = {}
    try:
        if "latency" in steps:
            log(f"1. event delivery, {args.streams} streams, {args.window_s} s windows, "
                f"{args.rounds} rounds a path, batches of {args.batch} pages, "
                f"updateInterval {UPDATE_INTERVAL_MS} ms")
            results["latency"] = latency_step(stack, bench_bin, args, decode)
        if "rate" in steps:
            log(f"2. requests/s, POST -> terminal: {args.requests} of one certificate, "
                f"{args.batch_requests} of {args.batch_pages} pages, by {args.concurrency} "
                "clients; each certgend has one worker thread")
            results["rate"] = throughput_step(stack, args)
        if "file" in steps:
            log(f"3. a {args.file_pages}-page batch's file in Redis")
            results["file"] = file_step(stack, args)
    finally:
        stack.close()
    log(f"end ({load()})")

    print("\nredis-hop results (beside other work):")
    if "latency" in results:
        for path, rows in results["latency"].items():
            # sse-client gives percentiles per round; the figure is the
            # median of the rounds' p50 and the largest p99
            p50 = statistics.median(float(r["p50_ms"]) for r in rows)
            p99 = max(float(r["p99_ms"]) for r in rows)
            events = sum(int(r["events"]) for r in rows)
            mapped = sum(int(r["from_map"]) for r in rows)
            label = ("through Redis (POST A, host 1 renders, relay, streams on B)"
                     if path == "redis" else "single host (POST and streams on S, no Redis)")
            cpu = {}
            for r in rows:
                for k, v in r["cpu"].items():
                    cpu[k] = cpu.get(k, 0.0) + v
            # updates of the generation in the windows (each to --streams streams)
            updates = events / max(1, args.streams)
            print(f"  delivery {label}: p50 {p50:.2f} ms, p99 {p99:.2f} ms "
                  f"({events} events, {mapped} timed by certgend's timestamp_us; "
                  f"{', '.join(r['load'] for r in rows)}); CPU per update "
                  f"(to {args.streams} streams): "
                  + ", ".join(f"{k} {1e6 * v / max(1, updates):.0f} us" for k, v in cpu.items()))
        if results["latency"]["redis"] and results["latency"]["single"]:
            r50 = statistics.median(float(r["p50_ms"]) for r in results["latency"]["redis"])
            s50 = statistics.median(float(r["p50_ms"]) for r in results["latency"]["single"])
            print(f"  the Redis hop adds {r50 - s50:+.2f} ms at p50")
    if "rate" in results:
        for name, row in results["rate"].items():
            print(f"  requests/s, {name}: {row['rps']:.1f} (p50 {row['p50_ms']:.0f} ms, "
                  f"p99 {row['p99_ms']:.0f} ms POST->terminal"
                  + (f", hosts {json.dumps(row['spread'])}" if "spread" in row else "")
                  + (f", {len(row['errors'])} errors" if row["errors"] else "")
                  + f"; {row['load']})")
    if "file" in results:
        f = results["file"]
        print(f"  file of {f['pages']} pages, {f['size']} bytes: SET {f['set_ms']:.1f} ms + "
              f"GET {f['get_ms']:.1f} ms = {f['setget_mbps']:.0f} MB/s (python3-redis, unix "
              f"socket); download through S (certgend's file) {f['dl_single_ms']:.1f} ms = "
              f"{f['dl_single_mbps']:.0f} MB/s, through B (from Redis) {f['dl_redis_ms']:.1f} ms "
              f"= {f['dl_redis_mbps']:.0f} MB/s")
    rel = os.path.relpath(build, SOURCE_ROOT)
    flags = " ".join(a for a in sys.argv[1:] if a != args.build)
    print(f"\nreproduce: cd {SOURCE_ROOT} && meson compile -C {rel} && "
          f"/usr/bin/python3 tests/bench/redis-hop.py {rel} {flags}".rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
