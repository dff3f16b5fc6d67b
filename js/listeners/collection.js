'use strict';
// Learns which recorded emitters were garbage-collected, so their listeners stop counting.
//
// records.js gives each recorded emitter a marker that only its WeakMap entry holds, so the
// marker dies with the emitter. What watches the markers matters to Node itself: V8 runs one
// dirty FinalizationRegistry's cleanup per task, and a registry of ours dirtied by the same GC
// as one of Node's could go first and push Node's cleanup past the app's next setImmediate.
// Node's weak EventTarget listeners then stayed attached long enough for Node to print a
// MaxListenersExceededWarning about listeners already collected, and `AbortSignal.any()` kept
// thousands of settled dependants (both in 4-9 runs of 10 with a registry; 0 without).
//
// So, with the addon, the markers get Node-API finalizers (src/weak_markers.rs): a weak handle
// each, whose callback writes the marker's slot into a native list and posts nothing to V8.
// Markers are handed over in batches (no native call per add: a marker waits in `pending`, a
// strong reference to nothing but itself and its record's head); the list is drained once a
// second and before counts are read. A collected emitter's listeners so leave the counts up to
// a second after its GC instead of just after it, and a watched emitter costs more memory:
// +135-165 B of RSS against +66-74 B for a registry cell (benches/marker-memory.js). Without
// the addon (a tracker that counts for leakwatch/testing alone), each marker gets a WeakRef,
// swept at the same drains. Not a FinalizationRegistry: its callbacks run in a task V8 posts,
// which on Node 20 now and then did not run within 100 rounds of gc() and setImmediate, so a
// check could measure listeners of emitters already collected; a sweep is done when the drain
// returns. It costs a pass over the watched markers per drain (a private tracker watches the
// emitters of one check), and a marker found alive is kept alive to the end of the job that
// looked (WeakRef.deref): a GC meant to collect it must come in a later job, as
// leakwatch/testing's do (testing/heap.js).

const BATCH = 256; // markers handed over in one native call

/**
 * @param {(head: object) => void} onCollected  takes a collected emitter's listeners off
 * @param {object|null|undefined} native  the addon's markerWatch* functions; none: the registry
 */
function createCollectionWatch(onCollected, native) {
  return native == null ? sweepWatch(onCollected) : nativeWatch(onCollected, native);
}

function sweepWatch(onCollected) {
  let refs = []; // WeakRef of each watched marker
  let heads = []; // and its emitter's head, at the same index

  function watch(marker, head) {
    refs.push(new WeakRef(marker));
    heads.push(head);
  }

  /** Takes collected emitters' listeners off: those whose marker's WeakRef is empty. */
  function drain() {
    const gone = [];
    let kept = 0;
    for (let i = 0; i < refs.length; i++) {
      if (refs[i].deref() === undefined) {
        gone.push(heads[i]);
      } else {
        refs[kept] = refs[i];
        heads[kept++] = heads[i];
      }
    }
    refs.length = kept;
    heads.length = kept;
    for (const head of gone) onCollected(head); // after the compaction: onCollected may watch
  }

  function stop() {
    refs = [];
    heads = [];
  }

  return { watch, drain, stop };
}

function nativeWatch(onCollected, native) {
  const generation = native.markerWatchBegin();
  let heads = []; // slot -> head of a watched emitter
  let free = []; // slots of collected emitters, for reuse
  let pendingMarkers = [];
  let pendingSlots = [];
  let stopped = false;
  let fallback = null; // a sweep, for markers the addon refused

  function watch(marker, head) {
    if (stopped) return; // a method captured before uninstall, still counting into nothing
    const slot = free.length > 0 ? free.pop() : heads.length;
    heads[slot] = head;
    pendingMarkers.push(marker);
    pendingSlots.push(slot);
    if (pendingMarkers.length >= BATCH) flush();
  }

  function flush() {
    if (pendingMarkers.length === 0 || stopped) return;
    const markers = pendingMarkers;
    const slots = Uint32Array.from(pendingSlots);
    pendingMarkers = [];
    pendingSlots = [];
    try {
      native.markerWatchAdd(markers, slots, generation);
    } catch {
      // Not expected (a Node-API failure): these few are swept instead.
      fallback ??= sweepWatch(onCollected);
      for (let i = 0; i < markers.length; i++) fallback.watch(markers[i], heads[slots[i]]);
    }
  }

  /** Hands over waiting markers and takes collected emitters' listeners off. */
  function drain() {
    if (stopped) return;
    flush();
    if (fallback !== null) fallback.drain();
    const collected = native.markerWatchCollected(generation);
    for (let i = 0; i < collected.length; i++) {
      const slot = collected[i];
      const head = heads[slot];
      heads[slot] = undefined;
      free.push(slot);
      if (head !== undefined) onCollected(head);
    }
  }

  function stop() {
    stopped = true;
    native.markerWatchEnd(generation);
    heads = [];
    free = [];
    pendingMarkers = [];
    pendingSlots = [];
  }

  return { watch, drain, stop };
}

module.exports = { createCollectionWatch };
