'use strict';
// `npx leakwatch build`: builds the addon and the V8 GC shim from the sources shipped in the
// package, for a platform with no prebuilt package or a Node newer than the prebuilt shims.
// It writes native/ in the package, which js/native.js prefers to the prebuilt package, and
// leaves nothing else behind: cargo's build folder (~130 MB) is a temporary one.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ADDON_FILE, shimFile } = require('./platform');
const { UserError } = require('./report/errors');

const ROOT = path.join(__dirname, '..');
const NATIVE = path.join(ROOT, 'native');

/** What is missing to build here, each with how to get it; empty when nothing is. */
function missingTools(env = process.env) {
  const runs = (cmd) => spawnSync(cmd, ['--version'], { env, stdio: 'ignore' }).status === 0;
  const missing = [];
  if (!runs('cargo'))
    missing.push(
      "Rust's cargo is not on PATH: install Rust from https://rustup.rs (or your system's package: apt-get install cargo, apk add cargo, brew install rust)"
    );
  const cxx = env.CXX || 'c++';
  if (!runs(cxx))
    missing.push(
      `no C++ compiler (${cxx}) on PATH: install one (apt-get install g++, apk add g++, xcode-select --install on macOS) or name it in CXX`
    );
  return missing;
}

/** The running Node's headers, where build.rs looks for them; null when they are not there. */
function nodeHeaders(env = process.env) {
  if (env.LEAKWATCH_NODE_INCLUDE) return env.LEAKWATCH_NODE_INCLUDE;
  const candidates = [
    env.npm_config_nodedir && path.join(env.npm_config_nodedir, 'include', 'node'),
    path.join(path.dirname(process.execPath), '..', 'include', 'node'),
  ];
  return candidates.find((dir) => dir && fs.existsSync(path.join(dir, 'v8.h'))) || null;
}

/** Builds into native/; returns lines saying what was built. Throws a UserError on failure. */
function buildFromSource({ keep = false } = {}) {
  const missing = missingTools();
  if (missing.length) throw new UserError(`cannot build leakwatch from source here:\n  - ${missing.join('\n  - ')}`);
  const lines = [];
  if (!nodeHeaders()) {
    lines.push(
      `note: no Node headers beside ${process.execPath} (include/node/v8.h): the V8 GC shim is not built and GC events will come from perf_hooks; set LEAKWATCH_NODE_INCLUDE to the folder holding v8.h for V8 GC callbacks`
    );
  }
  const targetDir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakwatch-build-'));
  try {
    const library = cargoBuild(targetDir);
    fs.mkdirSync(NATIVE, { recursive: true });
    fs.copyFileSync(library, path.join(NATIVE, ADDON_FILE));
  } finally {
    if (!keep) fs.rmSync(targetDir, { recursive: true, force: true });
  }
  lines.push(`built ${path.join(NATIVE, ADDON_FILE)}`);
  const shim = path.join(NATIVE, shimFile());
  if (fs.existsSync(shim)) lines.push(`built ${shim} (V8 GC shim for Node ${process.versions.node})`);
  return lines;
}

/** `cargo build --release` of the addon; returns the path of the shared library it made. */
function cargoBuild(targetDir) {
  const args = ['build', '--release', '--lib', '--locked', '--message-format=json-render-diagnostics'];
  // NODE: build.rs compiles the shim against the headers of the Node that runs this command.
  const env = { ...process.env, CARGO_TARGET_DIR: targetDir, NODE: process.execPath };
  const run = spawnSync('cargo', args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (run.status !== 0)
    throw new UserError(`cargo build failed (exit ${run.status ?? run.signal}); its messages are above`);
  for (const line of run.stdout.split('\n').reverse()) {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      continue;
    }
    if (message.reason === 'compiler-artifact' && message.target?.kind?.includes('cdylib')) {
      const library = message.filenames.find((f) => /\.(so|dylib|dll)$/.test(f));
      if (library) return library;
    }
  }
  throw new UserError('cargo build succeeded but named no shared library');
}

module.exports = { buildFromSource };
