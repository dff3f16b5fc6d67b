'use strict';

const { formatBytes, formatCount } = require('./format');

const REDRAW_MS = 100;
const BAR_WIDTH = 24;

// A one-line progress bar on stderr, redrawn in place. Only for a person at a
// terminal: when stderr is piped or redirected nothing is written at all, so
// logs and CI output stay clean.
function createProgress({ name, totalBytes, stream = process.stderr, enabled = true }) {
  if (!enabled || !stream.isTTY) return { update() {}, done() {} };
  let lastDraw = 0;
  let drawn = false;

  function update(stats) {
    const now = Date.now();
    if (now - lastDraw < REDRAW_MS) return;
    lastDraw = now;
    drawn = true;
    const line = progressLine(name, stats, totalBytes);
    const width = (stream.columns || 80) - 1;
    stream.write(`\r${line.slice(0, width).padEnd(width)}`);
  }

  // Erase the bar so the report starts on a clean line.
  function done() {
    if (drawn) stream.write(`\r${' '.repeat((stream.columns || 80) - 1)}\r`);
  }

  return { update, done };
}

function progressLine(name, stats, totalBytes) {
  const read = `${formatBytes(stats.bytes)}`;
  const lines = `${formatCount(stats.lines)} lines`;
  if (!totalBytes) return `reading ${name}  ${read}  ${lines}`;
  const fraction = Math.min(1, stats.bytes / totalBytes);
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = '#'.repeat(filled) + '.'.repeat(BAR_WIDTH - filled);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `reading ${name} [${bar}] ${percent}  ${read} / ${formatBytes(totalBytes)}  ${lines}`;
}

module.exports = { createProgress, progressLine };
