'use strict';
// The API of leakwatch/testing: what it exports (CommonJS and ESM), trackListeners(), options,
// and that it leaves the process as it found it: leakwatch stopped again if it started it,
// left running (with its own tracker) if the app had started it, EventEmitter's methods back.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const EventEmitter = require('node:events');
const path = require('node:path');
const lw = require('..');
const testing = require('leakwatch/testing');
const { trackListeners, assertNoLeak } = testing;
const { runNode } = require('./helpers');

const HERE = path.basename(__filename);
const QUICK = { iterations: 20, warmup: 2, rounds: 4, heap: false }; // listener and handle checks are exact

test('exports the same three functions to require and import', async () => {
  assert.deepEqual(Object.keys(testing).sort(), ['assertNoLeak', 'expectNoHandleLeak', 'trackListeners']);
  const esm = await import('leakwatch/testing');
  for (const name of Object.keys(testing)) assert.equal(esm[name], testing[name]);
  assert.equal(esm.default, testing);
});

test('when leakwatch is not running: started for the check, then stopped, EventEmitter restored', async () => {
  assert.equal(lw.running, false);
  const on = EventEmitter.prototype.on;
  const bus = new EventEmitter();
  const err = await assertNoLeak(() => bus.on('x', () => {}), QUICK).catch((e) => e);
  assert.match(err.message, /EventEmitter 'x': \+1\.00 per call/);
  assert.equal(lw.running, false);
  assert.equal(EventEmitter.prototype.on, on);
});

test('when the app runs leakwatch: its tracker is used and it keeps running', async () => {
  lw.start({ log: 'off' });
  try {
    const bus = new EventEmitter();
    await assertNoLeak(() => bus.on('from-app', () => {}), QUICK).catch(() => {});
    assert.equal(lw.running, true);
    assert.ok(lw.listeners(Infinity).some((r) => r.event === 'from-app' && r.live === 22));
  } finally {
    lw.stop();
  }
});

test('when the app runs leakwatch with listeners: false: a private count, the app session untouched', async () => {
  lw.start({ log: 'off', listeners: false });
  try {
    const on = EventEmitter.prototype.on;
    const bus = new EventEmitter();
    const err = await assertNoLeak(() => bus.on('y', () => {}), QUICK).catch((e) => e);
    assert.match(err.message, /EventEmitter 'y': \+1\.00 per call/);
    assert.equal(lw.running, true);
    assert.deepEqual(lw.listeners(), []);
    assert.equal(EventEmitter.prototype.on, on);
  } finally {
    lw.stop();
  }
});

test('trackListeners: delta() per group and call site; assertNoGrowth() fails with both, then stops', async () => {
  const bus = new EventEmitter();
  const tracker = trackListeners();
  for (let i = 0; i < 3; i++) bus.on('ready', () => i);
  const [row] = tracker.delta().filter((r) => r.event === 'ready');
  assert.equal(row.emitter, 'EventEmitter');
  assert.equal(row.delta, 3);
  assert.match(row.sites[0].site, new RegExp(`${HERE}:\\d+:\\d+$`));
  const err = await tracker.assertNoGrowth().catch((e) => e);
  assert.equal(err.code, 'ERR_ASSERTION');
  assert.match(
    err.message,
    /trackListeners: listeners added since the tracker was made and still attached:\n {2}- EventEmitter 'ready': \+3\n {6}added at /
  );
  assert.equal(lw.running, false);
});

test('trackListeners: allow, and listeners on collected emitters do not count', async () => {
  const bus = new EventEmitter();
  const tracker = trackListeners();
  bus.on('tolerated', () => {});
  bus.on('tolerated', () => {});
  for (let i = 0; i < 50; i++) new EventEmitter().on('gone', () => {}); // garbage, not a leak
  await tracker.assertNoGrowth({ allow: [{ emitter: 'EventEmitter', event: /^tol/, max: 2 }] });
  assert.equal(lw.running, false);
});

test('assertNoLeak: listeners.allow and handles.allow let known growth through', async () => {
  const bus = new EventEmitter();
  const timers = [];
  const report = await assertNoLeak(
    () => {
      bus.on('known', () => {});
      timers.push(setTimeout(() => {}, 60_000));
    },
    { ...QUICK, listeners: { allow: [{ event: 'known' }] }, handles: { allow: { Timeout: Infinity } } }
  );
  timers.forEach(clearTimeout);
  assert.equal(report.leaking, false);
});

test('a throwing fn rejects with its own error and leaves the process as it was', async () => {
  const on = EventEmitter.prototype.on;
  await assert.rejects(
    assertNoLeak(() => {
      throw new Error('boom');
    }),
    /boom/
  );
  assert.equal(lw.running, false);
  assert.equal(EventEmitter.prototype.on, on);
});

test('bad options throw at once, naming the option', async () => {
  await assert.rejects(
    assertNoLeak(() => {}, { iterations: 'many' }),
    { name: 'TypeError', message: /"iterations"/ }
  );
  await assert.rejects(
    assertNoLeak(() => {}, { rounds: 5 }),
    { name: 'RangeError', message: /"rounds" must be an even integer/ }
  );
  await assert.rejects(
    assertNoLeak(() => {}, { heap: { maxBytes: 1 } }),
    { name: 'TypeError', message: /"heap.maxBytes"/ }
  );
  await assert.rejects(assertNoLeak('not a function'), { name: 'TypeError', message: /needs a function/ });
  assert.equal(lw.running, false);
});

test('a passing run prints nothing, with and without leakwatch/register', async () => {
  const code = `
    const { assertNoLeak, trackListeners } = require('leakwatch/testing');
    (async () => {
      const t = trackListeners();
      await assertNoLeak(() => JSON.stringify({ a: [1, 2, 3] }));
      await t.assertNoGrowth();
    })();`;
  for (const args of [
    ['-e', code],
    ['-r', './js/register.js', '-e', code],
  ]) {
    const { code: exit, stdout, stderr } = await runNode(args, { env: { LEAKWATCH_LOG: 'off' } });
    assert.equal(exit, 0, stderr);
    assert.equal(stdout, '');
    assert.equal(stderr, '');
  }
});
