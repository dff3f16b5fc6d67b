'use strict';
// Worker threads: every isolate gets its own GC hooks, and a terminated worker's hooks and
// session are gone (removed in the env cleanup hook before anything they use is freed).

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { runNode } = require('./helpers');

for (const workers of [200, 1000])
  test(`${workers} workers load leakwatch, force GCs, get terminated; no crash, nothing left behind`, async () => {
    const run = await runNode([path.join(__dirname, 'fixtures', 'worker-churn.js')], {
      timeoutMs: 180_000,
      env: { WORKERS: String(workers) },
    });
    assert.equal(run.signal, null, `crashed: ${run.stderr}`);
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout);
    assert.equal(summary.workers, workers);
    assert.deepEqual(summary.errors, []);
    assert.equal(summary.sawGcs, workers, 'every worker saw its own GCs through its own hooks');
    assert.equal(summary.internals.processSessions, 1, "only the main thread's session remains");
    assert.equal(summary.internals.threadSessions, 1);
    // Node's own worker churn moves RSS (Node 24, 1,000 workers: from -3 to +26 MB over the
    // second half, measured); leakwatch's bookkeeping is per session and gone with it. A session
    // left behind per worker (its histograms, tables and counters: over 100 KB) would add 50 MB.
    assert.ok(
      summary.rssGrowthSecondHalf < 40 * 1024 * 1024,
      `RSS grew ${summary.rssGrowthSecondHalf} bytes over the second half`
    );
  });
