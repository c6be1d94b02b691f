/**
 * A campaign's figures, gathered message by message in one pass: the funnel,
 * failures by code, by template and by country, times to delivered and read,
 * deliveries and reads over time, and what the campaign cost in opt-outs.
 */
import { getCountries, getCountryCallingCode } from 'libphonenumber-js/max';
import { explain } from '../meta/guide.js';
import type { CampaignRecord } from './campaigns.js';
import type { Message } from './messages.js';

const EXAMPLES = 3;

interface Group { sent: number; delivered: number; read: number; failed: number }
const group = (): Group => ({ sent: 0, delivered: 0, read: 0, failed: 0 });

/** Growable list of numbers, for percentiles of a million messages without a million boxed numbers. */
class Samples {
  private values = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = v;
  }
  percentiles(): { p50: number | null; p95: number | null } {
    if (this.length === 0) return { p50: null, p95: null };
    const sorted = this.values.subarray(0, this.length).sort();
    const at = (p: number): number => sorted[Math.min(this.length - 1, Math.ceil(p * this.length) - 1)]!;
    return { p50: at(0.5), p95: at(0.95) };
  }
}

let callingCodes: Set<string> | undefined;
/** The calling code a wa_id starts with (codes are prefix-free: 1 to 3 digits). */
export function callingCodeOf(waId: string): string {
  callingCodes ??= new Set(getCountries().map((c) => getCountryCallingCode(c)));
  for (let n = 1; n <= 3; n++) if (callingCodes.has(waId.slice(0, n))) return waId.slice(0, n);
  return '?';
}

export class Figures {
  messages = 0;
  accepted = 0;
  readonly outcomes: Record<string, number> = { awaiting: 0, sent: 0, delivered: 0, read: 0, failed: 0, deferred: 0, unknown: 0 };
  delivered = 0;
  read = 0;
  replied = 0;
  optedOut = 0;
  readonly optedOutBy: Record<string, number> = {};
  failedAtSend = 0;
  readonly codes = new Map<number | 'none', { count: number; title: string; examples: { row_id: string; wa_id: string }[] }>();
  readonly templates = new Map<string, Group>();
  readonly countries = new Map<string, Group>();
  readonly toDelivered = new Samples();
  readonly toRead = new Samples();
  /** Deliveries and reads by minute (s since the epoch / 60). */
  readonly deliveriesByMinute = new Map<number, number>();
  readonly readsByMinute = new Map<number, number>();
  /** Numbers that got a 131026 here, to look up on the blacklist. */
  readonly undeliverable: string[] = [];
  first: number | undefined;
  last: number | undefined;

  constructor(private readonly attributionS: number) {}

  add(m: Message): void {
    this.messages++;
    this.outcomes[m.outcome]!++;
    const l = m.lifecycle;
    const delivered = m.outcome === 'delivered' || m.outcome === 'read';
    const read = m.outcome === 'read';
    const failed = m.outcome === 'failed';
    if (m.accepted) this.accepted++;
    else if (failed) this.failedAtSend++;
    if (delivered) this.delivered++;
    if (read) this.read++;
    if (m.acceptedAt !== undefined) {
      this.first = Math.min(this.first ?? Infinity, m.acceptedAt);
      this.last = Math.max(this.last ?? -Infinity, m.acceptedAt);
    }
    if (delivered && l?.delivered !== undefined) this.timed(this.toDelivered, this.deliveriesByMinute, m.acceptedAt, l.delivered);
    if (read && l?.read !== undefined) this.timed(this.toRead, this.readsByMinute, m.acceptedAt, l.read);
    if (failed) this.failure(m);
    this.answers(m);
    if (m.accepted || failed) {
      const tally = m.template ? `${m.template}\t${m.language ?? ''}` : '(no template)\t';
      this.tally(this.templates, tally, m.accepted, delivered, read, failed);
      this.tally(this.countries, callingCodeOf(m.waId), m.accepted, delivered, read, failed);
    }
  }

  private tally(map: Map<string, Group>, key: string, sent: boolean, delivered: boolean, read: boolean, failed: boolean): void {
    let g = map.get(key);
    if (!g) map.set(key, g = group());
    if (sent) g.sent++;
    if (delivered) g.delivered++;
    if (read) g.read++;
    if (failed) g.failed++;
  }

  private timed(samples: Samples, byMinute: Map<number, number>, from: number | undefined, at: number): void {
    if (from !== undefined) samples.push(Math.max(0, at - from));
    const minute = Math.floor(at / 60);
    byMinute.set(minute, (byMinute.get(minute) ?? 0) + 1);
  }

  private failure(m: Message): void {
    const code = m.code ?? 'none';
    let c = this.codes.get(code);
    if (!c) this.codes.set(code, c = { count: 0, title: m.title ?? (code === 'none' ? 'failed without an error code' : `Error ${code}`), examples: [] });
    c.count++;
    if (c.examples.length < EXAMPLES) c.examples.push({ row_id: m.rowKey, wa_id: m.waId });
    if (code === 131026 && m.waId) this.undeliverable.push(m.waId);
  }

  /** A reply or an opt-out counts when it came within the attribution window after the delivery. */
  private answers(m: Message): void {
    const r = m.replies;
    if (!r) return;
    if (r.replied !== undefined && r.replied - r.delivered <= this.attributionS) this.replied++;
    if (r.opted_out !== undefined && r.opted_out - r.delivered <= this.attributionS) {
      this.optedOut++;
      const by = r.opt_out_by ?? 'unknown';
      this.optedOutBy[by] = (this.optedOutBy[by] ?? 0) + 1;
    }
  }
}

const rate = (n: number, of: number): number | null => (of > 0 ? Math.round((n / of) * 10_000) / 10_000 : null);
const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);
const iso = (s: number | undefined): string | null => (s === undefined ? null : new Date(s * 1000).toISOString());

/** The timeline in at most ~48 buckets of whole minutes, hours or days. */
function timeline(f: Figures): { bucket_s: number; start: string | null; deliveries: number[]; reads: number[] } {
  const minutes = [...f.deliveriesByMinute.keys(), ...f.readsByMinute.keys()];
  if (minutes.length === 0) return { bucket_s: 60, start: null, deliveries: [], reads: [] };
  let lo = Infinity, hi = -Infinity;
  for (const m of minutes) { lo = Math.min(lo, m); hi = Math.max(hi, m); }
  const span = hi - lo + 1;
  const size = [1, 5, 15, 60, 360, 1440].find((s) => span / s <= 48) ?? Math.ceil(span / 48);
  const start = Math.floor(lo / size) * size;
  const n = Math.floor(hi / size) - Math.floor(lo / size) + 1;
  const fill = (byMinute: Map<number, number>): number[] => {
    const out = new Array<number>(n).fill(0);
    for (const [m, c] of byMinute) out[Math.floor(m / size) - start / size]! += c;
    return out;
  };
  return { bucket_s: size * 60, start: iso(start * 60), deliveries: fill(f.deliveriesByMinute), reads: fill(f.readsByMinute) };
}

/** report.json: every figure of the campaign (the text, CSV and HTML outputs say the same numbers). */
export function campaignReport(id: string, record: CampaignRecord | undefined, f: Figures, blacklisted: number, attributionHours: number) {
  const blocked = record?.blocked ?? {};
  const deferredByGate = record?.deferred ?? {};
  const deferred = { ...deferredByGate, ...(f.outcomes.deferred ? { 'deferred when sent (e.g. 131049)': f.outcomes.deferred } : {}) };
  const groupRow = (g: Group) => ({ sent: g.sent, delivered: g.delivered, read: g.read, failed: g.failed, delivered_rate: rate(g.delivered, g.sent), read_rate: rate(g.read, g.delivered) });
  return {
    campaign: { id, name: record?.name ?? null, first_send: record?.first_send ?? iso(f.first), last_send: record?.last_send ?? iso(f.last) },
    attribution_hours: attributionHours,
    funnel: {
      rows: record?.rows ?? f.messages,
      blocked: { total: sum(blocked), by_reason: blocked },
      deferred: { total: sum(deferred), by_reason: deferred },
      sent: f.accepted, delivered: f.delivered, read: f.read, replied: f.replied,
      failed: f.outcomes.failed!, failed_when_sent: f.failedAtSend, awaiting: f.outcomes.awaiting!, unknown: f.outcomes.unknown!,
      rates: { delivered: rate(f.delivered, f.accepted), read: rate(f.read, f.delivered), replied: rate(f.replied, f.delivered) },
    },
    failures: [...f.codes].sort((a, b) => b[1].count - a[1].count).map(([code, c]) => {
      const guide = code === 'none' ? undefined : explain(code);
      return { code: code === 'none' ? null : code, title: c.title, count: c.count, means: guide?.means ?? null, wa_guard_did: guide?.wa_guard_does ?? null, examples: c.examples };
    }),
    by_template: [...f.templates].sort((a, b) => b[1].sent - a[1].sent).map(([k, g]) => {
      const [template, language] = k.split('\t');
      return { template: template!, language: language || null, ...groupRow(g) };
    }),
    by_country: [...f.countries].sort((a, b) => b[1].sent - a[1].sent).map(([code, g]) => ({ calling_code: code, ...groupRow(g) })),
    timing: { to_delivered_s: f.toDelivered.percentiles(), to_read_s: f.toRead.percentiles() },
    timeline: timeline(f),
    because_of_it: { blacklisted, opted_out: f.optedOut, opted_out_by: f.optedOutBy },
  };
}

export type CampaignReport = ReturnType<typeof campaignReport>;
