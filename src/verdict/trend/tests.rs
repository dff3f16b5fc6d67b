//! The trend verdict's tests: series of many shapes, seeded, and the properties each must keep.

use super::fit::thin;
use super::floor::MAX_PENDING_FLOOR;
use super::*;
use crate::verdict::stats::theil_sen_slope;

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
                                / ((rng.normal().powi(2) + rng.normal().powi(2) + rng.normal().powi(2)) / 3.0).sqrt()
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
