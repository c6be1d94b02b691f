import { resolve } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { UsageError } from '../errors.js';
import type { IO } from '../io.js';
import { chooseColumns, columnList } from '../input/columns.js';
import { openInput } from '../input/reader.js';
import { AtomicFile } from '../output/atomic.js';
import { stdoutSink } from '../output/outputs.js';
import { normalizePhone } from '../phone.js';
import { parseCountry } from '../flags.js';
import { Outcome, type ChunkResult } from '../pipeline/chunk.js';
import { processInOrder } from '../pipeline/ordered.js';
import { BLACKLIST, BLACKLIST_COLUMNS, OPTOUT, blacklistWrite, optOutWrite, parseBlacklistEntry, parseOptOut } from '../store/lists.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { STATUS, parseCachedStatus } from '../store/status-cache.js';

export type ListName = 'blacklist' | 'optout' | 'cache';

export interface ListFlags {
  store?: string;
  country?: string;
  reason?: string;
  scope?: string;
  source?: string;
  since?: string;
  column?: string | string[];
  json?: boolean;
  quiet?: boolean;
}

/** The columns each list exports, after wa_id. */
const COLUMNS: Record<ListName, readonly string[]> = {
  blacklist: BLACKLIST_COLUMNS,
  optout: ['wa_id', 'scope', 'source', 'at'],
  cache: ['e164', 'status', 'wa_id', 'checked_at', 'source'],
};
const NAMESPACE: Record<ListName, string> = { blacklist: BLACKLIST, optout: OPTOUT, cache: STATUS };
/** How many rows `list` prints before it says how many more there are. */
const LIST_LIMIT = 200;

/** A row as a JSON object; counts stay numbers. */
function record(columns: readonly string[], r: string[]): Record<string, string | number> {
  return Object.fromEntries(columns.map((c, i) => [c, c === 'strikes' ? Number(r[i]) : r[i]!]));
}

/** One entry as a row of COLUMNS[list]. */
function row(list: ListName, key: string, value: string): string[] {
  if (list === 'blacklist') {
    const e = parseBlacklistEntry(value);
    return [key, e.reason, e.source, e.first_seen, e.last_seen, String(e.strikes)];
  }
  if (list === 'optout') {
    const e = parseOptOut(value);
    return [key, e.scope, e.source, e.at];
  }
  const e = parseCachedStatus(value);
  return [key, e?.status ?? 'damaged', e?.wa_id ?? '', e?.checked_at ?? '', e?.source ?? ''];
}

/** The command line of `wa-guard blacklist|optout|cache VERB …`, read and checked. */
interface ListOptions {
  list: ListName;
  verb: string;
  args: string[];
  country: ReturnType<typeof parseCountry>;
  /** Opt-outs only: what the user stopped. */
  scope: 'all' | 'marketing';
  /** list: only entries since (ms since the epoch). */
  since?: number;
  reason?: string;
  source?: string;
  column?: string | string[];
  json: boolean;
  quiet: boolean;
}

/** One verb: reads or changes the open store, resolves with the exit code. */
type Verb = (o: ListOptions, store: Store, io: IO) => Promise<number>;

/** `wa-guard blacklist|optout|cache VERB …`: see and correct what the store holds. */
export async function listCommand(list: ListName, verb: string, args: string[], flags: ListFlags, io: IO): Promise<number> {
  const options = bindOptions(list, verb, args, flags, io.env);
  const store = await openStore(flags.store, io.env, io.cwd);
  try {
    const run = (list === 'cache' ? CACHE_VERBS : LIST_VERBS).get(verb);
    if (!run) throw new UsageError(`${list}: unknown command "${verb}"; use ${list === 'cache' ? 'list, forget, clear or export' : 'add, remove, list, import or export'}`);
    return await run(options, store, io);
  } finally {
    await store.close();
  }
}

function bindOptions(list: ListName, verb: string, args: string[], flags: ListFlags, env: NodeJS.ProcessEnv): ListOptions {
  const country = parseCountry(flags.country, env);
  const scope = flags.scope ?? 'all';
  if (list === 'optout' && scope !== 'all' && scope !== 'marketing') throw new UsageError(`--scope must be all or marketing; got "${scope}"`);
  const since = flags.since === undefined ? undefined : Date.parse(flags.since);
  if (since !== undefined && Number.isNaN(since)) throw new UsageError(`--since: "${flags.since}" is not a date like 2026-11-01`);
  return {
    list, verb, args, country, scope: scope as ListOptions['scope'], since,
    reason: flags.reason, source: flags.source, column: flags.column, json: Boolean(flags.json), quiet: Boolean(flags.quiet),
  };
}

const LIST_VERBS = new Map<string, Verb>([['add', addNumbers], ['remove', removeNumbers], ['list', show], ['import', importNumbers], ['export', exportList]]);
const CACHE_VERBS = new Map<string, Verb>([['forget', removeNumbers], ['clear', clearCache], ['list', show], ['export', exportList]]);

/** A summary line on stderr, unless --quiet or --json. */
function say(o: ListOptions, io: IO, text: string): void {
  if (!o.quiet && !o.json) io.stderr.write(text + '\n');
}

/** Numbers from the command line, all read before the store is changed: one bad number changes nothing. */
function readNumbers(o: ListOptions): string[] {
  if (o.args.length === 0) throw new UsageError(`${o.list} ${o.verb}: give one or more numbers`);
  return o.args.map((raw) => {
    const n = normalizePhone(raw, o.country);
    if (!n.ok) throw new UsageError(`${o.list} ${o.verb}: "${raw}" is not a phone number we can read: ${n.detail}`);
    return n.waId;
  });
}

/** Puts numbers on the blacklist (one more strike where already there) or the opt-outs, in one transaction. */
async function addToList(store: Store, o: ListOptions, waIds: readonly string[], reason: string, source: string, now: Date): Promise<void> {
  const at = now.toISOString();
  await store.transact(waIds.map((key) => ({ namespace: NAMESPACE[o.list], key })), (before) => ({
    writes: waIds.map((waId, i) => o.list === 'blacklist'
      ? blacklistWrite(before[i], { waId, reason, source }, now)
      : optOutWrite({ waId, source, scope: o.scope }, at)),
    result: undefined,
  }));
}

async function addNumbers(o: ListOptions, store: Store, io: IO): Promise<number> {
  const waIds = readNumbers(o);
  await addToList(store, o, waIds, o.reason ?? 'added by hand', 'manual', new Date());
  say(o, io, `${o.list}: added ${waIds.length} number${waIds.length === 1 ? '' : 's'} (${store.backend} store ${store.location})`);
  if (o.json) io.stdout.write(JSON.stringify({ added: waIds }) + '\n');
  return 0;
}

/** `remove` from a list, or `forget` from the cache (keyed by E.164). */
async function removeNumbers(o: ListOptions, store: Store, io: IO): Promise<number> {
  const waIds = readNumbers(o);
  const keys = o.list === 'cache' ? waIds.map((w) => '+' + w) : waIds;
  const ns = NAMESPACE[o.list];
  const present = (await store.get(ns, keys)).map((v) => v !== undefined);
  await store.delete(ns, keys);
  const removed = keys.filter((_, i) => present[i]);
  const missing = keys.filter((_, i) => !present[i]);
  say(o, io, `${o.list}: removed ${removed.length}${missing.length ? `; not there: ${missing.join(', ')}` : ''}`);
  if (o.json) io.stdout.write(JSON.stringify({ removed, not_found: missing }) + '\n');
  return 0;
}

async function clearCache(o: ListOptions, store: Store, io: IO): Promise<number> {
  const count = await store.clear(NAMESPACE[o.list]);
  say(o, io, `cache: cleared ${count} entr${count === 1 ? 'y' : 'ies'}`);
  if (o.json) io.stdout.write(JSON.stringify({ cleared: count }) + '\n');
  return 0;
}

async function importNumbers(o: ListOptions, store: Store, io: IO): Promise<number> {
  if (o.args.length !== 1) throw new UsageError(`${o.list} import: give one file (CSV, JSON or JSONL), or - for stdin`);
  const { added, unreadable, rows } = await importList(o, store, o.args[0]!, io);
  say(o, io, `${o.list}: ${added} number${added === 1 ? '' : 's'} imported from ${rows} row${rows === 1 ? '' : 's'}${unreadable ? `; ${unreadable} row(s) without a readable number were skipped` : ''}`);
  if (o.json) io.stdout.write(JSON.stringify({ imported: added, rows, skipped: unreadable }) + '\n');
  return 0;
}

/** `list`: a table of the first entries (all with --json), filtered, and counts by reason. */
async function show(o: ListOptions, store: Store, io: IO): Promise<number> {
  const { list, json } = o;
  const filter = { reason: o.reason, source: o.source, since: o.since };
  const columns = COLUMNS[list];
  const reasonAt = columns.indexOf(list === 'cache' ? 'status' : list === 'optout' ? 'scope' : 'reason');
  const sourceAt = columns.indexOf('source');
  const timeAt = columns.indexOf(list === 'blacklist' ? 'last_seen' : list === 'optout' ? 'at' : 'checked_at');
  const rows: string[][] = [];
  const byReason = new Map<string, number>();
  let total = 0;
  for await (const [key, value] of store.scan(NAMESPACE[list])) {
    const r = row(list, key, value);
    if (filter.reason !== undefined && !r[reasonAt]!.toLowerCase().includes(filter.reason.toLowerCase())) continue;
    if (filter.source !== undefined && !r[sourceAt]!.toLowerCase().includes(filter.source.toLowerCase())) continue;
    if (filter.since !== undefined && !(Date.parse(r[timeAt]!) >= filter.since)) continue;
    total++;
    byReason.set(r[reasonAt]!, (byReason.get(r[reasonAt]!) ?? 0) + 1);
    if (json || rows.length < LIST_LIMIT) rows.push(r);
  }
  if (json) {
    io.stdout.write(JSON.stringify({ total, by: Object.fromEntries(byReason), entries: rows.map((r) => record(columns, r)) }, null, 2) + '\n');
    return 0;
  }
  const widths = columns.map((c, i) => Math.min(40, Math.max(c.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.slice(0, 40).padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(columns), ...rows.map(line)];
  if (total > rows.length) out.push(`… and ${total - rows.length} more (export them with: wa-guard ${list} export)`);
  out.push(`${total} entr${total === 1 ? 'y' : 'ies'}${byReason.size ? ': ' + [...byReason].map(([r, n]) => `${r} ${n}`).join(', ') : ''}`);
  io.stdout.write(out.join('\n') + '\n');
  return 0;
}

async function exportList(o: ListOptions, store: Store, io: IO): Promise<number> {
  const target = o.args[0] ?? '-';
  const file = target === '-' ? undefined : await AtomicFile.create(resolve(io.cwd, target));
  const out = file ?? stdoutSink(io.stdout);
  try {
    await writeList(o.list, store, (text) => out.write(text), o.json);
    await file?.commit();
  } finally {
    await file?.abort();
  }
  return 0;
}

/** Writes a list as CSV (a header, then a row an entry) or JSON lines; resolves with how many entries. */
export async function writeList(list: ListName, store: Store, write: (text: string) => Promise<void>, json: boolean): Promise<number> {
  const columns = COLUMNS[list];
  if (!json) await write(stringify([columns as string[]]));
  let count = 0;
  let batch: string[][] = [];
  const flush = async (): Promise<void> => {
    await write(json ? batch.map((r) => JSON.stringify(record(columns, r)) + '\n').join('') : stringify(batch));
    batch = [];
  };
  for await (const [key, value] of store.scan(NAMESPACE[list])) {
    batch.push(row(list, key, value));
    count++;
    if (batch.length === 10_000) await flush();
  }
  if (batch.length) await flush();
  return count;
}

/** Reads any export (CSV, JSON, JSONL; the phone column found as clean finds it) into the list. */
async function importList(o: ListOptions, store: Store, spec: string, io: IO): Promise<{ added: number; unreadable: number; rows: number }> {
  const input = await openInput(spec, io, {});
  try {
    const choice = chooseColumns(input.columns, input.source, { phone: columnList(o.column) });
    const now = new Date();
    const source = `import:${input.path ? input.path.split('/').pop() : 'stdin'}`;
    let added = 0;
    let unreadable = 0;
    let rows = 0;
    await processInOrder(input.chunks, {
      source: input.source, format: input.sniffed.format, delimiter: input.sniffed.dialect.delimiter,
      columns: input.columns, phone: choice.phone, optOut: [], country: o.country,
      output: { format: 'jsonl', delimiter: ',', eol: '\n' }, cleanedColumns: false,
    }, 0, io.signal, async (result: ChunkResult) => {
      rows += result.rows;
      const waIds = new Set<string>();
      for (let i = 0; i < result.rows; i++) {
        if (result.outcome[i] === Outcome.OK) waIds.add(String(result.waIds[i]));
        else unreadable++;
      }
      const keys = [...waIds];
      await addToList(store, o, keys, o.reason ?? 'imported', source, now);
      added += keys.length;
    });
    return { added, unreadable, rows };
  } finally {
    input.close();
  }
}
