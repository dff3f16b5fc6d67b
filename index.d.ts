// Types of the public API of `require('leakwatch')`. The memory-line format is documented
// in docs/log-format.md; `LeakwatchLine` below is the same, typed.

import { EventEmitter } from 'node:events';

declare namespace leakwatch {
  /** A duration: a number of milliseconds, or text such as `'500ms'`, `'30s'`, `'1m'`, `'1h'`. */
  export type Duration = number | string;

  /**
   * A pino or bunyan logger, or anything with their `info(obj, msg)` (and `warn(obj, msg)`,
   * else warnings go to `info`). A winston logger (it has `transports`) is called the winston
   * way, `info(msg, obj)`. The logger adds `time`, `pid`, `hostname` and `level` itself.
   */
  export interface Logger {
    info(obj: object, msg?: string): unknown;
    warn?(obj: object, msg?: string): unknown;
  }

  /** The optional /metrics endpoint. */
  export interface MetricsServerOptions {
    /** 1 to 65535. */
    port: number;
    /** Address to bind. Default `'127.0.0.1'`: give `'0.0.0.0'` (or `'::'`) to serve beyond this machine. */
    host?: string;
  }

  export interface Options {
    /** How often a memory line is written: 100ms to 24h. Default `'60s'`. */
    interval?: Duration;
    /**
     * Where lines go: `'stderr'` (default), `'stdout'`, `'off'`, a file path (appended,
     * created owner-only, reopened after rotation), a function called with each line object
     * (memory and warning lines, as a file holds them), or a logger: memory lines as
     * `info(fields, 'leakwatch memory')`, warnings as `warn({code, details, …}, message)`.
     */
    log?: 'stderr' | 'stdout' | 'off' | string | ((line: LeakwatchLine | LeakwatchWarningLine) => void) | Logger;
    /**
     * Where GC events come from: `'auto'` (default: V8 GC callbacks through the native shim,
     * falling back to perf_hooks when the shim does not match the running Node), `'v8'` (fail
     * if the shim cannot be used) or `'perf_hooks'`.
     */
    gcSource?: 'auto' | 'v8' | 'perf_hooks';
    /**
     * When the heap grew by `heap.minGrowth` and no full GC came for a while (4 s while the
     * baselines rise, backing off to 64 s while they do not), send V8 a moderate
     * memory-pressure notification so the heap verdict gets its next baseline (default true;
     * V8 GC callbacks only; `LEAKWATCH_GC_HINTS=off` under `leakwatch/register`). Counted in
     * the log's `gc.hints`.
     */
    gcHints?: boolean;
    /**
     * Run V8's sampling heap profiler (one sample per ~512 KiB allocated, live samples only)
     * and read it every few seconds on the JS thread, so that heap warnings and
     * `heapGrowth()` name the allocation sites that grew (default true; V8 GC callbacks only;
     * `LEAKWATCH_HEAP_PROFILE=off` under `leakwatch/register`). Left to another profiler that
     * runs it already. `{sampleInterval}` (bytes or `'64KB'`, 1KB–64MB) samples more or less
     * often: more samples name smaller leaks, at more cost per allocation.
     */
    heapProfile?: boolean | { sampleInterval?: number | string };
    /** Count every EventEmitter/EventTarget listener add and remove (default true). */
    listeners?: boolean;
    /**
     * Thresholds of the trend verdicts (heap, external and RSS series). The handle and fd
     * series use its window, warmup, sustain and confidence; their growth thresholds are
     * counts (50, and 10 % of the level), not bytes.
     */
    heap?: TrendThresholds;
    /** Serve the Prometheus text at `http://host:port/metrics`. Off by default. */
    metrics?: MetricsServerOptions;
    /**
     * Write a V8 heap snapshot when the heap is found `leaking`. Off by default: writing one
     * stops the process (about a second per 100 MB of heap). Under `leakwatch/register`,
     * `LEAKWATCH_SNAPSHOT_DIR` sets `dir`.
     */
    snapshot?: SnapshotOptions;
  }

  export interface SnapshotOptions {
    /** Where `.heapsnapshot` files go; created owner-only (0700) if missing (its parent must exist). */
    dir: string;
    /** At most this many snapshots per process. Default 1. */
    max?: number;
    /** At least this long between two snapshots. Default 10 minutes. */
    minIntervalMs?: Duration;
  }

  export interface TrendThresholds {
    /** Longest window judged. Default `'5m'`. */
    window?: Duration;
    /** No verdict but `warming-up` before this. Default `'20s'`. */
    warmup?: Duration;
    /** Shortest window: growth must last this long to be a leak. Default `'20s'`. */
    sustain?: Duration;
    /** Growth over a window needed for `leaking`, bytes or `'8MB'`. Default 8 MB. */
    minGrowth?: number | string;
    /** Growth as a fraction of the level. Default 0.01. */
    minGrowthRatio?: number;
    /** One-sided confidence that the series rises. Default 0.99. */
    confidence?: number;
  }

  export type TrendState = 'warming-up' | 'stable' | 'growing' | 'leaking';

  export interface TrendVerdict {
    state: TrendState;
    slopeBytesPerMin: number;
    confidence: number;
  }

  /** The trend of a count (active handles, open fds): its slope is per minute, not bytes. */
  export interface ResourceTrendVerdict {
    state: TrendState;
    slopePerMin: number;
    confidence: number;
  }

  export interface FdsByKind {
    total: number;
    socket: number;
    file: number;
    pipe: number;
    other: number;
  }

  export interface ListenerGroup {
    /** Emitter class name, e.g. `'WebSocketServer'`. */
    emitter: string;
    event: string;
    /** The call site holding most of the group's live listeners, `file:line:column`, when sampled. */
    site: string | null;
    live: number;
    /** Change of `live` over the last minute. */
    growth: number;
  }

  export type GcKind = 'scavenge' | 'minorMarkSweep' | 'markSweepCompact' | 'incrementalMarking' | 'weakCallbacks';

  export interface PauseSummary {
    /** Milliseconds. */
    p50: number;
    p99: number;
    max: number;
    total: number;
  }

  export interface KindSummary {
    count: number;
    p50: number;
    p99: number;
    max: number;
    totalMs: number;
  }

  export interface GcScope {
    count: number;
    pauseMs: PauseSummary;
    /** Only the kinds seen appear. */
    kinds: Partial<Record<GcKind, KindSummary>>;
    /** Memory-pressure hints leakwatch sent V8 for an overdue heap baseline (see `gcHints`). */
    hints: number;
  }

  export interface GcFigures extends GcScope {
    /** Since leakwatch started; the top level covers the GCs since the previous line. */
    sinceStart: GcScope;
    /** GC records lost to a full queue since start (process-wide). */
    dropped: number;
  }

  export interface HeapProfileState {
    /** Why there are allocation sites or not: `unavailable` without V8 GC callbacks. */
    state: 'on' | 'off' | 'unavailable' | 'in use by another profiler';
    reads: number;
    /** Reads skipped because the heap was too large to read the profile cheaply. */
    skipped: number;
    /** The longest read's pause of the JS thread. */
    maxReadMs: number;
  }

  /** A function where live bytes were allocated; `line` is where V8 says it starts. */
  export interface AllocationFrame {
    function: string;
    /** `file:line:column`, relative to the working directory when under it. */
    location: string;
    file: string;
    line: number;
    column: number;
  }

  /** An allocation site whose live bytes grew, in `heapGrowth()` and heap warnings' `details.allocationSites`. */
  export interface AllocationSite extends AllocationFrame {
    /** The nearest app frame above a site inside a package, Node or a built-in. */
    caller: AllocationFrame | null;
    /** For an app function: the app function that called it for more than half of its growth. */
    mostlyVia: AllocationFrame | null;
    /** The package the site is in, with the version its package.json gives. */
    package: { name: string; version: string | null } | null;
    /** Estimated from V8's samples. */
    growthBytes: number;
    /** Its part of the growth of every site that grew (0–1). */
    share: number;
  }

  export interface HeapGrowth {
    state: HeapProfileState['state'];
    /** From when: the read made at or before it is compared with the latest (epoch ms). */
    sinceMs: number;
    /**
     * When the latest read was made: now, unless this read was skipped because the profile
     * had grown too large to read within the JS-thread budget (then an earlier one; null if none).
     */
    latestReadMs: number | null;
    /** `Most of the growth was allocated at …`, or null when no site grew. */
    message: string | null;
    sites: AllocationSite[];
  }

  /** One `event: "memory"` line of the log. */
  export interface LeakwatchLine {
    lw: 1;
    event: 'memory';
    /** Epoch milliseconds. */
    time: number;
    pid: number;
    hostname: string;
    /** `worker_threads.threadId`; 0 is the main thread. */
    threadId: number;
    /** Present and true on the line written at exit or `stop()`. */
    final?: true;
    intervalMs: number;
    uptimeMs: number;
    /** Age of the heap figures (sampled on the JS thread once a second); large when the loop is blocked. */
    sampleAgeMs: number | null;
    heapUsed: number;
    heapTotal: number;
    heapLimit: number;
    external: number;
    arrayBuffers: number;
    rss: number | null;
    /** Heap used after the latest full GC: a rising baseline is a leak, a sawtooth is not. */
    baseline: number | null;
    baselineTime: number | null;
    fds: number | null;
    /** Open file descriptors by kind, as `lsof -p` would show them (null without /proc). */
    fdsByKind: FdsByKind | null;
    /** Active libuv resources, from `process.getActiveResourcesInfo()`. */
    handles: { total: number; byType: Record<string, number> } | null;
    gcSource: 'v8' | 'perf_hooks';
    gc: GcFigures;
    /** `adds` and `removes` are exact; `live` sums the groups (estimated for sampled classes). */
    listeners: { live: number; adds: number; removes: number; top: ListenerGroup[] };
    /** The sampling heap profile behind heap warnings' allocation sites. */
    heapProfile: HeapProfileState;
    /** heap: the baseline after full GCs; external: external + arrayBuffers; rss: rss - heapTotal. */
    trend: {
      heap: TrendVerdict;
      external: TrendVerdict;
      rss: TrendVerdict;
      /** What the sampling heap profile still holds of allocations older than 30 s (while it runs). */
      oldHeap?: TrendVerdict;
      handles: ResourceTrendVerdict;
      fds: ResourceTrendVerdict;
    };
  }

  /** One `event: "warning"` line of the log. */
  export interface LeakwatchWarningLine {
    lw: 1;
    event: 'warning';
    time: number;
    pid: number;
    hostname: string;
    threadId: number;
    code: string;
    message: string;
    details: Record<string, unknown>;
  }

  export interface Stats extends Omit<LeakwatchLine, 'lw' | 'event' | 'final'> {
    /** Why GC events come from perf_hooks, or null when they come from V8. */
    gcFallbackReason: string | null;
    /** The Node headers the V8 GC shim in use was built against; null under perf_hooks. */
    gcShim: { node: string; nodeModuleVersion: number; v8: string } | null;
    /** Recent baselines as `[epochMs, bytes]`, oldest first (at most 512). */
    baselines: Array<[number, number]>;
    /**
     * Every GC since start as cumulative counts per pause bucket (upper bounds in seconds,
     * prom-client's), per kind seen. Bounds are exact to 1 %.
     */
    gcPauseBuckets: {
      le: number[];
      kinds: Partial<Record<GcKind, { buckets: number[]; count: number; sumSeconds: number }>>;
    };
    /** Leaks suspected now: a trend `leaking`, or a listener leak reported in the last 10 minutes. */
    leakSuspected: Record<'heap' | 'external' | 'rss' | 'handles' | 'fds' | 'listeners', boolean>;
  }

  /** What `promClient()` needs of a prom-client `Registry`. */
  export interface PromClientRegistry {
    registerMetric(metric: any): void;
    getSingleMetric(name: string): unknown;
    removeSingleMetric(name: string): void;
  }

  /** What `otel()` needs of an OpenTelemetry `Meter` (`@opentelemetry/api`). */
  export interface OtelMeter {
    createObservableGauge(name: string, options?: object): any;
    createObservableCounter(name: string, options?: object): any;
    createObservableUpDownCounter(name: string, options?: object): any;
    addBatchObservableCallback(callback: (result: any) => void, observables: any[]): void;
    removeBatchObservableCallback(callback: (result: any) => void, observables: any[]): void;
  }

  export interface LeakwatchWarningEvent {
    /** `LEAKWATCH_*`. */
    code: string;
    message: string;
    details: Record<string, unknown>;
  }

  export interface Leakwatch extends Omit<EventEmitter, 'listeners' | 'on'> {
    /**
     * Starts leakwatch in this isolate (main thread or worker). Calling it again restarts with
     * the new options. Throws a TypeError/RangeError naming a bad option.
     */
    start(options?: Options): this;
    /** Removes every hook leakwatch added and writes the final line. */
    stop(): this;
    /** Current figures, or null when not running. */
    stats(): Stats | null;
    /**
     * Where the heap's growth was allocated, from a read of the sampling heap profile made now
     * (a pause of a few ms on this thread), over the heap verdict's window or since the
     * oldest read kept (5 minutes at most), or since `sinceMs` (epoch ms: from the last read
     * made at or before it). Null when not running.
     */
    heapGrowth(options?: { sinceMs?: number }): HeapGrowth | null;
    /** The current figures in the Prometheus text exposition format (`''` when not running). */
    metrics(): string;
    /**
     * Registers leakwatch's metrics into a prom-client registry, read at each scrape. Names
     * the registry already has (prom-client's default metrics) stay its own. Returns a
     * function that unregisters leakwatch's.
     */
    promClient(register: PromClientRegistry): () => void;
    /**
     * Registers observable instruments (`v8js.*`, `process.*`, `leakwatch.*`) on an
     * OpenTelemetry Meter. Returns a function that removes them from collection.
     */
    otel(meter: OtelMeter): () => void;
    /** The live listener groups now, largest first (exact counts; growth over the last minute). */
    /**
     * `estimated`: the emitter class makes emitters by the thousand, so its counts are weighted
     * from one emitter in `sampleKeep` (an unbiased estimate); otherwise they are exact.
     */
    listeners(
      n?: number
    ): Array<
      ListenerGroup & { appSite: string | null; adds: number; removes: number; estimated: boolean; sampleKeep: number }
    >;
    /** With an event name, EventEmitter's own `listeners(eventName)`. */
    listeners(eventName: string | symbol): Function[];
    readonly running: boolean;
    /**
     * leakwatch's own bookkeeping, to check that it does not grow; `emitterMode`: how listener
     * tracking patches EventEmitter ('wrap' until its start-up check settles about a second
     * after start, then 'fast' where verified; null while tracking is off).
     */
    internals(): {
      threadSessions: number;
      processSessions: number;
      gcDropped: number;
      emitterMode: 'fast' | 'wrap' | null;
    };

    /** Each interval's memory line. */
    on(event: 'stats', listener: (line: LeakwatchLine) => void): this;
    /**
     * leakwatch's own warnings (also emitted with `process.emitWarning`, type `LeakwatchWarning`),
     * LEAKWATCH_GC_FALLBACK among them.
     */
    on(event: 'warning', listener: (warning: LeakwatchWarningEvent) => void): this;
    /** LEAKWATCH_LISTENER_LEAK and LEAKWATCH_LISTENER_SITE_LEAK. */
    on(event: 'listener-leak', listener: (warning: LeakwatchWarningEvent) => void): this;
    /** LEAKWATCH_HEAP_GROWTH, LEAKWATCH_EXTERNAL_GROWTH, LEAKWATCH_RSS_GROWTH, LEAKWATCH_HANDLE_GROWTH, LEAKWATCH_FD_GROWTH. */
    on(event: 'leak', listener: (warning: LeakwatchWarningEvent) => void): this;
    on(event: string | symbol, listener: (...args: any[]) => void): this;
  }
}

declare const leakwatch: leakwatch.Leakwatch;
export = leakwatch;
