// The public API as a TypeScript user writes it, checked two ways by __test__/types.test.js:
// `tsc --strict` compiles it against index.d.ts and testing.d.ts (the declarations name what
// the code offers), and the compiled file runs against the real package (the code returns
// what the declarations say: each value read below is checked at run time too).
import lw = require('leakwatch');
import { trackListeners, assertNoLeak, expectNoHandleLeak } from 'leakwatch/testing';
import type { LeakReport, ListenerGrowth } from 'leakwatch/testing';
import { EventEmitter } from 'node:events';

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`declared but not so at run time: ${what}`);
}

async function main(): Promise<void> {
  const lines: lw.LeakwatchLine[] = [];
  lw.start({
    interval: '100ms',
    log: (line) => void line,
    listeners: true,
    heapProfile: true,
    heap: { window: '30s' },
  });
  lw.on('stats', (line: lw.LeakwatchLine) => lines.push(line));
  lw.on('leak', (w: lw.LeakwatchWarningEvent) => check(typeof w.code === 'string', 'leak.code'));
  check(lw.running, 'running');

  const s: lw.Stats | null = lw.stats();
  check(s !== null, 'stats() while running');
  if (s === null) return;
  check(s.gcSource === 'v8' || s.gcSource === 'perf_hooks', 'stats().gcSource');
  check(s.gcShim === null || typeof s.gcShim.nodeModuleVersion === 'number', 'stats().gcShim');
  check(Array.isArray(s.baselines), 'stats().baselines');
  check(typeof s.leakSuspected.heap === 'boolean', 'stats().leakSuspected');
  check(Array.isArray(s.gcPauseBuckets.le), 'stats().gcPauseBuckets');
  check(typeof s.heapProfile.reads === 'number', 'stats().heapProfile');
  const growth: lw.HeapGrowth | null = lw.heapGrowth();
  check(
    growth !== null && Array.isArray(growth.sites) && (growth.message === null || typeof growth.message === 'string'),
    'heapGrowth()'
  );
  const site: lw.AllocationSite | undefined = growth?.sites[0];
  check(site === undefined || typeof site.share === 'number', 'heapGrowth().sites');

  const bus = new EventEmitter();
  bus.on('job', () => 1);
  const groups = lw.listeners(100);
  const job = groups.find((g) => g.event === 'job');
  check(
    job !== undefined && job.live === 1 && typeof job.estimated === 'boolean' && typeof job.sampleKeep === 'number',
    'listeners()'
  );
  const own: Function[] = lw.listeners('stats');
  check(own.length === 1, "listeners('stats')");
  check(typeof lw.metrics() === 'string', 'metrics()');
  const internals = lw.internals();
  check(typeof internals.gcDropped === 'number', 'internals()');
  lw.stop();
  check(!lw.running && lw.stats() === null, 'stop()');

  const tracker = trackListeners();
  bus.on('job', () => 2);
  const delta: ListenerGrowth[] = tracker.delta();
  check(
    delta.length === 1 && delta[0].delta === 1 && typeof delta[0].sites[0]?.site === 'string',
    'trackListeners().delta()'
  );
  bus.removeAllListeners('job');
  await tracker.assertNoGrowth({ allow: 0 });

  const report: LeakReport = await assertNoLeak(
    () => bus.off('x', bus.on('x', () => 0).listeners('x')[0] as () => void),
    { iterations: 20, warmup: 2, rounds: 4, heap: false }
  );
  check(Array.isArray(report.listeners) && report.listeners.length === 0, 'assertNoLeak() report');
  const kept: number[][] = [];
  const failed = await assertNoLeak(() => kept.push(new Array(256).fill(1)), {
    iterations: 40,
    warmup: 4,
    rounds: 4,
    listeners: true,
    handles: false,
  }).catch((err: { report: LeakReport }) => err.report);
  const sites = failed.heap?.sites ?? [];
  check(
    sites.every((s) => typeof s.bytesPerCall === 'number' && typeof s.location === 'string'),
    'heap.sites'
  );
  const handles: LeakReport = await expectNoHandleLeak(() => undefined);
  check(Array.isArray(handles.handles), 'expectNoHandleLeak() report');
  console.log('types: ok');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
