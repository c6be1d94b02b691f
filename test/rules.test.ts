import { describe, expect, it } from 'vitest';
import { applyBatch, planReads } from '../src/webhooks/learn.js';
import type { Event } from '../src/webhooks/payload.js';

// What each kind of event teaches, without a store: the batch's reads are
// answered from `before` ('namespace/key' -> value); `after` is what the batch
// writes (null: deleted). The same rules and batch view ingest and listen use.

const NOW = new Date('2026-12-01T12:00:00.000Z');
const W = '6281234567890';
const T = 1_790_000_000; // an event's time (s)
const iso = (s: number): string => new Date(s * 1000).toISOString();

const inbound = (at: number, word?: 'stop' | 'start'): Event => ({ kind: 'inbound', id: 'wamid.in', waId: W, at, word });
const status = (st: 'sent' | 'delivered' | 'read' | 'failed', at: number, code?: number, callback?: string): Event => ({ kind: 'status', id: 'wamid.1', status: st, waId: W, at, callback, code });
const preference = (stop: boolean, at: number): Event => ({ kind: 'preference', waId: W, at, stop });
const template = (event: string, at: number): Event => ({ kind: 'template', name: 'promo', language: 'en_US', event, at });

const optout = (scope: 'all' | 'marketing', source: string, at: number): string => JSON.stringify({ source, at: iso(at), scope });
const listed = (reason: string): string => JSON.stringify({ reason, source: 'x', first_seen: '2026-01-01T00:00:00.000Z', last_seen: '2026-01-01T00:00:00.000Z', strikes: 1 });
const blacklisted131026 = JSON.stringify({ reason: 'undeliverable (131026)', source: 'webhook', first_seen: NOW.toISOString(), last_seen: NOW.toISOString(), strikes: 1, expires: new Date(NOW.getTime() + 90 * 86_400_000).toISOString() });
const valid = (at: number): string => `{"status":"valid","wa_id":"${W}","checked_at":"${iso(at)}","source":"delivery"}`;
const journal = (st: string): string => JSON.stringify({ status: st, attempts: 1, at: '2026-11-25T10:00:00.000Z' });
const SEEN_FAILED = 'webhook-seen/st:wamid.1:failed';

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
    ['inbound STOP: opted out of everything', [inbound(T, 'stop')], {}, { 'webhook-seen/in:wamid.in': '1', [`inbound/${W}`]: iso(T), [`webhook-evidence/${W}`]: String(T), [`optout/${W}`]: optout('all', 'webhook:stop-word', T) }, { care_window_opened: 1, opted_out: 1 }],
    ['inbound STOP applied before: nothing', [inbound(T, 'stop')], { 'webhook-seen/in:wamid.in': '1' }, {}, {}],
    ['inbound START: an older opt-out lifted', [inbound(T, 'start')], { [`optout/${W}`]: optout('all', 'webhook:stop-word', T - 5), [`inbound/${W}`]: iso(T), [`webhook-evidence/${W}`]: String(T) }, { 'webhook-seen/in:wamid.in': '1', [`optout/${W}`]: null }, { opt_out_lifted: 1 }],
    ['preference stop: opted out of marketing', [preference(true, T)], {}, { [`webhook-seen/pref:${W}:${T}:true`]: '1', [`optout/${W}`]: optout('marketing', 'webhook:user_preferences', T) }, { opted_out_of_marketing: 1 }],
    ['preference stop while opted out of everything: kept', [preference(true, T)], { [`optout/${W}`]: optout('all', 'webhook:stop-word', T - 5) }, { [`webhook-seen/pref:${W}:${T}:true`]: '1' }, {}],
    ['preference resume: the marketing opt-out lifted', [preference(false, T)], { [`optout/${W}`]: optout('marketing', 'webhook:user_preferences', T - 5) }, { [`webhook-seen/pref:${W}:${T}:false`]: '1', [`optout/${W}`]: null }, { marketing_resumed: 1 }],
    ['delivered: valid in the status cache, evidence', [status('delivered', T)], {}, { [`webhook-evidence/${W}`]: String(T), [`status/+${W}`]: valid(T) }, { cache_valid: 1 }],
    ['delivered: a 131026 entry and strikes lifted', [status('delivered', T)], { [`blacklist/${W}`]: listed('undeliverable (131026)'), [`strikes/${W}`]: '{"strikes":1}', [`webhook-evidence/${W}`]: String(T - 10) }, { [`blacklist/${W}`]: null, [`strikes/${W}`]: null, [`webhook-evidence/${W}`]: String(T), [`status/+${W}`]: valid(T) }, { cache_valid: 1, blacklist_lifted: 1 }],
    ['read: a manual blacklist entry stays', [status('read', T)], { [`blacklist/${W}`]: listed('manual') }, { [`webhook-evidence/${W}`]: String(T), [`status/+${W}`]: valid(T) }, { cache_valid: 1 }],
    ['delivered, older than the evidence and the cache: nothing', [status('delivered', T - 10)], { [`webhook-evidence/${W}`]: String(T), [`status/+${W}`]: valid(T) }, {}, {}],
    ['failed 131026: blacklisted at the first strike', [status('failed', T, 131026)], {}, { [SEEN_FAILED]: '1', [`blacklist/${W}`]: blacklisted131026, [`webhook-evidence/${W}`]: String(T) }, { blacklisted: 1 }],
    ['failed 131026, two strikes to blacklist: a strike', [status('failed', T, 131026)], {}, { [SEEN_FAILED]: '1', [`strikes/${W}`]: `{"strikes":1,"last_seen":"${NOW.toISOString()}"}`, [`webhook-evidence/${W}`]: String(T) }, { strike: 1 }, 2],
    ['failed 131026, older than delivery evidence: no strike', [status('failed', T - 10, 131026)], { [`webhook-evidence/${W}`]: String(T) }, { [SEEN_FAILED]: '1' }, {}],
    ['failed 131026 applied before: nothing', [status('failed', T, 131026)], { [SEEN_FAILED]: '1' }, {}, {}],
    ['failed 131050: opted out of marketing', [status('failed', T, 131050)], {}, { [SEEN_FAILED]: '1', [`optout/${W}`]: optout('marketing', 'webhook:131050', T) }, { opted_out_of_marketing: 1 }],
    ['failed 131049: capped for a day', [status('failed', T, 131049)], {}, { [`capped/${W}`]: iso(T), [SEEN_FAILED]: '1' }, { capped: 1 }],
    ['failed without a code: nothing but seen', [status('failed', T)], {}, { [SEEN_FAILED]: '1' }, {}],
    ['sent, its journal row unknown: sent', [status('sent', T, undefined, 'c1:1')], { 'journal/c1:1': journal('unknown') }, { [`webhook-evidence/${W}`]: String(T), [`status/+${W}`]: valid(T), 'journal/c1:1': JSON.stringify({ status: 'sent', attempts: 1, at: NOW.toISOString(), wamid: 'wamid.1', reason: 'accepted: a sent webhook arrived' }), 'lifecycle/c1:1': `{"state":"sent","sent":${T}}` }, { cache_valid: 1, journal_unknown_to_sent: 1, lifecycle_sent: 1 }],
    ['delivered, its journal row failed: kept', [status('delivered', T, undefined, 'c1:1')], { 'journal/c1:1': journal('failed') }, { [`webhook-evidence/${W}`]: String(T), [`status/+${W}`]: valid(T), 'lifecycle/c1:1': `{"state":"delivered","delivered":${T}}`, [`reached/${W}`]: `{"key":"c1:1","at":${T}}` }, { cache_valid: 1, lifecycle_delivered: 1 }],
    ['failed 131026, its journal row in flight: failed, with the code', [status('failed', T, 131026, 'c1:1')], { 'journal/c1:1': journal('inflight') }, { [SEEN_FAILED]: '1', [`blacklist/${W}`]: blacklisted131026, [`webhook-evidence/${W}`]: String(T), 'journal/c1:1': JSON.stringify({ status: 'failed', attempts: 1, at: NOW.toISOString(), wamid: 'wamid.1', code: 131026, title: 'Message undeliverable', reason: 'failed, as a status webhook said' }), 'lifecycle/c1:1': `{"state":"failed","failed":${T},"code":131026,"title":"Message undeliverable"}` }, { blacklisted: 1, journal_failed: 1, lifecycle_failed: 1 }],
    ['a batch: a newer delivery lifts the 131026 before it', [status('failed', T, 131026), status('delivered', T + 1)], {}, { [SEEN_FAILED]: '1', [`blacklist/${W}`]: null, [`webhook-evidence/${W}`]: String(T + 1), [`status/+${W}`]: valid(T + 1) }, { blacklisted: 1, cache_valid: 1, blacklist_lifted: 1 }],
  ])('%s', (_, events, before, after, changes, strikes = 1) => {
    const result = run(events, before, strikes);
    expect(result.after).toStrictEqual(after);
    expect(result.changes).toStrictEqual(changes);
  });
});
