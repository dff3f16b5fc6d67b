// Types of `require('leakwatch/testing')` / `import … from 'leakwatch/testing'`: leak
// assertions for test suites. README section "Leak assertions in tests" shows them in use.

/** A size: a number of bytes, or text such as `'512B'`, `'1KB'`, `'1.5MB'`. */
export type Size = number | string;

/**
 * Listener growth that is not a failure: a number tolerated in every (emitter class, event)
 * group, or entries naming groups (strings match exactly; `max` defaults to no limit).
 */
export type ListenerAllowance = number | Array<{ emitter?: string | RegExp; event?: string | RegExp; max?: number }>;

/** Handle growth that is not a failure: a number for every type, or per type (`{ Timeout: 1, fds: 2 }`). */
export type HandleAllowance = number | Record<string, number>;

export interface HeapLimits {
  /** A leak grows faster than this per call. Default 256 bytes. */
  maxBytesPerIteration?: Size;
  /** Mann–Kendall confidence that the heap rises, from 0.5 to below 1. Default 0.99. */
  confidence?: number;
}

export interface NoLeakOptions {
  /** Calls measured, split evenly over the rounds. Default 400 (expectNoHandleLeak: 20). */
  iterations?: number;
  /** Calls made before measuring: caches fill, code is compiled. Default 100 (expectNoHandleLeak: 2). */
  warmup?: number;
  /** Rounds of calls, an even number ≥ 4; full GCs after each. Default 10 (expectNoHandleLeak: 4). */
  rounds?: number;
  /** Check the memory left after full GCs. Default true (expectNoHandleLeak: false). */
  heap?: boolean | HeapLimits;
  /** Check listeners still attached. Default true (expectNoHandleLeak: false). */
  listeners?: boolean | { allow?: ListenerAllowance };
  /** Check active handles (sockets, servers, timers, watchers) and open fds. Default true. */
  handles?: boolean | { allow?: HandleAllowance };
}

export interface SiteGrowth {
  /** `file:line:column` that added the listeners; inside node_modules, with "(called from …)" the app's own line. */
  site: string;
  /**
   * Listeners attributed to this site: exact for adds made while a check or tracker runs (each
   * is sampled then), estimated for classes leakwatch samples; the group's count is exact.
   */
  delta: number;
}

export interface ListenerGrowth {
  /** The emitter's class name, e.g. `'Socket'`, `'WebSocketServer'`. */
  emitter: string;
  event: string;
  /** `after - delta`. */
  before: number;
  after: number;
  /**
   * Listeners added less listeners removed since the check or tracker began: exact. Listeners
   * that were attached before leakwatch first counted their emitter are never growth.
   */
  delta: number;
  /** Call sites that added the growth, largest first. */
  sites: SiteGrowth[];
}

export interface HandleGrowth {
  /** A libuv resource type (`'Timeout'`, `'TCPSocketWrap'`, `'TCPServerWrap'`, `'FSEventWrap'`, …) or `'fds'`. */
  type: string;
  delta: number;
  /** For `'fds'`: new descriptors by kind (socket, pipe, file, other) and a few of the new files. */
  fds?: { byKind: Record<string, number>; files: string[] };
}

export interface HeapVerdict {
  /** Theil–Sen slope of the bytes left after full GCs, per call. */
  bytesPerIteration: number;
  /** What a typical round kept, per call (median of the rounds' growth). */
  medianRoundBytesPerIteration: number;
  /** Mann–Kendall confidence that the bytes rise (0 when they do not). */
  confidence: number;
  /** Bytes left after the last round minus after the warm-up. */
  growth: number;
  rounds: number;
  /** Bytes left after full GCs: after the warm-up, then after each round. */
  bytesAfterRound: number[];
  leaking: boolean;
  limits: { maxBytesPerIteration: number; confidence: number };
  /**
   * Where the kept bytes were allocated, largest first, from V8's sampling heap profile
   * (estimates; empty when the heap did not leak or no profile ran for the check).
   */
  sites: Array<import('./index').AllocationSite & { bytesPerCall: number }>;
}

export interface LeakReport {
  name: 'assertNoLeak' | 'expectNoHandleLeak';
  leaking: boolean;
  /** Calls measured (rounds × calls per round). */
  iterations: number;
  warmup: number;
  rounds: number;
  /** null when not checked. */
  heap: HeapVerdict | null;
  /** Groups that grew steadily beyond what was allowed. */
  listeners: ListenerGrowth[];
  /** Handle types that grew steadily beyond what was allowed. */
  handles: HandleGrowth[];
}

/** The AssertionError (node:assert's) a failed check rejects with. */
export interface LeakAssertionError extends Error {
  code: 'ERR_ASSERTION';
  report: LeakReport;
}

/**
 * Calls `fn` (sync or async) `warmup + iterations` times, one call after the other, with full
 * GCs between rounds (no --expose-gc needed), and rejects with an AssertionError when listeners,
 * the heap left after GC, or handles/fds grow with the number of calls. Resolves the report
 * otherwise, printing nothing.
 */
export function assertNoLeak(fn: () => unknown, options?: NoLeakOptions): Promise<LeakReport>;

/**
 * assertNoLeak with only handles and fds checked (sockets, servers, timers, fs handles and
 * watchers, files left open), over 20 calls by default: those counts are exact.
 */
export function expectNoHandleLeak(fn: () => unknown, options?: NoLeakOptions): Promise<LeakReport>;

export interface ListenerTracker {
  /** Growth per (emitter class, event) and call site since the tracker was made; unchanged groups left out. */
  delta(): ListenerGrowth[];
  /**
   * Collects garbage (listeners on emitters that are gone do not count), then rejects with an
   * AssertionError listing every group that grew beyond `allow`. Stops the tracker either way.
   */
  assertNoGrowth(options?: { allow?: ListenerAllowance }): Promise<void>;
  /** Stops tracking (leakwatch is stopped again if the tracker started it); delta() keeps its last value. */
  stop(): void;
}

/** Notes the listeners attached now, counted by leakwatch (started with `log: 'off'` if it is not running). */
export function trackListeners(): ListenerTracker;
