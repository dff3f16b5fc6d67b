'use strict';
// The optional /metrics endpoint (`metrics: {port, host}` or LEAKWATCH_METRICS_PORT): a small
// HTTP server in the app's own process for Prometheus to scrape. Never started unless asked
// for. Bound to 127.0.0.1 unless a host is given: an app's internals should not be public by
// accident. The server and every connection to it are unref'd, so it never keeps the process
// alive. A port already taken is one warning, and the app runs on without the endpoint.

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Starts serving `render()` at /metrics; returns a function that closes the server. */
function startMetricsServer({ port, host }, render, warn) {
  const http = require('node:http');
  const server = http.createServer((req, res) => respond(req, res, render));
  server.on('connection', (socket) => socket.unref());
  let failed = false;
  // Without an 'error' listener a taken port would crash the app.
  server.on('error', (err) => {
    if (failed) return;
    failed = true;
    warnFailure(err, port, host, warn);
  });
  server.listen(port, host);
  server.unref();
  return () => {
    try {
      server.close();
      server.closeAllConnections();
    } catch {
      // Already closed, or never listened.
    }
  };
}

function respond(req, res, render) {
  if (req.url.split('?')[0] !== '/metrics') return reply(res, 404, 'Not found: leakwatch serves /metrics\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'Method not allowed\n');
  let body;
  try {
    body = render();
  } catch (err) {
    return reply(res, 500, `leakwatch could not read its metrics: ${err.message}\n`);
  }
  res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function reply(res, status, text) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}

function warnFailure(err, port, host, warn) {
  const details = { port, host, error: err.code ?? err.message };
  if (err.code === 'EADDRINUSE') {
    warn(
      'LEAKWATCH_METRICS_PORT_IN_USE',
      `The leakwatch /metrics endpoint is off: ${host}:${port} is already in use.`,
      details
    );
  } else {
    warn(
      'LEAKWATCH_METRICS_SERVER_FAILED',
      `The leakwatch /metrics endpoint on ${host}:${port} is off: ${err.message}`,
      details
    );
  }
}

module.exports = { startMetricsServer, CONTENT_TYPE };
