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
// the addon (a tracker that counts for leakwatch/testing alone), a FinalizationRegistry does it.

const BATCH = 256; // markers handed over in one native call

/**
 * @param {(head: object) => void} onCollected  takes a collected emitter's listeners off
 * @param {object|null|undefined} native  the addon's markerWatch* functions; none: the registry
 */
function createCollectionWatch(onCollected, native) {
  return native == null ? registryWatch(onCollected) : nativeWatch(onCollected, native);
}

function registryWatch(onCollected) {
  const registry = new FinalizationRegistry(onCollected);
  return {
    watch: (marker, head) => registry.register(marker, head),
    drain() {},
    stop() {},
  };
}

function nativeWatch(onCollected, native) {
  const generation = native.markerWatchBegin();
  let heads = []; // slot -> head of a watched emitter
  let free = []; // slots of collected emitters, for reuse
  let pendingMarkers = [];
  let pendingSlots = [];
  let stopped = false;
  let fallback = null;

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
      // Not expected (a Node-API failure): these few are watched the old way instead.
      fallback ??= new FinalizationRegistry(onCollected);
      for (let i = 0; i < markers.length; i++) fallback.register(markers[i], heads[slots[i]]);
    }
  }

  /** Hands over waiting markers and takes collected emitters' listeners off. */
  function drain() {
    if (stopped) return;
    flush();
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
