'use strict';
// Signals: a final line on SIGTERM/SIGINT/SIGHUP, the process ends as it would have without
// leakwatch, and an app's own handler is never swallowed.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { REGISTER, ROOT, memoryLines } = require('./helpers');

/** Starts `code` under register, sends `signal` once it is ready, resolves {code, signal, stderr, stdout}. */
function signalled(code, signal) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', REGISTER, '-e', code], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('ready')) child.kill(signal);
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (exitCode, exitSignal) => {
      clearTimeout(killer);
      resolve({ code: exitCode, signal: exitSignal, stdout, stderr });
    });
  });
}

const IDLE_APP = "console.log('ready'); setInterval(() => {}, 1000);";

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  test(`${signal} with no handler of the app's: a final line, and death by ${signal} as without leakwatch`, async () => {
    const run = await signalled(IDLE_APP, signal);
    assert.equal(run.signal, signal);
    assert.equal(run.code, null);
    const lines = memoryLines(run.stderr);
    assert.equal(lines.length, 1, run.stderr);
    assert.equal(lines[0].final, true);
  });
}

test("the app's own SIGTERM handler runs, keeps its exit code, and 'exit' writes the final line", async () => {
  const code = "process.on('SIGTERM', () => { console.log('app handler'); process.exit(7); }); " + IDLE_APP;
  const run = await signalled(code, 'SIGTERM');
  assert.equal(run.code, 7);
  assert.match(run.stdout, /app handler/);
  assert.equal(memoryLines(run.stderr).filter((l) => l.final).length, 1);
});

test('an app that handles SIGINT and carries on is not killed by leakwatch', async () => {
  const code =
    "process.on('SIGINT', () => { console.log('ignored'); setTimeout(() => process.exit(0), 100); }); " + IDLE_APP;
  const run = await signalled(code, 'SIGINT');
  assert.match(run.stdout, /ignored/);
  assert.equal(run.code, 0, 'the app chose to exit 0 later; leakwatch did not end it');
});

// What the app reads about process listeners is what it would read without leakwatch: its
// 'exit', signal and 'warning' listeners run, but are not counted or listed (js/process-listeners.js).
const READ_LISTENERS = `
  const names = ['SIGINT', 'SIGTERM', 'SIGHUP', 'exit', 'warning'];
  const read = () => ({
    counts: names.map((n) => process.listenerCount(n)),
    listeners: names.map((n) => process.listeners(n).length),
    raw: names.map((n) => process.rawListeners(n).length),
    events: process.eventNames().map(String).sort(),
  });
  const before = read();
  const own = () => {};
  process.on('SIGINT', own);
  process.once('exit', () => {});
  const after = { ...read(), ownCounted: process.listenerCount('SIGINT', own), getEventListeners: require('node:events').getEventListeners(process, 'SIGINT').length };
  console.log(JSON.stringify({ before, after }));
`;

for (const flag of ['-r', '--import']) {
  test(`process.listenerCount/listeners/rawListeners/eventNames read as without leakwatch (${flag})`, async () => {
    const { runNode, tempDir } = require('./helpers');
    const run = (args) => runNode([...args, '-e', READ_LISTENERS], { env: { LEAKWATCH_LOG: 'off' } });
    // The same flag with a module that does nothing: Node adds an 'exit' listener of its own
    // for --import.
    const noop = require('node:path').join(tempDir(), flag === '-r' ? 'noop.js' : 'noop.mjs');
    require('node:fs').writeFileSync(noop, '');
    const [plain, watched] = await Promise.all([
      run([flag, noop]),
      run([flag, flag === '-r' ? REGISTER : 'leakwatch/register']),
    ]);
    assert.equal(watched.code, 0, watched.stderr);
    assert.deepEqual(JSON.parse(watched.stdout), JSON.parse(plain.stdout));
  });
}
