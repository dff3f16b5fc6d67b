#!/usr/bin/env node
'use strict';

// leakwatch's command line: parses arguments and dispatches to js/report/.
// Expected problems (bad flags, missing file, empty log) print one line and
// exit non-zero; only a bug shows a stack trace.

const { parseArgs } = require('node:util');
const { UserError } = require('./report/errors');

const USAGE = `Usage:
  leakwatch report <log> [--json] [--no-progress]
  leakwatch plot <log> [-o memory.html|memory.svg] [--no-progress]
  leakwatch build [--keep]

Reads a leakwatch log (JSON lines; other lines mixed in are skipped).
Use - as <log> to read standard input.

Commands:
  report    print a summary: time span, processes, memory at start and end,
            trend verdicts, GC pauses, listener growth, warnings
  plot      draw memory, GC pauses, listeners and warnings over time into a
            self-contained HTML page, or a bare SVG if the name ends in .svg
  build     build leakwatch's native addon and V8 GC shim from source, for
            this platform and the Node running the command (needs Rust's
            cargo and a C++ compiler): for a platform with no prebuilt
            package, or a Node newer than the prebuilt shims

Options:
  --json            (report) print the summary as JSON
  -o, --output F    (plot) file to write; default memory.html
  --no-progress     never draw the progress bar (it is only drawn when
                    stderr is a terminal)
  --keep            (build) keep cargo's build folder (in the temp dir)
  -h, --help        show this help
  -v, --version     show the version
`;

/** @type {import('node:util').ParseArgsConfig['options']} */
const OPTIONS = {
  json: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  'no-progress': { type: 'boolean' },
  keep: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
};

const COMMAND_OPTIONS = {
  report: ['json', 'no-progress'],
  plot: ['output', 'no-progress'],
  build: ['keep'],
};

/**
 * @param {string[]} argv
 * @returns {any} `{command, ...}` with the command's options
 */
function parse(argv) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UserError(`${err.message.split('\n')[0]} (see leakwatch --help)`, 2);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') return { command: 'help' };
  if (values.version) return { command: 'version' };
  const [command, log, ...extra] = positionals;
  if (!command) throw new UserError('missing command: report or plot (see leakwatch --help)', 2);
  if (!COMMAND_OPTIONS[command]) throw new UserError(`unknown command '${command}' (see leakwatch --help)`, 2);
  if (command === 'build') return parseBuild(values, [log, ...extra]);
  if (!log) throw new UserError(`missing <log>: leakwatch ${command} <log> (use - for stdin)`, 2);
  if (extra.length) throw new UserError(`unexpected argument '${extra[0]}' (see leakwatch --help)`, 2);
  for (const name of Object.keys(values)) {
    if (!COMMAND_OPTIONS[command].includes(name)) throw new UserError(`--${name} does not apply to ${command}`, 2);
  }
  return {
    command,
    log,
    json: Boolean(values.json),
    output: values.output || 'memory.html',
    progress: !values['no-progress'],
  };
}

function parseBuild(values, rest) {
  const extra = rest.filter((a) => a !== undefined);
  if (extra.length) throw new UserError(`unexpected argument '${extra[0]}' (see leakwatch --help)`, 2);
  for (const name of Object.keys(values)) {
    if (!COMMAND_OPTIONS.build.includes(name)) throw new UserError(`--${name} does not apply to build`, 2);
  }
  return { command: 'build', keep: Boolean(values.keep) };
}

async function main(argv) {
  const args = parse(argv);
  if (args.command === 'help') return USAGE;
  if (args.command === 'version') return `${require('../package.json').version}\n`;
  if (args.command === 'build') return `${require('./build-from-source').buildFromSource(args).join('\n')}\n`;
  const commands = require('./report/commands');
  return args.command === 'report' ? commands.runReport(args) : commands.runPlot(args);
}

// `leakwatch report big.log | head` closes stdout early: not an error.
process.stdout.on('error', (/** @type {NodeJS.ErrnoException} */ err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv.slice(2)).then(
  (text) => process.stdout.write(text),
  (err) => {
    if (!(err instanceof UserError)) throw err;
    process.stderr.write(`leakwatch: ${err.message}\n`);
    process.exitCode = err.exitCode;
  }
);
