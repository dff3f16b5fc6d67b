'use strict';
// Process life: stop()/start() cycles leave nothing behind, CommonJS and ESM loads in one
// process are one leakwatch, and worker churn racing the main thread's process.exit().

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, REGISTER, tempDir, runNode, memoryLines } = require('./helpers');

test('200 stop()/start() cycles: no hooks, sessions or listeners left behind', async () => {
  const code = `
    const EventEmitter = require('node:events');
    const lw = require('.');
    const { forceGc } = require('./js/force-gc');
    const before = { on: EventEmitter.prototype.on, exit: process.listenerCount('exit'), term: process.listenerCount('SIGTERM') };
    for (let i = 0; i < 200; i++) {
      lw.start({ log: 'off', interval: 100 });
      const e = new EventEmitter(); e.on('x', () => {});
      if (i % 50 === 0) forceGc();
      lw.stop();
    }
    const after = { on: EventEmitter.prototype.on, exit: process.listenerCount('exit'), term: process.listenerCount('SIGTERM') };
    console.log(JSON.stringify({ same: before.on === after.on, exit: [before.exit, after.exit], term: [before.term, after.term], internals: lw.internals() }));`;
  const run = await runNode(['-e', code]);
  assert.equal(run.code, 0, run.stderr);
  const r = JSON.parse(run.stdout);
  assert.equal(r.same, true, "EventEmitter.prototype.on is Node's own again");
  assert.deepEqual(r.exit, [r.exit[0], r.exit[0]]);
  assert.deepEqual(r.term, [r.term[0], r.term[0]]);
  assert.deepEqual(r.internals, { threadSessions: 0, processSessions: 0, gcDropped: 0, emitterMode: null });
});

test('loaded by require() and import in one process: one leakwatch, one final line', async () => {
  const dir = tempDir();
  const app = path.join(dir, 'app.mjs');
  fs.writeFileSync(
    app,
    `import { createRequire } from 'node:module';
     import lwEsm from ${JSON.stringify(path.join(ROOT, 'js', 'index.js'))};
     await import(${JSON.stringify(path.join(ROOT, 'js', 'register.mjs'))});
     const lwCjs = createRequire(import.meta.url)(${JSON.stringify(ROOT)});
     console.log(JSON.stringify({ same: lwEsm === lwCjs, internals: lwCjs.internals() }));`
  );
  const run = await runNode(['-r', REGISTER, app]);
  assert.equal(run.code, 0, run.stderr);
  const r = JSON.parse(run.stdout);
  assert.equal(r.same, true);
  assert.equal(r.internals.processSessions, 1);
  assert.equal(memoryLines(run.stderr).length, 1);
});

test('worker churn while the main thread calls process.exit(): a clean exit and a final line', async () => {
  for (let round = 0; round < 5; round++) {
    const fixture = path.join(__dirname, 'fixtures', 'exit-during-workers.js');
    const run = await runNode(['-r', REGISTER, fixture], { env: { EXIT_AFTER_MS: String(100 + round * 100) } });
    assert.equal(run.signal, null, `crashed: ${run.stderr}`);
    assert.equal(run.code, 5, run.stderr);
    assert.equal(memoryLines(run.stderr).filter((l) => l.final && l.threadId === 0).length, 1);
  }
});
