'use strict';
// Every registration path is counted, and counted right: EventEmitter and EventTarget, odd
// emitters (null prototype, frozen, subclasses, created before install), odd states (_events
// replaced, throwing getters, changes during emit), and 1,000,000 listeners on one emitter.
// The counters are a plain Int32Array, exactly what the native side hands over.

const { test, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const EventEmitter = require('node:events');
const v8 = require('node:v8');
const { PassThrough } = require('node:stream');
const { install } = require('../js/listeners');
const { installTracking, groupCounts } = require('./helpers');
const { forceGc } = require('../js/force-gc');

const MAX_GROUPS = 512;
let handle = null;

function setup(options = {}) {
  const tracking = installTracking(options, MAX_GROUPS);
  handle = tracking.handle;
  return tracking;
}

afterEach(() => {
  if (handle) handle.uninstall();
  handle = null;
});

const group = (emitter, event) => groupCounts(handle, emitter, event);

function liveOf(emitter, event) {
  return group(emitter, event).live;
}

class Thing extends EventEmitter {}

test('install reports the mode it runs in', () => {
  const { handle: h } = setup();
  const stats = h.stats();
  assert.equal(stats.emitterMode, 'fast');
  assert.equal(stats.eventTarget, true);
});

test('on, addListener, prependListener, off and removeListener are counted', () => {
  setup();
  const e = new Thing();
  const f = () => {};
  const g = () => {};
  e.on('data', f);
  e.addListener('data', g);
  e.prependListener('data', f);
  assert.deepEqual(group('Thing', 'data'), { live: 3, adds: 3, removes: 0 });
  e.off('data', f);
  e.removeListener('data', g);
  e.removeListener('data', () => {}); // not registered: nothing removed, nothing counted
  e.off('nothing', f);
  assert.deepEqual(group('Thing', 'data'), { live: 1, adds: 3, removes: 2 });
  e.off('data', f);
  assert.equal(liveOf('Thing', 'data'), 0);
});

test('once and prependOnceListener count until they fire, and removing them by the original works', () => {
  setup();
  const e = new Thing();
  const f = () => {};
  e.once('tick', f);
  e.prependOnceListener('tick', () => {});
  e.once('tock', f);
  assert.equal(liveOf('Thing', 'tick'), 2);
  e.emit('tick');
  assert.equal(liveOf('Thing', 'tick'), 0);
  e.off('tock', f); // removes the once wrapper through the original listener
  assert.deepEqual(group('Thing', 'tock'), { live: 0, adds: 1, removes: 1 });
});

test('re-entrant once: a once listener that re-registers itself and emits again', () => {
  setup();
  const e = new Thing();
  let calls = 0;
  function again() {
    calls++;
    if (calls < 5) {
      e.once('r', again);
      e.emit('r');
    }
  }
  e.once('r', again);
  e.emit('r');
  assert.equal(calls, 5);
  assert.equal(liveOf('Thing', 'r'), 0);
  assert.equal(group('Thing', 'r').adds, 5);
});

test('removeAllListeners with and without an event, with and without removeListener listeners', () => {
  setup();
  const e = new Thing();
  for (let i = 0; i < 5; i++) e.on('a', () => {});
  e.on('b', () => {});
  e.removeAllListeners('a');
  assert.equal(liveOf('Thing', 'a'), 0);
  assert.equal(liveOf('Thing', 'b'), 1);
  e.on('a', () => {});
  e.removeAllListeners();
  assert.equal(liveOf('Thing', 'a'), 0);
  assert.equal(liveOf('Thing', 'b'), 0);

  const seen = [];
  e.on('removeListener', (type) => seen.push(type));
  e.on('c', () => {});
  e.on('c', () => {});
  e.removeAllListeners();
  assert.deepEqual(seen, ['c', 'c']);
  assert.equal(liveOf('Thing', 'c'), 0);
  assert.equal(liveOf('Thing', 'removeListener'), 0);
});

test('removeAllListeners() inside a handler, and listeners that add and remove during emit', () => {
  setup();
  const e = new Thing();
  const late = () => {};
  e.on('x', () => e.on('x', late));
  e.on('x', function selfRemoving() {
    e.off('x', selfRemoving);
  });
  e.emit('x');
  assert.equal(liveOf('Thing', 'x'), e.listenerCount('x'));
  e.on('y', () => e.removeAllListeners());
  e.on('y', () => {});
  e.emit('y');
  assert.equal(liveOf('Thing', 'y'), 0);
  assert.equal(liveOf('Thing', 'x'), 0);
});

test('Symbol event names', () => {
  setup();
  const e = new Thing();
  const s = Symbol('ready');
  const f = () => {};
  e.on(s, f);
  e.on(s, () => {});
  assert.equal(liveOf('Thing', 'Symbol(ready)'), 2);
  e.off(s, f);
  assert.equal(liveOf('Thing', 'Symbol(ready)'), 1);
});

test('emitters created (and listened to) before install are counted from their next change', () => {
  const e = new Thing();
  e.on('old', () => {});
  e.on('old', () => {});
  setup();
  e.on('old', () => {});
  assert.equal(liveOf('Thing', 'old'), 3);
  e.removeAllListeners('old');
  assert.equal(liveOf('Thing', 'old'), 0);
});

test('subclasses that override on() and streams (whose _events are preset) are counted', () => {
  setup();
  class Custom extends EventEmitter {
    on(type, fn) {
      super.on(type, fn);
      return 'custom';
    }
  }
  const c = new Custom();
  assert.equal(
    c.on('z', () => {}),
    'custom'
  );
  assert.equal(liveOf('Custom', 'z'), 1);

  const s = new PassThrough();
  const f = () => {};
  s.on('close', f);
  s.on('end', () => {});
  assert.equal(liveOf('PassThrough', 'close'), 1);
  s.off('close', f);
  assert.equal(liveOf('PassThrough', 'close'), 0);
  s.destroy();
});

test('null-prototype and frozen emitters', () => {
  setup();
  const bare = Object.assign(Object.create(null), EventEmitter.prototype);
  EventEmitter.call(bare);
  const f = () => {};
  bare.on('n', f);
  bare.on('n', () => {});
  assert.equal(liveOf('Object: null prototype', 'n'), 2);
  bare.off('n', f);
  assert.equal(liveOf('Object: null prototype', 'n'), 1);

  const frozen = new Thing();
  frozen.on('first', () => {});
  Object.freeze(frozen);
  frozen.on('first', () => {}); // second listener of a known type: _events is not frozen
  assert.equal(liveOf('Thing', 'first'), 2);
  // Node's own behaviour: the listener is stored, then writing _eventsCount throws.
  assert.throws(() => frozen.on('other', () => {}), TypeError);
  assert.equal(frozen.listenerCount('other'), 1);
  frozen.on('other', () => {}); // the next change settles the one counting missed
  assert.equal(liveOf('Thing', 'other'), 2);
});

test('_events replaced or deleted behind our back heals on the next change', () => {
  setup();
  const e = new Thing();
  e.on('a', () => {});
  e.on('a', () => {});
  e._events = { __proto__: null };
  e._eventsCount = 0;
  e.on('a', () => {});
  assert.equal(liveOf('Thing', 'a'), 1);
  delete e._events;
  e.on('a', () => {});
  assert.equal(liveOf('Thing', 'a'), 1);
});

test('a getter that throws: the app sees its own error, leakwatch stays consistent', () => {
  setup();
  const e = new Thing();
  Object.defineProperty(e, '_events', {
    get() {
      throw new Error('no events for you');
    },
    configurable: true,
  });
  assert.throws(() => e.on('a', () => {}), /no events for you/);
  assert.throws(() => e.off('a', () => {}), /no events for you/);
  assert.throws(() => e.removeAllListeners(), /no events for you/);
  assert.equal(liveOf('Thing', 'a'), 0);
});

test("invalid listeners throw exactly Node's error and count nothing", () => {
  setup();
  const e = new Thing();
  assert.throws(() => e.on('a', 42), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => e.off('a', null), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.equal(group('Thing', 'a').adds, 0);
});

test('1,000,000 listeners on one emitter', () => {
  setup();
  const e = new Thing();
  e.setMaxListeners(0);
  const f = () => {};
  for (let i = 0; i < 1_000_000; i++) e.on('many', f);
  assert.equal(liveOf('Thing', 'many'), 1_000_000);
  for (let i = 0; i < 10; i++) e.off('many', f);
  assert.equal(liveOf('Thing', 'many'), 999_990);
  e.removeAllListeners('many');
  assert.equal(liveOf('Thing', 'many'), 0);
});

test('counted emitters dropped young die young: their objects are not promoted to the old generation', () => {
  setup();
  class Conn extends EventEmitter {}
  const oldSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_used_size;
  forceGc();
  const before = oldSpace();
  const n = 10_000;
  for (let i = 0; i < n; i++) {
    const c = new Conn();
    c.payload = Array.from({ length: 256 }, (_, j) => ({ j })); // ~8 KB each, 80 MB in all
    c.on('close', () => {});
  }
  assert.equal(liveOf('Conn', 'close') > 0, true, 'the emitters were counted');
  const grew = oldSpace() - before;
  // Counting costs ~200 bytes of old space per emitter; the payloads, had they been kept
  // through young GCs, would be several times more than this bound.
  assert.ok(grew < 8e6, `old space grew ${(grew / 1e6).toFixed(1)} MB`);
});

test('EventTarget: once, capture, signal and duplicate listener+capture pairs', () => {
  setup();
  const t = new EventTarget();
  const f = () => {};
  t.addEventListener('ping', f);
  t.addEventListener('ping', f); // duplicate: not added, not counted
  t.addEventListener('ping', f, { capture: true }); // another pair
  t.addEventListener('ping', { handleEvent() {} });
  assert.equal(liveOf('EventTarget', 'ping'), 3);
  t.removeEventListener('ping', f, { capture: true });
  assert.equal(liveOf('EventTarget', 'ping'), 2);

  t.addEventListener('once', () => {}, { once: true });
  assert.equal(liveOf('EventTarget', 'once'), 1);
  t.dispatchEvent(new Event('once'));
  assert.equal(liveOf('EventTarget', 'once'), 0);

  const ac = new AbortController();
  t.addEventListener('sig', () => {}, { signal: ac.signal });
  t.addEventListener('sig', () => {}, { signal: ac.signal });
  assert.equal(liveOf('EventTarget', 'sig'), 2);
  ac.abort();
  assert.equal(liveOf('EventTarget', 'sig'), 0);
  t.addEventListener('sig', () => {}, { signal: ac.signal }); // already aborted: never added
  assert.equal(liveOf('EventTarget', 'sig'), 0);
});

test('AbortSignal listeners and the onabort handler attribute', () => {
  setup();
  const ac = new AbortController();
  const f = () => {};
  ac.signal.addEventListener('abort', f);
  ac.signal.onabort = () => {};
  assert.equal(liveOf('AbortSignal', 'abort'), 2);
  ac.signal.onabort = null;
  ac.signal.removeEventListener('abort', f);
  assert.equal(liveOf('AbortSignal', 'abort'), 0);
});

test('slots run out: new groups fold into the overflow slot 0 and are counted there', () => {
  const counts = new Int32Array(8 * 8);
  const described = [];
  handle = install({
    counts,
    maxGroups: 8,
    describeGroup: (slot, info) => described.push([slot, info]),
    warn() {},
    notify() {},
  });
  const total = () => handle.snapshot().reduce((sum, r) => sum + r.live, 0);
  const before = total();
  const e = new Thing();
  for (let i = 0; i < 20; i++) e.on(`event-${i}`, () => {});
  assert.ok(described.every(([slot]) => slot < 8));
  assert.ok(handle.stats().folded > 0);
  assert.ok(handle.snapshot().find((r) => r.emitter === '(other)').live > 0);
  assert.equal(total() - before, 20);
});

test('describeGroup is called once per group and per site, never per add', () => {
  const { described } = setup();
  const e = new Thing();
  e.setMaxListeners(0);
  const before = described.size;
  for (let i = 0; i < 10_000; i++) e.on('hot', () => {});
  assert.ok(described.size - before <= 1 + 2 * 8, `${described.size - before} descriptions`);
  const kinds = new Set([...described.values()].map((i) => i.kind));
  assert.deepEqual([...kinds].sort(), ['group', 'site', 'site-emitters', 'totals']);
});

test("uninstall restores Node's methods and stops counting", () => {
  const { counts } = setup();
  const onBefore = EventEmitter.prototype.on;
  handle.uninstall();
  handle = null;
  assert.notEqual(EventEmitter.prototype.on, onBefore);
  const snapshot = counts.slice();
  const e = new Thing();
  e.on('after', () => {});
  new EventTarget().addEventListener('after', () => {});
  assert.deepEqual(counts, snapshot);
  const again = setup();
  assert.equal(again.handle.stats().emitterMode, 'fast');
});

test("a busy emitter carries its record in a property; an earlier install's is not read by the next one", () => {
  setup();
  const e = new Thing();
  const quiet = new Thing();
  quiet.on('kept', () => {});
  e.on('kept', () => {});
  e.on('kept', () => {});
  const f = () => {};
  for (let i = 0; i < 20; i++) e.on('busy', f).off('busy', f); // a connection's worth of lookups
  assert.equal(
    Object.getOwnPropertyDescriptor(e, '__leakwatchListeners'),
    undefined,
    'not yet: a short life is spared the property'
  );
  for (let i = 20; i < 200; i++) e.on('busy', f).off('busy', f); // looked up 400 times
  assert.equal(liveOf('Thing', 'kept'), 3);
  assert.equal(group('Thing', 'busy').adds, 200);
  assert.deepEqual(
    Object.getOwnPropertyNames(quiet).filter((k) => k.includes('leakwatch')),
    []
  );
  const own = Object.getOwnPropertyDescriptor(e, '__leakwatchListeners');
  assert.ok(own && !own.enumerable, 'a busy emitter gets a non-enumerable property');
  assert.deepEqual(Object.keys(e), Object.keys(quiet));
  handle.uninstall();
  // The new install allocates its own slots; the old record's groups must not count into them.
  const { counts } = setup();
  new Thing().on('other', () => {}); // takes the slot the old 'kept' group had
  e.on('kept', () => {}); // mid-period on an emitter from before: counted from what it holds
  e.off('kept', e.listeners('kept')[0]);
  assert.deepEqual(group('Thing', 'other'), { live: 1, adds: 1, removes: 0 });
  assert.equal(liveOf('Thing', 'kept'), 2);
  assert.ok(counts.every((n) => n >= 0));
});

test('a second install while one is active is refused', () => {
  setup();
  assert.throws(
    () => install({ counts: new Int32Array(16), maxGroups: 8, describeGroup() {}, warn() {} }),
    /already installed/
  );
});

test('wrap mode counts the same as fast mode', () => {
  setup({ emitterMode: 'wrap' });
  assert.equal(handle.stats().emitterMode, 'wrap');
  const e = new Thing();
  const f = () => {};
  e.on('w', f);
  e.prependListener('w', () => {});
  e.once('w', () => {});
  assert.equal(liveOf('Thing', 'w'), 3);
  e.emit('w');
  e.off('w', f);
  assert.equal(liveOf('Thing', 'w'), 1);
  e.removeAllListeners();
  assert.equal(liveOf('Thing', 'w'), 0);
});
