'use strict';
// Listener-leak detection, the JS half: counts every listener added to and removed from
// EventEmitters and EventTargets into `counts`, memory the native side owns and reads from its
// background thread. Nothing here calls into native code per add; describeGroup() is called
// once per new group or site.
//
// What is counted where
//   - groups.js: a group is (emitter class, event), one slot, cumulative adds/removes; one
//     more slot counts every add and remove, exactly.
//   - records.js: per emitter, the live count per event type; collection.js learns which
//     emitters were collected, and their listeners come off their groups.
//   - emitter-sampling.js: which (emitter, event) pairs get a record: all of them, unless
//     their class makes emitters by the thousand; then 1 in `keep`, counted as `keep`.
//   - emitter.js / target.js: the patches that count, inline, on every registration path.
//   - emitter-mode.js / emitter-check.js: which EventEmitter methods (fast or wrap), checked
//     against Node's own in a child process a second after start.
//   - emitter-warning.js: LEAKWATCH_LISTENER_LEAK when one emitter passes its max listeners.
//   - node-warnings.js: Node's own MaxListenersExceededWarning, recorded.
//
// Call-site attribution (for LEAKWATCH_LISTENER_SITE_LEAK: "src/db.js:42:7 has 5013 'close'
// listeners still attached across 5013 [Socket] emitters"), without a stack per add:
//   - Each group samples adds: a countdown per group picks one add in `rate` (randomised gap,
//     mean `rate`), captures its stack and resolves the call site (sites.js). The sampled
//     listener, as stored in the emitter (the once() wrapper for once listeners), is remembered
//     per emitter in a WeakMap ([listener, sample] pairs), so its removal is matched exactly
//     and nothing outlives the emitter; a collected emitter's samples are dropped through its
//     record.
//   - A site owns two slots: the weight of its live samples (each sample weighs `rate` adds,
//     the rate in force when it was drawn) and the weight of emitters holding them (one per
//     emitter per site). So the site's live weight estimates how many of the group's live
//     listeners came from that site; the native table splits the exact group count in
//     proportion to the sites' weights, which is exact when one site adds them all.
//   - The rate adapts per group (sampler.js): it doubles while samples come faster than one
//     per 100 ms and halves when they come slowly, so a hot on/off loop pays one stack per
//     ~65,000 adds, while a slow, steady leak is sampled on nearly every add. A global budget
//     of 100 stacks per second (~30 us each) caps the cost whatever the number of groups.
//   - The per-emitter warning captures one stack of its own when a count crosses a threshold.
//   The native side (src/listeners.rs) decides whether a site keeps growing and warns.
//
// Counters are bumped with plain stores, not Atomics.add: each counts buffer has exactly one
// writer (this isolate's thread), aligned Int32Array stores are tear-free, and a locked add
// costs ~8 ns, more than the whole counting budget of an on/off pair. The reader must load
// with (relaxed) atomic loads.

const { Groups } = require('./groups');
const { createRecords } = require('./records');
const { createSampler } = require('./sampler');
const { createEmitterWarnings } = require('./emitter-warning');
const { patchEmitters } = require('./emitter-mode');
const { patchTarget } = require('./target');
const { watchNodeWarnings } = require('./node-warnings');
const warnings = require('../warnings');

let installed = null;

/**
 * @param {object} o
 * @param {Int32Array} o.counts  2 * maxGroups counters: [2*slot] adds, [2*slot+1] removes
 * @param {number} o.maxGroups
 * @param {(slot: number, info: object) => void} o.describeGroup
 * @param {(code: string, message: string, details: object, eventName: string) => void} o.warn
 * @param {Function} [o.notify]  subscribers-only warn, for Node's own warnings (warnings.notify)
 * @param {Function} [o.record]  a warning of leakwatch's not printed (Node printed its own):
 *   warnings.record; notify when not given
 * @param {number} [o.warnIntervalMs]  least time between two warnings for one emitter (10 s)
 * @param {'auto'|'fast'|'wrap'} [o.emitterMode]  'auto': fast when verified, else wrap
 * @param {number} [o.sampleKeep]  count one busy period in this many, for every class (tests)
 * @param {number} [o.checkDelayMs]  'auto': when the fast methods' check starts (emitter-mode.js)
 * @param {'child'|'process'} [o.checkIn]  'auto': where it runs (tests)
 * @param {object} [o.native]  the addon's marker watch (collection.js); else a WeakRef sweep
 * @param {boolean} [o.mainThread]  whether this is the main thread (else node:worker_threads says)
 */
function install(o) {
  if (installed !== null) throw new Error('leakwatch: listener tracking is already installed');
  const ctx = makeContext(o);
  const mode = o.emitterMode ?? 'auto';
  const when = { checkDelayMs: o.checkDelayMs, checkIn: o.checkIn, mainThread: o.mainThread };
  const emitterPatch = patchEmitters(ctx, mode, when);
  const unpatchTarget = patchTarget(ctx);
  const unwatch = watchNodeWarnings(ctx);

  function uninstall() {
    if (installed !== handle) return;
    installed = null;
    unwatch();
    if (unpatchTarget !== null) unpatchTarget();
    emitterPatch.stop();
    emitterPatch.restore();
    ctx.records.uninstall();
    // Late callers (a method captured while installed, a finalizer) write to a private buffer.
    ctx.counts = new Int32Array(ctx.counts.length);
  }

  const handle = {
    uninstall,
    ready: emitterPatch.ready, // resolves to the emitter mode once settled
    /** Takes collected emitters' listeners off (once a second, and before counts are read). */
    collect: () => ctx.records.drainCollected(),
    snapshot() {
      ctx.records.drainCollected();
      return ctx.groups.snapshot();
    },
    /** leakwatch/testing: sample every add while a tracker runs, for exact sites (sampler.js). */
    sampleEveryAdd(on) {
      ctx.sampleEveryAdd = on;
      // The next add of each group is sampled, as one add: not after a countdown drawn at a
      // high rate, nor weighted by it.
      if (on) for (const group of ctx.groups.all) group.skip = group.rate = 1;
    },
    stats: () => ({
      emitterMode: emitterPatch.mode,
      eventTarget: unpatchTarget !== null,
      slotsUsed: ctx.groups.nextSlot,
      folded: ctx.groups.folded,
      sampledClasses: ctx.records.sampled(),
    }),
  };
  installed = handle;
  return handle;
}

function makeContext(o) {
  // Not instanceof: under jest or vm contexts the buffer comes from another realm's Int32Array.
  if (!require('node:util').types.isInt32Array(o.counts)) throw new TypeError('counts must be an Int32Array');
  const ctx = {
    counts: o.counts,
    groups: new Groups({ counts: o.counts, maxGroups: o.maxGroups, describeGroup: o.describeGroup }),
    uncounted: 0, // counts[uncounted]: adds no group counted; +1: removes (groups.js)
    excess: 0, // counts[excess]: what groups counted beyond one per add; +1: per remove
    records: null,
    sampler: null,
    leak: null,
    warn: safe(o.warn ?? warnings.warn),
    notify: safe(o.notify ?? warnings.notify),
    record: safe(o.record ?? o.notify ?? warnings.record),
    warnIntervalMs: o.warnIntervalMs ?? 10_000,
    fixedKeep: o.sampleKeep ?? 0, // tests: count 1 in this many busy periods of every class
    sampleEveryAdd: false, // leakwatch/testing, while a tracker runs
    nodeWarned: null, // during an add: its emitter, when Node printed its own warning in it (emitter-warning.js)
  };
  ctx.uncounted = ctx.groups.uncounted;
  ctx.excess = ctx.groups.excess;
  ctx.sampler = createSampler(ctx);
  ctx.records = createRecords(ctx, ctx.sampler.dropSamples, o.native ?? null);
  ctx.leak = createEmitterWarnings(ctx);
  return ctx;
}

function safe(fn) {
  return (...args) => {
    try {
      fn(...args);
    } catch {
      // a sink's failure must not reach the app's add
    }
  };
}

module.exports = { install };
