'use strict';
// The bench harness: every arm runs in a fresh child process with its tool preloaded (see
// benches/arms/), arms alternate (A B C A B C …) so that drift on a shared, noisy machine hits
// them alike, and results are reported as the median ratio against the baseline arm of the
// same round, with min–max over the rounds.

const { spawnSync, fork } = require('node:child_process');
const { preloadFlags } = require('./arms');

/**
 * Runs `node [...flags, ...preload, script, arm]` and parses the JSON line it prints last;
 * `preload` is the arm's preload file unless given.
 */
function runArm(script, arm, { flags = [], env = {}, preload = preloadFlags(arm) } = {}) {
  const out = spawnSync(process.execPath, [...flags, ...preload, script, arm], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (out.status !== 0) throw new Error(`${script} ${arm} failed (${out.status}): ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').at(-1));
}

/** The next IPC message from `child`, or an error if it exits first. */
function nextMessage(child) {
  return new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`${child.spawnfile} exited (${code}) before answering`));
    child.once('exit', onExit);
    child.once('message', (msg) => {
      child.off('exit', onExit);
      resolve(msg);
    });
  });
}

/**
 * Starts the server workload `script` with `arm` preloaded, and calls the script's
 * drive(port, window, options): window.start() and window.stop() open and close the server's
 * measured window; drive() returns the result. The server process is ended in any case.
 */
async function runServerArm(script, arm, options) {
  const child = forkServer(script, arm);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const { port } = await nextMessage(child);
    return await require(script).drive(port, serverWindow(child), options);
  } finally {
    const timer = setTimeout(() => child.kill(), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Starts one server of `script` per entry of `arms` (an arm may appear twice: an A/A check),
 * all at once, and calls the script's driveBursts(servers, options) with [{arm, port, window}]
 * (serverWindow: window.lap() closes one window, the server stays up). Resolves to what
 * driveBursts returns; every server is ended in any case.
 */
async function runServersTogether(script, arms, options) {
  const children = arms.map((arm) => forkServer(script, arm));
  const exits = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
  try {
    const servers = [];
    for (const [i, child] of children.entries()) {
      const { port } = await nextMessage(child);
      servers.push({ arm: arms[i], port, window: serverWindow(child) });
    }
    return await require(script).driveBursts(servers, options);
  } finally {
    for (const child of children) child.kill();
    await Promise.all(exits);
  }
}

/** A server workload's process with `arm` preloaded, talking to us over IPC (child.js). */
function forkServer(script, arm) {
  return fork(script, [arm], { execArgv: preloadFlags(arm), stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
}

/**
 * The measured window of a server process (child.js serveWindow): start() opens it, lap()
 * and stop() close it and resolve to its result; after stop() the server ends.
 */
function serverWindow(child) {
  const close = async (msg) => {
    child.send(msg);
    return (await nextMessage(child)).result;
  };
  return {
    async start() {
      child.send('start');
      await nextMessage(child);
    },
    lap: () => close('lap'),
    stop: () => close('stop'),
  };
}

/** `rounds` alternating runs of every arm; returns {arm: [result, …]}. */
async function alternate(arms, rounds, run) {
  const results = Object.fromEntries(arms.map((a) => [a, []]));
  for (let r = 0; r < rounds; r++) {
    for (const arm of arms) results[arm].push(await run(arm));
  }
  return results;
}

/**
 * Installs listener tracking alone (js/listeners, scratch counters) and resolves once it runs
 * the fast methods, as a running app has them after their check (in a child process) has
 * answered. The check never keeps a process alive, so this one is held open meanwhile.
 */
async function installFastTracking() {
  const { install } = require('../js/listeners');
  const maxGroups = 4096;
  const handle = install({
    counts: new Int32Array(2 * maxGroups),
    maxGroups,
    describeGroup() {},
    warn() {},
    notify() {},
    checkDelayMs: 0,
  });
  const hold = setInterval(() => {}, 1 << 30);
  const mode = await handle.ready;
  clearInterval(hold);
  if (mode !== 'fast') throw new Error('listener tracking stayed in wrap mode');
  return handle;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Per-round ratios of `metric` against the baseline arm of the same round. */
function ratios(results, arm, baseline, metric) {
  return results[arm].map((r, i) => metric(r) / metric(results[baseline][i]));
}

/** Per-round differences of `metric` against the baseline arm of the same round. */
function differences(results, arm, baseline, metric) {
  return results[arm].map((r, i) => metric(r) - metric(results[baseline][i]));
}

/** "median unit (min–max)" of `values`, with `digits` decimals. */
function fmtSpread(values, digits, unit = '') {
  const s = [...values].sort((a, b) => a - b);
  const f = (v) => v.toFixed(digits);
  return `${f(median(s))}${unit} (${f(s[0])}–${f(s.at(-1))})`;
}

function fmtRatio(values) {
  return fmtSpread(values, 3, '×');
}

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Lines of a child's output, one per next() call, in order. */
function readLines(stream) {
  const pending = [];
  const waiting = [];
  let buffer = '';
  stream.setEncoding('utf8').on('data', (chunk) => {
    buffer += chunk;
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      if (waiting.length) waiting.shift()(line);
      else pending.push(line);
    }
  });
  return {
    next: () => (pending.length ? Promise.resolve(pending.shift()) : new Promise((resolve) => waiting.push(resolve))),
  };
}

module.exports = {
  readLines,
  installFastTracking,
  runArm,
  runServerArm,
  runServersTogether,
  alternate,
  median,
  ratios,
  differences,
  fmtSpread,
  fmtRatio,
  table,
};
