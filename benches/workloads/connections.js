'use strict';
// The client side of a connection-churn workload (ws.js, net.js): many short-lived
// connections, a bounded number, each one a `converse(port)` promise, CONCURRENCY at a time.

const CONCURRENCY = 16;
const CONNECT_TIMEOUT_MS = 5000;
const WARM_UP = 200; // connections before the measured window, so both arms start warm

/**
 * One connection's life: `begin(socket)` starts the exchange; resolves when the socket closes,
 * rejects on its error or after CONNECT_TIMEOUT_MS. `name` labels the timeout's error.
 */
function lifeOf(name, socket, begin) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: a connection took over 5 s`)), CONNECT_TIMEOUT_MS);
    begin(socket);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('error', reject);
  });
}

/** `count` connections, CONCURRENCY at a time. */
async function connectMany(converse, port, count) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      await converse(port);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/** A bench's drive(): `warmUp` connections, then `connections` inside the server's measured window. */
function churn(converse) {
  return async function drive(port, window, { connections, warmUp = Math.min(WARM_UP, connections) }) {
    await connectMany(converse, port, warmUp);
    await window.start();
    await connectMany(converse, port, connections);
    return window.stop();
  };
}

module.exports = { churn, lifeOf };
