import type { Namespace } from './schema.js';
import type { Store, StoreWrite } from './store.js';

/**
 * The status cache: what /contacts (or a delivery) said of a number, keyed by
 * E.164, so a number is not asked again (and paid for) until its entry lapses.
 */
export const STATUS = 'status' satisfies Namespace;

/** What the status cache holds per E.164 number. */
export interface CachedStatus {
  status: 'valid' | 'invalid';
  wa_id?: string;
  checked_at: string;
  source: string;
}

/** A delivery proves the number is on WhatsApp: its entry says so for this long. */
export const DELIVERED_TTL_MS = 30 * 86_400_000;
export const DELIVERY_SOURCE = 'delivery';

/** A cache entry, checked: anything else (a damaged or foreign value) is a cache miss, asked again. */
export function parseCachedStatus(value: string): CachedStatus | undefined {
  let v: Partial<CachedStatus>;
  try {
    v = JSON.parse(value) as Partial<CachedStatus>;
  } catch {
    return undefined;
  }
  if (!v || typeof v.checked_at !== 'string') return undefined;
  const source = typeof v.source === 'string' ? v.source : 'unknown';
  if (v.status === 'valid' && typeof v.wa_id === 'string' && /^\d{1,15}$/.test(v.wa_id)) return { status: 'valid', wa_id: v.wa_id, checked_at: v.checked_at, source };
  if (v.status === 'invalid') return { status: 'invalid', checked_at: v.checked_at, source };
  return undefined;
}

/** The stored value of an answer: `waId` for a valid number only; `checkedAt` ISO. */
export function cachedStatusValue(status: CachedStatus['status'], waId: string | undefined, checkedAt: string, source: string): string {
  const entry: CachedStatus = status === 'valid' ? { status, wa_id: waId, checked_at: checkedAt, source } : { status, checked_at: checkedAt, source };
  return JSON.stringify(entry);
}

/**
 * The stored value of "delivered, so valid" (source `delivery`), byte for byte
 * what cachedStatusValue gives, built as text: an ingest writes one a delivery.
 * `waId` is digits only and `checkedAt` an ISO time, so nothing needs escaping.
 */
export function deliveredStatusValue(waId: string, checkedAt: string): string {
  return `{"status":"valid","wa_id":"${waId}","checked_at":"${checkedAt}","source":"${DELIVERY_SOURCE}"}`;
}

/** The write that caches a value for an E.164 number. */
export function cachedStatusWrite(e164: string, value: string, ttlMs: number): StoreWrite {
  return { namespace: STATUS, key: e164, value, ttlMs };
}

/** The cache's answers for E.164 numbers; a damaged entry reads as absent (asked again). */
export async function readCachedStatuses(store: Store, e164s: readonly string[]): Promise<(CachedStatus | undefined)[]> {
  const values = await store.get(STATUS, e164s);
  return values.map((v) => (v === undefined ? undefined : parseCachedStatus(v)));
}
