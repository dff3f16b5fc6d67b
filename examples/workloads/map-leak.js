'use strict';
// Leak (plain script): a module-level Map that only grows, ~LEAK_MB_S MB/s (default 2) in
// 10 ms steps, with request-like garbage alongside. The same leak as map-leak-server.js,
// without the network.

const { runFor, text } = require('./lib');

const RATE = Number(process.env.LEAK_MB_S || 2); // MB/s
const PER_TICK = Math.max(1, Math.round((RATE * 1e6) / 100 / 1100)); // ~1.1 KB per entry
const leak = new Map();
let n = 0;
let _scratch = null; // the latest tick's data; the ones before are garbage

runFor(() => {
  for (let i = 0; i < PER_TICK; i++) leak.set(n++, { n, text: text(n, 1000) });
  _scratch = Array.from({ length: 200 }, (_, i) => ({ i, s: `t${n}-${i}` }));
});
