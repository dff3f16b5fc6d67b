'use strict';
// leakwatch/testing gives the same counts, deltas and sites however leakwatch started: by
// register, by start(), by an earlier check in the same process (which stopped the session it
// started), or not at all. Listeners already attached when counting began are a tracker's
// baseline, never its growth, and never blamed on a later add's line. Each way runs
// __test__/fixtures/listener-baseline.js in a process of its own, against the real methods.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { runNode, REGISTER } = require('./helpers');

const FIXTURE = path.join(__dirname, 'fixtures', 'listener-baseline.js');
const SOURCE = fs.readFileSync(FIXTURE, 'utf8').split('\n');
/** `listener-baseline.js:<line>` of the fixture line marked `// SITE <name>`. */
const site = (name) => `listener-baseline.js:${SOURCE.findIndex((l) => l.includes(`// SITE ${name}`)) + 1}`;

async function counts(mode) {
  const args = mode === 'register' ? ['-r', REGISTER, FIXTURE] : [FIXTURE];
  const run = await runNode(args, { env: { MODE: mode, LEAKWATCH_LOG: 'off' }, timeoutMs: 60_000 });
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout);
}

const withColumn = (rows) => rows.map((r) => ({ ...r, sites: r.sites.map((s) => s.replace(/:(\d+):\d+ /, ':$1 ')) }));

test('trackListeners: listeners attached before tracking are the baseline, whichever way leakwatch started', async () => {
  const runs = {};
  for (const mode of ['none', 'register', 'start', 'earlier-check']) runs[mode] = await counts(mode);
  const none = runs.none;
  const EE = 'EventEmitter';

  // 100 before the tracker, 2 under it: +2, at the line that added the 2.
  assert.deepEqual(withColumn(none.pre), [
    { emitter: EE, event: 'tick', before: 100, after: 102, delta: 2, sites: [`${site('two-adds')} +2`] },
  ]);
  assert.match(
    none.preFailure,
    /^trackListeners: listeners added since the tracker was made and still attached:\n.*EventEmitter 'tick': \+2\b/
  );
  assert.doesNotMatch(none.preFailure, /102/);

  // Emitters made before and during a tracker: one more each.
  assert.deepEqual(withColumn(none.during), [
    { emitter: EE, event: 'b', before: 2, after: 3, delta: 1, sites: [`${site('before-emitter')} +1`] },
    { emitter: EE, event: 'd', before: 0, after: 1, delta: 1, sites: [`${site('during')} +1`] },
  ]);
  // Made between trackers, its listeners replaced behind leakwatch's back (3 of them): +1.
  assert.deepEqual(withColumn(none.between), [
    { emitter: EE, event: 'w', before: 3, after: 4, delta: 1, sites: [`${site('between')} +1`] },
  ]);
  // An EventTarget's 3 from before, 1 under the tracker.
  assert.deepEqual(withColumn(none.target), [
    { emitter: 'EventTarget', event: 'ping', before: 3, after: 4, delta: 1, sites: [`${site('target')} +1`] },
  ]);
  // The 100 found attached, removed under a tracker: a decrease of 100, as if they had been added.
  assert.deepEqual(none.removed, [{ emitter: EE, event: 'tick', before: 100, after: 0, delta: -100, sites: [] }]);

  // The same under every other start.
  for (const mode of ['register', 'start', 'earlier-check'])
    assert.deepEqual(withColumn(runs[mode].pre), withColumn(none.pre), mode);
  for (const mode of ['register', 'start', 'earlier-check']) {
    for (const part of ['during', 'between', 'target', 'removed'])
      assert.deepEqual(withColumn(runs[mode][part]), withColumn(none[part]), `${mode}: ${part}`);
    assert.equal(runs[mode].preFailure, none.preFailure, mode);
  }
});

// The same in leakwatch's own figures: an emitter with 20 listeners from before leakwatch
// started, past its max of 10, gets one more. The warning's growth is that one, and
// lw.listeners() holds the 20 under "(attached before tracking began)", not at the add's line.
const FOUND_CHILD = `
  const EventEmitter = require('node:events');
  const bus = new EventEmitter();
  for (let i = 0; i < 20; i++) bus.on('job', () => i);
  process.on('warning', () => {}); // Node's own warning for the 20 came before leakwatch
  const lw = require('.');
  lw.start({ log: 'off' });
  let warning = null;
  lw.on('listener-leak', (w) => (warning = w.details));
  bus.on('job', () => 'late'); // the add
  const row = lw.listeners(100).find((r) => r.event === 'job');
  console.log(JSON.stringify({ warning, sites: row.sites.map((s) => [s.site.replace(/^.*[\\\\/]/, ''), s.live]), live: row.live }));
  lw.stop();
`;

test("leakwatch's own figures: listeners found attached are neither a warning's growth nor a later line's", async () => {
  const run = await runNode(['-e', FOUND_CHILD]);
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  assert.equal(out.live, 21);
  assert.deepEqual(out.sites, [
    ['(attached before tracking began)', 20],
    ['[eval]:10:7', 1],
  ]);
  assert.equal(out.warning.count, 21);
  assert.equal(out.warning.growth, 1);
  assert.match(run.stderr, /Possible EventEmitter listener leak: 21 'job' listeners on \[EventEmitter\] \(\+1 in /);
});
