'use strict';
/*
 * What the one-shot peer scripts (exact.js, keepalive.js) share: their
 * command line (--url, loopback only; --timeout-ms; their own options) and
 * printing one JSON result line, with a hard timeout.
 */

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]', '::1'];

/** Parse `--url`, `--timeout-ms` and the script's own `--name value`
 * options (`required` lists the ones that must be given). */
function parseArgs(argv, defaults, required = []) {
  const out = { timeoutMs: 15000, ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--timeout-ms') out.timeoutMs = Number(argv[++i]);
    else if (a.startsWith('--') && a !== '--timeout-ms'
             && (a === '--url' || a.slice(2) in out)) {
      out[a.slice(2)] = argv[++i];
    } else {
      console.error('unknown argument ' + a);
      process.exit(2);
    }
  }
  for (const name of ['url', ...required]) {
    if (!out[name]) {
      console.error(`--${name} is required`);
      process.exit(2);
    }
  }
  if (!LOOPBACK.includes(new URL(out.url).hostname)) {
    console.error('only loopback URLs are accepted');
    process.exit(2);
  }
  return out;
}

/** `finish(code)` prints `result` as one JSON line and exits; after
 * `timeoutMs` it is called with 3 and `result.timeout = true`. */
function oneShot(result, timeoutMs) {
  const finish = (code) => {
    process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(code));
  };
  setTimeout(() => {
    result.timeout = true;
    finish(3);
  }, timeoutMs).unref();
  return finish;
}

module.exports = { parseArgs, oneShot };
