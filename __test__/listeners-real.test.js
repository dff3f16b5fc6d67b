'use strict';
// Leaks in real code, with real sockets on 127.0.0.1: the classic ws WebSocketServer
// per-connection leak and its fix, a per-request listener on a global emitter under an http
// server, an AbortSignal leak, one call site leaking one listener into each of 1,000 long-lived
// emitters (the slot for that site grows; the verdict itself is the native table's, tested in
// src/listeners.rs), and emitters that are collected stop counting. Every loop is bounded.

const { test, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const EventEmitter = require('node:events');
const http = require('node:http');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');
const { once } = require('node:events');
const { WebSocketServer, WebSocket } = require('ws');
const { install } = require('../js/listeners');

const HERE = path.relative(process.cwd(), __filename);
const MAX_GROUPS = 1024;
let handle = null;

// `native`: the addon's marker watch, as leakwatch runs it (else a FinalizationRegistry).
function setup({ native } = {}) {
  const counts = new Int32Array(new ArrayBuffer(8 * MAX_GROUPS));
  const described = new Map();
  const warned = [];
  handle = install({
    counts,
    maxGroups: MAX_GROUPS,
    describeGroup: (slot, info) => described.set(slot, info),
    warn: (code, message, details, eventName) => warned.push({ code, message, details, eventName, printed: true }),
    // leakwatch's warning at the add Node warned in goes to the log and lw only (emitter-warning.js)
    notify: (code, message, details, eventName) =>
      code.startsWith('LEAKWATCH') && warned.push({ code, message, details, eventName, printed: false }),
    native,
  });
  return { counts, described, warned };
}

afterEach(() => {
  if (handle) handle.uninstall();
  handle = null;
});

function row(emitter, event) {
  return handle.snapshot().find((r) => r.emitter === emitter && r.event === event);
}

function leaks(warned) {
  return warned.filter((w) => w.code === 'LEAKWATCH_LISTENER_LEAK');
}

// [count, printed] of each warning. Where Node printed its own at the first crossing,
// leakwatch's went to the log only and leakwatch printed the doubling after it; where Node
// printed nothing, leakwatch printed the first, and the per-emitter interval holds the doubling.
function printedAt(found, nodeWarns = true) {
  const expected = nodeWarns
    ? [
        [11, false],
        [22, true],
      ]
    : [[11, true]];
  assert.deepEqual(
    found.map((w) => [w.details.count, w.printed]),
    expected,
    JSON.stringify(found)
  );
}

/** The line of the source text `marker` in this file, for expected call sites. */
function lineOf(marker) {
  const lines = require('node:fs').readFileSync(__filename, 'utf8').split('\n');
  return lines.findIndex((l) => l.includes(marker) && !l.includes('lineOf(')) + 1;
}

// --- ws ---------------------------------------------------------------------------------------

async function wsScenario(fixed) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const closed = new EventEmitter();
  wss.on('connection', (ws) => {
    const broadcast = (data) => ws.send(data);
    wss.on('message', broadcast); // marker: ws-leak
    if (fixed) ws.on('close', () => wss.off('message', broadcast));
    ws.on('close', () => closed.emit('closed'));
  });
  const url = `ws://127.0.0.1:${wss.address().port}`;
  try {
    for (let i = 0; i < 40; i++) {
      const client = new WebSocket(url);
      await once(client, 'open');
      const serverSide = once(closed, 'closed');
      client.close();
      await serverSide;
    }
  } finally {
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  }
}

test('ws: a listener on the server per connection is reported with its call site', async () => {
  const { warned } = setup();
  await wsScenario(false);
  const found = leaks(warned);
  printedAt(found);
  const { details, message } = found[0];
  assert.equal(details.emitter, 'WebSocketServer');
  assert.equal(details.event, 'message');
  assert.equal(details.count, 11);
  assert.equal(details.site.replace(/:\d+$/, ''), `${HERE}:${lineOf('marker: ws-leak')}`);
  assert.match(
    message,
    /^Possible EventEmitter listener leak: 11 'message' listeners on \[WebSocketServer\] \(\+11 in [\d.]+ s\), added at /
  );
  assert.equal(row('WebSocketServer', 'message').live, 40); // closing a server removes no listener
});

test('ws: the fixed server (listener removed on close) is silent', async () => {
  const { warned } = setup();
  await wsScenario(true);
  assert.deepEqual(leaks(warned), []);
  assert.equal(row('WebSocketServer', 'message').live, 0);
  assert.equal(row('WebSocketServer', 'message').adds, 40);
});

// --- http -------------------------------------------------------------------------------------

class ConfigBus extends EventEmitter {}

async function httpScenario(handler, requests = 30) {
  const server = http.createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  try {
    for (let i = 0; i < requests; i++) {
      const res = await new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: '/', agent: false }, resolve).on('error', reject);
      });
      res.resume();
      await once(res, 'end');
    }
  } finally {
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
  }
}

test('http: a per-request listener on a global emitter is reported; the fixed handler is silent', async () => {
  const { warned } = setup();
  const bus = new ConfigBus();
  await httpScenario((req, res) => {
    bus.on('reload', () => res.destroyed || res.write('')); // marker: http-leak
    res.end('ok');
  });
  const found = leaks(warned);
  printedAt(found);
  assert.equal(found[0].details.emitter, 'ConfigBus');
  assert.equal(found[0].details.site.replace(/:\d+$/, ''), `${HERE}:${lineOf('marker: http-leak')}`);
  assert.equal(row('ConfigBus', 'reload').live, 30);

  warned.length = 0;
  const fixedBus = new ConfigBus();
  await httpScenario((req, res) => {
    const onReload = () => res.destroyed || res.write('');
    fixedBus.on('reload', onReload);
    res.on('finish', () => fixedBus.off('reload', onReload));
    res.end('ok');
  });
  assert.deepEqual(leaks(warned), []);
  assert.equal(fixedBus.listenerCount('reload'), 0);
});

test('AbortSignal: a per-request abort listener on a long-lived signal is reported', async () => {
  const { warned } = setup();
  const shutdown = new AbortController();
  await httpScenario((req, res) => {
    shutdown.signal.addEventListener('abort', () => res.destroy()); // marker: abort-leak
    res.end('ok');
  });
  const found = leaks(warned);
  printedAt(found, require('node:events').getMaxListeners(shutdown.signal) > 0); // Node 22.13+ sets no max on AbortSignal
  assert.equal(found[0].details.kind, 'target');
  assert.equal(found[0].details.emitter, 'AbortSignal');
  assert.equal(found[0].details.site.replace(/:\d+$/, ''), `${HERE}:${lineOf('marker: abort-leak')}`);
  assert.match(found[0].message, /^Possible EventTarget listener leak: 11 'abort' listeners on \[AbortSignal\]/);
  assert.equal(row('AbortSignal', 'abort').live, 30);
});

// --- one site, 1,000 emitters ------------------------------------------------------------------

class Connection extends EventEmitter {}

test('one site leaking one listener into each of 1,000 long-lived emitters: its site slot grows', async () => {
  const { counts, described, warned } = setup();
  const connections = [];
  const onClose = () => {};
  for (let i = 0; i < 1000; i++) {
    const conn = new Connection();
    conn.on('close', onClose); // marker: site-leak
    const f = () => {};
    conn.on('data', f); // churn from another site: added and removed
    conn.off('data', f);
    connections.push(conn);
    if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  assert.deepEqual(leaks(warned), []); // one listener per emitter: nothing per emitter to see
  const group = row('Connection', 'close');
  assert.equal(group.live, 1000);
  const expectedSite = `${HERE}:${lineOf('marker: site-leak')}`;
  const site = group.sites.find((s) => s.site.replace(/:\d+$/, '') === expectedSite);
  assert.ok(site, JSON.stringify(group.sites));
  assert.equal(site.live, 1000); // the exact group count, all attributed to the one site
  assert.ok(site.emitters > 500 && site.emitters <= 1000, `emitters ~${site.emitters}`);

  // The raw counters the native table reads: the site's slot holds a positive sampled weight.
  const [slot] = [...described].find(([, info]) => info.kind === 'site' && info.site === site.site);
  assert.ok(counts[2 * slot] - counts[2 * slot + 1] > 0);
  const [emSlot] = [...described].find(([, info]) => info.kind === 'site-emitters' && info.of === slot);
  assert.ok(counts[2 * emSlot] - counts[2 * emSlot + 1] > 0);

  // The churning site holds nothing.
  const data = row('Connection', 'data');
  assert.equal(data.live, 0);
  assert.ok(
    data.sites.every((s) => s.weight === 0),
    JSON.stringify(data.sites)
  );
  assert.equal(connections.length, 1000);
});

// --- garbage collection ------------------------------------------------------------------------

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

class Temporary extends EventEmitter {}

const turn = () => new Promise((resolve) => setImmediate(resolve));

// A look (done) and the next GC are a turn apart: the sweep's look keeps the markers it finds
// alive to the end of the job it runs in (WeakRef.deref), as leakwatch/testing's GCs do too.
async function collectUntil(done) {
  for (let i = 0; i < 100 && !done(); i++) {
    await turn();
    gc();
    await turn();
  }
}

test('native: a marker watch reports its own collected slots; an ended one reports nothing', async () => {
  const { binding } = require('../js/native');
  const ended = binding.markerWatchBegin();
  binding.markerWatchAdd([{}, {}], Uint32Array.of(1, 2), ended);
  binding.markerWatchEnd(ended);
  const live = binding.markerWatchBegin();
  const kept = {};
  binding.markerWatchAdd([{}, kept, {}], Uint32Array.of(7, 8, 9), live);
  const seen = [];
  await collectUntil(() => {
    seen.push(...binding.markerWatchCollected(live));
    return seen.length >= 2;
  });
  assert.deepEqual(seen.sort(), [7, 9], 'the collected markers, not the kept one');
  assert.deepEqual([...binding.markerWatchCollected(ended)], []);
  assert.ok(kept);
  binding.markerWatchEnd(live);
});

// Collected emitters are learnt of through Node-API finalizers (as leakwatch runs) or, for a
// tracker without the addon, a WeakRef sweep at each drain (listeners/collection.js).
for (const watch of ['native', 'sweep']) {
  const options = () => ({ native: watch === 'native' ? require('../js/native').binding : undefined });

  test(`${watch}: listeners on emitters that were garbage-collected stop counting as live`, async () => {
    setup(options());
    const kept = [];
    (function makeGarbage() {
      for (let i = 0; i < 500; i++) {
        const e = new Temporary();
        e.on('data', () => e.emit('seen')); // closes over its emitter
        e.on('data', () => {});
        e.once('end', () => {});
        if (i < 100) kept.push(e);
      }
    })();
    assert.equal(row('Temporary', 'data').live, 1000);
    await collectUntil(() => row('Temporary', 'data').live === 200);
    assert.equal(row('Temporary', 'data').live, 200);
    assert.equal(row('Temporary', 'end').live, 100);
    assert.equal(kept.length, 100);
  });

  test(`${watch}: an AbortSignal that is collected stops counting too`, async () => {
    setup(options());
    (function makeGarbage() {
      for (let i = 0; i < 200; i++) new AbortController().signal.addEventListener('abort', () => {});
    })();
    assert.equal(row('AbortSignal', 'abort').live, 200);
    await collectUntil(() => row('AbortSignal', 'abort').live === 0);
    assert.equal(row('AbortSignal', 'abort').live, 0);
  });
}
