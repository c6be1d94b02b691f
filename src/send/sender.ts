import pLimit from 'p-limit';
import { codeInfo, type Action } from '../meta/codes.js';
import { consequenceOf, type ConsequenceChange, type StrikePolicy } from '../meta/consequences.js';
import { DAY_MS, pause } from '../time.js';
import type { Store } from '../store/store.js';
import { readAnswer, type Answer } from './attempt.js';
import type { MessagesClient } from './client.js';
import type { Journal, JournalRow, RowOutcome, RowResult } from './journal.js';
import { Pace, PairSpacing, backoff } from './pacing.js';
import { Watchdog, describeStop, type Stop } from './watchdog.js';

export type { Stop } from './watchdog.js';

export interface SendSettings extends StrikePolicy {
  mps: number;
  concurrency: number;
  maxAttempts: number;
  pairIntervalMs: number;
  phoneNumberId: string;
  /** --throttle-timeout: rate limits this long with no row settled by Meta stop the campaign. */
  throttleTimeoutMs: number;
}

/** One row to deliver, with the journal entry read for it. */
export interface Job extends JournalRow {
  body: Record<string, unknown>;
  /** name (language) of its template, to stop that template's rows when Meta refuses it. */
  template?: string;
}

/** Rate-limit answers to one row before it is left for the next run (a rate-limit answer is not the message's attempt). */
const MAX_SLOW_RETRIES = 20;
/** The longest wait under a claim (a pair limit's 4^n s beyond it defers the row): well within the claim's lease. */
const MAX_HELD_WAIT_MS = 60_000;

/** What to do after an answer that does not settle the row: wait and try again, or leave it with this outcome. */
type Next = { waitMs: number } | { outcome: RowOutcome };

/**
 * Delivers rows through the Cloud API exactly once: each row is claimed in the
 * journal before any wait, marked written (durably) just before its request,
 * and resolved after the answer, at the shared pace and with each user's
 * spacing. Every answer goes through the code table; what it says of the
 * recipient is written to the store with the row's outcome. Every wait ends
 * at once when the run is interrupted or the campaign stops; a row caught
 * waiting is left unsent for the next run.
 */
export class Sender {
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly pace: Pace;
  private readonly spacing: PairSpacing;
  private readonly watchdog: Watchdog;
  private readonly halt = new AbortController();
  private wasInterrupted = false;
  stopped: Stop | undefined;
  readonly stoppedTemplates = new Map<string, Stop>();
  readonly stats = { late_slots: 0, requests: 0, retries: 0, strikes: 0, blacklisted: 0, opted_out: 0, capped: 0, first_sent: 0, last_sent: 0, sent: 0 };

  constructor(private readonly client: MessagesClient, store: Store, private readonly journal: Journal, private readonly settings: SendSettings) {
    this.limit = pLimit(settings.concurrency);
    this.pace = new Pace(store, settings.phoneNumberId, settings.mps);
    this.spacing = new PairSpacing(settings.phoneNumberId, settings.pairIntervalMs);
    this.watchdog = new Watchdog(settings.throttleTimeoutMs, client.url);
  }

  /** Aborted when the run is interrupted or the campaign stops: every wait of the send path ends on it. */
  get signal(): AbortSignal {
    return this.halt.signal;
  }

  get interrupted(): boolean {
    return this.wasInterrupted;
  }

  /** An interrupt: no new rows are taken, waits end, requests in flight finish. */
  set interrupted(value: boolean) {
    this.wasInterrupted ||= value;
    if (value) this.halt.abort();
  }

  /** Stops the campaign (the first reason stands). */
  stop(stop: Stop): void {
    this.stopped ??= stop;
    this.halt.abort();
  }

  /** Messages actually accepted per second, from the first acceptance to the last. */
  get achievedMps(): number {
    const span = (this.stats.last_sent - this.stats.first_sent) / 1000;
    return span > 0 ? (this.stats.sent - 1) / span : 0;
  }

  get slowDowns(): number {
    return this.pace.slowDowns;
  }

  /** Delivers one row; never throws for what Meta answers, only for store failures. */
  deliver(job: Job): Promise<RowResult> {
    return this.limit(() => this.run(job));
  }

  private async run(job: Job): Promise<RowResult> {
    const skipped = this.notAttempted(job);
    if (skipped) return skipped;
    const claim = await this.journal.claim(job, this.spacing.forUser(job.waId));
    if ('outcome' in claim) return claim.outcome;
    if (claim.waitMs > 0 && !(await pause(claim.waitMs, this.signal))) return this.leave(job, claim.attempts);
    return this.attempt(job, claim.attempts);
  }

  /** A row not tried at all: the campaign or its template stopped, or the run was interrupted. */
  private notAttempted(job: Job): RowOutcome | undefined {
    if (this.stopped) return { status: 'deferred', attempts: 0, reason: `not attempted: the campaign stopped (${describeStop(this.stopped)}); run again to resume` };
    if (this.interrupted) return { status: 'deferred', attempts: 0, reason: 'not attempted: interrupted; run again to resume' };
    const stop = job.template === undefined ? undefined : this.stoppedTemplates.get(job.template);
    if (stop) return { status: 'failed', attempts: 0, code: stop.code, title: stop.title, reason: `not attempted: Meta refused template ${job.template} (${stop.code}); run again once it is fixed` };
    return undefined;
  }

  /** A claimed row caught by an interrupt or a stop before its request (or between tries): not sent, left for the next run. */
  private leave(job: Job, attempts: number): Promise<RowOutcome> {
    const why = this.stopped ? `the campaign stopped (${describeStop(this.stopped)})` : 'interrupted';
    return this.journal.resolve(job, { status: 'deferred', attempts, reason: `not sent: ${why} while it waited; run again to resume` });
  }

  /**
   * Requests until an answer settles the row: transient errors back off (up
   * to --max-attempts), rate limits slow the pace, the pair limit waits 4^n s.
   * `claimed`: attempts earlier runs made.
   */
  private async attempt(job: Job, claimed: number): Promise<RowResult> {
    let attempts = claimed;
    let slowRetries = 0;
    for (;;) {
      // Marked written just before the slot: from then on a crash leaves the row unknown.
      let mine = false;
      if (!(await this.slot(async () => { mine = await this.journal.written(job, attempts + 1); }))) return this.leave(job, attempts);
      if (!mine) return { status: 'unknown', attempts, busy: true, reason: 'in flight in another process' };
      attempts++;
      this.stats.requests++;
      const answer = readAnswer(await this.client.send({ ...job.body, biz_opaque_callback_data: job.key }));
      const stop = this.watchdog.observe(answer);
      if (stop) this.stop(stop);
      if (answer.action === 'slow') {
        this.pace.slowDown();
        attempts--; // a rate-limit answer is not the message's attempt
        slowRetries++;
      }
      if (answer.action !== 'retry' && answer.action !== 'slow' && answer.action !== 'pair') return this.settle(job, answer, attempts);
      if (this.signal.aborted) return this.leave(job, attempts);
      const next = this.next(answer, attempts, attempts - claimed, slowRetries);
      if ('outcome' in next) return this.journal.resolve(job, next.outcome);
      await this.journal.unwritten(job, attempts);
      this.stats.retries++;
      if (!(await pause(next.waitMs, this.signal))) return this.leave(job, attempts);
    }
  }

  /** The pace's next slot, `ready` run just before it; false when a stop or an interrupt ended the wait. */
  private async slot(ready: () => Promise<void>): Promise<boolean> {
    try {
      this.stats.late_slots += await this.pace.take(this.signal, ready);
      return true;
    } catch (err) {
      if (this.signal.aborted) return false;
      throw err;
    }
  }

  /**
   * After a retry, slow or pair answer: how long to wait, or the row's
   * outcome when it has had its tries. Only Meta's answers fail a row; one
   * the network gave, or a limit that lasted, leaves it for the next run.
   */
  private next(answer: Answer, attempts: number, tries: number, slowRetries: number): Next {
    if (answer.action === 'retry') {
      if (tries < this.settings.maxAttempts) return { waitMs: answer.retryAfterMs ?? backoff(attempts) };
      if (answer.code === undefined) {
        // Every try of this row went unanswered: the API cannot be reached.
        this.stop(this.watchdog.unreachable(answer));
        return { outcome: { status: 'deferred', attempts, title: answer.title, reason: `not sent: no answer after ${attempts} attempts (${answer.title}); run again to resume` } };
      }
      return { outcome: failed(answer, attempts, `gave up after ${attempts} attempts; --retry-failed sends it again`) };
    }
    if (answer.action === 'slow') {
      if (slowRetries <= MAX_SLOW_RETRIES) return { waitMs: answer.retryAfterMs ?? backoff(slowRetries) };
      return { outcome: { status: 'deferred', attempts, ...codeOf(answer), title: answer.title, reason: `not sent: still rate-limited after ${slowRetries} tries; run again to resume` } };
    }
    const waitMs = 4 ** tries * 1000;
    if (tries < this.settings.maxAttempts && waitMs <= MAX_HELD_WAIT_MS) return { waitMs };
    return { outcome: { status: 'deferred', attempts, ...codeOf(answer), title: answer.title, not_before: new Date(Date.now() + waitMs).toISOString(), reason: 'too many messages to this user; try again later' } };
  }

  /** The row's outcome for an answer that ends its attempts, with what it says of the recipient written to the store. */
  private async settle(job: Job, answer: Answer, attempts: number): Promise<RowOutcome> {
    switch (answer.action) {
      case 'accepted': {
        const now = Date.now();
        this.stats.first_sent ||= now;
        this.stats.last_sent = now;
        this.stats.sent++;
        return this.journal.resolve(job, { status: 'sent', wamid: answer.wamid, attempts, sent_at: new Date(now).toISOString() });
      }
      case 'undeliverable':
        return this.resolveMarked(job, answer, (change) => failed(answer, attempts, change === 'blacklisted' ? 'not on WhatsApp (or cannot receive): blacklisted' : `a strike (${this.settings.strikes} blacklist the number)`));
      case 'optout':
        return this.resolveMarked(job, answer, () => failed(answer, attempts, 'the user stopped marketing messages: recorded as an opt-out'));
      case 'capped': {
        const notBefore = new Date(Date.now() + DAY_MS).toISOString();
        return this.resolveMarked(job, answer, () => ({ status: 'deferred', attempts, code: answer.code!, title: answer.title, not_before: notBefore, reason: 'Meta capped marketing to this user: try again after not_before' }));
      }
      case 'recipient':
        return this.journal.resolve(job, failed(answer, attempts, 'Meta refused this message for this recipient'));
      case 'window':
        return this.journal.resolve(job, failed(answer, attempts, 'outside the 24h care window: send an approved template instead'));
      case 'template':
        if (answer.blamesRecipient) return this.journal.resolve(job, failed(answer, attempts, 'Meta refused the recipient number'));
        this.stopTemplate(job, answer);
        return this.journal.release(job, failed(answer, attempts, job.template !== undefined ? `Meta refused template ${job.template}; its rows were stopped` : 'Meta refused the message'));
      case 'stop':
        this.stop(stopOf(answer.code ?? 0, answer));
        return this.journal.release(job, failed(answer, attempts, 'the campaign stopped here; run again to resume'));
      default: // 'unknown' (retry, slow and pair never get here)
        return this.journal.resolve(job, { status: 'unknown', attempts, ...codeOf(answer), title: answer.title, reason: 'no clear answer: Meta may have accepted it; not re-sent (see --resend-unknown)' });
    }
  }

  /**
   * The row's outcome and what Meta's answer says of the recipient (a strike,
   * an opt-out, a cap), written in one transaction, journal and lists
   * together; counted in the stats.
   */
  private async resolveMarked(job: Job, answer: Answer, outcome: (change: ConsequenceChange) => RowOutcome): Promise<RowOutcome> {
    const consequence = consequenceOf(answer.action as Action)!;
    const now = new Date();
    const marking = { waId: job.waId, code: answer.code!, origin: 'send', at: now.toISOString(), now };
    const reads = consequence.reads.map((namespace) => ({ namespace, key: job.waId }));
    const settled = await this.journal.resolveWith(job, reads, (values) => {
      const { writes, change } = consequence.apply(marking, (namespace) => values[consequence.reads.indexOf(namespace)], this.settings);
      return { writes, outcome: outcome(change), result: change };
    });
    const change = settled.result;
    if (change === 'strike' || change === 'blacklisted') this.stats.strikes++;
    if (change === 'blacklisted') this.stats.blacklisted++;
    if (change === 'opted_out_of_marketing') this.stats.opted_out++;
    if (change === 'capped') this.stats.capped++;
    return settled.outcome;
  }

  /** Meta refused a template (or a message without one): stop that template's rows, or the campaign. */
  private stopTemplate(job: Job, answer: Answer): void {
    const stop = stopOf(answer.code ?? 100, answer);
    if (job.template !== undefined) this.stoppedTemplates.set(job.template, stop);
    else this.stop(stop);
  }
}

function failed(answer: Answer, attempts: number, reason: string): RowOutcome {
  return { status: 'failed', attempts, ...codeOf(answer), title: answer.title, reason };
}

function codeOf(answer: Answer): { code?: number } {
  return answer.code === undefined ? {} : { code: answer.code };
}

function stopOf(code: number, answer: Answer): Stop {
  const hint = codeInfo(code, answer.subcode).hint;
  return { code, title: answer.title, ...(hint ? { hint } : {}) };
}
