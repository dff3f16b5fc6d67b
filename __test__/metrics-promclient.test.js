'use strict';
// lw.promClient(register): leakwatch's metrics in an app's own prom-client registry (the real
// prom-client), alone, next to prom-client's default metrics, and in OpenMetrics mode.

const test = require('node:test');
const assert = require('node:assert/strict');
const client = require('prom-client');
const lw = require('..');
const { forceGc } = require('../js/force-gc');
const { PROMTOOL, requireTool, promtoolCheck, parseText, valueOf } = require('./metrics-helpers');

test('a registry of its own: every leakwatch metric, with the GC histogram, read at scrape time', async (t) => {
  const register = new client.Registry();
  const unregister = lw.promClient(register);
  try {
    // Registered before start: a scrape of a stopped leakwatch is empty, not an error.
    assert.equal(parseText(await register.metrics()).length, 0);
    lw.start({ log: 'off' });
    forceGc();
    await new Promise((r) => setTimeout(r, 150)); // past the shared snapshot's 100 ms
    const text = await register.metrics();
    const samples = parseText(text);
    const stats = lw.stats();
    assert.ok(valueOf(samples, 'nodejs_gc_duration_seconds_count', { kind: 'major' }) >= 1);
    assert.equal(
      valueOf(samples, 'nodejs_gc_duration_seconds_bucket', { kind: 'major', le: '+Inf' }),
      valueOf(samples, 'nodejs_gc_duration_seconds_count', { kind: 'major' })
    );
    assert.equal(valueOf(samples, 'leakwatch_heap_baseline_bytes'), stats.baseline);
    assert.equal(valueOf(samples, 'leakwatch_heap_limit_bytes'), stats.heapLimit);
    assert.ok(valueOf(samples, 'nodejs_heap_size_used_bytes') > 0);
    assert.equal(valueOf(samples, 'leakwatch_info', { gc_source: 'v8' }), 1);
    const json = await register.getMetricsAsJSON();
    assert.ok(
      json.some((m) => m.name === 'leakwatch_trend_state' && m.values.length === 20),
      'JSON too'
    );
    if (requireTool(t, PROMTOOL, { part: true })) {
      const check = promtoolCheck(text);
      assert.ok(check.ok, `${check.output}\n${text}`);
    }
  } finally {
    lw.stop();
    unregister();
  }
  assert.equal(register.getMetricsAsArray().length, 0, 'unregister removes every leakwatch metric');
});

test("next to prom-client's default metrics: its names stay its own, leakwatch adds the rest", async (t) => {
  const register = new client.Registry();
  client.collectDefaultMetrics({ register });
  const before = new Map(register.getMetricsAsArray().map((m) => [m.name, m]));
  lw.start({ log: 'off' });
  const unregister = lw.promClient(register);
  try {
    assert.ok(before.has('nodejs_gc_duration_seconds') && before.has('process_open_fds'));
    for (const [name, metric] of before)
      assert.equal(register.getSingleMetric(name), metric, `${name} is still prom-client's`);
    const text = await register.metrics();
    assert.equal(
      text.split('\n').filter((l) => l === '# TYPE nodejs_heap_size_used_bytes gauge').length,
      1,
      'no duplicate family'
    );
    assert.match(text, /^leakwatch_heap_limit_bytes \d+$/m);
    assert.match(text, /^leakwatch_trend_state\{series="heap",state="warming-up"\} 1$/m);
    if (requireTool(t, PROMTOOL, { part: true })) {
      // prom-client's own nodejs_version_info and event-loop lag lines are its business;
      // only leakwatch's families are checked here.
      const ours =
        text
          .split('\n\n')
          .filter((block) => block.startsWith('# HELP leakwatch_'))
          .join('\n') + '\n';
      const check = promtoolCheck(ours);
      assert.ok(check.ok, `${check.output}\n${ours}`);
    }
  } finally {
    unregister();
    lw.stop();
  }
  assert.deepEqual(register.getMetricsAsArray(), [...before.values()], 'unregister leaves prom-client its own');
});

test('OpenMetrics registries: counters keep a single _total', async () => {
  const register = new client.Registry(client.Registry.OPENMETRICS_CONTENT_TYPE);
  lw.start({ log: 'off' });
  const unregister = lw.promClient(register);
  try {
    const text = await register.metrics();
    assert.match(text, /^# TYPE leakwatch_listener_adds counter$/m);
    assert.match(text, /^leakwatch_listener_adds_total \d+$/m);
    assert.doesNotMatch(text, /_total_total/);
    assert.match(text, /^nodejs_gc_duration_seconds_bucket\{le="\+Inf",kind="minor"\} \d+$/m);
    assert.match(text, /# EOF\n$/);
  } finally {
    unregister();
    lw.stop();
  }
  assert.equal(register.getMetricsAsArray().length, 0, 'renamed counters are unregistered too');
});

test('a value that is not a registry is a TypeError that says what is needed', () => {
  assert.throws(() => lw.promClient({}), /promClient\(register\) needs a prom-client Registry/);
  assert.throws(() => lw.promClient(), TypeError);
});
