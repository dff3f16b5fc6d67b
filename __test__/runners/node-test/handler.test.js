'use strict';
// Run with `node --test` from this directory: one leaky test (it must fail with leakwatch's
// message) and one clean test (it must pass).
const { test } = require('node:test');
const { assertNoLeak } = require('leakwatch/testing');
const app = require('../app');

test('leaky: subscribes and caches per request', async () => {
  let id = 0;
  await assertNoLeak(() => app.handleLeaky(id++));
});

test('fixed: unsubscribes and forgets', async () => {
  let id = 0;
  await assertNoLeak(() => app.handleFixed(id++));
});
