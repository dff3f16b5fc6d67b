//! Pause-time histogram: an HdrHistogram in microseconds, 2 significant figures (1 % error),
//! up to 60 s. About 10 KB each, so a session's dozen histograms stay small.

use hdrhistogram::Histogram;
use serde_json::{json, Value};

const MAX_US: u64 = 60_000_000;

pub struct PauseHistogram {
    hist: Histogram<u32>,
    total_ns: u64,
    /// Exact, unlike the histogram's 1 % buckets: the worst pause is worth reporting exactly.
    max_ns: u64,
}

impl Default for PauseHistogram {
    fn default() -> Self {
        PauseHistogram {
            hist: Histogram::new_with_bounds(1, MAX_US, 2).expect("static histogram bounds are valid"),
            total_ns: 0,
            max_ns: 0,
        }
    }
}

impl PauseHistogram {
    pub fn record_ns(&mut self, ns: u64) {
        let us = (ns / 1000).clamp(1, MAX_US);
        // saturating: a counter that cannot grow further is better than a panic.
        self.hist.saturating_record(us);
        self.total_ns = self.total_ns.saturating_add(ns);
        self.max_ns = self.max_ns.max(ns.min(MAX_US * 1000));
    }

    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    pub fn reset(&mut self) {
        self.hist.reset();
        self.total_ns = 0;
        self.max_ns = 0;
    }

    pub fn add(&mut self, other: &PauseHistogram) {
        // Same bounds everywhere, so adding cannot fail; ignore rather than panic if it did.
        let _ = self.hist.add(&other.hist);
        self.total_ns = self.total_ns.saturating_add(other.total_ns);
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// Never above the exact maximum, so p50 ≤ p99 ≤ max always holds.
    fn quantile_ms(&self, q: f64) -> f64 {
        if self.hist.is_empty() {
            return 0.0;
        }
        let us = self.hist.value_at_quantile(q) as f64;
        ms(us.min(self.max_ns as f64 / 1000.0) / 1000.0)
    }

    pub fn p50_ms(&self) -> f64 {
        self.quantile_ms(0.5)
    }

    pub fn p99_ms(&self) -> f64 {
        self.quantile_ms(0.99)
    }

    pub fn max_ms(&self) -> f64 {
        ms(self.max_ns as f64 / 1e6)
    }

    pub fn total_ms(&self) -> f64 {
        ms(self.total_ns as f64 / 1e6)
    }

    /// Every pause added up, in seconds, unrounded (a Prometheus histogram's `_sum`).
    pub fn total_seconds(&self) -> f64 {
        self.total_ns as f64 / 1e9
    }

    /// `{p50, p99, max, total}` in milliseconds.
    pub fn summary(&self) -> Value {
        json!({"p50": self.p50_ms(), "p99": self.p99_ms(), "max": self.max_ms(), "total": self.total_ms()})
    }

    /// Counts per upper bound (seconds), cumulative, for Prometheus-style buckets. A pause
    /// within the histogram's 1 % of a bound may land on either side of it.
    pub fn cumulative_counts(&self, bounds_s: &[f64]) -> Vec<u64> {
        bounds_s.iter().map(|b| self.hist.count_between(0, (b * 1e6) as u64)).collect()
    }
}

/// Three decimals: microsecond resolution is all a pause time needs in a log.
fn ms(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_ordered_and_close() {
        let mut h = PauseHistogram::default();
        for i in 1..=1000u64 {
            h.record_ns(i * 10_000); // 10 µs .. 10 ms
        }
        assert_eq!(h.count(), 1000);
        let (p50, p99, max) = (h.p50_ms(), h.p99_ms(), h.max_ms());
        assert!(p50 <= p99 && p99 <= max, "{p50} {p99} {max}");
        assert!((p50 - 5.0).abs() < 0.1, "p50 {p50}");
        assert!((max - 10.0).abs() < 0.1, "max {max}");
        assert!((h.total_ms() - 5005.0).abs() < 0.01);
    }

    #[test]
    fn empty_is_zero_and_huge_values_clamp() {
        let mut h = PauseHistogram::default();
        assert_eq!(h.max_ms(), 0.0);
        h.record_ns(u64::MAX);
        h.record_ns(0);
        assert_eq!(h.count(), 2);
        assert!(h.max_ms() <= 60_000.0 * 1.01);
    }

    #[test]
    fn add_and_reset() {
        let mut a = PauseHistogram::default();
        let mut b = PauseHistogram::default();
        a.record_ns(1_000_000);
        b.record_ns(2_000_000);
        a.add(&b);
        assert_eq!(a.count(), 2);
        a.reset();
        assert_eq!(a.count(), 0);
        assert_eq!(a.total_ms(), 0.0);
    }

    #[test]
    fn cumulative_buckets() {
        let mut h = PauseHistogram::default();
        h.record_ns(500_000); // 0.5 ms
        h.record_ns(5_000_000); // 5 ms
        assert_eq!(h.cumulative_counts(&[0.001, 0.01, 0.1]), vec![1, 2, 2]);
        assert!((h.total_seconds() - 0.0055).abs() < 1e-12);
    }
}
