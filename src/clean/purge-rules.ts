import { Outcome, OUTCOME_REASON, type ChunkResult } from '../pipeline/chunk-types.js';
import { WaIdSet } from '../pipeline/waid-set.js';
import { readPolicy, type BlacklistFile } from '../recipients/policy.js';
import type { Store } from '../store/store.js';

/** Why clean purges a row. */
export const PURGE_REASONS = [
  'missing_number', 'invalid_number', 'no_country_code', 'malformed_row', 'no_optin', 'not_mobile', 'duplicate', 'blacklisted', 'opted_out',
  'not_on_whatsapp',
] as const;
export type PurgeReason = (typeof PURGE_REASONS)[number];

/** A chunk whose rows are decided, some perhaps still waiting on /contacts. */
export interface DecidedChunk {
  result: ChunkResult;
  /** Why each row is purged; undefined for a kept row. */
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
 * The rules a row must pass after the worker read its number: the first of
 * each wa_id in the input is kept (later ones are duplicates), then the
 * store's blacklist and opt-outs, the --blacklist file, and the row's own
 * opt-out column. Chunks must come in input order.
 */
export class PurgeRules {
  /** Each wa_id kept so far, with the line (or record) it was first on. */
  private readonly seen: WaIdSet;

  constructor(
    private readonly store: Store,
    private readonly fileBlacklist: BlacklistFile | undefined,
    /** The names of the opt-out columns, as ChunkResult.optedOut indexes them. */
    private readonly optOutColumns: readonly string[],
    private readonly rowUnit: 'line' | 'record',
    inputBytes: number | undefined,
  ) {
    // Sized for the input up front (about 80 bytes a row), so it rarely has to grow.
    this.seen = new WaIdSet(Math.min(inputBytes ? inputBytes / 80 : 0, 1 << 23));
  }

  /** Applies the rules to a chunk whose first row is row `rowsBefore + 1` of the input. */
  async apply(result: ChunkResult, rowsBefore: number): Promise<DecidedChunk> {
    const n = result.rows;
    const reason: (PurgeReason | undefined)[] = new Array(n);
    const detail = result.details;
    const candidates: number[] = [];
    for (let i = 0; i < n; i++) {
      const outcome = result.outcome[i]!;
      if (outcome !== Outcome.OK) {
        reason[i] = OUTCOME_REASON[outcome] as PurgeReason;
        continue;
      }
      const position = result.lines[i] || rowsBefore + i + 1;
      const waId = result.waIds[i]!;
      const first = this.seen.get(waId);
      if (first >= 0) {
        reason[i] = 'duplicate';
        detail[i] = `+${waId} already on ${this.rowUnit} ${first}`;
      } else {
        this.seen.add(waId, position);
        candidates.push(i);
      }
    }
    // One batched lookup of the store's lists per chunk.
    const policy = await readPolicy(this.store, candidates.map((i) => String(result.waIds[i])), this.fileBlacklist);
    candidates.forEach((i, k) => {
      const { blacklisted, optedOut } = policy[k]!;
      if (blacklisted) {
        reason[i] = 'blacklisted';
        detail[i] = blacklisted;
      } else if (optedOut) {
        reason[i] = 'opted_out';
        detail[i] = optedOut.detail;
      } else if (result.optedOut[i]) {
        reason[i] = 'opted_out';
        detail[i] = `flagged in column ${this.optOutColumns[result.optedOut[i]! - 1]}`;
      }
    });
    return { result, reason, detail, status: [], waId: [], checks: [], batch: 0 };
  }
}
