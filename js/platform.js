'use strict';
// Which platform this is, in napi-rs's names (linux-x64-gnu, darwin-arm64, …), and the names of
// leakwatch's native files: one Node-API addon per platform, and one V8 GC shim per Node ABI
// beside it (build.rs writes the same shim names).

const fs = require('node:fs');

/** `linux-x64-gnu`, `linux-arm64-musl`, `darwin-arm64`, `win32-x64-msvc`, … */
function platformTriple() {
  const base = `${process.platform}-${process.arch}`;
  if (process.platform === 'linux') return `${base}-${isMusl() ? 'musl' : 'gnu'}`;
  if (process.platform === 'win32') return `${base}-msvc`;
  return base;
}

// ldd names its libc in its own text: one small file read, where the process report that
// napi-rs's loaders fall back to costs milliseconds at start-up.
function isMusl() {
  try {
    return fs.readFileSync('/usr/bin/ldd', 'latin1').includes('musl');
  } catch {
    const report = /** @type {any} */ (process.report?.getReport?.());
    return !report?.header?.glibcVersionRuntime;
  }
}

const TRIPLE = platformTriple();

module.exports = {
  TRIPLE,
  /** The npm package that carries the prebuilt files for this platform. */
  PLATFORM_PACKAGE: `leakwatch-${TRIPLE}`,
  /** The Node-API addon: one build loads under every Node. */
  ADDON_FILE: `leakwatch.${TRIPLE}.node`,
  /** The V8 GC shim for a NODE_MODULE_VERSION (default: the running Node's). */
  shimFile: (abi = process.versions.modules) => `leakwatch_gc_shim.abi${abi}.so`,
};
