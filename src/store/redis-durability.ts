import type { Redis } from 'ioredis';
import type { Durability } from './store.js';

/** A field of an INFO section (`name:value` lines). */
function field(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

function atLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

/**
 * What a Redis server's persistence promises for a write it acknowledged: from
 * INFO (always allowed), and CONFIG GET appendfsync where CONFIG is not
 * disabled (managed Redis often renames it away).
 */
export async function redisDurability(redis: Redis): Promise<Durability> {
  const server = await redis.info('server');
  const version = field(server, 'redis_version') ?? '0';
  if (field(server, 'redis_mode') === 'cluster') return { kind: 'volatile', why: 'Redis Cluster is not supported (keys of one transaction may live on different nodes)' };
  const persistence = await redis.info('persistence');
  if (field(persistence, 'aof_enabled') !== '1') {
    return { kind: 'volatile', why: `Redis ${version} keeps no append-only file (appendonly no): a restart loses the send journal, and a resume would send every row again` };
  }
  if (atLeast(version, 7, 2)) return { kind: 'durable', waitAof: true, how: `each journal claim waits for the AOF fsync (WAITAOF) before its request` };
  let fsync: string | undefined;
  try {
    const reply = await redis.config('GET', 'appendfsync') as string[];
    fsync = reply[1];
  } catch { /* CONFIG disabled */ }
  if (fsync === 'always') return { kind: 'durable', waitAof: false, how: 'appendfsync always: every write is on disk before Redis answers' };
  return {
    kind: 'volatile',
    why: fsync === undefined
      ? `Redis ${version} has an AOF, but its appendfsync cannot be read (CONFIG is disabled) and it is older than 7.2 (no WAITAOF): the last second of journal claims may be lost in a crash`
      : `Redis ${version} syncs its AOF with appendfsync ${fsync}, not always, and is older than 7.2 (no WAITAOF): the last second of journal claims may be lost in a crash`,
  };
}
