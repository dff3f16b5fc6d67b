'use strict';
// Per-emitter records: how many listeners of each event type one emitter holds, as counted.
//
// An emitter's record is a short linked list of entries, one per event type; the first entry
// (the head) hangs off the emitter under a non-enumerable symbol: one property load per add,
// invisible to inspect(), eventNames() and deepStrictEqual. Emitters that cannot take a property
// (frozen, sealed, Proxies) keep their head in a WeakMap instead.
//
// The head is what lets a collected emitter stop counting: a FinalizationRegistry registered
// once per tracked emitter holds the head (never the emitter, never a listener: listeners often
// close over their emitter, which would then live forever) and, when the emitter is collected,
// takes its remaining listeners off the group counters.
//
// Memory matters here (one record per live emitter, 100,000s of sockets): an emitter with one
// event type costs one Entry plus the registry's cell, no arrays.

const { types } = require('node:util');

const SCAN_LIMIT = 16; // past this many event types on one emitter, look types up in a Map
const PRUNE_AT = 8; // an emitter with this many types drops the ones with no listeners left

// One (emitter, event type). Field order fixed so all entries share one hidden class.
class Entry {
  constructor(type, group) {
    this.type = type;
    this.group = group;
    this.live = 0; // listeners of this type on this emitter, as last counted
    this.next = 1; // re-check for a leak once live exceeds this (emitter-warning.js)
    this.born = clock(); // when counting began, for the growth in the first warning
    this.samples = null; // sampled listeners on this entry (sampler.js)
    this.warned = null; // {count, time} of the last warning (emitter-warning.js)
    this.link = null; // the emitter's next entry
    this.index = null; // on the head of an emitter with many types: Map(type -> Entry)
  }
}

// Deciseconds since load: a small integer the engine stores unboxed (ms since 1970 is not).
const EPOCH = Date.now();
function clock() {
  return Math.floor((Date.now() - EPOCH) / 100);
}

/**
 * @param {object} ctx  shared state of one install: ctx.counts (Int32Array), ctx.groups
 * @param {(entry: Entry) => void} dropSamples  forget an entry's sampled listeners
 */
function createRecords(ctx, dropSamples) {
  // A symbol per install: a record left on an emitter by an earlier install is never read.
  const kRecord = Symbol('leakwatch.listeners');
  const detached = new WeakMap(); // heads of emitters that cannot take a property
  const registry = new FinalizationRegistry(collected);

  /** The entry for `type` on `target`, created on first sight. */
  function entryOf(target, type) {
    const head = target[kRecord];
    if (head === undefined) return attach(target, type);
    return head.type === type ? head : findEntry(head, target, type);
  }

  /** The head entry of `target` if it has one; never creates one. */
  function peek(target) {
    const head = target[kRecord];
    return head !== undefined ? head : detached.get(target);
  }

  function attach(target, type) {
    const existing = detached.get(target);
    if (existing !== undefined) return existing.type === type ? existing : findEntry(existing, target, type);
    const head = new Entry(type, ctx.groups.groupFor(target, type));
    if (!types.isProxy(target) && Object.isExtensible(target)) {
      Object.defineProperty(target, kRecord, { value: head, writable: true, configurable: true, enumerable: false });
    } else {
      detached.set(target, head);
    }
    registry.register(target, head);
    return head;
  }

  function findEntry(head, target, type) {
    if (head.index !== null) {
      const entry = head.index.get(type);
      return entry !== undefined ? entry : addEntry(head, target, type);
    }
    for (let e = head.link; e !== null; e = e.link) {
      if (e.type === type) return e;
    }
    return addEntry(head, target, type);
  }

  function addEntry(head, target, type) {
    const entry = new Entry(type, ctx.groups.groupFor(target, type));
    let n = 1;
    for (let e = head.link; e !== null; e = e.link) n++;
    if (n >= PRUNE_AT) n = prune(head);
    entry.link = head.link;
    head.link = entry;
    if (head.index !== null) head.index.set(type, entry);
    else if (n + 1 > SCAN_LIMIT) head.index = new Map([...entriesOf(head)].map((e) => [e.type, e]));
    return entry;
  }

  // Unlinks entries with no listeners and no samples (event names that came and went);
  // returns how many entries are left.
  function prune(head) {
    let n = 1;
    let prev = head;
    for (let e = head.link; e !== null; e = e.link) {
      if (e.live === 0 && e.samples === null) {
        prev.link = e.link;
        if (head.index !== null) head.index.delete(e.type);
      } else {
        prev = e;
        n++;
      }
    }
    return n;
  }

  /** Brings an entry to the `actual` count seen in the emitter, counting the difference. */
  function settle(entry, actual) {
    const d = actual - entry.live;
    const counts = ctx.counts;
    const i = 2 * entry.group.slot;
    if (d > 0) counts[i] += d;
    else counts[i + 1] -= d;
    entry.live = actual;
  }

  // The emitter is gone: its listeners are no longer live.
  function collected(head) {
    try {
      for (const entry of entriesOf(head)) {
        if (entry.live !== 0) settle(entry, 0);
        if (entry.samples !== null) dropSamples(entry);
      }
    } catch {
      // Never throw from a finalizer task.
    }
  }

  return { entryOf, peek, settle, entriesOf, collected };
}

/** Every entry of an emitter, head first. */
function* entriesOf(head) {
  for (let e = head; e !== null; e = e.link) yield e;
}

module.exports = { createRecords, entriesOf, Entry, clock };
