// SPDX-License-Identifier: LGPL-2.1-or-later
//
// <certificate-progress progress-id="...">: live progress of one certgen
// generation, served by certgen-http as /certificate-progress.js. Plain
// JavaScript, no build step, no framework; shadow DOM with its own styles.
//
//   <script type="module" src="/certificate-progress.js"></script>
//   <certificate-progress progress-id="0123abcd..."></certificate-progress>
//
// Attributes
//   progress-id   the generation to follow (required; changing it restarts)
//   api-base      prefix of the bridge's API, default "/api"
//   data-status   set by the element: its status, for the page's CSS
//
// Properties
//   progressId    mirrors the attribute
//   token         Bearer token used for the Cancel request (DELETE needs the
//                 header; the session cookie only authenticates GETs). A
//                 property only, never an attribute, so the token is not
//                 written into the DOM.
//   update        the last update accepted (read-only, camelCase keys as sent)
//   status        "connecting", "in_progress" or a terminal status (read-only)
//   finished      true after a terminal status (read-only)
//
// Methods
//   cancel()      asks to cancel (as the Cancel button does); resolves to true
//                 when the bridge accepted the request
//   reconnect()   drops the stream and reconnects now; also after an "error"
//                 event for a refused stream (not after a terminal status)
//
// Events (CustomEvent; all but "error" bubble: like the platform's own error
// events it does not, so it never reaches window's error handlers)
//   progress        detail: the update, for every update accepted
//   complete        detail: the result ({certificateNumber, fileSize, checksum,
//                   pages, contentType, ...}), once, when the status becomes
//                   "completed" (contentType: application/pdf or application/zip)
//   cancel          detail: the update, once, when the status becomes "cancelled"
//   error           detail: {error, message, errors}, once: the generation failed
//                   or timed out, or the stream was refused for good (401,
//                   404...); errors: invalid data's problems [{path, message}]
//                   (every one found, at most 100; [] otherwise)
//   cancel-request  detail: {progressId}; cancelable. Sent when Cancel is
//                   clicked. A page that calls preventDefault() sends the
//                   DELETE itself; otherwise the element sends
//                   DELETE {api-base}/certificates/progress/{id} with
//                   "Authorization: Bearer <token>".
//
// The stream: EventSource('{api-base}/certificates/progress/{id}'), which the
// bridge authenticates with the same-site session cookie (POST /api/session).
// Updates whose sequence is not above the last one seen are ignored; the
// stream is closed after a terminal status. EventSource reconnects by itself
// after a network error (the bridge sends "retry: 2000") with Last-Event-ID,
// but it gives up for good after a non-200 answer (429, 503...) and cannot
// tell which status it got. When it gives up the element reconnects itself
// with fetch(), which sees the status: 429 and 503 are retried after
// Retry-After or a backoff of 2 s doubling to 30 s, 400/401/403/404/410 end
// with an "error" event, and a 200 answer is read as the event stream (sent
// with Last-Event-ID, so the bridge resumes where the element stopped). A
// 401 there means the session cookie is gone (it expired, or the bridge
// restarted: it keeps sessions in memory); an element that has a token signs
// in again once (POST {api-base}/session) and reconnects.
//
// Styling: custom properties --cp-accent, --cp-accent-2, --cp-ink,
// --cp-muted, --cp-surface, --cp-track, --cp-radius, --cp-font; parts
// "card", "bar", "cancel-button".

const STAGES = [
  ['initializing', 'Initializing'],
  ['template_loading', 'Loading template'],
  ['data_validation', 'Validating data'],
  ['pdf_generation', 'Generating PDF'],
  ['file_preparation', 'Preparing file'],
  ['download_ready', 'Ready for download'],
  ['completed', 'Completed'],
];
const STAGE_LABELS = Object.fromEntries(STAGES);
const STATUS_LABELS = {
  connecting: 'Connecting',
  in_progress: 'In progress',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
  timed_out: 'Timed out',
};
const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'timed_out']);
const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);
const BACKOFF_FIRST_MS = 2000;
const BACKOFF_MAX_MS = 30000;

// A time from the bridge: epoch seconds, milliseconds or microseconds, or an
// ISO 8601 string; 0 or empty means unknown. -> epoch milliseconds or null.
function toMillis(value) {
  if (value === null || value === undefined || value === '' || value === 0) return null;
  if (typeof value === 'string' && !/^\d+(\.\d+)?$/.test(value.trim())) {
    const t = Date.parse(value);
    return Number.isNaN(t) ? null : t;
  }
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) return null;
  if (n > 1e14) return n / 1000;
  if (n > 1e11) return n;
  return n * 1000;
}

function formatDuration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

function clampPercent(value) {
  const n = Number(value);
  if (!Number.isFinite(n)) return 0;
  return Math.min(100, Math.max(0, n));
}

// Retry-After is delta-seconds or an HTTP date. -> milliseconds or null.
function retryAfterMs(header) {
  if (!header) return null;
  if (/^\s*\d+\s*$/.test(header)) return Number(header) * 1000;
  const t = Date.parse(header);
  return Number.isNaN(t) ? null : Math.max(0, t - Date.now());
}

const STYLE = `
:host {
  --cp-accent: #1b2f4e;
  --cp-accent-2: #b08d3c;
  --cp-ink: #1f2933;
  --cp-muted: #5a6474;
  --cp-surface: #ffffff;
  --cp-track: #e7e2d6;
  --cp-ok: #2f7d4f;
  --cp-bad: #b3261e;
  --cp-radius: 14px;
  --cp-font: system-ui, -apple-system, "Segoe UI", "Noto Sans", "DejaVu Sans", sans-serif;
  display: block;
  font-family: var(--cp-font);
  color: var(--cp-ink);
  container-type: inline-size;
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.card {
  background: var(--cp-surface);
  border: 1px solid color-mix(in srgb, var(--cp-accent-2) 35%, transparent);
  border-radius: var(--cp-radius);
  padding: 1.1rem 1.25rem 1.2rem;
  box-shadow: 0 1px 2px rgb(27 47 78 / 6%), 0 8px 24px rgb(27 47 78 / 7%);
}
.head {
  display: flex; align-items: center; justify-content: space-between;
  gap: .75rem; flex-wrap: wrap;
}
.stage { margin: 0; font-size: 1.05rem; font-weight: 650; color: var(--cp-accent); }
.badge {
  font-size: .78rem; font-weight: 600; letter-spacing: .02em;
  padding: .2rem .6rem; border-radius: 999px;
  background: color-mix(in srgb, var(--cp-accent) 9%, transparent);
  color: var(--cp-accent); white-space: nowrap;
}
.badge[data-status="completed"] { background: color-mix(in srgb, var(--cp-ok) 14%, transparent); color: var(--cp-ok); }
.badge[data-status="failed"], .badge[data-status="timed_out"] { background: color-mix(in srgb, var(--cp-bad) 12%, transparent); color: var(--cp-bad); }
.badge[data-status="cancelled"] { background: color-mix(in srgb, var(--cp-muted) 15%, transparent); color: var(--cp-muted); }
.bar {
  position: relative; height: .8rem; margin: .9rem 0 .55rem;
  border-radius: 999px; background: var(--cp-track); overflow: hidden;
}
.fill {
  position: absolute; inset: 0 auto 0 0; width: 0%;
  border-radius: inherit;
  background: linear-gradient(90deg, var(--cp-accent), color-mix(in srgb, var(--cp-accent) 75%, white));
  transition: width .35s ease-out;
}
:host([data-status="in_progress"]) .fill::after {
  content: ""; position: absolute; inset: 0;
  background: linear-gradient(90deg, transparent, rgb(255 255 255 / 28%), transparent);
  animation: sheen 1.6s linear infinite;
}
:host([data-status="completed"]) .fill { background: linear-gradient(90deg, var(--cp-ok), color-mix(in srgb, var(--cp-ok) 70%, var(--cp-accent-2))); }
:host([data-status="failed"]) .fill, :host([data-status="timed_out"]) .fill { background: var(--cp-bad); }
:host([data-status="cancelled"]) .fill { background: var(--cp-muted); }
@keyframes sheen { from { transform: translateX(-100%); } to { transform: translateX(100%); } }
.facts {
  display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; margin: 0;
  font-size: .9rem; color: var(--cp-muted);
}
.facts div { display: flex; gap: .35rem; }
.facts dt { font-weight: 500; }
.facts dd { margin: 0; font-variant-numeric: tabular-nums; color: var(--cp-ink); }
.facts .percent dd { font-weight: 700; color: var(--cp-accent); }
.steps {
  list-style: none; display: grid; grid-template-columns: repeat(7, 1fr);
  gap: .25rem; padding: 0; margin: 1rem 0 .2rem;
}
.steps li {
  position: relative; text-align: center; font-size: .7rem; line-height: 1.2;
  color: var(--cp-muted); padding-top: 1.05rem;
}
.steps li::before {
  content: ""; position: absolute; top: 0; left: 50%; translate: -50% 0;
  width: .62rem; height: .62rem; border-radius: 50%;
  border: 2px solid var(--cp-track); background: var(--cp-surface);
}
.steps li:not(:last-child)::after {
  content: ""; position: absolute; top: calc(.31rem - 1px); height: 2px;
  left: calc(50% + .5rem); right: calc(-50% + .5rem);
  background: var(--cp-track); border-radius: 2px;
}
.steps li[data-state="done"]::after { background: var(--cp-accent-2); }
.steps li[data-state="done"]::before { background: var(--cp-accent-2); border-color: var(--cp-accent-2); }
.steps li[data-state="current"]::before { border-color: var(--cp-accent); background: var(--cp-accent); box-shadow: 0 0 0 3px color-mix(in srgb, var(--cp-accent) 18%, transparent); }
.steps li[data-state="current"] { color: var(--cp-accent); font-weight: 600; }
.steps li[data-state="stopped"]::before { border-color: var(--cp-muted); background: var(--cp-muted); }
:host([data-status="failed"]) .steps li[data-state="stopped"]::before,
:host([data-status="timed_out"]) .steps li[data-state="stopped"]::before { border-color: var(--cp-bad); background: var(--cp-bad); }
.steps li[data-state="stopped"] { color: var(--cp-ink); font-weight: 600; }
.foot { display: flex; align-items: center; justify-content: space-between; gap: .6rem 1rem; margin-top: .75rem; }
.message { margin: 0; min-height: 1.3em; font-size: .95rem; overflow-wrap: anywhere; flex: 1; }
.message[data-kind="error"] { color: var(--cp-bad); font-weight: 500; }
.connection { margin: .35rem 0 0; font-size: .85rem; color: var(--cp-muted); }
.connection:empty { display: none; }
button {
  font: inherit; font-size: .9rem; font-weight: 600; cursor: pointer;
  min-height: 2.5rem; padding: .45rem 1.1rem; border-radius: 10px;
  border: 1px solid color-mix(in srgb, var(--cp-bad) 45%, transparent);
  background: var(--cp-surface); color: var(--cp-bad);
}
button:hover:not(:disabled) { background: color-mix(in srgb, var(--cp-bad) 7%, var(--cp-surface)); }
button:focus-visible { outline: 3px solid var(--cp-accent-2); outline-offset: 2px; }
button:disabled { opacity: .6; cursor: progress; }
.sr-only {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
@container (max-width: 30rem) {
  .card { padding: .95rem 1rem 1rem; }
  .steps li { font-size: 0; padding-top: .7rem; }
  .foot { flex-direction: column; align-items: stretch; }
  .foot button { width: 100%; }
}
@media (prefers-reduced-motion: reduce) {
  .fill { transition: none; }
  :host([data-status="in_progress"]) .fill::after { animation: none; }
}
@media (forced-colors: active) {
  .fill { background: Highlight; }
  .bar { border: 1px solid CanvasText; }
}
`;

const TEMPLATE = `
<section class="card" part="card" aria-labelledby="stage">
  <div class="head">
    <h3 class="stage" id="stage">Connecting…</h3>
    <span class="badge" id="badge" data-status="connecting">Connecting</span>
  </div>
  <div class="bar" part="bar" id="bar" role="progressbar" aria-labelledby="stage"
       aria-valuemin="0" aria-valuemax="100" aria-valuenow="0" aria-valuetext="0 percent">
    <div class="fill" id="fill"></div>
  </div>
  <dl class="facts">
    <div class="percent"><dt class="sr-only">Progress</dt><dd id="percent">0 %</dd></div>
    <div id="pages-row" hidden><dt>Pages</dt><dd id="pages"></dd></div>
    <div id="eta-row" hidden><dt>Time left</dt><dd id="eta"></dd></div>
  </dl>
  <ol class="steps" id="steps" aria-label="Stages"></ol>
  <div class="foot" id="foot">
    <p class="message" id="message"></p>
    <button type="button" id="cancel" part="cancel-button" hidden>Cancel</button>
  </div>
  <p class="connection" id="connection"></p>
  <div class="sr-only" id="live" role="status" aria-live="polite" aria-atomic="true"></div>
</section>
`;

export class CertificateProgressElement extends HTMLElement {
  static get observedAttributes() {
    return ['progress-id', 'api-base'];
  }

  #els = {};
  #token = null;
  #update = null;
  #lastSeq = -1;
  #status = 'connecting';
  #finished = false;
  #source = null;
  #abort = null;
  #timer = null;
  #etaTimer = null;
  #backoff = BACKOFF_FIRST_MS;
  #retryMs = BACKOFF_FIRST_MS;
  #generation = 0;
  #lastStage = null;
  #cancelling = false;
  #renewed = false;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
    root.adoptedStyleSheets = [sheet];
    root.innerHTML = TEMPLATE;
    for (const id of ['foot', 'stage', 'badge', 'bar', 'fill', 'percent', 'pages-row', 'pages', 'eta-row',
      'eta', 'steps', 'message', 'connection', 'live', 'cancel']) {
      this.#els[id] = root.getElementById(id);
    }
    for (const [, label] of STAGES) {
      const li = document.createElement('li');
      li.textContent = label;
      this.#els.steps.append(li);
    }
    this.#els.cancel.addEventListener('click', () => this.cancel());
    this.#updateFoot();
  }

  // -- public API ------------------------------------------------------------

  get progressId() { return this.getAttribute('progress-id') || ''; }
  set progressId(value) { this.setAttribute('progress-id', value); }

  get apiBase() { return (this.getAttribute('api-base') || '/api').replace(/\/+$/, ''); }
  set apiBase(value) { this.setAttribute('api-base', value); }

  get token() { return this.#token; }
  set token(value) { this.#token = value ? String(value) : null; }

  get update() { return this.#update ? structuredClone(this.#update) : null; }
  get status() { return this.#status; }
  get finished() { return this.#finished; }

  async cancel() {
    if (this.#finished || this.#cancelling || !this.progressId) return false;
    const request = new CustomEvent('cancel-request', {
      bubbles: true, composed: true, cancelable: true, detail: { progressId: this.progressId },
    });
    if (!this.dispatchEvent(request)) return true; // the page handles it
    if (!this.#token) {
      this.#showConnection('Cannot cancel: no token to authorize the request.');
      return false;
    }
    this.#setCancelling(true);
    try {
      const res = await fetch(this.#progressUrl(), {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${this.#token}`, Accept: 'application/json' },
        credentials: 'same-origin',
      });
      if (res.ok) {
        if (!this.#finished) this.#showConnection('Cancellation requested…');
        return true;
      }
      const err = await CertificateProgressElement.readError(res);
      // 409: it ended (or cannot be cancelled); the terminal update says which.
      if (!this.#finished) this.#showConnection(`Cannot cancel: ${err.message}`);
      this.#setCancelling(false);
      return false;
    } catch (e) {
      if (!this.#finished) this.#showConnection(`Cannot cancel: ${e.message}`);
      this.#setCancelling(false);
      return false;
    }
  }

  reconnect() {
    if (!this.isConnected || !this.progressId) return;
    if (this.#update && TERMINAL.has(this.#update.status)) return;
    if (this.#finished) {
      // After a refusal (#fail): try again from where it stopped.
      this.#finished = false;
      this.#renewed = false;
      this.#setStatus(this.#update ? 'in_progress' : 'connecting');
      this.#render(this.#update);
    }
    this.#backoff = BACKOFF_FIRST_MS;
    this.#stopStream();
    this.#openEventSource();
  }

  // The JSON error body of a failed response -> {error, message}.
  static async readError(res) {
    let body = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    return {
      status: res.status,
      error: (body && body.error) || `http_${res.status}`,
      message: (body && body.message) || res.statusText || `HTTP ${res.status}`,
      // invalid_data: every problem, {path, message} ("row 12, column recipientName")
      errors: body && Array.isArray(body.errors) ? body.errors : [],
    };
  }

  // -- lifecycle -------------------------------------------------------------

  connectedCallback() {
    // A property set before the element was upgraded (e.g. on a clone of a
    // <template>'s content) is an own property hiding the accessor: move it.
    for (const prop of ['token', 'progressId', 'apiBase']) {
      if (Object.prototype.hasOwnProperty.call(this, prop)) {
        const value = this[prop];
        delete this[prop];
        this[prop] = value;
      }
    }
    if (!this.hasAttribute('data-status')) this.setAttribute('data-status', this.#status);
    this.#start();
  }

  disconnectedCallback() {
    this.#stopStream();
    this.#stopEtaTimer();
  }

  attributeChangedCallback(name, oldValue, newValue) {
    if (oldValue === newValue || !this.isConnected) return;
    if (name === 'progress-id' || name === 'api-base') {
      this.#reset();
      this.#start();
    }
  }

  #reset() {
    this.#stopStream();
    this.#stopEtaTimer();
    this.#update = null;
    this.#lastSeq = -1;
    this.#finished = false;
    this.#lastStage = null;
    this.#cancelling = false;
    this.#renewed = false;
    this.#backoff = BACKOFF_FIRST_MS;
    this.#setStatus('connecting');
    this.#render(null);
  }

  #start() {
    if (this.#finished || this.#source || this.#abort || this.#timer) return;
    if (!this.progressId) {
      this.#showConnection('No progress-id given.');
      return;
    }
    this.#openEventSource();
  }

  #progressUrl() {
    return `${this.apiBase}/certificates/progress/${encodeURIComponent(this.progressId)}`;
  }

  // -- transport -------------------------------------------------------------

  #stopStream() {
    this.#generation++;
    if (this.#source) {
      this.#source.close();
      this.#source = null;
    }
    if (this.#abort) {
      this.#abort.abort();
      this.#abort = null;
    }
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  #openEventSource() {
    const gen = ++this.#generation;
    const source = new EventSource(this.#progressUrl());
    this.#source = source;
    source.addEventListener('open', () => {
      if (gen !== this.#generation) return;
      this.#showConnection('');
    });
    source.addEventListener('message', (e) => {
      if (gen !== this.#generation) return;
      this.#handleData(e.data);
    });
    source.addEventListener('error', (e) => {
      if (gen !== this.#generation) return;
      if (typeof e.data === 'string' && e.data) {
        // A named "error" event sent by the bridge (not a connection error).
        this.#handleServerError(e.data);
        return;
      }
      if (source.readyState === EventSource.CLOSED) {
        // Refused (non-200, wrong type): EventSource will not retry.
        this.#source = null;
        this.#scheduleReconnect(null, 'The connection was refused.');
      } else {
        this.#showConnection('Connection lost, reconnecting…');
      }
    });
  }

  #scheduleReconnect(delayMs, why) {
    if (this.#finished || !this.isConnected) return;
    if (this.#source) {
      this.#source.close();
      this.#source = null;
    }
    const delay = Math.max(delayMs ?? 0, this.#backoff);
    this.#backoff = Math.min(this.#backoff * 2, BACKOFF_MAX_MS);
    this.#showConnection(`${why} Reconnecting in ${Math.ceil(delay / 1000)} s…`);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#fetchStream();
    }, delay);
  }

  // Reconnect with fetch(): unlike EventSource it can see a refusal's status,
  // JSON error and Retry-After. A 200 answer is parsed as text/event-stream.
  async #fetchStream() {
    if (this.#finished || !this.isConnected) return;
    const gen = ++this.#generation;
    const abort = new AbortController();
    this.#abort = abort;
    this.#showConnection('Reconnecting…');
    const headers = { Accept: 'text/event-stream' };
    if (this.#lastSeq >= 0) headers['Last-Event-ID'] = String(this.#lastSeq);
    let res;
    try {
      res = await fetch(this.#progressUrl(), {
        headers, credentials: 'same-origin', cache: 'no-store', signal: abort.signal,
      });
    } catch (e) {
      if (gen !== this.#generation) return;
      this.#abort = null;
      this.#scheduleReconnect(null, 'The service cannot be reached.');
      return;
    }
    if (gen !== this.#generation) return;
    if (!res.ok) {
      this.#abort = null;
      const err = await CertificateProgressElement.readError(res);
      if (gen !== this.#generation) return;
      if (RETRYABLE.has(res.status)) {
        const wait = retryAfterMs(res.headers.get('Retry-After'));
        this.#scheduleReconnect(wait, `${err.message}.`.replace(/\.\.$/, '.'));
      } else if (res.status === 401 && this.#token && !this.#renewed) {
        // The session cookie is gone (expired, or the bridge restarted and
        // forgot it): sign in again with the token, once, and reconnect.
        this.#renewed = true;
        this.#abort = new AbortController();
        const renewed = await this.#renewSession(this.#abort.signal);
        if (gen !== this.#generation) return;
        this.#abort = null;
        if (renewed) this.#fetchStream();
        else this.#fail(err.error, err.message);
      } else {
        this.#fail(err.error, err.message);
      }
      return;
    }
    this.#showConnection('');
    try {
      await this.#readEventStream(res.body, gen);
    } catch (e) {
      if (gen !== this.#generation) return;
    }
    if (gen !== this.#generation) return;
    this.#abort = null;
    if (!this.#finished) this.#scheduleReconnect(this.#retryMs, 'The stream ended.');
  }

  async #renewSession(signal) {
    try {
      const res = await fetch(`${this.apiBase}/session`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${this.#token}`, Accept: 'application/json' },
        credentials: 'same-origin', cache: 'no-store', signal,
      });
      return res.ok;
    } catch {
      return false;
    }
  }

  async #readEventStream(body, gen) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let data = [];
    let type = 'message';
    for (;;) {
      const { value, done } = await reader.read();
      if (done || gen !== this.#generation) return;
      buffer += value;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        let line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line === '') {
          if (data.length) {
            if (type === 'message') this.#handleData(data.join('\n'));
            else if (type === 'error') this.#handleServerError(data.join('\n'));
          }
          data = [];
          type = 'message';
          if (this.#finished) {
            reader.cancel().catch(() => {});
            return;
          }
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? '' : line.slice(colon + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (field === 'data') data.push(val);
        else if (field === 'event') type = val || 'message';
        else if (field === 'retry' && /^\d+$/.test(val)) this.#retryMs = Number(val);
      }
    }
  }

  // -- updates ---------------------------------------------------------------

  #handleData(text) {
    let update;
    try {
      update = JSON.parse(text);
    } catch {
      return;
    }
    if (!update || typeof update !== 'object') return;
    if (update.progressId && this.progressId && update.progressId !== this.progressId) return;
    const seq = Number(update.sequence);
    if (Number.isFinite(seq)) {
      if (seq <= this.#lastSeq) return;
      this.#lastSeq = seq;
    }
    if (this.#finished) return;
    this.#backoff = BACKOFF_FIRST_MS;
    this.#renewed = false;
    this.#update = update;
    this.#showConnection('');
    const status = TERMINAL.has(update.status) ? update.status : 'in_progress';
    this.#setStatus(status);
    this.#render(update);
    this.dispatchEvent(new CustomEvent('progress', { bubbles: true, composed: true, detail: update }));
    if (TERMINAL.has(status)) this.#finish(update);
  }

  #handleServerError(text) {
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    this.#fail((body && body.error) || 'stream_error', (body && body.message) || String(text));
  }

  #finish(update) {
    this.#finished = true;
    this.#stopStream();
    this.#stopEtaTimer();
    this.#setCancelling(false);
    this.#showConnection('');
    this.#els.cancel.hidden = true;
    this.#updateFoot();
    const label = STATUS_LABELS[update.status];
    let announce = `${label}. ${update.message || ''}`.trim();
    if (update.status === 'completed') {
      this.dispatchEvent(new CustomEvent('complete', {
        bubbles: true, composed: true, detail: update.result ?? {},
      }));
    } else if (update.status === 'cancelled') {
      this.dispatchEvent(new CustomEvent('cancel', { bubbles: true, composed: true, detail: update }));
    } else {
      const timedOut = update.status === 'timed_out';
      const detail = {
        error: update.error || (timedOut ? 'timed_out' : 'failed'),
        message: update.errorMessage || update.message
          || (timedOut ? 'The generation timed out.' : 'The generation failed.'),
        errors: Array.isArray(update.errors) ? update.errors : [],
      };
      // The badge already says "Timed out"/"Failed": say a little more.
      const bare = detail.message.trim().replace(/\.$/, '').toLowerCase() === label.toLowerCase();
      this.#showMessage(bare && timedOut
        ? 'It ran past its time limit and was stopped; no file was kept.' : detail.message, 'error');
      announce = `${label}. ${detail.message}`;
      this.dispatchEvent(new CustomEvent('error', { detail }));
    }
    this.#els.live.textContent = announce;
  }

  // A refusal that retrying will not cure (404, 401...): stop with an error.
  #fail(error, message) {
    this.#finished = true;
    this.#stopStream();
    this.#stopEtaTimer();
    this.#els.cancel.hidden = true;
    this.#updateFoot();
    this.#setStatus(this.#update && TERMINAL.has(this.#update.status) ? this.#update.status : 'failed');
    this.#showConnection('');
    this.#showMessage(message, 'error');
    this.#els.live.textContent = `Error. ${message}`;
    this.dispatchEvent(new CustomEvent('error', { detail: { error, message, errors: [] } }));
  }

  // -- rendering -------------------------------------------------------------

  #setStatus(status) {
    this.#status = status;
    this.setAttribute('data-status', status);
    const badge = this.#els.badge;
    badge.dataset.status = status;
    badge.textContent = STATUS_LABELS[status] || status;
  }

  #setCancelling(on) {
    this.#cancelling = on;
    const btn = this.#els.cancel;
    btn.disabled = on;
    btn.textContent = on ? 'Cancelling…' : 'Cancel';
    btn.setAttribute('aria-label', on ? 'Cancelling generation' : 'Cancel generation');
  }

  #showConnection(text) {
    this.#els.connection.textContent = text;
  }

  #showMessage(text, kind) {
    this.#els.message.textContent = text || '';
    if (kind) this.#els.message.dataset.kind = kind;
    else delete this.#els.message.dataset.kind;
    this.#updateFoot();
  }

  // The message row takes no room when it has neither text nor a button.
  #updateFoot() {
    this.#els.foot.hidden = !this.#els.message.textContent && this.#els.cancel.hidden;
  }

  #render(u) {
    const els = this.#els;
    const status = u ? u.status : 'connecting';
    const stageIndex = u ? Math.max(0, Math.min(6, Number(u.stageIndex) || STAGES.findIndex(([k]) => k === u.stage))) : -1;
    const stageLabel = u ? (STAGE_LABELS[u.stage] || u.stage || '') : 'Connecting…';
    let percent = u ? clampPercent(u.progress) : 0;
    if (status === 'completed') percent = 100;
    const shown = status === 'completed' ? 100 : Math.floor(percent);

    let heading = stageLabel;
    if (status === 'completed') {
      const pages = Number(u.result?.pages ?? u.pagesTotal) || 1;
      heading = pages > 1 ? `${pages.toLocaleString()} certificates ready` : 'Certificate ready';
    } else if (u && status !== 'in_progress') {
      heading = `Generation ${STATUS_LABELS[status].toLowerCase()}`;
    }
    els.stage.textContent = heading;
    els.fill.style.width = `${percent}%`;
    els.percent.textContent = `${shown} %`;

    const pagesTotal = u ? Number(u.pagesTotal) || 0 : 0;
    const pagesDone = u ? Number(u.pagesDone) || 0 : 0;
    els['pages-row'].hidden = pagesTotal <= 0;
    els.pages.textContent = pagesTotal > 0
      ? `${pagesDone.toLocaleString()} / ${pagesTotal.toLocaleString()}` : '';

    let valuetext = `${shown} percent`;
    if (u) valuetext += `, ${stageLabel}`;
    if (pagesTotal > 0) valuetext += `, page ${pagesDone} of ${pagesTotal}`;
    if (u && status !== 'in_progress') valuetext += `, ${STATUS_LABELS[status] || status}`;
    els.bar.setAttribute('aria-valuenow', String(shown));
    els.bar.setAttribute('aria-valuetext', valuetext);

    [...els.steps.children].forEach((li, i) => {
      let state = 'todo';
      if (status === 'completed' || i < stageIndex) state = 'done';
      else if (i === stageIndex) state = status === 'in_progress' ? 'current' : 'stopped';
      li.dataset.state = state;
      if (state === 'current' || state === 'stopped') li.setAttribute('aria-current', 'step');
      else li.removeAttribute('aria-current');
    });

    if (u && !(u.status === 'failed' || u.status === 'timed_out')) {
      // Not the same word twice: the heading and the badge say it already.
      const said = [heading, STATUS_LABELS[status], stageLabel].map((x) => String(x).toLowerCase());
      let msg = u.message || '';
      if (said.includes(msg.trim().replace(/\.$/, '').toLowerCase())) msg = '';
      if (!msg && status === 'cancelled') {
        msg = `Stopped during “${stageLabel}”${pagesTotal > 0 ? ` after ${pagesDone.toLocaleString()} of ${pagesTotal.toLocaleString()} pages` : ''}.`;
      }
      this.#showMessage(msg);
    } else if (!u) {
      this.#showMessage('');
    }

    const running = u && status === 'in_progress';
    els.cancel.hidden = !(running && u.cancellable);
    this.#updateFoot();

    if (u && u.stage !== this.#lastStage && running) {
      this.#lastStage = u.stage;
      els.live.textContent = `${stageLabel}. ${u.message || ''}`.trim();
    }
    this.#renderEta();
  }

  #renderEta() {
    const u = this.#update;
    const end = u && u.status === 'in_progress' ? toMillis(u.expectedEnd) : null;
    const row = this.#els['eta-row'];
    if (end === null) {
      row.hidden = true;
      this.#stopEtaTimer();
      return;
    }
    const left = end - Date.now();
    row.hidden = false;
    this.#els.eta.textContent = left > 1000 ? `about ${formatDuration(left)}` : 'almost done';
    if (!this.#etaTimer) this.#etaTimer = setInterval(() => this.#renderEta(), 1000);
  }

  #stopEtaTimer() {
    if (this.#etaTimer) {
      clearInterval(this.#etaTimer);
      this.#etaTimer = null;
    }
  }
}

if (!customElements.get('certificate-progress')) {
  customElements.define('certificate-progress', CertificateProgressElement);
}
