'use strict';
// @datadog/native-metrics as its tracer uses it: start() once, then stats() every interval.
// stats() returns the GCs since the previous call, so the counts are summed here.
const { registerCounter, every } = require('./index');
const nativeMetrics = require('@datadog/native-metrics');

let gcs = 0;
function read() {
  const stats = nativeMetrics.stats();
  gcs += stats.gc.all?.count ?? 0;
}

nativeMetrics.start();
every(read);
registerCounter('datadog', () => {
  read();
  return gcs;
});
