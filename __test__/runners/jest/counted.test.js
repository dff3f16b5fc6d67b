'use strict';
// Listeners added by code that jest loads through its own module registry (this file, and
// ../app.js loaded by it) are counted: `events` is a core module, shared with the process,
// so the EventEmitter leakwatch patches is the one this code uses.
const EventEmitter = require('events');
const { trackListeners } = require('leakwatch/testing');
const app = require('../app');

test('listeners added under jest are counted, with their call site', async () => {
  const tracker = trackListeners();
  const local = new EventEmitter();
  for (let i = 0; i < 5; i++) local.on('ping', () => i); // marker: jest-local
  for (let i = 0; i < 3; i++) app.handleLeaky(`counted-${i}`);
  const delta = tracker.delta();
  const ping = delta.find((r) => r.emitter === 'EventEmitter' && r.event === 'ping');
  const config = delta.find((r) => r.emitter === 'EventEmitter' && r.event === 'config-changed');
  expect(ping.delta).toBe(5);
  expect(ping.sites[0].site).toMatch(/counted\.test\.js:\d+:\d+$/);
  expect(config.delta).toBe(3);
  expect(config.sites[0].site).toMatch(/app\.js:\d+:\d+$/);
  local.removeAllListeners();
  app.bus.removeAllListeners('config-changed');
  await tracker.assertNoGrowth();
});
