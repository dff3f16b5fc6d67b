'use strict';
// The /metrics endpoint (`metrics: {port, host}`, LEAKWATCH_METRICS_PORT) in real child
// processes: what it serves, where it binds, that it never keeps a process alive, that a taken
// port is one warning, and a real Prometheus server scraping it.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const lw = require('..');
const { ROOT, REGISTER, runNode, tempDir } = require('./helpers');
const {
  COUNT_LISTENING,
  PROMETHEUS,
  requireTool,
  freePort,
  get,
  parseText,
  valueOf,
  waitFor,
} = require('./metrics-helpers');

test('GET /metrics serves the text format; other paths and methods do not', async () => {
  const port = await freePort();
  lw.start({ log: 'off', metrics: { port } });
  try {
    const res = await waitFor(() => get(`http://127.0.0.1:${port}/metrics`).catch(() => null), 5000, 'the endpoint');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const samples = parseText(res.body);
    assert.ok(valueOf(samples, 'nodejs_heap_size_used_bytes') > 0);
    assert.equal(valueOf(samples, 'leakwatch_info', { gc_source: 'v8' }), 1);
    assert.equal((await get(`http://127.0.0.1:${port}/metrics?x=1`)).status, 200);
    assert.equal((await get(`http://127.0.0.1:${port}/`)).status, 404);
    assert.equal((await get(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status, 405);
  } finally {
    lw.stop();
  }
  await assert.rejects(get(`http://127.0.0.1:${port}/metrics`), /ECONNREFUSED/, 'stop() closes the endpoint');
});

/** The IPv4 address this process listens on at `port`, from /proc/self/net/tcp (as lsof reads it). */
function listeningAddress(port) {
  for (const row of fs.readFileSync('/proc/self/net/tcp', 'utf8').trim().split('\n').slice(1)) {
    const [, local, , state] = row.trim().split(/\s+/);
    const [hexAddress, hexPort] = local.split(':');
    if (state === '0A' && parseInt(hexPort, 16) === port)
      return hexAddress
        .match(/../g)
        .reverse()
        .map((b) => parseInt(b, 16))
        .join('.');
  }
  return null;
}

test('bound to 127.0.0.1 unless a host is given', async () => {
  const port = await freePort();
  lw.start({ log: 'off', metrics: { port } });
  try {
    await waitFor(() => get(`http://127.0.0.1:${port}/metrics`).catch(() => null), 5000, 'the endpoint');
    assert.equal(listeningAddress(port), '127.0.0.1');
    const outside = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a.family === 'IPv4' && !a.internal);
    if (outside)
      await assert.rejects(
        get(`http://${outside.address}:${port}/metrics`),
        /ECONNREFUSED/,
        'not reachable from outside'
      );
    lw.start({ log: 'off', metrics: { port, host: '0.0.0.0' } }); // a restart moves it
    await waitFor(() => listeningAddress(port) === '0.0.0.0', 5000, 'the endpoint on 0.0.0.0');
    if (outside) assert.equal((await get(`http://${outside.address}:${port}/metrics`)).status, 200);
  } finally {
    lw.stop();
  }
});

test('bad metrics options throw and name the option', () => {
  for (const [metrics, message] of [
    [{ port: 0 }, /"metrics.port" must be an integer from 1 to 65535/],
    [{ port: 70000 }, /"metrics.port"/],
    [{ port: '9464' }, /"metrics.port"/],
    [{ port: 9464, host: '' }, /"metrics.host"/],
    [{ port: 9464, path: '/x' }, /unknown option "metrics.path"/],
    [9464, /"metrics" must be an object \{port, host\?\}/],
  ]) {
    assert.throws(() => lw.start({ log: 'off', metrics }), message, JSON.stringify(metrics));
  }
  assert.equal(lw.running, false);
});

test('never started by default, and never keeps the process alive, even with a scraper connected', async () => {
  const quiet = await runNode(['-r', REGISTER, '-e', COUNT_LISTENING], { env: { LEAKWATCH_LOG: 'off' } });
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stdout.trim(), '0', 'no listening socket without the option');
  const serving = await runNode(['-r', REGISTER, '-e', `setTimeout(() => { ${COUNT_LISTENING} }, 200)`], {
    env: { LEAKWATCH_LOG: 'off', LEAKWATCH_METRICS_PORT: String(await freePort()) },
  });
  assert.equal(serving.stdout.trim(), '1', `the same check sees the endpoint when asked for: ${serving.stderr}`);

  // The child serves /metrics and has 1.5 s of work; this process holds a keep-alive
  // connection to it all along. The child must still end when its work does.
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', REGISTER, '-e', "console.log('ready'); setTimeout(() => {}, 1500)"], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', LEAKWATCH_LOG: 'off', LEAKWATCH_METRICS_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve({ code })));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const res = await waitFor(
      () => get(`http://127.0.0.1:${port}/metrics`, { agent }).catch(() => null),
      5000,
      'the child endpoint'
    );
    assert.equal(res.status, 200);
    // Held alive by the connection, the child would never end: 60 s is 40 times its work, a
    // limit for a hung child, not a speed bound.
    const hung = new Promise((resolve) => setTimeout(resolve, 60_000, 'still running').unref());
    const result = await Promise.race([exited, hung]);
    assert.notEqual(result, 'still running', 'the child ended while the scrape connection was open');
    assert.equal(result.code, 0);
  } finally {
    agent.destroy();
    child.kill();
  }
});

test('a port already taken: one warning, and the app runs on', async () => {
  const blocker = net.createServer();
  await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const { port } = blocker.address();
  try {
    const app = "setTimeout(() => console.log('app ran'), 300)";
    const run = await runNode(['-r', REGISTER, '-e', app], {
      env: { LEAKWATCH_LOG: 'off', LEAKWATCH_METRICS_PORT: String(port) },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'app ran');
    const warnings = run.stderr.split('\n').filter((l) => l.includes('LEAKWATCH_METRICS_PORT_IN_USE'));
    assert.equal(warnings.length, 1, run.stderr);
    assert.match(
      warnings[0],
      new RegExp(
        `LeakwatchWarning: The leakwatch /metrics endpoint is off: 127\\.0\\.0\\.1:${port} is already in use\\.`
      )
    );
  } finally {
    blocker.close();
  }
});

test('LEAKWATCH_METRICS_PORT: host:port, and bad values warn without stopping the app', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', REGISTER, '-e', 'setTimeout(() => {}, 3000)'], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', LEAKWATCH_LOG: 'off', LEAKWATCH_METRICS_PORT: `127.0.0.1:${port}` },
    stdio: 'ignore',
  });
  try {
    const res = await waitFor(() => get(`http://127.0.0.1:${port}/metrics`).catch(() => null), 5000, 'the endpoint');
    assert.equal(res.status, 200);
  } finally {
    child.kill();
  }
  const bad = await runNode(['-r', REGISTER, '-e', "console.log('ok')"], {
    env: { LEAKWATCH_LOG: 'off', LEAKWATCH_METRICS_PORT: 'ninety' },
  });
  assert.equal(bad.code, 0);
  assert.equal(bad.stdout.trim(), 'ok');
  assert.match(
    bad.stderr,
    /\[LEAKWATCH_BAD_CONFIG\] LeakwatchWarning: LEAKWATCH_METRICS_PORT must be a port \(9464\) or host:port/
  );
  assert.doesNotMatch(bad.stderr, /not supported/);
});

test('a real Prometheus server scrapes the endpoint and answers a query with leakwatch series', async (t) => {
  if (!requireTool(t, PROMETHEUS)) return;
  const dir = tempDir('lw-prom-');
  const [appPort, promPort] = [await freePort(), await freePort()];
  // A small app that allocates and keeps some of it, so the series move.
  const appCode =
    'const keep = []; setInterval(() => { keep.push(Buffer.alloc(1e4)); for (let i = 0; i < 1e4; i++) ({ i }); }, 50);';
  const app = spawn(process.execPath, ['-r', REGISTER, '-e', appCode], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', LEAKWATCH_LOG: 'off', LEAKWATCH_METRICS_PORT: String(appPort) },
    stdio: 'ignore',
  });
  const config = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: app',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${appPort}']`,
      '',
    ].join('\n')
  );
  let promLog = '';
  const prometheus = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    }
  );
  prometheus.stderr.on('data', (d) => (promLog = (promLog + d).slice(-4000)));
  const query = async (q) => {
    const res = await get(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = JSON.parse(res.body);
    return body.status === 'success' && body.data.result.length > 0 ? body.data.result : null;
  };
  try {
    const heap = await waitFor(
      () => query('nodejs_heap_size_used_bytes{job="app"}'),
      30_000,
      `a scraped sample (prometheus log: ${promLog})`
    );
    assert.ok(Number(heap[0].value[1]) > 0);
    const targets = JSON.parse((await get(`http://127.0.0.1:${promPort}/api/v1/targets`)).body).data.activeTargets;
    assert.equal(targets[0].health, 'up', JSON.stringify(targets[0]));
    const gcs = await waitFor(() => query('sum(nodejs_gc_duration_seconds_count{job="app"})'), 10_000, 'GC counts');
    assert.ok(Number(gcs[0].value[1]) > 0, 'GCs counted');
    const states = await query('leakwatch_trend_state{job="app",series="heap"} == 1');
    assert.equal(states.length, 1, 'one current state for the heap');
    assert.ok(
      await query('histogram_quantile(0.99, sum by (le) (nodejs_gc_duration_seconds_bucket{job="app"}))'),
      'buckets usable by histogram_quantile'
    );
  } finally {
    prometheus.kill();
    app.kill();
    await new Promise((resolve) => (prometheus.exitCode === null ? prometheus.on('exit', resolve) : resolve()));
  }
});
