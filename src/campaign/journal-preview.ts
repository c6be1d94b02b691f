import type { Decision, Message } from '../gate/gate.js';
import type { ChunkResult } from '../pipeline/chunk-types.js';
import { parseJournalEntry, type Journal } from '../send/journal.js';
import type { CampaignColumns } from './row.js';

/**
 * A row's `journal` column: what the send journal held for it before this run.
 * Empty: nothing (a live run sends it if the gate lets it); else the entry's
 * status (sent, failed, unknown, deferred, inflight), or duplicate_id when the
 * journal holds the row's id for another number.
 */
export function journalMark(journal: Journal, seen: string | undefined, message: Message, now: number): string {
  return readEntry(journal, seen, message, now).mark;
}

/** The mark, and whether a live run would report the row as the journal has it instead of sending it. */
function readEntry(journal: Journal, seen: string | undefined, message: Message, now: number): { mark: string; settled: boolean } {
  if (seen === undefined) return { mark: '', settled: false };
  const standing = journal.standing(seen, message.to.ok ? message.to.waId : undefined, now);
  const settled = standing.kind === 'settled';
  return { mark: settled && standing.outcome.status === 'blocked' ? 'duplicate_id' : parseJournalEntry(seen).status, settled };
}

/** What a dry run reports of the journal: the entries an earlier run resolved, and the rows a live run would not send again. */
export interface JournalFigures {
  campaign_id: string;
  /** Rows an earlier run of the campaign resolved, by status. */
  resolved: { sent: number; failed: number; unknown: number };
  /** Rows a live run would report as the journal has them, without sending them, by the gate's decision today. */
  not_sent_again: Record<Decision['decision'], number>;
}

/**
 * The journal, read-only, as a dry run sees it: each chunk's entries (one
 * read), keyed as a live send keys them, so the rehearsal of a campaign that
 * already went out says what a live run would skip.
 */
export class JournalPreview {
  readonly figures: JournalFigures;
  private rowsRead = 0;

  constructor(private readonly journal: Journal, private readonly columns: CampaignColumns, campaignId: string, private readonly now: number) {
    this.figures = { campaign_id: campaignId, resolved: { sent: 0, failed: 0, unknown: 0 }, not_sent_again: { send: 0, defer: 0, block: 0 } };
  }

  /** The chunk's `journal` marks, counted. Chunks come in input order. */
  async marks(result: ChunkResult, messages: readonly Message[], decisions: readonly Decision[]): Promise<string[]> {
    const first = this.rowsRead;
    this.rowsRead += result.rows;
    const keys = messages.map((_, i) => this.journal.key(this.columns.rowKey(result, i, first)));
    const seen = await this.journal.read(keys);
    return messages.map((message, i) => {
      const { mark, settled } = readEntry(this.journal, seen[i], message, this.now);
      if (mark === 'sent' || mark === 'failed' || mark === 'unknown') this.figures.resolved[mark]++;
      if (settled) this.figures.not_sent_again[decisions[i]!.decision]++;
      return mark;
    });
  }
}
