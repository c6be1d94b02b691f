import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, RootDatabase } from 'lmdb';
import { CliError, UsageError } from '../errors.js';
import type { Decide, Durability, Store, StoreEntry, StoreKey, TransactOptions } from './store.js';
import { gcra } from './rate.js';
import { yieldToEventLoop } from '../time.js';
import { DATA, prepareStoreDir } from './lmdb-file.js';
import { live, openRoot, stored, type Stored } from './lmdb-env.js';
import { quietLmdbErrors, storeError } from './lmdb-errors.js';
import { LEGACY_LOG, readLegacyLog } from './legacy-log.js';
import { BATCHED_NAMESPACES } from './schema.js';

/** Today's format; a store written by a newer wa-guard says a higher one. */
const FORMAT = 1;
const PAGE = 1000;

/**
 * The zero-set-up store: an LMDB database in a directory (through the `lmdb`
 * package, whose prebuilt binaries come inside registry packages). Several
 * processes read and write it at once; a transaction is atomic across them;
 * nothing is loaded into memory at open, so a store of millions of entries
 * opens in milliseconds. One LMDB sub-database per namespace.
 */
export class EmbeddedStore implements Store {
  readonly backend = 'embedded';
  private readonly dbs = new Map<string, Database<Stored, string>>();
  private closed = false;
  /** A commit failed (a full disk): closing must not wait on lmdb's pending promises. */
  private failed = false;

  private constructor(readonly location: string, private root: RootDatabase<Stored, string>) {}

  /** `existing`: a directory holding no store is a usage error, not a new empty store. */
  static async open(dir: string, options: { existing?: boolean } = {}): Promise<EmbeddedStore> {
    if (options.existing && !existsSync(join(dir, DATA))) {
      throw new UsageError(`--store ${dir}: no store there (nothing has written one yet); check the path, or WA_GUARD_STORE`);
    }
    await prepareStoreDir(dir);
    const store = new EmbeddedStore(dir, openRoot(dir));
    try {
      store.checkFormat();
      store.importLegacyLog();
    } catch (err) {
      await store.root.close().catch(() => undefined);
      throw err instanceof CliError ? err : storeError(err, dir, 'open');
    }
    return store;
  }

  private checkFormat(): void {
    const meta = this.db('meta');
    const format = meta.get('format');
    const found = typeof format === 'string' ? Number(format) : undefined;
    if (found !== undefined && !(found <= FORMAT)) {
      throw new CliError(`store ${this.location} was written by a newer wa-guard (format ${format}; this one reads ${FORMAT}): upgrade wa-guard`);
    }
    if (found === undefined) this.root.transactionSync(() => { if (meta.get('format') === undefined) meta.putSync('format', String(FORMAT)); });
  }

  /**
   * Imports a store.jsonl of the old format once (in one transaction, so a
   * second process opening at the same time waits and finds it done), then
   * renames it store.jsonl.imported as a backup.
   */
  private importLegacyLog(): void {
    const path = join(this.location, LEGACY_LOG);
    if (!existsSync(path)) return;
    const meta = this.db('meta');
    const now = Date.now();
    this.root.transactionSync(() => {
      if (meta.get('legacy_imported') !== undefined) return;
      readLegacyLog(path, (ns, key, value, expires) => {
        const db = this.db(ns);
        if (value === undefined) db.removeSync(key);
        else if (expires === 0) db.putSync(key, value);
        else if (expires > now) db.putSync(key, [value, expires]);
      });
      meta.putSync('legacy_imported', new Date(now).toISOString());
    });
    try {
      renameSync(path, `${path}.imported`);
    } catch { /* another process renamed it first */ }
  }

  private db(namespace: string): Database<Stored, string> {
    let db = this.dbs.get(namespace);
    if (!db) {
      if (this.closed) throw new CliError('the store is closed');
      db = this.root.openDB<Stored, string>(namespace, { encoding: 'msgpack' });
      this.dbs.set(namespace, db);
    }
    return db;
  }

  private async write<T>(what: string, durable: boolean, action: () => T): Promise<T> {
    let decided = true;
    try {
      const result = await this.root.transaction(() => {
        try {
          return action();
        } catch (err) {
          decided = false; // the caller's decision threw: nothing is written, the store is fine
          throw err;
        }
      });
      if (durable) await this.root.flushed;
      return result;
    } catch (err) {
      if (!decided) throw err;
      this.failed = true;
      throw err instanceof CliError ? err : storeError(err, this.location, what);
    }
  }

  async durability(): Promise<Durability> {
    return { kind: 'durable', waitAof: false, how: 'journal claims are synced to disk before each request' };
  }

  async sync(): Promise<void> {
    try {
      await this.root.flushed;
    } catch (err) {
      throw storeError(err, this.location, 'sync');
    }
  }

  private read<T>(action: () => T): T {
    try {
      return action();
    } catch (err) {
      throw storeError(err, this.location, 'read');
    }
  }

  async get(namespace: string, keys: readonly string[]): Promise<(string | undefined)[]> {
    const db = this.db(namespace);
    const now = Date.now();
    return this.read(() => {
      // Most lists are empty for most users (no caps, no opt-outs yet): one probe instead of a lookup a key.
      if (keys.length > 1 && isEmpty(db)) return new Array<undefined>(keys.length).fill(undefined);
      return keys.map((key) => live(db.get(key), now));
    });
  }

  async set(namespace: string, entries: readonly StoreEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const db = this.db(namespace);
    const now = Date.now();
    await this.write('write', !BATCHED_NAMESPACES.has(namespace), () => {
      for (const { key, value, ttlMs } of entries) db.putSync(key, stored(value, ttlMs, now));
    });
  }

  async delete(namespace: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const db = this.db(namespace);
    await this.write('delete', true, () => {
      for (const key of keys) db.removeSync(key);
    });
  }

  async *scan(namespace: string, prefix = ''): AsyncIterable<[string, string]> {
    // Keys are ordered: those with the prefix are one run, starting at the prefix itself.
    let after: string | undefined;
    for (;;) {
      // Pages, each read in one go: a cursor must not stay open across the caller's awaits
      // (nor the sub-database handle: releaseReadMemory may reopen it between pages).
      const db = this.db(namespace);
      const now = Date.now();
      const start = after ?? (prefix === '' ? undefined : prefix);
      const page = this.read(() => [...db.getRange({ ...(start === undefined ? {} : { start }), limit: PAGE + 1 })]);
      let yielded = 0;
      for (const { key, value } of page) {
        if (key === after) continue;
        if (!key.startsWith(prefix)) return;
        after = key;
        yielded++;
        const v = live(value, now);
        if (v !== undefined) yield [key, v];
      }
      if (yielded === 0) return;
      await yieldToEventLoop(); // a scan of a million entries must not hold a server's other requests
    }
  }

  async releaseReadMemory(): Promise<void> {
    if (this.closed || this.failed) return;
    try {
      await this.root.flushed;
      await this.root.close(); // unmaps the file: the pages read leave the process's RSS
      this.dbs.clear();
      this.root = openRoot(this.location);
    } catch (err) {
      this.failed = true;
      throw storeError(err, this.location, 'reopen');
    }
  }

  async clear(namespace: string): Promise<number> {
    const db = this.db(namespace);
    return this.write('clear', true, () => {
      let count = 0;
      const now = Date.now();
      for (const { key, value } of db.getRange()) {
        if (live(value, now) !== undefined) count++;
        db.removeSync(key);
      }
      return count;
    });
  }

  async claim(namespace: string, entries: readonly StoreEntry[]): Promise<boolean[]> {
    const db = this.db(namespace);
    return this.write('claim', !BATCHED_NAMESPACES.has(namespace), () => {
      const now = Date.now();
      return entries.map(({ key, value, ttlMs }) => {
        if (live(db.get(key), now) !== undefined) return false;
        db.putSync(key, stored(value, ttlMs, now));
        return true;
      });
    });
  }

  async transact<T>(reads: readonly StoreKey[], decide: Decide<T>, options: TransactOptions = {}): Promise<T> {
    let durable = false;
    // Sub-databases are opened before the transaction: opening one inside it reads from a stale snapshot.
    const dbs = reads.map(({ namespace }) => this.db(namespace));
    const result = await this.write('transaction', false, () => {
      const now = Date.now();
      // Lists that are empty (the journal before any send, strikes below the threshold) cost one probe, not one a key.
      const empty = new Map<Database<Stored, string>, boolean>();
      const fetch = (i: number): string | undefined => {
        const db = dbs[i]!;
        let none = empty.get(db);
        if (none === undefined) empty.set(db, none = reads.length > 1 && isEmpty(db));
        return none ? undefined : live(db.get(reads[i]!.key), now);
      };
      let values: (string | undefined)[] = [];
      let read: (i: number) => string | undefined;
      if (options.lazy) {
        read = fetch;
      } else {
        values = reads.map((_, i) => fetch(i));
        read = (i) => values[i];
      }
      const { writes, result } = decide(values, read);
      for (const w of writes) {
        const db = this.db(w.namespace);
        if (w.value === undefined) db.removeSync(w.key);
        else db.putSync(w.key, stored(w.value, w.ttlMs, now));
        durable ||= options.durable !== false && !BATCHED_NAMESPACES.has(w.namespace);
      }
      return result;
    });
    if (durable) await this.sync();
    return result;
  }

  async takeToken(bucket: string, rate: number, burst: number): Promise<number> {
    const db = this.db('rate');
    // GCRA on the wall clock, which every process on this machine shares; the state needs no sync to disk.
    const slot = await this.write('rate limit', false, () => {
      const now = Date.now();
      const before = live(db.get(bucket), now);
      const { wait, tat } = gcra(before === undefined ? undefined : Number(before), now, rate, burst);
      db.putSync(bucket, [String(tat), Math.ceil(tat) + 60_000]);
      return now + wait;
    });
    return Math.max(0, slot - Date.now());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.failed) {
      // After a failed commit lmdb's flush and close promises may never settle:
      // what was committed before is on disk; let the process end.
      void this.root.close().catch(() => undefined);
      return;
    }
    try {
      await this.root.flushed;
      await this.root.close();
    } catch (err) {
      throw storeError(err, this.location, 'close');
    }
  }
}

/** Whether a namespace holds no entry at all (as the current transaction sees it). */
function isEmpty(db: Database<Stored, string>): boolean {
  // Not getKeysCount({ limit: 1 }): it counts every entry whatever the limit.
  for (const _ of db.getKeys({ limit: 1 })) return false;
  return true;
}

quietLmdbErrors();
