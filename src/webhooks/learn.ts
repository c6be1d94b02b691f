import { codeInfo } from '../meta/codes.js';
import { JOURNAL, JOURNAL_TTL_MS, WAMIDS, parseJournalEntry, type JournalEntry } from '../send/journal.js';
import { BLACKLIST, CAPPED, INBOUND, OPTOUT, STRIKES, UNDELIVERABLE_REASON, UNDELIVERABLE_REASONS, optOutWrite, parseBlacklistEntry, parseOptOut, strikeWrites } from '../store/lists.js';
import type { Store, StoreKey, StoreWrite } from '../store/store.js';
import { STATUS } from '../verify/verifier.js';

/** Failed statuses already applied (message id + status): Meta's repeat of one is not a second strike. */
export const SEEN = 'webhook-seen';
/** wa_id -> the time (s) of the newest delivery evidence or 131026 applied, so older events cannot undo newer ones. */
export const EVIDENCE = 'webhook-evidence';
/** `name:language` -> the template's last status event (PAUSED, DISABLED, …), which the gate reads. */
export const TEMPLATE_STATUS = 'template-status';
const SEEN_TTL_MS = 30 * 86_400_000;
const DAY_MS = 86_400_000;

export const DEFAULT_STOP_WORDS = ['STOP', 'UNSUBSCRIBE', 'END', 'QUIT', 'STOPALL', 'CANCEL', 'OPTOUT'];
export const DEFAULT_START_WORDS = ['START', 'UNSTOP'];

export interface LearnSettings {
  stopWords: Set<string>;
  startWords: Set<string>;
  /** 131026 strikes that blacklist a number, and how long that entry lasts (as send). */
  strikes: number;
  undeliverableTtlMs: number;
}

/** What one event is, once read and checked. */
export type Event =
  | { kind: 'inbound'; id: string; waId: string; at: number; word?: 'stop' | 'start' }
  | { kind: 'status'; id: string; status: 'sent' | 'delivered' | 'read' | 'failed'; waId: string; at: number; callback?: string; code?: number }
  | { kind: 'preference'; waId: string; at: number; stop: boolean }
  | { kind: 'template'; name: string; language: string; event: string; at: number };

export interface Learned {
  events: Record<string, number>;
  changes: Record<string, number>;
  /** Events that taught nothing new: applied before, or older than what the store knows. */
  unchanged: number;
  ignored: number;
}

export function emptyLearned(): Learned {
  return { events: {}, changes: {}, unchanged: 0, ignored: 0 };
}

const bump = (table: Record<string, number>, key: string, by = 1): void => {
  table[key] = (table[key] ?? 0) + by;
};

/** The events of one POST body (Meta's shape); what cannot be read is counted as ignored, never trusted. */
export function readPayload(body: unknown, settings: Pick<LearnSettings, 'stopWords' | 'startWords'>, learned: Learned): Event[] {
  const events: Event[] = [];
  const entries = (body as { entry?: unknown })?.entry;
  if (!Array.isArray(entries)) throw new Error('not a webhook payload: no "entry" list');
  for (const entry of entries) {
    const changes = (entry as { changes?: unknown })?.changes;
    if (!Array.isArray(changes)) continue;
    for (const change of changes) {
      const { field, value } = (change ?? {}) as { field?: unknown; value?: any };
      if (!value || typeof value !== 'object') continue;
      if (field === 'message_template_status_update') {
        // Meta dates these on the entry; never by the clock, so a replay is the same event.
        const at = seconds(value.timestamp) ?? seconds((entry as { time?: unknown }).time) ?? 0;
        if (typeof value.message_template_name === 'string' && typeof value.event === 'string') {
          events.push({ kind: 'template', name: value.message_template_name, language: String(value.message_template_language ?? ''), event: value.event.toUpperCase(), at });
        } else learned.ignored++;
        continue;
      }
      if (field === 'user_preferences') {
        for (const p of Array.isArray(value.user_preferences) ? value.user_preferences : []) {
          const waId = waIdOf(p?.wa_id);
          const at = seconds(p?.timestamp);
          if (waId && at !== undefined && p?.category === 'marketing_messages' && (p.value === 'stop' || p.value === 'resume')) {
            events.push({ kind: 'preference', waId, at, stop: p.value === 'stop' });
          } else learned.ignored++;
        }
        continue;
      }
      for (const m of Array.isArray(value.messages) ? value.messages : []) {
        const waId = waIdOf(m?.from);
        const at = seconds(m?.timestamp);
        // Users known only by a business-scoped id have no number to learn about.
        if (!waId || at === undefined || typeof m?.id !== 'string') {
          learned.ignored++;
          continue;
        }
        const text = String(m.text?.body ?? m.button?.text ?? m.button?.payload ?? m.interactive?.button_reply?.title ?? m.interactive?.list_reply?.title ?? '').trim().toUpperCase();
        const word = settings.stopWords.has(text) ? 'stop' : settings.startWords.has(text) ? 'start' : undefined;
        events.push({ kind: 'inbound', id: m.id, waId, at, ...(word ? { word } : {}) });
      }
      for (const s of Array.isArray(value.statuses) ? value.statuses : []) {
        const waId = waIdOf(s?.recipient_id);
        const at = seconds(s?.timestamp);
        if (!waId || at === undefined || typeof s?.id !== 'string' || !['sent', 'delivered', 'read', 'failed'].includes(s?.status)) {
          learned.ignored++;
          continue;
        }
        const code = Number.isInteger(s.errors?.[0]?.code) ? s.errors[0].code as number : undefined;
        events.push({
          kind: 'status', id: s.id, status: s.status, waId, at,
          ...(typeof s.biz_opaque_callback_data === 'string' ? { callback: s.biz_opaque_callback_data } : {}),
          ...(code === undefined ? {} : { code }),
        });
      }
    }
  }
  return events;
}

function seconds(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,12}$/.test(value) ? Number(value) : typeof value === 'number' && Number.isInteger(value) ? value : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

function waIdOf(value: unknown): string | undefined {
  return typeof value === 'string' && /^\d{6,15}$/.test(value) ? value : undefined;
}

/** Events applied in one store transaction: large enough that a commit's sync is rare. */
export const BATCH = 5000;

/** The store as a batch's transaction sees it: what was read, then what the events before wrote. */
type View = Map<string, Map<string, string | undefined>>;

/**
 * Applies events to the store, a batch per transaction: idempotent (an event
 * applied before changes nothing) and ordered by the events' own times (an
 * older event never undoes a newer one). Within a batch each event sees what
 * the ones before it wrote.
 */
export async function learn(store: Store, events: readonly Event[], settings: LearnSettings, learned: Learned, now = new Date()): Promise<void> {
  for (let at = 0; at < events.length; at += BATCH) {
    const batch = events.slice(at, at + BATCH);
    // Statuses without our callback data find their journal row by wamid.
    const lookup = batch.filter((e): e is Extract<Event, { kind: 'status' }> => e.kind === 'status' && !e.callback);
    const byWamid = new Map<string, string>();
    const found = lookup.length ? await store.get(WAMIDS, lookup.map((e) => e.id)) : [];
    lookup.forEach((e, i) => { if (found[i] !== undefined) byWamid.set(e.id, found[i]!); });
    const journalKeys = batch.map((e) => e.kind === 'status' ? e.callback ?? byWamid.get(e.id) : undefined);
    const view: View = new Map(); // the keys to read, then their values, then what the batch wrote
    const keysIn = (namespace: string): Map<string, string | undefined> => {
      let keysOf = view.get(namespace);
      if (!keysOf) view.set(namespace, keysOf = new Map());
      return keysOf;
    };
    const keys: StoreKey[] = [];
    const want = (namespace: string, key: string): void => {
      const keysOf = keysIn(namespace);
      if (keysOf.has(key)) return;
      keysOf.set(key, undefined);
      keys.push({ namespace, key });
    };
    batch.forEach((e, i) => readsOf(e, journalKeys[i], want));
    const results = await store.transact(keys, (values) => {
      keys.forEach(({ namespace, key }, i) => view.get(namespace)!.set(key, values[i]));
      const get = (namespace: string, key: string): string | undefined => view.get(namespace)?.get(key);
      const writes: StoreWrite[] = [];
      const outcomes = batch.map((event, i) => {
        const result = decide(event, journalKeys[i], get, settings, now);
        for (const w of result.writes) {
          keysIn(w.namespace).set(w.key, w.value);
          writes.push(w);
        }
        return result.changes;
      });
      return { writes, result: outcomes };
    }, { durable: false });
    results.forEach((changes, i) => {
      const e = batch[i]!;
      bump(learned.events, e.kind === 'status' ? `status:${e.status}` : e.kind);
      if (changes.length === 0) learned.unchanged++;
      else for (const change of changes) bump(learned.changes, change);
    });
  }
}

/**
 * Events whose effect a later event can undo (a strike, an opt-out, a lift)
 * are remembered by identity, so replaying an old one after the undo does not
 * apply it again. The rest are idempotent by comparing times with what the
 * store holds, which costs no extra key.
 */
function seenKey(e: Event): string | undefined {
  if (e.kind === 'status') return e.status === 'failed' ? `st:${e.id}:${e.status}` : undefined;
  if (e.kind === 'inbound') return e.word ? `in:${e.id}` : undefined;
  if (e.kind === 'preference') return `pref:${e.waId}:${e.at}:${e.stop}`;
  return undefined;
}

function readsOf(e: Event, journalKey: string | undefined, want: (namespace: string, key: string) => void): void {
  const seen = seenKey(e);
  if (seen) want(SEEN, seen);
  if (e.kind === 'template') return want(TEMPLATE_STATUS, `${e.name}:${e.language}`);
  const w = e.waId;
  if (e.kind === 'preference') return want(OPTOUT, w);
  want(BLACKLIST, w);
  want(STRIKES, w);
  want(EVIDENCE, w);
  if (e.kind === 'inbound') {
    want(INBOUND, w);
    want(OPTOUT, w);
    return;
  }
  if (e.status !== 'failed') want(STATUS, '+' + w);
  if (journalKey) want(JOURNAL, journalKey);
}

/** What one event writes, given the store as the events before it left it; no changes when it teaches nothing new. */
function decide(e: Event, journalKey: string | undefined, get: (namespace: string, key: string) => string | undefined, settings: LearnSettings, now: Date): { writes: StoreWrite[]; changes: string[] } {
  const writes: StoreWrite[] = [];
  const changes: string[] = [];
  const done = { writes, changes };
  const seen = seenKey(e);
  if (seen !== undefined) {
    if (get(SEEN, seen) !== undefined) return done;
    writes.push({ namespace: SEEN, key: seen, value: '1', ttlMs: SEEN_TTL_MS });
  }
  if (e.kind === 'template') {
    const before = parse(get(TEMPLATE_STATUS, `${e.name}:${e.language}`));
    const beforeAt = Number(before.at);
    if (beforeAt > e.at || (beforeAt === e.at && before.event === e.event)) return done; // older, or this very event
    writes.push({ namespace: TEMPLATE_STATUS, key: `${e.name}:${e.language}`, value: JSON.stringify({ event: e.event, at: e.at }) });
    changes.push(`template_${e.event.toLowerCase()}`);
    return done;
  }
  const waId = e.waId;
  const atMs = e.at * 1000;
  const listed = get(BLACKLIST, waId);
  const strikes = get(STRIKES, waId);
  const lastEvidence = Number(get(EVIDENCE, waId) ?? 0) || 0;
  /** Delivery evidence: the number is reachable, whatever an older 131026 said. */
  const reachable = (): void => {
    if (e.at < lastEvidence) return;
    if (e.at > lastEvidence) writes.push({ namespace: EVIDENCE, key: waId, value: String(e.at), ttlMs: 365 * DAY_MS });
    if (listed !== undefined && UNDELIVERABLE_REASONS.has(parseBlacklistEntry(listed).reason)) {
      writes.push({ namespace: BLACKLIST, key: waId });
      changes.push('blacklist_lifted');
    }
    if (strikes !== undefined) writes.push({ namespace: STRIKES, key: waId });
  };
  switch (e.kind) {
    case 'inbound': {
      const inbound = get(INBOUND, waId);
      const optout = get(OPTOUT, waId);
      const before = optout === undefined ? undefined : parseOptOut(optout);
      if (inbound === undefined || Date.parse(inbound) < atMs) {
        writes.push({ namespace: INBOUND, key: waId, value: new Date(atMs).toISOString(), ttlMs: 30 * DAY_MS });
        changes.push('care_window_opened');
      }
      reachable();
      if (e.word === 'stop' && !(before?.scope === 'all' && Date.parse(before.at) >= atMs)) {
        writes.push(optOutWrite({ waId, source: 'webhook:stop-word', scope: 'all' }, new Date(atMs)));
        changes.push('opted_out');
      } else if (e.word === 'start' && before !== undefined && Date.parse(before.at) <= atMs) {
        writes.push({ namespace: OPTOUT, key: waId });
        changes.push('opt_out_lifted');
      }
      break;
    }
    case 'preference': {
      const optout = get(OPTOUT, waId);
      const before = optout === undefined ? undefined : parseOptOut(optout);
      if (before && Date.parse(before.at) >= atMs && (e.stop || Date.parse(before.at) > atMs)) break; // an older preference, or this one again
      if (e.stop) {
        if (!before || before.scope !== 'all') {
          writes.push(optOutWrite({ waId, source: 'webhook:user_preferences', scope: 'marketing' }, new Date(atMs)));
          changes.push('opted_out_of_marketing');
        }
      } else if (before && before.scope === 'marketing') {
        writes.push({ namespace: OPTOUT, key: waId });
        changes.push('marketing_resumed');
      }
      break;
    }
    case 'status': {
      const journal = journalKey === undefined ? undefined : get(JOURNAL, journalKey);
      const entry: JournalEntry | undefined = journal === undefined ? undefined : parseJournalEntry(journal);
      if (e.status !== 'failed') {
        // Newer than all evidence: nothing cached can be newer (the common case, and no entry to parse).
        const cached = e.at > lastEvidence ? {} : parse(get(STATUS, '+' + waId));
        if (!(cached.status === 'valid' && cached.source === 'delivery' && Date.parse(String(cached.checked_at)) >= atMs)) {
          // The entry verify writes, built by hand: it is the hottest line of an ingest (waId is digits only).
          writes.push({ namespace: STATUS, key: '+' + waId, value: `{"status":"valid","wa_id":"${waId}","checked_at":"${new Date(atMs).toISOString()}","source":"delivery"}`, ttlMs: 30 * DAY_MS });
          changes.push('cache_valid');
        }
        reachable();
        if (entry && journalKey && (entry.status === 'unknown' || entry.status === 'inflight')) {
          writes.push({ namespace: JOURNAL, key: journalKey, value: JSON.stringify({ ...entry, status: 'sent', wamid: e.id, at: now.toISOString(), reason: `accepted: a ${e.status} webhook arrived` }), ttlMs: JOURNAL_TTL_MS });
          changes.push('journal_unknown_to_sent');
        }
        break;
      }
      const action = e.code === undefined ? 'recipient' : codeInfo(e.code).action;
      if (action === 'undeliverable' && e.at >= lastEvidence) {
        const strike = strikeWrites(strikes, listed, { waId, reason: UNDELIVERABLE_REASON, source: 'webhook', ttlMs: settings.undeliverableTtlMs }, settings.strikes, now);
        writes.push(...strike.writes);
        changes.push(strike.blacklisted ? 'blacklisted' : 'strike');
        writes.push({ namespace: EVIDENCE, key: waId, value: String(e.at), ttlMs: 365 * DAY_MS });
      } else if (action === 'optout') {
        writes.push(optOutWrite({ waId, source: 'webhook:131050', scope: 'marketing' }, new Date(atMs)));
        changes.push('opted_out_of_marketing');
      } else if (action === 'capped') {
        writes.push({ namespace: CAPPED, key: waId, value: new Date(atMs).toISOString(), ttlMs: DAY_MS });
        changes.push('capped');
      }
      if (entry && journalKey && entry.status !== 'failed') {
        const code = e.code;
        writes.push({ namespace: JOURNAL, key: journalKey, value: JSON.stringify({ ...entry, status: 'failed', wamid: e.id, ...(code === undefined ? {} : { code, title: codeInfo(code).title }), at: now.toISOString(), reason: 'failed, as a status webhook said' }), ttlMs: JOURNAL_TTL_MS });
        changes.push('journal_failed');
      }
      break;
    }
  }
  return done;
}

/** A stored JSON object, or {} when damaged. */
function parse(value: string | undefined): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(value ?? '{}');
    return v && typeof v === 'object' ? v as Record<string, unknown> : {};
  } catch {
    return {};
  }
}
