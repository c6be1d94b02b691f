// What a status webhook does to the send journal's entry of its message.
// To be replaced by send/journal.ts (the Journal module's own pure function).
import { codeInfo } from '../meta/codes.js';
import type { JournalEntry } from '../send/journal.js';
import type { StatusEvent } from './payload.js';

/**
 * The entry after the status, or undefined when the status changes nothing:
 * any status but a failure proves an unknown or in-flight send was accepted;
 * a failure fails the row (with its code), unless it failed already.
 */
export function journalAfterStatus(entry: JournalEntry, e: StatusEvent, now: Date): JournalEntry | undefined {
  if (e.status !== 'failed') {
    if (entry.status !== 'unknown' && entry.status !== 'inflight') return undefined;
    return { ...entry, status: 'sent', wamid: e.id, at: now.toISOString(), reason: `accepted: a ${e.status} webhook arrived` };
  }
  if (entry.status === 'failed') return undefined;
  const code = e.code;
  return { ...entry, status: 'failed', wamid: e.id, ...(code === undefined ? {} : { code, title: codeInfo(code).title }), at: now.toISOString(), reason: 'failed, as a status webhook said' };
}
