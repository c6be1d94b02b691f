import type { TestProject } from 'vitest/node';
import { AOF_ALWAYS, hasRedisServer, startRedis } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /**
     * redis://127.0.0.1:PORT of a redis-server started for this run, or '' when none is installed.
     * Test files run two at a time and flush what they use: each takes a database of its own
     * (store-redis 3, clean-verify 4, send 5, webhooks 6, report 7, mcp 9, lists-roundtrip 11-12).
     */
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
