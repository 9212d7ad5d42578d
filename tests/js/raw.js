#!/usr/bin/env node
'use strict';
/*
 * Print the raw HTTP response of one request, to compare the Python server
 * with the official engine.io server.
 *
 * Usage:
 *   node raw.js METHOD URL [BODY] [-H 'Name: value']... [--timeout-ms 10000]
 *               [--body-hex HEX] [--tcp] [--pretty]
 *
 * Default mode uses Node's http client and prints one JSON line:
 *   {"method","url","status","statusMessage","httpVersion",
 *    "headers":[[name,value],...]   (as received: order and case preserved),
 *    "body": "<utf-8 decoded body>", "bodyHex": "<only if not valid UTF-8>",
 *    "bodyLength": N, "elapsedMs": N}
 * On timeout (e.g. a long-poll GET that the server holds) it prints
 *   {"timeout":true, ...whatever was received so far} and exits 3.
 * Node's client adds "Host" and "Connection: keep-alive" (and
 * "Content-Length" when a body is given) to the request; -H overrides.
 *
 * --tcp sends a hand-written HTTP/1.1 request over a plain TCP socket
 * ("Connection: close") and prints {"raw": "<exact response bytes as a
 * string>"}: use it to see exact status lines, header order and chunking.
 *
 * Exit code: 0 when a response was received, 3 on timeout, 1 on error.
 * Only loopback URLs are accepted.
 */

const http = require('http');
const net = require('net');

const argv = process.argv.slice(2);
const pos = [];
const headers = [];
let timeoutMs = 10000;
let bodyHex = null;
let tcp = false;
let pretty = false;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '-H' || a === '--header') {
    const h = argv[++i] || '';
    const c = h.indexOf(':');
    if (c < 1) {
      console.error('bad header: ' + h);
      process.exit(2);
    }
    headers.push([h.slice(0, c).trim(), h.slice(c + 1).trim()]);
  } else if (a === '--timeout-ms') {
    timeoutMs = Number(argv[++i]);
  } else if (a === '--body-hex') {
    bodyHex = argv[++i];
  } else if (a === '--tcp') {
    tcp = true;
  } else if (a === '--pretty') {
    pretty = true;
  } else {
    pos.push(a);
  }
}

function out(obj, code) {
  process.stdout.write(JSON.stringify(obj, null, pretty ? 2 : 0) + '\n', () => process.exit(code));
  setTimeout(() => process.exit(code), 500).unref();
}

if (pos.length < 2) {
  console.error('usage: node raw.js METHOD URL [BODY] [-H "Name: value"]... [--timeout-ms N] [--body-hex HEX] [--tcp] [--pretty]');
  process.exit(2);
}

const method = pos[0].toUpperCase();
const url = new URL(pos[1]);
if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(url.hostname) && !url.hostname.startsWith('127.')) {
  console.error('refusing non-loopback host ' + url.hostname);
  process.exit(2);
}
let body = null;
if (bodyHex !== null) body = Buffer.from(bodyHex, 'hex');
else if (pos.length > 2) body = Buffer.from(pos[2], 'utf8');

function decodeBody(buf) {
  const r = { body: buf.toString('utf8'), bodyLength: buf.length };
  if (!Buffer.from(r.body, 'utf8').equals(buf)) r.bodyHex = buf.toString('hex');
  return r;
}

const t0 = Date.now();
const hard = setTimeout(() => {
  out(Object.assign({ timeout: true, method, url: url.href, elapsedMs: Date.now() - t0 }, partial), 3);
}, timeoutMs);
hard.unref();
let partial = {};

if (tcp) {
  const lines = [method + ' ' + url.pathname + url.search + ' HTTP/1.1', 'Host: ' + url.host];
  const hasHeader = (n) => headers.some(([k]) => k.toLowerCase() === n);
  for (const [k, v] of headers) lines.push(k + ': ' + v);
  if (!hasHeader('connection')) lines.push('Connection: close');
  if (body && !hasHeader('content-length')) lines.push('Content-Length: ' + body.length);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  const chunks = [];
  const sock = net.connect(Number(url.port || 80), url.hostname.replace(/^\[|\]$/g, ''), () => {
    sock.write(body ? Buffer.concat([head, body]) : head);
  });
  sock.on('data', (d) => {
    chunks.push(d);
    partial = { raw: Buffer.concat(chunks).toString('latin1') };
  });
  sock.on('end', () => {
    out({ method, url: url.href, raw: Buffer.concat(chunks).toString('latin1'), elapsedMs: Date.now() - t0 }, 0);
  });
  sock.on('error', (e) => out({ method, url: url.href, error: e.message }, 1));
} else {
  const h = {};
  const req = http.request(url, { method, headers: headers.length ? headers.flat() : undefined, agent: false }, (res) => {
    partial = {
      status: res.statusCode,
      statusMessage: res.statusMessage,
      httpVersion: res.httpVersion,
      headers: pairs(res.rawHeaders),
    };
    const chunks = [];
    res.on('data', (d) => chunks.push(d));
    res.on('end', () => {
      out(Object.assign({ method, url: url.href }, partial, decodeBody(Buffer.concat(chunks)), { elapsedMs: Date.now() - t0 }), 0);
    });
    res.on('error', (e) => out(Object.assign({ method, url: url.href, error: e.message }, partial), 1));
  });
  req.on('error', (e) => out({ method, url: url.href, error: e.message }, 1));
  if (body) req.end(body);
  else req.end();
  void h;
}

function pairs(raw) {
  const r = [];
  for (let i = 0; i < raw.length; i += 2) r.push([raw[i], raw[i + 1]]);
  return r;
}
