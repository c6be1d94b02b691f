import { describe, expect, it } from 'vitest';
import type { Action } from '../src/meta/codes.js';
import { consequenceOf, type ConsequenceChange } from '../src/meta/consequences.js';
import type { StoreWrite } from '../src/store/store.js';

const WA = '6281234567890';
const NOW = new Date('2026-03-04T05:06:07.000Z');
const AT = '2026-03-04T05:00:00.000Z';
const TTL = 90 * 86_400_000;
const EXPIRES = new Date(NOW.getTime() + TTL).toISOString();
const listed = (strikes: number, source: string, first = NOW.toISOString()): StoreWrite => ({
  namespace: 'blacklist', key: WA, ttlMs: TTL,
  value: JSON.stringify({ reason: 'undeliverable (131026)', source, first_seen: first, last_seen: NOW.toISOString(), strikes, expires: EXPIRES }),
});
const struck = (strikes: number): StoreWrite => ({ namespace: 'strikes', key: WA, value: JSON.stringify({ strikes, last_seen: NOW.toISOString() }) });
const unstruck: StoreWrite = { namespace: 'strikes', key: WA };
const OLD_ENTRY = JSON.stringify({ reason: 'undeliverable (131026)', source: 'webhook', first_seen: '2025-01-01T00:00:00.000Z', last_seen: '2025-01-01T00:00:00.000Z', strikes: 2 });

const MANUAL_ENTRY = JSON.stringify({ reason: 'manual', source: 'blacklist add', first_seen: '2025-01-01T00:00:00.000Z', last_seen: '2025-01-01T00:00:00.000Z', strikes: 1 });

/** [case, action, code, origin, stored {namespace: value}, --strikes, change, writes] */
type Row = [string, Action, number, string, Record<string, string>, number, ConsequenceChange, StoreWrite[]];

describe('what a Meta error does to the store', () => {
  it.each<Row>([
    ['131026 at --strikes 1: blacklisted at once', 'undeliverable', 131026, 'send', {}, 1, 'blacklisted', [listed(1, 'send')]],
    ['131026 below --strikes: a strike', 'undeliverable', 131026, 'webhook', {}, 2, 'strike', [struck(1)]],
    ['131026 reaching --strikes 2: blacklisted with the 2 strikes counted, the count removed', 'undeliverable', 131026, 'send', { strikes: JSON.stringify({ strikes: 1 }) }, 2, 'blacklisted', [listed(2, 'send'), unstruck]],
    ['131026 reaching --strikes 3: blacklisted with the 3 strikes counted, the count removed', 'undeliverable', 131026, 'send', { strikes: JSON.stringify({ strikes: 2 }) }, 3, 'blacklisted', [listed(3, 'send'), unstruck]],
    ['131026 on a number listed for 131026: renewed, its strikes as counted, first seen and source kept', 'undeliverable', 131026, 'send', { blacklist: OLD_ENTRY }, 1, 'blacklisted', [listed(2, 'webhook', '2025-01-01T00:00:00.000Z')]],
    ['131026 on a listed number with a leftover count: the count goes', 'undeliverable', 131026, 'webhook', { blacklist: OLD_ENTRY, strikes: JSON.stringify({ strikes: 2 }) }, 3, 'blacklisted', [listed(2, 'webhook', '2025-01-01T00:00:00.000Z'), unstruck]],
    ['131026 on a number listed by hand: the entry is left as it is', 'undeliverable', 131026, 'webhook', { blacklist: MANUAL_ENTRY }, 3, 'blacklisted', []],
    ['131026 with damaged strikes: counted again from one', 'undeliverable', 131026, 'send', { strikes: '{oops' }, 3, 'strike', [struck(1)]],
    ['131050 from a send answer: marketing opt-out', 'optout', 131050, 'send', {}, 1, 'opted_out_of_marketing', [{ namespace: 'optout', key: WA, value: JSON.stringify({ source: 'send:131050', at: AT, scope: 'marketing' }) }]],
    ['131050 from a webhook: marketing opt-out', 'optout', 131050, 'webhook', {}, 1, 'opted_out_of_marketing', [{ namespace: 'optout', key: WA, value: JSON.stringify({ source: 'webhook:131050', at: AT, scope: 'marketing' }) }]],
    ['131050 on a user who opted out of everything: left as it is (an opt-out never narrows)', 'optout', 131050, 'webhook', { optout: JSON.stringify({ source: 'webhook:stop-word', at: AT, scope: 'all' }) }, 1, 'unchanged', []],
    ['131050 on a user who opted out of marketing: recorded again', 'optout', 131050, 'send', { optout: JSON.stringify({ source: 'webhook:user_preferences', at: AT, scope: 'marketing' }) }, 1, 'opted_out_of_marketing', [{ namespace: 'optout', key: WA, value: JSON.stringify({ source: 'send:131050', at: AT, scope: 'marketing' }) }]],
    ['131049: capped for a day', 'capped', 131049, 'send', {}, 1, 'capped', [{ namespace: 'capped', key: WA, value: AT, ttlMs: 86_400_000 }]],
  ])('%s', (_, action, code, origin, stored, strikes, change, writes) => {
    const consequence = consequenceOf(action)!;
    const read = (namespace: string): string | undefined => {
      expect(consequence.reads).toContain(namespace); // a value it reads must be named, so a batch can plan it
      return stored[namespace];
    };
    expect(consequence.apply({ waId: WA, code, origin, at: AT, now: NOW }, read, { strikes, undeliverableTtlMs: TTL })).toEqual({ writes, change });
  });

  it.each<Action>(['retry', 'slow', 'pair', 'recipient', 'window', 'template', 'stop', 'unknown'])('%s leaves the store alone', (action) => {
    expect(consequenceOf(action)).toBeUndefined();
  });
});
