'use strict';
// Child processes: fork()ed children and cluster workers each log under their own pid, into
// the same file, and each writes its own final line.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { REGISTER, tempDir, runNode, memoryLines } = require('./helpers');

test('cluster workers and fork() children log under their own pids', async () => {
  const dir = tempDir();
  const log = path.join(dir, 'memory.log');
  const app = path.join(dir, 'app.js');
  fs.writeFileSync(
    app,
    `const cluster = require('node:cluster');
     const { fork } = require('node:child_process');
     if (cluster.isPrimary && !process.env.FORKED) {
       let left = 3;
       const done = () => { if (--left === 0) process.exit(0); };
       for (let i = 0; i < 2; i++) cluster.fork().on('exit', done);
       fork(__filename, { env: { ...process.env, FORKED: '1' } }).on('exit', done);
     } else {
       const junk = []; for (let i = 0; i < 1e5; i++) junk.push({ i });
       setTimeout(() => process.exit(0), 400);
     }`
  );
  const run = await runNode(['-r', REGISTER, app], { env: { LEAKWATCH_LOG: log, LEAKWATCH_INTERVAL: '200ms' } });
  assert.equal(run.code, 0, run.stderr);
  const lines = memoryLines(fs.readFileSync(log, 'utf8'));
  const pids = new Set(lines.map((l) => l.pid));
  assert.equal(pids.size, 4, 'the primary, two cluster workers and a forked child');
  for (const pid of pids) {
    const own = lines.filter((l) => l.pid === pid);
    assert.equal(own.filter((l) => l.final).length, 1, `one final line for ${pid}`);
  }
});
