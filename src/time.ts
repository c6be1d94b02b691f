/** A day in milliseconds: TTLs, windows and caps. */
export const DAY_MS = 86_400_000;

/**
 * Lets the event loop run what waits (a server's other requests, timers, a
 * signal) before a long loop goes on: an embedded store answers at once, so
 * awaiting it never does.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Waits `ms`; false when `signal` ended the wait first (an interrupt, a stop). */
export function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (waited: boolean): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(waited);
    };
    const onAbort = (): void => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves on Ctrl-C or SIGTERM (the signal aborts); never without a signal: nothing can stop the server then. */
export function untilAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
