import { hostname } from 'node:os';
import { codeInfo } from '../meta/codes.js';
import type { JournalEntry, RowOutcome, RowResult } from './journal.js';

/** What a damaged entry reads as: unknown, and never sent again (not even with --resend-unknown): it may say sent. */
export const DAMAGED_ENTRY = 'damaged journal entry: it may have been sent; not sent again';

/**
 * A claim's lease: an inflight entry of a process on another host (whose pid
 * cannot be checked), or an entry without an owner (written before owners
 * were), not rewritten for this long was left by a run that died. The sender
 * rewrites its entries before every request and wait, and waits at most a
 * minute under a claim.
 */
export const STALE_INFLIGHT_MS = 120_000;
/** This process, as claims name their owner: `<host>:<pid>`. */
export const SELF = `${hostname()}:${process.pid}`;

/**
 * What a journal entry means for a row about to be sent:
 * - settled: an earlier run resolved it (or its id belongs to another number); that stands whatever the gate says now;
 * - answered: if the gate lets it through, the journal still answers for it (deferred and not yet due, in flight in a live process);
 * - claimable: this run may send it.
 */
export type Standing =
  | { kind: 'settled'; outcome: RowResult }
  | { kind: 'answered'; outcome: RowOutcome }
  | { kind: 'claimable' };

const CLAIMABLE: Standing = { kind: 'claimable' };

/** What else decides a row's standing besides --resend-unknown. */
export interface StandingOptions {
  /** --retry-failed: rows that failed with a retryable answer (never a recipient's) are sent again. */
  retryFailed?: boolean;
}

/**
 * What an entry means for a row to `waId` (undefined: the row has no number)
 * at `now`: absent, deferred and due, claimed by a run that died before its
 * request left, unknown or written by a dead run with --resend-unknown, or
 * failed for a retryable reason with --retry-failed may be sent again.
 */
export function rowStanding(entry: JournalEntry | undefined, waId: string | undefined, now: number, resendUnknown: boolean, options: StandingOptions = {}): Standing {
  if (!entry) return CLAIMABLE;
  const taken = waId === undefined ? undefined : keyTakenByAnother(entry, waId);
  if (taken) return { kind: 'settled', outcome: taken };
  switch (entry.status) {
    case 'sent':
      return { kind: 'settled', outcome: journalOutcome(entry) };
    case 'failed':
      return options.retryFailed && retryableFailure(entry) ? CLAIMABLE : { kind: 'settled', outcome: journalOutcome(entry) };
    case 'unknown':
      return resendUnknown && entry.reason !== DAMAGED_ENTRY ? CLAIMABLE : { kind: 'settled', outcome: journalOutcome(entry) };
    case 'deferred':
      return Date.parse(entry.not_before ?? '') > now ? { kind: 'answered', outcome: journalOutcome(entry) } : CLAIMABLE;
    case 'inflight': {
      // Another process's row: its answer will be the row's, whatever the gate says now.
      if (ownerAlive(entry, now)) return { kind: 'answered', outcome: inflightOutcome(entry, true) };
      // Claimed by a run that died before the request left: it was never sent.
      if (entry.owner !== undefined && !entry.written) return CLAIMABLE;
      return resendUnknown ? CLAIMABLE : { kind: 'settled', outcome: inflightOutcome(entry, false) };
    }
  }
}

/**
 * A failure that says nothing about the message or its recipient: Meta's
 * retryable or rate-limit answers after every try, or (journals of earlier
 * versions) a transport failure without a code. Never 131026, an opt-out, a
 * recipient's or a template's code, nor a failure a webhook reported.
 */
export function retryableFailure(entry: JournalEntry): boolean {
  if (entry.status !== 'failed' || entry.wamid !== undefined) return false;
  if (entry.code === undefined) return true;
  const action = codeInfo(entry.code).action;
  return action === 'retry' || action === 'slow';
}

/**
 * Whether the process holding an inflight claim may still be working on it:
 * on this host, while its pid lives; elsewhere (or unnamed), for the lease.
 */
export function ownerAlive(entry: JournalEntry, now: number): boolean {
  const owner = entry.owner ?? '';
  const colon = owner.lastIndexOf(':');
  const pid = Number(owner.slice(colon + 1));
  if (colon > 0 && owner.slice(0, colon) === hostname() && Number.isInteger(pid) && pid > 0) {
    if (pid === process.pid) return true;
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  return now - Date.parse(entry.at) < STALE_INFLIGHT_MS;
}

/**
 * A row whose key the journal holds for another number: the campaign gives two
 * rows one id. Reporting the other row's outcome would say a message went that
 * never did; sending it would break exactly-once for that id. Not sent.
 */
export function keyTakenByAnother(entry: JournalEntry, waId: string): RowResult | undefined {
  if (entry.to === undefined || entry.to === waId) return undefined;
  return { status: 'blocked', attempts: 0, reason: `duplicate_id: this row's id is already used in this campaign for +${entry.to}; not sent: give every row its own id` };
}

/** A row another run already resolved, as the results file reports it. */
export function journalOutcome(entry: JournalEntry): RowOutcome {
  const { at: _at, status, owner: _owner, written: _written, ...rest } = entry;
  return { ...rest, status: status === 'inflight' ? 'unknown' : status };
}

/** A row in flight: in another process that is alive (worth asking again), or left by a run that stopped. */
export function inflightOutcome(entry: JournalEntry, alive: boolean): RowOutcome {
  return alive
    ? { status: 'unknown', attempts: entry.attempts, busy: true, reason: 'in flight in another process' }
    : { status: 'unknown', attempts: entry.attempts, reason: 'in flight when an earlier run stopped: it may have been sent (see --resend-unknown)' };
}

