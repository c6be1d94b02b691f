// npm run bench:simulate: how many requests per second the simulator serves on
// loopback. The simulator runs in its own process (as users run it); the load
// comes from this process through an undici keep-alive pool.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

const root = fileURLToPath(new URL('..', import.meta.url));
const TOTAL = Number(process.env.BENCH_REQUESTS ?? 40_000);
const CONCURRENCY = 64;
const token = 'bench-token';

const child = spawn(process.execPath, [`${root}/bin/wa-guard.js`, 'simulate', '--port', '0', '--token', token, '--mps', '100000', '--pair-interval', '0', '--registered-fraction', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  child.stdout.once('data', (b) => resolve(String(b).trim()));
  child.once('exit', (code) => reject(new Error(`the simulator exited with code ${code}`)));
});
const pool = new Pool(url, { connections: 16 });
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

async function load(name, makeRequest) {
  let next = 0;
  let failed = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < TOTAL) {
      const i = next++;
      const res = await pool.request(makeRequest(i));
      await res.body.dump();
      if (res.statusCode !== 200) failed++;
    }
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`${name.padEnd(10)} ${String(TOTAL).padStart(7)} requests in ${seconds.toFixed(2)} s = ${Math.round(TOTAL / seconds).toLocaleString('en-US').padStart(7)} req/s (${failed} not 200)`);
}

const number = (i) => `+62812${String(i).padStart(8, '0')}`;
await load('contacts', (i) => ({ path: '/v1/contacts', method: 'POST', headers, body: JSON.stringify({ blocking: 'wait', contacts: [number(i)] }) }));
await load('messages', (i) => ({
  path: '/v21.0/100000000000001/messages', method: 'POST', headers,
  body: JSON.stringify({ messaging_product: 'whatsapp', to: number(i), type: 'template', template: { name: 'hello_world', language: { code: 'en_US' } } }),
}));
await pool.close();
child.kill('SIGTERM');
