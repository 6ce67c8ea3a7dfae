// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Lifetime in view and finding generations again (issue 10 items 6 and 7):
// a completed job says until when certgend keeps its file; after a reload
// the page lists the web user's generations again, downloads included; once
// the file is gone the job says it has expired instead of offering a
// download that fails. certgend keeps results 8 s here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  withStack, newPage, signIn, fillSingle, submit, waitForEvent, seconds,
} from './harness.mjs';

const TTL_S = 8;

test('a result says until when it is kept, comes back after a reload, then expires',
  { timeout: seconds(120) }, async (t) => {
    await withStack(t, { name: 'lifetime', finishedTtl: TTL_S }, async ({ stack, browser }) => {
      const page = await newPage(browser);
      await signIn(page, stack);
      await fillSingle(page, {
        recipientName: 'Grace Hopper', courseName: 'Compilers', issueDate: '2024-05-17',
      });
      const id = await submit(page);
      await waitForEvent(page, id, 'complete');
      const job = page.locator(`#jobs [data-progress-id="${id}"]`);
      const until = job.locator('dt', { hasText: 'Available until' }).locator('xpath=..').locator('dd');
      await until.waitFor();
      assert.match(await until.textContent(), /\d{1,2}[:.]\d{2}/);

      // After a reload (the token stays in this tab) the job is listed again
      // from GET /api/certificates, its download link with it.
      await page.reload();
      await page.locator('#app-view').waitFor({ state: 'visible' });
      const again = page.locator(`#jobs [data-progress-id="${id}"]`);
      await again.waitFor();
      const link = again.getByRole('link', { name: /Download PDF/ });
      await link.waitFor();
      assert.equal(await link.getAttribute('href'), `/api/certificates/${id}/download`);
      const response = await page.request.get(`${stack.url}/api/certificates/${id}/download`);
      assert.equal(response.status(), 200);

      // Past finished_ttl_s the job says the file has expired, without a link.
      const expired = again.locator('.job-lifetime');
      await expired.waitFor({ state: 'visible', timeout: seconds(TTL_S + 10) });
      assert.match(await expired.textContent(), /This file has expired/);
      assert.equal(await link.isVisible(), false);
      assert.deepEqual(page.errors, []);
    });
  });
