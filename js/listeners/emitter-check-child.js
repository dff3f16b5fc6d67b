'use strict';
// The install-time check of the fast EventEmitter methods (emitter-check.js), run in a child
// process by emitter-mode.js: the check's scratch emitters then shape that process's copies of
// Node's functions, never the app's. Prints its verdict as one JSON line and ends.

const { originalMethods } = require('./emitter');
const { checkFast } = require('./emitter-check');

process.stdout.write(`${JSON.stringify(checkFast(originalMethods()))}\n`);
