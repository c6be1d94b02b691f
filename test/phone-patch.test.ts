import { describe, expect, it } from 'vitest';
import { getCountries, getExampleNumber, type CountryCode } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';
import { seededRandom } from '../src/simulator/world.js';
// The stock library (dist/, node_modules) and the bundle with its patched matchesEntirely (bin/bundle.mjs).
import * as stock from '../src/phone.js';
import * as patched from '../dist/bundle/phone.js';

/** Countries of the fixtures and benchmarks, and a spread of others with long or unusual patterns. */
const COUNTRIES: CountryCode[] = ['ID', 'BR', 'MX', 'IN', 'US', 'CA', 'DE', 'GB', 'NG', 'FR', 'AE', 'JP', 'RU', 'PK', 'IR', 'AR', 'MY', 'IT', 'CN', 'AU', 'ZA', 'EG', 'TR', 'PH', 'VN', 'CO', 'KE', 'SA', 'ES', 'NL'];

function corpus(size: number): [string, CountryCode | undefined][] {
  const r = seededRandom(7);
  const digit = (): string => String(Math.floor(r() * 10));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
  const all = getCountries();
  const out: [string, CountryCode | undefined][] = [];
  while (out.length < size) {
    const country = r() < 0.8 ? pick(COUNTRIES) : pick(all);
    const example = getExampleNumber(country, examples);
    const kind = r();
    if (example && kind < 0.5) {
      // A valid-looking number: the example with its last digits changed, written in one of several ways.
      const national = example.nationalNumber.slice(0, -4) + digit() + digit() + digit() + digit();
      const ways = [`+${example.countryCallingCode}${national}`, `+${example.countryCallingCode} ${national}`, `00${example.countryCallingCode}${national}`, national, `0${national}`, `(${national.slice(0, 3)}) ${national.slice(3)}`];
      out.push([pick(ways), r() < 0.85 ? country : undefined]);
    } else if (kind < 0.85) {
      // Random digits of a random length, national or international.
      const length = 4 + Math.floor(r() * 13);
      const digits = Array.from({ length }, digit).join('');
      out.push([r() < 0.5 ? '+' + digits : digits, r() < 0.7 ? country : undefined]);
    } else {
      out.push([pick(['', 'n/a', 'call me', '6.28123E+12', '+', '(0)', '0000', '+62 812', '+1-800-FLOWERS', '12-34', '+999 1234 5678', '٠٨١٢٣٤٥٦٧٨٩٠', 'tel:+4915112345678']), pick([country, undefined])]);
    }
  }
  return out;
}

describe('the patched libphonenumber-js in the bundle', () => {
  it('answers exactly as the stock library over 60,000 generated numbers: valid, invalid and junk', () => {
    const numbers = corpus(60_000);
    let valid = 0;
    const differences: string[] = [];
    for (const [raw, country] of numbers) {
      const a = stock.normalizePhone(raw, country);
      const b = patched.normalizePhone(raw, country);
      if (a.ok) {
        valid++;
        if (stock.isFixedLine(a.e164) !== patched.isFixedLine(a.e164)) differences.push(`${raw} (${country}): number type`);
      }
      if (JSON.stringify(a) !== JSON.stringify(b)) differences.push(`${raw} (${country}): ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
    expect(differences.slice(0, 10)).toEqual([]);
    // The corpus is not all junk: a good part of it is valid.
    expect(valid).toBeGreaterThan(15_000);
  });
});
