import type { Progress } from '../progress.js';
import type { Journal, RowResult } from '../send/journal.js';
import { messageBody } from '../send/message-body.js';
import type { Job, Sender } from '../send/sender.js';
import type { Store } from '../store/store.js';
import { journalAgrees } from './earlier-run.js';
import type { GatedChunk } from './gate-chunk.js';
import { journalMark } from './journal-preview.js';
import { recordConversations } from './recipients.js';
import { joinLines, resultValues, type ResultsFile } from './results.js';
import type { CampaignColumns } from './row.js';
import type { Tally } from './summary.js';

/** Decided chunks whose messages may still be in flight, before they are written in order. */
const MAX_WAITING_CHUNKS = 16;

export interface DeliveryContext {
  journal: Journal;
  sender: Sender;
  store: Store;
  columns: CampaignColumns;
  tally: Tally;
  results: ResultsFile;
  progress: Progress;
  input: { bytesRead(): number };
  /** What the out-dir's earlier results say of rows sent or unknown (journal key ->): never sent again, whatever the journal says. */
  earlier?: ReadonlyMap<string, RowResult>;
}

/**
 * A live send of gated chunks: each row's journal entry (read once a chunk)
 * and the gate's decision say whether it is reported as it stands or handed
 * to the sender; chunks are written strictly in order while the sends of
 * later ones go on.
 */
export class Delivery {
  /** Rows read so far. */
  rowsRead = 0;
  private readonly waiting: Promise<void>[] = [];
  /** Rows settled so far, as they settle, for the progress bar (rows read are ahead of them). */
  private readonly settled = { sent: 0, failed: 0, other: 0, withoutSending: 0 };

  constructor(private readonly c: DeliveryContext) {}

  /** Starts the chunk's deliveries; it is written once they and every earlier chunk are. Waits while too many chunks are in flight. */
  async add(g: GatedChunk): Promise<void> {
    const firstRow = this.rowsRead;
    this.rowsRead += g.result.rows;
    const values = this.deliverChunk(g, firstRow);
    values.catch(() => undefined); // awaited below, in order; a failure must not count as unhandled first
    const previous = this.waiting.length ? this.waiting[this.waiting.length - 1]! : Promise.resolve();
    const written = previous.then(async () => this.c.results.write(g.result, await values));
    written.catch(() => undefined);
    this.waiting.push(written);
    while (this.waiting.length > MAX_WAITING_CHUNKS) await this.waiting.shift();
  }

  /** Waits until every chunk is written (in-flight messages finish, even after an interrupt). */
  async drain(): Promise<void> {
    for (const done of this.waiting) await done;
  }

  /** The chunk's added values, once each row is settled; conversations the sent rows opened are recorded. */
  private async deliverChunk(g: GatedChunk, firstRow: number): Promise<string[][]> {
    const keys = g.decisions.map((_, i) => this.c.journal.key(this.c.columns.rowKey(g.result, i, firstRow)));
    const seen = await this.c.journal.read(keys);
    const settled = await Promise.all(g.decisions.map((_, i) => this.deliverRow(g, i, keys[i]!, seen[i])));
    const opened: string[] = [];
    const now = Date.now();
    const values = settled.map((o, i) => {
      this.c.tally.delivered(o, g.decisions[i]!);
      const to = g.messages[i]!.to;
      if (o.status === 'sent' && g.decisions[i]!.opensConversation && to.ok) opened.push(to.waId);
      return resultValues(g.messages[i]!, g.decisions[i]!, o, journalMark(this.c.journal, seen[i], g.messages[i]!, now));
    });
    await recordConversations(this.c.store, opened);
    return values;
  }

  /** One row: what the journal already settled, the gate's block or defer, or the sender's delivery. */
  private deliverRow(g: GatedChunk, i: number, key: string, seen: string | undefined): RowResult | Promise<RowResult> {
    const message = g.messages[i]!;
    const d = g.decisions[i]!;
    const waId = message.to.ok ? message.to.waId : undefined;
    const earlier = this.c.earlier?.get(key);
    if (earlier && !journalAgrees(seen, earlier)) return this.withoutSending(earlier);
    // What earlier runs resolved stands, whatever the gate says now (it learned from those runs).
    const standing = this.c.journal.standing(seen, waId, Date.now());
    if (standing.kind === 'settled') return this.withoutSending(standing.outcome);
    // A row another live process is sending: its answer is the row's, whatever the gate says now.
    if (standing.kind === 'answered' && standing.outcome.busy) return this.c.journal.awaitOther(key, standing.outcome, this.c.sender.signal).then((o) => this.withoutSending(o));
    if (d.decision === 'block') return this.withoutSending({ status: 'blocked', attempts: 0, reason: `${d.reason}: ${joinLines(d.detail)}` });
    // Spacing to one user (pair_rate) is kept while sending; other defers wait for their time.
    if (d.decision === 'defer' && d.reason !== 'pair_rate') {
      return this.withoutSending({ status: 'deferred', attempts: 0, not_before: new Date(d.notBefore ?? Date.now()).toISOString(), reason: `${d.reason}: ${joinLines(d.detail)}` });
    }
    const job: Job = {
      key,
      waId: waId ?? '',
      seen,
      body: messageBody(message, g.recipientWaId[i]),
      ...(message.template ? { template: `${message.template.name} (${message.template.language})` } : {}),
    };
    return this.c.sender.deliver(job).then(async (o) => (o.busy ? this.c.journal.awaitOther(key, o, this.c.sender.signal) : o)).then((o) => {
      this.settled[o.status === 'sent' ? 'sent' : o.status === 'failed' ? 'failed' : 'other']++;
      this.showProgress();
      return o;
    });
  }

  private withoutSending(outcome: RowResult): RowResult {
    this.settled.withoutSending++;
    return outcome;
  }

  private showProgress(): void {
    const { sent, failed, other, withoutSending } = this.settled;
    const done = sent + failed + other + withoutSending;
    this.c.progress.update(Math.round(this.c.input.bytesRead() * (done / Math.max(1, this.rowsRead))), done,
      `sent ${sent} failed ${failed} | ${Math.round(this.c.sender.achievedMps)} msg/s`);
  }
}
