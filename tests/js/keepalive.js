#!/usr/bin/env node
'use strict';
/*
 * Ordinary long-polling exchanges, one after the other, with Node's global
 * fetch (undici: keep-alive on by default, as in browsers), so that every
 * request after the first travels on a connection an earlier response left
 * open.  A server that frames a response wrongly, or closes a connection it
 * advertised as kept alive, shows up here as a request error ("other side
 * closed", "socket hang up") rather than as a status.
 *
 * Usage: node keepalive.js --url http://127.0.0.1:PORT [--timeout-ms 30000]
 *
 * The server is expected to run the echo app (see README.md) with
 * pingInterval 1000 and pingTimeout 1000 (the held GET waits for a ping)
 * and CORS for any origin.
 *
 * Prints exactly one JSON line {"steps": [{"name", "method", "status",
 * "body", "headers"} or {"name", "method", "error"}], "errors": N} and
 * exits 0 when every step ran (whatever it got), 1 when the sequence itself
 * broke, 3 on the hard timeout.  A step with "extra": true is a pong the
 * script had to send because a ping arrived early (a slow machine); it is
 * not part of the sequence proper.  Only loopback URLs are accepted; every
 * wait is bounded.
 */

const { parseArgs, oneShot } = require('./cli');

const args = parseArgs(process.argv.slice(2), { timeoutMs: 30000 }, []);
const root = args.url.replace(/\/$/, '') + '/engine.io/';
const base = root + '?EIO=4';
const result = { steps: [], errors: 0 };

const finish = oneShot(result, args.timeoutMs);

// The response headers worth comparing (others, like Date, always differ).
const KEPT_HEADERS = ['access-control-allow-origin', 'connection'];

/** One request; its outcome is recorded, an error included, and the
 * sequence goes on. */
async function step(name, method, url, body, headers) {
  const rec = { name, method };
  try {
    const res = await fetch(url, {
      method, body, headers, signal: AbortSignal.timeout(6000),
    });
    rec.status = res.status;
    rec.body = await res.text();
    rec.headers = {};
    for (const h of KEPT_HEADERS) {
      const v = res.headers.get(h);
      if (v !== null) rec.headers[h] = v;
    }
  } catch (err) {
    // fetch wraps the socket's error: the cause says what happened.
    const cause = err && err.cause;
    rec.error = String(cause && (cause.code ? cause.code + ': ' : '') +
                       cause.message || err && err.message || err);
    result.errors++;
  }
  result.steps.push(rec);
  return rec;
}

/** A GET on a live session; if the heartbeat's ping came with its payload
 * (a slow machine), answer it as a client would, in a step marked extra,
 * so the session outlives the sequence's own timing. */
async function poll(name, url, headers) {
  const rec = await step(name, 'GET', url, undefined, headers);
  if (rec.status === 200 && rec.body.split('\x1e').includes('2') &&
      name !== 'get-held') {
    const pong = await step('pong-' + name, 'POST', url, '3');
    pong.extra = true;
  }
  return rec;
}

function sidOf(rec) {
  if (rec.status !== 200 || !rec.body || rec.body[0] !== '0') {
    throw new Error('handshake failed: ' + JSON.stringify(rec));
  }
  return JSON.parse(rec.body.slice(1)).sid;
}

async function run() {
  // Refusals before any session exists.
  await step('bad-eio', 'GET', root + '?EIO=5&transport=polling');
  await step('bad-transport', 'GET', base + '&transport=carrier-pigeon');
  await step('unknown-sid', 'GET', base + '&transport=polling&sid=nope');
  await step('bad-method', 'PUT', base + '&transport=polling', 'x');

  const sid = sidOf(await step('handshake', 'GET', base + '&transport=polling'));
  const url = base + '&transport=polling&sid=' + sid;

  await step('post-one', 'POST', url, '4hello');
  await poll('get-one', url);
  await step('post-many', 'POST', url, '4a\x1e4b\x1ebAQID');
  await poll('get-many', url);
  await step('post-burst', 'POST', url, '4__burst__:5');
  await poll('get-burst', url);
  // Nothing is queued: the GET is held until the heartbeat's ping.
  await poll('get-held', url);
  await step('post-pong', 'POST', url, '3');
  await step('options', 'OPTIONS', url, undefined,
             { Origin: 'http://example.test',
               'Access-Control-Request-Method': 'POST' });
  await step('post-origin', 'POST', url, '4cors',
             { Origin: 'http://example.test' });
  await poll('get-origin', url, { Origin: 'http://example.test' });
  await step('post-unicode', 'POST', url, '4h\u00e9llo \u2603 \ud83d\ude00');
  await poll('get-unicode', url);
  await step('post-empty-message', 'POST', url, '4');
  await poll('get-empty-message', url);
  await step('post-close', 'POST', url, '1');
  await step('get-after-close', 'GET', url);

  // A second session on the same connection, to its end.
  const sid2 = sidOf(await step('handshake-2', 'GET', base + '&transport=polling'));
  const url2 = base + '&transport=polling&sid=' + sid2;
  await step('post-2', 'POST', url2, '4again');
  await poll('get-2', url2);
  await step('post-close-2', 'POST', url2, '1');
  await step('get-after-close-2', 'GET', url2);
}

(async () => {
  try {
    await run();
    finish(0);
  } catch (err) {
    result.error = String(err && err.stack || err);
    finish(1);
  }
})();
