// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The public verification page (GET /verify/{number}?c={code}) at phone
// width (390 x 844, what a phone shows after scanning the QR code): the
// status is visible at once and nothing scrolls sideways, for "not found"
// and, once certgend has Verify, for a valid and then a revoked
// certificate (revoked through POST /api/certificates/{number}/revoke).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withStack, newPage, screenshot, seconds, SOURCE_ROOT } from './harness.mjs';

const PHONE = { width: 390, height: 844 };

function certgendHasVerify() {
  const xml = fs.readFileSync(
    path.join(SOURCE_ROOT, 'introspection', 'org.certgen.Certificates1.xml'), 'utf8');
  return xml.includes('name="Verify"');
}

// The status is in the first screen and the page is no wider than the phone.
async function assertPhoneFriendly(page, statusText) {
  const status = page.locator('#status');
  await status.waitFor({ state: 'visible' });
  assert.match(await status.innerText(), statusText);
  const box = await status.boundingBox();
  assert.ok(box.y + box.height <= PHONE.height, `status below the first screen: ${JSON.stringify(box)}`);
  assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, `status wider than the phone: ${JSON.stringify(box)}`);
  const widths = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
  }));
  assert.ok(widths.scroll <= widths.client, `horizontal scroll: ${JSON.stringify(widths)}`);
}

async function api(stack, method, route, body) {
  const res = await fetch(`${stack.url}${route}`, {
    method,
    headers: { Authorization: `Bearer ${stack.token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

async function issued(stack) {
  const started = await api(stack, 'POST', '/api/certificates', {
    data: {
      recipientName: 'María de los Ángeles Fernández-Villaverde y Rodríguez de la Fuente',
      courseName: 'A very long course name that must wrap on a narrow phone screen without scrolling',
      issueDate: '2024-05-17',
    },
  });
  assert.equal(started.status, 201);
  const deadline = Date.now() + seconds(60);
  for (;;) {
    const list = await api(stack, 'GET', '/api/certificates');
    const mine = list.json.find((g) => g.progressId === started.json.progressId);
    if (mine && mine.status === 'completed') return new URL(mine.result.verificationUrl);
    assert.ok(!mine || mine.status === 'in_progress' || mine.status === 'pending', JSON.stringify(mine));
    assert.ok(Date.now() < deadline, 'the generation did not complete');
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('the verification page at phone width', { timeout: seconds(120) }, async (t) => {
  await withStack(t, { name: 'verify' }, async ({ stack, browser }) => {
    const page = await newPage(browser);
    await page.setViewportSize(PHONE);

    // the same 404 page for unknown, wrong and malformed (tests/http/test_verify.py);
    // a malformed code needs no Verify of certgend
    const missing = await page.goto(`${stack.url}/verify/CERT1999000001?c=x`);
    assert.equal(missing.status(), 404);
    await assertPhoneFriendly(page, /Not found/);
    await screenshot(page, 'phone-verify-not-found');

    if (!certgendHasVerify()) {
      t.diagnostic('certgend has no Verify yet (registry not merged): valid/revoked pages not checked');
      return;
    }
    const url = await issued(stack);
    const number = url.pathname.split('/').pop();
    const valid = await page.goto(`${stack.url}/verify/${number}${url.search}`);
    assert.equal(valid.status(), 200);
    await assertPhoneFriendly(page, /Valid certificate/);
    await screenshot(page, 'phone-verify-valid');

    const revoked = await api(stack, 'POST', `/api/certificates/${number}/revoke`, { reason: 'Issued in error' });
    assert.equal(revoked.status, 200);
    await page.reload();
    await assertPhoneFriendly(page, /Revoked/);
    assert.match(await page.locator('#reason').innerText(), /Issued in error/);
    await screenshot(page, 'phone-verify-revoked');
    assert.deepEqual(page.errors, []);
  });
});
