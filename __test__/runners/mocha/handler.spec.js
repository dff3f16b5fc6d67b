'use strict';
// Run with `npx mocha` from this directory: one leaky test (it must fail with leakwatch's
// message) and one clean test (it must pass).
const { assertNoLeak } = require('leakwatch/testing');
const app = require('../app');

describe('request handler', function () {
  this.timeout(60_000); // a leak check makes hundreds of calls and a few dozen full GCs

  it('leaky: subscribes and caches per request', async () => {
    let id = 0;
    await assertNoLeak(() => app.handleLeaky(id++));
  });

  it('fixed: unsubscribes and forgets', async () => {
    let id = 0;
    await assertNoLeak(() => app.handleFixed(id++));
  });
});
