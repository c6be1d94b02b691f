import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Store, StoreKey, StoreWrite } from '../store/store.js';
import { pause } from '../time.js';
import { DAMAGED_ENTRY, SELF, inflightOutcome, journalOutcome, ownerAlive, rowStanding, type Standing } from './standing.js';
import type { Namespace } from '../store/schema.js';

/** Namespace of the send journal: `<campaign id>:<row key>` -> JournalEntry. */
export const JOURNAL = 'journal' satisfies Namespace;
/** wamid -> journal key, so a status webhook without our callback data still finds its row. */
export const WAMIDS = 'wamids' satisfies Namespace;
/** How long a campaign's journal is kept: long enough to resume, re-run and reconcile late webhooks. */
export const JOURNAL_TTL_MS = 90 * 86_400_000;
/** How long to wait for a row another process is sending before reporting it as unknown. */
const BUSY_WAIT_MS = 40_000;
const BUSY_POLL_MS = 250;

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
  /** inflight: the process holding the claim, `<host>:<pid>`. */
  owner?: string;
  /** inflight: its request may have left (marked just before it is handed to the HTTP client); absent: claimed only, never sent. */
  written?: boolean;
}

/** What the results file says of a delivered row (and what the journal keeps of it). */
export interface RowOutcome {
  status: 'sent' | 'failed' | 'deferred' | 'unknown';
  wamid?: string;
  code?: number;
  title?: string;
  attempts: number;
  sent_at?: string;
  not_before?: string;
  reason?: string;
  /** Claimed by another process right now: worth asking the journal again shortly. */
  busy?: boolean;
}

/** A row's outcome, or 'blocked': not sent because the journal holds its key for another number. */
export type RowResult = RowOutcome | (Omit<RowOutcome, 'status'> & { status: 'blocked' });

const JOURNAL_STATUSES: readonly JournalStatus[] = ['inflight', 'sent', 'failed', 'deferred', 'unknown'];

export function journalKey(campaignId: string, rowKey: string): string {
  return `${campaignId}:${rowKey}`;
}

/** The checksum of an entry's JSON (whatever fields it has), stored with it as `sum`. */
function checksum(json: string): string {
  return createHash('sha256').update(json).digest('hex').slice(0, 16);
}

/** An entry as it is stored: its JSON with a checksum of every other field as its last field. */
export function journalValue(entry: JournalEntry): string {
  const { sum: _old, ...fields } = entry as JournalEntry & { sum?: unknown };
  const json = JSON.stringify(fields);
  return `${json.slice(0, -1)}${json.length > 2 ? ',' : ''}"sum":"${checksum(json)}"}`;
}

/**
 * A stored entry, checked; a damaged one (not JSON, not an entry, or failing
 * its checksum) reads as unknown: it may have been sent, so it is never sent
 * blindly again. Entries written before checksums (no `sum`) are read as they are.
 */
export function parseJournalEntry(value: string): JournalEntry {
  let e: Partial<JournalEntry> & { sum?: unknown } = {};
  try {
    e = JSON.parse(value) as Partial<JournalEntry>;
  } catch { /* damaged */ }
  const damaged: JournalEntry = { status: 'unknown', attempts: 0, at: '', reason: DAMAGED_ENTRY };
  if (!e || typeof e !== 'object' || !JOURNAL_STATUSES.includes(e.status as JournalStatus)) return damaged;
  if ('sum' in e) {
    const { sum, ...fields } = e;
    if (sum !== checksum(JSON.stringify(fields))) return damaged;
  }
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
    ...(text(e.owner) ? { owner: e.owner } : {}),
    ...(e.written === true ? { written: true } : {}),
  };
}

/** The default campaign id: a hash of the file's bytes, so re-running the same file resumes it. */
export async function fileCampaignId(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const part of createReadStream(path)) hash.update(part as Buffer);
  return hash.digest('hex').slice(0, 16);
}

/** A row as the journal knows it: its key, its recipient, and the entry read for it before the gate decided (undefined: none). */
export interface JournalRow {
  key: string;
  waId: string;
  seen: string | undefined;
}

/** Another store entry written in the claim's transaction (the user's pair spacing): given its value, the write and the wait. */
export interface ClaimSidecar {
  read: StoreKey;
  book(value: string | undefined, now: number): { write: StoreWrite; waitMs: number };
}

export type Claim = { attempts: number; waitMs: number } | { outcome: RowResult };

/** Entries kept beside a row's final state (the lifecycle of a campaign's message). */
export interface Besides {
  reads: StoreKey[];
  writes(outcome: RowOutcome, values: readonly (string | undefined)[]): StoreWrite[];
}

/**
 * The send journal of one campaign: the only reader and writer of its
 * namespace and the wamid index. Each row is claimed before its request,
 * marked written (durably) just before the request is handed to the HTTP
 * client, and resolved after the answer, so no row is sent twice, even by two
 * processes at once, and a row whose request never left is sent on resume.
 */
export class Journal {
  /** The entry this process last wrote for each row it holds: a written mark checks nobody took the row over since. */
  private readonly held = new Map<string, string>();

  constructor(private readonly store: Store, private readonly campaignId: string, private readonly options: { resendUnknown: boolean; retryFailed?: boolean }) {}

  key(rowKey: string): string {
    return journalKey(this.campaignId, rowKey);
  }

  /** The entries of a chunk's rows, in one read: what the send path decides from. */
  read(keys: readonly string[]): Promise<(string | undefined)[]> {
    return this.store.get(JOURNAL, keys);
  }

  standing(value: string | undefined, waId: string | undefined, now: number): Standing {
    return rowStanding(value === undefined ? undefined : parseJournalEntry(value), waId, now, this.options.resendUnknown, this.options);
  }

  /**
   * Claims the row before any wait or request, with the sidecar's write in the
   * same transaction. Judged again now from the entry already read (a deferral
   * may have come due while the row queued); the transaction only checks that
   * no other process wrote the entry since, and judges what it wrote if one
   * did. Not synced: a claim lost in a crash was never sent.
   */
  async claim(row: JournalRow, sidecar: ClaimSidecar): Promise<Claim> {
    const standing = this.standing(row.seen, row.waId, Date.now());
    if (standing.kind !== 'claimable') return { outcome: standing.outcome };
    return this.store.transact<Claim>([{ namespace: JOURNAL, key: row.key }, sidecar.read], ([value, sidecarValue]) => {
      const now = Date.now();
      if (value !== row.seen) {
        const changed = this.standing(value, row.waId, now);
        if (changed.kind !== 'claimable') return { writes: [], result: { outcome: changed.outcome } };
      }
      const attempts = value === undefined ? 0 : parseJournalEntry(value).attempts;
      const { write, waitMs } = sidecar.book(sidecarValue, now);
      return { writes: [this.hold(row, attempts, false, now), write], result: { attempts, waitMs } };
    }, { durable: false });
  }

  /**
   * Marks the held row written, synced, just before its request is handed to
   * the HTTP client: from here a crash leaves it unknown. False when another
   * process took the row over (it judged this one dead): then it is not sent.
   */
  written(row: JournalRow, attempts: number): Promise<boolean> {
    return this.store.transact([{ namespace: JOURNAL, key: row.key }], ([value]) => {
      if (value !== this.held.get(row.key)) return { writes: [], result: false };
      return { writes: [this.hold(row, attempts, true, Date.now())], result: true };
    });
  }

  /** Meta answered that it did not take the message (a rate limit, a retryable error): held again as claimed only, not written. */
  async unwritten(row: JournalRow, attempts: number): Promise<void> {
    await this.store.transact([], () => ({ writes: [this.hold(row, attempts, false, Date.now())], result: undefined }), { durable: false });
  }

  /** The write of the row's inflight entry, remembered as held. */
  private hold(row: JournalRow, attempts: number, written: boolean, now: number): StoreWrite {
    const entry: JournalEntry = { status: 'inflight', attempts, at: new Date(now).toISOString(), to: row.waId, owner: SELF, ...(written ? { written } : {}) };
    const value = journalValue(entry);
    this.held.set(row.key, value);
    return { namespace: JOURNAL, key: row.key, value, ttlMs: JOURNAL_TTL_MS };
  }

  /**
   * Writes the row's final state (and its wamid, for webhooks). Committed, not
   * yet synced: the written mark already on disk keeps a power cut from
   * sending it twice, and the command syncs the store before it reports the run.
   */
  async resolve(row: JournalRow, outcome: RowOutcome): Promise<RowOutcome> {
    const besides = this.besides(row);
    await this.store.transact(besides?.reads ?? [], (values) => ({ writes: [...this.final(row, outcome), ...(besides?.writes(outcome, values) ?? [])], result: undefined }), { durable: false });
    return outcome;
  }

  /**
   * The row's final state decided together with what its answer writes of the
   * recipient (a strike, the blacklist), from the entries `reads` names, in
   * one synced transaction: no reader sees the one without the other.
   */
  async resolveWith<T>(row: JournalRow, reads: StoreKey[], decide: (values: readonly (string | undefined)[]) => { outcome: RowOutcome; writes: StoreWrite[]; result: T }): Promise<{ outcome: RowOutcome; result: T }> {
    const besides = this.besides(row);
    return this.store.transact([...reads, ...(besides?.reads ?? [])], (values) => {
      const { outcome, writes, result } = decide(values.slice(0, reads.length));
      return { writes: [...writes, ...this.final(row, outcome), ...(besides?.writes(outcome, values.slice(reads.length)) ?? [])], result: { outcome, result } };
    });
  }

  /** What a subclass keeps beside a row's final state, in the same transaction: the entries it reads, and its writes from them. */
  protected besides(_row: JournalRow): Besides | undefined {
    return undefined;
  }

  /** The writes of a row's final state: its entry, and its wamid's. */
  private final(row: JournalRow, outcome: RowOutcome): StoreWrite[] {
    this.held.delete(row.key);
    const { busy: _busy, ...rest } = outcome;
    const entry: JournalEntry = { ...rest, at: new Date().toISOString(), to: row.waId };
    return [
      { namespace: JOURNAL, key: row.key, value: journalValue(entry), ttlMs: JOURNAL_TTL_MS },
      ...(outcome.wamid ? [{ namespace: WAMIDS, key: outcome.wamid, value: row.key, ttlMs: JOURNAL_TTL_MS }] : []),
    ];
  }

  /** Meta refused the message for a reason that is not the row's: forget the claim so a re-run sends it. */
  async release(row: JournalRow, outcome: RowOutcome): Promise<RowOutcome> {
    this.held.delete(row.key);
    await this.store.delete(JOURNAL, [row.key]);
    return outcome;
  }

  /**
   * A row another process is sending: ask again until it says how it ended,
   * the process is gone, or `signal` (an interrupt, the campaign stopped)
   * ends the wait; else report it as unknown.
   */
  async awaitOther(key: string, busy: RowResult, signal?: AbortSignal): Promise<RowResult> {
    const until = Date.now() + BUSY_WAIT_MS;
    while (Date.now() < until && await pause(BUSY_POLL_MS, signal)) {
      const [value] = await this.store.get(JOURNAL, [key]);
      if (value === undefined) return { status: 'deferred', attempts: 0, reason: 'not sent: another process released it; run again' };
      const entry = parseJournalEntry(value);
      if (entry.status !== 'inflight') return journalOutcome(entry);
      if (!ownerAlive(entry, Date.now())) {
        return entry.owner !== undefined && !entry.written
          ? { status: 'deferred', attempts: entry.attempts, reason: 'not sent: the process that claimed it stopped before sending; run again to resume' }
          : inflightOutcome(entry, false);
      }
    }
    return { ...busy, busy: false };
  }
}
