import { pause } from '../time.js';

/**
 * GCRA (the generic cell rate algorithm), a token bucket kept as one number:
 * the theoretical arrival time (tat) of the next request. `rate` requests per
 * second on average, at most `burst` at once; burst 1 spaces them evenly.
 *
 * Each call books the next free slot and returns how long to wait for it (0:
 * go now). Booking ahead, rather than asking again after a sleep, means a timer
 * that fires late does not push every later request back: the average rate
 * stays exact.
 */
export function gcra(tat: number | undefined, now: number, rate: number, burst: number): { wait: number; tat: number } {
  const interval = 1000 / rate;
  const tolerance = interval * (Math.max(1, burst) - 1);
  const start = tat === undefined || tat < now ? now : tat;
  const slot = Math.max(start - tolerance, now);
  return { wait: slot - now, tat: start + interval };
}

/**
 * Books a slot in the store's bucket (shared with other processes when the
 * store is Redis) and waits for it. A slot woken up for too late is given up
 * and another booked: sending late would crowd the requests booked after it,
 * and the server counts arrivals, not bookings. `ready`, if given, runs once,
 * READY_LEAD_MS before the first slot (a write that must precede the request
 * without delaying it). Resolves with how many slots were given up; `signal`
 * ends any wait with its abort error.
 */
export async function acquireToken(take: () => Promise<number>, maxLateMs: number, signal?: AbortSignal, ready?: () => Promise<void>): Promise<number> {
  let prepare = ready;
  for (let givenUp = 0; ; givenUp++) {
    signal?.throwIfAborted();
    const wait = await take();
    const due = performance.now() + wait;
    if (prepare) {
      if (wait > READY_LEAD_MS && !(await pause(wait - READY_LEAD_MS, signal))) signal!.throwIfAborted();
      await prepare();
      prepare = undefined;
    }
    const left = due - performance.now();
    if (left > 0 && !(await pause(left, signal))) signal!.throwIfAborted();
    if (performance.now() - due <= maxLateMs) return givenUp;
  }
}

/** How long before its slot acquireToken's `ready` runs. */
export const READY_LEAD_MS = 50;

/**
 * Requests are paced at 99% of the rate asked, and a slot woken more than
 * 8 ms late is given up: the 1% (10 ms a second) absorbs timer lateness and
 * network jitter, so the server never counts more than the rate in a second.
 */
export const RATE_MARGIN = 0.99;
export const MAX_LATE_MS = 8;

/** Exponential backoff with full jitter: a random wait up to min(cap, base * 2^attempt). */
export function backoffMs(attempt: number, baseMs: number, capMs: number): number {
  return Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
}
