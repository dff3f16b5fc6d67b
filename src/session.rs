//! One isolate's view of leakwatch: what the JS thread and the GC hooks feed in, and the log
//! line composed from it. The JS thread and the background thread share `Shared` behind a
//! mutex held only for a few field updates, never across I/O.

use crate::alloc_sites::{self, AllocSites};
use crate::clock;
use crate::config::Config;
use crate::counters::CounterBlock;
use crate::gc_hint::GcHints;
use crate::gc_record::GcKind;
use crate::gc_stats::{GcEvent, GcStats};
use crate::listeners::{ListenerTable, SiteWarning};
use crate::proc_stats::Fds;
use crate::verdict::memory::Trends;
use crate::verdict::resources::ResourceTrends;
use crate::verdict::watch::Warning;
use std::sync::Arc;

/// Listener groups a session can tell apart (slot 0 is "other", where overflow folds).
pub const LISTENER_SLOTS: usize = 4096;
/// A listener-leak warning is "live" for the heap warning's note this long.
const LISTENER_LEAK_LIVE_MS: f64 = 10.0 * 60_000.0;
use serde_json::{json, Map, Value};

/// What the JS thread samples (`process.memoryUsage()` and the heap limit), once a second.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct JsSample {
    pub time_ms: f64,
    pub heap_used: f64,
    pub heap_total: f64,
    pub heap_limit: f64,
    pub external: f64,
    pub array_buffers: f64,
}

/// Process-wide figures the background thread reads from /proc.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcSample {
    pub rss: Option<u64>,
    pub fds: Option<Fds>,
}

pub struct Shared {
    pub config: Config,
    pub pid: u32,
    pub started_ms: f64,
    pub gc_source: &'static str,
    pub gc_fallback_reason: Option<String>,
    /// The Node headers the V8 shim in use was built against (`{node, nodeModuleVersion, v8}`).
    pub gc_shim: Option<Value>,
    pub gc: GcStats,
    pub gc_dropped: u64,
    pub sample: Option<JsSample>,
    /// Active libuv resources by type (`process.getActiveResourcesInfo()`), sampled with the heap.
    pub handles: Option<Map<String, Value>>,
    pub proc: ProcSample,
    /// JS wants each memory line back (a `log: fn`/logger, or `on('stats')` listeners).
    pub deliver_memory: bool,
    pub trends: Trends,
    /// When to ask V8 for a full GC (V8 source with `gcHints` only).
    gc_hints: Option<GcHints>,
    /// Reads of V8's sampling heap profile, when this session runs it (`heapProfile`).
    pub alloc_sites: Option<AllocSites>,
    /// `on`, `off`, `unavailable` or `in use by another profiler`.
    pub heap_profile: &'static str,
    /// Active handles and open fds, judged like the memory series.
    pub resources: ResourceTrends,
    /// Listener counts JS writes (two cells per slot: adds, removes) and what they mean.
    pub counters: Arc<CounterBlock>,
    pub listeners: ListenerTable,
    counts_copy: Vec<i32>,
    /// The latest listener-leak warning (time, message), for the heap warning's note.
    last_listener_leak: Option<(f64, String)>,
}

impl Shared {
    pub fn new(config: Config, gc_source: &'static str, gc_fallback_reason: Option<String>) -> Shared {
        Shared {
            counters: Arc::new(CounterBlock::new(2 * LISTENER_SLOTS)),
            listeners: ListenerTable::new(LISTENER_SLOTS),
            counts_copy: Vec::with_capacity(2 * LISTENER_SLOTS),
            last_listener_leak: None,
            trends: Trends::new(&config.trend),
            gc_hints: (config.gc_hints && gc_source == "v8").then(|| GcHints::new(config.trend.min_growth_bytes)),
            alloc_sites: None,
            heap_profile: "off",
            resources: ResourceTrends::new(&config.trend),
            deliver_memory: matches!(config.log, crate::config::LogTarget::Js),
            config,
            pid: std::process::id(),
            started_ms: clock::epoch_ms(),
            gc_source,
            gc_fallback_reason,
            gc_shim: None,
            gc: GcStats::default(),
            gc_dropped: 0,
            sample: None,
            handles: None,
            proc: ProcSample::default(),
        }
    }

    pub fn record_gc(&mut self, event: GcEvent) {
        self.gc.record(event);
        if let Some(baseline) = event.baseline {
            self.trends.on_baseline(event.end_ms as u64, baseline as f64);
            if let Some(hints) = &mut self.gc_hints {
                hints.on_full_gc(event.end_ms as u64, baseline as f64);
            }
        }
        if event.kind == GcKind::MarkSweepCompact {
            // The counters now, a few ms after the GC: what a settled read a second later
            // leaves out as added since.
            self.counters.snapshot(&mut self.counts_copy);
            self.listeners.on_full_gc_with_counts(event.end_ms as u64, &self.counts_copy);
        }
    }

    pub fn record_sample(&mut self, sample: JsSample) {
        self.trends.on_sample(sample.time_ms as u64, sample.heap_used, sample.external + sample.array_buffers);
        self.sample = Some(sample);
    }

    /// Whether the JS thread should send V8 a memory-pressure hint now (see `gc_hint`).
    pub fn gc_hint_due(&mut self) -> bool {
        let (Some(hints), Some(sample)) = (&mut self.gc_hints, self.sample) else {
            return false;
        };
        hints.due(sample.time_ms as u64, sample.heap_used, self.listeners.unsettled_growth())
    }

    pub fn record_proc(&mut self, now_ms: f64, proc: ProcSample) {
        if let (Some(rss), Some(sample)) = (proc.rss, self.sample) {
            self.trends.on_rss(now_ms as u64, rss as f64, sample.heap_total);
        }
        if let Some(fds) = proc.fds {
            self.resources.on_fds(now_ms as u64, fds.total);
        }
        // Handles come with the JS thread's sample, so they carry its time, not this one.
        if let (Some(sample), Some(total)) = (self.sample, self.handles_total()) {
            self.resources.on_handles(sample.time_ms as u64, total);
        }
        self.proc = proc;
    }

    /// Judges everything once (a second, right after RSS, fds and handles joined their series):
    /// the listener call sites, the heap, external memory and RSS, the handles and fds.
    /// Returns the warnings due now, in that order.
    pub fn judge(&mut self, now_ms: f64) -> Vec<Warning> {
        let mut out: Vec<Warning> = self.sample_listeners(now_ms).into_iter().map(SiteWarning::into_warning).collect();
        let heap_limit = self.sample.map(|x| x.heap_limit);
        let note = self.listener_leak_note(now_ms);
        out.extend(self.trends.evaluate(now_ms as u64, heap_limit, note.as_deref(), self.alloc_sites.as_mut()));
        out.extend(self.resources.evaluate(now_ms as u64, self.handles.as_ref(), self.proc.fds));
        out
    }

    /// Which leaks are suspected now: a trend `leaking`, or a listener leak reported in the
    /// last ten minutes. `{heap, external, rss, handles, fds, listeners}`, each true or false.
    pub fn leak_suspected(&self, now_ms: f64) -> Value {
        let mut leaking = self.trends.leaking();
        leaking.extend(self.resources.leaking());
        let mut m = Map::new();
        for series in ["heap", "external", "rss", "handles", "fds"] {
            m.insert(series.into(), json!(leaking.contains(&series)));
        }
        m.insert("listeners".into(), json!(self.listener_leak_note(now_ms).is_some()));
        Value::Object(m)
    }

    /// Reads the listener counters and judges the call sites; returns site-leak warnings.
    pub fn sample_listeners(&mut self, now_ms: f64) -> Vec<SiteWarning> {
        self.counters.snapshot(&mut self.counts_copy);
        let mut warnings = self.listeners.sample(now_ms as u64, &self.counts_copy);
        if let (Some(true), Some(hints)) = (self.listeners.take_settled_rise(), &mut self.gc_hints) {
            hints.on_listener_rise();
        }
        if let Some(w) = warnings.last() {
            self.note_listener_leak(now_ms, &w.message);
        }
        if let Some(note) = self.heap_leak_note() {
            for w in &mut warnings {
                w.message.push(' ');
                w.message.push_str(note);
            }
        }
        warnings
    }

    /// The heap warning names a live listener leak (`listener_leak_note`); a listener warning
    /// names a heap leak with this, raised here or in JS.
    pub fn heap_leak_note(&self) -> Option<&'static str> {
        self.trends
            .leaking()
            .contains(&"heap")
            .then_some("The heap left after full GCs is leaking at the same time (LEAKWATCH_HEAP_GROWTH).")
    }

    /// Remembers a listener-leak warning (from the table or from JS's per-emitter check).
    pub fn note_listener_leak(&mut self, now_ms: f64, message: &str) {
        self.last_listener_leak = Some((now_ms, message.to_string()));
    }

    /// "A listener leak is live at the same time: …" while one was reported recently.
    pub fn listener_leak_note(&self, now_ms: f64) -> Option<String> {
        let (at, message) = self.last_listener_leak.as_ref()?;
        (now_ms - at <= LISTENER_LEAK_LIVE_MS).then(|| format!("A listener leak is live at the same time: {message}"))
    }

    /// `{live, adds, removes, top: [{emitter, event, site, live, growth}]}` (top `n`), with the
    /// counters read now, judging nothing: every log line, `stats()` and `listeners()` show this
    /// moment's counts (a process shorter than the once-a-second sample would otherwise end on
    /// a final line with none). Growth and verdicts move only with `sample_listeners`.
    pub fn listeners_json(&mut self, n: usize) -> Value {
        self.counters.snapshot(&mut self.counts_copy);
        self.listeners.read(&self.counts_copy);
        let totals = self.listeners.totals();
        let top: Vec<Value> = self
            .listeners
            .top(n)
            .into_iter()
            .map(
                |t| json!({"emitter": t.emitter, "event": t.event, "site": t.site, "live": t.live, "growth": t.growth}),
            )
            .collect();
        json!({"live": totals.live, "adds": totals.adds, "removes": totals.removes, "top": top})
    }

    /// The `event: "memory"` line. `end_interval` restarts the per-interval GC figures
    /// (log lines do; `stats()` peeks without disturbing them).
    pub fn memory_line(&mut self, final_line: bool, end_interval: bool) -> Value {
        let now = clock::epoch_ms();
        let sample = self.sample.unwrap_or_default();
        let mut line = self.header("memory", now);
        if final_line {
            line.insert("final".into(), json!(true));
        }
        line.insert("intervalMs".into(), json!(self.config.interval_ms));
        line.insert("uptimeMs".into(), json!(whole_ms(now - self.started_ms)));
        // How old the JS thread's heap figures are: large when the event loop is blocked.
        let age = self.sample.map(|s| whole_ms(now - s.time_ms));
        line.insert("sampleAgeMs".into(), json!(age));
        for (key, value) in [
            ("heapUsed", sample.heap_used),
            ("heapTotal", sample.heap_total),
            ("heapLimit", sample.heap_limit),
            ("external", sample.external),
            ("arrayBuffers", sample.array_buffers),
        ] {
            line.insert(key.into(), json!(value as u64));
        }
        line.insert("rss".into(), json!(self.proc.rss));
        let baseline = self.gc.baseline();
        line.insert("baseline".into(), json!(baseline.map(|b| b.1)));
        line.insert("baselineTime".into(), json!(baseline.map(|b| whole_ms(b.0))));
        line.insert("fds".into(), json!(self.proc.fds.map(|f| f.total)));
        line.insert("fdsByKind".into(), self.proc.fds.map_or(Value::Null, fds_json));
        line.insert("handles".into(), self.handles_json());
        line.insert("gcSource".into(), json!(self.gc_source));
        line.insert("gc".into(), self.gc.to_json(self.gc_dropped, end_interval));
        line.insert("listeners".into(), self.listeners_json(10));
        line.insert("heapProfile".into(), self.heap_profile_json());
        let mut trend = self.trends.to_json();
        self.resources.add_to(&mut trend);
        line.insert("trend".into(), trend);
        Value::Object(line)
    }

    /// `lw.stats()`: the memory line's figures plus what a program may want beyond the log.
    pub fn stats(&mut self) -> Value {
        let mut stats = self.memory_line(false, false);
        let obj = stats.as_object_mut().expect("memory_line is an object");
        for key in ["lw", "event"] {
            obj.shift_remove(key);
        }
        obj.insert("gcFallbackReason".into(), json!(self.gc_fallback_reason));
        obj.insert("gcShim".into(), self.gc_shim.clone().unwrap_or(Value::Null));
        obj.insert("gcPauseBuckets".into(), self.gc.pause_buckets_json());
        obj.insert("leakSuspected".into(), self.leak_suspected(clock::epoch_ms()));
        let baselines: Vec<Value> = self.gc.baselines().map(|(t, v)| json!([whole_ms(*t), v])).collect();
        obj.insert("baselines".into(), Value::Array(baselines));
        stats
    }

    /// `{state, reads, skipped, maxReadMs}`: the sampling heap profile behind heap warnings' sites.
    fn heap_profile_json(&self) -> Value {
        let (reads, skipped, max_us) =
            self.alloc_sites.as_ref().map(|a| (a.read_count, a.skipped, a.max_read_us)).unwrap_or_default();
        json!({"state": self.heap_profile, "reads": reads, "skipped": skipped, "maxReadMs": max_us as f64 / 1000.0})
    }

    /// `lw.heapGrowth()`: `{state, sinceMs, latestReadMs, message, sites}` (see
    /// `alloc_sites::describe`),
    /// since `since` or else over the heap verdict's window.
    pub fn heap_growth_json(&self, since: Option<u64>) -> Value {
        let since = since.or_else(|| self.trends.heap_window_start()).unwrap_or(0);
        let cwd = std::env::current_dir().ok();
        let described = self
            .alloc_sites
            .as_ref()
            .and_then(|a| alloc_sites::describe(&a.growth_since(since), cwd.as_deref(), false));
        let (message, sites) = described.map_or((Value::Null, json!([])), |(text, data)| (json!(text), data));
        let latest = self.alloc_sites.as_ref().and_then(AllocSites::latest_read_ms);
        json!({"state": self.heap_profile, "sinceMs": since, "latestReadMs": latest, "message": message, "sites": sites})
    }

    /// `{total, byType}`, or null before the first sample.
    fn handles_json(&self) -> Value {
        match (&self.handles, self.handles_total()) {
            (Some(by_type), Some(total)) => json!({"total": total, "byType": by_type}),
            _ => Value::Null,
        }
    }

    fn handles_total(&self) -> Option<u64> {
        self.handles.as_ref().map(|by_type| by_type.values().filter_map(Value::as_u64).sum())
    }

    fn header(&self, event: &str, now: f64) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("lw".into(), json!(1));
        m.insert("event".into(), json!(event));
        m.insert("time".into(), json!(whole_ms(now)));
        m.insert("pid".into(), json!(self.pid));
        m.insert("hostname".into(), json!(self.config.hostname));
        m.insert("threadId".into(), json!(self.config.thread_id));
        m
    }

    /// An `event: "warning"` line for the log.
    pub fn warning_line(&self, code: &str, message: &str, details: Value) -> Value {
        let mut m = self.header("warning", clock::epoch_ms());
        m.insert("code".into(), json!(code));
        m.insert("message".into(), json!(message));
        m.insert("details".into(), details);
        Value::Object(m)
    }
}

/// Milliseconds as an integer: JSON readers should not see `1795478999865.0`.
fn whole_ms(ms: f64) -> i64 {
    ms.round() as i64
}

fn fds_json(f: Fds) -> Value {
    json!({"total": f.total, "socket": f.socket, "file": f.file, "pipe": f.pipe, "other": f.other})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LogTarget;
    use crate::gc_record::GcKind;

    fn shared() -> Shared {
        let config = Config {
            interval_ms: 1000,
            log: LogTarget::Off,
            hostname: "h".into(),
            thread_id: 0,
            trend: Default::default(),
            gc_hints: true,
            heap_profile: true,
            heap_profile_interval: 512 * 1024,
        };
        Shared::new(config, "v8", None)
    }

    /// The call-site verdict reads its points after full GCs: a site climbing for 10 minutes
    /// is reported when the GC events reach the table (perf_hooks ones carry no heap figure),
    /// and never without them.
    #[test]
    fn full_gcs_reach_the_listener_table() {
        let run = |with_gcs: bool| {
            let mut s = shared();
            s.listeners.describe(1, "Socket", "close", None, None);
            s.listeners.describe(2, "Socket", "close", Some("src/db.js:42:7"), None);
            let mut warnings = 0;
            for step in 0..=16u64 {
                let now = 1_000_000.0 + step as f64 * 15_000.0;
                let live = 100 + step as i32 * 25;
                // SAFETY: this test is the only user of the block.
                unsafe {
                    *s.counters.as_mut_ptr().add(2) = live;
                    *s.counters.as_mut_ptr().add(4) = live;
                }
                if with_gcs {
                    s.record_gc(GcEvent {
                        kind: GcKind::MarkSweepCompact,
                        end_ms: now - 2_000.0,
                        duration_ns: 1,
                        baseline: None,
                        heap_before: None,
                    });
                }
                warnings += s.sample_listeners(now).len();
            }
            warnings
        };
        assert_eq!(run(true), 1);
        assert_eq!(run(false), 0);
    }

    #[test]
    fn a_memory_line_has_every_documented_field() {
        let mut s = shared();
        s.sample = Some(JsSample {
            time_ms: 1.0,
            heap_used: 10.0,
            heap_total: 20.0,
            heap_limit: 100.0,
            external: 3.0,
            array_buffers: 1.0,
        });
        s.proc.rss = Some(4096);
        let line = s.memory_line(false, true);
        for key in [
            "lw",
            "event",
            "time",
            "pid",
            "hostname",
            "threadId",
            "intervalMs",
            "uptimeMs",
            "heapUsed",
            "heapTotal",
            "heapLimit",
            "external",
            "arrayBuffers",
            "rss",
            "baseline",
            "baselineTime",
            "fds",
            "fdsByKind",
            "handles",
            "gcSource",
            "gc",
            "trend",
        ] {
            assert!(line.get(key).is_some(), "missing {key}");
        }
        assert_eq!(line["event"], "memory");
        assert_eq!(line["baseline"], Value::Null);
        assert!(line.get("final").is_none());
        assert_eq!(s.memory_line(true, true)["final"], true);
    }

    #[test]
    fn baseline_appears_after_a_full_gc() {
        let mut s = shared();
        s.record_gc(GcEvent {
            kind: GcKind::MarkSweepCompact,
            end_ms: 5.0,
            duration_ns: 1,
            baseline: Some(777),
            heap_before: None,
        });
        let line = s.memory_line(false, true);
        assert_eq!(line["baseline"], 777);
        assert_eq!(line["gc"]["count"], 1);
        let stats = s.stats();
        assert_eq!(stats["baselines"][0][1], 777);
        assert!(stats.get("lw").is_none());
        assert_eq!(stats["gcPauseBuckets"]["kinds"]["markSweepCompact"]["count"], 1);
    }

    #[test]
    fn handles_and_fds_join_their_trends_and_the_line() {
        let mut s = shared();
        s.handles = Some(serde_json::from_str(r#"{"TCPSocketWrap": 3, "Timeout": 1}"#).unwrap());
        s.sample = Some(JsSample { time_ms: 1000.0, ..Default::default() });
        let fds = Fds { total: 9, socket: 3, file: 4, pipe: 1, other: 1 };
        s.record_proc(1000.0, ProcSample { rss: Some(1 << 20), fds: Some(fds) });
        assert!(s.judge(1000.0).is_empty());
        let line = s.memory_line(false, true);
        assert_eq!(line["handles"]["total"], 4);
        assert_eq!(line["fdsByKind"]["socket"], 3);
        assert_eq!(line["trend"]["handles"]["state"], "warming-up");
        assert_eq!(line["trend"]["fds"]["state"], "warming-up");
        let suspected = s.stats()["leakSuspected"].clone();
        assert_eq!(suspected["fds"], false);
        s.note_listener_leak(clock::epoch_ms(), "Possible EventEmitter listener leak");
        assert_eq!(s.stats()["leakSuspected"]["listeners"], true);
    }
}
