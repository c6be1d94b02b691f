import { PURGE_REASONS, type PurgeReason } from './purge-rules.js';

/** Running counts for the summary. */
export class Totals {
  rows = 0;
  cleaned = 0;
  purged = 0;
  shortRows = 0;
  lateKeyRows = 0;
  lateKeys = new Set<string>();
  byReason = Object.fromEntries(PURGE_REASONS.map((r) => [r, 0])) as Record<PurgeReason, number>;
  byColumn: number[] = [];
  byStatus: Record<string, number> = { valid: 0, cached: 0, unverified: 0 };
  /** Kept rows by line type (an index into LINE_TYPES). */
  byLineType: number[] = [];
}
