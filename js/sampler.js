'use strict';
// Samples the JS heap once a second on the JS thread (V8's heap figures can only be read
// there) and hands them to the background thread. One unref'd timer: it never keeps the
// process alive. process.memoryUsage() costs ~10 µs: 0.001 % of a core at 1 Hz.

const { binding } = require('./native');

const PERIOD_MS = 1000;

// From the V8 shim when it is loaded; node:v8 (~1.4 MB of RSS) only for the fallback.
function heapLimit() {
  return binding.heapLimit() ?? require('node:v8').getHeapStatistics().heap_size_limit;
}

function takeSample() {
  const m = process.memoryUsage();
  return [Date.now(), m.heapUsed, m.heapTotal, heapLimit(), m.external, m.arrayBuffers];
}

/** Calls `submit(sample)` now and every min(interval, 1 s); returns a stop function. */
function startSampler(intervalMs, submit) {
  const tick = () => {
    try {
      submit(takeSample());
    } catch {
      // Never let telemetry throw into a timer the app did not create.
    }
  };
  tick();
  const timer = setInterval(tick, Math.min(PERIOD_MS, intervalMs));
  timer.unref();
  return () => clearInterval(timer);
}

module.exports = { startSampler, takeSample };
