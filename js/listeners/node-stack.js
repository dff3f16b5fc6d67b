'use strict';
// Node's own MaxListenersExceededWarning keeps the stack Node gives it (what `--trace-warnings`
// prints and what tools read the adding call site from), whichever way leakwatch counts:
//
//   - Around Node's own add (wrap mode, EventTarget's hook) leakwatch's frames would sit between
//     Node's and the caller's. callAsNode() runs the add that Node will warn in with room for a
//     few more frames and takes leakwatch's out of the warning's stack before Node emits it.
//   - The fast methods raise Node's warning themselves, so Node's frames above the caller
//     (genericNodeError, _addListener, `X.addListener (node:events:…)`) do not exist. They are
//     learnt from a warning Node raised on a probe (learnNodeFrames) and put back (stackAsNode);
//     emitter-check.js compares the result with Node's stack, line for line.

const path = require('node:path');

const FRAME = '    at ';
const { LISTENERS_DIR, BUNDLE } = require('../layout');

// A frame in leakwatch's listener code: in its files, or in the bundle that carries them.
const OWN = [`(${LISTENERS_DIR}${path.sep}`, `(${BUNDLE}:`];
const ROOM = 8; // frames of leakwatch's that callAsNode makes room for

/**
 * Calls `add` (Node's own) on `target` with `args`, as the caller's frame would; a warning Node
 * emits during the call has leakwatch's frames taken out of its stack, and as many frames
 * as Node would have printed.
 */
function callAsNode(add, target, args) {
  const limit = Error.stackTraceLimit;
  const emitWarning = process.emitWarning;
  function emitWarningAsNode(warning, ...rest) {
    process.emitWarning = emitWarning;
    dropOwnFrames(warning, limit);
    return Reflect.apply(emitWarning, this, [warning, ...rest]);
  }
  // A process or Error the app froze takes neither change: then Node's add runs as it is.
  if (!trySet(process, 'emitWarning', emitWarningAsNode)) return Reflect.apply(add, target, args);
  if (typeof limit === 'number') trySet(Error, 'stackTraceLimit', limit + ROOM);
  try {
    return Reflect.apply(add, target, args);
  } finally {
    trySet(Error, 'stackTraceLimit', limit);
    if (process.emitWarning === emitWarningAsNode) trySet(process, 'emitWarning', emitWarning);
  }
}

// obj[key] = value, unless obj does not take it; true when it did.
function trySet(obj, key, value) {
  try {
    obj[key] = value;
    return obj[key] === value;
  } catch {
    return false;
  }
}

function dropOwnFrames(warning, limit) {
  try {
    if (warning === null || typeof warning !== 'object' || typeof warning.stack !== 'string') return;
    const lines = warning.stack.split('\n');
    const first = firstFrame(lines);
    if (first < 0) return;
    const frames = lines.slice(first).filter((line) => !OWN.some((own) => line.includes(own)));
    warning.stack = [...lines.slice(0, first), ...frames.slice(0, limit)].join('\n');
  } catch {
    // the stack as it is
  }
}

/**
 * Node's frames above the caller of its add, from warnings Node raised on probes through its own
 * addListener and prependListener: {head: [lines above the method's], addListener: location,
 * prependListener: location}, or null when a stack is not as expected.
 */
function learnNodeFrames(addWarning, prependWarning) {
  try {
    const add = methodFrame(addWarning, 'addListener');
    const prepend = methodFrame(prependWarning, 'prependListener');
    if (add === null || prepend === null || add.head.join('\n') !== prepend.head.join('\n')) return null;
    return { head: add.head, addListener: add.location, prependListener: prepend.location };
  } catch {
    return null;
  }
}

// In `warning`'s stack, the frame of Node's `method` and the frames above it.
function methodFrame(warning, method) {
  const lines = String(warning.stack).split('\n');
  const first = firstFrame(lines);
  if (first < 0) return null;
  const pattern = new RegExp(`^ {4}at \\S+\\.${method} \\((node:[^()]+)\\)$`);
  for (let i = first; i < lines.length; i++) {
    const m = pattern.exec(lines[i]);
    if (m !== null) {
      const head = lines.slice(first, i);
      return head.every((line) => line.includes('(node:')) ? { head, location: m[1] } : null;
    }
  }
  return null;
}

/**
 * Gives `w`, raised by the fast `method` ('addListener' or 'prependListener'), the stack Node's
 * own method would have: its frames from the installed method down (`inner` is the function the
 * installed method called), that frame placed in Node's code, and Node's frames above it.
 */
function stackAsNode(w, method, frames, inner) {
  const limit = Error.stackTraceLimit;
  if (typeof limit !== 'number' || !(limit >= 0)) {
    Error.captureStackTrace(w, inner);
    return;
  }
  const head = frames.head;
  if (!trySet(Error, 'stackTraceLimit', Math.max(0, limit - head.length))) {
    Error.captureStackTrace(w, inner); // a frozen Error: the stack without Node's frames
    return;
  }
  try {
    Error.captureStackTrace(w, inner);
  } finally {
    trySet(Error, 'stackTraceLimit', limit);
  }
  const lines = w.stack.split('\n');
  let first = firstFrame(lines);
  if (first < 0) first = lines.length;
  else lines[first] = lines[first].replace(/\([^()]*\)$/, `(${frames[method]})`);
  w.stack = [...lines.slice(0, first), ...[...head, ...lines.slice(first)].slice(0, limit)].join('\n');
}

function firstFrame(lines) {
  return lines.findIndex((line) => line.startsWith(FRAME));
}

module.exports = { callAsNode, learnNodeFrames, stackAsNode };
