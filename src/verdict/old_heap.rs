//! The old heap: what the sampling heap profile still holds of allocations made more than
//! [`SURVIVOR_AGE_MS`] ago, read by read, judged as a trend series of its own.
//!
//! V8 numbers its samples in allocation order and drops a sample when its object dies. Each
//! read of the profile (alloc_sites.rs, every 5-10 s) notes the highest id so far, so a later
//! read can tell which of its live samples were allocated before a given earlier read.
//!
//! A healthy server's allocations mostly die within seconds (a request, a batch, a tooth of
//! the sawtooth), and what lives longer (a full LRU cache, sessions) is replaced as fast as
//! it is added: the old heap holds still. A leak's allocations never die: the old heap climbs.
//! Where the post-GC baselines swing by tens of MB with the live young objects (a slow leak
//! under a noisy sawtooth), the old heap shows the climb without them; the heap verdict takes
//! its sustained rise as the evidence the baselines cannot give part by part (memory.rs).

use crate::alloc_sites::LiveSample;
use crate::verdict::trend::{Trend, TrendOptions, Verdict};
use std::collections::VecDeque;

/// Age from which an allocation counts in the old heap: well past a request's, a batch's or a
/// young-generation cycle's lifetime (a noisy sawtooth's batches were all gone by 15 s).
pub const SURVIVOR_AGE_MS: u64 = 30_000;
/// Read boundaries kept: more than [`SURVIVOR_AGE_MS`] of reads at 5 s.
const KEEP_BOUNDARIES: usize = 16;

#[derive(Debug)]
pub struct Survivors {
    /// `(read time, highest sample id seen by then)`, oldest first.
    boundaries: VecDeque<(u64, u64)>,
    /// Live sampled bytes allocated at least [`SURVIVOR_AGE_MS`] before each read.
    old: Trend,
}

impl Default for Survivors {
    fn default() -> Survivors {
        Survivors::new(&TrendOptions::default())
    }
}

impl Survivors {
    /// `opts`: the heap series' thresholds, which the old heap is judged by too.
    pub fn new(opts: &TrendOptions) -> Survivors {
        Survivors { boundaries: VecDeque::new(), old: Trend::new(opts.clone()) }
    }

    /// A read of the profile at `at_ms`, with its live samples.
    pub fn on_read(&mut self, at_ms: u64, samples: &[LiveSample]) {
        if self.boundaries.back().is_some_and(|b| at_ms <= b.0) {
            return; // a read at the same time (or a clock step back) tells nothing new
        }
        let seen = self.boundaries.back().map_or(0, |b| b.1);
        self.boundaries.push_back((at_ms, samples.iter().map(|s| s.id).fold(seen, u64::max)));
        // The latest read at least SURVIVOR_AGE_MS old: ids up to its highest are old now.
        let aged = self.boundaries.iter().rev().find(|b| b.0 + SURVIVOR_AGE_MS <= at_ms).copied();
        while self.boundaries.len() > KEEP_BOUNDARIES && self.boundaries[1].0 + SURVIVOR_AGE_MS <= at_ms {
            self.boundaries.pop_front();
        }
        if let Some((_, highest_old)) = aged {
            let old: u64 = samples.iter().filter(|s| s.id <= highest_old).map(|s| s.bytes).sum();
            self.old.push(at_ms, old as f64);
        }
    }

    /// The old heap as of `now_ms`: its verdict, and the slope of its steepest significant,
    /// sustained rise (bytes per ms), however small (Trend::sustained_slope).
    pub fn judge(&mut self, now_ms: u64) -> (Verdict, Option<f64>) {
        (self.old.verdict(now_ms), self.old.sustained_slope(now_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::trend::TrendState;

    const S: u64 = 1000;
    /// A sample stands for about this many bytes (V8's default interval).
    const SAMPLE: u64 = 512 * 1024;

    /// Reads every 5 s for `secs`, one sample allocated every `every` s from second `start`
    /// (before 0: the process was running before the profiler started); `alive(t, now)`: the
    /// sample allocated at t still lives at the read at `now`. The first second the old heap
    /// is `leaking`, if it ever is.
    fn first_leak_from(start: f64, secs: u64, every: f64, alive: impl Fn(f64, f64) -> bool) -> Option<u64> {
        let mut survivors = Survivors::new(&TrendOptions::default());
        let allocated: Vec<(u64, f64)> =
            (0..).map(|i| (i as u64 + 1, start + i as f64 * every)).take_while(|&(_, t)| t < secs as f64).collect();
        for now in (5..=secs).step_by(5) {
            let live: Vec<LiveSample> = allocated
                .iter()
                .filter(|&&(_, t)| t <= now as f64 && alive(t, now as f64))
                .map(|&(id, _)| LiveSample { id, bytes: SAMPLE })
                .collect();
            survivors.on_read(now * S, &live);
            if survivors.judge(now * S).0.state == TrendState::Leaking {
                return Some(now);
            }
        }
        None
    }

    fn first_leak(secs: u64, every: f64, alive: impl Fn(f64, f64) -> bool) -> Option<u64> {
        first_leak_from(0.0, secs, every, alive)
    }

    #[test]
    fn a_slow_leak_under_a_sawtooth_climbs_in_the_old_heap() {
        // ~0.1 MB/s kept for good (a sample in 5 s) beside a batch a second that dies in 8 s:
        // the baselines swing by the batches, the old heap only climbs.
        let leak = first_leak(240, 1.0, |t, now| (t as u64).is_multiple_of(5) || now - t < 8.0);
        assert!(leak.is_some_and(|at| at <= 180), "{leak:?}");
        // The batches alone: nothing lives 30 s.
        assert_eq!(first_leak(300, 1.0, |_, _| false), None);
        assert_eq!(first_leak(300, 0.05, |t, now| now - t < 8.0), None);
    }

    #[test]
    fn a_full_cache_a_quickly_filled_one_and_steady_sessions_hold_still() {
        // An LRU cache, full from before the start: each entry lives 200 s (2 MB/s in and out).
        assert_eq!(first_leak_from(-300.0, 300, 0.25, |t, now| now - t < 200.0), None);
        // The same cache filling from the start is 200 s of climb: a leak until it is full.
        assert!(first_leak(300, 0.25, |t, now| now - t < 200.0).is_some());
        // A cache filling within 10 s (from 20 s on), then kept: growth that stops within
        // half of `sustain_ms` is never a leak, in the old heap as in the heap.
        assert_eq!(first_leak(300, 0.25, |t, _| (20.0..30.0).contains(&t)), None);
        // Sessions that live 60 s, in a steady state: as many end as begin.
        assert_eq!(first_leak_from(-300.0, 300, 0.5, |t, now| now - t < 60.0), None);
    }

    #[test]
    fn reads_at_the_same_time_add_nothing_and_history_is_bounded() {
        let mut survivors = Survivors::new(&TrendOptions::default());
        for i in 0..500u64 {
            let samples = [LiveSample { id: i + 1, bytes: SAMPLE }];
            survivors.on_read(i * 5 * S, &samples);
            survivors.on_read(i * 5 * S, &samples);
        }
        assert!(survivors.boundaries.len() <= KEEP_BOUNDARIES);
        assert_eq!(survivors.boundaries.back(), Some(&(499 * 5 * S, 500)));
    }
}
