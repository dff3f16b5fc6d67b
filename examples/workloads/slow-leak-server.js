'use strict';
// A slow leak under a large, noisy sawtooth. Every request joins a batch of ~20 KB records
// that is kept for 2–8 s (a random age: a write-behind queue flushed late under load) and
// then dropped: old-generation garbage piles up and heapUsed swings by tens of MB between
// full GCs. Leak (the default): each request also leaves a 170-byte audit entry in an array
// nobody trims, ~5 MB a minute at 500 requests/s. Healthy twin (LEAK=0): the same without
// the audit entries.
// BATCHES=steady: every batch is kept exactly 1 s, so the live heap at each full GC is about
// the same and only `heapUsed` swings (old garbage piling up between full GCs): the usual
// healthy sawtooth, where the default (random 2-8 s) also scatters the baselines by ±20 MB.

const { serve, answer, text } = require('./lib');

const LEAK = process.env.LEAK !== '0';
const STEADY = process.env.BATCHES === 'steady';
const audit = [];
const batches = [];
let next = 0;

setInterval(() => {
  const now = Date.now();
  while (batches.length > 0 && batches[0].flushAt <= now) batches.shift();
  batches.push({ flushAt: now + (STEADY ? 1000 : 2000 + Math.random() * 6000), records: [] });
}, 500).unref();

serve((req, res) => {
  const id = next++;
  const batch = batches[batches.length - 1];
  if (batch) batch.records.push({ id, body: text(id, 20_000) });
  if (LEAK) audit.push(text(`${id} ${req.url}`, 170));
  answer(res, { id });
});
