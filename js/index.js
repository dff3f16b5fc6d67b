'use strict';
// The public API: start(options), stop(), stats(), and events ('stats', 'warning', …).
// One leakwatch per isolate: a second copy of the package (another path in node_modules)
// finds the first one's API on globalThis and uses it, so nothing is counted twice.

const INSTANCE = Symbol.for('leakwatch.instance');
const LISTENER_TRACKER = Symbol.for('leakwatch.listenerTracker');
if (globalThis[INSTANCE]) {
  module.exports = globalThis[INSTANCE];
} else {
  module.exports = createLeakwatch();
  Object.defineProperty(globalThis, INSTANCE, { value: module.exports, enumerable: false });
}

function createLeakwatch() {
  const EventEmitter = require('node:events');
  const os = require('node:os');
  const path = require('node:path');
  const { binding, shimPath } = require('./native');
  const { normalizeOptions } = require('./options');
  const { startSampler, takeSample } = require('./sampler');
  const warnings = require('./warnings');
  const { hide } = require('./process-listeners');
  // node:worker_threads costs ~1.6 MB of RSS to load; a worker has it loaded already.
  const threadId = binding.isMainThread() ? 0 : require('node:worker_threads').threadId;

  // The API object: an EventEmitter with the functions below (typed in index.d.ts).
  const lw = /** @type {any} */ (new EventEmitter());
  const EXIT_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  /** @type {any} {id, options, sink, gcSource, stopSampler, stopGcObserver, unsubscribe, stopMetricsServer, tracker} */
  let session = null;

  /**
   * Starts leakwatch on this thread (a second start replaces the first session).
   * @param {import('../index').Options} [options]  validated: a bad value throws, naming the option
   * @returns {import('../index').Leakwatch}
   */
  function start(options) {
    const normalized = normalizeOptions(options);
    if (session) end(false);
    const started = binding.start(
      {
        // src/config.rs ConfigInput: checked again there, so Rust never trusts its input.
        session: {
          intervalMs: normalized.intervalMs,
          log: nativeLogTarget(normalized.log),
          hostname: os.hostname(),
          threadId,
          gcHints: normalized.gcHints,
          heapProfile: normalized.heapProfile.enabled,
          heapProfileIntervalBytes: normalized.heapProfile.sampleIntervalBytes,
          trend: normalized.trend,
        },
        gcSource: normalized.gcSource,
        shimPath,
        ownScripts: __dirname + path.sep, // leakwatch's own allocations are not the app's growth
        nodeVersion: process.versions.node,
        nodeModuleVersion: Number(process.versions.modules),
        v8Version: process.versions.v8,
      },
      onNativeEvent
    );
    const id = started.id;
    session = {
      id,
      options: normalized,
      sink: jsSink(normalized.log),
      gcSource: started.gcSource,
      gcFallbackReason: started.gcFallbackReason,
    };
    const current = session;
    session.stopSampler = startSampler(normalized.intervalMs, (sample, handles) => {
      if (current.tracker) current.tracker.collect(); // collected emitters' listeners off first
      binding.sample(id, sample, handles);
    });
    session.stopGcObserver =
      started.gcSource === 'perf_hooks'
        ? require('./perf-hooks-gc').observeGcs((flat) => binding.recordGcs(id, flat))
        : null;
    const sink = session.sink;
    session.unsubscribe = warnings.onWarning((w) => onWarning(id, sink, w));
    warnings.setNote((eventName) => (eventName === 'listener-leak' ? (binding.heapLeakNote(id) ?? '') : ''));
    if (started.announceFallback) announceFallback(started.gcFallbackReason);
    session.tracker = normalized.listeners ? trackListeners(id) : null;
    session.stopMetricsServer = normalized.metrics
      ? require('./metrics-server').startMetricsServer(normalized.metrics, metrics, warnings.warn)
      : null;
    updateDelivery();
    process.on('exit', hide(onExit));
    for (const signal of EXIT_SIGNALS) process.on(signal, hide(onSignal));
    return lw;
  }

  // The shim was built for another Node (or not built): said once per process, on stderr as a
  // LeakwatchWarning and in the log, so nobody reads perf_hooks figures thinking they are V8's.
  function announceFallback(reason) {
    warnings.warn('LEAKWATCH_GC_FALLBACK', `leakwatch uses perf_hooks for GC events: ${reason}`, { reason });
  }

  function nativeLogTarget(log) {
    if (log.kind === 'file') return `file:${log.path}`;
    if (log.kind === 'function' || log.kind === 'logger') return 'js';
    return log.kind;
  }

  /** Ends the session: hooks off, timers cleared, and (when `writeFinal`) a final line. */
  function end(writeFinal) {
    const s = session;
    session = null;
    process.removeListener('exit', onExit);
    for (const signal of EXIT_SIGNALS) process.removeListener(signal, onSignal);
    s.stopSampler();
    if (s.stopGcObserver) s.stopGcObserver();
    s.unsubscribe();
    warnings.setNote(null);
    if (s.tracker) s.tracker.uninstall();
    if (s.stopMetricsServer) s.stopMetricsServer();
    if (s.cancelSnapshotDiff) s.cancelSnapshotDiff();
    const finalLine = binding.stop(s.id, takeSample(), writeFinal);
    if (writeFinal && finalLine) deliverLine(s.sink, JSON.parse(finalLine), false);
  }

  /**
   * Ends the session: hooks off, timers cleared, the final line written. Safe to call twice.
   * @returns {import('../index').Leakwatch}
   */
  function stop() {
    if (session) end(true);
    return lw;
  }

  // A signal whose default action ends the process skips 'exit', and so the final line. When
  // leakwatch is its only listener, write the line, step aside and raise the signal again:
  // the process ends exactly as it would have (same signal, same status). When the app has
  // its own handler, it decides; if it exits, 'exit' writes the line.
  function onSignal(signal) {
    if (process.listenerCount(signal) > 0) return; // the app's own (leakwatch's is not counted)
    onExit();
    process.removeListener(signal, onSignal);
    try {
      process.kill(process.pid, signal);
    } catch {
      process.exit(128 + (require('node:os').constants.signals[signal] || 0));
    }
  }

  function onExit() {
    try {
      if (session) end(true);
    } catch {
      // The app is exiting: never replace its exit with ours.
    }
  }

  // Listener adds and removes are counted into memory the background thread reads; a new
  // (emitter class, event) group or call site is described to it once.
  // If it cannot be installed, the rest of leakwatch runs on without it, and says so.
  function trackListeners(id) {
    try {
      const counts = binding.listenerCounts(id); // two counters per slot, as many as the addon keeps
      return require('./listeners').install({
        counts,
        maxGroups: counts.length >> 1,
        describeGroup: (slot, info) => binding.describeGroup(id, slot, JSON.stringify(info)),
        native: binding, // its markerWatch* functions (listeners/collection.js)
        mainThread: threadId === 0,
        warn: warnings.warn,
        record: warnings.record,
        notify: warnings.notify,
      });
    } catch (err) {
      warnings.warn('LEAKWATCH_START_FAILED', `leakwatch listener tracking is off: ${err.message}`, {});
      return null;
    }
  }

  /**
   * Live listener groups, largest first: counts as of now (from the JS side; estimated for a
   * class sampled because it makes emitters by the thousand), with the growth the background
   * thread measured over the last minute.
   */
  /**
   * @param {number} [n]  rows, largest first
   * @returns {import('../index').ListenerGroup[]}
   */
  function listeners(n = 10) {
    // lw is an EventEmitter too: listeners('stats') keeps its usual meaning.
    if (typeof n === 'string' || typeof n === 'symbol') return EventEmitter.prototype.listeners.call(lw, n);
    if (!session || !session.tracker) return [];
    const growth = new Map();
    for (const t of JSON.parse(binding.listeners(session.id, 100)).top)
      growth.set(`${t.emitter}\0${t.event}`, t.growth);
    const keep = new Map(session.tracker.stats().sampledClasses.map((c) => [c.emitter, c.keep]));
    return session.tracker
      .snapshot()
      .slice(0, n)
      .map((row) => ({
        ...row,
        growth: growth.get(`${row.emitter}\0${row.event}`) ?? 0,
        estimated: keep.has(row.emitter),
        sampleKeep: keep.get(row.emitter) ?? 1,
      }));
  }

  /**
   * The figures of a log line as of now, without waiting for the interval; null when not running.
   * @returns {import('../index').Stats | null}
   */
  function stats() {
    if (!session) return null;
    if (session.tracker) session.tracker.collect();
    const text = binding.stats(session.id);
    return text ? JSON.parse(text) : null;
  }

  /**
   * Where the heap's growth was allocated, from a read of V8's sampling heap profile made
   * now: `{state, sinceMs, message, sites}` over the heap verdict's window, or since
   * `{sinceMs}` (epoch ms: from the last read made at or before it). Null when not running.
   * `state` says whether the profile runs ('on') and why not otherwise.
   * @param {{sinceMs?: number}} [options]
   * @returns {import('../index').HeapGrowth | null}
   */
  function heapGrowth(options = {}) {
    const sinceMs = options === null || typeof options !== 'object' ? NaN : (options.sinceMs ?? null);
    if (sinceMs !== null && !(Number.isFinite(sinceMs) && sinceMs >= 0)) {
      throw new TypeError(
        `leakwatch: heapGrowth() takes {sinceMs}, epoch milliseconds; got ${JSON.stringify(options)}`
      );
    }
    if (!session) return null;
    const text = binding.heapGrowth(session.id, takeSample(), sinceMs ?? undefined);
    return text ? JSON.parse(text) : null;
  }

  // Events from the background thread, through a weak threadsafe function.
  function onNativeEvent(payload) {
    try {
      const event = JSON.parse(payload);
      if (event.type === 'memory' && session) deliverLine(session.sink, event.line, true);
      else if (event.type === 'warning') warnings.raised(event.line, event.eventName || 'warning');
    } catch {
      // Telemetry must never throw into the app's event loop.
    }
  }

  // ---- Heap snapshot on a confirmed heap leak (opt-in: the `snapshot` option; js/snapshot.js) ----
  /**
   * Writes the snapshot a heap leak warning calls for (blocking: ~1 s per 100 MB of heap). The
   * path goes into the warning's details (`details.snapshot`) and, as a line of its own, into
   * the log, which has the warning already; a snapshot not taken says why in the log.
   */
  function snapshotOnLeak(code, details) {
    if (code !== 'LEAKWATCH_HEAP_GROWTH' || !session || !session.options.snapshot || !details) return;
    const snapshots = require('./snapshot');
    const result = snapshots.takeSnapshot(session.options.snapshot, { threadId });
    if (result.path) details.snapshot = result.path;
    const [snapCode, text, more] = result.path
      ? ['LEAKWATCH_HEAP_SNAPSHOT', `Heap snapshot written to ${result.path}`, { path: result.path }]
      : ['LEAKWATCH_HEAP_SNAPSHOT_SKIPPED', `No heap snapshot: ${result.skipped}`, { reason: result.skipped }];
    const s = session;
    const log = (c, t, m) => logLine(s.id, s.sink, { code: c, message: t, details: m });
    log(snapCode, text, more);
    if (result.path) {
      if (s.cancelSnapshotDiff) s.cancelSnapshotDiff();
      // Only while this session runs: a stopped session's log is closed.
      s.cancelSnapshotDiff = snapshots.followUpSnapshot(result.path, (c, t, m) => session === s && log(c, t, m));
    }
  }
  // ---- end of heap snapshot ----

  /**
   * Where lines go when the log is in JS: a function gets every line object (memory and
   * warning lines, as a file would hold them); a logger gets them in its own conventions
   * (js/logger.js). Null for the logs the background thread writes itself.
   */
  function jsSink(log) {
    if (log.kind === 'function') return { memory: log.fn, warning: log.fn };
    if (log.kind === 'logger') return require('./logger').loggerSink(log.logger);
    return null;
  }

  function deliverLine(sink, line, asStats) {
    if (sink) safeCall(() => sink.memory(line));
    if (asStats) safeEmit('stats', line);
  }

  // Every warning of this session, raised here or by the addon, as warnings.js hands it out
  // (after process.emitWarning): a heap leak's snapshot first (it adds details.snapshot), then
  // the log line, then lw's event.
  function onWarning(id, sink, w) {
    const { code, message, details, eventName, line } = w;
    if (eventName === 'leak') safeCall(() => snapshotOnLeak(code, details));
    // The addon's own warnings are in a file or stream log already (the background thread
    // wrote them); a function or logger gets the line here.
    if (line) {
      if (sink) safeCall(() => sink.warning(line));
    } else logLine(id, sink, w);
    safeEmit(eventName, { code, message, details });
  }

  /**
   * The line is built by the addon (src/session.rs warning_line), which writes it to a file or
   * stream log and returns it for a function or logger.
   * @param {number} id
   * @param {any} sink
   * @param {{code: string, message: string, details?: object, eventName?: string}} warning
   */
  function logLine(id, sink, { code, message, details, eventName }) {
    safeCall(() => {
      const line = binding.logWarning(id, code, message, JSON.stringify(details ?? {}), eventName === 'listener-leak');
      if (sink && line) sink.warning(JSON.parse(line));
    });
  }

  function safeEmit(name, value) {
    if (lw.listenerCount(name) === 0) return;
    safeCall(() => lw.emit(name, value));
  }

  function safeCall(fn) {
    try {
      fn();
    } catch {
      // A user's logger or listener failing is theirs to see elsewhere, not a crash here.
    }
  }

  // The background thread only sends memory lines back when someone wants them.
  function updateDelivery() {
    if (!session) return;
    const wanted =
      lw.listenerCount('stats') > 0 || session.options.log.kind === 'function' || session.options.log.kind === 'logger';
    binding.setDelivery(session.id, wanted);
  }
  lw.on('newListener', (name) => name === 'stats' && setImmediate(updateDelivery).unref());
  lw.on('removeListener', (name) => name === 'stats' && updateDelivery());

  /**
   * The Prometheus text exposition format of the current figures ('' when not running).
   * @returns {string}
   */
  function metrics() {
    try {
      return require('./metrics').prometheusText(stats());
    } catch {
      return ''; // a scrape must not become the app's exception
    }
  }

  /**
   * Registers leakwatch's metrics into a prom-client Registry; returns an unregister function.
   * @param {import('../index').PromClientRegistry} register
   * @returns {() => void}
   */
  function promClient(register) {
    return require('./metrics').registerPromClient(register, stats);
  }

  /**
   * Registers observable instruments on an OpenTelemetry Meter; returns a function removing them.
   * @param {import('../index').OtelMeter} meter
   * @returns {() => void}
   */
  function otel(meter) {
    return require('./otel').registerOtel(meter, stats);
  }

  /** leakwatch's own bookkeeping (live sessions, dropped GC records), for leak tests of itself. */
  // emitterMode: how listener tracking patches EventEmitter ('wrap' until its check settles,
  // then 'fast' where verified; null while it is off).
  lw.internals = () => ({
    ...JSON.parse(binding.internals()),
    emitterMode: session && session.tracker ? session.tracker.stats().emitterMode : null,
  });
  lw.listeners = listeners;
  lw.start = start;
  lw.stop = stop;
  lw.stats = stats;
  lw.heapGrowth = heapGrowth;
  lw.metrics = metrics;
  lw.promClient = promClient;
  lw.otel = otel;
  Object.defineProperty(lw, 'running', { get: () => session !== null, enumerable: true });
  // leakwatch/testing reads the running session's listener tracker here, not from a module:
  // the tracker may be the bundle's copy of the listener code (js/register.bundle.js).
  Object.defineProperty(lw, LISTENER_TRACKER, { value: () => session?.tracker ?? null });
  return lw;
}
