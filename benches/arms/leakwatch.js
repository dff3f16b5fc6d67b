'use strict';
// leakwatch as its README tells users to add it: `-r leakwatch/register`, configured from the
// environment. The log goes to /dev/null: a real file write per interval, and no disk.
const { registerCounter, registerReady } = require('./index');

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

// Listener tracking patches EventEmitter with wrappers first and switches to its fast methods
// once their check has run in a child process, about a second after start: the workloads wait
// for that, to measure what a running app gets.
registerReady('leakwatch', async () => {
  const until = Date.now() + 15_000;
  while (lw.internals().emitterMode === 'wrap') {
    if (Date.now() > until) throw new Error('leakwatch listener tracking stayed in wrap mode');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});
