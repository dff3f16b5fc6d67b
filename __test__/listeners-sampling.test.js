'use strict';
// Emitter classes that make emitters by the thousand are counted from a sample of them
// (js/listeners/emitter-sampling.js): the estimate must be right, the exact totals exact, leaks
// on one emitter still caught with their exact count, and small or slow classes stay exact.
// `sampleKeep` fixes the sampling (1 in 16) where a test checks the estimate itself.

const { test, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const EventEmitter = require('node:events');
const { installTracking, groupCounts } = require('./helpers');
const { forceGc } = require('../js/force-gc');

const MAX_GROUPS = 512;
let handle = null;

function setup(options = {}) {
  const { counts, described, warnings, handle: installed } = installTracking(options, MAX_GROUPS);
  handle = installed;
  // The exact totals as src/listeners.rs computes them: the groups' counts, plus what no group
  // counted, minus what the groups counted beyond one per operation.
  const [uncounted, { excess }] = [...described].find(([, info]) => info.kind === 'totals');
  const totals = () => {
    const sum = [0, 0];
    for (const [slot, info] of described) {
      if (info.kind === 'group') for (const k of [0, 1]) sum[k] += counts[2 * slot + k];
    }
    for (const k of [0, 1]) sum[k] += counts[2 * uncounted + k] - counts[2 * excess + k];
    return { adds: sum[0], removes: sum[1] };
  };
  return { counts, warnings, totals };
}

afterEach(() => {
  if (handle) handle.uninstall();
  handle = null;
});

const liveOf = (emitter, event) => groupCounts(handle, emitter, event).live;

const within = (actual, expected, share) => Math.abs(actual - expected) <= expected * share;

test('1 in 16 emitters counted, as 16: a leak across 20,000 emitters is estimated within 15 %', () => {
  const { totals } = setup({ sampleKeep: 16 });
  class Conn extends EventEmitter {}
  const t0 = totals();
  const kept = [];
  for (let i = 0; i < 20_000; i++) {
    const c = new Conn();
    c.on('close', () => {});
    kept.push(c);
  }
  // ~1,250 emitters counted: one standard deviation is ~2.8 % of the estimate.
  assert.ok(within(liveOf('Conn', 'close'), 20_000, 0.15), `estimated ${liveOf('Conn', 'close')}`);
  assert.equal(totals().adds - t0.adds, 20_000, 'every add counted in the totals');
  for (const c of kept) c.removeAllListeners('close');
  assert.equal(liveOf('Conn', 'close'), 0, 'every counted busy period ended');
  assert.equal(totals().removes - t0.removes, 20_000, 'every remove counted in the totals');
});

test('sampled EventTargets: 20,000 AbortSignals with a listener each, estimated within 15 %', () => {
  setup({ sampleKeep: 16 });
  const controllers = [];
  for (let i = 0; i < 20_000; i++) {
    const c = new AbortController();
    c.signal.addEventListener('abort', () => {});
    controllers.push(c);
  }
  assert.ok(within(liveOf('AbortSignal', 'abort'), 20_000, 0.15), `estimated ${liveOf('AbortSignal', 'abort')}`);
  for (const c of controllers) c.abort(); // the listeners fire and go ({once} is implied by abort)
});

test('sampled, short-lived: 50,000 emitters dropped with their listeners stop counting', async () => {
  setup({ sampleKeep: 16 });
  class Req extends EventEmitter {}
  for (let i = 0; i < 50_000; i++) new Req().on('end', () => {});
  assert.ok(liveOf('Req', 'end') > 0, 'counted while they may still be alive');
  for (let i = 0; i < 10 && liveOf('Req', 'end') > 0; i++) {
    forceGc();
    await new Promise((resolve) => setTimeout(resolve, 20)); // finalizers run as tasks
  }
  assert.equal(liveOf('Req', 'end'), 0);
});

test('sampled: an emitter past its max listeners is warned about with its exact count, chosen or not', () => {
  const { warnings } = setup({ sampleKeep: 16 });
  class Bus extends EventEmitter {}
  const buses = Array.from({ length: 20 }, () => new Bus());
  for (const bus of buses) for (let i = 0; i < 11; i++) bus.on('message', () => {});
  const ours = warnings.filter((w) => w.code === 'LEAKWATCH_LISTENER_LEAK' && w.details.emitter === 'Bus');
  assert.equal(ours.length, 20, 'one warning per emitter');
  for (const w of ours) assert.equal(w.details.count, 11);
});

test('a class that makes emitters by the thousand is sampled; a burst of 1,000 stays exact', () => {
  setup();
  class Burst extends EventEmitter {}
  class Few extends EventEmitter {}
  const few = Array.from({ length: 1000 }, () => new Few());
  for (const f of few) f.on('ready', () => {});
  assert.equal(liveOf('Few', 'ready'), 1000);

  // Short-lived emitters for at least 300 ms and 30,000 of them (bounded either way).
  const start = Date.now();
  let made = 0;
  while ((made < 30_000 || Date.now() - start < 300) && made < 3_000_000) {
    new Burst().on('end', () => {});
    made++;
  }
  const sampled = handle.stats().sampledClasses;
  assert.ok(
    sampled.some((c) => c.emitter === 'Burst' && c.keep > 1),
    JSON.stringify(sampled)
  );
  assert.ok(!sampled.some((c) => c.emitter === 'Few'), JSON.stringify(sampled));
  const more = Array.from({ length: 100 }, () => new Few());
  for (const f of more) f.on('ready', () => {});
  assert.equal(liveOf('Few', 'ready'), 1100, 'a class that does not churn stays exact');
});

test('a class making a few hundred emitters a second is sampled once it has made 2,000; slower or fewer stay exact', () => {
  // The rule itself, on a clock of its own (deciseconds, as records.clock): a server taking
  // 300 connections a second never makes 2,000 sockets within one second.
  const { createEmitterSampling, MIN_BURST } = require('../js/listeners/emitter-sampling');
  let now = 0;
  const sampling = createEmitterSampling(
    () => now,
    (target) => target.constructor.name
  );
  // `perSecond` new records of `target`'s class for `seconds`, one decisecond at a time.
  const make = (target, perSecond, seconds) => {
    const s = sampling.stateOf(target);
    for (let ds = 0; ds < seconds * 10; ds++, now++) {
      for (let i = 0; i < perSecond / 10; i++) sampling.noteRecorded(s, 1);
    }
    return s;
  };
  class Steady extends EventEmitter {}
  class Slow extends EventEmitter {}
  class Once extends EventEmitter {}
  const steady = make(new Steady(), 300, 5); // 1,500: not yet
  assert.equal(steady.keep, 1);
  make(new Steady(), 300, (MIN_BURST - 1500) / 300 + 2);
  assert.ok(steady.keep >= 2, `keep ${steady.keep}`);
  assert.equal(make(new Slow(), 80, 60).keep, 1, '80 a second for a minute: under the rate');
  const once = sampling.stateOf(new Once());
  for (let i = 0; i < 1000; i++) sampling.noteRecorded(once, 1); // a thousand at once
  now += 20;
  sampling.noteRecorded(once, 1);
  assert.equal(once.keep, 1, 'a thousand long-lived emitters made at once stay exact');
});

test('a class making thousands of emitters a second is sampled as soon as it has made 2,000, not a window later', () => {
  // WebSockets on a fresh server: each keeps its listeners to the end (so the class is not seen
  // to churn) and thousands come a second. Once 2,000 are made the next EARLY records are
  // enough to judge by; waiting out the rest of a second's window counted thousands more exactly.
  const { createEmitterSampling, MIN_BURST, EARLY } = require('../js/listeners/emitter-sampling');
  let now = 0;
  const sampling = createEmitterSampling(
    () => now,
    (target) => target.constructor.name
  );
  class Fast extends EventEmitter {}
  const s = sampling.stateOf(new Fast());
  let made = 0;
  while (s.keep === 1 && made < 10 * MIN_BURST) {
    for (let i = 0; i < 500; i++, made++) sampling.noteRecorded(s, 1); // 5,000 a second
    now++;
  }
  assert.ok(s.keep >= 32, `keep ${s.keep}`);
  assert.ok(made <= MIN_BURST + 2 * 500, `sampled after ${made} records`);
  assert.ok(made > MIN_BURST - EARLY, `sampled after only ${made} records`);
});

test('a class whose emitters drop their listeners is sampled after 200 records; one whose emitters keep them waits for 2,000', () => {
  // The rule on its own clock: both classes make 150 records a second; each of Churn's
  // emitters gets three listeners and loses them (its live count stays near the 16 emitters
  // open at a time), each of Keeper's gets one and keeps it.
  const { createEmitterSampling, MIN_BURST, EARLY } = require('../js/listeners/emitter-sampling');
  let now = 0;
  const counts = { Churn: { adds: 0, live: 0 }, Keeper: { adds: 0, live: 0 } };
  const sampling = createEmitterSampling(
    () => now,
    (target) => target.constructor.name,
    0,
    (name) => ({ ...counts[name] })
  );
  class Churn extends EventEmitter {}
  class Keeper extends EventEmitter {}
  const churn = sampling.stateOf(new Churn());
  const keeper = sampling.stateOf(new Keeper());
  let made = 0;
  for (; made < MIN_BURST - 300; made += 15, now++) {
    for (let i = 0; i < 15; i++) {
      counts.Churn.adds += 3;
      counts.Churn.live = 3 * (10 + ((made + i) % 7)); // 10 to 16 emitters open
      sampling.noteRecorded(churn, 1);
      counts.Keeper.adds++;
      counts.Keeper.live++;
      sampling.noteRecorded(keeper, 1);
    }
    if (made < EARLY) assert.equal(churn.keep, 1, `sampled after only ${made} records`);
  }
  assert.ok(churn.keep >= 2, `Churn: keep ${churn.keep} after ${made} records`);
  assert.equal(keeper.keep, 1, 'Keeper keeps every listener: exact until it has made 2,000');
  for (; made < MIN_BURST + 300; made += 15, now++) {
    for (let i = 0; i < 15; i++) sampling.noteRecorded(keeper, 1);
  }
  assert.ok(keeper.keep >= 2, `Keeper: keep ${keeper.keep} after ${made} records`);
});

test('short-lived emitters whose listeners are removed are sampled before they number 2,000', async () => {
  // The same on real emitters and the real clock: 1,500 emitters, 150 every 150 ms, each
  // getting three listeners and losing them, as a connection's socket does.
  const { MIN_BURST } = require('../js/listeners/emitter-sampling');
  setup();
  class Conn extends EventEmitter {}
  class Held extends EventEmitter {}
  const held = [];
  for (let batch = 0; batch < 10; batch++) {
    for (let i = 0; i < 150; i++) {
      const c = new Conn();
      const f = () => {};
      c.on('data', f).on('end', f).on('close', f);
      c.removeAllListeners();
      const h = new Held(); // the same number of emitters, keeping their listener
      h.on('ready', () => {});
      held.push(h);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  assert.ok(held.length < MIN_BURST);
  const sampled = handle.stats().sampledClasses;
  assert.ok(
    sampled.some((c) => c.emitter === 'Conn' && c.keep > 1),
    JSON.stringify(sampled)
  );
  assert.ok(!sampled.some((c) => c.emitter === 'Held'), JSON.stringify(sampled));
  assert.equal(liveOf('Held', 'ready'), held.length, 'a class whose emitters keep their listeners stays exact');
});

test('more churning classes than the class cache holds, met in turn, are each judged on their own', () => {
  setup();
  // 12 classes made in rotation miss the cache of 8 every time; a quiet class met between them
  // must keep its own (exact) state, and each churning class its own rate.
  const churning = Array.from(
    { length: 12 },
    (_, i) => ({ [`Churn${i}`]: class extends EventEmitter {} })[`Churn${i}`]
  );
  class Quiet extends EventEmitter {}
  const quiet = [];
  const start = Date.now();
  let rounds = 0;
  while ((rounds < 5_000 || Date.now() - start < 300) && rounds < 300_000) {
    for (const C of churning) new C().on('end', () => {});
    if (rounds % 25 === 0 && quiet.length < 200) quiet.push(new Quiet().on('ready', () => {}));
    rounds++;
  }
  const sampled = handle.stats().sampledClasses;
  for (const C of churning)
    assert.ok(
      sampled.some((c) => c.emitter === C.name && c.keep > 1),
      `${C.name}: ${JSON.stringify(sampled)}`
    );
  assert.ok(!sampled.some((c) => c.emitter === 'Quiet'), JSON.stringify(sampled));
  assert.equal(liveOf('Quiet', 'ready'), quiet.length, 'the quiet class stays exact');
});

test('uninstall leaves no state on the emitter classes', () => {
  setup({ sampleKeep: 4 });
  class Thing extends EventEmitter {}
  for (let i = 0; i < 100; i++) new Thing().on('x', () => {});
  handle.uninstall();
  handle = null;
  const own = (o) => Reflect.ownKeys(o).map(String);
  assert.deepEqual(own(Thing.prototype), ['constructor']);
  assert.ok(!own(EventEmitter.prototype).some((k) => k.includes('leakwatch')));
});

for (const emitterMode of ['fast', 'wrap']) {
  test(`${emitterMode} mode: the totals count every add and remove exactly, on every path, sampled or not`, () => {
    const { totals } = setup({ sampleKeep: 4, emitterMode });
    class Src extends EventEmitter {}
    const SYMBOL = Symbol('s');
    const t0 = totals();
    let adds = 0;
    let removes = 0;
    for (let i = 0; i < 400; i++) {
      const e = new Src();
      const f = () => {};
      e.on('a', f)
        .prependListener('a', () => {})
        .once('b', () => {})
        .prependOnceListener('b', () => {});
      adds += 4;
      e.emit('b'); // both once-listeners fire and go
      removes += 2;
      e.off('a', f);
      removes += 1;
      e.on('c', () => {}).on('c', () => {});
      adds += 2;
      if (i % 2) {
        e.on('removeListener', () => {}); // then Node removes one by one, through removeListener
        adds += 1;
      }
      e.removeAllListeners('c');
      removes += 2;
      e.on(SYMBOL, () => {}); // a symbol type, beside string ones, for removeAllListeners()
      adds += 1;
      e.removeAllListeners();
      removes += 2 + (i % 2); // what was left of 'a', the symbol's, and the removeListener listener
      const t = new EventTarget();
      const g = () => {};
      t.addEventListener('x', g);
      t.addEventListener('x', g); // a duplicate: not added, not counted
      t.addEventListener('y', () => {}, { once: true });
      adds += 2;
      t.dispatchEvent(new Event('y'));
      t.removeEventListener('x', g);
      removes += 2;
    }
    assert.deepEqual({ adds: totals().adds - t0.adds, removes: totals().removes - t0.removes }, { adds, removes });
  });
}

test('busy emitters of a sampled class never carry a record property', () => {
  setup({ sampleKeep: 4 });
  class Conn extends EventEmitter {}
  const conns = Array.from({ length: 100 }, () => new Conn().on('keep', () => {}));
  const f = () => {};
  for (const c of conns) for (let i = 0; i < 50; i++) c.on('busy', f).off('busy', f);
  assert.ok(liveOf('Conn', 'keep') > 0, 'some connections are counted (estimated)');
  const withProperty = conns.filter((c) => Object.getOwnPropertyNames(c).includes('__leakwatchListeners'));
  assert.equal(withProperty.length, 0);
});

test('an emitter pinned while its class was exact lets go of its record once the class is sampled', async () => {
  setup();
  class Pool extends EventEmitter {}
  const f = () => {};
  let pooled = new Pool();
  for (let i = 0; i < 200; i++) pooled.on('x', f).off('x', f); // looked up 400 times: pinned
  const pinned = () => Object.getOwnPropertyDescriptor(pooled, '__leakwatchListeners')?.value;
  assert.ok(pinned() !== undefined, 'a busy emitter of an exact class carries its record');

  // The class starts making emitters fast: it is sampled from now on (bounded as above).
  const start = Date.now();
  for (let made = 0; (made < 30_000 || Date.now() - start < 300) && made < 3_000_000; made++) {
    new Pool().on('end', () => {});
  }
  const keep = handle.stats().sampledClasses.find((c) => c.emitter === 'Pool')?.keep ?? 1;
  assert.ok(keep > 1, 'Pool is sampled');

  // Busy periods of 'y' on the pinned emitter: the first one chosen (1 in `keep`, at most
  // 2 * keep - 1 periods apart) ends with nothing counted left, and the record goes, property too.
  const g = () => {};
  for (let i = 0; i < 4 * keep && pinned() !== undefined; i++) pooled.on('y', g).off('y', g);
  assert.equal(pinned(), undefined, 'the dropped record is no longer found through the property');

  // A period counted afterwards is on a fresh record, which the emitter's collection still
  // takes off (a record found through a stale property would count for ever).
  for (let i = 0; i < 4 * keep && liveOf('Pool', 'open') === 0; i++) {
    pooled.on('open', g);
    if (liveOf('Pool', 'open') === 0) pooled.off('open', g);
  }
  assert.ok(liveOf('Pool', 'open') > 0, 'one busy period counted');
  pooled = null;
  for (let i = 0; i < 10 && liveOf('Pool', 'open') > 0; i++) {
    await forceGc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(liveOf('Pool', 'open'), 0, 'the collected emitter stops counting');
});

test('sampled: listeners dropped unseen still leave the group at 0 once their emitters are emptied', () => {
  const { totals } = setup({ sampleKeep: 4 });
  class Peer extends EventEmitter {}
  const peers = Array.from({ length: 2000 }, () => new Peer().on('data', () => {}).on('data', () => {}));
  assert.ok(liveOf('Peer', 'data') > 0, 'some busy periods counted');
  const t0 = totals();
  const f = () => {};
  for (const p of peers) {
    p._events = { __proto__: null }; // the listeners go behind the methods' back
    p._eventsCount = 0;
    p.on('data', f).off('data', f); // a new busy period, drawn afresh
  }
  assert.equal(liveOf('Peer', 'data'), 0, 'no counted period outlives its emitter being emptied');
  assert.deepEqual(
    { adds: totals().adds - t0.adds, removes: totals().removes - t0.removes },
    { adds: 2000, removes: 2000 }
  );
});
