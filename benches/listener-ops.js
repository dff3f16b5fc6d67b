'use strict';
// What listener tracking adds to the listener operations an http server makes per request,
// each alone: a fresh request emitter's first listener (two per request: ServerResponse
// 'finish', IncomingMessage 'end'), a keep-alive socket's 'close' add and remove (the socket
// holds nine other event types), and removeAllListeners() of a type with no listeners (IncomingMessage 'data').
// Unpatched (A) and patched (B) processes alternate; each prints the best-but-one of 7 timed
// loops, and the median B − A over the rounds is printed in ns per iteration.
//
//   node benches/listener-ops.js [--rounds 5]
// Before timing, both arms run 20,000 operations on twenty emitter classes, so that Node's own
// code has met many classes, as in an app, rather than the two or three of the loop.

const { execFileSync } = require('node:child_process');
const { alternate, median, installFastTracking } = require('./harness');

const N = 1_000_000;
const OPS = {
  fresh: 'two fresh emitters, one listener each',
  pair: "a socket's 'close' add + remove",
  removeAll: 'removeAllListeners(type), none held',
};

async function child(arm, op) {
  if (arm === 'leakwatch') await installFastTracking();
  const EventEmitter = require('node:events');
  warmUp(EventEmitter);
  class Response extends EventEmitter {}
  class Request extends EventEmitter {}
  class Socket extends EventEmitter {}
  const sockets = Array.from({ length: 10 }, () => {
    const s = new Socket();
    for (const type of ['end', 'close', 'timeout', 'error', 'data', 'drain', 'resume', 'pause', 'finish'])
      s.on(type, () => {});
    return s;
  });
  const f = () => {};
  let sink = 0;
  const loops = {
    fresh(n) {
      for (let i = 0; i < n; i++) {
        const res = new Response().on('finish', f);
        const req = new Request().on('end', f);
        sink += res._eventsCount + req._eventsCount;
      }
    },
    pair(n) {
      for (let i = 0; i < n; i++) sockets[i % 10].on('close', f).removeListener('close', f);
    },
    removeAll(n) {
      for (let i = 0; i < n; i++) sockets[i % 10].removeAllListeners('nothing');
    },
  };
  const run = loops[op];
  run(N);
  run(N);
  const times = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    run(N);
    times.push(Number(process.hrtime.bigint() - t0) / N);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ ns: times[1], sink }));
}

function warmUp(EventEmitter) {
  const stream = require('node:stream');
  const classes = Array.from({ length: 12 }, () => class extends EventEmitter {});
  classes.push(stream.PassThrough, stream.Readable, stream.Writable, stream.Duplex, stream.Transform);
  for (let i = 0; i < 20_000; i++) {
    const e = new classes[i % classes.length]();
    const fn = () => {};
    e.on(`x${i % 7}`, fn).on('error', fn);
    e.emit(`x${i % 7}`, 1);
    e.removeListener(`x${i % 7}`, fn).removeAllListeners('y');
  }
}

async function main() {
  const i = process.argv.indexOf('--rounds');
  const rounds = i > 0 ? Number(process.argv[i + 1]) : 5;
  for (const [op, what] of Object.entries(OPS)) {
    const ns = await alternate(['none', 'leakwatch'], rounds, (arm) => {
      const out = execFileSync(process.execPath, [__filename, 'child', arm, op], { encoding: 'utf8' });
      return JSON.parse(out).ns;
    });
    const added = ns.leakwatch.map((v, k) => v - ns.none[k]);
    console.log(
      `${what.padEnd(40)} none ${median(ns.none).toFixed(1)} ns, leakwatch adds ${median(added).toFixed(1)} ns (${added.map((d) => d.toFixed(0)).join(' ')})`
    );
  }
}

if (process.argv[2] === 'child') child(process.argv[3], process.argv[4]);
else
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
