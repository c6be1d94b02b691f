import { EXIT, UsageError } from './errors.js';
import type { IO } from './io.js';

export type FailOn = Set<string> | 'any' | undefined;

/** --fail-on REASONS|any, checked against the reasons a command can report. */
export function parseFailOn(value: string | undefined, known: readonly string[]): FailOn {
  if (value === undefined) return undefined;
  if (value.trim().toLowerCase() === 'any') return 'any';
  const reasons = value.split(',').map((r) => r.trim()).filter(Boolean);
  const unknown = reasons.filter((r) => !known.includes(r));
  if (unknown.length || reasons.length === 0) {
    throw new UsageError(`--fail-on: unknown reason ${unknown.join(', ') || '(none)'}; use "any" or some of: ${known.join(', ')}`);
  }
  return new Set(reasons);
}

/** Exit 3 when any row was `verb` (purged, blocked) for a listed reason; says which on stderr. */
export function failOnExit(failOn: FailOn, counts: Record<string, number>, known: readonly string[], verb: string, io: IO, quiet: boolean): number {
  if (!failOn) return EXIT.OK;
  const hits = known.filter((r) => (counts[r] ?? 0) > 0 && (failOn === 'any' || failOn.has(r)));
  if (hits.length === 0) return EXIT.OK;
  if (!quiet) io.stderr.write(`wa-guard: --fail-on: rows were ${verb} for ${hits.map((r) => `${r} (${counts[r]})`).join(', ')}\n`);
  return EXIT.FAIL_ON;
}
