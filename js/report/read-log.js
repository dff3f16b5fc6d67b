'use strict';

// Streams a log line by line and hands each leakwatch record to `onRecord`.
//
// Memory stays bounded whatever the input: only the current chunk and one
// partial line are held, and a line longer than `maxLineBytes` (no leakwatch
// line comes close) is dropped rather than buffered. Lines that are not
// leakwatch's — an app's own output mixed into the same stream — are counted
// and skipped, as docs/log-format.md asks of readers.

const MAX_LINE_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;
const EVENTS = new Set(['memory', 'warning']);

/**
 * @param {AsyncIterable<Buffer | string>} stream
 * @param {{onRecord: Function, onProgress?: (stats: object) => void, maxLineBytes?: number}} options
 */
async function readLog(stream, { onRecord, onProgress = () => {}, maxLineBytes = MAX_LINE_BYTES }) {
  const stats = { bytes: 0, lines: 0, records: 0, memory: 0, warning: 0, foreign: 0, malformed: 0, overlong: 0 };
  const splitter = new LineSplitter(
    maxLineBytes,
    (line) => handleLine(line, stats, onRecord),
    () => {
      stats.lines += 1;
      stats.overlong += 1;
    }
  );
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    stats.bytes += buf.length;
    splitter.push(buf);
    onProgress(stats);
  }
  splitter.end();
  return stats;
}

function handleLine(line, stats, onRecord) {
  const result = parseLine(line);
  if (result === BLANK) return;
  stats.lines += 1;
  if (result === FOREIGN) stats.foreign += 1;
  else if (result === MALFORMED) stats.malformed += 1;
  else {
    stats.records += 1;
    stats[result.event] += 1;
    onRecord(result);
  }
}

const BLANK = Symbol('blank');
const FOREIGN = Symbol('foreign');
const MALFORMED = Symbol('malformed');

// Returns the record, or BLANK / FOREIGN (not ours) / MALFORMED (looks like
// ours — e.g. a line cut short when a process was killed — but is unusable).
function parseLine(line) {
  const text = line.toString('utf8').trim();
  if (text === '') return BLANK;
  if (text[0] !== '{') return FOREIGN; // cheap test before a JSON parse
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return text.includes('"lw"') ? MALFORMED : FOREIGN;
  }
  if (value === null || typeof value !== 'object' || value.lw !== 1) return FOREIGN;
  const usable = EVENTS.has(value.event) && isEpochMs(value.time) && Number.isFinite(value.pid);
  return usable ? value : MALFORMED;
}

// A time a Date can hold (±8.64e15 ms): a line claiming 1e308 is broken, not from the future.
function isEpochMs(t) {
  return Number.isFinite(t) && Math.abs(t) <= 8.64e15;
}

// Cuts a stream of Buffers into lines (without the newline).
class LineSplitter {
  constructor(maxLineBytes, onLine, onOverlong) {
    this.maxLineBytes = maxLineBytes;
    this.onLine = onLine;
    this.onOverlong = onOverlong;
    this.pending = []; // pieces of a line that started in an earlier chunk
    this.pendingBytes = 0;
    this.discarding = false; // inside a line already known to be too long
  }

  push(buf) {
    let start = 0;
    let nl;
    while ((nl = buf.indexOf(NEWLINE, start)) !== -1) {
      this.finishLine(buf.subarray(start, nl));
      start = nl + 1;
    }
    this.keepPartial(buf.subarray(start));
  }

  finishLine(tail) {
    if (this.discarding) {
      this.discarding = false;
      this.onOverlong();
    } else if (this.pendingBytes + tail.length > this.maxLineBytes) {
      this.onOverlong();
    } else if (this.pending.length === 0) {
      this.onLine(tail);
    } else {
      this.pending.push(tail);
      this.onLine(Buffer.concat(this.pending));
    }
    this.pending = [];
    this.pendingBytes = 0;
  }

  keepPartial(piece) {
    if (piece.length === 0 || this.discarding) return;
    if (this.pendingBytes + piece.length > this.maxLineBytes) {
      this.discarding = true;
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    // Copy: the stream may reuse the chunk's memory once we return.
    this.pending.push(Buffer.from(piece));
    this.pendingBytes += piece.length;
  }

  // A last line without a trailing newline still counts.
  end() {
    if (this.discarding) this.finishLine(Buffer.alloc(0));
    else if (this.pendingBytes > 0) this.finishLine(Buffer.alloc(0));
  }
}

module.exports = { readLog, parseLine, LineSplitter, MAX_LINE_BYTES };
