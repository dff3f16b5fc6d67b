'use strict';
// A full, synchronous GC without asking the user for --expose-gc: turn the flag on and fetch
// `gc` from a fresh context. The flag is process-wide and left on (turning it off again
// races with other threads doing the same); its only effect is a `gc` global in contexts
// created afterwards.

const v8 = require('node:v8');
const vm = require('node:vm');

let gc = typeof globalThis.gc === 'function' ? globalThis.gc : null;

function forceGc() {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc');
  }
  gc();
}

module.exports = { forceGc };
