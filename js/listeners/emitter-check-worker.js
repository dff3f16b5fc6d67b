'use strict';
// The install-time check of the fast EventEmitter methods (emitter-check.js), run in a worker
// thread by emitter-mode.js: the check's scratch emitters then shape that thread's copies of
// Node's functions, never the app's. Answers with one message and ends.

const { parentPort } = require('node:worker_threads');
const { originalMethods } = require('./emitter');
const { checkFast } = require('./emitter-check');

parentPort.postMessage(checkFast(originalMethods()));
