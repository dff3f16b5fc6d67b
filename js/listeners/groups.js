'use strict';
// The group/slot table: which slot of `counts` counts what.
//
// A group is (emitter class name, event name), e.g. ('Socket', 'close'); it owns one slot whose
// two int32 counters are cumulative adds and removes of listeners, exact. A site is a call site
// seen by the sampler inside a group; it owns two slots: weighted sampled listeners (each sample
// counts as the number of adds it stands for) and weighted emitters holding them. The native
// side learns what each slot means through one describeGroup() call per new group or site,
// never per add.
//
// Slots are finite: slot 0 is the overflow group "(other)", and once every slot is taken, new
// groups fold into it (counted in `folded`) and new sites are not tracked.

const SITES_PER_GROUP = 8;
const OTHER = '(other)';
// The site of listeners that were already attached when leakwatch first counted their emitter
// (sampler.js adopt()): attached before tracking began, or behind its back. The native side
// never judges it as a leaking site (src/listeners.rs FOUND_SITE).
const FOUND_SITE = '(attached before tracking began)';

class Groups {
  constructor({ counts, maxGroups, describeGroup }) {
    this.counts = counts;
    this.maxGroups = Math.max(1, Math.min(maxGroups | 0, counts.length >> 1));
    this.describeGroup = describeGroup;
    this.nextSlot = 1;
    this.folded = 0;
    this.byName = new Map(); // class name -> Map(event type -> Group)
    this.nameByProto = new WeakMap(); // prototype -> class name
    this.all = []; // every Group, for snapshots
    this.overflow = new Group(0, OTHER, OTHER, OTHER);
    this.all.push(this.overflow);
    this.tell(0, { kind: 'group', emitter: OTHER, event: OTHER, site: null, appSite: null });
    // Two slots that make the native totals exact whatever the groups' weights (src/listeners.rs):
    // counts[uncounted] the adds no group counted, counts[excess] what groups counted beyond one
    // per add (and +1 for removes).
    const slot = this.allocate(2);
    this.uncounted = slot < 0 ? 0 : 2 * slot; // no slot (a table under 3 slots): the overflow group
    this.excess = slot < 0 ? 0 : 2 * (slot + 1);
    if (slot >= 0) this.tell(slot, { kind: 'totals', excess: slot + 1 });
  }

  /** The group for listeners of `type` on `target`; creates it on first sight. */
  groupFor(target, type) {
    const name = this.classNameOf(target);
    let byType = this.byName.get(name);
    let group = byType === undefined ? undefined : byType.get(type);
    if (group !== undefined) return group;
    const slot = this.allocate(1);
    if (slot < 0) {
      this.folded++;
      return this.overflow;
    }
    if (byType === undefined) this.byName.set(name, (byType = new Map()));
    group = new Group(slot, name, eventName(type), type);
    byType.set(type, group);
    this.all.push(group);
    this.tell(slot, { kind: 'group', emitter: name, event: group.event, site: null, appSite: null });
    return group;
  }

  /**
   * The group for listeners of `type` on `target`, which is of `known`'s class: its other event
   * types skip finding the class again (a prototype read and a WeakMap lookup per new entry).
   */
  groupBeside(known, target, type) {
    const byType = known.slot === 0 ? undefined : this.byName.get(known.emitter);
    const group = byType === undefined ? undefined : byType.get(type);
    return group !== undefined ? group : this.groupFor(target, type);
  }

  /** The site entry of `group` for a call site; null when no slot is left for it. */
  siteFor(group, site, appSite) {
    if (group.slot === 0 || site === null) return null;
    const key = appSite === null ? site : `${site} ${appSite}`;
    let entry = group.sites.get(key);
    if (entry !== undefined) return entry;
    if (group.sites.size >= SITES_PER_GROUP) return null;
    const slot = this.allocate(2);
    if (slot < 0) return null;
    entry = new Site(slot, slot + 1, group, site, appSite);
    group.sites.set(key, entry);
    const info = { emitter: group.emitter, event: group.event, site, appSite };
    this.tell(slot, { kind: 'site', ...info });
    this.tell(slot + 1, { kind: 'site-emitters', of: slot, ...info });
    return entry;
  }

  allocate(n) {
    if (this.nextSlot + n > this.maxGroups) return -1;
    const slot = this.nextSlot;
    this.nextSlot += n;
    return slot;
  }

  tell(slot, info) {
    try {
      this.describeGroup(slot, info);
    } catch {
      // The native side refusing a description must not break the app's add.
    }
  }

  classNameOf(target) {
    let proto;
    try {
      proto = Object.getPrototypeOf(target);
    } catch {
      return 'Object'; // a Proxy whose getPrototypeOf trap throws
    }
    if (proto === null) return 'Object: null prototype';
    let name = this.nameByProto.get(proto);
    if (name === undefined) {
      name = constructorName(proto);
      this.nameByProto.set(proto, name);
    }
    return name;
  }

  /**
   * The adds and live listeners of class `name` over its event types, as counted (weighted);
   * null once any group has been folded into the overflow one, which may hold some of them.
   */
  countsOfClass(name) {
    if (this.folded !== 0) return null;
    let adds = 0;
    let live = 0;
    for (const g of this.byName.get(name)?.values() ?? []) {
      adds += this.counts[2 * g.slot];
      live += (this.counts[2 * g.slot] - this.counts[2 * g.slot + 1]) | 0;
    }
    return { adds, live };
  }

  /** Live counts per group, from the same counters the native side reads. */
  snapshot() {
    const rows = [];
    for (const g of this.all) {
      const adds = this.counts[2 * g.slot];
      const removes = this.counts[2 * g.slot + 1];
      const live = (adds - removes) | 0;
      const sites = this.siteRows(g, live);
      const top = sites[0];
      rows.push({
        emitter: g.emitter,
        event: g.event,
        site: top ? top.site : null,
        appSite: top ? top.appSite : null,
        live,
        adds,
        removes,
        sites,
      });
    }
    return rows.sort((a, b) => b.live - a.live);
  }

  // Sites of a group with their share of its live count. Samples are weighted, so the exact
  // group count is split in proportion to the sampled weight still attached per site; the
  // listeners found attached (FOUND_SITE) are counted one by one and keep their own weight, as
  // in src/listeners.rs.
  siteRows(group, groupLive) {
    const rows = [];
    let total = 0;
    let found = 0;
    for (const s of group.sites.values()) {
      const weight = (this.counts[2 * s.slot] - this.counts[2 * s.slot + 1]) | 0;
      const emitters = (this.counts[2 * s.emSlot] - this.counts[2 * s.emSlot + 1]) | 0;
      if (s.site === FOUND_SITE) found += Math.max(0, weight);
      else total += Math.max(0, weight);
      // added: the weight ever attached (for FOUND_SITE, every listener ever found).
      rows.push({ site: s.site, appSite: s.appSite, weight, emitters, live: 0, added: this.counts[2 * s.slot] });
    }
    const rest = Math.max(0, groupLive - found);
    for (const r of rows) {
      if (r.site === FOUND_SITE) {
        r.live = Math.min(Math.max(0, r.weight), Math.max(0, groupLive));
        r.emitters = Math.max(0, r.emitters);
        continue;
      }
      const share = total > 0 ? Math.max(0, r.weight) / total : 0;
      r.live = Math.round(rest * share);
      r.emitters = r.weight > 0 ? Math.round((r.live * Math.max(0, r.emitters)) / r.weight) : 0;
    }
    return rows.sort((a, b) => b.live - a.live);
  }
}

// Field order and types fixed in the constructor so every Group shares one hidden class.
class Group {
  constructor(slot, emitter, event, type) {
    this.slot = slot;
    this.emitter = emitter;
    this.event = event;
    this.type = type;
    this.skip = 1; // adds until the next sampled one (see sampler.js)
    this.rate = 1; // one add sampled in `rate`, on average
    this.lastSampleAt = 0;
    this.sites = new Map();
  }
}

class Site {
  constructor(slot, emSlot, group, site, appSite) {
    this.slot = slot;
    this.emSlot = emSlot;
    this.group = group;
    this.site = site;
    this.appSite = appSite;
  }
}

function eventName(type) {
  return typeof type === 'symbol' ? type.toString() : String(type);
}

// The class name Node's inspect() would print, read from data properties only, so no getter
// of the app's runs here.
function constructorName(proto) {
  try {
    for (let p = proto; p !== null; p = Object.getPrototypeOf(p)) {
      const ctor = Object.getOwnPropertyDescriptor(p, 'constructor');
      if (ctor === undefined || typeof ctor.value !== 'function') continue;
      const name = Object.getOwnPropertyDescriptor(ctor.value, 'name');
      if (name !== undefined && typeof name.value === 'string' && name.value !== '') return name.value;
    }
  } catch {
    // exotic prototype chain
  }
  return 'Object';
}

module.exports = { Groups, Group, Site, eventName, FOUND_SITE };
