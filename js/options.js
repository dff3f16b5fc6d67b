'use strict';
// Validates the options of start(). A bad value throws a TypeError/RangeError that names the
// option and the accepted values: a programmer's typo should fail at once, loudly.

const { parseDuration, formatDuration } = require('./duration');

const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 24 * 3_600_000;
const DEFAULT_INTERVAL_MS = 60_000;
const GC_SOURCES = ['auto', 'v8', 'perf_hooks'];
const KNOWN = ['interval', 'log', 'gcSource'];

function fail(Kind, option, accepted, value) {
  const shown = typeof value === 'function' ? 'a function' : JSON.stringify(value) ?? String(value);
  return new Kind(`leakwatch: option "${option}" must be ${accepted}; got ${shown}`);
}

function interval(value) {
  if (value === undefined) return DEFAULT_INTERVAL_MS;
  const accepted = `a duration from ${formatDuration(MIN_INTERVAL_MS)} to ${formatDuration(MAX_INTERVAL_MS)} ('500ms', '30s', '1m') or a number of milliseconds`;
  if (typeof value !== 'number' && typeof value !== 'string') throw fail(TypeError, 'interval', accepted, value);
  const ms = parseDuration(value);
  if (!(ms >= MIN_INTERVAL_MS && ms <= MAX_INTERVAL_MS)) throw fail(RangeError, 'interval', accepted, value);
  return ms;
}

/** `{kind: 'stderr'|'stdout'|'off'|'file'|'function'|'logger', path?, fn?, logger?}` */
function log(value) {
  const accepted = "'stderr', 'stdout', 'off', a file path, a function(line) or a logger with .info()";
  if (value === undefined || value === 'stderr') return { kind: 'stderr' };
  if (value === 'stdout' || value === 'off') return { kind: value };
  if (value === false) return { kind: 'off' };
  if (typeof value === 'string' && value.trim() !== '') return { kind: 'file', path: value };
  if (typeof value === 'function') return { kind: 'function', fn: value };
  if (value && typeof value === 'object' && typeof value.info === 'function') return { kind: 'logger', logger: value };
  throw fail(TypeError, 'log', accepted, value);
}

function gcSource(value) {
  if (value === undefined) return 'auto';
  if (GC_SOURCES.includes(value)) return value;
  throw fail(TypeError, 'gcSource', GC_SOURCES.map((s) => `'${s}'`).join(', '), value);
}

function normalizeOptions(options = {}) {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`leakwatch: options must be an object with any of ${KNOWN.join(', ')}; got ${options}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) {
      throw new TypeError(`leakwatch: unknown option "${key}"; accepted options are ${KNOWN.join(', ')}`);
    }
  }
  return { intervalMs: interval(options.interval), log: log(options.log), gcSource: gcSource(options.gcSource) };
}

module.exports = { normalizeOptions, MIN_INTERVAL_MS, MAX_INTERVAL_MS, DEFAULT_INTERVAL_MS, GC_SOURCES };
