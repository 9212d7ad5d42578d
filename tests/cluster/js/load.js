#!/usr/bin/env node
'use strict';
/*
 * Load for the cluster tests: C clients of the official `engine.io-client`
 * against one URL (normally HAProxy in front of several server processes
 * serving the echo app, tests/servers/echo_app.py), each sending M numbered
 * messages and checking the echoes.
 *
 * Usage:
 *   node load.js --url http://127.0.0.1:PORT
 *       [--clients 10] [--messages 20] [--gap-ms 0]
 *       [--transports polling|websocket|polling,websocket]
 *       [--upgrade true|false] [--hold-ms 0] [--ping-check]
 *       [--path /engine.io/] [--timeout-ms 30000]
 *
 * Client c sends message i (0 <= i < M) every --gap-ms ms from its 'open'
 * on: text "t:<c>:<i>" for even i, for odd i a binary message of 8 bytes,
 * c and i as big-endian uint32.  The echo app sends each back unchanged.
 * A client is done when it has M distinct echoes; it then stays connected
 * --hold-ms ms more (so heartbeats happen) and closes.  --ping-check also
 * requires every client to see at least one server ping during the hold.
 *
 * --transports defaults to "polling,websocket" (upgrade on, as the official
 * client does); "websocket" alone connects with WebSocket directly.
 *
 * Output: one JSON line on stdout, exit code 0 (2 for a bad command line):
 *   {"ok", "clients", "messages", "transports_requested", "ping_check",
 *    "opened", "sent", "received", "duplicates", "out_of_order",
 *    "type_mismatch", "unexpected", "missing", "closes", "errors",
 *    "upgrade_errors", "upgraded", "pings", "transports":
 *    {"websocket": n, ...}, "timeout", "elapsed_ms", "per_client": [...]}
 * where "closes" counts 'close' events the script did not cause itself and
 * "transports" the transport each client was on when it finished (or when
 * the run ended).  Per client: id, sid, transport, upgraded, sent,
 * ok, sid, opened, transport, upgraded, sent, received (distinct echoes),
 * duplicates, out_of_order, type_mismatch, unexpected, missing, closes,
 * close_reasons, errors, upgrade_errors, pings, pings_in_hold, done.
 * Everything is bounded by --timeout-ms: a run that reaches it prints what
 * it has with "timeout": true and "ok": false.
 */

const path = require('path');
const { createRequire } = require('module');

// The npm peers live in tests/js/node_modules; resolve from there.
const jsRequire = createRequire(path.join(__dirname, '..', '..', 'js', 'package.json'));
const { Socket } = jsRequire('engine.io-client');

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]', '::1'];
const FLAGS = ['ping-check'];
const DEFAULTS = {
  url: null,
  clients: '10',
  messages: '20',
  'gap-ms': '0',
  transports: 'polling,websocket',
  upgrade: null,
  'hold-ms': '0',
  'ping-check': false,
  path: null,
  'timeout-ms': '30000',
};

function usage(msg) {
  process.stderr.write(msg + '\n');
  process.stdout.write(JSON.stringify({ ok: false, error: msg }) + '\n',
    () => process.exit(2));
}

function parseArgs(argv) {
  const out = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) return usage('unexpected argument ' + a);
    let key = a.slice(2);
    let value;
    const eq = key.indexOf('=');
    if (eq !== -1) {
      value = key.slice(eq + 1);
      key = key.slice(0, eq);
    }
    if (!(key in DEFAULTS)) return usage('unknown argument ' + a);
    if (FLAGS.includes(key)) {
      out[key] = value === undefined ? true : !['false', '0', 'no'].includes(value);
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) return usage('missing value for ' + a);
      value = argv[++i];
    }
    out[key] = value;
  }
  if (!out.url) return usage('--url is required');
  if (!LOOPBACK.includes(new URL(out.url).hostname)) {
    return usage('only loopback URLs are accepted');
  }
  for (const k of ['clients', 'messages', 'gap-ms', 'hold-ms', 'timeout-ms']) {
    const n = Number(out[k]);
    if (!Number.isInteger(n) || n < 0) return usage(`--${k} must be an integer >= 0`);
    out[k] = n;
  }
  if (out.clients < 1 || out.clients > 2000) return usage('--clients must be 1..2000');
  if (out.messages > 1000000) return usage('--messages too large');
  out.transports = out.transports.split(',').map((s) => s.trim()).filter(Boolean);
  for (const t of out.transports) {
    if (!['polling', 'websocket'].includes(t)) return usage('unknown transport ' + t);
  }
  if (!out.transports.length) return usage('--transports is empty');
  return out;
}

const args = parseArgs(process.argv.slice(2));
if (!args) return; // usage() is exiting

const C = args.clients;
const M = args.messages;
const started = Date.now();
let finished = false;

function errInfo(e) {
  if (e === undefined || e === null) return null;
  if (typeof e !== 'object') return String(e);
  const o = { message: String(e.message) };
  const d = e.description;
  if (d !== undefined && d !== null) {
    if (['string', 'number', 'boolean'].includes(typeof d)) o.description = d;
    else if (typeof d.message === 'string') o.description = d.message;
    else o.description = String(d);
  }
  return o;
}

function toBuffer(d) {
  if (Buffer.isBuffer(d)) return d;
  if (d instanceof ArrayBuffer) return Buffer.from(new Uint8Array(d));
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return null;
}

function binaryMessage(c, i) {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(c, 0);
  b.writeUInt32BE(i, 4);
  return b;
}

class Client {
  constructor(id) {
    this.id = id;
    this.sid = null;
    this.opened = false;
    this.upgraded = false;
    this.sent = 0;
    this.seen = new Uint8Array(M);
    this.received = 0;
    this.next = 0; // the index the next in-order echo must carry
    this.duplicates = 0;
    this.outOfOrder = 0;
    this.typeMismatch = 0;
    this.unexpected = [];
    this.closes = 0;
    this.closeReasons = [];
    this.errors = [];
    this.upgradeErrors = [];
    this.pings = 0;
    this.pingsInHold = 0;
    this.holding = false;
    this.closing = false; // the script itself closes the socket
    this.done = false; // echoes complete, hold over
    this.ended = false; // done, or closed by the other side
    this.transport = null;
    this.timers = [];

    const opts = {
      transports: args.transports,
      rememberUpgrade: false,
      tryAllTransports: false,
    };
    if (args.upgrade !== null) opts.upgrade = !['false', '0', 'no'].includes(args.upgrade);
    if (args.path) opts.path = args.path;
    this.sock = new Socket(args.url, opts);
    this.sock.on('open', () => this.onOpen());
    this.sock.on('message', (d) => this.onMessage(d));
    this.sock.on('upgrade', () => { this.upgraded = true; });
    this.sock.on('upgradeError', (e) => {
      // A probe cut short by the script's own close is no error.
      if (this.closing) return;
      if (this.upgradeErrors.length < 10) this.upgradeErrors.push(errInfo(e));
    });
    this.sock.on('ping', () => {
      this.pings++;
      if (this.holding) this.pingsInHold++;
    });
    this.sock.on('error', (e) => {
      if (this.errors.length < 20) this.errors.push(errInfo(e));
      else this.errors.push(null);
    });
    this.sock.on('close', (reason, desc) => {
      if (this.closing) return;
      this.closes++;
      this.closeReasons.push({ reason: String(reason), description: errInfo(desc),
        at_ms: Date.now() - started });
      this.end();
    });
  }

  onOpen() {
    this.opened = true;
    this.sid = this.sock.id;
    if (M === 0) {
      this.complete();
      return;
    }
    if (args['gap-ms'] === 0) {
      for (let i = 0; i < M; i++) this.sendOne(i);
    } else {
      let i = 0;
      const tick = () => {
        if (this.ended || i >= M) return;
        this.sendOne(i++);
        if (i < M) this.timers.push(setTimeout(tick, args['gap-ms']));
      };
      tick();
    }
  }

  sendOne(i) {
    if (this.ended) return;
    this.sock.send(i % 2 === 0 ? `t:${this.id}:${i}` : binaryMessage(this.id, i));
    this.sent++;
  }

  onMessage(d) {
    let i;
    let binary;
    if (typeof d === 'string') {
      const m = /^t:(\d+):(\d+)$/.exec(d);
      if (!m || Number(m[1]) !== this.id) return this.unexpectedMessage(d);
      i = Number(m[2]);
      binary = false;
    } else {
      const b = toBuffer(d);
      if (!b || b.length !== 8 || b.readUInt32BE(0) !== this.id) {
        return this.unexpectedMessage(b ? 'binary:' + b.toString('hex') : String(d));
      }
      i = b.readUInt32BE(4);
      binary = true;
    }
    if (i >= M) return this.unexpectedMessage(String(d));
    if (binary !== (i % 2 === 1)) this.typeMismatch++;
    if (this.seen[i]) {
      this.duplicates++;
      return;
    }
    this.seen[i] = 1;
    this.received++;
    if (i !== this.next) this.outOfOrder++;
    this.next = i + 1;
    if (this.received === M) this.complete();
  }

  unexpectedMessage(d) {
    if (this.unexpected.length < 20) this.unexpected.push(String(d).slice(0, 80));
  }

  complete() {
    if (this.ended) return;
    this.transport = this.sock.transport ? this.sock.transport.name : null;
    if (args['hold-ms'] > 0) {
      this.holding = true;
      this.timers.push(setTimeout(() => {
        this.holding = false;
        this.finishOk();
      }, args['hold-ms']));
    } else {
      this.finishOk();
    }
  }

  finishOk() {
    if (this.ended) return;
    this.transport = this.sock.transport ? this.sock.transport.name : null;
    this.done = true;
    this.end();
  }

  end() {
    if (this.ended) return;
    this.ended = true;
    if (!this.transport && this.sock.transport) this.transport = this.sock.transport.name;
    for (const t of this.timers) clearTimeout(t);
    this.closeSocket();
    checkAllEnded();
  }

  closeSocket() {
    if (this.closing) return;
    this.closing = true;
    try {
      if (this.sock.readyState === 'open' || this.sock.readyState === 'opening') this.sock.close();
    } catch (e) { /* closing anyway */ }
  }

  ok() {
    return this.done && this.received === M && this.duplicates === 0
      && this.outOfOrder === 0 && this.typeMismatch === 0
      && this.unexpected.length === 0 && this.closes === 0
      && this.errors.length === 0
      && (!args['ping-check'] || this.pingsInHold > 0);
  }

  report() {
    return {
      id: this.id,
      ok: this.ok(),
      sid: this.sid,
      opened: this.opened,
      transport: this.transport
        || (this.sock.transport ? this.sock.transport.name : null),
      upgraded: this.upgraded,
      sent: this.sent,
      received: this.received,
      duplicates: this.duplicates,
      out_of_order: this.outOfOrder,
      type_mismatch: this.typeMismatch,
      unexpected: this.unexpected,
      missing: M - this.received,
      closes: this.closes,
      close_reasons: this.closeReasons,
      errors: this.errors,
      upgrade_errors: this.upgradeErrors,
      pings: this.pings,
      pings_in_hold: this.pingsInHold,
      done: this.done,
    };
  }
}

const clients = [];

function report(timeout) {
  const per = clients.map((c) => c.report());
  const sum = (k) => per.reduce((a, p) => a + (typeof p[k] === 'number' ? p[k] : p[k].length), 0);
  const transports = {};
  for (const p of per) {
    const t = p.transport || 'none';
    transports[t] = (transports[t] || 0) + 1;
  }
  return {
    ok: !timeout && per.length === C && per.every((p) => p.ok),
    clients: C,
    messages: M,
    transports_requested: args.transports,
    ping_check: args['ping-check'],
    opened: per.filter((p) => p.opened).length,
    sent: sum('sent'),
    received: sum('received'),
    duplicates: sum('duplicates'),
    out_of_order: sum('out_of_order'),
    type_mismatch: sum('type_mismatch'),
    unexpected: sum('unexpected'),
    missing: sum('missing'),
    closes: sum('closes'),
    errors: sum('errors'),
    upgrade_errors: sum('upgrade_errors'),
    upgraded: per.filter((p) => p.upgraded).length,
    pings: sum('pings'),
    transports,
    timeout,
    elapsed_ms: Date.now() - started,
    per_client: per,
  };
}

function finish(timeout) {
  if (finished) return;
  finished = true;
  let line;
  try {
    line = JSON.stringify(report(timeout));
  } catch (e) {
    line = JSON.stringify({ ok: false, error: 'report failed: ' + e.message });
  }
  for (const c of clients) c.closeSocket();
  // Let the close packets go out, then exit whatever is still pending.
  process.stdout.write(line + '\n', () => setTimeout(() => process.exit(0), 200));
  setTimeout(() => process.exit(0), 2000).unref();
}

function checkAllEnded() {
  if (clients.length === C && clients.every((c) => c.ended)) finish(false);
}

setTimeout(() => finish(true), args['timeout-ms']).unref();
// Keeps the process alive until finish() even if every socket is idle.
const keepAlive = setInterval(() => {}, 1000);
process.on('exit', () => clearInterval(keepAlive));

for (let c = 0; c < C; c++) clients.push(new Client(c));
checkAllEnded();
