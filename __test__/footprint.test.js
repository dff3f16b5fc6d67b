'use strict';
// leakwatch's own memory stays bounded under sustained work: 16,000,000 listener operations
// across 100,000 emitters with a memory line every 100 ms. Per-emitter bookkeeping is paid
// once per (emitter, event) and then the heap is flat, and leakwatch's own verdict agrees.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { runNode } = require('./helpers');
const { theilSenSlope } = require('../js/stats');

const MB = 1024 * 1024;

test('16M listener operations over 100k emitters: heap and RSS flat once every emitter was seen', async () => {
  const run = await runNode([path.join(__dirname, 'fixtures', 'footprint.js')], { timeoutMs: 120_000 });
  assert.equal(run.code, 0, run.stderr);
  const { rounds, trend, listeners, internals } = JSON.parse(run.stdout);
  // Rounds 9-16: RSS takes one-time steps in the first seconds, as V8 first touches its
  // young generation's pages and leakwatch's first Node-API references are allocated (seen on
  // Node 24 as late as the 8th round: +8-10 MB, then flat over 70 rounds).
  const late = rounds.slice(8);
  const spread = (key) => Math.max(...late.map((r) => r[key])) - Math.min(...late.map((r) => r[key]));
  // Growth over the last rounds: the median slope between any two of them (Theil-Sen) times
  // their span. Not the spread, nor the end against the lowest: V8 gives back and takes again
  // tens of MB of young-generation pages from round to round when the machine is busy (seen:
  // 150, 205, 205, 205 MB), and a dip is no leak; a leak raises the slope between most pairs.
  const growth = (key) => theilSenSlope(late.map((r, i) => ({ t: i, v: r[key] }))) * (late.length - 1);
  const shown = late.map((r) => `${(r.rss / MB).toFixed(1)}`).join(' ');
  assert.ok(spread('heapUsed') < 1 * MB, `heap after GC moved ${spread('heapUsed')} bytes over the last rounds`);
  assert.ok(growth('rss') < 8 * MB, `RSS grew ${growth('rss')} bytes over the last rounds (MB: ${shown})`);
  assert.notEqual(trend.heap.state, 'leaking');
  // adds and removes are exact; live is what the groups hold now (after 100,000 emitters made
  // at once, EventEmitter's groups count a sample of them): every on/off pair closed, so what is
  // left is the process's own few listeners either way.
  assert.ok(Math.abs(listeners.adds - listeners.removes - listeners.live) <= 16, JSON.stringify(listeners));
  assert.ok(listeners.adds >= 5_000_000 && listeners.removes >= 5_000_000, 'every operation counted');
  assert.equal(internals.gcDropped, 0);
});

// Idle memory: Node's worker_threads module brings its streams with it (~1.6 MB of RSS, half
// of it private), and os's and the rest are what leakwatch needs. In the main thread the addon
// says whether this is a worker, so neither is loaded (a worker has them loaded already).
test('register loads neither node:worker_threads nor node:stream in the main thread', async () => {
  const register = path.join(__dirname, '..', 'js', 'register.js');
  const print = 'console.log(JSON.stringify(process.moduleLoadList))';
  const run = await runNode(['-r', register, '-e', print], { env: { LEAKWATCH_LOG: 'off' } });
  assert.equal(run.code, 0, run.stderr);
  const loaded = JSON.parse(run.stdout.trim().split('\n').at(-1));
  for (const name of ['NativeModule worker_threads', 'NativeModule stream']) {
    assert.ok(!loaded.includes(name), `${name} was loaded`);
  }
  assert.ok(loaded.includes('NativeModule os'), 'the list is the one of a process that ran leakwatch');
});

// Idle memory again: each require() is a dozen path operations in Node's loader, and the two
// dozen files register loaded made V8 optimize Node's path code at start-up, waking its
// optimizing compiler (~4 MB of RSS). It loads one file of JS now (scripts/bundle.js).
test('register loads one file of JS besides itself, and wakes no optimizing compiler at start-up', async () => {
  const register = path.join(__dirname, '..', 'js', 'register.js');
  const print = `console.log(JSON.stringify({
    files: Object.keys(require.cache),
    from: require(${JSON.stringify(register)})[Symbol.for('leakwatch.register')].from,
  }))`;
  const run = await runNode(['--trace-opt', '-r', register, '-e', print], { env: { LEAKWATCH_LOG: 'off' } });
  assert.equal(run.code, 0, run.stderr);
  const { files, from } = JSON.parse(run.stdout.trim().split('\n').at(-1));
  // The bundle is compiled by register itself (for its code cache), not require()d.
  assert.equal(from, 'bundle');
  assert.deepEqual(
    files.filter((f) => f.endsWith('.js')).map((f) => path.relative(path.join(__dirname, '..'), f)),
    [path.join('js', 'register.js')]
  );
  // V8's top tier: Node 24's middle one (Maglev) compiles Node's path code for the addon's load alone.
  assert.doesNotMatch(run.stdout, /target TURBOFAN/, 'a function was optimized at start-up');
});
