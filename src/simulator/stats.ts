// What the simulator counts between resets, as GET /_sim/stats answers it.

export interface SimulatorStats {
  started_at: string;
  requests: Record<string, number>;
  responses: Record<string, number>;
  errors: Record<string, number>;
  faults: Record<string, number>;
  numbers_checked: number;
  messages_accepted: number;
  /** Status webhooks emitted by status (sent, delivered, read, failed), and user replies. */
  webhooks: Record<string, number>;
  /** wa_id -> messages accepted for it. */
  sent_per_recipient: Record<string, number>;
  /** Most messages accepted for any one recipient. */
  max_per_recipient: number;
  /** Most requests received in any sliding one-second window, per endpoint. */
  peak_per_second: Record<string, number>;
}

/** The endpoints whose arrival times are kept for `peak_per_second`. */
export type Endpoint = 'contacts' | 'messages';

/** Arrival times kept per endpoint: enough for any test or rehearsal, bounded for a simulator left running. */
const MAX_ARRIVALS = 2_000_000;

export function emptyStats(now: number): SimulatorStats {
  return {
    started_at: new Date(now).toISOString(),
    requests: {}, responses: {}, errors: {}, faults: {},
    numbers_checked: 0, messages_accepted: 0, webhooks: {}, sent_per_recipient: {}, max_per_recipient: 0, peak_per_second: {},
  };
}

/** Adds one to a counter table (requests by route, responses by status, errors by code, faults by kind). */
export function tally(table: Record<string, number>, key: string | number): void {
  table[key] = (table[key] ?? 0) + 1;
}

/** Arrival times (ms, ascending) per endpoint, for the busiest one-second window. */
export class Arrivals {
  private readonly times: Record<Endpoint, number[]> = { contacts: [], messages: [] };

  add(endpoint: Endpoint, at: number): void {
    const list = this.times[endpoint];
    if (list.length < MAX_ARRIVALS) list.push(at);
  }

  peaks(): Record<Endpoint, number> {
    return { contacts: peak(this.times.contacts), messages: peak(this.times.messages) };
  }
}

/** Most timestamps (ms, ascending) that fall within any one-second window. */
export function peak(times: readonly number[]): number {
  let best = 0;
  for (let start = 0, end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= 1000) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}
