// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Shared pieces of the browser tests: the stack (stack.py: private bus,
// certgend, certgen-http serving client/web), Debian's Chromium driven by
// playwright-core, and helpers for the generation page.
//
// Each test file is one meson test (suite "browser") and runs as a plain
// node script using node:test; it exits 77 (meson's SKIP) when Chromium,
// playwright-core, python3 or the built binaries are missing.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE_ROOT = process.env.CERTGEN_SOURCE_ROOT || path.resolve(HERE, '..', '..');
export const BUILD_ROOT = process.env.CERTGEN_BUILD_ROOT || path.join(SOURCE_ROOT, 'build');
export const CHROMIUM = process.env.CERTGEN_CHROMIUM || '/usr/bin/chromium';
const PYTHON = '/usr/bin/python3';
const BRIDGE = process.env.CERTGEN_HTTP || path.join(BUILD_ROOT, 'client', 'http', 'certgen-http');
const FACTOR = Number(process.env.CERTGEN_TIMEOUT_FACTOR) || 1;

export const seconds = (s) => s * 1000 * FACTOR;

function skip(why) {
  process.stdout.write(`# SKIP ${why}\n`);
  process.exit(77);
}

// -- prerequisites (checked on import: a missing piece is a SKIP) -----------

if (!fs.existsSync(CHROMIUM)) skip(`${CHROMIUM} is not installed (apt-get install chromium)`);
if (!fs.existsSync(PYTHON)) skip(`${PYTHON} is not installed`);
if (!fs.existsSync(BRIDGE)) skip(`certgen-http is not built (${BRIDGE})`);
let playwright;
try {
  const require = createRequire(path.join(HERE, 'package.json'));
  playwright = require('playwright-core');
} catch {
  skip('playwright-core is not installed (npm ci --prefix tests/browser)');
}
const { chromium } = playwright;

// -- artifacts --------------------------------------------------------------

export function artifactsDir() {
  const dir = process.env.CERTGEN_BROWSER_ARTIFACTS
    || (process.env.MESON_BUILD_ROOT && path.join(process.env.MESON_BUILD_ROOT, 'tests', 'browser', 'artifacts'))
    || path.join(BUILD_ROOT, 'tests', 'browser', 'artifacts');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export async function screenshot(page, name) {
  const file = path.join(artifactsDir(), `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  process.stdout.write(`# screenshot: ${file}\n`);
  return file;
}

// -- the stack --------------------------------------------------------------

export class Stack {
  static async start({ users = 3, name = 'stack', templateDirs = [], finishedTtl } = {}) {
    const stack = new Stack();
    const args = [path.join(HERE, 'stack.py'), '--users', String(users),
      '--artifacts', path.join(artifactsDir(), `${name}-logs`),
      ...templateDirs.flatMap((dir) => ['--template-dir', dir]),
      ...(finishedTtl !== undefined ? ['--finished-ttl', String(finishedTtl)] : [])];
    stack.proc = spawn(PYTHON, args, {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: {
        ...process.env, CERTGEN_SOURCE_ROOT: SOURCE_ROOT, CERTGEN_BUILD_ROOT: BUILD_ROOT,
        PYTHONPATH: path.join(SOURCE_ROOT, 'tests'), // the certgen_test package
      },
    });
    stack.exited = new Promise((resolve) => stack.proc.on('exit', (code) => resolve(code)));
    stack.lines = readline.createInterface({ input: stack.proc.stdout })[Symbol.asyncIterator]();
    let timer;
    const first = await Promise.race([
      stack.lines.next(),
      stack.exited.then((code) => ({ exited: code })),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('stack.py did not start in time')), seconds(60));
      }),
    ]).finally(() => clearTimeout(timer));
    if (first.exited !== undefined) {
      if (first.exited === 77) skip('stack.py: a part of the stack is missing');
      throw new Error(`stack.py exited with ${first.exited}`);
    }
    Object.assign(stack, JSON.parse(first.value));
    return stack;
  }

  async command(cmd) {
    this.proc.stdin.write(`${cmd}\n`);
    const { value, done } = await this.lines.next();
    if (done) throw new Error(`stack.py ended during ${cmd}`);
    const answer = JSON.parse(value);
    if (!answer.ok) throw new Error(`${cmd}: ${answer.error}`);
    return answer;
  }

  async printLogs() {
    try {
      const logs = await this.command('logs');
      process.stderr.write(`----- certgen-http log (tail) -----\n${logs.bridge}\n`);
      process.stderr.write(`----- certgend log (tail) -----\n${logs.daemon}\n`);
    } catch (e) {
      process.stderr.write(`(no logs: ${e.message})\n`);
    }
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.stdin.end();
    const timer = setTimeout(() => this.proc.kill('SIGTERM'), seconds(20));
    await this.exited;
    clearTimeout(timer);
  }
}

// -- the browser ------------------------------------------------------------

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// A fresh profile every time; the records of what the page did are kept in
// browser.consoleLines for failure reports.
export async function launchBrowser() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'certgen-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(seconds(30));
  context.consoleLines = [];
  // Record the element's events (they bubble and are composed) before the
  // page's own scripts run.
  await context.addInitScript(() => {
    window.__cpEvents = [];
    for (const type of ['progress', 'complete', 'cancel', 'error', 'cancel-request']) {
      document.addEventListener(type, (e) => {
        if (!e.target || e.target.localName !== 'certificate-progress') return;
        window.__cpEvents.push({
          type, progressId: e.target.getAttribute('progress-id'), detail: e.detail ?? null, at: Date.now(),
        });
      }, true);
    }
  });
  context.on('page', (page) => watchPage(context, page));
  for (const page of context.pages()) watchPage(context, page);
  context.close_ = async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return context;
}

function watchPage(context, page) {
  page.on('console', (m) => context.consoleLines.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => context.consoleLines.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => context.consoleLines.push(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) context.consoleLines.push(`response: ${r.status()} ${r.request().method()} ${r.url()}`);
  });
}

export async function newPage(context) {
  const pages = context.pages();
  const page = pages.length === 1 && pages[0].url() === 'about:blank' ? pages[0] : await context.newPage();
  // Pages that throw fail the test (asserted in afterEach by the callers).
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  return page;
}

// -- the generation page ----------------------------------------------------

export async function signIn(page, stack, token = stack.token) {
  await page.goto(`${stack.url}/`);
  await page.getByLabel('Access token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#app-view').waitFor({ state: 'visible' });
  // the page has listed the generations it restores: one started from here
  // on is not among them
  await page.locator('body[data-generations-listed="true"]').waitFor({ state: 'attached' });
}

export async function fillSingle(page, { recipientName, courseName, issuer = '', description = '', issueDate, template }) {
  await page.locator('label[for="mode-single"]').click();
  if (template) await page.getByLabel('Template').selectOption(template);
  await page.getByLabel('Recipient name').fill(recipientName);
  await page.getByLabel('Course').fill(courseName);
  if (issueDate) await page.getByLabel('Issue date').fill(issueDate);
  await page.getByLabel(/Issued by/).fill(issuer);
  await page.getByLabel(/Description/).fill(description);
}

export async function fillBatch(page, { names, courseName, issuer = '' }) {
  await page.locator('label[for="mode-batch"]').click();
  // As a paste: Chromium's fill() types a long multi-line text in quadratic
  // time (2000 lines take most of a minute), a paste sets it at once.
  await page.getByLabel(/Recipients/).evaluate((el, text) => {
    el.focus();
    el.value = text;
    el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertFromPaste' }));
  }, names.join('\n'));
  await page.getByLabel('Course').fill(courseName);
  await page.getByLabel(/Issued by/).fill(issuer);
}

// Submit the form -> the new generation's progress id.
export async function submit(page) {
  const reply = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/certificates' && r.request().method() === 'POST');
  await page.locator('#generate-button').click();
  const res = await reply;
  if (res.status() !== 201) throw new Error(`POST /api/certificates: ${res.status()} ${await res.text()}`);
  const { progressId } = await res.json();
  await page.locator(`certificate-progress[progress-id="${progressId}"]`).waitFor();
  return progressId;
}

export function progressElement(page, progressId) {
  return page.locator(`certificate-progress[progress-id="${progressId}"]`);
}

export async function events(page, progressId, type) {
  return page.evaluate(([id, t]) => window.__cpEvents.filter((e) => e.progressId === id && (!t || e.type === t)),
    [progressId, type]);
}

// Waits for the element's first `type` event; an "error" event (or, when
// waiting for "complete", a "cancel") ends the wait with an exception.
export async function waitForEvent(page, progressId, type, timeoutMs = seconds(60)) {
  const stops = ['error', 'cancel', 'complete'].filter((s) => s !== type);
  const seen = await page.waitForFunction(([id, t, stop]) => window.__cpEvents
    .find((e) => e.progressId === id && (e.type === t || stop.includes(e.type))),
  [progressId, type, stops], { timeout: timeoutMs, polling: 100 });
  const event = await seen.jsonValue();
  if (event.type !== type) {
    throw new Error(`waiting for "${type}", got "${event.type}": ${JSON.stringify(event.detail)}`);
  }
  return event;
}

// The shadow-DOM state of an element, as a user (and a screen reader) sees it.
export async function elementState(page, progressId) {
  return progressElement(page, progressId).evaluate((el) => {
    const root = el.shadowRoot;
    const bar = root.querySelector('[role="progressbar"]');
    const text = (sel) => root.querySelector(sel)?.textContent.trim() ?? null;
    const cancel = root.querySelector('button');
    return {
      status: el.status,
      attrStatus: el.getAttribute('data-status'),
      finished: el.finished,
      stage: text('#stage'),
      badge: text('#badge'),
      percent: text('#percent'),
      message: text('#message'),
      connection: text('#connection'),
      pages: text('#pages'),
      live: text('[role="status"]'),
      bar: bar && {
        now: bar.getAttribute('aria-valuenow'),
        min: bar.getAttribute('aria-valuemin'),
        max: bar.getAttribute('aria-valuemax'),
        text: bar.getAttribute('aria-valuetext'),
        labelledBy: bar.getAttribute('aria-labelledby'),
      },
      cancelVisible: !!cancel && !cancel.hidden,
      update: el.update,
    };
  });
}

export function batchNames(n, prefix = 'Browser Person') {
  return Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`);
}

// Run body(ctx) with a stack and a browser; print the logs and the page's
// console when it throws; always tear down.
export async function withStack(t, { name, users, templateDirs, finishedTtl } = {}, body) {
  const stack = await Stack.start({ name, users, templateDirs, finishedTtl });
  const browser = await launchBrowser();
  try {
    await body({ stack, browser });
  } catch (e) {
    process.stderr.write(`----- browser console -----\n${browser.consoleLines.join('\n')}\n`);
    await stack.printLogs();
    throw e;
  } finally {
    await browser.close_();
    await stack.stop();
  }
}

// withStack() with a page signed in as the stack's user: body({stack, page}).
export async function withSignedInPage(t, options, body) {
  await withStack(t, options, async ({ stack, browser }) => {
    const page = await newPage(browser);
    await signIn(page, stack);
    await body({ stack, page });
  });
}

// Adds a <certificate-progress> for generation @id to the page's job list,
// as the page does for one it started itself (unless the page lists it
// already: it restores the web user's generations when it signs in).
export async function followInPage(page, id, token) {
  await page.evaluate(([pid, tok]) => {
    if (document.querySelector(`#jobs certificate-progress[progress-id="${CSS.escape(pid)}"]`)) return;
    const el = document.createElement('certificate-progress');
    el.token = tok;
    el.setAttribute('progress-id', pid);
    document.querySelector('#jobs').append(el);
  }, [id, token]);
}
