'use strict';

// Sorts leakwatch records by process and puts the per-process summaries
// together with the line counts into the report's data.
//
// Each (hostname, pid, threadId) is its own process: a log can hold a cluster's
// workers, restarts, or worker threads, and mixing their heaps would produce
// nonsense trends. The number of processes kept is capped, so that memory
// stays bounded even for a log of many short-lived processes.

const { ProcessState } = require('./process-state');

const MAX_PROCESSES = 32; // beyond this, records are counted but not kept

class Summarizer {
  constructor() {
    this.processes = new Map();
    this.omitted = { records: 0, processes: new Set() };
  }

  add(record) {
    const proc = this.processFor(record);
    if (!proc) return;
    if (record.event === 'memory') proc.addMemory(record);
    else proc.addWarning(record);
  }

  processFor(record) {
    const threadId = Number.isFinite(record.threadId) ? record.threadId : 0;
    const hostname = typeof record.hostname === 'string' ? record.hostname : '';
    const key = `${hostname}\u0000${record.pid}\u0000${threadId}`;
    let proc = this.processes.get(key);
    if (proc) return proc;
    if (this.processes.size >= MAX_PROCESSES) {
      this.omitted.records += 1;
      if (this.omitted.processes.size < 100_000) this.omitted.processes.add(key);
      return null;
    }
    proc = new ProcessState(record.pid, threadId, hostname);
    this.processes.set(key, proc);
    return proc;
  }

  // Returns { summary } — plain data, ready for JSON — and { series }, the
  // bounded time series per process that the chart draws.
  finish(lineStats, sourceName) {
    const procs = [...this.processes.values()].sort((a, b) => a.firstTime - b.firstTime);
    const processes = procs.map((p) => p.summary());
    const summary = {
      source: sourceName,
      lines: { ...lineStats, skipped: lineStats.foreign + lineStats.malformed + lineStats.overlong },
      timeSpan: overallSpan(processes),
      processes,
      omittedProcesses: this.omitted.processes.size,
      omittedRecords: this.omitted.records,
    };
    return { summary, series: procs.map((p) => p.chartData()) };
  }
}

function overallSpan(processes) {
  if (processes.length === 0) return null;
  const start = Math.min(...processes.map((p) => p.firstTime));
  const end = Math.max(...processes.map((p) => p.lastTime));
  return { start, end, durationMs: end - start };
}

module.exports = { Summarizer };
