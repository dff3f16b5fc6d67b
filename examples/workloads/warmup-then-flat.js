'use strict';
// Healthy (plain script): a start-up phase loads ~100 MB of reference data over ~8 s (a
// cache warmed from a database, say), then the process only does request-like work over a
// flat live set.

const { runFor, text } = require('./lib');

const reference = [];
const WARMUP_S = 8;
let _scratch = null; // the latest request's data; the ones before are garbage

runFor((t) => {
  if (t < WARMUP_S) {
    for (let i = 0; i < 120; i++) reference.push({ id: reference.length, text: text(reference.length, 1000) });
  }
  // Steady-state work: short-lived garbage only.
  _scratch = Array.from({ length: 200 }, (_, i) => ({ i, s: `t${t}-${i}` }));
});
