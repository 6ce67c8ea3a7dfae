// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The generation page served by certgen-http at "/": sign in with a token,
// start a certificate (or a batch), follow it with <certificate-progress>,
// download the PDF. The token is kept in sessionStorage (this tab only) and
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
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', 'The certificate service cannot be reached. Check your connection and try again.');
  }
  if (!res.ok) {
    const err = await CertificateProgressElement.readError(res);
    const retry = res.headers.get('Retry-After');
    throw new ApiError(res.status, err.error, err.message, retry ? Number(retry) || retry : null);
  }
  if (res.status === 204) return null;
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

// -- sign in ---------------------------------------------------------------

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
    $('recipientName').focus();
  }
});

$('sign-out').addEventListener('click', signOut);

// -- the form --------------------------------------------------------------

function mode() {
  return document.querySelector('input[name="mode"]:checked').value;
}

function recipientNames() {
  return $('recipients').value.split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
}

function updateMode() {
  const m = mode();
  for (const el of document.querySelectorAll('[data-mode]')) el.hidden = el.dataset.mode !== m;
  $('recipientName').required = m === 'single';
  $('generate-button').textContent = m === 'single' ? 'Generate certificate' : 'Generate batch';
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

// -> {data, title} or throws Error(message) with .field set.
function collect() {
  const fail = (field, message) => Object.assign(new Error(message), { field });
  const value = (id) => $(id).value.trim();
  const shared = {};
  const courseName = value('courseName');
  const issueDate = $('issueDate').value;
  const issuer = value('issuer');
  const description = value('description');
  if (mode() === 'single') {
    const recipientName = value('recipientName');
    if (!recipientName) throw fail('recipientName', 'Enter the recipient’s name.');
    shared.recipientName = recipientName;
  }
  if (!courseName) throw fail('courseName', 'Enter the course name.');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(issueDate)) throw fail('issueDate', 'Choose the issue date.');
  shared.courseName = courseName;
  shared.issueDate = issueDate;
  if (issuer) shared.issuer = issuer;
  if (description) shared.description = description;
  if (mode() === 'single') {
    return { data: shared, title: shared.recipientName, count: 1, outputFormat: 'pdf' };
  }
  const names = recipientNames();
  if (names.length === 0) throw fail('recipients', 'Paste at least one name, one per line.');
  if (names.length > MAX_RECIPIENTS) {
    throw fail('recipients', `A batch holds at most ${MAX_RECIPIENTS.toLocaleString()} recipients.`);
  }
  const tooLong = names.find((n) => [...n].length > 128);
  if (tooLong) throw fail('recipients', `This name is longer than 128 characters: “${tooLong.slice(0, 40)}…”.`);
  return {
    data: { recipients: names.map((recipientName) => ({ recipientName })), ...shared },
    title: `Batch of ${names.length.toLocaleString()}`,
    count: names.length,
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

$('generate-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  showAlert($('form-error'), '');
  let request;
  try {
    request = collect();
    markInvalid(null);
  } catch (err) {
    showAlert($('form-error'), err.message);
    markInvalid(err.field);
    return;
  }
  const templateId = $('templateId').value;
  const button = $('generate-button');
  const label = button.textContent;
  button.disabled = true;
  button.textContent = 'Starting…';
  try {
    const body = await api('POST', '/api/certificates', {
      transactionId: newTransactionId(),
      templateId,
      data: request.data,
      options: {},
      outputFormat: request.outputFormat,
    });
    if (!body || !body.progressId) throw new ApiError(500, 'bad_reply', 'The service did not return a progress id.');
    addJob(body.progressId, request, templateId);
  } catch (err) {
    if (err.status === 401) {
      saveToken(null);
      showView(false);
      showAlert($('sign-in-error'), 'Your session has ended. Sign in again.');
      $('token').focus();
    } else {
      showAlert($('form-error'), describe(err));
    }
  } finally {
    button.disabled = false;
    button.textContent = label;
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

function addJob(progressId, request, templateId) {
  const node = document.importNode($('job-template').content, true).firstElementChild;
  const article = node.querySelector('article');
  const titleId = `job-${progressId}`;
  const title = node.querySelector('.job-title');
  title.id = titleId;
  article.setAttribute('aria-labelledby', titleId);
  title.textContent = request.title;
  const course = request.data.courseName;
  node.querySelector('.job-meta').textContent = `${course} · ${templateId} template · started ${new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;

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
    const pages = (r.pages || request.count).toLocaleString();
    if (zip) link.textContent = `Download ZIP (${pages} PDFs)`;
    else link.textContent = request.count > 1 ? `Download PDF (${pages} pages)` : 'Download PDF';
    const facts = node.querySelector('.result-facts');
    facts.replaceChildren();
    addFact(facts, 'Certificate no.', r.lastCertificateNumber && r.lastCertificateNumber !== r.certificateNumber
      ? `${r.certificateNumber} – ${r.lastCertificateNumber}` : r.certificateNumber);
    addFact(facts, 'Size', formatBytes(Number(r.fileSize)));
    if (r.checksum) addFact(facts, 'SHA-256', `${String(r.checksum).slice(0, 16)}…`);
    result.hidden = false;
    node.dataset.state = 'completed';
  });
  progress.addEventListener('cancel', () => { node.dataset.state = 'cancelled'; });
  progress.addEventListener('error', () => { node.dataset.state = 'failed'; });

  $('jobs-empty').hidden = true;
  $('jobs').prepend(node);
  title.setAttribute('tabindex', '-1');
  title.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}

// -- start -----------------------------------------------------------------

$('issueDate').value = today();
updateMode();
updateCount();

const saved = loadToken();
if (saved) {
  signIn(saved);
} else {
  showView(false);
}
