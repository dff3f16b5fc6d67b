'use strict';
// Healthy, and busy with listeners: an API gateway that answers each request by calling an
// upstream service (in the same process, on 127.0.0.1) through a keep-alive client pool, with
// what long-lived servers hold:
// - many permanent listeners: 300 subscribers on the app's event bus (20 on each of 15
//   events), added at start and kept for good;
// - per-connection listeners removed on close: the upstream server gives each connection a
//   'data' and an 'error' listener and removes them when it closes, and closes a connection
//   after 20 requests, so connections come and go all the time;
// - a keep-alive client pool (an http.Agent of 16 sockets) whose sockets get and lose each
//   request's listeners (its timeout among them).
// Nothing here grows: every run should be silent.

const http = require('node:http');
const { EventEmitter } = require('node:events');
const { serve, answer } = require('./lib');

const EVENTS = 15;
const PER_EVENT = 20;
const REQUESTS_PER_CONNECTION = 20;

// The app's event bus and its permanent subscribers (metrics, audit, caches ...).
const bus = new EventEmitter();
bus.setMaxListeners(100);
const tally = new Float64Array(EVENTS * PER_EVENT);
for (let e = 0; e < EVENTS; e++) {
  for (let i = 0; i < PER_EVENT; i++) {
    bus.on(`event-${e}`, (path) => {
      tally[e * PER_EVENT + i] += path.length;
    });
  }
}

let upstreamBytes = 0; // what the closed connections carried

const upstream = http.createServer((req, res) => answer(res, { upstream: true }));
upstream.keepAliveTimeout = 5000;
upstream.maxRequestsPerSocket = REQUESTS_PER_CONNECTION;
upstream.on('connection', (socket) => {
  let bytes = 0;
  const onData = (chunk) => {
    bytes += chunk.length;
  };
  const onError = () => {};
  socket.on('data', onData);
  socket.on('error', onError);
  socket.once('close', () => {
    socket.off('data', onData);
    socket.off('error', onError);
    upstreamBytes += bytes;
  });
});

const pool = new http.Agent({ keepAlive: true, maxSockets: 16 });
let n = 0;

upstream.listen(0, '127.0.0.1', () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (upstream.address());
  const gateway = serve((req, res) => {
    bus.emit(`event-${n++ % EVENTS}`, req.url);
    const call = http.get({ host: '127.0.0.1', port, path: req.url, agent: pool }, (answerOf) => {
      const chunks = [];
      answerOf.on('data', (chunk) => chunks.push(chunk));
      answerOf.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString());
        answer(res, { items: body.items.length });
      });
    });
    call.setTimeout(2000, () => call.destroy());
    call.on('error', () => {
      res.statusCode = 502;
      res.end();
    });
  });
  gateway.on('close', () => {
    upstream.close();
    pool.destroy();
  });
});
