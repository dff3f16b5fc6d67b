'use strict';
// leakwatch's figures as OpenTelemetry observable instruments on an app's Meter
// (`lw.otel(meter)`). Figures that OpenTelemetry's semantic conventions name are reported
// under those names and units (`v8js.*`, `process.*`); the rest under `leakwatch.*`.
//
// Each instrument reads the samples of one Prometheus metric of js/metrics.js, with its
// labels renamed to attributes, so both exports always agree. One stats() read serves a whole
// collection (a batch callback).
//
// `v8js.gc.duration` is a histogram of single GCs, and an observable instrument can only
// report totals: GC pauses are `leakwatch.gc.duration` (seconds in total) and
// `leakwatch.gc.count` instead, with the convention's `v8js.gc.type` attribute.

const { families } = require('./metrics');

const GC = { kind: 'v8js.gc.type' };
const SERIES = { series: 'leakwatch.series' };

// {name, instrument, unit, from: Prometheus sample name, attributes: label → attribute, description}
const INSTRUMENTS = [
  spec(
    'process.memory.usage',
    'upDownCounter',
    'By',
    'process_resident_memory_bytes',
    {},
    'Resident set size of the process.'
  ),
  spec(
    'process.unix.file_descriptor.count',
    'upDownCounter',
    '{file_descriptor}',
    'process_open_fds',
    {},
    'Open file descriptors of the process.'
  ),
  spec(
    'v8js.resource.active',
    'gauge',
    '{resource}',
    'nodejs_active_resources',
    { type: 'v8js.resource.type' },
    'Active libuv resources keeping the event loop alive, by type.'
  ),
  spec(
    'leakwatch.gc.duration',
    'counter',
    's',
    'nodejs_gc_duration_seconds_sum',
    GC,
    'GC pause time since leakwatch started, by GC type.'
  ),
  spec(
    'leakwatch.gc.count',
    'counter',
    '{gc}',
    'nodejs_gc_duration_seconds_count',
    GC,
    'GCs since leakwatch started, by GC type.'
  ),
  spec(
    'leakwatch.gc.dropped',
    'counter',
    '{gc}',
    'leakwatch_gc_dropped_total',
    {},
    'GC records lost to a full queue (process-wide).'
  ),
  spec('leakwatch.heap.total', 'upDownCounter', 'By', 'nodejs_heap_size_total_bytes', {}, 'V8 heap allocated.'),
  spec('leakwatch.heap.limit', 'upDownCounter', 'By', 'leakwatch_heap_limit_bytes', {}, 'V8 heap size limit.'),
  spec(
    'leakwatch.heap.baseline',
    'gauge',
    'By',
    'leakwatch_heap_baseline_bytes',
    {},
    'Heap used after the latest full GC.'
  ),
  spec(
    'leakwatch.memory.external',
    'upDownCounter',
    'By',
    'nodejs_external_memory_bytes',
    {},
    'Memory of C++ objects bound to JS objects.'
  ),
  spec(
    'leakwatch.memory.array_buffers',
    'upDownCounter',
    'By',
    'leakwatch_array_buffers_bytes',
    {},
    'Memory of ArrayBuffers and SharedArrayBuffers.'
  ),
  spec(
    'leakwatch.file_descriptor.count',
    'upDownCounter',
    '{file_descriptor}',
    'leakwatch_open_fds',
    { kind: 'leakwatch.fd.kind' },
    'Open file descriptors by kind (socket, file, pipe, other).'
  ),
  spec(
    'leakwatch.memory.trend.slope',
    'gauge',
    'By/s',
    'leakwatch_trend_slope_bytes_per_second',
    SERIES,
    'Trend slope of heap, external and RSS.'
  ),
  spec(
    'leakwatch.resource.trend.slope',
    'gauge',
    '1/s',
    'leakwatch_resource_trend_slope_per_second',
    SERIES,
    'Trend slope of active handles and open fds.'
  ),
  spec(
    'leakwatch.trend.confidence',
    'gauge',
    '1',
    'leakwatch_trend_confidence',
    SERIES,
    'Confidence (0 to 1) that the series is rising.'
  ),
  spec(
    'leakwatch.trend.state',
    'gauge',
    '1',
    'leakwatch_trend_state',
    { ...SERIES, state: 'leakwatch.trend.state' },
    '1 for the current trend state of the series, 0 for the others.'
  ),
  spec(
    'leakwatch.leak.suspected',
    'gauge',
    '1',
    'leakwatch_leak_suspected',
    { kind: 'leakwatch.leak.kind' },
    '1 while a leak of this kind is suspected.'
  ),
  spec(
    'leakwatch.listener.live',
    'upDownCounter',
    '{listener}',
    'leakwatch_listeners_live',
    {},
    'Event listeners currently registered.'
  ),
  spec(
    'leakwatch.listener.adds',
    'counter',
    '{listener}',
    'leakwatch_listener_adds_total',
    {},
    'Event listeners added since leakwatch started.'
  ),
  spec(
    'leakwatch.listener.removes',
    'counter',
    '{listener}',
    'leakwatch_listener_removes_total',
    {},
    'Event listeners removed since leakwatch started.'
  ),
  spec(
    'leakwatch.listener.group.live',
    'gauge',
    '{listener}',
    'leakwatch_listener_group_live',
    { emitter: 'leakwatch.emitter', event: 'leakwatch.event' },
    'Live listeners of the largest groups (at most 10).'
  ),
  spec(
    'leakwatch.sample.age',
    'gauge',
    's',
    'leakwatch_sample_age_seconds',
    {},
    'Age of the heap figures: large when the event loop is blocked.'
  ),
];

const CREATE = {
  gauge: 'createObservableGauge',
  counter: 'createObservableCounter',
  upDownCounter: 'createObservableUpDownCounter',
};

function spec(name, instrument, unit, from, attributes, description) {
  return { name, instrument, unit, from, attributes, description };
}

/**
 * Creates the instruments on `meter` and one batch callback that fills them from
 * `readStats()`. Returns a function that removes the callback.
 */
function registerOtel(meter, readStats) {
  if (
    !meter ||
    typeof meter.addBatchObservableCallback !== 'function' ||
    typeof meter.createObservableGauge !== 'function'
  ) {
    throw new TypeError('leakwatch: otel(meter) needs an OpenTelemetry Meter, e.g. metrics.getMeter("leakwatch")');
  }
  const created = INSTRUMENTS.map((s) => ({
    spec: s,
    instrument: meter[CREATE[s.instrument]](s.name, { unit: s.unit, description: s.description }),
  }));
  const heapUsed = meter.createObservableUpDownCounter('v8js.memory.heap.used', {
    unit: 'By',
    description: 'V8 heap used, by heap space.',
  });
  const callback = (result) => {
    try {
      observe(result, created, heapUsed, readStats());
    } catch {
      // A collection gets fewer points rather than an error from leakwatch.
    }
  };
  const observables = [...created.map((c) => c.instrument), heapUsed];
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
}

function observe(result, created, heapUsed, stats) {
  if (!stats) return;
  const samples = new Map();
  for (const family of families(stats)) {
    for (const s of family.samples) samples.set(s.name, [...(samples.get(s.name) ?? []), s]);
  }
  for (const { spec: s, instrument } of created) {
    for (const sample of samples.get(s.from) ?? [])
      result.observe(instrument, sample.value, attributesOf(sample.labels, s.attributes));
  }
  // The convention asks for heap used per heap space, which only V8 itself can say (node:v8
  // is loaded here, on first collection, not for every leakwatch user).
  for (const space of require('node:v8').getHeapSpaceStatistics()) {
    result.observe(heapUsed, space.space_used_size, { 'v8js.heap.space.name': space.space_name });
  }
}

function attributesOf(labels, renames) {
  const out = {};
  for (const [label, value] of Object.entries(labels)) out[renames[label] ?? `leakwatch.${label}`] = value;
  return out;
}

module.exports = { registerOtel, INSTRUMENTS };
