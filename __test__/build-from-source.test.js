'use strict';
// Building from source, as a user on a platform with no prebuilt package would: an installed
// copy of the packed main package (no native/ in it) runs `npx leakwatch build`, which needs
// cargo and a C++ compiler, writes native/ and keeps nothing of cargo's build folder; the
// build it made is the one leakwatch then loads, with V8 GC callbacks.
//
// cargo keeps both cores busy for ~30 s: scripts/test-all-nodes.js runs this file on its own,
// after the other files, so that it does not slow the timing-sensitive ones beside it.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, tempDir } = require('./helpers');
const { TRIPLE, shimFile } = require('../js/platform');

function sh(cmd, args, opts) {
  const run = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000, ...opts });
  assert.equal(run.status, 0, `${cmd} ${args.join(' ')}: exit ${run.status}\n${run.stdout}\n${run.stderr}`);
  return run;
}

// Once per `npm test` (under its first Node): one build shows the path; each Node would repeat it.
const firstNode = (process.env.LEAKWATCH_TEST_NODES || process.execPath).split(':')[0] === process.execPath;

test(
  'npx leakwatch build: an installed copy builds from source, keeps nothing of cargo, and its build is the one loaded',
  { skip: !firstNode && 'run under the first Node only', timeout: 600_000 },
  () => {
    const dir = tempDir('lw-build-');
    const tarball = path.join(
      dir,
      sh('npm', ['pack', '--silent', '--pack-destination', dir, ROOT], { cwd: dir }).stdout.trim().split('\n').pop()
    );
    const pkg = path.join(dir, 'app', 'node_modules', 'leakwatch');
    fs.mkdirSync(pkg, { recursive: true });
    sh('tar', ['xzf', tarball, '-C', pkg, '--strip-components=1']);
    const tmp = path.join(dir, 'tmp');
    fs.mkdirSync(tmp);
    const env = { ...process.env, TMPDIR: tmp };
    for (const name of ['LEAKWATCH_NATIVE_DIR', 'LEAKWATCH_SHIM_PATH', 'LEAKWATCH_NODE_INCLUDE']) delete env[name];

    const build = sh(process.execPath, [path.join(pkg, 'js', 'cli.js'), 'build'], { cwd: path.join(dir, 'app'), env });
    assert.match(
      build.stdout,
      new RegExp(
        `^built .*native/leakwatch\\.${TRIPLE}\\.node\\nbuilt .*native/${shimFile().replace(/\./g, '\\.')} \\(V8 GC shim for Node ${process.versions.node}\\)\\n$`
      )
    );
    assert.deepEqual(fs.readdirSync(tmp), [], "cargo's build folder is removed");

    const code =
      "const lw = require('leakwatch'); lw.start({ log: 'off' }); console.log(JSON.stringify([lw.stats().gcSource, require.resolve('leakwatch'), Object.keys(require.cache).filter((f) => f.endsWith('.node'))])); lw.stop();";
    const run = sh(process.execPath, ['-e', code], { cwd: path.join(dir, 'app'), env });
    assert.deepEqual(JSON.parse(run.stdout), [
      'v8',
      path.join(pkg, 'js', 'index.js'),
      [path.join(pkg, 'native', `leakwatch.${TRIPLE}.node`)],
    ]);
  }
);
