'use strict';
// (e) Idle footprint: RSS once the process has settled, with the arm preloaded (or not).
setTimeout(() => {
  console.log(JSON.stringify({ arm: process.argv[2], rss: process.memoryUsage().rss }));
}, 300);
