'use strict';
// What the memory-pressure hints (`gcHints`, on by default) cost: a server under steady load
// runs with hints on and with hints off, alternating, in fresh processes, and we compare CPU
// time per request (all threads of the server), the full GCs V8 did, their pause time, and
// the hints sent.
//
//   node benches/gc-hints.js            (ROUNDS=5 pairs, SECONDS=30 each; about 10 minutes)
//   BENCH_ONLY=gcHints npm run bench    (the same, 3 rounds of 20 s; QUICK=1: 2 of 10 s)
//
// Two servers from examples/workloads/: a healthy one (a response cache with a 10 s TTL: the
// hints back off to one a minute as the baselines stay flat) and a leaking one (the same cache
// never evicted: the hints come every few seconds while the baselines climb, which is when
// they are meant to).

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

/** One run: the server with hints `on`, leaking or not; resolves its figures. */
function runOnce({ leak, hints, seconds }, logPath) {
  return new Promise((resolve, reject) => {
    const child = fork(SERVER, [], {
      execArgv: ['-r', REGISTER],
      env: { ...process.env, LEAK: leak ? '1' : '0', LEAKWATCH_GC_HINTS: hints ? 'on' : 'off', LEAKWATCH_LOG: logPath, LEAKWATCH_INTERVAL: '1s' },
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
      const lines = fs.readFileSync(logPath, 'utf8').split('\n').filter((l) => l.startsWith('{"lw"'));
      const last = JSON.parse(lines.at(-1));
      const gc = last.gc.sinceStart;
      resolve({
        ...result,
        fullGcs: gc.kinds.markSweepCompact?.count ?? 0,
        pauseMs: gc.pauseMs.total,
        hints: gc.hints,
      });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const spread = (xs) => `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)})`;

/** Runs `rounds` pairs of `seconds` per server and prints the table. */
async function gcHintsCost({ rounds, seconds }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakwatch-gc-hints-'));
  console.log(`\n== gcHints: ${rounds} rounds of ${seconds} s at ${RATE} requests/s per arm, hints on and off alternating\n`);
  console.log('| server | CPU per request, on / off | full GCs on, off | GC pause ms on, off | hints on |');
  console.log('|---|---|---|---|---|');
  for (const leak of [false, true]) {
    const ratios = [];
    const on = [];
    const off = [];
    for (let round = 0; round < rounds; round++) {
      // Alternate which arm goes first, so that neither always gets the warmer machine.
      const order = round % 2 === 0 ? [true, false] : [false, true];
      const pair = {};
      for (const hints of order) pair[hints] = await runOnce({ leak, hints, seconds }, path.join(dir, `${leak}-${hints}-${round}.log`));
      ratios.push(pair[true].cpuPerRequestUs / pair[false].cpuPerRequestUs);
      on.push(pair[true]);
      off.push(pair[false]);
      console.error(`round ${round + 1}: ${JSON.stringify(pair)}`);
    }
    const m = (runs, key) => median(runs.map((r) => r[key]));
    const name = leak ? 'response cache, unbounded (leaking)' : 'response cache, 10 s TTL (healthy)';
    console.log(`| ${name} | ${spread(ratios)}× | ${m(on, 'fullGcs')}, ${m(off, 'fullGcs')} | ${m(on, 'pauseMs').toFixed(0)}, ${m(off, 'pauseMs').toFixed(0)} | ${m(on, 'hints')} |`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

if (require.main === module) {
  gcHintsCost({ rounds: Number(process.env.ROUNDS || 5), seconds: Number(process.env.SECONDS || 30) }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

module.exports = { gcHintsCost };
