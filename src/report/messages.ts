/**
 * A campaign's messages as the report reads them: each journal entry joined
 * with its lifecycle and the answer it got, streamed a batch at a time so a
 * campaign of millions never sits in memory.
 */
import { JOURNAL } from '../send/journal.js';
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
}

const BATCH = 5000;
/** Messages read between two releases of the store's read memory (~55 MB of the embedded store's map). */
const RELEASE_EVERY = 100_000;

/** How the caller reads: `afterBatch` is awaited after each batch (to write what it gathered). */
export interface ReadOptions {
  afterBatch?: () => Promise<void>;
  /** Nothing else uses this store object (the report command, not a server): its read memory is given back as it goes. */
  alone?: boolean;
}

/**
 * Streams the messages of one campaign (or, id undefined, of all) to `each`.
 * Replies are few (a message in ten, or fewer): read in one pass first, not
 * asked for message by message.
 */
export async function forEachMessage(store: Store, campaignId: string | undefined, each: (m: Message) => void, options: ReadOptions = {}): Promise<void> {
  const prefix = campaignId === undefined ? undefined : `${campaignId}:`;
  const replies = new Map<string, Replies>();
  if (prefix !== undefined) {
    for await (const [key, value] of store.scan(REPLIES, prefix)) {
      const r = parseReplies(value);
      if (r) replies.set(key, r);
    }
  }
  let keys: string[] = [];
  let values: string[] = [];
  let sinceRelease = 0;
  const flush = async (): Promise<void> => {
    const lifecycles = await store.get(LIFECYCLE, keys);
    for (let i = 0; i < keys.length; i++) each(message(keys[i]!, values[i]!, parseLifecycle(lifecycles[i]), replies.get(keys[i]!)));
    sinceRelease += keys.length;
    keys = [];
    values = [];
    await options.afterBatch?.();
    if (options.alone && sinceRelease >= RELEASE_EVERY) {
      sinceRelease = 0;
      await store.releaseReadMemory?.();
    }
  };
  for await (const [key, value] of store.scan(JOURNAL, prefix)) {
    keys.push(key);
    values.push(value);
    if (keys.length >= BATCH) await flush();
  }
  if (keys.length) await flush();
}

/** The fields of a journal entry the report reads (parseJournalEntry's checks, without building a whole entry). */
function journalFields(value: string): { status: string; wamid?: string; to?: string; at?: string; code?: number; title?: string } {
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(value) as Record<string, unknown>;
  } catch {
    return { status: 'unknown' };
  }
  if (!e || typeof e !== 'object') return { status: 'unknown' };
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    status: JOURNAL_STATUSES.has(e.status as string) ? e.status as string : 'unknown',
    wamid: text(e.wamid), to: text(e.to), at: text(e.sent_at) ?? text(e.at),
    code: Number.isInteger(e.code) ? e.code as number : undefined, title: text(e.title),
  };
}

const JOURNAL_STATUSES = new Set(['inflight', 'sent', 'failed', 'deferred', 'unknown']);

function message(key: string, value: string, lifecycle: Lifecycle | undefined, replies: Replies | undefined): Message {
  const colon = key.indexOf(':');
  const j = journalFields(value);
  const accepted = j.wamid !== undefined;
  const at = accepted && j.at !== undefined ? Date.parse(j.at) : NaN;
  return {
    campaignId: key.slice(0, colon), rowKey: key.slice(colon + 1), waId: j.to ?? '',
    outcome: outcomeOf(j.status, lifecycle), accepted, wamid: j.wamid,
    template: lifecycle?.template, language: lifecycle?.language,
    code: lifecycle?.code ?? j.code, title: lifecycle?.title ?? j.title,
    acceptedAt: Number.isNaN(at) ? undefined : Math.floor(at / 1000),
    lifecycle, replies,
  };
}

function outcomeOf(status: string, lifecycle: Lifecycle | undefined): Outcome {
  if (lifecycle?.state === 'failed' || status === 'failed') return 'failed';
  if (status === 'sent') return !lifecycle || lifecycle.state === 'accepted' ? 'awaiting' : lifecycle.state;
  if (status === 'deferred') return 'deferred';
  // unknown or in flight: a status webhook would have made it sent.
  return lifecycle && lifecycle.state !== 'accepted' ? lifecycle.state : 'unknown';
}
