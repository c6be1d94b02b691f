import type { CountryCode } from 'libphonenumber-js';
import { UsageError } from '../errors.js';
import { normalizeListNumber } from '../phone.js';

/** How many words of the command line one number may be split into (`+1 415 555 2671`: 4). */
const MAX_WORDS = 6;
/** A word that can be a piece of a number: digits and what numbers are written with, nothing else. */
const PIECE = /^[\d\s+\-.()/]+$/;

/**
 * The numbers of a command line, all read before anything changes: one that
 * cannot be read is a usage error. A word that is not a number alone is
 * joined with the words after it when together they are one
 * (`+62 812-3456-7890` unquoted arrives as two words). `notes` says which
 * wa_id-shaped numbers had another valid reading under the country.
 */
export function readArgNumbers(args: readonly string[], country: CountryCode | undefined, what: string): { waIds: string[]; notes: string[] } {
  const waIds: string[] = [];
  const notes: string[] = [];
  for (let i = 0; i < args.length; i++) {
    let read = normalizeListNumber(args[i]!, country, true);
    if (!read.ok && PIECE.test(args[i]!)) {
      for (let j = i + 1; j < Math.min(args.length, i + MAX_WORDS); j++) {
        if (!PIECE.test(args[j]!)) break;
        const joined = normalizeListNumber(args.slice(i, j + 1).join(' '), country, true);
        if (joined.ok) {
          read = joined;
          i = j;
          break;
        }
      }
    }
    if (!read.ok) {
      const quote = args.length > 1 && PIECE.test(args[i]!) ? ' (a number written with spaces needs quotes: "+62 812-3456-7890")' : '';
      throw new UsageError(`${what}: "${args[i]}" is not a phone number we can read: ${read.detail}${quote}`);
    }
    waIds.push(read.waId);
    if (read.national) notes.push(`read ${read.waId} as the wa_id +${read.waId}; if you meant ${read.national}, give it so`);
  }
  return { waIds, notes };
}
