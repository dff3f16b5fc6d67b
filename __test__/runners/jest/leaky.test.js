'use strict';
// Must fail with leakwatch's message: the handler leaks a listener and ~1 KB per request.
const { assertNoLeak } = require('leakwatch/testing');
const app = require('../app');

test('leaky: subscribes and caches per request', async () => {
  let id = 0;
  await assertNoLeak(() => app.handleLeaky(id++));
}, 60_000);
