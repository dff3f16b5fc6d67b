'use strict';

// Everything leakwatch learns about one process (or worker thread) from its
// lines, folded as they stream past. All of it is bounded — TimeBuckets for
// the series, capped maps for listener sites and warning codes — so a log of
// any length summarizes in the same memory.

const { TimeBuckets } = require('./buckets');
const { verdict } = require('./trend');
const { processLabel } = require('./format');

const MAX_LISTENER_SITES = 256;
// Allocation sites kept per warning code (a heap warning names three at most).
const MAX_SITES_SHOWN = 3;
const MAX_WARNING_CODES = 64;
const MAX_WARNING_MARKERS = 512;
const TOP_LISTENERS = 10;
// heapUsed only has a floor once the old generation has been collected a
// few times: before that, a heap filling up between full GCs looks like a leak.
const MIN_FULL_GCS = 3;

// The per-interval series of a memory line; `kind` picks the trend thresholds.
const METRICS = [
  { name: 'heapUsed', kind: 'bytes', read: (r) => r.heapUsed },
  { name: 'heapTotal', kind: 'bytes', read: (r) => r.heapTotal },
  { name: 'rss', kind: 'bytes', read: (r) => r.rss },
  { name: 'external', kind: 'bytes', read: (r) => r.external },
  { name: 'fds', kind: 'fds', read: (r) => r.fds },
  { name: 'listeners', kind: 'listeners', read: (r) => r.listeners && r.listeners.live },
  { name: 'gcPauseMax', kind: null, read: (r) => gcPause(r, 'max') },
  { name: 'gcPauseP50', kind: null, read: (r) => gcPause(r, 'p50') },
];

function gcPause(record, field) {
  const gc = record.gc;
  if (!gc || typeof gc.count !== 'number') return undefined;
  if (gc.count === 0) return 0; // no GC in this interval: zero pause, not a gap
  return gc.pauseMs && gc.pauseMs[field];
}

class ProcessState {
  constructor(pid, threadId, hostname) {
    this.pid = pid;
    this.threadId = threadId;
    this.hostname = hostname;
    this.firstTime = Infinity;
    this.lastTime = -Infinity;
    this.memoryLines = 0;
    this.warningLines = 0;
    this.sawFinal = false;
    this.intervalMs = null;
    this.gcSource = null;
    this.start = {}; // first value seen of each metric
    this.end = {}; // last value seen of each metric
    this.series = Object.fromEntries(METRICS.map((m) => [m.name, new TimeBuckets()]));
    this.series.baseline = new TimeBuckets();
    this.lastBaselineTime = null;
    this.lastHeapUsed = null;
    this.heapDrops = 0; // times heapUsed fell between lines: GCs, when kinds are unknown
    this.fullGcs = null; // markSweepCompact count, once a line reports GC kinds
    this.gc = { seen: false, sinceStart: null, uptimeMs: null, intervals: { count: 0, total: 0, max: 0 }, dropped: 0 };
    this.recorderTrend = null;
    this.listenerSites = new Map();
    this.warningCodes = new Map();
    this.markers = new WarningMarkers(MAX_WARNING_MARKERS);
  }

  touch(time) {
    if (time < this.firstTime) this.firstTime = time;
    if (time > this.lastTime) this.lastTime = time;
  }

  addMemory(r) {
    this.touch(r.time);
    this.memoryLines += 1;
    if (r.final === true) this.sawFinal = true;
    if (Number.isFinite(r.intervalMs)) this.intervalMs = r.intervalMs;
    if (typeof r.gcSource === 'string') this.gcSource = r.gcSource;
    for (const m of METRICS) this.recordValue(m.name, r.time, m.read(r));
    if (Number.isFinite(r.heapUsed)) {
      if (r.heapUsed < this.lastHeapUsed) this.heapDrops += 1;
      this.lastHeapUsed = r.heapUsed;
    }
    this.addBaseline(r);
    this.addGc(r);
    if (r.trend && typeof r.trend === 'object') this.recorderTrend = { time: r.time, ...r.trend };
    if (r.listeners && Array.isArray(r.listeners.top)) this.addListenerSites(r.time, r.listeners.top);
  }

  recordValue(name, time, value) {
    if (!Number.isFinite(value)) return;
    if (!(name in this.start)) this.start[name] = value;
    this.end[name] = value;
    this.series[name].add(time, value);
  }

  // The baseline repeats on every line until the next full GC; one point per
  // full GC (at the time of that GC) keeps the trend test from counting the
  // same measurement many times over.
  addBaseline(r) {
    if (!Number.isFinite(r.baseline)) return;
    const at = Number.isFinite(r.baselineTime) ? r.baselineTime : r.time;
    if (!('baseline' in this.start)) this.start.baseline = r.baseline;
    this.end.baseline = r.baseline;
    if (at === this.lastBaselineTime) return;
    this.lastBaselineTime = at;
    this.series.baseline.add(at, r.baseline);
  }

  addGc(r) {
    const gc = r.gc;
    if (!gc || typeof gc !== 'object') return;
    this.gc.seen = true;
    if (gc.sinceStart && typeof gc.sinceStart === 'object') {
      this.gc.sinceStart = gc.sinceStart;
      this.gc.uptimeMs = Number.isFinite(r.uptimeMs) ? r.uptimeMs : null;
    }
    if (Number.isFinite(gc.dropped)) this.gc.dropped = gc.dropped;
    if (gc.kinds && typeof gc.kinds === 'object') {
      const full = gc.kinds.markSweepCompact;
      this.fullGcs = (this.fullGcs || 0) + (full && Number.isFinite(full.count) ? full.count : 0);
    }
    const acc = this.gc.intervals;
    if (Number.isFinite(gc.count)) acc.count += gc.count;
    if (gc.pauseMs && Number.isFinite(gc.pauseMs.total)) acc.total += gc.pauseMs.total;
    if (gc.pauseMs && Number.isFinite(gc.pauseMs.max)) acc.max = Math.max(acc.max, gc.pauseMs.max);
  }

  addListenerSites(time, top) {
    for (const entry of top) {
      if (!entry || typeof entry !== 'object') continue;
      const key = `${entry.emitter}\u0000${entry.event}\u0000${entry.site}`;
      let site = this.listenerSites.get(key);
      if (!site) {
        if (this.listenerSites.size >= MAX_LISTENER_SITES) evictSmallestGrowth(this.listenerSites);
        site = { emitter: entry.emitter, event: entry.event, site: entry.site, firstLive: entry.live, firstTime: time };
        this.listenerSites.set(key, site);
      }
      site.live = entry.live;
      site.lastTime = time;
      site.growth = entry.growth;
      site.maxLive = Math.max(site.maxLive || 0, Number(entry.live) || 0);
    }
  }

  addWarning(r) {
    this.touch(r.time);
    this.warningLines += 1;
    const code = typeof r.code === 'string' ? r.code : 'UNKNOWN';
    const message = typeof r.message === 'string' ? r.message : '';
    let entry = this.warningCodes.get(code);
    if (!entry) {
      const bucket = this.warningCodes.size < MAX_WARNING_CODES ? code : 'OTHER';
      entry = this.warningCodes.get(bucket);
      if (!entry) {
        entry = { code: bucket, count: 0, firstTime: r.time, firstMessage: message, details: r.details || null };
        this.warningCodes.set(bucket, entry);
      }
    }
    entry.count += 1;
    entry.lastTime = r.time;
    entry.lastMessage = message;
    const sites = r.details && r.details.allocationSites;
    if (Array.isArray(sites) && sites.length > 0)
      entry.lastSites = sites.filter((x) => x && typeof x === 'object').slice(0, MAX_SITES_SHOWN);
    this.markers.add({ time: r.time, code, message });
  }

  summary() {
    const names = ['heapUsed', 'heapTotal', 'baseline', 'rss', 'external', 'fds', 'listeners'];
    const memory = {};
    for (const name of names) memory[name] = this.levels(name);
    const trends = {};
    for (const m of METRICS.filter((m) => m.kind)) trends[m.name] = verdict(this.series[m.name], m.kind);
    trends.baseline = verdict(this.series.baseline, 'bytes');
    if (this.fullGcsSeen() < MIN_FULL_GCS) {
      const reason = `${this.fullGcsSeen()} full GCs seen, ${MIN_FULL_GCS} needed`;
      trends.heapUsed = { state: 'insufficient-data', points: trends.heapUsed.points, slopePerMin: null, reason };
    }
    trends.heap = heapVerdict(trends);
    return {
      pid: this.pid,
      threadId: this.threadId,
      hostname: this.hostname,
      firstTime: this.firstTime,
      lastTime: this.lastTime,
      durationMs: this.lastTime - this.firstTime,
      memoryLines: this.memoryLines,
      warningLines: this.warningLines,
      exited: this.sawFinal,
      intervalMs: this.intervalMs,
      gcSource: this.gcSource,
      memory,
      trends,
      recorderTrend: this.recorderTrend,
      gc: this.gcSummary(),
      listenerGrowth: topListenerGrowth(this.listenerSites),
      warnings: {
        total: this.warningLines,
        byCode: [...this.warningCodes.values()].sort((a, b) => b.count - a.count),
      },
    };
  }

  fullGcsSeen() {
    const fromKinds = this.fullGcs === null ? this.heapDrops : this.fullGcs;
    return Math.max(fromKinds, this.series.baseline.count);
  }

  levels(name) {
    if (!(name in this.start)) return null;
    const s = this.series[name];
    return { start: this.start[name], end: this.end[name], min: s.min(), max: s.max() };
  }

  gcSummary() {
    const { sinceStart, uptimeMs, intervals, dropped } = this.gc;
    if (sinceStart) {
      const pauseMs = sinceStart.pauseMs || {};
      return {
        basis: 'sinceStart',
        count: sinceStart.count,
        pauseMs,
        kinds: sinceStart.kinds || {},
        timeFraction: uptimeMs > 0 && Number.isFinite(pauseMs.total) ? pauseMs.total / uptimeMs : null,
        dropped,
      };
    }
    if (!this.gc.seen) return null;
    // Without the cumulative record only totals and the maximum are exact.
    return {
      basis: 'intervals',
      count: intervals.count,
      pauseMs: { p50: null, p99: null, max: intervals.max, total: intervals.total },
      kinds: {},
      timeFraction: null,
      dropped,
    };
  }

  chartData() {
    return {
      label: processLabel(this),
      firstTime: this.firstTime,
      lastTime: this.lastTime,
      series: this.series,
      warnings: this.markers.list(),
    };
  }
}

// The heap verdict rests on the post-full-GC baseline when there are enough
// full GCs to judge, and otherwise on the floor of heapUsed.
function heapVerdict(trends) {
  if (trends.baseline.state !== 'insufficient-data') return { ...trends.baseline, basis: 'baseline' };
  return { ...trends.heapUsed, basis: 'heapUsed floor' };
}

function growthOf(site) {
  const byLive = (Number(site.live) || 0) - (Number(site.firstLive) || 0);
  return Math.max(byLive, Number(site.growth) || 0);
}

function topListenerGrowth(sites) {
  return [...sites.values()]
    .map((s) => ({ ...s, netGrowth: growthOf(s) }))
    .filter((s) => s.netGrowth > 0)
    .sort((a, b) => b.netGrowth - a.netGrowth)
    .slice(0, TOP_LISTENERS);
}

function evictSmallestGrowth(sites) {
  let victim = null;
  let smallest = Infinity;
  for (const [key, site] of sites) {
    const g = growthOf(site);
    if (g < smallest) {
      smallest = g;
      victim = key;
    }
  }
  sites.delete(victim);
}

// Warning times for the chart. When full, every other marker is dropped and
// from then on only every other new one is kept: the markers thin out evenly
// over time instead of stopping at the first MAX.
class WarningMarkers {
  constructor(capacity) {
    this.capacity = capacity;
    this.items = [];
    this.stride = 1;
    this.seen = 0;
  }

  add(marker) {
    if (this.seen++ % this.stride !== 0) return;
    this.items.push(marker);
    if (this.items.length >= this.capacity) {
      this.items = this.items.filter((_, i) => i % 2 === 0);
      this.stride *= 2;
    }
  }

  list() {
    return this.items;
  }
}

module.exports = { ProcessState, METRICS };
