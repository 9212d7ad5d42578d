#!/usr/bin/env node
'use strict';
/*
 * Compare two wire_probe.js outputs (JSON lines), e.g. the recorded official
 * server run against a run on the Python server:
 *
 *   node wire_probe.js --url http://127.0.0.1:PORT > /tmp/py.jsonl
 *   node wire_diff.js wire/official-cors.jsonl /tmp/py.jsonl [--headers strict|loose|none]
 *                     [--only probe1,probe2]
 *
 * Compared per step: status, body (or raw bytes / websocket frames), and
 * headers. Header comparison modes:
 *   strict  names (case-insensitive) and values, order ignored (default
 *           ignores Date, Connection, Keep-Alive, Transfer-Encoding,
 *           Content-Length: they depend on the HTTP stack)
 *   loose   only Content-Type, Access-Control-* and cache-control
 *   none    headers ignored
 * elapsedMs is never compared. Prints one line per difference and a final
 * "N passed, N failed" line (a probe passes when all its steps match).
 * Exit code 1 when any probe differs.
 */

const fs = require('fs');

const argv = process.argv.slice(2);
const files = [];
let mode = 'strict';
let only = null;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--headers') mode = argv[++i];
  else if (argv[i] === '--only') only = new Set(argv[++i].split(','));
  else files.push(argv[i]);
}
if (files.length !== 2 || !['strict', 'loose', 'none'].includes(mode)) {
  console.error('usage: node wire_diff.js EXPECTED.jsonl ACTUAL.jsonl [--headers strict|loose|none] [--only a,b]');
  process.exit(2);
}

function load(f) {
  const m = new Map();
  for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    m.set(r.probe, r);
  }
  return m;
}

const IGNORED = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length']);
function headerMap(pairs) {
  const m = {};
  for (const [k, v] of pairs || []) {
    const n = k.toLowerCase();
    if (mode === 'strict' && IGNORED.has(n)) continue;
    if (mode === 'loose' && !(n === 'content-type' || n.startsWith('access-control-') || n === 'cache-control')) continue;
    m[n] = m[n] === undefined ? v : m[n] + ', ' + v;
  }
  return m;
}

function rawStatusLine(raw) {
  return typeof raw === 'string' ? raw.split('\r\n')[0] : undefined;
}

function rawBody(raw) {
  if (typeof raw !== 'string') return undefined;
  const i = raw.indexOf('\r\n\r\n');
  return i === -1 ? raw : raw.slice(i + 4);
}

function cmpStep(a, b) {
  const diffs = [];
  const eq = (x, y) => JSON.stringify(x) === JSON.stringify(y);
  if (a.skipped || b.skipped) return diffs;
  if (!eq(a.status, b.status)) diffs.push('status ' + JSON.stringify(a.status) + ' != ' + JSON.stringify(b.status));
  if (!eq(a.timeout, b.timeout)) diffs.push('timeout ' + !!a.timeout + ' != ' + !!b.timeout);
  if (!eq(a.error, b.error)) diffs.push('error ' + JSON.stringify(a.error) + ' != ' + JSON.stringify(b.error));
  if (!eq(a.serverClosedConnection, b.serverClosedConnection)) diffs.push('serverClosedConnection ' + a.serverClosedConnection + ' != ' + b.serverClosedConnection);
  if (!eq(a.body, b.body)) diffs.push('body ' + JSON.stringify(a.body) + ' != ' + JSON.stringify(b.body));
  if (a.raw !== undefined || b.raw !== undefined) {
    if (!eq(rawStatusLine(a.raw), rawStatusLine(b.raw))) diffs.push('raw status line ' + JSON.stringify(rawStatusLine(a.raw)) + ' != ' + JSON.stringify(rawStatusLine(b.raw)));
    if (mode === 'strict' && !eq(rawBody(a.raw), rawBody(b.raw))) diffs.push('raw body ' + JSON.stringify(rawBody(a.raw)) + ' != ' + JSON.stringify(rawBody(b.raw)));
  }
  if (a.frames || b.frames) {
    if (!eq(a.frames, b.frames)) diffs.push('frames ' + JSON.stringify(a.frames) + ' != ' + JSON.stringify(b.frames));
    const ca = a.closed ? a.closed.code : null;
    const cb = b.closed ? b.closed.code : null;
    if (ca !== cb) diffs.push('ws close code ' + ca + ' != ' + cb);
  }
  if (mode !== 'none' && (a.headers || b.headers)) {
    const ha = headerMap(a.headers);
    const hb = headerMap(b.headers);
    for (const k of new Set([...Object.keys(ha), ...Object.keys(hb)])) {
      if (ha[k] !== hb[k]) diffs.push('header ' + k + ': ' + JSON.stringify(ha[k]) + ' != ' + JSON.stringify(hb[k]));
    }
  }
  return diffs;
}

const A = load(files[0]);
const B = load(files[1]);
let passed = 0;
let failed = 0;
for (const [name, a] of A) {
  if (only && !only.has(name)) continue;
  const b = B.get(name);
  if (!b) {
    console.log(name + ': missing in ' + files[1]);
    failed++;
    continue;
  }
  const diffs = [];
  const n = Math.max(a.steps.length, b.steps.length);
  for (let i = 0; i < n; i++) {
    if (!a.steps[i] || !b.steps[i]) {
      diffs.push('step ' + i + ' missing on one side');
      continue;
    }
    for (const d of cmpStep(a.steps[i], b.steps[i])) diffs.push('step ' + i + (a.steps[i].note ? ' (' + a.steps[i].note + ')' : '') + ': ' + d);
  }
  if (diffs.length) {
    failed++;
    for (const d of diffs) console.log(name + ': ' + d);
  } else {
    passed++;
  }
}
console.log(passed + ' passed, ' + failed + ' failed');
process.exit(failed ? 1 : 0);
