'use strict';
// Must pass: the fixed handler unsubscribes and forgets.
const { assertNoLeak } = require('leakwatch/testing');
const app = require('../app');

test('fixed: unsubscribes and forgets', async () => {
  let id = 0;
  await assertNoLeak(() => app.handleFixed(id++));
}, 60_000);
