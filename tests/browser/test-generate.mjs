// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The generation page end to end: sign in, fill the form, watch the
// <certificate-progress> element reach 100 %, get its "complete" event with
// the result, download the PDF through the link (cookie-authenticated GET);
// accessibility attributes; screenshots on a desktop and a phone viewport.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import {
  withStack, newPage, signIn, fillSingle, fillBatch, submit, progressElement, waitForEvent,
  events, elementState, screenshot, seconds, batchNames, followInPage,
} from './harness.mjs';

test('the page generates a certificate end to end', { timeout: seconds(90) }, async (t) => {
  await withStack(t, { name: 'generate' }, async ({ stack, browser }) => {
    const page = await newPage(browser);
    await signIn(page, stack);
    await screenshot(page, 'desktop-form');

    await fillSingle(page, {
      recipientName: 'Ada Lovelace', courseName: 'Analytical Engines 101',
      issuer: 'Babbage Institute', description: 'For notes on the engine', issueDate: '2024-05-17',
    });
    const id = await submit(page);
    assert.match(id, /^[A-Za-z0-9_-]+$/);

    const complete = await waitForEvent(page, id, 'complete');
    const result = complete.detail;
    assert.match(result.certificateNumber, /^CERT\d{4}/, JSON.stringify(result));
    assert.match(result.checksum, /^[0-9a-f]{64}$/);
    assert.equal(result.pages, 1);
    assert.ok(result.fileSize > 1000);

    // The updates arrived in order, the last one is terminal, nothing repeats
    // (one certificate takes a fraction of a second: the first update the
    // element gets may already be the terminal one).
    const progress = await events(page, id, 'progress');
    assert.ok(progress.length >= 1);
    const seqs = progress.map((e) => e.detail.sequence);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.equal(new Set(seqs).size, seqs.length, 'a sequence was shown twice');
    assert.equal(progress.at(-1).detail.status, 'completed');
    assert.equal((await events(page, id, 'error')).length, 0);
    assert.equal((await events(page, id, 'cancel')).length, 0);

    const state = await elementState(page, id);
    assert.equal(state.status, 'completed');
    assert.equal(state.percent, '100 %');
    assert.equal(state.bar.now, '100');
    assert.equal(state.badge, 'Completed');
    assert.equal(state.cancelVisible, false);
    assert.equal(state.finished, true);

    // The download link fetches the PDF with the session cookie alone.
    const link = page.getByRole('link', { name: /Download PDF/ });
    await link.waitFor();
    assert.equal(await link.getAttribute('href'), `/api/certificates/${id}/download`);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const file = await download.path();
    const pdf = fs.readFileSync(file);
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.equal(pdf.length, Number(result.fileSize));
    assert.equal(crypto.createHash('sha256').update(pdf).digest('hex'), result.checksum);

    await screenshot(page, 'desktop-completed');
    assert.deepEqual(page.errors, []);
  });
});

test('a batch as one PDF per recipient (ZIP) downloads the ZIP', { timeout: seconds(90) }, async (t) => {
  await withStack(t, { name: 'zip' }, async ({ stack, browser }) => {
    const page = await newPage(browser);
    await signIn(page, stack);
    // the choice is there for a batch, from a list or a CSV file, not for one
    const zip = page.getByLabel('One PDF per recipient (ZIP)');
    assert.equal(await zip.isVisible(), false);
    await page.locator('label[for="mode-csv"]').click();
    assert.equal(await zip.isVisible(), true);
    const names = batchNames(3, 'Zip Person');
    await fillBatch(page, { names, courseName: 'Archives 101' });
    assert.equal(await zip.isVisible(), true);
    assert.equal(await zip.isChecked(), false);
    await zip.check();
    const id = await submit(page);

    const result = (await waitForEvent(page, id, 'complete')).detail;
    assert.equal(result.contentType, 'application/zip', JSON.stringify(result));
    assert.equal(result.pages, 3);
    const link = page.getByRole('link', { name: /Download ZIP \(3 PDFs\)/ });
    await link.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(),
      `certificates-${result.certificateNumber}-${result.lastCertificateNumber}.zip`);
    const body = fs.readFileSync(await download.path());
    assert.equal(body.subarray(0, 4).toString('latin1'), 'PK\x03\x04');
    assert.equal(body.length, Number(result.fileSize));
    assert.equal(crypto.createHash('sha256').update(body).digest('hex'), result.checksum);
    // the members' names are in the archive: the first number's PDF, the manifest
    assert.ok(body.includes(Buffer.from(`${result.certificateNumber}.pdf`)));
    assert.ok(body.includes(Buffer.from('manifest.csv')));
    await screenshot(page, 'desktop-zip-completed');
    assert.deepEqual(page.errors, []);
  });
});

test('accessibility: labels, progressbar and live region', { timeout: seconds(90) }, async (t) => {
  await withStack(t, { name: 'aria' }, async ({ stack, browser }) => {
    const page = await newPage(browser);
    await page.goto(`${stack.url}/`);
    // Every form control of the sign-in and the generation form has a label.
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => el.type !== 'hidden' && el.labels.length === 0 && !el.getAttribute('aria-label'))
      .map((el) => el.id || el.name));
    assert.deepEqual(unlabelled, []);
    await signIn(page, stack);
    await fillSingle(page, { recipientName: 'Grace Hopper', courseName: 'Compilers' });
    const id = await submit(page);
    const el = progressElement(page, id);

    // The element's own roles and attributes (inside its shadow root).
    const bar = el.getByRole('progressbar');
    await bar.waitFor();
    assert.equal(await bar.getAttribute('aria-valuemin'), '0');
    assert.equal(await bar.getAttribute('aria-valuemax'), '100');
    assert.match(await bar.getAttribute('aria-valuenow'), /^\d+$/);
    assert.match(await bar.getAttribute('aria-valuetext'), /\d+ percent/);
    const name = await bar.evaluate((b) => b.getRootNode().getElementById(b.getAttribute('aria-labelledby'))?.textContent);
    assert.ok(name && name.length > 0, 'the progressbar has no accessible name');
    const live = el.getByRole('status');
    assert.equal(await live.getAttribute('aria-live'), 'polite');

    await waitForEvent(page, id, 'complete');
    assert.equal(await bar.getAttribute('aria-valuenow'), '100');
    assert.match(await bar.getAttribute('aria-valuetext'), /^100 percent/);
    assert.match(await live.textContent(), /Completed/);

    // Keyboard: the download link is reachable and shows a focus ring.
    const link = page.getByRole('link', { name: /Download PDF/ });
    await page.locator('#generate-button').focus();
    for (let i = 0; i < 10 && !(await link.evaluate((a) => a === document.activeElement)); i++) {
      await page.keyboard.press('Tab');
    }
    assert.equal(await link.evaluate((a) => a === document.activeElement), true, 'Tab does not reach the download link');
    const outline = await link.evaluate((a) => getComputedStyle(a).outlineStyle);
    assert.notEqual(outline, 'none', 'no focus ring on the download link');
    assert.deepEqual(page.errors, []);
  });
});

test('the page reads well on a phone', { timeout: seconds(90) }, async (t) => {
  await withStack(t, { name: 'phone' }, async ({ stack, browser }) => {
    const page = await newPage(browser);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${stack.url}/`);
    await screenshot(page, 'phone-sign-in');
    await signIn(page, stack);
    await fillSingle(page, { recipientName: 'Katherine Johnson', courseName: 'Orbital Mechanics', issuer: 'NASA Langley' });
    const id = await submit(page);
    await waitForEvent(page, id, 'complete', seconds(60));
    // Nothing is wider than the screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the viewport`);
    await screenshot(page, 'phone-completed');
    assert.deepEqual(page.errors, []);
  });
});

test('errors are shown clearly', { timeout: seconds(90) }, async (t) => {
  await withStack(t, { name: 'errors' }, async ({ stack, browser }) => {
    const page = await newPage(browser);
    await page.goto(`${stack.url}/`);

    // A wrong token: the sign-in form says so and stays.
    await page.getByLabel('Access token').fill('not-a-valid-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const signInAlert = page.locator('#sign-in-error');
    await signInAlert.waitFor({ state: 'visible' });
    assert.match(await signInAlert.textContent(), /not accepted/);
    assert.equal(await page.locator('#app-view').isVisible(), false);
    await signIn(page, stack);

    // A generation that times out: the element reports it as an error.
    const res = await fetch(`${stack.url}/api/certificates`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${stack.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        transactionId: `browser-timeout-${Date.now()}`, templateId: 'classic', options: { timeout: 300 },
        data: { recipients: batchNames(2000).map((recipientName) => ({ recipientName })), courseName: 'Too Slow', issueDate: '2024-05-17' },
      }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    const { progressId: id } = await res.json();
    await followInPage(page, id, stack.token);
    const error = await waitForEvent(page, id, 'error', seconds(30));
    assert.equal(error.detail.error, 'timed_out', JSON.stringify(error.detail));
    assert.ok(error.detail.message.length > 0);
    const state = await elementState(page, id);
    assert.equal(state.status, 'timed_out');
    assert.equal(state.badge, 'Timed out');
    assert.ok(state.message.length > 0, 'no message shown for the timeout');
    assert.equal(state.cancelVisible, false);
    assert.match(state.live, /Timed out/);

    // An id the bridge does not know: EventSource gives up at once, the
    // element asks again with fetch(), reads the 404 and reports it.
    const unknown = '0123456789abcdef0123456789abcdef';
    await page.evaluate((pid) => {
      const el = document.createElement('certificate-progress');
      el.setAttribute('progress-id', pid);
      document.querySelector('#jobs').append(el);
    }, unknown);
    const notFound = await waitForEvent(page, unknown, 'error', seconds(20));
    assert.equal(notFound.detail.error, 'not_found', JSON.stringify(notFound.detail));
    const gone = await elementState(page, unknown);
    assert.equal(gone.finished, true);
    assert.equal(gone.message, notFound.detail.message);

    // The bridge's rate limit (5 generations a minute per web user; one used
    // above): the sixth request is refused and the form shows the message.
    const formAlert = page.locator('#form-error');
    let refused = null;
    for (let i = 0; i < 8 && !refused; i++) {
      await fillSingle(page, { recipientName: `Person ${i}`, courseName: 'Rate Limits' });
      const reply = page.waitForResponse((r) => r.url().endsWith('/api/certificates') && r.request().method() === 'POST');
      await page.locator('#generate-button').click();
      const r = await reply;
      if (r.status() === 429) refused = r;
      else assert.equal(r.status(), 201);
    }
    assert.ok(refused, 'never rate limited');
    await formAlert.waitFor({ state: 'visible' });
    const text = await formAlert.textContent();
    assert.match(text, /try again in \d+ s/i, text);
    assert.equal(text.match(/try again/gi).length, 1, text);
    assert.equal(await formAlert.getAttribute('role'), 'alert');
    await screenshot(page, 'desktop-errors');
    assert.deepEqual(page.errors, []);
  });
});
