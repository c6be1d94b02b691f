import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, fstatSync, ftruncateSync, writeFileSync, writeSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { CliError, describeFsError } from '../errors.js';
import type { Store, StoreEntry } from './store.js';
import { gcra } from './rate.js';

const LOG = 'store.jsonl';
const LOCK = 'lock';
const READ_BYTES = 1 << 20;

/** [value, expiresAt ms or 0] */
type Entry = [string, number];
/** One line of the log: set [ns, key, value, expiresAt] or delete [ns, key]. */
type LogRecord = [string, string, string, number] | [string, string];

/**
 * The zero-set-up store: an append-only log of JSON lines in a directory, read
 * into memory at open. A torn last line (a crash mid-write) is cut off on the
 * next open; the log is compacted through a temp file and an atomic rename when
 * dead records outnumber live ones. A lock file keeps two processes from
 * writing at once (use Redis to share state between processes).
 */
export class EmbeddedStore implements Store {
  readonly backend = 'embedded';
  private readonly data = new Map<string, Map<string, Entry>>();
  private fd = -1;
  private records = 0;
  private closed = false;
  /** Token buckets live in memory: only this process can use this store. */
  private readonly buckets = new Map<string, number>();

  private constructor(readonly location: string, private readonly now: () => number) {}

  static async open(dir: string, now: () => number = Date.now): Promise<EmbeddedStore> {
    const store = new EmbeddedStore(dir, now);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new CliError(describeFsError(err, 'store', dir));
    }
    store.lock();
    try {
      store.load();
      if (store.records > 10_000 && store.records > 2 * store.size()) store.compact();
    } catch (err) {
      store.unlock();
      throw err instanceof CliError ? err : new CliError(describeFsError(err, 'store', dir));
    }
    return store;
  }

  private lock(): void {
    const path = join(this.location, LOCK);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(path, String(process.pid), { flag: 'wx' });
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new CliError(describeFsError(err, 'store', this.location));
        const owner = Number(readFileSync(path, 'utf8'));
        if (owner && isAlive(owner)) {
          throw new CliError(
            `store ${this.location} is in use by another wa-guard process (pid ${owner}); wait for it, or share state between processes with --store redis://…`,
          );
        }
        unlinkSync(path); // left behind by a process that died
      }
    }
    throw new CliError(`store ${this.location}: could not take the lock`);
  }

  private unlock(): void {
    try { unlinkSync(join(this.location, LOCK)); } catch { /* already gone */ }
  }

  private load(): void {
    const path = join(this.location, LOG);
    this.fd = openSync(path, 'a+');
    const size = fstatSync(this.fd).size;
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    let position = 0;
    const decoder = new StringDecoder('utf8');
    let carry = '';
    let good = 0; // end of the last complete line
    while (position < size) {
      const read = readSync(this.fd, buffer, 0, READ_BYTES, position);
      if (read === 0) break;
      position += read;
      const text = carry + decoder.write(buffer.subarray(0, read));
      const lines = text.split('\n');
      carry = lines.pop()!;
      for (const line of lines) {
        good += Buffer.byteLength(line) + 1;
        if (line !== '') this.apply(line);
      }
    }
    if (carry !== '') {
      // The last write was cut short: drop it so the next append starts on a fresh line.
      ftruncateSync(this.fd, good);
    }
  }

  private apply(line: string): void {
    let record: LogRecord;
    try {
      record = JSON.parse(line) as LogRecord;
    } catch {
      return; // a damaged line in the middle: skip it, keep the rest
    }
    this.records++;
    const [ns, key] = record;
    if (record.length === 4) {
      if (record[3] !== 0 && record[3] <= this.now()) this.namespace(ns).delete(key);
      else this.namespace(ns).set(key, [record[2], record[3]]);
    } else {
      this.data.get(ns)?.delete(key);
    }
  }

  private compact(): void {
    const tmp = join(this.location, `${LOG}.${process.pid}.tmp`);
    const out = openSync(tmp, 'w');
    let batch: string[] = [];
    let records = 0;
    for (const [ns, entries] of this.data) {
      for (const [key, [value, expires]] of entries) {
        batch.push(JSON.stringify([ns, key, value, expires]));
        records++;
        if (batch.length >= 10_000) {
          writeSync(out, batch.join('\n') + '\n');
          batch = [];
        }
      }
    }
    if (batch.length) writeSync(out, batch.join('\n') + '\n');
    fsyncSync(out);
    closeSync(out);
    renameSync(tmp, join(this.location, LOG));
    closeSync(this.fd);
    this.fd = openSync(join(this.location, LOG), 'a+');
    this.records = records;
  }

  private namespace(ns: string): Map<string, Entry> {
    let map = this.data.get(ns);
    if (!map) {
      map = new Map();
      this.data.set(ns, map);
    }
    return map;
  }

  private size(): number {
    let total = 0;
    for (const map of this.data.values()) total += map.size;
    return total;
  }

  private append(lines: string[]): void {
    if (this.closed) throw new CliError('the store is closed');
    if (lines.length === 0) return;
    writeSync(this.fd, lines.join('\n') + '\n');
    this.records += lines.length;
  }

  async get(namespace: string, keys: readonly string[]): Promise<(string | undefined)[]> {
    const map = this.data.get(namespace);
    if (!map) return keys.map(() => undefined);
    const now = this.now();
    return keys.map((key) => {
      const entry = map.get(key);
      if (!entry) return undefined;
      if (entry[1] !== 0 && entry[1] <= now) {
        map.delete(key);
        return undefined;
      }
      return entry[0];
    });
  }

  async set(namespace: string, entries: readonly StoreEntry[]): Promise<void> {
    const map = this.namespace(namespace);
    const now = this.now();
    const lines = entries.map(({ key, value, ttlMs }) => {
      const expires = ttlMs === undefined ? 0 : now + Math.max(1, ttlMs);
      map.set(key, [value, expires]);
      return JSON.stringify([namespace, key, value, expires]);
    });
    this.append(lines);
  }

  async delete(namespace: string, keys: readonly string[]): Promise<void> {
    const map = this.data.get(namespace);
    const lines: string[] = [];
    for (const key of keys) {
      if (map?.delete(key)) lines.push(JSON.stringify([namespace, key]));
    }
    this.append(lines);
  }

  async *scan(namespace: string): AsyncIterable<[string, string]> {
    const map = this.data.get(namespace);
    if (!map) return;
    const now = this.now();
    for (const [key, [value, expires]] of map) {
      if (expires === 0 || expires > now) yield [key, value];
    }
  }


  async takeToken(bucket: string, rate: number, burst: number): Promise<number> {
    const { wait, tat } = gcra(this.buckets.get(bucket), performance.now(), rate, burst);
    this.buckets.set(bucket, tat);
    return wait;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
      this.unlock();
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
