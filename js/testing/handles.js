'use strict';
// Open handles at one moment: libuv's active resources by type (sockets, servers, timers,
// fs watchers, in-flight requests) and the process's file descriptors from /proc/self/fd,
// so a file opened with fs.open and never closed shows too (it has no libuv handle).
// Read synchronously in JS: this is test tooling, called a few times per check.

const fs = require('node:fs');

const FD_DIR = '/proc/self/fd';

/** {types: Map(type -> count), fds: Map(fd -> target) | null}. */
function takeHandles() {
  return { types: activeTypes(), fds: openFds() };
}

function activeTypes() {
  const types = new Map();
  if (typeof process.getActiveResourcesInfo !== 'function') return types;
  for (const type of process.getActiveResourcesInfo()) types.set(type, (types.get(type) || 0) + 1);
  return types;
}

// null where /proc is not there (not Linux): the fd check is then skipped, not failed.
function openFds() {
  let names;
  try {
    names = fs.readdirSync(FD_DIR);
  } catch {
    return null;
  }
  const fds = new Map();
  for (const name of names) {
    const target = readTarget(name);
    if (target !== null) fds.set(name, target); // null: the directory's own fd, already closed
  }
  return fds;
}

function readTarget(name) {
  try {
    return fs.readlinkSync(`${FD_DIR}/${name}`);
  } catch {
    return null;
  }
}

/** 'socket', 'pipe', 'file' or 'other' (eventfd, epoll, …) for a /proc/self/fd link target. */
function fdKind(target) {
  if (target.startsWith('socket:')) return 'socket';
  if (target.startsWith('pipe:')) return 'pipe';
  if (target.startsWith('/')) return 'file';
  return 'other';
}

/** Counts per type of a takeHandles() result, with 'fds' for the descriptors (when readable). */
function handleCounts(snapshot) {
  const counts = new Map(snapshot.types);
  if (snapshot.fds !== null) counts.set('fds', snapshot.fds.size);
  return counts;
}

/**
 * Waits until the handle counts hold still (at most ~0.3 s): a socket being closed or a
 * response still draining is counted once it is gone, not as open. The wait is a ref'd timer
 * (an unref'd one could let the process exit mid-check) read after it fired.
 */
async function settleHandles() {
  let last = null;
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setImmediate(resolve)); // the timer above is no longer listed
    const now = signature();
    if (now === last) return;
    last = now;
  }
}

function signature() {
  const types =
    typeof process.getActiveResourcesInfo === 'function' ? process.getActiveResourcesInfo().sort().join() : '';
  const fds = openFds();
  return `${types}|${fds === null ? '' : fds.size}`;
}

/** The descriptors open in `after` but not in `before`, by kind, with a few file paths as examples. */
function newFds(before, after, examples = 3) {
  /** @type {Record<string, number>} */
  const byKind = {};
  const files = [];
  if (before.fds === null || after.fds === null) return { byKind, files };
  for (const [fd, target] of after.fds) {
    if (before.fds.get(fd) === target) continue;
    const kind = fdKind(target);
    byKind[kind] = (byKind[kind] || 0) + 1;
    if (kind === 'file' && files.length < examples && !files.includes(target)) files.push(target);
  }
  return { byKind, files };
}

module.exports = { takeHandles, handleCounts, settleHandles, newFds, fdKind };
