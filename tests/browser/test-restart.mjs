// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The stream survives a bridge restart: certgen-http is killed mid-batch and
// started again on the same port; the element reconnects (EventSource's own
// retry with Last-Event-ID, or the element's fetch() fallback) and reaches
// completion without showing an update twice or going backwards.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  withStack, newPage, signIn, fillBatch, submit, waitForEvent, events, elementState, batchNames, seconds,
} from './harness.mjs';

test('the progress stream survives a bridge restart', { timeout: seconds(170) }, async (t) => {
  await withStack(t, { name: 'restart' }, async ({ stack, browser }) => {
    const page = await newPage(browser);
    const streams = [];
    page.on('request', (r) => {
      if (r.method() === 'GET' && r.url().includes('/api/certificates/progress/')) {
        streams.push({ at: Date.now(), lastEventId: r.headers()['last-event-id'] ?? null });
      }
    });
    await signIn(page, stack);
    await fillBatch(page, { names: batchNames(2000), courseName: 'Resilience Engineering' });
    const id = await submit(page);

    await page.waitForFunction((pid) => {
      const u = document.querySelector(`certificate-progress[progress-id="${pid}"]`)?.update;
      return u && u.status === 'in_progress' && u.pagesDone > 0;
    }, id, { timeout: seconds(60), polling: 50 });
    const before = (await events(page, id, 'progress')).length;

    await stack.command('kill-bridge');
    // The element notices and says so.
    await page.waitForFunction((pid) => {
      const el = document.querySelector(`certificate-progress[progress-id="${pid}"]`);
      return /reconnect/i.test(el.shadowRoot.getElementById('connection').textContent);
    }, id, { timeout: seconds(15), polling: 50 });
    await page.waitForTimeout(1500);
    await stack.command('start-bridge');

    const complete = await waitForEvent(page, id, 'complete', seconds(120));
    assert.match(complete.detail.certificateNumber, /^CERT/);
    assert.equal(complete.detail.pages, 2000);

    const progress = await events(page, id, 'progress');
    assert.ok(progress.length > before, 'no update after the restart');
    const seqs = progress.map((e) => e.detail.sequence);
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], `sequence ${seqs[i]} after ${seqs[i - 1]}`);
    const percents = progress.map((e) => e.detail.progress);
    for (let i = 1; i < percents.length; i++) assert.ok(percents[i] >= percents[i - 1], 'progress went down');
    assert.ok(streams.length >= 2, `the stream was opened ${streams.length} time(s)`);
    assert.ok(streams.slice(1).some((s) => s.lastEventId !== null), 'no reconnection sent Last-Event-ID');
    assert.equal((await events(page, id, 'complete')).length, 1);
    assert.equal((await events(page, id, 'error')).length, 0);
    const state = await elementState(page, id);
    assert.equal(state.status, 'completed');
    assert.equal(state.connection, '');
    assert.deepEqual(page.errors, []);
  });
});
