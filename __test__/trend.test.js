'use strict';
// Heap-trend verdicts in real processes with real allocation (__test__/fixtures/trend-workload.js),
// with short test thresholds so each run takes seconds: leaks are called leaks, on the right
// series; healthy processes stay silent, run after run.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { runNode, tempDir, logLines } = require('./helpers');

const FIXTURE = path.join(__dirname, 'fixtures', 'trend-workload.js');
// A leak must climb for 6 s and by 8 MB: the default 20 s and 8 MiB, with time scaled down.
const HEAP = { window: '30s', warmup: '2s', sustain: '6s', minGrowth: '8MB' };

/** Runs one workload; resolves to its leak events, its log lines and its stderr. */
async function run(workload, seconds, { stopOn = '', env = {} } = {}) {
  const log = path.join(tempDir('lw-trend-'), 'memory.log');
  const child = await runNode([FIXTURE, workload, String(seconds)], {
    env: { LOG: log, HEAP: JSON.stringify(HEAP), STOP_ON: stopOn, ...env },
    timeoutMs: (seconds + 20) * 1000,
  });
  assert.strictEqual(child.code, 0, child.stderr);
  const leaks = child.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  return { leaks, lines: logLines(fs.readFileSync(log, 'utf8')), stderr: child.stderr, workload };
}

const codes = (r) => r.leaks.map((l) => l.code);
const finalLine = (r) => r.lines.filter((l) => l.event === 'memory').at(-1);

/** Runs `jobs` (functions returning promises) at most `width` at a time. */
async function pool(jobs, width) {
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

test('leaks are flagged within seconds, each on its own series', async () => {
  const [map, timers, buffers] = await Promise.all([
    run('map-leak', 25, { stopOn: 'LEAKWATCH_HEAP_GROWTH' }),
    run('timer-leak', 25, { stopOn: 'LEAKWATCH_HEAP_GROWTH' }),
    run('buffer-leak', 12),
  ]);

  // An unbounded Map: a heap leak, in every channel leakwatch reports on.
  const heap = map.leaks.find((l) => l.code === 'LEAKWATCH_HEAP_GROWTH');
  assert.ok(heap, `no heap leak event: ${JSON.stringify(map.leaks)}`);
  assert.ok(heap.atMs < 22_000, `flagged only after ${heap.atMs} ms`);
  assert.strictEqual(heap.details.series, 'heap');
  assert.strictEqual(heap.details.state, 'leaking');
  assert.ok(heap.details.slopeBytesPerMin > 60 * 1e6, `slope ${heap.details.slopeBytesPerMin}`); // > 1 MB/s
  assert.ok(heap.details.growthBytes >= 8e6 && heap.details.confidence >= 0.99, JSON.stringify(heap.details));
  assert.match(map.stderr, /\[LEAKWATCH_HEAP_GROWTH\] LeakwatchWarning: Possible memory leak: the heap left after full GCs grew/);
  const logged = map.lines.find((l) => l.event === 'warning' && l.code === 'LEAKWATCH_HEAP_GROWTH');
  assert.ok(logged, 'warning line in the log');
  assert.strictEqual(finalLine(map).trend.heap.state, 'leaking');

  // Kept alive by timers that are never cleared: a heap leak too.
  assert.ok(codes(timers).includes('LEAKWATCH_HEAP_GROWTH'), JSON.stringify(codes(timers)));
  assert.strictEqual(finalLine(timers).trend.heap.state, 'leaking');

  // Buffers kept forever: memory outside the JS heap, and not blamed on the heap.
  assert.ok(codes(buffers).includes('LEAKWATCH_EXTERNAL_GROWTH'), JSON.stringify(codes(buffers)));
  assert.ok(!codes(buffers).includes('LEAKWATCH_HEAP_GROWTH'), JSON.stringify(codes(buffers)));
  assert.strictEqual(finalLine(buffers).trend.external.state, 'leaking');
  assert.notStrictEqual(finalLine(buffers).trend.heap.state, 'leaking');
});

test('healthy processes stay silent, run after run: lru-cache with a max, a sawtooth, warm-up then flat', async () => {
  const RUNS = 4; // per workload, 12 processes, 4 at a time
  const jobs = [];
  for (let i = 0; i < RUNS; i++) for (const w of ['lru', 'sawtooth', 'warmup']) jobs.push(() => run(w, 9));
  const results = await pool(jobs, 4);
  const alarms = results.filter((r) => r.leaks.length > 0).map((r) => `${r.workload}: ${codes(r).join(', ')}`);
  assert.deepStrictEqual(alarms, [], 'false alarms');
  for (const r of results) {
    const states = r.lines.filter((l) => l.event === 'memory').map((l) => l.trend.heap.state);
    assert.ok(!states.includes('leaking'), `${r.workload}: ${states.join(' ')}`);
    assert.ok(r.lines.length >= 8, `${r.workload}: a log line a second`);
  }
});
