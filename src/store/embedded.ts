import { closeSync, existsSync, fstatSync, openSync, readSync, renameSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { createRequire } from 'node:module';
import type { Database, RootDatabase } from 'lmdb';
import { CliError, describeFsError } from '../errors.js';
import { makeDirs } from '../make-dirs.js';
import type { Decide, Store, StoreEntry, StoreKey, TransactOptions } from './store.js';
import { gcra } from './rate.js';

/** The data file inside the store directory (LMDB adds `wa-guard.mdb-lock` beside it). */
const DATA = 'wa-guard.mdb';
/** Today's format; a store written by a newer wa-guard says a higher one. */
const FORMAT = 1;
/** The old single-process format, imported once on first open and kept as a backup. */
const LEGACY_LOG = 'store.jsonl';
/** The status cache may lose its last answers in a power cut (they are asked again); every other list is synced on commit. */
const BATCHED = new Set(['status']);
/** Filesystems where LMDB's lock file cannot be trusted (statfs magic numbers: NFS, SMB/CIFS, SMB2, AFS, Ceph, Lustre). */
const NETWORK_FS = new Set([0x6969, 0x517b, 0xff534d42, 0xfe534d42, 0x5346414f, 0x00c36400, 0x0bd00bd0]);
const PAGE = 1000;
/** LMDB's data file: a meta page at the start of each of the first two pages (after a 24-byte page header). */
const LMDB_MAGIC = 0xbeefc0de;
const META = 24;
const META_BYTES = META + 136; // through mm_txnid

/** What LMDB holds per key: the value, or the value and its expiry (ms since the epoch). */
type Stored = string | [string, number];

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

  private constructor(readonly location: string, private readonly root: RootDatabase<Stored, string>) {}

  static async open(dir: string): Promise<EmbeddedStore> {
    try {
      await makeDirs(dir);
    } catch (err) {
      throw new CliError(describeFsError(err, 'store', dir));
    }
    refuseNetworkFs(dir);
    // Another process may be extending the file right now: a mismatch must persist to count.
    for (let attempt = 1; ; attempt++) {
      const damage = checkDataFile(join(dir, DATA));
      if (damage === undefined) break;
      if (attempt === 5) {
        throw new CliError(`store ${dir}: the data file ${DATA} is damaged or not a wa-guard store (${damage}); move it aside to start afresh, or restore a backup`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // Loaded only when a command needs the store, and as lmdb's CommonJS build:
    // one file instead of a tree of ES modules, 15-20 ms less start-up.
    const { open } = createRequire(import.meta.url)('lmdb') as typeof import('lmdb');
    let root: RootDatabase<Stored, string>;
    try {
      // overlappingSync (lmdb's default on Linux) lets a commit's meta page be written after the
      // write lock is released; with several processes that lost one update in a few thousand.
      root = open<Stored, string>({ path: join(dir, DATA), maxDbs: 64, encoding: 'msgpack', overlappingSync: false });
    } catch (err) {
      throw storeError(err, dir, 'open');
    }
    const store = new EmbeddedStore(dir, root);
    try {
      store.checkFormat();
      store.importLegacyLog();
    } catch (err) {
      await root.close().catch(() => undefined);
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
    await this.write('write', !BATCHED.has(namespace), () => {
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

  async *scan(namespace: string): AsyncIterable<[string, string]> {
    const db = this.db(namespace);
    let after: string | undefined;
    for (;;) {
      // Pages, each read in one go: a cursor must not stay open across the caller's awaits.
      const now = Date.now();
      const page = this.read(() => [...db.getRange({ ...(after === undefined ? {} : { start: after }), limit: PAGE + 1 })]);
      let yielded = 0;
      for (const { key, value } of page) {
        if (key === after) continue;
        after = key;
        yielded++;
        const v = live(value, now);
        if (v !== undefined) yield [key, v];
      }
      if (yielded === 0) return;
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
    return this.write('claim', !BATCHED.has(namespace), () => {
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
        durable ||= options.durable !== false && !BATCHED.has(w.namespace);
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

function stored(value: string, ttlMs: number | undefined, now: number): Stored {
  return ttlMs === undefined ? value : [value, now + Math.max(1, ttlMs)];
}

/** Whether a namespace holds no entry at all (as the current transaction sees it). */
function isEmpty(db: Database<Stored, string>): boolean {
  // Not getKeysCount({ limit: 1 }): it counts every entry whatever the limit.
  for (const _ of db.getKeys({ limit: 1 })) return false;
  return true;
}

function live(entry: Stored | undefined, now: number): string | undefined {
  if (entry === undefined || typeof entry === 'string') return entry;
  if (!Array.isArray(entry) || typeof entry[0] !== 'string') return undefined; // not ours: ignore rather than trust it
  return entry[1] > now ? entry[0] : undefined;
}

/**
 * LMDB trusts its data file and crashes the process on a damaged one, so the
 * two meta pages are checked first: LMDB's magic number, and a file long
 * enough for the last page each says is in use (a truncated copy is not).
 */
function checkDataFile(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined; // a new store, or an error the open reports better
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return undefined;
    const head = Buffer.alloc(META_BYTES);
    const readMeta = (at: number): { pageSize: number; lastPage: bigint; txnId: bigint } | undefined => {
      if (readSync(fd, head, 0, META_BYTES, at) < META_BYTES || head.readUInt32LE(META + 0) !== LMDB_MAGIC) return undefined;
      return { pageSize: head.readUInt32LE(META + 24), lastPage: head.readBigUInt64LE(META + 120), txnId: head.readBigUInt64LE(META + 128) };
    };
    const first = readMeta(0);
    if (!first || first.pageSize < 512 || first.pageSize > 65536 || (first.pageSize & (first.pageSize - 1)) !== 0) return 'no LMDB header';
    const second = readMeta(first.pageSize);
    if (!second) return 'its second meta page is unreadable';
    // A healthy file may end some pages short of the last page its newest meta names
    // (pages a transaction allocated and freed again are never written): only a file
    // missing more than that slack (a tenth, at least 64 pages) is called truncated.
    const newest = first.txnId > second.txnId ? first : second;
    const page = BigInt(first.pageSize);
    const needed = (newest.lastPage + 1n) * page;
    const slack = needed / 10n > 64n * page ? needed / 10n : 64n * page;
    if (BigInt(size) + slack < needed) return 'the file is much shorter than its own index says: truncated';
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Whether the filesystem of the store is (nearly) full: a failed commit there is a full disk, whatever LMDB calls it. */
function diskFull(dir: string): boolean {
  try {
    const fs = statfsSync(dir);
    return fs.bavail * fs.bsize < 1 << 20;
  } catch {
    return false;
  }
}

function refuseNetworkFs(dir: string): void {
  let type: number;
  try {
    type = statfsSync(dir).type;
  } catch {
    return;
  }
  if (NETWORK_FS.has(type >>> 0)) {
    throw new CliError(`store ${dir} is on a network filesystem, where the embedded store's locking is not safe: use a local directory, or --store redis://…`);
  }
}

/**
 * lmdb prints the cause of a failed commit with console.error (a stack trace)
 * before rejecting the write. The write's rejection is what wa-guard reports,
 * in one line; the printout is kept off the terminal.
 */
function quietLmdbErrors(): void {
  const print = console.error.bind(console);
  console.error = (...args: unknown[]): void => {
    if (args.length === 1 && args[0] instanceof Error && /[\\/]lmdb[\\/]/.test(args[0].stack ?? '')) return;
    print(...args);
  };
}
quietLmdbErrors();

/** An LMDB or file-system failure as one line naming the store. */
function storeError(err: unknown, dir: string, what: string): CliError {
  // lmdb rejects a second promise with the cause of a failed commit: it is reported here, not left unhandled.
  const commitError = (err as { commitError?: Promise<unknown> })?.commitError;
  commitError?.catch?.(() => undefined);
  if (diskFull(dir)) return new CliError(`store ${dir}: no space left on device (${what} failed; the store keeps what was written before)`, 1, { cause: err });
  const text = String((err as Error)?.message ?? err);
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code && /^E[A-Z]+$/.test(code)) return new CliError(describeFsError(err, 'store', dir), 1, { cause: err });
  if (/ENOSPC|No space left|MDB_MAP_FULL/i.test(text)) return new CliError(`store ${dir}: no space left on device (${what} failed; the store is unchanged)`, 1, { cause: err });
  if (/EACCES|EPERM|Permission denied/i.test(text)) return new CliError(`store ${dir}: permission denied`, 1, { cause: err });
  if (/EROFS|Read-only file system/i.test(text)) return new CliError(`store ${dir}: read-only file system`, 1, { cause: err });
  if (/MDB_INVALID|MDB_CORRUPTED|MDB_VERSION_MISMATCH|MDB_PAGE_NOTFOUND|MDB_BAD/i.test(text)) {
    return new CliError(`store ${dir}: the data file ${DATA} is damaged or not a wa-guard store (${text.split('\n')[0]}); move it aside to start afresh, or restore a backup`, 1, { cause: err });
  }
  return new CliError(`store ${dir}: ${what} failed: ${text.split('\n')[0]}`, 1, { cause: err });
}

/**
 * Reads the old store.jsonl (one JSON array a line: [ns, key, value, expiresAt]
 * to set, [ns, key] to delete). A torn last line and damaged lines are skipped.
 */
function readLegacyLog(path: string, apply: (ns: string, key: string, value: string | undefined, expires: number) => void): void {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buffer = Buffer.allocUnsafe(1 << 20);
    const decoder = new StringDecoder('utf8');
    let position = 0;
    let carry = '';
    while (position < size) {
      const read = readSync(fd, buffer, 0, buffer.length, position);
      if (read === 0) break;
      position += read;
      const lines = (carry + decoder.write(buffer.subarray(0, read))).split('\n');
      carry = lines.pop()!;
      for (const line of lines) {
        let record: unknown;
        try {
          record = JSON.parse(line);
        } catch {
          continue;
        }
        if (!Array.isArray(record) || typeof record[0] !== 'string' || typeof record[1] !== 'string') continue;
        if (record.length === 4 && typeof record[2] === 'string' && typeof record[3] === 'number') apply(record[0], record[1], record[2], record[3]);
        else if (record.length === 2) apply(record[0], record[1], undefined, 0);
      }
    }
  } finally {
    closeSync(fd);
  }
}
