'use strict';
// leakwatch/testing in the runners people use, for real: node:test (CommonJS and ESM), mocha
// and jest each run a small project under __test__/runners/ with a leaky test, which must fail
// with the readable message, and a clean test, which must pass and print nothing of ours.
// Under jest each test file has its own module registry and vm context; counted.test.js
// checks that listeners added by code loaded there are still counted.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { tempDir } = require('./helpers');

const RUNNERS = path.join(__dirname, 'runners');
// Each runner's own entry point, run by the Node running this suite (not whichever `node` is
// first on PATH): the suite runs under each supported Node in turn.
const MOCHA = path.join(__dirname, '..', 'node_modules', 'mocha', 'bin', 'mocha.js');
const JEST = path.join(__dirname, '..', 'node_modules', 'jest', 'bin', 'jest.js');
const TIMEOUT_MS = 120_000;

/** Runs a command in a runner project; resolves {code, stdout, stderr}. */
function run(cwd, command, args) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, NODE_OPTIONS: '', FORCE_COLOR: '0', NO_COLOR: '1' };
    delete env.NODE_TEST_CONTEXT; // set by the node:test running this file; the child runs its own
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The leaky test's message names the listener group, its rate, its line and the heap growth. */
function assertReadable(message) {
  assert.match(message, /assertNoLeak: leaks that grow with the number of calls \(400 calls/);
  assert.match(message, /EventEmitter 'config-changed': \+1\.00 per call \(\+400 over 400 calls\)/);
  assert.match(message, /added at \S*app\.js:\d+:\d+/);
  assert.match(message, /Heap after full GC: \+1\.\d\d KB per call .* confidence that it rises/);
}

// Nothing of ours on stderr: no leakwatch warning, no Node warning from our own probes.
// Under jest's sandbox Node's one-time "vm.measureMemory is experimental" notice cannot be
// held back (jest hands out its own process object), so jest is checked without it.
function assertQuiet(stderr, { allowExperimental = false } = {}) {
  assert.doesNotMatch(stderr, /LeakwatchWarning|MaxListenersExceeded|LEAKWATCH_/);
  if (!allowExperimental) assert.doesNotMatch(stderr, /ExperimentalWarning/);
}

test(
  'node:test: the leaky test fails with the readable message, the clean one passes (CommonJS and ESM)',
  { timeout: TIMEOUT_MS },
  async () => {
    const dir = path.join(RUNNERS, 'node-test');
    const { code, stdout, stderr } = await run(dir, process.execPath, [
      '--test',
      '--test-reporter=tap',
      'handler.test.js',
      'handler.test.mjs',
    ]);
    assert.equal(code, 1, stdout + stderr);
    for (const prefix of ['', 'esm ']) {
      assert.match(stdout, new RegExp(`^not ok \\d+ - ${prefix}leaky: subscribes and caches per request$`, 'm'));
      assert.match(stdout, new RegExp(`^ok \\d+ - ${prefix}fixed: unsubscribes and forgets$`, 'm'));
    }
    assertReadable(stdout);
    assertQuiet(stderr);
  }
);

test(
  'mocha: the leaky test fails with the readable message, the clean one passes',
  { timeout: TIMEOUT_MS },
  async () => {
    const dir = path.join(RUNNERS, 'mocha');
    const out = path.join(tempDir('lw-mocha-'), 'report.json');
    const { stderr } = await run(dir, process.execPath, [
      MOCHA,
      '--reporter',
      'json',
      '--reporter-option',
      `output=${out}`,
      'handler.spec.js',
    ]);
    const report = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.deepEqual(
      report.passes.map((t) => t.title),
      ['fixed: unsubscribes and forgets']
    );
    assert.deepEqual(
      report.failures.map((t) => t.title),
      ['leaky: subscribes and caches per request']
    );
    assert.equal(report.failures[0].err.code, 'ERR_ASSERTION');
    assertReadable(report.failures[0].err.message);
    assertQuiet(stderr);
  }
);

test(
  'mocha: a later tracker counts only its own adds, not what an earlier test left or what came before tracking',
  { timeout: TIMEOUT_MS },
  async () => {
    const dir = path.join(RUNNERS, 'mocha');
    const out = path.join(tempDir('lw-mocha-'), 'report.json');
    const { stderr } = await run(dir, process.execPath, [
      MOCHA,
      '--reporter',
      'json',
      '--reporter-option',
      `output=${out}`,
      'baseline.spec.js',
    ]);
    const report = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.deepEqual(
      report.failures.map((t) => `${t.title}: ${t.err.message}`),
      []
    );
    assert.equal(report.passes.length, 2);
    assertQuiet(stderr);
  }
);

test(
  'jest: the leaky test fails with the readable message, the clean one passes, listeners are counted',
  { timeout: TIMEOUT_MS },
  async () => {
    const dir = path.join(RUNNERS, 'jest');
    const out = path.join(tempDir('lw-jest-'), 'report.json');
    const { stderr } = await run(dir, process.execPath, [JEST, '--json', `--outputFile=${out}`]);
    const report = JSON.parse(fs.readFileSync(out, 'utf8'));
    const results = new Map();
    for (const file of report.testResults) {
      for (const t of file.assertionResults) results.set(`${path.basename(file.name)}: ${t.title}`, t);
    }
    assert.equal(results.get('clean.test.js: fixed: unsubscribes and forgets').status, 'passed');
    assert.equal(
      results.get('counted.test.js: listeners added under jest are counted, with their call site').status,
      'passed'
    );
    for (const title of [
      'an earlier check passes and leaves listeners attached',
      'a later tracker counts only what was added under it, at its own line',
    ]) {
      const t = results.get(`baseline.test.js: ${title}`);
      assert.equal(t?.status, 'passed', t?.failureMessages.join('\n'));
    }
    const leaky = results.get('leaky.test.js: leaky: subscribes and caches per request');
    assert.equal(leaky.status, 'failed');
    assertReadable(leaky.failureMessages.join('\n'));
    assertQuiet(stderr, { allowExperimental: true });
  }
);
