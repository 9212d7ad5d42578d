'use strict';
// The ceiling of the Node stack: a bare `ws` WebSocket echo on Node's http
// server, no Engine.IO (engine.io itself runs on `ws`).  Like bare_asgi.py
// it greets each WebSocket with a fixed Engine.IO open packet, so the load
// generator drives it exactly as it drives the Engine.IO servers, then
// echoes every frame back unchanged.  Uses the ws installed in
// ../loadgen/node_modules.
//   node node_ws.js --port 8000
const path = require('path');
const http = require('http');
const WebSocket = require(path.join(__dirname, '..', 'loadgen', 'node_modules', 'ws'));

const OPEN = '0{"sid":"bare","upgrades":[],"pingInterval":25000,' +
  '"pingTimeout":20000,"maxPayload":1000000}';
const i = process.argv.indexOf('--port');
const port = Number(process.argv[i + 1]);
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '2' });
  res.end('ok');
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
