import type { RowFormat } from '../output/rows.js';
import type { ChunkResult } from '../pipeline/chunk.js';
import type { Store } from '../store/store.js';
import type { Verifier } from '../verify/verifier.js';
import { readStatuses } from './policy.js';

/** Why clean purges a row. */
export const PURGE_REASONS = [
  'missing_number', 'invalid_number', 'no_country_code', 'malformed_row', 'no_optin', 'duplicate', 'blacklisted', 'opted_out',
  'not_on_whatsapp',
] as const;
export type PurgeReason = (typeof PURGE_REASONS)[number];

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
}

/** A chunk whose rows are decided, some perhaps still waiting on /contacts. */
export interface Decided {
  result: ChunkResult;
  reason: (PurgeReason | undefined)[];
  detail: Record<number, string>;
  /** wa_status and wa_id of kept rows, where verification set them (else unverified, the input's wa_id). */
  status: (string | undefined)[];
  waId: (string | undefined)[];
  checks: Promise<void>[];
  /** The verifier's open batch when this chunk was decided. */
  batch: number;
}

/**
 * The verification stage: the status cache first; what it does not know goes
 * to /contacts, and the chunk keeps the promises of those answers. Resolves
 * with the number of cache hits.
 */
export async function verifyChunk(d: Decided, kept: number[], store: Store, verifier: Verifier): Promise<number> {
  const e164 = kept.map((i) => '+' + d.result.waIds[i]);
  const cached = await readStatuses(store, e164);
  let hits = 0;
  kept.forEach((i, k) => {
    const hit = cached[k];
    if (hit) {
      hits++;
      if (hit.status === 'valid') {
        d.status[i] = 'cached';
        d.waId[i] = hit.wa_id;
      } else {
        d.reason[i] = 'not_on_whatsapp';
        d.detail[i] = `not on WhatsApp (cached answer of ${hit.checked_at.slice(0, 10)} from ${hit.source})`;
      }
      return;
    }
    const check = verifier.check(e164[k]!).then((outcome) => {
      if (outcome.status === 'valid') {
        d.status[i] = 'valid';
        d.waId[i] = outcome.waId;
      } else if (outcome.status === 'invalid') {
        d.reason[i] = 'not_on_whatsapp';
        d.detail[i] = 'not on WhatsApp (the /contacts endpoint answered invalid)';
      }
    });
    // Awaited when the chunk is written; a run that fails first must not leave it unhandled.
    check.catch(() => undefined);
    d.checks.push(check);
  });
  d.batch = verifier.batchSeq;
  return hits;
}

/** Waits for the chunk's answers; its last numbers may sit in the batch still being filled: that batch is sent rather than waited for. */
export async function awaitChecks(d: Decided, verifier: Verifier): Promise<void> {
  if (d.checks.length === 0) return;
  if (d.batch === verifier.batchSeq) verifier.flush();
  await Promise.all(d.checks);
}

/** The writing stage: a decided chunk as cleaned and purged text, counted in `totals`. */
export function renderChunk(d: Decided, rowFormat: RowFormat, totals: Totals): { cleaned: string; purged: string } {
  const { result, reason, detail } = d;
  const n = result.rows;
  // Kept, unverified rows arrive complete from the worker; runs of them are copied in one piece.
  const { text, ends, baseEnds } = result;
  let cleaned = '';
  let purged = '';
  let runStart = -1;
  for (let i = 0; i < n; i++) {
    const why = reason[i];
    const start = i === 0 ? 0 : ends[i - 1]!;
    const status = d.status[i];
    if (why === undefined && status === undefined && !rowFormat.needsLead) {
      if (runStart < 0) runStart = start;
    } else if (runStart >= 0) {
      cleaned += text.slice(runStart, start);
      runStart = -1;
    }
    if (why === undefined) {
      if (status !== undefined || rowFormat.needsLead) {
        const base = text.slice(start, baseEnds[i]);
        const inputWaId = String(result.waIds[i]);
        const line = status === undefined ? text.slice(start, ends[i])
          : base + rowFormat.cleanedSuffix(base.length, inputWaId, d.waId[i] ?? inputWaId, status);
        cleaned += (rowFormat.needsLead ? rowFormat.lead(totals.cleaned) : '') + line;
      }
      totals.cleaned++;
      totals.byStatus[status ?? 'unverified']!++;
      const column = result.phoneColumn[i]!;
      totals.byColumn[column] = (totals.byColumn[column] ?? 0) + 1;
    } else {
      purged += rowFormat.purged(totals.purged++, text.slice(start, baseEnds[i]), why, detail[i]!);
      totals.byReason[why]++;
    }
  }
  if (runStart >= 0) cleaned += text.slice(runStart, ends[n - 1]);
  totals.shortRows += result.shortRows;
  totals.lateKeyRows += result.lateKeyRows;
  for (const key of result.lateKeys) if (totals.lateKeys.size < 10) totals.lateKeys.add(key);
  return { cleaned, purged };
}
