'use strict';
// The classic leak: a WebSocket server adds a listener to a long-lived emitter for every
// connection and never removes it, so each closed connection's socket and context stay alive.
// Run under leakwatch by examples/leaky-server.js. DEMO_FIXED=1 removes the listener on close.

const EventEmitter = require('node:events');
const { WebSocketServer } = require('ws');

const bus = new EventEmitter(); // lives as long as the process
bus.setMaxListeners(64); // 16 clients at a time are legitimate listeners
const fixed = process.env.DEMO_FIXED === '1';
const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });

server.on('connection', (socket) => {
  // Per-connection state the handler closes over, like a session with a little history.
  const context = { opened: Date.now(), history: new Array(256).fill('hello') };
  const onBroadcast = (text) => {
    context.last = text;
    if (socket.readyState === socket.OPEN) socket.send(text);
  };
  bus.on('broadcast', onBroadcast);
  socket.on('message', (data) => bus.emit('broadcast', String(data)));
  if (fixed) socket.on('close', () => bus.off('broadcast', onBroadcast));
});

server.on('listening', () => process.send({ port: server.address().port }));
process.on('message', (msg) => {
  if (msg === 'stop') server.close(() => process.exit(0));
});
