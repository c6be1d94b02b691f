import {
  parsePhoneNumberFromString,
  validatePhoneNumberLength,
  isSupportedCountry,
  type CountryCode,
} from 'libphonenumber-js/max';

export type RejectReason = 'missing_number' | 'invalid_number' | 'no_country_code';

export type Normalized =
  | { ok: true; e164: string; waId: string }
  | { ok: false; reason: RejectReason; detail: string };

/** Characters a phone number may be written with; anything else means extra text. */
const ALLOWED = /^\+?[0-9 \t\-.()\/\u00a0]+$/;
const EXCEL_SCIENTIFIC = /^\+?\d(?:[.,]\d+)?e\+?\d+$/i;

export function checkCountry(country: string | undefined): CountryCode | undefined {
  if (country === undefined || country === '') return undefined;
  const cc = country.toUpperCase();
  if (!isSupportedCountry(cc)) return undefined;
  return cc as CountryCode;
}

function lengthProblem(input: string, country?: CountryCode): string {
  switch (validatePhoneNumberLength(input, country)) {
    case 'TOO_SHORT': return 'too short';
    case 'TOO_LONG': return 'too long';
    case 'INVALID_COUNTRY': return 'unknown country calling code';
    case 'INVALID_LENGTH': return 'wrong length';
    case 'NOT_A_NUMBER': return 'not a phone number';
    default: return 'not a valid number';
  }
}

function international(digits: string): Normalized {
  const parsed = parsePhoneNumberFromString('+' + digits);
  if (parsed?.isValid()) return { ok: true, e164: parsed.number, waId: parsed.number.slice(1) };
  const where = parsed?.country ? ` for ${parsed.country}` : '';
  return { ok: false, reason: 'invalid_number', detail: `${lengthProblem('+' + digits)}${where} (+${digits})` };
}

/**
 * Normalizes one phone number as found in an export. Never repairs a number:
 * letters or extra text make it invalid, and a national number is only read
 * as such when a default country is given.
 */
export function normalizePhone(raw: string, defaultCountry?: CountryCode): Normalized {
  const text = raw.trim();
  if (text === '') return { ok: false, reason: 'missing_number', detail: 'the phone field is empty' };
  if (EXCEL_SCIENTIFIC.test(text)) {
    return { ok: false, reason: 'invalid_number', detail: `${text} is in scientific notation: a spreadsheet dropped digits` };
  }
  if (!ALLOWED.test(text)) {
    const what = /[a-z]/i.test(text) ? 'contains letters' : 'contains characters that are not part of a number';
    return { ok: false, reason: 'invalid_number', detail: `${what}: ${clip(text)}` };
  }
  const digits = text.replace(/\D/g, '');
  if (digits === '') return { ok: false, reason: 'invalid_number', detail: `no digits: ${clip(text)}` };

  if (text.startsWith('+')) return international(digits);
  // International call prefixes seen in exports: 00 (most countries) and 011 (North America).
  if (digits.startsWith('00')) return international(digits.slice(2));
  if (digits.startsWith('011')) {
    const asInternational = international(digits.slice(3));
    // 011 is also a valid national start in some countries (Buenos Aires: 011 4xxx…).
    if (asInternational.ok || !defaultCountry) return asInternational;
  }
  if (!defaultCountry) {
    return {
      ok: false,
      reason: 'no_country_code',
      detail: `no country code: ${clip(text)} (give --country, or write it as +<country code><number>)`,
    };
  }
  const parsed = parsePhoneNumberFromString(digits, defaultCountry);
  if (parsed?.isValid()) return { ok: true, e164: parsed.number, waId: parsed.number.slice(1) };
  return {
    ok: false,
    reason: 'invalid_number',
    detail: `${lengthProblem(digits, defaultCountry)} for ${defaultCountry}: ${clip(text)}`,
  };
}

function clip(text: string): string {
  return text.length > 40 ? text.slice(0, 37) + '...' : text;
}

/** The country calling code of an E.164 number (+62… -> "62"), or undefined. */
export function callingCode(e164: string): string | undefined {
  return parsePhoneNumberFromString(e164)?.countryCallingCode;
}

/**
 * Whether a wa_id an endpoint answered can belong to the number asked: digits
 * only, at most 15, the same country calling code, and at most one digit more
 * or fewer (Mexico's 521…, Brazil's ninth digit, Argentina's 549…).
 */
export function plausibleWaId(waId: unknown, askedE164: string): waId is string {
  if (typeof waId !== 'string' || !/^\d{1,15}$/.test(waId)) return false;
  const asked = askedE164.replace(/^\+/, '');
  const code = callingCode(askedE164);
  return code !== undefined && waId.startsWith(code) && Math.abs(waId.length - asked.length) <= 1;
}
