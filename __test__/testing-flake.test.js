'use strict';
// assertNoLeak() does not flake: the bounded version of __test__/fixtures/testing-flake-check.js
// (whose 100 + 100 run figures are in the README). In a child process, 20 runs of a clean
// function must all pass and 20 runs of the same function leaking ~1 KB per call must all fail
// on the heap, for plain computation and for async work (a promise and a macrotask per call).
// An HTTP round trip per call is noisier (a few hundred bytes per call either way from
// sockets and parsers): the README gives its figures, and __test__/testing-real.test.js
// checks server leaks of a realistic size.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { runNode } = require('./helpers');

const SCRIPT = path.join(__dirname, 'fixtures', 'testing-flake-check.js');

test('20 clean runs pass and 20 leaky runs fail, sync and async', { timeout: 120_000 }, async () => {
  const { code, stdout, stderr } = await runNode([SCRIPT, '20', 'sync,async'], { timeoutMs: 110_000 });
  const summary = JSON.parse(stdout.trim().split('\n').pop());
  for (const r of summary.results) {
    assert.equal(r.clean.failed, 0, `${r.name}: clean runs failed\n${stdout}`);
    assert.equal(r.leaky.heapFailed, 20, `${r.name}: leaky runs passed\n${stdout}`);
  }
  assert.equal(code, 0, stderr);
});
