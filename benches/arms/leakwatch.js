'use strict';
// leakwatch as its README tells users to add it: `-r leakwatch/register`, configured from the
// environment. The log goes to /dev/null: a real file write per interval, and no disk.
const { registerCounter } = require('./index');

process.env.LEAKWATCH_INTERVAL ??= `${process.env.BENCH_INTERVAL_MS || 1000}ms`;
process.env.LEAKWATCH_LOG ??= '/dev/null';
require('leakwatch/register');

// A bench of leakwatch off, or on its perf_hooks fallback, would measure the wrong thing: stop.
const lw = require('leakwatch');
const started = lw.stats();
if (started?.gcSource !== 'v8') {
  throw new Error(`leakwatch is not on its V8 GC hooks: ${started ? started.gcFallbackReason : 'it did not start'}`);
}
registerCounter('leakwatch', () => lw.stats().gc.sinceStart.count);
