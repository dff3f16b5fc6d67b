'use strict';
// Healthy, bursty: each request holds ~50 KB of working data for 300 ms before answering
// (a slow downstream call). Under a burst of load the live heap rises by the requests in
// flight, and falls back when the burst ends. Driven with bursts by time-to-verdict.js.

const { serve, answer, text } = require('./lib');

serve((req, res) => {
  const work = Array.from({ length: 500 }, (_, i) => ({ i, text: text(`row-${i}`, 60) }));
  setTimeout(() => answer(res, { rows: work.length }), 300);
});
