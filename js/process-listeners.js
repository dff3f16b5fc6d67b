'use strict';
// leakwatch's own process listeners ('exit', the exit signals, 'warning') are kept out of what
// `process.listeners()`, `rawListeners()`, `listenerCount()` and `eventNames()` report, so the
// app and Node's own code read what they would without leakwatch: "is anyone handling
// SIGINT?" must not be answered by leakwatch's handler. The listeners still run as any other.
// Those four methods become own properties of `process` that leave out the functions hidden
// here; everything else about `process` is untouched. Installed once per isolate, for good:
// with nothing hidden they report exactly what EventEmitter's do.

const EventEmitter = require('node:events');

const hidden = new WeakSet();
let installed = false;

/** Keeps `fn` (a process listener of leakwatch's) out of what process reports. */
function hide(fn) {
  hidden.add(fn);
  install();
  return fn;
}

// A once() listener is stored wrapped; its `listener` is the function that was added.
const visible = (fn) => !hidden.has(fn) && !(fn && hidden.has(fn.listener));

function install() {
  if (installed) return;
  installed = true;
  const proto = EventEmitter.prototype;
  define('listeners', function listeners(name) {
    return proto.listeners.call(this, name).filter((fn) => !hidden.has(fn));
  });
  define('rawListeners', function rawListeners(name) {
    return proto.rawListeners.call(this, name).filter(visible);
  });
  define('listenerCount', function listenerCount(name, listener) {
    if (listener !== undefined && !visible(listener)) return 0;
    const own = proto.rawListeners.call(this, name).filter((fn) => !visible(fn)).length;
    return proto.listenerCount.call(this, name, listener) - (listener === undefined ? own : 0);
  });
  define('eventNames', function eventNames() {
    return proto.eventNames.call(this).filter((name) => proto.rawListeners.call(this, name).some(visible));
  });
}

function define(name, value) {
  try {
    Object.defineProperty(process, name, { value, writable: true, configurable: true, enumerable: false });
  } catch {
    // A frozen or locked-down `process`: leakwatch's listeners stay visible, nothing breaks.
  }
}

module.exports = { hide };
