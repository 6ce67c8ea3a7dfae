// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A batch from a CSV file: the page posts the file as text/csv with the
// form's filled fields as set.FIELD; the generation completes with a page per
// row. A CSV with problems shows them by row and column before anything
// starts, and certgend's own InvalidData comes back as a row and column in the
// element too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  withStack, newPage, signIn, submit, waitForEvent, events, elementState, screenshot, seconds,
} from './harness.mjs';

async function chooseCsv(page, text, { courseName = '', name = 'people.csv' } = {}) {
  await page.locator('label[for="mode-csv"]').click();
  await page.locator('#csvFile').setInputFiles({
    name, mimeType: 'text/csv', buffer: Buffer.from(text, 'utf8'),
  });
  await page.getByLabel('Course').fill(courseName);
  await page.getByLabel('Issue date').fill('2024-05-17');
}

test('a CSV file generates a page per row', { timeout: seconds(90) }, async (t) => {
  await withStack(t, { name: 'csv' }, async ({ stack, browser }) => {
    const page = await newPage(browser);
    await signIn(page, stack);
    const csv = '\ufeffrecipientName,issuer\r\n"Lovelace, Ada",Analytical Society\r\nAlan Turing,\r\nGrace Hopper,Navy\r\n';
    await chooseCsv(page, csv, { courseName: 'Spreadsheets 101' });
    const posted = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/certificates');
    const id = await submit(page);
    const request = await posted;
    assert.equal(request.headers()['content-type'], 'text/csv');
    const query = new URL(request.url()).searchParams;
    assert.equal(query.get('set.courseName'), 'Spreadsheets 101');
    assert.equal(query.get('set.issueDate'), '2024-05-17');
    assert.equal(query.get('set.issuer'), null, 'a column is not sent as a shared field');
    assert.equal(query.get('templateId'), 'classic');

    const complete = await waitForEvent(page, id, 'complete');
    assert.equal(complete.detail.pages, 3);
    const link = page.getByRole('link', { name: /Download PDF \(3 pages\)/ });
    await link.waitFor();
    assert.equal(await page.locator('.job-title').first().textContent(), 'people.csv');
    await screenshot(page, 'desktop-csv-completed');
    assert.deepEqual(page.errors, []);
  });
});

test('a bad CSV shows its rows and columns', { timeout: seconds(90) }, async (t) => {
  await withStack(t, { name: 'csv-errors' }, async ({ stack, browser }) => {
    const page = await newPage(browser);
    await signIn(page, stack);

    // found by the bridge: nothing starts, every problem is listed
    await chooseCsv(page, 'recipientName,issuer\nAda\n"Al"an,x\n', { courseName: 'C' });
    const reply = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/certificates');
    await page.locator('#generate-button').click();
    assert.equal((await reply).status(), 400);
    const alert = page.locator('#form-error');
    await alert.waitFor();
    const text = await alert.textContent();
    assert.match(text, /row 2: expected 2 columns, found 1/);
    assert.match(text, /row 3, column recipientName: text after the closing quote/);
    assert.equal(await alert.locator('li').count(), 2);
    assert.equal(await page.locator('certificate-progress').count(), 0);
    await screenshot(page, 'desktop-csv-problems');

    // found by certgend: the element names the row and column
    await chooseCsv(page, 'recipientName,courseName\nAda,Maths\n,Maths\n');
    const id = await submit(page);
    assert.equal(await alert.isHidden(), true);
    await page.waitForFunction((pid) => window.__cpEvents.some((e) => e.progressId === pid && e.type === 'error'),
      id, { timeout: seconds(60), polling: 100 });
    const [error] = await events(page, id, 'error');
    assert.equal(error.detail.message, 'row 3, column recipientName: required', JSON.stringify(error.detail));
    const state = await elementState(page, id);
    assert.equal(state.status, 'failed');
    assert.match(state.message, /row 3, column recipientName: required/);
    assert.deepEqual(page.errors, []);
  });
});
