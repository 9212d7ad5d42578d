#!/usr/bin/env node
'use strict';
/*
 * Drives Debian's headless Chromium with playwright-core against a running
 * engineio server, and prints exactly one JSON line with what it saw.
 *
 *   node drive.js --scenario demo --url http://127.0.0.1:PORT/ --screenshots DIR
 *   node drive.js --scenario official --url http://127.0.0.1:PORT/official.html
 *
 * demo:     the demo page (src/engineio/demo/static) with its own eio.js:
 *           connect, upgrade to WebSocket, latency echoes, binary echo, two
 *           pages seeing each other's chat messages; then polling only and
 *           WebSocket only. Screenshots of the page go to --screenshots.
 * official: a page with the official engine.io-client browser bundle from
 *           node_modules, over polling only, WebSocket only and upgrade,
 *           with text and binary messages.
 *
 * Never downloads a browser: it runs CHROMIUM (default /usr/bin/chromium)
 * with a fresh user data directory, and exits on its own (--timeout-ms).
 */
const fs = require('fs');
const os = require('os');
const path = require('path');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

function parseArgs(argv) {
  const out = { scenario: 'demo', url: null, screenshots: null, timeoutMs: 60000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--scenario') { out.scenario = v; i++; }
    else if (a === '--url') { out.url = v; i++; }
    else if (a === '--screenshots') { out.screenshots = v; i++; }
    else if (a === '--timeout-ms') { out.timeoutMs = Number(v); i++; }
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const result = { ok: false, scenario: args.scenario, steps: [], consoleErrors: [] };
let finished = false;

function finish(ok, error) {
  if (finished) return;
  finished = true;
  result.ok = ok;
  if (error) result.error = String(error && error.stack || error);
  process.stdout.write(JSON.stringify(result) + '\n');
}

function step(name, data) {
  result.steps.push(Object.assign({ name, at: Date.now() }, data || {}));
}

// Poll a page-side predicate until true, within a bounded time.
async function until(page, what, fn, arg, timeoutMs) {
  try {
    await page.waitForFunction(fn, arg, { timeout: timeoutMs || 15000, polling: 50 });
  } catch (err) {
    let state = null;
    try { state = await page.evaluate(() => window.demo && JSON.stringify({
      state: demo.state, transport: demo.transport, upgraded: demo.upgraded,
      echoes: demo.echoes, chat: demo.chat, log: demo.log })); } catch (e) { /* ignore */ }
    throw new Error('timed out waiting for ' + what + (state ? ': ' + state : ''));
  }
}

function watch(page, label) {
  page.on('console', (msg) => {
    if (msg.type() === 'error') result.consoleErrors.push(label + ': ' + msg.text());
  });
  page.on('pageerror', (err) => result.consoleErrors.push(label + ': ' + err.message));
}

async function demoFacts(page) {
  return page.evaluate(() => ({
    state: demo.state, sid: demo.sid, transport: demo.transport,
    upgraded: demo.upgraded, upgradeMs: demo.upgradeMs, echoes: demo.echoes,
    binaryEchoes: demo.binaryEchoes, online: demo.online,
    chat: demo.chat.map((m) => m.text),
    transportsOfSamples: Array.from(new Set(demo.samples.map((s) => s.transport))),
    latencyMs: demo.samples.map((s) => Math.round(s.ms * 10) / 10),
  }));
}

async function scenarioDemo(context) {
  const base = args.url.replace(/\/?$/, '/');
  const a = await context.newPage();
  watch(a, 'page A');
  await a.setViewportSize({ width: 1100, height: 900 });
  await a.goto(base);
  await until(a, 'page A open', () => demo.state === 'open');
  step('A open', { transport: await a.evaluate(() => demo.transport) });
  await until(a, 'page A upgrade to websocket',
    () => demo.upgraded && demo.transport === 'websocket');
  await until(a, 'page A latency echoes', () => demo.echoes >= 4);
  step('A upgraded', { upgradeMs: await a.evaluate(() => demo.upgradeMs) });

  const b = await context.newPage();
  watch(b, 'page B');
  await b.goto(base);
  await until(b, 'page B open and upgraded',
    () => demo.state === 'open' && demo.upgraded);
  await until(a, 'page A sees 2 online', () => demo.online >= 2);
  const textA = 'hello from A ' + Date.now();
  const textB = 'hello from B ' + Date.now();
  await a.fill('#text', textA);
  await a.click('#chat-form button[type=submit]');
  await b.evaluate((t) => demo.sendChat(t), textB);
  for (const [page, label] of [[a, 'A'], [b, 'B']]) {
    await until(page, 'page ' + label + ' has both chat messages',
      (texts) => texts.every((t) => demo.chat.some((m) => m.text === t)), [textA, textB]);
  }
  step('chat seen by both pages');

  await a.click('#binary');
  await until(a, 'binary echo on page A', () => demo.binaryEchoes >= 1);
  step('binary echo over websocket');

  // A few more seconds of samples make the graph (and screenshot) useful.
  await until(a, 'more latency echoes', () => demo.echoes >= 10);
  result.pageA = await demoFacts(a);
  result.pageB = await demoFacts(b);
  if (args.screenshots) {
    fs.mkdirSync(args.screenshots, { recursive: true });
    const file = path.join(args.screenshots, 'demo.png');
    await a.screenshot({ path: file, fullPage: true });
    result.screenshot = file;
  }

  // Each transport alone, with the page's own client.
  result.single = {};
  for (const transports of ['polling', 'websocket']) {
    const p = await context.newPage();
    watch(p, transports + ' only');
    await p.goto(base + '?transports=' + transports);
    await until(p, transports + ' only: open', () => demo.state === 'open');
    await until(p, transports + ' only: echoes', () => demo.echoes >= 3);
    await p.evaluate(() => demo.sendBinary());
    await until(p, transports + ' only: binary echo', () => demo.binaryEchoes >= 1);
    await p.evaluate(() => demo.sendChat('from ' + demo.transports.join('+')));
    await until(a, 'page A sees the ' + transports + ' page chat',
      (t) => demo.chat.some((m) => m.text === t), 'from ' + transports);
    result.single[transports] = await demoFacts(p);
    if (args.screenshots && transports === 'polling') {
      const file = path.join(args.screenshots, 'demo-polling-only.png');
      await p.screenshot({ path: file, fullPage: true });
    }
    await p.close();
  }
  step('single transports');
  await b.close();
  await a.close();
  return true;
}

async function scenarioOfficial(context) {
  const page = await context.newPage();
  watch(page, 'official');
  await page.goto(args.url);
  await until(page, 'the official bundle', () => typeof window.eio === 'function'
    && typeof window.runCase === 'function');
  result.clientVersion = require('engine.io-client/package.json').version;
  result.cases = {};
  const cases = {
    polling: { transports: ['polling'] },
    websocket: { transports: ['websocket'] },
    upgrade: { transports: ['polling', 'websocket'] },
  };
  for (const [name, options] of Object.entries(cases)) {
    result.cases[name] = await page.evaluate((o) => window.runCase(o), options);
    step('official ' + name, { ok: result.cases[name].ok });
  }
  if (args.screenshots) {
    fs.mkdirSync(args.screenshots, { recursive: true });
    const file = path.join(args.screenshots, 'official-client.png');
    await page.screenshot({ path: file, fullPage: true });
    result.screenshot = file;
  }
  await page.close();
  return Object.values(result.cases).every((c) => c.ok);
}

async function main() {
  if (!args.url) throw new Error('--url is required');
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(CHROMIUM + ' not found: run scripts/setup-browser.sh '
      + '(apt-get install -y chromium)');
  }
  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch (err) {
    throw new Error('playwright-core is not installed: cd tests/browser && npm ci');
  }
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eio-chromium-'));
  let context = null;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      timeout: 30000,
    });
    result.browserVersion = context.browser() ? context.browser().version() : null;
    const fn = args.scenario === 'official' ? scenarioOfficial : scenarioDemo;
    const ok = await fn(context);
    finish(ok && result.consoleErrors.length === 0,
      ok ? (result.consoleErrors.length ? 'console errors' : null) : 'a case failed');
  } finally {
    if (context) await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

const hardTimer = setTimeout(() => {
  finish(false, 'timeout after ' + args.timeoutMs + ' ms');
  process.exit(1);
}, args.timeoutMs);

main().then(() => {
  clearTimeout(hardTimer);
  process.exit(result.ok ? 0 : 1);
}, (err) => {
  clearTimeout(hardTimer);
  finish(false, err);
  process.exit(1);
});
