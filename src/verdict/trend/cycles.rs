//! A window seen cycle by cycle, for series with few exact points (full GCs).

use super::fit::robust_noise;
use super::{Point, MAX_CYCLE_POINTS, SEGMENT_Z, SUSTAIN_SHARE};
use crate::verdict::stats::{sen_intercept, theil_sen_slope};

/// A window seen cycle by cycle: its exact points (for the heap, one
/// baseline per full GC), and when the last cycle's latest floor point was.
///
/// A rise from one exact point to the next shows growth *inside* that cycle.
/// A floor point that was kept lay clearly below the next baseline: the heap
/// still had to grow *after* it.
#[derive(Debug, Clone, Default)]
pub(super) struct Cycles {
    /// `(t, v)` of the exact points, `t` in ms from the window's start.
    pub(super) exact: Vec<(f64, f64)>,
    /// Time of the latest floor point inside the last cycle.
    pub(super) last_floor: Option<f64>,
}

impl Cycles {
    pub(super) fn new(points: &[Point], start: u64) -> Cycles {
        let x = |p: &Point| p.t.saturating_sub(start) as f64;
        let exact: Vec<(f64, f64)> = points.iter().filter(|p| p.exact).map(|p| (x(p), p.v)).collect();
        let last_cycle_from = exact.len().checked_sub(2).map(|i| exact[i].0);
        let last_floor = points
            .iter()
            .filter(|p| !p.exact && last_cycle_from.is_some_and(|from| x(p) > from))
            .map(x)
            .reduce(f64::max);
        Cycles { exact, last_floor }
    }

    pub(super) fn count(&self) -> usize {
        self.exact.len().saturating_sub(1)
    }

    /// At least two cycles, and every one rises by clearly more than the
    /// points' scatter (two standard errors of a difference of two points)
    /// and by not clearly less than [`SUSTAIN_SHARE`] of the slope over its
    /// length. ("Not clearly less" matters for short cycles: a second or two
    /// of a steady leak is within the scatter.)
    pub(super) fn sustained(&self) -> bool {
        if self.count() < 2 || self.count() >= MAX_CYCLE_POINTS {
            return false;
        }
        // The exact points' own line: floor points would add the young
        // generation's slack to the scatter.
        let slope = theil_sen_slope(&self.exact).unwrap_or(0.0);
        let noise = sen_intercept(&self.exact, slope).map_or(0.0, |level| robust_noise(&self.exact, slope, level));
        let (rate, scatter) = (SUSTAIN_SHARE * slope, SEGMENT_Z * std::f64::consts::SQRT_2 * noise);
        slope > 0.0
            && self.exact.windows(2).all(|c| {
                let (dt, dv) = (c[1].0 - c[0].0, c[1].1 - c[0].1);
                dt > 0.0 && dv >= scatter && dv >= rate * dt - scatter
            })
    }

    /// The rise is seen at two moments at least `sustain_ms / 2` apart, over
    /// at least `sustain_ms` in all. Growth shown inside the first cycle ends
    /// by its closing point; growth shown in the last cycle starts no
    /// earlier than its latest floor point (or its opening point). A single
    /// ramp shorter than the gap between the two cannot explain both.
    pub(super) fn spans(&self, sustain_ms: f64) -> bool {
        let k = self.count();
        if k < 2 {
            return false;
        }
        let first_end = self.exact[1].0;
        let last_start = self.last_floor.unwrap_or(0.0).max(self.exact[k - 1].0);
        last_start - first_end >= sustain_ms / 2.0 && self.exact[k].0 - self.exact[0].0 >= sustain_ms
    }

    /// Rate of the latest cycle, bytes per ms.
    pub(super) fn last_rate(&self) -> Option<f64> {
        let [.., (t0, v0), (t1, v1)] = self.exact[..] else {
            return None;
        };
        (t1 > t0).then(|| (v1 - v0) / (t1 - t0))
    }

    /// An upper bound on the chance that pure noise passes
    /// [`Cycles::sustained`]: 2 × 10^-(cycles - 1). With independent noise,
    /// the points must come in rising order (1 in n!) and each step must clear
    /// two standard errors at a steady rate; `cycle_test_chance_under_noise`
    /// measures about half of the bound.
    pub(super) fn null_bound(&self) -> f64 {
        2.0 * 10f64.powi(1 - self.count().min(300) as i32)
    }
}
