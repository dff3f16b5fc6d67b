// The same from ESM: `import` resolves leakwatch/testing to its .mjs wrapper.
import { test } from 'node:test';
import { assertNoLeak } from 'leakwatch/testing';
import { createRequire } from 'node:module';

const app = createRequire(import.meta.url)('../app.js');

test('esm leaky: subscribes and caches per request', async () => {
  let id = 0;
  await assertNoLeak(() => app.handleLeaky(id++));
});

test('esm fixed: unsubscribes and forgets', async () => {
  let id = 0;
  await assertNoLeak(() => app.handleFixed(id++));
});
