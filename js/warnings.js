'use strict';
// One way out for every leakwatch warning, raised in JS or by the addon's background thread:
// process.emitWarning with type LeakwatchWarning and a LEAKWATCH_* code (so --no-warnings,
// --disable-warning=CODE, --redirect-warnings and --trace-warnings behave as users expect),
// then every subscriber (index.js: the heap snapshot, the log line, lw's events).
// Never throws: a warning must not become the app's problem.

const subscribers = new Set();
// A sentence added to warnings of one kind (eventName) while it holds: index.js has a listener
// leak's warning say when the heap is leaking too (the heap warning says the reverse).
/** @type {(eventName: string) => string} */
let noteFor = () => '';

// `below`: a function on the stack (the app's add, as leakwatch installed it) above which the
// warning's stack (--trace-warnings) leaves frames out, so that it starts at the app's code.
function warn(code, message, details = {}, eventName = 'warning', below = undefined) {
  message = withNote(message, eventName);
  try {
    process.emitWarning(
      message,
      below === undefined ? { type: 'LeakwatchWarning', code } : { type: 'LeakwatchWarning', code, ctor: below }
    );
  } catch {
    // emitWarning can throw if the app broke `process`; the subscribers still hear it.
  }
  notify(code, message, details, eventName);
}

// A leakwatch warning that is not printed, because Node printed its own for the same event
// (listeners/emitter-warning.js): with its note, to the subscribers (the log, lw's events).
function record(code, message, details = {}, eventName = 'warning') {
  notify(code, withNote(message, eventName), details, eventName);
}

function withNote(message, eventName) {
  try {
    const note = noteFor(eventName);
    return note ? `${message} ${note}` : message;
  } catch {
    return message; // no note
  }
}

// A warning the addon raised (a verdict of the background thread), as the log line it wrote:
// worded and noted there, so printed and heard as it is. Subscribers get the `line` too.
function raised(line, eventName = 'warning') {
  const { code, message, details } = line;
  try {
    process.emitWarning(message, { type: 'LeakwatchWarning', code });
  } catch {
    // as in warn()
  }
  notify(code, message, details, eventName, line);
}

// Subscribers only, no process warning: for warnings Node already printed itself (its own
// MaxListenersExceededWarning), which leakwatch records but must not print a second time.
// `line`: the log line, when the addon wrote it already (raised()).
function notify(code, message, details = {}, eventName = 'warning', line = undefined) {
  for (const fn of subscribers) {
    try {
      fn(line === undefined ? { code, message, details, eventName } : { code, message, details, eventName, line });
    } catch {
      // A subscriber's failure is its own.
    }
  }
}

/** `fn(eventName)` returns a sentence to add, or ''; null removes it. */
function setNote(fn) {
  noteFor = fn ?? (() => '');
}

function onWarning(fn) {
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}

module.exports = { warn, raised, record, notify, onWarning, setNote };
