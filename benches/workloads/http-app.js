'use strict';
// (c3) The http server of http.js with the work an app does per request (~50-100 µs): it
// parses a JSON document (a cached config or an upstream's answer), filters and sorts its
// items, renders them into an HTML template and hashes the page for an ETag. Listener
// tracking's cost is the same few listener operations per request as on the minimal server,
// read against a request that does something.
//
// Run as a script (with an arm preloaded) this file is the server; the bench process
// require()s it for driveBursts() (http.js).
const { createHash } = require('node:crypto');
const http = require('./http');

// An upstream's answer, as text: 100 items of a few fields each (~6 KB).
const UPSTREAM = JSON.stringify({
  items: Array.from({ length: 100 }, (_, i) => ({
    id: i,
    name: `item ${i}`,
    price: (i * 37) % 101,
    tags: ['a', 'b', 'c'].slice(0, 1 + (i % 3)),
  })),
});

function escapeHtml(text) {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function renderPage(req, id) {
  const { items } = JSON.parse(UPSTREAM);
  const chosen = items.filter((item) => item.price % 3 !== id % 3).sort((a, b) => a.price - b.price || a.id - b.id);
  const rows = chosen.map((item) => `<li>${escapeHtml(item.name)}: ${item.price} (${item.tags.join(', ')})</li>`);
  return `<!doctype html><title>${escapeHtml(req.url)}</title><ul>${rows.join('')}</ul><p>request ${id}</p>`;
}

function respond(req, res, id) {
  const page = renderPage(req, id);
  const etag = createHash('sha1').update(page).digest('base64');
  res.writeHead(200, { 'content-type': 'text/html', etag });
  res.end(page);
}

if (require.main === module) http.serve(respond);
module.exports = { driveBursts: http.driveBursts, renderPage };
