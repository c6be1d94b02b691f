import type { Store } from './store.js';

/** Namespaces of the store that hold per-number lists, keyed by wa_id. */
export const BLACKLIST = 'blacklist';
export const OPTOUT = 'optout';
/** wa_id -> ISO time of the user's last message (opens the 24h care window); fed by ingest. */
export const INBOUND = 'inbound';
/** wa_id -> ISO time Meta last answered 131049 (per-user marketing cap). */
export const CAPPED = 'capped';
/** wa_id -> ISO time a conversation was opened outside a care window (counts toward the tier for 24h). */
export const CONVERSATIONS = 'conversations';

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
  /** What the user stopped: everything (a STOP keyword) or marketing only (user_preferences). Default all. */
  scope?: 'all' | 'marketing';
}

export async function addOptOuts(store: Store, items: readonly { waId: string; source: string; scope?: 'all' | 'marketing' }[], now: Date): Promise<void> {
  const at = now.toISOString();
  await store.set(OPTOUT, items.map((item) => ({
    key: item.waId,
    value: JSON.stringify({ source: item.source, at, ...(item.scope ? { scope: item.scope } : {}) } satisfies OptOutEntry),
  })));
}

/** A blacklist entry as a purge or block detail. */
export function describeBlacklisted(value: string): string {
  const e = parseBlacklistEntry(value);
  return `on the blacklist since ${e.first_seen.slice(0, 10)}: ${e.reason} (${e.source}, ${e.strikes} strike${e.strikes === 1 ? '' : 's'})`;
}

export function parseOptOut(value: string): { scope: 'all' | 'marketing'; detail: string } {
  const e = JSON.parse(value) as OptOutEntry;
  const scope = e.scope ?? 'all';
  return { scope, detail: `opted out${scope === 'marketing' ? ' of marketing' : ''} on ${e.at.slice(0, 10)} (${e.source})` };
}
