'use strict';
// Other Node majors, run for real: the shim built for this Node must be refused (and
// perf_hooks used) under another V8, and a shim built against that Node's own headers must
// give V8 GC callbacks whose counts match V8's own tracer there too (the GC kind names
// moved between V8 versions).
//
// LEAKWATCH_TEST_NODES lists node binaries (colon-separated) whose ../include/node holds
// their headers; .ci/run fetches Node 22 and 24 from the npm registry for this.

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { ROOT, tempDir } = require('./helpers');

const nodes = (process.env.LEAKWATCH_TEST_NODES || '').split(':').filter(Boolean);
const GC_COUNT = path.join(__dirname, 'fixtures', 'gc-count.js');

function run(node, args, env = {}) {
  return execFileSync(node, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
}

/** Compiles src/gc_shim.cc against `node`'s headers with build.rs's flags. */
function buildShim(node) {
  const include = path.join(path.dirname(node), '..', 'include', 'node');
  const out = path.join(tempDir(), 'shim.so');
  const flags = ['-shared', '-fPIC', '-std=c++20', '-fvisibility=hidden', '-fno-exceptions', '-fno-rtti'];
  execFileSync('c++', [...flags, '-I', include, path.join(ROOT, 'src', 'gc_shim.cc'), '-o', out]);
  return out;
}

test('other Node majors are configured for this run', { skip: nodes.length ? false : 'LEAKWATCH_TEST_NODES is not set (.ci/run sets it)' }, () => {
  if (process.env.CI) assert.ok(nodes.length >= 1);
});

for (const node of nodes) {
  const version = run(node, ['-v']).trim();
  if (version === process.version) continue;

  test(`${version}: this Node's shim is refused with a reason, perf_hooks counts GCs`, () => {
    const code = "const lw = require('.'); lw.start({ log: 'off' }); require('./js/force-gc').forceGc(); setTimeout(() => { const s = lw.stats(); console.log(JSON.stringify([s.gcSource, s.gcFallbackReason, s.gc.sinceStart.count])); }, 100);";
    const [source, reason, count] = JSON.parse(run(node, ['-e', code]));
    assert.equal(source, 'perf_hooks');
    assert.match(reason, /built for NODE_MODULE_VERSION \d+ .* but this Node is \d+/);
    assert.ok(count >= 1);
  });

  test(`${version}: a shim built against its own headers counts every GC`, () => {
    const shim = buildShim(node);
    for (const flags of [[], ['--max-semi-space-size=1']]) {
      const { counted, observed } = JSON.parse(run(node, [...flags, GC_COUNT], { LEAKWATCH_SHIM_PATH: shim }));
      assert.ok(observed.markSweepCompact >= 6, JSON.stringify(observed));
      assert.deepEqual(counted, observed);
    }
  });
}
