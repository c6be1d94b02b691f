import pLimit from 'p-limit';
import { blamesRecipient, codeInfo, type Action } from '../meta/codes.js';
import { MAX_LATE_MS, RATE_MARGIN, acquireToken, backoffMs } from '../store/rate.js';
import { CAPPED, UNDELIVERABLE_REASON, optOutWrite, recordStrike } from '../store/lists.js';
import type { Store } from '../store/store.js';
import type { MessagesClient, SendAnswer } from './client.js';
import { JOURNAL, JOURNAL_TTL_MS, WAMIDS, parseJournalEntry, type JournalEntry } from './journal.js';

export interface SendSettings {
  mps: number;
  concurrency: number;
  maxAttempts: number;
  pairIntervalMs: number;
  strikes: number;
  undeliverableTtlMs: number;
  phoneNumberId: string;
  resendUnknown: boolean;
}

/** One row to deliver. */
export interface Job {
  key: string;
  waId: string;
  body: Record<string, unknown>;
  /** name (language) of its template, to stop that template's rows when Meta refuses it. */
  template?: string;
}

/** What the results file says of a row. */
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

export interface Stop {
  code: number;
  title: string;
  hint?: string;
}

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;
/** Rate-limit answers are not the message's fault: they get more tries than --max-attempts. */
const MAX_SLOW_RETRIES = 20;
const DAY_MS = 86_400_000;
/** An inflight mark older than this was left by a run that died (requests time out well before). */
export const STALE_INFLIGHT_MS = 120_000;

/**
 * Delivers rows through the Cloud API exactly once: each row is claimed in the
 * journal (durably) before its request, and resolved after the answer. Pace:
 * a token bucket in the store per phone number id (shared by every process),
 * lowered on rate-limit answers and raised again while they stop; per-user
 * spacing, also in the store. Every answer goes through the code table.
 */
export class Sender {
  private readonly limit: ReturnType<typeof pLimit>;
  /** Messages per second now: --mps, halved on each rate-limit answer, recovering by a tenth a second. */
  private rate: number;
  private rateChangedAt = Date.now();
  stopped: Stop | undefined;
  interrupted = false;
  readonly stoppedTemplates = new Map<string, Stop>();
  readonly stats = { late_slots: 0, requests: 0, retries: 0, slow_downs: 0, strikes: 0, blacklisted: 0, opted_out: 0, capped: 0, first_sent: 0, last_sent: 0, sent: 0 };

  constructor(private readonly client: MessagesClient, private readonly store: Store, private readonly settings: SendSettings) {
    this.limit = pLimit(settings.concurrency);
    this.rate = settings.mps;
  }

  /** Messages actually accepted per second, from the first acceptance to the last. */
  get achievedMps(): number {
    const span = (this.stats.last_sent - this.stats.first_sent) / 1000;
    return span > 0 ? (this.stats.sent - 1) / span : 0;
  }

  /** Delivers one row; never throws for what Meta answers, only for store failures. */
  deliver(job: Job): Promise<RowResult> {
    return this.limit(() => this.run(job));
  }

  private notAttempted(): RowOutcome | undefined {
    if (this.stopped) return { status: 'deferred', attempts: 0, reason: `not attempted: the campaign stopped (${this.stopped.code} ${this.stopped.title}); run again to resume` };
    if (this.interrupted) return { status: 'deferred', attempts: 0, reason: 'not attempted: interrupted; run again to resume' };
    return undefined;
  }

  private async run(job: Job): Promise<RowResult> {
    const skip = this.notAttempted();
    if (skip) return skip;
    const stoppedTemplate = job.template === undefined ? undefined : this.stoppedTemplates.get(job.template);
    if (stoppedTemplate) {
      return { status: 'failed', attempts: 0, code: stoppedTemplate.code, title: stoppedTemplate.title, reason: `not attempted: Meta refused template ${job.template} (${stoppedTemplate.code}); run again once it is fixed` };
    }
    const claim = await this.claim(job);
    if ('outcome' in claim) return claim.outcome;
    if (claim.waitMs > 0) await sleep(claim.waitMs);

    let attempts = claim.attempts;
    let slowRetries = 0;
    for (;;) {
      const rate = this.currentRate();
      // Half the 1% margin pays for a small burst: after a stall (a slow disk
      // sync), the bucket catches up instead of losing the slots that passed;
      // the other half absorbs timer lateness.
      const burst = 1 + Math.floor((rate * (1 - RATE_MARGIN)) / 2);
      this.stats.late_slots += await acquireToken(() => this.store.takeToken(`messages:${this.settings.phoneNumberId}`, rate * RATE_MARGIN, burst), MAX_LATE_MS);
      attempts++;
      this.stats.requests++;
      const answer = await this.client.send({ ...job.body, biz_opaque_callback_data: job.key });
      const action = classify(answer);
      if (action === 'accepted') {
        const a = answer as Extract<SendAnswer, { kind: 'accepted' }>;
        const now = Date.now();
        this.stats.first_sent ||= now;
        this.stats.last_sent = now;
        this.stats.sent++;
        return this.resolve(job, { status: 'sent', wamid: a.wamid, attempts, sent_at: new Date(now).toISOString() });
      }
      const code = answer.kind === 'error' ? answer.code : undefined;
      const title = answer.kind === 'error' ? codeInfo(answer.code).title : answer.kind === 'transport' ? answer.message : '';
      const failed = (reason: string): RowOutcome => ({ status: 'failed', attempts, ...(code === undefined ? {} : { code }), title, reason });
      const retryAfterMs = answer.kind === 'transport' || answer.kind === 'error' ? answer.retryAfterMs : undefined;

      switch (action) {
        case 'retry':
          if (attempts - claim.attempts >= this.settings.maxAttempts) return this.resolve(job, failed(`gave up after ${attempts} attempts`));
          this.stats.retries++;
          await sleep(retryAfterMs ?? backoff(attempts));
          continue;
        case 'slow':
          this.slowDown();
          if (++slowRetries > MAX_SLOW_RETRIES) return this.resolve(job, failed(`still rate-limited after ${slowRetries} tries`));
          this.stats.retries++;
          attempts--; // a rate-limit answer is not the message's attempt
          await sleep(retryAfterMs ?? backoff(slowRetries));
          continue;
        case 'pair': {
          const waitMs = 4 ** (attempts - claim.attempts) * 1000;
          if (attempts - claim.attempts >= this.settings.maxAttempts) {
            return this.resolve(job, { status: 'deferred', attempts, code: code!, title, not_before: new Date(Date.now() + waitMs).toISOString(), reason: 'too many messages to this user; try again later' });
          }
          this.stats.retries++;
          await sleep(waitMs);
          continue;
        }
        case 'undeliverable': {
          this.stats.strikes++;
          const listed = await recordStrike(this.store, { waId: job.waId, reason: UNDELIVERABLE_REASON, source: 'send', ttlMs: this.settings.undeliverableTtlMs }, this.settings.strikes, new Date());
          if (listed) this.stats.blacklisted++;
          return this.resolve(job, failed(listed ? 'not on WhatsApp (or cannot receive): blacklisted' : `a strike (${this.settings.strikes} blacklist the number)`));
        }
        case 'recipient':
          return this.resolve(job, failed('Meta refused this message for this recipient'));
        case 'window':
          return this.resolve(job, failed('outside the 24h care window: send an approved template instead'));
        case 'optout':
          this.stats.opted_out++;
          await this.store.transact([], () => ({ writes: [optOutWrite({ waId: job.waId, source: 'send:131050', scope: 'marketing' }, new Date().toISOString())], result: undefined }));
          return this.resolve(job, failed('the user stopped marketing messages: recorded as an opt-out'));
        case 'capped': {
          this.stats.capped++;
          const now = new Date();
          await this.store.set(CAPPED, [{ key: job.waId, value: now.toISOString(), ttlMs: DAY_MS }]);
          return this.resolve(job, { status: 'deferred', attempts, code: code!, title, not_before: new Date(now.getTime() + DAY_MS).toISOString(), reason: 'Meta capped marketing to this user: try again after not_before' });
        }
        case 'template': {
          if (code !== undefined && answer.kind === 'error' && blamesRecipient(code, answer.details)) return this.resolve(job, failed('Meta refused the recipient number'));
          const info = codeInfo(code ?? 100);
          if (job.template !== undefined) this.stoppedTemplates.set(job.template, { code: code ?? 100, title, ...(info.hint ? { hint: info.hint } : {}) });
          else this.stopped ??= { code: code ?? 100, title, ...(info.hint ? { hint: info.hint } : {}) };
          return this.release(job, failed(job.template !== undefined ? `Meta refused template ${job.template}; its rows were stopped` : 'Meta refused the message'));
        }
        case 'stop':
          this.stopped ??= { code: code ?? 0, title, ...(codeInfo(code ?? 0).hint ? { hint: codeInfo(code ?? 0).hint! } : {}) };
          return this.release(job, failed('the campaign stopped here; run again to resume'));
        case 'unknown':
          return this.resolve(job, { status: 'unknown', attempts, ...(code === undefined ? {} : { code }), title, reason: 'no clear answer: Meta may have accepted it; not re-sent (see --resend-unknown)' });
      }
    }
  }

  private currentRate(): number {
    const now = Date.now();
    if (this.rate < this.settings.mps && now - this.rateChangedAt >= 1000) {
      this.rate = Math.min(this.settings.mps, this.rate + Math.max(1, this.settings.mps / 10));
      this.rateChangedAt = now;
    }
    return this.rate;
  }

  private slowDown(): void {
    const now = Date.now();
    // One halving per burst of rate-limit answers, not one per message in flight.
    if (now - this.rateChangedAt < 500 && this.rate < this.settings.mps) return;
    this.rate = Math.max(1, this.rate / 2);
    this.rateChangedAt = now;
    this.stats.slow_downs++;
  }

  /**
   * Claims the row in the journal before any request, with the user's spacing:
   * absent, or deferred and due, or unknown with --resend-unknown. Otherwise
   * the journal already says what became of it (or another process has it).
   */
  private async claim(job: Job): Promise<{ attempts: number; waitMs: number } | { outcome: RowResult }> {
    const pairKey = `${this.settings.phoneNumberId}:${job.waId}`;
    return this.store.transact<{ attempts: number; waitMs: number } | { outcome: RowResult }>([{ namespace: JOURNAL, key: job.key }, { namespace: 'pair', key: pairKey }], ([value, pairValue]) => {
      const now = Date.now();
      const before = value === undefined ? undefined : parseJournalEntry(value);
      const taken = before && keyTakenByAnother(before, job.waId);
      if (taken) return { writes: [], result: { outcome: taken } };
      const due = !before
        || (before.status === 'deferred' && !(Date.parse(before.not_before ?? '') > now))
        || (before.status === 'unknown' && this.settings.resendUnknown)
        || (before.status === 'inflight' && this.settings.resendUnknown && !(now - Date.parse(before.at) < STALE_INFLIGHT_MS));
      if (!before || due) {
        const next = Math.max(now, Number(pairValue ?? 0) || 0);
        const entry: JournalEntry = { status: 'inflight', attempts: before?.attempts ?? 0, at: new Date(now).toISOString(), to: job.waId };
        return {
          writes: [
            { namespace: JOURNAL, key: job.key, value: JSON.stringify(entry), ttlMs: JOURNAL_TTL_MS },
            { namespace: 'pair', key: pairKey, value: String(next + this.settings.pairIntervalMs), ttlMs: this.settings.pairIntervalMs + 60_000 },
          ],
          result: { attempts: entry.attempts, waitMs: next - now },
        };
      }
      return { writes: [], result: { outcome: journalOutcome(before, now) } };
    });
  }

  /**
   * Writes the row's final state (and its wamid, for webhooks). Committed, not
   * yet synced: the claim already on disk keeps a power cut from sending it
   * twice, and the command syncs the store before it reports the run.
   */
  private async resolve(job: Job, outcome: RowOutcome): Promise<RowOutcome> {
    const entry: JournalEntry = { ...outcome, at: new Date().toISOString(), to: job.waId };
    await this.store.transact([], () => ({
      writes: [
        { namespace: JOURNAL, key: job.key, value: JSON.stringify(entry), ttlMs: JOURNAL_TTL_MS },
        ...(outcome.wamid ? [{ namespace: WAMIDS, key: outcome.wamid, value: job.key, ttlMs: JOURNAL_TTL_MS }] : []),
      ],
      result: undefined,
    }), { durable: false });
    return outcome;
  }

  /** Meta refused the message for a reason that is not the row's: forget the claim so a re-run sends it. */
  private async release(job: Job, outcome: RowOutcome): Promise<RowOutcome> {
    await this.store.delete(JOURNAL, [job.key]);
    return outcome;
  }
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
export function journalOutcome(entry: JournalEntry, now: number): RowOutcome {
  if (entry.status === 'inflight') {
    return now - Date.parse(entry.at) < STALE_INFLIGHT_MS
      ? { status: 'unknown', attempts: entry.attempts, busy: true, reason: 'in flight in another process' }
      : { status: 'unknown', attempts: entry.attempts, reason: 'in flight when an earlier run stopped: it may have been sent (see --resend-unknown)' };
  }
  const { at: _at, status, ...rest } = entry;
  return { status, ...rest };
}

type Classified = Action | 'accepted';

/** An answer as one action of the code table; transport failures by whether the request may have arrived. */
export function classify(answer: SendAnswer): Classified {
  if (answer.kind === 'accepted') return 'accepted';
  if (answer.kind === 'error') {
    const action = codeInfo(answer.code).action;
    if (answer.http === 429 && action === 'recipient') return 'slow';
    // A server error with Meta's body but no code of its own meaning: Meta did not take the message.
    if (answer.http >= 500 && action === 'recipient') return 'retry';
    return action;
  }
  if (answer.http === 429) return 'slow';
  return answer.written ? 'unknown' : 'retry';
}

function backoff(attempt: number): number {
  return backoffMs(attempt, BACKOFF_BASE_MS, BACKOFF_CAP_MS);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
