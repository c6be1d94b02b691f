import pLimit from 'p-limit';
import type { Store, StoreWrite } from '../store/store.js';
import { MAX_LATE_MS, RATE_MARGIN, acquireToken, backoffMs } from '../store/rate.js';
import { BLACKLIST, blacklistWrite } from '../store/lists.js';
import { cachedStatusValue, cachedStatusWrite } from '../store/status-cache.js';
import { CliError, InterruptedError } from '../errors.js';
import { AuthError, RetryableError, type ContactAnswer, type ContactsClient } from './client.js';


export type CheckOutcome =
  | { status: 'valid'; waId: string }
  | { status: 'invalid' }
  | { status: 'unverified'; detail: string };

/** How numbers are batched, paced, budgeted and cached (from the command line). */
export interface BatchSettings {
  batchSize: number;
  rate: number;
  burst: number;
  concurrency: number;
  maxChecks: number;
  ttlMs: { valid: number; invalid: number };
}

export interface VerifierOptions extends BatchSettings {
  /** Attempts per batch before its numbers are left unverified. */
  attempts: number;
  /** Where answers come from, for the cache and the blacklist (e.g. contacts:host:port). */
  source: string;
  signal?: AbortSignal;
}

export interface VerifierStats {
  requests: number;
  numbers_checked: number;
  retries: number;
  over_budget: number;
  unresolved: number;
  /** Requests beyond the burst a second, from the first request to the last (see `stats`). */
  requests_per_second: number;
}

interface Waiting {
  e164: string;
  attempts: number;
  resolve: (outcome: CheckOutcome) => void;
  reject: (err: Error) => void;
}

const PROCESSING_RETRY_MS = 1000;
const PROCESSING_ATTEMPTS = 5;
const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 30_000;
/** Tries before an endpoint that never answered and cannot be connected to ends the run (a second or two). */
const UNREACHABLE_ATTEMPTS = 3;
const MALFORMED_ATTEMPTS = 2;

/**
 * Checks numbers against /contacts in full batches, paced by the store's token
 * bucket and a bound on requests in flight. Answers are written to the status
 * cache (and invalid numbers to the blacklist) as they arrive, so a killed run
 * loses nothing it paid for.
 */
export class Verifier {
  private open: Waiting[] = [];
  /** Sequence number of the open (not yet sent) batch. */
  batchSeq = 0;
  private readonly limit: ReturnType<typeof pLimit>;
  private failure: Error | undefined;
  /** Whether any request got an answer: until one does, an unreachable endpoint is a wrong URL. */
  private answered = false;
  private sent = 0;
  private firstRequestAt = 0;
  private lastRequestAt = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly counts = { requests: 0, numbers_checked: 0, retries: 0, over_budget: 0, unresolved: 0 };

  constructor(private readonly client: ContactsClient, private readonly store: Store, private readonly options: VerifierOptions) {
    this.limit = pLimit(options.concurrency);
  }

  /**
   * The pace as the limit is defined: a token bucket lets `burst` requests go
   * at once and `rate` a second after them, so requests beyond the burst over
   * the span from the first to the last. Never over --rate while pacing works;
   * requests over their span would be (33/s for 48 requests at --rate 20, burst
   * 20: the first 20 went at once). The span starts when the first request
   * asked the bucket. 0 when every request fit in the burst.
   */
  get stats(): VerifierStats {
    const span = (this.lastRequestAt - this.firstRequestAt) / 1000;
    const beyondBurst = this.counts.requests - Math.max(1, this.options.burst);
    return { ...this.counts, requests_per_second: span > 0 && beyondBurst > 0 ? beyondBurst / span : 0 };
  }

  /** Resolves with the number's status once its batch is answered. */
  check(e164: string): Promise<CheckOutcome> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.sent >= this.options.maxChecks) {
      this.counts.over_budget++;
      return Promise.resolve({ status: 'unverified', detail: 'over the --max-checks budget' });
    }
    this.sent++;
    return new Promise((resolve, reject) => {
      this.enqueue({ e164, attempts: 0, resolve, reject });
    });
  }

  private enqueue(item: Waiting): void {
    this.open.push(item);
    if (this.open.length >= this.options.batchSize) this.flush();
  }

  /** Sends the open batch even if it is not full (at the end of the input, or when the writer waits on it). */
  flush(): void {
    if (this.open.length === 0) return;
    const batch = this.open;
    this.open = [];
    this.batchSeq++;
    void this.limit(() => this.send(batch)).catch((err: Error) => this.fail(err));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const item of this.open) item.reject(this.failure);
    this.open = [];
  }

  private async send(batch: Waiting[]): Promise<void> {
    try {
      await this.sendOnce(batch);
    } catch (err) {
      // Whatever failed (the endpoint, the store, the rate limiter), nobody waits forever.
      for (const item of batch) item.reject(err as Error);
      throw err;
    }
  }

  private async sendOnce(batch: Waiting[]): Promise<void> {
    let answers: ContactAnswer[] | undefined;
    for (let attempt = 1; ; attempt++) {
      if (this.failure) throw this.failure;
      const { rate, burst, source, signal } = this.options;
      // The span starts when the first request asks the bucket, whose clock books every later one: its
      // own start can come tens of ms later on a busy machine (the store's first write), which would
      // shorten the span and read the pace over the rate.
      this.firstRequestAt ||= Date.now();
      await acquireToken(() => this.store.takeToken(`contacts:${source}`, rate * RATE_MARGIN, burst), MAX_LATE_MS, signal);
      this.lastRequestAt = Date.now();
      this.counts.requests++;
      try {
        answers = await this.client.check(batch.map((w) => w.e164), this.options.signal);
        break;
      } catch (err) {
        if (err instanceof AuthError || !(err instanceof RetryableError)) throw err;
        // Nothing answered yet and nothing listens there: a wrong URL, not a bad moment.
        if (err.kind === 'unreachable' && !this.answered && attempt >= UNREACHABLE_ATTEMPTS) {
          throw new CliError(`cannot reach the /contacts endpoint at ${this.client.endpoint}: ${err.message}`);
        }
        // An answer that cannot be trusted is asked once more, not ten times: it tends to repeat.
        if (attempt >= (err.kind === 'malformed' ? MALFORMED_ATTEMPTS : this.options.attempts)) {
          this.counts.unresolved += batch.length;
          for (const item of batch) item.resolve({ status: 'unverified', detail: `the /contacts endpoint kept failing: ${err.message}` });
          return;
        }
        this.counts.retries++;
        // Exponential backoff with full jitter; the server's Retry-After wins when given.
        const delay = err.retryAfterMs ?? backoffMs(attempt, BACKOFF_BASE_MS, BACKOFF_CAP_MS);
        await sleep(delay, this.options.signal);
      }
    }
    this.answered = true;
    this.counts.numbers_checked += batch.length;
    await this.settle(batch, answers);
  }

  private async settle(batch: Waiting[], answers: ContactAnswer[]): Promise<void> {
    const byInput = new Map(answers.map((a) => [a.input, a]));
    const now = new Date();
    const checkedAt = now.toISOString();
    const cache: StoreWrite[] = [];
    const invalid: string[] = [];
    const outcomes: [Waiting, CheckOutcome][] = [];
    const processing: Waiting[] = [];
    const { source, ttlMs } = this.options;
    for (const item of batch) {
      const answer = byInput.get(item.e164);
      if (answer?.status === 'valid' && answer.wa_id) {
        cache.push(cachedStatusWrite(item.e164, cachedStatusValue('valid', answer.wa_id, checkedAt, source), ttlMs.valid));
        outcomes.push([item, { status: 'valid', waId: answer.wa_id }]);
      } else if (answer?.status === 'invalid') {
        cache.push(cachedStatusWrite(item.e164, cachedStatusValue('invalid', undefined, checkedAt, source), ttlMs.invalid));
        invalid.push(item.e164.slice(1));
        outcomes.push([item, { status: 'invalid' }]);
      } else if (answer?.status === 'processing' && item.attempts + 1 < PROCESSING_ATTEMPTS) {
        processing.push({ ...item, attempts: item.attempts + 1 });
      } else {
        this.counts.unresolved++;
        const why = answer ? `the endpoint answered "${answer.status}"` : 'the endpoint did not answer for it';
        outcomes.push([item, { status: 'unverified', detail: why }]);
      }
    }
    // Persist before reporting: a run killed now must not have to pay for these again.
    // The cache entries and the blacklist entries of invalid numbers go in one
    // transaction, so a crash cannot leave one without the other.
    await this.store.transact(invalid.map((waId) => ({ namespace: BLACKLIST, key: waId })), (before) => ({
      writes: [
        ...cache,
        ...invalid.map((waId, i) => blacklistWrite(before[i], { waId, reason: 'contacts_invalid', source }, now)),
      ],
      result: undefined,
    }));
    for (const [item, outcome] of outcomes) item.resolve(outcome);
    if (processing.length) {
      // Asked again a little later, together and with whatever else is waiting:
      // full batches, not a request each. Sent at once, as callers may be waiting.
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.failure) return;
        for (const item of processing) this.enqueue(item);
        this.flush();
      }, PROCESSING_RETRY_MS);
      this.timers.add(timer);
    }
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    await this.client.close();
  }
}

/** A pause that a signal ends at once (the caller then sees the abort). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const interrupted = (): InterruptedError => new InterruptedError(String(signal?.reason ?? 'SIGINT'));
    if (signal?.aborted) return reject(interrupted());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = (): void => {
      clearTimeout(timer);
      reject(interrupted());
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}
