import type { Answer } from './attempt.js';

/** Why the campaign stopped: Meta's code (or none: not Meta's answer), what it means, what to do. */
export interface Stop {
  code?: number;
  title: string;
  hint?: string;
  /** Nothing answered at all: the API could not be reached (exit 1, not 4). */
  unreachable?: boolean;
}

/** Requests in a row that no server answered at all (refused, no such host, timeouts) before the campaign stops. */
export const MAX_UNANSWERED = 20;
/** Default of --throttle-timeout. */
export const THROTTLE_TIMEOUT_MS = 120_000;

/** A Stop as one phrase: "190 Access token expired or invalid". */
export function describeStop(stop: Stop): string {
  return stop.code === undefined ? stop.title : `${stop.code} ${stop.title}`;
}

/**
 * Watches the answers for waits that lead nowhere: rate limits (130429,
 * 80007, 4, 131057, 131056, HTTP 429) for --throttle-timeout with no row
 * settled by Meta in that time, or MAX_UNANSWERED requests in a row (or one
 * row's every attempt) that no server answered. Either stops the campaign;
 * its rows are left for the next run, never failed for it.
 */
export class Watchdog {
  private lastProgress = Date.now();
  private unanswered = 0;

  constructor(private readonly throttleTimeoutMs: number, private readonly endpoint: string) {}

  /** The stop of a campaign whose requests no server answered (`answer`: the last of them). */
  unreachable(answer: Answer): Stop {
    return { title: `cannot reach ${this.endpoint}: ${answer.title}`, unreachable: true, hint: 'check --api-url and the network' };
  }

  /** Takes one answer into account; a Stop when waiting is no longer worth it. */
  observe(answer: Answer, now = Date.now()): Stop | undefined {
    if (answer.unanswered) {
      return ++this.unanswered < MAX_UNANSWERED ? undefined : this.unreachable(answer);
    }
    this.unanswered = 0;
    if (answer.action !== 'slow' && answer.action !== 'pair' && answer.action !== 'retry') {
      this.lastProgress = now;
      return undefined;
    }
    if (answer.action === 'retry' || now - this.lastProgress < this.throttleTimeoutMs) return undefined;
    const s = Math.round(this.throttleTimeoutMs / 1000);
    return {
      ...(answer.code === undefined ? {} : { code: answer.code }),
      title: answer.title,
      hint: `Meta answered only rate limits for ${s} s, with no message accepted (--throttle-timeout); wait for the limit to lift (80007 and 4 can last an hour), then run the same command again to resume`,
    };
  }
}
