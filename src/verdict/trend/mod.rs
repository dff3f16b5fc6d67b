//! Trend verdicts for one memory series: is it stable, growing, or leaking?
//!
//! A healthy process's memory is a sawtooth over a flat floor; a leak is the
//! floor itself climbing. A window of the series is a leak when it passes
//! three tests:
//!
//! 1. **It rises**: Mann–Kendall, at the configured confidence.
//! 2. **By enough to matter**: the Theil–Sen slope times the window's span
//!    reaches `min_growth_bytes` and `min_growth_ratio` of the level.
//! 3. **The rise is sustained**: a start-up ramp, a cache filling to its
//!    cap, a step or a burst puts all of its rise in a short stretch; a leak
//!    rises all along. Two ways to see it, for two kinds of series:
//!    * **part by part**, for points all along (1 s samples): each of the
//!      [`SEGMENTS`] equal parts of the window rises (at half the overall
//!      slope or more, by two standard errors) and sits clearly above the
//!      part before. A ramp of at most half the window leaves a part flat.
//!    * **cycle by cycle**, for a heap with a few full GCs per window (one
//!      point each): every GC cycle rises clearly at a steady rate, and the
//!      rise is seen at two moments `sustain_ms / 2` apart, which no single
//!      ramp that short can explain ([`Cycles`]).
//!
//! Windows of several lengths are judged (`sustain_ms`, doubling up to
//! `window_ms`, plus the fewest latest GC cycles, four or more, that can show
//! a sustained rise): short ones catch fast leaks within seconds, long ones
//! slow leaks that no short window can tell from noise. The false-alarm budget
//! `1 - confidence` is split between them (Bonferroni), so more windows do
//! not mean more false alarms.
//!
//! The state: `warming-up` until `warmup_ms` and [`MIN_POINTS`] points;
//! `leaking` when some window passes all three tests, and for as long as the
//! rise goes on (tests 1 and 2, and the latest part or cycle still rising),
//! so a real leak does not flicker; `growing` for a significant rise still
//! going on that is not (yet) a leak; `stable` otherwise.
//!
//! # The heap: post-GC baselines, plus `heapUsed` where it is clearly lower
//!
//! The heap left after a full GC (the baseline) is the live heap, but full
//! GCs are rare exactly when it matters: V8 lets a leaking heap grow before
//! the next one, so they can be 30 s apart. `heapUsed`, sampled every second,
//! is never below the live heap, so a sample is an upper bound on it; its
//! sawtooth of uncollected garbage is what fools naive detectors. So:
//!
//! * [`Trend::push_floor_sample`] keeps the lowest `heapUsed` sample per
//!   half second as a pending *floor point*;
//! * [`Trend::push`] with the next baseline settles the pending points. If
//!   the heap only grows (the leak hypothesis), the live heap at a floor
//!   point's time was at most that point, and a point clearly below the new
//!   baseline is a tighter bound than the baseline: it joins the series.
//!   Only while the baselines themselves climb steadily (this cycle and the
//!   one before rose, at similar rates, and no floor point showed the heap
//!   falling since): within one cycle, garbage piling up before a one-off
//!   step leaves the same floor as a climb. Other points are dropped.
//!
//! Over a flat heap the sawtooth never enters the series, whatever its
//! amplitude. In a quiet process with a leak, the floor fills in the climb
//! between rare GCs. In a busy server the young generation keeps `heapUsed`
//! well above the live heap and the verdict rests on the baselines. Series
//! with no GCs (`external + arrayBuffers`, RSS) just [`Trend::push`] samples.
//!
//! # Cost
//!
//! At most [`MAX_POINTS`] points are kept (older ones are merged pairwise),
//! and a fit uses at most [`MAX_FIT_POINTS`] (averaged in groups), which
//! bounds the O(n²) Theil–Sen and Mann–Kendall work.

use std::collections::VecDeque;

mod cycles;
mod fit;
mod floor;
#[cfg(test)]
mod tests;

use cycles::Cycles;
use fit::{Fit, Judged};
pub use floor::floor_margin;
use floor::FloorSampler;

/// Equal parts a window is split into for the "sustained" test. With four, a
/// ramp of at most half a window leaves one part flat: if it starts in the
/// first quarter, it ends before the last.
pub const SEGMENTS: usize = 4;

/// Standard errors a part's slope (and its rise over the part before) must
/// clear: a flat part passes by chance ~2.3% of the time.
const SEGMENT_Z: f64 = 2.0;

/// A steady leak rises in each part at about the overall rate, a flat part at
/// about zero: each part (or GC cycle) must rise at no less than half of it.
pub const SUSTAIN_SHARE: f64 = 0.5;

/// Fewest points a window is judged on: five baselines (four GC cycles) can
/// show a sustained rise on their own ([`Cycles::null_bound`]).
pub const MIN_POINTS: usize = 5;

/// Points kept: 1 s samples in full for the last ~2 minutes, older ones
/// merged. A few KiB per series.
pub const MAX_POINTS: usize = 256;

/// Points per fit: ~8k pairs, well under a millisecond.
pub const MAX_FIT_POINTS: usize = 128;

/// At most one floor point per this many ms: half the sampler's 1 s period,
/// so timer jitter never merges two samples (capped at `sustain_ms / 4`).
const FLOOR_BUCKET_MS: u64 = 500;

/// Upper limit on the number of window lengths tried.
const MAX_SCALES: usize = 12;

/// Most points in the cycle window: beyond this many GC cycles, the time
/// windows' parts hold enough points to judge by.
const MAX_CYCLE_POINTS: usize = 32;

const MIB: f64 = 1024.0 * 1024.0;

/// Thresholds for a [`Trend`], all options (the `heap` start option) so that
/// tests can use short times.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendOptions {
    /// Longest window looked at, in ms. Also how long points are kept.
    pub window_ms: u64,
    /// Rise over a window (Theil–Sen slope × span) needed for `leaking`.
    pub min_growth_bytes: f64,
    /// Rise over a window, as a fraction of the level at its start, needed
    /// for `leaking`.
    pub min_growth_ratio: f64,
    /// Only `warming-up` until this long after the first sample.
    pub warmup_ms: u64,
    /// One-sided confidence that the series rises, e.g. 0.99, shared by all
    /// windows (see the module docs).
    pub confidence: f64,
    /// Shortest window, in ms: growth must last this long to be a leak, and
    /// growth that stops within half of it never is.
    pub sustain_ms: u64,
}

impl Default for TrendOptions {
    /// The defaults, measured on the servers and scripts of
    /// examples/workloads/ (see the README's "Heap-trend verdicts").
    fn default() -> Self {
        TrendOptions {
            // Long enough that a slow leak (~1.7 MB/min) builds up past
            // `min_growth_bytes`; short enough that a leak which stopped is
            // soon no longer reported.
            window_ms: 300_000,
            // A 0.5 MB/s leak rises 10 MB in the 20 s `sustain_ms`; smaller
            // rises are young-generation and allocator jitter.
            min_growth_bytes: 8.0 * MIB,
            // On multi-GB processes an 8 MiB wobble is noise: the bar scales
            // with the process (on typical 20-500 MB heaps the bytes decide).
            min_growth_ratio: 0.01,
            // One shortest window of data. Start-up growth is the "sustained"
            // test's job, so a leak from the first second is still reported
            // within ~30 s.
            warmup_ms: 20_000,
            // False alarms inside someone's server are expensive: at most 1
            // in 100 per verdict from the trend test alone.
            confidence: 0.99,
            // Growth that stops within 10 s (lazy init, a cache reaching its
            // cap) must never be a leak, 20 s of it must be.
            sustain_ms: 20_000,
        }
    }
}

impl TrendOptions {
    /// Out-of-range values replaced by usable ones: a bad configuration
    /// degrades the verdicts instead of breaking the process.
    fn sanitized(mut self) -> Self {
        let d = TrendOptions::default();
        self.window_ms = self.window_ms.max(1);
        self.sustain_ms = self.sustain_ms.clamp(1, self.window_ms);
        if !(self.min_growth_bytes.is_finite() && self.min_growth_bytes >= 0.0) {
            self.min_growth_bytes = d.min_growth_bytes;
        }
        if !(self.min_growth_ratio.is_finite() && self.min_growth_ratio >= 0.0) {
            self.min_growth_ratio = d.min_growth_ratio;
        }
        if !(self.confidence > 0.5 && self.confidence < 1.0) {
            self.confidence = d.confidence;
        }
        self
    }
}

/// What a series is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrendState {
    /// Not enough data yet.
    WarmingUp,
    /// No significant, recent rise.
    Stable,
    /// A significant rise still going on, too small or too short (so far)
    /// to call a leak.
    Growing,
    /// A significant, sustained rise past both growth thresholds.
    Leaking,
}

impl TrendState {
    /// The name used in logs and the JS API.
    pub fn as_str(&self) -> &'static str {
        match self {
            TrendState::WarmingUp => "warming-up",
            TrendState::Stable => "stable",
            TrendState::Growing => "growing",
            TrendState::Leaking => "leaking",
        }
    }
}

/// The judgement of a series at one moment, with the numbers behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub state: TrendState,
    /// Theil–Sen slope of the window the verdict rests on.
    pub slope_bytes_per_min: f64,
    /// Confidence that the series rises (1 - p, adjusted for the number of
    /// windows tried); comparable to [`TrendOptions::confidence`].
    pub confidence: f64,
    /// Slope × the span of that window's points.
    pub growth_bytes: f64,
    /// Time of the first point of that window.
    pub window_start_ms: u64,
}

/// A stored point. `weight` counts the raw points merged into it. `exact` is
/// true for a measurement of the series itself (a post-GC baseline, an RSS
/// sample) and false for a floor point, which is only an upper bound.
#[derive(Debug, Clone, Copy)]
struct Point {
    t: u64,
    v: f64,
    weight: u32,
    exact: bool,
}

/// One memory series and its verdict state. See the module docs.
#[derive(Debug, Clone)]
pub struct Trend {
    opts: TrendOptions,
    points: VecDeque<Point>,
    floor: FloorSampler,
    first_t: Option<u64>,
    newest_t: u64,
    /// Points ever accepted (saturating); warm-up needs [`MIN_POINTS`].
    accepted: usize,
    state: TrendState,
}

impl Trend {
    pub fn new(opts: TrendOptions) -> Self {
        let opts = opts.sanitized();
        Trend {
            floor: FloorSampler::new(FLOOR_BUCKET_MS.min(opts.sustain_ms / 4).max(1)),
            points: VecDeque::with_capacity(MAX_POINTS + 1),
            opts,
            first_t: None,
            newest_t: 0,
            accepted: 0,
            state: TrendState::WarmingUp,
        }
    }

    pub fn options(&self) -> &TrendOptions {
        &self.opts
    }

    /// Adds a measurement: a post-GC heap baseline for the heap series, any
    /// sample of `external`/`rss`. Non-finite values are ignored. Small
    /// reorderings are fine; points older than the window are dropped.
    pub fn push(&mut self, t_ms: u64, value: f64) {
        if !value.is_finite() {
            return;
        }
        for (t, v) in self.floor.settle(t_ms, value) {
            self.insert(t, v, false);
        }
        self.insert(t_ms, value, true);
    }

    /// Adds an upper bound of the series (for the heap: a `heapUsed` sample).
    /// It counts only once a later [`Trend::push`] shows it was clearly below
    /// the next baseline; see the module docs.
    pub fn push_floor_sample(&mut self, t_ms: u64, value: f64) {
        if !value.is_finite() {
            return;
        }
        self.note_time(t_ms);
        self.floor.sample(t_ms, value);
    }

    /// Judges the series as of `now_ms`.
    pub fn verdict(&mut self, now_ms: u64) -> Verdict {
        self.verdict_with(now_ms, &|_, _, _| false)
    }

    /// The steepest slope (bytes per ms) of a window whose rise is significant and sustained
    /// (part by part, or cycle by cycle), however small; None while warming up or without one.
    /// For a series that vouches for another's rise (verdict/old_heap.rs), not a verdict of its own.
    pub fn sustained_slope(&mut self, now_ms: u64) -> Option<f64> {
        self.sustained_slope_where(now_ms, &|_| true)
    }

    /// As [`Trend::sustained_slope`], among the windows whose start `accept(start_ms)` passes.
    pub fn sustained_slope_where(&mut self, now_ms: u64, accept: &dyn Fn(u64) -> bool) -> Option<f64> {
        self.evict(now_ms);
        if self.warming_up(now_ms) {
            return None;
        }
        let o = &self.opts;
        self.fits(now_ms)
            .iter()
            .filter(|f| f.slope > 0.0 && f.chance() <= f.alpha && f.is_sustained(o) && accept(f.start))
            .map(|f| f.slope)
            .reduce(f64::max)
    }

    /// Judges the series, with evidence from outside it that a window's rise is sustained:
    /// `sustained(from_ms, slope, min_span_ms)` (bytes per ms); for the heap, the old heap
    /// rising at half the slope or more (old_heap.rs, memory.rs). It stands in for the
    /// part-by-part or cycle-by-cycle test only; the rise must still be significant and big
    /// enough.
    pub fn verdict_with(&mut self, now_ms: u64, sustained: &dyn Fn(u64, f64, u64) -> bool) -> Verdict {
        self.evict(now_ms);
        let fits = self.fits(now_ms);
        let (state, chosen) = self.decide(now_ms, &fits, sustained);
        self.state = state;
        self.describe(now_ms, state, chosen)
    }

    /// Number of stored points (at most [`MAX_POINTS`]).
    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    // ---- storage ----

    fn note_time(&mut self, t: u64) {
        self.first_t = Some(self.first_t.map_or(t, |f| f.min(t)));
    }

    fn insert(&mut self, t: u64, v: f64, exact: bool) {
        self.note_time(t);
        if t.saturating_add(self.opts.window_ms) < self.newest_t {
            return; // older than anything still looked at
        }
        self.newest_t = self.newest_t.max(t);
        // Usually appends; a late point walks back to its place.
        let mut at = self.points.len();
        while at > 0 && self.points[at - 1].t > t {
            at -= 1;
        }
        self.points.insert(at, Point { t, v, weight: 1, exact });
        self.accepted = self.accepted.saturating_add(1);
        self.evict(self.newest_t);
        if self.points.len() > MAX_POINTS {
            self.compact();
        }
    }

    fn evict(&mut self, now: u64) {
        let oldest_kept = now.saturating_sub(self.opts.window_ms);
        while self.points.front().is_some_and(|p| p.t < oldest_kept) {
            self.points.pop_front();
        }
    }

    /// Merges neighbouring pairs in the older half: recent points keep full
    /// resolution, old ones get coarser, the count drops by a quarter.
    fn compact(&mut self) {
        let old_len = self.points.len() / 2;
        let mut merged = VecDeque::with_capacity(MAX_POINTS + 1);
        for pair in self.points.range(..old_len).copied().collect::<Vec<_>>().chunks(2) {
            merged.push_back(pair.iter().copied().reduce(merge).expect("chunks are never empty"));
        }
        merged.extend(self.points.range(old_len..).copied());
        self.points = merged;
    }

    // ---- judging ----

    /// Window lengths tried: `sustain_ms`, doubling, then `window_ms`.
    fn scales(&self) -> Vec<u64> {
        let mut out = Vec::new();
        let mut w = self.opts.sustain_ms;
        while w < self.opts.window_ms && out.len() < MAX_SCALES - 1 {
            out.push(w);
            w = w.saturating_mul(2);
        }
        out.push(self.opts.window_ms);
        out
    }

    /// One fit per window that has enough points, shortest first: the time
    /// windows of [`Trend::scales`], judged part by part, and the cycle
    /// window ([`Trend::cycle_window_start`]), judged cycle by cycle.
    ///
    /// Each is a test of its own with a share of the false-alarm budget
    /// (Bonferroni): half goes to the cycle window, which carries the verdict
    /// for a heap with few full GCs, half is split over the time windows.
    /// Windows holding the same points are one test.
    fn fits(&self, now: u64) -> Vec<Fit> {
        let budget = 1.0 - self.opts.confidence;
        let scales = self.scales();
        // A time window reaches back to hold MIN_POINTS points, so a sparse
        // series (rare full GCs) is judged on its shortest window rather
        // than waiting for a longer one.
        let sparse_from = self.points.len().checked_sub(MIN_POINTS).map_or(0, |i| self.points[i].t);
        let time_alpha = budget / 2.0 / scales.len() as f64;
        let mut windows: Vec<(u64, Judged, f64)> =
            scales.iter().map(|&w| (now.saturating_sub(w).min(sparse_from), Judged::ByParts, time_alpha)).collect();
        if let Some(start) = self.cycle_window_start() {
            windows.push((start, Judged::ByCycles, budget / 2.0));
        }
        let mut fits: Vec<Fit> = Vec::new();
        for (from, judged, alpha) in windows {
            let pts = self.points_from(from);
            // Windows all end now, so the same count means the same points.
            let seen = fits.iter().any(|f| f.n == pts.len() && f.judged == judged);
            if pts.len() >= MIN_POINTS && !seen {
                fits.extend(Fit::new(&pts, judged, alpha));
            }
        }
        // Latest start first: the shortest window gets the first say.
        fits.sort_by_key(|f| std::cmp::Reverse(f.start));
        fits
    }

    /// Start of the fewest latest GC cycles that could show a sustained rise:
    /// at least four (the fewest whose rise alone is significant at the default
    /// 99%, see [`Cycles::null_bound`]) and spanning enough time ([`Cycles::spans`]).
    /// It depends on when points came, never on their values, so it is one
    /// more test, not a search.
    fn cycle_window_start(&self) -> Option<u64> {
        let exact: Vec<u64> = self.points.iter().filter(|p| p.exact).map(|p| p.t).collect();
        (MIN_POINTS..=exact.len().min(MAX_CYCLE_POINTS))
            .map(|n| exact[exact.len() - n])
            .find(|&start| Cycles::new(&self.points_from(start), start).spans(self.opts.sustain_ms as f64))
    }

    fn points_from(&self, from: u64) -> Vec<Point> {
        self.points.iter().filter(|p| p.t >= from).copied().collect()
    }

    fn warming_up(&self, now: u64) -> bool {
        let started = self.first_t.unwrap_or(now);
        now < started.saturating_add(self.opts.warmup_ms) || self.accepted < MIN_POINTS
    }

    /// The state machine. Entering `leaking` needs a sustained rise in some
    /// window; staying there only needs the rise to go on (significant,
    /// large enough, and still rising in the latest part), so a real leak
    /// does not flicker when one part of a window happens to be noisy.
    fn decide<'a>(
        &self,
        now: u64,
        fits: &'a [Fit],
        sustained: &dyn Fn(u64, f64, u64) -> bool,
    ) -> (TrendState, Option<&'a Fit>) {
        if self.warming_up(now) {
            return (TrendState::WarmingUp, fits.last());
        }
        let o = &self.opts;
        let shown_elsewhere = |f: &&Fit| f.is_significant_rise(o) && sustained(f.start, f.slope, o.sustain_ms);
        if let Some(f) = fits.iter().find(|f| f.is_leak(o)).or_else(|| fits.iter().find(shown_elsewhere)) {
            return (TrendState::Leaking, Some(f));
        }
        let still_rising = |f: &&Fit| f.is_rising() && f.recent_rise();
        let held = fits.iter().filter(still_rising).find(|f| f.is_big(o));
        if let (TrendState::Leaking, Some(f)) = (self.state, held) {
            return (TrendState::Leaking, Some(f));
        }
        match fits.iter().filter(still_rising).min_by(|a, b| a.p.total_cmp(&b.p)) {
            Some(f) => (TrendState::Growing, Some(f)),
            None => (TrendState::Stable, fits.last()),
        }
    }

    fn describe(&self, now: u64, state: TrendState, fit: Option<&Fit>) -> Verdict {
        match fit {
            Some(f) => Verdict {
                state,
                slope_bytes_per_min: finite(f.slope * 60_000.0),
                confidence: finite(f.confidence(&self.opts)),
                growth_bytes: finite(f.growth),
                window_start_ms: f.start,
            },
            None => Verdict {
                state,
                slope_bytes_per_min: 0.0,
                confidence: 0.0,
                growth_bytes: 0.0,
                window_start_ms: self.points.front().map_or(now.saturating_sub(self.opts.window_ms), |p| p.t),
            },
        }
    }
}

/// Never let NaN or infinity out.
fn finite(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// Weighted average of two points.
fn merge(a: Point, b: Point) -> Point {
    let (wa, wb) = (a.weight as f64, b.weight as f64);
    let w = wa + wb;
    Point {
        t: ((a.t as f64 * wa + b.t as f64 * wb) / w).round() as u64,
        v: (a.v * wa + b.v * wb) / w,
        weight: a.weight.saturating_add(b.weight),
        exact: a.exact && b.exact,
    }
}
