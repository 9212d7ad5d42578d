#!/usr/bin/env node
'use strict';
/*
 * Soak load for an Engine.IO server speaking the echo protocol of client.js,
 * using raw WebSocket and HTTP (no engine.io-client, to keep the load cheap).
 *
 *   node soak.js --url http://127.0.0.1:PORT [--cycles 20000]
 *       [--concurrency 50] [--abandon 2000] [--timeout-ms 300000]
 *
 * 1. --cycles times: open a WebSocket session, read the open packet, send
 *    "4soak", wait for the echo, close.  --concurrency cycles run at once.
 * 2. --abandon polling handshakes whose sessions are then never used, so
 *    the server must time them out.
 * Prints one JSON line: {"ok":..., "cycles":..., "failures":..., "abandoned":...}
 */
const http = require('http');
const WebSocket = require('ws');

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  return out;
}
const args = parseArgs(process.argv.slice(2));
const base = args.url;
const CYCLES = Number(args.cycles || 20000);
const CONC = Number(args.concurrency || 50);
const ABANDON = Number(args.abandon || 2000);
const TIMEOUT = Number(args['timeout-ms'] || 300000);
const wsUrl = base.replace(/^http/, 'ws') + '/engine.io/?EIO=4&transport=websocket';

const result = { ok: false, cycles: 0, failures: 0, abandoned: 0, errors: [] };
function finish(ok) {
  result.ok = ok && result.failures === 0 && result.cycles === CYCLES && result.abandoned === ABANDON;
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(result.ok ? 0 : 1));
}
setTimeout(() => { result.errors.push('timeout'); finish(false); }, TIMEOUT);

function cycle() {
  return new Promise((resolve) => {
    // No compression: the soak looks for our leaks, not zlib's footprint.
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
    let stage = 0;
    const timer = setTimeout(() => { fail('cycle timeout'); }, 10000);
    function fail(e) {
      clearTimeout(timer);
      result.failures++;
      if (result.errors.length < 5) result.errors.push(String(e));
      try { ws.terminate(); } catch (_) { /* ignore */ }
      resolve();
    }
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? null : data.toString();
      if (stage === 0 && text && text[0] === '0') { stage = 1; ws.send('4soak'); }
      else if (stage === 1 && text === '4soak') {
        stage = 2;
        clearTimeout(timer);
        result.cycles++;
        ws.close();
      }
    });
    ws.on('close', () => { if (stage === 2) resolve(); else fail('closed at stage ' + stage); });
    ws.on('error', (e) => fail(e.message));
  });
}

function abandon() {
  return new Promise((resolve) => {
    const req = http.get(base + '/engine.io/?EIO=4&transport=polling', (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode === 200) result.abandoned++; resolve(); });
    });
    req.on('error', (e) => { result.errors.push(e.message); resolve(); });
    req.setTimeout(10000, () => { req.destroy(); resolve(); });
  });
}

async function pool(total, conc, fn) {
  let next = 0;
  const workers = [];
  for (let w = 0; w < conc; w++) {
    workers.push((async () => { while (next < total) { next++; await fn(); } })());
  }
  await Promise.all(workers);
}

(async () => {
  await pool(CYCLES, CONC, cycle);
  await pool(ABANDON, CONC, abandon);
  finish(true);
})();
