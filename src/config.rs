//! A session's settings, as JS hands them over (already validated there, with errors that
//! name the option; checked again here so Rust never trusts its input).

use crate::verdict::trend::TrendOptions;

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

/// A session's settings as js/index.js hands them to `binding.start`, before they are checked:
/// a plain object on the JS side (the `node` feature derives the conversion), with camelCase
/// names (`intervalMs`, `heapProfileIntervalBytes`, …).
#[cfg_attr(feature = "node", napi_derive::napi(object))]
#[derive(Clone, Debug, Default)]
pub struct ConfigInput {
    pub interval_ms: f64,
    /// `stderr`, `stdout`, `off`, `js` or `file:<path>`.
    pub log: String,
    pub hostname: Option<String>,
    pub thread_id: Option<u32>,
    pub trend: Option<TrendInput>,
    pub gc_hints: Option<bool>,
    pub heap_profile: Option<bool>,
    pub heap_profile_interval_bytes: Option<f64>,
}

/// The `heap` option's thresholds, each optional (the defaults are [`TrendOptions`]'s).
#[cfg_attr(feature = "node", napi_derive::napi(object))]
#[derive(Clone, Debug, Default)]
pub struct TrendInput {
    pub window_ms: Option<f64>,
    pub warmup_ms: Option<f64>,
    pub sustain_ms: Option<f64>,
    pub min_growth_bytes: Option<f64>,
    pub min_growth_ratio: Option<f64>,
    pub confidence: Option<f64>,
}

impl Config {
    pub fn from_input(input: &ConfigInput) -> Result<Config, String> {
        let interval_ms = whole(input.interval_ms).ok_or("intervalMs must be an integer")?;
        if !(MIN_INTERVAL_MS..=MAX_INTERVAL_MS).contains(&interval_ms) {
            return Err(format!("intervalMs must be {MIN_INTERVAL_MS}..{MAX_INTERVAL_MS}, got {interval_ms}"));
        }
        Ok(Config {
            interval_ms,
            log: parse_log(&input.log)?,
            hostname: input.hostname.clone().unwrap_or_default(),
            thread_id: input.thread_id.unwrap_or(0),
            trend: parse_trend(input.trend.as_ref())?,
            gc_hints: input.gc_hints.unwrap_or(true),
            heap_profile: input.heap_profile.unwrap_or(true),
            heap_profile_interval: input
                .heap_profile_interval_bytes
                .and_then(whole)
                .unwrap_or(crate::alloc_sites::SAMPLE_INTERVAL_BYTES)
                .clamp(1024, 64 << 20),
        })
    }
}

/// A non-negative whole number, as JS numbers carry them.
fn whole(n: f64) -> Option<u64> {
    (n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= u64::MAX as f64).then_some(n as u64)
}

fn parse_trend(input: Option<&TrendInput>) -> Result<TrendOptions, String> {
    let mut t = TrendOptions::default();
    let Some(v) = input else { return Ok(t) };
    let ms = |value: Option<f64>, into: &mut u64| -> Result<(), String> {
        if let Some(n) = value {
            *into = whole(n).ok_or_else(|| format!("bad trend options: {v:?}"))?;
        }
        Ok(())
    };
    ms(v.window_ms, &mut t.window_ms)?;
    ms(v.warmup_ms, &mut t.warmup_ms)?;
    ms(v.sustain_ms, &mut t.sustain_ms)?;
    t.min_growth_bytes = v.min_growth_bytes.unwrap_or(t.min_growth_bytes);
    t.min_growth_ratio = v.min_growth_ratio.unwrap_or(t.min_growth_ratio);
    t.confidence = v.confidence.unwrap_or(t.confidence);
    if t.sustain_ms == 0 || t.sustain_ms > t.window_ms || !(0.5..1.0).contains(&t.confidence) {
        return Err(format!("bad trend options: {v:?}"));
    }
    Ok(t)
}

fn parse_log(v: &str) -> Result<LogTarget, String> {
    match v {
        "stderr" => Ok(LogTarget::Stderr),
        "stdout" => Ok(LogTarget::Stdout),
        "off" => Ok(LogTarget::Off),
        "js" => Ok(LogTarget::Js),
        path if path.starts_with("file:") && path.len() > 5 => Ok(LogTarget::File(path[5..].to_string())),
        _ => Err(format!("log must be stderr, stdout, off, js or file:<path>, got {v:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(interval_ms: f64, log: &str) -> ConfigInput {
        ConfigInput { interval_ms, log: log.into(), ..Default::default() }
    }

    #[test]
    fn parses_a_full_config() {
        let full = ConfigInput { hostname: Some("h".into()), thread_id: Some(3), ..input(500.0, "file:/tmp/x.log") };
        let c = Config::from_input(&full).unwrap();
        assert_eq!(c.interval_ms, 500);
        assert_eq!(c.log, LogTarget::File("/tmp/x.log".into()));
        assert_eq!((c.hostname.as_str(), c.thread_id), ("h", 3));
        assert_eq!(c.trend, TrendOptions::default());
        let trend = TrendInput { window_ms: Some(9000.0), sustain_ms: Some(3000.0), ..Default::default() };
        let c = Config::from_input(&ConfigInput { trend: Some(trend), ..input(500.0, "off") }).unwrap();
        assert_eq!((c.trend.window_ms, c.trend.sustain_ms), (9000, 3000));
    }

    #[test]
    fn rejects_bad_values_with_the_setting_named() {
        assert!(Config::from_input(&input(5.0, "stderr")).unwrap_err().contains("intervalMs"));
        assert!(Config::from_input(&input(500.5, "stderr")).unwrap_err().contains("intervalMs"));
        assert!(Config::from_input(&input(500.0, "nope")).unwrap_err().contains("log must be"));
        assert!(Config::from_input(&input(500.0, "file:")).is_err());
        let sustain_past_window =
            TrendInput { window_ms: Some(1000.0), sustain_ms: Some(5000.0), ..Default::default() };
        let bad = ConfigInput { trend: Some(sustain_past_window), ..input(500.0, "off") };
        assert!(Config::from_input(&bad).unwrap_err().contains("trend"));
    }
}
