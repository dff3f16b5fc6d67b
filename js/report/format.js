'use strict';

// Human formatting shared by the text report and the chart. Bytes use binary
// units (1 MiB = 1024 KiB), as Node's own tooling and /proc do.

const BYTE_UNITS = [
  { name: 'GiB', size: 1024 ** 3 },
  { name: 'MiB', size: 1024 ** 2 },
  { name: 'KiB', size: 1024 },
  { name: 'B', size: 1 },
];

// The largest unit in which `bytes` is at least 1 (B for tiny values).
function byteUnit(bytes) {
  const abs = Math.abs(bytes);
  return BYTE_UNITS.find((u) => abs >= u.size) || BYTE_UNITS[BYTE_UNITS.length - 1];
}

function formatBytes(bytes) {
  if (bytes == null || !Number.isFinite(bytes)) return 'n/a';
  const unit = byteUnit(bytes);
  const value = bytes / unit.size;
  const digits = unit.size === 1 || Math.abs(value) >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${unit.name}`;
}

function formatSignedBytes(bytes) {
  if (bytes == null || !Number.isFinite(bytes)) return 'n/a';
  return (bytes >= 0 ? '+' : '-') + formatBytes(Math.abs(bytes));
}

function formatCount(n) {
  if (n == null || !Number.isFinite(n)) return 'n/a';
  return Math.round(n).toLocaleString('en-US');
}

function formatSignedNumber(n, digits = 1) {
  if (n == null || !Number.isFinite(n)) return 'n/a';
  const text = Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits);
  return (n >= 0 ? '+' : '') + text;
}

function formatMs(ms) {
  if (ms == null || !Number.isFinite(ms)) return 'n/a';
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

// "1h 02m", "3m 05s", "4.2 s", "350 ms": precise enough to read a span.
function formatDuration(ms) {
  if (ms == null || !Number.isFinite(ms)) return 'n/a';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  const days = Math.floor(totalSeconds / 86400);
  const hours = Math.floor((totalSeconds % 86400) / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const two = (n) => String(n).padStart(2, '0');
  if (days > 0) return `${days}d ${two(hours)}h ${two(minutes)}m`;
  if (hours > 0) return `${hours}h ${two(minutes)}m`;
  return `${minutes}m ${two(seconds)}s`;
}

// UTC so that two people reading the same log see the same times.
function formatTime(epochMs) {
  const date = new Date(epochMs);
  if (epochMs == null || Number.isNaN(date.getTime())) return 'n/a';
  return date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

function formatPercent(fraction, digits = 1) {
  if (fraction == null || !Number.isFinite(fraction)) return 'n/a';
  return `${(fraction * 100).toFixed(digits)}%`;
}

// "pid 1234 thread 2 on web-1": which process (or worker thread) a line is from.
function processLabel(p) {
  const parts = [`pid ${p.pid}`];
  if (p.threadId !== 0) parts.push(`thread ${p.threadId}`);
  if (p.hostname) parts.push(`on ${p.hostname}`);
  return parts.join(' ');
}

module.exports = {
  processLabel,
  byteUnit,
  formatBytes,
  formatSignedBytes,
  formatCount,
  formatSignedNumber,
  formatMs,
  formatDuration,
  formatTime,
  formatPercent,
};
