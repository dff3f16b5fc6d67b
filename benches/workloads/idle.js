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
