'use strict';
// Shared by the JS tests: run a real Node child with leakwatch attached and read its log.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const REGISTER = path.join(ROOT, 'js', 'register.js');

const made = [];
process.on('exit', () => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** A fresh temp dir, removed when the test process exits. */
function tempDir(prefix = 'lw-test-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Runs `node [args] -e code` (or a file) and resolves {code, signal, stdout, stderr, ms}. */
function runNode(args, { env = {}, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child timed out after ${timeoutMs} ms\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** leakwatch lines of a text (other lines, like an app's own output, are skipped). */
function logLines(text) {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return null;
      }
    })
    .filter((l) => l && l.lw === 1);
}

function memoryLines(text) {
  return logLines(text).filter((l) => l.event === 'memory');
}

/**
 * Installs listener tracking (js/listeners) on a plain Int32Array, as the native side would hand
 * it over; what it describes and warns is collected. The caller uninstalls `handle`.
 */
function installTracking(options = {}, maxGroups = 512) {
  const { install } = require('../js/listeners');
  const counts = new Int32Array(new ArrayBuffer(8 * maxGroups));
  const described = new Map();
  const warnings = [];
  const handle = install({
    counts,
    maxGroups,
    describeGroup: (slot, info) => described.set(slot, info),
    warn: (code, message, details, eventName) => warnings.push({ code, message, details, eventName, printed: true }),
    // leakwatch's warning at an add Node warned in goes to the log and lw only (emitter-warning.js)
    notify: (code, message, details, eventName) =>
      code.startsWith('LEAKWATCH') && warnings.push({ code, message, details, eventName, printed: false }),
    // The fast methods' check at once, in this thread: the tests get the methods a running app
    // has (emitter-mode.js runs it off-thread a second after start; listeners-mode.test.js).
    checkDelayMs: 0,
    checkIn: 'process',
    // Collected emitters learnt of as a running app learns of them (the addon's marker watch).
    native: require('../js/native').binding,
    ...options,
  });
  return { counts, described, warnings, handle };
}

/** Live/adds/removes of the (emitter class, event) group of an installed tracker, from its snapshot. */
function groupCounts(handle, emitter, event) {
  const row = handle.snapshot().find((r) => r.emitter === emitter && r.event === event);
  return row ? { live: row.live, adds: row.adds, removes: row.removes } : { live: 0, adds: 0, removes: 0 };
}

/**
 * The emitter mode once listener tracking's check has answered. The check's timer and child
 * process never keep a process alive, so a test that only waits for it holds the loop open.
 */
async function settledMode(handle) {
  const hold = setInterval(() => {}, 1 << 30);
  try {
    return await handle.ready;
  } finally {
    clearInterval(hold);
  }
}

module.exports = { ROOT, REGISTER, tempDir, runNode, logLines, memoryLines, installTracking, groupCounts, settledMode };
