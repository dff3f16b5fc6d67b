'use strict';
// Memory per live watched emitter: 100,000 small marker objects kept alive, watched by
// nothing, by a FinalizationRegistry, or by the addon's Node-API finalizers (how listener
// tracking learns of collected emitters: js/listeners/collection.js). Each way in a fresh
// process, 3 times; prints RSS and JS heap bytes per marker (median).
//
//   node benches/marker-memory.js

const { spawnSync } = require('node:child_process');

const N = 100_000;

function child(way) {
  const { binding } = require('../js/native');
  const gc = require('node:vm').runInNewContext('gc', (require('node:v8').setFlagsFromString('--expose-gc'), {}));
  const keep = [];
  const registry = new FinalizationRegistry(() => {});
  const generation = binding.markerWatchBegin();
  gc();
  const before = process.memoryUsage();
  for (let made = 0; made < N; made += 250) {
    const markers = Array.from({ length: 250 }, () => ({ head: null }));
    keep.push(...markers);
    if (way === 'napi')
      binding.markerWatchAdd(
        markers,
        Uint32Array.from(markers, (_, i) => made + i),
        generation
      );
    if (way === 'registry') for (const m of markers) registry.register(m, keep);
  }
  gc();
  const after = process.memoryUsage();
  console.log(JSON.stringify({ rss: (after.rss - before.rss) / N, heap: (after.heapUsed - before.heapUsed) / N }));
}

function main() {
  const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  for (const way of ['none', 'registry', 'napi']) {
    const runs = Array.from({ length: 3 }, () => {
      const r = spawnSync(process.execPath, [__filename, way], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      return JSON.parse(r.stdout);
    });
    const rss = median(runs.map((r) => r.rss));
    const heap = median(runs.map((r) => r.heap));
    console.log(`${way.padEnd(8)} RSS ${rss.toFixed(0)} B per marker, JS heap ${heap.toFixed(0)} B`);
  }
}

if (process.argv[2]) child(process.argv[2]);
else main();
