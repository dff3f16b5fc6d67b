'use strict';
// Leak kept alive by timers: every request starts a "keep-alive ping" interval for its
// session and nothing ever clears it. Each active timer keeps its callback, and through it
// the session (~1 KB), reachable. (The timers are hours long, so they do not fire here.)

const { serve, answer, text } = require('./lib');

serve((req, res) => {
  const session = { url: req.url, seen: Date.now(), notes: text(req.url, 900) };
  setInterval(() => {
    session.seen = Date.now();
  }, 3_600_000);
  answer(res);
});
