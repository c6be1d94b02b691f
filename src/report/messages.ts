/**
 * A campaign's messages as the report reads them: each journal entry joined
 * with its lifecycle and the answer it got, streamed a batch at a time so a
 * campaign of millions never sits in memory.
 */
import { JOURNAL, parseJournalEntry, type JournalEntry } from '../send/journal.js';
import type { Store } from '../store/store.js';
import { LIFECYCLE, REPLIES, parseLifecycle, parseReplies, type Lifecycle, type Replies } from './lifecycle.js';

/** What became of a message: awaiting = accepted by Meta, no status webhook yet. */
export type Outcome = 'awaiting' | 'sent' | 'delivered' | 'read' | 'failed' | 'deferred' | 'unknown';

export interface Message {
  campaignId: string;
  rowKey: string;
  waId: string;
  outcome: Outcome;
  /** Meta accepted it (it has a wamid). */
  accepted: boolean;
  wamid?: string;
  template?: string;
  language?: string;
  code?: number;
  title?: string;
  /** When the send got Meta's answer (s). */
  acceptedAt?: number;
  lifecycle: Lifecycle | undefined;
  replies: Replies | undefined;
  reason?: string;
}

const BATCH = 5000;

/** Streams the messages of one campaign (or, id undefined, of all) to `each`; `afterBatch` is awaited after each batch (to write what it gathered). */
export async function forEachMessage(store: Store, campaignId: string | undefined, each: (m: Message) => void, afterBatch?: () => Promise<void>): Promise<void> {
  const prefix = campaignId === undefined ? undefined : `${campaignId}:`;
  let keys: string[] = [];
  let values: string[] = [];
  const flush = async (): Promise<void> => {
    const [lifecycles, replies] = await Promise.all([store.get(LIFECYCLE, keys), store.get(REPLIES, keys)]);
    for (let i = 0; i < keys.length; i++) each(message(keys[i]!, parseJournalEntry(values[i]!), parseLifecycle(lifecycles[i]), parseReplies(replies[i])));
    keys = [];
    values = [];
    await afterBatch?.();
  };
  for await (const [key, value] of store.scan(JOURNAL)) {
    if (prefix !== undefined && !key.startsWith(prefix)) continue;
    keys.push(key);
    values.push(value);
    if (keys.length >= BATCH) await flush();
  }
  if (keys.length) await flush();
}

function message(key: string, j: JournalEntry, lifecycle: Lifecycle | undefined, replies: Replies | undefined): Message {
  const colon = key.indexOf(':');
  const accepted = j.wamid !== undefined;
  const at = Date.parse(j.sent_at ?? (accepted ? j.at : ''));
  const code = lifecycle?.code ?? j.code;
  const title = lifecycle?.title ?? j.title;
  return {
    campaignId: key.slice(0, colon), rowKey: key.slice(colon + 1), waId: j.to ?? '',
    outcome: outcomeOf(j, lifecycle), accepted,
    ...(j.wamid ? { wamid: j.wamid } : {}),
    ...(lifecycle?.template ? { template: lifecycle.template, language: lifecycle.language } : {}),
    ...(code !== undefined ? { code } : {}), ...(title ? { title } : {}),
    ...(Number.isNaN(at) ? {} : { acceptedAt: Math.floor(at / 1000) }),
    lifecycle, replies,
    ...(j.reason ? { reason: j.reason } : {}),
  };
}

function outcomeOf(j: JournalEntry, lifecycle: Lifecycle | undefined): Outcome {
  if (lifecycle?.state === 'failed' || j.status === 'failed') return 'failed';
  if (j.status === 'sent') return !lifecycle || lifecycle.state === 'accepted' ? 'awaiting' : lifecycle.state;
  if (j.status === 'deferred') return 'deferred';
  // unknown or in flight: a status webhook would have made it sent.
  return lifecycle && lifecycle.state !== 'accepted' ? lifecycle.state : 'unknown';
}
