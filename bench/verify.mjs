// npm run bench:verify: how exactly clean --verify keeps to its rate.
//  A. 100,000 numbers against the simulator at --rate 200 --burst 1 (2,000 requests).
//  B. 4 processes on one Redis store sharing --rate 50 --burst 1 (1,000 requests in all).
// The simulator (its own process) counts arrivals in any one-second window.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'wa-guard.js');
const dir = join(root, 'bench', 'out', 'verify');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const token = 'bench-token';
const env = { ...process.env, WA_GUARD_TOKEN: token };

function numbers(path, first, count) {
  const rows = Array.from({ length: count }, (_, i) => `${first + i},+62 812 ${String(first + i).padStart(8, '0')}`);
  writeFileSync(path, `id,phone\n${rows.join('\n')}\n`);
}

function run(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b) => { out += b; });
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`wa-guard ${args[0]} exited ${code}`))));
  });
}

async function simulator() {
  const child = spawn(process.execPath, [bin, 'simulate', '--port', '0', '--token', token, '--registered-fraction', '0.9'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  const url = await new Promise((resolve) => child.stdout.once('data', (b) => resolve(String(b).trim())));
  return { url, stats: async () => (await fetch(`${url}/_sim/stats`)).json(), stop: () => child.kill('SIGTERM') };
}

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

// A
{
  const sim = await simulator();
  const input = join(dir, 'a.csv');
  numbers(input, 0, 100_000);
  const started = Date.now();
  const summary = JSON.parse(await run(['clean', input, '-c', 'ID', '--json', '-q', '-o', join(dir, 'a-out'), '--store', join(dir, 'a-store'),
    '--contacts-url', sim.url, '--rate', '200', '--burst', '1', '--batch-size', '50']));
  const stats = await sim.stats();
  sim.stop();
  const v = summary.verification;
  console.log(`A. 100,000 numbers, --rate 200 --burst 1: ${v.requests} requests in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
    `achieved ${v.requests_per_second} req/s (${((v.requests_per_second / 200 - 1) * 100).toFixed(2)}%); ` +
    `busiest one-second window at the server: ${stats.peak_per_second.contacts} requests`);
}

// B
if (spawnSync('redis-server', ['--version']).status === 0) {
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  const sim = await simulator();
  const store = `redis://127.0.0.1:${port}/0`;
  const started = Date.now();
  await Promise.all([0, 1, 2, 3].map((p) => {
    const input = join(dir, `b${p}.csv`);
    numbers(input, p * 12_500, 12_500);
    return run(['clean', input, '-c', 'ID', '-q', '-o', join(dir, `b${p}-out`), '--store', store,
      '--contacts-url', sim.url, '--rate', '50', '--burst', '1', '--batch-size', '50']);
  }));
  const stats = await sim.stats();
  const seconds = (Date.now() - started) / 1000;
  sim.stop();
  redis.kill('SIGTERM');
  console.log(`B. 4 processes, one Redis store, --rate 50 --burst 1: ${stats.requests.contacts} requests in ${seconds.toFixed(1)} s; ` +
    `busiest one-second window at the server: ${stats.peak_per_second.contacts} requests (limit 50)`);
} else {
  console.log('B. skipped: redis-server is not installed');
}
