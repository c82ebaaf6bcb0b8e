// gossamer trace viewer (served at /ui by `gossamer serve` and `gossamer ui`; docs/VIEWER.md).
// Every text that comes from a session (model output, tool output, names) is put into the
// page as text nodes, never as markup; links go only to this viewer's own pages or to
// http(s) URLs. No library, nothing fetched from elsewhere.
'use strict';

const main = document.getElementById('main');
const statusLine = document.getElementById('status');
let teardown = []; // what the current page must stop when another is shown

// ---- building the page safely -------------------------------------------------------
function el(tag, props, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k === 'width') e.style.width = v; // CSSOM: the page's CSP allows no style attributes
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined || k === false) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}
const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...kids) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}
function safeUrl(url) { return /^https?:\/\//i.test(url || '') ? url : null; }
function link(hash, text) { return el('a', { href: hash }, text); }

// ---- formatting ----------------------------------------------------------------------
function num(n) { return (n || 0).toLocaleString('en-US'); }
function secs(s) {
  if (s === null || s === undefined) return '';
  if (s < 0.9995) return Math.round(s * 1000) + ' ms';
  if (s < 120) return s.toFixed(1) + ' s';
  if (s < 7200) return Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
  return (s / 3600).toFixed(1) + ' h';
}
// Sessions' times are stored to the second: a shorter one reads "< 1 s".
function duration(s) { return s < 1 ? '< 1 s' : secs(s); }
function when(iso) { const d = new Date(iso); return isNaN(d) ? iso : d.toLocaleString(); }
function stateBadge(s) {
  return el('span', { class: 'badge state-' + s.state, 'data-state': s.state }, s.state);
}

// ---- data ----------------------------------------------------------------------------
async function getJson(url) {
  const r = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((body.error && body.error.message) || ('HTTP ' + r.status));
  return body;
}
function showError(e) {
  main.replaceChildren(el('div', { class: 'error-box' }, String(e.message || e)));
}

// ---- routing -------------------------------------------------------------------------
function route() {
  for (const stop of teardown) stop();
  teardown = [];
  statusLine.textContent = '';
  const hash = location.hash.slice(1) || '/';
  const [path, query] = hash.split('?');
  const params = new URLSearchParams(query || '');
  let m;
  if ((m = path.match(/^\/s\/([^/]+)$/))) return sessionPage(decodeURIComponent(m[1]));
  if ((m = path.match(/^\/f\/([^/]+)$/))) return fleetPage(decodeURIComponent(m[1]));
  if (path === '/fleets') return fleetsPage();
  return sessionsPage(params);
}
window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', route);

// ---- sessions list -------------------------------------------------------------------
const STATES = ['created', 'running', 'finished', 'failed', 'interrupted', 'budget', 'cancelled'];

function sessionRow(s) {
  return el('tr', { 'data-id': s.id },
    el('td', {}, link('#/s/' + encodeURIComponent(s.id), s.name || s.id),
      el('div', { class: 'meta' }, s.id)),
    el('td', {}, stateBadge(s), s.live ? el('span', { class: 'badge live' }, 'live') : null),
    el('td', {}, s.reason),
    el('td', {}, when(s.created_at)),
    el('td', { class: 'num' }, duration(s.duration_s)),
    el('td', { class: 'num' }, num(s.turns)),
    el('td', { class: 'num' }, num(s.input_tokens) + ' / ' + num(s.output_tokens)),
    el('td', {}, s.model),
    el('td', {}, s.fleet ? link('#/f/' + encodeURIComponent(s.fleet), s.task || s.fleet) : ''));
}

function sessionsTable(sessions) {
  return el('table', { id: 'sessions' },
    el('thead', {}, el('tr', {}, ['Name', 'State', 'Reason', 'Started', 'Duration', 'Turns',
      'Tokens in / out', 'Model', 'Fleet task'].map((h, i) =>
      el('th', { class: i >= 4 && i <= 6 ? 'num' : null }, h)))),
    el('tbody', {}, sessions.map(sessionRow)));
}

async function sessionsPage(params) {
  const state = el('select', { name: 'state' }, el('option', { value: '' }, 'any state'),
    STATES.map(s => el('option', { value: s, selected: params.get('state') === s }, s)));
  const name = el('input', { name: 'name', placeholder: 'name contains', value: params.get('name') || '' });
  const fleet = el('input', { name: 'fleet', placeholder: 'fleet id', value: params.get('fleet') || '' });
  const apply = () => {
    const q = new URLSearchParams();
    if (state.value) q.set('state', state.value);
    if (name.value) q.set('name', name.value);
    if (fleet.value) q.set('fleet', fleet.value);
    location.hash = '#/?' + q.toString();
  };
  const form = el('form', { class: 'filters', onsubmit: e => { e.preventDefault(); apply(); } },
    state, name, fleet, el('button', { type: 'submit' }, 'Filter'));
  state.addEventListener('change', apply);
  const holder = el('div', {}, 'Loading…');
  main.replaceChildren(el('h1', {}, 'Sessions'), form, holder);
  const q = new URLSearchParams();
  for (const k of ['state', 'name', 'fleet']) if (params.get(k)) q.set(k, params.get(k));
  const load = async () => {
    try {
      const { sessions } = await getJson('/ui/api/sessions?' + q.toString());
      holder.replaceChildren(sessions.length ? sessionsTable(sessions)
        : el('p', { class: 'meta' }, 'No sessions match.'));
      statusLine.textContent = 'updated ' + new Date().toLocaleTimeString();
    } catch (e) { holder.replaceChildren(el('div', { class: 'error-box' }, e.message)); }
  };
  await load();
  const timer = setInterval(load, 2000);
  teardown.push(() => clearInterval(timer));
}

// ---- plots ---------------------------------------------------------------------------
// Bars per step for each series (stacked side by side); values may be empty.
function barChart(title, labels, series, unit) {
  const W = 520, H = 170, left = 46, bottom = 22, top = 18;
  const max = Math.max(1, ...series.flatMap(s => s.values));
  const n = Math.max(1, labels.length);
  const band = (W - left - 8) / n, bar = Math.max(1, band / (series.length + 0.5));
  const g = svg('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title });
  g.append(svg('text', { x: left, y: 12 }, title));
  for (const f of [0, 0.5, 1]) {
    const y = H - bottom - f * (H - bottom - top);
    g.append(svg('line', { x1: left, x2: W - 4, y1: y, y2: y, stroke: '#e3e6ee' }));
    g.append(svg('text', { x: 2, y: y + 3 }, fmtAxis(max * f) + (f === 1 ? ' ' + unit : '')));
  }
  series.forEach((s, k) => s.values.forEach((v, i) => {
    const h = (v / max) * (H - bottom - top);
    const r = svg('rect', { x: left + i * band + k * bar + 1, y: H - bottom - h, width: Math.max(1, bar - 1),
      height: h, fill: s.color, class: 'bar', 'data-series': s.name });
    r.append(svg('title', {}, `${s.name} step ${labels[i]}: ${fmtAxis(v)} ${unit}`));
    g.append(r);
  }));
  const every = Math.ceil(n / 12);
  labels.forEach((l, i) => { if (i % every === 0) g.append(svg('text', { x: left + i * band + 2, y: H - 6 }, l)); });
  let x = W - 8;
  for (const s of [...series].reverse()) {
    x -= 18 + s.name.length * 6;
    g.append(svg('rect', { x, y: 4, width: 8, height: 8, fill: s.color }));
    g.append(svg('text', { x: x + 11, y: 12 }, s.name));
  }
  return el('div', { class: 'plot' }, g);
}
function fmtAxis(v) { return v >= 10000 ? Math.round(v / 1000) + 'k' : (v >= 100 ? Math.round(v) : +v.toFixed(1)); }

// ---- one session ---------------------------------------------------------------------
const LINES_SHOWN = 8;

function verdictOf(text) {
  const t = text || '';
  let m;
  if ((m = t.match(/Exit code: none \(([^)]*)\)/))) return m[1];
  if (/timed out|timeout/i.test(t)) return 'timed out';
  if (/out of memory|memory limit|OOM[- ]kill/i.test(t)) return 'memory limit';
  if (/\bkilled\b/i.test(t)) return 'killed';
  return null;
}

function collapsibleText(text, key, open) {
  const lines = (text || '').split('\n');
  if (lines.length <= LINES_SHOWN) return el('pre', {}, text);
  const d = el('details', { 'data-key': key }, el('summary', {}, lines.slice(0, LINES_SHOWN).join('\n').slice(0, 2000) +
    `\n… ${lines.length - LINES_SHOWN} more lines`), el('pre', {}, text));
  if (open.has(key)) d.open = true;
  return d;
}

function prettyArgs(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
}

function diffView(text) {
  return el('pre', { class: 'diff' }, text.split('\n').map(line => {
    const cls = line.startsWith('+') && !line.startsWith('+++') ? 'add'
      : line.startsWith('-') && !line.startsWith('---') ? 'del' : line.startsWith('@@') ? 'hunk' : null;
    return el('span', { class: cls }, line + '\n');
  }));
}

function workspaceBlock(id, w) {
  const out = el('div', { class: 'workspace' });
  const button = el('button', {
    onclick: async () => {
      button.disabled = true;
      const r = await fetch(`/ui/api/sessions/${encodeURIComponent(id)}/diff?step=${w.step}`, { cache: 'no-store' });
      out.append(diffView(await r.text()));
    }
  }, 'Show diff');
  out.append(el('div', { class: 'meta' }, `Workspace step ${w.step} (${w.kind}): `, w.files.join(', '), ' '), button);
  return out;
}

// Which events belong to which message: a turn's numbers before its first message, a call's
// start, end, hooks and workspace changes with the call, everything else where it happened.
function layout(messages, events) {
  const turnAt = new Map(), calls = new Map(), floating = new Map();
  const gens = events.filter(e => e.kind === 'generation');
  if (gens.some(g => g.data.messages > 0)) {
    for (const g of gens) if (g.data.messages > 0) turnAt.set(g.data.first_message, g);
  } else { // rows from before turns recorded their messages: turns are runs of assistant messages
    let k = 0;
    messages.forEach((m, i) => {
      if (m.role === 'assistant' && (i === 0 || messages[i - 1].role !== 'assistant') && k < gens.length)
        turnAt.set(i, gens[k++]);
    });
  }
  const call = i => { if (!calls.has(i)) calls.set(i, { hooks: [], workspace: [] }); return calls.get(i); };
  let pos = 0;
  for (const e of events) {
    const d = e.data || {};
    const attached = d.message !== undefined && d.message !== null;
    if (e.kind === 'generation') pos = Math.max(pos, d.messages > 0 ? d.first_message + d.messages : messages.length);
    else if (e.kind === 'tool.started' && attached) call(d.message).started = e;
    else if (e.kind === 'tool.finished' && attached) { call(d.message).finished = e; pos = Math.max(pos, d.message + 2); }
    else if (e.kind === 'tool.interrupted' && attached) call(d.message).interrupted = e;
    else if (e.kind === 'hook' && attached) call(d.message).hooks.push(e);
    else if (e.kind === 'workspace.changed' && attached) call(d.message).workspace.push(e);
    else {
      const at = Math.min(pos, messages.length);
      if (!floating.has(at)) floating.set(at, []);
      floating.get(at).push(e);
    }
  }
  return { turnAt, calls, floating };
}

function eventItem(id, e) {
  const d = e.data || {};
  switch (e.kind) {
    case 'warning': return el('div', { class: 'item notice', 'data-kind': 'warning' }, el('div', { class: 'who' }, 'Warning'), d.what);
    case 'context.trimmed': return el('div', { class: 'item notice', 'data-kind': 'context.trimmed' },
      el('div', { class: 'who' }, 'Context trimmed'), (d.what || []).join('; '));
    case 'hook': return hookLine(e);
    case 'workspace.changed': return el('div', { class: 'item notice', 'data-kind': 'workspace.changed' }, workspaceBlock(id, d));
    case 'session.finished': return el('div', { class: 'item notice', 'data-kind': 'session.finished' },
      el('div', { class: 'who' }, 'Session ended: ' + d.reason), d.error ? el('pre', { class: 'bad' }, d.error) : null);
    default: return null;
  }
}

function hookLine(e) {
  const d = e.data;
  return el('div', { class: 'item hook ' + d.decision, 'data-kind': 'hook' },
    el('div', { class: 'who' }, `Hook ${d.hook}: ${d.decision} (${Math.round(d.ms)} ms)`),
    el('div', {}, d.command), d.reason ? el('pre', {}, d.reason) : null);
}

// The final answer with its citations as links (code points, as the annotations count).
function citedText(text, annotations) {
  const chars = Array.from(text || '');
  const out = el('div', { class: 'answer' });
  let at = 0;
  for (const a of [...(annotations || [])].sort((x, y) => x.start_index - y.start_index)) {
    if (a.start_index < at || a.end_index > chars.length) continue;
    out.append(chars.slice(at, a.start_index).join(''));
    const label = chars.slice(a.start_index, a.end_index).join('');
    const url = safeUrl(a.url); // other schemes (local://, javascript:) are shown, never followed
    out.append(url ? el('a', { class: 'citation', href: url, rel: 'noopener noreferrer', target: '_blank', title: a.title || url, 'data-url': a.url }, label)
      : el('span', { class: 'citation', title: (a.title ? a.title + ': ' : '') + a.url, 'data-url': a.url }, label));
    at = a.end_index;
  }
  out.append(chars.slice(at).join(''));
  return el('pre', {}, out);
}

function messageItem(id, m, i, info, state, open) {
  const key = 'm' + i;
  const who = (m.role + (m.name ? ':' + m.name : '') + (m.channel ? ' [' + m.channel + ']' : '') +
    (m.recipient ? ' → ' + m.recipient : ''));
  const body = m.content ? JSON.stringify(m.content, null, 2) : m.text;
  if (m.role === 'system' || m.role === 'developer') {
    const d = el('details', { class: 'item', 'data-key': key, 'data-role': m.role },
      el('summary', {}, m.role === 'system' ? 'System' : 'Developer instructions'), el('pre', {}, body));
    if (open.has(key)) d.open = true;
    return d;
  }
  if (m.role === 'assistant' && m.channel === 'analysis' && !m.recipient) {
    const d = el('details', { class: 'item reasoning', 'data-key': key, 'data-role': 'analysis' },
      el('summary', {}, `Reasoning (${num(m.tokens)} tokens)`), el('pre', {}, m.text));
    if (open.has(key)) d.open = true;
    return d;
  }
  if (m.role === 'assistant' && m.recipient) {
    const c = info.calls.get(i) || { hooks: [], workspace: [] };
    const f = c.finished && c.finished.data;
    const outcome = f ? el('span', { class: f.ok ? 'ok' : 'bad' }, (f.ok ? 'ok' : 'error') + ' · ' + secs(f.ms / 1000))
      : c.interrupted ? el('span', { class: 'bad' }, 'interrupted by ' + c.interrupted.data.by)
      : el('span', { class: 'meta' }, state === 'running' ? 'running…' : 'no result');
    // A sandbox with a domain allowlist: what its proxy let through and refused.
    const network = f && Array.isArray(f.network) && f.network.length
      ? el('div', { class: 'network', 'data-role': 'network' }, f.network.map(line =>
          el('div', { class: String(line).startsWith('allowed') ? 'ok' : 'bad' }, 'network: ' + line)))
      : null;
    return el('div', { class: 'item call', 'data-role': 'call' },
      el('div', { class: 'who' }, 'Tool call → ', el('b', {}, m.recipient), m.channel ? ' [' + m.channel + ']' : '', ' · ', outcome),
      el('pre', { class: 'args' }, prettyArgs(m.text)),
      c.hooks.map(hookLine), network, c.workspace.map(w => workspaceBlock(id, w.data)));
  }
  if (m.role === 'tool') {
    const call = info.calls.get(i - 1);
    const failed = call && call.finished && !call.finished.data.ok;
    const verdict = verdictOf(m.text);
    return el('div', { class: 'item tool' + (failed ? ' error' : ''), 'data-role': 'tool' },
      el('div', { class: 'who' }, 'Result from ' + (m.name || 'tool'), verdict ? el('span', { class: 'verdict' }, verdict) : null),
      collapsibleText(m.text, key, open));
  }
  if (m.role === 'assistant' && m.channel === 'final') {
    const fin = info.finished;
    const cited = fin && fin.data.final && info.lastFinal === i && fin.data.annotations;
    return el('div', { class: 'item final', 'data-role': 'final' }, el('div', { class: 'who' }, 'Final answer'),
      cited ? citedText(fin.data.final, fin.data.annotations) : el('pre', {}, m.text));
  }
  return el('div', { class: 'item', 'data-role': m.role === 'assistant' ? 'commentary' : m.role },
    el('div', { class: 'who' }, who), el('pre', {}, m.text));
}

function turnLine(g, toolMs) {
  const d = g.data;
  return el('div', { class: 'turn', 'data-turn': d.turn },
    `Turn ${d.turn} · model ${secs(d.ms / 1000)}` + (toolMs ? ` · tools ${secs(toolMs / 1000)}` : '') +
    ` · in ${num(d.prompt_tokens)} (cached ${num(d.cached_tokens)}) · out ${num(d.output_tokens)} · ${d.finish_reason}` +
    (d.endpoint ? ' · ' + d.endpoint : '') + (d.parse_errors ? ` · ${d.parse_errors} parse errors` : ''));
}

function sessionView(id, data, open) {
  const s = data.session, messages = data.messages, events = data.events;
  const info = layout(messages, events);
  info.finished = [...events].reverse().find(e => e.kind === 'session.finished');
  info.lastFinal = messages.map((m, i) => m.channel === 'final' && m.role === 'assistant' ? i : -1).reduce((a, b) => Math.max(a, b), -1);
  const gens = events.filter(e => e.kind === 'generation');
  // Tool time per turn: calls made from that turn's messages.
  const toolMs = gens.map(g => {
    const d = g.data, end = d.first_message + d.messages;
    let ms = 0;
    for (const [i, c] of info.calls) if (c.finished && i >= d.first_message && i < end) ms += c.finished.data.ms;
    return ms;
  });
  const fillPct = s.window ? Math.min(100, 100 * s.context_tokens / s.window) : 0;
  const cards = [['State', stateBadge(s)], ['Turns', num(s.turns)], ['Duration', duration(s.duration_s)],
    ['Tokens in', num(s.input_tokens)], ['Cached', num(s.cached_tokens)], ['Tokens out', num(s.output_tokens)],
    ['Model time', secs(s.model_ms / 1000)], ['Tool calls', num(s.tool_calls) + (s.tool_errors ? ` (${s.tool_errors} failed)` : '')],
    ['Tool time', secs(s.tool_ms / 1000)]];
  const labels = gens.map(g => String(g.data.turn));
  const timeline = el('div', { class: 'timeline', id: 'timeline' });
  messages.forEach((m, i) => {
    for (const e of info.floating.get(i) || []) timeline.append(eventItem(id, e) || '');
    const g = info.turnAt.get(i);
    if (g) timeline.append(turnLine(g, toolMs[gens.indexOf(g)]));
    timeline.append(messageItem(id, m, i, info, s.state, open));
  });
  for (const [at, list] of info.floating) if (at >= messages.length) for (const e of list) timeline.append(eventItem(id, e) || '');
  return [
    el('h1', {}, s.name || s.id, ' ', s.live ? el('span', { class: 'badge live', id: 'live' }, 'live') : null),
    el('div', { class: 'meta' }, `${s.id} · model ${s.model} · started ${when(s.created_at)} · ${s.reason || s.state}`,
      s.fleet ? [' · fleet ', link('#/f/' + encodeURIComponent(s.fleet), s.task || s.fleet)] : null),
    s.error ? el('div', { class: 'error-box' }, s.error) : null,
    el('div', { class: 'cards' }, cards.map(([k, v]) => el('div', { class: 'card' }, el('div', { class: 'v' }, v), el('div', { class: 'k' }, k)))),
    el('div', { class: 'meta' }, `Context in use: ${num(s.context_tokens)} of ${s.window ? num(s.window) : '?'} tokens`),
    el('div', { class: 'fill' + (fillPct > 80 ? ' high' : ''), id: 'context-fill', title: fillPct.toFixed(1) + '%' },
      el('div', { width: fillPct.toFixed(2) + '%' })),
    gens.length ? el('div', { class: 'plots' },
      barChart('Tokens per step', labels, [
        { name: 'in', values: gens.map(g => g.data.prompt_tokens), color: '#8fb3ef' },
        { name: 'cached', values: gens.map(g => g.data.cached_tokens), color: '#c9d7f0' },
        { name: 'out', values: gens.map(g => g.data.output_tokens), color: '#1f5fbf' }], 'tok'),
      s.window ? barChart('Context fill per step', labels, [
        { name: 'used', values: gens.map(g => 100 * (g.data.prompt_tokens + g.data.output_tokens) / (g.data.window || s.window)), color: '#8a94a8' }], '%') : null,
      barChart('Time per step', labels, [
        { name: 'model', values: gens.map(g => g.data.ms / 1000), color: '#1f5fbf' },
        { name: 'tools', values: toolMs.map(ms => ms / 1000), color: '#e0a030' }], 's')) : null,
    el('h2', {}, 'Timeline'), timeline];
}

async function sessionPage(id) {
  let data;
  try { data = await getJson('/ui/api/sessions/' + encodeURIComponent(id)); } catch (e) { return showError(e); }
  const open = new Set();
  main.addEventListener('toggle', e => {
    const k = e.target.dataset && e.target.dataset.key;
    if (k) e.target.open ? open.add(k) : open.delete(k);
  }, true);
  let pending = false;
  const draw = () => {
    pending = false;
    const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
    const y = window.scrollY;
    main.replaceChildren(...sessionView(id, data, open).filter(Boolean));
    window.scrollTo(0, atBottom && data.session.live ? document.body.scrollHeight : y);
  };
  const redraw = () => { if (!pending) { pending = true; requestAnimationFrame(draw); } };
  draw();
  if (data.session.state !== 'running' && data.session.state !== 'created') return;
  const url = `/ui/api/sessions/${encodeURIComponent(id)}/live?events=${data.events.length}&messages=${data.messages.length}`;
  const source = new EventSource(url);
  statusLine.textContent = 'following live';
  source.addEventListener('message', e => {
    const m = JSON.parse(e.data);
    if (m.seq === data.messages.length) data.messages.push(m), redraw();
  });
  source.addEventListener('event', e => {
    const ev = JSON.parse(e.data);
    if (ev.seq === data.events.length) data.events.push(ev), redraw();
  });
  source.addEventListener('session', e => {
    Object.assign(data.session, JSON.parse(e.data));
    statusLine.textContent = 'following live · updated ' + new Date().toLocaleTimeString();
    redraw();
  });
  source.addEventListener('end', () => {
    source.close();
    data.session.live = false;
    statusLine.textContent = 'session ended';
    redraw();
  });
  teardown.push(() => source.close());
}

// ---- fleets --------------------------------------------------------------------------
async function fleetsPage() {
  let data;
  try { data = await getJson('/ui/api/fleets'); } catch (e) { return showError(e); }
  main.replaceChildren(el('h1', {}, 'Fleets'), data.fleets.length ? el('table', { id: 'fleets' },
    el('thead', {}, el('tr', {}, ['Name', 'Created', 'Tasks', 'Started', 'Finished', 'Failed', 'Running'].map(h => el('th', {}, h)))),
    el('tbody', {}, data.fleets.map(f => el('tr', {},
      el('td', {}, link('#/f/' + encodeURIComponent(f.id), f.name || f.id), el('div', { class: 'meta' }, f.id)),
      el('td', {}, when(f.created_at)), el('td', {}, num(f.tasks)), el('td', {}, num(f.started)),
      el('td', {}, num(f.states.finished)), el('td', {}, num(f.states.failed)), el('td', {}, num(f.states.running))))))
    : el('p', { class: 'meta' }, 'No fleets in this store.'));
}

function histogram(title, values, unit) {
  if (!values.length) return null;
  const lo = Math.min(...values), hi = Math.max(...values);
  const n = Math.min(12, Math.max(1, values.length)), width = (hi - lo) / n || 1;
  const counts = new Array(n).fill(0);
  for (const v of values) counts[Math.min(n - 1, Math.floor((v - lo) / width))]++;
  const labels = counts.map((_, i) => fmtAxis(lo + i * width));
  return barChart(title, labels, [{ name: 'sessions', values: counts, color: '#1f5fbf' }], unit);
}

async function fleetPage(id) {
  let f;
  try { f = await getJson('/ui/api/fleets/' + encodeURIComponent(id)); } catch (e) { return showError(e); }
  const total = Math.max(1, f.tasks);
  const seg = (cls, n, label) => n ? el('div', { class: cls, width: (100 * n / total).toFixed(2) + '%', title: `${label}: ${n}`, 'data-state': label }) : null;
  const other = f.states.interrupted + f.states.budget + f.states.cancelled;
  const sessions = f.task_list.map(t => t.session).filter(Boolean);
  const ended = sessions.filter(s => s.state !== 'running' && s.state !== 'created');
  // A task's wall time is measured precisely by the fleet (summed over its runs).
  const wall = f.task_list.filter(t => t.session && t.session.state !== 'running' && t.session.state !== 'created').map(t => t.wall_seconds);
  main.replaceChildren(
    el('h1', {}, f.name || f.id),
    el('div', { class: 'meta' }, `${f.id} · model ${f.model} · created ${when(f.created_at)} · ${f.tasks} tasks, ${ended.length} ended`),
    el('div', { class: 'progress', id: 'fleet-progress' }, seg('seg-finished', f.states.finished, 'finished'),
      seg('seg-failed', f.states.failed, 'failed'), seg('seg-other', other, 'other ends'), seg('seg-running', f.states.running, 'running')),
    el('div', { class: 'plots' },
      barChart('Outcomes', STATES, [{ name: 'sessions', values: STATES.map(s => f.states[s] || 0), color: '#1f5fbf' }], ''),
      histogram('Durations (s)', wall, 's')),
    el('h2', {}, 'Tasks'),
    el('table', { id: 'tasks' },
      el('thead', {}, el('tr', {}, ['#', 'Task', 'Session', 'State', 'Reason', 'Duration', 'Turns', 'Tokens out'].map(h => el('th', {}, h)))),
      el('tbody', {}, f.task_list.map(t => {
        const s = t.session;
        return el('tr', {}, el('td', {}, t.index), el('td', {}, t.task),
          el('td', {}, s ? link('#/s/' + encodeURIComponent(s.id), s.id) : el('span', { class: 'meta' }, 'not started')),
          el('td', {}, s ? stateBadge(s) : ''), el('td', {}, s ? s.reason : ''), el('td', {}, s ? secs(t.wall_seconds) : ''),
          el('td', {}, s ? num(s.turns) : ''), el('td', {}, s ? num(s.output_tokens) : ''));
      }))));
}
