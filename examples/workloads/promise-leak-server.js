'use strict';
// Leak kept alive by a promise that never settles: each request races its work against a
// process-wide "shutdown" promise that only settles at shutdown. Promise.race adds a
// reaction to that promise on every call, and each reaction keeps the race's result (the
// request's ~1 KB record) reachable. A known pattern (nodejs/node#17469).

const { serve, answer, text } = require('./lib');

const shutdown = new Promise(() => {}); // settles when the process stops: here, never

async function handle(req) {
  return { url: req.url, seen: Date.now(), notes: text(req.url, 900) };
}

serve(async (req, res) => {
  const record = await Promise.race([handle(req), shutdown]);
  answer(res, { seen: record.seen });
});
