#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""WeasyPrint peer of the renderer comparison (run by compare-renderers.py):

    /usr/bin/python3 tests/bench/peer_weasyprint.py SPEC [--variant png|svg]

The classic certificate as HTML + CSS, weasyprint.HTML(string=...).write_pdf()
to memory, one <div class="page"> per recipient:
  background  WeasyPrint cannot use a PDF as an image, so background.pdf is
              rasterized by pdftoppm at 150 dpi and shown as a full-page
              <img> (png, the default); --variant svg shows pdftocairo's SVG
              of it instead (vectors, as certgen's output);
  text        absolutely positioned boxes, one CSS class per layout field
              (font, size, style, colour, letter-spacing, alignment), fonts
              found by fontconfig and subset-embedded by WeasyPrint; the first
              baseline put at the layout's y from the font's metrics; the
              shrink-to-fit fields measured with fontTools (a WeasyPrint
              dependency) and given a smaller font-size when too wide;
  QR          python3-qrcode (level M, quiet zone 2, 8-bit mode) as an inline
              SVG path (a rectangle per run of dark modules, as certgen) on a
              box of the quiet-zone colour.
Shared across documents, as a long-running service would: the compiled
stylesheet (weasyprint.CSS), a FontConfiguration and WeasyPrint's image
cache (the background decoded once)."""

import html
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common  # noqa: E402

import qrcode  # noqa: E402
import weasyprint  # noqa: E402
from fontTools.ttLib import TTFont  # noqa: E402
from weasyprint.text.fonts import FontConfiguration  # noqa: E402


class FontMetrics:
    """Advance widths and the ascent/descent HarfBuzz uses (OS/2 typo
    metrics when USE_TYPO_METRICS is set, else hhea), in ems."""

    def __init__(self, path):
        font = TTFont(path, lazy=True)
        upm = font["head"].unitsPerEm
        os2 = font["OS/2"]
        if os2.fsSelection & (1 << 7):
            ascent, descent = os2.sTypoAscender, -os2.sTypoDescender
        else:
            ascent, descent = font["hhea"].ascent, -font["hhea"].descent
        self.ascent, self.descent = ascent / upm, descent / upm
        cmap = font.getBestCmap()
        hmtx = font["hmtx"].metrics
        self.advance = {cp: hmtx[g][0] / upm for cp, g in cmap.items()}
        self.default = hmtx[".notdef"][0] / upm

    def width(self, text, size, letter_spacing):
        return sum(self.advance.get(ord(c), self.default) for c in text) * size \
            + letter_spacing * len(text)

    def baseline(self, size):
        """Distance from the top of a line-height: 1 box to its baseline."""
        return size * ((1 - (self.ascent + self.descent)) / 2 + self.ascent)


class Certificate:
    def __init__(self, spec, variant):
        self.spec = spec
        bg = spec["background"]
        if variant == "png":
            src = bg["png"]
        elif variant == "svg":
            src = bg["svg"]
        else:
            raise SystemExit(f"peer_weasyprint: unknown variant {variant}")
        self.bg_url = "file://" + src
        self.metrics = {}
        w, h = spec["page"]["width"], spec["page"]["height"]
        css = [f"@page {{ size: {w}pt {h}pt; margin: 0 }}",
               "html, body { margin: 0; padding: 0 }",
               f".page {{ position: relative; width: {w}pt; height: {h}pt; overflow: hidden;"
               " break-after: page }",
               ".page:last-child { break-after: auto }",
               f".bg {{ position: absolute; left: 0; top: 0; width: {w}pt; height: {h}pt }}",
               ".t { position: absolute; white-space: nowrap; line-height: 1; margin: 0 }",
               ".qr { position: absolute }",
               ".qr svg { display: block }"]
        for i, f in enumerate(spec["fields"]):
            if f["kind"] == "qr":
                css.append(f".f{i} {{ left: {f['x']}pt; top: {f['y']}pt; width: {f['size']}pt;"
                           f" height: {f['size']}pt; background: {f['background']} }}")
                continue
            m = self.metrics.setdefault(f["font_file"], FontMetrics(f["font_file"]))
            width = f["max_width"]
            left = {"center": f["x"] - width / 2, "right": f["x"] - width}.get(f["align"],
                                                                           f["x"])
            css.append(
                f".f{i} {{ left: {left:.3f}pt; width: {width}pt; top: "
                f"{f['y'] - m.baseline(f['size']):.3f}pt; font-family: '{f['font']}';"
                f" font-size: {f['size']}pt; font-weight: {f['weight']};"
                f" font-style: {'italic' if f['italic'] else 'normal'}; color: {f['color']};"
                f" letter-spacing: {f['letter_spacing']}pt; text-align: {f['align']} }}")
        self.css = weasyprint.CSS(string="\n".join(css))
        self.font_config = FontConfiguration()
        self.image_cache = {}
        self.static = "".join(
            f'<p class="t f{i}">{html.escape(f["text"])}</p>'
            for i, f in enumerate(spec["fields"]) if f["kind"] == "text")

    def qr_svg(self, f, value):
        """python3-qrcode's matrix (quiet zone included) as one SVG path, a
        rectangle per run of dark modules (qrcode's own SvgPathImage writes a
        square per module, which WeasyPrint's SVG code takes 4x longer to
        draw)."""
        qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M,
                           border=f["quiet_zone"])
        qr.add_data(value.encode("utf-8"))
        qr.make(fit=True)
        matrix = qr.get_matrix()
        n = len(matrix)
        d = []
        for y, row in enumerate(matrix):
            x = 0
            while x < n:
                if not row[x]:
                    x += 1
                    continue
                start = x
                while x < n and row[x]:
                    x += 1
                d.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{f["size"]}pt" '
                f'height="{f["size"]}pt" viewBox="0 0 {n} {n}"><path fill="{f["color"]}" '
                f'd="{"".join(d)}"/></svg>')

    def text(self, i, f, text):
        m = self.metrics[f["font_file"]]
        style = ""
        width = m.width(text, f["size"], f["letter_spacing"])
        if f["max_width"] and width > f["max_width"]:
            size = max(f["size"] * f["max_width"] / width, f["min_size"])
            style = (f' style="font-size: {size:.3f}pt; top: '
                     f'{f["y"] - m.baseline(size):.3f}pt"')
        return f'<p class="t f{i}"{style}>{html.escape(text)}</p>'

    def page(self, values):
        out = [f'<div class="page"><img class="bg" src="{self.bg_url}">', self.static]
        for i, f in enumerate(self.spec["fields"]):
            if f["kind"] == "qr":
                out.append(f'<div class="qr f{i}">{self.qr_svg(f, values["qr"])}</div>')
            elif f["kind"] != "text" and f["key"] in values:
                out.append(self.text(i, f, values[f["key"]]))
        out.append("</div>")
        return "".join(out)

    def make(self, recipients, first_number):
        pages = [self.page(peer_common.page_values(self.spec, r, first_number + i))
                 for i, r in enumerate(recipients)]
        doc = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
               "<title>Certificate</title></head><body>" + "".join(pages) + "</body></html>")
        return weasyprint.HTML(string=doc).write_pdf(
            stylesheets=[self.css], font_config=self.font_config, image_cache=self.image_cache)


if __name__ == "__main__":
    peer_common.main(__doc__, "weasyprint", Certificate, "png")
