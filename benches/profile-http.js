'use strict';
// Where an http server's CPU goes with and without leakwatch, by a sampling profile rather
// than CPU time: a run's CPU time per request spreads ±10–20 % on a shared machine, far more
// than the 1 % being looked for, while a profile's shares come from one run each.
//
// For each arm (none, leakwatch) the bench's http server (benches/workloads/http.js) runs
// under `perf record -e cpu-clock` with `node --perf-basic-prof` (so JIT frames have names),
// driven by autocannon for SECONDS. Printed per arm: server samples per 1,000 requests (all
// threads), the share of samples in leakwatch's own JS functions (js/ of this package) and in
// Node's EventEmitter functions (node:events). leakwatch's listener functions add their share
// minus what Node's own took without it (leakwatch's add and remove replace Node's).
//
//   node benches/profile-http.js        env: SECONDS (10), needs `perf` (linux-tools)
// Self time only: code V8 inlined into a caller counts for the caller, so this is a floor.

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { cannon } = require('./workloads/http');
const { readLines } = require('./harness');

const SECONDS = Number(process.env.SECONDS || 10);
const ROOT = path.join(__dirname, '..');
const REGISTER = path.join(ROOT, 'js', 'register.js');
const HTTP = path.join(__dirname, 'workloads', 'http.js');
const OWN = `${path.join(ROOT, 'js')}${path.sep}`;

// The server: listens, prints its port, serves until told to stop on stdin, prints `served`.
const SERVER = `
const { createServer } = require(${JSON.stringify(HTTP)});
const { server, served, close } = createServer();
// leakwatch's listener tracking switches to its fast methods once their check has answered
// (a second after start): the requests are driven after that, as on a server that has run.
async function settled() {
  if (!process.env.LW_ARM) return;
  const lw = require(${JSON.stringify(ROOT)});
  while (lw.internals().emitterMode === 'wrap') await new Promise((resolve) => setTimeout(resolve, 50));
}
server.listen(0, '127.0.0.1', () => settled().then(() => console.log(server.address().port)));
process.stdin.once('data', () => { console.log(served()); close(); process.stdin.destroy(); });
`;

async function profileArm(arm, dir) {
  const data = path.join(dir, `${arm}.data`);
  const preload = arm === 'leakwatch' ? ['-r', REGISTER] : [];
  const child = spawn(
    'perf',
    [
      'record',
      '-q',
      '-e',
      'cpu-clock',
      '-F',
      '5000',
      '-o',
      data,
      '--',
      process.execPath,
      '--perf-basic-prof',
      ...preload,
      '-e',
      SERVER,
    ],
    {
      env: { ...process.env, LEAKWATCH_LOG: 'off', ...(arm === 'leakwatch' ? { LW_ARM: '1' } : {}) },
      stdio: ['pipe', 'pipe', 'inherit'],
    }
  );
  const lines = readLines(child.stdout);
  const port = Number(await lines.next());
  await cannon(port, { amount: 5000 }); // warm-up, inside the profile for both arms alike
  await cannon(port, { duration: SECONDS });
  child.stdin.end('stop\n');
  const served = Number(await lines.next());
  await new Promise((resolve) => child.once('exit', resolve));
  return { arm, served, ...shares(data) };
}

/** Total samples and the self-time shares of leakwatch's and node:events' JS functions. */
function shares(data) {
  const out = spawnSync(
    'perf',
    ['report', '-i', data, '-n', '--no-children', '--sort', 'symbol', '-g', 'none', '--stdio'],
    {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    }
  );
  if (out.status !== 0) throw new Error(`perf report failed: ${out.stderr}`);
  let total = 0;
  let own = 0;
  let events = 0;
  for (const line of out.stdout.split('\n')) {
    const m = /^\s*[\d.]+%\s+(\d+)\s+\[[.k]\]\s+(.*)$/.exec(line);
    if (!m) continue;
    const samples = Number(m[1]);
    total += samples;
    if (m[2].includes(OWN)) own += samples;
    else if (m[2].includes('node:events')) events += samples;
  }
  return { total, own, events };
}

const pct = (part, whole) => `${((100 * part) / Math.max(1, whole)).toFixed(2)} %`;

async function main() {
  if (spawnSync('perf', ['--version']).status !== 0) {
    console.log('profile-http: `perf` is not installed; nothing measured');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-profile-'));
  try {
    const rows = [];
    for (const arm of ['none', 'leakwatch']) rows.push(await profileArm(arm, dir));
    console.log(`http server under autocannon for ${SECONDS} s, perf cpu-clock at 5 kHz (self time)`);
    for (const r of rows) {
      const perK = ((1000 * r.total) / Math.max(1, r.served)).toFixed(1);
      console.log(
        `${r.arm.padEnd(9)} ${r.served} requests, ${perK} samples per 1,000; leakwatch's functions ${pct(r.own, r.total)}, node:events ${pct(r.events, r.total)}`
      );
    }
    const [none, lw] = rows;
    const added = (lw.own + lw.events) / lw.total - none.events / none.total;
    const perRequest = lw.total / lw.served / (none.total / none.served);
    console.log(`samples per request, leakwatch vs none: ${perRequest.toFixed(3)}x (whole process, all threads)`);
    console.log(
      `of them in leakwatch's listener functions: ${(100 * added).toFixed(2)} % of the server's samples (self time; the rest is inlined code, GC and ICs)`
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
