'use strict';

// What `leakwatch report` and `leakwatch plot` do, once the CLI has parsed
// their arguments: read the log (with a progress bar), summarize, render.

const fs = require('node:fs');
const path = require('node:path');
const { openInput } = require('./open-input');
const { readLog } = require('./read-log');
const { Summarizer } = require('./summarize');
const { createProgress } = require('./progress');
const { renderText } = require('./render-text');
const { UserError } = require('./errors');

async function summarizeLog(logPath, { progress = true } = {}) {
  const input = openInput(logPath);
  const bar = createProgress({ name: input.name, totalBytes: input.size, enabled: progress });
  const summarizer = new Summarizer();
  let stats;
  try {
    stats = await readLog(input.stream, { onRecord: (r) => summarizer.add(r), onProgress: bar.update });
  } catch (err) {
    throw new UserError(`cannot read ${input.name}: ${err.message}`);
  } finally {
    bar.done();
  }
  if (stats.records === 0) {
    const skipped = stats.lines > 0 ? ` (${stats.lines} other lines skipped)` : '';
    throw new UserError(`no leakwatch lines in ${input.name}${skipped}; is it a leakwatch log?`);
  }
  return summarizer.finish(stats, input.name);
}

async function runReport({ log, json, progress }) {
  const { summary } = await summarizeLog(log, { progress });
  return json ? `${JSON.stringify(summary, null, 2)}\n` : renderText(summary);
}

// Writes an HTML page, or the bare SVG when the output name ends in .svg.
async function runPlot({ log, output, progress }) {
  const { summary, series } = await summarizeLog(log, { progress });
  const { renderSvg } = require('./plot-svg');
  const svg = await renderSvg(summary, series);
  const isSvg = path.extname(output).toLowerCase() === '.svg';
  const content = isSvg ? svg : require('./plot-html').renderHtml(summary, svg, renderText(summary));
  try {
    fs.writeFileSync(output, content);
  } catch (err) {
    throw new UserError(`cannot write ${output}: ${err.code === 'ENOENT' ? 'no such directory' : err.message}`);
  }
  const count = summary.processes.length;
  const skipped = summary.lines.skipped ? `; ${summary.lines.skipped} lines skipped` : '';
  return `wrote ${output} (${isSvg ? 'SVG' : 'HTML'}, ${count} process${count === 1 ? '' : 'es'}${skipped})\n`;
}

module.exports = { summarizeLog, runReport, runPlot };
