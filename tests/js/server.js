#!/usr/bin/env node
'use strict';
/*
 * Reference Engine.IO (protocol v4) server built on the official `engine.io`
 * package. Used as a peer for testing the Python client and for comparing
 * wire behaviour with the Python server.
 *
 * Usage:
 *   node server.js --port 0 [--host 127.0.0.1] [--ping-interval 25000]
 *       [--ping-timeout 20000] [--max-payload 1000000]
 *       [--transports polling,websocket] [--path /engine.io/] [--cors '*']
 *       [--allow-upgrades true] [--upgrade-timeout 10000] [--allow-eio3 false]
 *       [--per-message-deflate false] [--http-compression true]
 *       [--log-messages true] [--log-requests false] [--log-packets false]
 *       [--max-lifetime-ms 600000]
 *
 * Stdout protocol (one line each, nothing else is printed on stdout):
 *   READY <port>                      once the HTTP server listens
 *   {"event":"connection","sid":..,"transport":..,"protocol":4,"query":{..}}
 *   {"event":"upgrade","sid":..,"transport":"websocket"}
 *   {"event":"message","sid":..,"type":"text"|"binary","length":N}
 *   {"event":"close","sid":..,"reason":..,"description":..}
 *   {"event":"connection_error","code":..,"message":..,"context":{..},"method":..,"url":..}
 *   {"event":"exit","reason":..}
 *   {"event":"http"|"upgrade_request","method":..,"url":..,"headers":{..}}
 *                                     (only with --log-requests true)
 *   {"event":"packet_in"|"packet_out","sid":..,"transport":..,"type":..,"data":..}
 *                                     (only with --log-packets true; packets of
 *                                     the socket's current transport, so the
 *                                     upgrade probe packets are not included)
 * Diagnostics go to stderr.
 *
 * NOTE: on Linux, writes to a stdout pipe are synchronous in Node. A parent
 * process that stops reading stdout will eventually block this server once
 * the pipe buffer (64 KiB) is full. Either keep draining stdout or pass
 * `--log-messages false` (which suppresses the per-message lines).
 *
 * Echo protocol (shared with the Python server under test):
 *   - every message is echoed back with the same type (text->text,
 *     binary->binary);
 *   - "__burst__:N"   -> sends N text messages "s:0" .. "s:N-1" (no echo);
 *   - "__close__"     -> server closes this socket (no echo);
 *   - "__sid__"       -> replies "sid:<session id>";
 *   - "__stop_pings__"-> the server stops sending pings to this client and
 *                        stops expecting pongs (the connection stays open,
 *                        simulating a dead server); replies "stopped_pings";
 *   - "__headers__"   -> replies "headers:" + JSON of the handshake request
 *                        headers (lower-cased names as Node gives them);
 *   - "__query__"     -> replies "query:" + JSON of the handshake query.
 *
 * Lifetime: exits on SIGTERM/SIGINT, when stdin reaches EOF (only watched
 * when stdin is a pipe or socket, so `< /dev/null` or a terminal does not
 * stop it), or after --max-lifetime-ms (default 600000).
 */

const fs = require('fs');
const http = require('http');
const engine = require('engine.io');

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      throw new Error('unexpected argument: ' + a);
    }
    const eq = a.indexOf('=');
    if (eq !== -1) {
      out[a.slice(2, eq)] = a.slice(eq + 1);
    } else {
      const key = a.slice(2);
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        out[key] = 'true';
      } else {
        out[key] = next;
        i++;
      }
    }
  }
  return out;
}

function bool(v, dflt) {
  if (v === undefined) return dflt;
  return !['false', '0', 'no', 'off'].includes(String(v).toLowerCase());
}

function int(v, dflt) {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error('not a number: ' + v);
  return n;
}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(String(e.message) + '\n');
  process.exit(2);
}

const HOST = args.host || '127.0.0.1';
const PORT = int(args.port, 0);
const LOG_MESSAGES = bool(args['log-messages'], true);
const LOG_REQUESTS = bool(args['log-requests'], false);
const LOG_PACKETS = bool(args['log-packets'], false);
const MAX_LIFETIME_MS = int(args['max-lifetime-ms'], 600000);

const engineOpts = {
  pingInterval: int(args['ping-interval'], 25000),
  pingTimeout: int(args['ping-timeout'], 20000),
  maxHttpBufferSize: int(args['max-payload'], 1000000),
  transports: (args.transports || 'polling,websocket').split(',').map((s) => s.trim()).filter(Boolean),
  allowUpgrades: bool(args['allow-upgrades'], true),
  upgradeTimeout: int(args['upgrade-timeout'], 10000),
  allowEIO3: bool(args['allow-eio3'], false),
  perMessageDeflate: bool(args['per-message-deflate'], false),
  path: args.path || '/engine.io/',
};
// engine.io's default is {threshold: 1024}; passing `true` would drop the
// threshold (everything compressed), so only the "false" case is forwarded.
if (!bool(args['http-compression'], true)) engineOpts.httpCompression = false;
if (args.cors !== undefined) {
  const c = args.cors;
  engineOpts.cors = {
    origin: c === 'true' ? true : c,
    credentials: bool(args['cors-credentials'], false),
  };
}

function pkgVersion(name) {
  try {
    const p = require('path').join(__dirname, 'node_modules', name, 'package.json');
    return JSON.parse(fs.readFileSync(p, 'utf8')).version;
  } catch (e) {
    return 'unknown';
  }
}

function emit(obj) {
  try {
    process.stdout.write(JSON.stringify(obj) + '\n');
  } catch (e) {
    // stdout closed: nothing useful to do
  }
}

function describe(d) {
  if (d === undefined || d === null) return null;
  if (d instanceof Error) return { name: d.name, message: d.message };
  if (typeof d === 'object') {
    const o = {};
    for (const k of Object.keys(d)) {
      const v = d[k];
      o[k] = v instanceof Error ? { name: v.name, message: v.message } : (typeof v === 'object' ? String(v) : v);
    }
    if (d.description instanceof Error) o.description = d.description.message;
    return o;
  }
  return String(d);
}

const httpServer = http.createServer((req, res) => {
  // Anything engine.io does not handle (wrong path) ends up here.
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found');
});

const eio = engine.attach(httpServer, engineOpts);

if (LOG_REQUESTS) {
  // Log every HTTP request / upgrade as received (before engine.io sees it).
  const logReq = (kind) => (req) => {
    emit({ event: kind, method: req.method, url: req.url, headers: req.headers });
  };
  httpServer.prependListener('request', logReq('http'));
  httpServer.prependListener('upgrade', logReq('upgrade_request'));
}

eio.on('connection_error', (err) => {
  let url = null;
  let method = null;
  try {
    url = err.req && err.req.url;
    method = err.req && err.req.method;
  } catch (e) { /* ignore */ }
  emit({
    event: 'connection_error',
    code: err.code,
    message: err.message,
    context: err.context || null,
    method,
    url,
  });
});

function stopPings(socket) {
  // Neutralise both heartbeat timers of this socket instance: no more pings
  // are written and the missing pong is never acted upon.
  clearTimeout(socket.pingIntervalTimer);
  clearTimeout(socket.pingTimeoutTimer);
  // Keep non-null placeholders where the library calls .refresh() on them.
  socket.pingIntervalTimer = { refresh() {}, unref() {}, ref() {} };
  socket.pingTimeoutTimer = null;
  socket.schedulePing = function () {};
  socket.resetPingTimeout = function () {};
}

eio.on('connection', (socket) => {
  const sid = socket.id;
  emit({
    event: 'connection',
    sid,
    transport: socket.transport.name,
    protocol: socket.protocol,
    query: (socket.request && socket.request._query) || null,
  });

  if (LOG_PACKETS) {
    const pd = (d) => (d === undefined ? null : typeof d === 'string' ? d.slice(0, 200) : { binaryLength: d.byteLength });
    socket.on('packet', (p) => emit({ event: 'packet_in', sid, transport: socket.transport.name, type: p.type, data: pd(p.data) }));
    socket.on('packetCreate', (p) => emit({ event: 'packet_out', sid, transport: socket.transport.name, type: p.type, data: pd(p.data) }));
  }

  socket.on('upgrade', (transport) => {
    emit({ event: 'upgrade', sid, transport: transport && transport.name });
  });

  socket.on('message', (data) => {
    // engine.io delivers an empty message packet ("4") as `undefined`.
    if (data === undefined || data === null) data = '';
    const isText = typeof data === 'string';
    if (LOG_MESSAGES) {
      emit({
        event: 'message',
        sid,
        type: isText ? 'text' : 'binary',
        length: isText ? data.length : data.byteLength,
      });
    }
    if (isText) {
      if (data.startsWith('__burst__:')) {
        const n = Math.max(0, Math.min(1000000, parseInt(data.slice(10), 10) || 0));
        for (let i = 0; i < n; i++) socket.send('s:' + i);
        return;
      }
      switch (data) {
        case '__close__':
          socket.close();
          return;
        case '__sid__':
          socket.send('sid:' + sid);
          return;
        case '__stop_pings__':
          stopPings(socket);
          socket.send('stopped_pings');
          return;
        case '__headers__':
          socket.send('headers:' + JSON.stringify((socket.request && socket.request.headers) || {}));
          return;
        case '__query__':
          socket.send('query:' + JSON.stringify((socket.request && socket.request._query) || {}));
          return;
        default:
          break;
      }
    }
    socket.send(data);
  });

  socket.on('close', (reason, description) => {
    emit({ event: 'close', sid, reason, description: describe(description) });
  });
});

let exiting = false;
function shutdown(reason, code) {
  if (exiting) return;
  exiting = true;
  emit({ event: 'exit', reason });
  try { eio.close(); } catch (e) { /* ignore */ }
  try { httpServer.close(); } catch (e) { /* ignore */ }
  try { httpServer.closeAllConnections && httpServer.closeAllConnections(); } catch (e) { /* ignore */ }
  setTimeout(() => process.exit(code || 0), 100).unref();
  // process.exit below is the safety net if something keeps the loop alive
  setTimeout(() => process.exit(code || 0), 1000);
}

process.on('SIGTERM', () => shutdown('SIGTERM', 0));
process.on('SIGINT', () => shutdown('SIGINT', 0));
process.stdout.on('error', () => shutdown('stdout error', 0));

try {
  const st = fs.fstatSync(0);
  if (st.isFIFO() || st.isSocket()) {
    process.stdin.on('data', () => {});
    process.stdin.on('end', () => shutdown('stdin closed', 0));
    process.stdin.on('error', () => shutdown('stdin error', 0));
    process.stdin.resume();
  }
} catch (e) {
  // no stdin at all: rely on signals / max lifetime
}

setTimeout(() => shutdown('max lifetime', 0), MAX_LIFETIME_MS).unref();
// Keep a ref'd timer too so the max lifetime is honoured even if unref'd
// handles are the only ones left (the http server keeps the loop alive anyway).

httpServer.on('error', (e) => {
  process.stderr.write('server error: ' + e.message + '\n');
  process.exit(1);
});

httpServer.listen(PORT, HOST, () => {
  const addr = httpServer.address();
  process.stdout.write('READY ' + addr.port + '\n');
  process.stderr.write(
    'engine.io ' + pkgVersion('engine.io') + ' listening on http://' + HOST + ':' + addr.port +
    engineOpts.path + ' ' + JSON.stringify(engineOpts) + '\n'
  );
});
