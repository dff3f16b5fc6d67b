'use strict';
// `require('leakwatch/register')` or `node -r leakwatch/register app.js`: start leakwatch with
// options from LEAKWATCH_* variables (js/start.js).
//
// From js/register.bundle.js, start.js and all it needs as one file, which `npm run build`
// makes (scripts/bundle.js): each require() is a dozen path operations in Node's module
// loader, and register's two dozen files made V8 optimize Node's path code at start-up, waking
// its optimizing compiler (~4 MB of RSS) in a process that had not needed it yet. In a checkout
// where the bundle was not built, from the separate files.

const { existsSync } = require('node:fs');
const { join } = require('node:path');

const BUNDLE = join(__dirname, 'register.bundle.js'); // as layout.js names it: one file fewer to load here

require(existsSync(BUNDLE) ? BUNDLE : './start');
