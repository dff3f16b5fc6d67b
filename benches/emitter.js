'use strict';
// Cost of listener tracking: unpatched (A) against patched (B) arms, alternating A B A B …,
// each arm in a fresh child process, CPU time (user + system) per operation. Prints the
// median B/A ratio with its min–max over the rounds, and leakwatch's own memory per 1,000,000
// live listeners (patched heap minus unpatched heap, after a full GC).
//
//   node benches/emitter.js [--rounds 7] [--only on-off,once-emit,…]

const { execFileSync } = require('node:child_process');
const { installFastTracking, median } = require('./harness');

const WORKLOADS = {
  // One listener added and removed on an emitter that keeps other listeners (the usual case).
  'on-off': { ops: 5e6, run: onOff },
  // Same, on an emitter that holds nothing else (Node swaps _events for a new object).
  'on-off-empty': { ops: 5e6, run: onOffEmpty },
  // A third listener of a type that already has two: the array branch.
  'on-off-array': { ops: 5e6, run: onOffArray },
  // A once listener that fires: add, emit, wrapper removes itself.
  'once-emit': { ops: 3e6, run: onceEmit },
  // AbortSignal add/remove (EventTarget path).
  'abort-signal': { ops: 1e6, run: abortSignal },
};
const MEMORY = {
  'mem-1-emitter': { emitters: 1, perEmitter: 1_000_000 },
  'mem-1000-emitters': { emitters: 1000, perEmitter: 1000 },
  'mem-100k-emitters': { emitters: 100_000, perEmitter: 1 },
};

function onOff(n) {
  const EventEmitter = require('node:events');
  const e = new EventEmitter();
  e.on('other', () => {});
  const fn = () => {};
  return timed(n, () => {
    for (let i = 0; i < n; i++) {
      e.on('data', fn);
      e.off('data', fn);
    }
  });
}

function onOffEmpty(n) {
  const EventEmitter = require('node:events');
  const e = new EventEmitter();
  const fn = () => {};
  return timed(n, () => {
    for (let i = 0; i < n; i++) {
      e.on('data', fn);
      e.off('data', fn);
    }
  });
}

function onOffArray(n) {
  const EventEmitter = require('node:events');
  const e = new EventEmitter();
  e.on('data', () => {});
  e.on('data', () => {});
  const fn = () => {};
  return timed(n, () => {
    for (let i = 0; i < n; i++) {
      e.on('data', fn);
      e.off('data', fn);
    }
  });
}

function onceEmit(n) {
  const EventEmitter = require('node:events');
  const e = new EventEmitter();
  e.on('other', () => {});
  const fn = () => {};
  return timed(n, () => {
    for (let i = 0; i < n; i++) {
      e.once('tick', fn);
      e.emit('tick', i);
    }
  });
}

function abortSignal(n) {
  const signal = new AbortController().signal;
  const fn = () => {};
  return timed(n, () => {
    for (let i = 0; i < n; i++) {
      signal.addEventListener('abort', fn);
      signal.removeEventListener('abort', fn);
    }
  });
}

// One full run to warm up (and let the optimizing compiler settle), then one measured.
// Returns ns of CPU time per operation.
function timed(n, loop) {
  loop();
  const t0 = process.cpuUsage();
  loop();
  const t = process.cpuUsage(t0);
  return ((t.user + t.system) * 1000) / n;
}

function memory({ emitters, perEmitter }) {
  const EventEmitter = require('node:events');
  const list = [];
  gc();
  const before = process.memoryUsage();
  for (let i = 0; i < emitters; i++) {
    const e = new EventEmitter();
    e.setMaxListeners(0);
    for (let j = 0; j < perEmitter; j++) e.on('data', noop);
    list.push(e);
  }
  gc();
  const after = process.memoryUsage();
  if (list.length !== emitters) throw new Error('unreachable');
  return after.heapUsed + after.external - (before.heapUsed + before.external);
}

function noop() {}

async function child(arm, name) {
  if (arm === 'B') await installFastTracking();
  const result = name in MEMORY ? memory(MEMORY[name]) : WORKLOADS[name].run(WORKLOADS[name].ops);
  process.stdout.write(JSON.stringify({ result }));
}

function runArm(arm, name) {
  const out = execFileSync(process.execPath, ['--expose-gc', __filename, '--child', arm, name], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out).result;
}

function main(argv) {
  const rounds = Number(flag(argv, '--rounds') ?? 7);
  const only = flag(argv, '--only');
  const names = [...Object.keys(WORKLOADS), ...Object.keys(MEMORY)].filter((n) => !only || only.split(',').includes(n));
  console.log(`node ${process.version}, ${rounds} rounds, arms A (unpatched) / B (patched), each a fresh process`);
  for (const name of names) {
    const a = [];
    const b = [];
    for (let r = 0; r < rounds; r++) {
      a.push(runArm('A', name));
      b.push(runArm('B', name));
    }
    if (name in MEMORY) {
      const own = b.map((x, i) => x - a[i]);
      const { emitters, perEmitter } = MEMORY[name];
      const perMillion = (x) => ((x / (emitters * perEmitter)) * 1e6) / 2 ** 20;
      console.log(
        `${name.padEnd(18)} leakwatch's own: ${perMillion(median(own)).toFixed(2)} MB per 1M listeners ` +
          `(min ${perMillion(Math.min(...own)).toFixed(2)}, max ${perMillion(Math.max(...own)).toFixed(2)}; ` +
          `${Math.round(median(own) / emitters)} bytes per emitter)`
      );
    } else {
      const ratios = b.map((x, i) => x / a[i]);
      console.log(
        `${name.padEnd(18)} A ${median(a).toFixed(1)} ns/op, B ${median(b).toFixed(1)} ns/op, ` +
          `ratio ${median(ratios).toFixed(3)}x (min ${Math.min(...ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)})`
      );
    }
  }
}

function flag(argv, name) {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

if (process.argv[2] === '--child') child(process.argv[3], process.argv[4]);
else main(process.argv.slice(2));
