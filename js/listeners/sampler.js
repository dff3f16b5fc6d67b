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
const { FOUND_SITE } = require('./groups');

const MIN_GAP_MS = 100; // clock() ticks are 100 ms: "faster" means within the same tick
const MAX_RATE = 1 << 16;
const BUDGET_PER_SECOND = 100;
// Samples kept per emitter, so matching a removal stays a short scan even on an emitter that
// holds a million listeners; past it the group's other emitters carry the site estimates.
const MAX_SAMPLES_PER_EMITTER = 64;

// What a sampled listener stands for. No reference to the listener here: entries (and so their
// samples) are held by the collection watch, and a listener often closes over its emitter.
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
    const full = pairs !== undefined && pairs.length >= 2 * MAX_SAMPLES_PER_EMITTER;
    if (full && !ctx.sampleEveryAdd) return;
    const { site, appSite } = captureSite(below);
    const siteEntry = ctx.groups.siteFor(group, site, appSite);
    if (siteEntry === null) return;
    if (full) merge(entry, siteEntry, weight);
    else attach(target, new Sample(entry, siteEntry, weight), listener);
  }

  // An emitter with all its samples taken, while a check samples every add: the add joins a
  // sample of its site on that pair, which then stands for it too (as a sampled add stands for
  // `rate` adds). Sites stay exact; removing that sample's listener takes them all off.
  function merge(entry, siteEntry, weight) {
    const s = entry.samples === null ? undefined : entry.samples.find((o) => o.site === siteEntry);
    if (s === undefined) return;
    s.weight += weight;
    ctx.counts[2 * siteEntry.slot] += weight;
  }

  /**
   * `found` listeners of `entry`'s pair came unseen: attached before leakwatch first counted
   * the pair (before tracking began), or straight into _events. They are the group's
   * FOUND_SITE, not any call site's: each of `listeners` (those known) becomes a sample of it,
   * so a later add's site is never handed them and their removal is matched like any sample's;
   * past the per-emitter cap, or with none known, one sample stands for the rest (with none
   * known, a placeholder that no removal matches, dropped when the emitter's samples are
   * reconciled or collected).
   */
  function adopt(target, entry, found, listeners) {
    entry.base += found;
    if (entry.group.slot === 0) return;
    const siteEntry = ctx.groups.siteFor(entry.group, FOUND_SITE, null);
    if (siteEntry === null) return;
    // Half the emitter's samples at most: the other half is for the adds to come.
    const pairs = pairsOf(target);
    const room = (MAX_SAMPLES_PER_EMITTER >> 1) - (pairs === undefined ? 0 : pairs.length >> 1);
    if (room <= 0) return;
    const kept = Math.max(1, Math.min(found, listeners.length, room));
    for (let i = 0; i < kept; i++) {
      const weight = (i === kept - 1 ? found - i : 1) * entry.weight;
      attach(target, new Sample(entry, siteEntry, weight), i < listeners.length ? listeners[i] : {}, entry.weight);
    }
  }

  // `now` in clock() ticks of 100 ms. While a test's tracker runs (ctx.sampleEveryAdd), every
  // add is sampled, whatever the rate and the budget: its sites are then exact, not estimates.
  function adapt(group, now) {
    if (ctx.sampleEveryAdd) {
      group.rate = 1;
      group.skip = 1;
      group.lastSampleAt = now;
      return;
    }
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
    if (ctx.sampleEveryAdd) return true;
    if ((now - windowStart) * 100 >= 1000) {
      windowStart = now;
      taken = 0;
    }
    return ++taken <= BUDGET_PER_SECOND;
  }

  // `em`: what this emitter counts for among the site's emitters if it is the first sample of
  // that site on it (a sampled add stands for `weight` emitters; found listeners, for one).
  function attach(target, s, listener, em = s.weight) {
    const counts = ctx.counts;
    const entry = s.entry;
    if (entry.samples === null) entry.samples = [];
    if (!entry.samples.some((o) => o.site === s.site)) {
      s.em = em;
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

  return { sample, adopt, forget, reconcile, dropSamples };
}

module.exports = { createSampler, MIN_GAP_MS, MAX_RATE };
