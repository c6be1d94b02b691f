// What a status webhook does to a send's journal entry: the journal's rule, applied by webhooks/rules.ts inside its batch.
import { codeInfo } from '../meta/codes.js';
import { journalValue, parseJournalEntry, type JournalEntry } from './journal.js';

/** A status webhook about a sent row, as ingest reads it. */
export interface StatusReport {
  status: 'sent' | 'delivered' | 'read' | 'played' | 'failed';
  wamid: string;
  code?: number;
}

/**
 * What a status webhook does to a row's stored entry: any status but failed
 * proves an unknown or in-flight row was accepted; a failure marks a row not
 * yet failed as failed. The entry to store (with JOURNAL_TTL_MS) and what
 * changed, or undefined when it stays as it is.
 */
export function journalEntryAfterStatus(value: string | undefined, report: StatusReport, now: Date): { value: string; change: 'journal_unknown_to_sent' | 'journal_failed' } | undefined {
  if (value === undefined) return undefined;
  const { owner: _owner, written: _written, ...entry } = parseJournalEntry(value); // a claim's fields end with it
  if (report.status !== 'failed') {
    if (entry.status !== 'unknown' && entry.status !== 'inflight') return undefined;
    return { value: journalValue({ ...entry, status: 'sent', wamid: report.wamid, at: now.toISOString(), reason: `accepted: a ${report.status} webhook arrived` }), change: 'journal_unknown_to_sent' };
  }
  if (entry.status === 'failed') return undefined;
  const code = report.code;
  const failed: JournalEntry = { ...entry, status: 'failed', wamid: report.wamid, ...(code === undefined ? {} : { code, title: codeInfo(code).title }), at: now.toISOString(), reason: 'failed, as a status webhook said' };
  return { value: journalValue(failed), change: 'journal_failed' };
}
