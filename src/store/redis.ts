import { Redis } from 'ioredis';
import { CliError } from '../errors.js';
import { redactUrl, type Store, type StoreEntry } from './store.js';

const PREFIX = 'wa-guard:';
const BATCH = 1000;
const CONNECT_TIMEOUT_MS = 5000;

/**
 * GCRA on the Redis server's clock (see rate.ts), so every process sharing the
 * store shares one bucket. Books the next slot; returns the microseconds to wait for it.
 */
const TAKE_TOKEN = `
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local slot = math.max(tat - tolerance, now)
local nextTat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', nextTat), 'PX', math.ceil((nextTat - now) / 1000) + 1000)
return math.ceil(slot - now)
`;

type RedisWithToken = Redis & { waGuardTakeToken(key: string, interval: number, tolerance: number): Promise<number> };

/**
 * The shared store: keys under `wa-guard:<namespace>:`, TTLs as Redis
 * expirations, batches pipelined. For cron jobs and several machines sharing
 * one cache, blacklist and rate limit.
 */
export class RedisStore implements Store {
  readonly backend = 'redis';

  private constructor(private readonly redis: RedisWithToken, readonly location: string) {}

  static async open(url: string): Promise<RedisStore> {
    const location = redactUrl(url);
    const redis = new Redis(url, {
      lazyConnect: true,
      connectTimeout: CONNECT_TIMEOUT_MS,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: false,
      // Give up quickly: a cron job should fail with a clear message, not hang.
      retryStrategy: (attempt) => (attempt > 3 ? null : attempt * 200),
    }) as RedisWithToken;
    redis.on('error', () => undefined); // surfaced through the failing command instead
    redis.defineCommand('waGuardTakeToken', { numberOfKeys: 1, lua: TAKE_TOKEN });
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      redis.disconnect();
      throw new CliError(`cannot connect to the Redis store at ${location}: ${(err as Error).message}`);
    }
    return new RedisStore(redis, location);
  }

  private key(namespace: string, key: string): string {
    return `${PREFIX}${namespace}:${key}`;
  }

  private async run<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      throw new CliError(`the Redis store at ${this.location} failed (${what}): ${(err as Error).message}`);
    }
  }

  async get(namespace: string, keys: readonly string[]): Promise<(string | undefined)[]> {
    const values: (string | undefined)[] = [];
    for (let at = 0; at < keys.length; at += BATCH) {
      const slice = keys.slice(at, at + BATCH).map((k) => this.key(namespace, k));
      const got = await this.run('read', () => this.redis.mget(slice));
      for (const value of got) values.push(value ?? undefined);
    }
    return values;
  }

  async set(namespace: string, entries: readonly StoreEntry[]): Promise<void> {
    for (let at = 0; at < entries.length; at += BATCH) {
      const pipeline = this.redis.pipeline();
      for (const { key, value, ttlMs } of entries.slice(at, at + BATCH)) {
        if (ttlMs === undefined) pipeline.set(this.key(namespace, key), value);
        else pipeline.set(this.key(namespace, key), value, 'PX', Math.max(1, Math.round(ttlMs)));
      }
      await this.run('write', async () => {
        for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
      });
    }
  }

  async delete(namespace: string, keys: readonly string[]): Promise<void> {
    for (let at = 0; at < keys.length; at += BATCH) {
      const slice = keys.slice(at, at + BATCH).map((k) => this.key(namespace, k));
      if (slice.length) await this.run('delete', () => this.redis.del(...slice));
    }
  }

  async *scan(namespace: string): AsyncIterable<[string, string]> {
    const prefix = this.key(namespace, '');
    let cursor = '0';
    do {
      const [next, keys] = await this.run('scan', () => this.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', BATCH));
      cursor = next;
      if (keys.length) {
        const values = await this.run('read', () => this.redis.mget(keys));
        for (let i = 0; i < keys.length; i++) {
          if (values[i] !== null) yield [keys[i]!.slice(prefix.length), values[i]!];
        }
      }
    } while (cursor !== '0');
  }


  async takeToken(bucket: string, rate: number, burst: number): Promise<number> {
    const interval = 1_000_000 / rate;
    const tolerance = interval * (Math.max(1, burst) - 1);
    const waitMicros = await this.run('rate limit', () => this.redis.waGuardTakeToken(this.key('rate', bucket), interval, tolerance));
    return Number(waitMicros) / 1000;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
