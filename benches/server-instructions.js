'use strict';
// Instructions per http request, or per ws connection, counted by valgrind's callgrind: what
// leakwatch adds to a server's request or connection, resolved to about 1 %, where CPU time on
// a shared machine moves by several percent from run to run (by ±25 % between rounds of the ws
// bench on a busy day). Instructions are not time (the request's GC and memory stalls cost more
// per instruction than leakwatch's cache-hot code), but they repeat.
//
// Each arm runs the bench's server (benches/workloads/http.js; ws.js, net.js or pool.js's jobs
// with WORKLOAD) under callgrind twice, for FEW and then MANY units (requests on one keep-alive
// connection; ws or net connections, one at a time, each opened, echoed and closed; pool jobs),
// and the difference divided by MANY − FEW is its instructions per unit: start-up and warm-up
// cancel out. For ws and net the default window, connections 200..2,700, is the fresh server
// of `npm run bench`'s wsServer and netServer rows; FEW=2700 MANY=20000 is a steady one.
// What makes the counts repeat:
//   - one connection, or one ws connection at a time, so each request is handled alone (with
//     ten, how many requests one read carries depends on timing, and with it the work per
//     request);
//   - V8 with --predictable and --single-threaded, and a fixed young generation (16 MB
//     semi-spaces), so that GCs come at the same allocation points in every run;
//   - the clock slowed 50x (libfaketime) to match valgrind's slowdown: leakwatch samples an
//     emitter class by how many emitters it makes per second, and the server must look as
//     busy to it as it is outside valgrind (the sampled classes are printed, to check).
// What still moves between windows is work done once, at a point that depends on the arm: a
// late TurboFan compile (after a deopt) in one run and not the other is ~60 M instructions, 3 %
// of a 20,000-request window; GC placement moves too. So each run's instructions are split by
// the function they were spent in (callgrind_annotate, self cost): V8's heap and GC code, its
// compilers, and the rest, which is the request's own work: JS, ICs, runtime calls, libuv,
// llhttp, syscalls. That last figure is the one compared; it repeats to ~1 % between windows
// (the code still runs unoptimized for a while after a deopt), GC is printed beside it.
//
//   node benches/server-instructions.js    needs valgrind and libfaketime (apt: faketime)
//   env: WORKLOAD (http | ws | net | pool), FEW (20000 | 200 | 200 | 100000),
//        MANY (100000 | 2700 | 2700 | 1000000), ARMS (none,listeners-off,leakwatch);
//        ~4 minutes for http, ~6 for ws
//   --by-function: also where each arm's extra instructions per request are spent, by function
//   (JS functions named through V8's --perf-basic-prof; benches/callgrind-functions.js). Its
//   figures are diagnostics: one window pair, compile and GC work included.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { cannon } = require('./workloads/http');
const { readLines } = require('./harness');
const { readProfile, perRequestDiff } = require('./callgrind-functions');

const ROOT = path.join(__dirname, '..');
const WORKLOAD = process.env.WORKLOAD || 'http';
const ARMS = (process.env.ARMS || 'none,listeners-off,leakwatch').split(',');
const CLOCK_RATE = 0.02; // virtual seconds per real second under valgrind
const FAKETIME_LIBS = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1',
  '/usr/lib/faketime/libfaketimeMT.so.1',
  '/usr/local/lib/faketime/libfaketimeMT.so.1',
];
// Where a self cost is counted: V8's heap (allocation, GC, its visitors) or its compilers.
const GC_CODE =
  /v8::internal::(Scaveng|MarkCompact|Marking|MainMarking|IncrementalMarking|Sweeper|Evacuat|RecordMigratedSlot|LiveObjectRange|MemoryAllocator|RememberedSet|SlotSet|\w*Visitor|BodyDescriptor|\(anonymous namespace\)::IterateObjectCache|GlobalHandles|Heap\b|GCTracer|PagedSpace|SemiSpace|NewSpace|FreeList|MinorMarkCompact|EphemeronHashTable|MemoryChunk|Page::|LargeObjectSpace|ArrayBufferSweeper|Isolate::Iterate|Factory::NewFillerObject|HeapObject::SizeFromMap|WeakObjects|MarkingWorklist)|heap::base::|cppgc::/;
const COMPILER_CODE =
  /v8::internal::(compiler::|maglev::|baseline::|interpreter::|Parser|Scanner|Compiler::|OptimizedCompilationJob|TurbofanCompilationJob|Pipeline|Ast\w*|DeclarationScope|Scope::|Zone::|CodeGenerator|Assembler|RegExpCompiler|RegExpParser)/;
const BY_FUNCTION = process.argv.includes('--by-function');
const NODE_FLAGS = [
  '--predictable',
  '--single-threaded',
  '--random-seed=7',
  '--hash-seed=7',
  '--min-semi-space-size=16',
  '--max-semi-space-size=16',
];

// The server: prints its port once leakwatch's listener tracking has switched to its fast
// methods (after their check answers, a second after start: the units are driven after that,
// as on a server that has run); on stdin, prints the sampled classes (leakwatch arms) and ends.
function serverCode(createServer) {
  return `
${createServer}
async function settled() {
  if (!process.env.LW_ARM) return;
  const lw = require(${JSON.stringify(ROOT)});
  while (lw.internals().emitterMode === 'wrap') await new Promise((resolve) => setTimeout(resolve, 50));
}
listen((port) => settled().then(() => console.log(port)));
process.stdin.once('data', () => {
  const lw = process.env.LW_ARM ? require(${JSON.stringify(ROOT)}) : null;
  const sampled = lw ? lw.listeners(20).filter((r) => r.sampleKeep > 1).map((r) => r.emitter + ' 1 in ' + r.sampleKeep) : [];
  console.log(JSON.stringify([...new Set(sampled)]));
  close();
  process.stdin.destroy();
});
`;
}

// Drives `units` connections of a workload file's converse(), one at a time.
function oneAtATime(file) {
  return async (port, units) => {
    const { converse } = require(file);
    for (let i = 0; i < units; i++) await converse(port);
  };
}

// What each workload runs under callgrind (defining listen() and close()) and how it is driven.
const WORKLOADS = {
  http: {
    unit: 'request',
    few: 20_000,
    many: 100_000,
    title: 'http server, one keep-alive connection',
    server: serverCode(`
const { createServer } = require(${JSON.stringify(path.join(__dirname, 'workloads', 'http.js'))});
const { server, close } = createServer();
const listen = (then) => server.listen(0, '127.0.0.1', () => then(server.address().port));`),
    async drive(port, units, arm) {
      const { result } = await cannon(port, { amount: units, connections: 1 });
      if (result.errors + result.non2xx > 0)
        throw new Error(`${arm}: ${result.errors} errors, ${result.non2xx} non-2xx`);
    },
  },
  ws: {
    unit: 'connection',
    few: 200,
    many: 2_700,
    title: 'ws server, connections opened, echoed and closed one at a time',
    server: serverCode(`
const { WebSocketServer } = require(${JSON.stringify(require.resolve('ws'))});
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
wss.on('connection', (socket) => socket.on('message', (data) => socket.send(data)));
const close = () => wss.close();
const listen = (then) => wss.on('listening', () => then(wss.address().port));`),
    drive: oneAtATime('./workloads/ws'),
  },
  net: {
    unit: 'connection',
    few: 200,
    many: 2_700,
    title: 'net server, connections opened, echoed and closed one at a time',
    server: serverCode(`
const net = require('node:net');
const server = net.createServer((socket) => {
  socket.on('data', (data) => socket.end(data));
  socket.on('error', () => {});
});
const close = () => server.close();
const listen = (then) => server.listen(0, '127.0.0.1', () => then(server.address().port));`),
    drive: oneAtATime('./workloads/net'),
  },
  // benches/workloads/pool.js's jobs, run in the process under callgrind when asked over a
  // loopback connection (one, whatever the count: its cost cancels out of MANY − FEW).
  pool: {
    unit: 'job',
    few: 100_000,
    many: 1_000_000,
    title: 'pool checkout: 32 long-lived emitters, two listeners added and removed per job',
    server: serverCode(`
const { jobs } = require(${JSON.stringify(path.join(__dirname, 'workloads', 'pool.js'))});
const server = require('node:net').createServer((socket) => {
  socket.once('data', (data) => {
    jobs(Number(String(data)));
    socket.end('done');
  });
});
const close = () => server.close();
const listen = (then) => server.listen(0, '127.0.0.1', () => then(server.address().port));`),
    async drive(port, units) {
      const net = require('node:net');
      await new Promise((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.end(String(units)));
        socket.on('error', reject);
        socket.on('close', resolve);
        socket.resume();
      });
    },
  },
};
const W = WORKLOADS[WORKLOAD];
if (!W) throw new Error(`WORKLOAD: ${Object.keys(WORKLOADS).join(' or ')}; got ${WORKLOAD}`);
const FEW = Number(process.env.FEW || W.few);
const MANY = Number(process.env.MANY || W.many);

const ARM_SETUP = {
  none: { preload: [], env: {} },
  'listeners-off': {
    preload: ['-r', path.join(ROOT, 'js', 'register.js')],
    env: { LW_ARM: '1', LEAKWATCH_LISTENERS: 'off' },
  },
  leakwatch: { preload: ['-r', path.join(ROOT, 'js', 'register.js')], env: { LW_ARM: '1' } },
};

/**
 * One server under callgrind for `units`: {total, gc, compiler, sampled, realPerSecond}, and
 * with --by-function its {functions: {self, calls}} (callgrind-functions.js).
 */
async function count(arm, units, faketime, dir) {
  const setup = ARM_SETUP[arm];
  if (!setup) throw new Error(`unknown arm ${arm}; arms: ${Object.keys(ARM_SETUP).join(', ')}`);
  const profile = path.join(dir, `${arm}-${units}.out`);
  const detail = BY_FUNCTION
    ? { valgrind: ['--dump-instr=yes', '--dump-line=no'], node: ['--perf-basic-prof'] }
    : { valgrind: [], node: [] };
  const args = [
    '--tool=callgrind',
    ...detail.valgrind,
    `--callgrind-out-file=${profile}`,
    process.execPath,
    ...NODE_FLAGS,
    ...detail.node,
    ...setup.preload,
    '-e',
    W.server,
  ];
  const env = {
    ...process.env,
    ...setup.env,
    LEAKWATCH_LOG: 'off',
    LD_PRELOAD: faketime,
    FAKETIME: `+0 x${CLOCK_RATE}`,
  };
  // In the run's temp dir: --perf-basic-prof also has V8 write an isolate-*.log into the cwd.
  const child = spawn('valgrind', args, { env, cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const lines = readLines(child.stdout);
  const port = Number(await lines.next());
  const started = Date.now();
  await W.drive(port, units, arm);
  const realPerSecond = (units * 1000) / (Date.now() - started);
  child.stdin.end('stop\n');
  const sampled = JSON.parse(await lines.next());
  const status = await exited;
  if (status !== 0) throw new Error(`${arm}: callgrind run failed (${status}): ${stderr.slice(-1500)}`);
  const split = splitProfile(profile);
  const functions = BY_FUNCTION ? byFunction(profile, child.pid) : null;
  fs.rmSync(profile, { force: true });
  return { ...split, functions, sampled, realPerSecond };
}

function byFunction(profile, pid) {
  const perfMap = `/tmp/perf-${pid}.map`; // where V8's --perf-basic-prof writes, always
  try {
    return readProfile(profile, perfMap, ROOT);
  } finally {
    fs.rmSync(perfMap, { force: true });
  }
}

/** A profile's total instructions and the self costs of V8's heap code and of its compilers. */
function splitProfile(profile) {
  const out = spawnSync('callgrind_annotate', ['--threshold=100', '--inclusive=no', profile], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (out.status !== 0) throw new Error(`callgrind_annotate failed: ${out.stderr}`);
  const split = { total: 0, gc: 0, compiler: 0 };
  for (const line of out.stdout.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (!m) continue;
    const n = Number(m[1].replaceAll(',', ''));
    if (m[2].includes('PROGRAM TOTALS')) split.total = n;
    else if (GC_CODE.test(m[2])) split.gc += n;
    else if (COMPILER_CODE.test(m[2])) split.compiler += n;
  }
  return split;
}

async function main() {
  const faketime = FAKETIME_LIBS.find((f) => fs.existsSync(f));
  if (spawnSync('valgrind', ['--version']).status !== 0 || !faketime) {
    console.log(
      'server-instructions: needs valgrind and libfaketime (apt-get install valgrind faketime); nothing measured'
    );
    return;
  }
  console.log(`${W.title}, instructions per ${W.unit} over ${W.unit}s ${FEW}..${MANY} (callgrind)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-server-instructions-'));
  const work = {};
  const windows = {};
  try {
    for (const arm of ARMS) {
      const few = await count(arm, FEW, faketime, dir);
      const many = await count(arm, MANY, faketime, dir);
      windows[arm] = { few: few.functions, many: many.functions };
      const per = (key) => (many[key] - few[key]) / (MANY - FEW);
      work[arm] = per('total') - per('gc') - per('compiler');
      const virtual = Math.round(many.realPerSecond / CLOCK_RATE);
      const sampled = many.sampled.length ? `; sampled: ${many.sampled.join(', ')}` : '';
      const parts = `${W.unit} work ${Math.round(work[arm])}, GC ${Math.round(per('gc'))}, compilers ${Math.round(per('compiler'))}, total ${Math.round(per('total'))}`;
      console.log(`${arm.padEnd(14)} ${parts} (${virtual} ${W.unit}s per virtual second${sampled})`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (work.none === undefined) return;
  for (const arm of ARMS.filter((a) => a !== 'none')) {
    console.log(
      `${arm} vs none, ${W.unit} work: ${(work[arm] / work.none).toFixed(4)}x (+${Math.round(work[arm] - work.none)} instructions per ${W.unit})`
    );
    if (BY_FUNCTION) printByFunction(windows.none, windows[arm], arm);
  }
}

function printByFunction(none, other, arm) {
  const show = (title, key, top) => {
    console.log(`  ${title} (instructions per ${W.unit}: none, ${arm}, difference)`);
    for (const [name, a, b] of perRequestDiff(none, other, MANY - FEW, key, top)) {
      console.log(`  ${fmt(a)} ${fmt(b)} ${fmt(b - a, true)}  ${name}`);
    }
  };
  show('self cost by function', 'self', 30);
  show('IC builtins and runtime calls, by calling JS function', 'calls', 15);
}

function fmt(n, signed = false) {
  const s = Math.round(n).toString();
  return (signed && n >= 0.5 ? `+${s}` : s).padStart(7);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
