'use strict';
// Where Node's own behaviour differs between the supported versions (20, 22, 24), what each
// version does and what leakwatch does on it, in child processes of the Node running this
// suite (scripts/test-all-nodes.js runs the suite under each version):
//   - AbortSignal: Node prints a MaxListenersExceededWarning past 10 'abort' listeners up to
//     22.12 (20 included) and not from 22.13 on; leakwatch's own LEAKWATCH_LISTENER_LEAK fires
//     on every version, printed at the 11th only where Node did not print its own;
//   - the text of Node's MaxListenersExceededWarning changed over the years: leakwatch's
//     counting EventEmitter methods print exactly this Node's text, and the log records it;
//   - --disable-warning (Node 20.11+) silences one code, leakwatch's or Node's;
//   - process.getActiveResourcesInfo(): leakwatch's handle counts are this Node's own;
//   - ESM: `node --import leakwatch/register`, by the package's name.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { REGISTER, runNode, tempDir, logLines, memoryLines } = require('./helpers');

const [major, minor] = process.versions.node.split('.').map(Number);
const atLeast = (maj, min) => major > maj || (major === maj && minor >= min);
// Node 23.0 and 22.13 stopped the default listener limit on AbortSignal (nodejs/node#55816).
const warnsOnAbortSignal = !atLeast(22, 13);

const ABORT_LEAK = `
  const { signal } = new AbortController();
  for (let i = 0; i < 22; i++) signal.addEventListener('abort', () => {});
  console.log('max listeners', require('node:events').getMaxListeners(signal));
`;
const EMITTER_LEAK = `
  const EventEmitter = require('node:events');
  class Bus extends EventEmitter {}
  const bus = new Bus();
  for (let i = 0; i < 11; i++) bus.on('message', () => {});
`;

const NODE_ABORT_WARNING =
  /MaxListenersExceededWarning: Possible EventTarget memory leak detected\. 11 abort listeners added to \[AbortSignal\]/;
const ourAbortWarning = (count) =>
  new RegExp(
    `\\[LEAKWATCH_LISTENER_LEAK\\] LeakwatchWarning: Possible EventTarget listener leak: ${count} 'abort' listeners on \\[AbortSignal\\]`
  );

/** `node [flags] -e code`, plain or with leakwatch registered (log off unless `env` says). */
async function child(code, { flags = [], leakwatch = true, env = {} } = {}) {
  const args = [...flags, ...(leakwatch ? ['-r', REGISTER] : []), '-e', code];
  const run = await runNode(args, { env: { LEAKWATCH_LOG: 'off', ...env } });
  assert.equal(run.code, 0, run.stderr);
  return run;
}

/** The text of Node's own MaxListenersExceededWarning as printed on stderr, or null. */
function nodeWarningText(stderr) {
  return /^\(node:\d+\) MaxListenersExceededWarning: (.*)$/m.exec(stderr)?.[1] ?? null;
}

test(`AbortSignal past 10 listeners: Node ${process.versions.node} ${warnsOnAbortSignal ? 'warns' : 'does not warn'}, leakwatch warns`, async () => {
  const plain = await child(ABORT_LEAK, { leakwatch: false });
  assert.match(plain.stdout, new RegExp(`max listeners ${warnsOnAbortSignal ? 10 : 0}\\n`));
  assert.equal(NODE_ABORT_WARNING.test(plain.stderr), warnsOnAbortSignal, plain.stderr);
  assert.doesNotMatch(plain.stderr, /LeakwatchWarning/);

  const watched = await child(ABORT_LEAK, { env: { LEAKWATCH_LOG: 'stdout' } });
  assert.equal(NODE_ABORT_WARNING.test(watched.stderr), warnsOnAbortSignal, "leakwatch changes nothing of Node's own");
  // Where Node printed its own at the 11th, leakwatch's is in the log only, and printed at the
  // doubling; where Node printed nothing, leakwatch's is printed at the 11th (and the doubling
  // waits out the 10 s per-emitter interval).
  assert.equal(ourAbortWarning(11).test(watched.stderr), !warnsOnAbortSignal, watched.stderr);
  assert.equal(ourAbortWarning(22).test(watched.stderr), warnsOnAbortSignal, watched.stderr);
  const logged = logLines(watched.stdout).filter((l) => l.event === 'warning' && l.code === 'LEAKWATCH_LISTENER_LEAK');
  assert.equal(logged[0].details.count, 11);
  assert.equal(logged[0].details.nodeWarned, warnsOnAbortSignal);
});

test("MaxListenersExceededWarning: leakwatch prints this Node's own text and records it in the log", async () => {
  const plain = nodeWarningText((await child(EMITTER_LEAK, { leakwatch: false })).stderr);
  // Node 22.2 added "MaxListeners is 10." (20.20 prints it too); earlier releases lack it.
  assert.match(
    plain,
    /^Possible EventEmitter memory leak detected\. 11 message listeners added to \[Bus\]\.( MaxListeners is 10\.)? Use emitter\.setMaxListeners\(\) to increase limit$/
  );

  const watched = await child(EMITTER_LEAK, { env: { LEAKWATCH_LOG: 'stdout' } });
  assert.equal(nodeWarningText(watched.stderr), plain);
  const recorded = logLines(watched.stdout).filter(
    (l) => l.event === 'warning' && l.code === 'MaxListenersExceededWarning'
  );
  assert.equal(recorded.length, 1, watched.stdout);
  assert.equal(recorded[0].message, plain);
  assert.equal(recorded[0].details.emitter, 'Bus');
});

test("--disable-warning exists from Node 20.11 and silences one code, leakwatch's or Node's", async () => {
  assert.equal(process.allowedNodeEnvironmentFlags.has('--disable-warning'), atLeast(20, 11));
  if (!atLeast(20, 11)) return;
  const ours = (await child(EMITTER_LEAK, { flags: ['--disable-warning=LEAKWATCH_LISTENER_LEAK'] })).stderr;
  assert.doesNotMatch(ours, /LeakwatchWarning/);
  assert.notEqual(nodeWarningText(ours), null);
  const nodes = (await child(EMITTER_LEAK, { flags: ['--disable-warning=MaxListenersExceededWarning'] })).stderr;
  assert.equal(nodeWarningText(nodes), null);
  assert.match(
    nodes,
    /\[LEAKWATCH_LISTENER_LEAK\] LeakwatchWarning: Possible EventEmitter listener leak: 11 'message' listeners on \[Bus\]/
  );

  // The one-time note that GC events come from perf_hooks (here: no shim at that path).
  const noShim = { LEAKWATCH_SHIM_PATH: path.join(tempDir(), 'missing.so') };
  assert.match(
    (await child('0', { env: noShim })).stderr,
    /\[LEAKWATCH_GC_FALLBACK\] LeakwatchWarning: leakwatch uses perf_hooks for GC events: no V8 GC shim for Node/
  );
  assert.equal((await child('0', { env: noShim, flags: ['--disable-warning=LEAKWATCH_GC_FALLBACK'] })).stderr, '');
});

// A server with one connection and one app timer. Once both sockets exist, the first memory
// line whose sample was taken afterwards is compared with process.getActiveResourcesInfo().
const RESOURCES = `
  const lw = require('.');
  const net = require('node:net');
  lw.start({ log: 'off', interval: 100 });
  let readyAt = Infinity;
  const timer = setInterval(() => {}, 60_000);
  const server = net.createServer(() => { readyAt = Date.now(); });
  server.listen(0, '127.0.0.1', () => {
    const client = net.connect(server.address().port, '127.0.0.1');
    lw.on('stats', (line) => {
      if (line.time - line.sampleAgeMs <= readyAt) return;
      const node = {};
      for (const type of process.getActiveResourcesInfo()) node[type] = (node[type] || 0) + 1;
      console.log(JSON.stringify({ leakwatch: line.handles.byType, node }));
      lw.stop();
      clearInterval(timer);
      client.destroy();
      server.close();
    });
  });
`;

test('process.getActiveResourcesInfo(): leakwatch counts what this Node reports, not its own timers', async () => {
  assert.equal(typeof process.getActiveResourcesInfo, 'function');
  const { leakwatch, node } = JSON.parse((await child(RESOURCES, { leakwatch: false })).stdout);
  assert.deepEqual(node, { TCPServerWrap: 1, TCPSocketWrap: 2, Timeout: 1 });
  assert.deepEqual(leakwatch, node);
});

test('ESM: node --import leakwatch/register, by the package name', async () => {
  assert.ok(process.allowedNodeEnvironmentFlags.has('--import'));
  const app = path.join(tempDir(), 'app.mjs');
  fs.writeFileSync(app, "const a = []; for (let i = 0; i < 2e5; i++) a.push({ i }); console.log('app done');\n");
  const run = await runNode(['--import', 'leakwatch/register', app], { env: { LEAKWATCH_LOG: 'stderr' } });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^app done$/m);
  const lines = memoryLines(run.stderr);
  assert.equal(lines.length, 1, run.stderr);
  assert.equal(lines[0].final, true);
  assert.equal(lines[0].gcSource, 'v8');
  assert.ok(lines[0].gc.sinceStart.count > 0);
});

// Node's own FinalizationRegistry cleanups run when they would without leakwatch: a registry
// of leakwatch's, dirtied by the same gc(), used to go first (V8 runs one per task) and push
// Node's past the next setImmediate (listeners/collection.js). Each scenario is compared with
// plain Node's answer: Node 20 keeps AbortSignal.any()'s dependants whatever happens.
test("Node's own finalizers: collected weak listeners and AbortSignal.any() dependants leave as without leakwatch", async () => {
  const fixture = path.join(__dirname, 'fixtures', 'node-finalizers.js');
  const answer = async (scenario, leakwatch) => {
    const args = [
      '--expose-gc',
      '--expose-internals',
      '--no-warnings',
      ...(leakwatch ? ['-r', REGISTER] : []),
      fixture,
      scenario,
    ];
    const run = await runNode(args, { env: { LEAKWATCH_LOG: 'off' } });
    assert.equal(run.code, 0, run.stderr);
    return Number(run.stdout.trim());
  };
  assert.equal(await answer('weak', false), 0, 'plain Node: no warning for collected weak listeners');
  assert.equal(await answer('weak', true), 0, 'rounds in which Node warned about collected weak listeners');
  const plain = await answer('dependants', false);
  if (atLeast(22, 0)) assert.equal(plain, 1, 'plain Node 22+ drops the settled dependants');
  // A registry cleanup in front of Node's held ~half of them in 4-6 runs of 10.
  for (let run = 0; run < 6; run++) assert.equal(await answer('dependants', true), plain, `run ${run + 1}`);
});
