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

use crate::slope::{mann_kendall, median, sen_intercept, theil_sen_slope};

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

/// Floor points waiting for the next full GC: 5 minutes of 1 s samples.
const MAX_PENDING_FLOOR: usize = 300;

/// How far below a baseline a floor point must lie to count, as a share of
/// the baseline (and never less than 1 MiB): what survives a full GC by
/// timing alone (objects allocated while it marks) is about 1% of the heap
/// in the processes measured.
const FLOOR_MARGIN_RATIO: f64 = 0.01;

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
    /// For a series that vouches for another's rise (survivors.rs), not a verdict of its own.
    pub fn sustained_slope(&mut self, now_ms: u64) -> Option<f64> {
        self.evict(now_ms);
        if self.warming_up(now_ms) {
            return None;
        }
        let o = &self.opts;
        self.fits(now_ms)
            .iter()
            .filter(|f| f.slope > 0.0 && f.chance() <= f.alpha && f.is_sustained(o))
            .map(|f| f.slope)
            .reduce(f64::max)
    }

    /// Judges the series, with evidence from outside it that a window's rise is sustained:
    /// `sustained(from_ms, slope, min_span_ms)` (bytes per ms); for the heap, the old heap
    /// rising at half the slope or more (survivors.rs, trends.rs). It stands in for the
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

/// The two ways a window's rise is checked for being sustained; see the
/// module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Judged {
    /// [`SEGMENTS`] equal parts of the window (time windows).
    ByParts,
    /// Every GC cycle (the cycle window).
    ByCycles,
}

/// The statistics of one window.
#[derive(Debug, Clone)]
struct Fit {
    start: u64,
    n: usize,
    /// Theil–Sen slope, bytes per ms.
    slope: f64,
    /// One-sided Mann–Kendall p-value for a rise (not yet adjusted).
    p: f64,
    /// `slope` × span of the points.
    growth: f64,
    /// Fitted level at the first point.
    level: f64,
    /// Each part's slope and level (`None`: too few points to tell).
    segments: [Option<Segment>; SEGMENTS],
    /// The same window, cycle by cycle.
    cycles: Cycles,
    judged: Judged,
    /// This window's share of the false-alarm budget; see [`Trend::fits`].
    alpha: f64,
}

/// One part of a window: its slope and level (median value), each with its
/// standard error.
#[derive(Debug, Clone, Copy)]
struct Segment {
    slope: f64,
    std_err: f64,
    level: f64,
    level_err: f64,
}

impl Fit {
    fn new(points: &[Point], judged: Judged, alpha: f64) -> Option<Fit> {
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

    fn is_rising(&self) -> bool {
        self.slope > 0.0 && self.p <= self.alpha
    }

    fn is_big(&self, o: &TrendOptions) -> bool {
        self.growth >= o.min_growth_bytes && self.growth >= o.min_growth_ratio * self.level.abs()
    }

    /// The chance that noise alone looks like this window: the Mann–Kendall
    /// p-value or, in the cycle window when every cycle rises in step, the
    /// cycle test's own bound if smaller.
    fn chance(&self) -> f64 {
        match self.judged {
            Judged::ByCycles if self.cycles.sustained() => self.p.min(self.cycles.null_bound()),
            _ => self.p,
        }
    }

    /// Confidence that the series rises, on the scale of
    /// [`TrendOptions::confidence`]: the chance, scaled by this window's share
    /// of the false-alarm budget.
    fn confidence(&self, o: &TrendOptions) -> f64 {
        let budget = 1.0 - o.confidence;
        (1.0 - self.chance() * budget / self.alpha).clamp(0.0, 1.0)
    }

    /// A leak: rising, by enough, and sustained: part by part in a time
    /// window, cycle by cycle in the cycle window.
    fn is_leak(&self, o: &TrendOptions) -> bool {
        self.is_sustained(o) && self.is_significant_rise(o)
    }

    /// The rise is sustained: part by part in a time window, cycle by cycle in the cycle window.
    fn is_sustained(&self, o: &TrendOptions) -> bool {
        match self.judged {
            Judged::ByParts => self.parts_sustained(),
            Judged::ByCycles => self.cycles.sustained() && self.cycles.spans(o.sustain_ms as f64),
        }
    }

    /// Rising, significantly (within this window's share of the budget), by enough.
    fn is_significant_rise(&self, o: &TrendOptions) -> bool {
        self.slope > 0.0 && self.is_big(o) && self.chance() <= self.alpha
    }

    /// Every part rises at no less than [`SUSTAIN_SHARE`] of the overall
    /// slope and clearly more than its own noise (a flat part that looks
    /// steep by chance must not pass), and sits clearly above the part before
    /// (a sawtooth rises inside every part, but its level does not move).
    fn parts_sustained(&self) -> bool {
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
    fn recent_rise(&self) -> bool {
        let bar = SUSTAIN_SHARE * self.slope;
        match self.segments[SEGMENTS - 1] {
            Some(s) => s.slope >= bar,
            None => self.cycles.last_rate().is_some_and(|r| r >= bar),
        }
    }
}

/// A window seen cycle by cycle: its exact points (for the heap, one
/// baseline per full GC), and when the last cycle's latest floor point was.
///
/// A rise from one exact point to the next shows growth *inside* that cycle.
/// A floor point that was kept lay clearly below the next baseline: the heap
/// still had to grow *after* it.
#[derive(Debug, Clone, Default)]
struct Cycles {
    /// `(t, v)` of the exact points, `t` in ms from the window's start.
    exact: Vec<(f64, f64)>,
    /// Time of the latest floor point inside the last cycle.
    last_floor: Option<f64>,
}

impl Cycles {
    fn new(points: &[Point], start: u64) -> Cycles {
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

    fn count(&self) -> usize {
        self.exact.len().saturating_sub(1)
    }

    /// At least two cycles, and every one rises by clearly more than the
    /// points' scatter (two standard errors of a difference of two points)
    /// and by not clearly less than [`SUSTAIN_SHARE`] of the slope over its
    /// length. ("Not clearly less" matters for short cycles: a second or two
    /// of a steady leak is within the scatter.)
    fn sustained(&self) -> bool {
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
    fn spans(&self, sustain_ms: f64) -> bool {
        let k = self.count();
        if k < 2 {
            return false;
        }
        let first_end = self.exact[1].0;
        let last_start = self.last_floor.unwrap_or(0.0).max(self.exact[k - 1].0);
        last_start - first_end >= sustain_ms / 2.0 && self.exact[k].0 - self.exact[0].0 >= sustain_ms
    }

    /// Rate of the latest cycle, bytes per ms.
    fn last_rate(&self) -> Option<f64> {
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
    fn null_bound(&self) -> f64 {
        2.0 * 10f64.powi(1 - self.count().min(300) as i32)
    }
}

/// Averages consecutive groups so at most `max` points remain.
fn thin(points: Vec<(f64, f64)>, max: usize) -> Vec<(f64, f64)> {
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
fn robust_noise(xy: &[(f64, f64)], slope: f64, level: f64) -> f64 {
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

/// Turns `heapUsed` samples into floor points, kept only when the next
/// baseline shows they were informative. See the module docs.
#[derive(Debug, Clone)]
struct FloorSampler {
    bucket_ms: u64,
    /// Start of the open bucket and its lowest sample so far.
    open: Option<(u64, (u64, f64))>,
    /// Lowest samples of closed buckets, oldest first.
    pending: VecDeque<(u64, f64)>,
    /// The last two baselines `(t, v)`, older first.
    baselines: [Option<(u64, f64)>; 2],
}

impl FloorSampler {
    fn new(bucket_ms: u64) -> Self {
        FloorSampler { bucket_ms, open: None, pending: VecDeque::new(), baselines: [None; 2] }
    }

    fn sample(&mut self, t: u64, v: f64) {
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

    fn close_bucket(&mut self) {
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
    fn settle(&mut self, t: u64, v: f64) -> Vec<(u64, f64)> {
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
    fn steady_climb(&self, t: u64, v: f64) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes in a (decimal) megabyte: leak rates are quoted in MB/s.
    const MB: f64 = 1e6;

    // ---- a small seeded PRNG (SplitMix64) ----

    struct Rng(u64);

    impl Rng {
        fn new(seed: u64) -> Self {
            Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
        }

        fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// Uniform in [0, 1).
        fn unit(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
        }

        fn range(&mut self, lo: f64, hi: f64) -> f64 {
            lo + (hi - lo) * self.unit()
        }

        /// Standard normal (Box–Muller).
        fn normal(&mut self) -> f64 {
            let u1 = self.unit().max(1e-300);
            let u2 = self.unit();
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        }

        fn pick(&mut self, n: usize) -> usize {
            (self.next_u64() % n as u64) as usize
        }
    }

    // ---- synthetic memory ----

    /// A change of the underlying level (live heap, rss, external).
    #[derive(Debug, Clone)]
    enum Part {
        /// Linear rise of `total` bytes over `secs` from `start`: warm-up,
        /// lazy init, a cache filling to its cap; `secs` = 0 is a step.
        Ramp { start: f64, secs: f64, total: f64 },
        /// A cache approaching its cap exponentially (time constant `tau`).
        Fill { start: f64, tau: f64, total: f64 },
        /// A leak of `rate` bytes/s from `start`, optionally stopping.
        Leak { start: f64, rate: f64, stop: f64 },
        /// Temporary extra memory while a burst of load lasts.
        Burst { start: f64, secs: f64, height: f64 },
        /// A sawtooth directly in the series: rises by `height` over
        /// `period` seconds, then drops back (buffers freed by a GC).
        Saw { period: f64, height: f64 },
    }

    impl Part {
        fn at(&self, t: f64) -> f64 {
            match *self {
                Part::Ramp { start, secs, total } if t >= start => {
                    if secs <= 0.0 {
                        total
                    } else {
                        total * ((t - start) / secs).min(1.0)
                    }
                }
                Part::Fill { start, tau, total } if t >= start => total * (1.0 - (-(t - start) / tau).exp()),
                Part::Leak { start, rate, stop } if t >= start => rate * (t.min(stop) - start),
                Part::Burst { start, secs, height } if t >= start && t < start + secs => height,
                Part::Saw { period, height } => height * (t / period).fract(),
                _ => 0.0,
            }
        }
    }

    /// How the series is observed.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Kind {
        /// `external`/`rss`: a 1 s sample of the level plus noise.
        Direct,
        /// The heap: 1 s `heapUsed` samples (level + uncollected garbage +
        /// young generation) and a baseline at each full GC.
        Heap,
    }

    #[derive(Debug, Clone)]
    struct Sim {
        kind: Kind,
        base: f64,
        parts: Vec<Part>,
        /// Gaussian noise of the level (request-scoped data, allocator).
        noise: f64,
        /// Heap only: a full GC runs when garbage reaches a random amount in
        /// `[0.6, 1.4] × sawtooth`, which comes in at `sawtooth / period`.
        sawtooth: f64,
        period: f64,
        /// Heap only: young-generation occupancy, uniform in `[0, young]`.
        young: f64,
    }

    impl Sim {
        fn direct(base_mb: f64, noise_mb: f64) -> Self {
            Sim {
                kind: Kind::Direct,
                base: base_mb * MB,
                parts: Vec::new(),
                noise: noise_mb * MB,
                sawtooth: 0.0,
                period: 1.0,
                young: 0.0,
            }
        }

        fn heap(base_mb: f64, sawtooth_mb: f64, period_s: f64) -> Self {
            Sim {
                kind: Kind::Heap,
                base: base_mb * MB,
                parts: Vec::new(),
                noise: 0.3 * MB,
                sawtooth: sawtooth_mb * MB,
                period: period_s.max(1.0),
                young: 4.0 * MB,
            }
        }

        fn with(mut self, part: Part) -> Self {
            self.parts.push(part);
            self
        }

        fn noise(mut self, mb: f64) -> Self {
            self.noise = mb * MB;
            self
        }

        fn level(&self, t: f64) -> f64 {
            self.base + self.parts.iter().map(|p| p.at(t)).sum::<f64>()
        }
    }

    /// One observation fed to a `Trend`.
    #[derive(Debug, Clone, Copy)]
    enum Obs {
        /// `Trend::push`: a direct sample or a post-GC baseline.
        Push(u64, f64),
        /// `Trend::push_floor_sample`: a `heapUsed` sample.
        Floor(u64, f64),
    }

    /// Everything the simulated process reports, second by second, for
    /// `secs` seconds. Inner vector: observations up to and including that
    /// second, in the order they are delivered.
    fn observe(sim: &Sim, seed: u64, secs: u64) -> Vec<Vec<Obs>> {
        let mut rng = Rng::new(seed);
        let mut out = Vec::with_capacity(secs as usize + 1);
        let rate = sim.sawtooth / sim.period;
        let mut garbage = 0.0;
        let mut trigger = sim.sawtooth * rng.range(0.6, 1.4);
        for s in 0..=secs {
            let t = s as f64;
            let mut now = Vec::new();
            match sim.kind {
                Kind::Direct => {
                    let v = sim.level(t) + sim.noise * rng.normal();
                    now.push(Obs::Push(s * 1000, v));
                }
                Kind::Heap => {
                    garbage += rate;
                    if garbage >= trigger {
                        // A full GC somewhere in the last second.
                        let tg = t - rng.unit();
                        let baseline = sim.level(tg) + sim.noise * rng.normal();
                        now.push(Obs::Push((tg * 1000.0) as u64, baseline));
                        garbage = rate * (t - tg);
                        trigger = sim.sawtooth * rng.range(0.6, 1.4);
                    }
                    let live = sim.level(t) + sim.noise * rng.normal();
                    let used = live + garbage + sim.young * rng.unit();
                    now.push(Obs::Floor(s * 1000, used));
                }
            }
            out.push(now);
        }
        out
    }

    fn default_opts() -> TrendOptions {
        TrendOptions::default()
    }

    /// Seconds at which each detector first reports a leak.
    #[derive(Debug, Default, Clone, Copy)]
    struct Outcome {
        ours: Option<f64>,
        memwatch: Option<f64>,
        naive: Option<f64>,
    }

    /// memwatch's rule: a leak after 5 consecutive full GCs each ending
    /// above the previous one; any GC that does not grow resets the count.
    #[derive(Default)]
    struct Memwatch {
        last: Option<f64>,
        run: u32,
    }

    impl Memwatch {
        fn gc(&mut self, baseline: f64) -> bool {
            let grew = self.last.is_some_and(|l| baseline > l);
            self.run = if grew { self.run + 1 } else { 0 };
            self.last = Some(baseline);
            self.run >= 5
        }
    }

    /// A naive detector: least-squares slope of `heapUsed` (or of the
    /// samples) over the last 60 s; a leak when it exceeds 0.25 MB/s.
    #[derive(Default)]
    struct Naive {
        samples: VecDeque<(f64, f64)>,
    }

    impl Naive {
        const WINDOW_S: f64 = 60.0;
        const RATE: f64 = 0.25 * MB;

        fn sample(&mut self, t: f64, v: f64) -> bool {
            self.samples.push_back((t, v));
            while self.samples.front().is_some_and(|p| p.0 < t - Self::WINDOW_S) {
                self.samples.pop_front();
            }
            self.samples.len() >= 20 && least_squares_slope(&self.samples) >= Self::RATE
        }
    }

    fn least_squares_slope(points: &VecDeque<(f64, f64)>) -> f64 {
        let n = points.len() as f64;
        let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
        let my = points.iter().map(|p| p.1).sum::<f64>() / n;
        let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let sxx: f64 = points.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
        if sxx > 0.0 {
            sxy / sxx
        } else {
            0.0
        }
    }

    /// Feeds a simulation to a `Trend` (and to the two reference detectors),
    /// asking for a verdict every `every` seconds.
    fn run_with(sim: &Sim, seed: u64, secs: u64, opts: TrendOptions, every: u64) -> Outcome {
        let mut trend = Trend::new(opts);
        let mut memwatch = Memwatch::default();
        let mut naive = Naive::default();
        let mut out = Outcome::default();
        for (s, batch) in observe(sim, seed, secs).into_iter().enumerate() {
            let t = s as f64;
            for obs in batch {
                match obs {
                    Obs::Push(ms, v) => {
                        trend.push(ms, v);
                        if sim.kind == Kind::Heap && memwatch.gc(v) {
                            out.memwatch.get_or_insert(t);
                        }
                        if sim.kind == Kind::Direct && naive.sample(t, v) {
                            out.naive.get_or_insert(t);
                        }
                    }
                    Obs::Floor(ms, v) => {
                        trend.push_floor_sample(ms, v);
                        if naive.sample(t, v) {
                            out.naive.get_or_insert(t);
                        }
                    }
                }
            }
            if (s as u64).is_multiple_of(every) {
                let v = trend.verdict(s as u64 * 1000);
                check_finite(&v);
                if v.state == TrendState::Leaking {
                    out.ours.get_or_insert(t);
                }
            }
        }
        out
    }

    fn run(sim: &Sim, seed: u64, secs: u64) -> Outcome {
        run_with(sim, seed, secs, default_opts(), 1)
    }

    fn check_finite(v: &Verdict) {
        assert!(v.slope_bytes_per_min.is_finite(), "{v:?}");
        assert!(v.confidence.is_finite() && (0.0..=1.0).contains(&v.confidence), "{v:?}");
        assert!(v.growth_bytes.is_finite(), "{v:?}");
    }

    /// Asserts that a healthy series is never called a leak, over seeds.
    fn assert_never_leaks(name: &str, sim: &Sim, secs: u64, seeds: std::ops::Range<u64>) {
        for seed in seeds {
            let o = run(sim, seed, secs);
            assert_eq!(o.ours, None, "{name}: seed {seed} flagged as leaking: {o:?}");
        }
    }

    /// Asserts a leak starting at `start` is reported within `within` s.
    fn assert_leak_found(name: &str, sim: &Sim, start: f64, within: f64, seeds: std::ops::Range<u64>) {
        for seed in seeds {
            let o = run(sim, seed, (start + within) as u64 + 5);
            let at = o.ours.unwrap_or(f64::INFINITY);
            assert!(at >= start, "{name}: seed {seed} flagged before the leak: {o:?}");
            assert!(at <= start + within, "{name}: seed {seed} too late: {o:?}");
        }
    }

    // ---- the scenarios ----

    #[test]
    fn flat_sawtooth_small_amplitude_is_stable() {
        let sim = Sim::heap(30.0, 6.0, 4.0);
        assert_never_leaks("small sawtooth", &sim, 600, 0..5);
    }

    #[test]
    fn flat_sawtooth_huge_amplitude_is_stable() {
        // 250 MB of garbage on a 200 MB heap, one full GC every ~40 s.
        let sim = Sim::heap(200.0, 250.0, 40.0).noise(1.0);
        assert_never_leaks("huge sawtooth", &sim, 900, 0..5);
        // A sawtooth in a series sampled directly (external buffers freed
        // by GCs), 10 s period.
        let saw = Part::Saw { period: 10.0, height: 30.0 * MB };
        assert_never_leaks("external sawtooth", &Sim::direct(50.0, 0.3).with(saw), 600, 0..5);
    }

    #[test]
    fn warm_up_then_flat_is_stable() {
        let ramp = Part::Ramp { start: 0.0, secs: 9.0, total: 150.0 * MB };
        assert_never_leaks("heap warm-up", &Sim::heap(20.0, 10.0, 6.0).with(ramp.clone()), 400, 0..5);
        assert_never_leaks("rss warm-up", &Sim::direct(40.0, 0.5).with(ramp), 400, 0..5);
    }

    #[test]
    fn lazy_init_ramps_later_in_life_are_stable() {
        // Ramps of up to 10 s, anywhere, of any size: never a leak.
        for (i, total_mb) in [10.0, 30.0, 100.0, 400.0].into_iter().enumerate() {
            for secs in [2.0, 5.0, 10.0] {
                let ramp = Part::Ramp { start: 97.3 + i as f64, secs, total: total_mb * MB };
                let sim = Sim::direct(80.0, 0.5).with(ramp.clone());
                assert_never_leaks("rss ramp", &sim, 400, 0..2);
                let sim = Sim::heap(80.0, 12.0, 5.0).with(ramp);
                assert_never_leaks("heap ramp", &sim, 400, 0..2);
            }
        }
    }

    #[test]
    fn bounded_cache_filling_to_its_cap_is_stable() {
        // Exponential fill, 98% done within 10 s.
        let fill = Part::Fill { start: 120.0, tau: 2.5, total: 80.0 * MB };
        assert_never_leaks("heap cache", &Sim::heap(60.0, 20.0, 8.0).with(fill.clone()), 500, 0..5);
        assert_never_leaks("external cache", &Sim::direct(10.0, 0.2).with(fill), 500, 0..5);
    }

    #[test]
    fn plateau_after_a_short_climb_is_stable() {
        let climb = Part::Ramp { start: 60.0, secs: 10.0, total: 60.0 * MB };
        assert_never_leaks("plateau", &Sim::direct(150.0, 1.0).with(climb.clone()), 600, 0..5);
        assert_never_leaks("heap plateau", &Sim::heap(150.0, 30.0, 10.0).with(climb), 600, 0..5);
    }

    #[test]
    fn single_step_is_stable() {
        let step = Part::Ramp { start: 100.0, secs: 0.0, total: 50.0 * MB };
        assert_never_leaks("rss step", &Sim::direct(100.0, 0.5).with(step.clone()), 500, 0..5);
        assert_never_leaks("heap step", &Sim::heap(100.0, 20.0, 6.0).with(step), 500, 0..5);
    }

    fn bursty(mut sim: Sim, seed: u64, secs: f64) -> Sim {
        let mut rng = Rng::new(seed ^ 0xB0B);
        let mut t = 5.0;
        while t < secs {
            let len = rng.range(1.0, 8.0);
            let height = rng.range(5.0, 60.0) * MB;
            sim.parts.push(Part::Burst { start: t, secs: len, height });
            t += len + rng.range(2.0, 30.0);
        }
        sim
    }

    #[test]
    fn bursty_load_is_stable() {
        for seed in 0..4 {
            assert_never_leaks("rss bursts", &bursty(Sim::direct(120.0, 0.5), seed, 600.0), 600, seed..seed + 1);
            let heap = bursty(Sim::heap(120.0, 25.0, 6.0), seed, 600.0);
            assert_never_leaks("heap bursts", &heap, 600, seed..seed + 1);
        }
    }

    #[test]
    fn a_step_late_in_a_long_gc_cycle_is_stable() {
        // Garbage piles up for ~40 s between full GCs and a one-off step
        // lands late in a cycle: that cycle's floor climbs with the garbage
        // right up to the step, like a leak would.
        for start in [69.0, 207.9, 465.4] {
            let step = Part::Ramp { start, secs: 0.0, total: 150.0 * MB };
            let sim = Sim::heap(150.0, 170.0, 43.0).noise(1.7).with(step);
            assert_never_leaks("late step", &sim, 600, 0..5);
        }
    }

    #[test]
    fn bursts_caught_by_rare_full_gcs_are_stable() {
        // Full GCs ~30 s apart, some landing in bursts of load of growing
        // height: baselines that climb, then a floor that falls back.
        for seed in 0..20 {
            let sim = bursty(Sim::heap(285.0, 100.0, 30.0), seed, 600.0);
            assert_never_leaks("bursts, rare full GCs", &sim, 600, seed..seed + 1);
        }
    }

    fn leak(start: f64, rate_mb_s: f64) -> Part {
        Part::Leak { start, rate: rate_mb_s * MB, stop: f64::INFINITY }
    }

    #[test]
    fn linear_climb_is_leaking_within_30s_direct() {
        for base in [20.0, 100.0, 500.0] {
            let sim = Sim::direct(base, 0.5).with(leak(90.0, 0.5));
            assert_leak_found("rss climb", &sim, 90.0, 30.0, 0..5);
        }
    }

    #[test]
    fn linear_climb_is_leaking_within_30s_heap_busy() {
        // A busy server: a full GC every ~2 s, a few in every quarter of the
        // 20 s window.
        for base in [20.0, 100.0, 500.0] {
            let sim = Sim::heap(base, 8.0, 2.0).with(leak(90.0, 0.5));
            assert_leak_found("heap climb", &sim, 90.0, 30.0, 0..5);
        }
    }

    #[test]
    fn linear_climb_with_sparser_full_gcs_is_leaking_within_30s() {
        // A full GC every ~4 s or ~6 s: too few to judge the quarters of a
        // 20 s window, so the verdict comes cycle by cycle.
        for period in [4.0, 6.0] {
            let sim = Sim::heap(100.0, 15.0, period).with(leak(90.0, 0.5));
            assert_leak_found("heap climb, sparse full GCs", &sim, 90.0, 30.0, 0..5);
        }
    }

    #[test]
    fn linear_climb_under_baselines_as_noisy_as_each_cycles_rise_is_leaking_within_80s() {
        // Baselines scattered by 1.5 MB (σ) and rising 1.5 MB per 3 s cycle: no single cycle
        // stands out, and it takes a 40 s window to see the climb (37-69 s measured).
        let sim = Sim::heap(100.0, 10.0, 3.0).noise(1.5).with(leak(90.0, 0.5));
        assert_leak_found("heap climb, noisy baselines", &sim, 90.0, 80.0, 0..5);
    }

    #[test]
    fn linear_climb_with_rare_full_gcs_is_leaking_within_60s() {
        // A full GC every ~12 s: the verdict waits for three or four of them.
        let sim = Sim::heap(100.0, 40.0, 12.0).with(leak(90.0, 0.5));
        assert_leak_found("heap climb, full GC every 12 s", &sim, 90.0, 60.0, 0..5);
    }

    #[test]
    fn leak_from_the_first_second_is_found_within_30s() {
        let sim = Sim::direct(30.0, 0.3).with(leak(0.0, 0.5));
        assert_leak_found("leak from start", &sim, 0.0, 30.0, 0..5);
    }

    #[test]
    fn slow_climb_under_large_noisy_sawtooth_is_eventually_leaking() {
        // 0.1 MB/s (6 MB/min) under a 150 MB sawtooth with noisy baselines.
        let sim = Sim::heap(300.0, 150.0, 20.0).noise(2.0).with(leak(60.0, 0.1));
        for seed in 0..5 {
            let o = run(&sim, seed, 600);
            let at = o.ours.expect("slow leak never reported");
            assert!(at > 60.0, "{o:?}");
        }
    }

    /// The first second at which `sim` is leaking, judged with outside evidence `sustained`.
    fn first_leak_with(sim: &Sim, seed: u64, secs: u64, sustained: &dyn Fn(u64, f64, u64) -> bool) -> Option<u64> {
        let mut trend = Trend::new(default_opts());
        for (s, batch) in observe(sim, seed, secs).into_iter().enumerate() {
            for obs in batch {
                match obs {
                    Obs::Push(ms, v) => trend.push(ms, v),
                    Obs::Floor(ms, v) => trend.push_floor_sample(ms, v),
                }
            }
            if trend.verdict_with(s as u64 * 1000, sustained).state == TrendState::Leaking {
                return Some(s as u64);
            }
        }
        None
    }

    #[test]
    fn outside_evidence_of_a_sustained_rise_stands_in_for_the_parts() {
        // 5 MB/min under baselines scattered by ±10 MB (a live heap that swings): the parts of
        // a window never each rise clearly, so without evidence from elsewhere no leak in 200 s.
        let sim = Sim::heap(60.0, 40.0, 4.0).noise(8.0).with(leak(20.0, 5.0 / 60.0));
        let always = |_: u64, _: f64, _: u64| true;
        let never = |_: u64, _: f64, _: u64| false;
        let mut found = 0;
        for seed in 0..5 {
            assert_eq!(first_leak_with(&sim, seed, 200, &never), None, "seed {seed}");
            found += usize::from(first_leak_with(&sim, seed, 200, &always).is_some());
        }
        assert!(found >= 4, "with survivors all along, the significant rise is a leak ({found} of 5)");
        // The evidence is only asked about a significant rise: a flat heap is never a leak.
        let flat = Sim::heap(60.0, 40.0, 4.0).noise(0.5);
        for seed in 0..5 {
            assert_eq!(first_leak_with(&flat, seed, 200, &always), None, "flat seed {seed}");
        }
    }

    #[test]
    fn leak_that_stops_is_no_longer_leaking_later() {
        let sim = Sim::direct(100.0, 0.3).with(Part::Leak { start: 60.0, rate: 0.5 * MB, stop: 180.0 });
        for seed in 0..3 {
            let mut trend = Trend::new(default_opts());
            let mut states = Vec::new();
            for (s, batch) in observe(&sim, seed, 600).into_iter().enumerate() {
                for obs in batch {
                    if let Obs::Push(t, v) = obs {
                        trend.push(t, v);
                    }
                }
                states.push(trend.verdict(s as u64 * 1000).state);
            }
            // Leaking without a gap from detection until the leak stops.
            let first = states.iter().position(|s| *s == TrendState::Leaking).unwrap();
            assert!(first <= 90, "seed {seed}: found at {first}");
            assert!(states[first..180].iter().all(|s| *s == TrendState::Leaking), "seed {seed}: flickered");
            // Well after it stopped: no longer leaking.
            assert!(states[300..].iter().all(|s| *s != TrendState::Leaking), "seed {seed}: stuck");
        }
    }

    #[test]
    fn slow_ramp_is_growing_before_it_is_leaking() {
        // 0.2 MB/s: significant quickly, 8 MiB only after ~40 s.
        let sim = Sim::direct(60.0, 0.1).with(leak(30.0, 0.2));
        let mut trend = Trend::new(default_opts());
        let mut seen = Vec::new();
        for (s, batch) in observe(&sim, 1, 200).into_iter().enumerate() {
            for obs in batch {
                if let Obs::Push(t, v) = obs {
                    trend.push(t, v);
                }
            }
            let state = trend.verdict(s as u64 * 1000).state;
            if seen.last() != Some(&state) {
                seen.push(state);
            }
        }
        use TrendState::*;
        assert_eq!(seen, vec![WarmingUp, Stable, Growing, Leaking], "{seen:?}");
    }

    /// A random healthy series: one of the shapes that must never be called
    /// a leak, at a random scale, noise, GC rhythm and with random extras.
    fn random_healthy(rng: &mut Rng, secs: f64) -> Sim {
        let base = rng.range(20.0, 500.0);
        let mut sim = if rng.unit() < 0.6 {
            let amplitude = base * rng.range(0.05, 1.2);
            Sim::heap(base, amplitude, rng.range(2.0, 45.0)).noise(rng.range(0.1, 2.0))
        } else {
            Sim::direct(base, rng.range(0.05, 1.0))
        };
        let size = rng.range(5.0, 200.0) * MB;
        let start = rng.range(0.0, secs * 0.8);
        let secs_ramp = rng.range(0.0, 10.0);
        match rng.pick(6) {
            0 => {}
            1 => sim.parts.push(Part::Ramp { start: 0.0, secs: secs_ramp, total: size }),
            2 => sim.parts.push(Part::Ramp { start, secs: secs_ramp, total: size }),
            3 => sim.parts.push(Part::Fill { start, tau: rng.range(0.5, 2.5), total: size }),
            4 => sim.parts.push(Part::Ramp { start, secs: 0.0, total: size }),
            _ => sim = bursty(sim, rng.next_u64(), secs),
        }
        if sim.kind == Kind::Direct && rng.unit() < 0.3 {
            // Whole-second periods: a period just off a whole number of 1 s
            // samples aliases into a slow sawtooth whose sampled rising edge
            // lasts tens of seconds, which is a climb by any definition
            // until it drops.
            let height = rng.range(2.0, 40.0) * MB;
            let period = (2 + rng.pick(9)) as f64;
            sim.parts.push(Part::Saw { period, height });
        }
        sim
    }

    #[test]
    fn no_false_alarms_over_many_random_healthy_series() {
        const SERIES: u64 = 240;
        const SECS: u64 = 600;
        let mut rng = Rng::new(2024);
        let (mut ours, mut memwatch, mut naive) = (0, 0, 0);
        for seed in 0..SERIES {
            let sim = random_healthy(&mut rng, SECS as f64);
            let o = run_with(&sim, seed, SECS, default_opts(), 3);
            assert_eq!(o.ours, None, "series {seed} flagged: {sim:?}");
            ours += o.ours.is_some() as u32;
            memwatch += o.memwatch.is_some() as u32;
            naive += o.naive.is_some() as u32;
        }
        println!(
            "false alarms over {SERIES} healthy series of {SECS} s: ours {ours}, memwatch {memwatch}, naive slope {naive}"
        );
        assert_eq!(ours, 0);
        // The reference detectors do raise false alarms on the same series.
        assert!(naive > 0 && memwatch > 0, "naive {naive}, memwatch {memwatch}");
    }

    /// What [`Cycles::null_bound`] promises: pure noise (independent
    /// Gaussian or heavy-tailed, at uneven GC times) rarely passes the cycle
    /// test. Measured chances are printed; each must stay under the bound.
    #[test]
    fn cycle_test_chance_under_noise() {
        const TRIALS: u32 = 200_000;
        let mut rng = Rng::new(5);
        for heavy_tails in [false, true] {
            for cycles in 3..=5usize {
                let mut passed = 0u32;
                for _ in 0..TRIALS {
                    let mut t = 0u64;
                    let points: Vec<Point> = (0..=cycles)
                        .map(|_| {
                            t += (1000.0 * rng.range(0.5, 1.5)) as u64;
                            // Student's t with 3 degrees of freedom for the heavy tails.
                            let noise = if heavy_tails {
                                rng.normal()
                                    / ((rng.normal().powi(2) + rng.normal().powi(2) + rng.normal().powi(2)) / 3.0)
                                        .sqrt()
                            } else {
                                rng.normal()
                            };
                            Point { t, v: noise, weight: 1, exact: true }
                        })
                        .collect();
                    passed += Cycles::new(&points, 0).sustained() as u32;
                }
                let chance = passed as f64 / TRIALS as f64;
                let bound = Cycles { exact: vec![(0.0, 0.0); cycles + 1], ..Default::default() }.null_bound();
                println!("{cycles} cycles, heavy tails {heavy_tails}: {chance:.1e} (bound {bound:.0e})");
                assert!(chance < bound, "{cycles} cycles: {chance} >= {bound}");
            }
        }
    }

    // ---- recorded runs of real processes ----

    /// A recorded run of one of examples/workloads/ (Node 20, default V8 flags): every
    /// post-GC baseline and the 1 s `heapUsed` samples, as `seconds:MB` pairs.
    struct Trace {
        baselines: &'static str,
        heap_used: &'static str,
    }

    /// An unbounded Map, server at 500 requests/s (~0.5 MB/s).
    const MAP_LEAK_SERVER: Trace = Trace {
        baselines: concat!(
            "2.6:6.5 10.5:12.1 17.7:14.6 24.0:17.8 30.2:20.6 36.1:23.3 41.8:26.7 47.6:29.7 53.2:32.7 ",
            "59.9:36.2",
        ),
        heap_used: concat!(
            "1.0:7.3 2.0:10.1 3.0:10.3 4.0:12.3 5.0:15.3 6.0:13.8 7.0:22.0 8.0:19.7 9.0:19.1 10.0:27.0 ",
            "11.0:17.0 12.0:22.7 13.0:18.6 14.1:25.7 15.1:22.1 16.1:28.4 17.1:27.1 18.1:19.2 19.1:27.4 ",
            "20.1:24.0 21.1:23.0 22.1:30.9 23.1:28.1 24.1:19.6 25.1:27.0 26.1:23.6 27.1:31.2 28.1:29.9 ",
            "29.1:28.2 30.1:35.7 31.1:27.8 32.1:24.8 33.1:33.1 34.1:32.7 35.1:32.4 36.1:25.0 37.1:34.2 ",
            "38.1:31.3 39.1:30.7 40.1:38.7 41.1:37.8 42.1:30.5 43.1:38.4 44.1:35.4 45.1:35.1 46.1:43.1 ",
            "47.1:42.6 48.1:35.9 49.1:32.9 50.1:41.3 51.1:40.7 52.1:40.1 53.1:48.3 54.1:41.7 55.1:39.0 ",
            "56.1:38.3 57.1:46.5 58.1:45.7 59.1:45.1 60.1:38.9",
        ),
    };

    /// Kept alive by a never-settling promise, server at 500 requests/s (~0.6 MB/s).
    const PROMISE_LEAK_SERVER: Trace = Trace {
        baselines: concat!(
            "2.5:6.7 9.7:12.4 15.0:15.6 20.7:19.2 26.0:22.6 31.9:26.0 37.4:29.6 42.6:32.9 48.1:37.1 ",
            "54.8:40.8",
        ),
        heap_used: concat!(
            "1.0:8.5 2.0:10.5 3.0:11.7 4.0:14.6 5.0:13.8 6.0:17.8 7.0:16.5 8.0:25.4 9.0:24.8 10.0:17.3 ",
            "11.0:26.0 12.0:24.0 13.0:23.9 14.0:23.1 15.0:15.6 16.0:25.3 17.0:23.2 18.0:23.5 19.0:32.4 ",
            "20.0:31.6 21.0:23.6 22.0:31.9 23.0:29.8 24.0:29.8 25.0:29.9 26.0:38.5 27.0:32.6 28.0:30.6 ",
            "29.0:30.8 30.0:38.4 31.0:36.9 32.0:28.4 33.0:37.3 34.0:34.8 35.0:34.5 36.0:34.5 37.0:42.9 ",
            "38.0:37.2 39.0:35.1 40.0:35.2 41.0:44.0 42.0:43.8 43.0:38.2 44.0:36.0 45.0:44.7 46.0:45.0 ",
            "47.0:44.6 48.1:44.1 49.1:46.4 50.1:42.6 51.1:42.5 52.1:51.0 53.1:51.0 54.1:49.7 55.1:45.3 ",
            "56.1:54.1 57.1:51.9 58.1:52.0 59.1:51.8 60.1:51.7",
        ),
    };

    /// The same server on a loaded machine: full GCs 6-12 s apart.
    const MAP_LEAK_SERVER_LOADED: Trace = Trace {
        baselines: "2.8:6.6 11.4:12.2 20.6:17.0 32.7:23.7 38.5:26.1 44.6:29.0 50.6:32.2 56.6:35.3",
        heap_used: concat!(
            "1.0:7.6 2.0:10.7 3.0:9.1 4.0:11.6 5.0:13.8 6.0:13.5 7.0:18.2 8.1:17.6 9.0:27.6 10.0:27.9 ",
            "11.0:28.2 12.0:20.6 13.0:18.9 14.0:19.1 15.0:19.3 16.0:29.2 17.0:24.1 18.0:33.2 ",
            "19.0:33.5 20.0:32.8 21.0:23.5 22.0:21.8 23.1:21.6 24.0:21.6 25.0:31.2 26.0:31.6 ",
            "27.0:31.8 28.0:32.2 29.0:32.6 30.0:32.3 31.1:41.7 32.0:41.6 33.0:42.0 34.0:29.9 ",
            "35.0:28.2 36.0:29.8 37.0:39.4 38.0:39.9 39.0:40.5 40.0:32.8 41.0:31.0 42.0:31.6 ",
            "43.0:41.6 44.0:41.2 45.0:41.5 46.0:35.3 47.0:33.4 48.0:33.6 49.0:43.7 50.0:43.7 ",
            "51.0:44.3 52.0:37.9 53.0:36.2 54.0:46.2 55.0:46.6 56.0:47.0 57.0:47.4 58.0:41.5 ",
            "59.0:39.9 60.0:40.6 60.2:50.1",
        ),
    };

    /// An unbounded Map, plain script (~2 MB/s): two full GCs 37 s apart.
    const MAP_LEAK_SCRIPT: Trace = Trace {
        baselines: "2.3:8.4 11.8:26.6 48.6:96.3 50.9:100.2 53.8:105.3",
        heap_used: concat!(
            "1.0:7.7 2.0:10.5 3.0:11.9 4.0:15.0 5.0:18.3 6.0:26.5 7.0:19.1 8.0:21.4 9.0:24.6 10.0:28.5 ",
            "11.0:27.5 12.0:29.0 13.0:30.6 14.0:33.8 15.0:36.7 16.0:38.6 17.0:41.6 18.0:43.1 19.0:46.2 ",
            "20.0:50.4 21.0:53.7 22.0:55.8 23.0:57.5 24.0:60.7 25.0:63.4 26.0:56.1 27.0:58.9 28.0:62.2 ",
            "29.0:65.2 30.0:67.6 31.0:70.1 32.0:73.2 33.0:76.1 34.0:79.1 35.0:81.9 36.0:74.8 37.0:77.6 ",
            "38.0:84.4 39.0:86.9 40.0:90.0 41.0:91.1 42.0:93.3 43.0:95.4 44.0:97.8 45.0:98.7 46.0:100.5 ",
            "47.0:103.3 48.0:106.1 49.0:97.5 50.0:99.4 51.0:101.7 52.0:103.7 53.0:106.3 54.0:108.2 ",
            "55.0:109.5 56.0:112.9 57.0:115.6 58.0:118.2 59.0:121.0",
        ),
    };

    /// A pure sawtooth: 58 MB live, up to 220 MB used.
    const SAWTOOTH: Trace = Trace {
        baselines: concat!(
            "0.0:17.1 0.9:58.0 5.3:57.6 6.8:58.4 11.4:58.0 11.8:57.4 12.6:57.4 13.7:57.4 15.5:57.4 ",
            "17.9:57.4 21.7:57.6 25.0:57.5 27.9:58.3 30.0:57.6 33.0:57.4 37.5:57.8 42.4:57.9 42.9:57.4 ",
            "43.8:57.4 44.7:57.4 45.3:57.4 46.1:57.9 47.7:57.8 49.8:57.4 54.7:57.5 57.6:57.8",
        ),
        heap_used: concat!(
            "1.0:62.6 2.0:103.0 3.0:142.7 4.0:184.7 5.0:225.3 6.0:90.0 7.0:68.2 8.0:108.4 9.0:148.2 ",
            "10.1:184.9 11.0:223.1 12.0:67.3 13.0:77.2 14.0:70.1 15.0:111.0 16.0:82.6 17.0:121.6 ",
            "18.0:62.6 19.1:103.8 20.1:143.3 21.1:184.1 22.1:72.8 23.1:114.7 24.1:155.3 25.1:58.9 ",
            "26.1:95.9 27.1:136.8 28.1:64.2 29.1:100.7 30.1:59.6 31.1:92.4 32.1:123.3 33.1:59.0 34.1:95.2 ",
            "35.1:136.1 36.1:175.3 37.1:216.3 38.1:81.7 39.1:121.7 40.1:156.3 41.1:194.4 42.1:224.6 ",
            "43.1:70.0 44.1:70.6 45.1:74.8 46.1:60.3 47.1:97.2 48.1:73.5 49.1:111.8 50.1:70.7 51.1:105.5 ",
            "52.1:143.3 53.2:175.8 54.2:215.2 55.2:79.4 56.2:117.1 57.2:155.8 58.2:82.2 59.2:121.8",
        ),
    };

    /// lru-cache with a max of 4,000 entries, server at 500 requests/s.
    const LRU_CACHE_SERVER: Trace = Trace {
        baselines: concat!(
            "2.3:7.6 9.3:15.2 14.9:15.0 20.2:15.0 25.4:15.3 30.8:14.8 36.3:15.0 41.6:14.8 46.8:14.9 ",
            "51.9:14.8 57.0:14.8",
        ),
        heap_used: concat!(
            "1.0:9.5 2.0:10.9 3.0:14.1 4.0:13.2 5.0:16.8 6.0:21.5 7.0:21.0 8.0:21.7 9.0:30.9 10.0:22.6 ",
            "11.0:19.8 12.0:28.2 13.0:29.0 14.0:29.4 15.0:17.7 16.0:26.6 17.0:24.6 18.0:25.3 19.0:25.9 ",
            "20.0:34.3 21.0:23.4 22.0:22.0 23.0:23.3 24.0:32.0 25.0:32.5 26.0:21.6 27.0:19.2 28.0:27.7 ",
            "29.0:28.6 30.0:29.1 31.0:18.0 32.0:26.5 33.0:24.1 34.0:24.3 35.0:25.0 36.0:33.5 37.0:23.1 ",
            "38.0:21.0 39.0:28.8 40.0:29.4 41.0:30.1 42.0:19.9 43.1:27.5 44.1:26.2 45.1:27.7 46.1:28.6 ",
            "47.1:17.9 48.1:26.8 49.1:25.7 50.1:26.8 51.1:27.3 52.1:17.0 53.1:25.9 54.1:24.8 55.1:26.1 ",
            "56.1:26.9 57.1:16.6 58.1:25.3 59.1:23.8 60.1:24.9",
        ),
    };

    /// Warm-up: ~90 MB loaded in the first 8 s, then flat.
    const WARM_UP_THEN_FLAT: Trace = Trace {
        baselines: "0.4:9.1 2.7:34.2 3.4:43.2 4.8:60.2 24.3:98.0 24.9:97.4",
        heap_used: concat!(
            "1.0:16.6 2.0:28.6 3.0:41.1 4.0:53.4 5.0:64.2 6.0:76.1 7.0:88.7 8.0:101.3 9.0:103.8 ",
            "10.0:106.3 11.0:102.2 12.0:104.7 13.0:107.3 14.0:109.9 15.0:101.4 16.0:104.0 17.0:106.5 ",
            "18.0:109.1 19.0:111.6 20.0:100.4 21.0:102.9 22.0:105.5 23.0:108.0 24.0:110.6 25.0:98.0 ",
            "26.0:97.9 27.0:97.9 28.0:97.9 29.0:97.9 30.1:97.9 31.0:97.9 32.0:97.8 33.1:97.8 34.0:97.8 ",
            "35.0:97.8 36.1:97.8 37.0:97.7 38.1:97.7 39.1:97.6 40.1:98.2 41.1:98.2 42.1:98.2 43.1:98.2 ",
            "44.1:98.2 45.1:98.1 46.1:98.1 47.1:98.0 48.1:98.1 49.1:98.1 50.1:98.1 51.1:98.1 52.1:98.1 ",
            "53.1:98.1 54.1:98.1 55.1:98.1 56.1:98.1 57.1:98.0 58.1:97.9 59.1:97.7",
        ),
    };

    /// Bursty load: 3 s of 1,000 requests/s every 12 s.
    const BURSTY_SERVER: Trace = Trace {
        baselines: "0.4:8.5 14.4:9.8 26.0:9.4 37.4:9.9 41.5:6.1 50.3:8.4",
        heap_used: concat!(
            "1.0:17.4 2.0:27.9 3.0:31.7 4.0:27.8 5.0:21.0 6.0:27.1 7.0:20.3 8.0:27.0 9.0:20.4 10.0:26.5 ",
            "11.0:32.6 12.1:29.0 13.1:31.1 14.1:35.7 15.1:20.4 16.1:14.5 17.1:20.3 18.1:13.7 19.1:19.6 ",
            "20.1:13.0 21.1:18.9 22.1:25.0 23.1:17.8 24.1:23.9 25.1:23.7 26.1:15.2 27.1:16.1 28.1:22.9 ",
            "29.1:16.5 30.1:22.8 31.1:16.0 32.1:22.1 33.1:15.5 34.1:21.8 35.1:15.4 36.1:22.6 37.1:23.4 ",
            "38.1:21.1 39.1:27.7 40.1:21.9 41.1:27.7 42.1:10.6 43.1:17.2 44.1:10.5 45.1:16.8 46.1:10.9 ",
            "47.1:17.4 48.1:13.7 49.1:16.6 50.1:19.1 51.1:23.2 52.1:19.3 53.1:11.9 54.1:18.4 55.1:11.5 ",
            "56.1:18.3 57.1:11.7 58.1:18.3 59.1:11.4 60.1:16.6",
        ),
    };

    fn pairs(text: &str) -> Vec<(u64, f64)> {
        let pair = |p: &str| {
            let (t, v) = p.split_once(':').expect("seconds:MB");
            ((t.parse::<f64>().unwrap() * 1000.0).round() as u64, v.parse::<f64>().unwrap() * MB)
        };
        text.split_whitespace().map(pair).collect()
    }

    /// Feeds a trace to a heap `Trend` with the default options, in time order, judging
    /// after every sample as the background thread does; the second of the first
    /// `leaking` verdict.
    fn replay(trace: &Trace) -> Option<f64> {
        let mut trend = Trend::new(default_opts());
        let mut baselines = pairs(trace.baselines).into_iter().peekable();
        for (t, used) in pairs(trace.heap_used) {
            while let Some((tb, b)) = baselines.next_if(|b| b.0 <= t) {
                trend.push(tb, b);
            }
            trend.push_floor_sample(t, used);
            if trend.verdict(t).state == TrendState::Leaking {
                return Some(t as f64 / 1000.0);
            }
        }
        None
    }

    #[test]
    fn recorded_leaks_are_found_at_the_first_full_gc_that_can_show_them() {
        // Full GCs every 5-7 s: the fifth, 30 s in, shows four cycles of growth (the verdict
        // comes with the next 1 s sample).
        for (name, trace) in [("map", MAP_LEAK_SERVER), ("promise", PROMISE_LEAK_SERVER)] {
            let at = replay(&trace);
            assert!(at.is_some_and(|t| t <= 32.0), "{name}: {at:?}");
        }
        // Cycles of 6-12 s: the three latest span the sustain time by 32.7 s, but three cycles
        // are never significant; four are, at the fifth full GC (38.5 s).
        let at = replay(&MAP_LEAK_SERVER_LOADED);
        assert!(at.is_some_and(|t| (38.5..=40.0).contains(&t)), "loaded: {at:?}");
        // No full GC between 11.8 s and 48.6 s: nothing can be known before the second one,
        // which, with the floor samples it confirms, is enough.
        assert!(replay(&MAP_LEAK_SCRIPT).is_some_and(|t| (48.6..=50.0).contains(&t)), "{:?}", replay(&MAP_LEAK_SCRIPT));
    }

    #[test]
    fn recorded_healthy_processes_are_never_leaking() {
        for (name, trace) in [
            ("sawtooth", SAWTOOTH),
            ("lru-cache", LRU_CACHE_SERVER),
            ("warm-up", WARM_UP_THEN_FLAT),
            ("bursty", BURSTY_SERVER),
        ] {
            assert_eq!(replay(&trace), None, "{name}");
        }
    }

    // ---- robustness ----

    #[test]
    fn empty_and_tiny_series_are_handled() {
        let mut trend = Trend::new(TrendOptions::default());
        let v = trend.verdict(0);
        assert_eq!(v.state, TrendState::WarmingUp);
        check_finite(&v);
        trend.push(1_000, 5.0);
        let v = trend.verdict(1_000_000);
        assert_eq!(v.state, TrendState::WarmingUp); // too few points ever
        check_finite(&v);
        assert!(trend.verdict(0).slope_bytes_per_min.is_finite()); // now before the data
    }

    #[test]
    fn non_finite_values_are_ignored() {
        let mut trend = Trend::new(TrendOptions::default());
        for (i, v) in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY].into_iter().enumerate() {
            trend.push(i as u64, v);
            trend.push_floor_sample(i as u64, v);
        }
        assert!(trend.is_empty());
        // Values near the f64 limit do not produce NaN or infinity either.
        for i in 0..100u64 {
            trend.push(i * 1000, if i % 2 == 0 { f64::MAX } else { -f64::MAX });
        }
        check_finite(&trend.verdict(100_000));
    }

    #[test]
    fn repeated_and_out_of_order_timestamps() {
        let mut trend = Trend::new(TrendOptions::default());
        let mut rng = Rng::new(9);
        for i in 0..120u64 {
            // Every timestamp twice, and shuffled by up to 3 s.
            let t = (i * 1000).saturating_sub(rng.pick(3000) as u64);
            trend.push(t, 100.0 * MB + rng.normal() * 0.2 * MB);
            trend.push(t, 100.0 * MB + rng.normal() * 0.2 * MB);
        }
        let v = trend.verdict(120_000);
        check_finite(&v);
        assert_eq!(v.state, TrendState::Stable);
        let times: Vec<u64> = trend.points.iter().map(|p| p.t).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "points kept sorted");
        // All at one instant: nothing to fit, still no panic.
        let mut same = Trend::new(TrendOptions::default());
        for i in 0..50 {
            same.push(5_000, i as f64);
        }
        check_finite(&same.verdict(60_000));
    }

    #[test]
    fn a_leak_with_repeated_and_shuffled_timestamps_is_still_found() {
        let mut trend = Trend::new(TrendOptions::default());
        let mut rng = Rng::new(3);
        let mut found = None;
        for s in 0..200u64 {
            let level = 80.0 * MB + if s > 60 { (s - 60) as f64 * 0.5 * MB } else { 0.0 };
            let t = (s * 1000).saturating_sub(rng.pick(1500) as u64);
            trend.push(t, level + 0.2 * MB * rng.normal());
            trend.push(t, level + 0.2 * MB * rng.normal());
            if trend.verdict(s * 1000).state == TrendState::Leaking {
                found.get_or_insert(s);
            }
        }
        let found = found.expect("leak not found");
        assert!((60..=90).contains(&found), "{found}");
    }

    #[test]
    fn memory_is_bounded() {
        let opts = TrendOptions { window_ms: 3_600_000, ..TrendOptions::default() };
        let mut trend = Trend::new(opts);
        for i in 0..100_000u64 {
            trend.push(i * 10, (i % 97) as f64);
            trend.push_floor_sample(i * 10 + 5, (i % 89) as f64);
            assert!(trend.len() <= MAX_POINTS);
        }
        assert!(trend.floor.pending.len() <= MAX_PENDING_FLOOR);
        check_finite(&trend.verdict(1_000_000));
    }

    #[test]
    fn fit_size_is_capped() {
        let points: Vec<(f64, f64)> = (0..1000).map(|i| (i as f64, i as f64)).collect();
        let thinned = thin(points, 128);
        assert!(thinned.len() <= 128);
        // Averaging groups keeps a straight line straight.
        assert_eq!(theil_sen_slope(&thinned), Some(1.0));
    }

    #[test]
    fn compaction_keeps_recent_points_and_the_trend() {
        let opts = TrendOptions { window_ms: 3_600_000, ..TrendOptions::default() };
        let mut trend = Trend::new(opts);
        for i in 0..2000u64 {
            trend.push(i * 1000, 1000.0 * i as f64);
        }
        assert!(trend.len() <= MAX_POINTS);
        let last: Vec<u64> = trend.points.iter().rev().take(10).map(|p| p.t).collect();
        assert_eq!(last, (1990..2000u64).rev().map(|i| i * 1000).collect::<Vec<_>>());
        let v = trend.verdict(1_999_000);
        assert!((v.slope_bytes_per_min - 60_000.0).abs() < 1.0, "{v:?}");
    }

    #[test]
    fn floor_points_are_settled_by_the_next_baseline() {
        // Baselines climbing 10 MB per 10 s cycle.
        let climbing = || {
            let mut floor = FloorSampler::new(5_000);
            for (i, b) in [100.0, 110.0, 120.0, 130.0].into_iter().enumerate() {
                assert!(floor.settle(i as u64 * 10_000, b * MB).is_empty());
            }
            // One bucket well below the next baseline (~133), one above it (150).
            for t in 31_000..36_000 {
                floor.sample(t, (133.0 + (t % 7) as f64) * MB);
            }
            for t in 36_000..40_000 {
                floor.sample(t, 150.0 * MB);
            }
            floor
        };
        let mut floor = climbing();
        let kept = floor.settle(40_000, 140.0 * MB);
        assert_eq!(kept, vec![(31_003, 133.0 * MB)]); // its lowest sample
                                                      // Samples from before the latest baseline are ignored.
        floor.sample(39_000, 1.0);
        assert!(floor.settle(41_000, 140.0 * MB).is_empty());
        // The same floor is dropped when this cycle's baseline did not rise
        // (a sawtooth) ...
        assert!(climbing().settle(40_000, 130.0 * MB).is_empty());
        // ... or rose far faster than the cycle before (one step, not a climb).
        assert!(climbing().settle(40_000, 200.0 * MB).is_empty());
    }

    #[test]
    fn floor_samples_alone_never_make_a_verdict() {
        // heapUsed climbing with no full GC: garbage or leak, nobody knows.
        let mut trend = Trend::new(TrendOptions::default());
        for s in 0..300u64 {
            trend.push_floor_sample(s * 1000, 50.0 * MB + s as f64 * MB);
            assert_ne!(trend.verdict(s * 1000).state, TrendState::Leaking);
        }
    }

    #[test]
    fn bad_options_are_sanitized() {
        let opts = TrendOptions {
            window_ms: 0,
            min_growth_bytes: f64::NAN,
            min_growth_ratio: -1.0,
            confidence: 2.0,
            sustain_ms: 0,
            warmup_ms: 0,
        };
        let mut trend = Trend::new(opts);
        let o = trend.options().clone();
        assert!(o.window_ms >= 1 && o.sustain_ms >= 1);
        assert!(o.confidence > 0.5 && o.confidence < 1.0);
        assert!(o.min_growth_bytes >= 0.0 && o.min_growth_ratio >= 0.0);
        for i in 0..100u64 {
            trend.push(i, i as f64);
            check_finite(&trend.verdict(i));
        }
    }

    #[test]
    fn state_names() {
        assert_eq!(TrendState::WarmingUp.as_str(), "warming-up");
        assert_eq!(TrendState::Stable.as_str(), "stable");
        assert_eq!(TrendState::Growing.as_str(), "growing");
        assert_eq!(TrendState::Leaking.as_str(), "leaking");
    }

    #[test]
    fn short_test_thresholds_work() {
        // Thresholds are options: a test can judge within a second or two.
        let opts = TrendOptions {
            window_ms: 4_000,
            warmup_ms: 500,
            sustain_ms: 1_000,
            min_growth_bytes: 1.0 * MB,
            ..TrendOptions::default()
        };
        let mut trend = Trend::new(opts);
        let mut state = TrendState::WarmingUp;
        for i in 0..40u64 {
            let t = i * 50; // 20 samples per second
            trend.push(t, 50.0 * MB + i as f64 * 0.1 * MB);
            state = trend.verdict(t).state;
        }
        assert_eq!(state, TrendState::Leaking);
    }
}
