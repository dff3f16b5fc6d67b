'use strict';
// The programmatic API in this very process: start/stop/stats, events, sinks, bad options.

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const lw = require('..');
const { forceGc } = require('../js/force-gc');
const { tempDir, runNode, REGISTER, memoryLines } = require('./helpers');

// leakwatch never keeps the loop alive, so a test waiting for its events must: a timer does,
// and fails the wait if the event never comes.
function once(emitter, name, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${name}' event in ${timeoutMs} ms`)), timeoutMs);
    emitter.once(name, (value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

test('stats() reflects real GCs at once, including a forced full GC', () => {
  lw.start({ log: 'off' });
  try {
    const before = lw.stats();
    forceGc();
    const after = lw.stats();
    assert.equal(after.gcSource, 'v8');
    assert.equal(after.gcFallbackReason, null);
    assert.ok(
      after.gc.sinceStart.kinds.markSweepCompact.count >= (before.gc.sinceStart.kinds.markSweepCompact?.count ?? 0) + 1
    );
    assert.ok(after.baseline > 0);
    assert.equal(after.baselines.at(-1)[1], after.baseline);
  } finally {
    lw.stop();
  }
  assert.equal(lw.stats(), null, 'no stats once stopped');
  assert.equal(lw.running, false);
});

test('stats() and listeners() count listeners at once, not as of the last sample', () => {
  lw.start({ log: 'off' });
  try {
    const EventEmitter = require('node:events');
    const before = lw.stats().listeners;
    const buses = Array.from({ length: 100 }, () => new EventEmitter());
    for (const bus of buses) bus.on('tick', () => {});
    buses[0].removeAllListeners('tick');
    const after = lw.stats().listeners;
    assert.equal(after.adds - before.adds, 100);
    assert.equal(after.removes - before.removes, 1);
    assert.equal(after.top.find((t) => t.emitter === 'EventEmitter' && t.event === 'tick')?.live, 99);
    assert.equal(lw.listeners(100).find((t) => t.emitter === 'EventEmitter' && t.event === 'tick')?.live, 99);
  } finally {
    lw.stop();
  }
});

test("on('stats') and a log function get every interval's line", async () => {
  const lines = [];
  lw.start({ interval: 150, log: (line) => lines.push(line) });
  const stats = await once(lw, 'stats');
  assert.equal(stats.event, 'memory');
  await once(lw, 'stats');
  lw.stop();
  assert.ok(lines.length >= 3, `got ${lines.length}`);
  assert.equal(lines.at(-1).final, true, 'the final line reaches the function too');
  assert.equal(lines.filter((l) => l.final).length, 1);
});

test('a logger object gets structured objects', async () => {
  const got = [];
  const logger = { info: (obj, msg) => got.push({ obj, msg }) };
  lw.start({ interval: 120, log: logger });
  await once(lw, 'stats');
  lw.stop();
  assert.ok(got.length >= 2);
  assert.equal(got[0].obj.event, 'memory');
  assert.equal(got[0].msg, 'leakwatch memory');
});

test('a throwing log function never throws into the app', async () => {
  lw.start({
    interval: 120,
    log: () => {
      throw new Error('logger down');
    },
  });
  await once(lw, 'stats');
  await once(lw, 'stats');
  assert.doesNotThrow(() => lw.stop());
});

test('start() twice restarts with the new options, without double counting', () => {
  lw.start({ log: 'off', interval: '1m' });
  lw.start({ log: 'off', interval: '30s' });
  assert.equal(lw.internals().threadSessions, 1);
  assert.equal(lw.stats().intervalMs, 30_000);
  lw.stop();
  assert.equal(lw.internals().threadSessions, 0);
});

test('the perf_hooks fallback counts GCs and says so', async () => {
  lw.start({ log: 'off', gcSource: 'perf_hooks' });
  forceGc();
  const junk = [];
  for (let i = 0; i < 200_000; i++) junk.push({ i });
  await new Promise((r) => setTimeout(r, 100)); // perf_hooks entries arrive asynchronously
  const s = lw.stats();
  lw.stop();
  assert.equal(s.gcSource, 'perf_hooks');
  assert.match(s.gcFallbackReason, /requested/);
  assert.ok(s.gc.sinceStart.kinds.markSweepCompact.count >= 1);
  assert.ok(s.gc.sinceStart.kinds.scavenge.count >= 1);
  assert.ok(s.baseline > 0, 'a baseline read after the full GC');
});

test('a shim that is missing or does not load falls back to perf_hooks with the reason', async () => {
  const dir = tempDir();
  const garbage = path.join(dir, 'garbage.so');
  fs.writeFileSync(garbage, 'not an ELF file');
  const missingSymbol = path.join(dir, 'missing-symbol.so');
  execFileSync('c++', [
    '-shared',
    '-fPIC',
    path.join(__dirname, 'fixtures', 'shim-missing-symbol.cc'),
    '-o',
    missingSymbol,
  ]);
  const thisNode = `Node ${process.versions.node} \\(NODE_MODULE_VERSION ${process.versions.modules}, V8 \\d+\\.\\d+\\)`;
  const code =
    "const lw = require('.'); lw.start({ log: 'off' }); const s = lw.stats(); console.log(JSON.stringify([s.gcSource, s.gcFallbackReason])); lw.stop();";
  for (const [shim, reason] of [
    [path.join(dir, 'missing.so'), /missing/],
    [garbage, /does not load/],
    // The rest of leakwatch loads and runs: the shim is a separate object, opened at start().
    [
      missingSymbol,
      new RegExp(
        `^the V8 GC shim does not load in ${thisNode}: .*undefined symbol: _ZN2v87Isolate17RemovedFromThisV8Ev`
      ),
    ],
  ]) {
    const run = await runNode(['-e', code], { env: { LEAKWATCH_SHIM_PATH: shim } });
    assert.equal(run.code, 0, run.stderr);
    const [source, why] = JSON.parse(run.stdout);
    assert.equal(source, 'perf_hooks');
    assert.match(why, reason);
  }
  const strict = await runNode(['-e', "require('.').start({ gcSource: 'v8' })"], {
    env: { LEAKWATCH_SHIM_PATH: garbage },
  });
  assert.notEqual(strict.code, 0, 'gcSource "v8" that cannot be honoured is an error');
  assert.match(strict.stderr, /gcSource "v8" is unavailable/);
});

test('bad options throw errors that name the option and the accepted values', () => {
  const cases = [
    [{ interval: 'soon' }, RangeError, /"interval" must be a duration from 100ms to 24h/],
    [{ interval: 5 }, RangeError, /"interval"/],
    [{ interval: '2d' }, RangeError, /"interval"/],
    [{ interval: {} }, TypeError, /"interval"/],
    [{ log: 42 }, TypeError, /"log" must be 'stderr', 'stdout', 'off', a file path, a function\(line\) or a logger/],
    [{ log: '' }, TypeError, /"log"/],
    [{ gcSource: 'magic' }, TypeError, /"gcSource" must be 'auto', 'v8', 'perf_hooks'/],
    [{ gcHints: 'yes' }, TypeError, /"gcHints" must be true or false/],
    [{ heapProfile: 1 }, TypeError, /"heapProfile" must be true, false or \{sampleInterval\}/],
    [
      { heapProfile: { sampleInterval: '100B' } },
      RangeError,
      /"heapProfile.sampleInterval" must be a size from 1KB to 64MB \(bytes, or '64KB'\); got "100B"/,
    ],
    [{ heapProfile: { every: 1 } }, TypeError, /unknown option "heapProfile.every"; accepted is sampleInterval/],
    [
      { intervall: 5 },
      TypeError,
      /unknown option "intervall"; accepted options are interval, log, gcSource, gcHints, heapProfile, heap, listeners/,
    ],
    ['fast', TypeError, /options must be an object/],
  ];
  for (const [options, Kind, message] of cases) {
    assert.throws(
      () => lw.start(options),
      (err) => err instanceof Kind && message.test(err.message),
      JSON.stringify(options)
    );
  }
  assert.equal(lw.running, false, 'nothing started on a bad option');
});

test('durations: 500ms, 30s, 1m, 1.5s and plain milliseconds', () => {
  for (const [value, ms] of [
    ['500ms', 500],
    ['30s', 30_000],
    ['1m', 60_000],
    ['1.5s', 1500],
    [250, 250],
    ['1h', 3_600_000],
  ]) {
    lw.start({ log: 'off', interval: value });
    assert.equal(lw.stats().intervalMs, ms, String(value));
    lw.stop();
  }
});

test('bad LEAKWATCH_* values under register warn, name the variable and use the default', async () => {
  const run = await runNode(['-r', REGISTER, '-e', "console.log(require('.').stats().intervalMs)"], {
    env: {
      LEAKWATCH_INTERVAL: 'every now and then',
      LEAKWATCH_GC_HINTS: 'sometimes',
      LEAKWATCH_HEAP_PROFILE: 'maybe',
      LEAKWATCH_LOG: 'off',
    },
  });
  assert.equal(run.code, 0);
  assert.equal(run.stdout.trim(), '60000');
  assert.match(run.stderr, /\[LEAKWATCH_BAD_CONFIG\] LeakwatchWarning: LEAKWATCH_INTERVAL must be a duration/);
  assert.match(
    run.stderr,
    /\[LEAKWATCH_BAD_CONFIG\] LeakwatchWarning: LEAKWATCH_GC_HINTS must be on or off; got "sometimes"; using the default \(on\)/
  );
  assert.match(
    run.stderr,
    /\[LEAKWATCH_BAD_CONFIG\] LeakwatchWarning: LEAKWATCH_HEAP_PROFILE must be on or off; got "maybe"; using the default \(on\)/
  );
});

test('required twice or from two copies of the package: one leakwatch', async () => {
  const dir = tempDir();
  fs.cpSync(path.join(__dirname, '..', 'js'), path.join(dir, 'js'), { recursive: true });
  fs.cpSync(path.join(__dirname, '..', 'native'), path.join(dir, 'native'), { recursive: true });
  const code = `
    const a = require('./js/register.js');
    const one = require('./js/index.js');
    const two = require(${JSON.stringify(path.join(dir, 'js', 'index.js'))});
    require(${JSON.stringify(path.join(dir, 'js', 'register.js'))});
    console.log(JSON.stringify({ same: one === two, internals: one.internals() }));`;
  const run = await runNode(['-e', code], { env: { LEAKWATCH_LOG: 'stderr' } });
  assert.equal(run.code, 0, run.stderr);
  const { same, internals } = JSON.parse(run.stdout);
  assert.equal(same, true);
  assert.equal(internals.processSessions, 1);
  assert.equal(memoryLines(run.stderr).length, 1, 'one final line, not two');
});
