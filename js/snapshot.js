'use strict';
// Heap snapshots on a confirmed heap leak (opt-in: the `snapshot` option, LEAKWATCH_SNAPSHOT_DIR).
// A second one follows 15 s later, and a child process writes what grew between the two
// beside them (snapshot-diff.js), so the user knows which class to open first.
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

/**
 * The second snapshot of a leak comes this long after the first: the leak has grown by then
 * (0.5 MB/s: ~8 MB), and what grew between the two is summarized (snapshot-diff.js).
 */
const SECOND_AFTER_MS = 15_000;

/** What a snapshot needs free, as a multiple of the heap in use, plus a fixed slack. */
const MEMORY_FACTOR = 1.5;
const MEMORY_SLACK = 64 * 1024 * 1024;

let lastTakenAt = 0; // per isolate: minIntervalMs is about pacing this thread's pauses

/**
 * Writes a snapshot if the guards allow it. Returns `{path}` or `{skipped: reason}`.
 * `options` is the normalized `snapshot` option: `{dir, max, minIntervalMs}`; `freeMemory`
 * is measured unless given (tests give it).
 * @param {{dir: string, max: number, minIntervalMs: number}} options
 * @param {{threadId?: number, now?: number, freeMemory?: number}} [context]
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

/**
 * Schedules the leak's second snapshot, `SECOND_AFTER_MS` after `first`, and then the summary
 * of what grew between the two, computed in a child process of its own (low priority,
 * detached: it finishes even if the app exits, and never keeps the app alive). `report(code,
 * message, details)` is called with LEAKWATCH_HEAP_SNAPSHOT_DIFF when the summary is written,
 * or LEAKWATCH_HEAP_SNAPSHOT_SKIPPED with the reason. Returns a function that cancels it.
 */
function followUpSnapshot(first, report) {
  const timer = setTimeout(() => {
    try {
      const second = first.replace(/\.heapsnapshot$/, '.after.heapsnapshot');
      const summary = first.replace(/\.heapsnapshot$/, '.diff.txt');
      const reason = writeSecond(second);
      if (reason) return report('LEAKWATCH_HEAP_SNAPSHOT_SKIPPED', `No second heap snapshot: ${reason}`, { reason });
      diffInChild(first, second, summary, report);
    } catch {
      // Never into the app's timers.
    }
  }, SECOND_AFTER_MS);
  timer.unref();
  return () => clearTimeout(timer);
}

/** Writes the second snapshot, guarded by free memory only (it belongs to the first); a reason or null. */
function writeSecond(file) {
  const needed = MEMORY_FACTOR * process.memoryUsage().heapUsed + MEMORY_SLACK;
  const free = availableMemory();
  if (free < needed) return `not enough free memory (${mb(free)} free, about ${mb(needed)} needed)`;
  try {
    createPrivate(file);
    require('node:v8').writeHeapSnapshot(file);
    fs.chmodSync(file, 0o600);
    return null;
  } catch (err) {
    fs.rmSync(file, { force: true });
    return `the snapshot could not be written: ${err.message}`;
  }
}

function diffInChild(first, second, summary, report) {
  const { spawn } = require('node:child_process');
  const child = spawn(process.execPath, [path.join(__dirname, 'snapshot-diff.js'), first, second, summary], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, NODE_OPTIONS: '' }, // not -r leakwatch/register again
  });
  child.unref();
  try {
    os.setPriority(child.pid, 19); // the app's CPU comes first
  } catch {
    // not allowed here: it runs at the app's priority
  }
  child.on('error', () => {});
  child.on('exit', (code) => {
    if (code !== 0)
      return report('LEAKWATCH_HEAP_SNAPSHOT_SKIPPED', 'The heap snapshot diff failed', {
        reason: `snapshot-diff exited with ${code}`,
        first,
        second,
      });
    fs.readFile(summary, 'utf8', (err, text) => {
      const top = err
        ? []
        : text
            .split('\n')
            .filter((l) => l.startsWith('  '))
            .slice(0, 3)
            .map((l) => l.trim().replace(/\s+/g, ' '));
      const grew = top.length > 0 ? `; grew most: ${top.join('; ')}` : '';
      report('LEAKWATCH_HEAP_SNAPSHOT_DIFF', `Heap snapshot diff written to ${summary}${grew}`, {
        path: summary,
        first,
        second,
        top,
      });
    });
  });
}

/** Why no snapshot may be taken now, or null. */
function refusal({ dir, max, minIntervalMs }, now, free) {
  createDir(dir);
  const taken = ownSnapshots(dir).length;
  if (taken >= max) return `${taken} snapshot(s) already written by this process (max ${max})`;
  if (lastTakenAt && now - lastTakenAt < minIntervalMs)
    return `the last snapshot was less than ${minIntervalMs} ms ago`;
  const needed = MEMORY_FACTOR * process.memoryUsage().heapUsed + MEMORY_SLACK;
  if (free < needed) return `not enough free memory (${mb(free)} free, about ${mb(needed)} needed)`;
  return null;
}

/** Snapshots this process wrote in `dir` (a leak's second one is not counted apart). */
function ownSnapshots(dir) {
  const prefix = `leakwatch-${process.pid}-`;
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.heapsnapshot') && !f.endsWith('.after.heapsnapshot'));
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

module.exports = { takeSnapshot, followUpSnapshot, availableMemory, SECOND_AFTER_MS };
