'use strict';
// One way out for every leakwatch warning: process.emitWarning with type LeakwatchWarning and
// a LEAKWATCH_* code (so --no-warnings, --disable-warning=CODE, --redirect-warnings and
// --trace-warnings behave as users expect), then every subscriber (lw's events, the log).
// Never throws: a warning must not become the app's problem.

const subscribers = new Set();

function warn(code, message, details = {}, eventName = 'warning') {
  try {
    process.emitWarning(message, { type: 'LeakwatchWarning', code });
  } catch {
    // emitWarning can throw if the app broke `process`; the subscribers still hear it.
  }
  notify(code, message, details, eventName);
}

// Subscribers only, no process warning: for warnings Node already printed itself (its own
// MaxListenersExceededWarning), which leakwatch records but must not print a second time.
function notify(code, message, details = {}, eventName = 'warning') {
  for (const fn of subscribers) {
    try {
      fn({ code, message, details, eventName });
    } catch {
      // A subscriber's failure is its own.
    }
  }
}

function onWarning(fn) {
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}

module.exports = { warn, notify, onWarning };
