'use strict';
// index.d.ts and testing.d.ts against the code: __test__/types/usage.ts, the public API as a
// TypeScript user writes it, must compile under `tsc --strict` and, compiled, run against the
// real package (it checks at run time each value it reads). Emitted into target/ (inside the
// package, so `require('leakwatch')` finds this package by its own name).

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT } = require('./helpers');

const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

test('the declared types compile in strict mode and hold at run time', { timeout: 120_000 }, () => {
  const out = path.join(ROOT, 'target', `types-${process.pid}`);
  try {
    const args = [
      TSC,
      '--ignoreConfig', // the repo's tsconfig.json checks js/; this compiles one file on its own
      '--strict',
      '--noEmitOnError',
      '--module',
      'node16',
      '--moduleResolution',
      'node16',
      '--target',
      'es2022',
      '--types',
      'node',
      '--rootDir',
      ROOT,
      '--outDir',
      out,
      path.join(__dirname, 'types', 'usage.ts'),
    ];
    const tsc = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
    assert.equal(tsc.status, 0, `tsc:\n${tsc.stdout}${tsc.stderr}`);
    const run = spawnSync(process.execPath, [path.join(out, '__test__', 'types', 'usage.js')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
      timeout: 60_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'types: ok\n');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
