'use strict';
// A plain perf_hooks GC observer, what a user writes by hand: every entry of every batch,
// with the pause added up per kind. It counts every GC that V8 reports to Node, so the bench
// uses it as the reference count.
const { registerCounter } = require('./index');
const { PerformanceObserver } = require('node:perf_hooks');

let gcs = 0;
const pauseMsByKind = new Map();
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcs++;
    const kind = entry.detail.kind;
    pauseMsByKind.set(kind, (pauseMsByKind.get(kind) ?? 0) + entry.duration);
  }
}).observe({ entryTypes: ['gc'] });

registerCounter('perf-hooks', () => gcs);
