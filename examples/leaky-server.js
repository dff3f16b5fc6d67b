'use strict';
// `npm run demo`: starts examples/leaky-app.js under `node -r leakwatch/register`, drives it
// with a bounded local WebSocket client on 127.0.0.1 for ~20 s, and shows leakwatch's log
// lines as they are written: heap, baseline (heap after full GCs) and RSS climbing.
// DEMO_FIXED=1 runs the fixed app; DEMO_SECONDS sets the load time.

const { fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');

const SECONDS = Number(process.env.DEMO_SECONDS || 18);
const CONCURRENCY = 16;
const MAX_CONNECTIONS = 200_000; // a bound on the load, whatever the machine's speed
const logPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'leakwatch-demo-')), 'memory.log');

const mb = (bytes) => (bytes == null ? '   -   ' : `${(bytes / 1048576).toFixed(1).padStart(6)} MB`);

function startApp() {
  return fork(path.join(__dirname, 'leaky-app.js'), {
    // --no-warnings: each warning is shown once, from the log below, not twice.
    execArgv: ['--no-warnings', '-r', path.join(__dirname, '..', 'js', 'register.js')],
    env: { ...process.env, LEAKWATCH_LOG: logPath, LEAKWATCH_INTERVAL: '2s' },
  });
}

/** One client: connect, say something, close; again until the time is up. */
async function client(port, deadline, counter) {
  while (Date.now() < deadline && counter.connections < MAX_CONNECTIONS) {
    counter.connections++;
    await new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`);
      ws.on('open', () => ws.send('hello'));
      ws.on('message', () => ws.close());
      ws.on('close', resolve);
      ws.on('error', resolve);
    });
  }
}

/** Prints each new log line of the app, condensed, as leakwatch writes it. */
function follow() {
  let printed = 0;
  const lines = [];
  const show = () => {
    if (!fs.existsSync(logPath)) return lines;
    const all = fs
      .readFileSync(logPath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    for (const line of all.slice(printed)) {
      if (line.event === 'memory') {
        const t = `${(line.uptimeMs / 1000).toFixed(0).padStart(3)} s`;
        const p99 = line.gc.pauseMs.p99.toFixed(1).padStart(5);
        console.log(
          `${t}  heapUsed ${mb(line.heapUsed)}  baseline ${mb(line.baseline)}  rss ${mb(line.rss)}  GCs ${String(line.gc.count).padStart(4)}  p99 ${p99} ms${line.final ? '  (final)' : ''}`
        );
      } else {
        console.log(`       ${line.event}: ${line.code} ${line.message}`);
      }
      lines.push(line);
    }
    printed = all.length;
    return lines;
  };
  return show;
}

async function main() {
  const fixed = process.env.DEMO_FIXED === '1';
  console.log(
    `leakwatch demo: a WebSocket server that ${fixed ? 'removes' : 'never removes'} its per-connection listener`
  );
  console.log(`${CONCURRENCY} local clients for ${SECONDS} s; leakwatch logs every 2 s to ${logPath}\n`);
  const app = startApp();
  const { port } = await new Promise((resolve) => app.once('message', resolve));
  const show = follow();
  const ticker = setInterval(show, 500);
  const counter = { connections: 0 };
  const deadline = Date.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, () => client(port, deadline, counter)));
  app.send('stop');
  await new Promise((resolve) => app.once('exit', resolve));
  clearInterval(ticker);
  const lines = show().filter((l) => l.event === 'memory');
  summarize(lines, counter.connections);
}

function summarize(lines, connections) {
  const withBaseline = lines.filter((l) => l.baseline != null);
  console.log(`\n${connections} connections served.`);
  if (withBaseline.length >= 2) {
    const first = withBaseline[0];
    const last = withBaseline.at(-1);
    const seconds = (last.baselineTime - first.baselineTime) / 1000;
    const perMin = ((last.baseline - first.baseline) / Math.max(seconds, 1)) * 60;
    console.log(
      `Heap baseline (heap left after full GCs): ${mb(first.baseline).trim()} → ${mb(last.baseline).trim()} in ${seconds.toFixed(0)} s (${(perMin / 1048576).toFixed(1)} MB/min).`
    );
    console.log(perMin > 1048576 ? 'A rising baseline, not a sawtooth: a leak.' : 'A flat baseline: no leak.');
  }
  console.log(`Full log: ${logPath}`);
  console.log(`Verdicts and a picture: npx leakwatch report ${logPath}; npx leakwatch plot ${logPath} -o memory.html`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
