import { countryFromText } from '../phone.js';

// What a column's first values say it holds, for choosing columns by their
// values as well as their names.

/** The first rows' cells, by column index (what Input.sample holds). */
export type Sample = readonly (readonly unknown[])[];

/**
 * Yes/no answers in the languages wa-guard reads opt-outs in (English,
 * Indonesian, Spanish, Portuguese, and a few more), compared lower-case
 * without accents, spaces, '-' or '_'.
 */
const YES_NO = new Set([
  'true', 'false', 'yes', 'no', 'y', 'n', 't', 'f', '1', '0', 'x', 'on', 'off', 'checked', 'unchecked',
  'ya', 'iya', 'tidak', 'tdk', 'ga', 'gak', 'nggak', 'enggak', 'bukan', 'si', 'sim', 'nao', 'ja', 'nein', 'oui', 'non',
  'optedout', 'optout', 'optedin', 'optin', 'unsubscribed', 'subscribed',
]);

const squeeze = (text: string): string => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/[\s\-_.]/g, '');

/** The column's non-empty values in the sample, as text. */
function values(sample: Sample, column: number): string[] {
  const found: string[] = [];
  for (const row of sample) {
    const value = row[column];
    if (value === undefined || value === null) continue;
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value).trim();
    if (text !== '') found.push(text);
  }
  return found;
}

/**
 * A column of yes/no answers ("Berhenti WA": ya/tidak): some of its values
 * are yes/no words and none of the others holds a digit. Such a column is
 * never a phone column, whatever its header says.
 */
export function holdsYesNo(sample: Sample, column: number): boolean {
  const texts = values(sample, column);
  let answers = 0;
  for (const text of texts) {
    if (YES_NO.has(squeeze(text))) answers++;
    else if (/\d/.test(text)) return false;
  }
  return answers > 0;
}

/** A column whose values are countries (codes or names) this tool knows, at least 4 in 5 of them. */
export function holdsCountries(sample: Sample, column: number): boolean {
  const texts = values(sample, column);
  if (texts.length === 0) return false;
  const known = texts.filter((text) => countryFromText(text) !== undefined).length;
  return known >= texts.length * 0.8;
}
