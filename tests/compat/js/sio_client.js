#!/usr/bin/env node
'use strict';
/*
 * Scenario runner: the official socket.io-client (v4) against a Socket.IO
 * server running on the Python Engine.IO package under test (python-socketio
 * or Flask-SocketIO, see tests/servers/socketio_common.py for the events).
 *
 * Usage:
 *   node sio_client.js --url http://127.0.0.1:PORT --scenario NAME
 *       [--transports polling,websocket] [--timeout-ms 20000]
 *
 * Output: one JSON line on stdout, {"ok":true|false,"scenario":...,...};
 * the "reconnect" scenario prints {"progress":...} lines before it.
 * Exit code 0 when ok, 1 otherwise. A hard timeout prints ok:false with
 * error "timeout" and the data gathered so far.
 *
 * Scenarios:
 *   connect     connect; with polling+websocket wait for the upgrade; one
 *               acknowledged echo; report transports and the socket id.
 *   ack         acknowledgements both ways: echo of text, object and several
 *               arguments; the server calls the client's "question" event
 *               and acknowledges the client's answer.
 *   binary      binary attachments both ways, nested in objects and arrays.
 *   rooms       three clients: room messages reach members only, broadcasts
 *               reach everyone, leaving a room stops its messages.
 *   namespaces  "/" and "/chat" multiplexed on one Engine.IO connection,
 *               "/private" refused with connect_error.
 *   disconnect  a server-initiated disconnect ("bye") and a client one.
 *   burst       200 events emitted at once (so several land in one polling
 *               payload), all must reach the server; then the server emits
 *               200 events at once, all must arrive, in order.
 *   reconnect   connect, print progress; after the server is restarted on
 *               the same port the client reconnects by itself and echoes.
 *   pings       connect and count the server's pings for 2.5 s
 *               (PINGS_WATCH_MS); reports their times.
 *   admin       connect to the "/admin" namespace of an instrumented server
 *               (auth=false) while another client emits; reports what the
 *               admin namespace received: counts of "server_stats",
 *               "socket_connected" (sent again at each ping) and
 *               "event_received", and the aggregated counter types.
 */
const { io, Manager } = require('socket.io-client');

function parseArgs(argv) {
  const args = { transports: 'polling,websocket', timeoutMs: 20000 };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    const value = argv[i + 1];
    if (key === 'url') args.url = value;
    else if (key === 'scenario') args.scenario = value;
    else if (key === 'transports') args.transports = value;
    else if (key === 'timeout-ms') args.timeoutMs = parseInt(value, 10);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  args.transportList = args.transports.split(',');
  return args;
}

const args = parseArgs(process.argv);
const result = { ok: false, scenario: args.scenario, transports: args.transports };
const sockets = [];
let finished = false;

function finish(extra) {
  if (finished) return;
  finished = true;
  Object.assign(result, extra);
  for (const s of sockets) {
    try { s.io.reconnection(false); s.disconnect(); } catch (e) { /* closing anyway */ }
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  // Leave time for the close packets to be written before exiting.
  setTimeout(() => process.exit(result.ok ? 0 : 1), 100);
}

function fail(error) {
  finish({ ok: false, error: String(error && error.stack ? error.stack : error) });
}

function progress(data) {
  process.stdout.write(JSON.stringify(Object.assign({ progress: true }, data)) + '\n');
}

const hardTimer = setTimeout(() => finish({ ok: false, error: 'timeout' }), args.timeoutMs);
hardTimer.unref();

function connectSocket(nsp, extra) {
  const opts = Object.assign({
    transports: args.transportList,
    forceNew: true,
    reconnection: false,
  }, extra || {});
  const s = io(args.url + (nsp || ''), opts);
  sockets.push(s);
  return s;
}

function waitEvent(emitter, event, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    emitter.once(event, (...values) => { clearTimeout(timer); resolve(values); });
  });
}

function connected(s) {
  if (s.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    s.once('connect', resolve);
    s.once('connect_error', (err) => reject(new Error(`connect_error: ${err.message}`)));
  });
}

// Emit with an acknowledgement; resolves with every argument of the ack
// (emitWithAck keeps only the first one).
function ack(s, event, ...values) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${event}`)), 10000);
    s.emit(event, ...values, (...response) => { clearTimeout(timer); resolve(response); });
  });
}

function collect(s, event) {
  const got = [];
  s.on(event, (...values) => got.push(values.length === 1 ? values[0] : values));
  return got;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function bytes(value) {
  return Array.from(Buffer.from(value));
}

function assertEqual(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

const scenarios = {
  async connect() {
    const s = connectSocket();
    // The upgrade may finish before the Socket.IO CONNECT is answered, so
    // the first transport is read when the Engine.IO connection opens.
    let initial = null;
    let upgraded = false;
    s.io.once('open', () => {
      initial = s.io.engine.transport.name;
      s.io.engine.once('upgrade', () => { upgraded = true; });
    });
    await connected(s);
    if (args.transportList.includes('websocket') && args.transportList.includes('polling')) {
      const deadline = Date.now() + 10000;
      while (!upgraded && Date.now() < deadline) await sleep(10);
    }
    const [echoed] = await ack(s, 'echo', 'hello');
    assertEqual(echoed, 'hello', 'echo');
    return { id: s.id, initialTransport: initial, transport: s.io.engine.transport.name, upgraded };
  },

  async ack() {
    const s = connectSocket();
    s.on('question', (data, cb) => cb({ answer: data.x * 2 }));
    await connected(s);
    assertEqual(await ack(s, 'echo', 'text'), ['text'], 'text echo');
    assertEqual(await ack(s, 'echo', { a: 1, b: [1, 2, 'x'] }), [{ a: 1, b: [1, 2, 'x'] }], 'object echo');
    assertEqual(await ack(s, 'echo', 1, 'two', { three: 3 }, [4]), [1, 'two', { three: 3 }, [4]], 'multi-argument echo');
    assertEqual(await ack(s, 'echo'), [], 'no-argument echo');
    assertEqual(await ack(s, 'echo', 'héllo ☃ 😀'), ['héllo ☃ 😀'], 'unicode echo');
    assertEqual(await ack(s, 'ask_client', { x: 21 }), [{ answer: 42 }], 'server to client ack');
    assertEqual(await ack(s, 'session_roundtrip', 'kept'), ['kept'], 'session');
    return { transport: s.io.engine.transport.name };
  },

  async binary() {
    const s = connectSocket();
    await connected(s);
    const payload = { buf: Buffer.from([0, 1, 2, 253, 254, 255]), nested: [Buffer.from('hi'), 'plain', { deep: Buffer.from([7]) }] };
    const [back] = await ack(s, 'echo', payload);
    assertEqual(bytes(back.buf), [0, 1, 2, 253, 254, 255], 'buf');
    assertEqual(bytes(back.nested[0]), bytes('hi'), 'nested[0]');
    assertEqual(back.nested[1], 'plain', 'nested[1]');
    assertEqual(bytes(back.nested[2].deep), [7], 'deep');
    const two = await ack(s, 'echo', Buffer.from('first'), Buffer.from('second'));
    assertEqual(two.map(bytes), [bytes('first'), bytes('second')], 'two buffers');
    const binEvent = waitEvent(s, 'bin', 5000);
    await ack(s, 'emit_binary');
    const [bin] = await binEvent;
    assertEqual(bytes(bin.raw), [0, 1, 254, 255], 'server raw');
    assertEqual([bytes(bin.list[0]), bin.list[1], bytes(bin.list[2])], [bytes('ab'), 'text', bytes('cd')], 'server list');
    return { transport: s.io.engine.transport.name };
  },

  async rooms() {
    const [a, b, c] = [connectSocket(), connectSocket(), connectSocket()];
    await Promise.all([connected(a), connected(b), connected(c)]);
    const got = { a: collect(a, 'room_msg'), b: collect(b, 'room_msg'), c: collect(c, 'room_msg') };
    const bc = { a: collect(a, 'bcast'), b: collect(b, 'bcast'), c: collect(c, 'bcast') };
    await ack(a, 'join', 'r1');
    await ack(b, 'join', 'r1');
    await ack(a, 'to_room', 'r1', 'm1');
    await ack(c, 'broadcast', 'everyone');
    await ack(b, 'leave', 'r1');
    await ack(c, 'to_room', 'r1', 'm2');
    // Delivery to the other clients is not acknowledged: give it time.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && !(got.a.length >= 2 && got.b.length >= 1
        && bc.a.length && bc.b.length && bc.c.length)) {
      await sleep(20);
    }
    await sleep(200);
    assertEqual(got.a, ['m1', 'm2'], 'room member a');
    assertEqual(got.b, ['m1'], 'room member b (left before m2)');
    assertEqual(got.c, [], 'non-member c');
    assertEqual([bc.a, bc.b, bc.c], [['everyone'], ['everyone'], ['everyone']], 'broadcast');
    return { transport: a.io.engine.transport.name };
  },

  async namespaces() {
    const manager = new Manager(args.url, { transports: args.transportList, reconnection: false });
    const main = manager.socket('/');
    const chat = manager.socket('/chat');
    const priv = manager.socket('/private');
    sockets.push(main, chat, priv);
    const refused = new Promise((resolve) => priv.once('connect_error', (err) => resolve(err.message)));
    await Promise.all([connected(main), connected(chat)]);
    assertEqual(await ack(main, 'echo', 'x'), ['x'], 'main echo');
    assertEqual(await ack(chat, 'echo', 'x'), ['chat', 'x'], 'chat echo');
    const message = await refused;
    if (main.id === chat.id) throw new Error('namespaces share a socket id');
    return { refused: message, mainId: main.id, chatId: chat.id, engineId: manager.engine.id };
  },

  async disconnect() {
    const s1 = connectSocket();
    const s2 = connectSocket();
    await Promise.all([connected(s1), connected(s2)]);
    const ids = { byServer: s1.id, byClient: s2.id };
    const closed = waitEvent(s1, 'disconnect', 10000);
    s1.emit('bye');
    const [reason] = await closed;
    s2.disconnect();
    return Object.assign(ids, { serverDisconnectReason: reason });
  },

  async burst() {
    const s = connectSocket();
    await connected(s);
    // Record the largest batch of packets the client writes at once: over
    // polling it is one HTTP payload (python-engineio refuses more than 16).
    let maxBatch = 0;
    const transport = s.io.engine.transport;
    const send = transport.send.bind(transport);
    transport.send = (packets) => { maxBatch = Math.max(maxBatch, packets.length); return send(packets); };
    const n = 200;
    for (let i = 0; i < n; i++) s.emit('burst', i);
    const [report] = await ack(s, 'burst_result', n);
    const received = collect(s, 'b');
    await ack(s, 'burst_me', n);
    const deadline = Date.now() + 10000;
    while (received.length < n && Date.now() < deadline) await sleep(20);
    const inOrder = received.every((v, i) => v === i);
    return { toServer: report, fromServer: received.length, fromServerInOrder: inOrder, maxBatch, transport: s.io.engine.transport.name };
  },

  async reconnect() {
    const s = connectSocket('', { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 300, randomizationFactor: 0 });
    let connects = 0;
    const ids = [];
    return await new Promise((resolve, reject) => {
      s.on('connect', async () => {
        connects += 1;
        ids.push(s.id);
        progress({ connected: connects, id: s.id });
        if (connects === 2) {
          try {
            const [echoed] = await ack(s, 'echo', 'after restart');
            resolve({ connects, ids, echoed, transport: s.io.engine.transport.name });
          } catch (e) { reject(e); }
        }
      });
      s.on('disconnect', (reason) => progress({ disconnected: reason }));
    });
  },

  async pings() {
    const s = connectSocket();
    await connected(s);
    const engine = s.io.engine;
    const times = [];
    const start = Date.now();
    engine.on('ping', () => times.push(Date.now() - start));
    await sleep(Number(process.env.PINGS_WATCH_MS || 2500));
    return { pings: times.length, times, pingInterval: engine._pingInterval, pingTimeout: engine._pingTimeout };
  },

  async admin() {
    const admin = connectSocket('/admin');
    const seen = { server_stats: 0, socket_connected: 0, event_received: 0, config: 0 };
    for (const event of Object.keys(seen)) admin.on(event, () => { seen[event] += 1; });
    // The aggregated counters the instrumentation reports (packetsIn,
    // bytesOut...): they come from its hooks on the Engine.IO server.
    const aggregated = new Set();
    admin.on('server_stats', (stats) => {
      for (const item of stats.aggregatedEvents || []) aggregated.add(item.type);
    });
    await connected(admin);
    // The only client of "/" is the user below: the first report arrives
    // before its connect event, then one more at each ping.
    const userConnected = [];
    admin.on('socket_connected', (socket) => { if (socket.nsp === '/') userConnected.push(socket.transport); });
    const user = connectSocket();
    await connected(user);
    const enough = () => seen.server_stats >= 2 && seen.event_received >= 3
      && userConnected.length >= 2 && aggregated.has('packetsIn') && aggregated.has('packetsOut');
    const deadline = Date.now() + Math.min(8000, args.timeoutMs - 4000);
    while (Date.now() < deadline && !enough()) {
      assertEqual(await ack(user, 'echo', 'watched'), ['watched'], 'echo');
      await sleep(100);
    }
    return { seen, userConnected, aggregated: Array.from(aggregated).sort(), transport: user.io.engine.transport.name };
  },
};

async function main() {
  const run = scenarios[args.scenario];
  if (!args.url || !run) {
    finish({ ok: false, error: `bad command line: ${process.argv.slice(2).join(' ')}` });
    return;
  }
  try {
    finish(Object.assign({ ok: true }, await run()));
  } catch (e) {
    fail(e);
  }
}

main();
