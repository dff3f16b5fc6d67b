//! Robust slope and trend significance for short, noisy series.
//!
//! Two classic non-parametric tools, both working on `(x, y)` points:
//!
//! * **Theil–Sen**: the slope is the median of the slopes of all pairs of
//!   points. Up to ~29% of the points can be arbitrarily wrong (a GC spike,
//!   a burst) without moving it much, unlike a least-squares fit.
//! * **Mann–Kendall**: counts rising pairs minus falling pairs (`S`) and asks
//!   how unlikely a value that high is if the series has no trend. It only
//!   looks at ranks, so it does not care about the noise's shape or scale.
//!
//! Both are O(n²) in the number of points; callers keep `n` small.

/// Series up to this length with no ties get an exact Mann–Kendall p-value.
/// Beyond it the normal approximation (with continuity correction) is
/// accurate to well under 1% of the tail probability we care about.
pub const EXACT_MAX_N: usize = 10;

/// Median of `values`, reordering them. `None` for an empty slice.
/// Values must not be NaN (they are ordered with `total_cmp`).
pub fn median(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    let (lower, upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        return Some(upper);
    }
    // Even length: average the two middle values. The lower middle one is
    // the largest element of the part before `mid`.
    let lower = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(lower + (upper - lower) / 2.0)
}

/// Theil–Sen slope: the median of `(yj - yi) / (xj - xi)` over all pairs with
/// different `x`. `None` when fewer than two distinct `x` values exist.
pub fn theil_sen_slope(points: &[(f64, f64)]) -> Option<f64> {
    let mut slopes = Vec::with_capacity(points.len() * points.len().saturating_sub(1) / 2);
    for (i, &(xi, yi)) in points.iter().enumerate() {
        for &(xj, yj) in &points[i + 1..] {
            let dx = xj - xi;
            if dx != 0.0 {
                let slope = (yj - yi) / dx;
                if slope.is_finite() {
                    slopes.push(slope);
                }
            }
        }
    }
    median(&mut slopes)
}

/// Sen's intercept for a given slope: the median of `y - slope * x`, i.e. the
/// fitted value at `x = 0`. `None` for an empty slice.
pub fn sen_intercept(points: &[(f64, f64)], slope: f64) -> Option<f64> {
    let mut residuals: Vec<f64> = points.iter().map(|&(x, y)| y - slope * x).collect();
    median(&mut residuals)
}

/// Result of a Mann–Kendall test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannKendall {
    /// Number of points used.
    pub n: usize,
    /// Concordant pairs minus discordant pairs (pairs tied in x or y count 0).
    pub s: i64,
    /// Variance of `s` under "no trend", corrected for ties.
    pub var_s: f64,
    /// One-sided p-value for an *increasing* trend: the probability of an
    /// `s` at least this large if there were no trend. 1.0 means no evidence.
    pub p_increasing: f64,
    /// Whether `p_increasing` comes from the exact distribution.
    pub exact: bool,
}

/// Mann–Kendall test for an increasing trend of `y` over `x`.
///
/// `x` may repeat (several samples with one timestamp): such pairs count as
/// neither rising nor falling, and the variance is corrected for ties in both
/// `x` and `y` (Kendall's formula). Points need not be sorted.
pub fn mann_kendall(points: &[(f64, f64)]) -> MannKendall {
    let n = points.len();
    let s = kendall_s(points);
    let x_ties = tie_group_sizes(points.iter().map(|p| p.0));
    let y_ties = tie_group_sizes(points.iter().map(|p| p.1));
    let var_s = kendall_variance(n, &x_ties, &y_ties);
    let no_ties = x_ties.is_empty() && y_ties.is_empty();
    let (p_increasing, exact) = if n < 2 || var_s <= 0.0 {
        // Nothing to rank (or everything tied): no evidence of a trend.
        (1.0, false)
    } else if no_ties && n <= EXACT_MAX_N {
        (exact_upper_tail(n, s), true)
    } else {
        (normal_upper_tail(continuity_corrected_z(s, var_s)), false)
    };
    MannKendall { n, s, var_s, p_increasing, exact }
}

/// `S = Σ_{i<j} sign(xj - xi) · sign(yj - yi)`.
fn kendall_s(points: &[(f64, f64)]) -> i64 {
    let mut s = 0i64;
    for (i, &(xi, yi)) in points.iter().enumerate() {
        for &(xj, yj) in &points[i + 1..] {
            s += sign(xj - xi) * sign(yj - yi);
        }
    }
    s
}

fn sign(d: f64) -> i64 {
    if d > 0.0 {
        1
    } else if d < 0.0 {
        -1
    } else {
        0
    }
}

/// Sizes of the groups of equal values that have two or more members.
fn tie_group_sizes(values: impl Iterator<Item = f64>) -> Vec<usize> {
    let mut sorted: Vec<f64> = values.collect();
    sorted.sort_by(f64::total_cmp);
    let mut groups = Vec::new();
    let mut run = 1usize;
    for i in 1..=sorted.len() {
        if i < sorted.len() && sorted[i] == sorted[i - 1] {
            run += 1;
        } else {
            if run > 1 {
                groups.push(run);
            }
            run = 1;
        }
    }
    groups
}

/// Variance of Kendall's S under independence with ties in both variables
/// (Kendall 1970, eq. 4.4). With no ties in `x` it reduces to the usual
/// Mann–Kendall form `[n(n-1)(2n+5) - Σ u(u-1)(2u+5)] / 18`.
fn kendall_variance(n: usize, x_ties: &[usize], y_ties: &[usize]) -> f64 {
    if n < 3 {
        // The general formula divides by n-2; for n = 2 S is ±1 or 0.
        return if n == 2 && x_ties.is_empty() && y_ties.is_empty() { 1.0 } else { 0.0 };
    }
    let nf = n as f64;
    let sum = |ties: &[usize], f: fn(f64) -> f64| ties.iter().map(|&t| f(t as f64)).sum::<f64>();
    let v0 = nf * (nf - 1.0) * (2.0 * nf + 5.0);
    let vt = sum(x_ties, |t| t * (t - 1.0) * (2.0 * t + 5.0));
    let vu = sum(y_ties, |u| u * (u - 1.0) * (2.0 * u + 5.0));
    let pairs_t = sum(x_ties, |t| t * (t - 1.0));
    let pairs_u = sum(y_ties, |u| u * (u - 1.0));
    let triples_t = sum(x_ties, |t| t * (t - 1.0) * (t - 2.0));
    let triples_u = sum(y_ties, |u| u * (u - 1.0) * (u - 2.0));
    let var = (v0 - vt - vu) / 18.0
        + triples_t * triples_u / (9.0 * nf * (nf - 1.0) * (nf - 2.0))
        + pairs_t * pairs_u / (2.0 * nf * (nf - 1.0));
    var.max(0.0)
}

/// `z` for S with a continuity correction: S moves in steps of 2, so
/// shrinking it by 1 toward zero makes the normal tail match the discrete one
/// far better for small n.
fn continuity_corrected_z(s: i64, var_s: f64) -> f64 {
    let corrected = match s {
        0 => 0.0,
        s if s > 0 => (s - 1) as f64,
        s => (s + 1) as f64,
    };
    corrected / var_s.sqrt()
}

/// Exact `P(S >= s)` for `n` untied points under "no trend".
///
/// With no ties, `S = N - 2D` where `N = n(n-1)/2` and `D` is the number of
/// inversions of the ranking. The number of permutations of `n` items with
/// `k` inversions (Mahonian numbers) follows from a simple recurrence: adding
/// the m-th item creates 0..m-1 new inversions.
fn exact_upper_tail(n: usize, s: i64) -> f64 {
    let max_inversions = n * (n - 1) / 2;
    let mut counts = vec![0.0f64; max_inversions + 1];
    counts[0] = 1.0;
    for m in 2..=n {
        let mut next = vec![0.0f64; max_inversions + 1];
        for (k, &c) in counts.iter().enumerate() {
            if c == 0.0 {
                continue;
            }
            for added in 0..m {
                if let Some(slot) = next.get_mut(k + added) {
                    *slot += c;
                }
            }
        }
        counts = next;
    }
    let total: f64 = counts.iter().sum();
    // S >= s  <=>  D <= (N - s) / 2.
    let limit = (max_inversions as i64 - s).div_euclid(2);
    if limit < 0 {
        return 0.0;
    }
    let favourable: f64 = counts.iter().take(limit as usize + 1).sum();
    (favourable / total).clamp(0.0, 1.0)
}

/// `P(Z >= z)` for a standard normal `Z`.
pub fn normal_upper_tail(z: f64) -> f64 {
    if z.is_nan() {
        return 1.0;
    }
    (0.5 * erfc(z / std::f64::consts::SQRT_2)).clamp(0.0, 1.0)
}

/// Complementary error function, Chebyshev fit with fractional error below
/// 1.2e-7 everywhere (Numerical Recipes `erfcc`). Plenty for p-values.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases js/stats.js is checked against too (`__test__/stats.test.js`): the report and
    /// leakwatch/testing compute what the recorder computes.
    #[test]
    fn shared_vectors_give_the_same_slope_and_p_value_as_js_stats() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../__test__/fixtures/stats-vectors.json")).expect("valid JSON");
        let near = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-300);
        for case in doc["cases"].as_array().expect("cases") {
            let name = case["name"].as_str().unwrap_or("?");
            let points: Vec<(f64, f64)> = case["points"]
                .as_array()
                .expect("points")
                .iter()
                .map(|p| (p[0].as_f64().expect("t"), p[1].as_f64().expect("v")))
                .collect();
            let slope = theil_sen_slope(&points);
            assert_eq!(slope.is_some(), !case["slope"].is_null(), "{name}: slope or none");
            if let (Some(slope), Some(expected)) = (slope, case["slope"].as_f64()) {
                assert!(near(slope, expected), "{name}: slope {slope} vs {expected}");
                let intercept = sen_intercept(&points, slope).expect("intercept");
                let expected = case["intercept"].as_f64().expect("intercept");
                assert!(near(intercept, expected), "{name}: intercept {intercept} vs {expected}");
            }
            let mk = mann_kendall(&points);
            assert_eq!(mk.s, case["s"].as_i64().expect("s"), "{name}: S");
            assert!(near(mk.var_s, case["varS"].as_f64().expect("varS")), "{name}: var S {}", mk.var_s);
            let p = case["pIncreasing"].as_f64().expect("p");
            assert!(near(mk.p_increasing, p), "{name}: p {} vs {p}", mk.p_increasing);
            assert_eq!(mk.exact, case["exact"].as_bool().expect("exact"), "{name}: exact");
        }
    }

    fn pts(ys: &[f64]) -> Vec<(f64, f64)> {
        ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect()
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0]), Some(3.0));
        assert_eq!(median(&mut [5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn theil_sen_exact_line() {
        let p: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 3.0 * i as f64 + 7.0)).collect();
        assert_eq!(theil_sen_slope(&p), Some(3.0));
        assert_eq!(sen_intercept(&p, 3.0), Some(7.0));
    }

    #[test]
    fn theil_sen_hand_computed() {
        // Points (0,1) (1,3) (2,2) (3,5). Pair slopes:
        // (0,1): 2, (0,2): 0.5, (0,3): 4/3, (1,2): -1, (1,3): 1, (2,3): 3.
        // Sorted: -1, 0.5, 1, 4/3, 2, 3 -> median (1 + 4/3) / 2 = 7/6.
        let p = pts(&[1.0, 3.0, 2.0, 5.0]);
        let slope = theil_sen_slope(&p).unwrap();
        assert!(close(slope, 7.0 / 6.0, 1e-12), "{slope}");
        // Residuals y - 7/6 x: 1, 11/6, -1/3, 3/2 -> median (1 + 3/2) / 2.
        let b = sen_intercept(&p, slope).unwrap();
        assert!(close(b, 1.25, 1e-12), "{b}");
    }

    #[test]
    fn theil_sen_ignores_outliers() {
        let mut p: Vec<(f64, f64)> = (0..20).map(|i| (i as f64, 2.0 * i as f64)).collect();
        p[5].1 = 1e9;
        p[12].1 = -1e9;
        assert_eq!(theil_sen_slope(&p), Some(2.0));
    }

    #[test]
    fn theil_sen_degenerate_inputs() {
        assert_eq!(theil_sen_slope(&[]), None);
        assert_eq!(theil_sen_slope(&[(1.0, 2.0)]), None);
        // Same x only: no slope can be formed.
        assert_eq!(theil_sen_slope(&[(1.0, 2.0), (1.0, 5.0)]), None);
        // Repeated x are skipped, the rest still count.
        // Slopes 2 and -1: median 0.5.
        assert_eq!(theil_sen_slope(&[(1.0, 2.0), (1.0, 5.0), (2.0, 4.0)]), Some(0.5));
    }

    #[test]
    fn mann_kendall_s_hand_computed() {
        // y = 1 3 2 5: pairs (1,3)+ (1,2)+ (1,5)+ (3,2)- (3,5)+ (2,5)+ -> S = 4.
        let mk = mann_kendall(&pts(&[1.0, 3.0, 2.0, 5.0]));
        assert_eq!(mk.s, 4);
        // Var = 4*3*13/18 = 26/3.
        assert!(close(mk.var_s, 26.0 / 3.0, 1e-12));
        // Exact: S >= 4 <=> at most 1 inversion: 1 + 3 of 24 permutations.
        assert!(mk.exact);
        assert!(close(mk.p_increasing, 4.0 / 24.0, 1e-12), "{}", mk.p_increasing);
    }

    #[test]
    fn mann_kendall_exact_extremes() {
        // Strictly increasing n = 5: only the identity permutation has S = 10.
        let mk = mann_kendall(&pts(&[1.0, 2.0, 3.0, 4.0, 5.0]));
        assert_eq!(mk.s, 10);
        assert!(close(mk.p_increasing, 1.0 / 120.0, 1e-12));
        // Strictly decreasing: every permutation has S >= -10.
        let mk = mann_kendall(&pts(&[5.0, 4.0, 3.0, 2.0, 1.0]));
        assert_eq!(mk.s, -10);
        assert!(close(mk.p_increasing, 1.0, 1e-12));
    }

    #[test]
    fn mann_kendall_exact_distribution_is_symmetric() {
        // P(S >= s) + P(S >= -s + 2) = 1 for the symmetric, step-2 distribution.
        for n in 2..=EXACT_MAX_N {
            let max_s = (n * (n - 1) / 2) as i64;
            let mut s = -max_s;
            while s <= max_s {
                let total = exact_upper_tail(n, s) + exact_upper_tail(n, -s + 2);
                assert!(close(total, 1.0, 1e-12), "n={n} s={s} total={total}");
                s += 2;
            }
        }
    }

    #[test]
    fn mann_kendall_with_value_ties() {
        // y = 1 2 2 3 (x untied). Pairs: (1,2)+ (1,2)+ (1,3)+ (2,2)0 (2,3)+ (2,3)+
        // -> S = 5. Tie group {2,2}: Var = [4*3*13 - 2*1*9] / 18 = 138/18.
        let mk = mann_kendall(&pts(&[1.0, 2.0, 2.0, 3.0]));
        assert_eq!(mk.s, 5);
        assert!(close(mk.var_s, 138.0 / 18.0, 1e-12));
        assert!(!mk.exact);
        // Continuity corrected: z = 4 / sqrt(138/18) = 1.4446, P(Z >= z) = 0.07428.
        assert!(close(mk.p_increasing, 0.074_28, 2e-4), "{}", mk.p_increasing);
    }

    #[test]
    fn mann_kendall_with_time_ties() {
        // Two samples at x = 1. Pairs: (0,1)(1,1)(1,2)... computed by hand:
        // points (0,1) (1,2) (1,3) (2,4): all pairs with dx != 0 rise -> S = 5.
        let p = [(0.0, 1.0), (1.0, 2.0), (1.0, 3.0), (2.0, 4.0)];
        let mk = mann_kendall(&p);
        assert_eq!(mk.s, 5);
        // One x tie group of 2, no y ties: Var = [4*3*13 - 2*1*9] / 18.
        assert!(close(mk.var_s, 138.0 / 18.0, 1e-12));
    }

    #[test]
    fn mann_kendall_normal_approximation_large_n() {
        // n = 12 increasing: S = 66, Var = 12*11*29/18 = 212.667, z = 65/14.583.
        let ys: Vec<f64> = (0..12).map(|i| i as f64).collect();
        let mk = mann_kendall(&pts(&ys));
        assert_eq!(mk.s, 66);
        assert!(!mk.exact);
        let z: f64 = 65.0 / (12.0f64 * 11.0 * 29.0 / 18.0).sqrt();
        assert!(close(mk.p_increasing, normal_upper_tail(z), 1e-15));
        assert!(mk.p_increasing < 1e-5);
    }

    #[test]
    fn mann_kendall_degenerate() {
        assert_eq!(mann_kendall(&[]).p_increasing, 1.0);
        assert_eq!(mann_kendall(&[(0.0, 1.0)]).p_increasing, 1.0);
        let flat = mann_kendall(&pts(&[4.0; 8]));
        assert_eq!(flat.s, 0);
        assert_eq!(flat.p_increasing, 1.0);
        let two = mann_kendall(&pts(&[1.0, 2.0]));
        assert_eq!(two.s, 1);
        assert!(close(two.p_increasing, 0.5, 1e-12));
    }

    #[test]
    fn normal_tail_reference_values() {
        assert!(close(normal_upper_tail(0.0), 0.5, 1e-7));
        assert!(close(normal_upper_tail(1.0), 0.158_655_25, 1e-7));
        assert!(close(normal_upper_tail(2.326_347_87), 0.01, 1e-8));
        assert!(close(normal_upper_tail(-1.644_853_63), 0.95, 1e-7));
        assert!(normal_upper_tail(40.0) >= 0.0);
        assert_eq!(normal_upper_tail(f64::NAN), 1.0);
        assert!(close(normal_upper_tail(f64::NEG_INFINITY), 1.0, 1e-12));
        assert_eq!(normal_upper_tail(f64::INFINITY), 0.0);
    }
}
