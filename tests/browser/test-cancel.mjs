// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Cancel: a big batch (10,000 names pasted into the form: 2,000 rendered in
// under a second once batches ran on both workers, before the button was
// pressed) is cancelled with the element's Cancel button; the element sends the DELETE with the Bearer
// token, shows "Cancelled" and dispatches "cancel", never "complete".

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  withStack, newPage, signIn, fillBatch, submit, progressElement, waitForEvent, events,
  elementState, batchNames, screenshot, seconds,
} from './harness.mjs';

test('Cancel stops a big batch', { timeout: seconds(120) }, async (t) => {
  await withStack(t, { name: 'cancel' }, async ({ stack, browser }) => {
    const page = await newPage(browser);
    await signIn(page, stack);
    await fillBatch(page, { names: batchNames(10000), courseName: 'Cancellation Studies', issuer: 'certgen browser tests' });
    assert.match(await page.locator('#recipients-count').textContent(), /10,000 recipients/);
    const id = await submit(page);
    const el = progressElement(page, id);

    // Wait until pages are being rendered, then cancel.
    await page.waitForFunction((pid) => {
      const u = document.querySelector(`certificate-progress[progress-id="${pid}"]`)?.update;
      return u && u.status === 'in_progress' && u.pagesDone > 0;
    }, id, { timeout: seconds(60), polling: 50 });
    const button = el.getByRole('button', { name: /Cancel/ });
    assert.equal(await button.isVisible(), true);
    await screenshot(page, 'desktop-batch-running');

    const request = page.waitForRequest((r) => r.method() === 'DELETE' && r.url().endsWith(`/api/certificates/progress/${id}`));
    await button.click();
    const del = await request;
    assert.equal(del.headers().authorization, `Bearer ${stack.token}`);
    const res = await del.response();
    assert.equal(res.status(), 200);

    const cancel = await waitForEvent(page, id, 'cancel', seconds(30));
    assert.equal(cancel.detail.status, 'cancelled');
    assert.equal((await events(page, id, 'cancel-request')).length, 1);
    const state = await elementState(page, id);
    assert.equal(state.status, 'cancelled');
    assert.equal(state.badge, 'Cancelled');
    assert.equal(state.cancelVisible, false);
    assert.ok(Number(state.bar.now) < 100, `cancelled at ${state.bar.now} %`);
    assert.match(state.bar.text, /Cancelled/);
    assert.match(state.live, /Cancelled/);

    // Nothing else follows: no completion, no error, no download link.
    await page.waitForTimeout(1000);
    assert.equal((await events(page, id, 'complete')).length, 0);
    assert.equal((await events(page, id, 'error')).length, 0);
    assert.equal(await page.getByRole('link', { name: /Download PDF/ }).count(), 0);
    await screenshot(page, 'desktop-batch-cancelled');
    assert.deepEqual(page.errors, []);
  });
});
