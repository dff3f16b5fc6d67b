'use strict';
// Start-up and idle footprint: arm "none" or "register" (the script is run with or without
// `-r leakwatch/register` by the harness). Prints RSS after the process has settled.
setTimeout(() => {
  console.log(JSON.stringify({ arm: process.argv[2], rss: process.memoryUsage().rss }));
}, 300);
