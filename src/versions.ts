import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Versions that decide results: ours, and libphonenumber-js, whose metadata decides which numbers are valid. */
export function versions(): Record<string, string> {
  return {
    wa_guard: (require('../package.json') as { version: string }).version,
    libphonenumber_js: (require('libphonenumber-js/package.json') as { version: string }).version,
    node: process.version,
  };
}

export interface RunFigures {
  started_at: string;
  finished_at: string;
  duration_ms: number;
  rows_per_second: number;
  peak_rss_mb: number;
  /** CPU time of the whole process (every thread), user and system. */
  cpu_ms: number;
  versions: Record<string, string>;
}

/** Timing, memory and versions for a run's summary. */
export function runFigures(started: Date, rows: number): RunFigures {
  const finished = new Date();
  const ms = finished.getTime() - started.getTime();
  return {
    started_at: started.toISOString(),
    finished_at: finished.toISOString(),
    duration_ms: ms,
    rows_per_second: Math.round(rows / Math.max(0.001, ms / 1000)),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    cpu_ms: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
    versions: versions(),
  };
}
