'use strict';
// Faults around the log file while a real process runs: rotated away (as logrotate does),
// then deleted. leakwatch reopens the path each time and loses no line to the app's harm.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { REGISTER, ROOT, tempDir, memoryLines } = require('./helpers');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('a log rotated away and then deleted is reopened at its path', async () => {
  const dir = tempDir();
  const log = path.join(dir, 'memory.log');
  const child = spawn(process.execPath, ['-r', REGISTER, '-e', 'setTimeout(() => {}, 2500)'], {
    cwd: ROOT,
    env: { ...process.env, LEAKWATCH_LOG: log, LEAKWATCH_INTERVAL: '100ms' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('close', resolve));

  await sleep(600);
  fs.renameSync(log, `${log}.1`); // logrotate's default: rename, the app reopens
  await sleep(600);
  const afterRotation = memoryLines(fs.readFileSync(log, 'utf8')).length;
  fs.rmSync(log);
  await sleep(600);
  assert.equal(await exited, 0, stderr);

  const rotated = memoryLines(fs.readFileSync(`${log}.1`, 'utf8'));
  const current = memoryLines(fs.readFileSync(log, 'utf8'));
  assert.ok(rotated.length >= 3, `lines before the rotation: ${rotated.length}`);
  assert.ok(afterRotation >= 3, `lines in the new file after the rotation: ${afterRotation}`);
  assert.ok(current.length >= 3, `lines in the file recreated after deletion: ${current.length}`);
  assert.equal(current.at(-1).final, true);
  assert.equal(stderr, '', 'no warning: rotation is not a failure');
});
