'use strict';
// Call-site sampling: which sites hold a group's live listeners, without a stack per add.
//
// Each group counts down `skip` adds; the add that reaches zero is sampled: its stack gives a
// site, and the listener is remembered (weakly) as standing for `weight` adds, the group's
// sampling rate at the time. The site's slot counts sampled weight added and removed, so its
// live weight estimates how many of the group's live listeners came from that site; the native
// side scales the exact group count by each site's share. The rate adapts per group: it doubles
// while samples come faster than one per MIN_GAP_MS and halves when they come slowly, so a hot
// on/off loop pays one stack per ~65,000 adds while a slow leak is sampled on every add. A
// global budget caps stacks per second whatever the number of groups.

const { captureSite } = require('./sites');

const MIN_GAP_MS = 100;
const MAX_RATE = 1 << 16;
const BUDGET_PER_SECOND = 200;

class Sample {
  constructor(entry, site, weight, listener) {
    this.entry = entry;
    this.site = site;
    this.weight = weight;
    this.em = 0; // emitter weight this sample carries for its site (one per site per emitter)
    this.ref = new WeakRef(listener);
  }
}

function createSampler(ctx) {
  const byListener = new WeakMap(); // listener as stored in the emitter -> Sample[]
  let windowStart = 0;
  let taken = 0;

  /** Called by the add path when group.skip reaches zero. `below`: frames to skip. */
  function sample(group, entry, listener, below) {
    const weight = group.rate;
    const now = Date.now();
    adapt(group, now);
    if (group.slot === 0 || !withinBudget(now)) return;
    if (listener === null || (typeof listener !== 'object' && typeof listener !== 'function')) return;
    const { site, appSite } = captureSite(below);
    const site_ = ctx.groups.siteFor(group, site, appSite);
    if (site_ !== null) attach(new Sample(entry, site_, weight, listener), listener);
  }

  function adapt(group, now) {
    const gap = now - group.lastSampleAt;
    if (group.slot === 0) group.rate = MAX_RATE;
    else if (gap < MIN_GAP_MS) group.rate = Math.min(group.rate * 2, MAX_RATE);
    else if (gap > 10 * MIN_GAP_MS && group.rate > 1) group.rate = Math.max(1, group.rate >> 1);
    group.lastSampleAt = now;
    group.skip = draw(group.rate);
  }

  // A random gap with mean `rate`, so periodic add patterns cannot alias with the sampling.
  function draw(rate) {
    return rate === 1 ? 1 : 1 + Math.floor(Math.random() * (2 * rate - 1));
  }

  function withinBudget(now) {
    if (now - windowStart >= 1000) {
      windowStart = now;
      taken = 0;
    }
    return ++taken <= BUDGET_PER_SECOND;
  }

  function attach(s, listener) {
    const counts = ctx.counts;
    const entry = s.entry;
    if (entry.samples === null) entry.samples = [];
    if (!entry.samples.some((o) => o.site === s.site)) {
      s.em = s.weight;
      counts[2 * s.site.emSlot] += s.em;
    }
    entry.samples.push(s);
    counts[2 * s.site.slot] += s.weight;
    const list = byListener.get(listener);
    if (list === undefined) byListener.set(listener, [s]);
    else list.push(s);
  }

  function detach(s) {
    const counts = ctx.counts;
    const entry = s.entry;
    const i = entry.samples.indexOf(s);
    if (i < 0) return;
    entry.samples.splice(i, 1);
    counts[2 * s.site.slot + 1] += s.weight;
    if (s.em !== 0) {
      const heir = entry.samples.find((o) => o.site === s.site);
      if (heir !== undefined) heir.em = s.em;
      else counts[2 * s.site.emSlot + 1] += s.em;
    }
    if (entry.samples.length === 0) entry.samples = null;
    const listener = s.ref.deref();
    const list = listener === undefined ? undefined : byListener.get(listener);
    if (list !== undefined) {
      const j = list.indexOf(s);
      if (j >= 0) list.splice(j, 1);
      if (list.length === 0) byListener.delete(listener);
    }
  }

  /** One listener was removed from `entry` (it may or may not have been sampled). */
  function forget(entry, listener) {
    if (entry.samples === null) return;
    if (listener instanceof WeakRef) listener = listener.deref();
    if (listener === null || (typeof listener !== 'object' && typeof listener !== 'function')) {
      dropCollected(entry); // a weak listener collected by the engine: match by liveness
      return;
    }
    const list = byListener.get(listener);
    if (list === undefined) return;
    const s = list.find((o) => o.entry === entry);
    if (s !== undefined) detach(s);
  }

  /** Listeners went away unseen: keep only samples whose listener `isPresent`. */
  function reconcile(entry, isPresent) {
    if (entry.samples === null) return;
    for (const s of [...entry.samples]) {
      const fn = s.ref.deref();
      if (fn === undefined || !isPresent(fn)) detach(s);
    }
  }

  function dropCollected(entry) {
    reconcile(entry, () => true);
  }

  function dropSamples(entry) {
    if (entry.samples === null) return;
    for (const s of [...entry.samples]) detach(s);
  }

  return { sample, forget, reconcile, dropSamples, MAX_RATE };
}

module.exports = { createSampler, MIN_GAP_MS, MAX_RATE };
