'use strict';
// Per-emitter warnings: "Possible EventEmitter listener leak: 64 'message' listeners on
// [WebSocketServer] (+53 in 30 s), added at src/server.js:42:12".
//
// The add path calls check() only when an entry's count passes `entry.next`, so the common add
// pays one comparison. The first warning comes when the count exceeds the emitter's own max
// listeners (setMaxListeners / events.defaultMaxListeners; 0 and Infinity mean unlimited, as in
// Node), the next each time the count doubles again. Warnings are rate-limited per emitter and
// overall; a suppressed one is retried after a little more growth.
//
// Node prints its own MaxListenersExceededWarning at that first crossing (for EventEmitters,
// and for EventTargets with a max), and a process.on('warning') handler should not hear of one
// event twice: when the add that crosses the line is the one Node warned in (the patches set
// ctx.nodeWarned to its emitter for the add), leakwatch's warning, with what Node's lacks (the
// call site, the growth), goes to the log and lw's 'listener-leak' event only, with
// details.nodeWarned. Node says nothing at the doublings after it; leakwatch does, the first
// of them without waiting out the per-emitter interval. Where Node's warning is switched off
// (--disable-warning=MaxListenersExceededWarning), leakwatch's is printed from the first.

const EventEmitter = require('node:events');
const { captureSite } = require('./sites');
const { clock } = require('./records');

const CODE = 'LEAKWATCH_LISTENER_LEAK';
const EVENT = 'listener-leak';
const GLOBAL_PER_MINUTE = 30;

/**
 * @param {object} ctx  ctx.warn(code, message, details, eventName); ctx.warnIntervalMs
 */
function createEmitterWarnings(ctx) {
  let windowStart = 0;
  let inWindow = 0;
  const nodePrints = !nodeWarningDisabled();

  /** entry.live just passed entry.next on `target`. `kind`: 'emitter' or 'target'. */
  function check(target, entry, kind, below) {
    const live = entry.live;
    if (entry.born < 0) entry.born = clock(); // the count just passed 1 (entry.next starts at 1)
    const max = maxListenersOf(target, kind);
    if (!(max > 0) || max === Infinity) {
      entry.next = live * 2; // unlimited: look again later in case the limit changes
      return;
    }
    if (live <= max) {
      entry.next = max;
      return;
    }
    const last = entry.warned;
    if (last !== null && live < 2 * last.count) {
      entry.next = 2 * last.count - 1;
      return;
    }
    const now = clock();
    if (!allowed(last, now)) {
      entry.next = live + Math.max(1, live >> 3);
      return;
    }
    emit(target, entry, kind, max, now, below);
  }

  // `now` in deciseconds (records.clock).
  function allowed(last, now) {
    // The per-emitter interval runs from the last warning printed; one that went to the log
    // only (Node printed its own) leaves the doubling after it free to print.
    if (last !== null && last.printed && (now - last.time) * 100 < ctx.warnIntervalMs) return false;
    if ((now - windowStart) * 100 >= 60_000) {
      windowStart = now;
      inWindow = 0;
    }
    return inWindow < GLOBAL_PER_MINUTE;
  }

  function emit(target, entry, kind, max, now, below) {
    inWindow++;
    const live = entry.live;
    const group = entry.group;
    const { site, appSite } = captureSite(below);
    const last = entry.warned;
    // The first warning's window starts when the count passed 1, not at the first listener:
    // timing it from there spares every new entry a clock read, and one listener is no leak.
    // Listeners found attached when the pair was first counted are not growth.
    const growth = live - (last === null ? entry.base : last.count);
    const windowMs = (now - (last === null ? entry.born : last.time)) * 100;
    const details = {
      kind,
      emitter: group.emitter,
      event: group.event,
      count: live,
      growth,
      windowMs,
      max,
      site,
      appSite,
      nodeWarned: nodePrints && ctx.nodeWarned === target,
    };
    entry.warned = { count: live, time: now, printed: !details.nodeWarned };
    entry.next = 2 * live - 1;
    if (details.nodeWarned) {
      ctx.record(CODE, message(details), details, EVENT);
    } else {
      ctx.warn(CODE, message(details), details, EVENT, below);
    }
  }

  return { check };
}

// Whether this process was started with Node's MaxListenersExceededWarning switched off.
function nodeWarningDisabled() {
  try {
    const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
    return args.some(
      (arg, i) =>
        arg === '--disable-warning=MaxListenersExceededWarning' ||
        (arg === '--disable-warning' && args[i + 1] === 'MaxListenersExceededWarning')
    );
  } catch {
    return false;
  }
}

function message(d) {
  const what = d.kind === 'target' ? 'EventTarget' : 'EventEmitter';
  let text =
    `Possible ${what} listener leak: ${d.count} '${d.event}' listeners on [${d.emitter}] ` +
    `(+${d.growth} in ${seconds(d.windowMs)})`;
  if (d.site !== null) text += `, added at ${d.site}`;
  if (d.appSite !== null) text += ` (from ${d.appSite})`;
  return text;
}

function seconds(ms) {
  const s = ms / 1000;
  return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
}

// The limit Node itself would apply; for EventTargets a limit of 0 is Node's own default for
// AbortSignal since Node 22.13 (not the user's choice), so it falls back to defaultMaxListeners.
function maxListenersOf(target, kind) {
  try {
    if (kind === 'target') {
      const m = EventEmitter.getMaxListeners(target);
      return m === 0 ? EventEmitter.defaultMaxListeners : m;
    }
    const m = target._maxListeners;
    return m === undefined ? EventEmitter.defaultMaxListeners : m;
  } catch {
    return 0; // a getter that throws: no limit we can know
  }
}

/** Past the limit Node applies (0 and Infinity: none), with `count` listeners of one type. */
function pastMax(target, kind, count) {
  const max = maxListenersOf(target, kind);
  return max > 0 && count > max;
}

module.exports = { createEmitterWarnings, pastMax, message, CODE, EVENT };
