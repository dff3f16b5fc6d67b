'use strict';
// Robust slope and trend significance for short, noisy series: the JS side's copy of
// src/verdict/stats.rs, for the report (`npx leakwatch report`) and leakwatch/testing. The two are
// pinned to each other by shared test vectors (__test__/fixtures/stats-vectors.json, read by
// `cargo test` and `node --test`): same points, same slope, same p-value.
//
// - Theil–Sen: the median of the slopes of all pairs of points; up to ~29 % of the points can
//   be wrong (a GC spike, a burst) without moving it much.
// - Mann–Kendall: rising pairs minus falling pairs (S), and how unlikely an S that high is
//   with no trend. One-sided (the question is only "does it rise?"), exact for up to
//   EXACT_MAX_N untied points, else the normal approximation with a continuity correction and
//   Kendall's variance corrected for ties in both t and v.
// Both are O(n²): callers keep n small. Points are {t, v}.

const EXACT_MAX_N = 10;

/** Median of `values` (not reordered); NaN for none. */
function median(values) {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid] : sorted[mid - 1] + (sorted[mid] - sorted[mid - 1]) / 2;
}

/** Median of the pairwise slopes (pairs with different t); NaN with fewer than two distinct t. */
function theilSenSlope(points) {
  const slopes = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const dt = points[j].t - points[i].t;
      if (dt === 0) continue;
      const slope = (points[j].v - points[i].v) / dt;
      if (Number.isFinite(slope)) slopes.push(slope);
    }
  }
  return median(slopes);
}

/** Sen's intercept for `slope`: the median of v - slope·t, the fitted value at t = 0. */
function senIntercept(points, slope) {
  return median(points.map((p) => p.v - slope * p.t));
}

/**
 * Mann–Kendall test for an increasing trend of v over t.
 * @returns {{n: number, s: number, varS: number, pIncreasing: number, exact: boolean}}
 */
function mannKendall(points) {
  const n = points.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) s += Math.sign(points[j].t - points[i].t) * Math.sign(points[j].v - points[i].v);
  }
  const tTies = tieGroupSizes(points.map((p) => p.t));
  const vTies = tieGroupSizes(points.map((p) => p.v));
  const varS = kendallVariance(n, tTies, vTies);
  if (n < 2 || varS <= 0) return { n, s, varS, pIncreasing: 1, exact: false };
  if (tTies.length === 0 && vTies.length === 0 && n <= EXACT_MAX_N) {
    return { n, s, varS, pIncreasing: exactUpperTail(n, s), exact: true };
  }
  return { n, s, varS, pIncreasing: normalUpperTail(continuityCorrectedZ(s, varS)), exact: false };
}

// Sizes of the groups of equal values with two or more members.
function tieGroupSizes(values) {
  const sorted = Float64Array.from(values).sort();
  const groups = [];
  let run = 1;
  for (let i = 1; i <= sorted.length; i++) {
    if (i < sorted.length && sorted[i] === sorted[i - 1]) {
      run++;
    } else {
      if (run > 1) groups.push(run);
      run = 1;
    }
  }
  return groups;
}

// Variance of Kendall's S under independence, ties in both variables (Kendall 1970, eq. 4.4).
function kendallVariance(n, tTies, vTies) {
  if (n < 3) return n === 2 && tTies.length === 0 && vTies.length === 0 ? 1 : 0;
  const sum = (ties, f) => ties.reduce((acc, t) => acc + f(t), 0);
  const v0 = n * (n - 1) * (2 * n + 5);
  const vt = sum(tTies, (t) => t * (t - 1) * (2 * t + 5));
  const vu = sum(vTies, (u) => u * (u - 1) * (2 * u + 5));
  const pairsT = sum(tTies, (t) => t * (t - 1));
  const pairsU = sum(vTies, (u) => u * (u - 1));
  const triplesT = sum(tTies, (t) => t * (t - 1) * (t - 2));
  const triplesU = sum(vTies, (u) => u * (u - 1) * (u - 2));
  const variance =
    (v0 - vt - vu) / 18 + (triplesT * triplesU) / (9 * n * (n - 1) * (n - 2)) + (pairsT * pairsU) / (2 * n * (n - 1));
  return Math.max(0, variance);
}

// S moves in steps of 2: shrinking it by 1 toward zero fits the discrete tail far better.
function continuityCorrectedZ(s, varS) {
  return (s === 0 ? 0 : s - Math.sign(s)) / Math.sqrt(varS);
}

// Exact P(S >= s) for n untied points: S = N - 2D, D the ranking's inversions, counted by the
// Mahonian recurrence (the m-th item adds 0..m-1 inversions).
function exactUpperTail(n, s) {
  const maxInversions = (n * (n - 1)) / 2;
  let counts = new Float64Array(maxInversions + 1);
  counts[0] = 1;
  for (let m = 2; m <= n; m++) {
    const next = new Float64Array(maxInversions + 1);
    for (let k = 0; k <= maxInversions; k++) {
      if (counts[k] === 0) continue;
      for (let added = 0; added < m && k + added <= maxInversions; added++) next[k + added] += counts[k];
    }
    counts = next;
  }
  const limit = Math.floor((maxInversions - s) / 2);
  if (limit < 0) return 0;
  let total = 0;
  let favourable = 0;
  for (let k = 0; k <= maxInversions; k++) {
    total += counts[k];
    if (k <= limit) favourable += counts[k];
  }
  return Math.min(1, Math.max(0, favourable / total));
}

/** P(Z >= z) for a standard normal Z. */
function normalUpperTail(z) {
  if (Number.isNaN(z)) return 1;
  return Math.min(1, Math.max(0, 0.5 * erfc(z / Math.SQRT2)));
}

// Complementary error function, Chebyshev fit, fractional error below 1.2e-7 (Numerical
// Recipes' erfcc), as src/verdict/stats.rs.
function erfc(x) {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z -
    1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(poly);
  return x >= 0 ? r : 2 - r;
}

module.exports = { median, theilSenSlope, senIntercept, mannKendall, normalUpperTail, EXACT_MAX_N };
