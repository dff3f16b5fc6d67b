//! Trends of two things a leak can run out of before memory: active libuv handles (sockets,
//! timers, watchers, …) and open file descriptors. A sustained climb in either is what running
//! `lsof -p <pid> | wc -l` every minute by hand would show; this looks every second and says
//! so once, as `LEAKWATCH_HANDLE_GROWTH` or `LEAKWATCH_FD_GROWTH`.
//!
//! The verdicts are [`Trend`](super::trend::Trend)'s, with the `heap` option's timing (window, warm-up, sustain,
//! confidence) and growth thresholds in counts instead of bytes.

use super::trend::TrendOptions;
use super::watch::{duration, Series, Unit, Warning};
use crate::proc_stats::Fds;
use serde_json::{json, Map, Value};

/// A climb of fewer handles or fds than this over a window is never a leak: a server opens
/// dozens of connections in a burst and may keep them for minutes.
pub const MIN_GROWTH: f64 = 50.0;
/// Nor is one under a tenth of the level it started from: on a proxy holding 5,000 sockets,
/// 50 more is load, not a leak.
pub const MIN_GROWTH_RATIO: f64 = 0.1;

pub struct ResourceTrends {
    handles: Series,
    fds: Series,
}

impl ResourceTrends {
    /// `heap` is the session's trend options (the `heap` start option): its timing is kept,
    /// its byte thresholds are replaced by counts.
    pub fn new(heap: &TrendOptions) -> ResourceTrends {
        let opts = TrendOptions { min_growth_bytes: MIN_GROWTH, min_growth_ratio: MIN_GROWTH_RATIO, ..heap.clone() };
        ResourceTrends {
            handles: Series::new("handles", "LEAKWATCH_HANDLE_GROWTH", &opts, Unit::Count),
            fds: Series::new("fds", "LEAKWATCH_FD_GROWTH", &opts, Unit::Count),
        }
    }

    /// Active libuv resources, as sampled on the JS thread at `t_ms`.
    pub fn on_handles(&mut self, t_ms: u64, total: u64) {
        self.handles.push(t_ms, total as f64);
    }

    /// Open file descriptors, as read from /proc at `t_ms`.
    pub fn on_fds(&mut self, t_ms: u64, total: u64) {
        self.fds.push(t_ms, total as f64);
    }

    /// Re-judges both series; returns the warnings due now, worded with what the handles and
    /// fds are right now (the part of `lsof -p` that says what leaks).
    pub fn evaluate(
        &mut self,
        now_ms: u64,
        handles_by_type: Option<&Map<String, Value>>,
        fds: Option<Fds>,
    ) -> Vec<Warning> {
        let mut out = Vec::new();
        if self.handles.judge(now_ms) {
            out.push(handle_warning(&self.handles, now_ms, handles_by_type));
        }
        if self.fds.judge(now_ms) {
            out.push(fd_warning(&self.fds, now_ms, fds));
        }
        out
    }

    /// Adds `handles` and `fds` to a line's `trend` object.
    pub fn add_to(&self, trend: &mut Value) {
        if let Some(obj) = trend.as_object_mut() {
            obj.insert("handles".into(), self.handles.to_json());
            obj.insert("fds".into(), self.fds.to_json());
        }
    }

    /// Series currently `leaking` ("handles", "fds").
    pub fn leaking(&self) -> Vec<&'static str> {
        [&self.handles, &self.fds].into_iter().filter(|s| s.is_leaking()).map(|s| s.name).collect()
    }
}

fn handle_warning(series: &Series, now_ms: u64, by_type: Option<&Map<String, Value>>) -> Warning {
    let mut message = format!("Possible handle leak: active handles {}", climb(series, now_ms));
    if let Some((kind, n)) = by_type.and_then(largest) {
        message.push_str(&format!("; most are {kind} ({n})"));
    }
    message.push('.');
    let mut details = details(series);
    details["byType"] = by_type.map_or(Value::Null, |m| Value::Object(m.clone()));
    Warning::leak(series.code, message, details)
}

fn fd_warning(series: &Series, now_ms: u64, fds: Option<Fds>) -> Warning {
    let mut message = format!("Possible file-descriptor leak: open fds {}", climb(series, now_ms));
    if let Some(f) = fds {
        message.push_str(&format!(" (socket {}, file {}, pipe {}, other {})", f.socket, f.file, f.pipe, f.other));
    }
    message.push('.');
    let mut details = details(series);
    details["byKind"] =
        fds.map_or(Value::Null, |f| json!({"socket": f.socket, "file": f.file, "pipe": f.pipe, "other": f.other}));
    Warning::leak(series.code, message, details)
}

/// "grew by 120 in 12 s (+600/min, confidence 99.9%), 180 now"
fn climb(series: &Series, now_ms: u64) -> String {
    let v = series.judged();
    format!(
        "grew by {:.0} in {} ({:+.0}/min, confidence {:.1}%), {:.0} now",
        v.growth_bytes,
        duration(now_ms.saturating_sub(v.window_start_ms)),
        v.slope_bytes_per_min,
        v.confidence * 100.0,
        series.current()
    )
}

fn details(series: &Series) -> Value {
    let v = series.judged();
    json!({
        "series": series.name,
        "state": v.state.as_str(),
        "slopePerMin": (v.slope_bytes_per_min * 100.0).round() / 100.0,
        "confidence": v.confidence,
        "growth": v.growth_bytes.round(),
        "windowStartMs": v.window_start_ms,
        "current": series.current(),
    })
}

/// The most common handle type and its count.
fn largest(by_type: &Map<String, Value>) -> Option<(&str, u64)> {
    by_type.iter().filter_map(|(k, v)| Some((k.as_str(), v.as_u64()?))).max_by_key(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> TrendOptions {
        TrendOptions { window_ms: 20_000, warmup_ms: 2_000, sustain_ms: 4_000, ..Default::default() }
    }

    fn fds(socket: u64) -> Fds {
        Fds { total: socket + 10, socket, file: 6, pipe: 2, other: 2 }
    }

    #[test]
    fn a_socket_leak_warns_once_per_series_with_what_leaks() {
        let mut t = ResourceTrends::new(&fast());
        let mut by_type = Map::new();
        let mut warnings = Vec::new();
        for i in 0..40u64 {
            let now = 1_000_000 + i * 500;
            let sockets = 20 + i * 10; // +20/s, every one of them kept
            by_type.insert("TCPSocketWrap".into(), json!(sockets));
            by_type.insert("Timeout".into(), json!(2));
            t.on_handles(now, sockets + 2);
            t.on_fds(now, fds(sockets).total);
            warnings.extend(t.evaluate(now, Some(&by_type), Some(fds(sockets))));
        }
        let codes: Vec<_> = warnings.iter().map(|w| w.code).collect();
        assert_eq!(codes, vec!["LEAKWATCH_HANDLE_GROWTH", "LEAKWATCH_FD_GROWTH"], "{warnings:?}");
        let handles = &warnings[0];
        assert!(handles.message.starts_with("Possible handle leak: active handles grew by "), "{}", handles.message);
        assert!(handles.message.contains("; most are TCPSocketWrap ("), "{}", handles.message);
        assert_eq!(handles.details["series"], "handles");
        assert!(handles.details["slopePerMin"].as_f64().unwrap() > 600.0);
        let fd = &warnings[1];
        assert!(fd.message.starts_with("Possible file-descriptor leak: open fds grew by "), "{}", fd.message);
        assert!(fd.message.contains("(socket "), "{}", fd.message);
        assert_eq!(fd.details["byKind"]["file"], 6);
        assert_eq!(t.leaking(), vec!["handles", "fds"]);
        let mut trend = json!({"heap": {}});
        t.add_to(&mut trend);
        assert_eq!(trend["handles"]["state"], "leaking");
        assert_eq!(trend["fds"]["state"], "leaking");
    }

    #[test]
    fn a_small_or_flat_count_is_not_a_leak() {
        let mut t = ResourceTrends::new(&fast());
        for i in 0..60u64 {
            let now = i * 500;
            // +1 per second for 30 s: real, steady, but 30 handles is below MIN_GROWTH.
            t.on_handles(now, 100 + i / 2);
            t.on_fds(now, 40 + i % 3); // jitter around a flat level
            assert!(t.evaluate(now, None, None).is_empty());
        }
        assert!(t.leaking().is_empty());
    }

    #[test]
    fn warming_up_until_judged() {
        let t = ResourceTrends::new(&TrendOptions::default());
        let mut trend = json!({});
        t.add_to(&mut trend);
        assert_eq!(trend["handles"], json!({"state": "warming-up", "slopePerMin": 0, "confidence": 0}));
    }
}
