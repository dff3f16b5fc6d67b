'use strict';
// leakwatch/testing against real leaks and their fixes: the ws per-connection listener leak, a
// listener left on a global bus, an unbounded cache, a leaked setInterval, a server left
// listening, a file left open. Each leak must fail with a message naming what grew; each fix
// must pass. Network only on 127.0.0.1; every loop is bounded by the assertion's call count.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const EventEmitter = require('node:events');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { once } = require('node:events');
const { WebSocketServer, WebSocket } = require('ws');
const { assertNoLeak, expectNoHandleLeak } = require('../js/testing');
const { tempDir } = require('./helpers');

const HERE = path.basename(__filename);

/** Runs `check`, expects an AssertionError, returns its message. */
async function failure(check) {
  const err = await check().then(
    () => null,
    (e) => e
  );
  assert.ok(err, 'the leak was not found');
  assert.equal(err.code, 'ERR_ASSERTION', String(err && err.stack));
  return err.message;
}

// --- ws: a listener on the server per connection --------------------------------------------

async function wsServer(fixed) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const serverClosed = new EventEmitter();
  wss.on('connection', (ws) => {
    const relay = (data) => ws.send(data);
    wss.on('broadcast', relay); // the classic leak: one listener per connection, on the server
    if (fixed) ws.on('close', () => wss.off('broadcast', relay));
    ws.on('close', () => serverClosed.emit('closed'));
  });
  const url = `ws://127.0.0.1:${wss.address().port}`;
  // One connection, opened and closed, both ends done.
  const connectOnce = async () => {
    const client = new WebSocket(url);
    await once(client, 'open');
    const closed = once(serverClosed, 'closed');
    client.close();
    await closed;
  };
  const close = async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  };
  return { connectOnce, close };
}

test('ws: a listener per connection fails, naming WebSocketServer, the event and this file', async () => {
  const server = await wsServer(false);
  try {
    const message = await failure(() =>
      assertNoLeak(server.connectOnce, { iterations: 40, warmup: 4, rounds: 4, heap: false })
    );
    assert.match(message, /WebSocketServer 'broadcast': \+1\.00 per call \(\+40 over 40 calls\)/);
    assert.match(message, new RegExp(`added at \\S*${HERE}:\\d+:\\d+`));
  } finally {
    await server.close();
  }
});

// A WebSocket handshake runs a lot of code, and the JIT keeps adding to it for hundreds of
// connections (compiled code is heap too): after the default 100 warm-up calls a clean server
// measured 500-730 B per connection on Node 24 here, and 1.03 KB once on a loaded machine;
// after 400, 160-310 B on Node 20 and 24. Hence 400 warm-up calls and a 1 KB threshold (the
// README says when to raise them).
test('ws: removing the listener on close passes, heap included', async () => {
  const server = await wsServer(true);
  try {
    const report = await assertNoLeak(server.connectOnce, { warmup: 400, heap: { maxBytesPerIteration: '1KB' } });
    assert.deepEqual(report.listeners, []);
    assert.deepEqual(report.handles, []);
    assert.equal(report.heap.leaking, false);
  } finally {
    await server.close();
  }
});

// --- a global bus ------------------------------------------------------------------------------

const bus = new EventEmitter();
bus.setMaxListeners(0);

class Subscriber {
  constructor() {
    this.onEvent = () => this.seen++;
    this.seen = 0;
    bus.on('order-created', this.onEvent);
  }
  dispose() {
    bus.off('order-created', this.onEvent);
  }
}

test('global bus: subscribing per call and never unsubscribing fails, heap and listeners', async () => {
  const message = await failure(() => assertNoLeak(() => new Subscriber()));
  assert.match(message, /EventEmitter 'order-created': \+1\.00 per call \(\+400 over 400 calls\)/);
  assert.match(message, new RegExp(`added at \\S*${HERE}:\\d+:\\d+`));
  bus.removeAllListeners('order-created');
});

test('global bus: disposing the subscriber passes', async () => {
  const report = await assertNoLeak(() => new Subscriber().dispose());
  assert.equal(report.leaking, false);
});

// --- an unbounded cache --------------------------------------------------------------------------

function makeLookup(limit) {
  const cache = new Map();
  return (key) => {
    if (!cache.has(key)) cache.set(key, { key, body: new Array(128).fill(key) }); // ~1 KB an entry
    if (cache.size > limit) cache.delete(cache.keys().next().value);
    return cache.get(key);
  };
}

test('unbounded cache: fails on the heap alone, with the growth per call and its confidence', async () => {
  const lookup = makeLookup(Infinity);
  let n = 0;
  const message = await failure(() => assertNoLeak(() => lookup(n++)));
  assert.match(
    message,
    /Heap after full GC: \+1\.\d\d KB per call \(\+[\d.]+ KB in all\), [\d.]+ % confidence that it rises/
  );
  // The sites of the kept bytes, from the sampling heap profile: the cache's entry maker.
  const line =
    fs
      .readFileSync(__filename, 'utf8')
      .split('\n')
      .findIndex((l) => l.includes('return (key) => {')) + 1;
  assert.match(
    message,
    new RegExp(
      `Allocated at \\(sampled, per call\\):\n      __test__/testing-real\\.test\\.js:${line}:\\d+ \\(.+\\)  \\+[\\d.]+ (B|KB) per call, \\d+ %`
    )
  );
  assert.doesNotMatch(message, /Listeners|Handles/);
});

test('bounded cache: passes', async () => {
  const lookup = makeLookup(50);
  let n = 0;
  const report = await assertNoLeak(() => lookup(n++));
  assert.ok(report.heap.bytesPerIteration < report.heap.limits.maxBytesPerIteration, JSON.stringify(report.heap));
});

// --- timers ----------------------------------------------------------------------------------------

test('a leaked setInterval fails as a Timeout; clearing it passes', async () => {
  const timers = [];
  const message = await failure(() => expectNoHandleLeak(() => timers.push(setInterval(() => {}, 60_000))));
  timers.forEach(clearInterval);
  assert.match(message, /expectNoHandleLeak: leaks that grow with the number of calls/);
  assert.match(message, /Timeout: \+1\.00 per call \(\+20 over 20 calls\)/);

  await expectNoHandleLeak(() => clearInterval(setInterval(() => {}, 60_000)));
});

// --- sockets ------------------------------------------------------------------------------------------

async function listen() {
  const server = net.createServer((socket) => socket.end());
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

test('a server left listening fails as TCPServerWrap and socket fds; closing it passes', async () => {
  const servers = [];
  const message = await failure(() => expectNoHandleLeak(async () => servers.push(await listen())));
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  assert.match(message, /TCPServerWrap: \+1\.00 per call \(\+20 over 20 calls\)/);
  assert.match(message, /fds: \+1\.00 per call \(\+20 over 20 calls\) \[socket \+20\]/);

  await expectNoHandleLeak(async () => {
    const server = await listen();
    await new Promise((resolve) => server.close(resolve));
  });
});

test('a client socket never destroyed fails as TCPSocketWrap; destroying it passes', async () => {
  const server = await listen();
  server.removeAllListeners('connection'); // keep the server's side open: the client must close
  server.on('connection', (socket) => socket.on('end', () => socket.end()));
  const { port } = server.address();
  const connect = async () => {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    return socket;
  };
  const sockets = [];
  try {
    const message = await failure(() => expectNoHandleLeak(async () => sockets.push(await connect())));
    assert.match(message, /TCPSocketWrap: \+2\.00 per call/); // both ends live in this process
    sockets.forEach((s) => s.destroy());

    await expectNoHandleLeak(async () => {
      const socket = await connect();
      socket.end();
      await once(socket, 'close');
    });
  } finally {
    sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => server.close(resolve));
  }
});

// --- files -------------------------------------------------------------------------------------------

test('a file opened and never closed fails on fds, naming the file; closing it passes', async () => {
  const file = path.join(tempDir('lw-testing-'), 'data.txt');
  fs.writeFileSync(file, 'x');
  const fds = [];
  const message = await failure(() => expectNoHandleLeak(() => fds.push(fs.openSync(file, 'r'))));
  fds.forEach((fd) => fs.closeSync(fd));
  assert.match(message, /fds: \+1\.00 per call \(\+20 over 20 calls\) \[file \+20; e\.g\. .*data\.txt\]/);

  await expectNoHandleLeak(async () => {
    const handle = await fs.promises.open(file, 'r');
    await handle.close();
  });
});
