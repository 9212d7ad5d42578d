#!/usr/bin/env node
'use strict';
/*
 * Scenario runner driving engine.io-client 3.x (Engine.IO protocol v3, as
 * used by Socket.IO v2) against the Python server under test, which must
 * run with allow_eio3=True and the echo app of tests/servers/echo_app.py
 * (echo with the same type; "__burst__:N" sends "s:0".."s:N-1";
 * "__close__" closes the session; "__sid__" answers "sid:<id>").
 *
 * Usage:
 *   node client.js --url http://127.0.0.1:PORT --scenario NAME
 *       [--transports polling,websocket] [--base64] [--timeout-ms 20000]
 *       [--count 200] [--duration-ms 1500]
 *
 * --base64 sets the client's forceBase64 option: binary data then travels
 * as base64 text (the client sends b64=1) instead of binary payloads and
 * binary WebSocket frames.
 *
 * Output: one JSON line on stdout ({"ok": true|false, ...}); exit code 0
 * when ok.  Every scenario is bounded by --timeout-ms.
 *
 * Scenarios:
 *   handshake     reports the handshake data, then closes.
 *   echo          text, binary, JSON text, non-ASCII text (with a character
 *                 outside the BMP), an empty text (which this client hands
 *                 over as undefined) and "__sid__", each echo awaited in
 *                 turn.
 *   order         --count text messages sent at once plus "__burst__:N":
 *                 both streams complete and in order.
 *   binary-order  --count binary messages (4-byte counter) echoed in order.
 *   mixed         --count messages alternating binary and non-ASCII text,
 *                 sent at once; echoes in order with their types.
 *   upgrade       starts on polling, sends --count messages every few ms
 *                 across the upgrade, alternating text "u:i" and binary
 *                 counters; needs an 'upgrade' event, websocket at the end
 *                 and every echo once, in order, with its type.
 *   ping          runs --duration-ms; counts the 'pong' events the client
 *                 got for its pings (v3: the client pings) and checks the
 *                 socket stays open and still echoes.
 *   silent        sends no pings (and ignores its own ping timeout); waits
 *                 for the server to drop the session.
 *   server-close  sends "__close__" and waits for 'close'.
 */

const eio = require('engine.io-client');

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error('unexpected argument: ' + a);
    const key = a.slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) {
      out[key] = 'true';
    } else {
      out[key] = next;
      i++;
    }
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const result = { ok: false, scenario: args.scenario || null };
const timeoutMs = Number(args['timeout-ms'] || 20000);
const count = Number(args.count || 200);
let done = false;
let socket = null;

function finish(ok, error) {
  if (done) return;
  done = true;
  result.ok = !!ok;
  if (error) result.error = String(error);
  if (socket) {
    result.transport = socket.transport ? socket.transport.name : null;
    if (socket.readyState === 'open' || socket.readyState === 'opening') {
      try { socket.close(); } catch (e) { /* closing anyway */ }
    }
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  setTimeout(() => process.exit(ok ? 0 : 1), 50);
}

setTimeout(() => finish(false, 'timeout'), timeoutMs).unref();

function isBinary(data) {
  return Buffer.isBuffer(data) || data instanceof ArrayBuffer ||
    ArrayBuffer.isView(data);
}

function toBuffer(data) {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function counterBuffer(i) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(i, 0);
  return b;
}

function open(extra) {
  const opts = Object.assign({
    transports: (args.transports || 'polling,websocket').split(','),
    forceBase64: args.base64 === 'true',
    upgrade: true,
  }, extra || {});
  socket = eio(args.url, opts);
  result.transports = opts.transports;
  result.base64 = opts.forceBase64;
  result.upgraded = false;
  socket.on('handshake', (data) => { result.handshake = data; });
  socket.on('open', () => { result.sid = socket.id; });
  socket.on('upgrade', () => { result.upgraded = true; });
  socket.on('error', (err) => {
    result.errors = (result.errors || []).concat(String(err && err.message));
  });
  socket.on('close', (reason, desc) => {
    result.closeReason = reason;
    if (!done && result.scenario !== 'server-close' &&
        result.scenario !== 'silent') {
      finish(false, 'closed: ' + reason + ' ' + String(desc && desc.message));
    }
  });
  return socket;
}

// Sends messages and checks their echoes arrive in order, as a list of
// expected items ({text} or {binary}); calls back when all arrived.
function expectSequence(expected, onDone) {
  let next = 0;
  socket.on('message', (data) => {
    if (done) return;
    const want = expected[next];
    if (want === undefined) return finish(false, 'unexpected extra message');
    if (want.binary !== undefined) {
      if (!isBinary(data)) return finish(false, `#${next}: expected binary, got ${typeof data}: ${String(data).slice(0, 60)}`);
      if (!toBuffer(data).equals(want.binary)) return finish(false, `#${next}: binary mismatch`);
    } else if (want.empty && data === undefined) {
      // as engine.io-client 3.x delivers an empty text message
    } else if (data !== want.text) {
      return finish(false, `#${next}: expected ${JSON.stringify(want.text)}, got ${isBinary(data) ? 'binary' : JSON.stringify(data)}`);
    }
    next++;
    result.received = next;
    if (next === expected.length) onDone();
  });
}

const scenarios = {
  handshake() {
    open();
    socket.on('open', () => finish(true));
  },

  echo() {
    open();
    const items = [
      { text: 'hello' },
      { binary: Buffer.from([0, 1, 2, 253, 254, 255]) },
      { text: '{"a":1,"b":[1,2]}' },
      { text: 'héllo ☃ 😀 𝄞 end' },
      // v3 clients decode an empty message ("4") as undefined
      { text: '', empty: true },
    ];
    socket.on('open', () => {
      const expected = items.concat([{ text: 'sid:' + socket.id }]);
      expectSequence(expected, () => finish(true));
      let i = 0;
      const sendNext = () => {
        if (i < items.length) {
          const it = items[i++];
          socket.send(it.binary !== undefined ? it.binary : it.text);
        } else if (i === items.length) {
          i++;
          socket.send('__sid__');
        }
      };
      socket.on('message', () => sendNext());
      sendNext();
    });
  },

  order() {
    open();
    socket.on('open', () => {
      const echoes = [];
      const burst = [];
      socket.on('message', (data) => {
        if (typeof data !== 'string') return finish(false, 'binary in order test');
        if (data.startsWith('c:')) echoes.push(Number(data.slice(2)));
        else if (data.startsWith('s:')) burst.push(Number(data.slice(2)));
        if (echoes.length === count && burst.length === count) {
          const inOrder = (a) => a.every((v, i) => v === i);
          result.echoes = echoes.length;
          result.burst = burst.length;
          if (!inOrder(echoes)) return finish(false, 'echoes out of order');
          if (!inOrder(burst)) return finish(false, 'burst out of order');
          finish(true);
        }
      });
      for (let i = 0; i < count; i++) socket.send('c:' + i);
      socket.send('__burst__:' + count);
    });
  },

  'binary-order'() {
    open();
    socket.on('open', () => {
      const expected = [];
      for (let i = 0; i < count; i++) expected.push({ binary: counterBuffer(i) });
      expectSequence(expected, () => finish(true));
      for (let i = 0; i < count; i++) socket.send(counterBuffer(i));
    });
  },

  mixed() {
    open();
    socket.on('open', () => {
      const items = [];
      for (let i = 0; i < count; i++) {
        items.push(i % 2 ? { text: `n:${i} ☃😀` } : { binary: counterBuffer(i) });
      }
      expectSequence(items, () => finish(true));
      for (const it of items) socket.send(it.binary !== undefined ? it.binary : it.text);
    });
  },

  upgrade() {
    open({ transports: ['polling', 'websocket'] });
    socket.on('open', () => {
      const expected = [];
      for (let i = 0; i < count; i++) {
        expected.push(i % 2 ? { binary: counterBuffer(i) } : { text: 'u:' + i });
      }
      expectSequence(expected, () => {
        if (!result.upgraded) {
          // all echoes may beat the upgrade: wait for it (bounded by the
          // scenario timeout)
          socket.on('upgrade', () => finish(true));
          return;
        }
        finish(true);
      });
      let i = 0;
      const timer = setInterval(() => {
        if (i >= count || done) return clearInterval(timer);
        const it = expected[i++];
        socket.send(it.binary !== undefined ? it.binary : it.text);
      }, 3);
    });
  },

  ping() {
    open();
    const duration = Number(args['duration-ms'] || 1500);
    result.pongs = 0;
    result.pings = 0;
    socket.on('ping', () => { result.pings++; });
    socket.on('pong', () => { result.pongs++; });
    socket.on('open', () => {
      setTimeout(() => {
        if (socket.readyState !== 'open') return finish(false, 'not open');
        socket.on('message', (data) => {
          if (data === 'still here') finish(true);
        });
        socket.send('still here');
      }, duration);
    });
  },

  silent() {
    open();
    // v3: the client pings; this one never does, and never times the
    // server out either, so only the server can end the session.
    socket.ping = function () {};
    socket.onHeartbeat = function () {};
    const started = Date.now();
    socket.on('open', () => { result.openedAfterMs = Date.now() - started; });
    socket.on('close', (reason) => {
      result.closedAfterMs = Date.now() - started;
      finish(true);
    });
  },

  'server-close'() {
    open();
    socket.on('open', () => socket.send('__close__'));
    socket.on('close', () => finish(true));
  },
};

const run = scenarios[args.scenario];
if (!args.url || !run) {
  result.error = 'usage: --url URL --scenario ' + Object.keys(scenarios).join('|');
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(2);
}
try {
  run();
} catch (e) {
  finish(false, e && e.stack);
}
