'use strict';
// Listener counts at one moment, and the difference between two moments, per
// (emitter class, event) and per call site that added the listeners.

const session = require('./session');

/** Live listeners now: Map("Class\0event" -> {emitter, event, live, sites: Map(label -> live)}). */
function takeListeners() {
  const groups = new Map();
  for (const row of session.listenerRows()) {
    const sites = new Map();
    for (const s of row.sites || []) sites.set(siteLabel(s), s.live);
    groups.set(`${row.emitter}\0${row.event}`, { emitter: row.emitter, event: row.event, live: row.live, sites });
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
 */
function diffListeners(before, after) {
  const rows = [];
  for (const [key, now] of after) {
    const then = before.get(key);
    const delta = now.live - (then ? then.live : 0);
    if (delta === 0) continue;
    const sites = diffSites(then ? then.sites : new Map(), now.sites);
    rows.push({ emitter: now.emitter, event: now.event, before: now.live - delta, after: now.live, delta, sites });
  }
  for (const [key, then] of before) {
    if (!after.has(key) && then.live !== 0) rows.push({ emitter: then.emitter, event: then.event, before: then.live, after: 0, delta: -then.live, sites: [] });
  }
  return rows.sort((a, b) => b.delta - a.delta);
}

// Per-site counts are estimates (leakwatch samples call sites); the group's count is exact.
function diffSites(before, after) {
  const sites = [];
  for (const [site, live] of after) {
    const delta = live - (before.get(site) ?? 0);
    if (site !== null && delta > 0) sites.push({ site, delta });
  }
  return sites.sort((a, b) => b.delta - a.delta);
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
    if (matches(entry.emitter, row.emitter) && matches(entry.event, row.event)) most = Math.max(most, entry.max ?? Infinity);
  }
  return most;
}

function matches(pattern, value) {
  if (pattern === undefined) return true;
  return pattern instanceof RegExp ? pattern.test(value) : pattern === value;
}

module.exports = { takeListeners, diffListeners, allowedGrowth };
