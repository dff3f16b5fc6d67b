'use strict';

// `leakwatch report` as a person uses it: run the CLI on generated logs and
// read what it prints. Also the 1,000,000-line case (bounded memory)
// and, when the recorder is built, logs written by real processes.

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { writeLog, FOREIGN_LINES, MiB, START_TIME } = require('./fixtures/make-log');

const ROOT = path.join(__dirname, '..');
const CLI = path.join(ROOT, 'js', 'cli.js');

let dir;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakwatch-report-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function runCli(args, options = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, ...options });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

// One leaky and one healthy process in the same file, an app's own output
// mixed in (one foreign line per 7 records) and warning lines.
function mixedLog() {
  return writeLog(path.join(dir, 'mixed.log'), {
    processes: [
      { pid: 4242, leaky: true, trend: true },
      { pid: 5151, leaky: false },
    ],
    points: 300,
    foreignEvery: 7,
  });
}

function sectionOf(text, pid) {
  const start = text.indexOf(`== pid ${pid} `);
  assert.notEqual(start, -1, `no section for pid ${pid} in:\n${text}`);
  const next = text.indexOf('\n== pid ', start + 1);
  return text.slice(start, next === -1 ? undefined : next);
}

describe('report on generated logs', () => {
  test('a leaky and a healthy process in one file are told apart', () => {
    const { code, stdout, stderr } = runCli(['report', mixedLog()]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^Verdict +pid 4242 on test-host: heap, rss, external, listeners LEAKING$/m);
    assert.match(stdout, /^Processes +2: pid 4242 on test-host, pid 5151 on test-host$/m);

    const leaky = sectionOf(stdout, 4242);
    assert.match(leaky, /Heap verdict: LEAKING \+\d+(\.\d)? MiB\/min \(from baseline, p<0\.001/);
    assert.match(leaky, /^ +baseline +\S+ MiB +\S+ MiB .*LEAKING/m);
    assert.match(leaky, /^ +fds .* stable/m);
    assert.match(leaky, /Recorder's trend \(last line, .*\): heap leaking/);
    assert.match(leaky, /\+149 +Socket 'data' +1 -> 150 live +at lib\/pool\.js:42:7/);
    assert.match(leaky, /7x LEAKWATCH_LISTENER_GROWTH/);
    assert.match(leaky, /GC pauses +\S+ GCs since start: p50 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms/);

    const healthy = sectionOf(stdout, 5151);
    assert.match(healthy, /Heap verdict: stable/);
    assert.doesNotMatch(healthy, /LEAKING|growing/);
    assert.match(healthy, /Warnings +none/);
  });

  test('foreign and malformed lines are counted and skipped', () => {
    const { stdout } = runCli(['report', '--json', mixedLog()]);
    const { lines } = JSON.parse(stdout);
    // 600 memory + 7 warning records; a foreign line after every 7th record.
    const foreignLines = Math.floor(607 / 7);
    const inserted = Array.from({ length: foreignLines }, (_, k) => FOREIGN_LINES[(k + 1) % FOREIGN_LINES.length]);
    const cutShort = inserted.filter((l) => l.includes('"lw"')).length; // leakwatch lines cut short
    assert.equal(lines.records, 607);
    assert.equal(lines.skipped, foreignLines);
    assert.equal(lines.malformed, cutShort);
    assert.equal(lines.foreign, foreignLines - cutShort);
    const text = runCli(['report', mixedLog()]).stdout;
    assert.match(text, new RegExp(`; ${foreignLines} skipped \\(\\d+ other output, \\d+ malformed\\)`));
  });

  test('a healthy log gets no growth verdict', () => {
    const file = writeLog(path.join(dir, 'healthy.log'), { processes: [{ pid: 777, leaky: false }], points: 300 });
    const { code, stdout } = runCli(['report', file]);
    assert.equal(code, 0);
    assert.match(stdout, /^Verdict +no growth found$/m);
    assert.match(stdout, /none skipped/);
  });

  test('--json gives every process its own trends, threads included', () => {
    const file = writeLog(path.join(dir, 'threads.log'), {
      processes: [
        { pid: 900, threadId: 0, leaky: false },
        { pid: 900, threadId: 1, leaky: true, warnings: false },
      ],
      points: 200,
    });
    const { code, stdout } = runCli(['report', '--json', file]);
    assert.equal(code, 0);
    const summary = JSON.parse(stdout);
    assert.equal(summary.processes.length, 2);
    const byThread = Object.fromEntries(summary.processes.map((p) => [p.threadId, p]));
    assert.equal(byThread[0].trends.heap.state, 'stable');
    assert.equal(byThread[1].trends.heap.state, 'leaking');
    assert.ok(byThread[1].trends.heap.slopePerMin > 10 * MiB);
    assert.equal(byThread[1].memoryLines, 200);
    assert.equal(summary.timeSpan.durationMs, 199_000);
  });

  test('a short log (10 points) still reports, without pretending to know a trend', () => {
    const file = writeLog(path.join(dir, 'short.log'), {
      processes: [{ pid: 1, leaky: false }],
      points: 10,
      intervalMs: 200,
    });
    const { code, stdout } = runCli(['report', file]);
    assert.equal(code, 0);
    assert.match(
      stdout,
      /^Verdict +no growth found in rss, external, fds, listeners; not enough full GCs yet to judge the heap$/m
    );
    assert.match(stdout, /Heap verdict: insufficient data/);
    assert.match(stdout, /^Time span .*\(1\.8 s\)$/m);
  });

  test("a heap warning's allocation sites are listed under it, packages and built-ins named by the app's call", () => {
    const file = writeLog(path.join(dir, 'sites.log'), {
      processes: [{ pid: 77, leaky: true, warnings: false }],
      points: 60,
    });
    const app = (fn, location) => ({
      function: fn,
      location,
      file: `/srv/${location.split(':')[0]}`,
      line: 1,
      column: 1,
    });
    const sites = [
      { ...app('saveSession', 'src/cache.js:34:3'), caller: null, package: null, growthBytes: 12.3 * MiB, share: 0.71 },
      {
        ...app('clone', 'node_modules/clone/index.js:5:3'),
        caller: app('saveSession', 'src/cache.js:34:3'),
        package: { name: 'clone', version: '2.1.2' },
        growthBytes: 2.1 * MiB,
        share: 0.12,
      },
      {
        function: 'parse',
        location: '(native code)',
        file: '',
        line: 0,
        column: 0,
        caller: app('quote', 'src/quote.js:12:5'),
        package: null,
        growthBytes: MiB,
        share: 0.06,
      },
    ];
    const warning = {
      lw: 1,
      event: 'warning',
      time: START_TIME + 59_000,
      pid: 77,
      hostname: 'test-host',
      threadId: 0,
      code: 'LEAKWATCH_HEAP_GROWTH',
      message: 'Possible memory leak: the heap left after full GCs grew 17.3 MB in 40 s.',
      details: { allocationSites: sites },
    };
    fs.appendFileSync(file, `${JSON.stringify(warning)}\n`);
    const { code, stdout } = runCli(['report', file]);
    assert.equal(code, 0);
    assert.match(stdout, /\n {11}\+12\.3 MiB \(71 %\) allocated at src\/cache\.js:34:3 \(saveSession\)\n/);
    assert.match(
      stdout,
      /\n {11}\+2\.1 MiB \(12 %\) allocated at clone@2\.1\.2 node_modules\/clone\/index\.js:5:3 \(clone, called from src\/cache\.js:34:3 in saveSession\)\n/
    );
    assert.match(stdout, /\n {11}\+1\.0 MiB \(6 %\) allocated at src\/quote\.js:12:5 \(parse\(\) in quote\)\n/);
  });

  test('- reads standard input', () => {
    const input = fs.readFileSync(mixedLog());
    const { code, stdout } = runCli(['report', '-'], { input });
    assert.equal(code, 0);
    assert.match(stdout, /^leakwatch report: stdin$/m);
    assert.match(stdout, /pid 4242 on test-host: heap/);
  });
});

describe('report errors are one line and a non-zero exit', () => {
  function assertOneLineError(result, pattern, exitCode = 1) {
    assert.equal(result.code, exitCode, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, pattern);
    assert.equal(result.stderr.trim().split('\n').length, 1, `more than one line:\n${result.stderr}`);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  }

  test('missing file', () => {
    assertOneLineError(runCli(['report', path.join(dir, 'nope.log')]), /^leakwatch: no such file: .*nope\.log$/m);
  });

  test('a log with no leakwatch lines', () => {
    const file = path.join(dir, 'app-only.log');
    fs.writeFileSync(file, 'Server listening on 3000\n{"level":30,"msg":"hi"}\n');
    assertOneLineError(runCli(['report', file]), /no leakwatch lines in .*app-only\.log \(2 other lines skipped\)/);
  });

  test('an empty file', () => {
    const file = path.join(dir, 'empty.log');
    fs.writeFileSync(file, '');
    assertOneLineError(runCli(['report', file]), /no leakwatch lines in .*empty\.log/);
  });

  test('a directory', () => {
    assertOneLineError(runCli(['report', dir]), /is a directory/);
  });

  test('bad flags and commands', () => {
    assertOneLineError(runCli(['report', '--jsn', 'x.log']), /Unknown option '--jsn'/, 2);
    assertOneLineError(runCli(['report']), /missing <log>/, 2);
    assertOneLineError(runCli(['explain', 'x.log']), /unknown command 'explain'/, 2);
    assertOneLineError(runCli(['report', 'x.log', '-o', 'y.html']), /--output does not apply to report/, 2);
    assertOneLineError(runCli([]), /missing command/, 2);
  });

  test('--help prints usage', () => {
    const { code, stdout } = runCli(['--help']);
    assert.equal(code, 0);
    assert.match(stdout, /^Usage:\n {2}leakwatch report <log>/);
    assert.match(stdout, /leakwatch plot <log>/);
  });
});

describe('progress bar', () => {
  test('absent when stderr is piped', () => {
    const { code, stderr } = runCli(['report', mixedLog()]);
    assert.equal(code, 0);
    assert.equal(stderr, '');
  });

  // `script` runs the CLI on a pseudo-terminal: the bar must be drawn there,
  // which is what makes its absence above meaningful.
  test('drawn when stderr is a terminal', { skip: !fs.existsSync('/usr/bin/script') && 'no `script` command' }, () => {
    const command = `${process.execPath} ${CLI} report ${mixedLog()} > /dev/null`;
    const result = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /\rreading .*mixed\.log \[#+\] 100%/);
  });
});

describe('internals', () => {
  const { TimeBuckets } = require('../js/report/buckets');
  const { verdict } = require('../js/report/trend');

  test('TimeBuckets stay bounded and keep the extremes', () => {
    const b = new TimeBuckets(64);
    for (let i = 0; i < 100_000; i++) b.add(i * 200, i === 54_321 ? 1e9 : i % 100);
    assert.ok(b.buckets.length <= 64);
    assert.equal(b.count, 100_000);
    assert.equal(b.max(), 1e9);
    assert.equal(b.min(), 0);
    assert.ok(b.buckets.some((x) => x.maxTime === 54_321 * 200));
  });

  test('a tiny creep is not a leak', () => {
    const b = new TimeBuckets();
    for (let i = 0; i < 600; i++) b.add(i * 1000, 50 * MiB + i * 100); // +60 KB over 10 minutes
    assert.equal(verdict(b, 'bytes').state, 'stable');
  });
});

// A realistic log line is about 1 KB: this file is about 1 GB.
describe('a 1,000,000-line log', () => {
  const READER = `
    const { openInput } = require(${JSON.stringify(path.join(ROOT, 'js/report/open-input'))});
    const { readLog } = require(${JSON.stringify(path.join(ROOT, 'js/report/read-log'))});
    const { Summarizer } = require(${JSON.stringify(path.join(ROOT, 'js/report/summarize'))});
    let peak = 0;
    const sample = () => { peak = Math.max(peak, process.memoryUsage().heapUsed); };
    const summarizer = new Summarizer();
    const input = openInput(process.argv[1]);
    readLog(input.stream, { onRecord: (r) => summarizer.add(r), onProgress: sample }).then((stats) => {
      const { summary } = summarizer.finish(stats, input.name);
      sample();
      console.log(JSON.stringify({ peak, stats, states: summary.processes.map((p) => p.trends.heap.state) }));
    });`;

  function runNode(args) {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  test('is read in bounded memory', { timeout: 120_000 }, async () => {
    const file = path.join(dir, 'million.log');
    const started = Date.now();
    writeLog(file, {
      processes: [
        { pid: 1, leaky: true, leakBytesPerPoint: 200 },
        { pid: 2, leaky: false },
      ],
      points: 500_000,
      intervalMs: 200,
      foreignEvery: 1000,
    });
    const generateMs = Date.now() - started;
    const size = fs.statSync(file).size;

    // The heap is capped far below the file's size: unbounded state would
    // crash the reader rather than just make the numbers look bad. Reading
    // and plotting run side by side, one per core.
    const svg = path.join(dir, 'million.svg');
    const timed = async (args) => {
      const t0 = Date.now();
      const result = await runNode(args);
      return { ...result, ms: Date.now() - t0 };
    };
    const [read, plot] = await Promise.all([
      timed(['--max-old-space-size=64', '-e', READER, file]),
      timed(['--max-old-space-size=64', CLI, 'plot', file, '-o', svg]),
    ]);
    const [readMs, plotMs] = [read.ms, plot.ms];

    assert.equal(read.code, 0, read.stderr);
    const result = JSON.parse(read.stdout);
    assert.equal(result.stats.memory, 1_000_000);
    assert.equal(result.stats.foreign + result.stats.malformed, result.stats.lines - result.stats.records);
    assert.deepEqual(result.states, ['leaking', 'stable']);
    assert.ok(result.peak < 64 * MiB, `peak heapUsed ${Math.round(result.peak / MiB)} MiB`);

    assert.equal(plot.code, 0, plot.stderr);
    assert.equal(plot.stderr, '', 'no progress bar when piped');
    assert.ok(fs.statSync(svg).size < 2 * MiB, 'the drawing is downsampled');

    // No time bound here: a loaded machine would fail it. Speed is `npm run bench`'s reportRead.
    const mb = (n) => `${Math.round(n / MiB)} MiB`;
    console.log(
      `# 1M lines, ${mb(size)}: generated in ${generateMs} ms, summarized in ${readMs} ms (peak heap ${mb(result.peak)}), plotted in ${plotMs} ms`
    );
    fs.rmSync(file);
  });
});

// Logs written by the recorder itself (`node -r leakwatch/register`), from a
// small script with a steady working set, once leaking and once not.
describe('logs from the live recorder', () => {
  const register = path.join(ROOT, 'js', 'register.js');
  const addon = path.join(ROOT, 'native', require('../js/platform').ADDON_FILE);
  const missing = [register, addon].filter((f) => !fs.existsSync(f));
  const skip =
    missing.length > 0 &&
    `recorder not built (missing ${missing.map((f) => path.relative(ROOT, f)).join(', ')}; run npm install)`;

  // Batches of objects that live about half a second — long enough to reach
  // the old generation, so that full GCs happen — on top of a working set
  // that is there from the start. With LEAK=1 a tenth of each batch is kept.
  const APP = `
    const leak = process.env.LEAK === '1';
    const batch = () => Array.from({ length: 5000 }, (_, i) => ({ text: 'x'.repeat(64) + i, n: i }));
    const ring = Array.from({ length: 50 }, batch);
    const leaked = [];
    let tick = 0;
    const started = Date.now();
    const timer = setInterval(() => {
      const b = batch();
      ring[tick++ % ring.length] = b;
      if (leak) leaked.push(b.slice(0, 500));
      if (Date.now() - started > 8000) clearInterval(timer);
    }, 10);`;

  function record(app, log, env) {
    return new Promise((resolve) => {
      // A capped old generation makes V8 collect fully every second or so instead of growing
      // the heap, so 8 s give the report enough post-GC baselines to judge on.
      const child = spawn(process.execPath, ['--max-old-space-size=128', '-r', register, app], {
        env: { ...process.env, ...env, LEAKWATCH_LOG: log, LEAKWATCH_INTERVAL: '200ms' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stderr }));
    });
  }

  test('a leaking and a healthy process get the right heap verdicts', { skip, timeout: 90_000 }, async () => {
    const app = path.join(dir, 'churn.js');
    fs.writeFileSync(app, APP);
    const leakyLog = path.join(dir, 'live-leaky.log');
    const healthyLog = path.join(dir, 'live-healthy.log');
    const runs = await Promise.all([record(app, leakyLog, { LEAK: '1' }), record(app, healthyLog, { LEAK: '0' })]);
    for (const run of runs) assert.equal(run.code, 0, run.stderr);

    const leaky = runCli(['report', leakyLog]);
    const healthy = runCli(['report', healthyLog]);
    assert.equal(leaky.code, 0, leaky.stderr);
    assert.equal(healthy.code, 0, healthy.stderr);
    const heapOf = (log) => JSON.parse(runCli(['report', '--json', log]).stdout).processes[0].trends.heap;
    assert.match(heapOf(leakyLog).state, /^(leaking|growing)$/, leaky.stdout);
    assert.match(leaky.stdout, /^Verdict +pid \d+ on .*: heap(, \w+)* (LEAKING|growing)/m);
    assert.equal(heapOf(healthyLog).state, 'stable', healthy.stdout);
    assert.match(healthy.stdout, /Heap verdict: stable/);

    const svg = path.join(dir, 'live.svg');
    assert.equal(runCli(['plot', leakyLog, '-o', svg]).code, 0);
    assert.match(fs.readFileSync(svg, 'utf8'), /data-series="heapUsed" d="M/);
  });
});
