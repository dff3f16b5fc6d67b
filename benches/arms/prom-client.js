'use strict';
// prom-client as most apps use it: collectDefaultMetrics() into a registry, and a scrape
// (registry.metrics(), the text a /metrics endpoint returns) every interval.
const { registerCounter, every } = require('./index');
const client = require('prom-client');

const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });
every(() => registry.metrics());

// Its GC count is the _count of the nodejs_gc_duration_seconds histogram, over all kinds.
registerCounter('prom-client', async () => {
  const { values } = await registry.getSingleMetric('nodejs_gc_duration_seconds').get();
  return values.filter((v) => v.metricName.endsWith('_count')).reduce((sum, v) => sum + v.value, 0);
});
