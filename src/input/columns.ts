import { UsageError } from '../errors.js';
import { holdsCountries, holdsYesNo, type Sample } from './column-values.js';
import { saysOptedIn, saysOptedOut } from './yes-no.js';

/** Header names that hold a phone number, compared with case, spaces, '-', '_' and '.' removed (for number lists). */
export const PHONE_NAMES = [
  'phone', 'mobile', 'whatsapp', 'msisdn', 'tel', 'cell',
  'phonenumber', 'mobilephone', 'phone1value', 'telephone', 'cellphone', 'mobilenumber',
  'whatsappnumber', 'waid', 'cellular', 'handphone', 'hp', 'telefone', 'telefono', 'celular',
];

/** Words that make a header a phone column, by rank: named for WhatsApp, then mobile, then any phone. */
const WHATSAPP_WORDS = new Set(['whatsapp', 'wa', 'waid', 'wanumber', 'whatsappnumber']);
const MOBILE_WORDS = new Set(['mobile', 'mobil', 'cell', 'cellular', 'cellphone', 'handphone', 'hp', 'celular', 'movil', 'msisdn', 'handy', 'portable', 'mobilephone', 'mobilenumber']);
const PHONE_WORDS = new Set(['phone', 'phones', 'tel', 'tele', 'telephone', 'telefon', 'telefone', 'telefono', 'telp', 'telepon', 'fone', 'phonenumber', 'contactnumber', 'nohp']);
/** Words that make a header something about a phone rather than the number itself. */
const NOT_A_NUMBER_WORDS = new Set(['fax', 'facsimile', 'type', 'label', 'kind', 'ext', 'extension', 'country', 'code', 'status', 'verified', 'opt', 'optout', 'optin', 'opted', 'consent', 'dnc', 'count', 'carrier', 'valid']);
/**
 * Phrases (headers squeezed to lower-case letters) and words that flag a
 * contact who asked not to be messaged, in English, Indonesian, Spanish and
 * Portuguese ("Berhenti WA", "Jangan Hubungi", "Dar de baja", "Descadastrado").
 */
const OPTOUT_PHRASES = [
  'optout', 'optedout', 'unsubscribe', 'donotcall', 'donotcontact', 'donotsms', 'donotmessage', 'donotwhatsapp', 'nowhatsapp', 'blocked',
  'janganhubungi', 'jangankirim', 'nocontactar', 'nomolestar', 'noenviar', 'naocontatar', 'naoenviar', 'naoperturbe', 'descadastr',
];
const OPTOUT_WORDS = new Set(['stop', 'berhenti', 'baja', 'dnd', 'unsub', 'unsubscribed']);
/** Words that make a header a country column (of a country name or ISO code, for reading national numbers). */
const COUNTRY_WORDS = new Set(['country', 'negara', 'pais', 'pays']);

export function headerKey(name: string): string {
  return name.toLowerCase().replace(/[\s\-_.]/g, '');
}

/** A header's words: split at anything not a letter or digit and at camelCase humps, accents removed, lower-cased. */
export function headerWords(name: string): string[] {
  return name.normalize('NFD').replace(/\p{M}/gu, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** 0: named for WhatsApp, 1: mobile, 2: another phone column; undefined: not a phone column. */
export function phoneRank(name: string): number | undefined {
  const words = headerWords(name);
  const squeezed = words.join('');
  if (words.some((w) => NOT_A_NUMBER_WORDS.has(w)) || /fax|opt(ed)?(in|out)/.test(squeezed) || isOptOutHeader(name)) return undefined;
  if (squeezed.includes('whatsapp') || words.some((w) => WHATSAPP_WORDS.has(w))) return 0;
  if (words.some((w) => MOBILE_WORDS.has(w))) return 1;
  if (words.some((w) => PHONE_WORDS.has(w) || w.endsWith('phone')) || PHONE_WORDS.has(squeezed) || PHONE_NAMES.includes(squeezed)) return 2;
  return undefined;
}

function isOptOutHeader(name: string): boolean {
  const words = headerWords(name);
  // An email unsubscribe (HubSpot, Salesforce's Email Opt Out) says nothing about WhatsApp.
  if (words.some((w) => w === 'email' || w === 'mail' || w === 'newsletter' || w === 'emails')) return false;
  const squeezed = words.join('');
  return squeezed === 'dnc' || squeezed.endsWith('dnc') || words.some((w) => OPTOUT_WORDS.has(w)) || OPTOUT_PHRASES.some((p) => squeezed.includes(p));
}

function isCountryHeader(name: string): boolean {
  return headerWords(name).some((w) => COUNTRY_WORDS.has(w));
}

export interface ColumnChoice {
  /** Indexes (CSV) into the header, in order of preference. */
  phone: number[];
  /** Columns flagging an opt-out: any truthy one opts the row out. */
  optOut: number[];
  optIn: number | undefined;
  country: number | undefined;
  /** The country column was found by its name and values, not named by --country-column. */
  countryDetected?: boolean;
}

export interface ColumnNames {
  /** --column, repeatable or a comma list: the phone columns in order of preference. */
  phone?: readonly string[];
  optOut?: string;
  optIn?: string;
  country?: string;
}

/** --column given as several flags and/or comma lists: the names in order. */
export function columnList(value: string | readonly string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const names = (typeof value === 'string' ? [value] : value).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  return names.length ? names : undefined;
}

/**
 * Picks the columns: the phone columns named by --column (in that order), else
 * every header whose words make it a phone column, WhatsApp first, then mobile,
 * then the rest, each group in header order; fax, "phone type" and opt-out
 * columns are never used, nor columns whose first values (`sample`) are yes/no
 * answers. The country column: --country-column, else the first whose header
 * says country and whose first values are countries. Throws a UsageError
 * listing the headers when a name does not fit.
 */
export function chooseColumns(headers: readonly string[], source: string, names: ColumnNames = {}, sample: Sample = []): ColumnChoice {
  const listed = headers.map((h) => JSON.stringify(h)).join(', ') || '(none)';
  const find = (name: string, flag: string): number => {
    const exact = headers.indexOf(name);
    const index = exact >= 0 ? exact : headers.findIndex((h) => headerKey(h) === headerKey(name));
    if (index < 0) throw new UsageError(`${source}: no column named "${name}" (${flag}); the headers are: ${listed}`);
    return index;
  };
  let phone: number[];
  if (headers.length === 1 && /[,;\t|]/.test(headers[0] ?? '') && !names.phone?.length) {
    throw new UsageError(`${source}: found no phone column (the header is a single column: is --delimiter right?); the headers are: ${listed}`);
  }
  if (names.phone?.length) {
    phone = [...new Set(names.phone.map((name) => find(name, '--column')))];
  } else {
    const named = headers.map((h, i) => ({ i, rank: phoneRank(h) })).filter((c) => c.rank !== undefined);
    const answers = named.filter((c) => holdsYesNo(sample, c.i)).map((c) => c.i);
    phone = named.filter((c) => !answers.includes(c.i)).sort((a, b) => a.rank! - b.rank! || a.i - b.i).map((c) => c.i);
    if (phone.length === 0) {
      const why = answers.length ? ` (${answers.map((i) => JSON.stringify(headers[i])).join(', ')} ${answers.length > 1 ? 'hold' : 'holds'} yes/no answers, not numbers)` : '';
      throw new UsageError(`${source}: found no phone column${why}; the headers are: ${listed}. Name it with --column NAME`);
    }
  }
  const optOut = names.optOut !== undefined
    ? [find(names.optOut, '--optout-column')]
    : headers.flatMap((h, i) => (isOptOutHeader(h) && !phone.includes(i) ? [i] : []));
  const detected = names.country === undefined
    ? headers.findIndex((h, i) => isCountryHeader(h) && !phone.includes(i) && holdsCountries(sample, i))
    : -1;
  return {
    phone,
    optOut,
    optIn: names.optIn === undefined ? undefined : find(names.optIn, '--optin-column'),
    country: names.country !== undefined ? find(names.country, '--country-column') : detected >= 0 ? detected : undefined,
    ...(detected >= 0 ? { countryDetected: true } : {}),
  };
}

/** An opt-out cell that says the contact opted out: anything but a no, a zero or an empty-looking cell (yes-no.ts). */
export function isOptOutFlag(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (typeof value === 'number') return value !== 0;
  if (typeof value !== 'string') return true; // an object or list in the field: something was recorded
  return saysOptedOut(value);
}

/** An opt-in cell that says the contact agreed (true, yes, 1, opted in, granted, a date…). */
export function isOptedIn(value: unknown): boolean {
  if (value === true || (typeof value === 'number' && value !== 0)) return true;
  if (typeof value !== 'string') return false;
  return saysOptedIn(value);
}

/** The column flags of clean and send. */
export interface ColumnFlags {
  column?: string | readonly string[];
  optoutColumn?: string;
  optinColumn?: string;
  countryColumn?: string;
}

/**
 * chooseColumns for an opened input and its command's flags (`phone` when
 * --column is not given, e.g. send's "to"). JSON records' keys vary from
 * record to record: a column named on the command line that the first records
 * did not show is taken as a key still to come.
 */
export function chooseInputColumns(input: { columns: string[]; source: string; sniffed: { format: string }; sample?: Sample }, flags: ColumnFlags, phone?: string[]): ColumnChoice {
  const names: ColumnNames = { phone: columnList(flags.column) ?? phone, optOut: flags.optoutColumn, optIn: flags.optinColumn, country: flags.countryColumn };
  if (input.sniffed.format !== 'csv') {
    for (const name of [...names.phone ?? [], names.optOut, names.optIn, names.country]) {
      if (name !== undefined && !input.columns.some((c) => c === name || headerKey(c) === headerKey(name))) input.columns.push(name);
    }
  }
  return chooseColumns(input.columns, input.source, names, input.sample);
}

/** Refuses an input that already has columns a command adds (say, clean run on its own output). */
export function refuseAddedColumns(headers: readonly string[], added: readonly string[], source: string, what: string): void {
  const clash = added.filter((name) => headers.includes(name));
  if (clash.length) {
    throw new UsageError(
      `${source}: already has the column${clash.length > 1 ? 's' : ''} ${clash.join(', ')} that ${what} adds (is it a wa-guard output?); ` +
      'run it on the original export, or rename those columns',
    );
  }
}
