'use strict';
// What the sampling heap profile (`heapProfile`, on by default) costs:
//
// 1. the JS thread's pause for one read of the profile, in a process whose live heap is
//    100 MB, 1 GB and 4 GB, built after leakwatch started (V8 samples allocations made while
//    its profiler runs) by functions at many stack depths, so the profile has thousands of
//    nodes; `lw.heapGrowth()` is timed (it reads the profile and reduces it to sites), and
//    `stats().heapProfile.maxReadMs` is leakwatch's own timing of the read;
// 2. CPU per request on a server under steady load, profile on and off
//    (benches/server-pairs.js).
//
//   node benches/heap-profile.js              (sizes 100,1000,4000 MB; ROUNDS=5 pairs of SECONDS=30)
//   BENCH_ONLY=heapProfile npm run bench      (3 rounds of 20 s; QUICK=1: 100 and 1000 MB, 2 of 10 s)
//   SIZES_MB=100,1000 ROUNDS=0 node benches/heap-profile.js    (the pauses only)

const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { pairedCost, median } = require('./server-pairs');

const ROOT = path.join(__dirname, '..');

/** Runs in the child: builds `mb` MB of live records, then times reads. Prints JSON. */
function child(mb) {
  const lw = require(ROOT);
  lw.start({ log: 'off' });
  const kept = [];
  // Allocations at depths 1..24 of one recursive function and in a few leaf functions: the
  // profile's tree gets a node per (depth, leaf).
  const leaves = [
    (i) => ({ i, tags: [i, i + 1, i + 2], name: `r${i}` }),
    (i) => [i, i * 2, i * 3, i * 4, i * 5, i * 6],
    (i) => ({ id: i, nested: { a: i, b: [i] } }),
    (i) => `record-${i}-${'x'.repeat(i % 64)}`,
  ];
  const descend = (depth, i, leaf) => (depth === 0 ? leaf(i) : descend(depth - 1, i, leaf));
  let i = 0;
  while (process.memoryUsage().heapUsed < mb * 1e6) {
    for (let k = 0; k < 10_000; k++, i++) kept.push(descend(i % 24, i, leaves[i % leaves.length]));
  }
  const times = [];
  for (let r = 0; r < 7; r++) {
    const t = process.hrtime.bigint();
    lw.heapGrowth();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const { heapProfile } = lw.stats();
  lw.stop();
  console.log(JSON.stringify({ heapUsed: process.memoryUsage().heapUsed, records: kept.length, times, heapProfile }));
}

/** One row per heap size: read pause median (max), leakwatch's own max, skipped reads. */
function readPauses(sizesMb) {
  console.log('\n== heapProfile: JS-thread pause for one read of the sampling heap profile\n');
  console.log('| live heap | lw.heapGrowth() ms, median (max of 7) | leakwatch read ms (max) | reads skipped |');
  console.log('|---|---|---|---|');
  for (const mb of sizesMb) {
    const run = spawnSync(process.execPath, [`--max-old-space-size=${Math.max(4096, mb * 2)}`, __filename, 'child', String(mb)], { encoding: 'utf8', cwd: ROOT });
    if (run.status !== 0) {
      console.log(`| ${mb} MB | failed: ${run.stderr.trim().split('\n').at(-1)} | | |`);
      continue;
    }
    const r = JSON.parse(run.stdout);
    const heap = `${(r.heapUsed / 1e6).toFixed(0)} MB (${(r.records / 1e6).toFixed(1)} M records)`;
    console.log(`| ${heap} | ${median(r.times).toFixed(1)} (${Math.max(...r.times).toFixed(1)}) | ${r.heapProfile.maxReadMs.toFixed(1)} | ${r.heapProfile.skipped} |`);
  }
}

function samplingCost({ rounds, seconds }) {
  return pairedCost({
    title: 'heapProfile',
    rounds,
    seconds,
    on: { LEAKWATCH_HEAP_PROFILE: 'on' },
    off: { LEAKWATCH_HEAP_PROFILE: 'off' },
    extra: {
      name: 'profile reads on (longest ms)',
      value: (runs) => `${median(runs.map((r) => r.last.heapProfile.reads))} (${Math.max(...runs.map((r) => r.last.heapProfile.maxReadMs)).toFixed(1)})`,
    },
  });
}

async function heapProfileCost({ sizesMb, rounds, seconds }) {
  readPauses(sizesMb);
  if (rounds > 0) await samplingCost({ rounds, seconds });
}

if (process.argv[2] === 'child') {
  child(Number(process.argv[3]));
} else if (require.main === module) {
  heapProfileCost({
    sizesMb: (process.env.SIZES_MB || '100,1000,4000').split(',').map(Number),
    rounds: Number(process.env.ROUNDS ?? 5),
    seconds: Number(process.env.SECONDS || 30),
  }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

module.exports = { heapProfileCost };
