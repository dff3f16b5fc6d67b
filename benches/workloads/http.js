'use strict';
// (c) An http server on 127.0.0.1 that answers every request with a small JSON body, driven
// by autocannon for a fixed time: server CPU per request, throughput and p99 latency.
//
// Run as a script (with an arm preloaded) this file is the server; the bench process
// require()s it for drive(), which loads the server through autocannon.
const http = require('node:http');

/** A small JSON body: the minimal server's whole work. */
function smallJson(req, res, id) {
  const body = JSON.stringify({ id, path: req.url, time: Date.now(), items: [1, 2, 3] });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(body);
}

/**
 * The server every arm runs: `respond(req, res, id)` answers each request (default: a small
 * JSON body). `served()` counts requests.
 */
function createServer(respond = smallJson) {
  let served = 0;
  const server = http.createServer((req, res) => {
    served++;
    respond(req, res, served);
  });
  server.keepAliveTimeout = 1000;
  // closeAllConnections(): the process ends now, not when idle keep-alive sockets time out.
  const close = () => server.close() && server.closeAllConnections();
  return { server, served: () => served, close };
}

function serve(respond) {
  const { serveWindow } = require('../child');
  const { server, served, close } = createServer(respond);
  server.listen(0, '127.0.0.1', () => {
    serveWindow({ port: server.address().port, served, close });
  });
}

/**
 * autocannon against the server, 10 keep-alive connections, no pipelining, for `load`:
 * {duration: seconds} or {amount: requests}. Resolves to its result and the p99 latency in
 * ms, taken from every response's own time (autocannon's histogram keeps whole milliseconds;
 * these requests take a fraction of one).
 */
function cannon(port, load) {
  const autocannon = require('autocannon');
  const latencies = [];
  return new Promise((resolve, reject) => {
    // sampleInt: autocannon notices the end of a run at its next sample, 1 s apart by default.
    const options = { url: `http://127.0.0.1:${port}/items`, connections: 10, sampleInt: 100, ...load };
    const instance = autocannon(options, (err, result) => {
      if (err) return reject(err);
      latencies.sort((a, b) => a - b);
      resolve({ result, p99Ms: latencies[Math.floor(latencies.length * 0.99)] });
    });
    instance.on('response', (client, statusCode, bytes, ms) => latencies.push(ms));
  });
}

/** Warms the server up (5,000 requests), then measures `seconds` of load. */
async function drive(port, window, { seconds }) {
  await cannon(port, { amount: 5000 });
  await window.start();
  const { result, p99Ms } = await cannon(port, { duration: seconds });
  const measured = await window.stop();
  if (result.errors + result.non2xx > 0) throw new Error(`http: ${result.errors} errors, ${result.non2xx} non-2xx`);
  return { ...measured, reqPerSec: measured.served / seconds, p99Ms };
}

/**
 * Paired bursts against servers that are all up at once (harness.runServersTogether): each is
 * warmed up (5,000 requests), then in each of `bursts` rotations every server serves `amount`
 * requests inside its own window, the order reversed every other rotation so that neither
 * always goes first. Returns, per server in order, its windows: [{cpuUs, served, …}, …].
 */
async function driveBursts(servers, { bursts, amount }) {
  for (const { port } of servers) await cannon(port, { amount: 5000 });
  const windows = servers.map(() => []);
  for (let b = 0; b < bursts; b++) {
    const order = servers.map((_, i) => (b % 2 === 0 ? i : servers.length - 1 - i));
    for (const i of order) {
      const { port, window } = servers[i];
      await window.start();
      const { result } = await cannon(port, { amount });
      const measured = await window.lap();
      if (result.errors + result.non2xx > 0) throw new Error(`http: ${result.errors} errors, ${result.non2xx} non-2xx`);
      windows[i].push(measured);
    }
  }
  return windows;
}

if (require.main === module) serve();
module.exports = { drive, driveBursts, createServer, cannon, serve };
