'use strict';
// A scavenge-heavy allocation loop (run with a 1 MB semi-space: thousands of GCs per second).
// Arms: none | leakwatch | perf_hooks. Prints CPU and wall time, and the GC count.
const arm = process.argv[2];
const ITERATIONS = Number(process.env.GC_LOOP_ITERATIONS || 2_000_000);

let lw = null;
if (arm === 'leakwatch') {
  lw = require('../..');
  lw.start({ log: 'off' });
} else if (arm === 'perf_hooks') {
  const { PerformanceObserver } = require('node:perf_hooks');
  let n = 0;
  new PerformanceObserver((list) => (n += list.getEntries().length)).observe({ entryTypes: ['gc'] });
}

const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
// Objects that escape into a small ring die young: ~1 KB per iteration, scavenges only.
const ring = new Array(64).fill(null);
for (let i = 0; i < ITERATIONS; i++) {
  ring[i & 63] = new Array(120).fill(i);
}
const sink = ring[0];
const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
const cpu = process.cpuUsage(cpu0);
const gcs = lw ? lw.stats().gc.sinceStart.count : null;
console.log(JSON.stringify({ arm, cpuUs: cpu.user + cpu.system, wallMs, gcs, ok: sink !== null }));
