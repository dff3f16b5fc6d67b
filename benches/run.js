'use strict';
// `npm run bench` (QUICK=1 for a short run): leakwatch's cost against no telemetry, as
// ratios against a baseline arm of the same run. See benches/harness.js for the method.

const path = require('node:path');
const { spawnSync } = require('node:child_process');
const os = require('node:os');
const { runArm, alternate, median, ratios, fmtRatio, table } = require('./harness');

const QUICK = process.env.QUICK === '1';
const ROUNDS = QUICK ? 5 : 11;
const REGISTER = path.join(__dirname, '..', 'js', 'register.js');

function gcLoop() {
  const script = path.join(__dirname, 'workloads', 'gc-loop.js');
  const arms = ['none', 'leakwatch', 'perf_hooks'];
  const env = { GC_LOOP_ITERATIONS: String(QUICK ? 1_500_000 : 4_000_000) };
  const results = alternate(arms, ROUNDS, (arm) => runArm(script, arm, { flags: ['--max-semi-space-size=1'], env }));
  const gcs = median(results.leakwatch.map((r) => r.gcs));
  const rows = arms.slice(1).map((arm) => {
    const perGcUs = results[arm].map((r, i) => (r.cpuUs - results.none[i].cpuUs) / gcs);
    return [arm, fmtRatio(ratios(results, arm, 'none', (r) => r.cpuUs)), fmtRatio(ratios(results, arm, 'none', (r) => r.wallMs)), `${median(perGcUs).toFixed(2)} µs`];
  });
  console.log(`\n(a) scavenge-heavy loop: ${gcs} GCs per run, ${ROUNDS} alternating rounds`);
  console.log(table(['arm', 'CPU vs none', 'wall vs none', 'added CPU per GC'], rows));
}

function startup() {
  const script = path.join(__dirname, 'workloads', 'idle.js');
  const arms = ['none', 'register'];
  const time = (arm) => {
    const flags = arm === 'register' ? ['-r', REGISTER] : [];
    const t0 = process.hrtime.bigint();
    const out = spawnSync(process.execPath, [...flags, '-e', '0'], { env: { ...process.env, LEAKWATCH_LOG: 'off' } });
    if (out.status !== 0) throw new Error(String(out.stderr));
    return { ms: Number(process.hrtime.bigint() - t0) / 1e6 };
  };
  const starts = alternate(arms, ROUNDS * 4, time);
  const idle = alternate(arms, ROUNDS, (arm) => runArm(script, arm, { flags: arm === 'register' ? ['-r', REGISTER] : [] }));
  const addedMs = median(starts.register.map((r) => r.ms)) - median(starts.none.map((r) => r.ms));
  const addedRss = median(idle.register.map((r) => r.rss)) - median(idle.none.map((r) => r.rss));
  console.log(`\n(e) start-up and idle RSS: ${ROUNDS * 4} / ${ROUNDS} alternating rounds`);
  console.log(table(['measure', 'none', 'register', 'added (difference of medians)'], [
    ['node -e 0 wall time', `${median(starts.none.map((r) => r.ms)).toFixed(1)} ms`, `${median(starts.register.map((r) => r.ms)).toFixed(1)} ms`, `${addedMs.toFixed(1)} ms`],
    ['idle RSS', `${(median(idle.none.map((r) => r.rss)) / 1048576).toFixed(1)} MB`, `${(median(idle.register.map((r) => r.rss)) / 1048576).toFixed(1)} MB`, `${(addedRss / 1048576).toFixed(2)} MB`],
  ]));
}

console.log(`leakwatch bench${QUICK ? ' (QUICK)' : ''}: Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0].model}, ${os.platform()}`);
gcLoop();
startup();
