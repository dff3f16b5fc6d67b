'use strict';
// Reads LEAKWATCH_* for `leakwatch/register`. Unlike start(), a bad value here only warns
// (naming the variable and the accepted values) and falls back to the default: a typo in a
// deployment's environment must never take a production app down.

const { normalizeOptions } = require('./options');
const { warn } = require('./warnings');

// Variables of the public contract that this version does not act on yet.
const NOT_YET = ['LEAKWATCH_SNAPSHOT_DIR', 'LEAKWATCH_METRICS_PORT'];

const VARIABLES = {
  LEAKWATCH_LOG: 'log',
  LEAKWATCH_INTERVAL: 'interval',
  LEAKWATCH_GC_SOURCE: 'gcSource',
};

function optionsFromEnv(env = process.env) {
  const options = {};
  for (const [variable, option] of Object.entries(VARIABLES)) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    try {
      normalizeOptions({ [option]: raw });
      options[option] = raw;
    } catch (err) {
      const reason = err.message.replace(`leakwatch: option "${option}"`, `${variable}`);
      warn('LEAKWATCH_BAD_CONFIG', `${reason}; using the default`, { variable, value: raw });
    }
  }
  for (const variable of NOT_YET) {
    if (env[variable]) {
      warn('LEAKWATCH_BAD_CONFIG', `${variable} is not supported by this version of leakwatch; ignored`, { variable });
    }
  }
  return options;
}

module.exports = { optionsFromEnv };
