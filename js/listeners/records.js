'use strict';
// Per-emitter records: how many listeners of each event type one emitter holds, as counted.
//
// The record is what lets a collected emitter stop counting: a FinalizationRegistry registered
// once per tracked emitter holds the record (never the emitter, never a listener: listeners
// often close over their emitter, which would keep it alive forever) and, when the emitter is
// collected, takes its remaining listeners off the group counters.
//
// The record hangs off the emitter under a non-enumerable symbol (one property load per add,
// invisible to inspect(), eventNames(), deepStrictEqual); emitters that cannot take a property
// (frozen, sealed, Proxies) use a WeakMap instead.

const { types } = require('node:util');

const SCAN_LIMIT = 16; // past this many event types on one emitter, look types up in a Map
const PRUNE_AT = 8; // an emitter with this many types drops the ones with no listeners left
const MAP_PRUNE_AT = 64;

class Record {
  constructor() {
    this.entries = []; // Entry[] while small, then null
    this.map = null; // Map(type -> Entry) once large
  }
}

// One (emitter, event type). Field order fixed so all entries share one hidden class.
class Entry {
  constructor(type, group, now) {
    this.type = type;
    this.group = group;
    this.live = 0; // listeners of this type on this emitter, as last counted
    this.next = 1; // re-check for a leak once live exceeds this (emitter-warning.js)
    this.warnedAt = 0; // live count at the last warning, 0 = never warned
    this.lastWarnTime = 0;
    this.since = now; // growth is measured from (since, base)
    this.base = 0;
    this.samples = null; // sampled listeners on this entry (sampler.js)
  }
}

/**
 * @param {object} ctx  shared state of one install: ctx.counts (Int32Array), ctx.groups
 * @param {(entry: Entry) => void} dropSamples  forget an entry's sampled listeners
 */
function createRecords(ctx, dropSamples) {
  // A symbol per install, so a record left on an emitter by an earlier install is never read.
  const kRecord = Symbol('leakwatch.listeners');
  const detached = new WeakMap(); // records of emitters that cannot take a property
  const registry = new FinalizationRegistry(collected);

  function recordOf(target) {
    const rec = target[kRecord];
    return rec !== undefined ? rec : attach(target);
  }

  function attach(target) {
    let rec = detached.get(target);
    if (rec !== undefined) return rec;
    rec = new Record();
    if (!types.isProxy(target) && Object.isExtensible(target)) {
      Object.defineProperty(target, kRecord, { value: rec, writable: true, configurable: true, enumerable: false });
    } else {
      detached.set(target, rec);
    }
    registry.register(target, rec);
    return rec;
  }

  function entryFor(rec, target, type) {
    const list = rec.entries;
    if (list !== null) {
      for (let i = 0; i < list.length; i++) {
        if (list[i].type === type) return list[i];
      }
    } else {
      const entry = rec.map.get(type);
      if (entry !== undefined) return entry;
    }
    return addEntry(rec, target, type);
  }

  function addEntry(rec, target, type) {
    const entry = new Entry(type, ctx.groups.groupFor(target, type), Date.now());
    if (rec.entries !== null) {
      if (rec.entries.length >= PRUNE_AT) rec.entries = rec.entries.filter(isInUse);
      if (rec.entries.length < SCAN_LIMIT) {
        rec.entries.push(entry);
        return entry;
      }
      rec.map = new Map(rec.entries.map((e) => [e.type, e]));
      rec.entries = null;
    }
    if (rec.map.size >= MAP_PRUNE_AT) {
      for (const [key, e] of rec.map) if (!isInUse(e)) rec.map.delete(key);
    }
    rec.map.set(type, entry);
    return entry;
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

  /** Every entry of an emitter, for reconciling after removeAllListeners(). */
  function entriesOf(rec) {
    return rec.entries !== null ? rec.entries : [...rec.map.values()];
  }

  // The emitter is gone: its listeners are no longer live.
  function collected(rec) {
    try {
      for (const entry of entriesOf(rec)) {
        if (entry.live !== 0) settle(entry, 0);
        if (entry.samples !== null) dropSamples(entry);
      }
    } catch {
      // Never throw from a finalizer task.
    }
  }

  return { recordOf, entryFor, settle, entriesOf, collected, kRecord };
}

function isInUse(entry) {
  return entry.live !== 0 || entry.samples !== null;
}

module.exports = { createRecords, Record, Entry };
