'use strict';
// Load generator of benchmarks/run.py: speaks Engine.IO v4 itself over `ws`
// and `http`, so the client side costs as little as possible.
//
//   node loadgen.js ws-echo  --port P --conns N --payload text16|text1k|bin16
//   node loadgen.js polling  --port P --clients N --payload text16 [--raw]
//   node loadgen.js sessions --port P --concurrency N
//   node loadgen.js idle     --port P --sessions N
//
// Common options: --path (default /engine.io/), --warmup S, --duration S,
// --server-pid PID[,PID...] (its CPU time is read from /proc at the window's
// edges; several pids, e.g. the worker processes of one server sharing a
// port, are added up and also reported one by one), --clk-tck HZ.  ws-echo also takes --start-at EPOCH_MS (the measured window
// starts then instead of after --warmup: several load generator processes
// splitting the connections measure the same window) and --hist (adds a
// histogram of the round trips, 2% buckets, so that processes can be
// merged).  polling --raw sends its requests over two raw keep-alive TCP
// connections per client (one for the GETs, one for the POSTs) instead of
// Node's `http` client, which costs the generator about as much CPU as the
// fastest servers spend.  Every scenario prints one JSON line on stdout.  Every loop is
// bounded by a deadline, and the only peer is 127.0.0.1.

const fs = require('fs');
const http = require('http');
const net = require('net');
const { performance } = require('perf_hooks');
const WebSocket = require('ws');

const HOST = '127.0.0.1';

function parseArgs(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const key = a.slice(2).replace(/-/g, '_');
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        out[key] = true;
      } else {
        out[key] = next;
        i++;
      }
    } else {
      out._.push(a);
    }
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const CMD = args._[0];
const PORT = Number(args.port);
const PATH = args.path || '/engine.io/';
const WARMUP = Number(args.warmup ?? 1);
const DURATION = Number(args.duration ?? 5);
const SERVER_PIDS = args.server_pid ? String(args.server_pid).split(',').map(Number) : [];
const CLK_TCK = Number(args.clk_tck || 100);
// A hard stop whatever happens: nothing here runs longer than this.
const START_AT = args.start_at ? Number(args.start_at) : 0;
const HARD_LIMIT_S = Number(args.hard_limit || (WARMUP + DURATION + 120 +
  (START_AT ? Math.max(0, (START_AT - Date.now()) / 1000) : 0)));

if (!PORT) {
  console.error('--port is required');
  process.exit(2);
}

const hardTimer = setTimeout(() => {
  console.error(`loadgen: hard limit of ${HARD_LIMIT_S}s reached`);
  process.exit(3);
}, HARD_LIMIT_S * 1000);
hardTimer.unref();

// -- measurement helpers ---------------------------------------------------
function processCpu(pid) {
  // utime + stime of the whole process (all threads), in seconds.
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch (e) {
    return null;
  }
}

function serverCpus() {
  // One reading per server process; null if any of them is gone (a sum
  // without it would look like a cheaper server).
  if (!SERVER_PIDS.length) return null;
  const out = SERVER_PIDS.map(processCpu);
  return out.includes(null) ? null : out;
}

function serverRssKb() {
  if (!SERVER_PIDS.length) return null;
  let total = 0;
  for (const pid of SERVER_PIDS) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (!m) return null;
      total += Number(m[1]);
    } catch (e) {
      return null;
    }
  }
  return total;
}

function coreTimes() {
  // Per-core [busy, total] jiffies from /proc/stat (softirq included: the
  // loopback network work is not charged to any process).
  const out = {};
  try {
    for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
      const m = /^cpu(\d+)\s+(.*)$/.exec(line);
      if (!m) continue;
      const f = m[2].trim().split(/\s+/).map(Number);
      const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
      out[m[1]] = [total - f[3] - f[4], total];
    }
  } catch (e) { /* not Linux */ }
  return out;
}

class Latencies {
  constructor(cap) {
    this.a = new Float64Array(cap);
    this.n = 0;
    this.dropped = 0;
  }

  add(ms) {
    if (this.n < this.a.length) this.a[this.n++] = ms;
    else this.dropped++;
  }

  summary() {
    const s = this.a.subarray(0, this.n).sort();
    const pick = (p) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : null);
    const out = { samples: this.n, p50_ms: pick(0.5), p90_ms: pick(0.9), p99_ms: pick(0.99),
      max_ms: s.length ? s[s.length - 1] : null };
    if (args.hist) out.hist = this.histogram(s);
    return out;
  }

  histogram(sorted) {
    // Sparse {bucket: count}; bucket b holds round trips of
    // [1.02^b, 1.02^(b+1)) microseconds (run.py merges and reads these).
    const h = {};
    for (let i = 0; i < sorted.length; i++) {
      const b = Math.floor(Math.log(Math.max(1, sorted[i] * 1000)) / Math.log(1.02));
      h[b] = (h[b] || 0) + 1;
    }
    return h;
  }
}

class Window {
  // The measured interval: server CPU, our own CPU and wall time.
  start() {
    this.t0 = performance.now();
    this.cpu0 = serverCpus();
    this.self0 = process.cpuUsage();
    this.cores0 = coreTimes();
  }

  stop() {
    this.t1 = performance.now();
    this.cpu1 = serverCpus();
    this.self1 = process.cpuUsage(this.self0);
    this.cores1 = coreTimes();
  }

  report(count) {
    const secs = (this.t1 - this.t0) / 1000;
    const out = {
      seconds: secs,
      count,
      rate: count / secs,
      loadgen_cpu_pct: 100 * (this.self1.user + this.self1.system) / 1e6 / secs,
    };
    for (const k of Object.keys(this.cores1)) {
      const a = this.cores0[k];
      const b = this.cores1[k];
      if (a && b && b[1] > a[1]) out[`core${k}_busy_pct`] = 100 * (b[0] - a[0]) / (b[1] - a[1]);
    }
    if (this.cpu0 !== null && this.cpu1 !== null) {
      const each = this.cpu1.map((c, i) => c - this.cpu0[i]);
      const cpu = each.reduce((a, b) => a + b, 0);
      out.server_cpu_s = cpu;
      out.server_cpu_pct = 100 * cpu / secs;
      out.server_cpu_us_per_op = count ? 1e6 * cpu / count : null;
      if (each.length > 1) out.server_cpu_pct_per_pid = each.map((c) => 100 * c / secs);
    }
    return out;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function wsUrl() {
  const sep = PATH.includes('?') ? '&' : '?';
  return `ws://${HOST}:${PORT}${PATH}${sep}EIO=4&transport=websocket`;
}

function pollUrl(sid) {
  const sep = PATH.includes('?') ? '&' : '?';
  return `${PATH}${sep}EIO=4&transport=polling${sid ? '&sid=' + sid : ''}`;
}

function makePayload(kind) {
  // The message as it goes on the wire: Engine.IO v4 text messages are
  // "4" + data, binary messages are the raw bytes of a binary frame.
  if (kind === 'text16') return { frame: Buffer.from('4' + 'abcdefghijklmnop'), binary: false };
  if (kind === 'text1k') return { frame: Buffer.from('4' + 'x'.repeat(1024)), binary: false };
  if (kind === 'bin16') return { frame: Buffer.from('0123456789abcdef'), binary: true };
  throw new Error(`unknown payload ${kind}`);
}

const WS_OPTIONS = { perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 };
const PING = 0x32; // '2'
const OPEN = 0x30; // '0'
const MESSAGE = 0x34; // '4'
const PONG_FRAME = Buffer.from('3');

// Open one Engine.IO WebSocket session: resolves once the open packet came.
function openSession(timeoutMs) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const ws = new WebSocket(wsUrl(), WS_OPTIONS);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('open timeout'));
    }, timeoutMs);
    ws.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    ws.once('message', (data, isBinary) => {
      clearTimeout(timer);
      if (isBinary || data[0] !== OPEN) {
        ws.terminate();
        reject(new Error('first frame is not an open packet'));
        return;
      }
      ws.removeAllListeners('error');
      resolve({ ws, ms: performance.now() - t0 });
    });
  });
}

// Run `make` `total` times with at most `concurrency` in flight.
async function openMany(total, concurrency, make) {
  const results = [];
  const errors = [];
  let next = 0;
  async function worker() {
    while (next < total) {
      next++;
      try {
        results.push(await make());
      } catch (e) {
        errors.push(String(e && e.message || e));
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return { results, errors };
}

function closeAll(sockets, timeoutMs) {
  return new Promise((resolve) => {
    let open = 0;
    for (const ws of sockets) {
      if (ws.readyState === WebSocket.CLOSED) continue;
      open++;
      ws.once('close', () => {
        if (--open === 0) resolve();
      });
      try { ws.close(); } catch (e) { /* already closing */ }
    }
    if (open === 0) resolve();
    setTimeout(() => {
      for (const ws of sockets) ws.terminate();
      resolve();
    }, timeoutMs).unref();
  });
}

// -- ws-echo: closed loop per connection -------------------------------------
async function wsEcho() {
  const conns = Number(args.conns || 1);
  const { frame, binary } = makePayload(args.payload || 'text16');
  const expectLen = frame.length;
  const sendOpts = { binary, compress: false };
  const opened = await openMany(conns, Number(args.open_concurrency || 50),
    () => openSession(10000));
  const sockets = opened.results.map((r) => r.ws);
  if (sockets.length < conns) {
    emit({ error: `opened ${sockets.length}/${conns} sessions`, errors: opened.errors.slice(0, 5) });
    await closeAll(sockets, 2000);
    process.exit(1);
  }
  const lat = new Latencies(4 * 1024 * 1024);
  let running = true;
  let measuring = false;
  let count = 0;
  let bad = 0;
  let dropped = 0;
  for (const ws of sockets) {
    let sentAt = 0;
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        const c = data[0];
        if (c === PING) {
          ws.send(PONG_FRAME, { binary: false });
          return;
        }
        if (c !== MESSAGE) return; // noop and others
      }
      if (data.length !== expectLen) bad++;
      const now = performance.now();
      if (measuring) {
        count++;
        lat.add(now - sentAt);
      }
      if (running) {
        sentAt = now;
        ws.send(frame, sendOpts);
      }
    });
    ws.on('close', () => {
      if (running) dropped++;
    });
    ws.on('error', () => {});
    sentAt = performance.now();
    ws.send(frame, sendOpts);
  }
  const win = new Window();
  await sleep(START_AT ? Math.max(0, START_AT - Date.now()) : WARMUP * 1000);
  const late_ms = START_AT ? Math.max(0, Date.now() - START_AT) : 0;
  win.start();
  measuring = true;
  await sleep(DURATION * 1000);
  measuring = false;
  win.stop();
  running = false;
  const rssKb = serverRssKb();
  await closeAll(sockets, 3000);
  emit({ scenario: 'ws-echo', conns, payload: args.payload || 'text16', ...win.report(count),
    ...lat.summary(), bad_frames: bad, dropped_connections: dropped, server_rss_kb: rssKb,
    start_late_ms: late_ms });
}

// -- polling: closed loop per client over HTTP long-polling -------------------
function httpRequest(agent, method, path, body) {
  return new Promise((resolve, reject) => {
    const headers = {};
    if (body !== undefined) {
      headers['Content-Type'] = 'text/plain;charset=UTF-8';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const req = http.request({ host: HOST, port: PORT, method, path, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(60000, () => req.destroy(new Error('request timeout')));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// A minimal HTTP/1.1 client on one keep-alive TCP connection, one request
// at a time: a fixed request head, the answer's status, Content-Length or
// chunked body (or a body up to the close).  Enough for the polling
// scenario against the servers of run.py, at a fraction of the CPU of
// Node's `http` client.  It reconnects when the server closed the
// connection.
class RawHttp {
  constructor() {
    this.sock = null;
    this.buf = null;
    this.waiting = null;
  }

  connect() {
    const sock = net.connect(PORT, HOST);
    sock.setNoDelay(true);
    sock.on('data', (chunk) => {
      this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
      this.parse(false);
    });
    const gone = (e) => {
      if (this.sock !== sock) return;
      this.sock = null;
      this.parse(true, e);
    };
    sock.on('error', gone);
    sock.on('close', () => gone(null));
    this.sock = sock;
  }

  request(method, path, body) {
    if (this.waiting) return Promise.reject(new Error('request in flight'));
    if (!this.sock) this.connect();
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${HOST}:${PORT}\r\n`;
    if (body !== undefined) {
      head += `Content-Type: text/plain;charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
    }
    this.buf = null;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error('request timeout')), 60000);
      this.waiting = { resolve, reject, timer };
      this.sock.write(head + '\r\n' + (body === undefined ? '' : body));
    });
  }

  fail(e) {
    const w = this.waiting;
    if (!w) return;
    this.waiting = null;
    clearTimeout(w.timer);
    if (this.sock) this.sock.destroy();
    this.sock = null;
    w.reject(e);
  }

  done(status, body, close) {
    const w = this.waiting;
    this.waiting = null;
    this.buf = null;
    clearTimeout(w.timer);
    if (close && this.sock) {
      this.sock.destroy();
      this.sock = null;
    }
    w.resolve({ status, body: body.toString() });
  }

  parse(closed, err) {
    if (!this.waiting) return;
    const buf = this.buf;
    const end = buf ? buf.indexOf('\r\n\r\n') : -1;
    if (end < 0) {
      if (closed) this.fail(err || new Error('connection closed'));
      return;
    }
    const head = buf.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const lower = head.toLowerCase();
    const close = /\r\nconnection: *close/.test(lower);
    const m = /\r\ncontent-length: *(\d+)/.exec(lower);
    const start = end + 4;
    if (m) {
      const len = Number(m[1]);
      if (buf.length >= start + len) this.done(status, buf.subarray(start, start + len), close);
      else if (closed) this.fail(err || new Error('connection closed in the body'));
    } else if (/\r\ntransfer-encoding: *chunked/.test(lower)) {
      const parts = [];
      let i = start;
      for (;;) {
        const eol = buf.indexOf('\r\n', i);
        if (eol < 0) break;
        const size = parseInt(buf.toString('latin1', i, eol), 16);
        if (buf.length < eol + 2 + size + 2) break;
        if (size === 0) {
          this.done(status, Buffer.concat(parts), close);
          return;
        }
        parts.push(buf.subarray(eol + 2, eol + 2 + size));
        i = eol + 2 + size + 2;
      }
      if (closed) this.fail(err || new Error('connection closed in the body'));
    } else if (status === 204 || status === 304) {
      this.done(status, Buffer.alloc(0), close);
    } else if (closed) {
      this.done(status, buf.subarray(start), true);
    }
  }

  destroy() {
    if (this.sock) this.sock.destroy();
    this.sock = null;
  }
}

async function polling() {
  const clients = Number(args.clients || 50);
  const payload = 'abcdefghijklmnop';
  const message = '4' + payload;
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const raw = Boolean(args.raw);
  // Per client: how its GETs and its POSTs go (the held GET and the POST
  // are in flight together, so two connections).
  const channel = () => {
    if (!raw) return (method, path, body) => httpRequest(agent, method, path, body);
    const conn = new RawHttp();
    const send = (method, path, body) => conn.request(method, path, body);
    send.conn = conn;
    return send;
  };
  const lat = new Latencies(4 * 1024 * 1024);
  let running = true;
  let measuring = false;
  let count = 0;
  let errors = 0;
  let requests = 0;
  const firstErrors = [];

  async function handshake() {
    const get = channel();
    const res = await get('GET', pollUrl(null));
    if (res.status !== 200 || res.body[0] !== '0') throw new Error(`handshake ${res.status} ${res.body.slice(0, 80)}`);
    const end = res.body.indexOf('\x1e');
    return { sid: JSON.parse(res.body.slice(1, end < 0 ? undefined : end)).sid, get, post: channel() };
  }

  async function client({ sid, get: getReq, post: postReq }) {
    let pong = false;
    const url = pollUrl(sid);
    // GET until the echo arrived (a GET may also bring a ping or a noop).
    async function pollEcho() {
      for (let i = 0; i < 100; i++) {
        const res = await getReq('GET', url);
        requests++;
        if (res.status !== 200) throw new Error(`GET ${res.status} ${res.body.slice(0, 80)}`);
        let got = false;
        for (const p of res.body.split('\x1e')) {
          if (p === '2') pong = true;
          else if (p[0] === '4') got = true;
          else if (p[0] === '1') throw new Error('session closed by the server');
        }
        if (got) return;
      }
      throw new Error('no echo after 100 polls');
    }
    while (running) {
      const t0 = performance.now();
      const body = pong ? '3\x1e' + message : message;
      pong = false;
      try {
        const get = pollEcho();
        const post = postReq('POST', url, body).then((res) => {
          requests++;
          if (res.status !== 200) throw new Error(`POST ${res.status} ${res.body.slice(0, 80)}`);
        });
        await Promise.all([get, post]);
      } catch (e) {
        errors++;
        if (firstErrors.length < 5) firstErrors.push(String(e.message || e));
        return;
      }
      if (measuring) {
        count++;
        lat.add(performance.now() - t0);
      }
    }
  }

  const hs = await openMany(clients, 25, handshake);
  if (hs.results.length < clients) {
    emit({ error: `handshake ${hs.results.length}/${clients}`, errors: hs.errors.slice(0, 5) });
    process.exit(1);
  }
  const done = Promise.all(hs.results.map(client));
  const win = new Window();
  await sleep(WARMUP * 1000);
  win.start();
  const req0 = requests;
  measuring = true;
  await sleep(DURATION * 1000);
  measuring = false;
  win.stop();
  const reqCount = requests - req0;
  running = false;
  await Promise.race([done, sleep(5000)]);
  // Close the sessions (a POST of a close packet), bounded in time.
  await Promise.race([
    Promise.all(hs.results.map((c) => c.post('POST', pollUrl(c.sid), '1').catch(() => {}))),
    sleep(3000)]);
  agent.destroy();
  for (const c of hs.results) {
    if (c.get.conn) c.get.conn.destroy();
    if (c.post.conn) c.post.conn.destroy();
  }
  emit({ scenario: 'polling', clients, payload: 'text16', client: raw ? 'raw' : 'http',
    ...win.report(count), http_requests: reqCount,
    ...lat.summary(), errors, first_errors: firstErrors });
}

// A minimal WebSocket client on a raw TCP socket for the session-rate test:
// a fixed upgrade request, the first server frame parsed by hand, a masked
// close frame.  Much cheaper than `ws` + `http`, so the client does not
// limit the rate (the server's answer is not verified, beyond its status
// and the open packet).
const UPGRADE_REQUEST = () => Buffer.from(
  `GET ${PATH}${PATH.includes('?') ? '&' : '?'}EIO=4&transport=websocket HTTP/1.1\r\n` +
  `Host: ${HOST}:${PORT}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
// FIN + close opcode, masked (zero key), 2-byte payload: status 1000.
const CLOSE_FRAME = Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);

function rawSession(request, timeoutMs) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const sock = net.connect(PORT, HOST);
    sock.setNoDelay(true);
    let buf = null;
    let done = false;
    const fail = (e) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      reject(e);
    };
    const timer = setTimeout(() => fail(new Error('open timeout')), timeoutMs);
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('closed before the open packet')));
    sock.on('connect', () => sock.write(request));
    sock.on('data', (chunk) => {
      if (done) return;
      buf = buf ? Buffer.concat([buf, chunk]) : chunk;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (buf.toString('latin1', 0, 12) !== 'HTTP/1.1 101') {
        fail(new Error(`upgrade refused: ${buf.toString('latin1', 0, 40)}`));
        return;
      }
      let i = end + 4;
      if (buf.length < i + 2) return;
      let len = buf[i + 1] & 0x7f;
      let start = i + 2;
      if (len === 126) {
        if (buf.length < i + 4) return;
        len = buf.readUInt16BE(i + 2);
        start = i + 4;
      }
      if (buf.length < start + len) return;
      if ((buf[i] & 0x0f) !== 1 || buf[start] !== OPEN) {
        fail(new Error('first frame is not an open packet'));
        return;
      }
      done = true;
      clearTimeout(timer);
      sock.removeAllListeners('data');
      sock.removeAllListeners('close');
      sock.removeAllListeners('error');
      resolve({ sock, ms: performance.now() - t0 });
    });
  });
}

// -- sessions: new WebSocket sessions per second ------------------------------
async function sessions() {
  const concurrency = Number(args.concurrency || 20);
  const maxClosing = concurrency * 50;
  const lat = new Latencies(1024 * 1024);
  let running = true;
  let measuring = false;
  let count = 0;
  let errors = 0;
  let closing = 0;
  const firstErrors = [];

  const request = UPGRADE_REQUEST();
  async function worker() {
    while (running) {
      while (closing > maxClosing && running) await sleep(1);
      let r;
      try {
        r = await rawSession(request, 10000);
      } catch (e) {
        errors++;
        if (firstErrors.length < 5) firstErrors.push(String(e.message || e));
        await sleep(10);
        continue;
      }
      if (measuring) {
        count++;
        lat.add(r.ms);
      }
      // Close like a client: close frame, then wait for the server to end
      // the TCP connection (bounded).
      closing++;
      const sock = r.sock;
      const t = setTimeout(() => sock.destroy(), 5000);
      sock.on('data', () => {});
      sock.on('error', () => {});
      sock.once('close', () => {
        clearTimeout(t);
        closing--;
      });
      sock.write(CLOSE_FRAME);
    }
  }

  const done = Promise.all(Array.from({ length: concurrency }, worker));
  const win = new Window();
  await sleep(WARMUP * 1000);
  win.start();
  measuring = true;
  await sleep(DURATION * 1000);
  measuring = false;
  win.stop();
  running = false;
  await Promise.race([done, sleep(10000)]);
  for (let i = 0; i < 300 && closing > 0; i++) await sleep(10);
  emit({ scenario: 'sessions', concurrency, ...win.report(count), ...lat.summary(), errors,
    first_errors: firstErrors });
}

// -- idle: hold N WebSocket sessions until told to close ----------------------
async function idle() {
  const n = Number(args.sessions || 5000);
  const hold = Number(args.hold || 60);
  const t0 = performance.now();
  const opened = await openMany(n, Number(args.open_concurrency || 100), () => openSession(20000));
  const sockets = opened.results.map((r) => r.ws);
  let pings = 0;
  let dropped = 0;
  for (const ws of sockets) {
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data[0] === PING) {
        pings++;
        ws.send(PONG_FRAME, { binary: false });
      }
    });
    ws.on('close', () => dropped++);
    ws.on('error', () => {});
  }
  emit({ scenario: 'idle', ready: true, sessions: sockets.length, wanted: n,
    open_seconds: (performance.now() - t0) / 1000, errors: opened.errors.length,
    first_errors: opened.errors.slice(0, 5) });
  // Wait for a line on stdin (the harness measured the server), at most `hold` s.
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, hold * 1000);
    process.stdin.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    process.stdin.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  process.stdin.pause();
  const droppedBeforeClose = dropped;
  await closeAll(sockets, 5000);
  emit({ scenario: 'idle', done: true, pings, dropped_connections: droppedBeforeClose });
}

const commands = { 'ws-echo': wsEcho, polling, sessions, idle };
if (!commands[CMD]) {
  console.error(`usage: node loadgen.js {${Object.keys(commands).join('|')}} --port P ...`);
  process.exit(2);
}
commands[CMD]().then(() => process.exit(0), (e) => {
  emit({ error: String(e && e.stack || e) });
  process.exit(1);
});
