'use strict';
// When does an exact count (listeners of one group, handles of one type) grow "with the number
// of calls"? It is counted at three moments: after the warm-up (a), halfway (b) and at the end
// (c). A leak grows in both halves. A pool or cache filling up, a lazily created listener, a
// socket still closing when the count was taken: these move one half at most, so they pass.

/** The growth from a to c when it is steady and beyond `allowed`, else 0. */
function steadyGrowth(a, b, c, allowed) {
  const growing = b > a && c > b && c - a > allowed;
  return growing ? c - a : 0;
}

module.exports = { steadyGrowth };
