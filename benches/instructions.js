'use strict';
// Instructions per GC, counted by valgrind's callgrind. Instruction counts repeat from run to
// run where CPU time on a shared machine is good to a few % of a run: far too coarse for a
// fraction of a microsecond per GC. (Hardware counters would do too, but `perf stat -e
// instructions` reports them as not supported on a VM like this one.) V8 runs with
// --predictable (one thread, no concurrent compilation or GC helpers), which makes the
// counts repeat to about ±0.01 %.
//
// Each arm runs the scavenge loop (benches/workloads/gc-loop.js) twice under callgrind:
//   busy  N iterations, hundreds of scavenges;
//   idle  a few iterations, then idle until its window has lasted as long as busy's did, so
//         it carries the arm's fixed start-up and everything it does by the clock (periodic
//         reads, a background thread's polling) that valgrind's slowdown would inflate.
// Two figures per arm, each minus the same figure for arm "none":
//   GC path        instructions inside V8's GC-callback dispatch (Heap::CallGCPrologueCallbacks
//                  and Heap::CallGCEpilogueCallbacks, callees included) per GC: what every GC
//                  pays synchronously on the JS thread. Exact: no subtraction of two large runs.
//   whole process  (busy − idle) over all threads per GC: adds what a tool does later (a JS
//                  observer's batch, a background thread), but is a difference of two ~10⁹
//                  counts, and a tool's presence changes what V8 compiles lazily and when, by
//                  up to ~1.5 M instructions per run that do not grow with the GC count:
//                  ≈ ±5,000 per GC at this size. It resolves the tools that do ~10⁵
//                  instructions per GC in JS, not a few hundred.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { preloadFlags } = require('./arms');

const GC_LOOP = path.join(__dirname, 'workloads', 'gc-loop.js');
const IDLE_ITERATIONS = 10_000;
const CALLBACKS = ['v8::internal::Heap::CallGCPrologueCallbacks(', 'v8::internal::Heap::CallGCEpilogueCallbacks('];

function hasValgrind() {
  return spawnSync('valgrind', ['--version']).status === 0;
}

/** One run of the loop under callgrind: {total, wallMs, callbacks, gcs} (see readProfile). */
function callgrind(arm, iterations, minWallMs) {
  const profile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lw-callgrind-')), 'out');
  const node = [process.execPath, '--max-semi-space-size=1', '--predictable', ...preloadFlags(arm), GC_LOOP, arm];
  const out = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${profile}`, ...node], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      GC_LOOP_ITERATIONS: String(iterations),
      GC_LOOP_WARMUP: '20000',
      GC_LOOP_MIN_WALL_MS: String(minWallMs),
    },
  });
  try {
    if (out.status !== 0) throw new Error(`callgrind ${arm} failed (${out.status}): ${out.stderr.slice(-2000)}`);
    const { wallMs } = JSON.parse(out.stdout.trim().split('\n').at(-1));
    return { wallMs, ...readProfile(profile) };
  } finally {
    fs.rmSync(path.dirname(profile), { recursive: true, force: true });
  }
}

/**
 * From callgrind_annotate's caller tree: the program's total instructions, the inclusive
 * instructions of V8's two GC-callback functions, and how often the prologue one was called
 * (once per GC). A block of that output is the callers ("<", with "(338x)" call counts), then
 * the function itself ("*") with its inclusive cost.
 */
function readProfile(profile) {
  const out = spawnSync('callgrind_annotate', ['--tree=caller', '--inclusive=yes', '--threshold=100', profile], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (out.status !== 0) throw new Error(`callgrind_annotate failed: ${out.stderr}`);
  const number = (line) => Number(line.trim().split(/\s+/)[0].replaceAll(',', ''));
  const total = number(out.stdout.split('\n').find((l) => l.includes('PROGRAM TOTALS')));
  let callbacks = 0;
  let gcs = 0;
  for (const block of out.stdout.split('\n\n')) {
    const lines = block.split('\n');
    const self = lines.find((l) => /^\s*[\d,]+ \([^)]*\)\s+\*/.test(l));
    const name = self && CALLBACKS.find((fn) => self.includes(fn));
    if (!name) continue;
    callbacks += number(self);
    if (name === CALLBACKS[0]) {
      for (const l of lines)
        gcs += Number((/^\s*[\d,]+ \([^)]*\)\s+<.*\(([\d,]+)x\)/.exec(l)?.[1] ?? '0').replaceAll(',', ''));
    }
  }
  return { total, callbacks, gcs };
}

/** One arm's runs: instructions in GC callbacks per GC, and (with `idle`) busy − idle and its GCs. */
function measureArm(arm, iterations, idle) {
  const busy = callgrind(arm, iterations, 0);
  const gcPath = busy.callbacks / busy.gcs;
  if (!idle) return { gcPath };
  const still = callgrind(arm, IDLE_ITERATIONS, busy.wallMs);
  return { gcPath, busyMinusIdle: busy.total - still.total, gcs: busy.gcs - still.gcs };
}

/**
 * Added instructions per GC against "none": {perArm: {arm: {gcPath, wholeProcess}}, gcs,
 * instructionsPerIteration (of the loop, under "none")}. `arms` must start with "none".
 * Without `wholeProcess` only the busy runs are made (half the time), and only gcPath is set.
 */
function instructionsPerGc(arms, iterations, { wholeProcess = true } = {}) {
  const raw = Object.fromEntries(arms.map((arm) => [arm, measureArm(arm, iterations, wholeProcess)]));
  const none = raw.none;
  const perArm = {};
  for (const arm of arms.slice(1)) {
    perArm[arm] = {
      gcPath: raw[arm].gcPath - none.gcPath,
      // The loop's own instructions are none's; the rest of the arm's busy − idle is added.
      wholeProcess: wholeProcess ? (raw[arm].busyMinusIdle - none.busyMinusIdle) / none.gcs : NaN,
    };
  }
  const instructionsPerIteration = wholeProcess ? none.busyMinusIdle / (iterations - IDLE_ITERATIONS) : NaN;
  return { perArm, gcs: none.gcs, instructionsPerIteration };
}

module.exports = { hasValgrind, instructionsPerGc };
