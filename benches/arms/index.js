'use strict';
// The telemetry arms. Each arm is a preload file, `node -r benches/arms/<arm>.js app.js`, the
// way a user adds a tool to an app without touching it; "none" preloads nothing. Every arm
// reads its tool as that tool's users do, every BENCH_INTERVAL_MS (1 s by default: shorter
// than any tool's default, so the periodic read lands inside a run of a few seconds), and
// says how many GCs it has counted so far, so the bench can check the counts.

const path = require('node:path');

const ALL_ARMS = ['none', 'leakwatch', 'datadog', 'newrelic', 'prom-client', 'perf-hooks'];
// BENCH_ARMS=none,leakwatch runs only the arms named (none and leakwatch always): with fewer
// arms a round is shorter, so the two arms being compared run closer together in time.
const ARMS = process.env.BENCH_ARMS
  ? ALL_ARMS.filter((a) => a === 'none' || a === 'leakwatch' || process.env.BENCH_ARMS.split(',').includes(a))
  : ALL_ARMS;

/** The node flags that load `arm` before the workload. */
function preloadFlags(arm) {
  if (!ARMS.includes(arm)) throw new Error(`unknown arm ${arm}`);
  return arm === 'none' ? [] : ['-r', path.join(__dirname, `${arm}.js`)];
}

// Filled by the preload files of the arms loaded in this process: arm → () => GCs counted.
const counters = new Map();

function registerCounter(arm, gcCount) {
  counters.set(arm, gcCount);
}

// Filled the same way: arm → async () => resolves once the arm is in its steady state.
const readiness = new Map();

function registerReady(arm, ready) {
  readiness.set(arm, ready);
}

/** Waits for every arm loaded here to be in the state a running app has it in. */
async function armsReady() {
  for (const ready of readiness.values()) await ready();
}

/** {arm: GCs counted since it started} for every arm loaded here (some tools answer async). */
async function gcCounts() {
  const counts = {};
  for (const [arm, gcCount] of counters) counts[arm] = await gcCount();
  return counts;
}

/** Runs `fn` every interval on an unref'd timer: telemetry never keeps a process alive. */
function every(fn) {
  const timer = setInterval(fn, Number(process.env.BENCH_INTERVAL_MS || 1000));
  timer.unref();
  return timer;
}

module.exports = { ARMS, preloadFlags, registerCounter, registerReady, armsReady, gcCounts, every };
