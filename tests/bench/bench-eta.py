#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""How good expected_end_us is on a real batch (issue 11 item 4).

certgend runs from the build tree on a private system bus. A warm-up batch
(--warmup pages) builds the template's history (GetStatistics' window); then
a batch of --pages pages runs to the end while every ProgressChanged is
recorded. For the first update that knows the pages and the first at or
past 10 %, 25 %, 50 % and 75 % of the pages: its expected_end_us and the
error against the real end (the terminal update's finish time), as a share
of the batch's whole duration (started_at_us to the end). The target:
within ±25 % from 10 % on. Prints the figures and the command that
reproduces it; exit status 1 when an estimate from 10 % on is off by more.

    /usr/bin/python3 tests/bench/bench-eta.py [BUILD_DIR] [--pages N] [--warmup N]

Not part of the test suite's pass/fail."""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # an entry point: the certgen_test package

from certgen_test.privatebus import PrivateBus  # noqa: E402
from certgen_test.testbus import BusClient, drain_main_context  # noqa: E402

MIB = 1024 * 1024
CONFIG = {
    "limits": {"max_recipients": 100000, "max_data_bytes": 64 * MIB},
}
MARKS = (10, 25, 50, 75)
TARGET = 0.25


def batch(pages):
    return json.dumps({"recipients": [{"recipientName": f"Recipient number {i}"}
                                      for i in range(pages)],
                       "courseName": "Estimates 101", "issueDate": "2024-05-17",
                       "issuer": "certgen benchmark"})


def run(client, pages, seconds):
    """One batch to the end -> its updates."""
    pid = client.start(batch(pages), transaction=f"bench-eta-{pages}",
                       timeout_ms=int(seconds * 1000))
    final = client.wait_terminal(pid, seconds)
    if final["status"] != "completed":
        raise RuntimeError(f"batch of {pages}: {final['status']}: {final.get('error_message')}")
    drain_main_context()
    return client.updates[pid]


def parse_options():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build", nargs="?", default="build")
    for name, default in (("--pages", 10000), ("--warmup", 500)):
        parser.add_argument(name, type=int, default=default)
    return parser.parse_args()


def main():
    opts = parse_options()
    build = os.path.abspath(opts.build)
    print(f"reproduce: /usr/bin/python3 tests/bench/bench-eta.py {opts.build} "
          f"--pages {opts.pages} --warmup {opts.warmup}")

    with PrivateBus(build, config=CONFIG) as bus:
        client = BusClient(bus.address, None)
        client.listen(client.name_owner("org.certgen.Certificates1"))
        t0 = time.monotonic()
        run(client, opts.warmup, 600)
        warm_s = time.monotonic() - t0
        stats = client.call("GetStatistics")["templates"]["classic"]
        print(f"warm-up: {opts.warmup} pages in {warm_s:.1f} s; history "
              f"p50 {stats['page_ms_p50']:.3f} ms/page, p95 {stats['page_ms_p95']:.3f}")
        updates = run(client, opts.pages, 3600)

    final = updates[-1]
    end = final["expected_end_us"]
    start = final["started_at_us"]
    duration = end - start
    print(f"batch: {opts.pages} pages in {duration / 1e6:.2f} s "
          f"({duration / 1000 / opts.pages:.3f} ms/page overall), {len(updates)} updates")
    print(f"{'at':>14} {'pages done':>10} {'elapsed s':>10} {'expected end s':>15} {'error':>8}")
    ok = True
    known = [u for u in updates if u["pages_total"] > 0 and u["status"] == "in_progress"]
    rows = [("pages known", known[0] if known else None)]
    for mark in MARKS:
        rows.append((f"{mark} %", next((u for u in known
                                        if u["pages_done"] * 100 >= mark * opts.pages), None)))
    for label, u in rows:
        if u is None:
            print(f"{label:>14} {'-':>10}   (no update)")
            ok = False
            continue
        error = (u["expected_end_us"] - end) / duration if u["expected_end_us"] > 0 else None
        shown = f"{error * 100:+7.1f}%" if error is not None else "   none"
        print(f"{label:>14} {u['pages_done']:>10} {(u['timestamp_us'] - start) / 1e6:>10.2f} "
              f"{(u['expected_end_us'] - start) / 1e6 if u['expected_end_us'] else 0:>15.2f} "
              f"{shown}")
        if label != "pages known" and (error is None or abs(error) > TARGET):
            ok = False
    print(f"within ±{TARGET * 100:.0f} % from 10 % on" if ok
          else f"NOT within ±{TARGET * 100:.0f} % from 10 % on")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
