'use strict';

// An error the user can fix (missing file, empty log, bad flag). The CLI
// prints its message on one line and exits non-zero; anything else is a bug
// and keeps its stack trace.
class UserError extends Error {
  constructor(message, exitCode = 1) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

module.exports = { UserError };
