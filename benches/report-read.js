'use strict';
// How fast `leakwatch report` and `plot` read a large log, against a reference: the same lines
// read and JSON.parse'd and nothing else. Wall time of a fresh process each, alternating, on
// a generated log of two processes (__test__/fixtures/make-log.js); MB/s of log read.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { writeLog } = require('../__test__/fixtures/make-log');
const { median, table } = require('./harness');

const CLI = path.join(__dirname, '..', 'js', 'cli.js');

// The reference: every line read and parsed, with nothing else done.
const PARSE_ONLY = `
  const rl = require('node:readline').createInterface({ input: require('node:fs').createReadStream(process.argv[1]) });
  let n = 0;
  rl.on('line', (line) => { try { JSON.parse(line); n++; } catch {} });
  rl.on('close', () => console.log(n));`;

function wallMs(args) {
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${args.join(' ')} failed: ${run.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function reportRead({ points, rounds }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakwatch-bench-report-'));
  try {
    const log = path.join(dir, 'big.log');
    writeLog(log, {
      processes: [
        { pid: 1, leaky: true, leakBytesPerPoint: 200 },
        { pid: 2, leaky: false },
      ],
      points,
      intervalMs: 200,
      foreignEvery: 1000,
    });
    const mb = fs.statSync(log).size / 2 ** 20;
    const arms = {
      'JSON.parse of each line (reference)': ['-e', PARSE_ONLY, log],
      'leakwatch report': [CLI, 'report', log, '--no-progress'],
      'leakwatch plot (.svg)': [CLI, 'plot', log, '-o', path.join(dir, 'big.svg'), '--no-progress'],
    };
    const times = Object.fromEntries(Object.keys(arms).map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const [name, args] of Object.entries(arms)) times[name].push(wallMs(args));
    }
    const reference = median(times['JSON.parse of each line (reference)']);
    console.log(
      `\n(g) reading a log: ${(2 * points).toLocaleString('en')} memory lines, ${mb.toFixed(0)} MB, wall time of a fresh process, median of ${rounds}`
    );
    const rows = Object.entries(times).map(([name, ms]) => [
      name,
      `${(mb / (median(ms) / 1000)).toFixed(1)} MB/s`,
      `${(median(ms) / reference).toFixed(2)}× the reference's time`,
    ]);
    console.log(table(['reader', 'speed', 'time'], rows));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { reportRead };
