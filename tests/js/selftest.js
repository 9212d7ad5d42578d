#!/usr/bin/env node
'use strict';
/*
 * Self test: starts server.js (official engine.io) and runs every client.js
 * scenario (official engine.io-client) against it for the transport sets
 * polling-only, websocket-only and polling+websocket (upgrade).
 *
 * Usage: node selftest.js [--url http://127.0.0.1:PORT] [--ping-interval 300]
 *                         [--ping-timeout 200] [--only scenario,scenario]
 *
 * With --url, no server is started and the scenarios run against that URL
 * (e.g. the Python server under test, whose ping settings should then be
 * small for no-pong to finish quickly).
 *
 * Prints each command and its JSON result line, then "N passed, N failed".
 * Exit code 0 when everything expected to pass passed. The "upgrade"
 * scenario is expected to fail (by design) for single-transport sets.
 */

const { spawn, execFile } = require('child_process');
const path = require('path');

const HARD_TIMEOUT_MS = 300000;
setTimeout(() => {
  process.stdout.write('selftest: hard timeout\n');
  process.exit(3);
}, HARD_TIMEOUT_MS).unref();

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) out[a.slice(2)] = 'true';
      else { out[a.slice(2)] = next; i++; }
    }
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const PING_INTERVAL = args['ping-interval'] || '300';
const PING_TIMEOUT = args['ping-timeout'] || '200';
const SCENARIOS = (args.only || 'handshake,echo,order,binary-order,server-close,client-close,upgrade,no-pong,many').split(',');
const TRANSPORT_SETS = ['polling', 'websocket', 'polling,websocket'];

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [
      path.join(__dirname, 'server.js'), '--port', '0',
      '--ping-interval', PING_INTERVAL, '--ping-timeout', PING_TIMEOUT,
      '--log-messages', 'false', '--max-lifetime-ms', String(HARD_TIMEOUT_MS),
    ], { stdio: ['pipe', 'pipe', 'inherit'] });
    let buf = '';
    const t = setTimeout(() => reject(new Error('server did not print READY')), 10000);
    child.stdout.on('data', (d) => {
      buf += d.toString();
      const m = /^READY (\d+)$/m.exec(buf);
      if (m && t) {
        clearTimeout(t);
        resolve({ child, port: Number(m[1]) });
      }
      if (buf.length > 100000) buf = buf.slice(-1000);
    });
    child.on('exit', () => reject(new Error('server exited early')));
  });
}

function runClient(url, scenario, transports) {
  const argv = [path.join(__dirname, 'client.js'), '--url', url, '--scenario', scenario,
    '--transports', transports, '--timeout-ms', '20000'];
  return new Promise((resolve) => {
    execFile(process.execPath, argv, { timeout: 30000 }, (err, stdout) => {
      const line = stdout.trim().split('\n').pop() || '';
      let parsed = null;
      try { parsed = JSON.parse(line); } catch (e) { /* keep null */ }
      resolve({ cmd: 'node client.js ' + argv.slice(1).map((a) => (/[\s,*&]/.test(a) ? JSON.stringify(a) : a)).join(' '), line, parsed, code: err ? err.code : 0 });
    });
  });
}

async function main() {
  let server = null;
  let url = args.url;
  if (!url) {
    server = await startServer();
    url = 'http://127.0.0.1:' + server.port;
    process.stdout.write('# server: node server.js --port 0 --ping-interval ' + PING_INTERVAL +
      ' --ping-timeout ' + PING_TIMEOUT + ' --log-messages false  (port ' + server.port + ')\n');
  }
  let passed = 0;
  let failed = 0;
  for (const transports of TRANSPORT_SETS) {
    for (const scenario of SCENARIOS) {
      const r = await runClient(url, scenario, transports);
      const expectFail = scenario === 'upgrade' && transports !== 'polling,websocket';
      const ok = !!(r.parsed && r.parsed.ok);
      const good = expectFail ? !ok : ok;
      if (good) passed++; else failed++;
      process.stdout.write('$ ' + r.cmd + '\n' + r.line + '\n' +
        (good ? '' : '!! UNEXPECTED RESULT\n') + (expectFail ? '(expected to fail: single transport)\n' : ''));
    }
  }
  if (server) server.child.kill('SIGTERM');
  process.stdout.write(passed + ' passed, ' + failed + ' failed\n');
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  process.stdout.write('selftest error: ' + e.message + '\n');
  process.exit(2);
});
