'use strict';
// (d) A `ws` WebSocket server on 127.0.0.1 and many short-lived connections: each one opens,
// sends a message, gets it echoed back and closes. Server CPU per connection.
//
// Run as a script (with an arm preloaded) this file is the server; the bench process
// require()s it for drive(), which opens the connections (connections.js).
const { WebSocket, WebSocketServer } = require('ws');
const { churn, lifeOf } = require('./connections');

function serve() {
  const { serveWindow } = require('../child');
  let served = 0;
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (socket) => {
    served++;
    socket.on('message', (data) => socket.send(data));
  });
  wss.on('listening', () => {
    serveWindow({ port: wss.address().port, served: () => served, close: () => wss.close() });
  });
}

/** One connection's life: open, send, wait for the echo, close. */
function converse(port) {
  return lifeOf('ws', new WebSocket(`ws://127.0.0.1:${port}/`), (socket) => {
    socket.on('open', () => socket.send('hello'));
    socket.on('message', () => socket.close());
  });
}

const drive = churn(converse);

if (require.main === module) serve();
module.exports = { drive, converse };
