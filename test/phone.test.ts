import { describe, expect, it } from 'vitest';
import { normalizeListNumber, normalizePhone } from '../src/phone.js';

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
    // Numbers as people and programs write them (README: "Numbers as people write them").
    ['(+33) 6 12 34 24 37', undefined, '33612342437'],
    ['+44 (0)20 7946 0958', undefined, '442079460958'],
    ['+62 (0) 812 3456 7890', undefined, '6281234567890'],
    ['0044 (0)20 7946 0958', 'ID', '442079460958'],
    ['(0812) 3456-7899', 'ID', '6281234567899'],
    ['+62.812.3456.7800', undefined, '6281234567800'],
    ['+1 (415) 555-2671', undefined, '14155552671'],
    ["'0812-3456-7890", 'ID', '6281234567890'],
    ["'+62 812 3456 7890", undefined, '6281234567890'],
    ['\uff10\uff18\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10', 'ID', '6281234567890'],
    ['\uff0b\uff16\uff12 \uff18\uff11\uff12 \uff13\uff14\uff15\uff16 \uff17\uff18\uff19\uff10', undefined, '6281234567890'],
    ['\u0660\u0668\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660', 'ID', '6281234567890'],
    ['\u06f0\u06f9\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8\u06f9', 'IR', '989123456789'],
    ['\u0966\u096f\u096e\u096d\u096c\u096b \u096a\u0969\u0968\u0967\u0966', 'IN', '919876543210'], // Devanagari
    ['0812\u20133456\u20147890', 'ID', '6281234567890'], // en and em dash
    ['0812\u22123456\u20107890', 'ID', '6281234567890'], // minus sign, hyphen
    ['+62\u00a0812\u20073456\u202f7890', undefined, '6281234567890'], // NBSP, figure space, narrow NBSP
    ['+62\u3000812\u20093456\u200a7890', undefined, '6281234567890'], // ideographic, thin, hair spaces
    ['0812\u00ad3456\u200b7890', 'ID', '6281234567890'], // soft hyphen, zero-width space
    ['\u200e+62 812 3456 7890\u200f', undefined, '6281234567890'], // LRM, RLM
    ['\ufeff0812 3456 7890', 'ID', '6281234567890'], // a BOM inside a field
    ['\u2066+62 812 3456 7890\u2069', undefined, '6281234567890'], // bidi isolates
    ['tel:+49-151-12345678', undefined, '4915112345678'],
    ['TEL:+62-812-3456-7890', undefined, '6281234567890'],
    ['030/1234567', 'DE', '49301234567'], // a German area code written with a slash
    ['+52 1 55 1234 5678', undefined, '525512345678'], // Mexico's retired mobile 1: read as today's number
    ['+521 33 1234 5678', undefined, '523312345678'],
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
    ['0812#3456#7890', 'ID', 'invalid_number', /contains "#" \(U\+0023\), which is not part of a number/],
    ['+62 812 3456 7890, +62 813 1122 3344', 'ID', 'invalid_number', /two numbers in one field/],
    ['6.28123E+12', 'ID', 'invalid_number', /scientific notation/],
    ['62+81234567890', 'ID', 'invalid_number', /"\+" that is not at the start/],
    ['+1-800-FLOWERS', undefined, 'invalid_number', /contains letters/],
    ['WhatsApp: +62 812 3456 7890', undefined, 'invalid_number', /contains letters/],
    ['+62 812 3456 7890 ext. 12', undefined, 'invalid_number', /contains letters/],
    ['0812 3456 7890 / 0813 1122 3344', 'ID', 'invalid_number', /two numbers in one field/],
    ['0812 3456 7890; 0813 1122 3344', 'ID', 'invalid_number', /two numbers in one field/],
    ['0812 3456 7890 or 0813 1122 3344', 'ID', 'invalid_number', /two numbers in one field/],
    ['6.28123E+12', undefined, 'invalid_number', /scientific notation/],
    ['0812\u20283456 7890', 'ID', 'invalid_number', /invisible character U\+2028, which is not part of a number/],
    ['0812\u00073456 7890', 'ID', 'invalid_number', /invisible character U\+0007/],
    ['+62 812 3456 7890 \u2605', undefined, 'invalid_number', /"\u2605" \(U\+2605\)/],
    ['tel:+49-151-1234;ext=5', undefined, 'invalid_number', /contains letters/],
  ])('%j (%s) is rejected as %s', (input, country, reason, detail) => {
    const result = normalizePhone(input, country as never);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe(reason);
      expect(result.detail).toMatch(detail);
    }
  });
});

describe('normalizeListNumber (the list commands and list files)', () => {
  it.each([
    // [input, default country, wa_id]: a wa_id is itself, with or without a country
    ['447400123456', undefined, '447400123456'],
    ['447400123456', 'ID', '447400123456'],
    ['6281234567890', undefined, '6281234567890'],
    ['5215512345678', undefined, '525512345678'],
    // every other form is read as clean reads it
    ['0812 3456 7890', 'ID', '6281234567890'],
    ['081234567890', 'ID', '6281234567890'],
    ['+44 7400 123456', 'ID', '447400123456'],
    ['(415) 555-2671', 'US', '14155552671'],
    ['4155552671', 'US', '14155552671'], // +41 55 552 671 is not a valid number: the national reading
  ])('%s (%s) -> %s', (input, country, waId) => {
    expect(normalizeListNumber(input, country as never)).toEqual({ ok: true, e164: `+${waId}`, waId });
  });

  it('names the national reading it passed over, when asked (for the command line warning)', () => {
    expect(normalizeListNumber('81234567890', 'ID', true)).toEqual({ ok: true, e164: '+81234567890', waId: '81234567890', national: '+6281234567890' });
  });

  it('refuses what clean refuses', () => {
    expect(normalizeListNumber('0812 3456 7890')).toMatchObject({ ok: false, reason: 'no_country_code' });
    expect(normalizeListNumber('4474001')).toMatchObject({ ok: false, reason: 'no_country_code' });
    expect(normalizeListNumber('call me', 'ID')).toMatchObject({ ok: false, reason: 'invalid_number' });
  });
});
