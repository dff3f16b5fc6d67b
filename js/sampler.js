'use strict';
// Samples the JS heap once a second on the JS thread (V8's heap figures can only be read
// there), with the active libuv resources by type, and hands them to the background thread.
// One unref'd timer: it never keeps the process alive (and is not counted among the active
// resources it reports: unref'd timers are left out). process.memoryUsage() costs ~10 µs.

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

/** Active libuv resources by type, e.g. {TCPSocketWrap: 12, Timeout: 3}. */
function activeHandles() {
  if (typeof process.getActiveResourcesInfo !== 'function') return null;
  const byType = {};
  for (const type of process.getActiveResourcesInfo()) byType[type] = (byType[type] || 0) + 1;
  return byType;
}

/** Calls `submit(sample, handles)` now and every min(interval, 1 s); returns a stop function. */
function startSampler(intervalMs, submit) {
  const tick = () => {
    try {
      submit(takeSample(), JSON.stringify(activeHandles()));
    } catch {
      // Never let telemetry throw into a timer the app did not create.
    }
  };
  tick();
  const timer = setInterval(tick, Math.min(PERIOD_MS, intervalMs));
  timer.unref();
  return () => clearInterval(timer);
}

module.exports = { startSampler, takeSample, activeHandles };
