import { Journal, type Besides, type JournalRow } from '../send/journal.js';
import { LIFECYCLE, LIFECYCLE_TTL_MS, lifecycleAccepted } from './lifecycle.js';

/** "name (language)", as the sender names a job's template. */
const TEMPLATE_NAME = /^(.*) \(([^()]*)\)$/;

/**
 * The send journal of a live campaign that also starts each message's
 * lifecycle: when Meta accepts or refuses a template message, its template and
 * language are recorded beside the journal entry, in the same transaction, for
 * the report's figures by template (status webhooks do not say which template
 * a message was).
 */
export class CampaignJournal extends Journal {
  protected override besides(row: JournalRow & { template?: string }): Besides | undefined {
    const named = row.template === undefined ? undefined : TEMPLATE_NAME.exec(row.template);
    if (!named) return undefined;
    const template = { name: named[1]!, language: named[2]! };
    return {
      reads: [{ namespace: LIFECYCLE, key: row.key }],
      writes: (outcome, [value]) => outcome.status === 'sent' || outcome.status === 'failed'
        ? [{ namespace: LIFECYCLE, key: row.key, value: JSON.stringify(lifecycleAccepted(value, template)), ttlMs: LIFECYCLE_TTL_MS }]
        : [],
    };
  }
}
