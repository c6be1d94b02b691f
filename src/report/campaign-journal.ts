import { Journal, type JournalRow, type RowOutcome } from '../send/journal.js';
import type { Store, StoreKey, StoreWrite } from '../store/store.js';
import { LIFECYCLE, LIFECYCLE_TTL_MS, lifecycleAccepted } from './lifecycle.js';

/** "name (language)", as the sender names a job's template. */
const TEMPLATE_NAME = /^(.*) \(([^()]*)\)$/;

/**
 * The send journal of a live campaign that also starts each message's
 * lifecycle: when Meta accepts or refuses a template message, its template and
 * language are recorded beside the journal entry, for the report's figures by
 * template (status webhooks do not say which template a message was).
 */
export class CampaignJournal extends Journal {
  constructor(private readonly lifecycleStore: Store, campaignId: string, options: ConstructorParameters<typeof Journal>[2]) {
    super(lifecycleStore, campaignId, options);
  }

  override async resolve(row: JournalRow & { template?: string }, outcome: RowOutcome): Promise<RowOutcome> {
    const resolved = await super.resolve(row, outcome);
    await this.recordTemplate(row, outcome);
    return resolved;
  }

  override async resolveWith<T>(row: JournalRow & { template?: string }, reads: StoreKey[], decide: (values: readonly (string | undefined)[]) => { outcome: RowOutcome; writes: StoreWrite[]; result: T }): Promise<{ outcome: RowOutcome; result: T }> {
    const settled = await super.resolveWith(row, reads, decide);
    await this.recordTemplate(row, settled.outcome);
    return settled;
  }

  /** Meta answered: the message's template and language beside its lifecycle. */
  private async recordTemplate(row: JournalRow & { template?: string }, outcome: RowOutcome): Promise<void> {
    const named = row.template === undefined ? undefined : TEMPLATE_NAME.exec(row.template);
    if (!named || (outcome.status !== 'sent' && outcome.status !== 'failed')) return;
    const template = { name: named[1]!, language: named[2]! };
    await this.lifecycleStore.transact([{ namespace: LIFECYCLE, key: row.key }], ([value]) => ({
      writes: [{ namespace: LIFECYCLE, key: row.key, value: JSON.stringify(lifecycleAccepted(value, template)), ttlMs: LIFECYCLE_TTL_MS }],
      result: undefined,
    }), { durable: false });
  }
}
