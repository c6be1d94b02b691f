import { DAY_MS } from '../time.js';
import { START_WORDS, STOP_WORDS, normalizeReply, wordSet } from './words.js';

/** What one event is, once read and checked. */
export type Event =
  // A message from the user, or a call the user made: either opens the care window.
  | { kind: 'inbound'; id: string; waId: string; at: number; word?: 'stop' | 'start' }
  | { kind: 'status'; id: string; status: StatusName; waId: string; at: number; callback?: string; code?: number }
  | { kind: 'preference'; waId: string; at: number; stop: boolean }
  /** disableAt (s): when a FLAGGED template will be disabled, if Meta said. */
  | { kind: 'template'; name: string; language: string; event: string; at: number; disableAt?: number }
  /** The user moved from waId to newWaId (a system message, not the user writing). */
  | { kind: 'changed_number'; id: string; waId: string; newWaId: string; at: number };

export type InboundEvent = Extract<Event, { kind: 'inbound' }>;
export type StatusEvent = Extract<Event, { kind: 'status' }>;
export type PreferenceEvent = Extract<Event, { kind: 'preference' }>;
export type TemplateEvent = Extract<Event, { kind: 'template' }>;
export type ChangedNumberEvent = Extract<Event, { kind: 'changed_number' }>;

/** The statuses read (`played`: a voice message was played, so delivered and read); `deleted` and others teach nothing. */
export const STATUSES = ['sent', 'delivered', 'read', 'played', 'failed'] as const;
export type StatusName = (typeof STATUSES)[number];

/** The default stop and start replies (normalized, see words.ts). */
export const DEFAULT_STOP_WORDS: ReadonlySet<string> = wordSet(STOP_WORDS);
export const DEFAULT_START_WORDS: ReadonlySet<string> = wordSet(START_WORDS);

/** The replies that opt their sender out or back in (normalized by normalizeReply). */
export interface Words {
  stopWords: ReadonlySet<string>;
  startWords: ReadonlySet<string>;
}

/** Where items that cannot be read are counted. */
export interface IgnoredCount {
  ignored: number;
}

/** The events of one POST body (Meta's shape); what cannot be read is counted as ignored, never trusted. */
export function readPayload(body: unknown, words: Words, tally: IgnoredCount): Event[] {
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
      if (field === 'message_template_status_update') readTemplateStatus(entry, value, latest, events, tally);
      else if (field === 'user_preferences') readPreferences(value, latest, events, tally);
      else if (field === 'calls') readCalls(value, latest, events, tally);
      else {
        readMessages(value, words, latest, events, tally);
        readStatuses(value, latest, events, tally);
      }
    }
  }
  return events;
}

function readTemplateStatus(entry: unknown, value: any, latest: number, events: Event[], tally: IgnoredCount): void {
  // Meta dates these on the entry; never by the clock, so a replay is the same event.
  const at = seconds(value.timestamp, latest) ?? seconds((entry as { time?: unknown }).time, latest) ?? 0;
  if (typeof value.message_template_name === 'string' && typeof value.event === 'string') {
    const disableAt = dateSeconds(value.disable_info?.disable_date);
    events.push({ kind: 'template', name: value.message_template_name, language: String(value.message_template_language ?? ''), event: value.event.toUpperCase(), at, disableAt });
  } else tally.ignored++;
}

function readPreferences(value: any, latest: number, events: Event[], tally: IgnoredCount): void {
  for (const p of Array.isArray(value.user_preferences) ? value.user_preferences : []) {
    const waId = waIdOf(p?.wa_id);
    const at = seconds(p?.timestamp, latest);
    if (waId && at !== undefined && p?.category === 'marketing_messages' && (p.value === 'stop' || p.value === 'resume')) {
      events.push({ kind: 'preference', waId, at, stop: p.value === 'stop' });
    } else tally.ignored++;
  }
}

function readMessages(value: any, words: Words, latest: number, events: Event[], tally: IgnoredCount): void {
  for (const m of Array.isArray(value.messages) ? value.messages : []) {
    const waId = waIdOf(m?.from);
    const at = seconds(m?.timestamp, latest);
    // Users known only by a business-scoped id have no number to learn about.
    if (!waId || at === undefined || typeof m?.id !== 'string') {
      tally.ignored++;
      continue;
    }
    if (m.type === 'system' || m.system !== undefined) {
      readSystem(m, waId, at, events, tally);
      continue;
    }
    const text = m.text?.body ?? m.button?.text ?? m.button?.payload ?? m.interactive?.button_reply?.title ?? m.interactive?.list_reply?.title;
    const reply = typeof text === 'string' ? normalizeReply(text) : '';
    const word = reply === '' ? undefined : words.stopWords.has(reply) ? 'stop' : words.startWords.has(reply) ? 'start' : undefined;
    events.push({ kind: 'inbound', id: m.id, waId, at, word });
  }
}

/** A system message: Meta speaking, not the user. A changed number is read; the rest teach nothing. */
function readSystem(m: any, waId: string, at: number, events: Event[], tally: IgnoredCount): void {
  if (m.system?.type !== 'user_changed_number') return;
  const newWaId = waIdOf(m.system.wa_id ?? m.system.new_wa_id);
  if (newWaId && newWaId !== waId) events.push({ kind: 'changed_number', id: m.id, waId, newWaId, at });
  else tally.ignored++;
}

/** A call the user made and the business answered or not: it opens the care window as a message does. */
function readCalls(value: any, latest: number, events: Event[], tally: IgnoredCount): void {
  for (const c of Array.isArray(value.calls) ? value.calls : []) {
    const waId = waIdOf(c?.from);
    const at = seconds(c?.timestamp, latest);
    if (!waId || at === undefined || typeof c?.id !== 'string') tally.ignored++;
    else if (c.event === 'connect' && c.direction === 'USER_INITIATED') events.push({ kind: 'inbound', id: c.id, waId, at, word: undefined });
  }
}

function readStatuses(value: any, latest: number, events: Event[], tally: IgnoredCount): void {
  for (const s of Array.isArray(value.statuses) ? value.statuses : []) {
    const waId = waIdOf(s?.recipient_id);
    const at = seconds(s?.timestamp, latest);
    if (!waId || at === undefined || typeof s?.id !== 'string' || !STATUSES.includes(s?.status)) {
      tally.ignored++;
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

/** A date Meta gives as Unix seconds (a number or digits) or as text Date.parse reads, in seconds; undefined if none. */
function dateSeconds(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : typeof value === 'string' ? Date.parse(value) / 1000 : NaN;
  if (!Number.isFinite(n) || n <= 0) return undefined;
  return Math.floor(n > 1e11 ? n / 1000 : n); // milliseconds, if that is what it is
}

function waIdOf(value: unknown): string | undefined {
  return typeof value === 'string' && /^\d{6,15}$/.test(value) ? value : undefined;
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
