//! A session's settings, as JS hands them over (already validated there, with errors that
//! name the option; checked again here so Rust never trusts its input).

use crate::verdict::trend::TrendOptions;
use serde_json::Value;

pub const MIN_INTERVAL_MS: u64 = 100;
pub const MAX_INTERVAL_MS: u64 = 24 * 60 * 60 * 1000;

#[derive(Clone, Debug, PartialEq)]
pub enum LogTarget {
    Stderr,
    Stdout,
    Off,
    File(String),
    /// Lines go back to JS: a `log: fn` or a logger object.
    Js,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub interval_ms: u64,
    pub log: LogTarget,
    pub hostname: String,
    pub thread_id: u32,
    /// Thresholds of the trend verdicts (the `heap` option), shared by the three series.
    pub trend: TrendOptions,
    /// Memory-pressure hints to V8 when a baseline is overdue (see `gc_hint`); on by default.
    pub gc_hints: bool,
    /// V8's sampling heap profiler, so heap warnings name the allocation sites that grew
    /// (see `alloc_sites`); on by default.
    pub heap_profile: bool,
    /// One sample per this many bytes allocated, on average (V8's usual 512 KiB by default).
    pub heap_profile_interval: u64,
}

impl Config {
    pub fn from_json(text: &str) -> Result<Config, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("bad config: {e}"))?;
        let interval_ms = v["intervalMs"].as_u64().ok_or("intervalMs must be an integer")?;
        if !(MIN_INTERVAL_MS..=MAX_INTERVAL_MS).contains(&interval_ms) {
            return Err(format!("intervalMs must be {MIN_INTERVAL_MS}..{MAX_INTERVAL_MS}, got {interval_ms}"));
        }
        Ok(Config {
            interval_ms,
            log: parse_log(&v["log"])?,
            hostname: v["hostname"].as_str().unwrap_or("").to_string(),
            thread_id: v["threadId"].as_u64().unwrap_or(0) as u32,
            trend: parse_trend(&v["trend"])?,
            gc_hints: v["gcHints"].as_bool().unwrap_or(true),
            heap_profile: v["heapProfile"].as_bool().unwrap_or(true),
            heap_profile_interval: v["heapProfileIntervalBytes"]
                .as_u64()
                .unwrap_or(crate::alloc_sites::SAMPLE_INTERVAL_BYTES)
                .clamp(1024, 64 << 20),
        })
    }
}

/// `{windowMs, minGrowthBytes, minGrowthRatio, warmupMs, confidence, sustainMs}`, each optional.
fn parse_trend(v: &Value) -> Result<TrendOptions, String> {
    let mut t = TrendOptions::default();
    if v.is_null() {
        return Ok(t);
    }
    let ms = |key: &str, into: &mut u64| {
        if let Some(n) = v[key].as_u64() {
            *into = n;
        }
    };
    ms("windowMs", &mut t.window_ms);
    ms("warmupMs", &mut t.warmup_ms);
    ms("sustainMs", &mut t.sustain_ms);
    if let Some(n) = v["minGrowthBytes"].as_f64() {
        t.min_growth_bytes = n;
    }
    if let Some(n) = v["minGrowthRatio"].as_f64() {
        t.min_growth_ratio = n;
    }
    if let Some(n) = v["confidence"].as_f64() {
        t.confidence = n;
    }
    if t.sustain_ms == 0 || t.sustain_ms > t.window_ms || !(0.5..1.0).contains(&t.confidence) {
        return Err(format!("bad trend options: {v}"));
    }
    Ok(t)
}

fn parse_log(v: &Value) -> Result<LogTarget, String> {
    match v.as_str() {
        Some("stderr") => Ok(LogTarget::Stderr),
        Some("stdout") => Ok(LogTarget::Stdout),
        Some("off") => Ok(LogTarget::Off),
        Some("js") => Ok(LogTarget::Js),
        Some(path) if path.starts_with("file:") && path.len() > 5 => Ok(LogTarget::File(path[5..].to_string())),
        _ => Err(format!("log must be stderr, stdout, off, js or file:<path>, got {v}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_config() {
        let c = Config::from_json(r#"{"intervalMs":500,"log":"file:/tmp/x.log","hostname":"h","threadId":3}"#).unwrap();
        assert_eq!(c.interval_ms, 500);
        assert_eq!(c.log, LogTarget::File("/tmp/x.log".into()));
        assert_eq!((c.hostname.as_str(), c.thread_id), ("h", 3));
        assert_eq!(c.trend, TrendOptions::default());
        let c =
            Config::from_json(r#"{"intervalMs":500,"log":"off","trend":{"windowMs":9000,"sustainMs":3000}}"#).unwrap();
        assert_eq!((c.trend.window_ms, c.trend.sustain_ms), (9000, 3000));
    }

    #[test]
    fn rejects_bad_values_with_the_setting_named() {
        assert!(Config::from_json(r#"{"intervalMs":5,"log":"stderr"}"#).unwrap_err().contains("intervalMs"));
        assert!(Config::from_json(r#"{"intervalMs":500,"log":"nope"}"#).unwrap_err().contains("log must be"));
        assert!(Config::from_json(r#"{"intervalMs":500,"log":"file:"}"#).is_err());
        assert!(Config::from_json("not json").is_err());
    }
}
