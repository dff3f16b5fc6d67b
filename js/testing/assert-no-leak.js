'use strict';
// assertNoLeak(fn): call fn many times and fail if what it leaves behind grows with the number
// of calls: listeners still attached, memory left after full GCs, open handles and fds.
//
// The run: `warmup` calls (caches fill, code gets compiled), then `rounds` rounds of calls.
// After every round garbage is collected for real and the heap is weighed (heap.js). At three
// checkpoints, after the warm-up, halfway and at the end, listeners and handles are counted
// (steady.js decides what "growing" means for those exact counts).

const { AssertionError } = require('node:assert');
const session = require('./session');
const { normalize } = require('./options');
const { collectGarbage, heapVerdict } = require('./heap');
const { takeListeners, diffListeners, allowedGrowth } = require('./listeners');
const { takeHandles, handleCounts, settleHandles, newFds } = require('./handles');
const { steadyGrowth } = require('./steady');
const { leakMessage } = require('./message');
const { markSites, sitesSince } = require('./heap-sites');

/**
 * Resolves a report when nothing grew; rejects with an AssertionError saying what did.
 * @param {() => unknown} fn  called one call after the other (awaited when it returns a promise)
 * @param {import('../../testing').NoLeakOptions} [options]
 * @returns {Promise<import('../../testing').LeakReport>}
 */
async function assertNoLeak(fn, options) {
  return check('assertNoLeak', fn, normalize(options));
}

/**
 * The same run with only handles and fds checked, and fewer calls (those counts are exact).
 * @param {() => unknown} fn
 * @param {import('../../testing').NoLeakOptions} [options]
 * @returns {Promise<import('../../testing').LeakReport>}
 */
async function expectNoHandleLeak(fn, options) {
  const defaults = { heap: false, listeners: false, iterations: 20, warmup: 2, rounds: 4 };
  return check('expectNoHandleLeak', fn, normalize(options, defaults));
}

async function check(name, fn, o) {
  if (typeof fn !== 'function')
    throw new TypeError(`leakwatch/testing: ${name}(fn) needs a function; got ${typeof fn}`);
  const release = o.listeners ? session.acquire() : () => {};
  let report;
  try {
    report = judge(name, await measure(fn, o), o); // while leakwatch runs: the heap's sites are read
  } finally {
    release();
  }
  if (report.leaking) throw leakError(report);
  return report;
}

// operator 'fail', as assert.fail() makes: runners (jest among them) then show the message
// alone, not a diff of `actual` against `expected`. The report stays reachable as err.report.
// The stack keeps the async frames down to the test's own line.
function leakError(report) {
  const err = /** @type {AssertionError & {report?: object}} */ (
    new AssertionError({ message: leakMessage(report), operator: 'fail' })
  );
  err.report = report;
  return err;
}

async function measure(fn, o) {
  await callTimes(fn, o.warmup);
  const heap = new Float64Array(o.rounds + 1); // allocated up front: the series must not grow the heap
  const marks = [];
  let ownBytes = 0; // what our own checkpoints keep alive, taken off the heap figures
  let sitesMark = null;
  for (let round = 0; round <= o.rounds; round++) {
    if (round > 0) await callTimes(fn, o.perRound);
    let left;
    if (round === 0 || round === o.rounds / 2 || round === o.rounds) {
      const before = await collectGarbage(); // also lets collected emitters' listeners go
      marks.push(await checkpoint(o));
      if (round === 0 && o.heap) sitesMark = markSites();
      left = await collectGarbage();
      ownBytes += left - before;
    } else {
      left = o.heap ? await collectGarbage() : 0;
    }
    heap[round] = left - ownBytes;
  }
  return { heap, marks, sitesMark };
}

// Calls fn n times, one after the other; a sync fn is not made to wait a tick per call.
async function callTimes(fn, n) {
  for (let i = 0; i < n; i++) {
    const result = fn();
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') await result;
  }
}

async function checkpoint(o) {
  if (o.handles) await settleHandles();
  return {
    listeners: o.listeners ? takeListeners() : null,
    handles: o.handles ? takeHandles() : null,
  };
}

function judge(name, run, o) {
  const [a, b, c] = run.marks;
  const listeners = o.listeners ? growingListeners(a.listeners, b.listeners, c.listeners, o.listeners.allow) : [];
  const handles = o.handles ? growingHandles(a.handles, b.handles, c.handles, o.handles.allow) : [];
  const heap = o.heap ? heapVerdict(run.heap, o.perRound, o.heap) : null;
  const iterations = o.perRound * o.rounds;
  if (heap !== null) heap.sites = heap.leaking ? sitesSince(run.sitesMark, iterations) : [];
  const leaking = listeners.length > 0 || handles.length > 0 || (heap !== null && heap.leaking);
  return { name, leaking, iterations, warmup: o.warmup, rounds: o.rounds, heap, listeners, handles };
}

function growingListeners(a, b, c, allow) {
  const live = (snap, row) => snap.get(`${row.emitter}\0${row.event}`)?.live ?? 0;
  return diffListeners(a, c).filter(
    (row) => steadyGrowth(row.before, live(b, row), row.after, allowedGrowth(allow, row)) > 0
  );
}

function growingHandles(a, b, c, allow) {
  const [ca, cb, cc] = [a, b, c].map(handleCounts);
  const rows = [];
  for (const [type, count] of cc) {
    const allowed = typeof allow === 'number' ? allow : (allow?.[type] ?? 0);
    const delta = steadyGrowth(ca.get(type) ?? 0, cb.get(type) ?? 0, count, allowed);
    if (delta > 0) rows.push({ type, delta, fds: type === 'fds' ? newFds(a, c) : undefined });
  }
  return rows.sort((x, y) => y.delta - x.delta);
}

module.exports = { assertNoLeak, expectNoHandleLeak };
