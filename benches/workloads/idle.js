'use strict';
// (e) Idle footprint: RSS once the process has settled, with the arm preloaded (or not), and
// its two parts from /proc: private memory (RssAnon: heaps, stacks) and file-backed pages
// (RssFile: the node binary's and shared libraries' code as far as it has been run, shared
// with every other process that maps them).
const fs = require('node:fs');

function statusKb(status, key) {
  const m = status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) * 1024 : NaN;
}

// IDLE_WARM=1: the process first runs some code hot enough for V8 to optimize it, as any app
// does within seconds of real work. V8's optimizing compiler is then resident in both arms, and
// the difference is leakwatch's own: at start-up leakwatch's module loading alone makes V8
// optimize Node's path normalization, which brings in the compiler's code pages.
if (process.env.IDLE_WARM === '1') warmUp();

function warmUp() {
  const hash = (s) => {
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
    return h;
  };
  let sum = 0;
  for (let i = 0; i < 20_000; i++) sum += hash(`request ${i} of a warm-up`);
  return sum;
}

setTimeout(() => {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const rss = process.memoryUsage().rss;
  console.log(
    JSON.stringify({
      arm: process.argv[2],
      rss,
      rssAnon: statusKb(status, 'RssAnon'),
      rssFile: statusKb(status, 'RssFile'),
    })
  );
}, 300);
