'use strict';
// How the EventEmitter patch settles on its methods (js/listeners/emitter-mode.js): wrappers at
// install, the fast methods once their check has answered from a child process, a second
// after start. Counting stays exact across the switch; a check still pending never keeps a
// process alive nor survives uninstall; a patch put over leakwatch's in the meantime is kept.

const { test, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const EventEmitter = require('node:events');
const fs = require('node:fs');
const path = require('node:path');
const { installTracking, groupCounts, runNode, tempDir, settledMode, REGISTER } = require('./helpers');

let handle = null;

afterEach(() => {
  if (handle) handle.uninstall();
  handle = null;
});

const group = (emitter, event) => groupCounts(handle, emitter, event);

class Conn extends EventEmitter {}

test('wrappers at install, the fast methods once a child process has checked them, in the same functions; counts exact across', async () => {
  ({ handle } = installTracking({ checkDelayMs: 0, checkIn: 'child' }));
  assert.equal(handle.stats().emitterMode, 'wrap');
  const wrapOn = EventEmitter.prototype.on;
  const c = new Conn();
  const f = () => {};
  c.on('data', f).on('data', () => {});
  assert.deepEqual(group('Conn', 'data'), { live: 2, adds: 2, removes: 0 });

  assert.equal(await settledMode(handle), 'fast');
  assert.equal(handle.stats().emitterMode, 'fast');
  assert.equal(EventEmitter.prototype.on, wrapOn, 'the switch happens inside the installed methods');
  assert.equal(EventEmitter.prototype.on, EventEmitter.prototype.addListener);
  c.off('data', f); // added by the wrappers, removed by the fast methods
  c.on('data', f);
  c.removeAllListeners('data');
  assert.deepEqual(group('Conn', 'data'), { live: 0, adds: 3, removes: 3 });
});

test("uninstall while the check is pending: Node's methods back, the check given up at once", async () => {
  const nodeOn = EventEmitter.prototype.on;
  ({ handle } = installTracking({ checkDelayMs: 0, checkIn: 'child' }));
  const pending = handle.ready;
  handle.uninstall();
  handle = null;
  assert.equal(EventEmitter.prototype.on, nodeOn);
  // Settled by uninstall itself, not when the child (killed) would have answered.
  const first = await Promise.race([pending, new Promise((resolve) => setImmediate(resolve, 'still pending'))]);
  assert.equal(first, 'wrap');
  assert.equal(EventEmitter.prototype.on, nodeOn);
});

test('a patch put over ours before the check answers stays, and counts through ours, fast once checked', async () => {
  ({ handle } = installTracking({ checkDelayMs: 0, checkIn: 'child' }));
  const below = EventEmitter.prototype.on;
  const seen = [];
  const theirs = function on(type, listener) {
    if (this instanceof Conn) seen.push(type);
    return below.call(this, type, listener);
  };
  EventEmitter.prototype.on = theirs;
  try {
    assert.equal(await settledMode(handle), 'fast');
    assert.equal(EventEmitter.prototype.on, theirs);
    new Conn().on('ready', () => {});
    assert.deepEqual(seen, ['ready']);
    assert.equal(group('Conn', 'ready').live, 1);
  } finally {
    EventEmitter.prototype.on = below;
  }
});

test('in a process that ends within its first second, no check runs and nothing waits for one', async () => {
  const code = `process.on('beforeExit', () => console.log(require('.').internals().emitterMode));
    new (require('node:events'))().on('x', () => {});`;
  const r = await runNode(['-r', REGISTER, '-e', code], { env: { LEAKWATCH_LOG: 'off' } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'wrap');
});

test("a running app gets the fast methods; the check's child process does not load the app's preloads", async () => {
  // NODE_OPTIONS reaches a child process unless it is taken out: its -r would load leakwatch,
  // and the app's preloads, in the child too. A second preload notes each process it runs in.
  const dir = tempDir();
  const marker = path.join(dir, 'marker.js');
  const pids = path.join(dir, 'pids.txt');
  fs.writeFileSync(marker, `require('node:fs').appendFileSync(${JSON.stringify(pids)}, process.pid + '\\n');`);
  const code = `const lw = require('.');
    const poll = setInterval(() => {
      if (lw.internals().emitterMode === 'wrap') return;
      clearInterval(poll);
      setTimeout(() => console.log(JSON.stringify({ mode: lw.internals().emitterMode, pid: process.pid })), 300);
    }, 50);`;
  const r = await runNode(['-e', code], { env: { LEAKWATCH_LOG: 'off', NODE_OPTIONS: `-r ${REGISTER} -r ${marker}` } });
  assert.equal(r.code, 0, r.stderr);
  const { mode, pid } = JSON.parse(r.stdout);
  assert.equal(mode, 'fast');
  assert.deepEqual(fs.readFileSync(pids, 'utf8').trim().split('\n'), [String(pid)], 'the preloads ran in the app only');
});

test("without a child process the check runs in this process, against Node's own methods", async () => {
  const nodeOn = EventEmitter.prototype.on;
  ({ handle } = installTracking({ checkDelayMs: 0, checkIn: 'process' }));
  assert.equal(await settledMode(handle), 'fast');
  // The check's scratch emitters ran on Node's methods, not the wrappers: none was counted
  // (leakwatch's own process 'warning' listener is).
  assert.deepEqual(
    handle.snapshot().filter((row) => row.emitter !== 'process' && row.adds > 0),
    []
  );
  handle.uninstall();
  handle = null;
  assert.equal(EventEmitter.prototype.on, nodeOn);
});

test('in a worker thread the check runs in that thread: the fast methods, no child process', async () => {
  // A preload in every thread notes each spawn() by the thread that made it.
  const dir = tempDir();
  const spy = path.join(dir, 'spy.js');
  const spawns = path.join(dir, 'spawns.txt');
  fs.writeFileSync(
    spy,
    `const cp = require('node:child_process'); const spawn = cp.spawn;
    cp.spawn = function (...args) {
      require('node:fs').appendFileSync(${JSON.stringify(spawns)}, require('node:worker_threads').threadId + '\\n');
      return spawn.apply(this, args);
    };`
  );
  const inWorker = `require(${JSON.stringify(REGISTER)});
    const lw = require(${JSON.stringify(path.join(__dirname, '..'))});
    const poll = setInterval(() => {
      const mode = lw.internals().emitterMode;
      if (mode === 'wrap') return;
      clearInterval(poll);
      require('node:worker_threads').parentPort.postMessage(mode);
    }, 50);`;
  const code = `const w = new (require('node:worker_threads').Worker)(${JSON.stringify(inWorker)}, { eval: true });
    w.once('message', (mode) => { console.log(mode); w.terminate(); });`;
  const r = await runNode(['-e', code], { env: { LEAKWATCH_LOG: 'off', NODE_OPTIONS: `-r ${spy}` } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'fast');
  assert.equal(fs.existsSync(spawns), false, 'no thread spawned a process');
});

test('with leakwatch/register, the methods the app caches at its first line are the ones it has once the check switched to fast', async () => {
  const code = `const P = require('node:events').prototype;
    const names = ['on', 'addListener', 'prependListener', 'off', 'removeListener', 'removeAllListeners', 'once'];
    const first = names.map((n) => P[n]);
    const lw = require('.');
    let polls = 0;
    const poll = setInterval(() => {
      if (lw.internals().emitterMode !== 'fast' && ++polls < 200) return;
      clearInterval(poll);
      console.log(lw.internals().emitterMode, names.filter((n, i) => P[n] !== first[i]).join(',') || 'same');
    }, 50);`;
  const r = await runNode(['-r', REGISTER, '-e', code], { env: { LEAKWATCH_LOG: 'off' } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'fast same');
});
