import { describe, expect, it } from 'vitest';
import { normalizePhone } from '../dist/phone.js';

describe('normalizePhone', () => {
  it.each([
    // [input, default country, wa_id]
    ['0812-3456-7890', 'ID', '6281234567890'],
    ['(0812) 3456 7890', 'ID', '6281234567890'],
    ['6281234567890', 'ID', '6281234567890'],
    ['+62 812 3456 7890', undefined, '6281234567890'],
    ['00 62 812 3456 7890', undefined, '6281234567890'],
    ['0062 812 3456 7890', 'BR', '6281234567890'],
    ['011 52 55 1234 5678', undefined, '525512345678'],
    ['011 52 55 1234 5678', 'DE', '525512345678'],
    ['011 4123-4567', 'AR', '541141234567'], // a national Buenos Aires number, not an international prefix
    ['(415) 555-2671', 'US', '14155552671'],
    ['8 912 345 67 89', 'RU', '79123456789'],
    ['810 49 1512 3456789', 'RU', '4915123456789'],
    ['07400 123456', 'GB', '447400123456'],
    ['0803 123 4567', 'NG', '2348031234567'],
    ['+55 11 98765-4321', undefined, '5511987654321'],
    ['+91 98765 43210', 'ID', '919876543210'],
    ['\u00a0+49 1512 3456789 ', undefined, '4915123456789'],
  ])('%s (%s) -> %s', (input, country, waId) => {
    expect(normalizePhone(input, country as never)).toEqual({ ok: true, e164: `+${waId}`, waId });
  });

  it.each([
    ['', 'ID', 'missing_number', /empty/],
    ['   ', 'ID', 'missing_number', /empty/],
    ['0812 3456 7890', undefined, 'no_country_code', /no country code.*--country/],
    ['6281234567890', undefined, 'no_country_code', /no country code/],
    ['0812 999', 'ID', 'invalid_number', /for ID/],
    ['+62 812', undefined, 'invalid_number', /too short/],
    ['+999 1234 5678', undefined, 'invalid_number', /unknown country calling code/],
    ['+62 812-5555-0000 ext 12', 'ID', 'invalid_number', /contains letters/],
    ['call 0812 3456 7890', 'ID', 'invalid_number', /contains letters/],
    ['O812 3456 7890', 'ID', 'invalid_number', /contains letters/], // the letter O, never read as zero
    ['0812#3456#7890', 'ID', 'invalid_number', /not part of a number/],
    ['+62 812 3456 7890, +62 813 1122 3344', 'ID', 'invalid_number', /not part of a number/],
    ['6.28123E+12', 'ID', 'invalid_number', /scientific notation/],
    ['62+81234567890', 'ID', 'invalid_number', /not part of a number/],
  ])('%j (%s) is rejected as %s', (input, country, reason, detail) => {
    const result = normalizePhone(input, country as never);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe(reason);
      expect(result.detail).toMatch(detail);
    }
  });
});
