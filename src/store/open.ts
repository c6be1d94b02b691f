import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { defaultStorePath } from './location.js';
import { hasPassword, redactRedisUrl } from './redis-url.js';
import type { Store } from './store.js';

/**
 * Opens the store named by --store / WA_GUARD_STORE: a directory path (embedded) or a redis:// URL.
 * Each backend is imported only when chosen: a run loads ioredis or lmdb, never both.
 */
export async function openStore(spec: string | undefined, env: NodeJS.ProcessEnv, cwd: string, options: { existing?: boolean } = {}): Promise<Store> {
  const target = spec || env.WA_GUARD_STORE || defaultStorePath(env);
  if (/^rediss?:\/\//i.test(target)) {
    if (spec && hasPassword(spec)) warnPasswordOnCommandLine();
    const { RedisStore } = await import('./redis.js');
    return RedisStore.open(target);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    throw new UsageError(`--store ${redactRedisUrl(target)}: unsupported store; give a directory or a redis:// URL`);
  }
  const { EmbeddedStore } = await import('./embedded.js');
  // A command that only reads (report) on a mistyped path would make an empty store and say "no campaigns";
  // the default path before any run is no mistake: there it says so.
  return EmbeddedStore.open(resolve(cwd, target), { existing: options.existing && target !== defaultStorePath(env) });
}

let warned = false;

/** A password in --store is in `ps` and the shell history for as long as the command runs: said once, on stderr. */
function warnPasswordOnCommandLine(): void {
  if (warned) return;
  warned = true;
  process.stderr.write('wa-guard: warning: --store holds a password, which other users can see in `ps`: set WA_GUARD_STORE instead\n');
}
