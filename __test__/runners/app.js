'use strict';
// The code under test in the runner projects: a request handler that subscribes to a
// process-wide event bus and remembers a result per request. The leaky version never
// unsubscribes and never forgets; the fixed one does both.

const EventEmitter = require('node:events');

const bus = new EventEmitter();
bus.setMaxListeners(0); // the leak must be found by the assertion, not by Node's warning
const results = new Map();

function handleLeaky(id) {
  bus.on('config-changed', () => results.delete(id)); // never removed: the leak
  results.set(id, new Array(128).fill(id)); // ~1 KB per request, never dropped
  return results.size;
}

function handleFixed(id) {
  const onChange = () => results.delete(id);
  bus.on('config-changed', onChange);
  results.set(id, new Array(128).fill(id));
  results.delete(id); // done with the request: forget it
  bus.off('config-changed', onChange);
  return results.size;
}

module.exports = { bus, handleLeaky, handleFixed };
