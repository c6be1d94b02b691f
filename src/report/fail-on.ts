/**
 * report --fail-on: conditions on a campaign's rates and counts, for CI.
 * `delivered<0.9` (a rate: delivered, read, replied), `131026>50` (failures
 * with that code), `awaiting>0` (a count: sent, failed, awaiting, unknown,
 * blocked, deferred, opted_out, blacklisted).
 */
import { UsageError } from '../errors.js';
import type { CampaignReport } from './figures.js';

export interface Condition {
  text: string;
  metric: string;
  op: '<' | '<=' | '>' | '>=' | '=';
  value: number;
}

const RATES = ['delivered', 'read', 'replied'];
const COUNTS = ['sent', 'failed', 'awaiting', 'unknown', 'blocked', 'deferred', 'opted_out', 'blacklisted'];

export function parseReportFailOn(spec: string | undefined): Condition[] {
  if (spec === undefined) return [];
  return spec.split(',').map((part) => part.trim()).filter(Boolean).map((text) => {
    const m = /^([a-z_]+|\d{1,9})\s*(<=|>=|<|>|=)\s*(\d+(?:\.\d+)?)(%?)$/.exec(text);
    if (!m || !(RATES.includes(m[1]!) || COUNTS.includes(m[1]!) || /^\d+$/.test(m[1]!))) {
      throw new UsageError(`--fail-on: "${text}" is not a condition; e.g. delivered<0.9, 131026>50, awaiting>0 (rates: ${RATES.join(', ')}; counts: ${COUNTS.join(', ')} or an error code)`);
    }
    const rate = RATES.includes(m[1]!);
    const value = Number(m[3]) / (m[4] ? 100 : 1);
    // "delivered<90" always holds: a rate runs from 0 to 1, so it is a usage error, not a cron job that always fails.
    if (m[4] && !rate) throw new UsageError(`--fail-on: "${text}": ${m[1]} is a count, not a rate; drop the %`);
    if (rate && value > 1) throw new UsageError(`--fail-on: "${text}": a rate runs from 0 to 1 (${m[1]}<0.9, or ${m[1]}<90%)`);
    return { text, metric: m[1]!, op: m[2] as Condition['op'], value };
  });
}

/** The metric's value in the report (a rate with nothing to divide by: not matched). */
function valueOf(metric: string, r: CampaignReport): number | null {
  const f = r.funnel;
  if (RATES.includes(metric)) return f.rates[metric as 'delivered' | 'read' | 'replied'];
  if (/^\d+$/.test(metric)) return r.failures.find((x) => x.code === Number(metric))?.count ?? 0;
  switch (metric) {
    case 'blocked': return f.blocked.total;
    case 'deferred': return f.deferred.total;
    case 'opted_out': return r.because_of_it.opted_out;
    case 'blacklisted': return r.because_of_it.blacklisted;
    default: return f[metric as 'sent' | 'failed' | 'awaiting' | 'unknown'];
  }
}

/** The conditions that hold, each with the value that matched. */
export function matchedConditions(conditions: readonly Condition[], r: CampaignReport): { condition: string; value: number }[] {
  const hits: { condition: string; value: number }[] = [];
  for (const c of conditions) {
    const v = valueOf(c.metric, r);
    if (v === null) continue;
    const hit = c.op === '<' ? v < c.value : c.op === '<=' ? v <= c.value : c.op === '>' ? v > c.value : c.op === '>=' ? v >= c.value : v === c.value;
    if (hit) hits.push({ condition: c.text, value: v });
  }
  return hits;
}
