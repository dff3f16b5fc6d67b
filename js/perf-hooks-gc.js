'use strict';
// The fallback GC source, used when the V8 shim cannot load (no headers at build time, or a
// Node other than the one it was built for). perf_hooks delivers GC entries in batches on the
// JS thread (~90 µs per GC): costlier than the shim, but every entry of a batch is counted.

const { PerformanceObserver, constants } = require('node:perf_hooks');
const v8 = require('node:v8');
const { binding } = require('./native');

// perf_hooks kinds → leakwatch's kind numbers, by name (the numbers are the addon's,
// src/gc_record.rs). perf_hooks passes V8's GCType through; Node 24 names minor mark-sweep
// (V8's 1 << 1 since V8 10, `--minor-ms`, Node 20's `--minor-mc`), older Nodes report it under
// that number without a constant.
const KIND_NAMES = binding.gcKindNames();
const number = (name) => KIND_NAMES.indexOf(name);
const KINDS = new Map([
  [constants.NODE_PERFORMANCE_GC_MINOR, number('scavenge')],
  [constants.NODE_PERFORMANCE_GC_MINOR_MARK_SWEEP ?? 2, number('minorMarkSweep')],
  [constants.NODE_PERFORMANCE_GC_MAJOR, number('markSweepCompact')],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, number('incrementalMarking')],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, number('weakCallbacks')],
]);
const MARK_SWEEP_COMPACT = number('markSweepCompact');

/** Observes GCs and calls `submit(flat)` with `[kind, endEpochMs, durationMs, baselineOr-1, …]`. */
function observeGcs(submit) {
  const observer = new PerformanceObserver((list) => {
    try {
      submit(flatten(list.getEntries()));
    } catch {
      // Never throw out of an observer callback.
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}

function flatten(entries) {
  const flat = [];
  let lastMajor = -1;
  for (const entry of entries) {
    const kind = KINDS.get(entry.detail ? entry.detail.kind : entry.kind);
    if (kind === undefined) continue;
    if (kind === MARK_SWEEP_COMPACT) lastMajor = flat.length;
    flat.push(kind, entry.startTime + entry.duration + performanceOrigin(), entry.duration, -1);
  }
  // No heap figures come with the entries: the heap read now, just after the batch, is the
  // closest thing to "heap after the latest full GC".
  if (lastMajor >= 0) flat[lastMajor + 3] = v8.getHeapStatistics().used_heap_size;
  return flat;
}

function performanceOrigin() {
  return require('node:perf_hooks').performance.timeOrigin;
}

module.exports = { observeGcs };
