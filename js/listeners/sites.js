'use strict';
// Call sites: who added a listener, as "file:line:column".
//
// A stack is expensive (microseconds), so callers capture one only at moments that matter: a
// count crossing a threshold, or a sampled add (see index.js). The site is the first frame that
// is neither Node's own code nor leakwatch's; when that frame is inside node_modules, the first
// frame of the app's own code is reported too (appSite), because "ws/lib/websocket.js:10:3"
// rarely tells a user which of their lines to fix.

const path = require('node:path');
const { fileURLToPath } = require('node:url');

const OWN_DIR = require('../layout').JS_DIR + path.sep; // leakwatch's js/ directory (and its bundle)
const STACK_LIMIT = 40; // deep enough to get through a framework's frames to the app's

/**
 * The caller's site, skipping every frame above and including `below` (a function).
 * @returns {{site: string|null, appSite: string|null}}
 */
function captureSite(below) {
  let files;
  try {
    files = structuredFrames(below);
  } catch {
    files = textFrames(); // Error.prepareStackTrace or stackTraceLimit could not be set
  }
  return pickSite(files, process.cwd());
}

// V8's CallSite objects, through a prepareStackTrace that is ours only for this one call,
// so an app's own prepareStackTrace (source-map-support, …) never runs for our stacks.
function structuredFrames(below) {
  const savedPrepare = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  const holder = {};
  try {
    Error.stackTraceLimit = STACK_LIMIT;
    Error.prepareStackTrace = (_, callSites) => callSites;
    Error.captureStackTrace(holder, below);
    const callSites = holder.stack;
    if (!Array.isArray(callSites)) throw new Error('no call sites');
    // File names only: a line and column cost V8 a source-position lookup each, and only the
    // one or two frames picked need them (positionOf).
    return callSites.map((cs) => ({ file: cs.getFileName(), callSite: cs }));
  } finally {
    Error.prepareStackTrace = savedPrepare;
    Error.stackTraceLimit = savedLimit;
  }
}

// Fallback: parse the text of a stack ("    at fn (file:1:2)" or "    at file:1:2").
function textFrames(stack = new Error().stack) {
  try {
    const lines = String(stack)
      .split('\n')
      .filter((l) => /^\s+at /.test(l));
    return lines.map(parseFrameLine).filter(Boolean);
  } catch {
    return [];
  }
}

/** The site named by an existing stack text (a warning's), as captureSite() would. */
function siteFromStack(stack) {
  return pickSite(textFrames(stack), process.cwd());
}

function parseFrameLine(line) {
  const m = /\((.+):(\d+):(\d+)\)\s*$/.exec(line) || /^\s*at (?:async )?(.+):(\d+):(\d+)\s*$/.exec(line);
  return m ? { file: m[1], line: Number(m[2]), column: Number(m[3]) } : null;
}

/** Pure: frames (innermost first) to {site, appSite}. Exported for tests. */
function pickSite(frames, cwd) {
  let first = null;
  for (const f of frames) {
    const file = normalizeFile(f.file);
    if (!isForeign(file)) continue;
    const frame = { file, ...positionOf(f) };
    if (first === null) {
      first = frame;
      if (!inNodeModules(file)) return { site: format(first, cwd), appSite: null };
    } else if (!inNodeModules(file)) {
      return { site: format(first, cwd), appSite: format(frame, cwd) };
    }
  }
  return { site: first ? format(first, cwd) : null, appSite: null };
}

// {line, column} of a frame: parsed from text, or asked of V8's CallSite.
function positionOf(f) {
  if (f.callSite === undefined) return { line: f.line, column: f.column };
  return { line: f.callSite.getLineNumber(), column: f.callSite.getColumnNumber() };
}

function normalizeFile(file) {
  if (typeof file !== 'string' || file === '') return null;
  if (file.startsWith('file://')) {
    try {
      return fileURLToPath(file);
    } catch {
      return file;
    }
  }
  return file;
}

// A frame from the app or its dependencies: not Node's internals, not leakwatch itself.
function isForeign(file) {
  if (file === null) return false;
  if (file.startsWith('node:') || file.startsWith('internal/')) return false;
  return !file.startsWith(OWN_DIR);
}

function inNodeModules(file) {
  return file.includes(`${path.sep}node_modules${path.sep}`);
}

function format(frame, cwd) {
  let file = frame.file;
  if (path.isAbsolute(file)) {
    const rel = path.relative(cwd, file);
    if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) file = rel;
  }
  return `${file}:${frame.line}:${frame.column}`;
}

module.exports = { captureSite, siteFromStack, pickSite, OWN_DIR };
