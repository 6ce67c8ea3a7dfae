// SPDX-License-Identifier: LGPL-2.1-or-later
// Typst peer of the renderer comparison (run by compare-renderers.py):
//
//   node tests/bench/node/peer_typst.mjs SPEC
//
// The classic certificate with Typst, through npm
// @myriaddreamin/typst-ts-node-compiler (Typst's Rust compiler as a native
// Node module; PyPI `typst` is not reachable on every machine, see
// deps-bench.sh). One compiler, made once (fonts loaded once, as a service
// would keep it); every document is one Typst source generated from the
// data, compiled to a PDF in memory: a batch is one document with a page
// per recipient.
//   background  the 150 dpi PNG of background.pdf (Typst before 0.14 does
//               not import PDF pages), one image, written once per document;
//   text        the static and data texts placed with their baselines at
//               the template's y, aligned in a box of maxWidth, the same
//               fonts (fontconfig's files of Noto Serif / Noto Serif
//               Display), letter spacing as `tracking`;
//   QR          npm qrcode (level M, 8-bit), a rectangle per run of dark
//               modules.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { NodeCompiler } from '@myriaddreamin/typst-ts-node-compiler';
import { measure, options, pageValues } from './peer_common.mjs';
import QRCode from 'qrcode';

const require = createRequire(import.meta.url);
export const TYPST_VERSION =
  require('@myriaddreamin/typst-ts-node-compiler/package.json').version;

const opts = options();
const { spec } = opts;
const W = spec.page.width;
const H = spec.page.height;

const fontDirs = [...new Set(spec.fields.filter((f) => f.font_file).map((f) => dirname(f.font_file)))];
const compiler = NodeCompiler.create({ workspace: '/', fontArgs: [{ fontPaths: fontDirs }] });
compiler.mapShadow('/background.png', readFileSync(spec.background.png));

const str = (s) => JSON.stringify(s);

function textCall(f, value) {
  const width = f.max_width || W;
  let dx = f.x;
  if (f.align === 'center') dx -= width / 2;
  else if (f.align === 'right') dx -= width;
  const align = f.align === 'center' ? 'center' : f.align === 'right' ? 'right' : 'left';
  return `#place(top + left, dx: ${dx}pt, dy: ${f.y}pt, box(width: ${width}pt, ` +
    `align(${align}, text(font: ${str(f.font)}, size: ${f.size}pt, ` +
    `style: ${f.italic ? '"italic"' : '"normal"'}, weight: ${f.weight}, ` +
    `tracking: ${f.letter_spacing}pt, fill: rgb(${str(f.color)}), ${str(value)}))))\n`;
}

function qrCall(f, value) {
  const qr = QRCode.create([{ data: Buffer.from(value, 'utf8'), mode: 'byte' }],
    { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const data = qr.modules.data;
  const m = f.size / (n + 2 * f.quiet_zone);
  const runs = [];
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n;) {
      if (!data[y * n + x]) { x++; continue; }
      const start = x;
      while (x < n && data[y * n + x]) x++;
      runs.push(`(${start},${y},${x - start})`);
    }
  }
  return `#place(top + left, dx: ${f.x}pt, dy: ${f.y}pt, rect(width: ${f.size}pt, ` +
    `height: ${f.size}pt, fill: rgb(${str(f.background)}), stroke: none))\n` +
    `#qr(${f.x + f.quiet_zone * m}, ${f.y + f.quiet_zone * m}, ${m}, ` +
    `rgb(${str(f.color)}), (${runs.join(',')},))\n`;
}

function source(recipients, firstNumber) {
  let s = `#set document(title: "Certificate")\n` +
    `#set page(width: ${W}pt, height: ${H}pt, margin: 0pt, ` +
    `background: image("/background.png", width: ${W}pt, height: ${H}pt))\n` +
    `#set text(top-edge: "baseline", bottom-edge: "baseline")\n` +
    `#let qr(x0, y0, m, c, runs) = for (x, y, w) in runs { place(top + left, ` +
    `dx: (x0 + x * m) * 1pt, dy: (y0 + y * m) * 1pt, rect(width: w * m * 1pt, ` +
    `height: m * 1pt, fill: c, stroke: none)) }\n`;
  recipients.forEach((r, i) => {
    const values = pageValues(spec, r, firstNumber + i);
    if (i > 0) s += '#pagebreak()\n';
    for (const f of spec.fields) {
      if (f.kind === 'text') s += textCall(f, f.text);
      else if (f.kind === 'qr') s += qrCall(f, values.qr);
      else if (values[f.key] !== undefined) s += textCall(f, values[f.key]);
    }
  });
  return s;
}

async function makeDoc(recipients, firstNumber) {
  const pdf = compiler.pdf({ mainFileContent: source(recipients, firstNumber) });
  compiler.evictCache(10);
  return pdf;
}

console.log(`TYPST @myriaddreamin/typst-ts-node-compiler ${TYPST_VERSION}`);
await measure('typst', opts, makeDoc);
