//! Which allocation sites hold the heap's growth. V8's sampling heap profiler keeps a sample
//! of live allocations with their stacks (objects that die leave it); the JS thread reads it
//! every few seconds (binding.rs, never in a GC callback) and hands the nodes here, where each
//! read is reduced to live bytes per site and kept for a few minutes. A heap warning then
//! names the sites whose live bytes grew over its window, with their share of the growth.
//!
//! A site is the function that allocated (V8 gives the line where the function starts) and,
//! when that function is a package's, Node's or a built-in, the nearest caller in the app's
//! own code: a leak allocated inside a package is named by where the app called it. V8 names
//! the outermost function of optimized code, so a small function inlined into its caller
//! allocates as that caller.

use crate::verdict::old_heap::Survivors;
use crate::verdict::trend::{TrendOptions, Verdict};
use once_cell::sync::Lazy;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One node of V8's allocation profile, as the shim hands it over.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProfileNode {
    pub id: u32,
    /// 0 for the root.
    pub parent: u32,
    pub name: String,
    pub script: String,
    pub line: i32,
    pub column: i32,
    /// Live bytes sampled while this function was the innermost frame (V8's estimate).
    pub self_bytes: u64,
}

/// One live sample of V8's profile (`lw_profile_sample`, gc_shim.h): V8's id for it, which
/// grows with allocation time, and the bytes it stands for.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LiveSample {
    pub id: u64,
    pub bytes: u64,
}

/// A function in a script, where it starts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    pub function: String,
    pub script: String,
    pub line: i32,
    pub column: i32,
}

impl Frame {
    fn of(node: &ProfileNode) -> Frame {
        Frame { function: node.name.clone(), script: node.script.clone(), line: node.line, column: node.column }
    }

    /// The app's own code: a script that is neither Node's (`node:…`, `internal/…`) nor a
    /// package's (`…/node_modules/…`). V8's pseudo-frames (`(root)`, `(V8 API)`) have no script.
    pub fn is_app(&self) -> bool {
        !self.script.is_empty()
            && !self.script.starts_with("node:")
            && !self.script.starts_with("internal/")
            && !self.script.contains("/node_modules/")
    }
}

/// Where live bytes were allocated: the innermost frame and, when it is not the app's own
/// code, the nearest app frame above it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Site {
    pub frame: Frame,
    pub caller: Option<Frame>,
}

/// V8 keeps about one allocation in this many bytes by default (the profilers' usual
/// interval): a leak of 0.5 MB/s gives ~25 samples in 25 s, enough to tell its site from the
/// rest. The `heapProfile.sampleInterval` option changes it.
pub const SAMPLE_INTERVAL_BYTES: u64 = 512 * 1024;
/// Frames kept per sample: enough to climb from a package's internals to the app's call.
pub const STACK_DEPTH: u32 = 32;
/// Live samples above which a read is skipped: V8 builds the whole profile on the JS thread,
/// in time that grows with the samples (see benches/heap-profile.js).
const MAX_SAMPLES: f64 = 16_384.0;
/// The longest pause of the JS thread a read may cost, as predicted from the last read scaled
/// by the heap's growth since: a read that would take longer is skipped (and counted). A
/// profile whose every sample has a stack of its own reaches this at ~500 MB of live heap
/// (benches/heap-profile.js); an app's stacks repeat far more.
const READ_BUDGET_US: f64 = 5_000.0;
/// Heaps below this are scaled from as if this large: a small heap's read is mostly fixed
/// cost, which does not grow with the heap.
const SCALE_FROM_HEAP: f64 = 64.0 * 1024.0 * 1024.0;
/// Reads the prediction looks back on.
const RECENT_READS: usize = 4;

/// Sites kept per read: the largest ones. What falls off is small next to them, and a leaking
/// site grows into this set.
const MAX_SITES: usize = 400;
/// Nodes read from a profile at most: a profile of a huge heap with deep varied stacks is cut
/// here rather than held whole.
pub const MAX_NODES: u32 = 50_000;

/// One read: live bytes by site.
#[derive(Clone, Debug, Default)]
pub struct SiteBytes {
    pub at_ms: u64,
    pub bytes: HashMap<Site, u64>,
    /// The same bytes of app functions split by the nearest app function that called them:
    /// which call of a shared helper holds the growth (V8's inlining makes callers unreliable
    /// as part of a site, but the caller of most of the growth is worth naming).
    pub via: HashMap<(Site, Frame), u64>,
}

impl SiteBytes {
    /// Reduces a profile (parents listed before their children, as the shim visits them).
    pub fn from_nodes(at_ms: u64, nodes: &[ProfileNode]) -> SiteBytes {
        SiteBytes::from_nodes_excluding(at_ms, nodes, "")
    }

    /// The same, leaving out what functions in scripts under `own` (leakwatch's own, not empty)
    /// allocated: leakwatch's reads and samples are not the app's growth.
    pub fn from_nodes_excluding(at_ms: u64, nodes: &[ProfileNode], own: &str) -> SiteBytes {
        // For each node: the nearest app frame at or above it, by index into `nodes`.
        let mut app_at_or_above: HashMap<u32, Option<usize>> = HashMap::with_capacity(nodes.len());
        let mut bytes: HashMap<Site, u64> = HashMap::new();
        let mut via: HashMap<(Site, Frame), u64> = HashMap::new();
        for (i, node) in nodes.iter().enumerate() {
            let above = app_at_or_above.get(&node.parent).copied().flatten();
            let frame = Frame::of(node);
            let ours =
                !own.is_empty() && frame.script.strip_prefix("file://").unwrap_or(&frame.script).starts_with(own);
            let app = frame.is_app() && !ours;
            app_at_or_above.insert(node.id, if app { Some(i) } else { above });
            if node.self_bytes > 0 && !ours {
                // An app function is a site of its own, whoever called it: its callers differ
                // as V8 inlines it into them or not, and would split one leak into several.
                let above = above.map(|j| Frame::of(&nodes[j]));
                let (caller, by) = if app { (None, above) } else { (above, None) };
                let site = Site { frame, caller };
                if let Some(by) = by {
                    *via.entry((site.clone(), by)).or_default() += node.self_bytes;
                }
                *bytes.entry(site).or_default() += node.self_bytes;
            }
        }
        if bytes.len() > MAX_SITES {
            let mut all: Vec<_> = bytes.into_iter().collect();
            all.sort_by_key(|s| std::cmp::Reverse(s.1));
            all.truncate(MAX_SITES);
            bytes = all.into_iter().collect();
            via.retain(|(site, _), _| bytes.contains_key(site));
        }
        SiteBytes { at_ms, bytes, via }
    }

    pub fn total(&self) -> u64 {
        self.bytes.values().sum()
    }
}

/// A site's share of a heap growth.
#[derive(Clone, Debug, PartialEq)]
pub struct SiteGrowth {
    pub site: Site,
    pub growth_bytes: f64,
    /// Of the growth of all sites that grew.
    pub share: f64,
    /// For an app function: the app function that called it for most of its growth (more
    /// than half), when one did.
    pub mostly_via: Option<Frame>,
}

/// More than half of a site's growth must come through one caller for it to be named.
const VIA_SHARE: f64 = 0.5;

/// Sites named in a warning at most, and the smallest share named (after the first).
const TOP_SITES: usize = 3;
const MIN_SHARE: f64 = 0.05;

/// The sites that grew from `before` to `after`, largest first; empty when nothing grew.
pub fn growth(before: &SiteBytes, after: &SiteBytes) -> Vec<SiteGrowth> {
    let mut grown: Vec<(Site, f64)> = after
        .bytes
        .iter()
        .map(|(site, &now)| (site, now as f64 - before.bytes.get(site).copied().unwrap_or(0) as f64))
        .filter(|(_, g)| *g > 0.0)
        .map(|(site, g)| (site.clone(), g))
        .collect();
    let sum: f64 = grown.iter().map(|(_, g)| g).sum();
    grown.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.frame.script.cmp(&b.0.frame.script)));
    grown
        .into_iter()
        .map(|(site, g)| SiteGrowth {
            mostly_via: mostly_via(before, after, &site, g),
            site,
            growth_bytes: g,
            share: g / sum,
        })
        .enumerate()
        .take_while(|(i, s)| *i == 0 || s.share >= MIN_SHARE)
        .take(TOP_SITES)
        .map(|(_, s)| s)
        .collect()
}

/// The caller through which `site` grew by more than half of `growth`, if one did.
fn mostly_via(before: &SiteBytes, after: &SiteBytes, site: &Site, growth: f64) -> Option<Frame> {
    after
        .via
        .iter()
        .filter(|((s, _), _)| s == site)
        .map(|(key, &now)| (&key.1, now as f64 - before.via.get(key).copied().unwrap_or(0) as f64))
        .filter(|(_, g)| *g > VIA_SHARE * growth)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(frame, _)| frame.clone())
}

/// Time between reads: a warning's sites are at most this old and a read precedes its window,
/// and the old heap (verdict/old_heap.rs), a series of reads, has a point this often. Also while the
/// heap is stable: a heap that turns `growing` is judged on the minutes of old heap before.
/// A read pauses the JS thread for well under a millisecond on a typical heap (`maxReadMs`
/// in the log; benches/heap-profile.js), and is skipped where it would take long.
const READ_EVERY_MS: u64 = 5_000;
/// Reads skipped in a row on the predicted pause alone, after which the prediction is
/// forgotten and the next read measures again (a minute at READ_EVERY_MS): a prediction only
/// reads can refresh must not stop reads for good.
const RETRY_AFTER_SKIPS: u32 = 12;
/// Reads kept: enough to reach back over a verdict's window.
const KEEP_MS: u64 = 5 * 60_000;
const KEEP_READS: usize = 64;

/// A session's reads of the profile, and how reading went.
#[derive(Debug, Default)]
pub struct AllocSites {
    /// The profiler's sampling interval, in bytes.
    interval_bytes: u64,
    /// leakwatch's own scripts (a folder path ending in `/`), left out of every read.
    own_scripts: String,
    reads: VecDeque<SiteBytes>,
    last_attempt_ms: Option<u64>,
    pub read_count: u64,
    /// Reads skipped because the profile was too large to read in one go.
    pub skipped: u64,
    /// The longest read so far, in microseconds of the JS thread's CPU time (its pause for it).
    pub max_read_us: u64,
    /// The last few reads' pauses and the heap then: what the next read's is predicted from.
    recent_reads: VecDeque<(u64, f64)>,
    /// Reads skipped since the last one made.
    skip_streak: u32,
    /// Live bytes by when they were allocated (verdict/old_heap.rs).
    survivors: Survivors,
}

impl AllocSites {
    /// `trend`: the heap series' thresholds, which the old heap is judged by (verdict/old_heap.rs).
    pub fn new(interval_bytes: u64, own_scripts: &str, trend: &TrendOptions) -> AllocSites {
        AllocSites {
            interval_bytes: interval_bytes.max(1),
            own_scripts: own_scripts.to_string(),
            survivors: Survivors::new(trend, interval_bytes),
            ..AllocSites::default()
        }
    }

    /// leakwatch's own scripts, left out of every read (`SiteBytes::from_nodes_excluding`).
    pub fn own_scripts(&self) -> &str {
        &self.own_scripts
    }

    /// Whether reading the profile of a heap this large is cheap enough for the JS thread:
    /// a bounded number of samples, and a pause predicted within the budget.
    pub fn affordable(&self, heap_used: f64) -> bool {
        // The slowest of the recent reads, scaled by the heap since: reads of one profile vary
        // twofold, so one fast read must not let a slow one through.
        let predicted_us = self
            .recent_reads
            .iter()
            .filter(|(_, heap_then)| *heap_then > 0.0)
            .map(|(us, heap_then)| *us as f64 * (heap_used / heap_then.max(SCALE_FROM_HEAP)).max(1.0))
            .fold(0.0, f64::max);
        heap_used / self.interval_bytes as f64 <= MAX_SAMPLES && predicted_us <= READ_BUDGET_US
    }

    /// Whether the JS thread should read the profile now.
    pub fn due(&self, now_ms: u64) -> bool {
        self.last_attempt_ms.is_none_or(|at| now_ms.saturating_sub(at) >= READ_EVERY_MS)
    }

    pub fn on_skipped(&mut self, now_ms: u64) {
        self.last_attempt_ms = Some(now_ms);
        self.skipped += 1;
        self.skip_streak += 1;
        if self.skip_streak >= RETRY_AFTER_SKIPS {
            self.recent_reads.clear();
            self.skip_streak = 0;
        }
    }

    /// A read made, with its live samples, its pause and the heap used when it was made.
    pub fn on_read(&mut self, read: SiteBytes, samples: &[LiveSample], took_us: u64, heap_used: f64) {
        let now = read.at_ms;
        self.survivors.on_read(now, samples);
        self.last_attempt_ms = Some(now);
        self.read_count += 1;
        self.skip_streak = 0;
        self.max_read_us = self.max_read_us.max(took_us);
        self.recent_reads.push_back((took_us, heap_used));
        if self.recent_reads.len() > RECENT_READS {
            self.recent_reads.pop_front();
        }
        self.reads.push_back(read);
        while self.reads.len() > KEEP_READS || self.reads.front().is_some_and(|r| now.saturating_sub(r.at_ms) > KEEP_MS)
        {
            self.reads.pop_front();
        }
    }

    /// The old heap (verdict/old_heap.rs) as of `now_ms`: its verdict and sustained slope.
    pub fn old_heap(&mut self, now_ms: u64) -> (Verdict, Option<f64>) {
        self.survivors.judge(now_ms)
    }

    /// When the latest read kept was made.
    pub fn latest_read_ms(&self) -> Option<u64> {
        self.reads.back().map(|r| r.at_ms)
    }

    /// The sites that grew since `since_ms` (from the last read at or before it, else the
    /// oldest kept) to the latest read; empty without two reads to compare.
    pub fn growth_since(&self, since_ms: u64) -> Vec<SiteGrowth> {
        let (Some(first), Some(latest)) = (self.reads.front(), self.reads.back()) else {
            return Vec::new();
        };
        let before = self.reads.iter().rev().find(|r| r.at_ms <= since_ms).unwrap_or(first);
        if before.at_ms >= latest.at_ms {
            return Vec::new();
        }
        growth(before, latest)
    }
}

/// `src/cache.js:34:3`: file URLs as paths, paths under `cwd` relative to it.
fn location(frame: &Frame, cwd: Option<&Path>) -> String {
    let path = frame.script.strip_prefix("file://").unwrap_or(&frame.script);
    let shown = cwd.and_then(|cwd| Path::new(path).strip_prefix(cwd).ok()).map(|p| p.display().to_string());
    let shown = shown.unwrap_or_else(|| path.to_string());
    if frame.line > 0 {
        format!("{shown}:{}:{}", frame.line, frame.column)
    } else if shown.is_empty() {
        "(native code)".to_string()
    } else {
        shown
    }
}

fn function(frame: &Frame) -> &str {
    if frame.function.is_empty() {
        "(anonymous)"
    } else {
        &frame.function
    }
}

/// Package versions read so far, by package.json path (bounded): the JS thread's
/// `heapGrowth()` uses what the background thread's warnings have read, and reads nothing.
static VERSIONS: Lazy<Mutex<HashMap<PathBuf, Option<String>>>> = Lazy::new(Default::default);
const MAX_VERSIONS: usize = 256;

/// The package a script belongs to (`…/node_modules/@scope/name/…`), with the version its
/// package.json gives: read from the file when `may_read` (off the JS thread), else only if
/// read before.
fn package(frame: &Frame, may_read: bool) -> Option<(String, Option<String>)> {
    let path = frame.script.strip_prefix("file://").unwrap_or(&frame.script);
    let at = path.rfind("/node_modules/")? + "/node_modules/".len();
    let mut parts = path[at..].split('/');
    let first = parts.next()?;
    let name = if first.starts_with('@') { format!("{first}/{}", parts.next()?) } else { first.to_string() };
    let manifest = Path::new(&path[..at]).join(&name).join("package.json");
    let mut versions = VERSIONS.lock().unwrap_or_else(|p| p.into_inner());
    let version = match versions.get(&manifest) {
        Some(known) => known.clone(),
        None if may_read => {
            let read = read_version(&manifest);
            if versions.len() < MAX_VERSIONS {
                versions.insert(manifest, read.clone());
            }
            read
        }
        None => None,
    };
    Some((name, version))
}

fn read_version(manifest: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest).ok()?;
    serde_json::from_str::<Value>(&text).ok()?["version"].as_str().map(String::from)
}

fn frame_json(frame: &Frame, cwd: Option<&Path>) -> Value {
    json!({"function": function(frame), "location": location(frame, cwd), "file": frame.script, "line": frame.line, "column": frame.column})
}

/// What a heap warning says about the sites, and the same as data for its details:
/// `Most of the growth was allocated at src/cache.js:34:3 (saveSession, +12.3 MB, 71 %), …`
/// `may_read`: packages' versions may be read from their package.json (not on the JS thread).
pub fn describe(sites: &[SiteGrowth], cwd: Option<&Path>, may_read: bool) -> Option<(String, Value)> {
    if sites.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    let mut data = Vec::new();
    for s in sites {
        let frame = &s.site.frame;
        let package = package(frame, may_read);
        let (where_, inside) = match (&s.site.caller, frame.script.is_empty()) {
            // A built-in (String.prototype.repeat, JSON.parse): where the app called it.
            (Some(caller), true) => (location(caller, cwd), format!("{}() in {}", function(frame), function(caller))),
            (caller, _) => {
                let mut where_ = location(frame, cwd);
                if let Some((name, version)) = &package {
                    let v = version.as_deref().map(|v| format!("@{v}")).unwrap_or_default();
                    where_ = format!("{name}{v} ({where_})");
                }
                let mut inside = function(frame).to_string();
                if let Some(caller) = caller {
                    inside.push_str(&format!(", called from {} in {}", location(caller, cwd), function(caller)));
                } else if let Some(via) = &s.mostly_via {
                    inside.push_str(&format!(", mostly called from {} in {}", location(via, cwd), function(via)));
                }
                (where_, inside)
            }
        };
        parts.push(format!(
            "{where_} ({inside}, +{}, {:.0} %)",
            crate::verdict::memory::bytes(s.growth_bytes),
            s.share * 100.0
        ));
        let mut d = frame_json(frame, cwd);
        d["caller"] = s.site.caller.as_ref().map(|c| frame_json(c, cwd)).unwrap_or(Value::Null);
        d["mostlyVia"] = s.mostly_via.as_ref().map(|c| frame_json(c, cwd)).unwrap_or(Value::Null);
        d["package"] = package.map(|(name, version)| json!({"name": name, "version": version})).unwrap_or(Value::Null);
        d["growthBytes"] = json!(s.growth_bytes.round());
        d["share"] = json!((s.share * 1e3).round() / 1e3);
        data.push(d);
    }
    Some((format!("Most of the growth was allocated at {}.", parts.join(", ")), Value::Array(data)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: u32, parent: u32, name: &str, script: &str, line: i32, self_bytes: u64) -> ProfileNode {
        ProfileNode { id, parent, name: name.into(), script: script.into(), line, column: 3, self_bytes }
    }

    /// root → handle (app) → saveSession (app) → helper in a package → allocations
    fn profile(at_ms: u64, session_bytes: u64, package_bytes: u64, other_bytes: u64) -> SiteBytes {
        SiteBytes::from_nodes(
            at_ms,
            &[
                node(1, 0, "(root)", "", 0, 0),
                node(2, 1, "handle", "/app/server.js", 10, other_bytes),
                node(3, 2, "saveSession", "/app/cache.js", 34, session_bytes),
                node(4, 3, "clone", "/app/node_modules/clone/index.js", 5, package_bytes),
                node(5, 1, "emit", "node:events", 400, 0),
                node(6, 5, "parse", "node:internal/url", 20, 7),
            ],
        )
    }

    #[test]
    fn a_site_is_the_allocating_function_and_its_nearest_app_caller() {
        let p = profile(0, 100, 50, 10);
        let by_fn =
            |f: &str| p.bytes.iter().find(|(s, _)| s.frame.function == f).map(|(s, b)| (s.clone(), *b)).unwrap();
        let (clone, bytes) = by_fn("clone");
        assert_eq!(bytes, 50);
        assert_eq!(clone.caller.unwrap().function, "saveSession", "a package's allocation is named by the app's call");
        assert_eq!(by_fn("saveSession").0.caller, None, "an app function is a site whoever calls it");
        assert_eq!(by_fn("handle").0.caller, None);
        assert_eq!(by_fn("parse").0.caller, None, "Node's internals under no app frame");
        assert_eq!(p.total(), 167);
    }

    #[test]
    fn leakwatchs_own_allocations_are_left_out() {
        let nodes = [
            node(1, 0, "(root)", "", 0, 0),
            node(2, 1, "handle", "/app/server.js", 10, 0),
            node(3, 2, "heapGrowth", "/app/node_modules/leakwatch/js/index.js", 171, 500),
            node(4, 3, "parse", "", 0, 300),
        ];
        let sites = AllocSites::new(SAMPLE_INTERVAL_BYTES, "/app/node_modules/leakwatch/js/", &TrendOptions::default());
        let read = SiteBytes::from_nodes_excluding(0, &nodes, sites.own_scripts());
        assert_eq!(read.total(), 300, "a built-in under leakwatch's frame still counts");
        assert!(read.bytes.keys().all(|s| s.frame.function != "heapGrowth"));
        assert_eq!(SiteBytes::from_nodes(0, &nodes).total(), 800);
    }

    #[test]
    fn growth_names_the_growing_sites_largest_first_with_their_shares() {
        let before = profile(0, 1_000, 100, 5_000);
        let after = profile(20_000, 9_000, 2_100, 4_000); // +8,000 and +2,000; handle shrank
        let g = growth(&before, &after);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].site.frame.function, "saveSession");
        assert_eq!(g[0].growth_bytes, 8_000.0);
        assert!((g[0].share - 0.8).abs() < 1e-9);
        assert_eq!(g[1].site.frame.function, "clone");
        assert!(growth(&after, &before).iter().all(|s| s.site.frame.function == "handle"));
    }

    #[test]
    fn a_helpers_growth_names_the_caller_it_mostly_came_through() {
        let read = |at_ms, from_cache: u64, from_log: u64| {
            SiteBytes::from_nodes(
                at_ms,
                &[
                    node(1, 0, "(root)", "", 0, 0),
                    node(2, 1, "saveSession", "/app/cache.js", 34, 0),
                    node(3, 2, "text", "/app/lib.js", 48, from_cache),
                    node(4, 1, "log", "/app/log.js", 7, 0),
                    node(5, 4, "text", "/app/lib.js", 48, from_log),
                ],
            )
        };
        let g = growth(&read(0, 100, 5_000), &read(1, 9_100, 6_000));
        assert_eq!(g.len(), 1, "one site: text, whoever called it");
        assert_eq!(g[0].growth_bytes, 10_000.0);
        assert_eq!(g[0].mostly_via.as_ref().unwrap().function, "saveSession");
        let even = growth(&read(0, 0, 0), &read(1, 5_000, 5_000));
        assert_eq!(even[0].mostly_via, None, "half each: neither is most");
        let spread = growth(&read(0, 0, 0), &read(1, 4_000, 6_000));
        assert_eq!(spread[0].mostly_via.as_ref().unwrap().function, "log");
        let (text, data) = describe(&g, None, true).unwrap();
        assert_eq!(text, "Most of the growth was allocated at /app/lib.js:48:3 (text, mostly called from /app/cache.js:34:3 in saveSession, +0.0 MB, 100 %).");
        assert_eq!(data[0]["mostlyVia"]["function"], "saveSession");
    }

    #[test]
    fn small_sites_are_left_out_and_nothing_grown_names_nothing() {
        let before = profile(0, 1_000, 100, 5_000);
        let after = profile(20_000, 100_000, 101, 5_000);
        assert_eq!(growth(&before, &after).len(), 1, "+1 byte is not named beside +99,000");
        assert!(growth(&before, &before).is_empty());
    }

    /// One slow read (a machine that stopped the thread mid-read, once) must not stop reads for
    /// good: after RETRY_AFTER_SKIPS skips the next read measures again. A heap with too many
    /// samples to read stays skipped.
    #[test]
    fn one_slow_read_stops_reads_for_a_minute_not_for_good() {
        let mut sites = AllocSites::new(SAMPLE_INTERVAL_BYTES, "", &TrendOptions::default());
        sites.on_read(profile(0, 0, 0, 0), &[], 6_500, 80e6);
        let mut now = 0;
        let mut skipped = 0;
        while !sites.affordable(80e6) {
            now += READ_EVERY_MS;
            sites.on_skipped(now);
            skipped += 1;
            assert!(skipped <= RETRY_AFTER_SKIPS, "still skipping after {skipped} reads");
        }
        assert_eq!(skipped, RETRY_AFTER_SKIPS);
        sites.on_read(profile(now, 0, 0, 0), &[], 700, 80e6);
        assert!(sites.affordable(80e6), "the read that measured again sets the prediction");
        for _ in 0..3 * RETRY_AFTER_SKIPS {
            now += READ_EVERY_MS;
            sites.on_skipped(now);
        }
        assert!(!sites.affordable(9e9), "too many samples to read, whatever the prediction");
    }

    #[test]
    fn growth_since_compares_the_read_before_the_window_with_the_latest() {
        let mut sites = AllocSites::new(SAMPLE_INTERVAL_BYTES, "", &TrendOptions::default());
        assert!(sites.affordable(4e9) && !sites.affordable(9e9), "8 GiB of heap at most");
        assert!(!AllocSites::new(16 << 10, "", &TrendOptions::default()).affordable(1e9));
        let mut small = AllocSites::new(SAMPLE_INTERVAL_BYTES, "", &TrendOptions::default());
        small.on_read(profile(0, 0, 0, 0), &[], 800, 5e6);
        assert!(small.affordable(60e6), "a 5 MB heap's read is not scaled up twelvefold");
        assert!(!small.affordable(500e6), "but from 64 MB on it is");
        let mut slow = AllocSites::new(SAMPLE_INTERVAL_BYTES, "", &TrendOptions::default());
        slow.on_read(profile(0, 0, 0, 0), &[], 2_000, 100e6);
        assert!(slow.affordable(200e6), "4 ms predicted at twice the heap");
        assert!(!slow.affordable(300e6), "6 ms predicted: over the budget");
        assert!(slow.affordable(50e6), "a smaller heap is never predicted cheaper than the last read, but no dearer");
        slow.on_read(profile(1, 0, 0, 0), &[], 500, 100e6);
        assert!(!slow.affordable(300e6), "a fast read does not hide the slow one before it");
        assert!(sites.due(0));
        sites.on_read(profile(0, 0, 0, 0), &[], 100, 1e6);
        assert!(!sites.due(4_000) && sites.due(5_000));
        sites.on_read(profile(20_000, 1_000, 0, 0), &[], 100, 1e6);
        sites.on_read(profile(40_000, 5_000, 0, 0), &[], 100, 1e6);
        sites.on_read(profile(60_000, 9_000, 0, 0), &[], 300, 1e6);
        assert_eq!(sites.growth_since(25_000)[0].growth_bytes, 8_000.0, "from the read at 20 s");
        assert_eq!(sites.growth_since(0)[0].growth_bytes, 9_000.0);
        assert_eq!(sites.growth_since(90_000), Vec::new(), "no read before the latest to compare with");
        assert_eq!(sites.max_read_us, 300);
    }

    #[test]
    fn reads_are_bounded_in_number_and_age() {
        let mut sites = AllocSites::default();
        for i in 0..200 {
            sites.on_read(profile(i * 5_000, i, 0, 0), &[], 1, 1e6);
        }
        assert!(sites.reads.len() <= KEEP_READS);
        assert!(sites.reads.iter().all(|r| 199 * 5_000 - r.at_ms <= KEEP_MS));
    }

    #[test]
    fn a_read_keeps_only_the_largest_sites() {
        let mut nodes = vec![node(1, 0, "(root)", "", 0, 0)];
        for i in 0..1_000u32 {
            nodes.push(node(i + 2, 1, &format!("f{i}"), "/app/a.js", i as i32, u64::from(i) + 1));
        }
        let p = SiteBytes::from_nodes(0, &nodes);
        assert_eq!(p.bytes.len(), MAX_SITES);
        assert!(p.bytes.keys().any(|s| s.frame.function == "f999"));
        assert!(!p.bytes.keys().any(|s| s.frame.function == "f0"));
    }

    #[test]
    fn a_warning_names_sites_relative_to_the_app_and_packages_with_their_version() {
        let dir = std::env::temp_dir().join(format!("leakwatch-sites-{}", std::process::id()));
        let pkg = dir.join("node_modules/@acme/clone");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("package.json"), r#"{"name": "@acme/clone", "version": "2.1.2"}"#).unwrap();
        let app = |f: &str| format!("file://{}/{f}", dir.display());
        let before = SiteBytes::from_nodes(0, &[node(1, 0, "(root)", "", 0, 0)]);
        let after = SiteBytes::from_nodes(
            9,
            &[
                node(1, 0, "(root)", "", 0, 0),
                node(2, 1, "saveSession", &app("src/cache.js"), 34, 3 << 20),
                node(3, 2, "", &format!("{}/index.js", pkg.display()), 5, 1 << 20),
            ],
        );
        let (text, data) = describe(&growth(&before, &after), Some(&dir), true).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            text,
            format!(
                "Most of the growth was allocated at src/cache.js:34:3 (saveSession, +3.0 MB, 75 %), \
                 @acme/clone@2.1.2 (node_modules/@acme/clone/index.js:5:3) ((anonymous), called from \
                 src/cache.js:34:3 in saveSession, +1.0 MB, 25 %)."
            )
        );
        assert_eq!(data[1]["package"]["version"], "2.1.2");
        let other = dir.join("node_modules/other");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("package.json"), r#"{"version": "9.9.9"}"#).unwrap();
        let unread = SiteBytes::from_nodes(
            9,
            &[node(1, 0, "(root)", "", 0, 0), node(2, 1, "f", &format!("{}/i.js", other.display()), 1, 1 << 20)],
        );
        let (_, js_thread) = describe(&growth(&before, &unread), None, false).unwrap();
        assert_eq!(js_thread[0]["package"], json!({"name": "other", "version": null}), "no file read on the JS thread");
        let (_, known) = describe(&growth(&before, &after), None, false).unwrap();
        assert_eq!(known[1]["package"]["version"], "2.1.2", "a version read before is known");
        assert_eq!(data[1]["caller"]["function"], "saveSession");
        assert_eq!(data[0]["share"], 0.75);
        assert_eq!(describe(&[], None, true), None);
    }

    #[test]
    fn a_built_in_is_named_where_the_app_called_it() {
        let before = SiteBytes::default();
        let after = SiteBytes::from_nodes(
            9,
            &[
                node(1, 0, "(root)", "", 0, 0),
                node(2, 1, "fill", "/srv/app.js", 6, 0),
                node(3, 2, "repeat", "", 0, 1 << 20),
            ],
        );
        let (text, _) = describe(&growth(&before, &after), None, true).unwrap();
        assert_eq!(text, "Most of the growth was allocated at /srv/app.js:6:3 (repeat() in fill, +1.0 MB, 100 %).");
    }
}
