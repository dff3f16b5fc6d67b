'use strict';
// Which (emitter, event type) pairs are counted: all of them, exactly, unless their class churns.
//
// Counting a pair needs a record on its emitter (records.js) and, so that a collected emitter
// stops counting, a weakly watched marker (collection.js). That is cheap for long-lived
// emitters and costly for the ones a busy server makes and drops per request: a weak watch
// keeps its targets alive through scavenges, so every request's objects would be promoted to
// the old generation (measured: registering 2,000,000 short-lived objects made their
// allocation loop ~10x slower, with ~12x the GC time).
//
// So leakwatch watches, per emitter class, how fast it records new emitters. Once a class makes
// them fast (RECORDS_PER_SECOND, estimated) and is seen to churn, only one "busy period" in
// `keep` of that class is counted, with weight `keep`: a busy period is a pair's listeners
// from the add that finds none to the remove that leaves none, and the choice is made at its
// first add. The weighted counts are then an unbiased estimate of the true ones (a pair is
// counted with probability 1/keep, and then as `keep` pairs); the pairs not chosen cost a
// property miss per add and remove, and their emitters never get a record. A leak is a lasting
// busy period on many emitters or a long one on one emitter: the first is estimated from the
// chosen ones; the second is caught anyway, as a pair not chosen is counted after all once it
// passes its emitter's max listeners (records.promote).
//
// Seen to churn: after EARLY records, its listeners leave about as fast as they come (in a
// window, its live listeners grew by at most a quarter of the listeners added: a fresh ws
// server's sockets, within a fraction of a second); or, whatever its listeners do, once it has
// made MIN_BURST records in all. A thousand long-lived emitters made at once, each keeping its
// listeners, stay exact.
//
// While `keep` is 1 (every class at first, and any class that does not make emitters fast)
// every pair is counted, also when first seen mid-period (emitters from before leakwatch
// loaded): the counts are exact.

const RECORDS_PER_SECOND = 100; // new records per second per class, at most, once sampling
const MIN_BURST = 2000; // new records (estimated) in all before sampling starts, churn seen or not
const EARLY = 200; // ... or this many, once the class is seen to churn (and in a window, at least)
const MAX_KEEP = 1024;
const CACHE = 8; // classes remembered for a fast lookup
const HOT_SLOTS = 4; // the cache's first slots, where a class found is not moved
const NO_KEY = Object.freeze({}); // an empty cache slot: equal to no constructor
const MAX_LISTED = 64; // sampled classes listed in stats, at most
const WINDOW_DS = 10; // deciseconds (records.clock): the window the rate is judged over
const MIN_WINDOW_DS = 1; // ... or as short as this, once EARLY records came in it

// One per emitter class (constructor). Field order fixed for one hidden class.
class ClassSampling {
  constructor(name, keep, now) {
    this.name = name; // the class's name, for stats
    this.keep = keep; // one busy period in `keep` is counted, as `keep`
    this.skip = 1; // busy periods until the next counted one
    this.recorded = 0; // new records of this class since windowAt, weighted (estimated)
    this.windowAt = now;
    this.made = 0; // new records of this class in all, weighted (estimated), up to MIN_BURST
    this.addsAt = 0; // its groups' adds at windowAt, while made < MIN_BURST (churns())
    this.liveAt = 0; // ... and their live listeners
  }
}

/**
 * @param {() => number} clock  deciseconds, as records.clock
 * @param {(target: object) => string} nameOf  an emitter's class name (groups.js)
 * @param {number} [fixedKeep]  sample every class 1 in this many, always (tests)
 * @param {(name: string) => {adds: number, live: number}|null} [countsOf]  a class's listener
 *   adds and live listeners as counted (groups.js), or null when they cannot be told; by default
 *   never, and a class is sampled after MIN_BURST records only
 */
function createEmitterSampling(clock, nameOf, fixedKeep = 0, countsOf = () => null) {
  const byKey = new WeakMap(); // constructor (or prototype) -> ClassSampling
  const nullProto = new ClassSampling('Object: null prototype', fixedKeep || 1, clock());
  const sampledClasses = []; // states that have been sampled, for stats (bounded)
  const status = { anySampled: fixedKeep > 1 }; // has any class been sampled yet (records.js)
  const cacheKeys = new Array(CACHE).fill(NO_KEY);
  const cacheStates = new Array(CACHE).fill(nullProto);

  /** Mid-period, a pair not counted so far is counted (as 1) only while its class is exact. */
  function weigh(target) {
    return stateOf(target).keep === 1 ? 1 : 0;
  }

  /** A busy period of class `s` starts: the weight to count it with, or 0. */
  function draw(s) {
    if (s.keep === 1) return 1;
    if (--s.skip > 0) return 0;
    s.skip = gap(s.keep);
    const now = clock();
    if (fixedKeep === 0 && now - s.windowAt >= WINDOW_DS) adapt(s, now); // the class may have slowed down: look again
    return s.keep;
  }

  /** A record was made for an emitter of class `s`, as `weight` emitters. */
  function noteRecorded(s, weight) {
    if (fixedKeep !== 0) return;
    s.recorded += weight;
    if (s.made < MIN_BURST) s.made += weight;
    const now = clock();
    const elapsed = now - s.windowAt;
    // EARLY records are enough to judge a window by, however short (a decisecond at least):
    // a class that reaches MIN_BURST at thousands a second is sampled then, not up to a second
    // and as many records later (a fresh ws server's WebSockets, ~1,000 connections a second:
    // 900 more records while its window ran out).
    if (elapsed >= WINDOW_DS || (s.recorded >= EARLY && elapsed >= MIN_WINDOW_DS)) adapt(s, now);
  }

  // keep = the power of two that brings this class's new records per second under
  // RECORDS_PER_SECOND; raised only once the class churns or has made MIN_BURST records in all.
  // In all, not within one window: a server taking a few hundred connections a second makes a
  // few hundred sockets in each window, never 2,000, and its sockets were counted exactly for good.
  function adapt(s, now) {
    const perSecond = (s.recorded * 10) / Math.max(1, now - s.windowAt);
    let keep = 1;
    while (keep < MAX_KEEP && perSecond / keep > RECORDS_PER_SECOND) keep *= 2;
    if (s.made < MIN_BURST && !churns(s) && keep > s.keep) keep = s.keep;
    if (keep > 1) status.anySampled = true;
    if (keep > 1 && !sampledClasses.includes(s) && sampledClasses.length < MAX_LISTED) sampledClasses.push(s);
    if (keep !== s.keep) {
      s.keep = keep;
      s.skip = gap(keep);
    }
    s.recorded = 0;
    s.windowAt = now;
  }

  // Whether the listeners class `s` was given in this window mostly left again: its live
  // listeners grew by at most a quarter of its adds. Emitters that keep their listeners grow it
  // by every add. Adds, not records, as the measure: a server with 16 connections open at any
  // time moves its live count by a few dozen listeners either way, a small share of the adds
  // of the hundreds of connections it made meanwhile. Read once per window, and only while the
  // class has made fewer than MIN_BURST records (its groups' counters summed).
  function churns(s) {
    const counts = safeCounts(s.name);
    if (counts === null) return false;
    const adds = counts.adds - s.addsAt;
    const grew = counts.live - s.liveAt;
    s.addsAt = counts.adds;
    s.liveAt = counts.live;
    return s.made >= EARLY && adds > 0 && grew <= adds / 4;
  }

  function safeCounts(name) {
    try {
      return countsOf(name);
    } catch {
      return null;
    }
  }

  // The state of target's class, keyed by its constructor: a property load the engine answers
  // from its cache of (hidden class, name) pairs, where Object.getPrototypeOf is a call into C++
  // from code that meets many classes (~200 instructions). From a small cache of the classes
  // seen most (a server alternates between a few), else from a WeakMap. Never a property on
  // the prototype: adding one to a class's prototype slows every lookup through it, for the app
  // too (measured: constructors and EventEmitter.init ran ~2x slower).
  //
  // The busiest classes are kept in the first HOT_SLOTS slots: filled in the order classes were
  // first met, an http server's request classes sat in slots 6 and 7 behind the ones met at
  // start-up, ~60 instructions of scan per add (a per-instruction callgrind profile). A class
  // found further down moves to the front; one found up there stays where it is, as every
  // move is a few stores with the engine's write barrier (a server alternating two classes
  // would pay them per add).
  function stateOf(target) {
    const key = target.constructor;
    for (let i = 0; i < CACHE; i++) {
      if (cacheKeys[i] === key) return i < HOT_SLOTS ? cacheStates[i] : toFront(i, key, cacheStates[i]);
    }
    return lookup(key, target);
  }

  // Puts (key, s) first, moving slots 0 .. i-1 one down (slot i is overwritten).
  function toFront(i, key, s) {
    for (; i > 0; i--) {
      cacheKeys[i] = cacheKeys[i - 1];
      cacheStates[i] = cacheStates[i - 1];
    }
    cacheKeys[0] = key;
    cacheStates[0] = s;
    return s;
  }

  // An emitter with no constructor to go by (a null prototype, a constructor property that is
  // not an object) is classed by its prototype, and not cached: stateOf compares constructors.
  function lookup(key, target) {
    if ((typeof key !== 'function' && typeof key !== 'object') || key === null) {
      const proto = Object.getPrototypeOf(target);
      return proto === null ? nullProto : stateFor(proto, target);
    }
    return toFront(CACHE - 1, key, stateFor(key, target)); // the least recently used goes (strong, but only CACHE at a time)
  }

  function stateFor(key, target) {
    let s = byKey.get(key);
    if (s === undefined) byKey.set(key, (s = newState(target)));
    return s;
  }

  function newState(target) {
    const s = new ClassSampling(safeName(target), fixedKeep || 1, clock());
    if (fixedKeep > 1) s.skip = gap(fixedKeep);
    return s;
  }

  function safeName(target) {
    try {
      return nameOf(target);
    } catch {
      return 'Object';
    }
  }

  /** The classes counted from a sample now: [{emitter, keep}]. */
  function sampled() {
    return sampledClasses.filter((s) => s.keep > 1).map((s) => ({ emitter: s.name, keep: s.keep }));
  }

  /** Lets go of the cached constructors (uninstall). */
  function uninstall() {
    cacheKeys.fill(NO_KEY);
  }

  return { weigh, draw, noteRecorded, stateOf, sampled, uninstall, status };
}

// Uniform on 1 .. 2*keep-1: mean `keep`, never a fixed stride that could fall in step with an
// app's own pattern (every other request, say).
function gap(keep) {
  return keep === 1 ? 1 : (1 + Math.random() * (2 * keep - 1)) | 0;
}

module.exports = { createEmitterSampling, RECORDS_PER_SECOND, MIN_BURST, EARLY, MAX_KEEP };
