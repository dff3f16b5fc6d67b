'use strict';
// How V8 sees EventEmitter.prototype once leakwatch's methods are on it (and off again): its
// methods must stay "const" fields, or Node's stream and http code calls them as unknown
// functions and never inlines them (emitter.js, refreshConstants). V8's own %DebugPrint says
// which a field is; the child prints the line for `on` after streams have used the prototype.
// Labels go through %DebugPrint too: console.log's writes are not ordered with its output.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');

const CHILD = `
  const EventEmitter = require('node:events');
  const { Readable } = require('node:stream');
  const use = () => { for (let i = 0; i < 200; i++) new Readable({ read() {} }).on('data', () => {}); };
  const show = (label) => { use(); %DebugPrint(label); %DebugPrint(EventEmitter.prototype); };
  const { install } = require(${JSON.stringify(require.resolve('../js/listeners'))});
  // As a server has them: wrappers first, the fast methods once their check answers.
  const handle = install({ counts: new Int32Array(2 * 64 + 8), maxGroups: 64, describeGroup() {}, warn() {}, notify() {}, checkDelayMs: 0 });
  const hold = setInterval(() => {}, 1 << 30); // the check's child never keeps a process alive
  handle.ready.then((mode) => {
    clearInterval(hold);
    if (mode !== 'fast') throw new Error('wanted fast mode');
    show('lwmarker_installed');
    handle.uninstall();
    show('lwmarker_uninstalled');
  });
`;

// The `on` field's description in each %DebugPrint, by label: "const data field 9" or "data field 9".
function onFields() {
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '-e', CHILD], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const fields = {};
  let label = null;
  for (const line of r.stdout.split('\n')) {
    const heading = /#lwmarker_(\w+)/.exec(line);
    if (heading) label = heading[1];
    const field = /#on: .*\(((?:const )?data field \d+)/.exec(line);
    if (field && label) fields[label] = field[1];
  }
  return fields;
}

test("EventEmitter.prototype's methods stay constant fields with leakwatch's on it and after", () => {
  const fields = onFields();
  assert.match(fields.installed ?? '', /^const data field/, `installed: ${fields.installed}`);
  assert.match(fields.uninstalled ?? '', /^const data field/, `uninstalled: ${fields.uninstalled}`);
});
