//! GC telemetry for one isolate: counts and pause histograms per kind, since the last log
//! line and since start, and the baseline (heap used after each full GC) with its history.

use crate::gc_record::{GcKind, GC_KIND_COUNT};
use crate::histogram::PauseHistogram;
use serde_json::{json, Map, Value};
use std::collections::VecDeque;

/// Baselines kept for trend work and `stats()`; older ones are dropped (bounded memory).
pub const BASELINE_HISTORY: usize = 512;

/// Upper bounds (seconds) of the pause buckets in `stats().gcPauseBuckets`: prom-client's
/// defaults for `nodejs_gc_duration_seconds`, so dashboards built for it read ours unchanged.
pub const PAUSE_BUCKETS_S: [f64; 6] = [0.001, 0.01, 0.1, 1.0, 2.0, 5.0];

/// One GC, whatever its source (the V8 shim or perf_hooks), in epoch time.
#[derive(Clone, Copy, Debug)]
pub struct GcEvent {
    pub kind: GcKind,
    pub end_ms: f64,
    pub duration_ns: u64,
    /// Heap used after a full GC, when known.
    pub baseline: Option<u64>,
    /// Heap used before it (V8 source only).
    pub heap_before: Option<u64>,
}

#[derive(Default)]
struct Pauses {
    kinds: [PauseHistogram; GC_KIND_COUNT],
    /// Memory-pressure hints sent to V8 (see `gc_hint`).
    hints: u64,
}

impl Pauses {
    fn record(&mut self, kind: GcKind, ns: u64) {
        self.kinds[kind as usize].record_ns(ns);
    }

    fn reset(&mut self) {
        self.kinds.iter_mut().for_each(PauseHistogram::reset);
        self.hints = 0;
    }

    fn count(&self) -> u64 {
        self.kinds.iter().map(PauseHistogram::count).sum()
    }

    /// `{count, pauseMs, kinds}`, listing only kinds that were seen.
    fn to_json(&self) -> Value {
        let mut all = PauseHistogram::default();
        let mut kinds = Map::new();
        for kind in GcKind::ALL {
            let h = &self.kinds[kind as usize];
            if h.count() == 0 {
                continue;
            }
            all.add(h);
            kinds.insert(
                kind.name().into(),
                json!({"count": h.count(), "p50": h.p50_ms(), "p99": h.p99_ms(), "max": h.max_ms(), "totalMs": h.total_ms()}),
            );
        }
        json!({"count": all.count(), "pauseMs": all.summary(), "kinds": kinds, "hints": self.hints})
    }
}

#[derive(Default)]
pub struct GcStats {
    interval: Pauses,
    since_start: Pauses,
    baselines: VecDeque<(f64, u64)>,
    /// Freed by the latest full GC (before − after), V8 source only.
    last_full_gc_freed: Option<u64>,
}

impl GcStats {
    pub fn record(&mut self, event: GcEvent) {
        self.interval.record(event.kind, event.duration_ns);
        self.since_start.record(event.kind, event.duration_ns);
        if let Some(after) = event.baseline {
            if self.baselines.len() == BASELINE_HISTORY {
                self.baselines.pop_front();
            }
            self.baselines.push_back((event.end_ms, after));
            self.last_full_gc_freed = event.heap_before.map(|before| before.saturating_sub(after));
        }
    }

    /// A memory-pressure hint was sent to V8.
    pub fn record_hint(&mut self) {
        self.interval.hints += 1;
        self.since_start.hints += 1;
    }

    pub fn total_count(&self) -> u64 {
        self.since_start.count()
    }

    pub fn count_of(&self, kind: GcKind) -> u64 {
        self.since_start.kinds[kind as usize].count()
    }

    /// Heap used after the latest full GC, and when (epoch ms).
    pub fn baseline(&self) -> Option<(f64, u64)> {
        self.baselines.back().copied()
    }

    pub fn baselines(&self) -> impl Iterator<Item = &(f64, u64)> {
        self.baselines.iter()
    }

    pub fn last_full_gc_freed(&self) -> Option<u64> {
        self.last_full_gc_freed
    }

    pub fn pause_histogram(&self, kind: GcKind) -> &PauseHistogram {
        &self.since_start.kinds[kind as usize]
    }

    /// Every GC since start as cumulative bucket counts, per kind seen:
    /// `{le: [0.001, …], kinds: {scavenge: {buckets: [..], count, sumSeconds}, …}}`.
    /// Computed here because only the histograms hold every pause.
    pub fn pause_buckets_json(&self) -> Value {
        let mut kinds = Map::new();
        for kind in GcKind::ALL {
            let h = &self.since_start.kinds[kind as usize];
            if h.count() == 0 {
                continue;
            }
            kinds.insert(
                kind.name().into(),
                json!({"buckets": h.cumulative_counts(&PAUSE_BUCKETS_S), "count": h.count(), "sumSeconds": h.total_seconds()}),
            );
        }
        json!({"le": PAUSE_BUCKETS_S, "kinds": kinds})
    }

    /// The `gc` object of a log line. With `end_interval`, the interval figures restart.
    pub fn to_json(&mut self, dropped: u64, end_interval: bool) -> Value {
        let mut gc = self.interval.to_json();
        gc["sinceStart"] = self.since_start.to_json();
        gc["dropped"] = json!(dropped);
        if end_interval {
            self.interval.reset();
        }
        gc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: GcKind, ms: u64, baseline: Option<u64>) -> GcEvent {
        GcEvent { kind, end_ms: 1000.0, duration_ns: ms * 1_000_000, baseline, heap_before: baseline.map(|b| b + 100) }
    }

    #[test]
    fn counts_per_kind_interval_and_total() {
        let mut s = GcStats::default();
        s.record(ev(GcKind::Scavenge, 1, None));
        s.record(ev(GcKind::Scavenge, 2, None));
        s.record(ev(GcKind::MarkSweepCompact, 10, Some(5_000)));
        let gc = s.to_json(3, true);
        assert_eq!(gc["count"], 3);
        assert_eq!(gc["kinds"]["scavenge"]["count"], 2);
        assert_eq!(gc["kinds"]["markSweepCompact"]["max"], 10.0);
        assert!(gc["kinds"].get("weakCallbacks").is_none(), "unseen kinds are omitted");
        assert_eq!(gc["dropped"], 3);
        // The interval restarts, the totals do not.
        s.record(ev(GcKind::Scavenge, 1, None));
        let gc = s.to_json(3, true);
        assert_eq!(gc["count"], 1);
        assert_eq!(gc["sinceStart"]["count"], 4);
        assert_eq!(s.baseline(), Some((1000.0, 5_000)));
        assert_eq!(s.last_full_gc_freed(), Some(100));
    }

    #[test]
    fn pause_buckets_count_every_gc_since_start() {
        let mut s = GcStats::default();
        s.record(ev(GcKind::Scavenge, 0, None)); // under 1 ms
        s.record(ev(GcKind::Scavenge, 3, None));
        s.record(ev(GcKind::MarkSweepCompact, 1500, Some(1)));
        s.to_json(0, true); // a log line in between must not reset them
        let b = s.pause_buckets_json();
        assert_eq!(b["le"], json!([0.001, 0.01, 0.1, 1.0, 2.0, 5.0]));
        assert_eq!(b["kinds"]["scavenge"]["buckets"], json!([1, 2, 2, 2, 2, 2]));
        assert_eq!(b["kinds"]["scavenge"]["count"], 2);
        assert_eq!(b["kinds"]["markSweepCompact"]["buckets"], json!([0, 0, 0, 0, 1, 1]));
        assert_eq!(b["kinds"]["markSweepCompact"]["sumSeconds"], 1.5);
        assert!(b["kinds"].get("weakCallbacks").is_none());
    }

    #[test]
    fn baseline_history_is_bounded() {
        let mut s = GcStats::default();
        for i in 0..(BASELINE_HISTORY as u64 + 50) {
            s.record(ev(GcKind::MarkSweepCompact, 1, Some(i)));
        }
        assert_eq!(s.baselines().count(), BASELINE_HISTORY);
        assert_eq!(s.baseline().unwrap().1, BASELINE_HISTORY as u64 + 49);
    }
}
