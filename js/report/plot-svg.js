'use strict';

// Draws the chart as an SVG string. For each process, three panels share one
// time axis: memory, GC pauses, and listener/fd counts; warnings are marked
// where they happened in all three.
//
// Libraries: d3-scale (linear scales with "nice" domains, tick values and
// tick labels), d3-shape (SVG path strings, including the step curve for the
// baseline) and d3-array (maxima). They do the fiddly parts of charting
// correctly, are pure functions that need no DOM, and are the most widely
// used implementations. They ship as ES modules only, hence import().

const { byteUnit, formatTime, formatDuration, formatSignedBytes, processLabel } = require('./format');
const { minMaxPerPixel } = require('./downsample');

const LAYOUT = {
  width: 1160, // fits a 1200 px window with a scrollbar
  left: 84,
  right: 28,
  top: 8,
  titleHeight: 30,
  legendHeight: 24,
  tickHeight: 24, // tick labels under each panel
  axisLabelHeight: 22, // the time axis label under the last panel
  sectionGap: 28,
};
LAYOUT.plotWidth = LAYOUT.width - LAYOUT.left - LAYOUT.right;

const WARNING_COLOR = '#ff7f0e';
const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';

const PANELS = [
  {
    id: 'memory',
    axisLabel: 'memory',
    unit: 'bytes',
    height: 300,
    series: [
      { name: 'heapTotal', label: 'heapTotal', color: '#9ecae1', width: 1.5 },
      { name: 'heapUsed', label: 'heapUsed', color: '#1f77b4', width: 1.2 },
      { name: 'rss', label: 'RSS', color: '#2ca02c', width: 1.8 },
      { name: 'external', label: 'external', color: '#9467bd', width: 1.5 },
      { name: 'baseline', label: 'baseline (heap after full GC)', color: '#d62728', width: 2.5, step: true },
    ],
  },
  {
    id: 'gc',
    axisLabel: 'GC pause',
    unit: 'ms',
    height: 110,
    series: [
      // The max is drawn last, on top: the spikes are what matter.
      { name: 'gcPauseP50', label: 'GC pause p50 per interval', color: '#e377c2', width: 1.2 },
      { name: 'gcPauseMax', label: 'GC pause max per interval', color: '#8c564b', width: 1.2 },
    ],
  },
  {
    id: 'counts',
    axisLabel: 'count',
    unit: 'count',
    height: 120,
    series: [
      { name: 'listeners', label: 'event listeners (live)', color: '#17becf', width: 1.8 },
      { name: 'fds', label: 'open file descriptors', color: '#393b79', width: 1.5 },
    ],
  },
];

let d3Loading = null;
function loadD3() {
  d3Loading ??= Promise.all([import('d3-scale'), import('d3-shape'), import('d3-array')]).then(
    ([scale, shape, array]) => ({ ...scale, ...shape, ...array })
  );
  return d3Loading;
}

function sectionHeight() {
  const panels = PANELS.reduce((sum, p) => sum + LAYOUT.legendHeight + p.height + LAYOUT.tickHeight, 0);
  return LAYOUT.titleHeight + panels + LAYOUT.axisLabelHeight + LAYOUT.sectionGap;
}

// Where each panel's plot area is, in SVG pixels, for the section of the
// `index`-th process. Used to draw, and by tests to know where to look.
function panelRects(index) {
  let y = LAYOUT.top + index * sectionHeight() + LAYOUT.titleHeight;
  const rects = {};
  for (const panel of PANELS) {
    y += LAYOUT.legendHeight;
    rects[panel.id] = { x: LAYOUT.left, y, width: LAYOUT.plotWidth, height: panel.height };
    y += panel.height + LAYOUT.tickHeight;
  }
  return rects;
}

// summary: from summarize.js; charts: its per-process series, same order.
async function renderSvg(summary, charts) {
  const d3 = await loadD3();
  const height = LAYOUT.top + charts.length * sectionHeight();
  const sections = charts.map((chart, i) => drawSection(d3, summary.processes[i], chart, i));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${LAYOUT.width}" height="${height}" viewBox="0 0 ${LAYOUT.width} ${height}"`,
    ` font-family="${FONT}" font-size="12" role="img" aria-label="leakwatch memory chart">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...sections,
    '</svg>\n',
  ].join('\n');
}

function drawSection(d3, proc, chart, index) {
  const time = timeAxis(d3, chart.firstTime, chart.lastTime);
  const rects = panelRects(index);
  const titleY = rects.memory.y - LAYOUT.legendHeight - 10;
  const parts = [
    `<g class="process" data-pid="${proc.pid}">`,
    `<text x="${LAYOUT.left}" y="${titleY}" font-size="15" font-weight="bold">${esc(sectionTitle(proc, chart))}</text>`,
  ];
  PANELS.forEach((panel, i) => {
    const last = i === PANELS.length - 1;
    parts.push(drawPanel(d3, panel, chart, rects[panel.id], time, last));
  });
  parts.push('</g>');
  return parts.join('\n');
}

function sectionTitle(proc, chart) {
  const heap = proc.trends.heap;
  const verdict =
    heap.state === 'insufficient-data'
      ? 'heap: not enough data for a verdict'
      : `heap ${heap.state} ${formatSignedBytes(heap.slopePerMin)}/min`;
  return `${processLabel(proc)} | ${formatTime(chart.firstTime)}, ${formatDuration(chart.lastTime - chart.firstTime)} | ${verdict}`;
}

function drawPanel(d3, panel, chart, rect, time, isLast) {
  const toPixel = (t) => time.scale(t);
  const lines = panel.series
    .map((s) => ({ ...s, points: pointsFor(s, chart, toPixel) }))
    .filter((s) => s.points.length > 0);
  const maxValue =
    d3.max(
      lines.flatMap((s) => s.points),
      (p) => p.v
    ) || 0;
  const value = valueAxis(d3, maxValue, panel.unit, rect.height);
  const out = [`<g class="panel" id="panel-${panel.id}" transform="translate(${rect.x},${rect.y})">`];
  out.push(gridAndAxes(value, time, rect, panel));
  out.push(...lines.map((s) => linePath(d3, s, time.scale, value.scale)));
  if (lines.length === 0)
    out.push(`<text x="${rect.width / 2}" y="${rect.height / 2}" text-anchor="middle" fill="#888">no data</text>`);
  out.push(warningMarks(chart.warnings, time.scale, rect, panel.id === 'memory'));
  if (isLast)
    out.push(
      `<text x="${rect.width / 2}" y="${rect.height + LAYOUT.tickHeight + 16}" text-anchor="middle">${esc(time.label)}</text>`
    );
  out.push('</g>');
  out.push(legend(lines, rect, panel.id === 'memory' && chart.warnings.length > 0));
  return out.join('\n');
}

function pointsFor(series, chart, toPixel) {
  const buckets = chart.series[series.name];
  if (!buckets || buckets.isEmpty()) return [];
  const points = minMaxPerPixel(buckets, toPixel);
  // A baseline holds from one full GC to the next: carry the last one to
  // the end of the process's time line.
  if (series.step && points.length) points.push({ t: chart.lastTime, v: points[points.length - 1].v });
  return points;
}

// Time runs left to right as time since the process's first line, in a
// unit that suits the span, so tick labels stay short ("0 5 10 15 min").
function timeAxis(d3, start, end) {
  const span = Math.max(end - start, 1000); // a single line still gets a readable axis
  const unit = [
    { name: 's', ms: 1000, upTo: 120_000 },
    { name: 'min', ms: 60_000, upTo: 120 * 60_000 },
    { name: 'h', ms: 3_600_000, upTo: 72 * 3_600_000 },
    { name: 'days', ms: 86_400_000, upTo: Infinity },
  ].find((u) => span <= u.upTo);
  const scale = d3
    .scaleLinear()
    .domain([start, start + span])
    .range([0, LAYOUT.plotWidth]);
  const elapsed = d3.scaleLinear().domain([0, span / unit.ms]);
  const format = elapsed.tickFormat(10);
  const ticks = elapsed.ticks(10).map((v) => ({ x: scale(start + v * unit.ms), label: format(v) }));
  return { scale, ticks, label: `time since ${formatTime(start)} (${unit.name})` };
}

// A zero-based vertical scale; bytes are shown in the unit (KiB/MiB/GiB)
// that suits the largest value, so ticks read "0 50 100 150 MiB".
function valueAxis(d3, maxValue, unit, height) {
  const unitSize = unit === 'bytes' ? byteUnit(maxValue || 1).size : 1;
  const unitName = unit === 'bytes' ? byteUnit(maxValue || 1).name : unit === 'ms' ? 'ms' : '';
  const inUnit = d3
    .scaleLinear()
    .domain([0, maxValue / unitSize || 1])
    .nice(5)
    .range([height, 0]);
  const format = inUnit.tickFormat(5);
  return {
    scale: (v) => inUnit(v / unitSize),
    ticks: inUnit.ticks(5).map((v) => ({ y: inUnit(v), label: format(v) })),
    unitName,
  };
}

function gridAndAxes(value, time, rect, panel) {
  const out = [];
  for (const t of value.ticks) {
    out.push(`<line x1="0" x2="${rect.width}" y1="${t.y}" y2="${t.y}" stroke="#e6e6e6"/>`);
    out.push(`<text x="-8" y="${t.y + 4}" text-anchor="end" fill="#333">${esc(t.label)}</text>`);
  }
  for (const t of time.ticks) {
    out.push(`<line x1="${t.x}" x2="${t.x}" y1="${rect.height}" y2="${rect.height + 5}" stroke="#333"/>`);
    out.push(`<text x="${t.x}" y="${rect.height + 18}" text-anchor="middle" fill="#333">${esc(t.label)}</text>`);
  }
  out.push(`<rect x="0" y="0" width="${rect.width}" height="${rect.height}" fill="none" stroke="#999"/>`);
  const label = value.unitName ? `${panel.axisLabel} (${value.unitName})` : panel.axisLabel;
  out.push(
    `<text transform="translate(${-LAYOUT.left + 16},${rect.height / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(label)}</text>`
  );
  return out.join('\n');
}

// Far outside the chart (a time or value of 1e300 in a damaged log) is not drawable either:
// the path writer would round it to "Infinity".
function drawable(pixel) {
  return Number.isFinite(pixel) && Math.abs(pixel) < 1e7;
}

function linePath(d3, series, x, y) {
  const line = d3
    .line()
    .x((p) => x(p.t))
    .y((p) => y(p.v))
    // A point no scale can place (an absurd value in a damaged log) is a gap, not "Infinity".
    .defined((p) => drawable(x(p.t)) && drawable(y(p.v)))
    .curve(series.step ? d3.curveStepAfter : d3.curveLinear)
    .digits(1);
  return `<path class="series" data-series="${series.name}" d="${line(series.points)}" fill="none" stroke="${series.color}" stroke-width="${series.width}" stroke-linejoin="round"/>`;
}

// Warnings are grouped into columns a few pixels wide. A few columns get a
// dashed line through every panel; many (a warning every interval) get only
// a mark on top, so they never hide the lines beneath. In the memory panel a
// triangle's tooltip names the warnings.
const WARNING_COLUMN_PX = 6;
const MAX_WARNING_LINES = 60;

function warningMarks(markers, x, rect, withTriangles) {
  const columns = new Map();
  for (const m of markers) {
    const col = Math.round(x(m.time) / WARNING_COLUMN_PX) * WARNING_COLUMN_PX;
    if (!columns.has(col)) columns.set(col, []);
    columns.get(col).push(m);
  }
  const lineLength = columns.size <= MAX_WARNING_LINES ? rect.height : 6;
  const out = [];
  for (const [col, group] of columns) {
    out.push(
      `<line class="warning" x1="${col}" x2="${col}" y1="0" y2="${lineLength}" stroke="${WARNING_COLOR}" stroke-dasharray="4 3" stroke-width="1"/>`
    );
    if (withTriangles) {
      const first = group[0];
      const tip = `${group.length} warning${group.length > 1 ? 's' : ''} from ${formatTime(first.time)}: ${first.code} ${first.message}`;
      out.push(`<path d="M${col - 4},0h8l-4,7z" fill="${WARNING_COLOR}"><title>${esc(tip)}</title></path>`);
    }
  }
  return out.join('\n');
}

function legend(lines, rect, withWarning) {
  const items = lines.map((s) => ({ label: s.label, color: s.color, dash: '' }));
  if (withWarning) items.push({ label: 'warning', color: WARNING_COLOR, dash: ' stroke-dasharray="4 3"' });
  const out = [`<g class="legend" transform="translate(${rect.x},${rect.y - 8})">`];
  let x = 0;
  for (const item of items) {
    out.push(`<line x1="${x}" x2="${x + 20}" y1="-4" y2="-4" stroke="${item.color}" stroke-width="3"${item.dash}/>`);
    out.push(`<text x="${x + 26}" y="0">${esc(item.label)}</text>`);
    x += 26 + item.label.length * 7 + 22; // about 7 px per character at 12 px
  }
  out.push('</g>');
  return out.join('\n');
}

function esc(text) {
  return String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]
  );
}

module.exports = { renderSvg, panelRects, LAYOUT, PANELS, esc };
