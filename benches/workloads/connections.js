'use strict';
// The client side of a connection-churn workload (ws.js, net.js): many short-lived
// connections, a bounded number, each one a `converse(port)` promise; as fast as CONCURRENCY
// of them at a time allow, or paced at a steady rate, as a server's clients arrive.

const CONCURRENCY = 16;
const WARM_UP = 200; // connections before the measured window, so both arms start warm

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

/** `count` connections started `perSecond` apart on the clock, at most CONCURRENCY at a time. */
async function connectPaced(converse, port, count, perSecond) {
  const start = performance.now();
  const inFlight = new Set();
  for (let i = 0; i < count; i++) {
    const wait = start + (i * 1000) / perSecond - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    while (inFlight.size >= CONCURRENCY) await Promise.race(inFlight);
    const conversation = converse(port).finally(() => inFlight.delete(conversation));
    inFlight.add(conversation);
  }
  await Promise.all(inFlight);
}

/**
 * A bench's drive(): warm up, then `connections` inside the server's measured window. With
 * `perSecond`, both are paced at that rate and the warm-up is `warmUp` connections.
 */
function churn(converse) {
  return async function drive(port, window, { connections, perSecond = 0, warmUp = Math.min(WARM_UP, connections) }) {
    const connect = (count) =>
      perSecond > 0 ? connectPaced(converse, port, count, perSecond) : connectMany(converse, port, count);
    await connect(warmUp);
    await window.start();
    await connect(connections);
    return window.stop();
  };
}

module.exports = { churn };
