'use strict';
// js/register.bundle.js is what a registered process runs (scripts/bundle.js): it must be the
// code as it is now, not as it was at the last build, and without it register runs the files.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { runNode } = require('./helpers');
const { bundleText, BUNDLE } = require('../scripts/bundle');

test('the register bundle is built from the current sources', () => {
  assert.ok(fs.existsSync(BUNDLE), 'npm run build makes js/register.bundle.js');
  const stale = fs.readFileSync(BUNDLE, 'utf8') !== bundleText();
  assert.ok(!stale, 'js/register.bundle.js differs from the sources: run npm run build (or node scripts/bundle.js)');
});

test('without the bundle, register runs the separate files, and both count the same', async () => {
  const register = path.join(__dirname, '..', 'js', 'register.js');
  // Listeners on a class leakwatch names, added at a call site in this script.
  const code = `
    const fs = require('node:fs');
    const exists = fs.existsSync;
    if (process.env.NO_BUNDLE) fs.existsSync = (p) => (String(p).endsWith('register.bundle.js') ? false : exists(p));
    require(${JSON.stringify(register)});
    const lw = require(${JSON.stringify(path.join(__dirname, '..', 'js', 'index.js'))});
    const { EventEmitter } = require('node:events');
    class Bus extends EventEmitter {}
    const bus = new Bus();
    for (let i = 0; i < 5; i++) bus.on('tick', () => {});
    const files = Object.keys(require.cache).filter((f) => f.includes('/js/'));
    const row = lw.listeners().find((r) => r.emitter === 'Bus');
    console.log(JSON.stringify({ files, row: { live: row.live, site: row.site } }));`;
  const runs = {};
  for (const variant of ['bundle', 'files']) {
    const env = { LEAKWATCH_LOG: 'off', ...(variant === 'files' ? { NO_BUNDLE: '1' } : {}) };
    const run = await runNode(['-e', code], { env });
    assert.equal(run.code, 0, run.stderr);
    runs[variant] = JSON.parse(run.stdout.trim().split('\n').at(-1));
  }
  assert.ok(runs.bundle.files.some((f) => f.endsWith('register.bundle.js')));
  assert.ok(!runs.files.files.some((f) => f.endsWith('register.bundle.js')));
  assert.ok(runs.files.files.some((f) => f.endsWith(path.join('listeners', 'records.js'))));
  assert.deepEqual(runs.bundle.row, runs.files.row);
  assert.equal(runs.bundle.row.live, 5);
  assert.match(runs.bundle.row.site, /^\[eval\]:\d+:\d+$/);
});
