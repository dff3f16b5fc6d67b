//! When to ask V8 for a full GC, so that a heap verdict gets its evidence in time.
//!
//! The heap series rests on baselines (heap left after a full GC), but a busy server's V8
//! grows the heap rather than collect it: 2–3 full GCs in the first 30 s, then one every
//! 5–15 s. A leak needs five rising baselines to be told from a ramp, so that rhythm alone
//! delays the verdict by a minute or more. A memory-pressure hint (`kModerate`: V8 starts
//! incremental, mostly concurrent marking, the same kind of full GC it does on its own) makes
//! the next baseline arrive when the question is open:
//!
//! * only after the heap grew by a quarter of `min_growth` since the last baseline (an idle
//!   or flat process never gets one; a busy server's garbage gets there in a few seconds),
//!   or a listener call site gained listeners since the last full GC (the listener verdict
//!   reads counts only after full GCs, and a listener leak hardly moves the heap), and no
//!   full GC came for `interval`;
//! * `interval` adapts to what the evidence says: it halves (down to [`MIN_INTERVAL_MS`])
//!   while the baselines (or a call site's count after full GCs) rise, and doubles (up to
//!   [`MAX_INTERVAL_MS`]) while they do not. A healthy process soon gets at most one a
//!   minute, and V8's own full GCs usually come first;
//! * never shorter than [`MIN_INTERVAL_MS`] per [`HEAP_PER_MIN_INTERVAL`] of heap: marking
//!   costs time in proportion to the live heap.
//!
//! This file decides; `binding` sends the hint on the isolate's own thread.

use crate::verdict::trend::floor_margin;

/// Shortest time between two full GCs that a hint may cause: four seconds of a 0.5 MB/s
/// leak rise 2 MB, clearly above a baseline's scatter, and five baselines come in 20 s.
pub const MIN_INTERVAL_MS: u64 = 4_000;
/// Longest: even a flat process gets a baseline a minute when its heap swings widely.
pub const MAX_INTERVAL_MS: u64 = 64_000;
/// The shortest interval grows by [`MIN_INTERVAL_MS`] per this much heap (1 GB: 16 s).
pub const HEAP_PER_MIN_INTERVAL: f64 = 256.0 * 1024.0 * 1024.0;
/// Growth never below this, whatever `min_growth` says: smaller swings are the young
/// generation's own.
const MIN_GROWTH_FLOOR: f64 = 1024.0 * 1024.0;

#[derive(Debug, Clone)]
pub struct GcHints {
    /// Growth since the last baseline that makes a hint worth sending.
    growth_bar: f64,
    interval_ms: u64,
    /// The interval before the latest full GC judged it (see `on_listener_rise`).
    interval_before_gc: u64,
    /// The latest full GC: when, and the heap it left.
    last_full_gc: Option<(u64, f64)>,
    last_hint_ms: Option<u64>,
    /// Before any full GC: the first sample's time and the lowest heap seen since.
    first_sample: Option<(u64, f64)>,
}

impl GcHints {
    /// `min_growth`: the heap verdict's `min_growth_bytes`.
    pub fn new(min_growth: f64) -> GcHints {
        let quarter = min_growth / 4.0;
        GcHints {
            growth_bar: if quarter.is_finite() { quarter.max(MIN_GROWTH_FLOOR) } else { MIN_GROWTH_FLOOR },
            interval_ms: MIN_INTERVAL_MS,
            interval_before_gc: MIN_INTERVAL_MS,
            last_full_gc: None,
            last_hint_ms: None,
            first_sample: None,
        }
    }

    /// A full GC ended at `t_ms`, leaving `baseline` bytes (hinted or not).
    pub fn on_full_gc(&mut self, t_ms: u64, baseline: f64) {
        self.interval_before_gc = self.interval_ms;
        if let Some((_, previous)) = self.last_full_gc {
            let rose = baseline - previous >= floor_margin(baseline);
            self.interval_ms =
                if rose { halved(self.interval_ms) } else { (self.interval_ms * 2).min(MAX_INTERVAL_MS) };
        }
        let t = self.last_full_gc.map_or(t_ms, |(last, _)| last.max(t_ms));
        self.last_full_gc = Some((t, baseline));
    }

    /// A listener call site's count read after the latest full GC rose on the read before
    /// (known a second after the GC): that GC counts as a rise, as if its baseline had risen,
    /// whatever the baseline said.
    pub fn on_listener_rise(&mut self) {
        self.interval_ms = halved(self.interval_before_gc);
    }

    /// Whether to send a hint now, given the heap used now and whether a call site gained
    /// listeners since the last full GC; if so, it counts as sent.
    pub fn due(&mut self, now_ms: u64, heap_used: f64, listeners_grew: bool) -> bool {
        if !heap_used.is_finite() {
            return false;
        }
        let first = *self.first_sample.get_or_insert((now_ms, heap_used));
        self.first_sample = Some((first.0, first.1.min(heap_used)));
        let (since, reference) = self.last_full_gc.unwrap_or(first);
        let since = since.max(self.last_hint_ms.unwrap_or(0));
        let heap_scaled = (MIN_INTERVAL_MS as f64 * heap_used / HEAP_PER_MIN_INTERVAL) as u64;
        let interval = self.interval_ms.max(heap_scaled);
        let due =
            now_ms.saturating_sub(since) >= interval && (heap_used - reference >= self.growth_bar || listeners_grew);
        if due {
            self.last_hint_ms = Some(now_ms);
        }
        due
    }

    /// The current interval, in ms (for tests and stats).
    pub fn interval_ms(&self) -> u64 {
        self.interval_ms
    }
}

/// The interval after a rise: half, never below the least.
fn halved(interval_ms: u64) -> u64 {
    (interval_ms / 2).max(MIN_INTERVAL_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: f64 = 1e6;

    /// Samples once a second for `secs`, returning the times hints were sent; `heap(t)` is
    /// heapUsed, and every hint is answered by a full GC leaving `live(t)` one second later.
    fn run(secs: u64, heap: impl Fn(u64) -> f64, live: impl Fn(u64) -> f64) -> Vec<u64> {
        let mut hints = GcHints::new(8.0 * 1024.0 * 1024.0);
        let mut sent = Vec::new();
        let mut pending: Option<u64> = None;
        for s in 0..secs {
            let t = s * 1000;
            if pending.is_some_and(|at| t >= at + 1000) {
                hints.on_full_gc(t, live(t));
                pending = None;
            }
            if hints.due(t, heap(t), false) {
                sent.push(t);
                pending = Some(t);
            }
        }
        sent
    }

    #[test]
    fn an_idle_process_never_gets_a_hint() {
        assert!(run(600, |_| 30.0 * MB, |_| 30.0 * MB).is_empty());
    }

    #[test]
    fn a_leak_gets_a_baseline_every_few_seconds() {
        // 20 MB of garbage between GCs over a live heap rising 0.5 MB/s.
        let live = |t: u64| 30.0 * MB + 0.5 * MB * t as f64 / 1000.0;
        let sent = run(60, |t| live(t) + 20.0 * MB, live);
        // The first once the heap grew 2 MiB past the first sample, then one every 5 s (4 s
        // after each full GC, which comes a second after the hint).
        assert!(sent.len() >= 8, "{sent:?}");
        assert!(sent.windows(2).all(|w| w[1] - w[0] == MIN_INTERVAL_MS + 1000), "{sent:?}");
    }

    #[test]
    fn a_flat_heap_backs_off_to_one_a_minute() {
        let sent = run(600, |_| 60.0 * MB, |_| 30.0 * MB);
        let late = sent.iter().filter(|&&t| t >= 300_000).count();
        assert!(late <= 5, "{sent:?}");
        assert!(sent.windows(2).all(|w| w[1] - w[0] <= MAX_INTERVAL_MS + 2000), "{sent:?}");
    }

    #[test]
    fn natural_full_gcs_make_hints_unneeded() {
        let mut hints = GcHints::new(8.0 * MB);
        for s in 0..120u64 {
            let t = s * 1000;
            if s % 3 == 0 {
                hints.on_full_gc(t, 30.0 * MB);
            }
            assert!(!hints.due(t, 60.0 * MB, false), "hint at {t}");
        }
    }

    #[test]
    fn listener_growth_brings_hints_to_a_flat_heap() {
        let mut hints = GcHints::new(8.0 * MB);
        assert!(!hints.due(0, 30.0 * MB, false));
        assert!(!hints.due(5_000, 30.0 * MB, false), "a flat heap alone never gets one");
        assert!(hints.due(6_000, 30.0 * MB, true));
        // Flat baselines back off; a rise in listeners read after a GC makes that GC a rise.
        hints.on_full_gc(7_000, 30.0 * MB);
        hints.on_full_gc(11_000, 30.0 * MB);
        hints.on_full_gc(19_000, 30.0 * MB);
        assert_eq!(hints.interval_ms(), 4 * MIN_INTERVAL_MS);
        hints.on_listener_rise();
        assert_eq!(hints.interval_ms(), MIN_INTERVAL_MS, "half the interval before that GC");
        assert!(!hints.due(22_000, 30.0 * MB, true), "not within the interval");
        assert!(hints.due(23_000, 30.0 * MB, true));
    }

    #[test]
    fn a_large_heap_waits_longer() {
        let gib = 1024.0 * 1024.0 * 1024.0;
        let live = |t: u64| gib + 2.0 * MB * t as f64 / 1000.0;
        let sent = run(120, |t| live(t) + 100.0 * MB, live);
        assert!(sent.windows(2).all(|w| w[1] - w[0] >= 4 * MIN_INTERVAL_MS), "{sent:?}");
    }

    #[test]
    fn non_finite_samples_are_ignored() {
        let mut hints = GcHints::new(f64::NAN);
        assert!(!hints.due(0, f64::NAN, false));
        assert!(!hints.due(10_000, f64::INFINITY, false));
        // A NaN min_growth falls back to 1 MiB; the NaN samples left no reference behind.
        assert!(!hints.due(11_000, 10.0 * MB, false));
        assert!(hints.due(20_000, 12.0 * MB, false));
    }
}
