import { createHash } from 'node:crypto';
import type { Store } from '../store/store.js';
import { learn, type LearnSettings } from './learn.js';
import type { Learned } from './learned.js';
import { readPayload, type Event } from './payload.js';
import type { Namespace } from '../store/schema.js';

/** Verified bodies not yet applied: made durable before the 200, so a crash after it loses nothing. */
const INBOX = 'webhook-inbox' satisfies Namespace;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;

/**
 * listen's durable inbox: a body is kept (keyed by its hash, so Meta's resend
 * of one is one entry) before it is answered 200, then applied in arrival
 * order, one batch at a time, and removed once applied. When the store fails,
 * the entries stay and are tried again after 1 s, doubling to a minute: listen
 * runs for days and the store (Redis, a disk) may come back.
 */
export class Inbox {
  /** Keys kept and not yet applied, with when each was kept (ms): the inbox's depth and its oldest entry. */
  private readonly unapplied = new Map<string, number>();
  private failure: { since: Date; message: string } | undefined;
  /** The apply under way (or last): each waits for the one before. */
  private applying: Promise<void> = Promise.resolve();
  /** Keys kept but not yet taken by an apply. */
  private waiting: string[] = [];
  private retryMs = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  /** `applied`: told, for each body applied, the seconds since it was kept (or since listen started, for one a crash left). */
  constructor(
    private readonly store: Store, private readonly settings: LearnSettings, private readonly learned: Learned,
    private readonly log: (text: string) => void, private readonly applied: (seconds: number) => void = () => undefined,
  ) {}

  /** Why the last apply failed, and since when; undefined once one succeeds. */
  get failing(): { since: Date; message: string } | undefined {
    return this.failure;
  }

  /** Bodies kept and not yet applied. */
  get depth(): number {
    return this.unapplied.size;
  }

  /** Seconds the oldest body not yet applied has waited; 0 when none waits. */
  oldestSeconds(now = Date.now()): number {
    let oldest = now;
    for (const at of this.unapplied.values()) oldest = Math.min(oldest, at);
    return (now - oldest) / 1000;
  }

  /** Resolves when the store answers a read of the inbox; rejects with why not. */
  async probe(): Promise<void> {
    await this.store.get(INBOX, ['health-probe']);
  }

  /** The keys of bodies kept but never applied: what a crash left between a 200 and its application. */
  async pending(): Promise<string[]> {
    const keys: string[] = [];
    for await (const [key] of this.store.scan(INBOX)) keys.push(key);
    return keys;
  }

  /** Makes the raw body durable; resolves with its key. Rejects when the store cannot take it now. */
  async keep(raw: Buffer): Promise<string> {
    const key = createHash('sha256').update(raw).digest('hex');
    await this.store.set(INBOX, [{ key, value: raw.toString('utf8') }]);
    if (!this.unapplied.has(key)) this.unapplied.set(key, Date.now());
    return key;
  }

  /** Applies the kept bodies `keys`, after those before them; resolves once applied or left for a retry. */
  apply(keys: string[]): Promise<void> {
    for (const key of keys) if (!this.unapplied.has(key)) this.unapplied.set(key, Date.now());
    this.waiting.push(...keys);
    this.applying = this.applying.then(() => this.applyWaiting());
    return this.applying;
  }

  /** Stops the retry timer only: bodies may still be kept and applied (requests finishing after a stop). */
  stopRetrying(): void {
    clearTimeout(this.retryTimer);
  }

  /** Resolves once the apply under way (and those queued before it) is done. */
  settled(): Promise<void> {
    return this.applying;
  }

  private async applyWaiting(): Promise<void> {
    // Everything that arrived meanwhile is applied together, in arrival order.
    const batch = this.waiting;
    this.waiting = [];
    if (batch.length === 0) return;
    try {
      await learn(this.store, await this.eventsOf(batch), this.settings, this.learned);
      await this.store.delete(INBOX, batch);
      this.retryMs = 0;
      this.failure = undefined;
      this.settle(batch);
    } catch (err) {
      this.failure = { since: this.failure?.since ?? new Date(), message: (err as Error).message };
      this.waiting = [...batch, ...this.waiting];
      this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2 || FIRST_RETRY_MS);
      this.log(`applying ${batch.length} event(s) failed, kept in the inbox, trying again in ${this.retryMs / 1000} s: ${(err as Error).message}`);
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => void this.apply([]), this.retryMs);
    }
  }

  /** The batch is applied: it leaves the depth, and each body's wait is told. */
  private settle(batch: string[]): void {
    const now = Date.now();
    for (const key of batch) {
      const at = this.unapplied.get(key);
      if (at === undefined) continue; // the same body twice in one batch
      this.unapplied.delete(key);
      this.applied((now - at) / 1000);
    }
  }

  /** The events of the kept bodies; one that cannot be read (it was checked before it was kept) is logged and dropped. */
  private async eventsOf(keys: string[]): Promise<Event[]> {
    const events: Event[] = [];
    for (const body of await this.store.get(INBOX, keys)) {
      if (body === undefined) continue;
      try {
        events.push(...readPayload(JSON.parse(body), this.settings, this.learned));
      } catch (err) {
        this.log(`an inbox entry could not be read: ${(err as Error).message}`);
      }
    }
    return events;
  }
}
