'use strict';
// Install-time check that the fast EventEmitter methods behave exactly like this Node's own.
//
// The same scripted scenarios run twice on scratch emitters, once with Node's methods and once
// with the fast ones put on EventEmitter.prototype for that one synchronous run (plain
// emitters, as the app's, so the engine's type feedback for the fast code stays what the app
// will give it), and the traces must be identical: return values, thrown errors, newListener/removeListener
// events, listener arrays (order, the `warned` flag, Node 24's emitting counter), _eventsCount
// and Node's MaxListenersExceededWarning. Takes well under a millisecond; any difference means
// this Node's lib/events.js is not one the fast methods know, and the patch uses wrap mode.
// emitter-mode.js runs it in a child process (emitter-check-child.js) unless told otherwise.

const path = require('node:path');
const EventEmitter = require('node:events');
const { LISTENERS_DIR } = require('../layout');
const { readFlavour, learnWarningTemplate, applyMethods } = require('./emitter');
const { learnNodeFrames } = require('./node-stack');

/**
 * The whole check, on `orig` (the prototype's methods before install): {same, template, frames,
 * sources}. `template`: Node's warning text to build the fast methods' flavour from; `frames`:
 * the frames Node's own add puts in its warning's stack (node-stack.js), null when the fast
 * methods cannot reproduce them exactly; `sources`: the methods' source text, so that a verdict
 * reached in a child process (on its own, untouched methods) is used only where the methods
 * are the same.
 */
function checkFast(orig) {
  const capture = (method) => (name, type, max) => captureNodeWarning(orig, name, type, max, method);
  const template = learnWarningTemplate(capture('addListener'));
  let frames = learnNodeFrames(
    capture('addListener')('LwProbeGamma', 'lwTypeGamma', 2),
    capture('prependListener')('LwProbeDelta', 'lwTypeDelta', 2)
  );
  let same = sameWith(orig, template, frames);
  if (!same && frames !== null) {
    frames = null; // counting exactly matters more than the warning's stack
    same = sameWith(orig, template, null);
  }
  return { same, template, frames, sources: sourcesOf(orig) };
}

// Whether fast methods built with `frames` behave as Node's (and, with frames, warn with its stacks).
function sameWith(orig, template, frames) {
  const flavour = readFlavour(orig, template, frames);
  return flavour !== null && sameBehaviour(scratchFastMethods(orig, flavour), applyMethods, frames !== null);
}

/** {name: source text} of the methods the patch replaces (emitter.originalMethods()). */
function sourcesOf(methods) {
  return Object.fromEntries(Object.entries(methods).map(([name, fn]) => [name, Function.prototype.toString.call(fn)]));
}

// Fast methods for the check, built from fresh copies of the counting modules and thrown away
// afterwards. Fresh copies, because running the real closures on the check's odd scenarios
// would leave the engine's type feedback for them polymorphic before the app starts.
function scratchFastMethods(orig, flavour) {
  const copies = freshModules([
    './groups',
    './emitter-sampling',
    './records',
    './sampler',
    './emitter-warning',
    './emitter',
  ]);
  const [{ Groups: G }, , { createRecords: records }, { createSampler: sampler }, { createEmitterWarnings: leak }] =
    copies;
  const counts = new Int32Array(64);
  const ctx = { counts, warn() {}, notify() {}, warnIntervalMs: 0 };
  ctx.groups = new G({ counts, maxGroups: 32, describeGroup() {} });
  ctx.uncounted = ctx.groups.uncounted;
  ctx.excess = ctx.groups.excess;
  ctx.sampler = sampler(ctx);
  ctx.records = records(ctx, ctx.sampler.dropSamples);
  ctx.leak = leak(ctx);
  return copies[5].fastMethods(ctx, orig, flavour);
}

// require() of new module instances, leaving the module cache as it was.
function freshModules(ids) {
  const files = ids.map((id) => require.resolve(path.join(LISTENERS_DIR, id))); // from the bundle too
  const saved = files.map((f) => require.cache[f]);
  try {
    for (const f of files) delete require.cache[f];
    return files.map((f) => require(f));
  } finally {
    files.forEach((f, i) => {
      if (saved[i]) require.cache[f] = saved[i];
      else delete require.cache[f];
    });
  }
}

/**
 * Node's MaxListenersExceededWarning for a class named `className`, raised by Node's own
 * `method` ('addListener' or 'prependListener'), caught, not printed.
 */
function captureNodeWarning(orig, className, type, max, method = 'addListener') {
  const Probe = { [className]: class extends EventEmitter {} }[className];
  const probe = new Probe();
  probe.setMaxListeners(max);
  return withWarningsCaught((caught) => {
    for (let i = 0; i <= max; i++) orig[method].call(probe, type, () => {});
    return caught[0] ?? null;
  });
}

// process.emitWarning replaced for the duration of one synchronous call, then restored.
function withWarningsCaught(fn) {
  const saved = process.emitWarning;
  const caught = [];
  process.emitWarning = (w) => caught.push(w);
  try {
    return fn(caught);
  } finally {
    process.emitWarning = saved;
  }
}

/**
 * True when the `fast` methods produce the same traces as the prototype's current (Node's own)
 * methods on every scenario. `applyMethods(fast)` puts them in place and returns an undo.
 * `stacks`: Node's warnings must have the same stacks too.
 */
function sameBehaviour(fast, applyMethods, stacks = false) {
  try {
    for (const scenario of SCENARIOS) {
      const a = JSON.stringify(run(scenario, stacks));
      const restore = applyMethods(fast);
      let b;
      try {
        b = JSON.stringify(run(scenario, stacks));
      } finally {
        restore();
      }
      if (a !== b) return false;
    }
    return true;
  } catch {
    return false;
  }
}

function run(scenario, stacks) {
  const trace = [];
  const labels = new Map();
  const label = (fn) => {
    if (typeof fn !== 'function') return typeof fn;
    if (typeof fn.listener === 'function') return `once(${label(fn.listener)})`;
    if (!labels.has(fn)) labels.set(fn, `f${labels.size}`);
    return labels.get(fn);
  };
  const fns = Array.from(
    { length: 8 },
    () =>
      function listener() {
        trace.push(['called', label(listener)]);
      }
  );
  fns.forEach(label);
  const t = {
    fns,
    make(setup) {
      const e = new EventEmitter();
      if (setup) setup(e);
      return e;
    },
    op(e, name, ...args) {
      try {
        const r = e[name](...args);
        trace.push([name, r === e ? 'this' : typeof r]);
      } catch (err) {
        trace.push([name, 'threw', err && err.code, err && err.message]);
      }
      trace.push(['state', snapshot(e, label)]);
    },
    log(...entry) {
      trace.push(entry.map((x) => (typeof x === 'function' ? label(x) : String(x))));
    },
  };
  withWarningsCaught((caught) => {
    scenario(t);
    for (const w of caught) {
      trace.push([
        'warning',
        w.name,
        w.message,
        w.count,
        String(w.type),
        Object.keys(w),
        stacks ? stackTop(w.stack) : null,
      ]);
    }
  });
  return trace;
}

// A warning's stack down to its first frame outside Node (the scenario's call): the frames
// below differ between the two runs' call sites.
function stackTop(stack) {
  const lines = String(stack).split('\n');
  const caller = lines.findIndex((line) => line.startsWith('    at ') && !line.includes('(node:'));
  return caller < 0 ? lines : lines.slice(0, caller + 1);
}

function snapshot(e, label) {
  const events = e._events;
  const keys = events === undefined ? [] : Reflect.ownKeys(events);
  const shape = Object.getOwnPropertySymbols(e).find((s) => s.description === 'shapeMode');
  return {
    count: e._eventsCount,
    events: keys.map((k) => [String(k), describe(events[k], label)]),
    shapeMode: shape === undefined ? 'none' : e[shape], // how Node's next remove drops a type
  };
}

/** @param {any} value  a listener list as Node stored it (a function, or an array that may carry `warned`) */
function describe(value, label) {
  if (!Array.isArray(value)) return value === undefined ? 'undefined' : label(value);
  const extra = Object.getOwnPropertySymbols(value).map((s) => [s.description, value[s]]);
  return { items: value.map(label), warned: /** @type {any} */ (value).warned === true, extra };
}

// An emitter in shape mode, as streams are: a preset _events object makes EventEmitter.init
// use it.
function streamLike(t) {
  return t.make((x) => {
    x._events = { close: undefined, data: undefined };
    /** @type {any} */ (EventEmitter).init.call(x); // Node's own constructor body, not in its types
  });
}

const SCENARIOS = [
  function plain(t) {
    const [f0, f1, f2, f3, f4] = t.fns;
    const e = t.make();
    t.op(e, 'on', 'a', f0);
    t.op(e, 'on', 'a', f1);
    t.op(e, 'prependListener', 'a', f2);
    t.op(e, 'once', 'a', f3);
    t.op(e, 'prependOnceListener', 'a', f4);
    t.op(e, 'emit', 'a');
    t.op(e, 'off', 'a', f1);
    t.op(e, 'off', 'a', f4);
    t.op(e, 'off', 'nothing', f0);
    t.op(e, 'off', 'a', f0);
    t.op(e, 'off', 'a', f2);
    t.op(e, 'on', 'b', f0);
    t.op(e, 'off', 'b', f0);
    t.op(e, 'on', 'c', f0);
    t.op(e, 'on', 'c', f0);
    t.op(e, 'removeAllListeners', 'c');
    t.op(e, 'removeAllListeners', 'c'); // none left: answered without Node's method
    t.op(e, 'on', 'd', f1);
    t.op(e, 'removeAllListeners');
  },
  function withNewAndRemoveListeners(t) {
    const [f0, f1, f2, f3] = t.fns;
    const e = t.make();
    const onNew = (type, fn) => t.log('newListener', type, fn);
    const onRemove = (type, fn) => t.log('removeListener', type, fn);
    t.op(e, 'on', 'newListener', onNew);
    t.op(e, 'on', 'removeListener', onRemove);
    t.op(e, 'on', 'a', f0);
    t.op(e, 'once', 'a', f1);
    t.op(e, 'prependListener', 'a', f2);
    t.op(e, 'emit', 'a');
    t.op(e, 'off', 'a', f0);
    t.op(e, 'off', 'a', f2);
    t.op(e, 'on', 'b', f3);
    t.op(e, 'off', 'b', f3);
    t.op(e, 'on', 'c', f3);
    t.op(e, 'removeAllListeners', 'c');
    t.op(e, 'removeAllListeners', 'c');
    t.op(e, 'removeAllListeners');
  },
  function shapeMode(t) {
    const [f0, f1] = t.fns;
    const e = streamLike(t);
    t.op(e, 'on', 'data', f0);
    t.op(e, 'on', 'data', f1);
    t.op(e, 'off', 'data', f0);
    t.op(e, 'off', 'data', f1);
    t.op(e, 'on', 'close', f0);
    t.op(e, 'on', 'removeListener', f1);
    t.op(e, 'off', 'close', f0);
    t.op(e, 'removeAllListeners', 'data'); // a preset key holding undefined
    t.op(e, 'off', 'removeListener', f1);
    t.op(e, 'on', 'close', f0);
    t.op(e, 'removeAllListeners', 'data'); // the same, nothing listening for removeListener
    t.op(e, 'on', 'data', f1);
    t.op(e, 'off', 'data', f1);
  },
  function shapeModeDropAll(t) {
    const [f0, f1] = t.fns;
    const e = streamLike(t);
    t.op(e, 'on', 'data', f0);
    t.op(e, 'on', 'close', f1);
    t.op(e, 'on', 'close', f0);
    t.op(e, 'removeAllListeners');
    t.op(e, 'on', 'data', f1);
    t.op(e, 'off', 'data', f1);
  },
  function nodeWarning(t) {
    const e = t.make();
    t.op(e, 'setMaxListeners', 2);
    for (const f of t.fns.slice(0, 5)) t.op(e, 'on', 'w', f);
    t.op(e, 'prependListener', 'w', t.fns[5]);
    t.op(e, 'setMaxListeners', 1);
    t.op(e, 'on', 'v', t.fns[0]);
    t.op(e, 'prependListener', 'v', t.fns[1]);
  },
  function reentrant(t) {
    const [f0, f1, f2] = t.fns;
    const e = t.make();
    function adder() {
      t.log('adder');
      e.on('r', f1);
      e.off('r', adder);
      e.prependListener('r', f2);
    }
    t.op(e, 'on', 'r', adder);
    t.op(e, 'on', 'r', f0);
    t.op(e, 'emit', 'r');
    t.op(e, 'emit', 'r');
    t.op(e, 'once', 'r', () => e.removeAllListeners('r'));
    t.op(e, 'emit', 'r');
  },
  function oddArguments(t) {
    const [f0, f1] = t.fns;
    const sym = Symbol('s');
    const e = t.make();
    t.op(e, 'on', sym, f0);
    t.op(e, 'on', sym, f1);
    t.op(e, 'off', sym, f0);
    t.op(e, 'on', 42, f0);
    t.op(e, 'off', '42', f0);
    t.op(e, 'on', 'a', 123);
    t.op(e, 'off', 'a', null);
    t.op(e, 'prependListener', 'a', {});
    delete e._events;
    t.op(e, 'off', 'a', f0);
    t.op(e, 'on', 'a', f0);
    e._events = { __proto__: null };
    t.op(e, 'on', 'a', f1);
  },
];

module.exports = { checkFast, sourcesOf, captureNodeWarning, withWarningsCaught, sameBehaviour };
