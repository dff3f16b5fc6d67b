'use strict';
// `require('leakwatch/register')` or `node -r leakwatch/register app.js`: start leakwatch with
// options from LEAKWATCH_* variables (js/start.js).
//
// From js/register.bundle.js, start.js and all it needs as one file, which `npm run build`
// makes (scripts/bundle.js): each require() is a dozen path operations in Node's module
// loader, and register's two dozen files made V8 optimize Node's path code at start-up, waking
// its optimizing compiler (~4 MB of RSS) in a process that had not needed it yet. In a checkout
// where the bundle was not built, from the separate files.
//
// The bundle is compiled with V8's code cache for it where the build left one for this V8
// (js/register.bundle.<id>.<V8 version>.cache): the bytecode of what start-up runs, which V8
// would otherwise compile from source in every process (the instructions register adds to
// `node -e 0`: +55.7 M without it, +25.3 M with it, benches/startup-instructions.js).
// V8 checks the cache against its own version and flags (any V8 flag on the command line: the
// cache is then refused), the source's length and its own size, and compiles from source when
// it does not fit. The bundle's id (a hash of its text, in its first line) in the cache's name
// is what keeps a cache of another build of the same length away. V8 does not check the
// cache's bytes: a damaged one is as fatal as a damaged addon binary, and both come in the
// package, which npm checks against its hash at install.

const fs = require('node:fs');
const { join } = require('node:path');

const BUNDLE = join(__dirname, 'register.bundle.js'); // as layout.js names it: one file fewer to load here
// What the bundle's text is run as: Node's own module wrapper, all on its first line (a
// comment), so that the line numbers of call sites in leakwatch's frames stay the bundle's.
const WRAPPER = ['(function (exports, require, module, __filename, __dirname) {', '\n});'];

/** How this process ran register: {from: 'bundle' | 'files', codeCache, script} (tests, and the build's cache). */
const ran = { from: 'files', codeCache: 'none', script: null, cacheFile };
module.exports = { [Symbol.for('leakwatch.register')]: ran };

if (fs.existsSync(BUNDLE)) runBundle(fs.readFileSync(BUNDLE, 'utf8'));
else require('./start');

function runBundle(text) {
  const cachedData = readCache(text);
  const script = new (require('node:vm').Script)(WRAPPER[0] + text + WRAPPER[1], { filename: BUNDLE, cachedData });
  Object.assign(ran, { from: 'bundle', script });
  if (cachedData !== undefined) ran.codeCache = script.cachedDataRejected ? 'rejected' : 'used';
  const bundleModule = { exports: {} };
  script.runInThisContext().call(bundleModule.exports, bundleModule.exports, require, bundleModule, BUNDLE, __dirname);
}

/** The code cache for this bundle and this V8, or undefined. */
function readCache(text) {
  try {
    return fs.readFileSync(cacheFile(text));
  } catch {
    return undefined; // none built for this V8 (or for this bundle)
  }
}

/** Where the build puts the code cache of `text` (the bundle) for this V8. */
function cacheFile(text) {
  const id = /^\/\/ leakwatch bundle ([0-9a-f]+)/.exec(text)?.[1] ?? 'unknown';
  return join(__dirname, `register.bundle.${id}.${process.versions.v8}.cache`);
}
