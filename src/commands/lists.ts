import { resolve } from 'node:path';
import { confirm } from '../confirm.js';
import { UsageError } from '../errors.js';
import type { IO } from '../io.js';
import { AtomicFile } from '../output/atomic.js';
import { stdoutSink } from '../output/outputs.js';
import { parseCountry } from '../flags.js';
import { readArgNumbers } from '../lists/args.js';
import { importList } from '../lists/import.js';
import { COLUMNS, FILTERED, NAMESPACE, entryRow, rowRecord, writeList, type ListName } from '../lists/rows.js';
import { addOptOuts, addToBlacklist } from '../store/lists.js';
import { openStore } from '../store/open.js';
import { countEntries, type Store } from '../store/store.js';
import { printable } from '../terminal-text.js';

export interface ListFlags {
  store?: string;
  country?: string;
  reason?: string;
  scope?: string;
  source?: string;
  since?: string;
  column?: string | string[];
  limit?: string;
  rejects?: string;
  yes?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** How many rows `list` prints by default before it says how many more there are (--limit). */
const LIST_LIMIT = 200;

/** The command line of `wa-guard blacklist|optout|cache VERB …`, read and checked. */
interface ListOptions {
  list: ListName;
  verb: string;
  args: string[];
  country: ReturnType<typeof parseCountry>;
  /** Opt-outs only: what the user stopped (--scope; undefined: not given). */
  scope?: 'all' | 'marketing';
  /** list: only entries since (ms since the epoch). */
  since?: number;
  /** list: how many rows the table shows (0: all). */
  limit: number;
  rejects?: string;
  yes: boolean;
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
  const scope = flags.scope;
  if (list === 'optout' && scope !== undefined && scope !== 'all' && scope !== 'marketing') throw new UsageError(`--scope must be all or marketing; got "${scope}"`);
  const limit = flags.limit === undefined ? LIST_LIMIT : /^\d+$/.test(flags.limit) ? Number(flags.limit) : NaN;
  if (Number.isNaN(limit)) throw new UsageError(`--limit: "${flags.limit}" is not a count of rows (0: all)`);
  const since = flags.since === undefined ? undefined : Date.parse(flags.since);
  if (since !== undefined && Number.isNaN(since)) throw new UsageError(`--since: "${flags.since}" is not a date like 2026-11-01`);
  return {
    list, verb, args, country, scope: scope as ListOptions['scope'], since, limit,
    rejects: flags.rejects, yes: Boolean(flags.yes), reason: flags.reason, source: flags.source, column: flags.column, json: Boolean(flags.json), quiet: Boolean(flags.quiet),
  };
}

const LIST_VERBS = new Map<string, Verb>([['add', addNumbers], ['remove', removeNumbers], ['list', show], ['import', importNumbers], ['export', exportList]]);
const CACHE_VERBS = new Map<string, Verb>([['forget', removeNumbers], ['clear', clearCache], ['list', show], ['export', exportList]]);

/** A summary line on stderr, unless --quiet or --json. */
function say(o: ListOptions, io: IO, text: string): void {
  if (!o.quiet && !o.json) io.stderr.write(text + '\n');
}

/** Numbers from the command line, all read before the store is changed: one bad number changes nothing. */
function readNumbers(o: ListOptions, io: IO): string[] {
  if (o.args.length === 0) throw new UsageError(`${o.list} ${o.verb}: give one or more numbers`);
  const { waIds, notes } = readArgNumbers(o.args, o.country, `${o.list} ${o.verb}`);
  for (const note of notes) if (!o.quiet) io.stderr.write(`${o.list} ${o.verb}: note: ${note}\n`);
  return waIds;
}


async function addNumbers(o: ListOptions, store: Store, io: IO): Promise<number> {
  const waIds = readNumbers(o, io);
  const now = new Date();
  let wider: string[] = [];
  if (o.list === 'blacklist') await addToBlacklist(store, waIds.map((waId) => ({ waId, reason: o.reason ?? 'added by hand', source: 'manual' })), now);
  else wider = await addOptOuts(store, waIds.map((waId) => ({ waId, source: 'manual', scope: o.scope ?? 'all', reason: o.reason })), now);
  say(o, io, `${o.list}: added ${waIds.length} number${waIds.length === 1 ? '' : 's'} (${store.backend} store ${store.location})`);
  if (wider.length) io.stderr.write(`wa-guard: ${wider.length} of them stay opted out of everything (${wider.slice(0, 3).join(', ')}${wider.length > 3 ? ', …' : ''}): an opt-out never narrows; remove one first to narrow it\n`);
  if (o.json) io.stdout.write(JSON.stringify({ added: waIds }) + '\n');
  return 0;
}

/** `remove` from a list, or `forget` from the cache (keyed by E.164). */
async function removeNumbers(o: ListOptions, store: Store, io: IO): Promise<number> {
  const waIds = readNumbers(o, io);
  const keys = o.list === 'cache' ? waIds.map((w) => '+' + w) : waIds;
  const ns = NAMESPACE[o.list];
  const present = (await store.get(ns, keys)).map((v) => v !== undefined);
  await store.delete(ns, keys);
  // Reported as wa_ids, as every list writes them (the cache's keys are E.164).
  const removed = waIds.filter((_, i) => present[i]);
  const missing = waIds.filter((_, i) => !present[i]);
  say(o, io, `${o.list}: removed ${removed.length}${missing.length ? `; not there: ${missing.join(', ')}` : ''}`);
  if (o.json) io.stdout.write(JSON.stringify({ removed, not_found: missing }) + '\n');
  return 0;
}

/** `cache clear`: asks first on a terminal; a script must say --yes. */
async function clearCache(o: ListOptions, store: Store, io: IO): Promise<number> {
  if (!o.yes) {
    const size = await countEntries(store, NAMESPACE[o.list]);
    if (size === 0) {
      say(o, io, 'cache: nothing to clear');
      if (o.json) io.stdout.write(JSON.stringify({ cleared: 0 }) + '\n');
      return 0;
    }
    const sure = await confirm(io, `cache: delete all ${size} entr${size === 1 ? 'y' : 'ies'} (${store.backend} store ${store.location})? Numbers will be asked of /contacts again.`);
    if (sure === undefined) throw new UsageError('cache clear deletes every cached answer: add --yes to clear it without a question (stdin is not a terminal)');
    if (!sure) {
      say(o, io, 'cache: not cleared');
      return 0;
    }
  }
  const count = await store.clear(NAMESPACE[o.list]);
  say(o, io, `cache: cleared ${count} entr${count === 1 ? 'y' : 'ies'}`);
  if (o.json) io.stdout.write(JSON.stringify({ cleared: count }) + '\n');
  return 0;
}

async function importNumbers(o: ListOptions, store: Store, io: IO): Promise<number> {
  if (o.args.length !== 1) throw new UsageError(`${o.list} import: give one file (CSV, JSON or JSONL), or - for stdin`);
  const list = o.list as 'blacklist' | 'optout';
  const { added, rows, skipped, firstRejects } = await importList({ ...o, list }, store, o.args[0]!, io);
  const s = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  say(o, io, `${list}: ${s(added, 'number')} imported from ${s(rows, 'row')}${skipped ? `; ${s(skipped, 'row')} skipped:` : ''}`);
  if (skipped) {
    say(o, io, firstRejects.map((r) => `  line ${r.line}: ${r.reason}`).join('\n'));
    const more = skipped - firstRejects.length;
    if (more > 0 || o.rejects === undefined) say(o, io, `  ${more > 0 ? `… and ${more} more; ` : ''}${o.rejects === undefined ? '--rejects FILE writes every skipped row with its reason' : `all in ${o.rejects}`}`);
  }
  if (o.json) io.stdout.write(JSON.stringify({ imported: added, rows, skipped, rejects: firstRejects }) + '\n');
  return 0;
}

/** `list`: a table of the first --limit entries (all with --json), filtered, and counts by reason. */
async function show(o: ListOptions, store: Store, io: IO): Promise<number> {
  const { list, json } = o;
  const columns = COLUMNS[list];
  const at = (name: string): number => columns.indexOf(name);
  const [reasonAt, byAt, sourceAt, timeAt] = [at(FILTERED[list].reason), at(FILTERED[list].by), at('source'), at(FILTERED[list].time)];
  const rows: string[][] = [];
  const byReason = new Map<string, number>();
  let total = 0;
  const has = (cell: string, text: string | undefined): boolean => text === undefined || cell.toLowerCase().includes(text.toLowerCase());
  for await (const [key, value] of store.scan(NAMESPACE[list])) {
    const r = entryRow(list, key, value);
    if (!has(r[reasonAt]!, o.reason) || !has(r[sourceAt]!, o.source)) continue;
    if (list === 'optout' && o.scope !== undefined && r[at('scope')] !== o.scope) continue;
    if (o.since !== undefined && !(Date.parse(r[timeAt]!) >= o.since)) continue;
    total++;
    byReason.set(r[byAt]!, (byReason.get(r[byAt]!) ?? 0) + 1);
    if (json || o.limit === 0 || rows.length < o.limit) rows.push(r);
  }
  if (json) {
    io.stdout.write(JSON.stringify({ total, by: Object.fromEntries(byReason), entries: rows.map((r) => rowRecord(columns, r)) }, null, 2) + '\n');
    return 0;
  }
  const shown = rows.map((r) => r.map(printable)); // reasons and sources come from outside (an agent, an import)
  const widths = columns.map((c, i) => Math.min(40, Math.max(c.length, ...shown.map((r) => r[i]!.length))));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.slice(0, 40).padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(columns), ...shown.map(line)];
  if (total > rows.length) out.push(`… and ${total - rows.length} more (--limit 0 shows all; or export them with: wa-guard ${list} export)`);
  out.push(`${total} entr${total === 1 ? 'y' : 'ies'}${byReason.size ? ': ' + [...byReason].map(([r, n]) => `${printable(r)} ${n}`).join(', ') : ''}`);
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
