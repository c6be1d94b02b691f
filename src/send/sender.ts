import pLimit from 'p-limit';
import { codeInfo, type Action } from '../meta/codes.js';
import { consequenceOf, type ConsequenceChange, type StrikePolicy } from '../meta/consequences.js';
import { DAY_MS } from '../time.js';
import type { Store } from '../store/store.js';
import { readAnswer, type Answer } from './attempt.js';
import type { MessagesClient } from './client.js';
import type { Journal, JournalRow, RowOutcome, RowResult } from './journal.js';
import { Pace, PairSpacing, backoff, sleep } from './pacing.js';

export interface SendSettings extends StrikePolicy {
  mps: number;
  concurrency: number;
  maxAttempts: number;
  pairIntervalMs: number;
  phoneNumberId: string;
}

/** One row to deliver, with the journal entry read for it. */
export interface Job extends JournalRow {
  body: Record<string, unknown>;
  /** name (language) of its template, to stop that template's rows when Meta refuses it. */
  template?: string;
}

export interface Stop {
  code: number;
  title: string;
  hint?: string;
}

/** Rate-limit answers are not the message's fault: they get more tries than --max-attempts. */
const MAX_SLOW_RETRIES = 20;

/**
 * Delivers rows through the Cloud API exactly once: each row is claimed in the
 * journal (durably) before its request, and resolved after the answer, at the
 * shared pace and with each user's spacing. Every answer goes through the code
 * table; what it says of the recipient is written to the store.
 */
export class Sender {
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly pace: Pace;
  private readonly spacing: PairSpacing;
  stopped: Stop | undefined;
  interrupted = false;
  readonly stoppedTemplates = new Map<string, Stop>();
  readonly stats = { late_slots: 0, requests: 0, retries: 0, strikes: 0, blacklisted: 0, opted_out: 0, capped: 0, first_sent: 0, last_sent: 0, sent: 0 };

  constructor(private readonly client: MessagesClient, private readonly store: Store, private readonly journal: Journal, private readonly settings: SendSettings) {
    this.limit = pLimit(settings.concurrency);
    this.pace = new Pace(store, settings.phoneNumberId, settings.mps);
    this.spacing = new PairSpacing(settings.phoneNumberId, settings.pairIntervalMs);
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
    if (claim.waitMs > 0) await sleep(claim.waitMs);
    return this.attempt(job, claim.attempts);
  }

  /** A row not tried at all: the campaign or its template stopped, or the run was interrupted. */
  private notAttempted(job: Job): RowOutcome | undefined {
    if (this.stopped) return { status: 'deferred', attempts: 0, reason: `not attempted: the campaign stopped (${this.stopped.code} ${this.stopped.title}); run again to resume` };
    if (this.interrupted) return { status: 'deferred', attempts: 0, reason: 'not attempted: interrupted; run again to resume' };
    const stop = job.template === undefined ? undefined : this.stoppedTemplates.get(job.template);
    if (stop) return { status: 'failed', attempts: 0, code: stop.code, title: stop.title, reason: `not attempted: Meta refused template ${job.template} (${stop.code}); run again once it is fixed` };
    return undefined;
  }

  /**
   * Requests until an answer settles the row: transient errors back off (up
   * to --max-attempts), rate limits slow the pace, the pair limit waits 4^n s.
   * `claimed`: attempts earlier runs made.
   */
  private async attempt(job: Job, claimed: number): Promise<RowOutcome> {
    let attempts = claimed;
    let slowRetries = 0;
    for (;;) {
      this.stats.late_slots += await this.pace.take();
      attempts++;
      this.stats.requests++;
      const answer = readAnswer(await this.client.send({ ...job.body, biz_opaque_callback_data: job.key }));
      const tries = attempts - claimed;
      let waitMs: number;
      if (answer.action === 'retry') {
        if (tries >= this.settings.maxAttempts) return this.journal.resolve(job, failed(answer, attempts, `gave up after ${attempts} attempts`));
        waitMs = answer.retryAfterMs ?? backoff(attempts);
      } else if (answer.action === 'slow') {
        this.pace.slowDown();
        if (++slowRetries > MAX_SLOW_RETRIES) return this.journal.resolve(job, failed(answer, attempts, `still rate-limited after ${slowRetries} tries`));
        attempts--; // a rate-limit answer is not the message's attempt
        waitMs = answer.retryAfterMs ?? backoff(slowRetries);
      } else if (answer.action === 'pair') {
        waitMs = 4 ** tries * 1000;
        if (tries >= this.settings.maxAttempts) {
          return this.journal.resolve(job, { status: 'deferred', attempts, code: answer.code!, title: answer.title, not_before: new Date(Date.now() + waitMs).toISOString(), reason: 'too many messages to this user; try again later' });
        }
      } else {
        return this.settle(job, answer, attempts);
      }
      this.stats.retries++;
      await sleep(waitMs);
    }
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
      case 'undeliverable': {
        const listed = (await this.markRecipient(job, answer, new Date())) === 'blacklisted';
        return this.journal.resolve(job, failed(answer, attempts, listed ? 'not on WhatsApp (or cannot receive): blacklisted' : `a strike (${this.settings.strikes} blacklist the number)`));
      }
      case 'optout':
        await this.markRecipient(job, answer, new Date());
        return this.journal.resolve(job, failed(answer, attempts, 'the user stopped marketing messages: recorded as an opt-out'));
      case 'capped': {
        const now = new Date();
        await this.markRecipient(job, answer, now);
        const notBefore = new Date(now.getTime() + DAY_MS).toISOString();
        return this.journal.resolve(job, { status: 'deferred', attempts, code: answer.code!, title: answer.title, not_before: notBefore, reason: 'Meta capped marketing to this user: try again after not_before' });
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
        this.stopped ??= stopOf(answer.code ?? 0, answer.title);
        return this.journal.release(job, failed(answer, attempts, 'the campaign stopped here; run again to resume'));
      default: // 'unknown' (retry, slow and pair never get here)
        return this.journal.resolve(job, { status: 'unknown', attempts, ...(answer.code === undefined ? {} : { code: answer.code }), title: answer.title, reason: 'no clear answer: Meta may have accepted it; not re-sent (see --resend-unknown)' });
    }
  }

  /** Writes what Meta's answer says of the recipient (a strike, an opt-out, a cap), counted in the stats. */
  private async markRecipient(job: Job, answer: Answer, now: Date): Promise<ConsequenceChange> {
    const consequence = consequenceOf(answer.action as Action)!;
    const marking = { waId: job.waId, code: answer.code!, origin: 'send', at: now.toISOString(), now };
    const reads = consequence.reads.map((namespace) => ({ namespace, key: job.waId }));
    const change = await this.store.transact(reads, (values) => {
      const { writes, change } = consequence.apply(marking, (namespace) => values[consequence.reads.indexOf(namespace)], this.settings);
      return { writes, result: change };
    });
    if (change === 'strike' || change === 'blacklisted') this.stats.strikes++;
    if (change === 'blacklisted') this.stats.blacklisted++;
    if (change === 'opted_out_of_marketing') this.stats.opted_out++;
    if (change === 'capped') this.stats.capped++;
    return change;
  }

  /** Meta refused a template (or a message without one): stop that template's rows, or the campaign. */
  private stopTemplate(job: Job, answer: Answer): void {
    const stop = stopOf(answer.code ?? 100, answer.title);
    if (job.template !== undefined) this.stoppedTemplates.set(job.template, stop);
    else this.stopped ??= stop;
  }
}

function failed(answer: Answer, attempts: number, reason: string): RowOutcome {
  return { status: 'failed', attempts, ...(answer.code === undefined ? {} : { code: answer.code }), title: answer.title, reason };
}

function stopOf(code: number, title: string): Stop {
  const hint = codeInfo(code).hint;
  return { code, title, ...(hint ? { hint } : {}) };
}
