'use strict';
// Healthy, pure sawtooth (plain script): a fixed live set of ~58 MB (30,000 records, and a
// rolling window of the 20,000 newest ones, each replaced after ~0.5 s: long enough to reach
// the old generation, then dead). Old garbage piles up between full GCs, a sawtooth of
// 100-150 MB in heapUsed over a flat floor.

const { runFor, text } = require('./lib');

const live = Array.from({ length: 30_000 }, (_, i) => ({ i, text: text(i, 1000) }));
const recent = new Array(20_000).fill(null);
let n = 0;

runFor(() => {
  for (let i = 0; i < 400; i++) recent[n++ % recent.length] = { n, text: text(n, 1000) };
  live[n % live.length].touched = n; // the live set is used, not just kept
});
