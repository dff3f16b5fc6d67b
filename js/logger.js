'use strict';
// Hands leakwatch's lines to an app's logger (`log: logger`) as structured objects, in pino's
// field conventions, so pino-pretty and log pipelines read them like the app's own lines:
//
//   memory line → logger.info({lw, event, threadId, heapUsed, …}, 'leakwatch memory')
//   warning     → logger.warn({lw, event, threadId, code, details}, message)
//
// The logger writes `time`, `pid`, `hostname`, `level` and `msg` itself (pino and bunyan
// do), so they are taken out of the object rather than written twice. `lw` and `event` stay:
// `leakwatch report` reads the logger's output like leakwatch's own log.
//
// winston takes its arguments the other way round (message first, then the fields); a
// winston logger is told apart by its `transports`.

const ADDED_BY_LOGGER = ['time', 'pid', 'hostname'];
const MEMORY_MESSAGE = 'leakwatch memory';

/** `{memory(line), warning(line)}` writing to `logger`. Either may throw what the logger throws. */
function loggerSink(logger) {
  const messageFirst = Array.isArray(logger.transports) && typeof logger.log === 'function';
  const write = (level, fields, message) => {
    const method = typeof logger[level] === 'function' ? logger[level] : logger.info;
    if (messageFirst) method.call(logger, message, fields);
    else method.call(logger, fields, message);
  };
  return {
    memory: (line) => write('info', fieldsOf(line, []), MEMORY_MESSAGE),
    warning: (line) => write('warn', fieldsOf(line, ['message']), line.message),
  };
}

/** The line without what the logger adds itself (and without `also`). */
function fieldsOf(line, also) {
  const fields = { ...line };
  for (const key of [...ADDED_BY_LOGGER, ...also]) delete fields[key];
  return fields;
}

module.exports = { loggerSink, MEMORY_MESSAGE };
