'use strict';
// An HTTP API that caches every response it renders. Leak (the default): the cache is a Map
// keyed by the full request (unique per request here, as with a timestamp or session id in
// the key) that nothing evicts: ~1.4 KB kept per request, ~0.7 MB/s at 500 requests/s.
// Healthy twin (LEAK=0): the same cache with a 10 s time-to-live, swept every second: it
// fills for 10 s, then stays flat.
//
// Each request also does realistic work (a report of 60 rows computed, rendered to JSON),
// leaving ~40 KB of garbage: V8 then grows the heap instead of collecting it, and full GCs
// come every several seconds, as on a busy server.

const { serve, text } = require('./lib');

const LEAK = process.env.LEAK !== '0';
const TTL_MS = 10_000;
const cache = new Map();
let next = 0;

if (!LEAK) {
  setInterval(() => {
    const oldest = Date.now() - TTL_MS;
    for (const [key, entry] of cache) {
      if (entry.at >= oldest) break; // insertion order is time order
      cache.delete(key);
    }
  }, 1000).unref();
}

function render(id) {
  const rows = Array.from({ length: 60 }, (_, i) => ({
    id: i,
    sku: `sku-${id}-${i}`,
    price: Math.round(Math.random() * 10_000) / 100,
    tags: ['a', 'b', 'c'].map((t) => `${t}${i % 7}`),
    stock: { warehouse: i % 5, count: (id * 31 + i) % 97 },
  }));
  const total = rows.reduce((sum, r) => sum + r.price, 0);
  return JSON.stringify({ id, total, rows });
}

serve((req, res) => {
  const key = `${req.url}#${next++}`;
  const body = render(next);
  cache.set(key, { at: Date.now(), summary: text(body.slice(0, 40), 1400) });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
