'use strict';
// Loads the addon built from source by `npm install` (napi build → native/leakwatch.node)
// and says where the V8 GC shim lives. A missing build is one clear error, not a stack of them.

const path = require('node:path');

// LEAKWATCH_NATIVE_DIR: a build made elsewhere (the test suite builds one per Node version
// into its own folder with the same variable, see scripts/test-all-nodes.js).
const dir = process.env.LEAKWATCH_NATIVE_DIR || path.join(__dirname, '..', 'native');
let binding;
try {
  binding = require(path.join(dir, 'leakwatch.node'));
} catch (err) {
  const e = new Error(
    `leakwatch: the native addon is not built or does not load (${err.message}). ` +
      'Run `npm rebuild leakwatch` (needs Rust and a C++ compiler).'
  );
  e.code = 'LEAKWATCH_NATIVE_MISSING';
  e.cause = err;
  throw e;
}

// LEAKWATCH_SHIM_PATH points at another shim build (or at nothing, to force the fallback).
const shimPath = process.env.LEAKWATCH_SHIM_PATH || path.join(dir, 'leakwatch_gc_shim.so');

module.exports = { binding, shimPath };
