'use strict';
// `npm run bench` (QUICK=1 for a short run): leakwatch's cost against no telemetry and
// against the tools a user would install instead, each arm in fresh processes, alternating.
// Headline: process CPU time (all threads) per operation, as the median ratio against arm
// "none" of the same round, with min–max. See benches/harness.js for the method,
// benches/arms/ for how each tool is loaded and read, benches/workloads/ for the workloads,
// benches/instructions.js for the instruction counts.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ARMS, preloadFlags } = require('./arms');
const {
  runArm,
  runServerArm,
  runServersTogether,
  alternate,
  median,
  ratios,
  differences,
  fmtSpread,
  fmtRatio,
  table,
} = require('./harness');
const { hasValgrind, instructionsPerGc } = require('./instructions');
const { reportRead } = require('./report-read');
const { gcHintsCost } = require('./gc-hints');
const { heapProfileCost } = require('./heap-profile');

const QUICK = process.env.QUICK === '1';
const CONFIG = QUICK
  ? {
      rounds: 5,
      gcIterations: 2_000_000,
      emitterOps: 1_500_000,
      httpSeconds: 1,
      pairedRounds: 8,
      wsConnections: 600,
      steadyConnections: 600,
      steadyWarmUp: 3000,
      netConnections: 600,
      poolJobs: 300_000,
      startRounds: 12,
      memoryArms: ['none', 'leakwatch'],
      callgrindArms: ['none', 'leakwatch'],
      callgrindIterations: 150_000,
      callgrindWholeProcess: false,
      reportPoints: 100_000,
      reportRounds: 3,
      hintRounds: 2,
      hintSeconds: 10,
      profileSizesMb: [100, 1000],
    }
  : {
      rounds: 7,
      gcIterations: 5_000_000,
      emitterOps: 3_000_000,
      httpSeconds: 2,
      pairedRounds: 30,
      wsConnections: 2500,
      steadyConnections: 5000,
      steadyWarmUp: 20_000,
      netConnections: 2500,
      poolJobs: 1_000_000,
      startRounds: 21,
      memoryArms: ARMS,
      callgrindArms: ARMS,
      callgrindIterations: 300_000,
      callgrindWholeProcess: true,
      reportPoints: 500_000,
      reportRounds: 3,
      hintRounds: 3,
      hintSeconds: 20,
      profileSizesMb: [100, 250, 500, 1000, 4000],
    };
// BENCH_WS_CONNECTIONS=20000: a ws server past its first connections (see docs/cost.md).
if (process.env.BENCH_WS_CONNECTIONS) CONFIG.wsConnections = Number(process.env.BENCH_WS_CONNECTIONS);
// BENCH_ROUNDS=15: more alternating rounds, for a median that moves less.
if (process.env.BENCH_ROUNDS) CONFIG.rounds = Number(process.env.BENCH_ROUNDS);
const PEERS = ARMS.filter((a) => a !== 'none' && a !== 'leakwatch');
const REGISTER = path.join(__dirname, '..', 'js', 'register.js');
const workload = (name) => path.join(__dirname, 'workloads', name);
const byArm = (arms, fn) => Object.fromEntries(arms.map((a) => [a, fn(a)]));

// One row per measure, filled by the sections as they run and printed at the end.
const summary = [];

function machine() {
  const cpus = os.cpus();
  const cpuinfo = spawnSync('grep', ['-m1', 'cpu MHz', '/proc/cpuinfo'], { encoding: 'utf8' }).stdout;
  const ghz = (Number(cpuinfo.split(':')[1]) || cpus[0].speed) / 1000;
  const text =
    `${cpus.length} × ${cpus[0].model} at ${ghz.toFixed(2)} GHz, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
    `${os.type()} ${os.release()}, Node ${process.version} (V8 ${process.versions.v8}), load average ${os.loadavg()[0].toFixed(2)}`;
  return { text, ghz };
}

/** Median of one arm's `metric` over its rounds. */
function med(results, arm, metric) {
  return median(results[arm].map(metric));
}

/** A table row: the arm, then its ratio against none for each metric. */
function ratioRow(results, arm, metrics) {
  return [arm, ...metrics.map((m) => fmtRatio(ratios(results, arm, 'none', m)))];
}

/** Per-round `compare` (ratios or differences) against none: leakwatch's, and each peer's that ran. */
function againstNone(compare, results, metric) {
  const peers = PEERS.filter((p) => p in results);
  return {
    lw: compare(results, 'leakwatch', 'none', metric),
    peers: byArm(peers, (p) => compare(results, p, 'none', metric)),
  };
}

/** leakwatch's median against the best peer's figures: at or below its median, within its spread, or not. */
function versus(lw, peerValues) {
  if (lw <= median(peerValues)) return 'beats or matches';
  return lw <= Math.max(...peerValues) ? 'matches within noise' : 'behind';
}

/**
 * Adds a summary row: leakwatch's figures, whether their median is `within` the budget (no
 * verdict when `within` is null), and the best peer (lowest median) beside them.
 */
function addSummary(name, budget, within, { lw, peers }, fmt) {
  const verdict = within ? (within(median(lw)) ? 'met' : 'NOT met') : '—';
  const best = Object.entries(peers).sort(([, a], [, b]) => median(a) - median(b))[0];
  const bestText = best ? `${best[0]} ${fmt(best[1])}` : '—';
  summary.push([name, budget, fmt(lw), verdict, bestText, best ? versus(median(lw), best[1]) : '—']);
}

// Correctness: every tool's GC count against V8's, all tools loaded in one process, in runs
// of their own so that the reference observer's cost stays out of the timed runs.
async function gcCounts() {
  const preload = ARMS.slice(1).flatMap(preloadFlags);
  const options = {
    flags: ['--max-semi-space-size=1'],
    preload,
    env: { GC_LOOP_ITERATIONS: String(CONFIG.gcIterations) },
  };
  const runs = [0, 1, 2].map(() => runArm(workload('gc-loop.js'), 'all', options).gcs);
  const reference = runs.map((r) => r['perf-hooks']);
  const rows = ARMS.slice(1).map((arm) => {
    const counted = runs.map((r) => r[arm]);
    const off = median(counted.map((c, i) => c / reference[i] - 1));
    const verdict = counted.every((c, i) => c === reference[i]) ? 'equal' : `${(off * 100).toFixed(1)} %`;
    return [arm, counted.join(', '), reference.join(', '), verdict];
  });
  console.log(
    "\nGC counts: all tools in one process, 3 runs of the loop; V8's count is every entry of a perf_hooks observer"
  );
  console.log(table(['tool', 'GCs it counted', "V8's count", 'counted vs V8'], rows));
}

// (a) The scavenge-heavy loop: CPU per run, and CPU added per GC. Returns none's CPU ns per
// iteration, which converts instruction counts to time.
async function gcLoop() {
  const options = { flags: ['--max-semi-space-size=1'], env: { GC_LOOP_ITERATIONS: String(CONFIG.gcIterations) } };
  const results = await alternate(ARMS, CONFIG.rounds, (arm) => runArm(workload('gc-loop.js'), arm, options));
  // The loop's GCs, as leakwatch counted them (equal to V8's count: see gcCounts()).
  const gcs = med(results, 'leakwatch', (r) => r.gcs.leakwatch);
  const cpu = (r) => r.cpuUs;
  const noneCpuUs = med(results, 'none', cpu);
  const perGc = (arm) => differences(results, arm, 'none', cpu).map((us) => us / gcs);
  const rows = ARMS.slice(1).map((arm) => [
    ...ratioRow(results, arm, [cpu, (r) => r.wallMs]),
    fmtSpread(perGc(arm), 2, ' µs'),
  ]);
  console.log(
    `\n(a) scavenge-heavy loop: ${CONFIG.gcIterations.toLocaleString('en')} iterations, ${gcs} GCs per run, ${CONFIG.rounds} alternating rounds`
  );
  console.log(
    `none: ${(noneCpuUs / 1000).toFixed(0)} ms CPU per run, ${Math.round(gcs / (noneCpuUs / 1e6))} GCs per CPU-second`
  );
  console.log(table(['arm', 'CPU vs none', 'wall vs none', 'added CPU per GC'], rows));
  addSummary('scavenge-heavy loop, CPU', '≤ 1.01×', (v) => v <= 1.01, againstNone(ratios, results, cpu), fmtRatio);
  // Not judged: the noise of a run (a few %) is ~10 µs per GC; the instruction count decides.
  const perGcAll = { lw: perGc('leakwatch'), peers: byArm(PEERS, perGc) };
  addSummary('added CPU per GC (CPU time, ±~10 µs)', '—', null, perGcAll, (v) => fmtSpread(v, 2, ' µs'));
  return (noneCpuUs * 1000) / CONFIG.gcIterations;
}

// (b) EventEmitter on+off and once+emit: CPU per operation.
async function emitter() {
  const options = { env: { EMITTER_OPS: String(CONFIG.emitterOps) } };
  const results = await alternate(ARMS, CONFIG.rounds, (arm) => runArm(workload('event-emitter.js'), arm, options));
  const onOff = (r) => r.onOff.cpuNs;
  const onceEmit = (r) => r.onceEmit.cpuNs;
  console.log(
    `\n(b) EventEmitter, ${CONFIG.emitterOps.toLocaleString('en')} operations per loop, ${CONFIG.rounds} alternating rounds`
  );
  console.log(
    `none: on+off ${med(results, 'none', onOff).toFixed(1)} ns, once+emit ${med(results, 'none', onceEmit).toFixed(1)} ns CPU per operation`
  );
  console.log(
    table(
      ['arm', 'on+off CPU vs none', 'once+emit CPU vs none'],
      ARMS.slice(1).map((arm) => ratioRow(results, arm, [onOff, onceEmit]))
    )
  );
  addSummary(
    'EventEmitter on+off, CPU per op',
    '≤ 1.10×',
    (v) => v <= 1.1,
    againstNone(ratios, results, onOff),
    fmtRatio
  );
  addSummary('EventEmitter once+emit, CPU per op', '—', null, againstNone(ratios, results, onceEmit), fmtRatio);
}

// (c) http server under autocannon: CPU per request, throughput, p99.
async function httpServer() {
  const results = await alternate(ARMS, CONFIG.rounds, (arm) =>
    runServerArm(workload('http.js'), arm, { seconds: CONFIG.httpSeconds })
  );
  const perReq = (r) => r.cpuUs / r.served;
  const rps = (r) => r.reqPerSec;
  const p99 = (r) => r.p99Ms;
  console.log(
    `\n(c) http server, autocannon ${CONFIG.httpSeconds} s × 10 connections, ${CONFIG.rounds} alternating rounds`
  );
  console.log(
    `none: ${med(results, 'none', perReq).toFixed(1)} µs CPU per request, ${Math.round(med(results, 'none', rps))} req/s, p99 ${med(results, 'none', p99).toFixed(2)} ms`
  );
  const rows = ARMS.slice(1).map((arm) => ratioRow(results, arm, [perReq, rps, p99]));
  console.log(table(['arm', 'CPU per request vs none', 'throughput vs none', 'p99 vs none'], rows));
  // Not judged here: two identical servers in fresh processes differ by ±1.5 % (httpPaired).
  addSummary('HTTP, CPU per request (fresh processes)', '—', null, againstNone(ratios, results, perReq), fmtRatio);
  addSummary('HTTP, p99 latency', '—', null, againstNone(ratios, results, p99), fmtRatio);
}

// (c2) The HTTP budget's measure: CPU per request of two servers up at once, none and
// leakwatch, in alternating bursts of 10,000 requests (harness.runServersTogether), 10 bursts
// each per round, a fresh pair of processes per round. Load drifts over seconds on a shared
// machine, and one process runs a few % faster or slower than another of the same code (V8's
// compile decisions, memory placement): bursts side by side cancel the first, many rounds
// average out the second. A round's figure is the ratio of the two servers' median bursts.
// BENCH_PAIRED_ARMS=none,none runs the same for two servers without a tool: the method's own
// spread, with no cost to find.
const httpPaired = pairedHttp('httpPaired', {
  section: '(c2) http server',
  file: 'http.js',
  amount: 10_000,
  summary: ['HTTP, CPU per request (paired bursts)', '≤ 1.02×', (v) => v <= 1.02],
});

// (c3) The same, on a server that does an app's work per request (http-app.js: ~80 µs of
// JSON, sorting, a template and a hash), where users will read the cost.
const httpApp = pairedHttp('httpApp', {
  section: '(c3) http server with an app handler',
  file: 'http-app.js',
  amount: 2_000,
  summary: ['HTTP with an app handler, CPU per request (paired bursts)', '≤ 1.02×', (v) => v <= 1.02],
});

/** A bench section named `name`: paired bursts of `amount` requests against `file`'s server. */
function pairedHttp(name, { section, file, amount, summary }) {
  async function paired() {
    const arms = (process.env.BENCH_PAIRED_ARMS || 'none,leakwatch').split(',');
    if (arms.length !== 2) throw new Error('BENCH_PAIRED_ARMS: two arms, e.g. none,leakwatch or none,none');
    const bursts = 10;
    const perReq = (w) => w.cpuUs / w.served;
    const userShare = (w) => w.userUs / w.cpuUs;
    const perRound = [];
    for (let r = 0; r < CONFIG.pairedRounds; r++) {
      const [a, b] = await runServersTogether(workload(file), arms, { bursts, amount });
      perRound.push({ a: median(a.map(perReq)), b: median(b.map(perReq)), userA: median(a.map(userShare)) });
    }
    const roundRatios = perRound.map(({ a, b }) => b / a);
    const q = quartiles(roundRatios);
    console.log(
      `\n${section}, ${arms[1]} against ${arms[0]} up at once: ${CONFIG.pairedRounds} rounds of ${bursts} alternating bursts of ${amount.toLocaleString('en')} requests each`
    );
    const userPct = (median(perRound.map((p) => p.userA)) * 100).toFixed(0);
    console.log(
      `${arms[0]}: ${median(perRound.map((p) => p.a)).toFixed(2)} µs CPU per request (${userPct} % of it in user space, the rest in the kernel); ${arms[1]}: ${median(perRound.map((p) => p.b)).toFixed(2)} µs`
    );
    const [min, max] = [Math.min(...roundRatios), Math.max(...roundRatios)];
    console.log(
      `${arms[1]} vs ${arms[0]}, per round: median ${q[1].toFixed(3)}×, quartiles ${q[0].toFixed(3)}–${q[2].toFixed(3)}×, min–max ${min.toFixed(3)}–${max.toFixed(3)}×`
    );
    if (arms[0] === 'none' && arms[1] === 'leakwatch') {
      const [label, budget, pass] = summary;
      addSummary(label, budget, pass, { lw: roundRatios, peers: {} }, fmtRatio);
    }
  }
  return Object.defineProperty(paired, 'name', { value: name });
}

/** [first quartile, median, third quartile] of `values`. */
function quartiles(values) {
  const s = [...values].sort((x, y) => x - y);
  return [median(s.slice(0, s.length >> 1)), median(s), median(s.slice((s.length + 1) >> 1))];
}

// (d) ws server, many short-lived connections: CPU per connection.
const wsServer = connectionChurn('wsServer', {
  section: '(d) ws server',
  file: 'ws.js',
  what: 'open, echo, close; 16 at a time',
  load: () => ({ connections: CONFIG.wsConnections }),
  summary: ['ws, CPU per connection', '—', null],
});

// (d1) ws server in a steady state: the same connections after 20,000 of warm-up, by when its
// connection classes are sampled. None and leakwatch only: the peers do nothing per connection
// ((d) shows it).
const wsSteady = connectionChurn('wsSteady', {
  section: '(d1) ws server, steady',
  file: 'ws.js',
  what: `open, echo, close; 16 at a time, after ${CONFIG.steadyWarmUp.toLocaleString('en')} of warm-up`,
  load: () => ({ connections: CONFIG.steadyConnections, warmUp: CONFIG.steadyWarmUp }),
  arms: ['none', 'leakwatch'],
  summary: ['ws steady, CPU per connection', '≤ 1.02×', (v) => v <= 1.02],
});

// (d2) net server, many short-lived connections: CPU per connection.
const netServer = connectionChurn('netServer', {
  section: '(d2) net server',
  file: 'net.js',
  what: 'connect, echo, close; 16 at a time',
  load: () => ({ connections: CONFIG.netConnections }),
  summary: ['net, CPU per connection', '≤ 1.03×', (v) => v <= 1.03],
});

/**
 * A bench section named `name` (for BENCH_ONLY): a server of `file` taking the short-lived
 * connections of `load()` (connections.js drive options), per arm of `arms` (default: all).
 */
function connectionChurn(name, { section, file, what, load, arms = null, summary }) {
  async function churn() {
    const options = load();
    const list = arms === null ? ARMS : ARMS.filter((arm) => arms.includes(arm));
    const results = await alternate(list, CONFIG.rounds, (arm) => runServerArm(workload(file), arm, options));
    const perConn = (r) => r.cpuUs / r.served;
    console.log(`\n${section}, ${options.connections} connections (${what}), ${CONFIG.rounds} alternating rounds`);
    console.log(`none: ${med(results, 'none', perConn).toFixed(0)} µs CPU per connection`);
    console.log(
      table(
        ['arm', 'CPU per connection vs none'],
        list.slice(1).map((arm) => ratioRow(results, arm, [perConn]))
      )
    );
    const [label, budget, pass] = summary;
    addSummary(label, budget, pass, againstNone(ratios, results, perConn), fmtRatio);
  }
  return Object.defineProperty(churn, 'name', { value: name });
}

// (d3) A pool's emitters checked out and released, a listener pair per job: CPU per job.
async function pool() {
  const options = { env: { POOL_JOBS: String(CONFIG.poolJobs) } };
  const results = await alternate(ARMS, CONFIG.rounds, (arm) => runArm(workload('pool.js'), arm, options));
  const perJob = (r) => r.cpuNs;
  console.log(
    `\n(d3) pool checkouts, ${CONFIG.poolJobs.toLocaleString('en')} jobs per loop (two listeners added and removed, a small JSON round trip), ${CONFIG.rounds} alternating rounds`
  );
  console.log(`none: ${med(results, 'none', perJob).toFixed(0)} ns CPU per job`);
  console.log(
    table(
      ['arm', 'CPU per job vs none'],
      ARMS.slice(1).map((arm) => ratioRow(results, arm, [perJob]))
    )
  );
  addSummary('pool checkout, CPU per job', '≤ 1.03×', (v) => v <= 1.03, againstNone(ratios, results, perJob), fmtRatio);
}

// (e) Start-up (`node -r … -e …`: wall time, and CPU time up to exit, which load on a shared
// machine disturbs far less) and idle RSS, leakwatch loaded as users load it: right after
// start-up, and in a process that has run some hot code first (idle.js IDLE_WARM).
const PRINT_CPU_AT_EXIT = "process.on('exit', () => console.log(JSON.stringify(process.cpuUsage())))";

async function startup() {
  const preload = (arm) => (arm === 'leakwatch' ? ['-r', REGISTER] : preloadFlags(arm));
  const start = (arm) => {
    const t0 = process.hrtime.bigint();
    const out = spawnSync(process.execPath, [...preload(arm), '-e', PRINT_CPU_AT_EXIT], { encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (out.status !== 0) throw new Error(out.stderr);
    const cpu = JSON.parse(out.stdout.trim().split('\n').at(-1));
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
  };
  const starts = await alternate(ARMS, CONFIG.startRounds, start);
  const idleIn = (env) =>
    alternate(ARMS, CONFIG.rounds, (arm) => runArm(workload('idle.js'), arm, { preload: preload(arm), env }));
  const idle = await idleIn({});
  const warm = await idleIn({ IDLE_WARM: '1' }); // V8's optimizing compiler resident in both arms
  const ms = (r) => r.ms;
  const cpuMs = (r) => r.cpuMs;
  const mb = (r) => r.rss / 2 ** 20;
  const anon = (r) => r.rssAnon / 2 ** 20;
  const file = (r) => r.rssFile / 2 ** 20;
  const mbSpread = (v) => fmtSpread(v, 2, ' MB');
  const rows = ARMS.slice(1).map((arm) => [
    arm,
    `${med(starts, arm, ms).toFixed(1)} ms`,
    fmtSpread(differences(starts, arm, 'none', ms), 1, ' ms'),
    fmtSpread(differences(starts, arm, 'none', cpuMs), 1, ' ms'),
    `${med(idle, arm, mb).toFixed(1)} MB`,
    mbSpread(differences(idle, arm, 'none', mb)),
    mbSpread(differences(idle, arm, 'none', anon)),
    mbSpread(differences(idle, arm, 'none', file)),
    mbSpread(differences(warm, arm, 'none', mb)),
    mbSpread(differences(warm, arm, 'none', anon)),
  ]);
  console.log(
    `\n(e) start-up (node -r <arm> -e …, ${CONFIG.startRounds} rounds) and idle RSS (${CONFIG.rounds} rounds)`
  );
  console.log(
    `none: ${med(starts, 'none', ms).toFixed(1)} ms wall, ${med(starts, 'none', cpuMs).toFixed(1)} ms CPU, ${med(idle, 'none', mb).toFixed(1)} MB`
  );
  console.log(
    table(
      [
        'arm',
        'start-up',
        'added wall',
        'added CPU',
        'idle RSS',
        'added',
        'of it private',
        'of it file-backed',
        'added, after hot code',
        'of it private',
      ],
      rows
    )
  );
  const fmtMs = (v) => fmtSpread(v, 1, ' ms');
  addSummary('start-up, added wall time', '≤ +10 ms', (v) => v <= 10, againstNone(differences, starts, ms), fmtMs);
  addSummary('start-up, added CPU time', '≤ +10 ms', (v) => v <= 10, againstNone(differences, starts, cpuMs), fmtMs);
  addSummary('idle RSS, added', '≤ +6 MB', (v) => v <= 6, againstNone(differences, idle, mb), mbSpread);
  addSummary(
    'idle RSS, added: private (RssAnon)',
    '≤ +2 MB',
    (v) => v <= 2,
    againstNone(differences, idle, anon),
    mbSpread
  );
  addSummary('idle RSS after hot code, added', '≤ +6 MB', (v) => v <= 6, againstNone(differences, warm, mb), mbSpread);
}

// (f) RSS and heap with 1,000,000 live listeners: the tool's own share.
async function listenersMemory() {
  const arms = CONFIG.memoryArms;
  const results = await alternate(arms, CONFIG.rounds, (arm) =>
    runArm(workload('listeners-memory.js'), arm, { flags: ['--expose-gc'] })
  );
  const rss = (r) => r.rss / 2 ** 20;
  const heap = (r) => r.heap / 2 ** 20;
  const own = (arm, metric) => fmtSpread(differences(results, arm, 'none', metric), 2, ' MB');
  console.log(`\n(f) 1,000,000 live listeners (1,000 emitters × 1,000), ${CONFIG.rounds} alternating rounds`);
  console.log(
    `none: RSS ${med(results, 'none', rss).toFixed(1)} MB, JS heap + external ${med(results, 'none', heap).toFixed(1)} MB`
  );
  console.log(
    table(
      ['arm', 'own RSS (vs none)', 'own heap + external (vs none)'],
      arms.slice(1).map((arm) => [arm, own(arm, rss), own(arm, heap)])
    )
  );
  addSummary(
    'RSS with 1,000,000 listeners, own',
    '≤ 16 MB',
    (v) => v <= 16,
    againstNone(differences, results, rss),
    (v) => fmtSpread(v, 2, ' MB')
  );
}

// Instructions per GC under callgrind: what the CPU ratio cannot resolve.
function instructions(nsPerIteration, ghz) {
  if (!hasValgrind()) {
    console.log('\nInstructions per GC: skipped, valgrind is not installed (apt-get install valgrind).');
    return;
  }
  const arms = CONFIG.callgrindArms;
  const r = instructionsPerGc(arms, CONFIG.callgrindIterations, { wholeProcess: CONFIG.callgrindWholeProcess });
  const count = (instr) => (Number.isNaN(instr) ? '(full run only)' : Math.round(instr).toLocaleString('en'));
  const ns = (instr) => (Number.isNaN(instr) ? '' : `${Math.round(instr / ghz).toLocaleString('en')} ns`);
  const rows = arms.slice(1).map((arm) => {
    const { gcPath, wholeProcess } = r.perArm[arm];
    return [arm, count(gcPath), ns(gcPath), count(wholeProcess), ns(wholeProcess)];
  });
  const gcs = CONFIG.callgrindWholeProcess ? `, ${r.gcs} GCs busy − idle` : '';
  console.log(
    `\nInstructions per GC added against none (callgrind, node --predictable, ${CONFIG.callgrindIterations.toLocaleString('en')} iterations${gcs})`
  );
  console.log(`ns at 1 instruction per cycle at ${ghz.toFixed(2)} GHz, a conservative bound`);
  if (CONFIG.callgrindWholeProcess) {
    console.log(
      `(the loop itself runs ${(r.instructionsPerIteration / nsPerIteration).toFixed(1)} callgrind instructions per ns of CPU)`
    );
    console.log(
      'whole process = busy − idle over all threads: it adds what a tool does later (a JS observer, a background thread),'
    );
    console.log(
      'but also what V8 compiles lazily, and when, with a tool loaded (up to ~1.5 M instructions a run: ≈ ±5,000 per GC here)'
    );
  }
  console.log(table(['arm', 'GC path (in V8 GC callbacks)', 'ns at IPC 1', 'whole process', 'ns at IPC 1'], rows));
  // One deterministic figure per arm, judged in ns at IPC 1.
  const gcPath = {
    lw: [r.perArm.leakwatch.gcPath],
    peers: byArm(
      arms.filter((a) => PEERS.includes(a)),
      (p) => [r.perArm[p].gcPath]
    ),
  };
  const fmt = (v) => `${count(median(v))} instructions ≈ ${ns(median(v))}`;
  addSummary('added per GC, GC path (instructions)', '≤ 0.3 µs', (v) => v / ghz <= 300, gcPath, fmt);
}

/**
 * Points every run at one copy of the V8 shim, so that the whole bench measures one build even
 * when native/ is rebuilt while it runs (an explicit LEAKWATCH_SHIM_PATH is left alone).
 */
function pinShim() {
  if (process.env.LEAKWATCH_SHIM_PATH) return;
  const { shimFile } = require('../js/platform');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakwatch-bench-'));
  const shim = path.join(dir, shimFile());
  fs.copyFileSync(path.join(__dirname, '..', 'native', shimFile()), shim);
  process.env.LEAKWATCH_SHIM_PATH = shim;
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
}

// BENCH_ONLY=http,emitter runs just those sections (names as in main()), e.g. while working on one.
const ONLY = (process.env.BENCH_ONLY || '').split(',').filter(Boolean);

/** Runs a section (unless BENCH_ONLY leaves it out) and prints how long it took. */
async function timed(section) {
  if (ONLY.length > 0 && !ONLY.includes(section.name)) return undefined;
  const start = Date.now();
  const value = await section();
  console.log(`[${((Date.now() - start) / 1000).toFixed(0)} s]`);
  return value;
}

async function main() {
  const t0 = Date.now();
  const m = machine();
  pinShim();
  console.log(`leakwatch bench${QUICK ? ' (QUICK)' : ''}: ${m.text}`);
  console.log(`arms: ${ARMS.join(', ')}; each tool read every ${process.env.BENCH_INTERVAL_MS || 1000} ms`);
  await timed(gcCounts);
  const nsPerIteration = await timed(gcLoop);
  await timed(emitter);
  await timed(httpServer);
  await timed(httpPaired);
  await timed(httpApp);
  await timed(wsServer);
  await timed(wsSteady);
  await timed(netServer);
  await timed(pool);
  await timed(startup);
  await timed(listenersMemory);
  await timed(function reportReading() {
    return reportRead({ points: CONFIG.reportPoints, rounds: CONFIG.reportRounds });
  });
  await timed(function gcHints() {
    return gcHintsCost({ rounds: CONFIG.hintRounds, seconds: CONFIG.hintSeconds });
  });
  await timed(function heapProfile() {
    return heapProfileCost({ sizesMb: CONFIG.profileSizesMb, rounds: CONFIG.hintRounds, seconds: CONFIG.hintSeconds });
  });
  await timed(function instructionsPerGc() {
    return instructions(nsPerIteration ?? 1, m.ghz);
  });
  console.log(
    '\nleakwatch against its budgets (ratios and differences against none, same rounds; best peer = lowest median)'
  );
  console.log(
    table(['measure', 'budget', 'leakwatch', 'within budget', 'best peer', 'leakwatch vs best peer'], summary)
  );
  console.log(`\n${QUICK ? 'QUICK ' : ''}run took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
