export interface StoreEntry {
  key: string;
  value: string;
  /** Time to live in milliseconds; none means the entry never expires. */
  ttlMs?: number;
}

/** One write of a transaction: a set, or a delete when `value` is undefined. */
export interface StoreWrite {
  namespace: string;
  key: string;
  value?: string;
  ttlMs?: number;
}

export interface TransactOptions {
  /**
   * false: resolve once committed (visible to every process, safe from a
   * kill -9) without waiting for the disk; call sync() before reporting the
   * work done. Default true.
   */
  durable?: boolean;
  /**
   * Read a key only when (and each time) `decide` asks for it through
   * `read(i)`; `values` is then empty. For decisions that look at a few of
   * many keys they may need. (The embedded store; Redis reads and watches
   * them all first.)
   */
  lazy?: boolean;
}

/** What `decide` is given: the values of the reads, in order, and `read(i)`, the value of read i (the only way in with `lazy`). */
export type Decide<T> = (values: readonly (string | undefined)[], read: (i: number) => string | undefined) => { writes: StoreWrite[]; result: T };

/**
 * Whether a write the store acknowledged survives the server's crash or
 * restart: the embedded store syncs; Redis only with an AOF synced on every
 * write (appendfsync always), or waited for (WAITAOF, Redis 7.2+).
 */
export type Durability = { kind: 'durable'; waitAof: boolean; how: string } | { kind: 'volatile'; why: string };

export interface StoreKey {
  namespace: string;
  key: string;
}

/**
 * The state wa-guard keeps between runs (blacklist, opt-outs, status cache,
 * send journal): string values under keys, grouped in namespaces. Every method
 * takes a batch so a network backend can pipeline it. Several processes may
 * use one store at once: `claim` and `transact` are atomic across them.
 */
export interface Store {
  /** Where the state lives, for messages and the summary (never includes credentials). */
  readonly location: string;
  readonly backend: 'embedded' | 'redis';
  get(namespace: string, keys: readonly string[]): Promise<(string | undefined)[]>;
  /** Durable when it resolves (the status cache may be batched). */
  set(namespace: string, entries: readonly StoreEntry[]): Promise<void>;
  delete(namespace: string, keys: readonly string[]): Promise<void>;
  /** Every live entry of a namespace, or only those whose key starts with `prefix`, in no particular order. */
  scan(namespace: string, prefix?: string): AsyncIterable<[key: string, value: string]>;
  /**
   * Gives back the memory that reading took, where the backend keeps it: the
   * embedded store's reads map the store's file into the process, and every
   * page read counts in its RSS until the map is closed (a report over a
   * million messages maps ~550 MB). Only between operations: nothing else may
   * be under way on this store object; a scan under way goes on where it was.
   */
  releaseReadMemory?(): Promise<void>;
  /** Removes every entry of a namespace; resolves with how many there were. */
  clear(namespace: string): Promise<number>;
  /**
   * Sets each entry only where its key is absent (or expired), atomically per
   * key across processes; resolves with true where this call took the key.
   */
  claim(namespace: string, entries: readonly StoreEntry[]): Promise<boolean[]>;
  /**
   * Read-modify-write in one transaction: `decide` sees the current values of
   * `reads` and returns the writes to make; no other process changes those
   * keys in between (it may be called again if one tried). Resolves with its result.
   */
  transact<T>(reads: readonly StoreKey[], decide: Decide<T>, options?: TransactOptions): Promise<T>;
  /** Checks (and, on Redis, sets up) how acknowledged writes survive a crash: asked before a live send. */
  durability(): Promise<Durability>;
  /** Resolves when every write so far is on disk (the embedded store; Redis with WAITAOF). */
  sync(): Promise<void>;
  /**
   * Books the next slot in the named token bucket (`rate` per second, `burst`
   * at most at once) and resolves with the milliseconds until it (0: now).
   * The bucket is shared by every process using the store.
   */
  takeToken(bucket: string, rate: number, burst: number): Promise<number>;
  close(): Promise<void>;
}

/** Live entries in a namespace. */
export async function countEntries(store: Store, namespace: string): Promise<number> {
  let count = 0;
  for await (const _ of store.scan(namespace)) count++;
  return count;
}
