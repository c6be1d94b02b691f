// npm run bench:mcp: check_message through the MCP SDK's own client over stdio,
// against `wa-guard mcp` on a store holding 1,000,000 numbers (status cache;
// a tenth also blacklisted, a tenth opted out). 10,000 calls one after the
// other: each call's round trip (client -> server -> store -> gate -> client),
// p50 / p99, and checks a second. Goal: p99 <= 1.69 ms, >= 2,000 checks/s.
// Both processes are new: the p99 of each half shows how much of the tail is
// warm-up (JIT compilation in server and client, sharing 2 cores).
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { openStore } from '../dist/store/open.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(root, 'bench', 'out');
mkdirSync(dir, { recursive: true });
const NUMBERS = Number(process.env.BENCH_NUMBERS ?? 1_000_000);
const CALLS = Number(process.env.BENCH_CALLS ?? 10_000);
const store = join(dir, `mcp-store-${NUMBERS}`);
const waId = (i) => `62812${String(i).padStart(8, '0')}`;

try { statSync(join(store, 'done')); } catch {
  const started = Date.now();
  const s = await openStore(store, {}, root);
  const at = new Date().toISOString();
  for (let i = 0; i < NUMBERS; i += 10_000) {
    const ids = Array.from({ length: Math.min(10_000, NUMBERS - i) }, (_, k) => waId(i + k));
    await s.set('status', ids.map((w) => ({ key: '+' + w, value: JSON.stringify({ status: 'valid', wa_id: w, checked_at: at, source: 'contacts' }), ttlMs: 7 * 86_400_000 })));
    await s.set('blacklist', ids.filter((_, k) => k % 10 === 3).map((w) => ({ key: w, value: JSON.stringify({ reason: 'bench', source: 'bench', first_seen: at, last_seen: at, strikes: 1 }) })));
    await s.set('optout', ids.filter((_, k) => k % 10 === 7).map((w) => ({ key: w, value: JSON.stringify({ source: 'bench', at }) })));
  }
  await s.sync();
  await s.close();
  (await import('node:fs')).writeFileSync(join(store, 'done'), at);
  console.log(`store of ${NUMBERS.toLocaleString('en-US')} numbers built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const transport = new StdioClientTransport({
  command: process.execPath,
  args: [join(root, 'bin', 'wa-guard.js'), 'mcp', '--store', store, '--templates', join(root, 'fixtures', 'templates.json'), '--tier', 'unlimited', '--read-only'],
  env: { PATH: process.env.PATH ?? '', ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}) }, stderr: 'ignore',
});
const client = new Client({ name: 'wa-guard-bench', version: '1' });
await client.connect(transport);
const args = (i) => (i % 4 === 0
  ? { to: '+' + waId((i * 7919) % NUMBERS), text: 'hello' }
  : { to: '+' + waId((i * 7919) % NUMBERS), template: { name: 'order_update', language: 'en_US', params: ['A-1', 'today'] } });
for (let i = 0; i < 500; i++) await client.callTool({ name: 'check_message', arguments: args(i) }); // warm-up
const times = new Float64Array(CALLS);
const decisions = {};
const started = process.hrtime.bigint();
for (let i = 0; i < CALLS; i++) {
  const t = process.hrtime.bigint();
  const r = await client.callTool({ name: 'check_message', arguments: args(i + 500) });
  times[i] = Number(process.hrtime.bigint() - t) / 1e6;
  const reason = r.structuredContent?.reason ?? 'error';
  decisions[reason] = (decisions[reason] ?? 0) + 1;
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await client.close();
const pctOf = (values, p) => values[Math.min(values.length - 1, Math.floor((p / 100) * values.length))].toFixed(3);
const halves = [times.slice(0, CALLS / 2).sort(), times.slice(CALLS / 2).sort()];
times.sort();
const pct = (p) => pctOf(times, p);
console.log(`check_message over stdio, ${CALLS.toLocaleString('en-US')} calls, store of ${NUMBERS.toLocaleString('en-US')} numbers: ` +
  `p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${times[CALLS - 1].toFixed(3)} ms; ${Math.round(CALLS / seconds).toLocaleString('en-US')} checks/s (one client, one call at a time)`);
console.log(`p99 of the first ${(CALLS / 2).toLocaleString('en-US')} calls ${pctOf(halves[0], 99)} ms, of the last ${(CALLS / 2).toLocaleString('en-US')} ${pctOf(halves[1], 99)} ms; node ${process.version}`);
console.log(`decisions: ${JSON.stringify(decisions)}`);
