// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Every problem at once (issue 14 item 3): a generation certgend refuses as
// invalid data lists each problem in its card, beside the row it names: a
// batch's recipient by its line of the list and its name, a CSV's by row and
// column. The element's error event carries them as detail.errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  withSignedInPage, submit, fillBatch, waitForEvent, screenshot, seconds,
} from './harness.mjs';

// U+E000 (private use) passes the page's own checks; certgend refuses it:
// no font can print it.
const UNPRINTABLE = '\ue000';

async function problemsOf(page, id) {
  const card = page.locator('.job', { has: page.locator(`certificate-progress[progress-id="${id}"]`) });
  const list = card.locator('.job-problems');
  await list.waitFor();
  return list.locator('li').allTextContents();
}

test('a batch certgend refuses lists every problem beside its line', { timeout: seconds(90) }, async (t) => {
  await withSignedInPage(t, { name: 'errors-batch' }, async ({ page }) => {
    await fillBatch(page, {
      names: ['Ada Lovelace', `Bad${UNPRINTABLE}One`, 'Alan Turing', `${UNPRINTABLE}Two`],
      courseName: 'Every Error',
    });
    await page.getByLabel('Issue date').fill('2024-05-17');
    const id = await submit(page);
    const error = await waitForEvent(page, id, 'error');
    assert.equal(error.detail.error, 'invalid_data', JSON.stringify(error.detail));
    assert.deepEqual(error.detail.errors.map((e) => e.path),
      ['recipients[1].recipientName', 'recipients[3].recipientName']);
    assert.match(error.detail.message, /^recipients\[1\]\.recipientName: .*; recipients\[3\]\.recipientName: /);

    const items = await problemsOf(page, id);
    assert.equal(items.length, 2, JSON.stringify(items));
    assert.match(items[0], /^Line 2 \(“Bad.One”\), recipientName: U\+E000 at byte offset 3 cannot be printed/);
    assert.match(items[1], /^Line 4 \(“.Two”\), recipientName: U\+E000 at byte offset 0 cannot be printed/);
    await screenshot(page, 'desktop-batch-every-error');
    assert.deepEqual(page.errors, []);
  });
});

test('a CSV certgend refuses lists every problem by row and column', { timeout: seconds(90) }, async (t) => {
  await withSignedInPage(t, { name: 'errors-csv' }, async ({ page }) => {
    await page.locator('label[for="mode-csv"]').click();
    await page.locator('#csvFile').setInputFiles({
      name: 'people.csv', mimeType: 'text/csv',
      buffer: Buffer.from('recipientName,courseName,issueDate\nAda,C,2024-02-30\n,C,2024-05-17\nAl,C,2024-05-17\n', 'utf8'),
    });
    const id = await submit(page);
    const error = await waitForEvent(page, id, 'error');
    assert.equal(error.detail.errors.length, 2, JSON.stringify(error.detail));
    const items = await problemsOf(page, id);
    assert.deepEqual(items, [
      'row 2, column issueDate: not a real date: 2024-02-30',
      'row 3, column recipientName: required',
    ]);
    assert.deepEqual(page.errors, []);
  });
});
