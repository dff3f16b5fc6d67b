'use strict';
// The periodic memory log, end to end: a real Node process with `-r leakwatch/register`,
// real GCs, lines parsed and checked for consistency.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { REGISTER, tempDir, runNode, memoryLines, logLines } = require('./helpers');

const CHURN = path.join(__dirname, 'fixtures', 'churn.js');

function checkLine(line) {
  for (const key of [
    'time',
    'pid',
    'hostname',
    'heapUsed',
    'heapTotal',
    'rss',
    'external',
    'arrayBuffers',
    'heapLimit',
    'fds',
  ]) {
    assert.equal(typeof line[key], key === 'hostname' ? 'string' : 'number', `${key} in ${JSON.stringify(line)}`);
  }
  assert.ok(line.heapUsed <= line.heapTotal, 'heapUsed <= heapTotal');
  assert.ok(line.heapTotal <= line.heapLimit, 'heapTotal <= heapLimit');
  assert.equal(line.gcSource, 'v8');
  for (const scope of [line.gc, line.gc.sinceStart]) {
    const { p50, p99, max } = scope.pauseMs;
    assert.ok(p50 <= p99 && p99 <= max, `p50 ${p50} <= p99 ${p99} <= max ${max}`);
    let sum = 0;
    for (const [kind, k] of Object.entries(scope.kinds)) {
      assert.ok(k.p50 <= k.p99 && k.p99 <= k.max, `${kind} quantiles ordered`);
      assert.ok(k.count > 0, `${kind} listed only when seen`);
      sum += k.count;
    }
    assert.equal(sum, scope.count, 'per-kind counts add up to the total');
  }
}

test('a file log gets consistent lines with real GCs, a baseline and a final line', async () => {
  const dir = tempDir();
  const log = path.join(dir, 'memory.log');
  const run = await runNode(['-r', REGISTER, CHURN], { env: { LEAKWATCH_LOG: log, LEAKWATCH_INTERVAL: '200ms' } });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '', 'nothing on stderr when logging to a file');
  const lines = memoryLines(fs.readFileSync(log, 'utf8'));
  assert.ok(lines.length >= 4, `at least 4 lines, got ${lines.length}`);
  lines.forEach(checkLine);
  const totals = lines.map((l) => l.gc.sinceStart.count);
  assert.deepEqual(
    totals,
    [...totals].sort((a, b) => a - b),
    'GC counts since start never go down'
  );
  let running = 0;
  for (const line of lines) {
    running += line.gc.count;
    assert.equal(line.gc.sinceStart.count, running, 'interval counts add up to the total');
  }
  const last = lines.at(-1);
  assert.equal(last.final, true, 'the last line is the final line');
  assert.ok(last.gc.sinceStart.kinds.scavenge.count > 10, 'scavenges counted');
  assert.ok(last.gc.sinceStart.kinds.markSweepCompact.count >= 5, 'forced full GCs counted');
  assert.ok(last.baseline > 0 && last.baseline < last.heapTotal * 2, 'baseline after full GCs');
  assert.ok(last.baselineTime <= last.time, 'baselineTime not in the future');
  assert.equal(lines.filter((l) => l.final).length, 1, 'exactly one final line');
  assert.equal((fs.statSync(log).mode & 0o777).toString(8), '600', 'the log is owner-only');
});

test('stdout and stderr sinks, and off', async () => {
  const env = { LEAKWATCH_INTERVAL: '200ms', CHURN_MS: '500' };
  const out = await runNode(['-r', REGISTER, CHURN], { env: { ...env, LEAKWATCH_LOG: 'stdout' } });
  assert.ok(memoryLines(out.stdout).length >= 2, out.stdout);
  assert.equal(memoryLines(out.stderr).length, 0);
  const err = await runNode(['-r', REGISTER, CHURN], { env });
  assert.ok(memoryLines(err.stderr).length >= 2, 'stderr is the default');
  const off = await runNode(['-r', REGISTER, CHURN], { env: { ...env, LEAKWATCH_LOG: 'off' } });
  assert.equal(off.stdout + off.stderr, '');
});

test('ESM: node --import leakwatch/register', async () => {
  const dir = tempDir();
  const app = path.join(dir, 'app.mjs');
  fs.writeFileSync(app, "const a = []; for (let i = 0; i < 2e5; i++) a.push({ i }); console.log('app done');\n");
  const run = await runNode(['--import', path.join(__dirname, '..', 'js', 'register.mjs'), app], {
    env: { LEAKWATCH_LOG: 'stderr' },
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /app done/);
  const [final] = memoryLines(run.stderr);
  assert.equal(final.final, true);
  assert.ok(final.gc.sinceStart.count > 0);
});

test('the final line of a process shorter than a second counts its listeners', async () => {
  const code =
    "const E = require('node:events'); const e = new E(); for (let i = 0; i < 5; i++) e.on('tick', () => {}); e.off('tick', e.listeners('tick')[0]);";
  const run = await runNode(['-r', REGISTER, '-e', code], { env: { LEAKWATCH_LOG: 'stderr' } });
  assert.equal(run.code, 0, run.stderr);
  const final = memoryLines(run.stderr).at(-1);
  assert.equal(final.final, true);
  assert.ok(final.listeners.adds >= 5 && final.listeners.removes >= 1, JSON.stringify(final.listeners));
  const tick = final.listeners.top.find((t) => t.emitter === 'EventEmitter' && t.event === 'tick');
  assert.equal(tick?.live, 4, JSON.stringify(final.listeners.top));
});

test('never keeps the process alive', async () => {
  const zero = await runNode(['-r', REGISTER, '-e', '0']);
  assert.equal(zero.code, 0);
  // A 1 h interval and a short app: the app's end is the process's end. Held alive, the child
  // would outlive runNode's 60 s limit, which fails the test; no tighter bound (a loaded
  // machine is slow, not wrong).
  const short = await runNode(['-r', REGISTER, '-e', 'setTimeout(() => {}, 200)'], {
    env: { LEAKWATCH_INTERVAL: '1h' },
    timeoutMs: 60_000,
  });
  assert.equal(short.code, 0);
  assert.equal(memoryLines(short.stderr).at(-1).final, true);
});

for (const [name, code, expectedExit, stderrPattern] of [
  ['process.exit()', 'setTimeout(() => process.exit(3), 50)', 3, null],
  ['an uncaught exception', 'setTimeout(() => { throw new Error("boom") }, 50)', 1, /boom/],
  ['an unhandled rejection', 'Promise.reject(new Error("nope"))', 1, /nope/],
]) {
  test(`a final line on ${name}, and the app's exit code is kept`, async () => {
    const run = await runNode(['-r', REGISTER, '-e', code]);
    assert.equal(run.code, expectedExit, run.stderr);
    if (stderrPattern) assert.match(run.stderr, stderrPattern);
    const lines = memoryLines(run.stderr);
    assert.equal(lines.length, 1, run.stderr);
    assert.equal(lines[0].final, true);
  });
}

test('an unwritable log path warns once and the app runs on', async () => {
  const run = await runNode(['-r', REGISTER, '-e', 'setTimeout(() => console.log("still here"), 700)'], {
    env: { LEAKWATCH_LOG: '/nonexistent-dir/leakwatch.log', LEAKWATCH_INTERVAL: '200ms' },
  });
  assert.equal(run.code, 0);
  assert.match(run.stdout, /still here/);
  const warnings = logLines(run.stderr).filter((l) => l.event === 'warning');
  assert.equal(warnings.length, 1, run.stderr);
  assert.equal(warnings[0].code, 'LEAKWATCH_LOG_WRITE_FAILED');
  assert.match(run.stderr, /LeakwatchWarning: cannot write the leakwatch log to \/nonexistent-dir\/leakwatch.log/);
  assert.ok(memoryLines(run.stderr).length >= 2, 'logging went on, to stderr');
});

test('a full disk (/dev/full) is reported once and logging goes on elsewhere', async () => {
  const run = await runNode(['-r', REGISTER, '-e', 'setTimeout(() => {}, 700)'], {
    env: { LEAKWATCH_LOG: '/dev/full', LEAKWATCH_INTERVAL: '200ms' },
  });
  assert.equal(run.code, 0);
  assert.equal(
    (run.stderr.match(/LEAKWATCH_LOG_WRITE_FAILED/g) || []).length,
    2,
    'once in the log, once as a process warning'
  );
  assert.ok(memoryLines(run.stderr).length >= 2);
});
