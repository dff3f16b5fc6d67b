'use strict';
// The bench harness: every arm runs in a fresh child process, arms alternate (A B C A B C …)
// so drift on a shared, noisy machine hits them alike, and results are reported as the
// median ratio against the baseline arm of the same run, with min–max.

const { spawnSync } = require('node:child_process');

/** Runs `node [...flags, script, arm]` and parses the JSON line it prints last. */
function runArm(script, arm, { flags = [], env = {} } = {}) {
  const out = spawnSync(process.execPath, [...flags, script, arm], {
    env: { ...process.env, LEAKWATCH_LOG: 'off', ...env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (out.status !== 0) throw new Error(`${script} ${arm} failed (${out.status}): ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').at(-1));
}

/** `rounds` alternating runs of every arm; returns {arm: [result, …]}. */
function alternate(arms, rounds, run) {
  const results = Object.fromEntries(arms.map((a) => [a, []]));
  for (let r = 0; r < rounds; r++) {
    for (const arm of arms) results[arm].push(run(arm));
  }
  return results;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Per-round ratios of `metric` against the baseline arm of the same round. */
function ratios(results, arm, baseline, metric) {
  return results[arm].map((r, i) => metric(r) / metric(results[baseline][i]));
}

function fmtRatio(values) {
  const s = [...values].sort((a, b) => a - b);
  return `${median(s).toFixed(3)}× (${s[0].toFixed(3)}–${s.at(-1).toFixed(3)})`;
}

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

module.exports = { runArm, alternate, median, ratios, fmtRatio, table };
