'use strict';
// lw.otel(meter): observable instruments on a real OpenTelemetry SDK MeterProvider, exported
// through the SDK's in-memory exporter; names, units, attributes and values against stats().

const test = require('node:test');
const assert = require('node:assert/strict');
const {
  MeterProvider,
  PeriodicExportingMetricReader,
  InMemoryMetricExporter,
  AggregationTemporality,
  DataPointType,
} = require('@opentelemetry/sdk-metrics');
const lw = require('..');
const { forceGc } = require('../js/force-gc');

/** A provider whose metrics are exported on demand into memory: `collect()` → Map name → metric. */
function sdk(temporality = AggregationTemporality.CUMULATIVE) {
  const exporter = new InMemoryMetricExporter(temporality);
  // A long interval: exports happen when the test flushes, not on a timer.
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  const collect = async () => {
    exporter.reset();
    await reader.forceFlush();
    const byName = new Map();
    for (const rm of exporter.getMetrics())
      for (const sm of rm.scopeMetrics) for (const m of sm.metrics) byName.set(m.descriptor.name, m);
    return byName;
  };
  return { meter: provider.getMeter('leakwatch-test'), collect, shutdown: () => provider.shutdown() };
}

// RSS and fds come from /proc, read by leakwatch's background thread as soon as it takes the
// new session in: wait for that first read (not for a length of time) before comparing.
async function untilProcRead() {
  while (lw.stats().rss === null) await new Promise((resolve) => setTimeout(resolve, 10));
}

const point = (metric, attributes = {}) =>
  metric?.dataPoints.find((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v));

test('semantic-convention names for what they cover, leakwatch.* for the rest, with their units', async () => {
  const { meter, collect, shutdown } = sdk();
  lw.start({ log: 'off' });
  const remove = lw.otel(meter);
  try {
    await untilProcRead();
    forceGc();
    const junk = [];
    for (let i = 0; i < 200_000; i++) junk.push({ i });
    // Figures re-read each second (RSS, fds, listeners) may move during a collection: a point
    // must lie between the stats() just before and just after it.
    const before = lw.stats();
    const metrics = await collect();
    const stats = lw.stats();
    const between = (value, read) => {
      const [a, b] = [read(before), read(stats)];
      assert.ok(value >= Math.min(a, b) && value <= Math.max(a, b), `${value} not within ${a}..${b}`);
    };

    const heapUsed = metrics.get('v8js.memory.heap.used');
    assert.equal(heapUsed.descriptor.unit, 'By');
    assert.equal(heapUsed.dataPointType, DataPointType.SUM);
    assert.equal(heapUsed.isMonotonic, false, 'an UpDownCounter, as the convention says');
    assert.ok(point(heapUsed, { 'v8js.heap.space.name': 'old_space' }).value > 0, 'per heap space');

    const rss = metrics.get('process.memory.usage');
    assert.equal(rss.descriptor.unit, 'By');
    between(point(rss).value, (s) => s.rss);
    assert.equal(metrics.get('process.unix.file_descriptor.count').descriptor.unit, '{file_descriptor}');
    assert.ok(point(metrics.get('process.unix.file_descriptor.count')).value > 0);

    const resources = metrics.get('v8js.resource.active');
    assert.equal(resources.dataPointType, DataPointType.GAUGE);
    for (const type of Object.keys(stats.handles.byType))
      between(point(resources, { 'v8js.resource.type': type }).value, (s) => s.handles.byType[type] ?? 0);

    const gcCount = metrics.get('leakwatch.gc.count');
    assert.equal(gcCount.isMonotonic, true);
    assert.ok(point(gcCount, { 'v8js.gc.type': 'major' }).value >= 1);
    assert.ok(point(gcCount, { 'v8js.gc.type': 'minor' }).value >= 1);
    const gcTime = metrics.get('leakwatch.gc.duration');
    assert.equal(gcTime.descriptor.unit, 's');
    assert.ok(point(gcTime, { 'v8js.gc.type': 'major' }).value > 0);

    between(point(metrics.get('leakwatch.heap.baseline')).value, (s) => s.baseline);
    assert.equal(metrics.get('leakwatch.memory.trend.slope').descriptor.unit, 'By/s');
    const states = metrics
      .get('leakwatch.trend.state')
      .dataPoints.filter((p) => p.attributes['leakwatch.series'] === 'heap');
    assert.equal(states.length, 4);
    assert.equal(states.filter((p) => p.value === 1).length, 1);
    assert.equal(point(metrics.get('leakwatch.leak.suspected'), { 'leakwatch.leak.kind': 'fds' }).value, 0);
    between(
      point(metrics.get('leakwatch.file_descriptor.count'), { 'leakwatch.fd.kind': 'file' }).value,
      (s) => s.fdsByKind.file
    );
    between(point(metrics.get('leakwatch.listener.adds')).value, (s) => s.listeners.adds);
    for (const name of metrics.keys()) assert.match(name, /^(v8js|process|leakwatch)\./, name);
  } finally {
    remove();
    lw.stop();
    await shutdown();
  }
});

test('no points while leakwatch is stopped, and none after the returned function is called', async () => {
  // Delta: a cumulative reader would repeat the last points of a removed callback.
  const { meter, collect, shutdown } = sdk(AggregationTemporality.DELTA);
  const remove = lw.otel(meter);
  try {
    const stopped = await collect();
    assert.equal(
      [...stopped.values()].reduce((n, m) => n + m.dataPoints.length, 0),
      0,
      'nothing to observe when stopped'
    );
    lw.start({ log: 'off' });
    assert.ok((await collect()).get('leakwatch.heap.limit').dataPoints.length === 1);
    remove();
    const after = await collect();
    assert.equal(
      [...after.values()].reduce((n, m) => n + m.dataPoints.length, 0),
      0,
      'removed'
    );
  } finally {
    lw.stop();
    await shutdown();
  }
});

test('something that is not a Meter is a TypeError that says what is needed', () => {
  assert.throws(() => lw.otel({}), /otel\(meter\) needs an OpenTelemetry Meter/);
});
