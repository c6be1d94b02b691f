import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open.js';
import { runCli, tempDir } from './helpers.js';

/** Debian's chromium (.ci/run installs it); the test is skipped, saying so, where it is missing. */
const CHROMIUM = ['chromium', 'chromium-browser'].find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
if (!CHROMIUM) console.warn('chromium is not installed: the report.html browser test is skipped (apt-get install chromium)');

const status = (id: string, st: string, at: number, to: string, extra: object = {}): string =>
  JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: 'w', changes: [{ field: 'messages', value: { statuses: [{ id, status: st, timestamp: String(at), recipient_id: to, ...extra }] } }] }] });

/** The page as a headless browser renders it (scripts run), as HTML. */
function renderedDom(file: string, profile: string): string {
  const run = spawnSync(CHROMIUM!, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, '--window-size=500,900', '--dump-dom', `file://${file}`], { timeout: 60_000, maxBuffer: 1 << 24 });
  expect(run.status, String(run.stderr)).toBe(0);
  return run.stdout.toString();
}

/** A script that records each chart's rendered size, the viewport's and the page's in the page (what this test reads from the rendered DOM). */
const SIZES = `<script>addEventListener('load',function(){var o=[];document.querySelectorAll('svg').forEach(function(s){var b=s.getBoundingClientRect();o.push(s.id+':'+Math.round(b.width)+'x'+Math.round(b.height))});o.push('viewport:'+innerWidth+'x'+innerHeight,'page:'+document.documentElement.scrollWidth+'x'+document.documentElement.scrollHeight);document.getElementById('chart-sizes').textContent=o.join(' ')})</script>`;

describe.skipIf(!CHROMIUM)('report.html in a real browser', () => {
  it('shows report.json\'s funnel numbers, and its charts render with a size on a narrow screen', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const s = await openStore(store, {}, dir);
    const T = Date.parse('2026-11-25T10:00:00.000Z') / 1000;
    const rows = Array.from({ length: 40 }, (_, i) => i + 1);
    await s.set('journal', rows.map((i) => ({ key: `demo:${i}`, value: JSON.stringify({ status: 'sent', attempts: 1, at: '2026-11-25T10:00:00.000Z', sent_at: '2026-11-25T10:00:00.000Z', wamid: `wamid.${i}`, to: String(6281200000000 + i) }) })));
    await s.set('wamids', rows.map((i) => ({ key: `wamid.${i}`, value: `demo:${i}` })));
    await s.close();
    writeFileSync(join(dir, 'h.jsonl'), rows.map((i) => {
      const to = String(6281200000000 + i);
      if (i % 10 === 0) return status(`wamid.${i}`, 'failed', T + 3, to, { errors: [{ code: 131026 }] });
      return [status(`wamid.${i}`, 'delivered', T + i * 30, to), ...(i % 3 ? [status(`wamid.${i}`, 'read', T + i * 60, to)] : [])].join('\n');
    }).join('\n') + '\n');
    expect((await runCli(['ingest', join(dir, 'h.jsonl'), '--store', store, '-q'])).code).toBe(0);
    const out = join(dir, 'out');
    expect((await runCli(['report', 'demo', '--store', store, '-o', out, '-q'])).code).toBe(0);

    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    // The page as shipped has no script; a copy with one that writes each chart's rendered size into the page is what the browser renders.
    const measured = join(dir, 'measured.html');
    writeFileSync(measured, readFileSync(join(out, 'report.html'), 'utf8').replace('</body>', `<output id="chart-sizes"></output>${SIZES}</body>`));
    const dom = renderedDom(measured, join(dir, 'profile'));
    const f = report.funnel;
    expect(f).toMatchObject({ sent: 40, delivered: 36, failed: 4 });
    for (const [label, value] of [['rows', f.rows], ['sent', f.sent], ['delivered', f.delivered], ['read', f.read], ['failed', f.failed]] as const) {
      expect(dom, label).toMatch(new RegExp(`>${label}</text>.*?>${value.toLocaleString('en-US')}[ <]`));
    }
    expect(dom).toContain('Message undeliverable');
    const sizes = Object.fromEntries([...(/id="chart-sizes">([^<]*)</.exec(dom)?.[1] ?? '').matchAll(/(\w+):(\d+)x(\d+)/g)].map((m) => [m[1], [Number(m[2]), Number(m[3])]]));
    for (const chart of ['funnel', 'timeline', 'failures']) {
      expect(sizes[chart]?.[0], chart).toBeGreaterThan(100);
      expect(sizes[chart]?.[1], chart).toBeGreaterThan(10);
      expect(sizes[chart]?.[0], chart).toBeLessThanOrEqual(sizes.viewport![0]!);
    }
    // A narrow screen (headless chromium's narrowest, 500 px) scrolls down, never sideways.
    expect(sizes.page![0]).toBeLessThanOrEqual(sizes.viewport![0]!);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).not.toMatch(/<(link|img|iframe|script)\b|src=|https?:\/\/(?!www\.w3\.org)/);
  });
});
