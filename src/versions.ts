import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** Our package.json: found upwards from this file, which is in dist/ or, bundled, in dist/bundle/. */
function ownVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'wa-guard') return pkg.version ?? 'unknown';
    }
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
