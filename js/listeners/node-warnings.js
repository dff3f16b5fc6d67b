'use strict';
// Node's own MaxListenersExceededWarning (EventEmitter and EventTarget), recorded with its
// structured fields for the log and lw's events. Node has printed it already, so it goes to
// the warning subscribers only (notify), never through process.emitWarning a second time.

const { siteFromStack } = require('./sites');

const CODE = 'MaxListenersExceededWarning';

/** Starts listening; returns a function that stops. */
function watchNodeWarnings(ctx) {
  function onWarning(w) {
    try {
      if (w === null || typeof w !== 'object' || w.name !== CODE) return;
      ctx.notify(CODE, String(w.message), detailsOf(ctx, w), 'listener-leak');
    } catch {
      // a warning object too strange to read: nothing to record
    }
  }
  process.on('warning', require('../process-listeners').hide(onWarning));
  return () => process.removeListener('warning', onWarning);
}

function detailsOf(ctx, w) {
  const owner = w.emitter ?? w.target;
  const { site, appSite } = siteFromStack(String(w.stack));
  return {
    kind: w.target !== undefined ? 'node-target' : 'node-emitter',
    emitter: owner !== undefined && owner !== null ? ctx.groups.classNameOf(owner) : null,
    event: typeof w.type === 'symbol' ? w.type.toString() : String(w.type),
    count: typeof w.count === 'number' ? w.count : null,
    growth: null,
    site,
    appSite,
  };
}

module.exports = { watchNodeWarnings, CODE };
