'use strict';

// `leakwatch plot` as a person sees it: the page is rendered by headless
// Chromium, and the screenshot is checked for a drawn chart (coloured pixels
// of each series inside the plot area), the DOM for the legend.
//
// Without /usr/bin/chromium the rendering tests skip, except in CI
// (process.env.CI), where they fail: CI installs it with
// `apt-get install -y chromium`. Set LEAKWATCH_SCREENSHOT_DIR to keep the
// screenshots for a look.

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { PNG } = require('pngjs');
const { writeLog } = require('./fixtures/make-log');
const { panelRects, PANELS } = require('../js/report/plot-svg');
const { HTML_LAYOUT } = require('../js/report/plot-html');

const CLI = path.join(__dirname, '..', 'js', 'cli.js');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const WINDOW = { width: 1200, height: 900 };

let dir;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakwatch-plot-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function runCli(args, options = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, ...options });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function leakyLog() {
  return writeLog(path.join(dir, 'leaky.log'), {
    processes: [
      { pid: 4242, leaky: true },
      { pid: 5151, leaky: false },
    ],
    points: 300,
    foreignEvery: 7,
  });
}

function plot(log, output) {
  const result = runCli(['plot', log, '-o', output]);
  assert.equal(result.code, 0, result.stderr);
  return output;
}

// --- headless Chromium ------------------------------------------------------

function requireChromium(t) {
  if (fs.existsSync(CHROMIUM)) return true;
  const message = `${CHROMIUM} not found: install it with \`apt-get install -y chromium\``;
  if (process.env.CI) assert.fail(`headless Chromium is required in CI; ${message}`);
  t.skip(message);
  return false;
}

function chromium(extraArgs, url) {
  const profile = fs.mkdtempSync(path.join(dir, 'profile-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    `--window-size=${WINDOW.width},${WINDOW.height}`,
    ...extraArgs,
    url,
  ];
  const result = spawnSync(CHROMIUM, args, { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(result.status, 0, `chromium failed: ${result.error || result.stderr}`);
  return result.stdout;
}

function screenshot(htmlFile) {
  const png = htmlFile.replace(/\.html$/, '.png');
  chromium([`--screenshot=${png}`], pathToFileURL(htmlFile).href);
  if (process.env.LEAKWATCH_SCREENSHOT_DIR) {
    fs.mkdirSync(process.env.LEAKWATCH_SCREENSHOT_DIR, { recursive: true });
    fs.copyFileSync(png, path.join(process.env.LEAKWATCH_SCREENSHOT_DIR, path.basename(png)));
  }
  return PNG.sync.read(fs.readFileSync(png));
}

// --- reading the screenshot --------------------------------------------------

function pixel(png, x, y) {
  const i = (y * png.width + x) * 4;
  return [png.data[i], png.data[i + 1], png.data[i + 2]];
}

// Grid lines, axes and text are grey; only data (and warnings) are coloured.
function isColoured([r, g, b]) {
  return Math.max(r, g, b) - Math.min(r, g, b) > 50;
}

function near([r, g, b], hex) {
  const [R, G, B] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return Math.abs(r - R) + Math.abs(g - G) + Math.abs(b - B) < 60;
}

// The plot area of a panel of the first process, in page pixels.
function plotArea(panelId) {
  const rect = panelRects(0)[panelId];
  return { ...rect, y: rect.y + HTML_LAYOUT.chartTop };
}

function pixelsIn(png, area, predicate) {
  let count = 0;
  for (let y = Math.ceil(area.y) + 2; y < area.y + area.height - 2 && y < png.height; y++) {
    for (let x = Math.ceil(area.x) + 2; x < area.x + area.width - 2 && x < png.width; x++) {
      if (predicate(pixel(png, x, y))) count += 1;
    }
  }
  return count;
}

// --- tests ------------------------------------------------------------------

describe('plot in a browser', () => {
  test('the page draws every series, the legend and the warnings', (t) => {
    if (!requireChromium(t)) return;
    const html = plot(leakyLog(), path.join(dir, 'leaky.html'));
    const png = screenshot(html);
    assert.deepEqual([png.width, png.height], [WINDOW.width, WINDOW.height]);

    const memory = plotArea('memory');
    const coloured = pixelsIn(png, memory, isColoured);
    assert.ok(coloured > 0.01 * memory.width * memory.height, `only ${coloured} coloured pixels in the memory panel`);
    for (const series of PANELS.find((p) => p.id === 'memory').series) {
      const count = pixelsIn(png, memory, (px) => near(px, series.color));
      assert.ok(count > 50, `${series.label} (${series.color}) drew ${count} pixels`);
    }
    assert.ok(pixelsIn(png, memory, (px) => near(px, '#ff7f0e')) > 50, 'warning marks drawn');
    for (const panel of ['gc', 'counts']) {
      assert.ok(pixelsIn(png, plotArea(panel), isColoured) > 200, `${panel} panel drew`);
    }

    const dom = chromium(['--dump-dom'], pathToFileURL(html).href);
    for (const label of [
      'heapUsed',
      'heapTotal',
      'baseline (heap after full GC)',
      'RSS',
      'external',
      'warning',
      'GC pause max per interval',
      'event listeners (live)',
      'open file descriptors',
    ]) {
      assert.ok(dom.includes(`>${label}</text>`), `legend "${label}" missing from the DOM`);
    }
    assert.match(dom, /memory \(MiB\)/, 'memory axis has its unit');
    assert.match(dom, /time since 2024-05-01 10:00:00Z \(min\)/, 'time axis has its unit');
    assert.match(dom, /pid 4242 on test-host: heap, rss, external, listeners LEAKING/);
  });

  test('a 10-point log draws too', (t) => {
    if (!requireChromium(t)) return;
    const log = writeLog(path.join(dir, 'short.log'), {
      processes: [{ pid: 7, leaky: false }],
      points: 10,
      intervalMs: 200,
    });
    const png = screenshot(plot(log, path.join(dir, 'short.html')));
    const memory = plotArea('memory');
    assert.ok(pixelsIn(png, memory, (px) => near(px, '#1f77b4')) > 100, 'heapUsed drawn');
    assert.ok(pixelsIn(png, memory, (px) => near(px, '#2ca02c')) > 100, 'RSS drawn');
  });
});

describe('plot output', () => {
  test('the HTML page is self-contained', () => {
    const html = fs.readFileSync(plot(leakyLog(), path.join(dir, 'page.html')), 'utf8');
    const withoutNamespace = html.replaceAll('xmlns="http://www.w3.org/2000/svg"', '');
    assert.doesNotMatch(withoutNamespace, /https?:|\/\/[a-z]/i, 'no URL of any kind');
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|\bsrc=|\bhref=|@import|url\(/i);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    assert.match(html, /<svg[^>]*>/);
    assert.match(html, /<pre>leakwatch report: /, 'the text report is on the page');
  });

  test('-o *.svg writes the bare SVG', () => {
    const svg = fs.readFileSync(plot(leakyLog(), path.join(dir, 'memory.svg')), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+"/);
    assert.doesNotMatch(svg, /<html|<body/);
    assert.equal((svg.match(/<g class="process"/g) || []).length, 2, 'one section per process');
    for (const name of ['heapUsed', 'heapTotal', 'baseline', 'rss', 'external', 'gcPauseMax', 'listeners', 'fds']) {
      assert.match(svg, new RegExp(`data-series="${name}" d="M[\\d.]+,[\\d.]+L`), `${name} path`);
    }
  });

  test('downsampling for drawing keeps the extremes', () => {
    const { TimeBuckets } = require('../js/report/buckets');
    const { minMaxPerPixel } = require('../js/report/downsample');
    // A sawtooth of 200,000 points with one spike and one dip, drawn on 1,000 px.
    const buckets = new TimeBuckets();
    for (let i = 0; i < 200_000; i++) {
      const v = i === 123_457 ? 5000 : i === 77_777 ? -5000 : i % 50;
      buckets.add(i * 100, v);
    }
    const toPixel = (t) => (t / (200_000 * 100)) * 1000;
    const points = minMaxPerPixel(buckets, toPixel);
    assert.ok(points.length <= 2 * 1000, `${points.length} points for 1,000 px`);
    assert.deepEqual(
      points.find((p) => p.v === 5000),
      { t: 12_345_700, v: 5000 }
    );
    assert.deepEqual(
      points.find((p) => p.v === -5000),
      { t: 7_777_700, v: -5000 }
    );
    assert.ok(
      points.every((p, i) => i === 0 || points[i - 1].t <= p.t),
      'in time order'
    );
    // Ordinary columns keep both the trough and the peak of the sawtooth.
    assert.equal(points.filter((p) => p.v === 0).length + points.filter((p) => p.v === 49).length, points.length - 2);
  });

  test('- reads standard input', () => {
    const out = path.join(dir, 'stdin.svg');
    const result = runCli(['plot', '-', '-o', out], { input: fs.readFileSync(leakyLog()) });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^wrote .*stdin\.svg \(SVG, 2 processes; \d+ lines skipped\)$/m);
  });

  test('errors are one line and a non-zero exit', () => {
    const missing = runCli(['plot', path.join(dir, 'nope.log'), '-o', path.join(dir, 'x.html')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^leakwatch: no such file: .*nope\.log\n$/);
    const badDir = runCli(['plot', leakyLog(), '-o', path.join(dir, 'no', 'such', 'dir.html')]);
    assert.equal(badDir.code, 1);
    assert.match(badDir.stderr, /^leakwatch: cannot write .*dir\.html: no such directory\n$/);
    const badFlag = runCli(['plot', leakyLog(), '--json']);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /^leakwatch: --json does not apply to plot\n$/);
  });
});
