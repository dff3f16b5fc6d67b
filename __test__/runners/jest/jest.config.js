'use strict';
// The jest project the suite runs (`npx jest` from this directory). Jest's defaults otherwise:
// each test file gets its own module registry and vm context, which is what is being tested.
module.exports = {
  testEnvironment: 'node',
  rootDir: __dirname,
  testMatch: ['<rootDir>/*.test.js'],
};
