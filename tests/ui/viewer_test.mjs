// The trace viewer (/ui) in real headless Chromium (Debian's `chromium`, driven over the
// DevTools protocol by puppeteer-core): sessions made by real `gossamer run` / `fleet`
// processes (the replay model is the test double at the engine boundary; the tools, sandbox,
// hooks and store are real), served by `gossamer ui`. Checks the sessions list and its filter,
// a session page with every kind of item, the live following of a running session (latency
// measured against the run's own event stream), fleet pages, the key check, and that
// markup a session printed is shown as text and never runs. Screenshots go to ARTIFACTS.
//   node tests/ui/viewer_test.mjs GOSSAMER_BINARY ARTIFACTS_DIR
import puppeteer from 'puppeteer-core';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import assert from 'node:assert/strict';

const [bin, artifactsArg] = process.argv.slice(2);
if (!bin) { console.error('usage: viewer_test.mjs GOSSAMER ARTIFACTS'); process.exit(2); }
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const artifacts = resolve(artifactsArg || join(tmpdir(), 'gossamer-ui-artifacts'));
mkdirSync(artifacts, { recursive: true });
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
assert.ok(existsSync(chromium), `no Chromium at ${chromium} (apt-get install chromium)`);

const tmp = mkdtempSync(join(tmpdir(), 'gossamer-ui-'));
const store = join(tmp, 'sessions.db');
const children = [];
let browser;
const cleanup = () => {
  for (const c of children) try { c.kill('SIGKILL'); } catch { /* gone */ }
  rmSync(tmp, { recursive: true, force: true });
};

function gossamer(args, { ok = true } = {}) {
  const r = spawnSync(bin, args, { encoding: 'utf8', cwd: tmp, timeout: 120000 });
  if (ok && r.status !== 0) throw new Error(`gossamer ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r;
}
function write(rel, text) {
  const p = join(tmp, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
}
const call = (cmd) => `<|channel|>commentary to=functions.shell <|constrain|>json<|message|>${JSON.stringify({ command: cmd })}<|call|>`;
const final = (text) => `<|channel|>final<|message|>${text}<|return|>`;
const shellSpec = (name, shell, task) => `name: ${JSON.stringify(name)}\nmodel: {reasoning_effort: low}\ntools:\n  - shell: ${shell}\nlimits: {max_turns: 8, wall_time: 120}\ntask: ${JSON.stringify(task)}\n`;

const results = [];
async function check(name, body) {
  const t0 = Date.now();
  try {
    await body();
    results.push(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push(`FAIL ${name}: ${e.stack || e}`);
  }
}

try {
  // ---- sessions written by real runs ----
  cpSync(join(repo, 'examples/coding'), join(tmp, 'coding'), { recursive: true });
  cpSync(join(repo, 'examples/research'), join(tmp, 'research'), { recursive: true });
  for (const out of ['coding/out', 'research/out']) {
    rmSync(join(tmp, out), { recursive: true, force: true });
    mkdirSync(join(tmp, out));
  }
  gossamer(['run', 'coding/agent.yaml', '--replay', 'coding/replay.json', '--store', store, '--json']);
  gossamer(['run', 'research/agent.yaml', '--replay', 'research/replay.json', '--store', store, '--json']);

  // Markup in every place a session can put text: its name, a tool's output, the answer.
  const xss = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
  write('xss/agent.yaml', shellSpec('xss <b>name</b>', '{timeout: 30}', 'print markup'));
  write('xss/replay.json', JSON.stringify([
    call(`printf '%s' '${xss.replace(/'/g, "'\\''")}'`),
    final(`Done: ${xss} <a href="javascript:window.__xss=3">click</a>`)]));
  gossamer(['run', 'xss/agent.yaml', '--replay', 'xss/replay.json', '--store', store, '--json']);

  // A sandbox verdict: the call runs past its timeout.
  write('slow/agent.yaml', shellSpec('slow', '{timeout: 1}', 'sleep'));
  write('slow/replay.json', JSON.stringify([call('sleep 20'), final('It timed out.')]));
  gossamer(['run', 'slow/agent.yaml', '--replay', 'slow/replay.json', '--store', store, '--json']);

  // A domain allowlist: the proxy's decisions are recorded on the call (no network needed:
  // the metadata address is refused before anything is dialled).
  write('net/agent.yaml', shellSpec('net', '{timeout: 30, network: {allow: [pypi.org]}}', 'fetch'));
  write('net/replay.json', JSON.stringify([
    call(`python3 -c "import urllib.request; urllib.request.urlopen('http://169.254.169.254/')" || true`),
    final('Refused.')]));
  gossamer(['run', 'net/agent.yaml', '--replay', 'net/replay.json', '--store', store, '--json']);

  // A fleet of three tasks.
  write('fleet/agent.yaml', 'name: calc\nmodel: {reasoning_effort: low}\ntools: []\nlimits: {max_turns: 2}\ntask: "What is {{a}} + {{b}}?"\n');
  write('fleet/tasks.jsonl', [1, 2, 3].map(i => JSON.stringify({ id: `t${i}`, vars: { a: i, b: i } })).join('\n') + '\n');
  write('fleet/replay.json', JSON.stringify([final('The sum.')]));
  gossamer(['fleet', 'fleet/agent.yaml', '--tasks', 'fleet/tasks.jsonl', '--replay', 'fleet/replay.json',
    '--store', store, '--json', '--parallel', '2']);

  // ---- the viewer ----
  const ui = spawn(bin, ['ui', '--store', store, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(ui);
  const first = await new Promise((ok, bad) => {
    createInterface({ input: ui.stdout }).once('line', ok);
    ui.once('exit', c => bad(new Error('gossamer ui exited ' + c)));
  });
  const base = `http://127.0.0.1:${JSON.parse(first).port}`;

  browser = await puppeteer.launch({
    executablePath: chromium, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const pageErrors = [];
  page.on('pageerror', e => pageErrors.push(String(e)));
  page.on('console', m => { if (m.type() === 'error') pageErrors.push(m.text()); });
  const shot = (name) => page.screenshot({ path: join(artifacts, name + '.png'), fullPage: true });
  const texts = (sel) => page.$$eval(sel, es => es.map(e => e.textContent));

  await check('sessions list shows every session with its state and numbers', async () => {
    await page.goto(base + '/ui/', { waitUntil: 'networkidle0' });
    await page.waitForSelector('#sessions tbody tr');
    const rows = await page.$$eval('#sessions tbody tr', trs => trs.map(tr => tr.textContent));
    assert.equal(rows.length, 8, rows.join('\n')); // coding, research, xss, slow, net, 3 fleet tasks
    assert.ok(rows.some(r => r.includes('coding') && r.includes('finished')), rows.join('\n'));
    assert.ok(rows.some(r => r.includes('xss <b>name</b>')), 'the name shown as text');
    assert.equal(await page.$$eval('#sessions b', bs => bs.length), 0, 'no markup from a name');
    await shot('sessions-list');
  });

  await check('sessions list filters by state, name and fleet', async () => {
    await page.goto(base + '/ui/#/?name=cod', { waitUntil: 'networkidle0' });
    await page.waitForFunction(() => document.querySelectorAll('#sessions tbody tr').length === 1);
    await page.select('select[name=state]', 'failed');
    await page.waitForFunction(() => location.hash.includes('state=failed'));
    await page.waitForSelector('p.meta');
    const fleets = JSON.parse(gossamer(['fleet', 'list', '--store', store, '--json']).stdout);
    await page.goto(base + '/ui/#/?fleet=' + fleets[0].id, { waitUntil: 'networkidle0' });
    await page.waitForFunction(() => document.querySelectorAll('#sessions tbody tr').length === 3);
  });

  const idOf = async (name) => {
    const r = await fetch(`${base}/ui/api/sessions?name=${encodeURIComponent(name)}`);
    return (await r.json()).sessions[0].id;
  };

  await check('a coding session: turns, reasoning collapsed, calls with JSON args, results, workspace diff, hook, answer, plots', async () => {
    await page.goto(`${base}/ui/#/s/${await idOf('coding')}`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('#timeline');
    assert.equal((await texts('.turn')).length, 4);
    assert.match((await texts('.turn'))[0], /Turn 1 · model .* in [\d,]+ \(cached [\d,]+\) · out \d+/);
    const reasoning = await page.$$eval('details[data-role=analysis]', ds => ds.map(d => d.open));
    assert.ok(reasoning.length >= 2 && reasoning.every(o => !o), 'analysis collapsed by default');
    const args = await texts('.item.call pre.args');
    assert.ok(args[0].includes('{\n  "command": "python3 test_calc.py"\n}'), args[0]);
    assert.ok((await texts('.item.call .who')).every(t => /ok · /.test(t)));
    assert.ok((await texts('[data-role=tool] pre')).some(t => t.includes('1 passed, 2 failed')));
    assert.ok((await texts('[data-kind=hook], .item.hook')).some(t => t.includes('on_finish: allow')));
    assert.ok((await texts('[data-role=final]'))[0].includes('returns a + b'));
    assert.ok(await page.$$eval('.plot svg rect.bar', rs => rs.length) >= 12, 'bars per step');
    assert.equal(await page.$$eval('.plot svg', s => s.length), 3, 'tokens, context fill, time');
    const fill = await page.$eval('#context-fill > div', d => d.style.width);
    assert.match(fill, /^[0-9.]+%$/);
    const button = (await page.$$('.workspace button')).at(-1);
    await button.click();
    await page.waitForSelector('pre.diff');
    const diff = await texts('pre.diff');
    assert.ok(diff.some(d => d.includes('+    return a + b') && d.includes('-    return a - b')), diff.join('\n'));
    await shot('session-coding');
  });

  await check('citations in a final answer are marked with their URL', async () => {
    await page.goto(`${base}/ui/#/s/${await idOf('research')}`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('[data-role=final] .citation');
    const url = await page.$eval('[data-role=final] .citation', c => c.dataset.url);
    assert.equal(url, 'local://docs/otters.md');
    await shot('session-research');
  });

  await check('a timed-out call is highlighted as a sandbox verdict', async () => {
    await page.goto(`${base}/ui/#/s/${await idOf('slow')}`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('.verdict');
    assert.match(await page.$eval('.verdict', v => v.textContent), /timed out/);
    assert.ok(await page.$('.item.tool.error'), 'the failed call is marked');
  });

  await check("a call's network decisions are shown on it", async () => {
    await page.goto(`${base}/ui/#/s/${await idOf('net')}`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('[data-role=call] [data-role=network]');
    const lines = await texts('[data-role=call] [data-role=network] .bad');
    assert.ok(lines.some(l => l.includes('denied 169.254.169.254:80')), lines.join(' | '));
  });

  await check('markup printed by a session is shown as text and never runs', async () => {
    await page.goto(`${base}/ui/#/s/${await idOf('xss')}`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('[data-role=final]');
    await new Promise(r => setTimeout(r, 300));
    assert.equal(await page.evaluate(() => window.__xss), undefined, 'no script ran');
    assert.equal(await page.$$eval('#main img, #main script', es => es.length), 0, 'no element from session text');
    assert.equal(await page.$$eval('a[href^="javascript"]', es => es.length), 0);
    assert.ok((await texts('[data-role=tool] pre')).some(t => t.includes('<script>window.__xss=2</script>')));
    assert.ok((await texts('[data-role=final]'))[0].includes('<img src=x onerror="window.__xss=1">'));
    await shot('session-xss');
  });

  await check('fleet pages: progress, outcomes, durations, tasks', async () => {
    await page.goto(base + '/ui/#/fleets', { waitUntil: 'networkidle0' });
    await page.waitForSelector('#fleets tbody tr');
    await page.click('#fleets tbody tr a');
    await page.waitForSelector('#tasks tbody tr');
    assert.equal(await page.$$eval('#tasks tbody tr', r => r.length), 3);
    assert.equal(parseFloat(await page.$eval('#fleet-progress [data-state=finished]', d => d.style.width)), 100);
    assert.ok(await page.$$eval('.plot svg', s => s.length) === 2);
    await shot('fleet');
  });

  await check('a running session is followed live (within a second of each stored step)', async () => {
    write('live/agent.yaml', shellSpec('live', '{timeout: 30}', 'count slowly'));
    write('live/replay.json', JSON.stringify([call('sleep 1; echo one'), call('sleep 1; echo two'),
      call('sleep 1; echo three'), final('Counted to three.')]));
    const run = spawn(bin, ['run', 'live/agent.yaml', '--replay', 'live/replay.json', '--store', store, '--json'],
      { cwd: tmp, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(run);
    const seen = []; // when each tool.finished was reported by the run (after its commit)
    let id;
    let started;
    const gotId = new Promise(ok => { started = ok; });
    createInterface({ input: run.stdout }).on('line', line => {
      const e = JSON.parse(line);
      if (!id) { id = e.session; started(); }
      if (e.event === 'tool.finished') seen.push(Date.now());
    });
    await gotId;
    await page.goto(`${base}/ui/#/s/${id}`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#live');
    const lags = [];
    for (let k = 1; k <= 3; ++k) {
      await page.waitForFunction(n => document.querySelectorAll('[data-role=tool]').length >= n, { timeout: 15000 }, k);
      const shown = Date.now();
      if (seen.length >= k) lags.push(shown - seen[k - 1]);
    }
    await page.waitForFunction(() => !document.querySelector('#live'), { timeout: 15000 });
    assert.match(await page.$eval('[data-role=final]', f => f.textContent), /Counted to three/);
    assert.equal(await page.$eval('.badge[data-state]', b => b.dataset.state), 'finished');
    // Within a second (the median; one step of a loaded CI machine may take up to two).
    const sorted = [...lags].sort((a, b) => a - b);
    assert.ok(lags.length === 3 && sorted[1] < 1000 && sorted[2] < 2000, 'lags ' + lags.join(', ') + ' ms');
    results.push(`     live lags (ms): ${lags.join(', ')}`);
    await shot('session-live');
  });

  await check('no script errors on any page', async () => {
    assert.deepEqual(pageErrors, []);
  });

  await check('a key-protected viewer refuses requests without the key', async () => {
    const keyed = spawn(bin, ['ui', '--store', store, '--port', '0', '--api-key', 'sesame'],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(keyed);
    const line = await new Promise(ok => createInterface({ input: keyed.stdout }).once('line', ok));
    const kbase = `http://127.0.0.1:${JSON.parse(line).port}`;
    assert.equal((await fetch(kbase + '/ui/api/sessions')).status, 401);
    assert.equal((await fetch(kbase + '/ui/api/sessions', { headers: { authorization: 'Bearer sesame' } })).status, 200);
    const p2 = await browser.newPage();
    await p2.goto(kbase + '/ui/?key=sesame', { waitUntil: 'networkidle0' });
    await p2.waitForSelector('#sessions tbody tr');
    await p2.close();
    keyed.kill('SIGTERM');
  });

  await check('the viewer refuses a Host that is not this machine (DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const status = await new Promise((ok, bad) => {
      request(base + '/ui/api/sessions', { headers: { host: 'evil.example:80' } }, r => ok(r.statusCode)).on('error', bad).end();
    });
    assert.equal(status, 403);
  });
} catch (e) {
  results.push('FAIL setup: ' + (e.stack || e));
} finally {
  if (browser) await browser.close();
  cleanup();
}
console.log(results.join('\n'));
console.log('screenshots in ' + artifacts);
process.exit(results.some(r => r.startsWith('FAIL')) ? 1 : 0);
