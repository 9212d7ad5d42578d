#!/usr/bin/env node
'use strict';
/*
 * The official socket.io-client (v4, from tests/compat/js/node_modules)
 * against python-socketio running on an Engine.IO cluster: several worker
 * processes behind HAProxy (round robin, no affinity), sharing sessions and
 * Socket.IO rooms through Redis.  The events are those of
 * tests/cluster/servers/sio_cluster_app.py.
 *
 * Usage:
 *   node sio_cluster.js --url http://127.0.0.1:PORT
 *       [--clients 6] [--transports polling,websocket|polling]
 *       [--messages 30] [--hold-ms 3500] [--timeout-ms 40000]
 *       [--workers http://127.0.0.1:P0,http://127.0.0.1:P1,...]
 *
 * Steps, for C clients c0..c(C-1) (auth {name: "c<i>"}):
 *   1. connect all; with polling,websocket wait until each has upgraded;
 *   2. whoami (socket id and the pid of the worker running its handlers),
 *      acknowledged echoes of several payloads, a session value stored
 *      and read back;
 *   3. rooms: the even clients join "r1"; c1 (not a member) emits to_room
 *      "r1" "m-c1"; then one HTTP request /trigger?room=r1 straight to
 *      each worker of --workers in turn (data h0, h1...): every worker
 *      emits to the room once;
 *   4. broadcasts: c2 emits broadcast "b-c2", then two HTTP triggers
 *      without a room through --url (data hb0, hb1), served by whichever
 *      worker HAProxy picks;
 *   5. order: every client emits seq 0..M-1 (no ack), reads them back
 *      (seq_result), then asks for M numbered events "n" (seq_me);
 *   6. heartbeats: for --hold-ms every client sends an acknowledged echo
 *      every 250 ms while the server pings every second;
 *   7. waits until the expected room_msg/bcast/n counts arrived (bounded)
 *      and 500 ms more (a duplicate would show), then disconnects every
 *      client and waits for each to close.
 *
 * Output: one JSON line on stdout: {"ok", "error", "step", "clients": [per
 * client: name, id, pid, initialTransport, transport, upgraded, echo,
 * recall, room_msg, bcast, seq_result, n, ticks, tickErrors, pings,
 * disconnects (reasons seen before step 7's own disconnect), closeReason],
 * "joinPids", "toRoomPid", "broadcastPid", "roomTriggerPids",
 * "broadcastTriggerPids"}.  Exit code 0 when ok (every step ran; the
 * test checks the data), 1 otherwise.  The whole run is bounded by
 * --timeout-ms.
 */
const path = require('path');
const { createRequire } = require('module');

// The npm socket.io-client lives in tests/compat/js/node_modules.
const compatRequire = createRequire(path.join(__dirname, '..', '..', 'compat', 'js', 'package.json'));
const { io } = compatRequire('socket.io-client');

function parseArgs(argv) {
  const args = { clients: 6, transports: 'polling,websocket', messages: 30, holdMs: 3500, timeoutMs: 40000 };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`no value for ${argv[i]}`);
    if (key === 'url') args.url = value;
    else if (key === 'clients') args.clients = parseInt(value, 10);
    else if (key === 'transports') args.transports = value;
    else if (key === 'messages') args.messages = parseInt(value, 10);
    else if (key === 'hold-ms') args.holdMs = parseInt(value, 10);
    else if (key === 'timeout-ms') args.timeoutMs = parseInt(value, 10);
    else if (key === 'workers') args.workers = value.split(',');
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!args.url) throw new Error('--url is required');
  args.workers = args.workers || [];
  for (const u of [args.url, ...args.workers]) {
    if (new URL(u).hostname !== '127.0.0.1') throw new Error(`${u}: only 127.0.0.1`);
  }
  if (!(args.clients >= 3 && args.clients <= 20)) throw new Error('--clients: 3..20');
  args.transportList = args.transports.split(',');
  return args;
}

const args = parseArgs(process.argv);
const result = { ok: false, step: 'start', transports: args.transports, clients: [] };
const sockets = [];
let finished = false;

function finish(extra) {
  if (finished) return;
  finished = true;
  Object.assign(result, extra);
  result.clients = plain(result.clients);
  for (const s of sockets) {
    try { s.disconnect(); } catch (e) { /* closing anyway */ }
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  setTimeout(() => process.exit(result.ok ? 0 : 1), 100);
}

const hardTimer = setTimeout(() => finish({ ok: false, error: 'timeout' }), args.timeoutMs);
hardTimer.unref();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

// Emit with an acknowledgement; resolves with every argument of the ack.
function ack(s, event, ...values) {
  return withTimeout(new Promise((resolve) => {
    s.emit(event, ...values, (...response) => resolve(response));
  }), 10000, `ack of ${event}`);
}

async function waitUntil(cond, ms) {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await sleep(20);
  return cond();
}

async function trigger(base, query) {
  const res = await withTimeout(fetch(`${base}/trigger?${query}`), 10000, `trigger ${query}`);
  const body = await res.text();
  if (res.status !== 200) throw new Error(`trigger ${query}: HTTP ${res.status} ${body}`);
  return JSON.parse(body).pid;
}

function makeClient(i) {
  const s = io(args.url, {
    transports: args.transportList,
    forceNew: true,
    reconnection: false,
    auth: { name: `c${i}` },
  });
  sockets.push(s);
  const c = {
    name: `c${i}`, id: null, pid: null, initialTransport: null, transport: null,
    upgraded: false, echo: [], recall: null, room_msg: [], bcast: [], seq_result: null,
    n: [], ticks: 0, tickErrors: [], pings: 0, disconnects: [], closeReason: null,
    connectError: null,
  };
  c.socket = s;
  s.io.on('open', () => {
    const engine = s.io.engine;
    c.initialTransport = engine.transport.name;
    engine.on('upgrade', () => { c.upgraded = true; });
    engine.on('ping', () => { c.pings += 1; });
  });
  s.on('room_msg', (data) => c.room_msg.push(data));
  s.on('bcast', (data) => c.bcast.push(data));
  s.on('n', (data) => c.n.push(data));
  s.on('disconnect', (reason) => { if (!c.closing) c.disconnects.push(reason); else c.closeReason = reason; });
  s.on('connect_error', (err) => { c.connectError = String(err && err.message); });
  c.connected = new Promise((resolve, reject) => {
    s.once('connect', resolve);
    s.once('connect_error', (err) => reject(new Error(`c${i} connect_error: ${err.message}`)));
  });
  return c;
}

const ECHOES = [
  ['text'],
  [{ a: 1, b: [1, 2, 'x'], c: null }],
  [1, 'two', { three: 3 }, [4]],
  ['héllo ☃ 😀'],
  ['x'.repeat(5000)],
];

async function run() {
  const clients = [];
  for (let i = 0; i < args.clients; i++) clients.push(makeClient(i));
  result.clients = clients;

  result.step = 'connect';
  await withTimeout(Promise.all(clients.map((c) => c.connected)), 10000, 'connect');
  if (args.transportList.includes('websocket') && args.transportList.includes('polling')) {
    await waitUntil(() => clients.every((c) => c.upgraded), 10000);
  }

  result.step = 'whoami';
  await Promise.all(clients.map(async (c) => {
    const [me] = await ack(c.socket, 'whoami');
    c.id = me.sid;
    c.pid = me.pid;
    if (me.sid !== c.socket.id) throw new Error(`${c.name}: whoami sid ${me.sid} != socket.id ${c.socket.id}`);
  }));

  result.step = 'echo';
  await Promise.all(clients.map(async (c) => {
    for (const values of ECHOES) c.echo.push(await ack(c.socket, 'echo', ...values));
    await ack(c.socket, 'remember', `kept-${c.name}`);
    [c.recall] = await ack(c.socket, 'recall');
  }));

  result.step = 'rooms';
  const members = clients.filter((c, i) => i % 2 === 0);
  result.joinPids = await Promise.all(members.map(async (c) => (await ack(c.socket, 'join', 'r1'))[0]));
  [result.toRoomPid] = await ack(clients[1].socket, 'to_room', 'r1', 'm-c1');
  result.roomTriggerPids = [];
  for (const [i, base] of args.workers.entries()) {
    result.roomTriggerPids.push(await trigger(base, `event=room_msg&room=r1&data=h${i}`));
  }

  result.step = 'broadcast';
  [result.broadcastPid] = await ack(clients[2].socket, 'broadcast', 'b-c2');
  result.broadcastTriggerPids = [];
  for (const data of ['hb0', 'hb1']) {
    result.broadcastTriggerPids.push(await trigger(args.url, `event=bcast&data=${data}`));
  }

  result.step = 'order';
  const m = args.messages;
  await Promise.all(clients.map(async (c) => {
    for (let i = 0; i < m; i++) c.socket.emit('seq', i);
    [c.seq_result] = await ack(c.socket, 'seq_result');
    await ack(c.socket, 'seq_me', m);
  }));

  result.step = 'heartbeats';
  const holdEnd = Date.now() + args.holdMs;
  await Promise.all(clients.map(async (c) => {
    let i = 0;
    while (Date.now() < holdEnd) {
      const tick = { tick: i, who: c.name };
      const got = await ack(c.socket, 'echo', tick);
      if (JSON.stringify(got) === JSON.stringify([tick])) c.ticks += 1;
      else c.tickErrors.push(got);
      i += 1;
      await sleep(250);
    }
  }));

  result.step = 'settle';
  const roomCount = 1 + args.workers.length;
  const bcastCount = 3;
  await waitUntil(() => clients.every((c, i) => c.n.length >= m
      && c.bcast.length >= bcastCount && c.room_msg.length >= (i % 2 === 0 ? roomCount : 0)), 5000);
  await sleep(500);

  result.step = 'close';
  for (const c of clients) {
    c.transport = c.socket.io.engine ? c.socket.io.engine.transport.name : null;
    c.closing = true;
  }
  const closed = clients.map((c) => new Promise((resolve) => {
    const engine = c.socket.io.engine;
    if (!engine || engine.readyState === 'closed') { resolve(); return; }
    engine.once('close', () => resolve());
  }));
  for (const c of clients) c.socket.disconnect();
  await withTimeout(Promise.all(closed), 5000, 'close');
  // Leave time for the last requests (polling close) to reach the server.
  await sleep(300);
  result.step = 'done';
}

// The clients' data without their sockets and promises.
function plain(clients) {
  return clients.map((c) => {
    const out = Object.assign({}, c);
    delete out.socket;
    delete out.connected;
    delete out.closing;
    return out;
  });
}

run().then(() => {
  finish({ ok: true });
}, (e) => {
  finish({ ok: false, error: String(e && e.stack ? e.stack : e) });
});
