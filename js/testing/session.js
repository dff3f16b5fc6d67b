'use strict';
// Listener counts for the test helpers, borrowed from leakwatch for as long as a check needs them.
//
// - leakwatch already running with listener tracking (an app started with leakwatch/register):
//   its counts are read as they are, and it is left running.
// - leakwatch not running: it is started with { log: 'off' } for the check and stopped after,
//   so the process is left as it was. Checks that overlap share that one start.
// - leakwatch running without listener tracking (`listeners: false`), or unable to track here
//   (see sameRealm below): a private counter is installed for the check instead — the same
//   listener patches, counting into a buffer nobody else reads. Restarting the app's own
//   session to turn tracking on would change what it logs.

const vm = require('node:vm');
const lw = require('../index');

const LISTENER_TRACKER = Symbol.for('leakwatch.listenerTracker'); // the running session's (index.js)

let users = 0;
let startedHere = false;
let privateTracker = null;

/** Starts counting if nothing counts yet; returns a release function (call it once). */
function acquire() {
  if (users === 0) begin();
  users++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--users === 0) end();
  };
}

function begin() {
  if (!lw.running) {
    // One heap sample per 16 KB (V8's usual is 512 KB): a check keeps a few hundred KB at most
    // (1 KB per call over 400 calls), and the sites of a heap failure need a few dozen samples.
    lw.start({ log: 'off', listeners: sameRealm(), heapProfile: { sampleInterval: '16KB' } });
    startedHere = true;
  }
  // A tracking session always has at least its "(other)" row: none means tracking is off.
  if (lw.listeners(1).length === 0) privateTracker = installPrivateTracker();
  tracker()?.sampleEveryAdd(true);
}

// Whichever tracker counts for this check: its sites are exact while the check runs.
function tracker() {
  return privateTracker ?? lw[LISTENER_TRACKER]();
}

// leakwatch's tracker counts into an Int32Array the addon makes in the process's main realm.
// Code loaded into a vm context with its own globals (jest gives each test file one) sees
// another Int32Array, and the tracker refuses the addon's buffer there. vm.runInThisContext
// runs in the main realm, so comparing its Int32Array with ours tells where this code runs.
function sameRealm() {
  return vm.runInThisContext('Int32Array') === Int32Array;
}

function end() {
  tracker()?.sampleEveryAdd(false);
  if (privateTracker !== null) privateTracker.uninstall();
  privateTracker = null;
  if (startedHere && lw.running) lw.stop();
  startedHere = false;
}

function installPrivateTracker() {
  const maxGroups = require('../native').binding.listenerSlots(); // this tracker's own buffer: as many as leakwatch's
  return require('../listeners').install({
    counts: new Int32Array(2 * maxGroups),
    maxGroups,
    // Plain wrappers around Node's methods: exact, and no install-time probing of Node's own
    // warnings (which a vm context's `process` would let through to stderr). Speed does not
    // matter here.
    emitterMode: 'wrap',
    describeGroup() {},
    warn() {},
    notify() {},
  });
}

/**
 * Live listeners per (emitter class, event), with the call sites that added them:
 * [{emitter, event, live, sites: [{site, appSite, live}]}]. Only valid between acquire and release.
 */
function listenerRows() {
  return privateTracker !== null ? privateTracker.snapshot() : lw.listeners(Infinity);
}

module.exports = { acquire, listenerRows, tracker };
