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

one after the other, each measured in-process (interpreter start excluded):
single-certificate documents (p50/p99 ms) and one large document (pages/s).
It prints a table with the targets (certgen single <= 4 ms p50 and >= 6x the
fastest peer; 1,000-recipient batch >= 1,000 pages/s), and saves one
certificate of each tool with a 50 dpi PNG of it in /tmp/certgen-bench-out/.
Not part of the test suite's pass/fail.

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

TARGET_SINGLE_MS = 4.0
TARGET_FACTOR = 6.0
TARGET_BATCH_RATE = 1000.0


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
