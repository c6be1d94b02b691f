import { describe, expect, it } from 'vitest';
import { isoSeconds, type Event } from '../src/webhooks/payload.js';
import { packEvents, unpackEvents } from '../src/webhooks/packed-events.js';

describe('isoSeconds', () => {
  it('writes an event time exactly as Date#toISOString does, across days, years and the largest times an event may carry', () => {
    const times = [1, 59, 60, 3599, 3600, 86_399, 86_400, 951_782_400 /* 2000-02-29 */, 1_795_600_000, 4_102_444_799, 253_402_300_799 /* 9999-12-31T23:59:59 */, 253_402_300_800, 999_999_999_999];
    for (let t = 1_700_000_000; t < 1_700_000_000 + 3 * 86_400; t += 7_777) times.push(t);
    for (let i = 0; i < 2_000; i++) times.push(1 + Math.floor(Math.random() * 999_999_999_999));
    // In order and shuffled: the cached day must never leak into another day's time.
    for (const t of [...times, ...times.sort(() => Math.random() - 0.5)]) expect(isoSeconds(t)).toBe(new Date(t * 1000).toISOString());
  });
});

describe('events between threads', () => {
  it('arrive as they were read: every kind and form, absent fields absent, any text', () => {
    const events: Event[] = [
      { kind: 'inbound', id: 'wamid.in.1', waId: '628120000001', at: 1_795_600_000, word: undefined },
      { kind: 'inbound', id: 'wamid.in.2', waId: '628120000002', at: 1, word: 'stop' },
      { kind: 'inbound', id: 'wamid.in.3', waId: '628120000003', at: 999_999_999_999, word: 'start' },
      { kind: 'status', id: 'wamid.1', status: 'sent', waId: '491701234567', at: 2, callback: 'camp:1', code: undefined },
      { kind: 'status', id: 'wamid.2', status: 'delivered', waId: '491701234567', at: 3, callback: '', code: undefined },
      { kind: 'status', id: 'wamid.3', status: 'read', waId: '491701234567', at: 4, callback: undefined, code: undefined },
      { kind: 'status', id: 'wamid.4', status: 'played', waId: '491701234567', at: 4, callback: undefined, code: undefined },
      { kind: 'status', id: 'line\nbreak\u0000nul', status: 'failed', waId: '491701234567', at: 5, callback: 'ünïcödé 👋', code: 131026 },
      { kind: 'status', id: '', status: 'failed', waId: '491701234567', at: 6, callback: undefined, code: -(2 ** 40) },
      { kind: 'preference', waId: '628120000004', at: 7, stop: true },
      { kind: 'preference', waId: '628120000004', at: 8, stop: false },
      { kind: 'template', name: 'promo_may', language: 'pt_BR', event: 'PAUSED', at: 9, disableAt: undefined },
      { kind: 'template', name: 'promo_june', language: 'id', event: 'FLAGGED', at: 9, disableAt: 1_795_000_000 },
      { kind: 'template', name: '', language: '', event: 'DISABLED', at: 0, disableAt: undefined },
      { kind: 'changed_number', id: 'wamid.sys', waId: '628120000005', newWaId: '628120000006', at: 10 },
    ];
    const across = structuredClone(packEvents(events));
    expect(unpackEvents(across)).toStrictEqual(events);
    expect(unpackEvents(structuredClone(packEvents([])))).toStrictEqual([]);
  });
});
