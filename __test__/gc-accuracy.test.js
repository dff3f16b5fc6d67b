'use strict';
// Every GC is counted and labelled as this Node's own perf_hooks labels it: for each GC kind
// the running Node can produce (__test__/fixtures/gc-count.js makes them happen), leakwatch's
// per-kind counts equal those of a perf_hooks observer in the same process. Both GC sources
// are checked: the V8 shim (built against this Node's headers) and the perf_hooks fallback.
//
// Young-generation GCs are scavenges by default and minor mark-sweeps under V8's young mark-sweep
// flag (`--minor-ms` from Node 22, `--minor-mc` in Node 20). Weak-callback GCs are compared like
// the others, but V8 11 to 13 (Node 20 to 24) report none: even a native addon's second-pass
// weak callbacks, run by the hundred thousand, reached neither perf_hooks nor the shim.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { runNode } = require('./helpers');

const SCRIPT = path.join(__dirname, 'fixtures', 'gc-count.js');
const FORCED = 8; // each forced kind, in the fixture

/** This Node's flag for young-generation mark-sweep GCs, from its V8 options; null if none. */
function minorMarkSweepFlag() {
  const options = spawnSync(process.execPath, ['--v8-options'], { encoding: 'utf8' }).stdout;
  return ['--minor-ms', '--minor-mc'].find((flag) => new RegExp(`^\\s+${flag}\\s`, 'm').test(options)) ?? null;
}

test('this Node has a young mark-sweep flag (Node 20: --minor-mc, 22 and later: --minor-ms)', () => {
  const major = Number(process.versions.node.split('.')[0]);
  assert.equal(minorMarkSweepFlag(), major >= 22 ? '--minor-ms' : '--minor-mc');
});

const minorFlag = minorMarkSweepFlag();
const heaps = [[], ['--max-semi-space-size=1'], ...(minorFlag ? [[minorFlag]] : [])];

for (const source of ['v8', 'perf_hooks']) {
  for (const flags of heaps) {
    test(`${source}: GC counts per kind match perf_hooks ${flags.join(' ') || '(default heap)'}`, async () => {
      const run = await runNode([...flags, SCRIPT], { env: { GC_SOURCE: source === 'v8' ? 'auto' : source } });
      assert.equal(run.code, 0, run.stderr);
      const { gcSource, counted, observed } = JSON.parse(run.stdout);
      const seen = JSON.stringify(observed);
      assert.equal(gcSource, source);
      const young = flags[0] === minorFlag ? 'minorMarkSweep' : 'scavenge';
      const other = young === 'scavenge' ? 'minorMarkSweep' : 'scavenge';
      assert.ok(observed[young] >= FORCED, seen);
      assert.equal(observed[other], 0, seen);
      assert.ok(observed.markSweepCompact >= FORCED, seen);
      assert.ok(observed.incrementalMarking >= 1, seen);
      assert.deepEqual(counted, observed);
    });
  }
}
