#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Memory of data validation in the real worker (issue 15 item 3).

certgend runs from the build tree on a private system bus; each data_json
shape goes through StartGeneration, and certgend's own peak RSS (VmHWM, reset
through /proc/PID/clear_refs before each shape) and RSS afterwards are read
from /proc/PID/status. The limit: peak RSS growth <= 8 x the input + 64 MiB,
and RSS back near where it was once the generation has ended.

    /usr/bin/python3 tests/bench/bench-data-memory.py [BUILD_DIR] [SHAPE...]

Shapes: empty-recipients (15 MiB of {"recipients":[{},{},...]}), huge-string
(one 15 MiB string), deep (15 MiB of nesting), many-fields (15 MiB of
small members), valid-batch (10,000 valid recipients, validated, then the
generation is cancelled once rendering starts). Exit status 1 when a limit
is not met. Not part of the test suite's pass/fail."""

import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))  # an entry point: the certgen_test package

from certgen_test.privatebus import PrivateBus, reset_peak_rss, status_kib  # noqa: E402
from certgen_test.testbus import BusClient, DBusCallError, TERMINAL, wait_until  # noqa: E402

MIB = 1024 * 1024
SIZE = 15 * MIB
CONFIG = {
    "limits": {"start_per_minute": 100000, "max_active_per_owner": 16, "max_active": 32,
               "max_recipients": 10000, "max_data_bytes": 16 * MIB},
    "workers": {"threads": 1},
}
REST = '"courseName":"Memory","issueDate":"2024-05-17"'
# RSS after a generation within this of where it was: "returned"
RETURNED_KIB = 16 * 1024


def empty_recipients():
    n = (SIZE - 20) // 3
    return '{"recipients":[' + ",".join(["{}"] * n) + "]}"


def huge_string():
    return '{"recipientName":"' + "x" * (SIZE - 20) + '"}'


def deep():
    n = (SIZE - 20) // 2
    return '{"recipientName":' + "[" * n + "]" * n + "}"


def many_fields():
    parts = []
    size = 2
    i = 0
    while size < SIZE:
        part = f'"f{i}":0'
        parts.append(part)
        size += len(part) + 1
        i += 1
    return "{" + ",".join(parts) + "}"


def valid_batch():
    people = [{"recipientName": f"Recipient number {i} J\u00f6rg",
               "description": "For completing the course with distinction."}
              for i in range(10000)]
    return json.dumps({"courseName": "Safety training", "issueDate": "2024-05-17",
                       "issuer": "ACME", "recipients": people})


SHAPES = {
    "empty-recipients": empty_recipients,
    "huge-string": huge_string,
    "deep": deep,
    "many-fields": many_fields,
    "valid-batch": valid_batch,
}


def run_shape(client, pid, name, text):
    size = len(text.encode())
    rss_before = status_kib(pid, "VmRSS")
    reset_peak_rss(pid)
    started = time.monotonic()
    outcome = None
    try:
        gen = client.start(text, transaction=f"bench-{name}")
    except DBusCallError as e:
        gen = None
        outcome = f"refused: {e.name.rsplit('.', 1)[-1]}: {e.message[:70]}"
    if gen is not None:
        def done_or_rendering():
            for u in client.updates.get(gen, []):
                if u.get("status") in TERMINAL or u.get("stage") == "pdf_generation":
                    return u
            return None
        u = wait_until(done_or_rendering, 120, f"{name}: validated")
        if u.get("status") not in TERMINAL:
            client.call("Cancel", gen)
        last = client.wait_terminal(gen, 120)
        if last["status"] == "failed":
            outcome = f"failed: {last.get('error', '').rsplit('.', 1)[-1]}: " \
                      f"{last.get('error_message', '')[:70]}"
        else:
            outcome = f"{last['status']} after validating " \
                      f"{last.get('pages_total', 0)} recipients"
    elapsed = time.monotonic() - started
    peak = status_kib(pid, "VmHWM")
    time.sleep(0.5)  # the worker has freed and trimmed before the terminal update
    rss_after = status_kib(pid, "VmRSS")
    growth = (peak - rss_before) * 1024
    limit = 8 * size + 64 * MIB
    met = growth <= limit
    kept = rss_after - rss_before
    print(f"{name:17} input {size / MIB:6.1f} MiB  peak RSS +{growth / MIB:7.1f} MiB  "
          f"limit {limit / MIB:6.1f} MiB  {'met' if met else 'NOT met':7}  "
          f"RSS after {kept / 1024:+7.1f} MiB "
          f"({'returned' if kept <= RETURNED_KIB else 'kept'})  {elapsed:5.2f} s  {outcome}")
    return met, kept


def main():
    args = sys.argv[1:]
    build = args.pop(0) if args and os.path.isdir(args[0]) else os.path.join(SOURCE_ROOT,
                                                                             "build")
    names = args or list(SHAPES)
    print(f"reproduce: /usr/bin/python3 tests/bench/bench-data-memory.py {build} "
          + " ".join(names))
    ok = True
    with PrivateBus(build, config=CONFIG) as bus:
        pid = bus.daemon.pid
        client = BusClient(bus.address, None)
        client.listen(client.name_owner("org.certgen.Certificates1"))
        # warm up: a template load and a first page, so caches are not counted
        warm = client.start('{"recipientName":"Warm Up",' + REST + '}', transaction="warm")
        client.wait_terminal(warm, 60)
        print(f"certgend pid {pid}, RSS {status_kib(pid, 'VmRSS') / 1024:.1f} MiB after a "
              "warm-up generation")
        for name in names:
            met, _kept = run_shape(client, pid, name, SHAPES[name]())
            ok = ok and met
        print(f"certgend RSS {status_kib(pid, 'VmRSS') / 1024:.1f} MiB at the end")
        client.close()
    print("peak limit met for every shape" if ok else "the peak limit was NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
