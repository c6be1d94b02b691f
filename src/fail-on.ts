import { EXIT, UsageError } from './errors.js';

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

/** What --fail-on asked for and what matched, as the JSON summary reports it. */
export interface FailOnReport {
  /** The reasons given ("any" for any), none without --fail-on. */
  conditions: string[];
  /** The listed reasons some row was reported for. */
  matched: string[];
}

/** --fail-on judged against the run's counts: exit 3 when any row was `verb` (purged, blocked) for a listed reason, with the line that says which. */
export interface FailOnCheck {
  exitCode: number;
  report: FailOnReport;
  /** For stderr, when it matched. */
  message: string | undefined;
}

export function checkFailOn(failOn: FailOn, counts: Record<string, number>, known: readonly string[], verb: string): FailOnCheck {
  const conditions = failOn === undefined ? [] : failOn === 'any' ? ['any'] : [...failOn];
  const matched = failOn === undefined ? [] : known.filter((r) => (counts[r] ?? 0) > 0 && (failOn === 'any' || failOn.has(r)));
  return {
    exitCode: matched.length ? EXIT.FAIL_ON : EXIT.OK,
    report: { conditions, matched },
    message: matched.length ? `wa-guard: --fail-on: rows were ${verb} for ${matched.map((r) => `${r} (${counts[r]})`).join(', ')}\n` : undefined,
  };
}
