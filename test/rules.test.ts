import { describe, expect, it } from 'vitest';
import { applyBatch, planReads } from '../src/webhooks/learn.js';
import type { Event } from '../src/webhooks/payload.js';
import { journalValue } from '../src/send/journal.js';

// What each kind of event teaches, without a store: the batch's reads are
// answered from `before` ('namespace/key' -> value); `after` is what the batch
// writes (null: deleted). The same rules and batch view ingest and listen use.

const NOW = new Date('2026-12-01T12:00:00.000Z');
const W = '6281234567890';
const T = NOW.getTime() / 1000 - 3600; // an event's time (s): an hour before NOW
const DAY = 86_400;
const iso = (s: number): string => new Date(s * 1000).toISOString();

const inbound = (at: number, word?: 'stop' | 'start'): Event => ({ kind: 'inbound', id: 'wamid.in', waId: W, at, word });
const status = (st: 'sent' | 'delivered' | 'read' | 'played' | 'failed', at: number, code?: number, callback?: string, id = 'wamid.1'): Event => ({ kind: 'status', id, status: st, waId: W, at, callback, code });
const preference = (stop: boolean, at: number): Event => ({ kind: 'preference', waId: W, at, stop });
const template = (event: string, at: number, disableAt?: number): Event => ({ kind: 'template', name: 'promo', language: 'en_US', event, at, disableAt });
const changedNumber = (to: string, at: number): Event => ({ kind: 'changed_number', id: 'wamid.sys', waId: W, newWaId: to, at });

const optout = (scope: 'all' | 'marketing', source: string, at: number): string => JSON.stringify({ source, at: iso(at), scope });
const listed = (reason: string): string => JSON.stringify({ reason, source: 'x', first_seen: '2026-01-01T00:00:00.000Z', last_seen: '2026-01-01T00:00:00.000Z', strikes: 1 });
/** A 131026 at `at`: blacklisted from the event's time, until 90 days after it. */
const blacklisted131026 = (at = T): string => JSON.stringify({ reason: 'undeliverable (131026)', source: 'webhook', first_seen: iso(at), last_seen: iso(at), strikes: 1, expires: iso(at + 90 * DAY) });
const valid = (at: number): string => `{"status":"valid","wa_id":"${W}","checked_at":"${iso(at)}","source":"delivery"}`;
const journal = (st: string): string => JSON.stringify({ status: st, attempts: 1, at: '2026-11-25T10:00:00.000Z' });
const SEEN_FAILED = 'webhook-seen/st:wamid.1:failed';
const PREF = `webhook-preference/${W}`;
const NEW = '6289999999999';
const movedAway = JSON.stringify({ reason: `changed number to +${NEW}`, source: 'webhook:user_changed_number', first_seen: iso(T), last_seen: iso(T), strikes: 1 });

type State = Record<string, string>;
type Writes = Record<string, string | null>;

function run(events: Event[], before: State, strikes: number): { after: Writes; changes: Record<string, number> } {
  const plan = planReads(events, events.map((e) => (e.kind === 'status' ? e.callback : undefined)));
  const read = (slot: number): string | undefined => before[`${plan.reads[slot]!.namespace}/${plan.reads[slot]!.key}`];
  const view = applyBatch(events, plan, read, { strikes, undeliverableTtlMs: 90 * 86_400_000 }, NOW);
  return { after: Object.fromEntries(view.writes().map((w) => [`${w.namespace}/${w.key}`, w.value ?? null])), changes: view.changes };
}

describe('rules: event, state before -> writes after', () => {
  it.each<[string, Event[], State, Writes, Record<string, number>, number?]>([
    ['template: a newer status event', [template('PAUSED', T)], {}, { 'template-status/promo:en_US': `{"event":"PAUSED","at":${T}}` }, { template_paused: 1 }],
    ['template: the same event again', [template('PAUSED', T)], { 'template-status/promo:en_US': `{"event":"PAUSED","at":${T}}` }, {}, {}],
    ['template: older than the one stored', [template('APPROVED', T - 1)], { 'template-status/promo:en_US': `{"event":"PAUSED","at":${T}}` }, {}, {}],
    ['inbound: opens the care window, is delivery evidence', [inbound(T)], {}, { [`inbound/${W}`]: iso(T), [`webhook-evidence/${W}`]: String(T) }, { care_window_opened: 1 }],
    ['inbound: older than the window and evidence held', [inbound(T - 10)], { [`inbound/${W}`]: iso(T), [`webhook-evidence/${W}`]: String(T) }, {}, {}],
    ['inbound STOP: opted out of everything', [inbound(T, 'stop')], {}, { 'webhook-seen/in:wamid.in': '1', [`inbound/${W}`]: iso(T), [`webhook-evidence/${W}`]: String(T), [`optout/${W}`]: optout('all', 'webhook:stop-word', T), [PREF]: String(T) }, { care_window_opened: 1, opted_out: 1 }],
    ['inbound STOP applied before: nothing', [inbound(T, 'stop')], { 'webhook-seen/in:wamid.in': '1' }, {}, {}],
    ['inbound START: an older opt-out lifted', [inbound(T, 'start')], { [`optout/${W}`]: optout('all', 'webhook:stop-word', T - 5), [`inbound/${W}`]: iso(T), [`webhook-evidence/${W}`]: String(T) }, { 'webhook-seen/in:wamid.in': '1', [`optout/${W}`]: null, [PREF]: String(T) }, { opt_out_lifted: 1 }],
    ['preference stop: opted out of marketing', [preference(true, T)], {}, { [`webhook-seen/pref:${W}:${T}:true`]: '1', [`optout/${W}`]: optout('marketing', 'webhook:user_preferences', T), [PREF]: String(T) }, { opted_out_of_marketing: 1 }],
    ['preference stop while opted out of everything: kept', [preference(true, T)], { [`optout/${W}`]: optout('all', 'webhook:stop-word', T - 5) }, { [`webhook-seen/pref:${W}:${T}:true`]: '1', [PREF]: String(T) }, {}],
    ['preference resume: the marketing opt-out lifted', [preference(false, T)], { [`optout/${W}`]: optout('marketing', 'webhook:user_preferences', T - 5) }, { [`webhook-seen/pref:${W}:${T}:false`]: '1', [`optout/${W}`]: null, [PREF]: String(T) }, { marketing_resumed: 1 }],
    ['delivered: valid in the status cache, evidence', [status('delivered', T)], {}, { [`webhook-evidence/${W}`]: String(T), [`status/+${W}`]: valid(T) }, { cache_valid: 1 }],
    ['delivered: a 131026 entry and strikes lifted', [status('delivered', T)], { [`blacklist/${W}`]: listed('undeliverable (131026)'), [`strikes/${W}`]: '{"strikes":1}', [`webhook-evidence/${W}`]: String(T - 10) }, { [`blacklist/${W}`]: null, [`strikes/${W}`]: null, [`webhook-evidence/${W}`]: String(T), [`status/+${W}`]: valid(T) }, { cache_valid: 1, blacklist_lifted: 1 }],
    ['read: a manual blacklist entry stays', [status('read', T)], { [`blacklist/${W}`]: listed('manual') }, { [`webhook-evidence/${W}`]: String(T), [`status/+${W}`]: valid(T) }, { cache_valid: 1 }],
    ['delivered, older than the evidence and the cache: nothing', [status('delivered', T - 10)], { [`webhook-evidence/${W}`]: String(T), [`status/+${W}`]: valid(T) }, {}, {}],
    ['failed 131026: blacklisted at the first strike', [status('failed', T, 131026)], {}, { [SEEN_FAILED]: '1', [`blacklist/${W}`]: blacklisted131026(), [`webhook-evidence/${W}`]: String(T) }, { blacklisted: 1 }],
    ['failed 131026, two strikes to blacklist: a strike', [status('failed', T, 131026)], {}, { [SEEN_FAILED]: '1', [`strikes/${W}`]: `{"strikes":1,"last_seen":"${iso(T)}"}`, [`webhook-evidence/${W}`]: String(T) }, { strike: 1 }, 2],
    ['failed 131026, older than delivery evidence: no strike', [status('failed', T - 10, 131026)], { [`webhook-evidence/${W}`]: String(T) }, { [SEEN_FAILED]: '1' }, {}],
    ['failed 131026 applied before: nothing', [status('failed', T, 131026)], { [SEEN_FAILED]: '1' }, {}, {}],
    ['failed 131050: opted out of marketing', [status('failed', T, 131050)], {}, { [SEEN_FAILED]: '1', [`optout/${W}`]: optout('marketing', 'webhook:131050', T) }, { opted_out_of_marketing: 1 }],
    ['failed 131049: capped for a day', [status('failed', T, 131049)], {}, { [`capped/${W}`]: iso(T), [SEEN_FAILED]: '1' }, { capped: 1 }],
    ['failed without a code: nothing but seen', [status('failed', T)], {}, { [SEEN_FAILED]: '1' }, {}],
    ['sent, its journal row unknown: sent (and nothing else: sent is no proof of reachability)', [status('sent', T, undefined, 'c1:1')], { 'journal/c1:1': journal('unknown') }, { 'journal/c1:1': journalValue({ status: 'sent', attempts: 1, at: NOW.toISOString(), wamid: 'wamid.1', reason: 'accepted: a sent webhook arrived' }), 'lifecycle/c1:1': `{"state":"sent","sent":${T}}` }, { journal_unknown_to_sent: 1, lifecycle_sent: 1 }],
    ['delivered, its journal row failed: kept', [status('delivered', T, undefined, 'c1:1')], { 'journal/c1:1': journal('failed') }, { [`webhook-evidence/${W}`]: String(T), [`status/+${W}`]: valid(T), 'lifecycle/c1:1': `{"state":"delivered","delivered":${T}}`, [`reached/${W}`]: `{"key":"c1:1","at":${T}}` }, { cache_valid: 1, lifecycle_delivered: 1 }],
    ['failed 131026, its journal row in flight: failed, with the code', [status('failed', T, 131026, 'c1:1')], { 'journal/c1:1': journal('inflight') }, { [SEEN_FAILED]: '1', [`blacklist/${W}`]: blacklisted131026(), [`webhook-evidence/${W}`]: String(T), 'journal/c1:1': journalValue({ status: 'failed', attempts: 1, at: NOW.toISOString(), wamid: 'wamid.1', code: 131026, title: 'Message undeliverable', reason: 'failed, as a status webhook said' }), 'lifecycle/c1:1': `{"state":"failed","failed":${T},"code":131026,"title":"Message undeliverable"}` }, { blacklisted: 1, journal_failed: 1, lifecycle_failed: 1 }],
    ['a batch: a newer delivery lifts the 131026 before it', [status('failed', T, 131026), status('delivered', T + 1)], {}, { [SEEN_FAILED]: '1', [`blacklist/${W}`]: null, [`webhook-evidence/${W}`]: String(T + 1), [`status/+${W}`]: valid(T + 1) }, { blacklisted: 1, cache_valid: 1, blacklist_lifted: 1 }],
    // 1. FLAGGED: its disable date is kept with it, for the gate.
    ['template FLAGGED: kept with its disable date', [template('FLAGGED', T, T + 7 * DAY)], {}, { 'template-status/promo:en_US': `{"event":"FLAGGED","at":${T},"disable_at":${T + 7 * DAY}}` }, { template_flagged: 1 }],
    // 3. played: a voice message was played, so delivered and read.
    ['played: valid in the cache, a 131026 entry lifted', [status('played', T)], { [`blacklist/${W}`]: listed('undeliverable (131026)'), [`webhook-evidence/${W}`]: String(T - 10) }, { [`blacklist/${W}`]: null, [`webhook-evidence/${W}`]: String(T), [`status/+${W}`]: valid(T) }, { cache_valid: 1, blacklist_lifted: 1 }],
    // 4. Preferences apply in the order of their own times, whichever arrives first.
    ['preference stop older than the newest preference applied: nothing', [preference(true, T - 10)], { [PREF]: String(T) }, { [`webhook-seen/pref:${W}:${T - 10}:true`]: '1' }, {}],
    ['a batch: a resume, then an older stop arriving after it: still resumed', [preference(false, T), preference(true, T - 10)], { [`optout/${W}`]: optout('marketing', 'webhook:user_preferences', T - 20) }, { [`webhook-seen/pref:${W}:${T}:false`]: '1', [`webhook-seen/pref:${W}:${T - 10}:true`]: '1', [`optout/${W}`]: null, [PREF]: String(T) }, { marketing_resumed: 1 }],
    ['STOP word older than a resume applied: no opt-out', [inbound(T - 10, 'stop')], { [PREF]: String(T), [`inbound/${W}`]: iso(T), [`webhook-evidence/${W}`]: String(T) }, { 'webhook-seen/in:wamid.in': '1' }, {}],
    ['START word older than a stop: the opt-out stays', [inbound(T - 10, 'start')], { [`optout/${W}`]: optout('marketing', 'webhook:user_preferences', T), [`inbound/${W}`]: iso(T), [`webhook-evidence/${W}`]: String(T) }, { 'webhook-seen/in:wamid.in': '1' }, {}],
    ['resume at the same second as the stop: the stop stays', [preference(false, T)], { [`optout/${W}`]: optout('marketing', 'webhook:user_preferences', T) }, { [`webhook-seen/pref:${W}:${T}:false`]: '1' }, {}],
    // 5. An opt-out never narrows.
    ['failed 131050 on a user who sent STOP: still opted out of everything', [status('failed', T, 131050)], { [`optout/${W}`]: optout('all', 'webhook:stop-word', T - 5) }, { [SEEN_FAILED]: '1' }, {}],
    ['preference stop on a user who sent STOP: still opted out of everything', [preference(true, T)], { [`optout/${W}`]: optout('all', 'webhook:stop-word', T - 5) }, { [`webhook-seen/pref:${W}:${T}:true`]: '1', [PREF]: String(T) }, {}],
    // 6. A failed message stays failed; only delivered, read and played prove reachability.
    ['a batch: 131026, then sent of the same message in the same second: blacklisted', [status('failed', T, 131026), status('sent', T)], {}, { [SEEN_FAILED]: '1', [`blacklist/${W}`]: blacklisted131026(), [`webhook-evidence/${W}`]: String(T) }, { blacklisted: 1 }],
    ['delivered in the same second as a stored 131026: the failure stands', [status('delivered', T, undefined, undefined, 'wamid.2')], { [`blacklist/${W}`]: blacklisted131026(), [`webhook-evidence/${W}`]: String(T) }, { [`status/+${W}`]: valid(T) }, { cache_valid: 1 }],
    ['a batch: delivered, then a 131026 in the same second: blacklisted', [status('delivered', T, undefined, undefined, 'wamid.2'), status('failed', T, 131026)], {}, { [SEEN_FAILED]: '1', [`blacklist/${W}`]: blacklisted131026(), [`webhook-evidence/${W}`]: String(T), [`status/+${W}`]: valid(T) }, { cache_valid: 1, blacklisted: 1 }],
    // 7. An effect lasts from the event's time: one already over writes nothing lasting.
    ['failed 131026 from three years ago: nothing but seen', [status('failed', T - 1000 * DAY, 131026)], {}, { [SEEN_FAILED]: '1' }, {}],
    ['failed 131026 from 80 days ago: blacklisted, dated by the event', [status('failed', T - 80 * DAY, 131026)], {}, { [SEEN_FAILED]: '1', [`blacklist/${W}`]: blacklisted131026(T - 80 * DAY), [`webhook-evidence/${W}`]: String(T - 80 * DAY) }, { blacklisted: 1 }],
    ['failed 131049 from two days ago: the cap is over, nothing but seen', [status('failed', T - 2 * DAY, 131049)], {}, { [SEEN_FAILED]: '1' }, {}],
    ['inbound from 40 days ago: no care window written, still evidence', [inbound(T - 40 * DAY)], {}, { [`webhook-evidence/${W}`]: String(T - 40 * DAY) }, {}],
    ['delivered 40 days ago: no cache entry, still evidence', [status('delivered', T - 40 * DAY)], {}, { [`webhook-evidence/${W}`]: String(T - 40 * DAY) }, {}],
    // 8. A changed number: the link kept, the old number listed and out of the cache.
    ['user_changed_number: the old number blacklisted, linked, its cache entry dropped', [changedNumber(NEW, T)], { [`status/+${W}`]: valid(T - 10) }, { [`blacklist/${W}`]: movedAway, [`changed-number/${W}`]: JSON.stringify({ to: NEW, at: iso(T) }), [`status/+${W}`]: null }, { number_changed: 1 }],
    ['user_changed_number applied before: nothing', [changedNumber(NEW, T)], { [`blacklist/${W}`]: movedAway }, {}, {}],
    ['a delivery after a changed number does not lift it', [status('delivered', T + 1)], { [`blacklist/${W}`]: movedAway }, { [`webhook-evidence/${W}`]: String(T + 1), [`status/+${W}`]: valid(T + 1) }, { cache_valid: 1 }],
  ])('%s', (_, events, before, after, changes, strikes = 1) => {
    const result = run(events, before, strikes);
    expect(result.after).toStrictEqual(after);
    expect(result.changes).toStrictEqual(changes);
  });
});

describe('rules: a TTL counts from the event, not from the ingest', () => {
  const ttlOf = (events: Event[], key: string): number | undefined => {
    const plan = planReads(events, events.map(() => undefined));
    const view = applyBatch(events, plan, () => undefined, { strikes: 1, undeliverableTtlMs: 90 * DAY * 1000 }, NOW);
    return view.writes().find((w) => `${w.namespace}/${w.key}` === key)?.ttlMs;
  };
  const HOUR_MS = 3_600_000;
  it.each<[string, Event, string, number]>([
    ['a 131026 from 80 days ago blacklists for the 10 days left of --undeliverable-ttl', status('failed', T - 80 * DAY, 131026), `blacklist/${W}`, 10 * DAY * 1000 - HOUR_MS],
    ['a 131049 an hour ago caps for the rest of the day', status('failed', T, 131049), `capped/${W}`, DAY * 1000 - HOUR_MS],
    ['a message an hour ago is kept 30 days from its time', inbound(T), `inbound/${W}`, 30 * DAY * 1000 - HOUR_MS],
    ['a delivery an hour ago is cached 30 days from its time', status('delivered', T), `status/+${W}`, 30 * DAY * 1000 - HOUR_MS],
  ])('%s', (_, event, key, ttl) => {
    expect(ttlOf([event], key)).toBe(ttl);
  });
});
