import { createHash } from 'node:crypto';
import type { Store } from '../store/store.js';
import { learn, type LearnSettings } from './learn.js';
import type { Learned } from './learned.js';
import { readPayload, type Event } from './payload.js';

/** Verified bodies not yet applied: made durable before the 200, so a crash after it loses nothing. */
const INBOX = 'webhook-inbox';
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
  /** The apply under way (or last): each waits for the one before. */
  private applying: Promise<void> = Promise.resolve();
  /** Keys kept but not yet taken by an apply. */
  private waiting: string[] = [];
  private retryMs = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly store: Store, private readonly settings: LearnSettings, private readonly learned: Learned, private readonly log: (text: string) => void) {}

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
    return key;
  }

  /** Applies the kept bodies `keys`, after those before them; resolves once applied or left for a retry. */
  apply(keys: string[]): Promise<void> {
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
    } catch (err) {
      this.waiting = [...batch, ...this.waiting];
      this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2 || FIRST_RETRY_MS);
      this.log(`applying ${batch.length} event(s) failed, kept in the inbox, trying again in ${this.retryMs / 1000} s: ${(err as Error).message}`);
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => void this.apply([]), this.retryMs);
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
