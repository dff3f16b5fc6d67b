'use strict';
// What every workload process shares: a measured window (process CPU time, all threads, and
// wall time), the GCs each loaded arm counted inside it, and the one JSON line it prints last.
// Server workloads open and close their window when the bench process tells them to (IPC).

const { gcCounts, armsReady } = require('./arms');

/** Lets batched GC observers (perf_hooks delivers entries two event-loop turns later) catch up. */
async function settle() {
  for (let i = 0; i < 3; i++) await new Promise(setImmediate);
}

/** Opens a window; `close()` resolves to {cpuUs, userUs, wallMs, gcs: {arm: GCs in the window}}. */
async function openWindow() {
  await settle();
  const before = await gcCounts();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  return {
    async close() {
      await settle();
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const cpu = process.cpuUsage(cpu0);
      const after = await gcCounts();
      const gcs = Object.fromEntries(Object.keys(after).map((arm) => [arm, after[arm] - before[arm]]));
      return { cpuUs: cpu.user + cpu.system, userUs: cpu.user, wallMs, gcs };
    },
  };
}

function printResult(result) {
  console.log(JSON.stringify(result));
}

/**
 * For servers: tells the bench process `{port}`, opens the window on "start", answers "lap"
 * and "stop" with the window and how many requests or connections were `served()` inside it;
 * after "lap" the server goes on serving (the next "start" opens a new window), after "stop"
 * it calls `close()` and lets the process end.
 */
async function serveWindow({ port, served, close }) {
  await armsReady();
  let window = null;
  let served0 = 0;
  const report = async () => ({ result: { ...(await window.close()), served: served() - served0 } });
  process.on('message', async (msg) => {
    if (msg === 'start') {
      window = await openWindow();
      served0 = served();
      process.send({ started: true });
    } else if (msg === 'lap') {
      process.send(await report());
    } else if (msg === 'stop') {
      process.send(await report());
      close();
      process.disconnect();
    }
  });
  process.send({ port });
}

module.exports = { settle, openWindow, printResult, serveWindow, armsReady };
