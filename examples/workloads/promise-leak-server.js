'use strict';
// Leak kept alive by a promise that never settles: each request races its work against a
// process-wide "shutdown" promise that only settles at shutdown. Promise.race adds a
// reaction to that promise on every call, and each reaction keeps the race's result (the
// request's ~1 KB record) reachable. A known pattern (nodejs/node#17469).
// Healthy twin (LEAK=0): the race is against a per-request deadline that settles when the
// response is sent, so its reaction goes with it.

const { serve, answer, text } = require('./lib');

const LEAK = process.env.LEAK !== '0';
const shutdown = new Promise(() => {}); // settles when the process stops: here, never

async function handle(req) {
  return { url: req.url, seen: Date.now(), notes: text(req.url, 900) };
}

serve(async (req, res) => {
  const cancel = LEAK ? shutdown : new Promise((resolve) => res.on('finish', resolve));
  const record = await Promise.race([handle(req), cancel]);
  answer(res, { seen: record.seen });
});
