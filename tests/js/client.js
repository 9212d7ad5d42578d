#!/usr/bin/env node
'use strict';
/*
 * Scenario runner driving the official `engine.io-client` (protocol v4)
 * against an Engine.IO server (normally the Python server under test).
 *
 * Usage:
 *   node client.js --url http://127.0.0.1:PORT --scenario NAME
 *       [--transports polling,websocket] [--path /engine.io/]
 *       [--timeout-ms 20000] [--query 'k=v&k2=v2']
 *       [--extra-headers '{"X-Test":"1"}'] [--upgrade true|false]
 *       [--insecure true] (accept a self-signed TLS certificate)
 *
 * Output: exactly one JSON line on stdout, e.g.
 *   {"ok":true,"scenario":"echo","transport":"websocket","upgraded":true,...}
 * Exit code 0 when ok, 1 otherwise (2 for bad command line, still with a
 * JSON line). A hard timeout (--timeout-ms, default 20000) prints
 * {"ok":false,"error":"timeout",...partial data} and exits 1.
 * Diagnostics (if any) go to stderr.
 *
 * ---------------------------------------------------------------------------
 * ECHO PROTOCOL the server under test must implement
 * ---------------------------------------------------------------------------
 *   - Any message the client sends is echoed back with the same type
 *     (text -> text, binary -> binary). A text message that is a JSON object
 *     or array may come back re-serialized; the client compares such
 *     messages with JSON.parse, not textually.
 *   - text "__burst__:N" -> the server sends N text messages "s:0" ..
 *     "s:N-1", in order, and does not echo the command.
 *   - text "__close__"   -> the server closes this session (server-initiated
 *     close) and does not echo.
 *   - text "__sid__"     -> the server replies with text "sid:<session id>".
 *   (server.js in this folder additionally implements "__stop_pings__",
 *   "__headers__" and "__query__"; client.js does not need them.)
 *
 * ---------------------------------------------------------------------------
 * SCENARIOS (all use --transports; default ["polling","websocket"] with
 * upgrade enabled, which is engine.io-client's default minus webtransport)
 * ---------------------------------------------------------------------------
 *   echo          "hello", binary [0,1,2,253,254,255], '{"a":1,"b":[1,2]}',
 *                 "héllo ☃ 😀" each sent and its echo awaited in turn, plus
 *                 "__sid__" which must answer "sid:<id the client got>".
 *   order         1000 x "c:i" sent without waiting, plus "__burst__:1000";
 *                 both streams must arrive complete, in order, no duplicates.
 *   binary-order  200 binary messages holding a 4-byte big-endian counter;
 *                 echoes must come back in order, as binary.
 *   server-close  sends "__close__" and waits for the client's 'close' event.
 *   client-close  calls socket.close() after open and waits for 'close'.
 *   upgrade       needs polling+websocket; sends "u:0".."u:199" every few ms
 *                 from open on, across the upgrade; requires an 'upgrade'
 *                 event, final transport websocket, all 200 echoes once and
 *                 in order.
 *   no-pong       drops every outgoing "pong" packet (instance patch of
 *                 Socket#_sendPacket) and disables the client's own ping
 *                 timeout; waits for the server to close the connection.
 *   handshake     reports sid, transport and handshake data, then closes.
 *   many          20 concurrent sockets, 50 echoes each, then close all.
 *
 * Result fields (where they apply): ok, scenario, error, url, transports,
 * sid, transport (final transport name), upgraded (an 'upgrade' event
 * happened), closeReason, closeDescription, received, plus per-scenario data.
 */

const { Socket } = require('engine.io-client');

// ---------------------------------------------------------------------------
// command line
// ---------------------------------------------------------------------------

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error('unexpected argument: ' + a);
    const eq = a.indexOf('=');
    if (eq !== -1) {
      out[a.slice(2, eq)] = a.slice(eq + 1);
    } else {
      const key = a.slice(2);
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        out[key] = 'true';
      } else {
        out[key] = next;
        i++;
      }
    }
  }
  return out;
}

const result = { ok: false, scenario: null };
let finished = false;
const allSockets = new Set();

function errInfo(e) {
  // engine.io-client TransportError: message (e.g. "xhr poll error"),
  // description (HTTP status code for polling, an Event/Error for websocket)
  const o = { message: e.message };
  if (e.type) o.type = e.type;
  const d = e.description;
  if (d !== undefined && d !== null) {
    if (['string', 'number', 'boolean'].includes(typeof d)) o.description = d;
    else if (d instanceof Error) o.description = d.message;
    else if (typeof d === 'object' && typeof d.message === 'string') o.description = d.message;
    else o.description = String(d);
  }
  if (e.code !== undefined) o.code = e.code;
  return o;
}

function safeDescription(d) {
  if (d === undefined || d === null) return null;
  if (d instanceof Error) return errInfo(d);
  if (typeof d === 'object') {
    const o = {};
    for (const k of Object.keys(d)) {
      const v = d[k];
      if (v instanceof Error) o[k] = errInfo(v);
      else if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) o[k] = v;
      else if (k === 'context' && v && typeof v === 'object') {
        // XMLHttpRequest (polling) or CloseEvent (websocket)
        const c = {};
        for (const f of ['status', 'responseText', 'code', 'reason', 'wasClean']) {
          if (['string', 'number', 'boolean'].includes(typeof v[f])) c[f] = v[f];
        }
        o[k] = c;
      } else o[k] = String(v);
    }
    return o;
  }
  return String(d);
}

function finish(ok, error, exitCode) {
  if (finished) return;
  finished = true;
  result.ok = !!ok;
  if (error) result.error = String(error);
  else delete result.error;
  let line;
  try {
    line = JSON.stringify(result);
  } catch (e) {
    line = JSON.stringify({ ok: false, scenario: result.scenario, error: 'unserialisable result: ' + e.message });
  }
  // Close whatever is still open so the server sees a clean close, then exit
  // shortly after (process.exit guarantees termination).
  for (const s of allSockets) {
    try {
      if (s.readyState === 'open' || s.readyState === 'opening') s.close();
    } catch (e) { /* ignore */ }
  }
  const code = exitCode !== undefined ? exitCode : (result.ok ? 0 : 1);
  process.stdout.write(line + '\n', () => {
    setTimeout(() => process.exit(code), 150);
  });
  setTimeout(() => process.exit(code), 1000);
}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  result.error = e.message;
  finish(false, e.message, 2);
}

const URL_ARG = args && args.url;
const SCENARIO = args && args.scenario;
const TIMEOUT_MS = args && args['timeout-ms'] !== undefined ? Number(args['timeout-ms']) : 20000;
const TRANSPORTS = args && args.transports
  ? args.transports.split(',').map((s) => s.trim()).filter(Boolean)
  : ['polling', 'websocket'];

result.scenario = SCENARIO || null;
result.url = URL_ARG || null;
result.transports = TRANSPORTS;

function buildOptions() {
  const opts = {
    transports: TRANSPORTS,
    // never let a previous websocket success change the transport order
    rememberUpgrade: false,
    // do not fall back silently to another transport
    tryAllTransports: false,
  };
  if (args.path) opts.path = args.path;
  if (args.upgrade !== undefined) opts.upgrade = !['false', '0', 'no'].includes(args.upgrade);
  if (args.query) {
    const q = {};
    const sp = new URLSearchParams(args.query);
    for (const [k, v] of sp.entries()) q[k] = v;
    opts.query = q;
  }
  // A self-signed test certificate (Node-only option of engine.io-client).
  if (args.insecure !== undefined) opts.rejectUnauthorized = false;
  if (args['extra-headers']) {
    opts.extraHeaders = JSON.parse(args['extra-headers']);
  }
  return opts;
}

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

function toBuffer(d) {
  if (Buffer.isBuffer(d)) return d;
  if (d instanceof ArrayBuffer) return Buffer.from(new Uint8Array(d));
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return null;
}

function norm(d) {
  if (typeof d === 'string') return { type: 'text', data: d };
  const b = toBuffer(d);
  if (b) return { type: 'binary', data: b };
  return { type: 'unknown', data: d };
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/*
 * Wraps an engine.io-client Socket: records sid, transport, upgrade and close,
 * and offers nextMessage() for request/response style scenarios.
 */
class Peer {
  constructor(opts, label) {
    this.label = label || '';
    this.sock = new Socket(URL_ARG, opts);
    allSockets.add(this.sock);
    this.sid = null;
    this.handshake = null;
    this.opened = false;
    this.upgraded = false;
    this.upgradeAt = null;
    this.upgradeErrors = [];
    this.errors = [];
    this.closed = false;
    this.closeReason = null;
    this.closeDescription = null;
    this.openedAt = null;
    this.queue = [];
    this.waiters = [];
    this.onMessage = null; // optional streaming handler
    this.receivedCount = 0;
    this._closeWaiters = [];

    this.openPromise = new Promise((resolve, reject) => {
      this.sock.on('open', () => {
        this.opened = true;
        this.openedAt = Date.now();
        this.sid = this.sock.id;
        resolve();
      });
      this.sock.on('close', (reason, desc) => {
        if (!this.opened) reject(new Error('closed before open: ' + reason + ' ' + JSON.stringify(safeDescription(desc))));
      });
    });
    this.openPromise.catch(() => {});
    this.sock.on('handshake', (data) => {
      this.handshake = data;
    });
    this.sock.on('upgrade', (t) => {
      this.upgraded = true;
      this.upgradeAt = Date.now();
      this.upgradeTransport = t && t.name;
    });
    this.sock.on('upgradeError', (e) => {
      this.upgradeErrors.push(e && e.message ? e.message : String(e));
    });
    this.sock.on('error', (e) => {
      this.errors.push(e instanceof Error ? errInfo(e) : String(e));
    });
    this.sock.on('message', (d) => {
      this.receivedCount++;
      const m = norm(d);
      if (this.onMessage) {
        this.onMessage(m);
        return;
      }
      const w = this.waiters.shift();
      if (w) w.resolve(m);
      else this.queue.push(m);
    });
    this.sock.on('close', (reason, desc) => {
      this.closed = true;
      this.closedAt = Date.now();
      this.closeReason = reason;
      this.closeDescription = safeDescription(desc);
      for (const w of this.waiters.splice(0)) w.reject(new Error('socket closed: ' + reason));
      for (const w of this._closeWaiters.splice(0)) w();
    });
  }

  open() {
    return this.openPromise;
  }

  send(d) {
    this.sock.send(d);
  }

  nextMessage() {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.closed) return Promise.reject(new Error('socket closed: ' + this.closeReason));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  waitClose() {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this._closeWaiters.push(resolve));
  }

  waitUpgrade(ms) {
    if (this.upgraded) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.sock.once('upgrade', () => { clearTimeout(t); resolve(true); });
    });
  }

  transportName() {
    return this.sock.transport ? this.sock.transport.name : null;
  }

  fill(r) {
    r.sid = this.sid;
    r.transport = this.transportName();
    r.upgraded = this.upgraded;
    if (this.upgradeErrors.length) r.upgradeErrors = this.upgradeErrors;
    if (this.errors.length) r.errors = this.errors;
    if (this.closed) {
      r.closeReason = this.closeReason;
      r.closeDescription = this.closeDescription;
    }
    r.received = this.receivedCount;
  }
}

let mainPeer = null;

function fillMain() {
  if (mainPeer) mainPeer.fill(result);
}

/*
 * Checks a stream of "<prefix>i" items for completeness and order.
 */
class StreamCheck {
  constructor(name, expected) {
    this.name = name;
    this.expected = expected;
    this.next = 0;
    this.count = 0;
    this.error = null;
  }

  push(i) {
    this.count++;
    if (this.error) return;
    if (i !== this.next) {
      this.error = this.name + ': expected item ' + this.next + ' got ' + i +
        (i < this.next ? ' (duplicate or reordered)' : ' (missing or reordered)');
      return;
    }
    this.next++;
  }

  done() {
    return this.count >= this.expected;
  }

  report() {
    return { count: this.count, inOrder: this.next, error: this.error };
  }
}

function textEq(a, b) {
  return a === b;
}

function jsonEq(a, b) {
  try {
    return JSON.stringify(canon(JSON.parse(a))) === JSON.stringify(canon(JSON.parse(b)));
  } catch (e) {
    return false;
  }
}

function canon(v) {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = canon(v[k]);
    return o;
  }
  return v;
}

// ---------------------------------------------------------------------------
// scenarios
// ---------------------------------------------------------------------------

const scenarios = {};

scenarios.echo = async () => {
  const p = mainPeer = new Peer(buildOptions());
  await p.open();
  const checks = [];
  result.checks = checks;

  async function roundTrip(name, payload, expectType, cmp) {
    p.send(payload);
    const m = await p.nextMessage();
    let ok = m.type === expectType;
    let why = ok ? null : 'expected ' + expectType + ' got ' + m.type;
    if (ok) {
      ok = cmp(m.data);
      if (!ok) {
        why = 'content mismatch: got ' + (m.type === 'binary' ? '[' + Array.from(m.data).join(',') + ']' : JSON.stringify(m.data));
      }
    }
    checks.push({ name, ok, error: why || undefined });
    if (!ok) throw new Error(name + ': ' + why);
  }

  await roundTrip('text', 'hello', 'text', (d) => textEq(d, 'hello'));
  const bin = Uint8Array.from([0, 1, 2, 253, 254, 255]);
  await roundTrip('binary', bin, 'binary', (d) => Buffer.compare(d, Buffer.from(bin)) === 0);
  const json = '{"a":1,"b":[1,2]}';
  await roundTrip('json', json, 'text', (d) => jsonEq(d, json));
  const uni = 'héllo ☃ 😀';
  await roundTrip('unicode', uni, 'text', (d) => textEq(d, uni));
  await roundTrip('sid', '__sid__', 'text', (d) => d === 'sid:' + p.sid);
  // Give a probing upgrade a moment to complete so that the report is
  // meaningful, without requiring it.
  if (TRANSPORTS.includes('websocket') && TRANSPORTS[0] !== 'websocket') {
    await p.waitUpgrade(1000);
  }
  fillMain();
  return true;
};

function parseIndexed(text, prefix) {
  if (!text.startsWith(prefix)) return null;
  const rest = text.slice(prefix.length);
  if (!/^[0-9]+$/.test(rest)) return null;
  return Number(rest);
}

scenarios.order = async () => {
  const N = 1000;
  const p = mainPeer = new Peer(buildOptions());
  await p.open();
  const c = new StreamCheck('echo stream c:', N);
  const s = new StreamCheck('burst stream s:', N);
  const unexpected = [];
  let resolveDone;
  const done = new Promise((r) => { resolveDone = r; });
  p.onMessage = (m) => {
    if (m.type !== 'text') {
      unexpected.push('binary(' + m.data.length + ')');
    } else {
      let i = parseIndexed(m.data, 'c:');
      if (i !== null) c.push(i);
      else if ((i = parseIndexed(m.data, 's:')) !== null) s.push(i);
      else if (unexpected.length < 10) unexpected.push(m.data);
      else unexpected.push('...');
    }
    if (c.done() && s.done()) resolveDone();
  };
  p.send('__burst__:' + N);
  for (let i = 0; i < N; i++) p.send('c:' + i);
  const closed = p.waitClose().then(() => { throw new Error('socket closed: ' + p.closeReason); });
  await Promise.race([done, closed]);
  await delay(200); // catch extra / duplicate messages
  result.echo = c.report();
  result.burst = s.report();
  result.unexpected = unexpected.slice(0, 10);
  fillMain();
  const errs = [c.error, s.error].filter(Boolean);
  if (c.count !== N) errs.push('echo count ' + c.count + ' != ' + N);
  if (s.count !== N) errs.push('burst count ' + s.count + ' != ' + N);
  if (unexpected.length) errs.push('unexpected messages: ' + JSON.stringify(unexpected.slice(0, 5)));
  if (errs.length) throw new Error(errs.join('; '));
  return true;
};

scenarios['binary-order'] = async () => {
  const N = 200;
  const p = mainPeer = new Peer(buildOptions());
  await p.open();
  const b = new StreamCheck('binary stream', N);
  const unexpected = [];
  let resolveDone;
  const done = new Promise((r) => { resolveDone = r; });
  p.onMessage = (m) => {
    if (m.type !== 'binary') {
      unexpected.push(m.type + ':' + String(m.data).slice(0, 40));
    } else if (m.data.length !== 4) {
      unexpected.push('binary of length ' + m.data.length);
    } else {
      b.push(m.data.readUInt32BE(0));
    }
    if (b.done()) resolveDone();
  };
  for (let i = 0; i < N; i++) {
    const buf = Buffer.alloc(4);
    buf.writeUInt32BE(i, 0);
    p.send(buf);
  }
  const closed = p.waitClose().then(() => { throw new Error('socket closed: ' + p.closeReason); });
  await Promise.race([done, closed]);
  await delay(200);
  result.binary = b.report();
  result.unexpected = unexpected.slice(0, 10);
  fillMain();
  const errs = [b.error].filter(Boolean);
  if (b.count !== N) errs.push('count ' + b.count + ' != ' + N);
  if (unexpected.length) errs.push('unexpected messages: ' + JSON.stringify(unexpected.slice(0, 5)));
  if (errs.length) throw new Error(errs.join('; '));
  return true;
};

scenarios['server-close'] = async () => {
  const p = mainPeer = new Peer(buildOptions());
  await p.open();
  const t0 = Date.now();
  p.send('__close__');
  await p.waitClose();
  result.closeAfterMs = Date.now() - t0;
  fillMain();
  return true;
};

scenarios['client-close'] = async () => {
  const p = mainPeer = new Peer(buildOptions());
  await p.open();
  const t0 = Date.now();
  p.sock.close();
  await p.waitClose();
  result.closeAfterMs = Date.now() - t0;
  fillMain();
  return true;
};

scenarios.upgrade = async () => {
  if (!(TRANSPORTS.includes('polling') && TRANSPORTS.includes('websocket') && TRANSPORTS[0] === 'polling')) {
    throw new Error('upgrade scenario needs --transports polling,websocket (got ' + TRANSPORTS.join(',') + ')');
  }
  const N = 200;
  const INTERVAL_MS = 4;
  const p = mainPeer = new Peer(buildOptions());
  await p.open();
  const u = new StreamCheck('u:', N);
  const unexpected = [];
  let resolveDone;
  const done = new Promise((r) => { resolveDone = r; });
  p.onMessage = (m) => {
    let i;
    if (m.type === 'text' && (i = parseIndexed(m.data, 'u:')) !== null) u.push(i);
    else unexpected.push(m.type === 'text' ? m.data.slice(0, 40) : 'binary');
    if (u.done()) resolveDone();
  };
  let sent = 0;
  let sentBeforeUpgrade = null;
  p.sock.on('upgrade', () => { sentBeforeUpgrade = sent; });
  let sentDuringUpgrade = 0;
  const iv = setInterval(() => {
    if (p.closed || sent >= N) {
      clearInterval(iv);
      return;
    }
    // 'upgrading' is set by engine.io-client while the polling transport is
    // paused for the switch; messages sent then are buffered by the client.
    if (p.sock.upgrading) sentDuringUpgrade++;
    p.send('u:' + sent);
    sent++;
  }, INTERVAL_MS);
  const closed = p.waitClose().then(() => { throw new Error('socket closed: ' + p.closeReason); });
  await Promise.race([done, closed]);
  const upgraded = await Promise.race([p.waitUpgrade(Math.max(0, TIMEOUT_MS - 500)), closed]);
  await delay(200);
  clearInterval(iv);
  result.sent = sent;
  result.sentBeforeUpgrade = sentBeforeUpgrade;
  result.sentDuringUpgrade = sentDuringUpgrade;
  result.upgradeAfterOpenMs = p.upgradeAt ? p.upgradeAt - p.openedAt : null;
  result.echo = u.report();
  result.unexpected = unexpected.slice(0, 10);
  fillMain();
  const errs = [u.error].filter(Boolean);
  if (!upgraded) errs.push('no upgrade event');
  if (p.transportName() !== 'websocket') errs.push('final transport is ' + p.transportName());
  if (u.count !== N) errs.push('count ' + u.count + ' != ' + N);
  if (unexpected.length) errs.push('unexpected messages: ' + JSON.stringify(unexpected.slice(0, 5)));
  if (errs.length) throw new Error(errs.join('; '));
  return true;
};

scenarios['no-pong'] = async () => {
  const p = mainPeer = new Peer(buildOptions());
  const sock = p.sock;
  // Install the patches right away (before any ping can arrive).
  if (typeof sock._sendPacket !== 'function') {
    throw new Error('engine.io-client Socket has no _sendPacket method; cannot drop pongs');
  }
  let droppedPongs = 0;
  let pings = 0;
  let lastPingAt = null;
  const origSendPacket = sock._sendPacket;
  sock._sendPacket = function (type, ...rest) {
    if (type === 'pong') {
      droppedPongs++;
      return undefined;
    }
    return origSendPacket.call(this, type, ...rest);
  };
  // Client-side heartbeat watchdog: neutralise it so the client never gives
  // up by itself ("ping timeout" would then come from the client).
  sock._resetPingTimeout = function () {
    this.clearTimeoutFn(this._pingTimeoutTimer);
    this._pingTimeoutTime = Infinity;
  };
  sock._hasPingExpired = function () {
    return false;
  };
  sock.on('ping', () => {
    pings++;
    lastPingAt = Date.now();
  });
  await p.open();
  sock._resetPingTimeout();
  await p.waitClose();
  const now = p.closedAt || Date.now();
  result.pingsReceived = pings;
  result.droppedPongs = droppedPongs;
  result.msSinceLastPing = lastPingAt ? now - lastPingAt : null;
  result.msSinceOpen = now - p.openedAt;
  if (p.handshake) {
    result.pingInterval = p.handshake.pingInterval;
    result.pingTimeout = p.handshake.pingTimeout;
  }
  fillMain();
  if (p.closeReason === 'ping timeout') {
    throw new Error('client closed by its own ping timeout (patch ineffective)');
  }
  if (pings === 0) {
    throw new Error('closed before any ping was received');
  }
  return true;
};

scenarios.handshake = async () => {
  const p = mainPeer = new Peer(buildOptions());
  await p.open();
  const hs = p.handshake || {};
  result.handshake = {
    sid: hs.sid,
    upgrades: hs.upgrades,
    pingInterval: hs.pingInterval,
    pingTimeout: hs.pingTimeout,
    maxPayload: hs.maxPayload,
  };
  result.pingInterval = hs.pingInterval;
  result.pingTimeout = hs.pingTimeout;
  result.maxPayload = hs.maxPayload;
  result.upgrades = hs.upgrades;
  result.handshakeKeys = Object.keys(hs).sort();
  fillMain();
  p.sock.close();
  await p.waitClose();
  fillMain();
  if (typeof hs.sid !== 'string' || !hs.sid) throw new Error('handshake without sid');
  return true;
};

scenarios.many = async () => {
  const K = 20;
  const N = 50;
  const peers = [];
  for (let k = 0; k < K; k++) peers.push(new Peer(buildOptions(), 'p' + k));
  result.sockets = K;
  result.messagesPerSocket = N;
  const runOne = async (p, k) => {
    await p.open();
    const chk = new StreamCheck('socket ' + k, N);
    let resolveDone;
    const done = new Promise((r) => { resolveDone = r; });
    const prefix = 'm:' + k + ':';
    p.onMessage = (m) => {
      const i = m.type === 'text' ? parseIndexed(m.data, prefix) : null;
      if (i === null) chk.error = chk.error || ('socket ' + k + ': unexpected message ' + JSON.stringify(String(m.data).slice(0, 40)));
      else chk.push(i);
      if (chk.done()) resolveDone();
    };
    for (let i = 0; i < N; i++) p.send(prefix + i);
    const closed = p.waitClose().then(() => { throw new Error('socket ' + k + ' closed: ' + p.closeReason); });
    await Promise.race([done, closed]);
    if (chk.error) throw new Error(chk.error);
    return chk;
  };
  const outcomes = await Promise.allSettled(peers.map((p, k) => runOne(p, k)));
  await delay(100);
  const sids = new Set(peers.map((p) => p.sid).filter(Boolean));
  result.completed = outcomes.filter((o) => o.status === 'fulfilled').length;
  result.distinctSids = sids.size;
  result.received = peers.reduce((a, p) => a + p.receivedCount, 0);
  result.finalTransports = {};
  for (const p of peers) {
    const t = p.transportName();
    result.finalTransports[t] = (result.finalTransports[t] || 0) + 1;
  }
  result.upgradedCount = peers.filter((p) => p.upgraded).length;
  for (const p of peers) p.sock.close();
  await Promise.all(peers.map((p) => p.waitClose()));
  result.closeReasons = {};
  for (const p of peers) result.closeReasons[p.closeReason] = (result.closeReasons[p.closeReason] || 0) + 1;
  const failed = outcomes.filter((o) => o.status === 'rejected').map((o) => o.reason.message);
  if (failed.length) throw new Error(failed.length + ' sockets failed: ' + failed.slice(0, 3).join(' | '));
  if (sids.size !== K) throw new Error('expected ' + K + ' distinct sids, got ' + sids.size);
  return true;
};

// upgrade-load: --sockets K clients (default 100), each sending "u:<k>:<i>"
// every few ms across its upgrade and asking the server for a burst of 100
// messages while upgrading; every echo and every burst message must arrive
// exactly once and in order on every socket, and every socket must upgrade.
scenarios['upgrade-load'] = async () => {
  const K = args.sockets ? Number(args.sockets) : 100;
  const N = 100;
  const peers = [];
  for (let k = 0; k < K; k++) peers.push(new Peer(buildOptions(), 'p' + k));
  result.sockets = K;
  const runOne = async (p, k) => {
    await p.open();
    const prefix = 'u:' + k + ':';
    const echo = new StreamCheck('echo ' + k, N);
    const burst = new StreamCheck('burst ' + k, N);
    let resolveDone;
    const done = new Promise((r) => { resolveDone = r; });
    p.onMessage = (m) => {
      let i;
      if (m.type === 'text' && (i = parseIndexed(m.data, prefix)) !== null) echo.push(i);
      else if (m.type === 'text' && (i = parseIndexed(m.data, 's:')) !== null) burst.push(i);
      else echo.error = echo.error || ('unexpected ' + String(m.data).slice(0, 40));
      if (echo.done() && burst.done()) resolveDone();
    };
    let sent = 0;
    const iv = setInterval(() => {
      if (p.closed || sent >= N) { clearInterval(iv); return; }
      if (sent === 5) p.send('__burst__:' + N);
      p.send(prefix + sent);
      sent++;
    }, 3);
    const closed = p.waitClose().then(() => { throw new Error('socket ' + k + ' closed: ' + p.closeReason); });
    await Promise.race([done, closed]);
    clearInterval(iv);
    const upgraded = await Promise.race([p.waitUpgrade(5000), closed]);
    if (echo.error || burst.error) throw new Error(echo.error || burst.error);
    if (!upgraded) throw new Error('socket ' + k + ' did not upgrade');
    return true;
  };
  const outcomes = await Promise.allSettled(peers.map((p, k) => runOne(p, k)));
  result.completed = outcomes.filter((o) => o.status === 'fulfilled').length;
  result.upgradedCount = peers.filter((p) => p.upgraded).length;
  result.received = peers.reduce((a, p) => a + p.receivedCount, 0);
  for (const p of peers) p.sock.close();
  await Promise.all(peers.map((p) => p.waitClose()));
  const failed = outcomes.filter((o) => o.status === 'rejected').map((o) => o.reason.message);
  if (failed.length) throw new Error(failed.length + ' sockets failed: ' + failed.slice(0, 3).join(' | '));
  return true;
};

// ---------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------

async function main() {
  if (!URL_ARG) return finish(false, 'missing --url', 2);
  if (!SCENARIO || !scenarios[SCENARIO]) {
    return finish(false, 'unknown or missing --scenario (one of: ' + Object.keys(scenarios).join(', ') + ')', 2);
  }
  if (!Number.isFinite(TIMEOUT_MS) || TIMEOUT_MS <= 0) return finish(false, 'bad --timeout-ms', 2);
  try {
    buildOptions();
  } catch (e) {
    return finish(false, 'bad option: ' + e.message, 2);
  }
  // Hard timeout: deliberately ref'd, finish() calls process.exit.
  setTimeout(() => {
    fillMain();
    finish(false, 'timeout');
  }, TIMEOUT_MS);
  try {
    await scenarios[SCENARIO]();
    finish(true);
  } catch (e) {
    fillMain();
    finish(false, e && e.message ? e.message : String(e));
  }
}

process.on('beforeExit', () => {
  if (!finished) finish(false, 'event loop drained before the scenario finished');
});
process.on('uncaughtException', (e) => {
  fillMain();
  finish(false, 'uncaught exception: ' + (e && e.stack ? e.stack.split('\n').slice(0, 3).join(' / ') : String(e)));
});
process.on('unhandledRejection', (e) => {
  fillMain();
  finish(false, 'unhandled rejection: ' + (e && e.message ? e.message : String(e)));
});

if (!finished) main();
