'use strict';
// @newrelic/native-metrics as its agent uses it: an emitter bound to V8's GC hooks and the
// event loop, polled with getGCMetrics() and getLoopMetrics() every interval. Both reset on
// read, so the GC counts are summed here.
const { registerCounter, every } = require('./index');
const interval = Number(process.env.BENCH_INTERVAL_MS || 1000);
const emitter = require('@newrelic/native-metrics')({ timeout: interval });

let gcs = 0;
function read() {
  for (const { metrics } of Object.values(emitter.getGCMetrics())) gcs += metrics.count;
  emitter.getLoopMetrics();
}

every(read);
registerCounter('newrelic', () => {
  read();
  return gcs;
});
