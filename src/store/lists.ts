import type { Store } from './store.js';

/** Namespaces of the store that hold per-number lists, keyed by wa_id. */
export const BLACKLIST = 'blacklist';
export const OPTOUT = 'optout';

export interface BlacklistEntry {
  reason: string;
  source: string;
  first_seen: string;
  last_seen: string;
  strikes: number;
}

export const BLACKLIST_COLUMNS = ['wa_id', 'reason', 'source', 'first_seen', 'last_seen', 'strikes'] as const;

export function parseBlacklistEntry(value: string): BlacklistEntry {
  return JSON.parse(value) as BlacklistEntry;
}

/** Adds numbers to the blacklist; a number already there gets one more strike. */
export async function addToBlacklist(
  store: Store,
  items: readonly { waId: string; reason: string; source: string }[],
  now: Date,
): Promise<void> {
  const existing = await store.get(BLACKLIST, items.map((item) => item.waId));
  const at = now.toISOString();
  await store.set(BLACKLIST, items.map((item, i) => {
    const before = existing[i] === undefined ? undefined : parseBlacklistEntry(existing[i]!);
    const entry: BlacklistEntry = {
      reason: item.reason,
      source: item.source,
      first_seen: before?.first_seen ?? at,
      last_seen: at,
      strikes: (before?.strikes ?? 0) + 1,
    };
    return { key: item.waId, value: JSON.stringify(entry) };
  }));
}

export interface OptOutEntry {
  source: string;
  at: string;
}

export async function addOptOuts(store: Store, items: readonly { waId: string; source: string }[], now: Date): Promise<void> {
  const at = now.toISOString();
  await store.set(OPTOUT, items.map((item) => ({ key: item.waId, value: JSON.stringify({ source: item.source, at } satisfies OptOutEntry) })));
}
