'use strict';
// The EventTarget patch (AbortSignal, MessagePort, user EventTargets).
//
// Node's EventTarget calls two internal hooks, this[kNewListener](size, type, listener, …) after
// a listener is really added (never for a duplicate listener+capture pair, never for an aborted
// `signal`) and this[kRemoveListener](size, type, listener, capture) after one is removed, by
// removeEventListener, a fired `once`, an aborted `signal`, or the collection of a weak
// listener. `size` is the type's new listener count. Wrapping these two hooks on
// EventTarget.prototype (AbortSignal's own hooks call super) counts every path exactly, with no
// bookkeeping of our own about duplicates. The symbols are internal: they are found by their
// description, and when a Node version lacks them EventTargets are simply not counted.

const { pastMax } = require('./emitter-warning');
// Needed only when Node's warning is raised: loaded then, not at start-up.
const callAsNode = (...args) => require('./node-stack').callAsNode(...args);

function findHooks(proto) {
  const symbols = Object.getOwnPropertySymbols(proto);
  const kNew = symbols.find((s) => s.description === 'kNewListener');
  const kRemove = symbols.find((s) => s.description === 'kRemoveListener');
  if (!kNew || !kRemove) return null;
  if (typeof proto[kNew] !== 'function' || typeof proto[kRemove] !== 'function') return null;
  return { kNew, kRemove };
}

/** Patches EventTarget.prototype; returns a function that undoes it, or null if unsupported. */
function patchTarget(ctx) {
  const proto = globalThis.EventTarget && globalThis.EventTarget.prototype;
  const hooks = proto ? findHooks(proto) : null;
  if (hooks === null) return null;
  const { kNew, kRemove } = hooks;
  const origNew = proto[kNew];
  const origRemove = proto[kRemove];
  const { entryOf, countedEntry, promote, emptied, count, settle } = ctx.records;
  const [kMax, kWarned] = maxSymbols();

  // Counts the add, then runs Node's own hook once (which may print Node's warning: then
  // through callAsNode, so that the warning has the stack Node gives it, this frame left out).
  function newListener(size, type, listener, once, capture, passive, weak) {
    const nodeWarns = warnsPast(this, size);
    counted(this, size, type, listener, weak, nodeWarns);
    if (nodeWarns) return callAsNode(origNew, this, [size, type, listener, once, capture, passive, weak]);
    return Reflect.apply(origNew, this, arguments);
  }

  function counted(target, size, type, listener, weak, nodeWarns) {
    try {
      let entry = entryOf(target, type, size - 1);
      if (entry === null) {
        if (size <= 1 || !pastMax(target, 'target', size)) {
          ctx.counts[ctx.uncounted]++; // not counted in a group (emitter-sampling.js)
          return;
        }
        entry = promote(target, type, size - 1);
      }
      const from = entry.live;
      if (from !== size - 1) settle(entry, size - 1);
      if (from < size - 1 && ctx.records.exact(target))
        ctx.sampler.adopt(target, entry, size - 1 - from, unseen(target, type, from, size - 1));
      entry.live = size;
      const group = entry.group;
      count(entry, 0);
      // Weak listeners (Node's own, for `signal` options) are not sampled: remembering one
      // would keep it alive.
      if (--group.skip <= 0 && !weak) ctx.sampler.sample(target, group, entry, listener, newListener);
      if (size > entry.next) {
        if (nodeWarns) ctx.nodeWarned = target; // Node's hook, after this, prints its own
        ctx.leak.check(target, entry, 'target', newListener);
        ctx.nodeWarned = null;
      }
    } catch {
      // Counting must never break the app's addEventListener.
    }
  }

  // Whether Node's hook will print its warning for this add: past the target's max, once.
  function warnsPast(target, size) {
    if (kMax === null || size <= 1) return false;
    try {
      const max = target[kMax];
      return max > 0 && size > max && !target[kWarned];
    } catch {
      return false; // Node's hook meets the same: its own error, not ours
    }
  }

  function removeListener(size, type, listener) {
    try {
      const entry = countedEntry(this, type);
      if (entry === null) ctx.counts[ctx.uncounted + 1]++;
      else {
        if (entry.live !== size + 1) settle(entry, size + 1);
        entry.live = size;
        count(entry, 1);
        if (entry.samples !== null) ctx.sampler.forget(this, entry, listener);
        if (size === 0) emptied(this, entry);
      }
    } catch {
      // Counting must never break the app's removeEventListener.
    }
    return Reflect.apply(origRemove, this, arguments);
  }

  const saved = {
    [kNew]: Object.getOwnPropertyDescriptor(proto, kNew),
    [kRemove]: Object.getOwnPropertyDescriptor(proto, kRemove),
  };
  Object.defineProperty(proto, kNew, { ...saved[kNew], value: newListener });
  Object.defineProperty(proto, kRemove, { ...saved[kRemove], value: removeListener });

  return function unpatch() {
    if (proto[kNew] === newListener) Object.defineProperty(proto, kNew, saved[kNew]);
    if (proto[kRemove] === removeListener) Object.defineProperty(proto, kRemove, saved[kRemove]);
  };
}

// Node's symbols for an EventTarget's max listeners (events.setMaxListeners) and whether it has
// warned, as [max, warned], or [null, null].
function maxSymbols() {
  try {
    const symbols = Object.getOwnPropertySymbols(new EventTarget());
    const max = symbols.find((s) => s.description === 'events.maxEventTargetListeners');
    const warned = symbols.find((s) => s.description === 'events.maxEventTargetListenersWarned');
    return max !== undefined && warned !== undefined ? [max, warned] : [null, null];
  } catch {
    return [null, null];
  }
}

/**
 * The listeners at [from, to) of `type`'s list in Node's kEvents on `target` (a Map of type to
 * a linked list of {listener, next}, the same in Node 20, 22 and 24; the one just added is
 * last), which came unseen. Weak ones are left out: remembering them would keep them alive.
 */
function unseen(target, type, from, to) {
  const found = [];
  try {
    const kEvents = Object.getOwnPropertySymbols(target).find((s) => s.description === 'kEvents');
    let l = kEvents === undefined ? undefined : target[kEvents].get(type)?.next;
    for (let i = 0; l != null && i < to; i++, l = l.next) {
      if (i >= from && !(l.listener instanceof WeakRef)) found.push(l.listener);
    }
  } catch {
    // another Node's layout: the found count is kept without their identities
  }
  return found;
}

module.exports = { patchTarget };
