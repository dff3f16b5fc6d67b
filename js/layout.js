'use strict';
// Where leakwatch's own files are, for code that runs either from its own file or from
// js/register.bundle.js (scripts/bundle.js): there `__dirname` is the bundle's directory for
// every module in it, js/, as it is for this file in both cases.

const path = require('node:path');

const JS_DIR = __dirname;

module.exports = {
  JS_DIR,
  LISTENERS_DIR: path.join(JS_DIR, 'listeners'),
  BUNDLE: path.join(JS_DIR, 'register.bundle.js'),
};
