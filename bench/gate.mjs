// npm run bench:gate: the compliance gate on a 1,000,000-row campaign.
//  1. `send --dry-run` end to end (read, normalize, gate, write): rows/s and peak RSS.
//  2. gate() + plan.record() alone on pre-normalized messages: µs per decision.
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gate } from '../dist/gate/gate.js';
import { Plan } from '../dist/gate/plan.js';
import { loadTemplates } from '../dist/gate/templates.js';
import { normalizePhone } from '../dist/phone.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(root, 'bench', 'out');
mkdirSync(dir, { recursive: true });
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const input = join(dir, `campaign-${ROWS}.csv`);
const templatesFile = join(root, 'fixtures', 'templates.json');
const NOW = '2026-11-24T12:00:00Z';

function row(i) {
  const n = `+62 812 ${String(i % 900_000).padStart(8, '0')}`; // some users get two messages
  switch (i % 10) {
    case 0: return `${i},${n},spring_sale,en_US,20%,,,`;
    case 1: return `${i},${n},,,,,"Thanks, see you soon",2026-11-24T0${i % 10}:00:00Z`;
    case 2: return `${i},+1 212 555 ${String(i % 10000).padStart(4, '0')},spring_sale,en_US,10%,,,`;
    case 3: return `${i},${n},order_update,en_US,A-${i},,,`; // a parameter short
    default: return `${i},${n},order_update,en_US,A-${i},tomorrow,,`;
  }
}

try { statSync(input); } catch {
  const out = createWriteStream(input);
  out.write('id,to,template,language,param_1,param_2,text,last_inbound_at\n');
  let batch = '';
  for (let i = 1; i <= ROWS; i++) {
    batch += row(i) + '\n';
    if (batch.length > 1 << 16) { if (!out.write(batch)) await once(out, 'drain'); batch = ''; }
  }
  out.end(batch);
  await once(out, 'finish');
}

const started = process.hrtime.bigint();
const summary = JSON.parse(execFileSync(process.execPath, [join(root, 'bin', 'wa-guard.js'), 'send', input, '--dry-run', '-c', 'ID',
  '--templates', templatesFile, '--now', NOW, '--tier', 'unlimited', '--json', '-o', join(dir, 'gate-out'), '--store', join(dir, 'gate-store')],
  { encoding: 'utf8', maxBuffer: 1 << 24 }));
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(`send --dry-run, ${ROWS.toLocaleString('en-US')} rows: ${seconds.toFixed(2)} s, ${Math.round(ROWS / seconds).toLocaleString('en-US')} rows/s, peak RSS ${summary.peak_rss_mb} MB; ` +
  `send ${summary.decisions.send}, defer ${summary.decisions.defer}, block ${summary.decisions.block}`);

// gate() alone: messages built up front (normalization is measured above, not here).
const templates = await loadTemplates(templatesFile, root);
const COUNT = 1_000_000;
const messages = [];
const users = Array.from({ length: 1000 }, (_, i) => normalizePhone(`+62 812 ${String(i).padStart(8, '0')}`));
for (let i = 0; i < COUNT; i++) {
  messages.push(i % 2
    ? { to: users[i % 1000], template: { name: 'order_update', language: 'en_US', params: [`A-${i}`, 'tomorrow'] } }
    : { to: users[i % 1000], text: 'hi', lastInboundAt: Date.parse(NOW) - 3600e3 });
}
const now = Date.parse(NOW);
const config = { templates, tier: Infinity, pairIntervalMs: 6000 };
for (const round of ['warm-up', 'measured']) {
  const plan = new Plan(now, 80, 0);
  const t0 = process.hrtime.bigint();
  for (const m of messages) plan.record(m, gate(m, {}, plan, now, config));
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / COUNT;
  if (round === 'measured') console.log(`gate() + plan.record(): ${us.toFixed(2)} µs per decision over ${COUNT.toLocaleString('en-US')} messages`);
}
