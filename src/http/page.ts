/**
 * The status page at `/`: one self-contained HTML document (inline style and script, no external
 * assets: the appliance has no internet), filled from /api/... and kept live by /api/events (SSE).
 *
 * Served under `Content-Security-Policy: default-src 'none'; script-src 'nonce-N'; style-src 'nonce-N';
 * connect-src 'self'; img-src 'self' data:`, so everything is in one nonced <style> and one nonced
 * <script>: no style="" attributes, no inline handlers, no external file, and the favicon is a data:
 * URL (else the browser asks for /favicon.ico). The script builds every table with createElement and
 * textContent only, never innerHTML: host names, paths and DHCP client names come from the network.
 *
 * Read-only: the script only GETs. Stable hooks for tests and scripts: `#live[data-state]`
 * (`live`/`disconnected`), `tr[data-host=NAME]` in `#hosts` (unknown machines: `tr[data-key=MAC]`)
 * with one `td[data-step=STEP]` per boot step, `.done` once seen; `tr[data-ip]` in `#leases`,
 * `tr[data-pool]` in `#pools`, `tr[data-env]` in `#envs`, `tr[data-file]` in `#transfers`,
 * `tr[data-vm]` in `#guests`.
 */
import { bootSteps, stepLabels } from '../boot/timeline.js';

const attributeEntities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => attributeEntities[c]!);

/** JSON inside a <script>: `\u003c` is `<` to JavaScript, and leaves the HTML parser nothing to end the element on (`</script`, `<!--`). */
const inlineJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

const css = `
:root { --line: #d0d0d0; --head: #f2f2f2; --muted: #6b6b6b; --ok: #1b7f3b; --bad: #b3261e; --done: #e3f4e6; --fresh: #fff3b0; }
* { box-sizing: border-box; }
body { font: 13px/1.35 system-ui, sans-serif; margin: 0 1rem 2rem; color: #1e1e1e; background: #fff; }
header { position: sticky; top: 0; background: #fff; border-bottom: 1px solid var(--line); padding: .5rem 0; display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; align-items: baseline; }
h1 { font-size: 1.2rem; margin: 0; }
h2 { font-size: 1rem; margin: 1.25rem 0 .35rem; }
h2 .count { color: var(--muted); font-weight: normal; }
header .field { color: var(--muted); }
header .field b { color: #1e1e1e; font-weight: 600; }
#live { font-weight: 600; padding: 0 .45rem; border-radius: 3px; color: #fff; background: var(--muted); }
#live.live { background: var(--ok); }
#live.disconnected { background: var(--bad); }
#problems { color: var(--bad); margin: .5rem 0 0; padding-left: 1.2rem; }
#problems:empty { display: none; }
table { border-collapse: collapse; margin-bottom: .25rem; }
th, td { border: 1px solid var(--line); padding: .15rem .45rem; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; white-space: nowrap; }
td.mono, td .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.none { color: var(--muted); }
td.empty { color: var(--muted); font-style: italic; }
td.step { min-width: 5.5rem; color: var(--muted); }
td.step.done { background: var(--done); color: #1e1e1e; }
td.step.last { font-weight: 600; }
td.step .t { display: block; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.step .d { display: block; max-width: 16rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-family: ui-monospace, monospace; font-size: 11px; font-weight: normal; color: var(--muted); }
tr.fresh td { animation: fresh 3s ease-out; }
@keyframes fresh { from { background: var(--fresh); } }
td.name { white-space: nowrap; }
tr.unknown td.name { font-style: italic; }
th.step { white-space: normal; min-width: 5.5rem; }
button.boots { font: inherit; padding: 0; border: 0; background: none; color: #1a4fa0; cursor: pointer; text-decoration: underline dotted; }
tr.boots td { background: #fafafa; }
tr.boots ol { margin: 0; padding-left: 1.5rem; }
.badge { display: inline-block; padding: 0 .35rem; margin-right: .25rem; border-radius: 3px; background: #e4e9f2; font-size: 12px; }
.badge.pxe { background: #dcefdc; }
.state-bound, .state-running { color: var(--ok); font-weight: 600; }
.state-declined, .state-error, .state-failed { color: var(--bad); font-weight: 600; }
.state-expired, .state-released, .state-stopped { color: var(--muted); }
progress { width: 8rem; vertical-align: middle; margin-right: .35rem; }
ul.datasets { margin: 0; padding: 0; list-style: none; }
noscript p { color: var(--bad); }
`;

/**
 * The script. Plain ES2020 in a string (no framework, no build step): it is shipped as it is written.
 * Steps and their labels come in as JSON from src/boot/timeline.ts so the columns cannot drift.
 */
const script = `
'use strict';
const steps = STEPS_JSON;
const labels = LABELS_JSON;

const $ = (id) => document.getElementById(id);
/** An element with a class and text; never HTML. */
function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
/** A cell; empty values show as a muted dash. */
function cell(text, className) {
  const empty = text === undefined || text === null || text === '';
  return el('td', [className, empty ? 'none' : ''].filter(Boolean).join(' '), empty ? '–' : text);
}
function fill(tbody, rows, columns, emptyText) {
  if (rows.length === 0) {
    const tr = el('tr');
    const td = el('td', 'empty', emptyText);
    td.colSpan = columns;
    tr.append(td);
    rows = [tr];
  }
  tbody.replaceChildren(...rows);
}

// Times: "+3.2 s" within a boot, "12 s ago" / "in 59 min" elsewhere, refreshed every second.
function seconds(ms) { return (ms / 1000).toFixed(1) + ' s'; }
function span(ms) {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
}
function relative(at) {
  const d = at - Date.now();
  return Math.abs(d) < 1000 ? 'now' : d > 0 ? 'in ' + span(d) : span(d) + ' ago';
}
function clock(at) {
  const d = new Date(at);
  const two = (n) => String(n).padStart(2, '0');
  return two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
}
function stamp(at) {
  const d = new Date(at);
  return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0') + ' ' + clock(at);
}
/** A cell whose text is a time relative to now, kept current by the ticker. */
function whenCell(at) {
  const ms = typeof at === 'number' ? at : Date.parse(at);
  if (!Number.isFinite(ms)) return cell(null);
  const td = el('td', 'num', relative(ms));
  td.dataset.at = String(ms);
  td.title = stamp(ms);
  return td;
}
function tick() {
  for (const e of document.querySelectorAll('[data-at]')) e.textContent = relative(Number(e.dataset.at));
  if (state.status) $('uptime').textContent = span(Date.now() - Date.parse(state.status.startedAt));
}
function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? String(n) : n.toFixed(1)) + ' ' + units[i];
}

const state = {
  status: null,
  hosts: [],
  pools: [],
  leases: [],
  envs: [],
  transfers: [],
  guests: [],
  /** The latest boot of each machine: by host name, else by the timeline's key (a MAC or ip:ADDR). */
  timelines: new Map(),
  /** Timelines from boot events since the last /api/hosts request went out: newer than its answer may be. */
  sinceFetch: new Map(),
  /** Machines whose row an event just changed: marked (a short highlight) by the next render only. */
  fresh: new Set(),
  /** Hosts whose earlier boots are shown (/api/hosts/NAME/boots), and those boots. */
  open: new Set(),
  boots: new Map(),
};
const keyOf = (timeline) => timeline.host || timeline.key;
/** Later boot, or the same boot with more steps. */
function newer(a, b) {
  const at = (t) => (t.events.length ? t.events[0].at : 0);
  return at(a) !== at(b) ? at(a) > at(b) : a.events.length >= b.events.length;
}

// Problems (a failed request) are shown on the page, not only in the console.
const problems = new Map();
function problem(what, message) {
  if (message) problems.set(what, message);
  else problems.delete(what);
  $('problems').replaceChildren(...[...problems].map(([w, m]) => el('li', '', w + ': ' + m)));
}
async function get(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(res.status + (body && body.message ? ' ' + body.message : ''));
  return body;
}
function loader(path, apply) {
  return async () => {
    try {
      apply(await get(path));
      problem(path, null);
    } catch (err) {
      problem(path, err instanceof Error ? err.message : String(err));
    }
  };
}

// The header: version, pid, services, uptime.
const loadStatus = loader('/api/status', (s) => {
  const restarted = state.status && state.status.startedAt !== s.startedAt;
  state.status = s;
  if (restarted) for (const key of [...state.timelines.keys()]) if (!state.hosts.some((h) => h.name === key)) state.timelines.delete(key);
  $('version').textContent = s.version;
  $('pid').textContent = String(s.pid);
  $('services').textContent = s.services.join(', ') || '–';
  $('config').textContent = s.config || '(embedded default)';
  $('started').textContent = stamp(Date.parse(s.startedAt));
  tick();
});

// Hosts: one row per host, a cell per boot step.
const loadHosts = loader('/api/hosts', (hosts) => {
  state.hosts = hosts;
  for (const h of hosts) {
    state.timelines.delete(h.name);
    if (h.lastBoot) state.timelines.set(h.name, h.lastBoot);
  }
  for (const [key, t] of state.sinceFetch) {
    const have = state.timelines.get(key);
    if (!have || newer(t, have)) state.timelines.set(key, t);
  }
  state.sinceFetch.clear();
  renderHosts();
});
function leaseOf(host) {
  const mine = state.leases.filter((l) => (host.mac && l.mac === host.mac) || l.host === host.name);
  return mine.find((l) => l.state === 'bound') || host.lease || mine[0] || null;
}
function stepCells(timeline) {
  const events = timeline ? timeline.events : [];
  const start = events.length ? events[0].at : 0;
  const last = events.length ? events[events.length - 1].step : null;
  return steps.map((step) => {
    const td = el('td', 'step');
    td.dataset.step = step;
    const seen = events.filter((e) => e.step === step);
    if (seen.length === 0) {
      td.textContent = '·';
      return td;
    }
    const first = seen[0];
    const latest = seen[seen.length - 1];
    td.classList.add('done');
    if (step === last) td.classList.add('last');
    td.append(el('span', 't', '+' + seconds(first.at - start) + (seen.length > 1 ? ' ×' + seen.length : '')));
    const detail = (latest.detail || '') + (latest.protocol === 'http' ? ' (HTTP)' : '');
    if (detail) td.append(el('span', 'd', detail));
    td.title = labels[step] + ' at ' + stamp(first.at) + (detail ? '\\n' + detail : '');
    return td;
  });
}
function hostRow(name, attrs, cells, timeline, unknown) {
  const tr = el('tr', unknown ? 'unknown' : '');
  Object.assign(tr.dataset, attrs);
  const key = timeline ? keyOf(timeline) : name;
  if (state.fresh.has(key)) tr.classList.add('fresh');
  const started = timeline && timeline.events.length ? whenCell(timeline.events[0].at) : cell(null);
  const nameCell = el('td', 'name');
  if (unknown) nameCell.textContent = name;
  else {
    // The name opens the host's earlier boots.
    const button = el('button', 'boots', name);
    button.type = 'button';
    button.dataset.boots = name;
    button.title = 'earlier boots';
    button.setAttribute('aria-expanded', String(state.open.has(name)));
    nameCell.append(button);
  }
  tr.append(nameCell, ...cells, started, ...stepCells(timeline));
  return tr;
}
/** The row under a host's that lists its boots, the latest first. */
function bootsRow(name) {
  const tr = el('tr', 'boots');
  tr.dataset.bootsOf = name;
  const td = el('td');
  td.colSpan = 7 + steps.length;
  const boots = state.boots.get(name);
  if (!boots) td.textContent = 'reading…';
  else if (boots.length === 0) td.textContent = 'no boot seen';
  else {
    const list = el('ol', '');
    list.reversed = true;
    for (const b of [...boots].reverse()) {
      const start = b.events.length ? b.events[0].at : 0;
      const line = b.events.map((e) => labels[e.step] + ' +' + seconds(e.at - start) + (e.detail ? ' ' + e.detail : '') + (e.protocol === 'http' ? ' (HTTP)' : ''));
      list.append(el('li', 'mono', (b.events.length ? stamp(start) + '  ' : '') + line.join(' · ')));
    }
    td.append(list);
  }
  tr.append(td);
  return tr;
}
async function loadBoots(name) {
  const path = '/api/hosts/' + encodeURIComponent(name) + '/boots';
  try {
    state.boots.set(name, await get(path));
    problem(path, null);
  } catch (err) {
    problem(path, err instanceof Error ? err.message : String(err));
  }
  renderHosts();
}
function renderHosts() {
  const rows = state.hosts.flatMap((h) => {
    const t = state.timelines.get(h.name) || null;
    const lease = leaseOf(h);
    const leaseCell = lease ? el('td', 'state-' + lease.state, lease.state) : cell(null);
    if (lease) leaseCell.title = lease.ip + ' until ' + stamp(Date.parse(lease.expires));
    const row = hostRow(h.name, { host: h.name }, [
      cell(h.mac, 'mono'),
      cell(h.ip || (lease && lease.state === 'bound' ? lease.ip : null) || (t && t.ip), 'mono'),
      cell(h.be),
      cell(h.boot),
      leaseCell,
    ], t, false);
    return state.open.has(h.name) ? [row, bootsRow(h.name)] : [row];
  });
  // Machines that booted but are in no hosts[] entry: known only from boot events.
  const unknown = [...state.timelines].filter(([key]) => !state.hosts.some((h) => h.name === key)).map(([, t]) => t);
  unknown.sort((a, b) => (b.events[0] ? b.events[0].at : 0) - (a.events[0] ? a.events[0].at : 0));
  for (const t of unknown) {
    rows.push(hostRow('(not in hosts)', { key: t.key }, [cell(t.mac, 'mono'), cell(t.ip, 'mono'), cell(null), cell(null), cell(null)], t, true));
  }
  $('hosts-count').textContent = '(' + state.hosts.length + (unknown.length ? ' + ' + unknown.length + ' unknown' : '') + ')';
  fill($('hosts').tBodies[0], rows, 7 + steps.length, 'no hosts configured, and no boot seen');
  state.fresh.clear();
}

// Leases: the pools, then every lease.
const loadLeases = loader('/api/leases', (l) => {
  state.pools = l.pools;
  state.leases = l.leases;
  renderLeases();
  renderHosts();
});
function renderLeases() {
  fill($('pools').tBodies[0], state.pools.map((p) => {
    const tr = el('tr');
    tr.dataset.pool = p.pool;
    tr.append(
      cell(p.pool, 'mono'),
      cell(p.range ? p.range.start + ' – ' + p.range.end : null, 'mono'),
      cell(p.size, 'num'),
      cell(p.free, 'num'),
      ...['bound', 'expired', 'released', 'declined'].map((s) => cell(p.leases[s], 'num')),
    );
    return tr;
  }), 8, 'DHCP is off');
  fill($('leases').tBodies[0], state.leases.map((l) => {
    const tr = el('tr');
    tr.dataset.ip = l.ip;
    if (l.mac) tr.dataset.mac = l.mac;
    tr.append(cell(l.ip, 'mono'), cell(l.mac, 'mono'), cell(l.host), cell(l.client), el('td', 'state-' + l.state, l.state), whenCell(l.expires), cell(l.pool, 'mono'));
    return tr;
  }), 7, 'no leases');
  $('leases-count').textContent = '(' + state.leases.length + ')';
}
let leasesTimer = null;
/** A DHCP step changed a lease: read them again, once for a burst of events. */
function leasesSoon() {
  if (leasesTimer !== null) return;
  leasesTimer = setTimeout(() => {
    leasesTimer = null;
    void loadLeases();
  }, 300);
}

// Boot environments.
const loadEnvs = loader('/api/envs', (envs) => {
  state.envs = envs;
  fill($('envs').tBodies[0], envs.map((e) => {
    const tr = el('tr');
    tr.dataset.env = e.name;
    const served = el('td', 'state');
    if (e.pxe) served.append(el('span', 'badge pxe', 'PXE'));
    if (e.shared) served.append(el('span', 'badge shared', 'shared'));
    const datasets = el('td', 'mono');
    const list = el('ul', 'datasets');
    for (const d of e.datasets) {
      const li = el('li', '', d.name + ' → ' + d.guestPath + (d.canmount && d.canmount !== 'on' ? ' (canmount=' + d.canmount + ')' : ''));
      if (d.path) li.title = d.path;
      list.append(li);
    }
    datasets.append(list);
    tr.append(
      el('td', 'name', e.name),
      e.pxe || e.shared ? served : cell(null, 'state'),
      cell(e.release),
      cell(e.arch),
      cell(e.hosts.join(', ')),
      cell(e.source, 'mono'),
      cell(e.mountedAt, 'mono'),
      e.datasets.length ? datasets : cell(null),
    );
    return tr;
  }), 8, 'no boot environments');
  $('envs-count').textContent = '(' + envs.length + ')';
});

// Transfers under way: from /api/transfers, then from the transfers event about once a second.
const loadTransfers = loader('/api/transfers', (t) => {
  state.transfers = t;
  renderTransfers();
});
function renderTransfers() {
  fill($('transfers').tBodies[0], state.transfers.map((t) => {
    const tr = el('tr');
    tr.dataset.file = t.file;
    tr.dataset.client = t.client;
    const progress = el('td', 'num');
    if (typeof t.size === 'number' && t.size > 0) {
      const bar = el('progress');
      bar.max = t.size;
      bar.value = Math.min(t.bytes, t.size);
      progress.append(bar, bytes(t.bytes) + ' / ' + bytes(t.size) + ' (' + Math.floor((100 * t.bytes) / t.size) + ' %)');
    } else progress.textContent = bytes(t.bytes);
    const elapsed = (Date.now() - Date.parse(t.startedAt)) / 1000;
    tr.append(
      cell(t.protocol.toUpperCase()),
      cell(t.file, 'mono'),
      cell(t.client, 'mono'),
      progress,
      cell(elapsed > 0.5 ? bytes(Math.round(t.bytes / elapsed)) + '/s' : null, 'num'),
      whenCell(t.startedAt),
    );
    return tr;
  }), 6, 'none under way');
  $('transfers-count').textContent = '(' + state.transfers.length + ')';
}

// bhyve guests.
const loadGuests = loader('/api/guests', (guests) => {
  state.guests = guests;
  fill($('guests').tBodies[0], guests.map((g) => {
    const tr = el('tr');
    tr.dataset.vm = g.vm;
    tr.append(
      el('td', 'name', g.vm),
      cell(g.host),
      cell(g.be),
      el('td', 'state-' + g.state, g.state),
      whenCell(g.since),
      cell(g.boots, 'num'),
      cell(g.autostart ? 'yes' : 'no'),
      cell(g.error),
    );
    return tr;
  }), 8, 'no guests');
  $('guests-count').textContent = '(' + guests.length + ')';
});

function refreshAll() {
  state.sinceFetch.clear();
  const boots = [...state.open].map((name) => loadBoots(name));
  return Promise.all([loadStatus(), loadHosts(), loadLeases(), loadEnvs(), loadTransfers(), loadGuests(), ...boots]);
}

// Live: one EventSource. It reconnects by itself after a network error; a refused answer (an HTTP
// error, another content type) closes it for good, so then a new one is made after a pause. Every
// connection starts with hello: whatever happened while disconnected is read again.
function setLive(live) {
  const e = $('live');
  e.className = live ? 'live' : 'disconnected';
  e.dataset.state = e.className;
  e.textContent = live ? 'live' : 'disconnected';
}
function onBoot(data) {
  const t = data.timeline;
  const key = keyOf(t);
  state.timelines.set(key, t);
  state.sinceFetch.set(key, t);
  state.fresh.add(key);
  renderHosts();
  if (state.open.has(key)) void loadBoots(key);
  if (data.event && /dhcp$/.test(data.event.step)) leasesSoon();
}
function connect() {
  const source = new EventSource('/api/events');
  source.addEventListener('hello', () => {
    setLive(true);
    void refreshAll();
  });
  source.addEventListener('boot', (e) => onBoot(JSON.parse(e.data)));
  source.addEventListener('transfers', (e) => {
    state.transfers = JSON.parse(e.data);
    renderTransfers();
  });
  source.addEventListener('reload', () => {
    // hosts[], the BEs, the pools and the guests may all have changed; what is under way has not.
    void Promise.all([loadStatus(), loadHosts(), loadLeases(), loadEnvs(), loadGuests()]);
  });
  source.addEventListener('error', () => {
    setLive(false);
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
  });
}

$('hosts').addEventListener('click', (e) => {
  const button = e.target instanceof Element ? e.target.closest('button[data-boots]') : null;
  if (!button) return;
  const name = button.dataset.boots;
  if (state.open.delete(name)) renderHosts();
  else {
    state.open.add(name);
    renderHosts();
    void loadBoots(name);
  }
});
void refreshAll();
connect();
setInterval(tick, 1000);
`;

/** A table with its headings and an empty body for the script to fill; a heading `[text, class]` gets a class. */
function table(id: string, headings: readonly (string | readonly [string, string])[]): string {
  const th = (h: string | readonly [string, string]) => (typeof h === 'string' ? `<th>${escapeHtml(h)}</th>` : `<th class="${h[1]}">${escapeHtml(h[0])}</th>`);
  return `<table id="${id}"><thead><tr>${headings.map(th).join('')}</tr></thead><tbody></tbody></table>`;
}

/** The whole page; `nonce` is the Content-Security-Policy nonce of its inline <style> and <script>. */
export function statusPage(nonce: string): string {
  const n = escapeHtml(nonce);
  const code = script.replace('STEPS_JSON', () => inlineJson(bootSteps)).replace('LABELS_JSON', () => inlineJson(stepLabels));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>be status</title>
<link rel="icon" href="data:,">
<style nonce="${n}">${css}</style>
</head>
<body>
<header>
<h1>be</h1>
<span id="live" class="disconnected" data-state="disconnected">connecting</span>
<span class="field">version <b id="version">–</b></span>
<span class="field">pid <b id="pid">–</b></span>
<span class="field">services <b id="services">–</b></span>
<span class="field">up <b id="uptime">–</b></span>
<span class="field">since <b id="started">–</b></span>
<span class="field">config <b id="config">–</b></span>
</header>
<noscript><p>This page needs JavaScript; the same data is at /api/status, /api/hosts, /api/leases, /api/envs, /api/transfers and /api/guests.</p></noscript>
<ul id="problems"></ul>
<main>
<section><h2>Hosts <span class="count" id="hosts-count"></span></h2>
${table('hosts', ['host', 'MAC', 'address', 'BE', 'boot', 'lease', 'last boot', ...bootSteps.map((s) => [stepLabels[s], 'step'] as const)])}
</section>
<section><h2>Transfers <span class="count" id="transfers-count"></span></h2>
${table('transfers', ['protocol', 'file', 'client', 'progress', 'rate', 'started'])}
</section>
<section><h2>Leases <span class="count" id="leases-count"></span></h2>
${table('pools', ['pool', 'range', 'size', 'free', 'bound', 'expired', 'released', 'declined'])}
${table('leases', ['address', 'MAC', 'host', 'client', 'state', 'expires', 'pool'])}
</section>
<section><h2>Boot environments <span class="count" id="envs-count"></span></h2>
${table('envs', ['name', 'served', 'release', 'arch', 'hosts', 'source', 'mounted at', 'datasets'])}
</section>
<section><h2>bhyve guests <span class="count" id="guests-count"></span></h2>
${table('guests', ['vm', 'host', 'BE', 'state', 'since', 'boots', 'autostart', 'error'])}
</section>
</main>
<script nonce="${n}">${code}</script>
</body>
</html>
`;
}
