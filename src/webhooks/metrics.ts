/** Upper bounds (seconds) of the apply-latency buckets: from a quick local store to a Redis that was away for a minute. */
export const APPLY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** A Prometheus histogram: cumulative counts by upper bound, their sum and count. */
export class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]!) this.counts[i]!++;
  }
}

/** What /metrics reports about a listen. */
export interface ListenCounts {
  /** Events learned, by kind (status_failed, message, …). */
  events: Record<string, number>;
  /** What the events changed, by change (blacklisted, opted_out, …). */
  changes: Record<string, number>;
  /** Requests refused, by the reason answered (bad signature, body too large, …). */
  refused: Record<string, number>;
  /** Bodies verified, kept and answered 200. */
  accepted: number;
  /** Bodies kept but not applied yet. */
  inboxDepth: number;
  /** Seconds from a body's 200 to its application. */
  applyLatency: Histogram;
}

const SIGNATURE_REASONS = ['missing signature', 'bad signature'];

/** The Prometheus text exposition format (version 0.0.4) of a listen's counts. */
export function exposition(c: ListenCounts): string {
  const lines: string[] = [];
  const family = (name: string, type: string, help: string, samples: [labels: string, value: number][]): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([labels, value]) => `${name}${labels} ${value}`));
  };
  const byLabel = (label: string, counts: Record<string, number>): [string, number][] =>
    Object.entries(counts).map(([key, value]) => [`{${label}="${slug(key)}"}`, value]);
  family('wa_guard_listen_events_total', 'counter', 'Webhook events learned, by kind.', byLabel('kind', c.events));
  family('wa_guard_listen_changes_total', 'counter', 'Changes the events made to the store, by kind.', byLabel('change', c.changes));
  family('wa_guard_listen_bodies_accepted_total', 'counter', 'POST bodies verified, stored and answered 200.', [['', c.accepted]]);
  family('wa_guard_listen_signature_failures_total', 'counter', 'POSTs refused for a missing or wrong X-Hub-Signature-256.',
    [['', SIGNATURE_REASONS.reduce((n, r) => n + (c.refused[r] ?? 0), 0)]]);
  family('wa_guard_listen_refused_total', 'counter', 'Requests refused, by reason.', byLabel('reason', c.refused));
  family('wa_guard_listen_inbox_depth', 'gauge', 'Bodies answered 200 and not applied yet.', [['', c.inboxDepth]]);
  const h = c.applyLatency;
  const apply = 'wa_guard_listen_apply_seconds';
  lines.push(`# HELP ${apply} Time from a body's 200 to its application to the store.`, `# TYPE ${apply} histogram`,
    ...h.bounds.map((b, i) => `${apply}_bucket{le="${b}"} ${h.counts[i]}`),
    `${apply}_bucket{le="+Inf"} ${h.count}`, `${apply}_sum ${h.sum}`, `${apply}_count ${h.count}`);
  return lines.join('\n') + '\n';
}

/** "bad signature" -> "bad_signature": label values that read well in a query, with nothing the format must escape. */
const slug = (text: string): string => text.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
