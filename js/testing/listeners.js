'use strict';
// Listener counts at one moment, and the difference between two moments, per
// (emitter class, event) and per call site that added the listeners.

const session = require('./session');
const { FOUND_SITE } = require('../listeners/groups');

/**
 * Live listeners now: Map("Class\0event" -> {emitter, event, live, found, sites: Map(label -> weight)}),
 * `found` counting every listener ever found already attached (FOUND_SITE), not added, and each
 * site's weight the adds it holds as sampled: exact for the adds made while a check runs, as
 * every one is sampled then (session.js).
 */
function takeListeners() {
  const groups = new Map();
  for (const row of session.listenerRows()) {
    const sites = new Map();
    let found = 0;
    for (const s of row.sites || []) {
      if (s.site === FOUND_SITE) found = s.added;
      else sites.set(siteLabel(s), s.weight);
    }
    groups.set(`${row.emitter}\0${row.event}`, {
      emitter: row.emitter,
      event: row.event,
      live: row.live,
      found,
      sites,
    });
  }
  return groups;
}

// Where a listener was added; a site inside node_modules also names the app's own line.
function siteLabel({ site, appSite }) {
  if (site === null) return null;
  return appSite ? `${site} (called from ${appSite})` : site;
}

/**
 * What changed from `before` to `after` (two takeListeners() results), largest growth first:
 * [{emitter, event, before, after, delta, sites: [{site, delta}]}]; unchanged groups left out.
 * Listeners that were already attached when leakwatch first counted their emitter (FOUND_SITE)
 * are the baseline, never growth, whenever they were found: before tracking began, they were
 * not counted yet, and finding them later is not adding them. Removing one is a decrease.
 */
function diffListeners(before, after) {
  const rows = [];
  for (const [key, now] of after) {
    const then = before.get(key);
    const delta = added(now) - (then ? added(then) : 0);
    if (delta === 0) continue;
    const sites = diffSites(then ? then.sites : new Map(), now.sites, delta);
    rows.push({ emitter: now.emitter, event: now.event, before: now.live - delta, after: now.live, delta, sites });
  }
  for (const [key, then] of before) {
    if (!after.has(key) && added(then) !== 0)
      rows.push({
        emitter: then.emitter,
        event: then.event,
        before: then.live,
        after: 0,
        delta: -added(then),
        sites: [],
      });
  }
  return rows.sort((a, b) => b.delta - a.delta);
}

// A group's live listeners less every one found attached: what adds and removes made of it.
function added(group) {
  return group.live - group.found;
}

// A site's growth is the weight its samples gained: exact for adds made while a check runs (a
// sample each), estimated for a class leakwatch samples (one counted emitter standing for many).
// Estimates can overshoot the group's exact growth: they are scaled to it.
function diffSites(before, after, groupDelta) {
  const sites = [];
  let sum = 0;
  for (const [site, weight] of after) {
    const delta = weight - (before.get(site) ?? 0);
    if (site !== null && delta > 0) {
      sites.push({ site, delta });
      sum += delta;
    }
  }
  if (sum > groupDelta) {
    for (const s of sites) s.delta = Math.round((s.delta * Math.max(0, groupDelta)) / sum);
  }
  return sites.filter((s) => s.delta > 0).sort((a, b) => b.delta - a.delta);
}

/**
 * How much growth `allow` tolerates for one group: a number for every group, or a list of
 * {emitter?, event?, max?} entries (strings or RegExps; max defaults to Infinity).
 */
function allowedGrowth(allow, row) {
  if (allow === undefined) return 0;
  if (typeof allow === 'number') return allow;
  let most = 0;
  for (const entry of allow) {
    if (matches(entry.emitter, row.emitter) && matches(entry.event, row.event))
      most = Math.max(most, entry.max ?? Infinity);
  }
  return most;
}

function matches(pattern, value) {
  if (pattern === undefined) return true;
  return pattern instanceof RegExp ? pattern.test(value) : pattern === value;
}

module.exports = { takeListeners, diffListeners, allowedGrowth };
