//! One session's three trend series — the heap after full GCs, `external + arrayBuffers`, and
//! RSS beyond the JS heap — each judged on its own (a Buffer leak is not blamed on the JS heap,
//! nor the other way round), and the `LEAKWATCH_*_GROWTH` warnings they raise.

use super::trend::{Trend, TrendOptions, TrendState, Verdict, SUSTAIN_SHARE};
use super::watch::{duration, verdict_json, Series, Unit, Warning};
use crate::alloc_sites::{self, AllocSites};
use crate::verdict::old_heap::SURVIVOR_AGE_MS;
use serde_json::{json, Value};

pub struct Trends {
    heap: Series,
    external: Series,
    rss: Series,
    /// RSS itself, which must rise with `rss` for it to leak (see [`Trends::on_rss`]).
    rss_whole: Trend,
    /// The old heap's latest verdict, while the sampling heap profile runs (verdict/old_heap.rs).
    old_heap: Option<Verdict>,
}

impl Trends {
    pub fn new(opts: &TrendOptions) -> Trends {
        Trends {
            heap: Series::new("heap", "LEAKWATCH_HEAP_GROWTH", opts, Unit::Bytes),
            external: Series::new("external", "LEAKWATCH_EXTERNAL_GROWTH", opts, Unit::Bytes),
            rss: Series::new("rss", "LEAKWATCH_RSS_GROWTH", opts, Unit::Bytes),
            rss_whole: Trend::new(opts.clone()),
            old_heap: None,
        }
    }

    /// Heap used after a full GC.
    pub fn on_baseline(&mut self, t_ms: u64, bytes: f64) {
        self.heap.push(t_ms, bytes);
    }

    /// The JS thread's once-a-second sample.
    pub fn on_sample(&mut self, t_ms: u64, heap_used: f64, external_and_buffers: f64) {
        self.heap.trend.push_floor_sample(t_ms, heap_used);
        self.external.push(t_ms, external_and_buffers);
    }

    /// RSS, less the pages V8 has committed to the JS heap (`heapTotal`). Between two full GCs
    /// V8 may grow the heap by tens of MB of garbage, and RSS follows: judged whole, RSS would
    /// call a healthy sawtooth's first tooth a leak. What is left is memory the heap series
    /// cannot see (native allocations, Buffers, code, stacks); a JS heap leak is the heap
    /// series' to report. And RSS itself must rise with it: V8 commits heap pages before it
    /// touches them and releases others, so `rss - heapTotal` drifts by tens of MB while RSS
    /// holds still (a pure sawtooth for 150 s: a false warning in 2 of 2 runs).
    pub fn on_rss(&mut self, t_ms: u64, rss: f64, heap_total: f64) {
        self.rss.push(t_ms, (rss - heap_total).max(0.0));
        self.rss_whole.push(t_ms, rss);
    }

    /// Re-judges every series; returns the warnings due now. `heap_limit` gives the heap
    /// warning its projected time to the limit; `also` is appended to every message (e.g. a
    /// listener leak live at the same time).
    /// `sites`, when the sampling heap profile runs, names where the heap's growth was allocated.
    pub fn evaluate(
        &mut self,
        now_ms: u64,
        heap_limit: Option<f64>,
        also: Option<&str>,
        mut sites: Option<&mut AllocSites>,
    ) -> Vec<Warning> {
        let mut out = Vec::new();
        // A significant rise of the heap (by enough) is sustained, where the baselines are too
        // noisy to show it part by part, when the old heap (verdict/old_heap.rs) rises significantly
        // and part by part at no less than SUSTAIN_SHARE of the heap's slope: the allocations
        // that do not die carry it.
        let (old, old_rate) = sites.as_deref_mut().map(|s| s.old_heap(now_ms)).unzip();
        self.old_heap.clone_from(&old);
        let old_rate = old_rate.flatten();
        let by_old_heap = |_: u64, slope: f64, _: u64| old_rate.is_some_and(|rate| rate >= SUSTAIN_SHARE * slope);
        let nothing_else = |_: u64, _: f64, _: u64| false;
        // The heap leaks, too, when its old objects leak on their own (judged by the same
        // thresholds) and the baselines rise with them (at OLD_HEAP_BACKING, and no less than
        // SUSTAIN_SHARE of their rate): live young objects can scatter the baselines by more
        // than a slow leak adds in minutes, and then the baselines reach 99 % long after the
        // old heap does.
        let old_leaks = old.as_ref().filter(|o| o.state == TrendState::Leaking);
        let backs = |v: &Verdict, o: &Verdict| {
            v.state != TrendState::WarmingUp
                && v.confidence >= OLD_HEAP_BACKING
                && v.slope_bytes_per_min >= SUSTAIN_SHARE * o.slope_bytes_per_min
        };
        let heap_review = |v: &Verdict| match old_leaks {
            Some(o) if backs(v, o) => TrendState::Leaking,
            _ => v.state,
        };
        // RSS beyond the heap leaks only while RSS itself rises significantly, part by part,
        // at no less than SUSTAIN_SHARE of its slope.
        let rss_rate = self.rss_whole.sustained_slope(now_ms).unwrap_or(f64::NEG_INFINITY);
        let rss_review = |v: &Verdict| match v.state {
            TrendState::Leaking if rss_rate < SUSTAIN_SHARE * v.slope_bytes_per_min / 60_000.0 => TrendState::Growing,
            state => state,
        };
        let own = |v: &Verdict| v.state;
        for series in [&mut self.heap, &mut self.external, &mut self.rss] {
            let (heap, rss) = (series.name == "heap", series.name == "rss");
            let sustained: &dyn Fn(u64, f64, u64) -> bool = if heap { &by_old_heap } else { &nothing_else };
            let review: &dyn Fn(&Verdict) -> TrendState = if heap {
                &heap_review
            } else if rss {
                &rss_review
            } else {
                &own
            };
            if series.judge_with(now_ms, sustained, review) {
                let mut w = warning(series, now_ms, heap_limit.filter(|_| heap));
                if let (true, Some(v)) = (heap, old.as_ref().filter(|v| rising(v))) {
                    add_old_heap(&mut w, v);
                }
                if let (true, Some(sites)) = (heap, sites.as_deref()) {
                    add_sites(&mut w, sites, series);
                }
                if let Some(also) = also {
                    w.message.push(' ');
                    w.message.push_str(also);
                }
                out.push(w);
            }
        }
        out
    }

    /// `{heap: {state, slopeBytesPerMin, confidence}, external: {...}, rss: {...}}`, and
    /// `oldHeap` while the sampling heap profile runs.
    pub fn to_json(&self) -> Value {
        let mut out =
            json!({"heap": self.heap.to_json(), "external": self.external.to_json(), "rss": self.rss.to_json()});
        if let Some(v) = &self.old_heap {
            out["oldHeap"] = verdict_json(Some(v), Unit::Bytes);
        }
        out
    }

    /// Where the heap verdict's window starts, once there is a verdict.
    pub fn heap_window_start(&self) -> Option<u64> {
        self.heap.verdict.as_ref().map(|v| v.window_start_ms)
    }

    /// Series currently `leaking`, for metrics and other warnings.
    pub fn leaking(&self) -> Vec<&'static str> {
        [&self.heap, &self.external, &self.rss].into_iter().filter(|s| s.is_leaking()).map(|s| s.name).collect()
    }
}

/// The confidence the baselines must rise at, beside an old heap `leaking` at the series'
/// own confidence (99 % by default), for the heap to be `leaking` on the old heap's evidence.
const OLD_HEAP_BACKING: f64 = 0.9;

fn warning(series: &Series, now_ms: u64, heap_limit: Option<f64>) -> Warning {
    let v = series.judged();
    let latest = series.current();
    let what = match series.name {
        "heap" => "the heap left after full GCs",
        "external" => "memory outside the JS heap (external + ArrayBuffers)",
        _ => "the resident set size beyond the JS heap (RSS - heapTotal)",
    };
    let since_ms = now_ms.saturating_sub(v.window_start_ms);
    let mut message = format!(
        "Possible memory leak: {what} grew {} in {} ({}/min, confidence {:.1}%)",
        bytes(v.growth_bytes),
        duration(since_ms),
        signed_bytes(v.slope_bytes_per_min),
        v.confidence * 100.0
    );
    let to_limit = heap_limit.and_then(|limit| time_to_limit(limit, latest, v.slope_bytes_per_min));
    if let (Some(ms), Some(limit)) = (to_limit, heap_limit) {
        message.push_str(&format!("; at this rate the heap limit ({}) is reached in {}", bytes(limit), duration(ms)));
    }
    message.push('.');
    let details = json!({
        "series": series.name,
        "state": v.state.as_str(),
        "slopeBytesPerMin": v.slope_bytes_per_min.round(),
        "confidence": v.confidence,
        "growthBytes": v.growth_bytes.round(),
        "windowStartMs": v.window_start_ms,
        "current": latest.round(),
        "msToHeapLimit": to_limit,
    });
    Warning::leak(series.code, message, details)
}

fn rising(v: &Verdict) -> bool {
    matches!(v.state, TrendState::Leaking | TrendState::Growing)
}

/// The old heap's growth, when it rises too: the growth is in objects that do not die.
/// Not inlined: inlined, the optimizer rounded the fields of an absent verdict before the
/// check (harmless, but valgrind rightly calls it a jump on uninitialised memory).
#[inline(never)]
fn add_old_heap(w: &mut Warning, v: &Verdict) {
    w.details["oldHeap"] = json!({
        "state": v.state.as_str(),
        "slopeBytesPerMin": v.slope_bytes_per_min.round(),
        "confidence": v.confidence,
        "growthBytes": v.growth_bytes.round(),
    });
    w.message.push_str(&format!(
        " Objects older than {} grew {} of it ({}/min, confidence {:.1}%): allocations that do not die.",
        duration(SURVIVOR_AGE_MS),
        bytes(v.growth_bytes),
        signed_bytes(v.slope_bytes_per_min),
        v.confidence * 100.0
    ));
}

/// Names the allocation sites that grew over the warning's window, in its message and as
/// `details.allocationSites`.
fn add_sites(w: &mut Warning, sites: &AllocSites, series: &Series) {
    let since = series.verdict.as_ref().map_or(0, |v| v.window_start_ms);
    let cwd = std::env::current_dir().ok();
    match alloc_sites::describe(&sites.growth_since(since), cwd.as_deref(), true) {
        Some((text, data)) => {
            w.message.push(' ');
            w.message.push_str(&text);
            w.details["allocationSites"] = data;
        }
        None => w.details["allocationSites"] = json!([]),
    }
}

/// How long until `limit` at the current slope; None when not rising.
fn time_to_limit(limit: f64, current: f64, slope_per_min: f64) -> Option<u64> {
    (slope_per_min > 0.0 && limit > current).then(|| ((limit - current) / slope_per_min * 60_000.0) as u64)
}

pub(crate) fn bytes(b: f64) -> String {
    const MB: f64 = 1024.0 * 1024.0;
    if b.abs() >= 1024.0 * MB {
        format!("{:.1} GB", b / (1024.0 * MB))
    } else {
        format!("{:.1} MB", b / MB)
    }
}

fn signed_bytes(b: f64) -> String {
    format!("{}{}", if b >= 0.0 { "+" } else { "-" }, bytes(b.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc_sites::{LiveSample, SiteBytes};

    impl Warning {
        fn series_is_heap(&self) -> bool {
            self.code == "LEAKWATCH_HEAP_GROWTH"
        }
    }

    fn fast() -> TrendOptions {
        TrendOptions {
            window_ms: 20_000,
            warmup_ms: 2_000,
            sustain_ms: 4_000,
            min_growth_bytes: 1e6,
            ..Default::default()
        }
    }

    /// A server whose live heap swings by ±15 MB at each full GC (every 3 s), with `leak`
    /// bytes a second kept for good, and the sampling heap profile read every 5 s: one sample
    /// per 512 KiB, the leak's kept, the rest dead within 10 s. The heap warnings of 200 s.
    fn noisy_server(leak: f64) -> Vec<Warning> {
        noisy_server_with(leak, 30e6, 1.0, true)
    }

    /// As [`noisy_server`], with the baselines swinging by `swing` in all, the heap (baselines
    /// and samples) carrying `in_heap` of what is kept, and the profile read or not.
    fn noisy_server_with(leak: f64, swing: f64, in_heap: f64, profile: bool) -> Vec<Warning> {
        const SAMPLE: f64 = 512.0 * 1024.0;
        let opts = TrendOptions::default();
        let mut t = Trends::new(&opts);
        let mut sites = AllocSites::new(alloc_sites::SAMPLE_INTERVAL_BYTES, "", &opts);
        let mut seed = 42u64;
        let mut unit = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        // (id, allocated at s, kept): the churn makes 20 MB/s (40 samples a second).
        let mut samples: Vec<(u64, f64, bool)> = Vec::new();
        let mut warnings = Vec::new();
        let (mut kept_bytes, mut owed) = (0.0, 0.0);
        for s in 0..200u64 {
            let now = s * 1000;
            owed += leak / SAMPLE;
            for _ in 0..40 {
                samples.push((samples.len() as u64 + 1, s as f64, false));
            }
            for _ in 0..owed as u64 {
                samples.push((samples.len() as u64 + 1, s as f64, true));
            }
            owed = owed.fract();
            kept_bytes += leak;
            if s % 3 == 0 {
                t.on_baseline(now, 60e6 + in_heap * kept_bytes + (unit() - 0.5) * swing);
            }
            t.on_sample(now, 120e6 + in_heap * kept_bytes, 1e6);
            if s % 5 == 0 {
                let live: Vec<LiveSample> = samples
                    .iter()
                    .filter(|&&(_, at, kept)| kept || s as f64 - at < 10.0)
                    .map(|&(id, _, _)| LiveSample { id, bytes: SAMPLE as u64 })
                    .collect();
                sites.on_read(SiteBytes { at_ms: now, ..SiteBytes::default() }, &live, 100, 100e6);
            }
            let sites = Some(&mut sites).filter(|_| profile);
            warnings.extend(t.evaluate(now, None, None, sites).into_iter().filter(|w| w.series_is_heap()));
        }
        warnings
    }

    #[test]
    fn a_slow_leak_under_a_noisy_heap_is_found_by_the_old_heap() {
        let leak = noisy_server(5e6 / 60.0);
        assert_eq!(leak.len(), 1, "{leak:?}");
        assert!(leak[0].message.contains("Objects older than 30 s grew"), "{}", leak[0].message);
        assert!(
            leak[0].details["oldHeap"]["slopeBytesPerMin"].as_f64().is_some_and(|v| v > 2e6),
            "{:?}",
            leak[0].details
        );
        assert_eq!(noisy_server(0.0), Vec::new(), "the same swings with nothing kept");
    }

    #[test]
    fn old_objects_that_leak_on_their_own_make_the_heap_leak_where_the_baselines_scatter() {
        let slow = 5e6 / 60.0;
        // Baselines swinging by 80 MB: the leak is not significant in them within 200 s.
        assert_eq!(noisy_server_with(slow, 80e6, 1.0, false), Vec::new());
        let leak = noisy_server_with(slow, 80e6, 1.0, true);
        assert_eq!(leak.len(), 1, "{leak:?}");
        assert_eq!(leak[0].details["oldHeap"]["state"], "leaking", "{:?}", leak[0].details);
        assert!(leak[0].message.contains("Objects older than 30 s grew"), "{}", leak[0].message);
        // Old objects that grow while the heap holds still: something else shrank, no leak.
        // Here it is the 90 % bar that keeps it out: flat baselines swinging by 30 MB read a
        // rise of +4.3 MB/min at 87.9 % with this seed (and at 80 MB of swing, the same).
        assert_eq!(noisy_server_with(slow, 30e6, 0.0, true), Vec::new());
    }

    #[test]
    fn a_climbing_heap_warns_once_with_slope_and_time_to_limit() {
        let mut t = Trends::new(&fast());
        let mut warnings = Vec::new();
        for i in 0..40u64 {
            let now = 1_000_000 + i * 500;
            t.on_baseline(now, 50e6 + i as f64 * 0.5e6);
            t.on_sample(now, 60e6, 1e6);
            t.on_rss(now, 100e6, 70e6);
            warnings.extend(t.evaluate(now, Some(4e9), None, None));
        }
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let w = &warnings[0];
        assert_eq!(w.code, "LEAKWATCH_HEAP_GROWTH");
        assert!(w.message.starts_with("Possible memory leak: the heap left after full GCs grew"), "{}", w.message);
        assert!(w.message.contains("heap limit (3.7 GB) is reached in"), "{}", w.message);
        assert_eq!(t.leaking(), vec!["heap"]);
        assert_eq!(t.to_json()["heap"]["state"], "leaking");
        assert_eq!(t.to_json()["rss"]["state"], "stable");
    }

    #[test]
    fn a_buffer_leak_is_not_blamed_on_the_heap() {
        let mut t = Trends::new(&fast());
        let mut warnings = Vec::new();
        for i in 0..40u64 {
            let now = i * 500;
            t.on_baseline(now, 50e6);
            t.on_sample(now, 60e6, 1e6 + i as f64 * 0.5e6);
            warnings.extend(t.evaluate(now, None, Some("A listener leak is live at the same time: …"), None));
        }
        let codes: Vec<&str> = warnings.iter().map(|w| w.code).collect();
        assert_eq!(codes, vec!["LEAKWATCH_EXTERNAL_GROWTH"]);
        // A listener leak live at the same time is named in the warning.
        let message = &warnings[0].message;
        assert!(message.ends_with("). A listener leak is live at the same time: …"), "{message}");
    }

    #[test]
    fn rss_that_follows_the_js_heap_is_not_a_leak_but_rss_beyond_it_is() {
        // A healthy server before its first full GC: V8 grows the heap by 3 MB/s of garbage,
        // RSS follows it, the baselines stay flat. Then a native leak of 1 MB/s beside a flat heap.
        let (mut t, mut native) = (Trends::new(&fast()), Trends::new(&fast()));
        let (mut healthy_codes, mut native_codes) = (Vec::new(), Vec::new());
        for i in 0..60u64 {
            let now = i * 500;
            let heap_total = 60e6 + i as f64 * 1.5e6;
            t.on_baseline(now, 40e6);
            t.on_rss(now, heap_total + 30e6, heap_total);
            healthy_codes.extend(t.evaluate(now, None, None, None).into_iter().map(|w| w.code));
            native.on_rss(now, 90e6 + i as f64 * 0.5e6, 60e6);
            native_codes.extend(native.evaluate(now, None, None, None).into_iter().map(|w| w.code));
        }
        assert!(healthy_codes.is_empty(), "{healthy_codes:?}");
        assert_eq!(t.to_json()["rss"]["state"], "stable");
        assert_eq!(native_codes, vec!["LEAKWATCH_RSS_GROWTH"]);
    }

    #[test]
    fn rss_beyond_the_heap_that_grows_while_rss_holds_still_is_not_a_leak() {
        // V8 releases heap pages (heapTotal falls by 1 MB/s) that RSS does not give back yet:
        // `rss - heapTotal` climbs, RSS does not.
        let mut t = Trends::new(&fast());
        let mut codes = Vec::new();
        for i in 0..60u64 {
            let now = i * 500;
            t.on_baseline(now, 40e6);
            t.on_rss(now, 150e6, 120e6 - i as f64 * 0.5e6);
            codes.extend(t.evaluate(now, None, None, None).into_iter().map(|w| w.code));
        }
        assert!(codes.is_empty(), "{codes:?}");
        assert_eq!(t.to_json()["rss"]["state"], "growing");
    }

    #[test]
    fn a_verdict_flickering_in_and_out_of_leaking_warns_once() {
        let mut t = Trends::new(&fast());
        let (mut level, mut warnings, mut left_leaking) = (50e6, 0, false);
        for i in 0..240u64 {
            let now = i * 500;
            // Climbing 1 MB/s, but flat for 8 s of every 20 s: the verdict drops out of
            // `leaking` during the pauses and comes back after them.
            if (i % 40) < 24 {
                level += 0.5e6;
            }
            t.on_rss(now, level, 30e6);
            warnings += t.evaluate(now, None, None, None).len();
            left_leaking |= warnings > 0 && t.leaking().is_empty();
        }
        assert!(left_leaking, "the verdict never flickered: the test shows nothing");
        assert_eq!(warnings, 1);
    }

    #[test]
    fn formats() {
        assert_eq!(duration(5_000), "5 s");
        assert_eq!(duration(600_000), "10 min");
        assert_eq!(duration(3 * 3_600_000 + 5 * 60_000), "3h 05m");
        assert_eq!(signed_bytes(-2.0 * 1024.0 * 1024.0), "-2.0 MB");
        assert_eq!(time_to_limit(100.0, 40.0, 60.0), Some(60_000));
        assert_eq!(time_to_limit(100.0, 40.0, 0.0), None);
    }
}
