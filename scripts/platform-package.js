'use strict';
// Lays out this platform's prebuilt package, as napi-rs's npm/<platform>/ convention has it:
// the Node-API addon and one V8 GC shim per supported Node ABI, copied from a build.
//
//   node scripts/platform-package.js [--out DIR]
//
// Without --out it fills npm/<platform>/ for `napi prepublish` (the release workflow); with
// it, a copy of that folder goes to DIR (the install test packs it from there). Run it after a
// build with every supported Node's headers (LEAKWATCH_NODE_INCLUDE, as npm test does): it
// refuses to lay out a package that lacks a shim, which would send those users to perf_hooks.

const fs = require('node:fs');
const path = require('node:path');
const { TRIPLE, ADDON_FILE, shimFile } = require('../js/platform');

const ROOT = path.join(__dirname, '..');
/** NODE_MODULE_VERSION → Node major: the Nodes `engines` supports, each needing its shim. */
const SUPPORTED_ABIS = { 115: 20, 127: 22, 137: 24 };

/** Copies the package from `nativeDir` into `out`; returns the files it holds. */
function layOut(nativeDir, out) {
  const template = path.join(ROOT, 'npm', TRIPLE);
  if (!fs.existsSync(path.join(template, 'package.json')))
    throw new Error(`no npm/${TRIPLE}/package.json: leakwatch is not packaged for ${TRIPLE}`);
  const files = [ADDON_FILE, ...Object.keys(SUPPORTED_ABIS).map((abi) => shimFile(abi))];
  const missing = files.filter((f) => !fs.existsSync(path.join(nativeDir, f)));
  if (missing.length) {
    const nodes = missing.map((f) => SUPPORTED_ABIS[/abi(\d+)/.exec(f)?.[1]]).filter(Boolean);
    throw new Error(
      `${nativeDir} lacks ${missing.join(', ')}` +
        (nodes.length
          ? ` (build with the headers of Node ${nodes.join(', ')} in LEAKWATCH_NODE_INCLUDE)`
          : ' (npm run build)')
    );
  }
  fs.mkdirSync(out, { recursive: true });
  if (path.resolve(out) !== path.resolve(template)) {
    for (const f of ['package.json', 'README.md']) fs.copyFileSync(path.join(template, f), path.join(out, f));
  }
  for (const f of files) fs.copyFileSync(path.join(nativeDir, f), path.join(out, f));
  return files;
}

module.exports = { layOut, SUPPORTED_ABIS };

if (require.main === module) {
  const { values } = require('node:util').parseArgs({ options: { out: { type: 'string' } } });
  const out = values.out || path.join(ROOT, 'npm', TRIPLE);
  const files = layOut(path.join(ROOT, 'native'), out);
  console.log(`${path.relative(process.cwd(), out) || '.'}: ${files.join(', ')}`);
}
