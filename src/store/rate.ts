/**
 * GCRA (the generic cell rate algorithm), a token bucket kept as one number:
 * the theoretical arrival time of the next request. `rate` requests per second
 * on average, at most `burst` at once; burst 1 spaces requests evenly.
 * Returns 0 when the request may go now (and books it), else the wait in ms.
 */
export function gcra(tat: number | undefined, now: number, rate: number, burst: number): { wait: number; tat: number } {
  const interval = 1000 / rate;
  const tolerance = interval * (Math.max(1, burst) - 1);
  const start = tat === undefined || tat < now ? now : tat;
  const allowedAt = start - tolerance;
  if (allowedAt > now) return { wait: allowedAt - now, tat: start };
  return { wait: 0, tat: start + interval };
}

/** Waits until the store grants a token (shared with other processes when the store is Redis). */
export async function acquireToken(
  take: () => Promise<number>,
  signal?: AbortSignal,
): Promise<void> {
  for (;;) {
    signal?.throwIfAborted();
    const wait = await take();
    if (wait <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.ceil(wait))));
  }
}
