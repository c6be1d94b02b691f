// npm run bench:store: what the store costs.
//  A. Open time and RSS of an embedded store holding 5,000,000 cache entries
//     (a fresh process each time), and a 26-row clean on it.
//  B. Batched set/get throughput, 1,000,000 keys in batches of 1,000, on both backends.
//  C. clean --contacts-url re-run over 1,000,000 rows whose numbers are all cached.
// STORE_ENTRIES / CLEAN_ROWS change the sizes (e.g. for a quick look).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './generate.mjs';
import { EmbeddedStore } from '../dist/store/embedded.js';
import { openStore } from '../dist/store/open.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'wa-guard.js');
const out = join(root, 'bench', 'out', 'store');
mkdirSync(out, { recursive: true });
const ENTRIES = Number(process.env.STORE_ENTRIES ?? 5_000_000);
const ROWS = Number(process.env.CLEAN_ROWS ?? 1_000_000);
const n = (v) => Math.round(v).toLocaleString('en-US');
const value = (i) => JSON.stringify({ status: i % 5 ? 'valid' : 'invalid', ...(i % 5 ? { wa_id: String(628120000000 + i) } : {}), checked_at: '2026-11-20T00:00:00.000Z', source: 'contacts:bench' });

// A
{
  const dir = join(out, `cache-${ENTRIES}`);
  if (!existsSync(join(dir, 'filled'))) {
    rmSync(dir, { recursive: true, force: true });
    const store = await EmbeddedStore.open(dir);
    const started = performance.now();
    for (let at = 0; at < ENTRIES; at += 10_000) {
      await store.set('status', Array.from({ length: Math.min(10_000, ENTRIES - at) }, (_, k) => ({ key: `+${628120000000 + at + k}`, value: value(at + k), ttlMs: 30 * 86_400_000 })));
    }
    await store.close();
    writeFileSync(join(dir, 'filled'), '');
    console.log(`A. filled ${n(ENTRIES)} cache entries in ${((performance.now() - started) / 1000).toFixed(1)} s; data file ${(Number(execFileSync('du', ['-sm', dir]).toString().split('\t')[0]))} MB`);
  }
  const probe = `
    const { EmbeddedStore } = await import(${JSON.stringify(join(root, 'dist', 'store', 'embedded.js'))});
    await import('lmdb'); // loading the binding is start-up, not open: reported apart
    const t0 = performance.now();
    const store = await EmbeddedStore.open(${JSON.stringify(dir)});
    const opened = performance.now() - t0;
    const keys = Array.from({ length: 1000 }, (_, i) => '+' + (628120000000 + Math.floor(Math.random() * ${ENTRIES})));
    const got = await store.get('status', keys);
    if (got.some((v) => v === undefined)) throw new Error('missing entries');
    await store.close();
    console.log(JSON.stringify({ opened, rss: process.memoryUsage().rss }));`;
  const runs = [1, 2, 3, 4, 5].map(() => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', probe]).toString()));
  const opens = runs.map((r) => r.opened).sort((a, b) => a - b);
  const rss = runs.map((r) => r.rss / 2 ** 20).sort((a, b) => a - b);
  const bare = JSON.parse(execFileSync(process.execPath, ['-e', 'console.log(process.memoryUsage().rss)']).toString()) / 2 ** 20;
  const t0 = performance.now();
  execFileSync(process.execPath, [bin, 'clean', join(root, 'fixtures', 'contacts.csv'), '-c', 'ID', '-q', '-o', join(out, 'a-clean'), '--store', dir]);
  const cleanMs = performance.now() - t0;
  console.log(`A. open a store of ${n(ENTRIES)} cache entries: median ${opens[2].toFixed(1)} ms (min ${opens[0].toFixed(1)}, max ${opens[4].toFixed(1)}); ` +
    `RSS after open + 1,000 random gets: ${rss[2].toFixed(0)} MB (bare node: ${bare.toFixed(0)} MB); a 26-row clean on it: ${cleanMs.toFixed(0)} ms`);
}

// B
async function throughput(label, spec) {
  const store = await openStore(spec, process.env, root);
  const total = 1_000_000;
  let t = performance.now();
  for (let at = 0; at < total; at += 1000) {
    await store.set('bench', Array.from({ length: 1000 }, (_, k) => ({ key: String(at + k), value: value(at + k) })));
  }
  const setRate = total / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let at = 0; at < total; at += 1000) {
    await store.get('bench', Array.from({ length: 1000 }, (_, k) => String(at + k)));
  }
  const getRate = total / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let at = 0; at < 200_000; at += 1000) {
    await store.set('status', Array.from({ length: 1000 }, (_, k) => ({ key: String(at + k), value: value(at + k) })));
  }
  const batchedRate = 200_000 / ((performance.now() - t) / 1000);
  await store.close();
  console.log(`B. ${label}: set ${n(setRate)} keys/s (synced), status cache set ${n(batchedRate)} keys/s, get ${n(getRate)} keys/s (batches of 1,000)`);
}
rmSync(join(out, 'b-store'), { recursive: true, force: true });
await throughput('embedded', join(out, 'b-store'));
const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});
if (spawnSync('redis-server', ['--version']).status === 0) {
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  await throughput('redis', `redis://127.0.0.1:${port}/0`);
  redis.kill('SIGTERM');
} else {
  console.log('B. redis: skipped, redis-server is not installed');
}

// C
{
  const input = join(out, `c-${ROWS}.csv`);
  if (!existsSync(input)) await generate(input, ROWS);
  const store = join(out, 'c-store');
  rmSync(store, { recursive: true, force: true });
  const env = { ...process.env, WA_GUARD_TOKEN: 'bench-token' };
  const sim = spawn(process.execPath, [bin, 'simulate', '--port', '0', '--token', 'bench-token', '--registered-fraction', '0.9'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  const url = await new Promise((resolve) => sim.stdout.once('data', (b) => resolve(String(b).trim())));
  const clean = (name) => {
    const t = performance.now();
    const summary = JSON.parse(execFileSync(process.execPath, [bin, 'clean', input, '--json', '-q', '-o', join(out, name), '--store', store,
      '--contacts-url', url, '--rate', '2000', '--batch-size', '1000', '--concurrency', '8'], { env, maxBuffer: 1 << 24 }).toString());
    return { seconds: (performance.now() - t) / 1000, summary };
  };
  const first = clean('c-first');
  const again = clean('c-again');
  sim.kill('SIGTERM');
  const v = again.summary.verification;
  console.log(`C. clean --contacts-url over ${n(ROWS)} rows: first run ${first.seconds.toFixed(1)} s (${n(first.summary.verification.numbers_checked)} numbers asked); ` +
    `re-run ${again.seconds.toFixed(1)} s, ${n(again.summary.rows.input / again.seconds)} rows/s, ${n(v.cache_hits)} cache hits, ${v.requests} requests`);
}
