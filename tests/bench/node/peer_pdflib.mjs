// SPDX-License-Identifier: LGPL-2.1-or-later
// pdf-lib peer of the renderer comparison (run by compare-renderers.py):
//
//   node tests/bench/node/peer_pdflib.mjs SPEC
//
// The classic certificate with pdf-lib, saved to memory:
//   background  background.pdf's page embedded with embedPdf (a form XObject,
//               written once per document, drawn with drawPage on every page,
//               as certgen does); the background PDF is parsed once at
//               start-up (embedPdf takes a loaded PDFDocument);
//   text        drawText per page, static text included; fonts (Noto Serif /
//               Noto Serif Display TTF) embedded as subsets through
//               @pdf-lib/fontkit, each font file parsed once and the parsed
//               font shared by all documents (a caching fontkit handed to
//               registerFontkit: pdf-lib would re-parse the bytes, GSUB/GPOS
//               included, for every document); letter spacing with the Tc
//               operator, shrink-to-fit measured with widthOfTextAtSize;
//   QR          npm qrcode (level M, 8-bit), a rectangle per run of dark
//               modules, one drawSvgPath.
import fontkitBase from '@pdf-lib/fontkit';
import { readFileSync } from 'node:fs';
import { PDFDocument, rgb, setCharacterSpacing } from 'pdf-lib';
import { hexRgb, measure, options, pageValues, qrPath } from './peer_common.mjs';

const opts = options();
const { spec } = opts;
const W = spec.page.width;
const H = spec.page.height;

const parsed = new Map(); // font bytes -> fontkit font
const fontkit = {
  create(data, postscriptName) {
    let font = parsed.get(data);
    if (font === undefined) {
      font = fontkitBase.create(data, postscriptName);
      parsed.set(data, font);
    }
    return font;
  },
};

const fontBytes = new Map(); // file -> bytes
for (const f of spec.fields) {
  if (f.font_file && !fontBytes.has(f.font_file)) {
    fontBytes.set(f.font_file, readFileSync(f.font_file));
  }
}
const background = await PDFDocument.load(readFileSync(spec.background.pdf));
const colors = new Map(spec.fields.flatMap((f) => [f.color, f.background])
  .map((c) => [c, rgb(...hexRgb(c))]));

const staticWidth = new Map(); // static field -> width: measured once
function text(page, fonts, f, str) {
  const font = fonts.get(f.font_file);
  let size = f.size;
  let ls = f.letter_spacing;
  let width = f.kind === 'text' ? staticWidth.get(f) : undefined;
  if (width === undefined) {
    width = font.widthOfTextAtSize(str, size) + ls * str.length;
    if (f.kind === 'text') staticWidth.set(f, width);
  }
  if (f.max_width && width > f.max_width) {
    const scale = Math.max(f.max_width / width, f.min_size / size);
    size *= scale;
    ls *= scale;
    width *= scale;
  }
  let x = f.x;
  if (f.align === 'center') x -= width / 2;
  else if (f.align === 'right') x -= width;
  if (ls) page.pushOperators(setCharacterSpacing(ls));
  page.drawText(str, { x, y: H - f.y, size, font, color: colors.get(f.color) });
  if (ls) page.pushOperators(setCharacterSpacing(0));
}

function qr(page, f, value) {
  const { d, modules } = qrPath(value, f.quiet_zone);
  page.drawRectangle({ x: f.x, y: H - f.y - f.size, width: f.size, height: f.size,
    color: colors.get(f.background) });
  page.drawSvgPath(d, { x: f.x, y: H - f.y, scale: f.size / modules,
    color: colors.get(f.color) });
}

async function makeDoc(recipients, firstNumber) {
  const doc = await PDFDocument.create();
  doc.setTitle('Certificate');
  doc.setCreator('certgen benchmark (pdf-lib)');
  doc.registerFontkit(fontkit);
  const fonts = new Map();
  for (const [file, bytes] of fontBytes) {
    fonts.set(file, await doc.embedFont(bytes, { subset: true }));
  }
  const [bg] = await doc.embedPdf(background, [spec.background.page - 1]);
  recipients.forEach((r, i) => {
    const values = pageValues(spec, r, firstNumber + i);
    const page = doc.addPage([W, H]);
    page.drawPage(bg, { x: 0, y: 0, width: W, height: H });
    for (const f of spec.fields) {
      if (f.kind === 'text') text(page, fonts, f, f.text);
      else if (f.kind === 'qr') qr(page, f, values.qr);
      else if (values[f.key] !== undefined) text(page, fonts, f, values[f.key]);
    }
  });
  return doc.save();
}

await measure('pdf-lib', opts, makeDoc);
