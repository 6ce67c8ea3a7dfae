#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ReportLab peer of the renderer comparison (run by compare-renderers.py):

    /usr/bin/python3 tests/bench/peer_reportlab.py SPEC --variant drawn|image|image-png

The classic certificate on a reportlab.pdfgen Canvas, writing to memory:
  drawn      the page's drawing made by the script itself: the background's
             61 filled vector paths (taken once at start-up from pdftocairo's
             SVG of background.pdf, as hard-coded drawing code would be);
  image      ReportLab cannot import PDF pages (python3-pdfrw, which could, is
             not packaged in Debian 12): background.pdf rasterized by pdftoppm
             at 150 dpi, drawn with drawImage. JPEG, which ReportLab embeds
             as is; image-png: the PNG, which it decodes and re-compresses.
In every variant the background and the static text go into one form
XObject per document (beginForm/doForm: written once, shown on every page,
as certgen does), fonts (Noto Serif / Noto Serif Display TTF, subset and
embedded by ReportLab) are registered once at start-up, text is measured
with pdfmetrics (shrink-to-fit as the template says), the QR code is
ReportLab's own reportlab.graphics.barcode.qr widget (level M, quiet zone 2,
vector rectangles, one per run of dark modules)."""

import io
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common  # noqa: E402

import reportlab.rl_config  # noqa: E402

# ReportLab's documented speed switch: no attribute validation of every
# graphics shape (the QR widget makes one rectangle per run of modules).
reportlab.rl_config.shapeChecking = 0

from reportlab.graphics import renderPDF  # noqa: E402
from reportlab.graphics.barcode.qr import QrCodeWidget  # noqa: E402
from reportlab.graphics.shapes import Drawing  # noqa: E402
from reportlab.lib.colors import Color  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.ttfonts import TTFont  # noqa: E402
from reportlab.pdfgen import canvas as rl_canvas  # noqa: E402

TOKEN = re.compile(r"[MLCZ]|-?[0-9.]+(?:e-?[0-9]+)?")


def parse_path(d):
    """SVG path data of pdftocairo (absolute M, L, C, Z) -> [(op, coords)]."""
    ops = []
    op, nums = None, []
    for tok in TOKEN.findall(d):
        if tok in "MLCZ":
            if op is not None:
                ops.append((op, nums))
            op, nums = tok, []
        else:
            nums.append(float(tok))
    if op is not None:
        ops.append((op, nums))
    return ops


class Certificate:
    def __init__(self, spec, variant):
        self.spec = spec
        self.variant = variant
        self.width = spec["page"]["width"]
        self.height = spec["page"]["height"]
        self.fonts = {}
        for f in spec["fields"]:
            if f["font_file"] and f["font_file"] not in self.fonts:
                name = f"F{len(self.fonts)}"
                pdfmetrics.registerFont(TTFont(name, f["font_file"]))
                self.fonts[f["font_file"]] = name
        self.paths = [(p["rgb"], p["evenodd"], parse_path(p["d"]))
                      for p in spec["background"]["paths"]]
        self.image = {"image": spec["background"]["jpeg"],
                      "image-png": spec["background"]["png"]}.get(variant)
        if variant not in ("drawn", "image", "image-png"):
            raise SystemExit(f"peer_reportlab: unknown variant {variant}")

    def text(self, c, f, text):
        font = self.fonts[f["font_file"]]
        size = f["size"]
        ls = f["letter_spacing"]
        width = pdfmetrics.stringWidth(text, font, size) + ls * len(text)
        if f["max_width"] and width > f["max_width"]:
            scale = max(f["max_width"] / width, f["min_size"] / size)
            size *= scale
            ls *= scale
            width *= scale
        x = f["x"]
        if f["align"] == "center":
            x -= width / 2
        elif f["align"] == "right":
            x -= width
        c.setFont(font, size)
        c.setFillColorRGB(*f["rgb"])
        c.drawString(x, self.height - f["y"], text, charSpace=ls)

    def background(self, c):
        if self.image:
            c.drawImage(self.image, 0, 0, width=self.width, height=self.height)
        else:
            c.saveState()
            c.transform(1, 0, 0, -1, 0, self.height)  # SVG's y goes down
            for rgb, evenodd, ops in self.paths:
                p = c.beginPath()
                for op, n in ops:
                    if op == "M":
                        p.moveTo(n[0], n[1])
                    elif op == "L":
                        for i in range(0, len(n), 2):
                            p.lineTo(n[i], n[i + 1])
                    elif op == "C":
                        for i in range(0, len(n), 6):
                            p.curveTo(*n[i:i + 6])
                    else:
                        p.close()
                c.setFillColorRGB(*rgb)
                c.drawPath(p, stroke=0, fill=1,
                           fillMode=rl_canvas.FILL_EVEN_ODD if evenodd else rl_canvas.FILL_NON_ZERO)
            c.restoreState()
        for f in self.spec["fields"]:
            if f["kind"] == "text":
                self.text(c, f, f["text"])

    def qr(self, c, f, value):
        size = f["size"]
        c.setFillColorRGB(*f["background_rgb"])
        c.rect(f["x"], self.height - f["y"] - size, size, size, stroke=0, fill=1)
        widget = QrCodeWidget(value, barLevel="M", barBorder=f["quiet_zone"], barWidth=size,
                              barHeight=size, barFillColor=Color(*f["rgb"]))
        d = Drawing(size, size)
        d.add(widget)
        renderPDF.draw(d, c, f["x"], self.height - f["y"] - size)

    def make(self, recipients, first_number):
        buf = io.BytesIO()
        c = rl_canvas.Canvas(buf, pagesize=(self.width, self.height))
        c.setTitle("Certificate")
        c.setCreator("certgen benchmark (ReportLab)")
        c.beginForm("bg")
        self.background(c)
        c.endForm()
        for i, r in enumerate(recipients):
            values = peer_common.page_values(self.spec, r, first_number + i)
            c.doForm("bg")
            for f in self.spec["fields"]:
                if f["kind"] == "qr":
                    self.qr(c, f, values["qr"])
                elif f["kind"] != "text" and f["key"] in values:
                    self.text(c, f, values[f["key"]])
            c.showPage()
        c.save()
        return buf.getvalue()


if __name__ == "__main__":
    peer_common.main(__doc__, "reportlab", Certificate, "drawn")
