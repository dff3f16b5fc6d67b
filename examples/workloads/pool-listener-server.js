'use strict';
// A connection pool whose checkout adds a listener that nobody removes. 400 pooled
// connections (EventEmitters that live as long as the pool) are checked out round robin; each
// checkout adds a 'timeout' listener for its request. Leak (the default): release forgets to
// remove it: one stale listener per request, spread over all 400 connections, a few on each,
// below every emitter's own limit for the first ~40 s at 100 requests/s. Healthy twin
// (LEAK=0): release removes it.

const { EventEmitter } = require('node:events');
const { serve, answer } = require('./lib');

const LEAK = process.env.LEAK !== '0';
const POOL_SIZE = 400;

class PooledConnection extends EventEmitter {
  constructor(id) {
    super();
    this.id = id;
    this.queries = 0;
  }

  query(sql) {
    this.queries++;
    return { sql, rows: [{ id: this.queries }] };
  }
}

const pool = Array.from({ length: POOL_SIZE }, (_, i) => new PooledConnection(i));
let turn = 0;

function checkout(requestId) {
  const conn = pool[turn++ % POOL_SIZE];
  const onTimeout = () => console.error(`request ${requestId} timed out on connection ${conn.id}`);
  conn.on('timeout', onTimeout);
  return { conn, release: () => LEAK || conn.off('timeout', onTimeout) };
}

let next = 0;
serve((req, res) => {
  const { conn, release } = checkout(next++);
  const result = conn.query('select 1');
  release();
  answer(res, { rows: result.rows.length });
});
