'use strict';
// A property test of the log reader and the report/plot renderers: whatever a log holds —
// truncated lines, fields of the wrong type, absurd numbers, time running backwards, binary
// junk — `report` and `plot` either render or fail with a clear UserError, never a crash.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { summarizeLog } = require('../js/report/commands');
const { renderText } = require('../js/report/render-text');
const { renderSvg } = require('../js/report/plot-svg');
const { UserError } = require('../js/report/errors');
const { tempDir } = require('./helpers');

/** A small seeded PRNG (mulberry32): the same cases on every run. */
function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function validLine(i, pid) {
  const heap = 50e6 + i * 1e5;
  return {
    lw: 1,
    event: 'memory',
    time: 1_795_000_000_000 + i * 1000,
    pid,
    hostname: 'h',
    threadId: 0,
    intervalMs: 1000,
    uptimeMs: i * 1000,
    sampleAgeMs: 3,
    heapUsed: heap,
    heapTotal: heap * 1.5,
    heapLimit: 4e9,
    external: 1e6,
    arrayBuffers: 1e4,
    rss: heap * 2,
    baseline: heap * 0.8,
    baselineTime: 1_795_000_000_000 + i * 1000 - 200,
    fds: 20,
    handles: { total: 2, byType: { Timeout: 2 } },
    gcSource: 'v8',
    gc: {
      count: 3,
      pauseMs: { p50: 1, p99: 2, max: 3, total: 5 },
      kinds: { scavenge: { count: 3, p50: 1, p99: 2, max: 3, totalMs: 5 } },
      sinceStart: { count: 3 * i, pauseMs: { p50: 1, p99: 2, max: 3, total: 5 * i }, kinds: {} },
      dropped: 0,
    },
    listeners: {
      live: i,
      adds: 2 * i,
      removes: i,
      top: [{ emitter: 'Socket', event: 'close', site: 'a.js:1:1', live: i, growth: 1 }],
    },
    trend: { heap: { state: 'stable', slopeBytesPerMin: 0, confidence: 0.5 } },
  };
}

const WEIRD = [
  null,
  -1,
  0,
  1e308,
  -1e308,
  '12',
  'NaN',
  '',
  [],
  {},
  [1, 2],
  { a: 1 },
  true,
  '\u0000\uffff',
  'x'.repeat(5000),
];

function mutate(obj, rand) {
  const keys = [];
  (function walk(o, prefix) {
    for (const [k, v] of Object.entries(o)) {
      keys.push([o, k]);
      if (v && typeof v === 'object') walk(v, `${prefix}${k}.`);
    }
  })(obj, '');
  const edits = 1 + Math.floor(rand() * 4);
  for (let e = 0; e < edits; e++) {
    const [o, k] = keys[Math.floor(rand() * keys.length)];
    if (rand() < 0.2) delete o[k];
    else o[k] = WEIRD[Math.floor(rand() * WEIRD.length)];
  }
  return obj;
}

function junk(rand) {
  const bytes = Buffer.alloc(1 + Math.floor(rand() * 200));
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
  return bytes.toString('latin1').replace(/\n/g, ' ');
}

function randomLog(rand) {
  const lines = [];
  const n = 1 + Math.floor(rand() * 60);
  for (let i = 0; i < n; i++) {
    const pid = 100 + Math.floor(rand() * 3);
    const r = rand();
    let text = JSON.stringify(r < 0.5 ? mutate(validLine(i, pid), rand) : validLine(rand() < 0.1 ? n - i : i, pid));
    if (rand() < 0.1) text = text.slice(0, Math.floor(rand() * text.length)); // cut short
    if (rand() < 0.1) text = junk(rand);
    if (rand() < 0.05)
      text = JSON.stringify({ lw: 1, event: 'warning', time: 'soon', code: 7, message: null, details: [] });
    lines.push(text);
  }
  return `${lines.join('\n')}${rand() < 0.5 ? '\n' : ''}`;
}

test('300 mutated logs: report and plot render or fail with a UserError, never crash', async () => {
  const rand = prng(20261124);
  const dir = tempDir();
  let rendered = 0;
  let refused = 0;
  for (let i = 0; i < 300; i++) {
    const file = path.join(dir, `log-${i}.log`);
    fs.writeFileSync(file, randomLog(rand));
    try {
      const { summary, series } = await summarizeLog(file, { progress: false });
      assert.equal(typeof renderText(summary), 'string');
      const svg = await renderSvg(summary, series);
      assert.match(svg, /^<svg/);
      // Geometry must be numbers (text may legitimately say "NaN": a hostname is free text).
      assert.doesNotMatch(
        svg,
        /\b(?:x|y|x1|x2|y1|y2|width|height|d|points|cx|cy|r)="[^"]*(?:NaN|Infinity|undefined)/,
        `log-${i}: bad geometry`
      );
      rendered++;
    } catch (err) {
      if (!(err instanceof UserError)) {
        fs.copyFileSync(file, path.join(require('node:os').tmpdir(), `leakwatch-fuzz-failure-${i}.log`));
        throw new Error(`log-${i} crashed the reader: ${err.stack}`);
      }
      refused++;
    }
  }
  assert.ok(rendered > 200, `most logs have valid lines to render (${rendered} rendered, ${refused} refused)`);
});
