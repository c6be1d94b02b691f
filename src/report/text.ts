/** The report for a person: the campaigns in the store, or one campaign's figures, as plain tables. */
import type { CampaignReport } from './figures.js';
import type { CampaignLine } from './list.js';

const n = (v: number): string => v.toLocaleString('en-US');
const pct = (r: number | null): string => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);
const secs = (s: number | null): string => (s === null ? '-' : s < 120 ? `${s}s` : s < 7200 ? `${(s / 60).toFixed(1)}m` : `${(s / 3600).toFixed(1)}h`);
const day = (iso: string | null): string => (iso ? iso.slice(0, 16).replace('T', ' ') : '-');

/** Columns padded to their widest cell; numbers right-aligned. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const right = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[\d,.%-]+$/.test(r[i]!)));
  const line = (cells: string[]): string => cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

export function campaignListText(lines: readonly CampaignLine[], location: string): string {
  if (lines.length === 0) return `no campaigns in the store (${location}): a live send records them\n`;
  return table(['CAMPAIGN', 'NAME', 'FIRST SEND', 'LAST SEND', 'ROWS', 'SENT', 'DELIVERED', 'READ', 'FAILED', 'AWAITING'],
    lines.map((l) => [l.id, l.name ?? '-', day(l.first_send), day(l.last_send), n(l.rows), n(l.sent), pct(l.delivered_rate), pct(l.read_rate), n(l.failed), n(l.awaiting)]),
  ).join('\n') + '\n';
}

const reasons = (by: Record<string, number>): string => Object.entries(by).map(([r, c]) => `${r} ${n(c)}`).join(', ');

export function campaignText(r: CampaignReport): string {
  const f = r.funnel;
  const c = r.campaign;
  const out = [`Campaign ${c.id}${c.name ? ` (${c.name})` : ''}: first send ${day(c.first_send)}, last send ${day(c.last_send)}`, '', 'Funnel'];
  const step = (name: string, count: number, note = ''): void => { out.push(`  ${name.padEnd(16)}${n(count).padStart(10)}${note ? `   ${note}` : ''}`); };
  step('rows', f.rows);
  step('blocked', f.blocked.total, reasons(f.blocked.by_reason));
  step('deferred', f.deferred.total, reasons(f.deferred.by_reason));
  step('sent', f.sent, 'accepted by Meta');
  step('delivered', f.delivered, `${pct(f.rates.delivered)} of sent`);
  step('read', f.read, `${pct(f.rates.read)} of delivered`);
  step('replied', f.replied, `${pct(f.rates.replied)} of delivered, within ${r.attribution_hours}h`);
  step('failed', f.failed, f.failed_when_sent ? `${n(f.failed_when_sent)} refused when sent, the rest by webhook` : '');
  if (f.unknown) step('unknown', f.unknown, 'no clear answer when sent');
  step('awaiting status', f.awaiting, f.awaiting ? 'no webhook yet: `wa-guard listen` or `wa-guard ingest FILE` brings them' : '');
  if (r.failures.length) {
    out.push('', 'Failures by code');
    for (const x of r.failures) {
      out.push(`  ${String(x.code ?? '-').padEnd(7)} ×${n(x.count).padEnd(8)} ${x.title}`);
      if (x.means) out.push(`          ${x.means}`);
      if (x.wa_guard_did) out.push(`          wa-guard: ${x.wa_guard_did}`);
      out.push(`          e.g. ${x.examples.map((e) => `row ${e.row_id} (${e.wa_id || '?'})`).join(', ')}`);
    }
  }
  const groups = (title: string, first: string[], rows: { sent: number; delivered_rate: number | null; read_rate: number | null; failed: number }[], keys: string[][]): void => {
    if (!rows.length) return;
    out.push('', title, ...table([...first, 'SENT', 'DELIVERED', 'READ', 'FAILED'],
      rows.map((g, i) => [...keys[i]!, n(g.sent), pct(g.delivered_rate), pct(g.read_rate), n(g.failed)])).map((l) => `  ${l}`));
  };
  groups('By template', ['TEMPLATE', 'LANGUAGE'], r.by_template, r.by_template.map((t) => [t.template, t.language ?? '-']));
  groups('By country calling code', ['CODE'], r.by_country, r.by_country.map((t) => [`+${t.calling_code}`]));
  const t = r.timing;
  out.push('', `Time to delivered: p50 ${secs(t.to_delivered_s.p50)}, p95 ${secs(t.to_delivered_s.p95)}; to read: p50 ${secs(t.to_read_s.p50)}, p95 ${secs(t.to_read_s.p95)}`);
  const b = r.because_of_it;
  out.push(`Because of this campaign: blacklisted (131026) ${n(b.blacklisted)}, opted out ${n(b.opted_out)}${b.opted_out ? ` (${reasons(b.opted_out_by)})` : ''}`);
  return out.join('\n') + '\n';
}
