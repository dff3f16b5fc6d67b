//! Floor points: the lowest `heapUsed` between full GCs, kept only where the next baseline
//! shows they were informative.

use super::{MIB, SUSTAIN_SHARE};
use std::collections::VecDeque;

/// Floor points waiting for the next full GC: 5 minutes of 1 s samples.
pub(super) const MAX_PENDING_FLOOR: usize = 300;

/// How far below a baseline a floor point must lie to count, as a share of
/// the baseline (and never less than 1 MiB): what survives a full GC by
/// timing alone (objects allocated while it marks) is about 1% of the heap
/// in the processes measured.
const FLOOR_MARGIN_RATIO: f64 = 0.01;

/// Turns `heapUsed` samples into floor points, kept only when the next
/// baseline shows they were informative. See the module docs.
#[derive(Debug, Clone)]
pub(super) struct FloorSampler {
    pub(super) bucket_ms: u64,
    /// Start of the open bucket and its lowest sample so far.
    pub(super) open: Option<(u64, (u64, f64))>,
    /// Lowest samples of closed buckets, oldest first.
    pub(super) pending: VecDeque<(u64, f64)>,
    /// The last two baselines `(t, v)`, older first.
    pub(super) baselines: [Option<(u64, f64)>; 2],
}

impl FloorSampler {
    pub(super) fn new(bucket_ms: u64) -> Self {
        FloorSampler { bucket_ms, open: None, pending: VecDeque::new(), baselines: [None; 2] }
    }

    pub(super) fn sample(&mut self, t: u64, v: f64) {
        if self.baselines[1].is_some_and(|(b, _)| t <= b) {
            return; // a baseline already covers this time
        }
        match &mut self.open {
            Some((start, low)) if t < start.saturating_add(self.bucket_ms) => {
                if v < low.1 {
                    *low = (t, v);
                }
            }
            _ => {
                self.close_bucket();
                self.open = Some((t, (t, v)));
            }
        }
    }

    pub(super) fn close_bucket(&mut self) {
        if let Some((_, low)) = self.open.take() {
            if self.pending.len() >= MAX_PENDING_FLOOR {
                self.pending.pop_front();
            }
            self.pending.push_back(low);
        }
    }

    /// A baseline `(t, v)` arrived: returns the pending floor points before
    /// `t` that lie clearly below `v` (in time order) if the baselines climb
    /// steadily, and forgets the others.
    pub(super) fn settle(&mut self, t: u64, v: f64) -> Vec<(u64, f64)> {
        if self.open.is_some_and(|(_, low)| low.0 < t) {
            self.close_bucket();
        }
        let bar = v - floor_margin(v);
        let steady = self.steady_climb(t, v);
        let mut kept = Vec::new();
        while let Some(p) = self.pending.front().copied().filter(|p| p.0 < t) {
            self.pending.pop_front();
            if steady && p.1 < bar {
                kept.push(p);
            }
        }
        let later = self.baselines[1].is_none_or(|(b, _)| t >= b);
        if later {
            self.baselines = [self.baselines[1], Some((t, v))];
        }
        kept
    }

    /// The cycle ending with the baseline `(t, v)` and the one before it both
    /// rose by more than the margin, the earlier one at no less than
    /// [`SUSTAIN_SHARE`] of the later one's rate; and no floor point of this
    /// cycle lies clearly below its opening baseline, which would show the
    /// live heap fell meanwhile (the opening baseline caught a burst): no
    /// leak does that.
    pub(super) fn steady_climb(&self, t: u64, v: f64) -> bool {
        let [Some((t0, v0)), Some((t1, v1))] = self.baselines else {
            return false;
        };
        let rate = |dv: f64, from: u64, to: u64| dv / to.saturating_sub(from).max(1) as f64;
        let fell = self.pending.iter().any(|&(tp, vp)| tp > t1 && tp < t && vp < v1 - floor_margin(v1));
        v1 - v0 >= floor_margin(v1)
            && v - v1 >= floor_margin(v)
            && rate(v1 - v0, t0, t1) >= SUSTAIN_SHARE * rate(v - v1, t1, t)
            && !fell
    }
}

/// How far below a baseline of `level` a floor point must lie to count; also how far a
/// baseline must rise over the one before to count as a rise (see `gc_hint`).
pub fn floor_margin(level: f64) -> f64 {
    (FLOOR_MARGIN_RATIO * level.abs()).max(MIB)
}
