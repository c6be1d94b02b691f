// What one event teaches: a rule per kind of event, over the store as the
// events before it in the batch left it (BatchView), writing through it.
import { JOURNAL_TTL_MS, parseJournalEntry } from '../send/journal.js';
import { UNDELIVERABLE_REASONS, optOutWrite, parseBlacklistEntry, parseOptOut } from '../store/lists.js';
import { DAY_MS } from '../time.js';
import { DELIVERED_TTL_MS, DELIVERY_SOURCE, deliveredStatusValue } from '../store/status-cache.js';
import { F_BLACKLIST, F_EVIDENCE, F_INBOUND, F_JOURNAL, F_OPTOUT, F_REACHED, F_SEEN, F_STATUS, F_STRIKES, F_TEMPLATE, type BatchView } from './batch-view.js';
import { cappedWrite, failureAction, marketingOptOutWrite, undeliverableWrites, type StrikeSettings } from './code-effects.js';
import { journalAfterStatus } from './journal-effects.js';
import { recordOutcome } from './outcomes.js';
import { isoSeconds, type Event, type InboundEvent, type PreferenceEvent, type StatusEvent, type TemplateEvent } from './payload.js';

const SEEN_TTL_MS = 30 * DAY_MS;
const EVIDENCE_TTL_MS = 365 * DAY_MS;
const CARE_WINDOW_TTL_MS = 30 * DAY_MS;

const bits = (...fields: number[]): number => fields.reduce((b, f) => b | (1 << f), 0);
/** What delivery evidence reads and lifts (a 131026 writes the same). */
const REACHABLE = bits(F_BLACKLIST, F_STRIKES, F_EVIDENCE, F_REACHED);
const PREFERENCE_FIELDS = bits(F_OPTOUT, F_REACHED);
const INBOUND_FIELDS = REACHABLE | bits(F_INBOUND);
const INBOUND_WORD_FIELDS = INBOUND_FIELDS | bits(F_OPTOUT);
const DELIVERY_FIELDS = REACHABLE | bits(F_STATUS);
// A failure may opt the number out (131050): planned, so that later events of the batch see it.
const FAILURE_FIELDS = REACHABLE | bits(F_OPTOUT);

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
    case 'status': return e.status === 'failed' ? FAILURE_FIELDS : DELIVERY_FIELDS;
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
export function applyEvent(e: Event, view: BatchView, settings: StrikeSettings, now: Date): void {
  if (appliedBefore(view)) return;
  switch (e.kind) {
    case 'template': return applyTemplate(e, view);
    case 'inbound': applyInbound(e, view); break;
    case 'preference': applyPreference(e, view); break;
    case 'status': if (e.status === 'failed') applyFailure(e, view, settings, now); else applyDelivery(e, view, now);
  }
  recordOutcome(e, view);
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
  view.set(F_TEMPLATE, JSON.stringify({ event: e.event, at: e.at }));
  view.changed(`template_${e.event.toLowerCase()}`);
}

/** A message from the user: opens the care window, proves the number reachable; a stop or start word opts out or back in. */
function applyInbound(e: InboundEvent, view: BatchView): void {
  const evidence = lastEvidence(view);
  const atMs = e.at * 1000;
  const inbound = view.get(F_INBOUND);
  if (inbound === undefined || Date.parse(inbound) < atMs) {
    view.set(F_INBOUND, isoSeconds(e.at), CARE_WINDOW_TTL_MS);
    view.changed('care_window_opened');
  }
  markReachable(view, e.at, evidence);
  if (e.word === undefined) return;
  const optout = view.get(F_OPTOUT);
  const before = optout === undefined ? undefined : parseOptOut(optout);
  if (e.word === 'stop' && !(before?.scope === 'all' && Date.parse(before.at) >= atMs)) {
    view.write(optOutWrite({ waId: e.waId, source: 'webhook:stop-word', scope: 'all' }, isoSeconds(e.at)));
    view.changed('opted_out');
  } else if (e.word === 'start' && before !== undefined && Date.parse(before.at) <= atMs) {
    view.set(F_OPTOUT, undefined);
    view.changed('opt_out_lifted');
  }
}

/** user_preferences: marketing stopped or resumed (a stop of everything stays). */
function applyPreference(e: PreferenceEvent, view: BatchView): void {
  const atMs = e.at * 1000;
  const optout = view.get(F_OPTOUT);
  const before = optout === undefined ? undefined : parseOptOut(optout);
  if (before && Date.parse(before.at) >= atMs && (e.stop || Date.parse(before.at) > atMs)) return; // an older preference, or this one again
  if (e.stop) {
    if (!before || before.scope !== 'all') {
      view.write(optOutWrite({ waId: e.waId, source: 'webhook:user_preferences', scope: 'marketing' }, isoSeconds(e.at)));
      view.changed('opted_out_of_marketing');
    }
  } else if (before && before.scope === 'marketing') {
    view.set(F_OPTOUT, undefined);
    view.changed('marketing_resumed');
  }
}

/** sent, delivered or read: the number is valid in the status cache and reachable; the journal row was accepted. */
function applyDelivery(e: StatusEvent, view: BatchView, now: Date): void {
  const evidence = lastEvidence(view);
  // Newer than all evidence: nothing cached can be newer (the common case, and no entry to parse).
  const cached = e.at > evidence ? undefined : parse(view.get(F_STATUS));
  if (!(cached?.status === 'valid' && cached.source === DELIVERY_SOURCE && Date.parse(String(cached.checked_at)) >= e.at * 1000)) {
    // The entry verify writes, built by hand: it is the hottest line of an ingest (waId is digits only).
    view.set(F_STATUS, deliveredStatusValue(e.waId, isoSeconds(e.at)), DELIVERED_TTL_MS);
    view.changed('cache_valid');
  }
  markReachable(view, e.at, evidence);
  reconcileJournal(e, view, now);
}

/** failed: what its code does to the lists (a 131026 only if no newer evidence), and the journal row fails. */
function applyFailure(e: StatusEvent, view: BatchView, settings: StrikeSettings, now: Date): void {
  const evidence = lastEvidence(view);
  const action = failureAction(e.code);
  if (action === 'undeliverable' && e.at >= evidence) {
    const strike = undeliverableWrites(view.get(F_STRIKES), view.get(F_BLACKLIST), e.waId, settings, now);
    for (const w of strike.writes) view.write(w);
    view.changed(strike.blacklisted ? 'blacklisted' : 'strike');
    view.set(F_EVIDENCE, String(e.at), EVIDENCE_TTL_MS);
  } else if (action === 'optout') {
    view.write(marketingOptOutWrite(e.waId, isoSeconds(e.at)));
    view.changed('opted_out_of_marketing');
  } else if (action === 'capped') {
    view.write(cappedWrite(e.waId, isoSeconds(e.at)));
    view.changed('capped');
  }
  reconcileJournal(e, view, now);
}

/** The time (s) of the number's newest evidence applied (0: none). */
function lastEvidence(view: BatchView): number {
  return Number(view.get(F_EVIDENCE) ?? 0) || 0;
}

/** Delivery evidence at `at`: the number is reachable, whatever an older 131026 said. */
function markReachable(view: BatchView, at: number, evidence: number): void {
  if (at < evidence) return;
  if (at > evidence) view.set(F_EVIDENCE, String(at), EVIDENCE_TTL_MS);
  const listed = view.get(F_BLACKLIST);
  if (listed !== undefined && UNDELIVERABLE_REASONS.has(parseBlacklistEntry(listed).reason)) {
    view.set(F_BLACKLIST, undefined);
    view.changed('blacklist_lifted');
  }
  if (view.get(F_STRIKES) !== undefined) view.set(F_STRIKES, undefined);
}

/** The status's send-journal row, if it has one, as the status leaves it. */
function reconcileJournal(e: StatusEvent, view: BatchView, now: Date): void {
  const journal = view.get(F_JOURNAL);
  if (journal === undefined || !view.key(F_JOURNAL)) return;
  const after = journalAfterStatus(parseJournalEntry(journal), e, now);
  if (after === undefined) return;
  view.set(F_JOURNAL, JSON.stringify(after), JOURNAL_TTL_MS);
  view.changed(e.status === 'failed' ? 'journal_failed' : 'journal_unknown_to_sent');
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
