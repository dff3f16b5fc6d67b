'use strict';
// The workloads of examples/workloads/ under `node -r leakwatch/register` with the DEFAULT
// thresholds: real HTTP servers on 127.0.0.1, driven from this process at a steady rate, each
// leak beside its healthy twin (two servers at once, as on a busy machine). A leak must be
// reported with its own warning within the run; its twin must stay silent for the whole run.
//
// The run's length is the only clock here: 45 s, the 30 s the defaults aim for and slack for
// a loaded machine. How fast each verdict comes is measured by time-to-verdict.js, not here.
// These runs are long, so scripts/test-all-nodes.js runs this file once, under the first Node.

const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { tempDir } = require('./helpers');
const { CASES, runCase, leakWarnings } = require('../examples/workloads/time-to-verdict');

const SECONDS = 45;

/** The case of time-to-verdict.js for `file`, leaking or not, run for SECONDS. */
function workload(file, leaking, extra = {}) {
  const c = CASES.find((k) => k.file === file && !!k.leak === leaking && (k.load?.rate ?? 0) >= 100);
  assert.ok(c, `no case for ${file}`);
  return { ...c, seconds: SECONDS, ...extra, env: { ...c.env, ...extra.env } };
}

/** Runs `c`, stopping early on its own warning; resolves {lines, memory, warnings}. */
async function run(c) {
  const log = path.join(tempDir('lw-workload-'), 'memory.log');
  const { lines } = await runCase(c, log, { stopOn: c.leak });
  const memory = lines.filter((l) => l.event === 'memory');
  assert.ok(memory.length >= 5, `${c.name}: a log line a second (${memory.length})`);
  return { c, lines, memory, warnings: leakWarnings(lines) };
}

/** Runs a leak and its healthy twin side by side. */
const pair = (file) => Promise.all([run(workload(file, true)), run(workload(file, false))]);

const codes = (r) => r.warnings.map((w) => `${w.code}: ${w.message}`).join('\n') || 'none';
const hints = (r) => r.memory.at(-1).gc.sinceStart.hints;
const fullGcs = (r) => new Set(r.memory.map((l) => l.baselineTime).filter(Boolean)).size;

/** Asserts `r` got its own leak warning, and returns it. */
function assertReported(r) {
  const own = r.warnings.find((w) => w.code === r.c.leak);
  assert.ok(
    own,
    `${r.c.name}: no ${r.c.leak} in ${SECONDS} s (full GCs ${fullGcs(r)}, hinted ${hints(r)}); warnings: ${codes(r)}`
  );
  return own;
}

/** Asserts the healthy `r` raised no leak warning of any kind. */
function assertSilent(r) {
  assert.deepStrictEqual(codes(r), 'none', `${r.c.name}: false alarm`);
  assert.ok(
    r.memory.every((l) => l.trend.heap.state !== 'leaking'),
    `${r.c.name}: the heap was called leaking`
  );
}

/** Asserts a heap warning says how much, how fast and how sure. */
function assertHeapWarning(warning) {
  assert.match(
    warning.message,
    /^Possible memory leak: the heap left after full GCs grew [\d.]+ [MG]B in \d+ s \(\+[\d.]+ [MG]B\/min, confidence [\d.]+%\)/
  );
  assert.ok(warning.details.growthBytes >= 8 * 1024 * 1024, JSON.stringify(warning.details));
}

// The pairs run one after another: a pair is two servers at 500 requests/s on a 2-core machine.
const responseCache = pair('response-cache-server.js');
const promises = responseCache.catch(() => {}).then(() => pair('promise-leak-server.js'));
const pool = promises.catch(() => {}).then(() => pair('pool-listener-server.js'));
// The gateway beside the pool pair, which runs at 100 requests/s.
const gateway = promises.catch(() => {}).then(() => run(workload('gateway-server.js', false)));
const hintsOff = Promise.allSettled([pool, gateway]).then(() =>
  run(workload('response-cache-server.js', true, { seconds: 15, env: { LEAKWATCH_GC_HINTS: 'off' } }))
);
for (const p of [responseCache, promises, pool, gateway, hintsOff]) p.catch(() => {}); // awaited below

test('an unbounded response cache is a heap leak; a cache with a TTL is not', async () => {
  const [leak, healthy] = await responseCache;
  assertHeapWarning(assertReported(leak));
  // V8 left the growing heap without a full GC, and leakwatch asked for one.
  assert.ok(hints(leak) > 0, `no memory-pressure hint in ${fullGcs(leak)} full GCs`);
  assertSilent(healthy);
});

test('closures kept by never-settling promises are a heap leak; settling ones are not', async () => {
  const [leak, healthy] = await promises;
  assertHeapWarning(assertReported(leak));
  assertSilent(healthy);
});

test('a pool checkout that never removes its listener is a call-site leak; removing it on release is not', async () => {
  const [leak, healthy] = await pool;
  const warning = assertReported(leak);
  // The site, the event, the emitter class, how many emitters, and the rate.
  assert.match(
    warning.message,
    /^Possible listener leak: .*pool-listener-server\.js:\d+:\d+.* has \d+ 'timeout' listeners still attached across \d+ \[PooledConnection\] emitters, growing \+\d+\/min/
  );
  assertSilent(healthy);
});

test('a gateway with a keep-alive client pool, permanent listeners and per-connection ones removed on close is silent', async () => {
  const r = await gateway;
  assertSilent(r);
  // Its listeners were counted: the 300 permanent ones live, and thousands came and went.
  const { live, adds, removes } = r.memory.at(-1).listeners;
  assert.ok(live >= 300, `live ${live}`);
  assert.ok(adds > 10_000 && removes > 10_000, `adds ${adds}, removes ${removes}`);
});

test('gcHints off (LEAKWATCH_GC_HINTS=off): no hint is sent', async () => {
  const r = await hintsOff;
  assert.ok(
    r.memory.every((l) => l.gc.hints === 0 && l.gc.sinceStart.hints === 0),
    'hints counted with gcHints off'
  );
});
