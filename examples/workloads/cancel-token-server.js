'use strict';
// Leak through a shared cancel token: a client library gives every outgoing call the
// process-wide token and registers a "cancel this call" callback on it. The callback closes
// over the call's context (~4 KB: headers, a body, a trace), and the token keeps every
// callback until it is cancelled: here, never. At 500 requests/s, ~2 MB/s of JS heap.
// The token is a plain object with an array, not an EventEmitter: no listener counter sees it.
// Healthy twin (LEAK=0): the call unregisters its callback when it completes, as a
// well-behaved library does.

const { serve, answer, text } = require('./lib');

const LEAK = process.env.LEAK !== '0';

class CancelToken {
  constructor() {
    this.callbacks = new Set();
    this.cancelled = false;
  }

  onCancel(callback) {
    this.callbacks.add(callback);
    return () => this.callbacks.delete(callback);
  }
}

const processToken = new CancelToken(); // cancelled at shutdown: here, never

/** An outgoing call made for a request: its context lives as long as its cancel callback. */
async function callBackend(url, token) {
  const context = { url, headers: text(`h:${url}`, 1500), body: text(`b:${url}`, 2000), trace: text(url, 500) };
  const unregister = token.onCancel(() => {
    context.cancelled = true;
  });
  try {
    await new Promise((resolve) => setImmediate(resolve));
    return { bytes: context.body.length };
  } finally {
    if (!LEAK) unregister();
  }
}

serve(async (req, res) => {
  const result = await callBackend(req.url, processToken);
  answer(res, { bytes: result.bytes });
});
