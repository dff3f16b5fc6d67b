'use strict';
// Handle and fd telemetry with real leaks in child processes: sockets that are never closed
// (a net server on 127.0.0.1 and clients that stay connected) and files opened and never
// closed. Test thresholds come from the `heap` option, whose timing the handle and fd trends
// share: window 20 s, warm-up 2 s, sustain 4 s.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { runNode, tempDir, memoryLines, logLines } = require('./helpers');

const THRESHOLDS = "{ window: '20s', warmup: '2s', sustain: '4s' }";

// Runs `leak()` every 250 ms until both expected warnings came (or 25 s passed), then prints
// {codes, stats} and ends.
function leakApp({ setup, leak, log, expect }) {
  return `
    const lw = require('.');
    ${setup}
    lw.start({ interval: 1000, log: ${log}, heap: ${THRESHOLDS} });
    const codes = [];
    lw.on('leak', (w) => {
      codes.push(w.code);
      // Not at once: Node prints the process warning on a later tick.
      if (${JSON.stringify(expect)}.every((c) => codes.includes(c))) setTimeout(done, 50);
    });
    const timer = setInterval(() => { ${leak} }, 250);
    const giveUp = setTimeout(done, 25000);
    function done() {
      clearInterval(timer);
      clearTimeout(giveUp);
      console.log(JSON.stringify({ codes, stats: lw.stats() }));
      process.exit(0);
    }`;
}

test('a socket leak: handles and fds climb, both warn (through a pino logger), with what leaks', async () => {
  const file = path.join(tempDir('lw-res-'), 'pino.log');
  const app = leakApp({
    setup: `
      const net = require('node:net');
      const pino = require('pino');
      const logger = pino(pino.destination({ dest: ${JSON.stringify(file)}, sync: true }));
      const clients = [];
      let port = 0;
      const server = net.createServer(() => {}).listen(0, '127.0.0.1', () => (port = server.address().port));`,
    // Three connections per tick, never closed: +6 TCPSocketWrap handles and +6 fds (each end).
    leak: "if (port) for (let i = 0; i < 3; i++) clients.push(net.connect(port, '127.0.0.1'));",
    log: 'logger',
    expect: ['LEAKWATCH_HANDLE_GROWTH', 'LEAKWATCH_FD_GROWTH'],
  });
  const run = await runNode(['-e', app], { timeoutMs: 40_000 });
  assert.equal(run.code, 0, run.stderr);
  const { codes, stats } = JSON.parse(run.stdout);
  assert.ok(codes.includes('LEAKWATCH_HANDLE_GROWTH') && codes.includes('LEAKWATCH_FD_GROWTH'), `warned: ${codes}`);
  assert.ok(stats.handles.byType.TCPSocketWrap >= 50, JSON.stringify(stats.handles));
  assert.ok(stats.fdsByKind.socket >= 50, JSON.stringify(stats.fdsByKind));
  assert.equal(stats.trend.handles.state, 'leaking');
  assert.equal(stats.trend.fds.state, 'leaking');
  assert.ok(stats.trend.handles.slopePerMin > 100, JSON.stringify(stats.trend.handles));
  assert.equal(stats.leakSuspected.handles, true);
  assert.equal(stats.leakSuspected.fds, true);
  assert.match(
    run.stderr,
    /\[LEAKWATCH_HANDLE_GROWTH\] LeakwatchWarning: Possible handle leak: active handles grew by \d+ in \d+ s \(\+\d+\/min, confidence [\d.]+%\), \d+ now; most are TCPSocketWrap \(\d+\)\./
  );
  assert.match(
    run.stderr,
    /\[LEAKWATCH_FD_GROWTH\] LeakwatchWarning: Possible file-descriptor leak: open fds grew by \d+ .*\(socket \d+, file \d+, pipe \d+, other \d+\)\./
  );

  // The logger got the warnings (raised by the background thread) and the memory lines.
  const lines = fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const handleWarning = lines.find((l) => l.code === 'LEAKWATCH_HANDLE_GROWTH');
  assert.equal(handleWarning.level, 40);
  assert.match(handleWarning.msg, /^Possible handle leak/);
  assert.equal(handleWarning.details.series, 'handles');
  assert.ok(handleWarning.details.byType.TCPSocketWrap > 0);
  const fdWarning = lines.find((l) => l.code === 'LEAKWATCH_FD_GROWTH');
  assert.ok(fdWarning.details.byKind.socket > 0);
  const memory = lines.filter((l) => l.event === 'memory');
  assert.ok(memory.length >= 3);
  const last = memory.at(-1);
  assert.ok(last.fdsByKind.socket > memory[0].fdsByKind.socket, 'fdsByKind in the log line climbs');
  assert.ok(last.handles.byType.TCPSocketWrap > (memory[0].handles?.byType.TCPSocketWrap ?? 0));
  assert.ok(['growing', 'leaking'].includes(last.trend.fds.state), JSON.stringify(last.trend));
});

test('a file-handle leak: fds of kind "file" climb and warn; socket churn beside it does not', async () => {
  const dir = tempDir('lw-res-');
  const log = path.join(dir, 'memory.log');
  const target = path.join(dir, 'data.txt');
  fs.writeFileSync(target, 'x');
  const app = leakApp({
    setup: `
      const fs = require('node:fs');
      const net = require('node:net');
      const kept = [];
      let port = 0;
      const server = net.createServer((s) => s.on('error', () => {})).listen(0, '127.0.0.1', () => (port = server.address().port));
      // Connections opened and closed all the time: churn, not a leak.
      setInterval(() => { if (port) for (let i = 0; i < 5; i++) net.connect(port, '127.0.0.1', function () { this.destroy(); }).on('error', () => {}); }, 100);`,
    leak: `for (let i = 0; i < 4; i++) kept.push(fs.openSync(${JSON.stringify(target)}, 'r'));`,
    log: JSON.stringify(log),
    expect: ['LEAKWATCH_FD_GROWTH'],
  });
  const run = await runNode(['-e', app], { timeoutMs: 40_000 });
  assert.equal(run.code, 0, run.stderr);
  const { codes, stats } = JSON.parse(run.stdout);
  assert.deepEqual(
    codes.filter((c) => c !== 'LEAKWATCH_HEAP_GROWTH' && c !== 'LEAKWATCH_RSS_GROWTH'),
    ['LEAKWATCH_FD_GROWTH']
  );
  assert.ok(stats.fdsByKind.file >= 50, JSON.stringify(stats.fdsByKind));
  assert.notEqual(stats.trend.handles.state, 'leaking', JSON.stringify(stats.trend.handles));
  const warning = logLines(fs.readFileSync(log, 'utf8')).find((l) => l.code === 'LEAKWATCH_FD_GROWTH');
  assert.ok(warning, 'the warning is in the log file');
  assert.ok(warning.details.byKind.file >= 40, JSON.stringify(warning.details));
  assert.match(warning.message, /, file \d+, /);
  const lines = memoryLines(fs.readFileSync(log, 'utf8'));
  assert.ok(
    lines.every((l) => l.fdsByKind && typeof l.fdsByKind.file === 'number'),
    'every memory line has fdsByKind'
  );
  assert.ok(
    lines.every((l) => l.trend.handles && l.trend.fds),
    'and the handle and fd trends'
  );
});
