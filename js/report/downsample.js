'use strict';

// Reduces a series to what can be drawn: for each pixel column, the lowest
// and the highest point in it, in time order. A line through those points
// looks the same as one through every point — a GC spike or a sudden drop is
// never averaged away — but has at most two points per pixel.

// buckets: a TimeBuckets. toPixel: time (epoch ms) -> x in pixels.
function minMaxPerPixel(buckets, toPixel) {
  const out = [];
  let column = null;
  let low = null;
  let high = null;
  const flush = () => {
    if (column === null) return;
    if (low === high) out.push(low);
    else out.push(...(low.t <= high.t ? [low, high] : [high, low]));
  };
  for (const b of buckets.buckets) {
    for (const point of bucketPoints(b)) {
      const c = Math.floor(toPixel(point.t));
      if (c !== column) {
        flush();
        column = c;
        low = point;
        high = point;
      } else {
        if (point.v < low.v) low = point;
        if (point.v > high.v) high = point;
      }
    }
  }
  flush();
  return out;
}

// A bucket's extremes, oldest first; one point when they coincide.
function bucketPoints(b) {
  const min = { t: b.minTime, v: b.min };
  const max = { t: b.maxTime, v: b.max };
  if (b.minTime === b.maxTime) return [max];
  return b.minTime < b.maxTime ? [min, max] : [max, min];
}

module.exports = { minMaxPerPixel };
