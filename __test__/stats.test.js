'use strict';
// js/stats.js (the report's and leakwatch/testing's Theil–Sen and Mann–Kendall) against the
// vectors src/verdict/stats.rs is checked against in `cargo test`: the same points give the same
// slope and p-value on both sides of the addon.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const stats = require('../js/stats');
const { cases } = require('./fixtures/stats-vectors.json');

const near = (a, b) => Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b), 1e-300);

test('the shared vectors: slope, intercept, S, its variance and the p-value as src/verdict/stats.rs gives them', () => {
  assert.ok(cases.length >= 10);
  for (const c of cases) {
    const points = c.points.map(([t, v]) => ({ t, v }));
    const slope = stats.theilSenSlope(points);
    if (c.slope === null) {
      assert.ok(Number.isNaN(slope), `${c.name}: no slope`);
    } else {
      assert.ok(near(slope, c.slope), `${c.name}: slope ${slope} vs ${c.slope}`);
      assert.ok(near(stats.senIntercept(points, slope), c.intercept), `${c.name}: intercept`);
    }
    const mk = stats.mannKendall(points);
    assert.equal(mk.s, c.s, `${c.name}: S`);
    assert.ok(near(mk.varS, c.varS), `${c.name}: var S ${mk.varS} vs ${c.varS}`);
    assert.ok(near(mk.pIncreasing, c.pIncreasing), `${c.name}: p ${mk.pIncreasing} vs ${c.pIncreasing}`);
    assert.equal(mk.exact, c.exact, `${c.name}: exact`);
  }
});

test('known values: a straight rise of n untied points has p = 1/n!, a fall has p = 1', () => {
  const line = (n, k) => Array.from({ length: n }, (_, i) => ({ t: i, v: k * i }));
  assert.ok(near(stats.mannKendall(line(5, 1)).pIncreasing, 1 / 120));
  assert.ok(near(stats.mannKendall(line(10, 3)).pIncreasing, 1 / 3_628_800));
  assert.equal(stats.mannKendall(line(7, -1)).pIncreasing, 1);
  // Past EXACT_MAX_N the normal approximation: S = n(n-1)/2, var = n(n-1)(2n+5)/18.
  const mk = stats.mannKendall(line(30, 2));
  assert.equal(mk.exact, false);
  assert.equal(mk.s, 435);
  assert.ok(near(mk.varS, (30 * 29 * 65) / 18));
  assert.ok(mk.pIncreasing < 1e-12);
});

test('Theil–Sen ignores an outlier; Mann–Kendall sees a steady rise and not an alternation', () => {
  const points = Array.from({ length: 30 }, (_, i) => ({ t: i, v: 2 * i }));
  points[10].v = 1000;
  assert.equal(stats.theilSenSlope(points), 2);
  assert.ok(stats.mannKendall(points).pIncreasing < 0.001);
  const flat = Array.from({ length: 30 }, (_, i) => ({ t: i, v: i % 2 }));
  assert.ok(stats.mannKendall(flat).pIncreasing > 0.3);
  assert.equal(stats.median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(stats.median([])));
});
