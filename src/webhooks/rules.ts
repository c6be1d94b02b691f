// What one event teaches: a rule per kind of event, over the store as the
// events before it in the batch left it (BatchView), writing through it.
import { codeInfo, type Action } from '../meta/codes.js';
import { consequenceOf, type StrikePolicy } from '../meta/consequences.js';
import { JOURNAL_TTL_MS } from '../send/journal.js';
import { journalEntryAfterStatus } from '../send/journal-status.js';
import { UNDELIVERABLE_REASON, UNDELIVERABLE_REASONS, blacklistWrite, parseBlacklistEntry } from '../store/lists.js';
import { DAY_MS } from '../time.js';
import { DELIVERED_TTL_MS, DELIVERY_SOURCE, deliveredStatusValue } from '../store/status-cache.js';
import { templateStatusValue } from '../store/template-status.js';
import { CHANGED_NUMBER, F_BLACKLIST, F_EVIDENCE, F_INBOUND, F_JOURNAL, F_OPTOUT, F_PREFERENCE, F_REACHED, F_SEEN, F_STATUS, F_STRIKES, F_TEMPLATE, type BatchView } from './batch-view.js';
import { isoSeconds, type ChangedNumberEvent, type Event, type InboundEvent, type StatusEvent, type TemplateEvent } from './payload.js';
import { MARKETING_RESUME, MARKETING_STOP, START_WORD, STOP_WORD, applyChoice } from './preferences.js';
import { recordOutcome } from './outcomes.js';

const SEEN_TTL_MS = 30 * DAY_MS;
const EVIDENCE_TTL_MS = 365 * DAY_MS;
const CARE_WINDOW_TTL_MS = 30 * DAY_MS;

const bits = (...fields: number[]): number => fields.reduce((b, f) => b | (1 << f), 0);
/** What delivery evidence reads and lifts (a 131026 writes the same). */
const REACHABLE = bits(F_BLACKLIST, F_STRIKES, F_EVIDENCE, F_REACHED);
const PREFERENCE_FIELDS = bits(F_OPTOUT, F_PREFERENCE, F_REACHED);
const INBOUND_FIELDS = REACHABLE | bits(F_INBOUND);
const INBOUND_WORD_FIELDS = INBOUND_FIELDS | PREFERENCE_FIELDS;
const DELIVERY_FIELDS = REACHABLE | bits(F_STATUS);
// A failure may opt the number out (131050): planned, so that later events of the batch see it.
const FAILURE_FIELDS = REACHABLE | bits(F_OPTOUT);
const CHANGED_NUMBER_FIELDS = bits(F_BLACKLIST, F_STATUS);

/**
 * The fields keyed by the event's number (F_BLACKLIST to F_LAST_NUMBER, bit
 * 1 << field) its rule reads or writes. A rule writes only these, its
 * F_SEEN (see seenKey), a template's F_TEMPLATE and a status's F_JOURNAL and
 * F_LIFECYCLE (its send-journal row, when known): the batch plans its reads from them.
 */
export function numberFieldsOf(e: Event): number {
  switch (e.kind) {
    case 'template': return 0;
    case 'preference': return PREFERENCE_FIELDS;
    case 'inbound': return e.word === undefined ? INBOUND_FIELDS : INBOUND_WORD_FIELDS;
    // `sent` is no proof of reachability: it only tells the journal Meta took the message.
    case 'status': return e.status === 'failed' ? FAILURE_FIELDS : e.status === 'sent' ? 0 : DELIVERY_FIELDS;
    case 'changed_number': return CHANGED_NUMBER_FIELDS;
  }
}

/**
 * Events whose effect a later event can undo (a strike, an opt-out, a lift)
 * are remembered by identity, so replaying an old one after the undo does not
 * apply it again. The rest are idempotent by comparing times with what the
 * store holds, which costs no extra key.
 */
export function seenKey(e: Event): string | undefined {
  if (e.kind === 'status') return e.status === 'failed' ? `st:${e.id}:${e.status}` : undefined;
  if (e.kind === 'inbound') return e.word ? `in:${e.id}` : undefined;
  if (e.kind === 'preference') return `pref:${e.waId}:${e.at}:${e.stop}`;
  return undefined;
}

/** Writes what one event teaches, given the store as the events before it left it, and counts what it changed. */
export function applyEvent(e: Event, view: BatchView, policy: StrikePolicy, now: Date): void {
  if (appliedBefore(view)) return;
  switch (e.kind) {
    case 'template': return applyTemplate(e, view);
    case 'inbound': applyInbound(e, view, now); break;
    case 'preference': applyChoice(view, e.waId, e.at, e.stop ? MARKETING_STOP : MARKETING_RESUME); break;
    case 'changed_number': applyChangedNumber(e, view); break;
    case 'status':
      if (e.status === 'failed') applyFailure(e, view, policy, now);
      else if (e.status === 'sent') reconcileJournal(e, view, now);
      else applyDelivery(e, view, now);
  }
  recordOutcome(e, view);
}

/**
 * What is left at `now` of an effect that lasts `ttlMs` from the event's time
 * `at` (s): a 131026 from long ago blacklists for what remains of its TTL, and
 * one whose TTL is over (<= 0) writes nothing lasting.
 */
function remaining(at: number, ttlMs: number, now: Date): number {
  return at * 1000 + ttlMs - now.getTime();
}

/** For an event remembered by identity: whether it was applied before; if not, it is remembered now. */
function appliedBefore(view: BatchView): boolean {
  if (view.key(F_SEEN) === undefined) return false;
  if (view.get(F_SEEN) !== undefined) return true;
  view.set(F_SEEN, '1', SEEN_TTL_MS);
  return false;
}

/** A template's newest status event, which the gate reads. */
function applyTemplate(e: TemplateEvent, view: BatchView): void {
  const before = parse(view.get(F_TEMPLATE));
  const beforeAt = Number(before.at);
  if (beforeAt > e.at || (beforeAt === e.at && before.event === e.event)) return; // older, or this very event
  view.set(F_TEMPLATE, templateStatusValue(e.event, e.at, e.disableAt));
  view.changed(`template_${e.event.toLowerCase()}`);
}

/** A message or call from the user: opens the care window, proves the number reachable; a stop or start word opts out or back in. */
function applyInbound(e: InboundEvent, view: BatchView, now: Date): void {
  const evidence = lastEvidence(view);
  const inbound = view.get(F_INBOUND);
  const ttl = remaining(e.at, CARE_WINDOW_TTL_MS, now);
  if (ttl > 0 && (inbound === undefined || Date.parse(inbound) < e.at * 1000)) {
    view.set(F_INBOUND, isoSeconds(e.at), ttl);
    view.changed('care_window_opened');
  }
  markReachable(view, e.at, evidence);
  if (e.word !== undefined) applyChoice(view, e.waId, e.at, e.word === 'stop' ? STOP_WORD : START_WORD);
}

/**
 * The user moved to another number: the link is recorded, and the old number
 * is no longer theirs. It goes on the blacklist (a delivery does not lift it)
 * and its status cache entry is dropped.
 */
function applyChangedNumber(e: ChangedNumberEvent, view: BatchView): void {
  const reason = `changed number to +${e.newWaId}`;
  const listed = view.get(F_BLACKLIST);
  if (listed !== undefined && parseBlacklistEntry(listed).reason === reason) return; // applied before
  view.write(blacklistWrite(listed, { waId: e.waId, reason, source: 'webhook:user_changed_number' }, new Date(e.at * 1000)));
  view.write({ namespace: CHANGED_NUMBER, key: e.waId, value: JSON.stringify({ to: e.newWaId, at: isoSeconds(e.at) }) });
  if (view.get(F_STATUS) !== undefined) view.set(F_STATUS, undefined);
  view.changed('number_changed');
}

/** delivered, read or played: the number is valid in the status cache and reachable; the journal row was accepted. */
function applyDelivery(e: StatusEvent, view: BatchView, now: Date): void {
  const evidence = lastEvidence(view);
  // Newer than all evidence: nothing cached can be newer (the common case, and no entry to parse).
  const cached = e.at > evidence ? undefined : parse(view.get(F_STATUS));
  if (!(cached?.status === 'valid' && cached.source === DELIVERY_SOURCE && Date.parse(String(cached.checked_at)) >= e.at * 1000)) {
    const ttl = remaining(e.at, DELIVERED_TTL_MS, now);
    if (ttl > 0) {
      // The entry verify writes, built as text: it is the hottest line of an ingest (waId is digits only).
      view.set(F_STATUS, deliveredStatusValue(e.waId, isoSeconds(e.at)), ttl);
      view.changed('cache_valid');
    }
  }
  markReachable(view, e.at, evidence);
  reconcileJournal(e, view, now);
}

/**
 * failed: what its code does to the lists, dated by the event (a 131026 only
 * if no newer evidence, and only while its blacklisting would still last),
 * and the journal row fails.
 */
function applyFailure(e: StatusEvent, view: BatchView, policy: StrikePolicy, now: Date): void {
  const action = failureAction(e.code);
  const consequence = consequenceOf(action);
  const undeliverable = action === 'undeliverable';
  // A 131026 older than the newest delivery evidence is no strike: the number was reached since.
  if (consequence && !(undeliverable && (e.at < lastEvidence(view) || remaining(e.at, policy.undeliverableTtlMs, now) <= 0))) {
    const marking = { waId: e.waId, code: e.code!, origin: 'webhook', at: isoSeconds(e.at), now: new Date(e.at * 1000) };
    const { writes, change } = consequence.apply(marking, (namespace) => view.getIn(namespace), policy);
    let wrote = false;
    for (const w of writes) {
      // A TTL counts from the event: what is left of it now, and nothing if nothing is.
      const ttlMs = w.ttlMs === undefined ? undefined : remaining(e.at, w.ttlMs, now);
      if (ttlMs !== undefined && ttlMs <= 0) continue;
      view.write(ttlMs === undefined ? w : { ...w, ttlMs });
      wrote = true;
    }
    if (wrote && change !== 'unchanged') view.changed(change);
    if (undeliverable) view.set(F_EVIDENCE, String(e.at), EVIDENCE_TTL_MS);
  }
  reconcileJournal(e, view, now);
}

/** What a failure's code means; a failure without one blames the recipient, which changes no list. */
function failureAction(code: number | undefined): Action {
  return code === undefined ? 'recipient' : codeInfo(code).action;
}

/** The time (s) of the number's newest evidence applied (0: none). */
function lastEvidence(view: BatchView): number {
  return Number(view.get(F_EVIDENCE) ?? 0) || 0;
}

/**
 * Delivery evidence at `at`: the number is reachable, whatever an older 131026
 * said. At the same second as a 131026 the failure stands: Meta's failed is
 * final for its message, whatever status of it arrives in the same second.
 */
function markReachable(view: BatchView, at: number, evidence: number): void {
  if (at < evidence) return;
  const newer = at > evidence;
  if (newer) view.set(F_EVIDENCE, String(at), EVIDENCE_TTL_MS);
  const listed = view.get(F_BLACKLIST);
  if (listed !== undefined) {
    const reason = parseBlacklistEntry(listed).reason;
    if (reason === UNDELIVERABLE_REASON ? newer : UNDELIVERABLE_REASONS.has(reason)) {
      view.set(F_BLACKLIST, undefined);
      view.changed('blacklist_lifted');
    }
  }
  if (newer && view.get(F_STRIKES) !== undefined) view.set(F_STRIKES, undefined);
}

/** The status's send-journal row, if it has one, as the status leaves it. */
function reconcileJournal(e: StatusEvent, view: BatchView, now: Date): void {
  if (!view.key(F_JOURNAL)) return;
  const after = journalEntryAfterStatus(view.get(F_JOURNAL), { status: e.status, wamid: e.id, code: e.code }, now);
  if (after === undefined) return;
  view.set(F_JOURNAL, after.value, JOURNAL_TTL_MS);
  view.changed(after.change);
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
