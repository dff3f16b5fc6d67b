'use strict';
// What js/register.js runs (from js/register.bundle.js once built): start leakwatch with
// options from LEAKWATCH_* variables. Nothing here may throw into the app: if leakwatch
// cannot start, the app runs without it and a warning says why.

const { warn } = require('./warnings');

try {
  const lw = require('./index');
  if (!lw.running) lw.start(require('./env').optionsFromEnv());
} catch (err) {
  warn('LEAKWATCH_START_FAILED', `leakwatch could not start and is off: ${err.message}`, {});
}
