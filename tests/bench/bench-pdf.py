#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""One PDF batch on both workers (issue 12's goal: a 1,000-recipient batch
end to end over D-Bus at >= 2,500 pages/s on 2 cores).

certgend runs from the build tree on a private system bus, once with
[workers] threads=1 and once with threads=2; each time a warm-up batch, then
a PDF batch of N recipients (default 1,000) goes through StartGeneration.
The figure of the goal is end to end: the reply to StartGeneration to the
terminal "completed" update (the pages rendered in ranges by both workers,
joined (cg-pdf-concat.c), written, fsynced and checksummed). pdf_generation's own
pages per second (first update of the stage to the update with every page
rendered) is printed beside it. The batch logic is bench-zip.py's.

    /usr/bin/python3 tests/bench/bench-pdf.py [BUILD_DIR] [N] [RUNS]

Not part of the test suite's pass/fail."""

import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

GOAL = 2500  # pages per second end to end on 2 cores (issue 12)


def bench_zip():
    spec = importlib.util.spec_from_file_location("bench_zip", os.path.join(HERE, "bench-zip.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    zb = bench_zip()
    build, n, runs = zb.parse_args(sys.argv[1:])
    print(f"PDF batch of {n} recipients, best of {runs} runs, on {os.cpu_count()} CPUs "
          f"(load before: {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    results = {}
    for threads in (1, 2):
        render, e2e, size, stages = zb.measure(build, threads, n, runs, "pdf", key=1)
        results[threads] = e2e
        print(f"  [workers] threads={threads}: StartGeneration to completed {e2e:7.1f} pages/s, "
              f"pdf_generation {render:7.1f} pages/s, PDF {size / 1048576:.2f} MiB "
              f"({size / n:.0f} B/page)")
        print(f"    stages: {zb.stage_split(stages)}")
    ratio = results[2] / results[1]
    print(f"  2 workers / 1 worker: {ratio:.2f}x; goal >= {GOAL} pages/s on 2 cores: "
          f"{'met' if results[2] >= GOAL else 'NOT met'} ({results[2]:.0f} pages/s)")
    print(f"reproduce: meson compile -C {os.path.relpath(build)} && /usr/bin/python3 "
          f"tests/bench/bench-pdf.py {os.path.relpath(build)} {n} {runs}")


if __name__ == "__main__":
    main()
