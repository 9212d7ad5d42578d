#!/usr/bin/env node
'use strict';
/*
 * Wire exchanges where servers have been seen to differ from the official
 * engine.io server, driven with Node's own fetch (undici, keep-alive as in
 * browsers) and the `ws` client that engine.io-client uses.
 *
 * Usage: node exact.js --url http://127.0.0.1:PORT --scenario NAME
 *                      [--timeout-ms 15000]
 *
 * Prints exactly one JSON line {"scenario", ...what was seen} and exits 0;
 * exits 1 with {"error": ...} when the exchange could not run, 3 on timeout.
 * Only loopback URLs are accepted.  Every wait is bounded.
 *
 * Scenarios:
 *   client-close-polling  a GET pending; POST "1"; then GET again.
 *   second-websocket      upgrade a polling session, then open another
 *                         WebSocket with its sid; echo on the first.
 *   upgrade-then-poll     "2probe" and "5" back to back on the probe
 *                         WebSocket, then at once a polling GET.
 */

const WebSocket = require('ws');

const { parseArgs, oneShot } = require('./cli');

const args = parseArgs(process.argv.slice(2), { scenario: null }, ['scenario']);
const base = args.url.replace(/\/$/, '') + '/engine.io/?EIO=4';
const wsBase = base.replace(/^http/, 'ws');
const result = { scenario: args.scenario };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const finish = oneShot(result, args.timeoutMs);

async function request(method, url, body) {
  const res = await fetch(url, { method, body, signal: AbortSignal.timeout(8000) });
  return { status: res.status, body: await res.text() };
}

async function handshake() {
  const r = await request('GET', base + '&transport=polling');
  if (r.status !== 200) throw new Error('handshake ' + r.status + ' ' + r.body);
  return JSON.parse(r.body.slice(1)).sid;
}

/** A WebSocket that records what happens to it.  It offers no
 * permessage-deflate: with the extension negotiated, `ws` puts even small
 * frames through its asynchronous deflate queue, so they leave after a
 * fetch started later, against any server (seen on the official one). */
function openWs(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const rec = { frames: [], errors: [], opened: false, status: null,
                closeCode: null };
  rec.ws = ws;
  rec.closed = new Promise((resolve) => {
    ws.on('open', () => { rec.opened = true; });
    ws.on('message', (data, isBinary) => {
      rec.frames.push(isBinary ? { binary: data.length } : data.toString());
    });
    ws.on('unexpected-response', (req, res) => {
      rec.status = res.statusCode;
      req.destroy();
      resolve();
    });
    ws.on('error', (err) => { rec.errors.push(String(err.message || err)); resolve(); });
    ws.on('close', (code) => { rec.closeCode = code; resolve(); });
  });
  rec.opening = new Promise((resolve) => {
    ws.on('open', resolve);
    rec.closed.then(resolve);
  });
  return rec;
}

async function waitFor(pred, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (pred()) return true;
    await sleep(10);
  }
  return pred();
}

function summary(rec) {
  return { opened: rec.opened, status: rec.status, errors: rec.errors,
           closeCode: rec.closeCode, frames: rec.frames };
}

async function upgrade(sid) {
  const rec = openWs(wsBase + '&transport=websocket&sid=' + sid);
  await rec.opening;
  if (!rec.opened) throw new Error('probe websocket did not open: ' + JSON.stringify(summary(rec)));
  rec.ws.send('2probe');
  if (!await waitFor(() => rec.frames.includes('3probe'), 5000)) {
    throw new Error('no 3probe: ' + JSON.stringify(summary(rec)));
  }
  rec.ws.send('5');
  return rec;
}

const scenarios = {
  async 'client-close-polling'() {
    const sid = await handshake();
    const url = base + '&transport=polling&sid=' + sid;
    const pending = request('GET', url);
    await sleep(300); // the GET is now held by the server
    result.post = await request('POST', url, '1');
    result.pendingGet = await pending;
    result.nextGet = await request('GET', url);
  },

  async 'second-websocket'() {
    const sid = await handshake();
    const first = await upgrade(sid);
    await sleep(200);
    const second = openWs(wsBase + '&transport=websocket&sid=' + sid);
    await second.closed;
    result.second = summary(second);
    const before = first.frames.length;
    first.ws.send('4still here');
    await waitFor(() => first.frames.length > before, 3000);
    result.firstAfter = first.frames.slice(before);
    result.firstOpen = first.ws.readyState === WebSocket.OPEN;
    first.ws.close();
    await first.closed;
  },

  async 'upgrade-then-poll'() {
    const sid = await handshake();
    const url = base + '&transport=polling&sid=' + sid;
    // Make sure the fetch connection exists before the race starts.
    const warm = await request('POST', url, '4warm');
    result.warm = warm.status;
    const rec = openWs(wsBase + '&transport=websocket&sid=' + sid);
    await rec.opening;
    if (!rec.opened) throw new Error('probe websocket did not open');
    rec.ws.send('2probe');
    rec.ws.send('5');
    result.get = await request('GET', url);
    await waitFor(() => rec.frames.includes('3probe'), 3000);
    const before = rec.frames.length;
    rec.ws.send('4after');
    await waitFor(() => rec.frames.slice(before).includes('4after'), 3000);
    result.wsFrames = rec.frames;
    rec.ws.close();
    await rec.closed;
  },
};

(async () => {
  const run = scenarios[args.scenario];
  if (!run) {
    result.error = 'unknown scenario';
    return finish(2);
  }
  try {
    await run();
    finish(0);
  } catch (err) {
    result.error = String(err && err.stack || err);
    finish(1);
  }
})();
