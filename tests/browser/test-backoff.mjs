// SPDX-License-Identifier: LGPL-2.1-or-later
//
// After a 429 the element backs off and retries: the web user's SSE limit
// (10 connections a minute) is used up first, so the element's EventSource
// is refused; EventSource does not retry after a non-200 answer, the element
// does, no faster than the backoff (2 s doubling, or Retry-After), and gets
// the generation's outcome once the limit lets it in again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  withStack, newPage, signIn, waitForEvent, events, elementState, batchNames, seconds, followInPage,
} from './harness.mjs';

test('the element backs off and retries after 429', { timeout: seconds(230) }, async (t) => {
  await withStack(t, { name: 'backoff' }, async ({ stack, browser }) => {
    const page = await newPage(browser);
    await signIn(page, stack);
    const auth = { Authorization: `Bearer ${stack.token}` };

    // A small batch, started outside the page.
    const started = await fetch(`${stack.url}/api/certificates`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        transactionId: `browser-backoff-${Date.now()}`, templateId: 'classic', options: {},
        data: { recipients: batchNames(20).map((recipientName) => ({ recipientName })), courseName: 'Patience', issueDate: '2024-05-17' },
      }),
    });
    assert.equal(started.status, 201, await started.clone().text());
    const { progressId: id } = await started.json();

    // Use up the SSE limit of this web user.
    const url = `${stack.url}/api/certificates/progress/${id}`;
    let refused = null;
    for (let i = 0; i < 30 && !refused; i++) {
      const ac = new AbortController();
      const res = await fetch(url, { headers: { ...auth, Accept: 'text/event-stream' }, signal: ac.signal });
      if (res.status === 429) {
        refused = { retryAfter: res.headers.get('retry-after'), body: await res.json() };
      } else {
        assert.equal(res.status, 200);
        ac.abort();
      }
    }
    assert.ok(refused, 'the SSE limit never answered 429');
    assert.equal(refused.body.error.length > 0, true);
    assert.match(refused.retryAfter ?? '', /^\d+$/, 'a 429 without Retry-After');

    const attempts = [];
    page.on('response', (r) => {
      if (r.url() === url) attempts.push({ at: Date.now(), status: r.status(), type: r.request().resourceType() });
    });
    await followInPage(page, id, stack.token);

    // Refused first, and the element says it will retry.
    await page.waitForFunction(() => document.querySelector('#jobs certificate-progress')
      .shadowRoot.getElementById('connection').textContent.includes('Reconnecting in'), null,
    { timeout: seconds(15), polling: 50 });
    assert.equal(attempts[0]?.status, 429);

    const complete = await waitForEvent(page, id, 'complete', seconds(150));
    assert.equal(complete.detail.pages, 20);
    const state = await elementState(page, id);
    assert.equal(state.status, 'completed');

    // Backed off: retries spaced by at least the first backoff step, and few.
    const refusedAttempts = attempts.filter((a) => a.status === 429);
    assert.ok(refusedAttempts.length >= 1);
    for (let i = 1; i < attempts.length; i++) {
      assert.ok(attempts[i].at - attempts[i - 1].at >= 1900,
        `retried after ${attempts[i].at - attempts[i - 1].at} ms: ${JSON.stringify(attempts)}`);
    }
    assert.ok(attempts.length <= 12, `${attempts.length} attempts: ${JSON.stringify(attempts)}`);
    assert.equal(attempts.at(-1).status, 200);
    assert.equal((await events(page, id, 'error')).length, 0);
    process.stdout.write(`# attempts: ${JSON.stringify(attempts.map((a) => [a.status, a.type]))}\n`);
    assert.deepEqual(page.errors, []);
  });
});
