'use strict';
// Shared by the metrics tests: the Prometheus tools (Debian's `prometheus` package), a free
// port, an HTTP GET, and a parser for the text format.

const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const { spawnSync } = require('node:child_process');

const PROMTOOL = '/usr/bin/promtool';
const PROMETHEUS = '/usr/bin/prometheus';

/**
 * Whether a tool is there. Outside CI a missing tool skips the test (or, with `part`, only
 * the part that needs it) with a message saying what to install; under CI (CI set) it fails:
 * CI installs it, so missing means broken.
 */
function requireTool(t, path, { part = false } = {}) {
  if (fs.existsSync(path)) return true;
  const why = `${path} is not installed (apt-get install prometheus)`;
  if (process.env.CI) throw new Error(`${why}, and CI must run this test`);
  if (part) t.diagnostic(`${why}: its check was skipped outside CI`);
  else t.skip(`${why}; skipped outside CI`);
  return false;
}

/** `promtool check metrics` on a text: {ok, output} (any output is a lint problem). */
function promtoolCheck(text) {
  const run = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return {
    ok: run.status === 0 && `${run.stdout}${run.stderr}`.trim() === '',
    output: `${run.status}: ${run.stdout}${run.stderr}`,
  };
}

/** A port free right now on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** GET a URL: {status, headers, body}. */
function get(url, { agent = false, method = 'GET' } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.end();
  });
}

/** Samples of a text-format page: [{name, labels, value}] (HELP/TYPE lines left out). */
function parseText(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[k] = v.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1], labels, value: Number(m[3].replace('+Inf', 'Infinity')) });
  }
  return samples;
}

/** The value of one sample (matching every given label), or undefined. */
function valueOf(samples, name, labels = {}) {
  const s = samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s?.value;
}

/** Waits until `check()` returns a truthy value, polling; rejects after `timeoutMs`. */
async function waitFor(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
}

/**
 * Code for a child (`node -e`) that prints how many TCP sockets it is listening on: its
 * socket fds matched against the LISTEN entries of /proc/net/tcp and tcp6, as lsof would.
 */
const COUNT_LISTENING = `
  const fs = require('node:fs');
  const inodes = new Set(fs.readdirSync('/proc/self/fd').map((fd) => { try { return fs.readlinkSync('/proc/self/fd/' + fd); } catch { return ''; } })
    .map((l) => /^socket:\\[(\\d+)\\]$/.exec(l)?.[1]).filter(Boolean));
  let listening = 0;
  for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    for (const row of fs.readFileSync(table, 'utf8').trim().split('\\n').slice(1)) {
      const f = row.trim().split(/\\s+/);
      if (f[3] === '0A' && inodes.has(f[9])) listening++;
    }
  }
  console.log(listening);`;

module.exports = {
  COUNT_LISTENING,
  PROMTOOL,
  PROMETHEUS,
  requireTool,
  promtoolCheck,
  freePort,
  get,
  parseText,
  valueOf,
  waitFor,
};
