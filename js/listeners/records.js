// Per-emitter records: how many listeners of each event type one emitter holds, as counted.
//
// An emitter's record is a short linked list of entries, one per counted event type; the first
// entry (the head) is kept in a WeakMap keyed by the emitter, not on the emitter: a property
// changes the emitter's hidden class, and a class whose emitters come both with and without
// one leaves Node's stream and http code that handles them polymorphic for the rest of the
// process. Measured on an http server, where a request's IncomingMessage and ServerResponse
// each get one or two listeners: +1.8 % CPU per request with a property on every recorded
// emitter, against the WeakMap alone (12 alternating rounds); on a ws server where 1 in `keep`
// sockets carried one, +20 % CPU per connection.
//
// A WeakMap lookup costs more than a property load, though (~5 ns per add and per remove: an
// on/off pair on one emitter went from 1.09x to 1.25x of Node's), so an emitter whose record
// is looked up HOT times, a long-lived busy one, also gets it in a non-enumerable property,
// __leakwatchListeners: from then on one load finds it. A request's emitters never get there,
// nor a short-lived connection's socket (a WebSocket's does a few dozen lookups in its life);
// a keep-alive socket after a hundred-odd requests, or an app's event bus early in its life.
//
// The head is what lets a collected emitter stop counting: collection.js is told when the
// emitter is collected and hands the head back, and its remaining listeners come off the group
// counters. What is watched is not the emitter but a small marker that only the WeakMap holds,
// as the value for the emitter: it dies with the emitter. Nothing watching it may keep the
// emitter alive, and neither may a listener (listeners often close over their emitter), so the
// head holds neither. A marker rather than the emitter, because V8's young-generation GC keeps
// a weakly watched object alive, and with it everything it references: an emitter watched
// itself would drag its whole object graph (a request's, a socket's) into the old generation.
// Measured with a FinalizationRegistry on 1,000,000 short-lived objects of 20 small objects
// each: 1,920 ms registering each object, 561 ms registering a marker, 250 ms with none.
//
// Not every pair is counted: emitter-sampling.js decides, per busy period, and gives each
// counted one a weight (1 unless its class churns). An emitter with no counted pair has no
// record at all, so a short-lived one costs no allocation and no watch.
//
// Memory matters here (one record per live emitter, 100,000s of sockets): an emitter with one
// event type costs one Entry, a Marker, its watch (a weak handle) and a WeakMap slot.

const { types } = require('node:util');
const { createEmitterSampling } = require('./emitter-sampling');
const { createCollectionWatch } = require('./collection');

const SCAN_LIMIT = 16; // past this many event types on one emitter, look types up in a Map
const PRUNE_AT = 8; // an emitter with this many types drops the ones with no listeners left
const HOT = 256; // lookups of a record before it goes into a property of its emitter too

// One (emitter, event type). Field order fixed so all entries share one hidden class.
class Entry {
  constructor(type, group) {
    this.type = type;
    this.group = group;
    this.live = 0; // listeners of this type on this emitter, as last counted
    this.weight = 0; // what one of them counts for; 0 while this busy period is not counted
    this.next = 1; // re-check for a leak once live exceeds this (emitter-warning.js)
    this.born = -1; // clock() when the count first passed 1, for the growth in the first warning
    this.base = 0; // listeners found attached, not seen being added (sampler.js adopt())
    this.samples = null; // sampled listeners on this entry (sampler.js)
    this.warned = null; // {count, time, printed} of the last warning (emitter-warning.js)
    this.link = null; // the emitter's next entry
    this.index = null; // on the head of an emitter with many types: Map(type -> Entry)
    this.sampling = null; // on the head: its class's sampling state (emitter-sampling.js)
    this.owner = null; // on the head: the install's token (a property left by an earlier one is ignored)
  }
}

// What the WeakMap holds for a recorded emitter, and what collection.js watches (above).
class Marker {
  constructor(head) {
    this.head = head;
    this.lookups = 0; // WeakMap lookups so far, up to HOT
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
 * @param {object|null|undefined} native  the addon's marker watch (collection.js), or none
 */
function createRecords(ctx, dropSamples, native) {
  const records = new WeakMap(); // emitter -> Marker; one per install, so earlier installs' go unread
  const owner = {}; // this install, on each head it makes
  const collection = createCollectionWatch(collected, native);
  const groups = ctx.groups;
  const sampling = createEmitterSampling(
    clock,
    (target) => groups.classNameOf(target),
    ctx.fixedKeep,
    (name) => groups.countsOfClass(name)
  );
  const status = sampling.status;

  /**
   * The head entry of `target` if it has a record; never creates one. The add and remove paths
   * spell it out (`pinnedHead(target) ?? lookup(target)`): V8 compiled peek on its own early,
   * lookup and pin inlined, and then found it too large to inline into them, a call per remove
   * on a busy emitter (benches/server-instructions.js, WORKLOAD=pool: 10,327 -> 10,244
   * instructions per job).
   */
  function peek(target) {
    return pinnedHead(target) ?? lookup(target);
  }

  // The head in target's property, if this install put it there (one load: busy emitters).
  function pinnedHead(target) {
    const head = target.__leakwatchListeners;
    return head !== undefined && head.owner === owner ? head : undefined;
  }

  function lookup(target) {
    const marker = records.get(target);
    if (marker === undefined) return undefined;
    if (marker.lookups < HOT && ++marker.lookups === HOT) pin(target, marker.head);
    return marker.head;
  }

  // A busy emitter's head goes into a property as well, in a class counted exactly: in a
  // sampled one only 1 emitter in `keep` has a record, and a property on those alone is the
  // split that slows Node's code (above). An emitter that cannot take one (frozen, a Proxy)
  // stays with the WeakMap.
  function pin(target, head) {
    if (head.sampling.keep !== 1 || types.isProxy(target) || !Object.isExtensible(target)) return;
    Object.defineProperty(target, '__leakwatchListeners', {
      value: head,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }

  // The record of `target` is dropped: its property, if it had one, no longer finds it.
  function unpin(target, head) {
    if (target.__leakwatchListeners === head) target.__leakwatchListeners = undefined;
  }

  /**
   * The entry counting `type` on `target` for an add, or null while that pair is not counted.
   * `before`: the pair's listener count before the add. An entry returned may hold a count
   * other than `before` (listeners came or went unseen); the caller settles it.
   *
   * A busy period that starts on an emitter of a sampled class is drawn before its record is
   * looked up: most are not chosen, and then the add costs its class and a countdown, no
   * WeakMap lookup (benches/server-instructions.js: 2,334 -> 1,696 instructions added per
   * request, as V8 then also inlines the add into Node's callers). What that skips:
   * healing an entry whose listeners went unseen (its next remove or its emitter's collection
   * settles it), and an entry of that emitter still counted exactly from before its class was
   * sampled, whose next remove settles the add it did not see.
   *
   * Once some class is sampled, an add that finds no listeners reads the class before the
   * record property: in code that meets every emitter class each is a megamorphic load (~50
   * instructions), and a sampled class's emitters have no property to find (http: 368 -> 224
   * instructions per request in those loads). Until some class is sampled the property comes
   * first, and a busy emitter's on/off pair costs that one load, no class read.
   */
  function entryOf(target, type, before) {
    if (before === 0 && status.anySampled === true) {
      const s = sampling.stateOf(target);
      if (s.keep !== 1) {
        const weight = sampling.draw(s);
        return weight === 0 ? null : begin(peek(target), target, type, weight);
      }
    }
    return counting(pinnedHead(target) ?? lookup(target), target, type, before);
  }

  // The entry of `head` (undefined: no record) counting `type`, or the one a pair not counted
  // so far gets, or null.
  function counting(head, target, type, before) {
    const entry = find(head, type);
    return entry !== null && entry.weight !== 0 ? entry : choose(head, target, type, before);
  }

  // A pair not counted so far (kept out of entryOf, which the engine inlines into every add).
  // A busy period starts (before is 0): chosen or not (a sampled entry was left with weight 0
  // when its last period ended). Mid-period: counted only while the class is exact.
  function choose(head, target, type, before) {
    const weight =
      before === 0
        ? sampling.draw(head !== undefined ? head.sampling : sampling.stateOf(target))
        : sampling.weigh(target);
    return weight === 0 ? null : begin(head, target, type, weight);
  }

  // The entry that counts a busy period of (target, type) from now on, as `weight`.
  function begin(head, target, type, weight) {
    const entry = find(head, type);
    if (entry === null) return newEntry(head, target, type, weight);
    restart(entry, weight);
    return entry;
  }

  /**
   * The pair's live count reached 0. A sampled period ends there: the pair's next one is
   * chosen afresh, and an emitter of a sampled class with nothing counted left loses its record
   * (else, period after period, every long-lived emitter would end up with one). An exact one
   * (weight 1) just goes on counting.
   */
  function emptied(target, entry) {
    if (entry.weight <= 1) return;
    entry.weight = 0;
    const marker = records.get(target);
    if (marker === undefined) return;
    const head = marker.head;
    for (let e = head; e !== null; e = e.link) {
      if ((e.weight !== 0 && e.live !== 0) || e.samples !== null) return;
    }
    records.delete(target);
    unpin(target, head);
    // Left watched: once its marker dies collected() finds nothing counted to take off.
  }

  function find(head, type) {
    if (head === undefined) return null;
    if (head.type === type) return head;
    const first = head.link; // the entry found last (findEntry moves it up there)
    return first !== null && first.type === type ? first : findEntry(head, type);
  }

  /** The entry counting `type` on `target` for a remove, or null if the pair is not counted. */
  function countedEntry(target, type) {
    const entry = find(pinnedHead(target) ?? lookup(target), type);
    return entry !== null && entry.weight !== 0 ? entry : null;
  }

  /**
   * Counts a pair that was not chosen, because it passed its emitter's max listeners: a leak on
   * one emitter is reported with its exact count whatever its class's sampling. Its `before`
   * listeners were seen being added (uncounted), so they are settled here, not adopted.
   */
  function promote(target, type, before) {
    const entry = begin(peek(target), target, type, 1);
    if (entry.live !== before) settle(entry, before);
    return entry;
  }

  // A new busy period of a recorded pair, counted with `weight` (0: not counted). What the old
  // one still counted is taken off first, at the old weight.
  function restart(entry, weight) {
    if (entry.weight !== 0 && entry.live !== 0) settle(entry, 0);
    if (entry.samples !== null) dropSamples(entry); // listeners that went unseen
    entry.live = 0;
    entry.base = 0;
    entry.weight = weight;
  }

  function newEntry(head, target, type, weight) {
    const entry = head === undefined ? attach(target, type, weight) : addEntry(head, target, type);
    entry.weight = weight;
    return entry;
  }

  function attach(target, type, weight) {
    const head = new Entry(type, ctx.groups.groupFor(target, type));
    head.sampling = sampling.stateOf(target);
    head.owner = owner;
    sampling.noteRecorded(head.sampling, weight);
    const marker = new Marker(head);
    records.set(target, marker);
    collection.watch(marker, head);
    return head;
  }

  // The entry for `type` among head's others, past the first (find() checked it), or null.
  // One found further down moves up to just after the head: a keep-alive socket holds a dozen
  // types and adds and removes the same one or two per request (measured: +10 ns per
  // add/remove pair with 'close' at the end of the list).
  function findEntry(head, type) {
    if (head.index !== null) return head.index.get(type) ?? null;
    const first = head.link;
    if (first === null) return null;
    for (let prev = first, e = first.link; e !== null; prev = e, e = e.link) {
      if (e.type === type) {
        prev.link = e.link;
        e.link = first;
        head.link = e;
        return e;
      }
    }
    return null;
  }

  function addEntry(head, target, type) {
    const entry = new Entry(type, ctx.groups.groupBeside(head.group, target, type));
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
      if ((e.live === 0 || e.weight === 0) && e.samples === null) {
        prev.link = e.link;
        if (head.index !== null) head.index.delete(e.type);
      } else {
        prev = e;
        n++;
      }
    }
    return n;
  }

  /**
   * One add (`side` 0) or remove (`side` 1) on a counted entry: its group counts its weight,
   * and the totals' excess takes back what is beyond one.
   */
  function count(entry, side) {
    const weight = entry.weight;
    ctx.counts[2 * entry.group.slot + side] += weight;
    if (weight !== 1) ctx.counts[ctx.excess + side] += weight - 1;
  }

  /**
   * Brings a counted entry to the `actual` count seen in the emitter, counting the difference
   * in its group. No add or remove happened here, so the totals' excess takes it back.
   */
  function settle(entry, actual) {
    const d = (actual - entry.live) * entry.weight;
    const counts = ctx.counts;
    const i = 2 * entry.group.slot;
    if (d > 0) {
      counts[i] += d;
      counts[ctx.excess] += d;
    } else if (d < 0) {
      counts[i + 1] -= d;
      counts[ctx.excess + 1] -= d;
    }
    entry.live = actual;
  }

  // The emitter is gone: its listeners are no longer live.
  function collected(head) {
    try {
      for (let entry = head; entry !== null; entry = entry.link) {
        if (entry.live !== 0 && entry.weight !== 0) settle(entry, 0);
        if (entry.samples !== null) dropSamples(entry);
      }
    } catch {
      // Never throw from a finalizer task or the drain.
    }
  }

  /**
   * Whether listeners of `target` that came unseen can be told from seen ones: only in a class
   * counted exactly. In a sampled class an uncounted pair's adds are seen but not counted, and
   * a stale entry would take them for found ones.
   */
  function exact(target) {
    return sampling.weigh(target) === 1;
  }

  function uninstall() {
    sampling.uninstall();
    collection.stop();
  }

  return {
    entryOf,
    countedEntry,
    promote,
    emptied,
    peek,
    count,
    settle,
    exact,
    entriesOf,
    collected,
    drainCollected: collection.drain,
    sampled: sampling.sampled,
    uninstall,
  };
}

/** Every entry of an emitter, head first. */
function* entriesOf(head) {
  for (let e = head; e !== null; e = e.link) yield e;
}

module.exports = { createRecords, entriesOf, Entry, clock };
