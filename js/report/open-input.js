'use strict';

const fs = require('node:fs');
const { UserError } = require('./errors');

const CHUNK_BYTES = 1024 * 1024; // big reads: fewer callbacks on a 1 GB log

// Turns the <log> argument into a readable stream, its size when known (for
// the progress bar), and a name for messages. `-` means standard input.
function openInput(logPath) {
  if (logPath === '-') {
    return { stream: process.stdin, size: null, name: 'stdin' };
  }
  let stat;
  try {
    stat = fs.statSync(logPath);
  } catch (err) {
    throw new UserError(describeOpenError(logPath, err));
  }
  if (stat.isDirectory()) throw new UserError(`${logPath} is a directory, not a log file`);
  try {
    // Opened synchronously so that a permission problem is reported here,
    // as a plain message, rather than later as a stream error.
    const fd = fs.openSync(logPath, 'r');
    const stream = fs.createReadStream(logPath, { fd, highWaterMark: CHUNK_BYTES });
    return { stream, size: stat.isFile() ? stat.size : null, name: logPath };
  } catch (err) {
    throw new UserError(describeOpenError(logPath, err));
  }
}

function describeOpenError(logPath, err) {
  if (err.code === 'ENOENT') return `no such file: ${logPath}`;
  if (err.code === 'EACCES') return `permission denied: ${logPath}`;
  return `cannot read ${logPath}: ${err.message}`;
}

module.exports = { openInput };
