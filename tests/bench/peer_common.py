# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the Python peers of the renderer comparison share: the spec file
written by compare-renderers.py (layout, fonts, background assets,
recipients), the certificate's data rules (number, date, verification string,
as certgen does them) and the measuring loop.

Measuring, the same for every tool (interpreter start excluded):
  sample  recipient 0, number 1, saved with --out, its QR string printed
          as "VERIFY ...";
  warm-up --warmup single-certificate documents;
  single  --single documents of one certificate each (recipient i, number
          i + 1): p50 / p99 wall-clock ms per document, bytes in memory;
  batch   one document of --batch pages (recipients 0.., numbers from
          100001): pages/s.
Wall-clock times, and the process's CPU time beside them (the machine may
be shared: CPU time is what the work itself cost).
Last line: RESULT <name> single_p50_ms=... single_p99_ms=... single_cpu_p50_ms=...
batch_pages_per_s=... batch_cpu_pages_per_s=... batch_pages=... single_bytes=...
batch_bytes=..."""

import argparse
import datetime
import gc
import hashlib
import json
import time

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
SAMPLE_NUMBER = 1
BATCH_FIRST_NUMBER = 100001


def load_spec(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def certificate_number(year, number):
    """certgen's: "CERT" + year + counter zero-padded to 6 digits."""
    return f"CERT{year:04d}{number:06d}"


def format_date(iso):
    """The template's "%-d %B %Y", English month names."""
    d = datetime.date.fromisoformat(iso)
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def canonical_json(recipient):
    """certgen's canonical JSON: keys sorted, no whitespace, UTF-8 as is."""
    return json.dumps(recipient, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def verification(recipient, number):
    digest = hashlib.sha256(canonical_json(recipient).encode("utf-8")).hexdigest()
    return f"CERTGEN1;N={number};H={digest}"


def recipients(spec, n):
    data = spec["data"]
    names = data["names"]
    return [{"recipientName": names[i % len(names)], "courseName": data["course"],
             "issueDate": data["issue_date"], "issuer": data["issuer"]} for i in range(n)]


def page_values(spec, recipient, number):
    """Per page: the text of every non-static field and the QR string."""
    num = certificate_number(spec["data"]["issued_year"], number)
    values = {}
    for f in spec["fields"]:
        if f["kind"] == "data":
            v = recipient.get(f["key"])
            if v:
                values[f["key"]] = f["prefix"] + (format_date(v) if f["is_date"] else v) \
                    + f["suffix"]
        elif f["kind"] == "number":
            values[f["key"]] = f["prefix"] + num + f["suffix"]
        elif f["kind"] == "qr":
            values["qr"] = verification(recipient, num)
    return values


def parse_args(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("spec", help="spec.json written by compare-renderers.py")
    p.add_argument("--out", help="save the sample certificate here")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--single", type=int, default=300)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--variant", default=None)
    return p.parse_args()


def percentile(sorted_values, p):
    """Nearest rank, as bench-render.c."""
    n = len(sorted_values)
    rank = min(n, max(1, int(p / 100.0 * n + 0.999999)))
    return sorted_values[rank - 1]


def measure(name, spec, args, make_doc):
    """make_doc(list of recipient dicts, first number) -> PDF bytes."""
    n_rec = max(args.warmup + args.single, args.batch, 1)
    recs = recipients(spec, n_rec)

    sample = make_doc([recs[0]], SAMPLE_NUMBER)
    print("VERIFY " + verification(
        recs[0], certificate_number(spec["data"]["issued_year"], SAMPLE_NUMBER)), flush=True)
    if args.out:
        with open(args.out, "wb") as f:
            f.write(sample)

    for i in range(args.warmup):
        make_doc([recs[i]], i + 1)
    times = []
    cpu = []
    size = 0
    gc.collect()
    for i in range(args.warmup, args.warmup + args.single):
        c0 = time.process_time()
        t0 = time.perf_counter()
        size = len(make_doc([recs[i]], i + 1))
        times.append((time.perf_counter() - t0) * 1000.0)
        cpu.append((time.process_time() - c0) * 1000.0)
    times.sort()
    cpu.sort()
    p50, p99 = percentile(times, 50), percentile(times, 99)
    cpu50 = percentile(cpu, 50)
    print(f"single: {args.single} runs, p50 {p50:.3f} ms, p99 {p99:.3f} ms, "
          f"min {times[0]:.3f} ms, max {times[-1]:.3f} ms, CPU p50 {cpu50:.3f} ms, "
          f"{size} bytes", flush=True)

    gc.collect()
    c0 = time.process_time()
    t0 = time.perf_counter()
    batch = make_doc(recs[:args.batch], BATCH_FIRST_NUMBER)
    wall = time.perf_counter() - t0
    cpu_s = time.process_time() - c0
    rate = args.batch / wall
    print(f"batch: {args.batch} pages in {wall:.3f} s = {rate:.1f} pages/s "
          f"(CPU {cpu_s:.3f} s), {len(batch)} bytes", flush=True)
    print(f"RESULT {name} single_p50_ms={p50:.3f} single_p99_ms={p99:.3f} "
          f"single_cpu_p50_ms={cpu50:.3f} batch_pages_per_s={rate:.1f} "
          f"batch_cpu_pages_per_s={args.batch / cpu_s:.1f} batch_pages={args.batch} "
          f"single_bytes={size} batch_bytes={len(batch)}", flush=True)


def main(doc, name, certificate_class, default_variant):
    """A peer's whole command line: python3 peer_NAME.py [options] (see parse_args)."""
    args = parse_args(doc)
    spec = load_spec(args.spec)
    variant = args.variant or default_variant
    cert = certificate_class(spec, variant)
    measure(f"{name}-{variant}", spec, args, cert.make)
