'use strict';
// Allocation sites: V8's sampling heap profile, read by leakwatch, names where the heap's
// growth was allocated, in `lw.heapGrowth()` and in every heap warning, on real allocation.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const inspector = require('node:inspector');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const lw = require('..');
const { forceGc } = require('../js/force-gc');
const { runNode, tempDir, logLines } = require('./helpers');

const REGISTER = path.join(__dirname, '..', 'js', 'register.js');
const FIXTURE = path.join(__dirname, 'fixtures', 'trend-workload.js');

/** The 1-based line where `needle` first appears in `file`. */
function lineOf(file, needle) {
  return (
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .findIndex((l) => l.includes(needle)) + 1
  );
}

const kept = [];
// Keeps ~`mb` MB of records: the leak whose site the profile must name.
function keepSessions(mb) {
  for (let i = 0; i < mb * 1000; i++)
    kept.push({ i, values: [i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6, i + 7], next: null, tag: null });
}
let scratch = null;
// Allocates as much again and drops it: garbage, which is no leak and must not be named.
function makeGarbage(mb) {
  for (let i = 0; i < mb * 1000; i++)
    scratch = { i, values: [i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6, i + 7], next: scratch && null };
}

test('heapGrowth() names the function that keeps what the heap gained, not the one making garbage', () => {
  lw.start({ log: 'off' });
  try {
    forceGc();
    assert.equal(lw.heapGrowth().state, 'on');
    const before = process.memoryUsage().heapUsed;
    for (let round = 0; round < 5; round++) {
      keepSessions(32);
      makeGarbage(32);
    }
    forceGc();
    const kept = process.memoryUsage().heapUsed - before;
    const growth = lw.heapGrowth();
    const [top] = growth.sites;
    const seen = JSON.stringify(growth);
    assert.ok(top, `no site named: ${seen}`);
    assert.equal(top.function, 'keepSessions', seen);
    assert.equal(top.file, __filename, seen);
    assert.equal(top.line, lineOf(__filename, 'function keepSessions'));
    // ~30 samples at V8's 512 KiB interval: another site's sample or two cannot reach 30 %,
    // and the estimate is within a factor of 2 of what was kept but for 1 run in 10,000.
    assert.ok(top.share > 0.7, seen);
    assert.ok(top.growthBytes > kept / 3 && top.growthBytes < kept * 3, `kept ${kept}: ${seen}`);
    assert.ok(!growth.sites.some((s) => s.function === 'makeGarbage'), seen);
    // keepSessions, and the test function it was called from for most of its growth.
    assert.match(
      growth.message,
      /^Most of the growth was allocated at __test__\/heap-profile\.test\.js:\d+:\d+ \(keepSessions, (mostly called from __test__\/heap-profile\.test\.js:\d+:\d+ in \S+, )?\+\d+\.\d MB, \d+ %\)/
    );
    const { heapProfile } = lw.stats();
    assert.ok(heapProfile.reads >= 2 && heapProfile.skipped === 0, JSON.stringify(heapProfile));
    assert.ok(heapProfile.maxReadMs > 0);
  } finally {
    lw.stop();
    kept.length = 0;
  }
});

test('heapProfile: false runs no profile and names no site', () => {
  lw.start({ log: 'off', heapProfile: false });
  try {
    keepSessions(2);
    const { state, message, sites, latestReadMs } = lw.heapGrowth();
    assert.deepEqual(
      { state, message, sites, latestReadMs },
      { state: 'off', message: null, sites: [], latestReadMs: null }
    );
    assert.equal(lw.stats().heapProfile.state, 'off');
  } finally {
    lw.stop();
    kept.length = 0;
  }
});

test('stop() stops the profiler it started: a second start starts its own', () => {
  for (let i = 0; i < 3; i++) {
    lw.start({ log: 'off' });
    assert.equal(lw.stats().heapProfile.state, 'on', `start ${i + 1}`);
    lw.stop();
  }
  assert.equal(lw.heapGrowth(), null, 'nothing to read once stopped');
});

test("another profiler's sampling is left alone: leakwatch neither reads nor stops it", async () => {
  const session = new inspector.Session();
  session.connect();
  const post = (method, params = {}) =>
    new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  await post('HeapProfiler.startSampling', { samplingInterval: 65536 });
  try {
    lw.start({ log: 'off' });
    assert.equal(lw.stats().heapProfile.state, 'in use by another profiler');
    assert.deepEqual(lw.heapGrowth().sites, []);
    lw.stop();
    keepSessions(2);
    const { profile } = await post('HeapProfiler.getSamplingProfile');
    assert.ok(profile.samples.length > 0, "the other profiler's sampling still runs after leakwatch stopped");
  } finally {
    await post('HeapProfiler.stopSampling');
    session.disconnect();
    kept.length = 0;
  }
});

test('perf_hooks GC source: no profile ("unavailable")', () => {
  lw.start({ log: 'off', gcSource: 'perf_hooks' });
  try {
    assert.equal(lw.stats().heapProfile.state, 'unavailable');
  } finally {
    lw.stop();
  }
});

test('a worker that starts leakwatch itself profiles its own isolate', async () => {
  lw.start({ log: 'off' });
  try {
    const code = `
      const { parentPort } = require('node:worker_threads');
      const lw = require(${JSON.stringify(path.join(__dirname, '..'))});
      lw.start({ log: 'off' });
      const state = lw.stats().heapProfile.state;
      lw.stop();
      parentPort.postMessage(state);`;
    const worker = new Worker(code, { eval: true });
    const [state] = await Promise.all([
      new Promise((resolve) => worker.once('message', resolve)),
      new Promise((resolve) => worker.once('exit', resolve)),
    ]);
    assert.equal(state, 'on');
    assert.equal(lw.stats().heapProfile.state, 'on', "the main thread's profile is its own");
  } finally {
    lw.stop();
  }
});

test('LEAKWATCH_HEAP_PROFILE=off under register', async () => {
  const run = await runNode(['-r', REGISTER, '-e', "console.log(require('.').stats().heapProfile.state)"], {
    env: { LEAKWATCH_HEAP_PROFILE: 'off', LEAKWATCH_LOG: 'off' },
  });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'off');
});

test('a heap warning names the allocation site of the leak; a listener leak at the same time points at it', async () => {
  const log = path.join(tempDir('lw-sites-'), 'memory.log');
  const heap = { window: '30s', warmup: '10s', sustain: '6s', minGrowth: '24MB' };
  const child = await runNode([FIXTURE, 'session-leak', '45'], {
    env: { LOG: log, HEAP: JSON.stringify(heap), STOP_ON: 'LEAKWATCH_HEAP_GROWTH', LISTENER_LEAK_ON_HEAP: '1' },
    timeoutMs: 90_000,
  });
  assert.equal(child.code, 0, child.stderr);
  const warning = logLines(fs.readFileSync(log, 'utf8')).find((l) => l.code === 'LEAKWATCH_HEAP_GROWTH');
  assert.ok(warning, 'the leak was called');
  // The leak's code: saveSession, or the workload's loop when V8 inlined saveSession into it
  // (V8 names the outermost function of optimized code). The helper that makes each record's
  // 1 KB string holds about half the bytes, and is named too.
  const [first, last] = [lineOf(FIXTURE, "'session-leak'"), lineOf(FIXTURE, "'buffer-leak'")];
  const inLeak = (s) => s.file === FIXTURE && s.line > first && s.line < last;
  const sites = warning.details.allocationSites;
  const named = sites.filter(inLeak);
  const helper = sites.find((s) => s.function === 'text');
  assert.ok(named.length > 0 && named.reduce((sum, s) => sum + s.share, 0) > 0.25, JSON.stringify(sites));
  assert.ok(named.concat(helper ?? []).reduce((sum, s) => sum + s.share, 0) > 0.7, JSON.stringify(sites));
  assert.match(
    warning.message,
    new RegExp(
      `Most of the growth was allocated at .*__test__/fixtures/trend-workload\\.js:${named[0].line}:${named[0].column} `
    )
  );
  // While the profile runs, the log judges the old heap too (allocations older than 30 s).
  const memory = logLines(fs.readFileSync(log, 'utf8')).filter((l) => l.event === 'memory');
  assert.ok(
    memory.some((l) => ['warming-up', 'stable', 'growing', 'leaking'].includes(l.trend.oldHeap?.state)),
    JSON.stringify(memory.at(-1)?.trend)
  );
  // A listener leak while the heap leaks: its warning points at the heap's.
  const listener = logLines(fs.readFileSync(log, 'utf8')).find((l) => l.code === 'LEAKWATCH_LISTENER_LEAK');
  assert.ok(listener, 'the listener leak was called');
  assert.match(
    listener.message,
    /The heap left after full GCs is leaking at the same time \(LEAKWATCH_HEAP_GROWTH\)\.$/
  );
});
