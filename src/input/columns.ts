import { UsageError } from '../errors.js';

/** Header names that hold a phone number, compared with case, spaces, '-', '_' and '.' removed. */
export const PHONE_NAMES = [
  'phone', 'mobile', 'whatsapp', 'msisdn', 'tel', 'cell',
  'phonenumber', 'mobilephone', 'phone1value', 'telephone', 'cellphone', 'mobilenumber',
  'whatsappnumber', 'waid', 'cellular', 'handphone', 'hp', 'telefone', 'telefono', 'celular',
];
/** Header names that flag a contact who asked not to be messaged. */
const OPTOUT_NAMES = [
  'optout', 'optedout', 'whatsappoptout', 'waoptout', 'unsubscribed', 'donotcontact', 'dnc',
];
const TRUTHY = new Set(['true', 'yes', 'y', '1', 'x', 'optedout', 'optout', 'unsubscribed']);

export function headerKey(name: string): string {
  return name.toLowerCase().replace(/[\s\-_.]/g, '');
}

export interface ColumnChoice {
  /** Indexes (CSV) into the header, in order of preference. */
  phone: number[];
  optOut: number | undefined;
}

/**
 * Picks the phone column(s): the one named by --column, else every header whose
 * name is a known phone name, in header order. Throws a UsageError listing the
 * headers when none fits.
 */
export function chooseColumns(
  headers: readonly string[],
  source: string,
  phoneColumn?: string,
  optOutColumn?: string,
): ColumnChoice {
  const listed = headers.map((h) => JSON.stringify(h)).join(', ') || '(none)';
  let phone: number[];
  if (phoneColumn !== undefined) {
    const exact = headers.indexOf(phoneColumn);
    const index = exact >= 0 ? exact : headers.findIndex((h) => headerKey(h) === headerKey(phoneColumn));
    if (index < 0) throw new UsageError(`${source}: no column named "${phoneColumn}"; the headers are: ${listed}`);
    phone = [index];
  } else {
    phone = [];
    headers.forEach((h, i) => {
      if (PHONE_NAMES.includes(headerKey(h))) phone.push(i);
    });
    if (phone.length === 0) {
      const hint = headers.length === 1 && /[,;\t|]/.test(headers[0] ?? '')
        ? ' (the header is a single column: is --delimiter right?)'
        : '';
      throw new UsageError(
        `${source}: found no phone column${hint}; the headers are: ${listed}. Name it with --column NAME`,
      );
    }
  }
  let optOut: number | undefined;
  if (optOutColumn !== undefined) {
    const index = headers.findIndex((h) => h === optOutColumn || headerKey(h) === headerKey(optOutColumn));
    if (index < 0) throw new UsageError(`${source}: no column named "${optOutColumn}"; the headers are: ${listed}`);
    optOut = index;
  } else {
    const index = headers.findIndex((h) => OPTOUT_NAMES.includes(headerKey(h)));
    optOut = index >= 0 ? index : undefined;
  }
  return { phone, optOut };
}

export function isOptOutFlag(value: unknown): boolean {
  if (value === true || value === 1) return true;
  if (typeof value !== 'string') return false;
  return TRUTHY.has(value.trim().toLowerCase().replace(/[\s\-_]/g, ''));
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
