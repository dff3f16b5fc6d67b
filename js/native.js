'use strict';
// Finds and loads the native addon, and says where the V8 GC shim for this Node is. In order:
//   1. LEAKWATCH_NATIVE_DIR, a build made elsewhere (the tests point it at their builds);
//   2. native/ in this package, a build from source (a checkout, or `npx leakwatch build`);
//   3. the prebuilt package for this platform (leakwatch-linux-x64-gnu, …), an optional
//      dependency that npm installs only on its own platform.
// The addon (Node-API) is one file per platform; the shim is one per Node ABI, beside it. No
// addon anywhere is one clear error that says what is missing and how to get it.

const fs = require('node:fs');
const path = require('node:path');
const { TRIPLE, PLATFORM_PACKAGE, ADDON_FILE, shimFile } = require('./platform');

const LOCAL_DIR = path.join(__dirname, '..', 'native');

/** The folder to load from, or `{ reason }` when there is none. */
function findNativeDir() {
  if (process.env.LEAKWATCH_NATIVE_DIR) return { dir: process.env.LEAKWATCH_NATIVE_DIR };
  if (fs.existsSync(path.join(LOCAL_DIR, ADDON_FILE))) return { dir: LOCAL_DIR };
  let manifest;
  try {
    manifest = require.resolve(`${PLATFORM_PACKAGE}/package.json`);
  } catch {
    return { reason: notInstalled() };
  }
  // Files from another release would meet JS glue they were not built for. (package.json is
  // read only here and on failure: a build from source needs neither.)
  const { version } = require('../package.json');
  const found = require(manifest).version;
  if (found !== version) {
    return {
      reason: `${PLATFORM_PACKAGE}@${found} is installed but leakwatch is ${version}: install matching versions (npm install leakwatch@${version})`,
    };
  }
  return { dir: path.dirname(manifest) };
}

function notInstalled() {
  const { optionalDependencies } = require('../package.json');
  const prebuilt = optionalDependencies && PLATFORM_PACKAGE in optionalDependencies;
  return prebuilt
    ? `the prebuilt package ${PLATFORM_PACKAGE} is not installed (npm installs it as an optional dependency: ` +
        'was it left out by --omit=optional, --no-optional, or a lock file made on another platform?) ' +
        'and leakwatch was not built from source'
    : `leakwatch has no prebuilt binary for ${TRIPLE} and was not built from source`;
}

function fail(detail, cause) {
  const e = /** @type {NodeJS.ErrnoException} */ (
    new Error(
      `leakwatch: no native addon for ${TRIPLE}: ${detail}. Reinstall leakwatch, or build it from source with ` +
        "`npx leakwatch build` (needs Rust's cargo and a C++ compiler)."
    )
  );
  e.code = 'LEAKWATCH_NATIVE_MISSING';
  if (cause) e.cause = cause;
  throw e;
}

const found = findNativeDir();
if (!found.dir) fail(found.reason);
let binding;
try {
  binding = require(path.join(found.dir, ADDON_FILE));
} catch (err) {
  fail(`${path.join(found.dir, ADDON_FILE)} does not load (${err.message.split('\n')[0]})`, err);
}

// LEAKWATCH_SHIM_PATH points at another shim build (or at nothing, to force the fallback).
const shimPath = process.env.LEAKWATCH_SHIM_PATH || path.join(found.dir, shimFile());

module.exports = { binding, shimPath, nativeDir: found.dir };
