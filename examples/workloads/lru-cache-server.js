'use strict';
// Healthy: responses are cached in an lru-cache with a max of 4,000 entries (~2 KB each).
// Keys come from a large space, so the cache fills to its cap within seconds and then evicts
// as fast as it inserts: the heap climbs while it fills, then stays flat.

const { LRUCache } = require('lru-cache');
const { serve, answer, text } = require('./lib');

const cache = new LRUCache({ max: 4000 });
let next = 0;

serve((req, res) => {
  const key = `k-${next++ % 1_000_000}`;
  let entry = cache.get(key);
  if (!entry) {
    entry = { key, body: text(key, 2000), at: Date.now() };
    cache.set(key, entry);
  }
  answer(res, { key });
});
