import { DAY_MS } from '../time.js';
import type { Store, StoreWrite } from './store.js';
import type { Namespace } from './schema.js';

/** Namespaces of the store that hold per-number lists, keyed by wa_id. */
export const BLACKLIST = 'blacklist' satisfies Namespace;
export const OPTOUT = 'optout' satisfies Namespace;
/** wa_id -> strikes recorded below the blacklist threshold (131026 answers). */
export const STRIKES = 'strikes' satisfies Namespace;
/** wa_id -> ISO time of the user's last message (opens the 24h care window); fed by ingest. */
export const INBOUND = 'inbound' satisfies Namespace;
/** wa_id -> ISO time Meta last answered 131049 (per-user marketing cap). */
export const CAPPED = 'capped' satisfies Namespace;
/** wa_id -> ISO time a conversation was opened outside a care window (counts toward the tier for 24h). */
export const CONVERSATIONS = 'conversations' satisfies Namespace;

export interface BlacklistEntry {
  reason: string;
  source: string;
  first_seen: string;
  last_seen: string;
  strikes: number;
  /** When the entry lapses and the number may be tried again (ISO); none: never. */
  expires?: string;
}

export const BLACKLIST_COLUMNS = ['wa_id', 'reason', 'source', 'first_seen', 'last_seen', 'strikes', 'expires'] as const;
/** The columns the opt-outs export, after wa_id. */
export const OPTOUT_COLUMNS = ['wa_id', 'scope', 'reason', 'source', 'at'] as const;

/** A stored entry, checked: a damaged value still blacklists (the safe side) with what can be read. */
export function parseBlacklistEntry(value: string): BlacklistEntry {
  let e: Partial<BlacklistEntry> = {};
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed && typeof parsed === 'object') e = parsed as Partial<BlacklistEntry>;
  } catch { /* keep the defaults */ }
  const text = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback);
  return {
    reason: text(e.reason, 'unknown'),
    source: text(e.source, 'unknown'),
    first_seen: text(e.first_seen, ''),
    last_seen: text(e.last_seen, text(e.first_seen, '')),
    strikes: Number.isInteger(e.strikes) && e.strikes! > 0 ? e.strikes! : 1,
    ...(typeof e.expires === 'string' ? { expires: e.expires } : {}),
  };
}

export interface BlacklistItem {
  waId: string;
  reason: string;
  source: string;
  /** The entry lapses after this long (e.g. 131026: the user may install WhatsApp later). */
  ttlMs?: number;
}

/**
 * Date#toISOString, remembered for the time asked last: it costs about a
 * microsecond, and the entries of one batch share their "now" (and expiry).
 */
function isoMemo(): (ms: number) => string {
  let last = NaN;
  let text = '';
  return (ms) => {
    if (ms !== last) {
      text = new Date(ms).toISOString();
      last = ms;
    }
    return text;
  };
}
const isoNow = isoMemo();
const isoExpiry = isoMemo();

/** The write that puts a number on the blacklist, given what was there (one more strike if it was). */
export function blacklistWrite(before: string | undefined, item: BlacklistItem, now: Date): StoreWrite {
  const old = before === undefined ? undefined : parseBlacklistEntry(before);
  const at = isoNow(now.getTime());
  const entry: BlacklistEntry = {
    reason: item.reason,
    source: item.source,
    first_seen: old?.first_seen || at,
    last_seen: at,
    strikes: (old?.strikes ?? 0) + 1,
    ...(item.ttlMs === undefined ? {} : { expires: isoExpiry(now.getTime() + item.ttlMs) }),
  };
  return { namespace: BLACKLIST, key: item.waId, value: JSON.stringify(entry), ...(item.ttlMs === undefined ? {} : { ttlMs: item.ttlMs }) };
}

/** The write that puts an entry back as an export wrote it (an import); an expiry must be in the future. */
export function blacklistEntryWrite(waId: string, entry: BlacklistEntry, now: Date): StoreWrite {
  const ttlMs = entry.expires === undefined ? undefined : Math.max(1, Date.parse(entry.expires) - now.getTime());
  return { namespace: BLACKLIST, key: waId, value: JSON.stringify(entry), ...(ttlMs === undefined ? {} : { ttlMs }) };
}

/** Adds numbers to the blacklist in one transaction; a number already there gets one more strike. */
export async function addToBlacklist(store: Store, items: readonly BlacklistItem[], now: Date): Promise<void> {
  if (items.length === 0) return;
  await store.transact(items.map((item) => ({ namespace: BLACKLIST, key: item.waId })), (before) => ({
    writes: items.map((item, i) => blacklistWrite(before[i], item, now)),
    result: undefined,
  }));
}

/**
 * The writes of one 131026 strike on a number, given its strike and blacklist
 * entries. `strikes` counts the 131026 answers of a number not on the
 * blacklist; at `threshold` it goes on the blacklist, the entry's `strikes`
 * says how many were counted, and the count is removed. A strike on a number
 * already listed for 131026 renews its entry (last_seen, expiry), its count
 * unchanged; a number listed for another reason is left as it is.
 */
export function strikeWrites(strikes: string | undefined, listed: string | undefined, item: BlacklistItem, threshold: number, now: Date): { writes: StoreWrite[]; blacklisted: boolean } {
  const clearCount: StoreWrite[] = strikes === undefined ? [] : [{ namespace: STRIKES, key: item.waId }];
  if (listed !== undefined) {
    const old = parseBlacklistEntry(listed);
    if (old.reason !== item.reason) return { writes: clearCount, blacklisted: true };
    return { writes: [undeliverableEntry(item, now, old.strikes, old), ...clearCount], blacklisted: true };
  }
  let count = 0;
  try { count = Number((JSON.parse(strikes ?? '{}') as { strikes?: unknown }).strikes) || 0; } catch { /* damaged: start again */ }
  count++;
  if (count >= threshold) return { writes: [undeliverableEntry(item, now, count), ...clearCount], blacklisted: true };
  const at = isoNow(now.getTime());
  return { writes: [{ namespace: STRIKES, key: item.waId, value: JSON.stringify({ strikes: count, last_seen: at }) }], blacklisted: false };
}

/** The blacklist entry of a number struck `strikes` times (`old`: the entry it renews). */
function undeliverableEntry(item: BlacklistItem, now: Date, strikes: number, old?: BlacklistEntry): StoreWrite {
  const at = isoNow(now.getTime());
  const entry: BlacklistEntry = {
    reason: item.reason,
    source: old?.source ?? item.source,
    first_seen: old?.first_seen || at,
    last_seen: at,
    strikes,
    ...(item.ttlMs === undefined ? {} : { expires: isoExpiry(now.getTime() + item.ttlMs) }),
  };
  return { namespace: BLACKLIST, key: item.waId, value: JSON.stringify(entry), ...(item.ttlMs === undefined ? {} : { ttlMs: item.ttlMs }) };
}

/** Blacklist reasons that mean "could not reach the number", which a delivery disproves. */
export const UNDELIVERABLE_REASON = 'undeliverable (131026)';
/** How long a 131026 blacklist entry lasts, from the failure, unless --undeliverable-ttl says otherwise. */
export const UNDELIVERABLE_TTL_MS = 90 * DAY_MS;
export const UNDELIVERABLE_REASONS = new Set([UNDELIVERABLE_REASON, 'contacts_invalid']);

export interface OptOutEntry {
  source: string;
  at: string;
  /** What the user stopped: everything (a STOP keyword) or marketing only (user_preferences). Default all. */
  scope?: 'all' | 'marketing';
  /** Why, when someone said (optout add/import --reason). */
  reason?: string;
}

/** The write that opts a number out; `at`: since when (ISO). */
export function optOutWrite(item: { waId: string; source: string; scope?: 'all' | 'marketing'; reason?: string }, at: string): StoreWrite {
  const value: OptOutEntry = { source: item.source, at, ...(item.scope ? { scope: item.scope } : {}), ...(item.reason ? { reason: item.reason } : {}) };
  return { namespace: OPTOUT, key: item.waId, value: JSON.stringify(value) };
}

/** The write that records Meta's per-user marketing cap (131049) on a number since `at` (ISO); the gate defers marketing to it for a day. */
export function capWrite(waId: string, at: string): StoreWrite {
  return { namespace: CAPPED, key: waId, value: at, ttlMs: DAY_MS };
}

/**
 * Opts numbers out. An opt-out never narrows: a number opted out of
 * everything stays so when a marketing-only one is added (to narrow, remove
 * it first). Resolves with the numbers left as they were for that reason.
 */
export async function addOptOuts(store: Store, items: readonly { waId: string; source: string; scope?: 'all' | 'marketing'; reason?: string }[], now: Date): Promise<string[]> {
  if (items.length === 0) return [];
  const at = now.toISOString();
  const narrowing = items.filter((item) => item.scope === 'marketing');
  return store.transact(narrowing.map((item) => ({ namespace: OPTOUT, key: item.waId })), (values) => {
    const wider = new Set(narrowing.filter((_, i) => values[i] !== undefined && parseOptOut(values[i]!).scope === 'all').map((item) => item.waId));
    return { writes: items.filter((item) => !(item.scope === 'marketing' && wider.has(item.waId))).map((item) => optOutWrite(item, at)), result: [...wider] };
  });
}

/** A blacklist entry as a purge or block detail. */
export function describeBlacklisted(value: string): string {
  const e = parseBlacklistEntry(value);
  const until = e.expires ? `, until ${e.expires.slice(0, 10)}` : '';
  // An entry that cannot be read still blocks (the number was put there); it says so rather than print blanks.
  const since = e.first_seen ? ` since ${e.first_seen.slice(0, 10)}` : '';
  return `on the blacklist${since}: ${e.reason === 'unknown' ? 'reason unknown (the entry is damaged or foreign)' : e.reason} (${e.source}, ${e.strikes} strike${e.strikes === 1 ? '' : 's'}${until})`;
}

export function parseOptOut(value: string): { scope: 'all' | 'marketing'; detail: string; source: string; at: string; reason: string } {
  let e: Partial<OptOutEntry> = {};
  try { e = JSON.parse(value) as Partial<OptOutEntry>; } catch { /* a damaged entry still opts out, of everything */ }
  const scope = e.scope === 'marketing' ? 'marketing' : 'all';
  const at = typeof e.at === 'string' ? e.at : '';
  const source = typeof e.source === 'string' ? e.source : 'unknown';
  const reason = typeof e.reason === 'string' ? e.reason : '';
  return { scope, source, at, reason, detail: `opted out${scope === 'marketing' ? ' of marketing' : ''} on ${at.slice(0, 10)} (${source}${reason ? `: ${reason}` : ''})` };
}
