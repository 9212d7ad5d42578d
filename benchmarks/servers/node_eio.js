'use strict';
// The official Node engine.io server, echoing every message (defaults
// otherwise).  Uses the engine.io installed in ../loadgen/node_modules.
//   node node_eio.js --port 8000
const path = require('path');
const http = require('http');
const engine = require(path.join(__dirname, '..', 'loadgen', 'node_modules', 'engine.io'));

const i = process.argv.indexOf('--port');
const port = Number(process.argv[i + 1]);
const server = http.createServer();
const eio = engine.attach(server);
eio.on('connection', (socket) => {
  socket.on('message', (data) => socket.send(data));
});
server.listen(port, '127.0.0.1', () => {
  const version = require(path.join(__dirname, '..', 'loadgen', 'node_modules', 'engine.io', 'package.json')).version;
  console.error(`node engine.io ${version} on ${process.version}`);
});
