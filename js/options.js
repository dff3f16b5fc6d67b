'use strict';
// Validates the options of start(). A bad value throws a TypeError/RangeError that names the
// option and the accepted values: a programmer's typo should fail at once, loudly.

const { parseDuration, formatDuration } = require('./duration');

const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 24 * 3_600_000;
const DEFAULT_INTERVAL_MS = 60_000;
const GC_SOURCES = ['auto', 'v8', 'perf_hooks'];
const KNOWN = ['interval', 'log', 'gcSource', 'gcHints', 'heapProfile', 'heap', 'listeners', 'metrics', 'snapshot'];
const HEAP_KNOWN = ['window', 'warmup', 'sustain', 'minGrowth', 'minGrowthRatio', 'confidence'];
const SIZE_UNITS = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };
const SNAPSHOT_KNOWN = ['dir', 'max', 'minIntervalMs'];
const SNAPSHOT_DEFAULTS = { max: 1, minIntervalMs: 10 * 60_000 };

function fail(Kind, option, accepted, value) {
  const shown = typeof value === 'function' ? 'a function' : (JSON.stringify(value) ?? String(value));
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

/** Memory-pressure hints to V8 when a heap baseline is overdue: on unless `false`. */
function gcHints(value) {
  if (value === undefined) return true;
  if (typeof value === 'boolean') return value;
  throw fail(TypeError, 'gcHints', 'true or false', value);
}

const SAMPLE_INTERVAL = { default: 512 * 1024, min: 1024, max: 64 * 1024 ** 2 };

/**
 * V8's sampling heap profiler, so heap warnings name allocation sites: on unless `false`;
 * `{sampleInterval}` samples more (or less) often than V8's usual one per 512 KB.
 * `{enabled, sampleIntervalBytes}`.
 */
function heapProfile(value) {
  const accepted = "true, false or {sampleInterval} (bytes, or '64KB'; 1KB to 64MB)";
  if (value === undefined || value === true) return { enabled: true, sampleIntervalBytes: SAMPLE_INTERVAL.default };
  if (value === false) return { enabled: false, sampleIntervalBytes: SAMPLE_INTERVAL.default };
  if (value === null || typeof value !== 'object') throw fail(TypeError, 'heapProfile', accepted, value);
  for (const key of Object.keys(value)) {
    if (key !== 'sampleInterval')
      throw new TypeError(`leakwatch: unknown option "heapProfile.${key}"; accepted is sampleInterval`);
  }
  if (value.sampleInterval === undefined) return { enabled: true, sampleIntervalBytes: SAMPLE_INTERVAL.default };
  const bytes = size('heapProfile.sampleInterval', value.sampleInterval);
  if (bytes < SAMPLE_INTERVAL.min || bytes > SAMPLE_INTERVAL.max) {
    throw fail(
      RangeError,
      'heapProfile.sampleInterval',
      "a size from 1KB to 64MB (bytes, or '64KB')",
      value.sampleInterval
    );
  }
  return { enabled: true, sampleIntervalBytes: Math.round(bytes) };
}

function duration(option, value, min, max) {
  const accepted = `a duration from ${formatDuration(min)} to ${formatDuration(max)} or a number of milliseconds`;
  const ms = parseDuration(value);
  if (!(ms >= min && ms <= max))
    throw fail(
      typeof value === 'number' || typeof value === 'string' ? RangeError : TypeError,
      option,
      accepted,
      value
    );
  return ms;
}

/** Bytes from a number or '8MB', '512KB', '1.5GB'. */
function size(option, value) {
  const accepted = "a number of bytes or a size such as '8MB'";
  const match = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)\s*$/i.exec(value) : null;
  const bytes = typeof value === 'number' ? value : match ? Number(match[1]) * SIZE_UNITS[match[2].toUpperCase()] : NaN;
  if (!(bytes >= 0 && Number.isFinite(bytes)))
    throw fail(
      typeof value === 'number' || typeof value === 'string' ? RangeError : TypeError,
      option,
      accepted,
      value
    );
  return bytes;
}

function fraction(option, value, min, max, accepted) {
  if (typeof value !== 'number') throw fail(TypeError, option, accepted, value);
  if (!(value >= min && value < max)) throw fail(RangeError, option, accepted, value);
  return value;
}

/**
 * The trend thresholds (`heap` option), shared by the heap, external and RSS series.
 * Unset ones keep the native defaults (see src/verdict/trend/ for why they are what they are).
 */
function heap(value) {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object')
    throw fail(TypeError, 'heap', `an object with any of ${HEAP_KNOWN.join(', ')}`, value);
  for (const key of Object.keys(value)) {
    if (!HEAP_KNOWN.includes(key))
      throw new TypeError(`leakwatch: unknown option "heap.${key}"; accepted are ${HEAP_KNOWN.join(', ')}`);
  }
  const t = {};
  if (value.window !== undefined) t.windowMs = duration('heap.window', value.window, 1000, 24 * 3_600_000);
  if (value.warmup !== undefined) t.warmupMs = duration('heap.warmup', value.warmup, 0, 24 * 3_600_000);
  if (value.sustain !== undefined) t.sustainMs = duration('heap.sustain', value.sustain, 500, 24 * 3_600_000);
  if (value.minGrowth !== undefined) t.minGrowthBytes = size('heap.minGrowth', value.minGrowth);
  if (value.minGrowthRatio !== undefined)
    t.minGrowthRatio = fraction(
      'heap.minGrowthRatio',
      value.minGrowthRatio,
      0,
      10,
      'a number from 0 (e.g. 0.01 for 1 %)'
    );
  if (value.confidence !== undefined)
    t.confidence = fraction('heap.confidence', value.confidence, 0.5, 1, 'a number from 0.5 to below 1 (e.g. 0.99)');
  if ((t.sustainMs ?? 20_000) > (t.windowMs ?? 300_000)) {
    throw new RangeError('leakwatch: option "heap.sustain" must not be longer than "heap.window"');
  }
  return t;
}

function listeners(value) {
  if (value === undefined) return true;
  if (typeof value === 'boolean') return value;
  throw fail(TypeError, 'listeners', 'true (count every listener add and remove, the default) or false', value);
}

/**
 * The /metrics endpoint: `{port, host}` or null (the default: no server). 127.0.0.1 unless a
 * host is given, so metrics are never exposed beyond the machine by accident.
 */
function metrics(value) {
  if (value === undefined || value === false || value === null) return null;
  const accepted = "an object {port, host?} with a port from 1 to 65535 (host defaults to '127.0.0.1')";
  if (typeof value !== 'object') throw fail(TypeError, 'metrics', accepted, value);
  for (const key of Object.keys(value)) {
    if (key !== 'port' && key !== 'host')
      throw new TypeError(`leakwatch: unknown option "metrics.${key}"; accepted are port, host`);
  }
  if (!Number.isInteger(value.port) || value.port < 1 || value.port > 65535)
    throw fail(RangeError, 'metrics.port', 'an integer from 1 to 65535', value.port);
  if (value.host !== undefined && (typeof value.host !== 'string' || value.host.trim() === '')) {
    throw fail(TypeError, 'metrics.host', "a host name or address, e.g. '0.0.0.0'", value.host);
  }
  return { port: value.port, host: value.host ?? '127.0.0.1' };
}

/**
 * Heap snapshots on a confirmed heap leak: `{dir, max, minIntervalMs}` or null (the default:
 * none). A snapshot stops the process for about a second per 100 MB of heap, so they are
 * opt-in, one per process unless `max` says otherwise, and `minIntervalMs` apart.
 */
function snapshot(value) {
  if (value === undefined || value === false || value === null) return null;
  const accepted = 'an object {dir, max?, minIntervalMs?}';
  if (typeof value !== 'object') throw fail(TypeError, 'snapshot', accepted, value);
  for (const key of Object.keys(value)) {
    if (!SNAPSHOT_KNOWN.includes(key))
      throw new TypeError(`leakwatch: unknown option "snapshot.${key}"; accepted are ${SNAPSHOT_KNOWN.join(', ')}`);
  }
  if (typeof value.dir !== 'string' || value.dir.trim() === '')
    throw fail(TypeError, 'snapshot.dir', 'a directory path', value.dir);
  const max = value.max ?? SNAPSHOT_DEFAULTS.max;
  if (!Number.isInteger(max) || max < 1 || max > 1000)
    throw fail(RangeError, 'snapshot.max', 'an integer from 1 to 1000', value.max);
  const minIntervalMs =
    value.minIntervalMs === undefined
      ? SNAPSHOT_DEFAULTS.minIntervalMs
      : duration('snapshot.minIntervalMs', value.minIntervalMs, 0, 7 * 24 * 3_600_000);
  return { dir: require('node:path').resolve(value.dir), max, minIntervalMs };
}

/**
 * Validates `start()`'s options (a user's, so anything) and fills in the defaults; a bad value
 * throws an error that names the option and what it accepts.
 * @param {any} [options]
 */
function normalizeOptions(options = {}) {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`leakwatch: options must be an object with any of ${KNOWN.join(', ')}; got ${options}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) {
      throw new TypeError(`leakwatch: unknown option "${key}"; accepted options are ${KNOWN.join(', ')}`);
    }
  }
  return {
    intervalMs: interval(options.interval),
    log: log(options.log),
    gcSource: gcSource(options.gcSource),
    gcHints: gcHints(options.gcHints),
    heapProfile: heapProfile(options.heapProfile),
    trend: heap(options.heap),
    listeners: listeners(options.listeners),
    metrics: metrics(options.metrics),
    snapshot: snapshot(options.snapshot),
  };
}

module.exports = { normalizeOptions, MIN_INTERVAL_MS, MAX_INTERVAL_MS, DEFAULT_INTERVAL_MS, GC_SOURCES };
