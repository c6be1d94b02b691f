import {
  getCountries,
  parsePhoneNumberFromString,
  validatePhoneNumberLength,
  isSupportedCountry,
  type CountryCode,
} from 'libphonenumber-js/max';

export type RejectReason = 'missing_number' | 'invalid_number' | 'no_country_code';

export type Normalized =
  | { ok: true; e164: string; waId: string }
  | { ok: false; reason: RejectReason; detail: string };

/** Characters a phone number may be written with, once tidied; anything else means extra text. */
const ALLOWED = /^[0-9 \t\-.()\/+]+$/;
const EXCEL_SCIENTIFIC = /^\+?\d(?:[.,]\d+)?e\+?\d+$/i;
/** Invisible marks that copy-and-paste and spreadsheets leave in fields: soft hyphen, LRM/RLM, zero-width space, BOM, … */
const INVISIBLE = /\p{Cf}/gu;
/** Every Unicode space (NBSP, U+2007, U+202F, …) and dash (en, em, figure, minus). */
const SPACES = /\p{Zs}/gu;
const DASHES = /[\p{Pd}\u2212]/gu;
const DIGIT = /\p{Nd}/u;
const NON_ASCII = /[^\x00-\x7f]/;
/** Separators between two numbers in one field ("0812… / 0813…", "…; …", "… or …", "… atau …", Google Contacts' " ::: ", a line break). */
const LIST_SEPARATOR = /\s*(?::::|[,;|\/\n\r]|\bor\b|\batau\b|\bou\b|\bo\b)\s*/i;
/** A quick look before splitting: could the text hold a separator at all? */
const MAY_LIST = /[:,;|\/\n\r]|\bo[ru]?\b|\batau\b/i;
const ANY_DIGIT = /\p{Nd}/gu;

/**
 * The numbers a text lists, in order, or undefined when it holds one (or
 * none): two or more parts of six digits or more, joined by a separator.
 * "021/5550202" is one number. clean tries each in turn; where one number is
 * asked for, a list is refused.
 */
export function numberList(text: string): string[] | undefined {
  if (!MAY_LIST.test(text)) return undefined;
  const parts = text.split(LIST_SEPARATOR).filter((part) => part.trim() !== '');
  return parts.filter((part) => (part.match(ANY_DIGIT)?.length ?? 0) >= 6).length > 1 ? parts : undefined;
}

/**
 * Maps what people and programs put around a number to plain ASCII: digits
 * of any script (full-width, Arabic-Indic, Persian, …) to 0-9, Unicode spaces
 * and dashes to their ASCII forms, invisible marks removed, Excel's leading
 * apostrophe and an RFC 3966 `tel:` removed.
 */
export function tidyPhoneText(raw: string): string {
  let text = raw;
  if (NON_ASCII.test(text)) {
    text = text.replace(INVISIBLE, '').replace(SPACES, ' ').replace(DASHES, '-');
    let mapped = '';
    for (const c of text) mapped += DIGIT.test(c) ? String(digitValue(c)) : c;
    text = mapped.replace(/[\uff08\uff09\uff0b]/g, (c) => ({ '\uff08': '(', '\uff09': ')', '\uff0b': '+' })[c]!);
  }
  text = text.trim();
  if (text.startsWith("'")) text = text.slice(1).trim();
  if (/^tel:/i.test(text)) text = text.slice(4).trim();
  return text;
}

/**
 * A decimal digit's value in any script. Unicode encodes each script's digits
 * 0-9 in one contiguous run (a stability guarantee), so the value is how many
 * digits precede it in the run, modulo 10 (some runs sit back to back).
 */
function digitValue(c: string): number {
  let cp = c.codePointAt(0)!;
  let n = 0;
  while (DIGIT.test(String.fromCodePoint(cp - 1))) { cp--; n++; }
  return n % 10;
}

/** A character named so that a user can find it: visible ones quoted, invisible ones by code point. */
function nameOf(c: string): string {
  const code = 'U+' + c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return /[\p{C}\p{Z}]/u.test(c) ? `an invisible character ${code}, which is` : `"${c}" (${code}), which is`;
}

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
 * as such when a default country is given. What it accepts and refuses is
 * listed in the README ("Numbers as people write them").
 */
export function normalizePhone(raw: string, defaultCountry?: CountryCode): Normalized {
  return withoutStacks(() => normalize(raw, defaultCountry));
}

/**
 * A number as the list commands and list files read it. The tool's own form,
 * a wa_id (country code first, digits only, as every list and export writes
 * it), is that international number when it is a valid one; otherwise, and
 * for every other form, the number is read as normalizePhone reads it (a
 * national reading under `defaultCountry`). With `otherReading`, `national` is
 * the other reading of wa_id-shaped digits when it is valid too and differs,
 * for a warning (the command line asks; files of rows do not pay for it).
 */
export function normalizeListNumber(raw: string, defaultCountry?: CountryCode, otherReading = false): Normalized & { national?: string } {
  return withoutStacks(() => {
    const text = tidyPhoneText(raw);
    if (/^[1-9]\d{6,14}$/.test(text)) {
      const read = readInternational(text);
      if (read.ok) {
        const other = otherReading && defaultCountry ? normalize(text, defaultCountry) : undefined;
        return other?.ok && other.waId !== read.waId ? { ...read, national: other.e164 } : read;
      }
    }
    return normalize(raw, defaultCountry);
  });
}

function withoutStacks<T>(read: () => T): T {
  // libphonenumber-js throws (and catches) an Error for each number it cannot
  // read; capturing a stack trace for each was a quarter of the time a number.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return read();
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

function normalize(raw: string, defaultCountry?: CountryCode): Normalized {
  const text = tidyPhoneText(raw);
  if (text === '') return { ok: false, reason: 'missing_number', detail: 'the phone field is empty' };
  if (EXCEL_SCIENTIFIC.test(text)) {
    return { ok: false, reason: 'invalid_number', detail: `${text} is in scientific notation: a spreadsheet dropped digits` };
  }
  const allowed = ALLOWED.test(text);
  if ((!allowed || text.includes('/')) && numberList(text) !== undefined) {
    return { ok: false, reason: 'invalid_number', detail: `two numbers in one field: ${clip(text)}` };
  }
  if (!allowed) {
    if (/\p{L}/u.test(text)) return { ok: false, reason: 'invalid_number', detail: `contains letters: ${clip(text)}` };
    const odd = [...text].find((c) => !ALLOWED.test(c));
    return { ok: false, reason: 'invalid_number', detail: `contains ${odd === undefined ? 'characters that are' : nameOf(odd)} not part of a number: ${clip(text)}` };
  }
  // A plus is the international prefix only before the first digit ("(+33) 6…" has it inside brackets).
  const plus = text.indexOf('+');
  const firstDigit = text.search(/\d/);
  if (plus >= 0 && (text.indexOf('+', plus + 1) >= 0 || (firstDigit >= 0 && plus > firstDigit))) {
    return { ok: false, reason: 'invalid_number', detail: `a "+" that is not at the start: ${clip(text)}` };
  }
  // "+44 (0)20…": the trunk prefix some write after the country code is not dialled from abroad.
  const international = plus >= 0 || /^\D*00/.test(text);
  const digits = (international ? text.replace(/\(\s*0\s*\)/g, '') : text).replace(/\D/g, '');
  if (digits === '') return { ok: false, reason: 'invalid_number', detail: `no digits: ${clip(text)}` };

  if (plus >= 0) return readInternational(digits);
  // International call prefixes seen in exports: 00 (most countries) and 011 (North America).
  if (digits.startsWith('00')) return readInternational(digits.slice(2));
  if (digits.startsWith('011')) {
    const asInternational = readInternational(digits.slice(3));
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

function readInternational(digits: string): Normalized {
  const read = international(digits);
  // Mexico dropped the mobile "1" after +52 in 2019; old exports still carry it. It is read as today's number.
  if (!read.ok && /^521\d{10}$/.test(digits)) {
    const today = international('52' + digits.slice(3));
    if (today.ok) return today;
  }
  return read;
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

/** Whether libphonenumber types the number as a fixed line (not mobile, not "fixed line or mobile"). */
export function isFixedLine(e164: string): boolean {
  return parsePhoneNumberFromString(e164)?.getType() === 'FIXED_LINE';
}

let countryNames: Map<string, CountryCode> | undefined;

/** A country's name or code compared without case, accents or punctuation: "Côte d’Ivoire" -> "cote d ivoire". */
const countryKey = (text: string): string => text.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '').replace(/[^a-z]+/g, ' ').trim();

/**
 * A country as CRMs write it: an ISO 3166 code ("ID", "br"), or its English
 * name ("Indonesia", "United Kingdom"), and a few common short forms.
 */
export function countryFromText(text: string): CountryCode | undefined {
  const key = countryKey(text);
  const code = /^[a-z]{2}$/.test(key) ? checkCountry(key) : undefined;
  if (code) return code;
  if (!countryNames) {
    countryNames = new Map();
    const english = new Intl.DisplayNames(['en'], { type: 'region' });
    for (const code of getCountries()) {
      const name = english.of(code);
      if (name) countryNames.set(countryKey(name), code);
    }
    const aliases: Record<string, CountryCode> = {
      usa: 'US', 'united states of america': 'US', america: 'US', uk: 'GB', 'great britain': 'GB', england: 'GB', britain: 'GB',
      uae: 'AE', 'south korea': 'KR', korea: 'KR', russia: 'RU', vietnam: 'VN', 'viet nam': 'VN', brasil: 'BR', mexico: 'MX',
      'czech republic': 'CZ', turkey: 'TR', turkiye: 'TR', holland: 'NL', deutschland: 'DE', espana: 'ES', ivory: 'CI',
    };
    for (const [name, code] of Object.entries(aliases)) countryNames.set(name, code);
  }
  return countryNames.get(key);
}
