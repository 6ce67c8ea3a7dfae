#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgen's service benchmarks (issue: service core), one command:

    /usr/bin/python3 tests/bench/run-bench.py [BUILD_DIR]

(a) tracker memory per generation at 100,000 generations (target <= 256 B);
(b) method-call latency p50/p99 on a private bus while the workers render, and
    StartGeneration -> terminal update for one certificate (target <= 15 ms p50);
(c) ProgressChanged per second delivered to 100 subscribers, against a trivial
    emitter on the same bus in the same run (target >= 90 % of that ceiling),
    and with 1,000 concurrent generations each followed by its starter alone
    (target >= 80 % of the trivial emitter's rate to 1,000 connections).
Every step runs on its own private bus and a fresh certgend, so none starts
with the generations of the one before still occupying the workers (the
fan-out step measured 0/s after the latency step when they shared one).
Not part of the test suite's pass/fail."""

import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # an entry point: the certgen_test package
from certgen_test.privatebus import PrivateBus  # noqa: E402

CONFIG = {
    "limits": {"start_per_minute": 100000, "max_active_per_owner": 1000, "max_active": 1000,
               "max_tracked": 10000, "max_subscriptions_per_connection": 64},
    "workers": {"threads": 2},
}
STARTERS = 1000


def run(cmd, env=None):
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        print(f"warning: {cmd[0]} exited with {proc.returncode}: {proc.stderr.strip()}")
    out = proc.stdout
    return out


def result(out):
    m = re.search(r"^RESULT \S+ (.*)$", out, re.M)
    return dict(kv.split("=") for kv in m.group(1).split())


LOAD_BEFORE = " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    bench_bus = os.path.join(build, "tests", "bench", "bench-bus")
    rows = []

    out = run([os.path.join(build, "tests", "bench", "bench-tracker-memory")])
    print(out.strip())
    rows.append(("(a) tracker memory", "see above", "<= 256 B per generation"))

    def step(*args):
        """One bench-bus mode on its own private bus and certgend."""
        with PrivateBus(build, config=CONFIG, max_connections=STARTERS + 64) as bus:
            env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address)
            return result(run([bench_bus, *[str(a) for a in args]], env))

    def met(ok):
        return "met" if ok else "NOT met"

    lat = step("latency", 2000)
    rows.append(("(b) GetProgress latency while rendering",
                 f"p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms", "-"))
    e2e = step("e2e", 50)
    rows.append(("(b) StartGeneration -> terminal, 1 certificate",
                 f"p50 {e2e['p50_ms']} ms, p99 {e2e['p99_ms']} ms",
                 f"<= 15 ms p50: {met(float(e2e['p50_ms']) <= 15)}"))
    fan = step("fanout", 100, 5)
    ceil = step("ceiling", 100, 5)
    ratio = float(fan["signals_per_s"]) / float(ceil["signals_per_s"])
    rows.append(("(c) ProgressChanged/s to 100 subscribers, certgend",
                 f"{fan['signals_per_s']}/s", ""))
    rows.append(("(c) same fan-out, trivial emitter (ceiling)", f"{ceil['signals_per_s']}/s", ""))
    rows.append(("(c) certgend / ceiling, 100 subscribers", f"{ratio * 100:.0f} %",
                 f">= 90 %: {met(ratio >= 0.9)}"))
    many = step("starters", STARTERS, 5)
    many_ceil = step("ceiling", STARTERS, 5)
    ratio = float(many["signals_per_s"]) / float(many_ceil["signals_per_s"])
    rows.append((f"(c) {STARTERS} generations, each to its starter, certgend",
                 f"{many['signals_per_s']}/s", ""))
    rows.append((f"(c) trivial emitter to {STARTERS} connections", f"{many_ceil['signals_per_s']}/s",
                 ""))
    rows.append((f"(c) certgend / ceiling, {STARTERS} generations", f"{ratio * 100:.0f} %",
                 f">= 80 %: {met(ratio >= 0.8)}"))

    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'benchmark':<{width}}  {'measured':<34} target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<34} {target}")
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nload average before: {LOAD_BEFORE}; after: {load_after}")
    print(f"reproduce: meson compile -C {os.path.relpath(build)} && "
          f"/usr/bin/python3 tests/bench/run-bench.py {os.path.relpath(build)}")


if __name__ == "__main__":
    main()
