'use strict';
// (d3) A generic-pool style workload: a pool of 32 long-lived connection emitters; each job
// checks one out, listens for its 'error' and 'end' for the job's life (as a pool client does
// around a query), does a little work (a small JSON round trip) and releases it, removing both
// listeners. Prints CPU ns per job. The emitters live as long as the pool: their class never
// churns, every add and remove is on an emitter that is counted exactly.
//
//   POOL_JOBS  jobs per measured loop (a tenth of it warms up first)
const EventEmitter = require('node:events');

const JOBS = Number(process.env.POOL_JOBS || 1_000_000);
const POOL_SIZE = 32;

class PooledConnection extends EventEmitter {
  constructor(id) {
    super();
    this.id = id;
    this.uses = 0;
  }
}

const pool = Array.from({ length: POOL_SIZE }, (_, i) => new PooledConnection(i));
let next = 0;

function checkout() {
  const conn = pool[next];
  next = (next + 1) % POOL_SIZE;
  return conn;
}

let sink = 0;
function job(i) {
  const conn = checkout();
  const onError = () => {};
  const onEnd = () => {};
  conn.on('error', onError);
  conn.on('end', onEnd);
  const row = JSON.parse(JSON.stringify({ id: i, conn: conn.id, name: 'row' }));
  sink += row.id & 1;
  conn.uses++;
  conn.off('error', onError);
  conn.off('end', onEnd);
}

function jobs(n) {
  for (let i = 0; i < n; i++) job(i);
}

async function main() {
  const { armsReady, openWindow, printResult } = require('../child');
  await armsReady();
  jobs(JOBS / 10);
  const window = await openWindow();
  jobs(JOBS);
  const { cpuUs, wallMs } = await window.close();
  printResult({ cpuNs: (cpuUs * 1000) / JOBS, wallNs: (wallMs * 1e6) / JOBS, jobs: JOBS, sink });
}

if (require.main === module) main();
module.exports = { jobs }; // benches/server-instructions.js runs them in its own process
