import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import { DATA } from './lmdb-file.js';
import { storeError } from './lmdb-errors.js';

/** What LMDB holds per key: the value, or the value and its expiry (ms since the epoch). */
export type Stored = string | [string, number];

/** The store's LMDB environment, one sub-database a namespace. */
export function openRoot(dir: string): RootDatabase<Stored, string> {
  // Loaded only when a command needs the store, and as lmdb's CommonJS build:
  // one file instead of a tree of ES modules, 15-20 ms less start-up.
  const { open } = createRequire(import.meta.url)('lmdb') as typeof import('lmdb');
  try {
    // overlappingSync (lmdb's default on Linux) lets a commit's meta page be written after the
    // write lock is released; with several processes that lost one update in a few thousand.
    return open<Stored, string>({ path: join(dir, DATA), maxDbs: 64, encoding: 'msgpack', overlappingSync: false });
  } catch (err) {
    throw storeError(err, dir, 'open');
  }
}

/** An entry as LMDB holds it: the value alone, or with its expiry. */
export function stored(value: string, ttlMs: number | undefined, now: number): Stored {
  return ttlMs === undefined ? value : [value, now + Math.max(1, ttlMs)];
}

/** An entry's value while it lives; an expired or foreign one reads as absent. */
export function live(entry: Stored | undefined, now: number): string | undefined {
  if (entry === undefined || typeof entry === 'string') return entry;
  if (!Array.isArray(entry) || typeof entry[0] !== 'string') return undefined; // not ours: ignore rather than trust it
  return entry[1] > now ? entry[0] : undefined;
}
