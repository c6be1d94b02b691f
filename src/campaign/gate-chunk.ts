import { gate, type Decision, type GateConfig, type Message } from '../gate/gate.js';
import type { Plan } from '../gate/plan.js';
import { Outcome, OUTCOME_REASON, type ChunkResult } from '../pipeline/chunk-types.js';
import type { BlacklistFile } from '../recipients/policy.js';
import type { Store } from '../store/store.js';
import type { JournalPreview } from './journal-preview.js';
import { recipientStates, type Recipient } from './recipients.js';
import type { CampaignColumns } from './row.js';
import type { Tally } from './summary.js';

/** The gate's decision for each row of a chunk, and the message it is about. */
export interface GatedChunk {
  result: ChunkResult;
  messages: Message[];
  decisions: Decision[];
  /** When the plan puts each row (ms), for defers. */
  at: (number | undefined)[];
  /** The wa_id the status cache learned for each row's number, where it did (Meta's own form, e.g. Mexico's 521…). */
  recipientWaId: (string | undefined)[];
  /** A dry run's `journal` marks (a live send reads the journal as it delivers): empty without a journal to read. */
  journal: string[];
}

export interface ChunkGateContext {
  columns: CampaignColumns;
  store: Store;
  plan: Plan;
  config: GateConfig;
  blacklistFile: BlacklistFile | undefined;
  /** The names of the --optout-column columns, for details. */
  optOutColumns: string[];
  tally: Tally;
  /** The gate's clock: --now for a dry run; undefined, the time of each decision, for a live send. */
  now: number | undefined;
  /** A dry run's read-only view of the journal (undefined: live, or stdin without --campaign-id). */
  preview: JournalPreview | undefined;
}

/**
 * The gate, row by row, exactly as a dry run decides: each row's message,
 * what the store knows of its recipient (one batched read a chunk), then the
 * gate and the plan, counted in the tally.
 */
export async function gateChunk(result: ChunkResult, c: ChunkGateContext): Promise<GatedChunk> {
  const n = result.rows;
  const messages: Message[] = [];
  const okWaIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const message = c.columns.message(result, i);
    if (message.to.ok) okWaIds.push(message.to.waId);
    messages.push(message);
  }
  const recipients = await recipientStates(c.store, okWaIds, c.blacklistFile);
  const decisions: Decision[] = [];
  const at: (number | undefined)[] = [];
  const recipientWaId: (string | undefined)[] = [];
  let k = 0;
  for (let i = 0; i < n; i++) {
    const message = messages[i]!;
    let recipient: Recipient = message.to.ok ? recipients[k++]! : {};
    if (result.optedOut[i] && !recipient.optedOut) recipient = { ...recipient, optedOut: { scope: 'all', detail: `flagged in column ${c.optOutColumns[result.optedOut[i]! - 1]}` } };
    if ('cachedWaId' in recipient) recipientWaId[i] = recipient.cachedWaId;
    const outcome = result.outcome[i];
    const decision: Decision = outcome === Outcome.MALFORMED || outcome === Outcome.NO_OPTIN
      ? { decision: 'block', reason: OUTCOME_REASON[outcome] as 'malformed_row' | 'no_optin', detail: result.details[i] ?? '', opensConversation: false }
      : gate(message, recipient, c.plan, c.now ?? Date.now(), c.config);
    at.push(c.plan.record(message, decision));
    decisions.push(decision);
    c.tally.decided(message, decision);
  }
  const journal = c.preview ? await c.preview.marks(result, messages, decisions) : [];
  return { result, messages, decisions, at, recipientWaId, journal };
}
