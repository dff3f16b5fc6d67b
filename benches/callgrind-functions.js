'use strict';
// Reads a callgrind profile of a node process into instructions per function, with V8's
// JIT-compiled code named too. callgrind knows native functions by their symbols (Node's C++,
// V8's builtins, libc), but JIT code has none: it shows up as bare addresses. Run with V8's
// --perf-basic-prof, node writes /tmp/perf-<pid>.map (start, size and name of each piece of
// code it compiles), and the profile's addresses are looked up there, which needs callgrind's
// --dump-instr=yes (costs per instruction address, not per line).
//
// Two tables come out of one profile:
//   self:  instructions spent in each function's own code ("JS:*add js/listeners/emitter.js"
//          is TurboFan code of add(); "*" optimized, "~" not);
//   calls: instructions spent in V8's IC builtins (megamorphic property loads and stores and
//          the like) and runtime calls, by the JS function that called them: where a patched
//          method's extra property lookups land.

const fs = require('node:fs');

const IC_CALLEE = /^Builtins_\w*IC|Trampoline|^Builtins_WeakMap|GetPrototypeOf|^v8::internal::Runtime_/;

/** Code ranges from a perf map, sorted by start: [{start, end, name}]. */
function readPerfMap(file, root) {
  const ranges = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (!m) continue;
    const start = parseInt(m[1], 16);
    ranges.push({ start, end: start + parseInt(m[2], 16), name: shortName(m[3], root) });
  }
  return ranges.sort((a, b) => a.start - b.start);
}

// "JS:*add /abs/path/js/listeners/emitter.js:108:3" -> "JS:*add js/listeners/emitter.js"
function shortName(name, root) {
  return name.replace(/:\d+:\d+$/, '').replaceAll(`${root}/`, '');
}

/** The name of the code at `address`: the latest code created there that covers it. */
function nameAt(ranges, address) {
  let lo = 0;
  let hi = ranges.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid].start <= address) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  // Code freed and reused leaves older entries that start lower and may still cover it.
  for (let i = found; i >= 0 && i > found - 64; i--) {
    if (address < ranges[i].end) return ranges[i].name;
  }
  return 'JIT (unnamed)';
}

/**
 * Parses a callgrind out file (--dump-instr=yes --dump-line=no) into {self, calls}: Maps from
 * function name, and from "caller -> callee", to instructions.
 */
function readProfile(profileFile, mapFile, root) {
  const ranges = readPerfMap(mapFile, root);
  const names = new Map(); // callgrind's compressed "(id) name" table
  const self = new Map();
  const calls = new Map();
  const add = (map, key, n) => map.set(key, (map.get(key) ?? 0) + n);
  let fn = '';
  let callee = '';
  let address = 0;
  let inCall = false;
  for (const line of fs.readFileSync(profileFile, 'utf8').split('\n')) {
    const named = /^(c?fn)=\((\d+)\)(?: (.*))?$/.exec(line);
    if (named) {
      if (named[3] !== undefined) names.set(named[2], named[3].replace(/\(.*$/, ''));
      if (named[1] === 'fn') fn = names.get(named[2]);
      else callee = names.get(named[2]);
      continue;
    }
    if (line.startsWith('calls=')) {
      inCall = true; // the next cost line is the call's inclusive cost, not self cost
      continue;
    }
    const cost = /^(0x[0-9a-f]+|[+-][0-9a-f]+|\*)\s+(\d+)/.exec(line);
    if (!cost) continue;
    const at = cost[1];
    if (at.startsWith('0x')) address = parseInt(at, 16);
    else if (at[0] === '+') address += parseInt(at.slice(1), 16);
    else if (at[0] === '-') address -= parseInt(at.slice(1), 16);
    const n = Number(cost[2]);
    const where = fn?.startsWith('0x') ? nameAt(ranges, address) : fn;
    if (!inCall) add(self, where, n);
    else if (IC_CALLEE.test(callee) && where.startsWith('JS:')) add(calls, `${where} -> ${callee}`, n);
    inCall = false;
  }
  return { self, calls };
}

/**
 * Per-request differences between two arms, each measured over a FEW and a MANY window:
 * rows [name, base, other] of instructions per request, largest difference first.
 */
function perRequestDiff(base, other, requests, key, top) {
  const per = (arm) => {
    const m = new Map();
    for (const name of new Set([...arm.few[key].keys(), ...arm.many[key].keys()])) {
      m.set(name, ((arm.many[key].get(name) ?? 0) - (arm.few[key].get(name) ?? 0)) / requests);
    }
    return m;
  };
  const a = per(base);
  const b = per(other);
  const rows = [...new Set([...a.keys(), ...b.keys()])].map((name) => [name, a.get(name) ?? 0, b.get(name) ?? 0]);
  return rows.sort((x, y) => Math.abs(y[2] - y[1]) - Math.abs(x[2] - x[1])).slice(0, top);
}

module.exports = { readProfile, perRequestDiff };
