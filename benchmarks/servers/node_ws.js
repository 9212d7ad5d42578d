'use strict';
// The ceiling of the Node stack: a bare `ws` WebSocket echo on Node's http
// server, no Engine.IO (engine.io itself runs on `ws`).  Like bare_asgi.py
// it greets each WebSocket with a fixed Engine.IO open packet, so the load
// generator drives it exactly as it drives the Engine.IO servers, then
// echoes every frame back unchanged.  Uses the ws installed in
// ../loadgen/node_modules.
//
// Plain HTTP requests get the same bare long-polling echo as bare_asgi.py
// (the Node ceiling of the polling figure): a GET without a sid is the
// handshake, a POST queues its message packets for the sid and answers
// "ok", a GET returns the queued packets or waits for some.  A Map of sid ->
// pending packets and the waiting response, nothing more.
//   node node_ws.js --port 8000
const path = require('path');
const http = require('http');
const WebSocket = require(path.join(__dirname, '..', 'loadgen', 'node_modules', 'ws'));

const OPEN = '0{"sid":"bare","upgrades":[],"pingInterval":25000,' +
  '"pingTimeout":20000,"maxPayload":1000000}';
const i = process.argv.indexOf('--port');
const port = Number(process.argv[i + 1]);
const SEP = '\x1e';
// A held GET is answered with a noop after this long, as a real server
// answers with a ping: nothing waits forever if a client goes away.
const POLL_TIMEOUT_MS = 25000;
const sessions = new Map();
let nextSid = 1;

function reply(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=UTF-8',
    'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function deliver(poll, packets) {
  if (!poll.waiting) return false;
  const res = poll.waiting;
  poll.waiting = null;
  clearTimeout(poll.timer);
  reply(res, 200, packets.join(SEP));
  return true;
}

const server = http.createServer((req, res) => {
  const q = req.url.indexOf('?');
  const sid = q < 0 ? null : new URLSearchParams(req.url.slice(q + 1)).get('sid');
  if (sid === null) {
    const id = `p${nextSid++}`;
    sessions.set(id, { packets: [], waiting: null, timer: null });
    reply(res, 200, `0{"sid":"${id}","upgrades":[],"pingInterval":25000,` +
      '"pingTimeout":20000,"maxPayload":1000000}');
    return;
  }
  const poll = sessions.get(sid);
  if (!poll) {
    reply(res, 400, 'unknown sid');
    return;
  }
  if (req.method === 'POST') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let echo = [];
      for (const packet of Buffer.concat(chunks).toString().split(SEP)) {
        if (packet[0] === '4' || packet[0] === 'b') { // messages are echoed; pongs dropped
          echo.push(packet);
        } else if (packet === '1') {
          // The client's close: end the session and its held GET.
          sessions.delete(sid);
          echo = ['1'];
          break;
        }
      }
      if (echo.length && !deliver(poll, echo)) poll.packets.push(...echo);
      reply(res, 200, 'ok');
    });
    return;
  }
  if (poll.packets.length) {
    const packets = poll.packets;
    poll.packets = [];
    reply(res, 200, packets.join(SEP));
    return;
  }
  poll.waiting = res;
  poll.timer = setTimeout(() => deliver(poll, ['6']), POLL_TIMEOUT_MS);
});
// engine.io's defaults: no permessage-deflate.
const wss = new WebSocket.Server({ server, perMessageDeflate: false, maxPayload: 1e6 });
wss.on('connection', (ws) => {
  ws.send(OPEN);
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
server.listen(port, '127.0.0.1', () => {
  const version = require(path.join(__dirname, '..', 'loadgen', 'node_modules', 'ws', 'package.json')).version;
  console.error(`node bare ws ${version} echo on ${process.version}`);
});
