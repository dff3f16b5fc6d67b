//! One watched series (the heap, external memory, RSS, handles, fds): its points, its latest
//! verdict, and the one rule for when a verdict deserves a warning. And the one warning type
//! every verdict raises.

use super::trend::{Trend, TrendOptions, TrendState, Verdict};
use serde_json::{json, Value};

/// While a series stays `leaking`, warn again at most this often, and only if it rose by at
/// least the leak threshold (`min_growth_bytes`) again since the previous warning. A series
/// that leaves `leaking` and comes back within this time (a verdict flickering at the edge) is
/// not warned again.
pub const REWARN_MS: u64 = 5 * 60_000;

/// The `lw` event a leak warning is emitted as, beside `process.emitWarning`.
pub const LEAK_EVENT: &str = "leak";

/// A warning, already worded: it becomes a log line, a `process.emitWarning` and an `lw` event.
#[derive(Clone, Debug, PartialEq)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
    pub details: Value,
    /// The `lw` event it is emitted as (`leak`, `listener-leak`).
    pub event: &'static str,
}

impl Warning {
    /// A warning emitted as the `leak` event.
    pub fn leak(code: &'static str, message: String, details: Value) -> Warning {
        Warning { code, message, details, event: LEAK_EVENT }
    }
}

/// What a series counts, which names its slope in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// `slopeBytesPerMin`, whole bytes.
    Bytes,
    /// `slopePerMin`, counts to two decimals.
    Count,
}

pub struct Series {
    pub name: &'static str,
    pub code: &'static str,
    pub trend: Trend,
    /// The latest verdict; `None` until first judged.
    pub verdict: Option<Verdict>,
    unit: Unit,
    /// The latest point (time, value).
    latest: Option<(u64, f64)>,
    /// When and at what level the last warning fired.
    warned: Option<(u64, f64)>,
}

impl Series {
    pub fn new(name: &'static str, code: &'static str, opts: &TrendOptions, unit: Unit) -> Series {
        Series { name, code, trend: Trend::new(opts.clone()), verdict: None, unit, latest: None, warned: None }
    }

    /// Adds a point; one not newer than the previous is the same sample seen again (the JS
    /// thread was blocked) and would only weigh its value twice.
    pub fn push(&mut self, t_ms: u64, value: f64) {
        if self.latest.is_some_and(|(last, _)| t_ms <= last) {
            return;
        }
        self.trend.push(t_ms, value);
        self.latest = Some((t_ms, value));
    }

    /// Re-judges the series on its own points; true when this verdict deserves a warning.
    pub fn judge(&mut self, now_ms: u64) -> bool {
        self.judge_with(now_ms, &|_, _, _| false, &|v| v.state)
    }

    /// Re-judges the series; true when this verdict deserves a warning. `sustained`: evidence
    /// from outside the series that a window's rise is sustained (Trend::verdict_with);
    /// `review`: the state the verdict stands at, given evidence from outside the series (RSS
    /// that does not rise itself keeps a `leaking` RSS-beyond-the-heap at `growing`; old
    /// objects that leak on their own make the heap `leaking`).
    pub fn judge_with(
        &mut self,
        now_ms: u64,
        sustained: &dyn Fn(u64, f64, u64) -> bool,
        review: &dyn Fn(&Verdict) -> TrendState,
    ) -> bool {
        let mut verdict = self.trend.verdict_with(now_ms, sustained);
        verdict.state = review(&verdict);
        let leaking = verdict.state == TrendState::Leaking;
        let recently_warned = self.warned.is_some_and(|(at, _)| now_ms.saturating_sub(at) < REWARN_MS);
        let entered = leaking && !self.is_leaking() && !recently_warned;
        let min_growth = self.trend.options().min_growth_bytes;
        let again = leaking
            && self.warned.is_some_and(|(at, level)| {
                now_ms.saturating_sub(at) >= REWARN_MS && self.current() - level >= min_growth
            });
        self.verdict = Some(verdict);
        if entered || again {
            self.warned = Some((now_ms, self.current()));
        }
        entered || again
    }

    /// The latest value (0 before the first).
    pub fn current(&self) -> f64 {
        self.latest.map_or(0.0, |(_, v)| v)
    }

    pub fn is_leaking(&self) -> bool {
        self.verdict.as_ref().is_some_and(|v| v.state == TrendState::Leaking)
    }

    /// The verdict a warning is about; only called after `judge` said one is due.
    pub fn judged(&self) -> &Verdict {
        self.verdict.as_ref().expect("judged before warning")
    }

    /// `{state, slopeBytesPerMin | slopePerMin, confidence}` (warming up before the first verdict).
    pub fn to_json(&self) -> Value {
        verdict_json(self.verdict.as_ref(), self.unit)
    }
}

/// `{state, slopeBytesPerMin | slopePerMin, confidence}` of a verdict (warming up before the first).
pub fn verdict_json(verdict: Option<&Verdict>, unit: Unit) -> Value {
    let (state, slope, confidence) = match verdict {
        Some(v) => (v.state, v.slope_bytes_per_min, (v.confidence * 1e4).round() / 1e4),
        None => (TrendState::WarmingUp, 0.0, 0.0),
    };
    match (unit, verdict.is_some()) {
        (Unit::Bytes, true) => {
            json!({"state": state.as_str(), "slopeBytesPerMin": slope.round(), "confidence": confidence})
        }
        (Unit::Count, true) => {
            json!({"state": state.as_str(), "slopePerMin": (slope * 100.0).round() / 100.0, "confidence": confidence})
        }
        (Unit::Bytes, false) => json!({"state": state.as_str(), "slopeBytesPerMin": 0, "confidence": 0}),
        (Unit::Count, false) => json!({"state": state.as_str(), "slopePerMin": 0, "confidence": 0}),
    }
}

/// "45 s", "12 min", "3h 05m".
pub fn duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> TrendOptions {
        TrendOptions {
            window_ms: 20_000,
            warmup_ms: 2_000,
            sustain_ms: 4_000,
            min_growth_bytes: 50.0,
            ..Default::default()
        }
    }

    #[test]
    fn a_repeated_sample_is_counted_once() {
        let mut s = Series::new("handles", "X", &fast(), Unit::Count);
        s.push(1000, 5.0);
        s.push(1000, 5.0);
        s.push(900, 4.0);
        assert_eq!(s.trend.len(), 1);
        assert_eq!(s.latest, Some((1000, 5.0)));
    }

    /// A steady climb: one warning when it starts leaking, another only after REWARN_MS and a
    /// further rise of the threshold; a flicker out of `leaking` and back is not warned again.
    #[test]
    fn a_leaking_series_warns_once_then_again_only_after_the_rewarn_time_and_more_growth() {
        let mut s = Series::new("handles", "X", &fast(), Unit::Count);
        let mut warned_at = Vec::new();
        for i in 0..(2 * REWARN_MS / 500 + 10) {
            let now = i * 500;
            s.push(now, 100.0 + 2.5 * i as f64); // +5/s, every one kept
            if s.judge(now) {
                warned_at.push(now);
            }
        }
        assert!(warned_at.len() >= 2, "{warned_at:?}");
        assert!(warned_at.windows(2).all(|w| w[1] - w[0] >= REWARN_MS), "{warned_at:?}");
    }

    #[test]
    fn slopes_are_named_for_what_the_series_counts() {
        assert_eq!(
            verdict_json(None, Unit::Bytes),
            json!({"state": "warming-up", "slopeBytesPerMin": 0, "confidence": 0})
        );
        assert_eq!(verdict_json(None, Unit::Count), json!({"state": "warming-up", "slopePerMin": 0, "confidence": 0}));
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(45_000), "45 s");
        assert_eq!(duration(12 * 60_000), "12 min");
        assert_eq!(duration(3 * 3_600_000 + 5 * 60_000), "3h 05m");
    }
}
