// SPDX-License-Identifier: LGPL-2.1-or-later
// What the Node.js peers of the renderer comparison share (as
// tests/bench/peer_common.py for the Python ones): the spec file written by
// compare-renderers.py, the certificate's data rules (number, date,
// verification string, as certgen does them), the QR matrix and the
// measuring loop:
//   sample  recipient 0, number 1, saved with --out, "VERIFY <qr string>";
//   warm-up --warmup single-certificate documents;
//   single  --single documents of one certificate (recipient i, number i + 1):
//           p50 / p99 wall-clock ms per document, bytes in memory;
//   batch   one document of --batch pages (numbers from 100001): pages/s.
// Wall-clock times, and the process's CPU time beside them.
// Last line: RESULT <name> single_p50_ms=... single_p99_ms=... single_cpu_p50_ms=...
// batch_pages_per_s=... batch_cpu_pages_per_s=... batch_pages=... single_bytes=...
// batch_bytes=...
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import QRCode from 'qrcode';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
  'September', 'October', 'November', 'December'];
export const SAMPLE_NUMBER = 1;
export const BATCH_FIRST_NUMBER = 100001;

export function options() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      warmup: { type: 'string', default: '10' },
      single: { type: 'string', default: '300' },
      batch: { type: 'string', default: '1000' },
      variant: { type: 'string' },
    },
  });
  if (positionals.length !== 1) {
    console.error('usage: node PEER.mjs SPEC [--out FILE] [--warmup N] [--single N] ' +
      '[--batch N] [--variant NAME]');
    process.exit(2);
  }
  return {
    spec: JSON.parse(readFileSync(positionals[0], 'utf8')),
    out: values.out,
    warmup: Number(values.warmup),
    single: Number(values.single),
    batch: Number(values.batch),
    variant: values.variant,
  };
}

export function certificateNumber(year, number) {
  return `CERT${String(year).padStart(4, '0')}${String(number).padStart(6, '0')}`;
}

export function formatDate(iso) {
  const [y, m, d] = iso.split('-').map(Number);
  return `${d} ${MONTHS[m - 1]} ${y}`;
}

// certgen's canonical JSON: keys sorted (code point order), no whitespace.
export function canonicalJson(recipient) {
  const keys = Object.keys(recipient).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + JSON.stringify(recipient[k])).join(',') +
    '}';
}

export function verification(recipient, number) {
  const hash = createHash('sha256').update(canonicalJson(recipient), 'utf8').digest('hex');
  return `CERTGEN1;N=${number};H=${hash}`;
}

export function recipients(spec, n) {
  const d = spec.data;
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push({ recipientName: d.names[i % d.names.length], courseName: d.course,
      issueDate: d.issue_date, issuer: d.issuer });
  }
  return out;
}

// Per page: the text of every non-static field and the QR string.
export function pageValues(spec, recipient, number) {
  const num = certificateNumber(spec.data.issued_year, number);
  const values = {};
  for (const f of spec.fields) {
    if (f.kind === 'data') {
      const v = recipient[f.key];
      if (v) values[f.key] = f.prefix + (f.is_date ? formatDate(v) : v) + f.suffix;
    } else if (f.kind === 'number') {
      values[f.key] = f.prefix + num + f.suffix;
    } else if (f.kind === 'qr') {
      values.qr = verification(recipient, num);
    }
  }
  return values;
}

// npm qrcode, level M, one 8-bit segment (as certgen's libqrencode call):
// an SVG path in module units with the quiet zone, a rectangle per run of
// dark modules, and the number of modules across (quiet zone included).
export function qrPath(text, quietZone) {
  const qr = QRCode.create([{ data: Buffer.from(text, 'utf8'), mode: 'byte' }],
    { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const data = qr.modules.data;
  let d = '';
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n;) {
      if (!data[y * n + x]) { x++; continue; }
      const start = x;
      while (x < n && data[y * n + x]) x++;
      d += `M${start + quietZone} ${y + quietZone}h${x - start}v1h-${x - start}z`;
    }
  }
  return { d, modules: n + 2 * quietZone };
}

export function hexRgb(hex) {
  const v = hex.replace('#', '');
  return [0, 2, 4].map((i) => parseInt(v.slice(i, i + 2), 16) / 255);
}

function percentile(sorted, p) {
  const n = sorted.length;
  const rank = Math.min(n, Math.max(1, Math.floor(p / 100 * n + 0.999999)));
  return sorted[rank - 1];
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
// the process's CPU time (user + system, all threads: GC helpers included)
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

// makeDoc(recipients, firstNumber) -> Promise<Uint8Array | Buffer>
export async function measure(name, opts, makeDoc) {
  const { spec } = opts;
  const recs = recipients(spec, Math.max(opts.warmup + opts.single, opts.batch, 1));

  const sample = await makeDoc([recs[0]], SAMPLE_NUMBER);
  console.log('VERIFY ' + verification(recs[0],
    certificateNumber(spec.data.issued_year, SAMPLE_NUMBER)));
  if (opts.out) writeFileSync(opts.out, sample);

  for (let i = 0; i < opts.warmup; i++) await makeDoc([recs[i]], i + 1);
  if (global.gc) global.gc();
  const times = [];
  const cpu = [];
  let size = 0;
  for (let i = opts.warmup; i < opts.warmup + opts.single; i++) {
    const c0 = cpuMs();
    const t0 = nowMs();
    size = (await makeDoc([recs[i]], i + 1)).length;
    times.push(nowMs() - t0);
    cpu.push(cpuMs() - c0);
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const p50 = percentile(times, 50);
  const p99 = percentile(times, 99);
  const cpu50 = percentile(cpu, 50);
  console.log(`single: ${opts.single} runs, p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, ` +
    `min ${times[0].toFixed(3)} ms, max ${times[times.length - 1].toFixed(3)} ms, ` +
    `CPU p50 ${cpu50.toFixed(3)} ms, ${size} bytes`);

  if (global.gc) global.gc();
  const c0 = cpuMs();
  const t0 = nowMs();
  const batch = await makeDoc(recs.slice(0, opts.batch), BATCH_FIRST_NUMBER);
  const wall = (nowMs() - t0) / 1000;
  const cpuS = (cpuMs() - c0) / 1000;
  const rate = opts.batch / wall;
  console.log(`batch: ${opts.batch} pages in ${wall.toFixed(3)} s = ${rate.toFixed(1)} pages/s ` +
    `(CPU ${cpuS.toFixed(3)} s), ${batch.length} bytes`);
  console.log(`RESULT ${name} single_p50_ms=${p50.toFixed(3)} single_p99_ms=${p99.toFixed(3)} ` +
    `single_cpu_p50_ms=${cpu50.toFixed(3)} batch_pages_per_s=${rate.toFixed(1)} ` +
    `batch_cpu_pages_per_s=${(opts.batch / cpuS).toFixed(1)} batch_pages=${opts.batch} ` +
    `single_bytes=${size} batch_bytes=${batch.length}`);
}
