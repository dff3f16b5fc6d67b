'use strict';
// What a user of a platform with a prebuilt package gets, for real: the main package and this
// platform's package are packed (`npm pack`), installed into a fresh app with npm, with no
// cargo and no C++ compiler on PATH, and the app runs under `node -r leakwatch/register` with
// V8 GC callbacks; `npx leakwatch report` reads the log it wrote. Then the same app without
// the platform package: leakwatch says what is missing, and the app still runs.
//
// scripts/test-all-nodes.js runs this under Node 20, 22 and 24: each run installs with, and
// runs under, its own Node.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, tempDir } = require('./helpers');
const { TRIPLE, PLATFORM_PACKAGE, shimFile } = require('../js/platform');
const { layOut, SUPPORTED_ABIS } = require('../scripts/platform-package');

const NATIVE = path.join(ROOT, 'native');
const MB = 1024 * 1024;
const unbuilt = Object.keys(SUPPORTED_ABIS).filter((abi) => !fs.existsSync(path.join(NATIVE, shimFile(abi))));
// npm test builds every shim when LEAKWATCH_TEST_NODES lists Node 22 and 24, as .ci/run does.
const skip =
  unbuilt.length > 0 &&
  !process.env.CI &&
  `native/ has no shim for NODE_MODULE_VERSION ${unbuilt.join(', ')} (set LEAKWATCH_TEST_NODES, as .ci/run does)`;

/** npm's own script, run by this Node (the registry's Node packages carry no npm). */
function npmCli() {
  if (process.env.npm_execpath?.endsWith('npm-cli.js')) return process.env.npm_execpath;
  const onPath = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim();
  return path.join(path.dirname(fs.realpathSync(onPath)), 'npm-cli.js');
}

/** A PATH with this Node, npm and a shell (npx runs bins through one): no cargo, no C++ compiler. */
function bareEnv(dir) {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
  const npm = npmCli();
  fs.writeFileSync(path.join(bin, 'npm'), `#!/bin/sh\nexec "${process.execPath}" "${npm}" "$@"\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(bin, 'npx'), `#!/bin/sh\nexec "${process.execPath}" "${npm}" exec -- "$@"\n`, {
    mode: 0o755,
  });
  const env = { PATH: bin, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR || '/tmp' };
  // The cache the checkout's own `npm install` filled: d3 comes from there, not the network.
  env.npm_config_cache = process.env.npm_config_cache || path.join(process.env.HOME, '.npm');
  return env;
}

function sh(cmd, args, opts) {
  const run = spawnSync(cmd, args, { encoding: 'utf8', timeout: 180_000, ...opts });
  assert.equal(run.status, 0, `${cmd} ${args.join(' ')}: exit ${run.status}\n${run.stdout}\n${run.stderr}`);
  return run;
}

function duBytes(dir) {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? duBytes(p) : fs.lstatSync(p).size;
  }
  return total;
}

const APP = `
  const lw = require('leakwatch');
  const keep = [];
  for (let i = 0; i < 40; i++) { keep.push(new Array(50_000).fill(i)); if (keep.length > 5) keep.shift(); }
  require('node:v8').setFlagsFromString('--expose-gc');
  require('node:vm').runInNewContext('gc')();
  const s = lw.stats();
  console.log(JSON.stringify({ gcSource: s.gcSource, reason: s.gcFallbackReason, shim: s.gcShim, full: s.gc.sinceStart.kinds.markSweepCompact?.count ?? 0 }));
`;

test(
  `npm install of the packed leakwatch and ${PLATFORM_PACKAGE}, with no compiler: V8 GC callbacks under ${process.version}`,
  { skip, timeout: 300_000 },
  (t) => {
    assert.deepEqual(unbuilt, [], 'CI builds a shim for every supported Node');
    const dir = tempDir('lw-install-');
    const env = bareEnv(dir);
    assert.notEqual(
      spawnSync('/bin/sh', ['-c', 'command -v cargo || command -v c++ || command -v cc || command -v gcc'], { env })
        .status,
      0,
      'no toolchain on PATH'
    );

    // The two tarballs, as they would be published.
    layOut(NATIVE, path.join(dir, 'platform'));
    const packed = (from) =>
      path.join(
        dir,
        sh('npm', ['pack', '--silent', '--pack-destination', dir, from], { cwd: dir }).stdout.trim().split('\n').pop()
      );
    const main = packed(ROOT);
    const platform = packed(path.join(dir, 'platform'));
    const mainFiles = sh('tar', ['tzf', main]).stdout;
    assert.doesNotMatch(mainFiles, /^package\/(target|native|node_modules)\//m, 'no build output in the main package');

    // A fresh app: leakwatch from its tarball, its optional dependency on this platform's
    // package resolved to the other tarball (it is not on the registry).
    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    const manifest = {
      name: 'app',
      private: true,
      dependencies: { leakwatch: `file:${main}` },
      overrides: { [PLATFORM_PACKAGE]: `file:${platform}` },
    };
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify(manifest, null, 2));
    fs.writeFileSync(path.join(app, 'app.js'), APP);
    const started = Date.now();
    const install = sh(path.join(dir, 'bin', 'npm'), ['install', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: app,
      env,
    });
    const installMs = Date.now() - started;
    assert.doesNotMatch(install.stderr, /install-scripts|gyp|cargo/i);

    const modules = path.join(app, 'node_modules');
    const ours = duBytes(path.join(modules, 'leakwatch')) + duBytes(path.join(modules, PLATFORM_PACKAGE));
    const deps = Object.keys(require(path.join(modules, 'leakwatch', 'package.json')).dependencies);
    t.diagnostic(
      `installed in ${(installMs / 1000).toFixed(1)} s; leakwatch + ${PLATFORM_PACKAGE}: ${(ours / MB).toFixed(2)} MB; node_modules: ${(duBytes(modules) / MB).toFixed(2)} MB (${deps.join(', ')})`
    );
    assert.ok(ours <= 5 * MB, `leakwatch and its platform package take ${(ours / MB).toFixed(2)} MB`);
    assert.ok(!fs.existsSync(path.join(modules, '@napi-rs')), 'no build tool installed');
    assert.ok(!fs.existsSync(path.join(modules, 'leakwatch', 'native')), 'nothing built at install');

    // The app under leakwatch/register: V8 callbacks from the prebuilt shim for this Node.
    const log = path.join(dir, 'memory.log');
    const runEnv = { ...env, LEAKWATCH_LOG: log, LEAKWATCH_INTERVAL: '500ms' };
    const run = sh('node', ['-r', 'leakwatch/register', 'app.js'], { cwd: app, env: runEnv });
    const out = JSON.parse(run.stdout);
    assert.equal(out.gcSource, 'v8', out.reason);
    assert.equal(out.shim.node, process.versions.node);
    assert.ok(out.full >= 1, run.stdout);
    assert.doesNotMatch(run.stderr, /LeakwatchWarning/);

    const report = sh(path.join(dir, 'bin', 'npx'), ['leakwatch', 'report', log], { cwd: app, env });
    assert.match(report.stdout, /^Lines {6}1 leakwatch lines \(1 memory, 0 warning\)/m);
    assert.match(report.stdout, /GC pauses {2}\d+ GCs since start: .*\n.*markSweepCompact [1-9]/);

    // Without the platform package (an install that left optional dependencies out): a clear
    // error from require('leakwatch'), a warning from register, and the app runs on.
    fs.rmSync(path.join(modules, PLATFORM_PACKAGE), { recursive: true });
    const bare = spawnSync(
      'node',
      ['-e', "try { require('leakwatch') } catch (e) { console.log(JSON.stringify([e.code, e.message])) }"],
      { cwd: app, env, encoding: 'utf8' }
    );
    const [code, message] = JSON.parse(bare.stdout);
    assert.equal(code, 'LEAKWATCH_NATIVE_MISSING');
    assert.match(
      message,
      new RegExp(
        `no native addon for ${TRIPLE}: the prebuilt package ${PLATFORM_PACKAGE} is not installed .*npx leakwatch build`
      )
    );
    const registered = spawnSync('node', ['-r', 'leakwatch/register', '-e', "console.log('app ran')"], {
      cwd: app,
      env,
      encoding: 'utf8',
    });
    assert.equal(registered.status, 0, registered.stderr);
    assert.equal(registered.stdout, 'app ran\n');
    assert.match(
      registered.stderr,
      /\[LEAKWATCH_START_FAILED\] LeakwatchWarning: leakwatch could not start and is off: .*no native addon/
    );

    // Building from source here says what is missing, and how to get it.
    const build = spawnSync(path.join(dir, 'bin', 'npx'), ['leakwatch', 'build'], { cwd: app, env, encoding: 'utf8' });
    assert.equal(build.status, 1, build.stderr);
    assert.match(
      build.stderr,
      /cannot build leakwatch from source here:\n {2}- Rust's cargo is not on PATH: install Rust from https:\/\/rustup\.rs.*\n {2}- no C\+\+ compiler \(c\+\+\) on PATH/
    );
  }
);
