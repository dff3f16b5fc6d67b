'use strict';
// A full, synchronous GC without asking the user for --expose-gc: the flag is turned on just
// long enough to fetch `gc` from a fresh context, then off again so the app's own contexts
// do not grow a `gc` global.

const v8 = require('node:v8');
const vm = require('node:vm');

let gc = typeof globalThis.gc === 'function' ? globalThis.gc : null;

function forceGc() {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    try {
      gc = vm.runInNewContext('gc');
    } finally {
      v8.setFlagsFromString('--no-expose-gc');
    }
  }
  gc();
}

module.exports = { forceGc };
