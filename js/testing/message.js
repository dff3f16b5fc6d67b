'use strict';
// The text of a failed leak check: what grew, by how much per call, and where to look.

const { siteText } = require('../site-text');

const MAX_SITES = 3; // sites shown per listener group; the first is nearly always the one

/** The whole message of an assertNoLeak() failure, from its report. */
function leakMessage(report) {
  const parts = [`${report.name}: leaks that grow with the number of calls (${runShape(report)})`];
  if (report.listeners.length > 0) parts.push(listenerSection(report.listeners, report.iterations));
  if (report.heap && report.heap.leaking) parts.push(heapSection(report.heap));
  if (report.handles.length > 0) parts.push(handleSection(report.handles, report.iterations));
  return parts.join('\n\n');
}

function runShape({ iterations, warmup, rounds }) {
  return `${iterations} calls in ${rounds} rounds after ${warmup} warm-up calls`;
}

/** Listener groups that grew, one line each, their call sites under them (iterations: null for a tracker). */
function listenerSection(rows, iterations) {
  const lines = ['Listeners still attached, growing:'];
  for (const row of rows) {
    const growth = iterations
      ? `${perCall(row.delta, iterations)} (+${row.delta} over ${iterations} calls)`
      : `+${row.delta}`;
    lines.push(`  - ${row.emitter} '${row.event}': ${growth}`);
    lines.push(...siteLines(row.sites));
  }
  return lines.join('\n');
}

function siteLines(sites) {
  if (sites.length === 0) return ['      added at: (no call site sampled for these)'];
  return sites.slice(0, MAX_SITES).map((s) => `      added at ${s.site}  (~${s.delta})`);
}

function heapSection(heap) {
  const { bytesPerIteration, medianRoundBytesPerIteration, confidence, growth, rounds, limits, sites = [] } = heap;
  return [
    `Heap after full GC: ${signed(bytesPerIteration)} per call (${signed(growth)} in all), ` +
      `${formatPercent(confidence)} confidence that it rises`,
    `  (Theil–Sen slope over ${rounds + 1} points, the median round ${signed(medianRoundBytesPerIteration)} per call, ` +
      `Mann–Kendall; a leak is above ${formatBytes(limits.maxBytesPerIteration)} per call at ${formatPercent(limits.confidence)} confidence)`,
    ...heapSiteLines(sites),
  ].join('\n');
}

// The sites of the kept bytes, from V8's sampling heap profile: estimates (one sample per
// ~512 KiB allocated), so a small leak may show fewer sites, or none.
function heapSiteLines(sites) {
  if (sites.length === 0) return [];
  const lines = ['  Allocated at (sampled, per call):'];
  for (const s of sites)
    lines.push(`      ${siteText(s)}  ${signed(s.bytesPerCall)} per call, ${Math.round(s.share * 100)} %`);
  return lines;
}

function handleSection(rows, iterations) {
  const lines = ['Handles left open, growing:'];
  for (const row of rows) {
    lines.push(
      `  - ${row.type}: ${perCall(row.delta, iterations)} (+${row.delta} over ${iterations} calls)${fdDetail(row)}`
    );
  }
  return lines.join('\n');
}

// For file descriptors: which kinds, and a few of the files, so "fds +100" names its files.
function fdDetail(row) {
  if (!row.fds) return '';
  const kinds = Object.entries(row.fds.byKind).map(([kind, n]) => `${kind} +${n}`);
  const files = row.fds.files.length > 0 ? `; e.g. ${row.fds.files.join(', ')}` : '';
  return kinds.length > 0 ? ` [${kinds.join(', ')}${files}]` : '';
}

function perCall(delta, iterations) {
  return `+${(delta / iterations).toFixed(2)} per call`;
}

function signed(bytes) {
  return bytes >= 0 ? `+${formatBytes(bytes)}` : `-${formatBytes(-bytes)}`;
}

function formatBytes(bytes) {
  const abs = Math.abs(bytes);
  if (abs >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
  if (abs >= 1024) return `${(bytes / 1024).toFixed(2)} KB`;
  return `${Math.round(bytes)} B`;
}

// 99.9995 % would read as 100 %: keep digits until the first that differs from 9.
function formatPercent(fraction) {
  const pct = fraction * 100;
  if (100 - pct < 1e-4) return '> 99.9999 %';
  const digits = Math.max(0, Math.ceil(-Math.log10(100 - pct)));
  return `${pct.toFixed(digits)} %`;
}

module.exports = { leakMessage, listenerSection, formatBytes, formatPercent };
