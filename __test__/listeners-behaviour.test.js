'use strict';
// "Behaviour unchanged", side by side: the same scenarios run in a child process without
// leakwatch and in one with it (fast mode, then wrap mode), each recording a trace of return
// values, thrown errors, listener calls, newListener/removeListener events, listener lists,
// inspect() output and Node's own warnings. The traces must be identical.
//
// What the patch does change, on purpose and visibly only this way: an emitter gains no
// property until it is busy (then one non-enumerable one, __leakwatchListeners: see
// listeners-counting.test.js), `process` has one more 'warning' listener (leakwatch records Node's own
// MaxListenersExceededWarning), the patched methods' source text differs, and stack traces
// show leakwatch's frames.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');

const MODE = process.env.LW_BEHAVIOUR_CHILD;

const VISIBLE = `
  const path = ${JSON.stringify(require.resolve('../js/listeners'))};
  const warningListeners = process.listenerCount('warning');
  require(path).install({ counts: new Int32Array(64), maxGroups: 32, describeGroup() {}, warn() {} });
  const EventEmitter = require('node:events');
  const assert = require('node:assert');
  const e = new EventEmitter();
  e.on('x', () => {});
  const plain = new EventEmitter();
  plain._events = e._events; plain._eventsCount = 1;
  const ours = Reflect.ownKeys(e).filter((k) => String(k).includes('leakwatch'));
  let deepEqualToPlain = true;
  try { assert.deepStrictEqual(e, plain); } catch { deepEqualToPlain = false; }
  console.log(JSON.stringify({
    keys: Object.keys(e),
    symbols: Object.getOwnPropertySymbols(e).map(String),
    ours,
    enumerable: ours.some((k) => Object.getOwnPropertyDescriptor(e, k).enumerable),
    forIn: (() => { const seen = []; for (const k in e) seen.push(k); return seen.filter((k) => k.includes('leakwatch')); })(),
    json: JSON.stringify(e).includes('leakwatch'),
    inspectMentionsIt: require('node:util').inspect(e, { depth: 4 }).includes('leakwatch'),
    deepEqualToPlain,
    extraWarningListeners: process.listenerCount('warning') - warningListeners,
  }));
`;

function trace(mode) {
  const r = spawnSync(process.execPath, [__filename], {
    encoding: 'utf8',
    env: { ...process.env, LW_BEHAVIOUR_CHILD: mode },
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

// --- the child ---------------------------------------------------------------------------------

async function runChild(mode) {
  const EventEmitter = require('node:events');
  const early = new EventEmitter(); // created and listened to before leakwatch loads
  early.on('early', () => {});
  if (mode !== 'off') {
    const { install } = require('../js/listeners');
    const handle = install({
      counts: new Int32Array(new ArrayBuffer(8 * 1024)),
      maxGroups: 1024,
      describeGroup() {},
      warn() {},
      notify() {},
      emitterMode: mode,
    });
    if (handle.stats().emitterMode !== mode) throw new Error(`wanted ${mode} mode`);
  }
  const t = new Tracer();
  process.on('warning', (w) => t.log('process-warning', w.name, w.message, w.count, String(w.type)));
  for (const scenario of SCENARIOS) {
    t.log('scenario', scenario.name);
    await scenario(t, { EventEmitter, early });
  }
  await new Promise((resolve) => setImmediate(resolve));
  return t.trace;
}

class Tracer {
  constructor() {
    this.trace = [];
    this.labels = new Map();
  }

  label(value) {
    if (typeof value === 'function') {
      if (typeof value.listener === 'function') return `once(${this.label(value.listener)})`;
      if (!this.labels.has(value)) this.labels.set(value, `fn${this.labels.size}`);
      return this.labels.get(value);
    }
    if (typeof value === 'symbol') return value.toString();
    if (value === undefined) return 'undefined';
    if (value !== null && typeof value === 'object')
      return this.labels.get(value) ?? `object ${value.constructor?.name}`;
    return value;
  }

  name(obj, label) {
    this.labels.set(obj, label);
    return obj;
  }

  log(...entry) {
    this.trace.push(entry.map((x) => this.label(x)));
  }

  /** A listener that logs its calls. */
  fn(name, body) {
    const self = this;
    const f = function (...args) {
      self.log('call', name, ...args.map((a) => (typeof a === 'object' && a !== null ? (a.type ?? 'obj') : a)));
      if (body) return body.apply(this, args);
    };
    this.labels.set(f, name);
    return f;
  }

  /** Runs one operation: its result (or error), then the emitter's visible state. */
  op(target, method, ...args) {
    try {
      const result = target[method](...args);
      this.log(method, result === target ? 'this' : result);
    } catch (err) {
      this.log(method, 'threw', err && err.name, err && err.code, err && err.message);
    }
    this.state(target);
  }

  state(target) {
    try {
      this.visible(target);
    } catch (err) {
      this.log('state', 'threw', err.message);
    }
  }

  visible(target) {
    if (typeof target.eventNames !== 'function') return;
    const names = target.eventNames();
    this.log(
      'state',
      names.map((n) => this.label(n)).join(','),
      names
        .map((n) => `${this.label(n)}=${target.listenerCount(n)}:${target.rawListeners(n).map((f) => this.label(f))}`)
        .join(' '),
      require('node:util').inspect(target, { depth: 0 }).replace(/\s+/g, ' ')
    );
  }
}

const SCENARIOS = [
  function paths(t, { EventEmitter }) {
    const e = t.name(new EventEmitter(), 'e');
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => t.fn(n));
    t.op(e, 'on', 'newListener', t.fn('onNew'));
    t.op(e, 'on', 'removeListener', t.fn('onRemove'));
    t.op(e, 'on', 'x', a);
    t.op(e, 'addListener', 'x', b);
    t.op(e, 'prependListener', 'x', c);
    t.op(e, 'once', 'x', d);
    t.op(e, 'prependOnceListener', 'x', t.fn('e'));
    t.op(e, 'emit', 'x', 1, 2);
    t.op(e, 'off', 'x', b);
    t.op(e, 'removeListener', 'x', a);
    t.op(e, 'off', 'x', t.fn('never-added'));
    t.op(e, 'off', 'none', a);
    t.op(e, 'removeAllListeners', 'x');
    t.op(e, 'removeAllListeners', 'x'); // none left (fast mode answers it without Node's method)
    t.op(e, 'on', 'y', a);
    t.op(e, 'on', 'z', b);
    t.op(e, 'on', 'removeListener', t.fn('onRemove'));
    t.op(e, 'removeAllListeners', 'never');
    t.op(e, 'removeAllListeners');
    t.op(e, 'emit', 'y');
  },
  function onceAndReentrancy(t, { EventEmitter }) {
    const e = t.name(new EventEmitter(), 'e');
    let n = 0;
    const again = t.fn('again', () => {
      if (++n < 4) {
        e.once('r', again);
        e.emit('r', n);
      }
    });
    t.op(e, 'once', 'r', again);
    t.op(e, 'emit', 'r', 0);
    const adder = t.fn('adder', () => {
      e.on('m', t.fn('late'));
      e.off('m', adder);
      e.prependListener('m', t.fn('front'));
    });
    t.op(e, 'on', 'm', adder);
    t.op(e, 'on', 'm', t.fn('stay'));
    t.op(e, 'emit', 'm');
    t.op(e, 'emit', 'm');
    t.op(
      e,
      'on',
      'k',
      t.fn('clearer', () => e.removeAllListeners())
    );
    t.op(e, 'on', 'k', t.fn('after-clear'));
    t.op(e, 'emit', 'k');
  },
  function oddKeysAndErrors(t, { EventEmitter }) {
    const e = t.name(new EventEmitter(), 'e');
    const s = Symbol('sym');
    const f = t.fn('f');
    t.op(e, 'on', s, f);
    t.op(e, 'on', s, t.fn('g'));
    t.op(e, 'off', s, f);
    t.op(e, 'on', 7, f);
    t.op(e, 'emit', '7');
    t.op(e, 'off', '7', f);
    t.op(e, 'on', 'bad', 42);
    t.op(e, 'prependListener', 'bad', 'str');
    t.op(e, 'once', 'bad', null);
    t.op(e, 'off', 'bad', {});
    const frozen = t.name(new EventEmitter(), 'frozen');
    t.op(frozen, 'on', 'first', f);
    Object.freeze(frozen);
    t.op(frozen, 'on', 'first', t.fn('second'));
    t.op(frozen, 'on', 'other', f);
    t.op(frozen, 'off', 'first', f);
    const getter = t.name(new EventEmitter(), 'getter');
    Object.defineProperty(getter, '_events', {
      get() {
        throw new Error('getter throws');
      },
    });
    for (const m of ['on', 'off', 'prependListener', 'removeAllListeners']) {
      try {
        getter[m]('x', f);
      } catch (err) {
        t.log(m, 'threw', err.message);
      }
    }
  },
  function replacedEvents(t, { EventEmitter }) {
    const e = t.name(new EventEmitter(), 'e');
    const f = t.fn('f');
    t.op(e, 'on', 'a', f);
    t.op(e, 'on', 'a', t.fn('g'));
    e._events = { __proto__: null };
    e._eventsCount = 0;
    t.op(e, 'on', 'a', f);
    delete e._events;
    t.op(e, 'off', 'a', f);
    t.op(e, 'on', 'a', f);
    t.op(e, 'emit', 'a');
  },
  function oddEmitters(t, { EventEmitter, early }) {
    t.name(early, 'early');
    t.op(early, 'on', 'early', t.fn('later'));
    t.op(early, 'removeAllListeners', 'early');
    const bare = t.name(Object.assign(Object.create(null), EventEmitter.prototype), 'bare');
    EventEmitter.call(bare);
    t.op(bare, 'on', 'n', t.fn('n1'));
    t.op(bare, 'emit', 'n');
    class Custom extends EventEmitter {
      on(type, fn) {
        super.on(type, fn);
        return 'custom';
      }
    }
    const c = t.name(new Custom(), 'custom');
    t.op(c, 'on', 'q', t.fn('q'));
    t.op(c, 'once', 'q', t.fn('q-once'));
    t.op(c, 'emit', 'q');
    class Bus extends EventEmitter {}
    const bus = t.name(new Bus(), 'bus');
    for (let i = 0; i < 12; i++) bus.on('many', t.fn(`m${i}`));
    t.op(bus, 'setMaxListeners', 3);
    t.op(bus, 'prependListener', 'few', t.fn('p1'));
    for (let i = 0; i < 4; i++) t.op(bus, 'prependListener', 'few', t.fn(`p${i + 2}`));
    t.op(bus, 'emit', 'few');
  },
  async function streamsAndProcess(t) {
    const { PassThrough, pipeline } = require('node:stream');
    const a = t.name(new PassThrough(), 'a');
    const b = t.name(new PassThrough(), 'b');
    const chunks = [];
    b.on('data', (chunk) => chunks.push(String(chunk)));
    const done = new Promise((resolve) => pipeline(a, b, (err) => resolve(err ? err.code : 'ok')));
    a.write('one');
    a.end('two');
    t.log('pipeline', await done, chunks.join('|'));
    t.log('listeners', a.eventNames().map(String).join(','), b.eventNames().map(String).join(','));
    const handler = t.fn('proc');
    t.log('process.on', process.on('lw-test', handler) === process, process.listenerCount('lw-test'));
    t.log('process.emit', process.emit('lw-test', 'hi'));
    t.log('process.off', process.off('lw-test', handler) === process, process.listenerCount('lw-test'));
  },
  async function eventTargets(t) {
    const target = t.name(new EventTarget(), 'target');
    const f = t.fn('f');
    const obj = { handleEvent: t.fn('handleEvent') };
    const calls = () => t.log('dispatch', target.dispatchEvent(new Event('ping')));
    target.addEventListener('ping', f);
    target.addEventListener('ping', f);
    target.addEventListener('ping', f, { capture: true });
    target.addEventListener('ping', obj);
    target.addEventListener('ping', t.fn('once'), { once: true });
    calls();
    calls();
    target.removeEventListener('ping', f);
    calls();
    const ac = new AbortController();
    target.addEventListener('sig', t.fn('sig'), { signal: ac.signal });
    ac.abort();
    t.log('dispatch', target.dispatchEvent(new Event('sig')));
    target.addEventListener('sig', t.fn('sig-late'), { signal: ac.signal });
    t.log('dispatch', target.dispatchEvent(new Event('sig')));
    const { signal } = new AbortController();
    signal.onabort = t.fn('onabort');
    signal.addEventListener('abort', t.fn('abort-listener'));
    for (let i = 0; i < 11; i++) signal.addEventListener('abort', t.fn(`abort${i}`));
    t.log('max', require('node:events').getMaxListeners(signal));
    try {
      target.addEventListener('ping');
    } catch (err) {
      t.log('addEventListener', 'threw', err.code);
    }
    const { once } = require('node:events');
    const ee = new (require('node:events'))();
    const p = once(ee, 'ready');
    ee.emit('ready', 42);
    t.log('events.once', (await p)[0], ee.listenerCount('ready'), ee.listenerCount('error'));
  },
];

// Last, so the classes and scenarios above are initialised before either side runs.
if (MODE !== undefined) {
  runChild(MODE).then(
    (trace) => process.stdout.write(JSON.stringify(trace)),
    (err) => {
      process.stderr.write(String(err && err.stack));
      process.exitCode = 1;
    }
  );
} else {
  test('traces are identical with and without leakwatch (fast mode)', () => {
    assert.deepEqual(trace('fast'), trace('off'));
  });

  test('traces are identical with and without leakwatch (wrap mode)', () => {
    assert.deepEqual(trace('wrap'), trace('off'));
  });

  test('the visible differences: no property on a quiet emitter, and no process listener of ours in sight', () => {
    const r = spawnSync(process.execPath, ['-e', VISIBLE], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      keys: ['_events', '_eventsCount', '_maxListeners'],
      symbols: ['Symbol(shapeMode)', 'Symbol(kCapture)'],
      ours: [], // records and sampled listeners live in WeakMaps
      enumerable: false,
      forIn: [],
      json: false,
      inspectMentionsIt: false,
      deepEqualToPlain: true,
      extraWarningListeners: 0, // leakwatch's own 'warning' listener is not listed (js/process-listeners.js)
    });
  });
}
