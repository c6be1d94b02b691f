import { stringify } from 'csv-stringify/sync';
import { BLACKLIST, BLACKLIST_COLUMNS, OPTOUT, OPTOUT_COLUMNS, parseBlacklistEntry, parseOptOut } from '../store/lists.js';
import { STATUS, parseCachedStatus } from '../store/status-cache.js';
import type { Store } from '../store/store.js';

export type ListName = 'blacklist' | 'optout' | 'cache';

/**
 * The columns each list lists and exports, wa_id (digits, country code first)
 * first. The cache's `answered_wa_id` is the wa_id /contacts answered, which
 * may differ from the number asked (Mexico's 521…).
 */
export const COLUMNS: Record<ListName, readonly string[]> = {
  blacklist: BLACKLIST_COLUMNS,
  optout: OPTOUT_COLUMNS,
  cache: ['wa_id', 'status', 'answered_wa_id', 'checked_at', 'source'],
};
export const NAMESPACE: Record<ListName, string> = { blacklist: BLACKLIST, optout: OPTOUT, cache: STATUS };

/** The column `list --reason` filters on and counts by, and the time `--since` reads. */
export const FILTERED: Record<ListName, { reason: string; by: string; time: string }> = {
  blacklist: { reason: 'reason', by: 'reason', time: 'last_seen' },
  optout: { reason: 'reason', by: 'scope', time: 'at' },
  cache: { reason: 'status', by: 'status', time: 'checked_at' },
};

/** One stored entry as a row of COLUMNS[list]; what an entry does not say is empty. */
export function entryRow(list: ListName, key: string, value: string): string[] {
  if (list === 'blacklist') {
    const e = parseBlacklistEntry(value);
    return [key, e.reason, e.source, e.first_seen, e.last_seen, String(e.strikes), e.expires ?? ''];
  }
  if (list === 'optout') {
    const e = parseOptOut(value);
    return [key, e.scope, e.reason, e.source, e.at];
  }
  // The cache is keyed by E.164; its rows carry the wa_id like every other list.
  const e = parseCachedStatus(value);
  return [key.replace(/^\+/, ''), e?.status ?? 'damaged', e?.wa_id ?? '', e?.checked_at ?? '', e?.source ?? ''];
}

/** A row as a JSON object; counts stay numbers. */
export function rowRecord(columns: readonly string[], r: readonly string[]): Record<string, string | number> {
  return Object.fromEntries(columns.map((c, i) => [c, c === 'strikes' ? Number(r[i]) : r[i]!]));
}

/** Writes a list as CSV (a header, then a row an entry) or JSON lines; resolves with how many entries. */
export async function writeList(list: ListName, store: Store, write: (text: string) => Promise<void>, json: boolean): Promise<number> {
  const columns = COLUMNS[list];
  if (!json) await write(stringify([columns as string[]]));
  let count = 0;
  let batch: string[][] = [];
  const flush = async (): Promise<void> => {
    await write(json ? batch.map((r) => JSON.stringify(rowRecord(columns, r)) + '\n').join('') : stringify(batch));
    batch = [];
  };
  for await (const [key, value] of store.scan(NAMESPACE[list])) {
    batch.push(entryRow(list, key, value));
    count++;
    if (batch.length === 10_000) await flush();
  }
  if (batch.length) await flush();
  return count;
}
