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
  const latest = Date.now() / 1000 + MAX_AHEAD_S;
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
        const at = seconds(value.timestamp, latest) ?? seconds((entry as { time?: unknown }).time, latest) ?? 0;
        if (typeof value.message_template_name === 'string' && typeof value.event === 'string') {
          events.push({ kind: 'template', name: value.message_template_name, language: String(value.message_template_language ?? ''), event: value.event.toUpperCase(), at });
        } else learned.ignored++;
        continue;
      }
      if (field === 'user_preferences') {
        for (const p of Array.isArray(value.user_preferences) ? value.user_preferences : []) {
          const waId = waIdOf(p?.wa_id);
          const at = seconds(p?.timestamp, latest);
          if (waId && at !== undefined && p?.category === 'marketing_messages' && (p.value === 'stop' || p.value === 'resume')) {
            events.push({ kind: 'preference', waId, at, stop: p.value === 'stop' });
          } else learned.ignored++;
        }
        continue;
      }
      for (const m of Array.isArray(value.messages) ? value.messages : []) {
        const waId = waIdOf(m?.from);
        const at = seconds(m?.timestamp, latest);
        // Users known only by a business-scoped id have no number to learn about.
        if (!waId || at === undefined || typeof m?.id !== 'string') {
          learned.ignored++;
          continue;
        }
        const text = String(m.text?.body ?? m.button?.text ?? m.button?.payload ?? m.interactive?.button_reply?.title ?? m.interactive?.list_reply?.title ?? '').trim().toUpperCase();
        const word = settings.stopWords.has(text) ? 'stop' : settings.startWords.has(text) ? 'start' : undefined;
        events.push({ kind: 'inbound', id: m.id, waId, at, word });
      }
      for (const s of Array.isArray(value.statuses) ? value.statuses : []) {
        const waId = waIdOf(s?.recipient_id);
        const at = seconds(s?.timestamp, latest);
        if (!waId || at === undefined || typeof s?.id !== 'string' || !['sent', 'delivered', 'read', 'failed'].includes(s?.status)) {
          learned.ignored++;
          continue;
        }
        const code = Number.isInteger(s.errors?.[0]?.code) ? s.errors[0].code as number : undefined;
        // Every event of a kind has the same properties (undefined where absent): one shape each for the code that reads them.
        events.push({
          kind: 'status', id: s.id, status: s.status, waId, at,
          callback: typeof s.biz_opaque_callback_data === 'string' && s.biz_opaque_callback_data !== '' ? s.biz_opaque_callback_data : undefined,
          code,
        });
      }
    }
  }
  return events;
}

/** How far ahead of this machine's clock an event's time may be (clock skew). */
const MAX_AHEAD_S = 86_400;

/**
 * An event's time in seconds, if it is one and not after `latest`: an event
 * from the future is damage, not news (dated years ahead, a 131026 could never
 * be lifted and a message would hold the care window open).
 */
function seconds(value: unknown, latest: number): number | undefined {
  const n = typeof value === 'string' && /^\d{1,12}$/.test(value) ? Number(value) : typeof value === 'number' && Number.isInteger(value) ? value : NaN;
  return n > 0 && n <= latest ? n : undefined;
}

function waIdOf(value: unknown): string | undefined {
  return typeof value === 'string' && /^\d{6,15}$/.test(value) ? value : undefined;
}

/** Events applied in one store transaction: large enough that a commit's sync is rare. */
export const BATCH = 5000;

/**
 * The store entries an event may read or write, one field each. Every write
 * an event makes lands on one of its own fields (or on a list nothing here
 * reads), so the events after it in a batch see it. A field is read from the
 * store only when the event looks at it.
 */
const F_SEEN = 0, F_TEMPLATE = 1, F_BLACKLIST = 2, F_STRIKES = 3, F_EVIDENCE = 4, F_INBOUND = 5, F_OPTOUT = 6, F_STATUS = 7, F_JOURNAL = 8;
/** Each field's namespace, in the order of the field numbers above. */
const FIELD_NAMESPACES = [SEEN, TEMPLATE_STATUS, BLACKLIST, STRIKES, EVIDENCE, INBOUND, OPTOUT, STATUS, JOURNAL];
const FIELDS = FIELD_NAMESPACES.length;
/** The fields keyed by the event's number. */
const NUMBER_FIELDS = F_STATUS - F_BLACKLIST + 1;
const FIELD_OF = new Map(FIELD_NAMESPACES.map((namespace, field) => [namespace, field]));

/**
 * The keys a batch of events may read, each once, and where each event finds its
 * fields: event i's field f is `reads[slots[i * FIELDS + f]]` (-1: none).
 * `journalKeys[i]`: the send journal's row of status i, if known.
 */
function planReads(events: readonly Event[], journalKeys: readonly (string | undefined)[]): { reads: StoreKey[]; slots: Int32Array } {
  const reads: StoreKey[] = [];
  const slots = new Int32Array(events.length * FIELDS).fill(-1);
  let base = 0;
  /** A new slot: the key is read (if an event looks) at reads[slot]. */
  const plan = (field: number, key: string): number => reads.push({ namespace: FIELD_NAMESPACES[field]!, key }) - 1;
  const known: Map<string, number>[] = [];
  const want = (field: number, key: string): void => {
    const keys = (known[field] ??= new Map());
    let slot = keys.get(key);
    if (slot === undefined) keys.set(key, slot = plan(field, key));
    slots[base + field] = slot;
  };
  // The fields F_BLACKLIST to F_STATUS are all keyed by the event's number:
  // one lookup an event finds that number's slots (-1: not planned yet).
  const numbers = new Map<string, number>();
  const numberSlots = new Int32Array(events.length * NUMBER_FIELDS).fill(-1);
  let number = 0;
  const wantOfNumber = (field: number, key: string): void => {
    const at = number + field - F_BLACKLIST;
    if (numberSlots[at]! < 0) numberSlots[at] = plan(field, key);
    slots[base + field] = numberSlots[at]!;
  };
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    base = i * FIELDS;
    const seen = seenKey(e);
    if (seen) want(F_SEEN, seen);
    if (e.kind === 'template') want(F_TEMPLATE, `${e.name}:${e.language}`);
    else {
      const w = e.waId;
      const found = numbers.get(w);
      if (found === undefined) numbers.set(w, number = numbers.size * NUMBER_FIELDS);
      else number = found;
      if (e.kind === 'preference') wantOfNumber(F_OPTOUT, w);
      else {
        wantOfNumber(F_BLACKLIST, w);
        wantOfNumber(F_STRIKES, w);
        wantOfNumber(F_EVIDENCE, w);
        if (e.kind === 'inbound') {
          wantOfNumber(F_INBOUND, w);
          if (e.word !== undefined) wantOfNumber(F_OPTOUT, w);
        } else {
          // A failure may opt the number out (131050): planned, so that later events of the batch see it.
          if (e.status === 'failed') wantOfNumber(F_OPTOUT, w);
          else wantOfNumber(F_STATUS, '+' + w);
          const journalKey = journalKeys[i];
          if (journalKey !== undefined) want(F_JOURNAL, journalKey);
        }
      }
    }
  }
  return { reads, slots };
}

/**
 * Applies events to the store, a batch per transaction: idempotent (an event
 * applied before changes nothing) and ordered by the events' own times (an
 * older event never undoes a newer one). Within a batch each event sees what
 * the ones before it wrote.
 */
export async function learn(store: Store, events: readonly Event[], settings: LearnSettings, learned: Learned, now = new Date()): Promise<void> {
  for (let at = 0; at < events.length; at += BATCH) {
    const batch = events.slice(at, at + BATCH);
    const { reads, slots } = planReads(batch, await journalKeysOf(store, batch));
    // Lazy: most events need a few of the fields planned for them (a delivery
    // reads its cached status only when older evidence exists), a third fewer reads.
    const tally = await store.transact(reads, (_, read) => {
      const view = new BatchView(slots, read, reads);
      for (let i = 0; i < batch.length; i++) {
        view.base = i * FIELDS;
        view.eventChanged = false;
        decide(batch[i]!, view, settings, now);
        if (!view.eventChanged) view.unchanged++;
      }
      return { writes: view.writes(), result: view };
    }, { durable: false, lazy: true });
    for (const e of batch) bump(learned.events, e.kind === 'status' ? STATUS_EVENTS[e.status] : e.kind);
    for (const change in tally.changes) bump(learned.changes, change, tally.changes[change]);
    learned.unchanged += tally.unchanged;
  }
}

const STATUS_EVENTS = { sent: 'status:sent', delivered: 'status:delivered', read: 'status:read', failed: 'status:failed' };

/** Each status's send-journal row: named by our callback data, else found by its wamid. */
async function journalKeysOf(store: Store, events: readonly Event[]): Promise<(string | undefined)[]> {
  const keys = events.map((e) => (e.kind === 'status' ? e.callback : undefined));
  const lookup = events.flatMap((e, i) => (e.kind === 'status' && e.callback === undefined ? [i] : []));
  if (lookup.length) {
    const found = await store.get(WAMIDS, lookup.map((i) => (events[i] as { id: string }).id));
    lookup.forEach((i, j) => { keys[i] = found[j]; });
  }
  return keys;
}

/** The store as one event of a batch sees it: what the events before it wrote, else what is stored. */
class BatchView {
  /** The event's first slot. */
  base = 0;
  /** What the batch changed, counted by name; events that changed nothing. */
  readonly changes: Record<string, number> = {};
  unchanged = 0;
  /** Whether the current event changed anything. */
  eventChanged = false;
  /** By slot: the last value the batch wrote there (undefined: deleted), where written[slot] is 1. */
  private readonly wrote: (string | undefined)[];
  private readonly ttls: (number | undefined)[];
  private readonly written: Uint8Array;
  /** Writes to lists no event reads. */
  private readonly unread: StoreWrite[] = [];

  constructor(private readonly slots: Int32Array, private readonly read: (slot: number) => string | undefined, private readonly reads: readonly StoreKey[]) {
    this.wrote = new Array<string | undefined>(reads.length);
    this.ttls = new Array<number | undefined>(reads.length);
    this.written = new Uint8Array(reads.length);
  }

  get(field: number): string | undefined {
    const slot = this.slots[this.base + field]!;
    if (slot < 0) return undefined;
    return this.written[slot] === 1 ? this.wrote[slot] : this.read(slot);
  }

  /** The key the event reads in that field (undefined: none). */
  key(field: number): string | undefined {
    const slot = this.slots[this.base + field]!;
    return slot < 0 ? undefined : this.reads[slot]!.key;
  }

  changed(what: string): void {
    this.changes[what] = (this.changes[what] ?? 0) + 1;
    this.eventChanged = true;
  }

  /** Sets (or, value undefined, deletes) the event's entry in that field. */
  set(field: number, value: string | undefined, ttlMs?: number): void {
    const slot = this.slots[this.base + field]!;
    // Else a later event of the batch would read a stale value: planReads must plan it.
    if (slot < 0) throw new Error(`internal error: ${FIELD_NAMESPACES[field]} written but not planned`);
    this.wrote[slot] = value;
    this.ttls[slot] = ttlMs;
    this.written[slot] = 1;
  }

  write(w: StoreWrite): void {
    const field = FIELD_OF.get(w.namespace);
    if (field === undefined) this.unread.push(w);
    else if (this.key(field) !== w.key) throw new Error(`internal error: ${w.namespace} ${w.key} written but not planned`);
    else this.set(field, w.value, w.ttlMs);
  }

  /** What the batch writes: the last write to each key (a number's status events often come in threes). */
  writes(): StoreWrite[] {
    const writes = this.unread;
    for (let slot = 0; slot < this.written.length; slot++) {
      if (this.written[slot] === 1) writes.push({ namespace: this.reads[slot]!.namespace, key: this.reads[slot]!.key, value: this.wrote[slot], ttlMs: this.ttls[slot] });
    }
    return writes;
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

/** Writes what one event teaches, given the store as the events before it left it, and counts what it changed. */
function decide(e: Event, view: BatchView, settings: LearnSettings, now: Date): void {
  const seen = view.key(F_SEEN);
  if (seen !== undefined) {
    if (view.get(F_SEEN) !== undefined) return;
    view.set(F_SEEN, '1', SEEN_TTL_MS);
  }
  if (e.kind === 'template') {
    const before = parse(view.get(F_TEMPLATE));
    const beforeAt = Number(before.at);
    if (beforeAt > e.at || (beforeAt === e.at && before.event === e.event)) return; // older, or this very event
    view.set(F_TEMPLATE, JSON.stringify({ event: e.event, at: e.at }));
    view.changed(`template_${e.event.toLowerCase()}`);
    return;
  }
  const waId = e.waId;
  const atMs = e.at * 1000;
  const lastEvidence = Number(view.get(F_EVIDENCE) ?? 0) || 0;
  /** Delivery evidence: the number is reachable, whatever an older 131026 said. */
  const reachable = (): void => {
    if (e.at < lastEvidence) return;
    if (e.at > lastEvidence) view.set(F_EVIDENCE, String(e.at), 365 * DAY_MS);
    const listed = view.get(F_BLACKLIST);
    if (listed !== undefined && UNDELIVERABLE_REASONS.has(parseBlacklistEntry(listed).reason)) {
      view.set(F_BLACKLIST, undefined);
      view.changed('blacklist_lifted');
    }
    if (view.get(F_STRIKES) !== undefined) view.set(F_STRIKES, undefined);
  };
  switch (e.kind) {
    case 'inbound': {
      const inbound = view.get(F_INBOUND);
      if (inbound === undefined || Date.parse(inbound) < atMs) {
        view.set(F_INBOUND, isoSeconds(e.at), 30 * DAY_MS);
        view.changed('care_window_opened');
      }
      reachable();
      if (e.word === undefined) break;
      const optout = view.get(F_OPTOUT);
      const before = optout === undefined ? undefined : parseOptOut(optout);
      if (e.word === 'stop' && !(before?.scope === 'all' && Date.parse(before.at) >= atMs)) {
        view.write(optOutWrite({ waId, source: 'webhook:stop-word', scope: 'all' }, isoSeconds(e.at)));
        view.changed('opted_out');
      } else if (e.word === 'start' && before !== undefined && Date.parse(before.at) <= atMs) {
        view.set(F_OPTOUT, undefined);
        view.changed('opt_out_lifted');
      }
      break;
    }
    case 'preference': {
      const optout = view.get(F_OPTOUT);
      const before = optout === undefined ? undefined : parseOptOut(optout);
      if (before && Date.parse(before.at) >= atMs && (e.stop || Date.parse(before.at) > atMs)) break; // an older preference, or this one again
      if (e.stop) {
        if (!before || before.scope !== 'all') {
          view.write(optOutWrite({ waId, source: 'webhook:user_preferences', scope: 'marketing' }, isoSeconds(e.at)));
          view.changed('opted_out_of_marketing');
        }
      } else if (before && before.scope === 'marketing') {
        view.set(F_OPTOUT, undefined);
        view.changed('marketing_resumed');
      }
      break;
    }
    case 'status': {
      const journalKey = view.key(F_JOURNAL);
      const journal = view.get(F_JOURNAL);
      const entry: JournalEntry | undefined = journal === undefined ? undefined : parseJournalEntry(journal);
      if (e.status !== 'failed') {
        // Newer than all evidence: nothing cached can be newer (the common case, and no entry to parse).
        const cached = e.at > lastEvidence ? {} : parse(view.get(F_STATUS));
        if (!(cached.status === 'valid' && cached.source === 'delivery' && Date.parse(String(cached.checked_at)) >= atMs)) {
          // The entry verify writes, built by hand: it is the hottest line of an ingest (waId is digits only).
          view.set(F_STATUS, `{"status":"valid","wa_id":"${waId}","checked_at":"${isoSeconds(e.at)}","source":"delivery"}`, 30 * DAY_MS);
          view.changed('cache_valid');
        }
        reachable();
        if (entry && journalKey && (entry.status === 'unknown' || entry.status === 'inflight')) {
          view.set(F_JOURNAL, JSON.stringify({ ...entry, status: 'sent', wamid: e.id, at: now.toISOString(), reason: `accepted: a ${e.status} webhook arrived` }), JOURNAL_TTL_MS);
          view.changed('journal_unknown_to_sent');
        }
        break;
      }
      const action = e.code === undefined ? 'recipient' : codeInfo(e.code).action;
      if (action === 'undeliverable' && e.at >= lastEvidence) {
        const strike = strikeWrites(view.get(F_STRIKES), view.get(F_BLACKLIST), { waId, reason: UNDELIVERABLE_REASON, source: 'webhook', ttlMs: settings.undeliverableTtlMs }, settings.strikes, now);
        for (const w of strike.writes) view.write(w);
        view.changed(strike.blacklisted ? 'blacklisted' : 'strike');
        view.set(F_EVIDENCE, String(e.at), 365 * DAY_MS);
      } else if (action === 'optout') {
        view.write(optOutWrite({ waId, source: 'webhook:131050', scope: 'marketing' }, isoSeconds(e.at)));
        view.changed('opted_out_of_marketing');
      } else if (action === 'capped') {
        view.write({ namespace: CAPPED, key: waId, value: isoSeconds(e.at), ttlMs: DAY_MS });
        view.changed('capped');
      }
      if (entry && journalKey && entry.status !== 'failed') {
        const code = e.code;
        view.set(F_JOURNAL, JSON.stringify({ ...entry, status: 'failed', wamid: e.id, ...(code === undefined ? {} : { code, title: codeInfo(code).title }), at: now.toISOString(), reason: 'failed, as a status webhook said' }), JOURNAL_TTL_MS);
        view.changed('journal_failed');
      }
      break;
    }
  }
}

let isoDay = NaN;
let isoDayText = '';
/** '00' to '59'. */
const TWO_DIGITS = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, '0'));

/**
 * An event's time (whole seconds) as Date#toISOString writes it. Formatting a
 * Date twice an event was a twentieth of an ingest; events come in runs of one
 * day, so the day's part is formatted once.
 */
export function isoSeconds(seconds: number): string {
  const day = Math.floor(seconds / 86_400);
  if (day !== isoDay) {
    const text = new Date(day * DAY_MS).toISOString();
    isoDay = day;
    isoDayText = text.slice(0, text.indexOf('T') + 1);
  }
  const s = seconds - day * 86_400;
  return `${isoDayText}${TWO_DIGITS[Math.floor(s / 3600)]}:${TWO_DIGITS[Math.floor(s / 60) % 60]}:${TWO_DIGITS[s % 60]}.000Z`;
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
