'use strict';
// Leak: every request's session is stored in a module-level Map and never deleted (the key
// is unique per request). The JS heap left after full GCs climbs for as long as requests
// come in. ~1 KB per request.

const { serve, answer, text } = require('./lib');

const sessions = new Map();
let next = 0;

serve((req, res) => {
  const id = `s-${next++}`;
  sessions.set(id, { id, url: req.url, agent: req.headers['user-agent'], seen: Date.now(), notes: text(id, 900) });
  answer(res, { session: id });
});
