import type { CountryCode } from 'libphonenumber-js';
import { cellText, type InputRecord, type RecordReader } from '../input/records.js';
import { cellNumbers } from './cell-numbers.js';
import { LINE_TYPES, isMobileType, lineTypeOf, type LineTypeCode } from '../line-type.js';
import { countryFromText, normalizePhone, type Normalized } from '../phone.js';
import { Outcome, type ChunkConfig, type ChunkResult } from './chunk-types.js';

/**
 * Chooses a row's number among its phone columns (in order of preference, and
 * the lists a JSON cell may hold) and normalizes it in the row's country.
 */
export class NumberPicker {
  /** Whether the chosen number's line type is wanted (clean's line_type column, --mobile-only); else it only ranks candidates. */
  private readonly reportsType: boolean;

  constructor(private readonly config: ChunkConfig, private readonly records: RecordReader) {
    this.reportsType = config.cleanedColumns || Boolean(config.mobileOnly);
  }

  /**
   * Sets row i's wa_id, phone column and line type in `result` and returns the
   * wa_id, or sets its outcome and detail saying why it has none. The first
   * valid number in column preference wins, unless it is not a mobile and a
   * later candidate is; with --mobile-only, a row with no mobile is NOT_MOBILE.
   */
  pick(row: InputRecord, result: ChunkResult, i: number): string | undefined {
    const rowCountry = this.rowCountry(row);
    let firstFailure: Normalized | undefined;
    let notMobile: { e164: string; waId: string; column: number; type: LineTypeCode } | undefined;
    for (let c = 0; c < this.config.phone.length; c++) {
      const value = this.records.cell(row, this.config.phone[c]!);
      // A cell may hold a list of numbers (JSON, or text joined by " ::: ", ";", …): each is a candidate, in turn.
      const listed = cellNumbers(value);
      for (let k = 0, count = listed ? listed.length : 1; k < count; k++) {
        const raw = listed ? listed[k]! : typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
        if (raw === '') continue;
        const normalized = this.read(raw, rowCountry);
        if (normalized.ok) {
          // The last candidate with none set aside is chosen whatever its type: send does not pay for typing it.
          if (!this.reportsType && !notMobile && c === this.config.phone.length - 1 && k === count - 1) return this.chosen(result, i, normalized.waId, c, UNKNOWN_TYPE);
          const type = lineTypeOf(normalized.e164);
          if (!isMobileType(type)) {
            notMobile ??= { ...normalized, column: c, type };
            continue;
          }
          return this.chosen(result, i, normalized.waId, c, type);
        }
        if (normalized.reason !== 'missing_number') firstFailure ??= normalized;
      }
    }
    if (notMobile && !this.config.mobileOnly) return this.chosen(result, i, notMobile.waId, notMobile.column, notMobile.type);
    if (notMobile) {
      result.outcome[i] = Outcome.NOT_MOBILE;
      result.details[i] = `${notMobile.e164} is a ${LINE_TYPES[notMobile.type]} number, not a mobile (--mobile-only)`;
      return undefined;
    }
    const failure = firstFailure ?? normalizePhone('');
    if (failure.ok) return undefined; // unreachable: an empty number never normalizes
    result.outcome[i] = failure.reason === 'missing_number' ? Outcome.MISSING
      : failure.reason === 'no_country_code' ? Outcome.NO_COUNTRY : Outcome.INVALID;
    const { problem } = rowCountry;
    result.details[i] = problem && failure.reason === 'no_country_code' ? `${failure.detail}; ${problem}` : failure.detail;
    return undefined;
  }

  private chosen(result: ChunkResult, i: number, waId: string, column: number, type: LineTypeCode): string {
    result.waIds[i] = Number(waId);
    result.phoneColumn[i] = column;
    result.lineType[i] = type;
    return waId;
  }

  /**
   * The country a row's national numbers are read in: its country column's,
   * else --country; --country too when the column's does not make them valid.
   */
  private rowCountry(row: InputRecord): RowCountry {
    const fallback = this.config.country;
    if (this.config.countryColumn === undefined) return { country: fallback };
    const text = cellText(this.records.cell(row, this.config.countryColumn)).trim();
    if (text === '') return { country: fallback };
    const country = countryFromText(text);
    if (!country) return { country: fallback, problem: `column ${this.config.columns[this.config.countryColumn]} has "${text}", not a country this tool knows` };
    return { country, fallback: fallback !== country ? fallback : undefined };
  }

  private read(raw: string, { country, fallback }: RowCountry): Normalized {
    const normalized = normalizePhone(raw, country);
    // A number not valid in the row's country may be a --country one (a customer living abroad who kept a home number).
    if (!normalized.ok && normalized.reason !== 'missing_number' && fallback) {
      const again = normalizePhone(raw, fallback);
      if (again.ok) return again;
    }
    return normalized;
  }
}

const UNKNOWN_TYPE: LineTypeCode = LINE_TYPES.indexOf('unknown');

interface RowCountry {
  country: CountryCode | undefined;
  /** --country, when the row names another. */
  fallback?: CountryCode;
  /** Why the row's country column could not be used. */
  problem?: string;
}
