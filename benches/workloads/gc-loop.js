'use strict';
// (a) A scavenge-heavy allocation loop. Run with a 1 MB semi-space: ~1 KB of short-lived
// arrays per iteration makes V8 scavenge thousands of times a second. The loop yields to the
// event loop every CHUNK iterations, as a server does between requests, so that telemetry
// delivered to JS in batches (perf_hooks, prom-client) pays its real cost inside the window.
//
//   GC_LOOP_ITERATIONS  iterations measured          GC_LOOP_WARMUP  iterations before the window
//   GC_LOOP_MIN_WALL_MS idle after the loop until the window is this long (for instruction
//                       counts: an idle run as long as the busy one, see benches/instructions.js)
const { openWindow, printResult, armsReady } = require('../child');

const ITERATIONS = Number(process.env.GC_LOOP_ITERATIONS || 2_000_000);
const WARMUP = Number(process.env.GC_LOOP_WARMUP || 100_000);
const MIN_WALL_MS = Number(process.env.GC_LOOP_MIN_WALL_MS || 0);
const CHUNK = 1000;

// Arrays that escape into a small ring die young: scavenges only, no full GCs.
const ring = new Array(64).fill(null);

function allocate(from, to) {
  for (let i = from; i < to; i++) ring[i & 63] = new Array(120).fill(i);
}

async function loop(iterations) {
  for (let i = 0; i < iterations; i += CHUNK) {
    allocate(i, Math.min(iterations, i + CHUNK));
    await new Promise(setImmediate);
  }
}

async function main() {
  await armsReady();
  await loop(WARMUP);
  const window = await openWindow();
  const t0 = Date.now();
  await loop(ITERATIONS);
  const idleMs = MIN_WALL_MS - (Date.now() - t0);
  if (idleMs > 0) await new Promise((resolve) => setTimeout(resolve, idleMs));
  printResult({ ...(await window.close()), iterations: ITERATIONS });
}

main();
