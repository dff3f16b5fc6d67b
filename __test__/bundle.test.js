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
    const { from } = require(${JSON.stringify(register)})[Symbol.for('leakwatch.register')];
    const files = Object.keys(require.cache).filter((f) => f.includes('/js/'));
    const row = lw.listeners().find((r) => r.emitter === 'Bus');
    console.log(JSON.stringify({ from, files, row: { live: row.live, site: row.site } }));`;
  const runs = {};
  for (const variant of ['bundle', 'files']) {
    const env = { LEAKWATCH_LOG: 'off', ...(variant === 'files' ? { NO_BUNDLE: '1' } : {}) };
    const run = await runNode(['-e', code], { env });
    assert.equal(run.code, 0, run.stderr);
    runs[variant] = JSON.parse(run.stdout.trim().split('\n').at(-1));
  }
  assert.equal(runs.bundle.from, 'bundle');
  assert.equal(runs.files.from, 'files');
  assert.ok(!runs.bundle.files.some((f) => f.endsWith(path.join('listeners', 'records.js'))));
  assert.ok(runs.files.files.some((f) => f.endsWith(path.join('listeners', 'records.js'))));
  assert.deepEqual(runs.bundle.row, runs.files.row);
  assert.equal(runs.bundle.row.live, 5);
  assert.match(runs.bundle.row.site, /^\[eval\]:\d+:\d+$/);
});

// The code cache (js/register.js): the build leaves one for each Node it was told of, this one
// included, and register compiles the bundle with it. One that V8 refuses (other flags, a
// file cut short) costs the compile it would have saved, nothing else.
const REGISTER = path.join(__dirname, '..', 'js', 'register.js');
const ranCode = (extra = '') => `
  ${extra}
  require(${JSON.stringify(REGISTER)});
  const { EventEmitter } = require('node:events');
  new EventEmitter().on('x', () => {});
  const ran = require(${JSON.stringify(REGISTER)})[Symbol.for('leakwatch.register')];
  const lw = require(${JSON.stringify(path.join(__dirname, '..', 'js', 'index.js'))});
  console.log(JSON.stringify({ from: ran.from, codeCache: ran.codeCache, running: lw.running, adds: lw.stats().listeners.adds }));`;

async function ran(args, extra) {
  const run = await runNode([...args, '-e', ranCode(extra)], { env: { LEAKWATCH_LOG: 'off' } });
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout.trim().split('\n').at(-1));
}

test('register compiles the bundle with the code cache the build left for this Node', async () => {
  const { cacheFile } = require(REGISTER)[Symbol.for('leakwatch.register')];
  const file = cacheFile(fs.readFileSync(BUNDLE, 'utf8'));
  assert.ok(fs.existsSync(file), `no ${path.basename(file)}: run npm run build under this Node`);
  const r = await ran([]);
  assert.deepEqual({ ...r, adds: r.adds > 0 }, { from: 'bundle', codeCache: 'used', running: true, adds: true });
});

test('a code cache V8 refuses leaves register compiling the bundle from source, leakwatch running', async () => {
  // Other V8 flags than the build's: V8 tells by the flags' hash.
  const flags = await ran(['--stack-size=900']);
  assert.deepEqual(
    { ...flags, adds: flags.adds > 0 },
    { from: 'bundle', codeCache: 'rejected', running: true, adds: true }
  );
  // A file cut short (a build stopped while writing it): V8 checks the cache's length.
  const cut = `
    const fs = require('node:fs');
    const read = fs.readFileSync;
    fs.readFileSync = (p, ...rest) => {
      const data = read(p, ...rest);
      return String(p).endsWith('.cache') ? data.subarray(0, data.length >> 1) : data;
    };`;
  const short = await ran([], cut);
  assert.deepEqual(
    { ...short, adds: short.adds > 0 },
    { from: 'bundle', codeCache: 'rejected', running: true, adds: true }
  );
});
