import { describe, expect, it } from 'vitest';
import { cachedStatusValue, deliveredStatusValue, parseCachedStatus } from '../src/store/status-cache.js';

describe('status cache entries', () => {
  const at = '2026-11-20T10:11:12.000Z';

  it('stores what verify has always stored, and reads it back', () => {
    const valid = cachedStatusValue('valid', '5511987654321', at, 'contacts:example.com');
    expect(valid).toBe('{"status":"valid","wa_id":"5511987654321","checked_at":"2026-11-20T10:11:12.000Z","source":"contacts:example.com"}');
    expect(parseCachedStatus(valid)).toEqual({ status: 'valid', wa_id: '5511987654321', checked_at: at, source: 'contacts:example.com' });
    const invalid = cachedStatusValue('invalid', undefined, at, 'contacts:a"b');
    expect(invalid).toBe(JSON.stringify({ status: 'invalid', checked_at: at, source: 'contacts:a"b' }));
    expect(parseCachedStatus(invalid)).toEqual({ status: 'invalid', checked_at: at, source: 'contacts:a"b' });
  });

  it('a delivery entry, built as text, is the entry the general builder gives', () => {
    expect(deliveredStatusValue('447400123456', at)).toBe(cachedStatusValue('valid', '447400123456', at, 'delivery'));
  });

  it('a damaged or foreign value is a miss', () => {
    expect(parseCachedStatus('garbage')).toBeUndefined();
    expect(parseCachedStatus('{"status":"valid","wa_id":"x1","checked_at":"t"}')).toBeUndefined();
    expect(parseCachedStatus('{"status":"valid","wa_id":"1"}')).toBeUndefined();
  });
});
