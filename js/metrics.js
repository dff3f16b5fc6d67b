'use strict';
// leakwatch's figures as Prometheus metrics. One table (FAMILIES) says, for each metric, its
// name, type, help and how to read its samples from one `stats()` object; from it come the
// text exposition format (`lw.metrics()` and the /metrics endpoint) and the metrics registered
// into an app's own prom-client registry (`lw.promClient(register)`). js/otel.js reads the
// same samples under OpenTelemetry's names.
//
// Where prom-client's default metrics have a figure of the same meaning, its name, labels and
// buckets are used (nodejs_gc_duration_seconds, nodejs_heap_size_used_bytes, …), so
// dashboards built for prom-client read leakwatch unchanged. The rest is leakwatch_*.

// leakwatch's GC kinds → prom-client's `kind` label (and OpenTelemetry's `v8js.gc.type`).
const GC_KIND_LABELS = {
  scavenge: 'minor',
  minorMarkSweep: 'minor',
  markSweepCompact: 'major',
  incrementalMarking: 'incremental',
  weakCallbacks: 'weakcb',
};
const GC_LABELS = ['major', 'minor', 'incremental', 'weakcb'];
const TREND_STATES = ['warming-up', 'stable', 'growing', 'leaking'];
const MEMORY_SERIES = ['heap', 'external', 'rss'];
const RESOURCE_SERIES = ['handles', 'fds'];
const LEAK_KINDS = ['heap', 'external', 'rss', 'handles', 'fds', 'listeners'];
const FD_KINDS = ['socket', 'file', 'pipe', 'other'];
// Labels that come from the app (handle types, emitter classes) are capped: every distinct
// value is a time series in Prometheus, and a scrape must not grow with the app.
const MAX_HANDLE_TYPES = 32;

// A sample is {labels, value} plus, for a histogram's lines, the suffix of its name.
const one = (value) => (value === null || value === undefined ? [] : [{ labels: {}, value }]);
const perMinuteToPerSecond = (v) => (Number.isFinite(v) ? v / 60 : 0);

const FAMILIES = [
  {
    name: 'nodejs_gc_duration_seconds',
    type: 'histogram',
    help: 'Garbage collection pauses by kind (major, minor, incremental, weakcb), every GC since leakwatch started.',
    samples: gcSamples,
  },
  gauge('nodejs_heap_size_used_bytes', 'V8 heap used, in bytes.', (s) => one(s.heapUsed)),
  gauge('nodejs_heap_size_total_bytes', 'V8 heap allocated, in bytes.', (s) => one(s.heapTotal)),
  gauge(
    'nodejs_external_memory_bytes',
    'Memory of C++ objects bound to JS objects (process.memoryUsage().external), in bytes.',
    (s) => one(s.external)
  ),
  gauge('process_resident_memory_bytes', 'Resident set size of the process, in bytes.', (s) => one(s.rss)),
  gauge('process_open_fds', 'Open file descriptors of the process.', (s) => one(s.fds)),
  gauge(
    'nodejs_active_resources',
    'Active libuv resources keeping the event loop alive, by type (process.getActiveResourcesInfo()).',
    handleSamples
  ),
  gauge('leakwatch_heap_limit_bytes', 'V8 heap size limit, in bytes.', (s) => one(s.heapLimit)),
  gauge(
    'leakwatch_array_buffers_bytes',
    'Memory of ArrayBuffers and SharedArrayBuffers (included in external), in bytes.',
    (s) => one(s.arrayBuffers)
  ),
  gauge(
    'leakwatch_heap_baseline_bytes',
    'Heap used after the latest full GC: a rising baseline is a leak, a sawtooth over a flat one is not.',
    (s) => one(s.baseline)
  ),
  gauge(
    'leakwatch_open_fds',
    'Open file descriptors by kind (socket, file, pipe, other), as lsof -p would show them.',
    fdSamples
  ),
  gauge(
    'leakwatch_trend_slope_bytes_per_second',
    'Slope of the trend of heap (after full GCs), external (+ ArrayBuffers) and RSS beyond the JS heap (rss - heapTotal), in bytes per second.',
    (s) => trendSamples(s, MEMORY_SERIES, (t) => perMinuteToPerSecond(t.slopeBytesPerMin))
  ),
  gauge(
    'leakwatch_resource_trend_slope_per_second',
    'Slope of the trend of active handles and open fds, per second.',
    (s) => trendSamples(s, RESOURCE_SERIES, (t) => perMinuteToPerSecond(t.slopePerMin))
  ),
  gauge('leakwatch_trend_confidence', 'Confidence (0 to 1) that the series is rising.', (s) =>
    trendSamples(s, [...MEMORY_SERIES, ...RESOURCE_SERIES], (t) => t.confidence ?? 0)
  ),
  gauge(
    'leakwatch_trend_state',
    'Trend state per series: 1 for the current state (warming-up, stable, growing, leaking), 0 for the others.',
    trendStateSamples
  ),
  gauge(
    'leakwatch_leak_suspected',
    '1 while a leak of this kind is suspected: a trend leaking, or a listener leak reported in the last 10 minutes.',
    (s) => LEAK_KINDS.map((kind) => ({ labels: { kind }, value: s.leakSuspected?.[kind] ? 1 : 0 }))
  ),
  gauge('leakwatch_listeners_live', 'Event listeners currently registered, over every emitter leakwatch counts.', (s) =>
    one(s.listeners?.live)
  ),
  counter('leakwatch_listener_adds_total', 'Event listeners added since leakwatch started.', (s) =>
    one(s.listeners?.adds)
  ),
  counter('leakwatch_listener_removes_total', 'Event listeners removed since leakwatch started.', (s) =>
    one(s.listeners?.removes)
  ),
  gauge(
    'leakwatch_listener_group_live',
    'Live listeners of the largest groups (emitter class and event), at most 10 groups.',
    listenerGroupSamples
  ),
  counter(
    'leakwatch_gc_dropped_total',
    'GC records lost to a full queue (process-wide): nonzero means GC counts are low.',
    (s) => one(s.gc?.dropped)
  ),
  gauge(
    'leakwatch_sample_age_seconds',
    'Age of the heap figures, sampled on the JS thread once a second: large when the event loop is blocked.',
    (s) => one(s.sampleAgeMs == null ? null : s.sampleAgeMs / 1000)
  ),
  gauge(
    'leakwatch_info',
    'Always 1; gc_source says where GC events come from (v8, or the perf_hooks fallback).',
    (s) => [{ labels: { gc_source: s.gcSource }, value: 1 }]
  ),
];

function gauge(name, help, samples) {
  return { name, type: 'gauge', help, samples };
}

function counter(name, help, samples) {
  return { name, type: 'counter', help, samples };
}

/**
 * GC pauses per prom-client kind: `[{kind, buckets: [cumulative counts], count, sum}]`, all
 * four kinds always (a kind never seen is a flat zero, not a missing series).
 */
function gcByKind(stats) {
  const b = stats.gcPauseBuckets ?? { le: [], kinds: {} };
  const acc = new Map(
    GC_LABELS.map((kind) => [kind, { kind, le: b.le, buckets: b.le.map(() => 0), count: 0, sum: 0 }])
  );
  for (const [name, k] of Object.entries(b.kinds)) {
    const into = acc.get(GC_KIND_LABELS[name]);
    if (!into) continue;
    k.buckets.forEach((n, i) => (into.buckets[i] += n));
    into.count += k.count;
    into.sum += k.sumSeconds;
  }
  return [...acc.values()];
}

function gcSamples(stats) {
  const out = [];
  for (const { kind, le, buckets, count, sum } of gcByKind(stats)) {
    le.forEach((bound, i) => out.push({ suffix: '_bucket', labels: { le: String(bound), kind }, value: buckets[i] }));
    out.push({ suffix: '_bucket', labels: { le: '+Inf', kind }, value: count });
    out.push({ suffix: '_sum', labels: { kind }, value: sum });
    out.push({ suffix: '_count', labels: { kind }, value: count });
  }
  return out;
}

function handleSamples(stats) {
  const byType = Object.entries(stats.handles?.byType ?? {}).sort((a, b) => b[1] - a[1]);
  const kept = byType.slice(0, MAX_HANDLE_TYPES).map(([type, value]) => ({ labels: { type }, value }));
  const rest = byType.slice(MAX_HANDLE_TYPES).reduce((sum, [, n]) => sum + n, 0);
  if (rest > 0) kept.push({ labels: { type: 'other' }, value: rest });
  return kept;
}

function fdSamples(stats) {
  const byKind = stats.fdsByKind;
  return byKind ? FD_KINDS.map((kind) => ({ labels: { kind }, value: byKind[kind] })) : [];
}

function trendSamples(stats, series, read) {
  return series
    .filter((name) => stats.trend?.[name])
    .map((name) => ({ labels: { series: name }, value: read(stats.trend[name]) }));
}

function trendStateSamples(stats) {
  const out = [];
  for (const series of [...MEMORY_SERIES, ...RESOURCE_SERIES]) {
    const current = stats.trend?.[series]?.state;
    if (current === undefined) continue;
    for (const state of TREND_STATES) out.push({ labels: { series, state }, value: state === current ? 1 : 0 });
  }
  return out;
}

/** The top groups, by emitter class and event (two classes of one name are added up). */
function listenerGroupSamples(stats) {
  const live = new Map();
  for (const g of stats.listeners?.top ?? []) {
    const key = JSON.stringify([g.emitter, g.event]);
    live.set(key, (live.get(key) ?? 0) + g.live);
  }
  return [...live].map(([key, value]) => {
    const [emitter, event] = JSON.parse(key);
    return { labels: { emitter, event }, value };
  });
}

/** `[{name, type, help, samples: [{name, labels, value}]}]` for one stats() object; empty families left out. */
function families(stats) {
  const out = [];
  for (const f of FAMILIES) {
    const samples = f
      .samples(stats)
      .map((s) => ({ name: f.name + (s.suffix ?? ''), labels: s.labels, value: s.value }));
    if (samples.length > 0) out.push({ name: f.name, type: f.type, help: f.help, samples });
  }
  return out;
}

// ---- the text exposition format (version 0.0.4) ----

function toText(list) {
  const lines = [];
  for (const f of list) {
    lines.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) lines.push(`${s.name}${labelText(s.labels)} ${numberText(s.value)}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function labelText(labels) {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`
  );
  return parts.length ? `{${parts.join(',')}}` : '';
}

function numberText(v) {
  if (Number.isFinite(v)) return String(v);
  if (Number.isNaN(v) || typeof v !== 'number') return 'NaN';
  return v > 0 ? '+Inf' : '-Inf';
}

/** The Prometheus text for one stats() object ('' when leakwatch is not running). */
function prometheusText(stats) {
  return stats ? toText(families(stats)) : '';
}

// ---- prom-client ----

/**
 * Registers leakwatch's metrics into a prom-client Registry, as metrics that read `readStats()`
 * when the registry is scraped. A name already registered (prom-client's default metrics of
 * the same meaning) is left to its owner. Returns a function that unregisters ours.
 */
function registerPromClient(register, readStats) {
  if (!register || typeof register.registerMetric !== 'function' || typeof register.getSingleMetric !== 'function') {
    throw new TypeError(
      'leakwatch: promClient(register) needs a prom-client Registry, e.g. require("prom-client").register'
    );
  }
  const snapshot = sharedSnapshot(readStats);
  const ours = new Map(); // registered name → metric (prom-client may rename a counter later)
  for (const family of FAMILIES) {
    if (register.getSingleMetric(family.name)) continue;
    const metric = promClientMetric(family, snapshot);
    register.registerMetric(metric);
    ours.set(family.name, metric);
  }
  return () => {
    for (const [name, metric] of ours) {
      if (register.getSingleMetric(name) === metric) register.removeSingleMetric(name);
    }
  };
}

/** The shape prom-client's own metrics have: name, help, type, aggregator, get(), reset(). */
function promClientMetric(family, snapshot) {
  return {
    name: family.name,
    help: family.help,
    type: family.type,
    aggregator: 'sum',
    // `this.name`, not family.name: for OpenMetrics, prom-client renames counters itself.
    async get() {
      let values = [];
      try {
        const stats = snapshot();
        if (stats) values = family.samples(stats).map((s) => toPromClientValue(family, s));
      } catch {
        // A scrape gets an empty metric rather than an error from leakwatch.
      }
      return { name: this.name, help: family.help, type: family.type, values, aggregator: 'sum' };
    },
    // leakwatch's figures are not the registry's to reset (register.resetMetrics()).
    reset() {},
  };
}

function toPromClientValue(family, sample) {
  const value = { labels: sample.labels, value: sample.value };
  // Histogram lines carry their own name; a counter's is left to prom-client (it appends
  // `_total` itself in OpenMetrics mode).
  if (sample.suffix) value.metricName = family.name + sample.suffix;
  return value;
}

/**
 * One stats() read serves every metric of a scrape: a registry asks each metric in turn, and
 * reading once keeps the figures consistent with each other (and the scrape cheap).
 */
function sharedSnapshot(readStats, maxAgeMs = 100) {
  let taken = 0;
  let stats = null;
  return () => {
    const now = Date.now();
    if (now - taken > maxAgeMs) {
      stats = readStats();
      taken = now;
    }
    return stats;
  };
}

module.exports = { families, prometheusText, registerPromClient, gcByKind, sharedSnapshot, FAMILIES, GC_KIND_LABELS };
