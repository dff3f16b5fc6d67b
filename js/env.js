'use strict';
// Reads LEAKWATCH_* for `leakwatch/register`. Unlike start(), a bad value here only warns
// (naming the variable and the accepted values) and falls back to the default: a typo in a
// deployment's environment must never take a production app down.

const { normalizeOptions } = require('./options');
const { warn } = require('./warnings');

const VARIABLES = {
  LEAKWATCH_LOG: 'log',
  LEAKWATCH_INTERVAL: 'interval',
  LEAKWATCH_GC_SOURCE: 'gcSource',
};

function optionsFromEnv(env = process.env) {
  const options = {};
  for (const [variable, option] of Object.entries(VARIABLES)) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    try {
      normalizeOptions({ [option]: raw });
      options[option] = raw;
    } catch (err) {
      const reason = err.message.replace(`leakwatch: option "${option}"`, `${variable}`);
      warn('LEAKWATCH_BAD_CONFIG', `${reason}; using the default`, { variable, value: raw });
    }
  }
  const listeners = onOff('LEAKWATCH_LISTENERS', env.LEAKWATCH_LISTENERS);
  if (listeners !== undefined) options.listeners = listeners;
  const gcHints = onOff('LEAKWATCH_GC_HINTS', env.LEAKWATCH_GC_HINTS);
  if (gcHints !== undefined) options.gcHints = gcHints;
  const heapProfile = onOff('LEAKWATCH_HEAP_PROFILE', env.LEAKWATCH_HEAP_PROFILE);
  if (heapProfile !== undefined) options.heapProfile = heapProfile;
  const metrics = metricsFromEnv(env.LEAKWATCH_METRICS_PORT);
  if (metrics) options.metrics = metrics;
  const snapshot = snapshotFromEnv(env.LEAKWATCH_SNAPSHOT_DIR);
  if (snapshot) options.snapshot = snapshot;
  return options;
}

/** LEAKWATCH_SNAPSHOT_DIR: heap snapshots on a confirmed heap leak go there (one per process). */
function snapshotFromEnv(raw) {
  if (raw === undefined || raw.trim() === '') return null;
  try {
    normalizeOptions({ snapshot: { dir: raw } });
    return { dir: raw };
  } catch (err) {
    const reason = err.message.replace('leakwatch: option "snapshot.dir"', 'LEAKWATCH_SNAPSHOT_DIR');
    warn('LEAKWATCH_BAD_CONFIG', `${reason}; no heap snapshots`, { variable: 'LEAKWATCH_SNAPSHOT_DIR', value: raw });
    return null;
  }
}

/**
 * LEAKWATCH_METRICS_PORT: `9464` (bound to 127.0.0.1) or `host:port` to bind elsewhere, e.g.
 * `0.0.0.0:9464` or `[::]:9464`. Unset or empty: no endpoint.
 */
function metricsFromEnv(raw) {
  if (raw === undefined || raw.trim() === '') return null;
  const match = /^\s*(?:\[([^\]]+)\]:|([^:\s]+):)?(\d+)\s*$/.exec(raw);
  const metrics = match ? { port: Number(match[3]) } : null;
  if (match && (match[1] || match[2])) metrics.host = match[1] || match[2];
  try {
    if (!metrics) throw new Error('LEAKWATCH_METRICS_PORT must be a port (9464) or host:port (0.0.0.0:9464)');
    normalizeOptions({ metrics });
    return metrics;
  } catch (err) {
    const reason = err.message.replace(/leakwatch: option "metrics\.\w+"/, 'LEAKWATCH_METRICS_PORT');
    warn('LEAKWATCH_BAD_CONFIG', `${reason}; no metrics endpoint`, { variable: 'LEAKWATCH_METRICS_PORT', value: raw });
    return null;
  }
}

/**
 * An on/off variable, on by default: LEAKWATCH_LISTENERS (listener tracking) and
 * LEAKWATCH_GC_HINTS (memory-pressure hints to V8 when a heap baseline is overdue) and
 * LEAKWATCH_HEAP_PROFILE (the sampling heap profile that names a heap leak's allocation sites).
 */
function onOff(variable, raw) {
  if (raw === undefined || raw === '') return undefined;
  const value = raw.trim().toLowerCase();
  if (['on', 'true', '1'].includes(value)) return true;
  if (['off', 'false', '0'].includes(value)) return false;
  warn('LEAKWATCH_BAD_CONFIG', `${variable} must be on or off; got ${JSON.stringify(raw)}; using the default (on)`, {
    variable,
    value: raw,
  });
  return undefined;
}

module.exports = { optionsFromEnv };
