'use strict';
// (d2) A plain `net` server on 127.0.0.1 and many short-lived connections: each one connects,
// writes a line, gets it back and is closed by the server. Server CPU per connection: the
// listeners Node's net code adds to each socket and drops on close, and the app's one.
//
// Run as a script (with an arm preloaded) this file is the server; the bench process
// require()s it for drive(), which opens the connections (connections.js).
const net = require('node:net');
const { churn, lifeOf } = require('./connections');

function serve() {
  const { serveWindow } = require('../child');
  let served = 0;
  const server = net.createServer((socket) => {
    served++;
    socket.on('data', (data) => socket.end(data));
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1', () => {
    serveWindow({ port: server.address().port, served: () => served, close: () => server.close() });
  });
}

/** One connection's life: connect, write, read the echo, see the server close it. */
function converse(port) {
  return lifeOf('net', net.connect(port, '127.0.0.1'), (socket) => {
    socket.on('connect', () => socket.write('hello\n'));
    socket.on('data', () => {});
  });
}

const drive = churn(converse);

if (require.main === module) serve();
module.exports = { drive, converse };
