import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/server.js';
import { DEFAULT_TOKEN } from '../src/simulator/world.js';
import { BIN, FIXTURES, ROOT, files, readCsv, runCli, tempDir } from './helpers.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const env = { WA_GUARD_TOKEN: DEFAULT_TOKEN };

/** A CSV of `count` distinct Indonesian numbers, each once, plus a header. */
function numbersCsv(dir: string, count: number, name = 'numbers.csv'): string {
  const path = join(dir, name);
  const rows = Array.from({ length: count }, (_, i) => `${i + 1},+62 812 ${String(i).padStart(8, '0')}`);
  writeFileSync(path, `id,phone\n${rows.join('\n')}\n`);
  return path;
}

async function clean(input: string, dir: string, extra: string[] = [], store = join(dir, 'store')) {
  const out = join(dir, 'out');
  const result = await runCli(['clean', input, '-c', 'ID', '-o', out, '--store', store, '--contacts-url', sim!.url, '--json', ...extra], { env });
  return { ...result, out, summary: result.code === 0 || result.code === 3 ? JSON.parse(result.stdout) : undefined };
}

describe('clean with verification', () => {
  it('asks once per full batch, caches, rewrites wa_id as answered, and asks nothing the second time', async () => {
    sim = await startSimulator({ registeredFraction: 1, unregistered: ['+5511987654321', '+447400123456'] });
    const dir = tempDir();
    const first = await clean(join(FIXTURES, 'contacts.csv'), dir, ['--batch-size', '4']);
    expect(first.code).toBe(0);
    // 15 numbers survive normalization, de-duplication and policy: ceil(15 / 4) requests.
    expect(sim.stats().requests.contacts).toBe(4);
    expect(first.summary.verification).toMatchObject({ mode: 'online', requests: 4, numbers_checked: 15, cache_hits: 0 });
    const cleaned = Object.fromEntries(readCsv(join(first.out, 'cleaned.csv')).map((r) => [r.id, r]));
    expect(cleaned['9']).toMatchObject({ phone_e164: '+523312345678', wa_id: '5213312345678', wa_status: 'valid' });
    expect(cleaned['7']).toMatchObject({ phone_e164: '+5521998765432', wa_id: '5521998765432', wa_status: 'valid' }); // area 21 keeps its 9
    expect(cleaned['1']).toMatchObject({ wa_id: '6281234567890', wa_status: 'valid' });
    const purged = Object.fromEntries(readCsv(join(first.out, 'purged.csv')).map((r) => [r.id, r]));
    expect(purged['6']!.purge_reason).toBe('not_on_whatsapp');
    expect(purged['15']!.purge_reason).toBe('not_on_whatsapp');
    expect(readCsv(join(first.out, 'blacklist.csv')).map((r) => [r.wa_id, r.reason, r.strikes])).toEqual([
      ['447400123456', 'contacts_invalid', '1'], ['5511987654321', 'contacts_invalid', '1'], // sorted by number
    ]);
    expect(first.summary.wa_status).toEqual({ valid: 13, cached: 0, unverified: 0 });

    const second = await clean(join(FIXTURES, 'contacts.csv'), dir, ['--batch-size', '4']);
    expect(second.code).toBe(0);
    expect(sim.stats().requests.contacts).toBe(4); // no new request
    expect(second.summary.verification).toMatchObject({ requests: 0, cache_hits: 13 });
    expect(second.summary.wa_status).toEqual({ valid: 0, cached: 13, unverified: 0 });
    expect(readCsv(join(second.out, 'cleaned.csv')).find((r) => r.id === '9')).toMatchObject({ wa_id: '5213312345678', wa_status: 'cached' });
    // Numbers found invalid are on the blacklist now, so policy stops them before any check.
    const purgedAgain = Object.fromEntries(readCsv(join(second.out, 'purged.csv')).map((r) => [r.id, r]));
    expect(purgedAgain['6']).toMatchObject({ purge_reason: 'blacklisted' });
    expect(purgedAgain['6']!.purge_detail).toMatch(/contacts_invalid/);
  });

  it('sends ceil(unique uncached / batch size) requests on a larger file', async () => {
    sim = await startSimulator({ registeredFraction: 0.8 });
    const dir = tempDir();
    const first = await clean(numbersCsv(dir, 1234), dir, ['--rate', '1000']);
    expect(first.code).toBe(0);
    expect(sim.stats().requests.contacts).toBe(Math.ceil(1234 / 50));
    const { valid, cached } = first.summary.wa_status;
    expect(valid + first.summary.purged_by_reason.not_on_whatsapp).toBe(1234);
    expect(cached).toBe(0);
  });

  it('survives 429 and 5xx storms and resets with no row lost or doubled', async () => {
    // The endpoint takes 8 requests a second; the client is allowed 12, and a fifth of answers are 503s or resets.
    sim = await startSimulator({ registeredFraction: 1, contactsRps: 8, faults: { serverError: 0.15, reset: 0.05 } as never, seed: 3 });
    const dir = tempDir();
    const result = await clean(numbersCsv(dir, 300), dir, ['--batch-size', '10', '--rate', '12', '--concurrency', '6']);
    expect(result.code).toBe(0);
    expect(result.summary.verification.retries).toBeGreaterThan(3);
    expect(result.summary.verification.unresolved).toBe(0);
    const ids = readCsv(join(result.out, 'cleaned.csv')).map((r) => Number(r.id));
    expect(ids).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(result.summary.wa_status.valid).toBe(300);
    const stats = sim.stats();
    expect(stats.responses['429']).toBeGreaterThan(0);
    expect(stats.faults.server_error).toBeGreaterThan(0);
  });

  it('a refused token aborts at once with exit 1 and no outputs', async () => {
    sim = await startSimulator({ token: 'the-right-one' });
    const dir = tempDir();
    const result = await clean(join(FIXTURES, 'contacts.csv'), dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refused the token \(HTTP 401, code 190: \(#190\) Invalid OAuth access token\): check WA_GUARD_TOKEN/);
    expect(files(join(dir, 'out'))).toEqual([]);
    expect(sim.stats().requests.contacts).toBeLessThanOrEqual(4);
  });

  it('asks again for numbers answered "processing", in later requests', async () => {
    sim = await startSimulator({ registeredFraction: 1, processingFirst: true });
    const dir = tempDir();
    const result = await clean(numbersCsv(dir, 30), dir, ['--batch-size', '10']);
    expect(result.code).toBe(0);
    expect(result.summary.wa_status).toEqual({ valid: 30, cached: 0, unverified: 0 });
    expect(result.summary.verification.unresolved).toBe(0);
    expect(sim.stats().numbers_checked).toBe(60); // each number twice: "processing", then "valid"
    expect(sim.stats().requests.contacts).toBe(6); // and asked again in full batches, not one request each
  });

  it('re-asks "processing" numbers in full batches on a larger file', async () => {
    sim = await startSimulator({ registeredFraction: 1, processingFirst: true });
    const dir = tempDir();
    const result = await clean(numbersCsv(dir, 1714), dir);
    expect(result.code).toBe(0);
    expect(result.summary.wa_status.valid).toBe(1714);
    expect(sim.stats().requests.contacts).toBeLessThanOrEqual(2 * Math.ceil(1714 / 50) + 2);
  });

  it('stops at --max-checks and leaves the rest unverified', async () => {
    sim = await startSimulator({ registeredFraction: 1 });
    const dir = tempDir();
    const result = await clean(numbersCsv(dir, 120), dir, ['--max-checks', '100', '--batch-size', '25']);
    expect(result.code).toBe(0);
    expect(sim.stats().numbers_checked).toBe(100);
    expect(result.summary.wa_status).toEqual({ valid: 100, cached: 0, unverified: 20 });
    expect(result.summary.verification.over_budget).toBe(20);
    expect(result.stderr).toBe('');
  });

  it('paces requests: --rate 10 --burst 1 spaces them 100 ms apart', async () => {
    sim = await startSimulator({ registeredFraction: 1 });
    const dir = tempDir();
    const started = Date.now();
    const result = await clean(numbersCsv(dir, 200), dir, ['--batch-size', '10', '--rate', '10', '--burst', '1']);
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1800); // 20 requests, 19 gaps
    expect(sim.stats().peak_per_second.contacts).toBeLessThanOrEqual(12); // 10 granted a second; a stall of the simulator's process can stamp one more into a window
  });

  it('needs an endpoint for --verify and a token from the environment', async () => {
    const dir = tempDir();
    const args = ['clean', join(FIXTURES, 'contacts.csv'), '-c', 'ID', '-o', join(dir, 'out'), '--store', join(dir, 'store')];
    const noUrl = await runCli([...args, '--verify'], { env });
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(/--verify needs an endpoint/);
    const noToken = await runCli([...args, '--contacts-url', 'http://127.0.0.1:9']);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/set WA_GUARD_TOKEN/);
    const off = await runCli([...args, '--no-verify', '--json'], { env: { ...env, WA_GUARD_CONTACTS_URL: 'http://127.0.0.1:9' } });
    expect(off.code).toBe(0);
    expect(JSON.parse(off.stdout).verification.mode).toBe('offline');
  });

  it('resumes after kill -9: the re-run asks only for numbers not yet answered', async () => {
    sim = await startSimulator({ registeredFraction: 1 });
    const dir = tempDir();
    const input = numbersCsv(dir, 3000);
    const store = join(dir, 'store');
    const args = [BIN, 'clean', input, '-c', 'ID', '-o', join(dir, 'out'), '--store', store, '--contacts-url', sim.url, '--batch-size', '10', '--rate', '40', '--burst', '1', '-q'];
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH, ...env } });
    // Killed in the middle of the run, whatever the machine's load: once a few hundred numbers were answered.
    for (let i = 0; i < 400 && sim.stats().numbers_checked <= 300; i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    const checkedBefore = sim.stats().numbers_checked;
    expect(checkedBefore).toBeGreaterThan(200);
    expect(checkedBefore).toBeLessThan(3000);
    expect(files(join(dir, 'out')).filter((f) => !f.startsWith('.'))).toEqual([]); // nothing under a final name

    sim.reset();
    const second = await clean(input, dir, ['--batch-size', '10', '--rate', '1000'], store);
    expect(second.code).toBe(0);
    const { cache_hits: hits, numbers_checked: checked } = second.summary.verification;
    expect(hits + checked).toBe(3000);
    expect(hits).toBeGreaterThanOrEqual(checkedBefore - 40); // at most the batches in flight at the kill were lost
    expect(sim.stats().numbers_checked).toBe(checked);
    expect(second.summary.rows).toEqual({ input: 3000, cleaned: 3000, purged: 0 });
    expect(files(join(dir, 'out')).filter((f) => f.startsWith('.'))).toEqual([]); // the killed run's partial files are gone too
  });
});

const redisBase = inject('redisUrl');

describe.skipIf(!redisBase)('clean with verification on a Redis store', () => {
  it('two processes share one rate limit and one cache', async () => {
    const url = `${redisBase}/4`;
    const redis = new Redis(url);
    await redis.flushdb();
    await redis.quit();
    sim = await startSimulator({ registeredFraction: 1 });
    const dir = tempDir();
    const run = (name: string, first: number) => {
      const input = join(dir, `${name}.csv`);
      const rows = Array.from({ length: 200 }, (_, i) => `${i},+62 812 ${String(first + i).padStart(8, '0')}`);
      writeFileSync(input, `id,phone\n${rows.join('\n')}\n`);
      return new Promise<number>((resolve) => {
        const child = spawn(process.execPath, [BIN, 'clean', input, '-c', 'ID', '-o', join(dir, name), '--store', url, '--contacts-url', sim!.url, '--batch-size', '10', '--rate', '10', '--burst', '1', '-q'], { cwd: ROOT, env: { PATH: process.env.PATH, ...env } });
        child.on('close', (code) => resolve(code ?? -1));
      });
    };
    const started = Date.now();
    expect(await Promise.all([run('a', 0), run('b', 100)])).toEqual([0, 0]); // they overlap by 100 numbers
    const elapsed = Date.now() - started;
    const stats = sim.stats();
    // Tokens are granted 100 ms apart; arrival jitter on a busy machine can squeeze one or two more into a window.
    expect(stats.peak_per_second.contacts).toBeLessThanOrEqual(12);
    // 300 distinct numbers at most once each, plus the overlap checked by both at the same time at worst.
    expect(stats.numbers_checked).toBeGreaterThanOrEqual(300);
    expect(stats.numbers_checked).toBeLessThanOrEqual(400);
    expect(elapsed).toBeGreaterThanOrEqual((stats.requests.contacts! - 1) * 100 - 200);
    const summary = JSON.parse(readFileSync(join(dir, 'a', 'summary.json'), 'utf8'));
    expect(summary.store.backend).toBe('redis');
  });
});

describe.skipIf(!redisBase)('losing Redis mid-run', () => {
  it('stops with exit 1 and a clear message, leaving no outputs', async () => {
    const { startRedis } = await import('./redis-server.js');
    const redis = await startRedis();
    try {
      sim = await startSimulator({ registeredFraction: 1 });
      const dir = tempDir();
      const input = numbersCsv(dir, 2000);
      const child = spawn(process.execPath, [BIN, 'clean', input, '-c', 'ID', '-o', join(dir, 'out'), '--store', redis.url, '--contacts-url', sim.url, '--batch-size', '10', '--rate', '20', '--burst', '1'], { cwd: ROOT, env: { PATH: process.env.PATH, ...env } });
      let stderr = '';
      child.stderr.on('data', (b) => { stderr += b; });
      await new Promise((r) => setTimeout(r, 1200));
      await redis.stop();
      const code = await new Promise((r) => child.on('close', r));
      expect(code).toBe(1);
      expect(stderr).toMatch(/the Redis store at redis:\/\/127\.0\.0\.1:\d+ failed/);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(files(join(dir, 'out')).filter((f) => !f.startsWith('.'))).toEqual([]);
    } finally {
      await redis.stop();
    }
  });
});
