'use strict';
// The EventEmitter patch: replacement addListener/on, prependListener, removeListener/off and
// removeAllListeners on EventEmitter.prototype, so every emitter counts, including those created
// before leakwatch loaded and subclasses whose own `on` calls super. once() and
// prependOnceListener() are left alone: they call this.on / this.prependListener, and the fired
// wrapper calls this.removeListener, so they are counted through these.
//
// Speed: a wrapper that calls the original and then counts costs ~1.2x on an on/off pair, over
// budget. So, in "fast" mode, the add and remove methods reproduce lib/events.js line by line
// (the same property reads and writes, events and errors) with the counting inline. Node's code
// differs between versions (Node 24 copies a listener array that is being emitted; Node 20
// emits 'removeListener' in fewer branches), so the flavour is read off this Node at install and
// checked by emitter-check.js against Node's own methods on scratch emitters; on any mismatch
// the patch falls back to "wrap" mode: plain wrappers around Node's methods, slower but exact.
//
// Counting: each add/remove knows how many listeners the emitter held for the type just before
// (0, 1 or the array's length). When that differs from the record's count, listeners came or
// went behind our back (_events replaced or deleted, a method captured before install) and the
// difference is settled first, so the counters heal themselves.

const EventEmitter = require('node:events');
const { inspect } = require('node:util');
const { pastMax } = require('./emitter-warning');
// Needed only when Node's warning is raised: loaded then, not at start-up.
const callAsNode = (...args) => require('./node-stack').callAsNode(...args);
const stackAsNode = (...args) => require('./node-stack').stackAsNode(...args);

const P = EventEmitter.prototype;
const ADD_NAMES = ['addListener', 'on'];
const REMOVE_NAMES = ['removeListener', 'off'];
const PATCHED_NAMES = [...ADD_NAMES, ...REMOVE_NAMES, 'prependListener', 'removeAllListeners'];
const arraySlice = Array.prototype.slice;

/** The methods as they are now (Node's own, or whatever was there before install). */
function originalMethods() {
  return {
    addListener: P.addListener,
    prependListener: P.prependListener,
    removeListener: P.removeListener,
    removeAllListeners: P.removeAllListeners,
  };
}

/**
 * Reads how this Node's lib/events.js behaves, from a fresh emitter and the source text of
 * removeListener. `warningTemplate`: Node's MaxListenersExceededWarning text with placeholders
 * (learnWarningTemplate), learnt here or in the check's child process; `nodeFrames`: Node's
 * frames for that warning's stack (node-stack.js learnNodeFrames), or null. Returns null when
 * something is not as any known version has it.
 */
function readFlavour(orig, warningTemplate, nodeFrames = null) {
  try {
    if (typeof warningTemplate !== 'string') return null;
    const probe = /** @type {any} */ (new EventEmitter()); // Node's internals (_events) are read
    const shape = ownSymbol(probe, 'shapeMode');
    orig.addListener.call(probe, 'x', noop); // Node's own: with a patch in place, still uncounted
    orig.addListener.call(probe, 'x', noop);
    const emitting = ownSymbol(probe._events.x, 'events.emitting');
    const source = Function.prototype.toString.call(orig.removeListener);
    const legacyRemove = source.includes('hasEventListener(this, type)');
    return { shape, emitting, legacyRemove, nodeWarning: warningRenderer(warningTemplate), nodeFrames };
  } catch {
    return null;
  }
}

function ownSymbol(obj, description) {
  return Object.getOwnPropertySymbols(obj).find((s) => s.description === description) ?? null;
}

function noop() {}

// Node's MaxListenersExceededWarning text changed across versions ("MaxListeners is N." was
// added), so the fast add learns it from Node: two probes with distinct values, warnings caught
// before they reach process.emitWarning, and a template checked to rebuild both texts. The
// template marks the emitter \u0001, the count \u0002, the type \u0003 and the limit \u0004.
function learnWarningTemplate(captureNodeWarning) {
  try {
    const a = captureNodeWarning('LwProbeAlpha', 'lwTypeAlpha', 7);
    const b = captureNodeWarning('LwProbeBeta', 'lwTypeBeta', 3);
    if (a === null || b === null) return null;
    const template = a.message
      .replace('[LwProbeAlpha]', () => '\u0001')
      .replace('8 lwTypeAlpha', () => '\u0002 \u0003')
      .replace('is 7.', () => 'is \u0004.');
    const render = warningRenderer(template);
    if (render(8, 'lwTypeAlpha', a.emitter, 7) !== a.message) return null;
    if (render(4, 'lwTypeBeta', b.emitter, 3) !== b.message) return null;
    if (Object.keys(a).join() !== 'name,emitter,type,count') return null;
    return template;
  } catch {
    return null;
  }
}

function warningRenderer(template) {
  return (count, type, target, max) =>
    template
      .replace('\u0001', () => inspect(target, { depth: -1 }))
      .replace('\u0002', () => String(count))
      .replace('\u0003', () => String(type))
      .replace('\u0004', () => String(max));
}

/**
 * The counting methods, installed once: they start as wrappers around Node's methods and,
 * once useFast(flavour) is called (the check found the fast ones exact), run lib/events.js's
 * logic with the counting inline. The same four functions stay on EventEmitter.prototype for
 * the process's life, so code that cached `EventEmitter.prototype.on` at start calls what
 * everyone else calls.
 */
function countingMethods(ctx, orig) {
  const { entryOf, countedEntry, promote, emptied, count, settle } = ctx.records;
  const wrapped = wrappedOps(ctx, orig);
  let fast = false;
  // This Node's lib/events.js flavour (readFlavour), set by useFast().
  let kShapeMode = null;
  let kEmitting = null;
  let legacyRemove = false;
  let nodeWarning = null;
  let nodeFrames = null;

  function addListener(type, listener) {
    if (fast) return add(this, type, listener, false, addListener);
    return wrapped.add(this, type, listener, false, addListener);
  }

  function prependListener(type, listener) {
    if (fast) return add(this, type, listener, true, prependListener);
    return wrapped.add(this, type, listener, true, prependListener);
  }

  function useFast(flavour) {
    ({ shape: kShapeMode, emitting: kEmitting, legacyRemove, nodeWarning, nodeFrames } = flavour);
    fast = true;
  }

  function add(target, type, listener, prepend, below) {
    if (typeof listener !== 'function') {
      // Node's own validation error, exactly.
      return (prepend ? orig.prependListener : orig.addListener).call(target, type, listener);
    }
    let events = target._events;
    let before = -1; // listeners of the type before this one; -1 until it is stored
    if (events === undefined) {
      events = target._events = { __proto__: null };
      target._eventsCount = 0;
    } else {
      if (events.newListener !== undefined) {
        target.emit('newListener', type, listener.listener ?? listener);
        events = target._events; // a newListener handler may have replaced it
      }
      const existing = events[type];
      if (existing !== undefined) before = addToList(target, events, type, listener, existing, prepend, below);
    }
    if (before < 0) {
      events[type] = listener;
      ++target._eventsCount;
      before = 0;
    }
    counted(target, type, listener, before, below);
    return target;
  }

  // add() for a type that has listeners already: Node's array handling and its max-listeners
  // warning, kept out of add() so that the first listener's path is small enough for V8 to
  // inline. Returns how many listeners the type held before.
  function addToList(target, events, type, listener, existing, prepend, below) {
    let list;
    let before;
    if (typeof existing === 'function') {
      list = prepend ? [listener, existing] : [existing, listener];
      if (kEmitting !== null) list[kEmitting] = 0;
      events[type] = list;
      before = 1;
    } else {
      list = existing;
      if (kEmitting !== null && list[kEmitting] > 0) list = mutableCopy(events, type, list);
      before = list.length;
      if (prepend) list.unshift(listener);
      else list.push(listener);
    }
    const m = target._maxListeners === undefined ? EventEmitter.defaultMaxListeners : target._maxListeners;
    if (m > 0 && list.length > m && !list.warned) warnLikeNode(target, type, list, m, below);
    return before;
  }

  // Node's warning, raised here: with Node's own stack where its frames were learnt.
  function warnLikeNode(target, type, existing, m, below) {
    existing.warned = true;
    const w = new Error(nodeWarning(existing.length, type, target, m));
    Object.assign(w, { name: 'MaxListenersExceededWarning', emitter: target, type, count: existing.length });
    if (nodeFrames === null) Error.captureStackTrace(w, below);
    else stackAsNode(w, below === prependListener ? 'prependListener' : 'addListener', nodeFrames, add);
    ctx.nodeWarned = target;
    process.emitWarning(w);
  }

  // Node 24: an array being emitted is copied before it changes (ensureMutableListenerArray).
  function mutableCopy(events, type, list) {
    const copy = arraySlice.call(list);
    copy[kEmitting] = 0;
    if (list.warned) copy.warned = true;
    events[type] = copy;
    return copy;
  }

  function counted(target, type, listener, before, below) {
    try {
      const key = keyOf(type);
      let entry = key === null ? null : entryOf(target, key, before);
      if (entry === null && (before === 0 || key === null || (entry = promoted(target, key, before)) === null)) {
        // No group counts this pair (emitter-sampling.js; most adds in a sampled class): the
        // totals still count the add. Kept inline: this is a request's most common path.
        ctx.counts[ctx.uncounted]++;
        return;
      }
      if (entry.live !== before) heal(target, entry, before, key, listener);
      const live = ++entry.live;
      const group = entry.group;
      count(entry, 0);
      if (--group.skip <= 0) ctx.sampler.sample(target, group, entry, listener, below);
      if (live > entry.next) ctx.leak.check(target, entry, 'emitter', below);
    } catch {
      // Counting must never break the app's add.
    }
    if (ctx.nodeWarned !== null) ctx.nodeWarned = null; // set by warnLikeNode for this add
  }

  // A pair no group counted so far, mid-period, that has passed its emitter's max listeners:
  // counted from now on (its entry), so the per-emitter warning has its exact count. Else null.
  function promoted(target, key, before) {
    return pastMax(target, 'emitter', before + 1) ? promote(target, key, before) : null;
  }

  // The pair's count is not `actual`, the count before this add of `listener`: listeners came
  // or went unseen. Those that came were attached before the pair was first counted, or behind
  // leakwatch's back: found, not added (sampler.js adopt), in a class counted exactly.
  function heal(target, entry, actual, key, listener) {
    const from = entry.live;
    settle(entry, actual);
    if (actual > from) {
      if (ctx.records.exact(target))
        ctx.sampler.adopt(target, entry, actual - from, unseen(target._events[key], listener, from, actual));
    } else if (entry.samples !== null) {
      const list = target._events[key];
      ctx.sampler.reconcile(target, entry, (fn) => holds(list, fn));
    }
  }

  /** @this {any} an EventEmitter, whose _events and _eventsCount Node's own code also reads */
  function removeListener(type, listener) {
    if (!fast) return wrapped.remove(this, type, listener);
    if (typeof listener !== 'function') return orig.removeListener.call(this, type, listener);
    const events = this._events;
    if (events === undefined) return this;
    const list = events[type];
    if (list === undefined) return this;

    if (list === listener || list.listener === listener) {
      this._eventsCount -= 1;
      if (kShapeMode !== null && this[kShapeMode]) {
        events[type] = undefined;
      } else if (this._eventsCount === 0) {
        this._events = { __proto__: null };
      } else {
        delete events[type];
        if (legacyRemove) {
          uncounted(this, type, list, 1);
          if (events.removeListener) this.emit('removeListener', type, list.listener || listener);
          return this;
        }
      }
      uncounted(this, type, list, 1);
      if (!legacyRemove && events.removeListener !== undefined) {
        this.emit('removeListener', type, list.listener || listener);
      }
    } else if (typeof list !== 'function') {
      removeFromList(this, events, type, list, listener);
    }
    return this;
  }

  // removeListener() for a type holding an array (kept out of it, as addToList is from add()).
  function removeFromList(target, events, type, list, listener) {
    if (kEmitting !== null && list[kEmitting] > 0) list = mutableCopy(events, type, list);
    let position = -1;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i] === listener || list[i].listener === listener) {
        position = i;
        break;
      }
    }
    if (position < 0) return;
    const stored = list[position];
    if (position === 0) list.shift();
    else spliceOne(list, position);
    if (list.length === 1) events[type] = list[0];
    uncounted(target, type, stored, list.length + 1);
    if (events.removeListener !== undefined) target.emit('removeListener', type, listener);
  }

  function uncounted(target, type, stored, before) {
    try {
      const key = keyOf(type);
      const entry = key === null ? null : countedEntry(target, key);
      if (entry === null) {
        ctx.counts[ctx.uncounted + 1]++;
        return;
      }
      if (entry.live !== before) settle(entry, before);
      count(entry, 1);
      if (entry.samples !== null) ctx.sampler.forget(target, entry, stored);
      if (--entry.live === 0) emptied(target, entry);
    } catch {
      // Counting must never break the app's remove.
    }
  }

  // removeAllListeners. Where nothing listens for 'removeListener', Node's method calls and emits
  // nothing: it drops every type's listeners, or one type's. In fast mode dropping them all (ws,
  // a Receiver's eight types as each connection closes) and dropping a type that holds none
  // (http, per request) are done here; every other call runs Node's method and then settles the
  // counts with what it left (removeAll).
  //
  // Node tells "no argument" (every type) from an undefined type by arguments.length; the method
  // passes Node's exactly that, never the arguments object itself, which the engine would then
  // allocate on every call.
  function removeAllListeners(type) {
    if (arguments.length === 0) return fast && quiet(this) ? dropAll(this) : removeAll(ctx, orig, this, true);
    if (!hasNone(this, type)) return removeAll(ctx, orig, this, false, type);
    return fast ? dropNone(this) : orig.removeAllListeners.call(this, type);
  }

  function quiet(target) {
    const events = target._events;
    return events !== undefined && events !== null && events.removeListener === undefined;
  }

  // Node's removeAllListeners() where quiet(target): every listener goes, counted first.
  function dropAll(target) {
    const dropped = heldCount(target, true);
    target._events = { __proto__: null };
    target._eventsCount = 0;
    if (kShapeMode !== null) target[kShapeMode] = false;
    ctx.counts[ctx.uncounted + 1] += dropped;
    reconcile(ctx, target, true);
    return target;
  }

  // Node's removeAllListeners(type) where the type holds none (hasNone): an emitter's shape mode
  // ends there all the same, unless something listens for 'removeListener'.
  function dropNone(target) {
    if (kShapeMode !== null && target._events.removeListener === undefined) target[kShapeMode] = false;
    return target;
  }

  return { addListener, prependListener, removeListener, removeAllListeners, useFast };
}

/** The counting methods, fast from the start (`flavour` checked already): the check's copy. */
function fastMethods(ctx, orig, flavour) {
  const methods = countingMethods(ctx, orig);
  methods.useFast(flavour);
  return methods;
}

// removeAllListeners() or removeAllListeners(type) by Node's own method, then the counts
// reconciled with what is left (it may have called removeListener per listener, which counted
// already).
function removeAll(ctx, orig, target, all, type) {
  // Node calls removeListener per listener (counted there) only when some listen for it.
  const viaRemoveListener = heldCount(target, false, 'removeListener') > 0;
  const before = viaRemoveListener ? 0 : heldCount(target, all, type);
  try {
    return all ? orig.removeAllListeners.call(target) : orig.removeAllListeners.call(target, type);
  } finally {
    if (!viaRemoveListener) ctx.counts[ctx.uncounted + 1] += Math.max(0, before - heldCount(target, all, type));
    reconcile(ctx, target, all, type);
  }
}

// Listeners of `type` (or of every type) on `target`, from its _events; 0 if unreadable.
function heldCount(target, all, type) {
  try {
    const events = target._events;
    if (events === undefined || events === null) return 0;
    return all ? heldInAll(target, events) : countOf(events[type]);
  } catch {
    return 0;
  }
}

// Listeners of every type in `events`, target's _events. A for-in loop reads the engine's cache
// of the keys, where Reflect.ownKeys builds a new array: ~50 against ~600 ns on a ws Receiver's
// eight types, once per connection as it closes. It sees no symbol keys, though: when fewer
// string keys hold listeners than Node's _eventsCount (the types that do), every key is read.
function heldInAll(target, events) {
  let n = 0;
  let types = 0;
  for (const key in events) {
    const count = countOf(events[key]);
    if (count > 0) {
      n += count;
      types++;
    }
  }
  if (types === target._eventsCount) return n;
  n = 0;
  for (const key of Reflect.ownKeys(events)) n += countOf(events[key]);
  return n;
}

// True when `target` holds no listener of `type` (the same reads Node's own method makes).
function hasNone(target, type) {
  try {
    const key = typeof type === 'string' ? type : keyOf(type); // a string: no call (servers, per request)
    const events = target._events;
    return key !== null && events !== undefined && events !== null && events[key] === undefined;
  } catch {
    return false; // Node's own method will meet the same error
  }
}

/**
 * The listeners that came unseen: those at [from, to) of `list` as it was before `listener` was
 * just appended or prepended to it (unseen ones are most often the last: attached before
 * counting began, from 0, or added straight into _events).
 */
function unseen(list, listener, from, to) {
  if (!Array.isArray(list)) return [];
  return list[0] === listener && list[to] !== listener ? list.slice(from + 1, to + 1) : list.slice(from, to);
}

/** Brings the records of `target` in line with its _events (one type, or all). */
function reconcile(ctx, target, all, type) {
  try {
    const head = ctx.records.peek(target);
    if (head === undefined) return;
    const key = all ? null : keyOf(type);
    const events = target._events;
    for (let entry = head; entry !== null; entry = entry.link) {
      if ((!all && entry.type !== key) || entry.weight === 0) continue;
      const list = events == null ? undefined : events[entry.type];
      const actual = countOf(list);
      if (actual === entry.live) continue;
      ctx.records.settle(entry, actual);
      if (entry.samples !== null) ctx.sampler.reconcile(target, entry, (fn) => holds(list, fn));
      if (actual === 0) ctx.records.emptied(target, entry);
    }
  } catch {
    // exotic _events (a throwing getter): leave the counts as they are
  }
}

/**
 * Wrap mode: Node's methods run untouched; the counts follow from the lists before and after.
 * `below`: the installed method, the frame a warning's stack starts under.
 */
function wrappedOps(ctx, orig) {
  function add(target, type, listener, prepend, below) {
    const method = prepend ? orig.prependListener : orig.addListener;
    let result;
    if (nodeWillWarn(target, type)) {
      result = callAsNode(method, target, [type, listener]);
      ctx.nodeWarned = target;
    } else {
      result = method.call(target, type, listener);
    }
    afterAdd(target, type, listener, below);
    ctx.nodeWarned = null;
    return result;
  }
  function afterAdd(target, type, listener, below) {
    try {
      ctx.counts[ctx.uncounted]++; // the settle()s below count as excess: this is the add
      const key = keyOf(type);
      if (key === null) return;
      const actual = countOf(target._events[key]);
      let entry = ctx.records.entryOf(target, key, actual - 1);
      if (entry === null) {
        if (actual <= 1 || !pastMax(target, 'emitter', actual)) return;
        entry = ctx.records.promote(target, key, actual - 1);
      }
      const from = entry.live;
      if (from !== actual - 1) ctx.records.settle(entry, actual - 1);
      if (from < actual - 1 && ctx.records.exact(target)) {
        ctx.sampler.adopt(target, entry, actual - 1 - from, unseen(target._events[key], listener, from, actual - 1));
      }
      ctx.records.settle(entry, actual);
      const group = entry.group;
      if (--group.skip <= 0) ctx.sampler.sample(target, group, entry, listener, below);
      if (entry.live > entry.next) ctx.leak.check(target, entry, 'emitter', below);
    } catch {
      // never into the app
    }
  }
  function remove(target, type, listener) {
    const before = heldCount(target, false, type);
    try {
      return orig.removeListener.call(target, type, listener);
    } finally {
      // reconcile()'s settle counts as excess: this is the remove, if one happened
      ctx.counts[ctx.uncounted + 1] += Math.max(0, before - heldCount(target, false, type));
      reconcile(ctx, target, false, type);
    }
  }
  return { add, remove };
}

// Whether Node's add of one more `type` listener to `target` will print its warning (the test in
// lib/events.js _addListener, read before the add).
function nodeWillWarn(target, type) {
  try {
    const key = keyOf(type);
    const events = target._events;
    if (key === null || events === undefined || events === null) return false;
    const list = events[key];
    const m = target._maxListeners === undefined ? EventEmitter.defaultMaxListeners : target._maxListeners;
    return m > 0 && countOf(list) + 1 > m && !(typeof list === 'object' && list !== null && list.warned);
  } catch {
    return false;
  }
}

// The key lib/events.js files a listener under, when it can be had without running app code.
// Each `typeof` is compared where it is taken: V8 compiles that to a type check, while a typeof
// kept in a variable is a builtin call (3 % of an on/off pair).
function keyOf(type) {
  if (typeof type === 'string' || typeof type === 'symbol') return type;
  if (typeof type === 'object' || typeof type === 'function') return null;
  return String(type);
}

function countOf(list) {
  if (list === undefined || list === null) return 0;
  return typeof list === 'function' ? 1 : list.length >>> 0;
}

function holds(list, fn) {
  return list === fn || (Array.isArray(list) && list.includes(fn));
}

// internal/util's spliceOne: faster than Array#splice for one element.
function spliceOne(list, index) {
  for (; index + 1 < list.length; index++) list[index] = list[index + 1];
  list.pop();
}

/** Puts `methods` on EventEmitter.prototype; returns a function that takes them off again. */
function applyMethods(methods) {
  const saved = {};
  const put = (name, fn) => {
    saved[name] = Object.getOwnPropertyDescriptor(P, name);
    Object.defineProperty(P, name, { ...saved[name], value: fn });
  };
  for (const name of PATCHED_NAMES) put(name, methodFor(methods, name));
  refreshConstants(P);
  return function restore() {
    for (const name of Object.keys(saved)) {
      const current = Object.getOwnPropertyDescriptor(P, name);
      // Someone patched on top of us: leave theirs in place rather than break their chain.
      if (current && current.value === methodFor(methods, name)) Object.defineProperty(P, name, saved[name]);
    }
    refreshConstants(P);
  };
}

// V8 treats a method it has only ever seen one value of as a constant, and compiles a call
// through it (`Stream.prototype.on.call(this, …)` in Readable.on) as a call to that function,
// which it can inline. Replacing a method makes the field "mutable" for good, so Node's stream
// and http code called leakwatch's methods as unknown functions: never inlined, every property
// load in them seeing every emitter class. Deleting a property other than the last one added
// turns the prototype into a dictionary, and V8 rebuilds it, fields constant again, the next
// time it serves as a prototype (checked by __test__/listeners-engine.test.js). With it V8
// inlines the remove into http's detachSocket and the add into clearIncoming
// (--trace-turbo-inlining); benches/server-instructions.js read a request's own work 68,753 ->
// 68,569 instructions, ~0.3 %, within that bench's ~1 % repeatability.
function refreshConstants(proto) {
  const first = Symbol('leakwatch.refresh');
  const second = Symbol('leakwatch.refresh');
  try {
    proto[first] = true;
    proto[second] = true;
  } catch {
    // a prototype that takes no new property keeps its fields as they are
  } finally {
    delete proto[first];
    delete proto[second];
  }
}

/** True while every method applyMethods(methods) put in place is still there. */
function isApplied(methods) {
  return PATCHED_NAMES.every((name) => P[name] === methodFor(methods, name));
}

function methodFor(methods, name) {
  if (ADD_NAMES.includes(name)) return methods.addListener;
  if (REMOVE_NAMES.includes(name)) return methods.removeListener;
  return methods[name];
}

module.exports = {
  originalMethods,
  readFlavour,
  learnWarningTemplate,
  countingMethods,
  fastMethods,
  applyMethods,
  isApplied,
  keyOf,
  countOf,
};
