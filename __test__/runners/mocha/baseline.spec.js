'use strict';
// Run with `npx mocha baseline.spec.js` from this directory: listeners that an earlier test
// left attached, or that were there before any tracking, are no later tracker's growth.
const assert = require('assert');
const EventEmitter = require('events');
const { trackListeners, assertNoLeak } = require('leakwatch/testing');

const bus = new EventEmitter();
bus.setMaxListeners(0);
for (let i = 0; i < 100; i++) bus.on('tick', () => i); // attached before any tracking

describe('listeners attached before tracking', function () {
  this.timeout(60_000);

  it('an earlier check passes and leaves listeners attached', async () => {
    await assertNoLeak(() => bus.off('ping', bus.on('ping', () => {}).listeners('ping')[0]), {
      heap: false,
      iterations: 20,
      warmup: 2,
      rounds: 4,
    });
    for (let i = 0; i < 20; i++) bus.on('left', () => i);
  });

  it('a later tracker counts only what was added under it, at its own line', async () => {
    const tracker = trackListeners();
    const two = [() => 1, () => 2];
    for (const fn of two) bus.on('tick', fn); // marker: two-adds
    const delta = tracker.delta();
    assert.deepEqual(
      delta.map((r) => [r.event, r.before, r.after, r.delta]),
      [['tick', 100, 102, 2]]
    );
    assert.match(delta[0].sites[0].site, /baseline\.spec\.js:\d+:\d+$/);
    assert.equal(delta[0].sites[0].delta, 2);
    for (const fn of two) bus.off('tick', fn);
    await tracker.assertNoGrowth();
  });
});
