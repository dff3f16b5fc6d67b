'use strict';
// How an allocation site reads (as in heap warnings, src/alloc_sites.rs): `src/cache.js:34:3
// (saveSession)`, a helper's `src/lib.js:48:14 (text, mostly called from src/cache.js:34:3 in
// saveSession)`, a package's `clone@2.1.2 node_modules/clone/index.js:5:3 (clone, called from
// src/cache.js:34:3 in saveSession)`, a built-in's `src/cache.js:34:3 (repeat() in saveSession)`.
// Sites come from logs that may be anyone's: every field is checked.

const text = (v) => (typeof v === 'string' ? v : '?');

function siteText(site) {
  const caller = site.caller && typeof site.caller === 'object' ? site.caller : null;
  if (caller && !site.file) return `${text(caller.location)} (${text(site.function)}() in ${text(caller.function)})`;
  const pkg = site.package && typeof site.package === 'object' ? site.package : null;
  const version = pkg && typeof pkg.version === 'string' ? `@${pkg.version}` : '';
  const where = pkg ? `${text(pkg.name)}${version} ${text(site.location)}` : text(site.location);
  const via = site.mostlyVia && typeof site.mostlyVia === 'object' ? site.mostlyVia : null;
  let from = '';
  if (caller) from = `, called from ${text(caller.location)} in ${text(caller.function)}`;
  else if (via) from = `, mostly called from ${text(via.location)} in ${text(via.function)}`;
  return `${where} (${text(site.function)}${from})`;
}

module.exports = { siteText };
