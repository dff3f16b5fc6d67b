'use strict';
// Durations as people write them: 500ms, 30s, 1m, 1h, 1.5s, or a number of milliseconds.

const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/;

/** Milliseconds, or NaN when the text is not a duration. */
function parseDuration(value) {
  if (typeof value === 'number') return Number.isFinite(value) ? value : NaN;
  if (typeof value !== 'string') return NaN;
  const match = PATTERN.exec(value);
  if (!match) return NaN;
  return Math.round(Number(match[1]) * UNITS[match[2] || 'ms']);
}

function formatDuration(ms) {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

module.exports = { parseDuration, formatDuration };
