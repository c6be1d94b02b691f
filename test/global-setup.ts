import type { TestProject } from 'vitest/node';
import { AOF_ALWAYS, hasRedisServer, startRedis } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** redis://127.0.0.1:PORT of a redis-server started for this run, or '' when none is installed. */
    redisUrl: string;
  }
}

/** Starts a private redis-server for the Redis tests (.ci/run installs Debian's when missing). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!hasRedisServer()) {
    console.warn('redis-server is not installed: the Redis tests are skipped');
    project.provide('redisUrl', '');
    return async () => undefined;
  }
  // Synced on every write: what a live send asks of a Redis store.
  const redis = await startRedis(AOF_ALWAYS);
  project.provide('redisUrl', redis.url);
  return redis.stop;
}
