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
    const child = spawn(process.execPath, ['-r', REGISTER, '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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

test("an app that handles SIGINT and carries on is not killed by leakwatch", async () => {
  const code = "process.on('SIGINT', () => { console.log('ignored'); setTimeout(() => process.exit(0), 100); }); " + IDLE_APP;
  const run = await signalled(code, 'SIGINT');
  assert.match(run.stdout, /ignored/);
  assert.equal(run.code, 0, 'the app chose to exit 0 later; leakwatch did not end it');
});
