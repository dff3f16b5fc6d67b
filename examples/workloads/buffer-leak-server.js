'use strict';
// Leak outside the JS heap: every request keeps a 16 KB Buffer (say, a copy of a payload "for
// debugging") in an array that is never trimmed. The Buffers' bytes are `external` /
// `arrayBuffers` memory; each Buffer object adds only ~100 bytes to the JS heap.

const { serve, answer } = require('./lib');

const kept = [];

serve((req, res) => {
  kept.push(Buffer.alloc(16 * 1024, kept.length & 0xff));
  answer(res, { kept: kept.length });
});
