/**
 * report.html: one self-contained page (no network: inline CSS and SVG),
 * readable on a phone and on paper, with the numbers of report.json.
 */
import type { CampaignReport } from './figures.js';

const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const n = (v: number): string => v.toLocaleString('en-US');
const pct = (r: number | null): string => (r === null ? '–' : `${(r * 100).toFixed(1)}%`);

const CSS = `body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1a1a1a}
h1{font-size:1.35rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.6rem 0 .4rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}td,th{padding:.25rem .5rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.n,th.n{text-align:right}.muted{color:#555;font-size:.9em}svg{width:100%;height:auto;display:block}
.wrap{overflow-x:auto}@media print{body{max-width:none;font-size:11pt}h2{break-after:avoid}svg,table{break-inside:avoid}}
@media (max-width:40rem){body{font-size:14px;padding:.5rem}td,th{padding:.2rem .3rem}}`;

/** Horizontal bars: label, value, bar; one row each. */
function bars(id: string, rows: { label: string; value: number; note?: string }[], color: string): string {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const h = 26;
  const body = rows.map((r, i) => {
    const w = Math.max(r.value > 0 ? 1 : 0, (r.value / max) * 230);
    const y = i * h;
    return `<text x="0" y="${y + 17}" font-size="13">${esc(r.label)}</text><rect x="120" y="${y + 4}" width="${w.toFixed(1)}" height="${h - 8}" fill="${color}"/>` +
      `<text x="${(126 + w).toFixed(1)}" y="${y + 17}" font-size="13">${n(r.value)}${r.note ? ` (${esc(r.note)})` : ''}</text>`;
  }).join('');
  return `<svg id="${id}" viewBox="0 0 560 ${Math.max(h, rows.length * h)}" role="img" aria-label="${id}">${body}</svg>`;
}

/** Deliveries and reads per time bucket, as two bar series. */
function timelineChart(r: CampaignReport): string {
  const t = r.timeline;
  if (!t.deliveries.length) return '<p class="muted">No deliveries or reads yet.</p>';
  const max = Math.max(1, ...t.deliveries, ...t.reads);
  const width = 600 / t.deliveries.length;
  const bar = (v: number, i: number, dx: number, color: string): string =>
    `<rect x="${(30 + i * width + dx).toFixed(1)}" y="${(170 - (v / max) * 150).toFixed(1)}" width="${Math.max(0.5, width / 2 - 1).toFixed(1)}" height="${((v / max) * 150).toFixed(1)}" fill="${color}"/>`;
  const body = t.deliveries.map((v, i) => bar(v, i, 0, '#2b7a4b')).join('') + t.reads.map((v, i) => bar(v, i, width / 2, '#3b6fb6')).join('');
  return `<svg id="timeline" viewBox="0 0 640 200" role="img" aria-label="deliveries and reads over time">` +
    `<line x1="30" y1="170" x2="630" y2="170" stroke="#999"/><text x="30" y="190" font-size="12">${esc(t.start)} · one bar each ${t.bucket_s / 60} min · max ${n(max)}</text>` +
    `<rect x="460" y="2" width="10" height="10" fill="#2b7a4b"/><text x="474" y="11" font-size="12">delivered</text><rect x="550" y="2" width="10" height="10" fill="#3b6fb6"/><text x="564" y="11" font-size="12">read</text>${body}</svg>`;
}

function groupTable(head: string[], rows: { cells: string[]; sent: number; delivered_rate: number | null; read_rate: number | null; failed: number }[]): string {
  if (!rows.length) return '<p class="muted">None.</p>';
  return `<div class="wrap"><table><tr>${head.map((h) => `<th>${h}</th>`).join('')}<th class="n">sent</th><th class="n">delivered</th><th class="n">read</th><th class="n">failed</th></tr>` +
    rows.map((g) => `<tr>${g.cells.map((c) => `<td>${esc(c)}</td>`).join('')}<td class="n">${n(g.sent)}</td><td class="n">${pct(g.delivered_rate)}</td><td class="n">${pct(g.read_rate)}</td><td class="n">${n(g.failed)}</td></tr>`).join('') +
    '</table></div>';
}

export function reportHtml(r: CampaignReport): string {
  const f = r.funnel;
  const c = r.campaign;
  const funnel = [
    { label: 'rows', value: f.rows },
    { label: 'blocked', value: f.blocked.total },
    { label: 'deferred', value: f.deferred.total },
    { label: 'sent', value: f.sent },
    { label: 'delivered', value: f.delivered, note: `${pct(f.rates.delivered)} of sent` },
    { label: 'read', value: f.read, note: `${pct(f.rates.read)} of delivered` },
    { label: 'replied', value: f.replied, note: `${pct(f.rates.replied)} of delivered` },
    { label: 'failed', value: f.failed },
    { label: 'awaiting status', value: f.awaiting },
  ];
  const failures = r.failures.length
    ? bars('failures', r.failures.map((x) => ({ label: String(x.code ?? 'no code'), value: x.count, note: x.title })), '#b3412e') +
      `<div class="wrap"><table><tr><th>code</th><th class="n">count</th><th>what it means</th><th>what wa-guard did</th><th>examples</th></tr>${r.failures.map((x) =>
        `<tr><td>${esc(x.code ?? '–')} ${esc(x.title)}</td><td class="n">${n(x.count)}</td><td>${esc(x.means ?? '')}</td><td>${esc(x.wa_guard_did ?? '')}</td><td>${x.examples.map((e) => `row ${esc(e.row_id)} (${esc(e.wa_id)})`).join(', ')}</td></tr>`).join('')}</table></div>`
    : '<p class="muted">No failures.</p>';
  const t = r.timing;
  const b = r.because_of_it;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>wa-guard report: ${esc(c.name ?? c.id)}</title><style>${CSS}</style></head><body>
<h1>Campaign ${esc(c.id)}${c.name ? ` <span class="muted">${esc(c.name)}</span>` : ''}</h1>
<p class="muted">First send ${esc(c.first_send ?? '–')} · last send ${esc(c.last_send ?? '–')} · replies and opt-outs within ${r.attribution_hours}h of delivery</p>
<h2>Funnel</h2>${bars('funnel', funnel, '#2b7a4b')}
${f.awaiting ? `<p>${n(f.awaiting)} messages await a status webhook: <code>wa-guard listen</code> or <code>wa-guard ingest FILE</code> brings them.</p>` : ''}
<h2>Deliveries and reads over time</h2>${timelineChart(r)}
<h2>Failures by code</h2>${failures}
<h2>By template</h2>${groupTable(['template', 'language'], r.by_template.map((g) => ({ ...g, cells: [g.template, g.language ?? '–'] })))}
<h2>By country calling code</h2>${groupTable(['code'], r.by_country.map((g) => ({ ...g, cells: [`+${g.calling_code}`] })))}
<h2>Timing</h2><p>Time to delivered: p50 ${t.to_delivered_s.p50 ?? '–'} s, p95 ${t.to_delivered_s.p95 ?? '–'} s. Time to read: p50 ${t.to_read_s.p50 ?? '–'} s, p95 ${t.to_read_s.p95 ?? '–'} s.</p>
<h2>Because of this campaign</h2><p>${n(b.blacklisted)} ${b.blacklisted === 1 ? 'number' : 'numbers'} blacklisted (131026); ${n(b.opted_out)} ${b.opted_out === 1 ? 'user' : 'users'} opted out${Object.keys(b.opted_out_by).length ? ` (${Object.entries(b.opted_out_by).map(([k, v]) => `${esc(k)} ${n(v)}`).join(', ')})` : ''}.</p>
<p class="muted">Generated by wa-guard report.</p>
</body></html>
`;
}
