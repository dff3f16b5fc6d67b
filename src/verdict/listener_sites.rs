//! The call-site listener verdict: does one call site's count of live listeners, read after
//! full GCs, keep growing? Plain data in (a site's history of settled counts), a
//! `LEAKWATCH_LISTENER_SITE_LEAK` warning out; the table that keeps the histories is
//! src/listeners.rs.
//!
//! A site is reported when its estimated live count keeps growing *as seen after full GCs*: an
//! emitter that nobody references still counts its listeners until V8 collects it and its marker's
//! finalizer has run (src/weak_markers.rs), which may be as late as a full GC, so between two full
//! GCs a healthy server's count climbs with the garbage (measured: +600,000 estimated
//! `IncomingMessage` listeners in 10 s at 60,000 requests/s, all gone at the next full GC). Only a
//! count read after a full GC has had time to run the finalizers (`SETTLE_MS` in listeners.rs) is a
//! point of the verdict, less what its group gained since the GC (the counters are read at the GC
//! too): a second of a busy server's new listeners, on emitters the next full GC collects, is not
//! part of what survived this one. Over a window of at least `min_span_ms` (stretched back to the
//! last five such points when full GCs are rare), the floor of those points (their minimum in each
//! quarter of the window that holds one, at least three) never falls and rises in at least two
//! steps, the points rise at 99 % (Mann–Kendall, `SITE_ALPHA`), and the count now is within 10% of
//! the window's peak. (Full GCs come often enough for this because the heap verdict asks V8 for one
//! when a baseline is overdue: see `gc_hint`.) A burst that drains lowers the count from its peak,
//! so it is not reported; a steady leak raises the floor every quarter. Once reported, a site is
//! reported again only when its count has doubled since, and not within `min_interval_ms` of the
//! last report.

use super::stats::mann_kendall;
use super::watch::Warning;
use serde_json::json;
use std::collections::VecDeque;

/// Warning code of the per-call-site verdict.
pub const SITE_LEAK_CODE: &str = "LEAKWATCH_LISTENER_SITE_LEAK";
/// Event name lw emits it under.
pub const SITE_LEAK_EVENT: &str = "listener-leak";

/// The settled counts of a window must rise at this one-sided Mann–Kendall level: five points
/// in rising order (p = 1/120) are the fewest that pass, and a steady count's ups and downs
/// (in-flight listeners at each full GC) almost never do.
const SITE_ALPHA: f64 = 0.01;
/// A window's growth must be at least its first count divided by this (a quarter).
const MIN_GROWTH_DIVISOR: i64 = 4;

/// Tunables of the per-site verdict. `Default` is what leakwatch runs with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SiteLeakConfig {
    /// The window growth is judged over.
    pub window_ms: u64,
    /// Least history before any verdict: growth has to last this long to count as a trend
    /// (a traffic burst rises for less).
    pub min_span_ms: u64,
    /// Least estimated live listeners for a site to be reported.
    pub min_live: i64,
    /// Least growth over the window for a site to be reported.
    pub min_growth: i64,
    /// Least time between two reports of one site.
    pub min_interval_ms: u64,
    /// Window of the growth reported by [`ListenerTable::top`](crate::listeners::ListenerTable::top).
    pub top_window_ms: u64,
}

impl Default for SiteLeakConfig {
    fn default() -> Self {
        SiteLeakConfig {
            window_ms: 10 * 60_000,
            // As the heap verdict's `sustain_ms`: growth that lasts 20 s is a trend. A burst
            // that drains lowers the count; a pool filling at start-up stops within seconds.
            min_span_ms: 20_000,
            min_live: 100,
            min_growth: 50,
            min_interval_ms: 5 * 60_000,
            top_window_ms: 60_000,
        }
    }
}

/// A per-call-site verdict: `code` is [`SITE_LEAK_CODE`], `message` the human text, the other
/// fields the structured details.
#[derive(Clone, Debug, PartialEq)]
pub struct SiteWarning {
    pub code: &'static str,
    pub message: String,
    pub emitter: String,
    pub event: String,
    pub site: String,
    pub app_site: Option<String>,
    /// Estimated live listeners from the site.
    pub count: i64,
    /// Estimated emitters holding them, when JS counts them.
    pub emitters: Option<i64>,
    /// Growth of `count` over the window.
    pub growth: i64,
    pub per_minute: f64,
    pub window_ms: u64,
}

impl SiteWarning {
    /// Worded: "Possible listener leak: src/db.js:42:7 (from src/app.js:10:3) has 5013 'close'
    /// listeners still attached across 5013 \[Socket\] emitters, growing +500/min".
    pub fn new(
        emitter: &str,
        event: &str,
        site: String,
        app_site: Option<String>,
        emitters: Option<i64>,
        growth: &SiteGrowth,
    ) -> SiteWarning {
        let per_minute = growth.growth as f64 * 60_000.0 / growth.span_ms.max(1) as f64;
        let mut message = format!("Possible listener leak: {site}");
        if let Some(app) = &app_site {
            message.push_str(&format!(" (from {app})"));
        }
        message.push_str(&format!(" has {} '{event}' listeners still attached", growth.last));
        match emitters {
            Some(n) => message.push_str(&format!(" across {n} [{emitter}] emitters")),
            None => message.push_str(&format!(" on [{emitter}] emitters")),
        }
        message.push_str(&format!(", growing +{}/min", per_minute.round() as i64));
        SiteWarning {
            code: SITE_LEAK_CODE,
            message,
            emitter: emitter.to_owned(),
            event: event.to_owned(),
            site,
            app_site,
            count: growth.last,
            emitters,
            growth: growth.growth,
            per_minute,
            window_ms: growth.span_ms,
        }
    }

    /// The warning as every verdict raises it: emitted as the `listener-leak` event.
    pub fn into_warning(self) -> Warning {
        let details = json!({
            "kind": "site", "emitter": self.emitter, "event": self.event, "count": self.count,
            "emitters": self.emitters, "growth": self.growth, "perMinute": self.per_minute,
            "windowMs": self.window_ms, "site": self.site, "appSite": self.app_site,
        });
        Warning { code: self.code, message: self.message, details, event: SITE_LEAK_EVENT }
    }
}

/// A growth seen over a history: the value at the start and now, over `span_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SiteGrowth {
    pub last: i64,
    pub growth: i64,
    pub span_ms: u64,
}

/// Growth that is sustained over the window (see the module docs), or None.
pub fn sustained_growth(history: &VecDeque<(u64, i64)>, now_ms: u64, cfg: &SiteLeakConfig) -> Option<SiteGrowth> {
    let since = now_ms.saturating_sub(cfg.window_ms);
    // The window's points, starting with the last one at or before its start, and at least
    // five (the fewest that can pass SITE_ALPHA): with a full GC every 4 minutes the window
    // stretches to the last five.
    let first = history.iter().rposition(|&(t, _)| t <= since).unwrap_or(0).min(history.len().saturating_sub(5));
    let points: Vec<(u64, i64)> = history.iter().skip(first).copied().collect();
    let (&(t0, v0), &(t1, v1)) = (points.first()?, points.last()?);
    let span = t1.saturating_sub(t0);
    if span < cfg.min_span_ms || points.len() < 5 {
        return None;
    }
    // Growth by a share of the count the window began with: garbage emitters that full GCs
    // have not collected yet scale with the load and drift by a few percent as the heap
    // grows (measured: +14 % over 30 s on a healthy server beside a busy one); a leak does not
    // stop at a share.
    if v1 < cfg.min_live || v1 - v0 < cfg.min_growth || v1 - v0 < v0 / MIN_GROWTH_DIVISOR {
        return None;
    }
    // Still near its highest: a count that has come down from a peak is draining.
    let peak = points.iter().map(|&(_, v)| v).max().unwrap_or(v1);
    if v1 * 10 < peak * 9 {
        return None;
    }
    let floors = quarter_floors(&points, t0, span);
    let falls = floors.windows(2).any(|w| w[1] < w[0]);
    let rises = floors.windows(2).filter(|w| w[1] > w[0]).count();
    if floors.len() < 3 || falls || rises < 2 {
        return None;
    }
    let xy: Vec<(f64, f64)> = points.iter().map(|&(t, v)| (t as f64, v as f64)).collect();
    if mann_kendall(&xy).p_increasing > SITE_ALPHA {
        return None;
    }
    Some(SiteGrowth { last: v1, growth: v1 - v0, span_ms: span })
}

/// The minimum value in each quarter of the span that has a point, in order. Full GCs come
/// when V8 likes, so a quarter may hold none; the first and the last always hold one.
fn quarter_floors(points: &[(u64, i64)], t0: u64, span: u64) -> Vec<i64> {
    let mut floors = [i64::MAX; 4];
    for &(t, v) in points {
        let q = (((t - t0) * 4) / span.max(1)).min(3) as usize;
        floors[q] = floors[q].min(v);
    }
    floors.into_iter().filter(|&f| f != i64::MAX).collect()
}
