'use strict';
// (f) Memory with 1,000,000 live listeners (1,000 emitters × 1,000 listeners). Run with
// --expose-gc. Prints RSS and the JS heap (used + external) after a full GC while the
// listeners are held; the bench subtracts arm "none". A tool that tracks listeners pays here
// for its bookkeeping.
const EventEmitter = require('node:events');
const { settle, printResult, armsReady } = require('../child');

const EMITTERS = 1000;
const PER_EMITTER = 1000;

function noop() {}

async function measure() {
  await settle();
  global.gc();
  // Long enough for every tool's first periodic read (1 s) to have run and allocated.
  await new Promise((resolve) => setTimeout(resolve, 1200));
  global.gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external };
}

async function main() {
  await armsReady();
  const emitters = [];
  for (let i = 0; i < EMITTERS; i++) {
    const emitter = new EventEmitter();
    emitter.setMaxListeners(0);
    for (let j = 0; j < PER_EMITTER; j++) emitter.on('data', noop);
    emitters.push(emitter);
  }
  const held = await measure();
  const listeners = emitters.reduce((sum, e) => sum + e.listenerCount('data'), 0);
  printResult({ ...held, listeners });
}

main();
