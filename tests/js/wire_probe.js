#!/usr/bin/env node
'use strict';
/*
 * Runs a fixed battery of raw HTTP / WebSocket probes against an Engine.IO
 * server and prints what came back (status, headers, bodies, frames). Used
 * to record the official server's wire behaviour (OFFICIAL_WIRE.md) and to
 * diff the Python server against it.
 *
 * Usage:
 *   node wire_probe.js --url http://127.0.0.1:PORT [--path /engine.io/]
 *       [--only probe1,probe2] [--format json|md] [--no-normalize]
 *       [--timeout-ms 60000]
 *
 * The server is expected to implement the echo protocol described in
 * client.js ("__close__", "__burst__:N" are used by some probes). Small ping
 * values (e.g. --ping-interval 1000 --ping-timeout 800) make the heartbeat
 * probes quick; they are skipped when pingInterval+pingTimeout > 8000 ms.
 *
 * By default session ids are replaced by "<sid>" and Date header values by
 * "<date>" so that outputs of two runs/servers can be diffed.
 * HTTP requests are sent with Node's http client without an agent, which
 * means every request carries "Connection: close" and "Host".
 *
 * Output: one JSON line per probe ({"probe","desc","steps":[...]}) or, with
 * --format md, Markdown. Exit 0 when all probes ran (whatever the server
 * answered), 1 on an internal error or hard timeout.
 */

const http = require('http');
const net = require('net');
const zlib = require('zlib');
const WebSocket = require('ws');

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[a.slice(2)] = 'true';
    else { out[a.slice(2)] = next; i++; }
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
if (!args.url) {
  console.error('usage: node wire_probe.js --url http://127.0.0.1:PORT [--path /engine.io/] [--only a,b] [--format json|md]');
  process.exit(2);
}
const BASE = new URL(args.url);
if (!BASE.hostname.startsWith('127.') && BASE.hostname !== 'localhost') {
  console.error('loopback only');
  process.exit(2);
}
const PATH = args.path || '/engine.io/';
const FORMAT = args.format || 'json';
const NORMALIZE = !args['no-normalize'];
const ONLY = args.only ? new Set(args.only.split(',')) : null;
const HARD_MS = Number(args['timeout-ms'] || 60000);

setTimeout(() => {
  console.error('wire_probe: hard timeout');
  process.exit(1);
}, HARD_MS).unref();

const knownSids = new Set();

// Remember every session id seen in a body/frame so it can be normalised.
function learnSids(text) {
  if (typeof text !== 'string') return;
  const re = /sid\\?"\s*:\s*\\?"([A-Za-z0-9_-]+)/g;
  let m;
  while ((m = re.exec(text)) !== null) knownSids.add(m[1]);
}

function norm(s) {
  if (!NORMALIZE || typeof s !== 'string') return s;
  let r = s;
  for (const sid of knownSids) r = r.split(sid).join('<sid>');
  return r;
}

function normHeaders(pairs) {
  return pairs.map(([k, v]) => {
    if (NORMALIZE && k.toLowerCase() === 'date') return [k, '<date>'];
    if (NORMALIZE && k.toLowerCase() === 'sec-websocket-accept') return [k, '<accept>'];
    return [k, norm(v)];
  });
}

function pairs(raw) {
  const r = [];
  for (let i = 0; i < raw.length; i += 2) r.push([raw[i], raw[i + 1]]);
  return r;
}

function url(query, path) {
  return (path || PATH) + (query !== undefined && query !== null ? '?' + query : '');
}

function delay(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/* One HTTP request; resolves with a record (never rejects). */
function request(method, path, opts) {
  opts = opts || {};
  const t0 = Date.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (rec) => {
      if (done) return;
      done = true;
      rec.elapsedMs = Date.now() - t0;
      resolve(rec);
    };
    const reqRec = { method, path: path };
    if (opts.headers) reqRec.headers = opts.headers;
    if (opts.body !== undefined) reqRec.body = typeof opts.body === 'string' ? opts.body : '<' + opts.body.length + ' bytes>';
    if (opts.bodyNote) reqRec.body = opts.bodyNote;
    const req = http.request({
      host: BASE.hostname,
      port: BASE.port,
      method,
      path,
      headers: opts.headers,
      agent: false,
    }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        let buf = Buffer.concat(chunks);
        const rec = {
          request: reqRec,
          status: res.statusCode,
          statusMessage: res.statusMessage,
          headers: pairs(res.rawHeaders),
        };
        const enc = res.headers['content-encoding'];
        if (enc && opts.decompress) {
          rec.rawBodyLength = buf.length;
          try {
            buf = enc === 'gzip' ? zlib.gunzipSync(buf) : enc === 'deflate' ? zlib.inflateSync(buf) : buf;
          } catch (e) {
            rec.decompressError = e.message;
          }
        }
        const text = buf.toString('utf8');
        rec.bodyLength = buf.length;
        rec.body = opts.truncate && text.length > opts.truncate ? text.slice(0, opts.truncate) + '…' : text;
        if (!Buffer.from(text, 'utf8').equals(buf)) rec.bodyHex = buf.toString('hex').slice(0, 400);
        finish(rec);
      });
      res.on('error', (e) => finish({ request: reqRec, error: 'response error: ' + e.message }));
    });
    req.on('error', (e) => finish({ request: reqRec, error: e.code || e.message }));
    const timeoutMs = opts.timeoutMs || 5000;
    setTimeout(() => {
      if (!done) {
        finish({ request: reqRec, timeout: true, note: 'no response within ' + timeoutMs + ' ms; request aborted' });
        req.destroy();
      }
    }, timeoutMs);
    if (opts.body !== undefined) req.end(opts.body);
    else req.end();
  });
}

function clean(rec) {
  if (!rec || typeof rec !== 'object') return rec;
  learnSids(rec.body);
  learnSids(rec.raw);
  if (Array.isArray(rec.frames)) for (const f of rec.frames) learnSids(f.data);
  const r = Object.assign({}, rec);
  if (r.headers && Array.isArray(r.headers)) r.headers = normHeaders(r.headers);
  if (typeof r.body === 'string') r.body = norm(r.body);
  if (r.request) {
    r.request = Object.assign({}, r.request);
    if (r.request.path !== undefined) r.request.path = norm(r.request.path);
    if (typeof r.request.raw === 'string') {
      r.request.raw = norm(r.request.raw);
      if (NORMALIZE) r.request.raw = r.request.raw.split('Host: ' + BASE.host).join('Host: <host>');
    }
    if (typeof r.request.body === 'string') r.request.body = norm(r.request.body);
  }
  if (typeof r.raw === 'string') {
    r.raw = norm(r.raw);
    if (NORMALIZE) r.raw = r.raw.replace(/\r\nDate: [^\r]*/i, '\r\nDate: <date>');
  }
  for (const k of ['frames', 'received']) {
    if (Array.isArray(r[k])) r[k] = r[k].map((f) => (typeof f === 'string' ? norm(f) : f));
  }
  return r;
}

async function handshake(extraQuery) {
  const r = await request('GET', url('EIO=4&transport=polling' + (extraQuery || '')));
  if (r.status !== 200 || !r.body || r.body[0] !== '0') throw new Error('handshake failed: ' + JSON.stringify(r));
  const data = JSON.parse(r.body.slice(1));
  knownSids.add(data.sid);
  return { sid: data.sid, data, rec: r };
}

function sidUrl(sid, transport) {
  return url('EIO=4&transport=' + (transport || 'polling') + '&sid=' + encodeURIComponent(sid));
}

/* Raw TCP request: returns exactly what the server sent (latin1 string). */
function rawTcp(head, opts) {
  opts = opts || {};
  return new Promise((resolve) => {
    const chunks = [];
    const t0 = Date.now();
    let done = false;
    const finish = (extra) => {
      if (done) return;
      done = true;
      resolve(Object.assign({ request: { raw: head.replace(/\r\n/g, '\\r\\n') }, raw: Buffer.concat(chunks).toString('latin1'), elapsedMs: Date.now() - t0 }, extra || {}));
      sock.destroy();
    };
    const sock = net.connect(Number(BASE.port), BASE.hostname, () => sock.write(head));
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', () => finish());
    sock.on('close', () => finish());
    sock.on('error', (e) => finish({ error: e.message }));
    setTimeout(() => finish({ timeout: true }), opts.timeoutMs || 3000);
  });
}

/* WebSocket session recorder (text frames as strings, binary as hex). */
function wsOpen(query, opts) {
  opts = opts || {};
  return new Promise((resolve) => {
    const t0 = Date.now();
    const rec = { request: { path: url(query) }, frames: [] };
    const wsUrl = 'ws://' + BASE.host + url(query);
    const ws = new WebSocket(wsUrl, { perMessageDeflate: opts.perMessageDeflate !== undefined ? opts.perMessageDeflate : false, headers: opts.headers });
    const waiters = [];
    const queue = []; // frames received while nobody was waiting
    const api = {
      ws,
      rec,
      next(timeoutMs) {
        if (queue.length) return Promise.resolve(queue.shift());
        return new Promise((res) => {
          const w = { res, t: null };
          w.t = setTimeout(() => {
            const i = waiters.indexOf(w);
            if (i !== -1) waiters.splice(i, 1);
            res(null);
          }, timeoutMs || 3000);
          waiters.push(w);
        });
      },
      send(d) {
        ws.send(d);
        rec.frames.push({ dir: 'out', t: Date.now() - t0, ...frameDesc(d) });
      },
      waitClose(timeoutMs) {
        if (rec.closed) return Promise.resolve(true);
        return new Promise((res) => {
          const t = setTimeout(() => res(false), timeoutMs || 3000);
          ws.once('close', () => { clearTimeout(t); res(true); });
        });
      },
      close() {
        try { ws.close(); } catch (e) { /* ignore */ }
      },
      terminate() {
        try { ws.terminate(); } catch (e) { /* ignore */ }
      },
    };
    ws.on('upgrade', (res) => {
      rec.status = res.statusCode;
      rec.statusMessage = res.statusMessage;
      rec.headers = pairs(res.rawHeaders);
    });
    ws.on('unexpected-response', (req, res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        rec.status = res.statusCode;
        rec.statusMessage = res.statusMessage;
        rec.headers = pairs(res.rawHeaders);
        rec.body = Buffer.concat(chunks).toString('utf8');
        rec.unexpectedResponse = true;
        resolve(api);
      });
      setTimeout(() => resolve(api), 2000);
    });
    ws.on('open', () => {
      rec.opened = true;
      resolve(api);
    });
    ws.on('message', (data, isBinary) => {
      const f = isBinary ? { type: 'binary', hex: Buffer.from(data).toString('hex') } : { type: 'text', data: data.toString('utf8') };
      rec.frames.push({ dir: 'in', t: Date.now() - t0, ...f });
      const w = waiters.shift();
      if (w) {
        clearTimeout(w.t);
        w.res(f);
      } else {
        queue.push(f);
      }
    });
    ws.on('error', (e) => {
      rec.error = e.message;
      resolve(api);
    });
    ws.on('close', (code, reason) => {
      rec.closed = { code, reason: reason.toString('utf8'), t: Date.now() - t0 };
      for (const w of waiters.splice(0)) {
        clearTimeout(w.t);
        w.res(null);
      }
      resolve(api);
    });
    setTimeout(() => {
      rec.timeout = rec.timeout || (!rec.opened && !rec.status);
      resolve(api);
    }, opts.timeoutMs || 3000);
  });
}

function frameDesc(d) {
  if (typeof d === 'string') return { type: 'text', data: d };
  return { type: 'binary', hex: Buffer.from(d).toString('hex') };
}

function wsRec(api) {
  for (const f of api.rec.frames) learnSids(f.data);
  const r = Object.assign({}, api.rec);
  r.frames = r.frames.map((f) => (f.type === 'text' ? Object.assign({}, f, { data: norm(f.data) }) : f));
  // timestamps make diffs noisy: keep only the in-frame order
  r.frames = r.frames.map((f) => {
    const g = Object.assign({}, f);
    delete g.t;
    return g;
  });
  if (r.headers) r.headers = normHeaders(r.headers);
  if (r.request) r.request = { path: norm(r.request.path) };
  if (typeof r.body === 'string') r.body = norm(r.body);
  return r;
}

// ---------------------------------------------------------------------------
// probes
// ---------------------------------------------------------------------------

const probes = [];
function probe(name, desc, fn) {
  probes.push({ name, desc, fn });
}

let HS = null; // handshake data of the server (ping values, maxPayload)

probe('handshake', 'GET ?EIO=4&transport=polling (polling handshake)', async () => {
  const h = await handshake();
  HS = h.data;
  return [h.rec];
});

probe('raw_handshake', 'exact response bytes of a polling handshake (hand-written request, Connection: close)', async () => {
  return [await rawTcp('GET ' + url('EIO=4&transport=polling') + ' HTTP/1.1\r\nHost: ' + BASE.host + '\r\nConnection: close\r\n\r\n')];
});

probe('raw_handshake_keepalive', 'exact response bytes of a polling handshake with Connection: keep-alive', async () => {
  return [await rawTcp('GET ' + url('EIO=4&transport=polling') + ' HTTP/1.1\r\nHost: ' + BASE.host + '\r\nConnection: keep-alive\r\n\r\n', { timeoutMs: 600 })];
});

probe('raw_error', 'exact response bytes of an error (unknown transport)', async () => {
  return [await rawTcp('GET ' + url('EIO=4&transport=foo') + ' HTTP/1.1\r\nHost: ' + BASE.host + '\r\nConnection: close\r\n\r\n')];
});

probe('raw_options', 'exact response bytes of an OPTIONS preflight with Origin', async () => {
  return [await rawTcp('OPTIONS ' + url('EIO=4&transport=polling') + ' HTTP/1.1\r\nHost: ' + BASE.host +
    '\r\nOrigin: http://example.com\r\nAccess-Control-Request-Method: POST\r\nConnection: close\r\n\r\n')];
});

probe('raw_post_ok', 'exact response bytes of a successful POST', async () => {
  const h = await handshake();
  return [await rawTcp('POST ' + sidUrl(h.sid) + ' HTTP/1.1\r\nHost: ' + BASE.host +
    '\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 6\r\nConnection: close\r\n\r\n4hello')];
});

probe('handshake_origin', 'polling handshake with an Origin header', async () => {
  return [await request('GET', url('EIO=4&transport=polling'), { headers: { Origin: 'http://example.com' } })];
});

probe('handshake_no_trailing_slash', 'handshake on the path without its trailing slash', async () => {
  return [await request('GET', url('EIO=4&transport=polling', PATH.replace(/\/$/, '')))];
});

probe('handshake_jsonp', 'handshake with j=0 (JSONP polling)', async () => {
  return [await request('GET', url('EIO=4&transport=polling&j=0'))];
});

probe('handshake_extra_query', 'handshake with extra query parameters and t= cache buster', async () => {
  return [await request('GET', url('EIO=4&transport=polling&t=abc123&foo=bar'))];
});

probe('handshake_head', 'HEAD ?EIO=4&transport=polling', async () => {
  return [await request('HEAD', url('EIO=4&transport=polling'))];
});

probe('handshake_post', 'POST ?EIO=4&transport=polling without sid (handshake must be GET)', async () => {
  return [await request('POST', url('EIO=4&transport=polling'), { body: '4hello' })];
});

probe('handshake_put', 'PUT ?EIO=4&transport=polling without sid', async () => {
  return [await request('PUT', url('EIO=4&transport=polling'), { body: '4hello' })];
});

probe('handshake_delete', 'DELETE ?EIO=4&transport=polling without sid', async () => {
  return [await request('DELETE', url('EIO=4&transport=polling'))];
});

probe('missing_transport', 'GET ?EIO=4 (no transport)', async () => [await request('GET', url('EIO=4'))]);
probe('unknown_transport', 'GET ?EIO=4&transport=foo', async () => [await request('GET', url('EIO=4&transport=foo'))]);
probe('webtransport_over_http', 'GET ?EIO=4&transport=webtransport', async () => [await request('GET', url('EIO=4&transport=webtransport'))]);
probe('websocket_without_upgrade', 'plain GET ?EIO=4&transport=websocket (no Upgrade header)', async () => [await request('GET', url('EIO=4&transport=websocket'))]);
probe('eio3', 'GET ?EIO=3&transport=polling', async () => [await request('GET', url('EIO=3&transport=polling'))]);
probe('eio5', 'GET ?EIO=5&transport=polling', async () => [await request('GET', url('EIO=5&transport=polling'))]);
probe('eio_missing', 'GET ?transport=polling (no EIO)', async () => [await request('GET', url('transport=polling'))]);
probe('eio_garbage', 'GET ?EIO=abc&transport=polling', async () => [await request('GET', url('EIO=abc&transport=polling'))]);
probe('no_query', 'GET on the path with no query string at all', async () => [await request('GET', url(null))]);
probe('wrong_path', 'GET /not-engine-io/?EIO=4&transport=polling (falls through to the host http server)', async () => [await request('GET', url('EIO=4&transport=polling', '/not-engine-io/'))]);

probe('unknown_sid_get', 'GET with an unknown sid', async () => [await request('GET', url('EIO=4&transport=polling&sid=doesnotexist'))]);
probe('unknown_sid_post', 'POST with an unknown sid', async () => [await request('POST', url('EIO=4&transport=polling&sid=doesnotexist'), { body: '4hello' })]);
probe('unknown_sid_eio5', 'GET with an unknown sid and EIO=5', async () => [await request('GET', url('EIO=5&transport=polling&sid=doesnotexist'))]);

probe('options_origin', 'OPTIONS preflight with Origin + Access-Control-Request-Method/Headers', async () => {
  return [await request('OPTIONS', url('EIO=4&transport=polling'), {
    headers: {
      Origin: 'http://example.com',
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'content-type',
    },
  })];
});

probe('options_no_origin', 'OPTIONS without Origin', async () => [await request('OPTIONS', url('EIO=4&transport=polling'))]);

probe('options_with_sid', 'OPTIONS with a live sid and Origin', async () => {
  const h = await handshake();
  return [await request('OPTIONS', sidUrl(h.sid), { headers: { Origin: 'http://example.com', 'Access-Control-Request-Method': 'POST' } })];
});

probe('post_and_poll', 'POST "4hello" to a live sid, then GET it back', async () => {
  const h = await handshake();
  const a = await request('POST', sidUrl(h.sid), { body: '4hello', headers: { 'Content-Type': 'text/plain;charset=UTF-8' } });
  const b = await request('GET', sidUrl(h.sid));
  return [a, b];
});

probe('post_origin', 'POST and GET with an Origin header on a live sid', async () => {
  const h = await handshake();
  const a = await request('POST', sidUrl(h.sid), { body: '4hi', headers: { Origin: 'http://example.com', 'Content-Type': 'text/plain;charset=UTF-8' } });
  const b = await request('GET', sidUrl(h.sid), { headers: { Origin: 'http://example.com' } });
  return [a, b];
});

probe('post_batch', 'POST a batch "4a<RS>4b<RS>bAAEC/w==<RS>4" (RS=\\x1e), then GET', async () => {
  const h = await handshake();
  const body = '4a\x1e4b\x1ebAAEC/w==\x1e4';
  const a = await request('POST', sidUrl(h.sid), { body });
  const b = await request('GET', sidUrl(h.sid));
  return [a, b];
});

probe('post_unicode', 'POST "4héllo ☃ 😀" then GET', async () => {
  const h = await handshake();
  const a = await request('POST', sidUrl(h.sid), { body: '4héllo ☃ 😀' });
  const b = await request('GET', sidUrl(h.sid));
  return [a, b];
});

probe('post_octet_stream', 'POST with Content-Type application/octet-stream to a live sid, then GET', async () => {
  const h = await handshake();
  const a = await request('POST', sidUrl(h.sid), { body: Buffer.from([4, 1, 2, 3]), headers: { 'Content-Type': 'application/octet-stream' } });
  const b = await request('GET', sidUrl(h.sid), { timeoutMs: 1500 });
  return [a, b];
});

for (const [name, body] of [['bad_packet_x', 'x'], ['bad_packet_9', '9abc'], ['bad_packet_empty', ''], ['bad_packet_b_invalid_base64', 'b!!!'], ['bad_batch_second', '4ok\x1ex']]) {
  probe('post_' + name, 'POST ' + JSON.stringify(body) + ' to a live sid, then GET the sid', async () => {
    const h = await handshake();
    const a = await request('POST', sidUrl(h.sid), { body });
    const b = await request('GET', sidUrl(h.sid), { timeoutMs: 1500 });
    return [a, b];
  });
}

probe('post_client_ping', 'POST "2" (client ping, invalid direction in v4) then GET', async () => {
  const h = await handshake();
  const a = await request('POST', sidUrl(h.sid), { body: '2' });
  const b = await request('GET', sidUrl(h.sid), { timeoutMs: 1500 });
  return [a, b];
});

probe('post_noop', 'POST "6" (noop) then GET (held: long-poll)', async () => {
  const h = await handshake();
  const a = await request('POST', sidUrl(h.sid), { body: '6' });
  const b = await request('POST', sidUrl(h.sid), { body: '4after-noop' });
  const c = await request('GET', sidUrl(h.sid), { timeoutMs: 1500 });
  return [a, b, c];
});

probe('post_close_packet', 'POST "1" (client close) then GET the sid', async () => {
  const h = await handshake();
  const a = await request('POST', sidUrl(h.sid), { body: '1' });
  const b = await request('GET', sidUrl(h.sid), { timeoutMs: 1500 });
  return [a, b];
});

probe('close_packet_with_pending_get', 'GET pending, then POST "1": what the pending GET returns', async () => {
  const h = await handshake();
  const pending = request('GET', sidUrl(h.sid), { timeoutMs: 3000 });
  await delay(150);
  const a = await request('POST', sidUrl(h.sid), { body: '1' });
  const b = await pending;
  const c = await request('GET', sidUrl(h.sid), { timeoutMs: 1500 });
  return [a, Object.assign({ note: 'the GET that was pending' }, b), c];
});

probe('server_close_pending_get', 'GET pending, then POST "4__close__" (server-side socket.close())', async () => {
  const h = await handshake();
  const pending = request('GET', sidUrl(h.sid), { timeoutMs: 3000 });
  await delay(150);
  const a = await request('POST', sidUrl(h.sid), { body: '4__close__' });
  const b = await pending;
  const c = await request('GET', sidUrl(h.sid), { timeoutMs: 1500 });
  return [a, Object.assign({ note: 'the GET that was pending' }, b), c];
});

probe('server_close_no_pending_get', 'POST "4__close__" with no GET pending, then GET', async () => {
  const h = await handshake();
  const a = await request('POST', sidUrl(h.sid), { body: '4__close__' });
  await delay(100);
  const b = await request('GET', sidUrl(h.sid), { timeoutMs: 1500 });
  const c = await request('GET', sidUrl(h.sid), { timeoutMs: 1500 });
  return [a, b, c];
});

probe('put_live_sid', 'PUT to a live sid', async () => {
  const h = await handshake();
  const a = await request('PUT', sidUrl(h.sid), { body: '4x' });
  const b = await request('GET', sidUrl(h.sid), { timeoutMs: 1500 });
  return [a, b];
});

probe('concurrent_get', 'second GET while a first GET is pending on the same sid', async () => {
  const h = await handshake();
  const first = request('GET', sidUrl(h.sid), { timeoutMs: 3000 });
  await delay(150);
  const second = await request('GET', sidUrl(h.sid), { timeoutMs: 3000 });
  const firstRes = await first;
  const third = await request('GET', sidUrl(h.sid), { timeoutMs: 1500 });
  return [
    Object.assign({ note: 'second GET (sent while the first was pending)' }, second),
    Object.assign({ note: 'first GET' }, firstRes),
    Object.assign({ note: 'third GET afterwards' }, third),
  ];
});

probe('concurrent_post', 'second POST while a first POST body is still being uploaded', async () => {
  const h = await handshake();
  const path = sidUrl(h.sid);
  // first POST: headers + half the announced body, over a raw socket
  const chunks = [];
  const sock = net.connect(Number(BASE.port), BASE.hostname);
  await new Promise((r) => sock.once('connect', r));
  let endedAt = null;
  let errored = null;
  const tStart = Date.now();
  sock.on('data', (d) => chunks.push(d));
  sock.on('end', () => { endedAt = Date.now() - tStart; });
  sock.on('error', (e) => { errored = e.code || e.message; });
  sock.write('POST ' + path + ' HTTP/1.1\r\nHost: ' + BASE.host + '\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 10\r\nConnection: close\r\n\r\n4hello');
  await delay(150);
  const second = await request('POST', path, { body: '4second' });
  if (endedAt === null) sock.write('abcd');
  await delay(300);
  sock.destroy();
  const first = {
    note: 'first POST (raw socket; body left incomplete until after the second POST)',
    raw: Buffer.concat(chunks).toString('latin1'),
    serverClosedConnection: endedAt !== null,
    socketError: errored,
  };
  const third = await request('GET', path, { timeoutMs: 1500 });
  return [Object.assign({ note: 'second POST' }, second), first, Object.assign({ note: 'GET afterwards' }, third)];
});

probe('payload_too_large', 'POST of maxPayload+1 bytes ("4" + "a"*maxPayload) to a live sid, then GET', async () => {
  const h = await handshake();
  const max = h.data.maxPayload;
  if (!max || max > 20000000) return [{ skipped: 'maxPayload ' + max }];
  const body = '4' + 'a'.repeat(max);
  const a = await request('POST', sidUrl(h.sid), { body, bodyNote: '"4" + "a" x ' + max + ' (' + (max + 1) + ' bytes)' });
  const b = await request('GET', sidUrl(h.sid), { timeoutMs: 1500 });
  return [a, b];
});

probe('payload_exactly_max', 'POST of exactly maxPayload bytes, then GET (echo is big, body truncated)', async () => {
  const h = await handshake();
  const max = h.data.maxPayload;
  if (!max || max > 20000000) return [{ skipped: 'maxPayload ' + max }];
  const body = '4' + 'a'.repeat(max - 1);
  const a = await request('POST', sidUrl(h.sid), { body, bodyNote: '"4" + "a" x ' + (max - 1) + ' (' + max + ' bytes)' });
  const b = await request('GET', sidUrl(h.sid), { timeoutMs: 3000, truncate: 40 });
  return [a, b];
});

probe('gzip_poll', 'burst of 300 messages then GET with Accept-Encoding: gzip, deflate, br', async () => {
  const h = await handshake();
  const a = await request('POST', sidUrl(h.sid), { body: '4__burst__:300' });
  const b = await request('GET', sidUrl(h.sid), { headers: { 'Accept-Encoding': 'gzip, deflate, br' }, decompress: true, truncate: 60 });
  return [a, b];
});

probe('small_poll_gzip', 'short echo then GET with Accept-Encoding: gzip (below compression threshold)', async () => {
  const h = await handshake();
  const a = await request('POST', sidUrl(h.sid), { body: '4hi' });
  const b = await request('GET', sidUrl(h.sid), { headers: { 'Accept-Encoding': 'gzip' }, decompress: true });
  return [a, b];
});

async function stillAlive(sid) {
  const a = await request('POST', sidUrl(sid), { body: '4still-alive?' });
  const b = await request('GET', sidUrl(sid), { timeoutMs: 1500 });
  return [Object.assign({ note: 'is the session still alive? POST' }, a), Object.assign({ note: 'is the session still alive? GET' }, b)];
}

probe('transport_mismatch', 'plain GET with a polling sid but transport=websocket, then check the session', async () => {
  const h = await handshake();
  return [await request('GET', sidUrl(h.sid, 'websocket')), ...(await stillAlive(h.sid))];
});

probe('eio_mismatch_on_sid', 'GET on a live sid with EIO=3, then check the session', async () => {
  const h = await handshake();
  return [await request('GET', url('EIO=3&transport=polling&sid=' + h.sid)), ...(await stillAlive(h.sid))];
});

probe('post_unsolicited_pong', 'POST "3" with no ping outstanding, then check the session', async () => {
  const h = await handshake();
  return [await request('POST', sidUrl(h.sid), { body: '3' }), ...(await stillAlive(h.sid))];
});

probe('heartbeat_polling', 'GET held until the server ping; POST "3"; then ping timeout when not answered', async () => {
  if (!HS || HS.pingInterval + HS.pingTimeout > 8000) return [{ skipped: 'ping values too large' }];
  const h = await handshake();
  const a = await request('GET', sidUrl(h.sid), { timeoutMs: HS.pingInterval + 2000 });
  const b = await request('POST', sidUrl(h.sid), { body: '3' });
  const c = await request('GET', sidUrl(h.sid), { timeoutMs: HS.pingInterval + 2000 });
  // do not answer this second ping: next GET is held until the ping timeout
  const d = await request('GET', sidUrl(h.sid), { timeoutMs: HS.pingTimeout + 2000 });
  const e = await request('GET', sidUrl(h.sid), { timeoutMs: 1500 });
  return [
    Object.assign({ note: 'first GET: held until the first ping' }, a),
    Object.assign({ note: 'pong' }, b),
    Object.assign({ note: 'second GET: second ping' }, c),
    Object.assign({ note: 'third GET: pending while the pong is missing' }, d),
    Object.assign({ note: 'GET after the ping timeout' }, e),
  ];
});

probe('heartbeat_polling_no_get', 'no request at all after the handshake: session expiry', async () => {
  if (!HS || HS.pingInterval + HS.pingTimeout > 8000) return [{ skipped: 'ping values too large' }];
  const h = await handshake();
  await delay(HS.pingInterval + HS.pingTimeout + 300);
  const a = await request('GET', sidUrl(h.sid), { timeoutMs: 1500 });
  return [Object.assign({ note: 'GET after pingInterval+pingTimeout+300ms of silence' }, a)];
});

probe('ws_direct', 'WebSocket-only session: open, echo text/binary, ping/pong, server close', async () => {
  const api = await wsOpen('EIO=4&transport=websocket');
  if (!api.rec.opened) return [wsRec(api)];
  const open = await api.next(2000);
  if (open && open.type === 'text' && open.data[0] === '0') {
    try { knownSids.add(JSON.parse(open.data.slice(1)).sid); } catch (e) { /* ignore */ }
  }
  api.send('4hi');
  await api.next(2000);
  api.send(Buffer.from([1, 2, 3, 255]));
  await api.next(2000);
  api.send('4héllo ☃ 😀');
  await api.next(2000);
  if (HS && HS.pingInterval <= 5000) {
    const ping = await api.next(HS.pingInterval + 1500);
    if (ping && ping.type === 'text' && ping.data === '2') api.send('3');
  }
  api.send('4__close__');
  await api.waitClose(2000);
  api.terminate();
  return [wsRec(api)];
});

probe('ws_handshake_headers', 'WebSocket handshake with Origin and permessage-deflate offered', async () => {
  const api = await wsOpen('EIO=4&transport=websocket', { perMessageDeflate: true, headers: { Origin: 'http://example.com' } });
  await api.next(1000);
  api.close();
  await api.waitClose(1000);
  api.terminate();
  return [wsRec(api)];
});

for (const [name, frame] of [['x', 'x'], ['empty', ''], ['client_ping', '2'], ['close_packet', '1'], ['upgrade_packet', '5'], ['probe_ping_after_open', '2probe']]) {
  probe('ws_frame_' + name, 'WebSocket-only session: client sends text frame ' + JSON.stringify(frame), async () => {
    const api = await wsOpen('EIO=4&transport=websocket');
    if (!api.rec.opened) return [wsRec(api)];
    const open = await api.next(2000);
    if (open && open.type === 'text' && open.data[0] === '0') {
      try { knownSids.add(JSON.parse(open.data.slice(1)).sid); } catch (e) { /* ignore */ }
    }
    api.send(frame);
    await api.next(800);
    api.send('4still-open?');
    await api.next(800);
    api.terminate();
    return [wsRec(api)];
  });
}

probe('ws_upgrade', 'polling handshake, GET pending, WebSocket with sid: 2probe/3probe, 5, then messages', async () => {
  const h = await handshake();
  const pending = request('GET', sidUrl(h.sid), { timeoutMs: 3000 });
  await delay(100);
  const api = await wsOpen('EIO=4&transport=websocket&sid=' + h.sid);
  if (!api.rec.opened) return [wsRec(api)];
  api.send('2probe');
  await api.next(2000);
  const p = await pending;
  api.send('5');
  await delay(100);
  api.send('4after-upgrade');
  await api.next(2000);
  const get = await request('GET', sidUrl(h.sid), { timeoutMs: 1500 });
  const post = await request('POST', sidUrl(h.sid), { body: '4via-polling' });
  api.terminate();
  return [
    Object.assign({ note: 'GET that was pending during the probe' }, p),
    wsRec(api),
    Object.assign({ note: 'polling GET after the upgrade' }, get),
    Object.assign({ note: 'polling POST after the upgrade' }, post),
  ];
});

probe('ws_upgrade_pending_get_timing', 'probe without sending "5": what happens to the pending GET (noop cadence)', async () => {
  const h = await handshake();
  const api = await wsOpen('EIO=4&transport=websocket&sid=' + h.sid);
  if (!api.rec.opened) return [wsRec(api)];
  api.send('2probe');
  await api.next(2000);
  const t0 = Date.now();
  const g1 = await request('GET', sidUrl(h.sid), { timeoutMs: 2000 });
  const g2 = await request('GET', sidUrl(h.sid), { timeoutMs: 2000 });
  api.send('5');
  await delay(100);
  const g3 = await request('GET', sidUrl(h.sid), { timeoutMs: 1500 });
  api.terminate();
  return [
    Object.assign({ note: 'GET after 3probe (before "5")', sinceProbeMs: Date.now() - t0 }, g1),
    Object.assign({ note: 'second GET before "5"' }, g2),
    wsRec(api),
    Object.assign({ note: 'GET after "5"' }, g3),
  ];
});

probe('ws_upgrade_twice', 'second WebSocket upgrade on an already upgraded sid', async () => {
  const h = await handshake();
  const a1 = await wsOpen('EIO=4&transport=websocket&sid=' + h.sid);
  a1.send('2probe');
  await a1.next(2000);
  a1.send('5');
  await delay(100);
  const a2 = await wsOpen('EIO=4&transport=websocket&sid=' + h.sid);
  await a2.waitClose(1000);
  a2.terminate();
  a1.send('4first-still-alive?');
  await a1.next(1000);
  a1.terminate();
  return [wsRec(a1), Object.assign({ note: 'second websocket' }, wsRec(a2))];
});

probe('ws_unknown_sid', 'WebSocket upgrade request with an unknown sid (raw bytes)', async () => {
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  const head = 'GET ' + url('EIO=4&transport=websocket&sid=doesnotexist') + ' HTTP/1.1\r\nHost: ' + BASE.host +
    '\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ' + key + '\r\nSec-WebSocket-Version: 13\r\n\r\n';
  return [await rawTcp(head)];
});

probe('ws_eio3', 'WebSocket upgrade request with EIO=3 (raw bytes)', async () => {
  const head = 'GET ' + url('EIO=3&transport=websocket') + ' HTTP/1.1\r\nHost: ' + BASE.host +
    '\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
  return [await rawTcp(head)];
});

probe('ws_bad_transport', 'WebSocket upgrade request with transport=foo (raw bytes)', async () => {
  const head = 'GET ' + url('EIO=4&transport=foo') + ' HTTP/1.1\r\nHost: ' + BASE.host +
    '\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
  return [await rawTcp(head)];
});

probe('ws_transport_polling', 'WebSocket upgrade request with transport=polling', async () => {
  const api = await wsOpen('EIO=4&transport=polling');
  await api.next(800);
  await api.waitClose(1000);
  api.terminate();
  return [wsRec(api)];
});

probe('ws_raw_handshake', 'raw bytes of the 101 response and first frame of a WebSocket-only session', async () => {
  const head = 'GET ' + url('EIO=4&transport=websocket') + ' HTTP/1.1\r\nHost: ' + BASE.host +
    '\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
  const r = await rawTcp(head, { timeoutMs: 800 });
  const m = /"sid":"([^"]+)"/.exec(r.raw || '');
  if (m) knownSids.add(m[1]);
  r.note = 'connection dropped by the prober after 800 ms; the first frame follows the headers (0x81 = FIN+text, then length)';
  return [r];
});

// ---------------------------------------------------------------------------

function md(results) {
  const lines = [];
  for (const r of results) {
    lines.push('### ' + r.probe);
    lines.push('');
    lines.push(r.desc);
    lines.push('');
    lines.push('```json');
    for (const s of r.steps) lines.push(JSON.stringify(s));
    lines.push('```');
    lines.push('');
  }
  return lines.join('\n');
}

async function main() {
  const results = [];
  // handshake first: other probes use its ping values / maxPayload
  for (const p of probes) {
    if (ONLY && !ONLY.has(p.name) && p.name !== 'handshake') continue;
    let steps;
    try {
      steps = await p.fn();
    } catch (e) {
      steps = [{ probeError: e.message }];
    }
    const r = { probe: p.name, desc: p.desc, steps: steps.map(clean) };
    results.push(r);
    if (FORMAT === 'json') process.stdout.write(JSON.stringify(r) + '\n');
  }
  if (FORMAT === 'md') process.stdout.write(md(results) + '\n');
}

main().then(() => {
  setTimeout(() => process.exit(0), 50);
}, (e) => {
  console.error(e);
  process.exit(1);
});
