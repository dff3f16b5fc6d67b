'use strict';
// Per-emitter warnings (LEAKWATCH_LISTENER_LEAK): when they fire and when they stay silent,
// their text, details and call sites; Node's own MaxListenersExceededWarning recorded; and the
// process-warning flags (--no-warnings, --disable-warning, --redirect-warnings,
// --trace-warnings) acting on them as on any Node warning.

const { test, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const EventEmitter = require('node:events');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { install } = require('../js/listeners');
const warnings = require('../js/warnings');
const { pickSite } = require('../js/listeners/sites');

let handle = null;
const HERE = path.relative(process.cwd(), __filename);

function setup(options = {}) {
  const warned = [];
  const notified = [];
  handle = install({
    counts: new Int32Array(new ArrayBuffer(8 * 256)),
    maxGroups: 256,
    describeGroup() {},
    warn: (code, message, details, eventName) => warned.push({ code, message, details, eventName, printed: true }),
    // leakwatch's warning at the add Node warned in goes to the log and lw only (emitter-warning.js)
    notify: (code, message, details, eventName) =>
      code.startsWith('LEAKWATCH')
        ? warned.push({ code, message, details, eventName, printed: false })
        : notified.push({ code, message, details, eventName }),
    warnIntervalMs: 0,
    ...options,
  });
  return { warned, notified };
}

afterEach(() => {
  if (handle) handle.uninstall();
  handle = null;
});

class Bus extends EventEmitter {}

test('first warning past the max listeners, then each time the count doubles', () => {
  const { warned } = setup();
  const bus = new Bus();
  for (let i = 0; i < 100; i++) bus.on('message', () => {}); // line of the site below
  const line = new Error().stack.split('\n')[1].match(/:(\d+):\d+\)?$/)[1] - 1;
  assert.deepEqual(
    warned.map((w) => w.details.count),
    [11, 22, 44, 88]
  );
  const first = warned[0];
  assert.equal(first.code, 'LEAKWATCH_LISTENER_LEAK');
  assert.equal(first.eventName, 'listener-leak');
  assert.match(
    first.message,
    new RegExp(
      `^Possible EventEmitter listener leak: 11 'message' listeners on \\[Bus\\] \\(\\+11 in \\d+\\.\\d s\\), added at ${escape(HERE)}:${line}:\\d+$`
    )
  );
  assert.deepEqual(
    Object.keys(first.details).sort(),
    ['appSite', 'count', 'emitter', 'event', 'growth', 'kind', 'max', 'nodeWarned', 'site', 'windowMs'].sort()
  );
  // Node printed its own warning at the 11th: leakwatch's first goes to the log and lw only.
  assert.deepEqual(
    warned.map((w) => [w.printed, w.details.nodeWarned]),
    [
      [false, true],
      [true, false],
      [true, false],
      [true, false],
    ]
  );
  assert.equal(first.details.kind, 'emitter');
  assert.equal(first.details.emitter, 'Bus');
  assert.equal(first.details.event, 'message');
  assert.equal(first.details.max, 10);
  assert.equal(first.details.appSite, null);
  assert.equal(warned[1].details.growth, 11); // +11 since the first warning
});

test('setMaxListeners(100) with 50 permanent listeners is silent', () => {
  const { warned } = setup();
  const bus = new Bus();
  bus.setMaxListeners(100);
  for (let i = 0; i < 50; i++) bus.on('config', () => {});
  assert.deepEqual(warned, []);
});

test('max listeners 0 and Infinity mean unlimited; events.defaultMaxListeners is respected', () => {
  const { warned } = setup();
  const zero = new Bus().setMaxListeners(0);
  const inf = new Bus().setMaxListeners(Infinity);
  for (let i = 0; i < 500; i++) {
    zero.on('x', () => {});
    inf.on('x', () => {});
  }
  assert.deepEqual(warned, []);
  const saved = EventEmitter.defaultMaxListeners;
  EventEmitter.defaultMaxListeners = 30;
  try {
    const bus = new Bus();
    for (let i = 0; i < 31; i++) bus.on('y', () => {});
    assert.equal(warned.length, 1);
    assert.equal(warned[0].details.count, 31);
    assert.equal(warned[0].details.max, 30);
  } finally {
    EventEmitter.defaultMaxListeners = saved;
  }
});

test('once listeners that fire, and add/remove churn, are silent', () => {
  const { warned } = setup();
  const bus = new Bus();
  for (let i = 0; i < 1000; i++) {
    bus.once('tick', () => {});
    bus.emit('tick');
    const f = () => {};
    bus.on('churn', f);
    bus.off('churn', f);
  }
  assert.deepEqual(warned, []);
});

test('warnings are rate-limited per emitter', () => {
  const { warned } = setup({ warnIntervalMs: 60_000 });
  const bus = new Bus();
  for (let i = 0; i < 1000; i++) bus.on('m', () => {});
  // Node printed its own at 11 (leakwatch's to the log only); the doubling after it prints, then
  // nothing for a minute.
  assert.deepEqual(
    warned.map((w) => [w.details.count, w.printed]),
    [
      [11, false],
      [22, true],
    ]
  );
});

test('EventTarget: an AbortSignal leak warns (Node itself does not from 22.13 on)', () => {
  const { warned } = setup();
  const { signal } = new AbortController();
  for (let i = 0; i < 12; i++) signal.addEventListener('abort', () => {});
  assert.equal(warned.length, 1);
  assert.equal(warned[0].details.kind, 'target');
  assert.match(warned[0].message, /^Possible EventTarget listener leak: 11 'abort' listeners on \[AbortSignal\] /);
});

test("Node's own MaxListenersExceededWarning is recorded through notify, not re-emitted", async () => {
  const { warned, notified } = setup();
  const emitted = [];
  const onWarning = (w) => w.type === 'node' && emitted.push(w.name);
  process.on('warning', onWarning);
  try {
    const bus = new Bus();
    for (let i = 0; i < 11; i++) bus.on('node', () => {});
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', onWarning);
  }
  // (Node delivers warnings on a later tick: earlier tests' ones may arrive here too.)
  const node = notified.filter((n) => n.code === 'MaxListenersExceededWarning' && n.details.event === 'node');
  assert.equal(node.length, 1);
  assert.match(node[0].message, /^Possible EventEmitter memory leak detected\. 11 node listeners added to \[Bus\]\./);
  assert.equal(node[0].details.emitter, 'Bus');
  assert.equal(node[0].details.event, 'node');
  assert.equal(node[0].details.count, 11);
  assert.match(node[0].details.site, new RegExp(`^${escape(HERE)}:\\d+:\\d+$`));
  assert.deepEqual(emitted, ['MaxListenersExceededWarning']); // Node's, once; ours went to warn()
  assert.equal(warned.length, 1);
});

test('a listener added from inside node_modules names the app frame too', () => {
  const { warned } = setup();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-sites-'));
  const lib = path.join(dir, 'node_modules', 'leaky-lib', 'index.js');
  fs.mkdirSync(path.dirname(lib), { recursive: true });
  fs.writeFileSync(lib, "exports.subscribe = (bus) => { bus.on('update', () => {}); };\n");
  try {
    const { subscribe } = require(lib);
    const bus = new Bus();
    for (let i = 0; i < 11; i++) subscribe(bus);
    assert.equal(warned.length, 1);
    assert.equal(warned[0].details.site, `${lib}:1:36`);
    assert.match(warned[0].details.appSite, new RegExp(`^${escape(HERE)}:\\d+:\\d+$`));
    assert.match(warned[0].message, / \(from __test__\/listeners-warnings\.test\.js:\d+:\d+\)$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('pickSite: skips Node internals and leakwatch, relative to cwd, app frame after node_modules', () => {
  const own = path.join(__dirname, '..', 'js', 'listeners', 'emitter.js');
  const frames = [
    { file: own, line: 1, column: 1 },
    { file: 'node:events', line: 2, column: 2 },
    { file: '/srv/app/node_modules/ws/lib/websocket.js', line: 10, column: 3 },
    { file: '/srv/app/node_modules/ws/lib/other.js', line: 11, column: 4 },
    { file: 'file:///srv/app/src/server.js', line: 42, column: 12 },
  ];
  assert.deepEqual(pickSite(frames, '/srv/app'), {
    site: 'node_modules/ws/lib/websocket.js:10:3',
    appSite: 'src/server.js:42:12',
  });
  assert.deepEqual(pickSite(frames.slice(4), '/elsewhere'), { site: '/srv/app/src/server.js:42:12', appSite: null });
  assert.deepEqual(pickSite([{ file: 'node:internal/x', line: 1, column: 1 }], '/'), { site: null, appSite: null });
});

test('warnings.js: warn and raised emit a LeakwatchWarning with its code and tell subscribers; notify only tells', async () => {
  const heard = [];
  const off = warnings.onWarning((w) => heard.push(w));
  const emitted = [];
  const onWarning = (w) => w.code?.startsWith('LEAKWATCH_TEST') && emitted.push(w);
  process.on('warning', onWarning);
  const line = { lw: 1, event: 'warning', code: 'LEAKWATCH_TEST_NATIVE', message: 'from the addon', details: { c: 3 } };
  try {
    warnings.warn('LEAKWATCH_TEST', 'hello', { a: 1 }, 'listener-leak');
    warnings.notify('MaxListenersExceededWarning', 'quiet', { b: 2 }, 'listener-leak');
    warnings.raised(line, 'leak'); // a verdict of the background thread, already in its log
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', onWarning);
    off();
  }
  assert.deepEqual(
    emitted.map((w) => [w.name, w.code, w.message]),
    [
      ['LeakwatchWarning', 'LEAKWATCH_TEST', 'hello'],
      ['LeakwatchWarning', 'LEAKWATCH_TEST_NATIVE', 'from the addon'],
    ]
  );
  assert.deepEqual(heard, [
    { code: 'LEAKWATCH_TEST', message: 'hello', details: { a: 1 }, eventName: 'listener-leak' },
    { code: 'MaxListenersExceededWarning', message: 'quiet', details: { b: 2 }, eventName: 'listener-leak' },
    { code: 'LEAKWATCH_TEST_NATIVE', message: 'from the addon', details: { c: 3 }, eventName: 'leak', line },
  ]);
});

test('warnings.js never throws: a broken emitWarning or subscriber stays its own problem', () => {
  const off = warnings.onWarning(() => {
    throw new Error('subscriber');
  });
  const saved = process.emitWarning;
  process.emitWarning = () => {
    throw new Error('broken');
  };
  try {
    assert.doesNotThrow(() => warnings.warn('LEAKWATCH_TEST', 'x', {}, 'listener-leak'));
  } finally {
    process.emitWarning = saved;
    off();
  }
});

// A child process that leaks 22 listeners with the real warnings.js, so Node's flags apply.
// Node warns at the 11th (leakwatch's warning then goes to the log only), leakwatch at the 22nd.
const CHILD = `
  const { install } = require(${JSON.stringify(path.join(__dirname, '..', 'js', 'listeners'))});
  const { warn } = require(${JSON.stringify(path.join(__dirname, '..', 'js', 'warnings'))});
  install({ counts: new Int32Array(512), maxGroups: 256, describeGroup() {}, warn });
  const EventEmitter = require('node:events');
  class Bus extends EventEmitter {}
  const bus = new Bus();
  for (let i = 0; i < 22; i++) bus.on('message', () => {});
`;

function runChild(flags) {
  const r = spawnSync(process.execPath, [...flags, '-e', CHILD], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr;
}

test('flags: default prints it with its code; --no-warnings silences it', () => {
  const stderr = runChild([]);
  assert.match(
    stderr,
    /\[LEAKWATCH_LISTENER_LEAK\] LeakwatchWarning: Possible EventEmitter listener leak: 22 'message' listeners on \[Bus\]/
  );
  assert.doesNotMatch(
    stderr,
    /LeakwatchWarning: Possible EventEmitter listener leak: 11 /,
    "not a second copy of Node's warning"
  );
  assert.match(stderr, /MaxListenersExceededWarning: Possible EventEmitter memory leak detected/);
  assert.equal(runChild(['--no-warnings']), '');
});

// Every supported Node has --disable-warning (20.11+); __test__/node-behaviour.test.js checks that.
test('flags: --disable-warning=LEAKWATCH_LISTENER_LEAK silences only ours', () => {
  const stderr = runChild(['--disable-warning=LEAKWATCH_LISTENER_LEAK']);
  assert.doesNotMatch(stderr, /LeakwatchWarning/);
  assert.match(stderr, /MaxListenersExceededWarning/);
});

test('flags: --redirect-warnings writes it to the file; --trace-warnings adds the stack', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-warn-'));
  try {
    const file = path.join(dir, 'warnings.txt');
    runChild([`--redirect-warnings=${file}`]);
    assert.match(
      fs.readFileSync(file, 'utf8'),
      /\[LEAKWATCH_LISTENER_LEAK\] LeakwatchWarning: Possible EventEmitter listener leak/
    );
    const traced = runChild(['--trace-warnings']);
    assert.match(traced, /LeakwatchWarning: Possible EventEmitter listener leak[^\n]*\n\s+at /);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

// Node's own warnings keep the stack Node gives them (--trace-warnings), in both of the
// EventEmitter patch's modes and from the EventTarget hook: the same text as without leakwatch,
// frame for frame. The adds run from a timer callback, so the frames below match too.
const STACKS = `
  const EventEmitter = require('node:events');
  class Bus extends EventEmitter {}
  const bus = new Bus();
  const target = new EventTarget();
  EventEmitter.setMaxListeners(2, target);
  function subscribe() { bus.on('message', () => {}); }
  function subscribeOnce() { bus.once('tick', () => {}); }
  function subscribeFirst() { bus.prependListener('first', () => {}); }
  function listen() { target.addEventListener('foo', () => {}); }
  function go() {
    console.log(mode());
    for (let i = 0; i < 22; i++) { subscribe(); subscribeOnce(); subscribeFirst(); listen(); }
  }
  const mode = () => (globalThis.leakwatchForTest ? globalThis.leakwatchForTest.internals().emitterMode : null);
  let polls = 0;
  const poll = setInterval(() => {
    if (process.env.WANT_MODE && mode() !== process.env.WANT_MODE && ++polls < 400) return;
    clearInterval(poll);
    setTimeout(go, 0);
  }, 25);
`;

function nodeWarningStacks(args, env = {}) {
  const r = spawnSync(process.execPath, ['--trace-warnings', ...args, '-e', STACKS], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, LEAKWATCH_LOG: 'off', ...env },
  });
  assert.equal(r.status, 0, r.stderr);
  // Each of Node's warnings with its frames, the pid left out.
  const blocks = r.stderr.split(/^\(node:\d+\) /m).map((b) => b.trimEnd());
  return {
    mode: r.stdout.trim(),
    stacks: blocks.filter((b) => b.startsWith('MaxListenersExceededWarning')),
    ours: blocks.filter((b) => b.startsWith('[LEAKWATCH_LISTENER_LEAK]')),
  };
}

for (const mode of ['wrap', 'fast']) {
  test(`Node's MaxListenersExceededWarning has Node's own stack with leakwatch in ${mode} mode (EventEmitter and EventTarget)`, () => {
    const { stacks: plain } = nodeWarningStacks([]);
    assert.equal(plain.length, 4, plain.join('\n\n'));
    assert.match(
      plain.find((b) => b.includes(' message listeners')),
      /\n {4}at _addListener \(node:events:\d+:\d+\)\n {4}at Bus\.addListener \(node:events:\d+:\d+\)\n {4}at subscribe /
    );
    const preload = `globalThis.leakwatchForTest = require(${JSON.stringify(path.join(__dirname, '..'))}); require(${JSON.stringify(path.join(__dirname, '..', 'js', 'register.js'))});`;
    const preloadFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lw-stacks-')), 'preload.js');
    fs.writeFileSync(preloadFile, preload);
    // Wrap mode: the adds run in the first 25 ms, before the check (a second after start).
    const watched = nodeWarningStacks(['-r', preloadFile], mode === 'fast' ? { WANT_MODE: 'fast' } : {});
    assert.equal(watched.mode, mode);
    assert.deepEqual(watched.stacks, plain);
    // leakwatch's own warnings (at 22; at 6 for the target, the next one at 12 held back by the
    // per-emitter interval) start at the app's code as well.
    assert.equal(watched.ours.length, 4, watched.ours.join('\n\n'));
    for (const block of watched.ours) assert.doesNotMatch(block, /js[\\/]listeners[\\/]|js[\\/]warnings\.js/, block);
  });
}

// Putting Node's stack back sets Error.stackTraceLimit and process.emitWarning for one call; an
// app that froze Error, or made emitWarning read-only, must still get its adds (no stack fix).
for (const mode of ['wrap', 'fast']) {
  test(`a frozen Error and a read-only process.emitWarning: adds past the max still work in ${mode} mode`, () => {
    const code = `'use strict';
      Object.freeze(Error);
      Object.defineProperty(process, 'emitWarning', { value: process.emitWarning, writable: false });
      const lw = require(${JSON.stringify(path.join(__dirname, '..'))});
      const EventEmitter = require('node:events');
      function go() {
        const bus = new EventEmitter();
        for (let i = 0; i < 12; i++) bus.prependListener('x', () => {});
        const target = new EventTarget();
        EventEmitter.setMaxListeners(2, target);
        for (let i = 0; i < 4; i++) target.addEventListener('y', () => {});
        console.log(lw.internals().emitterMode, bus.listenerCount('x'));
      }
      let polls = 0;
      const poll = setInterval(() => {
        if (${JSON.stringify(mode)} === 'fast' && lw.internals().emitterMode !== 'fast' && ++polls < 400) return;
        clearInterval(poll);
        go();
      }, 25);`;
    const r = spawnSync(process.execPath, ['-r', path.join(__dirname, '..', 'js', 'register.js'), '-e', code], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, LEAKWATCH_LOG: 'off' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `${mode} 12`);
    assert.match(r.stderr, /MaxListenersExceededWarning: Possible EventEmitter memory leak detected\. 11 x listeners/);
  });
}
