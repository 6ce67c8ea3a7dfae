// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The generation form is built from GET /api/templates: a template
// selector, one labelled input per data field of the chosen template (its
// required flag, length limit, a date picker for dates); choosing another
// template changes the fields; a generation started from the form of a
// template with other fields completes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  SOURCE_ROOT, withStack, newPage, signIn, submit, waitForEvent, events, screenshot, seconds,
} from './harness.mjs';

// A template with other fields than the shipped ones, on the classic background.
function awardTemplateDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certgen-templates-'));
  fs.mkdirSync(path.join(dir, 'award'));
  fs.copyFileSync(path.join(SOURCE_ROOT, 'data', 'templates', 'classic', 'background.pdf'),
    path.join(dir, 'award', 'background.pdf'));
  const text = (key, label, y, extra = {}) => ({
    key, label, required: true, x: 421, y, size: 24, maxWidth: 600, align: 'center', ...extra,
  });
  fs.writeFileSync(path.join(dir, 'award', 'layout.json'), JSON.stringify({
    version: 1,
    title: 'Award',
    description: 'For an achievement, not a course.',
    page: { width: 842, height: 595 },
    background: { file: 'background.pdf' },
    fields: [
      text('recipientName', 'Awardee', 200, { maxLength: 100 }),
      text('achievement', 'Achievement', 280, { maxLength: 80 }),
      text('awardedOn', 'Awarded on', 360, { type: 'date' }),
      { key: 'qr', x: 684, y: 427, size: 74 },
    ],
  }));
  return dir;
}

// The form's fields as the page shows them: label, and the input's kind and rules.
async function formFields(page) {
  return page.evaluate(() => [...document.querySelectorAll('#template-fields [data-field]')]
    .filter((el) => !el.closest('[hidden]'))
    .map((el) => ({
      name: el.dataset.field,
      label: el.labels[0].firstChild.textContent,
      optional: el.labels[0].querySelector('.label-note')?.textContent === 'optional',
      tag: el.tagName.toLowerCase(),
      type: el.type,
      required: el.required,
      maxLength: el.maxLength,
    })));
}

// What the form must show for a template of GET /api/templates.
function expectedFields(template) {
  return template.fields.map((f) => ({
    name: f.name,
    label: f.label,
    optional: !f.required,
    tag: f.type === 'date' ? 'input' : (f.maxLength === 0 || f.maxLength > 200 ? 'textarea' : 'input'),
    type: f.type === 'date' ? 'date' : (f.maxLength === 0 || f.maxLength > 200 ? 'textarea' : 'text'),
    required: f.required,
    maxLength: f.type === 'date' ? -1 : (f.maxLength > 0 ? f.maxLength : -1),
  }));
}

test('the form follows the templates', { timeout: seconds(120) }, async (t) => {
  const dir = awardTemplateDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  await withStack(t, { name: 'templates', templateDirs: [dir] }, async ({ stack, browser }) => {
    const page = await newPage(browser);
    await signIn(page, stack);
    const select = page.getByLabel('Template');
    await page.locator('#templateId option[value="award"]').waitFor({ state: 'attached' });

    // The selector lists every template by title; the default is classic.
    const listed = await (await fetch(`${stack.url}/api/templates`, {
      headers: { Authorization: `Bearer ${stack.token}` },
    })).json();
    assert.deepEqual(listed.map((x) => x.id), ['award', 'classic', 'modern']);
    const options = await select.evaluate((s) => [...s.options].map((o) => [o.value, o.textContent]));
    assert.deepEqual(options, listed.map((x) => [x.id, x.title]));
    assert.equal(await select.inputValue(), 'classic');

    // One input per field of the chosen template, as the API describes it.
    const byId = Object.fromEntries(listed.map((x) => [x.id, x]));
    assert.deepEqual(await formFields(page), expectedFields(byId.classic));
    assert.equal(await page.locator('#template-description').textContent(), byId.classic.description);
    await page.getByLabel('Recipient name').fill('Ada Lovelace');
    await page.getByLabel('Course').fill('Analytical Engines');

    // Another template: other fields; what is typed in a field both have stays.
    await select.selectOption('award');
    assert.deepEqual(await formFields(page), expectedFields(byId.award));
    assert.equal(await page.getByLabel('Course').count(), 0);
    assert.equal(await page.getByLabel('Awardee').inputValue(), 'Ada Lovelace');
    assert.equal(await page.getByLabel('Awarded on').getAttribute('type'), 'date');
    await screenshot(page, 'desktop-award-form');

    // The browser's own checks use the limits: a too long achievement is cut.
    await page.getByLabel('Achievement').fill('x'.repeat(100));
    assert.equal((await page.getByLabel('Achievement').inputValue()).length, 80);
    await page.getByLabel('Achievement').fill('');

    // Empty required field: the form says which one and sends nothing.
    let posted = false;
    page.on('request', (r) => { if (r.url().endsWith('/api/certificates')) posted = true; });
    await page.locator('#generate-button').click();
    const alert = page.locator('#form-error');
    await alert.waitFor({ state: 'visible' });
    assert.match(await alert.textContent(), /Achievement/);
    assert.equal(await page.getByLabel('Achievement').getAttribute('aria-invalid'), 'true');
    assert.equal(posted, false);

    // A generation from the award form completes, with the award template.
    await page.getByLabel('Achievement').fill('First program');
    await page.getByLabel('Awarded on').fill('2024-05-17');
    const reply = page.waitForRequest((r) => r.url().endsWith('/api/certificates') && r.method() === 'POST');
    const id = await submit(page);
    const body = JSON.parse((await reply).postData());
    assert.equal(body.templateId, 'award');
    assert.deepEqual(body.data, { recipientName: 'Ada Lovelace', achievement: 'First program', awardedOn: '2024-05-17' });
    const complete = await waitForEvent(page, id, 'complete');
    assert.equal(complete.detail.pages, 1);
    const progress = await events(page, id, 'progress');
    assert.equal(progress.at(-1).detail.templateId, 'award');
    assert.match(await page.locator('.job-meta').first().textContent(), /Award template/);

    // Back to classic: its fields again.
    await select.selectOption('classic');
    assert.deepEqual(await formFields(page), expectedFields(byId.classic));
    assert.deepEqual(page.errors, []);
  });
});

test('a batch lists the per-recipient field, the others are shared', { timeout: seconds(120) }, async (t) => {
  await withStack(t, { name: 'templates-batch' }, async ({ stack, browser }) => {
    const page = await newPage(browser);
    await signIn(page, stack);
    await page.getByLabel('Template').selectOption('modern');
    await page.locator('label[for="mode-batch"]').click();
    // The name field gives way to the list; the other fields stay.
    assert.equal(await page.getByLabel('Recipient name').isVisible(), false);
    assert.equal(await page.getByLabel(/Recipients/).isVisible(), true);
    await page.getByLabel(/Recipients/).fill('Grace Hopper\nKatherine Johnson\n');
    await page.getByLabel('Course').fill('Navigation');
    const reply = page.waitForRequest((r) => r.url().endsWith('/api/certificates') && r.method() === 'POST');
    const id = await submit(page);
    const body = JSON.parse((await reply).postData());
    assert.equal(body.templateId, 'modern');
    assert.deepEqual(body.data.recipients, [{ recipientName: 'Grace Hopper' }, { recipientName: 'Katherine Johnson' }]);
    assert.equal(body.data.courseName, 'Navigation');
    assert.equal(body.data.recipientName, undefined);
    const complete = await waitForEvent(page, id, 'complete');
    assert.equal(complete.detail.pages, 2);
    assert.deepEqual(page.errors, []);
  });
});
