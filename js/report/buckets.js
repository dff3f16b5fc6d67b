'use strict';

// A bounded summary of one time series of any length.
//
// Points fall into time buckets of equal width. Each bucket keeps the count,
// sum, and the minimum and maximum together with *when* they happened, so
// spikes and floors survive however much the series is compressed. When there
// are more buckets than `capacity`, the width doubles and neighbours merge:
// memory stays O(capacity) for a log of any size, and a short log keeps every
// point exactly (the width starts at 1 ms).

const DEFAULT_CAPACITY = 1024;

class TimeBuckets {
  constructor(capacity = DEFAULT_CAPACITY) {
    this.capacity = capacity;
    this.widthMs = 1;
    this.origin = null; // time of the first point; bucket k covers origin + k*width
    this.buckets = []; // non-empty buckets only, sorted by k
    this.count = 0;
  }

  add(time, value) {
    if (!Number.isFinite(time) || !Number.isFinite(value)) return;
    if (this.origin === null) this.origin = time;
    this.count += 1;
    const k = Math.floor((time - this.origin) / this.widthMs);
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.k === k) mergePoint(last, time, value);
    else if (!last || last.k < k) this.buckets.push(newBucket(k, time, value));
    else this.insertOutOfOrder(k, time, value);
    if (this.buckets.length > this.capacity) this.halve();
  }

  // Lines from one process are almost always in time order; a clock step or a
  // shuffled log can still send an older point, which lands in its own bucket.
  insertOutOfOrder(k, time, value) {
    let lo = 0;
    let hi = this.buckets.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.buckets[mid].k < k) lo = mid + 1;
      else hi = mid;
    }
    const found = this.buckets[lo];
    if (found && found.k === k) mergePoint(found, time, value);
    else this.buckets.splice(lo, 0, newBucket(k, time, value));
  }

  // Double the bucket width, merging pairs of neighbours.
  halve() {
    while (this.buckets.length > this.capacity) {
      this.widthMs *= 2;
      const merged = [];
      for (const b of this.buckets) {
        b.k = Math.floor(b.k / 2); // floor keeps negative k (older points) consistent
        const last = merged[merged.length - 1];
        if (last && last.k === b.k) mergeBucket(last, b);
        else merged.push(b);
      }
      this.buckets = merged;
    }
  }

  isEmpty() {
    return this.buckets.length === 0;
  }

  min() {
    return this.buckets.reduce((m, b) => Math.min(m, b.min), Infinity);
  }

  max() {
    return this.buckets.reduce((m, b) => Math.max(m, b.max), -Infinity);
  }
}

function newBucket(k, time, value) {
  return { k, n: 1, sum: value, min: value, minTime: time, max: value, maxTime: time };
}

function mergePoint(b, time, value) {
  b.n += 1;
  b.sum += value;
  if (value < b.min) {
    b.min = value;
    b.minTime = time;
  }
  if (value > b.max) {
    b.max = value;
    b.maxTime = time;
  }
}

function mergeBucket(into, from) {
  into.n += from.n;
  into.sum += from.sum;
  if (from.min < into.min) {
    into.min = from.min;
    into.minTime = from.minTime;
  }
  if (from.max > into.max) {
    into.max = from.max;
    into.maxTime = from.maxTime;
  }
}

module.exports = { TimeBuckets, DEFAULT_CAPACITY };
