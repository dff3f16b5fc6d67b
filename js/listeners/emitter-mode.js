'use strict';
// Which EventEmitter methods the patch puts in place (emitter.js), and when: "fast" ones that
// reproduce lib/events.js with the counting inline, once emitter-check.js has seen them behave
// exactly as this Node's own, else "wrap" ones around Node's.
//
// The check drives Node's own methods over scratch emitters with odd arguments, and V8 keeps
// what it saw in those functions' type feedback (EventEmitter.init, emit, the add path): the
// scratch emitters' hidden classes sit beside the app's for the rest of the process, and
// Node's stream and http code, which inlines those functions, pays on every request:
// benches/http-instructions.js read a request's own work at 68,781 instructions with the check
// run in the app's thread and 66,543 without it (Node alone: 64,824). So, by default, the
// patch starts in wrap mode (exact, ~1.2x on an on/off pair) and the check runs in a worker
// thread a second later, on that thread's own copies of Node's functions; its answer switches
// the patch to fast mode. The second's delay keeps short-lived processes (a CLI, a test run)
// from paying for a thread they would not live to use. The worker's verdict is used only where
// the methods it checked have the same source text as the ones the patch replaced (someone
// may have patched them before leakwatch loaded); otherwise, and when no worker can be had,
// the check runs in this thread, as it must.

const path = require('node:path');
const emitter = require('./emitter');
const { checkFast, sourcesOf } = require('./emitter-check');

const CHECK_DELAY_MS = 1000;
const CHECK_TIMEOUT_MS = 10_000; // a worker that has not answered by then is given up on
const WORKER_FILE = path.join(__dirname, 'emitter-check-worker.js');

/**
 * Puts the methods for `mode` in place: 'wrap', 'fast' (checked now, here; throws if they do not
 * match), or 'auto' (wrap, then fast once checked off-thread). Returns the patch:
 * {mode, restore(), stop(), ready}; `mode` changes when the patch switches, `ready` resolves to
 * the final mode, `stop()` cancels a pending check.
 * @param {{checkDelayMs?: number, checkIn?: 'worker'|'process'}} [when]  tests: how soon, where
 */
function patchEmitters(ctx, mode, when = {}) {
  const orig = emitter.originalMethods();
  if (mode === 'fast') {
    const fast = fastIfSame(ctx, orig, checkFast(orig));
    if (fast === null) throw new Error('leakwatch: fast EventEmitter methods do not match this Node version');
    return settled('fast', emitter.applyMethods(fast));
  }
  const wrap = emitter.wrapMethods(ctx, orig);
  const patch = settled('wrap', emitter.applyMethods(wrap));
  if (mode === 'wrap') return patch;
  return checkLater(ctx, orig, wrap, patch, when);
}

function settled(mode, restore) {
  return { mode, restore, stop() {}, ready: Promise.resolve(mode) };
}

// The fast methods when `verdict` says they behave as Node's own, else null.
function fastIfSame(ctx, orig, verdict) {
  if (verdict === null || verdict.same !== true) return null;
  const flavour = emitter.readFlavour(orig, verdict.template);
  return flavour === null ? null : emitter.fastMethods(ctx, orig, flavour);
}

function checkLater(ctx, orig, wrap, patch, { checkDelayMs = CHECK_DELAY_MS, checkIn = 'worker' }) {
  let done = false;
  let worker = null;
  let resolveReady;
  patch.ready = new Promise((resolve) => (resolveReady = resolve));
  const timers = [];
  const later = (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref(); // the check never keeps a process alive
    timers.push(t);
  };

  // The answer (a verdict, or null: no worker, or no answer from it): switch if it is fast.
  function decide(verdict) {
    if (done) return;
    end();
    try {
      if (verdict === null || !sameSources(verdict.sources, orig)) verdict = checkFast(orig);
      const fast = fastIfSame(ctx, orig, verdict);
      // Someone patched over the wrappers since: leave theirs in place (their chain calls ours).
      if (fast !== null && emitter.isApplied(wrap)) {
        patch.restore();
        patch.restore = emitter.applyMethods(fast);
        patch.mode = 'fast';
      }
    } catch {
      // stay in wrap mode
    }
    resolveReady(patch.mode);
  }

  function start() {
    if (done) return;
    if (checkIn !== 'worker') return decide(null);
    try {
      const { Worker } = require('node:worker_threads');
      // Neither the app's flags nor NODE_OPTIONS (a worker reads its env's): their -r/--import
      // would load leakwatch, and the app's preloads, in the worker too.
      const env = { ...process.env };
      delete env.NODE_OPTIONS;
      worker = new Worker(WORKER_FILE, { execArgv: [], env, name: 'leakwatch emitter check', resourceLimits: { maxOldGenerationSizeMb: 32 } });
    } catch {
      return decide(null);
    }
    worker.unref();
    worker.once('message', decide);
    worker.once('error', () => decide(null));
    worker.once('exit', () => decide(null));
    later(() => decide(null), CHECK_TIMEOUT_MS);
  }

  function end() {
    done = true;
    for (const t of timers) clearTimeout(t);
    if (worker !== null) worker.terminate().catch(() => {});
    worker = null;
  }

  patch.stop = () => {
    if (done) return;
    end();
    resolveReady(patch.mode);
  };
  if (checkDelayMs > 0) later(start, checkDelayMs);
  else start();
  return patch;
}

function sameSources(sources, orig) {
  if (sources === null || typeof sources !== 'object') return false;
  const here = sourcesOf(orig);
  return Object.keys(here).every((name) => sources[name] === here[name]);
}

module.exports = { patchEmitters, CHECK_DELAY_MS };
