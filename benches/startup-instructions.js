'use strict';
// Instructions that `node -r leakwatch/register -e 0` runs beyond a bare `node -e 0`, counted by
// valgrind's callgrind over the whole process (all its threads): start-up's cost resolved to
// a fraction of a percent, where its wall and CPU time (`BENCH_ONLY=startup npm run bench`)
// move by milliseconds from round to round on a shared machine.
//
//   node benches/startup-instructions.js [register.js ...]     needs valgrind; ~30 s
//   env: RUNS (3): runs of each, the median kept
// Each register.js given (default: this checkout's) is one arm, so a copy of older code (a git
// worktree) can be set beside this one. No V8 flags: they would make V8 refuse the bundle's code
// cache (js/register.js), which is part of what is measured.

const path = require('node:path');
const { spawnSync } = require('node:child_process');

const RUNS = Number(process.env.RUNS || 3);
const registers = process.argv.slice(2).map((f) => path.resolve(f));
if (registers.length === 0) registers.push(path.join(__dirname, '..', 'js', 'register.js'));

/** Instructions of one `node [-r register] -e 0` under callgrind. */
function instructions(register) {
  const args = ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath];
  if (register) args.push('-r', register);
  args.push('-e', '0');
  const run = spawnSync('valgrind', args, { encoding: 'utf8', env: { ...process.env, LEAKWATCH_LOG: 'off' } });
  const m = /Collected : (\d+)/.exec(run.stderr ?? '');
  if (run.status !== 0 || !m) throw new Error(`callgrind failed (is valgrind installed?)\n${run.stderr}`);
  return Number(m[1]);
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Median instructions over RUNS runs, each arm's runs alternating with the others'. */
function measure() {
  const arms = [null, ...registers];
  const counts = arms.map(() => []);
  for (let i = 0; i < RUNS; i++) arms.forEach((arm, j) => counts[j].push(instructions(arm)));
  return arms.map((arm, j) => ({ arm, median: median(counts[j]), runs: counts[j] }));
}

const fmt = (n) => Math.round(n).toLocaleString('en');
const [bare, ...rest] = measure();
console.log(`node -e 0: ${fmt(bare.median)} instructions (median of ${RUNS})`);
for (const r of rest) {
  const added = r.median - bare.median;
  console.log(
    `-r ${path.relative(process.cwd(), r.arm) || r.arm}: +${fmt(added)} (${((100 * added) / bare.median).toFixed(1)} %), runs ${r.runs.map(fmt).join(', ')}`
  );
}
