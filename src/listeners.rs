//! Listener-leak aggregation, run by the background thread over the counters JS bumps.
//!
//! JS (js/listeners/) owns no policy: it counts listener adds and removes into an `Int32Array`
//! of `2 * max_slots` cumulative, wrapping counters (`counts[2 * slot]` adds,
//! `counts[2 * slot + 1]` removes) and says once per slot what the slot means. This table reads
//! those counters periodically and turns them into live counts, growth, the top groups for the
//! log line, totals, and the per-call-site verdict behind `LEAKWATCH_LISTENER_SITE_LEAK`.
//!
//! Five kinds of slot:
//! - a *group* slot (`describe` with `site: None`): listener adds/removes for one (emitter
//!   class, event) pair, e.g. (`Socket`, `close`): exact, or, for a class that makes emitters
//!   by the thousand, weighted from a sample of them (js/listeners/emitter-sampling.js), so
//!   its live count is an estimate. Slot 0 is the overflow group.
//! - a *site* slot (`describe` with `site: Some(..)`): JS samples adds (one in `rate`, with a
//!   stack) and counts each sampled listener as `rate` adds of its call site, so the site's live
//!   weight estimates its share of the group. The group's exact live count is split between its
//!   sites in proportion to their live weights.
//! - a site's *emitters* slot (`describe_emitters`): the same weighting, counting emitters that
//!   hold listeners from the site, for "across N emitters".
//! - the *uncounted* and *excess* slots (`describe_totals`), which make the totals exact: the
//!   groups count a sampled listener as `weight` adds and settle counts that changed unseen,
//!   so exact adds = the groups' adds + the adds no group counted (uncounted) − what the groups
//!   counted beyond one per add (excess); the same for removes.
//!
//! A site's counts read after full GCs are its history; whether it keeps growing is judged by
//! `verdict::listener_sites`.
//!
//! Memory is bounded: at most `max_slots` slots, each with fixed-size histories.
//!
//! The counters are written by JS while this side reads them: the caller must copy them out
//! with atomic (relaxed) loads and pass that copy to [`ListenerTable::sample`].

use crate::verdict::listener_sites::{sustained_growth, SiteGrowth};
pub use crate::verdict::listener_sites::{SiteLeakConfig, SiteWarning, SITE_LEAK_CODE, SITE_LEAK_EVENT};
use std::collections::VecDeque;

const HISTORY_POINTS: usize = 48;
/// A count read this long after a full GC has seen its finalizers run (they are a task the
/// JS thread runs after the GC).
const SETTLE_MS: u64 = 1000;
const MAX_TEXT: usize = 512;
const MAX_TOP: usize = 100;
/// The site of listeners already attached when their emitter was first counted (js/listeners/
/// groups.js FOUND_SITE): not added by a call site, so never judged as a leaking one.
const FOUND_SITE: &str = "(attached before tracking began)";
/// One row of the log line's `listeners.top`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopEntry {
    pub emitter: String,
    pub event: String,
    /// The site holding most of the group's live listeners, when sampling found one.
    pub site: Option<String>,
    pub live: i64,
    /// Change of `live` over the last `top_window_ms`.
    pub growth: i64,
}

/// Listeners live now (summed over the groups), and adds/removes since the table started
/// (exact when JS keeps the uncounted and excess slots; see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub live: i64,
    pub adds: u64,
    pub removes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Unused,
    Group,
    Site,
    /// Emitters holding listeners of the site slot given.
    SiteEmitters(usize),
    /// Adds and removes no group counted.
    Uncounted,
    /// What the groups counted beyond one per add or remove.
    Excess,
}

#[derive(Clone, Debug)]
struct Slot {
    kind: Kind,
    emitter: String,
    event: String,
    site: Option<String>,
    app_site: Option<String>,
    /// Raw counters at the previous sample, to widen the wrapping int32s.
    raw_adds: i32,
    raw_removes: i32,
    adds: u64,
    removes: u64,
    /// Live count at the latest sample (for sites: sampled weight, not yet scaled).
    live: i64,
    /// Groups: cumulative adds when the latest full GC was seen, if its counters were read.
    adds_at_gc: Option<u64>,
    /// (time, live) points; for sites the scaled estimate.
    history: VecDeque<(u64, i64)>,
    /// Sites: the estimate at the first sample `SETTLE_MS` after each full GC.
    settled: VecDeque<(u64, i64)>,
    /// Estimated live count when this site was last reported, and when.
    reported: Option<(i64, u64)>,
    /// Links, kept at describe time so a sample is linear in the number of slots: a site's
    /// group slot and emitters slot, a group's site slots.
    group: Option<usize>,
    emitters: Option<usize>,
    sites: Vec<usize>,
}

impl Slot {
    fn new() -> Self {
        Slot {
            kind: Kind::Unused,
            emitter: String::new(),
            event: String::new(),
            site: None,
            app_site: None,
            raw_adds: 0,
            raw_removes: 0,
            adds: 0,
            removes: 0,
            live: 0,
            adds_at_gc: None,
            // Grows on use: most of a table's slots are never used, and a preallocated history
            // for every one of them was megabytes of idle RSS.
            history: VecDeque::new(),
            settled: VecDeque::new(),
            reported: None,
            group: None,
            emitters: None,
            sites: Vec::new(),
        }
    }

    /// A call site the verdict judges: not listeners found already attached.
    fn judged(&self) -> bool {
        self.kind == Kind::Site && self.site.as_deref() != Some(FOUND_SITE)
    }

    /// Reads this slot's counters: cumulative totals grow by the wrapped differences.
    fn read(&mut self, adds: i32, removes: i32) {
        self.adds += u64::from((adds as u32).wrapping_sub(self.raw_adds as u32));
        self.removes += u64::from((removes as u32).wrapping_sub(self.raw_removes as u32));
        self.raw_adds = adds;
        self.raw_removes = removes;
        self.live = i64::from(adds.wrapping_sub(removes));
    }

    /// `value` now minus its value `window_ms` ago (or at the oldest point, if younger).
    fn growth(&self, now_ms: u64, window_ms: u64) -> i64 {
        let Some(&(_, last)) = self.history.back() else {
            return 0;
        };
        let since = now_ms.saturating_sub(window_ms);
        let start =
            self.history.iter().rev().find(|&&(t, _)| t <= since).or(self.history.front()).map_or(last, |&(_, v)| v);
        last - start
    }
}

/// Adds a point to a history, keeping at most `HISTORY_POINTS` that span at least `span_ms`: a
/// point closer than span/points to the previous one replaces it.
/// Appends a point, or replaces the latest one if it is less than `gap` ms old.
fn record(history: &mut VecDeque<(u64, i64)>, now_ms: u64, value: i64, gap: u64) {
    let replace = matches!(history.back(), Some(&(t, _)) if now_ms.saturating_sub(t) < gap) && history.len() > 1;
    if replace {
        history.pop_back();
    }
    if history.len() == HISTORY_POINTS {
        history.pop_front();
    }
    history.push_back((now_ms, value));
}

/// Group metadata and count history per slot; see the module docs.
#[derive(Debug)]
pub struct ListenerTable {
    /// Slots up to the highest one described so far; never more than `max_slots`.
    slots: Vec<Slot>,
    max_slots: usize,
    config: SiteLeakConfig,
    last_sample_ms: Option<u64>,
    /// Whether the latest settled read found a call site `min_growth` above its settled reads
    /// before; taken by [`ListenerTable::take_settled_rise`].
    settled_rise: Option<bool>,
    /// End of the latest full GC whose settled counts are not read yet.
    full_gc_ms: Option<u64>,
}

impl ListenerTable {
    /// A table for `max_slots` slots (`counts` holds `2 * max_slots` int32s).
    pub fn new(max_slots: usize) -> Self {
        Self::with_config(max_slots, SiteLeakConfig::default())
    }

    pub fn with_config(max_slots: usize, config: SiteLeakConfig) -> Self {
        ListenerTable {
            slots: Vec::new(),
            max_slots,
            config,
            last_sample_ms: None,
            full_gc_ms: None,
            settled_rise: None,
        }
    }

    /// Makes `slot` exist (slots are created as JS hands them out); false when out of range.
    fn ensure(&mut self, slot: usize) -> bool {
        if slot >= self.max_slots {
            return false;
        }
        if slot >= self.slots.len() {
            self.slots.resize_with(slot + 1, Slot::new);
        }
        true
    }

    /// What `slot` counts: a group (`site: None`) or a call site within the group
    /// (`emitter`, `event`). May be called again for the same slot, e.g. when a site becomes
    /// known; counts already read are kept. Slots out of range are ignored.
    pub fn describe(&mut self, slot: usize, emitter: &str, event: &str, site: Option<&str>, app_site: Option<&str>) {
        if !self.ensure(slot) {
            return;
        }
        self.unlink(slot);
        let s = &mut self.slots[slot];
        s.kind = if site.is_some() { Kind::Site } else { Kind::Group };
        s.emitter = bounded(emitter);
        s.event = bounded(event);
        s.site = site.map(bounded);
        s.app_site = app_site.map(bounded);
        self.link(slot);
    }

    /// Takes `slot` out of the links of the others (before it changes meaning).
    fn unlink(&mut self, slot: usize) {
        if let Some(g) = self.slots[slot].group.take() {
            self.slots[g].sites.retain(|&x| x != slot);
        }
        for site in std::mem::take(&mut self.slots[slot].sites) {
            self.slots[site].group = None;
        }
    }

    /// Links a site to its group (same emitter class and event), or a group to its sites.
    fn link(&mut self, slot: usize) {
        let (kind, emitter, event) = {
            let s = &self.slots[slot];
            (s.kind.clone(), s.emitter.clone(), s.event.clone())
        };
        let same = |o: &Slot, k: &Kind| o.kind == *k && o.emitter == emitter && o.event == event;
        match kind {
            Kind::Site => {
                if let Some(g) = self.slots.iter().position(|o| same(o, &Kind::Group)) {
                    self.slots[slot].group = Some(g);
                    self.slots[g].sites.push(slot);
                }
            }
            Kind::Group => {
                let sites: Vec<usize> = (0..self.slots.len())
                    .filter(|&i| same(&self.slots[i], &Kind::Site) && self.slots[i].group.is_none())
                    .collect();
                for &i in &sites {
                    self.slots[i].group = Some(slot);
                }
                self.slots[slot].sites = sites;
            }
            _ => {}
        }
    }

    /// `slot` counts the emitters holding listeners of the site described at `site_slot`.
    pub fn describe_emitters(&mut self, slot: usize, site_slot: usize) {
        if !self.ensure(slot) || !self.ensure(site_slot) {
            return;
        }
        self.unlink(slot);
        self.slots[slot].kind = Kind::SiteEmitters(site_slot);
        self.slots[site_slot].emitters = Some(slot);
    }

    /// `uncounted` and `excess` make the totals exact (see the module docs).
    pub fn describe_totals(&mut self, uncounted: usize, excess: usize) {
        for (slot, kind) in [(uncounted, Kind::Uncounted), (excess, Kind::Excess)] {
            if self.ensure(slot) {
                self.unlink(slot);
                self.slots[slot].kind = kind;
            }
        }
    }

    /// A full GC ended at `end_ms` (the clock of [`ListenerTable::sample`]).
    pub fn on_full_gc(&mut self, end_ms: u64) {
        self.full_gc_ms = Some(end_ms);
        for slot in &mut self.slots {
            slot.adds_at_gc = None;
        }
    }

    /// The same, with the counters read just after the GC: the settled read then leaves out
    /// what was added since. Read a second later, so that the finalizers of collected
    /// emitters have run, a healthy server's count also holds a second of new listeners on
    /// emitters that will die at the next full GC: up to a thousand at 1,000 requests a second,
    /// more or fewer as the read falls, and a run of such reads can rise by chance.
    pub fn on_full_gc_with_counts(&mut self, end_ms: u64, counts: &[i32]) {
        self.on_full_gc(end_ms);
        self.read(counts);
        for slot in self.slots.iter_mut().filter(|s| s.kind == Kind::Group) {
            slot.adds_at_gc = Some(slot.adds);
        }
    }

    /// Reads the counters at `now_ms` (a monotonic clock in ms) and returns the per-site
    /// warnings due now (usually none). `counts` is a copy of the JS counters.
    pub fn sample(&mut self, now_ms: u64, counts: &[i32]) -> Vec<SiteWarning> {
        // Every sample's history spans the longest window; settled points (one per full GC)
        // keep their detail at the shortest span judged, so hinted full GCs a few seconds
        // apart all count.
        let gap = self.config.window_ms.max(self.config.top_window_ms) / (HISTORY_POINTS as u64 - 2);
        let settled_gap = self.config.min_span_ms / 8;
        let settled = self.full_gc_ms.is_some_and(|end| now_ms >= end + SETTLE_MS);
        if settled {
            self.full_gc_ms = None;
        }
        self.read(counts);
        for slot in self.slots.iter_mut().filter(|s| s.kind == Kind::Group) {
            record(&mut slot.history, now_ms, slot.live, gap);
        }
        let mut rose = false;
        for i in 0..self.slots.len() {
            if self.slots[i].kind == Kind::Site {
                let estimate = self.site_estimate(i);
                let settled_estimate = self.settled_share(i, estimate);
                let min_growth = self.config.min_growth;
                let slot = &mut self.slots[i];
                record(&mut slot.history, now_ms, estimate, gap);
                if settled {
                    // A rise: `min_growth` above every settled read before (a site's first
                    // read rose from nothing). A steady load's ups and downs seldom set such
                    // a record, so they do not keep the GC hints coming.
                    let highest = slot.settled.iter().map(|&(_, v)| v).max().unwrap_or(0);
                    rose |= slot.judged() && settled_estimate - highest >= min_growth;
                    record(&mut slot.settled, now_ms, settled_estimate, settled_gap);
                }
            }
        }
        if settled {
            self.settled_rise = Some(rose);
        }
        self.last_sample_ms = Some(now_ms);
        (0..self.slots.len()).filter_map(|i| self.site_verdict(i, now_ms)).collect()
    }

    /// Some call site holds `min_growth` more listeners than at its latest settled read (or
    /// than none, before its first): only a full GC can tell garbage from a leak there. For
    /// the GC hint policy (`gc_hint`).
    pub fn unsettled_growth(&self) -> bool {
        let latest = |h: &VecDeque<(u64, i64)>| h.back().map_or(0, |&(_, v)| v);
        self.slots.iter().any(|s| s.judged() && latest(&s.history) - latest(&s.settled) >= self.config.min_growth)
    }

    /// Whether the settled read since the last call found a call site `min_growth` above its
    /// settled reads before (None: no settled read since).
    pub fn take_settled_rise(&mut self) -> Option<bool> {
        self.settled_rise.take()
    }

    /// Brings every slot's adds, removes and live count up to `counts`, judging nothing: what
    /// `stats()` shows between two samples. Growth and verdicts move only with `sample`.
    pub fn read(&mut self, counts: &[i32]) {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if slot.kind == Kind::Unused {
                continue;
            }
            let adds = counts.get(2 * i).copied().unwrap_or(slot.raw_adds);
            let removes = counts.get(2 * i + 1).copied().unwrap_or(slot.raw_removes);
            slot.read(adds, removes);
        }
    }

    /// The `n` groups with the most live listeners (at most 100), largest first.
    pub fn top(&self, n: usize) -> Vec<TopEntry> {
        let now = self.last_sample_ms.unwrap_or(0);
        let mut rows: Vec<TopEntry> = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == Kind::Group && s.live > 0)
            .map(|(i, s)| TopEntry {
                emitter: s.emitter.clone(),
                event: s.event.clone(),
                site: self.dominant_site(i),
                live: s.live,
                growth: s.growth(now, self.config.top_window_ms),
            })
            .collect();
        rows.sort_by(|a, b| b.live.cmp(&a.live).then(b.growth.cmp(&a.growth)));
        rows.truncate(n.min(MAX_TOP));
        rows
    }

    /// Live listeners now and adds/removes since the table started, over all groups.
    pub fn totals(&self) -> Totals {
        let sum = |kind: Kind| {
            self.slots.iter().filter(|s| s.kind == kind).fold(Totals::default(), |t, s| Totals {
                live: t.live + s.live.max(0),
                adds: t.adds + s.adds,
                removes: t.removes + s.removes,
            })
        };
        let (groups, uncounted, excess) = (sum(Kind::Group), sum(Kind::Uncounted), sum(Kind::Excess));
        Totals {
            live: groups.live,
            adds: (groups.adds + uncounted.adds).saturating_sub(excess.adds),
            removes: (groups.removes + uncounted.removes).saturating_sub(excess.removes),
        }
    }

    /// The exact live count of the site's group, times the site's share of the sampled weight.
    /// Listeners found attached (FOUND_SITE) are counted one by one, not sampled: that site
    /// keeps its own weight, and the call sites share the rest of the group.
    fn site_estimate(&self, site: usize) -> i64 {
        let weight = self.slots[site].live.max(0);
        let Some(group) = self.slots[site].group else {
            return weight;
        };
        let group_live = self.slots[group].live.max(0);
        let (found, sampled): (Vec<usize>, Vec<usize>) =
            self.slots[group].sites.iter().partition(|&&i| self.slots[i].site.as_deref() == Some(FOUND_SITE));
        if found.contains(&site) {
            return weight.min(group_live);
        }
        let found_live: i64 = found.iter().map(|&i| self.slots[i].live.max(0)).sum();
        let total: i64 = sampled.iter().map(|&i| self.slots[i].live.max(0)).sum();
        if total == 0 {
            return 0;
        }
        scale((group_live - found_live).max(0), weight, total)
    }

    /// A site's `estimate` without the listeners its group gained since the full GC (when its
    /// counters were read then): the site's share of the group's count at the GC that is
    /// still live. Adds since count whole, removes since are not told apart from removes of
    /// older listeners, so this can only err low, and never below zero.
    fn settled_share(&self, site: usize, estimate: i64) -> i64 {
        let Some(group) = self.slots[site].group.map(|g| &self.slots[g]) else {
            return estimate;
        };
        let (Some(at_gc), live) = (group.adds_at_gc, group.live.max(0)) else {
            return estimate;
        };
        let since = i64::try_from(group.adds.saturating_sub(at_gc)).unwrap_or(i64::MAX);
        if live == 0 {
            return 0;
        }
        scale((live - since).max(0), estimate, live)
    }

    /// Emitters holding the site's listeners: the emitters slot's weight, scaled like the site.
    fn emitters_estimate(&self, site: usize) -> Option<i64> {
        let em = self.slots[site].emitters?;
        if self.slots[em].kind != Kind::SiteEmitters(site) {
            return None;
        }
        let weight = self.slots[site].live;
        if weight <= 0 {
            return Some(0);
        }
        let estimate = self.slots[site].history.back().map_or(0, |&(_, v)| v);
        Some(scale(estimate, self.slots[em].live.max(0), weight))
    }

    fn dominant_site(&self, group: usize) -> Option<String> {
        self.slots[group]
            .sites
            .iter()
            .map(|&i| &self.slots[i])
            .filter(|o| o.kind == Kind::Site && o.live > 0)
            .max_by_key(|o| o.live)
            .and_then(|o| o.site.clone())
    }

    fn site_verdict(&mut self, site: usize, now_ms: u64) -> Option<SiteWarning> {
        if !self.slots[site].judged() {
            return None;
        }
        let cfg = self.config;
        let trend = sustained_growth(&self.slots[site].settled, now_ms, &cfg)?;
        let s = &self.slots[site];
        if let Some((count, at)) = s.reported {
            let rearmed = trend.last >= 2 * count.max(1);
            if !rearmed || now_ms.saturating_sub(at) < cfg.min_interval_ms {
                return None;
            }
        }
        let warning = self.warning(site, &trend);
        self.slots[site].reported = Some((trend.last, now_ms));
        Some(warning)
    }

    fn warning(&self, site: usize, growth: &SiteGrowth) -> SiteWarning {
        let s = &self.slots[site];
        let site_text = s.site.clone().unwrap_or_default();
        SiteWarning::new(&s.emitter, &s.event, site_text, s.app_site.clone(), self.emitters_estimate(site), growth)
    }
}

/// `value * part / whole`, rounded, without overflow for realistic counts.
fn scale(value: i64, part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 0;
    }
    ((i128::from(value) * i128::from(part) + i128::from(whole) / 2) / i128::from(whole)) as i64
}

fn bounded(text: &str) -> String {
    if text.len() <= MAX_TEXT {
        return text.to_owned();
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1000;
    const MINUTE: u64 = 60 * SECOND;

    /// A sample taken after a full GC had time to run its finalizers.
    fn settled_sample(t: &mut ListenerTable, now_ms: u64, counts: &[i32]) -> Vec<SiteWarning> {
        t.on_full_gc(now_ms.saturating_sub(SETTLE_MS));
        t.sample(now_ms, counts)
    }

    /// A table with group slot 1 (`Socket`/`close`), its site at slot 2 and the site's
    /// emitters at slot 3, as JS describes them.
    fn socket_table() -> ListenerTable {
        let mut t = ListenerTable::new(8);
        t.describe(0, "(other)", "(other)", None, None);
        t.describe(1, "Socket", "close", None, None);
        t.describe(2, "Socket", "close", Some("src/db.js:42:7"), Some("src/app.js:10:3"));
        t.describe_emitters(3, 2);
        t
    }

    /// Counters for the socket table: group adds/removes, site weight, emitter weight.
    fn counts(group: (i32, i32), site: (i32, i32), emitters: (i32, i32)) -> Vec<i32> {
        let mut c = vec![0; 16];
        c[2] = group.0;
        c[3] = group.1;
        c[4] = site.0;
        c[5] = site.1;
        c[6] = emitters.0;
        c[7] = emitters.1;
        c
    }

    /// A server's one call site adding `healthy` listeners a second on emitters that die by
    /// the next full GC (their finalizers take the listeners off after it, but for ~20 in
    /// flight), and `leaking` a second on emitters that live on. Full GCs every 4-6 s; the
    /// counters are read just after each GC, then once a second, so the settled read falls
    /// 1-2 s after it. Returns the second of the first warning, if any, in `seconds`.
    fn simulate_server(healthy: i32, leaking: i32, seconds: u64, seed: u64) -> Option<u64> {
        let mut t = socket_table();
        let mut random = seed;
        let mut next = move |n: u64| {
            random = random.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (random >> 33) % n
        };
        let (mut adds, mut removes, mut kept) = (0i32, 0i32, 0i32);
        let mut next_gc = 4 * SECOND + next(2 * SECOND);
        let mut now = 0;
        while now < seconds * SECOND {
            now += 100;
            adds += (healthy + leaking) / 10;
            kept += leaking / 10;
            if now >= next_gc {
                let c = counts((adds, removes), (adds, removes), (adds, removes));
                t.on_full_gc_with_counts(now, &c);
                removes = adds - kept - 20; // the finalizers run: all but the in-flight ones go
                next_gc = now + 4 * SECOND + next(2 * SECOND);
            }
            if now % SECOND == 0 {
                let c = counts((adds, removes), (adds, removes), (adds, removes));
                if !t.sample(now, &c).is_empty() {
                    return Some(now / SECOND);
                }
            }
        }
        None
    }

    #[test]
    fn a_healthy_servers_listeners_since_the_gc_are_not_a_rise_of_its_settled_reads() {
        // 1,000 listeners a second on short-lived emitters: a read 1-2 s after a full GC found
        // 1,000-2,000 of them, at random, and a run of five rising reads is a 1-in-120 chance.
        for seed in 0..40 {
            assert_eq!(simulate_server(1000, 0, 300, seed), None, "seed {seed}");
        }
    }

    #[test]
    fn a_leak_beside_a_healthy_load_is_still_found_from_the_reads_at_the_gc() {
        for seed in 0..10 {
            let at = simulate_server(1000, 100, 120, seed);
            assert!(at.is_some_and(|s| s <= 40), "seed {seed}: {at:?}");
        }
    }

    #[test]
    fn the_totals_are_exact_under_weighted_counting() {
        let mut t = ListenerTable::new(8);
        t.describe(1, "IncomingMessage", "end", None, None);
        t.describe_totals(2, 3);
        // 1,000 adds and 990 removes; the group counted 3 of the adds as 64 each and 1 of the
        // removes as 64 (estimated live: 128); 997 adds and 989 removes went uncounted.
        let counts = [0, 0, 192, 64, 997, 989, 189, 63];
        t.sample(SECOND, &counts);
        assert_eq!(t.totals(), Totals { live: 128, adds: 1000, removes: 990 });
        assert_eq!(t.top(10).len(), 1, "only groups are listed");
    }

    #[test]
    fn live_counts_and_totals_follow_the_counters() {
        let mut t = socket_table();
        t.sample(0, &counts((10, 4), (0, 0), (0, 0)));
        assert_eq!(t.totals(), Totals { live: 6, adds: 10, removes: 4 });
        t.sample(SECOND, &counts((15, 14), (0, 0), (0, 0)));
        assert_eq!(t.totals().live, 1);
        assert_eq!(t.totals().adds, 15);
    }

    #[test]
    fn a_read_between_samples_moves_the_counts_but_not_the_growth() {
        let mut t = socket_table();
        t.sample(0, &counts((10, 4), (0, 0), (0, 0)));
        t.read(&counts((30, 4), (0, 0), (0, 0)));
        assert_eq!(t.totals(), Totals { live: 26, adds: 30, removes: 4 });
        assert_eq!(t.top(1)[0].growth, 0, "growth is judged at samples only");
        t.sample(SECOND, &counts((30, 4), (0, 0), (0, 0)));
        assert_eq!(t.totals(), Totals { live: 26, adds: 30, removes: 4 }, "the sample after it counts nothing twice");
        assert_eq!(t.top(1)[0].growth, 20);
    }

    #[test]
    fn counters_that_wrap_past_i32_max_keep_counting() {
        let mut t = socket_table();
        t.sample(0, &counts((i32::MAX - 5, i32::MAX - 7), (0, 0), (0, 0)));
        let before = t.totals();
        t.sample(SECOND, &counts((i32::MAX.wrapping_add(5), i32::MAX - 1), (0, 0), (0, 0)));
        let after = t.totals();
        assert_eq!(after.adds - before.adds, 10);
        assert_eq!(after.removes - before.removes, 6);
        assert_eq!(after.live, 6);
    }

    #[test]
    fn top_ranks_groups_by_live_with_growth_and_dominant_site() {
        let mut t = ListenerTable::new(16);
        t.describe(1, "Socket", "close", None, None);
        t.describe(2, "Socket", "close", Some("src/a.js:1:1"), None);
        t.describe(3, "Socket", "close", Some("src/b.js:2:2"), None);
        t.describe(4, "Server", "request", None, None);
        let mut c = vec![0; 32];
        for (i, live) in [(0u64, 100), (1, 130), (2, 160)] {
            c[2] = live;
            c[4] = 8;
            c[6] = 2;
            c[8] = 20;
            t.sample(i * 30 * SECOND, &c);
        }
        let top = t.top(10);
        assert_eq!(top.len(), 2);
        assert_eq!(top[0].emitter, "Socket");
        assert_eq!(top[0].live, 160);
        assert_eq!(top[0].growth, 60);
        assert_eq!(top[0].site.as_deref(), Some("src/a.js:1:1"));
        assert_eq!(top[1].site, None);
        assert_eq!(t.top(1).len(), 1);
    }

    /// One site leaking one listener into each of 400 long-lived sockets over 4 minutes, every
    /// add sampled at first, then one in 2, 4 … as JS's sampler does.
    #[test]
    fn a_site_leaking_into_many_emitters_is_reported_once_with_estimates() {
        let mut t = socket_table();
        let mut warnings = Vec::new();
        for step in 0..=16u64 {
            let live = (step * 25) as i32; // +25 every 15 s: +100/min, for 4 minutes
            let weight = live - live % 4; // sampled weight trails the exact count
            let c = counts((live + 300, 300), (weight, 0), (weight, 0));
            warnings.extend(settled_sample(&mut t, step * 15 * SECOND, &c));
        }
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let w = &warnings[0];
        assert_eq!(w.code, SITE_LEAK_CODE);
        assert_eq!(w.site, "src/db.js:42:7");
        assert_eq!(w.emitters, Some(w.count));
        assert!((w.per_minute - 100.0).abs() < 1.0, "{}", w.per_minute);
        assert!(w.message.starts_with("Possible listener leak: src/db.js:42:7 (from src/app.js:10:3) has "));
        assert!(w.message.contains("'close' listeners still attached across "));
        assert!(w.message.contains(" [Socket] emitters, growing +100/min"));
    }

    /// Per-request emitters that nobody references any more, with a full GC every 12 minutes:
    /// between GCs their listeners pile up (1,000 a minute), after each GC the count is back at
    /// 200. Judged by every sample, that climb is a leak; judged after full GCs, it is flat.
    #[test]
    fn listeners_found_attached_are_never_a_leaking_site() {
        // The found site climbs as more emitters that predate tracking are first counted: the
        // same climb that makes a call site a leak (the control, with a real site) is no leak.
        let warnings = |site: &str| {
            let mut t = ListenerTable::new(16);
            t.describe(1, "Socket", "close", None, None);
            t.describe(2, "Socket", "close", Some(site), None);
            t.describe_emitters(3, 2);
            let mut out = Vec::new();
            for step in 0..=16u64 {
                let live = (step * 25) as i32;
                out.extend(settled_sample(&mut t, step * 15 * SECOND, &counts((live, 0), (live, 0), (live, 0))));
            }
            out
        };
        assert_eq!(warnings("src/db.js:42:7").len(), 1);
        assert!(warnings(FOUND_SITE).is_empty());
    }

    #[test]
    fn listeners_found_attached_keep_their_count_and_call_sites_share_the_rest() {
        // 100 found attached, then 2 adds of which 1 was sampled: the call site holds the 2.
        let mut t = ListenerTable::new(16);
        t.describe(1, "EventEmitter", "tick", None, None);
        t.describe(2, "EventEmitter", "tick", Some(FOUND_SITE), None);
        t.describe_emitters(3, 2);
        t.describe(4, "EventEmitter", "tick", Some("test.js:7:7"), None);
        t.describe_emitters(5, 4);
        let mut c = vec![0; 16];
        (c[2], c[4], c[6], c[8], c[10]) = (102, 100, 1, 1, 1);
        t.sample(SECOND, &c);
        assert_eq!((t.site_estimate(2), t.site_estimate(4)), (100, 2));
    }

    #[test]
    fn listeners_of_garbage_awaiting_a_full_gc_are_not_a_leak() {
        let mut t = socket_table();
        let (mut warnings, mut raw_would_report) = (Vec::new(), false);
        for step in 0..=240u64 {
            let now = step * 15 * SECOND;
            let since_gc = now % (12 * MINUTE);
            let live = 200 + (since_gc / SECOND) as i32 * 1000 / 60;
            if since_gc == 0 {
                t.on_full_gc(now.saturating_sub(2 * SECOND));
            }
            warnings.extend(t.sample(now + SETTLE_MS, &counts((live + 500, 500), (live, 0), (live, 0))));
            raw_would_report |= sustained_growth(&t.slots[2].history, now + SETTLE_MS, &t.config).is_some();
        }
        assert!(raw_would_report, "the test shows nothing: every sample would not have called it a leak either");
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    /// A real leak under the same rare full GCs: the count after each GC climbs by 500 (every
    /// 5 minutes), and five of those points are enough even though they span more than the window.
    #[test]
    fn a_leak_seen_only_at_rare_full_gcs_is_reported() {
        let mut t = socket_table();
        let mut warnings = Vec::new();
        for step in 0..=160u64 {
            let now = step * 15 * SECOND;
            let since_gc = now % (5 * MINUTE);
            let leaked = (now / (5 * MINUTE)) as i32 * 500;
            let live = 200 + leaked + (since_gc / SECOND) as i32 * 10;
            if since_gc == 0 {
                t.on_full_gc(now.saturating_sub(2 * SECOND));
            }
            warnings.extend(t.sample(now + SETTLE_MS, &counts((live + 500, 500), (live, 0), (live, 0))));
        }
        // Once five post-GC points rose (20 minutes); the count has not doubled since.
        assert_eq!(warnings.iter().map(|w| w.count).collect::<Vec<_>>(), vec![2200], "{warnings:?}");
        assert_eq!(warnings[0].growth, 2000);
    }

    #[test]
    fn a_burst_that_drains_is_not_reported() {
        // Rises for 10 s, drains over the next 10, sampled every 2 s; then the same again.
        let shape = [0, 50, 400, 700, 900, 1100, 1200, 900, 600, 300, 100, 40, 10, 0, 0, 0];
        let mut t = socket_table();
        let mut warnings = Vec::new();
        for (i, &live) in shape.iter().chain(shape.iter()).enumerate() {
            let c = counts((live + 1000, 1000), (live, 0), (live, 0));
            warnings.extend(settled_sample(&mut t, i as u64 * 2 * SECOND, &c));
        }
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    /// The slow case: 10 stale listeners a second, a full GC every 10 s, each settled
    /// count a few dozen up or down from the in-flight ones: reported within 3 minutes.
    #[test]
    fn a_slow_leak_over_many_emitters_is_reported_within_3_minutes() {
        let mut t = socket_table();
        let mut first = None;
        for step in 0..=180u64 {
            let now = step * SECOND;
            let jitter = [0, 30, -25, 10, -40, 20][(step / 10 % 6) as usize];
            let live = 300 + (step * 10) as i32 + jitter;
            if step % 10 == 0 {
                t.on_full_gc(now.saturating_sub(2 * SECOND));
            }
            let w = t.sample(now, &counts((live + 500, 500), (live, 0), (live, 0)));
            first = first.or(w.first().map(|_| step));
        }
        assert!(first.is_some_and(|s| s <= 180), "{first:?}");
    }

    /// Full GCs when V8 likes: at 3, 8, 17, 22 and 27 s, none between 9 and 16 s (a quarter of
    /// the window with no settled read). 100 stale listeners a second are still a trend.
    #[test]
    fn a_leak_read_at_irregular_full_gcs_is_reported() {
        let mut t = socket_table();
        let mut first = None;
        for step in 0..=30u64 {
            let live = 100 + (step * 100) as i32;
            if [3, 8, 17, 22, 27].contains(&step) {
                t.on_full_gc(step * SECOND);
            }
            let w = t.sample(step * SECOND, &counts((live + 500, 500), (live, 0), (live, 0)));
            first = first.or(w.first().map(|_| step));
        }
        assert_eq!(first, Some(28), "the fifth settled read, 24 s after the first");
    }

    /// What the GC hints read: growth since the last settled read asks for a full GC; a
    /// settled read above every one before is a rise, a steady load's ups and downs seldom are.
    #[test]
    fn settled_rises_are_records_and_unsettled_growth_asks_for_a_gc() {
        let mut t = socket_table();
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut steady_rises = 0;
        for step in 1..=120u64 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let live = 800 + (rng % 200) as i32;
            t.on_full_gc((step * 5 - 2) * SECOND);
            t.sample(step * 5 * SECOND, &counts((live + 500, 500), (live, 0), (live, 0)));
            steady_rises += usize::from(t.take_settled_rise() == Some(true));
        }
        // The first read (800 or more from nothing) is a rise; records above it by 50 are rare.
        assert!(steady_rises <= 3, "{steady_rises} rises");
        assert_eq!(t.take_settled_rise(), None, "taken");

        let now = 700 * SECOND;
        t.on_full_gc(now - 2 * SECOND);
        t.sample(now, &counts((1400, 500), (900, 0), (900, 0)));
        assert_eq!(t.take_settled_rise(), Some(false));
        t.sample(now + SECOND, &counts((1430, 500), (930, 0), (930, 0)));
        assert!(!t.unsettled_growth(), "within min_growth of the last settled read");
        t.sample(now + 2 * SECOND, &counts((2600, 500), (2100, 0), (2100, 0)));
        assert!(t.unsettled_growth());
        t.on_full_gc(now + 2 * SECOND);
        t.sample(now + 4 * SECOND, &counts((2600, 500), (2100, 0), (2100, 0)));
        assert_eq!(t.take_settled_rise(), Some(true));
        assert!(!t.unsettled_growth(), "read after the full GC");
    }

    /// Uncollected garbage emitters of a healthy server drifting up with its heap: ~1,000
    /// counted after each full GC, +3 a second for a minute. Not a leak: under a quarter of
    /// the count the window began with.
    #[test]
    fn a_drift_of_uncollected_emitters_is_not_a_leak() {
        let mut t = socket_table();
        let mut warnings = Vec::new();
        for step in 1..=60u64 {
            let live = 1000 + (step * 3) as i32;
            if step % 5 == 0 {
                t.on_full_gc((step - 2) * SECOND);
            }
            warnings.extend(t.sample(step * SECOND, &counts((live + 500, 500), (live, 0), (live, 0))));
        }
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    /// In-flight listeners of a steady load, read after full GCs every 5 s for 10 minutes:
    /// their ups and downs never make a trend.
    #[test]
    fn in_flight_listeners_of_a_steady_load_are_never_reported() {
        let mut t = socket_table();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut warnings = Vec::new();
        for step in 0..=600u64 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let live = 800 + (rng % 200) as i32;
            if step % 5 == 0 {
                t.on_full_gc((step * SECOND).saturating_sub(2 * SECOND));
            }
            warnings.extend(t.sample(step * SECOND, &counts((live + 500, 500), (live, 0), (live, 0))));
        }
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn a_burst_still_in_progress_is_not_yet_a_trend() {
        let mut t = socket_table();
        let shape = [10, 10, 12, 10, 11, 10, 10, 9, 2000];
        let mut warnings = Vec::new();
        for (i, &live) in shape.iter().enumerate() {
            warnings.extend(settled_sample(&mut t, i as u64 * MINUTE, &counts((live, 0), (live, 0), (live, 0))));
        }
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn steady_churn_at_a_high_level_is_not_reported() {
        let mut t = socket_table();
        let mut warnings = Vec::new();
        for step in 0..60u64 {
            let live = 5000 + if step % 2 == 0 { 200 } else { -200 };
            let adds = (step as i32) * 10_000 + live;
            let c = counts((adds, adds - live), (live, 0), (live, 0));
            warnings.extend(settled_sample(&mut t, step * 10 * SECOND, &c));
        }
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn small_growth_below_the_floor_is_not_reported() {
        let mut t = socket_table();
        let mut warnings = Vec::new();
        for step in 0..40u64 {
            let live = step as i32; // reaches 39 listeners: under min_live
            warnings.extend(settled_sample(&mut t, step * 15 * SECOND, &counts((live, 0), (live, 0), (live, 0))));
        }
        assert!(warnings.is_empty());
    }

    #[test]
    fn a_report_is_rearmed_when_the_count_doubles_and_rate_limited() {
        let mut t = socket_table();
        let mut reports = Vec::new();
        for step in 0..=240u64 {
            let live = (step * 20) as i32; // +80/min for an hour
            let now = step * 15 * SECOND;
            for w in settled_sample(&mut t, now, &counts((live, 0), (live, 0), (live, 0))) {
                reports.push((now, w.count));
            }
        }
        assert!(reports.len() >= 3, "{reports:?}");
        for pair in reports.windows(2) {
            let ((t0, c0), (t1, c1)) = (pair[0], pair[1]);
            assert!(c1 >= 2 * c0, "{reports:?}");
            assert!(t1 - t0 >= SiteLeakConfig::default().min_interval_ms, "{reports:?}");
        }
    }

    #[test]
    fn a_site_is_estimated_by_its_share_of_the_group() {
        let mut t = ListenerTable::new(16);
        t.describe(1, "Socket", "close", None, None);
        t.describe(2, "Socket", "close", Some("src/leak.js:1:1"), None);
        t.describe_emitters(3, 2);
        t.describe(4, "Socket", "close", Some("src/ok.js:2:2"), None);
        t.describe_emitters(5, 4);
        let mut c = vec![0; 32];
        c[2] = 1000; // 1000 live listeners in the group
        c[4] = 300; // sampled weight 300 at the leaking site, on 300 emitters
        c[6] = 300;
        c[8] = 100; // 100 at the other site, on 10 emitters
        c[10] = 10;
        t.sample(0, &c);
        assert_eq!(t.site_estimate(2), 750);
        assert_eq!(t.site_estimate(4), 250);
        assert_eq!(t.emitters_estimate(2), Some(750));
        assert_eq!(t.emitters_estimate(4), Some(25));
    }

    #[test]
    fn describe_ignores_slots_out_of_range_and_bounds_text() {
        let mut t = ListenerTable::new(2);
        t.describe(7, "X", "y", None, None);
        t.describe_emitters(1, 9);
        let long = "é".repeat(1000);
        t.describe(1, &long, "e", None, None);
        t.sample(0, &[0, 0, 3, 1]);
        let top = t.top(10);
        assert_eq!(top[0].live, 2);
        assert!(top[0].emitter.len() <= MAX_TEXT);
    }

    #[test]
    fn history_stays_bounded() {
        let mut t = socket_table();
        for step in 0..100_000u64 {
            settled_sample(&mut t, step * 100, &counts((step as i32, 0), (0, 0), (0, 0)));
        }
        assert!(t.slots.iter().all(|s| s.history.len() <= HISTORY_POINTS && s.settled.len() <= HISTORY_POINTS));
        assert!(!t.slots[2].settled.is_empty());
        let h = &t.slots[1].history;
        let span = h.back().unwrap().0 - h.front().unwrap().0;
        assert!(span >= SiteLeakConfig::default().window_ms, "{span}");
    }

    #[test]
    fn a_site_described_before_its_group_and_redescribed_slots_are_linked_right() {
        let mut t = ListenerTable::new(8);
        t.describe(2, "Socket", "close", Some("src/a.js:1:1"), None);
        t.describe(1, "Socket", "close", None, None);
        t.describe(3, "Socket", "end", None, None);
        t.sample(0, &[0, 0, 10, 0, 4, 0, 7, 0]);
        assert_eq!(t.site_estimate(2), 10);
        t.describe(2, "Socket", "end", Some("src/b.js:2:2"), None); // now a site of 'end'
        t.sample(1, &[0, 0, 10, 0, 4, 0, 7, 0]);
        assert_eq!(t.slots[1].sites, Vec::<usize>::new());
        assert_eq!(t.site_estimate(2), 7);
        assert_eq!(t.top(10)[0].site, None); // 'close' (10) has no site left
        assert_eq!(t.top(10)[1].site.as_deref(), Some("src/b.js:2:2"));
    }

    /// A table with every slot in use: a sample reads them all and finds nothing to report.
    /// (What a sample costs is measured by `npm run bench`, not asserted here.)
    #[test]
    fn a_full_table_of_flat_counts_reports_nothing() {
        let slots = 4096;
        let mut t = ListenerTable::new(slots);
        for g in 0..1024 {
            t.describe(4 * g, "Socket", &format!("e{g}"), None, None);
            t.describe(4 * g + 1, "Socket", &format!("e{g}"), Some("src/a.js:1:1"), None);
            t.describe_emitters(4 * g + 2, 4 * g + 1);
            t.describe(4 * g + 3, "Socket", &format!("e{g}"), Some("src/b.js:1:1"), None);
        }
        let counts = vec![5; 2 * slots];
        for i in 0..100 {
            assert!(settled_sample(&mut t, i * 1000, &counts).is_empty());
            assert_eq!(t.top(10).len(), 0);
        }
        assert_eq!(t.totals().live, 0);
    }

    #[test]
    fn short_counts_slices_do_not_panic() {
        let mut t = socket_table();
        assert!(t.sample(0, &[]).is_empty());
        assert!(t.sample(1, &[1]).is_empty());
        assert_eq!(t.totals().live, 1); // slot 0 (overflow) read its adds; the rest kept theirs
    }
}
