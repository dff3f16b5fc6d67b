'use strict';
// lw.metrics(): the Prometheus text of real figures in this process, checked against stats(),
// against prom-client's names and buckets, and by `promtool check metrics` (no warnings).

const test = require('node:test');
const assert = require('node:assert/strict');
const lw = require('..');
const { forceGc } = require('../js/force-gc');
const { prometheusText, families } = require('../js/metrics');
const { PROMTOOL, requireTool, promtoolCheck, parseText, valueOf, waitFor } = require('./metrics-helpers');

const GC_BUCKETS = ['0.001', '0.01', '0.1', '1', '2', '5', '+Inf'];

test('lw.metrics() is empty when leakwatch is not running', () => {
  assert.equal(lw.running, false);
  assert.equal(lw.metrics(), '');
});

test('the GC histogram counts every GC, by prom-client kind, with its buckets', () => {
  lw.start({ log: 'off' });
  try {
    forceGc();
    const junk = [];
    for (let i = 0; i < 300_000; i++) junk.push({ i }); // scavenges
    const samples = parseText(lw.metrics());
    const stats = lw.stats();
    let count = 0;
    for (const kind of ['major', 'minor', 'incremental', 'weakcb']) {
      const buckets = GC_BUCKETS.map((le) => valueOf(samples, 'nodejs_gc_duration_seconds_bucket', { kind, le }));
      assert.ok(buckets.every(Number.isFinite), `${kind}: every bucket present`);
      assert.deepEqual(
        buckets,
        [...buckets].sort((a, b) => a - b),
        `${kind}: buckets are cumulative`
      );
      const kindCount = valueOf(samples, 'nodejs_gc_duration_seconds_count', { kind });
      assert.equal(buckets.at(-1), kindCount, `${kind}: +Inf is the count`);
      assert.ok(valueOf(samples, 'nodejs_gc_duration_seconds_sum', { kind }) >= 0);
      count += kindCount;
    }
    // Every GC since start (the stats() right after may have seen a few more).
    assert.ok(count > 0 && count <= stats.gc.sinceStart.count, `${count} vs ${stats.gc.sinceStart.count}`);
    const { kinds } = lw.stats().gc.sinceStart;
    assert.ok(valueOf(samples, 'nodejs_gc_duration_seconds_count', { kind: 'major' }) >= 1, 'the forced full GC');
    assert.ok(
      valueOf(samples, 'nodejs_gc_duration_seconds_count', { kind: 'minor' }) <=
        (kinds.scavenge?.count ?? 0) + (kinds.minorMarkSweep?.count ?? 0)
    );
  } finally {
    lw.stop();
  }
});

test('heap, RSS and fd figures use prom-client names and match stats()', () => {
  lw.start({ log: 'off' });
  try {
    forceGc();
    // One stats() object for both sides: RSS and fds are re-read every second.
    const stats = lw.stats();
    const samples = parseText(prometheusText(stats));
    const names = (list) => [...new Set(list.map((s) => s.name))].sort();
    assert.deepEqual(names(parseText(lw.metrics())), names(samples), 'lw.metrics() is the same text');
    assert.equal(valueOf(samples, 'nodejs_heap_size_used_bytes'), stats.heapUsed);
    assert.equal(valueOf(samples, 'nodejs_heap_size_total_bytes'), stats.heapTotal);
    assert.equal(valueOf(samples, 'nodejs_external_memory_bytes'), stats.external);
    assert.equal(valueOf(samples, 'process_resident_memory_bytes'), stats.rss);
    assert.equal(valueOf(samples, 'process_open_fds'), stats.fds);
    assert.equal(valueOf(samples, 'leakwatch_heap_baseline_bytes'), stats.baseline);
    assert.equal(valueOf(samples, 'leakwatch_heap_limit_bytes'), stats.heapLimit);
    for (const kind of ['socket', 'file', 'pipe', 'other'])
      assert.equal(valueOf(samples, 'leakwatch_open_fds', { kind }), stats.fdsByKind[kind]);
    for (const [type, n] of Object.entries(stats.handles.byType))
      assert.equal(valueOf(samples, 'nodejs_active_resources', { type }), n);
    for (const series of ['heap', 'external', 'rss', 'handles', 'fds']) {
      const states = samples.filter((s) => s.name === 'leakwatch_trend_state' && s.labels.series === series);
      assert.equal(states.length, 4, `${series}: one sample per state`);
      assert.equal(states.filter((s) => s.value === 1).length, 1, `${series}: exactly one current state`);
    }
    for (const kind of ['heap', 'external', 'rss', 'handles', 'fds', 'listeners']) {
      assert.equal(valueOf(samples, 'leakwatch_leak_suspected', { kind }), 0, `no ${kind} leak suspected`);
    }
    assert.equal(valueOf(samples, 'leakwatch_info', { gc_source: 'v8' }), 1);
  } finally {
    lw.stop();
  }
});

test('listener groups are labelled by emitter and event, at most 10, and a suspected listener leak shows', async () => {
  const EventEmitter = require('node:events');
  class Chatty extends EventEmitter {}
  lw.start({ log: 'off' });
  const warned = [];
  const onLeak = (w) => warned.push(w.code);
  lw.on('listener-leak', onLeak);
  const saved = process.listeners('warning');
  process.removeAllListeners('warning'); // keep the test output quiet
  try {
    const emitters = [];
    for (let g = 0; g < 15; g++) {
      const e = new Chatty();
      for (let i = 0; i < 12; i++) e.on(`event-${g}`, () => {}); // 12 > the default max of 10: a warning
      emitters.push(e);
    }
    // The background thread samples listener counts once a second.
    const samples = await waitFor(
      () => {
        const now = parseText(lw.metrics());
        return valueOf(now, 'leakwatch_listeners_live') >= 15 * 12 && now;
      },
      5000,
      'the listener counts'
    );
    const groups = samples.filter((s) => s.name === 'leakwatch_listener_group_live');
    assert.ok(groups.length > 0 && groups.length <= 10, `${groups.length} groups`);
    assert.ok(
      groups.some((s) => s.labels.emitter === 'Chatty' && s.value === 12),
      JSON.stringify(groups)
    );
    assert.ok(valueOf(samples, 'leakwatch_listeners_live') >= 15 * 12);
    assert.ok(valueOf(samples, 'leakwatch_listener_adds_total') >= 15 * 12);
    assert.ok(warned.includes('LEAKWATCH_LISTENER_LEAK'));
    assert.equal(valueOf(samples, 'leakwatch_leak_suspected', { kind: 'listeners' }), 1);
  } finally {
    lw.off('listener-leak', onLeak);
    for (const fn of saved) process.on('warning', fn);
    lw.stop();
  }
});

test('label values are escaped and app-provided labels are bounded', () => {
  const byType = {};
  for (let i = 0; i < 50; i++) byType[`Type${i}`] = i + 1;
  const stats = {
    ...minimalStats(),
    handles: { total: 0, byType },
    listeners: {
      live: 3,
      adds: 3,
      removes: 0,
      top: [{ emitter: 'Weird "Bus"\\\nline', event: 'a"b', site: null, live: 3, growth: 0 }],
    },
  };
  const samples = parseText(prometheusText(stats));
  const types = samples.filter((s) => s.name === 'nodejs_active_resources');
  assert.equal(types.length, 33, '32 largest types plus "other"');
  assert.equal(
    valueOf(samples, 'nodejs_active_resources', { type: 'other' }),
    (18 * 19) / 2,
    'the 18 smallest, added up'
  );
  assert.equal(valueOf(samples, 'leakwatch_listener_group_live', { emitter: 'Weird "Bus"\\\nline', event: 'a"b' }), 3);
});

test('promtool check metrics: no errors and no warnings, running and on odd input', (t) => {
  if (!requireTool(t, PROMTOOL)) return;
  lw.start({ log: 'off' });
  let text;
  try {
    forceGc();
    text = lw.metrics();
  } finally {
    lw.stop();
  }
  const live = promtoolCheck(text);
  assert.ok(live.ok, `${live.output}\n${text}`);
  const odd = {
    ...minimalStats(),
    listeners: { live: 1, adds: 1, removes: 0, top: [{ emitter: 'A\\"\n', event: 'é', live: 1 }] },
  };
  const oddCheck = promtoolCheck(prometheusText(odd));
  assert.ok(oddCheck.ok, oddCheck.output);
  // And every family has a HELP and a TYPE line once.
  for (const f of families(odd))
    assert.equal(
      prometheusText(odd)
        .split('\n')
        .filter((l) => l === `# TYPE ${f.name} ${f.type}`).length,
      1
    );
});

// The fields of a stats() object before any sample: what metrics must cope with.
function minimalStats() {
  return {
    heapUsed: 1,
    heapTotal: 2,
    heapLimit: 3,
    external: 4,
    arrayBuffers: 5,
    rss: null,
    baseline: null,
    fds: null,
    fdsByKind: null,
    handles: null,
    sampleAgeMs: null,
    gcSource: 'perf_hooks',
    gc: { dropped: 0 },
    gcPauseBuckets: { le: [0.001, 0.01, 0.1, 1, 2, 5], kinds: {} },
    listeners: { live: 0, adds: 0, removes: 0, top: [] },
    trend: {},
    leakSuspected: {},
  };
}
