'use strict';
// Heap snapshots on a confirmed heap leak (the `snapshot` option, LEAKWATCH_SNAPSHOT_DIR), for
// real: a leaking process writes one, owner-only, that parses as a V8 heap snapshot; the
// guards (max per process, spacing, free memory) hold.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { runNode, tempDir, logLines, ROOT } = require('./helpers');

const FIXTURE = path.join(__dirname, 'fixtures', 'trend-workload.js');
const HEAP = { window: '30s', warmup: '10s', sustain: '6s', minGrowth: '24MB' }; // as in trend.test.js

/**
 * Runs a leaking fixture workload with snapshots on into a fresh `snapshots` dir (created by
 * leakwatch), up to `seconds`; resolves {dir, log, child} once it exited cleanly.
 */
async function leakWithSnapshots(workload, seconds, env) {
  const base = tempDir('lw-snap-');
  const dir = path.join(base, 'snapshots'); // does not exist yet
  const log = path.join(base, 'memory.log');
  const child = await runNode([FIXTURE, workload, String(seconds)], {
    env: {
      LOG: log,
      HEAP: JSON.stringify(HEAP),
      SNAPSHOT: JSON.stringify({ dir, max: 1, minIntervalMs: 0 }),
      STOP_ON: 'LEAKWATCH_HEAP_GROWTH',
      ...env,
    },
    timeoutMs: (seconds + 60) * 1000,
  });
  assert.strictEqual(child.code, 0, child.stderr);
  return { dir, log, child };
}

test('a confirmed heap leak writes one snapshot, owner-only, and says where', async () => {
  // Stops two seconds after the heap verdict; 60 s is a bound for a starved machine, not the
  // expected time (~10 s). ~5 MB/s: a small heap, a small snapshot.
  const { dir, log, child } = await leakWithSnapshots('map-leak', 60, { LEAK_ENTRIES: '50' });
  const leak = child.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .find((l) => l.code === 'LEAKWATCH_HEAP_GROWTH');
  assert.ok(leak, child.stdout);

  const file = leak.details.snapshot;
  assert.ok(file && file.startsWith(dir + path.sep), `details.snapshot: ${file}`);
  assert.strictEqual(fs.statSync(dir).mode & 0o777, 0o700);
  assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
  assert.deepStrictEqual(fs.readdirSync(dir), [path.basename(file)]);
  // V8's format: a JSON object whose header gives the node count. Only the head is read: the
  // whole file is tens of MB.
  const head = Buffer.alloc(64 * 1024);
  const fd = fs.openSync(file, 'r');
  const read = fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  const text = head.subarray(0, read).toString('utf8');
  assert.ok(text.startsWith('{"snapshot":{"meta":'), text.slice(0, 80));
  assert.ok(Number(/"node_count":(\d+)/.exec(text)?.[1]) > 1000, text.slice(0, 2000));

  const logged = logLines(fs.readFileSync(log, 'utf8')).find((l) => l.code === 'LEAKWATCH_HEAP_SNAPSHOT');
  assert.ok(logged, 'the path is in the log');
  assert.strictEqual(logged.event, 'warning');
  assert.strictEqual(logged.details.path, file);
});

test('max per process, spacing and the free-memory guard are honoured', async () => {
  const base = tempDir('lw-snap-');
  const code = `
    const { takeSnapshot } = require(${JSON.stringify(path.join(ROOT, 'js', 'snapshot.js'))});
    const results = {};
    const spaced = { dir: ${JSON.stringify(path.join(base, 'spaced'))}, max: 5, minIntervalMs: 3600000 };
    results.spaced = [takeSnapshot(spaced), takeSnapshot(spaced)];
    const two = { dir: ${JSON.stringify(path.join(base, 'two'))}, max: 2, minIntervalMs: 0 };
    results.max = [1, 2, 3].map(() => takeSnapshot(two));
    const roomy = { dir: ${JSON.stringify(path.join(base, 'roomy'))}, max: 5, minIntervalMs: 0 };
    results.memory = takeSnapshot(roomy, { freeMemory: 1024 * 1024 });
    console.log(JSON.stringify(results));
  `;
  const child = await runNode(['-e', code], { timeoutMs: 60_000 });
  assert.strictEqual(child.code, 0, child.stderr);
  const r = JSON.parse(child.stdout);
  assert.ok(r.max[0].path && r.max[1].path, JSON.stringify(r.max));
  assert.match(r.max[2].skipped, /2 snapshot\(s\) already written by this process \(max 2\)/);
  assert.strictEqual(fs.readdirSync(path.join(base, 'two')).length, 2);
  assert.ok(r.spaced[0].path);
  assert.match(r.spaced[1].skipped, /less than 3600000 ms ago/);
  assert.match(r.memory.skipped, /not enough free memory/);
  assert.deepStrictEqual(fs.readdirSync(path.join(base, 'roomy')), []);
});

test('LEAKWATCH_SNAPSHOT_DIR turns snapshots on for leakwatch/register', async () => {
  const code = `
    const { optionsFromEnv } = require(${JSON.stringify(path.join(ROOT, 'js', 'env.js'))});
    process.on('warning', (w) => console.log(JSON.stringify({ warning: w.code })));
    console.log(JSON.stringify(optionsFromEnv({ LEAKWATCH_SNAPSHOT_DIR: '/var/tmp/heap' })));
    console.log(JSON.stringify(optionsFromEnv({ LEAKWATCH_SNAPSHOT_DIR: '   ' })));
  `;
  const child = await runNode(['-e', code]);
  const out = child.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepStrictEqual(out, [{ snapshot: { dir: '/var/tmp/heap' } }, {}]);
});

test('the snapshot diff counts what a full parse counts, accented names included', () => {
  const { countSnapshot, diffSnapshots } = require('../js/snapshot-diff');
  const v8 = require('node:v8');
  const dir = tempDir('lw-diff-');
  // V8 names instances by their class; the string table also holds every string of the test
  // process, quotes and escapes included, which the streaming read must step over.
  const name = 'Séssionπ';
  const Odd = class Séssionπ {};
  const strings = ['a "quoted" string', 'back\\slash', 'snow\u2603man'].map((t) => `${t} ${Math.random()}`);
  const kept = Array.from({ length: 500 }, () => new Odd());
  const first = v8.writeHeapSnapshot(path.join(dir, 'a.heapsnapshot'));
  for (let i = 0; i < 3000; i++) kept.push(new Odd(), () => i);
  const second = v8.writeHeapSnapshot(path.join(dir, 'b.heapsnapshot'));

  // The reference: the whole snapshot parsed at once, nodes counted by (type, name).
  const full = JSON.parse(fs.readFileSync(second, 'utf8'));
  const { node_fields: fields, node_types: nodeTypes } = full.snapshot.meta;
  const types = nodeTypes[fields.indexOf('type')];
  const expected = new Map();
  for (let i = 0; i < full.nodes.length; i += fields.length) {
    const type = types[full.nodes[i + fields.indexOf('type')]];
    const strings = ['string', 'concatenated string', 'sliced string'].includes(type);
    if (!strings && !['object', 'closure', 'native'].includes(type)) continue;
    const key = strings ? 'string\0(strings)' : `${type}\0${full.strings[full.nodes[i + fields.indexOf('name')]]}`;
    const row = expected.get(key) ?? { count: 0, bytes: 0 };
    row.count++;
    row.bytes += full.nodes[i + fields.indexOf('self_size')];
    expected.set(key, row);
  }
  const streamed = countSnapshot(second);
  assert.strictEqual(streamed.nodes, full.snapshot.node_count);
  assert.strictEqual(streamed.counts.size, expected.size);
  for (const [key, row] of expected) {
    const got = streamed.counts.get(key);
    assert.ok(got, `missing ${JSON.stringify(key)}`);
    assert.deepStrictEqual({ count: got.count, bytes: got.bytes }, row, key);
  }

  const rows = diffSnapshots(first, second, path.join(dir, 'diff.txt'));
  const odd = rows.find((r) => r.type === 'object' && r.name === name);
  assert.strictEqual(odd.count, 3000);
  assert.strictEqual(odd.after, 3500);
  // One closure per push, give or take what V8 shares (Node 24 made 2,999 of 3,000).
  assert.ok(
    rows.some((r) => r.type === 'closure' && r.count >= 2900),
    JSON.stringify(rows.slice(0, 5))
  );
  assert.match(
    fs.readFileSync(path.join(dir, 'diff.txt'), 'utf8'),
    new RegExp(`${name.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')} +\\+3,000 objects \\(500 -> 3,500\\)`)
  );
  kept.length = 0;
  assert.ok(strings.length === 3);
});

test('a confirmed heap leak is followed by a second snapshot and a summary of what grew, written by a child', async () => {
  // ~2.5 MB/s of Session objects; the process stays 40 s after the verdict, for the second
  // snapshot (15 s) and the summary.
  const { log } = await leakWithSnapshots('session-leak', 120, { STOP_AFTER_MS: '40000', LEAK_ENTRIES: '20' });
  const lines = logLines(fs.readFileSync(log, 'utf8'));
  const diff = lines.find((l) => l.code === 'LEAKWATCH_HEAP_SNAPSHOT_DIFF');
  assert.ok(diff, JSON.stringify(lines.filter((l) => l.event === 'warning')));
  const first = lines.find((l) => l.code === 'LEAKWATCH_HEAP_SNAPSHOT').details.path;
  assert.strictEqual(diff.details.first, first);
  assert.strictEqual(diff.details.second, first.replace(/\.heapsnapshot$/, '.after.heapsnapshot'));
  assert.strictEqual(fs.statSync(diff.details.second).mode & 0o777, 0o600);
  assert.strictEqual(fs.statSync(diff.details.path).mode & 0o777, 0o600);
  const summary = fs.readFileSync(diff.details.path, 'utf8');
  // The leaking class leads the objects (the strings its records hold, 1 KB each, lead the
  // bytes): thousands more of them.
  const rows = summary.split('\n').filter((l) => l.startsWith('  '));
  assert.match(rows[0], /^ {2}\(strings\) +\+[\d,]+ objects/, summary);
  const session = rows.find((l) => /^ {2}Session /.test(l));
  assert.match(session, /^ {2}Session +\+[\d,]+ objects \([\d,]+ -> [\d,]+\), \+\d+\.\d MB$/, summary);
  assert.ok(Number(/\+([\d,]+) objects/.exec(session)[1].replace(/,/g, '')) > 5000, summary);
  assert.ok(rows.indexOf(session) <= 1, 'Session is the first constructor');
  assert.match(
    diff.message,
    /^Heap snapshot diff written to .*\.diff\.txt; grew most: \(strings\) \+[\d,]+ objects .*; Session \+/
  );
});
