// SPDX-License-Identifier: LGPL-2.1-or-later
//
// "Preview first page": the form's data goes to POST /api/preview with the
// Bearer token and page 1; the PNG shows as an <img> at the page's size at
// 96 dpi; nothing is generated and no number is used (the first real
// generation afterwards still gets number 1); a batch previews its first
// recipient; a CSV file cannot be previewed and says so.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  withStack, newPage, signIn, fillSingle, fillBatch, submit, waitForEvent, screenshot, seconds,
} from './harness.mjs';

async function preview(page) {
  const reply = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/preview');
  await page.getByRole('button', { name: 'Preview first page' }).click();
  const res = await reply;
  await page.locator('#preview-image').waitFor({ state: 'visible' });
  await page.waitForFunction(() => document.querySelector('#preview-image').complete
    && document.querySelector('#preview-image').naturalWidth > 0);
  return res;
}

test('the page previews the first page before generating', { timeout: seconds(120) }, async (t) => {
  await withStack(t, { name: 'preview' }, async ({ stack, browser }) => {
    const page = await newPage(browser);
    await signIn(page, stack);
    await fillSingle(page, {
      recipientName: 'Ada Lovelace', courseName: 'Analytical Engines 101', issueDate: '2024-05-17',
    });
    const res = await preview(page);
    const request = res.request();
    assert.equal(request.method(), 'POST');
    assert.equal(request.headers().authorization, `Bearer ${stack.token}`);
    const body = JSON.parse(request.postData());
    assert.equal(body.templateId, 'classic');
    assert.equal(body.page, 1);
    assert.equal(body.data.recipientName, 'Ada Lovelace');
    assert.equal(res.status(), 200);
    assert.equal(res.headers()['content-type'], 'image/png');
    const img = await page.locator('#preview-image').evaluate((el) => ({
      width: el.naturalWidth, height: el.naturalHeight, alt: el.alt, src: el.src,
    }));
    // A4 landscape, 842 x 595 pt at 96 dpi
    assert.deepEqual([img.width, img.height], [Math.ceil(842 * 96 / 72), Math.ceil(595 * 96 / 72)]);
    assert.match(img.alt, /Preview of the first page: Ada Lovelace/);
    assert.match(img.src, /^blob:/);
    assert.equal(await page.locator('certificate-progress').count(), 0, 'a preview started a generation');
    await screenshot(page, 'desktop-preview');

    // a batch: its first recipient
    await fillBatch(page, { names: ['Grace Hopper', 'Alan Turing'], courseName: 'Compilers' });
    const batch = await preview(page);
    const batchBody = JSON.parse(batch.request().postData());
    assert.equal(batchBody.data.recipients.length, 2);
    assert.equal(batchBody.page, 1);
    assert.equal(batch.status(), 200);

    // No number was used: the first generation is number 1.
    await fillSingle(page, {
      recipientName: 'Ada Lovelace', courseName: 'Analytical Engines 101', issueDate: '2024-05-17',
    });
    const id = await submit(page);
    const complete = await waitForEvent(page, id, 'complete');
    assert.match(complete.detail.certificateNumber, /^CERT\d{4}000001$/, JSON.stringify(complete.detail));

    // CSV: no preview, a message instead, and the old image goes.
    await page.locator('label[for="mode-csv"]').click();
    await page.locator('#csvFile').setInputFiles({
      name: 'people.csv', mimeType: 'text/csv',
      buffer: Buffer.from('recipientName\r\nAda\r\n'),
    });
    await page.getByLabel('Course').fill('CSV Course');
    await page.getByRole('button', { name: 'Preview first page' }).click();
    await page.locator('#form-error').waitFor({ state: 'visible' });
    assert.match(await page.locator('#form-error').textContent(), /A preview needs the recipients in the form/);
    assert.equal(await page.locator('#preview').isHidden(), true);
    assert.deepEqual(page.errors, []);
  });
});
