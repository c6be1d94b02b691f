// npm run bench:report: `wa-guard report` over one campaign of MESSAGES messages
// (1,000,000 by default) in an embedded store: their journal entries, lifecycles
// and replies written straight into the store first; then the report with
// --out-dir (report.json, messages.csv, report.html), its time and peak memory.
// The aim: at most 10 s and 300 MB.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbeddedStore } from '../dist/store/embedded.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'wa-guard.js');
const dir = join(root, 'bench', 'out', 'report');
const reuse = process.env.REUSE === '1'; // the store of the last run, as it is
if (!reuse) rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const MESSAGES = Number(process.env.MESSAGES ?? 1_000_000);
const T = 1_790_000_000;

const store = await EmbeddedStore.open(join(dir, 'store'));
const BATCH = 20_000;
for (let at = 0; at < (reuse ? 0 : MESSAGES); at += BATCH) {
  const journal = [], lifecycle = [], replies = [];
  for (let i = at; i < Math.min(MESSAGES, at + BATCH); i++) {
    const key = `bench:${i + 1}`;
    const to = String((i % 3 ? 6281200000000 : 5511900000000) + i);
    const sentAt = T + Math.floor(i / 100);
    journal.push({ key, value: JSON.stringify({ status: i % 50 === 0 ? 'failed' : 'sent', attempts: 1, at: new Date(sentAt * 1000).toISOString(), sent_at: new Date(sentAt * 1000).toISOString(), wamid: `wamid.${i}`, to }) });
    const kind = i % 10;
    const state = i % 50 === 0 ? 'failed' : kind < 5 ? 'read' : kind < 9 ? 'delivered' : 'sent';
    lifecycle.push({ key, value: JSON.stringify({ state, template: i % 4 ? 'order_update' : 'spring_sale', language: 'en_US', sent: sentAt + 1,
      ...(state === 'read' || state === 'delivered' ? { delivered: sentAt + 2 + (i % 30) } : {}), ...(state === 'read' ? { read: sentAt + 60 + (i % 600) } : {}),
      ...(state === 'failed' ? { failed: sentAt + 1, code: i % 100 === 0 ? 131026 : 131049, title: 'x' } : {}) }) });
    if (kind === 0 && state !== 'failed') replies.push({ key, value: JSON.stringify({ delivered: sentAt + 2, replied: sentAt + 3600 }) });
  }
  await store.set('journal', journal);
  await store.set('lifecycle', lifecycle);
  await store.set('replies', replies);
}
await store.close();

const out = join(dir, 'out');
// Peak memory sampled from /proc: RssAnon is the process's own memory; RssFile
// is mostly LMDB's memory map of the store (file pages, shared and reclaimable).
const child = spawn(process.execPath, [bin, 'report', 'bench', '--store', join(dir, 'store'), '-o', out, '-q'], { stdio: ['ignore', 'ignore', 'inherit'] });
const peak = { VmRSS: 0, RssAnon: 0, RssFile: 0 };
let cpuS = 0; // utime + stime, last seen (clock ticks of 1/100 s)
const t = performance.now();
const timer = setInterval(() => {
  try {
    for (const line of readFileSync(`/proc/${child.pid}/status`, 'utf8').split('\n')) {
      const [name, kb] = line.split(/:\s+/);
      if (name in peak) peak[name] = Math.max(peak[name], parseInt(kb, 10) / 1024);
    }
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    cpuS = (Number(fields[11]) + Number(fields[12])) / 100;
  } catch { /* exited */ }
}, 20);
const [code] = await once(child, 'close');
clearInterval(timer);
const seconds = (performance.now() - t) / 1000;
if (code !== 0) throw new Error(`report exited ${code}`);
console.log(`report of ${MESSAGES.toLocaleString('en-US')} messages: ${seconds.toFixed(1)} s (CPU ${cpuS.toFixed(1)} s); ` +
  `peak RSS ${peak.VmRSS.toFixed(0)} MB = process memory ${peak.RssAnon.toFixed(0)} MB + the store's memory map ${peak.RssFile.toFixed(0)} MB; ` +
  `messages.csv ${(statSync(join(out, 'messages.csv')).size / 1e6).toFixed(0)} MB (aim: 10 s, 300 MB)`);
