'use strict';
// Across Node majors, for real, with every Node listed in LEAKWATCH_TEST_NODES: one build (the
// Node-API addon and a V8 shim per Node ABI, as the prebuilt package carries them) loads under
// each, and each picks the shim built against its own headers. A shim built for this Node,
// handed to another, must be refused, never loaded against the wrong V8, with a reason naming
// both versions; perf_hooks counts the GCs; the fallback is announced once per process;
// nothing crashes.
//
// scripts/test-all-nodes.js runs this whole suite under Node 20, 22 and 24, so each Node's
// shim is tried by the two others: 20's under 22 and 24, 24's under 20 and 22.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { ROOT } = require('./helpers');
const { shimFile } = require('../js/platform');
const { nativeDir } = require('../js/native');

const nodes = (process.env.LEAKWATCH_TEST_NODES || '').split(':').filter(Boolean);

function run(node, args, env = {}) {
  return spawnSync(node, args, {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

// Starts leakwatch twice (and once more in a worker), forces full GCs, prints what it says.
const CHILD = `
  const { Worker } = require('node:worker_threads');
  const lw = require('.');
  const { forceGc } = require('./js/force-gc');
  lw.start({ log: 'off' });
  lw.stop();
  lw.start({ log: 'off' });
  forceGc();
  const worker = new Worker("require('./').start({ log: 'off' }); require('./js/force-gc').forceGc();", { eval: true });
  worker.on('exit', () => {
    const s = lw.stats();
    console.log(JSON.stringify({ gcSource: s.gcSource, reason: s.gcFallbackReason, shim: s.gcShim, full: s.gc.sinceStart.kinds.markSweepCompact?.count ?? 0 }));
  });
`;

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test(
  'other Node versions are configured for this run',
  { skip: nodes.length ? false : 'LEAKWATCH_TEST_NODES is not set (npm test sets it from .ci/run)' },
  () => {
    const others = nodes.filter((node) => run(node, ['-v']).stdout.trim() !== process.version);
    if (process.env.CI) assert.ok(others.length >= 2, `CI runs Node 20, 22 and 24; others here: ${others.join(', ')}`);
  }
);

for (const node of nodes) {
  const version = run(node, ['-v']).stdout.trim();
  if (version === process.version) continue;

  test(`the build loaded by ${version}: it picks the shim built for ${version}, V8 callbacks count`, () => {
    const child = run(node, ['-e', CHILD]);
    assert.equal(child.status, 0, child.stderr);
    const out = JSON.parse(child.stdout);
    assert.equal(out.gcSource, 'v8', out.reason);
    assert.equal(out.shim.node, version.slice(1));
    assert.ok(out.full >= 1, child.stdout);
    assert.doesNotMatch(child.stderr, /LEAKWATCH_GC_FALLBACK/);
  });

  test(`the shim for ${process.version} handed to ${version}: refused with both versions named, perf_hooks counts`, () => {
    const child = run(node, ['-e', CHILD], { LEAKWATCH_SHIM_PATH: path.join(nativeDir, shimFile()) });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.signal, null);
    const out = JSON.parse(child.stdout);
    assert.equal(out.gcSource, 'perf_hooks');
    assert.equal(out.shim, null);
    const built = `Node ${process.versions.node} \\(NODE_MODULE_VERSION ${process.versions.modules}, V8 \\d+\\.\\d+\\)`;
    const running = `Node ${escape(version.slice(1))} \\(NODE_MODULE_VERSION \\d+, V8 \\d+\\.\\d+\\)`;
    assert.match(
      out.reason,
      new RegExp(`^the V8 GC shim was built for ${built} but this is ${running}; build leakwatch under this Node`)
    );
    assert.ok(out.full >= 1, child.stdout);
    // Said once, in one line, though leakwatch started three times in two isolates.
    const notes = child.stderr.split('\n').filter((line) => line.includes('LEAKWATCH_GC_FALLBACK'));
    assert.equal(notes.length, 1, child.stderr);
    assert.ok(notes[0].endsWith(`leakwatch uses perf_hooks for GC events: ${out.reason}`), notes[0]);
  });
}
