'use strict';
// Where a failed heap check's kept bytes were allocated: leakwatch's sampling heap profile
// (the same as in its heap warnings), read when the measured rounds begin and again at the
// end. Only while leakwatch runs here with the profile on (a check that counts listeners
// starts it, session.js); otherwise a heap failure just has no sites.

const lw = require('../index');

/** A read of the profile now; the mark to compare the end with, or null without a profile. */
function markSites() {
  try {
    const now = lw.heapGrowth();
    return now && now.state === 'on' ? { sinceMs: Date.now() } : null;
  } catch {
    return null;
  }
}

/** The sites that grew since `mark`, each with its bytes per call: [{...site, bytesPerCall}]. */
function sitesSince(mark, calls) {
  if (mark === null) return [];
  try {
    const growth = lw.heapGrowth({ sinceMs: mark.sinceMs });
    return (growth ? growth.sites : []).map((site) => ({ ...site, bytesPerCall: site.growthBytes / calls }));
  } catch {
    return [];
  }
}

module.exports = { markSites, sitesSince };
