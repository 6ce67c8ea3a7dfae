// SPDX-License-Identifier: LGPL-2.1-or-later
// PDFKit peer of the renderer comparison (run by compare-renderers.py):
//
//   node tests/bench/node/peer_pdfkit.mjs SPEC [--variant vector|image]
//
// The classic certificate with PDFKit, collected in memory from its stream.
// PDFKit cannot import PDF pages and has no public form XObject API, so the
// background is drawn on every page:
//   vector  (default) the page's drawing made by the script: the 61 filled
//           paths of background.pdf (pdftocairo's SVG, taken once at start-up)
//           through doc.path(svgPathData);
//   image   background.pdf rasterized by pdftoppm at 150 dpi, a PNG that
//           PDFKit embeds once per document (its image registry) as is.
// Static and variable text per page, fonts (Noto Serif / Noto Serif
// Display TTF, parsed once at start-up) subset and embedded by PDFKit, text
// measured with widthOfString for shrink-to-fit; QR: npm qrcode (level M,
// 8-bit), a rectangle per run of dark modules, one path.
import { readFileSync } from 'node:fs';
import * as fontkit from 'fontkit';
import PDFDocument from 'pdfkit';
import { measure, options, pageValues, qrPath } from './peer_common.mjs';

const opts = options();
const { spec } = opts;
const variant = opts.variant ?? 'vector';
if (!['vector', 'image'].includes(variant)) throw new Error(`unknown variant ${variant}`);
const W = spec.page.width;
const H = spec.page.height;

// Fonts parsed once by fontkit (PDFKit's own font engine) and shared by all
// documents, as a long-running service would: PDFKit takes a fontkit font
// object as well as the file's bytes, and re-parsing the bytes (GSUB/GPOS)
// for every document costs more than the rest of a certificate.
const fontData = new Map(); // file -> [name, fontkit font]
for (const f of spec.fields) {
  if (f.font_file && !fontData.has(f.font_file)) {
    fontData.set(f.font_file, [`F${fontData.size}`, fontkit.create(readFileSync(f.font_file))]);
  }
}
const bgImage = spec.background.png;

function text(doc, f, str) {
  const font = fontData.get(f.font_file)[0];
  let size = f.size;
  let ls = f.letter_spacing;
  doc.font(font).fontSize(size);
  let width = doc.widthOfString(str) + ls * str.length;
  if (f.max_width && width > f.max_width) {
    const scale = Math.max(f.max_width / width, f.min_size / size);
    size *= scale;
    ls *= scale;
    width *= scale;
    doc.fontSize(size);
  }
  let x = f.x;
  if (f.align === 'center') x -= width / 2;
  else if (f.align === 'right') x -= width;
  doc.fillColor(f.color).text(str, x, f.y, {
    lineBreak: false, characterSpacing: ls, baseline: 'alphabetic',
  });
}

function background(doc) {
  if (variant === 'image') {
    doc.image(bgImage, 0, 0, { width: W, height: H });
  } else {
    for (const p of spec.background.paths) {
      doc.path(p.d).fill(p.hex, p.evenodd ? 'even-odd' : 'non-zero');
    }
  }
}

function qr(doc, f, value) {
  const { d, modules } = qrPath(value, f.quiet_zone);
  doc.rect(f.x, f.y, f.size, f.size).fill(f.background);
  doc.save().translate(f.x, f.y).scale(f.size / modules).path(d).fill(f.color).restore();
}

function makeDoc(recipients, firstNumber) {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: [W, H], margin: 0, autoFirstPage: false,
      info: { Title: 'Certificate', Creator: 'certgen benchmark (PDFKit)' } });
    const chunks = [];
    doc.on('data', (c) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    for (const [name, data] of fontData.values()) doc.registerFont(name, data);
    recipients.forEach((r, i) => {
      const values = pageValues(spec, r, firstNumber + i);
      doc.addPage({ size: [W, H], margin: 0 });
      background(doc);
      for (const f of spec.fields) {
        if (f.kind === 'text') text(doc, f, f.text);
        else if (f.kind === 'qr') qr(doc, f, values.qr);
        else if (values[f.key] !== undefined) text(doc, f, values[f.key]);
      }
    });
    doc.end();
  });
}

await measure(`pdfkit-${variant}`, opts, makeDoc);
