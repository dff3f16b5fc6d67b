'use strict';
// What the memory-pressure hints (`gcHints`, on by default) cost: a server under steady load
// with hints on and off (benches/server-pairs.js): CPU time per request, full GCs, their
// pause time, and the hints sent.
//
//   node benches/gc-hints.js            (ROUNDS=5 pairs, SECONDS=30 each; about 10 minutes)
//   BENCH_ONLY=gcHints npm run bench    (the same, 3 rounds of 20 s; QUICK=1: 2 of 10 s)
//
// Two servers from examples/workloads/: a healthy one (a response cache with a 10 s TTL: the
// hints back off to one a minute as the baselines stay flat) and a leaking one (the same cache
// never evicted: the hints come every few seconds while the baselines climb, which is when
// they are meant to).

const { pairedCost, median } = require('./server-pairs');

function gcHintsCost({ rounds, seconds }) {
  return pairedCost({
    title: 'gcHints',
    rounds,
    seconds,
    on: { LEAKWATCH_GC_HINTS: 'on' },
    off: { LEAKWATCH_GC_HINTS: 'off' },
    extra: { name: 'hints on', value: (runs) => median(runs.map((r) => r.last.gc.sinceStart.hints)) },
  });
}

if (require.main === module) {
  gcHintsCost({ rounds: Number(process.env.ROUNDS || 5), seconds: Number(process.env.SECONDS || 30) }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

module.exports = { gcHintsCost };
