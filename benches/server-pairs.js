'use strict';
// What one leakwatch setting costs a server under steady load: the response-cache server from
// examples/workloads/ runs under `leakwatch/register` with the setting on and off, alternating,
// in fresh processes, and we compare CPU time per request (all threads of the server), the
// full GCs V8 did and their pause time. Used by gc-hints.js and heap-profile.js.

const { fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { drive } = require('../examples/workloads/lib');

const RATE = 500;
const REGISTER = path.join(__dirname, '..', 'js', 'register.js');
const SERVER = path.join(__dirname, '..', 'examples', 'workloads', 'response-cache-server.js');
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime of `pid` (all its threads), in ms. */
function cpuMs(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** One run of the server with `env` added, leaking or not; resolves its figures and last line. */
function runOnce({ leak, env, seconds }, logPath) {
  return new Promise((resolve, reject) => {
    const child = fork(SERVER, [], {
      execArgv: ['-r', REGISTER],
      env: { ...process.env, ...env, LEAK: leak ? '1' : '0', LEAKWATCH_LOG: logPath, LEAKWATCH_INTERVAL: '1s' },
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    let result = null;
    child.on('message', async ({ port }) => {
      const cpuBefore = cpuMs(child.pid);
      const stats = await drive(port, { seconds, rate: RATE });
      result = { cpuPerRequestUs: ((cpuMs(child.pid) - cpuBefore) * 1000) / stats.done, requests: stats.done };
      child.send('stop');
    });
    child.on('error', reject);
    child.on('exit', () => {
      const lines = fs
        .readFileSync(logPath, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{"lw"'));
      const last = JSON.parse(lines.at(-1));
      const gc = last.gc.sinceStart;
      resolve({ ...result, fullGcs: gc.kinds.markSweepCompact?.count ?? 0, pauseMs: gc.pauseMs.total, last });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const spread = (xs) => `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)})`;

/**
 * `rounds` pairs of `seconds` (setting on: `on` env, off: `off` env) on the healthy and the
 * leaking server. Prints one table row per server; `extra(runsOn)` adds a last column.
 */
async function pairedCost({ title, rounds, seconds, on, off, extra }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakwatch-pairs-'));
  console.log(
    `\n== ${title}: ${rounds} rounds of ${seconds} s at ${RATE} requests/s per arm, on and off alternating\n`
  );
  console.log(`| server | CPU per request, on / off | full GCs on, off | GC pause ms on, off | ${extra.name} |`);
  console.log('|---|---|---|---|---|');
  for (const leak of [false, true]) {
    const ratios = [];
    const runs = { on: [], off: [] };
    for (let round = 0; round < rounds; round++) {
      // Alternate which arm goes first, so that neither always gets the warmer machine.
      const order = round % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
      const pair = {};
      for (const arm of order)
        pair[arm] = await runOnce(
          { leak, env: arm === 'on' ? on : off, seconds },
          path.join(dir, `${leak}-${arm}-${round}.log`)
        );
      ratios.push(pair.on.cpuPerRequestUs / pair.off.cpuPerRequestUs);
      runs.on.push(pair.on);
      runs.off.push(pair.off);
      const brief = (r) => ({ cpuPerRequestUs: r.cpuPerRequestUs, fullGcs: r.fullGcs, pauseMs: r.pauseMs });
      console.error(`round ${round + 1}: on ${JSON.stringify(brief(pair.on))} off ${JSON.stringify(brief(pair.off))}`);
    }
    const m = (arm, key) => median(runs[arm].map((r) => r[key]));
    const name = leak ? 'response cache, unbounded (leaking)' : 'response cache, 10 s TTL (healthy)';
    console.log(
      `| ${name} | ${spread(ratios)}× | ${m('on', 'fullGcs')}, ${m('off', 'fullGcs')} | ${m('on', 'pauseMs').toFixed(0)}, ${m('off', 'pauseMs').toFixed(0)} | ${extra.value(runs.on)} |`
    );
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

module.exports = { pairedCost, median };
