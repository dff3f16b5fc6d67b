'use strict';
// The heap criterion: does the memory left after a full GC rise with the number of calls?
//
// After each round of calls, garbage is collected for real (full GCs, with the finalizers in
// between allowed to run), so what is left is what the calls kept. Those points (calls so far,
// bytes left) are judged three ways, and a leak needs all three:
//   - Theil–Sen slope, in bytes per call: the median of the slopes between every pair of
//     points (js/stats.js, the recorder's statistics). A spike in one round barely
//     moves it; a leak moves every pair.
//   - The median round: what a typical round kept, per call. A one-off step (a lazily built
//     table, a cache the runtime drops) lands in one round and leaves the median alone, where
//     it would bend the Theil–Sen slope.
//   - Mann–Kendall: how sure we are that the points rise at all, and not by chance.
// Both slopes must be above the threshold, at the required confidence. The threshold, the
// rounds and the calls come from measurements (see options.js and the README).

const realProcess = require('node:process'); // the process itself, also under jest's sandbox
const vm = require('node:vm');
const { forceGc } = require('../force-gc');
const { theilSenSlope, mannKendall, median } = require('../stats');

// One macrotask turn: lets close callbacks and finalizers run.
const turn = () => new Promise((resolve) => setImmediate(resolve));

// Without this, V8 drops the bytecode of functions unused for a few full GCs, and the many GCs
// of a check make that happen mid-run: a clean function then measured -90 KB in its 4th round,
// every time. Process-wide and left off, like --expose-gc (force-gc.js): bytecode that is kept
// costs a little memory in a test process, nothing else.
let bytecodeKept = false;
function keepBytecode() {
  if (bytecodeKept) return;
  require('node:v8').setFlagsFromString('--no-flush-bytecode');
  bytecodeKept = true;
}

/** Full GCs until what the calls left is all that is left; resolves the bytes still used. */
async function collectGarbage() {
  keepBytecode();
  settleListenerRecords(); // emitters recorded since the last second: watched from now on
  await turn();
  forceGc();
  await turn(); // finalizers of what the first GC found dead may free more
  settleListenerRecords(); // the collected emitters' records go before the measurement
  return retainedBytes(); // a second full GC, and the measurement
}

// The listener tracker learns of collected emitters once a second, or when asked
// (listeners/collection.js); a check asks, so that its counts and heap figures are final.
function settleListenerRecords() {
  require('./session').tracker()?.collect();
}

// What JS objects keep: the size of the live objects, summed by V8 while it marks them in a
// full GC of its own (vm.measureMemory, eager), plus the memory outside the heap that JS
// objects own (Buffers, ArrayBuffers: a leaked Buffer is a leak too). Not the heap's "used"
// figures: on Node 20 those move by whole 256 KB pages, so a leak of 40 KB per round showed
// as nothing for three rounds and then +250 KB.
// The top of V8's range, not its estimate: the estimate is what V8 attributes to a context,
// and from V8 12 (Node 22) a few hundred KB of live objects move between "attributed" and
// "not attributed" from one measurement to the next, hiding a 40 KB round; their sum, every
// live object, moves only with what the calls kept, on Node 20, 22 and 24.
async function retainedBytes() {
  const measured = await measureQuietly();
  return measured.total.jsMemoryRange[1] + realProcess.memoryUsage().arrayBuffers;
}

// vm.measureMemory is marked experimental and says so once per process, on stderr. That
// warning is about our tooling, not the code under test, so it is kept out of the test output.
function measureQuietly() {
  const emitWarning = realProcess.emitWarning;
  realProcess.emitWarning = function (warning, ...rest) {
    if (!String(warning).includes('vm.measureMemory')) return emitWarning.call(this, warning, ...rest);
  };
  try {
    return vm.measureMemory({ mode: 'summary', execution: 'eager' });
  } finally {
    realProcess.emitWarning = emitWarning;
  }
}

/**
 * @param {Float64Array} bytes  bytes left after GC at the end of each round; bytes[0] before the first
 * @param {number} perRound  calls per round
 * @param {{maxBytesPerIteration: number, confidence: number}} limits
 */
function heapVerdict(bytes, perRound, limits) {
  const points = Array.from(bytes, (v, round) => ({ t: round * perRound, v }));
  const slope = theilSenSlope(points);
  const medianRound = median(points.slice(1).map((p, i) => (p.v - points[i].v) / perRound));
  // One-sided Mann–Kendall: the question is only "does it rise?".
  const confidence = slope > 0 ? 1 - mannKendall(points).pIncreasing : 0;
  const max = limits.maxBytesPerIteration;
  return {
    bytesPerIteration: slope,
    medianRoundBytesPerIteration: medianRound,
    confidence,
    growth: bytes[bytes.length - 1] - bytes[0],
    rounds: bytes.length - 1,
    bytesAfterRound: Array.from(bytes),
    leaking: slope > max && medianRound > max && confidence >= limits.confidence,
    limits,
    sites: [], // where the kept bytes were allocated: filled in for a heap that leaked (heap-sites.js)
  };
}

module.exports = { collectGarbage, heapVerdict, retainedBytes };
