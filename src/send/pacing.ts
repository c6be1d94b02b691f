import { MAX_LATE_MS, RATE_MARGIN, acquireToken, backoffMs } from '../store/rate.js';
import type { Store, StoreKey, StoreWrite } from '../store/store.js';
import type { ClaimSidecar } from './journal.js';
import type { Namespace } from '../store/schema.js';

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;
/** Namespace of the per-user spacing: `<phone number id>:<wa_id>` -> when that user's next message may go (ms). */
const PAIR = 'pair' satisfies Namespace;

/**
 * The sending pace of one phone number id: a token bucket in the store
 * (shared by every process), at --mps, halved on rate-limit answers and
 * raised again by a tenth a second while they stop.
 */
export class Pace {
  /** Messages per second now. */
  private rate: number;
  private rateChangedAt = Date.now();
  slowDowns = 0;

  constructor(private readonly store: Store, private readonly phoneNumberId: string, private readonly mps: number) {
    this.rate = mps;
  }

  /**
   * Waits for the next slot of the bucket, running `ready` just before it;
   * resolves with the slots given up as too late (0 or 1); throws when
   * `signal` ends the wait.
   */
  async take(signal?: AbortSignal, ready?: () => Promise<void>): Promise<number> {
    const rate = this.currentRate();
    // Half the 1% margin pays for a small burst: after a stall (a slow disk
    // sync), the bucket catches up instead of losing the slots that passed;
    // the other half absorbs timer lateness.
    const burst = 1 + Math.floor((rate * (1 - RATE_MARGIN)) / 2);
    return acquireToken(() => this.store.takeToken(`messages:${this.phoneNumberId}`, rate * RATE_MARGIN, burst), MAX_LATE_MS, signal, ready);
  }

  private currentRate(): number {
    const now = Date.now();
    if (this.rate < this.mps && now - this.rateChangedAt >= 1000) {
      this.rate = Math.min(this.mps, this.rate + Math.max(1, this.mps / 10));
      this.rateChangedAt = now;
    }
    return this.rate;
  }

  /** A rate-limit answer: halve the pace, once per burst of them (not once per message in flight). */
  slowDown(): void {
    const now = Date.now();
    if (now - this.rateChangedAt < 500 && this.rate < this.mps) return;
    this.rate = Math.max(1, this.rate / 2);
    this.rateChangedAt = now;
    this.slowDowns++;
  }
}

/** Spacing between two messages to one user (--pair-interval), booked in the store with the row's claim. */
export class PairSpacing {
  constructor(private readonly phoneNumberId: string, private readonly intervalMs: number) {}

  /** The claim's sidecar for a message to `waId`: books the user's next slot and says how long to wait for this one. */
  forUser(waId: string): ClaimSidecar {
    const read: StoreKey = { namespace: PAIR, key: `${this.phoneNumberId}:${waId}` };
    return {
      read,
      book: (value, now) => {
        const next = Math.max(now, Number(value ?? 0) || 0);
        const write: StoreWrite = { ...read, value: String(next + this.intervalMs), ttlMs: this.intervalMs + 60_000 };
        return { write, waitMs: next - now };
      },
    };
  }
}

/** Full-jitter backoff before retry `attempt`. */
export function backoff(attempt: number): number {
  return backoffMs(attempt, BACKOFF_BASE_MS, BACKOFF_CAP_MS);
}
