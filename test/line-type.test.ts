import { getCountries, getCountryCallingCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { LINE_TYPES, isMobileType, lineTypeOf } from '../src/line-type.js';

/** A fixed seed: the same numbers on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

describe('line types', () => {
  it('agree with libphonenumber-js getType() on valid numbers of every country', () => {
    const next = random(42);
    const disagreements: string[] = [];
    let compared = 0;
    for (const country of getCountries()) {
      const code = getCountryCallingCode(country);
      for (let tries = 0; tries < 400; tries++) {
        const length = 6 + Math.floor(next() * 7);
        let national = '';
        for (let d = 0; d < length; d++) national += Math.floor(next() * 10);
        const parsed = parsePhoneNumberFromString(`+${code}${national}`);
        if (!parsed?.isValid()) continue;
        compared++;
        const theirs = parsed.getType()?.toLowerCase() ?? 'unknown';
        const ours = LINE_TYPES[lineTypeOf(parsed.number)];
        if (ours !== theirs) disagreements.push(`${parsed.number}: libphonenumber ${theirs}, wa-guard ${ours}`);
      }
    }
    expect(compared).toBeGreaterThan(5000);
    expect(disagreements).toEqual([]);
  });

  it.each([
    ['+62224201234', 'fixed_line'], ['+6281234567890', 'mobile'], ['+14155552671', 'fixed_line_or_mobile'],
    ['+442079460958', 'fixed_line'], ['+447400123456', 'mobile'], ['+18005550199', 'toll_free'], ['+80012345678', 'toll_free'],
  ])('%s is %s', (e164, type) => {
    expect(LINE_TYPES[lineTypeOf(e164)]).toBe(type);
  });

  it('counts mobile and fixed_line_or_mobile as lines WhatsApp can be on', () => {
    expect(LINE_TYPES.filter((_, code) => isMobileType(code))).toEqual(['mobile', 'fixed_line_or_mobile']);
  });
});
