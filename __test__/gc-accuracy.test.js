'use strict';
// Every GC is counted: leakwatch's V8 hooks agree, kind by kind, with V8's own GC tracer
// (as perf_hooks reports it), with a default and a small young generation.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { runNode } = require('./helpers');

const SCRIPT = path.join(__dirname, 'fixtures', 'gc-count.js');

for (const flags of [[], ['--max-semi-space-size=1']]) {
  test(`GC counts match V8's own per kind ${flags.join(' ') || '(default heap)'}`, async () => {
    const run = await runNode([...flags, SCRIPT]);
    assert.equal(run.code, 0, run.stderr);
    const { counted, observed } = JSON.parse(run.stdout);
    assert.ok(observed.scavenge > 5 && observed.markSweepCompact >= 6, run.stdout);
    assert.deepEqual(counted, observed);
  });
}
