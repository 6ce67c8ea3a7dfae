// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The generation page served by certgen-http at "/": sign in with a token,
// choose a template (GET /api/templates: the form has one input per data
// field of it), start a certificate (or a batch, typed or from a CSV file), follow it with
// <certificate-progress>, download the PDF. The token is kept in sessionStorage (this tab only) and
// sent as a Bearer header on state-changing requests; GET requests (the
// progress stream, the download) use the session cookie POST /api/session set.

import { CertificateProgressElement } from './certificate-progress.js';

const TOKEN_KEY = 'certgen.token';
const MAX_RECIPIENTS = 10000;

const $ = (id) => document.getElementById(id);

let token = null;

function loadToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function saveToken(value) {
  token = value;
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled: keep it in memory only.
  }
}

// fetch() for the API; returns the parsed JSON (or null) and throws an
// ApiError carrying the bridge's {"error", "message"} otherwise.
class ApiError extends Error {
  constructor(status, code, message, retryAfter, errors = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.errors = errors;
  }
}

// body: a JSON-able value, or {raw: Blob, type: 'text/csv'} sent as it is.
// asBlob: the answer's body as a Blob (an image) rather than JSON.
async function api(method, path, body, asBlob = false) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const raw = body && body.raw instanceof Blob;
  if (body !== undefined) headers['Content-Type'] = raw ? body.type : 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : raw ? body.raw : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', 'The certificate service cannot be reached. Check your connection and try again.');
  }
  if (!res.ok) {
    const err = await CertificateProgressElement.readError(res);
    const retry = res.headers.get('Retry-After');
    throw new ApiError(res.status, err.error, err.message, retry ? Number(retry) || retry : null, err.errors);
  }
  if (res.status === 204) return null;
  if (asBlob) return res.blob();
  const type = res.headers.get('Content-Type') || '';
  return type.includes('json') ? res.json() : null;
}

function describe(err) {
  let text = err.message || 'Something went wrong.';
  if (!/[.!?]$/.test(text)) text += '.';
  if (err.status === 429 && err.retryAfter && !/try again/i.test(text)) text += ` Try again in ${err.retryAfter} s.`;
  if (err.status === 503 && !/try again/i.test(text)) text += ' Please try again shortly.';
  return text;
}

function showAlert(el, text) {
  el.textContent = text || '';
  el.hidden = !text;
}

// An error with its list of problems (invalid_data's "errors": "row 12,
// column recipientName: invalid UTF-8"), the first 20 of them.
const SHOWN_PROBLEMS = 20;

function showError(el, err) {
  showAlert(el, describe(err));
  const problems = err.errors || [];
  if (problems.length < 2) return;
  const list = document.createElement('ul');
  list.className = 'problems';
  for (const p of problems.slice(0, SHOWN_PROBLEMS)) {
    const item = document.createElement('li');
    item.textContent = `${p.path}: ${p.message}`;
    list.append(item);
  }
  if (problems.length > SHOWN_PROBLEMS) {
    const item = document.createElement('li');
    item.textContent = `… and ${problems.length - SHOWN_PROBLEMS} more`;
    list.append(item);
  }
  el.append(list);
}

// -- sign in ---------------------------------------------------------------

// After a reload: the web user's generations certgend still keeps (GET
// /api/certificates, oldest first), each followed again by its element,
// downloads included.
async function loadGenerations() {
  let list = [];
  try {
    list = (await api('GET', '/api/certificates')) || [];
  } catch (e) {
    showAlert($('form-error'), `Your earlier generations could not be listed: ${describe(e)}`);
    return;
  } finally {
    document.body.dataset.generationsListed = 'true'; // (the tests wait for it)
  }
  for (const g of list) {
    if (typeof g.progressId !== 'string') continue;
    const template = templates.find((t) => t.id === g.templateId) || { title: g.templateId || 'unknown' };
    const count = Number(g.pagesTotal) || 1;
    addJob(g.progressId, {
      title: count > 1 ? `Batch of ${count.toLocaleString()}` : (g.transactionId || g.progressId),
      data: {}, count, startedAt: Number(g.startedAt) || Date.now(),
    }, template);
  }
}

function showView(signedIn, name) {
  $('sign-in-view').hidden = signedIn;
  $('app-view').hidden = !signedIn;
  $('account').hidden = !signedIn;
  if (signedIn) $('account-name').textContent = name ? `Signed in as ${name}` : 'Signed in';
}

async function signIn(value) {
  saveToken(value);
  try {
    const body = await api('POST', '/api/session');
    const name = body && (body.user || body.name || body.username);
    showView(true, typeof name === 'string' ? name : null);
    await loadTemplates();
    await loadGenerations();
    return true;
  } catch (e) {
    saveToken(null);
    showView(false);
    showAlert($('sign-in-error'), e.status === 401
      ? 'That token was not accepted. Check it and try again.' : describe(e));
    return false;
  }
}

async function signOut() {
  try {
    await api('DELETE', '/api/session');
  } catch {
    // The cookie expires anyway; forget the token regardless.
  }
  saveToken(null);
  for (const el of document.querySelectorAll('certificate-progress')) el.token = null;
  showView(false);
  $('token').value = '';
  $('token').focus();
}

$('sign-in-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const value = $('token').value.trim();
  showAlert($('sign-in-error'), '');
  if (!value) {
    showAlert($('sign-in-error'), 'Enter your access token.');
    $('token').focus();
    return;
  }
  const button = $('sign-in-button');
  button.disabled = true;
  button.textContent = 'Signing in…';
  const ok = await signIn(value);
  button.disabled = false;
  button.textContent = 'Sign in';
  if (ok) {
    $('token').value = '';
    $('template-fields').querySelector('input, textarea')?.focus();
  }
});

$('sign-out').addEventListener('click', signOut);

// -- templates -------------------------------------------------------------

// [{id, title, description, widthPt, heightPt, fields: [{name, label,
// required, type, minLength, maxLength, shared}]}], from GET /api/templates.
let templates = [];

function currentTemplate() {
  return templates.find((t) => t.id === $('templateId').value) || null;
}

// The field a batch lists one value of per line: recipientName when the
// template has it, else its first required text field; the others are
// shared by every recipient.
function perRecipientField(t) {
  const text = t.fields.filter((f) => f.type === 'string');
  return text.find((f) => f.name === 'recipientName') || text.find((f) => f.required) || text[0] || null;
}

const fieldId = (name) => `field-${name}`;

// Long texts get a textarea, the others one line; dates a date picker.
function fieldInput(f) {
  if (f.type === 'date') {
    const input = document.createElement('input');
    input.type = 'date';
    return input;
  }
  const long = f.maxLength === 0 || f.maxLength > 200;
  const input = document.createElement(long ? 'textarea' : 'input');
  if (long) input.rows = 2;
  else input.autocomplete = 'off';
  if (f.maxLength > 0) input.maxLength = f.maxLength;
  if (f.minLength > 0) input.minLength = f.minLength;
  return input;
}

// One labelled input per data field of the chosen template; what was typed
// in a field of the same name stays when the template changes.
function renderFields() {
  const box = $('template-fields');
  const typed = new Map([...box.querySelectorAll('[data-field]')].map((el) => [el.dataset.field, el.value]));
  const t = currentTemplate();
  box.replaceChildren();
  $('template-description').textContent = t ? t.description : '';
  if (!t) return;
  const per = perRecipientField(t);
  for (const f of t.fields) {
    const wrap = document.createElement('div');
    wrap.className = 'field';
    if (per && f.name === per.name) wrap.dataset.mode = 'single';
    const label = document.createElement('label');
    label.htmlFor = fieldId(f.name);
    label.textContent = f.label;
    if (!f.required) {
      const note = document.createElement('span');
      note.className = 'label-note';
      note.textContent = 'optional';
      label.append(' ', note);
    }
    const input = fieldInput(f);
    input.id = fieldId(f.name);
    input.name = f.name;
    input.dataset.field = f.name;
    input.required = f.required;
    input.value = typed.get(f.name) ?? (f.type === 'date' && f.required ? today() : '');
    wrap.append(label, input);
    box.append(wrap);
  }
  $('mode-batch').disabled = !per;
  if (!per) $('mode-single').checked = true;
  updateMode();
}

async function loadTemplates() {
  const select = $('templateId');
  try {
    templates = (await api('GET', '/api/templates')) || [];
  } catch (e) {
    templates = [];
    showAlert($('form-error'), `The templates could not be loaded: ${describe(e)}`);
  }
  const previous = select.value;
  select.replaceChildren(...templates.map((t) => new Option(t.title, t.id)));
  if (templates.length === 0) select.append(new Option('No templates', ''));
  const keep = templates.find((t) => t.id === previous) || templates.find((t) => t.id === 'classic') || templates[0];
  if (keep) select.value = keep.id;
  select.disabled = templates.length === 0;
  $('generate-button').disabled = templates.length === 0;
  renderFields();
}

$('templateId').addEventListener('change', renderFields);

// -- the form --------------------------------------------------------------

function mode() {
  return document.querySelector('input[name="mode"]:checked').value;
}

function recipientNames() {
  return $('recipients').value.split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
}

function updateMode() {
  const m = mode();
  // data-mode: the modes (space-separated) an element shows in
  for (const el of document.querySelectorAll('[data-mode]')) el.hidden = !el.dataset.mode.split(' ').includes(m);
  const t = currentTemplate();
  const per = t && perRecipientField(t);
  // with a CSV file every field may be a column instead
  for (const f of t ? t.fields : []) $(fieldId(f.name)).required = m !== 'csv' && f.required;
  if (per) $(fieldId(per.name)).required = m === 'single' && per.required;
  $('csvFile').required = m === 'csv';
  $('generate-button').textContent = { single: 'Generate certificate', batch: 'Generate batch', csv: 'Generate from CSV' }[m];
}

function updateCount() {
  const n = recipientNames().length;
  $('recipients-count').textContent = n === 0 ? 'No recipients yet.'
    : `${n.toLocaleString()} recipient${n === 1 ? '' : 's'}${n > MAX_RECIPIENTS ? ` (at most ${MAX_RECIPIENTS.toLocaleString()})` : ''}.`;
}

for (const radio of document.querySelectorAll('input[name="mode"]')) radio.addEventListener('change', updateMode);
$('recipients').addEventListener('input', updateCount);

function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function newTransactionId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

const fail = (field, message) => Object.assign(new Error(message), { field });

// A value checked as certgend will: required, a date, its length in
// characters. Returns the error message or null.
function checkValue(f, value) {
  if (!value) return f.required ? `Enter “${f.label}”.` : null;
  if (f.type === 'date') return /^\d{4}-\d{2}-\d{2}$/.test(value) ? null : `Choose a date for “${f.label}”.`;
  const n = [...value].length;
  if (n < f.minLength) return `“${f.label}” needs at least ${f.minLength} characters.`;
  if (f.maxLength > 0 && n > f.maxLength) return `“${f.label}” takes at most ${f.maxLength} characters.`;
  return null;
}

// The field names of a CSV file's header row (its first record; RFC 4180
// quoting), to tell which of the form's fields the file leaves to the form.
// certgen-http checks the whole file; this only reads the header.
async function csvHeader(file) {
  const text = (await file.slice(0, 64 * 1024).text()).replace(/^\ufeff/, '');
  const names = [];
  let name = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { name += '"'; i++; } else if (c === '"') quoted = false; else name += c;
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      names.push(name);
      name = '';
    } else if (c === '\r' || c === '\n') {
      break;
    } else {
      name += c;
    }
  }
  names.push(name);
  return names;
}

// A CSV batch: the file as it is, and the form's filled fields that are not
// columns of it as set.FIELD query parameters (the rows' own per-recipient
// field never). -> {csv, set, title, count, data}
async function collectCsv(t) {
  const file = $('csvFile').files[0];
  if (!file) throw fail('csvFile', 'Choose a CSV file: a header row naming the fields, then a row per recipient.');
  const columns = new Set(await csvHeader(file));
  const per = perRecipientField(t);
  const set = {};
  for (const f of t.fields) {
    if ((per && f.name === per.name) || columns.has(f.name)) continue;
    const el = $(fieldId(f.name));
    const value = f.type === 'date' ? el.value : el.value.trim();
    if (!value) continue; // perhaps a column after all: certgend says
    const problem = checkValue(f, value);
    if (problem) throw fail(el.id, problem);
    set[f.name] = value;
  }
  return {
    csv: file, set, title: file.name, count: 0, data: { courseName: set.courseName },
    outputFormat: $('outputZip').checked ? 'zip' : 'pdf',
  };
}

// -> {data, title, count} or throws Error(message) with .field set.
async function collect() {
  const t = currentTemplate();
  if (!t) throw fail(null, 'No template is available.');
  if (mode() === 'csv') return collectCsv(t);
  const batch = mode() === 'batch';
  const per = perRecipientField(t);
  const values = {};
  for (const f of t.fields) {
    if (batch && f.name === per.name) continue;
    const el = $(fieldId(f.name));
    const value = f.type === 'date' ? el.value : el.value.trim();
    const problem = checkValue(f, value);
    if (problem) throw fail(el.id, problem);
    if (value) values[f.name] = value;
  }
  if (!batch) return { data: values, title: (per && values[per.name]) || t.title, count: 1, outputFormat: 'pdf' };
  const names = recipientNames();
  if (names.length === 0) throw fail('recipients', 'Paste at least one name, one per line.');
  if (names.length > MAX_RECIPIENTS) {
    throw fail('recipients', `A batch holds at most ${MAX_RECIPIENTS.toLocaleString()} recipients.`);
  }
  for (const name of names) {
    const problem = checkValue(per, name);
    if (problem) throw fail('recipients', `${problem} (“${name.slice(0, 40)}”)`);
  }
  return {
    data: { recipients: names.map((name) => ({ [per.name]: name })), ...values },
    title: `Batch of ${names.length.toLocaleString()}`,
    count: names.length,
    names, // the list's lines, to name a recipient's problems by its line
    // one PDF per recipient in a ZIP, or one PDF with a page each
    outputFormat: $('outputZip').checked ? 'zip' : 'pdf',
  };
}

function markInvalid(fieldId) {
  for (const el of document.querySelectorAll('#generate-form [aria-invalid]')) el.removeAttribute('aria-invalid');
  if (fieldId) {
    $(fieldId).setAttribute('aria-invalid', 'true');
    $(fieldId).focus();
  }
}

// POST /api/certificates with the file as text/csv; the rest in the query.
function startCsv(request, templateId) {
  const query = new URLSearchParams({ transactionId: newTransactionId(), templateId });
  if (request.outputFormat === 'zip') query.append('outputFormat', 'zip');
  for (const [name, value] of Object.entries(request.set)) query.append(`set.${name}`, value);
  return api('POST', `/api/certificates?${query}`, { raw: request.csv, type: 'text/csv' });
}

// A refused request of the form: signed out on 401, else the error shown.
function formError(err) {
  if (err.status === 401) {
    saveToken(null);
    showView(false);
    showAlert($('sign-in-error'), 'Your session has ended. Sign in again.');
    $('token').focus();
  } else {
    showError($('form-error'), err);
  }
}

// The form's request (collect), or null with the problem shown on its field.
async function collectOrShow() {
  showAlert($('form-error'), '');
  try {
    const request = await collect();
    markInvalid(null);
    return request;
  } catch (err) {
    showAlert($('form-error'), err.message);
    markInvalid(err.field);
    return null;
  }
}

$('generate-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const request = await collectOrShow();
  if (!request) return;
  const templateId = $('templateId').value;
  const button = $('generate-button');
  const label = button.textContent;
  button.disabled = true;
  button.textContent = 'Starting…';
  try {
    const body = request.csv ? await startCsv(request, templateId) : await api('POST', '/api/certificates', {
      transactionId: newTransactionId(),
      templateId,
      data: request.data,
      options: {},
      outputFormat: request.outputFormat,
    });
    if (!body || !body.progressId) throw new ApiError(500, 'bad_reply', 'The service did not return a progress id.');
    addJob(body.progressId, request, currentTemplate());
  } catch (err) {
    formError(err);
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
});

// -- preview ---------------------------------------------------------------

// POST /api/preview: the first page as the service draws it, marked as a
// preview, before anything is generated (no certificate number is used).
let previewUrl = null;

function showPreview(blob, title) {
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = blob ? URL.createObjectURL(blob) : null;
  const img = $('preview-image');
  if (previewUrl) {
    img.src = previewUrl;
    img.alt = `Preview of the first page: ${title}`;
  } else {
    img.removeAttribute('src');
  }
  $('preview').hidden = !previewUrl;
}

$('preview-button').addEventListener('click', async () => {
  const request = await collectOrShow();
  if (!request) return;
  if (request.csv) {
    showPreview(null);
    showAlert($('form-error'), 'A preview needs the recipients in the form: choose “One certificate” or “A batch from a list”.');
    return;
  }
  const button = $('preview-button');
  button.disabled = true;
  try {
    const blob = await api('POST', '/api/preview', {
      templateId: $('templateId').value, data: request.data, page: 1,
    }, true);
    showPreview(blob, request.title);
  } catch (err) {
    showPreview(null);
    formError(err);
  } finally {
    button.disabled = false;
  }
});

// -- generations -----------------------------------------------------------

function formatBytes(n) {
  if (!Number.isFinite(n)) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function addFact(dl, term, value) {
  if (value === undefined || value === null || value === '') return;
  const div = document.createElement('div');
  const dt = document.createElement('dt');
  const dd = document.createElement('dd');
  dt.textContent = term;
  dd.textContent = value;
  div.append(dt, dd);
  dl.append(div);
}

function formatTime(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

// How long certgend keeps the result (expiresAt, ms; null when kept until the
// owner's cleanup), and what the page says once it is gone: an expired file
// is said to be so rather than offered as a download that fails.
function showLifetime(node, update) {
  const facts = node.querySelector('.result-facts');
  const link = node.querySelector('.download');
  const note = node.querySelector('.job-lifetime');
  const expiresAt = Number(update.expiresAt);
  clearTimeout(node.expiryTimer);
  if (update.persistent) {
    addFact(facts, 'Available', 'until you clean it up');
    return;
  }
  if (!Number.isFinite(expiresAt) || expiresAt <= 0) return;
  const expire = () => {
    link.hidden = true;
    link.style.display = 'none'; // .button sets display, which [hidden] does not override
    note.textContent = `This file has expired: certgend kept it until ${formatTime(expiresAt)}. Generate it again to download it.`;
    note.hidden = false;
    node.dataset.expired = 'true';
  };
  addFact(facts, 'Available until', formatTime(expiresAt));
  if (Date.now() >= expiresAt) {
    expire();
    return;
  }
  node.expiryTimer = setTimeout(expire, Math.min(expiresAt - Date.now(), 2 ** 31 - 1));
  link.addEventListener('click', (e) => {
    if (Date.now() < expiresAt) return;
    e.preventDefault();
    expire();
  });
}

// A failed generation's problems (the update's "errors", every one certgend
// found, at most 100) listed in its card, each beside the row it names: a
// batch's recipient by its line of the list and its name, a CSV's by row
// and column (the bridge's words already).
function problemRow(request, path) {
  const m = /^recipients\[(\d+)\](?:\.(.*))?$/.exec(path);
  const names = request.names || [];
  if (!m || Number(m[1]) >= names.length) return path;
  const line = Number(m[1]) + 1;
  return `Line ${line.toLocaleString()} (“${names[line - 1].slice(0, 40)}”)${m[2] ? `, ${m[2]}` : ''}`;
}

function showProblems(node, request, problems) {
  const list = document.createElement('ul');
  list.className = 'problems job-problems';
  list.setAttribute('aria-label', 'Problems in the data');
  for (const p of problems) {
    const item = document.createElement('li');
    const row = document.createElement('span');
    row.className = 'problem-row';
    row.textContent = problemRow(request, String(p.path));
    item.append(row, `: ${p.message}`);
    list.append(item);
  }
  node.querySelector('.job-problems')?.remove();
  node.querySelector('certificate-progress').after(list);
}

function addJob(progressId, request, template) {
  const known = CSS.escape(progressId);
  if (document.querySelector(`#jobs [data-progress-id="${known}"], #jobs certificate-progress[progress-id="${known}"]`)) return;
  const node = document.importNode($('job-template').content, true).firstElementChild;
  node.dataset.progressId = progressId;
  const article = node.querySelector('article');
  const titleId = `job-${progressId}`;
  const title = node.querySelector('.job-title');
  title.id = titleId;
  article.setAttribute('aria-labelledby', titleId);
  title.textContent = request.title;
  const course = request.data.courseName;
  const started = formatTime(request.startedAt || Date.now());
  node.querySelector('.job-meta').textContent = `${course ? `${course} · ` : ''}${template.title} template · started ${started}`;

  const progress = node.querySelector('certificate-progress');
  progress.token = token; // the element sends the DELETE for Cancel itself
  progress.setAttribute('progress-id', progressId);

  const result = node.querySelector('.job-result');
  const link = node.querySelector('.download');
  progress.addEventListener('complete', (e) => {
    const r = e.detail || {};
    const url = progress.update?.downloadUrl;
    link.href = typeof url === 'string' && url.startsWith('/api/')
      ? url : `/api/certificates/${encodeURIComponent(progressId)}/download`;
    // named as certgen-http names it: after the number range
    const zip = r.contentType === 'application/zip';
    const ext = zip ? 'zip' : 'pdf';
    const first = r.certificateNumber || progressId;
    const last = r.lastCertificateNumber;
    link.setAttribute('download', last && last !== first
      ? `certificates-${first}-${last}.${ext}` : `${first}.${ext}`);
    const pages = r.pages || request.count;
    if (zip) link.textContent = `Download ZIP (${pages.toLocaleString()} PDFs)`;
    else link.textContent = pages > 1 ? `Download PDF (${pages.toLocaleString()} pages)` : 'Download PDF';
    const facts = node.querySelector('.result-facts');
    facts.replaceChildren();
    addFact(facts, 'Certificate no.', r.lastCertificateNumber && r.lastCertificateNumber !== r.certificateNumber
      ? `${r.certificateNumber} – ${r.lastCertificateNumber}` : r.certificateNumber);
    addFact(facts, 'Size', formatBytes(Number(r.fileSize)));
    if (r.checksum) addFact(facts, 'SHA-256', `${String(r.checksum).slice(0, 16)}…`);
    showLifetime(node, progress.update || {});
    result.hidden = false;
    node.dataset.state = 'completed';
  });
  progress.addEventListener('cancel', () => { node.dataset.state = 'cancelled'; });
  progress.addEventListener('error', (e) => {
    node.dataset.state = 'failed';
    const problems = e.detail?.errors || [];
    if (problems.length > 0) showProblems(node, request, problems);
  });

  $('jobs-empty').hidden = true;
  $('jobs').prepend(node);
  title.setAttribute('tabindex', '-1');
  title.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}

// -- start -----------------------------------------------------------------

updateMode();
updateCount();

const saved = loadToken();
if (saved) {
  signIn(saved);
} else {
  showView(false);
}
