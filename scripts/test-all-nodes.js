'use strict';
// The JS half of `npm test`: builds leakwatch from source as the prebuilt package carries it,
// then runs every __test__/*.test.js under each Node version to support.
//
//   node scripts/test-all-nodes.js
//
// The versions: the Node running this script, then each node binary in LEAKWATCH_TEST_NODES
// (colon-separated, with its headers in <bin>/../include/node; .ci/run fetches Node 22 and 24
// from the npm registry). One build goes to native/: the Node-API addon, which loads under
// every Node, and one V8 GC shim per version, each compiled against that Node's headers
// (build.rs, through LEAKWATCH_NODE_INCLUDE). Every suite loads that one build, and each Node
// picks its own shim, as from the platform package.
//
// Per version it prints which GC source leakwatch uses there, the suite's counts and its time;
// it exits non-zero if the build or a test failed.

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const TESTS = path.join(ROOT, '__test__');

/** The nodes to test, this one first, one per version. */
function nodesToTest() {
  const listed = (process.env.LEAKWATCH_TEST_NODES || '').split(':').filter(Boolean);
  const byVersion = new Map();
  for (const bin of [process.execPath, ...listed]) {
    const version = spawnSync(bin, ['-v'], { encoding: 'utf8' }).stdout?.trim();
    if (!version) throw new Error(`LEAKWATCH_TEST_NODES: ${bin} does not run`);
    if (!byVersion.has(version)) byVersion.set(version, bin);
  }
  return [...byVersion].map(([version, bin]) => ({ version, bin }));
}

/** The environment every child starts from: nothing inherited that points at another build. */
function baseEnv(nodes) {
  const env = { ...process.env, LEAKWATCH_TEST_NODES: nodes.map((n) => n.bin).join(':') };
  delete env.LEAKWATCH_NATIVE_DIR;
  delete env.LEAKWATCH_SHIM_PATH;
  return env;
}

/** `npm run build` with a shim and a code cache for every node in `nodes`; true when it worked. */
function build(nodes, env) {
  const includes = nodes.map((n) => path.join(path.dirname(n.bin), '..', 'include', 'node'));
  const bins = nodes.map((n) => n.bin).join(path.delimiter);
  const buildEnv = { ...env, LEAKWATCH_NODE_INCLUDE: includes.join(path.delimiter), LEAKWATCH_CODE_CACHE_NODES: bins };
  return spawnSync('npm', ['run', 'build'], { cwd: ROOT, env: buildEnv, stdio: 'inherit' }).status === 0;
}

/** What leakwatch says about its GC source under `node` with the build in `env`. */
function gcSource(node, env) {
  const code =
    "const lw = require('.'); lw.start({ log: 'off' }); const s = lw.stats(); lw.stop(); console.log(JSON.stringify(s));";
  const run = spawnSync(node.bin, ['-e', code], { cwd: ROOT, env, encoding: 'utf8' });
  if (run.status !== 0) return `leakwatch does not start: ${run.stderr.trim()}`;
  const s = JSON.parse(run.stdout);
  if (s.gcSource === 'v8') return `gcSource v8 (shim built against Node ${s.gcShim.node} headers)`;
  return `gcSource ${s.gcSource} (${s.gcFallbackReason})`;
}

// Files that keep both cores busy (cargo; servers under load for minutes): run alone, after the
// others and under the first Node only, so that they do not slow the timing-sensitive files
// (trend verdicts) beside them, nor are slowed by them.
const ALONE = ['build-from-source.test.js', 'workloads.test.js'];

/** The test files of a run: the ones run side by side, or those run `alone`. */
function testFiles(alone) {
  return fs
    .readdirSync(TESTS)
    .filter((f) => f.endsWith('.test.js') && ALONE.includes(f) === alone)
    .sort()
    .map((f) => path.join(TESTS, f));
}

/** Runs test files under `node`, echoing TAP; resolves {pass, fail, skipped, seconds}. */
function runSuite(node, env, files) {
  const started = Date.now();
  const child = spawn(node.bin, ['--test', '--test-reporter=tap', ...files], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const counts = { pass: 0, fail: 0, skipped: 0, cancelled: 0 };
  let pending = '';
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    const lines = (pending + chunk).split('\n');
    pending = lines.pop();
    for (const line of lines) {
      const m = /^# (pass|fail|skipped|cancelled) (\d+)$/.exec(line);
      if (m) counts[m[1]] = Number(m[2]);
    }
  });
  return new Promise((resolve) => {
    child.on('close', (code) => {
      // A run that died before its summary, or cancelled tests, count as failures.
      const fail = counts.fail + counts.cancelled + (code !== 0 && counts.fail === 0 ? 1 : 0);
      resolve({ pass: counts.pass, fail, skipped: counts.skipped, seconds: Math.round((Date.now() - started) / 1000) });
    });
  });
}

async function main() {
  const nodes = nodesToTest();
  const env = baseEnv(nodes);
  console.log(`== build: the addon, and a V8 GC shim for ${nodes.map((n) => n.version).join(', ')}`);
  if (!build(nodes, env)) {
    console.log('total: 0 passed, 1 failed (the build failed)');
    process.exitCode = 1;
    return;
  }
  const results = [];
  for (const node of nodes) {
    console.log(`\n== Node ${node.version}: test`);
    const source = gcSource(node, env);
    console.log(`Node ${node.version}: ${source}`);
    const suite = await runSuite(node, env, testFiles(false));
    if (node === nodes[0]) {
      console.log(`\n== Node ${node.version}: ${ALONE.join(', ')}, alone`);
      const alone = await runSuite(node, env, testFiles(true));
      for (const key of ['pass', 'fail', 'skipped', 'seconds']) suite[key] += alone[key];
    }
    results.push({ node, line: source, ...suite });
  }
  report(results);
}

function report(results) {
  console.log('\n== Node versions');
  for (const r of results) {
    console.log(
      `Node ${r.node.version}: ${r.line}; ${r.pass} passed, ${r.fail} failed, ${r.skipped} skipped in ${r.seconds} s`
    );
  }
  if (results.length === 1) console.log('(only this Node: set LEAKWATCH_TEST_NODES to test others, as .ci/run does)');
  const sum = (key) => results.reduce((total, r) => total + r[key], 0);
  console.log(`total: ${sum('pass')} passed, ${sum('fail')} failed, ${sum('skipped')} skipped`);
  process.exitCode = sum('fail') > 0 ? 1 : 0;
}

main();
