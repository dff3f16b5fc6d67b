'use strict';
// Heap snapshots on a confirmed heap leak (opt-in: the `snapshot` option, LEAKWATCH_SNAPSHOT_DIR).
//
// The snapshot is V8's own (v8.writeHeapSnapshot), so Chrome DevTools and every heap-snapshot
// tool read it. Writing one stops the JS thread for about a second per 100 MB of heap and
// needs about the heap's size again in memory, so it is guarded:
//   - at most `max` per process (counted by the files this pid wrote in `dir`, so worker
//     threads and a stop()/start() share the count), and `minIntervalMs` apart;
//   - never when free memory (and the cgroup's limit, where one is set) is short of what the
//     snapshot needs;
//   - the directory is created 0700 if missing (its parent must exist), each file is created
//     0600 before V8 writes into it: a heap holds whatever the app holds (tokens, personal data).
// Nothing here throws: a snapshot that cannot be taken is a reason in the result.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** What a snapshot needs free, as a multiple of the heap in use, plus a fixed slack. */
const MEMORY_FACTOR = 1.5;
const MEMORY_SLACK = 64 * 1024 * 1024;

let lastTakenAt = 0; // per isolate: minIntervalMs is about pacing this thread's pauses

/**
 * Writes a snapshot if the guards allow it. Returns `{path}` or `{skipped: reason}`.
 * `options` is the normalized `snapshot` option: `{dir, max, minIntervalMs}`; `freeMemory`
 * is measured unless given (tests give it).
 */
function takeSnapshot(options, { threadId = 0, now = Date.now(), freeMemory } = {}) {
  try {
    const reason = refusal(options, now, freeMemory ?? availableMemory());
    if (reason) return { skipped: reason };
    const file = path.join(options.dir, fileName(threadId, now));
    createPrivate(file);
    lastTakenAt = now;
    try {
      require('node:v8').writeHeapSnapshot(file);
      fs.chmodSync(file, 0o600); // in case the writer replaced the file
    } catch (err) {
      fs.rmSync(file, { force: true }); // a partial snapshot (a full disk) is of no use
      throw err;
    }
    return { path: file };
  } catch (err) {
    return { skipped: `the snapshot could not be written: ${err.message}` };
  }
}

/** Why no snapshot may be taken now, or null. */
function refusal({ dir, max, minIntervalMs }, now, free) {
  createDir(dir);
  const taken = ownSnapshots(dir).length;
  if (taken >= max) return `${taken} snapshot(s) already written by this process (max ${max})`;
  if (lastTakenAt && now - lastTakenAt < minIntervalMs) return `the last snapshot was less than ${minIntervalMs} ms ago`;
  const needed = MEMORY_FACTOR * process.memoryUsage().heapUsed + MEMORY_SLACK;
  if (free < needed) return `not enough free memory (${mb(free)} free, about ${mb(needed)} needed)`;
  return null;
}

/** Snapshot files this process wrote in `dir`. */
function ownSnapshots(dir) {
  const prefix = `leakwatch-${process.pid}-`;
  return fs.readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.heapsnapshot'));
}

function fileName(threadId, now) {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  return `leakwatch-${process.pid}-${threadId}-${stamp}.heapsnapshot`;
}

/**
 * Creates `dir` (owner-only) if missing; its parent must exist. Not `recursive: true`: on some
 * paths (under /proc) Node's recursive mkdir never returns, and this runs on the app's thread.
 */
function createDir(dir) {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
  }
}

/** Creates an empty file readable by the owner only; fails if it exists. */
function createPrivate(file) {
  fs.closeSync(fs.openSync(file, 'wx', 0o600));
}

/** Free memory: the machine's, and the cgroup's headroom when a limit is set (v2, then v1). */
function availableMemory() {
  let free = os.freemem();
  const cgroup =
    headroom('/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory.current') ??
    headroom('/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/memory/memory.usage_in_bytes');
  if (cgroup !== null) free = Math.min(free, cgroup);
  return free;
}

/** limit - usage from two cgroup files; null when unreadable or unlimited. */
function headroom(limitFile, usageFile) {
  try {
    const limit = Number(fs.readFileSync(limitFile, 'utf8').trim()); // 'max' (v2) gives NaN
    const usage = Number(fs.readFileSync(usageFile, 'utf8').trim());
    // v1 reports "no limit" as a huge number near 2^63.
    if (!Number.isFinite(limit) || !Number.isFinite(usage) || limit >= 2 ** 60) return null;
    return Math.max(0, limit - usage);
  } catch {
    return null;
  }
}

function mb(bytes) {
  return `${(bytes / 1048576).toFixed(0)} MB`;
}

module.exports = { takeSnapshot, availableMemory };
