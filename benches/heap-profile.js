'use strict';
// What the sampling heap profile (`heapProfile`, on by default) costs:
//
// 1. the JS thread's pause for a read of the profile, in a process whose live heap grows to
//    100 MB, …, 4 GB after leakwatch started (V8 samples allocations made while its profiler
//    runs), its records allocated along 64 stacks in all, or along so many different stacks
//    that nearly every sample has its own (the largest tree a profile of that many samples can
//    have; a real app lies between). `lw.heapGrowth()` is timed (a read and its reduction to
//    sites, or nothing when the read is skipped as over budget), with leakwatch's own figures
//    (`stats().heapProfile`). Reads also come at every 5 % of growth on the way, as they
//    come every 5 s in a process whose heap grows;
// 2. ns per allocation of a loop that does nothing else, profile on and off in alternating
//    rounds of one process;
// 3. CPU per request on a server under steady load, profile on and off
//    (benches/server-pairs.js).
//
//   node benches/heap-profile.js              (sizes 100,…,4000 MB; ROUNDS=5 pairs of SECONDS=30)
//   BENCH_ONLY=heapProfile npm run bench      (3 rounds of 20 s; QUICK=1: 100 and 1000 MB, 2 of 10 s)
//   SIZES_MB=100,1000 ROUNDS=0 node benches/heap-profile.js    (the pauses only)

const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { pairedCost, median } = require('./server-pairs');

const ROOT = path.join(__dirname, '..');

/**
 * Runs in the child: builds live records up to each size in `sizesMb` in turn and, at each,
 * times 3 reads. Prints one JSON line per size.
 */
function child(sizesMb, stacks) {
  const lw = require(ROOT);
  lw.start({ log: 'off' });
  const kept = [];
  // 64 functions in 64 scripts calling each other 8 deep along a path picked by the record's
  // number: nearly every sample has a stack of its own, so the profile's tree is as large as
  // it gets for its samples (a real app repeats its stacks far more).
  const F = [];
  for (let k = 0; k < 64; k++) {
    F.push(
      new Function(
        'F',
        'leaf',
        `return function f${k}(i, d) { return d === 0 ? leaf(i) : F[((i >>> (d * 3)) ^ ${k}) & 63](i, d - 1); };\n//# sourceURL=generated-${k}.js`
      )(F, leaf)
    );
  }
  function leaf(i) {
    return { i, tags: [i, i + 1, i + 2], name: `r${i}` };
  }
  // 'few': 64 stacks in all (the path picked by the function's own number, not the record's).
  const make = stacks === 'few' ? (i) => F[i & 63](i & 63, 8) : (i) => F[i & 63](i, 8);
  let i = 0;
  let readAt = 0;
  for (const mb of sizesMb) {
    while (process.memoryUsage().heapUsed < mb * 1e6) {
      for (let k = 0; k < 10_000; k++, i++) kept.push(make(i));
      // A read per 5 % of growth, as in a process whose heap grows between reads 5 s apart.
      const used = process.memoryUsage().heapUsed;
      if (used > readAt * 1.05) {
        lw.heapGrowth();
        readAt = used;
      }
    }
    const times = [];
    let read = 0;
    for (let r = 0; r < 3; r++) {
      const before = lw.stats().heapProfile.reads;
      const t = process.hrtime.bigint();
      lw.heapGrowth();
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
      read += lw.stats().heapProfile.reads - before;
    }
    console.log(
      JSON.stringify({
        heapUsed: process.memoryUsage().heapUsed,
        records: kept.length,
        times,
        read,
        heapProfile: lw.stats().heapProfile,
      })
    );
  }
  lw.stop();
}

/** One row per heap size: the call's pause, how many of its reads were made, leakwatch's own figures. */
function readPauses(sizesMb) {
  console.log(
    '\n== heapProfile: JS-thread pause for a read of the sampling heap profile, one process growing its heap\n'
  );
  console.log(
    '| stacks | live heap | lw.heapGrowth() ms (max of 3) | reads made of 3 | longest read so far, ms | reads skipped so far |'
  );
  console.log('|---|---|---|---|---|---|');
  const max = Math.max(...sizesMb);
  for (const stacks of ['few', 'many']) {
    const args = [`--max-old-space-size=${Math.max(4096, max * 2)}`, __filename, 'child', sizesMb.join(','), stacks];
    const run = spawnSync(process.execPath, args, { encoding: 'utf8', cwd: ROOT });
    const name = stacks === 'few' ? '64 in all' : 'one per sample';
    if (run.status !== 0) console.log(`| ${name} | failed: ${run.stderr.trim().split('\n').at(-1)} | | | | |`);
    for (const line of run.stdout.split('\n').filter(Boolean)) {
      const r = JSON.parse(line);
      const heap = `${(r.heapUsed / 1e6).toFixed(0)} MB (${(r.records / 1e6).toFixed(1)} M records)`;
      console.log(
        `| ${name} | ${heap} | ${Math.max(...r.times).toFixed(1)} | ${r.read} | ${r.heapProfile.maxReadMs.toFixed(1)} | ${r.heapProfile.skipped} |`
      );
    }
  }
}

/**
 * Runs in the child: ns per allocation of a loop that only allocates (small objects, arrays
 * and strings, a few kept), with leakwatch's profile on and off in alternating rounds of one
 * process: the profile's cost where it is highest, per allocation.
 */
function allocationChild(rounds) {
  const lw = require(ROOT);
  const kept = new Array(1024);
  const loop = () => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < 3_000_000; i++) {
      const o = { i, a: [i, i + 1], s: `k${i & 1023}` };
      if ((i & 255) === 0) kept[(i >> 8) & 1023] = o;
    }
    return Number(process.hrtime.bigint() - t) / 3_000_000;
  };
  const ns = { on: [], off: [] };
  for (let r = 0; r < rounds * 2; r++) {
    const arm = r % 4 === 0 || r % 4 === 3 ? 'on' : 'off'; // on, off, off, on, …: neither always first
    lw.start({ log: 'off', heapProfile: arm === 'on', listeners: false });
    ns[arm].push(loop());
    lw.stop();
  }
  console.log(JSON.stringify(ns));
}

function allocationCost(rounds) {
  const run = spawnSync(process.execPath, [__filename, 'alloc', String(rounds)], { encoding: 'utf8', cwd: ROOT });
  if (run.status !== 0) return console.log(`allocation loop failed: ${run.stderr.trim().split('\n').at(-1)}`);
  const { on, off } = JSON.parse(run.stdout);
  const ratios = on.map((x, k) => x / off[k]);
  console.log(
    `\n== heapProfile: an allocation-only loop, ${rounds} rounds each of 3 M allocations, profile on and off alternating in one process\n`
  );
  console.log('| ns per allocation, on | off | on / off |');
  console.log('|---|---|---|');
  const fmt = (xs, digits) =>
    `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
  console.log(`| ${fmt(on, 1)} | ${fmt(off, 1)} | ${fmt(ratios, 3)}× |`);
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
      value: (runs) =>
        `${median(runs.map((r) => r.last.heapProfile.reads))} (${Math.max(...runs.map((r) => r.last.heapProfile.maxReadMs)).toFixed(1)})`,
    },
  });
}

async function heapProfileCost({ sizesMb, rounds, seconds }) {
  readPauses(sizesMb);
  allocationCost(Math.max(rounds, 3) * 4);
  if (rounds > 0) await samplingCost({ rounds, seconds });
}

if (process.argv[2] === 'alloc') {
  allocationChild(Number(process.argv[3]));
} else if (process.argv[2] === 'child') {
  child(process.argv[3].split(',').map(Number), process.argv[4]);
} else if (require.main === module) {
  heapProfileCost({
    sizesMb: (process.env.SIZES_MB || '100,250,500,1000,4000').split(',').map(Number),
    rounds: Number(process.env.ROUNDS ?? 5),
    seconds: Number(process.env.SECONDS || 30),
  }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

module.exports = { heapProfileCost };
