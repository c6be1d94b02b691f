import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { defaultStorePath, redactUrl } from './location.js';
import type { Store } from './store.js';

/**
 * Opens the store named by --store / WA_GUARD_STORE: a directory path (embedded) or a redis:// URL.
 * Each backend is imported only when chosen: a run loads ioredis or lmdb, never both.
 */
export async function openStore(spec: string | undefined, env: NodeJS.ProcessEnv, cwd: string): Promise<Store> {
  const target = spec || env.WA_GUARD_STORE || defaultStorePath(env);
  if (/^rediss?:\/\//i.test(target)) {
    const { RedisStore } = await import('./redis.js');
    return RedisStore.open(target);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    throw new UsageError(`--store ${redactUrl(target)}: unsupported store; give a directory or a redis:// URL`);
  }
  const { EmbeddedStore } = await import('./embedded.js');
  return EmbeddedStore.open(resolve(cwd, target));
}
