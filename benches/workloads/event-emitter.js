'use strict';
// (b) EventEmitter traffic: on + off of one listener on an emitter that holds others (the
// usual case), and once + emit (the wrapper removes itself). Prints CPU ns per operation.
// Listener-leak tracking patches these methods; this is what it must stay cheap on.
//
//   EMITTER_OPS  operations per measured loop (a tenth of it warms up first)
const EventEmitter = require('node:events');
const { openWindow, printResult, armsReady } = require('../child');

const OPS = Number(process.env.EMITTER_OPS || 3_000_000);

function onOff(n) {
  const emitter = new EventEmitter();
  emitter.on('other', () => {});
  const fn = () => {};
  for (let i = 0; i < n; i++) {
    emitter.on('data', fn);
    emitter.off('data', fn);
  }
}

function onceEmit(n) {
  const emitter = new EventEmitter();
  emitter.on('other', () => {});
  const fn = () => {};
  for (let i = 0; i < n; i++) {
    emitter.once('tick', fn);
    emitter.emit('tick', i);
  }
}

/** CPU and wall ns per operation of `loop(OPS)`, after a warm-up that lets the JIT settle. */
async function perOp(loop) {
  loop(OPS / 10);
  const window = await openWindow();
  loop(OPS);
  const { cpuUs, wallMs } = await window.close();
  return { cpuNs: (cpuUs * 1000) / OPS, wallNs: (wallMs * 1e6) / OPS };
}

async function main() {
  await armsReady();
  printResult({ onOff: await perOp(onOff), onceEmit: await perOp(onceEmit), ops: OPS });
}

main();
