#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""certgen's renderer against the tools people use instead, one command:

    /usr/bin/python3 tests/bench/compare-renderers.py [BUILD_DIR]

The same certificate (data/templates/classic: its background PDF, its static
text, fonts, colours and positions from layout.json; the same recipients,
numbers and QR verification string CERTGEN1;N=<number>;H=<sha256>) is made by

  certgen     tests/bench/bench-render (C, in-process: cg_render_pdf to memory)
  WeasyPrint  tests/bench/peer_weasyprint.py  (HTML/CSS -> PDF)
  ReportLab   tests/bench/peer_reportlab.py   (two variants: background drawn
              as vectors by the script / background imported as an image)
  PDFKit      tests/bench/node/peer_pdfkit.mjs (Node.js)
  pdf-lib     tests/bench/node/peer_pdflib.mjs (Node.js, background page
              embedded with embedPdf)
  Typst       tests/bench/node/peer_typst.mjs (npm
              @myriaddreamin/typst-ts-node-compiler, Typst's compiler as a
              native Node module; a batch is one Typst document of N pages)

one after the other, each measured in-process (interpreter start excluded):
single-certificate documents (p50/p99 ms) and one large document (pages/s).
It prints the load average at start (a warning above 1.0), a table, and
issue 12's goals, each with value, target, ratio and met/NOT met (single
p50 <= 2 ms and >= 6x the fastest peer; batch bytes/page <= 1.5 KB; batch
>= 2x Typst's batch throughput; ZIP >= 800 PDFs/s when measured), and saves one
certificate of each tool with a 50 dpi PNG of it in /tmp/certgen-bench-out/.
Not part of the test suite's pass/fail.

Fairness: every tool gets its data as native objects (certgen's JSON is
parsed beforehand), computes the certificate number, date text and the
SHA-256 verification string itself, writes to memory, and keeps across
documents what a long-running service would (certgen: the template and its
per-thread background recording; ReportLab: registered TTFonts; PDFKit and
pdf-lib: fontkit fonts parsed once; pdf-lib: the background PDF loaded once;
WeasyPrint: compiled CSS, font configuration, image cache). Each peer uses
its fastest reasonable route to the same page: where it can reuse drawing
per document (ReportLab beginForm/doForm, pdf-lib embedPdf) it does, as
certgen does with its form XObject. Differences that remain are the tools'
own: WeasyPrint and ReportLab cannot import PDF pages (raster background,
or the page's vector paths replayed by the script), PDFKit has no forms
(background drawn on every page), the Python peers' QR encoders are pure
Python, WeasyPrint subsets its fonts with fontTools and re-encodes the PNG
for every document. The harness checks that every sample has the same text
(pdftotext) and the same QR string (VERIFY line, and zbarimg when
installed). Wall-clock and process CPU time are both reported: on a busy
machine wall-clock times of all tools go up; compare within one run.

Options: --quick (fewer runs), --only NAME[,NAME], --no-deps (don't install
missing dependencies; tells how instead), --out-dir DIR."""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TEMPLATE = os.path.join(ROOT, "data", "templates", "classic")
PY = "/usr/bin/python3"  # Debian's, with python3-reportlab & co. (not a pyenv one)

# certgen's 2026-11-28T10:00:00Z as in bench-render.c
COURSE = "Advanced Rust Programming"
ISSUE_DATE = "2026-11-28"
ISSUER = "Certgen Academy"
ISSUED_YEAR = 2026

# Same lists and formula as bench-render.c's recipient_name().
FIRST_NAMES = ["Ada", "José", "Zoë", "Grace", "Alan", "Margaret", "Linus", "Barbara",
               "Edsger", "Frances", "Ken", "Radia", "Niklaus", "Hedy", "Donald", "Sophie"]
LAST_NAMES = ["Lovelace", "Müller", "Hopper", "Turing", "Hamilton", "Torvalds", "Liskov",
              "Dijkstra", "Allen", "Thompson", "Perlman", "Wirth", "Lamarr", "Knuth",
              "O'Brien", "Wilson"]

# issue 12's goals
TARGET_SINGLE_MS = 2.0
TARGET_FACTOR = 6.0
TARGET_BYTES_PER_PAGE = 1500.0  # 1.5 KB, read strictly
TARGET_TYPST_FACTOR = 2.0
TARGET_ZIP_RATE = 800.0


def recipient_name(i):
    return f"{FIRST_NAMES[i % 16]} {LAST_NAMES[(i // 16 + i * 7) % 16]}"


def run(cmd, timeout=600, quiet=False):
    if not quiet:
        print("$ " + " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout)
    return proc


# ---------------------------------------------------------------- the spec

def font_file(family, italic):
    style = "Italic" if italic else "Regular"
    proc = run(["fc-match", "-f", "%{file}", f"{family}:style={style}"], quiet=True)
    return proc.stdout.strip()


def hex_rgb(value):
    value = value.lstrip("#")
    return [int(value[i:i + 2], 16) / 255.0 for i in (0, 2, 4)]


def svg_paths(svg_file):
    """The filled paths of pdftocairo's SVG of the background: the page's
    vector drawing, replayed by the peers that draw the page themselves."""
    with open(svg_file, encoding="utf-8") as f:
        svg = f.read()
    out = []
    for m in re.finditer(r"<(path|rect)\b([^>]*)/?>", svg):
        attrs = dict(re.findall(r'([\w:-]+)="([^"]*)"', m.group(2)))
        style = dict(kv.strip().split(":", 1) for kv in attrs.get("style", "").split(";")
                     if ":" in kv)
        fill = style.get("fill", "none")
        if fill == "none" or "stroke:none" not in attrs.get("style", "").replace(" ", "") \
                or "transform" in attrs:
            raise SystemExit(f"compare-renderers: unexpected SVG element in {svg_file}: "
                             f"{m.group(0)[:120]}")
        rgb = [float(v.strip().rstrip("%")) / 100.0
               for v in re.match(r"rgb\(([^)]*)\)", fill).group(1).split(",")]
        if m.group(1) == "rect":
            x, y = float(attrs.get("x", 0)), float(attrs.get("y", 0))
            w, h = float(attrs["width"]), float(attrs["height"])
            d = f"M {x} {y} L {x + w} {y} L {x + w} {y + h} L {x} {y + h} Z"
        else:
            d = attrs["d"]
        out.append({"d": d, "rgb": rgb,
                    "hex": "#" + "".join(f"{round(c * 255):02x}" for c in rgb),
                    "evenodd": style.get("fill-rule", "nonzero") == "evenodd"})
    return out


def make_spec(out_dir, n_names):
    with open(os.path.join(TEMPLATE, "layout.json"), encoding="utf-8") as f:
        layout = json.load(f)
    pdf = os.path.join(TEMPLATE, layout["background"]["file"])
    page = layout["background"].get("page", 1)
    assets = os.path.join(out_dir, "assets")
    os.makedirs(assets, exist_ok=True)
    stem = os.path.join(assets, "background-150dpi")
    for fmt in ("png", "jpeg"):
        subprocess.run(["pdftoppm", "-r", "150", f"-{fmt}", "-singlefile", "-f", str(page),
                        "-l", str(page), pdf, stem], check=True)
    svg = os.path.join(assets, "background.svg")
    subprocess.run(["pdftocairo", "-svg", "-f", str(page), "-l", str(page), pdf, svg],
                   check=True)

    fields = []
    for f in layout["fields"]:
        key = f.get("key")
        kind = "text" if "text" in f else {"certificateNumber": "number", "qr": "qr"}.get(
            key, "data")
        italic = f.get("style") == "italic"
        family = f.get("font", "Noto Serif")
        fields.append({
            "kind": kind, "key": key, "text": f.get("text"),
            "prefix": f.get("prefix", ""), "suffix": f.get("suffix", ""),
            "is_date": f.get("type") == "date",
            "x": f["x"], "y": f["y"], "size": f["size"],
            "min_size": f.get("minSize", f["size"]), "max_width": f.get("maxWidth", 0),
            "fit": f.get("fit", "shrink"), "max_lines": f.get("maxLines", 0),
            "font": family, "italic": italic, "weight": f.get("weight", 400),
            "font_file": font_file(family, italic) if kind != "qr" else None,
            "letter_spacing": f.get("letterSpacing", 0),
            "color": f.get("color", "#000000"), "rgb": hex_rgb(f.get("color", "#000000")),
            "background": f.get("background", "#ffffff"),
            "background_rgb": hex_rgb(f.get("background", "#ffffff")),
            "align": f.get("align", "left"), "quiet_zone": f.get("quietZone", 4),
        })
    spec = {
        "page": {"width": layout["page"]["width"], "height": layout["page"]["height"]},
        "fields": fields,
        "background": {"pdf": pdf, "page": page, "png": stem + ".png", "jpeg": stem + ".jpg",
                       "dpi": 150, "svg": svg, "paths": svg_paths(svg)},
        "data": {"course": COURSE, "issue_date": ISSUE_DATE, "issuer": ISSUER,
                 "issued_year": ISSUED_YEAR,
                 "names": [recipient_name(i) for i in range(n_names)]},
    }
    path = os.path.join(out_dir, "spec.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(spec, f, ensure_ascii=False, indent=1)
    return path


# ---------------------------------------------------------------- the tools

def node_version(pkg):
    try:
        with open(os.path.join(HERE, "node", "node_modules", pkg, "package.json")) as f:
            return json.load(f)["version"]
    except OSError:
        return "?"


def py_version(module, attr):
    proc = run([PY, "-c", f"import {module}; print({module}.{attr})"], quiet=True)
    return proc.stdout.strip() or "?"


def pkg_version(name):
    proc = run(["pkg-config", "--modversion", name], quiet=True)
    return proc.stdout.strip() or "?"


def tools(build, quick):
    """(key, label, background, command, timeout); counts chosen so the
    whole run stays within a few minutes (WeasyPrint and ReportLab are
    slow: smaller batches, said in the table)."""
    q = 4 if quick else 1
    node = shutil.which("node") or "node"
    bench = os.path.join(build, "tests", "bench", "bench-render")

    def tool(key, label, background, argv, warmup, single, batch, *extra):
        """One row: argv plus the counts (single and batch divided for --quick)."""
        command = list(argv) + ["--warmup", warmup, "--single", single // q,
                                "--batch", batch // q] + list(extra)
        return (key, label, background, [str(x) for x in command], 300)

    def peer(*parts):
        return os.path.join(HERE, *parts)

    weasyprint = f"WeasyPrint {py_version('weasyprint', '__version__')}"
    reportlab = f"ReportLab {py_version('reportlab', 'Version')}"
    pdfkit = f"PDFKit {node_version('pdfkit')}"
    return [
        tool("certgen", "certgen (C)", "PDF page (poppler), vectors, form", [bench], 30 // q, 300,
             1000 * q, "--batch-runs", 3 if not quick else 1),
        tool("weasyprint-png", weasyprint, "PNG 150 dpi <img>",
             [PY, peer("peer_weasyprint.py"), "--variant", "png"], 3, 20, 100),
        tool("reportlab-drawn", f"{reportlab} drawn", "vector paths by script, form",
             [PY, peer("peer_reportlab.py"), "--variant", "drawn"], 5, 60, 500),
        tool("reportlab-image", f"{reportlab} image", "JPEG 150 dpi, form",
             [PY, peer("peer_reportlab.py"), "--variant", "image"], 5, 60, 500),
        tool("pdfkit-vector", f"{pdfkit} vector", "vector paths, every page",
             [node, peer("node", "peer_pdfkit.mjs"), "--variant", "vector"], 20, 300, 1000),
        tool("pdfkit-image", f"{pdfkit} image", "PNG 150 dpi",
             [node, peer("node", "peer_pdfkit.mjs"), "--variant", "image"], 20, 300, 1000),
        tool("pdf-lib", f"pdf-lib {node_version('pdf-lib')}", "PDF page (embedPdf), form",
             [node, peer("node", "peer_pdflib.mjs")], 20, 200, 1000),
        tool("typst", f"Typst (npm @myriaddreamin/typst-ts-node-compiler "
             f"{node_version('@myriaddreamin/typst-ts-node-compiler')})",
             "PNG 150 dpi, page background", [node, peer("node", "peer_typst.mjs")], 10, 100,
             1000),
    ]


def missing_deps():
    missing = []
    for mod in ("weasyprint", "reportlab", "qrcode", "fontTools"):
        if run([PY, "-c", f"import {mod}"], quiet=True).returncode != 0:
            missing.append(f"python3 module {mod}")
    for tool in ("pdftoppm", "pdftocairo", "pdftotext", "fc-match", "node"):
        if shutil.which(tool) is None:
            missing.append(tool)
    for pkg in ("pdfkit", "pdf-lib", "qrcode", "fontkit", "@pdf-lib/fontkit",
                "@myriaddreamin/typst-ts-node-compiler"):
        if not os.path.isdir(os.path.join(HERE, "node", "node_modules", pkg)):
            missing.append(f"npm {pkg}")
    return missing


def ensure_deps(install):
    missing = missing_deps()
    if not missing:
        return True
    how = f"sh {os.path.relpath(os.path.join(HERE, 'deps-bench.sh'))}"
    if not install:
        print(f"missing: {', '.join(missing)}\n  install with: {how}")
        return False
    print(f"missing: {', '.join(missing)}; running {how}", flush=True)
    proc = subprocess.run(["sh", os.path.join(HERE, "deps-bench.sh")], check=False)
    if proc.returncode != 0 or missing_deps():
        print(f"could not install everything ({', '.join(missing_deps())}); "
              f"install by hand with: {how}")
        return False
    return True


def result(out):
    m = re.search(r"^RESULT (\S+) (.*)$", out, re.M)
    if not m:
        return None
    return {k: float(v) for k, v in (kv.split("=") for kv in m.group(2).split())}


def decode_qr(pdf, field):
    """The QR code of the sample as a scanner reads it (zbarimg on a 150 dpi
    rendering of the QR's area), or None when zbarimg is not installed."""
    if shutil.which("zbarimg") is None:
        return None
    scale = 150 / 72
    png = pdf[:-4] + "-qr"
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile",
                    "-x", str(int((field["x"] - 10) * scale)),
                    "-y", str(int((field["y"] - 10) * scale)),
                    "-W", str(int((field["size"] + 20) * scale)),
                    "-H", str(int((field["size"] + 20) * scale)), pdf, png], check=False)
    proc = subprocess.run(["zbarimg", "-q", "--raw", png + ".png"], capture_output=True,
                          text=True, check=False)
    return proc.stdout.strip()


def contact_sheet(out_dir, keys):
    """All the 50 dpi PNGs on one image, to look at them side by side."""
    try:
        from PIL import Image, ImageDraw
    except ImportError:
        return None
    ims = [(k, Image.open(os.path.join(out_dir, f"{k}.png"))) for k in keys
           if os.path.exists(os.path.join(out_dir, f"{k}.png"))]
    if not ims:
        return None
    w = max(im.size[0] for _, im in ims)
    h = max(im.size[1] for _, im in ims) + 14
    sheet = Image.new("RGB", (w * 2, h * ((len(ims) + 1) // 2)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (k, im) in enumerate(ims):
        x, y = (i % 2) * w, (i // 2) * h
        draw.text((x + 4, y), k, fill="black")
        sheet.paste(im, (x, y + 14))
    path = os.path.join(out_dir, "all.png")
    sheet.save(path)
    return path


def page_text_ok(pdf, expect):
    """The sample's text, as extracted by poppler: what is missing."""
    proc = run(["pdftotext", "-layout", pdf, "-"], quiet=True)
    text = re.sub(r"\s+", " ", proc.stdout)
    return [e for e in expect if e not in text]


# ---------------------------------------------------------------- the table

def fmt(v, unit=""):
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:.0f}{unit}"
    if v >= 10:
        return f"{v:.1f}{unit}"
    return f"{v:.2f}{unit}"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build", nargs="?", default="build", help="meson build dir (build)")
    ap.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    ap.add_argument("--only", help="comma-separated tool keys")
    ap.add_argument("--no-deps", action="store_true",
                    help="do not install missing dependencies (say how instead)")
    ap.add_argument("--out-dir", default="/tmp/certgen-bench-out")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    out_dir = os.path.abspath(args.out_dir)
    os.makedirs(out_dir, exist_ok=True)
    started = time.monotonic()
    load_start = os.getloadavg()
    print(f"load average at start: {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}"
          + (" -- WARNING: > 1.0, figures are beside other work" if load_start[0] > 1.0
             else ""), flush=True)

    have_peers = ensure_deps(not args.no_deps)
    proc = run(["meson", "compile", "-C", build, "tests/bench/bench-render"], quiet=True)
    if proc.returncode != 0:
        msg = f"{proc.stdout[-1500:]}{proc.stderr[-1500:]}"
        if not os.path.exists(os.path.join(build, "tests", "bench", "bench-render")):
            sys.exit(f"cannot build bench-render in {build}:\n{msg}\n"
                     f"  meson setup {build} && meson compile -C {build}")
        print(f"warning: could not rebuild bench-render, running the one built before:\n{msg}")
    spec = make_spec(out_dir, 2000)

    selected = tools(build, args.quick)
    if args.only:
        keys = args.only.split(",")
        selected = [t for t in selected if t[0] in keys or t[0] == "certgen"]
    if not have_peers:
        selected = [t for t in selected if t[0] == "certgen"]

    results = {}
    verify = {}
    logs = {}
    for key, label, bg, cmd, timeout in selected:
        pdf = os.path.join(out_dir, f"{key}.pdf")
        if key == "certgen":
            cmd = cmd + ["--out", pdf]
        else:  # interpreter, script, spec, options
            cmd = cmd[:2] + [spec] + cmd[2:] + ["--out", pdf]
        t0 = time.monotonic()
        try:
            proc = run(cmd, timeout=timeout)
        except subprocess.TimeoutExpired:
            print(f"  {key}: timed out after {timeout} s")
            continue
        out = proc.stdout
        logs[key] = out + proc.stderr
        for line in out.splitlines():
            if not line.startswith("RESULT"):
                print("  " + line)
        if proc.returncode != 0 or result(out) is None:
            print(f"  {key}: failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
            continue
        print(f"  ({time.monotonic() - t0:.0f} s)", flush=True)
        results[key] = result(out)
        m = re.search(r"^VERIFY (.*)$", out, re.M)
        verify[key] = m.group(1) if m else None
        subprocess.run(["pdftoppm", "-r", "50", "-png", "-singlefile", pdf,
                        os.path.join(out_dir, key)], check=False)

    # Comparable certificates: same QR string, same text on the page.
    expect = [recipient_name(0), COURSE, "28 November 2026", ISSUER, "CERT2026000001",
              "Certificate", "This is to certify that", "Scan to verify"]
    ref_verify = verify.get("certgen")
    with open(spec, encoding="utf-8") as f:
        qr_field = next(x for x in json.load(f)["fields"] if x["kind"] == "qr")
    checks = {}
    for key in results:
        pdf = os.path.join(out_dir, f"{key}.pdf")
        problems = page_text_ok(pdf, expect)
        if verify.get(key) != ref_verify:
            problems.append(f"QR string {verify.get(key)} != certgen's")
        scanned = decode_qr(pdf, qr_field)
        if scanned is not None and scanned != ref_verify:
            problems.append(f"QR scans as {scanned!r}")
        checks[key] = ("ok" + (", QR scanned" if scanned else "")) if not problems \
            else "MISSING " + "; ".join(problems)
    sheet = contact_sheet(out_dir, list(results))

    labels = {t[0]: (t[1], t[2]) for t in selected}
    cg = results.get("certgen")
    peers = {k: v for k, v in results.items() if k != "certgen"}
    fastest = min(peers, key=lambda k: peers[k]["single_p50_ms"]) if peers else None

    rows = []
    for key, r in results.items():
        name, bg = labels[key]
        if key == fastest:
            name = "* " + name
        ratio = "-"
        cpu_ratio = ""
        if cg and key != "certgen":
            ratio = f"{r['single_p50_ms'] / cg['single_p50_ms']:.1f}x"
            cpu_ratio = f" (CPU {r['single_cpu_p50_ms'] / cg['single_cpu_p50_ms']:.1f}x)"
        batch = f"{fmt(r['batch_pages_per_s'])} ({int(r['batch_pages'])} p)"
        rows.append([name, bg, fmt(r["single_p50_ms"]), fmt(r["single_p99_ms"]),
                     fmt(r["single_cpu_p50_ms"]), batch, ratio + cpu_ratio, checks[key]])
        if key == "certgen" and "mt2_pages_per_s" in r:
            rows.append(["certgen, 2 threads at once", "each its own 500-page batch", "",
                         "", "", f"{fmt(r['mt2_pages_per_s'])} ({int(r['mt2_pages'])} p)",
                         "", "aggregate, 2 cores"])
    head = ["tool", "background", "p50 ms", "p99 ms", "CPU p50", "batch pages/s",
            "certgen faster (p50)", "same certificate?"]
    widths = [max(len(str(x[i])) for x in rows + [head]) for i in range(len(head))]
    print()
    print("single = one certificate per PDF, wall-clock ms (CPU p50: the process's CPU "
          "time); batch = one PDF of N pages")
    line = "  ".join(h.ljust(widths[i]) for i, h in enumerate(head))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(x).ljust(widths[i]) for i, x in enumerate(r)).rstrip())
    if fastest:
        print(f"* fastest peer (single p50): {labels[fastest][0]}")
    print(f"certgen: cairo {pkg_version('cairo')}, pango {pkg_version('pango')}, poppler "
          f"{pkg_version('poppler-glib')}, libqrencode {pkg_version('libqrencode')}; "
          f"node {run(['node', '--version'], quiet=True).stdout.strip()}")

    print("\ngoals (issue 12; value, target, ratio, met/NOT met)")
    if cg:
        def goal(name, value, target, unit, higher_is_better, note=""):
            if value is None:
                print(f"  {name}: not measured{note}")
                return
            ratio = value / target if higher_is_better else target / value
            met = value >= target if higher_is_better else value <= target
            sign = ">=" if higher_is_better else "<="
            print(f"  {name}: {value:.2f}{unit}, target {sign} {target:g}{unit}, "
                  f"ratio {ratio:.2f} -> {'met' if met else 'NOT met'}{note}")

        goal("single p50", cg["single_p50_ms"], TARGET_SINGLE_MS, " ms", False,
             f" (CPU p50 {cg['single_cpu_p50_ms']:.2f} ms)")
        if fastest:
            f = peers[fastest]
            which = "fastest peer" if not args.only else "fastest of the peers run"
            goal(f"single vs the {which} ({labels[fastest][0]}, {f['single_p50_ms']:.2f} ms)",
                 f["single_p50_ms"] / cg["single_p50_ms"], TARGET_FACTOR, "x", True)
        else:
            goal("single vs the fastest peer", None, TARGET_FACTOR, "x", True)
        bytes_per_page = cg["batch_bytes"] / cg["batch_pages"] if "batch_bytes" in cg else None
        goal(f"batch bytes/page ({int(cg['batch_pages'])} pages)", bytes_per_page,
             TARGET_BYTES_PER_PAGE, " B", False)
        typst = results.get("typst")
        goal("batch vs Typst's batch (in-process, 1 thread; the end-to-end D-Bus figure is "
             "the pipeline benchmark's)",
             cg["batch_pages_per_s"] / typst["batch_pages_per_s"] if typst else None,
             TARGET_TYPST_FACTOR, "x", True, "" if typst else " (Typst did not run)")
        goal("ZIP PDFs/s on 2 cores", None, TARGET_ZIP_RATE, "", True,
             " here (in-process only; see tests/bench/bench-zip.py over the bus)")
    if not have_peers:
        print("  (peers skipped: dependencies missing, see above)")
    try:
        load = os.getloadavg()
        print(f"\nmachine: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} "
              f"{load[2]:.2f} (other work on the machine inflates wall-clock times; CPU "
              f"times are less affected)")
    except OSError:
        pass
    print(f"certificates and 50 dpi PNGs of them: {out_dir}/<tool>.pdf, <tool>.png"
          + (f"; side by side: {sheet}" if sheet else ""))
    print(f"total run time {time.monotonic() - started:.0f} s")
    rel = os.path.relpath(build, ROOT) if build.startswith(ROOT) else build
    cmd = (f"/usr/bin/python3 tests/bench/compare-renderers.py {rel}"
           + (" --quick" if args.quick else "") + (f" --only {args.only}" if args.only else ""))
    print(f"reproduce: cd {ROOT} && (test -d {rel} || meson setup {rel}) && {cmd}\n"
          f"  (it installs what is missing with tests/bench/deps-bench.sh and rebuilds "
          f"bench-render)")


if __name__ == "__main__":
    main()
