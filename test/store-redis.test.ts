import { Redis } from 'ioredis';
import { beforeEach, describe, expect, inject, it } from 'vitest';
import { RedisStore } from '../src/store/redis.js';
import { acquireToken } from '../src/store/rate.js';
import { redactRedisUrl, redisOptions } from '../src/store/redis-url.js';
import { runCli, spawnCli, tempDir } from './helpers.js';
import { hasRedisServer, startRedis } from './redis-server.js';
import { storeContract } from './store-contract.js';
import { join } from 'node:path';
import { FIXTURES } from './helpers.js';

const base = inject('redisUrl');
const url = `${base}/3`; // a database of its own

describe.skipIf(!base)('Redis store', () => {
  beforeEach(async () => {
    const redis = new Redis(url);
    await redis.flushdb();
    await redis.quit();
  });

  storeContract(() => RedisStore.open(url), () => url);

  it('keeps keys under the wa-guard: prefix, with TTLs as expirations', async () => {
    const store = await RedisStore.open(url);
    await store.set('status', [{ key: '+6281234567890', value: 'v', ttlMs: 60_000 }]);
    await store.close();
    const redis = new Redis(url);
    expect(await redis.keys('*')).toEqual(['wa-guard:status:+6281234567890']);
    expect(await redis.pttl('wa-guard:status:+6281234567890')).toBeGreaterThan(55_000);
    await redis.quit();
  });

  it('shares one token bucket between connections (GCRA on the server clock)', async () => {
    const stores = await Promise.all([1, 2, 3].map(() => RedisStore.open(url)));
    const started = Date.now();
    const waits: number[] = [];
    // 3 connections x 10 tokens at 50/s with burst 1: 30 tokens need at least ~580 ms.
    await Promise.all(stores.map(async (store) => {
      for (let i = 0; i < 10; i++) {
        await acquireToken(async () => {
          const wait = await store.takeToken('contacts', 50, 1);
          waits.push(wait);
          return wait;
        }, 10);
      }
    }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(560);
    // One bucket, not three: no booking is ever further ahead than the other two connections' bookings
    // (20 ms each), however slowly a busy machine runs the calls (a wall-clock bound failed under load).
    expect(Math.max(...waits)).toBeLessThanOrEqual(3 * 20 + 1);
    await Promise.all(stores.map((s) => s.close()));
  });

  it('an unreachable Redis is a clear error before any work (exit 1)', async () => {
    const dir = tempDir();
    const result = await runCli(['clean', join(FIXTURES, 'contacts.csv'), '-c', 'ID', '-o', join(dir, 'out'), '--store', 'redis://127.0.0.1:1/0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot connect to the Redis store at redis:\/\/127\.0\.0\.1:1\/0/);
  });

  it('clean works with the Redis store and never prints its password', async () => {
    const dir = tempDir();
    const result = await runCli(['clean', join(FIXTURES, 'contacts.csv'), '-c', 'ID', '-o', join(dir, 'out'), '--store', url, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).store).toMatchObject({ backend: 'redis' });
    const secret = await runCli(['clean', join(FIXTURES, 'contacts.csv'), '-o', join(dir, 'out2'), '--store', 'redis://user:hunter2@127.0.0.1:1/0']);
    expect(secret.stderr).toMatch(/redis:\/\/user:\*\*\*@127\.0\.0\.1:1\/0/);
    expect(secret.stderr).not.toMatch(/hunter2/);
    const at = await runCli(['clean', join(FIXTURES, 'contacts.csv'), '-o', join(dir, 'out3'), '--store', 'redis://user:p@ss@word@127.0.0.1:1/0']);
    expect(at.stderr).toMatch(/redis:\/\/user:\*\*\*@127\.0\.0\.1:1\/0/);
    expect(at.stderr).not.toMatch(/ss@word|p@ss/);
  });
});

describe('Redis URLs', () => {
  it('a password holding an unencoded / @ or # reaches the server intact, and is hidden in every message', async () => {
    expect(redisOptions('redis://u:p@ss/w#rd@h.example:6380/3')).toEqual({ username: 'u', password: 'p@ss/w#rd', host: 'h.example', port: 6380, db: 3 });
    expect(redisOptions('rediss://:a%2Fb@[::1]')).toEqual({ password: 'a/b', host: '::1', tls: { servername: '::1' } });
    expect(redactRedisUrl('redis://u:p@ss/w#rd@h.example:6380/3')).toBe('redis://u:***@h.example:6380/3');
    expect(redactRedisUrl('redis://secret@h')).toBe('redis://***@h');
    if (!hasRedisServer()) return;
    const password = 'p@ss/w#rd';
    const server = await startRedis(['--save', '', '--appendonly', 'no', '--requirepass', password]);
    try {
      const store = `redis://:${password}@127.0.0.1:${server.port}/0`;
      const listed = await spawnCli(['blacklist', 'add', '+6281234567890'], { env: { WA_GUARD_STORE: store } });
      expect([listed.code, listed.stderr]).toEqual([0, expect.not.stringMatching(/p@ss|DEP0170/)]);
      const wrong = await spawnCli(['blacklist', 'list'], { env: { WA_GUARD_STORE: store.replace('w#rd', 'w#rong') } });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/^wa-guard: cannot connect to the Redis store at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0: /);
      expect(wrong.stderr).not.toMatch(/p@ss|rong/);
    } finally {
      await server.stop();
    }
  });
});
