'use strict';
// What the workloads share: a server on 127.0.0.1 that a parent drives over IPC, a load
// generator with a fixed request rate, and a bounded main loop for plain scripts.
//
// Everything here is bounded: the load by time, rate and requests in flight; every process
// by WORKLOAD_MAX_SECONDS (it exits on its own even if nobody tells it to stop).

const http = require('node:http');

const MAX_SECONDS = Number(process.env.WORKLOAD_MAX_SECONDS || 300);

/** Exits after `seconds` whatever happens, and when the parent goes away. */
function bound(seconds = MAX_SECONDS) {
  setTimeout(() => process.exit(0), seconds * 1000).unref();
  process.on('disconnect', () => process.exit(0));
}

/**
 * Serves `handler(req, res)` on 127.0.0.1 (a free port). With a parent (fork), sends it
 * `{port}` and closes on 'stop'; alone, prints the port.
 */
function serve(handler) {
  bound();
  const server = http.createServer(handler);
  server.keepAliveTimeout = 5000;
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    if (process.send) process.send({ port });
    else console.log(`listening on http://127.0.0.1:${port}/`);
  });
  process.on('message', (msg) => {
    if (msg === 'stop') {
      server.close();
      server.closeAllConnections?.();
      // Let pending timers and leakwatch's final line go; nothing else keeps us here.
      setTimeout(() => process.exit(0), 200);
    }
  });
  return server;
}

/**
 * A string of `bytes` one-byte characters of its own, taking `bytes` bytes of heap. (A
 * constant `'x'.repeat(n)` may be folded into one string shared by every caller, and `padEnd`
 * builds its filler as a tree of shared pieces: both leak far less than they seem to. The
 * JSON round trip makes one flat string.)
 */
function text(prefix, bytes) {
  return JSON.parse(JSON.stringify(String(prefix).padEnd(bytes, '.')));
}

/** A JSON answer of ~2 KB, built fresh: the garbage every real request leaves behind. */
function answer(res, extra = {}) {
  const items = Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['a', 'b'], at: Date.now() }));
  const body = JSON.stringify({ ok: true, items, ...extra });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Sends requests to `port` at `rate(t)` per second (t in seconds since the start) for
 * `seconds`, or until `until()` (asked once a second) says so, never more than `maxInFlight`
 * at once (a request that would exceed it is skipped, as a real client would time out).
 * Resolves to {sent, done, skipped, errors}.
 */
function drive(port, { seconds, rate, path = '/', maxInFlight = 64, until = () => false }) {
  const rateAt = typeof rate === 'function' ? rate : () => rate;
  const agent = new http.Agent({ keepAlive: true, maxSockets: maxInFlight });
  const stats = { sent: 0, done: 0, skipped: 0, errors: 0 };
  const started = Date.now();
  let inFlight = 0;
  let owed = 0;
  const request = () => {
    inFlight++;
    stats.sent++;
    const req = http.get({ host: '127.0.0.1', port, path: `${path}?n=${stats.sent}`, agent }, (res) => {
      res.resume();
      res.on('end', () => {
        inFlight--;
        stats.done++;
      });
    });
    req.on('error', () => {
      inFlight--;
      stats.errors++;
    });
  };
  return new Promise((resolve) => {
    const TICK_MS = 10;
    let askedAt = 0;
    const timer = setInterval(() => {
      const t = (Date.now() - started) / 1000;
      let stop = t >= seconds;
      if (!stop && t - askedAt >= 1) {
        askedAt = t;
        stop = until();
      }
      if (stop) {
        clearInterval(timer);
        agent.destroy();
        resolve(stats);
        return;
      }
      owed += (rateAt(t) * TICK_MS) / 1000;
      for (; owed >= 1; owed--) {
        if (inFlight < maxInFlight) request();
        else stats.skipped++;
      }
    }, TICK_MS);
  });
}

/** For plain scripts: calls `tick(t)` every `everyMs` for WORKLOAD_SECONDS, then exits. */
function runFor(tick, everyMs = 10) {
  const seconds = Number(process.env.WORKLOAD_SECONDS || 60);
  bound(seconds + 5);
  const started = Date.now();
  setInterval(() => {
    const t = (Date.now() - started) / 1000;
    if (t >= seconds) process.exit(0);
    tick(t);
  }, everyMs);
}

module.exports = { serve, answer, drive, runFor, bound, text };
