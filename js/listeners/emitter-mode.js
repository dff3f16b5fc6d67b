'use strict';
// Which EventEmitter methods the patch puts in place (emitter.js), and when: "fast" ones that
// reproduce lib/events.js with the counting inline, once emitter-check.js has seen them behave
// exactly as this Node's own, else "wrap" ones around Node's.
//
// The check drives Node's own methods over scratch emitters with odd arguments, and V8 keeps
// what it saw in those functions' type feedback (EventEmitter.init, emit, the add path): the
// scratch emitters' hidden classes sit beside the app's for the rest of the process, and
// Node's http code, whose constructors inline those functions, pays on every request
// (benches/server-instructions.js, requests 20,000..60,000: a request's own work 68,781
// instructions with the check in the app's process, 66,543 without it). So, by default, the
// patch starts with the wrappers (exact, ~1.2x on an on/off pair) and the check runs a second
// later in a child process, a plain `node` of this binary that prints its verdict; the answer
// switches the patch to the fast methods. Not a worker thread: once a worker has existed in a
// process, V8 ran the fast methods slower (an on/off pair 1.12-1.15x of Node's, against
// 1.04-1.06x). The second's delay keeps short-lived processes (a CLI, a test run) from paying
// for a process they would not live to use.
//
// The child's verdict is used only where the methods it checked have the same source text as
// the ones the patch replaced (someone may have patched them before leakwatch loaded). Where
// no child can be had (an executable that is not plain node: Electron, a single-executable
// app; a permission model without child processes; a failed or silent child), and in worker
// threads, the check runs here, as it must.

const path = require('node:path');
const emitter = require('./emitter');
// The check's code is loaded when the check runs, not at start-up (README: idle memory).
const checkFast = (orig) => require('./emitter-check').checkFast(orig);
const sourcesOf = (methods) => require('./emitter-check').sourcesOf(methods);

const CHECK_DELAY_MS = 1000;
const CHECK_TIMEOUT_MS = 10_000; // a child that has not answered by then is given up on
const CHILD_FILE = path.join(require('../layout').LISTENERS_DIR, 'emitter-check-child.js');
const MAX_ANSWER = 64 * 1024; // bytes of the child's output kept, at most

/**
 * Puts the counting methods in place, once: 'wrap' (wrappers for good), 'fast' (checked now,
 * here; throws if they do not match), or 'auto' (wrappers, then fast once checked). The
 * functions on EventEmitter.prototype stay the same through the switch: it happens inside them.
 * Returns the patch: {mode, restore(), stop(), ready}; `mode` changes when the patch switches,
 * `ready` resolves to the final mode, `stop()` cancels a pending check.
 * @param {{checkDelayMs?: number, checkIn?: 'child'|'process', mainThread?: boolean}} [when]  tests: how soon,
 *   where; mainThread: whether this is the main thread, if known
 */
function patchEmitters(ctx, mode, when = {}) {
  const orig = emitter.originalMethods();
  const methods = emitter.countingMethods(ctx, orig);
  if (mode === 'fast') {
    const flavour = fastFlavour(orig, checkFast(orig));
    if (flavour === null) throw new Error('leakwatch: fast EventEmitter methods do not match this Node version');
    methods.useFast(flavour);
    return settled('fast', emitter.applyMethods(methods));
  }
  const patch = settled('wrap', emitter.applyMethods(methods));
  if (mode === 'wrap') return patch;
  return checkLater(orig, methods, patch, when);
}

function settled(mode, restore) {
  return { mode, restore, stop() {}, ready: Promise.resolve(mode) };
}

// This Node's flavour for the fast methods when `verdict` says they behave as Node's own, else null.
function fastFlavour(orig, verdict) {
  if (verdict === null || verdict.same !== true) return null;
  return emitter.readFlavour(orig, verdict.template, verdict.frames);
}

function checkLater(
  orig,
  methods,
  patch,
  { checkDelayMs = CHECK_DELAY_MS, mainThread = null, checkIn = defaultPlace(mainThread) }
) {
  let done = false;
  let child = null;
  let resolveReady;
  patch.ready = new Promise((resolve) => (resolveReady = resolve));
  const timers = [];
  const later = (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref(); // the check never keeps a process alive
    timers.push(t);
  };

  // The answer (a verdict, or null: no child, or no answer from it): switch if it is fast.
  function decide(verdict) {
    if (done) return;
    end();
    let flavour = null;
    try {
      if (verdict === null || !sameSources(verdict.sources, orig)) verdict = checkHere(orig, methods, patch);
      flavour = fastFlavour(orig, verdict);
    } catch {
      // stay with the wrappers
    }
    if (flavour !== null) {
      methods.useFast(flavour);
      patch.mode = 'fast';
    }
    resolveReady(patch.mode);
  }

  function start() {
    if (done) return;
    child = checkIn === 'child' ? spawnCheck(decide) : null;
    if (child === null) decide(null);
    else later(() => decide(null), CHECK_TIMEOUT_MS);
  }

  function end() {
    done = true;
    for (const t of timers) clearTimeout(t);
    if (child !== null && child.exitCode === null) child.kill();
    child = null;
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

// The check in this process: it compares against Node's own methods, so ours come off
// EventEmitter.prototype for that one synchronous run and go back on, the same functions.
// Someone who patched over ours since keeps their methods in place (their chain calls ours).
function checkHere(orig, methods, patch) {
  if (!emitter.isApplied(methods)) return checkFast(orig);
  patch.restore();
  try {
    return checkFast(orig);
  } finally {
    patch.restore = emitter.applyMethods(methods);
  }
}

// A child process from the main thread; in a worker thread (an app may run dozens, each with
// leakwatch) the check runs in that thread, as one process per worker would be too many.
// `mainThread`: whether this is the main thread, when the caller knows (the addon does):
// node:worker_threads loads Node's streams with it, ~1.6 MB of RSS.
function defaultPlace(mainThread) {
  return (mainThread ?? require('node:worker_threads').isMainThread) ? 'child' : 'process';
}

/** Starts the check in a child process; `answer(verdict or null)` once. Null: no child. */
function spawnCheck(answer) {
  if (!plainNode()) return null;
  let child;
  try {
    // Neither the app's flags nor NODE_OPTIONS: their -r/--import would load leakwatch, and
    // the app's preloads, in the child too.
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    child = require('node:child_process').spawn(process.execPath, [CHILD_FILE], {
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
      windowsHide: true,
    });
  } catch {
    return null; // e.g. a permission model without child processes
  }
  child.unref();
  /** @type {any} */ (child.stdout).unref(); // a pipe's socket: unref'd, it keeps nothing alive
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    if (out.length < MAX_ANSWER) out += chunk;
  });
  child.once('error', () => answer(null));
  child.once('close', (code) => answer(code === 0 ? parseVerdict(out) : null));
  return child;
}

// process.execPath runs this file as a script only when it is node itself.
function plainNode() {
  if (process.versions.electron !== undefined) return false;
  try {
    return !require('node:sea').isSea();
  } catch {
    return true; // a node without single-executable support
  }
}

function parseVerdict(text) {
  try {
    const verdict = JSON.parse(text);
    return verdict !== null && typeof verdict === 'object' ? verdict : null;
  } catch {
    return null;
  }
}

function sameSources(sources, orig) {
  if (sources === null || typeof sources !== 'object') return false;
  const here = sourcesOf(orig);
  return Object.keys(here).every((name) => sources[name] === here[name]);
}

module.exports = { patchEmitters };
