'use strict';
// Call-site sampling: which sites hold a group's live listeners, without a stack per add.
//
// Each group counts down `skip` adds; the add that reaches zero is sampled: its stack gives a
// site, and the listener is remembered as standing for `weight` adds, the group's sampling rate
// at the time, until it is removed or its emitter is collected. The site's slot counts sampled weight added and removed, so its
// live weight estimates how many of the group's live listeners came from that site; the native
// side scales the exact group count by each site's share. The rate adapts per group: it doubles
// while samples come faster than one per MIN_GAP_MS and halves when they come slowly, so a hot
// on/off loop pays one stack per ~65,000 adds while a slow leak is sampled on every add. A
// global budget caps stacks per second whatever the number of groups.

const { captureSite } = require('./sites');
const { clock } = require('./records');

const MIN_GAP_MS = 100; // clock() ticks are 100 ms: "faster" means within the same tick
const MAX_RATE = 1 << 16;
const BUDGET_PER_SECOND = 100;
// Samples kept per emitter, so matching a removal stays a short scan even on an emitter that
// holds a million listeners; past it the group's other emitters carry the site estimates.
const MAX_SAMPLES_PER_EMITTER = 64;

// What a sampled listener stands for. No reference to the listener here: entries (and so their
// samples) are held by the FinalizationRegistry, and a listener often closes over its emitter.
class Sample {
  constructor(entry, site, weight) {
    this.entry = entry;
    this.site = site;
    this.weight = weight;
    this.em = 0; // emitter weight this sample carries for its site (one per site per emitter)
  }
}

// The sampled listeners themselves are kept per emitter, [listener, sample, listener, …], in a
// WeakMap keyed by the emitter: the emitter holds its listeners anyway, so this keeps nothing
// alive (a listener closing over its emitter included), and only a remove from an entry that
// has samples looks it up.

function createSampler(ctx) {
  // emitter -> [listener, sample, ...]. A WeakMap, not a property: samples sit on a few
  // emitters of a class, and a property would give those a hidden class of their own
  // (records.js says what that costs). Only emitters with samples are ever looked up.
  const pairsByEmitter = new WeakMap();
  let windowStart = 0;
  let taken = 0;

  function pairsOf(target) {
    return pairsByEmitter.get(target);
  }

  function newPairs(target) {
    const pairs = [];
    pairsByEmitter.set(target, pairs);
    return pairs;
  }

  /** Called by the add path when group.skip reaches zero. `below`: frames to skip. */
  function sample(target, group, entry, listener, below) {
    const weight = group.rate * entry.weight; // the adds this one stands for
    const now = clock();
    adapt(group, now);
    if (group.slot === 0 || !withinBudget(now)) return;
    if (listener === null || (typeof listener !== 'object' && typeof listener !== 'function')) return;
    const pairs = pairsOf(target);
    if (pairs !== undefined && pairs.length >= 2 * MAX_SAMPLES_PER_EMITTER) return;
    const { site, appSite } = captureSite(below);
    const siteEntry = ctx.groups.siteFor(group, site, appSite);
    if (siteEntry !== null) attach(target, new Sample(entry, siteEntry, weight), listener);
  }

  // `now` in clock() ticks of 100 ms.
  function adapt(group, now) {
    const gap = (now - group.lastSampleAt) * 100;
    if (group.slot === 0) group.rate = MAX_RATE;
    else if (gap < MIN_GAP_MS) group.rate = Math.min(group.rate * 2, MAX_RATE);
    else if (gap > 10 * MIN_GAP_MS && group.rate > 1) group.rate = Math.max(1, group.rate >> 1);
    group.lastSampleAt = now;
    group.skip = draw(group.rate);
  }

  // A random gap with mean `rate`, so periodic add patterns cannot alias with the sampling.
  // `| 0` keeps it a small integer: a float here would slow every add's countdown.
  function draw(rate) {
    return rate === 1 ? 1 : (1 + Math.random() * (2 * rate - 1)) | 0;
  }

  function withinBudget(now) {
    if ((now - windowStart) * 100 >= 1000) {
      windowStart = now;
      taken = 0;
    }
    return ++taken <= BUDGET_PER_SECOND;
  }

  function attach(target, s, listener) {
    const counts = ctx.counts;
    const entry = s.entry;
    if (entry.samples === null) entry.samples = [];
    if (!entry.samples.some((o) => o.site === s.site)) {
      s.em = s.weight;
      counts[2 * s.site.emSlot] += s.em;
    }
    entry.samples.push(s);
    counts[2 * s.site.slot] += s.weight;
    const pairs = pairsOf(target) ?? newPairs(target);
    pairs.push(listener, s);
  }

  /** Takes a sample off its entry and its site's counters. */
  function release(s) {
    const counts = ctx.counts;
    const entry = s.entry;
    const i = entry.samples === null ? -1 : entry.samples.indexOf(s);
    if (i < 0) return;
    entry.samples.splice(i, 1);
    counts[2 * s.site.slot + 1] += s.weight;
    if (s.em !== 0) {
      const heir = entry.samples.find((o) => o.site === s.site);
      if (heir !== undefined) heir.em = s.em;
      else counts[2 * s.site.emSlot + 1] += s.em;
    }
    if (entry.samples.length === 0) entry.samples = null;
  }

  /** One listener (as stored) was removed from `entry` of `target`; it may have been sampled. */
  function forget(target, entry, stored) {
    const pairs = pairsOf(target);
    if (pairs === undefined) return;
    for (let i = 0; i < pairs.length; i += 2) {
      if (pairs[i] === stored && pairs[i + 1].entry === entry) {
        release(pairs[i + 1]);
        pairs.splice(i, 2);
        return;
      }
    }
  }

  /** Listeners of `entry` went away unseen: keep only samples whose listener `isPresent`. */
  function reconcile(target, entry, isPresent) {
    const pairs = pairsOf(target);
    if (pairs === undefined) return;
    for (let i = pairs.length - 2; i >= 0; i -= 2) {
      if (pairs[i + 1].entry === entry && !isPresent(pairs[i])) {
        release(pairs[i + 1]);
        pairs.splice(i, 2);
      }
    }
  }

  /** The emitter was collected: its samples stop counting (their listeners went with it). */
  function dropSamples(entry) {
    while (entry.samples !== null) release(entry.samples[0]);
  }

  return { sample, forget, reconcile, dropSamples };
}

module.exports = { createSampler, MIN_GAP_MS, MAX_RATE };
