import { blacklistEntryWrite, optOutWrite, parseBlacklistEntry, type BlacklistEntry } from '../store/lists.js';
import type { StoreWrite } from '../store/store.js';

/** What an imported row says of its entry, checked; empty: the row does not say. */
export interface Fields {
  reason: string;
  source: string;
  /** Times as ISO (blacklist: first_seen, last_seen, expires; opt-outs: at). */
  first_seen: string;
  last_seen: string;
  expires: string;
  at: string;
  strikes?: number;
  scope?: 'all' | 'marketing';
}

/** What every entry of one import shares. */
export interface ImportContext {
  list: 'blacklist' | 'optout';
  now: Date;
  /** `import:<file name>`: the source of rows that do not name theirs. */
  source: string;
  /** --reason and --scope: over the rows' own. */
  reason?: string;
  scope?: 'all' | 'marketing';
}

const TIMES = { blacklist: ['first_seen', 'last_seen', 'expires'], optout: ['at'] } as const;

/**
 * A row's fields by column name (`cell` gives '' for a column the file
 * lacks), or why the row is skipped: a field that cannot be read, or an
 * expiry already past (the store would not keep the entry).
 */
export function readFields(list: 'blacklist' | 'optout', cell: (name: string) => string, now: Date): Fields | string {
  const fields: Fields = { reason: cell('reason'), source: cell('source'), first_seen: '', last_seen: '', expires: '', at: '' };
  for (const name of TIMES[list]) {
    const text = cell(name);
    if (text === '') continue;
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) return `${name} "${text}" is not a date (like 2026-11-01T10:00:00Z)`;
    fields[name] = new Date(ms).toISOString();
    if (name === 'expires' && ms <= now.getTime()) return `expired on ${fields.expires}`;
  }
  if (list === 'blacklist') {
    const strikes = cell('strikes');
    if (strikes !== '' && !/^[1-9]\d{0,5}$/.test(strikes)) return `strikes "${strikes}" is not a count (1 or more)`;
    if (strikes !== '') fields.strikes = Number(strikes);
  } else {
    const scope = cell('scope').toLowerCase();
    if (scope !== '' && scope !== 'all' && scope !== 'marketing') return `scope "${cell('scope')}" is not all or marketing`;
    if (scope !== '') fields.scope = scope;
  }
  return fields;
}

/**
 * The writes of imported entries, given what the store held for each: a
 * row's own fields, else the import's defaults; a blacklist row that does not
 * give its strikes adds one to the entry there, as `add` does.
 */
export function entryWrites(entries: readonly [string, Fields][], before: readonly (string | undefined)[], c: ImportContext): StoreWrite[] {
  const at = c.now.toISOString();
  return entries.map(([waId, f], i) => {
    if (c.list === 'optout') {
      return optOutWrite({ waId, source: f.source || c.source, scope: c.scope ?? f.scope ?? 'all', reason: c.reason ?? (f.reason || undefined) }, f.at || at);
    }
    const old = before[i] === undefined ? undefined : parseBlacklistEntry(before[i]!);
    const entry: BlacklistEntry = {
      reason: c.reason ?? (f.reason || 'imported'),
      source: f.source || c.source,
      first_seen: f.first_seen || old?.first_seen || at,
      last_seen: f.last_seen || at,
      strikes: f.strikes ?? (old?.strikes ?? 0) + 1,
      ...(f.expires ? { expires: f.expires } : {}),
    };
    return blacklistEntryWrite(waId, entry, c.now);
  });
}
