import { createRequire } from 'node:module';

// Through require, not ESM imports of node:fs and node:path: --help loads this
// module, and the ESM face of node:fs alone loads all of Node's stream code.
const require = createRequire(import.meta.url);

/** Our package.json: beside dist/ (this file is in dist/ or, bundled, in dist/bundle/). */
function ownVersion(): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const pkg = require(path) as { name?: string; version?: string };
      if (pkg.name === 'wa-guard') return pkg.version ?? 'unknown';
    } catch { /* not there */ }
  }
  return 'unknown';
}

/** Versions that decide results: ours, and libphonenumber-js, whose metadata decides which numbers are valid. */
export function versions(): Record<string, string> {
  return {
    wa_guard: ownVersion(),
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
