//! One window's statistics: its Theil–Sen slope and Mann–Kendall p-value, and whether the rise
//! holds part by part (or cycle by cycle).

use super::cycles::Cycles;
use super::{Point, TrendOptions, MAX_FIT_POINTS, SEGMENTS, SEGMENT_Z, SUSTAIN_SHARE};
use crate::verdict::stats::{mann_kendall, median, sen_intercept, theil_sen_slope};

/// The two ways a window's rise is checked for being sustained; see the
/// module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Judged {
    /// [`SEGMENTS`] equal parts of the window (time windows).
    ByParts,
    /// Every GC cycle (the cycle window).
    ByCycles,
}

/// The statistics of one window.
#[derive(Debug, Clone)]
pub(super) struct Fit {
    pub(super) start: u64,
    pub(super) n: usize,
    /// Theil–Sen slope, bytes per ms.
    pub(super) slope: f64,
    /// One-sided Mann–Kendall p-value for a rise (not yet adjusted).
    pub(super) p: f64,
    /// `slope` × span of the points.
    pub(super) growth: f64,
    /// Fitted level at the first point.
    pub(super) level: f64,
    /// Each part's slope and level (`None`: too few points to tell).
    pub(super) segments: [Option<Segment>; SEGMENTS],
    /// The same window, cycle by cycle.
    pub(super) cycles: Cycles,
    pub(super) judged: Judged,
    /// This window's share of the false-alarm budget; see [`Trend::fits`].
    pub(super) alpha: f64,
}

/// One part of a window: its slope and level (median value), each with its
/// standard error.
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment {
    pub(super) slope: f64,
    pub(super) std_err: f64,
    pub(super) level: f64,
    pub(super) level_err: f64,
}

impl Fit {
    pub(super) fn new(points: &[Point], judged: Judged, alpha: f64) -> Option<Fit> {
        let start = points.first()?.t;
        let xy = thin(points.iter().map(|p| (p.t.saturating_sub(start) as f64, p.v)).collect(), MAX_FIT_POINTS);
        let slope = theil_sen_slope(&xy)?;
        let level = sen_intercept(&xy, slope)?;
        let span = xy.last()?.0 - xy.first()?.0;
        let noise = robust_noise(&xy, slope, level);
        Some(Fit {
            start,
            n: points.len(),
            slope,
            p: mann_kendall(&xy).p_increasing,
            growth: slope * span,
            level,
            segments: segment_slopes(&xy, noise),
            cycles: Cycles::new(points, start),
            judged,
            alpha,
        })
    }

    pub(super) fn is_rising(&self) -> bool {
        self.slope > 0.0 && self.p <= self.alpha
    }

    pub(super) fn is_big(&self, o: &TrendOptions) -> bool {
        self.growth >= o.min_growth_bytes && self.growth >= o.min_growth_ratio * self.level.abs()
    }

    /// The chance that noise alone looks like this window: the Mann–Kendall
    /// p-value or, in the cycle window when every cycle rises in step, the
    /// cycle test's own bound if smaller.
    pub(super) fn chance(&self) -> f64 {
        match self.judged {
            Judged::ByCycles if self.cycles.sustained() => self.p.min(self.cycles.null_bound()),
            _ => self.p,
        }
    }

    /// Confidence that the series rises, on the scale of
    /// [`TrendOptions::confidence`]: the chance, scaled by this window's share
    /// of the false-alarm budget.
    pub(super) fn confidence(&self, o: &TrendOptions) -> f64 {
        let budget = 1.0 - o.confidence;
        (1.0 - self.chance() * budget / self.alpha).clamp(0.0, 1.0)
    }

    /// A leak: rising, by enough, and sustained: part by part in a time
    /// window, cycle by cycle in the cycle window.
    pub(super) fn is_leak(&self, o: &TrendOptions) -> bool {
        self.is_sustained(o) && self.is_significant_rise(o)
    }

    /// The rise is sustained: part by part in a time window, cycle by cycle in the cycle window.
    pub(super) fn is_sustained(&self, o: &TrendOptions) -> bool {
        match self.judged {
            Judged::ByParts => self.parts_sustained(),
            Judged::ByCycles => self.cycles.sustained() && self.cycles.spans(o.sustain_ms as f64),
        }
    }

    /// Rising, significantly (within this window's share of the budget), by enough.
    pub(super) fn is_significant_rise(&self, o: &TrendOptions) -> bool {
        self.slope > 0.0 && self.is_big(o) && self.chance() <= self.alpha
    }

    /// Every part rises at no less than [`SUSTAIN_SHARE`] of the overall
    /// slope and clearly more than its own noise (a flat part that looks
    /// steep by chance must not pass), and sits clearly above the part before
    /// (a sawtooth rises inside every part, but its level does not move).
    pub(super) fn parts_sustained(&self) -> bool {
        let bar = SUSTAIN_SHARE * self.slope;
        let mut previous: Option<Segment> = None;
        for segment in &self.segments {
            let Some(s) = *segment else {
                return false;
            };
            if s.slope < bar || s.slope < SEGMENT_Z * s.std_err {
                return false;
            }
            if previous.is_some_and(|p| s.level - p.level < SEGMENT_Z * p.level_err.hypot(s.level_err)) {
                return false;
            }
            previous = Some(s);
        }
        true
    }

    /// The latest part (or, for sparse points, the latest cycle) still rises
    /// at no less than [`SUSTAIN_SHARE`] of the slope.
    pub(super) fn recent_rise(&self) -> bool {
        let bar = SUSTAIN_SHARE * self.slope;
        match self.segments[SEGMENTS - 1] {
            Some(s) => s.slope >= bar,
            None => self.cycles.last_rate().is_some_and(|r| r >= bar),
        }
    }
}

/// Averages consecutive groups so at most `max` points remain.
pub(super) fn thin(points: Vec<(f64, f64)>, max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max || max == 0 {
        return points;
    }
    let group = points.len().div_ceil(max);
    let mean = |c: &[(f64, f64)], f: fn(&(f64, f64)) -> f64| c.iter().map(f).sum::<f64>() / c.len() as f64;
    points.chunks(group).map(|c| (mean(c, |p| p.0), mean(c, |p| p.1))).collect()
}

/// Noise of a window: the spread of the points around the Theil–Sen line, as
/// a standard deviation estimated from the median absolute deviation (so a
/// few spikes do not inflate it).
pub(super) fn robust_noise(xy: &[(f64, f64)], slope: f64, level: f64) -> f64 {
    let mut residuals: Vec<f64> = xy.iter().map(|&(x, y)| y - level - slope * x).collect();
    let center = median(&mut residuals).unwrap_or(0.0);
    let mut spread: Vec<f64> = residuals.iter().map(|r| (r - center).abs()).collect();
    // 1.4826 × MAD estimates the standard deviation of Gaussian noise.
    1.4826 * median(&mut spread).unwrap_or(0.0)
}

/// Slope and level of each of [`SEGMENTS`] equal time parts, with their
/// standard errors for a given noise level.
fn segment_slopes(xy: &[(f64, f64)], noise: f64) -> [Option<Segment>; SEGMENTS] {
    let mut out = [None; SEGMENTS];
    let (Some(first), Some(last)) = (xy.first(), xy.last()) else {
        return out;
    };
    let len = (last.0 - first.0) / SEGMENTS as f64;
    if len <= 0.0 {
        return out;
    }
    for (k, slot) in out.iter_mut().enumerate() {
        let lo = first.0 + len * k as f64;
        let begin = xy.partition_point(|p| p.0 < lo - 1e-9);
        let end = xy.partition_point(|p| p.0 <= lo + len + 1e-9);
        let part = &xy[begin..end];
        let mut values: Vec<f64> = part.iter().map(|p| p.1).collect();
        if let (Some(slope), Some(level)) = (theil_sen_slope(part), median(&mut values)) {
            let std_err = slope_std_err(part, noise);
            // The standard error of a median of n Gaussian values.
            let level_err = 1.2533 * noise / (part.len() as f64).sqrt();
            *slot = Some(Segment { slope, std_err, level, level_err });
        }
    }
    out
}

/// Standard error of a straight-line slope through `part` with Gaussian
/// noise `noise`: `noise / sqrt(Σ (x - mean x)²)`. Theil–Sen's is close.
fn slope_std_err(part: &[(f64, f64)], noise: f64) -> f64 {
    let n = part.len() as f64;
    let mean = part.iter().map(|p| p.0).sum::<f64>() / n;
    let sxx: f64 = part.iter().map(|p| (p.0 - mean) * (p.0 - mean)).sum();
    if sxx > 0.0 {
        noise / sxx.sqrt()
    } else {
        f64::INFINITY
    }
}
