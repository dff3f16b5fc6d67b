'use strict';
// trackListeners(): note the listeners attached now; later, say which groups grew since.
//
//   const tracker = trackListeners();          // e.g. in beforeEach
//   … the code under test …
//   tracker.delta();                           // what changed so far
//   await tracker.assertNoGrowth();            // e.g. in afterEach: fails, and stops tracking
//
// assertNoGrowth() is async because it first collects garbage: listeners on emitters that are
// gone are not a leak, and they only stop counting once their emitter has been collected.

const { AssertionError } = require('node:assert');
const session = require('./session');
const { takeListeners, diffListeners, allowedGrowth } = require('./listeners');
const { collectGarbage } = require('./heap');
const { listenerSection } = require('./message');

/**
 * Starts counting listeners now; `assertNoGrowth()` later fails on any still attached.
 * @returns {import('../../testing').ListenerTracker}
 */
function trackListeners() {
  const release = session.acquire();
  const start = takeListeners();
  let final = null; // the counts when tracking stopped

  const now = () => (final !== null ? final : takeListeners());

  function stop() {
    if (final !== null) return;
    final = takeListeners();
    release();
  }

  /** @param {{allow?: import('../../testing').ListenerAllowance}} [options] */
  async function assertNoGrowth({ allow } = {}) {
    if (final === null) await collectGarbage();
    const rows = diffListeners(start, now());
    stop();
    const growing = rows.filter((row) => row.delta > allowedGrowth(allow, row));
    if (growing.length > 0) throw growthError(growing);
  }

  return {
    /** Growth per (emitter class, event) and call site since the tracker was made; exact counts. */
    delta: () => diffListeners(start, now()),
    assertNoGrowth,
    stop,
  };
}

function growthError(rows) {
  const lines = listenerSection(rows, null).split('\n');
  lines[0] = 'trackListeners: listeners added since the tracker was made and still attached:';
  const err = /** @type {AssertionError & {rows?: object[]}} */ (
    new AssertionError({ message: lines.join('\n'), operator: 'fail' })
  );
  err.rows = rows;
  return err;
}

module.exports = { trackListeners };
