import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Namespace of the send journal: `<campaign id>:<row key>` -> JournalEntry. */
export const JOURNAL = 'journal';
/** wamid -> journal key, so a status webhook without our callback data still finds its row. */
export const WAMIDS = 'wamids';
/** How long a campaign's journal is kept: long enough to resume, re-run and reconcile late webhooks. */
export const JOURNAL_TTL_MS = 90 * 86_400_000;

export type JournalStatus = 'inflight' | 'sent' | 'failed' | 'deferred' | 'unknown';

export interface JournalEntry {
  status: JournalStatus;
  attempts: number;
  /** ISO time of the last change. */
  at: string;
  wamid?: string;
  code?: number;
  title?: string;
  sent_at?: string;
  not_before?: string;
  /** Why the row ended as it did, for the results file. */
  reason?: string;
  /** The wa_id the row is for: a row of the same key to another number is another message (two rows given one id). */
  to?: string;
}

const STATUSES: readonly JournalStatus[] = ['inflight', 'sent', 'failed', 'deferred', 'unknown'];

export function journalKey(campaignId: string, rowKey: string): string {
  return `${campaignId}:${rowKey}`;
}

/** A stored entry, checked; a damaged one reads as unknown (it may have been sent: never send it blindly again). */
export function parseJournalEntry(value: string): JournalEntry {
  let e: Partial<JournalEntry> = {};
  try {
    e = JSON.parse(value) as Partial<JournalEntry>;
  } catch { /* damaged */ }
  if (!e || !STATUSES.includes(e.status as JournalStatus)) return { status: 'unknown', attempts: 0, at: '', reason: 'damaged journal entry' };
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  return {
    status: e.status as JournalStatus,
    attempts: Number.isInteger(e.attempts) ? e.attempts! : 0,
    at: text(e.at) ?? '',
    ...(text(e.wamid) ? { wamid: e.wamid } : {}),
    ...(Number.isInteger(e.code) ? { code: e.code } : {}),
    ...(text(e.title) ? { title: e.title } : {}),
    ...(text(e.sent_at) ? { sent_at: e.sent_at } : {}),
    ...(text(e.not_before) ? { not_before: e.not_before } : {}),
    ...(text(e.reason) ? { reason: e.reason } : {}),
    ...(text(e.to) ? { to: e.to } : {}),
  };
}

/** The default campaign id: a hash of the file's bytes, so re-running the same file resumes it. */
export async function fileCampaignId(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const part of createReadStream(path)) hash.update(part as Buffer);
  return hash.digest('hex').slice(0, 16);
}
