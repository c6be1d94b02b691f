import { Redis } from 'ioredis';
import { CliError } from '../errors.js';
import { redactRedisUrl, redisOptions } from './redis-url.js';
import { redisDurability } from './redis-durability.js';
import type { Decide, Durability, Store, StoreEntry, StoreKey, StoreWrite, TransactOptions } from './store.js';

const PREFIX = 'wa-guard:';
const BATCH = 1000;
const CONNECT_TIMEOUT_MS = 5000;
const COMMAND_TIMEOUT_MS = 10_000;
/** Optimistic transactions retried this often when other processes keep changing the same keys. */
const TRANSACT_ATTEMPTS = 100;

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

  /** WATCH belongs to a connection: transactions get their own, one at a time. */
  private txConnection: Redis | undefined;
  private txQueue: Promise<unknown> = Promise.resolve();
  /** Each durable transaction waits for the server's fsync of the AOF (WAITAOF, Redis 7.2+), once durability() found it works. */
  private waitAof = false;

  private constructor(private readonly redis: RedisWithToken, readonly location: string) {}

  static async open(url: string): Promise<RedisStore> {
    const location = redactRedisUrl(url);
    // Options, not the URL: ioredis would hand it to url.parse (a DEP0170 warning that prints it, password and all).
    const redis = new Redis({
      ...redisOptions(url),
      lazyConnect: true,
      connectTimeout: CONNECT_TIMEOUT_MS,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: false,
      commandTimeout: COMMAND_TIMEOUT_MS,
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

  async *scan(namespace: string, keyPrefix = ''): AsyncIterable<[string, string]> {
    const prefix = this.key(namespace, '');
    const match = `${globEscape(this.key(namespace, keyPrefix))}*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.run('scan', () => this.redis.scan(cursor, 'MATCH', match, 'COUNT', BATCH));
      cursor = next;
      if (keys.length) {
        const values = await this.run('read', () => this.redis.mget(keys));
        for (let i = 0; i < keys.length; i++) {
          if (values[i] !== null) yield [keys[i]!.slice(prefix.length), values[i]!];
        }
      }
    } while (cursor !== '0');
  }


  async clear(namespace: string): Promise<number> {
    let count = 0;
    const keys: string[] = [];
    for await (const [key] of this.scan(namespace)) keys.push(key);
    for (let at = 0; at < keys.length; at += BATCH) {
      const slice = keys.slice(at, at + BATCH).map((k) => this.key(namespace, k));
      count += await this.run('delete', () => this.redis.del(...slice));
    }
    return count;
  }

  async claim(namespace: string, entries: readonly StoreEntry[]): Promise<boolean[]> {
    const taken: boolean[] = [];
    for (let at = 0; at < entries.length; at += BATCH) {
      const pipeline = this.redis.pipeline();
      for (const { key, value, ttlMs } of entries.slice(at, at + BATCH)) {
        if (ttlMs === undefined) pipeline.set(this.key(namespace, key), value, 'NX');
        else pipeline.set(this.key(namespace, key), value, 'PX', Math.max(1, Math.round(ttlMs)), 'NX');
      }
      await this.run('claim', async () => {
        for (const [err, reply] of (await pipeline.exec()) ?? []) {
          if (err) throw err;
          taken.push(reply === 'OK');
        }
      });
    }
    return taken;
  }

  async durability(): Promise<Durability> {
    const found = await this.run('persistence check', () => redisDurability(this.redis));
    this.waitAof = found.kind === 'durable' && found.waitAof;
    return found;
  }

  async transact<T>(reads: readonly StoreKey[], decide: Decide<T>, options: TransactOptions = {}): Promise<T> {
    const attempt = async (): Promise<T> => {
      const conn = await this.transactions();
      const keys = reads.map((r) => this.key(r.namespace, r.key));
      for (let i = 0; i < TRANSACT_ATTEMPTS; i++) {
        if (keys.length) await conn.watch(...keys);
        const values = keys.length ? await conn.mget(...keys) : [];
        let decided: { writes: StoreWrite[]; result: T };
        try {
          const got = values.map((v) => v ?? undefined);
          // Every key is watched and read, whether decide looks at it or not (also with `lazy`).
          decided = decide(got, (i) => got[i]);
        } catch (err) {
          await conn.unwatch();
          throw err;
        }
        const multi = conn.multi();
        for (const w of decided.writes) {
          const key = this.key(w.namespace, w.key);
          if (w.value === undefined) multi.del(key);
          else if (w.ttlMs === undefined) multi.set(key, w.value);
          else multi.set(key, w.value, 'PX', Math.max(1, Math.round(w.ttlMs)));
        }
        const replies = await multi.exec();
        if (replies === null) continue; // another process changed a watched key: read again
        for (const [err] of replies) if (err) throw err;
        if (this.waitAof && options.durable !== false && decided.writes.length) await this.awaitFsync(conn);
        return decided.result;
      }
      throw new Error('other processes kept changing the same keys');
    };
    const run = this.txQueue.then(attempt, attempt);
    this.txQueue = run.catch(() => undefined);
    return this.run('transaction', () => run);
  }

  /** Waits until the server's AOF holds this connection's writes on disk (WAITAOF 1 0): the claim is durable before the request leaves. */
  private async awaitFsync(conn: Redis): Promise<void> {
    const reply = await conn.call('WAITAOF', '1', '0', String(COMMAND_TIMEOUT_MS / 2)) as [number, number];
    if (!Array.isArray(reply) || Number(reply[0]) < 1) throw new Error('WAITAOF: the server did not write the journal to its AOF in time');
  }

  async sync(): Promise<void> {
    // Redis acknowledges a write once it holds it; its own persistence settings decide the rest (see durability()).
    if (this.waitAof) await this.run('sync', () => this.awaitFsync(this.redis));
  }

  private async transactions(): Promise<Redis> {
    if (!this.txConnection) {
      const conn = this.redis.duplicate();
      conn.on('error', () => undefined);
      if (conn.status === 'wait') await conn.connect();
      this.txConnection = conn;
    }
    return this.txConnection;
  }

  async takeToken(bucket: string, rate: number, burst: number): Promise<number> {
    const interval = 1_000_000 / rate;
    const tolerance = interval * (Math.max(1, burst) - 1);
    const waitMicros = await this.run('rate limit', () => this.redis.waGuardTakeToken(this.key('rate', bucket), interval, tolerance));
    return Number(waitMicros) / 1000;
  }

  async close(): Promise<void> {
    await this.txConnection?.quit().catch(() => this.txConnection?.disconnect());
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** A text as a Redis glob pattern that matches only itself: a campaign id may hold * ? [ ] or a backslash. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
