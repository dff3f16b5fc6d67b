'use strict';

// Renders a summary (from summarize.js) as the text a person reads in a
// terminal. Most important first: the overall verdict, then each process.

const f = require('./format');
const { siteText } = require('../site-text');

const SERIES_ROWS = [
  { name: 'heapUsed', unit: 'bytes' },
  { name: 'heapTotal', unit: 'bytes' },
  { name: 'baseline', unit: 'bytes', note: 'heap after full GC' },
  { name: 'rss', unit: 'bytes' },
  { name: 'external', unit: 'bytes' },
  { name: 'fds', unit: 'count', note: 'open file descriptors' },
  { name: 'listeners', unit: 'count', note: 'live event listeners' },
];

const ALERT_STATES = new Set(['leaking', 'growing']);

function renderText(summary) {
  const out = [];
  out.push(`leakwatch report: ${summary.source}`);
  out.push('');
  out.push(...headerLines(summary));
  for (const proc of summary.processes) {
    out.push('');
    out.push(...processLines(proc));
  }
  return out.join('\n') + '\n';
}

function headerLines(summary) {
  const { lines, timeSpan } = summary;
  const rows = [
    ['Verdict', overallVerdict(summary)],
    ['Lines', lineCounts(lines)],
    [
      'Time span',
      `${f.formatTime(timeSpan.start)} -> ${f.formatTime(timeSpan.end)} (${f.formatDuration(timeSpan.durationMs)})`,
    ],
    ['Processes', processList(summary)],
  ];
  return rows.map(([k, v]) => `${k.padEnd(11)}${v}`);
}

// One line per process that has something growing, e.g.
// "pid 4242 on web-1: heap, rss LEAKING; fds growing".
function overallVerdict(summary) {
  const lines = [];
  for (const proc of summary.processes) {
    const byState = { leaking: [], growing: [] };
    for (const name of ['heap', 'rss', 'external', 'fds', 'listeners']) {
      const state = proc.trends[name].state;
      if (byState[state]) byState[state].push(name);
    }
    const parts = [];
    if (byState.leaking.length) parts.push(`${byState.leaking.join(', ')} LEAKING`);
    if (byState.growing.length) parts.push(`${byState.growing.join(', ')} growing`);
    if (parts.length) lines.push(`${f.processLabel(proc)}: ${parts.join('; ')}`);
  }
  if (lines.length > 0) return lines.join(`\n${' '.repeat(11)}`);
  const judged = (name) => summary.processes.some((p) => p.trends[name].state !== 'insufficient-data');
  if (judged('heap')) return 'no growth found';
  const others = ['rss', 'external', 'fds', 'listeners'].filter(judged);
  if (others.length === 0) return 'not enough data for a verdict yet';
  return `no growth found in ${others.join(', ')}; not enough full GCs yet to judge the heap`;
}

function lineCounts(lines) {
  const read = `${f.formatCount(lines.records)} leakwatch lines (${f.formatCount(lines.memory)} memory, ${f.formatCount(lines.warning)} warning)`;
  if (lines.skipped === 0) return `${read}, none skipped`;
  const parts = [];
  if (lines.foreign) parts.push(`${f.formatCount(lines.foreign)} other output`);
  if (lines.malformed) parts.push(`${f.formatCount(lines.malformed)} malformed`);
  if (lines.overlong) parts.push(`${f.formatCount(lines.overlong)} too long`);
  return `${read}; ${f.formatCount(lines.skipped)} skipped (${parts.join(', ')})`;
}

function processList(summary) {
  const labels = summary.processes.map(f.processLabel);
  let text = `${labels.length}: ${labels.join(', ')}`;
  if (summary.omittedProcesses > 0) {
    text += ` (+${f.formatCount(summary.omittedProcesses)} more not summarized, ${f.formatCount(summary.omittedRecords)} lines)`;
  }
  return text;
}

function processLines(proc) {
  const title = `== ${f.processLabel(proc)} `;
  return [
    title.padEnd(72, '='),
    `  ${processSpan(proc)}`,
    `  Heap verdict: ${verdictText(proc.trends.heap, 'bytes', `from ${proc.trends.heap.basis}`)}`,
    '',
    ...seriesTable(proc),
    ...recorderTrendLines(proc),
    '',
    ...gcLines(proc.gc),
    ...listenerLines(proc.listenerGrowth),
    ...warningLines(proc.warnings),
  ];
}

function processSpan(proc) {
  const parts = [
    `${f.formatTime(proc.firstTime)} -> ${f.formatTime(proc.lastTime)} (${f.formatDuration(proc.durationMs)})`,
    `${f.formatCount(proc.memoryLines)} memory line${proc.memoryLines === 1 ? '' : 's'}`,
  ];
  if (proc.intervalMs) parts.push(`every ${f.formatDuration(proc.intervalMs)}`);
  parts.push(proc.exited ? 'exited (final line seen)' : 'no final line (still running, or killed)');
  return parts.join(', ');
}

function seriesTable(proc) {
  const header = ['series', 'start', 'end', 'min', 'max', 'trend'];
  const rows = [];
  for (const row of SERIES_ROWS) {
    const levels = proc.memory[row.name];
    if (!levels) continue;
    const fmt = row.unit === 'bytes' ? f.formatBytes : f.formatCount;
    rows.push([
      row.name,
      fmt(levels.start),
      fmt(levels.end),
      fmt(levels.min),
      fmt(levels.max),
      verdictText(proc.trends[row.name], row.unit),
    ]);
  }
  if (rows.length === 0) return ['  (no memory lines)'];
  return table([header, ...rows]).map((line) => `  ${line}`);
}

function verdictText(v, unit, basis) {
  if (!v || v.state === 'insufficient-data') return `insufficient data (${insufficientReason(v)})`;
  const slope = unit === 'bytes' ? f.formatSignedBytes(v.slopePerMin) : f.formatSignedNumber(v.slopePerMin, 2);
  const state = ALERT_STATES.has(v.state) ? v.state.toUpperCase() : v.state;
  const extra = basis ? [basis, `p${formatP(v.pValue)}`] : [`p${formatP(v.pValue)}`];
  if (v.relativeGrowth !== null && ALERT_STATES.has(v.state))
    extra.push(`${f.formatSignedNumber(v.relativeGrowth * 100, 0)}%`);
  return `${state} ${slope}/min (${extra.join(', ')})`;
}

function insufficientReason(v) {
  if (v && v.reason) return v.reason;
  const n = v ? v.points : 0;
  return `${n} point${n === 1 ? '' : 's'}`;
}

function formatP(p) {
  if (p < 0.001) return '<0.001';
  return `=${p.toFixed(3)}`;
}

function recorderTrendLines(proc) {
  const t = proc.recorderTrend;
  if (!t) return [];
  const parts = ['heap', 'external', 'rss']
    .filter((name) => t[name])
    .map((name) => {
      const s = t[name];
      const slope = Number.isFinite(s.slopeBytesPerMin) ? ` ${f.formatSignedBytes(s.slopeBytesPerMin)}/min` : '';
      const conf = Number.isFinite(s.confidence) ? ` (confidence ${s.confidence.toFixed(2)})` : '';
      return `${name} ${s.state}${slope}${conf}`;
    });
  return ['', `  Recorder's trend (last line, ${f.formatTime(t.time)}): ${parts.join('; ')}`];
}

function gcLines(gc) {
  if (!gc) return ['  GC pauses  none recorded'];
  const p = gc.pauseMs || {};
  const scope = gc.basis === 'sinceStart' ? 'since start' : 'summed over intervals';
  let head = `  GC pauses  ${f.formatCount(gc.count)} GCs ${scope}: p50 ${f.formatMs(p.p50)}, p99 ${f.formatMs(p.p99)}, max ${f.formatMs(p.max)}, total ${f.formatMs(p.total)}`;
  if (gc.timeFraction !== null) head += ` (${f.formatPercent(gc.timeFraction, 2)} of the time)`;
  const lines = [head];
  const kinds = Object.entries(gc.kinds || {}).map(
    ([kind, k]) => `${kind} ${f.formatCount(k.count)} (p99 ${f.formatMs(k.p99)}, max ${f.formatMs(k.max)})`
  );
  if (kinds.length) lines.push(`             ${kinds.join('; ')}`);
  if (gc.dropped > 0) lines.push(`             ${f.formatCount(gc.dropped)} GC records were dropped by the recorder`);
  return lines;
}

function listenerLines(growth) {
  if (!growth.length) return ['  Listeners  no listener site grew'];
  const rows = growth.map((s) => [
    `+${f.formatCount(s.netGrowth)}`,
    `${s.emitter} '${s.event}'`,
    `${f.formatCount(s.firstLive)} -> ${f.formatCount(s.live)} live`,
    // Sampled classes' groups may have no call site sampled yet.
    s.site ? `at ${s.site}` : '(no call site sampled)',
  ]);
  return ['  Listener growth (top sites)', ...table(rows).map((l) => `    ${l}`)];
}

function warningLines(warnings) {
  if (!warnings.total) return ['  Warnings   none'];
  const lines = [`  Warnings   ${f.formatCount(warnings.total)}`];
  for (const w of warnings.byCode) {
    const when =
      w.count > 1 ? `${f.formatTime(w.firstTime)} .. ${f.formatTime(w.lastTime)}` : f.formatTime(w.firstTime);
    lines.push(`    ${String(w.count).padStart(5)}x ${w.code}  ${when}`);
    if (w.lastMessage) lines.push(`           ${oneLine(w.lastMessage)}`);
    for (const site of w.lastSites || []) lines.push(`           ${siteLine(site)}`);
  }
  return lines;
}

/** `+12.3 MiB (71 %) allocated at src/cache.js:34:3 (saveSession)`: a heap warning's site. */
function siteLine(site) {
  const share = Number.isFinite(site.share) ? ` (${Math.round(site.share * 100)} %)` : '';
  return oneLine(`${f.formatSignedBytes(site.growthBytes)}${share} allocated at ${siteText(site)}`);
}

function oneLine(text) {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
}

// Left-aligned columns, two spaces apart.
function table(rows) {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => String(r[col]).length)));
  return rows.map((r) =>
    r
      .map((cell, col) => String(cell).padEnd(widths[col]))
      .join('  ')
      .trimEnd()
  );
}

module.exports = { renderText, overallVerdict };
