'use strict';
// The options of assertNoLeak() and expectNoHandleLeak(), checked and filled with defaults.
// A bad option throws a TypeError/RangeError naming it: a typo in a test should fail loudly,
// not weaken the check.
//
// Why the defaults are what they are (measured with __test__/fixtures/testing-flake-check.js
// on clean functions and the same functions leaking ~1 KB per call; figures in the README):
//   - 10 rounds: Mann–Kendall reaches 99.99 % on 11 points that rise steadily, and each round
//     costs two full GCs. 20 rounds of 20 calls did no better than 10 rounds of 40.
//   - 400 calls after 100 warm-up calls: warm-up calls cost no GC, and after them a function's
//     code is compiled and its caches are warm. 40 calls per round make a 1 KB leak ~40 KB per
//     round, well above the few KB that a clean round moves.
//   - 256 bytes per call: on Node 20, 22 and 24, clean computation and promises measured
//     within ±60 B per call and an HTTP round trip on 127.0.0.1 within -60 to +362 (where
//     the slope passed 256, the other two criteria held), the same functions leaking 1 KB per
//     call at 940-1,320. Heavier code paths can need more (README).

const DEFAULTS = { iterations: 400, warmup: 100, rounds: 10 };
const HEAP_DEFAULTS = { maxBytesPerIteration: 256, confidence: 0.99 };
const SIZE_UNITS = { B: 1, KB: 1024, MB: 1024 ** 2 };

function fail(Kind, option, accepted, value) {
  const shown = typeof value === 'function' ? 'a function' : (JSON.stringify(value) ?? String(value));
  return new Kind(`leakwatch/testing: option "${option}" must be ${accepted}; got ${shown}`);
}

function integer(option, value, fallback, min) {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw fail(TypeError, option, `an integer ≥ ${min}`, value);
  if (!Number.isInteger(value) || value < min) throw fail(RangeError, option, `an integer ≥ ${min}`, value);
  return value;
}

// true / false / an object of sub-options, the shape shared by heap, listeners and handles.
function section(option, value, known) {
  if (value === undefined || value === true) return {};
  if (value === false) return null;
  if (value === null || typeof value !== 'object')
    throw fail(TypeError, option, `true, false or an object with ${known.join(', ')}`, value);
  for (const key of Object.keys(value)) {
    if (!known.includes(key))
      throw new TypeError(`leakwatch/testing: unknown option "${option}.${key}"; accepted are ${known.join(', ')}`);
  }
  return value;
}

/** Bytes from a number or '512B', '1KB', '1.5MB'. */
function bytes(option, value) {
  const match = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB)\s*$/i.exec(value) : null;
  const n = typeof value === 'number' ? value : match ? Number(match[1]) * SIZE_UNITS[match[2].toUpperCase()] : NaN;
  if (!(n >= 0 && Number.isFinite(n)))
    throw fail(TypeError, option, "a number of bytes or a size such as '1KB'", value);
  return n;
}

function heap(value) {
  const o = section('heap', value, ['maxBytesPerIteration', 'confidence']);
  if (o === null) return null;
  const limits = { ...HEAP_DEFAULTS };
  if (o.maxBytesPerIteration !== undefined)
    limits.maxBytesPerIteration = bytes('heap.maxBytesPerIteration', o.maxBytesPerIteration);
  if (o.confidence !== undefined) {
    if (!(typeof o.confidence === 'number' && o.confidence >= 0.5 && o.confidence < 1)) {
      throw fail(RangeError, 'heap.confidence', 'a number from 0.5 to below 1 (e.g. 0.99)', o.confidence);
    }
    limits.confidence = o.confidence;
  }
  return limits;
}

// listeners.allow: a number for every group, or [{emitter?, event?, max?}].
function listeners(value) {
  const o = section('listeners', value, ['allow']);
  if (o === null) return null;
  const allow = o.allow;
  const accepted = 'a number or a list of {emitter, event, max} (strings or RegExps)';
  if (allow === undefined || (typeof allow === 'number' && allow >= 0)) return { allow };
  if (!Array.isArray(allow) || !allow.every((e) => e && typeof e === 'object'))
    throw fail(TypeError, 'listeners.allow', accepted, allow);
  return { allow };
}

// handles.allow: a number for every type, or {Timeout: 1, fds: 2, …}.
function handles(value) {
  const o = section('handles', value, ['allow']);
  if (o === null) return null;
  const allow = o.allow;
  if (allow === undefined || (typeof allow === 'number' && allow >= 0)) return { allow };
  if (allow === null || typeof allow !== 'object' || Object.values(allow).some((n) => typeof n !== 'number')) {
    throw fail(TypeError, 'handles.allow', 'a number or an object of numbers per type ({ Timeout: 1, fds: 2 })', allow);
  }
  return { allow };
}

/** Options of assertNoLeak(); `defaults` lets expectNoHandleLeak() change what is checked. */
/**
 * @param {any} [options]  the user's, so anything
 * @param {object} [defaults]
 */
function normalize(options = {}, defaults = {}) {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`leakwatch/testing: options must be an object; got ${options}`);
  const o = { ...defaults, ...options };
  const rounds = integer('rounds', o.rounds, DEFAULTS.rounds, 4);
  if (rounds % 2 !== 0)
    throw fail(RangeError, 'rounds', 'an even integer ≥ 4 (the run is judged in two halves)', rounds);
  const iterations = integer('iterations', o.iterations, DEFAULTS.iterations, rounds);
  return {
    iterations,
    rounds,
    perRound: Math.ceil(iterations / rounds),
    warmup: integer('warmup', o.warmup, DEFAULTS.warmup, 0),
    heap: heap(o.heap),
    listeners: listeners(o.listeners),
    handles: handles(o.handles),
  };
}

module.exports = { normalize, DEFAULTS, HEAP_DEFAULTS };
