'use strict';

// Our own verdict on whether a series keeps growing, from the log's points.
//
// - The series is first reduced to its *floor* (the minimum of each stretch of
//   time): a leak raises the floor, while a healthy sawtooth heap only moves
//   its peaks.
// - Theil–Sen slope (median of pairwise slopes) resists the outliers that a
//   least-squares fit would chase.
// - Mann–Kendall tells whether the rise is more than chance (one-sided, as the recorder's:
//   js/stats.js, pinned to src/verdict/stats.rs).
// - Minimum absolute and relative growth keep a statistically clear but
//   harmless creep (a few KiB over an hour) from being called a leak.
// The first tenth of the span is left out: caches and the JIT warm up there.

const MIN_POINTS = 8; // fewer than this and no test means much
const MAX_POINTS = 120; // Theil–Sen and Mann–Kendall are O(n²)
const WARM_UP_FRACTION = 0.1;
const { theilSenSlope, mannKendall, median } = require('../stats');

const LEAK_P = 0.01; // the recorder's default confidence, 0.99 (trend.confidence)
const GROWTH_P = 0.05;

const THRESHOLDS = {
  bytes: { minAbsolute: 1024 * 1024, minRelative: 0.1 },
  fds: { minAbsolute: 5, minRelative: 0.1 },
  listeners: { minAbsolute: 10, minRelative: 0.1 },
};

// buckets: a TimeBuckets. kind: a key of THRESHOLDS.
function verdict(buckets, kind) {
  const limits = THRESHOLDS[kind];
  const points = reduce(trimWarmUp(floorPoints(buckets)), MAX_POINTS);
  if (points.length < MIN_POINTS) {
    return { state: 'insufficient-data', points: points.length, slopePerMin: null };
  }
  const slopePerMs = theilSenSlope(points) || 0; // NaN (all at one time): no slope
  const t0 = points[0].t;
  const spanMs = points[points.length - 1].t - t0;
  const startLevel = median(points.map((p) => p.v - slopePerMs * (p.t - t0)));
  const growth = slopePerMs * spanMs;
  const relativeGrowth = startLevel > 0 ? growth / startLevel : null;
  const pValue = mannKendall(points).pIncreasing;
  return {
    state: classify({ slopePerMs, growth, relativeGrowth, pValue }, limits),
    slopePerMin: slopePerMs * 60_000,
    growth,
    relativeGrowth,
    pValue,
    points: points.length,
    spanMs,
  };
}

// "growing" needs half the relative growth of "leaking": a healthy heap's baseline creeps by a
// few per cent over a short run (+2 % in 8 s, seen), clearly but harmlessly.
function classify({ slopePerMs, growth, relativeGrowth, pValue }, limits) {
  const relativeEnough = relativeGrowth === null || relativeGrowth >= limits.minRelative / 2;
  const rising = slopePerMs > 0 && pValue < GROWTH_P && growth >= limits.minAbsolute && relativeEnough;
  if (!rising) return 'stable';
  const bigEnough = relativeGrowth === null || relativeGrowth >= limits.minRelative;
  return pValue < LEAK_P && bigEnough ? 'leaking' : 'growing';
}

function floorPoints(buckets) {
  return buckets.buckets.map((b) => ({ t: b.minTime, v: b.min })).sort((a, b) => a.t - b.t);
}

function trimWarmUp(points) {
  if (points.length < 2) return points;
  const start = points[0].t;
  const cut = start + (points[points.length - 1].t - start) * WARM_UP_FRACTION;
  return points.filter((p) => p.t >= cut);
}

// Consecutive groups of equal size, each represented by its minimum.
function reduce(points, maxPoints) {
  if (points.length <= maxPoints) return points;
  const out = [];
  const groupSize = points.length / maxPoints;
  for (let g = 0; g < maxPoints; g++) {
    const group = points.slice(Math.floor(g * groupSize), Math.floor((g + 1) * groupSize));
    out.push(group.reduce((lo, p) => (p.v < lo.v ? p : lo)));
  }
  return out;
}

module.exports = { verdict, THRESHOLDS, MIN_POINTS };
