// npm run bench:send: a live send against the simulator, and what the journal costs.
//  A. 10,000 messages at --mps 500 against the simulator with its limit at 500:
//     achieved messages/s, 130429 answers, busiest second at the server, CPU per message.
//  B. The journal alone: claim + resolve of 10,000 rows in the embedded store, µs a row.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbeddedStore } from '../dist/store/embedded.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'wa-guard.js');
const dir = join(root, 'bench', 'out', 'send');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const MESSAGES = Number(process.env.MESSAGES ?? 10_000);
const MPS = Number(process.env.MPS ?? 500);
const token = 'bench-token';
const env = { ...process.env, WA_GUARD_TOKEN: token };

// A
{
  const input = join(dir, 'campaign.csv');
  const rows = Array.from({ length: MESSAGES }, (_, i) => `${i + 1},+62 812 ${String(i).padStart(8, '0')},order_update,en_US,A-${i},today`);
  writeFileSync(input, `id,to,template,language,param_1,param_2\n${rows.join('\n')}\n`);
  const sim = spawn(process.execPath, [bin, 'simulate', '--port', '0', '--token', token, '--registered-fraction', '1', '--mps', String(MPS)], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  const url = await new Promise((resolve) => sim.stdout.once('data', (b) => resolve(String(b).trim())));
  const started = performance.now();
  const out = execFileSync(process.execPath, [bin, 'send', input, '-c', 'ID', '--phone-number-id', '100000000000001',
    '--api-url', url, '--templates', join(root, 'fixtures', 'templates.json'), '--tier', 'unlimited', '--mps', String(MPS),
    '-o', join(dir, 'out'), '--store', join(dir, 'store'), '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24 });
  const seconds = (performance.now() - started) / 1000;
  const summary = JSON.parse(out.toString());
  const stats = await (await fetch(`${url}/_sim/stats`)).json();
  sim.kill('SIGTERM');
  console.log(`A. ${MESSAGES.toLocaleString('en-US')} messages at --mps ${MPS} (simulator limit ${MPS}): ${summary.statuses.sent.toLocaleString('en-US')} sent in ${seconds.toFixed(1)} s; ` +
    `achieved ${summary.sending.achieved_mps} msg/s (first to last acceptance); 130429 answers: ${stats.errors['130429'] ?? 0}; ` +
    `busiest second at the server: ${stats.peak_per_second.messages}; most messages to one recipient: ${stats.max_per_recipient}; ` +
    `process CPU ${(summary.cpu_ms / MESSAGES * 1000).toFixed(0)} µs a message, peak RSS ${summary.peak_rss_mb} MB`);
}

// B
{
  const store = await EmbeddedStore.open(join(dir, 'journal-store'));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const inFlight = 32;
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < MESSAGES) {
      const key = `bench:${next++}`;
      await store.transact([{ namespace: 'journal', key }, { namespace: 'pair', key }], () => ({
        writes: [{ namespace: 'journal', key, value: '{"status":"inflight","attempts":0,"at":"2026-11-26T00:00:00.000Z"}' }, { namespace: 'pair', key, value: '0', ttlMs: 60_000 }],
        result: undefined,
      }));
      await store.transact([], () => ({ writes: [{ namespace: 'journal', key, value: '{"status":"sent","attempts":1,"at":"2026-11-26T00:00:00.000Z","wamid":"wamid.x"}' }], result: undefined }));
    }
  }));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await store.close();
  console.log(`B. journal claim + resolve (embedded, synced, ${inFlight} in flight): ${(wall * 1000 / MESSAGES).toFixed(0)} µs wall a row, ` +
    `${((cpu.user + cpu.system) / MESSAGES).toFixed(0)} µs CPU a row (${Math.round(MESSAGES / (wall / 1000)).toLocaleString('en-US')} rows/s)`);
}
