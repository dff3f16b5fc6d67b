'use strict';
// leakwatch/testing: leak assertions for test suites (node:test, mocha, jest, or none).
//
//   const { assertNoLeak, expectNoHandleLeak, trackListeners } = require('leakwatch/testing');
//   await assertNoLeak(() => handleRequest(), { iterations: 200 });
//
// Each helper lives in js/testing/: the run and its verdict (assert-no-leak.js), the heap
// statistics (heap.js), listener counts borrowed from leakwatch (session.js, listeners.js),
// handles and fds (handles.js), the failure text (message.js).

const { assertNoLeak, expectNoHandleLeak } = require('./testing/assert-no-leak');
const { trackListeners } = require('./testing/track-listeners');

module.exports = { assertNoLeak, expectNoHandleLeak, trackListeners };
