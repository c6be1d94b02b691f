import { countryFromText } from '../phone.js';
import { squeeze, YES_NO_WORDS } from './yes-no.js';

// What a column's first values say it holds, for choosing columns by their
// values as well as their names.

/** The first rows' cells, by column index (what Input.sample holds). */
export type Sample = readonly (readonly unknown[])[];

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
    if (YES_NO_WORDS.has(squeeze(text))) answers++;
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
