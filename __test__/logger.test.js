'use strict';
// `log: logger`: memory lines and warnings through a real pino logger writing a file, read
// back as JSON, through pino-pretty and through `leakwatch report`; and the call shapes for
// loggers without warn() and for winston's message-first order.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { prettyFactory } = require('pino-pretty');
const lw = require('..');
const { loggerSink } = require('../js/logger');
const { runNode, tempDir } = require('./helpers');

// A child app logging through pino to a file: leakwatch's lines, a listener leak (leakwatch's
// warning and Node's own), its own line, and the final line at exit.
const APP = `
  const pino = require('pino');
  const EventEmitter = require('node:events');
  const lw = require('.');
  const logger = pino(pino.destination({ dest: process.env.PINO_FILE, sync: true }));
  lw.start({ interval: 200, log: logger });
  logger.info({ order: 7 }, 'the app itself');
  const bus = new EventEmitter();
  for (let i = 0; i < 11; i++) bus.on('message', () => {});
  setTimeout(() => {}, 700);
`;

async function runApp() {
  const file = path.join(tempDir('lw-pino-'), 'app.log');
  const run = await runNode(['-e', APP], { env: { PINO_FILE: file } });
  assert.equal(run.code, 0, run.stderr);
  const raw = fs.readFileSync(file, 'utf8').trim().split('\n');
  return { file, run, raw, lines: raw.map((l) => JSON.parse(l)) };
}

let app;
test.before(async () => {
  app = await runApp();
});

test("pino's fields once each: time, pid and hostname are pino's, not written twice", () => {
  const { raw, lines, run } = app;
  for (const [i, text] of raw.entries()) {
    for (const key of ['level', 'time', 'pid', 'hostname', 'msg']) {
      assert.equal(text.split(`"${key}":`).length - 1, 1, `one "${key}" in ${text}`);
    }
    assert.equal(typeof lines[i].time, 'number');
    assert.equal(lines[i].hostname, os.hostname());
  }
  const pids = new Set(lines.map((l) => l.pid));
  assert.equal(pids.size, 1, 'all from the one child');
  assert.doesNotMatch(run.stderr, /"lw":1/, 'nothing of leakwatch on stderr: the logger has it all');
});

test('memory lines: level info, msg "leakwatch memory", every figure of the line', () => {
  const memory = app.lines.filter((l) => l.event === 'memory');
  assert.ok(memory.length >= 3, `${memory.length} memory lines`);
  for (const line of memory) {
    assert.equal(line.level, 30);
    assert.equal(line.msg, 'leakwatch memory');
    assert.equal(line.lw, 1);
    assert.equal(line.threadId, 0);
    for (const key of ['heapUsed', 'heapTotal', 'rss', 'fds', 'intervalMs'])
      assert.equal(typeof line[key], 'number', key);
    assert.equal(typeof line.gc.sinceStart.count, 'number');
    assert.equal(typeof line.fdsByKind.socket, 'number');
  }
  assert.equal(memory.at(-1).final, true, 'the final line goes through the logger too');
});

test("warnings: level warn, the message as msg, code and details as fields — leakwatch's and Node's", () => {
  const warnings = app.lines.filter((l) => l.event === 'warning');
  const ours = warnings.find((w) => w.code === 'LEAKWATCH_LISTENER_LEAK');
  assert.ok(ours, JSON.stringify(warnings));
  assert.equal(ours.level, 40);
  assert.match(ours.msg, /^Possible EventEmitter listener leak: 11 'message' listeners on \[EventEmitter\]/);
  assert.equal(ours.message, undefined, 'the message is msg, not a second field');
  assert.equal(ours.details.count, 11);
  assert.equal(ours.details.event, 'message');
  assert.equal(ours.lw, 1);
  const node = warnings.find((w) => w.code === 'MaxListenersExceededWarning');
  assert.ok(node, "Node's own warning is recorded too");
  assert.equal(node.level, 40);
});

test('pino-pretty reads every line', () => {
  const pretty = prettyFactory({ colorize: false });
  const shown = app.raw.map((l) => pretty(l));
  assert.ok(
    shown.some((s) => /INFO.*: leakwatch memory/.test(s) && /heapUsed: \d+/.test(s)),
    shown[0]
  );
  assert.ok(
    shown.some(
      (s) => /WARN.*: Possible EventEmitter listener leak/.test(s) && /code: "LEAKWATCH_LISTENER_LEAK"/.test(s)
    )
  );
  assert.ok(
    shown.some((s) => /INFO.*: the app itself/.test(s)),
    "the app's own line next to leakwatch's"
  );
});

test("`leakwatch report` reads the logger's file like leakwatch's own log", async () => {
  const run = await runNode([
    path.join(__dirname, '..', 'js', 'cli.js'),
    'report',
    app.file,
    '--json',
    '--no-progress',
  ]);
  assert.equal(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout);
  assert.equal(summary.processes.length, 1, run.stdout.slice(0, 2000));
  const text = JSON.stringify(summary);
  assert.match(text, /LEAKWATCH_LISTENER_LEAK/, 'the warning is in the report');
});

test('a logger without warn() gets warnings through info(); winston gets (message, fields)', () => {
  const calls = [];
  const bare = { info: (...args) => calls.push(['info', ...args]) };
  const line = {
    lw: 1,
    event: 'warning',
    time: 1,
    pid: 2,
    hostname: 'h',
    threadId: 0,
    code: 'LEAKWATCH_X',
    message: 'text',
    details: { a: 1 },
  };
  loggerSink(bare).warning(line);
  assert.deepEqual(calls, [
    ['info', { lw: 1, event: 'warning', threadId: 0, code: 'LEAKWATCH_X', details: { a: 1 } }, 'text'],
  ]);

  // winston's loggers have `transports` and take the message first.
  const winstonLike = {
    transports: [],
    log() {},
    info: (...a) => calls.push(['w-info', ...a]),
    warn: (...a) => calls.push(['w-warn', ...a]),
  };
  loggerSink(winstonLike).warning(line);
  loggerSink(winstonLike).memory({ lw: 1, event: 'memory', time: 1, pid: 2, hostname: 'h', heapUsed: 5 });
  assert.deepEqual(calls.slice(1), [
    ['w-warn', 'text', { lw: 1, event: 'warning', threadId: 0, code: 'LEAKWATCH_X', details: { a: 1 } }],
    ['w-info', 'leakwatch memory', { lw: 1, event: 'memory', heapUsed: 5 }],
  ]);
});

test('a logger that throws never reaches the app, and a log function gets warning lines too', async () => {
  const broken = {
    info() {
      throw new Error('logger down');
    },
    warn() {
      throw new Error('logger down');
    },
  };
  lw.start({ interval: 120, log: broken });
  const saved = process.listeners('warning');
  process.removeAllListeners('warning');
  try {
    require('../js/warnings').warn('LEAKWATCH_TEST', 'a test warning', { n: 1 });
    await new Promise((r) => setTimeout(r, 300));
    assert.doesNotThrow(() => lw.stop());
    const lines = [];
    lw.start({ interval: 120, log: (l) => lines.push(l) });
    require('../js/warnings').warn('LEAKWATCH_TEST', 'a test warning', { n: 2 });
    lw.stop();
    const warning = lines.find((l) => l.event === 'warning');
    assert.deepEqual(
      { ...warning, time: 0, hostname: '' },
      {
        lw: 1,
        event: 'warning',
        time: 0,
        pid: process.pid,
        hostname: '',
        threadId: 0,
        code: 'LEAKWATCH_TEST',
        message: 'a test warning',
        details: { n: 2 },
      }
    );
    assert.equal(lines.at(-1).final, true);
  } finally {
    for (const fn of saved) process.on('warning', fn);
  }
});
