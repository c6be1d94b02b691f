// Yes and no as CRM exports write them in opt-out and opt-in columns, in the
// languages wa-guard reads opt-outs in (English, Indonesian, Spanish,
// Portuguese, and a few more). One list, read by the column detection and by
// the row flags alike.

const YES = ['true', 'yes', 'y', 't', '1', 'x', 'on', 'checked', 'ya', 'iya', 'si', 'sim', 'ja', 'oui'];
const NO = ['false', 'no', 'n', 'f', '0', 'off', 'unchecked', 'tidak', 'tdk', 'ga', 'gak', 'nggak', 'enggak', 'bukan', 'nao', 'nein', 'non'];
const OPTED_OUT = ['optedout', 'optout', 'unsubscribed'];
const OPTED_IN = ['optedin', 'optin', 'subscribed'];
/** What consent fields say besides yes (HubSpot, Shopify, Mailchimp). */
const CONSENTED = ['granted', 'consented', 'confirmed', 'singleoptin', 'doubleoptin'];

/** Lower case without accents, spaces, '-', '_' or '.': "Sí" is "si", "Opted-Out" is "optedout". */
export const squeeze = (text: string): string => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/[\s\-_.]/g, '');

/** Any yes/no answer (squeezed): a column of them is a flag column, never a phone column. */
export const YES_NO_WORDS: ReadonlySet<string> = new Set([...YES, ...NO, ...OPTED_OUT, ...OPTED_IN]);
/** Cells that say nothing: an export's way of writing an empty field. */
const EMPTY = ['none', 'null', 'nil', 'na', 'n/a', 'nan', 'undefined', '#n/a'];
const NOT_OPTED_OUT: ReadonlySet<string> = new Set([...NO, ...OPTED_IN, ...EMPTY]);

/**
 * Whether an opt-out column's text says the contact opted out: anything but a
 * no, opted in, an empty-looking cell or zero ("0.0" from pandas) does (a yes,
 * "✓", "STOP", "Yes - opted out", a date). A contact messaged after opting
 * out is the harm to avoid; one purged by mistake is in purged.* with the
 * column named.
 */
export function saysOptedOut(text: string): boolean {
  const squeezed = squeeze(text);
  return !(squeezed === '' || NOT_OPTED_OUT.has(squeezed) || /^0+$/.test(squeezed));
}

const OPTED_IN_WORDS: ReadonlySet<string> = new Set([...YES, ...OPTED_IN, ...CONSENTED]);

/** Whether an opt-in column's text says the contact agreed: a yes, opted in, granted, or the date consent was given (HubSpot, Shopify). */
export function saysOptedIn(text: string): boolean {
  return OPTED_IN_WORDS.has(squeeze(text)) || isConsentDate(text.trim());
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}.*)?$/;
const NUMERIC_DATE = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T]\d{1,2}:\d{2}.*)?$/;
const MONTH_NAME = /\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b/i;
/** Consent dates before this are not real ones (0000-00-00, 1900-01-01: a database's "no date"). */
const EARLIEST_CONSENT_YEAR = 1990;

function realDate(year: number, month: number, day: number, now: number): boolean {
  if (year < EARLIEST_CONSENT_YEAR || month < 1 || month > 12 || day < 1) return false;
  const at = Date.UTC(year, month - 1, day);
  return new Date(at).getUTCDate() === day && at <= now + 86_400_000; // no 30 February, nothing in the future
}

/**
 * A cell holding the date consent was given, as HubSpot, Shopify and
 * spreadsheets write it: 2026-03-01 (and a time), 01/03/2026 or 3/1/2026 (a
 * real date in either order), 1 March 2026. Zero, impossible and future
 * dates are not consent.
 */
function isConsentDate(text: string, now = Date.now()): boolean {
  const iso = ISO_DATE.exec(text);
  if (iso) return realDate(Number(iso[1]), Number(iso[2]), Number(iso[3]), now);
  const numeric = NUMERIC_DATE.exec(text);
  if (numeric) {
    const [a, b, year] = [Number(numeric[1]), Number(numeric[2]), Number(numeric[3])];
    return realDate(year, b, a, now) || realDate(year, a, b, now);
  }
  if (!MONTH_NAME.test(text) || !/\b\d{4}\b/.test(text)) return false;
  const at = Date.parse(text);
  return Number.isFinite(at) && new Date(at).getFullYear() >= EARLIEST_CONSENT_YEAR && at <= now + 86_400_000;
}
