'use strict';

// Wraps the chart in one self-contained HTML page: styles inline, the SVG
// inline, no scripts, and a Content-Security-Policy that forbids every fetch,
// so the page looks the same offline, in a CI artifact, or attached to a bug.

const { esc } = require('./plot-svg');
const { overallVerdict } = require('./render-text');

// The chart starts this many pixels from the top of the page (the header has
// a fixed height), so a screenshot can be checked at known coordinates.
const HTML_LAYOUT = { chartTop: 64 };

const STYLE = `
  body { margin: 0; background: #fff; color: #222; font-family: DejaVu Sans, Liberation Sans, Arial, sans-serif; }
  header { height: ${HTML_LAYOUT.chartTop}px; box-sizing: border-box; padding: 10px 16px; border-bottom: 1px solid #ddd; overflow: hidden; }
  h1 { font-size: 18px; margin: 0 0 6px; }
  .verdict { font-size: 13px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .verdict b { color: #b00; }
  svg { display: block; max-width: 100%; height: auto; }
  section { padding: 0 16px 24px; }
  h2 { font-size: 16px; }
  pre { font-size: 12px; line-height: 1.35; background: #f7f7f7; padding: 12px; overflow-x: auto; }
`;

function renderHtml(summary, svg, reportText) {
  const verdict = overallVerdict(summary).replace(/\s*\n\s*/g, ' | ');
  const alarming = /LEAKING|growing/.test(verdict);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>leakwatch: ${esc(summary.source)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>leakwatch: ${esc(summary.source)}</h1>
<div class="verdict">Verdict: ${alarming ? `<b>${esc(verdict)}</b>` : esc(verdict)}</div>
</header>
<main>
${svg}
</main>
<section>
<h2>Report</h2>
<pre>${esc(reportText)}</pre>
</section>
</body>
</html>
`;
}

module.exports = { renderHtml, HTML_LAYOUT };
