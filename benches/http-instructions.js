'use strict';
// Instructions per http request, counted by valgrind's callgrind: what leakwatch adds to a
// server's request, resolved to about 1 %, where CPU time per request on a shared machine moves
// by several percent from run to run. Instructions are not time (the request's GC and memory
// stalls cost more per instruction than leakwatch's cache-hot code), but they repeat.
//
// Each arm runs the bench's http server (benches/workloads/http.js) under callgrind twice, for
// FEW and then MANY requests on one keep-alive connection, and the difference divided by
// MANY − FEW is its instructions per request: start-up and warm-up cancel out.
// What makes the counts repeat:
//   - one connection, so each request is handled alone (with ten, how many requests one read
//     carries depends on timing, and with it the work per request);
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
//   node benches/http-instructions.js      needs valgrind and libfaketime (apt: faketime)
//   env: FEW (20000), MANY (100000), ARMS (none,listeners-off,leakwatch); ~4 minutes
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
const HTTP = path.join(__dirname, 'workloads', 'http.js');
const FEW = Number(process.env.FEW || 20_000);
const MANY = Number(process.env.MANY || 100_000);
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

// The server: prints its port; on stdin, prints the sampled classes (leakwatch arms) and ends.
const SERVER = `
const { createServer } = require(${JSON.stringify(HTTP)});
const { server, close } = createServer();
// leakwatch's listener tracking switches to its fast methods once their check has answered
// (a second after start): the requests are driven after that, as on a server that has run.
async function settled() {
  if (!process.env.LW_ARM) return;
  const lw = require(${JSON.stringify(ROOT)});
  while (lw.internals().emitterMode === 'wrap') await new Promise((resolve) => setTimeout(resolve, 50));
}
server.listen(0, '127.0.0.1', () => settled().then(() => console.log(server.address().port)));
process.stdin.once('data', () => {
  const lw = process.env.LW_ARM ? require(${JSON.stringify(ROOT)}) : null;
  const sampled = lw ? lw.listeners(20).filter((r) => r.sampleKeep > 1).map((r) => r.emitter + ' 1 in ' + r.sampleKeep) : [];
  console.log(JSON.stringify([...new Set(sampled)]));
  close();
  process.stdin.destroy();
});
`;

const ARM_SETUP = {
  none: { preload: [], env: {} },
  'listeners-off': {
    preload: ['-r', path.join(ROOT, 'js', 'register.js')],
    env: { LW_ARM: '1', LEAKWATCH_LISTENERS: 'off' },
  },
  leakwatch: { preload: ['-r', path.join(ROOT, 'js', 'register.js')], env: { LW_ARM: '1' } },
};

/**
 * One server under callgrind for `requests`: {total, gc, compiler, sampled, realPerSecond},
 * and with --by-function its {functions: {self, calls}} (callgrind-functions.js).
 */
async function count(arm, requests, faketime, dir) {
  const setup = ARM_SETUP[arm];
  if (!setup) throw new Error(`unknown arm ${arm}; arms: ${Object.keys(ARM_SETUP).join(', ')}`);
  const profile = path.join(dir, `${arm}-${requests}.out`);
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
    SERVER,
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
  const { result } = await cannon(port, { amount: requests, connections: 1 });
  const realPerSecond = (requests * 1000) / (Date.now() - started);
  if (result.errors + result.non2xx > 0) throw new Error(`${arm}: ${result.errors} errors, ${result.non2xx} non-2xx`);
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
      'http-instructions: needs valgrind and libfaketime (apt-get install valgrind faketime); nothing measured'
    );
    return;
  }
  console.log(
    `http server, one keep-alive connection, instructions per request over requests ${FEW}..${MANY} (callgrind)`
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-http-instructions-'));
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
      const parts = `request work ${Math.round(work[arm])}, GC ${Math.round(per('gc'))}, compilers ${Math.round(per('compiler'))}, total ${Math.round(per('total'))}`;
      console.log(`${arm.padEnd(14)} ${parts} (${virtual} requests per virtual second${sampled})`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (work.none === undefined) return;
  for (const arm of ARMS.filter((a) => a !== 'none')) {
    console.log(
      `${arm} vs none, request work: ${(work[arm] / work.none).toFixed(4)}x (+${Math.round(work[arm] - work.none)} instructions per request)`
    );
    if (BY_FUNCTION) printByFunction(windows.none, windows[arm], arm);
  }
}

function printByFunction(none, other, arm) {
  const show = (title, key, top) => {
    console.log(`  ${title} (instructions per request: none, ${arm}, difference)`);
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
