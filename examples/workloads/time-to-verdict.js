'use strict';
// Runs each workload under leakwatch with DEFAULT thresholds (`node -r leakwatch/register`,
// one log line a second) and prints how long each detector took to call a leak:
//
//   leakwatch      the first warning of the kind that leaks (LEAKWATCH_HEAP_GROWTH,
//                  LEAKWATCH_EXTERNAL_GROWTH or LEAKWATCH_LISTENER_SITE_LEAK), and the first
//                  leak warning of any kind (growth of heap, external, RSS, handles, fds, or a
//                  listener leak): when the process was first reported leaking
//   memwatch rule  5 consecutive full GCs each leaving more heap than the one before
//                  (computed from the same log's `baseline` field)
//   naive slope    least-squares slope of heapUsed over the last 60 s above 0.25 MB/s
//                  (at least 20 samples; computed from the same log's `heapUsed` field)
//
// Times count from the start of the load (servers) or of the process (scripts): the leaks
// start with them. For a healthy workload any verdict is a false alarm, and so is any other
// leak warning. "full GCs" counts the baselines in the log, "hinted" the memory-pressure
// hints leakwatch sent V8 for an overdue baseline (gcHints, on by default).
//
//   node examples/workloads/time-to-verdict.js [file-prefix or words of a case's name ...]
//        ("leaks" selects every leaking case, "healthy" every healthy one)
//   env: SECONDS per run (60; some cases set their own), REPEAT runs per case (1): times are
//        then median (min–max);
//        KEEP_LOGS=1 keeps the logs (the directory is printed)

const { fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { drive } = require('./lib');

const SECONDS = Number(process.env.SECONDS || 60);
const REPEAT = Number(process.env.REPEAT || 1);
const REGISTER = path.join(__dirname, '..', '..', 'js', 'register.js');
const MB = 1e6;

// Bursts: 3 s at 1,000 requests/s every 12 s, 30/s in between.
const bursts = (t) => (t % 12 < 3 ? 1000 : 30);

// Whether the command-line word `word` selects case `c`.
function selects(word, c) {
  if (word === 'leaks') return !c.name.includes('(healthy)');
  return c.file.startsWith(word) || c.name.includes(word);
}

const CASES = [
  {
    name: 'Map leak, server (~0.5 MB/s)',
    file: 'map-leak-server.js',
    leak: 'LEAKWATCH_HEAP_GROWTH',
    load: { rate: 500 },
  },
  {
    name: 'Buffer leak, server (~0.5 MB/s external)',
    file: 'buffer-leak-server.js',
    leak: 'LEAKWATCH_EXTERNAL_GROWTH',
    load: { rate: 125 },
  },
  {
    name: 'kept by timers, server (~0.5 MB/s)',
    file: 'timer-leak-server.js',
    leak: 'LEAKWATCH_HEAP_GROWTH',
    load: { rate: 500 },
  },
  {
    name: 'kept by a never-settling promise, server (~0.5 MB/s)',
    file: 'promise-leak-server.js',
    leak: 'LEAKWATCH_HEAP_GROWTH',
    load: { rate: 500 },
  },
  {
    name: 'contexts kept by a shared cancel token, server (~2 MB/s)',
    file: 'cancel-token-server.js',
    leak: 'LEAKWATCH_HEAP_GROWTH',
    load: { rate: 500 },
  },
  { name: 'Map leak, script (~2 MB/s)', file: 'map-leak.js', leak: 'LEAKWATCH_HEAP_GROWTH', env: { LEAK_MB_S: '2' } },
  {
    name: 'response cache, unbounded, server (~0.7 MB/s)',
    file: 'response-cache-server.js',
    leak: 'LEAKWATCH_HEAP_GROWTH',
    load: { rate: 500 },
  },
  {
    name: 'slow leak (~5 MB/min) under a noisy sawtooth, server',
    file: 'slow-leak-server.js',
    leak: 'LEAKWATCH_HEAP_GROWTH',
    load: { rate: 500 },
    seconds: 200,
  },
  {
    name: 'slow leak (~5 MB/min) under a steady sawtooth, server',
    file: 'slow-leak-server.js',
    env: { BATCHES: 'steady' },
    leak: 'LEAKWATCH_HEAP_GROWTH',
    load: { rate: 500 },
    seconds: 200,
  },
  {
    name: 'pool: a listener per checkout never removed, server (100/s)',
    file: 'pool-listener-server.js',
    leak: 'LEAKWATCH_LISTENER_SITE_LEAK',
    load: { rate: 100 },
  },
  {
    name: 'pool: a listener per checkout never removed, server (10/s)',
    file: 'pool-listener-server.js',
    leak: 'LEAKWATCH_LISTENER_SITE_LEAK',
    load: { rate: 10 },
    seconds: 200,
  },
  { name: 'lru-cache with max, server (healthy)', file: 'lru-cache-server.js', load: { rate: 500 } },
  { name: 'pure sawtooth, script (healthy)', file: 'sawtooth.js' },
  { name: 'warm-up then flat, script (healthy)', file: 'warmup-then-flat.js' },
  { name: 'bursty load, server (healthy)', file: 'bursty-server.js', load: { rate: bursts, maxInFlight: 512 } },
  {
    name: 'response cache with a 10 s TTL, server (healthy)',
    file: 'response-cache-server.js',
    env: { LEAK: '0' },
    load: { rate: 500 },
  },
  {
    name: 'cancel callbacks unregistered, server (healthy)',
    file: 'cancel-token-server.js',
    env: { LEAK: '0' },
    load: { rate: 500 },
  },
  {
    name: 'settling promises, server (healthy)',
    file: 'promise-leak-server.js',
    env: { LEAK: '0' },
    load: { rate: 500 },
  },
  {
    name: 'noisy sawtooth, server (healthy)',
    file: 'slow-leak-server.js',
    env: { LEAK: '0' },
    load: { rate: 500 },
    seconds: 200,
  },
  {
    name: 'steady sawtooth, server (healthy)',
    file: 'slow-leak-server.js',
    env: { LEAK: '0', BATCHES: 'steady' },
    load: { rate: 500 },
    seconds: 200,
  },
  {
    name: 'pool: listener removed on release, server (healthy)',
    file: 'pool-listener-server.js',
    env: { LEAK: '0' },
    load: { rate: 100 },
  },
  {
    name: 'gateway: keep-alive upstream pool, 300 permanent and per-connection listeners, server (healthy)',
    file: 'gateway-server.js',
    load: { rate: 500 },
  },
];

/**
 * Runs one case; resolves to the log's lines, when the load started and requests served.
 * `stopOn`: a warning code that ends the run early (the tests' way to spend no more time).
 */
function runCase(c, logPath, { stopOn } = {}) {
  const seconds = c.seconds ?? SECONDS;
  const warned = () => stopOn !== undefined && readLog(logPath).some((l) => l.event === 'warning' && l.code === stopOn);
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, c.file), [], {
      execArgv: ['-r', REGISTER],
      env: {
        ...process.env,
        ...c.env,
        LEAKWATCH_LOG: logPath,
        LEAKWATCH_INTERVAL: '1s',
        WORKLOAD_SECONDS: String(seconds),
      },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    child.stderr.resume(); // leakwatch's warnings are in the log too
    let startedAt = Date.now();
    let served = null;
    child.on('message', async ({ port }) => {
      startedAt = Date.now();
      const stats = await drive(port, { seconds, ...c.load, until: warned });
      served = stats.done / ((Date.now() - startedAt) / 1000);
      child.send('stop');
    });
    child.on('error', reject);
    child.on('exit', () => resolve({ lines: readLog(logPath), startedAt, served }));
  });
}

/** The log's complete lines; read while the child still writes, the last one may be half written. */
function readLog(file) {
  if (!fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines.pop(); // after the last newline: empty, or a line not yet finished
  return lines
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((l) => l.lw === 1);
}

/** leakwatch's leak warnings (growth and listener leaks): the first of each code, in order. */
function leakWarnings(lines) {
  const first = new Map();
  for (const l of lines)
    if (l.event === 'warning' && /_GROWTH$|_LEAK$/.test(l.code) && !first.has(l.code)) first.set(l.code, l);
  return [...first.values()];
}

/** memwatch's rule on the baselines in the log: 5 growing full GCs in a row. */
function memwatchTime(memory) {
  let last = null;
  let lastTime = null;
  let run = 0;
  for (const l of memory) {
    if (l.baselineTime == null || l.baselineTime === lastTime) continue;
    run = last !== null && l.baseline > last ? run + 1 : 0;
    last = l.baseline;
    lastTime = l.baselineTime;
    if (run >= 5) return l.time;
  }
  return null;
}

/** A naive detector: least-squares slope of heapUsed over the last 60 s ≥ 0.25 MB/s. */
function naiveTime(memory) {
  const window = [];
  for (const l of memory) {
    window.push([l.time / 1000, l.heapUsed]);
    while (window[0][0] < l.time / 1000 - 60) window.shift();
    if (window.length >= 20 && slope(window) >= 0.25 * MB) return l.time;
  }
  return null;
}

function slope(points) {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) * (x - mx);
  }
  return sxx > 0 ? sxy / sxx : 0;
}

/** One run of one case: seconds to each detector's verdict (null: none) and the codes raised. */
async function measure(c, logPath) {
  const { lines, startedAt, served } = await runCase(c, logPath);
  const memory = lines.filter((l) => l.event === 'memory');
  const since = (ms) => (ms == null ? null : (ms - startedAt) / 1000);
  const warnings = leakWarnings(lines);
  return {
    own: since(warnings.find((w) => w.code === c.leak)?.time),
    anyWarning: since(warnings[0]?.time),
    memwatch: since(memwatchTime(memory)),
    naive: since(naiveTime(memory)),
    raised: warnings.map((w) => [w.code.replace(/^LEAKWATCH_|_GROWTH$/g, '').toLowerCase(), since(w.time)]),
    fullGcs: new Set(memory.map((l) => l.baselineTime).filter(Boolean)).size,
    hints: memory.at(-1)?.gc?.sinceStart?.hints ?? 0,
    perSecond: served,
  };
}

/** "24 s" or "24 s (21–28 s)"; misses are counted ("never", "2/3 runs"). */
function summary(times, unit = ' s') {
  const hits = times.filter((t) => t != null).sort((a, b) => a - b);
  if (hits.length === 0) return times.length > 1 ? `never (0/${times.length})` : 'never';
  const median = hits[Math.floor((hits.length - 1) / 2)]; // the lower one of an even count
  let text = `${median.toFixed(0)}${unit}`;
  if (hits.length > 1) text += ` (${hits[0].toFixed(0)}–${hits.at(-1).toFixed(0)}${unit})`;
  if (hits.length < times.length) text += `, ${hits.length}/${times.length} runs`;
  return text;
}

/** For a healthy case: "none (0/5 runs)" or the false alarms, counted. */
function alarms(times) {
  const n = times.filter((t) => t != null).length;
  return n === 0 ? `none (0/${times.length})` : `FALSE ALARM in ${n}/${times.length}: ${summary(times)}`;
}

function row(c, runs) {
  const pick = (key) => runs.map((r) => r[key]);
  const raised = new Map();
  for (const r of runs) for (const [code, t] of r.raised) raised.set(code, [...(raised.get(code) || []), t]);
  const every = [...raised].map(
    ([code, ts]) => `${code} ${summary([...ts, ...Array(runs.length - ts.length).fill(null)])}`
  );
  const judge = c.leak ? summary : alarms;
  return {
    name: c.name,
    own: c.leak ? summary(pick('own')) : alarms(pick('anyWarning')),
    anyWarning: c.leak ? summary(pick('anyWarning')) : '',
    every: every.join('; ') || '—',
    memwatch: judge(pick('memwatch')),
    naive: judge(pick('naive')),
    fullGcs: `${summary(pick('fullGcs'), '')}, hinted ${summary(pick('hints'), '')}`,
    load: runs[0].perSecond == null ? 'script' : `${summary(pick('perSecond'), '')} req/s`,
  };
}

async function main() {
  const only = process.argv.slice(2);
  const cases = CASES.filter((c) => only.length === 0 || only.some((o) => selects(o, c)));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakwatch-ttv-'));
  const rows = [];
  for (const [k, c] of cases.entries()) {
    const runs = [];
    for (let i = 0; i < REPEAT; i++) {
      const run = await measure(c, path.join(dir, `${k}-${path.basename(c.file, '.js')}-${i}.log`));
      console.error(
        `${c.name}: leakwatch ${run.own ?? run.anyWarning ?? 'never'}, memwatch ${run.memwatch ?? 'never'}, naive ${run.naive ?? 'never'}; ${JSON.stringify(run.raised)}`
      );
      runs.push(run);
    }
    rows.push(row(c, runs));
  }
  const runsText = REPEAT > 1 ? `${REPEAT} runs per case, median (min–max); ` : '';
  console.log(
    `\n${runsText}${SECONDS} s per run unless the case says; times from the start of the load (servers) or of the process (scripts).\n`
  );
  console.log(
    '| workload | leakwatch: the leaking kind | leakwatch: first leak warning | every leak warning | memwatch rule | naive slope | full GCs | load |'
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.name} | ${r.own} | ${r.anyWarning} | ${r.every} | ${r.memwatch} | ${r.naive} | ${r.fullGcs} | ${r.load} |`
    );
  if (process.env.KEEP_LOGS) console.error(`logs kept in ${dir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

module.exports = { CASES, runCase, leakWarnings };
