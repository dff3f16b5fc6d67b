'use strict';
// Leak outside the JS heap: every request keeps a 4 KB Buffer (say, a copy of a payload "for
// debugging") in an array that is never trimmed; at 125 requests/s, ~0.5 MB/s. The Buffers'
// bytes are `external` / `arrayBuffers` memory; each Buffer object adds only ~100 bytes to the
// JS heap.

const { serve, answer } = require('./lib');

const kept = [];

serve((req, res) => {
  kept.push(Buffer.alloc(4 * 1024, kept.length & 0xff));
  answer(res, { kept: kept.length });
});
